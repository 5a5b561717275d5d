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
