/**
 * The Decisions view's history (client/auditHistory.ts) read from the audit log that the real
 * proxy host writes, rotated by size (proxy/rotatingAuditLog.ts), guarding the real filesystem
 * server; without VS Code.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DecisionEvent } from '../../core';
import { readAuditHistory } from '../../client/auditHistory';
import { RotatingFileAuditSink, rotatedAuditPath } from '../../proxy/rotatingAuditLog';
import { HttpProxyHost } from '../../proxy/serveHost';
import { bin, connectHttp, tempFolder, textOf, writePolicy } from '../proxy/helpers';

function event(n: number, fields: Partial<DecisionEvent> = {}): DecisionEvent {
  return {
    id: `id-${String(n).padStart(4, '0')}`,
    time: new Date(Date.parse('2026-12-01T22:00:00Z') + n * 1000).toISOString(),
    server: 'fs',
    tool: 'read_text_file',
    arguments: { path: `/data/${n}.txt`, note: 'é'.repeat(n % 7) },
    decision: 'allowed',
    rule: 'tools.read_text_file',
    reason: 'allowed by the rule "read_text_file"',
    policy: 'sha256:x',
    evalMicros: 2,
    ...fields,
  };
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0);
}

test('through the real proxy host: the audit log has every call, failed upstreams included, and history reads them back in order', async (t) => {
  const folder = tempFolder(t);
  const data = join(folder, 'data');
  const audit = join(folder, 'audit', 'audit.jsonl');
  mkdirSync(join(folder, 'audit'), { recursive: true });
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'hello.txt'), 'hello\n');
  const policyPath = writePolicy(folder, {
    version: '1',
    default: 'deny',
    tools: { read_text_file: {}, write_file: { action: 'deny', reason: 'read only' } },
    servers: { fs: { upstream: { command: bin('mcp-server-filesystem'), args: [data] } } },
  });
  // A tiny size so that the calls below rotate the log more than once.
  const host = new HttpProxyHost({ policyPath, tokenFile: false, tokens: false, auditFile: audit, auditRotation: { maxBytes: 1500, keep: 2 } });
  const status = await host.start();
  t.after(() => host.stop());
  const client = await connectHttp(t, status.servers[0]!.url, status.token);

  const ok = await client.callTool({ name: 'read_text_file', arguments: { path: join(data, 'hello.txt') } });
  assert.notEqual(ok.isError, true, textOf(ok));
  const missing = await client.callTool({ name: 'read_text_file', arguments: { path: join(data, 'missing.txt') } });
  assert.equal(missing.isError, true, 'the upstream found a file that is not there');
  const denied = await client.callTool({ name: 'write_file', arguments: { path: join(data, 'x.txt'), content: 'x' } });
  assert.match(textOf(denied), /^\[POLICY DENIED\]/);
  for (let i = 0; i < 6; i++) await client.callTool({ name: 'read_text_file', arguments: { path: join(data, 'hello.txt') } });

  assert.ok(existsSync(rotatedAuditPath(audit, 1)) && existsSync(rotatedAuditPath(audit, 2)), 'the log was not rotated twice');
  assert.equal(existsSync(rotatedAuditPath(audit, 3)), false, 'more rotated files kept than asked');
  for (const file of [audit, rotatedAuditPath(audit, 1), rotatedAuditPath(audit, 2)]) {
    for (const line of lines(file)) JSON.parse(line); // every line whole
  }

  // Everything still on disk, newest last: the 9 calls, minus what the dropped file held.
  const all = await readAuditHistory(audit, { max: 1000, rotated: 2 });
  assert.equal(all.skipped, 0);
  assert.deepEqual(all.files, [audit, rotatedAuditPath(audit, 1), rotatedAuditPath(audit, 2)]);
  const times = all.events.map((e) => Date.parse(e.time));
  assert.deepEqual(times, [...times].sort((a, b) => a - b), 'not oldest first');
  assert.equal(all.events.at(-1)?.tool, 'read_text_file');
  assert.ok(all.events.every((e) => e.decision !== 'allowed' || e.upstream !== undefined), 'a forwarded call lost its upstream answer');

  // Enough kept to see the three kinds of call when nothing was dropped: read with a larger log.
  const big = join(folder, 'audit', 'big.jsonl');
  const host2 = new HttpProxyHost({ policyPath, tokenFile: false, tokens: false, auditFile: big, auditRotation: { maxBytes: 1_000_000, keep: 2 } });
  const status2 = await host2.start();
  t.after(() => host2.stop());
  const client2 = await connectHttp(t, status2.servers[0]!.url, status2.token);
  await client2.callTool({ name: 'read_text_file', arguments: { path: join(data, 'hello.txt') } });
  await client2.callTool({ name: 'read_text_file', arguments: { path: join(data, 'missing.txt') } });
  await client2.callTool({ name: 'write_file', arguments: { path: join(data, 'x.txt'), content: 'x' } });
  const three = await readAuditHistory(big, { max: 10, rotated: 2 });
  assert.deepEqual(
    three.events.map((e) => [e.tool, e.decision, e.upstream?.ok]),
    [
      ['read_text_file', 'allowed', true],
      ['read_text_file', 'allowed', false],
      ['write_file', 'denied', undefined],
    ],
  );
  assert.match(three.events[1]?.upstream?.error ?? '', /ENOENT|no such file|not found/i);
  assert.equal(three.events[2]?.reason, 'read only');
});

test('history stops at max, reads across rotated files, joins outcomes split from their decision by a rotation', async (t) => {
  const folder = tempFolder(t);
  const path = join(folder, 'audit.jsonl');
  const sink = new RotatingFileAuditSink(path, { maxBytes: 2000, keep: 5 });
  const written: DecisionEvent[] = [];
  for (let n = 1; n <= 40; n++) {
    const e = event(n, n % 5 === 0 ? { decision: 'denied', tool: 'write_file', rule: 'tools.write_file', reason: 'no' } : {});
    sink.decision(e);
    written.push(e);
    if (e.decision === 'allowed') assert.equal(sink.outcome(e, { id: e.id, ok: n % 3 !== 0, ms: n, ...(n % 3 === 0 ? { error: `failed ${n}` } : {}) }), true);
  }
  sink.close();
  assert.ok(existsSync(rotatedAuditPath(path, 3)), 'expected several rotations');

  const last10 = await readAuditHistory(path, { max: 10, rotated: 5 });
  assert.deepEqual(last10.events.map((e) => e.id), written.slice(-10).map((e) => e.id));
  const all = await readAuditHistory(path, { max: 1000, rotated: 5 });
  const kept = all.events.map((e) => e.id);
  assert.deepEqual(kept, written.slice(-kept.length).map((e) => e.id), 'a decision is missing or out of order');
  for (const e of all.events) {
    const n = Number(e.id.slice(3));
    if (e.decision === 'denied') assert.equal(e.upstream, undefined);
    else assert.deepEqual(e.upstream, n % 3 !== 0 ? { ok: true, ms: n } : { ok: false, ms: n, error: `failed ${n}` }, `outcome of ${e.id}`);
    // Multi-byte characters across 64 KiB chunk edges are not at issue here, but whole arguments are.
    assert.deepEqual(e.arguments, written[n - 1]!.arguments);
  }
  // Without the rotated files, only the current one.
  const current = await readAuditHistory(path, { max: 1000 });
  assert.deepEqual(current.files, [path]);
  assert.ok(current.events.length < all.events.length);
});

test('history leaves out what was cleared, lines that are not decisions, and a missing file', async (t) => {
  const folder = tempFolder(t);
  const path = join(folder, 'audit.jsonl');
  const a = event(1);
  const b = event(2, { decision: 'denied' });
  const c = event(3);
  const text = [
    JSON.stringify(a),
    'not json',
    JSON.stringify({ hello: 'world' }),
    JSON.stringify(b),
    JSON.stringify({ id: a.id, time: c.time, server: 'fs', tool: a.tool, decision: 'allowed', upstream: { ok: false, ms: 9, error: 'boom' } }),
    JSON.stringify(c),
    '',
  ].join('\n');
  writeFileSync(path, text);
  const read = await readAuditHistory(path, { max: 100 });
  assert.deepEqual(read.events.map((e) => e.id), [a.id, b.id, c.id]);
  assert.deepEqual(read.events[0]?.upstream, { ok: false, ms: 9, error: 'boom' });
  assert.equal(read.skipped, 2);

  const afterClear = await readAuditHistory(path, { max: 100, clearedAt: Date.parse(b.time) });
  assert.deepEqual(afterClear.events.map((e) => e.id), [c.id]);

  const none = await readAuditHistory(join(folder, 'nothing-here.jsonl'), { max: 100, rotated: 3 });
  assert.deepEqual(none, { events: [], skipped: 0, files: [] });
});

test('a long log is read from its end, in chunks, multi-byte text intact', async (t) => {
  const folder = tempFolder(t);
  const path = join(folder, 'audit.jsonl');
  const many: DecisionEvent[] = [];
  for (let n = 1; n <= 3000; n++) many.push(event(n, { reason: `zażółć gęślą jaźń ${'€'.repeat(n % 50)}` }));
  writeFileSync(path, `${many.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const read = await readAuditHistory(path, { max: 2500 });
  assert.equal(read.events.length, 2500);
  assert.deepEqual(read.events, many.slice(-2500));
});

test('a rotation that cannot be done loses no line: the log keeps growing, the problem is told once per size step', (t) => {
  const folder = tempFolder(t);
  const path = join(folder, 'audit.jsonl');
  // The rotated name is taken by a folder that cannot be removed without recursion.
  mkdirSync(join(rotatedAuditPath(path, 1), 'keep-me'), { recursive: true });
  const problems: string[] = [];
  const sink = new RotatingFileAuditSink(path, { maxBytes: 1000, keep: 1 }, { onRotationProblem: (message) => problems.push(message) });
  const written: string[] = [];
  for (let n = 1; n <= 30; n++) {
    const e = event(n);
    sink.decision(e); // never throws: the line is written to the current file
    written.push(e.id);
  }
  sink.close();
  assert.deepEqual(lines(path).map((line) => (JSON.parse(line) as DecisionEvent).id), written);
  assert.ok(problems.length >= 1, 'the failed rotation was not reported');
  assert.ok(problems.length < 10, `reported on every line: ${problems.length}`);
  assert.match(problems[0]!, /could not be rotated, it keeps growing/);
  assert.ok(existsSync(join(rotatedAuditPath(path, 1), 'keep-me')));
});
