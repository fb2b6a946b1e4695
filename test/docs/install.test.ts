// The README's Install section, run as a user would, from empty folders: `npm pack`, the tarball
// installed globally (into a temp prefix) and into a project, and the clone's own dist/cli.js.
// Needs `npm run build` first (dist/ is what the tarball ships) and the npm registry, or npm's
// cache, for the tarball's dependencies. The .vsix way is run by test/e2e (code-server's
// --install-extension).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { before, after, test } from 'node:test';

const repoRoot = resolve(__dirname, '..', '..', '..');
const examplePolicy = join(repoRoot, 'examples', 'crm', 'mcp-policy.json');
const repoSchema = JSON.parse(readFileSync(join(repoRoot, 'schemas', 'policy.schema.json'), 'utf8')) as unknown;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The environment of a user's shell: nothing an enclosing `npm test` exports (its npm_config_*
 * would configure the nested npm, as the code-server setup learned), nor node --test's marker.
 */
function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || ['NODE', 'INIT_CWD', 'NODE_TEST_CONTEXT'].includes(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((entry) => !/\/node_modules\/\.bin\/?$|\/@npmcli\/run-script\/lib\/node-gyp-bin$/.test(entry))
    .join(':');
  return env;
}

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: userEnvironment(), encoding: 'utf8', timeout: 300_000 });
  if (result.error) throw result.error;
  return result;
}

function succeeds(command: string, args: string[], cwd: string): string {
  const result = run(command, args, cwd);
  assert.equal(result.status, 0, `${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Starts `bin lsp --stdio`, sends initialize, resolves with the server's first message. */
function lspInitialize(bin: string, cwd: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, ['lsp', '--stdio'], { cwd, env: userEnvironment(), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('"capabilities"')) {
        child.kill();
        resolvePromise(output);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!output.includes('"capabilities"')) reject(new Error(`lsp --stdio exited ${code} before answering initialize: ${errors}`));
    });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
    child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

function writePolicy(folder: string, schema: string): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, 'mcp-policy.json');
  writeFileSync(path, JSON.stringify({ $schema: schema, version: '1', default: 'deny', tools: { 'read_*': {} } }, null, 2));
  return path;
}

function assertSchemaAt(path: string): void {
  assert.ok(existsSync(path), `no schema at ${path}`);
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), repoSchema, `${path} is not schemas/policy.schema.json`);
}

let temp = '';
let tarball = '';

before(() => {
  assert.ok(existsSync(join(repoRoot, 'dist', 'cli.js')), 'dist/cli.js is missing: run "npm run build" first (npm pack ships dist/ as it is)');
  temp = mkdtempSync(join(tmpdir(), 'mcp-policy-install-'));
});

after(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
});

test('the README has an Install section after "Try it" naming the ways this file runs', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const tryIt = readme.indexOf('\n## Try it\n');
  const install = readme.indexOf('\n## Install\n');
  assert.ok(tryIt >= 0 && install > tryIt, 'README: "## Install" must follow "## Try it"');
  const end = readme.indexOf('\n## ', install + 1);
  const text = readme.slice(install, end < 0 ? undefined : end);
  for (const step of [
    'npm run build',
    'npm pack',
    'npm install -g ./mcp-policy-*.tgz',
    'mcp-policy check examples/crm/mcp-policy.json',
    '$(npm root -g)/mcp-policy/schemas/policy.schema.json',
    './node_modules/mcp-policy/schemas/policy.schema.json',
    'node dist/cli.js check examples/crm/mcp-policy.json',
    'code --install-extension',
    'code-server --install-extension',
  ]) {
    assert.ok(text.includes(step), `README's Install section no longer says: ${step}`);
  }
});

test('npm pack ships the CLI, the bundles, the schemas, README, CHANGELOG and LICENSE', () => {
  const packed = JSON.parse(succeeds(npm, ['pack', '--json', '--pack-destination', temp], repoRoot)) as { filename: string; files: { path: string }[] }[];
  const [entry] = packed;
  assert.ok(entry, 'npm pack --json printed no package');
  tarball = join(temp, entry.filename);
  assert.ok(existsSync(tarball), `npm pack wrote no ${tarball}`);
  const files = entry.files.map((file) => file.path);
  for (const needed of ['dist/cli.js', 'dist/server.js', 'schemas/policy.schema.json', 'schemas/catalog.schema.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'package.json']) {
    assert.ok(files.includes(needed), `the tarball lacks ${needed}`);
  }
});

test('npm install -g of the tarball: mcp-policy check, --help and lsp work, and the $schema path resolves', async (t) => {
  if (!tarball) return t.skip('no tarball (the npm pack test failed)');
  const prefix = join(temp, 'global');
  succeeds(npm, ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], temp);
  const bin = join(prefix, 'bin', 'mcp-policy');
  const elsewhere = join(temp, 'elsewhere');
  mkdirSync(elsewhere);

  succeeds(bin, ['check', examplePolicy], elsewhere);
  const help = run(bin, ['--help'], elsewhere);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout + help.stderr, /mcp-policy check/);
  assert.match(await lspInitialize(bin, elsewhere), /"capabilities"/);

  const globalRoot = succeeds(npm, ['root', '-g', '--prefix', prefix], temp).trim();
  const schema = join(globalRoot, 'mcp-policy', 'schemas', 'policy.schema.json');
  assertSchemaAt(schema);
  succeeds(bin, ['check', writePolicy(join(temp, 'global-user'), schema)], elsewhere);
});

test('npm install of the tarball into a project: the README\'s "./node_modules/mcp-policy/…" $schema resolves and npx-style bin works', (t) => {
  if (!tarball) return t.skip('no tarball (the npm pack test failed)');
  const project = join(temp, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'a-project', version: '1.0.0', private: true }));
  succeeds(npm, ['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
  const policy = writePolicy(project, './node_modules/mcp-policy/schemas/policy.schema.json');
  assertSchemaAt(resolve(dirname(policy), './node_modules/mcp-policy/schemas/policy.schema.json'));
  succeeds(join(project, 'node_modules', '.bin', 'mcp-policy'), ['check', policy], project);
});

test('from the clone: node dist/cli.js works from any folder, and the clone\'s schema is the $schema', () => {
  const elsewhere = mkdtempSync(join(temp, 'clone-user-'));
  const cli = join(repoRoot, 'dist', 'cli.js');
  succeeds(process.execPath, [cli, 'check', examplePolicy], elsewhere);
  succeeds(process.execPath, [cli, '--help'], elsewhere);
  const schema = join(repoRoot, 'schemas', 'policy.schema.json');
  assertSchemaAt(schema);
  succeeds(process.execPath, [cli, 'check', writePolicy(join(elsewhere, 'policy'), schema)], elsewhere);
});
