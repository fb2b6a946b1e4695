/**
 * Numbers the relay cannot carry unchanged. The relay parses every message (JSON.parse: IEEE 754
 * doubles) and sends it on re-serialised, so that a server sees exactly what the policy decided
 * on. A number a double cannot hold would reach the server altered: the integer
 * 12345678901234567890 as 12345678901234567000 (a 64-bit record id turned into another record's),
 * 1e400 as null. A client's such message is refused instead, naming the number and where it is
 * (I-JSON, RFC 7493, asks senders not to use such numbers, and a string carries them exactly); a
 * server's such numbers are found here and put back as written by exactNumbers.ts.
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
  /** The same place as keys and indexes, from the top of the text. */
  segments: Array<string | number>;
}

/** The first number in `text` (a JSON text JSON.parse accepted) that a double cannot hold. */
export function inexactNumber(text: string): InexactNumber | undefined {
  // One regular-expression test on the common path: most messages hold no long number.
  if (!MAYBE_INEXACT.test(text)) return undefined;
  return scan(text, true)[0];
}

/**
 * Every such number in `text` whose value JSON.parse keeps: of members with the same key in one
 * object only the last is kept (as JSON.parse does), so numbers in the members before it are left out.
 */
export function inexactNumbers(text: string): InexactNumber[] {
  if (!MAYBE_INEXACT.test(text)) return [];
  return scan(text, false);
}

interface Frame {
  array: boolean;
  /** Arrays: the index of the current element. */
  index: number;
  /** Objects: the current member's key, once read. */
  key: string | undefined;
  /** Objects: the next string is a key. */
  expectKey: boolean;
  /** Objects: the keys seen so far, to tell a repeated one (kept only when asked for all numbers). */
  keys: Set<string> | undefined;
  /** How many numbers had been found when this object or array opened. */
  foundBefore: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function scan(text: string, firstOnly: boolean): InexactNumber[] {
  const stack: Frame[] = [];
  let found: InexactNumber[] = [];
  let at = 0;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      const end = stringEnd(text, at);
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        const key = JSON.parse(text.slice(at, end)) as string;
        top.key = key;
        top.expectKey = false;
        if (top.keys) {
          // A repeated key: JSON.parse keeps this member's value, not the one found before.
          if (top.keys.has(key)) found = dropUnder(found, top.foundBefore, stack.length - 1, key);
          top.keys.add(key);
        }
      }
      at = end;
    } else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      let end = at + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      const lexeme = text.slice(at, end);
      if (isInexact(lexeme)) {
        found.push(placed(lexeme, segmentsOf(stack)));
        if (firstOnly) return found;
      }
      at = end;
    } else {
      if (code === 0x7b) stack.push({ array: false, index: 0, key: undefined, expectKey: true, keys: firstOnly ? undefined : new Set(), foundBefore: found.length });
      else if (code === 0x5b) stack.push({ array: true, index: 0, key: undefined, expectKey: false, keys: undefined, foundBefore: found.length });
      else if (code === 0x7d || code === 0x5d) stack.pop();
      else if (code === 0x2c) {
        const top = stack[stack.length - 1];
        if (top?.array) top.index++;
        else if (top) top.expectKey = true;
      }
      at++;
    }
  }
  return found;
}

/** `found` without the numbers found since `from` under member `key` of the object at `depth`. */
function dropUnder(found: InexactNumber[], from: number, depth: number, key: string): InexactNumber[] {
  return found.filter((number, index) => index < from || number.segments[depth] !== key);
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

function segmentsOf(stack: readonly Frame[]): Array<string | number> {
  const segments: Array<string | number> = [];
  for (const frame of stack) segments.push(frame.array ? frame.index : (frame.key ?? ''));
  return segments;
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

/** Messages parsed from a text that held such numbers, with the numbers: see noteInexact. */
const inexactMessages = new WeakMap<object, InexactNumber[]>();

/**
 * For the upstream side, where the relay, not the transport, decides what to do with them: the
 * transport that parsed `text` into `value` notes the numbers the text held that the value does
 * not, with their places in each message (a batch's places start inside its messages).
 */
export function noteInexact(value: unknown, text: string): void {
  if (value === null || typeof value !== 'object') return;
  const found = inexactNumbers(text);
  if (found.length === 0) return;
  if (!Array.isArray(value)) return void inexactMessages.set(value, found);
  inexactMessages.set(value, found);
  value.forEach((message: unknown, index) => {
    if (message === null || typeof message !== 'object') return;
    const inside = found.filter((number) => number.segments[0] === index).map((number) => placed(number.lexeme, number.segments.slice(1)));
    if (inside.length > 0) inexactMessages.set(message, inside);
  });
}

function placed(lexeme: string, segments: Array<string | number>): InexactNumber {
  return { lexeme, path: formatJsonPath(segments) || '(the whole message)', segments };
}

/** The numbers noted for a parsed message, if its text held any the message does not. */
export function inexactIn(value: unknown): readonly InexactNumber[] | undefined {
  return value !== null && typeof value === 'object' ? inexactMessages.get(value) : undefined;
}
