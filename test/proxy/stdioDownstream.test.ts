/**
 * The stdio proxy's own framing, through the real CLI against a spy upstream: lines too long,
 * lines that are not JSON-RPC, and a client that closes stdout or stderr under it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, spyServer, tempFolder, waitFor, writePolicy } from './helpers';
import { alive, callRequest, descendants, startRawProxy, type RawProxy } from './rawStdio';

interface Setup {
  proxy: RawProxy;
  spyLog: string;
  audit: string;
  policy: string;
}

function start(t: Parameters<typeof tempFolder>[0], options: { audit?: boolean; stderr?: 'pipe' | 'ignore' } = {}): Setup {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.log');
  const audit = join(folder, 'audit.jsonl');
  const policy = writePolicy(folder, { version: '1', default: 'allow', tools: { 'get-env': { action: 'deny' } } });
  const proxy = startRawProxy(t, {
    args: ['proxy', policy, ...(options.audit === false ? [] : ['--audit', audit]), '--', process.execPath, spyServer, bin('mcp-server-everything')],
    env: { SPY_LOG: spyLog },
    ...(options.stderr ? { stderr: options.stderr } : {}),
  });
  return { proxy, spyLog, audit, policy };
}

function upstreamSaw(spyLog: string): string {
  return existsSync(spyLog) ? readFileSync(spyLog, 'utf8') : '';
}

function auditLines(audit: string): Array<Record<string, unknown>> {
  return readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('a 12 MiB line gets an error with its id, the next call is answered, nothing of it goes upstream, and the proxy exits when stdin closes', async (t) => {
  const { proxy, spyLog } = start(t);
  await proxy.initialize();
  const filler = 'x'.repeat(12 * 1024 * 1024);
  // The SDK's order: id last, after the huge params.
  proxy.write(`{"method":"tools/call","params":{"name":"echo","arguments":{"message":"${filler}"}},"jsonrpc":"2.0","id":7}\n`);
  proxy.send(callRequest(8, 'after the big one'));
  const refused = await proxy.answer(7);
  assert.equal(refused.error?.code, -32600);
  assert.match(refused.error?.message ?? '', /stdin line 3 is 12\.0 MiB, over the 10\.0 MiB/);
  assert.deepEqual((await proxy.answer(8)).result?.content, [{ type: 'text', text: 'Echo: after the big one' }]);
  assert.doesNotMatch(upstreamSaw(spyLog), /xxxxxxxx/);
  const upstreams = descendants(proxy.child.pid!);
  assert.ok(upstreams.length > 0, 'the upstream runs below the proxy');
  proxy.child.stdin!.end();
  assert.equal(await proxy.exited(), 0);
  await waitFor(() => upstreams.every((pid) => !alive(pid)), 10_000, 'the upstream to be gone');
});

test('an oversized line sent in pieces, its id unseen, gets an error with id null; one unfinished when stdin ends does not keep the proxy up', async (t) => {
  const { proxy, spyLog } = start(t);
  await proxy.initialize();
  const piece = 'y'.repeat(1024 * 1024);
  proxy.write('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo","arguments":{"message":"');
  for (let i = 0; i < 11; i++) proxy.write(piece);
  proxy.write('"}}}\n');
  const refused = await proxy.waitFor((message) => message.id === null, 'an error for the oversized notification');
  assert.equal(refused.error?.code, -32600);
  proxy.send({ jsonrpc: '2.0', id: 9, method: 'ping' });
  assert.deepEqual((await proxy.answer(9)).result, {});
  assert.doesNotMatch(upstreamSaw(spyLog), /yyyyyyyy/);
  // A line still growing past the cap when stdin ends: the proxy exits all the same.
  for (let i = 0; i < 11; i++) proxy.write(piece);
  proxy.child.stdin!.end();
  assert.equal(await proxy.exited(), 0);
});

test('lines that are not JSON-RPC each get an error naming the line, and the session goes on', async (t) => {
  const { proxy, spyLog, audit } = start(t);
  await proxy.initialize();
  proxy.write('this is not json\n');
  proxy.write('\n');
  proxy.write('{"jsonrpc":"2.0","id":20,"method":"tools/call","params":[1,2]}\n');
  proxy.write('{"jsonrpc":"1.0","id":21,"method":"ping"}\n');
  proxy.write('[{"jsonrpc":"2.0","id":22,"method":"tools/call","params":{"name":"echo","arguments":{"message":"batched"}}},{"jsonrpc":"2.0","id":23,"method":"ping"}]\n');
  proxy.write('{"jsonrpc":"2.0","id":24,"method":"tools/call","params":{"name":"echo","arguments":{"message":"crlf"}}}\r\n');
  proxy.write('42\n');
  const parse = await proxy.waitFor((message) => message.error?.code === -32700, 'a parse error');
  assert.equal(parse.id, null);
  assert.match(parse.error!.message, /stdin line 3 is not JSON/);
  // Params by position are JSON-RPC: the relay sees the call, finds no tool name, refuses and audits it.
  assert.deepEqual((await proxy.answer(20)).error?.code, -32602);
  assert.match((await proxy.answer(21)).error!.message, /"jsonrpc" must be "2.0"/);
  for (const id of [22, 23]) assert.match((await proxy.answer(id)).error!.message, /batches are not supported/);
  assert.deepEqual((await proxy.answer(24)).result?.content, [{ type: 'text', text: 'Echo: crlf' }]);
  await proxy.waitFor((message) => message.id === null && /stdin line 9: not a JSON-RPC message/.test(message.error?.message ?? ''), 'an error for the bare number');
  // Still relayed and decided one by one; what is JSON-RPC goes through as it came, unknown members and all.
  const custom = '{"jsonrpc":"2.0","method":"notifications/custom","params":{"k":[1,"é"]},"x-extra":true}';
  proxy.write(`${custom}\n`);
  proxy.send(callRequest(25, 'still here'));
  proxy.send({ jsonrpc: '2.0', id: 26, method: 'tools/call', params: { name: 'get-env', arguments: {} } });
  assert.deepEqual((await proxy.answer(25)).result?.content, [{ type: 'text', text: 'Echo: still here' }]);
  assert.match(JSON.stringify((await proxy.answer(26)).result), /POLICY DENIED/);
  const saw = upstreamSaw(spyLog);
  assert.ok(saw.split('\n').includes(custom), 'the custom notification reached the upstream unchanged');
  assert.doesNotMatch(saw, /batched|get-env/);
  assert.equal(saw.match(/tools\/call/g)?.length, 2, 'only the crlf call and the last allowed one went upstream');
  const decisions = auditLines(audit).filter((line) => line.upstream === undefined);
  // The positional call and the batched call are refused, and audited, before anything is decided.
  assert.deepEqual(decisions.map((line) => [line.tool, line.decision]), [['', 'denied'], ['echo', 'denied'], ['echo', 'allowed'], ['echo', 'allowed'], ['get-env', 'denied']]);
});

test('a client that closes stdout mid-stream: the proxy exits 0 without an unhandled error, and the upstream is gone', async (t) => {
  const { proxy } = start(t);
  await proxy.initialize();
  const upstreams = descendants(proxy.child.pid!);
  assert.ok(upstreams.length > 0);
  proxy.child.stdout!.destroy();
  // Answers now have nowhere to go; the first failed write ends the session.
  for (let i = 0; i < 50; i++) proxy.send(callRequest(100 + i, `into the void ${i}`));
  assert.equal(await proxy.exited(), 0);
  assert.doesNotMatch(proxy.stderr(), /Unhandled|EPIPE|Error:/);
  await waitFor(() => upstreams.every((pid) => !alive(pid)), 10_000, 'the upstream to be gone');
});

test('a client that closes stderr: calls are still answered and the audit file still written', async (t) => {
  const { proxy, audit, policy } = start(t);
  await proxy.initialize();
  proxy.child.stderr!.destroy();
  // The reload notice goes to stderr, which is now closed.
  writeFileSync(policy, JSON.stringify({ version: '1', default: 'allow' }));
  await new Promise((resolve) => setTimeout(resolve, 500));
  writeFileSync(policy, JSON.stringify({ version: '1', default: 'allow', tools: { 'get-env': { action: 'deny' } } }));
  for (let i = 0; i < 5; i++) {
    proxy.send(callRequest(200 + i, `after stderr closed ${i}`));
    assert.deepEqual((await proxy.answer(200 + i)).result?.content, [{ type: 'text', text: `Echo: after stderr closed ${i}` }]);
  }
  const lines = auditLines(audit);
  assert.equal(lines.filter((line) => line.upstream === undefined && line.decision === 'allowed').length, 5);
  assert.equal(lines.filter((line) => (line.upstream as { ok?: boolean } | undefined)?.ok === true).length, 5);
  assert.equal(proxy.child.exitCode, null, 'the proxy is still running');
  proxy.child.stdin!.end();
  assert.equal(await proxy.exited(), 0);
});

test('without --audit, decisions go to stderr; once the client closes it, calls are still answered', async (t) => {
  const { proxy } = start(t, { audit: false });
  await proxy.initialize();
  proxy.send(callRequest(300, 'logged'));
  await proxy.answer(300);
  await waitFor(() => /allowed default\/echo/.test(proxy.stderr()), 10_000, 'the decision line on stderr');
  proxy.child.stderr!.destroy();
  for (let i = 1; i <= 5; i++) {
    proxy.send(callRequest(300 + i, `unlogged ${i}`));
    proxy.send({ jsonrpc: '2.0', id: 400 + i, method: 'tools/call', params: { name: 'get-env', arguments: {} } });
    assert.deepEqual((await proxy.answer(300 + i)).result?.content, [{ type: 'text', text: `Echo: unlogged ${i}` }]);
    assert.match(JSON.stringify((await proxy.answer(400 + i)).result), /POLICY DENIED/);
  }
  assert.equal(proxy.child.exitCode, null, 'the proxy is still running');
  proxy.child.stdin!.end();
  assert.equal(await proxy.exited(), 0);
});
