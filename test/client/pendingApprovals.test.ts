/**
 * The pending approvals model (client/pendingApprovals.ts) without VS Code: one list that the
 * Decisions view, the status bar and the notification read, settled once by whichever answers
 * first. Time is node:test's mock clock, so deadlines are reached without waiting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApprovalRequest } from '../../core';
import { PendingApprovals } from '../../client/pendingApprovals';

function request(tool: string, signal = new AbortController().signal, args: unknown = { path: `/data/${tool}` }): ApprovalRequest {
  return { server: 'fs', tool, arguments: args, rule: `tools.${tool}`, reason: 'New folders need a human', timeoutMs: 60_000, signal };
}

test('an approval waits in the list with its call, rule, reason and deadline until it is answered', async () => {
  const pending = new PendingApprovals({ now: () => 1_000 });
  const long = { path: `/data/${'x'.repeat(2_000)}`, nested: { a: [1, 2, 3] } };
  const { pending: asked, answer } = pending.ask(request('create_directory', undefined, long), 30_000);
  assert.equal(pending.size, 1);
  assert.deepEqual(pending.list(), [asked]);
  assert.equal(asked.tool, 'create_directory');
  assert.equal(asked.server, 'fs');
  assert.equal(asked.rule, 'tools.create_directory');
  assert.equal(asked.reason, 'New folders need a human');
  assert.deepEqual(asked.arguments, long, 'the arguments are kept whole');
  assert.equal(asked.deadline, 31_000);
  assert.equal(pending.secondsLeft(asked), 30);

  assert.equal(pending.approve(asked.id), true);
  assert.deepEqual(await answer, { approved: true, by: 'VS Code' });
  assert.equal(pending.size, 0);
  assert.equal(pending.get(asked.id), undefined);
  pending.dispose();
});

test('the first answer counts: a second one, from another surface, changes nothing', async () => {
  const pending = new PendingApprovals();
  const settled: string[] = [];
  pending.onDidSettle(({ pending: p, how, answer }) => settled.push(`${p.tool}:${how}:${answer.approved}`));
  const { pending: asked, answer } = pending.ask(request('create_directory'), 30_000);
  assert.equal(pending.deny(asked.id), true);
  assert.equal(pending.approve(asked.id), false, 'a late Approve was accepted');
  assert.deepEqual(await answer, { approved: false, by: 'VS Code', reason: 'denied in VS Code' });
  assert.deepEqual(settled, ['create_directory:answered:false']);
  assert.equal(pending.settle('no-such-id', { approved: true }), false);
  pending.dispose();
});

test('no answer by the deadline rejects the call and takes it off the list', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const pending = new PendingApprovals();
  let changes = 0;
  pending.onDidChange(() => changes++);
  const { pending: asked, answer } = pending.ask(request('create_directory'), 5_000);
  assert.equal(changes, 1);
  t.mock.timers.tick(2_500);
  assert.equal(pending.secondsLeft(asked), 3, 'rounded up: "1 s left" lasts until the deadline');
  assert.equal(pending.size, 1);
  t.mock.timers.tick(2_500);
  assert.deepEqual(await answer, { approved: false, by: 'VS Code', reason: 'no answer in VS Code within 5 s' });
  assert.equal(pending.size, 0);
  assert.equal(changes, 2);
  assert.equal(pending.approve(asked.id), false, 'an answer after the deadline was accepted');
  pending.dispose();
});

test('the proxy or the client giving up (the request signal) ends the approval', async () => {
  const pending = new PendingApprovals();
  const controller = new AbortController();
  const { pending: asked, answer } = pending.ask(request('create_directory', controller.signal), 30_000);
  controller.abort();
  assert.deepEqual(await answer, { approved: false, by: 'VS Code', reason: 'the call was cancelled' });
  assert.equal(pending.get(asked.id), undefined);

  const aborted = new AbortController();
  aborted.abort();
  const late = pending.ask(request('write_file', aborted.signal), 30_000);
  assert.equal((await late.answer).approved, false, 'an already cancelled call was left pending');
  assert.equal(pending.size, 0);
  pending.dispose();
});

test('the list puts the soonest deadline first; ids cannot be guessed; dispose rejects what is left', async () => {
  let now = 0;
  const pending = new PendingApprovals({ now: () => now });
  const later = pending.ask(request('write_file'), 60_000);
  now = 1_000;
  const sooner = pending.ask(request('create_directory'), 10_000);
  assert.deepEqual(pending.list().map((p) => p.tool), ['create_directory', 'write_file']);
  assert.match(sooner.pending.id, /^[0-9a-f-]{36}$/);
  assert.notEqual(sooner.pending.id, later.pending.id);
  pending.dispose();
  assert.deepEqual(await Promise.all([later.answer, sooner.answer]), [
    { approved: false, by: 'VS Code', reason: 'VS Code closed the window' },
    { approved: false, by: 'VS Code', reason: 'VS Code closed the window' },
  ]);
});

test('a failing listener does not keep the answer from the proxy', async () => {
  const pending = new PendingApprovals();
  pending.onDidSettle(() => {
    throw new Error('a surface broke');
  });
  const { pending: asked, answer } = pending.ask(request('create_directory'), 30_000);
  assert.equal(pending.approve(asked.id), true);
  assert.equal((await answer).approved, true);
  pending.dispose();
});

