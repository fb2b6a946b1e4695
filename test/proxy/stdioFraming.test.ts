/** The stdio framing on its own: bytes → lines, a line → a message or the error that answers it. */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { StdioDownstream } from '../../proxy/stdioDownstream';
import { LineSplitter, oversizedReplyId, readLine, type OversizedLine } from '../../proxy/stdioFraming';

function collect(maxBytes?: number): { splitter: LineSplitter; lines: string[]; oversized: OversizedLine[] } {
  const lines: string[] = [];
  const oversized: OversizedLine[] = [];
  const splitter = new LineSplitter({ line: (text) => lines.push(text), oversized: (line) => oversized.push(line) }, maxBytes);
  return { splitter, lines, oversized };
}

const sample = ['{"jsonrpc":"2.0","id":1,"method":"ping"}', '{"text":"café 😀 ünïcödé ✓"}', '', '{"crlf":true}\r', 'plain \r inside', '😀'];
const sampleBytes = Buffer.from(sample.map((line) => `${line}\n`).join(''), 'utf8');
const expected = sample.map((line) => line.replace(/\r$/, ''));

describe('LineSplitter', () => {
  test('gives the same lines wherever the stream is split, including inside a multi-byte character', () => {
    for (let cut = 0; cut <= sampleBytes.length; cut++) {
      const { splitter, lines } = collect();
      splitter.push(sampleBytes.subarray(0, cut));
      splitter.push(sampleBytes.subarray(cut));
      assert.deepEqual(lines, expected, `split at byte ${cut}`);
    }
  });

  test('gives the same lines when every byte arrives on its own', () => {
    const { splitter, lines } = collect();
    for (let i = 0; i < sampleBytes.length; i++) splitter.push(sampleBytes.subarray(i, i + 1));
    assert.deepEqual(lines, expected);
  });

  test('a line without its newline yet is held, not given', () => {
    const { splitter, lines } = collect();
    splitter.push(Buffer.from('{"a":1}\n{"b":'));
    assert.deepEqual(lines, ['{"a":1}']);
    splitter.push(Buffer.from('2}\n'));
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
  });

  test('a line at the cap passes; one byte more is dropped, counted, and the next line is read', () => {
    for (const step of [1, 7, 1000]) {
      const { splitter, lines, oversized } = collect(64);
      const atCap = 'a'.repeat(64);
      const over = `{"method":"m","id":5,"x":"${'b'.repeat(100)}"}`;
      const input = Buffer.from(`${atCap}\n${over}\n${'c'.repeat(65)}\nnext\n`);
      for (let i = 0; i < input.length; i += step) splitter.push(input.subarray(i, i + step));
      assert.deepEqual(lines, [atCap, 'next'], `chunks of ${step}`);
      assert.deepEqual(
        oversized.map((line) => line.bytes),
        [Buffer.byteLength(over), 65],
      );
      assert.ok(oversized[0]!.head.startsWith('{"method":"m","id":5,'), `head kept, chunks of ${step}`);
      assert.ok(oversized[0]!.tail.endsWith('bbb"}'), `tail kept, chunks of ${step}`);
    }
  });
});

describe('readLine', () => {
  test('valid JSON-RPC messages come out with the same content, unknown members and all', () => {
    const messages = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { a: [1, { b: null }] }, _meta: { progressToken: 'p' } } },
      { jsonrpc: '2.0', id: 'abc', method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, result: { content: [] }, extra: 'kept' },
      { jsonrpc: '2.0', id: 'by-position', method: 'tools/call', params: ['echo', {}] },
      { jsonrpc: '2.0', id: 3, error: { code: -1, message: 'no', data: { why: 1 } } },
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } },
      { jsonrpc: '2.0', error: { code: -32700, message: 'parse error' } },
    ];
    for (const message of messages) assert.deepEqual(readLine(JSON.stringify(message), 'line'), { message });
  });

  test('blank lines are skipped', () => {
    assert.equal(readLine('', 'line'), undefined);
    assert.equal(readLine('  \t', 'line'), undefined);
  });

  test('a line that is not JSON gets a parse error with id null, naming the line', () => {
    const outcome = readLine('{"jsonrpc":"2.0",', 'stdin line 4');
    assert.ok(outcome && 'reply' in outcome);
    assert.equal(outcome.reply.length, 1);
    const reply = outcome.reply[0] as { id: unknown; error: { code: number; message: string } };
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, -32700);
    assert.match(reply.error.message, /^mcp-policy: stdin line 4 is not JSON/);
  });

  const invalid: Array<[string, unknown, unknown]> = [
    ['a number', 42, null],
    // MCP results are objects: the relay reads every answer as one.
    ['a null result', { jsonrpc: '2.0', id: 5, result: null }, null],
    ['an array result', { jsonrpc: '2.0', id: 6, result: [1, 'two'] }, null],
    ['a string', 'hello', null],
    ['null', null, null],
    ['no jsonrpc', { id: 1, method: 'ping' }, 1],
    ['jsonrpc 1.0', { jsonrpc: '1.0', id: 1, method: 'ping' }, 1],
    ['method not a string', { jsonrpc: '2.0', id: 1, method: 7 }, null],
    ['a fractional id', { jsonrpc: '2.0', id: 1.5, method: 'ping' }, null],
    ['a null request id', { jsonrpc: '2.0', id: null, method: 'ping' }, null],
    ['an object id', { jsonrpc: '2.0', id: {}, method: 'ping' }, null],
    ['params null', { jsonrpc: '2.0', id: 'x', method: 'ping', params: null }, 'x'],
    ['method and result', { jsonrpc: '2.0', id: 2, method: 'ping', result: {} }, 2],
    ['neither method, result nor error', { jsonrpc: '2.0', id: 3 }, null],
    ['result and error', { jsonrpc: '2.0', id: 3, result: {}, error: { code: 1, message: 'x' } }, null],
    ['params a string', { jsonrpc: '2.0', id: 'x', method: 'ping', params: 'p' }, 'x'],
    ['a result without id', { jsonrpc: '2.0', result: {} }, null],
    ['error without code', { jsonrpc: '2.0', id: 3, error: { message: 'x' } }, null],
    ['an empty batch', [], null],
  ];
  for (const [what, value, id] of invalid) {
    test(`${what}: invalid request (-32600), answered with id ${JSON.stringify(id)}`, () => {
      const outcome = readLine(JSON.stringify(value), 'line 1');
      assert.ok(outcome && 'reply' in outcome, `${what} was accepted`);
      assert.deepEqual(
        outcome.reply.map((reply) => [(reply as { id: unknown }).id, (reply as { error: { code: number } }).error.code]),
        [[id, -32600]],
      );
    });
  }

  test('a batch: every request in it gets its own error, nothing is delivered', () => {
    const batch = [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }, { jsonrpc: '2.0', method: 'notifications/initialized' }, { jsonrpc: '2.0', id: 'b', method: 'ping' }];
    const outcome = readLine(JSON.stringify(batch), 'line 2');
    assert.ok(outcome && 'reply' in outcome);
    assert.deepEqual(
      outcome.reply.map((reply) => (reply as { id: unknown }).id),
      [1, 'b'],
    );
    assert.match(outcome.problem, /batch/);
  });
});

describe('oversizedReplyId', () => {
  const line = (text: string, cut = 80): OversizedLine => ({ bytes: 1e8, head: text.slice(0, cut), tail: text.slice(-cut) });
  const filler = 'z'.repeat(200);

  test('finds a request id at the start or as the last member', () => {
    assert.equal(oversizedReplyId(line(`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"a":"${filler}"}}`)), 12);
    assert.equal(oversizedReplyId(line(`{"method":"tools/call","params":{"a":"${filler}"},"jsonrpc":"2.0","id":"req-9"}`)), 'req-9');
    assert.equal(oversizedReplyId(line(` { "id" : 3 , "jsonrpc" : "2.0" , "method" : "x", "params":{"a":"${filler}"}}`, 60)), 3);
  });

  test('gives null for answers, for ids inside params, and when no id shows', () => {
    assert.equal(oversizedReplyId(line(`{"jsonrpc":"2.0","id":12,"result":{"a":"${filler}"}}`)), null);
    assert.equal(oversizedReplyId(line(`{"result":{"a":"${filler}"},"jsonrpc":"2.0","id":4}`)), null);
    assert.equal(oversizedReplyId(line(`{"method":"tools/call","params":{"a":"${filler}","inner":{"id":3}}}`)), null);
    assert.equal(oversizedReplyId(line(`{"method":"tools/call","params":{"a":"${filler}","id":3},"jsonrpc":"2.0"}`)), null);
    assert.equal(oversizedReplyId(line(`{"method":"tools/call","params":{"a":"${filler}"}}`)), null);
    assert.equal(oversizedReplyId(line(`${filler}`)), null);
    assert.equal(oversizedReplyId(line(`{"jsonrpc":"2.0","id":1.5,"method":"x","params":{"a":"${filler}"}}`)), null);
  });
});

describe('StdioDownstream', () => {
  function streams(): { input: PassThrough; output: PassThrough; written: () => Array<Record<string, unknown>> } {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => (text += chunk.toString()));
    return {
      input,
      output,
      written: () =>
        text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
    };
  }

  test('delivers messages as they came, answers bad lines itself, and closes once when input ends', async () => {
    const { input, output, written } = streams();
    const transport = new StdioDownstream(input, output);
    const received: unknown[] = [];
    let closes = 0;
    transport.onmessage = (message) => received.push(message);
    transport.onclose = () => closes++;
    await transport.start();
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'é' } }, extra: true };
    input.write(`${JSON.stringify(call)}\nnot json\n`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(received, [call]);
    assert.equal((written()[0]?.error as { code: number }).code, -32700);
    await transport.send({ jsonrpc: '2.0', id: 1, result: { ok: true } });
    assert.deepEqual(written()[1], { jsonrpc: '2.0', id: 1, result: { ok: true } });
    input.end();
    await new Promise((resolve) => setImmediate(resolve));
    await transport.close();
    assert.equal(closes, 1);
    await assert.rejects(transport.send({ jsonrpc: '2.0', method: 'x' }), /stdout is closed/);
  });

  test('a handler that throws on one message does not cost the messages after it', async () => {
    const input = new PassThrough();
    const transport = new StdioDownstream(input, new PassThrough());
    const received: unknown[] = [];
    const errors: string[] = [];
    transport.onmessage = (message) => {
      if ((message as { id?: unknown }).id === 1) throw new Error('handler failed');
      received.push((message as { id?: unknown }).id);
    };
    transport.onerror = (error) => errors.push(error.message);
    await transport.start();
    input.write('{"jsonrpc":"2.0","id":1,"method":"a"}\n{"jsonrpc":"2.0","id":2,"method":"b"}\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(received, [2]);
    assert.deepEqual(errors, ['handler failed']);
  });

  test('a failing output (EPIPE) closes the session once and reports it; no throw', async () => {
    const input = new PassThrough();
    const output = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const transport = new StdioDownstream(input, output);
    const errors: string[] = [];
    let closes = 0;
    transport.onerror = (error) => errors.push(error.message);
    transport.onclose = () => closes++;
    await transport.start();
    void transport.send({ jsonrpc: '2.0', id: 1, result: {} }).catch(() => undefined);
    void transport.send({ jsonrpc: '2.0', id: 2, result: {} }).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closes, 1);
    assert.match(errors.join('\n'), /stdout failed \(EPIPE\)/);
    assert.equal(input.destroyed, true, 'stdin is let go so the process can exit');
  });
});
