/**
 * The embedded counter store, the default: one append-only log in a folder of the user's
 * (~/.mcp-policy/counters), shared by every mcp-policy process of the user on the machine.
 *
 * A reservation appends one claim record with a single O_APPEND write, then reads the log up
 * to that record and replays it (./replayState): file order decides, identically in every
 * process, so N processes never admit more than `max` in a window, and nothing ever waits on
 * a lock. A process killed at any point leaves at worst a torn line, which every reader
 * skips (records start and end with a newline); a claim that reached the file counts,
 * whether or not its process lived to forward the call.
 *
 * Compaction: when a generation's file passes its size limit, a seal record closes it
 * (records after the first seal are ignored and retried in the next generation), and the
 * next generation starts with a snapshot of the budgets, created atomically (temp file, then
 * link, which fails if another process was first: both would have written the same state).
 * The generation before the sealed one is retired to a one-line tombstone.
 *
 * Limits: the folder must be on a local file system (O_APPEND is not atomic over NFS).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { NO_LIMITS, uniqueChecks, type CounterStore, type LimitCheck, type ReserveResult, type StoreHealth } from '../counters';
import { ReplayState, type ClaimOutcome, type ClaimRecord, type ReleaseRecord, type SnapshotRecord } from './replayState';

export interface EmbeddedStoreOptions {
  folder: string;
  /** A generation is sealed once its file passes this size (default 1 MiB); tests make it small. */
  compactBytes?: number;
}

const GENERATION_FILE = /^counters-(\d{8})\.log$/;
const DEFAULT_COMPACT_BYTES = 1024 * 1024;
const READ_CHUNK = 64 * 1024;
const NEWLINE = 0x0a;
/** Retired generations keep a one-line file this long (in generations) before it is removed. */
const TOMBSTONES_KEPT = 1000;

function generationName(generation: number): string {
  return `counters-${String(generation).padStart(8, '0')}.log`;
}

interface OpenGeneration {
  generation: number;
  fd: number;
  /** Bytes of the file replayed so far. */
  offset: number;
  /** An unterminated last line: another process may still be writing it. */
  partial: Buffer;
  sealed: boolean;
  state: ReplayState;
  /** Size of the snapshot line: compaction waits until the file is well past it. */
  snapshotBytes: number;
  /** Only a generation's first record may be its snapshot. */
  seenRecord: boolean;
}

export class EmbeddedCounterStore implements CounterStore {
  readonly description: string;
  readonly folder: string;
  private readonly compactBytes: number;
  private current: OpenGeneration | undefined;
  private readonly idPrefix = randomBytes(6).toString('base64url');
  private sequence = 0;
  /** The claim this process is waiting to see in its replay (reserve is synchronous: one at a time). */
  private awaited: { id: string; text: string; record: ClaimRecord; outcome?: ClaimOutcome } | undefined;
  private readonly healthListeners: Array<(health: StoreHealth) => void> = [];
  private down: string | undefined;
  private readonly buffer = Buffer.allocUnsafe(READ_CHUNK);

  constructor(options: EmbeddedStoreOptions) {
    this.folder = options.folder;
    this.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
    this.description = `embedded (${this.folder})`;
  }

  reserve(now: number, checks: readonly LimitCheck[]): ReserveResult {
    if (checks.length === 0) return { outcome: 'admitted', reservation: NO_LIMITS };
    const { unique, firstIndex } = uniqueChecks(checks);
    const id = `${this.idPrefix}${(++this.sequence).toString(36)}`;
    const record: ClaimRecord = { c: id, t: Math.floor(now), k: unique.map((check) => [check.key, check.windowMs, check.max]) };
    const text = JSON.stringify(record);
    const line = `\n${text}\n`;
    try {
      // A claim that lands after a seal is ignored there and made again in the next generation.
      for (let attempt = 0; attempt < 8; attempt++) {
        const generation = this.open();
        this.awaited = { id, text, record };
        if (writeSync(generation.fd, line) !== Buffer.byteLength(line)) throw new Error('the claim was not written whole (disk full?)');
        this.catchUp();
        const outcome = this.awaited.outcome;
        this.awaited = undefined;
        this.markUp();
        if (!outcome) continue;
        if (!outcome.admitted) return { outcome: 'limited', blockedIndex: firstIndex[outcome.blockedIndex] ?? 0, retryAfterMs: outcome.retryAfterMs };
        const keys = unique.map((check) => check.key);
        let released = false;
        return {
          outcome: 'admitted',
          at: outcome.at,
          reservation: {
            release: () => {
              if (released) return;
              released = true;
              this.appendRelease({ r: id, t: outcome.at, k: keys });
            },
          },
        };
      }
      return this.unavailable('the counter log kept rolling over while the call was being counted');
    } catch (error) {
      this.awaited = undefined;
      this.closeCurrent();
      return this.unavailable(`cannot use the counter store in ${this.folder}: ${(error as Error).message}`);
    }
  }

  onHealth(listener: (health: StoreHealth) => void): void {
    this.healthListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closeCurrent();
  }

  /** Replays everything written so far and counts a budget's admissions: for tests and checks. */
  inWindow(key: string, at: number, windowMs: number): number {
    this.open();
    this.catchUp();
    return this.current?.state.inWindow(key, at, windowMs) ?? 0;
  }

  get generation(): number | undefined {
    return this.current?.generation;
  }

  /** The store time of the newest claim replayed (every process's, admitted or not). */
  get latest(): number {
    this.open();
    this.catchUp();
    return this.current?.state.lastEffective ?? 0;
  }

  private appendRelease(record: ReleaseRecord): void {
    try {
      const generation = this.open();
      writeSync(generation.fd, `\n${JSON.stringify(record)}\n`);
    } catch {
      // The unit stays reserved until its window passes: a lost release errs on the safe side.
    }
  }

  private unavailable(reason: string): ReserveResult {
    if (this.down === undefined) {
      this.down = reason;
      for (const listener of this.healthListeners) listener({ up: false, message: reason });
    }
    return { outcome: 'unavailable', reason };
  }

  private markUp(): void {
    if (this.down === undefined) return;
    this.down = undefined;
    for (const listener of this.healthListeners) listener({ up: true, message: `the counter store in ${this.folder} is reachable again` });
  }

  /** The newest generation, replayed up to date; created when the folder has none. */
  private open(): OpenGeneration {
    if (this.current && !this.current.sealed) return this.current;
    if (this.current?.sealed) return this.rollOver(this.current);
    mkdirSync(this.folder, { recursive: true, mode: 0o700 });
    let newest = this.newestGeneration();
    if (newest === undefined) {
      this.createGeneration(1, { snap: 1, e: 0, keys: {} });
      newest = this.newestGeneration() ?? 1;
    }
    this.current = this.openGeneration(newest);
    this.catchUp();
    if (this.current.sealed) return this.rollOver(this.current);
    return this.current;
  }

  private newestGeneration(): number | undefined {
    let newest: number | undefined;
    for (const name of readdirSync(this.folder)) {
      const match = GENERATION_FILE.exec(name);
      if (match) newest = Math.max(newest ?? 0, Number(match[1]));
    }
    return newest;
  }

  private openGeneration(generation: number): OpenGeneration {
    const fd = openSync(join(this.folder, generationName(generation)), constants.O_RDWR | constants.O_APPEND);
    const opened: OpenGeneration = { generation, fd, offset: 0, partial: Buffer.alloc(0), sealed: false, state: new ReplayState(), snapshotBytes: 0, seenRecord: false };
    return opened;
  }

  /** Atomically: the file appears with its snapshot line, or not at all (someone else was first). */
  private createGeneration(generation: number, snapshot: SnapshotRecord): void {
    const temp = join(this.folder, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      writeFileSync(temp, `${JSON.stringify(snapshot)}\n`, { mode: 0o600 });
      try {
        linkSync(temp, join(this.folder, generationName(generation)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    } finally {
      rmSync(temp, { force: true });
    }
  }

  private rollOver(sealed: OpenGeneration): OpenGeneration {
    closeSync(sealed.fd);
    this.current = undefined;
    const next = sealed.generation + 1;
    // A process idle for a long time may be far behind: it joins the newest generation and
    // never re-creates one that was retired (that would split the store in two).
    const newest = this.newestGeneration() ?? 0;
    if (newest > next) {
      this.current = this.openGeneration(newest);
    } else {
      this.createGeneration(next, sealed.state.snapshot(next));
      this.current = this.openGeneration(next);
      this.retire(sealed.generation - 1);
    }
    this.catchUp();
    if (this.current.sealed) return this.rollOver(this.current);
    return this.current;
  }

  /**
   * An old generation is replaced by a one-line sealed file rather than removed, so its name
   * stays taken (readers still behind keep the old contents through their open file);
   * tombstones far behind are removed.
   */
  private retire(generation: number): void {
    if (generation < 1) return;
    const temp = join(this.folder, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      writeFileSync(temp, `${JSON.stringify({ seal: generation })}\n`, { mode: 0o600 });
      renameSync(temp, join(this.folder, generationName(generation)));
    } catch {
      rmSync(temp, { force: true });
    }
    const ancient = generation - TOMBSTONES_KEPT;
    if (ancient >= 1) rmSync(join(this.folder, generationName(ancient)), { force: true });
  }

  /** Reads and replays every complete record appended since the last read. */
  private catchUp(): void {
    const generation = this.current;
    if (!generation) return;
    for (;;) {
      const read = readSync(generation.fd, this.buffer, 0, READ_CHUNK, generation.offset);
      if (read === 0) break;
      generation.offset += read;
      const chunk = generation.partial.length > 0 ? Buffer.concat([generation.partial, this.buffer.subarray(0, read)]) : this.buffer.subarray(0, read);
      const lastNewline = chunk.lastIndexOf(NEWLINE);
      if (lastNewline < 0) {
        generation.partial = Buffer.from(chunk);
        continue;
      }
      // Split on bytes, so a character cut by the chunk boundary is decoded whole next time.
      generation.partial = Buffer.from(chunk.subarray(lastNewline + 1));
      let start = 0;
      while (start < lastNewline) {
        const end = chunk.indexOf(NEWLINE, start);
        if (end > start) this.apply(generation, chunk.toString('utf8', start, end));
        start = end + 1;
      }
      if (read < READ_CHUNK) break;
    }
    if (!generation.sealed && generation.offset > Math.max(this.compactBytes, 4 * generation.snapshotBytes)) {
      writeSync(generation.fd, `\n${JSON.stringify({ seal: generation.generation })}\n`);
      this.catchUp();
    }
  }

  private apply(generation: OpenGeneration, line: string): void {
    if (generation.sealed) return;
    let record: unknown;
    // Our own claim, read back as written: the record it was made from, without parsing it again.
    if (this.awaited?.text === line) record = this.awaited.record;
    else {
      try {
        record = JSON.parse(line);
      } catch {
        return; // a torn line left by a process killed mid-write
      }
    }
    if (record === null || typeof record !== 'object') return;
    const first = !generation.seenRecord;
    generation.seenRecord = true;
    const fields = record as Partial<ClaimRecord & ReleaseRecord & SnapshotRecord & { seal: number }>;
    if (typeof fields.c === 'string' && typeof fields.t === 'number' && Array.isArray(fields.k)) {
      const outcome = generation.state.claim(fields as ClaimRecord);
      if (this.awaited && fields.c === this.awaited.id) this.awaited.outcome = outcome;
    } else if (typeof fields.r === 'string' && typeof fields.t === 'number' && Array.isArray(fields.k)) {
      generation.state.release(fields as ReleaseRecord);
    } else if (typeof fields.seal === 'number') {
      generation.sealed = true;
    } else if (typeof fields.snap === 'number' && first) {
      generation.state = ReplayState.fromSnapshot(fields as SnapshotRecord);
      generation.snapshotBytes = line.length;
    }
  }

  private closeCurrent(): void {
    if (!this.current) return;
    try {
      closeSync(this.current.fd);
    } catch {
      // already closed
    }
    this.current = undefined;
  }
}

/** Where the embedded store lives unless MCP_POLICY_COUNTERS or the policy says otherwise. */
export function defaultCountersFolder(home: string): string {
  return join(home, '.mcp-policy', 'counters');
}
