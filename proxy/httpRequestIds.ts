/**
 * The request ids a client has in flight on one HTTP session. The SDK's server transport routes
 * an answer to the POST that carried its id, so a second request with an id still in flight
 * would take over the first one's answer. Such a POST is refused before the transport sees it.
 */
import { isRequest, isResponse, objectOrUndefined, type JSONRPCMessage, type RequestId } from './jsonRpc';

export function requestKey(id: RequestId): string {
  return typeof id === 'number' ? `n${id}` : `s${id}`;
}

export class HttpRequestIds {
  private readonly inFlight = new Set<string>();

  /** The first id of the body that is already in flight (or repeated within the batch); undefined = none, and its ids are now in flight. */
  admit(body: unknown): RequestId | undefined {
    const messages = (Array.isArray(body) ? body : [body]) as JSONRPCMessage[];
    const ids: string[] = [];
    for (const message of messages) {
      if (objectOrUndefined(message) === undefined) continue;
      if (isRequest(message)) {
        const id = requestKey(message.id);
        if (this.inFlight.has(id) || ids.includes(id)) return message.id;
        ids.push(id);
      } else if ((message as { method?: unknown }).method === 'notifications/cancelled') {
        // A cancelled request gets no answer: its id is free again.
        const requestId = objectOrUndefined((message as { params?: unknown }).params)?.requestId;
        if (typeof requestId === 'string' || typeof requestId === 'number') this.inFlight.delete(requestKey(requestId));
      }
    }
    for (const id of ids) this.inFlight.add(id);
    return undefined;
  }

  /** The transport refused the whole POST (wrong headers, bad JSON-RPC): none of it is in flight. */
  release(body: unknown): void {
    for (const message of (Array.isArray(body) ? body : [body]) as JSONRPCMessage[]) {
      if (objectOrUndefined(message) !== undefined && isRequest(message)) this.inFlight.delete(requestKey(message.id));
    }
  }

  /** An answer went out: its id is free again. */
  answered(message: JSONRPCMessage): void {
    if (isResponse(message)) this.inFlight.delete(requestKey(message.id));
  }
}
