/** The HTTP listener refuses what a local proxy must refuse: no token, foreign Origin, huge bodies. */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, startHttpCli, tempFolder, writePolicy } from './helpers';

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } };

test('HTTP: 401 without or with a wrong token, 403 for a foreign Origin, 413 for a huge body; 0600 token file', async (t) => {
  const folder = tempFolder(t);
  const tokenFile = join(folder, 'token');
  const proxy = await startHttpCli(t, ['proxy', writePolicy(folder, { version: '1', default: 'allow' }), '--port', '0', '--token-file', tokenFile, '--', bin('mcp-server-everything')]);
  assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  const post = (headers: Record<string, string>, body: string): Promise<Response> =>
    fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });
  const auth = { authorization: `Bearer ${proxy.token}` };

  assert.equal((await post({}, JSON.stringify(initialize))).status, 401);
  assert.equal((await post({ authorization: `Bearer ${proxy.token}x` }, JSON.stringify(initialize))).status, 401);
  assert.equal((await post({ authorization: 'Basic abc' }, JSON.stringify(initialize))).status, 401);
  assert.equal((await post({ ...auth, origin: 'https://evil.example' }, JSON.stringify(initialize))).status, 403);
  assert.equal((await post({ ...auth, origin: 'http://localhost.evil.example' }, JSON.stringify(initialize))).status, 403);
  assert.equal((await post({ ...auth }, 'x'.repeat(5 * 1024 * 1024))).status, 413);
  assert.equal((await fetch(proxy.base + '/other', { headers: auth })).status, 404);

  const ok = await post({ ...auth, origin: 'http://localhost:5173' }, JSON.stringify(initialize));
  assert.equal(ok.status, 200);
  assert.ok(ok.headers.get('mcp-session-id'));
  await ok.body?.cancel();

  assert.equal(readFileSync(tokenFile, 'utf8').trim(), proxy.token);
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
});
