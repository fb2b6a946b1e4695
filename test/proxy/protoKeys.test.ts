/**
 * "__proto__" is an ordinary key to JSON.parse, and a peer or a policy author can write it. A
 * plain assignment of it sets an object's prototype instead, so a rule of that name vanished
 * (its tool fell to `default`) and an argument of that name was left out of the audit log while
 * the server received it. Through the real CLI, against the spy upstream.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attack, auditLines, callsSeen } from './attackKit';
import { modes } from './helpers';
import type { Message } from './rawClient';

const POLICIES = {
  JSON: '{"version": "1", "default": "allow", "tools": {"__proto__": {"action": "deny"}, "echo": {}}}',
  JSONC: '{\n  // a comment makes it JSONC: a different parse\n  "version": "1",\n  "default": "allow",\n  "tools": {\n    "__proto__": { "action": "deny" },\n    "echo": {},\n  },\n}\n',
};

const answerTo = (id: unknown) => (message: Message) => message.id === id && message.method === undefined;
const textOf = (message: Message): string => ((message.result?.content as Array<{ text?: string }> | undefined) ?? []).map((item) => item.text ?? '').join('\n');

for (const mode of modes) {
  for (const [format, policy] of Object.entries(POLICIES)) {
    test(`${mode}, ${format} policy: a deny rule for a tool named "__proto__" is enforced`, async (t) => {
      const { client, spyLog, audit } = await attack(t, mode, { policy });
      await client.handshake();
      await client.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: '__proto__', arguments: {} } });
      const answer = await client.waitFor(answerTo(1), 'the answer to the __proto__ call');
      assert.match(textOf(answer), /^\[POLICY DENIED\]/);
      assert.deepEqual(callsSeen(spyLog), [], 'the denied call reached the server');
      const decision = auditLines(audit).find((line) => line.tool === '__proto__');
      assert.equal(decision?.decision, 'denied');
      assert.match(String(decision?.rule), /__proto__/);
    });
  }

  test(`${mode}: an argument named "__proto__" is in the audit line of the call that carried it`, async (t) => {
    const { client, spyLog, audit } = await attack(t, mode, { policy: POLICIES.JSON });
    await client.handshake();
    // Raw JSON text, so that "__proto__" is an own key of the arguments as a peer sends it.
    const call = JSON.parse('{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"__proto__": {"rm": "-rf /"}, "note": "hi"}}}') as Message;
    await client.send(call);
    await client.waitFor(answerTo(2), 'the answer to the echo call');
    const sent = callsSeen(spyLog)[0]?.params as { arguments?: Record<string, unknown> } | undefined;
    assert.ok(sent && Object.prototype.hasOwnProperty.call(sent.arguments, '__proto__'), 'the server did not get the argument: the test proves nothing');
    const line = auditLines(audit).find((entry) => entry.tool === 'echo' && entry.upstream === undefined);
    const logged = line?.arguments as Record<string, unknown> | undefined;
    assert.ok(logged && Object.prototype.hasOwnProperty.call(logged, '__proto__'), `the audit line left out an argument the server received: ${JSON.stringify(line)}`);
    assert.deepEqual(logged['__proto__'], { rm: '-rf /' });
  });
}
