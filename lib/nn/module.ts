/**
 * Module: the base class of every network piece, as `torch.nn.Module` is in PyTorch. Write a network as a
 * class: assign submodules and `nn.Parameter`s to fields in the constructor (or register them explicitly) and
 * define `forward`:
 *
 * ```ts
 * class TwoBranch extends nn.Module {
 *   a = new nn.Conv2d(3, 8, 3, { padding: 1 });
 *   b = new nn.Conv2d(3, 8, 1);
 *   fc = new nn.Linear(16, 10);
 *   forward(x: Tensor): Tensor {
 *     const y = cat([this.a.forward(x), this.b.forward(x)], 1);
 *     return this.fc.forward(y.mean([2, 3]));
 *   }
 * }
 * ```
 *
 * Names follow PyTorch's dotted convention (`layer1.0.conv1.weight`) in registration order, so state dicts are
 * exchanged with Python as they are. The built-in layers (`nn.Conv2d`, `nn.IC`, ...) are native LibTorch modules,
 * and a `Sequential`/`Residual` whose children are all native runs its whole forward in one C++ call.
 *
 * Where a forward runs (the rule): a native forward (built-in layers, and containers of them) can run on a
 * worker thread: `forwardAsync` and the `Trainer`'s whole-step path (with CUDA-graph capture) use it. A forward
 * written in JavaScript can only run on the JS thread, because a worker thread cannot call into JavaScript:
 * `forwardAsync` of such a module runs it there (as `forward` does), and the Trainer runs it there with
 * autograd, then the loss, backward and update off the event loop. Forward hooks run only when the forward
 * runs through JS: a module (or anything inside it) with hooks is always run through JS.
 */
import type { Device, DType } from '../dtype';
import { DTYPES } from '../dtype';
import { isGradEnabled, noGrad } from '../autograd';
import { native, type ModuleHandle } from '../native';
import { keep, tidy } from '../scope';
import { Tensor, type RemovableHandle } from '../tensor';
import { forwardWithBackwardHooks, type FullBackwardHook, type FullBackwardPreHook } from './backward-hooks';
import { zeros } from '../creation';
import { knownOptions, typeError } from '../validate';
import { boolOpt } from './checks';

const N = native();

/** A state dict: dotted names to tensors (parameters and persistent buffers). */
export type StateDict = Record<string, Tensor>;

/** What `loadStateDict` did not match (only reported when `strict` is false). */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * A learnable tensor. Assigned to a field of a module (or given to `registerParameter`), it is one of that
 * module's parameters: found by `parameters()`, saved in the state dict, moved by `to()`, freed by
 * `dispose()`. It shares memory with `data` and requires grad (unless `requiresGrad` is false). Like the
 * module that holds it, it is not disposed by an enclosing `tidy()`.
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof Tensor)) throw typeError('Parameter', 'data', 'a Tensor', data);
    super(N.unary('detach', data.handle));
    keep(this);
    try {
      if (requiresGrad) this.requiresGrad_(true);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }
}

/** A hook run before a module's forward: may return replacement inputs (an array, or one value). */
export type ForwardPreHook = (module: Module, inputs: unknown[]) => unknown;
/** A hook run after a module's forward: may return a replacement output. */
export type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => unknown;


const INTERNAL = Symbol('ictorch.module');

interface Internals {
  modules: Map<string, Module | null>;
  params: Map<string, Parameter | null>;
  buffers: Map<string, Tensor | null>;
  nonPersistent: Set<string>;
  training: boolean;
  preHooks: Map<number, ForwardPreHook>;
  hooks: Map<number, ForwardHook>;
  backwardPreHooks: Map<number, FullBackwardPreHook>;
  backwardHooks: Map<number, FullBackwardHook>;
  /** Native calls in flight that use this module (forwardAsync: readers; a training step: a writer). */
  readers: number;
  writers: number;
  inFlightOp: string;
  /** The native layer of a built-in module. */
  leaf: ModuleHandle | null;
  /** A container's native counterpart, built from its children's native layers, and when it was checked. */
  native: { handle: ModuleHandle; children: ModuleHandle[]; version: number } | null;
  /** The forward of the class (before hooks and the native fast path). */
  classForward: (...inputs: never[]) => unknown;
  hooksCache: { hooks: number; structure: number; value: boolean } | null;
  kind: string | null;
  disposed: boolean;
}

// Bumped on every change of a module's children anywhere (native containers check their cache against it).
let structureVersion = 0;
// Live hooks anywhere, and a counter bumped on every change (the fast path skips the check when none live).
let liveHooks = 0;
let hookVersion = 0;
let nextHookId = 1;
// Modules being trained by a call in flight, anywhere (forward checks for them only when there are some).
let writersInFlight = 0;

function internals(m: Module): Internals {
  return (m as unknown as { [INTERNAL]: Internals })[INTERNAL];
}

function isName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !name.includes('.');
}

function checkName(op: string, target: Module, name: unknown): asserts name is string {
  if (!isName(name)) throw typeError(op, 'name', 'a non-empty string without "."', name);
  const m = internals(target);
  const registered = m.modules.has(name) || m.params.has(name) || m.buffers.has(name);
  // A method or property of the class (forward, train, training, ...) cannot be shadowed; a plain field can.
  const own = Object.getOwnPropertyDescriptor(target, name);
  if (!registered && name in target && !(own && 'value' in own)) {
    throw new TypeError(`${op}: "${name}" is a method or property of ${target.constructor.name}; choose another name`);
  }
}

function storeField(target: Module, key: string, value: unknown): void {
  Reflect.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function forget(m: Internals, key: string): void {
  if (m.modules.delete(key)) structureVersion++;
  m.params.delete(key);
  m.buffers.delete(key);
  m.nonPersistent.delete(key);
}

// Registration by assignment (`this.conv = new nn.Conv2d(...)`), as PyTorch's __setattr__ does. Returns
// whether `value` was registered (then it is stored as a plain field too, for fast reads).
function assign(target: Module, key: string, value: unknown): boolean {
  const m = internals(target);
  if (!m) return false; // during the base constructor
  if (value instanceof Parameter || value instanceof Module) {
    assertIdle(target, 'registration');
    checkName('registration', target, key);
    if (value instanceof Module && internals(value).disposed) throw typeError('registration', key, 'a live Module (this one has been disposed)', value);
    if (value instanceof Parameter && value.isDisposed) throw typeError('registration', key, 'a live Parameter (this one has been disposed)', value);
    const map = value instanceof Parameter ? m.params : m.modules;
    const before = map.get(key as never);
    if (!map.has(key as never)) forget(m, key);
    (map as Map<string, unknown>).set(key, value);
    if (value instanceof Module && before !== value) structureVersion++;
    storeField(target, key, value);
    return true;
  }
  for (const [map, what] of [[m.params, 'parameter'], [m.modules, 'child module'], [m.buffers, 'buffer']] as const) {
    if (!(map as Map<string, unknown>).has(key)) continue;
    const ok = value === null || value === undefined || (what === 'buffer' && value instanceof Tensor);
    if (!ok) throw typeError('registration', key, `${what === 'parameter' ? 'an nn.Parameter' : what === 'buffer' ? 'a Tensor' : 'a Module'} or null (it is a registered ${what})`, value);
    assertIdle(target, 'registration');
    (map as Map<string, unknown>).set(key, value ?? null);
    if (what === 'child module') structureVersion++;
    storeField(target, key, value ?? null);
    return true;
  }
  return false;
}

const trap: ProxyHandler<Module> = {
  set(target, key, value, receiver) {
    if (typeof key === 'string' && assign(target, key, value)) return true;
    return Reflect.set(target, key, value, receiver);
  },
  defineProperty(target, key, desc) {
    if (typeof key === 'string' && 'value' in desc) {
      // A forward declared as a class field (an arrow function) still goes through hooks and checks.
      if (key === 'forward' && typeof desc.value === 'function' && internals(target)) {
        internals(target).classForward = desc.value;
        return true;
      }
      if (assign(target, key, desc.value)) return true;
    }
    return Reflect.defineProperty(target, key, desc);
  },
  deleteProperty(target, key) {
    if (typeof key === 'string' && internals(target)) {
      assertIdle(target, 'registration');
      forget(internals(target), key);
    }
    return Reflect.deleteProperty(target, key);
  },
};

// Every module of the tree under `root` (itself included), each once, with its dotted name.
function walk(root: Module, prefix = '', out: [string, Module][] = [], seen = new Set<Module>()): [string, Module][] {
  if (seen.has(root)) return out;
  seen.add(root);
  out.push([prefix, root]);
  for (const [k, c] of internals(root).modules) if (c) walk(c, prefix ? `${prefix}.${k}` : k, out, seen);
  return out;
}

// Module.resetParameters below `m`: a built-in layer resets natively; a submodule with its own
// resetParameters (a TypeScript layer such as LayerNorm, or a user's) is asked to reset its whole subtree.
function resetTree(m: Module, seen: Set<Module>): void {
  if (seen.has(m)) return;
  seen.add(m);
  const s = internals(m);
  if (s.leaf) N.moduleResetParameters(s.leaf);
  for (const [, c] of s.modules) {
    if (!c || seen.has(c)) continue;
    if (c.resetParameters !== Module.prototype.resetParameters) {
      seen.add(c);
      c.resetParameters();
    } else {
      resetTree(c, seen);
    }
  }
}

function assertLive(m: Module, op: string): void {
  if (internals(m).disposed) throw new TypeError(`${op}: module has been disposed; a disposed module cannot be used again`);
}

// Refuses to change a module while a native call in flight uses it or anything inside it.
function assertIdle(m: Module, op: string): void {
  for (const [, sub] of walk(m)) {
    const s = internals(sub);
    if (s.readers > 0 || s.writers > 0) throw new Error(`${op}: module is in use by ${s.inFlightOp} in flight; await it first`);
  }
}

function markInFlight(m: Module, op: string, write: boolean, delta: 1 | -1): void {
  if (write) writersInFlight += delta;
  for (const [, sub] of walk(m)) {
    const s = internals(sub);
    if (s.readers === 0 && s.writers === 0) s.inFlightOp = op;
    if (write) s.writers += delta;
    else s.readers += delta;
  }
}

function hasHooks(m: Module): boolean {
  if (liveHooks === 0) return false;
  const s = internals(m);
  const c = s.hooksCache;
  if (c && c.hooks === hookVersion && c.structure === structureVersion) return c.value;
  const value = walk(m).some(([, sub]) => {
    const t = internals(sub);
    return t.preHooks.size > 0 || t.hooks.size > 0 || t.backwardPreHooks.size > 0 || t.backwardHooks.size > 0;
  });
  s.hooksCache = { hooks: hookVersion, structure: structureVersion, value };
  return value;
}

const NATIVE_FORWARD = Symbol('ictorch.nativeForward');

/**
 * @internal Marks a class's forward as one its native layer computes (built-in layers and containers), so the
 * native fast path may replace it. A subclass that overrides forward is not marked: its forward runs.
 */
export function markNativeForward(forward: (...inputs: never[]) => unknown): void {
  (forward as unknown as Record<symbol, boolean>)[NATIVE_FORWARD] = true;
}

/** @internal The native layer that runs `m`'s whole forward (its own, or a container built from its children's), or null. */
export function nativeModule(m: Module): ModuleHandle | null {
  const s = internals(m);
  if (s.disposed || !(s.classForward as unknown as Record<symbol, boolean>)[NATIVE_FORWARD]) return null;
  if (s.leaf) return s.leaf;
  const build = (m as unknown as { buildNative?: (children: Map<string, ModuleHandle>) => ModuleHandle }).buildNative;
  if (!build) return null;
  if (s.native && s.native.version === structureVersion) return s.native.handle;
  const children = new Map<string, ModuleHandle>();
  for (const [k, c] of s.modules) {
    if (!c) continue;
    const h = nativeModule(c);
    if (!h) return null;
    children.set(k, h);
  }
  const list = [...children.values()];
  if (s.native && s.native.children.length === list.length && s.native.children.every((h, i) => h === list[i])) {
    s.native.version = structureVersion;
    return s.native.handle;
  }
  s.native?.handle.dispose();
  s.native = { handle: build.call(m, children), children: list, version: structureVersion };
  return s.native.handle;
}

/** @internal Whether `m` runs its whole forward natively (no JS forward and no hooks anywhere inside). */
export function runsNatively(m: Module): ModuleHandle | null {
  return hasHooks(m) ? null : nativeModule(m);
}

/** @internal Marks `m` (and everything inside it) as used by a native call in flight while `fn` runs. */
export async function inFlight<T>(m: Module, op: string, write: boolean, fn: () => Promise<T>): Promise<T> {
  if (write) assertIdle(m, op);
  else assertNotTraining(m, op);
  markInFlight(m, op, write, 1);
  try {
    return await fn();
  } finally {
    markInFlight(m, op, write, -1);
  }
}

// Refuses to run a module while a training step in flight changes it or anything inside it; except from inside
// that step, in a hook or custom backward it waits for (a checkpointed segment's second forward), as the native
// marks allow then (StepCallbackScope in native/autograd.cc).
function assertNotTraining(m: Module, op: string): void {
  if (writersInFlight === 0 || N.inStepCallback()) return;
  for (const [, sub] of walk(m)) {
    if (internals(sub).writers > 0) throw new Error(`${op}: module is in use by ${internals(sub).inFlightOp} in flight; await it first`);
  }
}

function forwardThroughHooks(module: Module, inputs: unknown[]): unknown {
  const s = internals(module);
  assertLive(module, 'forward');
  assertNotTraining(module, 'forward');
  const fast = runsNatively(module);
  if (fast) {
    const x = inputs[0];
    if (!(x instanceof Tensor)) throw typeError('forward', 'input', 'a Tensor', x);
    if (inputs.length > 1) throw new TypeError(`forward: ${module.kind} takes one input tensor but received ${inputs.length} arguments`);
    return new Tensor(N.moduleForward(fast, x.handle));
  }
  for (const hook of [...s.preHooks.values()]) {
    const r = hook(module, inputs);
    if (r !== undefined) inputs = Array.isArray(r) ? r : [r];
  }
  const run = (args: unknown[]): unknown => {
    let out = (s.classForward as (...a: unknown[]) => unknown).apply(module, args);
    for (const hook of [...s.hooks.values()]) {
      const r = hook(module, args, out);
      if (r !== undefined) out = r;
    }
    return out;
  };
  if (s.backwardHooks.size === 0 && s.backwardPreHooks.size === 0) return run(inputs);
  return forwardWithBackwardHooks(module, inputs, { pre: [...s.backwardPreHooks.values()], full: [...s.backwardHooks.values()] }, run);
}

/** What `to()` takes: a device, a floating dtype, or both. */
export type ToTarget = Device | DType | string | { device?: Device | string; dtype?: DType };

/** A `to()` target as {device, dtype} (either may be absent). */
export function parseToTarget(op: string, target: ToTarget): { device?: string; dtype?: DType } {
  if (typeof target === 'string') return (DTYPES as readonly string[]).includes(target) ? { dtype: target as DType } : { device: target };
  if (target && typeof target === 'object' && !Array.isArray(target)) {
    knownOptions(op, target, ['device', 'dtype']);
    return { device: target.device, dtype: target.dtype };
  }
  throw typeError(op, 'target', 'a device, a dtype or {device, dtype}', target);
}

/**
 * loadStateDict's copy: checks every key (with `strict`, a missing or unexpected key is an error) and shape of
 * `dict` against `own` (a module's state dict) before copying anything, then copies without gradients.
 */
export function copyStateDict(own: StateDict, dict: StateDict, strict: boolean): LoadResult {
  const missingKeys = Object.keys(own).filter((k) => !(k in dict));
  const unexpectedKeys = Object.keys(dict).filter((k) => !(k in own));
  if (strict && (missingKeys.length || unexpectedKeys.length)) {
    const parts = [];
    if (missingKeys.length) parts.push(`missing keys: ${missingKeys.join(', ')}`);
    if (unexpectedKeys.length) parts.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    throw new Error(`loadStateDict: the state dict does not match the module (${parts.join('; ')})`);
  }
  for (const [k, t] of Object.entries(own)) {
    if (!(k in dict)) continue;
    const v = dict[k];
    if (!(v instanceof Tensor)) throw typeError('loadStateDict', k, 'a Tensor', v);
    const a = v.shape, b = t.shape;
    if (a.length !== b.length || a.some((s, i) => s !== b[i])) {
      throw new RangeError(`loadStateDict: size mismatch for ${k}: the state dict has shape [${a.join(', ')}] but the module has [${b.join(', ')}]`);
    }
  }
  noGrad(() => {
    for (const [k, t] of Object.entries(own)) if (k in dict) t.copy_(dict[k]);
  });
  return { missingKeys, unexpectedKeys };
}

// Gives `target` its internals, the proxy that registers assignments, and a `forward` that runs hooks and the
// native fast path around the class's own forward; returns the proxy (the module its users hold).
function becomeModule(target: Module, s: Internals): Module {
  Object.defineProperty(target, INTERNAL, { value: s });
  const proxy = new Proxy(target, trap);
  Object.defineProperty(target, 'forward', {
    value: (...inputs: unknown[]) => forwardThroughHooks(proxy, inputs),
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return proxy;
}

/**
 * @internal deepCopy's step for a module: a new object of `m`'s class (its constructor does not run, as
 * Python's deepcopy does not call __init__) with copies of its children, parameters, buffers and fields made
 * by `copy`, and its hooks, training mode and kind. `memo` maps each original to its copy (set here before
 * the children are copied, so a module reachable twice is copied once).
 */
export function copyModule(m: Module, copy: (value: unknown) => unknown, memo: Map<unknown, unknown>): Module {
  const s = internals(m);
  assertLive(m, 'deepCopy');
  assertNotTraining(m, 'deepCopy');
  const proto = Object.getPrototypeOf(m) as { forward?: unknown } | null;
  // A forward of the instance's own that is an arrow function (a class field) or a bound function keeps the
  // original as `this`: the copy would run on the original's state. (A `function` reads `this` when called.)
  if (proto?.forward !== s.classForward && !Object.prototype.hasOwnProperty.call(s.classForward, 'prototype')) {
    throw new TypeError(
      `deepCopy: ${m.constructor.name}'s forward is an arrow function (a class field) or a bound function, which keeps the ` +
        'module it was made for as `this`; declare it as a method (forward(x) { ... }) so that a copy runs on its own state',
    );
  }
  const leaf = s.leaf ? N.moduleClone(s.leaf) : null;
  const target = Object.create(proto) as Module;
  let t: Internals;
  const out = becomeModule(target, (t = {
    modules: new Map(), params: new Map(), buffers: new Map(), nonPersistent: new Set(s.nonPersistent), training: s.training,
    preHooks: new Map(), hooks: new Map(), backwardPreHooks: new Map(), backwardHooks: new Map(),
    readers: 0, writers: 0, inFlightOp: '', leaf, native: null, classForward: s.classForward, hooksCache: null, kind: s.kind, disposed: false,
  }));
  // The copy's hooks are its own (removing one from the original leaves the copy's), as in PyTorch.
  s.preHooks.forEach((h) => addHook(t.preHooks, h));
  s.hooks.forEach((h) => addHook(t.hooks, h));
  s.backwardPreHooks.forEach((h) => addHook(t.backwardPreHooks, h));
  s.backwardHooks.forEach((h) => addHook(t.backwardHooks, h));
  memo.set(m, out);
  for (const [k, c] of s.modules) t.modules.set(k, c && (copy(c) as Module));
  for (const [k, p] of s.params) t.params.set(k, p && (copy(p) as Parameter));
  for (const [k, b] of s.buffers) t.buffers.set(k, b && (copy(b) as Tensor));
  structureVersion++;
  // Plain fields, in their order (registered ones are fields too, pointing at the copies just made).
  for (const key of Reflect.ownKeys(m)) {
    if (key === INTERNAL || key === 'forward') continue;
    const desc = Object.getOwnPropertyDescriptor(m, key)!;
    if (typeof key === 'string' && (s.modules.has(key) || s.params.has(key) || s.buffers.has(key))) {
      desc.value = t.modules.get(key) ?? t.params.get(key) ?? t.buffers.get(key) ?? null;
    } else if ('value' in desc) {
      desc.value = copy(desc.value);
    }
    Reflect.defineProperty(target, key, desc);
  }
  return out;
}

/** Base class of every ictorch module (see the file comment for writing your own). */
export class Module {
  constructor() {
    const classForward = (this as unknown as { forward: Internals['classForward'] }).forward;
    return becomeModule(this, {
      modules: new Map(), params: new Map(), buffers: new Map(), nonPersistent: new Set(), training: true,
      preHooks: new Map(), hooks: new Map(), backwardPreHooks: new Map(), backwardHooks: new Map(), readers: 0, writers: 0, inFlightOp: '', leaf: null, native: null,
      classForward, hooksCache: null, kind: null, disposed: false,
    });
  }

  /**
   * The computation. Subclasses define it (as a method); calling `module.forward(x)` runs forward pre-hooks,
   * this, then forward hooks. Built-in layers and containers of them run natively.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  forward(...inputs: any[]): any {
    throw new TypeError(`forward: ${this.constructor.name} defines no forward(); a Module subclass must define forward(...)`);
  }

  /**
   * Runs the forward off the event loop when the whole forward is native (built-in layers and containers of
   * them: see `isNative`); the current grad mode applies. A forward written in JavaScript (or a module with
   * hooks) runs on the JS thread, as `forward` does. While it runs, the module cannot be changed (train/eval,
   * to, loadStateDict, dispose, in-place changes of its parameters are refused); other forwards may overlap.
   */
  async forwardAsync(input: Tensor): Promise<Tensor> {
    if (!(input instanceof Tensor)) throw typeError('forwardAsync', 'input', 'a Tensor', input);
    assertLive(this, 'forwardAsync');
    const h = runsNatively(this);
    if (!h) return this.forward(input) as Tensor;
    return inFlight(this, 'forwardAsync', false, async () => new Tensor(await N.moduleForwardAsync(h, input.handle, isGradEnabled())));
  }

  /** True when the whole forward runs natively (no forward written in JS and no hooks inside). */
  get isNative(): boolean {
    return runsNatively(this) !== null;
  }

  /** The module kind: `conv2d`, `ic`, `sequential`, `residual`, ..., or the class name of a module written in JS. */
  get kind(): string {
    const s = internals(this);
    if (s.kind === null) s.kind = s.leaf ? N.moduleKind(s.leaf) : this.constructor.name;
    return s.kind;
  }

  // ---------------------------------------------------------------- registration

  /** Registers (or with null, reserves) a child module under `name`; `this.name = module` does the same. */
  registerModule(name: string, module: Module | null): void {
    checkName('registerModule', this, name);
    if (module !== null && !(module instanceof Module)) throw typeError('registerModule', name, 'a Module or null', module);
    const s = internals(this);
    if (module === null) {
      assertIdle(this, 'registerModule');
      forget(s, name);
      s.modules.set(name, null);
      storeField(this, name, null);
      structureVersion++;
    } else {
      if (!s.modules.has(name)) forget(s, name);
      if (!assign(this, name, module)) throw typeError('registerModule', name, 'a Module', module);
    }
  }

  /** Registers (or with null, reserves) a parameter under `name`; `this.name = new nn.Parameter(t)` does the same. */
  registerParameter(name: string, param: Parameter | null): void {
    checkName('registerParameter', this, name);
    if (param !== null && !(param instanceof Parameter)) throw typeError('registerParameter', name, 'an nn.Parameter or null (wrap a tensor with new nn.Parameter(t))', param);
    const s = internals(this);
    assertIdle(this, 'registerParameter');
    if (!s.params.has(name)) forget(s, name);
    s.params.set(name, param);
    storeField(this, name, param);
  }

  /**
   * Registers a buffer: state that is not learnable (running statistics, counters). It is saved in the state
   * dict unless `persistent` is false, moved by `to()` and freed by `dispose()`; it is kept from enclosing
   * `tidy()` scopes. Reassigning `this.name = tensor` later replaces it.
   */
  registerBuffer(name: string, tensor: Tensor | null, options: { persistent?: boolean } = {}): void {
    checkName('registerBuffer', this, name);
    if (tensor !== null && !(tensor instanceof Tensor)) throw typeError('registerBuffer', name, 'a Tensor or null', tensor);
    const s = internals(this);
    assertIdle(this, 'registerBuffer');
    if (!s.buffers.has(name)) forget(s, name);
    if (tensor) keep(tensor);
    s.buffers.set(name, tensor);
    if (options.persistent === false) s.nonPersistent.add(name);
    else s.nonPersistent.delete(name);
    storeField(this, name, tensor);
  }

  // ---------------------------------------------------------------- hooks

  /** Runs `hook(module, inputs)` before each forward through JS; it may return replacement inputs. */
  registerForwardPreHook(hook: ForwardPreHook): RemovableHandle {
    if (typeof hook !== 'function') throw typeError('registerForwardPreHook', 'hook', 'a function', hook);
    return addHook(internals(this).preHooks, hook);
  }

  /** Runs `hook(module, inputs, output)` after each forward through JS; it may return a replacement output. */
  registerForwardHook(hook: ForwardHook): RemovableHandle {
    if (typeof hook !== 'function') throw typeError('registerForwardHook', 'hook', 'a function', hook);
    return addHook(internals(this).hooks, hook);
  }

  /**
   * Runs `hook(module, gradInput, gradOutput)` when the gradients with respect to this module's inputs are
   * computed (PyTorch's `register_full_backward_hook`): `gradInput` has one entry per Tensor argument of the
   * forward (null where it needs no gradient), `gradOutput` the output's gradient; returning an array of as many
   * gradients replaces `gradInput`. The forward must return one Tensor; several inputs that require grad must
   * share a dtype and device (they pass through one node, a copy). The module then runs its forward through JS.
   *
   * ```ts
   * const norms: number[] = [];
   * block.registerFullBackwardHook((_m, [gIn], [gOut]) => void norms.push(gOut!.norm().item() as number));
   * ```
   */
  registerFullBackwardHook(hook: FullBackwardHook): RemovableHandle {
    if (typeof hook !== 'function') throw typeError('registerFullBackwardHook', 'hook', 'a function', hook);
    return addHook(internals(this).backwardHooks, hook);
  }

  /**
   * Runs `hook(module, gradOutput)` when the gradient with respect to this module's output is computed, before
   * the module's backward (PyTorch's `register_full_backward_pre_hook`); returning an array of one gradient
   * replaces it.
   */
  registerFullBackwardPreHook(hook: FullBackwardPreHook): RemovableHandle {
    if (typeof hook !== 'function') throw typeError('registerFullBackwardPreHook', 'hook', 'a function', hook);
    return addHook(internals(this).backwardPreHooks, hook);
  }

  // ---------------------------------------------------------------- tree

  /** Direct children with their names, in registration order. */
  namedChildren(): [string, Module][] {
    assertLive(this, 'namedChildren');
    return [...internals(this).modules].filter((e): e is [string, Module] => e[1] !== null);
  }

  /** Direct children. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every module inside it (each once), with dotted names ('' for this one). */
  namedModules(): [string, Module][] {
    assertLive(this, 'namedModules');
    return walk(this);
  }

  /** This module and every module inside it. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * The module at the dotted path `target` ('' is this module), as PyTorch's `get_submodule`:
   * `net.getSubmodule('layer1.0.conv1')`.
   */
  getSubmodule(target: string): Module {
    if (typeof target !== 'string') throw typeError('getSubmodule', 'target', "a dotted module path such as 'layer1.0'", target);
    assertLive(this, 'getSubmodule');
    let m: Module = this;
    let path = '';
    for (const atom of target === '' ? [] : target.split('.')) {
      const child = internals(m).modules.get(atom);
      if (!child) {
        const known = [...internals(m).modules].filter(([, c]) => c !== null).map(([k]) => k);
        throw new RangeError(`getSubmodule: ${path === '' ? 'the module' : `'${path}'`} has no submodule '${atom}' (its submodules: ${known.length ? known.join(', ') : 'none'})`);
      }
      m = child;
      path = path === '' ? atom : `${path}.${atom}`;
    }
    return m;
  }

  /**
   * The parameter at the dotted path `target` (`'layer1.0.conv1.weight'`), as PyTorch's `get_parameter`: a new
   * handle sharing the parameter's memory and gradient (dispose it or use tidy).
   */
  getParameter(target: string): Tensor {
    return tensorAt(this, 'getParameter', 'parameter', target, (m) => ownParameters(m, null));
  }

  /** The buffer at the dotted path `target` (`'bn1.running_mean'`), as PyTorch's `get_buffer`: a new handle sharing its memory. */
  getBuffer(target: string): Tensor {
    return tensorAt(this, 'getBuffer', 'buffer', target, (m) => ownBuffers(m, true));
  }

  /**
   * Sets whether autograd records operations on this module's parameters, as PyTorch's `requires_grad_`:
   * `false` freezes them (a pretrained backbone while a new head trains: `net.requiresGrad_(false);
   * net.fc.requiresGrad_(true)`). A frozen parameter gets no gradient, so the optimisers and the training step
   * leave it as it is; batch-norm running statistics still update in training mode, as in PyTorch (`eval()` the
   * frozen part to keep them). Returns this module.
   */
  requiresGrad_(requiresGrad = true): this {
    if (typeof requiresGrad !== 'boolean') throw typeError('requiresGrad_', 'requiresGrad', 'a boolean', requiresGrad);
    assertLive(this, 'requiresGrad_');
    assertIdle(this, 'requiresGrad_');
    tidy(() => {
      for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    });
    return this;
  }

  /** Calls fn on every module inside this one, children first, then on this one (as PyTorch's `apply`). */
  apply(fn: (m: Module) => void): this {
    if (typeof fn !== 'function') throw typeError('apply', 'fn', 'a function', fn);
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  // ---------------------------------------------------------------- parameters and buffers

  /**
   * Learnable parameters with their dotted names, each once. The tensors are new handles sharing the module's
   * memory and gradients: dispose them or use tidy.
   */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, t] of ownParameters(m, seen)) out.push([prefix ? `${prefix}.${k}` : k, t]);
    }
    return out;
  }

  /** Learnable parameters (new handles sharing the module's memory; dispose them or use tidy). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Buffers (running statistics, counters) with their dotted names (new handles; dispose them or use tidy). */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, t] of ownBuffers(m, true)) out.push([prefix ? `${prefix}.${k}` : k, t]);
    }
    return out;
  }

  /** Buffers. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /**
   * Parameters and persistent buffers by dotted name, in PyTorch's order (each module's parameters, then its
   * buffers, then its children's). The tensors share the module's memory; dispose them or use tidy.
   */
  stateDict(): StateDict {
    assertLive(this, 'stateDict');
    const out: StateDict = {};
    const add = (m: Module, prefix: string) => {
      for (const [k, t] of ownParameters(m, null)) out[prefix + k] = t;
      for (const [k, t] of ownBuffers(m, false)) out[prefix + k] = t;
      for (const [k, c] of internals(m).modules) if (c) add(c, `${prefix}${k}.`);
    };
    add(this, '');
    return out;
  }

  /**
   * Copies values from `dict` into this module's parameters and buffers. Every key and shape is checked
   * before anything is copied; with `strict` (default) a missing or unexpected key is an error.
   */
  loadStateDict(dict: StateDict, options: { strict?: boolean } = {}): LoadResult {
    if (dict === null || typeof dict !== 'object') throw typeError('loadStateDict', 'dict', 'an object of name → Tensor', dict);
    assertLive(this, 'loadStateDict');
    assertIdle(this, 'loadStateDict');
    const strict = boolOpt('loadStateDict', 'strict', knownOptions('loadStateDict', options, ['strict']).strict, true);
    return tidy(() => copyStateDict(this.stateDict(), dict, strict));
  }

  /** Number of learnable parameter elements. */
  numParameters(): number {
    return tidy(() => this.parameters().reduce((n, p) => n + p.numel(), 0));
  }

  /** Clears the parameters' gradients (to none by default, as PyTorch does). */
  zeroGrad(setToNone = true): void {
    tidy(() => this.parameters().forEach((p) => p.zeroGrad(setToNone)));
  }

  // ---------------------------------------------------------------- modes, devices, layouts

  /** Training mode (batch statistics, dropout on) for this module and all inside it. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw typeError('train', 'mode', 'a boolean', mode);
    assertLive(this, 'train');
    assertIdle(this, 'train');
    for (const [, m] of walk(this)) {
      const s = internals(m);
      s.training = mode;
      if (s.leaf) N.moduleTrain(s.leaf, mode);
    }
    return this;
  }

  /** Evaluation mode (running statistics, dropout off). */
  eval(): this {
    return this.train(false);
  }

  /** True in training mode. */
  get training(): boolean {
    return internals(this).training;
  }

  /** Moves parameters and buffers to a device and/or floating dtype, in place (tensor handles stay valid). */
  to(target: ToTarget): this {
    const { device, dtype } = parseToTarget('module.to', target);
    assertLive(this, 'module.to');
    assertIdle(this, 'module.to');
    tidy(() => N.tensorsTo_(this.ownedTensors().map((t) => t.handle), device, dtype));
    return this;
  }

  /** Stores 4-d weights in channels-last (NHWC) layout, which convolutions on GPUs run faster with. */
  channelsLast(): this {
    assertLive(this, 'channelsLast');
    assertIdle(this, 'channelsLast');
    tidy(() => N.tensorsChannelsLast_(this.parameters().map((t) => t.handle)));
    return this;
  }

  /**
   * Gives every parameter and buffer its initial value again: each built-in layer's, and each submodule that
   * defines its own `resetParameters` (as PyTorch's `reset_parameters`) has it called for its part of the tree.
   */
  resetParameters(): this {
    assertLive(this, 'resetParameters');
    assertIdle(this, 'resetParameters');
    resetTree(this, new Set());
    return this;
  }

  /**
   * A table of the layers with their output shapes and parameter counts, for an input of `inputShape`
   * (batch dimension included). Runs one forward (through JS, with hooks) in evaluation mode without gradients.
   */
  summary(inputShape: number[]): string {
    const rows: [string, string, string, number][] = [];
    const wasTraining = this.training;
    const hooks: RemovableHandle[] = [];
    for (const [name, m] of this.namedModules()) {
      if (m.kind === 'sequential' || (m === this && internals(m).modules.size > 0 && m.kind !== 'residual')) continue;
      hooks.push(
        m.registerForwardHook((mod, _inputs, out) => {
          const shape = out instanceof Tensor ? `[${out.shape.join(', ')}]` : typeof out;
          const own = tidy(() => ownParameters(mod, null).reduce((n, [, p]) => n + p.numel(), 0));
          rows.push([name, mod.kind === 'residual' ? 'residual (sum)' : mod.kind, shape, own]);
        }),
      );
    }
    this.eval();
    try {
      tidy(() => noGrad(() => this.forward(zeros(inputShape, { device: this.deviceOf() }))));
    } finally {
      for (const h of hooks) h.remove();
      this.train(wasTraining);
    }
    const head: [string, string, string, string] = ['layer', 'kind', 'output shape', 'params'];
    const cells = rows.map((r) => [r[0] || '(model)', r[1], r[2], r[3].toLocaleString('en-US')]);
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) => c.map((s, i) => (i === 3 ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ');
    const total = this.numParameters();
    return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line), `total parameters: ${total.toLocaleString('en-US')}`].join('\n');
  }

  // ---------------------------------------------------------------- resources

  /**
   * Frees the module and every module inside it: native layers, parameters and buffers. Tensors obtained from
   * it before (parameters(), stateDict()) stay valid. Idempotent; refused while a native call in flight uses it.
   */
  dispose(): void {
    if (internals(this).disposed) return;
    assertIdle(this, 'dispose');
    for (const [, m] of walk(this)) {
      const s = internals(m);
      if (s.disposed) continue;
      s.disposed = true;
      for (const p of s.params.values()) p?.dispose();
      for (const b of s.buffers.values()) b?.dispose();
      s.native?.handle.dispose();
      s.native = null;
      s.leaf?.dispose();
    }
  }

  /** True once disposed. */
  get isDisposed(): boolean {
    return internals(this).disposed;
  }

  /** `using m = ...` support. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** @internal Binds a native layer to this module (built-in layers). */
  protected bindNative(handle: ModuleHandle): void {
    internals(this).leaf = handle;
  }

  /** @internal The native layer bound with bindNative (built-in layers). */
  protected nativeLeaf(): ModuleHandle {
    const h = internals(this).leaf;
    if (!h) throw new TypeError(`forward: ${this.constructor.name} has no native layer`);
    return h;
  }

  /** @internal Sets the kind name (built-in containers). */
  protected setKind(kind: string): void {
    internals(this).kind = kind;
  }

  // Every parameter and buffer tensor the module owns: the module's own handles for those held in JS, new
  // handles (disposed by the caller's tidy) for those inside native layers.
  private ownedTensors(): Tensor[] {
    const out: Tensor[] = [];
    for (const [, m] of walk(this)) {
      const s = internals(m);
      if (s.leaf) {
        for (const [, h] of N.moduleNamedParameters(s.leaf)) out.push(new Tensor(h));
        for (const [, h] of N.moduleNamedBuffers(s.leaf)) out.push(new Tensor(h));
      }
      for (const p of s.params.values()) if (p) out.push(p);
      for (const b of s.buffers.values()) if (b) out.push(b);
    }
    return out;
  }

  private deviceOf(): string {
    return tidy(() => this.parameters()[0]?.device ?? 'cpu');
  }
}

function addHook<F>(map: Map<number, F>, hook: F): RemovableHandle {
  const id = nextHookId++;
  map.set(id, hook);
  liveHooks++;
  hookVersion++;
  return {
    remove() {
      if (map.delete(id)) {
        liveHooks--;
        hookVersion++;
      }
    },
  };
}

// A module's own parameters (not its children's): from its native layer, or the nn.Parameters it holds (new
// handles sharing them); each Parameter once when `seen` is given.
// The parameter or buffer at a dotted path below `root` (getParameter / getBuffer).
function tensorAt(root: Module, op: string, what: string, target: string, own: (m: Module) => [string, Tensor][]): Tensor {
  if (typeof target !== 'string' || target === '') throw typeError(op, 'target', `a dotted ${what} path such as 'fc.weight'`, target);
  const cut = target.lastIndexOf('.');
  let m: Module;
  try {
    m = root.getSubmodule(cut < 0 ? '' : target.slice(0, cut));
  } catch (e) {
    if (e instanceof Error) e.message = e.message.replace(/^getSubmodule: /, `${op}: `);
    throw e;
  }
  const name = target.slice(cut + 1);
  const found = own(m);
  let result: Tensor | undefined;
  for (const [k, t] of found) {
    if (k === name && result === undefined) result = t;
    else t.dispose();
  }
  if (result === undefined) throw new RangeError(`${op}: ${cut < 0 ? 'the module' : `'${target.slice(0, cut)}'`} has no ${what} '${name}' (its ${what}s: ${found.map(([k]) => k).join(', ') || 'none'})`);
  return result;
}

function ownParameters(m: Module, seen: Set<Parameter> | null): [string, Tensor][] {
  const s = internals(m);
  assertLive(m, 'parameters');
  const out: [string, Tensor][] = s.leaf ? N.moduleNamedParameters(s.leaf).map(([k, h]) => [k, new Tensor(h)]) : [];
  for (const [k, p] of s.params) {
    if (!p || seen?.has(p)) continue;
    seen?.add(p);
    out.push([k, new Tensor(N.alias(p.handle))]);
  }
  return out;
}

function ownBuffers(m: Module, withNonPersistent: boolean): [string, Tensor][] {
  const s = internals(m);
  assertLive(m, 'buffers');
  const out: [string, Tensor][] = s.leaf ? N.moduleNamedBuffers(s.leaf).map(([k, h]) => [k, new Tensor(h)]) : [];
  for (const [k, b] of s.buffers) if (b && (withNonPersistent || !s.nonPersistent.has(k))) out.push([k, new Tensor(N.alias(b.handle))]);
  return out;
}
