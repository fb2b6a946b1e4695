/**
 * Watches the HTTP exchanges of the SDK's Streamable HTTP client transport through the fetch
 * it is given. The transport tells its user neither when its standalone GET stream is open
 * (it opens it, unawaited, after the server accepted `notifications/initialized`) nor which
 * requests were waiting on a response stream that broke (it reports that to `onerror` as a
 * bare "SSE stream disconnected"). Both are needed to relay a session faithfully.
 */
import type { FetchLike } from './abortIsolatingFetch';
import { objectOrUndefined, type RequestId } from './jsonRpc';
import { StreamOrigins } from './streamOrigins';

export interface BrokenStream {
  /** The requests of the POST whose response stream broke; empty for the standalone GET stream. */
  requestIds: RequestId[];
  reason: string;
}

export interface UpstreamHttpWatchOptions {
  /** A response stream broke before its end (the server died, the connection dropped). */
  onbroken: (broken: BrokenStream) => void;
}

interface PostedBody {
  requestIds: RequestId[];
  initialized: boolean;
}

/** What a POST carried, read from the JSON text the transport sends. */
function readPostBody(body: unknown): PostedBody {
  const posted: PostedBody = { requestIds: [], initialized: false };
  if (typeof body !== 'string') return posted;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return posted;
  }
  for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
    const message = objectOrUndefined(item);
    if (!message || typeof message.method !== 'string') continue;
    if (message.method === 'notifications/initialized') posted.initialized = true;
    if (typeof message.id === 'string' || typeof message.id === 'number') posted.requestIds.push(message.id);
  }
  return posted;
}

function hasHeader(headers: RequestInit['headers'], name: string): boolean {
  return headers !== undefined && new Headers(headers).has(name);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  return cause instanceof Error && cause.message ? `${error.message} (${cause.message})` : error.message;
}

export class UpstreamHttpWatch {
  readonly fetch: FetchLike;
  /** Which request's stream each server request and notification came on. */
  readonly origins = new StreamOrigins();
  private standaloneWaiters: Array<() => void> = [];

  constructor(
    base: FetchLike,
    private readonly options: UpstreamHttpWatchOptions,
  ) {
    this.fetch = (url, init) => this.watched(base, url, init);
  }

  /**
   * Resolves once the standalone GET stream that follows `notifications/initialized` is settled:
   * open, refused (405: the server offers none) or failed; at once if the server did not accept
   * `initialized` (no GET follows then); after `timeoutMs` at the latest. Call it before sending
   * `initialized`.
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

  private async watched(base: FetchLike, url: string | URL, init: RequestInit | undefined): Promise<Response> {
    const method = (init?.method ?? 'GET').toUpperCase();
    // A GET with Last-Event-ID resumes an older stream; only a fresh one is the standalone stream.
    const standalone = method === 'GET' && !hasHeader(init?.headers, 'last-event-id');
    const posted = method === 'POST' ? readPostBody(init?.body) : undefined;
    let response: Response;
    try {
      response = await base(url, init);
    } catch (error) {
      if (standalone || posted?.initialized) this.settleStandalone();
      throw error;
    }
    // The server registers its standalone stream before it answers the GET: headers mean "open".
    if (standalone) this.settleStandalone();
    if (posted?.initialized && response.status !== 202) this.settleStandalone();
    const streamOf = standalone ? [] : posted && posted.requestIds.length > 0 ? posted.requestIds : undefined;
    if (!response.ok || !response.body || streamOf === undefined || !/text\/event-stream/i.test(response.headers.get('content-type') ?? '')) return response;
    return this.watchedStream(response, streamOf, init?.signal ?? undefined);
  }

  /**
   * The same response, whose body notes what a request's stream carries before the transport
   * reads it, and reports a break that the transport's own abort did not cause.
   */
  private watchedStream(response: Response, requestIds: RequestId[], signal: AbortSignal | undefined): Response {
    const reader = response.body!.getReader();
    // A POST of the relay carries one message; a batch's stream belongs to no single request.
    const onlyRequest = requestIds.length === 1 ? requestIds[0] : undefined;
    const parser = onlyRequest === undefined ? undefined : this.origins.streamParser(onlyRequest);
    const decoder = new TextDecoder();
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else {
            parser?.feed(decoder.decode(value, { stream: true }));
            controller.enqueue(value);
          }
        } catch (error) {
          if (!signal?.aborted) this.options.onbroken({ requestIds, reason: describe(error) });
          controller.error(error);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }
}
