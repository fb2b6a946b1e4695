/** Time source for limits and events; tests substitute a ManualClock. */
export interface Clock {
  /** Milliseconds since the epoch; never goes backwards. */
  now(): number;
}

const origin = performance.timeOrigin;

/** Monotonic wall time: Date.now() can jump back when the system clock is set. */
export const systemClock: Clock = {
  now: () => origin + performance.now(),
};

export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 10, 23, 22, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}
