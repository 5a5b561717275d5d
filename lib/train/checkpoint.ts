/**
 * Training checkpoints, and weight export, in PyTorch's file format.
 *
 * A checkpoint holds everything a run needs to continue exactly where it stopped: the model spec
 * (which rebuilds the network), the run config, counters, the model's and optimiser's tensors, the
 * random generators' states, the data sampler's state and the metrics history.
 *
 * The file (format version 2) is a `torch.save` file (lib/io/torchfile.ts) holding one dict, as
 * nanoGPT's checkpoints do, so Python reads it with `ck = torch.load(path)`:
 *
 * ```text
 * key               Python value                          Checkpoint field
 * format            'ictorch-checkpoint'
 * version           2                                     CHECKPOINT_FORMAT_VERSION
 * model_spec        {'name': str, 'args': dict}           model
 * config            dict                                  config
 * epoch             int                                   epoch
 * step              int                                   step
 * best_acc          float or None                         bestAcc
 * model             OrderedDict str → tensor (a state     modelState
 *                   dict: model.load_state_dict(ck['model']))
 * optimizer         {'state': {int: {str: tensor}},         optimizerState (`optimizer.stateDict()`:
 *                    'param_groups': [dict, ...]}         PyTorch's layout, so
 *                                                         opt.load_state_dict(ck['optimizer']) works)
 * classes           [str, ...] (when known)               classes (the data set's, in label order)
 * normalization     {'mean': [float], 'std': [float]}     normalization (what inputs were normalised with)
 * rng               {'cpu': uint8 tensor,                 rng
 *                    'cuda': [uint8 tensor, ...]}
 * sampler           dict (only when the run has one)      sampler
 * history           [dict, ...]                           history
 * epoch_progress    dict (only mid-epoch)                 epochProgress
 * ```
 *
 * The fields other than tensors (config, args, param_groups, sampler, history, epoch progress) are plain data:
 * dicts with str keys, lists, str, int, float, bool and None; floats keep NaN and ±Infinity exactly.
 * A JS number is written as an int when integral, else as a float (see lib/io/pyvalue.ts).
 *
 * Integrity: every zip entry, `data.pkl` included, carries a CRC-32 that loading verifies, and a
 * truncated file has no end record, so damage is an error ("... is corrupt (...)"), never silently
 * wrong weights. Every field is then checked (types, ranges, sizes) before use, with an error naming
 * the file and the field. Files are replaced atomically. Checkpoints of the earlier format (version 1,
 * "ICTORCH-CKPT") are not read: the error says so.
 */
import type { ModelSpec } from '../models/registry';
import type { OptimizerStateDict, ParamState } from '../optim/optimizer';
import { TorchFile, saveTorchFile } from '../io/torchfile';
import { float, orderedDict } from '../io/pyvalue';
import { saveStateDict } from '../serialize';
import { Tensor } from '../tensor';
import { knownOptions } from '../validate';

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
  /** `optimizer.stateDict()`: PyTorch's layout (state by parameter index, param_groups). */
  optimizerState: OptimizerStateDict;
  /** The data set's class names in label order (what evaluation must match). */
  classes?: string[];
  /** The per-channel mean and std the inputs were normalised with (what evaluation must use). */
  normalization?: { mean: number[]; std: number[] };
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
export const CHECKPOINT_FORMAT_VERSION = 2;

const FORMAT = 'ictorch-checkpoint';
/** A generator state larger than this is not one (LibTorch's CPU state is 5056 bytes, CUDA's 16). */
const MAX_RNG_BYTES = 1 << 20;
const MAX_CUDA_DEVICES = 1024;
const MAX_CLASSES = 1 << 20;

// Per-channel statistics: two arrays of the same (small) length of finite numbers, std > 0.
function validStats(mean: unknown, std: unknown): boolean {
  const nums = (a: unknown, positive: boolean) => Array.isArray(a) && a.length > 0 && a.length <= 64 && a.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  return nums(mean, false) && nums(std, true) && (mean as number[]).length === (std as number[]).length;
}

// The optimiser part of a checkpoint file: PyTorch's layout, every index bounded by the model's tensor count.
function optimizerField(
  v: unknown,
  limit: number,
  invalid: (field: string, why: string) => never,
  fail: (where: string, what: string) => never,
): OptimizerStateDict {
  if (!isPlainObject(v)) return invalid('optimizer', `is ${describe(v)} instead of {state, param_groups} (an optimizer state dict)`);
  const index = (x: unknown, field: string): number => {
    const i = typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : x;
    if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0 || i >= limit) return invalid(field, `is ${describe(x)} instead of a parameter index below ${limit} (the model's tensor count)`);
    return i;
  };
  const state = new Map<number, ParamState>();
  const raw = v.state;
  const entries = raw instanceof Map ? [...raw.entries()] : isPlainObject(raw) ? Object.entries(raw) : invalid('optimizer.state', `is ${describe(raw)} instead of a dict of parameter index → state`);
  if (entries.length > limit) invalid('optimizer.state', `has ${entries.length} entries, more than the model's ${limit} tensors`);
  for (const [k, st] of entries) {
    const i = index(k, `optimizer.state key ${describe(k)}`);
    if (!isPlainObject(st)) invalid(`optimizer.state[${i}]`, `is ${describe(st)} instead of a dict of name → tensor`);
    for (const [name, t] of Object.entries(st)) if (!(t instanceof Tensor)) invalid(`optimizer.state[${i}].${name}`, `is ${describe(t)} instead of a tensor`);
    state.set(i, st as ParamState);
  }
  const groups = v.param_groups;
  if (!Array.isArray(groups) || groups.length > limit + 1 || !groups.every(isPlainObject)) invalid('optimizer.param_groups', `is ${describe(groups)} instead of a list of at most ${limit + 1} dicts`);
  let total = 0;
  const param_groups = (groups as Record<string, unknown>[]).map((g, gi) => {
    const params = g.params;
    if (!Array.isArray(params)) invalid(`optimizer.param_groups[${gi}].params`, `is ${describe(params)} instead of a list of parameter indices`);
    total += (params as unknown[]).length;
    if (total > limit) invalid('optimizer.param_groups', `list more than the model's ${limit} tensors`);
    (params as unknown[]).forEach((p, j) => index(p, `optimizer.param_groups[${gi}].params[${j}]`));
    return plainData(g, `optimizer.param_groups[${gi}]`, fail) as OptimizerStateDict['param_groups'][number];
  });
  return { state, param_groups };
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

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Tensor) return 'a Tensor';
  if (v instanceof Map) return 'a Map (a dict with non-string keys)';
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    return keys.length ? `a dict with keys ${keys.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}${keys.length > 5 ? ', …' : ''}` : 'an empty dict';
  }
  if (typeof v === 'object') return (v as object).constructor?.name ? `a ${(v as object).constructor.name}` : 'an object';
  return `a ${typeof v}`;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
const child = (where: string, k: string | number): string => (typeof k === 'number' ? `${where}[${k}]` : IDENT.test(k) ? `${where}.${k}` : `${where}[${JSON.stringify(k)}]`);

/**
 * Checks that `value` is plain data (plain objects, arrays, strings, numbers, booleans, null) and returns
 * a copy without undefined object members (dropped, as JSON does); `fail(where, what)` reports the first
 * value that is not.
 */
function plainData(value: unknown, where: string, fail: (where: string, what: string) => never, seen: Set<unknown> = new Set()): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  if (value === undefined) return fail(where, 'is undefined');
  if (typeof value === 'bigint') return fail(where, `is a bigint (${value}n)`);
  if (typeof value !== 'object') return fail(where, `is ${describe(value)}`);
  if (value instanceof Tensor) return fail(where, 'is a Tensor (put tensors in modelState or optimizerState.state)');
  if (seen.has(value)) return fail(where, 'refers back to itself (a cycle)');
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((v, i) => plainData(v, child(where, i), fail, seen));
  } else if (isPlainObject(value)) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) setOwn(o, k, plainData(v, child(where, k), fail, seen));
    out = o;
  } else {
    return fail(where, `is ${describe(value)}`);
  }
  seen.delete(value);
  return out;
}

function copyTensors(dict: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const k of Object.keys(dict)) setOwn(out, k, dict[k]);
  return out;
}

function tensorDict(file: string, label: string, dict: unknown): Record<string, Tensor> {
  if (!isPlainObject(dict)) throw new TypeError(`saveCheckpoint: cannot save ${file}: ${label} must be an object of name → Tensor.`);
  for (const [k, t] of Object.entries(dict)) {
    if (!(t instanceof Tensor)) throw new TypeError(`saveCheckpoint: cannot save ${file}: ${label}[${JSON.stringify(k)}] is not a Tensor.`);
    if (t.isDisposed) throw new Error(`saveCheckpoint: cannot save ${file}: ${label}[${JSON.stringify(k)}] has been disposed.`);
  }
  return dict as Record<string, Tensor>;
}

/**
 * Writes `ckpt` to `file` atomically as a torch.save-compatible file (see the file header): a crash
 * leaves the previous checkpoint intact, never half of one. Tensors may live on any device (they are
 * copied to the CPU one at a time as the file is written). Fields other than tensors must be plain data;
 * anything else is an error naming the field, raised before the file is touched.
 */
export function saveCheckpoint(file: string, ckpt: Checkpoint): void {
  if (typeof file !== 'string' || !file) throw new TypeError(`saveCheckpoint: expected a file path but received ${String(file)}.`);
  if (!isPlainObject(ckpt)) throw new TypeError(`saveCheckpoint: cannot save ${file}: the checkpoint must be an object (see the Checkpoint interface).`);
  const bad = (where: string, what: string): never => {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: ${where} ${what}; checkpoint fields other than the tensors must be plain JSON data.`);
  };
  const count = (name: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TypeError(`saveCheckpoint: cannot save ${file}: ${name} must be a non-negative integer, but it is ${describe(v)}.`);
    return v;
  };
  const model = ckpt.model as unknown;
  if (!isPlainObject(model) || typeof model.name !== 'string' || !model.name || (model.args !== undefined && !isPlainObject(model.args))) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: model must be a ModelSpec {name, args}.`);
  }
  if (!isPlainObject(ckpt.config)) throw new TypeError(`saveCheckpoint: cannot save ${file}: config must be a plain object.`);
  const optim = ckpt.optimizerState as unknown as Record<string, unknown>;
  if (!isPlainObject(optim) || !(optim.state instanceof Map) || !Array.isArray(optim.param_groups) || !optim.param_groups.every(isPlainObject)) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: optimizerState must be an optimizer's stateDict() {state: Map, param_groups: [...]}.`);
  }
  const optimState = new Map<number, Record<string, Tensor>>();
  for (const [i, st] of optim.state as Map<unknown, unknown>) {
    if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0) throw new TypeError(`saveCheckpoint: cannot save ${file}: optimizerState.state has the key ${describe(i)}; keys are parameter indices.`);
    optimState.set(i, copyTensors(tensorDict(file, `optimizerState.state[${i}]`, st)));
  }
  if (ckpt.classes !== undefined && (!Array.isArray(ckpt.classes) || !ckpt.classes.every((c) => typeof c === 'string'))) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: classes must be an array of strings when given.`);
  }
  const norm = ckpt.normalization as unknown as Record<string, unknown> | undefined;
  if (norm !== undefined && !(isPlainObject(norm) && validStats(norm.mean, norm.std))) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: normalization must be {mean, std}, arrays of the same length of finite numbers (std > 0).`);
  }
  if (!Array.isArray(ckpt.history) || !ckpt.history.every(isPlainObject)) throw new TypeError(`saveCheckpoint: cannot save ${file}: history must be an array of records (plain objects).`);
  if (ckpt.bestAcc !== null && typeof ckpt.bestAcc !== 'number') {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: bestAcc must be a number or null, but it is ${describe(ckpt.bestAcc)}.`);
  }
  if (ckpt.sampler !== undefined && !isPlainObject(ckpt.sampler)) throw new TypeError(`saveCheckpoint: cannot save ${file}: sampler must be a plain object when given.`);
  if (ckpt.epochProgress !== undefined && !isPlainObject(ckpt.epochProgress)) throw new TypeError(`saveCheckpoint: cannot save ${file}: epochProgress must be a plain object when given.`);
  const rng = ckpt.rng as unknown;
  if (!isPlainObject(rng) || !(rng.cpu instanceof Tensor) || !Array.isArray(rng.cuda) || !rng.cuda.every((t) => t instanceof Tensor)) {
    throw new TypeError(`saveCheckpoint: cannot save ${file}: rng must be {cpu: Tensor, cuda: Tensor[]} as rngState() returns.`);
  }
  for (const [i, t] of [rng.cpu as Tensor, ...(rng.cuda as Tensor[])].entries()) {
    if (t.isDisposed) throw new Error(`saveCheckpoint: cannot save ${file}: rng ${i === 0 ? 'cpu' : `cuda[${i - 1}]`} has been disposed.`);
  }
  const modelState = tensorDict(file, 'modelState', ckpt.modelState);

  const value: Record<string, unknown> = {
    format: FORMAT,
    version: CHECKPOINT_FORMAT_VERSION,
    model_spec: { name: model.name, args: plainData(model.args ?? {}, 'model.args', bad) },
    config: plainData(ckpt.config, 'config', bad),
    epoch: count('epoch', ckpt.epoch),
    step: count('step', ckpt.step),
    best_acc: ckpt.bestAcc === null ? null : float(ckpt.bestAcc),
    // copies, so that marking the state dict as an OrderedDict leaves the caller's object as it was
    model: orderedDict(copyTensors(modelState)),
    optimizer: { state: optimState, param_groups: plainData(optim.param_groups, 'optimizerState.param_groups', bad) },
    rng: { cpu: rng.cpu, cuda: [...(rng.cuda as Tensor[])] },
  };
  if (ckpt.classes !== undefined) value.classes = [...ckpt.classes];
  if (norm !== undefined) value.normalization = { mean: (norm.mean as number[]).map(float), std: (norm.std as number[]).map(float) };
  if (ckpt.sampler !== undefined) value.sampler = plainData(ckpt.sampler, 'sampler', bad);
  value.history = plainData(ckpt.history, 'history', bad);
  if (ckpt.epochProgress !== undefined) value.epoch_progress = plainData(ckpt.epochProgress, 'epochProgress', bad);
  saveTorchFile('saveCheckpoint', file, value, 'checkpoint');
}

/**
 * Reads and verifies a checkpoint written by `saveCheckpoint`: the CRC-32 of every part of the file and
 * then every field (types, ranges, sizes) are checked before anything is used, so a damaged or
 * tampered file is an error naming the file and what is wrong, rather than a run that misbehaves.
 * Model and optimiser tensors are placed on `options.device` (default `cpu`); the random generator
 * states stay on the CPU. The returned tensors belong to the caller (dispose them, or load inside `tidy`).
 */
export function loadCheckpoint(file: string, options: { device?: string } = {}): Checkpoint {
  if (typeof file !== 'string' || !file) throw new TypeError(`loadCheckpoint: expected a file path but received ${String(file)}.`);
  knownOptions('loadCheckpoint', options, ['device']);
  const device = options.device ?? 'cpu';
  if (typeof device !== 'string' || !device) throw new TypeError(`loadCheckpoint: options.device must be a device name such as "cpu" or "cuda:0", not ${String(device)}.`);
  const tf = TorchFile.open('loadCheckpoint', file);
  const moved: Tensor[] = [];
  try {
    const invalid = (field: string, why: string): never => {
      throw new Error(`loadCheckpoint: ${file} is not a valid checkpoint: ${field} ${why}.`);
    };
    const v = tf.materialize(tf.root, 'the checkpoint') as unknown;
    tf.verifyRest();
    if (!isPlainObject(v)) invalid('the file', `holds ${describe(v)} instead of a dict`);
    const ck = v as Record<string, unknown>;
    if (ck.format !== FORMAT) {
      const keys = Object.keys(ck).slice(0, 12).map((k) => JSON.stringify(k)).join(', ');
      const allTensors = Object.keys(ck).length > 0 && Object.values(ck).every((x) => x instanceof Tensor);
      throw new Error(
        `loadCheckpoint: ${file} is a PyTorch file but not an ictorch checkpoint (it has no format "${FORMAT}"; its keys: ${keys})` +
          (allTensors ? '; it looks like a state dict, which loadStateDict reads.' : '; loadStateDict reads a state dict from it, load reads any value.'),
      );
    }
    if (ck.version !== CHECKPOINT_FORMAT_VERSION) {
      throw new Error(
        `loadCheckpoint: ${file} uses checkpoint format version ${describe(ck.version)}, but this ictorch reads only version ${CHECKPOINT_FORMAT_VERSION}; ` +
          'load it with the ictorch version that wrote it.',
      );
    }
    const fail = (where: string, what: string): never => invalid(where, what);
    const plainField = (key: string, field: string): Record<string, unknown> => {
      if (!isPlainObject(ck[key])) invalid(field, `is ${describe(ck[key])} instead of a dict with str keys`);
      return plainData(ck[key], field, fail) as Record<string, unknown>;
    };
    const countField = (key: string, field: string): number => {
      const n = ck[key];
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) invalid(field, `is ${describe(n)} instead of a non-negative integer`);
      return n as number;
    };
    const tensors = (x: unknown, field: string): Record<string, Tensor> => {
      if (!isPlainObject(x)) invalid(field, `is ${describe(x)} instead of a dict of name → tensor`);
      for (const [k, t] of Object.entries(x as Record<string, unknown>)) if (!(t instanceof Tensor)) invalid(child(field, k), `is ${describe(t)} instead of a tensor`);
      return x as Record<string, Tensor>;
    };
    const rngTensor = (t: unknown, field: string): Tensor => {
      if (!(t instanceof Tensor)) return invalid(field, `is ${describe(t)} instead of a uint8 tensor`);
      if (t.dtype !== 'uint8' || t.ndim !== 1 || t.numel() === 0 || t.numel() > MAX_RNG_BYTES) {
        invalid(field, `is a ${t.dtype} tensor of shape [${t.shape.join(', ')}]; a generator state is a 1-d uint8 tensor of at most ${MAX_RNG_BYTES} bytes`);
      }
      return t;
    };

    const spec = ck.model_spec;
    if (!isPlainObject(spec) || typeof spec.name !== 'string' || !spec.name || !isPlainObject(spec.args)) {
      invalid('model_spec', `is ${describe(spec)} instead of {name: a non-empty str, args: a dict}`);
    }
    const model: ModelSpec = { name: (spec as Record<string, unknown>).name as string, args: plainData((spec as Record<string, unknown>).args, 'model_spec.args', fail) as ModelSpec['args'] };
    const config = plainField('config', 'config');
    const epoch = countField('epoch', 'epoch');
    const step = countField('step', 'step');
    const bestAcc = ck.best_acc;
    if (bestAcc !== null && typeof bestAcc !== 'number') invalid('best_acc', `is ${describe(bestAcc)} instead of a number or None`);
    const modelState = tensors(ck.model, 'model');
    const optimizerState = optimizerField(ck.optimizer, Object.keys(modelState).length, invalid, fail);
    const rngV = ck.rng;
    if (!isPlainObject(rngV) || !Array.isArray(rngV.cuda)) invalid('rng', `is ${describe(rngV)} instead of {cpu: tensor, cuda: [tensors]}`);
    const rngO = rngV as { cpu: unknown; cuda: unknown[] };
    if (rngO.cuda.length > MAX_CUDA_DEVICES) invalid('rng.cuda', `holds ${rngO.cuda.length} generator states (at most ${MAX_CUDA_DEVICES})`);
    const rng = { cpu: rngTensor(rngO.cpu, 'rng.cpu'), cuda: rngO.cuda.map((t, i) => rngTensor(t, `rng.cuda[${i}]`)) };
    const history = ck.history;
    if (!Array.isArray(history) || !history.every(isPlainObject)) invalid('history', `is ${describe(history)} instead of a list of dicts`);
    const ckpt: Checkpoint = {
      model,
      config,
      epoch,
      step,
      bestAcc: bestAcc as number | null,
      modelState,
      optimizerState,
      rng,
      history: plainData(history, 'history', fail) as Record<string, unknown>[],
    };
    if (ck.classes !== undefined && ck.classes !== null) {
      const c = ck.classes;
      if (!Array.isArray(c) || c.length > MAX_CLASSES || !c.every((x) => typeof x === 'string')) invalid('classes', `is ${describe(c)} instead of a list of at most ${MAX_CLASSES} str`);
      ckpt.classes = [...(c as string[])];
    }
    if (ck.normalization !== undefined && ck.normalization !== null) {
      const n = ck.normalization as Record<string, unknown>;
      if (!isPlainObject(n) || !validStats(n.mean, n.std)) invalid('normalization', `is ${describe(n)} instead of {mean, std}: lists of the same length of finite numbers (std > 0)`);
      ckpt.normalization = { mean: [...(n.mean as number[])], std: [...(n.std as number[])] };
    }
    if (ck.sampler !== undefined && ck.sampler !== null) ckpt.sampler = plainField('sampler', 'sampler');
    if (ck.epoch_progress !== undefined && ck.epoch_progress !== null) ckpt.epochProgress = plainField('epoch_progress', 'epoch_progress');

    if (device !== 'cpu') {
      const originals: Tensor[] = [];
      for (const group of [ckpt.modelState, ...ckpt.optimizerState.state.values()]) {
        for (const k of Object.keys(group)) {
          let t: Tensor;
          try {
            t = group[k].to({ device });
          } catch (err) {
            throw new Error(`loadCheckpoint: cannot move the tensors of ${file} to device "${device}" (${(err as Error).message}).`);
          }
          moved.push(t);
          originals.push(group[k]);
          setOwn(group, k, t);
        }
      }
      for (const t of originals) t.dispose();
    }
    tf.keep();
    return ckpt;
  } catch (e) {
    for (const t of moved) t.dispose();
    throw e;
  } finally {
    tf.dispose();
  }
}

/** Frees every tensor a loaded (or built) checkpoint holds: model, optimiser state and generator states. */
export function disposeCheckpoint(ck: Checkpoint): void {
  const all = [...Object.values(ck.modelState), ...[...ck.optimizerState.state.values()].flatMap((s) => Object.values(s)), ck.rng.cpu, ...ck.rng.cuda];
  for (const t of all) if (t instanceof Tensor) t.dispose();
}

/**
 * Writes the model's weights (e.g. `model.stateDict()`) as a PyTorch-loadable `.pt` file
 * (`torch.load(file)` in Python gives the state dict), atomically. Tensors on a GPU are copied
 * to the CPU as the file is written, so the file loads on machines without one.
 */
export function exportWeights(file: string, modelState: Record<string, Tensor>): void {
  if (typeof file !== 'string' || !file) throw new TypeError(`exportWeights: expected a file path but received ${String(file)}.`);
  if (!isPlainObject(modelState)) throw new TypeError(`exportWeights: cannot write ${file}: modelState must be an object of name → Tensor.`);
  for (const [k, t] of Object.entries(modelState)) {
    if (!(t instanceof Tensor)) throw new TypeError(`exportWeights: cannot write ${file}: modelState["${k}"] is not a Tensor.`);
    if (t.isDisposed) throw new Error(`exportWeights: cannot write ${file}: modelState["${k}"] has been disposed.`);
  }
  saveStateDict(file, modelState);
}
