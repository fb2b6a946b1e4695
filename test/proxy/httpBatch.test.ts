/**
 * What SDK 1.32's Streamable HTTP server transport does with a JSON-RPC batch in a POST body,
 * through the proxy: it hands the relay each member as its own message (so each is decided like
 * a single one) and answers them all on one stream; an initialize in a batch, a batch with a
 * malformed member, or more than 100 members is refused whole, before anything is relayed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, spyServer, startHttpCli, tempFolder, writePolicy } from './helpers';
import { initializeMessage, mcpHeaders, rawRequest, rpcError, spyMessages } from './httpRaw';

/** The JSON-RPC messages of an SSE answer. */
function events(body: string): Array<Record<string, unknown>> {
  return body
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line.length > 'data: '.length)
    .map((line) => JSON.parse(line.slice('data: '.length)) as Record<string, unknown>);
}

test('an HTTP batch is decided member by member: the denied call in it never reaches the server, the allowed one does', async (t) => {
  const folder = tempFolder(t);
  const data = join(folder, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'notes.txt'), 'hello\n');
  const spyLog = join(folder, 'spy.log');
  const policy = writePolicy(folder, { version: '1', default: 'allow', tools: { write_file: { action: 'deny', reason: 'read only' } } });
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', '--', process.execPath, spyServer, bin('mcp-server-filesystem'), data], { SPY_LOG: spyLog });
  const auth = { ...mcpHeaders, authorization: `Bearer ${proxy.token}` };
  const opened = await rawRequest(proxy.url, { headers: auth, body: JSON.stringify(initializeMessage(1)) });
  const session = { ...auth, 'mcp-session-id': String(opened.headers['mcp-session-id']), 'mcp-protocol-version': '2025-06-18' };
  assert.equal((await rawRequest(proxy.url, { headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).status, 202);

  const read = { jsonrpc: '2.0', id: 'read', method: 'tools/call', params: { name: 'read_text_file', arguments: { path: join(data, 'notes.txt') } } };
  const write = { jsonrpc: '2.0', id: 'write', method: 'tools/call', params: { name: 'write_file', arguments: { path: join(data, 'evil.txt'), content: 'x' } } };
  const answer = await rawRequest(proxy.url, { headers: session, body: JSON.stringify([read, write, { jsonrpc: '2.0', id: 'ping', method: 'ping' }]) });
  assert.equal(answer.status, 200);
  assert.match(String(answer.headers['content-type']), /text\/event-stream/, 'one stream carries every member\'s answer');
  const byId = new Map(events(answer.body).map((message) => [message.id, message]));
  assert.deepEqual([...byId.keys()].sort(), ['ping', 'read', 'write']);
  assert.match(JSON.stringify(byId.get('read')), /hello/);
  assert.match(JSON.stringify(byId.get('write')), /read only/);
  const calls = spyMessages(spyLog).filter((message) => message.method === 'tools/call');
  assert.deepEqual(calls.map((message) => (message.params as { name: string }).name), ['read_text_file']);

  // Refused whole by the SDK, nothing relayed: a malformed member, more than 100 members.
  const before = spyMessages(spyLog).length;
  const malformed = await rawRequest(proxy.url, { headers: session, body: JSON.stringify([{ jsonrpc: '2.0', id: 'p1', method: 'ping' }, { jsonrpc: '1.0', id: 'x' }]) });
  assert.equal(malformed.status, 400);
  assert.equal(rpcError(malformed).code, -32700);
  const tooMany = await rawRequest(proxy.url, { headers: session, body: JSON.stringify(Array.from({ length: 101 }, (_, index) => ({ jsonrpc: '2.0', id: `p${index}`, method: 'ping' }))) });
  assert.equal(tooMany.status, 400);
  assert.match(String(rpcError(tooMany).message), /Batch must not exceed 100 messages/);
  assert.equal(spyMessages(spyLog).length, before, 'no member of a refused batch was relayed');
  // Notifications only: 202 and no stream.
  const quiet = await rawRequest(proxy.url, { headers: session, body: JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }]) });
  assert.equal(quiet.status, 202);
});
