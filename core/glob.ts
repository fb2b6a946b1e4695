/**
 * Tool-name globs: `*` matches any run of characters (including none); every other
 * character matches itself exactly — no case folding, no `?`, no classes, no escapes.
 */

export interface Glob {
  readonly pattern: string;
  readonly isGlob: boolean;
  /** Characters other than `*`: how specific the pattern is. */
  readonly literalCount: number;
  matches(name: string): boolean;
}

export function isGlobPattern(pattern: string): boolean {
  return pattern.includes('*');
}

export function compileGlob(pattern: string): Glob {
  // Most rule keys are plain names: no split for them (the checks compile every key of 5,000 rules).
  if (!pattern.includes('*')) return { pattern, isGlob: false, literalCount: pattern.length, matches: (name) => name === pattern };
  const parts = pattern.split('*');
  const literalCount = pattern.length - (parts.length - 1);
  const head = parts[0] ?? '';
  const tail = parts[parts.length - 1] ?? '';
  const middle = parts.slice(1, -1).filter((part) => part.length > 0);
  const minLength = head.length + tail.length + middle.reduce((sum, part) => sum + part.length, 0);
  return {
    pattern,
    isGlob: true,
    literalCount,
    matches(name: string): boolean {
      if (name.length < minLength || !name.startsWith(head) || !name.endsWith(tail)) return false;
      // Greedy leftmost search of the middle parts is exact for `*`-only globs.
      let at = head.length;
      const end = name.length - tail.length;
      for (let index = 0; index < middle.length; index++) {
        const part = middle[index]!;
        const found = name.indexOf(part, at);
        if (found < 0 || found + part.length > end) return false;
        at = found + part.length;
      }
      return true;
    },
  };
}

/** Whether some name matches both patterns. */
export function globsOverlap(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const width = b.length + 1;
  const visit = (i: number, j: number): boolean => {
    const key = i * width + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (a[i] === '*') result = visit(i + 1, j) || (j < b.length && visit(i, j + 1));
    else if (b[j] === '*') result = visit(i, j + 1) || (i < a.length && visit(i + 1, j));
    else result = i < a.length && j < b.length && a[i] === b[j] && visit(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return visit(0, 0);
}

/** Case-insensitive matcher for redaction globs: hiding a secret should not depend on case. */
export function compileCaseInsensitiveGlob(pattern: string): (name: string) => boolean {
  const glob = compileGlob(pattern.toLowerCase());
  return (name) => glob.matches(name.toLowerCase());
}
