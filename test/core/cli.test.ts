import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixturePath } from './helpers';

const cli = fixturePath('..', '..', 'dist', 'cli.js');
const example = fixturePath('..', '..', 'examples', 'crm', 'mcp-policy.json');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mcp-policy-cli-')), name);
  writeFileSync(path, text);
  return path;
}

test('check: a clean policy prints nothing and exits 0', () => {
  const result = run('check', example);
  assert.equal(result.stdout, '');
  assert.equal(result.code, 0);
});

test('check: errors print file:line:col: severity: message [code] and exit 1', () => {
  const file = tempFile('mcp-policy.json', '{\n  "version": "1",\n  "default": "alow",\n  "tools": { "fluentcrm_resme_campaign": {} }\n}\n');
  const result = run('check', '--catalog', fixturePath('spec-example', 'mcp-policy.catalog.json'), file);
  assert.equal(result.code, 1);
  const lines = result.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    `${file}:3:14: error: "default" must be one of "allow", "deny", "approve" [schema]`,
    `${file}:4:14: warning: unknown tool "fluentcrm_resme_campaign" (not in the tool catalog); did you mean "fluentcrm_resume_campaign"? [unknown-tool]`,
  ]);
  assert.equal(result.stderr, '');
});

test('check: warnings alone exit 0', () => {
  const file = tempFile('mcp-policy.json', '{"version":"1","hide":["*_delete_*"],"tools":{"fluentcrm_delete_contact":{}}}');
  const result = run('check', file);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /warning: .*hidden by "\*_delete_\*".*\[hidden-rule\]/);
});

test('check: a file that is not JSON, not a policy, or missing gets one clear line, never a stack trace', () => {
  const notJson = tempFile('a.json', 'hello');
  const notPolicy = tempFile('b.json', '{"name": "package"}');
  const result = run('check', notJson, notPolicy, '/no/such/mcp-policy.json');
  assert.equal(result.code, 2, 'an unreadable file is exit 2');
  assert.match(result.stdout, new RegExp(`^${notJson}:1:1: error: .*\\[syntax\\]$`, 'm'));
  assert.match(result.stdout, new RegExp(`^${notPolicy}:1:2: error: unknown property "name".*\\[unknown-property\\]$`, 'm'));
  assert.match(result.stdout, /^\/no\/such\/mcp-policy\.json:1:1: error: file not found \[unreadable-file\]$/m);
  assert.doesNotMatch(result.stdout + result.stderr, /at .*\.js:\d+/);
  const folder = run('check', fixturePath());
  assert.equal(folder.code, 2);
  assert.match(folder.stdout, /is a folder/);
});

test('check: --format json lists every diagnostic with its place', () => {
  const file = tempFile('mcp-policy.json', '{"version":"1","toolz":{}}');
  const result = run('check', '--format', 'json', file);
  assert.equal(result.code, 1);
  const parsed = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(parsed, [{ file, line: 1, column: 16, endLine: 1, endColumn: 23, severity: 'error', code: 'unknown-property', message: parsed[0]!.message }]);
});

test('check: bad usage exits 2', () => {
  assert.equal(run('check').code, 2);
  assert.equal(run('check', '--format', 'xml', example).code, 2);
  assert.equal(run('check', '--nope', example).code, 2);
  assert.equal(run('frobnicate').code, 2);
});

test('explain prints the decision event for one call and exits 0', () => {
  const invalid = run('explain', example, '--tool', 'fluentcrm_resume_campaign', '--args', '{"campaignId":"1/../../campaigns/5/resume"}');
  assert.equal(invalid.code, 0);
  const event = JSON.parse(invalid.stdout) as Record<string, unknown>;
  assert.equal(event.decision, 'invalid_arguments');
  assert.equal(event.server, 'fluentcrm');
  assert.equal(event.rule, 'tools.fluentcrm_resume_campaign');
  assert.match(String(event.reason), /\/campaignId must be number/);
  const hidden = JSON.parse(run('explain', example, '--tool', 'fluentcrm_delete_contact', '--args', '{"subscriberId":1}').stdout) as Record<string, unknown>;
  assert.equal(hidden.decision, 'denied');
  assert.equal(hidden.rule, 'hide[0]');
  const allowed = JSON.parse(run('explain', example, '--tool', 'fluentcrm_list_contacts').stdout) as Record<string, unknown>;
  assert.equal(allowed.decision, 'allowed');
  const fallsToDefault = JSON.parse(run('explain', example, '--tool', 'fluentcrm_create_webhook', '--server', 'fluentcrm').stdout) as Record<string, unknown>;
  assert.equal(fallsToDefault.decision, 'denied');
  assert.equal(fallsToDefault.rule, 'default');
});

test('explain: an approve rule says what would happen, and --approve shows the approved path', () => {
  const policy = tempFile('mcp-policy.json', '{"version":"1","tools":{"send":{"action":"approve","reason":"Sends mail"}}}');
  const unasked = JSON.parse(run('explain', policy, '--tool', 'send').stdout) as Record<string, unknown>;
  assert.equal(unasked.decision, 'rejected');
  assert.match(String(unasked.reason), /needs approval/);
  const approved = JSON.parse(run('explain', policy, '--tool', 'send', '--approve').stdout) as Record<string, unknown>;
  assert.equal(approved.decision, 'approved');
});

test('explain: bad usage exits 2, an invalid policy exits 1 with its errors', () => {
  assert.equal(run('explain', example).code, 2, '--tool is required');
  assert.equal(run('explain', example, '--tool', 't', '--args', '{nope').code, 2);
  const broken = tempFile('mcp-policy.json', '{"version":"1","default":"alow"}');
  const result = run('explain', broken, '--tool', 't');
  assert.equal(result.code, 1);
  assert.match(result.stderr, /:1:26: error: "default" must be one of/);
});
