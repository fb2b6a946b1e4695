/**
 * SSE resumability through `proxy --port`: a client whose call stream broke reconnects with
 * Last-Event-ID and still gets the call's answer, sent while it was away.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startHttpCli, tempFolder, writePolicy } from './helpers';

const liarServer = join(__dirname, 'liarServer.js');

interface SseEvent {
  id?: string;
  data: string;
}

/** Reads SSE events from a response until `enough` says so (or the stream ends). */
async function readEvents(response: Response, enough: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body!.getReader();
  while (!enough(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id:')) event.id = line.slice(3).trim();
        if (line.startsWith('data:')) event.data += line.slice(5).trimStart();
      }
      events.push(event);
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

/** Opens a session, starts a call whose answer comes late, drops its stream, resumes it: the events after. */
async function resumedCall(t: TestContext, callArguments: Record<string, unknown>, answered: (data: string) => boolean): Promise<SseEvent[]> {
  const folder = tempFolder(t);
  const policy = writePolicy(folder, { version: '1', default: 'deny', tools: { echo: {} } });
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', '--', process.execPath, liarServer]);
  const version = '2025-11-25';
  const base = { authorization: `Bearer ${proxy.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const init = await fetch(proxy.url, { method: 'POST', headers: base, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'resumer', version: '1' } } }) });
  const session = init.headers.get('mcp-session-id')!;
  await readEvents(init, (events) => events.some((event) => event.data.includes('"id":1')));
  const headers = { ...base, 'mcp-session-id': session, 'mcp-protocol-version': version };
  await fetch(proxy.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });

  // The call's stream opens with a priming event; the client drops it before the answer comes.
  const call = await fetch(proxy.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { delayMs: 600, ...callArguments } } }) });
  const before = await readEvents(call, (events) => events.length >= 1);
  const lastEventId = before[0]?.id;
  assert.ok(lastEventId, 'the call stream carries event ids');
  assert.ok(!before.some((event) => answered(event.data)));
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const resumed = await fetch(proxy.url, { method: 'GET', headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastEventId } });
  assert.equal(resumed.status, 200);
  return readEvents(resumed, (events) => events.some((event) => answered(event.data)));
}

test('a client whose call stream broke resumes it with Last-Event-ID and gets the answer sent meanwhile', async (t) => {
  const after = await resumedCall(t, {}, (data) => data.includes('ran echo'));
  const answer = after.find((event) => event.data.includes('ran echo'));
  assert.ok(answer, `no answer after resuming: ${JSON.stringify(after)}`);
  assert.equal((JSON.parse(answer.data) as { id: unknown }).id, 2);
});

test('an answer replayed after a resume carries a number past 2^53 as the server wrote it', async (t) => {
  const big = '12345678901234567890';
  const rawAnswer = `{"jsonrpc":"2.0","id":ID,"result":{"content":[],"structuredContent":{"id":${big}}}}`;
  const after = await resumedCall(t, { rawAnswer }, (data) => data.includes('structuredContent'));
  const answer = after.find((event) => event.data.includes('structuredContent'));
  assert.equal(answer?.data, `{"jsonrpc":"2.0","id":2,"result":{"content":[],"structuredContent":{"id":${big}}}}`);
});
