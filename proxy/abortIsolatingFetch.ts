/**
 * The SDK's Streamable HTTP client passes one long-lived AbortSignal to every fetch, and
 * undici removes its abort listener from that signal only when the request is garbage
 * collected. Over a long session the listeners pile up: memory grows, every fetch gets
 * slower, and Node prints MaxListenersExceededWarning. Each request here gets a signal of
 * its own, bridged from the shared one until its body is read to the end or cancelled, so
 * closing the transport still cancels what is in flight.
 */
import { setMaxListeners } from 'node:events';

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export function abortIsolatingFetch(base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const shared = init?.signal;
    if (!shared) return base(url, init);
    // Listeners on the shared signal are now bounded by the requests in flight, which may
    // legitimately exceed Node's warning threshold of 10.
    setMaxListeners(0, shared);
    const own = new AbortController();
    const forward = (): void => own.abort(shared.reason);
    if (shared.aborted) own.abort(shared.reason);
    else shared.addEventListener('abort', forward, { once: true });
    const release = (): void => shared.removeEventListener('abort', forward);
    let response: Response;
    try {
      response = await base(url, { ...init, signal: own.signal });
    } catch (error) {
      release();
      throw error;
    }
    if (!response.body) {
      release();
      return response;
    }
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          release();
          controller.error(error);
        }
      },
      async cancel(reason) {
        release();
        await reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
