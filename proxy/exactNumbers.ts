/**
 * A server's numbers that a double cannot hold, relayed to the client as the server wrote them.
 *
 * The relay parses every message into JavaScript values and the client's transport serialises
 * them again, so 12345678901234567890 in a tool's result would reach the client as
 * 12345678901234567000. Such a number is put into the parsed message as a placeholder string,
 * and the transport that writes text to the client puts the number back, as written, in place
 * of the placeholder's JSON. A placeholder holds a random per-session nonce: no server or client
 * can write one, so no other text can be turned into a number.
 *
 * Only a server's numbers are kept so, by the transport that writes to the client: the proxy
 * decides on a client's messages with the values it parsed, so a client's such number is refused
 * instead (stdioFraming.ts, httpFront.ts).
 */
import { randomBytes } from 'node:crypto';
import type { InexactNumber } from './inexactNumbers';
import { isRequestId, objectOrUndefined, type RequestId } from './jsonRpc';

/** How many bytes of numbers one session keeps: beyond it, a message holding more is not relayed. */
const MAX_KEPT_BYTES = 16 * 1024 * 1024;

export class ExactNumbers {
  private readonly prefix = `mcp-policy-exact-number:${randomBytes(16).toString('hex')}:`;
  private readonly prefixBytes = Buffer.from(this.prefix, 'latin1');
  private readonly placeholders = new RegExp(`"${this.prefix}(\\d+)"`, 'g');
  private readonly kept: string[] = [];
  private keptBytes = 0;

  constructor(private readonly maxKeptBytes = MAX_KEPT_BYTES) {}

  /**
   * Puts a placeholder for each number at its place in `message` (parsed from the text the numbers
   * were found in). False, with the message unchanged, when a place does not hold the double of its
   * number (the text and the message disagree) or the session has kept as many numbers as it may.
   */
  substitute(message: object, numbers: readonly InexactNumber[]): boolean {
    const places: Array<{ parent: Record<string | number, unknown>; key: string | number; lexeme: string }> = [];
    let bytes = 0;
    for (const { lexeme, segments } of numbers) {
      const parent = parentAt(message, segments);
      const key = segments[segments.length - 1];
      if (!parent || key === undefined || !Object.hasOwn(parent, key)) return false;
      const value = parent[key];
      if (typeof value !== 'number' || !Object.is(value, Number(lexeme))) return false;
      places.push({ parent, key, lexeme });
      bytes += lexeme.length;
    }
    if (this.keptBytes + bytes > this.maxKeptBytes) return false;
    this.keptBytes += bytes;
    for (const { parent, key, lexeme } of places) {
      // Defined, not assigned: a "__proto__" member is data here, as JSON.parse made it.
      Object.defineProperty(parent, key, { value: `${this.prefix}${this.kept.length}`, writable: true, enumerable: true, configurable: true });
      this.kept.push(lexeme);
    }
    return true;
  }

  /** `text` (JSON written from messages of this session) with each placeholder's JSON replaced by its number. */
  restore(text: string): string {
    if (this.kept.length === 0 || !text.includes(this.prefix)) return text;
    return text.replace(this.placeholders, (placeholder, index: string) => this.kept[Number(index)] ?? placeholder);
  }

  /** A value read from a message of this session: a placeholder's number as written (for the audit log), else the value. */
  original(value: string): string {
    if (!value.startsWith(this.prefix)) return value;
    return this.kept[Number(value.slice(this.prefix.length))] ?? value;
  }

  /** The same for bytes of UTF-8 on their way to the client (an event of an SSE stream). */
  restoreBytes(chunk: Uint8Array): Uint8Array {
    if (this.kept.length === 0 || Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).indexOf(this.prefixBytes) < 0) return chunk;
    return Buffer.from(this.restore(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8')), 'utf8');
  }
}

/**
 * Puts placeholders for a server's such numbers into its message, for `exact` to put back when
 * the client receives it. False (the message unchanged) for numbers in its id (the relay matches
 * ids as values), in an answer the proxy reads itself (a tools/list result: hidden tools, argument
 * schemas) or to no client request (the proxy's own question), or with no `exact` to put them back.
 * `methodOf` names the client request an upstream id was forwarded as.
 */
export function keepServerNumbers(exact: ExactNumbers | undefined, raw: unknown, numbers: readonly InexactNumber[], methodOf: (upstreamId: RequestId) => string | undefined): boolean {
  const message = objectOrUndefined(raw);
  if (!exact || !message || numbers.some((number) => number.segments[0] === 'id' || number.segments.length === 0)) return false;
  if (message.method === undefined) {
    const method = isRequestId(message.id) ? methodOf(message.id) : undefined;
    if (method === undefined || method === 'tools/list') return false;
  }
  return exact.substitute(message, numbers);
}

/** The object or array that holds the last segment's value, or undefined. */
function parentAt(root: object, segments: ReadonlyArray<string | number>): Record<string | number, unknown> | undefined {
  let at: unknown = root;
  for (let index = 0; index < segments.length - 1; index++) {
    if (at === null || typeof at !== 'object') return undefined;
    const segment = segments[index]!;
    if (!Object.hasOwn(at, segment)) return undefined;
    at = (at as Record<string | number, unknown>)[segment];
  }
  return at !== null && typeof at === 'object' ? (at as Record<string | number, unknown>) : undefined;
}
