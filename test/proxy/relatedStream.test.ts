/**
 * What a server sends during a request, on that request's response stream, stays on it through
 * the proxy: a client that reads only its POST's stream (it opened no GET stream) sees the log
 * message before the result, as it does direct.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { startHttpCli, tempFolder, writePolicy } from './helpers';
import { startLateStreamServer } from './lateStreamServer';

interface Posted {
  status: number;
  session: string | undefined;
  messages: Array<Record<string, unknown>>;
}

async function post(url: string, body: unknown, session?: string, token?: string): Promise<Posted> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };
  if (session) headers['mcp-session-id'] = session;
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const messages: Array<Record<string, unknown>> = [];
  const text = await response.text();
  if (/event-stream/.test(response.headers.get('content-type') ?? '')) {
    const parser = createParser({ onEvent: (event) => void (event.data && messages.push(JSON.parse(event.data) as Record<string, unknown>)) });
    parser.feed(text);
  } else if (text) messages.push(JSON.parse(text) as Record<string, unknown>);
  return { status: response.status, session: response.headers.get('mcp-session-id') ?? undefined, messages };
}

/** A session with no GET stream, then one call; what its stream carried, in order. */
async function callOnItsOwnStream(url: string, token?: string): Promise<string[]> {
  const init = await post(url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }, undefined, token);
  assert.equal(init.status, 200);
  assert.equal((await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.session, token)).status, 202);
  const call = await post(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'log-during-call', arguments: {} } }, init.session, token);
  return call.messages.map((message) => (typeof message.method === 'string' ? `${message.method}: ${(message.params as { data?: unknown }).data}` : `answer ${message.id}`));
}

test(
  "a log message sent during a call stays on the call's stream through proxy --url",
  async (t) => {
    const server = await startLateStreamServer(t);
    const expected = ['notifications/message: during the call', 'answer 2'];
    assert.deepEqual(await callOnItsOwnStream(server.url), expected, 'direct');
    const proxy = await startHttpCli(t, ['proxy', writePolicy(tempFolder(t), { version: '1', default: 'allow' }), '--port', '0', '--url', server.url]);
    assert.deepEqual(await callOnItsOwnStream(proxy.url, proxy.token), expected, 'through the proxy');
  },
);
