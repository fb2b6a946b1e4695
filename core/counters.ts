/**
 * Counter stores: where the sliding-window budgets of limits live. The engine asks a store
 * to reserve one unit in every budget of a call at once (all or none) and releases the
 * reservation when an approval is refused. Stores: memory (this file), embedded (a log
 * file shared by every process of the user, ./counterStores/embeddedStore) and Redis
 * (./counterStores/redisStore).
 */
import { dropUpTo, type SortedTimes } from './sortedTimes';

export interface LimitCheck {
  /** Budget identity, including scope and scope id. */
  key: string;
  windowMs: number;
  max: number;
}

export interface Reservation {
  /** Gives the units back; for a remote store this is sent and not awaited. */
  release(): void;
}

export type ReserveResult =
  /** `at`: the store's time of the admission, where the store keeps one (tests check windows with it). */
  | { outcome: 'admitted'; reservation: Reservation; at?: number }
  | { outcome: 'limited'; blockedIndex: number; retryAfterMs: number }
  /** The store could not be asked: the engine refuses the call unless the policy says otherwise. */
  | { outcome: 'unavailable'; reason: string };

export interface StoreHealth {
  up: boolean;
  /** Why it is down, or what it is now that it is back. */
  message: string;
}

export interface CounterStore {
  /** "memory", "embedded (/home/u/.mcp-policy/counters)", "redis://127.0.0.1:6379" */
  readonly description: string;
  /** Synchronous stores answer synchronously, so the engine's fast path stays free of I/O waits. */
  reserve(now: number, checks: readonly LimitCheck[]): ReserveResult | Promise<ReserveResult>;
  /** Called when the store goes down and when it is back. */
  onHealth(listener: (health: StoreHealth) => void): void;
  close(): Promise<void>;
}

export const NO_LIMITS: Reservation = { release: () => undefined };

class SlidingLog implements SortedTimes {
  times: number[] = [];
  head = 0;
  windowMs = 0;

  /** Drops admissions that left the window; returns how many remain. */
  count(now: number, windowMs: number): number {
    this.windowMs = windowMs;
    dropUpTo(this, now - windowMs);
    return this.times.length - this.head;
  }

  /** When a slot frees, given the current count (after count()). */
  retryAfterMs(now: number, windowMs: number, max: number): number {
    const index = this.times.length - max;
    const time = this.times[Math.max(index, this.head)] ?? now;
    return Math.max(1, Math.ceil(time + windowMs - now));
  }

  admit(now: number): void {
    this.times.push(now);
  }

  release(time: number): void {
    for (let index = this.times.length - 1; index >= this.head; index--) {
      if (this.times[index] === time) {
        this.times.splice(index, 1);
        return;
      }
    }
  }

  newest(): number | undefined {
    return this.times.length > this.head ? this.times[this.times.length - 1] : undefined;
  }
}

/** Budgets of this process only: for `explain`, tests, and policies that ask for `memory`. */
export class MemoryCounterStore implements CounterStore {
  readonly description = 'memory';
  private readonly logs = new Map<string, SlidingLog>();
  private operations = 0;

  /**
   * Checks every limit, then admits the call into all of them or none: JavaScript runs
   * this without interleaving, so the reservation is atomic.
   */
  reserve(now: number, checks: readonly LimitCheck[]): ReserveResult {
    if (checks.length === 0) return { outcome: 'admitted', reservation: NO_LIMITS };
    const logs: SlidingLog[] = [];
    let blockedIndex = -1;
    let retryAfterMs = 0;
    for (let index = 0; index < checks.length; index++) {
      const check = checks[index] as LimitCheck;
      let log = this.logs.get(check.key);
      if (!log) {
        log = new SlidingLog();
        this.logs.set(check.key, log);
      }
      logs.push(log);
      if (log.count(now, check.windowMs) >= check.max) {
        if (blockedIndex < 0) blockedIndex = index;
        retryAfterMs = Math.max(retryAfterMs, log.retryAfterMs(now, check.windowMs, check.max));
      }
    }
    if (blockedIndex >= 0) return { outcome: 'limited', blockedIndex, retryAfterMs };
    // One key can appear twice (a counter shared by the rule and all_tools): count the call once.
    const admitted = new Set<SlidingLog>();
    for (const log of logs) {
      if (admitted.has(log)) continue;
      admitted.add(log);
      log.admit(now);
    }
    if (++this.operations % 10000 === 0) this.sweep(now);
    let released = false;
    return {
      outcome: 'admitted',
      reservation: {
        release: () => {
          if (released) return;
          released = true;
          for (const log of admitted) log.release(now);
        },
      },
    };
  }

  onHealth(): void {
    // always up
  }

  async close(): Promise<void> {
    this.logs.clear();
  }

  /** Admissions currently inside the window of a budget (for tests and the UI). */
  inWindow(key: string, now: number, windowMs: number): number {
    return this.logs.get(key)?.count(now, windowMs) ?? 0;
  }

  get size(): number {
    return this.logs.size;
  }

  /** Forgets budgets with nothing left in their window (ended sessions, one-off tokens). */
  sweep(now: number): void {
    for (const [key, log] of this.logs) {
      const newest = log.newest();
      if (newest === undefined || newest <= now - log.windowMs) this.logs.delete(key);
    }
  }
}

/** Each distinct key once, with the index of its first check (a blocked index maps back through it). */
export function uniqueChecks(checks: readonly LimitCheck[]): { unique: LimitCheck[]; firstIndex: number[] } {
  const unique: LimitCheck[] = [];
  const firstIndex: number[] = [];
  const seen = new Map<string, number>();
  checks.forEach((check, index) => {
    const known = seen.get(check.key);
    if (known === undefined) {
      seen.set(check.key, unique.length);
      unique.push(check);
      firstIndex.push(index);
    } else {
      // Limits naming one counter agree on window and max (the language server says so); the stricter wins.
      const kept = unique[known] as LimitCheck;
      unique[known] = { key: kept.key, windowMs: Math.max(kept.windowMs, check.windowMs), max: Math.min(kept.max, check.max) };
    }
  });
  return { unique, firstIndex };
}
