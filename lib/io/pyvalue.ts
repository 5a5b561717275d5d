/**
 * Python values in JavaScript: how the values inside a PyTorch file appear in JS (`load`), and how JS
 * values are written to one (`save`).
 *
 * ```text
 * Python              read as                                        written from
 * ------------------  ---------------------------------------------  -----------------------------------------
 * None                null                                           null
 * bool                boolean                                        boolean
 * int                 number, or bigint beyond ±(2^53 - 1)           an integral number (not -0), a bigint
 * float               number                                         a non-integral number, NaN, ±Infinity, -0,
 *                                                                    or py.float(n) for an integral float (lr 1 → 1.0)
 * str                 string                                         string
 * list                Array                                          Array
 * tuple               Array, marked (py.isTuple)                     py.tuple([...]), or an array read as a tuple
 * dict                plain object when every key is a str,          plain object (str keys); Map (keys str,
 *                     else Map (optimizer state dicts: int keys)     number, bigint, boolean or null)
 * OrderedDict         as dict, marked (py.isOrderedDict); its        py.orderedDict(object or Map)
 *                     attributes (a state dict's _metadata) kept
 *                     for re-saving (py.attributes)
 * torch.Tensor /      Tensor: CPU, contiguous, its own memory        Tensor (any device; copied to the CPU)
 * nn.Parameter
 * ```
 *
 * Keys such as `"__proto__"` are ordinary own properties of the objects read (never a prototype).
 * JavaScript lists the integer-like string keys of an object ("2", "10") first and in numeric order,
 * whatever the file's order; other keys keep the file's order. A Python float that happens to be
 * integral (1.0) reads as the number 1 and is written back as int 1 unless wrapped with `py.float`.
 * Marks (tuple, OrderedDict) live beside the values (in WeakSets), so they do not show up as
 * properties; a copy (`[...t]`, `{...d}`) drops them.
 */

const TUPLES = new WeakSet<object>();
const ORDERED = new WeakSet<object>();
const ATTRIBUTES = new WeakMap<object, Record<string, unknown>>();

/** A number to be written as a Python float even when it is integral. Create with `py.float(n)`. */
export class PyFloat {
  constructor(readonly value: number) {
    if (typeof value !== 'number') throw new TypeError(`py.float: expected a number but received ${typeof value}`);
  }
  /** The number itself. */
  valueOf(): number {
    return this.value;
  }
}

/** Marks `n` to be written as a Python float (`1` → `1.0`): learning rates and other float fields. */
export function float(n: number): PyFloat {
  return new PyFloat(n);
}

/** A copy of `items` marked as a Python tuple (written as a tuple; `isTuple` is true for it). */
export function tuple<T>(items: readonly T[]): T[] {
  if (!Array.isArray(items)) throw new TypeError('py.tuple: expected an array of items');
  const t = [...items];
  TUPLES.add(t);
  return t;
}

/** True for an array read from a Python tuple or made by `py.tuple`. */
export function isTuple(value: unknown): boolean {
  return Array.isArray(value) && TUPLES.has(value);
}

/** Marks a plain object or Map (in place) to be written as a `collections.OrderedDict`; returns it. */
export function orderedDict<T extends object>(value: T): T {
  const plain = value !== null && typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);
  if (!(value instanceof Map) && !plain) throw new TypeError('py.orderedDict: expected a plain object or a Map');
  ORDERED.add(value);
  return value;
}

/** True for a dict read from an OrderedDict or marked by `py.orderedDict`. */
export function isOrderedDict(value: unknown): boolean {
  return value !== null && typeof value === 'object' && ORDERED.has(value);
}

/**
 * The Python attributes of an OrderedDict (a state dict's `{_metadata: ...}`), or undefined. Setting them
 * (`attributes(d, {...})`) marks `d` as an OrderedDict and writes them back when it is saved.
 */
export function attributes(dict: object, set?: Record<string, unknown>): Record<string, unknown> | undefined {
  if (set !== undefined) {
    orderedDict(dict);
    ATTRIBUTES.set(dict, set);
  }
  return ATTRIBUTES.get(dict);
}
