/**
 * The listener's own refusals are JSON-RPC error bodies a client library can read, with the
 * request's id wherever the body was read (the status codes stay what HTTP says).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, spyServer, startHttpCli, tempFolder, writePolicy, type HttpProxy } from './helpers';
import { initializeMessage, mcpHeaders, rawRequest, rpcError, spyMessages } from './httpRaw';

async function startProxy(t: test.TestContext): Promise<{ proxy: HttpProxy; spyLog: string; auth: Record<string, string> }> {
  const folder = tempFolder(t);
  const data = join(folder, 'data');
  mkdirSync(data);
  const spyLog = join(folder, 'spy.log');
  const policy = writePolicy(folder, { version: '1', default: 'allow' });
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', '--', process.execPath, spyServer, bin('mcp-server-filesystem'), data], { SPY_LOG: spyLog });
  return { proxy, spyLog, auth: { ...mcpHeaders, authorization: `Bearer ${proxy.token}` } };
}

const call = (id: number | string): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/etc/passwd' } } });

test('every refusal of the listener is a JSON-RPC error with the request\'s id where the body was read', async (t) => {
  const { proxy, spyLog, auth } = await startProxy(t);

  // Refused before the body is read: no id to give.
  const noToken = await rawRequest(proxy.url, { headers: mcpHeaders, body: call(1) });
  assert.equal(noToken.status, 401);
  assert.equal(noToken.headers['www-authenticate'], 'Bearer');
  assert.deepEqual(rpcError(noToken), { id: null, code: -32000, message: 'mcp-policy: missing or wrong bearer token' });
  const foreignOrigin = await rawRequest(proxy.url, { headers: { ...auth, origin: 'https://evil.example' }, body: call(2) });
  assert.equal(foreignOrigin.status, 403);
  assert.deepEqual(rpcError(foreignOrigin), { id: null, code: -32000, message: 'mcp-policy: Origin not allowed' });
  const huge = await rawRequest(proxy.url, { headers: auth, body: `{"jsonrpc":"2.0","id":3,"method":"ping","params":{"x":"${'x'.repeat(5 * 1024 * 1024)}"}}` });
  assert.equal(huge.status, 413);
  assert.equal(rpcError(huge).id, null);
  assert.match(String(rpcError(huge).message), /request body over 4194304 bytes/);
  const notJson = await rawRequest(proxy.url, { headers: auth, body: '{"id": 4,' });
  assert.equal(notJson.status, 400);
  assert.deepEqual(rpcError(notJson), { id: null, code: -32700, message: 'Parse error: the body is not JSON' });

  // Refused after the body was read: the request's own id.
  const noServer = await rawRequest(proxy.base + '/servers/other/mcp', { headers: auth, body: call(5) });
  assert.equal(noServer.status, 404);
  assert.deepEqual(rpcError(noServer), { id: 5, code: -32000, message: 'mcp-policy: no guarded server at /servers/other/mcp' });
  const noSession = await rawRequest(proxy.url, { headers: { ...auth, 'mcp-session-id': 'not-a-session' }, body: call('six') });
  assert.equal(noSession.status, 404);
  assert.deepEqual(rpcError(noSession), { id: 'six', code: -32001, message: 'Session not found' });
  // A batch has no one id.
  const batch = await rawRequest(proxy.url, { headers: auth, body: `[${call(8)},${call(9)}]` });
  assert.equal(batch.status, 400);
  assert.equal(rpcError(batch).id, null);
  // A GET to no server has no body.
  const getNoServer = await rawRequest(proxy.base + '/nothing', { method: 'GET', headers: { authorization: `Bearer ${proxy.token}` } });
  assert.equal(getNoServer.status, 404);
  assert.equal(rpcError(getNoServer).id, null);
  // A wrong path is a 404 whatever the body.
  const junkNoServer = await rawRequest(proxy.base + '/nothing', { headers: auth, body: 'junk' });
  assert.equal(junkNoServer.status, 404);
  assert.equal(rpcError(junkNoServer).id, null);

  assert.equal(spyMessages(spyLog).length, 0, 'none of these reached an upstream');
  const ok = await rawRequest(proxy.url, { headers: auth, body: JSON.stringify(initializeMessage(10)) });
  assert.equal(ok.status, 200);
});

test('a request without a session (stateless mode) is refused with a JSON-RPC error and reaches no upstream', async (t) => {
  const { proxy, spyLog, auth } = await startProxy(t);
  for (const [index, headers] of [auth, { ...auth, 'mcp-protocol-version': '2025-11-25' }].entries()) {
    const sessionless = await rawRequest(proxy.url, { headers, body: call(7 + index) });
    assert.equal(sessionless.status, 400);
    assert.deepEqual(rpcError(sessionless), { id: 7 + index, code: -32000, message: 'Bad Request: Mcp-Session-Id header is required; mcp-policy needs an initialize request first' });
  }
  const stream = await rawRequest(proxy.url, { method: 'GET', headers: { accept: 'text/event-stream', authorization: auth.authorization! } });
  assert.equal(stream.status, 400);
  assert.equal(spyMessages(spyLog).length, 0, 'no upstream was started or called');
});
