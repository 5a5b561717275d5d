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

/** True for the floating-point dtypes (the ones that can require gradients). */
export function isFloatingDType(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
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
