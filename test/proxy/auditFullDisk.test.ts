/**
 * The audit log on a real full file system (a 64 KiB tmpfs): a decision line is written whole or
 * the call is refused and never reaches the upstream; an outcome line that cannot be written
 * costs the client nothing. Skipped, saying why, when the tests cannot mount a tmpfs.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { newDecisionEvent, type DecisionEvent } from '../../core';
import { AuditWriteError, FileAuditSink } from '../../proxy/auditLog';
import { fillLeaving, mountSmallTmpfs, PAGE } from './fullDisk';
import { tempFolder, textOf, writePolicy } from './helpers';
import { auditLines, spyCalls, startRawProxy, toolCall } from './rawProxy';

function event(padding: number): DecisionEvent {
  return newDecisionEvent({ server: 's', tool: 't', arguments: { pad: 'x'.repeat(padding) }, decision: 'allowed', rule: 'default', reason: 'r', policy: 'sha256:0', evalMicros: 0 });
}

test('FileAuditSink: a line that only partly fits is cut back off and throws; the log keeps whole lines only', (t) => {
  const mount = mountSmallTmpfs(t);
  if ('skip' in mount) return t.skip(mount.skip);
  fillLeaving(mount.path, 1);
  const path = join(mount.path, 'audit.jsonl');
  const problems: string[] = [];
  const sink = new FileAuditSink(path, { onProblem: (message) => problems.push(message) });
  t.after(() => sink.close());
  let whole = 0;
  let failure: unknown;
  // Lines of ~1000 bytes: four fit in the page that is left, the fifth is a short write.
  for (let i = 0; i < 10 && failure === undefined; i++) {
    const before = statSync(path).size;
    try {
      sink.decision(event(900));
      whole++;
    } catch (error) {
      failure = error;
      assert.equal(statSync(path).size, before, 'the part that was written is removed again');
    }
  }
  assert.ok(failure instanceof AuditWriteError, `a write failed with AuditWriteError, got ${String(failure)}`);
  assert.match((failure as Error).message, /cannot write the audit log .*audit\.jsonl/);
  assert.ok(whole >= 1 && statSync(path).size <= PAGE);
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'));
  assert.equal(text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown).length, whole);
  // An outcome line that does not fit is reported, never thrown.
  assert.equal(sink.outcome(event(900), { id: 'x', ok: false, ms: 1, error: 'e'.repeat(2000) }), false);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /is not in the audit log/);
  assert.equal(readFileSync(path, 'utf8'), text);
});

test('proxy --audit on a filling disk: every call is answered; each either has a whole decision line or is refused and never reaches the spy', async (t) => {
  const mount = mountSmallTmpfs(t);
  if ('skip' in mount) return t.skip(mount.skip);
  fillLeaving(mount.path, 2);
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.log');
  const audit = join(mount.path, 'audit.jsonl');
  const proxy = startRawProxy(t, { policy: writePolicy(folder, { version: '1', default: 'allow' }), spyLog, args: ['--audit', audit] });
  await proxy.initialize();
  const forwarded: string[] = [];
  const refused: string[] = [];
  for (let i = 0; i < 60; i++) {
    const message = `call-${i}-${'y'.repeat(200)}`;
    proxy.send(toolCall(i, 'echo', { message }));
    const answer = await proxy.answer(i);
    const text = textOf(answer.result);
    if (text === `Echo: ${message}`) forwarded.push(message);
    else {
      assert.match(text, /^\[POLICY DENIED\] echo: the proxy failed while deciding, so the call was not forwarded: cannot write the audit log/);
      refused.push(message);
    }
  }
  assert.ok(forwarded.length > 0, 'some calls fit on the disk');
  assert.ok(refused.length > 0, 'the disk filled up during the test');
  const lines = auditLines(audit); // throws on half a line
  const logged = new Set(lines.filter((line) => line.upstream === undefined).map((line) => (line.arguments as { message?: string }).message));
  const received = spyCalls(spyLog).map((call) => call.arguments.message as string);
  assert.deepEqual(received, forwarded, 'the spy got exactly the calls that were answered by the upstream');
  for (const message of received) assert.ok(logged.has(message), `${message.slice(0, 10)} reached the spy with its decision line in the log`);
  for (const message of refused) assert.ok(!received.includes(message));
});
