/**
 * A module's backward hooks (`registerFullBackwardHook`, `registerFullBackwardPreHook`), as PyTorch's
 * `BackwardHook`: built on tensor hooks (`Tensor.registerHook`). The forward runs on identity views of its inputs
 * and its output is passed through one more; the output view's hook sees the gradient of the output (the
 * pre-hooks may replace it), the inputs' view sees the gradients of the inputs (the full hooks may replace them).
 * Several inputs that require grad go through one node (a concatenation, split again), so that the full hooks
 * run once with all their gradients, as PyTorch's one `BackwardHookFunction` node does; that copies the inputs.
 */
import { isGradEnabled } from '../autograd';
import { cat, zerosLike } from '../creation';
import { Tensor } from '../tensor';
import { typeError } from '../validate';
import type { Module } from './module';

/**
 * A hook run when the gradients with respect to a module's inputs have been computed (PyTorch's
 * `register_full_backward_hook`): `gradInput` has one entry per Tensor argument (null where it needs no
 * gradient), `gradOutput` one per output. It may return replacement input gradients (as many, null for zero).
 */
export type FullBackwardHook = (module: Module, gradInput: (Tensor | null)[], gradOutput: (Tensor | null)[]) => (Tensor | null)[] | void;

/**
 * A hook run when the gradient with respect to a module's output has been computed, before the module's own
 * backward (PyTorch's `register_full_backward_pre_hook`). It may return a replacement (an array of one).
 */
export type FullBackwardPreHook = (module: Module, gradOutput: (Tensor | null)[]) => (Tensor | null)[] | void;

function replacement(op: string, r: unknown, like: (Tensor | null)[]): (Tensor | null)[] | null {
  if (r === undefined || r === null) return null;
  if (!Array.isArray(r) || r.length !== like.length || r.some((t) => t !== null && !(t instanceof Tensor))) {
    throw typeError(op, "the hook's result", `nothing or an array of ${like.length} gradient${like.length === 1 ? '' : 's'} (Tensors or null)`, r);
  }
  return r as (Tensor | null)[];
}

/**
 * @internal Runs `forward(inputs)` with `module`'s backward hooks attached (hooks.pre and hooks.full, in order).
 * Without grad mode, or when the output does not require grad, there is no backward and the forward runs as is.
 */
export function forwardWithBackwardHooks(
  module: Module,
  inputs: unknown[],
  hooks: { pre: FullBackwardPreHook[]; full: FullBackwardHook[] },
  forward: (inputs: unknown[]) => unknown,
): unknown {
  if (!isGradEnabled()) return forward(inputs);
  const name = module.kind;
  const tensorArgs = inputs.map((v, i) => (v instanceof Tensor ? i : -1)).filter((i) => i >= 0);
  const needing = tensorArgs.filter((i) => (inputs[i] as Tensor).requiresGrad);
  let gradOutput: (Tensor | null)[] = [];

  let args = inputs;
  if (hooks.full.length > 0 && needing.length > 0) {
    const ts = needing.map((i) => inputs[i] as Tensor);
    const first = ts[0];
    if (ts.some((t) => t.dtype !== first.dtype || t.device !== first.device)) {
      throw new TypeError(
        `registerFullBackwardHook: ${name}'s inputs that require grad must share one dtype and device (found ${ts.map((t) => `${t.dtype} on ${t.device}`).join(', ')})`,
      );
    }
    const joined = ts.length === 1 ? first.viewAs(first) : cat(ts.map((t) => t.reshape([-1])));
    const sizes = ts.map((t) => t.numel());
    const pieces = (whole: Tensor): Tensor[] => {
      if (ts.length === 1) return [whole];
      let offset = 0;
      return ts.map((t, k) => {
        const p = whole.narrow(0, offset, sizes[k]).view(t.shape);
        offset += sizes[k];
        return p;
      });
    };
    joined.registerHook((g) => {
      const parts = pieces(g);
      let gradInput: (Tensor | null)[] = tensorArgs.map((i) => (needing.includes(i) ? parts[needing.indexOf(i)] : null));
      for (const hook of hooks.full) gradInput = replacement('registerFullBackwardHook', hook(module, gradInput, gradOutput), gradInput) ?? gradInput;
      const back = needing.map((i, k) => {
        const r = gradInput[tensorArgs.indexOf(i)];
        if (r === null) return zerosLike(ts[k]);
        if (r.shape.join() !== ts[k].shape.join()) {
          throw new RangeError(`registerFullBackwardHook: the hook returned a gradient of shape [${r.shape}] for ${name}'s input of shape [${ts[k].shape}]`);
        }
        return r;
      });
      return back.length === 1 ? back[0] : cat(back.map((t) => t.reshape([-1])));
    });
    const views = pieces(joined);
    args = inputs.map((v, i) => (needing.includes(i) ? views[needing.indexOf(i)] : v));
  }

  const out = forward(args);
  if (!(out instanceof Tensor)) {
    throw new TypeError(`registerFullBackwardHook: ${name}'s forward must return one Tensor for its backward hooks, got ${Array.isArray(out) ? 'an array' : typeof out}`);
  }
  if (!out.requiresGrad) return out;
  const wrapped = out.viewAs(out);
  wrapped.registerHook((g) => {
    gradOutput = [g];
    for (const hook of hooks.pre) gradOutput = replacement('registerFullBackwardPreHook', hook(module, gradOutput), gradOutput) ?? gradOutput;
    if (needing.length === 0) {
      // No input needs a gradient: the full hooks run now, with none (PyTorch does the same).
      const none = tensorArgs.map(() => null);
      for (const hook of hooks.full) {
        const r = replacement('registerFullBackwardHook', hook(module, none, gradOutput), none);
        if (r && r.some((t) => t !== null)) throw new TypeError(`registerFullBackwardHook: no input of ${name} requires grad, so its hook must return nothing (or nulls)`);
      }
    }
    return gradOutput[0] ?? zerosLike(g);
  });
  return wrapped;
}
