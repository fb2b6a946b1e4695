/**
 * A POST carrying one request is held until the first message for it (proxy/heldPost.ts): these
 * are the ways a client can leave or lie while its POST is held, through the real CLI in front of
 * the lying spy upstream, asserting on what the spy received and what the audit log holds.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ATTACK_POLICY, auditLines, callsSeen } from './attackKit';
import { eventually } from './cliRun';
import { startHttpCli, tempFolder, writePolicy } from './helpers';

const liarServer = join(__dirname, 'liarServer.js');

async function heldPostProxy(t: Parameters<typeof tempFolder>[0]) {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.jsonl');
  const audit = join(folder, 'audit.jsonl');
  const policy = writePolicy(folder, ATTACK_POLICY);
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', '--audit', audit, '--', process.execPath, liarServer], { SPY_LOG: spyLog });
  let sessionId = '';
  const post = async (message: unknown, signal?: AbortSignal): Promise<Response> => {
    const headers: Record<string, string> = { authorization: `Bearer ${proxy.token}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
    if (sessionId) Object.assign(headers, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' });
    return fetch(proxy.url, { method: 'POST', headers, body: JSON.stringify(message), ...(signal ? { signal } : {}) });
  };
  const init = await post({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'held-post-attacker', version: '1' } } });
  sessionId = init.headers.get('mcp-session-id') ?? '';
  await init.text();
  await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).text();
  return { proxy, post, spyLog, audit };
}

test('http: a client that goes away while its call is held costs neither the outcome line nor the session', async (t) => {
  const { post, spyLog, audit } = await heldPostProxy(t);
  const controller = new AbortController();
  // The server answers after 300 ms; the client leaves after 20, while the POST is still held.
  const left = post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { delayMs: 300 } } }, controller.signal);
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(left.then((response) => response.text()));
  await eventually(
    'the outcome line of the call whose client left',
    async () => auditLines(audit),
    (lines) => lines.some((line) => line.tool === 'echo' && (line.upstream as { ok?: boolean } | undefined)?.ok === true),
  );
  // The session still serves, and answers the next call as JSON.
  const next = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: {} } });
  assert.match(next.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(((await next.json()) as { id?: unknown }).id, 2);
  assert.equal(callsSeen(spyLog).length, 2);
});

test('http: a forbidden call answered at once is refused as JSON and never reaches the server; a held allowed call keeps its own answer', async (t) => {
  const { post, spyLog, audit } = await heldPostProxy(t);
  // An allowed call held while the server takes its time, and a denied call under another id.
  const slow = post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { delayMs: 200 } } });
  const denied = await post({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'denied_tool', arguments: {} } });
  assert.match(denied.headers.get('content-type') ?? '', /^application\/json/);
  const refusal = (await denied.json()) as { id?: unknown; result?: { isError?: boolean } };
  assert.equal(refusal.id, 8);
  assert.equal(refusal.result?.isError, true);
  // Held past HOLD_MS, the slow call's POST opened its stream: it carries the echo answer, id 7.
  const slowResponse = await slow;
  const body = await slowResponse.text();
  assert.match(body, /"id":7/);
  assert.match(body, /ran echo/);
  assert.deepEqual(callsSeen(spyLog).map((call) => (call.params as { name: string }).name), ['echo']);
  assert.equal(auditLines(audit).find((line) => line.tool === 'denied_tool')?.decision, 'denied');
});
