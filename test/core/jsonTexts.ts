/** JSON and JSONC texts for the parse-tree tests (compactTree, wellFormedTree), and the tree comparison they share. */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Node } from 'jsonc-parser';

export const ROOT = resolve(__dirname, '..', '..', '..');

/** Field by field, in field order (the same V8 shapes), parents by identity. */
export function assertSameTree(actual: Node, expected: Node, where: string): void {
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

export const TRIVIA = [' ', '\t', '\n', '\r\n', '\r', '', '', '', '// note\n', '/* block */', '/**/', '/* multi\nline */', '// \r'];
const STRINGS = ['', 'a', 'svc0_get_contact', 'quote \\" inside', 'back\\\\slash', 'tab\\t', 'unicode \\u00e9 \\uD83D\\uDE00', 'slash \\/', 'é ✓ 😀', '\\b\\f\\n\\r', '*_purge_*', '__proto__'];
const NUMBERS = ['0', '-0', '1', '-1', '12', '3.25', '-0.5', '1e3', '1E+3', '2e-2', '-12.5E10', '1e400', '123456789012345678901234567890'];

/** A well-formed JSONC text: comments, trailing commas, escapes and every number form. */
export function generate(next: () => number, depth: number): string {
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
export function mutate(text: string, next: () => number): string {
  const at = Math.floor(next() * (text.length + 1));
  const kind = next();
  if (kind < 0.3) return text.slice(0, at) + text.slice(at + 1);
  const inserted = ['"', ',', ':', '{', '}', '[', ']', '/', '*', '\\', '\n', '-', '.', 'e', '0', 'x', ' ', '\u00a0', '\ufeff', '\u2028', '\u0001', 't'][Math.floor(next() * 22)]!;
  if (kind < 0.7) return text.slice(0, at) + inserted + text.slice(at);
  return text.slice(0, at) + inserted + text.slice(at + 1);
}

/** A large policy as people write them: 5,000 rules, globs, limits, argument checks, comments. */
export function largePolicy(): string {
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

/** The project's own JSON and JSONC files (node_modules, builds and dot folders left out). */
export function jsonFilesUnder(folder: string, found: string[] = []): string[] {
  for (const entry of readdirSync(folder)) {
    if (entry === 'node_modules' || entry.startsWith('.') || entry === 'out' || entry === 'dist') continue;
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) jsonFilesUnder(path, found);
    else if (/\.jsonc?$/.test(entry) && statSync(path).size < 2_000_000) found.push(path);
  }
  return found;
}
