/**
 * `nn.ModuleList` and `nn.ModuleDict`: containers that register their modules as children (so parameters,
 * state dicts, `to`, `train`/`eval` and disposal reach them) and have no forward of their own, for networks
 * written in TypeScript whose forward loops over blocks or picks heads by name; `nn.ParameterList` and
 * `nn.ParameterDict`, the same for parameters.
 */
import { Tensor } from '../tensor';
import { checkInt, rangeError, typeError } from '../validate';
import { Module, Parameter } from './module';

/**
 * A list of modules registered as children "0", "1", ... (`torch.nn.ModuleList`): `list.get(i)` (negative
 * counts from the end) or `list[i]`, `length`, `append`, `extend`, `insert`, and `for (const m of list)`.
 * State-dict keys are PyTorch's (`blocks.0.weight`).
 */
export class ModuleList<T extends Module = Module> extends Module implements Iterable<T> {
  constructor(modules: Iterable<T> = []) {
    super();
    if (modules === null || typeof (modules as Iterable<T>)[Symbol.iterator] !== 'function') throw typeError('ModuleList', 'modules', 'an iterable of Modules', modules);
    this.extend(modules);
  }

  /** How many modules the list holds. */
  get length(): number {
    return this.namedChildren().length;
  }

  /** The module at `index` (negative counts from the end). */
  get(index: number): T {
    const n = this.length;
    checkInt('ModuleList.get', 'index', index);
    if (index < -n || index >= n) throw rangeError('ModuleList.get', 'index', `an index in [${-n}, ${n})`, index);
    return this.children()[index < 0 ? index + n : index] as T;
  }

  /** Adds a module at the end. */
  append(module: T): this {
    if (!(module instanceof Module)) throw typeError('ModuleList.append', 'module', 'a Module', module);
    this.registerModule(String(this.length), module);
    return this;
  }

  /** Adds every module of `modules` at the end. */
  extend(modules: Iterable<T>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** Inserts a module before `index`; the modules after it move up one place (and their state-dict keys with them). */
  insert(index: number, module: T): this {
    if (!(module instanceof Module)) throw typeError('ModuleList.insert', 'module', 'a Module', module);
    const items = this.children() as T[];
    const n = items.length;
    checkInt('ModuleList.insert', 'index', index);
    const at = Math.min(Math.max(index < 0 ? index + n : index, 0), n);
    items.splice(at, 0, module);
    for (let k = at; k < items.length; k++) this.registerModule(String(k), items[k]);
    return this;
  }

  /** The modules in order. */
  [Symbol.iterator](): Iterator<T> {
    return (this.children() as T[])[Symbol.iterator]();
  }

  /** A ModuleList has no forward: call its modules. */
  forward(): never {
    throw new TypeError('ModuleList.forward: a ModuleList has no forward of its own; call its modules (for (const m of list) x = m.forward(x))');
  }
}

/**
 * Modules under string keys, registered as children of those names (`torch.nn.ModuleDict`): `get`, `set`,
 * `has`, `delete`, `keys()`, `values()`, `entries()` and `size`, in insertion order. A key must be a valid child
 * name (non-empty, no "."), and not a method or property name of the class.
 */
export class ModuleDict<T extends Module = Module> extends Module {
  constructor(modules: Record<string, T> | Iterable<[string, T]> = {}) {
    super();
    if (modules === null || typeof modules !== 'object') throw typeError('ModuleDict', 'modules', 'an object or [key, Module] pairs', modules);
    const pairs = typeof (modules as Iterable<[string, T]>)[Symbol.iterator] === 'function' ? [...(modules as Iterable<[string, T]>)] : Object.entries(modules);
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2) throw typeError('ModuleDict', 'modules', '[key, Module] pairs', pair);
      this.set(pair[0], pair[1]);
    }
  }

  /** How many modules the dict holds. */
  get size(): number {
    return this.namedChildren().length;
  }

  /** The module under `key`. */
  get(key: string): T {
    const found = this.namedChildren().find(([k]) => k === key);
    if (!found) throw rangeError('ModuleDict.get', 'key', `one of the keys ${this.keys().join(', ') || '(none)'}`, key);
    return found[1] as T;
  }

  /** Whether a module is held under `key`. */
  has(key: string): boolean {
    return this.namedChildren().some(([k]) => k === key);
  }

  /** Puts `module` under `key` (replacing one already there). */
  set(key: string, module: T): this {
    if (typeof key !== 'string') throw typeError('ModuleDict.set', 'key', 'a string', key);
    if (!(module instanceof Module)) throw typeError('ModuleDict.set', key, 'a Module', module);
    this.registerModule(key, module);
    return this;
  }

  /** Removes the module under `key` (it is not disposed); returns whether there was one. */
  delete(key: string): boolean {
    if (!this.has(key)) return false;
    delete (this as unknown as Record<string, unknown>)[key];
    return true;
  }

  /** The keys, in insertion order. */
  keys(): string[] {
    return this.namedChildren().map(([k]) => k);
  }

  /** The modules, in insertion order. */
  values(): T[] {
    return this.children() as T[];
  }

  /** [key, module] pairs, in insertion order. */
  entries(): [string, T][] {
    return this.namedChildren() as [string, T][];
  }

  /** A ModuleDict has no forward: call its modules. */
  forward(): never {
    throw new TypeError("ModuleDict.forward: a ModuleDict has no forward of its own; call its modules (dict.get('head').forward(x))");
  }
}

// The Parameters the containers below made from plain tensors: theirs to dispose when replaced.
const wrapped = new WeakSet<Parameter>();

// Registers `v` under `name` of `target`, whose parameters are `order` (names, in order): a Parameter as it is,
// another tensor wrapped (sharing its memory, requiring grad), as PyTorch's ParameterList and ParameterDict wrap
// plain tensors. A wrapper this replaces is disposed; one whose registration fails too.
function registerTensor(target: Module, order: string[], op: string, name: string, v: unknown): void {
  if (!(v instanceof Tensor)) throw typeError(op, /^\d+$/.test(name) && op.startsWith('ParameterList') ? 'value' : name, 'a Tensor or an nn.Parameter', v);
  const p = v instanceof Parameter ? v : new Parameter(v);
  if (p !== v) wrapped.add(p);
  const before = order.includes(name) ? (target as unknown as Record<string, Parameter>)[name] : null;
  try {
    target.registerParameter(name, p);
  } catch (e) {
    if (p !== v) p.dispose();
    throw e;
  }
  if (!order.includes(name)) order.push(name);
  if (before && before !== p && wrapped.has(before)) before.dispose();
}

/**
 * A list of parameters registered as "0", "1", ... (`torch.nn.ParameterList`): `get(i)` (negative counts from the
 * end), `length`, `append`, `extend` and `for (const p of list)`. A tensor that is not a Parameter is wrapped in
 * one (sharing its memory and requiring grad), as PyTorch does. State-dict keys are PyTorch's (`weights.0`).
 *
 * ```ts
 * const heads = new nn.ParameterList([torch.randn([4, 4]), torch.randn([4])]);
 * const y = x.matmul(heads.get(0)).add(heads.get(1));
 * ```
 */
export class ParameterList extends Module implements Iterable<Parameter> {
  private readonly order: string[] = [];

  constructor(values: Iterable<Tensor> = []) {
    super();
    if (values === null || typeof (values as Iterable<Tensor>)[Symbol.iterator] !== 'function') throw typeError('ParameterList', 'values', 'an iterable of Tensors', values);
    this.extend(values);
  }

  /** How many parameters the list holds. */
  get length(): number {
    return this.order.length;
  }

  /** The parameter at `index` (negative counts from the end). */
  get(index: number): Parameter {
    const n = this.length;
    checkInt('ParameterList.get', 'index', index);
    if (index < -n || index >= n) throw rangeError('ParameterList.get', 'index', `an index in [${-n}, ${n})`, index);
    return (this as unknown as Record<string, Parameter>)[String(index < 0 ? index + n : index)];
  }

  /** Adds a parameter at the end (a plain tensor is wrapped in a Parameter sharing its memory). */
  append(value: Tensor): this {
    registerTensor(this, this.order, 'ParameterList.append', String(this.length), value);
    return this;
  }

  /** Adds every tensor of `values` at the end. */
  extend(values: Iterable<Tensor>): this {
    for (const v of values) this.append(v);
    return this;
  }

  /** The parameters in order. */
  [Symbol.iterator](): Iterator<Parameter> {
    return Array.from({ length: this.length }, (_, i) => this.get(i))[Symbol.iterator]();
  }

  /** A ParameterList has no forward: use its parameters. */
  forward(): never {
    throw new TypeError('ParameterList.forward: a ParameterList has no forward of its own; use its parameters (list.get(0))');
  }
}

/**
 * Parameters under string keys, registered under those names (`torch.nn.ParameterDict`): `get`, `set`, `has`,
 * `pop`, `keys()`, `values()`, `entries()` and `size`, in insertion order. A tensor that is not a Parameter is
 * wrapped in one (sharing its memory, requiring grad). A key must be a valid name (non-empty, no "."), and not a
 * method or property name of the class. State-dict keys are the keys.
 *
 * ```ts
 * const scales = new nn.ParameterDict({ low: torch.ones([3]), high: torch.zeros([3]) });
 * const y = x.mul(scales.get('low'));
 * ```
 */
export class ParameterDict extends Module {
  private readonly order: string[] = [];

  constructor(parameters: Record<string, Tensor> | Iterable<[string, Tensor]> = {}) {
    super();
    if (parameters === null || typeof parameters !== 'object') throw typeError('ParameterDict', 'parameters', 'an object or [key, Tensor] pairs', parameters);
    const pairs = typeof (parameters as Iterable<[string, Tensor]>)[Symbol.iterator] === 'function' ? [...(parameters as Iterable<[string, Tensor]>)] : Object.entries(parameters);
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2) throw typeError('ParameterDict', 'parameters', '[key, Tensor] pairs', pair);
      this.set(pair[0], pair[1]);
    }
  }

  /** How many parameters the dict holds. */
  get size(): number {
    return this.order.length;
  }

  /** The parameter under `key`. */
  get(key: string): Parameter {
    if (!this.has(key)) throw rangeError('ParameterDict.get', 'key', `one of the keys ${this.keys().join(', ') || '(none)'}`, key);
    return (this as unknown as Record<string, Parameter>)[key];
  }

  /** Whether a parameter is held under `key`. */
  has(key: string): boolean {
    return this.order.includes(key);
  }

  /**
   * Puts `value` under `key` (a plain tensor wrapped in a Parameter sharing its memory), replacing the parameter
   * there (disposed if the dict made it from a plain tensor; a Parameter you gave is left to you).
   */
  set(key: string, value: Tensor): this {
    if (typeof key !== 'string') throw typeError('ParameterDict.set', 'key', 'a string', key);
    registerTensor(this, this.order, 'ParameterDict.set', key, value);
    return this;
  }

  /** Removes the parameter under `key` and returns it (yours to dispose), as PyTorch's `pop`. */
  pop(key: string): Parameter {
    const p = this.get(key);
    delete (this as unknown as Record<string, unknown>)[key];
    this.order.splice(this.order.indexOf(key), 1);
    wrapped.delete(p);
    return p;
  }

  /** The keys, in insertion order. */
  keys(): string[] {
    return [...this.order];
  }

  /** The parameters, in insertion order. */
  values(): Parameter[] {
    return this.keys().map((k) => this.get(k));
  }

  /** [key, parameter] pairs, in insertion order. */
  entries(): [string, Parameter][] {
    return this.keys().map((k) => [k, this.get(k)]);
  }

  /** A ParameterDict has no forward: use its parameters. */
  forward(): never {
    throw new TypeError("ParameterDict.forward: a ParameterDict has no forward of its own; use its parameters (dict.get('scale'))");
  }
}
