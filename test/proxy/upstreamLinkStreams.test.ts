/**
 * UpstreamLink over Streamable HTTP says which request's stream a server message came on, so
 * the relay can keep progress and requests of a call on that call's stream downstream.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UpstreamLink } from '../../proxy/upstreamLink';
import type { JSONRPCMessage, RequestId } from '../../proxy/jsonRpc';
import { tempFolder, waitFor } from './helpers';
import { startEverythingHttp } from './httpUpstream';

interface Received {
  message: Record<string, unknown>;
  related: RequestId | undefined;
}

test('over HTTP, messages of a call carry its id as relatedRequestId; messages of the GET stream carry none', async (t) => {
  const server = await startEverythingHttp(t);
  const received: Received[] = [];
  const failures: string[] = [];
  const link = new UpstreamLink({
    server: 'everything',
    upstream: { url: server.url },
    defaultCwd: tempFolder(t),
    onmessage: (message, related) => received.push({ message: message as unknown as Record<string, unknown>, related }),
    onfailure: (reason) => failures.push(reason),
  });
  t.after(() => link.close());
  const send = (message: Record<string, unknown>): Promise<void> => link.send({ jsonrpc: '2.0', ...message } as JSONRPCMessage);
  const answerTo = async (id: RequestId): Promise<Received> => {
    await waitFor(() => received.some((item) => item.message.id === id && item.message.method === undefined), 15000, `the answer to ${id}`);
    return received.find((item) => item.message.id === id && item.message.method === undefined)!;
  };

  const capabilities = { sampling: {}, roots: {} };
  await send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'link-test', version: '1' } } });
  const initialized = await answerTo(1);
  link.setProtocolVersion((initialized.message.result as { protocolVersion: string }).protocolVersion);
  await send({ method: 'notifications/initialized' });

  await send({ id: 2, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 }, _meta: { progressToken: 'tok' } } });
  await answerTo(2);
  const progress = received.filter((item) => item.message.method === 'notifications/progress');
  assert.equal(progress.length, 3);
  assert.deepEqual(progress.map((item) => item.related), [2, 2, 2]);

  await send({ id: 3, method: 'tools/call', params: { name: 'trigger-sampling-request', arguments: { prompt: 'hi' } } });
  await waitFor(() => received.some((item) => item.message.method === 'sampling/createMessage'), 15000, 'the sampling request');
  const sampling = received.find((item) => item.message.method === 'sampling/createMessage')!;
  assert.equal(sampling.related, 3);
  await send({ id: sampling.message.id, result: { model: 'm', role: 'assistant', content: { type: 'text', text: 'sampled' } } });
  await answerTo(3);

  // server-everything asks for the roots on its GET stream, related to no request.
  await waitFor(() => received.some((item) => item.message.method === 'roots/list'), 15000, 'the roots request');
  assert.equal(received.find((item) => item.message.method === 'roots/list')!.related, undefined);
  assert.deepEqual(failures, []);
});
