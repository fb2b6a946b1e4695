/**
 * Sliding-window counters. Each budget keeps the times of the calls it admitted, oldest
 * first, so "at no instant more than max in the last window" holds exactly, and a
 * reservation can be released when an approval is refused.
 */

class SlidingLog {
  private times: number[] = [];
  private head = 0;
  windowMs = 0;

  /** Drops admissions that left the window; returns how many remain. */
  count(now: number, windowMs: number): number {
    this.windowMs = windowMs;
    const cutoff = now - windowMs;
    const times = this.times;
    let head = this.head;
    while (head < times.length && (times[head] as number) <= cutoff) head++;
    if (head > 64 && head * 2 > times.length) {
      this.times = times.slice(head);
      head = 0;
    }
    this.head = head;
    return this.times.length - head;
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

export interface LimitCheck {
  /** Budget identity, including scope and scope id. */
  key: string;
  windowMs: number;
  max: number;
}

export interface Reservation {
  release(): void;
}

export type ReserveResult =
  | { admitted: true; reservation: Reservation }
  | { admitted: false; blockedIndex: number; retryAfterMs: number };

const NO_LIMITS: Reservation = { release: () => undefined };

/** Budgets by key; kept across policy reloads so a reload does not reset anyone's budget. */
export class CounterStore {
  private readonly logs = new Map<string, SlidingLog>();
  private operations = 0;

  /**
   * Checks every limit, then admits the call into all of them or none: JavaScript runs
   * this without interleaving, so the reservation is atomic.
   */
  reserve(now: number, checks: readonly LimitCheck[]): ReserveResult {
    if (checks.length === 0) return { admitted: true, reservation: NO_LIMITS };
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
    if (blockedIndex >= 0) return { admitted: false, blockedIndex, retryAfterMs };
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
      admitted: true,
      reservation: {
        release: () => {
          if (released) return;
          released = true;
          for (const log of admitted) log.release(now);
        },
      },
    };
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
