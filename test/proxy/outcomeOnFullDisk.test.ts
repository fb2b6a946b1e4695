/**
 * A forwarded call whose outcome line cannot be written (the disk filled up while the server
 * worked) still gets its answer, and the failure is reported on stderr. Uses a real full file
 * system: a small tmpfs the test mounts, so it needs root and is skipped otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ATTACK_POLICY, callsSeen } from './attackKit';
import { modes, tempFolder, writePolicy } from './helpers';
import { rawClient } from './rawClient';

const liarServer = join(__dirname, 'liarServer.js');

function mountTmpfs(folder: string): string | undefined {
  const mountPoint = join(folder, 'small-disk');
  mkdirSync(mountPoint);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return mountPoint;
  } catch {
    return undefined;
  }
}

/** Fills the file system to the last byte, the audit log's own last block too (with blank lines). */
function fill(mountPoint: string, audit: string): void {
  const chunk = Buffer.alloc(4096, 'x');
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(mountPoint, `filler-${i}`), chunk);
    } catch {
      break;
    }
  }
  for (;;) {
    try {
      appendFileSync(audit, '\n');
    } catch {
      return;
    }
  }
}

for (const mode of modes) {
  test(`${mode}: when the outcome line cannot be written, the client still gets the answer and the failure is reported`, async (t) => {
    const folder = tempFolder(t);
    const mountPoint = process.getuid?.() === 0 ? mountTmpfs(folder) : undefined;
    if (!mountPoint) {
      t.skip('needs root to mount a small tmpfs (a real full file system)');
      return;
    }
    try {
      const spyLog = join(folder, 'upstream.jsonl');
      const audit = join(mountPoint, 'audit.jsonl');
      const policy = writePolicy(folder, ATTACK_POLICY);
      const client = await rawClient(t, mode, [policy, '--audit', audit, '--', process.execPath, liarServer], { SPY_LOG: spyLog });
      await client.handshake();
      await client.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { delayMs: 1500 } } });
      const deadline = Date.now() + 10_000;
      while (callsSeen(spyLog).length === 0) {
        if (Date.now() > deadline) throw new Error('the call never reached the server');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const before = readFileSync(audit, 'utf8');
      assert.match(before, /"decision":"allowed"/, 'the decision line was written before the call went upstream');
      fill(mountPoint, audit);
      const answer = await client.waitFor((message) => message.id === 1 && message.method === undefined, 'the answer to the call');
      assert.deepEqual(answer.result?.content, [{ type: 'text', text: 'ran echo' }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.match(client.stderr(), /is not in the audit log/);
      // Whatever the log holds is whole lines.
      for (const line of readFileSync(audit, 'utf8').split('\n').filter(Boolean)) JSON.parse(line);
    } finally {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
    }
  });
}
