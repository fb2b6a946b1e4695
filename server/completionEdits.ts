import { createScanner, SyntaxKind, type Node } from 'jsonc-parser';
import type { CompletionItem, InsertReplaceEdit, Range, TextEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';

/** What the client declared it can do with a completion item. */
export interface CompletionSettings {
  /** The client expands `${1|a,b|}` placeholders. */
  snippets: boolean;
  /** The client takes an InsertReplaceEdit (insert up to the cursor, or replace the whole word). */
  insertReplace: boolean;
}

/** What the cursor is on: the text it replaces, and what was typed of it so far. */
export interface Token {
  /** The whole token, quotes included. */
  start: number;
  end: number;
  /** Between the quotes of a quoted token (to the end of the word when it is not closed); the whole token otherwise. */
  innerStart: number;
  innerEnd: number;
  typed: string;
  quoted: boolean;
  /** Quoted, and its closing quote is there. */
  closed: boolean;
}

const WORD_STOP = /[\s{}[\],:"]/;

function wordEnd(text: string, from: number): number {
  let end = from;
  while (end < text.length && !WORD_STOP.test(text.charAt(end))) end++;
  return end;
}

export function tokenAt(text: string, offset: number, previous: Node | undefined): Token {
  if (previous && (previous.type === 'string' || previous.type === 'property') && previous.offset < offset && offset <= previous.offset + previous.length) {
    const last = previous.offset + previous.length - 1;
    const closed = previous.length >= 2 && text.charAt(last) === '"' && offset <= last;
    // An unclosed string runs to the end of the line for the scanner: it ends where the word does,
    // so that ` } }` after the cursor is not replaced.
    const innerEnd = closed ? last : wordEnd(text, offset);
    return { start: previous.offset, end: closed ? last + 1 : innerEnd, innerStart: previous.offset + 1, innerEnd, typed: text.slice(previous.offset + 1, offset), quoted: true, closed };
  }
  // Half typed without quotes: the scanner does not see a string, so find the word by hand.
  let start = offset;
  while (start > 0 && !WORD_STOP.test(text.charAt(start - 1))) start--;
  const end = wordEnd(text, offset);
  return { start, end, innerStart: start, innerEnd: end, typed: text.slice(start, offset), quoted: false, closed: false };
}

export function nextSignificant(text: string, from: number): string {
  for (let at = from; at < text.length; at++) {
    const char = text.charAt(at);
    if (!/\s/.test(char)) return char;
  }
  return '';
}

/** Offset just after a value that ends right before `at` (whitespace apart), or -1: a comma is missing there. */
export function valueEndBefore(text: string, at: number): number {
  let index = at - 1;
  while (index >= 0 && /\s/.test(text.charAt(index))) index--;
  return index >= 0 && /["}\]0-9a-z]/.test(text.charAt(index)) ? index + 1 : -1;
}

/** True inside a `//` or `/* *\/` comment: nothing there is policy. */
export function inComment(text: string, offset: number): boolean {
  const scanner = createScanner(text, false);
  for (let kind = scanner.scan(); kind !== SyntaxKind.EOF; kind = scanner.scan()) {
    const start = scanner.getTokenOffset();
    if (start >= offset) return false;
    const end = start + scanner.getTokenLength();
    if (kind === SyntaxKind.LineCommentTrivia && offset >= start + 2 && offset <= end) return true;
    if (kind === SyntaxKind.BlockCommentTrivia) {
      const terminated = end - start >= 4 && text.startsWith('*/', end - 2);
      if (offset >= start + 2 && (!terminated || offset <= end - 2)) return true;
    }
  }
  return false;
}

/** The parts of a completion item that say what it writes. */
export type ItemEdit = Pick<CompletionItem, 'textEdit' | 'filterText' | 'additionalTextEdits'>;

export interface EditRequest {
  document: TextDocument;
  offset: number;
  token: Token;
  settings: CompletionSettings;
}

/**
 * A string written into the token under the cursor: `name` is the string's content, `after`
 * what follows its closing quote (`: {}`, `,`), `snippet` whether `after` holds placeholders.
 *
 * Inside quotes the edit replaces only the content, so the item's text starts with what was
 * typed: clients that filter on the inserted text or insert at the word start (Neovim's
 * built-in completion) then see `allow`, not `"allow"`, and never double a quote.
 */
export function stringEdit(request: EditRequest, name: string, after: string, snippet: boolean): ItemEdit & { snippet: boolean } {
  const { token } = request;
  const content = JSON.stringify(name).slice(1, -1);
  const literal = (text: string): string => (snippet ? text.replace(/[$}\\]/g, '\\$&') : text);
  if (!token.quoted) {
    return { ...rangeEdit(request, token.start, token.end, `${literal(JSON.stringify(name))}${after}`), filterText: name, snippet: snippet && after !== '' };
  }
  if (!token.closed) return { ...rangeEdit(request, token.innerStart, token.innerEnd, `${literal(content)}"${after}`), filterText: content, snippet: snippet && after !== '' };
  if (after === '') return { ...rangeEdit(request, token.innerStart, token.innerEnd, content), filterText: content, snippet: false };
  if (snippet) {
    // Placeholders cannot go into additionalTextEdits: replace the whole token, quotes and all.
    return { ...rangeEdit(request, token.start, token.end, `${literal(JSON.stringify(name))}${after}`), filterText: JSON.stringify(name), snippet: true };
  }
  const at = request.document.positionAt(token.end);
  return { ...rangeEdit(request, token.innerStart, token.innerEnd, content), filterText: content, additionalTextEdits: [{ range: { start: at, end: at }, newText: after }], snippet: false };
}

/** Any other text (an object, a number, a snippet) in place of the whole token. */
export function tokenEdit(request: EditRequest, newText: string, filterText?: string): ItemEdit {
  return { ...rangeEdit(request, request.token.start, request.token.end, newText), ...(filterText !== undefined ? { filterText } : {}) };
}

function rangeEdit(request: EditRequest, start: number, end: number, newText: string): ItemEdit {
  const document = request.document;
  const replace: Range = { start: document.positionAt(start), end: document.positionAt(end) };
  const cursor = Math.max(start, Math.min(request.offset, end));
  if (request.settings.insertReplace && end > cursor) {
    const edit: InsertReplaceEdit = { newText, insert: { start: replace.start, end: document.positionAt(cursor) }, replace };
    return { textEdit: edit };
  }
  const edit: TextEdit = { range: replace, newText };
  return { textEdit: edit };
}
