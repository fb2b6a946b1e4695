import type { Location, Range, TextEdit, WorkspaceEdit } from 'vscode-languageserver/node';
import { samePath } from './policyPaths';
import type { PolicyContext } from './documents';
import { counterEntries, pathAt } from './policyLocations';

/**
 * Named counters are budgets shared by every limit that names them: references and rename
 * go through all of them at once, so renaming one never splits a budget in two by accident.
 */
function counterAt(context: PolicyContext, offset: number): { name: string; ranges: Range[] } | undefined {
  const at = pathAt(context.json, offset);
  if (!at || at.onKey) return undefined;
  const entries = counterEntries(context.json.value);
  const here = entries.find((entry) => samePath(entry.path, at.path));
  if (!here) return undefined;
  const ranges = entries.filter((entry) => entry.name === here.name).map((entry) => rangeOfValue(context, entry.path));
  return { name: here.name, ranges };
}

function rangeOfValue(context: PolicyContext, path: readonly (string | number)[]): Range {
  const range = context.json.rangeOf(path);
  return { start: context.textDocument.positionAt(range.offset), end: context.textDocument.positionAt(range.offset + range.length) };
}

export function counterReferences(context: PolicyContext, offset: number): Location[] {
  return counterAt(context, offset)?.ranges.map((range) => ({ uri: context.uri, range })) ?? [];
}

/** The counter's name without its quotes, for the editor's rename box. */
export function prepareCounterRename(context: PolicyContext, offset: number): { range: Range; placeholder: string } | undefined {
  const found = counterAt(context, offset);
  const at = pathAt(context.json, offset);
  if (!found || !at) return undefined;
  const range = context.json.rangeOf(at.path);
  return {
    range: { start: context.textDocument.positionAt(range.offset + 1), end: context.textDocument.positionAt(range.offset + range.length - 1) },
    placeholder: found.name,
  };
}

export function renameCounter(context: PolicyContext, offset: number, newName: string): WorkspaceEdit | undefined {
  const found = counterAt(context, offset);
  if (!found || newName.length === 0) return undefined;
  const edits: TextEdit[] = found.ranges.map((range) => ({ range, newText: JSON.stringify(newName) }));
  return { changes: { [context.uri]: edits } };
}
