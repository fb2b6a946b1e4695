/**
 * Pinning through the real CLI: a server changes a reviewed tool's description while the proxy
 * runs (a "rug pull"); with pinning on the tool is hidden and its calls denied with the change
 * named, `catalog --check` exits 1, and accepting the change (`mcp-policy catalog`) lets it through.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { eventually, runCli, toolNames } from './cliRun';
import { connectThroughProxy, modes, tempFolder, textOf, writePolicy } from './helpers';

const driftServer = join(__dirname, 'driftServer.js');


for (const mode of modes) {
  describe(`pinning over ${mode}`, () => {
    test('a description changed at run time is hidden and denied with the change named; catalog --check exits 1; accepting lets it through', async (t) => {
      const folder = tempFolder(t);
      const trigger = join(folder, 'drift-now');
      const env = { DRIFT_TRIGGER: trigger };
      const catalogArgs = ['catalog', '--server', 'drift', '--out', join(folder, 'mcp-policy.catalog.json'), '--', process.execPath, driftServer];
      const captured = await runCli(catalogArgs, env);
      assert.equal(captured.code, 0, captured.stderr);
      assert.equal((await runCli([...catalogArgs.slice(0, 5), '--check', ...catalogArgs.slice(5)], env)).code, 0, 'no drift right after capture');

      const policy = writePolicy(folder, { version: '1', default: 'deny', pinning: true, tools: { '@read': {} } });
      const proxied = await connectThroughProxy(t, mode, { policy, args: ['--server', 'drift'], upstream: [process.execPath, driftServer], env });
      assert.deepEqual(await toolNames(proxied.client), ['get_time', 'greet']);
      assert.equal(textOf(await proxied.client.callTool({ name: 'greet', arguments: { name: 'Ann' } })), 'Hello, Ann');

      writeFileSync(trigger, '');
      assert.deepEqual(await eventually('greet hidden after its description changed', () => toolNames(proxied.client), (list) => !list.includes('greet')), ['get_time']);
      const denied = await proxied.client.callTool({ name: 'greet', arguments: { name: 'Ann' } });
      assert.match(textOf(denied), /^\[POLICY DENIED\] greet: .*greet changed since it was pinned: its description differs from the catalog/);

      const check = await runCli([...catalogArgs.slice(0, 5), '--check', ...catalogArgs.slice(5)], env);
      assert.equal(check.code, 1, check.stdout);
      assert.match(check.stdout, /drift: drift\/greet: changed: .*description differs/);
      assert.match(check.stdout, /drift: drift\/wipe_notes: unpinned: /);

      assert.equal((await runCli(catalogArgs, env)).code, 0, 'accepting the change rewrites the pin');
      const allowed = await eventually('greet allowed after the pin was accepted', async () => textOf(await proxied.client.callTool({ name: 'greet', arguments: { name: 'Bo' } })), (text) => text === 'Hello, Bo');
      assert.equal(allowed, 'Hello, Bo');
      assert.deepEqual(await toolNames(proxied.client), ['get_time', 'greet', 'wipe_notes'], 'the tool added at run time is pinned now too');
    });
  });
}

test('pinning off: a drifted tool is decided by the rules, and the drift is reported', async (t) => {
  const folder = tempFolder(t);
  const trigger = join(folder, 'drift-now');
  writeFileSync(trigger, '');
  const captured = await runCli(['catalog', '--server', 'drift', '--out', join(folder, 'mcp-policy.catalog.json'), '--', process.execPath, driftServer], { DRIFT_TRIGGER: join(folder, 'not-yet') });
  assert.equal(captured.code, 0, captured.stderr);
  const policy = writePolicy(folder, { version: '1', default: 'deny', tools: { '@read': {} } });
  const proxied = await connectThroughProxy(t, 'stdio', { policy, args: ['--server', 'drift'], upstream: [process.execPath, driftServer], env: { DRIFT_TRIGGER: trigger } });
  assert.deepEqual(await toolNames(proxied.client), ['get_time', 'greet', 'wipe_notes']);
  assert.equal(textOf(await proxied.client.callTool({ name: 'greet', arguments: { name: 'Ann' } })), 'Hello, Ann');
  assert.match(proxied.stderr(), /drift: drift\/greet changed since it was pinned: its description differs .*pinning is off/);
});

test('pinning on: a tool the catalog does not have is hidden and denied as unpinned', async (t) => {
  const folder = tempFolder(t);
  writeFileSync(join(folder, 'mcp-policy.catalog.json'), JSON.stringify({ version: '1', servers: { drift: { tools: [] } } }));
  const policy = writePolicy(folder, { version: '1', default: 'allow', pinning: true });
  const proxied = await connectThroughProxy(t, 'stdio', { policy, args: ['--server', 'drift'], upstream: [process.execPath, driftServer], env: { DRIFT_TRIGGER: join(folder, 'never') } });
  const denied = await proxied.client.callTool({ name: 'get_time', arguments: {} });
  assert.match(textOf(denied), /^\[POLICY DENIED\] get_time: .*get_time is not pinned/);
  assert.deepEqual(await toolNames(proxied.client), []);
});

test('a tool the server adds at run time falls under its risk-class selector (class from its live annotations)', async (t) => {
  const folder = tempFolder(t);
  const trigger = join(folder, 'drift-now');
  const policy = writePolicy(folder, { version: '1', default: 'allow', tools: { '@destructive': { action: 'approve', reason: 'destroys' }, '@read': {} } });
  const proxied = await connectThroughProxy(t, 'stdio', { policy, args: ['--server', 'drift'], upstream: [process.execPath, driftServer], env: { DRIFT_TRIGGER: trigger } });
  assert.deepEqual(await toolNames(proxied.client), ['get_time', 'greet']);
  writeFileSync(trigger, '');
  await eventually('wipe_notes listed', () => toolNames(proxied.client), (list) => list.includes('wipe_notes'));
  const asked = await proxied.client.callTool({ name: 'wipe_notes', arguments: {} });
  assert.match(textOf(asked), /^\[POLICY APPROVAL REJECTED\] wipe_notes: .*no approver was reachable/);
});
