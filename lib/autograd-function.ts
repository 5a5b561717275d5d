/**
 * Custom autograd functions written in TypeScript, as PyTorch's `torch.autograd.Function`: a static `forward`
 * computes the outputs (without recording a graph), a static `backward` gives the gradients of the inputs from
 * the gradients of the outputs, and `apply` runs the forward and attaches the backward to the outputs as one
 * autograd node (native/autograd.cc, JsFunctionNode), which LibTorch's engine calls like any other.
 */
import { isGradEnabled, noGrad } from './autograd';
import { native, type TensorHandle } from './native';
import { forNative, tidy } from './scope';
import { Tensor } from './tensor';
import { typeError } from './validate';

const N = native();

/**
 * What `forward` and `backward` of an `autograd.Function` share (PyTorch's `ctx`): tensors saved for the
 * backward, other values as fields of your own, and which inputs need a gradient.
 */
export class FunctionCtx {
  /** Per argument of `apply`: whether it is a Tensor that requires grad (PyTorch's `needs_input_grad`). */
  readonly needsInputGrad: readonly boolean[];
  /** @internal The tensors `saveForBackward` recorded in the forward. */
  toSave: Tensor[] = [];
  /** @internal The saved tensors during the backward. */
  saved: Tensor[] | null = null;
  /** Any value the forward wants the backward to have (PyTorch's attributes set on ctx). */
  [key: string]: unknown;

  /** @internal */
  constructor(needsInputGrad: boolean[]) {
    this.needsInputGrad = needsInputGrad;
  }

  /**
   * Keeps tensors (inputs, outputs or intermediates of the forward) for the backward; `savedTensors` gives them
   * back there. They are freed by the backward pass that does not keep the graph.
   */
  saveForBackward(...tensors: Tensor[]): void {
    tensors.forEach((t, k) => {
      if (!(t instanceof Tensor)) throw typeError('saveForBackward', `tensors[${k}]`, 'a Tensor', t);
    });
    this.toSave = tensors;
  }

  /** The tensors `saveForBackward` kept, in the backward (PyTorch's `saved_tensors`). */
  get savedTensors(): Tensor[] {
    if (this.saved === null) throw new Error('savedTensors: read them in backward (the forward saves them with saveForBackward)');
    return this.saved;
  }
}

/**
 * A differentiable operation with a backward of your own, as `torch.autograd.Function`: subclass it with a static
 * `forward(ctx, ...args)` returning a Tensor or an array of Tensors, and a static `backward(ctx, ...gradOutputs)`
 * returning one gradient per argument of `forward` (null for a non-Tensor argument or none), then call
 * `apply(...args)`. The forward runs without recording a graph; each output that is floating-point gets the
 * backward as its `gradFn` (named after the class, e.g. "ClampGradBackward"). A gradient an output did not
 * receive reaches the backward as zeros, as in PyTorch. The backward runs on the JS thread, under grad mode off
 * unless the backward pass has `createGraph`.
 *
 * ```ts
 * class StraightThroughSign extends autograd.Function {
 *   static forward(ctx: FunctionCtx, x: Tensor): Tensor { return x.sign(); }
 *   static backward(ctx: FunctionCtx, g: Tensor): Tensor { return g; }
 * }
 * const y = StraightThroughSign.apply(x) as Tensor;
 * ```
 */
export class Function {
  /**
   * Computes the outputs from the arguments; saves what the backward needs on `ctx`. Override it. Tensors it
   * creates and neither returns, saves with `saveForBackward`, nor stores on `ctx` (directly, or in arrays and
   * plain objects there) are freed when it returns.
   */
  static forward(ctx: FunctionCtx, ...args: never[]): Tensor | Tensor[] {
    void ctx;
    void args;
    throw new TypeError(`${this.name}.forward is not implemented: a subclass of autograd.Function defines static forward(ctx, ...args)`);
  }

  /** The gradients of the arguments (one per argument, null for none) from those of the outputs. Override it. */
  static backward(ctx: FunctionCtx, ...gradOutputs: (Tensor | null)[]): Tensor | null | (Tensor | null)[] {
    void ctx;
    void gradOutputs;
    throw new TypeError(`${this.name}.backward is not implemented: a subclass of autograd.Function defines static backward(ctx, ...gradOutputs)`);
  }

  /** Runs the forward on `args` and attaches the backward to its outputs (when an input requires grad). */
  static apply(...args: unknown[]): Tensor | Tensor[] {
    const name = `${this.name || 'Function'}Backward`;
    const needs = args.map((a) => a instanceof Tensor && a.requiresGrad);
    const ctx = new FunctionCtx(needs);
    // The forward runs in a scope of its own: what it creates and neither returns nor keeps on ctx is freed when
    // it returns (as Python frees it), not at the end of the caller's scope. A checkpointed segment's
    // intermediate activations depend on this.
    const raw = noGrad(() => tidy(() => ({ out: this.forward(ctx, ...(args as never[])), kept: { ...ctx } }))).out;
    const outs = Array.isArray(raw) ? raw : [raw];
    outs.forEach((o, k) => {
      if (!(o instanceof Tensor)) throw typeError(`${this.name}.forward`, Array.isArray(raw) ? `result[${k}]` : 'result', 'a Tensor or an array of Tensors', o);
    });
    if (!isGradEnabled() || !needs.some(Boolean)) return raw;
    const inputs = args.flatMap((a, k) => (a instanceof Tensor ? [k] : []));
    const backward = (grads: (TensorHandle | null)[], saved: TensorHandle[]): (TensorHandle | null)[] => forNative(() => runBackward(grads, saved));
    const runBackward = (grads: (TensorHandle | null)[], saved: TensorHandle[]): (TensorHandle | null)[] => {
      const gradTensors = grads.map((h) => (h ? new Tensor(h) : null));
      ctx.saved = saved.map((h) => new Tensor(h));
      try {
        const r = this.backward(ctx, ...gradTensors);
        const list = Array.isArray(r) ? r : [r];
        if (list.length !== args.length) {
          throw new TypeError(`${this.name}.backward returned ${list.length} gradient${list.length === 1 ? '' : 's'}, expected ${args.length} (one per argument of forward, null for none)`);
        }
        list.forEach((g, k) => {
          if (g === null || g === undefined) return;
          if (!(g instanceof Tensor)) throw typeError(`${this.name}.backward`, `result[${k}]`, 'a Tensor or null', g);
          if (!(args[k] instanceof Tensor)) throw new TypeError(`${this.name}.backward returned a gradient for argument ${k}, which is not a Tensor; return null there`);
        });
        return inputs.map((k) => (list[k] instanceof Tensor ? (list[k] as Tensor).handle : null));
      } finally {
        ctx.saved = null;
      }
    };
    const handles = N.customFunctionApply(
      inputs.map((k) => (args[k] as Tensor).handle),
      outs.map((o) => o.handle),
      ctx.toSave.map((t) => t.handle),
      backward,
      name,
    );
    ctx.toSave = [];
    const wrapped = handles.map((h) => new Tensor(h));
    // The raw outputs were the forward's own: the results share their memory. Arguments, and what the forward
    // kept on ctx, stay.
    const kept = new Set<unknown>([...args, ...Object.values(ctx)]);
    for (const o of outs) if (!kept.has(o)) o.dispose();
    return Array.isArray(raw) ? wrapped : wrapped[0];
  }
}
