/**
 * `mcp-policy catalog` against real upstreams: the official filesystem server (annotated),
 * the demo FluentCRM server (no annotations: names decide), a paginating server written here
 * with the SDK, and upstreams that do not exist or never answer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CatalogFile, CatalogTool } from '../../core';
import { bin, cli, repoRoot, tempFolder, writePolicy } from './helpers';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runCli(args: string[], cwd = repoRoot, killAfterMs = 60_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function readCatalog(path: string): CatalogFile & { $schema?: string } {
  return JSON.parse(readFileSync(path, 'utf8')) as CatalogFile & { $schema?: string };
}

function tool(catalog: CatalogFile, server: string, name: string): CatalogTool {
  const found = catalog.servers[server]?.tools.find((entry) => entry.name === name);
  assert.ok(found, `${server}/${name} is in the catalog`);
  return found;
}

/** A stdio MCP server of 5 tools served 2 per page; it ignores no cursor, so only following nextCursor finds them all. */
function writePagingServer(folder: string): string {
  const sdk = (path: string): string => JSON.stringify(require.resolve(`@modelcontextprotocol/sdk/${path}`));
  const path = join(folder, 'paging-server.cjs');
  writeFileSync(
    path,
    `const { Server } = require(${sdk('server/index.js')});
const { StdioServerTransport } = require(${sdk('server/stdio.js')});
const { ListToolsRequestSchema } = require(${sdk('types.js')});
const names = ['get_alpha', 'send_beta', 'delete_gamma', 'update_delta', 'list_epsilon'];
const tools = names.map((name) => ({ name, description: 'paged tool ' + name, inputSchema: { type: 'object', properties: {} } }));
const server = new Server({ name: 'paging-server', version: '2.3.4' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, (request) => {
  const start = Number(request.params && request.params.cursor ? request.params.cursor.slice('page-'.length) : 0);
  const end = start + 2;
  return { tools: tools.slice(start, end), ...(end < tools.length ? { nextCursor: 'page-' + end } : {}) };
});
server.connect(new StdioServerTransport());
`,
  );
  return path;
}

test('catalog on server-filesystem: write_file is destructive from its annotations, read tools read', async (t) => {
  const folder = tempFolder(t);
  const out = join(folder, 'fs.catalog.json');
  const run = await runCli(['catalog', '--server', 'fs', '--out', out, '--', bin('mcp-server-filesystem'), folder]);
  assert.equal(run.code, 0, run.stderr);
  const catalog = readCatalog(out);
  assert.equal(catalog.version, '1');
  assert.equal(catalog.servers.fs?.serverInfo?.name, 'secure-filesystem-server');
  const writeFile = tool(catalog, 'fs', 'write_file');
  assert.equal(writeFile.annotations?.destructiveHint, true, 'the annotations are kept as the server sent them');
  assert.deepEqual({ class: writeFile.risk.class, why: writeFile.risk.why }, { class: 'destructive', why: 'annotated destructiveHint' });
  assert.equal(tool(catalog, 'fs', 'read_text_file').risk.class, 'read');
  assert.equal(tool(catalog, 'fs', 'list_directory').risk.class, 'read');
  assert.equal(tool(catalog, 'fs', 'edit_file').risk.class, 'destructive');
  assert.ok(tool(catalog, 'fs', 'write_file').inputSchema.properties, 'input schemas are recorded');
  assert.match(run.stdout, /fs: 14 tools/);
});

test('catalog on the demo CRM server through the example policy: names decide the risk', async (t) => {
  const folder = tempFolder(t);
  const out = join(folder, 'crm.catalog.json');
  // The policy's upstream is `node ../../dist/demo-crm-server.js`: it only starts from the policy's folder.
  const run = await runCli(['catalog', join(repoRoot, 'examples', 'crm', 'mcp-policy.json'), '--out', out], folder);
  assert.equal(run.code, 0, run.stderr);
  const catalog = readCatalog(out);
  const crm = catalog.servers.fluentcrm;
  assert.ok(crm);
  assert.deepEqual(crm.serverInfo, { name: 'fluentcrm-mcp', version: '1.0.0' });
  assert.equal(crm.tools.length, 36);
  assert.deepEqual(
    { ...tool(catalog, 'fluentcrm', 'fluentcrm_resume_campaign').risk, why: undefined },
    { class: 'execute', severity: 'high', why: undefined },
  );
  assert.equal(tool(catalog, 'fluentcrm', 'fluentcrm_delete_contact').risk.class, 'destructive');
  assert.equal(tool(catalog, 'fluentcrm', 'fluentcrm_list_contacts').risk.class, 'read');
  const fixture = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'fluentcrm.tools-list.json'), 'utf8')) as {
    result: { tools: Array<{ name: string; inputSchema: unknown }> };
  };
  assert.deepEqual(
    crm.tools.map((entry) => [entry.name, entry.inputSchema]),
    fixture.result.tools.map((entry) => [entry.name, entry.inputSchema]),
  );
});

test('catalog follows nextCursor over every page, runs a policy upstream in the policy folder, and keeps going past a failed upstream', async (t) => {
  const folder = tempFolder(t);
  writePagingServer(folder);
  const policy = writePolicy(folder, {
    version: '1',
    servers: {
      // A relative script: found only when the command runs in the policy's folder.
      paged: { upstream: { command: 'node', args: ['paging-server.cjs'] } },
      missing: { upstream: { command: 'no-such-mcp-server-xyz', args: [] } },
    },
  });
  // Run from elsewhere: the command's own cwd must not matter.
  const run = await runCli(['catalog', policy], repoRoot);
  assert.equal(run.code, 1, 'an upstream failed');
  assert.match(run.stderr, /missing: failed: command not found: no-such-mcp-server-xyz/);
  const catalog = readCatalog(join(folder, 'mcp-policy.catalog.json'));
  assert.deepEqual(Object.keys(catalog.servers), ['paged'], 'what succeeded is written');
  assert.deepEqual(catalog.servers.paged?.serverInfo, { name: 'paging-server', version: '2.3.4' });
  assert.deepEqual(
    catalog.servers.paged?.tools.map((entry) => `${entry.name}:${entry.risk.class}`),
    ['get_alpha:read', 'send_beta:execute', 'delete_gamma:destructive', 'update_delta:write', 'list_epsilon:read'],
  );
});

test('catalog of an upstream command that does not exist: exit 1, a clear message, no file', async (t) => {
  const folder = tempFolder(t);
  const out = join(folder, 'out.json');
  const run = await runCli(['catalog', '--server', 'ghost', '--out', out, '--', 'no-such-mcp-server-xyz', '--flag']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /mcp-policy catalog: ghost: failed: command not found: no-such-mcp-server-xyz/);
  assert.equal(existsSync(out), false);
});

test('catalog gives up on an upstream that never answers', async (t) => {
  const folder = tempFolder(t);
  const out = join(folder, 'out.json');
  const run = await runCli(['catalog', '--server', 'mute', '--timeout', '1', '--out', out, '--', process.execPath, '-e', 'setInterval(() => {}, 1000)'], repoRoot, 30_000);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /mute: failed: no answer within 1 s/);
  assert.ok(run.ms < 15_000, `took ${run.ms} ms`);
});

test('catalog explains an upstream that exits at start with its stderr', async (t) => {
  const folder = tempFolder(t);
  const run = await runCli(['catalog', '--server', 'broken', '--out', join(folder, 'out.json'), '--', process.execPath, '-e', 'console.error("FLUENTCRM_API_URL is not set"); process.exit(3)']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /broken: failed: the upstream closed the connection before answering/);
  assert.match(run.stderr, /FLUENTCRM_API_URL is not set/);
});

test('catalog --server updates one server and keeps the others in the file', async (t) => {
  const folder = tempFolder(t);
  writePagingServer(folder);
  const out = join(folder, 'mcp-policy.catalog.json');
  const kept = { tools: [{ name: 'hand_made', inputSchema: { type: 'object' }, risk: { class: 'read', severity: 'low', why: 'by hand' } }] };
  writeFileSync(out, JSON.stringify({ $schema: 'https://example.test/catalog.schema.json', version: '1', servers: { other: kept } }));
  const policy = writePolicy(folder, { version: '1', servers: { paged: { upstream: { command: 'node', args: ['paging-server.cjs'] } } } });
  const run = await runCli(['catalog', policy, '--server', 'paged']);
  assert.equal(run.code, 0, run.stderr);
  const catalog = readCatalog(out);
  assert.deepEqual(Object.keys(catalog.servers), ['other', 'paged']);
  assert.deepEqual(catalog.servers.other, kept);
  assert.equal(catalog.$schema, 'https://example.test/catalog.schema.json', 'the $schema the file had stays');
  assert.equal(catalog.servers.paged?.tools.length, 5);
});

test('catalog usage errors exit 2', async () => {
  assert.equal((await runCli(['catalog'])).code, 2);
  assert.equal((await runCli(['catalog', '--', 'node'])).code, 2, '--server is required with a command');
  assert.equal((await runCli(['catalog', join(repoRoot, 'examples', 'crm', 'mcp-policy.json'), '--server', 'nope'])).code, 2);
});
