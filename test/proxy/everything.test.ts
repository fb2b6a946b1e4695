/** server-everything through the proxy: everything but tools/call and tools/list passes as it is. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ToolListChangedNotificationSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { bin, connectDirect, connectThroughProxy, killGroup, modes, tempFolder, textOf, waitFor, writePolicy, type Mode } from './helpers';

const policy = { version: '1', default: 'allow', hide: ['get-env'] };

interface Observed {
  listChanged: number;
  logs: number;
}

function answerServerRequests(client: Client, observed: Observed): void {
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled by the test client' } }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///proxy-test-root', name: 'proxy-test-root' }] }));
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    observed.listChanged++;
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, async () => {
    observed.logs++;
  });
}

/**
 * Over Streamable HTTP, server-everything sends its list_changed before any client can have
 * opened the GET stream, and drops it (a direct SDK client misses it too): only the stdio
 * upstream can show it arriving.
 */
async function checkPassthrough(t: TestContext, client: Client, observed: Observed, expectListChanged = true): Promise<void> {
  if (expectListChanged) await waitFor(() => observed.listChanged > 0, 10000, 'notifications/tools/list_changed');
  const names = (await client.listTools()).tools.map((tool) => tool.name);
  assert.ok(names.includes('trigger-sampling-request'), `conditional tools missing after list_changed: ${names.join(', ')}`);
  assert.ok(names.includes('get-roots-list'));
  assert.ok(!names.includes('get-env'), 'hidden get-env is listed');
  const env = await client.callTool({ name: 'get-env', arguments: {} });
  assert.equal(env.isError, true);
  assert.match(textOf(env), /^\[POLICY DENIED\]/);

  const progress: Progress[] = [];
  const long = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } }, undefined, { onprogress: (update) => progress.push(update) });
  assert.match(textOf(long), /Long running operation completed/);
  // The SDK client handles notifications a microtask later than responses: when the last
  // progress and the result arrive in one read, it drops that progress (directly too).
  const seen = progress.map((update) => [update.progress, update.total]);
  assert.ok(seen.length >= 2, `progress notifications missing: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen, [[1, 3], [2, 3], [3, 3]].slice(0, seen.length));

  const sampled = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hello', maxTokens: 5 } });
  assert.match(textOf(sampled), /sampled by the test client/);
  const roots = await client.callTool({ name: 'get-roots-list', arguments: {} });
  assert.match(textOf(roots), /proxy-test-root/);

  await client.ping();
  assert.ok((await client.listPrompts()).prompts.length > 0);
  assert.ok((await client.listResources()).resources.length > 0);
  await client.setLoggingLevel('debug');
  await client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
  await waitFor(() => observed.logs > 0, 10000, 'a logging notification');
  void t;
}

for (const mode of modes) {
  describe(`server-everything through proxy over ${mode}`, () => {
    test('echo is identical to the direct call; list_changed, progress, sampling, roots, logging pass through', async (t) => {
      const folder = tempFolder(t);
      const observed: Observed = { listChanged: 0, logs: 0 };
      const proxied = await connectThroughProxy(t, mode, {
        policy: writePolicy(folder, policy),
        upstream: [bin('mcp-server-everything')],
        capabilities: { sampling: {}, roots: { listChanged: true } },
        prepare: (client) => answerServerRequests(client, observed),
      });
      const direct = await connectDirect(t, [bin('mcp-server-everything')]);
      const args = { message: 'through the proxy ✓ "quoted" \\ back' };
      assert.deepEqual(await proxied.client.callTool({ name: 'echo', arguments: args }), await direct.callTool({ name: 'echo', arguments: args }));
      await checkPassthrough(t, proxied.client, observed);
    });
  });
}

async function startEverythingHttp(t: TestContext): Promise<string> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(bin('mcp-server-everything'), ['streamableHttp'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: String(port) } });
  t.after(() => killGroup(child));
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await waitFor(() => /listening|running/i.test(text), 10000, `server-everything streamableHttp to listen (${text})`);
  return `http://127.0.0.1:${port}/mcp`;
}

describe('server-everything over Streamable HTTP as the upstream', () => {
  for (const mode of ['stdio', 'http'] as Mode[]) {
    test(`proxy over ${mode} with --url relays the same traffic`, async (t) => {
      const url = await startEverythingHttp(t);
      const folder = tempFolder(t);
      const observed: Observed = { listChanged: 0, logs: 0 };
      const proxied = await connectThroughProxy(t, mode, {
        policy: writePolicy(folder, policy),
        args: ['--url', url],
        capabilities: { sampling: {}, roots: { listChanged: true } },
        prepare: (client) => answerServerRequests(client, observed),
      });
      const echoed = await proxied.client.callTool({ name: 'echo', arguments: { message: 'over http' } });
      assert.equal(textOf(echoed), 'Echo: over http');
      await checkPassthrough(t, proxied.client, observed, false);
    });
  }
});
