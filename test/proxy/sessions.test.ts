/** HTTP sessions end: abandoned ones are reaped with their upstream, and there is a cap (see sessionLifetime.test.ts). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { HttpProxyHost } from '../../proxy/serveHost';
import { bin, connectHttp, tempFolder, textOf, waitFor, writePolicy } from './helpers';

function childCount(): number {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.trim() !== '' && !line.trim().endsWith(' ps')).length;
}

function initialize(url: string, token: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
}

function startHost(t: test.TestContext, options: { sessionIdleMs?: number; maxSessions?: number }): Promise<{ url: string; token: string }> {
  const folder = tempFolder(t);
  const policyPath = writePolicy(folder, {
    version: '1',
    default: 'allow',
    servers: { mem: { upstream: { command: bin('mcp-server-memory'), env: { MEMORY_FILE_PATH: join(folder, 'memory.jsonl') } } } },
  });
  const host = new HttpProxyHost({ policyPath, tokenFile: false, ...options });
  t.after(() => host.stop());
  return host.start().then((status) => ({ url: status.servers[0]!.url, token: status.token }));
}

test('a session its client abandoned is closed after the idle time, and its upstream with it', async (t) => {
  const { url, token } = await startHost(t, { sessionIdleMs: 400 });
  const before = childCount();
  const response = await initialize(url, token);
  assert.equal(response.status, 200);
  await response.text();
  const session = response.headers.get('mcp-session-id');
  assert.ok(session);
  await waitFor(() => childCount() === before + 1, 10_000, 'the upstream to start');
  // The client goes away without a DELETE.
  await waitFor(() => childCount() === before, 10_000, 'the upstream of the abandoned session to stop');
  const again = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': session, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }) });
  assert.equal(again.status, 404, 'the session is gone');
});

test('a connected client keeps its session past the idle time', async (t) => {
  const { url, token } = await startHost(t, { sessionIdleMs: 300 });
  const client = await connectHttp(t, url, token);
  await new Promise((resolve) => setTimeout(resolve, 1200));
  assert.equal(textOf(await client.callTool({ name: 'read_graph', arguments: {} })).includes('entities'), true);
});

test('no more sessions than the cap: a new one closes the least recently used idle one, so no more upstreams run', async (t) => {
  const { url, token } = await startHost(t, { maxSessions: 2 });
  const before = childCount();
  const ids: string[] = [];
  for (let index = 0; index < 3; index++) {
    const response = await initialize(url, token);
    assert.equal(response.status, 200);
    await response.text();
    ids.push(response.headers.get('mcp-session-id')!);
  }
  await waitFor(() => childCount() === before + 2, 10_000, 'two upstreams, one per open session');
  const closed = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': ids[0]!, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }) });
  assert.equal(closed.status, 404, 'the first session made room');
});
