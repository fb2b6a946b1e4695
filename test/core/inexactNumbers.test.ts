/** A number a policy cannot hold exactly is a warning on it, at its place (core/inexactNumbers.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzePolicy } from '../../core';

const inexact = (text: string) => analyzePolicy(text).diagnostics.filter((diagnostic) => diagnostic.code === 'inexact-number');

test('an integer past 2^53 in an argument schema is a warning on the number, saying what it is read as', () => {
  const text = '{\n  "version": "1",\n  "tools": { "delete_contact": { "arguments": { "properties": { "contactId": { "enum": [12345678901234567890, 7] } } } } }\n}\n';
  const found = inexact(text);
  assert.equal(found.length, 1);
  const [warning] = found;
  assert.equal(warning!.severity, 'warning');
  assert.equal(text.slice(warning!.range.offset, warning!.range.offset + warning!.range.length), '12345678901234567890');
  assert.deepEqual(warning!.path, ['tools', 'delete_contact', 'arguments', 'properties', 'contactId', 'enum', 0]);
  assert.match(warning!.message, /reads it as 12345678901234567000/);
});

test('a number past the range is a warning; decimals, safe integers and digits in strings or comments are not', () => {
  assert.equal(inexact('{"version": "1", "tools": {"pay": {"arguments": {"properties": {"amount": {"maximum": 1e400}}}}}}').length, 1);
  const quiet = '{\n  // call 12345678901234567890 for help\n  "version": "1",\n  "tools": { "pay": { "reason": "ticket 12345678901234567890", "arguments": { "properties": { "amount": { "maximum": 9007199254740991, "minimum": 0.1, "multipleOf": 1e-400 } } } } }\n}\n';
  assert.deepEqual(inexact(quiet), []);
});
