/**
 * SIGKILL during a burst: the proxy (stdio, --audit F, spy upstream) is killed five times while
 * 1,000 allowed calls stream through. Every call the upstream received has its whole decision
 * line in the log (the line is written before the call leaves, so a kill cannot lose it), and no
 * line of the log is corrupt.
 */
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { killGroup, tempFolder, waitFor, writePolicy } from './helpers';
import { auditLines, spyCalls, startRawProxy, toolCall } from './rawProxy';

const CALLS = 1000;
const ROUNDS = 5;

function callsSeen(spyLog: string): number {
  return existsSync(spyLog) ? (readFileSync(spyLog, 'utf8').match(/"tools\/call"/g)?.length ?? 0) : 0;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(`SIGKILL during a burst of ${CALLS} allowed calls, ${ROUNDS} times: every call the spy received has a whole decision line; no line is corrupt`, { timeout: 180_000 }, async (t) => {
  const folder = tempFolder(t);
  const policy = writePolicy(folder, { version: '1', default: 'allow' });
  for (let round = 0; round < ROUNDS; round++) {
    const spyLog = join(folder, `upstream-${round}.log`);
    const audit = join(folder, `audit-${round}.jsonl`);
    const proxy = startRawProxy(t, { policy, spyLog, args: ['--audit', audit] });
    await proxy.initialize();
    const tag = (i: number): string => `round-${round}-call-${i}`;
    proxy.sendAll(Array.from({ length: CALLS }, (_, i) => toolCall(i, 'echo', { message: tag(i) })));
    // Kill at a different point of the burst each round.
    const killAt = 50 + Math.floor(((CALLS - 100) * round) / (ROUNDS - 1));
    await waitFor(() => callsSeen(spyLog) >= killAt || proxy.answers.size > CALLS, 60_000, `${killAt} calls at the upstream`);
    const pid = proxy.child.pid!;
    process.kill(pid, 'SIGKILL');
    await proxy.exited;
    // The spy logs what was already in its pipe, then it and the server exit with their stdin closed.
    await waitFor(() => !groupAlive(pid), 15_000, 'the spy to exit').catch(() => killGroup(proxy.child));

    const lines = auditLines(audit); // throws on a half or unparsable line
    const decided = new Map<string, Record<string, unknown>>();
    for (const line of lines) {
      if (line.upstream !== undefined) continue;
      const message = (line.arguments as { message?: unknown } | undefined)?.message;
      if (typeof message === 'string') decided.set(message, line);
    }
    const received = spyCalls(spyLog);
    t.diagnostic(`round ${round}: killed after ${killAt}+ calls; the spy got ${received.length}, the log has ${decided.size} decisions, the client ${proxy.answers.size - 1} answers`);
    assert.ok(received.length > 0);
    for (const call of received) {
      const message = call.arguments.message as string;
      const decision = decided.get(message);
      assert.ok(decision, `${message} reached the upstream without a decision line`);
      assert.equal(decision.decision, 'allowed');
      assert.equal(decision.tool, 'echo');
      assert.equal(typeof decision.id, 'string');
    }
    // Outcome lines only follow decisions that were written.
    const ids = new Set(lines.filter((line) => line.upstream === undefined).map((line) => line.id));
    for (const line of lines) if (line.upstream !== undefined) assert.ok(ids.has(line.id), `outcome ${String(line.id)} has its decision line`);
  }
});
