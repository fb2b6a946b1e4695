import { findNodeAtLocation, modify, parseTree, type Edit, type FormattingOptions as JsonFormatting, type Node } from 'jsonc-parser';
import type { JsonPath } from './jsonPath';

/*
 * Minimal edits to a JSONC text, shared by the language server's quick fixes and the VS Code
 * client's commands: only the new or changed part is written, so neighbours and comments stay.
 */

/** The document's own indentation and line ends, so that inserted JSON looks like its neighbours. */
export function inferFormatting(text: string): JsonFormatting {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)\S/m.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 4, eol };
  return { insertSpaces: true, tabSize: indent ? Math.min(indent.length, 8) : 2, eol };
}

/**
 * A minimal edit that sets (or, with undefined, removes) the value at path. A new property
 * is written on its own line after the last one (after a comment that ends that line), and
 * only it is formatted: neighbouring rules and comments stay as they are.
 */
export function setValueJsonEdits(text: string, path: JsonPath, value: unknown): Edit[] {
  if (value !== undefined && !existsAt(text, path)) {
    // Into the deepest object that exists: `{ "tools": { "x": {} } }` when even `tools` is missing.
    let nested: unknown = value;
    for (let depth = path.length - 1; depth >= 0; depth--) {
      const key = path[depth];
      if (typeof key !== 'string') break;
      const inserted = insertPropertiesEdits(text, path.slice(0, depth), [[key, nested]]);
      if (inserted) return inserted;
      if (existsAt(text, path.slice(0, depth))) break;
      nested = { [key]: nested };
    }
  }
  // A removal or a changed value: jsonc-parser's raw edit touches only that value (no formatting,
  // which would reformat the whole line around it).
  return modify(text, [...path], value, value === undefined || existsAt(text, path) ? {} : { formattingOptions: inferFormatting(text) });
}

/** Several new properties of one object in one edit (quick fixes for many tools at once). */
export function addPropertiesJsonEdits(text: string, objectPath: JsonPath, entries: ReadonlyArray<readonly [string, unknown]>): Edit[] {
  // When the object does not exist yet: create it with all the entries.
  return insertPropertiesEdits(text, objectPath, entries) ?? setValueJsonEdits(text, objectPath, Object.fromEntries(entries));
}

function existsAt(text: string, path: JsonPath): boolean {
  const root = parseTree(text, [], { allowTrailingComma: true });
  return root !== undefined && findNodeAtLocation(root, [...path]) !== undefined;
}

function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, offset))?.[0] ?? '';
}

/** `value` as JSON, its lines after the first indented by `indent`. */
function formatValue(value: unknown, unit: string, indent: string, eol: string): string {
  return JSON.stringify(value, null, unit).replace(/\n/g, `${eol}${indent}`);
}

function compact(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ').replace(/\[ /g, '[').replace(/ \]/g, ']');
}

/**
 * Edits that add `entries` to the object at `objectPath`, or undefined when that object does
 * not exist, already has one of the keys, or holds comments where they would go.
 */
function insertPropertiesEdits(text: string, objectPath: JsonPath, entries: ReadonlyArray<readonly [string, unknown]>): Edit[] | undefined {
  const root = parseTree(text, [], { allowTrailingComma: true });
  const object: Node | undefined = root && (objectPath.length === 0 ? root : findNodeAtLocation(root, [...objectPath]));
  if (!object || object.type !== 'object' || entries.length === 0) return undefined;
  const properties = object.children ?? [];
  if (properties.some((property) => entries.some(([key]) => property.children?.[0]?.value === key))) return undefined;
  const { insertSpaces, tabSize, eol = '\n' } = inferFormatting(text);
  const unit = insertSpaces ? ' '.repeat(tabSize ?? 2) : '\t';
  const closing = object.offset + object.length - 1;
  const lastProperty = properties[properties.length - 1];
  if (!lastProperty) {
    if (text.slice(object.offset + 1, closing).trim() !== '') return undefined; // comments inside
    const indent = lineIndent(text, object.offset);
    const inner = indent + unit;
    const body = entries.map(([key, value]) => `${inner}${JSON.stringify(key)}: ${formatValue(value, unit, inner, eol)}`).join(`,${eol}`);
    return [{ offset: object.offset, length: object.length, content: `{${eol}${body}${eol}${indent}}` }];
  }
  const lastEnd = lastProperty.offset + lastProperty.length;
  const singleLine = !/\n/.test(text.slice(object.offset, closing + 1));
  if (singleLine) {
    const content = entries.map(([key, value]) => `, ${JSON.stringify(key)}: ${compact(value)}`).join('');
    return [{ offset: lastEnd, length: 0, content }];
  }
  // A trailing comma already there is kept; otherwise one goes right after the last value.
  let after = lastEnd;
  while (after < closing && /[ \t]/.test(text.charAt(after))) after++;
  const hasComma = text.charAt(after) === ',';
  const commaEnd = hasComma ? after + 1 : lastEnd;
  const lineBreak = text.indexOf('\n', commaEnd);
  const lineEnd = lineBreak < 0 || lineBreak > closing ? -1 : text.charAt(lineBreak - 1) === '\r' ? lineBreak - 1 : lineBreak;
  const rest = lineEnd < 0 ? '' : text.slice(commaEnd, lineEnd);
  // Only white space or a comment that ends on this line may follow: the new lines go after it.
  if (lineEnd < 0 || (rest.includes('/*') && !rest.includes('*/')) || !/^\s*(\/\/.*|\/\*.*\*\/\s*)?$/.test(rest)) return undefined;
  const indent = lineIndent(text, lastProperty.offset);
  const lines = entries.map(([key, value]) => `${indent}${JSON.stringify(key)}: ${formatValue(value, unit, indent, eol)}`).join(`,${eol}`);
  // One edit (inserts at one offset would be ordered by the client): the text it spans, a
  // comment perhaps, is written back unchanged.
  return [{ offset: lastEnd, length: lineEnd - lastEnd, content: `${hasComma ? '' : ','}${text.slice(lastEnd, lineEnd)}${eol}${lines}${hasComma ? ',' : ''}` }];
}
