import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryCounterStore, ManualClock, PolicyEngine } from '../../core';
import { compile, engineFor, mulberry32 } from './helpers';

const call = (tool: string, extra: Record<string, unknown> = {}) => ({ server: 'crm', tool, arguments: {}, session: 's1', grant: 'g1', ...extra });

test('10 per minute admits exactly 10 of 1,000 calls made at once', async () => {
  const { engine } = engineFor({ default: 'deny', tools: { send: { limits: [{ window: 'minute', max: 10 }] } } });
  const events = await Promise.all(Array.from({ length: 1000 }, () => engine.decide(call('send'))));
  assert.equal(events.filter((event) => event.decision === 'allowed').length, 10);
  assert.equal(events.filter((event) => event.decision === 'rate_limited').length, 990);
});

test('the window slides: a call is admitted again only as the oldest fall out', async () => {
  const { engine, clock } = engineFor({ default: 'deny', tools: { send: { limits: [{ window: 'minute', max: 10 }] } } });
  // 10 admitted, one per second.
  for (let second = 0; second < 10; second++) {
    assert.equal((await engine.evaluate(call('send'))).decision, 'allowed');
    clock.advance(1000);
  }
  // t = 10 s: full until t = 60 s, when the first (t = 0) leaves the window.
  assert.equal((await engine.evaluate(call('send'))).decision, 'rate_limited');
  clock.advance(49_999);
  const justBefore = await engine.evaluate(call('send'));
  assert.equal(justBefore.decision, 'rate_limited');
  assert.equal(justBefore.decision === 'rate_limited' ? justBefore.retryAfterMs : -1, 1);
  clock.advance(1);
  assert.equal((await engine.evaluate(call('send'))).decision, 'allowed', 'the oldest left the window');
  assert.equal((await engine.evaluate(call('send'))).decision, 'rate_limited', 'only one slot freed');
  clock.advance(1000);
  assert.equal((await engine.evaluate(call('send'))).decision, 'allowed', 'the second oldest left');
});

test('property: in no window of the given length are more than max calls admitted', async () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    const random = mulberry32(seed);
    const max = 1 + Math.floor(random() * 8);
    const windowSeconds = 1 + Math.floor(random() * 5);
    const { engine, clock } = engineFor({ default: 'deny', tools: { t: { limits: [{ window: windowSeconds, max }] } } });
    const admitted: number[] = [];
    for (let i = 0; i < 3000; i++) {
      clock.advance(Math.floor(random() * random() * 1500));
      if ((await engine.evaluate(call('t'))).decision === 'allowed') admitted.push(clock.now());
    }
    const windowMs = windowSeconds * 1000;
    for (let i = 0; i < admitted.length; i++) {
      // Calls admitted in (admitted[i] - window, admitted[i]] — the window ending at that admission.
      let inWindow = 0;
      for (let j = i; j >= 0 && (admitted[j] as number) > (admitted[i] as number) - windowMs; j--) inWindow++;
      assert.ok(inWindow <= max, `seed ${seed}: ${inWindow} calls in one window of ${windowSeconds} s, max ${max}`);
    }
    // And the limiter is not trivially strict: it admits a full window's worth at some point.
    assert.ok(admitted.length >= max, `seed ${seed}: admitted ${admitted.length}`);
  }
});

test('denied, invalid and rejected calls consume nothing', async () => {
  const { engine } = engineFor({
    default: 'deny',
    all_tools: { limits: [{ counter: 'all', window: 'minute', max: 2 }] },
    tools: {
      ok: {},
      blocked: { action: 'deny' },
      checked: { arguments: { required: ['id'] } },
      asks: { action: 'approve' },
    },
  });
  for (let i = 0; i < 5; i++) {
    assert.equal((await engine.decide(call('blocked'))).decision, 'denied');
    assert.equal((await engine.decide(call('checked'))).decision, 'invalid_arguments');
    assert.equal((await engine.decide(call('asks'), async () => ({ approved: false }))).decision, 'rejected');
    assert.equal((await engine.decide(call('unknown'))).decision, 'denied');
  }
  assert.equal((await engine.decide(call('ok'))).decision, 'allowed');
  assert.equal((await engine.decide(call('ok'))).decision, 'allowed');
  assert.equal((await engine.decide(call('ok'))).decision, 'rate_limited');
});

test('a call that is rate limited by one limit consumes nothing from the others', async () => {
  const { engine } = engineFor({
    default: 'deny',
    all_tools: { limits: [{ counter: 'all', window: 'minute', max: 5 }] },
    tools: { narrow: { limits: [{ window: 'minute', max: 1 }] }, wide: {} },
  });
  assert.equal((await engine.evaluate(call('narrow'))).decision, 'allowed');
  for (let i = 0; i < 10; i++) assert.equal((await engine.evaluate(call('narrow'))).decision, 'rate_limited');
  // 4 left in "all": the 10 refused calls took none.
  for (let i = 0; i < 4; i++) assert.equal((await engine.evaluate(call('wide'))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('wide'))).decision, 'rate_limited');
});

test('two rules naming one counter share its budget', async () => {
  const { engine } = engineFor({
    default: 'deny',
    tools: {
      fluentcrm_send_campaign: { limits: [{ counter: 'emails', window: 'hour', max: 3 }] },
      fluentcrm_resume_campaign: { limits: [{ counter: 'emails', window: 'hour', max: 3 }] },
      other: { limits: [{ window: 'hour', max: 3 }] },
    },
  });
  assert.equal((await engine.evaluate(call('fluentcrm_send_campaign'))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('fluentcrm_resume_campaign', { arguments: { campaignId: 1 } }))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('fluentcrm_send_campaign'))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('fluentcrm_resume_campaign', { arguments: { campaignId: 1 } }))).decision, 'rate_limited');
  assert.equal((await engine.evaluate(call('other'))).decision, 'allowed', 'an unnamed counter is private to its rule');
});

test('a counter named by a rule and all_tools is counted once per call', async () => {
  const { engine } = engineFor({
    default: 'deny',
    all_tools: { limits: [{ counter: 'c', window: 'minute', max: 2 }] },
    tools: { t: { limits: [{ counter: 'c', window: 'minute', max: 2 }] } },
  });
  assert.equal((await engine.evaluate(call('t'))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('t'))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('t'))).decision, 'rate_limited');
});

test('scopes: session and grant budgets are per session and per credential; global is shared', async () => {
  const { engine } = engineFor({
    default: 'deny',
    tools: {
      perSession: { limits: [{ window: 'minute', max: 1, scope: 'session' }] },
      perGrant: { limits: [{ window: 'minute', max: 1 }] },
      everyone: { limits: [{ window: 'minute', max: 1, scope: 'global' }] },
    },
  });
  assert.equal((await engine.evaluate(call('perSession', { session: 'a', grant: 'x' }))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('perSession', { session: 'a', grant: 'y' }))).decision, 'rate_limited');
  assert.equal((await engine.evaluate(call('perSession', { session: 'b', grant: 'x' }))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('perGrant', { session: 'a', grant: 'x' }))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('perGrant', { session: 'b', grant: 'x' }))).decision, 'rate_limited');
  assert.equal((await engine.evaluate(call('perGrant', { session: 'a', grant: 'y' }))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('everyone', { session: 'a', grant: 'x' }))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('everyone', { session: 'b', grant: 'y' }))).decision, 'rate_limited');
});

test('a rejected approval releases its reserved units; an approved one keeps them', async () => {
  const { engine } = engineFor({ default: 'deny', tools: { ask: { action: 'approve', limits: [{ window: 'minute', max: 1 }] } } });
  assert.equal((await engine.decide(call('ask'), async () => ({ approved: false }))).decision, 'rejected');
  assert.equal((await engine.decide(call('ask'), async () => ({ approved: true }))).decision, 'approved');
  assert.equal((await engine.decide(call('ask'), async () => ({ approved: true }))).decision, 'rate_limited');
});

test('while an approval is pending its units are reserved', async () => {
  const { engine } = engineFor({ default: 'deny', tools: { ask: { action: 'approve', limits: [{ window: 'minute', max: 1 }] } } });
  let answer: (approved: boolean) => void = () => undefined;
  const pending = engine.decide(call('ask'), () => new Promise((resolve) => (answer = (approved) => resolve({ approved }))));
  assert.equal((await engine.decide(call('ask'), async () => ({ approved: true }))).decision, 'rate_limited');
  answer(false);
  assert.equal((await pending).decision, 'rejected');
  assert.equal((await engine.decide(call('ask'), async () => ({ approved: true }))).decision, 'approved');
});

test('counters survive a hot reload of the policy', async () => {
  const clock = new ManualClock();
  const counters = new MemoryCounterStore();
  const policy = { default: 'deny' as const, tools: { t: { limits: [{ counter: 'c', window: 'minute' as const, max: 2 }] } } };
  const engine = new PolicyEngine(compile(policy), { clock, counters });
  assert.equal((await engine.evaluate(call('t'))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('t'))).decision, 'allowed');
  engine.setPolicy(compile({ ...policy, tools: { t: { reason: 'reloaded', limits: [{ counter: 'c', window: 'minute', max: 2 }] } } }));
  assert.equal((await engine.evaluate(call('t'))).decision, 'rate_limited');
  // A raised max applies to the kept budget at once.
  engine.setPolicy(compile({ ...policy, tools: { t: { limits: [{ counter: 'c', window: 'minute', max: 3 }] } } }));
  assert.equal((await engine.evaluate(call('t'))).decision, 'allowed');
  assert.equal((await engine.evaluate(call('t'))).decision, 'rate_limited');
});

test('budgets with nothing left in their window are forgotten', async () => {
  const counters = new MemoryCounterStore();
  const clock = new ManualClock();
  const engine = new PolicyEngine(compile({ default: 'deny', tools: { t: { limits: [{ window: 'second', max: 5, scope: 'session' }] } } }), { clock, counters });
  for (let session = 0; session < 100; session++) await engine.evaluate(call('t', { session: `s${session}` }));
  assert.equal(counters.size, 100);
  clock.advance(1001);
  counters.sweep(clock.now());
  assert.equal(counters.size, 0);
});

test('a named counter is shared by every policy using the store; an unnamed one stays private to its rule in its policy', async () => {
  const counters = new MemoryCounterStore();
  const policy = (max: number) => compile({ default: 'deny', tools: { named: { limits: [{ counter: 'emails', window: 'minute', max }] }, unnamed: { limits: [{ window: 'minute', max: 1 }] } } });
  const first = new PolicyEngine(policy(2), { counters, policyIdentity: '/home/u/a/mcp-policy.json' });
  const second = new PolicyEngine(policy(2), { counters, policyIdentity: '/home/u/b/mcp-policy.json' });
  assert.equal((await first.evaluate(call('named'))).decision, 'allowed');
  assert.equal((await second.evaluate(call('named'))).decision, 'allowed');
  assert.equal((await first.evaluate(call('named'))).decision, 'rate_limited', 'one budget for "emails" across both policies');
  assert.equal((await first.evaluate(call('unnamed'))).decision, 'allowed');
  assert.equal((await second.evaluate(call('unnamed'))).decision, 'allowed', 'the same rule path in another policy file is another budget');
  assert.equal((await second.evaluate(call('unnamed'))).decision, 'rate_limited');
});
