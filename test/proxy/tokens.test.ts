/**
 * Named client credentials: `mcp-policy token create|list|revoke` through the real CLI, and a
 * `serve` that gives each token its own budget and keeps each token's sessions its own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cli, connectHttp, repoRoot, startHttpCli, tempFolder, waitFor, writePolicy } from './helpers';

const demoServer = join(repoRoot, 'dist', 'demo-crm-server.js');

function tokenCli(env: Record<string, string>, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [cli, 'token', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function tokensEnv(t: TestContext): { env: Record<string, string>; file: string } {
  const file = join(tempFolder(t), 'private', 'tokens.json');
  return { env: { MCP_POLICY_TOKENS: file }, file };
}

test('token create / list / revoke: the token is printed once, only its hash is kept, in a file only the user can read', (t) => {
  const { env, file } = tokensEnv(t);
  const created = tokenCli(env, 'create', 'alice-laptop');
  assert.equal(created.status, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^mcpp_[A-Za-z0-9_-]{43}$/);
  const stored = readFileSync(file, 'utf8');
  assert.ok(!stored.includes(token.slice(5)), 'the token itself is not stored');
  assert.match(stored, /"name": "alice-laptop"/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(tokenCli(env, 'create', 'alice-laptop').status, 1, 'a name is taken once');
  assert.equal(tokenCli(env, 'create', 'stdio').status, 1, 'the stdio grant cannot be borrowed by a token');
  assert.equal(tokenCli(env, 'create', 'bad name').status, 1);
  assert.equal(tokenCli(env, 'create', 'bob').status, 0);
  const listed = tokenCli(env, 'list');
  assert.deepEqual(listed.stdout.trim().split('\n').map((line) => line.split('\t')[0]), ['alice-laptop', 'bob']);
  assert.ok(!listed.stdout.includes('mcpp_'));
  assert.equal(tokenCli(env, 'revoke', 'alice-laptop').status, 0);
  assert.equal(tokenCli(env, 'revoke', 'alice-laptop').status, 1);
  const afterRevoke = tokenCli(env, 'list').stdout.trim().split('\n');
  assert.equal(afterRevoke.length, 1);
  assert.match(afterRevoke[0]!, /^bob\t/);
  assert.equal(tokenCli(env, 'frobnicate').status, 2);
});

async function post(url: string, token: string, body: unknown, session?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(session ? { 'mcp-session-id': session } : {}) },
    body: JSON.stringify(body),
  });
}

test('two tokens on one serve: two budgets, named in every decision; token B gets 404 for token A\'s session, even to DELETE it; a revoked token is refused', async (t) => {
  const { env } = tokensEnv(t);
  const alice = tokenCli(env, 'create', 'alice').stdout.trim();
  const bob = tokenCli(env, 'create', 'bob').stdout.trim();
  const folder = tempFolder(t);
  const audit = join(folder, 'audit.jsonl');
  const policy = writePolicy(folder, {
    version: '1',
    default: 'deny',
    tools: { fluentcrm_resume_campaign: { limits: [{ counter: 'resumes', window: 'minute', max: 3, scope: 'grant' }] } },
    servers: { fluentcrm: { upstream: { command: process.execPath, args: [demoServer] } } },
  });
  const serve = await startHttpCli(t, ['serve', policy, '--port', '0', '--audit', audit], { ...env, MCP_POLICY_COUNTERS: join(folder, 'counters') });
  const results: Record<string, number> = {};
  for (const [name, token] of [['alice', alice], ['bob', bob], ['one-off', serve.token]] as const) {
    const client = await connectHttp(t, serve.url, token);
    let admitted = 0;
    for (let call = 0; call < 5; call++) {
      const result = (await client.callTool({ name: 'fluentcrm_resume_campaign', arguments: { campaignId: 5 } })) as CallToolResult;
      if (result.isError !== true) admitted++;
    }
    results[name] = admitted;
  }
  assert.deepEqual(results, { alice: 3, bob: 3, 'one-off': 3 }, 'each credential has its own budget; --token keeps working');
  await waitFor(() => readFileSync(audit, 'utf8').split('\n').filter((line) => line.includes('"decision"')).length >= 15, 5000, 'the audit lines');
  const grants = new Set(readFileSync(audit, 'utf8').split('\n').filter((line) => line.length > 0).map((line) => (JSON.parse(line) as { grant?: string }).grant));
  assert.ok(grants.has('alice') && grants.has('bob'), `the token's name is in the events: ${[...grants].join(', ')}`);

  // Alice's session, by hand.
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
  const opened = await post(serve.url, alice, initialize);
  assert.equal(opened.status, 200);
  const session = opened.headers.get('mcp-session-id')!;
  await opened.text();
  const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
  assert.equal((await post(serve.url, bob, list, session)).status, 404, 'bob cannot use alice\'s session');
  const deleted = await fetch(serve.url, { method: 'DELETE', headers: { authorization: `Bearer ${bob}`, 'mcp-session-id': session } });
  assert.equal(deleted.status, 404, 'nor DELETE it');
  assert.equal((await post(serve.url, serve.token, list, session)).status, 404, 'nor can the one-off token');
  const still = await post(serve.url, alice, { jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  assert.equal(still.status, 202, 'alice\'s session is still there');

  assert.equal(tokenCli(env, 'revoke', 'bob').status, 0);
  assert.equal((await post(serve.url, bob, initialize)).status, 401, 'a revoked token is refused at its next request');
  assert.equal((await post(serve.url, 'mcpp_' + 'x'.repeat(43), initialize)).status, 401);
});
