/**
 * The relay re-serialises every message, so a number a double cannot hold would reach the other
 * side altered: a 64-bit record id as another record's, 1e400 as null. Through the real CLI,
 * over stdio and HTTP, against the spy upstream: such a request never reaches the server (the
 * policy decided on a double), a server's such numbers reach the client as the server wrote them
 * (answers, progress, requests; not a tools/list answer, which the proxy reads itself), and
 * ordinary numbers pass.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attack, auditLines, callsSeen, upstreamSaw } from './attackKit';
import { modes, tempFolder, writePolicy } from './helpers';
import { startHttpLiar } from './httpLiarServer';
import { rawStdio, type Message, type RawClient } from './rawClient';

const answerTo = (id: unknown) => (message: Message) => message.id === id && message.method === undefined;
const textOf = (message: Message): string => ((message.result?.content as Array<{ text?: string }> | undefined) ?? []).map((item) => item.text ?? '').join('\n');
const BIG = '12345678901234567890';
const ROUNDED = '12345678901234567000';

/** The error the proxy answered a refused request with: an answer over stdio, a 400 body over HTTP. */
async function refusalOf(client: RawClient, id: unknown): Promise<{ id: unknown; error: { code: number; message: string } }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const refused = client.refusals.map((refusal) => JSON.parse(refusal.body) as Message).find((body) => body.error !== undefined && body.id === id);
    const answered = client.received.find((message) => message.id === id && message.error !== undefined);
    const found = refused ?? answered;
    if (found?.error) return { id: found.id, error: found.error };
    if (Date.now() > deadline) throw new Error(`no refusal with id ${String(id)}; received ${JSON.stringify(client.received)}; refusals ${JSON.stringify(client.refusals)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const mode of modes) {
  test(`${mode}: a tools/call carrying an integer past 2^53 is refused, naming the argument, audited, and never reaches the server`, async (t) => {
    const { client, spyLog, audit } = await attack(t, mode);
    await client.handshake();
    await client.sendText(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"contactId":${BIG}}}}`);
    const refusal = await refusalOf(client, 5);
    assert.equal(refusal.error.code, -32602);
    assert.match(refusal.error.message, new RegExp(`${BIG} at params\\.arguments\\.contactId`));
    // A call after it goes through: the session goes on, and the spy has had time to see both.
    await client.sendText('{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"f":0.1,"n":9007199254740991,"e":1e2}}}');
    await client.waitFor(answerTo(6), 'the answer to the ordinary call');
    const calls = callsSeen(spyLog);
    assert.equal(calls.length, 1, `the refused call reached the server: ${JSON.stringify(calls)}`);
    assert.deepEqual((calls[0]!.params as { arguments: unknown }).arguments, { f: 0.1, n: 9007199254740991, e: 100 });
    const refused = auditLines(audit).find((line) => line.tool === 'echo' && String(line.reason).includes(BIG));
    assert.equal(refused?.decision, 'denied');
  });

  test(`${mode}: a request whose id is past 2^53 is answered with id null, and 1e400 is refused as well`, async (t) => {
    const { client, spyLog } = await attack(t, mode);
    await client.handshake();
    await client.sendText(`{"jsonrpc":"2.0","id":${BIG},"method":"tools/call","params":{"name":"echo","arguments":{}}}`);
    const byId = await refusalOf(client, null);
    assert.match(byId.error.message, / at id,/);
    await client.sendText('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"amount":1e400}}}');
    const overflow = await refusalOf(client, 8);
    assert.match(overflow.error.message, /1e400 at params\.arguments\.amount/);
    assert.deepEqual(callsSeen(spyLog), []);
  });

  test(`${mode}: a server answer holding integers past 2^53 and 1e400 reaches the client as the server wrote them, and the call is audited as done`, async (t) => {
    const { client, spyLog, audit } = await attack(t, mode);
    await client.handshake();
    const result = `{"content":[{"type":"text","text":"created"}],"structuredContent":{"id":${BIG},"ids":[1,-${BIG},2],"limit":1e400,"fine":0.1}}`;
    const rawAnswer = `{"jsonrpc":"2.0","id":ID,"result":${result}}`;
    await client.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { rawAnswer } } });
    const answer = await client.waitFor(answerTo(9), 'the answer to the call');
    assert.equal(answer.result?.isError, undefined);
    assert.ok(client.texts.includes(`{"jsonrpc":"2.0","id":9,"result":${result}}`), `the answer was not relayed as written: ${JSON.stringify(client.texts)}`);
    assert.ok(!client.texts.some((text) => text.includes(ROUNDED) || text.includes('mcp-policy-exact-number')), 'the client received an altered number or a placeholder');
    assert.equal(callsSeen(spyLog).length, 1);
    const outcome = auditLines(audit).find((line) => line.tool === 'echo' && line.upstream !== undefined);
    assert.equal((outcome?.upstream as { ok?: boolean } | undefined)?.ok, true);
  });

  test(`${mode}: a failed call whose text is such a number is in the audit log as the server wrote it`, async (t) => {
    const { client, audit } = await attack(t, mode);
    await client.handshake();
    const rawAnswer = `{"jsonrpc":"2.0","id":ID,"result":{"isError":true,"content":[{"type":"text","text":${BIG}}]}}`;
    await client.send({ jsonrpc: '2.0', id: 16, method: 'tools/call', params: { name: 'echo', arguments: { rawAnswer } } });
    await client.waitFor(answerTo(16), 'the answer to the call');
    assert.ok(client.texts.includes(rawAnswer.replace('ID', '16')));
    const outcome = auditLines(audit).find((line) => line.tool === 'echo' && line.upstream !== undefined)?.upstream as { ok?: boolean; error?: string } | undefined;
    assert.deepEqual([outcome?.ok, outcome?.error], [false, BIG]);
  });

  test(`${mode}: progress, and the answer on the stream it opens, carry such numbers as written`, async (t) => {
    const { client } = await attack(t, mode);
    await client.handshake();
    const rawForge = `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p-1","progress":${BIG},"total":1e400}}`;
    const rawAnswer = `{"jsonrpc":"2.0","id":ID,"result":{"content":[],"structuredContent":{"bytes":${BIG}}}}`;
    await client.send({ jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'echo', arguments: { rawForge, rawAnswer, delayMs: 100 }, _meta: { progressToken: 'p-1' } } });
    await client.waitFor(answerTo(10), 'the answer to the call');
    assert.ok(client.texts.includes(rawForge), `the progress was not relayed as written: ${JSON.stringify(client.texts)}`);
    // A log line belongs to no request: over HTTP it rides the session's own (GET) stream.
    const log = `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":{"n":${BIG}}}}`;
    await client.send({ jsonrpc: '2.0', id: 15, method: 'tools/call', params: { name: 'echo', arguments: { rawForge: log } } });
    await client.waitFor((message) => message.method === 'notifications/message', 'the log line');
    await client.waitFor(answerTo(15), 'the answer to the second call');
    assert.ok(client.texts.includes(log), `the log line was not relayed as written: ${JSON.stringify(client.texts)}`);
    assert.ok(client.texts.includes(`{"jsonrpc":"2.0","id":10,"result":{"content":[],"structuredContent":{"bytes":${BIG}}}}`), 'the answer was not relayed as written');
    assert.ok(!client.texts.some((text) => text.includes(ROUNDED) || text.includes('mcp-policy-exact-number')));
  });

  test(`${mode}: a server's request holding such a number reaches the client as written, under the id the proxy gives it`, async (t) => {
    const { client } = await attack(t, mode);
    await client.handshake({ roots: {} });
    const rawForge = `{"jsonrpc":"2.0","id":"server-asks","method":"roots/list","params":{"_meta":{"trace":${BIG}}}}`;
    await client.send({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'echo', arguments: { rawForge } } });
    const asked = await client.waitFor((message) => message.method === 'roots/list', "the server's question");
    assert.ok(client.texts.includes(`{"jsonrpc":"2.0","id":${JSON.stringify(asked.id)},"method":"roots/list","params":{"_meta":{"trace":${BIG}}}}`), JSON.stringify(client.texts));
  });

  test(`${mode}: a tools/list answer holding such a number is withheld with an error naming it: the proxy reads that answer itself`, async (t) => {
    const tools = `{"tools":[{"name":"echo","inputSchema":{"type":"object","properties":{"n":{"type":"integer","maximum":${BIG}}}}}]}`;
    const { client } = await attack(t, mode, { env: { LIAR_RAW_TOOLS_RESULT: tools } });
    await client.handshake();
    await client.send({ jsonrpc: '2.0', id: 12, method: 'tools/list', params: {} });
    const answer = await client.waitFor(answerTo(12), 'the answer to tools/list');
    assert.equal(answer.result, undefined);
    assert.match(String(answer.error?.message), new RegExp(`${BIG} at result\\.tools\\[0\\]\\.inputSchema\\.properties\\.n\\.maximum`));
    assert.ok(!client.texts.some((text) => text.includes(ROUNDED)));
  });
}

for (const mode of modes) {
  test(`${mode}: the client's answer to a server's request holding such a number is refused, and the server's request ends with an error`, async (t) => {
    const { client, spyLog } = await attack(t, mode);
    await client.handshake({ roots: {} });
    const question = { jsonrpc: '2.0', id: 'server-asks', method: 'roots/list', params: {} };
    await client.send({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'echo', arguments: { forge: question } } });
    const relayed = await client.waitFor((message) => message.method === 'roots/list', "the server's question");
    await client.sendText(`{"jsonrpc":"2.0","id":${JSON.stringify(relayed.id)},"result":{"roots":[{"uri":"file:///x","size":${BIG}}]}}`);
    const deadline = Date.now() + 10_000;
    let ended: Message | undefined;
    while (!ended && Date.now() < deadline) {
      ended = upstreamSaw(spyLog).find((message) => message.id === 'server-asks');
      if (!ended) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(ended, 'the server never heard back');
    assert.equal(ended.result, undefined);
    assert.match(String(ended.error?.message), /the client's answer was refused/);
    assert.ok(!upstreamSaw(spyLog).some((message) => JSON.stringify(message).includes(ROUNDED)), 'the server received the altered number');
  });
}

test('an HTTP upstream (--url) whose answer holds such a number, on SSE or as JSON: the client gets it as the server wrote it', async (t) => {
  const liar = await startHttpLiar(t);
  const policy = writePolicy(tempFolder(t), { version: '1', default: 'deny', tools: { echo: {} } });
  const client = await rawStdio(t, [policy, '--url', liar.url], {});
  await client.handshake();
  const rawResult = `{"content":[{"type":"text","text":"created"}],"structuredContent":{"ids":[1,${BIG}]}}`;
  for (const [id, mode] of [[13, 'sse'], [14, 'json']] as const) {
    await client.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { rawResult, mode } } });
    const answer = await client.waitFor(answerTo(id), `the ${mode} answer`);
    assert.equal(answer.result?.isError, undefined, mode);
    assert.ok(client.texts.includes(`{"jsonrpc":"2.0","id":${id},"result":${rawResult}}`), `${mode}: ${JSON.stringify(client.texts)}`);
  }
  assert.equal(liar.received.filter((message) => message.method === 'tools/call').length, 2);
  assert.ok(!client.texts.some((text) => text.includes(ROUNDED)), 'the client received the altered number');
});
