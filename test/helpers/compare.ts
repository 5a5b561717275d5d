// Small comparison helpers shared by the tests that check modules against python3-torch.
import { expect } from 'vitest';
import type { Tensor } from '../../lib/tensor';

/** A tensor's values as numbers (int64 included). */
export const vals = (t: Tensor): number[] => Array.from(t.toArray() as ArrayLike<number | bigint>, Number);

/** The largest absolute difference of two equally long lists (their lengths are asserted equal). */
export const maxDiff = (a: number[], b: number[]): number => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
};

/** A state dict's keys, in order, with each tensor's shape. */
export const shapes = (sd: Record<string, Tensor>): [string, number[]][] => Object.entries(sd).map(([k, t]) => [k, t.shape]);
