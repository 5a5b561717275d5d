/**
 * Gradient mode and functional gradients. Grad mode is thread-local in LibTorch: these set it for
 * the JS thread; native async work (training steps) receives the mode explicitly.
 */
import { native } from './native';
import { Tensor } from './tensor';
import { knownOptions, typeError } from './validate';
import { Function } from './autograd-function';

const N = native();

// Grad mode belongs to the JS thread (LibTorch's is thread-local), not to an async context: while an async fn's
// promise is pending its mode stays set, for its own continuations (and for any other code that runs in that
// window, as with torch.no_grad() around an await in Python). Each scope restoring the mode it saw at its start
// goes wrong once scopes overlap: two noGrad calls that settled in the order they began left "off" for good.
// So the mode is restored from a record: the async scopes still pending (the innermost one's mode applies), the
// mode outside all of them (`baseMode`), and the modes seen by the synchronous scopes now running (a
// call stack, so the outermost one's is the mode outside everything when an async scope opens inside it).
const openScopes: { enabled: boolean }[] = [];
const syncPrev: boolean[] = [];
let baseMode = true;

function modeAfterScope(fallback: boolean): boolean {
  return openScopes.length > 0 ? openScopes[openScopes.length - 1].enabled : fallback;
}

function withGradMode<T>(op: string, enabled: boolean, fn: () => T): T {
  if (typeof fn !== 'function') throw typeError(op, 'fn', 'a function', fn);
  const prev = N.isGradEnabled();
  N.setGradEnabled(enabled);
  syncPrev.push(prev);
  const openBefore = openScopes.length;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    syncPrev.pop();
    N.setGradEnabled(modeAfterScope(prev));
    throw e;
  }
  syncPrev.pop();
  if (result instanceof Promise) {
    if (openScopes.length === 0) baseMode = syncPrev.length > 0 ? syncPrev[0] : prev;
    // Below the scopes fn itself opened (they are nested in this one, so their modes take precedence).
    const scope = { enabled };
    openScopes.splice(openBefore, 0, scope);
    N.setGradEnabled(modeAfterScope(enabled));
    return result.finally(() => {
      openScopes.splice(openScopes.indexOf(scope), 1);
      N.setGradEnabled(modeAfterScope(baseMode));
    }) as T;
  }
  N.setGradEnabled(modeAfterScope(prev));
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

/** Functional autograd and custom functions, like `torch.autograd`. */
export const autograd = {
  /** Custom differentiable operations with a backward written in TypeScript (`torch.autograd.Function`). */
  Function,
  /** Gradients of `outputs` with respect to `inputs`, returned (not accumulated into `.grad`). */
  grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    const ins = Array.isArray(inputs) ? inputs : [inputs];
    for (const [name, list] of [['outputs', outs], ['inputs', ins]] as const) {
      list.forEach((t, k) => {
        if (!(t instanceof Tensor)) throw typeError('autograd.grad', `${name}[${k}]`, 'a Tensor', t);
      });
    }
    knownOptions('autograd.grad', options, ['gradOutputs', 'retainGraph', 'createGraph', 'allowUnused']);
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
  /**
   * Backpropagates from several tensors at once, accumulating into the leaves' `.grad` (PyTorch's
   * `torch.autograd.backward`): `gradTensors` gives one gradient per tensor (null for a scalar, which gets 1).
   * One pass over the graph: the tensors are joined as Σ (tᵢ · gᵢ).sum(), whose gradient with respect to each tᵢ
   * is exactly gᵢ.
   */
  backward(tensors: Tensor | Tensor[], gradTensors: Tensor | (Tensor | null)[] | null = null, options: BackwardOptions = {}): void {
    const op = 'autograd.backward';
    const ts = Array.isArray(tensors) ? tensors : [tensors];
    const gs = gradTensors === null ? ts.map(() => null) : Array.isArray(gradTensors) ? gradTensors : [gradTensors];
    if (ts.length === 0) throw typeError(op, 'tensors', 'at least one Tensor', tensors);
    if (gs.length !== ts.length) throw typeError(op, 'gradTensors', `${ts.length} gradients (one per tensor, null for a scalar)`, gradTensors);
    ts.forEach((t, k) => {
      if (!(t instanceof Tensor)) throw typeError(op, `tensors[${k}]`, 'a Tensor', t);
      const g = gs[k];
      if (g !== null && g !== undefined && !(g instanceof Tensor)) throw typeError(op, `gradTensors[${k}]`, 'a Tensor or null', g);
    });
    knownOptions(op, options, ['retainGraph', 'createGraph']);
    if (ts.length === 1) {
      ts[0].backward(gs[0] ?? undefined, options);
      return;
    }
    const joined: Tensor[] = [];
    // The join is recorded even where grad mode is off (a custom function's backward runs so).
    try {
      let total: Tensor | null = null;
      ts.forEach((t, k) => {
        const g = gs[k];
        if (!g && t.numel() !== 1) throw new RangeError(`${op}: tensors[${k}] has ${t.numel()} elements; give its gradient in gradTensors[${k}] (only a scalar's may be null)`);
        const prev: Tensor | null = total;
        const term = enableGrad(() => (g ? t.mul(g).sum() : t.sum()));
        joined.push(term);
        total = prev === null ? term : enableGrad(() => prev.add(term));
        if (total !== term) joined.push(total);
      });
      (total as unknown as Tensor).backward(undefined, options);
    } finally {
      for (const t of joined) t.dispose();
    }
  },
};

/** Options of `autograd.backward`. */
export interface BackwardOptions {
  /** Keep the graph for another backward pass (defaults to createGraph). */
  retainGraph?: boolean;
  /** Record the gradient computation, for higher-order derivatives. */
  createGraph?: boolean;
}
