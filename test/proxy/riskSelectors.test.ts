/**
 * Risk-class selectors and callable-only lists through the real CLI against server-memory,
 * whose tools carry annotations and are in no catalog: the class comes from the live listing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bin, connectThroughProxy, modes, repoRoot, tempFolder, textOf, writePolicy } from './helpers';

for (const mode of modes) {
  describe(`risk-class selectors over ${mode}`, () => {
    test('@destructive asks, @read passes, the rest falls to default, without the client ever listing tools', async (t) => {
      const folder = tempFolder(t);
      const proxied = await connectThroughProxy(t, mode, {
        policy: writePolicy(folder, { version: '1', default: 'deny', tools: { '@destructive': { action: 'approve', reason: 'destroys' }, '@read': {} } }),
        upstream: [bin('mcp-server-memory')],
        env: { MEMORY_FILE_PATH: join(folder, 'memory.json') },
      });
      const read = await proxied.client.callTool({ name: 'read_graph', arguments: {} });
      assert.equal(read.isError, undefined, textOf(read));
      const destroyed = await proxied.client.callTool({ name: 'delete_entities', arguments: { entityNames: ['x'] } });
      assert.match(textOf(destroyed), /^\[POLICY APPROVAL REJECTED\] delete_entities: .*no approver was reachable/);
      const written = await proxied.client.callTool({ name: 'create_entities', arguments: { entities: [] } });
      assert.match(textOf(written), /^\[POLICY DENIED\] create_entities: /);
    });

    test('callable_only: tools/list shows exactly the tools a rule or selector can let through', async (t) => {
      const folder = tempFolder(t);
      const proxied = await connectThroughProxy(t, mode, {
        policy: writePolicy(folder, { version: '1', default: 'deny', callable_only: true, hide: ['search_*'], tools: { '@read': {}, create_entities: { action: 'approve' } } }),
        upstream: [bin('mcp-server-memory')],
        env: { MEMORY_FILE_PATH: join(folder, 'memory.json') },
      });
      const { tools } = await proxied.client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['create_entities', 'open_nodes', 'read_graph']);
    });

    test('without callable_only the list keeps denied tools and drops only hidden ones', async (t) => {
      const folder = tempFolder(t);
      const proxied = await connectThroughProxy(t, mode, {
        policy: writePolicy(folder, { version: '1', default: 'deny', hide: ['search_*'], tools: { '@read': {} } }),
        upstream: [bin('mcp-server-memory')],
        env: { MEMORY_FILE_PATH: join(folder, 'memory.json') },
      });
      const names = (await proxied.client.listTools()).tools.map((tool) => tool.name);
      assert.equal(names.length, 8);
      assert.equal(names.includes('search_nodes'), false);
    });
  });
}

for (const mode of modes) {
  test(`${mode}: the seed policy (default deny, one rule) with callable_only lists exactly fluentcrm_resume_campaign from the demo CRM server, and its path injection is invalid_arguments`, async (t) => {
    const folder = tempFolder(t);
    const proxied = await connectThroughProxy(t, mode, {
      policy: writePolicy(folder, { version: '1', default: 'deny', callable_only: true, tools: { fluentcrm_resume_campaign: { limits: [{ window: 'minute', max: 2 }] } } }),
      upstream: [process.execPath, join(repoRoot, 'dist', 'demo-crm-server.js')],
      env: { DEMO_CRM_LOG: join(folder, 'calls.jsonl') },
    });
    assert.deepEqual((await proxied.client.listTools()).tools.map((tool) => tool.name), ['fluentcrm_resume_campaign']);
    const injected = await proxied.client.callTool({ name: 'fluentcrm_resume_campaign', arguments: { campaignId: '../../../wp/v2/users/1?x=' } });
    assert.match(textOf(injected), /^\[POLICY INVALID ARGUMENTS\] fluentcrm_resume_campaign: .*\/campaignId must be number/);
  });
}
