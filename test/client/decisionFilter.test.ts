/** The Decisions view's filter (client/decisionFilter.ts), without VS Code. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DecisionEvent } from '../../core';
import { blockedOnlyFilter, parseDecisionFilter, type DecisionFilter } from '../../client/decisionFilter';

const NOW = Date.parse('2026-12-01T23:00:00Z');

function event(fields: Partial<DecisionEvent> & Pick<DecisionEvent, 'id' | 'server' | 'tool' | 'decision'>): DecisionEvent {
  return { time: '2026-12-01T22:59:00Z', arguments: {}, rule: `tools.${fields.tool}`, reason: 'because', policy: 'sha256:x', evalMicros: 3, ...fields };
}

const EVENTS: DecisionEvent[] = [
  event({ id: 'a', server: 'fs', tool: 'read_text_file', decision: 'allowed', upstream: { ok: true, ms: 4 } }),
  event({ id: 'b', server: 'fs', tool: 'read_text_file', decision: 'allowed', upstream: { ok: false, ms: 2, error: 'ENOENT: no such file' } }),
  event({ id: 'c', server: 'fs', tool: 'write_file', decision: 'denied', reason: 'Agents may look, never change' }),
  event({ id: 'd', server: 'crm', tool: 'fluentcrm_resume_campaign', decision: 'rate_limited', time: '2026-12-01T20:00:00Z' }),
  event({ id: 'e', server: 'crm', tool: 'fluentcrm_list_contacts', decision: 'approved', time: '2026-11-30T12:00:00Z' }),
  event({ id: 'f', server: 'crm-staging', tool: 'fluentcrm_delete_contact', decision: 'rejected' }),
];

function filter(query: string): DecisionFilter {
  const parsed = parseDecisionFilter(query);
  assert.ok(parsed.ok, `"${query}" did not parse: ${parsed.ok ? '' : parsed.error}`);
  assert.ok(parsed.filter, `"${query}" is no filter`);
  return parsed.filter;
}

function ids(query: string): string[] {
  const f = filter(query);
  return EVENTS.filter((e) => f.matches(e, NOW)).map((e) => e.id);
}

function error(query: string): string {
  const parsed = parseDecisionFilter(query);
  assert.equal(parsed.ok, false, `"${query}" parsed`);
  return parsed.ok ? '' : parsed.error;
}

test('an empty query is no filter', () => {
  assert.deepEqual(parseDecisionFilter(''), { ok: true, filter: undefined });
  assert.deepEqual(parseDecisionFilter('   '), { ok: true, filter: undefined });
});

test('by decision: names, groups and lists', () => {
  assert.deepEqual(ids('decision:denied'), ['c']);
  assert.deepEqual(ids('decision:blocked'), ['c', 'd', 'f']);
  assert.deepEqual(ids('decision:forwarded'), ['a', 'b', 'e']);
  assert.deepEqual(ids('decision:denied,rejected'), ['c', 'f']);
  assert.deepEqual(ids('Decision:DENIED'), ['c']);
  assert.deepEqual(EVENTS.filter((e) => blockedOnlyFilter().matches(e, NOW)).map((e) => e.id), ['c', 'd', 'f']);
});

test('by server: exact name or glob, never a prefix', () => {
  assert.deepEqual(ids('server:crm'), ['d', 'e']);
  assert.deepEqual(ids('server:crm*'), ['d', 'e', 'f']);
  assert.deepEqual(ids('server:f'), []);
});

test('by tool: a glob, or text the name contains in any case', () => {
  assert.deepEqual(ids('tool:fluentcrm_*_contact*'), ['e', 'f']);
  assert.deepEqual(ids('tool:CONTACT'), ['e', 'f']);
  assert.deepEqual(ids('tool:read_text_file'), ['a', 'b']);
});

test('by time: relative to now and absolute, since and until', () => {
  assert.deepEqual(ids('since:15m'), ['a', 'b', 'c', 'f']);
  assert.deepEqual(ids('since:4h'), ['a', 'b', 'c', 'd', 'f']);
  assert.deepEqual(ids('until:1d'), ['e']);
  assert.deepEqual(ids('since:2026-12-01T00:00:00Z until:2026-12-01T21:00:00Z'), ['d']);
  // Relative bounds move with the clock: the same filter an hour later lets less through.
  const recent = filter('since:30m');
  assert.equal(recent.matches(EVENTS[0]!, NOW), true);
  assert.equal(recent.matches(EVENTS[0]!, NOW + 3_600_000), false);
});

test('by the upstream answer of a forwarded call', () => {
  assert.deepEqual(ids('upstream:failed'), ['b']);
  assert.deepEqual(ids('upstream:ok'), ['a']);
});

test('words search the tool, server, reason and rule; terms combine', () => {
  assert.deepEqual(ids('never'), ['c']);
  assert.deepEqual(ids('resume'), ['d']);
  assert.deepEqual(ids('server:fs decision:allowed upstream:failed'), ['b']);
  assert.deepEqual(ids('server:crm* decision:blocked since:1h'), ['f']);
});

test('the text shown is the terms in one order, so the same filter reads the same', () => {
  assert.equal(filter('  tool:write*   server:fs   decision:denied  ').text, 'decision:denied server:fs tool:write*');
  assert.equal(filter('never server:fs').text, 'server:fs never');
});

test('bad terms say which and why', () => {
  assert.match(error('decision:blokced'), /"decision:blokced": "blokced" is not a decision \(allowed, .*blocked, forwarded\)/);
  assert.match(error('since:yesterday'), /"since:yesterday": not a time/);
  assert.match(error('serevr:fs'), /unknown key "serevr"/);
  assert.match(error('server:'), /server: needs a value/);
  assert.match(error('server:fs server:crm'), /server: is given twice/);
  assert.match(error('upstream:maybe'), /use upstream:failed or upstream:ok/);
});
