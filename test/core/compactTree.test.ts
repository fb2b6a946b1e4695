import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseTree, type Node, type ParseError } from 'jsonc-parser';
import { parseCompactTree } from '../../core/compactTree';
import { JsonDocument } from '../../core/document';
import { mulberry32 as random } from './helpers';

const ROOT = resolve(__dirname, '..', '..', '..');
const OPTIONS = { allowTrailingComma: true, disallowComments: false };

/** Field by field, in field order (the same V8 shapes), parents by identity. */
function assertSameTree(actual: Node, expected: Node, where: string): void {
  assert.deepEqual(Object.keys(actual), Object.keys(expected), `fields of the node at ${where}`);
  for (const key of Object.keys(expected) as Array<keyof Node>) {
    if (key === 'children' || key === 'parent') continue;
    assert.ok(Object.is(actual[key], expected[key]), `${String(key)} at ${where}: ${String(actual[key])} vs ${String(expected[key])}`);
  }
  assert.equal(actual.children?.length, expected.children?.length, `children at ${where}`);
  (expected.children ?? []).forEach((child, index) => {
    const mine = actual.children![index]!;
    assert.equal(mine.parent, actual, `parent of child ${index} at ${where}`);
    assertSameTree(mine, child, `${where}/${index}`);
  });
}

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

const TRIVIA = [' ', '\t', '\n', '\r\n', '\r', '', '', '', '// note\n', '/* block */', '/**/', '/* multi\nline */', '// \r'];
const STRINGS = ['', 'a', 'svc0_get_contact', 'quote \\" inside', 'back\\\\slash', 'tab\\t', 'unicode \\u00e9 \\uD83D\\uDE00', 'slash \\/', 'é ✓ 😀', '\\b\\f\\n\\r', '*_purge_*', '__proto__'];
const NUMBERS = ['0', '-0', '1', '-1', '12', '3.25', '-0.5', '1e3', '1E+3', '2e-2', '-12.5E10', '1e400', '123456789012345678901234567890'];

function generate(next: () => number, depth: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const trivia = (): string => pick(TRIVIA);
  const roll = next();
  if (depth > 4 || roll < 0.45) {
    const kind = next();
    if (kind < 0.4) return `"${pick(STRINGS)}"`;
    if (kind < 0.75) return pick(NUMBERS);
    return pick(['true', 'false', 'null']);
  }
  const count = Math.floor(next() * 4);
  const trailing = count > 0 && next() < 0.3 ? `,${trivia()}` : '';
  if (roll < 0.75) {
    const properties = Array.from({ length: count }, () => `${trivia()}"${pick(STRINGS)}"${trivia()}:${trivia()}${generate(next, depth + 1)}${trivia()}`);
    return `{${properties.join(',')}${trailing}${trivia()}}`;
  }
  const items = Array.from({ length: count }, () => `${trivia()}${generate(next, depth + 1)}${trivia()}`);
  return `[${items.join(',')}${trailing}${trivia()}]`;
}

/** One random change: a character removed, doubled or replaced by one that matters to JSON. */
function mutate(text: string, next: () => number): string {
  const at = Math.floor(next() * (text.length + 1));
  const kind = next();
  if (kind < 0.3) return text.slice(0, at) + text.slice(at + 1);
  const inserted = ['"', ',', ':', '{', '}', '[', ']', '/', '*', '\\', '\n', '-', '.', 'e', '0', 'x', ' ', '\u00a0', '\ufeff', '\u2028', '\u0001', 't'][Math.floor(next() * 22)]!;
  if (kind < 0.7) return text.slice(0, at) + inserted + text.slice(at);
  return text.slice(0, at) + inserted + text.slice(at + 1);
}

/** A large policy as people write them: 5,000 rules, globs, limits, argument checks, comments. */
function largePolicy(): string {
  const rules: string[] = [];
  for (let rule = 0; rule < 5000; rule++) {
    const name = `svc${rule % 10}_${['get', 'send', 'delete'][rule % 3]}_thing_${rule}`;
    if (rule % 50 === 0) rules.push(`    // group ${rule}\n    "${name.slice(0, 8)}_*": { "action": "deny" }`);
    else if (rule % 4 === 1) rules.push(`    "${name}": { "action": "approve", "reason": "rule \\u00e9 ${rule}" }`);
    else if (rule % 4 === 2) rules.push(`    "${name}": { "limits": [{ "counter": "c${rule % 40}", "window": "minute", "max": ${rule % 90}, "scope": "grant" }] }`);
    else if (rule % 4 === 3) rules.push(`    "${name}": { "arguments": { "properties": { "id": { "type": "integer", "minimum": -${rule % 7}.5e1 } }, "required": ["id"] } }`);
    else rules.push(`    "${name}": {}`);
  }
  return `{\n  "version": "1",\n  "default": "deny",\n  "tools": {\n${rules.join(',\n')},\n  },\n}\n`;
}

function jsonFilesUnder(folder: string, found: string[] = []): string[] {
  for (const entry of readdirSync(folder)) {
    if (entry === 'node_modules' || entry.startsWith('.') || entry === 'out' || entry === 'dist') continue;
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) jsonFilesUnder(path, found);
    else if (/\.jsonc?$/.test(entry) && statSync(path).size < 2_000_000) found.push(path);
  }
  return found;
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
