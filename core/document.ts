import { findNodeAtOffset, getNodePath, getNodeValue, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { parseCompactTree } from './compactTree';
import { parseWellFormedTree } from './wellFormedTree';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DiagnosticCode, type PolicyDiagnostic, type TextRange } from './diagnostic';
import type { JsonPath } from './jsonPath';
import { MAX_NESTING, nestingBeyond, shiftAfter, underDuplicateKey, type MutableNode } from './jsonTree';
import { duplicateKeys, objectDuplicates } from './duplicateKeys';
import { spliceValue } from './valueSplice';
import { valueAfterRename } from './valueRename';

export { MAX_NESTING, nestsTooDeep } from './jsonTree';

/** What afterEdit carries from one version's parse to the next. */
export interface ReusedParse {
  root: Node;
  parseDiagnostics: readonly PolicyDiagnostic[];
  parsedCleanly: boolean;
  value?: unknown;
  /** Set by an edit inside one string value of a well-formed text. */
  likelySameMeaning?: boolean;
  /** The duplicate-key errors, when known and still true. */
  syntaxDiagnostics?: readonly PolicyDiagnostic[];
  /** Or how to find them from what was known (a splice keeps those outside the new value). */
  duplicateKeys?: (lineOf: (offset: number) => number) => PolicyDiagnostic[];
}

/** A JSONC text parsed once, with the range of every key and value. */
export class JsonDocument {
  readonly root: Node | undefined;
  /** Nested deeper than MAX_NESTING: not parsed, and no recursive tool may look at it. */
  readonly tooDeep: boolean = false;
  private lineIndex: TextDocument | undefined;
  /** What the parser reported; duplicate keys are added on first use of syntaxDiagnostics. */
  private readonly parseDiagnostics: PolicyDiagnostic[] = [];
  private allSyntaxDiagnostics: PolicyDiagnostic[] | undefined;
  private parsedValue: { value: unknown } | undefined;
  private reusedDuplicates: ReusedParse['duplicateKeys'];
  private readonly parsedCleanly: boolean = false;
  /**
   * Made by afterEdit from an edit inside one string value of a well-formed text: the policy's
   * meaning likely stayed (a reason typed), so its checks will likely be reused.
   */
  readonly likelySameMeaning: boolean = false;

  /** `parsed` is for afterEdit: a tree (and maybe its value) already made to match the text. */
  constructor(readonly text: string, parsed?: ReusedParse) {
    if (parsed) {
      this.root = parsed.root;
      if ('value' in parsed) this.parsedValue = { value: parsed.value };
      this.likelySameMeaning = parsed.likelySameMeaning === true;
      this.parseDiagnostics.push(...parsed.parseDiagnostics);
      this.parsedCleanly = parsed.parsedCleanly;
      if (parsed.syntaxDiagnostics) this.allSyntaxDiagnostics = [...parsed.syntaxDiagnostics, ...this.parseDiagnostics];
      this.reusedDuplicates = parsed.duplicateKeys;
      return;
    }
    // Most texts are well formed (and nested at most MAX_NESTING deep): one pass makes their
    // tree. jsonc-parser parses the rest, with its errors and its recovery.
    const wellFormed = parseWellFormedTree(text, MAX_NESTING);
    if (wellFormed) {
      this.root = wellFormed;
      this.parsedCleanly = true;
      return;
    }
    const tooDeep = nestingBeyond(text, MAX_NESTING);
    if (tooDeep >= 0) {
      // The parser, the schema validator and the checks all recurse: a hostile depth would
      // overflow the stack and leave the file looking clean. Refuse it with a place to look.
      this.root = undefined;
      this.tooDeep = true;
      this.parseDiagnostics.push({
        code: DiagnosticCode.syntax,
        severity: 'error',
        message: `objects and arrays are nested more than ${MAX_NESTING} levels deep here: a policy never needs that many`,
        range: { offset: tooDeep, length: 1 },
        path: [],
      });
      return;
    }
    const errors: ParseError[] = [];
    this.root = parseCompactTree(text, errors, { allowTrailingComma: true, disallowComments: false });
    this.parsedCleanly = errors.length === 0;
    for (const error of errors) {
      this.parseDiagnostics.push({
        code: DiagnosticCode.syntax,
        severity: 'error',
        message: describeParseError(error),
        range: { offset: error.offset, length: Math.max(error.length, 1) },
        path: [],
      });
    }
    if (!this.root && (errors.length === 0 || text.trim() === '')) {
      this.parseDiagnostics.length = 0;
      this.parseDiagnostics.push({
        code: DiagnosticCode.syntax,
        severity: 'error',
        message: 'the file is empty: a policy is a JSON object such as {"version": "1"}',
        range: { offset: 0, length: 0 },
        path: [],
      });
    }
  }

  /**
   * The value JSON.parse gives (the last of duplicate keys wins), built on first use:
   * completion needs only the tree, and typing must not pay for the value of a large policy.
   */
  get value(): unknown {
    this.parsedValue ??= { value: this.root ? valueOf(this.text, this.root, this.parsedCleanly) : undefined };
    return this.parsedValue.value;
  }

  /** Parse errors and duplicate keys (found on first use). */
  get syntaxDiagnostics(): readonly PolicyDiagnostic[] {
    if (!this.allSyntaxDiagnostics) {
      const lineOf = (offset: number): number => this.lines.positionAt(offset).line + 1;
      const duplicates = this.reusedDuplicates ? this.reusedDuplicates(lineOf) : this.root ? duplicateKeys(this.root, lineOf) : [];
      this.reusedDuplicates = undefined;
      this.allSyntaxDiagnostics = [...duplicates, ...this.parseDiagnostics];
    }
    return this.allSyntaxDiagnostics;
  }

  /** Where the first parse error is, if any: after it, the parser guesses where objects end. */
  get firstParseErrorOffset(): number | undefined {
    let first: number | undefined;
    for (const diagnostic of this.parseDiagnostics) if (first === undefined || diagnostic.range.offset < first) first = diagnostic.range.offset;
    return first;
  }

  /** The text is not well-formed JSONC (duplicate keys apart): cheap, known from the parse. */
  get hasParseErrors(): boolean {
    return this.parseDiagnostics.length > 0;
  }

  /**
   * The document after `removedLength` characters at `offset` are replaced by `inserted`,
   * without parsing again — when the edit stays inside one string token (typing a reason, a
   * rule's name, a key not yet closed by its quote) and neither adds nor removes a quote, a
   * backslash or a control character. The scanner then reads the same tokens with one of them
   * longer or shorter, and the parser, which looks only at the kinds of tokens, builds the same
   * tree with the same errors: offsets shift and one string's value changes, exactly as a fresh
   * parse gives them (seeded tests compare the two). Undefined for any other edit. The previous
   * document gives up its tree and must not be used again.
   */
  static afterEdit(previous: JsonDocument, offset: number, removedLength: number, inserted: string): JsonDocument | undefined {
    const afterString = JsonDocument.afterStringEdit(previous, offset, removedLength, inserted);
    if (afterString) return afterString;
    const spliced = spliceValue(previous, offset, removedLength, inserted, previous.allSyntaxDiagnostics);
    return spliced && new JsonDocument(spliced.text, spliced.parse);
  }

  private static afterStringEdit(previous: JsonDocument, offset: number, removedLength: number, inserted: string): JsonDocument | undefined {
    const root = previous.root;
    if (!root || UNSAFE_IN_STRING.test(inserted)) return undefined;
    const editEnd = offset + removedLength;
    // Right bound included: a string left open runs to the end of its line, and typing there extends it.
    const node = findNodeAtOffset(root, offset, true);
    if (!node || node.type !== 'string') return undefined;
    const token = previous.text.slice(node.offset, node.offset + node.length);
    // An escape could be split or made by the edit, and an invalid character has its own error.
    if (!token.startsWith('"')) return undefined;
    const closed = token.length >= 2 && token.endsWith('"');
    if (UNSAFE_IN_STRING.test(token.slice(1, closed ? -1 : undefined))) return undefined;
    // Strictly after the opening quote; before the closing one, or up to the line's end when there is none.
    if (offset < node.offset + 1 || editEnd > node.offset + node.length - (closed ? 1 : 0)) return undefined;
    // An open string at the very end of the text: the end-of-file token (and its errors) sits right there.
    if (!closed && node.offset + node.length >= previous.text.length) return undefined;
    const isKey = node.parent?.type === 'property' && node.parent.children?.[0] === node;
    const clean = !previous.hasParseErrors;
    // Under an earlier copy of a duplicate key the value to update is not the enforced one.
    const patchValue = clean && !isKey && !underDuplicateKey(node);
    const text = previous.text.slice(0, offset) + inserted + previous.text.slice(editEnd);
    const delta = inserted.length - removedLength;
    const tokenStart = node.offset;
    const shift = (at: number): number => (at >= editEnd ? at + delta : at);
    // Every parse error sits on one token: this string's grow with it, later ones move.
    const parseDiagnostics = previous.parseDiagnostics.map((diagnostic) =>
      diagnostic.range.offset === tokenStart
        ? { ...diagnostic, range: { offset: tokenStart, length: diagnostic.range.length + delta } }
        : { ...diagnostic, range: { ...diagnostic.range, offset: shift(diagnostic.range.offset) } },
    );
    shiftAfter(root as MutableNode, offset, editEnd, delta, !closed && editEnd === node.offset + node.length);
    const newToken = text.slice(node.offset, node.offset + node.length);
    const oldName: unknown = node.value;
    (node as MutableNode).value = closed ? (JSON.parse(newToken) as string) : newToken.slice(1);
    let value: { value: unknown } | undefined;
    if (patchValue) {
      const path = getNodePath(node);
      let container: unknown = previous.value;
      for (const segment of path.slice(0, -1)) container = (container as Record<string | number, unknown>)[segment];
      (container as Record<string | number, unknown>)[path[path.length - 1] as string | number] = node.value;
      value = { value: previous.value };
    } else if (isKey && previous.parsedValue && typeof oldName === 'string') {
      // A rule's name typed: its object is rebuilt from the value before, not the whole policy from the tree.
      value = valueAfterRename(previous.parsedValue.value, node, oldName);
    }
    // The duplicate keys, when they were known: moved with the text. The edit adds no line, so
    // their messages (which name the kept copy's line) stay true.
    const moved = previous.allSyntaxDiagnostics
      ?.filter((diagnostic) => diagnostic.code === DiagnosticCode.duplicateKey)
      .map((diagnostic) => ({
        ...diagnostic,
        range: { ...diagnostic.range, offset: shift(diagnostic.range.offset) },
        ...(typeof diagnostic.data?.kept === 'number' ? { data: { ...diagnostic.data, kept: shift(diagnostic.data.kept) } } : {}),
      }));
    // A renamed key can make or end a duplicate among its own object's keys, nowhere else: that
    // object's are found again (on first use), not the whole tree's, which typing a rule's name
    // would otherwise walk at each keystroke.
    const object = isKey ? node.parent?.parent : undefined;
    // And the paths of those inside the renamed key's value go through its new name.
    const renamedValue = isKey ? node.parent?.children?.[1] : undefined;
    if (moved && renamedValue) {
      const depth = getNodePath(node).length - 1;
      for (const diagnostic of moved) {
        if (diagnostic.range.offset < renamedValue.offset || diagnostic.range.offset >= renamedValue.offset + renamedValue.length) continue;
        const path = [...diagnostic.path];
        path[depth] = node.value as string;
        diagnostic.path = path;
      }
    }
    const duplicates: Pick<ReusedParse, 'syntaxDiagnostics' | 'duplicateKeys'> = !moved
      ? {}
      : !object
        ? { syntaxDiagnostics: moved }
        : {
            duplicateKeys: (lineOf) => {
              const ownKeys = new Set(object.children?.map((property) => property.children?.[0]?.offset));
              const kept = moved.filter((diagnostic) => !ownKeys.has(diagnostic.range.offset));
              objectDuplicates(object, lineOf, kept);
              return kept.sort((a, b) => a.range.offset - b.range.offset);
            },
          };
    return new JsonDocument(text, {
      root,
      parseDiagnostics,
      parsedCleanly: previous.parsedCleanly,
      ...(value ? { value: value.value, likelySameMeaning: patchValue } : {}),
      ...duplicates,
    });
  }

  /** Takes an editor's copy of this very text as the line index, so that lines are counted once. */
  shareLines(lines: TextDocument): void {
    if (lines.getText() === this.text) this.lineIndex ??= lines;
  }

  /** Lines and columns (0-based, UTF-16 like LSP) for offsets, built on first use. */
  get lines(): Pick<TextDocument, 'positionAt' | 'offsetAt'> {
    this.lineIndex ??= TextDocument.create('', 'jsonc', 0, this.text);
    return this.lineIndex;
  }

  /** Objects' properties by key, built on first use: diagnostics look up thousands of rules by path. */
  private readonly keyIndex = new WeakMap<Node, Map<string, Node>>();

  nodeAt(path: JsonPath): Node | undefined {
    let node = this.root;
    for (let index = 0; index < path.length; index++) {
      const segment = path[index]!;
      if (!node) return undefined;
      if (typeof segment === 'number') {
        node = node.type === 'array' ? node.children?.[segment] : undefined;
        continue;
      }
      if (node.type !== 'object') return undefined;
      if ((node.children?.length ?? 0) < 16) {
        node = lastValueOf(node, segment);
        continue;
      }
      node = this.propertiesOf(node).get(segment);
    }
    return node;
  }

  private propertiesOf(object: Node): Map<string, Node> {
    let index = this.keyIndex.get(object);
    if (!index) {
      index = new Map();
      const properties = object.children ?? [];
      for (let at = 0; at < properties.length; at++) {
        const key = properties[at]!.children?.[0];
        const value = properties[at]!.children?.[1];
        // Like JSON.parse, which builds the value that is enforced: the last of duplicate keys wins.
        if (key && value && typeof key.value === 'string') index.set(key.value, value);
      }
      this.keyIndex.set(object, index);
    }
    return index;
  }

  /** Range of the value at path; for `part: 'key'`, of its property key (falling back to the value). */
  rangeOf(path: JsonPath, part: 'key' | 'value' = 'value'): TextRange {
    let node = this.nodeAt(path);
    // Point at the deepest part of the path that exists.
    for (let depth = path.length - 1; !node && depth >= 0; depth--) node = this.nodeAt(path.slice(0, depth));
    if (!node) return { offset: 0, length: 0 };
    if (part === 'key' && node.parent?.type === 'property' && node.parent.children?.[0]) {
      const key = node.parent.children[0];
      if (key !== node) return { offset: key.offset, length: key.length };
    }
    return { offset: node.offset, length: node.length };
  }
}

/** The value of the last property named `key`: the copy JSON.parse keeps. */
function lastValueOf(object: Node, key: string): Node | undefined {
  const properties = object.children ?? [];
  for (let index = properties.length - 1; index >= 0; index--) {
    const name = properties[index]?.children?.[0];
    const value = properties[index]?.children?.[1];
    if (name?.value === key && value) return value;
  }
  return undefined;
}

/** In a JSON string, these would end it, escape, or be invalid: an edit holding one needs a real parse. */
const UNSAFE_IN_STRING = /["\\\u0000-\u001f]/;

/**
 * The native parser builds the same value many times faster than walking the tree; it
 * accepts only strict JSON, so a text with comments or trailing commas takes the tree walk.
 */
function valueOf(text: string, root: Node, parsedCleanly: boolean): unknown {
  if (parsedCleanly) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // JSONC: comments or trailing commas
    }
  }
  return getNodeValue(root);
}

function describeParseError(error: ParseError): string {
  switch (printParseErrorCode(error.error)) {
    case 'InvalidSymbol':
      return 'unexpected character: not valid JSON';
    case 'InvalidNumberFormat':
      return 'invalid number';
    case 'PropertyNameExpected':
      return 'property name expected (in double quotes)';
    case 'ValueExpected':
      return 'value expected';
    case 'ColonExpected':
      return 'colon expected after the property name';
    case 'CommaExpected':
      return 'comma expected';
    case 'CloseBraceExpected':
      return 'closing brace } expected';
    case 'CloseBracketExpected':
      return 'closing bracket ] expected';
    case 'EndOfFileExpected':
      return 'end of file expected: only one JSON value is allowed';
    case 'UnexpectedEndOfComment':
      return 'comment is not closed';
    case 'UnexpectedEndOfString':
      return 'string is not closed';
    case 'UnexpectedEndOfNumber':
      return 'number is not complete';
    case 'InvalidUnicode':
      return 'invalid unicode escape';
    case 'InvalidEscapeCharacter':
      return 'invalid escape character in string';
    case 'InvalidCharacter':
      return 'invalid character in string';
    default:
      return 'not valid JSON';
  }
}
