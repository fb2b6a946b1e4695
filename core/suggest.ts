/** "Did you mean": the closest candidate within a distance that suits the word's length. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (candidate === word || Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const distance = editDistance(word, candidate, bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Damerau–Levenshtein (optimal string alignment); gives up above `ceiling`. */
export function editDistance(a: string, b: string, ceiling = Infinity): number {
  const lowerA = a.toLowerCase();
  const lowerB = b.toLowerCase();
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      // A case difference costs less than a different letter, but something.
      const substitution = a[i - 1] === b[j - 1] ? 0 : lowerA[i - 1] === lowerB[j - 1] ? 0.5 : 1;
      let value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, (previous2[j - 2] ?? 0) + 1);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > ceiling) return rowMin;
    previous2 = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}
