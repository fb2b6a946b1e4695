import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzePolicy } from '../../core';

test('an unclosed quote in a rule key is one syntax error, not an unknown top-level property per rule after it', () => {
  const rules = Array.from({ length: 50 }, (_, index) => `    "crm_tool_${index}": { "action": "deny" }`).join(',\n');
  const text = `{\n  "version": "1",\n  "colour": "red",\n  "tools": {\n    "crm_new\n${rules}\n  }\n}\n`;
  const diagnostics = analyzePolicy(text).diagnostics;
  assert.ok(diagnostics.some((diagnostic) => diagnostic.code === 'syntax' && diagnostic.severity === 'error'), JSON.stringify(diagnostics));
  const unknown = diagnostics.filter((diagnostic) => diagnostic.code === 'unknown-property');
  // The real mistake before the break is still reported; the rules the parser moved are not.
  assert.deepEqual(unknown.map((diagnostic) => diagnostic.path), [['colour']]);
  // Once the quote is closed, everything is as before.
  const fixed = analyzePolicy(text.replace('"crm_new\n', '"crm_new": {},\n')).diagnostics;
  assert.deepEqual(fixed.filter((diagnostic) => diagnostic.severity === 'error').map((diagnostic) => diagnostic.code), ['unknown-property']);
});
