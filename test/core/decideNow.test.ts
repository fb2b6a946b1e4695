/** decideNow: the same decisions as decide(), settled at once when nothing has to wait. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryCounterStore, PolicyEngine, type CounterStore, type LimitCheck, type ReserveResult } from '../../core';
import { compile, engineFor } from './helpers';

const call = (tool: string) => ({ server: 'crm', tool, arguments: {}, session: 's1', grant: 'g1' });
const policy = {
  default: 'allow' as const,
  tools: {
    fluentcrm_list_contacts: {},
    fluentcrm_delete_contact: { action: 'deny' as const, reason: 'never' },
    fluentcrm_resume_campaign: { limits: [{ window: 'minute' as const, max: 1 }] },
    fluentcrm_send_campaign: { action: 'approve' as const },
  },
};

test('allowed, denied and limited calls are decided synchronously, as decide() decides them', async () => {
  const { engine } = engineFor(policy);
  const { engine: reference } = engineFor(policy);
  for (const tool of ['fluentcrm_list_contacts', 'fluentcrm_delete_contact', 'fluentcrm_resume_campaign', 'fluentcrm_resume_campaign']) {
    const now = engine.decideNow(call(tool));
    assert.ok(!(now instanceof Promise), `${tool} settled at once`);
    const later = await reference.decide(call(tool));
    assert.deepEqual([now.decision, now.rule, now.reason], [later.decision, later.rule, later.reason], tool);
  }
});

test('a call that needs approval, or a store that answers later, gives a promise with the same decision', async () => {
  const { engine } = engineFor(policy);
  const asked = engine.decideNow(call('fluentcrm_send_campaign'), async () => ({ approved: true, by: 'a test' }));
  assert.ok(asked instanceof Promise);
  assert.equal((await asked).decision, 'approved');

  const memory = new MemoryCounterStore();
  const later: CounterStore = {
    description: 'a store that answers later',
    reserve: async (now: number, checks: readonly LimitCheck[]): Promise<ReserveResult> => memory.reserve(now, checks),
    onHealth: () => undefined,
    close: async () => undefined,
  };
  const slow = new PolicyEngine(compile(policy), { counters: later });
  const first = slow.decideNow(call('fluentcrm_resume_campaign'));
  assert.ok(first instanceof Promise);
  assert.equal((await first).decision, 'allowed');
  assert.equal((await slow.decideNow(call('fluentcrm_resume_campaign'))).decision, 'rate_limited');
});

test('a store that throws makes decideNow throw and decide() reject: the relay fails closed on either', async () => {
  const broken: CounterStore = {
    description: 'broken',
    reserve: () => {
      throw new Error('the disk is gone');
    },
    onHealth: () => undefined,
    close: async () => undefined,
  };
  const engine = new PolicyEngine(compile(policy), { counters: broken });
  assert.throws(() => engine.decideNow(call('fluentcrm_resume_campaign')), /the disk is gone/);
  await assert.rejects(engine.decide(call('fluentcrm_resume_campaign')), /the disk is gone/);
});
