/**
 * Initialize POSTs the SDK refuses (wrong Accept, wrong content type, an initialize inside a
 * batch) hold no session place and start no upstream: after 100 of them a client still connects.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { bin, connectHttp, spyServer, startHttpCli, tempFolder, waitFor, writePolicy, type HttpProxy } from './helpers';
import { childPids, initializeMessage, mcpHeaders, rawRequest, rpcError, spyMessages } from './httpRaw';

interface Setup {
  proxy: HttpProxy;
  spyLog: string;
}

function upstreamCommand(folder: string): string[] {
  const data = join(folder, 'data');
  mkdirSync(data);
  return [process.execPath, spyServer, bin('mcp-server-filesystem'), data];
}

async function startProxy(t: test.TestContext, command: 'proxy' | 'serve'): Promise<Setup> {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'spy.log');
  const upstream = upstreamCommand(folder);
  if (command === 'proxy') {
    const policy = writePolicy(folder, { version: '1', default: 'allow' });
    return { proxy: await startHttpCli(t, ['proxy', policy, '--port', '0', '--', ...upstream], { SPY_LOG: spyLog }), spyLog };
  }
  const policy = writePolicy(folder, { version: '1', default: 'allow', servers: { fs: { upstream: { command: upstream[0]!, args: upstream.slice(1) } } } });
  return { proxy: await startHttpCli(t, ['serve', policy, '--port', '0'], { SPY_LOG: spyLog }), spyLog };
}

/** The three ways an initialize passes the listener's own checks and is then refused by the SDK. */
function badInitialize(index: number, token: string): { headers: Record<string, string>; body: string; status: number } {
  const auth = { authorization: `Bearer ${token}` };
  const body = JSON.stringify(initializeMessage(index));
  switch (index % 3) {
    case 0:
      return { headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' }, body, status: 406 };
    case 1:
      return { headers: { ...auth, 'content-type': 'text/plain', accept: mcpHeaders.accept }, body, status: 415 };
    default:
      return { headers: { ...auth, ...mcpHeaders }, body: JSON.stringify([initializeMessage(index), { jsonrpc: '2.0', id: `p${index}`, method: 'ping' }]), status: 400 };
  }
}

for (const command of ['proxy', 'serve'] as const) {
  test(`${command}: 100 initialize POSTs the SDK refuses take no session place and start no upstream`, async (t) => {
    const { proxy, spyLog } = await startProxy(t, command);
    const pid = proxy.child.pid!;
    for (let index = 0; index < 100; index++) {
      const attempt = badInitialize(index, proxy.token);
      const response = await rawRequest(proxy.url, { headers: attempt.headers, body: attempt.body });
      assert.equal(response.status, attempt.status, `attempt ${index}: ${response.body}`);
      rpcError(response);
    }
    assert.deepEqual(childPids(pid), [], 'no upstream was started for a refused initialize');
    assert.equal(spyMessages(spyLog).length, 0, 'no upstream received anything');

    const client = await connectHttp(t, proxy.url, proxy.token);
    const tools = await client.listTools();
    assert.ok(tools.tools.some((tool) => tool.name === 'read_file'), 'the good client reaches the upstream');
    assert.equal(childPids(pid).length, 1, 'exactly one upstream: the good client\'s');
    const initializes = spyMessages(spyLog).filter((message) => message.method === 'initialize');
    assert.equal(initializes.length, 1, 'only the accepted initialize reached an upstream');
    await (client.transport as StreamableHTTPClientTransport).terminateSession();
    await waitFor(() => childPids(pid).length === 0, 10_000, 'the upstream of the deleted session to stop');
  });
}
