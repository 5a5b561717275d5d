/**
 * `torch.autocast` for hand-written loops: mixed precision for the work run inside a function, as Python's
 * `with torch.autocast(device_type, dtype=...)`. Autocast is a per-thread setting in LibTorch; this sets the JS
 * thread's for the synchronous body of `fn`, and `forwardAsync` / TorchScript calls made inside `fn` carry it
 * to the worker thread that runs them. The Trainer and `fit` have their own `amp` option for the native step.
 *
 * ```ts
 * const logits = torch.autocast('cuda', { dtype: 'bfloat16' }, () => model.forward(x)); // convolutions in bf16
 * const loss = F.crossEntropy(logits.float(), y);                                     // the loss in fp32
 * ```
 */
import type { DType } from './dtype';
import { native } from './native';
import { checkBool, checkOneOf, knownOptions, typeError } from './validate';

const N = native();

/** The device types autocast has a setting for. */
export type AutocastDeviceType = 'cpu' | 'cuda';

/** Options of `autocast`. */
export interface AutocastOptions {
  /** The lower precision: `bfloat16` or `float16` (default: float16 on CUDA, bfloat16 on the CPU, as PyTorch). */
  dtype?: 'bfloat16' | 'float16';
  /** false turns autocast off inside `fn` (within an enclosing autocast region). Default true. */
  enabled?: boolean;
}

const DEVICE_TYPES: readonly AutocastDeviceType[] = ['cpu', 'cuda'];

/**
 * Runs `fn` with autocast on for `deviceType` (`'cuda'` or `'cpu'`): ops that gain from lower precision
 * (convolutions, matrix products) run in `dtype`, the rest in float32, as PyTorch's autocast lists say.
 * Regions nest; leaving the outermost clears the cache of cast weights. Only the synchronous part of `fn` runs
 * under it: a promise `fn` returns is awaited by the caller after the region has closed, so code after an
 * `await` inside `fn` is not autocast (the `forwardAsync` calls `fn` starts are). Returns what `fn` returns.
 */
export function autocast<T>(deviceType: AutocastDeviceType, fn: () => T): T;
export function autocast<T>(deviceType: AutocastDeviceType, options: AutocastOptions, fn: () => T): T;
export function autocast<T>(deviceType: AutocastDeviceType, optionsOrFn: AutocastOptions | (() => T), maybeFn?: () => T): T {
  const op = 'autocast';
  const device = checkOneOf(op, 'deviceType', deviceType, DEVICE_TYPES);
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
  const options = typeof optionsOrFn === 'function' ? {} : optionsOrFn;
  if (typeof fn !== 'function') throw typeError(op, 'fn', 'a function to run under autocast', fn);
  const o = knownOptions(op, options, ['dtype', 'enabled']);
  const dtype = checkOneOf(op, 'dtype', o.dtype ?? (device === 'cuda' ? 'float16' : 'bfloat16'), ['bfloat16', 'float16'] as const);
  const enabled = o.enabled === undefined ? true : checkBool(op, 'enabled', o.enabled);
  const [wasEnabled, wasDtype] = N.autocastGet(device);
  N.autocastSet(device, enabled, dtype);
  N.autocastNesting(1);
  try {
    return fn();
  } finally {
    N.autocastNesting(-1);
    N.autocastSet(device, wasEnabled, wasDtype);
  }
}

/** Whether autocast is on for `deviceType` on the JS thread (PyTorch's `torch.is_autocast_enabled`). */
export function isAutocastEnabled(deviceType: AutocastDeviceType = 'cuda'): boolean {
  return N.autocastGet(checkOneOf('isAutocastEnabled', 'deviceType', deviceType, DEVICE_TYPES))[0];
}

/** The dtype autocast uses for `deviceType` (PyTorch's `torch.get_autocast_dtype`). */
export function getAutocastDtype(deviceType: AutocastDeviceType = 'cuda'): DType {
  return N.autocastGet(checkOneOf('getAutocastDtype', 'deviceType', deviceType, DEVICE_TYPES))[1];
}
