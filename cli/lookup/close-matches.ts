/**
 * Names close to one the user typed, for "no such resource" errors: same text ignoring case, one containing the
 * other, or a small edit distance.
 */
export function closeMatches(wanted: string, names: readonly string[], max = 5): string[] {
  const target = wanted.toLowerCase();
  const scored = names
    .map((name) => {
      const lower = name.toLowerCase();
      let score: number;
      if (lower === target) score = 0;
      else if (lower.includes(target) || target.includes(lower)) score = 1;
      else score = 1 + editDistance(lower, target);
      return { name, score };
    })
    .filter(({ score }) => score <= Math.max(2, Math.ceil(target.length / 3)) + 1)
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, max).map(({ name }) => name);
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
