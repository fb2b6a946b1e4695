/** The hot reload's file watch: edits in place, saves by rename, files that come and go, and quiet neighbours. */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FileWatch } from '../../proxy/fileWatch';

function folder(t: TestContext): string {
  const path = mkdtempSync(join(tmpdir(), 'mcp-policy-watch-'));
  t.after(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

/** A watch on `paths` that counts the changes reported for each. */
function watching(t: TestContext, paths: string[]): { changes: string[]; waitFor: (path: string, count: number) => Promise<void> } {
  const changes: string[] = [];
  const errors: Error[] = [];
  const watch = new FileWatch(
    (path) => changes.push(path),
    (error) => errors.push(error),
  );
  watch.set(paths);
  t.after(() => {
    watch.close();
    assert.deepEqual(errors, []);
  });
  const waitFor = async (path: string, count: number): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (changes.filter((changed) => changed === path).length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} change(s) of ${path}, saw ${JSON.stringify(changes)}`);
      await new Promise((done) => setTimeout(done, 20));
    }
  };
  return { changes, waitFor };
}

const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

const saves: Record<string, (path: string, text: string) => void> = {
  'an edit in place': (path, text) => writeFileSync(path, text),
  // How many editors save: a new file renamed over the old one.
  'a save by rename': (path, text) => {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  },
};

for (const [name, save] of Object.entries(saves)) {
  test(`${name} is reported, and an edit after it still is`, async (t) => {
    const policy = join(folder(t), 'mcp-policy.json');
    writeFileSync(policy, '{}');
    const { waitFor } = watching(t, [policy]);
    save(policy, '{ "version": "1" }');
    await waitFor(policy, 1);
    await pause(100);
    writeFileSync(policy, '{ "version": "1", "default": "deny" }');
    await waitFor(policy, 2);
  });
}

test('a file that does not exist yet is reported when it appears; one deleted, when it is back', async (t) => {
  const dir = folder(t);
  const catalog = join(dir, 'mcp-policy.catalog.json');
  const { changes, waitFor } = watching(t, [catalog]);
  await pause(100);
  assert.deepEqual(changes, []);
  writeFileSync(catalog, '{ "servers": {} }');
  await waitFor(catalog, 1);
  await pause(100);
  rmSync(catalog);
  await waitFor(catalog, 2);
  writeFileSync(catalog, '{ "servers": { "crm": { "tools": [] } } }');
  await waitFor(catalog, 3);
});

test('writes to other files in the same folder (an audit log beside the policy) are not reported', async (t) => {
  const dir = folder(t);
  const policy = join(dir, 'mcp-policy.json');
  writeFileSync(policy, '{}');
  const audit = join(dir, 'audit.jsonl');
  const { changes, waitFor } = watching(t, [policy]);
  for (let line = 0; line < 50; line++) appendFileSync(audit, `{"line":${line}}\n`);
  writeFileSync(join(dir, 'notes.txt'), 'unrelated');
  await pause(300);
  assert.deepEqual(changes, []);
  // The watch is alive: the policy's own change still comes through.
  writeFileSync(policy, '{ "version": "1" }');
  await waitFor(policy, 1);
});

test('paths dropped from the set are no longer watched', async (t) => {
  const dir = folder(t);
  const first = join(dir, 'a.json');
  const second = join(dir, 'b.json');
  writeFileSync(first, '{}');
  writeFileSync(second, '{}');
  const changes: string[] = [];
  const watch = new FileWatch((path) => changes.push(path), () => undefined);
  t.after(() => watch.close());
  watch.set([first, second]);
  watch.set([second]);
  writeFileSync(first, '{ "changed": true }');
  writeFileSync(second, '{ "changed": true }');
  const deadline = Date.now() + 5000;
  while (!changes.includes(second) && Date.now() < deadline) await pause(20);
  await pause(100);
  assert.deepEqual([...new Set(changes)], [second]);
});
