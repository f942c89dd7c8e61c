/** "Did you mean …": the closest known name within a small edit distance. */

/** Levenshtein distance, with an early exit once it exceeds `max`. */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The known name closest to `input` (case-insensitive) when it is at most `maxDistance` edits away,
 * else undefined. Ties go to the first in `known`.
 */
export function closest(input: string, known: Iterable<string>, maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  const lower = input.toLowerCase();
  for (const name of known) {
    const d = editDistance(lower, name.toLowerCase(), maxDistance);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** `; did you mean "x"?`, or an empty string. */
export function didYouMean(input: string, known: Iterable<string>): string {
  const match = closest(input, known);
  return match === undefined || match === input ? '' : `; did you mean "${match}"?`;
}
