/** Editing the policy while the proxy runs: valid edits apply with counters kept, broken ones change nothing. */
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { bin, connectThroughProxy, modes, tempFolder, textOf, waitFor, writePolicy } from './helpers';

async function echo(client: Client): Promise<string> {
  return textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }));
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

for (const mode of modes) {
  describe(`hot reload through proxy over ${mode}`, () => {
    test('allow → deny takes effect, counters survive, a syntax error changes nothing', async (t) => {
      const folder = tempFolder(t);
      const limited = { echo: { limits: [{ window: 'minute', max: 2 }] } };
      const policyPath = writePolicy(folder, { version: '1', default: 'allow', tools: limited });
      const proxied = await connectThroughProxy(t, mode, { policy: policyPath, upstream: [bin('mcp-server-everything')] });
      assert.equal(await echo(proxied.client), 'Echo: hi');
      assert.equal(await echo(proxied.client), 'Echo: hi');

      writePolicy(folder, { version: '1', default: 'allow', hide: ['get-sum'], tools: limited });
      await eventually(async () => !(await proxied.client.listTools()).tools.some((tool) => tool.name === 'get-sum'), 'the reload that hides get-sum');
      assert.match(await echo(proxied.client), /^\[POLICY RATE LIMITED\] echo/, 'the reload reset the counters');

      writePolicy(folder, { version: '1', default: 'allow', tools: { echo: { action: 'deny', reason: 'switched off' } } });
      await eventually(async () => (await echo(proxied.client)).startsWith('[POLICY DENIED] echo: switched off'), 'echo to be denied');

      // Saved as many editors save: a new file renamed over the old one.
      writeFileSync(`${policyPath}.tmp`, JSON.stringify({ version: '1', default: 'allow', tools: { echo: { action: 'deny', reason: 'saved by rename' } } }));
      renameSync(`${policyPath}.tmp`, policyPath);
      await eventually(async () => (await echo(proxied.client)).startsWith('[POLICY DENIED] echo: saved by rename'), 'the policy saved by rename');

      writeFileSync(policyPath, '{ "version": "1", "default": "allow", "tools": { "echo": { } ');
      await waitFor(() => /the changed policy has errors/.test(proxied.stderr()), 5000, 'the reload error on stderr');
      assert.match(await echo(proxied.client), /^\[POLICY DENIED\] echo: saved by rename/);
    });
  });
}
