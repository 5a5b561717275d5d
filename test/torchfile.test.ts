// PyTorch files (lib/io): files Python's torch.save wrote load with the same values, files ictorch writes load
// in Python (weights_only True and False), and every crafted or damaged file of the audit is a clear error:
// no crash, no hang, no read outside a buffer, no tensor left behind.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arange, fromBuffer, tensor } from '../lib/creation';
import { load, save, type TorchValue } from '../lib/io/torchfile';
import * as py from '../lib/io/pyvalue';
import { pickle, unpickle, PickleError } from '../lib/io/pickle';
import { bufferSource } from '../lib/io/source';
import { crc32, crc32Js, ZipReader, zipStream } from '../lib/io/zip';
import { memory } from '../lib/runtime';
import { loadStateDict, saveStateDict } from '../lib/serialize';
import { Tensor } from '../lib/tensor';
import { bytes, dict, f32, global, hasTorch, hasTorchvision, int, OP, pkl, pyAsync as python, str, tensorCall, tensorsIn, torchZip, tup } from './helpers/torchfile';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-torchfile-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
const fresh = (name = 'f.pt'): string => path.join(tmp, `${counter++}-${name}`);

const disposeAll = (v: unknown): void => tensorsIn(v).forEach((t) => t.dispose());

/** A tensor's dtype, shape and bytes (float16/bfloat16 widened to float32, bool as 0/1 bytes), as Python's `desc` below. */
// float16/bfloat16 values are compared widened to float32, and LibTorch versions widen a 16-bit NaN to different
// float32 NaNs (a stored 0x7e00 reads as 0x7fc00000 in 1.13, 0x7fffffff in 2.13): desc writes every NaN of those
// dtypes as float32's canonical NaN, on both sides. Their stored bits are compared by the load-and-save test below.
function desc(t: Tensor): { dtype: string; shape: number[]; hex: string } {
  const a = t.toArray();
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') (a as Float32Array).forEach((x, i, arr) => Number.isNaN(x) && (arr[i] = NaN));
  return { dtype: t.dtype, shape: t.shape, hex: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex') };
}

const PY_DESC = `
import torch, json, collections, zipfile, sys
def desc(t):
    c = t.detach().contiguous().reshape(-1)
    if c.dtype in (torch.float16, torch.bfloat16): c = c.float().masked_fill(c.isnan(), float('nan'))
    if c.dtype == torch.bool: c = c.to(torch.uint8)
    return {'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape), 'hex': c.numpy().tobytes().hex()}
`;

/** Writes a file with a crafted pickle (and storages) and returns its path. */
function crafted(pickleBytes: Uint8Array, storages: Record<string, Uint8Array> = {}, extra: { name: string; data: Uint8Array }[] = []): string {
  const file = fresh('crafted.pt');
  fs.writeFileSync(file, torchZip(pickleBytes, storages, extra));
  return file;
}

/** The error `load(file)` throws; checks that it is an Error starting with "load: <file>" and leaves no tensor. */
function loadError(file: string): string {
  const live = memory().tensors;
  let message: string | null = null;
  try {
    disposeAll(load(file));
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    message = (e as Error).message;
  }
  expect(message, 'expected load to fail').not.toBeNull();
  expect(message!.startsWith(`load: ${file} `), message!).toBe(true);
  expect(memory().tensors, 'a failed load leaves no tensor behind').toBe(live);
  return message!;
}

// ---------------------------------------------------------------- files Python wrote

describe.skipIf(!hasTorch)('files written by Python torch.save (needs /usr/bin/python3 with torch)', () => {
  const dir = path.join(tmp, 'python');
  let expected: Record<string, any>;
  beforeAll(async () => {
    fs.mkdirSync(dir, { recursive: true });
    await python(`${PY_DESC}
d = ${JSON.stringify(dir)}
torch.manual_seed(0)
out = {}
m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(16, 5))
m(torch.randn(2, 3, 4, 4))
sd = m.state_dict()
torch.save(sd, d + '/module.pt')
out['module'] = {k: desc(v) for k, v in sd.items()}
out['module_meta'] = {k: v for k, v in sd._metadata.items()}
torch.save({'only': torch.arange(5, dtype=torch.float64)}, d + '/one.pt')
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
m(torch.randn(2, 3, 4, 4)).sum().backward()
opt.step()
ck = {'model': m.state_dict(), 'optimizer': opt.state_dict(), 'epoch': 3,
      'config': {'lr': 0.1, 'name': 'ünï ✓', 'milestones': [80, 120], 'nan': float('nan'), 'ninf': float('-inf'), 'none': None,
                 'flag': True, 'big': 2**70, 'neg': -2**63, 'tuple': (1, 2.5, 'x'), 'one': 1.0}}
torch.save(ck, d + '/nested.pt')
out['nested'] = {'model': {k: desc(v) for k, v in ck['model'].items()},
                 'state': {str(k): desc(v['momentum_buffer']) for k, v in ck['optimizer']['state'].items()},
                 'groups': ck['optimizer']['param_groups']}
x = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
views = {'x': x, 't': x.transpose(0, 2), 'slice': x[:, 1:, ::2], 'col': x[1, :, 2], 'narrow': x.reshape(-1).narrow(0, 5, 7),
         'expand': torch.tensor([7.5]).expand(4, 3), 'perm': x.permute(2, 0, 1), 'empty': x[:, :0], 'scalar': x[1, 2, 3]}
views['tied_a'] = views['tied_b'] = torch.randn(3)
torch.save(views, d + '/views.pt')
out['views'] = {k: desc(v) for k, v in views.items()}
out['views_layout'] = {k: [list(v.stride()), v.storage_offset()] for k, v in views.items()}
xs = torch.arange(2**20, dtype=torch.float32)
torch.save({'x': xs, 'views': [xs[i:] for i in range(40)]}, d + '/manyviews.pt')
special = {
    'f32': torch.tensor([0., -0., 1.5, float('nan'), float('inf'), -float('inf'), 1e-45, 3.4e38]),
    'f64': torch.tensor([1/3, -0., float('nan'), 5e-324, 1.7e308], dtype=torch.float64),
    'f16': torch.tensor([1.5, 65504, -2, 6e-8, float('nan'), float('inf'), -0.], dtype=torch.float16),
    'bf16': torch.tensor([1, -3.140625, 3.38e38, 0.0078125, float('nan'), -float('inf')], dtype=torch.bfloat16),
    'i64': torch.tensor([-2**63, 2**63 - 1, 0, 123456789012345]),
    'i32': torch.tensor([-2**31, 2**31 - 1], dtype=torch.int32),
    'u8': torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
    'i8': torch.tensor([-128, 127, 0, -1], dtype=torch.int8),
    'i16': torch.tensor([-32768, 32767, 5], dtype=torch.int16),
    'b': torch.tensor([[True, False], [False, True]]),
    'i64_scalar': torch.tensor(7),
}
torch.save(special, d + '/dtypes.pt')
out['dtypes'] = {k: desc(v) for k, v in special.items()}
torch.save({'c': torch.tensor([1 + 2j])}, d + '/complex.pt')
torch.save({'w': torch.ones(2)}, d + '/legacy.pt', _use_new_zipfile_serialization=False)
torch.save({'p': torch.nn.Parameter(torch.tensor([1., 2.])), 'frozen': [torch.nn.Parameter(torch.zeros(1), requires_grad=False)]}, d + '/params.pt')
torch.save({'w': torch.arange(3.), 'name': 'x' * 300, 'list': list(range(2000))}, d + '/proto4.pt', pickle_protocol=4)
src = zipfile.ZipFile(d + '/module.pt')
dst = zipfile.ZipFile(d + '/deflated.pt', 'w', zipfile.ZIP_DEFLATED)
for i in src.infolist(): dst.writestr(i.filename, src.read(i.filename))
dst.close()
torch.save({'__proto__': torch.ones(1), 'constructor': 1, 'nested': {'__proto__': {'polluted': True}}}, d + '/proto.pt')
torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), d + '/script.pt')
if ${hasTorchvision ? 'True' : 'False'}:
    import torchvision
    r18 = torchvision.models.resnet18().state_dict()
    torch.save(r18, d + '/resnet18.pt')
    out['resnet18'] = {k: [list(v.shape), float(v.double().sum()), str(v.dtype)] for k, v in r18.items()}
json.dump(out, open(d + '/expected.json', 'w'))
`);
    expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  });
  const f = (name: string): string => path.join(dir, name);

  it('an OrderedDict state dict of a real nn module, with _metadata: same names, dtypes, shapes and bytes', () => {
    const sd = load(f('module.pt')) as Record<string, Tensor>;
    try {
      expect(py.isOrderedDict(sd)).toBe(true);
      expect(Object.keys(sd)).toEqual(Object.keys(expected.module));
      for (const [k, t] of Object.entries(sd)) expect([k, desc(t)]).toEqual([k, expected.module[k]]);
      expect(py.attributes(sd)).toEqual({ _metadata: expected.module_meta });
      for (const t of Object.values(sd)) expect([t.device, t.isContiguous()]).toEqual(['cpu', true]);
    } finally {
      disposeAll(sd);
    }
    const viaStateDict = loadStateDict(f('module.pt'));
    expect(Object.keys(viaStateDict)).toEqual(Object.keys(expected.module));
    disposeAll(viaStateDict);
  });

  it('a one-entry dict', () => {
    const sd = loadStateDict(f('one.pt'));
    expect(Object.keys(sd)).toEqual(['only']);
    expect([sd.only.dtype, sd.only.toNested()]).toEqual(['float64', [0, 1, 2, 3, 4]]);
    disposeAll(sd);
  });

  it('a nested training-script checkpoint: model, optimizer.state_dict() with int keys, epoch and a config of every plain type', () => {
    const ck = load(f('nested.pt')) as Record<string, any>;
    try {
      expect(Object.keys(ck)).toEqual(['model', 'optimizer', 'epoch', 'config']);
      for (const [k, t] of Object.entries(ck.model as Record<string, Tensor>)) expect([k, desc(t)]).toEqual([k, expected.nested.model[k]]);
      const state = ck.optimizer.state as Map<number, Record<string, Tensor>>;
      expect(state).toBeInstanceOf(Map);
      expect([...state.keys()]).toEqual(Object.keys(expected.nested.state).map(Number));
      for (const [k, v] of state) expect(desc(v.momentum_buffer)).toEqual(expected.nested.state[String(k)]);
      expect(ck.optimizer.param_groups).toEqual(expected.nested.groups);
      expect(ck.epoch).toBe(3);
      const c = ck.config;
      expect([c.lr, c.name, c.milestones, c.none, c.flag, c.big, c.neg, c.one]).toEqual([0.1, 'ünï ✓', [80, 120], null, true, 2n ** 70n, -(2n ** 63n), 1]);
      expect([Number.isNaN(c.nan), c.ninf]).toEqual([true, -Infinity]);
      expect([c.tuple, py.isTuple(c.tuple), py.isTuple(c.milestones)]).toEqual([[1, 2.5, 'x'], true, false]);
    } finally {
      disposeAll(ck);
    }
  });

  it('loadStateDict on a nested checkpoint names the top-level keys and where the state dict is; {key} reads it and makes nothing else', () => {
    const live = memory().tensors;
    expect(() => loadStateDict(f('nested.pt'))).toThrow(
      /^loadStateDict: .*nested\.pt holds a dict of several things, not a state dict: its keys are "model" \(a state dict of 9 tensors\), "optimizer" \(a dict of 2 entries\), "epoch" \(an int or integral float\), "config" \(a dict of 11 entries\); the state dict is under "model": pass \{key: "model"\} to read it\.$/,
    );
    expect(memory().tensors).toBe(live);
    const sd = loadStateDict(f('nested.pt'), { key: 'model' });
    expect(memory().tensors - live, 'only the 9 tensors of the model are made').toBe(9);
    for (const [k, t] of Object.entries(sd)) expect([k, desc(t)]).toEqual([k, expected.nested.model[k]]);
    disposeAll(sd);
    expect(() => loadStateDict(f('nested.pt'), { key: 'optimizer' })).toThrow(/holds a dict of 2 entries under "optimizer", not a state dict/);
    expect(() => loadStateDict(f('nested.pt'), { key: 'nope' })).toThrow(/has no top-level key "nope" \(its keys: "model", "optimizer", "epoch", "config"\)/);
    expect(() => loadStateDict(f('nested.pt'), { bogus: 1 } as never)).toThrow("loadStateDict: unknown option 'bogus' (known: key)");
  });

  it('views of one storage come back as views of one buffer, with the right values, strides and offsets; a tensor alone on its storage comes back contiguous; a tied tensor stays one object', () => {
    const v = load(f('views.pt')) as Record<string, Tensor>;
    try {
      for (const [k, t] of Object.entries(v)) expect([k, desc(t)]).toEqual([k, expected.views[k]]);
      // x and its views share x's storage in Python: here too, with Python's strides and offsets
      for (const k of ['x', 't', 'slice', 'col', 'narrow', 'perm', 'scalar']) {
        expect([k, v[k].strides, v[k].storageOffset()]).toEqual([k, ...expected.views_layout[k]]);
      }
      // alone on its storage: a contiguous copy (the stride-0 expansion is materialised)
      expect([v.expand.isContiguous(), v.expand.strides]).toEqual([true, [3, 1]]);
      expect(v.tied_a).toBe(v.tied_b);
      // shared: writing through x shows in every view of it
      v.x.indexPut_([0, 0, 0], 100);
      v.x.indexPut_([0, 1, 1], 50); // flat index 5: narrow's first element
      expect((v.t.toNested() as number[][][])[0][0][0]).toBe(100);
      expect((v.perm.toNested() as number[][][])[0][0][0]).toBe(100);
      expect((v.narrow.toNested() as number[])[0]).toBe(50);
      expect(v.tied_a.storageOffset()).toBe(0);
    } finally {
      disposeAll(v);
    }
  });

  it('forty overlapping views of a 4 MiB storage are made once, not refused as 160 MiB of tensors (the expansion bound counts a shared storage once)', () => {
    const v = load(f('manyviews.pt')) as { x: Tensor; views: Tensor[] };
    try {
      expect(v.views.length).toBe(40);
      expect([v.views[39].shape, v.views[39].storageOffset(), v.views[39].toArray()[0]]).toEqual([[2 ** 20 - 39], 39, 39]);
      v.x.indexPut_([100], -1);
      expect(v.views[39].toArray()[100 - 39]).toBe(-1);
    } finally {
      disposeAll(v);
    }
  });

  it('float16, bfloat16, float32, float64 (NaN, ±Infinity, -0, subnormals), int64 extremes, int32, int16, int8, uint8 and bool bit for bit', async () => {
    const v = load(f('dtypes.pt')) as Record<string, Tensor>;
    for (const [k, t] of Object.entries(v)) expect([k, desc(t)]).toEqual([k, expected.dtypes[k]]);
    // The stored bits themselves (desc widens 16-bit values): saved again, every tensor's bytes equal Python's.
    const again = fresh('dtypes-again.pt');
    save(v, again);
    disposeAll(v);
    const same = await python(`import torch, json
raw = lambda t: t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes().hex()
a, b = torch.load(${JSON.stringify(f('dtypes.pt'))}), torch.load(${JSON.stringify(again)})
print(json.dumps({k: [str(b[k].dtype), raw(b[k]) == raw(t)] for k, t in a.items()}))`);
    expect(JSON.parse(same)).toEqual(Object.fromEntries(Object.entries(expected.dtypes).map(([k, d]) => [k, [`torch.${(d as { dtype: string }).dtype}`, true]])));
  });

  it('dtypes ictorch does not have are an error naming the key and the dtype', () => {
    expect(loadError(f('complex.pt'))).toMatch(/cannot be loaded: the value\["c"\] is a tensor of dtype complex64 \(torch\.ComplexFloatStorage\), which ictorch does not have/);
    expect(() => loadStateDict(f('complex.pt'))).toThrow(/loadStateDict: .*complex\.pt cannot be loaded: the file\["c"\] is a tensor of dtype complex64/);
  });

  it('the legacy format (_use_new_zipfile_serialization=False) is refused with a sentence saying how to convert it', () => {
    expect(loadError(f('legacy.pt'))).toMatch(/uses the legacy torch\.save format \(PyTorch < 1\.6 or _use_new_zipfile_serialization=False\), which ictorch does not read: re-save it with a current PyTorch/);
  });

  it('a TorchScript archive is named as such', () => {
    expect(loadError(f('script.pt'))).toMatch(/is a TorchScript archive \(torch\.jit\.save\), not a torch\.save file/);
  });

  it('nn.Parameter values come back as tensors with their requires_grad', () => {
    const v = load(f('params.pt')) as { p: Tensor; frozen: Tensor[] };
    expect([v.p.toNested(), v.p.requiresGrad, v.frozen[0].requiresGrad]).toEqual([[1, 2], true, false]);
    disposeAll(v);
  });

  it('pickle protocol 4 (frames, short strings, MEMOIZE) and a zip re-packed with deflate', () => {
    const v = load(f('proto4.pt')) as { w: Tensor; name: string; list: number[] };
    expect([v.w.toNested(), v.name.length, v.list.length, v.list[1999]]).toEqual([[0, 1, 2], 300, 2000, 1999]);
    disposeAll(v);
    const d = load(f('deflated.pt')) as Record<string, Tensor>;
    for (const [k, t] of Object.entries(d)) expect([k, desc(t)]).toEqual([k, expected.module[k]]);
    disposeAll(d);
  });

  it('a key "__proto__" is a plain own key and changes no prototype', () => {
    const v = load(f('proto.pt')) as Record<string, any>;
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor', 'nested']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v['__proto__']).toBeInstanceOf(Tensor);
    expect(Object.getPrototypeOf(v.nested)).toBe(Object.prototype);
    expect(Object.keys(v.nested)).toEqual(['__proto__']);
    expect(v.nested.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    disposeAll(v);
  });

  it.skipIf(!hasTorchvision)('a torchvision resnet18 state dict: every shape, dtype and sum', () => {
    const sd = loadStateDict(f('resnet18.pt'));
    expect(Object.keys(sd)).toEqual(Object.keys(expected.resnet18));
    for (const [k, t] of Object.entries(sd)) {
      const [shape, sum, dtype] = expected.resnet18[k];
      expect([k, t.shape, `torch.${t.dtype}`]).toEqual([k, shape, dtype === 'torch.float32' ? 'torch.float32' : dtype]);
      const s = t.to('float64').sum();
      expect(s.item() as number).toBeCloseTo(sum, 6);
      s.dispose();
    }
    disposeAll(sd);
  });
});

// ---------------------------------------------------------------- files ictorch writes

describe.skipIf(!hasTorch)('files ictorch writes load in Python (needs /usr/bin/python3 with torch)', () => {
  // The files are written first, then read by one Python process (importing torch takes seconds).
  const dir = path.join(tmp, 'to-python');
  const files = { sd: path.join(dir, 'sd.pt'), value: path.join(dir, 'value.pt'), plain: path.join(dir, 'plain.pt'), zip64: path.join(dir, 'zip64.pt'), ckpt: path.join(dir, 'run.ckpt'), views: path.join(dir, 'views.pt'), layouts: path.join(dir, 'layouts.pt') };
  let want: Record<string, ReturnType<typeof desc>>;
  let wantViews: Record<string, unknown>;
  let wantLayouts: Record<string, unknown>;
  let got: Record<string, any>;
  const halfBits = (bits: number[], dtype: 'float16' | 'bfloat16'): Tensor => {
    const view = fromBuffer(new Uint8Array(new Uint16Array(bits).buffer), [bits.length], dtype);
    const t = view.clone();
    view.dispose();
    return t;
  };
  beforeAll(async () => {
    fs.mkdirSync(dir, { recursive: true });
    const sd: Record<string, Tensor> = {
      f32: tensor(new Float32Array([0, -0, 1.5, NaN, Infinity, -Infinity, 1e-45, 3.4e38])),
      f64: tensor(new Float64Array([1 / 3, -0, NaN, 5e-324])),
      f16: halfBits([0x3e00, 0x7bff, 0x0001, 0x7e00, 0xfc00, 0x8000], 'float16'),
      bf16: halfBits([0x3f80, 0xc049, 0x0001, 0x7fc0, 0xff80], 'bfloat16'),
      i64: tensor(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n])),
      i32: tensor(new Int32Array([-(2 ** 31), 2 ** 31 - 1])),
      u8: tensor(new Uint8Array([0, 1, 128, 255])),
      b: tensor([[true, false], [false, true]]),
      scalar: tensor(2.5),
      empty: tensor(new Float32Array(0), { shape: [0, 3] }),
      transposed: arange(0, 6, 1, { dtype: 'float32' }).reshape(2, 3).t(),
    };
    saveStateDict(files.sd, sd);
    want = Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, desc(t)]));
    const w = tensor(new Float32Array([1, 2, 3]));
    save({
      model: py.orderedDict({ w }),
      optimizer: { state: new Map([[0, { momentum_buffer: w }]]), param_groups: [{ lr: py.float(1), momentum: 0.9, nesterov: false, params: [0] }] },
      epoch: 3, big: 2n ** 70n, neg: -(2n ** 63n), floats: [0.5, NaN, -Infinity, -0], tuple: py.tuple([1, 'a', null]), text: 'ünïcødé ✓',
      keys: new Map<unknown, number>([[true, 1], [null, 2], [2.5, 3], ['s', 4]]),
    }, files.value);
    // weights_only=True of PyTorch 1.13 has no BINFLOAT: a float-free value
    save({ model: py.orderedDict({ w }), epoch: 3, names: ['a', 'b'], t: py.tuple([1, 2]), none: null, flag: true, big: 2n ** 40n }, files.plain);
    const small = path.join(dir, 'small.pt');
    save({ t: tensor(new Float32Array([4, 5, 6])), n: 7 }, small);
    const zip = ZipReader.open(bufferSource(fs.readFileSync(small)));
    fs.writeFileSync(files.zip64, Buffer.concat([...zipStream(zip.entries.map((e) => ({ name: e.name, data: zip.read(e) })), { forceZip64: true })]));
    const { saveCheckpoint } = await import('../lib/train/checkpoint');
    const { rngState } = await import('../lib/runtime');
    const rng = rngState();
    const fc = tensor(new Float32Array([1, 2]));
    saveCheckpoint(files.ckpt, {
      model: { name: 'resnet', args: { depth: 20 } }, config: { lr: 0.1, epochs: 2 }, epoch: 1, step: 10, bestAcc: 1,
      modelState: { 'fc.weight': fc }, optimizerState: { state: new Map(), param_groups: [{ lr: 0.1, params: [0] }] }, rng, history: [{ epoch: 1, loss: NaN }],
    });
    rng.cpu.dispose();
    fc.dispose();
    w.dispose();
    // views of one storage (and a parameter among them), and a slice alone on a larger storage
    const x = arange(0, 24, 1, { dtype: 'float32' }).reshape(2, 3, 4);
    const big = arange(0, 1000, 1, { dtype: 'float32' });
    const views = { x, t: x.transpose(0, 2), row: x.select(0, 1), narrow: x.reshape(-1).narrow(0, 5, 7), p: x.select(1, 2).detach().requiresGrad_(), alone: big.narrow(0, 10, 3) };
    save(views, files.views);
    wantViews = Object.fromEntries(Object.entries(views).map(([k, t]) => [k, [desc(t), ...(k === 'alone' ? [[1], 0] : [t.strides, t.storageOffset()])]]));
    disposeAll(views);
    big.dispose();
    // dense layouts alone on their storage: channels-last and a permutation keep their strides, as torch.save does
    const layouts = {
      cl: arange(0, 96, 1, { dtype: 'float32' }).reshape(2, 3, 4, 4).contiguous('channelsLast'),
      perm: arange(0, 24, 1, { dtype: 'float64' }).reshape(2, 3, 4).permute(2, 0, 1),
      half: arange(0, 24, 1, { dtype: 'float32' }).reshape(1, 2, 3, 4).contiguous('channelsLast').to('bfloat16'),
    };
    save(layouts, files.layouts);
    wantLayouts = Object.fromEntries(Object.entries(layouts).map(([k, t]) => [k, [desc(t), t.strides, t.numel()]]));
    disposeAll(layouts);
    got = JSON.parse(await python(`${PY_DESC}
import math
f = json.loads(${JSON.stringify(JSON.stringify(files))})
out = {}
for wo in (True, False):
    d = torch.load(f['sd'], weights_only=wo)
    out['sd_' + str(wo)] = [type(d).__name__, {k: desc(v) for k, v in d.items()}]
d = torch.load(f['value'])
o = d['optimizer']
out['value'] = {
  'model': type(d['model']).__name__, 'shared': d['model']['w'] is o['state'][0]['momentum_buffer'], 'w': d['model']['w'].tolist(),
  'lr': [type(o['param_groups'][0]['lr']).__name__, o['param_groups'][0]['lr']], 'momentum': o['param_groups'][0]['momentum'],
  'epoch': [type(d['epoch']).__name__, d['epoch']], 'big': str(d['big']), 'neg': str(d['neg']),
  'floats': [repr(x) for x in d['floats']], 'tuple': [type(d['tuple']).__name__, list(d['tuple'])], 'text': d['text'],
  'keys': [[repr(k), v] for k, v in d['keys'].items()]}
d = torch.load(f['plain'], weights_only=True)
out['plain'] = repr([d['model']['w'].tolist(), d['epoch'], d['names'], d['t'], d['none'], d['flag'], d['big']])
z = zipfile.ZipFile(f['zip64'])
d = torch.load(f['zip64'])
out['zip64'] = [z.testzip(), d['t'].tolist(), d['n']]
ck = torch.load(f['ckpt'])
m = torch.nn.Linear(2, 1, bias=False)
m.load_state_dict({'weight': ck['model']['fc.weight'].reshape(1, 2)})
out['ckpt'] = [type(ck['model']).__name__, ck['epoch'], ck['step'], ck['config'], ck['model_spec'], repr(ck['best_acc']),
               math.isnan(ck['history'][0]['loss']), ck['rng']['cpu'].dtype == torch.uint8, m.weight.tolist()]
for wo in (True, False):
    v = torch.load(f['views'], weights_only=wo)
    out['views_' + str(wo)] = {k: [desc(t), list(t.stride()), t.storage_offset()] for k, t in v.items()}
    ptr = lambda t: t.untyped_storage().data_ptr() if hasattr(t, 'untyped_storage') else t.storage().data_ptr()
    out['views_shared_' + str(wo)] = [ptr(v[k]) == ptr(v['x']) for k in ('t', 'row', 'narrow', 'p')] + [v['p'].requires_grad, v['alone'].storage().size()]
v = torch.load(f['layouts'])
out['layouts'] = {k: [desc(t), list(t.stride()), t.storage().size()] for k, t in v.items()}
out['channels_last'] = v['cl'].is_contiguous(memory_format=torch.channels_last)
print(json.dumps(out))
`));
    const l = load(files.layouts) as Record<string, Tensor>;
    got.layoutsBack = Object.fromEntries(Object.entries(l).map(([k, t]) => [k, [desc(t), t.strides, t.numel()]]));
    disposeAll(l);
    // and back: the same bytes in ictorch
    const back = loadStateDict(files.sd);
    got.back = Object.fromEntries(Object.entries(back).map(([k, t]) => [k, desc(t)]));
    disposeAll(back);
    disposeAll(sd);
  });

  it('a state dict of every dtype (saveStateDict): weights_only=True and False give the same bytes, an OrderedDict', () => {
    expect(got.sd_True).toEqual(['OrderedDict', want]);
    expect(got.sd_False).toEqual(['OrderedDict', want]);
    expect(got.back).toEqual(want);
  });

  it('a general value: dicts, Maps with int keys, lists, tuples, OrderedDicts, ints, bigints, floats (py.float), None, bool, str, shared tensors', () => {
    expect(got.value).toEqual({
      model: 'OrderedDict', shared: true, w: [1, 2, 3], lr: ['float', 1], momentum: 0.9, epoch: ['int', 3], big: String(2n ** 70n), neg: String(-(2n ** 63n)),
      floats: ['0.5', 'nan', '-inf', '-0.0'], tuple: ['tuple', [1, 'a', null]], text: 'ünïcødé ✓', keys: [['True', 1], ['None', 2], ['2.5', 3], ["'s'", 4]],
    });
    expect(got.plain).toBe(`[[1.0, 2.0, 3.0], 3, ['a', 'b'], (1, 2), None, True, ${2n ** 40n}]`);
  });

  it('a zip64 archive (as written for files past 4 GiB) loads in Python and in ictorch', () => {
    expect(got.zip64).toEqual([null, [4, 5, 6], 7]);
    const back = load(files.zip64) as { t: Tensor; n: number };
    expect([back.t.toNested(), back.n]).toEqual([[4, 5, 6], 7]);
    disposeAll(back);
  });

  it('views of one storage are written once and load in Python as views of one storage, with their strides and offsets; a slice alone is written compactly', () => {
    for (const wo of ['True', 'False']) {
      expect(got['views_' + wo]).toEqual(wantViews);
      expect(got['views_shared_' + wo]).toEqual([true, true, true, true, true, 3]);
    }
  });

  it('dense layouts (channels-last, a permutation) keep their strides in Python and back in ictorch, on a storage of their own elements', () => {
    expect(wantLayouts.cl).toEqual([expect.anything(), [48, 1, 12, 3], 96]);
    expect(got.layouts).toEqual(wantLayouts); // the storage's size is the tensor's own element count
    expect(got.channels_last).toBe(true);
    expect(got.layoutsBack).toEqual(wantLayouts);
  });

  it('a saveCheckpoint file is what a Python user expects: ck["model"], ck["epoch"], ck["config"], ck["model_spec"]', () => {
    expect(got.ckpt).toEqual(['OrderedDict', 1, 10, { lr: 0.1, epochs: 2 }, { name: 'resnet', args: { depth: 20 } }, '1.0', true, true, [[1, 2]]]);
  });
});

// ---------------------------------------------------------------- writing

describe('save', () => {
  it('round-trips every JS value kind; marks (tuple, OrderedDict, attributes) and sharing survive', () => {
    const file = fresh();
    const t = tensor(new Float32Array([1.5]));
    const od = py.orderedDict({ b: 1, a: 2 });
    py.attributes(od, { _metadata: { '': { version: 1 } } });
    const inner = [1, 2];
    const value = { od, tup: py.tuple([inner, inner]), t1: t, t2: t, m: new Map<unknown, unknown>([[1, 'one'], [2n ** 64n, 'big']]), f: py.float(2), s: '', n: null };
    save(value, file);
    const back = load(file) as Record<string, any>;
    expect(py.isOrderedDict(back.od)).toBe(true);
    expect(Object.keys(back.od)).toEqual(['b', 'a']);
    expect(py.attributes(back.od)).toEqual({ _metadata: { '': { version: 1 } } });
    expect(py.isTuple(back.tup)).toBe(true);
    expect(back.tup[0]).toBe(back.tup[1]);
    expect(back.t1).toBe(back.t2);
    expect([...back.m]).toEqual([[1, 'one'], [2n ** 64n, 'big']]);
    expect([back.f, back.s, back.n]).toEqual([2, '', null]);
    disposeAll(back);
    t.dispose();
  });

  it('is deterministic: the same value gives the same bytes', () => {
    const a = fresh();
    const b = fresh();
    const t = tensor(new Float32Array([1, 2]));
    save({ t, x: [1, 'y'] }, a);
    save({ t, x: [1, 'y'] }, b);
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
    t.dispose();
  });

  it('rejects values a PyTorch file cannot hold with a TypeError naming the path, writing nothing', () => {
    const file = fresh();
    const t = tensor(new Float32Array([1]));
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    const disposed = tensor(new Float32Array([1]));
    disposed.dispose();
    const cases: [unknown, RegExp][] = [
      [{ a: undefined }, /value\.a is undefined/],
      [{ a: [1, () => 1] }, /value\.a\[1\] is a function/],
      [{ 'x y': new Date(0) }, /value\["x y"\] is a Date, which a PyTorch file cannot hold/],
      [cyc, /value\.self refers back to a value that contains it \(a cycle\)/],
      [{ t: disposed }, /value\.t is a Tensor that has been disposed/],
      [new Map([[{}, 1]]), /value has a key that is an object; dict keys must be strings/],
      [{ s: '\ud800' }, /value\.s is a string with a lone surrogate/],
      [{ u: new Uint8Array(2) }, /value\.u is a Uint8Array/],
    ];
    let deep: unknown = 1;
    for (let i = 0; i < 101; i++) deep = [deep];
    cases.push([deep, /nests more than 100 levels deep/]);
    for (const [v, re] of cases) {
      expect(() => save(v, file)).toThrow(TypeError);
      expect(() => save(v, file)).toThrow(re);
    }
    expect(fs.existsSync(file)).toBe(false);
    expect(() => save({}, '')).toThrow(/save: expected a file path/);
    t.dispose();
  });

  it('a disposed tensor is refused and the previous file stays as it was, with no temp file left', () => {
    const file = fresh('keep.pt');
    const t = tensor(new Float32Array([1, 2]));
    save({ t }, file);
    const before = fs.readFileSync(file);
    const bad = tensor(new Float32Array([3]));
    bad.dispose();
    expect(() => save({ t, late: bad }, file)).toThrow(/value\.late is a Tensor that has been disposed/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(path.dirname(file)).filter((n) => n.includes('keep.pt.tmp'))).toEqual([]);
    t.dispose();
  });
});

// ---------------------------------------------------------------- crafted and damaged files

describe('crafted pickles: every violation is an error naming the file, the entry and the byte', () => {
  const w4 = f32(1, 2, 3, 4);
  const tensorDict = (o: Parameters<typeof tensorCall>[0]) => pkl(dict(str('w'), tensorCall(o)));

  it('a well-formed crafted file loads (the assembler is right)', () => {
    const v = load(crafted(tensorDict({ numel: 4, size: [2, 2], stride: [2, 1] }), { 0: w4 })) as { w: Tensor };
    expect(v.w.toNested()).toEqual([[1, 2], [3, 4]]);
    disposeAll(v);
  });

  const underflow: [string, number][] = [
    ['REDUCE', OP.REDUCE], ['NEWOBJ', OP.NEWOBJ], ['BUILD', OP.BUILD], ['BINPERSID', OP.BINPERSID], ['TUPLE1', OP.TUPLE1],
    ['TUPLE2', OP.TUPLE2], ['TUPLE3', OP.TUPLE3], ['APPEND', OP.APPEND], ['SETITEM', OP.SETITEM], ['DUP', OP.DUP], ['POP', OP.POP],
  ];
  for (const [name, op] of underflow) {
    it(`${name} on an empty stack`, () => {
      const m = loadError(crafted(bytes(OP.PROTO, 2, op, OP.STOP)));
      expect(m).toMatch(new RegExp(`cannot be loaded: archive/data\\.pkl byte 2 \\(${name}\\): (pops from an empty stack|needs .* but|needs a MARK)`));
    });
  }

  it('TUPLE, APPENDS and SETITEMS without a MARK; STOP on an empty stack; BINPUT with nothing to store', () => {
    expect(loadError(crafted(bytes(OP.PROTO, 2, OP.TUPLE, OP.STOP)))).toMatch(/byte 2 \(TUPLE\): needs a MARK but there is none/);
    expect(loadError(crafted(bytes(OP.PROTO, 2, OP.EMPTY_LIST, OP.APPENDS, OP.STOP)))).toMatch(/byte 3 \(APPENDS\): needs a MARK/);
    expect(loadError(crafted(bytes(OP.PROTO, 2, OP.EMPTY_DICT, OP.SETITEMS, OP.STOP)))).toMatch(/byte 3 \(SETITEMS\): needs a MARK/);
    expect(loadError(crafted(bytes(OP.PROTO, 2, OP.STOP)))).toMatch(/byte 2 \(STOP\): pops from an empty stack/);
    expect(loadError(crafted(bytes(OP.PROTO, 2, OP.BINPUT, 0, OP.STOP)))).toMatch(/byte 2 \(BINPUT\): needs a value but the stack is empty/);
    expect(loadError(crafted(bytes(OP.PROTO, 2, OP.MARK, OP.REDUCE, OP.STOP)))).toMatch(/byte 3 \(REDUCE\): pops past the last MARK/);
  });

  it('deep nesting (a million TUPLE1 in a row) stops at 100 levels', () => {
    const m = loadError(crafted(bytes(OP.PROTO, 2, OP.NONE, Buffer.alloc(1_000_000, OP.TUPLE1), OP.STOP)));
    expect(m).toMatch(/byte 103 \(TUPLE1\): values nest more than 100 levels deep/);
    const lists = bytes(OP.PROTO, 2, Buffer.alloc(200_000, OP.EMPTY_LIST), Buffer.alloc(199_999, OP.APPEND), OP.STOP);
    expect(loadError(crafted(lists))).toMatch(/values nest more than 100 levels deep/);
  });

  it('cycles cannot be built: a list inside itself, or a container changed after it was placed in another', () => {
    expect(loadError(crafted(pkl(OP.EMPTY_LIST, OP.BINPUT, 0, OP.BINGET, 0, OP.APPEND)))).toMatch(/\(APPEND\): puts a list inside itself/);
    // a = []; b = [a]; a.append(b)
    const cyc = pkl(OP.EMPTY_LIST, OP.BINPUT, 0, OP.EMPTY_LIST, OP.BINGET, 0, OP.APPEND, OP.BINPUT, 1, OP.BINGET, 0, OP.BINGET, 1, OP.APPEND, OP.POP);
    expect(loadError(crafted(cyc))).toMatch(/changes a list after it was placed inside another value/);
  });

  it('shared references that expand exponentially are bounded', () => {
    // x = [None]; then 60 times x = [x, x]
    const parts: (number | Buffer)[] = [OP.EMPTY_LIST, OP.NONE, OP.APPEND];
    for (let i = 0; i < 60; i++) parts.push(OP.BINPUT, 0, OP.EMPTY_LIST, OP.MARK, OP.BINGET, 0, OP.BINGET, 0, OP.APPENDS);
    expect(loadError(crafted(pkl(...parts)))).toMatch(/the values expand to more than \d+ items \(through shared references\)/);
  });

  it('huge declared strings, integers and frames fail at once, before anything is allocated', () => {
    const len = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    expect(loadError(crafted(bytes(OP.PROTO, 2, OP.BINUNICODE, len(0xfffffff0), 'abc', OP.STOP)))).toMatch(/byte 2 \(BINUNICODE\): a string of 4294967280 bytes is declared but only 4 bytes remain/);
    const big8 = Buffer.alloc(8);
    big8.writeBigUInt64LE(2n ** 62n);
    expect(loadError(crafted(bytes(OP.PROTO, 2, OP.BINUNICODE8, big8, OP.STOP)))).toMatch(/a string of 4611686018427387904 bytes is declared/);
    expect(loadError(crafted(bytes(OP.PROTO, 2, OP.LONG4, len(0x7fffffff), OP.STOP)))).toMatch(/\(LONG4\): an integer of 2147483647 bytes is longer than the 64 bytes allowed/);
    expect(loadError(crafted(bytes(OP.PROTO, 4, OP.FRAME, big8, OP.NONE, OP.STOP)))).toMatch(/\(FRAME\): a frame runs past the end/);
  });

  it('huge memo indexes cost nothing; reading an index never stored is an error', () => {
    const idx = Buffer.alloc(4);
    idx.writeUInt32LE(0xffffffff);
    const v = load(crafted(pkl(OP.NONE, OP.LONG_BINPUT, idx, OP.POP, OP.LONG_BINGET, idx)));
    expect(v).toBeNull();
    const miss = Buffer.alloc(4);
    miss.writeUInt32LE(0xfffffffe);
    expect(loadError(crafted(pkl(OP.LONG_BINGET, miss)))).toMatch(/\(LONG_BINGET\): memo entry 4294967294 was never stored/);
  });

  it('globals outside the allow-list (code execution) are refused by name', () => {
    for (const [m, n] of [['os', 'system'], ['builtins', 'eval'], ['__builtin__', 'set'], ['torch', 'Tensor'], ['subprocess', 'Popen']]) {
      expect(loadError(crafted(pkl(global(m, n), str('x'), OP.TUPLE1, OP.REDUCE)))).toMatch(new RegExp(`the global ${m}\\.${n} is not allowed: only tensors, storages, OrderedDict, Counter and plain Python values are read`));
    }
    expect(loadError(crafted(pkl(str('os'), str('system'), 0x93)))).toMatch(/the global os\.system is not allowed/);
    // collections.Counter is read as the dict it counts (a scheduler state's milestones), and only that
    expect(load(crafted(pkl(global('collections', 'Counter'), dict(int(3), int(2), int(5), int(1)), OP.TUPLE1, OP.REDUCE)))).toEqual(new Map([[3, 2], [5, 1]]));
    expect(loadError(crafted(pkl(global('collections', 'Counter'), str('abc'), OP.TUPLE1, OP.REDUCE)))).toMatch(/collections\.Counter is called with something other than one dict/);
    expect(loadError(crafted(pkl(global('collections', 'Counter'), dict(int(3), str('x')), OP.TUPLE1, OP.REDUCE)))).toMatch(/a collections\.Counter holds a string; only integer counts are supported/);
    expect(loadError(crafted(pkl(0x69, 'os\nsystem\n')))).toMatch(/opcode INST is not supported/);
  });

  it('tensors reaching past their storage (size, stride or offset) are refused before anything is made', () => {
    expect(loadError(crafted(tensorDict({ numel: 4, size: [1_000_000_000], stride: [1] }), { 0: w4 }))).toMatch(
      /a tensor of size \(1000000000,\), stride \(1,\) and storage offset 0 reaches element 999999999 of storage "0", which holds only 4 elements/,
    );
    expect(loadError(crafted(tensorDict({ numel: 4, size: [64], stride: [1] }), { 0: w4 }))).toMatch(/reaches element 63 of storage "0", which holds only 4 elements/);
    expect(loadError(crafted(tensorDict({ numel: 4, size: [2, 2], stride: [100, 1] }), { 0: w4 }))).toMatch(/stride \(100, 1\) .* reaches element 101/);
    expect(loadError(crafted(tensorDict({ numel: 4, offset: 3, size: [2], stride: [1] }), { 0: w4 }))).toMatch(/storage offset 3 reaches element 4/);
    expect(loadError(crafted(tensorDict({ numel: 4, size: [2], stride: [-1] }), { 0: w4 }))).toMatch(/a tensor stride \(\(-1,\)\) must hold non-negative integers/);
    expect(loadError(crafted(tensorDict({ numel: 4, size: [2, 2], stride: [1] }), { 0: w4 }))).toMatch(/a tensor has size \(2, 2\) but stride \(1,\)/);
    expect(loadError(crafted(tensorDict({ numel: 4, size: [2n ** 40n, 2n ** 40n], stride: [0, 0] }), { 0: w4 }))).toMatch(/has more elements than can be counted exactly/);
    // an empty tensor reaches nothing; a stride-0 expansion is read, within a bound on the bytes made
    const v = load(crafted(tensorDict({ numel: 4, size: [0, 5], stride: [9, 9] }), { 0: w4 })) as { w: Tensor };
    expect(v.w.shape).toEqual([0, 5]);
    disposeAll(v);
    expect(loadError(crafted(tensorDict({ numel: 4, size: [1e9], stride: [0] }), { 0: w4 }))).toMatch(/its tensors would take 4000000000 bytes, more than 4 × its \d+ bytes \+ 64 MiB/);
  });

  it('a storage whose declared size disagrees with its entry, or that has no entry, or two declarations, is refused', () => {
    expect(loadError(crafted(tensorDict({ numel: 1e9, size: [2], stride: [1] }), { 0: w4 }))).toMatch(/storage "0" declares 1000000000 elements of float32 \(4000000000 bytes\), but its entry holds 16 bytes/);
    expect(loadError(crafted(tensorDict({ numel: 4, key: '7', size: [2], stride: [1] }), { 0: w4 }))).toMatch(/storage "7" has no entry archive\/data\/7 in the archive/);
    const two = pkl(dict(str('a'), tensorCall({ numel: 4, size: [1], stride: [1] }), str('b'), tensorCall({ numel: 2, type: 'DoubleStorage', size: [1], stride: [1] })));
    expect(loadError(crafted(two, { 0: w4 }))).toMatch(/storage "0" is declared twice, as 4 × torch\.FloatStorage and as 2 × torch\.DoubleStorage/);
    expect(loadError(crafted(pkl(tup(str('storage'), global('torch', 'FloatStorage'), str('0'), str('cpu'), int(4)), OP.BINPERSID), { 0: w4 }))).toMatch(/the value is a bare storage/);
    expect(loadError(crafted(pkl(str('module'), OP.BINPERSID)))).toMatch(/a persistent id is "module"; expected \('storage'/);
  });

  it('a crafted bool storage holding bytes other than 0 and 1 reads as true', () => {
    const v = load(crafted(pkl(dict(str('b'), tensorCall({ type: 'BoolStorage', numel: 3, size: [3], stride: [1] }))), { 0: new Uint8Array([0, 2, 255]) })) as { b: Tensor };
    expect(Array.from(v.b.toArray() as Uint8Array)).toEqual([0, 1, 1]);
    disposeAll(v);
  });

  it('"__proto__" keys stay own keys (dict and attribute state), with no prototype changed anywhere', () => {
    const v = load(crafted(pkl(dict(str('__proto__'), dict(str('polluted'), OP.NEWTRUE), str('a'), int(1))))) as Record<string, any>;
    expect(Object.keys(v)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('damaged and odd archives', () => {
  const good = (): Buffer => torchZip(pkl(dict(str('w'), tensorCall({ numel: 4, size: [4], stride: [1] }))), { 0: f32(1, 2, 3, 4) });
  const write = (b: Uint8Array, name = 'damaged.pt'): string => {
    const file = fresh(name);
    fs.writeFileSync(file, b);
    return file;
  };

  it('a changed byte in any entry\'s data is a CRC-32 mismatch naming the entry (data.pkl, a tensor, the version record)', () => {
    const b = good();
    const zip = ZipReader.open(bufferSource(b));
    for (const e of zip.entries) {
      const d = Buffer.from(b);
      d[e.dataOffset] ^= 0x10;
      expect(loadError(write(d))).toMatch(new RegExp(`is corrupt \\(CRC-32 mismatch in "${e.name.replace(/[./]/g, '\\$&')}": its contents changed after it was written\\)`));
    }
  });

  it('every truncation is reported as truncation', () => {
    const b = good();
    for (let n = 0; n < b.length; n++) expect(loadError(write(b.subarray(0, n))), `cut to ${n}`).toMatch(/is corrupt \(truncated/);
  });

  it('entries declaring GiB sizes or offsets past the end are refused without reading them', () => {
    const b = good();
    const zip = ZipReader.open(bufferSource(b));
    const cd = b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const sizes = Buffer.from(b);
    sizes.writeUInt32LE(0x7fffffff, cd + 20);
    sizes.writeUInt32LE(0x7fffffff, cd + 24);
    expect(loadError(write(sizes))).toMatch(/is corrupt \(.*entry "archive\/data\.pkl" \(2147483647 bytes at \d+\) runs past the start of the central directory/);
    // deflate: 4 GiB declared from a few bytes
    const defl = Buffer.from(b);
    defl.writeUInt16LE(8, cd + 10);
    defl.writeUInt32LE(0xfffffff0, cd + 24);
    expect(loadError(write(defl))).toMatch(/entry "archive\/data\.pkl" declares 4294967280 bytes from \d+ deflated bytes, more than deflate can expand/);
    // an unused deflated entry that would inflate past what the file may describe (4 × its size + 64 MiB)
    const junk = Buffer.alloc(70_000, 7);
    const withJunk = torchZip(pkl(OP.NONE), {}, [{ name: 'archive/junk', data: junk }]);
    const jcd = withJunk.lastIndexOf(Buffer.from('archive/junk')) - 46; // its central directory entry
    expect(withJunk.readUInt32LE(jcd)).toBe(0x02014b50);
    withJunk.writeUInt16LE(8, jcd + 10);
    withJunk.writeUInt32LE(70_000_000, jcd + 24);
    expect(loadError(write(withJunk))).toMatch(/entry "archive\/junk" declares 70000000 bytes, more than the \d+ allowed for this file/);
    // zip64 end record pointing at 2^62
    const z64 = Buffer.concat([...zipStream(zip.entries.map((e) => ({ name: e.name, data: zip.read(e) })), { forceZip64: true })]);
    const loc = z64.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x07]));
    z64.writeBigUInt64LE(2n ** 62n, loc + 8);
    expect(loadError(write(z64))).toMatch(/is corrupt \(the zip64 end record offset is 4611686018427387904, beyond any real file\)/);
    const count = Buffer.from(b);
    count.writeUInt16LE(0xfff0, b.length - 22 + 10);
    expect(loadError(write(count))).toMatch(/declares 65520 entries, more than a \d+-byte central directory can hold/);
  });

  it('duplicate names, overlapping entries, encryption and unknown compression are refused', () => {
    const data = Buffer.from('3\n');
    const dup = Buffer.concat([...zipStream([{ name: 'archive/version', data }, { name: 'archive/version', data }])]);
    expect(loadError(write(dup))).toMatch(/entry "archive\/version" appears twice/);
    const b = good();
    const cd = b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const enc = Buffer.from(b);
    enc.writeUInt16LE(enc.readUInt16LE(cd + 8) | 1, cd + 8);
    expect(loadError(write(enc))).toMatch(/entry "archive\/data\.pkl" is encrypted/);
    const method = Buffer.from(b);
    method.writeUInt16LE(12, cd + 10);
    expect(loadError(write(method))).toMatch(/uses compression method 12; only stored \(0\) and deflate \(8\)/);
    // the second central entry pointed at the first entry's local header
    const second = b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), cd + 4);
    const over = Buffer.from(b);
    over.writeUInt32LE(0, second + 42);
    expect(loadError(write(over))).toMatch(/is corrupt \(entry "archive\/data\/0": its local header names another file\)|overlap/);
  });

  it('not a zip, an empty file, a bare pickle, a zip without data.pkl, two data.pkl, a big-endian file', () => {
    expect(loadError(write(Buffer.from('hello world, this is text')))).toMatch(/is not a PyTorch file: it does not start with the zip signature/);
    expect(loadError(write(Buffer.alloc(0)))).toMatch(/is corrupt \(truncated: the file is empty\)/);
    expect(loadError(write(pkl(OP.NONE)))).toMatch(/is a bare pickle, not a torch\.save file/);
    expect(loadError(write(Buffer.concat([...zipStream([{ name: 'a/b.txt', data: Buffer.from('x') }])])))).toMatch(/is a zip archive without <archive>\/data\.pkl/);
    const two = Buffer.concat([...zipStream([{ name: 'a/data.pkl', data: pkl(OP.NONE) }, { name: 'b/data.pkl', data: pkl(OP.NONE) }])]);
    expect(loadError(write(two))).toMatch(/holds more than one data\.pkl/);
    expect(loadError(write(torchZip(pkl(OP.NONE), {}, [{ name: 'archive/byteorder', data: Buffer.from('big') }])))).toMatch(/was written on a big-endian machine; ictorch reads little-endian files only/);
    expect(loadError(write(Buffer.concat([...zipStream([{ name: 'm/data.pkl', data: pkl(OP.NONE) }, { name: 'm/constants.pkl', data: pkl(OP.NONE) }])])))).toMatch(/TorchScript archive/);
  });

  it('only regular files are opened: a FIFO, a character device and a directory are errors at once', () => {
    const fifo = fresh('fifo.pt');
    const mk = spawnSync('mkfifo', [fifo]);
    if (mk.status === 0) expect(() => load(fifo)).toThrow(`load: ${fifo} is a FIFO (named pipe); only regular files can be read.`);
    expect(() => load('/dev/zero')).toThrow('load: /dev/zero is a character device; only regular files can be read.');
    expect(() => load(tmp)).toThrow(`load: ${tmp} is a directory; only regular files can be read.`);
    expect(() => load(path.join(tmp, 'missing.pt'))).toThrow(`load: ${path.join(tmp, 'missing.pt')} does not exist.`);
    expect(() => load(3 as never)).toThrow(TypeError);
  });
});

describe('pickle and zip units', () => {
  it('CRC-32: the JS fallback equals zlib', () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff));
    expect(crc32Js(data)).toBe(crc32(data));
    expect(crc32Js(data.subarray(100), crc32Js(data.subarray(0, 100)))).toBe(crc32(data));
    expect(crc32Js(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('pickle → unpickle round trip of plain values, as Python encodes ints (BININT1/2, BININT, LONG1)', () => {
    const v = [0, 255, 256, 65535, 65536, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2n ** 63n, -(2n ** 63n) - 1n, 0.1, -0, 'x'];
    const bytesOut = pickle(v);
    const raw = unpickle(bytesOut, { resolveGlobal: () => undefined });
    expect((raw as { items: unknown[] }).items).toEqual([0, 255, 256, 65535, 65536, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2n ** 63n, -(2n ** 63n) - 1n, 0.1, -0, 'x']);
    expect(() => unpickle(Buffer.concat([bytesOut, Buffer.from([0])]), { resolveGlobal: () => undefined })).toThrow(PickleError);
  });
});

describe('value model helpers', () => {
  it('py.tuple copies and marks; py.orderedDict marks in place; py.float keeps its number', () => {
    const a = [1, 2];
    const t = py.tuple(a);
    expect([t, t === a, py.isTuple(t), py.isTuple(a)]).toEqual([[1, 2], false, true, false]);
    const o = { x: 1 };
    expect([py.orderedDict(o) === o, py.isOrderedDict(o), py.isOrderedDict({})]).toEqual([true, true, false]);
    expect(+py.float(3)).toBe(3);
    expect(() => py.orderedDict([] as never)).toThrow(TypeError);
    expect(() => py.float('1' as never)).toThrow(TypeError);
  });

  it('types: load returns TorchValue', () => {
    const file = fresh();
    save([1], file);
    const v: TorchValue = load(file);
    expect(v).toEqual([1]);
  });
});
