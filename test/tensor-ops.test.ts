// The tensor operations added with the index/reduction/sampling batch (elementwise math, bitwise ops, matrix
// products, cumulative and NaN-aware reductions, median/mode/kthvalue, triangles and diagonals, scatter/index/
// masked ops, unique/bincount/histc, searchsorted/bucketize/cdist, logspace/meshgrid/fullLike, randperm/
// multinomial/bernoulli/poisson/exponential_/uniform_/normal_/cauchy_, xlogy, inverse hyperbolics) against python3-torch on the same float64 inputs: values, dtypes and input gradients.
// Then, without Python: in-place forms, the errors for bad indices/masks/weights/options (the process keeping
// working after each), and the sampling properties that hold whatever the stream.
import { beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { DTYPES, Generator, manualSeed, tensor, tidy, type DType } from '../lib';
import type { Tensor } from '../lib/tensor';
import { vals } from './helpers/compare';
import { expectError } from './helpers/errors';
import { lcg } from './helpers/random';
import { inp, ints, numel, toTensor, values, type OpCase } from './helpers/specs';
import { hasTorch, runCases, type PyCase, type PyTensor } from './helpers/torchpy';

// ---------------------------------------------------------------- inputs

/** A float64 input without gradient. */
const cst = (shape: number[], seed: number, opts: { scale?: number; positive?: boolean } = {}): PyTensor => inp(shape, seed, { ...opts, grad: false });
/** Given values of a dtype (int64 by default). */
const of = (data: number[], shape: number[] = [data.length], dtype = 'int64'): PyTensor => ({ data, shape, dtype });
/** A float64 tensor of given values. */
const f64 = (data: number[], shape: number[] = [data.length], grad = false): PyTensor => ({ data, shape, dtype: 'float64', grad });
/** A bool mask, true with probability about `p`. */
function mask(shape: number[], seed: number, p = 0.35): PyTensor {
  const r = lcg(seed);
  return { data: Array.from({ length: numel(shape) }, () => ((r() + 1) / 2 < p ? 1 : 0)), shape, dtype: 'bool' };
}

/** The flat values of any tensor as JS numbers (bool as 0/1). */
const flat = (t: Tensor): number[] => Array.from(t.to('float64').toArray() as Float64Array);

/** Runs one op to show the process (and the addon) still works after an error. */
function alive(): void {
  tidy(() => {
    expect(torch.arange(6).reshape([2, 3]).to('float64').sum().item()).toBe(15);
  });
}

// ---------------------------------------------------------------- reference cases

interface Case extends OpCase {
  /** Seed both default generators before the op. */
  seed?: number;
  /** Compare values only (no backward). */
  noGrad?: boolean;
  /** Relative tolerance for floating results (integer and bool results are compared exactly). */
  tol?: number;
}

/** Two cases for an op returning (values, indices): the values with gradients, the indices exactly. */
function pair(name: string, inputs: Record<string, PyTensor>, py: string, ts: (t: Record<string, Tensor>) => [Tensor, Tensor], opts: { indices?: boolean } = {}): Case[] {
  const out: Case[] = [{ name: `${name} values`, inputs, py: `(${py})[0]`, ts: (t) => ts(t)[0] }];
  if (opts.indices !== false) out.push({ name: `${name} indices`, inputs, py: `(${py})[1]`, ts: (t) => ts(t)[1], noGrad: true });
  return out;
}

const NAN = "float('nan')";
/** native/tensor_index.cc MaskedOp declares `at::NoGradGuard ng;` in the maskedScatter branch before calling masked_scatter. */
const INF = "float('inf')";

const ELEMENTWISE: Case[] = [
  { name: 'erf', inputs: { x: inp([3, 4], 1, { scale: 2 }) }, py: 'x.erf()', ts: (t) => t.x.erf() },
  { name: 'erfinv', inputs: { x: inp([3, 4], 2, { scale: 0.95 }) }, py: 'x.erfinv()', ts: (t) => t.x.erfinv() },
  { name: 'expm1', inputs: { x: inp([3, 4], 3, { scale: 2 }) }, py: 'x.expm1()', ts: (t) => t.x.expm1() },
  { name: 'expm1 tiny', inputs: { x: inp([5], 4, { scale: 1e-9 }) }, py: 'x.expm1()', ts: (t) => t.x.expm1() },
  { name: 'log2', inputs: { x: inp([3, 4], 5, { scale: 5, positive: true }) }, py: 'x.log2()', ts: (t) => t.x.log2() },
  { name: 'log10', inputs: { x: inp([3, 4], 6, { scale: 50, positive: true }) }, py: 'x.log10()', ts: (t) => t.x.log10() },
  { name: 'tan', inputs: { x: inp([3, 4], 7, { scale: 1.3 }) }, py: 'x.tan()', ts: (t) => t.x.tan() },
  { name: 'asin', inputs: { x: inp([3, 4], 8, { scale: 0.95 }) }, py: 'x.asin()', ts: (t) => t.x.asin() },
  { name: 'acos', inputs: { x: inp([3, 4], 9, { scale: 0.95 }) }, py: 'x.acos()', ts: (t) => t.x.acos() },
  { name: 'atan', inputs: { x: inp([3, 4], 10, { scale: 4 }) }, py: 'x.atan()', ts: (t) => t.x.atan() },
  { name: 'sinh', inputs: { x: inp([3, 4], 11, { scale: 3 }) }, py: 'x.sinh()', ts: (t) => t.x.sinh() },
  { name: 'cosh', inputs: { x: inp([3, 4], 12, { scale: 3 }) }, py: 'x.cosh()', ts: (t) => t.x.cosh() },
  { name: 'asinh', inputs: { x: inp([3, 4], 13, { scale: 4 }) }, py: 'x.asinh()', ts: (t) => t.x.asinh() },
  { name: 'acosh', inputs: { x: inp([3, 4], 14, { positive: true, scale: 3 }) }, py: '(x + 1).acosh()', ts: (t) => t.x.add(1).acosh() },
  { name: 'atanh', inputs: { x: inp([3, 4], 15, { scale: 0.9 }) }, py: 'x.atanh()', ts: (t) => t.x.atanh() },
  { name: 'trunc', inputs: { x: inp([3, 4], 13, { scale: 5 }) }, py: 'x.trunc()', ts: (t) => t.x.trunc() },
  { name: 'frac', inputs: { x: inp([3, 4], 14, { scale: 5 }) }, py: 'x.frac()', ts: (t) => t.x.frac() },
  { name: 'lgamma', inputs: { x: inp([3, 4], 15, { scale: 6, positive: true }) }, py: 'x.lgamma()', ts: (t) => t.x.lgamma() },
  { name: 'lgamma negative non-integers', inputs: { x: f64([-0.5, -1.5, -2.25, -3.7], [4], true) }, py: 'x.lgamma()', ts: (t) => t.x.lgamma() },
  { name: 'digamma', inputs: { x: inp([3, 4], 16, { scale: 6, positive: true }) }, py: 'x.digamma()', ts: (t) => t.x.digamma() },
  { name: 'trace square', inputs: { x: inp([4, 4], 17) }, py: 'x.trace()', ts: (t) => t.x.trace() },
  { name: 'trace wide', inputs: { x: inp([3, 5], 18) }, py: 'x.trace()', ts: (t) => t.x.trace() },
  { name: 'trace int64', inputs: { x: ints([3, 3], -9, 9, 19) }, py: 'x.trace()', ts: (t) => t.x.trace() },
  {
    name: 'isinf',
    inputs: { x: cst([3, 4], 20), m: mask([3, 4], 21), n: mask([3, 4], 22) },
    py: `x.masked_fill(m, ${INF}).masked_fill(n, -${INF}).isinf()`,
    ts: (t) => t.x.maskedFill(t.m, Infinity).maskedFill(t.n, -Infinity).isinf(),
  },
  { name: 'isinf nan is not inf', inputs: { x: cst([6], 23), m: mask([6], 24, 0.5) }, py: `x.masked_fill(m, ${NAN}).isinf()`, ts: (t) => t.x.maskedFill(t.m, NaN).isinf() },
  { name: 'bitwiseNot int64', inputs: { x: ints([2, 5], -100, 100, 25) }, py: 'x.bitwise_not()', ts: (t) => t.x.bitwiseNot() },
  { name: 'bitwiseNot bool', inputs: { x: mask([2, 5], 26, 0.5) }, py: 'x.bitwise_not()', ts: (t) => t.x.bitwiseNot() },
  { name: 'bitwiseAnd tensor', inputs: { a: ints([3, 4], -64, 64, 27), b: ints([3, 4], -64, 64, 28) }, py: 'a.bitwise_and(b)', ts: (t) => t.a.bitwiseAnd(t.b) },
  { name: 'bitwiseOr broadcast', inputs: { a: ints([3, 4], 0, 64, 29), b: ints([4], 0, 64, 30) }, py: 'a.bitwise_or(b)', ts: (t) => t.a.bitwiseOr(t.b) },
  { name: 'bitwiseXor tensor', inputs: { a: ints([3, 4], -64, 64, 31), b: ints([3, 1], -64, 64, 32) }, py: 'a.bitwise_xor(b)', ts: (t) => t.a.bitwiseXor(t.b) },
  { name: 'bitwiseAnd number', inputs: { a: ints([8], -20, 20, 33) }, py: 'a.bitwise_and(6)', ts: (t) => t.a.bitwiseAnd(6) },
  { name: 'bitwiseOr number int32', inputs: { a: ints([8], -20, 20, 34, 'int32') }, py: 'a.bitwise_or(5)', ts: (t) => t.a.bitwiseOr(5) },
  { name: 'bitwiseXor number', inputs: { a: ints([8], -20, 20, 35) }, py: 'a.bitwise_xor(-3)', ts: (t) => t.a.bitwiseXor(-3) },
  { name: 'bitwiseXor bool', inputs: { a: mask([8], 36, 0.5), b: mask([8], 37, 0.5) }, py: 'a.bitwise_xor(b)', ts: (t) => t.a.bitwiseXor(t.b) },
  { name: 'logicalXor float', inputs: { a: of([0, 1.5, 0, -2, 3], [5], 'float64'), b: of([0, 0, 2, -1, 0], [5], 'float64') }, py: 'a.logical_xor(b)', ts: (t) => t.a.logicalXor(t.b) },
  { name: 'logicalXor bool broadcast', inputs: { a: mask([3, 1], 38, 0.5), b: mask([4], 39, 0.5) }, py: 'a.logical_xor(b)', ts: (t) => t.a.logicalXor(t.b) },
  { name: 'atan2 broadcast', inputs: { y: inp([3, 1], 40, { scale: 2 }), x: inp([4], 41, { scale: 2 }) }, py: 'y.atan2(x)', ts: (t) => t.y.atan2(t.x) },
  { name: 'hypot', inputs: { a: inp([3, 4], 42, { scale: 3 }), b: inp([3, 4], 43, { scale: 3 }) }, py: 'a.hypot(b)', ts: (t) => t.a.hypot(t.b) },
  { name: 'xlogy', inputs: { a: inp([3, 4], 44), b: inp([3, 4], 45, { positive: true }) }, py: 'a.xlogy(b)', ts: (t) => t.a.xlogy(t.b) },
  { name: 'xlogy zeros', inputs: { a: f64([0, 0, 2, -1.5], [4], true), b: f64([0, 3, 0.5, 4], [4]) }, py: 'a.xlogy(b)', ts: (t) => t.a.xlogy(t.b) },
  { name: 'igamma, differentiable in other', inputs: { a: inp([3, 4], 48, { grad: false, positive: true, scale: 3 }), x: inp([3, 4], 49, { positive: true, scale: 2 }) }, py: 'a.igamma(x)', ts: (t) => t.a.igamma(t.x) },
  { name: 'xlogy scalar, broadcast', inputs: { a: inp([2, 3], 46), b: inp([3], 47, { positive: true }) }, py: 'a.xlogy(2.5) + a.xlogy(b)', ts: (t) => t.a.xlogy(2.5).add(t.a.xlogy(t.b)) },
  { name: 'mm', inputs: { a: inp([3, 4], 44), b: inp([4, 2], 45) }, py: 'a.mm(b)', ts: (t) => t.a.mm(t.b) },
  { name: 'bmm', inputs: { a: inp([2, 3, 4], 46), b: inp([2, 4, 5], 47) }, py: 'a.bmm(b)', ts: (t) => t.a.bmm(t.b) },
  { name: 'dot', inputs: { a: inp([6], 48), b: inp([6], 49) }, py: 'a.dot(b)', ts: (t) => t.a.dot(t.b) },
  { name: 'outer', inputs: { a: inp([3], 50), b: inp([4], 51) }, py: 'a.outer(b)', ts: (t) => t.a.outer(t.b) },
  { name: 'kron', inputs: { a: inp([2, 3], 52), b: inp([2, 2], 53) }, py: 'torch.kron(a, b)', ts: (t) => t.a.kron(t.b) },
  { name: 'kron 1-d by 2-d', inputs: { a: inp([3], 54), b: inp([2, 2], 55) }, py: 'torch.kron(a, b)', ts: (t) => t.a.kron(t.b) },
  { name: 'lerp number weight', inputs: { a: inp([3, 4], 56), b: inp([3, 4], 57) }, py: 'a.lerp(b, 0.3)', ts: (t) => t.a.lerp(t.b, 0.3) },
  { name: 'lerp weight > 0.5', inputs: { a: inp([3, 4], 58), b: inp([3, 4], 59) }, py: 'a.lerp(b, 0.8)', ts: (t) => t.a.lerp(t.b, 0.8) },
  { name: 'lerp tensor weight broadcast', inputs: { a: inp([3, 4], 60), b: inp([3, 4], 61), w: inp([4], 62) }, py: 'a.lerp(b, w)', ts: (t) => t.a.lerp(t.b, t.w) },
  {
    name: 'isclose rtol atol',
    inputs: { a: cst([4, 5], 63), d: cst([4, 5], 64, { scale: 0.1 }) },
    py: 'a.isclose(a + d, rtol=0.05, atol=0.02)',
    ts: (t) => t.a.isclose(t.a.add(t.d), 0.05, 0.02),
  },
  { name: 'isclose defaults', inputs: { a: cst([6], 65), d: f64([0, 1e-9, 1e-7, 1e-3, -1e-9, 1e-5]) }, py: 'torch.isclose(a, a + d)', ts: (t) => torch.isclose(t.a, t.a.add(t.d)) },
  {
    name: 'isclose NaN, equalNan false',
    inputs: { a: cst([6], 66), m: mask([6], 67, 0.5) },
    py: `torch.isclose(a.masked_fill(m, ${NAN}), a.masked_fill(m, ${NAN}))`,
    ts: (t) => t.a.maskedFill(t.m, NaN).isclose(t.a.maskedFill(t.m, NaN)),
  },
  {
    name: 'isclose NaN, equalNan true',
    inputs: { a: cst([6], 66), m: mask([6], 67, 0.5) },
    py: `torch.isclose(a.masked_fill(m, ${NAN}), a.masked_fill(m, ${NAN}), equal_nan=True)`,
    ts: (t) => torch.isclose(t.a.maskedFill(t.m, NaN), t.a.maskedFill(t.m, NaN), 1e-5, 1e-8, true),
  },
  {
    name: 'allclose (true, false, NaN, equalNan)',
    inputs: { a: cst([4, 5], 68), m: mask([4, 5], 69) },
    py: `torch.tensor([float(torch.allclose(a, a + 1e-9)), float(torch.allclose(a, a + 1e-3)), float(torch.allclose(a, a + 1e-3, rtol=0, atol=2e-3)), float(torch.allclose(a.masked_fill(m, ${NAN}), a.masked_fill(m, ${NAN}))), float(torch.allclose(a.masked_fill(m, ${NAN}), a.masked_fill(m, ${NAN}), equal_nan=True))])`,
    ts: (t) =>
      tensor([
        Number(t.a.allclose(t.a.add(1e-9))),
        Number(t.a.allclose(t.a.add(1e-3))),
        Number(torch.allclose(t.a, t.a.add(1e-3), 0, 2e-3)),
        Number(t.a.maskedFill(t.m, NaN).allclose(t.a.maskedFill(t.m, NaN))),
        Number(torch.allclose(t.a.maskedFill(t.m, NaN), t.a.maskedFill(t.m, NaN), 1e-5, 1e-8, true)),
      ]),
  },
  { name: 'div trunc float', inputs: { a: inp([3, 4], 70, { scale: 9 }), b: inp([3, 4], 71, { scale: 3 }) }, py: "a.div(b, rounding_mode='trunc')", ts: (t) => t.a.div(t.b, 'trunc') },
  { name: 'div floor float', inputs: { a: inp([3, 4], 72, { scale: 9 }), b: inp([3, 4], 73, { scale: 3 }) }, py: "a.div(b, rounding_mode='floor')", ts: (t) => t.a.div(t.b, 'floor') },
  { name: 'div trunc int64 negatives', inputs: { a: of([-7, 7, -7, 7, -6, 5]), b: of([2, 2, -2, -2, 3, -5]) }, py: "a.div(b, rounding_mode='trunc')", ts: (t) => t.a.div(t.b, 'trunc') },
  { name: 'div floor int64 negatives', inputs: { a: of([-7, 7, -7, 7, -6, 5]), b: of([2, 2, -2, -2, 3, -5]) }, py: "a.div(b, rounding_mode='floor')", ts: (t) => t.a.div(t.b, 'floor') },
  { name: 'div floor by a number', inputs: { a: inp([5], 74, { scale: 9 }) }, py: "a.div(-2.5, rounding_mode='floor')", ts: (t) => t.a.div(-2.5, 'floor') },
  { name: 'div true (no mode) int64', inputs: { a: of([-7, 7, 3]), b: of([2, -2, 4]) }, py: 'a.div(b)', ts: (t) => t.a.div(t.b) },
  { name: 'floorDivide int64', inputs: { a: of([-7, 7, -7, 7, -6, 5]), b: of([2, 2, -2, -2, 3, -5]) }, py: 'torch.floor_divide(a, b)', ts: (t) => t.a.floorDivide(t.b) },
  // PyTorch 1.13 has no derivative for floor_divide (ictorch's, div(rounding_mode='floor'), gives zeros): values only.
  { name: 'floorDivide float by number', inputs: { a: inp([6], 75, { scale: 9 }) }, py: 'a // 2', ts: (t) => t.a.floorDivide(2), noGrad: true },
  { name: 'floorDivide float tensor', inputs: { a: cst([6], 76, { scale: 9 }), b: f64([2, -2, 0.5, -0.75, 3, 1]) }, py: 'torch.floor_divide(a, b)', ts: (t) => t.a.floorDivide(t.b) },
];

const REDUCTIONS: Case[] = [
  { name: 'cumprod dim 1', inputs: { x: inp([3, 4], 100, { scale: 2 }) }, py: 'x.cumprod(1)', ts: (t) => t.x.cumprod(1) },
  { name: 'cumprod dim -3', inputs: { x: inp([2, 3, 2], 101, { scale: 2 }) }, py: 'x.cumprod(-3)', ts: (t) => t.x.cumprod(-3) },
  { name: 'cumprod int64', inputs: { x: ints([3, 4], -3, 4, 102) }, py: 'x.cumprod(0)', ts: (t) => t.x.cumprod(0) },
  { name: 'logcumsumexp dim 0', inputs: { x: inp([4, 3], 103, { scale: 5 }) }, py: 'x.logcumsumexp(0)', ts: (t) => t.x.logcumsumexp(0) },
  { name: 'logcumsumexp dim -1 large values', inputs: { x: inp([2, 5], 104, { scale: 800 }) }, py: 'x.logcumsumexp(-1)', ts: (t) => t.x.logcumsumexp(-1) },
  { name: 'logsumexp dim 1', inputs: { x: inp([3, 4], 105, { scale: 5 }) }, py: 'x.logsumexp(1)', ts: (t) => t.x.logsumexp(1) },
  { name: 'logsumexp dims [0, 2] keepdim', inputs: { x: inp([2, 3, 4], 106, { scale: 5 }) }, py: 'x.logsumexp([0, 2], keepdim=True)', ts: (t) => t.x.logsumexp([0, 2], true) },
  { name: 'logsumexp dim -1 large values', inputs: { x: inp([3, 4], 107, { scale: 900 }) }, py: 'x.logsumexp(-1)', ts: (t) => t.x.logsumexp(-1) },
  { name: 'nansum all', inputs: { x: inp([3, 4], 108), m: mask([3, 4], 109) }, py: `x.masked_fill(m, ${NAN}).nansum()`, ts: (t) => t.x.maskedFill(t.m, NaN).nansum() },
  { name: 'nansum dim 1 keepdim', inputs: { x: inp([3, 4], 110), m: mask([3, 4], 111) }, py: `x.masked_fill(m, ${NAN}).nansum(1, keepdim=True)`, ts: (t) => t.x.maskedFill(t.m, NaN).nansum(1, true) },
  { name: 'nansum dims [0, 2]', inputs: { x: inp([2, 3, 4], 112), m: mask([2, 3, 4], 113) }, py: `x.masked_fill(m, ${NAN}).nansum([0, 2])`, ts: (t) => t.x.maskedFill(t.m, NaN).nansum([0, 2]) },
  { name: 'nanmean all', inputs: { x: inp([3, 4], 114), m: mask([3, 4], 115) }, py: `x.masked_fill(m, ${NAN}).nanmean()`, ts: (t) => t.x.maskedFill(t.m, NaN).nanmean() },
  { name: 'nanmean dim 0', inputs: { x: inp([4, 3], 116), m: mask([4, 3], 117) }, py: `x.masked_fill(m, ${NAN}).nanmean(0)`, ts: (t) => t.x.maskedFill(t.m, NaN).nanmean(0) },
  { name: 'nanmean dim -1 keepdim', inputs: { x: inp([3, 5], 118), m: mask([3, 5], 119) }, py: `x.masked_fill(m, ${NAN}).nanmean(-1, keepdim=True)`, ts: (t) => t.x.maskedFill(t.m, NaN).nanmean(-1, true) },
  { name: 'countNonzero all', inputs: { x: ints([3, 4], -2, 3, 120) }, py: 'x.count_nonzero()', ts: (t) => t.x.countNonzero() },
  { name: 'countNonzero dim 1', inputs: { x: ints([3, 4], -2, 3, 121) }, py: 'x.count_nonzero(1)', ts: (t) => t.x.countNonzero(1) },
  { name: 'countNonzero dims [0, -1] float', inputs: { x: cst([2, 3, 4], 122), m: mask([2, 3, 4], 123, 0.5) }, py: 'x.masked_fill(m, 0).count_nonzero([0, -1])', ts: (t) => t.x.maskedFill(t.m, 0).countNonzero([0, -1]) },
  { name: 'countNonzero bool', inputs: { x: mask([5, 2], 124, 0.5) }, py: 'x.count_nonzero(0)', ts: (t) => t.x.countNonzero(0) },
  { name: 'median all (odd count)', inputs: { x: inp([3, 5], 125) }, py: 'x.median()', ts: (t) => t.x.median() },
  { name: 'median all (even count: the lower middle)', inputs: { x: inp([2, 4], 126) }, py: 'x.median()', ts: (t) => t.x.median() },
  { name: 'median int64 with ties', inputs: { x: of([3, 1, 3, 2, 1, 3]) }, py: 'x.median()', ts: (t) => t.x.median() },
  ...pair('median dim 1 keepdim', { x: inp([3, 6], 127) }, 'x.median(1, keepdim=True)', (t) => t.x.median(1, true)),
  ...pair('median dim -2', { x: inp([5, 3], 128) }, 'x.median(-2)', (t) => t.x.median(-2)),
  { name: 'nanmedian all', inputs: { x: inp([3, 5], 129), m: mask([3, 5], 130) }, py: `x.masked_fill(m, ${NAN}).nanmedian()`, ts: (t) => t.x.maskedFill(t.m, NaN).nanmedian() },
  ...pair(
    'nanmedian dim 1',
    { x: inp([3, 5], 131), m: of([0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0], [3, 5], 'bool') },
    `x.masked_fill(m, ${NAN}).nanmedian(1)`,
    (t) => t.x.maskedFill(t.m, NaN).nanmedian(1),
  ),
  ...pair('nanmedian dim 0 keepdim (no NaN)', { x: inp([4, 3], 132) }, 'x.nanmedian(0, keepdim=True)', (t) => t.x.nanmedian(0, true)),
  // mode's value is exact; which of the equal elements its index names is not documented (checked below instead).
  ...pair('mode int64 last dim', { x: of([1, 2, 2, 3, 3, 3, 5, 4, 4, 5, 5, 1, 7, 7, 2, 2], [4, 4]) }, 'x.mode()', (t) => t.x.mode(), { indices: false }),
  ...pair('mode dim 0 keepdim, ties pick the smallest', { x: of([1, 2, 3, 1, 2, 3, 2, 1, 3, 2, 1, 0], [4, 3]) }, 'x.mode(0, keepdim=True)', (t) => t.x.mode(0, true), { indices: false }),
  ...pair('mode float64', { x: of([0.5, -1.25, 0.5, 3, -1.25, -1.25, 2, 2], [2, 4], 'float64') }, 'x.mode(1)', (t) => t.x.mode(1), { indices: false }),
  ...pair('kthvalue k=2 last dim', { x: inp([3, 5], 133) }, 'x.kthvalue(2)', (t) => t.x.kthvalue(2)),
  ...pair('kthvalue k=3 dim 0 keepdim', { x: inp([4, 3], 134) }, 'x.kthvalue(3, 0, keepdim=True)', (t) => t.x.kthvalue(3, 0, true)),
  ...pair('kthvalue k=size dim -2', { x: inp([2, 4, 3], 135) }, 'x.kthvalue(4, -2)', (t) => t.x.kthvalue(4, -2)),
  ...pair('cummax dim 1', { x: inp([3, 6], 136) }, 'x.cummax(1)', (t) => t.x.cummax(1)),
  ...pair('cummin dim 0', { x: inp([5, 3], 137) }, 'x.cummin(0)', (t) => t.x.cummin(0)),
  ...pair('cummax dim -1 int64 distinct', { x: of([3, 1, 4, 0, 5, 9, 2, 6, -4, 8, -1, 7], [2, 6]) }, 'x.cummax(-1)', (t) => t.x.cummax(-1)),
];

const SHAPE: Case[] = [
  { name: 'tril', inputs: { x: inp([2, 3, 4], 200) }, py: 'x.tril()', ts: (t) => t.x.tril() },
  { name: 'tril diagonal 1', inputs: { x: inp([3, 4], 201) }, py: 'x.tril(1)', ts: (t) => t.x.tril(1) },
  { name: 'torch.tril diagonal -1', inputs: { x: inp([2, 4, 3], 202) }, py: 'torch.tril(x, -1)', ts: (t) => torch.tril(t.x, -1) },
  { name: 'triu', inputs: { x: inp([3, 4], 203) }, py: 'x.triu()', ts: (t) => t.x.triu() },
  { name: 'triu diagonal -1 batched', inputs: { x: inp([2, 3, 4], 204) }, py: 'x.triu(-1)', ts: (t) => t.x.triu(-1) },
  { name: 'torch.triu diagonal 2', inputs: { x: inp([4, 4], 205) }, py: 'torch.triu(x, 2)', ts: (t) => torch.triu(t.x, 2) },
  { name: 'tril int64 diagonal -5 (all zero)', inputs: { x: ints([3, 3], 1, 9, 206) }, py: 'x.tril(-5)', ts: (t) => t.x.tril(-5) },
  { name: 'diag of 1-d', inputs: { x: inp([3], 207) }, py: 'x.diag()', ts: (t) => t.x.diag() },
  { name: 'diag of 1-d offset 1', inputs: { x: inp([3], 208) }, py: 'x.diag(1)', ts: (t) => t.x.diag(1) },
  { name: 'diag of 1-d offset -2', inputs: { x: inp([2], 209) }, py: 'x.diag(-2)', ts: (t) => t.x.diag(-2) },
  { name: 'diag of 2-d', inputs: { x: inp([3, 4], 210) }, py: 'x.diag()', ts: (t) => t.x.diag() },
  { name: 'diag of 2-d offset 2', inputs: { x: inp([3, 4], 211) }, py: 'x.diag(2)', ts: (t) => t.x.diag(2) },
  { name: 'diag of 2-d offset -1', inputs: { x: inp([3, 4], 212) }, py: 'x.diag(-1)', ts: (t) => t.x.diag(-1) },
  { name: 'diagonal default', inputs: { x: inp([3, 4], 213) }, py: 'x.diagonal()', ts: (t) => t.x.diagonal() },
  { name: 'diagonal offset 1 dims (1, 2)', inputs: { x: inp([2, 3, 4], 214) }, py: 'x.diagonal(1, 1, 2)', ts: (t) => t.x.diagonal(1, 1, 2) },
  { name: 'diagonal offset -1 dims (-1, 0)', inputs: { x: inp([3, 2, 4], 215) }, py: 'x.diagonal(-1, -1, 0)', ts: (t) => t.x.diagonal(-1, -1, 0) },
  { name: 'movedim 0 -> -1', inputs: { x: inp([2, 3, 4], 216) }, py: 'x.movedim(0, -1)', ts: (t) => t.x.movedim(0, -1) },
  { name: 'movedim [0, 1] -> [2, 0]', inputs: { x: inp([2, 3, 4], 217) }, py: 'x.movedim([0, 1], [2, 0])', ts: (t) => t.x.movedim([0, 1], [2, 0]) },
  { name: 'rot90 default', inputs: { x: inp([3, 4], 218) }, py: 'x.rot90()', ts: (t) => t.x.rot90() },
  { name: 'rot90 k=2', inputs: { x: inp([3, 4], 219) }, py: 'x.rot90(2)', ts: (t) => t.x.rot90(2) },
  { name: 'rot90 k=-1 dims [1, 2]', inputs: { x: inp([2, 3, 4], 220) }, py: 'x.rot90(-1, [1, 2])', ts: (t) => t.x.rot90(-1, [1, 2]) },
  { name: 'rot90 k=5 dims [2, 0]', inputs: { x: inp([2, 3, 4], 221) }, py: 'x.rot90(5, [2, 0])', ts: (t) => t.x.rot90(5, [2, 0]) },
  { name: 'tile fewer dims than the tensor', inputs: { x: inp([2, 3], 222) }, py: 'x.tile((2,))', ts: (t) => t.x.tile(2) },
  { name: 'tile more dims than the tensor', inputs: { x: inp([2, 3], 223) }, py: 'x.tile((2, 1, 3))', ts: (t) => t.x.tile(2, 1, 3) },
  { name: 'tile as an array', inputs: { x: inp([3], 224) }, py: 'x.tile((2, 2))', ts: (t) => t.x.tile([2, 2]) },
  { name: 'unflatten dim 1 [2, -1]', inputs: { x: inp([3, 6], 225) }, py: 'x.unflatten(1, (2, -1))', ts: (t) => t.x.unflatten(1, [2, -1]) },
  { name: 'unflatten dim -1 [3, 1, 2]', inputs: { x: inp([2, 6], 226) }, py: 'x.unflatten(-1, (3, 1, 2))', ts: (t) => t.x.unflatten(-1, [3, 1, 2]) },
  { name: 'unbind dim 1 (restacked)', inputs: { x: inp([2, 3, 4], 227) }, py: 'torch.stack(x.unbind(1))', ts: (t) => torch.stack(t.x.unbind(1)) },
  { name: 'unbind dim -1, one piece', inputs: { x: inp([2, 3, 4], 228) }, py: 'x.unbind(-1)[2]', ts: (t) => t.x.unbind(-1)[2] },
  { name: 'expandAs', inputs: { x: inp([3, 1], 229), y: cst([2, 3, 4], 230) }, py: 'x.expand_as(y)', ts: (t) => t.x.expandAs(t.y) },
  { name: 'viewAs', inputs: { x: inp([2, 6], 231), y: cst([3, 4], 232) }, py: 'x.view_as(y)', ts: (t) => t.x.viewAs(t.y) },
  { name: 'reshapeAs (non-contiguous)', inputs: { x: inp([4, 3], 233), y: cst([2, 6], 234) }, py: 'x.t().reshape_as(y)', ts: (t) => t.x.t().reshapeAs(t.y) },
  { name: 'fullLike', inputs: { x: cst([2, 3], 235) }, py: 'torch.full_like(x, 2.5)', ts: (t) => torch.fullLike(t.x, 2.5) },
  { name: 'fullLike dtype int32', inputs: { x: cst([2, 3], 236) }, py: 'torch.full_like(x, 7, dtype=torch.int32)', ts: (t) => torch.fullLike(t.x, 7, { dtype: 'int32' }) },
  { name: 'logspace base 2 float64', inputs: {}, py: 'torch.logspace(-1, 2, 7, base=2, dtype=torch.float64)', ts: () => torch.logspace(-1, 2, 7, 2, { dtype: 'float64' }) },
  { name: 'logspace base 10 float64', inputs: {}, py: 'torch.logspace(-2, 3, 11, dtype=torch.float64)', ts: () => torch.logspace(-2, 3, 11, 10, { dtype: 'float64' }) },
  // float32 by default: PyTorch computes in float32, ictorch in float64 then rounds, so 1 ulp may differ.
  { name: 'logspace default float32', inputs: {}, py: 'torch.logspace(0, 3, 4)', ts: () => torch.logspace(0, 3, 4), tol: 1e-6 },
  { name: 'logspace steps 0', inputs: {}, py: 'torch.logspace(0, 1, 0, dtype=torch.float64)', ts: () => torch.logspace(0, 1, 0, 10, { dtype: 'float64' }) },
  { name: 'logspace steps 1', inputs: {}, py: 'torch.logspace(2, 5, 1, dtype=torch.float64)', ts: () => torch.logspace(2, 5, 1, 10, { dtype: 'float64' }) },
  { name: 'meshgrid ij three tensors', inputs: { a: inp([2], 237), b: inp([3], 238), c: inp([4], 239) }, py: "torch.stack(torch.meshgrid(a, b, c, indexing='ij'))", ts: (t) => torch.stack(torch.meshgrid([t.a, t.b, t.c], { indexing: 'ij' })) },
  { name: 'meshgrid default is ij', inputs: { a: inp([2], 240), b: inp([3], 241) }, py: "torch.stack(torch.meshgrid(a, b, indexing='ij'))", ts: (t) => torch.stack(torch.meshgrid([t.a, t.b])) },
  { name: 'meshgrid xy two tensors', inputs: { a: inp([2], 242), b: inp([3], 243) }, py: "torch.stack(torch.meshgrid(a, b, indexing='xy'))", ts: (t) => torch.stack(torch.meshgrid([t.a, t.b], { indexing: 'xy' })) },
  { name: 'meshgrid xy three tensors', inputs: { a: inp([2], 244), b: inp([3], 245), c: inp([4], 246) }, py: "torch.stack(torch.meshgrid(a, b, c, indexing='xy'))", ts: (t) => torch.stack(torch.meshgrid([t.a, t.b, t.c], { indexing: 'xy' })) },
];

const INDEX: Case[] = [
  { name: 'gather dim 1', inputs: { x: inp([3, 4], 300), i: ints([3, 5], 0, 4, 301) }, py: 'x.gather(1, i)', ts: (t) => t.x.gather(1, t.i) },
  { name: 'indexSelect dim -1 repeated', inputs: { x: inp([3, 4], 302), i: of([3, 0, 3, 1]) }, py: 'x.index_select(-1, i)', ts: (t) => t.x.indexSelect(-1, t.i) },
  { name: 'takeAlongDim dim 1', inputs: { x: inp([3, 4], 303), i: ints([3, 2], 0, 4, 304) }, py: 'torch.take_along_dim(x, i, dim=1)', ts: (t) => t.x.takeAlongDim(t.i, 1) },
  { name: 'takeAlongDim broadcasts indices', inputs: { x: inp([2, 3, 4], 305), i: ints([2, 1, 2], 0, 4, 306) }, py: 'torch.take_along_dim(x, i, dim=2)', ts: (t) => t.x.takeAlongDim(t.i, 2) },
  { name: 'takeAlongDim broadcasts self', inputs: { x: inp([1, 4], 307), i: ints([3, 2], 0, 4, 308) }, py: 'torch.take_along_dim(x, i, dim=-1)', ts: (t) => t.x.takeAlongDim(t.i, -1) },
  { name: 'takeAlongDim argsort', inputs: { x: inp([3, 4], 309) }, py: 'torch.take_along_dim(x, x.argsort(0), dim=0)', ts: (t) => t.x.takeAlongDim(t.x.argsort(0), 0) },
  { name: 'takeAlongDim flattened', inputs: { x: inp([3, 4], 310), i: of([11, 0, 5, 5], [2, 2]) }, py: 'torch.take_along_dim(x, i)', ts: (t) => t.x.takeAlongDim(t.i) },
  { name: 'scatter tensor src dim 1', inputs: { x: inp([3, 5], 311), i: of([0, 4, 1, 3, 2, 0], [3, 2]), s: inp([3, 2], 312) }, py: 'x.scatter(1, i, s)', ts: (t) => t.x.scatter(1, t.i, t.s) },
  // A src larger than index: LibTorch 1.13's ScatterBackward0 fails on it (in PyTorch too), so values only.
  { name: 'scatter src larger than index', inputs: { x: cst([3, 5], 311), i: of([0, 4, 1, 3, 2, 0], [3, 2]), s: cst([3, 3], 312) }, py: 'x.scatter(1, i, s)', ts: (t) => t.x.scatter(1, t.i, t.s) },
  { name: 'scatter tensor src dim 0', inputs: { x: inp([4, 3], 313), i: of([3, 0, 1, 1, 2, 3], [2, 3]), s: inp([2, 3], 314) }, py: 'x.scatter(0, i, s)', ts: (t) => t.x.scatter(0, t.i, t.s) },
  { name: 'scatter number', inputs: { x: inp([3, 5], 315), i: of([0, 4, 1, 3, 2, 2], [3, 2]) }, py: 'x.scatter(1, i, -2.5)', ts: (t) => t.x.scatter(1, t.i, -2.5) },
  { name: 'scatter int64 negative dim', inputs: { x: ints([3, 4], 0, 9, 316), i: of([1, 3, 0, 2], [2, 2]), s: ints([2, 2], 10, 20, 317) }, py: 'x.scatter(-1, i, s)', ts: (t) => t.x.scatter(-1, t.i, t.s) },
  { name: 'scatterAdd duplicates dim 1', inputs: { x: inp([3, 4], 318), i: of([0, 0, 3, 1, 0, 2, 2, 2, 2, 2, 3, 1, 1, 3, 0], [3, 5]), s: inp([3, 5], 319) }, py: 'x.scatter_add(1, i, s)', ts: (t) => t.x.scatterAdd(1, t.i, t.s) },
  { name: 'scatterAdd duplicates dim 0', inputs: { x: inp([3, 2], 320), i: of([2, 0, 2, 0, 1, 0], [3, 2]), s: inp([3, 2], 321) }, py: 'x.scatter_add(0, i, s)', ts: (t) => t.x.scatterAdd(0, t.i, t.s) },
  { name: 'scatterAdd src larger than index (values)', inputs: { x: cst([3, 2], 320), i: of([2, 0, 2, 0, 1, 0], [3, 2]), s: cst([4, 3], 321) }, py: 'x.scatter_add(0, i, s)', ts: (t) => t.x.scatterAdd(0, t.i, t.s) },
  { name: 'indexAdd duplicates alpha', inputs: { x: inp([5, 3], 322), i: of([0, 2, 2, 4]), s: inp([4, 3], 323) }, py: 'x.index_add(0, i, s, alpha=2.5)', ts: (t) => t.x.indexAdd(0, t.i, t.s, 2.5) },
  { name: 'indexAdd dim -1', inputs: { x: inp([2, 4], 324), i: of([3, 1, 3]), s: inp([2, 3], 325) }, py: 'x.index_add(-1, i, s)', ts: (t) => t.x.indexAdd(-1, t.i, t.s) },
  { name: 'indexAdd int64 alpha', inputs: { x: ints([4], 0, 9, 326), i: of([1, 1, 3]), s: ints([3], -5, 5, 327) }, py: 'x.index_add(0, i, s, alpha=3)', ts: (t) => t.x.indexAdd(0, t.i, t.s, 3) },
  { name: 'indexFill negative indices', inputs: { x: inp([4, 3], 328), i: of([-1, 1]) }, py: 'x.index_fill(0, i, -2.0)', ts: (t) => t.x.indexFill(0, t.i, -2) },
  { name: 'indexFill dim 1 with a 0-d tensor value', inputs: { x: inp([3, 4], 329), i: of([0, 2]), v: f64([1.75], [], true) }, py: 'x.index_fill(1, i, v)', ts: (t) => t.x.indexFill(1, t.i, t.v) },
  // Negative indices with a tensor value: LibTorch 1.13's backward index_selects them unwrapped and fails (PyTorch too).
  { name: 'indexFill negative indices, 0-d tensor value (values)', inputs: { x: cst([3, 4], 329), i: of([0, -2]), v: f64([1.75], []) }, py: 'x.index_fill(1, i, v)', ts: (t) => t.x.indexFill(1, t.i, t.v) },
  { name: 'indexCopy dim 0', inputs: { x: inp([5, 3], 330), i: of([4, 0, 2]), s: inp([3, 3], 331) }, py: 'x.index_copy(0, i, s)', ts: (t) => t.x.indexCopy(0, t.i, t.s) },
  { name: 'indexCopy dim -1', inputs: { x: inp([2, 4], 332), i: of([1, 3]), s: inp([2, 2], 333) }, py: 'x.index_copy(-1, i, s)', ts: (t) => t.x.indexCopy(-1, t.i, t.s) },
  { name: 'maskedFill number', inputs: { x: inp([3, 4], 334), m: mask([3, 4], 335) }, py: 'x.masked_fill(m, -1.5)', ts: (t) => t.x.maskedFill(t.m, -1.5) },
  { name: 'maskedFill broadcast mask [4]', inputs: { x: inp([3, 4], 336), m: of([1, 0, 0, 1], [4], 'bool') }, py: 'x.masked_fill(m, 3.0)', ts: (t) => t.x.maskedFill(t.m, 3) },
  { name: 'maskedFill broadcast mask [3, 1], 0-d tensor value', inputs: { x: inp([3, 4], 337), m: of([0, 1, 1], [3, 1], 'bool'), v: f64([0.25], [], true) }, py: 'x.masked_fill(m, v)', ts: (t) => t.x.maskedFill(t.m, t.v) },
  { name: 'maskedFill int64', inputs: { x: ints([2, 3], 0, 9, 338), m: mask([2, 3], 339, 0.5) }, py: 'x.masked_fill(m, -7)', ts: (t) => t.x.maskedFill(t.m, -7) },
  { name: 'maskedScatter', inputs: { x: inp([3, 4], 340), m: mask([3, 4], 341, 0.5), s: inp([12], 342) }, py: 'x.masked_scatter(m, s)', ts: (t) => t.x.maskedScatter(t.m, t.s) },
  { name: 'maskedScatter values', inputs: { x: cst([3, 4], 340), m: mask([3, 4], 341, 0.5), s: cst([12], 342) }, py: 'x.masked_scatter(m, s)', ts: (t) => t.x.maskedScatter(t.m, t.s) },
  { name: 'maskedScatter broadcast mask, 2-d source', inputs: { x: inp([3, 4], 343), m: of([0, 1, 1, 0], [4], 'bool'), s: inp([2, 4], 344) }, py: 'x.masked_scatter(m, s)', ts: (t) => t.x.maskedScatter(t.m, t.s) },
  { name: 'maskedScatter broadcast mask, 2-d source (values)', inputs: { x: cst([3, 4], 343), m: of([0, 1, 1, 0], [4], 'bool'), s: cst([2, 4], 344) }, py: 'x.masked_scatter(m, s)', ts: (t) => t.x.maskedScatter(t.m, t.s) },
  { name: 'nonzero 2-d int64', inputs: { x: ints([3, 4], -1, 2, 345) }, py: 'x.nonzero()', ts: (t) => t.x.nonzero() },
  { name: 'nonzero 3-d float', inputs: { x: cst([2, 2, 3], 346), m: mask([2, 2, 3], 347, 0.5) }, py: 'x.masked_fill(m, 0).nonzero()', ts: (t) => t.x.maskedFill(t.m, 0).nonzero() },
  { name: 'nonzero asTuple of a 0-d tensor (as 1-d)', inputs: { x: f64([5], []) }, py: 'torch.stack(x.nonzero(as_tuple=True))', ts: (t) => torch.stack(t.x.nonzero({ asTuple: true })) },
  { name: 'nonzero none', inputs: { x: of([0, 0, 0], [3], 'float64') }, py: 'x.nonzero()', ts: (t) => t.x.nonzero() },
  { name: 'nonzero asTuple (stacked)', inputs: { x: ints([3, 4], -1, 2, 348) }, py: 'torch.stack(x.nonzero(as_tuple=True))', ts: (t) => torch.stack(t.x.nonzero({ asTuple: true })) },
  { name: 'nonzero asTuple indexes the elements', inputs: { x: inp([3, 4], 349) }, py: 'x[(x > 0).nonzero(as_tuple=True)]', ts: (t) => t.x.index(...t.x.gt(0).nonzero({ asTuple: true })) },
  { name: 'unique sorted', inputs: { x: of([3, 1, 2, 3, 7, 1, -4, 2], [2, 4]) }, py: 'torch.unique(x)', ts: (t) => t.x.unique() },
  { name: 'unique float64', inputs: { x: of([0.5, -1, 0.5, 2.25, -1, 3], [6], 'float64') }, py: 'torch.unique(x)', ts: (t) => t.x.unique() },
  { name: 'unique returnInverse: inverse', inputs: { x: of([3, 1, 2, 3, 7, 1, -4, 2], [2, 4]) }, py: 'torch.unique(x, return_inverse=True)[1]', ts: (t) => t.x.unique({ returnInverse: true })[1] },
  { name: 'unique returnCounts: counts', inputs: { x: of([3, 1, 2, 3, 7, 1, -4, 2]) }, py: 'torch.unique(x, return_counts=True)[1]', ts: (t) => t.x.unique({ returnCounts: true })[1] },
  { name: 'unique both: values', inputs: { x: of([5, 5, 1, 0, 1, 5]) }, py: 'torch.unique(x, return_inverse=True, return_counts=True)[0]', ts: (t) => t.x.unique({ returnInverse: true, returnCounts: true })[0] },
  { name: 'unique both: inverse', inputs: { x: of([5, 5, 1, 0, 1, 5]) }, py: 'torch.unique(x, return_inverse=True, return_counts=True)[1]', ts: (t) => t.x.unique({ returnInverse: true, returnCounts: true })[1] },
  { name: 'unique both: counts', inputs: { x: of([5, 5, 1, 0, 1, 5]) }, py: 'torch.unique(x, return_inverse=True, return_counts=True)[2]', ts: (t) => t.x.unique({ returnInverse: true, returnCounts: true })[2] },
  // unsorted order is the kernel's and changed between LibTorch releases: the same values, compared sorted
  { name: 'unique sorted false', inputs: { x: of([3, 1, 2, 3, 7, 1, -4, 2]) }, py: 'torch.unique(x, sorted=False).sort()[0]', ts: (t) => t.x.unique({ sorted: false }).sort()[0] },
  { name: 'unique dim 0 (rows)', inputs: { x: of([1, 2, 0, 1, 1, 2, 0, 0, 1, 2, 0, 1], [4, 3]) }, py: 'torch.unique(x, dim=0)', ts: (t) => t.x.unique({ dim: 0 }) },
  { name: 'unique dim 0: inverse', inputs: { x: of([1, 2, 0, 1, 1, 2, 0, 0, 1, 2, 0, 1], [4, 3]) }, py: 'torch.unique(x, dim=0, return_inverse=True)[1]', ts: (t) => t.x.unique({ dim: 0, returnInverse: true })[1] },
  { name: 'unique dim 1 (columns): counts', inputs: { x: of([1, 0, 1, 2, 3, 2, 3, 1], [2, 4]) }, py: 'torch.unique(x, dim=1, return_counts=True)[1]', ts: (t) => t.x.unique({ dim: 1, returnCounts: true })[1] },
  { name: 'unique dim -1 (columns)', inputs: { x: of([1, 0, 1, 2, 3, 2, 3, 1], [2, 4]) }, py: 'torch.unique(x, dim=-1)', ts: (t) => t.x.unique({ dim: -1 }) },
  { name: 'bincount', inputs: { x: ints([12], 0, 5, 350) }, py: 'x.bincount()', ts: (t) => t.x.bincount() },
  { name: 'bincount weights float64', inputs: { x: ints([12], 0, 5, 351), w: cst([12], 352) }, py: 'x.bincount(w)', ts: (t) => t.x.bincount(t.w) },
  { name: 'bincount weights float32', inputs: { x: ints([8], 0, 4, 356), w: cst([8], 357) }, py: 'x.bincount(w.float())', ts: (t) => t.x.bincount(t.w.to('float32')), tol: 1e-6 },
  { name: 'bincount minlength', inputs: { x: of([1, 1, 3]) }, py: 'x.bincount(minlength=7)', ts: (t) => t.x.bincount(null, 7) },
  { name: 'bincount empty, minlength', inputs: { x: of([], [0]) }, py: 'x.bincount(minlength=3)', ts: (t) => t.x.bincount(null, 3) },
  { name: 'histc bins min max', inputs: { x: cst([30], 353, { scale: 1.5 }) }, py: 'x.histc(5, -1, 1)', ts: (t) => t.x.histc(5, -1, 1) },
  { name: 'histc data range', inputs: { x: cst([20], 354) }, py: 'x.histc(4)', ts: (t) => t.x.histc(4) },
  { name: 'histc defaults', inputs: { x: cst([50], 355) }, py: 'x.histc()', ts: (t) => t.x.histc() },
  { name: 'searchsorted 1-d', inputs: { s: f64([0.1, 0.3, 0.3, 0.7, 1]), v: f64([0.3, 0, 0.5, 1, 2, 0.1], [2, 3]) }, py: 'torch.searchsorted(s, v)', ts: (t) => torch.searchsorted(t.s, t.v) },
  { name: 'searchsorted 1-d right', inputs: { s: f64([0.1, 0.3, 0.3, 0.7, 1]), v: f64([0.3, 0, 0.5, 1, 2, 0.1], [2, 3]) }, py: 'torch.searchsorted(s, v, right=True)', ts: (t) => torch.searchsorted(t.s, t.v, { right: true }) },
  { name: 'searchsorted 2-d rows', inputs: { s: of([1, 3, 5, 7, 2, 4, 4, 8], [2, 4]), v: of([3, 6, 9, 4, 0, 8], [2, 3]) }, py: 'torch.searchsorted(s, v)', ts: (t) => torch.searchsorted(t.s, t.v) },
  { name: 'searchsorted 2-d right outInt32', inputs: { s: of([1, 3, 5, 7, 2, 4, 4, 8], [2, 4]), v: of([3, 6, 9, 4, 0, 8], [2, 3]) }, py: 'torch.searchsorted(s, v, right=True, out_int32=True)', ts: (t) => torch.searchsorted(t.s, t.v, { right: true, outInt32: true }) },
  { name: 'searchsorted a number', inputs: { s: f64([0.1, 0.3, 0.3, 0.7]) }, py: 'torch.searchsorted(s, 0.3)', ts: (t) => torch.searchsorted(t.s, 0.3) },
  { name: 'searchsorted a number right', inputs: { s: f64([0.1, 0.3, 0.3, 0.7]) }, py: 'torch.searchsorted(s, 0.3, right=True)', ts: (t) => torch.searchsorted(t.s, 0.3, { right: true }) },
  { name: 'bucketize', inputs: { x: f64([0.3, 0, 0.5, 1, 2, 0.1], [3, 2]), b: f64([0.1, 0.3, 0.7, 1]) }, py: 'torch.bucketize(x, b)', ts: (t) => torch.bucketize(t.x, t.b) },
  { name: 'bucketize right outInt32', inputs: { x: f64([0.3, 0, 0.5, 1, 2, 0.1], [3, 2]), b: f64([0.1, 0.3, 0.7, 1]) }, py: 'torch.bucketize(x, b, right=True, out_int32=True)', ts: (t) => torch.bucketize(t.x, t.b, { right: true, outInt32: true }) },
  { name: 'cdist p=2', inputs: { a: inp([4, 3], 356), b: inp([5, 3], 357) }, py: 'torch.cdist(a, b)', ts: (t) => torch.cdist(t.a, t.b) },
  { name: 'cdist p=1', inputs: { a: inp([4, 3], 358), b: inp([5, 3], 359) }, py: 'torch.cdist(a, b, p=1)', ts: (t) => torch.cdist(t.a, t.b, 1) },
  { name: 'cdist p=inf', inputs: { a: inp([4, 3], 360), b: inp([5, 3], 361) }, py: `torch.cdist(a, b, p=${INF})`, ts: (t) => torch.cdist(t.a, t.b, Infinity) },
  { name: 'cdist batched p=3', inputs: { a: inp([2, 3, 4], 362), b: inp([2, 5, 4], 363) }, py: 'torch.cdist(a, b, p=3)', ts: (t) => torch.cdist(t.a, t.b, 3) },
  { name: 'cdist p=0 (count of differing features)', inputs: { a: of([1, 2, 3, 1, 0, 3], [2, 3], 'float64'), b: of([1, 2, 0, 0, 0, 0, 1, 0, 3], [3, 3], 'float64') }, py: 'torch.cdist(a, b, p=0)', ts: (t) => torch.cdist(t.a, t.b, 0), noGrad: true },
];

const SAMPLING: Case[] = [
  { name: 'randperm 10 seed 0', inputs: {}, py: 'torch.randperm(10)', ts: () => torch.randperm(10), seed: 0 },
  { name: 'randperm 1 seed 3', inputs: {}, py: 'torch.randperm(1)', ts: () => torch.randperm(1), seed: 3 },
  { name: 'randperm 0', inputs: {}, py: 'torch.randperm(0)', ts: () => torch.randperm(0), seed: 3 },
  { name: 'randperm 100 seed 42', inputs: {}, py: 'torch.randperm(100)', ts: () => torch.randperm(100), seed: 42 },
  { name: 'randperm 5000 seed 7', inputs: {}, py: 'torch.randperm(5000)', ts: () => torch.randperm(5000), seed: 7 },
  { name: 'randperm int32', inputs: {}, py: 'torch.randperm(20, dtype=torch.int32)', ts: () => torch.randperm(20, { dtype: 'int32' }), seed: 11 },
  { name: 'randperm float64', inputs: {}, py: 'torch.randperm(20, dtype=torch.float64)', ts: () => torch.randperm(20, { dtype: 'float64' }), seed: 12 },
  { name: 'randperm twice (the stream advances)', inputs: {}, py: 'torch.cat([torch.randperm(8), torch.randperm(8)])', ts: () => torch.cat([torch.randperm(8), torch.randperm(8)]), seed: 13 },
  {
    name: 'randperm generator',
    inputs: {},
    py: 'torch.randperm(30, generator=torch.Generator().manual_seed(5))',
    ts: () => withGenerator(5, (g) => torch.randperm(30, { generator: g })),
    seed: 99,
  },
  { name: 'multinomial without replacement', inputs: { p: cst([6], 400, { positive: true }) }, py: 'p.multinomial(4)', ts: (t) => t.p.multinomial(4), seed: 1 },
  { name: 'multinomial with replacement', inputs: { p: cst([5], 401, { positive: true }) }, py: 'p.multinomial(20, True)', ts: (t) => t.p.multinomial(20, true), seed: 2 },
  { name: 'multinomial 2-d rows', inputs: { p: cst([3, 6], 402, { positive: true }) }, py: 'torch.multinomial(p, 3)', ts: (t) => torch.multinomial(t.p, 3), seed: 3 },
  { name: 'multinomial 2-d with replacement float32', inputs: { p: cst([3, 4], 403, { positive: true }) }, py: 'torch.multinomial(p.float(), 8, replacement=True)', ts: (t) => torch.multinomial(t.p.to('float32'), 8, true), seed: 4 },
  { name: 'multinomial all categories', inputs: { p: cst([7], 404, { positive: true }) }, py: 'p.multinomial(7)', ts: (t) => t.p.multinomial(7), seed: 5 },
  {
    name: 'multinomial generator',
    inputs: { p: cst([2, 5], 405, { positive: true }) },
    py: 'p.multinomial(3, generator=torch.Generator().manual_seed(8))',
    ts: (t) => withGenerator(8, (g) => t.p.multinomial(3, false, { generator: g })),
    seed: 6,
  },
  { name: 'bernoulli', inputs: { p: cst([4, 6], 406, { positive: true, scale: 0.8 }) }, py: 'p.bernoulli()', ts: (t) => t.p.bernoulli(), seed: 7 },
  { name: 'torch.bernoulli', inputs: { p: cst([30], 407, { positive: true, scale: 0.8 }) }, py: 'torch.bernoulli(p)', ts: (t) => torch.bernoulli(t.p), seed: 8 },
  { name: 'torch.bernoulli with p', inputs: { x: cst([5, 6], 408) }, py: 'torch.bernoulli(x, 0.3)', ts: (t) => torch.bernoulli(t.x, 0.3), seed: 9 },
  { name: 'bernoulli float32', inputs: { p: cst([40], 409, { positive: true, scale: 0.8 }) }, py: 'p.float().bernoulli()', ts: (t) => t.p.to('float32').bernoulli(), seed: 10 },
  {
    name: 'bernoulli generator',
    inputs: { p: cst([20], 410, { positive: true, scale: 0.8 }) },
    py: 'p.bernoulli(generator=torch.Generator().manual_seed(9))',
    ts: (t) => withGenerator(9, (g) => t.p.bernoulli({ generator: g })),
    seed: 11,
  },
  {
    name: 'torch.bernoulli with p and generator',
    inputs: { x: cst([20], 411) },
    py: 'torch.bernoulli(x, 0.6, generator=torch.Generator().manual_seed(10))',
    ts: (t) => withGenerator(10, (g) => torch.bernoulli(t.x, 0.6, { generator: g })),
    seed: 12,
  },
  { name: 'torch.poisson', inputs: { r: cst([5, 8], 412, { positive: true, scale: 6 }) }, py: 'torch.poisson(r)', ts: (t) => torch.poisson(t.r), seed: 13 },
  { name: 'torch.poisson float32, a zero rate', inputs: { r: f64([0, 0.5, 3, 40, 900]) }, py: 'torch.poisson(r.float())', ts: (t) => torch.poisson(t.r.to('float32')), seed: 14 },
  {
    name: 'torch.poisson generator',
    inputs: { r: cst([12], 413, { positive: true, scale: 3 }) },
    py: 'torch.poisson(r, generator=torch.Generator().manual_seed(11))',
    ts: (t) => withGenerator(11, (g) => torch.poisson(t.r, { generator: g })),
    seed: 15,
  },
  { name: 'exponential_', inputs: { x: cst([4, 5], 414) }, py: 'x.clone().exponential_()', ts: (t) => t.x.clone().exponential_(), seed: 16 },
  { name: 'exponential_ rate 2.5 float32', inputs: { x: cst([30], 415) }, py: 'x.float().exponential_(2.5)', ts: (t) => t.x.to('float32').exponential_(2.5), seed: 17 },
  {
    name: 'exponential_ generator',
    inputs: { x: cst([10], 416) },
    py: 'x.clone().exponential_(0.5, generator=torch.Generator().manual_seed(12))',
    ts: (t) => withGenerator(12, (g) => t.x.clone().exponential_(0.5, { generator: g })),
    seed: 18,
  },
  { name: 'uniform_', inputs: { x: cst([4, 5], 417) }, py: 'x.clone().uniform_()', ts: (t) => t.x.clone().uniform_(), seed: 19 },
  { name: 'uniform_ (-2, 3) float32', inputs: { x: cst([30], 418) }, py: 'x.float().uniform_(-2, 3)', ts: (t) => t.x.to('float32').uniform_(-2, 3), seed: 20 },
  { name: 'normal_ (1, 2) float32', inputs: { x: cst([31], 419) }, py: 'x.float().normal_(1, 2)', ts: (t) => t.x.to('float32').normal_(1, 2), seed: 21 },
  { name: 'normal_ float64', inputs: { x: cst([7], 420) }, py: 'x.clone().normal_()', ts: (t) => t.x.clone().normal_(), seed: 22 },
  { name: 'cauchy_ (0.5, 2)', inputs: { x: cst([12], 421) }, py: 'x.clone().cauchy_(0.5, 2)', ts: (t) => t.x.clone().cauchy_(0.5, 2), seed: 23 },
  {
    name: 'uniform_, normal_ and cauchy_ with a generator',
    inputs: { x: cst([6], 422) },
    py: '(lambda g: torch.cat([x.clone().uniform_(-1, 1, generator=g), x.clone().normal_(0, 3, generator=g), x.clone().cauchy_(generator=g)]))(torch.Generator().manual_seed(13))',
    ts: (t) => withGenerator(13, (g) => torch.cat([t.x.clone().uniform_(-1, 1, { generator: g }), t.x.clone().normal_(0, 3, { generator: g }), t.x.clone().cauchy_(0, 1, { generator: g })])),
    seed: 24,
  },
  {
    // nn.init fills through these samplers, as PyTorch's does: the same initial weights for the same seed
    name: 'nn.init samplers and the default Conv2d and Linear initialisation',
    inputs: { x: cst([1], 423) },
    py: 'torch.cat([torch.nn.init.kaiming_uniform_(torch.empty(8, 4, 3, 3), a=5 ** 0.5).flatten(), torch.nn.init.kaiming_normal_(torch.empty(6, 5), mode="fan_out").flatten(), torch.nn.init.xavier_uniform_(torch.empty(5, 7)).flatten(), torch.nn.init.uniform_(torch.empty(9), -0.3, 0.7), torch.nn.Conv2d(4, 8, 3).weight.detach().flatten(), torch.nn.Linear(6, 3).bias.detach()])',
    ts: () => {
      const { init } = torch.nn;
      return torch.cat([
        init.kaimingUniform_(torch.empty([8, 4, 3, 3]), { a: Math.sqrt(5), nonlinearity: 'leakyRelu' }).reshape([-1]),
        init.kaimingNormal_(torch.empty([6, 5]), { mode: 'fanOut', nonlinearity: 'leakyRelu' }).reshape([-1]),
        init.xavierUniform_(torch.empty([5, 7])).reshape([-1]),
        init.uniform_(torch.empty([9]), -0.3, 0.7),
        (new torch.nn.Conv2d(4, 8, 3).weight as Tensor).detach().reshape([-1]),
        (new torch.nn.Linear(6, 3).bias as Tensor).detach(),
      ]);
    },
    seed: 25,
  },
];

function withGenerator(seed: number, f: (g: Generator) => Tensor): Tensor {
  const g = new Generator().manualSeed(seed);
  try {
    return f(g);
  } finally {
    g.dispose();
  }
}

// ---------------------------------------------------------------- comparing with Python

interface Ours {
  shape: number[];
  dtype: DType;
  out: number[];
  grads: Record<string, number[] | null>;
  gradOut: number[] | undefined;
}

const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';

/** Runs every case in ictorch (now) and Python (in beforeAll, one process), and compares them. */
function compareWithTorch(title: string, cases: Case[]): void {
  describe.skipIf(!hasTorch)(`${title} equal python3-torch's (values, dtypes, input gradients; needs python3 with torch)`, () => {
    const ours = new Map<string, Ours | Error>();
    for (const c of cases) {
      try {
        tidy(() => {
          const ts = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, toTensor(v)]));
          if (c.seed !== undefined) manualSeed(c.seed);
          const out = c.ts(ts);
          const wantsGrad = !c.noGrad && isFloat(out.dtype) && Object.values(c.inputs).some((v) => v.grad);
          const gradOut = wantsGrad ? values(out.numel(), 999) : undefined;
          const grads: Record<string, number[] | null> = {};
          if (gradOut) {
            out.backward(tensor(Float64Array.from(gradOut), { shape: out.shape, dtype: out.dtype }));
            for (const [k, v] of Object.entries(c.inputs)) if (v.grad) grads[k] = ts[k].grad ? flat(ts[k].grad!) : null;
          }
          ours.set(c.name, { shape: out.shape, dtype: out.dtype, out: flat(out), grads, gradOut });
        });
      } catch (e) {
        ours.set(c.name, e as Error);
      }
    }
    let ref: Awaited<ReturnType<typeof runCases>>;
    beforeAll(async () => {
      const py: PyCase[] = [];
      for (const c of cases) {
        const o = ours.get(c.name);
        py.push({ name: c.name, inputs: c.inputs, expr: c.py, seed: c.seed, gradOut: o instanceof Error ? undefined : o?.gradOut });
        // The dtype, as its index in DTYPES.
        py.push({ name: `${c.name} #dtype`, inputs: c.inputs, expr: `torch.tensor(float(${JSON.stringify(DTYPES)}.index(str((${c.py}).dtype).replace('torch.', ''))))`, seed: c.seed });
      }
      ref = await runCases(py);
    });

    for (const c of cases) {
      it(c.name, () => {
        const a = ours.get(c.name)!;
        if (a instanceof Error) throw a;
        const b = ref[c.name];
        expect(a.shape).toEqual(b.shape);
        expect(a.dtype, 'dtype').toBe(DTYPES[ref[`${c.name} #dtype`].out[0]]);
        expect(a.out.length).toBe(b.out.length);
        if (!isFloat(a.dtype)) {
          expect(a.out).toEqual(b.out);
        } else {
          const tol = c.tol ?? 1e-12;
          a.out.forEach((v, i) => expect(Math.abs(v - b.out[i]), `value [${i}]: ${v} vs ${b.out[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b.out[i]))));
        }
        expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
        for (const [k, g] of Object.entries(a.grads)) {
          const r = b.grads[k];
          expect(g === null, `gradient of ${k} is null`).toBe(r === null);
          expect(g?.length, `gradient of ${k}: length`).toBe(r?.length);
          g?.forEach((v, i) => expect(Math.abs(v - r![i]), `gradient of ${k}[${i}]: ${v} vs ${r![i]}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(r![i]))));
        }
      });
    }
  });
}

compareWithTorch('elementwise, bitwise and matrix ops', ELEMENTWISE);
compareWithTorch('cumulative, NaN-aware and order-statistic reductions', REDUCTIONS);
compareWithTorch('triangles, diagonals, moves, tiles and creation', SHAPE);
compareWithTorch('gather/scatter/index/masked ops, unique, bincount, histc, searchsorted, cdist', INDEX);
compareWithTorch('randperm, multinomial, bernoulli, poisson, exponential_, uniform_, normal_ and cauchy_ with the same seed or Generator', SAMPLING);

// ---------------------------------------------------------------- without Python

describe('mode indices, dtypes and the (values, indices) ops on what they return', () => {
  it("mode's index points at an occurrence of the mode", () =>
    tidy(() => {
      const x = tensor(BigInt64Array.from([1, 2, 2, 3, 3, 3, 5, 4, 4, 5, 5, 1, 7, 7, 2, 2].map(BigInt)), { shape: [4, 4] });
      const [v, i] = x.mode(1);
      // the most frequent value of each row, the smallest of those on ties (row 3: 7 and 2 twice each)
      expect(vals(v)).toEqual([2, 3, 5, 2]);
      expect(vals(x.gather(1, i.unsqueeze(1)).squeeze(1))).toEqual(vals(v));
      const [vk, ik] = x.mode(0, true);
      expect(vk.shape).toEqual([1, 4]);
      expect(vals(x.gather(0, ik))).toEqual(vals(vk));
    }));
  it('unique and nonzero with options known only at run time: a Tensor or an array, as asked', () =>
    tidy(() => {
      const x = torch.tensor([3, 1, 3, 0]);
      for (const flag of [false, true]) {
        const u = x.unique({ returnCounts: flag, returnInverse: flag });
        const nz = x.nonzero({ asTuple: flag });
        expect([Array.isArray(u), Array.isArray(nz)]).toEqual([flag, flag]);
        expect(Array.isArray(u) ? u.length : 1).toBe(flag ? 3 : 1);
      }
    }));

  it('result dtypes', () =>
    tidy(() => {
      const x = torch.randn([3, 4], { dtype: 'float64' });
      expect(x.countNonzero().dtype).toBe('int64');
      expect(x.isinf().dtype).toBe('bool');
      expect(x.isclose(x).dtype).toBe('bool');
      expect(x.nonzero().dtype).toBe('int64');
      expect(x.median(1)[1].dtype).toBe('int64');
      expect(x.kthvalue(1, 0)[1].dtype).toBe('int64');
      expect(x.cummax(0)[1].dtype).toBe('int64');
      expect(torch.searchsorted(torch.arange(5).to('float32'), torch.tensor([1.5]), { outInt32: true }).dtype).toBe('int32');
      expect(torch.randperm(4).dtype).toBe('int64');
      expect(typeof x.allclose(x)).toBe('boolean');
      expect(x.allclose(x)).toBe(true);
    }));
});

describe('in-place forms return the same Tensor and change it', () => {
  const i64 = (a: number[], shape?: number[]) => tensor(BigInt64Array.from(a.map(BigInt)), shape ? { shape } : {});
  it('scatter_, scatterAdd_, indexAdd_, indexFill_, indexCopy_, maskedFill_, maskedScatter_', () =>
    tidy(() => {
      const base = () => torch.arange(0, 12, 1, { dtype: 'float64' }).reshape([3, 4]);
      const idx = i64([0, 3, 1, 1], [2, 2]);
      const src = torch.full([2, 2], -1, { dtype: 'float64' });
      const m = torch.tensor([true, false, false, true]);
      const ops: [string, (t: Tensor) => Tensor, (t: Tensor) => Tensor][] = [
        ['scatter_', (t) => t.scatter_(1, i64([0, 3, 1, 2], [2, 2]), src), (t) => t.scatter(1, i64([0, 3, 1, 2], [2, 2]), src)],
        ['scatter_ number', (t) => t.scatter_(0, i64([2, 0], [1, 2]), 9), (t) => t.scatter(0, i64([2, 0], [1, 2]), 9)],
        ['scatterAdd_', (t) => t.scatterAdd_(1, idx, src), (t) => t.scatterAdd(1, idx, src)],
        ['indexAdd_', (t) => t.indexAdd_(0, i64([2, 2]), torch.ones([2, 4], { dtype: 'float64' }), -3), (t) => t.indexAdd(0, i64([2, 2]), torch.ones([2, 4], { dtype: 'float64' }), -3)],
        ['indexFill_', (t) => t.indexFill_(1, i64([-1, 0]), 5), (t) => t.indexFill(1, i64([-1, 0]), 5)],
        ['indexCopy_', (t) => t.indexCopy_(0, i64([2, 0]), torch.zeros([2, 4], { dtype: 'float64' })), (t) => t.indexCopy(0, i64([2, 0]), torch.zeros([2, 4], { dtype: 'float64' }))],
        ['maskedFill_', (t) => t.maskedFill_(m, -8), (t) => t.maskedFill(m, -8)],
        ['maskedFill_ 0-d tensor', (t) => t.maskedFill_(m, torch.tensor(4.5, { dtype: 'float64' })), (t) => t.maskedFill(m, torch.tensor(4.5, { dtype: 'float64' }))],
        ['maskedScatter_', (t) => t.maskedScatter_(m, torch.arange(0, 6, 1, { dtype: 'float64' }).neg()), (t) => t.maskedScatter(m, torch.arange(0, 6, 1, { dtype: 'float64' }).neg())],
      ];
      for (const [name, inPlace, outOfPlace] of ops) {
        const t = base();
        const before = flat(t);
        const expected = flat(outOfPlace(base()));
        expect(inPlace(t), name).toBe(t);
        expect(flat(t), name).toEqual(expected);
        expect(flat(t), `${name} changed it`).not.toEqual(before);
      }
    }));
  it('scatter_ on a view writes through to its base', () =>
    tidy(() => {
      const x = torch.zeros([2, 6], { dtype: 'float64' });
      const v = x.slice(1, 2, 6);
      expect(v.scatter_(1, i64([3, 0], [2, 1]), 1)).toBe(v);
      expect(flat(x)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0]);
    }));
  it('out-of-place forms leave self alone', () =>
    tidy(() => {
      const x = torch.arange(0, 6, 1, { dtype: 'float64' }).reshape([2, 3]);
      x.scatter(1, i64([0], [1, 1]), 7);
      x.indexFill(0, i64([1]), 7);
      x.maskedFill(torch.tensor([true, true, true]), 7);
      expect(flat(x)).toEqual([0, 1, 2, 3, 4, 5]);
    }));
});

describe('errors name the op and the offending value; the process keeps working', () => {
  const i64 = (a: number[], shape?: number[]) => tensor(BigInt64Array.from(a.map(BigInt)), shape ? { shape } : {});
  const x = () => torch.arange(0, 9, 1, { dtype: 'float64' }).reshape([3, 3]);
  /** Asserts `f` throws `cls` with a message matching `msg`, then that ops still run. */
  function throws(f: () => unknown, cls: typeof RangeError | typeof TypeError, msg: string | RegExp): void {
    tidy(() => expectError(f, cls, msg));
    alive();
  }

  it('gather, indexSelect, takeAlongDim: out-of-range indices are RangeErrors', () => {
    throws(() => x().gather(1, i64([0, 3, 1], [1, 3])), RangeError, 'gather: index holds 3, outside [0, 3) for dimension 1 of size 3');
    throws(() => x().gather(0, i64([-1], [1, 1])), RangeError, 'gather: index holds -1, outside [0, 3) for dimension 0 of size 3');
    throws(() => x().gather(-1, i64([0, 0, 9], [3, 1])), RangeError, /^gather: index holds 9, outside \[0, 3\)/);
    throws(() => x().indexSelect(0, i64([0, 5])), RangeError, 'indexSelect: index holds 5, outside [0, 3) for dimension 0 of size 3');
    throws(() => x().indexSelect(1, i64([-1])), RangeError, 'indexSelect: index holds -1, outside [0, 3)');
    throws(() => x().takeAlongDim(i64([0, 7, 1], [3, 1]), 1), RangeError, /^takeAlongDim: index holds 7, outside \[0, 3\)/);
    throws(() => x().takeAlongDim(i64([10])), RangeError, /^takeAlongDim: index holds 10, outside \[0, 9\) for dimension 0 of size 9 \(of the flattened tensor\)/);
    throws(() => x().takeAlongDim(i64([0, 1]), 1), RangeError, /takeAlongDim: expected a tensor of 2 dimensions/);
    throws(() => x().gather(1, torch.tensor([[0.5]])), TypeError, /gather: index must be an int64 tensor, got float32/);
    throws(() => x().gather(1, torch.tensor([[0]], { dtype: 'int32' })), TypeError, /^gather: index must be an int64 tensor, got int32/);
    expect(x().indexSelect(1, torch.tensor([2], { dtype: 'int32' })).shape).toEqual([3, 1]); // int32 taken where ATen takes it
  });
  it('scatter, scatterAdd, indexAdd, indexCopy, indexFill: out-of-range indices are RangeErrors; self unchanged', () =>
    tidy(() => {
    const t = x();
    const src = torch.ones([3, 3], { dtype: 'float64' });
    throws(() => t.scatter_(1, i64([0, 4], [1, 2]), src), RangeError, 'scatter_: index holds 4, outside [0, 3) for dimension 1 of size 3');
    throws(() => t.scatter(0, i64([-2], [1, 1]), 1), RangeError, 'scatter: index holds -2, outside [0, 3)');
    throws(() => t.scatterAdd(1, i64([3], [1, 1]), src), RangeError, 'scatterAdd: index holds 3, outside [0, 3)');
    throws(() => t.scatterAdd_(0, i64([1, 8], [1, 2]), src), RangeError, 'scatterAdd_: index holds 8, outside [0, 3)');
    throws(() => t.indexAdd(0, i64([0, 3]), torch.ones([2, 3], { dtype: 'float64' })), RangeError, 'indexAdd: index holds 3, outside [0, 3) for dimension 0 of size 3');
    throws(() => t.indexAdd_(1, i64([-1]), torch.ones([3, 1], { dtype: 'float64' })), RangeError, 'indexAdd_: index holds -1, outside [0, 3)');
    throws(() => t.indexCopy(1, i64([5]), torch.ones([3, 1], { dtype: 'float64' })), RangeError, 'indexCopy: index holds 5, outside [0, 3)');
    throws(() => t.indexFill(0, i64([-4]), 1), RangeError, 'indexFill: index holds -4, outside [-3, 3) for dimension 0 of size 3');
    throws(() => t.indexFill_(1, i64([3]), 1), RangeError, 'indexFill_: index holds 3, outside [-3, 3)');
    expect(flat(t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    alive();
    }));
  it('masks: a non-bool mask is a TypeError; maskedScatter with too small a source is a RangeError', () => {
    throws(() => x().maskedFill(torch.tensor([1, 0, 1]), 0), TypeError, 'maskedFill: mask must be a bool tensor, got float32');
    throws(() => x().maskedFill_(torch.tensor([1, 0, 1], { dtype: 'uint8' }), 0), TypeError, /maskedFill_: mask must be a bool tensor, got uint8/);
    throws(() => x().maskedScatter(torch.tensor([1, 0, 1], { dtype: 'int64' }), torch.ones([9], { dtype: 'float64' })), TypeError, /maskedScatter: mask must be a bool tensor/);
    throws(() => x().maskedScatter(torch.tensor([true, false, true]), torch.ones([5], { dtype: 'float64' })), RangeError, 'maskedScatter: source has 5 elements, the mask selects 6');
    throws(() => x().maskedScatter_(torch.ones([3, 3], { dtype: 'bool' }), torch.ones([8], { dtype: 'float64' })), RangeError, 'maskedScatter_: source has 8 elements, the mask selects 9');
    throws(() => x().maskedFill(torch.tensor([true, false, true]), torch.ones([2], { dtype: 'float64' })), RangeError, /maskedFill: value must be a number or a 0-d tensor/);
  });
  it('bincount, histc, kthvalue, searchsorted, isclose, unflatten', () => {
    throws(() => i64([1, -2, 3]).bincount(), RangeError, 'bincount: self must hold non-negative values, found -2');
    throws(() => torch.tensor([1, 2]).bincount(), TypeError, /bincount: self must be a 1-d integer tensor, got float32/);
    throws(() => i64([1, 2]).bincount(torch.ones([3], { dtype: 'float64' })), RangeError, /bincount: weights must have self's shape/);
    throws(() => i64([1, 2]).bincount(null, -1), RangeError, /bincount/);
    throws(() => torch.tensor([1, 2]).histc(4, 3, 1), RangeError, /histc: max .* must be >= min/);
    throws(() => torch.tensor([1, 2]).histc(0), RangeError, /histc/);
    throws(() => x().kthvalue(4, 1), RangeError, /kthvalue: k must be between 1 and 3/);
    throws(() => x().kthvalue(0), RangeError, /kthvalue/);
    throws(() => torch.searchsorted(x(), torch.zeros([2, 1], { dtype: 'float64' })), RangeError, /searchsorted: values of shape \[2, 1\] must match sortedSequence's \[3, 3\]/);
    throws(() => torch.searchsorted(x(), 1), RangeError, /searchsorted: a number can only be searched for in a 1-d sortedSequence/);
    throws(() => torch.bucketize(torch.ones([2]), x()), RangeError, /bucketize: expected a 1-d tensor for boundaries/);
    throws(() => x().isclose(x(), -1), RangeError, /isclose: rtol and atol must be >= 0/);
    throws(() => x().unflatten(1, [2, 2]), RangeError, /unflatten: expected sizes whose product is 3/);
    throws(() => torch.cdist(torch.ones([2, 3]), torch.ones([2, 4])), RangeError, /cdist/);
    throws(() => x().lerp(x(), 'a' as never), TypeError, /lerp/);
    throws(() => x().div(2, 'round' as never), TypeError, /div: expected one of "trunc", "floor" for roundingMode/);
  });
  it('multinomial: negative, NaN or infinite weights, zero rows, too many samples without replacement', () => {
    throws(() => torch.tensor([0.5, -0.1, 0.6]).multinomial(1), RangeError, 'multinomial: the weights must be finite and >= 0');
    throws(() => torch.tensor([0.5, NaN, 0.6]).multinomial(1), RangeError, 'multinomial: the weights must be finite and >= 0');
    throws(() => torch.tensor([0.5, Infinity]).multinomial(1, true), RangeError, 'multinomial: the weights must be finite and >= 0');
    throws(() => torch.tensor([[0.5, 0.5], [-Infinity, 1]]).multinomial(1, true), RangeError, 'multinomial: the weights must be finite and >= 0');
    throws(() => torch.tensor([[0.5, 0.5], [0, 0]]).multinomial(1), RangeError, /multinomial: every row of weights must have a positive sum/);
    throws(() => torch.tensor([1, 2]).multinomial(3), RangeError, 'multinomial: numSamples (3) cannot exceed the 2 categories without replacement');
    throws(() => torch.tensor([1, 0, 2]).multinomial(3), RangeError, /multinomial: numSamples \(3\) exceeds a row's nonzero weights/);
    throws(() => torch.tensor([1, 2]).multinomial(0, true), RangeError, /multinomial/);
    throws(() => torch.ones([2, 2, 2]).multinomial(1), RangeError, /multinomial: self must be a 1-d or 2-d tensor/);
    throws(() => i64([1, 2]).multinomial(1), TypeError, /multinomial: self must be a floating-point tensor/);
    throws(() => torch.bernoulli(torch.ones([2]), 1.5), RangeError, /^bernoulli: p must be in \[0, 1\], got 1\.5/);
    throws(() => torch.randperm(-1), RangeError, /randperm/);
    // probabilities outside [0, 1] in the tensor: checked before the kernel (on CUDA a device-side assert)
    throws(() => torch.tensor([0.5, 1.5]).bernoulli(), RangeError, 'bernoulli: self must hold probabilities in [0, 1]');
    throws(() => torch.tensor([NaN]).bernoulli(), RangeError, 'bernoulli: self must hold probabilities in [0, 1], found nan');
    throws(() => torch.tensor([0.2, -0.25]).to('float16').bernoulli(), RangeError, 'bernoulli: self must hold probabilities in [0, 1], found -0.25');
    throws(() => i64([1]).bernoulli(), TypeError, /^bernoulli: self must be a floating-point tensor of probabilities, got int64/);
    // rates and rates of draws: checked before the kernel, on every device
    throws(() => torch.poisson(torch.tensor([1, -0.5])), RangeError, 'poisson: self must hold finite rates >= 0, found -0.5');
    throws(() => torch.poisson(torch.tensor([1, NaN])), RangeError, 'poisson: self must hold finite rates >= 0, found nan');
    throws(() => torch.poisson(torch.tensor([1, Infinity])), RangeError, 'poisson: self must hold finite rates >= 0, found inf');
    throws(() => torch.poisson(i64([1])), TypeError, /^poisson: self must be a floating-point tensor of rates, got int64/);
    throws(() => torch.poisson(torch.ones([2]), { seed: 1 } as never), TypeError, /poisson: unknown option 'seed'/);
    throws(() => torch.zeros([2]).exponential_(0), RangeError, /^exponential_: lambd must be a finite number > 0, got 0/);
    throws(() => torch.zeros([2]).exponential_(-1), RangeError, /^exponential_: lambd must be a finite number > 0/);
    throws(() => torch.zeros([2]).uniform_(1, 0), RangeError, /^uniform_: from must be <= to, got from 1\.0+ and to 0\.0+/);
    throws(() => torch.zeros([2]).uniform_(0, Infinity), TypeError, /^uniform_: expected a finite number for to/);
    throws(() => torch.zeros([2]).normal_(0, -1), RangeError, /^normal_: std must be >= 0, got -1/);
    throws(() => torch.zeros([2]).cauchy_(0, 0), RangeError, /^cauchy_: sigma must be > 0, got 0/);
    throws(() => torch.zeros([2], { dtype: 'int64' }).uniform_(), TypeError, /^uniform_: self must be a floating-point tensor, got int64/);
    throws(() => torch.zeros([2]).normal_(0, 1, { gen: 1 } as never), TypeError, /^normal_: unknown option 'gen'/);
    throws(() => torch.zeros([2]).cauchy_('0' as never), TypeError, /^cauchy_: expected a finite number for median/);
    throws(() => i64([1]).exponential_(), TypeError, /^exponential_: self must be a floating-point tensor, got int64/);
    throws(() => torch.zeros([2], { requiresGrad: true }).exponential_(), Error, /exponential_: .*leaf Variable that requires grad/);
  });
  it('unknown option keys are errors', () => {
    throws(() => x().unique({ sorte: true } as never), TypeError, "unique: unknown option 'sorte'; did you mean 'sorted'?");
    throws(() => x().nonzero({ asTupel: true } as never), TypeError, /nonzero: unknown option 'asTupel'/);
    throws(() => torch.searchsorted(torch.arange(3), torch.arange(3), { rigth: true } as never), TypeError, /searchsorted: unknown option 'rigth'/);
    throws(() => torch.bucketize(torch.arange(3), torch.arange(3), { out_int32: true } as never), TypeError, /bucketize: unknown option 'out_int32'/);
    throws(() => torch.meshgrid([torch.arange(3)], { index: 'xy' } as never), TypeError, /meshgrid: unknown option 'index'/);
    throws(() => torch.meshgrid([torch.arange(3)], { indexing: 'yx' } as never), TypeError, /meshgrid: expected one of "ij", "xy" for indexing/);
    throws(() => torch.randperm(3, { seed: 1 } as never), TypeError, /randperm: unknown option 'seed'/);
    throws(() => torch.ones([3]).multinomial(1, false, { gen: 1 } as never), TypeError, /multinomial: unknown option 'gen'/);
    throws(() => torch.ones([3]).bernoulli({ generater: 1 } as never), TypeError, /bernoulli: unknown option 'generater'/);
    throws(() => torch.bernoulli(torch.ones([3]), 0.5, { g: 1 } as never), TypeError, /bernoulli: unknown option 'g'/);
    throws(() => torch.ones([3]).bernoulli({ generator: {} as Generator }), TypeError, /bernoulli: expected a Generator for generator/);
  });
});

describe('maskedScatter autograd and cdist p = Infinity (once bugs, found by comparing with PyTorch)', () => {
  it('maskedScatter keeps the autograd graph (as PyTorch masked_scatter)', () =>
    tidy(() => {
      const x = torch.randn([3, 4], { dtype: 'float64', requiresGrad: true });
      const s = torch.randn([12], { dtype: 'float64', requiresGrad: true });
      const y = x.maskedScatter(torch.tensor([true, false, true, false]), s);
      expect(y.requiresGrad).toBe(true);
      y.sum().backward();
      expect(flat(s.grad!)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
      expect(flat(x.grad!)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    }));
  it('cdist takes p = Infinity (the Chebyshev distance, as PyTorch p=inf)', () =>
    tidy(() => {
      const a = torch.tensor([[0, 0, 0], [1, -2, 3]], { dtype: 'float64' });
      const b = torch.tensor([[1, 1, 1], [0, 5, 0]], { dtype: 'float64' });
      expect(flat(torch.cdist(a, b, Infinity))).toEqual([1, 5, 3, 7]);
    }));
});

describe('sampling properties', () => {
  it('randperm: a permutation of 0..n-1, the same for the same seed', () =>
    tidy(() => {
      for (const n of [0, 1, 2, 17, 1000]) {
        manualSeed(n + 1);
        const a = vals(torch.randperm(n));
        expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i));
        manualSeed(n + 1);
        expect(vals(torch.randperm(n))).toEqual(a);
      }
    }));
  it('a Generator gives reproducible draws independent of the default generator', () =>
    tidy(() => {
      const g = new Generator();
      try {
        const p = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], { dtype: 'float64' });
        const draw = () => {
          const perm = vals(torch.randperm(50, { generator: g }));
          const mult = vals(p.multinomial(4, false, { generator: g }));
          const multR = vals(torch.multinomial(p, 30, true, { generator: g }));
          const bern = flat(torch.ones([64], { dtype: 'float64' }).mul(0.5).bernoulli({ generator: g }));
          const bernP = flat(torch.bernoulli(torch.zeros([64]), 0.3, { generator: g }));
          return { perm, mult, multR, bern, bernP };
        };
        g.manualSeed(21);
        manualSeed(1);
        const a = draw();
        g.manualSeed(21);
        manualSeed(2); // another default stream, and draws from it in between
        torch.randperm(100);
        torch.rand([100]);
        const b = draw();
        expect(b).toEqual(a);
        // and the draws took nothing from the default generator
        manualSeed(3);
        const d1 = vals(torch.randperm(20));
        manualSeed(3);
        draw();
        expect(vals(torch.randperm(20))).toEqual(d1);
      } finally {
        g.dispose();
      }
    }));
  it('multinomial without replacement never repeats an index in a row; [0, 1, 0] always picks 1', () =>
    tidy(() => {
      manualSeed(5);
      for (let k = 0; k < 20; k++) {
        tidy(() => {
          const rows = torch.rand([4, 8], { dtype: 'float64' }).add(0.01).multinomial(8).toNested() as number[][];
          for (const r of rows) expect(new Set(r.map(Number)).size).toBe(8);
          const few = torch.rand([3, 10]).multinomial(5).toNested() as number[][];
          for (const r of few) expect(new Set(r.map(Number)).size).toBe(5);
        });
      }
      const p = torch.tensor([0, 1, 0]);
      expect(vals(p.multinomial(1))).toEqual([1]);
      expect(vals(p.multinomial(50, true))).toEqual(Array(50).fill(1));
      expect(vals(torch.tensor([[0, 1, 0], [0, 0, 2]]).multinomial(1))).toEqual([1, 2]);
      // with zero weights elsewhere, the nonzero ones come first without replacement
      expect(vals(torch.tensor([0, 3, 0, 1]).multinomial(2)).sort()).toEqual([1, 3]);
    }));
  it('bernoulli draws only 0 and 1, with p = 0 and p = 1 exact', () =>
    tidy(() => {
      manualSeed(6);
      const p = torch.tensor([0, 1, 0, 1, 0.5, 0.5], { dtype: 'float64' });
      for (let k = 0; k < 10; k++) {
        tidy(() => {
          const b = flat(p.bernoulli());
          expect(b.slice(0, 4)).toEqual([0, 1, 0, 1]);
          for (const v of b) expect(v === 0 || v === 1).toBe(true);
        });
      }
      expect(flat(torch.bernoulli(torch.zeros([10]), 1))).toEqual(Array(10).fill(1));
      expect(flat(torch.bernoulli(torch.zeros([10]), 0))).toEqual(Array(10).fill(0));
      // about p of them are ones
      const mean = torch.bernoulli(torch.zeros([20000], { dtype: 'float64' }), 0.3).mean().item() as number;
      expect(Math.abs(mean - 0.3)).toBeLessThan(0.02);
    }));
});
