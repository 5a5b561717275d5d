/**
 * deepCopy: Python's `copy.deepcopy` for what experiments copy: a model (for an exponential moving average, a
 * teacher, `optim.AveragedModel`), a state dict (`best = deepCopy(model.stateDict())`), or any arrays, plain
 * objects, Maps and Sets holding them.
 *
 * ```ts
 * const ema = torch.deepCopy(model);           // same class, options, values, devices, modes; its own tensors
 * const best = torch.deepCopy(model.stateDict());
 * ```
 *
 * - A module is copied as Python copies one: a new object of its class (the constructor does not run), with
 *   copies of its children, parameters, buffers and fields, the same training mode and its hooks. Built-in
 *   layers are copied natively (their options stay, a generator given as an option stays shared).
 * - A tensor becomes a new tensor with its own memory, the same dtype, device, memory format and
 *   `requiresGrad`, and a copy of its gradient; a Parameter stays a Parameter. As in PyTorch, only graph leaves
 *   can be copied (a tensor computed from tensors that require grad cannot: detach it first).
 * - Arrays, plain objects, Maps, Sets, typed arrays, Buffers and Dates are copied; numbers, strings and the
 *   like are themselves. Functions and objects of other classes (a Generator, an optimiser) are shared, not
 *   copied. An object reachable twice is copied once, so shared modules stay shared in the copy.
 * - JavaScript gives no access to `#private` fields: a module class that keeps state in them cannot be
 *   copied this way (TypeScript's `private` fields are copied).
 */
import { noGrad } from './autograd';
import { Module, Parameter, copyModule } from './nn/module';
import { tidy } from './scope';
import { Tensor } from './tensor';

/** A deep copy of `value` (see the file comment): modules, tensors and the containers holding them. */
export function deepCopy<T>(value: T): T {
  const memo = new Map<unknown, unknown>();
  const copy = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (memo.has(v)) return memo.get(v);
    let out: unknown;
    if (v instanceof Module) return copyModule(v, copy, memo);
    if (v instanceof Tensor) {
      out = copyTensor(v);
    } else if (Array.isArray(v)) {
      const a: unknown[] = [];
      memo.set(v, a);
      for (const x of v) a.push(copy(x));
      return a;
    } else if (v instanceof Map) {
      const m = new Map();
      memo.set(v, m);
      for (const [k, x] of v) m.set(copy(k), copy(x));
      return m;
    } else if (v instanceof Set) {
      const s = new Set();
      memo.set(v, s);
      for (const x of v) s.add(copy(x));
      return s;
    } else if (Buffer.isBuffer(v)) {
      out = Buffer.from(v);
    } else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      out = (v as unknown as { slice(): unknown }).slice();
    } else if (v instanceof Date) {
      out = new Date(v.getTime());
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return v; // another class's object: shared
      const o: Record<string | symbol, unknown> = Object.create(proto);
      memo.set(v, o);
      for (const key of Reflect.ownKeys(v)) {
        const desc = Object.getOwnPropertyDescriptor(v, key)!;
        if ('value' in desc) desc.value = copy(desc.value);
        Object.defineProperty(o, key, desc);
      }
      return o;
    }
    memo.set(v, out);
    return out;
  };
  return copy(value) as T;
}

function copyTensor(t: Tensor): Tensor {
  if (t.isDisposed) throw new TypeError('deepCopy: a tensor has been disposed; a disposed tensor cannot be copied');
  if (t.requiresGrad && !t.isLeaf) {
    throw new TypeError(
      `deepCopy: only tensors created explicitly (graph leaves) can be copied, as in PyTorch; this one was computed (${t.gradFn}) from tensors that require grad: detach() it first`,
    );
  }
  return tidy(() => {
    const data = noGrad(() => t.clone());
    const out = t instanceof Parameter ? new Parameter(data, t.requiresGrad) : data.requiresGrad_(t.requiresGrad);
    const g = t.grad;
    if (g) out.grad = noGrad(() => g.clone());
    return out;
  });
}
