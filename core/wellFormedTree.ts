import type { Node } from 'jsonc-parser';
import type { MutableNode } from './jsonTree';
import { fitChildren } from './compactTree';

/**
 * jsonc-parser's `parseTree(text, errors, { allowTrailingComma: true })` for a text it parses
 * without an error, made in one pass without its scanner, visitor and callbacks: the same nodes
 * (with children arrays of their size, as compactTree.ts makes them),
 * with the same fields in the same order (so the same V8 shapes), the same offsets, lengths,
 * colon offsets and values. For anything else it returns undefined at the first thing it does
 * not expect, and the caller parses with jsonc-parser, which reports the errors and recovers.
 * jsonc-parser 3.3's grammar: whitespace is space and tab, line breaks are \n and \r, comments
 * are // and /* *\/, a trailing comma is allowed, a number is JSON's.
 *
 * Why: a large policy's parse tree is most of a cold open's parse (a third of its time in
 * jsonc-parser's per-token machinery), and it is made again on every keystroke that is not
 * inside a string. test/core/wellFormedTree.test.ts compares the two on generated texts.
 */
export function parseWellFormedTree(text: string, maxDepth = DEFAULT_MAX_DEPTH): Node | undefined {
  const parser = new WellFormedParser(text, maxDepth);
  try {
    parser.skipTrivia();
    const root = parser.value(undefined);
    parser.skipTrivia();
    if (parser.at < text.length) return undefined;
    // As jsonc-parser leaves it: the root has no `parent` field at all.
    delete root.parent;
    return root;
  } catch (error) {
    if (error === NOT_WELL_FORMED) return undefined;
    throw error;
  }
}

/** Thrown to leave the parse at once; never escapes parseWellFormedTree. */
const NOT_WELL_FORMED = new Error('not well formed');

/** Objects and arrays nested deeper than this are left to the caller (and jsonc-parser's recursion). */
const DEFAULT_MAX_DEPTH = 512;

class WellFormedParser {
  at = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  /** Whitespace, line breaks and comments. An unclosed block comment is an error: not ours. */
  skipTrivia(): void {
    const text = this.text;
    const length = text.length;
    let at = this.at;
    while (at < length) {
      const code = text.charCodeAt(at);
      if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) {
        at++;
      } else if (code === 0x2f) {
        const next = text.charCodeAt(at + 1);
        if (next === 0x2f) {
          at += 2;
          while (at < length) {
            const inner = text.charCodeAt(at);
            if (inner === 0x0a || inner === 0x0d) break;
            at++;
          }
        } else if (next === 0x2a) {
          const end = text.indexOf('*/', at + 2);
          if (end < 0) throw NOT_WELL_FORMED;
          at = end + 2;
        } else {
          break;
        }
      } else {
        break;
      }
    }
    this.at = at;
  }

  /** The value at `at` (trivia already skipped); the caller adds it to parent's children. */
  value(parent: MutableNode | undefined): MutableNode {
    const code = this.text.charCodeAt(this.at);
    let node: MutableNode;
    if (code === 0x7b) node = this.object(parent);
    else if (code === 0x5b) node = this.array(parent);
    else if (code === 0x22) {
      const offset = this.at;
      const value = this.string();
      node = { type: 'string', offset, length: this.at - offset, parent, value };
    } else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) node = this.number(parent);
    else if (code === 0x74 && this.text.startsWith('true', this.at)) node = this.keyword(parent, 'boolean', true, 4);
    else if (code === 0x66 && this.text.startsWith('false', this.at)) node = this.keyword(parent, 'boolean', false, 5);
    else if (code === 0x6e && this.text.startsWith('null', this.at)) node = this.keyword(parent, 'null', null, 4);
    else throw NOT_WELL_FORMED;
    return node;
  }

  private object(parent: MutableNode | undefined): MutableNode {
    if (++this.depth > this.maxDepth) throw NOT_WELL_FORMED;
    const text = this.text;
    const node: MutableNode = { type: 'object', offset: this.at, length: -1, parent, children: [] };
    const children = node.children!;
    this.at++;
    this.skipTrivia();
    while (text.charCodeAt(this.at) !== 0x7d) {
      if (text.charCodeAt(this.at) !== 0x22) throw NOT_WELL_FORMED;
      const property: MutableNode = { type: 'property', offset: this.at, length: -1, parent: node, children: [] };
      children.push(property);
      const keyOffset = this.at;
      const key = this.string();
      const keyNode: MutableNode = { type: 'string', value: key, offset: keyOffset, length: this.at - keyOffset, parent: property };
      this.skipTrivia();
      if (text.charCodeAt(this.at) !== 0x3a) throw NOT_WELL_FORMED;
      property.colonOffset = this.at;
      this.at++;
      this.skipTrivia();
      const value = this.value(property);
      property.children = [keyNode, value];
      property.length = value.offset + value.length - property.offset;
      this.entryEnd(0x7d);
    }
    return this.closed(node);
  }

  private array(parent: MutableNode | undefined): MutableNode {
    if (++this.depth > this.maxDepth) throw NOT_WELL_FORMED;
    const text = this.text;
    const node: MutableNode = { type: 'array', offset: this.at, length: -1, parent, children: [] };
    this.at++;
    this.skipTrivia();
    while (text.charCodeAt(this.at) !== 0x5d) {
      node.children!.push(this.value(node));
      this.entryEnd(0x5d);
    }
    return this.closed(node);
  }

  /** After an entry: a comma and the trivia after it, or the closing bracket (left for the caller's loop to see). */
  private entryEnd(closing: number): void {
    this.skipTrivia();
    const next = this.text.charCodeAt(this.at);
    if (next === 0x2c) {
      this.at++;
      this.skipTrivia();
    } else if (next !== closing) {
      throw NOT_WELL_FORMED;
    }
  }

  /** The object or array ends at the closing bracket at `at`. */
  private closed(node: MutableNode): MutableNode {
    this.at++;
    node.length = this.at - node.offset;
    fitChildren(node);
    this.depth--;
    return node;
  }

  /** The string at `at` (its opening quote); leaves `at` after the closing quote. */
  private string(): string {
    const text = this.text;
    const length = text.length;
    const start = this.at;
    let at = start + 1;
    let escaped = false;
    for (;;) {
      if (at >= length) throw NOT_WELL_FORMED;
      const code = text.charCodeAt(at);
      if (code === 0x22) break;
      if (code === 0x5c) {
        escaped = true;
        at += 2;
        continue;
      }
      // A control character (a line break too) in a string is an error to jsonc-parser.
      if (code < 0x20) throw NOT_WELL_FORMED;
      at++;
    }
    this.at = at + 1;
    if (!escaped) return text.slice(start + 1, at);
    // JSON's escapes are jsonc-parser's: \" \\ \/ \b \f \n \r \t and \u with four hex digits.
    try {
      return JSON.parse(text.slice(start, at + 1)) as string;
    } catch {
      throw NOT_WELL_FORMED;
    }
  }

  private number(parent: MutableNode | undefined): MutableNode {
    const text = this.text;
    const start = this.at;
    let at = start;
    if (text.charCodeAt(at) === 0x2d) at++;
    const first = text.charCodeAt(at);
    if (!(first >= 0x30 && first <= 0x39)) throw NOT_WELL_FORMED;
    at++;
    if (first !== 0x30) while (isDigit(text.charCodeAt(at))) at++;
    if (text.charCodeAt(at) === 0x2e) {
      at++;
      if (!isDigit(text.charCodeAt(at))) throw NOT_WELL_FORMED;
      while (isDigit(text.charCodeAt(at))) at++;
    }
    const exponent = text.charCodeAt(at);
    if (exponent === 0x45 || exponent === 0x65) {
      at++;
      const sign = text.charCodeAt(at);
      if (sign === 0x2b || sign === 0x2d) at++;
      if (!isDigit(text.charCodeAt(at))) throw NOT_WELL_FORMED;
      while (isDigit(text.charCodeAt(at))) at++;
    }
    this.at = at;
    return { type: 'number', offset: start, length: at - start, parent, value: Number(text.slice(start, at)) };
  }

  private keyword(parent: MutableNode | undefined, type: 'boolean' | 'null', value: boolean | null, length: number): MutableNode {
    const offset = this.at;
    this.at += length;
    return { type, offset, length, parent, value };
  }
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}
