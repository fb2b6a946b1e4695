import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { abortIsolatingFetch } from '../../proxy/abortIsolatingFetch';

let server: Server;
let url: string;

before(async () => {
  server = createServer((request, response) => {
    if (request.url === '/stream') {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: first\n\n');
      return; // never ends: only an abort ends it
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

test('many requests on one shared signal leave no listener behind once their bodies are read', async () => {
  const shared = new AbortController();
  const isolated = abortIsolatingFetch();
  for (let index = 0; index < 300; index++) {
    const response = await isolated(`${url}/json`, { signal: shared.signal });
    assert.deepEqual(await response.json(), { ok: true });
  }
  assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
  // Plain fetch with the same shared signal keeps a listener per request until GC: what this fixes.
  for (let index = 0; index < 20; index++) await (await fetch(`${url}/json`, { signal: shared.signal })).json();
  assert.ok(getEventListeners(shared.signal, 'abort').length > 0);
});

test('aborting the shared signal still cancels a body being streamed', async () => {
  const shared = new AbortController();
  const response = await abortIsolatingFetch()(`${url}/stream`, { signal: shared.signal });
  const reader = response.body!.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /first/);
  assert.equal(getEventListeners(shared.signal, 'abort').length, 1, 'bridged while the body is open');
  shared.abort();
  await assert.rejects(reader.read());
  assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
});
