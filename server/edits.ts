import type { Edit } from 'jsonc-parser';
import type { TextEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { addPropertiesJsonEdits, setValueJsonEdits, type JsonPath } from '../core';

export { inferFormatting } from '../core';

function toTextEdits(document: TextDocument, edits: readonly Edit[]): TextEdit[] {
  return edits.map((edit) => ({
    range: { start: document.positionAt(edit.offset), end: document.positionAt(edit.offset + edit.length) },
    newText: edit.content,
  }));
}

/** A minimal edit that sets (or, with undefined, removes) the value at path (see core/jsonEdits.ts). */
export function setValueEdits(document: TextDocument, path: JsonPath, value: unknown, text = document.getText()): TextEdit[] {
  return toTextEdits(document, setValueJsonEdits(text, path, value));
}

/** Several new properties of one object in one edit (quick fixes for many tools at once). */
export function addPropertiesEdits(document: TextDocument, objectPath: JsonPath, entries: ReadonlyArray<readonly [string, unknown]>, text = document.getText()): TextEdit[] {
  return toTextEdits(document, addPropertiesJsonEdits(text, objectPath, entries));
}
