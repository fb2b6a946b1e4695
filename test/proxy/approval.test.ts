/** action "approve" through the proxy alone: the MCP client is asked by elicitation, if it can be. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { bin, connectHttp, connectThroughProxy, modes, spyServer, tempFolder, textOf, writePolicy } from './helpers';

const policy = {
  version: '1',
  default: 'allow',
  approval: { timeout: 10 },
  tools: { echo: { action: 'approve', reason: 'echo needs a human' } },
};

for (const mode of modes) {
  describe(`approval through proxy over ${mode}`, () => {
    test('accept → approved and forwarded; decline → rejected; no elicitation → rejected', async (t) => {
      const folder = tempFolder(t);
      const audit = join(folder, 'audit.jsonl');
      const policyPath = writePolicy(folder, policy);
      let answer: 'accept' | 'decline' = 'accept';
      const asked: string[] = [];
      const proxied = await connectThroughProxy(t, mode, {
        policy: policyPath,
        upstream: [bin('mcp-server-everything')],
        args: ['--audit', audit],
        capabilities: { elicitation: {} },
        prepare: (client) =>
          client.setRequestHandler(ElicitRequestSchema, async (request) => {
            asked.push(String(request.params.message));
            return answer === 'accept' ? { action: 'accept', content: { approve: true } } : { action: 'decline' };
          }),
      });

      const approved = await proxied.client.callTool({ name: 'echo', arguments: { message: 'approved call' } });
      assert.equal(approved.isError, undefined);
      assert.equal(textOf(approved), 'Echo: approved call');
      assert.equal(asked.length, 1);
      assert.match(asked[0]!, /echo/);
      assert.match(asked[0]!, /echo needs a human/);

      answer = 'decline';
      const declined = await proxied.client.callTool({ name: 'echo', arguments: { message: 'declined call' } });
      assert.equal(declined.isError, true);
      assert.match(textOf(declined), /^\[POLICY APPROVAL REJECTED\] echo: the MCP client declined/);
      assert.equal(asked.length, 2);

      const withoutElicitation =
        mode === 'http'
          ? await connectHttp(t, proxied.url!, proxied.token!)
          : (await connectThroughProxy(t, mode, { policy: policyPath, upstream: [bin('mcp-server-everything')] })).client;
      const rejected = await withoutElicitation.callTool({ name: 'echo', arguments: { message: 'nobody to ask' } });
      assert.equal(rejected.isError, true);
      assert.match(textOf(rejected), /^\[POLICY APPROVAL REJECTED\] echo: .*no approver was reachable/);
      assert.equal(asked.length, 2, 'a client without elicitation was asked');

      const decisions = readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { decision: string; upstream?: unknown; arguments: unknown });
      const withoutUpstream = decisions.filter((line) => line.upstream === undefined).map((line) => line.decision);
      assert.deepEqual(withoutUpstream.slice(0, 2), ['approved', 'rejected']);
      assert.equal(decisions.filter((line) => line.upstream !== undefined).length, 1, 'only the approved call was forwarded');
    });
  });
}

test('a call the client cancels while its approval is pending never reaches the upstream, even if approved later', async (t) => {
  const folder = tempFolder(t);
  const audit = join(folder, 'audit.jsonl');
  const spyLog = join(folder, 'upstream.log');
  const policyPath = writePolicy(folder, { ...policy, approval: { timeout: 30 } });
  let approveAtOnce = false;
  let answerLate: (() => void) | undefined;
  let askedFirst: () => void = () => undefined;
  const firstQuestion = new Promise<void>((resolve) => (askedFirst = resolve));
  const proxied = await connectThroughProxy(t, 'stdio', {
    policy: policyPath,
    upstream: [process.execPath, spyServer, bin('mcp-server-everything')],
    env: { SPY_LOG: spyLog },
    args: ['--audit', audit],
    capabilities: { elicitation: {} },
    prepare: (client) =>
      client.setRequestHandler(ElicitRequestSchema, async () => {
        if (approveAtOnce) return { action: 'accept', content: { approve: true } };
        // A person who says "yes" only after the client has given up on the call.
        return new Promise((resolve) => {
          answerLate = () => resolve({ action: 'accept', content: { approve: true } });
          askedFirst();
        });
      }),
  });
  const controller = new AbortController();
  const cancelled = proxied.client.callTool({ name: 'echo', arguments: { message: 'cancelled while asking' } }, undefined, { signal: controller.signal });
  await firstQuestion;
  controller.abort();
  await assert.rejects(cancelled);
  answerLate?.();
  approveAtOnce = true;
  // A later call in the same session works, and gives the late "yes" time to (not) act.
  assert.equal(textOf(await proxied.client.callTool({ name: 'echo', arguments: { message: 'after' } })), 'Echo: after');
  const upstreamSaw = readFileSync(spyLog, 'utf8');
  assert.match(upstreamSaw, /"after"/);
  assert.doesNotMatch(upstreamSaw, /cancelled while asking/);
  // The proxy's own tools/list (for argument checks) carries its id prefix too; nothing else may.
  const notOwnListing = upstreamSaw.split('\n').filter((line) => !line.includes('"method":"tools/list"')).join('\n');
  assert.doesNotMatch(notOwnListing, /mcp-policy-/, 'the late answer to the withdrawn question was relayed upstream');
  const decisions = readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { decision: string; reason: string; upstream?: unknown });
  const first = decisions.find((line) => line.upstream === undefined);
  assert.equal(first?.decision, 'rejected');
  assert.match(first?.reason ?? '', /cancelled the call while approval was pending/);
});
