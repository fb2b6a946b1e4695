import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { CATALOG_FILE_NAME, ToolCatalog, type CatalogServer, type Policy, type ServerSection } from '../../core';
import { startingPolicy } from '../../core/startingPolicy';
import { captureCatalog } from '../catalogCapture';
import { writeCatalog } from '../catalogFile';
import { UsageError, type CommandSpec } from '../cliSupport';
import { CLIENT_LABELS, clientOfPath } from '../clientConfigs/formats';
import { describeUpstream, discoverConfigs, nameServers, readConfigs, relativeToPolicy, type FileServers } from '../clientConfigs/policyImport';
import type { ConfigServer } from '../clientConfigs/readConfig';
import { resolveUpstreamReferences } from '../upstreamReferences';
import { refreshLauncher } from '../launcher';
import { setOwn } from '../../core/ownRecord';

const DEFAULT_TIMEOUT_SECONDS = 30;
export const DEFAULT_POLICY_NAME = 'mcp-policy.json';

export const initCommand: CommandSpec = {
  usage: 'init [--project DIR] [--config FILE]... [--server NAME]... [--yes] [--out POLICY] [--force] [--no-catalog] [--timeout SECONDS]',
  summary: "write a policy guarding the MCP servers of this project's and this user's client configurations (VS Code, Claude Code, Cursor, Claude Desktop, Windsurf, Gemini CLI)",
  async run(args) {
    const { values } = parseArgs({
      args,
      allowPositionals: false,
      options: {
        project: { type: 'string' },
        config: { type: 'string', multiple: true },
        server: { type: 'string', multiple: true },
        yes: { type: 'boolean', short: 'y' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        timeout: { type: 'string' },
        'no-catalog': { type: 'boolean' },
      },
    });
    const project = resolve(values.project ?? process.cwd());
    const out = resolve(project, values.out ?? DEFAULT_POLICY_NAME);
    const timeoutMs = (values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout)) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${values.timeout}"`);
    if (existsSync(out) && !values.force) throw new UsageError(`${out} exists: name another file with --out, or --force to replace it`);

    const files = values.config ? values.config.map((file) => resolve(file)) : discoverConfigs(project).map((location) => location.path);
    for (const file of files) if (!existsSync(file)) throw new UsageError(`${file}: file not found`);
    const read = readConfigs(files, values.project ? { project } : {});
    const listed = listServers(read);
    if (listed.length === 0) {
      process.stderr.write(`mcp-policy init: no MCP servers found in ${files.length > 0 ? files.join(', ') : `the client configurations of ${project} and of this user`}\n`);
      return 1;
    }
    const chosen = await choose(listed, values.server, values.yes === true);
    if (chosen.length === 0) {
      process.stderr.write('mcp-policy init: no server chosen; nothing written\n');
      return 1;
    }
    const written = await writeStartingPolicy(chosen, out, values['no-catalog'] ? 0 : timeoutMs);
    refreshLauncher();
    const configs = [...new Set(chosen.map((server) => server.file))];
    process.stdout.write(
      `wrote ${out} (${written.servers.length} servers, default deny${written.failed.length > 0 ? `; not catalogued: ${written.failed.join(', ')}, their tools stay denied until mcp-policy catalog reaches them` : ''})\n` +
        `next: mcp-policy check ${out}, then route the clients through it: mcp-policy wrap ${configs.join(' ')} --policy ${out}\n`,
    );
    return written.failed.length > 0 ? 1 : 0;
  },
};

/** Prints what was found; returns the servers that can be imported. */
function listServers(read: readonly FileServers[]): ConfigServer[] {
  const importable: ConfigServer[] = [];
  for (const file of read) {
    if (file.error) {
      process.stderr.write(`mcp-policy init: ${file.error}\n`);
      continue;
    }
    if (file.servers.length === 0) continue;
    const client = file.servers[0]?.client ?? clientOfPath(file.file);
    process.stdout.write(`${client ? CLIENT_LABELS[client] : 'MCP client'}: ${file.file}\n`);
    for (const server of file.servers) {
      const scope = server.scope === 'user' || server.scope === 'project' ? '' : ` (${server.scope})`;
      if (server.wrapped) process.stdout.write(`      ${server.name}${scope}: already guarded by mcp-policy\n`);
      else if (server.problem) process.stdout.write(`      ${server.name}${scope}: not imported: ${server.problem}\n`);
      else {
        importable.push(server);
        process.stdout.write(`  [${importable.length}] ${server.name}${scope}: ${describeUpstream(server.upstream!)}\n`);
      }
      for (const note of server.notes) process.stdout.write(`        note: ${note}\n`);
    }
  }
  return importable;
}

async function choose(listed: ConfigServer[], names: readonly string[] | undefined, all: boolean): Promise<ConfigServer[]> {
  if (names && names.length > 0) {
    const unknown = names.filter((name) => !listed.some((server) => server.name === name));
    if (unknown.length > 0) throw new UsageError(`no importable server named ${unknown.join(', ')} (found: ${[...new Set(listed.map((server) => server.name))].join(', ')})`);
    return listed.filter((server) => names.includes(server.name));
  }
  if (all) return listed;
  if (!process.stdin.isTTY) throw new UsageError('choose the servers with --server NAME (repeatable) or take them all with --yes; stdin is not a terminal');
  const prompt = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  const ask = (): boolean => process.stdout.write('Servers to guard (numbers like 1,3, "all", or "none") [all]: ');
  try {
    // Lines from the async iterator, not question(): lines typed ahead are kept, not dropped.
    ask();
    for await (const line of prompt) {
      const answer = line.trim().toLowerCase();
      if (answer === '' || answer === 'all' || answer === 'a') return listed;
      if (answer === 'none' || answer === 'n' || answer === 'q') return [];
      const picks = answer.split(/[\s,]+/).map((part) => Number(part));
      if (picks.every((pick) => Number.isInteger(pick) && pick >= 1 && pick <= listed.length)) return [...new Set(picks)].map((pick) => listed[pick - 1]!);
      process.stdout.write(`  pick numbers between 1 and ${listed.length}\n`);
      ask();
    }
    return [];
  } finally {
    prompt.close();
  }
}

/** The upstream with what the client file supplies (credentials it holds in clear) resolved, for the catalog run. */
function catalogUpstream(server: ConfigServer, name: string): ReturnType<typeof resolveUpstreamReferences> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(server.clientEnv)) if (!value.includes('${input:')) setOwn(env, key, value);
  return resolveUpstreamReferences(server.upstream!, `servers.${name}.upstream`, env);
}

/**
 * Writes the policy with the chosen upstreams, captures their catalog (beside the policy, as
 * `mcp-policy catalog` does) and applies the starting recipe. Used by init and by wrap.
 */
export async function writeStartingPolicy(chosen: readonly ConfigServer[], out: string, timeoutMs: number): Promise<{ servers: string[]; failed: string[] }> {
  const folder = dirname(out);
  const names = nameServers(chosen, folder);
  const sections: Record<string, ServerSection> = {};
  const byName = new Map<string, ConfigServer>();
  for (const [server, name] of names) {
    if (byName.has(name)) continue;
    byName.set(name, server);
    setOwn(sections, name, { upstream: relativeToPolicy(server.upstream!, folder) });
  }
  const captured: Record<string, CatalogServer> = {};
  const failed: string[] = [];
  // A timeout of 0: no catalog run (init --no-catalog); every tool stays denied until one is made.
  await Promise.all(
    [...byName].filter(() => timeoutMs > 0).map(async ([name, server]) => {
      try {
        const catalog = await captureCatalog(catalogUpstream(server, name), { defaultCwd: folder, timeoutMs });
        setOwn(captured, name, catalog);
        process.stdout.write(`${name}: ${catalog.tools.length} tools\n`);
      } catch (error) {
        failed.push(name);
        process.stderr.write(`mcp-policy init: ${name}: catalog failed: ${(error as Error).message}\n`);
      }
    }),
  );
  mkdirSync(folder, { recursive: true });
  const catalogPath = resolve(folder, CATALOG_FILE_NAME);
  if (Object.keys(captured).length > 0) writeCatalog(catalogPath, captured);
  const catalog = new ToolCatalog([{ version: '1', servers: captured }]);
  const current: Policy = { version: '1', servers: sections };
  const policy = startingPolicy(catalog, [catalogPath], out, current);
  writeFileSync(out, `${JSON.stringify(policy, null, 2)}\n`);
  return { servers: Object.keys(sections), failed: failed.sort() };
}
