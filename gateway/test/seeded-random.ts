/**
 * xorshift32 for the fuzz and property tests: deterministic, so a failure can be replayed from the seed it prints
 * (FUZZ_SEED).
 */
export function makeRandom(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return {
    int: (n: number) => (n <= 0 ? 0 : next() % n),
    chance: (p: number) => next() / 0x100000000 < p,
    pick: <T>(items: readonly T[]): T => items[next() % items.length],
    bytes: (n: number) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
  };
}

export type Random = ReturnType<typeof makeRandom>;
