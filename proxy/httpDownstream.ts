/**
 * The downstream side of one HTTP MCP session: the SDK's Streamable HTTP server transport (its
 * web-standard core; Node's http objects are converted in webExchange.ts), a POST carrying one
 * request answered as JSON when its answer is the only message for it (heldPost.ts), plus a
 * small buffer so server-initiated messages sent before the client opened its GET stream
 * (tools/list_changed right after initialize) are delivered instead of dropped.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ExactNumbers } from './exactNumbers';
import { HeldPost } from './heldPost';
import { HttpRequestIds, requestKey } from './httpRequestIds';
import { SessionEventStore } from './sessionEventStore';
import { INVALID_REQUEST, isRequest, isResponse, objectOrUndefined, type JSONRPCMessage, type RequestId } from './jsonRpc';
import { isEventStream, toWebRequest, writeWebResponse } from './webExchange';

/** Why a POST's body is answered with an error and not relayed (see inexactNumbers.ts). */
export interface BodyRefusal {
  code: number;
  /** What is wrong, for the client's error (after "mcp-policy: ") and the audit log. */
  problem: string;
  id: RequestId | null;
}

const MAX_BUFFERED = 1000;
/** handleRequest registers the GET stream a few ticks after it is called. */
const GET_STREAM_SETTLE_MS = 20;

export class HttpDownstream implements Transport {
  readonly inner: WebStandardStreamableHTTPServerTransport;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** A message refused before the relay saw it (its id was in flight): the relay audits refused calls. */
  onrefused?: (message: unknown, reason: string) => void;
  /** A server's numbers a double cannot hold, written back as the server wrote them (all the client's text goes through it). */
  readonly exactNumbers = new ExactNumbers();
  private standaloneOpen = false;
  private readonly closeListeners: Array<() => void> = [];
  private buffered: JSONRPCMessage[] = [];
  private readonly requestIds = new HttpRequestIds();
  /** POSTs of one request whose answer has not gone out yet, by request id. */
  private readonly held = new Map<string, HeldPost>();

  /** `accepted` runs once the SDK has accepted the initialize, before the relay hears of it. */
  constructor(
    readonly sessionId: string,
    accepted?: () => void,
  ) {
    this.inner = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      // Streams carry event ids, so a client whose stream broke resumes it without losing answers.
      eventStore: new SessionEventStore(),
      ...(accepted ? { onsessioninitialized: () => accepted() } : {}),
    });
    this.inner.onclose = () => {
      // The transport ended every stream; a POST still held gets its (ended) stream.
      for (const post of [...this.held.values()]) post.openStream();
      this.onclose?.();
      for (const listener of this.closeListeners) listener();
    };
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onmessage = (message) => {
      // A request opens a stream the buffered messages can ride on.
      if (this.buffered.length > 0 && isRequest(message)) {
        this.streamFor(message.id);
        this.flush({ relatedRequestId: message.id });
      }
      this.onmessage?.(message);
    };
  }

  /** For the listener's bookkeeping; `onclose` belongs to the relay. */
  onclosed(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  async handleRequest(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (req.method === 'POST') {
      const reused = this.requestIds.admit(body);
      if (reused !== undefined) {
        for (const message of Array.isArray(body) ? body : [body]) this.onrefused?.(message, `request id ${JSON.stringify(reused)} is in flight already`);
        const error = { jsonrpc: '2.0', id: reused, error: { code: INVALID_REQUEST, message: `mcp-policy: request refused: id ${JSON.stringify(reused)} is in flight already` } };
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(error));
        return;
      }
    }
    const opensStandalone = req.method === 'GET';
    if (opensStandalone) {
      res.once('close', () => {
        this.standaloneOpen = false;
      });
      setTimeout(() => {
        this.standaloneOpen = !res.writableEnded;
        if (this.standaloneOpen) this.flush(undefined);
      }, GET_STREAM_SETTLE_MS).unref();
    }
    const single = req.method === 'POST' ? singleRequest(body) : undefined;
    const held = single ? this.hold(single.id, res) : undefined;
    const response = await this.inner.handleRequest(toWebRequest(req), { parsedBody: body });
    if (held && response.status === 200 && isEventStream(response) && response.body) {
      held.attach(response);
      await held.done;
    } else {
      held?.openStream();
      await writeWebResponse(response, res, this.exactNumbers);
    }
    if (req.method === 'POST' && response.status >= 400) this.requestIds.release(body);
  }

  /** A body the listener refused before the SDK saw it: its tools/call messages are audited as refused. */
  refuseBody(res: ServerResponse, body: unknown, refusal: BodyRefusal): void {
    for (const message of Array.isArray(body) ? body : [body]) this.onrefused?.(message, refusal.problem);
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: refusal.code, message: `mcp-policy: ${refusal.problem}` }, id: refusal.id }));
  }

  private hold(id: RequestId, res: ServerResponse): HeldPost {
    const key = requestKey(id);
    const post = new HeldPost(res, this.sessionId, this.exactNumbers, () => {
      if (this.held.get(key) === post) this.held.delete(key);
    });
    this.held.set(key, post);
    return post;
  }

  /** A message other than its answer goes on this request's stream: the stream must open. */
  private streamFor(id: RequestId): void {
    this.held.get(requestKey(id))?.openStream();
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const related = options?.relatedRequestId;
    if (isResponse(message)) {
      this.requestIds.answered(message);
      this.held.get(requestKey(message.id))?.answered(message);
      await this.inner.send(message);
      return;
    }
    if (related !== undefined) {
      this.streamFor(related);
      try {
        await this.inner.send(message, { relatedRequestId: related });
        return;
      } catch {
        // That request's stream is gone: fall back to the session's own stream.
      }
    }
    if (!this.standaloneOpen) {
      if (this.buffered.length < MAX_BUFFERED) this.buffered.push(message);
      return;
    }
    await this.inner.send(message);
  }

  private flush(options: TransportSendOptions | undefined): void {
    const messages = this.buffered;
    this.buffered = [];
    for (const message of messages) {
      const sent = options?.relatedRequestId !== undefined ? this.inner.send(message, { relatedRequestId: options.relatedRequestId }) : this.inner.send(message);
      sent.catch(() => undefined);
    }
  }
}

/** The body's request when it is one request (not a batch, not a notification). */
function singleRequest(body: unknown): { id: RequestId } | undefined {
  const message = objectOrUndefined(body) as JSONRPCMessage | undefined;
  if (message === undefined || Array.isArray(body) || !isRequest(message)) return undefined;
  return typeof message.id === 'string' || typeof message.id === 'number' ? { id: message.id } : undefined;
}
