/**
 * A URL upstream: the MCP Streamable HTTP client side of the relay, on node:http with a
 * keep-alive agent.
 *
 * Replaces the SDK's StreamableHTTPClientTransport on the relay's hot path. That one goes through
 * fetch (undici), wraps every response body in web streams (a TextDecoderStream and an SSE
 * parser stream), runs every message through zod, and tells its user neither which request's
 * stream a message came on nor when its GET stream is open, which the relay then had to learn
 * by parsing every stream a second time (a fetch watch). Measured with server-everything's echo:
 * ~1.1-1.4 ms of the proxy's CPU per call with the SDK's transport; see bench/RESULTS.md for
 * this one. The relay classifies each message itself (jsonRpc.classify), so here messages are
 * only parsed.
 *
 * What it does, as the protocol says: one POST per message (JSON or an SSE stream in return,
 * 202 for notifications and responses), the session id and protocol version headers, the
 * standalone GET stream once the server accepted `initialized` (405: the server offers none).
 * A response stream that breaks before its end is reported (`onbroken`): the link drops the
 * connection, so the requests waiting on it fail at once and the next one connects afresh.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { createParser } from 'eventsource-parser';
import { noteInexact } from './inexactNumbers';
import type { JSONRPCMessage, RequestId } from './jsonRpc';
import { objectOrUndefined } from './jsonRpc';

export interface HttpUpstreamOptions {
  url: URL;
  headers: Record<string, string>;
  /** A response stream broke before its end (the server died, the connection dropped). */
  onbroken: (reason: string) => void;
}

/** The longest JSON answer read whole: the same bound as a stdio line. */
const MAX_JSON_BYTES = 10 * 1024 * 1024;
/** After the server ended its GET stream: the wait before a new one. */
const STANDALONE_REOPEN_MS = 1000;
/**
 * Resumes of one request's stream in a row that brought no event: a server that ends every
 * stream at once (with an event id to come back to) would otherwise be asked again forever.
 */
const MAX_EMPTY_RESUMES = 3;

export class HttpUpstreamError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpUpstreamError';
  }
}

function isInitialized(message: JSONRPCMessage): boolean {
  const loose = message as { method?: unknown; id?: unknown };
  return loose.method === 'notifications/initialized' && loose.id === undefined;
}

/** The id of a request, or undefined for a notification or a response (which get no stream). */
function requestIdOf(message: JSONRPCMessage): RequestId | undefined {
  const loose = message as { method?: unknown; id?: unknown };
  return typeof loose.method === 'string' && (typeof loose.id === 'string' || typeof loose.id === 'number') ? loose.id : undefined;
}

function mediaType(response: IncomingMessage): string {
  return (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  const message = (error as Error)?.message ?? String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

export class HttpUpstream {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /** `relatedRequestId`: the request whose response stream carried the message; none for the GET stream. */
  onmessage?: (message: JSONRPCMessage, relatedRequestId?: RequestId) => void;

  sessionId: string | undefined;
  private protocolVersion: string | undefined;
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;
  private readonly inFlight = new Set<ClientRequest>();
  private closed = false;
  private standaloneWaiters: Array<() => void> = [];

  constructor(private readonly options: HttpUpstreamOptions) {
    const secure = options.url.protocol === 'https:';
    this.agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.request = secure ? (httpsRequest as unknown as typeof httpRequest) : httpRequest;
  }

  async start(): Promise<void> {
    if (this.options.url.protocol !== 'http:' && this.options.url.protocol !== 'https:') throw new Error(`${this.options.url.href} is not an http or https URL`);
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  /**
   * Resolves once the standalone GET stream that follows `notifications/initialized` is settled:
   * open, refused or failed; at once if the server did not accept `initialized` with a 202 (no
   * GET follows then); after `timeoutMs` at the latest. Call it before sending `initialized`.
   */
  standaloneStreamSettled(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(settle, timeoutMs);
      timer.unref();
      const waiters = this.standaloneWaiters;
      function settle(): void {
        clearTimeout(timer);
        const index = waiters.indexOf(settle);
        if (index >= 0) waiters.splice(index, 1);
        resolve();
      }
      waiters.push(settle);
    });
  }

  private settleStandalone(): void {
    for (const settle of [...this.standaloneWaiters]) settle();
  }

  /** Resolves once the server has taken the message (its answer, if any, arrives through onmessage). */
  async send(message: JSONRPCMessage): Promise<void> {
    const initialized = isInitialized(message);
    let response: IncomingMessage;
    try {
      response = await this.exchange('POST', { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, JSON.stringify(message));
    } catch (error) {
      if (initialized) this.settleStandalone();
      throw error;
    }
    const sessionId = response.headers['mcp-session-id'];
    if (typeof sessionId === 'string' && sessionId !== '') this.sessionId = sessionId;
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      if (initialized) this.settleStandalone();
      const text = await this.readText(response).catch(() => '');
      throw new HttpUpstreamError(status, `the server answered the POST with HTTP ${status}${text ? `: ${text.slice(0, 500)}` : ''}`);
    }
    if (status === 202) {
      response.resume();
      if (initialized) this.openStandaloneStream();
      return;
    }
    if (initialized) this.settleStandalone();
    const requestId = requestIdOf(message);
    if (requestId === undefined) {
      response.resume();
      return;
    }
    const type = mediaType(response);
    if (type === 'text/event-stream') {
      this.readEvents(response, requestId);
      return;
    }
    if (type === 'application/json') {
      const text = await this.readText(response);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new Error(`the server's JSON answer does not parse: ${(error as Error).message}`);
      }
      noteInexact(parsed, text);
      for (const item of Array.isArray(parsed) ? parsed : [parsed]) this.deliver(item, requestId);
      return;
    }
    response.resume();
    throw new Error(`the server answered with an unexpected content type: ${response.headers['content-type'] ?? 'none'}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const request of this.inFlight) request.destroy();
    this.inFlight.clear();
    this.agent.destroy();
    this.settleStandalone();
    this.onclose?.();
  }

  private openStandaloneStream(): void {
    this.exchange('GET', { accept: 'text/event-stream' })
      .then((response) => {
        // The server registers its standalone stream before it answers the GET: headers mean "open".
        this.settleStandalone();
        const status = response.statusCode ?? 0;
        if (status === 405) return void response.resume(); // the server offers no GET stream
        if (status < 200 || status > 299 || mediaType(response) !== 'text/event-stream') {
          response.resume();
          this.onerror?.(new Error(`the server answered the GET stream with HTTP ${status}`));
          return;
        }
        this.readEvents(response, undefined);
      })
      .catch((error: unknown) => {
        this.settleStandalone();
        if (!this.closed) this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      });
  }

  /** One HTTP exchange; resolves with the response once its headers are in. */
  private exchange(method: 'GET' | 'POST', headers: OutgoingHttpHeaders, body?: string): Promise<IncomingMessage> {
    if (this.closed) return Promise.reject(new Error('the connection to the server is closed'));
    const all: OutgoingHttpHeaders = { ...this.options.headers, ...headers };
    if (this.sessionId !== undefined) all['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion !== undefined) all['mcp-protocol-version'] = this.protocolVersion;
    if (body !== undefined) all['content-length'] = Buffer.byteLength(body);
    return new Promise((resolve, reject) => {
      const request = this.request(this.options.url, { method, headers: all, agent: this.agent });
      this.inFlight.add(request);
      request.on('response', (response) => {
        response.once('close', () => this.inFlight.delete(request));
        resolve(response);
      });
      request.on('error', (error) => {
        this.inFlight.delete(request);
        reject(new Error(`the server could not be reached: ${describe(error)}`));
      });
      request.end(body);
    });
  }

  private readText(response: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_JSON_BYTES) {
          response.destroy();
          reject(new Error(`the server's answer is over ${MAX_JSON_BYTES} bytes`));
          return;
        }
        parts.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(parts, size).toString('utf8')));
      response.on('error', reject);
      response.on('aborted', () => reject(new Error('the server broke off its answer')));
    });
  }

  /**
   * Reads an SSE stream to its end; a break that we did not cause is reported. A request's stream
   * that the server ended before its answer is resumed with Last-Event-ID when its events had
   * ids (the server may close streams and expect the client to come back); without ids, the
   * request is left to the relay's call timeout, as with the SDK's transport.
   */
  private readEvents(response: IncomingMessage, requestId: RequestId | undefined, resumedFrom?: string, emptyResumes = 0): void {
    const decoder = new StringDecoder('utf8');
    let lastEventId = resumedFrom;
    let answered = false;
    let events = 0;
    // Bytes since the last whole event: the parser would buffer an endless event without bound.
    let pending = 0;
    const parser = createParser({
      onEvent: (event) => {
        events++;
        pending = 0;
        if (event.id !== undefined && event.id !== '') lastEventId = event.id;
        if (event.event !== undefined && event.event !== 'message') return;
        let value: unknown;
        try {
          value = JSON.parse(event.data);
          noteInexact(value, event.data);
        } catch (error) {
          this.onerror?.(new Error(`the server sent an event that is not JSON (${(error as Error).message})`));
          return;
        }
        const message = objectOrUndefined(value);
        if (requestId !== undefined && message && message.method === undefined && message.id === requestId) answered = true;
        this.deliver(value, requestId);
      },
    });
    let ended = false;
    let oversized = false;
    response.on('data', (chunk: Buffer) => {
      if (oversized) return;
      pending += chunk.length;
      if (pending > MAX_JSON_BYTES) {
        // As a stdio line over the cap: the connection is dropped and its calls fail at once.
        oversized = true;
        response.destroy();
        this.options.onbroken(`the server sent an event over ${MAX_JSON_BYTES} bytes`);
        return;
      }
      parser.feed(decoder.write(chunk));
    });
    response.on('end', () => {
      ended = true;
      parser.feed(decoder.end());
      if (this.closed) return;
      // A server may end its GET stream at any time; the client opens a new one, as the SDK's does.
      if (requestId === undefined) setTimeout(() => this.closed || this.openStandaloneStream(), STANDALONE_REOPEN_MS).unref();
      else if (!answered) this.resume(requestId, lastEventId, events === 0 ? emptyResumes + 1 : 0);
    });
    response.on('close', () => {
      if (ended || this.closed || oversized) return;
      this.options.onbroken(response.errored ? describe(response.errored) : 'the response stream was cut off');
    });
    response.on('error', () => undefined); // reported on close
  }

  private resume(requestId: RequestId, lastEventId: string | undefined, emptyResumes: number): void {
    if (lastEventId === undefined) return void this.onerror?.(new Error('the server ended a response stream without an answer'));
    if (emptyResumes > MAX_EMPTY_RESUMES) {
      return void this.options.onbroken(`the server ended the response stream of a call ${emptyResumes} times in a row without sending anything`);
    }
    this.exchange('GET', { accept: 'text/event-stream', 'last-event-id': lastEventId })
      .then((response) => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status > 299 || mediaType(response) !== 'text/event-stream') {
          response.resume();
          this.onerror?.(new Error(`the server refused to resume a response stream (HTTP ${status})`));
          return;
        }
        this.readEvents(response, requestId, lastEventId, emptyResumes);
      })
      .catch((error: unknown) => {
        if (!this.closed) this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      });
  }

  private deliver(value: unknown, requestId: RequestId | undefined): void {
    if (this.closed) return;
    try {
      // A server's own request or notification on a request's stream belongs to that request;
      // an answer names its request already.
      const related = requestId !== undefined && typeof objectOrUndefined(value)?.method === 'string' ? requestId : undefined;
      this.onmessage?.(value as JSONRPCMessage, related);
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
