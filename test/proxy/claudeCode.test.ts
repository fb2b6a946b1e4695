/**
 * A real MCP client: Claude Code's CLI from npm (installed by scripts/setup-claude-code.sh into
 * a cache outside the repo). A wrapped user-scope server in ~/.claude.json connects through the
 * guarded proxy, and the proxy's stderr (which Claude Code keeps in its MCP log) names Claude
 * Code's session.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, cli, repoRoot, tempFolder } from './helpers';

function installClaude(): string {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  const result = spawnSync('bash', [join(repoRoot, 'scripts', 'setup-claude-code.sh')], { env, encoding: 'utf8', timeout: 600_000 });
  assert.equal(result.status, 0, `setup-claude-code.sh failed:\n${result.stderr}`);
  const line = result.stdout.trim().split('\n').pop() ?? '';
  assert.match(line, /^CLAUDE=/);
  return line.slice('CLAUDE='.length);
}

function filesUnder(folder: string): string[] {
  try {
    return readdirSync(folder).flatMap((name) => {
      const path = join(folder, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
  } catch {
    return [];
  }
}

test('Claude Code: a wrapped ~/.claude.json server is ✔ Connected through the guarded proxy; unwrap gives the entry back', { timeout: 900_000 }, (t) => {
  const claude = installClaude();
  const root = tempFolder(t);
  const home = join(root, 'home');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^npm_/i.test(key)) env[key] = value;
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share'), MCP_POLICY_HOME: join(root, 'mcp-policy-home'), DISABLE_AUTOUPDATER: '1' });
  delete env.ANTHROPIC_API_KEY;
  const run = (command: string, args: string[]): { code: number | null; out: string } => {
    const result = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    return { code: result.status, out: `${result.stdout}${result.stderr}` };
  };

  const added = run(claude, ['mcp', 'add', '-s', 'user', 'memory', '-e', `MEMORY_FILE_PATH=${join(root, 'memory.jsonl')}`, '--', bin('mcp-server-memory')]);
  assert.equal(added.code, 0, added.out);
  const before = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')) as { mcpServers: Record<string, unknown> };
  const unguarded = run(claude, ['mcp', 'list']);
  assert.match(unguarded.out, /memory: .*mcp-server-memory.* - ✔ Connected/, unguarded.out);

  const wrapped = run(process.execPath, [cli, 'wrap', join(home, '.claude.json'), '--policy', join(root, 'mcp-policy.json')]);
  assert.equal(wrapped.code, 0, wrapped.out);
  assert.match(wrapped.out, /memory: now guarded/);
  const policy = JSON.parse(readFileSync(join(root, 'mcp-policy.json'), 'utf8')) as { servers: Record<string, { upstream: unknown; tools: Record<string, unknown> }> };
  assert.deepEqual(policy.servers.memory?.upstream, { command: bin('mcp-server-memory'), env: { MEMORY_FILE_PATH: join(root, 'memory.jsonl') } });
  assert.ok(Object.keys(policy.servers.memory?.tools ?? {}).length === 9, 'catalogued: 9 tools with rules');

  const listed = run(claude, ['mcp', 'list']);
  const launcher = join(root, 'mcp-policy-home', 'bin', 'mcp-policy');
  assert.match(listed.out, new RegExp(`memory: ${launcher.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} proxy .* --server memory - ✔ Connected`), listed.out);
  // Claude Code keeps each server's stderr in its MCP log: the proxy named Claude Code's session there.
  const logs = filesUnder(join(home, '.cache', 'claude-cli-nodejs')).filter((file) => file.includes('mcp-logs-memory'));
  const log = logs.map((file) => readFileSync(file, 'utf8')).join('\n');
  assert.match(log, /mcp-policy: memory: guarding session \S+ of claude-code \d+\.\d+\.\d+/, log);

  // Claude Code rewrote ~/.claude.json as it ran: unwrap restores the entry and keeps the rest.
  const unwrapped = run(process.execPath, [cli, 'unwrap', join(home, '.claude.json')]);
  assert.equal(unwrapped.code, 0, unwrapped.out);
  const after = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')) as { mcpServers: Record<string, unknown> };
  assert.deepEqual(after.mcpServers, before.mcpServers);
  assert.match(run(claude, ['mcp', 'list']).out, /memory: .*mcp-server-memory.* - ✔ Connected/);
});
