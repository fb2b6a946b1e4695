/**
 * What the Testing view and the Replay view run (client/policyTestRun.ts, policyTestList.ts,
 * replayRun.ts), without VS Code: the bundled example's policy text, edited as a draft.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DecisionEvent } from '../../core';
import { listTests } from '../../client/policyTestList';
import { runTestsOfText } from '../../client/policyTestRun';
import { auditLinesOf, replayDecisions } from '../../client/replayRun';
// out/test/client → the repo root
const repoRoot = (): string => join(__dirname, '..', '..', '..');

const examplePath = join(repoRoot(), 'examples', 'crm', 'mcp-policy.json');
const exampleText = readFileSync(examplePath, 'utf8');

test('the example lists every named test at its place in the file', () => {
  const listed = listTests(exampleText);
  assert.ok(listed.length >= 20, `only ${listed.length} tests listed`);
  const hide = listed.find((entry) => entry.name === 'deleting a campaign is hidden too');
  assert.ok(hide, 'the hide test is listed');
  assert.ok(exampleText.slice(hide.range.offset, hide.range.offset + hide.range.length).startsWith('{ "name": "deleting a campaign is hidden too"'));
});

test('the example passes as written; a broken rule fails the test that covers it, at its expect', async () => {
  const names = new Set(listTests(exampleText).map((entry) => entry.name));
  const run = await runTestsOfText(examplePath, exampleText, names, () => false);
  assert.equal(run.kind, 'ran');
  if (run.kind !== 'ran') return;
  const failed = [...run.outcomes].filter(([, outcome]) => outcome.kind !== 'passed').map(([name]) => name);
  assert.deepEqual(failed, []);

  // The draft (unsaved) text is what runs: a sends limit of 3 instead of 2.
  const broken = exampleText.replace('"counter": "campaign_sends", "window": "minute", "max": 2', '"counter": "campaign_sends", "window": "minute", "max": 3');
  assert.notEqual(broken, exampleText);
  const rerun = await runTestsOfText(examplePath, broken, names, () => false);
  assert.equal(rerun.kind, 'ran');
  if (rerun.kind !== 'ran') return;
  const outcome = rerun.outcomes.get('two sends a minute: the third waits until the first leaves the window');
  assert.equal(outcome?.kind, 'failed');
  if (outcome?.kind !== 'failed') return;
  assert.match(outcome.failures[0]!.message, /expected rate_limited, got allowed .*step 3 of 4/);
  assert.equal(broken.slice(outcome.failures[0]!.range.offset, outcome.failures[0]!.range.offset + outcome.failures[0]!.range.length), '"rate_limited"');
  assert.equal(rerun.outcomes.get('reads are allowed')?.kind, 'passed');
});

test('a policy with errors runs no test and says where the first error is', async () => {
  const run = await runTestsOfText(examplePath, exampleText.replace('"default": "deny"', '"default": "maybe"'), new Set(['reads are allowed']), () => false);
  assert.equal(run.kind, 'invalid');
  if (run.kind === 'invalid') assert.ok(run.errors.length > 0);
});

function event(partial: Partial<DecisionEvent> & Pick<DecisionEvent, 'id' | 'time' | 'tool' | 'decision' | 'rule'>): DecisionEvent {
  return { server: 'fluentcrm', arguments: {}, reason: 'recorded', policy: 'sha256:x', evalMicros: 1, ...partial } as DecisionEvent;
}

test('replay of recorded decisions: a forwarded call keeps its answer in the store but is still replayed', async () => {
  const sends = [0, 5, 10].map((second, index) =>
    event({ id: `s${index}`, time: new Date(Date.UTC(2026, 11, 1, 12, 0, second)).toISOString(), tool: 'fluentcrm_resume_campaign', arguments: { campaignId: 5 + index }, decision: index < 2 ? 'allowed' : 'rate_limited', rule: 'tools.fluentcrm_resume_campaign', grant: 'g' }),
  );
  // The store fills in the upstream answer on the event of a forwarded call.
  sends[0]!.upstream = { ok: true, ms: 3 };
  assert.doesNotMatch(auditLinesOf(sends), /upstream/);
  const tightened = exampleText.replace('"counter": "campaign_sends", "window": "minute", "max": 2', '"counter": "campaign_sends", "window": "minute", "max": 1');
  const outcome = await replayDecisions(sends, examplePath, tightened);
  assert.equal(outcome.kind, 'replayed');
  if (outcome.kind !== 'replayed') return;
  assert.equal(outcome.report.calls.length, 3);
  assert.deepEqual(outcome.report.changed.map((call) => [call.recorded.id, call.recorded.decision, call.decision]), [['s1', 'allowed', 'rate_limited']]);
  assert.deepEqual([...outcome.report.totals], [['allowed → rate_limited', 1]]);
});

test('replay says when a redacted value is what the draft checks', async () => {
  const recorded = [event({ id: 'c1', time: '2026-12-01T12:00:00.000Z', tool: 'fluentcrm_resume_campaign', arguments: { campaignId: '[redacted]' }, decision: 'allowed', rule: 'tools.fluentcrm_resume_campaign' })];
  const outcome = await replayDecisions(recorded, examplePath, exampleText);
  assert.equal(outcome.kind, 'replayed');
  if (outcome.kind !== 'replayed') return;
  assert.deepEqual(outcome.report.calls[0]!.redactedChecked, ['campaignId']);
});
