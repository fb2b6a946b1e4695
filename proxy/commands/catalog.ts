import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { analyzePolicy, CATALOG_FILE_NAME, isUrlUpstream, readCatalogFile, serverDrift, type CatalogFile, type CatalogServer, type Upstream } from '../../core';
import { acceptTools } from '../catalogAccept';
import { captureCatalog } from '../catalogCapture';
import { writeCatalog } from '../catalogFile';
import { splitAtDoubleDash, UsageError, type CommandSpec } from '../cliSupport';

const DEFAULT_TIMEOUT_SECONDS = 30;

interface Target {
  server: string;
  upstream: Upstream;
}

export const catalogCommand: CommandSpec = {
  usage: 'catalog POLICY [--server S] [--out F] [--check | --accept TOOL...] [--timeout SECONDS] | catalog --server S [--out F] (-- CMD ARG... | --url URL [--header "K: V"]...)',
  summary:
    "run tools/list on each upstream and write the tool catalog (risk classes and pins included); --check compares instead of writing, exit 1 on drift; --accept TOOL re-pins only that tool",
  async run(args) {
    const { own, command } = splitAtDoubleDash(args);
    const { values, positionals } = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        server: { type: 'string' },
        out: { type: 'string' },
        url: { type: 'string' },
        header: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        check: { type: 'boolean' },
        accept: { type: 'string', multiple: true },
      },
    });
    if (values.check && values.accept) throw new UsageError('give either --check or --accept, not both');
    if (positionals.length > 1) throw new UsageError('name at most one policy file');
    const policyPath = positionals[0];
    const timeoutMs = parseTimeout(values.timeout);
    if (command !== undefined && command.length === 0) throw new UsageError('name the server command after --');
    if (command !== undefined && values.url !== undefined) throw new UsageError('give either -- CMD or --url, not both');
    const explicit = command !== undefined || values.url !== undefined;
    if (explicit && !values.server) throw new UsageError('--server S names the server whose catalog this is');
    if (!explicit && policyPath === undefined) throw new UsageError('name a policy file, or --server S with -- CMD or --url URL');

    // A stdio upstream runs in the policy's folder, as the proxy runs it; without a policy, here.
    const folder = policyPath !== undefined ? dirname(resolve(policyPath)) : process.cwd();
    const out = resolve(values.out ?? (policyPath !== undefined ? resolve(folder, CATALOG_FILE_NAME) : CATALOG_FILE_NAME));

    let targets: Target[];
    if (explicit) {
      const upstream: Upstream =
        command !== undefined ? { command: command[0]!, args: command.slice(1) } : { url: values.url!, headers: parseHeaders(values.header ?? []) };
      targets = [{ server: values.server!, upstream }];
    } else {
      const found = policyTargets(policyPath!, values.server);
      if (typeof found === 'number') return found;
      targets = found;
    }

    const captured: Record<string, CatalogServer> = {};
    let failed = 0;
    const results = await Promise.all(
      targets.map(async (target) => {
        try {
          return { target, server: await captureCatalog(target.upstream, { defaultCwd: folder, timeoutMs }) };
        } catch (error) {
          return { target, error: (error as Error).message };
        }
      }),
    );
    for (const result of results) {
      if (result.server) {
        captured[result.target.server] = result.server;
        const info = result.server.serverInfo;
        process.stdout.write(`${result.target.server}: ${result.server.tools.length} tools${info?.name ? ` from ${info.name} ${info.version ?? ''}`.trimEnd() : ''}\n`);
      } else {
        failed++;
        process.stderr.write(`mcp-policy catalog: ${result.target.server}: failed: ${result.error}\n`);
      }
    }
    if (Object.keys(captured).length === 0) {
      process.stderr.write(`mcp-policy catalog: no upstream answered; ${out} not written\n`);
      return 1;
    }
    if (values.check) return checkPins(out, captured, failed);
    if (values.accept) return acceptPins(out, captured, values.accept, failed);
    const written = writeCatalog(out, captured);
    if (written.warning) process.stderr.write(`mcp-policy catalog: ${written.warning}\n`);
    const kept = written.kept.length > 0 ? ` (kept ${written.kept.join(', ')} from the previous file)` : '';
    process.stdout.write(`wrote ${out}${kept}\n`);
    return failed > 0 ? 1 : 0;
  },
};

/** --accept: the named tools' pins follow the live definitions; every other pin stays. */
function acceptPins(path: string, captured: Record<string, CatalogServer>, names: readonly string[], failed: number): number {
  let previous: CatalogFile | undefined;
  try {
    previous = readCatalogFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      process.stderr.write(`mcp-policy catalog --accept: ${path}: ${(error as Error).message}; nothing written\n`);
      return 1;
    }
  }
  const result = acceptTools(previous, captured, names);
  if (result.unknown.length > 0) {
    process.stderr.write(`mcp-policy catalog --accept: no server lists or pins ${result.unknown.join(', ')}; nothing written\n`);
    return 1;
  }
  writeCatalog(path, result.servers);
  for (const line of result.accepted) process.stdout.write(`accepted: ${line}\n`);
  process.stdout.write(`wrote ${path}\n`);
  return failed > 0 ? 1 : 0;
}

/** --check: the live tools against the pins in the catalog file; nothing is written. */
function checkPins(path: string, captured: Record<string, CatalogServer>, failed: number): number {
  let file: CatalogFile | undefined;
  try {
    file = readCatalogFile(path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    process.stderr.write(`mcp-policy catalog --check: ${path}: ${missing ? 'no catalog yet: every tool is unpinned' : (error as Error).message}\n`);
  }
  let drifted = 0;
  for (const [server, live] of Object.entries(captured)) {
    for (const drift of serverDrift(server, live.tools, file?.servers?.[server])) {
      drifted++;
      process.stdout.write(`drift: ${server}/${drift.tool}: ${drift.kind}: ${drift.reason}\n`);
    }
  }
  process.stdout.write(drifted === 0 ? `no drift: every tool matches its pin in ${path}\n` : `${drifted} tool${drifted === 1 ? '' : 's'} drifted from ${path}; review them, then run mcp-policy catalog --accept TOOL (or mcp-policy catalog to accept all)\n`);
  return drifted > 0 || failed > 0 ? 1 : 0;
}

/** The policy's servers with an upstream (or just `only`), or an exit code after saying why not. */
function policyTargets(policyPath: string, only: string | undefined): Target[] | number {
  let text: string;
  try {
    text = readFileSync(policyPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    process.stderr.write(`mcp-policy catalog: ${policyPath}: ${code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? (error as Error).message})`}\n`);
    return 2;
  }
  // The catalog is often what a policy with unknown tool names is waiting for: only the
  // upstreams must be readable, not the whole policy valid.
  const { policy } = analyzePolicy(text);
  if (!policy) {
    process.stderr.write(`mcp-policy catalog: ${policyPath}: not a readable policy (run mcp-policy check ${policyPath})\n`);
    return 1;
  }
  const targets: Target[] = [];
  for (const [server, section] of Object.entries(policy.servers ?? {})) {
    if (only !== undefined && server !== only) continue;
    const upstream = section.upstream;
    if (!upstream) continue;
    if (!isUsableUpstream(upstream)) {
      process.stderr.write(`mcp-policy catalog: ${server}: servers.${server}.upstream needs "command" or "url"\n`);
      return 1;
    }
    targets.push({ server, upstream });
  }
  if (targets.length === 0) {
    const names = Object.keys(policy.servers ?? {});
    const why =
      only !== undefined
        ? `no servers.${only}.upstream in ${policyPath}${names.length > 0 ? ` (servers: ${names.join(', ')})` : ''}`
        : `${policyPath} names no servers.*.upstream; use --server S -- CMD... or --url URL`;
    throw new UsageError(why);
  }
  return targets;
}

function isUsableUpstream(upstream: Upstream): boolean {
  if (isUrlUpstream(upstream)) return true;
  const candidate = upstream as { command?: unknown; args?: unknown };
  return typeof candidate.command === 'string' && candidate.command.length > 0 && (candidate.args === undefined || Array.isArray(candidate.args));
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${value}"`);
  return seconds * 1000;
}

function parseHeaders(headers: readonly string[]): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const header of headers) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must look like "Name: value", not "${header}"`);
    parsed[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  return parsed;
}
