/** Each client's configuration format: read into policy upstreams; wrap/unwrap byte for byte; wrap is idempotent. */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { readClientConfig } from '../../proxy/clientConfigs/readConfig';
import { backupPath, moveOutFile, unwrapFile, wrapFile, wrapText } from '../../proxy/clientConfigs/wrapConfig';
import { splitCommandLine } from '../../proxy/commandLine';
import { inputIds, resolveUpstreamReferences, UnresolvedReferenceError } from '../../proxy/upstreamReferences';
import { repoRoot, tempFolder } from './helpers';

const fixtures = join(repoRoot, 'test', 'fixtures', 'client-configs');
const project = join(fixtures, 'project');
const home = join(fixtures, 'home');

function read(path: string, options: { project?: string } = {}): ReturnType<typeof readClientConfig> {
  return readClientConfig(readFileSync(path, 'utf8'), path, { home, ...options });
}

function byName(servers: ReturnType<typeof readClientConfig>): Record<string, unknown> {
  return Object.fromEntries(servers.map((server) => [server.name, server.problem ?? { upstream: server.upstream, clientEnv: server.clientEnv }]));
}

test('VS Code .vscode/mcp.json (JSONC): workspace folder made concrete, ${env:} kept, ${input:} kept and passed on by the wrapped entry', () => {
  const servers = read(join(project, '.vscode', 'mcp.json'));
  assert.deepEqual(byName(servers), {
    filesystem: { upstream: { command: 'mcp-server-filesystem', args: [project], cwd: project }, clientEnv: {} },
    memory: { upstream: { command: 'mcp-server-memory', env: { MEMORY_FILE_PATH: '${env:MEMORY_FILE_PATH}' }, cwd: project }, clientEnv: {} },
    crm: { upstream: { url: 'http://127.0.0.1:3999/mcp', headers: { Authorization: 'Bearer ${input:crm-token}' } }, clientEnv: { MCP_POLICY_INPUT_CRM_TOKEN: '${input:crm-token}' } },
  });
  assert.ok(servers.every((server) => server.client === 'vscode' && server.scope === 'project'));
});

test('VS Code user mcp.json (tabs) is a user file', () => {
  const servers = read(join(home, '.config', 'Code', 'User', 'mcp.json'));
  assert.deepEqual(byName(servers), { time: { upstream: { command: 'uvx', args: ['mcp-server-time'] }, clientEnv: {} } });
  assert.equal(servers[0]?.scope, 'user');
});

test('Claude Code .mcp.json: ${VAR} and ${VAR:-default} become ${env:…}; a credential header stays a reference', () => {
  assert.deepEqual(byName(read(join(project, '.mcp.json'))), {
    memory: { upstream: { command: 'mcp-server-memory', env: { MEMORY_FILE_PATH: '${env:MEMORY_FILE_PATH:-/tmp/claude-memory.jsonl}' }, cwd: project }, clientEnv: {} },
    docs: { upstream: { url: 'https://docs.example.invalid/mcp', headers: { 'X-Api-Key': '${env:DOCS_API_KEY}' } }, clientEnv: {} },
  });
});

test('Claude Code ~/.claude.json: user servers and per-project servers', () => {
  const servers = read(join(home, '.claude.json'));
  assert.deepEqual(
    servers.map((server) => [server.name, server.scope, server.path]),
    [
      ['memory', 'user', ['mcpServers', 'memory']],
      ['app-files', 'project /srv/app', ['projects', '/srv/app', 'mcpServers', 'app-files']],
    ],
  );
  assert.deepEqual(servers[1]?.upstream, { command: 'mcp-server-filesystem', args: ['/srv/app'], cwd: '/srv/app' });
});

test('Cursor project and user files', () => {
  assert.deepEqual(byName(read(join(project, '.cursor', 'mcp.json'))), {
    filesystem: { upstream: { command: 'mcp-server-filesystem', args: [`${project}/docs`], cwd: project }, clientEnv: {} },
    search: { upstream: { url: 'http://127.0.0.1:3998/mcp', headers: { Authorization: 'Bearer ${env:SEARCH_TOKEN}' } }, clientEnv: {} },
  });
  assert.deepEqual(byName(read(join(home, '.cursor', 'mcp.json'))), {
    everything: { upstream: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'], env: { GITHUB_TOKEN: '${env:GITHUB_TOKEN}' } }, clientEnv: {} },
  });
});

test('Claude Desktop: a password written in clear stays in the client file; the policy refers to it', () => {
  assert.deepEqual(byName(read(join(home, '.config', 'Claude', 'claude_desktop_config.json'))), {
    crm: {
      upstream: {
        command: 'node',
        args: ['/opt/crm/dist/fluentcrm-mcp-server.js'],
        env: { FLUENTCRM_API_URL: 'https://crm.example.invalid/wp-json/fluent-crm/v2', FLUENTCRM_API_PASSWORD: '${env:FLUENTCRM_API_PASSWORD}' },
      },
      clientEnv: { FLUENTCRM_API_PASSWORD: 'example-password-not-real' },
    },
  });
});

test('Windsurf serverUrl and Gemini CLI httpUrl, $VAR, cwd and extra keys', () => {
  assert.deepEqual(byName(read(join(home, '.codeium', 'windsurf', 'mcp_config.json'))), {
    tickets: { upstream: { url: 'http://127.0.0.1:3996/mcp', headers: { Authorization: 'Bearer ${env:TICKETS_TOKEN}' } }, clientEnv: {} },
    memory: { upstream: { command: 'mcp-server-memory', env: { MEMORY_FILE_PATH: '${env:MEMORY_FILE_PATH}' } }, clientEnv: {} },
  });
  assert.deepEqual(byName(read(join(project, '.gemini', 'settings.json'))), {
    everything: { upstream: { command: 'mcp-server-everything', env: { API_BASE: '${env:API_BASE}' }, cwd: './tools' }, clientEnv: {} },
    remote: { upstream: { url: 'http://127.0.0.1:3997/mcp', headers: { Authorization: 'Bearer ${env:REMOTE_TOKEN}' } }, clientEnv: {} },
  });
  assert.deepEqual(byName(read(join(home, '.gemini', 'settings.json'))), {
    memory: { upstream: { command: 'mcp-server-memory', env: { MEMORY_FILE_PATH: '${env:MEMORY_FILE_PATH}' } }, clientEnv: {} },
  });
});

test('a broken file is reported at its line and column', () => {
  assert.throws(() => readClientConfig('{\n  "mcpServers": {\n    "a": { "command": "x" ]\n}', '/x/.mcp.json'), /\/x\/\.mcp\.json:3:\d+: /);
});

function allFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

test('every fixture: wrap keeps comments outside the entries, wrap twice equals wrap once, unwrap gives the file back byte for byte', (t) => {
  const folder = tempFolder(t);
  cpSync(fixtures, folder, { recursive: true });
  const launcher = '/opt/mcp-policy/bin/mcp-policy';
  const files = allFiles(folder);
  assert.equal(files.length, 10);
  for (const file of files) {
    const name = relative(folder, file);
    const original = readFileSync(file, 'utf8');
    const options = { home: join(folder, 'home'), launcher, policy: '/p/mcp-policy.json', serverFor: (server: { name: string }) => `guarded-${server.name}` };
    const once = wrapFile(file, options);
    assert.ok(once.wrapped.length > 0, `${name}: something wrapped`);
    const wrapped = readFileSync(file, 'utf8');
    // The fixtures' comments sit outside the server entries: every one survives.
    for (const comment of original.match(/^\s*(\/\/[^\n]*|\/\*.*?\*\/)/gm) ?? []) assert.ok(wrapped.includes(comment.trim()), `${name}: comment kept: ${comment}`);
    for (const server of readClientConfig(wrapped, file, { home: options.home })) {
      assert.equal(server.wrapped, true, `${name}: ${server.name} wrapped`);
      const entry = server.entry as { command: string; args: string[] };
      assert.equal(entry.command, launcher);
      assert.deepEqual(entry.args, ['proxy', '/p/mcp-policy.json', '--server', `guarded-${server.name}`]);
    }
    const twice = wrapFile(file, options);
    assert.equal(twice.wrapped.length, 0, `${name}: nothing left to wrap`);
    assert.equal(readFileSync(file, 'utf8'), wrapped, `${name}: wrap twice = wrap once`);
    assert.equal(unwrapFile(file).restored, 'bytes');
    assert.equal(readFileSync(file, 'utf8'), original, `${name}: unwrap restores byte for byte`);
    assert.throws(() => statSync(backupPath(file)), /ENOENT/);
  }
});

test('the wrapped VS Code entry passes its input to the proxy; a Claude Desktop entry keeps its password in its own env', () => {
  const vscode = join(project, '.vscode', 'mcp.json');
  const options = { home, launcher: '/l/mcp-policy', policy: '/p.json', serverFor: (server: { name: string }) => server.name };
  const text = wrapText(readFileSync(vscode, 'utf8'), vscode, options).text;
  const crm = readClientConfig(text, vscode, { home }).find((server) => server.name === 'crm')!.entry;
  assert.deepEqual(crm, { type: 'stdio', command: '/l/mcp-policy', args: ['proxy', '/p.json', '--server', 'crm'], env: { MCP_POLICY_INPUT_CRM_TOKEN: '${input:crm-token}' } });
  assert.ok(text.startsWith('// VS Code: servers of this workspace'));
  assert.ok(text.includes('// VS Code asks for this once'));
  const desktop = join(home, '.config', 'Claude', 'claude_desktop_config.json');
  const wrapped = wrapText(readFileSync(desktop, 'utf8'), desktop, options).text;
  assert.deepEqual(JSON.parse(wrapped).mcpServers.crm, { command: '/l/mcp-policy', args: ['proxy', '/p.json', '--server', 'crm'], env: { FLUENTCRM_API_PASSWORD: 'example-password-not-real' } });
  const gemini = join(project, '.gemini', 'settings.json');
  const geminiText = wrapText(readFileSync(gemini, 'utf8'), gemini, options).text;
  assert.match(geminiText, /"trust": false/, 'keys other than the transport are kept');
});

test('unwrap of a file changed since wrap restores the wrapped entries and keeps the other changes', (t) => {
  const folder = tempFolder(t);
  const file = join(folder, '.claude.json');
  cpSync(join(home, '.claude.json'), file);
  const original = JSON.parse(readFileSync(file, 'utf8'));
  wrapFile(file, { home, launcher: '/l/mcp-policy', policy: '/p.json', serverFor: (server) => server.name });
  // What Claude Code does when it runs: rewrites the whole file.
  const changed = JSON.parse(readFileSync(file, 'utf8'));
  changed.numStartups = 4;
  writeFileSync(file, JSON.stringify(changed, null, 2));
  const result = unwrapFile(file);
  assert.equal(result.restored, 'entries');
  assert.deepEqual(result.entries.sort(), ['app-files', 'memory']);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { ...original, numStartups: 4 });
});

test('--command splitting: quotes and escapes, nothing expanded', () => {
  assert.deepEqual(splitCommandLine(`node "my server.js" --dir '/a b' x\\ y $HOME`), ['node', 'my server.js', '--dir', '/a b', 'x y', '$HOME']);
  assert.deepEqual(splitCommandLine(`a "" b`), ['a', '', 'b']);
  assert.throws(() => splitCommandLine(`a "b`), /unclosed " quote/);
});

test('references resolve from the environment at start; a missing one names the field', () => {
  const upstream = { command: 'x', env: { TOKEN: '${env:T}', MODE: '${env:M:-fast}' }, args: ['--key=${input:k}'] };
  assert.deepEqual(resolveUpstreamReferences(upstream, 'servers.s.upstream', { T: 'secret', MCP_POLICY_INPUT_K: 'v' }), { command: 'x', env: { TOKEN: 'secret', MODE: 'fast' }, args: ['--key=v'] });
  assert.throws(() => resolveUpstreamReferences(upstream, 'servers.s.upstream', { T: 'secret' }), (error: Error) => error instanceof UnresolvedReferenceError && /servers\.s\.upstream\.args\[0\]: \$\{input:k\} has no value/.test(error.message));
  assert.throws(() => resolveUpstreamReferences({ url: 'http://h/mcp', headers: { A: '${env:NOPE}' } }, 'servers.h.upstream', {}), /servers\.h\.upstream\.headers\.A: \$\{env:NOPE\} is not set/);
});

test('moving servers out of .vscode/mcp.json (Guard These Servers) and back: byte for byte, or entry by entry after an edit', (t) => {
  const folder = tempFolder(t);
  const file = join(folder, '.vscode', 'mcp.json');
  cpSync(join(project, '.vscode'), join(folder, '.vscode'), { recursive: true });
  const original = readFileSync(file, 'utf8');
  assert.deepEqual(moveOutFile(file, ['filesystem', 'memory']), ['filesystem', 'memory']);
  const moved = readFileSync(file, 'utf8');
  assert.deepEqual(readClientConfig(moved, file).map((server) => server.name), ['crm']);
  assert.ok(moved.includes('// VS Code asks for this once'), 'comments kept');
  assert.equal(unwrapFile(file).restored, 'bytes');
  assert.equal(readFileSync(file, 'utf8'), original);

  moveOutFile(file, ['memory']);
  writeFileSync(file, readFileSync(file, 'utf8').replace('"crm": {', '"crm2": {'));
  assert.equal(unwrapFile(file).restored, 'entries');
  assert.deepEqual(readClientConfig(readFileSync(file, 'utf8'), file).map((server) => server.name).sort(), ['crm2', 'filesystem', 'memory']);
});

test('inputIds finds every ${input:ID} in nested upstreams', () => {
  assert.deepEqual(inputIds([{ command: 'x', env: { A: '${input:one}' }, args: ['--k=${input:two}', '${env:E}'] }, { url: 'u', headers: { H: 'Bearer ${input:one}' } }]), ['one', 'two']);
});
