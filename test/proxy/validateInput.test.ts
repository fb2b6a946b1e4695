/** validate_input checks arguments against the upstream's own inputSchema, fetched by the proxy itself. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bin, connectThroughProxy, modes, tempFolder, textOf, writePolicy } from './helpers';

for (const mode of modes) {
  describe(`validate_input through proxy over ${mode}`, () => {
    test('bad arguments are stopped by the tools/list schema, without the client ever listing tools', async (t) => {
      const folder = tempFolder(t);
      const proxied = await connectThroughProxy(t, mode, {
        policy: writePolicy(folder, { version: '1', default: 'deny', tools: { 'get-sum': { validate_input: true } } }),
        upstream: [bin('mcp-server-everything')],
      });
      const bad = await proxied.client.callTool({ name: 'get-sum', arguments: { a: 'one', b: 2 } });
      assert.equal(bad.isError, true);
      assert.match(textOf(bad), /^\[POLICY INVALID ARGUMENTS\] get-sum: .*\/a must be number/);
      const good = await proxied.client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
      assert.equal(good.isError, undefined);
      assert.match(textOf(good), /3/);
    });
  });
}
