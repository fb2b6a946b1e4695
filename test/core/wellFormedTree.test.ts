import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseTree, type Node, type ParseError } from 'jsonc-parser';
import { parseWellFormedTree } from '../../core/wellFormedTree';
import { JsonDocument } from '../../core/document';
import { mulberry32 as random } from './helpers';
import { assertSameTree, generate, jsonFilesUnder, largePolicy, mutate, ROOT, TRIVIA } from './jsonTexts';

function reference(text: string): { root: Node | undefined; errors: ParseError[] } {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  return { root, errors };
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
