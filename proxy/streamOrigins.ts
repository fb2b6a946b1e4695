/**
 * Which request's response stream a server message came on. The SDK's client transport parses
 * each stream itself and hands every message to one `onmessage`, saying nothing of its stream.
 * The fetch watch parses the same SSE events as the bytes pass by (always before the transport
 * sees them) and notes each server request and notification here under its content; the link
 * looks the delivered message up by the same content. Answers are not noted: they name their
 * request already. Messages from the standalone GET stream are not noted, so they have none.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { objectOrUndefined, type JSONRPCMessage, type RequestId } from './jsonRpc';

/** Noted messages the transport never delivered (it rejects invalid ones) are forgotten past this. */
const MAX_NOTED = 1000;

/** JSON with object keys sorted: the transport's schema parse may reorder keys, never values. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const object = objectOrUndefined(value);
  if (object) {
    const entries = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function hasMethod(value: unknown): boolean {
  return typeof objectOrUndefined(value)?.method === 'string';
}

export class StreamOrigins {
  /** Content → the requests whose streams carried it, oldest first (identical messages happen). */
  private readonly noted = new Map<string, RequestId[]>();
  private count = 0;

  /** A parser for one POST's SSE response body; feed it the decoded text as it passes. */
  streamParser(requestId: RequestId): { feed: (text: string) => void } {
    return createParser({ onEvent: (event) => this.noteEvent(event, requestId) });
  }

  private noteEvent(event: EventSourceMessage, requestId: RequestId): void {
    if (!event.data || (event.event !== undefined && event.event !== 'message')) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!hasMethod(parsed)) return;
    const key = canonicalJson(parsed);
    const list = this.noted.get(key);
    if (list) list.push(requestId);
    else this.noted.set(key, [requestId]);
    if (++this.count > MAX_NOTED) this.forgetOldest();
  }

  private forgetOldest(): void {
    const [key, list] = this.noted.entries().next().value ?? [];
    if (key === undefined || !list) return;
    list.shift();
    this.count--;
    if (list.length === 0) this.noted.delete(key);
  }

  /** The request whose stream carried this message, if a response stream did. */
  take(message: JSONRPCMessage): RequestId | undefined {
    if (this.count === 0 || !hasMethod(message)) return undefined;
    const key = canonicalJson(message);
    const list = this.noted.get(key);
    if (!list) return undefined;
    const requestId = list.shift();
    this.count--;
    if (list.length === 0) this.noted.delete(key);
    return requestId;
  }
}
