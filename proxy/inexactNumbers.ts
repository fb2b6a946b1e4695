/**
 * Numbers the relay cannot carry unchanged. The relay parses every message (JSON.parse: IEEE 754
 * doubles) and sends it on re-serialised, so that a server sees exactly what the policy decided
 * on. A number a double cannot hold would reach the server altered: the integer
 * 12345678901234567890 as 12345678901234567000 (a 64-bit record id turned into another record's),
 * 1e400 as null. Such a message is refused instead, naming the number and where it is; I-JSON
 * (RFC 7493) asks senders not to use such numbers, and a string carries them exactly.
 *
 * Decimals a double only approximates (0.1, 3.14159265358979323846, 1e-400) are not refused:
 * every parser that reads such numbers as doubles (JavaScript, Python's json, Go) reads them as
 * the proxy does, so the server reads the re-serialised number as it would have read the original.
 */
import { isInexact, MAYBE_INEXACT } from '../core/inexactNumbers';
import { formatJsonPath } from '../core/jsonPath';

export interface InexactNumber {
  /** The number as it was written. */
  lexeme: string;
  /** Where it is in the message, e.g. `params.arguments.contactId`. */
  path: string;
}

/** The first number in `text` (a JSON text JSON.parse accepted) that a double cannot hold. */
export function inexactNumber(text: string): InexactNumber | undefined {
  // One regular-expression test on the common path: most messages hold no long number.
  if (!MAYBE_INEXACT.test(text)) return undefined;
  return scan(text);
}

interface Frame {
  array: boolean;
  /** Arrays: the index of the current element. */
  index: number;
  /** Objects: the current member's key, once read. */
  key: string | undefined;
  /** Objects: the next string is a key. */
  expectKey: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function scan(text: string): InexactNumber | undefined {
  const stack: Frame[] = [];
  let at = 0;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      const end = stringEnd(text, at);
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        top.key = JSON.parse(text.slice(at, end)) as string;
        top.expectKey = false;
      }
      at = end;
    } else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      let end = at + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      const lexeme = text.slice(at, end);
      if (isInexact(lexeme)) return { lexeme, path: pathOf(stack) };
      at = end;
    } else {
      if (code === 0x7b) stack.push({ array: false, index: 0, key: undefined, expectKey: true });
      else if (code === 0x5b) stack.push({ array: true, index: 0, key: undefined, expectKey: false });
      else if (code === 0x7d || code === 0x5d) stack.pop();
      else if (code === 0x2c) {
        const top = stack[stack.length - 1];
        if (top?.array) top.index++;
        else if (top) top.expectKey = true;
      }
      at++;
    }
  }
  return undefined;
}

/** The index just past the closing quote of the string that starts at `start`. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    const code = text.charCodeAt(at);
    if (code === BACKSLASH) at += 2;
    else if (code === QUOTE || Number.isNaN(code)) return at + 1;
    else at++;
  }
}

function isNumberChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || code === 0x2e || code === 0x65 || code === 0x45 || code === 0x2b || code === 0x2d;
}

function pathOf(stack: readonly Frame[]): string {
  const segments: Array<string | number> = [];
  for (const frame of stack) segments.push(frame.array ? frame.index : (frame.key ?? ''));
  return formatJsonPath(segments) || '(the whole message)';
}

/** The number and where it is, e.g. "the number 12345678901234567890 at params.arguments.id". */
export function describeInexact(found: InexactNumber): string {
  const shown = found.lexeme.length > 40 ? `${found.lexeme.slice(0, 40)}…` : found.lexeme;
  return `the number ${shown} at ${found.path}, which an IEEE 754 double does not hold exactly (safe: integers up to 9007199254740991, magnitudes up to about 1.8e308)`;
}

/** The refusal's text, for a client that sent such a number. */
export function inexactProblem(found: InexactNumber): string {
  return `${describeInexact(found)}, cannot be relayed unchanged; send it as a string`;
}

/** Messages parsed from a text that held such a number, with the number: see noteInexact. */
const inexactMessages = new WeakMap<object, InexactNumber>();

/**
 * For the upstream side, where the relay, not the transport, decides what to answer: the
 * transport that parsed `text` into `value` notes what the text held that the value does not.
 */
export function noteInexact(value: unknown, text: string): void {
  if (value === null || typeof value !== 'object') return;
  const found = inexactNumber(text);
  if (!found) return;
  // A batch's messages all carry the body's first such number: all are refused.
  for (const message of Array.isArray(value) ? [value, ...(value as unknown[])] : [value]) if (message !== null && typeof message === 'object') inexactMessages.set(message, found);
}

/** The number noted for a parsed message, if its text held one the message does not. */
export function inexactIn(value: unknown): InexactNumber | undefined {
  return value !== null && typeof value === 'object' ? inexactMessages.get(value) : undefined;
}
