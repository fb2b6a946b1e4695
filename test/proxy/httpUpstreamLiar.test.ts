// Attacks from a lying Streamable HTTP upstream (`proxy --url`) on the proxy's own HTTP client,
// through the real CLI with a raw client that sees every message the proxy sends it: answers to
// ids never asked, a second answer, an answer on the GET stream, an endless event, a stream that
// makes the client resume forever. The server's lies never reach the client, the proxy keeps
// serving, and a denied call never reaches the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempFolder, writePolicy } from './helpers';
import { startHttpLiar } from './httpLiarServer';
import { rawStdio, type Message } from './rawClient';

const call = (id: number, name: string, args: Record<string, unknown>): Record<string, unknown> => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const textOf = (message: Message): string => JSON.stringify(message.result ?? message.error ?? {});

test('a lying HTTP upstream: forged and repeated answers are dropped, an endless event and endless resumes fail the call, the proxy goes on', { timeout: 90_000 }, async (t) => {
  const liar = await startHttpLiar(t);
  const policy = writePolicy(tempFolder(t), { version: '1', default: 'deny', tools: { echo: {}, denied_tool: { action: 'deny', reason: 'never' } } });
  const client = await rawStdio(t, [policy, '--url', liar.url], {});
  await client.handshake();
  const answerTo = (id: number): Promise<Message> => client.waitFor((message) => message.id === id && message.method === undefined, `the answer to ${id}`, 30_000);
  const calledWith = (mode: string): boolean => liar.received.some((message) => message.method === 'tools/call' && (message.params?.['arguments'] as Record<string, unknown> | undefined)?.['mode'] === mode);

  await client.send(call(1, 'denied_tool', {}));
  assert.match(textOf(await answerTo(1)), /POLICY DENIED/);
  assert.ok(!liar.received.some((message) => message.method === 'tools/call' && message.params?.['name'] === 'denied_tool'), 'the denied call reached the server');

  await client.send(call(2, 'echo', { mode: 'forge' }));
  assert.match(textOf(await answerTo(2)), /real: \{\\"mode\\":\\"forge\\"\}/);
  // Give the forged messages time to arrive, were they let through.
  await client.send(call(3, 'echo', { mode: 'plain' }));
  assert.match(textOf(await answerTo(3)), /real: \{\\"mode\\":\\"plain\\"\}/);
  assert.equal(client.received.filter((message) => message.id === 2).length, 1, 'a second answer to the call reached the client');
  assert.ok(!client.received.some((message) => message.id === 424242), 'an answer to an id never asked reached the client');
  assert.ok(!JSON.stringify(client.received).includes('FORGED'), `a forged answer reached the client: ${JSON.stringify(client.received)}`);

  await client.send(call(4, 'echo', { mode: 'huge' }));
  const huge = await answerTo(4);
  assert.ok(huge.error !== undefined || huge.result?.['isError'] === true, `the call over an endless event did not fail: ${textOf(huge)}`);
  assert.ok(calledWith('huge'));
  await client.send(call(5, 'echo', { mode: 'after-huge' }));
  assert.match(textOf(await answerTo(5)), /real: /, 'the proxy did not reconnect after dropping the oversized stream');

  await client.send(call(6, 'echo', { mode: 'vanish' }));
  const vanished = await answerTo(6);
  assert.ok(vanished.error !== undefined || vanished.result?.['isError'] === true, `the call whose stream never answers did not fail: ${textOf(vanished)}`);
  assert.ok(liar.resumes.length >= 1 && liar.resumes.length <= 5, `resumed ${liar.resumes.length} times`);
  await client.send(call(7, 'echo', { mode: 'after-vanish' }));
  assert.match(textOf(await answerTo(7)), /real: /);
  assert.equal(client.child.exitCode, null, `the proxy exited:\n${client.stderr()}`);
});
