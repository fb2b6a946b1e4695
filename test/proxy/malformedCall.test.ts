/**
 * Raw JSON-RPC against the stdio proxy, for what well-behaved SDK clients never send: a
 * tools/call with no tool name, a late answer to a question the proxy withdrew.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { bin, cli, spyServer, tempFolder, writePolicy } from './helpers';

test('a nameless tools/call gets an invalid-params error, an audit line, and never reaches the upstream, even under default allow', async (t) => {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.log');
  const audit = join(folder, 'audit.jsonl');
  const policy = writePolicy(folder, { version: '1', default: 'allow' });
  const proxy = spawn(process.execPath, [cli, 'proxy', policy, '--audit', audit, '--', process.execPath, spyServer, bin('mcp-server-everything')], {
    env: { ...process.env, SPY_LOG: spyLog },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  t.after(() => proxy.kill('SIGKILL'));
  const answers = new Map<number, Record<string, unknown>>();
  createInterface({ input: proxy.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { id?: number } & Record<string, unknown>;
    if (typeof message.id === 'number') answers.set(message.id, message);
  });
  const send = (message: unknown): void => void proxy.stdin!.write(`${JSON.stringify(message)}\n`);
  const answer = async (id: number): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 10_000;
    while (!answers.has(id)) {
      if (Date.now() > deadline) throw new Error(`no answer to request ${id}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return answers.get(id)!;
  };
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  await answer(1);
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { arguments: { message: 'no name' } } });
  send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: '', arguments: {} } });
  send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { message: 'named' } } });
  for (const id of [2, 3]) {
    const error = (await answer(id)).error as { code: number; message: string };
    assert.equal(error.code, -32602);
    assert.match(error.message, /names no tool/);
  }
  assert.deepEqual((await answer(4)).result, { content: [{ type: 'text', text: 'Echo: named' }] });
  const upstreamSaw = existsSync(spyLog) ? readFileSync(spyLog, 'utf8') : '';
  assert.match(upstreamSaw, /"named"/);
  assert.doesNotMatch(upstreamSaw, /no name/);
  assert.equal(upstreamSaw.match(/tools\/call/g)?.length, 1);
  const decisions = readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.upstream === undefined);
  assert.deepEqual(decisions.map((line) => [line.tool, line.decision]), [['', 'denied'], ['', 'denied'], ['echo', 'allowed']]);
});

test('a cancelled approval: the call never reaches the upstream, and a late answer to the withdrawn question is not relayed', async (t) => {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.log');
  const audit = join(folder, 'audit.jsonl');
  const policy = writePolicy(folder, { version: '1', default: 'allow', approval: { timeout: 30 }, tools: { echo: { action: 'approve' } } });
  const proxy = spawn(process.execPath, [cli, 'proxy', policy, '--audit', audit, '--', process.execPath, spyServer, bin('mcp-server-everything')], {
    env: { ...process.env, SPY_LOG: spyLog },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  t.after(() => proxy.kill('SIGKILL'));
  const received: Array<Record<string, unknown>> = [];
  createInterface({ input: proxy.stdout! }).on('line', (line) => received.push(JSON.parse(line) as Record<string, unknown>));
  const send = (message: unknown): void => void proxy.stdin!.write(`${JSON.stringify(message)}\n`);
  const waitFor = async (match: (message: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = received.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what}; got ${JSON.stringify(received)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { elicitation: {} }, clientInfo: { name: 'raw', version: '1' } } });
  await waitFor((message) => message.id === 1, 'initialize answer');
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'cancelled while asking' } } });
  const question = await waitFor((message) => message.method === 'elicitation/create', 'approval question');
  send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2, reason: 'the user pressed stop' } });
  await waitFor((message) => message.method === 'notifications/cancelled' && (message.params as { requestId?: unknown }).requestId === question.id, 'the withdrawn question');
  // This client answers anyway, late.
  send({ jsonrpc: '2.0', id: question.id, result: { action: 'accept', content: { approve: true } } });
  send({ jsonrpc: '2.0', id: 3, method: 'ping' });
  await waitFor((message) => message.id === 3, 'ping answer');
  assert.equal(received.some((message) => message.id === 2), false, 'a cancelled request gets no answer');
  const upstreamSaw = readFileSync(spyLog, 'utf8');
  assert.doesNotMatch(upstreamSaw, /cancelled while asking/);
  // The proxy's own tools/list (for argument checks) carries its id prefix too; nothing else may.
  const notOwnListing = upstreamSaw.split('\n').filter((line) => !line.includes('"method":"tools/list"')).join('\n');
  assert.doesNotMatch(notOwnListing, /mcp-policy-/, 'the late answer to the withdrawn question was relayed upstream');
  const decision = JSON.parse(readFileSync(audit, 'utf8').trim().split('\n')[0]!) as { decision: string; reason: string };
  assert.equal(decision.decision, 'rejected');
  assert.match(decision.reason, /cancelled the call while approval was pending/);
});
