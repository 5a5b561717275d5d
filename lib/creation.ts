/** Creating tensors: from JS data, over a Buffer (zero-copy), and the factory functions. */
import type { AnyTypedArray, DType, Device, MemoryFormat } from './dtype';
import { DTYPES } from './dtype';
import { markAsUntransferable } from 'worker_threads';
import { generatorHandle, type Generator } from './generator';
import { native } from './native';
import { Tensor, type Scalar } from './tensor';
import { checkInt, checkNumber, checkOneOf, checkScalar, checkShape, typeError, rangeError, knownOptions } from './validate';

const N = native();

/** Options shared by the factory functions. */
export interface TensorOptions {
  /** Element type (default: float32, or inferred from the data for `tensor()`). */
  dtype?: DType;
  /** Device (default `cpu`). */
  device?: Device | string;
  /** Record operations on the result for autograd (floating-point dtypes only). */
  requiresGrad?: boolean;
}

// The options every factory takes, and the few more some take (`extra`); `requiresGrad` is left out for integers.
function opts(op: string, o: TensorOptions | undefined, extra: string[] = [], base = ['dtype', 'device', 'requiresGrad']): { dtype?: DType; device?: string; requiresGrad: boolean } {
  if (o === undefined) return { requiresGrad: false };
  knownOptions(op, o, [...base, ...extra]);
  if (o.dtype !== undefined) checkOneOf(op, 'dtype', o.dtype, DTYPES);
  if (o.device !== undefined && typeof o.device !== 'string') throw typeError(op, 'device', '"cpu", "cuda" or "cuda:N"', o.device);
  return { dtype: o.dtype, device: o.device, requiresGrad: o.requiresGrad ?? false };
}

function sizes(op: string, shape: number | number[]): number[] {
  return checkShape(op, 'shape', typeof shape === 'number' ? [shape] : shape);
}

type Leaf = number | boolean | bigint;

/** What `tensor()` takes: a scalar or (rectangular) nested arrays of numbers, booleans or bigints. */
export type TensorData = number | boolean | bigint | TensorData[];

// Flattens rectangular nested arrays; throws naming the first ragged position.
function flatten(op: string, data: unknown): { values: Leaf[]; shape: number[] } {
  const shape: number[] = [];
  for (let d: unknown = data; Array.isArray(d); d = d[0]) {
    // A self-containing (circular) array would otherwise grow `shape` until V8 aborts the process.
    if (shape.length === 64) throw rangeError(op, 'data', 'nested arrays at most 64 levels deep', data);
    shape.push(d.length);
  }
  const values: Leaf[] = [];
  const walk = (v: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint') {
        throw typeError(op, `data[${path.join('][')}]`, 'a number, boolean or bigint', v);
      }
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw rangeError(op, `data${path.length ? `[${path.join('][')}]` : ''}`, `an array of length ${shape[depth]} (nested arrays must be rectangular)`, v);
    }
    v.forEach((x, i) => walk(x, depth + 1, [...path, i]));
  };
  walk(data, 0, []);
  return { values, shape };
}

// The integer dtypes' ranges. PyTorch refuses out-of-range values for them ("value cannot be converted to
// type int32 without overflow") except that it wraps negative values into uint8; ictorch refuses those too.
const INT_RANGES: Partial<Record<DType, [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 255n],
  int8: [-128n, 127n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
};

// The range of each integer TypedArray's elements: when it lies inside a dtype's range, no value needs a look.
function typedArrayRange(arr: AnyTypedArray): [bigint, bigint] | null {
  if (arr instanceof Uint8Array) return [0n, 255n];
  if (arr instanceof Int8Array) return [-128n, 127n];
  if (arr instanceof Int16Array) return [-(2n ** 15n), 2n ** 15n - 1n];
  if (arr instanceof Int32Array) return [-(2n ** 31n), 2n ** 31n - 1n];
  return null;
}

// Checks that every value of `arr` converts to `dtype` without wrapping: finite and, truncated toward
// zero, inside the dtype's range. Values of a narrower or equal integer type need no look.
function checkIntRange(dtype: DType, arr: AnyTypedArray): void {
  const range = INT_RANGES[dtype];
  if (!range) return;
  const [lo, hi] = range;
  const expected = `values that fit ${dtype} (finite, truncated toward zero, within ${lo} to ${hi})`;
  if (arr instanceof BigInt64Array) {
    if (dtype === 'int64') return;
    for (let i = 0; i < arr.length; i++) if (arr[i] < lo || arr[i] > hi) throw rangeError('tensor', `data (element ${i})`, expected, arr[i]);
    return;
  }
  const own = typedArrayRange(arr);
  if (own && own[0] >= lo && own[1] <= hi) return;
  const nlo = Number(lo);
  const nhi = Number(hi);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i] as number;
    const t = Math.trunc(v);
    // For int64, 2^63 itself is the first double beyond the range (2^63 - 1 is not a double).
    if (!Number.isFinite(v) || t < nlo || (dtype === 'int64' ? t >= 2 ** 63 : t > nhi)) throw rangeError('tensor', `data (element ${i})`, expected, v);
  }
}

/**
 * A tensor from JS data (copied): a number, boolean, nested arrays, or a TypedArray.
 * dtype is inferred when not given: numbers give float32, booleans bool, bigints int64, and a
 * TypedArray its own type (Float32Array float32, Float64Array float64, Int32Array int32,
 * BigInt64Array int64, Uint8Array uint8, Int8Array int8, Int16Array int16). `shape` reshapes a flat TypedArray.
 */
export function tensor(data: TensorData | AnyTypedArray, options: TensorOptions & { shape?: number[] } = {}): Tensor {
  const o = opts('tensor', options, ['shape']);
  if (ArrayBuffer.isView(data)) {
    const ta = data as AnyTypedArray;
    const shape = options.shape !== undefined ? checkShape('tensor', 'shape', options.shape) : [ta.length];
    if (o.dtype) checkIntRange(o.dtype, ta);
    return new Tensor(N.fromTypedArray(ta, shape, o.dtype, o.device, o.requiresGrad));
  }
  const { values, shape } = flatten('tensor', data);
  const kinds = new Set(values.map((v) => typeof v));
  if (kinds.size > 1) throw typeError('tensor', 'data', 'elements all of one kind (numbers, booleans or bigints)', data);
  let arr: AnyTypedArray;
  let inferred: DType;
  if (kinds.has('bigint')) {
    // BigInt64Array.from would wrap out-of-range values silently.
    const bad = (values as bigint[]).find((v) => v < -(2n ** 63n) || v >= 2n ** 63n);
    if (bad !== undefined) throw rangeError('tensor', 'data', 'bigints within the int64 range', bad);
    arr = BigInt64Array.from(values as bigint[]);
    inferred = 'int64';
  } else if (kinds.has('boolean')) {
    arr = Uint8Array.from(values as boolean[], (b) => (b ? 1 : 0));
    inferred = 'bool';
  } else {
    arr = Float64Array.from(values as number[]);
    inferred = 'float32';
  }
  const finalShape = options.shape !== undefined ? checkShape('tensor', 'shape', options.shape) : shape;
  checkIntRange(o.dtype ?? inferred, arr);
  return new Tensor(N.fromTypedArray(arr, finalShape, o.dtype ?? inferred, o.device, o.requiresGrad));
}

/**
 * A CPU tensor sharing memory with `buffer` (no copy): writes through either are seen by both.
 * The buffer's byte length must equal numel × element size and its memory be aligned for `dtype`.
 * A view of a resizable ArrayBuffer (`new ArrayBuffer(n, {maxByteLength})`) is refused with a TypeError:
 * shrinking it would take the memory from under the tensor; copy such data with `tensor()`.
 * Lifetime: the Buffer is kept alive as long as any tensor sharing its memory exists (views included), and
 * its ArrayBuffer is marked untransferable, so `postMessage`/`structuredClone` copy it instead of moving
 * (and freeing) the memory under the tensor.
 */
export function fromBuffer(buffer: ArrayBufferView, shape: number[], dtype: DType): Tensor {
  if (!ArrayBuffer.isView(buffer)) throw typeError('fromBuffer', 'buffer', 'a Buffer or TypedArray', buffer);
  checkOneOf('fromBuffer', 'dtype', dtype, DTYPES);
  const sizes = checkShape('fromBuffer', 'shape', shape);
  if ((buffer.buffer as { resizable?: boolean }).resizable === true) {
    throw typeError('fromBuffer', 'buffer', 'a view of a fixed-length ArrayBuffer (a resizable one can shrink under the tensor; copy it with tensor())', buffer);
  }
  if (buffer.buffer instanceof ArrayBuffer) markAsUntransferable(buffer.buffer);
  return new Tensor(N.fromBuffer(buffer, sizes, dtype));
}

/** A tensor filled with `value`. */
export function full(shape: number | number[], value: Scalar, options?: TensorOptions): Tensor {
  const o = opts('full', options);
  if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint') throw typeError('full', 'value', 'a number', value);
  checkScalar('full', 'value', value);
  return new Tensor(N.full(sizes('full', shape), value, o.dtype ?? (typeof value === 'boolean' ? 'bool' : undefined), o.device, o.requiresGrad));
}
// zeros/ones call the native `full`: its errors are renamed after the function the caller used.
function viaFull(op: string, shape: number[], value: number, o: ReturnType<typeof opts>): Tensor {
  try {
    return new Tensor(N.full(shape, value, o.dtype, o.device, o.requiresGrad));
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('full: ')) e.message = `${op}: ${e.message.slice('full: '.length)}`;
    throw e;
  }
}
/** A tensor of zeros. */
export function zeros(shape: number | number[], options?: TensorOptions): Tensor {
  const o = opts('zeros', options);
  return viaFull('zeros', sizes('zeros', shape), 0, o);
}
/** A tensor of ones. */
export function ones(shape: number | number[], options?: TensorOptions): Tensor {
  const o = opts('ones', options);
  return viaFull('ones', sizes('ones', shape), 1, o);
}
/** An uninitialised tensor (contents are whatever memory held). */
export function empty(shape: number | number[], options?: TensorOptions & { memoryFormat?: MemoryFormat }): Tensor {
  const o = opts('empty', options, ['memoryFormat']);
  return new Tensor(N.empty(sizes('empty', shape), o.dtype, o.device, o.requiresGrad, options?.memoryFormat));
}
function likeOf(op: string, t: unknown, options: TensorOptions | undefined): { shape: number[]; o: ReturnType<typeof opts> } {
  if (!(t instanceof Tensor)) throw typeError(op, 't', 'a Tensor', t);
  if (t.isDisposed) throw typeError(op, 't', 'a live Tensor (this one has been disposed)', t);
  opts(op, options);
  return { shape: t.shape, o: opts(op, { dtype: t.dtype, device: t.device, ...options }) };
}
/** Zeros with the shape, dtype and device of `t`. */
export function zerosLike(t: Tensor, options?: TensorOptions): Tensor {
  const { shape, o } = likeOf('zerosLike', t, options);
  return viaFull('zerosLike', shape, 0, o);
}
/** Ones with the shape, dtype and device of `t`. */
export function onesLike(t: Tensor, options?: TensorOptions): Tensor {
  const { shape, o } = likeOf('onesLike', t, options);
  return viaFull('onesLike', shape, 1, o);
}
/** `value` everywhere, with the shape, dtype and device of `t` (PyTorch's `full_like`). */
export function fullLike(t: Tensor, value: Scalar, options?: TensorOptions): Tensor {
  const { shape, o } = likeOf('fullLike', t, options);
  if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint') throw typeError('fullLike', 'value', 'a number', value);
  return new Tensor(N.full(shape, checkScalar('fullLike', 'value', value), o.dtype, o.device, o.requiresGrad));
}

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`; `arange(n)` is 0..n-1.
 * dtype defaults to int64 when all arguments are integers, else float32.
 */
export function arange(start: number, end?: number, step = 1, options?: TensorOptions): Tensor {
  const o = opts('arange', options);
  if (end === undefined) {
    end = start;
    start = 0;
  }
  checkNumber('arange', 'start', start);
  checkNumber('arange', 'end', end);
  checkNumber('arange', 'step', step);
  if (step === 0) throw rangeError('arange', 'step', 'a nonzero number', step);
  const integral = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  return new Tensor(N.arange(start, end, step, o.dtype ?? (integral ? 'int64' : 'float32'), o.device, o.requiresGrad));
}
/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, options?: TensorOptions): Tensor {
  const o = opts('linspace', options);
  checkNumber('linspace', 'start', start);
  checkNumber('linspace', 'end', end);
  checkInt('linspace', 'steps', steps, 0);
  return new Tensor(N.linspace(start, end, steps, o.dtype, o.device, o.requiresGrad));
}
/** `steps` values base^x for x evenly spaced from start to end inclusive (PyTorch's `logspace`; base 10 by default). */
export function logspace(start: number, end: number, steps: number, base = 10, options?: TensorOptions): Tensor {
  checkNumber('logspace', 'base', base);
  const x = linspace(start, end, steps, { ...options, requiresGrad: false, dtype: 'float64' });
  try {
    const b = full([], base, { dtype: 'float64', device: x.device });
    try {
      const y = b.pow(x);
      try {
        const o = opts('logspace', options);
        return y.to({ dtype: o.dtype ?? 'float32' }).requiresGrad_(o.requiresGrad);
      } finally {
        y.dispose();
      }
    } finally {
      b.dispose();
    }
  } finally {
    x.dispose();
  }
}
/**
 * A random permutation of 0..n-1 (int64 unless `dtype` says otherwise), as PyTorch's `randperm`; drawn from
 * `generator` if given.
 */
export function randperm(n: number, options?: Omit<RandomOptions, 'requiresGrad'>): Tensor {
  const o = opts('randperm', options, ['generator'], ['dtype', 'device']);
  return new Tensor(N.sample('randperm', generatorHandle('randperm', options?.generator), checkInt('randperm', 'n', n, 0), o.dtype, o.device));
}
/**
 * Coordinate grids from 1-d tensors, as PyTorch's `meshgrid`: with `indexing` `'ij'` (the default) the i-th
 * result varies along dimension i; with `'xy'` the first two dimensions are swapped (NumPy's convention).
 */
export function meshgrid(tensors: Tensor[], options: { indexing?: 'ij' | 'xy' } = {}): Tensor[] {
  const op = 'meshgrid';
  const o = knownOptions(op, options, ['indexing']);
  const indexing = checkOneOf(op, 'indexing', o.indexing ?? 'ij', ['ij', 'xy'] as const);
  if (!Array.isArray(tensors) || tensors.length === 0) throw typeError(op, 'tensors', 'a non-empty array of 1-d Tensors', tensors);
  const lengths = tensors.map((t, i) => {
    if (!(t instanceof Tensor)) throw typeError(op, `tensors[${i}]`, 'a Tensor', t);
    if (t.ndim > 1) throw rangeError(op, `tensors[${i}]`, 'a 0-d or 1-d tensor', t.shape);
    return t.numel();
  });
  const swap = indexing === 'xy' && tensors.length >= 2;
  const shape = swap ? [lengths[1], lengths[0], ...lengths.slice(2)] : lengths;
  return tensors.map((t, i) => {
    const at = swap && i < 2 ? 1 - i : i;
    const view = shape.map((_, k) => (k === at ? -1 : 1));
    const v = t.reshape(view);
    try {
      return v.expand(shape);
    } finally {
      v.dispose();
    }
  });
}
/** The n×m identity matrix (m defaults to n). */
export function eye(n: number, m?: number, options?: TensorOptions): Tensor {
  const o = opts('eye', options);
  checkInt('eye', 'n', n, 0);
  if (m !== undefined) checkInt('eye', 'm', m, 0);
  return new Tensor(N.eye(n, m, o.dtype, o.device, o.requiresGrad));
}
/** Options of the random creation ops. */
export interface RandomOptions extends TensorOptions {
  /** Draw from this generator instead of the process-wide default one (which `manualSeed` seeds). */
  generator?: Generator;
}
/** Uniform samples in [0, 1). Seeded by `manualSeed`, or drawn from `generator`. */
export function rand(shape: number | number[], options?: RandomOptions): Tensor {
  const o = opts('rand', options, ['generator']);
  const g = generatorHandle('rand', options?.generator);
  if (g) return new Tensor(N.randomWith('rand', g, sizes('rand', shape), o.dtype, o.device, o.requiresGrad));
  return new Tensor(N.rand(sizes('rand', shape), o.dtype, o.device, o.requiresGrad));
}
/** Standard normal samples. Seeded by `manualSeed`, or drawn from `generator`. */
export function randn(shape: number | number[], options?: RandomOptions): Tensor {
  const o = opts('randn', options, ['generator']);
  const g = generatorHandle('randn', options?.generator);
  if (g) return new Tensor(N.randomWith('randn', g, sizes('randn', shape), o.dtype, o.device, o.requiresGrad));
  return new Tensor(N.randn(sizes('randn', shape), o.dtype, o.device, o.requiresGrad));
}
/** Uniform integers in [low, high), int64 unless `dtype` says otherwise; drawn from `generator` if given. */
export function randint(low: number, high: number, shape: number | number[], options?: Omit<RandomOptions, 'requiresGrad'>): Tensor {
  const o = opts('randint', options, ['generator'], ['dtype', 'device']);
  checkInt('randint', 'low', low);
  checkInt('randint', 'high', high);
  if (high <= low) throw rangeError('randint', 'high', `an integer greater than low (${low})`, high);
  const g = generatorHandle('randint', options?.generator);
  if (g) return new Tensor(N.randomWith('randint', g, sizes('randint', shape), o.dtype, o.device, false, low, high));
  return new Tensor(N.randint(low, high, sizes('randint', shape), o.dtype, o.device));
}

/** Concatenates tensors along an existing dimension. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors)) throw typeError('cat', 'tensors', 'an array of Tensors', tensors);
  return new Tensor(N.cat(tensors.map((t) => (t instanceof Tensor ? t.handle : (t as never))), dim));
}
/** Stacks equally shaped tensors along a new dimension. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors)) throw typeError('stack', 'tensors', 'an array of Tensors', tensors);
  return new Tensor(N.stack(tensors.map((t) => (t instanceof Tensor ? t.handle : (t as never))), dim));
}
/** Elementwise choice: `input` where `condition` is true, else `other`. */
export function where(condition: Tensor, input: Tensor | Scalar, other: Tensor | Scalar): Tensor {
  if (!(condition instanceof Tensor)) throw typeError('where', 'condition', 'a bool Tensor', condition);
  const h = (v: Tensor | Scalar) => (v instanceof Tensor ? v.handle : checkScalar('where', 'input or other', v));
  return new Tensor(N.where(condition.handle, h(input), h(other)));
}
/**
 * Einstein summation, as `torch.einsum`: `einsum('bij,bjk->bik', a, b)` is a batched matrix product,
 * `einsum('ii', m)` a trace, `einsum('i,j->ij', u, v)` an outer product. The operands may also be one array.
 */
export function einsum(equation: string, ...operands: (Tensor | Tensor[])[]): Tensor {
  if (typeof equation !== 'string') throw typeError('einsum', 'equation', "a string such as 'ij,jk->ik'", equation);
  const list = operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands;
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw typeError('einsum', `operands[${i}]`, 'a Tensor', t);
  });
  return new Tensor(N.einsum(equation, (list as Tensor[]).map((t) => t.handle)));
}
/** Matrix product (see Tensor.matmul). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor)) throw typeError('matmul', 'a', 'a Tensor', a);
  return a.matmul(b);
}
