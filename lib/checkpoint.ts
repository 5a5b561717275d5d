/**
 * Activation checkpointing, as PyTorch's `torch.utils.checkpoint`: a segment of the forward keeps only its
 * inputs, not its intermediate activations, and is run again in the backward to compute them, trading compute
 * for memory. Built on `autograd.Function` (its backward runs on the JS thread): the forward runs without
 * recording a graph; the backward restores the random state and the autocast state the forward saw (so dropout
 * and IC layers draw the same masks, in the same precision), runs the segment again with grad on, and
 * backpropagates through it, which also accumulates the gradients of the parameters it uses. In a `Trainer`
 * step the backward runs while the step waits for it, and may read the model the step holds.
 */
import { autograd, enableGrad, isGradEnabled } from './autograd';
import { autocast, getAutocastDtype, isAutocastEnabled } from './autocast';
import { FunctionCtx, Function as AutogradFunction } from './autograd-function';
import { tensor, zeros } from './creation';
import { isFloatingDType } from './dtype';
import { Module as ModuleClass, type Module } from './nn/module';
import { rngState, setRngState } from './runtime';
import { tidy } from './scope';
import { Tensor } from './tensor';
import { checkBool, checkInt, knownOptions, typeError } from './validate';

/** A checkpointed segment: any function of the arguments given to `checkpoint`, returning a Tensor or Tensors. */
export type Segment = (...args: never[]) => Tensor | Tensor[];

interface CheckpointCtx extends FunctionCtx {
  fn: Segment;
  rng: RngBytes | null;
  /** The autocast state of the first run, per device type, for the second. */
  amp: { cpu: [boolean, 'bfloat16' | 'float16']; cuda: [boolean, 'bfloat16' | 'float16'] };
  /** Which arguments of the segment are tensors (their saved copies stand in for them in the backward). */
  args: unknown[];
}

class CheckpointFunction extends AutogradFunction {
  // apply(anchor, fn, preserveRngState, ...args): `anchor` is a scalar that requires grad, so that the node is
  // recorded (and the parameters inside get gradients) even when no argument requires grad, as PyTorch's
  // non-reentrant checkpoint does.
  static forward(ctx: FunctionCtx, anchor: Tensor, fn: Segment, preserveRngState: boolean, ...args: unknown[]): Tensor | Tensor[] {
    void anchor;
    const c = ctx as CheckpointCtx;
    c.fn = fn;
    c.rng = preserveRngState ? saveRng() : null;
    const amp = (d: 'cpu' | 'cuda'): [boolean, 'bfloat16' | 'float16'] => [isAutocastEnabled(d), getAutocastDtype(d) as 'bfloat16' | 'float16'];
    c.amp = { cpu: amp('cpu'), cuda: amp('cuda') };
    c.args = args.map((a) => (a instanceof Tensor ? null : a));
    ctx.saveForBackward(...args.filter((a): a is Tensor => a instanceof Tensor));
    return fn(...(args as never[]));
  }

  static backward(ctx: FunctionCtx, ...gradOutputs: (Tensor | null)[]): (Tensor | null)[] {
    const c = ctx as CheckpointCtx;
    const saved = ctx.savedTensors;
    return tidy(() => {
      // The segment again, on detached inputs (leaves whose .grad collects the inputs' gradients).
      let k = 0;
      const inputs = c.args.map((a) => {
        if (a !== null) return a;
        const t = saved[k++];
        return t.detach().requiresGrad_(t.requiresGrad && isFloatingDType(t.dtype));
      });
      const now = c.rng ? saveRng() : null;
      let raw: Tensor | Tensor[];
      try {
        if (c.rng) restoreRng(c.rng);
        const { cpu, cuda } = c.amp;
        raw = enableGrad(() =>
          autocast('cpu', { enabled: cpu[0], dtype: cpu[1] }, () => autocast('cuda', { enabled: cuda[0], dtype: cuda[1] }, () => c.fn(...(inputs as never[])))),
        );
      } finally {
        if (now) restoreRng(now);
      }
      const outs = Array.isArray(raw) ? raw : [raw];
      const pairs = outs.flatMap((o, i) => (o instanceof Tensor && o.requiresGrad && gradOutputs[i] ? [[o, gradOutputs[i] as Tensor] as const] : []));
      if (pairs.length > 0) autograd.backward(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
      const grads = inputs.map((a, i) => (c.args[i] === null && a instanceof Tensor ? a.grad : null));
      return [null, null, null, ...grads];
    });
  }
}

/**
 * The generators' states as bytes: what the graph keeps for the backward (which may run several times, or never)
 * holds no tensor, so it never shows in memory() and needs no disposing.
 */
interface RngBytes {
  cpu: Uint8Array;
  cuda: Uint8Array[];
}

function saveRng(): RngBytes {
  const s = rngState();
  try {
    return { cpu: s.cpu.toArray() as Uint8Array, cuda: s.cuda.map((t) => t.toArray() as Uint8Array) };
  } finally {
    s.cpu.dispose();
    for (const t of s.cuda) t.dispose();
  }
}

function restoreRng(b: RngBytes): void {
  tidy(() => setRngState({ cpu: tensor(b.cpu), cuda: b.cuda.map((c) => tensor(c)) }));
}

/** Options of `checkpointSequential`. */
export interface CheckpointOptions {
  /**
   * Save the random state before the segment and restore it for its recomputation (default true), so random
   * layers (dropout, IC) draw the same values twice; false saves that copy when the segment draws nothing.
   */
  preserveRngState?: boolean;
}

/**
 * Runs `fn(...args)` without keeping its intermediate activations, and runs it again in the backward to
 * compute them (PyTorch's `torch.utils.checkpoint.checkpoint`, with the non-reentrant variant's behaviour that
 * parameters inside get gradients even when no argument requires grad). `fn` must compute the same thing
 * twice: the random state is restored for the second run. Outputs hold the same values as `fn(...args)`; the
 * gradients reaching the arguments and the parameters used by `fn` are those of an uncheckpointed run.
 * Arguments that are not tensors are passed as they are. Under `autograd.grad` the parameters' `.grad` also
 * accumulate (the second run backpropagates into them), as with PyTorch's reentrant checkpoint.
 *
 * ```ts
 * const y = utils.checkpoint.checkpoint((x: Tensor) => block2.forward(block1.forward(x)), x);
 * ```
 */
export function checkpoint(fn: Segment, ...args: unknown[]): Tensor | Tensor[] {
  return run('checkpoint', fn, args, true);
}

function run(op: string, fn: Segment, args: unknown[], preserveRngState: boolean): Tensor | Tensor[] {
  if (typeof fn !== 'function') throw typeError(op, 'fn', 'a function', fn);
  if (!isGradEnabled()) return fn(...(args as never[]));
  const anchor = zeros([], { requiresGrad: true });
  try {
    return CheckpointFunction.apply(anchor, fn, preserveRngState, ...args);
  } finally {
    anchor.dispose();
  }
}

/**
 * Runs `functions` (modules or functions, or a module's children in order, e.g. a `Sequential`'s) one after the
 * other on `input`, in `segments` segments of which all but the last are checkpointed (PyTorch's
 * `checkpoint_sequential`).
 */
export function checkpointSequential(functions: Module | (Module | ((x: Tensor) => Tensor))[], segments: number, input: Tensor, options: CheckpointOptions = {}): Tensor {
  const op = 'checkpointSequential';
  const list: unknown[] = Array.isArray(functions) ? functions : functions instanceof ModuleClass ? functions.children() : [];
  if (list.length === 0) throw typeError(op, 'functions', 'a non-empty array of modules or functions, or a module with children (a Sequential)', functions);
  const steps = list.map((f, i) => {
    if (f instanceof ModuleClass) return (x: Tensor) => f.forward(x) as Tensor;
    if (typeof f === 'function') return f as (x: Tensor) => Tensor;
    throw typeError(op, `functions[${i}]`, 'a module or a function', f);
  });
  checkInt(op, 'segments', segments, 1, steps.length);
  if (!(input instanceof Tensor)) throw typeError(op, 'input', 'a Tensor', input);
  const o = knownOptions(op, options, ['preserveRngState']);
  const preserve = o.preserveRngState === undefined ? true : checkBool(op, 'preserveRngState', o.preserveRngState);
  const size = Math.floor(steps.length / segments);
  let x = input;
  let end = -1;
  for (let start = 0; start < size * (segments - 1); start = end + 1) {
    end = start + size - 1;
    const part = steps.slice(start, end + 1);
    const next = run(op, ((t: Tensor) => part.reduce((acc, f) => f(acc), t)) as Segment, [x], preserve) as Tensor;
    if (x !== input) x.dispose();
    x = next;
  }
  const rest = steps.slice(end + 1).reduce((acc, f) => f(acc), x);
  if (x !== input && x !== rest) x.dispose();
  return rest;
}
