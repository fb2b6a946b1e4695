import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { EmbeddedCounterStore, ManualClock, PolicyEngine, type LimitCheck } from '../../core';
import { compile, mulberry32 } from './helpers';

function folder(t: TestContext): string {
  const path = mkdtempSync(join(tmpdir(), 'mcp-policy-counters-'));
  t.after(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

const minute = (key: string, max: number): LimitCheck => ({ key, windowMs: 60_000, max });

test('embedded store: two processes\' stores on one folder share one budget, and a reopened store keeps it', async (t) => {
  const dir = folder(t);
  const a = new EmbeddedCounterStore({ folder: dir });
  const b = new EmbeddedCounterStore({ folder: dir });
  const now = Date.now();
  const outcomes = [];
  for (let index = 0; index < 10; index++) outcomes.push((index % 2 ? a : b).reserve(now + index, [minute('k', 6)]).outcome);
  assert.deepEqual(outcomes.filter((outcome) => outcome === 'admitted').length, 6);
  await a.close();
  await b.close();
  const restarted = new EmbeddedCounterStore({ folder: dir });
  const again = restarted.reserve(now + 20, [minute('k', 6)]);
  assert.equal(again.outcome, 'limited');
  assert.equal(again.outcome === 'limited' ? again.retryAfterMs : 0, 60_000 - 20);
  assert.equal(restarted.reserve(now + 60_001, [minute('k', 6)]).outcome, 'admitted', 'the window slid past the first admission');
  await restarted.close();
});

test('embedded store: all budgets of a call or none; a release gives the units back to every process', async (t) => {
  const dir = folder(t);
  const a = new EmbeddedCounterStore({ folder: dir });
  const b = new EmbeddedCounterStore({ folder: dir });
  const now = Date.now();
  assert.equal(a.reserve(now, [minute('wide', 5), minute('narrow', 1)]).outcome, 'admitted');
  const blocked = b.reserve(now, [minute('wide', 5), minute('narrow', 1)]);
  assert.equal(blocked.outcome, 'limited');
  assert.equal(blocked.outcome === 'limited' ? blocked.blockedIndex : -1, 1);
  assert.equal(b.inWindow('wide', now, 60_000), 1, 'the refused call consumed nothing in the budget that had room');
  const held = b.reserve(now, [minute('wide', 5)]);
  assert.equal(held.outcome, 'admitted');
  assert.equal(a.inWindow('wide', now, 60_000), 2);
  if (held.outcome === 'admitted') held.reservation.release();
  assert.equal(a.inWindow('wide', now, 60_000), 1, 'a sees b\'s release');
  await a.close();
  await b.close();
});

test('embedded store: compaction rolls over to new generations without losing an admission', async (t) => {
  const dir = folder(t);
  const a = new EmbeddedCounterStore({ folder: dir, compactBytes: 2048 });
  const b = new EmbeddedCounterStore({ folder: dir, compactBytes: 2048 });
  const start = Date.now();
  let admitted = 0;
  for (let index = 0; index < 600; index++) {
    const store = index % 3 === 0 ? b : a;
    // 1,000 ms windows over 6 s of store time: the budget slides across many generations.
    if (store.reserve(start + index * 10, [{ key: 'slide', windowMs: 1000, max: 7 }, minute(`noise${index % 40}`, 1000)]).outcome === 'admitted') admitted++;
  }
  assert.ok((a.generation ?? 0) > 5, `rolled over ${a.generation} times`);
  assert.equal(admitted, 7 * 6, 'exactly max per window, window after window');
  const files = readdirSync(dir).filter((name) => name.endsWith('.log'));
  const live = files.filter((name) => statSync(join(dir, name)).size > 40);
  assert.ok(live.length <= 2, `old generations are retired to tombstones: ${live.join(', ')}`);
  await a.close();
  await b.close();
});

test('embedded store: a torn line from a killed writer is skipped, and the budget still counts', async (t) => {
  const dir = folder(t);
  const a = new EmbeddedCounterStore({ folder: dir });
  const now = Date.now();
  assert.equal(a.reserve(now, [minute('k', 2)]).outcome, 'admitted');
  const log = readdirSync(dir).find((name) => name.endsWith('.log'))!;
  appendFileSync(join(dir, log), '\n{"c":"killed-mid-wri');
  const b = new EmbeddedCounterStore({ folder: dir });
  assert.equal(b.reserve(now, [minute('k', 2)]).outcome, 'admitted');
  assert.equal(a.reserve(now, [minute('k', 2)]).outcome, 'limited');
  await a.close();
  await b.close();
});

test('embedded store unreachable: a call that needs a limit is refused with the reason, unless the policy allows it', async (t) => {
  const dir = folder(t);
  const notAFolder = join(dir, 'file');
  writeFileSync(notAFolder, 'x');
  const store = new EmbeddedCounterStore({ folder: notAFolder });
  const health: boolean[] = [];
  store.onHealth((state) => health.push(state.up));
  const policy = { default: 'deny' as const, tools: { t: { limits: [{ counter: 'c', window: 'minute' as const, max: 5 }] }, free: {} } };
  const engine = new PolicyEngine(compile(policy), { clock: new ManualClock(), counters: store });
  const refused = await engine.decide({ server: 's', tool: 't' });
  assert.equal(refused.decision, 'denied');
  assert.match(refused.reason, /cannot use the counter store in .*file.*refused while it is down/);
  assert.equal(refused.counter, 'c');
  assert.equal((await engine.decide({ server: 's', tool: 'free' })).decision, 'allowed', 'calls without limits do not need the store');
  const lenient = new PolicyEngine(compile({ ...policy, counters: { when_unreachable: 'allow' } }), { counters: store });
  const allowed = await lenient.decide({ server: 's', tool: 't' });
  assert.equal(allowed.decision, 'allowed');
  assert.match(allowed.reason, /uncounted/);
  assert.deepEqual(health, [false]);
});

interface WorkerLine {
  keys: string[];
  at: number | null;
}

function runWorker(dir: string, compactBytes: number, seed: number, count: number, startAt: number, keys: LimitCheck[], killAfter?: number): Promise<WorkerLine[]> {
  const dieAt = killAfter === undefined ? [] : [String(Math.min(count - 1, killAfter + 30))];
  const child = spawn(process.execPath, [join(__dirname, 'counterWorker.js'), dir, String(compactBytes), String(seed), String(count), String(startAt), JSON.stringify(keys), ...dieAt], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let text = '';
    let stderr = '';
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      lines += chunk.toString().split('\n').length - 1;
      if (killAfter !== undefined && lines >= killAfter) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') return reject(new Error(`worker exited ${code}: ${stderr}`));
      // A killed worker may leave half a line on stdout: only whole lines are its reports.
      const whole = text.slice(0, text.lastIndexOf('\n') + 1);
      resolve(whole.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as WorkerLine));
    });
  });
}

/** In no window (ending at any admission) more than max admissions of a budget. */
function assertWindows(lines: WorkerLine[], keys: LimitCheck[], context: string): number {
  let full = 0;
  for (const check of keys) {
    const times = lines.filter((line) => line.at !== null && line.keys.includes(check.key)).map((line) => line.at as number).sort((x, y) => x - y);
    for (let i = 0; i < times.length; i++) {
      let inWindow = 0;
      for (let j = i; j >= 0 && (times[j] as number) > (times[i] as number) - check.windowMs; j--) inWindow++;
      assert.ok(inWindow <= check.max, `${context}: ${inWindow} admissions of ${check.key} in one window of ${check.windowMs} ms, max ${check.max}`);
      if (inWindow === check.max) full++;
    }
  }
  return full;
}

test('cross-process property: 4 processes × 250 calls, random windows and maxima, one SIGKILLed mid-burst five times: never over max, store readable', async (t) => {
  const dir = folder(t);
  const compactBytes = 16 * 1024; // small, so rollovers happen during the bursts and kills
  for (let round = 0; round < 5; round++) {
    const random = mulberry32(100 + round);
    const keys: LimitCheck[] = Array.from({ length: 4 }, (_, index) => ({
      key: `round${round}-key${index}`,
      windowMs: 100 + Math.floor(random() * 600),
      max: 1 + Math.floor(random() * 15),
    }));
    const startAt = Date.now() + 400;
    const killed = Math.floor(random() * 4);
    const runs = await Promise.all(
      [0, 1, 2, 3].map((worker) => runWorker(dir, compactBytes, round * 10 + worker, 250, startAt, keys, worker === killed ? 40 + Math.floor(random() * 150) : undefined)),
    );
    assert.ok((runs[killed] as WorkerLine[]).length < 250, `round ${round}: worker ${killed} was killed mid-burst`);
    for (const [index, run] of runs.entries()) if (index !== killed) assert.equal(run.length, 250);
    const lines = runs.flat();
    const full = assertWindows(lines, keys, `round ${round}`);
    assert.ok(full > 0, `round ${round}: some budget filled up (the test is not trivially passing)`);
    // Readable: a new process opens the store, replays it, and counts on.
    const reader = new EmbeddedCounterStore({ folder: dir, compactBytes });
    // The store's own latest time: the killed worker's last claims may be later than any report.
    const latest = reader.latest;
    for (const check of keys) {
      const reported = lines.filter((line) => line.at !== null && line.at > latest - check.windowMs && line.keys.includes(check.key)).length;
      const stored = reader.inWindow(check.key, latest, check.windowMs);
      assert.ok(stored >= reported && stored <= check.max, `round ${round}: ${check.key}: ${stored} in the store, ${reported} reported, max ${check.max}`);
    }
    assert.equal(reader.reserve(Date.now(), [{ key: `round${round}-after`, windowMs: 1000, max: 1 }]).outcome, 'admitted');
    await reader.close();
  }
});
