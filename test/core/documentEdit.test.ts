import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from 'jsonc-parser';
import { JsonDocument } from '../../core';
import { mulberry32 } from './helpers';

/** Everything a consumer reads from a tree: types, ranges, colon offsets and values. */
function shape(node: Node | undefined): unknown {
  if (!node) return undefined;
  return [node.type, node.offset, node.length, node.colonOffset, node.children ? node.children.map(shape) : node.value];
}

/** String values (not keys): where typing takes the incremental path. */
function stringNodes(node: Node | undefined): Node[] {
  if (!node) return [];
  if (node.type === 'string') return node.parent?.type === 'property' && node.parent.children?.[0] === node ? [] : [node];
  return (node.children ?? []).flatMap(stringNodes);
}

const POLICY = `{
  // comments are fine
  "version": "1",
  "tools": {
    "a_*": { "reason": "first reason", "limits": [{ "window": "minute", "max": 3 }] },
    "b": { "action": "deny", "reason": "" },
    "esc": { "reason": "has \\"quotes\\" inside" }
  },
  "hide": ["x_delete", "y"],
}
`;

test('an edit inside a string value updates the tree and value exactly as a fresh parse would', () => {
  const random = mulberry32(7);
  let current = new JsonDocument(POLICY);
  let incremental = 0;
  for (let trial = 0; trial < 3000; trial++) {
    // Edits accumulate escapes and broken strings; start over now and then.
    if (trial % 100 === 0) current = new JsonDocument(POLICY);
    const text = current.text;
    // Half the edits land inside a string, where the incremental path applies.
    const strings = stringNodes(current.root);
    const target = random() < 0.5 ? strings[Math.floor(random() * strings.length)] : undefined;
    const offset = target ? target.offset + 1 + Math.floor(random() * (target.length - 1)) : Math.floor(random() * (text.length + 1));
    const removed = Math.floor(random() * 3);
    const inserted = ['', 'x', 'yz', 'é', ' ', '}', 'ab', '', '"', '\\\\', '\\n'][Math.floor(random() * 11)] as string;
    const nextText = text.slice(0, offset) + inserted + text.slice(offset + removed);
    const expected = new JsonDocument(nextText);
    const edited = JsonDocument.afterEdit(current, offset, removed, inserted);
    if (edited) {
      incremental++;
      assert.equal(edited.text, nextText);
      assert.deepEqual(shape(edited.root), shape(expected.root), `edit ${trial} at ${offset}`);
      assert.deepEqual(edited.value, expected.value);
      assert.deepEqual(edited.syntaxDiagnostics, []);
      current = edited;
    } else {
      // Keep the document well formed, so later edits can take the incremental path again.
      current = expected.syntaxDiagnostics.length === 0 ? expected : new JsonDocument(text);
    }
  }
  assert.ok(incremental > 500, `only ${incremental} edits took the incremental path`);
});

test('which edits reuse the previous parse, and which are parsed again', () => {
  const at = (needle: string) => POLICY.indexOf(needle);
  const broken = '{"a": "b" "c": 1}';
  const cases: Array<[string, string, number, number, string, 'reused' | 'parsed']> = [
    ['typing in a reason', POLICY, at('first reason') + 5, 0, 'X', 'reused'],
    ['a quote ends the string (and breaks the rule)', POLICY, at('first reason') + 5, 0, '"', 'parsed'],
    ['a backslash starts an escape (and breaks the rule)', POLICY, at('first reason') + 5, 0, '\\', 'parsed'],
    ['typing in a rule name (a key)', POLICY, at('a_*') + 1, 0, 'x', 'reused'],
    ['a string with escapes: its rule is parsed alone', POLICY, at('quotes') + 1, 0, 'x', 'reused'],
    ['before the opening quote (and breaks the rule)', POLICY, at('"first reason"'), 0, 'x', 'parsed'],
    ['outside any string, in the top-level object', POLICY, at('"version"') - 3, 0, 'x', 'parsed'],
    ['an array element is a value too', POLICY, at('x_delete') + 1, 1, '', 'reused'],
    ['a finished edit to one rule', POLICY, at('{ "action": "deny", "reason": "" }'), '{ "action": "deny", "reason": "" }'.length, '{ "action": "approve" }', 'reused'],
    ['a rule emptied', POLICY, at('{ "action": "deny", "reason": "" }'), '{ "action": "deny", "reason": "" }'.length, '{}', 'reused'],
    ['a rule left without its closing brace', POLICY, at('{ "action": "deny", "reason": "" }'), '{ "action": "deny", "reason": "" }'.length, '{ "action": "deny"', 'parsed'],
    ['a line comment at the end of a rule would swallow what follows', POLICY, at('{ "action": "deny", "reason": "" }') + 33, 0, ' // c', 'parsed'],
    ['a rule nested deeper than a policy may be', POLICY, at('{ "action": "deny", "reason": "" }'), 2, `{"a": ${'['.repeat(126)}${']'.repeat(126)},`, 'parsed'],
    ['a rule nested as deep as a policy may be', POLICY, at('{ "action": "deny", "reason": "" }'), 2, `{"a": ${'['.repeat(124)}${']'.repeat(124)},`, 'reused'],
    ['a text with syntax errors keeps them', broken, 7, 0, 'x', 'reused'],
    ['outside a string in a text with errors', broken, 5, 0, 'x', 'parsed'],
    ['a string left open at the end of the text', '{"a": "b', 8, 0, 'x', 'parsed'],
    ['a string left open at the end of its line grows there', '{"a": "b\n}', 8, 0, 'x', 'reused'],
    ['a string holding a control character', '{"a": "b\u0001c"}', 8, 0, 'x', 'parsed'],
  ];
  for (const [what, text, offset, removed, inserted, expected] of cases) {
    const edited = JsonDocument.afterEdit(new JsonDocument(text), offset, removed, inserted);
    assert.equal(edited ? 'reused' : 'parsed', expected, what);
    if (edited) assert.deepEqual(observed(edited), observed(new JsonDocument(text.slice(0, offset) + inserted + text.slice(offset + removed))), what);
  }
});

test('a text with duplicate keys takes the incremental path too, the copies JSON.parse ignores included', () => {
  const text = `{
  "version": "1",
  "tools": {
    "b": { "action": "deny", "reason": "first copy" },
    "c": { "reason": "typed here" },
    "b": { "action": "approve", "reason": "last copy" }
  }
}
`;
  const random = mulberry32(11);
  let current = new JsonDocument(text);
  let incremental = 0;
  for (let trial = 0; trial < 300; trial++) {
    const strings = stringNodes(current.root);
    const target = strings[Math.floor(random() * strings.length)]!;
    const offset = target.offset + 1 + Math.floor(random() * (target.length - 1));
    const inserted = ['x', 'yz', ''][Math.floor(random() * 3)] as string;
    const removed = inserted === '' && target.length > 2 ? 1 : 0;
    const nextText = current.text.slice(0, offset) + inserted + current.text.slice(offset + removed);
    const expected = new JsonDocument(nextText);
    current.syntaxDiagnostics; // known before the edit, as after an analysis
    const edited = JsonDocument.afterEdit(current, offset, removed, inserted);
    if (edited) {
      incremental++;
      assert.deepEqual(shape(edited.root), shape(expected.root));
      assert.deepEqual(edited.value, expected.value);
      assert.deepEqual(edited.syntaxDiagnostics, expected.syntaxDiagnostics);
    }
    current = edited ?? expected;
  }
  assert.ok(incremental > 100, `only ${incremental} edits took the incremental path`);
});

test('typing a key where keys are duplicated, here and elsewhere, gives the duplicate-key errors a fresh parse gives', () => {
  // The key typed is in "tools", which has a duplicate of its own; "servers.s.tools" has another,
  // and the renamed rule holds one whose path goes through the key being typed.
  const base = `{
  "tools": {
    "r": { "action": "deny", "action": "allow" },
    "d": {},
    "d": { "reason": "kept" }
  },
  "servers": { "s": { "tools": { "x": {}, "x": {} } } }
}
`;
  const keyAt = base.indexOf('"r"') + 1;
  for (const typed of ['d', 'rr', 'x', 'dd']) {
    let current = new JsonDocument(base);
    current.syntaxDiagnostics; // known before the edit, as after an analysis
    // Remove the "r", then type the new name one character at a time.
    const steps: Array<[number, number, string]> = [[keyAt, 1, ''], ...[...typed].map((character, index): [number, number, string] => [keyAt + index, 0, character])];
    for (const [at, removed, inserted] of steps) {
      const nextText = current.text.slice(0, at) + inserted + current.text.slice(at + removed);
      const edited = JsonDocument.afterEdit(current, at, removed, inserted);
      assert.ok(edited, `typing ${JSON.stringify(typed)} left the incremental path at ${at}`);
      assert.deepEqual(edited.syntaxDiagnostics, new JsonDocument(nextText).syntaxDiagnostics, `after typing towards ${JSON.stringify(typed)}: ${nextText}`);
      current = edited;
    }
  }
  // "d" typed: the rule becomes a third copy of "d", and the nested duplicate's path follows it.
  const renamed = JsonDocument.afterEdit(JsonDocument.afterEdit(withKnownSyntax(new JsonDocument(base)), keyAt, 1, '')!, keyAt, 0, 'd')!;
  const paths = renamed.syntaxDiagnostics.map((diagnostic) => diagnostic.path.join('.'));
  assert.deepEqual(paths, ['tools.d', 'tools.d.action', 'tools.d', 'servers.s.tools.x']);
});

test('typing a key gives the value a fresh parse gives, made from the value before (JSON, JSONC, duplicates, "__proto__", index-like keys)', () => {
  const texts = [
    '{ "version": "1", "tools": { "a": {}, "b": { "action": "deny" }, "c_*": { "limits": [{ "max": 1, "window": 60 }] } }, "servers": { "s": { "tools": { "k": {} } } } }',
    '{ // a comment: the value is jsonc-parser\'s\n "tools": { "a": {}, "b": 1, }, }',
    '{"tools": {"a": {}, "a": {"reason": "kept"}, "c": 2}}',
    '{"__proto__": {"a": 1}, "tools": {"__proto__": {}, "x": {}}}',
    '{"tools": {"1": {}, "b": {}, "2": {}}}',
    '{"tools": {\n  "open\n  "b": {}\n}}',
  ];
  let incremental = 0;
  for (const base of texts) {
    let current = new JsonDocument(base);
    for (let step = 0; step < 60; step++) {
      const keys = allStringNodes(current.root).filter((node) => node.parent?.type === 'property' && node.parent.children?.[0] === node);
      const key = keys[step % keys.length]!;
      const at = key.offset + 1 + (step % 2);
      const inserted = ['x', '1', '_', 'proto__'][step % 4]!;
      if (at > key.offset + key.length - 1) continue;
      const nextText = current.text.slice(0, at) + inserted + current.text.slice(at);
      current.value; // known before the edit, as after an analysis
      const edited = JsonDocument.afterEdit(current, at, 0, inserted);
      const expected = new JsonDocument(nextText);
      if (!edited) {
        current = expected;
        continue;
      }
      incremental++;
      assert.deepEqual(edited.value, expected.value, `typing ${JSON.stringify(inserted)} at ${at} in ${JSON.stringify(current.text)}`);
      current = edited;
    }
  }
  assert.ok(incremental > 200, `only ${incremental} edits took the incremental path`);
  // The rules not renamed are the very objects of the value before: nothing else was rebuilt.
  const text = '{ "tools": { "a": { "action": "deny" }, "b": { "action": "allow" } } }';
  const document = new JsonDocument(text);
  const value = document.value as { tools: Record<string, unknown> };
  const renamed = JsonDocument.afterEdit(document, text.indexOf('"a"') + 2, 0, 'x')!;
  const after = renamed.value as { tools: Record<string, unknown> };
  assert.deepEqual(Object.keys(after.tools), ['ax', 'b']);
  assert.equal(after.tools['b'], value.tools['b']);
  assert.equal(after.tools['ax'], value.tools['a']);
  assert.notEqual(after.tools, value.tools, 'the value before is left as it was');
  assert.deepEqual(Object.keys(value.tools), ['a', 'b']);
});

function withKnownSyntax(document: JsonDocument): JsonDocument {
  document.syntaxDiagnostics;
  return document;
}

/** Every string token of a text as the parser's tree has it: keys and values, closed or left open. */
function allStringNodes(node: Node | undefined): Node[] {
  if (!node) return [];
  return node.type === 'string' ? [node] : (node.children ?? []).flatMap(allStringNodes);
}

/** What a reader sees of a document: tree, value, errors and where the first one is. */
function observed(document: JsonDocument): unknown {
  return {
    tree: shape(document.root),
    value: document.value,
    errors: document.hasParseErrors,
    first: document.firstParseErrorOffset,
    syntax: document.syntaxDiagnostics,
  };
}

test('an edit inside any string token, in a text with or without errors, gives what a fresh parse gives', () => {
  // Broken as texts are while someone types: keys left open, missing colons and commas, duplicates.
  const texts = [
    POLICY,
    `{\n  "tools": {\n    "svc_get    "svc_list": { "action": "deny" },\n    "b": {}\n  }\n}\n`,
    `{\n  "version": "1",\n  "tools": {\n    "open key\n    "next": { "reason": "left open\n  },\n  "hide": ["a", "b" "c"]\n}\n`,
    `{ "a": 1, "a": 2, "tools": { "x": { "action" "deny" }, "x": {} } }\n`,
    `{\n  // a comment with "quotes"\n  "tools": { "k": "v", /* "not a string" */ "k2": "v2" },\n  "default": "allow" "oops"\n}\n`,
  ];
  const random = mulberry32(23);
  let incremental = 0;
  for (let trial = 0; trial < 4000; trial++) {
    const base = texts[trial % texts.length]!;
    let current = new JsonDocument(base);
    // A few edits in a row, as typing makes them, each checked against a fresh parse.
    for (let step = 0; step < 5; step++) {
      const text = current.text;
      const strings = allStringNodes(current.root);
      const target = strings.length > 0 && random() < 0.8 ? strings[Math.floor(random() * strings.length)] : undefined;
      const offset = target ? target.offset + Math.floor(random() * (target.length + 2)) : Math.floor(random() * (text.length + 1));
      const removed = random() < 0.7 ? 0 : Math.floor(random() * 3);
      const inserted = ['x', 'yz', '', '_', 'é', '"', '\\', '\n', ':', ' '][Math.floor(random() * 10)] as string;
      const nextText = text.slice(0, offset) + inserted + text.slice(Math.min(text.length, offset + removed));
      const expected = new JsonDocument(nextText);
      if (random() < 0.5) current.syntaxDiagnostics; // known before the edit, as after an analysis
      const edited = JsonDocument.afterEdit(current, offset, Math.min(removed, text.length - offset), inserted);
      if (!edited) {
        current = expected;
        continue;
      }
      incremental++;
      assert.equal(edited.text, nextText);
      assert.deepEqual(observed(edited), observed(expected), `trial ${trial}, step ${step}: ${JSON.stringify(inserted)} at ${offset} (-${removed}) in ${JSON.stringify(text)}`);
      current = edited;
    }
  }
  assert.ok(incremental > 3000, `only ${incremental} edits took the incremental path`);
});

/** Objects and arrays below the top level: where a finished edit is parsed on its own. */
function containers(node: Node | undefined, depth = 0): Node[] {
  if (!node) return [];
  const own = (node.type === 'object' || node.type === 'array') && depth > 0 ? [node] : [];
  return [...own, ...(node.children ?? []).flatMap((child) => containers(child, depth + 1))];
}

test('a finished edit inside one rule, object or array gives what a fresh parse gives', () => {
  const random = mulberry32(31);
  const pieces = ['{}', '[]', '{ "action": "deny" }', '"a": 1,', ', "b": [1, 2]', '}', '{', ']', ',', ' ', '\n', '\r\n', '// note\n', '/* c */', '"x"', '1', 'true', '"k": {"j": null}', '"action": "allow",', '{ "a": 1, "a": {\n"b": 2, "b": 3 } }', ''];
  let current = new JsonDocument(POLICY);
  let reused = 0;
  let withDuplicates = 0;
  // Keys written twice at several levels, before, inside and after the values that get edited.
  const duplicated = `{
  "version": "1",
  "tools": {
    "b": { "action": "deny", "reason": "first copy", "action": "allow" },
    "c": { "limits": [{ "window": "minute", "max": 3, "max": 4 }] },
    "b": { "action": "approve" }
  },
  "version": "1",
  "hide": ["x"]
}
`;
  for (let trial = 0; trial < 3000; trial++) {
    if (trial % 40 === 0 || current.hasParseErrors) current = new JsonDocument(trial % 80 < 40 ? POLICY : duplicated);
    const text = current.text;
    const inside = containers(current.root);
    const target = inside[Math.floor(random() * inside.length)]!;
    // Anywhere from the container's first character to its last, replacing a little or a whole value.
    const offset = target.offset + Math.floor(random() * (target.length + 1));
    const removed = random() < 0.3 ? target.offset + target.length - offset : Math.min(Math.floor(random() * 4), text.length - offset);
    const inserted = pieces[Math.floor(random() * pieces.length)]!;
    const nextText = text.slice(0, offset) + inserted + text.slice(offset + removed);
    const expected = new JsonDocument(nextText);
    if (random() < 0.5) current.syntaxDiagnostics; // known before the edit
    const edited = JsonDocument.afterEdit(current, offset, removed, inserted);
    if (edited) {
      reused++;
      assert.deepEqual(observed(edited), observed(expected), `trial ${trial}: ${JSON.stringify(inserted)} at ${offset} (-${removed}) in ${JSON.stringify(text)}`);
      if (edited.syntaxDiagnostics.length > 0) withDuplicates++;
      current = edited;
    } else {
      current = expected;
    }
  }
  assert.ok(reused > 400, `only ${reused} edits reused the parse`);
  assert.ok(withDuplicates > 100, `only ${withDuplicates} reused parses had duplicate keys to carry`);
});
