/**
 * The relay's own Streamable HTTP client (proxy/httpUpstream.ts): a server that ends a call's
 * response stream before the answer (as servers that poll do) gets a GET with Last-Event-ID,
 * and the answer it sends there reaches the relay as the call's answer.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { UpstreamLink } from '../../proxy/upstreamLink';
import type { JSONRPCMessage, RequestId } from '../../proxy/jsonRpc';
import { tempFolder, waitFor } from './helpers';

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => resolve(text));
  });
}

test('a call whose response stream the server ends before the answer is resumed with Last-Event-ID', async (t) => {
  const resumedWith: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET') {
        const lastEventId = req.headers['last-event-id'] as string | undefined;
        if (lastEventId === undefined) return void res.writeHead(405).end(); // no standalone stream
        resumedWith.push(lastEventId);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`id: e2\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'late answer' }] } })}\n\n`);
        return;
      }
      const message = JSON.parse(await bodyOf(req)) as { id?: RequestId; method?: string };
      if (message.id === undefined) return void res.writeHead(202, { 'mcp-session-id': 's1' }).end();
      if (message.method === 'initialize') {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'poller', version: '1' } } }));
        return;
      }
      // A progress notice with an event id, then the stream ends without the answer.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`id: e1\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1 } })}\n\n`);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const received: Array<{ message: Record<string, unknown>; related: RequestId | undefined }> = [];
  const failures: string[] = [];
  const link = new UpstreamLink({
    server: 'poller',
    upstream: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp` },
    defaultCwd: tempFolder(t),
    onmessage: (message, related) => received.push({ message: message as unknown as Record<string, unknown>, related }),
    onfailure: (reason) => failures.push(reason),
  });
  t.after(() => link.close());
  const send = (message: Record<string, unknown>): Promise<void> => link.send({ jsonrpc: '2.0', ...message } as JSONRPCMessage);

  await send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  await waitFor(() => received.some((item) => item.message.id === 1), 10000, 'the initialize answer');
  await send({ method: 'notifications/initialized' });
  await send({ id: 7, method: 'tools/call', params: { name: 'slow', arguments: {}, _meta: { progressToken: 'p' } } });
  await waitFor(() => received.some((item) => item.message.id === 7 && item.message.method === undefined), 10000, 'the answer on the resumed stream');

  assert.deepEqual(resumedWith, ['e1']);
  const progress = received.find((item) => item.message.method === 'notifications/progress');
  assert.equal(progress?.related, 7, 'the progress notice belongs to the call');
  const answer = received.find((item) => item.message.id === 7)!;
  assert.deepEqual((answer.message.result as { content: unknown }).content, [{ type: 'text', text: 'late answer' }]);
  assert.deepEqual(failures, []);
});
