// A live reload that names an upstream which cannot start: the host (as `serve` and the VS Code
// extension run it) says so at once, naming the server; the other servers keep serving; a call
// to the broken one says its command is missing, not that it "closed the connection".
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { HttpProxyHost } from '../../proxy/serveHost';
import { bin, connectHttp, startHttpCli, tempFolder, textOf, waitFor, writePolicy } from './helpers';

const policyWith = (folder: string, bCommand: string): unknown => ({
  version: '1',
  default: 'allow',
  servers: {
    a: { upstream: { command: bin('mcp-server-memory'), env: { MEMORY_FILE_PATH: `${folder}/a.jsonl` } } },
    b: { upstream: { command: bCommand, env: { MEMORY_FILE_PATH: `${folder}/b.jsonl` } } },
  },
});

test('a reload naming a missing upstream command reports it at once and leaves the other server running', { timeout: 60_000 }, async (t) => {
  const folder = tempFolder(t);
  const policyPath = writePolicy(folder, policyWith(folder, bin('mcp-server-memory')));
  const host = new HttpProxyHost({ policyPath, tokenFile: false, tokens: false });
  const problems: Array<{ server?: string; message: string }> = [];
  let reloads = 0;
  host.on('problem', (problem) => problems.push(problem));
  host.on('policy', (reload) => void (reload.ok && reloads++));
  const status = await host.start();
  t.after(() => host.stop());
  assert.deepEqual(status.servers.map((server) => server.name), ['a', 'b']);

  writeFileSync(policyPath, JSON.stringify(policyWith(folder, 'no-such-mcp-server-command')));
  await waitFor(() => problems.some((problem) => problem.server === 'b'), 15_000, 'a problem naming server b');
  assert.equal(reloads, 1, 'the reload itself is accepted');
  const reported = problems.find((problem) => problem.server === 'b')!;
  assert.match(reported.message, /upstream "b" cannot be started: command not found on PATH: no-such-mcp-server-command/);
  assert.equal(problems.filter((problem) => problem.server === 'a').length, 0);

  const url = (name: string): string => status.servers.find((server) => server.name === name)!.url;
  const a = await connectHttp(t, url('a'), status.token);
  const listed = await a.callTool({ name: 'read_graph', arguments: {} });
  assert.notEqual(listed.isError, true, textOf(listed));

  problems.length = 0;
  const b = await connectHttp(t, url('b'), status.token).then(
    async (client) => textOf(await client.callTool({ name: 'read_graph', arguments: {} })),
    (error: Error) => error.message,
  );
  assert.match(b, /command not found on PATH: no-such-mcp-server-command/);
  await waitFor(() => problems.length > 0, 10_000, 'the failed start reported');
  assert.ok(problems.every((problem) => !/closed the connection/.test(problem.message)), JSON.stringify(problems));
  assert.match(problems[0]!.message, /upstream "b" could not be started: command not found on PATH: no-such-mcp-server-command/);
});

test('serve with one upstream that cannot start: the other serves, the broken one is named at once, its calls say why', { timeout: 60_000 }, async (t) => {
  const folder = tempFolder(t);
  const policyPath = writePolicy(folder, policyWith(folder, 'no-such-mcp-server-command'));
  const proxy = await startHttpCli(t, ['serve', policyPath]);
  await waitFor(() => /upstream "b" cannot be started/.test(proxy.stderr()), 10_000, 'the broken server named on stderr');
  assert.match(proxy.stderr(), /mcp-policy: upstream "b" cannot be started: command not found on PATH: no-such-mcp-server-command/);
  assert.doesNotMatch(proxy.stderr(), /upstream "a"/);

  const a = await connectHttp(t, `${proxy.base}/servers/a/mcp`, proxy.token);
  const listed = await a.callTool({ name: 'read_graph', arguments: {} });
  assert.notEqual(listed.isError, true, textOf(listed));
  const b = await connectHttp(t, `${proxy.base}/servers/b/mcp`, proxy.token).then(
    async (client) => textOf(await client.callTool({ name: 'read_graph', arguments: {} })),
    (error: Error) => error.message,
  );
  assert.match(b, /command not found on PATH: no-such-mcp-server-command/);
});

test('the host lists the servers that cannot start in its status, and refuses to start only when none can', { timeout: 60_000 }, async (t) => {
  const folder = tempFolder(t);
  const partly = writePolicy(folder, policyWith(folder, 'no-such-mcp-server-command'), 'partly.json');
  const host = new HttpProxyHost({ policyPath: partly, tokenFile: false, tokens: false });
  const status = await host.start();
  t.after(() => host.stop());
  assert.deepEqual(status.problems.map((problem) => problem.server), ['b']);
  assert.deepEqual(status.servers.map((server) => server.name), ['a', 'b']);

  const none = writePolicy(
    folder,
    { version: '1', default: 'allow', servers: { b: { upstream: { command: 'no-such-mcp-server-command' } }, c: { upstream: { command: 'no-such-other-command' } } } },
    'none.json',
  );
  const refused = new HttpProxyHost({ policyPath: none, tokenFile: false, tokens: false });
  await assert.rejects(refused.start(), /upstream "b" cannot be started[\s\S]*upstream "c" cannot be started/);
  assert.equal(refused.status, undefined);
});
