/**
 * Gradient mode and functional gradients. Grad mode is thread-local in LibTorch: these set it for
 * the JS thread; native async work (training steps) receives the mode explicitly.
 */
import { native } from './native';
import { Tensor } from './tensor';
import { typeError } from './validate';

const N = native();

function withGradMode<T>(op: string, enabled: boolean, fn: () => T): T {
  if (typeof fn !== 'function') throw typeError(op, 'fn', 'a function', fn);
  const prev = N.isGradEnabled();
  N.setGradEnabled(enabled);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    N.setGradEnabled(prev);
    throw e;
  }
  if (result instanceof Promise) {
    // The mode stays set until the promise settles: keep other async work out of the window.
    return result.finally(() => N.setGradEnabled(prev)) as T;
  }
  N.setGradEnabled(prev);
  return result;
}

/** Runs fn with gradient recording off (like `torch.no_grad()`): results have requiresGrad false. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode('noGrad', false, fn);
}

/** Runs fn with gradient recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode('enableGrad', true, fn);
}

/** Whether operations are currently recorded for autograd. */
export function isGradEnabled(): boolean {
  return N.isGradEnabled();
}

/** Options of `autograd.grad`. */
export interface GradOptions {
  /** The "vector" of the vector-Jacobian product, one per output (needed for non-scalar outputs). */
  gradOutputs?: Tensor[];
  /** Keep the graph for another backward pass (defaults to createGraph). */
  retainGraph?: boolean;
  /** Record the gradient computation, for higher-order derivatives. */
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on instead of throwing. */
  allowUnused?: boolean;
}

/** Functional autograd, like `torch.autograd`. */
export const autograd = {
  /** Gradients of `outputs` with respect to `inputs`, returned (not accumulated into `.grad`). */
  grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    const ins = Array.isArray(inputs) ? inputs : [inputs];
    for (const [name, list] of [['outputs', outs], ['inputs', ins]] as const) {
      list.forEach((t, k) => {
        if (!(t instanceof Tensor)) throw typeError('autograd.grad', `${name}[${k}]`, 'a Tensor', t);
      });
    }
    if (typeof options !== 'object' || options === null) throw typeError('autograd.grad', 'options', '{gradOutputs, retainGraph, createGraph, allowUnused}', options);
    if (options.gradOutputs !== undefined && !Array.isArray(options.gradOutputs)) {
      throw typeError('autograd.grad', 'gradOutputs', 'an array of Tensors', options.gradOutputs);
    }
    const res = N.autogradGrad(
      outs.map((t) => t.handle),
      ins.map((t) => t.handle),
      options.gradOutputs?.map((t) => t.handle),
      options.retainGraph,
      options.createGraph ?? false,
      options.allowUnused ?? false,
    );
    return res.map((h) => (h ? new Tensor(h) : null));
  },
};
