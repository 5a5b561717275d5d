/**
 * `nn.ModuleList` and `nn.ModuleDict`: containers that register their modules as children (so parameters,
 * state dicts, `to`, `train`/`eval` and disposal reach them) and have no forward of their own, for networks
 * written in TypeScript whose forward loops over blocks or picks heads by name.
 */
import { checkInt, rangeError, typeError } from '../validate';
import { Module } from './module';

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
