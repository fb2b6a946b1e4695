/** "Did you mean": the closest candidate within a distance that suits the word's length. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  const wordCounts = letterCounts(word);
  // By index, not for…of: run once per open, this loop is not yet optimized and an iterator
  // would allocate a result object for each of a catalog's thousands of names.
  for (let index = 0; index < candidates.length; index++) {
    const candidate = candidates[index]!;
    if (candidate === word || Math.abs(candidate.length - word.length) >= bestDistance) continue;
    // Catalogs hold thousands of names: rule most out by their letters before the quadratic distance.
    if (countsDistance(wordCounts, word.length, candidate) / 2 >= bestDistance) continue;
    const distance = editDistance(word, candidate, bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

const counts = new Int32Array(128);

/** Letter counts of a word, case folded; letters beyond ASCII share one bucket. */
function letterCounts(word: string): Int32Array {
  const result = new Int32Array(128);
  for (let at = 0; at < word.length; at++) result[bucket(word.charCodeAt(at))]!++;
  return result;
}

function bucket(code: number): number {
  if (code >= 65 && code <= 90) return code + 32;
  return code < 128 ? code : 0;
}

/**
 * How many letters differ between the two words as bags: an insertion or deletion changes it
 * by 1, a substitution by at most 2, a transposition or a case change not at all, so half of
 * it never exceeds the edit distance.
 */
function countsDistance(wordCounts: Int32Array, wordLength: number, candidate: string): number {
  counts.set(wordCounts);
  let matched = 0;
  for (let at = 0; at < candidate.length; at++) {
    const index = bucket(candidate.charCodeAt(at));
    if (counts[index]! > 0) {
      counts[index]!--;
      matched++;
    }
  }
  return wordLength - matched + (candidate.length - matched);
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
