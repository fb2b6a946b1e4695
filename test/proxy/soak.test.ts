/**
 * A bounded soak (about 40 s): 16 clients over HTTP and 4 over stdio, with the SDK's real
 * client, make calls, run several at once, cancel, crash without a DELETE and reconnect.
 * Afterwards every call got exactly one answer (none timed out, none came twice but where it
 * crossed the client's own cancellation), the
 * abandoned sessions are gone with their upstreams, and the proxy, run with a 40 MB heap, does
 * not grow from one round to the next.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { cli, startHttpCli, tempFolder, waitFor, writePolicy } from './helpers';
import { childPids } from './httpRaw';

/** Two rounds of this: memory that a leak holds grows with each round, memory V8 keeps does not. */
const ROUND_MS = 20_000;
const HTTP_CLIENTS = 16;
const STDIO_CLIENTS = 4;
const liarServer = join(__dirname, 'liarServer.js');

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0);
}

interface Tally {
  calls: number;
  answered: number;
  cancelled: number;
  /** Anything else a call ended with: a timeout, an error the client did not cause. */
  failures: string[];
  /** Answers to requests the client no longer (or never) had in flight: only a cancelled call's may cross its cancellation. */
  strayAnswers: number;
  sessions: number;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
}

async function session(transport: Transport, tally: Tally, next: () => number): Promise<Client> {
  const client = new Client({ name: 'soak', version: '1' }, { capabilities: {} });
  client.onerror = (error) => {
    if (/unknown message ID|Received a response for an unknown/i.test(error.message)) tally.strayAnswers++;
  };
  await client.connect(transport);
  tally.sessions++;
  const rounds = 3 + Math.floor(next() * 10);
  for (let round = 0; round < rounds; round++) {
    const roll = next();
    const call = (delayMs: number, signal?: AbortSignal): Promise<void> => {
      tally.calls++;
      return client
        .callTool({ name: 'echo', arguments: { delayMs } }, undefined, { timeout: 15_000, ...(signal ? { signal } : {}) })
        .then((result) => {
          if (JSON.stringify(result).includes('ran echo')) tally.answered++;
          else tally.failures.push(JSON.stringify(result).slice(0, 200));
        })
        .catch((error: Error) => {
          if (signal?.aborted) tally.cancelled++;
          else tally.failures.push(error.message);
        });
    };
    if (roll < 0.6) await call(Math.floor(next() * 30));
    else if (roll < 0.8) await Promise.all(Array.from({ length: 5 }, () => call(Math.floor(next() * 30))));
    else {
      const controller = new AbortController();
      const pending = call(300, controller.signal);
      setTimeout(() => controller.abort(), 20);
      await pending;
    }
  }
  return client;
}

test('soak: 20 clients calling, cancelling, crashing and reconnecting; every call answered once, nothing left behind', { timeout: 2 * ROUND_MS + 90_000 }, async (t) => {
  const folder = tempFolder(t);
  const policy = writePolicy(folder, { version: '1', default: 'deny', tools: { echo: {} } });
  // A small heap: a proxy that kept what each session or call left behind would run out of it.
  const http = await startHttpCli(t, ['proxy', policy, '--port', '0', '--session-idle', '3', '--audit', join(folder, 'audit.jsonl'), '--', process.execPath, liarServer], { NODE_OPTIONS: '--max-old-space-size=40' });
  const proxyPid = http.child.pid!;
  const tally: Tally = { calls: 0, answered: 0, cancelled: 0, failures: [], strayAnswers: 0, sessions: 0 };
  const headers = { Authorization: `Bearer ${http.token}` };

  // Warm up, so the starting figure is a running proxy's, not a fresh process's.
  const warm = await session(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers } }), tally, seeded(99));
  await warm.close();
  const rss = [rssKiB(proxyPid)];

  const httpWorker = async (seed: number, deadline: number): Promise<void> => {
    const next = seeded(seed);
    while (Date.now() < deadline) {
      const transport = new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers } });
      const client = await session(transport, tally, next);
      // Half end cleanly with a DELETE; the others just vanish, as a crashed client does.
      if (next() < 0.5) await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
  };
  const stdioWorker = async (seed: number, deadline: number): Promise<void> => {
    const next = seeded(seed);
    while (Date.now() < deadline) {
      const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'proxy', policy, '--', process.execPath, liarServer], stderr: 'ignore', env: { ...(process.env as Record<string, string>), HOME: folder } });
      const client = await session(transport, tally, next);
      if (next() < 0.5 && transport.pid) process.kill(transport.pid, 'SIGKILL');
      await client.close();
    }
  };
  for (const round of [1, 2]) {
    const deadline = Date.now() + ROUND_MS;
    await Promise.all([
      ...Array.from({ length: HTTP_CLIENTS }, (_, i) => httpWorker(round * 1000 + i, deadline)),
      ...Array.from({ length: STDIO_CLIENTS }, (_, i) => stdioWorker(round * 1000 + 100 + i, deadline)),
    ]);
    // Sessions abandoned without a DELETE close after the idle time, and their upstreams with them.
    await waitFor(() => childPids(proxyPid).length === 0, 15_000, 'every upstream of the HTTP proxy to exit');
    rss.push(rssKiB(proxyPid));
  }

  assert.deepEqual(tally.failures.slice(0, 5), [], `${tally.failures.length} calls failed`);
  // An answer that crossed the client's cancellation on the wire is the only answer a client may get unasked.
  assert.ok(tally.strayAnswers <= tally.cancelled, `${tally.strayAnswers} answers came unasked, ${tally.cancelled} calls were cancelled`);
  assert.equal(tally.answered + tally.cancelled, tally.calls);
  assert.ok(tally.sessions > 40 && tally.answered > 500, `too little traffic to mean much: ${JSON.stringify(tally)}`);
  t.diagnostic(`${JSON.stringify(tally)}; proxy RSS ${rss.join(' → ')} KiB`);
  const [, afterFirst, afterSecond] = rss as [number, number, number];
  assert.ok(afterSecond - afterFirst < 32 * 1024, `the proxy kept growing: RSS ${rss.join(' → ')} KiB over two equal rounds`);
});
