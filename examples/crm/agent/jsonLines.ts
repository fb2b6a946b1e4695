/**
 * Reads a JSON Lines file that another process appends to (the proxy's audit log, the demo
 * server's call log), returning only the records added since the last read.
 */
import { readFileSync } from 'node:fs';

export class JsonLinesTail<T> {
  private consumed = 0;

  constructor(private readonly path: string) {}

  /** Every complete line appended since the last call; a half-written last line waits for the next. */
  next(): T[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    const end = text.lastIndexOf('\n') + 1;
    const fresh = text.slice(this.consumed, end);
    this.consumed = Math.max(this.consumed, end);
    return fresh
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as T);
  }

  /** Every complete line in the file. */
  static all<T>(path: string): T[] {
    return new JsonLinesTail<T>(path).next();
  }
}
