/**
 * A limit under 200 concurrent calls (counted at the upstream: files server-filesystem wrote),
 * and the audit log, with server-memory. (server-memory itself loses entities under concurrent
 * writes — it rewrites its whole file per call — so it cannot count concurrent admissions.)
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bin, connectDirect, connectThroughProxy, modes, spyServer, tempFolder, textOf, waitFor, writePolicy } from './helpers';

const policy = {
  version: '1',
  default: 'allow',
  tools: {
    create_entities: { limits: [{ counter: 'creations', window: 'minute', max: 10 }] },
    write_file: { limits: [{ counter: 'writes', window: 'minute', max: 10 }] },
  },
};

interface AuditLine {
  id: string;
  tool: string;
  decision: string;
  upstream?: { ok: boolean; ms: number };
}

function readAudit(path: string): AuditLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as AuditLine);
}

for (const mode of modes) {
  describe(`server-filesystem and server-memory through proxy over ${mode}`, () => {
    test('200 concurrent calls against max 10: exactly 10 reach the upstream; one audit line per decision', async (t) => {
      const folder = tempFolder(t);
      const data = join(folder, 'data');
      mkdirSync(data);
      const spyLog = join(folder, 'upstream.log');
      const audit = join(folder, 'audit.jsonl');
      const proxied = await connectThroughProxy(t, mode, {
        policy: writePolicy(folder, policy),
        upstream: [process.execPath, spyServer, bin('mcp-server-filesystem'), data],
        env: { SPY_LOG: spyLog },
        args: ['--audit', audit],
      });
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          proxied.client.callTool({ name: 'write_file', arguments: { path: join(data, `file-${index}.txt`), content: `${index}` } }),
        ),
      );
      const admitted = results.filter((result) => !result.isError);
      const limited = results.filter((result) => result.isError && textOf(result).startsWith('[POLICY RATE LIMITED]'));
      assert.equal(admitted.length, 10);
      assert.equal(limited.length, 190);

      assert.equal(readdirSync(data).length, 10, 'the upstream wrote a different number of files');
      await proxied.client.callTool({ name: 'list_directory', arguments: { path: data } });
      const reached = readFileSync(spyLog, 'utf8').split('\n').filter((line) => line.includes('"write_file"'));
      assert.equal(reached.length, 10, 'a different number of calls reached the upstream');

      const lines = readAudit(audit);
      const decisions = lines.filter((line) => line.upstream === undefined);
      assert.equal(decisions.length, 201, 'one line per decision');
      assert.equal(decisions.filter((line) => line.decision === 'allowed').length, 11);
      assert.equal(decisions.filter((line) => line.decision === 'rate_limited').length, 190);
      const outcomes = lines.filter((line) => line.upstream !== undefined);
      assert.equal(outcomes.length, 11, 'one upstream line per forwarded call');
      const forwardedIds = new Set(decisions.filter((line) => line.decision === 'allowed').map((line) => line.id));
      for (const outcome of outcomes) assert.ok(forwardedIds.has(outcome.id) && outcome.upstream?.ok === true);
      assert.equal(new Set(decisions.map((line) => line.id)).size, 201, 'ids are unique');
    });

    test('SIGKILL right after a forwarded call returns loses no audit line', async (t) => {
      const folder = tempFolder(t);
      const audit = join(folder, 'audit.jsonl');
      const proxied = await connectThroughProxy(t, mode, {
        policy: writePolicy(folder, { ...policy, tools: { ...policy.tools, delete_entities: { action: 'deny' } } }),
        upstream: [bin('mcp-server-memory')],
        env: { MEMORY_FILE_PATH: join(folder, 'memory.jsonl') },
        args: ['--audit', audit],
      });
      await proxied.client.callTool({ name: 'delete_entities', arguments: { entityNames: ['x'] } });
      const created = await proxied.client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'last', entityType: 'test', observations: [] }] } });
      assert.equal(created.isError, undefined);
      const direct = await connectDirect(t, [bin('mcp-server-memory')], { MEMORY_FILE_PATH: join(folder, 'memory.jsonl') });
      const graph = await proxied.client.callTool({ name: 'read_graph', arguments: {} });
      assert.deepEqual(graph, await direct.callTool({ name: 'read_graph', arguments: {} }), 'read_graph differs through the proxy');
      assert.match(textOf(graph), /"last"/);
      process.kill(proxied.pid, 'SIGKILL');
      await waitFor(() => {
        try {
          process.kill(proxied.pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 5000, 'the proxy to die');
      const lines = readAudit(audit);
      assert.deepEqual(
        lines.map((line) => [line.tool, line.decision, line.upstream?.ok]),
        [
          ['delete_entities', 'denied', undefined],
          ['create_entities', 'allowed', undefined],
          ['create_entities', 'allowed', true],
          ['read_graph', 'allowed', undefined],
          ['read_graph', 'allowed', true],
        ],
      );
      assert.equal(lines[1]!.id, lines[2]!.id);
    });
  });
}
