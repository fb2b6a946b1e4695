import { findNodeAtOffset, type Node, type ParseError } from 'jsonc-parser';
import { parseCompactTree } from './compactTree';
import type { PolicyDiagnostic } from './diagnostic';
import type { ReusedParse } from './document';
import { duplicateKeyMessage, duplicateKeys } from './duplicateKeys';
import { MAX_NESTING, nestingBeyond, shiftAfter, type MutableNode } from './jsonTree';

/** What spliceValue needs of the previous version: its text and tree, and that it parsed cleanly. */
export interface SpliceSource {
  readonly text: string;
  readonly root: Node | undefined;
  readonly hasParseErrors: boolean;
}

/**
 * The parse after an edit inside one object or array of a well-formed text, from a parse of
 * that value alone: a finished edit to one rule (a code action, a paste, `{}` becoming
 * `{ "action": "deny" }`) parses the rule, not the policy. Exact, not a guess: the text before
 * the value ends between tokens and the text after it starts between tokens, so when the new
 * value is one complete, well-formed JSON value from its first character to its last, the
 * parser reads the rest of the text as before, and the new tree is the old one with that value
 * swapped and the nodes after it moved. Undefined when that does not hold: parse it all.
 */
export function spliceValue(
  previous: SpliceSource,
  offset: number,
  removedLength: number,
  inserted: string,
  /** The previous version's duplicate-key errors, if they were found. */
  duplicates: readonly PolicyDiagnostic[] | undefined,
): { text: string; parse: ReusedParse } | undefined {
  const root = previous.root;
  if (!root || previous.hasParseErrors) return undefined;
  const editEnd = offset + removedLength;
  // The innermost object or array, below the top level, that holds the whole edit.
  let container: Node | undefined = findNodeAtOffset(root, offset, false);
  while (container && !(isContainer(container) && container.offset <= offset && editEnd <= container.offset + container.length)) container = container.parent;
  if (!container?.parent) return undefined;
  const delta = inserted.length - removedLength;
  const text = previous.text.slice(0, offset) + inserted + previous.text.slice(editEnd);
  const oldEnd = container.offset + container.length;
  const valueText = text.slice(container.offset, oldEnd + delta);
  // The nesting check the full parse makes, from the depth where the value sits.
  if (nestingBeyond(valueText, MAX_NESTING - depthOf(container)) >= 0) return undefined;
  const errors: ParseError[] = [];
  const replacement = parseCompactTree(valueText, errors, { allowTrailingComma: true, disallowComments: false }) as MutableNode | undefined;
  // One value, nothing before or after it (no comment that could run into the text after it).
  if (!replacement || errors.length > 0 || replacement.offset !== 0 || replacement.length !== valueText.length) return undefined;
  moveBy(replacement, container.offset);
  const parent = container.parent as MutableNode;
  replacement.parent = parent;
  const siblings = parent.children!;
  siblings[siblings.indexOf(container)] = replacement;
  shiftAfter(root as MutableNode, container.offset, oldEnd, delta, false, replacement);
  // The value is built anew on first use, as a fresh parse builds it (JSON.parse, or the tree's
  // objects for JSONC).
  const parse: ReusedParse = { root, parseDiagnostics: [], parsedCleanly: true };
  // Duplicate keys: those outside the old value stay (moved), those inside the new one are found.
  if (duplicates) {
    const start = container.offset;
    const addedLines = lineBreaks(inserted) - lineBreaks(previous.text.slice(offset, editEnd));
    parse.duplicateKeys = (lineOf) => {
      const kept = duplicates.flatMap((diagnostic): PolicyDiagnostic[] => {
        if (diagnostic.range.offset >= start && diagnostic.range.offset < oldEnd) return [];
        const keptAt = diagnostic.data?.kept;
        if (typeof keptAt !== 'number') return [diagnostic];
        const movedTo = keptAt >= oldEnd ? keptAt + delta : keptAt;
        const name = diagnostic.path[diagnostic.path.length - 1];
        return [
          {
            ...diagnostic,
            message: keptAt >= oldEnd && addedLines !== 0 ? duplicateKeyMessage(String(name), lineOf(movedTo)) : diagnostic.message,
            range: { ...diagnostic.range, offset: diagnostic.range.offset >= oldEnd ? diagnostic.range.offset + delta : diagnostic.range.offset },
            data: { ...diagnostic.data, kept: movedTo },
          },
        ];
      });
      return [...kept, ...duplicateKeys(replacement, lineOf)].sort((a, b) => a.range.offset - b.range.offset);
    };
  }
  return { text, parse };
}

function isContainer(node: Node): boolean {
  return node.type === 'object' || node.type === 'array';
}

/** Objects and arrays around the node: each is a level of nesting. */
function depthOf(node: Node): number {
  let depth = 0;
  for (let at = node.parent; at; at = at.parent) if (isContainer(at)) depth++;
  return depth;
}

function moveBy(node: MutableNode, by: number): void {
  node.offset += by;
  if (node.colonOffset !== undefined) node.colonOffset += by;
  const children = node.children;
  if (children) for (let index = 0; index < children.length; index++) moveBy(children[index] as MutableNode, by);
}

/** As the line index counts them: \r\n, \r and \n. */
function lineBreaks(text: string): number {
  return text.match(/\r\n?|\n/g)?.length ?? 0;
}
