/**
 * Budgets in Redis shared by several proxies (standing in for several machines): a real
 * redis-server, real CLIs over stdio and HTTP, the demo CRM server as the upstream whose
 * call log proves what got through.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import Redis from 'ioredis';
import { connectThroughProxy, repoRoot, tempFolder, waitFor, writePolicy, type Connected, type Mode } from './helpers';
import { startRedis } from './redisServer';

const demoServer = join(repoRoot, 'dist', 'demo-crm-server.js');

function received(logFile: string): number {
  if (!existsSync(logFile)) return 0;
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0).length;
}

function setup(t: TestContext, url: string, max: number): { policy: string; logFile: string } {
  const folder = tempFolder(t);
  const policy = writePolicy(folder, {
    version: '1',
    default: 'deny',
    counters: url,
    tools: { fluentcrm_dashboard_stats: { limits: [{ counter: 'stats', window: 'minute', max, scope: 'global' }] } },
  });
  return { policy, logFile: join(folder, 'crm-calls.jsonl') };
}

function proxy(t: TestContext, mode: Mode, policy: string, logFile: string): Promise<Connected> {
  return connectThroughProxy(t, mode, { policy, upstream: [process.execPath, demoServer], env: { DEMO_CRM_LOG: logFile } });
}

function calls(connected: Connected, count: number): Promise<CallToolResult[]> {
  return Promise.all(Array.from({ length: count }, () => connected.client.callTool({ name: 'fluentcrm_dashboard_stats', arguments: {} }, undefined, { timeout: 60_000 }) as Promise<CallToolResult>));
}

async function admittedAgain(connected: Connected): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await calls(connected, 1))[0]?.isError === true) {
    if (Date.now() > deadline) throw new Error('not admitted again after Redis came back');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function text(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === 'text' ? first.text : '';
}

test('Redis: 4 proxies (2 stdio, 2 HTTP) × 250 concurrent calls on a global limit of 100: exactly 100 reach the upstream', async (t) => {
  const redis = await startRedis(t);
  const { policy, logFile } = setup(t, redis.url, 100);
  const proxies = await Promise.all((['stdio', 'stdio', 'http', 'http'] as Mode[]).map((mode) => proxy(t, mode, policy, logFile)));
  const results = (await Promise.all(proxies.map((connected) => calls(connected, 250)))).flat();
  assert.equal(results.length, 1000);
  assert.equal(results.filter((result) => result.isError !== true).length, 100);
  for (const result of results.filter((result) => result.isError === true)) assert.match(text(result), /\[POLICY RATE LIMITED\].*counter stats: 100 per minute reached/);
  assert.equal(received(logFile), 100, 'exactly max reached the upstream');
  // The budget is one sorted set that expires by itself a window after its newest admission.
  const redisClient = new Redis(redis.url);
  t.after(() => redisClient.disconnect());
  const keys = await redisClient.keys('mcp-policy:counter:*');
  assert.deepEqual(keys, ['mcp-policy:counter:["global","","stats"]']);
  assert.equal(await redisClient.zcard(keys[0]!), 100);
  const ttl = await redisClient.pttl(keys[0]!);
  assert.ok(ttl > 0 && ttl <= 60_000, `expires in ${ttl} ms`);
});

test('Redis down mid-run: calls are refused with the reason and stderr says so; back up: admitted again, nothing over max', async (t) => {
  const redis = await startRedis(t);
  const { policy, logFile } = setup(t, redis.url, 30);
  const [stdio, http] = await Promise.all([proxy(t, 'stdio', policy, logFile), proxy(t, 'http', policy, logFile)]);
  const before = [...(await calls(stdio!, 10)), ...(await calls(http!, 10))];
  assert.equal(before.filter((result) => result.isError !== true).length, 20);

  await redis.kill();
  const during = [...(await calls(stdio!, 5)), ...(await calls(http!, 5))];
  assert.equal(during.filter((result) => result.isError === true).length, 10, 'every call needing the budget is refused');
  for (const result of during) assert.match(text(result), /^\[POLICY DENIED\] fluentcrm_dashboard_stats: the counter store redis:\/\/127\.0\.0\.1:\d+ cannot be reached.*refused while it is down/);
  for (const connected of [stdio!, http!]) await waitFor(() => /counter store down:/.test(connected.stderr()), 5000, 'the proxy reports the store down');
  assert.equal(received(logFile), 20);

  await redis.start();
  // The proxies reconnect by themselves; a refused call consumes nothing, so probing is free.
  await admittedAgain(stdio!);
  await admittedAgain(http!);
  const after = [...(await calls(stdio!, 10)), ...(await calls(http!, 10))];
  assert.equal(after.filter((result) => result.isError !== true).length, 8, 'the budget kept its 22 admissions through the restart: 8 left of 30');
  assert.equal(received(logFile), 30, 'nothing over max');
  for (const connected of [stdio!, http!]) await waitFor(() => /counter store back:/.test(connected.stderr()), 5000, 'the proxy reports the store back');
});
