/**
 * Newline-delimited JSON-RPC for the proxy's stdio side: bytes → lines (with a cap per line),
 * and a line → one message for the relay, or the error to answer it with.
 *
 * Checked by hand, at the JSON-RPC level only: the relay forwards messages as they are and
 * decides on each one itself, so what the SDK's zod schemas would add (strict members, `_meta`
 * shapes, object params and results) is left to the upstream, which sees the same message a
 * direct client would send. Ids follow MCP: a string or an integer, never null.
 */
import { STDIO_DEFAULT_MAX_BUFFER_SIZE } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { inexactNumber, inexactProblem } from './inexactNumbers';
import { classify, errorMessage, INVALID_PARAMS, INVALID_REQUEST, isRequestId, objectOrUndefined, PARSE_ERROR, type JSONRPCMessage, type RequestId } from './jsonRpc';

/**
 * The longest line read from the client, in bytes (newline excluded): the SDK's own stdio read
 * limit (10 MiB in 1.32). A longer line would make an SDK upstream stop reading and drop the
 * connection (seen with server-everything: every call in flight fails and the server restarts),
 * and the upstream's answers are read with the same limit; so such a line is refused here, with
 * an answer, and the session goes on. A bound is needed anyway: a line is held whole until its
 * newline arrives.
 */
export const MAX_LINE_BYTES = STDIO_DEFAULT_MAX_BUFFER_SIZE;

/** How much of the start and end of an oversized line is kept, to find its id. */
const KEPT_BYTES = 512;


export interface OversizedLine {
  bytes: number;
  /** The first and last bytes of the line, decoded: enough to recover a request's id. */
  head: string;
  tail: string;
}

export interface LineSink {
  line(text: string): void;
  oversized(line: OversizedLine): void;
}

const NEWLINE = 0x0a;

/**
 * Splits a byte stream at "\n" (a "\r" before it is dropped, as the SDK does). Lines are decoded
 * as UTF-8 only when whole, so characters split across chunks survive. A line over the cap is
 * not held: its bytes are counted and dropped until its newline, keeping only its two ends.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding: { bytes: number; head: Buffer; tail: Buffer } | undefined;

  constructor(
    private readonly sink: LineSink,
    private readonly maxBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline < 0) {
        this.hold(chunk.subarray(start));
        return;
      }
      this.finish(chunk, start, newline);
      start = newline + 1;
    }
  }

  /** Bytes after the last newline: the start (or more) of a line still arriving. */
  private hold(piece: Buffer): void {
    if (this.discarding) return this.discard(piece);
    if (this.size + piece.length > this.maxBytes) {
      this.startDiscarding(piece);
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
  }

  private finish(chunk: Buffer, start: number, end: number): void {
    if (!this.discarding && this.size + (end - start) > this.maxBytes) this.startDiscarding(chunk.subarray(start, end));
    else if (this.discarding) this.discard(chunk.subarray(start, end));
    const dropped = this.discarding;
    if (dropped) {
      this.discarding = undefined;
      this.sink.oversized({ bytes: dropped.bytes, head: dropped.head.toString('utf8'), tail: dropped.tail.toString('utf8').replace(/\r$/, '') });
      return;
    }
    let text: string;
    if (this.parts.length === 0) text = chunk.toString('utf8', start, end);
    else {
      this.parts.push(chunk.subarray(start, end));
      text = Buffer.concat(this.parts, this.size + (end - start)).toString('utf8');
      this.parts = [];
      this.size = 0;
    }
    this.sink.line(text.endsWith('\r') ? text.slice(0, -1) : text);
  }

  private startDiscarding(piece: Buffer): void {
    const pieces = [...this.parts, piece];
    // Copies (concat always copies), so the chunks they came from can be freed.
    this.discarding = { bytes: this.size + piece.length, head: Buffer.concat(firstBytes(pieces)).subarray(0, KEPT_BYTES), tail: Buffer.concat(firstBytes([...pieces].reverse()).reverse()).subarray(-KEPT_BYTES) };
    this.parts = [];
    this.size = 0;
  }

  private discard(piece: Buffer): void {
    const dropped = this.discarding!;
    dropped.bytes += piece.length;
    dropped.tail = piece.length >= KEPT_BYTES ? Buffer.from(piece.subarray(-KEPT_BYTES)) : Buffer.concat([dropped.tail, piece]).subarray(-KEPT_BYTES);
  }
}

/** The leading pieces that together hold at least KEPT_BYTES. */
function firstBytes(pieces: Buffer[]): Buffer[] {
  const taken: Buffer[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (length >= KEPT_BYTES) break;
    taken.push(piece);
    length += piece.length;
  }
  return taken;
}

/** What one line amounts to: a message for the relay, an error to answer, or nothing (a blank line). */
export type LineOutcome = { message: JSONRPCMessage } | { reply: JSONRPCMessage[]; problem: string; refused?: unknown } | undefined;

function refusal(code: number, id: RequestId | null, problem: string): { reply: JSONRPCMessage[]; problem: string } {
  return { reply: [errorMessage(id as RequestId, code, `mcp-policy: ${problem}`)], problem };
}

/**
 * Why `value` is not a JSON-RPC 2.0 message, or undefined when it is one: the relay's own
 * classification, except that an error answer with no id or id null passes (answering it would invite
 * the peer to answer back, forever); the relay drops it.
 */
export function shapeProblem(value: unknown): string | undefined {
  const message = objectOrUndefined(value);
  if (message && (message.id === null || !('id' in message)) && !('method' in message) && !('result' in message) && 'error' in message) return undefined;
  const classified = classify(value);
  return classified.kind === 'invalid' ? classified.why : undefined;
}

/** The id to answer a refused message with: a request's own, else null (JSON-RPC's "could not tell"). */
function replyId(value: unknown): RequestId | null {
  const message = objectOrUndefined(value);
  return message && typeof message.method === 'string' && isRequestId(message.id) ? message.id : null;
}

/** `where` names the line for the client, e.g. "stdin line 12". */
export function readLine(text: string, where: string): LineOutcome {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return refusal(PARSE_ERROR, null, `${where} is not JSON (${(error as Error).message})`);
  }
  if (Array.isArray(value)) {
    // MCP 2025-06-18 removed JSON-RPC batches and the SDK refuses them: each request in one gets
    // its error, so a client that sent one is not left waiting.
    const problem = `${where} is a JSON-RPC batch; batches are not supported (MCP 2025-06-18 removed them), send one message per line`;
    const ids = value.map(replyId).filter((id): id is RequestId => id !== null);
    if (ids.length === 0) return { ...refusal(INVALID_REQUEST, null, problem), refused: value };
    return { reply: ids.map((id) => errorMessage(id, INVALID_REQUEST, `mcp-policy: ${problem}`)), problem, refused: value };
  }
  const inexact = inexactNumber(text);
  if (inexact) {
    // An id that is itself such a number cannot be given back as it was sent: null says so.
    const id = inexact.path === 'id' ? null : replyId(value);
    return { ...refusal(inexact.path.startsWith('params') ? INVALID_PARAMS : INVALID_REQUEST, id, `${where}: ${inexactProblem(inexact)}`), refused: value };
  }
  const problem = shapeProblem(value);
  if (problem) return { ...refusal(INVALID_REQUEST, replyId(value), `${where}: ${problem}`), refused: value };
  return { message: value as JSONRPCMessage };
}

const HEAD_MEMBER = /\s*"([^"\\]*)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+|true|false|null)\s*,/y;
const TAIL_ID = /[{,]\s*"id"\s*:\s*(-?\d+|"[^"\\]*")\s*\}\s*$/;

/**
 * The id of an oversized request, when its ends show one: members with plain values at the start
 * (`{"jsonrpc":"2.0","id":7,"method":...`) or `"id"` as the last member (the SDK's order, after
 * `params`). Only a line whose start shows "method" is a request: a client's oversized answer to
 * a server's request is not the client's to be answered.
 */
export function oversizedReplyId(line: OversizedLine): RequestId | null {
  const head = line.head.trimStart();
  if (!head.startsWith('{')) return null;
  const members = new Map<string, string>();
  HEAD_MEMBER.lastIndex = 1;
  for (let match = HEAD_MEMBER.exec(head); match; match = HEAD_MEMBER.exec(head)) members.set(match[1]!, match[2]!);
  const method = members.get('method');
  if (method === undefined || !method.startsWith('"')) return null;
  const raw = members.get('id') ?? TAIL_ID.exec(line.tail)?.[1];
  if (raw === undefined) return null;
  const id: unknown = JSON.parse(raw);
  return isRequestId(id) ? id : null;
}

export function oversizedReply(line: OversizedLine, where: string, maxBytes = MAX_LINE_BYTES): { reply: JSONRPCMessage[]; problem: string } {
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return refusal(INVALID_REQUEST, oversizedReplyId(line), `${where} is ${mib(line.bytes)}, over the ${mib(maxBytes)} a message may have; it was dropped unread`);
}
