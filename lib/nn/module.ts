/**
 * Module: a native torch::nn module (a layer or a container). A whole forward runs in C++ in one call;
 * TypeScript composes modules into networks. Parameter names follow PyTorch's dotted convention
 * (`layer1.0.conv1.weight`), so state dicts can be exchanged with Python.
 */
import type { Device, DType } from '../dtype';
import { DTYPES } from '../dtype';
import { isGradEnabled, noGrad } from '../autograd';
import { native, type ModuleHandle } from '../native';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { zeros } from '../creation';
import { typeError } from '../validate';

const N = native();

/** A state dict: dotted names to tensors (parameters and buffers). */
export type StateDict = Record<string, Tensor>;

/** What `loadStateDict` did not match (only reported when `strict` is false). */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Base class of every ictorch module. */
export class Module {
  /** @internal */
  readonly handle: ModuleHandle;

  /** @internal wraps a native module handle. */
  constructor(handle: ModuleHandle) {
    this.handle = handle;
  }

  /** The module kind (`conv2d`, `ic2d` is reported as `ic`, `sequential`, `residual`, ...). */
  get kind(): string {
    return N.moduleKind(this.handle);
  }

  /** Runs the module on `input` (synchronously, on this thread). */
  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw typeError('forward', 'input', 'a Tensor', input);
    return new Tensor(N.moduleForward(this.handle, input.handle));
  }

  /** Runs the module off the event loop (for Node services); the current grad mode applies. */
  async forwardAsync(input: Tensor): Promise<Tensor> {
    if (!(input instanceof Tensor)) throw typeError('forwardAsync', 'input', 'a Tensor', input);
    return new Tensor(await N.moduleForwardAsync(this.handle, input.handle, isGradEnabled()));
  }

  /** Training mode (batch statistics, dropout on) for this module and all children. */
  train(mode = true): this {
    N.moduleTrain(this.handle, mode);
    return this;
  }

  /** Evaluation mode (running statistics, dropout off). */
  eval(): this {
    return this.train(false);
  }

  /** True in training mode. */
  get training(): boolean {
    return N.moduleIsTraining(this.handle);
  }

  /** Moves parameters and buffers to a device and/or floating dtype, in place (tensor handles stay valid). */
  to(target: Device | DType | string | { device?: Device | string; dtype?: DType }): this {
    let device: string | undefined;
    let dtype: DType | undefined;
    if (typeof target === 'string') {
      if ((DTYPES as readonly string[]).includes(target)) dtype = target as DType;
      else device = target;
    } else if (target && typeof target === 'object') {
      ({ device, dtype } = target);
    } else {
      throw typeError('module.to', 'target', 'a device, a dtype or {device, dtype}', target);
    }
    N.moduleTo(this.handle, device, dtype);
    return this;
  }

  /** Stores 4-d weights in channels-last (NHWC) layout, which convolutions on GPUs run faster with. */
  channelsLast(): this {
    N.moduleChannelsLast(this.handle);
    return this;
  }

  /** Learnable parameters with their dotted names. */
  namedParameters(): [string, Tensor][] {
    return N.moduleNamedParameters(this.handle).map(([k, h]) => [k, new Tensor(h)]);
  }

  /** Learnable parameters (tensors sharing the module's memory). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Buffers (running statistics, counters) with their dotted names. */
  namedBuffers(): [string, Tensor][] {
    return N.moduleNamedBuffers(this.handle).map(([k, h]) => [k, new Tensor(h)]);
  }

  /** Buffers. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    return N.moduleChildren(this.handle).map(([k, h]) => [k, new Module(h)]);
  }

  /** Parameters and buffers by dotted name (tensors share the module's memory; dispose them or use tidy). */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [k, t] of [...this.namedParameters(), ...this.namedBuffers()]) out[k] = t;
    return out;
  }

  /**
   * Copies values from `dict` into this module's parameters and buffers. Every key and shape is checked
   * before anything is copied; with `strict` (default) a missing or unexpected key is an error.
   */
  loadStateDict(dict: StateDict, options: { strict?: boolean } = {}): LoadResult {
    if (dict === null || typeof dict !== 'object') throw typeError('loadStateDict', 'dict', 'an object of name → Tensor', dict);
    const strict = options.strict ?? true;
    return tidy(() => {
      const own = this.stateDict();
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
    });
  }

  /** Number of learnable parameter elements. */
  numParameters(): number {
    return tidy(() => this.parameters().reduce((n, p) => n + p.numel(), 0));
  }

  /**
   * A table of the layers with their output shapes and parameter counts, for an input of `inputShape`
   * (batch dimension included). Runs one forward in evaluation mode without gradients.
   */
  summary(inputShape: number[]): string {
    const rows: [string, string, string, number][] = [];
    const wasTraining = this.training;
    this.eval();
    try {
      tidy(() =>
        noGrad(() => {
          const x = zeros(inputShape, { device: this.deviceOf() });
          walk(this, '', x, rows);
        }),
      );
    } finally {
      this.train(wasTraining);
    }
    const head: [string, string, string, string] = ['layer', 'kind', 'output shape', 'params'];
    const cells = rows.map((r) => [r[0] || '(model)', r[1], r[2], r[3].toLocaleString('en-US')]);
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) => c.map((s, i) => (i === 3 ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ');
    const total = this.numParameters();
    return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line), `total parameters: ${total.toLocaleString('en-US')}`].join('\n');
  }

  /** Frees the native module (tensors obtained from it stay valid). Idempotent. */
  dispose(): void {
    this.handle.dispose();
  }

  /** True once disposed. */
  get isDisposed(): boolean {
    return this.handle.isDisposed();
  }

  /** `using m = ...` support. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  private deviceOf(): string {
    return tidy(() => this.parameters()[0]?.device ?? 'cpu');
  }
}

function ownParams(m: Module): number {
  return tidy(() => m.parameters().reduce((n, p) => n + p.numel(), 0));
}

// Forwards x through m the way its native forward does, recording every leaf's output shape.
function walk(m: Module, name: string, x: Tensor, rows: [string, string, string, number][]): Tensor {
  const kind = m.kind;
  const children = m.namedChildren();
  const prefix = name ? `${name}.` : '';
  if (kind === 'sequential') {
    let y = x;
    for (const [k, c] of children) y = walk(c, prefix + k, y, rows);
    return y;
  }
  if (kind === 'residual') {
    let y = x;
    const shortcut = children.find(([k]) => k === 'downsample');
    const rest = children.filter(([k]) => k !== 'downsample');
    // The unit's value comes from its native forward; its parts are walked in registration order (body,
    // then the layers after the addition, which keep the shape) only to list their shapes.
    const out = m.forward(x);
    for (const [k, c] of rest) y = walk(c, prefix + k, y, rows);
    if (shortcut) walk(shortcut[1], `${prefix}downsample`, x, rows);
    rows.push([name, 'residual (sum)', `[${out.shape.join(', ')}]`, 0]);
    return out;
  }
  const y = m.forward(x);
  rows.push([name, kind, `[${y.shape.join(', ')}]`, ownParams(m)]);
  return y;
}
