/** server-filesystem through the proxy: identical allowed results, denied writes, hidden tools. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bin, connectDirect, connectThroughProxy, modes, spyServer, tempFolder, textOf, writePolicy } from './helpers';

const policy = {
  version: '1',
  default: 'allow',
  hide: ['move_file'],
  tools: { write_file: { action: 'deny', reason: 'this agent only reads' } },
};

for (const mode of modes) {
  describe(`server-filesystem through proxy over ${mode}`, () => {
    test('allowed calls answer exactly as the server does; denied and hidden calls never reach it', async (t) => {
      const folder = tempFolder(t);
      const data = join(folder, 'data');
      const spyLog = join(folder, 'upstream.log');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(data);
      writeFileSync(join(data, 'notes.txt'), 'line one\nline two\n');
      const policyPath = writePolicy(folder, policy);
      const proxied = await connectThroughProxy(t, mode, {
        policy: policyPath,
        upstream: [process.execPath, spyServer, bin('mcp-server-filesystem'), data],
        env: { SPY_LOG: spyLog },
      });
      const direct = await connectDirect(t, [bin('mcp-server-filesystem'), data]);

      for (const [tool, args] of [
        ['read_text_file', { path: join(data, 'notes.txt') }],
        ['list_directory', { path: data }],
        ['get_file_info', { path: join(data, 'notes.txt') }],
      ] as const) {
        const through = await proxied.client.callTool({ name: tool, arguments: args });
        const straight = await direct.callTool({ name: tool, arguments: args });
        if (tool === 'get_file_info') {
          // access times move when the direct call reads the file
          assert.equal(textOf(through).split('\n')[0], textOf(straight).split('\n')[0]);
        } else assert.deepEqual(through, straight, `${tool} differs through the proxy`);
      }

      const target = join(data, 'written.txt');
      const denied = await proxied.client.callTool({ name: 'write_file', arguments: { path: target, content: 'should never land' } });
      assert.equal(denied.isError, true);
      assert.match(textOf(denied), /^\[POLICY DENIED\] write_file: this agent only reads \(rule: tools\.write_file\)/);
      const event = (denied._meta as Record<string, { decision: string }>)['mcp-policy/decision'];
      assert.equal(event?.decision, 'denied');
      assert.equal(existsSync(target), false, 'the denied write reached the disk');

      const listed = (await proxied.client.listTools()).tools.map((tool) => tool.name);
      const listedDirect = (await direct.listTools()).tools.map((tool) => tool.name);
      assert.ok(listedDirect.includes('move_file'));
      assert.ok(!listed.includes('move_file'), 'hidden move_file is listed');
      assert.deepEqual(listed, listedDirect.filter((name) => name !== 'move_file'));
      const moved = await proxied.client.callTool({ name: 'move_file', arguments: { source: join(data, 'notes.txt'), destination: join(data, 'moved.txt') } });
      assert.equal(moved.isError, true);
      assert.match(textOf(moved), /^\[POLICY DENIED\] move_file: move_file is hidden/);
      assert.ok(existsSync(join(data, 'notes.txt')));

      const seen = readFileSync(spyLog, 'utf8');
      assert.match(seen, /"read_text_file"/, 'the spy saw nothing: the test would prove nothing');
      assert.doesNotMatch(seen, /write_file|move_file|should never land/, 'the upstream saw a blocked call');
    });
  });
}
