/** A sorted log of admission times whose expired front is skipped, not spliced, until most of it is dead. */
export interface SortedTimes {
  times: number[];
  /** Index of the first live time. */
  head: number;
}

/** Moves `head` past every time at or before `cutoff`; compacts the array once more than half of it is expired. */
export function dropUpTo(log: SortedTimes, cutoff: number): void {
  const times = log.times;
  let head = log.head;
  while (head < times.length && (times[head] as number) <= cutoff) head++;
  if (head > 64 && head * 2 > times.length) {
    log.times = times.slice(head);
    head = 0;
  }
  log.head = head;
}
