/** Element types a tensor can hold. Mirrors the table in native/dtype.h (a test checks they agree). */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int32' | 'int64' | 'uint8' | 'bool' | 'int8' | 'int16';

/** Every dtype name, in the order of native/dtype.h. */
export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'int64', 'uint8', 'bool', 'int8', 'int16'];

/** A device name: `cpu`, `cuda` (the current GPU) or `cuda:N`. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** Memory layouts: row-major (`contiguous`) or NHWC (`channelsLast`, for 4-d tensors). */
export type MemoryFormat = 'contiguous' | 'channelsLast';

/** The TypedArray `toArray()` returns for each dtype (float16/bfloat16 widen to float32, bool reads as 0/1 bytes). */
export interface TypedArrayFor {
  float32: Float32Array;
  float64: Float64Array;
  float16: Float32Array;
  bfloat16: Float32Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  bool: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
}

/** Any TypedArray ictorch reads or returns. */
export type AnyTypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array;

/** The floating-point dtypes (the ones that can require gradients). */
export const FLOATING_DTYPES: readonly DType[] = Object.freeze(['float32', 'float64', 'float16', 'bfloat16'] as DType[]);

/** True for the floating-point dtypes (the ones that can require gradients). */
export function isFloatingDType(d: DType): boolean {
  return FLOATING_DTYPES.includes(d);
}

/** Bytes per element. */
export function elementSize(d: DType): number {
  switch (d) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
    case 'bfloat16':
    case 'int16':
      return 2;
    default:
      return 1;
  }
}

/** The numerical facts of a floating-point dtype, as PyTorch's `torch.finfo`. */
export interface FInfo {
  /** The dtype described. */
  readonly dtype: DType;
  /** Bits per element. */
  readonly bits: number;
  /** The difference between 1 and the next representable number. */
  readonly eps: number;
  /** The largest finite value. */
  readonly max: number;
  /** The most negative finite value (`-max`). */
  readonly min: number;
  /** The smallest positive normal number (PyTorch's `tiny`, also `smallest_normal`). */
  readonly tiny: number;
  /** The same as `tiny`, under PyTorch's other name. */
  readonly smallestNormal: number;
  /** The approximate decimal resolution, `10^-floor(digits)`. */
  readonly resolution: number;
}

const FINFO: Partial<Record<DType, [bits: number, eps: number, max: number, tiny: number, resolution: number]>> = {
  float32: [32, 1.1920928955078125e-7, 3.4028234663852886e38, 1.1754943508222875e-38, 1e-6],
  float64: [64, 2.220446049250313e-16, 1.7976931348623157e308, 2.2250738585072014e-308, 1e-15],
  float16: [16, 0.0009765625, 65504, 6.103515625e-5, 0.001],
  bfloat16: [16, 0.0078125, 3.3895313892515355e38, 1.1754943508222875e-38, 0.01],
};

/** `finfo('float32').eps` and the rest, as PyTorch's `torch.finfo(dtype)`; a TypeError for a non-floating dtype. */
export function finfo(dtype: DType = 'float32'): FInfo {
  const f = typeof dtype === 'string' ? FINFO[dtype] : undefined;
  if (!f) throw new TypeError(`finfo: expected a floating-point dtype (${Object.keys(FINFO).join(', ')}) but received ${JSON.stringify(dtype)}`);
  const [bits, eps, max, tiny, resolution] = f;
  return { dtype, bits, eps, max, min: -max, tiny, smallestNormal: tiny, resolution };
}
