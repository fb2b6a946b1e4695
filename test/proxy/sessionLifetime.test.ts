/**
 * Clients that never DELETE cannot lock others out: at the cap the least recently used idle
 * session is closed (and its upstream with it); 503 only while every session is busy; idle
 * sessions close after --session-idle.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, cli, spyServer, startHttpCli, tempFolder, waitFor, writePolicy } from './helpers';
import { childPids, initializeMessage, mcpHeaders, rawRequest, rpcError, spyMessages, type RawResponse } from './httpRaw';

interface Proxy {
  url: string;
  token: string;
  pid: number;
  spyLog: string;
}

async function startProxy(t: test.TestContext, command: 'proxy' | 'serve', extra: string[]): Promise<Proxy> {
  const folder = tempFolder(t);
  const data = join(folder, 'data');
  mkdirSync(data);
  const spyLog = join(folder, 'spy.log');
  const upstream = [process.execPath, spyServer, bin('mcp-server-filesystem'), data];
  const args =
    command === 'proxy'
      ? ['proxy', writePolicy(folder, { version: '1', default: 'allow' }), '--port', '0', ...extra, '--', ...upstream]
      : ['serve', writePolicy(folder, { version: '1', default: 'allow', servers: { fs: { upstream: { command: upstream[0]!, args: upstream.slice(1) } } } }), '--port', '0', ...extra];
  const proxy = await startHttpCli(t, args, { SPY_LOG: spyLog });
  return { url: proxy.url, token: proxy.token, pid: proxy.child.pid!, spyLog };
}

async function initialize(proxy: Proxy, id: number): Promise<RawResponse> {
  return rawRequest(proxy.url, { headers: { ...mcpHeaders, authorization: `Bearer ${proxy.token}` }, body: JSON.stringify(initializeMessage(id)) });
}

async function openSession(proxy: Proxy, id: number): Promise<string> {
  const response = await initialize(proxy, id);
  assert.equal(response.status, 200, `initialize ${id}: ${response.body}`);
  const session = response.headers['mcp-session-id'];
  assert.equal(typeof session, 'string');
  return session as string;
}

function ping(proxy: Proxy, session: string, id: number): Promise<RawResponse> {
  return rawRequest(proxy.url, { headers: { ...mcpHeaders, authorization: `Bearer ${proxy.token}`, 'mcp-session-id': session }, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }) });
}

/** Opens the session's GET event stream and keeps it open (the session is busy) until closed. */
async function holdEventStream(proxy: Proxy, session: string): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = request(proxy.url, { method: 'GET', headers: { accept: 'text/event-stream', authorization: `Bearer ${proxy.token}`, 'mcp-session-id': session } }, (res) => {
      assert.equal(res.statusCode, 200);
      res.resume();
      resolve(req);
    });
    req.on('error', () => undefined);
    req.once('error', reject);
    req.end();
  });
}

for (const command of ['proxy', 'serve'] as const) {
  test(`${command}: with a cap of 4, ten clients that never DELETE all get a session; the least recently used idle ones are closed with their upstreams`, async (t) => {
    const proxy = await startProxy(t, command, ['--max-sessions', '4']);
    const sessions: string[] = [];
    for (let index = 1; index <= 10; index++) sessions.push(await openSession(proxy, index));
    assert.equal(new Set(sessions).size, 10);
    await waitFor(() => childPids(proxy.pid).length === 4, 10_000, 'the upstreams of the closed sessions to exit');
    assert.equal(spyMessages(proxy.spyLog).filter((message) => message.method === 'initialize').length, 10, 'every session had its upstream');
    for (const [index, session] of sessions.entries()) {
      const answer = await ping(proxy, session, 100 + index);
      if (index < 6) {
        assert.equal(answer.status, 404, `session ${index + 1} was closed`);
        assert.deepEqual(rpcError(answer), { id: 100 + index, code: -32001, message: 'Session not found' });
      } else {
        assert.equal(answer.status, 200, `session ${index + 1} is open: ${answer.body}`);
        assert.match(answer.body, new RegExp(`"id":${100 + index}`));
      }
    }
  });
}

test('a session a request used recently is kept; the one used least recently makes room', async (t) => {
  const proxy = await startProxy(t, 'proxy', ['--max-sessions', '2']);
  const first = await openSession(proxy, 1);
  const second = await openSession(proxy, 2);
  assert.equal((await ping(proxy, first, 3)).status, 200);
  await openSession(proxy, 4);
  assert.equal((await ping(proxy, second, 5)).status, 404, 'the least recently used session was closed');
  assert.equal((await ping(proxy, first, 6)).status, 200, 'the recently used one is still open');
});

test('503 only while every session is busy: sessions with an open event stream are never closed to make room', async (t) => {
  const proxy = await startProxy(t, 'proxy', ['--max-sessions', '2']);
  const first = await openSession(proxy, 1);
  const second = await openSession(proxy, 2);
  const firstStream = await holdEventStream(proxy, first);
  const secondStream = await holdEventStream(proxy, second);
  const refused = await initialize(proxy, 3);
  assert.equal(refused.status, 503);
  const error = rpcError(refused);
  assert.equal(error.id, 3);
  assert.match(String(error.message), /2 sessions are open and busy/);
  assert.equal((await ping(proxy, first, 4)).status, 200);
  assert.equal((await ping(proxy, second, 5)).status, 200);

  secondStream.destroy();
  // The proxy sees the stream close when the socket does; until then that session is busy.
  const deadline = Date.now() + 10_000;
  let third = await initialize(proxy, 6);
  while (third.status === 503 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    third = await initialize(proxy, 6);
  }
  assert.equal(third.status, 200, third.body);
  assert.equal((await ping(proxy, second, 7)).status, 404, 'the session whose stream closed made room');
  assert.equal((await ping(proxy, first, 8)).status, 200, 'the busy one stays');
  firstStream.destroy();
});

test('--session-idle: a session no request reached for that long is closed, and its upstream exits', async (t) => {
  const proxy = await startProxy(t, 'proxy', ['--session-idle', '0.5']);
  const session = await openSession(proxy, 1);
  assert.equal(childPids(proxy.pid).length, 1);
  await waitFor(() => childPids(proxy.pid).length === 0, 10_000, 'the idle session\'s upstream to exit');
  const answer = await ping(proxy, session, 2);
  assert.equal(answer.status, 404);
  assert.equal(rpcError(answer).id, 2);
});

test('--session-idle and --max-sessions refuse bad values and need --port', (t) => {
  const policy = writePolicy(tempFolder(t), { version: '1', default: 'allow' });
  for (const args of [
    ['proxy', policy, '--port', '0', '--session-idle', '0', '--', 'node'],
    ['proxy', policy, '--port', '0', '--max-sessions', '1.5', '--', 'node'],
    ['serve', policy, '--max-sessions', '0'],
    ['proxy', policy, '--session-idle', '60', '--', 'node'],
  ]) {
    const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /--session-idle|--max-sessions/);
  }
});
