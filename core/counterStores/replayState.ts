/**
 * The budgets of the embedded store, rebuilt by replaying its log. Every process replays the
 * same records in the same (file) order with this same deterministic rule, so all of them
 * agree on which claims were admitted without ever taking a lock: the file order is the
 * serialisation, and a process learns its own claim's fate when its replay reaches it.
 *
 * Time: a claim's effective time is max(its own clock reading, the previous record's
 * effective time), so effective times never go back in file order and each budget is an
 * exact sliding log over them.
 */
import { dropUpTo, type SortedTimes } from '../sortedTimes';

/** [key, windowMs, max] */
export type ClaimCheck = [string, number, number];

export interface ClaimRecord {
  c: string;
  t: number;
  k: ClaimCheck[];
}

export interface ReleaseRecord {
  r: string;
  t: number;
  k: string[];
}

export interface SealRecord {
  seal: number;
}

/** The first line of every generation: the budgets still inside their windows at the seal before. */
export interface SnapshotRecord {
  snap: number;
  e: number;
  /** key → [largest window seen, effective times in the window] */
  keys: Record<string, [number, number[]]>;
}

export type ClaimOutcome = { admitted: true; at: number } | { admitted: false; blockedIndex: number; retryAfterMs: number };

class KeyLog implements SortedTimes {
  times: number[] = [];
  head = 0;
  /** The largest window any claim on this key has had: admissions older than that can never count again. */
  windowMax = 0;

  constructor(windowMax = 0, times: number[] = []) {
    this.windowMax = windowMax;
    this.times = times;
  }

  prune(cutoff: number): void {
    dropUpTo(this, cutoff);
  }

  /** Index of the first admission after `time` (times are sorted). */
  firstAfter(time: number): number {
    let low = this.head;
    let high = this.times.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.times[middle] as number) <= time) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  live(): number[] {
    return this.times.slice(this.head);
  }
}

export class ReplayState {
  private keys = new Map<string, KeyLog>();
  /** Effective time of the newest claim replayed. */
  lastEffective = 0;

  static fromSnapshot(snapshot: SnapshotRecord | undefined): ReplayState {
    const state = new ReplayState();
    if (!snapshot) return state;
    state.lastEffective = typeof snapshot.e === 'number' ? snapshot.e : 0;
    for (const [key, entry] of Object.entries(snapshot.keys ?? {})) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'number' || !Array.isArray(entry[1])) continue;
      state.keys.set(key, new KeyLog(entry[0], entry[1].filter((time): time is number => typeof time === 'number')));
    }
    return state;
  }

  claim(record: ClaimRecord): ClaimOutcome {
    const at = Math.max(record.t, this.lastEffective);
    this.lastEffective = at;
    const logs: KeyLog[] = [];
    let blockedIndex = -1;
    let retryAfterMs = 0;
    for (let index = 0; index < record.k.length; index++) {
      const [key, windowMs, max] = record.k[index] as ClaimCheck;
      let log = this.keys.get(key);
      if (!log) {
        log = new KeyLog();
        this.keys.set(key, log);
      }
      logs.push(log);
      // Pruning with the window before this claim widens it keeps every replica's budget identical.
      if (log.windowMax > 0) log.prune(at - log.windowMax);
      const first = log.firstAfter(at - windowMs);
      const count = log.times.length - first;
      if (count >= max) {
        if (blockedIndex < 0) blockedIndex = index;
        const leaving = log.times[first + (count - max)] as number;
        retryAfterMs = Math.max(retryAfterMs, Math.max(1, Math.ceil(leaving + windowMs - at)));
      }
    }
    for (let index = 0; index < logs.length; index++) {
      const log = logs[index] as KeyLog;
      if (blockedIndex < 0) log.times.push(at);
      const windowMs = (record.k[index] as ClaimCheck)[1];
      if (windowMs > log.windowMax) log.windowMax = windowMs;
    }
    return blockedIndex < 0 ? { admitted: true, at } : { admitted: false, blockedIndex, retryAfterMs };
  }

  release(record: ReleaseRecord): void {
    for (const key of record.k) {
      const log = this.keys.get(key);
      if (!log) continue;
      for (let index = log.times.length - 1; index >= log.head; index--) {
        if (log.times[index] === record.t) {
          log.times.splice(index, 1);
          break;
        }
      }
    }
  }

  /** What a new generation starts from: budgets with admissions still inside their largest window. */
  snapshot(generation: number): SnapshotRecord {
    const keys: Record<string, [number, number[]]> = {};
    for (const [key, log] of this.keys) {
      log.prune(this.lastEffective - log.windowMax);
      const live = log.live();
      if (live.length > 0) keys[key] = [log.windowMax, live];
    }
    return { snap: generation, e: this.lastEffective, keys };
  }

  /** Admissions of a budget inside (at - windowMs, at]: for tests and diagnostics. */
  inWindow(key: string, at: number, windowMs: number): number {
    const log = this.keys.get(key);
    if (!log) return 0;
    return log.times.length - log.firstAfter(at - windowMs);
  }
}
