/**
 * Which numbers the relay cannot carry as values (proxy/inexactNumbers.ts): those a double cannot
 * hold, and only those, found outside strings, with the path that names them; and how a server's
 * such numbers are put back as written (proxy/exactNumbers.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isInexact } from '../../core/inexactNumbers';
import { ExactNumbers } from '../../proxy/exactNumbers';
import { inexactIn, inexactNumber, inexactNumbers, noteInexact, type InexactNumber } from '../../proxy/inexactNumbers';
import { mulberry32 } from '../core/helpers';

describe('isInexact', () => {
  test('integers past 2^53 and numbers past the range are inexact', () => {
    for (const lexeme of ['9007199254740993', '-9007199254740993', '12345678901234567890', '18446744073709551615', '1e400', '-1e400', '2e308', `1${'0'.repeat(400)}`]) assert.equal(isInexact(lexeme), true, lexeme);
  });

  test('safe integers and every decimal in range are carried', () => {
    for (const lexeme of ['0', '-0', '9007199254740991', '9007199254740992', '100000000000000000000', '-9007199254740991', '0.1', '1.0', '1e2', '3.14159265358979323846', '1.7976931348623157e308', '1e-400', '12345678901234567890.0', '5e-324']) assert.equal(isInexact(lexeme), false, lexeme);
  });

  test('on generated integers, inexact exactly when the number written back is another number', () => {
    const random = mulberry32(17);
    let inexact = 0;
    for (let index = 0; index < 3000; index++) {
      // Up to 20 digits: below 1e21, where JSON.stringify still writes integers as digits.
      const digits = 1 + Math.floor(random() * 20);
      let lexeme = String(1 + Math.floor(random() * 9));
      for (let digit = 1; digit < digits; digit++) lexeme += String(Math.floor(random() * 10));
      if (random() < 0.3) lexeme = `-${lexeme}`;
      const writtenBack = BigInt(JSON.stringify(JSON.parse(lexeme)));
      assert.equal(isInexact(lexeme), writtenBack !== BigInt(lexeme), lexeme);
      if (writtenBack !== BigInt(lexeme)) inexact++;
    }
    assert.ok(inexact > 500, `only ${inexact} generated integers were inexact`);
  });
});

/** Lexeme and path only: the segments are checked where they matter (ExactNumbers). */
const named = (found: InexactNumber | undefined): { lexeme: string; path: string } | undefined => (found ? { lexeme: found.lexeme, path: found.path } : undefined);

describe('inexactNumber', () => {
  test('names the first such number by its path', () => {
    const text = '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete","arguments":{"ok":7,"ids":[1,2,12345678901234567890],"a.b":{"x":1e999}}}}';
    assert.deepEqual(named(inexactNumber(text)), { lexeme: '12345678901234567890', path: 'params.arguments.ids[2]' });
    assert.deepEqual(named(inexactNumber('{"params":{"a.b c":[{"x":-1e999}]}}')), { lexeme: '-1e999', path: 'params["a.b c"][0].x' });
    assert.deepEqual(named(inexactNumber('{"id":12345678901234567890,"method":"ping"}')), { lexeme: '12345678901234567890', path: 'id' });
    assert.deepEqual(named(inexactNumber('12345678901234567890')), { lexeme: '12345678901234567890', path: '(the whole message)' });
  });

  test('digits inside strings, escaped quotes included, are not numbers', () => {
    assert.equal(inexactNumber('{"phone":"12345678901234567890","note":"say \\"1e400\\" \\\\","n":1}'), undefined);
    assert.equal(inexactNumber('{"12345678901234567890":1,"k":"\\\\"}'), undefined);
    assert.deepEqual(named(inexactNumber('{"s":"\\"","n":12345678901234567890}')), { lexeme: '12345678901234567890', path: 'n' });
  });

  test('a message with no such number is not scanned past the quick test, and nothing is found in it', () => {
    assert.equal(inexactNumber('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"n":9007199254740991,"f":0.1}}}'), undefined);
  });
});

describe('inexactNumbers', () => {
  test('finds every such number, with its segments', () => {
    const found = inexactNumbers('{"result":{"ids":[12345678901234567890,2,-1e400],"x":{"big":18446744073709551615}}}');
    assert.deepEqual(
      found.map((number) => [number.lexeme, number.segments]),
      [
        ['12345678901234567890', ['result', 'ids', 0]],
        ['-1e400', ['result', 'ids', 2]],
        ['18446744073709551615', ['result', 'x', 'big']],
      ],
    );
  });

  test('of members with the same key only the last is kept, as JSON.parse keeps it', () => {
    const text = '{"a":12345678901234567890,"b":{"c":1e400},"a":1,"b":{"c":2,"d":[18446744073709551615]},"e":{"a":9007199254740993}}';
    assert.deepEqual(
      inexactNumbers(text).map((number) => number.path),
      ['b.d[0]', 'e.a'],
    );
    // The client side refuses any of them: a server might keep the first copy.
    assert.equal(inexactNumber(text)?.path, 'a');
  });

  test('a batch notes each message its own numbers, from inside the message', () => {
    const text = '[{"jsonrpc":"2.0","id":1,"result":{"n":12345678901234567890}},{"jsonrpc":"2.0","id":2,"result":{}},{"jsonrpc":"2.0","id":3,"result":{"m":[1e400]}}]';
    const batch = JSON.parse(text) as object[];
    noteInexact(batch, text);
    assert.deepEqual(inexactIn(batch[0])?.map((number) => number.path), ['result.n']);
    assert.equal(inexactIn(batch[1]), undefined);
    assert.deepEqual(inexactIn(batch[2])?.map((number) => number.segments), [['result', 'm', 0]]);
  });
});

describe('ExactNumbers', () => {
  const parsed = (text: string): { message: Record<string, unknown>; numbers: InexactNumber[] } => ({ message: JSON.parse(text) as Record<string, unknown>, numbers: inexactNumbers(text) });

  test('the text written from the message holds the numbers as the server wrote them', () => {
    const exact = new ExactNumbers();
    const text = '{"jsonrpc":"2.0","id":4,"result":{"structuredContent":{"ids":[12345678901234567890,7],"huge":1e400,"neg":-9007199254740993}}}';
    const { message, numbers } = parsed(text);
    assert.equal(exact.substitute(message, numbers), true);
    const written = exact.restore(JSON.stringify({ ...message, id: 'client-9' }));
    assert.equal(written, text.replace('"id":4', '"id":"client-9"'));
    assert.equal(Buffer.from(exact.restoreBytes(Buffer.from(`data: ${JSON.stringify(message)}\n\n`))).toString(), `data: ${text}\n\n`);
    const ids = (message.result as { structuredContent: { ids: string[] } }).structuredContent.ids;
    assert.equal(exact.original(ids[0]!), '12345678901234567890');
    assert.equal(exact.original('plain text'), 'plain text');
  });

  test('a text that only looks like a placeholder is left alone: the nonce is the session\'s', () => {
    const mine = new ExactNumbers();
    const other = new ExactNumbers();
    const { message, numbers } = parsed('{"n":12345678901234567890}');
    assert.equal(other.substitute(message, numbers), true);
    mine.substitute(parsed('{"m":12345678901234567891}').message, inexactNumbers('{"m":12345678901234567891}'));
    const forged = JSON.stringify({ n: (message as { n: string }).n, guess: 'mcp-policy-exact-number:00000000000000000000000000000000:0' });
    assert.equal(mine.restore(forged), forged);
    const chunk = Buffer.from('{"plain":1}');
    assert.equal(mine.restoreBytes(chunk), chunk);
  });

  test('a place that does not hold the number leaves the message unchanged, and so does a full session', () => {
    const exact = new ExactNumbers(30);
    const { message, numbers } = parsed('{"a":{"n":12345678901234567890}}');
    assert.equal(exact.substitute({ a: { n: 'other' } }, numbers), false);
    assert.equal(exact.substitute({ a: [] }, numbers), false);
    assert.equal(exact.substitute(message, numbers), true);
    const second = parsed('{"m":18446744073709551615}');
    assert.equal(exact.substitute(second.message, second.numbers), false, 'over the bytes a session keeps');
    assert.equal(second.message.m, 18446744073709552000);
  });

  test('a "__proto__" member holding such a number stays data', () => {
    const exact = new ExactNumbers();
    const text = '{"result":{"__proto__":12345678901234567890}}';
    const { message, numbers } = parsed(text);
    assert.equal(exact.substitute(message, numbers), true);
    const result = message.result as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(exact.restore(JSON.stringify(message)), text);
  });
});
