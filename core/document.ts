import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { DiagnosticCode, LineIndex, type PolicyDiagnostic, type TextRange } from './diagnostic';
import type { JsonPath } from './jsonPath';

/** A JSONC text parsed once, with the range of every key and value. */
export class JsonDocument {
  readonly root: Node | undefined;
  readonly value: unknown;
  readonly syntaxDiagnostics: PolicyDiagnostic[] = [];
  private lineIndex: LineIndex | undefined;

  constructor(readonly text: string) {
    const errors: ParseError[] = [];
    this.root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
    this.value = this.root ? valueOf(text, this.root, errors.length === 0) : undefined;
    for (const error of errors) {
      this.syntaxDiagnostics.push({
        code: DiagnosticCode.syntax,
        severity: 'error',
        message: describeParseError(error),
        range: { offset: error.offset, length: Math.max(error.length, 1) },
        path: [],
      });
    }
    if (!this.root && errors.length === 0) {
      this.syntaxDiagnostics.push({
        code: DiagnosticCode.syntax,
        severity: 'error',
        message: 'the file is empty: a policy is a JSON object such as {"version": "1"}',
        range: { offset: 0, length: 0 },
        path: [],
      });
    }
  }

  get lines(): LineIndex {
    this.lineIndex ??= new LineIndex(this.text);
    return this.lineIndex;
  }

  /** Objects' properties by key, built on first use: diagnostics look up thousands of rules by path. */
  private readonly keyIndex = new WeakMap<Node, Map<string, Node>>();

  nodeAt(path: JsonPath): Node | undefined {
    let node = this.root;
    for (const segment of path) {
      if (!node) return undefined;
      if (typeof segment === 'number') {
        node = node.type === 'array' ? node.children?.[segment] : undefined;
        continue;
      }
      if (node.type !== 'object') return undefined;
      if ((node.children?.length ?? 0) < 16) {
        node = findNodeAtLocation(node, [segment]);
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
      for (const property of object.children ?? []) {
        const [key, value] = property.children ?? [];
        // Like findNodeAtLocation: the first of duplicate keys wins, and a key without a value is no match.
        if (key && value && typeof key.value === 'string' && !index.has(key.value)) index.set(key.value, value);
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
