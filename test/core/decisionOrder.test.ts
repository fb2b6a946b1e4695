import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockedCallResult, DECISION_META_KEY, type ApprovalRequest } from '../../core';
import { engineFor } from './helpers';

const call = (tool: string, args: unknown = {}, server = 'fluentcrm') => ({ server, tool, arguments: args, session: 's1', grant: 'g1', client: 'test 1.0' });

test('step 1: an exact rule beats every glob', async () => {
  const { engine } = engineFor({
    default: 'allow',
    tools: { 'fluentcrm_*': { action: 'deny' }, fluentcrm_resume_campaign: { action: 'allow' } },
  });
  const event = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 1 }));
  assert.equal(event.decision, 'allowed');
  assert.equal(event.rule, 'tools.fluentcrm_resume_campaign');
  assert.equal((await engine.decide(call('fluentcrm_pause_campaign', { campaignId: 1 }))).rule, 'tools.fluentcrm_*');
});

test('step 1: names that differ in case or by a trailing space do not match the exact rule', async () => {
  const { engine } = engineFor({ default: 'deny', tools: { fluentcrm_resume_campaign: {} } });
  assert.equal((await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 1 }))).decision, 'allowed');
  for (const name of ['Fluentcrm_resume_campaign', 'fluentcrm_resume_campaign ', ' fluentcrm_resume_campaign', 'fluentcrm_resume_campaign\u200b']) {
    const event = await engine.decide(call(name));
    assert.equal(event.decision, 'denied', JSON.stringify(name));
    assert.equal(event.rule, 'default');
  }
});

test('step 1: among globs the most literal characters win; a tie goes to the one written first', async () => {
  const { engine } = engineFor({
    default: 'deny',
    tools: { '*': { action: 'deny' }, 'fluentcrm_*': { action: 'allow' }, 'fluentcrm_list_*': { action: 'deny', reason: 'lists' } },
  });
  assert.equal((await engine.decide(call('fluentcrm_list_tags'))).rule, 'tools.fluentcrm_list_*');
  assert.equal((await engine.decide(call('fluentcrm_get_contact'))).rule, 'tools.fluentcrm_*');
  assert.equal((await engine.decide(call('other'))).rule, 'tools.*');
  const tie = engineFor({ default: 'deny', tools: { 'a_*': { action: 'allow' }, '*_b': { action: 'deny' } } }).engine;
  assert.equal((await tie.decide(call('a_b'))).rule, 'tools.a_*');
  const reversed = engineFor({ default: 'deny', tools: { '*_b': { action: 'deny' }, 'a_*': { action: 'allow' } } }).engine;
  assert.equal((await reversed.decide(call('a_b'))).rule, 'tools.*_b');
});

test('step 1: rules of servers.S.tools come before top-level tools, and only for S', async () => {
  const { engine } = engineFor({
    default: 'deny',
    tools: { fluentcrm_list_contacts: { action: 'allow' } },
    servers: { fluentcrm: { tools: { 'fluentcrm_*': { action: 'deny', reason: 'server rule' } } } },
  });
  const onServer = await engine.decide(call('fluentcrm_list_contacts'));
  assert.equal(onServer.decision, 'denied');
  assert.equal(onServer.rule, 'servers.fluentcrm.tools.fluentcrm_*');
  const elsewhere = await engine.decide(call('fluentcrm_list_contacts', {}, 'other'));
  assert.equal(elsewhere.decision, 'allowed');
  assert.equal(elsewhere.rule, 'tools.fluentcrm_list_contacts');
});

test('step 2: hide (top-level and per server) denies even a tool a rule allows', async () => {
  const { engine } = engineFor({
    default: 'allow',
    hide: ['*_delete_*'],
    tools: { fluentcrm_delete_contact: { action: 'allow' } },
    servers: { fluentcrm: { hide: ['fluentcrm_create_webhook'] } },
  });
  const hidden = await engine.decide(call('fluentcrm_delete_contact', { subscriberId: 1 }));
  assert.equal(hidden.decision, 'denied');
  assert.equal(hidden.rule, 'hide[0]');
  const perServer = await engine.decide(call('fluentcrm_create_webhook'));
  assert.equal(perServer.decision, 'denied');
  assert.equal(perServer.rule, 'servers.fluentcrm.hide[0]');
  assert.equal((await engine.decide(call('fluentcrm_create_webhook', { name: 'n', url: 'https://example.test/h', status: 'pending' }, 'other'))).decision, 'allowed');
  assert.equal(engine.policy.isHidden('fluentcrm', 'fluentcrm_delete_tag'), true);
});

test('step 3: a deny rule, the server default and the top-level default', async () => {
  const { engine } = engineFor({
    default: 'allow',
    tools: { fluentcrm_pause_campaign: { action: 'deny', reason: 'campaigns are run by people' } },
    servers: { strict: { default: 'deny' } },
  });
  const denied = await engine.decide(call('fluentcrm_pause_campaign', { campaignId: 1 }));
  assert.equal(denied.decision, 'denied');
  assert.equal(denied.reason, 'campaigns are run by people');
  const serverDefault = await engine.decide(call('anything', {}, 'strict'));
  assert.equal(serverDefault.decision, 'denied');
  assert.equal(serverDefault.rule, 'servers.strict.default');
  assert.equal((await engine.decide(call('anything', {}, 'lenient'))).decision, 'allowed');
  // No default written: fail closed.
  const { engine: bare } = engineFor({ tools: {} });
  assert.equal((await bare.decide(call('anything'))).decision, 'denied');
});

test('step 4: validate_input rejects a path smuggled into a numeric id of the recorded FluentCRM schema', async () => {
  const { engine } = engineFor({ default: 'deny', tools: { fluentcrm_delete_contact: { validate_input: true } } });
  const event = await engine.decide(call('fluentcrm_delete_contact', { subscriberId: '1/../../campaigns/5/resume' }));
  assert.equal(event.decision, 'invalid_arguments');
  assert.equal(event.reason, '/subscriberId must be number');
  assert.equal((await engine.decide(call('fluentcrm_delete_contact', { subscriberId: 7 }))).decision, 'allowed');
  const missing = await engine.decide(call('fluentcrm_delete_contact', {}));
  assert.equal(missing.decision, 'invalid_arguments');
  assert.match(missing.reason, /must have the property "subscriberId"/);
});

test('step 4: the rule arguments schema adds to the input schema and every violation is reported', async () => {
  const { engine } = engineFor({
    default: 'deny',
    tools: {
      fluentcrm_resume_campaign: {
        validate_input: true,
        arguments: { properties: { campaignId: { type: 'integer', minimum: 1 }, note: { maxLength: 3 } }, required: ['campaignId'] },
      },
    },
  });
  const event = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 0.5, note: 'too long' }));
  assert.equal(event.decision, 'invalid_arguments');
  assert.match(event.reason, /\/campaignId must be integer/);
  assert.match(event.reason, /\/campaignId must be >= 1/);
  assert.match(event.reason, /\/note must NOT have more than 3 characters/);
  assert.equal((await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 3 }))).decision, 'allowed');
});

test('step 4: validate_input with no known schema fails closed', async () => {
  const { engine } = engineFor({ default: 'deny', tools: { unknown_tool: { validate_input: true } } });
  const event = await engine.decide(call('unknown_tool', {}));
  assert.equal(event.decision, 'invalid_arguments');
  assert.match(event.reason, /inputSchema of unknown_tool is unknown/);
});

test('step 5: a limit at its maximum rate-limits with retryAfterMs and the counter', async () => {
  const { engine, clock } = engineFor({
    default: 'deny',
    tools: { fluentcrm_resume_campaign: { limits: [{ counter: 'fluentcrm_resume_campaign_rate', window: 'minute', max: 2 }] } },
  });
  assert.equal((await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 1 }))).decision, 'allowed');
  clock.advance(10_000);
  assert.equal((await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 1 }))).decision, 'allowed');
  clock.advance(2_000);
  const limited = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 1 }));
  assert.equal(limited.decision, 'rate_limited');
  assert.equal(limited.rule, 'tools.fluentcrm_resume_campaign');
  assert.equal(limited.counter, 'fluentcrm_resume_campaign_rate');
  assert.equal(limited.reason, 'counter fluentcrm_resume_campaign_rate: 2 per minute reached');
  assert.equal(limited.retryAfterMs, 48_000);
});

test('step 5: an all_tools limit reports its own path', async () => {
  const { engine } = engineFor({ default: 'allow', all_tools: { limits: [{ window: 'second', max: 1 }] } });
  await engine.decide(call('a'));
  const limited = await engine.decide(call('b'));
  assert.equal(limited.decision, 'rate_limited');
  assert.equal(limited.rule, 'all_tools.limits[0]');
  assert.equal(limited.counter, 'all_tools.limits[0]');
});

test('step 6: approve asks the approver with redacted arguments; yes approves, no rejects', async () => {
  const { engine } = engineFor({
    default: 'deny',
    tools: { fluentcrm_resume_campaign: { action: 'approve', reason: 'Sends mail' } },
  });
  const asked: ApprovalRequest[] = [];
  const yes = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 4, apiToken: 'abc' }), async (request) => {
    asked.push(request);
    return { approved: true, by: 'a person' };
  });
  assert.equal(yes.decision, 'approved');
  assert.equal(asked[0]?.reason, 'Sends mail');
  assert.deepEqual(asked[0]?.arguments, { campaignId: 4, apiToken: '[redacted]' });
  const no = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 1 }), async () => ({ approved: false, by: 'a person' }));
  assert.equal(no.decision, 'rejected');
  const nobody = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 1 }));
  assert.equal(nobody.decision, 'rejected');
  assert.match(nobody.reason, /no approver was reachable/);
  const failing = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 1 }), async () => {
    throw new Error('dialog closed');
  });
  assert.equal(failing.decision, 'rejected');
  assert.match(failing.reason, /dialog closed/);
});

test('step 6: no answer within approval.timeout rejects and aborts the question', async () => {
  const { engine } = engineFor({ default: 'deny', approval: { timeout: 1 }, tools: { t: { action: 'approve' } } });
  let aborted = false;
  const started = Date.now();
  const event = await engine.decide(call('t'), (request) =>
    new Promise((resolve) => {
      request.signal.addEventListener('abort', () => {
        aborted = true;
      });
      setTimeout(() => resolve({ approved: true }), 5000).unref();
    }),
  );
  assert.equal(event.decision, 'rejected');
  assert.match(event.reason, /within 1 s/);
  assert.equal(aborted, true);
  assert.ok(Date.now() - started < 4000);
});

test('step 7: otherwise allowed, and the event has every field of the spec', async () => {
  const { engine } = engineFor({ default: 'deny', audit: { redact: ['*password*'] }, tools: { 'fluentcrm_list_*': {} } });
  const event = await engine.decide(call('fluentcrm_list_contacts', { page: 1, nested: { Password: 'x' } }));
  assert.equal(event.decision, 'allowed');
  assert.match(event.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.ok(!Number.isNaN(Date.parse(event.time)));
  assert.equal(event.server, 'fluentcrm');
  assert.equal(event.tool, 'fluentcrm_list_contacts');
  assert.deepEqual(event.arguments, { page: 1, nested: { Password: '[redacted]' } });
  assert.equal(event.rule, 'tools.fluentcrm_list_*');
  assert.equal(event.session, 's1');
  assert.equal(event.client, 'test 1.0');
  assert.match(event.policy, /^sha256:[0-9a-f]{64}$/);
  assert.equal(typeof event.evalMicros, 'number');
});

test('a blocked call is answered with isError, a [POLICY …] text and the event in _meta', async () => {
  const { engine } = engineFor({ default: 'deny', tools: {} });
  const event = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 1 }));
  const result = blockedCallResult(event);
  assert.equal(result.isError, true);
  assert.equal(result.content.length, 1);
  assert.match(result.content[0]!.text, /^\[POLICY DENIED\] fluentcrm_resume_campaign: .*\(rule: default\)/);
  assert.equal(result._meta[DECISION_META_KEY], event);
  const limited = blockedCallResult({ ...event, decision: 'rate_limited', retryAfterMs: 1500 });
  assert.match(limited.content[0]!.text, /^\[POLICY RATE LIMITED\].*Retry after 2 s\./);
  assert.match(blockedCallResult({ ...event, decision: 'invalid_arguments' }).content[0]!.text, /^\[POLICY INVALID ARGUMENTS\]/);
  assert.match(blockedCallResult({ ...event, decision: 'rejected' }).content[0]!.text, /^\[POLICY APPROVAL REJECTED\]/);
});

test('step 6: a call the client cancels while approval is pending is rejected, the question withdrawn, its units released', async () => {
  const { engine } = engineFor({ default: 'deny', tools: { ask: { action: 'approve', limits: [{ window: 'minute', max: 1 }] } } });
  const cancel = new AbortController();
  let withdrawn = false;
  let answer: (approved: boolean) => void = () => undefined;
  let asked: () => void = () => undefined;
  const beingAsked = new Promise<void>((resolve) => (asked = resolve));
  const pending = engine.decide(
    call('ask'),
    (request) =>
      new Promise((resolve) => {
        request.signal.addEventListener('abort', () => (withdrawn = true));
        answer = (approved) => resolve({ approved });
        asked();
      }),
    cancel.signal,
  );
  await beingAsked;
  cancel.abort();
  answer(true); // a late "yes" changes nothing
  const event = await pending;
  assert.equal(event.decision, 'rejected');
  assert.match(event.reason, /cancelled the call while approval was pending/);
  assert.equal(withdrawn, true);
  assert.equal((await engine.decide(call('ask'), async () => ({ approved: true }))).decision, 'approved', 'the unit was released');
  const already = new AbortController();
  already.abort();
  const fresh = engineFor({ default: 'deny', tools: { ask: { action: 'approve' } } }).engine;
  assert.equal((await fresh.decide(call('ask'), async () => ({ approved: true }), already.signal)).decision, 'rejected');
});

test('step 4: arguments are checked against a known input schema by default; validate_input: false opts out', async () => {
  const { engine } = engineFor({
    default: 'deny',
    tools: { fluentcrm_resume_campaign: { limits: [{ window: 'minute', max: 10 }] }, fluentcrm_pause_campaign: { validate_input: false } },
  });
  const injected = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: '../../../wp/v2/users/1?x=' }));
  assert.equal(injected.decision, 'invalid_arguments');
  assert.equal(injected.reason, '/campaignId must be number');
  assert.equal((await engine.decide(call('fluentcrm_pause_campaign', { campaignId: 'anything' }))).decision, 'allowed');
});

test('step 4: an unknown input schema refuses a call only where validate_input: true was written', async () => {
  const { engine } = engineFor({ default: 'allow', tools: { unknown_tool: {} } });
  assert.equal((await engine.decide(call('unknown_tool', { any: 1 }))).decision, 'allowed');
  assert.equal((await engine.decide(call('not_in_catalog', { any: 1 }))).decision, 'allowed', 'the default allows and no schema is known');
  const noRule = await engine.decide(call('fluentcrm_resume_campaign', { campaignId: 'x' }));
  assert.equal(noRule.decision, 'invalid_arguments', 'a call allowed by default is checked too');
});

test('step 1: risk-class selectors come after names and globs and before default; the catalog gives the class', async () => {
  const { engine } = engineFor({
    default: 'deny',
    tools: {
      '@destructive': { action: 'approve', reason: 'destructive' },
      '@read': {},
      '@execute:critical': { action: 'deny', reason: 'never' },
      '@execute:high': { action: 'approve' },
      fluentcrm_delete_tag: { action: 'deny' },
      'fluentcrm_list_t*': { action: 'deny' },
    },
  });
  const listed = await engine.decide(call('fluentcrm_list_contacts'));
  assert.equal(listed.decision, 'allowed');
  assert.equal(listed.rule, 'tools["@read"]');
  assert.equal((await engine.evaluate(call('fluentcrm_delete_contact', { subscriberId: 1 }))).rule, 'tools["@destructive"]');
  assert.equal((await engine.decide(call('fluentcrm_delete_tag', { id: 1 }))).rule, 'tools.fluentcrm_delete_tag', 'an exact name beats a selector');
  assert.equal((await engine.decide(call('fluentcrm_list_tags'))).rule, 'tools.fluentcrm_list_t*', 'a glob beats a selector');
  assert.equal((await engine.evaluate(call('fluentcrm_resume_campaign', { campaignId: 1 }))).rule, 'tools["@execute:high"]');
  const written = await engine.decide(call('fluentcrm_create_tag', { title: 't' }));
  assert.equal(written.decision, 'denied');
  assert.equal(written.rule, 'default', 'no selector covers write');
  assert.equal((await engine.decide(call('not_in_catalog'))).rule, 'default', 'a tool of unknown class falls to default');
});

test('step 1: servers.S selectors come before top-level ones, and a name at the top beats a selector of S', async () => {
  const { engine } = engineFor({
    default: 'deny',
    tools: { '@read': { action: 'deny', reason: 'top' }, fluentcrm_get_contact: { action: 'deny', reason: 'named' } },
    servers: { fluentcrm: { tools: { '@read': {} } } },
  });
  assert.equal((await engine.decide(call('fluentcrm_list_contacts'))).rule, 'servers.fluentcrm.tools["@read"]');
  assert.equal((await engine.decide(call('fluentcrm_get_contact', { subscriberId: 1 }))).rule, 'tools.fluentcrm_get_contact');
});

test('a live risk source serves selectors for tools the catalog lacks, and a change is seen on the next call', async () => {
  const { engine } = engineFor({ default: 'deny', tools: { '@destructive': { action: 'deny', reason: 'no' }, '@read': {} } });
  let live: 'read' | 'destructive' = 'read';
  engine.policy.setToolRisk((_server, tool) => (tool === 'added_later' ? { class: live, severity: 'high', why: 'live' } : undefined));
  assert.equal((await engine.decide(call('added_later'))).rule, 'tools["@read"]');
  live = 'destructive';
  engine.policy.riskChanged();
  assert.equal((await engine.decide(call('added_later'))).rule, 'tools["@destructive"]');
});
