import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';
import type { TextEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { nestsTooDeep, type JsonPath } from '../core';
import { setValueEdits } from './edits';

/**
 * `mcpPolicy.allowTool` (policy uri, server or null, tool): the Decisions view's "Allow This
 * Tool". The server computes the edit so that it lands in the right section with the file's
 * own formatting, and asks the client to apply it (workspace/applyEdit).
 */
export const ALLOW_TOOL_COMMAND = 'mcpPolicy.allowTool';

export interface AllowToolArguments {
  uri: string;
  server: string | undefined;
  tool: string;
}

/** Reads `[uri, server?, tool]` or `[{ uri, server?, tool }]`; undefined when they are not that. */
export function parseAllowToolArguments(args: readonly unknown[] | undefined): AllowToolArguments | undefined {
  const [first, second, third] = args ?? [];
  if (first !== null && typeof first === 'object') {
    const { uri, server, tool } = first as Record<string, unknown>;
    if (typeof uri === 'string' && typeof tool === 'string' && tool.length > 0 && (server === undefined || server === null || typeof server === 'string')) {
      return { uri, server: typeof server === 'string' && server.length > 0 ? server : undefined, tool };
    }
    return undefined;
  }
  if (typeof first !== 'string' || typeof third !== 'string' || third.length === 0) return undefined;
  if (second !== undefined && second !== null && typeof second !== 'string') return undefined;
  return { uri: first, server: typeof second === 'string' && second.length > 0 ? second : undefined, tool: third };
}

/**
 * An existing rule for the tool loses a `deny`/`approve` action and the reason that went with
 * it (it keeps its limits and checks); otherwise `"tool": {}` is added to `servers.S.tools`
 * or `tools`.
 */
export function allowToolEdits(document: TextDocument, server: string | undefined, tool: string): TextEdit[] {
  const text = document.getText();
  const path: JsonPath = server !== undefined ? ['servers', server, 'tools', tool] : ['tools', tool];
  if (nestsTooDeep(text)) return [];
  const root = parseTree(text, [], { allowTrailingComma: true });
  const existing = root && findNodeAtLocation(root, [...path]);
  if (existing?.type === 'object') {
    const action = findNodeAtLocation(existing, ['action']);
    if (!action?.parent || action.value === 'allow') return [];
    // A deny or approve reason would now explain allowed calls: it goes with the action. One
    // removal at a time, so the two never overlap on the comma between them.
    let rule = text.slice(existing.offset, existing.offset + existing.length);
    for (const key of ['action', 'reason']) {
      const tree = parseTree(rule);
      const property = tree && findNodeAtLocation(tree, [key])?.parent;
      if (!property) continue;
      const { start, end } = propertyRemoval(rule, property);
      rule = rule.slice(0, start) + rule.slice(end);
    }
    if (/^\{\s*\}$/.test(rule)) rule = '{}';
    return [{ range: { start: document.positionAt(existing.offset), end: document.positionAt(existing.offset + existing.length) }, newText: rule }];
  }
  return setValueEdits(document, path, {}, text);
}

/**
 * What removing a property takes: it and the comma that separates it, and its line when
 * nothing else is on it. Comments around it stay where they are.
 */
function propertyRemoval(text: string, property: Node): { start: number; end: number } {
  const siblings = property.parent?.children ?? [];
  const index = siblings.indexOf(property);
  const next = siblings[index + 1];
  const previous = siblings[index - 1];
  let start = property.offset;
  let end = property.offset + property.length;
  if (next) {
    // Its own comma, and the spaces after it on the line.
    let at = end;
    while (/[ \t]/.test(text.charAt(at))) at++;
    if (text.charAt(at) === ',') at++;
    while (/[ \t]/.test(text.charAt(at))) at++;
    end = at;
  } else if (previous) {
    // The last property: the comma before it goes, from just after the previous value.
    const comma = text.lastIndexOf(',', property.offset);
    if (comma >= previous.offset + previous.length) start = comma;
  }
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const lineBreak = text.indexOf('\n', end);
  if (lineBreak >= 0 && text.slice(lineStart, start).trim() === '' && text.slice(end, lineBreak).trim() === '') return { start: lineStart, end: lineBreak + 1 };
  return { start, end };
}
