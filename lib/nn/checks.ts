/** Argument checks shared by the functional ops and the losses: tensors, dtypes, devices and shapes. */
import { isAutocastEnabled } from '../autocast';
import type { DType } from '../dtype';
import { Tensor } from '../tensor';
import { checkBool, checkInt, checkOneOf, rangeError, typeError } from '../validate';
export { knownOptions } from '../validate';

/** Floating-point dtypes. */
export const FLOATS: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

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
  if (!FLOATS.includes(t.dtype)) throw new TypeError(`${op}: expected a floating-point tensor for ${arg} but received ${t.dtype}`);
  return t;
}

/**
 * Checks that `other` has `like`'s dtype and device (the mismatches ATen reports less clearly). Inside
 * `torch.autocast` for their device, two floating-point dtypes may differ: autocast casts them (a bf16
 * activation into a float32 layer is its ordinary case).
 */
export function sameKind(op: string, arg: string, other: Tensor, likeArg: string, like: Tensor): void {
  const device = like.device;
  const mixedOk = FLOATS.includes(other.dtype) && FLOATS.includes(like.dtype) && isAutocastEnabled(device.startsWith('cuda') ? 'cuda' : 'cpu');
  if (other.dtype !== like.dtype && !mixedOk) throw new TypeError(`${op}: expected ${arg} of ${likeArg}'s dtype ${like.dtype} but received ${other.dtype}`);
  if (other.device !== like.device) throw new TypeError(`${op}: expected ${arg} on ${likeArg}'s device ${like.device} but received one on ${other.device}`);
}

/** Checks a 1-d tensor of `n` elements (a per-channel weight, bias or statistic). */
export function perChannel(op: string, arg: string, t: Tensor, n: number, what: string): void {
  if (t.ndim !== 1 || t.shape[0] !== n) throw shapeError(op, arg, `shape [${n}] (${what})`, t.shape);
}

/** An int or a pair of ints, as PyTorch's `_pair`. */
export function pair(op: string, arg: string, v: unknown, min: number): [number, number] {
  if (typeof v === 'number') {
    checkInt(op, arg, v, min);
    return [v, v];
  }
  if (Array.isArray(v) && v.length === 2) return [checkInt(op, `${arg}[0]`, v[0], min), checkInt(op, `${arg}[1]`, v[1], min)];
  throw typeError(op, arg, 'an integer or a pair of integers', v);
}

/**
 * A transposed convolution's output padding must be smaller than the stride or the dilation in each dimension
 * (ATen's rule), checked by `F.convTranspose2d` and by `nn.ConvTranspose2d` when it is made.
 */
export function checkOutputPadding(op: string, outputPadding: [number, number], stride: [number, number], dilation: [number, number]): void {
  for (let d = 0; d < 2; d++) {
    if (outputPadding[d] >= Math.max(stride[d], dilation[d])) {
      throw rangeError(op, 'outputPadding', `values smaller than the stride or the dilation (stride ${fmt(stride)}, dilation ${fmt(dilation)})`, outputPadding);
    }
  }
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
  if (o.dtype !== undefined && o.dtype !== null) out.dtype = checkOneOf(op, 'dtype', o.dtype, FLOATS);
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

/** Checks a 2-d spatial input: (N, C, H, W) or unbatched (C, H, W). */
export function spatialInput(op: string, input: unknown): Tensor {
  const x = floatArg(op, 'input', input);
  if (x.ndim !== 3 && x.ndim !== 4) throw shapeError(op, 'input', 'a 4-d (N, C, H, W) or 3-d (C, H, W) tensor', x.shape);
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
