/**
 * Recent decisions read back from the audit log, for the Decisions view after a window reload.
 * The log is read from its end, a chunk at a time, and stops as soon as it has `max` decisions,
 * so a large log costs what the view shows, not its size; rotated files (path.1, path.2, …) are
 * read after the current one when it holds too few. An outcome line (same id, with `upstream`)
 * comes after its decision, so reading backwards meets it first and the decision picks it up.
 * No vscode here, so it is tested on its own.
 */
import { open } from 'node:fs/promises';
import type { Decision, DecisionEvent } from '../core/events';
import { rotatedAuditPath } from '../proxy/rotatingAuditLog';

const CHUNK = 64 * 1024;
const DECISIONS: ReadonlySet<string> = new Set<Decision>(['allowed', 'approved', 'denied', 'rate_limited', 'invalid_arguments', 'rejected']);

export interface AuditHistory {
  /** Oldest first, at most `max`. */
  events: DecisionEvent[];
  /** Lines that are neither decisions nor outcomes (edited by hand, another program's). */
  skipped: number;
  /** The files that were read, newest first. */
  files: string[];
}

export interface HistoryOptions {
  max: number;
  /** Decisions at or before this time (epoch ms) are left out: the user cleared them. */
  clearedAt?: number;
  /** How many rotated files may be read besides the current one. */
  rotated?: number;
}

export async function readAuditHistory(path: string, options: HistoryOptions): Promise<AuditHistory> {
  const newestFirst: DecisionEvent[] = [];
  const outcomes = new Map<string, NonNullable<DecisionEvent['upstream']>>();
  const files: string[] = [];
  let skipped = 0;
  const candidates = [path, ...Array.from({ length: options.rotated ?? 0 }, (_, i) => rotatedAuditPath(path, i + 1))];
  let done = false;
  for (const file of candidates) {
    if (done) break;
    const lines = await linesFromEnd(file);
    if (!lines) continue;
    files.push(file);
    for await (const line of lines) {
      const parsed = parseLine(line);
      if (parsed === undefined) continue;
      if (parsed === 'skip') {
        skipped++;
        continue;
      }
      if (parsed.kind === 'outcome') {
        if (!outcomes.has(parsed.id)) outcomes.set(parsed.id, parsed.upstream);
        continue;
      }
      const event = parsed.event;
      if (options.clearedAt !== undefined && Date.parse(event.time) <= options.clearedAt) {
        done = true;
        break;
      }
      const upstream = outcomes.get(event.id);
      if (upstream) {
        event.upstream = upstream;
        outcomes.delete(event.id);
      }
      newestFirst.push(event);
      if (newestFirst.length >= options.max) {
        done = true;
        break;
      }
    }
  }
  return { events: newestFirst.reverse(), skipped, files };
}

type Parsed = { kind: 'decision'; event: DecisionEvent } | { kind: 'outcome'; id: string; upstream: NonNullable<DecisionEvent['upstream']> };

function parseLine(line: string): Parsed | 'skip' | undefined {
  if (line.trim().length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'skip';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'skip';
  const record = value as Record<string, unknown>;
  const { id, time, server, tool, decision, upstream } = record;
  if (typeof id !== 'string' || typeof time !== 'string' || typeof server !== 'string' || typeof tool !== 'string') return 'skip';
  if (typeof decision !== 'string' || !DECISIONS.has(decision) || Number.isNaN(Date.parse(time))) return 'skip';
  const answer = upstreamOf(upstream);
  // An outcome line carries no rule or reason; a decision line always does.
  if (answer && typeof record['rule'] !== 'string') return { kind: 'outcome', id, upstream: answer };
  if (typeof record['rule'] !== 'string' || typeof record['reason'] !== 'string') return 'skip';
  return { kind: 'decision', event: value as DecisionEvent };
}

function upstreamOf(value: unknown): DecisionEvent['upstream'] {
  if (typeof value !== 'object' || value === null) return undefined;
  const { ok, ms, error } = value as Record<string, unknown>;
  if (typeof ok !== 'boolean' || typeof ms !== 'number') return undefined;
  return typeof error === 'string' ? { ok, ms, error } : { ok, ms };
}

/** The file's lines, last first; undefined when there is no such file. */
async function linesFromEnd(path: string): Promise<AsyncIterable<string> | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return {
    async *[Symbol.asyncIterator]() {
      try {
        let position = (await handle.stat()).size;
        // Bytes of a line cut by the chunk boundary; joined as bytes so UTF-8 is never split.
        let carry = Buffer.alloc(0);
        while (position > 0) {
          const length = Math.min(CHUNK, position);
          position -= length;
          const chunk = Buffer.alloc(length);
          const { bytesRead } = await handle.read(chunk, 0, length, position);
          const buffer = Buffer.concat([chunk.subarray(0, bytesRead), carry]);
          let end = buffer.length;
          for (let i = buffer.length - 1; i >= 0; i--) {
            if (buffer[i] !== 0x0a) continue;
            if (i + 1 < end) yield buffer.toString('utf8', i + 1, end);
            end = i;
          }
          carry = buffer.subarray(0, end);
        }
        if (carry.length > 0) yield carry.toString('utf8');
      } finally {
        await handle.close();
      }
    },
  };
}
