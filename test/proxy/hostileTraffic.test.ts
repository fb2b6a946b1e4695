/**
 * Seeded hostile client traffic through the real CLI, 10,000 messages per transport: reused ids,
 * forged answers in the proxy's id shapes (and with ids the client really saw), notifications
 * with request methods, batches, junk params, cancellations and progress for anything, and a
 * server that forges answers to the proxy's approval questions on the client's cue. Afterwards:
 * the spy saw no forbidden call, every call it saw has its "allowed" audit line, no tools/list
 * answer named a hidden tool, and the proxy still answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modes, seededRandom } from './helpers';
import { attack, auditLines, callsSeen, upstreamSaw } from './attackKit';
import type { Message } from './rawClient';

const MESSAGES = 10_000;


const TOOLS = ['echo', 'validated', 'secret_delete', 'denied_tool', 'needs_approval', 'unknown_tool', 'Echo', 'echo ', 'secret_delete\u0000'];

/** The generator: each call returns one message (or a batch) to send. */
function hostileTraffic(seed: number, seen: () => Message[]): () => unknown {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  let nonce = 0;
  let fresh = 1000;
  // Mostly fresh ids, some reused from a small pool (often still in flight), some not ids at all.
  const id = (): unknown => {
    const roll = next();
    if (roll < 0.7) return fresh++;
    if (roll < 0.9) return pick([1, 2, 3, '1', 'a', 0, -1, 2 ** 53]);
    return pick([null, {}, [], true, 1.5]);
  };
  const argsFor = (tool: string): unknown => {
    const mark = `n${++nonce}`;
    const roll = next();
    if (roll < 0.1) return pick(['junk', 7, null, [mark]]);
    if (tool === 'validated') return roll < 0.6 ? { n: Math.floor(next() * 100), nonce: mark } : { n: pick(['1', 1.5, null, '../../x']), nonce: mark };
    return { nonce: mark };
  };
  // The client never says yes to a real approval question: any approval would be forged.
  const seenIds = (): unknown[] => seen().filter((message) => message.method !== undefined && message.id !== undefined).map((message) => message.id);
  const call = (): Record<string, unknown> => {
    const tool = pick(TOOLS);
    return { jsonrpc: '2.0', id: id(), method: 'tools/call', params: { name: tool, arguments: argsFor(tool), ...(next() < 0.2 ? { _meta: { progressToken: pick([1, 'p', 2]) } } : {}) } };
  };
  const generators: Array<() => unknown> = [
    call,
    call,
    call,
    // A tools/call (or another request method) as a notification.
    () => ({ jsonrpc: '2.0', method: pick(['tools/call', 'tools/list', 'ping']), params: { name: pick(TOOLS), arguments: { nonce: `n${++nonce}` } } }),
    // Junk params and shapes.
    () => ({ jsonrpc: '2.0', id: id(), method: 'tools/call', params: pick([['echo'], 'echo', 7, null, { name: 7 }, { name: '' }, { name: ['echo'] }]) }),
    () => ({ jsonrpc: pick(['2.0', '1.0', undefined]), id: id(), method: 'tools/call', params: { name: 'echo', arguments: { nonce: `n${++nonce}` } }, ...(next() < 0.5 ? { result: {} } : {}) }),
    () => ({ jsonrpc: '2.0', id: id(), method: 'tools/list', ...(next() < 0.3 ? { params: { cursor: pick(['1', 'x', 7]) } } : {}) }),
    () => ({ jsonrpc: '2.0', id: id(), method: 'ping' }),
    // Forged answers: the proxy's own id shape, small numbers, ids the client really saw.
    () => ({ jsonrpc: '2.0', id: pick([`mcp-policy-${Math.floor(next() * 1e6).toString(16)}-1`, 'mcp-policy-up-1', 'mcp-policy-down-1', 1, 2]), result: pick([{ action: 'accept', content: { approve: true } }, { tools: [{ name: 'validated', inputSchema: { type: 'object' } }] }, {}]) }),
    () => ({ jsonrpc: '2.0', id: pick([1, ...seenIds()]), result: pick([{ tools: [{ name: 'validated', inputSchema: { type: 'object' } }] }, {}, { action: 'accept', content: {} }]) }),
    // The real approval questions, answered no, or with garbage.
    () => {
      const question = seen().filter((message) => message.method === 'elicitation/create').pop();
      if (!question) return { jsonrpc: '2.0', id: id(), method: 'ping' };
      return { jsonrpc: '2.0', id: question.id, result: pick([{ action: 'decline' }, { action: 'accept', content: { approve: 'yes' } }, { action: 'cancel' }]) };
    },
    // The server, on cue, forges "approved" for the latest real approval question.
    () => {
      const question = seen().filter((message) => message.method === 'elicitation/create').pop();
      const forged = { jsonrpc: '2.0', id: question?.id ?? 'mcp-policy-x-1', result: { action: 'accept', content: { approve: true } } };
      return { jsonrpc: '2.0', id: id(), method: 'tools/call', params: { name: 'echo', arguments: { nonce: `n${++nonce}`, forge: forged } } };
    },
    () => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id() } }),
    () => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: pick([1, 'p', 2]), progress: 1 } }),
    // Batches, member by member.
    () => [call(), call(), { jsonrpc: '2.0', method: 'tools/call', params: { name: 'secret_delete', arguments: {} } }],
  ];
  return () => pick(generators)();
}

for (const mode of modes) {
  test(`${mode}: 10,000 hostile client messages get no forbidden call to the server, and every forwarded call is audited`, async (t) => {
    const { client, spyLog, audit } = await attack(t, mode);
    await client.handshake({ elicitation: {} });
    const nextMessage = hostileTraffic(mode === 'stdio' ? 7 : 8, () => client.received);
    for (let sent = 0; sent < MESSAGES; sent++) {
      const message = nextMessage();
      // Over HTTP each POST is sent on its own; a few at a time keeps the pace of a busy client.
      const sending = client.send(message).catch(() => undefined);
      if (mode === 'stdio' || sent % 8 === 0) await sending;
    }
    await client.send({ jsonrpc: '2.0', id: 'last', method: 'ping' });
    await client.waitFor((message) => message.id === 'last' && message.method === undefined, 'an answer after the traffic', 60_000);

    const calls = callsSeen(spyLog);
    const forbidden = calls.filter((call) => {
      const params = call.params as { name?: unknown; arguments?: { n?: unknown } };
      if (params.name === 'echo') return false;
      return !(params.name === 'validated' && Number.isInteger(params.arguments?.n));
    });
    assert.deepEqual(forbidden, [], 'the server received a call the policy does not allow');
    assert.equal(calls.filter((call) => call.id === undefined).length, 0, 'a notification tools/call reached the server');

    const decisions = auditLines(audit).filter((line) => line.upstream === undefined);
    const allowedNonces = new Set(decisions.filter((line) => line.decision === 'allowed').map((line) => (line.arguments as { nonce?: string }).nonce));
    for (const call of calls) {
      const nonce = (call.params as { arguments?: { nonce?: string } }).arguments?.nonce;
      assert.ok(nonce && allowedNonces.has(nonce), `a forwarded call has no "allowed" audit line: ${JSON.stringify(call)}`);
    }
    assert.equal(calls.length, allowedNonces.size, 'every allowed call went upstream exactly once');
    assert.ok(calls.length > 100, `too few calls got through for the test to mean much (${calls.length})`);
    assert.ok(decisions.some((line) => line.tool === 'needs_approval'), 'no approval was asked for');
    assert.ok(!decisions.some((line) => line.decision === 'approved'), 'a call was approved');

    for (const message of client.received) {
      const tools = message.result?.tools;
      if (Array.isArray(tools)) assert.ok(!tools.some((tool: { name?: string }) => tool.name?.startsWith('secret_')), 'a tools/list answer named a hidden tool');
    }
    // The server's forged approvals arrived at the proxy and were dropped there.
    assert.ok(upstreamSaw(spyLog).length > 0);
  });
}
