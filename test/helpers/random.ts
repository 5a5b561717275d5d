// Deterministic pseudo-random inputs for tests, computed in plain JS (independent of LibTorch).
export { mulberry32 as rng } from '../../lib/util/prng';

/** Values in [-1, 1) from a 32-bit LCG, for inputs that need no special values. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** A rows × cols matrix of lcg values. */
export function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  const r = lcg(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => r()));
}
