/**
 * DNS rebinding: a page whose name now resolves to 127.0.0.1 sends its own name as Host. The
 * listener answers loopback names only, or the address `--host` names.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { allowedHostNames } from '../../proxy/hostNames';
import { bin, connectHttp, spyServer, startHttpCli, tempFolder, writePolicy } from './helpers';
import { childPids, initializeMessage, mcpHeaders, rawRequest, rpcError, spyMessages } from './httpRaw';

async function startProxy(t: test.TestContext, extra: string[]): Promise<{ url: string; port: string; token: string; pid: number; spyLog: string }> {
  const folder = tempFolder(t);
  const data = join(folder, 'data');
  mkdirSync(data);
  const spyLog = join(folder, 'spy.log');
  const policy = writePolicy(folder, { version: '1', default: 'allow' });
  const proxy = await startHttpCli(t, ['proxy', policy, '--port', '0', ...extra, '--', process.execPath, spyServer, bin('mcp-server-filesystem'), data], { SPY_LOG: spyLog });
  return { url: proxy.url, port: new URL(proxy.url).port, token: proxy.token, pid: proxy.child.pid!, spyLog };
}

function initializeWithHost(url: string, token: string, host: string): ReturnType<typeof rawRequest> {
  return rawRequest(url, { headers: { ...mcpHeaders, authorization: `Bearer ${token}`, host }, body: JSON.stringify(initializeMessage(7)) });
}

test('a loopback listener refuses a foreign Host, even with the right token, and nothing reaches the upstream', async (t) => {
  const { url, port, token, pid, spyLog } = await startProxy(t, []);
  for (const host of [`evil.example:${port}`, 'evil.example', `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `user@127.0.0.1:${port}`]) {
    const refused = await initializeWithHost(url, token, host);
    assert.equal(refused.status, 403, `Host "${host}": ${refused.body}`);
    assert.match(String(rpcError(refused).message), /Host .* not allowed/);
  }
  assert.deepEqual(childPids(pid), [], 'no upstream was started');
  assert.equal(spyMessages(spyLog).length, 0, 'the upstream received nothing');
});

test('a loopback listener answers localhost, 127.0.0.1 and [::1] on any port', async (t) => {
  const { url, port, token } = await startProxy(t, []);
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', '127.0.0.1:1']) {
    const accepted = await initializeWithHost(url, token, host);
    assert.equal(accepted.status, 200, `Host "${host}": ${accepted.body}`);
    assert.ok(accepted.headers['mcp-session-id']);
  }
  // An SDK client that names the listener "localhost" gets through.
  const client = await connectHttp(t, url.replace('127.0.0.1', 'localhost'), token);
  assert.ok((await client.listTools()).tools.length > 0);
});

test('--host names another address: that address is answered too, other names are not', async (t) => {
  const { url, port, token } = await startProxy(t, ['--host', '127.0.0.2']);
  assert.match(url, /^http:\/\/127\.0\.0\.2:/);
  assert.equal((await initializeWithHost(url, token, `127.0.0.2:${port}`)).status, 200);
  assert.equal((await initializeWithHost(url, token, `localhost:${port}`)).status, 200);
  assert.equal((await initializeWithHost(url, token, `127.0.0.3:${port}`)).status, 403);
  assert.equal((await initializeWithHost(url, token, `evil.example:${port}`)).status, 403);
});

test('a listener bound to every interface answers this machine\'s addresses and name', () => {
  const names = allowedHostNames('0.0.0.0');
  assert.ok(names.has(hostname().toLowerCase()));
  assert.ok(names.has('127.0.0.1') && names.has('localhost') && names.has('[::1]'));
  assert.ok(!names.has('evil.example'));
  assert.deepEqual([...allowedHostNames('::1')].sort(), ['127.0.0.1', '[::1]', 'localhost']);
  assert.ok(allowedHostNames('192.168.7.9').has('192.168.7.9'));
  assert.ok(allowedHostNames('fd00::7').has('[fd00::7]'));
});
