/** mcp-policy init / wrap / unwrap through the real CLI, and the wrapped entry started as a client starts it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { readClientConfig } from '../../proxy/clientConfigs/readConfig';
import { cli, newClient, repoRoot, tempFolder, textOf } from './helpers';

const fixtures = join(repoRoot, 'test', 'fixtures', 'client-configs');
const binFolder = join(repoRoot, 'node_modules', '.bin');

interface World {
  root: string;
  project: string;
  env: Record<string, string>;
}

function world(t: TestContext): World {
  const root = tempFolder(t);
  const project = join(root, 'project');
  cpSync(join(fixtures, 'project'), project, { recursive: true });
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('npm_')) env[key] = value;
  Object.assign(env, { HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'home', '.config'), MCP_POLICY_HOME: join(root, 'mcp-policy-home'), PATH: `${binFolder}:${env.PATH ?? ''}`, MEMORY_FILE_PATH: join(root, 'memory.jsonl') });
  return { root, project, env };
}

function run(w: World, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: w.project, env: w.env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface PolicyShape {
  default: string;
  callable_only?: boolean;
  servers: Record<string, { upstream: Record<string, unknown>; tools: Record<string, { action?: string; validate_input?: boolean; limits?: unknown[] }> }>;
}

test('init imports .vscode/mcp.json: upstreams, catalog, the starting recipe, and no secret in clear', (t) => {
  const w = world(t);
  const vscodeConfig = join(w.project, '.vscode', 'mcp.json');
  const result = run(w, ['init', '--config', vscodeConfig, '--yes', '--timeout', '20']);
  // crm's token is a VS Code input: only VS Code can supply it, so its catalog waits.
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /crm: catalog failed: .*\$\{input:crm-token\} has no value/);
  const policy = JSON.parse(readFileSync(join(w.project, 'mcp-policy.json'), 'utf8')) as PolicyShape;
  assert.equal(policy.default, 'deny');
  assert.equal(policy.callable_only, true, 'tools/list shows only the tools the policy can let through');
  assert.deepEqual(Object.keys(policy.servers), ['filesystem', 'memory', 'crm']);
  assert.deepEqual(policy.servers.filesystem!.upstream, { command: 'mcp-server-filesystem', args: [w.project] });
  assert.deepEqual(policy.servers.memory!.upstream, { command: 'mcp-server-memory', env: { MEMORY_FILE_PATH: '${env:MEMORY_FILE_PATH}' } });
  assert.deepEqual(policy.servers.crm, { upstream: { url: 'http://127.0.0.1:3999/mcp', headers: { Authorization: 'Bearer ${input:crm-token}' } }, tools: {} });
  const fs = policy.servers.filesystem!.tools;
  assert.deepEqual(fs.read_text_file, {}, 'read tools allowed');
  assert.equal(fs.write_file?.action, 'approve', 'destructive tools on approval');
  assert.equal(fs.create_directory?.validate_input, true, 'write tools checked');
  assert.equal(fs.create_directory?.limits?.length, 1, 'write tools limited');
  const catalog = JSON.parse(readFileSync(join(w.project, 'mcp-policy.catalog.json'), 'utf8')) as { servers: Record<string, { tools: unknown[] }> };
  assert.deepEqual(Object.keys(catalog.servers).sort(), ['filesystem', 'memory']);
  assert.equal(catalog.servers.filesystem!.tools.length, 14);
  const check = run(w, ['check', 'mcp-policy.json']);
  assert.notEqual(check.code, 1, check.stdout + check.stderr);
  // A second init does not overwrite the policy.
  assert.equal(run(w, ['init', '--config', vscodeConfig, '--yes']).code, 2);
});

test('init finds every client file of the project and the user, without a terminal only with --yes or --server', (t) => {
  const w = world(t);
  cpSync(join(fixtures, 'home'), w.env.HOME!, { recursive: true });
  const refused = run(w, ['init', '--no-catalog']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--server NAME .* --yes/);
  const result = run(w, ['init', '--yes', '--no-catalog']);
  assert.equal(result.code, 0, result.stderr);
  for (const label of ['VS Code', 'Claude Code', 'Cursor', 'Claude Desktop', 'Windsurf', 'Gemini CLI']) assert.match(result.stdout, new RegExp(`^${label}: `, 'm'));
  const policy = JSON.parse(readFileSync(join(w.project, 'mcp-policy.json'), 'utf8')) as PolicyShape;
  const names = Object.keys(policy.servers);
  for (const name of ['filesystem', 'memory', 'crm', 'docs', 'search', 'everything', 'remote', 'time', 'app-files', 'tickets']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  // Same name, different server: both kept, under distinct names.
  assert.ok(names.some((name) => name.startsWith('memory-')), names.join(', '));
  assert.ok(!readFileSync(join(w.project, 'mcp-policy.json'), 'utf8').includes('example-password-not-real'), 'a password in clear stays in the client file');
  const only = run(w, ['init', '--server', 'tickets', '--no-catalog', '--out', 'tickets.mcp-policy.json']);
  assert.equal(only.code, 0, only.stderr);
  assert.deepEqual(Object.keys((JSON.parse(readFileSync(join(w.project, 'tickets.mcp-policy.json'), 'utf8')) as PolicyShape).servers), ['tickets']);
});

test('wrap routes .vscode/mcp.json through the guarded proxy: the entry works as a client starts it; wrap twice = once; unwrap restores byte for byte', async (t) => {
  const w = world(t);
  const config = join(w.project, '.vscode', 'mcp.json');
  const original = readFileSync(config, 'utf8');
  const wrapped = run(w, ['wrap', config]);
  // No policy yet: wrap imports first. crm cannot be catalogued here (its token is VS Code's).
  assert.match(wrapped.stdout, /wrote .*mcp-policy\.json/);
  assert.match(wrapped.stdout, /memory: now guarded/);
  const text = readFileSync(config, 'utf8');
  assert.ok(text.startsWith('// VS Code: servers of this workspace'), 'comments kept');
  assert.equal(run(w, ['wrap', config]).code, 0);
  assert.equal(readFileSync(config, 'utf8'), text, 'wrap twice = wrap once');

  const launcher = join(w.env.MCP_POLICY_HOME!, 'bin', 'mcp-policy');
  assert.ok(existsSync(launcher));
  const memory = readClientConfig(text, config).find((server) => server.name === 'memory')!.entry as { command: string; args: string[] };
  assert.equal(memory.command, launcher);
  assert.deepEqual(memory.args, ['proxy', join(w.project, 'mcp-policy.json'), '--server', 'memory']);
  // Started as VS Code starts it: the command and args of the entry, nothing else.
  const client = newClient();
  const transport = new StdioClientTransport({ command: memory.command, args: memory.args, env: w.env, cwd: w.root, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await client.connect(transport);
  t.after(() => client.close());
  const graph = await client.callTool({ name: 'read_graph', arguments: {} });
  assert.equal(graph.isError, undefined, textOf(graph));
  const created = await client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'a', entityType: 't', observations: [] }] } });
  assert.ok(!textOf(created).startsWith('[POLICY'), textOf(created));
  const deleted = await client.callTool({ name: 'delete_entities', arguments: { entityNames: ['a'] } });
  assert.match(textOf(deleted), /^\[POLICY APPROVAL REJECTED\]/);
  await client.close();
  assert.match(stderr, /memory: guarding session \S+ of proxy-test 1\.0\.0/);

  const unwrapped = run(w, ['unwrap', config]);
  assert.equal(unwrapped.code, 0, unwrapped.stderr);
  assert.equal(readFileSync(config, 'utf8'), original, 'byte for byte');
  assert.equal(run(w, ['unwrap', config]).code, 0, 'unwrap of an unwrapped file changes nothing');
  assert.equal(readFileSync(config, 'utf8'), original);
});

test('the launcher survives an update: a removed install is replaced by the next one that runs', (t) => {
  const w = world(t);
  const oldInstall = join(w.root, 'old', 'dist');
  cpSync(join(repoRoot, 'dist', 'cli.js'), join(oldInstall, 'cli.js'));
  spawnSync(process.execPath, [join(oldInstall, 'cli.js'), 'init', '--config', join(w.project, '.mcp.json'), '--yes', '--no-catalog'], { cwd: w.project, env: w.env });
  const launcher = join(w.env.MCP_POLICY_HOME!, 'bin', 'mcp-policy');
  assert.match(readFileSync(launcher, 'utf8'), /old\/dist\/cli\.js/);
  rmSync(join(w.root, 'old'), { recursive: true });
  const broken = spawnSync(launcher, ['--version'], { env: w.env, encoding: 'utf8' });
  assert.equal(broken.status, 127);
  assert.match(broken.stderr, /is gone/);
  run(w, ['wrap', join(w.project, '.mcp.json'), '--policy', 'mcp-policy.json']);
  const repaired = spawnSync(launcher, ['--version'], { env: w.env, encoding: 'utf8' });
  assert.equal(repaired.status, 0, repaired.stderr);
});

test('the Inspector CLI drops a second --: proxy takes the upstream from the policy (--server S) or from --command', (t) => {
  const w = world(t);
  assert.equal(run(w, ['init', '--config', join(w.project, '.vscode', 'mcp.json'), '--server', 'memory', '--yes']).code, 0);
  const inspector = join(binFolder, 'mcp-inspector');
  const viaPolicy = spawnSync(inspector, ['--cli', '--method', 'tools/call', '--tool-name', 'read_graph', '--', process.execPath, cli, 'proxy', 'mcp-policy.json', '--server', 'memory'], { cwd: w.project, env: w.env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(viaPolicy.status, 0, viaPolicy.stderr);
  assert.match(viaPolicy.stdout, /"entities"/);
  // --tool-arg takes every word after it: the server command comes first, and the Inspector
  // reads --server as its own; a policy of one server needs none.
  const viaCommand = spawnSync(inspector, ['--cli', process.execPath, cli, 'proxy', 'mcp-policy.json', '--command', 'mcp-server-memory', '--method', 'tools/call', '--tool-name', 'delete_entities', '--tool-arg', 'entityNames=[]'], { cwd: w.project, env: w.env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(viaCommand.status, 0, viaCommand.stderr);
  assert.match(viaCommand.stdout, /POLICY APPROVAL REJECTED/);
});

test('init in a terminal asks which servers to guard (a pseudo-terminal through util-linux script)', (t) => {
  const w = world(t);
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!hasScript) {
    t.skip('util-linux "script" is not installed');
    return;
  }
  const quoted = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, cli, 'init', '--no-catalog', '--config', join(w.project, '.vscode', 'mcp.json')].map(quoted).join(' ');
  const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: w.project, env: w.env, input: 'x\n2,3\n', encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /\[2\] memory: mcp-server-memory/);
  assert.match(result.stdout, /pick numbers between 1 and 3/);
  const policy = JSON.parse(readFileSync(join(w.project, 'mcp-policy.json'), 'utf8')) as PolicyShape;
  assert.deepEqual(Object.keys(policy.servers), ['memory', 'crm']);
});
