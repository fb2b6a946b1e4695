import { parseArgs } from 'node:util';
import { FileAuditSink, StderrAuditSink } from '../auditLog';
import { UsageError, type CommandSpec } from '../cliSupport';
import { PolicyLoadError } from '../policyGuard';
import { HttpProxyHost } from '../serveHost';
import { untilStopped } from './runUntilSignal';
import { parsePort, parseSeconds, printListening, sessionLimits, sessionOptions } from './serveSupport';

export const serveCommand: CommandSpec = {
  usage: 'serve POLICY [--port N] [--host H] [--audit F [--audit-sync]] [--token T] [--token-file F] [--session-idle S] [--max-sessions N]',
  summary: 'guard every servers.*.upstream of the policy over HTTP, each at /servers/S/mcp',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        audit: { type: 'string' },
        'audit-sync': { type: 'boolean' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        catalog: { type: 'string', multiple: true },
        'call-timeout': { type: 'string' },
        ...sessionOptions,
      },
    });
    if (positionals.length !== 1) throw new UsageError('name exactly one policy file');
    if (values['audit-sync'] && !values.audit) throw new UsageError('--audit-sync needs --audit F');
    const callTimeoutMs = parseSeconds(values['call-timeout'], '--call-timeout');
    const host = new HttpProxyHost({
      policyPath: positionals[0]!,
      port: values.port === undefined ? 0 : parsePort(values.port),
      catalogFiles: values.catalog ?? [],
      audit: values.audit ? new FileAuditSink(values.audit, { sync: values['audit-sync'] === true }) : new StderrAuditSink(),
      ...(values.host ? { host: values.host } : {}),
      ...(values.token ? { token: values.token } : {}),
      ...(values['token-file'] ? { tokenFile: values['token-file'] } : {}),
      ...(callTimeoutMs ? { callTimeoutMs } : {}),
      ...sessionLimits(values),
    });
    // Listening for signals before the "listening" line: whoever reads it may signal at once.
    const stopped = untilStopped();
    try {
      printListening(await host.start());
    } catch (error) {
      if (error instanceof PolicyLoadError) {
        process.stderr.write(`${error.errors.join('\n')}\nmcp-policy serve: the policy has errors; no proxy started\n`);
        return 1;
      }
      throw error;
    }
    await stopped;
    await host.stop();
    return 0;
  },
};
