/** Argument checks shared by the functional ops and the losses: tensors, dtypes, devices and shapes. */
import { noGrad } from '../autograd';
import { isAutocastEnabled } from '../autocast';
import { FLOATING_DTYPES, isFloatingDType, type DType } from '../dtype';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkBool, checkInt, checkNumber, checkOneOf, rangeError, typeError } from '../validate';
export { knownOptions } from '../validate';

/** `[2, 3]` as text. */
export const fmt = (shape: number[]): string => `[${shape.join(', ')}]`;

/** A RangeError about a shape: "op: expected <expected> for <arg> but received shape [..]". */
export function shapeError(op: string, arg: string, expected: string, shape: number[]): RangeError {
  return new RangeError(`${op}: expected ${expected} for ${arg} but received shape ${fmt(shape)}`);
}

/** Checks a Tensor argument. */
export function tensorArg(op: string, arg: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw typeError(op, arg, 'a Tensor', v);
  return v;
}

/** Checks an optional Tensor argument (undefined and null mean absent). */
export function optTensorArg(op: string, arg: string, v: unknown): Tensor | null {
  return v === undefined || v === null ? null : tensorArg(op, arg, v);
}

/** Checks a floating-point tensor. */
export function floatArg(op: string, arg: string, v: unknown): Tensor {
  const t = tensorArg(op, arg, v);
  if (!isFloatingDType(t.dtype)) throw new TypeError(`${op}: expected a floating-point tensor for ${arg} but received ${t.dtype}`);
  return t;
}

/**
 * Checks that `other` has `like`'s dtype and device (the mismatches ATen reports less clearly). Inside
 * `torch.autocast` for their device, two floating-point dtypes may differ: autocast casts them (a bf16
 * activation into a float32 layer is its ordinary case).
 */
export function sameKind(op: string, arg: string, other: Tensor, likeArg: string, like: Tensor): void {
  const device = like.device;
  const mixedOk = isFloatingDType(other.dtype) && isFloatingDType(like.dtype) && isAutocastEnabled(device.startsWith('cuda') ? 'cuda' : 'cpu');
  if (other.dtype !== like.dtype && !mixedOk) throw new TypeError(`${op}: expected ${arg} of ${likeArg}'s dtype ${like.dtype} but received ${other.dtype}`);
  if (other.device !== like.device) throw new TypeError(`${op}: expected ${arg} on ${likeArg}'s device ${like.device} but received one on ${other.device}`);
}

/** Checks a 1-d tensor of `n` elements (a per-channel weight, bias or statistic). */
export function perChannel(op: string, arg: string, t: Tensor, n: number, what: string): void {
  if (t.ndim !== 1 || t.shape[0] !== n) throw shapeError(op, arg, `shape [${n}] (${what})`, t.shape);
}

/** The number of spatial dimensions of an N-d op (conv1d: 1, conv2d: 2, conv3d: 3). */
export type SpatialDims = 1 | 2 | 3;

/** The letters PyTorch's documentation gives the spatial dimensions: L; H, W; D, H, W. */
export function spatialAxes(n: SpatialDims): string[] {
  return n === 1 ? ['L'] : n === 2 ? ['H', 'W'] : ['D', 'H', 'W'];
}

// How an argument of one integer per spatial dimension is described: "an integer or a pair of integers".
function tupleWords(n: SpatialDims): string {
  return n === 1 ? 'an integer or an array of one integer' : n === 2 ? 'an integer or a pair of integers' : 'an integer or an array of 3 integers';
}

/** An int or `n` ints (one per spatial dimension), as PyTorch's `_single`, `_pair` and `_triple`. */
export function ntuple(op: string, arg: string, v: unknown, min: number, n: SpatialDims): number[] {
  if (typeof v === 'number') {
    checkInt(op, arg, v, min);
    return new Array<number>(n).fill(v);
  }
  if (Array.isArray(v) && v.length === n) return v.map((x, i) => checkInt(op, `${arg}[${i}]`, x, min));
  throw typeError(op, arg, tupleWords(n), v);
}

/**
 * A transposed convolution's output padding must be smaller than the stride or the dilation in each dimension
 * (ATen's rule), checked by `F.convTranspose1d/2d/3d` and by `nn.ConvTranspose1d/2d/3d` when they are made.
 */
export function checkOutputPadding(op: string, outputPadding: number[], stride: number[], dilation: number[]): void {
  for (let d = 0; d < outputPadding.length; d++) {
    if (outputPadding[d] >= Math.max(stride[d], dilation[d])) {
      throw rangeError(op, 'outputPadding', `values smaller than the stride or the dilation (stride ${fmt(stride)}, dilation ${fmt(dilation)})`, outputPadding);
    }
  }
}

/** A convolution's geometry, checked: per-dimension stride, padding (or 'same' / 'valid'), dilation, output padding. */
export interface ConvGeometry {
  stride: number[];
  padding: number[] | 'same' | 'valid';
  dilation: number[];
  /** Transposed convolutions only (zeros otherwise). */
  outputPadding: number[];
}

/**
 * The stride, padding, dilation (and, `transposed`, output padding) options of an `n`-d convolution, checked as
 * `F.conv{n}d` / `F.convTranspose{n}d` and the modules check them: one integer for every dimension or one each;
 * `padding: 'same'` (stride 1 only) or `'valid'` for the plain convolution.
 */
export function convGeometry(op: string, n: SpatialDims, o: Record<string, unknown>, transposed: boolean): ConvGeometry {
  const stride = ntuple(op, 'stride', o.stride ?? 1, 1, n);
  let padding: number[] | 'same' | 'valid';
  if (!transposed && (o.padding === 'same' || o.padding === 'valid')) {
    padding = o.padding;
    if (padding === 'same' && stride.some((s) => s !== 1)) throw rangeError(op, 'padding', "a number when stride is not 1 ('same' needs stride 1)", padding);
  } else {
    padding = ntuple(op, 'padding', o.padding ?? 0, 0, n);
  }
  const outputPadding = transposed ? ntuple(op, 'outputPadding', o.outputPadding ?? 0, 0, n) : new Array<number>(n).fill(0);
  const dilation = ntuple(op, 'dilation', o.dilation ?? 1, 1, n);
  if (transposed) checkOutputPadding(op, outputPadding, stride, dilation);
  return { stride, padding, dilation, outputPadding };
}

/** A pooling window, checked: kernel size, stride (default the kernel size), padding, dilation. */
export interface PoolGeometry {
  kernelSize: number[];
  stride: number[];
  padding: number[];
  /** Ones for the pools without dilation (average pooling). */
  dilation: number[];
}

/** The option names of the max poolings, functional and modules. */
export const MAX_POOL_OPTIONS = ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices'] as const;

/** The option names of the average poolings of `n` dimensions, functional and modules (1-d: no divisorOverride). */
export function avgPoolOptions(n: SpatialDims): readonly string[] {
  return n === 1 ? ['stride', 'padding', 'ceilMode', 'countIncludePad'] : ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'];
}

/**
 * The kernel size and the stride, padding (at most half the kernel) and, `dilated`, dilation options of an `n`-d
 * pooling, checked as `F.maxPool{n}d` / `F.avgPool{n}d` and the pooling modules check them.
 */
export function poolGeometry(op: string, n: SpatialDims, kernelSize: unknown, o: Record<string, unknown>, dilated: boolean): PoolGeometry {
  const k = ntuple(op, 'kernelSize', kernelSize, 1, n);
  const stride = o.stride === undefined || o.stride === null ? k : ntuple(op, 'stride', o.stride, 1, n);
  const padding = ntuple(op, 'padding', o.padding ?? 0, 0, n);
  const dilation = dilated ? ntuple(op, 'dilation', o.dilation ?? 1, 1, n) : new Array<number>(n).fill(1);
  if (padding.some((p, i) => p * 2 > k[i])) throw rangeError(op, 'padding', `at most half the kernel size ${fmt(k)}`, padding);
  return { kernelSize: k, stride, padding, dilation };
}

/** An average pooling's `divisorOverride`: absent (null: divide by the window size) or a positive integer. */
export function divisorOverrideOpt(op: string, v: unknown): number | null {
  return v === undefined || v === null ? null : checkInt(op, 'divisorOverride', v, 1);
}

/**
 * The output size of an `n`-d adaptive pooling: one integer for every dimension or one each, null keeping the
 * input's size in that dimension (resolved by `adaptiveSize` once the input is known).
 */
export function adaptiveSizeArg(op: string, n: SpatialDims, v: unknown): (number | null)[] {
  const list = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
  if (!Array.isArray(list) || list.length !== n) throw typeError(op, 'outputSize', `${tupleWords(n)} (or null)`, v);
  return list.map((s, i) => (s === null ? null : checkInt(op, `outputSize[${i}]`, s, 1)));
}

/** `adaptiveSizeArg`'s sizes with each null replaced by the size of `x` in that spatial dimension. */
export function adaptiveSize(op: string, n: SpatialDims, v: unknown, x: Tensor): number[] {
  return adaptiveSizeArg(op, n, v).map((s, i) => s ?? x.shape[x.ndim - n + i]);
}

/** A size: a positive integer ("LayerNorm: expected a positive integer for normalizedShape but received 2.5 (number)"). */
export function checkSize(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(op, arg, 'a positive integer', v);
  if (v < 1) throw rangeError(op, arg, 'a positive integer', v);
  return v;
}

/** PyTorch's `device` and `dtype` factory arguments of a module (null, as Python's None, means the default). */
export function factoryOptions(op: string, o: Record<string, unknown>): { device?: string; dtype?: DType } {
  const out: { device?: string; dtype?: DType } = {};
  if (o.dtype !== undefined && o.dtype !== null) out.dtype = checkOneOf(op, 'dtype', o.dtype, FLOATING_DTYPES);
  if (o.device !== undefined && o.device !== null) {
    if (typeof o.device !== 'string') throw typeError(op, 'device', "a device name ('cpu', 'cuda', 'cuda:1')", o.device);
    out.device = o.device;
  }
  return out;
}

/** Checks a boolean option with a default. */
export function boolOpt(op: string, arg: string, v: unknown, dflt: boolean): boolean {
  return v === undefined ? dflt : checkBool(op, arg, v);
}

/**
 * Checks an input with `n` spatial dimensions (default 2), batched or not: (N, C, L) or (C, L); (N, C, H, W) or
 * (C, H, W); (N, C, D, H, W) or (C, D, H, W).
 */
export function spatialInput(op: string, input: unknown, n: SpatialDims = 2): Tensor {
  const x = floatArg(op, 'input', input);
  if (x.ndim !== n + 1 && x.ndim !== n + 2) {
    const axes = spatialAxes(n).join(', ');
    throw shapeError(op, 'input', `a ${n + 2}-d (N, C, ${axes}) or ${n + 1}-d (C, ${axes}) tensor`, x.shape);
  }
  return x;
}

/** How a loss reduces over elements: their mean, their sum, or none (one loss per element or sample). */
export type Reduction = 'mean' | 'sum' | 'none';
/** Reduction names of the losses. */
export const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/** Checks a reduction option. */
export function reductionOpt(op: string, v: unknown, allowed: readonly string[] = REDUCTIONS): string {
  if (v === undefined) return 'mean';
  if (typeof v !== 'string' || !allowed.includes(v)) throw typeError(op, 'reduction', `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, v);
  return v;
}

/** Checks a number option within [min, max] (inclusive unless said). */
export function numberOpt(op: string, arg: string, v: unknown, dflt: number, range?: { min?: number; max?: number; maxExclusive?: boolean }): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v)) throw typeError(op, arg, 'a number', v);
  const { min = -Infinity, max = Infinity, maxExclusive = false } = range ?? {};
  if (v < min || v > max || (maxExclusive && v === max)) throw rangeError(op, arg, `a number in [${min}, ${max}${maxExclusive ? ')' : ']'}`, v);
  return v;
}

/** An integer (at least `min`) for both spatial dimensions, or a pair of them, as PyTorch's `_pair`. */
export function pair(op: string, arg: string, v: unknown, min: number): [number, number] {
  return ntuple(op, arg, v, min, 2) as [number, number];
}

// ---------------------------------------------------------------- the activations, unfold and fold of functional-extra.ts

/** CELU's alpha, checked: a finite nonzero number (default 1). */
export function celuAlpha(op: string, v: unknown): number {
  const alpha = v === undefined ? 1 : checkNumber(op, 'alpha', v);
  if (alpha === 0) throw rangeError(op, 'alpha', 'a nonzero number (the input is divided by it)', alpha);
  return alpha;
}

/** Softshrink's lambd, checked: a finite number ≥ 0. */
export function softshrinkLambd(op: string, v: unknown): number {
  const l = checkNumber(op, 'lambd', v);
  if (l < 0) throw rangeError(op, 'lambd', 'a number >= 0', l);
  return l;
}

/** RReLU's bounds, checked: finite numbers with lower ≤ upper. */
export function rreluBounds(op: string, lower: unknown, upper: unknown): [number, number] {
  const lo = lower === undefined ? 1 / 8 : checkNumber(op, 'lower', lower);
  const hi = upper === undefined ? 1 / 3 : checkNumber(op, 'upper', upper);
  if (!(lo <= hi)) throw rangeError(op, 'upper', `a number >= lower (${lo})`, hi);
  return [lo, hi];
}

/** The block size and spacing of unfold and fold, checked. */
export interface BlockGeometry {
  kernelSize: [number, number];
  dilation: [number, number];
  padding: [number, number];
  stride: [number, number];
}

/** The kernel size and the dilation, padding and stride options of unfold and fold, checked. */
export function blockGeometry(op: string, kernelSize: unknown, o: Record<string, unknown>): BlockGeometry {
  return {
    kernelSize: pair(op, 'kernelSize', kernelSize, 1),
    dilation: pair(op, 'dilation', o.dilation ?? 1, 1),
    padding: pair(op, 'padding', o.padding ?? 0, 0),
    stride: pair(op, 'stride', o.stride ?? 1, 1),
  };
}

// ---------------------------------------------------------------- embedding tables (Embedding, EmbeddingBag)

/** The table options `Embedding` and `EmbeddingBag` share, checked as PyTorch's; `paddingIdx` made non-negative. */
export function embeddingTableOptions(
  op: string,
  o: { paddingIdx?: number | null; maxNorm?: number | null; normType?: number; scaleGradByFreq?: boolean; sparse?: boolean },
  n: number,
): { paddingIdx: number | null; maxNorm: number | null; normType: number; scaleGradByFreq: boolean } {
  let paddingIdx: number | null = null;
  if (o.paddingIdx !== undefined && o.paddingIdx !== null) {
    if (typeof o.paddingIdx !== 'number' || !Number.isInteger(o.paddingIdx)) throw typeError(op, 'paddingIdx', 'an integer row index (or null)', o.paddingIdx);
    if (o.paddingIdx < -n || o.paddingIdx >= n) throw rangeError(op, 'paddingIdx', `a row index in [${-n}, ${n}) (numEmbeddings ${n}; negative counts from the end)`, o.paddingIdx);
    paddingIdx = o.paddingIdx < 0 ? o.paddingIdx + n : o.paddingIdx;
  }
  const maxNorm = o.maxNorm === undefined || o.maxNorm === null ? null : numberOpt(op, 'maxNorm', o.maxNorm, 0, { min: 0 });
  const normType = numberOpt(op, 'normType', o.normType, 2, { min: 0 });
  const scaleGradByFreq = o.scaleGradByFreq === undefined ? false : checkBool(op, 'scaleGradByFreq', o.scaleGradByFreq);
  const sparse = o.sparse === undefined ? false : checkBool(op, 'sparse', o.sparse);
  if (sparse) throw rangeError(op, 'sparse', 'false (sparse gradients are not supported; the gradient of weight is dense)', sparse);
  return { paddingIdx, maxNorm, normType, scaleGradByFreq };
}

/** Checks the table given to a `fromPretrained` (2-d, floating-point); returns `freeze` and the other options. */
export function pretrainedTableOptions(op: string, embeddings: unknown, o: { freeze?: boolean }): { freeze: boolean; rest: Record<string, unknown> } {
  if (!(embeddings instanceof Tensor)) throw typeError(op, 'embeddings', 'a Tensor (numEmbeddings, embeddingDim)', embeddings);
  if (embeddings.ndim !== 2) throw new RangeError(`${op}: expected a 2-d tensor (numEmbeddings, embeddingDim) for embeddings but received shape [${embeddings.shape.join(', ')}]`);
  if (!isFloatingDType(embeddings.dtype)) throw new TypeError(`${op}: expected a floating-point tensor for embeddings but received ${embeddings.dtype}`);
  const freeze = o.freeze === undefined ? true : checkBool(op, 'freeze', o.freeze);
  const rest: Record<string, unknown> = { ...o };
  delete rest.freeze;
  return { freeze, rest };
}

/** Zeroes a table's padding row (none when `paddingIdx` is null), without recording. */
export function zeroPaddingRow(weight: Tensor, paddingIdx: number | null): void {
  if (paddingIdx !== null) tidy(() => noGrad(() => void weight.narrow(0, paddingIdx, 1).zero_()));
}
