/**
 * The Tool Catalog's effective decisions and Add Rule edits (client/catalogDecisions.ts,
 * client/catalogRuleEdits.ts), without VS Code: the real engine's rule lookup decides, and the
 * edited text is checked both as text (neighbours untouched) and by the real CLI's `explain`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { catalogFromToolsList, ToolCatalog } from '../../core';
import { policyVerdicts } from '../../client/catalogDecisions';
import { addRuleEdits, changedSpan, parseLimit, ruleTarget } from '../../client/catalogRuleEdits';
import { cli, tempFolder } from '../proxy/helpers';

const schema = { type: 'object', properties: { path: { type: 'string' } } };
const catalog = new ToolCatalog([
  catalogFromToolsList('fs', ['read_file', 'read_dir', 'write_file', 'move_file', 'delete_file', 'stat', 'create_directory'].map((name) => ({ name, description: name, inputSchema: schema }))),
]);

/** A hand-written policy: comments, a compact rule, the server section holding its own rules. */
const POLICY = `{
  // reviewed 2026-11-30
  "version": "1",
  "default": "deny",
  "hide": ["move_*"],
  "tools": {
    "write_file": { "action": "deny", "reason": "no writes" },
    "stat": {}
  },
  "servers": {
    "fs": {
      "upstream": { "command": "true" },
      "tools": {
        "read_*": {   "limits": [{ "window": "minute", "max": 5 }] },  // keep this spacing
        "delete_file": { "action": "approve" }
      }
    }
  }
}
`;

test('every catalog tool gets the decision the engine would make, with the deciding rule', () => {
  const verdicts = policyVerdicts(POLICY, catalog);
  assert.ok(verdicts);
  const table = Object.fromEntries(['read_file', 'write_file', 'move_file', 'delete_file', 'stat', 'create_directory'].map((tool) => {
    const verdict = verdicts.verdict('fs', tool);
    return [tool, [verdict.effect, verdict.rule]];
  }));
  assert.deepEqual(table, {
    read_file: ['limited', 'servers.fs.tools.read_*'],
    write_file: ['denied', 'tools.write_file'],
    move_file: ['hidden', 'hide[0]'],
    delete_file: ['approve', 'servers.fs.tools.delete_file'],
    stat: ['allowed', 'tools.stat'],
    create_directory: ['denied', 'default'],
  });
  assert.equal(verdicts.verdict('fs', 'write_file').reason, 'no writes');
  assert.deepEqual(verdicts.verdict('fs', 'read_file').limits, ['5 per minute']);
  assert.equal(verdicts.problem, undefined);
});

test('a rule goes into servers.S.tools when the policy has one; only the new lines change', () => {
  const result = addRuleEdits(POLICY, { server: 'fs', tool: 'create_directory', action: 'approve', limit: { max: 10, window: 'minute' } }, catalog);
  assert.deepEqual(result.path, ['servers', 'fs', 'tools', 'create_directory']);
  assert.equal(result.decides, true);
  assert.equal(result.verdict?.effect, 'approve');
  assert.deepEqual(result.verdict?.limits, ['10 per minute']);
  // Every line of the original is still there, in order, the compact rule's spacing and comments too.
  const before = POLICY.split('\n');
  const after = result.text.split('\n');
  assert.equal(after.length > before.length, true);
  const kept = after.filter((line) => before.includes(line));
  assert.deepEqual(kept, before.filter((line) => after.includes(line)));
  assert.match(result.text, /"read_\*": \{ {3}"limits": \[\{ "window": "minute", "max": 5 \}\] \},\s+\/\/ keep this spacing/);
  assert.match(result.text, /"delete_file": \{ "action": "approve" \},\n {8}"create_directory": \{\n {10}"action": "approve",\n {10}"limits": \[/);
  const span = changedSpan(POLICY, result.text);
  assert.ok(span.offset > POLICY.indexOf('"delete_file"'), 'the edit starts before the server section\'s last rule');
});

test('without a server section the rule goes to top-level tools; an exact rule is edited in place', () => {
  const flat = `{\n  "version": "1",\n  "tools": {\n    "write_file": { "action": "deny", "reason": "no writes" }\n  }\n}\n`;
  assert.deepEqual(ruleTarget(JSON.parse(flat), 'fs', 'stat'), ['tools', 'stat']);
  const allowed = addRuleEdits(flat, { server: 'fs', tool: 'write_file', action: 'allow', limit: { max: 3, window: 'hour' } }, catalog);
  assert.deepEqual(allowed.path, ['tools', 'write_file']);
  assert.equal(allowed.verdict?.effect, 'limited');
  assert.equal(allowed.decides, true);
  assert.doesNotMatch(allowed.text, /"action"/);
  // An exact rule under the server's section wins over the top-level one: that is where it goes.
  assert.deepEqual(ruleTarget(JSON.parse(JSON.stringify({ tools: { stat: {} }, servers: { fs: { tools: {} } } })), 'fs', 'stat'), ['servers', 'fs', 'tools', 'stat']);
});

test('a rule that a hide entry overrides is written but reported as not deciding', () => {
  const result = addRuleEdits(POLICY, { server: 'fs', tool: 'move_file', action: 'allow' }, catalog);
  assert.equal(result.decides, false);
  assert.equal(result.verdict?.effect, 'hidden');
  assert.equal(result.verdict?.rule, 'hide[0]');
  const hidden = addRuleEdits(POLICY, { server: 'fs', tool: 'stat', action: 'hide' }, catalog);
  assert.deepEqual(hidden.path, ['servers', 'fs', 'hide']);
  assert.equal(hidden.verdict?.effect, 'hidden');
  assert.equal(hidden.decides, true);
});

test('limits in words', () => {
  assert.deepEqual(parseLimit('10 per minute'), { max: 10, window: 'minute' });
  assert.deepEqual(parseLimit('100 per days'), { max: 100, window: 'day' });
  assert.deepEqual(parseLimit('5/30 s'), { max: 5, window: 30 });
  assert.deepEqual(parseLimit('3 / h'), { max: 3, window: 'hour' });
  assert.equal(parseLimit('0 per minute'), undefined);
  assert.equal(parseLimit('ten per minute'), undefined);
  assert.equal(parseLimit('10 per fortnight'), undefined);
});

test('the policy Add Rule wrote decides the call through the real CLI', (t) => {
  const folder = tempFolder(t);
  const policy = join(folder, 'mcp-policy.json');
  const result = addRuleEdits(POLICY, { server: 'fs', tool: 'create_directory', action: 'allow', limit: { max: 2, window: 'minute' } }, catalog);
  writeFileSync(policy, result.text);
  const explained = spawnSync(process.execPath, [cli, 'explain', policy, '--server', 'fs', '--tool', 'create_directory', '--args', '{}'], { encoding: 'utf8' });
  assert.equal(explained.status, 0, explained.stderr);
  const event = JSON.parse(explained.stdout) as { decision: string; rule: string };
  assert.deepEqual([event.decision, event.rule], ['allowed', 'servers.fs.tools.create_directory']);
});
