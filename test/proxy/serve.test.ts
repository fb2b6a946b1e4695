/** `serve`: every policy server at /servers/S/mcp, from the CLI and from createProxyHost in-process. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DecisionEvent } from '../../core';
import type { PolicyReload, UpstreamOutcome } from '../../proxy/host';
import { createProxyHost } from '../../proxy/serveHost';
import { bin, connectHttp, startHttpCli, tempFolder, textOf, waitFor, writePolicy } from './helpers';

function twoServers(folder: string): unknown {
  return {
    version: '1',
    default: 'deny',
    servers: {
      A: { upstream: { command: bin('mcp-server-everything') }, tools: { echo: { limits: [{ window: 'minute', max: 1, scope: 'session' }] } } },
      B: { upstream: { command: bin('mcp-server-memory'), env: { MEMORY_FILE_PATH: join(folder, 'memory.jsonl') } }, default: 'allow', hide: ['delete_*'] },
    },
  };
}

function childPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, command]) => command !== undefined && command !== 'ps')
    .map(([pid]) => Number(pid));
}

test('serve CLI: two servers at /servers/A/mcp and /servers/B/mcp, each with its own rules', async (t) => {
  const folder = tempFolder(t);
  const proxy = await startHttpCli(t, ['serve', writePolicy(folder, twoServers(folder)), '--port', '0', '--token-file', join(folder, 'token')]);
  const a = await connectHttp(t, `${proxy.base}/servers/A/mcp`, proxy.token);
  const b = await connectHttp(t, `${proxy.base}/servers/B/mcp`, proxy.token);
  assert.equal(textOf(await a.callTool({ name: 'echo', arguments: { message: 'A' } })), 'Echo: A');
  assert.match(textOf(await a.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })), /^\[POLICY DENIED\] get-sum/);
  const bTools = (await b.listTools()).tools.map((tool) => tool.name);
  assert.ok(bTools.includes('read_graph') && !bTools.some((name) => name.startsWith('delete_')));
  assert.equal((await b.callTool({ name: 'read_graph', arguments: {} })).isError, undefined);
  assert.equal((await fetch(`${proxy.base}/servers/C/mcp`, { headers: { authorization: `Bearer ${proxy.token}` } })).status, 404);
});

test('createProxyHost in-process: sessions are their own scope, events fire, stop() closes everything', async (t) => {
  const folder = tempFolder(t);
  const policyPath = writePolicy(folder, twoServers(folder));
  const before = new Set(childPids());
  const host = createProxyHost({ policyPath, tokenFile: false });
  t.after(() => host.stop());
  const decisions: DecisionEvent[] = [];
  const outcomes: UpstreamOutcome[] = [];
  const reloads: PolicyReload[] = [];
  host.on('decision', (event) => decisions.push(event));
  host.on('upstream', (outcome) => outcomes.push(outcome));
  host.on('policy', (reload) => reloads.push(reload));
  const status = await host.start();
  assert.equal(status.host, '127.0.0.1');
  assert.equal(status.tokenFile, undefined);
  assert.deepEqual(status.servers.map((server) => server.name), ['A', 'B']);
  const urlA = status.servers[0]!.url;
  assert.equal(urlA, `http://127.0.0.1:${status.port}/servers/A/mcp`);

  const first = await connectHttp(t, urlA, status.token);
  const second = await connectHttp(t, urlA, status.token);
  assert.equal(textOf(await first.callTool({ name: 'echo', arguments: { message: '1' } })), 'Echo: 1');
  assert.match(textOf(await first.callTool({ name: 'echo', arguments: { message: '2' } })), /^\[POLICY RATE LIMITED\]/);
  assert.equal(textOf(await second.callTool({ name: 'echo', arguments: { message: '3' } })), 'Echo: 3', 'a new session has its own budget');
  await waitFor(() => outcomes.length === 2, 5000, 'two upstream outcomes');
  assert.deepEqual(decisions.map((event) => event.decision), ['allowed', 'rate_limited', 'allowed']);
  assert.notEqual(decisions[0]!.session, decisions[2]!.session);
  assert.equal(decisions[0]!.client, 'proxy-test 1.0.0');
  assert.deepEqual(outcomes.map((outcome) => [outcome.id, outcome.ok]), [[decisions[0]!.id, true], [decisions[2]!.id, true]]);

  writeFileSync(policyPath, '{ "version": "1", ');
  await waitFor(() => reloads.length > 0, 5000, 'a policy event');
  assert.equal(reloads[0]!.ok, false);
  assert.ok(reloads[0]!.errors.length > 0);

  const started = childPids().filter((pid) => !before.has(pid));
  assert.equal(started.length, 2, 'one upstream per session');
  await host.stop();
  assert.equal(host.status, undefined);
  await waitFor(() => childPids().filter((pid) => !before.has(pid)).length === 0, 5000, 'the upstreams to exit');
  await assert.rejects(fetch(urlA, { method: 'POST', headers: { authorization: `Bearer ${status.token}` }, body: '{}' }));
});

test('a hot reload that adds and removes servers changes the guarded list and the routes', async (t) => {
  const folder = tempFolder(t);
  const policy = { version: '1', default: 'allow', servers: { A: { upstream: { command: bin('mcp-server-everything') } } } };
  const policyPath = writePolicy(folder, policy);
  const host = createProxyHost({ policyPath, tokenFile: false });
  t.after(() => host.stop());
  const reloads: PolicyReload[] = [];
  host.on('policy', (reload) => reloads.push(reload));
  const status = await host.start();
  assert.deepEqual(status.servers.map((server) => server.name), ['A']);
  const added = { ...policy, servers: { M: { upstream: { command: bin('mcp-server-memory'), env: { MEMORY_FILE_PATH: join(folder, 'memory.jsonl') } } } } };
  writeFileSync(policyPath, JSON.stringify(added));
  await waitFor(() => reloads.some((reload) => reload.ok), 5000, 'the reload');
  assert.deepEqual(host.status?.servers.map((server) => server.name), ['M']);
  const memory = await connectHttp(t, host.status!.servers[0]!.url, status.token);
  assert.ok((await memory.listTools()).tools.some((tool) => tool.name === 'read_graph'));
  assert.equal((await fetch(`http://127.0.0.1:${status.port}/servers/A/mcp`, { method: 'POST', headers: { authorization: `Bearer ${status.token}` } })).status, 404, 'a removed server has no route');
});
