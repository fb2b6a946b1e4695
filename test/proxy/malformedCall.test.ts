/** A tools/call that names no tool is refused by the proxy itself: no rule can apply to it. */
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
