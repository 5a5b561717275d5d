/**
 * One helper for argument errors, so every message reads the same:
 * "zeros: expected an array of non-negative integers for shape but received [2, -1] (object)".
 */

function show(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `"${value}" (string)`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${String(value)} (${typeof value})`;
  if (Array.isArray(value)) {
    const body = value.length > 8 ? `${value.slice(0, 8).map(String).join(', ')}, …` : value.map(String).join(', ');
    return `[${body}] (array of ${value.length})`;
  }
  if (typeof value === 'function') return 'a function';
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** A TypeError: "op: expected <expected> for <arg> but received <value>". */
export function typeError(op: string, arg: string, expected: string, received: unknown): TypeError {
  return new TypeError(`${op}: expected ${expected} for ${arg} but received ${show(received)}`);
}

/** A RangeError with the same wording, for values of the right type but out of range. */
export function rangeError(op: string, arg: string, expected: string, received: unknown): RangeError {
  return new RangeError(`${op}: expected ${expected} for ${arg} but received ${show(received)}`);
}

/** Checks an integer (optionally within [min, max]). */
export function checkInt(op: string, arg: string, value: unknown, min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(op, arg, 'an integer', value);
  if (value < min || value > max) throw rangeError(op, arg, `an integer between ${min} and ${max}`, value);
  return value;
}

/** Checks a boolean. */
export function checkBool(op: string, arg: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw typeError(op, arg, 'a boolean', value);
  return value;
}

/** Checks a finite number. */
export function checkNumber(op: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw typeError(op, arg, 'a finite number', value);
  return value;
}

/** The shape that `shapes` broadcast to (NumPy's rule, as torch.broadcast_shapes), or null when they do not. */
export function broadcastShapes(...shapes: readonly number[][]): number[] | null {
  const n = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let size = 1;
    for (const s of shapes) {
      const d = s[s.length - n + i] ?? 1;
      if (d === 1) continue;
      if (size !== 1 && size !== d) return null;
      size = d;
    }
    out.push(size);
  }
  return out;
}

/** Checks a shape: an array of non-negative integers whose product stays exact in a double. */
export function checkShape(op: string, arg: string, value: unknown): number[] {
  if (!Array.isArray(value)) throw typeError(op, arg, 'an array of non-negative integers', value);
  let n = 1;
  for (const s of value) {
    if (typeof s !== 'number' || !Number.isInteger(s)) throw typeError(op, arg, 'an array of non-negative integers', value);
    if (s < 0) throw rangeError(op, arg, 'an array of non-negative integers', value);
    n *= s;
  }
  if (n > Number.MAX_SAFE_INTEGER) throw rangeError(op, arg, `at most ${Number.MAX_SAFE_INTEGER} elements in all`, value);
  return value as number[];
}

/** Checks a scalar operand: a bigint must fit int64 (the addon would otherwise wrap it silently). */
export function checkScalar<T>(op: string, arg: string, value: T): T {
  if (typeof value === 'bigint' && (value < -(2n ** 63n) || value >= 2n ** 63n)) {
    throw rangeError(op, arg, 'a bigint within the int64 range', value);
  }
  return value;
}

/** Checks one of a fixed set of strings. */
export function checkOneOf<T extends string>(op: string, arg: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw typeError(op, arg, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  }
  return value as T;
}

// Edit distance between two short strings (for "did you mean" suggestions).
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** The allowed name closest to `name` (ignoring case, `_` and `-`), if one is close enough to be a likely typo. */
export function closestName(name: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = norm(a) === norm(name) ? 0 : distance(norm(name), norm(a));
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * Checks that `options` is a plain object whose keys are all in `allowed`: an unknown key is a TypeError
 * naming it and the closest allowed name ("fit: unknown option 'batch_size'; did you mean 'batchSize'?").
 */
export function checkKeys(op: string, what: string, options: unknown, allowed: readonly string[]): void {
  // A plain object only: a Date, Map or class instance has no own keys and would pass as "no options".
  const proto = options !== null && typeof options === 'object' ? Object.getPrototypeOf(options) : undefined;
  if (proto === undefined || (proto !== Object.prototype && proto !== null)) throw typeError(op, what, `an object with keys among ${allowed.join(', ')}`, options);
  for (const k of Object.keys(options as object)) {
    if (allowed.includes(k)) continue;
    const near = closestName(k, allowed);
    throw new TypeError(`${op}: unknown ${what === 'options' ? 'option' : `key in ${what}`} '${k}'${near ? `; did you mean '${near}'?` : ''} (known: ${allowed.join(', ')})`);
  }
}

/**
 * An options argument: undefined (no options) or a plain object whose keys are all in `known` (unknown options
 * are errors, not ignored: `checkKeys`' TypeError, with the closest known name). Returns the options.
 */
export function knownOptions(op: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  checkKeys(op, 'options', options, known);
  return options as Record<string, unknown>;
}
