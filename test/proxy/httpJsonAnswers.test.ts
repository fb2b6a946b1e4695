/**
 * How `proxy --port` answers a POST that carries one request: as one `application/json` body
 * when the answer is the only message for it, as an SSE stream (the other messages first, in
 * order, then the answer) when the server sends anything else for that request before answering.
 * Through the real CLI, with the SDK's own client, against a server that sends a progress
 * notification before the answer of a call that asked for progress.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { newClient, startHttpCli, tempFolder, textOf, writePolicy } from './helpers';

const liarServer = join(__dirname, 'liarServer.js');

interface Answered {
  request: string;
  status: number;
  contentType: string;
  body: string;
}

/** A fetch for the SDK client that keeps what came back to each POST. */
function recordingFetch(answers: Answered[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (init?.method === 'POST') {
      const entry: Answered = { request: String(init.body ?? ''), status: response.status, contentType: response.headers.get('content-type') ?? '', body: '' };
      answers.push(entry);
      void response
        .clone()
        .text()
        .then((text) => (entry.body = text))
        .catch(() => undefined);
    }
    return response;
  };
}

test('a call answered at once comes back as JSON; a call the server reports progress on comes back as SSE, progress first', async (t) => {
  const policy = writePolicy(tempFolder(t), { version: '1', default: 'allow' });
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', '--', process.execPath, liarServer]);
  const answers: Answered[] = [];
  const client = newClient();
  await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { Authorization: `Bearer ${proxy.token}` } }, fetch: recordingFetch(answers) }));
  t.after(() => client.close());
  // Whatever the server sent before the client listened rides on the first request's stream.
  await client.listTools();

  const plain = await client.callTool({ name: 'echo', arguments: { say: 'plain' } });
  assert.equal(textOf(plain), 'ran echo');
  const plainPost = answers.find((answer) => answer.request.includes('"plain"'));
  assert.ok(plainPost, 'the call was posted');
  assert.equal(plainPost.status, 200);
  assert.match(plainPost.contentType, /^application\/json/);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal((JSON.parse(plainPost.body) as { id?: unknown; result?: unknown }).result !== undefined, true, `one JSON-RPC answer: ${plainPost.body}`);

  const reported = await client.callTool({ name: 'echo', arguments: { say: 'reported' } }, undefined, { onprogress: () => undefined });
  assert.equal(textOf(reported), 'ran echo');
  const reportedPost = answers.find((answer) => answer.request.includes('"reported"'));
  assert.ok(reportedPost, 'the call was posted');
  assert.match(reportedPost.contentType, /^text\/event-stream/);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const data = reportedPost.body
    .split('\n')
    .filter((line) => line.startsWith('data:') && line.length > 'data: '.length)
    .map((line) => JSON.parse(line.slice(5)) as { method?: string; result?: unknown });
  assert.deepEqual(
    data.map((message) => message.method ?? (message.result !== undefined ? 'answer' : 'other')),
    ['notifications/progress', 'answer'],
    `the stream carried: ${reportedPost.body}`,
  );
});
