/**
 * The counter stores side by side: what a limited call costs in the engine with the memory,
 * embedded and Redis stores (a real redis-server on loopback, when one is installed).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledPolicy, EmbeddedCounterStore, MemoryCounterStore, PolicyEngine, type CounterStore, type Policy, type ToolCall } from '../core';
import { RedisCounterStore } from '../core/counterStores/redisStore';
import { fixed, summarize, table, thousands } from './stats';

const CALLS = 20_000;

function policy(limited: boolean): Policy {
  const tools: Policy['tools'] = {};
  for (let index = 0; index < 1000; index++) tools[`svc${index}_tool`] = {};
  const result: Policy = { version: '1', default: 'deny', tools };
  // A per-session budget that is never full: every call takes the admit path (append + replay for the embedded store).
  if (limited) result.all_tools = { limits: [{ counter: 'all', window: 'second', max: 1_000_000_000, scope: 'session' }] };
  return result;
}

function callsFor(): ToolCall[] {
  return Array.from({ length: 4096 }, (_, index) => ({ server: 'bench', tool: `svc${(index * 7) % 1000}_tool`, arguments: {}, session: `s${index % 64}`, grant: 'g' }));
}

async function measure(store: CounterStore | undefined, limited: boolean): Promise<{ perSecond: number; p50: number; p99: number }> {
  const engine = new PolicyEngine(new CompiledPolicy(policy(limited)), store ? { counters: store } : {});
  const calls = callsFor();
  for (let index = 0; index < 2000; index++) await engine.evaluate(calls[index & 4095] as ToolCall);
  const samples: number[] = [];
  const started = performance.now();
  for (let index = 0; index < CALLS; index++) {
    const callStarted = performance.now();
    await engine.evaluate(calls[index & 4095] as ToolCall);
    samples.push((performance.now() - callStarted) * 1000);
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = summarize(samples);
  return { perSecond: CALLS / seconds, p50: stats.p50, p99: stats.p99 };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startRedis(): Promise<{ url: string; child: ChildProcess } | undefined> {
  const which = spawnSync('which', ['redis-server'], { encoding: 'utf8' });
  if (which.status !== 0) return undefined;
  const port = await freePort();
  const child = spawn(which.stdout.trim(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no'], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, child };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  return undefined;
}

export async function benchCounters(): Promise<string> {
  const baseline = await measure(undefined, false);
  const rows: Array<Array<string | number>> = [['no limit', thousands(baseline.perSecond), fixed(baseline.p50, 2), fixed(baseline.p99, 2), '', '']];
  const add = (name: string, result: { perSecond: number; p50: number; p99: number }): void => {
    rows.push([name, thousands(result.perSecond), fixed(result.p50, 2), fixed(result.p99, 2), `+${fixed(result.p50 - baseline.p50, 2)}`, `+${fixed(result.p99 - baseline.p99, 2)}`]);
  };
  add('memory', await measure(new MemoryCounterStore(), true));
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-bench-counters-'));
  const embedded = new EmbeddedCounterStore({ folder });
  add('embedded', await measure(embedded, true));
  await embedded.close();
  rmSync(folder, { recursive: true, force: true });
  const redis = await startRedis();
  if (redis) {
    const store = new RedisCounterStore(redis.url);
    add('Redis (loopback)', await measure(store, true));
    await store.close();
    redis.child.kill('SIGKILL');
  } else {
    rows.push(['Redis', 'not measured: no redis-server installed', '', '', '', '']);
  }
  return [
    '### Counter stores: one limited call through the engine',
    '',
    `evaluate() of ${thousands(CALLS)} sequential calls on a 1,000-rule policy with one per-session limit that is never full (every call is admitted and counted); "no limit" is the same policy without the limit. Added = the store's cost per limited call.`,
    '',
    table(['store', 'decisions/s', 'p50 µs', 'p99 µs', 'added p50 µs', 'added p99 µs'], rows),
  ].join('\n');
}
