/**
 * One process of the cross-process counter tests: makes `count` reservations on the embedded
 * store in FOLDER as fast as it can (a few ms apart at random), and prints one JSON line per
 * reservation: the keys and, when admitted, the store's time of the admission.
 * usage: node counterWorker.js FOLDER COMPACT_BYTES SEED COUNT START_AT KEYS_JSON [DIE_AT]
 * DIE_AT: a call after which the worker SIGKILLs itself, should the test's own kill come late.
 */
import { EmbeddedCounterStore, type LimitCheck } from '../../core';
import { mulberry32 } from './helpers';

const [folder, compactText, seedText, countText, startText, keysJson, dieText] = process.argv.slice(2);
const dieAt = dieText === undefined ? undefined : Number(dieText);
const keys = JSON.parse(keysJson ?? '[]') as LimitCheck[];
const random = mulberry32(Number(seedText));
const store = new EmbeddedCounterStore({ folder: folder!, compactBytes: Number(compactText) });
const count = Number(countText);

async function main(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startText) - Date.now())));
  for (let index = 0; index < count; index++) {
    if (index === dieAt) process.kill(process.pid, 'SIGKILL');
    // One or two budgets per call: a call must fit in all of them, or consume none.
    const first = keys[Math.floor(random() * keys.length)]!;
    const second = random() < 0.5 ? keys[Math.floor(random() * keys.length)] : undefined;
    const checks = second && second.key !== first.key ? [first, second] : [first];
    const result = store.reserve(Date.now(), checks);
    if (result.outcome === 'unavailable') throw new Error(result.reason);
    process.stdout.write(`${JSON.stringify({ keys: checks.map((check) => check.key), at: result.outcome === 'admitted' ? result.at : null })}\n`);
    if (random() < 0.6) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3)));
  }
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
