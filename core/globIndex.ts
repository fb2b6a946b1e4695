import type { Glob } from './glob';

/**
 * Finds the globs that match a name without trying every glob: a glob can only match names
 * that start with its literal prefix (the text before its first `*`), so globs are bucketed
 * by prefix and a name looks up each of its own prefixes.
 */
export class GlobIndex<T> {
  private readonly buckets = new Map<string, Array<{ glob: Glob; value: T }>>();
  /** The prefix lengths in use, ascending: a name is sliced only at these. */
  private prefixLengths: number[] = [];

  add(glob: Glob, value: T): void {
    const star = glob.pattern.indexOf('*');
    const prefix = star < 0 ? glob.pattern : glob.pattern.slice(0, star);
    const bucket = this.buckets.get(prefix);
    if (bucket) bucket.push({ glob, value });
    else this.buckets.set(prefix, [{ glob, value }]);
    if (!this.prefixLengths.includes(prefix.length)) this.prefixLengths = [...this.prefixLengths, prefix.length].sort((a, b) => a - b);
  }

  get size(): number {
    let count = 0;
    for (const bucket of this.buckets.values()) count += bucket.length;
    return count;
  }

  /**
   * Every value whose glob matches the name, in no particular order. An array, not a
   * generator: the editor asks this for each of 10,000 catalog tools on open.
   */
  matching(name: string): readonly T[] {
    let found: T[] | undefined;
    // Loops by index: before it is optimized, for…of allocates an iterator result per step.
    for (let at = 0; at < this.prefixLengths.length; at++) {
      const length = this.prefixLengths[at]!;
      if (length > name.length) break;
      const bucket = this.buckets.get(length === 0 ? '' : name.slice(0, length));
      if (!bucket) continue;
      for (let index = 0; index < bucket.length; index++) {
        const entry = bucket[index]!;
        if (entry.glob.matches(name)) (found ??= []).push(entry.value);
      }
    }
    return found ?? NONE;
  }
}

const NONE: readonly never[] = [];
