import type { Node } from 'jsonc-parser';

/** Helpers on jsonc-parser's trees, shared by the parse and its incremental updates. */

/** Deeper than any policy needs, and shallow enough for every recursive step after the parse. */
export const MAX_NESTING = 128;

/** True when the text nests deeper than MAX_NESTING: the recursive JSON tools would overflow on it. */
export function nestsTooDeep(text: string): boolean {
  return nestingBeyond(text, MAX_NESTING) >= 0;
}

/** Offset of the bracket that opens level `limit + 1`, or -1; strings and comments are skipped. */
export function nestingBeyond(text: string, limit: number): number {
  let depth = 0;
  const length = text.length;
  for (let at = 0; at < length; at++) {
    const code = text.charCodeAt(at);
    if (code === 0x7b || code === 0x5b) {
      if (++depth > limit) return at;
    } else if (code === 0x7d || code === 0x5d) {
      if (depth > 0) depth--;
    } else if (code === 0x22) {
      for (at++; at < length; at++) {
        const inner = text.charCodeAt(at);
        if (inner === 0x5c) at++;
        else if (inner === 0x22 || inner === 0x0a) break;
      }
    } else if (code === 0x2f && text.charCodeAt(at + 1) === 0x2f) {
      const end = text.indexOf('\n', at);
      at = end < 0 ? length : end;
    } else if (code === 0x2f && text.charCodeAt(at + 1) === 0x2a) {
      const end = text.indexOf('*/', at + 2);
      at = end < 0 ? length : end + 1;
    }
  }
  return -1;
}

/** Whether a property on the way up from node has a later copy of its key: JSON.parse keeps that one instead. */
export function underDuplicateKey(node: Node): boolean {
  for (let at: Node | undefined = node; at?.parent; at = at.parent) {
    const property = at.parent;
    if (property.type !== 'property') continue;
    const key = property.children?.[0]?.value;
    const siblings = property.parent?.children ?? [];
    for (let index = siblings.lastIndexOf(property) + 1; index < siblings.length; index++) if (siblings[index]?.children?.[0]?.value === key) return true;
  }
  return false;
}

/** A tree node as the incremental updates change it in place. */
export type MutableNode = { -readonly [K in keyof Node]: Node[K] };

/**
 * Moves every node after an edit of [editStart, editEnd) by delta, and grows or shrinks the nodes
 * that hold it. `growsAtEnd`: the edit is at the end of a string left open, so the nodes that end
 * there (that string and what it ends) grow too. `skip`: a subtree already placed, left as it is.
 */
export function shiftAfter(node: MutableNode, editStart: number, editEnd: number, delta: number, growsAtEnd: boolean, skip?: Node): void {
  if (node === skip) return;
  const end = node.offset + node.length;
  if (end < editStart || (end === editStart && !growsAtEnd)) return; // wholly before the edit
  if (node.offset >= editEnd) node.offset += delta;
  else node.length += delta;
  if (node.colonOffset !== undefined && node.colonOffset >= editEnd) node.colonOffset += delta;
  // Indexed, and no `?? []`: this runs on every node of the tree at each keystroke, and an empty
  // array for each of its leaves was most of what a keystroke allocated here.
  const children = node.children;
  if (children) for (let index = 0; index < children.length; index++) shiftAfter(children[index] as MutableNode, editStart, editEnd, delta, growsAtEnd, skip);
}
