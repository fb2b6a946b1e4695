import { modify, type FormattingOptions as JsonFormatting } from 'jsonc-parser';
import type { TextEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { JsonPath } from '../core';

/** The document's own indentation and line ends, so that inserted JSON looks like its neighbours. */
export function inferFormatting(text: string): JsonFormatting {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)\S/m.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 4, eol };
  return { insertSpaces: true, tabSize: indent ? Math.min(indent.length, 8) : 2, eol };
}

/** jsonc-parser's minimal edit that sets (or, with undefined, removes) the value at path. */
export function setValueEdits(document: TextDocument, path: JsonPath, value: unknown, text = document.getText()): TextEdit[] {
  // A removal needs no formatting, and jsonc-parser would reformat the whole line around it.
  const edits = modify(text, [...path], value, value === undefined ? {} : { formattingOptions: inferFormatting(text) });
  return edits.map((edit) => ({
    range: { start: document.positionAt(edit.offset), end: document.positionAt(edit.offset + edit.length) },
    newText: edit.content,
  }));
}
