/**
 * Tensor: a typed handle to an at::Tensor living in LibTorch (CPU or CUDA).
 * Method names follow PyTorch in TypeScript casing; in-place variants end in `_` as in PyTorch
 * (`add_`, `relu_`, `zero_`) and return the same Tensor.
 */
import type { AnyTypedArray, DType, Device, MemoryFormat, TypedArrayFor } from './dtype';
import { DTYPES } from './dtype';
import { native, type NativeIndex, type TensorHandle } from './native';
import { forNative, keep, track } from './scope';
import { generatorHandle, type Generator } from './generator';
import { checkBool, checkInt, checkNumber, checkOneOf, checkScalar, rangeError, typeError, knownOptions } from './validate';

/** A number, boolean or bigint used where PyTorch takes a Python scalar. */
export type Scalar = number | boolean | bigint;

/** Nested arrays of numbers/booleans, as `toNested()` returns and `tensor()` accepts. */
export type NestedArray = number | boolean | NestedArray[];

/** One item of `index(...)`: integer, `null` (new axis), `'...'`, boolean, slice `{start, stop, step}`, or an index/mask Tensor. */
export type IndexItem = number | null | '...' | boolean | { start?: number | null; stop?: number | null; step?: number | null } | Tensor;

/** Options of `to()`. */
export interface ToOptions {
  dtype?: DType;
  device?: Device | string;
  /** Asynchronous copy with respect to the host where possible (pinned memory to/from CUDA). */
  nonBlocking?: boolean;
  /** Always return a new tensor, even when nothing changes. */
  copy?: boolean;
  memoryFormat?: MemoryFormat;
}

const N = native();

function other(op: string, v: unknown): TensorHandle | Scalar {
  if (v instanceof Tensor) return v.handle;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return checkScalar(op, 'other', v);
  throw typeError(op, 'other', 'a Tensor or a number', v);
}

// Integers the native side can take exactly (it would otherwise cast Infinity / 1e300 to int64, which is undefined).
function safeIndexInt(op: string, arg: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(op, arg, 'an integer', v);
  if (!Number.isSafeInteger(v)) throw rangeError(op, arg, `an integer between ${-Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`, v);
}

function indexItems(op: string, items: IndexItem[]): NativeIndex[] {
  if (!Array.isArray(items)) throw typeError(op, 'indices', 'an array of index items', items);
  return items.map((it, k) => {
    if (it instanceof Tensor) return it.handle;
    if (typeof it === 'number') safeIndexInt(op, `index ${k}`, it);
    if (it === null || it === '...' || typeof it === 'number' || typeof it === 'boolean') return it;
    if (Array.isArray(it)) throw typeError(op, `index ${k}`, 'an index item (to pick several positions, pass an int64 Tensor)', it);
    if (typeof it === 'object' && Object.getPrototypeOf(it) === Object.prototype) {
      const unknown = Object.keys(it).find((key) => key !== 'start' && key !== 'stop' && key !== 'step');
      if (unknown !== undefined) throw typeError(op, `index ${k}`, `a {start, stop, step} slice (unknown key "${unknown}")`, it);
      for (const f of ['start', 'stop', 'step'] as const) {
        const v = (it as Record<string, unknown>)[f];
        if (v !== undefined && v !== null) safeIndexInt(op, `index ${k}.${f}`, v);
      }
      return it;
    }
    throw typeError(op, `index ${k}`, 'an integer, null, "...", a boolean, a {start, stop, step} slice or a Tensor', it);
  });
}

function tensorArg(op: string, arg: string, v: unknown): TensorHandle {
  if (!(v instanceof Tensor)) throw typeError(op, arg, 'a Tensor', v);
  return v.handle;
}

// The receiver of a bitwise op: an integer or bool tensor (ATen's message for a float one names an internal kernel).
function intOrBool(t: Tensor, op: string): Tensor {
  const dtype = t.dtype;
  if (dtype.startsWith('float') || dtype === 'bfloat16') throw new TypeError(`${op}: expected an integer or bool tensor but received ${dtype}`);
  return t;
}

function tensorShape(op: string, v: unknown): number[] {
  if (!(v instanceof Tensor)) throw typeError(op, 'other', 'a Tensor', v);
  return v.shape;
}

const fmtShape = (s: number[]): string => `[${s.join(', ')}]`;

/** Options of `Tensor.unique`. */
export interface UniqueOptions {
  /** Sort the values ascending (default true; unsorted order is ATen's). */
  sorted?: boolean;
  /** Also return, for each element, the index of its value in the result. */
  returnInverse?: boolean;
  /** Also return how often each value occurs. */
  returnCounts?: boolean;
  /** Unique slices along this dimension instead of unique elements. */
  dim?: number | null;
}

function dims(op: string, dim: number | number[] | undefined): number | number[] | undefined {
  if (dim === undefined) return undefined;
  if (Array.isArray(dim)) return dim.map((d) => checkInt(op, 'dim', d));
  return checkInt(op, 'dim', dim);
}

/** `max` / `min`: all elements, `[values, indices]` along one dim, or the elementwise extreme with a tensor. */
function extreme(self: Tensor, op: 'max' | 'min', dim: number | Tensor | undefined, keepdim: boolean): Tensor | [Tensor, Tensor] {
  if (dim === undefined) return new Tensor(N.reduce(op, self.handle, undefined, false, true));
  if (isTensor(dim)) return op === 'max' ? self.maximum(dim) : self.minimum(dim);
  if (Array.isArray(dim)) throw typeError(op, 'dim', `one integer (a${op} reduces several dims, values only)`, dim);
  checkInt(op, 'dim', dim);
  checkBool(op, 'keepdim', keepdim);
  const values = new Tensor(N.reduce(op, self.handle, dim, keepdim, true));
  return [values, op === 'max' ? self.argmax(dim, keepdim) : self.argmin(dim, keepdim)];
}

/** A tensor. Create one with `tensor()`, `zeros()`, `randn()` ...; free it with `dispose()` or a `tidy()` scope. */
export class Tensor {
  /** @internal the native handle; use the methods instead. */
  readonly handle: TensorHandle;

  /** @internal wraps a native handle (every op result comes through here). */
  constructor(handle: TensorHandle) {
    this.handle = handle;
    track(this);
  }

  // ---------------------------------------------------------------- metadata

  /** Sizes of each dimension. */
  get shape(): number[] {
    return N.shape(this.handle);
  }
  /** Strides of each dimension, in elements. */
  get strides(): number[] {
    return N.strides(this.handle);
  }
  /** Element type. */
  get dtype(): DType {
    return N.dtype(this.handle);
  }
  /** Device the data lives on (`cpu`, `cuda:0`, ...). */
  get device(): string {
    return N.device(this.handle);
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  /** Size of one dimension (negative counts from the end), or the whole shape. */
  size(dim?: number): number | number[] {
    const s = this.shape;
    if (dim === undefined) return s;
    checkInt('size', 'dim', dim, -s.length, s.length - 1);
    return s[dim < 0 ? dim + s.length : dim];
  }
  /** True once `dispose()` has run (the tensor can no longer be used). */
  get isDisposed(): boolean {
    return this.handle.isDisposed();
  }
  /** `channelsLast` for a 4-d NHWC-strided tensor, else `contiguous`. */
  get memoryFormat(): MemoryFormat {
    return N.memoryFormat(this.handle);
  }
  /** Whether the memory is dense in the given layout (row-major by default). */
  isContiguous(memoryFormat: MemoryFormat = 'contiguous'): boolean {
    return N.isContiguous(this.handle, memoryFormat);
  }

  // ---------------------------------------------------------------- resources

  /** Frees the tensor's memory now (views of it keep their storage). Idempotent. */
  dispose(): void {
    this.handle.dispose();
  }
  /** `using t = ...` support. */
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** Keeps this tensor alive past every enclosing `tidy()` scope. */
  keep(): this {
    return keep(this);
  }

  // ---------------------------------------------------------------- reading back

  /** A copy of the elements as a TypedArray (row-major); float16/bfloat16 read as Float32Array, bool as 0/1 bytes. */
  toArray(): TypedArrayFor[DType] {
    return N.toArray(this.handle) as TypedArrayFor[DType];
  }
  /** Like `toArray()`, but the device-to-host copy runs off the event loop. */
  data(): Promise<AnyTypedArray> {
    return N.data(this.handle);
  }
  /** Nested JS arrays (int64 as numbers, bool as booleans); a 0-d tensor gives its scalar. */
  toNested(): NestedArray {
    const flat = this.toArray();
    const isBool = this.dtype === 'bool';
    const get = (i: number): number | boolean => {
      const v = flat[i];
      if (typeof v === 'bigint') return Number(v);
      return isBool ? v !== 0 : v;
    };
    const shape = this.shape;
    if (shape.length === 0) return get(0);
    let offset = 0;
    const build = (d: number): NestedArray[] => {
      const out: NestedArray[] = [];
      for (let i = 0; i < shape[d]; i++) out.push(d === shape.length - 1 ? get(offset++) : build(d + 1));
      return out;
    };
    return build(0);
  }
  /** The value of a one-element tensor (int64 as a number, bool as a boolean). */
  item(): number | boolean {
    return N.item(this.handle);
  }
  /** A short description: shape, dtype, device and up to 20 values. */
  toString(): string {
    if (this.isDisposed) return 'Tensor(disposed)';
    const grad = this.requiresGrad ? ', requiresGrad=true' : '';
    const shape = this.shape;
    const head = `Tensor(shape=[${shape.join(', ')}], dtype=${this.dtype}, device=${this.device}${grad}`;
    if (shape.reduce((a, b) => a * b, 1) > 20) return `${head})`;
    // NaN and ±Infinity as themselves (JSON would print null and hide a diverged loss); int64 values exactly.
    const show = (v: unknown): string => (Array.isArray(v) ? `[${v.map(show).join(',')}]` : String(v));
    if (this.dtype !== 'int64') return `${head}, ${show(this.toNested())})`;
    const flat = Array.from(this.toArray() as BigInt64Array);
    const nest = (d: number, at: number): string => {
      if (d === shape.length) return String(flat[at]);
      const stride = shape.slice(d + 1).reduce((a, b) => a * b, 1);
      return `[${Array.from({ length: shape[d] }, (_, k) => nest(d + 1, at + k * stride)).join(',')}]`;
    };
    return `${head}, ${nest(0, 0)})`;
  }

  /** What console.log and util.inspect print: toString(). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---------------------------------------------------------------- elementwise

  /** this + other (broadcasting). */
  add(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('add', this.handle, other('add', other_)));
  }
  /** this - other. */
  sub(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('sub', this.handle, other('sub', other_)));
  }
  /** this * other. */
  mul(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('mul', this.handle, other('mul', other_)));
  }
  /**
   * this / other: true division, or rounded with `roundingMode` `'trunc'` (toward zero) or `'floor'` (toward
   * −∞), as PyTorch's `div(other, rounding_mode=...)`.
   */
  div(other_: Tensor | Scalar, roundingMode: 'trunc' | 'floor' | null = null): Tensor {
    if (roundingMode === null || roundingMode === undefined) return new Tensor(N.binary('div', this.handle, other('div', other_)));
    const mode = checkOneOf('div', 'roundingMode', roundingMode, ['trunc', 'floor']);
    return new Tensor(N.binary(mode === 'floor' ? 'divFloor' : 'divTrunc', this.handle, other('div', other_)));
  }
  /** this / other rounded toward −∞ (PyTorch's `floor_divide`, `//`). */
  floorDivide(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('divFloor', this.handle, other('floorDivide', other_)));
  }
  /** this ** exponent. */
  pow(exponent: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('pow', this.handle, other('pow', exponent)));
  }
  /** Python-style remainder (sign of the divisor). */
  remainder(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('remainder', this.handle, other('remainder', other_)));
  }
  /** C-style remainder (sign of the dividend). */
  fmod(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('fmod', this.handle, other('fmod', other_)));
  }
  /** Elementwise maximum. */
  maximum(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('maximum', this.handle, other('maximum', other_)));
  }
  /** Elementwise minimum. */
  minimum(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('minimum', this.handle, other('minimum', other_)));
  }
  /** Matrix product with broadcasting (PyTorch's matmul rules). */
  matmul(other_: Tensor): Tensor {
    return new Tensor(N.binary('matmul', this.handle, other('matmul', other_)));
  }
  /** Elementwise ==, as a bool tensor. */
  eq(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('eq', this.handle, other('eq', other_)));
  }
  /** Elementwise !=. */
  ne(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('ne', this.handle, other('ne', other_)));
  }
  /** Elementwise <. */
  lt(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('lt', this.handle, other('lt', other_)));
  }
  /** Elementwise <=. */
  le(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('le', this.handle, other('le', other_)));
  }
  /** Elementwise >. */
  gt(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('gt', this.handle, other('gt', other_)));
  }
  /** Elementwise >=. */
  ge(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('ge', this.handle, other('ge', other_)));
  }
  /** Logical and (nonzero is true). */
  logicalAnd(other_: Tensor): Tensor {
    return new Tensor(N.binary('logicalAnd', this.handle, other('logicalAnd', other_)));
  }
  /** Logical or. */
  logicalOr(other_: Tensor): Tensor {
    return new Tensor(N.binary('logicalOr', this.handle, other('logicalOr', other_)));
  }
  /** Logical not. */
  logicalNot(): Tensor {
    return this.unary('logicalNot');
  }
  /** Logical exclusive or. */
  logicalXor(other_: Tensor): Tensor {
    return new Tensor(N.binary('logicalXor', this.handle, other('logicalXor', other_)));
  }
  /** Bitwise and of integer or bool tensors. */
  bitwiseAnd(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('bitwiseAnd', intOrBool(this, 'bitwiseAnd').handle, other('bitwiseAnd', other_)));
  }
  /** Bitwise or. */
  bitwiseOr(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('bitwiseOr', intOrBool(this, 'bitwiseOr').handle, other('bitwiseOr', other_)));
  }
  /** Bitwise exclusive or. */
  bitwiseXor(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('bitwiseXor', intOrBool(this, 'bitwiseXor').handle, other('bitwiseXor', other_)));
  }
  /** Bitwise not (logical not for bool). */
  bitwiseNot(): Tensor {
    return new Tensor(N.unary('bitwiseNot', intOrBool(this, 'bitwiseNot').handle));
  }
  /** Elementwise atan2(this, other): the angle of the point (other, this), quadrant-aware. */
  atan2(other_: Tensor): Tensor {
    return new Tensor(N.binary('atan2', this.handle, other('atan2', other_)));
  }
  /** Elementwise `this · log(other)`, and 0 where `this` is 0 (even where `other` is 0), as PyTorch's `xlogy`. */
  xlogy(other_: Tensor | Scalar): Tensor {
    return new Tensor(N.binary('xlogy', this.handle, other('xlogy', other_)));
  }
  /**
   * The regularized lower incomplete gamma function P(this, other) = γ(this, other) / Γ(this), for this > 0 and
   * other >= 0, as PyTorch's `igamma` (`torch.special.gammainc`); differentiable in `other` only, as PyTorch.
   */
  igamma(other_: Tensor): Tensor {
    return new Tensor(N.binary('igamma', this.handle, other('igamma', other_)));
  }
  /** Elementwise sqrt(this² + other²), without overflow. */
  hypot(other_: Tensor): Tensor {
    return new Tensor(N.binary('hypot', this.handle, other('hypot', other_)));
  }
  /** Product of two 2-d matrices (no broadcasting). */
  mm(mat2: Tensor): Tensor {
    return new Tensor(N.binary('mm', this.handle, other('mm', mat2)));
  }
  /** Batched product of 3-d tensors: [b, n, m] × [b, m, p] → [b, n, p]. */
  bmm(mat2: Tensor): Tensor {
    return new Tensor(N.binary('bmm', this.handle, other('bmm', mat2)));
  }
  /** Inner product of two 1-d tensors. */
  dot(other_: Tensor): Tensor {
    return new Tensor(N.binary('dot', this.handle, other('dot', other_)));
  }
  /** Outer product of two 1-d tensors. */
  outer(vec2: Tensor): Tensor {
    return new Tensor(N.binary('outer', this.handle, other('outer', vec2)));
  }
  /** Kronecker product. */
  kron(other_: Tensor): Tensor {
    return new Tensor(N.binary('kron', this.handle, other('kron', other_)));
  }
  /** this + weight · (end − this); `weight` a number or a tensor (broadcast). */
  lerp(end: Tensor, weight: Tensor | number): Tensor {
    const w = weight instanceof Tensor ? weight.handle : checkNumber('lerp', 'weight', weight);
    return new Tensor(N.lerp(this.handle, tensorArg('lerp', 'end', end), w));
  }
  /** Elementwise |this − other| ≤ atol + rtol · |other| (bool), as PyTorch's `isclose`. */
  isclose(other_: Tensor, rtol = 1e-5, atol = 1e-8, equalNan = false): Tensor {
    return new Tensor(N.isclose(this.handle, tensorArg('isclose', 'other', other_), checkNumber('isclose', 'rtol', rtol), checkNumber('isclose', 'atol', atol), checkBool('isclose', 'equalNan', equalNan)));
  }
  /** Whether every element is close to `other`'s (see `isclose`), as PyTorch's `allclose`. */
  allclose(other_: Tensor, rtol = 1e-5, atol = 1e-8, equalNan = false): boolean {
    const op = 'allclose';
    const close = new Tensor(N.isclose(this.handle, tensorArg(op, 'other', other_), checkNumber(op, 'rtol', rtol), checkNumber(op, 'atol', atol), checkBool(op, 'equalNan', equalNan)));
    try {
      const all = close.all();
      try {
        return all.item() === true;
      } finally {
        all.dispose();
      }
    } finally {
      close.dispose();
    }
  }

  private unary(op: string): Tensor {
    return new Tensor(N.unary(op, this.handle));
  }
  private inplace(op: string, arg?: Tensor | Scalar): this {
    const h = arg === undefined ? N.unary(op, this.handle) : N.binary(op, this.handle, other(op, arg));
    h.dispose();
    return this;
  }

  /** |x| */
  abs(): Tensor { return this.unary('abs'); }
  /** -x */
  neg(): Tensor { return this.unary('neg'); }
  /** e^x */
  exp(): Tensor { return this.unary('exp'); }
  /** Natural logarithm. */
  log(): Tensor { return this.unary('log'); }
  /** log(1 + x). */
  log1p(): Tensor { return this.unary('log1p'); }
  /** Square root. */
  sqrt(): Tensor { return this.unary('sqrt'); }
  /** 1 / sqrt(x). */
  rsqrt(): Tensor { return this.unary('rsqrt'); }
  /** x * x. */
  square(): Tensor { return this.unary('square'); }
  /** 1 / x. */
  reciprocal(): Tensor { return this.unary('reciprocal'); }
  /** Logistic sigmoid. */
  sigmoid(): Tensor { return this.unary('sigmoid'); }
  /** Hyperbolic tangent. */
  tanh(): Tensor { return this.unary('tanh'); }
  /** max(x, 0). */
  relu(): Tensor { return this.unary('relu'); }
  /** Sine. */
  sin(): Tensor { return this.unary('sin'); }
  /** Cosine. */
  cos(): Tensor { return this.unary('cos'); }
  /** Round down. */
  floor(): Tensor { return this.unary('floor'); }
  /** Round up. */
  ceil(): Tensor { return this.unary('ceil'); }
  /** Round half to even. */
  round(): Tensor { return this.unary('round'); }
  /** -1, 0 or 1. */
  sign(): Tensor { return this.unary('sign'); }
  /** Gauss error function. */
  erf(): Tensor { return this.unary('erf'); }
  /** Inverse of erf. */
  erfinv(): Tensor { return this.unary('erfinv'); }
  /** e^x − 1, accurate near 0. */
  expm1(): Tensor { return this.unary('expm1'); }
  /** Base-2 logarithm. */
  log2(): Tensor { return this.unary('log2'); }
  /** Base-10 logarithm. */
  log10(): Tensor { return this.unary('log10'); }
  /** Tangent. */
  tan(): Tensor { return this.unary('tan'); }
  /** Arcsine. */
  asin(): Tensor { return this.unary('asin'); }
  /** Arccosine. */
  acos(): Tensor { return this.unary('acos'); }
  /** Arctangent. */
  atan(): Tensor { return this.unary('atan'); }
  /** Hyperbolic sine. */
  sinh(): Tensor { return this.unary('sinh'); }
  /** Hyperbolic cosine. */
  cosh(): Tensor { return this.unary('cosh'); }
  /** Inverse hyperbolic sine. */
  asinh(): Tensor { return this.unary('asinh'); }
  /** Inverse hyperbolic cosine (NaN below 1). */
  acosh(): Tensor { return this.unary('acosh'); }
  /** Inverse hyperbolic tangent (±∞ at ±1, NaN outside [−1, 1]). */
  atanh(): Tensor { return this.unary('atanh'); }
  /** Round toward zero. */
  trunc(): Tensor { return this.unary('trunc'); }
  /** Fractional part, x − trunc(x). */
  frac(): Tensor { return this.unary('frac'); }
  /** log |Γ(x)|. */
  lgamma(): Tensor { return this.unary('lgamma'); }
  /** Digamma ψ(x), the derivative of lgamma. */
  digamma(): Tensor { return this.unary('digamma'); }
  /** Sum of the diagonal of a 2-d tensor. */
  trace(): Tensor { return this.unary('trace'); }
  /** Elementwise ±Infinity test (bool). */
  isinf(): Tensor { return this.unary('isinf'); }
  /** Elementwise NaN test (bool). */
  isnan(): Tensor { return this.unary('isnan'); }
  /** Elementwise finiteness test (bool). */
  isfinite(): Tensor { return this.unary('isfinite'); }
  /** Clamps into [min, max]; either bound may be omitted (null/undefined). */
  clamp(min?: number | null, max?: number | null): Tensor {
    return new Tensor(N.clamp(this.handle, min, max, false) as TensorHandle);
  }

  /** In place: this += other. */
  add_(o: Tensor | Scalar): this { return this.inplace('add_', o); }
  /** In place: this -= other. */
  sub_(o: Tensor | Scalar): this { return this.inplace('sub_', o); }
  /** In place: this *= other. */
  mul_(o: Tensor | Scalar): this { return this.inplace('mul_', o); }
  /** In place: this /= other. */
  div_(o: Tensor | Scalar): this { return this.inplace('div_', o); }
  /** In place: this **= exponent. */
  pow_(o: Tensor | Scalar): this { return this.inplace('pow_', o); }
  /** In place: every element = value. */
  fill_(value: Tensor | Scalar): this { return this.inplace('fill_', value); }
  /** In place: copies src's values (broadcast, converted) into this. */
  copy_(src: Tensor): this { return this.inplace('copy_', src); }
  /** In place: zeros. */
  zero_(): this { return this.inplace('zero_'); }
  /** In place |x|. */
  abs_(): this { return this.inplace('abs_'); }
  /** In place -x. */
  neg_(): this { return this.inplace('neg_'); }
  /** In place e^x. */
  exp_(): this { return this.inplace('exp_'); }
  /** In place log. */
  log_(): this { return this.inplace('log_'); }
  /** In place sqrt. */
  sqrt_(): this { return this.inplace('sqrt_'); }
  /** In place sigmoid. */
  sigmoid_(): this { return this.inplace('sigmoid_'); }
  /** In place tanh. */
  tanh_(): this { return this.inplace('tanh_'); }
  /** In place relu. */
  relu_(): this { return this.inplace('relu_'); }
  /** In place clamp. */
  clamp_(min?: number | null, max?: number | null): this {
    N.clamp(this.handle, min, max, true);
    return this;
  }

  // ---------------------------------------------------------------- reductions

  private reduce(op: string, dim: number | number[] | undefined, keepdim: boolean, unbiased = true): Tensor {
    return new Tensor(N.reduce(op, this.handle, dims(op, dim), keepdim, unbiased));
  }
  /** Sum over all elements, or over `dim`. */
  sum(dim?: number | number[], keepdim = false): Tensor { return this.reduce('sum', dim, keepdim); }
  /** Mean over all elements, or over `dim`. */
  mean(dim?: number | number[], keepdim = false): Tensor { return this.reduce('mean', dim, keepdim); }
  /** Product over all elements, or over one `dim`. */
  prod(dim?: number, keepdim = false): Tensor { return this.reduce('prod', dim, keepdim); }
  /**
   * As PyTorch's `max`: the largest element (`t.max()`, a 0-d tensor); along one `dim`, `[values, indices]`
   * (PyTorch's namedtuple: `const [best, idx] = logits.max(1)`); with a tensor, the elementwise `maximum`.
   * `amax` takes several dims and gives the values only.
   */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): [Tensor, Tensor];
  max(other: Tensor): Tensor;
  max(dim?: number | Tensor, keepdim = false): Tensor | [Tensor, Tensor] { return extreme(this, 'max', dim, keepdim); }
  /** As PyTorch's `min`: the smallest element, `[values, indices]` along one `dim`, or the elementwise `minimum` with a tensor. */
  min(): Tensor;
  min(dim: number, keepdim?: boolean): [Tensor, Tensor];
  min(other: Tensor): Tensor;
  min(dim?: number | Tensor, keepdim = false): Tensor | [Tensor, Tensor] { return extreme(this, 'min', dim, keepdim); }
  /** Largest value over all elements or over `dim` (one or several), values only: PyTorch's `amax`. */
  amax(dim?: number | number[], keepdim = false): Tensor { return this.reduce('amax', dim, keepdim); }
  /** Smallest value over all elements or over `dim` (one or several), values only: PyTorch's `amin`. */
  amin(dim?: number | number[], keepdim = false): Tensor { return this.reduce('amin', dim, keepdim); }
  /** Index of the maximum (flattened, or along one `dim`), int64. */
  argmax(dim?: number, keepdim = false): Tensor { return this.reduce('argmax', dim, keepdim); }
  /** Index of the minimum, int64. */
  argmin(dim?: number, keepdim = false): Tensor { return this.reduce('argmin', dim, keepdim); }
  /** Standard deviation over all elements or `dim`, Bessel-corrected unless `unbiased` is false (PyTorch's order: dim, unbiased, keepdim). */
  std(dim?: number | number[], unbiased = true, keepdim = false): Tensor { return this.reduce('std', dim, keepdim, unbiased); }
  /** Variance over all elements or `dim`, Bessel-corrected unless `unbiased` is false (PyTorch's order: dim, unbiased, keepdim). */
  var(dim?: number | number[], unbiased = true, keepdim = false): Tensor { return this.reduce('var', dim, keepdim, unbiased); }
  /** True where all elements (along `dim`) are nonzero. */
  all(dim?: number, keepdim = false): Tensor { return this.reduce('all', dim, keepdim); }
  /** True where any element (along `dim`) is nonzero. */
  any(dim?: number, keepdim = false): Tensor { return this.reduce('any', dim, keepdim); }
  /**
   * The p-norm over all elements or `dim` (PyTorch's order: p, dim, keepdim): `'fro'` (default) and 2 are the
   * Euclidean norm, 1 the sum of magnitudes, Infinity the largest magnitude.
   */
  norm(p: number | 'fro' = 'fro', dim?: number | number[], keepdim = false): Tensor {
    if (p !== 'fro' && (typeof p !== 'number' || Number.isNaN(p))) throw typeError('norm', 'p', "a number (Infinity included) or 'fro'", p);
    return new Tensor(N.reduce('norm', this.handle, dims('norm', dim), keepdim, true, p === 'fro' ? 2 : p));
  }
  /**
   * The k largest (or, with `largest` false, smallest) elements along `dim` (default the last) and their int64
   * indices, as `[values, indices]` (PyTorch's namedtuple): `const [top5, idx] = logits.topk(5)`.
   */
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
    checkInt('topk', 'k', k, 0);
    checkInt('topk', 'dim', dim);
    const [v, i] = N.sortOp('topk', this.handle, dim, k, checkBool('topk', 'largest', largest), checkBool('topk', 'sorted', sorted));
    return [new Tensor(v), new Tensor(i)];
  }
  /** The elements sorted along `dim` (default the last) and the int64 indices that sort them, as `[values, indices]`. */
  sort(dim = -1, descending = false, stable = false): [Tensor, Tensor] {
    checkInt('sort', 'dim', dim);
    const [v, i] = N.sortOp('sort', this.handle, dim, checkBool('sort', 'descending', descending), checkBool('sort', 'stable', stable));
    return [new Tensor(v), new Tensor(i)];
  }
  /** The int64 indices that sort the elements along `dim` (default the last). */
  argsort(dim = -1, descending = false, stable = false): Tensor {
    checkInt('argsort', 'dim', dim);
    const [v, i] = N.sortOp('argsort', this.handle, dim, checkBool('argsort', 'descending', descending), checkBool('argsort', 'stable', stable));
    v.dispose();
    return new Tensor(i);
  }
  /** Softmax along `dim`. */
  softmax(dim: number): Tensor { return this.reduce('softmax', checkInt('softmax', 'dim', dim), false); }
  /** Log-softmax along `dim`. */
  logSoftmax(dim: number): Tensor { return this.reduce('logSoftmax', checkInt('logSoftmax', 'dim', dim), false); }
  /** Cumulative sum along `dim`. */
  cumsum(dim: number): Tensor { return this.reduce('cumsum', checkInt('cumsum', 'dim', dim), false); }
  /** Cumulative product along `dim`. */
  cumprod(dim: number): Tensor { return this.reduce('cumprod', checkInt('cumprod', 'dim', dim), false); }
  /** log of the cumulative sum of exp along `dim`, computed stably. */
  logcumsumexp(dim: number): Tensor { return this.reduce('logcumsumexp', checkInt('logcumsumexp', 'dim', dim), false); }
  /** log Σ exp over `dim` (one or several), computed stably, as PyTorch's `logsumexp`. */
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    if (dim === undefined) throw typeError('logsumexp', 'dim', 'a dimension or a list of dimensions', dim);
    return this.reduce('logsumexp', dim, keepdim);
  }
  /** Sum treating NaN as zero, over all elements or `dim`. */
  nansum(dim?: number | number[], keepdim = false): Tensor { return this.reduce('nansum', dim, keepdim); }
  /** Mean of the non-NaN elements, over all elements or `dim`. */
  nanmean(dim?: number | number[], keepdim = false): Tensor { return this.reduce('nanmean', dim, keepdim); }
  /** Number of nonzero elements (int64), over all elements or `dim`. */
  countNonzero(dim?: number | number[]): Tensor { return this.reduce('countNonzero', dim, false); }
  /**
   * The median (the lower of the two middle values for an even count): of all elements as a 0-d tensor, or along
   * `dim` as `[values, indices]`, as PyTorch's `median`.
   */
  median(): Tensor;
  median(dim: number, keepdim?: boolean): [Tensor, Tensor];
  median(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    if (dim === undefined) return this.reduce('median', undefined, false);
    return this.valuesIndices('median', dim, keepdim);
  }
  /** As `median`, ignoring NaN. */
  nanmedian(): Tensor;
  nanmedian(dim: number, keepdim?: boolean): [Tensor, Tensor];
  nanmedian(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    if (dim === undefined) return this.reduce('nanmedian', undefined, false);
    return this.valuesIndices('nanmedian', dim, keepdim);
  }
  /** The most frequent value along `dim` (default the last; the smallest on ties) and its index, as `[values, indices]`. */
  mode(dim = -1, keepdim = false): [Tensor, Tensor] { return this.valuesIndices('mode', dim, keepdim); }
  /** The k-th smallest element along `dim` (default the last) and its index, as `[values, indices]`. */
  kthvalue(k: number, dim = -1, keepdim = false): [Tensor, Tensor] {
    return this.valuesIndices('kthvalue', dim, keepdim, checkInt('kthvalue', 'k', k, 1));
  }
  /** Running maximum along `dim` and where it was reached, as `[values, indices]`. */
  cummax(dim: number): [Tensor, Tensor] { return this.valuesIndices('cummax', dim, false); }
  /** Running minimum along `dim` and where it was reached, as `[values, indices]`. */
  cummin(dim: number): [Tensor, Tensor] { return this.valuesIndices('cummin', dim, false); }
  private valuesIndices(op: 'median' | 'nanmedian' | 'mode' | 'cummax' | 'cummin' | 'kthvalue', dim: number, keepdim: boolean, k?: number): [Tensor, Tensor] {
    checkInt(op, 'dim', dim);
    const [v, i] = N.sortOp(op, this.handle, dim, checkBool(op, 'keepdim', keepdim), k);
    return [new Tensor(v), new Tensor(i)];
  }

  // ---------------------------------------------------------------- shape

  private shapeOp(op: string, ...args: unknown[]): Tensor {
    return new Tensor(N.shapeOp(op, this.handle, ...args));
  }
  /** Same data with a new shape (one size may be -1); copies only if it must. */
  reshape(...shape: number[] | [number[]]): Tensor {
    return this.shapeOp('reshape', Array.isArray(shape[0]) ? shape[0] : shape);
  }
  /** Same data with a new shape, never copying (fails on incompatible strides). */
  view(...shape: number[] | [number[]]): Tensor {
    return this.shapeOp('view', Array.isArray(shape[0]) ? shape[0] : shape);
  }
  /** Reorders dimensions. */
  permute(...order: number[] | [number[]]): Tensor {
    return this.shapeOp('permute', Array.isArray(order[0]) ? order[0] : order);
  }
  /** Broadcasts singleton dimensions to `shape` (-1 keeps a size) without copying. */
  expand(...shape: number[] | [number[]]): Tensor {
    return this.shapeOp('expand', Array.isArray(shape[0]) ? shape[0] : shape);
  }
  /** Tiles the tensor `repeats` times along each dimension. */
  repeat(...repeats: number[] | [number[]]): Tensor {
    return this.shapeOp('repeat', Array.isArray(repeats[0]) ? repeats[0] : repeats);
  }
  /**
   * Pads with a constant: `pad` lists (before, after) amounts from the last dimension backwards, as in
   * PyTorch's F.pad (`[left, right, top, bottom]` pads the last two dimensions).
   */
  pad(pad: number[], value = 0): Tensor {
    return this.shapeOp('pad', pad, value);
  }
  /** Reverses the order of elements along `dims`. */
  flip(...dims: number[] | [number[]]): Tensor {
    return this.shapeOp('flip', Array.isArray(dims[0]) ? dims[0] : dims);
  }
  /** Rolls elements along `dims` by `shifts` (wrapping around). */
  roll(shifts: number | number[], dims: number | number[]): Tensor {
    return this.shapeOp('roll', Array.isArray(shifts) ? shifts : [shifts], Array.isArray(dims) ? dims : [dims]);
  }
  /** The lower triangle of the last two dimensions (elements on and below diagonal `diagonal`), the rest zero. */
  tril(diagonal = 0): Tensor { return this.shapeOp('tril', checkInt('tril', 'diagonal', diagonal)); }
  /** The upper triangle of the last two dimensions (on and above diagonal `diagonal`), the rest zero. */
  triu(diagonal = 0): Tensor { return this.shapeOp('triu', checkInt('triu', 'diagonal', diagonal)); }
  /** A 1-d tensor's values as the `diagonal`-th diagonal of a square matrix, or a 2-d tensor's diagonal as 1-d. */
  diag(diagonal = 0): Tensor { return this.shapeOp('diag', checkInt('diag', 'diagonal', diagonal)); }
  /** A view of the diagonal `offset` of the planes (dim1, dim2), appended as the last dimension. */
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor {
    return this.shapeOp('diagonal', checkInt('diagonal', 'offset', offset), checkInt('diagonal', 'dim1', dim1), checkInt('diagonal', 'dim2', dim2));
  }
  /** Moves dimension(s) `source` to position(s) `destination`, keeping the others in order (a view). */
  movedim(source: number | number[], destination: number | number[]): Tensor {
    return this.shapeOp('movedim', Array.isArray(source) ? source : [source], Array.isArray(destination) ? destination : [destination]);
  }
  /** Rotates by 90° `k` times in the plane `dims` (from the first toward the second). */
  rot90(k = 1, dims: [number, number] = [0, 1]): Tensor {
    return this.shapeOp('rot90', checkInt('rot90', 'k', k), dims);
  }
  /** Repeats the tensor along each dimension, as `repeat` but padding `dims` with ones on the left (PyTorch's `tile`). */
  tile(...dims: number[] | [number[]]): Tensor {
    return this.shapeOp('tile', Array.isArray(dims[0]) ? dims[0] : dims);
  }
  /** Splits `dim` into the given sizes (one may be -1), as PyTorch's `unflatten`. */
  unflatten(dim: number, sizes: number[]): Tensor {
    const shape = this.shape;
    const d = checkInt('unflatten', 'dim', dim, -Math.max(shape.length, 1), Math.max(shape.length, 1) - 1);
    if (!Array.isArray(sizes) || sizes.length === 0) throw typeError('unflatten', 'sizes', 'a non-empty array of sizes', sizes);
    const at = d < 0 ? d + shape.length : d;
    const known = sizes.filter((v) => v !== -1).reduce((a, b) => a * checkInt('unflatten', 'sizes', b, 0), 1);
    const free = sizes.filter((v) => v === -1).length;
    if (free > 1 || (free === 0 && known !== shape[at]) || (free === 1 && (known === 0 || shape[at] % known !== 0))) {
      throw rangeError('unflatten', 'sizes', `sizes whose product is ${shape[at]} (dimension ${dim}'s size)`, sizes);
    }
    return this.reshape([...shape.slice(0, at), ...sizes, ...shape.slice(at + 1)]);
  }
  /** The slices along `dim` (default 0) as separate tensors, that dimension removed (views). */
  unbind(dim = 0): Tensor[] {
    return N.unbind(this.handle, checkInt('unbind', 'dim', dim)).map((h) => new Tensor(h));
  }
  /** This tensor broadcast to `other`'s shape (a view). */
  expandAs(other_: Tensor): Tensor { return this.expand(tensorShape('expandAs', other_)); }
  /** This tensor's data with `other`'s shape (never copying). */
  viewAs(other_: Tensor): Tensor { return this.view(tensorShape('viewAs', other_)); }
  /** This tensor's data with `other`'s shape (copying only if it must). */
  reshapeAs(other_: Tensor): Tensor { return this.reshape(tensorShape('reshapeAs', other_)); }
  /** Swaps two dimensions. */
  transpose(dim0: number, dim1: number): Tensor { return this.shapeOp('transpose', dim0, dim1); }
  /** Transpose of a 2-d tensor. */
  t(): Tensor { return this.unary('t'); }
  /** Flattens dimensions startDim..endDim into one. */
  flatten(startDim = 0, endDim = -1): Tensor { return this.shapeOp('flatten', startDim, endDim); }
  /** Removes size-1 dimensions (all, or just `dim`). */
  squeeze(dim?: number): Tensor { return this.shapeOp('squeeze', dim); }
  /** Inserts a size-1 dimension at `dim`. */
  unsqueeze(dim: number): Tensor { return this.shapeOp('unsqueeze', dim); }
  /** A tensor dense in the given layout (this one if it already is). */
  contiguous(memoryFormat: MemoryFormat = 'contiguous'): Tensor {
    return this.shapeOp('contiguous', checkOneOf('contiguous', 'memoryFormat', memoryFormat, ['contiguous', 'channelsLast']));
  }
  /** The slice at `index` of dimension `dim`, with that dimension removed. */
  select(dim: number, index: number): Tensor { return this.shapeOp('select', dim, index); }
  /**
   * A view of this tensor's storage with the given sizes, strides and storage offset (default: this tensor's),
   * as PyTorch's `as_strided`; it must lie inside the storage.
   */
  asStrided(size: number[], stride: number[], storageOffset?: number): Tensor {
    return this.shapeOp('asStrided', size, stride, storageOffset);
  }
  /** The offset of this tensor's first element in its storage, in elements (PyTorch's `storage_offset()`). */
  storageOffset(): number {
    return N.storageInfo(this.handle)[0];
  }
  /** `length` elements of `dim` from `start` (a view). */
  narrow(dim: number, start: number, length: number): Tensor { return this.shapeOp('narrow', dim, start, length); }
  /** Elements start..end (exclusive) by `step` along `dim` (a view). */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return this.shapeOp('slice', dim, start, end, step);
  }
  /**
   * NumPy/PyTorch-style indexing: `x.index(0, {start: 1, stop: 3}, null, '...')` is `x[0, 1:3, None, ...]`;
   * an int64 Tensor gathers, a bool Tensor masks.
   */
  index(...items: IndexItem[]): Tensor {
    return new Tensor(N.index(this.handle, indexItems('index', items)));
  }
  /** In place `x[items] = value`. */
  indexPut_(items: IndexItem[], value: Tensor | Scalar): this {
    N.indexPut_(this.handle, indexItems('indexPut_', items), value instanceof Tensor ? value.handle : checkScalar('indexPut_', 'value', value));
    return this;
  }
  /** Rows (along `dim`) chosen by an int64 index tensor. */
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(N.indexSelect(this.handle, dim, tensorArg('indexSelect', 'index', index)));
  }
  /** The elements where a bool mask is true, as a 1-d tensor. */
  maskedSelect(mask: Tensor): Tensor {
    return new Tensor(N.maskedSelect(this.handle, tensorArg('maskedSelect', 'mask', mask)));
  }
  /** Gathers values along `dim` at int64 `index` (same rank as this). */
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(N.gather(this.handle, dim, tensorArg('gather', 'index', index)));
  }
  /**
   * Values along `dim` picked by `indices` after broadcasting both in the other dimensions (PyTorch's
   * `take_along_dim`); without `dim`, from the flattened tensor.
   */
  takeAlongDim(indices: Tensor, dim?: number): Tensor {
    const op = 'takeAlongDim';
    tensorArg(op, 'indices', indices);
    const idx = indices;
    if (dim === undefined || dim === null) {
      const flat = this.reshape([-1]);
      const i = idx.reshape([-1]);
      try {
        return flat.gather(0, i);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('gather: ')) e.message = `${op}: ${e.message.slice('gather: '.length)} (of the flattened tensor)`;
        throw e;
      } finally {
        flat.dispose();
        i.dispose();
      }
    }
    const self = this.shape;
    const ishape = idx.shape;
    if (ishape.length !== self.length) throw rangeError(op, 'indices', `a tensor of ${self.length} dimensions, as self`, ishape);
    const d = checkInt(op, 'dim', dim, -Math.max(self.length, 1), Math.max(self.length, 1) - 1);
    const at = d < 0 ? d + self.length : d;
    const target = self.map((s, k) => {
      if (k === at) return ishape[k];
      if (s !== ishape[k] && s !== 1 && ishape[k] !== 1) throw rangeError(op, 'indices', `a shape broadcastable with self's ${fmtShape(self)} outside dimension ${dim}`, ishape);
      return Math.max(s, ishape[k]);
    });
    const i = idx.expand(target);
    const x = this.expand(target.map((s, k) => (k === at ? self[k] : s)));
    try {
      return x.gather(at, i);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('gather: ')) e.message = `${op}: ${e.message.slice('gather: '.length)}`;
      throw e;
    } finally {
      i.dispose();
      x.dispose();
    }
  }
  /** A copy with `src`'s values (a Tensor, or one number) written at `index` along `dim`: `out[i][index[i][j]] = src[i][j]` for dim 1. */
  scatter(dim: number, index: Tensor, src: Tensor | Scalar): Tensor {
    return new Tensor(this.indexOp('scatter', dim, index, src) as TensorHandle);
  }
  /** In-place `scatter`. */
  scatter_(dim: number, index: Tensor, src: Tensor | Scalar): this {
    this.indexOp('scatter_', dim, index, src);
    return this;
  }
  /** A copy with `src`'s values added at `index` along `dim` (repeated indices accumulate). */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(this.indexOp('scatterAdd', dim, index, src) as TensorHandle);
  }
  /** In-place `scatterAdd`. */
  scatterAdd_(dim: number, index: Tensor, src: Tensor): this {
    this.indexOp('scatterAdd_', dim, index, src);
    return this;
  }
  /** A copy with `alpha · source`'s slices added at the positions `index` (1-d) along `dim`. */
  indexAdd(dim: number, index: Tensor, source: Tensor, alpha: Scalar = 1): Tensor {
    return new Tensor(this.indexOp('indexAdd', dim, index, source, alpha) as TensorHandle);
  }
  /** In-place `indexAdd`. */
  indexAdd_(dim: number, index: Tensor, source: Tensor, alpha: Scalar = 1): this {
    this.indexOp('indexAdd_', dim, index, source, alpha);
    return this;
  }
  /** A copy with the slices at `index` (1-d; negative counts from the end) along `dim` set to `value`. */
  indexFill(dim: number, index: Tensor, value: Tensor | Scalar): Tensor {
    return new Tensor(this.indexOp('indexFill', dim, index, value) as TensorHandle);
  }
  /** In-place `indexFill`. */
  indexFill_(dim: number, index: Tensor, value: Tensor | Scalar): this {
    this.indexOp('indexFill_', dim, index, value);
    return this;
  }
  /** A copy with `source`'s slices copied to the positions `index` (1-d) along `dim`. */
  indexCopy(dim: number, index: Tensor, source: Tensor): Tensor {
    return new Tensor(this.indexOp('indexCopy', dim, index, source) as TensorHandle);
  }
  /** In-place `indexCopy`. */
  indexCopy_(dim: number, index: Tensor, source: Tensor): this {
    this.indexOp('indexCopy_', dim, index, source);
    return this;
  }
  private indexOp(op: string, dim: number, index: Tensor, src: Tensor | Scalar, alpha?: Scalar): TensorHandle | undefined {
    const base = op.replace(/_$/, '');
    const value = src instanceof Tensor ? src.handle : base === 'scatter' || base === 'indexFill' ? checkScalar(op, 'value', src) : tensorArg(op, 'source', src);
    return N.indexOp(op, this.handle, checkInt(op, 'dim', dim), tensorArg(op, 'index', index), value, alpha === undefined ? undefined : checkScalar(op, 'alpha', alpha));
  }
  /** A copy with `value` (a number or a 0-d tensor) where the bool `mask` (broadcast) is true, as `masked_fill`. */
  maskedFill(mask: Tensor, value: Tensor | Scalar): Tensor {
    return new Tensor(this.maskedOp('maskedFill', mask, value) as TensorHandle);
  }
  /** In-place `maskedFill`. */
  maskedFill_(mask: Tensor, value: Tensor | Scalar): this {
    this.maskedOp('maskedFill_', mask, value);
    return this;
  }
  /** A copy with `source`'s elements, in order, written where the bool `mask` is true. */
  maskedScatter(mask: Tensor, source: Tensor): Tensor {
    return new Tensor(this.maskedOp('maskedScatter', mask, source) as TensorHandle);
  }
  /** In-place `maskedScatter`. */
  maskedScatter_(mask: Tensor, source: Tensor): this {
    this.maskedOp('maskedScatter_', mask, source);
    return this;
  }
  private maskedOp(op: string, mask: Tensor, value: Tensor | Scalar): TensorHandle | undefined {
    const v = value instanceof Tensor ? value.handle : op.startsWith('maskedFill') ? checkScalar(op, 'value', value) : tensorArg(op, 'source', value);
    return N.maskedOp(op, this.handle, tensorArg(op, 'mask', mask), v);
  }
  /**
   * The indices of the nonzero elements: an int64 `[n, ndim]` tensor, or with `{asTuple: true}` one 1-d
   * tensor per dimension (usable in `index`).
   */
  nonzero(): Tensor;
  nonzero(options: { asTuple: true }): Tensor[];
  nonzero(options: { asTuple?: false }): Tensor;
  nonzero(options: { asTuple?: boolean }): Tensor | Tensor[];
  nonzero(options: { asTuple?: boolean } = {}): Tensor | Tensor[] {
    const o = knownOptions('nonzero', options, ['asTuple']);
    const r = N.nonzero(this.handle, checkBool('nonzero', 'asTuple', o.asTuple ?? false));
    return Array.isArray(r) ? r.map((h) => new Tensor(h)) : new Tensor(r);
  }
  /**
   * The distinct elements (or distinct slices along `dim`), sorted; with `returnInverse` also where each element
   * went, with `returnCounts` how often each occurs: `[values, inverse?, counts?]`, as PyTorch's `unique`.
   */
  unique(options?: UniqueOptions & { returnInverse?: false; returnCounts?: false }): Tensor;
  unique(options: UniqueOptions & { returnInverse: true; returnCounts: true }): [Tensor, Tensor, Tensor];
  unique(options: UniqueOptions & ({ returnInverse: true; returnCounts?: false } | { returnInverse?: false; returnCounts: true })): [Tensor, Tensor];
  unique(options: UniqueOptions): Tensor | Tensor[];
  unique(options: UniqueOptions = {}): Tensor | Tensor[] {
    const op = 'unique';
    const o = knownOptions(op, options, ['sorted', 'returnInverse', 'returnCounts', 'dim']);
    const inverse = checkBool(op, 'returnInverse', o.returnInverse ?? false);
    const counts = checkBool(op, 'returnCounts', o.returnCounts ?? false);
    const dim = o.dim === undefined || o.dim === null ? undefined : checkInt(op, 'dim', o.dim);
    const [v, i, c] = N.unique(this.handle, checkBool(op, 'sorted', o.sorted ?? true), inverse, counts, dim);
    const out = [new Tensor(v)];
    if (inverse) out.push(new Tensor(i));
    else i.dispose();
    if (counts) out.push(new Tensor(c));
    else c.dispose();
    return out.length === 1 ? out[0] : out;
  }
  /** How often each value 0..max occurs in a 1-d non-negative integer tensor (weighted by `weights`), at least `minlength` bins. */
  bincount(weights: Tensor | null = null, minlength = 0): Tensor {
    const w = weights === null || weights === undefined ? null : tensorArg('bincount', 'weights', weights);
    return new Tensor(N.bincount(this.handle, w, checkInt('bincount', 'minlength', minlength, 0)));
  }
  /** A histogram of `bins` equal bins over [min, max] (both 0: the data's own range), as PyTorch's `histc`. */
  histc(bins = 100, min = 0, max = 0): Tensor {
    return new Tensor(N.histc(this.handle, checkInt('histc', 'bins', bins, 1), checkNumber('histc', 'min', min), checkNumber('histc', 'max', max)));
  }
  /** Draws `numSamples` category indices per row from this tensor's non-negative weights, as PyTorch's `multinomial`. */
  multinomial(numSamples: number, replacement = false, options: { generator?: Generator } = {}): Tensor {
    const o = knownOptions('multinomial', options, ['generator']);
    return new Tensor(N.sample('multinomial', generatorHandle('multinomial', o.generator as Generator | undefined), this.handle, checkInt('multinomial', 'numSamples', numSamples, 1), checkBool('multinomial', 'replacement', replacement)));
  }
  /** 1 with probability given by each element (in [0, 1]), else 0, as PyTorch's `bernoulli`. */
  bernoulli(options: { generator?: Generator } = {}): Tensor {
    const o = knownOptions('bernoulli', options, ['generator']);
    return new Tensor(N.sample('bernoulli', generatorHandle('bernoulli', o.generator as Generator | undefined), this.handle));
  }
  /**
   * In place: fills this floating-point tensor with draws from the exponential distribution of rate `lambd`
   * (density `lambd·e^(−lambd·x)`, mean `1/lambd`), as PyTorch's `exponential_`; the same numbers as PyTorch's
   * for the same seed on the CPU.
   */
  exponential_(lambd = 1, options: { generator?: Generator } = {}): this {
    return this.fillRandom_('exponential_', options, [['lambd', lambd]]);
  }
  /**
   * In place: fills this floating-point tensor with draws from the uniform distribution on `[from, to)`, as
   * PyTorch's `uniform_` (the same numbers for the same seed on the CPU).
   */
  uniform_(from = 0, to = 1, options: { generator?: Generator } = {}): this {
    return this.fillRandom_('uniform_', options, [['from', from], ['to', to]]);
  }
  /**
   * In place: fills this floating-point tensor with draws from the normal distribution of mean `mean` and standard
   * deviation `std`, as PyTorch's `Tensor.normal_` (the same numbers for the same seed on the CPU).
   */
  normal_(mean = 0, std = 1, options: { generator?: Generator } = {}): this {
    return this.fillRandom_('normal_', options, [['mean', mean], ['std', std]]);
  }
  /**
   * In place: fills this floating-point tensor with draws from the Cauchy distribution of median `median` and
   * half-width `sigma` (density `1 / (π σ (1 + ((x − median)/σ)²))`), as PyTorch's `cauchy_`.
   */
  cauchy_(median = 0, sigma = 1, options: { generator?: Generator } = {}): this {
    return this.fillRandom_('cauchy_', options, [['median', median], ['sigma', sigma]]);
  }
  /** The in-place samplers' one path: options checked, arguments numbers, then the native fill (which checks ranges). */
  private fillRandom_(op: 'exponential_' | 'uniform_' | 'normal_' | 'cauchy_', options: { generator?: Generator }, args: [string, number][]): this {
    const o = knownOptions(op, options, ['generator']);
    const g = generatorHandle(op, o.generator as Generator | undefined);
    N.sample(op, g, this.handle, ...args.map(([name, v]) => checkNumber(op, name, v))).dispose();
    return this;
  }
  /** Splits into pieces of `size` (or the given sizes) along `dim`. */
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return N.split(this.handle, sizeOrSizes, dim).map((h) => new Tensor(h));
  }
  /** Splits into `chunks` nearly equal pieces along `dim`. */
  chunk(chunks: number, dim = 0): Tensor[] {
    return N.chunk(this.handle, chunks, dim).map((h) => new Tensor(h));
  }

  // ---------------------------------------------------------------- conversion

  /** Converts dtype and/or device: `to('float64')`, `to('cuda')`, `to({device: 'cuda', nonBlocking: true})`. */
  to(target: DType | Device | string | ToOptions): Tensor {
    let o: ToOptions;
    if (typeof target === 'string') o = (DTYPES as readonly string[]).includes(target) ? { dtype: target as DType } : { device: target };
    else if (target && typeof target === 'object' && Object.getPrototypeOf(target) === Object.prototype) o = knownOptions('to', target, ['dtype', 'device', 'nonBlocking', 'copy', 'memoryFormat']) as ToOptions;
    else throw typeError('to', 'target', 'a dtype, a device or {dtype, device, nonBlocking, copy, memoryFormat}', target);
    return new Tensor(N.to(this.handle, o.dtype, o.device, o.nonBlocking ?? false, o.copy ?? false, o.memoryFormat));
  }
  /** Copy on the CPU (this tensor if it already is). */
  cpu(): Tensor { return this.to({ device: 'cpu' }); }
  /** Copy on a CUDA device. */
  cuda(device: Device = 'cuda'): Tensor { return this.to({ device }); }
  /** As float32. */
  float(): Tensor { return this.to({ dtype: 'float32' }); }
  /** As float64. */
  double(): Tensor { return this.to({ dtype: 'float64' }); }
  /** As float16. */
  half(): Tensor { return this.to({ dtype: 'float16' }); }
  /** As int32. */
  int(): Tensor { return this.to({ dtype: 'int32' }); }
  /** As int64. */
  long(): Tensor { return this.to({ dtype: 'int64' }); }
  /** As int16 (PyTorch's `short()`). */
  short(): Tensor { return this.to({ dtype: 'int16' }); }
  /** As int8 (PyTorch's `char()`). */
  char(): Tensor { return this.to({ dtype: 'int8' }); }
  /** As bool. */
  bool(): Tensor { return this.to({ dtype: 'bool' }); }
  /** A copy with its own memory (gradients flow back to this). */
  clone(): Tensor { return this.unary('clone'); }
  /** A view of the same data cut off from the autograd graph. */
  detach(): Tensor { return this.unary('detach'); }
  /** Cuts this tensor off from the autograd graph in place. */
  detach_(): this { return this.inplace('detach_'); }

  // ---------------------------------------------------------------- autograd

  /** Whether operations on this tensor are recorded for autograd. */
  get requiresGrad(): boolean {
    return N.requiresGrad(this.handle);
  }
  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
  }
  /** Sets requiresGrad in place (leaf, floating-point tensors only) and returns this. */
  requiresGrad_(flag = true): this {
    N.setRequiresGrad(this.handle, flag);
    // LibTorch ignores `false` on a non-leaf (it keeps its gradFn and still requires grad): say so instead.
    if (flag === false && !this.isLeaf) {
      throw new TypeError('requiresGrad_: only leaf tensors can stop requiring grad; use detach() to cut a result off the graph');
    }
    return this;
  }
  /** The accumulated gradient (a new handle sharing its memory), or null before any backward(). */
  get grad(): Tensor | null {
    const h = N.grad(this.handle);
    return h ? new Tensor(h) : null;
  }
  /**
   * Sets the gradient, as PyTorch's `t.grad = g`: `g` itself becomes the gradient (shared, not copied; the
   * next backward accumulates into it), of this tensor's dtype, device and shape; null clears it.
   */
  set grad(g: Tensor | null) {
    if (g !== null && !(g instanceof Tensor)) throw typeError('grad', 'grad', 'a Tensor or null', g);
    N.setGrad(this.handle, g === null ? null : g.handle);
  }
  /**
   * Keeps this non-leaf tensor's gradient in `.grad` after `backward()` (as PyTorch's `retain_grad()`: an
   * activation's gradient, for analysis); a no-op on a leaf. Returns this tensor.
   */
  retainGrad(): this {
    N.retainGrad(this.handle);
    return this;
  }
  /** Whether `retainGrad()` was called on this non-leaf tensor (PyTorch's `retains_grad`). */
  get retainsGrad(): boolean {
    return N.retainsGrad(this.handle);
  }
  /** True for tensors created by the user rather than by a recorded operation. */
  get isLeaf(): boolean {
    return N.isLeaf(this.handle);
  }
  /** Name of the autograd node that produced this tensor (e.g. "MulBackward0"), or null. */
  get gradFn(): string | null {
    return N.gradFn(this.handle);
  }
  /** Clears the gradient (to none by default, or to zeros). */
  zeroGrad(setToNone = true): void {
    N.zeroGrad(this.handle, setToNone);
  }
  /**
   * Registers `hook` to run each time a gradient for this tensor is computed, as PyTorch's `register_hook`: it
   * sees the gradient and may return a replacement (same shape, dtype and device) that is used instead, for
   * the leaf's `.grad` and for the rest of the backward pass. Hooks run in registration order, on the JS
   * thread, during `backward()` and `autograd.grad()`, and during a Trainer's native step (a hooked parameter
   * keeps the step out of a CUDA graph); grad mode is off inside them unless the backward has `createGraph`
   * (wrap in `enableGrad` to differentiate there), as in PyTorch. An error thrown by the hook ends the
   * backward with that error. In `autograd.grad`, the hooks of the tensors asked for run on the gradients it
   * returns with LibTorch 2.13 and not with 1.13 (as the PyTorch of each version does).
   *
   * ```ts
   * const h = w.registerHook((g) => g.clamp(-1, 1)); // clip this parameter's gradient
   * loss.backward();
   * h.remove();
   * ```
   */
  registerHook(hook: TensorHook): RemovableHandle {
    const call = (h: TensorHandle): TensorHandle | undefined =>
      forNative(() => {
        const out = hook(new Tensor(h));
        if (out === undefined || out === null) return undefined;
        if (!(out instanceof Tensor)) throw typeError('registerHook', "the hook's result", 'a Tensor or nothing', out);
        return out.handle;
      });
    // The tensor is checked first (disposed, in flight), then the hook, natively.
    const [id, position] = N.registerHook(this.handle, typeof hook === 'function' ? call : (hook as never));
    const self = new WeakRef<Tensor>(this);
    let removed = false;
    return {
      remove(): void {
        if (removed) return;
        removed = true;
        const t = self.deref();
        N.removeHook(id, t && !t.isDisposed ? t.handle : null, position);
      },
    };
  }
  /**
   * Backpropagates from this tensor; gradients accumulate into `.grad` of the leaves.
   * A non-scalar tensor needs `gradient` (same shape).
   */
  backward(gradient?: Tensor, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    if (gradient !== undefined && gradient !== null && !(gradient instanceof Tensor)) throw typeError('backward', 'gradient', 'a Tensor', gradient);
    knownOptions('backward', options, ['retainGraph', 'createGraph']);
    N.backward(this.handle, gradient?.handle, options.retainGraph, options.createGraph ?? false);
  }
}

/**
 * A tensor hook (`Tensor.registerHook`): called with the gradient computed for the tensor; returns a replacement
 * gradient of the same shape, dtype and device, or nothing to leave it unchanged.
 */
export type TensorHook = (grad: Tensor) => Tensor | void;

/** What `registerHook` (and a module's `registerForwardHook`) returns: `remove()` unregisters the hook. */
export interface RemovableHandle {
  /** Unregisters the hook; calling it again does nothing. */
  remove(): void;
}

/** True when `value` is a Tensor. */
export function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor;
}
