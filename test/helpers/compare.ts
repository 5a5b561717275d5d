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

/** The loss weightings of the attention tests: sum(out · w1) + sum(weights · w2), w = ((i mod m) − c) / c. */
export const weighting = (n: number, m: number, c: number): number[] => Array.from({ length: n }, (_, i) => ((i % m) - c) / c);

/** One attention case's result: output, attention weights (or null) and the gradients by name. */
export interface Run {
  shape: number[];
  out: number[];
  wshape: number[] | null;
  weights: number[] | null;
  grads: Record<string, number[]>;
}

/** Asserts two sets of runs (ours, PyTorch's) have the same cases, shapes and values within `tol`. */
export function expectRunsEqual(ours: Record<string, Run>, theirs: Record<string, Run>, tol: number): void {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  for (const [name, r] of Object.entries(theirs)) {
    const o = ours[name];
    expect(o.shape, `${name} output shape`).toEqual(r.shape);
    expect(maxDiff(o.out, r.out), `${name} output`).toBeLessThan(tol);
    expect(o.wshape, `${name} weights shape`).toEqual(r.wshape);
    if (r.weights) expect(maxDiff(o.weights as number[], r.weights), `${name} weights`).toBeLessThan(tol);
    expect(Object.keys(o.grads).sort(), `${name} gradients`).toEqual(Object.keys(r.grads).sort());
    for (const k of Object.keys(r.grads)) expect(maxDiff(o.grads[k], r.grads[k]), `${name} gradient of ${k}`).toBeLessThan(tol);
  }
}
