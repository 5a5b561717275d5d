/**
 * TorchScript (PyTorch's `torch.jit`): `load` runs a model that Python exported with `torch.jit.script` or
 * `torch.jit.trace` and saved with `torch.jit.save` (or `m.save(path)`), with no Python and no ictorch code
 * for its architecture; `save` writes one back. The file is read and checked here first (a regular file, a
 * well-formed zip archive whose every entry matches its CRC-32, with the entries of a TorchScript archive, not
 * a `torch.save` file, and whose pickles describe only tensors that lie inside their storages: read as
 * `torch.load` reads, running nothing), then handed to LibTorch's loader from memory, reads bounded by its size.
 *
 * A TorchScript archive holds code (TorchScript, run by LibTorch's interpreter): load only files you trust,
 * as with `torch.jit.load` in Python.
 *
 * ```ts
 * const m = await torch.jit.load('resnet18.pt');    // Python: torch.jit.save(torch.jit.script(model), 'resnet18.pt')
 * m.eval();
 * const y = await torch.noGrad(() => m.forwardAsync(x)) as torch.Tensor;
 * ```
 */
import { native, type NativeHandle } from './native';
import { copyStateDict, parseToTarget, type LoadResult, type StateDict, type ToTarget } from './nn/module';
import { isGradEnabled } from './autograd';
import { openRegularFile, bufferSource, MAX_READ, type ByteSource } from './io/source';
import { checkTorchScriptArchive } from './io/torchfile';
import { Tensor } from './tensor';
import { writeFileAtomicAsync } from './util/atomic';
import { checkKeys, typeError } from './validate';

const N = native();

/**
 * A value passed to or returned by a TorchScript method: a Tensor, a number (int or float; a bigint for ints
 * beyond 2^53), a boolean, a string, null (None), an array (List or Tuple), a plain object (Dict with string
 * keys) or, returned only, a Map (Dict with other keys). A device argument is a device name ('cuda:0').
 */
export type ScriptValue = Tensor | number | bigint | boolean | string | null | ScriptValue[] | { [key: string]: ScriptValue } | Map<ScriptValue, ScriptValue>;

/** One argument of a method's signature. */
export interface ScriptArgument {
  name: string;
  /** Its TorchScript type, as Python writes it (`Tensor`, `List[int]`, `Optional[Tensor]`, ...). */
  type: string;
  /** Whether it may be left out (it has a default). */
  hasDefault: boolean;
}

/** A method's signature (self left out). */
export interface ScriptSignature {
  args: ScriptArgument[];
  /** The types it returns. */
  returns: string[];
}

/** Options of `load`. */
export interface JitLoadOptions {
  /** Where the tensors go ('cpu', 'cuda:0', ...): PyTorch's `map_location` (default: where they were saved). */
  mapLocation?: string;
}

// JS arguments as the addon takes them: Tensors as their handles, containers copied; `op` and `what` name them.
function toNative(op: string, v: unknown, what: string, depth = 0): unknown {
  if (depth > 64) throw new RangeError(`${op}: ${what} is nested more than 64 levels deep`);
  if (v instanceof Tensor) return v.handle;
  if (Array.isArray(v)) return v.map((x, i) => toNative(op, x, `${what}[${i}]`, depth + 1));
  if (v instanceof Map) throw new TypeError(`${op}: ${what} is a Map: pass a Dict[str, ...] as a plain object`);
  if (v !== null && typeof v === 'object') {
    if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
      throw typeError(op, what, 'a Tensor, number, bigint, boolean, string, null, array or plain object', v);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toNative(op, x, `${what}.${k}`, depth + 1)]));
  }
  return v;
}

// A result from the addon with its tensor handles wrapped as Tensors.
function fromNative(v: unknown): ScriptValue {
  if (v instanceof N.TensorHandle) return new Tensor(v);
  if (Array.isArray(v)) return v.map(fromNative);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [fromNative(k), fromNative(x)]));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromNative(x)]));
  return v as ScriptValue;
}

// Prefixes a native error with the file it came from, keeping its class.
function withFile<E extends Error>(e: E, file: string): E {
  e.message = e.message.replace(/^jit\.load: /, `jit.load: ${file}: `);
  return e;
}

/**
 * A module loaded from a TorchScript archive. Its methods run in LibTorch's TorchScript interpreter; arguments
 * are converted by each method's signature (see `ScriptValue`), and a call runs with the current grad mode
 * (wrap inference in `torch.noGrad`). Parameters and buffers are ordinary tensors: `stateDict()` /
 * `loadStateDict()` exchange them, and with gradients enabled a loss of the outputs back-propagates into
 * them. Free it with `dispose()` (or `using`).
 */
export class ScriptModule {
  /** @internal */
  readonly handle: NativeHandle;
  /** @internal */
  constructor(handle: NativeHandle) {
    this.handle = handle;
  }

  /** Runs `forward` on the JS thread. */
  forward(...args: ScriptValue[]): ScriptValue {
    return this.runMethod('forward', ...args);
  }

  /**
   * Runs `forward` off the event loop (on ictorch's forward threads, as `Module.forwardAsync`), as a service
   * does for requests. While it runs the
   * module cannot be changed (train/eval, to, loadStateDict, dispose) and the argument tensors cannot be
   * changed in place; other calls may overlap.
   */
  forwardAsync(...args: ScriptValue[]): Promise<ScriptValue> {
    return this.runMethodAsync('forward', ...args);
  }

  /** Runs method `name` (LibTorch's `run_method`; in Python, `m.<name>(...)`) on the JS thread. */
  runMethod(name: string, ...args: ScriptValue[]): ScriptValue {
    if (typeof name !== 'string') throw typeError('ScriptModule.runMethod', 'name', 'a method name', name);
    return fromNative(N.scriptCall(this.handle, name, toNative(`ScriptModule.${name}`, args, 'args') as unknown[], isGradEnabled()));
  }

  /** Runs method `name` off the event loop (see `forwardAsync`). */
  async runMethodAsync(name: string, ...args: ScriptValue[]): Promise<ScriptValue> {
    if (typeof name !== 'string') throw typeError('ScriptModule.runMethodAsync', 'name', 'a method name', name);
    return fromNative(await N.scriptCallAsync(this.handle, name, toNative(`ScriptModule.${name}`, args, 'args') as unknown[], isGradEnabled()));
  }

  /** The names of the module's methods (`forward` and any other exported ones). */
  methodNames(): string[] {
    return N.scriptMethods(this.handle);
  }

  /** The arguments and return types of method `name` (default `forward`). */
  signature(name = 'forward'): ScriptSignature {
    const s = N.scriptSignature(this.handle, name);
    return { args: s.args.map(([n, type, hasDefault]) => ({ name: n, type, hasDefault })), returns: s.returns };
  }

  /** The module's TorchScript class, e.g. `__torch__.torchvision.models.resnet.ResNet`. */
  get typeName(): string {
    return N.scriptTypeName(this.handle);
  }

  /** True in training mode (dropout active, BatchNorm updating its statistics). */
  get training(): boolean {
    return N.scriptIsTraining(this.handle);
  }

  /** Sets training mode (default) or evaluation mode, for the module and every submodule. */
  train(mode = true): this {
    N.scriptTrain(this.handle, mode);
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Moves parameters and buffers to a device and/or casts the floating ones to a dtype, in place. */
  to(target: ToTarget): this {
    const { device, dtype } = parseToTarget('ScriptModule.to', target);
    N.scriptTo(this.handle, device ?? this.firstDevice(), dtype ?? null);
    return this;
  }

  /** [name, parameter] of every parameter, submodules' included (new handles sharing the module's memory). */
  namedParameters(): [string, Tensor][] {
    return N.scriptNamedParameters(this.handle).map(([k, h]) => [k, new Tensor(h)]);
  }

  /** Every parameter (new handles sharing the module's memory). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** [name, buffer] of every buffer (BatchNorm's running statistics, ...). */
  namedBuffers(): [string, Tensor][] {
    return N.scriptNamedBuffers(this.handle).map(([k, h]) => [k, new Tensor(h)]);
  }

  /**
   * Parameters and buffers by dotted name, in the order of Python's `state_dict()` (the tensors share the
   * module's memory).
   */
  stateDict(): StateDict {
    return Object.fromEntries(N.scriptNamedState(this.handle).map(([k, h]) => [k, new Tensor(h)]));
  }

  /**
   * Copies values from `dict` into the module's parameters and buffers; every key (with `strict`, default
   * true) and shape is checked before anything is copied.
   */
  loadStateDict(dict: StateDict, options: { strict?: boolean } = {}): LoadResult {
    if (dict === null || typeof dict !== 'object') throw typeError('loadStateDict', 'dict', 'an object of name → Tensor', dict);
    checkKeys('loadStateDict', 'options', options, ['strict']);
    const own = this.stateDict();
    try {
      return copyStateDict(own, dict, options.strict ?? true);
    } finally {
      for (const t of Object.values(own)) t.dispose();
    }
  }

  /** Writes the module as a TorchScript archive (what `torch.jit.save` writes), atomically. */
  async save(file: string): Promise<void> {
    if (typeof file !== 'string' || !file) throw typeError('ScriptModule.save', 'file', 'a file path', file);
    await writeFileAtomicAsync(file, await N.scriptSave(this.handle));
  }

  /** Frees the module (refused while a call in flight uses it); tensors taken from it stay valid. */
  dispose(): void {
    this.handle.dispose();
  }

  /** Whether `dispose()` has run. */
  isDisposed(): boolean {
    return this.handle.isDisposed();
  }

  /** `using m = ...` support. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // The device of the module's first parameter or buffer ('cpu' when it has none), for a dtype-only to().
  private firstDevice(): string {
    const ts = Object.values(this.stateDict());
    try {
      return ts[0]?.device ?? 'cpu';
    } finally {
      for (const t of ts) t.dispose();
    }
  }
}

// The archive's bytes, checked (see the file comment); `name` is for errors.
function checkedArchive(src: ByteSource, name: string): Buffer {
  if (src.size > MAX_READ) throw new RangeError(`jit.load: ${name} is ${src.size} bytes, more than the ${MAX_READ} bytes one read can hold.`);
  const bytes = Buffer.from(src.read(0, src.size));
  checkTorchScriptArchive('jit.load', name, bufferSource(bytes, name));
  return bytes;
}

/**
 * Loads a TorchScript archive (`torch.jit.load`): from a file, or from its bytes (a Buffer, as Python's
 * `torch.jit.load(io.BytesIO(...))`). The file is checked first (see the file comment); LibTorch's loading
 * runs off the event loop. Archives written by a newer PyTorch than this LibTorch may be refused by it.
 */
export async function load(file: string | Uint8Array, options: JitLoadOptions = {}): Promise<ScriptModule> {
  if (!isAvailable()) throw new Error('jit.load: this build of ictorch has no TorchScript (it was built with ICTORCH_JIT=0); rebuild it without that setting (npm rebuild ictorch)');
  checkKeys('jit.load', 'options', options, ['mapLocation']);
  if (options.mapLocation !== undefined && typeof options.mapLocation !== 'string') throw typeError('jit.load', 'mapLocation', 'a device name', options.mapLocation);
  let bytes: Buffer;
  let name: string;
  if (typeof file === 'string') {
    name = file;
    const src = openRegularFile(file, 'jit.load');
    try {
      bytes = checkedArchive(src, name);
    } finally {
      src.close();
    }
  } else if (file instanceof Uint8Array) {
    name = '<bytes>';
    bytes = checkedArchive(bufferSource(file, name), name);
  } else {
    throw typeError('jit.load', 'file', 'a file path or a Buffer', file);
  }
  try {
    return new ScriptModule(await N.jitLoad(bytes, options.mapLocation ?? null));
  } catch (e) {
    throw withFile(e as Error, name);
  }
}

/** Whether this build has TorchScript (false when it was built with `ICTORCH_JIT=0`). */
export function isAvailable(): boolean {
  return typeof (N as { jitLoad?: unknown }).jitLoad === 'function';
}

/** Writes `module` to `file` as a TorchScript archive (`torch.jit.save`), atomically. */
export async function save(module: ScriptModule, file: string): Promise<void> {
  if (!(module instanceof ScriptModule)) throw typeError('jit.save', 'module', 'a ScriptModule', module);
  await module.save(file);
}
