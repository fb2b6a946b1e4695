import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseTree, type Node, type ParseError } from 'jsonc-parser';
import { parseWellFormedTree } from '../../core/wellFormedTree';
import { JsonDocument } from '../../core/document';

const ROOT = resolve(__dirname, '..', '..', '..');

function reference(text: string): { root: Node | undefined; errors: ParseError[] } {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  return { root, errors };
}

/** Field by field, in field order (the same V8 shapes), parents included by identity of position. */
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

/** Where the two parsers must agree: the fast one parses exactly the texts jsonc-parser parses without an error. */
function assertAgrees(text: string, label: string): 'parsed' | 'refused' {
  const { root, errors } = reference(text);
  const fast = parseWellFormedTree(text);
  if (errors.length > 0 || !root) {
    assert.equal(fast, undefined, `${label}: jsonc-parser reports ${errors.length} error(s), so the fast parse must give way: ${JSON.stringify(text.slice(0, 200))}`);
    return 'refused';
  }
  assert.ok(fast, `${label}: jsonc-parser parses it cleanly, so must the fast parse: ${JSON.stringify(text.slice(0, 200))}`);
  assertSameTree(fast, root, label);
  return 'parsed';
}

/** A small deterministic generator (mulberry32), so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

describe('the fast parse of a well-formed policy (core/wellFormedTree.ts) is jsonc-parser’s tree', () => {
  it('agrees on every JSON and JSONC file of the project and a 5,000-rule policy', () => {
    const files = jsonFilesUnder(ROOT);
    assert.ok(files.length > 20, `found ${files.length} files`);
    let parsed = 0;
    for (const file of files) if (assertAgrees(readFileSync(file, 'utf8'), file) === 'parsed') parsed++;
    assert.ok(parsed > 20, `${parsed} parsed cleanly`);
    assert.equal(assertAgrees(largePolicy(), 'large policy'), 'parsed');
  });

  it('agrees on 3,000 generated texts with comments, trailing commas, escapes and every number form', () => {
    let parsed = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const next = random(seed);
      if (assertAgrees(`${TRIVIA[seed % TRIVIA.length]}${generate(next, 0)}${TRIVIA[(seed * 7) % TRIVIA.length]}`, `seed ${seed}`) === 'parsed') parsed++;
    }
    assert.equal(parsed, 3000, 'every generated text is well formed');
  });

  it('gives way to jsonc-parser on every text it reports an error in (4,000 mutated texts)', () => {
    const counts = { parsed: 0, refused: 0 };
    for (let seed = 1; seed <= 4000; seed++) {
      const next = random(seed * 31);
      let text = generate(next, 0);
      const changes = 1 + Math.floor(next() * 3);
      for (let change = 0; change < changes; change++) text = mutate(text, next);
      counts[assertAgrees(text, `mutated seed ${seed}`)]++;
    }
    // Both sides are exercised: some changes keep the text valid, most do not.
    assert.ok(counts.parsed > 200 && counts.refused > 2000, JSON.stringify(counts));
  });

  it('refuses what jsonc-parser reports: each case below', () => {
    const cases = [
      '', '   ', '// only a comment', '{', '{"a": 1', '{"a" 1}', '{"a": }', '{a: 1}', "{'a': 1}", '{"a": 1,,}', '{,}', '[,]', '[1,,2]', '[1 2]',
      '{"a": 01}', '{"a": 1.}', '{"a": .5}', '{"a": 1e}', '{"a": -}', '{"a": +1}', '{"a": 0x10}', '{"a": truex}', '{"a": nul}', '{"a": True}',
      '{"a": "line\nbreak"}', '{"a": "tab\there"}', '{"a": "\\x"}', '{"a": "\\u12"}', '{"a": "open}', '{} /* open', '{} x', '{}{}', '/', '{"a": 1} //',
      '\ufeff{}', '{\u00a0}', '{"a":\u20281}', '{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": undefined}',
      '"\u0000"', '"\u001f"', '{"\u001f": 1}', '"\u007f ok"', '{"a": "\\\n"}', '{"a": "\\"}',
    ];
    const outcomes = cases.map((text) => assertAgrees(text, JSON.stringify(text)));
    // A trailing line comment and DEL (not a control character to JSON) are the well-formed texts in the list.
    assert.deepEqual(outcomes.flatMap((outcome, index) => (outcome === 'parsed' ? [cases[index]] : [])), ['{"a": 1} //', '"\u007f ok"']);
  });

  it('is what JsonDocument parses with: a clean text gives the same value, ranges and no syntax errors', () => {
    const text = '{\n  // why\n  "version": "1",\n  "tools": { "a_*": { "action": "deny", }, "b": { "limits": [{ "max": 1e1, "window": 60 }], }, },\n}\n';
    const document = new JsonDocument(text);
    assert.deepEqual(JSON.parse(JSON.stringify(document.value)), { version: '1', tools: { 'a_*': { action: 'deny' }, b: { limits: [{ max: 10, window: 60 }] } } });
    assert.deepEqual(document.syntaxDiagnostics, []);
    assertSameTree(document.root!, reference(text).root!, 'document');
  });
});
