/**
 * mcp-policy replay on audit logs: one recorded by the demo (the real serve, the real demo
 * server, the scripted agent), and small hand-written ones for redaction, approvals and time.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, repoRoot, tempFolder, writePolicy } from './helpers';

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function auditLine(fields: Record<string, unknown>): string {
  return JSON.stringify({ id: `id-${String(fields.time)}`, policy: 'sha256:x', evalMicros: 1, reason: 'recorded', ...fields });
}

test('replay: on the demo\'s audit log, a send limit tightened from 2 to 1 changes exactly the second send', (t) => {
  const folder = tempFolder(t);
  const audit = join(folder, 'audit.jsonl');
  const demo = spawnSync(process.execPath, [join(repoRoot, 'dist', 'demo-agent.js'), '--audit', audit], { encoding: 'utf8' });
  assert.equal(demo.status, 0, demo.stdout + demo.stderr);
  const example = readFileSync(join(repoRoot, 'examples', 'crm', 'mcp-policy.json'), 'utf8');
  const from = '"counter": "campaign_sends", "window": "minute", "max": 2';
  assert.ok(example.includes(from));
  copyFileSync(join(repoRoot, 'examples', 'crm', 'mcp-policy.catalog.json'), join(folder, 'mcp-policy.catalog.json'));
  const draft = join(folder, 'mcp-policy.json');
  writeFileSync(draft, example.replace(from, from.replace('"max": 2', '"max": 1')));

  const unchanged = run('replay', audit, '--policy', join(repoRoot, 'examples', 'crm', 'mcp-policy.json'), '--fail-on-change');
  assert.equal(unchanged.code, 0, unchanged.stdout + unchanged.stderr);
  assert.match(unchanged.stdout, /: 6 recorded decisions replayed against .*: 0 changes\nNo decision changes\.\n$/);

  const tightened = run('replay', audit, '--policy', draft, '--fail-on-change');
  assert.equal(tightened.code, 1, tightened.stdout + tightened.stderr);
  const lines = tightened.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /: 6 recorded decisions replayed against .*mcp-policy\.json: 1 change$/);
  assert.match(lines[1]!, /^ {2}line \d+ \S+ fluentcrm\/fluentcrm_resume_campaign \{"campaignId":6\} \(grant token:/);
  assert.equal(lines[2], '    allowed → rate_limited (rule tools.fluentcrm_resume_campaign → tools.fluentcrm_resume_campaign): counter campaign_sends: 1 per minute reached');
  assert.equal(lines[3], 'Totals: allowed → rate_limited: 1');
  assert.equal(lines.length, 4);

  assert.equal(run('replay', audit, '--policy', draft).code, 0, 'without --fail-on-change a change is not a failure');
  const json = JSON.parse(run('replay', audit, '--policy', draft, '--format', 'json').stdout) as { replayed: number; changed: Array<{ tool: string; arguments: unknown; before: { decision: string }; after: { decision: string } }>; totals: Record<string, number> };
  assert.equal(json.replayed, 6);
  assert.deepEqual(json.changed.map((call) => [call.tool, call.arguments, call.before.decision, call.after.decision]), [['fluentcrm_resume_campaign', { campaignId: 6 }, 'allowed', 'rate_limited']]);
  assert.deepEqual(json.totals, { 'allowed → rate_limited': 1 });
});

test('replay: counters follow recorded time, not line order, and windows pass on the recorded clock', (t) => {
  const folder = tempFolder(t);
  const audit = join(folder, 'audit.jsonl');
  // Lines out of time order (two proxies appending): the 10:00:30 call is the second in time.
  writeFileSync(audit, [
    auditLine({ time: '2026-01-01T10:00:00.000Z', server: 's', tool: 'send', arguments: {}, decision: 'allowed', rule: 'tools.send', grant: 'g' }),
    auditLine({ time: '2026-01-01T10:01:30.000Z', server: 's', tool: 'send', arguments: {}, decision: 'allowed', rule: 'tools.send', grant: 'g' }),
    auditLine({ time: '2026-01-01T10:00:30.000Z', server: 's', tool: 'send', arguments: {}, decision: 'allowed', rule: 'tools.send', grant: 'g' }),
    JSON.stringify({ id: 'x', time: '2026-01-01T10:00:00.100Z', server: 's', tool: 'send', decision: 'allowed', upstream: { ok: true, ms: 3 } }),
    'not json',
    '',
  ].join('\n'));
  const draft = writePolicy(folder, { version: '1', tools: { send: { limits: [{ window: 'minute', max: 1 }] } } });
  const result = run('replay', audit, '--policy', draft, '--fail-on-change');
  assert.equal(result.code, 1, result.stdout);
  const changed = result.stdout.split('\n').filter((line) => line.startsWith('  line '));
  assert.equal(changed.length, 1, result.stdout);
  assert.match(changed[0]!, /^ {2}line 3 2026-01-01T10:00:30\.000Z s\/send/);
  assert.match(result.stdout, /skipped line 5: not JSON/);
  assert.match(result.stdout, /Totals: allowed → rate_limited: 1\n$/);
});

test('replay: redacted arguments stay redacted, and a check on a redacted value is called out', (t) => {
  const folder = tempFolder(t);
  const audit = join(folder, 'audit.jsonl');
  writeFileSync(audit, `${auditLine({ time: '2026-01-01T10:00:00.000Z', server: 's', tool: 'login', arguments: { user: 'ada', password: '[redacted]' }, decision: 'allowed', rule: 'tools.login' })}\n`);
  // "[redacted]" is 10 characters: the draft's minLength fails on the placeholder, and says so.
  const strict = writePolicy(folder, { version: '1', tools: { login: { arguments: { properties: { password: { type: 'string', minLength: 12 } } } } } });
  const changed = run('replay', audit, '--policy', strict);
  assert.equal(changed.code, 0, changed.stdout + changed.stderr);
  assert.match(changed.stdout, /1 change\n {2}line 1 \S+ s\/login \{"user":"ada","password":"\[redacted\]"\}\n {4}allowed → invalid_arguments \(rule tools\.login → tools\.login\): \/password must NOT have fewer than 12 characters\n {4}note: the draft checks the redacted value at password; the log does not hold it, so with the real value the decision could differ from invalid_arguments\n/);
  // A check the placeholder passes: no change, and still the note.
  const loose = writePolicy(folder, { version: '1', tools: { login: { arguments: { properties: { password: { type: 'string' } } } } } }, 'loose.mcp-policy.json');
  const unchanged = run('replay', audit, '--policy', loose);
  assert.match(unchanged.stdout, /0 changes\n {2}note: line 1 .*s\/login .*: the draft checks the redacted value at password; the log does not hold it, so with the real value the decision could differ from allowed\n/);
  // A rule that checks no arguments needs no note.
  const plain = writePolicy(folder, { version: '1', tools: { login: {} } }, 'plain.mcp-policy.json');
  assert.doesNotMatch(run('replay', audit, '--policy', plain).stdout, /note:/);
});

test('replay: a call the draft sends to approval reuses the recorded answer, or says a person would be asked', (t) => {
  const folder = tempFolder(t);
  const audit = join(folder, 'audit.jsonl');
  writeFileSync(audit, [
    auditLine({ time: '2026-01-01T10:00:00.000Z', server: 's', tool: 'send', arguments: { n: 1 }, decision: 'approved', rule: 'tools.send' }),
    auditLine({ time: '2026-01-01T10:00:01.000Z', server: 's', tool: 'send', arguments: { n: 2 }, decision: 'rejected', rule: 'tools.send', reason: 'rejected by VS Code' }),
    auditLine({ time: '2026-01-01T10:00:02.000Z', server: 's', tool: 'read', arguments: {}, decision: 'allowed', rule: 'tools.read' }),
  ].join('\n'));
  const draft = writePolicy(folder, { version: '1', tools: { send: { action: 'approve' }, read: { action: 'approve' } } });
  const result = run('replay', audit, '--policy', draft);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /1 change\n/);
  assert.match(result.stdout, /line 3 .*s\/read \{\}\n {4}allowed → approval_required \(rule tools\.read → tools\.read\): this tool needs approval: a person would be asked/);
  assert.match(result.stdout, /Totals: allowed → approval_required: 1\n$/);
});

test('replay: bad usage exits 2; an unreadable log exits 2; an invalid draft exits 1 with its errors', (t) => {
  const folder = tempFolder(t);
  const draft = writePolicy(folder, { version: '1' });
  assert.equal(run('replay', '--policy', draft).code, 2);
  assert.equal(run('replay', join(folder, 'audit.jsonl')).code, 2, '--policy is required');
  const missing = run('replay', join(folder, 'nope.jsonl'), '--policy', draft);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope\.jsonl: ENOENT/);
  writeFileSync(join(folder, 'audit.jsonl'), '');
  const broken = writePolicy(folder, { version: '1', default: 'alow' }, 'broken.mcp-policy.json');
  const invalid = run('replay', join(folder, 'audit.jsonl'), '--policy', broken);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /broken\.mcp-policy\.json:\d+:\d+: error: "default" must be one of/);
});
