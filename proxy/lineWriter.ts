/**
 * Lines for one stdio stream, gathered per turn of the event loop and written together.
 *
 * With calls in flight, one chunk read from a peer often holds several messages; relaying each
 * with its own write costs a syscall and a wake-up of the reader per message, which was most of
 * the stdio relay's CPU (bench/RESULTS.md). Lines queued while the loop handles one batch of I/O
 * leave in one write at the end of that turn (setImmediate: the check phase right after the poll
 * phase), in the order they were queued. A lone message waits only for the rest of its turn.
 * The audit guarantee is untouched: a call's decision line is written before its line is queued.
 */
export interface LineStream {
  write(chunk: string): boolean;
  readonly destroyed?: boolean;
  readonly writableNeedDrain?: boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export class LineWriter {
  private queued: string[] = [];
  private scheduled = false;

  constructor(private readonly stream: LineStream) {}

  /** Resolves at once unless the stream is full, then when it drains (as stream.write would). */
  write(line: string): Promise<void> {
    this.queued.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    if (this.stream.writableNeedDrain !== true) return Promise.resolve();
    return new Promise((resolve) => this.stream.once('drain', resolve));
  }

  /** Writes what is queued now (before the stream is ended, say). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.queued.length === 0) return;
    const text = this.queued.length === 1 ? this.queued[0]! : this.queued.join('');
    this.queued = [];
    // A stream that died meanwhile loses the lines; its close answers what was waiting on them.
    if (this.stream.destroyed === true) return;
    this.stream.write(text);
  };
}
