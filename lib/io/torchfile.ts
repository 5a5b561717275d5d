/**
 * PyTorch's file format, as `torch.save` writes and `torch.load` reads it: `save(value, file)` and
 * `load(file)`, written in TypeScript so that no file, however crafted, can run code, crash the process or
 * make it read outside a buffer.
 *
 * The file is a zip archive (zip.ts) holding `<archive>/data.pkl`, a pickle (pickle.ts) of the value,
 * in which each tensor is a call `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
 * requires_grad, hooks)` and each storage a persistent id `('storage', torch.FloatStorage, key,
 * location, numel)` whose bytes are the entry `<archive>/data/<key>`; plus `<archive>/version` and
 * `<archive>/byteorder`.
 *
 * Loading is the equivalent of `torch.load(file, weights_only=True)`: only plain Python values (see
 * pyvalue.ts for how they appear in JS), `collections.OrderedDict`, tensors and parameters (rebuilt by
 * `torch._utils._rebuild_tensor_v2`, `_rebuild_tensor`, `_rebuild_parameter`,
 * `_rebuild_parameter_with_state`, `torch.nn.Parameter`) and `torch.Size` are accepted. Before any
 * tensor is made, each one's dtype, sizes, strides and storage offset are checked against its storage
 * (the furthest element it reaches must lie inside), the storage's declared element count against its
 * entry, and the total bytes of the tensors against the file's size (a stride-0 tensor could otherwise
 * describe any amount of memory: at most 4 × the file + 64 MiB are made). Tensors come out on the CPU;
 * tensors that share a storage in the file (views, tied weights) share memory, as views of one buffer with
 * the file's sizes, strides and offsets, as `torch.load` gives them; a tensor alone on its storage comes out
 * independent, with its own strides where they are dense (contiguous, channels-last or another order of
 * the dimensions, as `torch.load` gives them) and contiguous otherwise (a slice of a larger storage, a stride-0
 * expansion). Dtypes ictorch has: float32, float64, float16, bfloat16, int32,
 * int64, uint8 and bool; others are an error naming the value's path. The CRC-32 of every entry is
 * verified, also of entries no value uses. The legacy format of PyTorch < 1.6
 * (`_use_new_zipfile_serialization=False`) is recognised and refused with a sentence saying so.
 *
 * Saving writes what PyTorch 2.x writes (protocol-2 `data.pkl`, `byteorder`, `data/0`, `data/1`, ...,
 * `version` 3), which `torch.load` reads with `weights_only` True or False; a tensor alone on its storage gets
 * a storage of its own elements (in its own order where its strides are dense, such as channels-last, else
 * contiguous), and a storage that several tensors of the value share (views, tied weights)
 * is written once, whole, each tensor keeping its offset and strides (copied to the CPU, one storage at a
 * time, straight into the file's chunks); the file is replaced atomically. `torch.load(weights_only=True)` of PyTorch 1.13 cannot read floats (its opcode list lacks
 * BINFLOAT); 2.x can.
 */
import * as os from 'os';
import { noGrad } from '../autograd';
import { empty, fromBuffer } from '../creation';
import { elementSize, isFloatingDType, type DType } from '../dtype';
import { native } from '../native';
import { Tensor } from '../tensor';
import { writeFileAtomic } from '../util/atomic';
import { Global, Persistent, pickle, PickleError, PyContainer, PyDict, PyList, PyTuple, Reduce, toJs, unpickle, type PyCallable } from './pickle';
import { orderedDict, tuple, type PyFloat } from './pyvalue';
import { openRegularFile, type ByteSource } from './source';
import { ZipError, ZipReader, zipStream, type ZipEntry } from './zip';

const N = native();

/** A dict key read from or written to a PyTorch file. */
export type TorchKey = string | number | bigint | boolean | null;

/** A value read from or written to a PyTorch file (see pyvalue.ts for the mapping to Python). */
export type TorchValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Tensor
  | PyFloat
  | TorchValue[]
  | { [key: string]: TorchValue }
  | Map<TorchKey, TorchValue>;

// ---------------------------------------------------------------- storages and tensors in a file

/** A storage class named by the file (torch.FloatStorage, ...). */
class StorageType {
  constructor(
    readonly qualname: string,
    /** The ictorch dtype, or null when ictorch has no such dtype. */
    readonly dtype: DType | null,
    /** PyTorch's name of the element type. */
    readonly torchDtype: string,
    readonly itemsize: number,
  ) {}
}

const STORAGE_TYPES: [string, DType | null, string, number][] = [
  ['FloatStorage', 'float32', 'float32', 4],
  ['DoubleStorage', 'float64', 'float64', 8],
  ['HalfStorage', 'float16', 'float16', 2],
  ['BFloat16Storage', 'bfloat16', 'bfloat16', 2],
  ['IntStorage', 'int32', 'int32', 4],
  ['LongStorage', 'int64', 'int64', 8],
  ['ByteStorage', 'uint8', 'uint8', 1],
  ['BoolStorage', 'bool', 'bool', 1],
  ['CharStorage', 'int8', 'int8', 1],
  ['ShortStorage', 'int16', 'int16', 2],
  ['ComplexHalfStorage', null, 'complex32', 4],
  ['ComplexFloatStorage', null, 'complex64', 8],
  ['ComplexDoubleStorage', null, 'complex128', 16],
  ['QInt8Storage', null, 'qint8', 1],
  ['QUInt8Storage', null, 'quint8', 1],
  ['QInt32Storage', null, 'qint32', 4],
  ['QUInt4x2Storage', null, 'quint4x2', 1],
  ['QUInt2x4Storage', null, 'quint2x4', 1],
];

/** The storage class torch.save names for each ictorch dtype. */
const STORAGE_OF: Record<DType, string> = {
  float32: 'FloatStorage', float64: 'DoubleStorage', float16: 'HalfStorage', bfloat16: 'BFloat16Storage',
  int32: 'IntStorage', int64: 'LongStorage', uint8: 'ByteStorage', bool: 'BoolStorage', int8: 'CharStorage', int16: 'ShortStorage',
};

const STORAGES = new Map<string, StorageType>();
for (const [name, dtype, torchDtype, itemsize] of STORAGE_TYPES) {
  for (const module of ['torch', 'torch.cuda']) STORAGES.set(`${module}.${name}`, new StorageType(`${module}.${name}`, dtype, torchDtype, itemsize));
}

/** One storage of the file: its entry and declared element count. */
class StorageRef {
  bytes: Uint8Array | null = null;
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly numel: number,
    readonly entry: ZipEntry,
  ) {}
}

/** A tensor the file describes, checked against its storage, made only when asked for. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly numel: number,
    readonly requiresGrad: boolean,
  ) {}
}

type Fail = (why: string) => never;

/** @internal True for a tensor of a raw tree (see `TorchFile.root`), not yet made. */
export function isTensorEntry(v: unknown): boolean {
  return v instanceof TensorRef;
}

function intTuple(v: unknown, what: string, fail: Fail): number[] {
  if (!(v instanceof PyTuple)) return fail(`${what} is not a tuple`);
  if (v.items.length > 64) fail(`${what} has ${v.items.length} dimensions (at most 64)`);
  return v.items.map((x) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) fail(`${what} (${show(v)}) must hold non-negative integers`);
    return x as number;
  });
}

function show(v: unknown): string {
  if (v instanceof PyTuple) return `(${v.items.map(show).join(', ')}${v.items.length === 1 ? ',' : ''})`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v === null) return 'None';
  if (v instanceof StorageRef) return `storage "${v.key}"`;
  if (v instanceof TensorRef) return 'a tensor';
  if (v instanceof StorageType) return v.qualname;
  if (v instanceof PyDict) return v.ordered ? 'an OrderedDict' : 'a dict';
  if (v instanceof PyList) return 'a list';
  return 'an object';
}

function emptyHooks(v: unknown, fail: Fail): void {
  if (!(v instanceof PyDict) || v.entries.length !== 0) fail('a tensor has backward hooks, which a file cannot carry (expected an empty OrderedDict)');
}

/** Checks a tensor's geometry against its storage and returns its description. */
function tensorRef(storage: unknown, offsetV: unknown, sizeV: unknown, strideV: unknown, requiresGrad: unknown, fail: Fail): TensorRef {
  if (!(storage instanceof StorageRef)) return fail(`a tensor is rebuilt from ${show(storage)} instead of a storage`);
  if (typeof offsetV !== 'number' || !Number.isSafeInteger(offsetV) || offsetV < 0) fail(`a tensor has the storage offset ${show(offsetV)}; expected a non-negative integer`);
  const offset = offsetV as number;
  const shape = intTuple(sizeV, 'a tensor size', fail);
  const stride = intTuple(strideV, 'a tensor stride', fail);
  if (shape.length !== stride.length) fail(`a tensor has size ${show(sizeV)} but stride ${show(strideV)}`);
  if (typeof requiresGrad !== 'boolean') fail(`a tensor has requires_grad ${show(requiresGrad)}; expected a bool`);
  let numel = 1;
  for (const s of shape) numel *= s;
  if (numel > Number.MAX_SAFE_INTEGER) fail(`a tensor of size ${show(sizeV)} has more elements than can be counted exactly`);
  if (numel > 0) {
    let last = BigInt(offset);
    shape.forEach((s, i) => (last += BigInt(s - 1) * BigInt(stride[i])));
    if (last >= BigInt(storage.numel)) {
      fail(
        `a tensor of size ${show(sizeV)}, stride ${show(strideV)} and storage offset ${offset} reaches element ${last} of storage "${storage.key}", ` +
          `which holds only ${storage.numel} elements`,
      );
    }
  }
  return new TensorRef(storage, offset, shape, stride, numel, requiresGrad as boolean);
}

function unsupported(qualname: string, what: string): PyCallable {
  const refuse = (_: readonly unknown[], fail: Fail): never => fail(`${what} (${qualname}) are not supported`);
  return { qualname, call: refuse, construct: refuse };
}

// ---------------------------------------------------------------- reading

/** Legacy torch.save (PyTorch < 1.6): a pickle of the magic number 0x1950a86a20f9469cfc6c first. */
const LEGACY_MAGIC = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const ICTORCH_CKPT_V1 = Buffer.from('ICTORCH-CKPT\n', 'latin1');
/** The most tensor bytes a file may describe: 4 × its size + 64 MiB (views and stride-0 tensors expand). */
const EXPANSION = 4;
const EXPANSION_SLACK = 64 << 20;

/** An error about the file (not about the caller's arguments). */
function fileError(op: string, file: string, why: string): Error {
  return new Error(`${op}: ${file} ${why}`);
}

/**
 * Unpickles `pkl` (the entry `pklName` of an archive: a torch.save file's data.pkl, or a TorchScript archive's
 * data.pkl or constants.pkl) with the GLOBALs `globals` allows. Every storage it names must be an entry of
 * `tensorDir` holding exactly its declared bytes, and every tensor's sizes, strides and offset must stay inside
 * its storage (`tensorRef`), so nothing built from it reads outside the archive. Errors name `op` and `file`.
 */
function unpickleArchive(op: string, file: string, zip: ZipReader, pkl: Uint8Array, pklName: string, tensorDir: string, globals: (qualname: string) => PyCallable | object | undefined): unknown {
  const storages = new Map<string, StorageRef>();
  try {
    return unpickle(pkl, {
      resolveGlobal: (module, name) => globals(`${module}.${name}`),
      // A TorchScript object's attributes (its state dict or __getstate__ result), set once.
      build: (inst) => inst instanceof ScriptObjectRef && !inst.built && (inst.built = true),
      persistentLoad: (pid, fail) => {
        if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
          return fail(`a persistent id is ${show(pid)}; expected ('storage', <storage type>, key, location, numel)`);
        }
        const [, type, key, location, numel] = pid.items;
        if (!(type instanceof StorageType)) return fail(`a storage has the type ${show(type)}; expected a torch.*Storage class`);
        if (typeof key !== 'string' || typeof location !== 'string') return fail(`a storage has key ${show(key)} and location ${show(location)}; expected two strings`);
        if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) return fail(`storage "${key}" declares ${show(numel)} elements`);
        const known = storages.get(key);
        if (known) {
          if (known.type !== type || known.numel !== numel) return fail(`storage "${key}" is declared twice, as ${known.numel} × ${known.type.qualname} and as ${numel} × ${type.qualname}`);
          return known;
        }
        const entry = zip.find(`${tensorDir}${key}`);
        if (!entry) return fail(`storage "${key}" has no entry ${tensorDir}${key} in the archive`);
        if (entry.size !== numel * type.itemsize) {
          return fail(`storage "${key}" declares ${numel} elements of ${type.torchDtype} (${numel * type.itemsize} bytes), but its entry holds ${entry.size} bytes`);
        }
        const s = new StorageRef(key, type, numel, entry);
        storages.set(key, s);
        return s;
      },
    }, { maxNodes: Math.min(10_000_000, 1000 + 64 * pkl.byteLength) });
  } catch (e) {
    if (e instanceof PickleError) throw fileError(op, file, `cannot be loaded: ${pklName} ${e.message}.`);
    throw e;
  }
}

/**
 * @internal An opened PyTorch file: its pickle read into a raw tree (`root`) with tensors not made yet;
 * `materialize` makes the tensors of a part of it. Used by `load`, `loadStateDict` and `loadCheckpoint`.
 */
export class TorchFile {
  private readonly created: Tensor[] = [];
  private readonly read = new Set<ZipEntry>();

  private constructor(
    readonly op: string,
    readonly file: string,
    private readonly src: ByteSource,
    private readonly zip: ZipReader,
  ) {}

  /** The unpickled value: PyDict/PyList/PyTuple, primitives and (not yet made) tensors. */
  root: unknown = null;

  /** Opens and checks `file`, reads its pickle; throws an error naming `op` and the file. */
  static open(op: string, file: string): TorchFile {
    if (os.endianness() !== 'LE') throw new Error(`${op}: PyTorch files are read as little-endian, and this machine is big-endian, which ictorch does not support.`);
    const src = openRegularFile(file, op);
    try {
      const head = Buffer.from(src.read(0, Math.min(src.size, 16)));
      if (src.size === 0) throw fileError(op, file, 'is corrupt (truncated: the file is empty).');
      if (!head.subarray(0, 4).equals(ZIP_MAGIC)) {
        if (head.length < 4 && ZIP_MAGIC.subarray(0, head.length).equals(head)) throw fileError(op, file, `is corrupt (truncated: ${head.length} bytes).`);
        if (head.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC)) {
          throw fileError(
            op,
            file,
            'uses the legacy torch.save format (PyTorch < 1.6 or _use_new_zipfile_serialization=False), which ictorch does not read: ' +
              're-save it with a current PyTorch (torch.save(torch.load(f), f)).',
          );
        }
        if (head.subarray(0, ICTORCH_CKPT_V1.length).equals(ICTORCH_CKPT_V1)) {
          throw fileError(op, file, 'is an ictorch checkpoint in the earlier ICTORCH-CKPT format, which this version of ictorch no longer reads: resume it with the ictorch version that wrote it.');
        }
        if (head[0] === 0x80) throw fileError(op, file, 'is a bare pickle, not a torch.save file (which is a zip archive).');
        throw fileError(op, file, 'is not a PyTorch file: it does not start with the zip signature torch.save files have.');
      }
      let zip: ZipReader;
      try {
        zip = ZipReader.open(src, { maxEntrySize: EXPANSION * src.size + EXPANSION_SLACK });
      } catch (e) {
        if (e instanceof ZipError) throw fileError(op, file, `is corrupt (${e.message}).`);
        throw e;
      }
      const pkls = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
      if (zip.entries.some((e) => /^[^/]+\/(constants\.pkl|code\/)/.test(e.name))) {
        throw fileError(op, file, 'is a TorchScript archive (torch.jit.save), not a torch.save file; save the model\'s state_dict() with torch.save instead.');
      }
      if (pkls.length !== 1) throw fileError(op, file, pkls.length ? 'holds more than one data.pkl.' : 'is a zip archive without <archive>/data.pkl: not a torch.save file.');
      const prefix = pkls[0].name.slice(0, -'data.pkl'.length);
      const order = zip.find(`${prefix}byteorder`);
      const tf = new TorchFile(op, file, src, zip);
      if (order) {
        const text = Buffer.from(tf.entry(order)).toString('latin1');
        if (text !== 'little') throw fileError(op, file, `was written on a ${text === 'big' ? 'big-endian' : `"${text.slice(0, 16)}"-endian`} machine; ictorch reads little-endian files only.`);
      }
      tf.root = unpickleArchive(op, file, zip, tf.entry(pkls[0]), pkls[0].name, `${prefix}data/`, resolveGlobal);
      return tf;
    } catch (e) {
      src.close();
      throw e;
    }
  }

  // An entry's checked bytes; damage is reported as corruption.
  private entry(e: ZipEntry): Uint8Array {
    try {
      const b = this.zip.read(e);
      this.read.add(e);
      return b;
    } catch (err) {
      if (err instanceof ZipError) throw fileError(this.op, this.file, `is corrupt (${err.message}).`);
      throw err;
    }
  }

  /**
   * Makes the tensors under `node` (a part of `root`) and returns its JS value; `path` names `node` in
   * messages. Tensors made are disposed by `dispose()` unless `keep()` is called.
   */
  materialize(node: unknown, path: string): TorchValue {
    // 1. every tensor under node, with the path of its first appearance
    const refs = new Map<TensorRef, string>();
    const visited = new Set<PyContainer>();
    const walk = (v: unknown, p: string): void => {
      if (v === null || typeof v !== 'object') return;
      if (v instanceof TensorRef) {
        if (!refs.has(v)) refs.set(v, p);
        return;
      }
      if (!(v instanceof PyContainer)) {
        throw fileError(this.op, this.file, `cannot be loaded: ${p} is ${v instanceof StorageRef ? 'a bare storage' : v instanceof StorageType ? `the class ${v.qualname}` : 'an object'}, not a tensor or plain value.`);
      }
      if (visited.has(v)) return;
      visited.add(v);
      if (v instanceof PyList || v instanceof PyTuple) v.items.forEach((x, i) => walk(x, `${p}[${i}]`));
      else {
        const d = v as PyDict;
        for (const [k, x] of d.entries) walk(x, `${p}[${typeof k === 'string' ? JSON.stringify(k) : show(k)}]`);
        if (d.attributes) walk(d.attributes, `${p}(attributes)`);
      }
    };
    walk(node, path);
    // 2. dtypes and the total size, before anything is made: a storage that several tensors share is made once
    // (they become views of it), a tensor alone on its storage is made as a copy of its own elements
    const byStorage = new Map<StorageRef, TensorRef[]>();
    for (const [r, p] of refs) {
      const t = r.storage.type;
      if (!t.dtype) {
        throw fileError(this.op, this.file, `cannot be loaded: ${p} is a tensor of dtype ${t.torchDtype} (${t.qualname}), which ictorch does not have (it has float32, float64, float16, bfloat16, int32, int64, uint8 and bool).`);
      }
      if (r.requiresGrad && !isFloatingDType(t.dtype)) throw fileError(this.op, this.file, `cannot be loaded: ${p} is a ${t.dtype} tensor that requires grad (only floating-point tensors can).`);
      const list = byStorage.get(r.storage) ?? [];
      list.push(r);
      byStorage.set(r.storage, list);
    }
    const shared = (list: TensorRef[]): boolean => list.filter((r) => r.numel > 0).length > 1;
    let total = 0;
    for (const [s, list] of byStorage) {
      total += shared(list) ? s.numel * s.type.itemsize : list.reduce((n, r) => n + r.numel * s.type.itemsize, 0);
    }
    const budget = EXPANSION * this.src.size + EXPANSION_SLACK;
    if (total > budget) {
      throw fileError(this.op, this.file, `cannot be loaded: its tensors would take ${total} bytes, more than ${EXPANSION} × its ${this.src.size} bytes + 64 MiB (damaged sizes, or tensors expanded with stride 0).`);
    }
    // 3. the tensors, storage by storage (each storage's bytes read and verified once, then dropped)
    const made = new Map<TensorRef, Tensor>();
    for (const [s, list] of byStorage) {
      const needed = list.some((r) => r.numel > 0);
      const bytes = needed ? this.entry(s.entry) : null;
      if (bytes && shared(list)) {
        // Tensors that share a storage in the file share memory here too, views of one buffer with their own
        // offsets and strides (checked above against the storage), as torch.load gives them.
        const base = this.make(new TensorRef(s, 0, [s.numel], [1], s.numel, false), bytes, true); // the whole storage
        try {
          for (const r of list) {
            const t = r.numel === 0 ? this.make(r, null, false) : noGrad(() => base.asStrided(r.shape, r.stride, r.offset));
            if (r.requiresGrad) t.requiresGrad = true;
            this.created.push(t);
            made.set(r, t);
          }
        } finally {
          base.dispose();
        }
        continue;
      }
      for (const r of list) {
        const t = this.make(r, bytes, list.length === 1);
        this.created.push(t);
        made.set(r, t);
      }
    }
    return toJs(node, (leaf) => made.get(leaf as TensorRef)) as TorchValue;
  }

  // One tensor from its storage's bytes: contiguous copies (or the entry's own buffer when this tensor is
  // the storage's only user and covers it exactly), strided gathers otherwise.
  private make(r: TensorRef, storage: Uint8Array | null, soleUser: boolean): Tensor {
    const dtype = r.storage.type.dtype!;
    const es = r.storage.type.itemsize;
    let t: Tensor;
    if (r.numel === 0 || !storage) {
      t = empty(r.shape, { dtype });
    } else {
      let bytes: Uint8Array;
      const contiguous = isContiguous(r.shape, r.stride);
      // Dense strides (contiguous, channels-last, any order of the dimensions) cover the elements' span
      // exactly, so that span is the tensor's memory as it is; other strides are gathered into row-major order.
      const dense = contiguous || isDense(r.shape, r.stride);
      const whole = dense && r.offset === 0 && r.numel === r.storage.numel;
      if (whole && soleUser && storage.byteOffset === 0 && storage.byteLength === storage.buffer.byteLength) bytes = storage;
      else if (dense) bytes = storage.slice(r.offset * es, (r.offset + r.numel) * es);
      else bytes = gather(storage, es, r.shape, r.stride, r.offset, r.numel);
      if (dtype === 'bool') for (let i = 0; i < bytes.length; i++) if (bytes[i] > 1) bytes[i] = 1;
      if (contiguous || !dense) {
        t = fromBuffer(bytes, r.shape, dtype);
      } else {
        const flat = fromBuffer(bytes, [r.numel], dtype);
        try {
          t = noGrad(() => flat.asStrided(r.shape, r.stride, 0));
        } finally {
          flat.dispose();
        }
      }
    }
    if (r.requiresGrad) t.requiresGrad = true;
    return t;
  }

  /** Verifies the CRC-32 of every entry not read yet (damage anywhere in the file is an error). */
  verifyRest(): void {
    for (const e of this.zip.entries) {
      if (this.read.has(e)) continue;
      try {
        this.zip.verify(e);
      } catch (err) {
        if (err instanceof ZipError) throw fileError(this.op, this.file, `is corrupt (${err.message}).`);
        throw err;
      }
      this.read.add(e);
    }
  }

  /** Keeps the tensors made so far: `dispose()` no longer frees them. */
  keep(): void {
    this.created.length = 0;
  }

  /** Closes the file and disposes the tensors made and not kept. */
  dispose(): void {
    for (const t of this.created) t.dispose();
    this.created.length = 0;
    this.src.close();
  }
}

const REBUILD_V2: PyCallable = {
  qualname: 'torch._utils._rebuild_tensor_v2',
  call(args, fail) {
    if (args.length !== 6 && args.length !== 7) fail(`_rebuild_tensor_v2 takes 6 or 7 arguments but is called with ${args.length}`);
    emptyHooks(args[5], fail);
    if (args.length === 7 && args[6] !== null && !(args[6] instanceof PyDict && args[6].entries.length === 0)) {
      fail('a tensor carries Python metadata (a tensor subclass or conjugate/negative bits), which is not supported');
    }
    return tensorRef(args[0], args[1], args[2], args[3], args[4], fail);
  },
};

const REBUILD_V1: PyCallable = {
  qualname: 'torch._utils._rebuild_tensor',
  call(args, fail) {
    if (args.length !== 4) fail(`_rebuild_tensor takes 4 arguments but is called with ${args.length}`);
    return tensorRef(args[0], args[1], args[2], args[3], false, fail);
  },
};

function parameter(data: unknown, requiresGrad: unknown, fail: Fail): TensorRef {
  if (!(data instanceof TensorRef)) return fail(`a Parameter wraps ${show(data)} instead of a tensor`);
  if (typeof requiresGrad !== 'boolean') return fail(`a Parameter has requires_grad ${show(requiresGrad)}; expected a bool`);
  return new TensorRef(data.storage, data.offset, data.shape, data.stride, data.numel, requiresGrad);
}

const GLOBALS = new Map<string, PyCallable | StorageType>([
  ['torch._utils._rebuild_tensor_v2', REBUILD_V2],
  ['torch._utils._rebuild_tensor', REBUILD_V1],
  [
    'torch._utils._rebuild_parameter',
    {
      qualname: 'torch._utils._rebuild_parameter',
      call(args, fail) {
        if (args.length !== 3) fail(`_rebuild_parameter takes 3 arguments but is called with ${args.length}`);
        emptyHooks(args[2], fail);
        return parameter(args[0], args[1], fail);
      },
    },
  ],
  [
    'torch._utils._rebuild_parameter_with_state',
    {
      qualname: 'torch._utils._rebuild_parameter_with_state',
      call(args, fail) {
        if (args.length !== 4) fail(`_rebuild_parameter_with_state takes 4 arguments but is called with ${args.length}`);
        emptyHooks(args[2], fail);
        if (args[3] !== null && !(args[3] instanceof PyDict && args[3].entries.length === 0)) fail('a Parameter carries Python attributes, which are not supported');
        return parameter(args[0], args[1], fail);
      },
    },
  ],
  [
    'torch.nn.parameter.Parameter',
    {
      qualname: 'torch.nn.parameter.Parameter',
      construct(args, fail) {
        if (args.length < 1 || args.length > 2) fail(`Parameter takes 1 or 2 arguments but is given ${args.length}`);
        return parameter(args[0], args.length === 2 ? args[1] : true, fail);
      },
    },
  ],
  [
    'torch.Size',
    {
      qualname: 'torch.Size',
      call(args, fail) {
        if (args.length !== 1 || !(args[0] instanceof PyTuple)) fail('torch.Size takes one tuple');
        intTuple(args[0], 'a torch.Size', fail);
        return args[0];
      },
    },
  ],
  ['torch._utils._rebuild_sparse_tensor', unsupported('torch._utils._rebuild_sparse_tensor', 'sparse tensors')],
  ['torch._utils._rebuild_sparse_csr_tensor', unsupported('torch._utils._rebuild_sparse_csr_tensor', 'sparse tensors')],
  ['torch._utils._rebuild_meta_tensor_no_storage', unsupported('torch._utils._rebuild_meta_tensor_no_storage', 'meta tensors')],
  ['torch._utils._rebuild_qtensor', unsupported('torch._utils._rebuild_qtensor', 'quantized tensors')],
  ['torch._utils._rebuild_tensor_v3', unsupported('torch._utils._rebuild_tensor_v3', 'tensors of dtypes without a typed storage (uint16, uint32, ...)')],
  ['torch._utils._rebuild_wrapper_subclass', unsupported('torch._utils._rebuild_wrapper_subclass', 'tensor subclasses')],
  ['torch._tensor._rebuild_from_type_v2', unsupported('torch._tensor._rebuild_from_type_v2', 'tensor subclasses')],
  ...STORAGES,
]);

function resolveGlobal(qualname: string): PyCallable | StorageType | undefined {
  return GLOBALS.get(qualname);
}

/** An object of a TorchScript class (`__torch__.*`) in a TorchScript archive's pickle: only its name is kept. */
class ScriptObjectRef {
  built = false;
  constructor(readonly qualname: string) {}
}

// The helpers TorchScript's pickler names (torch/jit/_pickle.py), each the identity on its first argument.
const JIT_PICKLE = new Set(['build_intlist', 'build_doublelist', 'build_boollist', 'build_tensorlist', 'build_genericlist', 'restore_type_tag']);

// What a TorchScript archive's pickles may name: torch.save's tensors and storages, objects of the archive's
// own TorchScript classes (their code is in the archive, run by LibTorch, not here), TorchScript's typed-list
// helpers and torch.device.
function resolveJitGlobal(qualname: string): PyCallable | StorageType | undefined {
  const known = resolveGlobal(qualname);
  if (known) return known;
  const dot = qualname.lastIndexOf('.');
  const [module, name] = [qualname.slice(0, dot), qualname.slice(dot + 1)];
  if (module === '__torch__' || module.startsWith('__torch__.')) {
    return {
      qualname,
      construct(args, fail) {
        if (args.length !== 0) fail(`the TorchScript object ${qualname} is made with arguments; expected none`);
        return new ScriptObjectRef(qualname);
      },
    };
  }
  if ((module === 'torch.jit._pickle' && JIT_PICKLE.has(name)) || qualname === 'torch.device') {
    return {
      qualname,
      call(args, fail) {
        if (args.length < 1 || args.length > 2) fail(`${qualname} takes 1 or 2 arguments but is called with ${args.length}`);
        return args[0];
      },
    };
  }
  return undefined;
}

/**
 * @internal Checks a TorchScript archive (`torch.jit.save`) before LibTorch loads it: a zip archive whose every
 * entry matches its CRC-32, with `<archive>/data.pkl` and `constants.pkl` or `code/` (a torch.save file is
 * named as such), whose pickles are read as `torch.load` reads (no code run; see `unpickleArchive`) so that
 * every tensor stays inside a storage entry of the right size. Throws an error naming `op` and `name`.
 */
export function checkTorchScriptArchive(op: string, name: string, src: ByteSource): void {
  if (os.endianness() !== 'LE') throw new Error(`${op}: TorchScript archives are read as little-endian, and this machine is big-endian, which ictorch does not support.`);
  if (src.size < 4 || !Buffer.from(src.read(0, 4)).equals(ZIP_MAGIC)) {
    throw fileError(op, name, 'is not a TorchScript archive: it does not start with the zip signature torch.jit.save files have.');
  }
  let zip: ZipReader;
  try {
    zip = ZipReader.open(src);
    for (const e of zip.entries) zip.verify(e);
  } catch (e) {
    if (e instanceof ZipError) throw fileError(op, name, `is corrupt (${e.message}).`);
    throw e;
  }
  const pkls = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkls.length !== 1) throw fileError(op, name, pkls.length ? 'holds more than one data.pkl.' : 'is a zip archive without <archive>/data.pkl: not a TorchScript archive.');
  const prefix = pkls[0].name.slice(0, -'data.pkl'.length);
  const constants = zip.find(`${prefix}constants.pkl`);
  if (!constants && !zip.entries.some((e) => e.name.startsWith(`${prefix}code/`))) {
    throw fileError(op, name, 'is a torch.save file, not a TorchScript archive: read it with torch.load() or loadStateDict().');
  }
  unpickleArchive(op, name, zip, zip.read(pkls[0]), pkls[0].name, `${prefix}data/`, resolveJitGlobal);
  if (constants) unpickleArchive(op, name, zip, zip.read(constants), constants.name, `${prefix}constants/`, resolveJitGlobal);
}

/**
 * True when the strides are those of a contiguous tensor with its dimensions in some order (channels-last is
 * one): non-overlapping and dense, so the elements fill [offset, offset + numel) of the storage exactly.
 */
function isDense(shape: number[], stride: number[]): boolean {
  const dims = shape.map((n, i) => [n, stride[i]]).filter(([n]) => n !== 1).sort((a, b) => a[1] - b[1]);
  let expected = 1;
  for (const [n, st] of dims) {
    if (st !== expected) return false;
    expected *= n;
  }
  return true;
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

// Copies the elements of a strided view into row-major order (offsets were checked against the storage).
function gather(src: Uint8Array, es: number, shape: number[], stride: number[], offset: number, numel: number): Uint8Array {
  const out = new Uint8Array(numel * es);
  const nd = shape.length;
  const innerRun = nd > 0 && stride[nd - 1] === 1 ? shape[nd - 1] : 1;
  const outer = innerRun > 1 ? nd - 1 : nd;
  const idx = new Array<number>(outer).fill(0);
  const runBytes = innerRun * es;
  let o = 0;
  for (let k = 0, n = numel / innerRun; k < n; k++) {
    let e = offset;
    for (let d = 0; d < outer; d++) e += idx[d] * stride[d];
    const from = e * es;
    if (runBytes === es) for (let b = 0; b < es; b++) out[o + b] = src[from + b];
    else out.set(src.subarray(from, from + runBytes), o);
    o += runBytes;
    for (let d = outer - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Reads a file written by `torch.save` (or `save`), like `torch.load(file, weights_only=True)`: dicts,
 * OrderedDicts (a state dict), lists, tuples, str, int, float, bool, None and tensors, nested in any way
 * (a training script's `{'model': ..., 'optimizer': ..., 'epoch': 3}`). See pyvalue.ts for how each
 * appears in JS. Tensors come out on the CPU and owned by the caller (dispose them, or load inside `tidy`);
 * tensors that share a storage in the file share memory, views with the file's strides, as `torch.load` gives
 * them, and a tensor alone on its storage comes out with its own strides where they are dense (such as
 * channels-last), else contiguous. Damaged or crafted files are errors naming
 * the file and what is wrong.
 */
export function load(file: string, ...rest: never[]): TorchValue {
  if (typeof file !== 'string' || !file) throw new TypeError(`load: expected a file path (a non-empty string) for file but received ${file === '' ? 'an empty string' : typeof file}`);
  // torch.load's map_location / weights_only have no counterpart to ignore silently: say what happens instead.
  if (rest.length > 0) throw new TypeError('load: takes the file only (tensors load on the CPU: move them with .to(device); reading runs no code, as weights_only=True)');
  const tf = TorchFile.open('load', file);
  try {
    const value = tf.materialize(tf.root, 'the value');
    tf.verifyRest();
    tf.keep();
    return value;
  } finally {
    tf.dispose();
  }
}

// ---------------------------------------------------------------- writing

function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= Math.max(shape[i], 1);
  }
  return s;
}

// A tensor's elements, row-major, copied straight from wherever it lives into a fresh buffer.
function tensorBytes(t: Tensor): Uint8Array {
  const shape = t.shape;
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(numel * elementSize(t.dtype));
  if (numel === 0) return out;
  const view = fromBuffer(out, shape, t.dtype);
  // from a GPU through one CPU copy (the path LibTorch's own save takes), then into the file's buffer
  const host = t.device === 'cpu' ? t : t.to({ device: 'cpu' });
  try {
    noGrad(() => view.indexPut_(['...'], host));
  } finally {
    view.dispose();
    if (host !== t) host.dispose();
  }
  return out;
}

/**
 * @internal `save` under another name in messages (`saveStateDict`, `saveCheckpoint`); `root` names the
 * value in messages.
 */
export function saveTorchFile(op: string, file: string, value: unknown, root = 'value'): void {
  if (os.endianness() !== 'LE') throw new Error(`${op}: PyTorch files are written little-endian, and this machine is big-endian, which ictorch does not support.`);
  // Storages that two or more tensors of the value share (views, tied weights) are written once, whole, and each
  // tensor refers to it with its own offset and strides, so torch.load gives views of one storage again. A tensor
  // alone on its storage is written compactly (its own elements only): in its own memory order with its strides
  // where they are dense (channels-last stays channels-last), else contiguous.
  const storageOf = (t: Tensor): { id: string; offset: number; numel: number } => {
    const [offset, numel, id] = N.storageInfo(t.handle);
    return { id: `${id}/${t.dtype}/${t.device}`, offset, numel };
  };
  const users = new Map<string, Set<Tensor>>();
  // whole: the storage's size, when it is written whole; span: the storage offset of a dense tensor written in its memory order
  const tensors: { t: Tensor; path: string; whole: number | null; span?: number }[] = [];
  const written = new Map<string, { key: string; numel: number }>();
  let pkl: Uint8Array;
  try {
    // 1. which storages are shared (a pass that only looks at the tensors)
    pickle(value, {
      replace(o) {
        if (!(o instanceof Tensor)) return undefined;
        if (!o.isDisposed && o.numel() > 0) {
          const id = storageOf(o).id;
          users.set(id, (users.get(id) ?? new Set()).add(o));
        }
        return null;
      },
    }, root);
    // 2. the file's pickle
    pkl = pickle(value, {
      replace(o, path) {
        if (!(o instanceof Tensor)) return undefined;
        if (o.isDisposed) throw new PickleError(`${path} is a Tensor that has been disposed`, -1);
        const shape = o.shape;
        const numel = shape.reduce((a, b) => a * b, 1);
        const st = numel > 0 ? storageOf(o) : null;
        let key: string, storageNumel: number, offset = 0, strides = contiguousStrides(shape);
        if (st && (users.get(st.id)?.size ?? 0) > 1) {
          let w = written.get(st.id);
          if (!w) {
            w = { key: String(tensors.length), numel: st.numel };
            written.set(st.id, w);
            tensors.push({ t: o, path, whole: st.numel });
          }
          ({ key, numel: storageNumel } = w);
          offset = st.offset;
          strides = o.strides;
        } else {
          key = String(tensors.length);
          storageNumel = numel;
          const own = o.strides;
          if (st && !isContiguous(shape, own) && isDense(shape, own)) {
            strides = own;
            tensors.push({ t: o, path, whole: null, span: st.offset });
          } else {
            tensors.push({ t: o, path, whole: null });
          }
        }
        const storage = new Persistent(tuple(['storage', new Global('torch', STORAGE_OF[o.dtype]), key, 'cpu', storageNumel]));
        const hooks = new Reduce(new Global('collections', 'OrderedDict'), []);
        return new Reduce(new Global('torch._utils', '_rebuild_tensor_v2'), [storage, offset, tuple(shape), tuple(strides), o.requiresGrad, hooks]);
      },
    }, root);
  } catch (e) {
    if (e instanceof PickleError) throw new TypeError(`${op}: cannot save ${file}: ${e.message}.`);
    throw e;
  }
  function* entries() {
    yield { name: 'archive/data.pkl', data: pkl };
    yield { name: 'archive/byteorder', data: Buffer.from('little') };
    for (let i = 0; i < tensors.length; i++) {
      const { t, path, whole, span } = tensors[i];
      let data: Uint8Array;
      try {
        if (whole !== null || span !== undefined) {
          const all = whole !== null ? noGrad(() => t.asStrided([whole], [1], 0)) : noGrad(() => t.asStrided([t.numel()], [1], span!));
          try {
            data = tensorBytes(all);
          } finally {
            all.dispose();
          }
        } else {
          data = tensorBytes(t);
        }
      } catch (e) {
        throw new Error(`${op}: cannot save ${file}: reading ${path} failed (${(e as Error).message}).`);
      }
      yield { name: `archive/data/${i}`, data };
    }
    yield { name: 'archive/version', data: Buffer.from('3\n') };
  }
  writeFileAtomic(file, zipStream(entries()));
}

/**
 * Writes `value` to `file` as `torch.save(value, file)` would, so that `torch.load(file)` in Python
 * reads it (with `weights_only` True or False): plain objects and Maps become dicts, arrays lists,
 * `py.tuple`s tuples, `py.orderedDict`s OrderedDicts, integral numbers ints (`py.float(n)` for a float),
 * other numbers floats, bigints ints, Tensors tensors (from any device, saved from the CPU; float16 and
 * bfloat16 bit for bit). A value shared in `value` is shared in the file. The file is replaced atomically.
 * Unsupported values (undefined, functions, class instances, cycles) are a TypeError naming their path.
 */
export function save(value: unknown, file: string, ...rest: never[]): void {
  if (typeof file !== 'string' || !file) throw new TypeError(`save: expected a file path (a non-empty string) for file but received ${file === '' ? 'an empty string' : typeof file}`);
  if (rest.length > 0) throw new TypeError('save: takes the value and the file only (the format is always the zip format of PyTorch 1.6 and later)');
  saveTorchFile('save', file, value);
}

/** @internal the marks a state dict gets when written (an OrderedDict, as `module.state_dict()`). */
export function asStateDict(dict: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const k of Object.keys(dict)) Object.defineProperty(out, k, { value: dict[k], enumerable: true, writable: true, configurable: true });
  return orderedDict(out);
}
