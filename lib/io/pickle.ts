/**
 * Pickle, Python's object serialisation, restricted to data: a bounded unpickler and a protocol-2
 * pickler, as `torch.save` writes a file's `data.pkl`.
 *
 * The unpickler runs no code. A `GLOBAL` names a function or class; only those the caller allows
 * (`UnpickleHooks.resolveGlobal`), `collections.OrderedDict` and `collections.Counter` can be used, and only as the data
 * calls they stand for. Every stack, memo and mark operation is checked; every length is checked
 * against the bytes left before anything is allocated; values nest at most `maxDepth` levels; and
 * mutable containers can only be filled before they are placed inside another one (as Python's pickler
 * always writes them), so a file cannot build cycles, and the expanded size of what shared references
 * describe is counted and bounded (`maxNodes`). A violation is a `PickleError` naming the byte offset.
 * The work is linear in the size of the pickle.
 *
 * The unpickler returns a raw tree (`PyList`, `PyTuple`, `PyDict`, primitives and the caller's own
 * objects); `toJs` turns it into the JS values described in `pyvalue.ts`.
 */
import { attributes, isOrderedDict, isTuple, orderedDict, PyFloat, tuple } from './pyvalue';

/** Nesting bound shared by reader and writer: whatever `pickle` writes, `unpickle` reads. */
export const MAX_DEPTH = 100;

/** A malformed or disallowed pickle; `offset` is the byte of the opcode at fault. */
export class PickleError extends Error {
  constructor(
    message: string,
    /** Byte offset of the opcode at fault (reading), or -1 (writing). */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'PickleError';
  }
}

// ---------------------------------------------------------------- the raw tree

/** Base of the mutable containers of a raw tree: its nesting depth and expanded size so far. */
export abstract class PyContainer {
  /** 1 + the deepest child container's depth. */
  depth = 1;
  /** Values in the expanded tree under it, itself included (shared children count each time). */
  nodes = 1;
  /** Set once the container is inside another one: from then on it can no longer change. */
  sealed = false;
}

/** A Python list. */
export class PyList extends PyContainer {
  readonly items: unknown[] = [];
}

/** A Python tuple (immutable once made). */
export class PyTuple extends PyContainer {
  constructor(readonly items: readonly unknown[]) {
    super();
  }
}

/** A Python dict or OrderedDict: entries in insertion order; keys str, int, float, bool or None. */
export class PyDict extends PyContainer {
  readonly entries: [unknown, unknown][] = [];
  private readonly index = new Map<string, number>();
  /** The attributes set on an OrderedDict by BUILD (a state dict's `_metadata`). */
  attributes: PyDict | null = null;
  constructor(readonly ordered: boolean) {
    super();
  }
  /** The value under a str key, or undefined. */
  get(key: string): unknown {
    const i = this.index.get(`s${key}`);
    return i === undefined ? undefined : this.entries[i][1];
  }
  /** True when every key is a str. */
  get stringKeys(): boolean {
    return this.entries.every(([k]) => typeof k === 'string');
  }
  /** @internal Python dict assignment: a key equal to an earlier one replaces its value in place. */
  put(key: unknown, value: unknown, fail: (why: string) => never): void {
    const h = hashKey(key, fail);
    const i = this.index.get(h);
    if (i === undefined) {
      this.index.set(h, this.entries.length);
      this.entries.push([key, value]);
    } else {
      this.entries[i][1] = value;
    }
  }
}

// Python's key equality for the hashable data types: 1, 1.0 and True are one key.
function hashKey(key: unknown, fail: (why: string) => never): string {
  if (typeof key === 'string') return `s${key}`;
  if (key === null) return 'n';
  if (typeof key === 'boolean') return key ? 'i1' : 'i0';
  if (typeof key === 'bigint') return `i${key}`;
  if (typeof key === 'number') return Number.isInteger(key) ? `i${BigInt(key)}` : `f${key}`;
  return fail(`a dict key is ${describe(key)}; keys must be str, int, float, bool or None`);
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyList) return 'a list';
  if (v instanceof PyTuple) return 'a tuple';
  if (v instanceof PyDict) return v.ordered ? 'an OrderedDict' : 'a dict';
  if (v instanceof GlobalRef) return `the global ${v.callable.qualname}`;
  if (typeof v === 'object') return (v as object).constructor?.name ? `a ${(v as object).constructor.name}` : 'an object';
  return `a ${typeof v}`;
}

/** A function or class the file may call by name (GLOBAL), with the data calls it stands for. */
export interface PyCallable {
  /** `module.name`, for messages. */
  readonly qualname: string;
  /** REDUCE: the call `f(*args)`. */
  call?(args: readonly unknown[], fail: (why: string) => never): unknown;
  /** NEWOBJ: `cls.__new__(cls, *args)`. */
  construct?(args: readonly unknown[], fail: (why: string) => never): unknown;
}

/** A GLOBAL on the stack. */
class GlobalRef {
  constructor(readonly callable: PyCallable) {}
}

/** What the caller of `unpickle` decides. */
export interface UnpickleHooks {
  /**
   * What `module.name` stands for, or undefined when it is not allowed: a `PyCallable` (something with
   * `call` or `construct`), or any other object, which is then a plain value (a storage type, for PyTorch).
   */
  resolveGlobal(module: string, name: string): PyCallable | object | undefined;
  /** BINPERSID: the object a persistent id names (a storage, for PyTorch). */
  persistentLoad?(pid: unknown, fail: (why: string) => never): object;
  /** BUILD on one of the caller's objects; return false to refuse. */
  build?(inst: object, state: unknown, fail: (why: string) => never): boolean;
}

/** Bounds on what a pickle may describe. */
export interface UnpickleLimits {
  /** Deepest nesting of containers (default `MAX_DEPTH`). */
  maxDepth: number;
  /** Most values in the expanded tree (shared references counted each time they appear). */
  maxNodes: number;
  /** Longest integer (LONG1/LONG4) in bytes (default 64: 512-bit integers). */
  maxIntBytes: number;
}

const ORDERED_DICT: PyCallable = {
  qualname: 'collections.OrderedDict',
  call(args, fail) {
    if (args.length !== 0) fail('collections.OrderedDict is called with arguments; only OrderedDict() (then filled by SETITEMS) is supported');
    return new PyDict(true);
  },
};

// collections.Counter(dict), as a scheduler's state holds it (MultiStepLR's milestones): read as the dict it counts.
const COUNTER: PyCallable = {
  qualname: 'collections.Counter',
  call(args, fail) {
    const given = args[0];
    if (args.length !== 1 || !(given instanceof PyDict) || given.ordered) return fail('collections.Counter is called with something other than one dict; only Counter({...}) is supported');
    const counts = new PyDict(false);
    for (const [k, v] of given.entries) {
      if (typeof v !== 'number' && typeof v !== 'bigint') fail(`a collections.Counter holds ${describe(v)}; only integer counts are supported`);
      counts.put(k, v, fail);
    }
    return counts;
  },
};

// Opcodes (pickletools' names).
const MARK = 0x28, STOP = 0x2e, POP = 0x30, POP_MARK = 0x31, DUP = 0x32, BINFLOAT = 0x47, BININT = 0x4a, BININT1 = 0x4b,
  BININT2 = 0x4d, NONE = 0x4e, BINPERSID = 0x51, REDUCE = 0x52, BINSTRING = 0x54, SHORT_BINSTRING = 0x55, BINUNICODE = 0x58,
  EMPTY_LIST = 0x5d, APPEND = 0x61, BUILD = 0x62, GLOBAL = 0x63, DICT = 0x64, APPENDS = 0x65, BINGET = 0x68, LONG_BINGET = 0x6a,
  LIST = 0x6c, BINPUT = 0x71, LONG_BINPUT = 0x72, SETITEM = 0x73, TUPLE = 0x74, SETITEMS = 0x75, EMPTY_DICT = 0x7d,
  EMPTY_TUPLE = 0x29, PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89,
  LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95;

const NAMES: Record<number, string> = {
  [MARK]: 'MARK', [STOP]: 'STOP', [POP]: 'POP', [POP_MARK]: 'POP_MARK', [DUP]: 'DUP', [BINFLOAT]: 'BINFLOAT', [BININT]: 'BININT',
  [BININT1]: 'BININT1', [BININT2]: 'BININT2', [NONE]: 'NONE', [BINPERSID]: 'BINPERSID', [REDUCE]: 'REDUCE', [BINSTRING]: 'BINSTRING',
  [SHORT_BINSTRING]: 'SHORT_BINSTRING', [BINUNICODE]: 'BINUNICODE', [EMPTY_LIST]: 'EMPTY_LIST', [APPEND]: 'APPEND', [BUILD]: 'BUILD',
  [GLOBAL]: 'GLOBAL', [DICT]: 'DICT', [APPENDS]: 'APPENDS', [BINGET]: 'BINGET', [LONG_BINGET]: 'LONG_BINGET', [LIST]: 'LIST',
  [BINPUT]: 'BINPUT', [LONG_BINPUT]: 'LONG_BINPUT', [SETITEM]: 'SETITEM', [TUPLE]: 'TUPLE', [SETITEMS]: 'SETITEMS',
  [EMPTY_DICT]: 'EMPTY_DICT', [EMPTY_TUPLE]: 'EMPTY_TUPLE', [PROTO]: 'PROTO', [NEWOBJ]: 'NEWOBJ', [TUPLE1]: 'TUPLE1',
  [TUPLE2]: 'TUPLE2', [TUPLE3]: 'TUPLE3', [NEWTRUE]: 'NEWTRUE', [NEWFALSE]: 'NEWFALSE', [LONG1]: 'LONG1', [LONG4]: 'LONG4',
  [SHORT_BINUNICODE]: 'SHORT_BINUNICODE', [BINUNICODE8]: 'BINUNICODE8', [STACK_GLOBAL]: 'STACK_GLOBAL', [MEMOIZE]: 'MEMOIZE', [FRAME]: 'FRAME',
};

// Opcodes Python has that this reader refuses: code execution, extension registries, out-of-band buffers,
// and text-protocol forms torch.save never writes.
const REFUSED: Record<number, string> = {
  0x49: 'INT', 0x4c: 'LONG', 0x46: 'FLOAT', 0x53: 'STRING', 0x56: 'UNICODE', 0x50: 'PERSID', 0x67: 'GET', 0x70: 'PUT',
  0x69: 'INST', 0x6f: 'OBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8e: 'BINBYTES8',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
};

const MAX_LINE = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads one pickle from `data` (which must end right after its STOP) into a raw tree. Throws a
 * `PickleError` for anything malformed, disallowed or beyond `limits`.
 */
export function unpickle(data: Uint8Array, hooks: UnpickleHooks, limits: Partial<UnpickleLimits> = {}): unknown {
  const maxDepth = limits.maxDepth ?? MAX_DEPTH;
  const maxNodes = limits.maxNodes ?? 10_000_000;
  const maxIntBytes = limits.maxIntBytes ?? 64;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = data.byteLength;
  let pos = 0;
  let at = 0; // offset of the opcode being run
  let op = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (why: string): never => {
    throw new PickleError(`byte ${at}${NAMES[op] ? ` (${NAMES[op]})` : ''}: ${why}`, at);
  };
  const need = (n: number, what: string): void => {
    if (n > end - pos) fail(`${what} needs ${n} bytes but only ${end - pos} remain (truncated or damaged)`);
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail(marks.length ? 'pops past the last MARK' : 'pops from an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail(marks.length ? 'needs a value after the last MARK but there is none' : 'needs a value but the stack is empty');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) fail('needs a MARK but there is none');
    stack = prev!;
    return items;
  };
  // Places `child` inside `parent`: seals the child and accounts depth and expanded size.
  const adopt = (parent: PyContainer, child: unknown): void => {
    if (child === parent) fail(`puts ${describe(parent)} inside itself`);
    if (child instanceof PyContainer) {
      child.sealed = true;
      if (child.depth + 1 > parent.depth) parent.depth = child.depth + 1;
      parent.nodes += child.nodes;
      if (parent.depth > maxDepth) fail(`values nest more than ${maxDepth} levels deep`);
    } else {
      if (child instanceof GlobalRef) fail(`the global ${child.callable.qualname} is used as a value; globals can only be called`);
      parent.nodes += 1;
    }
    if (parent.nodes > maxNodes) fail(`the values expand to more than ${maxNodes} items (through shared references)`);
  };
  const mutable = (v: unknown, kind: 'list' | 'dict'): PyList | PyDict => {
    const ok = kind === 'list' ? v instanceof PyList : v instanceof PyDict;
    if (!ok) fail(`expects a ${kind} but finds ${describe(v)}`);
    if ((v as PyContainer).sealed) fail(`changes a ${kind} after it was placed inside another value (files written by Python never do)`);
    return v as PyList | PyDict;
  };
  const makeTuple = (items: unknown[]): PyTuple => {
    const t = new PyTuple(items);
    for (const x of items) adopt(t, x);
    return t;
  };
  const setItems = (d: PyDict, items: unknown[]): void => {
    if (items.length % 2 !== 0) fail(`has ${items.length} values after its MARK; dict items come in key/value pairs`);
    for (let i = 0; i < items.length; i += 2) {
      adopt(d, items[i]);
      adopt(d, items[i + 1]);
      d.put(items[i], items[i + 1], fail);
    }
  };
  const readLine = (): string => {
    const stop = Math.min(end, pos + MAX_LINE + 1);
    let i = pos;
    while (i < stop && data[i] !== 0x0a) i++;
    if (i >= stop) fail(i >= end ? 'a text line runs past the end of the pickle' : `a text line is longer than ${MAX_LINE} bytes`);
    const s = decode(data.subarray(pos, i));
    pos = i + 1;
    return s;
  };
  const decode = (bytes: Uint8Array): string => {
    try {
      return utf8.decode(bytes);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const int = (v: bigint): number | bigint => (v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const readLong = (n: number): number | bigint => {
    if (n > maxIntBytes) fail(`an integer of ${n} bytes is longer than the ${maxIntBytes} bytes allowed`);
    need(n, 'the integer');
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[pos + i]);
    if (n > 0 && data[pos + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    pos += n;
    return int(v);
  };
  const string = (n: number | bigint, latin1: boolean): string => {
    if (typeof n === 'bigint' ? n > BigInt(end - pos) : n > end - pos) fail(`a string of ${n} bytes is declared but only ${end - pos} bytes remain (truncated or damaged)`);
    const bytes = data.subarray(pos, pos + Number(n));
    pos += Number(n);
    return latin1 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1') : decode(bytes);
  };
  const global = (module: string, name: string): unknown => {
    const c = module === 'collections' && name === 'OrderedDict' ? ORDERED_DICT : module === 'collections' && name === 'Counter' ? COUNTER : hooks.resolveGlobal(module, name);
    if (!c) fail(`the global ${module}.${name} is not allowed: only tensors, storages, OrderedDict, Counter and plain Python values are read (as torch.load with weights_only=True)`);
    const callable = c as PyCallable;
    return typeof callable.call === 'function' || typeof callable.construct === 'function' ? new GlobalRef(callable) : c;
  };

  for (;;) {
    if (pos >= end) {
      at = pos;
      op = 0;
      fail('the pickle ends without a STOP opcode (truncated)');
    }
    at = pos;
    op = data[pos++];
    switch (op) {
      case PROTO: {
        need(1, 'PROTO');
        const v = data[pos++];
        if (v > 5) fail(`pickle protocol ${v} is not supported (0 to 5 are)`);
        break;
      }
      case FRAME:
        need(8, 'FRAME');
        if (view.getBigUint64(pos, true) > BigInt(end - pos - 8)) fail('a frame runs past the end of the pickle');
        pos += 8;
        break;
      case STOP: {
        const v = pop();
        if (marks.length) fail('ends with an unclosed MARK');
        if (stack.length) fail(`ends with ${stack.length} unused values on the stack`);
        if (pos !== end) fail(`${end - pos} bytes follow the STOP opcode`);
        if (v instanceof GlobalRef) fail('the pickled value is a bare global');
        return v;
      }
      case MARK:
        marks.push(stack);
        stack = [];
        break;
      case POP:
        if (stack.length) stack.pop();
        else popMark();
        break;
      case POP_MARK:
        popMark();
        break;
      case DUP:
        stack.push(top());
        break;
      case NONE:
        stack.push(null);
        break;
      case NEWTRUE:
        stack.push(true);
        break;
      case NEWFALSE:
        stack.push(false);
        break;
      case BININT:
        need(4, 'BININT');
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case BININT1:
        need(1, 'BININT1');
        stack.push(data[pos++]);
        break;
      case BININT2:
        need(2, 'BININT2');
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case LONG1:
        need(1, 'LONG1');
        stack.push(readLong(data[pos++]));
        break;
      case LONG4: {
        need(4, 'LONG4');
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail(`negative integer length ${n}`);
        stack.push(readLong(n));
        break;
      }
      case BINFLOAT:
        need(8, 'BINFLOAT');
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case SHORT_BINUNICODE:
        need(1, 'SHORT_BINUNICODE');
        stack.push(string(data[pos++], false));
        break;
      case BINUNICODE: {
        need(4, 'BINUNICODE');
        const n = view.getUint32(pos, true);
        pos += 4;
        stack.push(string(n, false));
        break;
      }
      case BINUNICODE8: {
        need(8, 'BINUNICODE8');
        const n = view.getBigUint64(pos, true);
        pos += 8;
        stack.push(string(n, false));
        break;
      }
      case SHORT_BINSTRING:
        need(1, 'SHORT_BINSTRING');
        stack.push(string(data[pos++], true));
        break;
      case BINSTRING: {
        need(4, 'BINSTRING');
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail(`negative string length ${n}`);
        stack.push(string(n, true));
        break;
      }
      case EMPTY_TUPLE:
        stack.push(new PyTuple([]));
        break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const n = op - TUPLE1 + 1;
        if (stack.length < n) fail(`needs ${n} values but the stack${marks.length ? ' after the last MARK' : ''} holds ${stack.length}`);
        stack.push(makeTuple(stack.splice(stack.length - n, n)));
        break;
      }
      case TUPLE: {
        const t = makeTuple(popMark()); // before `stack` is read: popMark replaces it
        stack.push(t);
        break;
      }
      case EMPTY_LIST:
        stack.push(new PyList());
        break;
      case LIST: {
        const l = new PyList();
        for (const x of popMark()) {
          adopt(l, x);
          l.items.push(x);
        }
        stack.push(l);
        break;
      }
      case APPEND: {
        const x = pop();
        const l = mutable(top(), 'list') as PyList;
        adopt(l, x);
        l.items.push(x);
        break;
      }
      case APPENDS: {
        const items = popMark();
        const l = mutable(top(), 'list') as PyList;
        for (const x of items) {
          adopt(l, x);
          l.items.push(x);
        }
        break;
      }
      case EMPTY_DICT:
        stack.push(new PyDict(false));
        break;
      case DICT: {
        const d = new PyDict(false);
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case SETITEM: {
        const v = pop();
        const k = pop();
        setItems(mutable(top(), 'dict') as PyDict, [k, v]);
        break;
      }
      case SETITEMS: {
        const items = popMark();
        setItems(mutable(top(), 'dict') as PyDict, items);
        break;
      }
      case BINPUT:
      case LONG_BINPUT: {
        const n = op === BINPUT ? 1 : 4;
        need(n, NAMES[op]);
        const i = op === BINPUT ? data[pos] : view.getUint32(pos, true);
        pos += n;
        memo.set(i, top());
        break;
      }
      case MEMOIZE:
        memo.set(memo.size, top());
        break;
      case BINGET:
      case LONG_BINGET: {
        const n = op === BINGET ? 1 : 4;
        need(n, NAMES[op]);
        const i = op === BINGET ? data[pos] : view.getUint32(pos, true);
        pos += n;
        if (!memo.has(i)) fail(`memo entry ${i} was never stored`);
        stack.push(memo.get(i));
        break;
      }
      case GLOBAL: {
        const module = readLine();
        const name = readLine();
        stack.push(global(module, name));
        break;
      }
      case STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('expects a module name and a global name (two strings)');
        stack.push(global(module as string, name as string));
        break;
      }
      case REDUCE:
      case NEWOBJ: {
        const args = pop();
        const f = pop();
        if (!(f instanceof GlobalRef)) fail(`calls ${describe(f)}, which is not a callable global`);
        if (!(args instanceof PyTuple)) fail(`calls ${(f as GlobalRef).callable.qualname} with ${describe(args)} as arguments instead of a tuple`);
        const c = (f as GlobalRef).callable;
        const fn = op === REDUCE ? c.call : c.construct;
        if (!fn) fail(`${c.qualname} cannot be ${op === REDUCE ? 'called' : 'instantiated with NEWOBJ'}`);
        const result = fn!.call(c, (args as PyTuple).items, fail);
        stack.push(result);
        break;
      }
      case BUILD: {
        const state = pop();
        const inst = top();
        if (inst instanceof PyDict && inst.ordered) {
          if (inst.sealed) fail('changes an OrderedDict after it was placed inside another value');
          if (!(state instanceof PyDict) || !state.stringKeys) fail(`sets the attributes of an OrderedDict from ${describe(state)}; expected a dict with str keys`);
          if (inst.attributes) fail('sets the attributes of an OrderedDict twice');
          adopt(inst, state);
          inst.attributes = state as PyDict;
        } else if (inst !== null && typeof inst === 'object' && !(inst instanceof PyContainer) && !(inst instanceof GlobalRef) && hooks.build?.(inst, state, fail)) {
          // the caller's object took the state
        } else {
          fail(`sets state on ${describe(inst)}; only OrderedDicts (and the file format's own objects) take state`);
        }
        break;
      }
      case BINPERSID: {
        const pid = pop();
        if (!hooks.persistentLoad) fail('persistent ids are not allowed here');
        stack.push(hooks.persistentLoad!(pid, fail));
        break;
      }
      default:
        fail(REFUSED[op] ? `opcode ${REFUSED[op]} is not supported` : `unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

/** Sets an own enumerable property, also for the key "__proto__" (plain assignment would set the prototype). */
export function defineOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Turns a raw tree into JS values (see pyvalue.ts): lists → arrays, tuples → marked arrays, dicts with
 * str keys → plain objects, other dicts → Maps, OrderedDicts marked. `leaf` maps the caller's objects.
 * A container shared in the file is one JS object shared the same way.
 */
export function toJs(value: unknown, leaf: (v: object) => unknown): unknown {
  const done = new Map<PyContainer, unknown>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (!(v instanceof PyContainer)) return leaf(v);
    const seen = done.get(v);
    if (seen !== undefined) return seen;
    let out: unknown;
    if (v instanceof PyList) {
      out = v.items.map(walk);
    } else if (v instanceof PyTuple) {
      out = tuple(v.items.map(walk));
    } else {
      const d = v as PyDict;
      if (d.stringKeys) {
        const o: Record<string, unknown> = {};
        for (const [k, x] of d.entries) defineOwn(o, k as string, walk(x));
        out = o;
      } else {
        out = new Map(d.entries.map(([k, x]) => [walk(k), walk(x)]));
      }
      if (d.ordered) orderedDict(out as object);
      if (d.attributes) attributes(out as object, walk(d.attributes) as Record<string, unknown>);
    }
    done.set(v, out);
    return out;
  };
  return walk(value);
}

// ---------------------------------------------------------------- writing

/** A global (`module.name`) in a pickle being written. */
export class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

/** A call `func(*args)` in a pickle being written (REDUCE): how objects such as tensors are written. */
export class Reduce {
  constructor(
    readonly func: Global,
    readonly args: readonly unknown[],
  ) {}
}

/** A persistent id in a pickle being written (BINPERSID): how torch.save refers to storages. */
export class Persistent {
  constructor(readonly pid: unknown) {}
}

/** What the caller of `pickle` decides. */
export interface PickleHooks {
  /**
   * The value to write in place of an object that is not plain data (a Tensor, for PyTorch): usually a
   * `Reduce`. Return undefined when the object cannot be written. Called once per object.
   */
  replace?(value: object, path: string): unknown;
}

/** Bytes grown as needed. */
class Out {
  buf = Buffer.allocUnsafe(4096);
  n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.n++] = b;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  u16(v: number): void {
    this.room(2);
    this.n = this.buf.writeUInt16LE(v, this.n);
  }
  u32(v: number): void {
    this.room(4);
    this.n = this.buf.writeUInt32LE(v, this.n);
  }
  i32(v: number): void {
    this.room(4);
    this.n = this.buf.writeInt32LE(v, this.n);
  }
  f64be(v: number): void {
    this.room(8);
    this.n = this.buf.writeDoubleBE(v, this.n);
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** `path.key` or `path["key"]`, for messages. */
export function childPath(path: string, key: unknown): string {
  if (typeof key === 'string') return IDENT.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
  return `${path}[${typeof key === 'bigint' ? `${key}n` : String(key)}]`;
}

// Python's encode_long: minimal two's-complement little-endian bytes.
function encodeLong(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const bytes: number[] = [];
  let x = v;
  for (;;) {
    bytes.push(Number(x & 0xffn));
    x >>= 8n;
    const sign = bytes[bytes.length - 1] & 0x80;
    if ((x === 0n && !sign) || (x === -1n && sign)) break;
  }
  return Uint8Array.from(bytes);
}

/**
 * Writes `value` (the JS values of pyvalue.ts, plus `Global`/`Reduce`/`Persistent` and what
 * `hooks.replace` turns objects into) as a protocol-2 pickle, as Python's pickler would: containers
 * and strings are memoised, so a value shared in JS is shared in the file. Cycles, values nested deeper
 * than `MAX_DEPTH`, undefined, functions, symbols and class instances the hooks do not replace are
 * errors naming the path (`root` is the name of the whole value in messages).
 */
export function pickle(value: unknown, hooks: PickleHooks = {}, root = 'value'): Uint8Array {
  const out = new Out();
  const memo = new Map<unknown, number>();
  const globals = new Map<string, number>();
  const strings = new Map<string, number>();
  const replaced = new Map<object, unknown>();
  const active = new Set<unknown>();
  let memoSize = 0;
  const fail = (path: string, why: string): never => {
    throw new PickleError(`${path} ${why}`, -1);
  };
  const put = (): number => {
    const i = memoSize++;
    if (i < 256) {
      out.byte(BINPUT);
      out.byte(i);
    } else {
      out.byte(LONG_BINPUT);
      out.u32(i);
    }
    return i;
  };
  const get = (i: number): void => {
    if (i < 256) {
      out.byte(BINGET);
      out.byte(i);
    } else {
      out.byte(LONG_BINGET);
      out.u32(i);
    }
  };
  const str = (s: string, path: string): void => {
    const i = strings.get(s);
    if (i !== undefined) return get(i);
    if (LONE_SURROGATE.test(s)) fail(path, 'is a string with a lone surrogate (not valid Unicode)');
    const b = Buffer.from(s, 'utf8');
    out.byte(BINUNICODE);
    out.u32(b.length);
    out.bytes(b);
    strings.set(s, put());
  };
  const glob = (g: Global): void => {
    const key = `${g.module}\n${g.name}`;
    const i = globals.get(key);
    if (i !== undefined) return get(i);
    out.byte(GLOBAL);
    out.bytes(Buffer.from(`${key}\n`, 'utf8'));
    globals.set(key, put());
  };
  const integer = (v: bigint): void => {
    if (v >= 0n && v < 256n) {
      out.byte(BININT1);
      out.byte(Number(v));
    } else if (v >= 0n && v < 65536n) {
      out.byte(BININT2);
      out.u16(Number(v));
    } else if (v >= -(2n ** 31n) && v < 2n ** 31n) {
      out.byte(BININT);
      out.i32(Number(v));
    } else {
      const b = encodeLong(v);
      if (b.length < 256) {
        out.byte(LONG1);
        out.byte(b.length);
      } else {
        out.byte(LONG4);
        out.i32(b.length);
      }
      out.bytes(b);
    }
  };
  const number = (v: number): void => {
    if (Number.isInteger(v) && !Object.is(v, -0) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) return integer(BigInt(v));
    out.byte(BINFLOAT);
    out.f64be(v);
  };
  const key = (k: unknown, path: string): void => {
    if (typeof k === 'string') str(k, path);
    else if (typeof k === 'number') number(k);
    else if (typeof k === 'bigint') integer(k);
    else if (typeof k === 'boolean') out.byte(k ? NEWTRUE : NEWFALSE);
    else if (k === null) out.byte(NONE);
    else fail(path, `has a key that is ${k === undefined ? 'undefined' : describeJs(k)}; dict keys must be strings, numbers, bigints, booleans or null`);
  };
  const items = (entries: Iterable<[unknown, unknown]>, path: string, depth: number): void => {
    let batch = 0;
    for (const [k, v] of entries) {
      if (batch === 0) out.byte(MARK);
      key(k, path);
      write(v, childPath(path, k), depth);
      if (++batch === 1000) {
        out.byte(SETITEMS);
        batch = 0;
      }
    }
    if (batch > 0) out.byte(SETITEMS);
  };
  const dict = (v: Record<string, unknown> | Map<unknown, unknown>, path: string, depth: number): void => {
    const entries: [unknown, unknown][] = v instanceof Map ? [...v.entries()] : Object.keys(v).map((k) => [k, (v as Record<string, unknown>)[k]]);
    if (!(v instanceof Map) && Object.getOwnPropertySymbols(v).length) fail(path, 'has symbol keys, which a Python dict cannot hold');
    if (isOrderedDict(v)) {
      glob(new Global('collections', 'OrderedDict'));
      out.byte(EMPTY_TUPLE);
      out.byte(REDUCE);
    } else {
      out.byte(EMPTY_DICT);
    }
    memo.set(v, put());
    items(entries, path, depth);
    const attrs = isOrderedDict(v) ? attributes(v) : undefined;
    if (attrs !== undefined) {
      if (!isPlainObject(attrs)) fail(path, 'has OrderedDict attributes that are not a plain object');
      out.byte(EMPTY_DICT);
      put();
      items(Object.keys(attrs).map((k) => [k, attrs[k]]), `attributes(${path})`, depth);
      out.byte(BUILD);
    }
  };
  const seq = (v: readonly unknown[], path: string, depth: number, asTuple: boolean): void => {
    if (asTuple) {
      if (v.length === 0) {
        out.byte(EMPTY_TUPLE);
      } else {
        if (v.length > 3) out.byte(MARK);
        v.forEach((x, i) => write(x, `${path}[${i}]`, depth));
        out.byte(v.length === 1 ? TUPLE1 : v.length === 2 ? TUPLE2 : v.length === 3 ? TUPLE3 : TUPLE);
      }
      memo.set(v, put());
      return;
    }
    out.byte(EMPTY_LIST);
    memo.set(v, put());
    if (v.length === 1) {
      write(v[0], `${path}[0]`, depth);
      out.byte(APPEND);
      return;
    }
    for (let start = 0; start < v.length; start += 1000) {
      out.byte(MARK);
      for (let i = start; i < Math.min(v.length, start + 1000); i++) write(v[i], `${path}[${i}]`, depth);
      out.byte(APPENDS);
    }
  };
  const write = (v: unknown, path: string, depth: number): void => {
    if (v === null) return out.byte(NONE);
    switch (typeof v) {
      case 'boolean':
        return out.byte(v ? NEWTRUE : NEWFALSE);
      case 'number':
        return number(v);
      case 'bigint':
        return integer(v);
      case 'string':
        return str(v, path);
      case 'undefined':
        return fail(path, 'is undefined, which a PyTorch file cannot hold (use null for None)');
      case 'function':
      case 'symbol':
        return fail(path, `is a ${typeof v}, which a PyTorch file cannot hold`);
      default:
    }
    const o = v as object;
    // before the memo: a container is memoised as soon as it is opened, so a reference back to it from
    // inside would otherwise be written (Python can read that; ictorch refuses cycles)
    if (active.has(o)) fail(path, 'refers back to a value that contains it (a cycle)');
    const m = memo.get(o);
    if (m !== undefined) return get(m);
    if (o instanceof PyFloat) {
      out.byte(BINFLOAT);
      return out.f64be(o.value);
    }
    if (o instanceof Global) return glob(o);
    const container = Array.isArray(o) || o instanceof Map || isPlainObject(o);
    if (container && depth >= MAX_DEPTH) fail(path, `nests more than ${MAX_DEPTH} levels deep`);
    active.add(o);
    try {
      if (Array.isArray(o)) seq(o, path, depth + 1, isTuple(o));
      else if (o instanceof Map || isPlainObject(o)) dict(o as Record<string, unknown> | Map<unknown, unknown>, path, depth + 1);
      else if (o instanceof Reduce) {
        glob(o.func);
        seq(o.args, `${path}(args)`, depth, true);
        out.byte(REDUCE);
        memo.set(o, put());
      } else if (o instanceof Persistent) {
        write(o.pid, `${path}(persistent id)`, depth);
        out.byte(BINPERSID);
      } else {
        let r = replaced.get(o);
        if (r === undefined && hooks.replace) {
          r = hooks.replace(o, path);
          if (r !== undefined) replaced.set(o, r);
        }
        if (r === undefined) fail(path, `is ${describeJs(o)}, which a PyTorch file cannot hold (plain objects, Maps, arrays, strings, numbers, bigints, booleans, null and Tensors can)`);
        write(r, path, depth);
        // the object itself is shared like the value written for it
        const i = r !== null && typeof r === 'object' ? memo.get(r) : undefined;
        if (i !== undefined) memo.set(o, i);
      }
    } finally {
      active.delete(o);
    }
  };
  out.byte(PROTO);
  out.byte(2);
  write(value, root, 0);
  out.byte(STOP);
  return out.result();
}

function describeJs(v: unknown): string {
  if (v === null) return 'null';
  if (isPlainObject(v)) return 'an object';
  if (Array.isArray(v)) return 'an array';
  if (typeof v !== 'object') return `a ${typeof v}`;
  const name = (v as object).constructor?.name;
  return name ? `a ${name}` : 'an object without a prototype';
}
