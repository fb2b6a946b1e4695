import { parseArgs } from 'node:util';
import { StdioDownstream } from '../stdioDownstream';
import { loadPolicyFile, newEventId, type Upstream } from '../../core';
import { FileAuditSink, StderrAuditSink } from '../auditLog';
import { UsageError, splitAtDoubleDash, type CommandSpec } from '../cliSupport';
import { PolicyGuard, policyErrors } from '../policyGuard';
import { HttpProxyHost } from '../serveHost';
import { SessionRelay } from '../sessionRelay';
import { commandProblem } from '../upstreamLink';
import { splitCommandLine } from '../commandLine';
import { resolveUpstreamReferences, UnresolvedReferenceError } from '../upstreamReferences';
import { untilStopped } from './runUntilSignal';
import { printListening, parsePort, parseSeconds, sessionLimits, sessionOptions } from './serveSupport';

export const proxyCommand: CommandSpec = {
  usage: 'proxy POLICY [--server S] [--audit F [--audit-sync]] [--port N [--session-idle S] [--max-sessions N]] [--token T] [--token-file F] (-- CMD ARG... | --command "CMD ARG..." | --url URL | the policy\'s servers.S.upstream)',
  summary: 'guard one MCP server: stdio downstream, or Streamable HTTP on 127.0.0.1 with --port',
  async run(args) {
    const split = splitAtDoubleDash(args);
    const own = split.own;
    let command = split.command;
    const { values, positionals } = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        server: { type: 'string' },
        audit: { type: 'string' },
        'audit-sync': { type: 'boolean' },
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        url: { type: 'string' },
        command: { type: 'string' },
        catalog: { type: 'string', multiple: true },
        'call-timeout': { type: 'string' },
        ...sessionOptions,
      },
    });
    if (positionals.length !== 1) throw new UsageError('name exactly one policy file');
    // Some clients (the Inspector among them) drop a lone `--`: the whole command fits in one option.
    if (values.command !== undefined) {
      if (command !== undefined) throw new UsageError('give either -- CMD or --command "CMD ARG...", not both');
      try {
        command = splitCommandLine(values.command);
      } catch (error) {
        throw new UsageError(`--command: ${(error as Error).message}`);
      }
      if (command.length === 0) throw new UsageError('--command names no command');
    }
    if (command !== undefined && command.length === 0) throw new UsageError('-- must be followed by the upstream command');
    if (command && values.url) throw new UsageError('give either -- CMD or --url, not both');
    if (values.port === undefined && (values['session-idle'] !== undefined || values['max-sessions'] !== undefined)) throw new UsageError('--session-idle and --max-sessions need --port');
    const policyPath = positionals[0]!;
    const loaded = loadPolicyFile(policyPath, values.catalog ?? []);
    if (!loaded.compiled) {
      process.stderr.write(`${policyErrors(loaded).join('\n')}\nmcp-policy proxy: the policy has errors; no proxy started\n`);
      return 1;
    }
    const chosen = chooseServer(loaded.compiled.serverNames, values.server);
    if ('error' in chosen) {
      process.stderr.write(`mcp-policy proxy: ${chosen.error}; no proxy started\n`);
      return 1;
    }
    const server = chosen.server;
    let upstream: Upstream | undefined;
    // A command typed on the command line runs where it was typed; one from the policy, beside the policy.
    if (command) upstream = { command: command[0]!, args: command.slice(1), cwd: process.cwd() };
    else if (values.url) upstream = { url: values.url };
    else upstream = loaded.policy?.servers?.[server]?.upstream;
    if (!upstream) throw new UsageError(`no upstream: give -- CMD ARG..., --url URL, or servers.${server}.upstream in the policy`);
    if (values['audit-sync'] && !values.audit) throw new UsageError('--audit-sync needs --audit F');
    try {
      resolveUpstreamReferences(upstream, `servers.${server}.upstream`);
    } catch (error) {
      if (!(error instanceof UnresolvedReferenceError)) throw error;
      throw new Error(`upstream "${server}" cannot be started: ${error.message}`);
    }
    const callTimeoutMs = parseSeconds(values['call-timeout'], '--call-timeout');
    const audit = values.audit ? new FileAuditSink(values.audit, { sync: values['audit-sync'] === true }) : new StderrAuditSink();

    if (values.port !== undefined) {
      const host = new HttpProxyHost({
        policyPath,
        port: parsePort(values.port),
        catalogFiles: values.catalog ?? [],
        audit,
        single: { server, upstream },
        ...(values.host ? { host: values.host } : {}),
        ...(values.token ? { token: values.token } : {}),
        ...(values['token-file'] ? { tokenFile: values['token-file'] } : {}),
        ...(callTimeoutMs ? { callTimeoutMs } : {}),
        ...sessionLimits(values),
      });
      // Listening for signals before the "listening" line: whoever reads it may signal at once.
      const stopped = untilStopped();
      printListening(await host.start());
      await stopped;
      await host.stop();
      return 0;
    }

    const guard = new PolicyGuard({ policyPath, catalogFiles: values.catalog ?? [], audit });
    const problem = commandProblem(upstream, guard.policyFolder);
    if (problem) {
      guard.close();
      throw new Error(`upstream "${server}" cannot be started: ${problem}`);
    }
    const downstream = new StdioDownstream();
    const relay = new SessionRelay({
      guard,
      identity: { server, grant: 'stdio', session: newEventId() },
      downstream,
      exactNumbers: downstream.exactNumbers,
      upstream,
      ...(callTimeoutMs ? { callTimeoutMs } : {}),
    });
    downstream.onrefused = (message, reason) => relay.refusedByTransport(message, reason);
    const stopped = untilStopped((stop) => {
      process.stdin.once('end', stop);
      process.stdin.once('close', stop);
    });
    try {
      await relay.start(true);
    } catch (error) {
      guard.close();
      throw error;
    }
    guard.watch();
    await stopped;
    await relay.close();
    guard.close();
    return 0;
  },
};

/**
 * The policy section this proxy guards. A name the policy does not have would leave that
 * server's rules and hide applying to nothing, so it is refused; so is guessing among several.
 * A policy without servers has only top-level rules, which apply whatever the name.
 */
export function chooseServer(names: readonly string[], requested: string | undefined): { server: string } | { error: string } {
  if (names.length === 0) return { server: requested ?? 'default' };
  const known = names.map((name) => JSON.stringify(name)).join(', ');
  if (requested === undefined) {
    if (names.length === 1) return { server: names[0]! };
    return { error: `the policy has several servers (${known}); name the one this proxy guards with --server` };
  }
  if (!names.includes(requested)) {
    return { error: `--server ${JSON.stringify(requested)} is not one of the policy's servers (${known}), so none of its rules or hide would apply` };
  }
  return { server: requested };
}
