/** mulberry32, a small fast seedable PRNG (pure JS, independent of LibTorch). */

/** One step: the next state and a uint32 output, for callers that keep the state themselves. */
export function mulberry32Step(state: number): [number, number] {
  const a = (state + 0x6d2b79f5) >>> 0;
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [a, (t ^ (t >>> 14)) >>> 0];
}

/** A generator of floats in [0, 1) from `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    let out: number;
    [a, out] = mulberry32Step(a);
    return out / 4294967296;
  };
}

/** murmur3's 32-bit finaliser: a bijective mix of one uint32. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A well-mixed uint32 from a list of uint32 values (each taken mod 2³²): seeds derived from (seed, epoch,
 * index) this way are independent of each other and of the order in which they are computed.
 */
export function hash32(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) h = fmix32((h ^ fmix32((v >>> 0) + 0x7f4a7c15)) + 0x6a09e667);
  return h;
}
