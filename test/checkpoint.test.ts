// Checkpoints: exact round trips of every field and dtype, atomic replacement, corruption detection,
// RNG resumption, and PyTorch interop of exported weights (both directions, when Python has torch).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { arange, rand, tensor } from '../lib/creation';
import type { DType } from '../lib/dtype';
import { cuda, manualSeed, memory, rngState, setRngState } from '../lib/runtime';
import { loadStateDict } from '../lib/serialize';
import { Tensor } from '../lib/tensor';
import { tensorsIn } from './helpers/torchfile';
import { disposeCheckpoint, exportWeights, loadCheckpoint, saveCheckpoint, CHECKPOINT_FORMAT_VERSION, type Checkpoint } from '../lib/train/io';
import { load, save } from '../lib/io/torchfile';
import * as py from '../lib/io/pyvalue';
import { bufferSource } from '../lib/io/source';
import { ZipReader } from '../lib/io/zip';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-ckpt-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
const fresh = (name = 'run.ckpt'): string => path.join(tmp, `${counter++}`, name);

const PYTHON = '/usr/bin/python3';
const hasTorch = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/** Plain JS values of a tensor (bigints for int64), exact. */
const values = (t: Tensor): (number | bigint)[] => Array.from(t.toArray() as ArrayLike<number | bigint>);

/** Expected contents of each saved tensor, written out by hand. */
interface Spec {
  dtype: DType;
  shape: number[];
  data: (number | bigint)[];
}

function make(spec: Spec): Tensor {
  const { dtype, shape, data } = spec;
  if (dtype === 'int64') return tensor(BigInt64Array.from(data as bigint[]), { shape, dtype });
  if (dtype === 'uint8' || dtype === 'bool') return tensor(Uint8Array.from(data as number[]), { shape, dtype });
  return tensor(Float64Array.from(data as number[]), { shape, dtype });
}

// Every value here is exactly representable in its dtype, so the round trip must be bit-exact.
const MODEL: Record<string, Spec> = {
  'conv.weight': { dtype: 'float32', shape: [2, 3], data: [0, -1.5, 0.25, 3.4028234663852886e38, 1.401298464324817e-45, -0] },
  'fc.weight64': { dtype: 'float64', shape: [2, 2], data: [1 / 3, -1e-300, Number.MAX_VALUE, Math.PI] },
  'special.f32': { dtype: 'float32', shape: [3], data: [NaN, Infinity, -Infinity] },
  'half.weight': { dtype: 'float16', shape: [5], data: [1.5, 65504, -2, 5.960464477539063e-8, -0.0009765625] },
  'bf.weight': { dtype: 'bfloat16', shape: [2, 2], data: [1, -3.140625, 3.3895313892515355e38, 0.0078125] },
  'bn.num_batches_tracked': { dtype: 'int64', shape: [], data: [123456789012345n] },
  'int64.edges': { dtype: 'int64', shape: [3], data: [-(2n ** 63n), 2n ** 63n - 1n, 0n] },
  'int32.values': { dtype: 'int32', shape: [2], data: [-2147483648, 2147483647] },
  'bytes': { dtype: 'uint8', shape: [4], data: [0, 1, 128, 255] },
  'int8.values': { dtype: 'int8', shape: [4], data: [-128, 127, 0, -1] },
  'int16.values': { dtype: 'int16', shape: [3], data: [-32768, 32767, 5] },
  'mask': { dtype: 'bool', shape: [2, 2], data: [1, 0, 0, 1] },
  'scalar': { dtype: 'float32', shape: [], data: [2.5] },
  'empty': { dtype: 'float32', shape: [0, 3], data: [] },
  'empty.int': { dtype: 'int64', shape: [0], data: [] },
  'empty.half': { dtype: 'float16', shape: [2, 0], data: [] },
};

// Optimiser state in PyTorch's layout: parameter index → {name: tensor}.
const OPTIM: [number, string, Spec][] = [
  [0, 'momentum_buffer', { dtype: 'float32', shape: [2, 3], data: [0.5, 0.25, -0.125, 0, 1, 2] }],
  [2, 'exp_avg', { dtype: 'float64', shape: [1], data: [-7.75] }],
  [2, 'step', { dtype: 'float32', shape: [], data: [3] }],
];
const GROUPS = [
  { lr: 0.01, momentum: 0.9, nesterov: false, weight_decay: 1e-4, params: [0, 1] },
  { lr: 0.01, betas: [0.9, 0.999], weight_decay: 0, params: [2] },
];

function build(): Checkpoint {
  const modelState: Record<string, Tensor> = {};
  for (const [k, s] of Object.entries(MODEL)) modelState[k] = make(s);
  // A non-contiguous tensor is saved in row-major order of its logical shape.
  modelState['transposed'] = arange(0, 6).reshape(2, 3).t();
  const state = new Map<number, Record<string, Tensor>>();
  for (const [i, k, s] of OPTIM) state.set(i, { ...state.get(i), [k]: make(s) });
  manualSeed(1234);
  return {
    model: { name: 'resnet', args: { depth: 20, layout: 'relu-ic-conv', dropout: 0.1 } },
    config: { lr: 0.1, epochs: 160, schedule: [80, 120], data: { name: 'cifar10', augment: true }, note: 'ünïcødé ✓' },
    epoch: 7,
    step: 2737,
    bestAcc: 0.9123,
    modelState,
    optimizerState: { state, param_groups: GROUPS },
    classes: ['cat', 'dog', 'ünïcødé'],
    normalization: { mean: [0.5, 0.25, 0.125], std: [0.2, 0.3, 1] },
    rng: rngState(),
    sampler: { seed: 42, epoch: 7, offset: 128, perm: [3, 1, 2, 0] },
    history: [
      { epoch: 1, trainLoss: 2.1, testLoss: 1.9, trainAcc: 0.21, testAcc: 0.3 },
      { epoch: 2, trainLoss: NaN, testLoss: Infinity, trainAcc: -Infinity, testAcc: null },
    ],
  };
}

function dispose(c: Checkpoint): void {
  disposeCheckpoint(c);
}


/** Loads the file's dict, lets `edit` change it and writes it back, as another (Python) writer could. */
function rewrite(file: string, edit: (ck: Record<string, any>) => void): void {
  const ck = load(file) as Record<string, any>;
  edit(ck);
  save(ck, file);
  for (const t of tensorsIn(ck)) t.dispose();
}

describe('saveCheckpoint / loadCheckpoint round trip', () => {
  it('restores every field and every tensor exactly', () => {
    const file = fresh();
    const c = build();
    saveCheckpoint(file, c);
    const r = loadCheckpoint(file);
    try {
      expect(r.model).toEqual(c.model);
      expect(r.config).toEqual(c.config);
      expect([r.epoch, r.step, r.bestAcc]).toEqual([7, 2737, 0.9123]);
      expect(r.optimizerState.param_groups).toEqual(GROUPS);
      expect(r.classes).toEqual(c.classes);
      expect(r.normalization).toEqual(c.normalization);
      expect(r.sampler).toEqual(c.sampler);
      // NaN and ±Infinity in the history survive (JSON alone would turn them into null).
      expect(r.history).toEqual(c.history);
      expect(Number.isNaN(r.history[1].trainLoss)).toBe(true);
      expect(r.history[1].testLoss).toBe(Infinity);
      expect(r.history[1].trainAcc).toBe(-Infinity);

      expect(Object.keys(r.modelState)).toEqual(Object.keys(c.modelState));
      for (const [k, s] of Object.entries(MODEL)) {
        const t = r.modelState[k];
        expect([k, t.dtype, t.shape, t.device]).toEqual([k, s.dtype, s.shape, 'cpu']);
        expect(values(t)).toEqual(s.data);
        expect(values(t)).toEqual(values(c.modelState[k]));
      }
      expect(r.modelState['mask'].toNested()).toEqual([[true, false], [false, true]]);
      expect(r.modelState['transposed'].toNested()).toEqual([[0, 3], [1, 4], [2, 5]]);
      expect([...r.optimizerState.state.keys()]).toEqual([0, 2]);
      for (const [i, k, s] of OPTIM) {
        const t = r.optimizerState.state.get(i)![k];
        expect([t.dtype, t.shape]).toEqual([s.dtype, s.shape]);
        expect(values(t)).toEqual(s.data);
      }
      expect(r.rng.cpu.dtype).toBe(c.rng.cpu.dtype);
      expect(values(r.rng.cpu)).toEqual(values(c.rng.cpu));
      expect(r.rng.cuda.length).toBe(c.rng.cuda.length);
      r.rng.cuda.forEach((t, i) => expect(values(t)).toEqual(values(c.rng.cuda[i])));
    } finally {
      dispose(c);
      dispose(r);
    }
  });

  it('keeps unusual keys such as "__proto__" as plain data', () => {
    const file = fresh();
    const c = build();
    const config = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    saveCheckpoint(file, { ...c, config });
    const r = loadCheckpoint(file);
    expect(Object.keys(r.config)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(r.config)).toBe('{"__proto__":{"polluted":true},"a":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    dispose(c);
    dispose(r);
  });

  it('keeps an absent sampler absent and accepts empty dicts', () => {
    const file = fresh();
    const rng = rngState();
    saveCheckpoint(file, {
      model: { name: 'resnet', args: {} }, config: {}, epoch: 0, step: 0, bestAcc: null,
      modelState: {}, optimizerState: { state: new Map(), param_groups: [] }, rng, history: [],
    });
    const r = loadCheckpoint(file);
    expect('sampler' in r).toBe(false);
    expect('classes' in r).toBe(false);
    expect([r.bestAcc, r.history, r.modelState, r.optimizerState]).toEqual([null, [], {}, { state: new Map(), param_groups: [] }]);
    rng.cpu.dispose();
    dispose(r);
  });

  it('writes one torch.save dict with the documented keys, each zip entry 64-byte aligned', () => {
    const file = fresh();
    const c = build();
    saveCheckpoint(file, c);
    dispose(c);
    const ck = load(file) as Record<string, any>;
    try {
      expect(Object.keys(ck)).toEqual(['format', 'version', 'model_spec', 'config', 'epoch', 'step', 'best_acc', 'model', 'optimizer', 'rng', 'classes', 'normalization', 'sampler', 'history']);
      expect([ck.format, ck.version, ck.epoch, ck.step, ck.best_acc]).toEqual(['ictorch-checkpoint', CHECKPOINT_FORMAT_VERSION, 7, 2737, 0.9123]);
      expect(ck.model_spec).toEqual({ name: 'resnet', args: { depth: 20, layout: 'relu-ic-conv', dropout: 0.1 } });
      expect(py.isOrderedDict(ck.model)).toBe(true);
      expect(Object.keys(ck.model)).toEqual([...Object.keys(MODEL), 'transposed']);
      expect(Object.keys(ck.optimizer)).toEqual(['state', 'param_groups']);
      expect(ck.optimizer.state).toBeInstanceOf(Map); // int keys, as torch.optim writes them
      expect(ck.optimizer.param_groups).toEqual(GROUPS);
      expect(Object.keys(ck.rng)).toEqual(['cpu', 'cuda']);
      const zip = ZipReader.open(bufferSource(fs.readFileSync(file)));
      expect(zip.entries.map((e) => e.name).slice(0, 3)).toEqual(['archive/data.pkl', 'archive/byteorder', 'archive/data/0']);
      expect(zip.entries[zip.entries.length - 1].name).toBe('archive/version');
      for (const e of zip.entries) expect([e.name, e.dataOffset % 64, e.method]).toEqual([e.name, 0, 0]);
    } finally {
      for (const t of tensorsIn(ck)) t.dispose();
    }
  });

  it('rejects non-JSON data in the JSON fields with a sentence naming the field', () => {
    const file = fresh();
    const c = build();
    expect(() => saveCheckpoint(file, { ...c, config: { when: new Date(0) } })).toThrow(/saveCheckpoint: cannot save .*run\.ckpt: config\.when is a Date/);
    expect(() => saveCheckpoint(file, { ...c, history: [{ loss: 1n }] })).toThrow(/history\[0\]\.loss is a bigint/);
    expect(() => saveCheckpoint(file, { ...c, epoch: 1.5 })).toThrow(/epoch must be a non-negative integer/);
    expect(fs.existsSync(file)).toBe(false);
    dispose(c);
  });

  it.skipIf(!cuda.isAvailable())('places model and optimiser tensors on the requested device, RNG states on the CPU', () => {
    const file = fresh();
    const c = build();
    saveCheckpoint(file, c);
    const r = loadCheckpoint(file, { device: 'cuda' });
    expect(r.modelState['conv.weight'].device).toMatch(/^cuda/);
    expect(r.optimizerState.state.get(0)!.momentum_buffer.device).toMatch(/^cuda/);
    expect(values(r.modelState['half.weight'])).toEqual(MODEL['half.weight'].data);
    expect(r.rng.cpu.device).toBe('cpu');
    r.rng.cuda.forEach((t) => expect(t.device).toBe('cpu'));
    // and a checkpoint of GPU tensors saves like any other
    const file2 = fresh();
    saveCheckpoint(file2, r);
    const r2 = loadCheckpoint(file2);
    expect(values(r2.modelState['bf.weight'])).toEqual(MODEL['bf.weight'].data);
    dispose(c);
    dispose(r);
    dispose(r2);
  });
});

describe('atomic replacement', () => {
  for (const where of ['the last model tensor', 'the RNG state (the last tensor written)'] as const) {
    it(`leaves the previous checkpoint intact when ${where} is disposed`, () => {
      const file = fresh();
      const dir = path.dirname(file);
      const c = build();
      saveCheckpoint(file, c);
      const before = fs.readFileSync(file);

      const bad = build();
      const victim = where === 'the last model tensor' ? bad.modelState['transposed'] : bad.rng.cpu;
      victim.dispose();
      bad.epoch = 8;
      expect(() => saveCheckpoint(file, bad)).toThrow(/saveCheckpoint: cannot save .*run\.ckpt: .* has been disposed\./);

      expect(fs.readFileSync(file).equals(before)).toBe(true);
      expect(fs.readdirSync(dir)).toEqual(['run.ckpt']); // no temp file left behind
      const r = loadCheckpoint(file);
      expect(r.epoch).toBe(7);
      expect(values(r.modelState['conv.weight'])).toEqual(MODEL['conv.weight'].data);
      dispose(c);
      dispose(r);
      dispose(bad);
    });
  }

  it('replaces an existing checkpoint with the new one', () => {
    const file = fresh();
    const c = build();
    saveCheckpoint(file, c);
    saveCheckpoint(file, { ...c, epoch: 9, bestAcc: 0.95 });
    const r = loadCheckpoint(file);
    expect([r.epoch, r.bestAcc]).toEqual([9, 0.95]);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['run.ckpt']);
    dispose(c);
    dispose(r);
  });
});

describe('verification on load', () => {
  const small = (): string => {
    const file = fresh();
    const rng = { cpu: tensor(new Uint8Array([1, 2, 3, 4])), cuda: [] };
    const w = tensor(new Float32Array([1, 2, 3]));
    saveCheckpoint(file, {
      model: { name: 'resnet', args: { depth: 20 } }, config: { lr: 0.1 }, epoch: 1, step: 10, bestAcc: 0.5,
      modelState: { w }, optimizerState: { state: new Map(), param_groups: [{ lr: 0.1, params: [0] }] }, rng, history: [{ epoch: 1 }],
    });
    w.dispose();
    rng.cpu.dispose();
    return file;
  };

  it('names the path of a missing file', () => {
    const file = path.join(tmp, 'nowhere', 'missing.ckpt');
    expect(() => loadCheckpoint(file)).toThrow(`loadCheckpoint: ${file} does not exist.`);
  });

  it('a flipped byte anywhere is an error, or (in zip metadata no reader uses) changes nothing; never different values', () => {
    const file = small();
    const good = fs.readFileSync(file);
    const ref = loadCheckpoint(file);
    const refW = values(ref.modelState.w);
    const refRng = values(ref.rng.cpu);
    dispose(ref);
    // The bytes of data.pkl and of every tensor: a flip there must always be reported.
    const zip = ZipReader.open(bufferSource(good));
    const content = new Set<number>();
    for (const e of zip.entries) for (let i = e.dataOffset; i < e.dataOffset + e.compressedSize; i++) content.add(i);
    const damaged = path.join(path.dirname(file), 'damaged.ckpt');
    let harmless = 0;
    for (let i = 0; i < good.length; i++) {
      const b = Buffer.from(good);
      b[i] ^= 0x01;
      fs.writeFileSync(damaged, b);
      let message = '';
      try {
        const r = loadCheckpoint(damaged);
        const same = values(r.modelState.w).join() === refW.join() && values(r.rng.cpu).join() === refRng.join() && r.epoch === 1 && r.step === 10;
        dispose(r);
        expect({ byte: i, same, content: content.has(i) }).toEqual({ byte: i, same: true, content: false });
        harmless++;
        continue;
      } catch (e) {
        message = (e as Error).message;
      }
      expect({ byte: i, message }).toEqual({ byte: i, message: expect.stringMatching(/^loadCheckpoint: .*damaged\.ckpt (is corrupt \(.+\)|is not a PyTorch file|cannot be loaded|is not a valid checkpoint)/) });
      if (content.has(i)) expect({ byte: i, message }).toEqual({ byte: i, message: expect.stringMatching(/is corrupt \(CRC-32 mismatch in "archive\//) });
    }
    // Only fixed fields such as timestamps, versions and PyTorch's alignment padding are not checked.
    expect(harmless).toBeLessThan(good.length / 4);
  });

  it('reports a truncated file as truncated', () => {
    const file = small();
    const good = fs.readFileSync(file);
    const cut = path.join(path.dirname(file), 'cut.ckpt');
    for (let n = 0; n < good.length; n++) {
      fs.writeFileSync(cut, good.subarray(0, n));
      expect(() => loadCheckpoint(cut), `cut to ${n} bytes`).toThrow(/^loadCheckpoint: .*cut\.ckpt is corrupt \(truncated/);
    }
  });

  it('reports extra bytes after the end', () => {
    const file = small();
    fs.appendFileSync(file, Buffer.from('tail'));
    expect(() => loadCheckpoint(file)).toThrow(/is corrupt \(4 unexpected bytes after the end/);
  });

  it('rejects a file that is not a checkpoint: other bytes, a state dict (pointing to loadStateDict), the earlier format', () => {
    const other = fresh('other.bin');
    fs.mkdirSync(path.dirname(other), { recursive: true });
    fs.writeFileSync(other, Buffer.from('NOT-A-CHECKPOINT, just some bytes that are long enough to matter'));
    expect(() => loadCheckpoint(other)).toThrow(/^loadCheckpoint: .*other\.bin is not a PyTorch file: it does not start with the zip signature/);
    const pt = fresh('weights.pt');
    const w = tensor(new Float32Array([1, 2]));
    exportWeights(pt, { w });
    w.dispose();
    expect(() => loadCheckpoint(pt)).toThrow(/weights\.pt is a PyTorch file but not an ictorch checkpoint .*keys: "w"\); it looks like a state dict, which loadStateDict reads/);
    const v1 = fresh('v1.ckpt');
    fs.mkdirSync(path.dirname(v1), { recursive: true });
    fs.writeFileSync(v1, Buffer.concat([Buffer.from('ICTORCH-CKPT\n', 'latin1'), Buffer.alloc(64)]));
    expect(() => loadCheckpoint(v1)).toThrow(/v1\.ckpt is an ictorch checkpoint in the earlier ICTORCH-CKPT format, which this version of ictorch no longer reads/);
  });

  it('rejects an unknown format version even when the file is intact', () => {
    const file = small();
    rewrite(file, (ck) => {
      ck.version = 99;
    });
    expect(() => loadCheckpoint(file)).toThrow(/^loadCheckpoint: .* uses checkpoint format version 99, but this ictorch reads only version 2/);
  });

  // Each field, damaged in an intact (correctly checksummed) file, is one error naming the file and the field.
  const fieldCases: [string, (ck: Record<string, any>) => void, RegExp][] = [
    ['epoch "x"', (ck) => (ck.epoch = 'x'), /epoch is "x" instead of a non-negative integer/],
    ['epoch -5', (ck) => (ck.epoch = -5), /epoch is -5 instead of a non-negative integer/],
    ['epoch 1.5', (ck) => (ck.epoch = 1.5), /epoch is 1\.5 instead/],
    ['step NaN', (ck) => (ck.step = NaN), /step is NaN instead of a non-negative integer/],
    ['step 2^70', (ck) => (ck.step = 2n ** 70n), /step is 1180591620717411303424n instead/],
    ['step missing', (ck) => delete ck.step, /step is missing instead of a non-negative integer/],
    ['best_acc "high"', (ck) => (ck.best_acc = 'high'), /best_acc is "high" instead of a number or None/],
    ['model_spec without name', (ck) => (ck.model_spec = { args: {} }), /model_spec is a dict with keys "args" instead of \{name/],
    ['model_spec.args a list', (ck) => (ck.model_spec.args = [1]), /model_spec is a dict with keys "name", "args" instead/],
    ['config a list', (ck) => (ck.config = [1, 2]), /config is an array of 2 instead of a dict with str keys/],
    ['config with a tensor inside', (ck) => (ck.config.t = tensor(new Float32Array([1]))), /config\.t is a Tensor/],
    ['config with int keys', (ck) => (ck.config = new Map([[1, 2]])), /config is a Map \(a dict with non-string keys\) instead/],
    ['model holding a str', (ck) => (ck.model.w = 'weights'), /model\.w is "weights" instead of a tensor/],
    ['optimizer a str', (ck) => (ck.optimizer = 'x'), /optimizer is "x" instead of \{state, param_groups\}/],
    ['optimizer params of 1e9 indices', (ck) => (ck.optimizer.param_groups[0].params = new Array(1e6).fill(0)), /optimizer\.param_groups list more than the model's 1 tensors/],
    ['optimizer param index out of range', (ck) => (ck.optimizer.param_groups[0].params = [1e9]), /optimizer\.param_groups\[0\]\.params\[0\] is 1000000000 instead of a parameter index below 1/],
    ['optimizer state with a str key', (ck) => (ck.optimizer.state = new Map([['x', {}]])), /optimizer\.state key "x" is "x" instead of a parameter index/],
    ['optimizer state holding a number', (ck) => (ck.optimizer.state = new Map([[0, { momentum_buffer: 3 }]])), /optimizer\.state\[0\]\.momentum_buffer is 3 instead of a tensor/],
    ['classes not strings', (ck) => (ck.classes = [1, 2]), /classes is an array of 2 instead of a list of at most \d+ str/],
    ['normalization with a zero std', (ck) => (ck.normalization = { mean: [0], std: [0] }), /normalization is a dict with keys "mean", "std" instead of \{mean, std\}/],
    ['rng.cpu float', (ck) => (ck.rng.cpu = tensor(new Float32Array([1]))), /rng\.cpu is a float32 tensor of shape \[1\]; a generator state is a 1-d uint8 tensor/],
    ['rng.cpu 2 MiB', (ck) => (ck.rng.cpu = tensor(new Uint8Array(2 << 20))), /rng\.cpu is a uint8 tensor of shape \[2097152\]/],
    ['rng.cuda not a list', (ck) => (ck.rng.cuda = 3), /rng is a dict with keys "cpu", "cuda" instead of \{cpu: tensor, cuda: \[tensors\]\}/],
    ['history a dict', (ck) => (ck.history = { a: 1 }), /history is a dict with keys "a" instead of a list of dicts/],
    ['history of numbers', (ck) => (ck.history = [1]), /history is an array of 1 instead of a list of dicts/],
    ['sampler a number', (ck) => (ck.sampler = 4), /sampler is 4 instead of a dict/],
    ['epoch_progress a list', (ck) => (ck.epoch_progress = []), /epoch_progress is an array of 0 instead of a dict/],
    ['fields missing', (ck) => Object.keys(ck).forEach((k) => k !== 'format' && k !== 'version' && delete ck[k]), /model_spec is missing instead/],
  ];
  for (const [name, edit, message] of fieldCases) {
    it(`rejects a checkpoint whose ${name}, naming the file and the field`, () => {
      const file = small();
      rewrite(file, edit);
      const live = memory().tensors;
      expect(() => loadCheckpoint(file)).toThrow(new RegExp(`^loadCheckpoint: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid checkpoint: ${message.source}`));
      expect(memory().tensors, 'a rejected checkpoint leaves no tensors behind').toBe(live);
    });
  }
});

describe('random generator state', () => {
  it('setRngState with the loaded state makes rand repeat the same numbers', () => {
    const file = fresh();
    manualSeed(99);
    rand([3]).dispose();
    const c = build();
    c.rng.cpu.dispose();
    c.rng.cuda.forEach((t) => t.dispose());
    c.rng = rngState();
    saveCheckpoint(file, c);
    const first = rand([6]);
    const expected = values(first);
    rand([100]).dispose(); // move the generator on
    const r = loadCheckpoint(file);
    setRngState(r.rng);
    const again = rand([6]);
    expect(values(again)).toEqual(expected);
    for (const t of [first, again]) t.dispose();
    dispose(c);
    dispose(r);
  });
});

describe.skipIf(!hasTorch)('PyTorch interop (needs /usr/bin/python3 with torch)', () => {
  const py = (code: string): string => {
    const p = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`python failed: ${p.stderr}`);
    return p.stdout;
  };

  it('exportWeights writes a .pt file torch.load reads with the same names, shapes, dtypes and sums', () => {
    const file = fresh('weights.pt');
    const state: Record<string, Tensor> = {
      'conv.weight': tensor(Float32Array.from({ length: 24 }, (_, i) => (i - 12) / 8), { shape: [2, 3, 2, 2] }),
      'bn.running_var': tensor(new Float64Array([0.5, 1.25, 3])),
      'bn.num_batches_tracked': tensor(new BigInt64Array([391n]), { shape: [] }),
      'half': tensor(new Float32Array([1.5, -0.25]), { dtype: 'float16' }),
      'mask': tensor(new Uint8Array([1, 0, 1]), { dtype: 'bool' }),
      'transposed': arange(0, 6).reshape(2, 3).t(),
    };
    exportWeights(file, state);
    const out = py(
      `import json, torch\nd = torch.load(${JSON.stringify(file)})\n` +
        'print(json.dumps({k: [list(v.shape), str(v.dtype).replace("torch.", ""), float(v.double().sum()), v.flatten().double().tolist()] for k, v in d.items()}))',
    );
    const got = JSON.parse(out) as Record<string, [number[], string, number, number[]]>;
    expect(Object.keys(got).sort()).toEqual(Object.keys(state).sort());
    for (const [k, t] of Object.entries(state)) {
      const flat = values(t).map(Number);
      expect(got[k][0]).toEqual(t.shape);
      expect(got[k][1]).toBe(t.dtype === 'float32' ? 'float32' : t.dtype);
      expect(got[k][2]).toBeCloseTo(flat.reduce((a, b) => a + b, 0), 10);
      expect(got[k][3]).toEqual(flat);
    }
    for (const t of Object.values(state)) t.dispose();
  });

  it('loadStateDict reads what Python torch.save wrote, with the same values', () => {
    const file = fresh('from-python.pt');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    py(
      'import torch\n' +
        'torch.save({"w": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7, "d": torch.tensor([1/3, -2.5], dtype=torch.float64),' +
        ' "i": torch.tensor([1, -2**40]), "h": torch.tensor([1.5, -0.25], dtype=torch.float16), "b": torch.tensor([True, False]),' +
        ` "s": torch.tensor(3.0), "e": torch.zeros(0, 4), "nc": torch.arange(6.).reshape(2, 3).t()}, ${JSON.stringify(file)})`,
    );
    const d = loadStateDict(file);
    expect(Object.keys(d).sort()).toEqual(['b', 'd', 'e', 'h', 'i', 'nc', 's', 'w']);
    expect([d.w.dtype, d.w.shape]).toEqual(['float32', [2, 3]]);
    expect(values(d.w)).toEqual([0, 1, 2, 3, 4, 5].map((i) => Math.fround(Math.fround(i) / 7)));
    expect(values(d.d)).toEqual([1 / 3, -2.5]);
    expect([d.i.dtype, values(d.i)]).toEqual(['int64', [1n, -(2n ** 40n)]]);
    expect([d.h.dtype, values(d.h)]).toEqual(['float16', [1.5, -0.25]]);
    expect(d.b.toNested()).toEqual([true, false]);
    expect([d.s.shape, d.s.item()]).toEqual([[], 3]);
    expect(d.e.shape).toEqual([0, 4]);
    expect(d.nc.toNested()).toEqual([[0, 3], [1, 4], [2, 5]]);
    for (const t of Object.values(d)) t.dispose();
  });
});
