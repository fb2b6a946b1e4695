/**
 * Node's http objects to and from the web Request/Response the SDK's Streamable HTTP server
 * transport speaks. Written here rather than taken from the SDK's Node wrapper (which goes
 * through @hono/node-server) because that wrapper, on a stream whose first chunk is ready at
 * once (the resumability priming event), waits a timer tick for a second chunk before it sends
 * anything: about 1 ms on every call. Here headers and each chunk go out as they come.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setOwn } from '../core/ownRecord';
import type { ExactNumbers } from './exactNumbers';

export function toWebRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  // The Host header was checked by the listener; the URL only gives the transport a base.
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers });
}

export function headersOf(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    setOwn(out, name, value);
  });
  return out;
}

export function isEventStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
}

/** Writes a whole response; resolves once it is sent or the client went away. `exact` puts a server's exact numbers back. */
export async function writeWebResponse(response: Response, res: ServerResponse, exact?: ExactNumbers): Promise<void> {
  if (!response.body) {
    res.writeHead(response.status, headersOf(response)).end();
    return;
  }
  if (!isEventStream(response)) {
    const text = exact ? exact.restore(await response.text()) : await response.text();
    res.writeHead(response.status, headersOf(response)).end(text);
    return;
  }
  res.writeHead(response.status, headersOf(response));
  res.flushHeaders();
  await pumpEvents(response.body.getReader(), res, [], exact);
}

/** Streams the rest of an event stream (after `first`, chunks already read) to the client. */
export async function pumpEvents(reader: ReadableStreamDefaultReader<Uint8Array>, res: ServerResponse, first: Uint8Array[], exact?: ExactNumbers): Promise<void> {
  const cancel = (): void => void reader.cancel().catch(() => undefined);
  res.once('close', cancel);
  try {
    if (first.length > 0) {
      res.cork();
      for (const chunk of first) res.write(exact ? exact.restoreBytes(chunk) : chunk);
      res.uncork();
    }
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(exact ? exact.restoreBytes(value) : value)) await drained(res);
    }
    res.end();
  } catch {
    // The stream was cancelled (client gone) or failed: nothing more can be sent.
    if (!res.writableEnded) res.destroy();
  } finally {
    res.off('close', cancel);
  }
}

export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
