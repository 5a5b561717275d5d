/**
 * tidy(fn): a scope that disposes every tensor created inside it except what fn returns.
 * Scopes follow async continuations (AsyncLocalStorage), so `await tidy(async () => ...)` works too,
 * and concurrent async scopes do not see each other's tensors.
 */
import { AsyncLocalStorage } from 'async_hooks';
import { typeError } from './validate';

/** Anything with a dispose() that a scope can track: tensors, and later modules. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

class Scope {
  readonly tracked = new Set<Disposable>();
  /** Set when the scope has disposed what it tracked: later tensors belong to the nearest open scope above. */
  closed = false;
  constructor(readonly parent: Scope | undefined) {}
}

const storage = new AsyncLocalStorage<Scope>();

/** Called by every Tensor constructor: the tensor belongs to the innermost scope, if any. */
export function track(t: Disposable): void {
  openScope()?.tracked.add(t);
}

/**
 * @internal Runs a JS function that native code calls and whose result it takes at once (a tensor hook, a custom
 * function's backward). Inside an open tidy scope it runs as it is: that scope disposes what it creates. With
 * none open (a Trainer step's backward, or a backward() outside tidy) it runs in a scope of its own, closed in a
 * microtask, after the native caller has taken the result: the wrappers it made (the incoming gradients, its
 * result) are freed rather than left to the garbage collector. What it stores for later needs keep().
 */
export function forNative<T>(fn: () => T): T {
  if (openScope() !== undefined) return fn();
  let result: T | undefined;
  let failed = false;
  let error: unknown;
  void tidy(async () => {
    try {
      result = fn();
    } catch (e) {
      failed = true;
      error = e;
    }
  });
  if (failed) throw error;
  return result as T;
}

// The innermost scope still open. Code can run in the async context of a scope that has closed since: a callback
// whose context was captured inside a tidy (a native thread-safe function created during an awaited tidy, a timer
// set in one). What it creates must not go to that closed scope, which would never dispose it.
function openScope(from: Scope | undefined = storage.getStore()): Scope | undefined {
  let s = from;
  while (s && s.closed) s = s.parent;
  return s;
}

/** Removes a tensor from every enclosing scope, so no tidy() disposes it. Returns it. */
export function keep<T extends Disposable>(t: T): T {
  if (typeof t !== 'object' || t === null || typeof (t as Disposable).dispose !== 'function') {
    throw typeError('keep', 'tensor', 'a Tensor (or another disposable)', t);
  }
  for (let s = storage.getStore(); s; s = s.parent) s.tracked.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Disposable>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (typeof (value as Disposable).dispose === 'function' && 'isDisposed' in (value as object)) {
    out.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, seen);
  }
}

function close(scope: Scope, result: unknown): void {
  const kept = new Set<Disposable>();
  collect(result, kept, new Set());
  for (const t of scope.tracked) {
    if (kept.has(t)) openScope(scope.parent)?.tracked.add(t);
    else t.dispose();
  }
  scope.tracked.clear();
  scope.closed = true;
}

/**
 * Runs fn and disposes every tensor created during it, except the tensors in its result (a tensor,
 * or arrays / plain objects / Maps holding tensors), which move to the enclosing scope.
 * If fn returns a promise, disposal waits for it; the returned promise resolves to fn's value.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw typeError('tidy', 'fn', 'a function', fn);
  const scope = new Scope(openScope());
  let result: T;
  try {
    result = storage.run(scope, fn);
  } catch (e) {
    close(scope, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (v) => {
        close(scope, v);
        return v;
      },
      (e) => {
        close(scope, undefined);
        throw e;
      },
    ) as T;
  }
  close(scope, result);
  return result;
}
