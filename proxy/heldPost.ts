/**
 * The answer to a POST that carries one request. The Streamable HTTP spec lets the server answer
 * such a POST with `application/json` when the only message for it is its response, or open an
 * SSE stream. The choice is put off until the first message for the request: its response (the
 * common case) goes out as one JSON body, which a client reads with far less work than an event
 * stream; anything else first (progress, a log line, a server request) opens the SSE stream and
 * everything rides on it in order, as before. A request not answered within HOLD_MS gets its
 * stream anyway, with the resumability priming event, so a long call keeps its Last-Event-ID.
 */
import type { ServerResponse } from 'node:http';
import type { ExactNumbers } from './exactNumbers';
import { drained, headersOf } from './webExchange';

export const HOLD_MS = 50;

type State = 'holding' | 'streaming' | 'answered' | 'gone';

export class HeldPost {
  private state: State = 'holding';
  private response: Response | undefined;
  private readonly chunks: Uint8Array[] = [];
  private answer: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private finished!: () => void;
  private cancelBody: () => void = () => undefined;
  /** Resolves once the client has its answer (either way) or went away. */
  readonly done = new Promise<void>((resolve) => (this.finished = resolve));

  constructor(
    private readonly res: ServerResponse,
    private readonly sessionId: string,
    private readonly exactNumbers: ExactNumbers,
    private readonly forget: () => void,
  ) {
    res.once('close', () => {
      // Answered as JSON: the transport closes its stream itself once it has the answer too.
      if (this.state !== 'answered') {
        if (this.state === 'holding') {
          this.state = 'gone';
          this.stop();
        }
        this.cancelBody();
      }
      this.finished();
    });
  }

  /** The transport's SSE response for this POST. */
  attach(response: Response): void {
    this.response = response;
    const reader = response.body!.getReader();
    // The body is locked to this reader from now on: cancelling goes through it.
    this.cancelBody = () => void reader.cancel().catch(() => undefined);
    if (this.state === 'gone') return this.cancelBody();
    if (this.state === 'answered') this.sendAnswer();
    else if (this.state === 'streaming') this.writeHead();
    else {
      this.timer = setTimeout(() => this.openStream(), HOLD_MS);
      this.timer.unref();
    }
    void this.read(reader);
  }

  /** Something other than the answer is about to go on this request's stream: it must be SSE. */
  openStream(): void {
    if (this.state !== 'holding') return;
    this.state = 'streaming';
    this.stop();
    if (this.response) this.writeHead();
  }

  /** The request's response, before the transport writes it. True when it goes out as JSON. */
  answered(message: unknown): boolean {
    if (this.state !== 'holding') return false;
    this.state = 'answered';
    this.stop();
    this.answer = this.exactNumbers.restore(JSON.stringify(message));
    if (this.response) this.sendAnswer();
    return true;
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.forget();
  }

  /** The one reader of the transport's stream: kept while holding, written while streaming, dropped once answered as JSON. */
  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (this.state === 'holding') this.chunks.push(value);
        else if (this.state === 'streaming' && !this.res.write(this.exactNumbers.restoreBytes(value))) await drained(this.res);
      }
    } catch {
      // cancelled (the client went away) or failed: end what is open
    }
    // The transport ended the stream without an answer (the session closed): the client gets that stream.
    this.openStream();
    if (this.state === 'streaming' && !this.res.writableEnded) this.res.end();
    this.finished();
  }

  private writeHead(): void {
    const response = this.response!;
    this.res.writeHead(response.status, headersOf(response));
    const chunks = this.chunks.splice(0);
    // Node sends headers with the first body write: without one the client would wait for them.
    if (chunks.length === 0) return this.res.flushHeaders();
    this.res.cork();
    for (const chunk of chunks) this.res.write(this.exactNumbers.restoreBytes(chunk));
    this.res.uncork();
  }

  private sendAnswer(): void {
    // The transport still writes the answer into the SSE body, which is read and dropped.
    const body = this.answer ?? '';
    if (!this.res.destroyed) this.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'mcp-session-id': this.sessionId }).end(body);
    this.finished();
  }
}
