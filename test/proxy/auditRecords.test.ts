/**
 * What the audit records say, through the real CLI: secrets redacted by default whatever
 * audit.redact adds, and stderr decision lines that a hostile name cannot forge or use to drive
 * the terminal.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, tempFolder, writePolicy } from './helpers';
import { auditLines, spyCalls, startRawProxy, toolCall } from './rawProxy';

test('with audit.redact ["email"], a password argument never reaches the audit file in clear (the defaults still apply)', async (t) => {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.log');
  const audit = join(folder, 'audit.jsonl');
  const policy = writePolicy(folder, { version: '1', default: 'allow', tools: { 'get-env': { action: 'deny' } }, audit: { redact: ['email'] } });
  const proxy = startRawProxy(t, { policy, spyLog, args: ['--audit', audit] });
  await proxy.initialize();
  proxy.send(toolCall(1, 'echo', { message: 'hello', password: 'hunter2', email: 'me@example.com', nested: { Api_Key: 'hunter2', authorization: 'Bearer hunter2' } }));
  proxy.send(toolCall(2, 'get-env', { cookie: 'hunter2', private_key: 'hunter2' }));
  await proxy.answer(1);
  await proxy.answer(2);
  const text = readFileSync(audit, 'utf8');
  assert.doesNotMatch(text, /hunter2/);
  assert.doesNotMatch(text, /me@example\.com/);
  // The echo call waits for the proxy's own tools/list (its schema is checked), so it may be decided second.
  const decisions = auditLines(audit).filter((line) => line.upstream === undefined).sort((a, b) => Number(b.tool === 'echo') - Number(a.tool === 'echo'));
  assert.deepEqual(decisions[0]?.arguments, { message: 'hello', password: '[redacted]', email: '[redacted]', nested: { Api_Key: '[redacted]', authorization: '[redacted]' } });
  assert.equal(decisions[1]?.decision, 'denied');
  // Redaction is for the record only: the allowed call reached the server as sent.
  assert.equal(spyCalls(spyLog)[0]?.arguments.password, 'hunter2');
});

test('without --audit, a tool or server name with newlines and ANSI escapes cannot forge stderr lines or reach the terminal raw', async (t) => {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.log');
  const policy = writePolicy(folder, { version: '1', default: 'deny' });
  const forgedServer = 'srv\u001b]0;owned\u0007';
  const proxy = startRawProxy(t, { policy, spyLog, args: ['--server', forgedServer] });
  await proxy.initialize();
  const forgedTool = 'x\nmcp-policy: allowed srv/get-env (tools.get-env): allowed by rule\r\u001b[2K\u001b[31mred\u009b0m\u2028\u202eevil\\u000a';
  proxy.send(toolCall(1, forgedTool, {}));
  const answer = await proxy.answer(1);
  assert.match(JSON.stringify(answer), /POLICY DENIED/);
  const stderr = proxy.stderr();
  assert.doesNotMatch(stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202e]/, 'no control character but the line ends');
  const lines = stderr.split('\n').filter((line) => line.startsWith('mcp-policy: '));
  assert.equal(lines.filter((line) => / allowed /.test(line.slice(0, 25))).length, 0, stderr);
  const decisionLines = lines.filter((line) => line.startsWith('mcp-policy: denied '));
  assert.equal(decisionLines.length, 1, stderr);
  assert.ok(decisionLines[0]!.includes('srv\\u001b]0;owned\\u0007/x\\u000amcp-policy: allowed'), decisionLines[0]);
  // A literal backslash-u in a name is doubled, so it cannot pass for an escaped character.
  assert.ok(decisionLines[0]!.includes('evil\\\\u000a'), decisionLines[0]);
  assert.deepEqual(spyCalls(spyLog), []);
});

test('--audit-sync: decision lines are synced to disk and calls go through; without --audit it is a usage error', async (t) => {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.log');
  const audit = join(folder, 'audit.jsonl');
  const policy = writePolicy(folder, { version: '1', default: 'allow' });
  const proxy = startRawProxy(t, { policy, spyLog, args: ['--audit', audit, '--audit-sync'] });
  await proxy.initialize();
  proxy.send(toolCall(1, 'echo', { message: 'synced' }));
  assert.match(JSON.stringify(await proxy.answer(1)), /Echo: synced/);
  assert.equal(auditLines(audit).filter((line) => line.upstream === undefined)[0]?.decision, 'allowed');
  const usage = spawnSync(process.execPath, [cli, 'proxy', policy, '--audit-sync', '--', 'true'], { encoding: 'utf8', timeout: 20_000, input: '' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--audit-sync needs --audit F/);
});
