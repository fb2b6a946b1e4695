/** A dying upstream: waiting calls get an error result, the proxy stays up and restarts it. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { bin, cli, connectThroughProxy, modes, tempFolder, textOf, waitFor, writePolicy } from './helpers';

function childrenOf(pid: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return out.split('\n').map((line) => Number(line.trim())).filter((value) => value > 0);
}

for (const mode of modes) {
  describe(`upstream failure through proxy over ${mode}`, () => {
    test('killing the upstream mid-call gives an error result, and the next call works', async (t) => {
      const folder = tempFolder(t);
      const proxied = await connectThroughProxy(t, mode, { policy: writePolicy(folder, { version: '1', default: 'allow' }), upstream: [bin('mcp-server-everything')] });
      assert.equal(textOf(await proxied.client.callTool({ name: 'echo', arguments: { message: 'before' } })), 'Echo: before');
      let progressed = 0;
      const running = proxied.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 40 } }, undefined, { onprogress: () => progressed++ });
      await waitFor(() => progressed > 0, 10000, 'the long call to start');
      const upstreams = childrenOf(proxied.pid);
      assert.equal(upstreams.length, 1, `expected one upstream process, found ${upstreams.join(', ')}`);
      process.kill(upstreams[0]!, 'SIGKILL');
      const failed = await running;
      assert.equal(failed.isError, true);
      assert.match(textOf(failed), /^\[UPSTREAM FAILED\] trigger-long-running-operation: upstream "default" closed the connection/);
      assert.equal((failed._meta as Record<string, { upstream?: { ok: boolean } }>)['mcp-policy/decision']?.upstream?.ok, false);

      assert.equal(textOf(await proxied.client.callTool({ name: 'echo', arguments: { message: 'after' } })), 'Echo: after');
      const restarted = childrenOf(proxied.pid);
      assert.equal(restarted.length, 1);
      assert.notEqual(restarted[0], upstreams[0]);
    });
  });
}

test('an upstream that cannot be started: proxy exits 1 with a clear message', (t) => {
  const folder = tempFolder(t);
  const result = spawnSync(process.execPath, [cli, 'proxy', writePolicy(folder, { version: '1' }), '--', 'no-such-mcp-server-command'], { encoding: 'utf8', input: '' });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /upstream "default" cannot be started: command not found on PATH: no-such-mcp-server-command/);
});

test('an invalid policy at start: no proxy, the errors, exit 1', (t) => {
  const folder = tempFolder(t);
  const result = spawnSync(process.execPath, [cli, 'proxy', writePolicy(folder, { version: '1', default: 'maybe' }), '--', bin('mcp-server-everything')], { encoding: 'utf8', input: '' });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /mcp-policy\.json:\d+:\d+: error: /);
});
