/**
 * Self-describing, verified training checkpoints, and weight export in PyTorch's format.
 *
 * A checkpoint holds everything a run needs to continue exactly where it stopped: the model spec
 * (which rebuilds the network), the run config, counters, the model's and optimiser's tensors, the
 * random generators' states, the data sampler's state and the metrics history.
 *
 * File format (version 1), all integers little-endian:
 *
 * ```text
 * offset 0     13 bytes  magic "ICTORCH-CKPT\n"
 * offset 13     8 bytes  H: uint64, byte length of the JSON header
 * offset 21     H bytes  the header: UTF-8 JSON (see below)
 * offset 21+H   D bytes  tensor data: each tensor's elements, row-major, back to back, each tensor
 *                        starting at a multiple of 8 bytes from the start of the data (zero padding)
 * end - 32     32 bytes  SHA-256 over every byte before it
 * ```
 *
 * The header is one JSON object:
 *
 * ```text
 * { "format": "ictorch-checkpoint", "version": 1,
 *   "model": {name, args}, "config": {...}, "epoch": n, "step": n, "bestAcc": x | null,
 *   "optimizerMeta": {...}, "sampler": {...} (only when the checkpoint has one), "history": [...],
 *   "epochProgress": {...} (only when taken in the middle of an epoch),
 *   "dataLength": D,
 *   "tensors": [ { "group": "model" | "optim" | "rng", "name": "...", "dtype": "float32", "shape": [...],
 *                  "offset": bytes from the start of the tensor data, "length": bytes }, ... ] }
 * ```
 *
 * Tensor groups: `model` holds `modelState`, `optim` holds `optimizerState.tensors`, and `rng` holds
 * the generator states, named `cpu`, `cuda:0`, `cuda:1`, ... Element encoding per dtype:
 * float32/float64/int32/int64 as themselves (little-endian); uint8 and bool one byte each (bool as
 * 0/1); float16 and bfloat16 widened to float32 (exact), narrowed back on load. JSON cannot hold
 * NaN or ±Infinity, so such numbers in the JSON fields are written as `{"$nonFinite": "NaN"}`
 * (or `"Infinity"`, `"-Infinity"`) and restored on load: a diverged run's history survives intact.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import { tensor } from '../creation';
import { DTYPES, type AnyTypedArray, type DType } from '../dtype';
import type { ModelSpec } from '../models/registry';
import { saveStateDict } from '../serialize';
import { Tensor } from '../tensor';
import { writeFileAtomic } from '../util/atomic';

/** Everything needed to continue a training run exactly (see the file header for the on-disk format). */
export interface Checkpoint {
  /** `{name, args}`: rebuilds the network with `buildModel`. */
  model: ModelSpec;
  /** The full run config (JSON-able). */
  config: Record<string, unknown>;
  /** Epochs completed. */
  epoch: number;
  /** Optimiser steps taken. */
  step: number;
  /** Best test accuracy so far, or null before the first evaluation. */
  bestAcc: number | null;
  /** `model.stateDict()`. */
  modelState: Record<string, Tensor>;
  /** The optimiser's tensors (momentum buffers) and its other state (learning rate, ...; JSON-able). */
  optimizerState: { tensors: Record<string, Tensor>; meta: Record<string, unknown> };
  /** `rngState()`: restore it with `setRngState`. Always CPU tensors. */
  rng: { cpu: Tensor; cuda: Tensor[] };
  /** The data order state (JSON-able), if the sampler has one. */
  sampler?: Record<string, unknown>;
  /** Per-epoch metrics so far (JSON-able). */
  history: Record<string, unknown>[];
  /**
   * Taken in the middle of an epoch (an interrupted run): that epoch's running totals (JSON-able), so a
   * resumed run finishes the epoch with the same figures. Absent at epoch boundaries.
   */
  epochProgress?: Record<string, unknown>;
}

/** The checkpoint format version this module writes and reads. */
export const CHECKPOINT_FORMAT_VERSION = 1;

const MAGIC = Buffer.from('ICTORCH-CKPT\n', 'latin1');
const PREFIX = MAGIC.length + 8;
const TRAILER = 32;
const ALIGN = 8;
const NON_FINITE_KEY = '$nonFinite';

type Group = 'model' | 'optim' | 'rng';

interface TableEntry {
  group: Group;
  name: string;
  dtype: DType;
  shape: number[];
  offset: number;
  length: number;
}

interface Header {
  format: string;
  version: number;
  model: ModelSpec;
  config: Record<string, unknown>;
  epoch: number;
  step: number;
  bestAcc: number | null;
  optimizerMeta: Record<string, unknown>;
  sampler?: Record<string, unknown>;
  history: Record<string, unknown>[];
  epochProgress?: Record<string, unknown>;
  dataLength: number;
  tensors: TableEntry[];
}

// Bytes per element as stored in the file (float16/bfloat16 are stored widened to float32).
function storedSize(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
    case 'float16':
    case 'bfloat16':
      return 4;
    default:
      return 1;
  }
}

// A fresh typed array of the stored element type over a copy of `bytes`.
function typedArrayFor(dtype: DType, bytes: Uint8Array): AnyTypedArray {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const b = copy.buffer;
  switch (dtype) {
    case 'float64':
      return new Float64Array(b);
    case 'int64':
      return new BigInt64Array(b);
    case 'float32':
    case 'float16':
    case 'bfloat16':
      return new Float32Array(b);
    case 'int32':
      return new Int32Array(b);
    default:
      return copy;
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function checkLittleEndian(op: string): void {
  if (os.endianness() !== 'LE') throw new Error(`${op}: checkpoints are little-endian and this machine is big-endian, which ictorch does not support.`);
}

// Sets an own property, also one named "__proto__" (which plain assignment would treat as the prototype).
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// Checks that `value` survives JSON exactly (plain objects, arrays, strings, numbers, booleans, null) and
// returns a copy in which non-finite numbers are encoded; undefined object members are dropped as JSON does.
function encodeJson(file: string, where: string, value: unknown, seen: Set<unknown> = new Set()): unknown {
  const fail = (what: string): never => {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: ${where} ${what}; checkpoint fields other than the tensors must be plain JSON data.`);
  };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [NON_FINITE_KEY]: String(value) };
  if (typeof value === 'bigint') return fail(`is a bigint (${value}n)`);
  if (value === undefined) return fail('is undefined');
  if (typeof value === 'function' || typeof value === 'symbol') return fail(`is a ${typeof value}`);
  if (value instanceof Tensor) return fail('is a Tensor (put tensors in modelState or optimizerState.tensors)');
  if (seen.has(value)) return fail('refers back to itself (a cycle)');
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((v, i) => encodeJson(file, `${where}[${i}]`, v, seen));
  } else if (isPlainObject(value)) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) setOwn(o, k, encodeJson(file, `${where}.${k}`, v, seen));
    }
    out = o;
  } else {
    const name = (value as object).constructor?.name ?? 'object';
    return fail(`is a ${name}, not a plain object or array`);
  }
  seen.delete(value);
  return out;
}

function decodeJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeJson);
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === NON_FINITE_KEY && typeof value[NON_FINITE_KEY] === 'string') {
      const s = value[NON_FINITE_KEY] as string;
      if (s === 'NaN') return NaN;
      if (s === 'Infinity') return Infinity;
      if (s === '-Infinity') return -Infinity;
    }
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(o, k, decodeJson(v));
    return o;
  }
  return value;
}

function checkCount(file: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: ${field} must be a non-negative integer, but it is ${String(v)}.`);
  }
  return v;
}

function tensorDict(file: string, field: string, v: unknown): [string, Tensor][] {
  if (!isPlainObject(v)) throw new TypeError(`saveCheckpoint: cannot save ${file}: ${field} must be an object of name → Tensor.`);
  return Object.entries(v).map(([k, t]) => {
    if (!(t instanceof Tensor)) throw new TypeError(`saveCheckpoint: cannot save ${file}: ${field}["${k}"] is not a Tensor.`);
    return [k, t];
  });
}

/**
 * Writes `ckpt` to `file` atomically (a temp file beside it, fsync, rename): a crash or an error
 * leaves the previous checkpoint at `file` untouched. Tensors may live on any device; they are
 * copied to the CPU. Throws (before anything is renamed) on a disposed tensor or non-JSON data.
 */
export function saveCheckpoint(file: string, ckpt: Checkpoint): void {
  if (typeof file !== 'string' || !file) throw new TypeError(`saveCheckpoint: expected a file path but received ${String(file)}.`);
  if (!isPlainObject(ckpt)) throw new TypeError(`saveCheckpoint: cannot save ${file}: the checkpoint must be a plain object.`);
  checkLittleEndian('saveCheckpoint');
  const model = ckpt.model as unknown;
  if (!isPlainObject(model) || typeof model.name !== 'string' || !model.name) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: model must be a ModelSpec {name, args}.`);
  }
  if (!isPlainObject(ckpt.config)) throw new TypeError(`saveCheckpoint: cannot save ${file}: config must be a plain object.`);
  if (!isPlainObject(ckpt.optimizerState) || !isPlainObject(ckpt.optimizerState.meta)) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: optimizerState must be {tensors, meta} with meta a plain object.`);
  }
  if (!Array.isArray(ckpt.history)) throw new TypeError(`saveCheckpoint: cannot save ${file}: history must be an array of records.`);
  if (ckpt.bestAcc !== null && typeof ckpt.bestAcc !== 'number') {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: bestAcc must be a number or null, but it is ${String(ckpt.bestAcc)}.`);
  }
  if (ckpt.sampler !== undefined && !isPlainObject(ckpt.sampler)) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: sampler must be a plain object when given.`);
  }
  if (ckpt.epochProgress !== undefined && !isPlainObject(ckpt.epochProgress)) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: epochProgress must be a plain object when given.`);
  }
  const rng = ckpt.rng as unknown;
  if (!isPlainObject(rng) || !(rng.cpu instanceof Tensor) || !Array.isArray(rng.cuda) || !rng.cuda.every((t) => t instanceof Tensor)) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: rng must be {cpu: Tensor, cuda: Tensor[]} as rngState() returns.`);
  }

  const entries: { group: Group; name: string; t: Tensor }[] = [
    ...tensorDict(file, 'modelState', ckpt.modelState).map(([name, t]) => ({ group: 'model' as const, name, t })),
    ...tensorDict(file, 'optimizerState.tensors', ckpt.optimizerState.tensors).map(([name, t]) => ({ group: 'optim' as const, name, t })),
    { group: 'rng', name: 'cpu', t: rng.cpu as Tensor },
    ...(rng.cuda as Tensor[]).map((t, i) => ({ group: 'rng' as const, name: `cuda:${i}`, t })),
  ];

  // Copy every tensor to host memory first: any failure (a disposed tensor, a device error) happens
  // here, before a single byte of the file is written.
  const table: TableEntry[] = [];
  const arrays: AnyTypedArray[] = [];
  let dataLength = 0;
  for (const { group, name, t } of entries) {
    const label = group === 'model' ? `modelState["${name}"]` : group === 'optim' ? `optimizerState.tensors["${name}"]` : `rng ${name}`;
    if (t.isDisposed) throw new Error(`saveCheckpoint: cannot save ${file}: ${label} has been disposed.`);
    let arr: AnyTypedArray;
    let dtype: DType;
    let shape: number[];
    try {
      dtype = t.dtype;
      shape = t.shape;
      arr = t.toArray();
    } catch (e) {
      throw new Error(`saveCheckpoint: cannot save ${file}: reading ${label} failed (${(e as Error).message}).`);
    }
    const numel = shape.reduce((a, b) => a * b, 1);
    const length = numel * storedSize(dtype);
    if (arr.byteLength !== length) {
      throw new Error(`saveCheckpoint: cannot save ${file}: ${label} (${dtype}, shape [${shape.join(', ')}]) read back as ${arr.byteLength} bytes instead of ${length}.`);
    }
    dataLength = align(dataLength);
    table.push({ group, name, dtype, shape, offset: dataLength, length });
    arrays.push(arr);
    dataLength += length;
  }

  const header: Header = {
    format: 'ictorch-checkpoint',
    version: CHECKPOINT_FORMAT_VERSION,
    model: encodeJson(file, 'model', { name: model.name, args: model.args ?? {} }) as ModelSpec,
    config: encodeJson(file, 'config', ckpt.config) as Record<string, unknown>,
    epoch: checkCount(file, 'epoch', ckpt.epoch),
    step: checkCount(file, 'step', ckpt.step),
    bestAcc: encodeJson(file, 'bestAcc', ckpt.bestAcc) as number | null,
    optimizerMeta: encodeJson(file, 'optimizerState.meta', ckpt.optimizerState.meta) as Record<string, unknown>,
    ...(ckpt.sampler !== undefined ? { sampler: encodeJson(file, 'sampler', ckpt.sampler) as Record<string, unknown> } : {}),
    history: encodeJson(file, 'history', ckpt.history) as Record<string, unknown>[],
    ...(ckpt.epochProgress !== undefined ? { epochProgress: encodeJson(file, 'epochProgress', ckpt.epochProgress) as Record<string, unknown> } : {}),
    dataLength,
    tensors: table,
  };
  // The file is written as chunks (prefix and header, each tensor's bytes, alignment padding, the digest):
  // the host copies above are not joined into one more buffer of the same size.
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX);
  MAGIC.copy(prefix, 0);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length), MAGIC.length);
  const chunks: Uint8Array[] = [prefix, headerBytes];
  let at = 0;
  table.forEach((e, i) => {
    if (e.offset > at) chunks.push(new Uint8Array(e.offset - at));
    const a = arrays[i];
    chunks.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    at = e.offset + e.length;
  });
  const hash = crypto.createHash('sha256');
  for (const c of chunks) hash.update(c);
  chunks.push(hash.digest());
  writeFileAtomic(file, chunks);
}

function corrupt(file: string, why: string): Error {
  return new Error(`loadCheckpoint: ${file} is corrupt (${why}).`);
}

// After a checksum mismatch: says whether the file is shorter (or longer) than its own header declares.
// Nothing here is trusted; it only picks the wording of the error.
function diagnose(data: Buffer): string {
  const hlen = Number(data.readBigUInt64LE(MAGIC.length));
  if (PREFIX + hlen + TRAILER > data.length) {
    return `truncated (the file ends inside its ${hlen}-byte header after ${data.length} bytes) or its header length field is damaged`;
  }
  let expected: number | null = null;
  try {
    const h = JSON.parse(data.subarray(PREFIX, PREFIX + hlen).toString('utf8')) as Partial<Header>;
    if (typeof h.dataLength === 'number' && Number.isSafeInteger(h.dataLength) && h.dataLength >= 0) expected = PREFIX + hlen + h.dataLength + TRAILER;
  } catch {
    // a damaged header: reported as a checksum mismatch below
  }
  if (expected !== null && expected > data.length) return `truncated: ${data.length} bytes of the ${expected} its header declares`;
  if (expected !== null && expected < data.length) return `${data.length - expected} unexpected bytes after the end its header declares`;
  return 'SHA-256 checksum mismatch: the contents changed after it was written';
}

function parseHeader(file: string, data: Buffer): { header: Header; dataStart: number } {
  if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    const zip = data.length >= 2 && data[0] === 0x50 && data[1] === 0x4b;
    const hint = zip ? '; it looks like a PyTorch .pt file, which loadStateDict reads' : '';
    if (data.length < MAGIC.length && MAGIC.subarray(0, data.length).equals(data)) {
      throw corrupt(file, `truncated: ${data.length} bytes, shorter than the file signature`);
    }
    throw corrupt(file, `bad magic: it does not start with the ictorch checkpoint signature "ICTORCH-CKPT"${hint}`);
  }
  if (data.length < PREFIX + TRAILER) throw corrupt(file, `truncated: only ${data.length} bytes`);
  const body = data.subarray(0, data.length - TRAILER);
  const digest = crypto.createHash('sha256').update(body).digest();
  if (!digest.equals(data.subarray(data.length - TRAILER))) throw corrupt(file, diagnose(data));
  const hlen = Number(data.readBigUInt64LE(MAGIC.length));
  if (PREFIX + hlen > body.length) throw corrupt(file, `the header length ${hlen} runs past the end of the file`);
  let header: Header;
  try {
    header = JSON.parse(data.subarray(PREFIX, PREFIX + hlen).toString('utf8')) as Header;
  } catch (e) {
    throw corrupt(file, `the header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(header) || header.format !== 'ictorch-checkpoint') throw corrupt(file, 'the header does not describe an ictorch checkpoint');
  if (header.version !== CHECKPOINT_FORMAT_VERSION) {
    throw new Error(
      `loadCheckpoint: ${file} uses checkpoint format version ${String(header.version)}, but this ictorch reads only version ${CHECKPOINT_FORMAT_VERSION}; ` +
        'load it with the ictorch version that wrote it.',
    );
  }
  const dataStart = PREFIX + hlen;
  if (header.dataLength !== body.length - dataStart) {
    throw corrupt(file, `the header declares ${String(header.dataLength)} bytes of tensor data but the file holds ${body.length - dataStart}`);
  }
  if (!Array.isArray(header.tensors)) throw corrupt(file, 'the header has no tensor table');
  const seen = new Set<string>();
  header.tensors.forEach((e, i) => {
    const bad = (why: string): never => {
      throw corrupt(file, `tensor table entry ${i}${isPlainObject(e) && typeof e.name === 'string' ? ` ("${e.name}")` : ''} ${why}`);
    };
    if (!isPlainObject(e)) bad('is not an object');
    if (e.group !== 'model' && e.group !== 'optim' && e.group !== 'rng') bad(`has an unknown group ${JSON.stringify(e.group)}`);
    if (typeof e.name !== 'string') bad('has no name');
    if (!(DTYPES as readonly unknown[]).includes(e.dtype)) bad(`has an unknown dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) bad('has an invalid shape');
    if (!Number.isSafeInteger(e.offset) || !Number.isSafeInteger(e.length) || e.offset < 0 || e.offset + e.length > header.dataLength) {
      bad('lies outside the tensor data');
    }
    const numel = e.shape.reduce((a, b) => a * b, 1);
    if (e.length !== numel * storedSize(e.dtype)) bad(`is ${e.length} bytes, but ${e.dtype} of shape [${e.shape.join(', ')}] needs ${numel * storedSize(e.dtype)}`);
    const key = `${e.group}/${e.name}`;
    if (seen.has(key)) bad('appears twice');
    seen.add(key);
  });
  if (!seen.has('rng/cpu')) throw corrupt(file, 'the tensor table has no CPU random generator state');
  return { header, dataStart };
}

/**
 * Reads and verifies a checkpoint written by `saveCheckpoint`: the signature, the length and the
 * SHA-256 checksum are checked before anything is used, so a damaged file is an error
 * ("loadCheckpoint: <file> is corrupt (...)") rather than silently wrong weights. Model and optimiser
 * tensors are placed on `options.device` (default `cpu`); the random generator states stay on the CPU.
 * The returned tensors belong to the caller (dispose them, or load inside `tidy`).
 */
export function loadCheckpoint(file: string, options: { device?: string } = {}): Checkpoint {
  if (typeof file !== 'string' || !file) throw new TypeError(`loadCheckpoint: expected a file path but received ${String(file)}.`);
  if (options === null || typeof options !== 'object') throw new TypeError('loadCheckpoint: options must be an object like {device: "cuda"}.');
  const device = options.device ?? 'cpu';
  if (typeof device !== 'string' || !device) throw new TypeError(`loadCheckpoint: options.device must be a device name such as "cpu" or "cuda:0", not ${String(device)}.`);
  checkLittleEndian('loadCheckpoint');
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Error(`loadCheckpoint: ${file} does not exist.`);
    throw new Error(`loadCheckpoint: cannot read ${file} (${err.code ?? err.message}).`);
  }
  const { header, dataStart } = parseHeader(file, data);

  const created: Tensor[] = [];
  try {
    const groups: Record<Group, Record<string, Tensor>> = { model: {}, optim: {}, rng: {} };
    for (const e of header.tensors) {
      const bytes = data.subarray(dataStart + e.offset, dataStart + e.offset + e.length);
      const arr = typedArrayFor(e.dtype, bytes);
      const widened = e.dtype === 'float16' || e.dtype === 'bfloat16';
      let t = tensor(arr, { shape: e.shape, dtype: widened ? 'float32' : e.dtype });
      created.push(t);
      if (widened) {
        t = t.to(e.dtype);
        created.push(t);
      }
      if (e.group !== 'rng' && device !== 'cpu') {
        try {
          t = t.to({ device });
        } catch (err) {
          throw new Error(`loadCheckpoint: cannot move the tensors of ${file} to device "${device}" (${(err as Error).message}).`);
        }
        created.push(t);
      }
      groups[e.group][e.name] = t;
    }
    const cudaCount = Object.keys(groups.rng).filter((k) => k.startsWith('cuda:')).length;
    const cuda: Tensor[] = [];
    for (let i = 0; i < cudaCount; i++) {
      const t = groups.rng[`cuda:${i}`];
      if (!t) throw corrupt(file, `the CUDA generator states are not numbered 0..${cudaCount - 1}`);
      cuda.push(t);
    }
    const kept = new Set<Tensor>([...Object.values(groups.model), ...Object.values(groups.optim), ...Object.values(groups.rng)]);
    for (const t of created) if (!kept.has(t)) t.dispose();
    const ckpt: Checkpoint = {
      model: decodeJson(header.model) as ModelSpec,
      config: decodeJson(header.config ?? {}) as Record<string, unknown>,
      epoch: header.epoch,
      step: header.step,
      bestAcc: decodeJson(header.bestAcc ?? null) as number | null,
      modelState: groups.model,
      optimizerState: { tensors: groups.optim, meta: decodeJson(header.optimizerMeta ?? {}) as Record<string, unknown> },
      rng: { cpu: groups.rng.cpu, cuda },
      history: decodeJson(header.history ?? []) as Record<string, unknown>[],
    };
    if (header.sampler !== undefined) ckpt.sampler = decodeJson(header.sampler) as Record<string, unknown>;
    if (header.epochProgress !== undefined) ckpt.epochProgress = decodeJson(header.epochProgress) as Record<string, unknown>;
    return ckpt;
  } catch (e) {
    for (const t of created) t.dispose();
    throw e;
  }
}

/**
 * Writes the model's weights (e.g. `model.stateDict()`) as a PyTorch-loadable `.pt` file
 * (`torch.load(file)` in Python gives the dict of tensors), atomically. Tensors on a GPU are copied
 * to the CPU first, so the file loads on machines without one.
 */
export function exportWeights(file: string, modelState: Record<string, Tensor>): void {
  if (typeof file !== 'string' || !file) throw new TypeError(`exportWeights: expected a file path but received ${String(file)}.`);
  if (!isPlainObject(modelState)) throw new TypeError(`exportWeights: cannot write ${file}: modelState must be an object of name → Tensor.`);
  const copies: Tensor[] = [];
  const dict: Record<string, Tensor> = {};
  try {
    for (const [k, t] of Object.entries(modelState)) {
      if (!(t instanceof Tensor)) throw new TypeError(`exportWeights: cannot write ${file}: modelState["${k}"] is not a Tensor.`);
      if (t.isDisposed) throw new Error(`exportWeights: cannot write ${file}: modelState["${k}"] has been disposed.`);
      if (t.device === 'cpu') {
        dict[k] = t;
      } else {
        const c = t.cpu();
        copies.push(c);
        dict[k] = c;
      }
    }
    saveStateDict(file, dict);
  } finally {
    for (const c of copies) c.dispose();
  }
}
