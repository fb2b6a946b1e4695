import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixturePath } from './helpers';

const cli = fixturePath('..', '..', 'dist', 'cli.js');
const exampleFolder = fixturePath('..', '..', 'examples', 'crm');
const example = join(exampleFolder, 'mcp-policy.json');
const exampleText = readFileSync(example, 'utf8');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The example with one edit, beside a copy of its catalog (validate_input needs it). */
function exampleWith(from: string, to: string): { file: string; text: string } {
  assert.ok(exampleText.includes(from), `the example contains ${from}`);
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-tests-'));
  copyFileSync(join(exampleFolder, 'mcp-policy.catalog.json'), join(folder, 'mcp-policy.catalog.json'));
  const file = join(folder, 'mcp-policy.json');
  const text = exampleText.replace(from, to);
  writeFileSync(file, text);
  return { file, text };
}

function policyFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mcp-policy-tests-')), 'mcp-policy.json');
  writeFileSync(file, text);
  return file;
}

/** "line:col" (1-based) of the first occurrence of `needle` in `text`: written independently of the runner's positions. */
function positionOf(text: string, needle: string): string {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `${needle} is in the text`);
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

test('mcp-policy test: the CRM example passes its own suite, and every rule, hide entry and limit is exercised', () => {
  const result = run('test', example);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 0, result.stdout);
  assert.equal(result.stdout, '21 tests: 21 passed, 0 failed\n');
});

test('mcp-policy test: a send limit loosened from 2 to 3 fails the limit tests at their steps', () => {
  const { file, text } = exampleWith('"counter": "campaign_sends", "window": "minute", "max": 2', '"counter": "campaign_sends", "window": "minute", "max": 3');
  const result = run('test', file);
  assert.equal(result.code, 1);
  const fails = result.stdout.split('\n').filter((line) => line.includes(': FAIL '));
  assert.deepEqual(fails, [
    `${file}:${positionOf(text, '{ "at": 20,')}: FAIL two sends a minute: the third waits until the first leaves the window: expected rate_limited, got allowed (rule tools.fluentcrm_resume_campaign: Sends mail to every contact of the campaign) at fluentcrm_resume_campaign, step 3 of 4`,
    `${file}:${positionOf(text, '{ "grant": "alice", "tool": "fluentcrm_resume_campaign", "arguments": { "campaignId": 5 }, "expect": "rate_limited" }')}: FAIL every client has its own send budget: expected rate_limited, got allowed (rule tools.fluentcrm_resume_campaign: Sends mail to every contact of the campaign) at fluentcrm_resume_campaign, step 2 of 3`,
  ]);
  assert.match(result.stdout, /no test exercised 1 of the policy's rules, hide entries and limits:\n {2}.*: limit tools\.fluentcrm_resume_campaign\.limits\[0\] \(counter campaign_sends\)\n/);
  assert.match(result.stdout, /21 tests: 19 passed, 2 failed\n$/);
});

test('mcp-policy test: with validate_input off the path-traversal id test fails at its own line', () => {
  const { file, text } = exampleWith('"fluentcrm_update_contact": {\n      "limits": [{ "counter": "contact_writes", "window": "minute", "max": 20 }],\n      "validate_input": true', '"fluentcrm_update_contact": {\n      "limits": [{ "counter": "contact_writes", "window": "minute", "max": 20 }],\n      "validate_input": false');
  const result = run('test', file);
  assert.equal(result.code, 1);
  const at = positionOf(text, '{\n      "name": "a crafted contact id');
  assert.ok(result.stdout.includes(`${file}:${at}: FAIL a crafted contact id that walks to /campaigns/5/resume never reaches the server: expected invalid_arguments, got allowed (rule tools.fluentcrm_update_contact`), result.stdout);
  assert.match(result.stdout, /21 tests: 20 passed, 1 failed/);
});

test('mcp-policy test: hide, default and approve rules each break their own tests', () => {
  const unhidden = run('test', exampleWith('"hide": ["*_delete_*"]', '"hide": []').file);
  assert.equal(unhidden.code, 1);
  assert.match(unhidden.stdout, /FAIL deleting a contact is hidden, and refused when called anyway: expected denied, got denied \(rule default|FAIL deleting a contact is hidden.*expected rule hide\[0\], got denied \(rule default/);
  assert.match(unhidden.stdout, /FAIL deleting a campaign is hidden too: expected rule hide\[0\], got denied \(rule default/);

  const allowed = run('test', exampleWith('"action": "approve",\n      "reason": "An automation', '"reason": "An automation').file);
  assert.equal(allowed.code, 1);
  assert.match(allowed.stdout, /FAIL an automation runs when a person approves it: expected approved, got allowed/);
  assert.match(allowed.stdout, /FAIL an automation a person rejects is not created: expected rejected, got allowed/);
  assert.match(allowed.stdout, /FAIL no answer within approval.timeout is a rejection: expected rejected, got allowed/);
  assert.match(allowed.stdout, /21 tests: 18 passed, 3 failed/);
});

test('mcp-policy test: the approval timeout test fails when the timeout changes, without waiting for it', () => {
  const result = run('test', exampleWith('"approval": { "timeout": 60 }', '"approval": { "timeout": 300 }').file);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /FAIL no answer within approval.timeout is a rejection: expected a reason containing "no answer from the approver within 60 s", got rejected \(rule tools.fluentcrm_create_automation: no answer from the approver within 300 s\)/);
});

test('mcp-policy test: retry_after and limits across time on the test clock', () => {
  const file = policyFile(JSON.stringify({
    version: '1',
    default: 'allow',
    tools: { search: { limits: [{ window: 30, max: 10, scope: 'session' }] } },
    tests: [
      { name: 'eleven in 30 s', session: 's1', steps: [{ tool: 'search', repeat: 10, expect: 'allowed' }, { at: 5, tool: 'search', expect: 'rate_limited', retry_after: 25 }, { at: 30, tool: 'search', expect: 'allowed' }] },
      { name: 'wrong retry', steps: [{ tool: 'search', repeat: 10, expect: 'allowed' }, { tool: 'search', expect: 'rate_limited', retry_after: 29 }] },
      { name: 'sessions count apart', steps: [{ session: 'a', tool: 'search', repeat: 10, expect: 'allowed' }, { session: 'b', tool: 'search', expect: 'allowed' }] },
    ],
  }, null, 2));
  const result = run('test', file);
  assert.equal(result.code, 1);
  const fails = result.stdout.split('\n').filter((line) => line.includes('FAIL'));
  assert.equal(fails.length, 1, result.stdout);
  assert.match(fails[0]!, /FAIL wrong retry: expected retry after 29 s, got 30 s/);
});

test('mcp-policy test: --format json and junit carry the same results', () => {
  const { file } = exampleWith('"fluentcrm_dashboard_stats": {},', '');
  const json = run('test', '--format', 'json', file);
  assert.equal(json.code, 1);
  const [report] = JSON.parse(json.stdout) as Array<{ file: string; tests: Array<{ name: string; passed: boolean; line: number; failures: Array<{ message: string; event: { decision: string } }> }>; uncovered: unknown[] }>;
  assert.equal(report?.tests.length, 21);
  const failed = report!.tests.filter((entry) => !entry.passed);
  assert.deepEqual(failed.map((entry) => entry.name), ['dashboard stats are allowed', '120 calls a minute on every tool together']);
  assert.equal(failed[0]!.failures[0]!.event.decision, 'denied');
  const junit = run('test', '--format', 'junit', file);
  assert.equal(junit.code, 1);
  assert.match(junit.stdout, /<testsuites name="mcp-policy test" tests="21" failures="2">/);
  assert.match(junit.stdout, /<testcase name="dashboard stats are allowed" [^>]*line="\d+">\n {6}<failure message="expected allowed, got denied/);
});

test('mcp-policy test: a malformed test is an error at its place, and bad usage exits 2', () => {
  const file = policyFile('{\n  "version": "1",\n  "tests": [\n    { "name": "no expectation", "tool": "t" }\n  ]\n}\n');
  const result = run('test', file);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:5: error: `));
  assert.equal(run('test').code, 2);
  assert.equal(run('test', '--format', 'tap', example).code, 2);
});

test('mcp-policy test: a policy without tests says so, and its rules show as not exercised', () => {
  const result = run('test', policyFile('{"version":"1","tools":{"read":{}}}'));
  assert.equal(result.code, 0);
  assert.match(result.stdout, /no tests \(add a "tests" list to the policy\)/);
  assert.match(result.stdout, /: rule tools\.read\n0 tests: 0 passed, 0 failed\n$/);
});
