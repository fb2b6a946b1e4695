/** The audit log's timestamps: the same text as Date's toISOString, for any instant. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTime } from '../../core/isoTime';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

test('isoTime writes what toISOString writes, across years, signs and millisecond edges', () => {
  const random = seeded(17);
  const instants: number[] = [0, -1, 1, 999, 1000, 1001, -999, -1000, -1001, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1, 0, 0, 0, 5), 8.64e15, -8.64e15];
  for (let index = 0; index < 20000; index++) instants.push(Math.floor((random() * 2 - 1) * 8.64e15));
  // Runs of neighbouring milliseconds, the way calls arrive: the cached second is reused and left.
  const now = Date.now();
  for (let offset = -2500; offset < 2500; offset += 7) instants.push(now + offset);
  for (const ms of instants) assert.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
});

test('isoTime without an argument is now', () => {
  const before = Date.now();
  const written = Date.parse(isoTime());
  assert.ok(written >= before && written <= Date.now());
});
