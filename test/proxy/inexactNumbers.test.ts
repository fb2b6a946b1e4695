/**
 * Which numbers the relay refuses to carry (proxy/inexactNumbers.ts): those a double cannot hold,
 * and only those, found outside strings, with the path that names them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isInexact } from '../../core/inexactNumbers';
import { inexactNumber } from '../../proxy/inexactNumbers';
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

describe('inexactNumber', () => {
  test('names the first such number by its path', () => {
    const text = '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete","arguments":{"ok":7,"ids":[1,2,12345678901234567890],"a.b":{"x":1e999}}}}';
    assert.deepEqual(inexactNumber(text), { lexeme: '12345678901234567890', path: 'params.arguments.ids[2]' });
    assert.deepEqual(inexactNumber('{"params":{"a.b c":[{"x":-1e999}]}}'), { lexeme: '-1e999', path: 'params["a.b c"][0].x' });
    assert.deepEqual(inexactNumber('{"id":12345678901234567890,"method":"ping"}'), { lexeme: '12345678901234567890', path: 'id' });
    assert.deepEqual(inexactNumber('12345678901234567890'), { lexeme: '12345678901234567890', path: '(the whole message)' });
  });

  test('digits inside strings, escaped quotes included, are not numbers', () => {
    assert.equal(inexactNumber('{"phone":"12345678901234567890","note":"say \\"1e400\\" \\\\","n":1}'), undefined);
    assert.equal(inexactNumber('{"12345678901234567890":1,"k":"\\\\"}'), undefined);
    assert.deepEqual(inexactNumber('{"s":"\\"","n":12345678901234567890}'), { lexeme: '12345678901234567890', path: 'n' });
  });

  test('a message with no such number is not scanned past the quick test, and nothing is found in it', () => {
    assert.equal(inexactNumber('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"n":9007199254740991,"f":0.1}}}'), undefined);
  });
});
