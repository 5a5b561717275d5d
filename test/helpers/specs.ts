// Test inputs as plain data (PyTensor: flat values, shape, dtype, whether a gradient is wanted), shared by the
// tests that compare ictorch with python3-torch: built as Tensors by toTensor here, as torch tensors in Python by
// PY_TENSOR_OF of torchpy.ts.
import { tensor, type DType } from '../../lib';
import type { Tensor } from '../../lib/tensor';
import { lcg } from './random';
import type { PyTensor } from './torchpy';

/** The number of elements of a shape. */
export const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Deterministic values in [-scale, scale) from lcg(seed). */
export function values(n: number, seed: number, scale = 1): number[] {
  const r = lcg(seed);
  return Array.from({ length: n }, () => r() * scale);
}

/** A float64 input of lcg values (gradient wanted unless said); `positive` maps v to |v| + 0.1. */
export function inp(shape: number[], seed: number, opts: { grad?: boolean; scale?: number; positive?: boolean } = {}): PyTensor {
  let data = values(numel(shape), seed, opts.scale ?? 1);
  if (opts.positive) data = data.map((v) => Math.abs(v) + 0.1);
  return { data, shape, dtype: 'float64', grad: opts.grad ?? true };
}

/** Integers in [lo, hi) from lcg(seed), of `dtype` (int64 by default). */
export function ints(shape: number[], lo: number, hi: number, seed: number, dtype = 'int64'): PyTensor {
  const r = lcg(seed);
  return { data: Array.from({ length: numel(shape) }, () => lo + Math.floor(((r() + 1) / 2) * (hi - lo))), shape, dtype };
}

/** A float64 input of smooth values sin(1.3·i + 0.7·seed + 0.1)·scale (gradient wanted unless `grad` is false). */
export const floats = (shape: number[], seed: number, scale = 1, grad = true): PyTensor => ({
  shape, dtype: 'float64', grad, data: Array.from({ length: numel(shape) }, (_, i) => Math.sin(1.3 * i + 0.7 * seed + 0.1) * scale),
});

/** A bool input: `f` of each element's index, in row-major order. */
export function bools(shape: number[], f: (idx: number[]) => boolean): PyTensor {
  const data: number[] = [];
  const idx = shape.map(() => 0);
  for (let n = 0; n < numel(shape); n++) {
    data.push(f(idx) ? 1 : 0);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { shape, data, dtype: 'bool' };
}

/** The Tensor of a spec: its values cast to its dtype; requiring a gradient as the spec says unless told. */
export function toTensor(t: PyTensor, requiresGrad = t.grad ?? false): Tensor {
  return tensor(Float64Array.from(t.data), { shape: t.shape, dtype: t.dtype as DType, requiresGrad });
}

/** A reference case of an op: its inputs as specs, the Python expression over them, the same computation here. */
export interface OpCase {
  name: string;
  inputs: Record<string, PyTensor>;
  /** The Python expression (inputs by name, F, torch). */
  py: string;
  /** The same computation in ictorch. */
  ts: (t: Record<string, Tensor>) => Tensor;
}
