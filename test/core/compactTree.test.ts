import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseTree, type ParseError } from 'jsonc-parser';
import { parseCompactTree } from '../../core/compactTree';
import { JsonDocument } from '../../core/document';
import { mulberry32 as random } from './helpers';
import { assertSameTree, generate, jsonFilesUnder, largePolicy, mutate, ROOT, TRIVIA } from './jsonTexts';

const OPTIONS = { allowTrailingComma: true, disallowComments: false };

/** The compact tree and its errors are jsonc-parser's, for any text; whether jsonc-parser reported errors. */
function assertAgrees(text: string, label: string): 'clean' | 'errors' {
  const expectedErrors: ParseError[] = [];
  const expected = parseTree(text, expectedErrors, OPTIONS);
  const errors: ParseError[] = [];
  const actual = parseCompactTree(text, errors, OPTIONS);
  assert.deepEqual(errors, expectedErrors, `${label}: errors`);
  if (!expected) assert.equal(actual, undefined, `${label}: no tree`);
  else {
    assert.ok(actual, `${label}: a tree`);
    assertSameTree(actual, expected, label);
  }
  return expectedErrors.length === 0 ? 'clean' : 'errors';
}

/**
 * Heap bytes the tree of a text keeps alive, counted in a fresh process (full collections
 * before and after): counted here, one parse's leftovers were still found by the next count.
 */
function retainedBytes(parser: 'jsonc' | 'compact' | 'wellFormed', text: string): number {
  const folder = mkdtempSync(join(tmpdir(), 'mcp-policy-tree-'));
  try {
    const file = join(folder, 'policy.json');
    writeFileSync(file, text);
    const parse =
      parser === 'jsonc'
        ? `require(${JSON.stringify(require.resolve('jsonc-parser'))}).parseTree`
        : parser === 'compact'
          ? `require(${JSON.stringify(require.resolve('../../core/compactTree'))}).parseCompactTree`
          : `(text) => require(${JSON.stringify(require.resolve('../../core/wellFormedTree'))}).parseWellFormedTree(text)`;
    const script = `const text = require('node:fs').readFileSync(${JSON.stringify(file)}, 'utf8'); const parse = ${parse};
      gc(); gc(); const before = process.memoryUsage().heapUsed; const tree = parse(text, [], { allowTrailingComma: true });
      gc(); gc(); process.stdout.write(String(process.memoryUsage().heapUsed - before + (tree ? 0 : NaN)));`;
    return Number(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' }));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

describe('the compact parse tree (core/compactTree.ts) is jsonc-parser’s tree', () => {
  it('agrees on every JSON and JSONC file of the project and a 5,000-rule policy', () => {
    const files = jsonFilesUnder(ROOT);
    assert.ok(files.length > 20, `found ${files.length} files`);
    for (const file of files) assertAgrees(readFileSync(file, 'utf8'), file);
    assert.equal(assertAgrees(largePolicy(), 'large policy'), 'clean');
  });

  it('agrees on 3,000 generated texts with comments, trailing commas, escapes and every number form', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const next = random(seed);
      assert.equal(assertAgrees(`${TRIVIA[seed % TRIVIA.length]}${generate(next, 0)}${TRIVIA[(seed * 7) % TRIVIA.length]}`, `seed ${seed}`), 'clean');
    }
  });

  it('agrees on 6,000 broken texts: the trees jsonc-parser recovers, and its errors', () => {
    const counts = { clean: 0, errors: 0 };
    for (let seed = 1; seed <= 6000; seed++) {
      const next = random(seed * 31);
      let text = generate(next, 0);
      const changes = 1 + Math.floor(next() * 4);
      for (let change = 0; change < changes; change++) text = mutate(text, next);
      counts[assertAgrees(text, `mutated seed ${seed}`)]++;
    }
    assert.ok(counts.errors > 3000, JSON.stringify(counts));
  });

  it('agrees on texts as they are while someone types: keys and values left open, missing colons, commas and values', () => {
    const cases = [
      '', '   ', '// only a comment', '{', '{"a": 1', '{"a" 1}', '{"a": }', '{"a"}', '{"a":', '{"a', '{"a": "b', '{"a": {"b": }', '{"a": [1, }', '{a: 1}',
      '{"a": 1,,}', '{,}', '[,]', '[1,,2]', '[1 2]', '{"a": 1 "b": 2}', '{"a": "x" "y"}', '{"tools": {\n    "svc3_get_con\n    "b": {}\n  }\n}',
      '{"a": {"b": {"c": [}', '{} x', '{}{}', '{"a": 1} //', '\ufeff{}', '{"a": "\\x"}', '[[[[', ']]]', '{"a": [{"b": 1}, {"c": }]}',
    ];
    for (const text of cases) assertAgrees(text, JSON.stringify(text));
  });

  it('holds a large policy in about two thirds of the memory jsonc-parser’s tree takes', () => {
    const text = largePolicy();
    const jsonc = retainedBytes('jsonc', text);
    const compact = retainedBytes('compact', text);
    assert.ok(compact < 0.8 * jsonc, `compact tree ${(compact / 1e6).toFixed(2)} MB, jsonc-parser's ${(jsonc / 1e6).toFixed(2)} MB`);
    // The one-pass tree of a well-formed text (wellFormedTree.ts) is as compact.
    const wellFormed = retainedBytes('wellFormed', text);
    assert.ok(wellFormed < 0.8 * jsonc, `one-pass tree ${(wellFormed / 1e6).toFixed(2)} MB, jsonc-parser's ${(jsonc / 1e6).toFixed(2)} MB`);
  });

  it('is what JsonDocument parses with: the same value, ranges and syntax errors as before', () => {
    const text = '{\n  // why\n  "version": "1",\n  "tools": { "a_*": { "action": "deny", }, "a_*": { "limits": [{ "max": 1e1, "window": 60 }], }, "open },\n}\n';
    const document = new JsonDocument(text);
    const expected: ParseError[] = [];
    assertSameTree(document.root!, parseTree(text, expected, OPTIONS)!, 'document');
    assert.equal(document.syntaxDiagnostics.filter((diagnostic) => diagnostic.code !== 'duplicate-key').length, expected.length);
  });
});
