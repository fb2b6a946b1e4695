/**
 * The client side of `mcp-policy proxy -- CMD`: MCP over the proxy's own stdin and stdout.
 *
 * Replaces the SDK's StdioServerTransport, which (1.32) stops reading for good after a line over
 * 10 MiB (so stdin's end is never seen and the proxy never exits), drops lines that are not JSON
 * or fail its schemas without an answer, crashes the process when the client closes stdout, and
 * runs every message through zod. Here every line gets a message for the relay or an error
 * answer, and the session ends, exactly once, when stdin ends or stdout breaks.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ExactNumbers } from './exactNumbers';
import type { JSONRPCMessage } from './jsonRpc';
import { LineSplitter, MAX_LINE_BYTES, oversizedReply, readLine, type OversizedLine } from './stdioFraming';

export class StdioDownstream implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** A message refused before the relay saw it (not JSON-RPC, a batch): the relay audits refused calls. */
  onrefused?: (message: unknown, reason: string) => void;
  /** A server's numbers a double cannot hold, written back as the server wrote them. */
  readonly exactNumbers = new ExactNumbers();

  private readonly splitter: LineSplitter;
  private lineNumber = 0;
  private started = false;
  private closed = false;

  constructor(
    private readonly input: NodeJS.ReadableStream & { destroy?: () => void } = process.stdin,
    private readonly output: NodeJS.WritableStream & { destroyed?: boolean } = process.stdout,
    maxLineBytes = MAX_LINE_BYTES,
  ) {
    this.splitter = new LineSplitter(
      {
        line: (text) => this.line(text),
        oversized: (line) => this.oversized(line, maxLineBytes),
      },
      maxLineBytes,
    );
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('the stdio transport is already started');
    this.started = true;
    this.input.on('data', this.ondata);
    this.input.on('end', this.onend);
    this.input.on('close', this.onend);
    this.input.on('error', this.oninputError);
    // A client that closes its end of stdout (EPIPE) has left: the session ends, no crash.
    this.output.on('error', this.onoutputError);
  }

  /**
   * One write per message. Gathering the messages of one turn into one write was measured: it
   * saves 0.8 write calls per relayed call with 16 in flight, but no CPU and no throughput.
   */
  send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (this.closed || this.output.destroyed) return Promise.reject(new Error('the client has gone: stdout is closed'));
    let line: string;
    try {
      line = `${this.exactNumbers.restore(JSON.stringify(message))}\n`;
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.output.write(line)) return Promise.resolve();
    return new Promise((resolve) => this.output.once('drain', resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.ondata);
    this.input.off('end', this.onend);
    this.input.off('close', this.onend);
    // The listeners stay: an EPIPE can still arrive for a write already made.
    // A stdio proxy has one session: when it is over, stdin is let go so the process can exit
    // (the proxy command waits for stdin to close) even if the client still holds it open.
    this.input.destroy?.();
    this.onclose?.();
  }

  private readonly ondata = (chunk: Buffer | string): void => {
    this.splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  };

  private readonly onend = (): void => void this.close();

  private readonly oninputError = (error: Error): void => {
    this.onerror?.(error);
    void this.close();
  };

  private readonly onoutputError = (error: Error): void => {
    if (this.closed) return;
    this.onerror?.(new Error(`stdout failed (${(error as NodeJS.ErrnoException).code ?? error.message}): the client has gone`));
    void this.close();
  };

  private line(text: string): void {
    if (this.closed) return;
    const outcome = readLine(text, `stdin line ${++this.lineNumber}`);
    if (!outcome) return;
    if ('message' in outcome) {
      try {
        this.onmessage?.(outcome.message);
      } catch (error) {
        // As the SDK's transport does: one message's failure must not cost the lines after it.
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      }
      return;
    }
    for (const refused of Array.isArray(outcome.refused) ? outcome.refused : outcome.refused === undefined ? [] : [outcome.refused]) this.onrefused?.(refused, outcome.problem);
    this.refuse(outcome.reply, outcome.problem);
  }

  private oversized(line: OversizedLine, maxLineBytes: number): void {
    if (this.closed) return;
    const refused = oversizedReply(line, `stdin line ${++this.lineNumber}`, maxLineBytes);
    this.refuse(refused.reply, refused.problem);
  }

  private refuse(reply: JSONRPCMessage[], problem: string): void {
    this.onerror?.(new Error(problem));
    for (const message of reply) this.send(message).catch(() => undefined);
  }
}
