/**
 * jsonc-parser's parseTree, node for node (the same fields in the same order, the same errors),
 * with each node's `children` array no larger than it needs to be.
 *
 * jsonc-parser starts every `children` as `[]` and pushes into it, and V8 grows an empty array
 * on its first push to room for 17 elements: a property (always one key and one value) or a
 * rule's small object then holds 152 bytes of array for 16 or 32 of content. For the bench's
 * 5,000-rule policy that is 11.5 MB of tree instead of 7.6 MB, all of it live for as long as the
 * document is open, and copied by the young-generation collector twice during a cold open.
 * Here a property's children are made as one- and then two-element arrays, and an object's or
 * array's small list of children is copied to its exact size once it ends.
 */
import { visit, type Node, type ParseError, type ParseOptions } from 'jsonc-parser';

/** What jsonc-parser's visitor-built tree looks like while it is built. */
interface BuildNode {
  type: Node['type'];
  offset: number;
  length: number;
  parent: BuildNode | undefined;
  children?: BuildNode[];
  value?: unknown;
  colonOffset?: number;
}

/** Below this many children an array was grown to V8's first capacity (17) and is copied to its size. */
const FIRST_CAPACITY = 17;

/** As jsonc-parser names a literal's type. */
function nodeType(value: unknown): Node['type'] {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'array' : 'object';
    default:
      return 'null';
  }
}

/** jsonc-parser's parseTree(text, errors, options), with compact `children` arrays. */
export function parseCompactTree(text: string, errors: ParseError[], options: ParseOptions): Node | undefined {
  // The artificial root, as jsonc-parser has it.
  let currentParent: BuildNode = { type: 'array', offset: -1, length: -1, children: [], parent: undefined };
  const ensurePropertyComplete = (endOffset: number): void => {
    if (currentParent.type === 'property') {
      currentParent.length = endOffset - currentParent.offset;
      currentParent = currentParent.parent!;
    }
  };
  const onValue = (valueNode: BuildNode): BuildNode => {
    const siblings = currentParent.children!;
    // A property has its key: key and value in an array of two.
    if (currentParent.type === 'property' && siblings.length === 1) currentParent.children = [siblings[0]!, valueNode];
    else siblings.push(valueNode);
    return valueNode;
  };
  visit(
    text,
    {
      onObjectBegin: (offset) => {
        currentParent = onValue({ type: 'object', offset, length: -1, parent: currentParent, children: [] });
      },
      onObjectProperty: (name, offset, length) => {
        const property: BuildNode = { type: 'property', offset, length: -1, parent: currentParent, children: [] };
        onValue(property);
        property.children = [{ type: 'string', value: name, offset, length, parent: property }];
        currentParent = property;
      },
      onObjectEnd: (offset, length) => {
        ensurePropertyComplete(offset + length); // a property without a value: complete it first
        currentParent.length = offset + length - currentParent.offset;
        fitChildren(currentParent);
        currentParent = currentParent.parent!;
        ensurePropertyComplete(offset + length);
      },
      onArrayBegin: (offset) => {
        currentParent = onValue({ type: 'array', offset, length: -1, parent: currentParent, children: [] });
      },
      onArrayEnd: (offset, length) => {
        currentParent.length = offset + length - currentParent.offset;
        fitChildren(currentParent);
        currentParent = currentParent.parent!;
        ensurePropertyComplete(offset + length);
      },
      onLiteralValue: (value, offset, length) => {
        onValue({ type: nodeType(value), offset, length, parent: currentParent, value });
        ensurePropertyComplete(offset + length);
      },
      onSeparator: (separator, offset) => {
        if (currentParent.type === 'property') {
          if (separator === ':') currentParent.colonOffset = offset;
          else if (separator === ',') ensurePropertyComplete(offset);
        }
      },
      onError: (error, offset, length) => {
        errors.push({ error, offset, length });
      },
    },
    options,
  );
  const result = currentParent.children![0];
  if (result) delete (result as Partial<BuildNode>).parent;
  return result as Node | undefined;
}

/** An object's or array's children in an array of their size, once they are all there. */
export function fitChildren(node: { children?: Node[] }): void {
  const children = node.children!;
  if (children.length > 0 && children.length < FIRST_CAPACITY) node.children = children.slice();
}
