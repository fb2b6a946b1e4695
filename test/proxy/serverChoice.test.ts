/**
 * `proxy --server S` picks the policy section whose rules and hide apply. A name the policy does
 * not have, or no name among several, would silently apply none of them: refused at start.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, cli, connectThroughProxy, modes, spyServer, tempFolder, textOf, writePolicy } from './helpers';
import { spyCalls } from './rawProxy';

function twoServerPolicy(folder: string): string {
  return writePolicy(folder, {
    version: '1',
    default: 'allow',
    servers: {
      crm: { tools: { 'get-sum': { action: 'deny' } } },
      everything: { hide: ['get-env'], tools: { echo: { action: 'deny', reason: 'no echo here' } } },
    },
  });
}

for (const mode of modes) {
  test(`${mode}: with two servers under default allow, --server everything applies that server's hide and deny; the spy never sees them`, async (t) => {
    const folder = tempFolder(t);
    const spyLog = join(folder, 'upstream.log');
    const { client } = await connectThroughProxy(t, mode, {
      policy: twoServerPolicy(folder),
      args: ['--server', 'everything'],
      upstream: [process.execPath, spyServer, bin('mcp-server-everything')],
      env: { SPY_LOG: spyLog },
    });
    const listed = (await client.listTools()).tools.map((tool) => tool.name);
    assert.ok(listed.includes('get-sum'), 'a tool with no server rule is listed');
    assert.ok(!listed.includes('get-env'), 'the server-level hide applies to tools/list');
    const hidden = await client.callTool({ name: 'get-env', arguments: {} });
    assert.equal(hidden.isError, true);
    assert.match(textOf(hidden), /^\[POLICY DENIED\]/);
    const denied = await client.callTool({ name: 'echo', arguments: { message: 'forbidden' } });
    assert.match(textOf(denied), /^\[POLICY DENIED\] echo: no echo here/);
    // Another server's deny does not leak onto this one.
    const allowed = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
    assert.match(textOf(allowed), /3/);
    const names = spyCalls(spyLog).map((call) => call.name);
    assert.deepEqual(names, ['get-sum']);
  });
}

function runProxy(folder: string, args: string[]): { status: number | null; stderr: string; spyStarted: boolean } {
  const spyLog = join(folder, 'upstream.log');
  const result = spawnSync(process.execPath, [cli, 'proxy', ...args, '--', process.execPath, spyServer, bin('mcp-server-everything')], {
    env: { ...process.env, HOME: folder, SPY_LOG: spyLog },
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stderr: result.stderr, spyStarted: existsSync(spyLog) };
}

test('a --server name that is not in the policy exits 1 naming the known servers, and starts no upstream', (t) => {
  const folder = tempFolder(t);
  const policy = twoServerPolicy(folder);
  for (const typo of ['Everything', 'everythng', '']) {
    const run = runProxy(folder, [policy, '--server', typo]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`--server ${JSON.stringify(typo)} is not one of the policy's servers \\("crm", "everything"\\)`));
    assert.match(run.stderr, /no proxy started/);
    assert.equal(run.spyStarted, false);
  }
});

test('with several servers and no --server the proxy refuses to guess: exit 1, no upstream', (t) => {
  const folder = tempFolder(t);
  const run = runProxy(folder, [twoServerPolicy(folder)]);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /several servers \("crm", "everything"\); name the one this proxy guards with --server/);
  assert.equal(run.spyStarted, false);
});

test('a policy without servers takes any --server name, and its top-level rules apply', async (t) => {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.log');
  const { client } = await connectThroughProxy(t, 'stdio', {
    policy: writePolicy(folder, { version: '1', default: 'allow', hide: ['get-env'] }),
    args: ['--server', 'whatever-name'],
    upstream: [process.execPath, spyServer, bin('mcp-server-everything')],
    env: { SPY_LOG: spyLog },
  });
  assert.match(textOf(await client.callTool({ name: 'get-env', arguments: {} })), /^\[POLICY DENIED\]/);
  assert.match(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } })), /Echo: hi/);
  assert.deepEqual(spyCalls(spyLog).map((call) => call.name), ['echo']);
});

test('with one server, no --server picks it', async (t) => {
  const folder = tempFolder(t);
  const spyLog = join(folder, 'upstream.log');
  const { client } = await connectThroughProxy(t, 'stdio', {
    policy: writePolicy(folder, { version: '1', default: 'allow', servers: { only: { hide: ['get-env'] } } }),
    upstream: [process.execPath, spyServer, bin('mcp-server-everything')],
    env: { SPY_LOG: spyLog },
  });
  assert.ok(!(await client.listTools()).tools.some((tool) => tool.name === 'get-env'));
  assert.match(textOf(await client.callTool({ name: 'get-env', arguments: {} })), /^\[POLICY DENIED\]/);
  assert.deepEqual(spyCalls(spyLog), []);
});
