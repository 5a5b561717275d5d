// The layers written in TypeScript over nn.functional (lib/nn/functional-layers.ts): LayerNorm, Embedding, GELU,
// SiLU, Sigmoid, Tanh, Softmax, LogSoftmax, ..., and the two-input CosineSimilarity and PairwiseDistance. Against
// python3-torch: state-dict keys and shapes, strict loading
// both ways, forward values and gradients on the same weights and inputs (float64), Embedding's initial draw;
// then paddingIdx, fromPretrained, resetParameters, training inside nn.Sequential, and the argument errors.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { SGD, Tensor, manualSeed, memory, nn, noGrad, randn, tensor, tidy } from '../lib';
import { hasTorch, py, sameTorchVersion } from './helpers/torchpy';
import { maxDiff, shapes, vals } from './helpers/compare';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { stateDictRoundTrip } from './helpers/roundtrip';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-modules-ts-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => manualSeed(0));

/** The weighting of an output in the test losses, also computed in Python: sum(out * w). */
const weighting = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 3);
const PY_WEIGHTING = 'def weighting(o): return torch.tensor([((i % 7) - 3) / 3 for i in range(o.numel())], dtype=o.dtype).reshape(o.shape)';

/** Every new layer, float64, under the names the Python twin uses. */
class Net extends nn.Module {
  ln = new nn.LayerNorm([3, 4], { dtype: 'float64' });
  lnPlain = new nn.LayerNorm(4, { elementwiseAffine: false, eps: 1e-3, dtype: 'float64' });
  emb = new nn.Embedding(10, 4, { paddingIdx: 2, dtype: 'float64' });
  embFreq = new nn.Embedding(6, 4, { scaleGradByFreq: true, dtype: 'float64' });
  embMax = new nn.Embedding(10, 4, { maxNorm: 1, normType: 2, dtype: 'float64' });
  gelu = new nn.GELU();
  geluTanh = new nn.GELU({ approximate: 'tanh' });
  silu = new nn.SiLU();
  sigmoid = new nn.Sigmoid();
  tanh = new nn.Tanh();
  softmax = new nn.Softmax(1);
  logSoftmax = new nn.LogSoftmax(-1);
  gn = new nn.GroupNorm(3, 3, { dtype: 'float64' }); // x (2, 3, 4) as (N, C, L)
  gnPlain = new nn.GroupNorm(1, 3, { affine: false, eps: 1e-3, dtype: 'float64' });
  convT = new nn.ConvTranspose2d(2, 4, 3, { stride: 2, padding: 1, outputPadding: 1, dtype: 'float64' }); // x as unbatched (C 2, H 3, W 4)
  convTGrouped = new nn.ConvTranspose2d(2, 4, [2, 3], { groups: 2, dilation: [2, 1], stride: [1, 2], bias: false, dtype: 'float64' });
  leaky = new nn.LeakyReLU(0.2);
  leakyDefault = new nn.LeakyReLU();
  elu = new nn.ELU(0.7);
  hardtanh = new nn.Hardtanh(-0.5, 1.5);
  relu6 = new nn.ReLU6();
  softplus = new nn.Softplus(2, 1.5); // x up to ±2: both sides of the threshold
  mish = new nn.Mish();
  hardswish = new nn.Hardswish();
  hardsigmoid = new nn.Hardsigmoid();
  cos = new nn.CosineSimilarity();
  cosLast = new nn.CosineSimilarity({ dim: -1, eps: 7.7 }); // the norm products of 3 rows of 6 are below eps (clamped)
  pdist = new nn.PairwiseDistance();
  pdistP1 = new nn.PairwiseDistance({ p: 1, eps: 1e-3, keepdim: true });
  pdistP3 = new nn.PairwiseDistance({ p: 3, eps: 0 });
}

const PY_NET = `
import json, sys, torch, torch.nn as nn
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln = nn.LayerNorm([3, 4], dtype=torch.float64)
        s.lnPlain = nn.LayerNorm(4, elementwise_affine=False, eps=1e-3, dtype=torch.float64)
        s.emb = nn.Embedding(10, 4, padding_idx=2, dtype=torch.float64)
        s.embFreq = nn.Embedding(6, 4, scale_grad_by_freq=True, dtype=torch.float64)
        s.embMax = nn.Embedding(10, 4, max_norm=1.0, norm_type=2.0, dtype=torch.float64)
        s.gelu = nn.GELU()
        s.geluTanh = nn.GELU(approximate='tanh')
        s.silu = nn.SiLU()
        s.sigmoid = nn.Sigmoid()
        s.tanh = nn.Tanh()
        s.softmax = nn.Softmax(1)
        s.logSoftmax = nn.LogSoftmax(-1)
        s.gn = nn.GroupNorm(3, 3, dtype=torch.float64)
        s.gnPlain = nn.GroupNorm(1, 3, affine=False, eps=1e-3, dtype=torch.float64)
        s.convT = nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, dtype=torch.float64)
        s.convTGrouped = nn.ConvTranspose2d(2, 4, (2, 3), groups=2, dilation=(2, 1), stride=(1, 2), bias=False, dtype=torch.float64)
        s.leaky = nn.LeakyReLU(0.2)
        s.leakyDefault = nn.LeakyReLU()
        s.elu = nn.ELU(0.7)
        s.hardtanh = nn.Hardtanh(-0.5, 1.5)
        s.relu6 = nn.ReLU6()
        s.softplus = nn.Softplus(2, 1.5)
        s.mish = nn.Mish()
        s.hardswish = nn.Hardswish()
        s.hardsigmoid = nn.Hardsigmoid()
        s.cos = nn.CosineSimilarity()
        s.cosLast = nn.CosineSimilarity(dim=-1, eps=7.7)
        s.pdist = nn.PairwiseDistance()
        s.pdistP1 = nn.PairwiseDistance(p=1.0, eps=1e-3, keepdim=True)
        s.pdistP3 = nn.PairwiseDistance(p=3.0, eps=0.0)
${PY_WEIGHTING}
`;

// Which input each layer takes: x (2, 3, 4) float64, int64 indices (with repeats, and the padding row 2), or the
// pair x and x2 (2, 3, 4) float64 (the distances).
const X_LAYERS = ['ln', 'lnPlain', 'gelu', 'geluTanh', 'silu', 'sigmoid', 'tanh', 'softmax', 'logSoftmax', 'gn', 'gnPlain', 'convT', 'convTGrouped', 'leaky', 'leakyDefault', 'elu', 'hardtanh', 'relu6', 'softplus', 'mish', 'hardswish', 'hardsigmoid'] as const;
const IDX_LAYERS = { emb: 'idx', embFreq: 'idxFreq', embMax: 'idx' } as const;
const PAIR_LAYERS = ['cos', 'cosLast', 'pdist', 'pdistP1', 'pdistP3'] as const;
const X = { data: Array.from({ length: 24 }, (_, i) => Math.sin(1.7 * i + 0.3) * 2), shape: [2, 3, 4] };
const X2 = { data: Array.from({ length: 24 }, (_, i) => Math.cos(1.3 * i + 0.7) * 2), shape: [2, 3, 4] };
const IDX = { idx: [[1, 2, 2, 9], [0, 5, 1, 2]], idxFreq: [[0, 0, 0, 3], [5, 3, 1, 0]] };

interface Run {
  out: number[];
  shape: number[];
  /** Gradients of sum(out * weighting) for the input x (when it takes x; and input2 for x2) and the layer's parameters. */
  grads: Record<string, number[]>;
  /** Embedding with maxNorm: its weight after the forward (renormalised in place). */
  weightAfter?: number[];
}

/** Runs every layer of `net` on the shared inputs, one forward and backward each. */
function runAll(net: Net): Record<string, Run> {
  const res: Record<string, Run> = {};
  const layers = Object.fromEntries(net.namedChildren());
  for (const name of [...X_LAYERS, ...Object.keys(IDX_LAYERS), ...PAIR_LAYERS]) {
    tidy(() => {
      const m = layers[name];
      const pair = (PAIR_LAYERS as readonly string[]).includes(name);
      const takesX = pair || (X_LAYERS as readonly string[]).includes(name);
      const x = takesX
        ? tensor(Float64Array.from(X.data), { shape: X.shape, requiresGrad: true })
        : tensor(IDX[IDX_LAYERS[name as keyof typeof IDX_LAYERS]].flat().map(BigInt));
      const x2 = pair ? tensor(Float64Array.from(X2.data), { shape: X2.shape, requiresGrad: true }) : null;
      const out = x2 ? m.forward(x, x2) : m.forward(x);
      out.mul(tensor(Float64Array.from(weighting(out.numel())), { shape: out.shape })).sum().backward();
      const grads: Record<string, number[]> = {};
      if (takesX) grads.input = vals(x.grad as Tensor);
      if (x2) grads.input2 = vals(x2.grad as Tensor);
      for (const [k, p] of m.namedParameters()) grads[k] = vals(p.grad as Tensor);
      res[name] = { out: vals(out), shape: out.shape, grads };
      if (name === 'embMax') res[name].weightAfter = vals(net.embMax.weight);
    });
  }
  net.zeroGrad();
  return res;
}

const PY_RUN_ALL = `
def run_all(net):
    res = {}
    x_layers = ${JSON.stringify(X_LAYERS)}
    idx_layers = ${JSON.stringify(IDX_LAYERS)}
    pair_layers = ${JSON.stringify(PAIR_LAYERS)}
    idx = {k: torch.tensor(v, dtype=torch.int64).flatten() for k, v in ${JSON.stringify(IDX)}.items()}
    for name in x_layers + list(idx_layers) + pair_layers:
        m = getattr(net, name)
        pair = name in pair_layers
        takes_x = pair or name in x_layers
        x = torch.tensor(${JSON.stringify(X.data)}, dtype=torch.float64).reshape(${JSON.stringify(X.shape)}).requires_grad_(True) if takes_x else idx[idx_layers[name]]
        x2 = torch.tensor(${JSON.stringify(X2.data)}, dtype=torch.float64).reshape(${JSON.stringify(X2.shape)}).requires_grad_(True) if pair else None
        out = m(x, x2) if pair else m(x)
        (out * weighting(out)).sum().backward()
        grads = {}
        if takes_x: grads['input'] = x.grad.flatten().tolist()
        if pair: grads['input2'] = x2.grad.flatten().tolist()
        for k, p in m.named_parameters(): grads[k] = p.grad.flatten().tolist()
        res[name] = {'out': out.detach().flatten().tolist(), 'shape': list(out.shape), 'grads': grads}
        if name == 'embMax': res[name]['weightAfter'] = net.embMax.weight.detach().flatten().tolist()
    net.zero_grad()
    return res
`;

/** Layers whose kernels changed between LibTorch releases: compared only against python3's own version. */
const SAME_VERSION_ONLY = new Set(['cosLast']); // 2.x clamps each norm at eps, 1.13 their product

function expectRunsEqual(ours: Record<string, Run>, theirs: Record<string, Run>, tol: number): void {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  const same = sameTorchVersion(torch.info().torchVersion);
  for (const [name, r] of Object.entries(theirs)) {
    if (SAME_VERSION_ONLY.has(name) && !same) continue;
    const o = ours[name];
    expect(o.shape, `${name} output shape`).toEqual(r.shape);
    expect(maxDiff(o.out, r.out), `${name} output`).toBeLessThan(tol);
    expect(Object.keys(o.grads).sort(), `${name} gradients`).toEqual(Object.keys(r.grads).sort());
    for (const k of Object.keys(r.grads)) expect(maxDiff(o.grads[k], r.grads[k]), `${name} gradient of ${k}`).toBeLessThan(tol);
    if (r.weightAfter) expect(maxDiff(o.weightAfter as number[], r.weightAfter), `${name} weight after the forward`).toBeLessThan(tol);
  }
}

// ---------------------------------------------------------------- without Python

describe('LayerNorm, Embedding and the activations: parameters, state dicts, initialisation', () => {
  it("have PyTorch's state-dict keys, shapes and initial values; options change them as in PyTorch", () => {
    const before = memory().tensors;
    const ln = new nn.LayerNorm(8);
    const ln2 = new nn.LayerNorm([2, 3], { elementwiseAffine: false });
    const ln3 = new nn.LayerNorm(5, { bias: false, eps: 1e-6 });
    const emb = new nn.Embedding(10, 4, { paddingIdx: -1 });
    const acts = [new nn.GELU(), new nn.SiLU(), new nn.Sigmoid(), new nn.Tanh(), new nn.Softmax(0), new nn.LogSoftmax(1)];
    try {
      tidy(() => {
        expect(shapes(ln.stateDict())).toEqual([['weight', [8]], ['bias', [8]]]);
        expect(vals(ln.stateDict().weight)).toEqual(new Array(8).fill(1));
        expect(vals(ln.stateDict().bias)).toEqual(new Array(8).fill(0));
        expect([ln.normalizedShape, ln.eps, ln.elementwiseAffine, ln.weight?.requiresGrad, ln.kind, ln.isNative]).toEqual([[8], 1e-5, true, true, 'LayerNorm', false]);
        expect(shapes(ln2.stateDict())).toEqual([]);
        expect([ln2.weight, ln2.bias, ln2.numParameters()]).toEqual([null, null, 0]);
        expect(shapes(ln3.stateDict())).toEqual([['weight', [5]]]);
        expect(ln3.eps).toBe(1e-6);
        expect(shapes(emb.stateDict())).toEqual([['weight', [10, 4]]]);
        expect(emb.paddingIdx).toBe(9); // stored non-negative, as PyTorch
        const w = vals(emb.weight);
        expect(w.slice(36)).toEqual([0, 0, 0, 0]);
        expect(w.slice(0, 36).every((v) => v !== 0)).toBe(true);
        expect(emb.weight.dtype).toBe('float32');
        for (const a of acts) expect(shapes(a.stateDict())).toEqual([]);
        expect(acts.map((a) => a.kind)).toEqual(['GELU', 'SiLU', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax']);
        const e64 = new nn.Embedding(3, 2, { dtype: 'float64', device: 'cpu' });
        expect([e64.weight.dtype, e64.weight.device]).toEqual(['float64', 'cpu']);
        e64.dispose();
      });
    } finally {
      for (const m of [ln, ln2, ln3, emb, ...acts]) m.dispose();
    }
    expect(memory().tensors).toBe(before); // nothing left behind
  });

  it('forward shapes; Module.to moves the parameters; resetParameters gives the initial values again', () => {
    const ln = new nn.LayerNorm([3, 4]);
    const emb = new nn.Embedding(6, 5, { paddingIdx: 1 });
    try {
      tidy(() => {
        expect(ln.forward(randn([2, 3, 4])).shape).toEqual([2, 3, 4]);
        expect(emb.forward(tensor([[0n, 1n, 5n]])).shape).toEqual([1, 3, 5]);
        expect(emb.forward(tensor([0, 1], { dtype: 'int32' })).shape).toEqual([2, 5]);
        noGrad(() => {
          ln.weight?.fill_(3);
          ln.bias?.fill_(2);
          emb.weight.fill_(7);
        });
        ln.resetParameters();
        emb.resetParameters();
        expect(vals(ln.weight as Tensor)).toEqual(new Array(12).fill(1));
        expect(vals(ln.bias as Tensor)).toEqual(new Array(12).fill(0));
        const w = vals(emb.weight);
        expect(w.slice(5, 10)).toEqual([0, 0, 0, 0, 0]);
        expect(w.some((v) => v === 7)).toBe(false);
        ln.to('float64');
        emb.to('float64');
        expect([ln.weight?.dtype, emb.weight.dtype]).toEqual(['float64', 'float64']);
        expect(ln.forward(randn([2, 3, 4], { dtype: 'float64' })).dtype).toBe('float64');
      });
    } finally {
      ln.dispose();
      emb.dispose();
    }
    // a container's resetParameters reaches them too (and the built-in layers beside them)
    const net = new nn.Sequential([['emb', new nn.Embedding(6, 4, { paddingIdx: 0 })], ['ln', new nn.LayerNorm(4)], ['fc', new nn.Linear(4, 2)]]);
    try {
      tidy(() => {
        noGrad(() => {
          for (const p of net.parameters()) p.fill_(7);
        });
        net.resetParameters();
        const sd = net.stateDict();
        expect(vals(sd['ln.weight'])).toEqual([1, 1, 1, 1]);
        expect(vals(sd['ln.bias'])).toEqual([0, 0, 0, 0]);
        expect(vals(sd['emb.weight']).slice(0, 4)).toEqual([0, 0, 0, 0]);
        for (const k of ['emb.weight', 'fc.weight', 'fc.bias']) expect(vals(sd[k]).includes(7), k).toBe(false);
      });
    } finally {
      net.dispose();
    }
  });

  it('ConvTranspose2d starts as PyTorch initialises it (weight and bias within ±1/√fanIn, fanIn = outChannels/groups·kH·kW) and upsamples', () => {
    const up = new nn.ConvTranspose2d(8, 6, [4, 2], { stride: 2, padding: 1, groups: 2 });
    try {
      tidy(() => {
        const bound = 1 / Math.sqrt(3 * 4 * 2);
        expect(up.weight.shape).toEqual([8, 3, 4, 2]);
        const w = vals(up.weight);
        const b = vals(up.bias as Tensor);
        expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
        expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.8 * bound); // spread over the range, not a constant
        expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(bound);
        expect(new Set(b).size).toBe(6);
        expect(up.forward(randn([2, 8, 5, 7])).shape).toEqual([2, 6, 10, 12]);
        noGrad(() => up.weight.fill_(3));
        up.resetParameters();
        expect(vals(up.weight).includes(3)).toBe(false);
      });
    } finally {
      up.dispose();
    }
  });

  it('the 2-d paddings equal F.pad with their mode; Dropout2d zeroes whole channels in training and nothing in evaluation', () => {
    tidy(() => {
      const x = randn([2, 3, 4, 5]);
      const same = (m: nn.Module, want: Tensor): void => expect(vals(m.forward(x))).toEqual(vals(want));
      same(new nn.ZeroPad2d(1), nn.functional.pad(x, [1, 1, 1, 1]));
      same(new nn.ConstantPad2d([1, 0, 2, 3], -2), nn.functional.pad(x, [1, 0, 2, 3], 'constant', -2));
      same(new nn.ReflectionPad2d([3, 1, 2, 0]), nn.functional.pad(x, [3, 1, 2, 0], 'reflect'));
      same(new nn.ReplicationPad2d(2), nn.functional.pad(x, [2, 2, 2, 2], 'replicate'));
      expect(new nn.ZeroPad2d([1, 2, 3, 4]).forward(x).shape).toEqual([2, 3, 11, 8]);
      // reflect: row 0 of the padded image is row 2 of the input (mirror without the edge)
      const r = new nn.ReflectionPad2d([0, 0, 2, 0]).forward(x);
      expect(vals(r.select(2, 0))).toEqual(vals(x.select(2, 2)));

      const drop = new nn.Dropout2d(0.5);
      const ones4 = torch.ones([8, 32, 3, 3]);
      const y = drop.forward(ones4);
      const perChannel = y.reshape(8 * 32, 9);
      const rows = perChannel.toNested() as number[][];
      expect(rows.every((row) => row.every((v) => v === row[0]))).toBe(true); // a channel is kept or dropped whole
      const kept = rows.filter((row) => row[0] !== 0);
      expect(kept.every((row) => row[0] === 2)).toBe(true); // scaled by 1/(1-p)
      expect(kept.length).toBeGreaterThan(64);
      expect(kept.length).toBeLessThan(192);
      drop.eval();
      expect(vals(drop.forward(ones4))).toEqual(vals(ones4));
      expect(() => drop.forward(torch.ones([3, 4, 4]))).toThrow(/^dropout2d: expected a 4-d tensor \(N, C, H, W\) \(PyTorch reads a 3-d one as \(N, C, L\)/);
    });
  });

  it("Embedding's paddingIdx row gets no gradient and stays zero through SGD steps", () => {
    const emb = new nn.Embedding(5, 3, { paddingIdx: 0 });
    const params = emb.parameters();
    const opt = new SGD(params, { lr: 0.5 });
    try {
      for (let step = 0; step < 3; step++) {
        tidy(() => {
          opt.zeroGrad();
          emb.forward(tensor([[0n, 1n, 0n], [3n, 0n, 1n]])).sum().backward(); // linear: a zero row would still get a gradient
          const g = vals(emb.weight.grad as Tensor);
          expect(g.slice(0, 3)).toEqual([0, 0, 0]); // the padding row: no gradient
          expect(g.slice(3, 6).every((v) => v !== 0)).toBe(true); // row 1 was looked up
          expect(g.slice(6, 9)).toEqual([0, 0, 0]); // row 2 was not
          opt.step();
        });
      }
      tidy(() => void expect(vals(emb.weight).slice(0, 3)).toEqual([0, 0, 0]));
    } finally {
      for (const p of params) p.dispose();
      opt.dispose();
      emb.dispose();
    }
  });

  it('Embedding.fromPretrained shares the given table, is frozen by default and keeps the padding row as given', () => {
    const table = tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
    const frozen = nn.Embedding.fromPretrained(table, { paddingIdx: 1 });
    const trained = nn.Embedding.fromPretrained(table, { freeze: false });
    try {
      tidy(() => {
        expect([frozen.numEmbeddings, frozen.embeddingDim, frozen.paddingIdx]).toEqual([3, 2, 1]);
        expect([frozen.weight.requiresGrad, trained.weight.requiresGrad]).toEqual([false, true]);
        expect(vals(frozen.forward(tensor([2n, 1n])))).toEqual([5, 6, 3, 4]);
        noGrad(() => table.narrow(0, 0, 1).fill_(9)); // shares memory, as PyTorch's from_pretrained
        expect(vals(frozen.weight).slice(0, 2)).toEqual([9, 9]);
        expect(shapes(trained.stateDict())).toEqual([['weight', [3, 2]]]);
      });
      expect(() => nn.Embedding.fromPretrained(tensor([1, 2]))).toThrow(/^Embedding\.fromPretrained: expected a 2-d tensor .* but received shape \[2\]/);
      expect(() => nn.Embedding.fromPretrained(table, { freez: true } as never)).toThrow(/^Embedding\.fromPretrained: unknown option 'freez'; did you mean 'freeze'\?/);
      expect(() => nn.Embedding.fromPretrained(table, { paddingIdx: 3 })).toThrow(/^Embedding\.fromPretrained: expected a row index in \[-3, 3\)/);
      expect(() => nn.Embedding.fromPretrained(table, { dtype: 'float64' } as never)).toThrow(/unknown option 'dtype'/);
    } finally {
      frozen.dispose();
      trained.dispose();
      table.dispose();
    }
  });

  it("CosineSimilarity and PairwiseDistance: PyTorch's defaults, no state, the functional forms' values and shapes", () => {
    const before = memory().tensors;
    const cos = new nn.CosineSimilarity();
    const cos0 = new nn.CosineSimilarity({ dim: 0, eps: 1e-3 });
    const pd = new nn.PairwiseDistance();
    const pdKeep = new nn.PairwiseDistance({ p: 1, eps: 0, keepdim: true });
    try {
      tidy(() => {
        expect([cos.dim, cos.eps, cos0.dim, cos0.eps]).toEqual([1, 1e-8, 0, 1e-3]);
        expect([pd.p, pd.eps, pd.keepdim, pdKeep.p, pdKeep.eps, pdKeep.keepdim]).toEqual([2, 1e-6, false, 1, 0, true]);
        for (const m of [cos, cos0, pd, pdKeep]) {
          expect(shapes(m.stateDict()), m.kind).toEqual([]);
          expect([m.numParameters(), m.isNative], m.kind).toEqual([0, false]);
        }
        expect([cos.kind, pd.kind]).toEqual(['CosineSimilarity', 'PairwiseDistance']);
        const a = randn([4, 3]);
        const b = randn([4, 3]);
        expect(cos.forward(a, b).shape).toEqual([4]);
        expect(vals(cos.forward(a, b))).toEqual(vals(nn.functional.cosineSimilarity(a, b)));
        expect(cos0.forward(a, b).shape).toEqual([3]);
        expect(vals(cos.forward(a, a.mul(3))).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
        expect(pd.forward(a, b).shape).toEqual([4]);
        expect(vals(pd.forward(a, b))).toEqual(vals(nn.functional.pairwiseDistance(a, b)));
        expect(pdKeep.forward(a, b).shape).toEqual([4, 1]);
        const l1 = vals(a.sub(b).abs().sum(1));
        vals(pdKeep.forward(a, b)).forEach((v, i) => expect(v).toBeCloseTo(l1[i], 5));
        expect(pd.forward(randn([3]), randn([3])).shape).toEqual([]);
      });
    } finally {
      for (const m of [cos, cos0, pd, pdKeep]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('bad arguments and options are errors naming the layer, the argument and what was expected', () => {
    const cases: ErrorCase[] = [
      [() => new nn.LayerNorm(2.5), TypeError, /^LayerNorm: expected a positive integer for normalizedShape but received 2\.5/],
      [() => new nn.LayerNorm(0), RangeError, /^LayerNorm: expected a positive integer for normalizedShape but received 0/],
      [() => new nn.LayerNorm([4, -1]), RangeError, /^LayerNorm: expected a positive integer for normalizedShape\[1\] but received -1/],
      [() => new nn.LayerNorm([]), TypeError, /^LayerNorm: expected a positive integer or a non-empty array of positive integers for normalizedShape/],
      [() => new nn.LayerNorm('4' as never), TypeError, /^LayerNorm: expected .* for normalizedShape but received "4" \(string\)/],
      [() => new nn.LayerNorm(4, { elementwise_affine: false } as never), TypeError, /^LayerNorm: unknown option 'elementwise_affine'; did you mean 'elementwiseAffine'\?/],
      [() => new nn.LayerNorm(4, { eps: -1 }), RangeError, /^LayerNorm: expected a number >= 0 for eps but received -1/],
      [() => new nn.LayerNorm(4, { eps: '1e-5' as never }), TypeError, /^LayerNorm: expected a finite number for eps/],
      [() => new nn.LayerNorm(4, { elementwiseAffine: 1 as never }), TypeError, /^LayerNorm: expected a boolean for elementwiseAffine but received 1/],
      [() => new nn.LayerNorm(4, { dtype: 'int64' }), TypeError, /^LayerNorm: expected one of "float32", .* for dtype but received "int64"/],
      [() => new nn.Embedding(10.5, 4), TypeError, /^Embedding: expected a positive integer for numEmbeddings but received 10\.5/],
      [() => new nn.Embedding(10, -4), RangeError, /^Embedding: expected a positive integer for embeddingDim but received -4/],
      [() => new nn.Embedding(10, 4, { paddingIdx: 10 }), RangeError, /^Embedding: expected a row index in \[-10, 10\) \(numEmbeddings 10; negative counts from the end\) for paddingIdx but received 10/],
      [() => new nn.Embedding(10, 4, { paddingIdx: -11 }), RangeError, /^Embedding: expected a row index in \[-10, 10\)/],
      [() => new nn.Embedding(10, 4, { paddingIdx: 1.5 }), TypeError, /^Embedding: expected an integer row index \(or null\) for paddingIdx/],
      [() => new nn.Embedding(10, 4, { padding_idx: 0 } as never), TypeError, /^Embedding: unknown option 'padding_idx'; did you mean 'paddingIdx'\?/],
      [() => new nn.Embedding(10, 4, { maxNorm: -1 }), RangeError, /^Embedding: expected a number in \[0, Infinity\] for maxNorm but received -1/],
      [() => new nn.Embedding(10, 4, { normType: 'l2' as never }), TypeError, /^Embedding: expected a number for normType/],
      [() => new nn.Embedding(10, 4, { sparse: true }), RangeError, /^Embedding: expected false \(sparse gradients are not supported/],
      [() => new nn.Embedding(10, 4, { scaleGradByFreq: 'yes' as never }), TypeError, /^Embedding: expected a boolean for scaleGradByFreq/],
      [() => new nn.Embedding(10, 4, { device: 0 as never }), TypeError, /^Embedding: expected a device name/],
      [() => new nn.GELU({ approximate: 'erf' as never }), TypeError, /^GELU: expected one of "none", "tanh" for approximate but received "erf"/],
      [() => new nn.GELU({ aproximate: 'tanh' } as never), TypeError, /^GELU: unknown option 'aproximate'; did you mean 'approximate'\?/],
      [() => new nn.GELU('tanh' as never), TypeError, /^GELU: expected an object with keys among approximate for options/],
      [() => new nn.Softmax(undefined as never), TypeError, /^Softmax: expected an integer, the dimension to normalise over .* for dim but received undefined/],
      [() => new nn.LogSoftmax(1.5), TypeError, /^LogSoftmax: expected an integer, the dimension to normalise over/],
      [() => new nn.Upsample({ scaleFactor: 2, alignCorners: true }), TypeError, /^Upsample: expected no value with mode 'nearest' \(only 'linear', 'bilinear', 'bicubic' and 'trilinear' take it\) for alignCorners/],
      [() => new nn.Upsample({}), TypeError, /^Upsample: expected exactly one of size and scaleFactor for options/],
      [() => new nn.Upsample({ size: 4, scale_factor: 2 } as never), TypeError, /^Upsample: unknown option 'scale_factor'; did you mean 'scaleFactor'\?/],
      [() => new nn.Upsample({ scaleFactor: [2, 0] }), RangeError, /^Upsample: expected a finite number > 0 for scaleFactor\[1\] but received 0/],
      [() => new nn.Upsample({ size: 4, mode: 'cubic' as never }), TypeError, /^Upsample: expected one of "nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area" for mode/],
      [() => new nn.ZeroPad2d([1, 2] as never), TypeError, /^ZeroPad2d: expected an integer or \[left, right, top, bottom\] for padding/],
      [() => new nn.ReflectionPad2d(1.5), TypeError, /^ReflectionPad2d: expected an integer or \[left, right, top, bottom\] for padding/],
      [() => new nn.ConstantPad2d(1, 'x' as never), TypeError, /^ConstantPad2d: expected a finite number for value/],
      [() => new nn.Dropout2d(1.5), RangeError, /^Dropout2d: expected a probability in \[0, 1\] for p but received 1\.5/],
      [() => new nn.Hardtanh(1, 1), RangeError, /^Hardtanh: expected a number greater than minVal \(1\) for maxVal but received 1/],
      [() => new nn.LeakyReLU('0.2' as never), TypeError, /^LeakyReLU: expected a finite number for negativeSlope/],
      [() => new nn.Softplus(0), RangeError, /^Softplus: expected a nonzero number \(the result is divided by it\) for beta but received 0/],
      [() => new nn.ELU(NaN), TypeError, /^ELU: expected a finite number for alpha/],
      [() => new nn.GroupNorm(4, 6), RangeError, /^GroupNorm: expected a multiple of numGroups \(4\) for numChannels but received 6/],
      [() => new nn.GroupNorm(0, 6), RangeError, /^GroupNorm: expected a positive integer for numGroups but received 0/],
      [() => new nn.GroupNorm(2, 6, { elementwiseAffine: false } as never), TypeError, /^GroupNorm: unknown option 'elementwiseAffine'/],
      [() => new nn.ConvTranspose2d(4, 6, 3, { groups: 4 }), RangeError, /^ConvTranspose2d: expected a multiple of groups \(4\) for outChannels but received 6/],
      [() => new nn.ConvTranspose2d(4, 4, 3, { stride: 2, outputPadding: 2 }), RangeError, /^ConvTranspose2d: expected values smaller than the stride or the dilation .* for outputPadding/],
      [() => new nn.ConvTranspose2d(4, 4, [3, 0]), RangeError, /^ConvTranspose2d: expected an integer between 1 and \d+ for kernelSize\[1\] but received 0/],
      [() => new nn.ConvTranspose2d(4, 4, 3, { output_padding: 1 } as never), TypeError, /^ConvTranspose2d: unknown option 'output_padding'; did you mean 'outputPadding'\?/],
      [() => new nn.CosineSimilarity({ dim: 1.5 }), TypeError, /^CosineSimilarity: expected an integer for dim but received 1\.5/],
      [() => new nn.CosineSimilarity({ dim: '1' as never }), TypeError, /^CosineSimilarity: expected an integer for dim but received "1"/],
      [() => new nn.CosineSimilarity({ eps: -1e-8 }), RangeError, /^CosineSimilarity: expected a number in \[0, Infinity\] for eps but received -1e-8/],
      [() => new nn.CosineSimilarity({ dims: 0 } as never), TypeError, /^CosineSimilarity: unknown option 'dims'; did you mean 'dim'\? \(known: dim, eps\)/],
      [() => new nn.CosineSimilarity(1 as never), TypeError, /^CosineSimilarity: expected an object with keys among dim, eps for options/],
      [() => new nn.PairwiseDistance({ p: -1 }), RangeError, /^PairwiseDistance: expected a number in \[0, Infinity\] for p but received -1/],
      [() => new nn.PairwiseDistance({ p: NaN }), TypeError, /^PairwiseDistance: expected a number for p but received NaN/],
      [() => new nn.PairwiseDistance({ eps: '1e-6' as never }), TypeError, /^PairwiseDistance: expected a number for eps but received "1e-6"/],
      [() => new nn.PairwiseDistance({ keepdim: 1 as never }), TypeError, /^PairwiseDistance: expected a boolean for keepdim but received 1/],
      [() => new nn.PairwiseDistance({ keepDim: true } as never), TypeError, /^PairwiseDistance: unknown option 'keepDim'; did you mean 'keepdim'\? \(known: p, eps, keepdim\)/],
      [() => new nn.PairwiseDistance({ norm: 2 } as never), TypeError, /^PairwiseDistance: unknown option 'norm' \(known: p, eps, keepdim\)/],
    ];
    expectErrors(cases);
    // Forward errors name the op and what was expected.
    const ln = new nn.LayerNorm(4);
    const emb = new nn.Embedding(5, 2);
    const sm = new nn.Softmax(3);
    try {
      tidy(() => {
        expect(() => ln.forward(randn([2, 5]))).toThrow(/^layerNorm: expected trailing dimensions \[4\] \(normalizedShape\) for input but received shape \[2, 5\]/);
        expect(() => ln.forward([1, 2, 3, 4] as never)).toThrow(/^LayerNorm\.forward: expected a Tensor for input/);
        expect(() => emb.forward(tensor([0.5]))).toThrow(/^embedding: expected int64 or int32 indices for input but received float32/);
        expect(() => emb.forward(tensor([5n]))).toThrow(/index 5 is out of range for a weight of 5 embeddings/);
        expect(() => sm.forward(randn([2, 3]))).toThrow(/^softmax: expected an integer between -2 and 1 for dim but received 3/);
        expect(() => new nn.Sigmoid().forward(null as never)).toThrow(/^Sigmoid\.forward: expected a Tensor for input but received null/);
        expect(() => new nn.GELU().forward(tensor([1n]))).toThrow(/^gelu: expected a floating-point tensor for input but received int64/);
        expect(() => new nn.CosineSimilarity().forward(randn([2, 3]), [1, 2, 3] as never)).toThrow(/^CosineSimilarity\.forward: expected a Tensor for x2 but received \[1, 2, 3\]/);
        expect(() => new nn.CosineSimilarity().forward(null as never, randn([2, 3]))).toThrow(/^CosineSimilarity\.forward: expected a Tensor for x1 but received null/);
        expect(() => new nn.CosineSimilarity({ dim: 2 }).forward(randn([2, 3]), randn([2, 3]))).toThrow(/^cosineSimilarity: Dimension out of range/);
        expect(() => new nn.CosineSimilarity().forward(randn([2, 3]), randn([2, 4]))).toThrow(/^cosineSimilarity: .*size of tensor a \(3\) must match the size of tensor b \(4\)/);
        expect(() => new nn.PairwiseDistance().forward(randn([2, 3]), undefined as never)).toThrow(/^PairwiseDistance\.forward: expected a Tensor for x2 but received undefined/);
        expect(() => new nn.PairwiseDistance().forward(randn([2, 3]), randn([2, 3], { dtype: 'float64' }))).toThrow(/^pairwiseDistance: expected x2 of x1's dtype float32 but received float64/);
        expect(() => new nn.PairwiseDistance().forward(tensor([1n]), tensor([1n]))).toThrow(/^pairwiseDistance: expected a floating-point tensor for x1 but received int64/);
        const gn = new nn.GroupNorm(2, 4);
        const up = new nn.ConvTranspose2d(4, 2, 3, { padding: 2 });
        try {
          expect(() => gn.forward(randn([2, 6, 3]))).toThrow(/^GroupNorm\.forward: expected an input \(N, 4, \.\.\.\) but received shape \[2, 6, 3\]/);
          expect(() => up.forward(randn([1, 3, 5, 5]))).toThrow(/^convTranspose2d: expected 4 channels in dim 1 \(weight \[4, 2, 3, 3\]\) for input/);
          expect(() => up.forward(randn([1, 4, 1, 1]))).toThrow(/^convTranspose2d: expected a spatial size that gives a positive output size .* \(dimension 0 would be -1\)/);
          const upsample = new nn.Upsample({ scaleFactor: [2, 1.5], mode: 'bilinear', alignCorners: true });
          const img = randn([2, 3, 4, 6]);
          expect(upsample.forward(img).shape).toEqual([2, 3, 8, 9]);
          expect(vals(upsample.forward(img))).toEqual(vals(nn.functional.interpolate(img, { scaleFactor: [2, 1.5], mode: 'bilinear', alignCorners: true })));
          expect(() => upsample.forward(randn([3, 4, 6]))).toThrow(/^interpolate: expected a 4-d tensor \(N, C, H, W\)/);
          expect(() => nn.functional.interpolate(img, { scaleFactor: 0.1 })).toThrow(/^interpolate: expected a spatial size that scaleFactor \[0\.1, 0\.1\] keeps at least 1 \(the output would be \[0, 0\]\)/);
          upsample.dispose();
          expect(() => nn.functional.pad(randn([1, 2, 3]), [3, 0], 'reflect')).toThrow(/^pad: expected less than the size 3 of the dimension it pads .* for pad\[0\] but received 3/);
          expect(() => nn.functional.pad(randn([3, 3]), [1, 1, 1, 1], 'replicate')).toThrow(/^pad: expected a 3-d or 4-d tensor for replicate padding of 2 dimensions \(pad of length 4\) for input/);
          expect(() => nn.functional.pad(randn([3, 3]), [1, 1, 1])).toThrow(/^pad: expected an array of \(before, after\) pairs of integers for pad/);
          expect(() => nn.functional.pad(randn([3, 3]), [1, 1], 'reflect', 0)).toThrow(/^pad: expected no value with mode 'reflect'/);
          expect(() => nn.functional.pad(randn([3, 3]), [1, 1], 'mirror' as never)).toThrow(/^pad: expected one of "constant", "reflect", "replicate", "circular" for mode/);
          expect(() => nn.functional.leakyRelu(tensor([1n]))).toThrow(/^leakyRelu: expected a floating-point tensor for input but received int64/);
          expect(() => nn.functional.hardtanh(randn([2]), 2, -2)).toThrow(/^hardtanh: expected a number greater than minVal \(2\) for maxVal/);
          expect(() => nn.functional.softplus(randn([2]), 1, Infinity)).toThrow(/^softplus: expected a finite number for threshold/);
          expect(() => new nn.Mish().forward('x' as never)).toThrow(/^Mish\.forward: expected a Tensor for input/);
          expect(() => nn.functional.groupNorm(randn([2, 6]), 4)).toThrow(/^groupNorm: expected a channel count \(dim 1\) divisible by numGroups 4/);
          expect(() => nn.functional.convTranspose2d(randn([1, 4, 3, 3]), up.weight, randn([3]))).toThrow(/^convTranspose2d: expected shape \[2\] \(one per output channel/);
        } finally {
          gn.dispose();
          up.dispose();
        }
      });
    } finally {
      ln.dispose();
      emb.dispose();
      sm.dispose();
    }
  });
});

describe('the new layers inside nn.Sequential', () => {
  it('train with SGD: the loss goes down; the container runs through JS and keeps PyTorch-style keys', () => {
    manualSeed(1);
    const net = new nn.Sequential(
      new nn.Embedding(12, 8, { paddingIdx: 0 }), new nn.LayerNorm(8), new nn.GELU(), new nn.Flatten(1), new nn.Linear(24, 16),
      new nn.SiLU(), new nn.Linear(16, 16), new nn.Tanh(), new nn.Linear(16, 3), new nn.LogSoftmax(1),
    );
    const params = net.parameters();
    const opt = new SGD(params, { lr: 0.2, momentum: 0.9 });
    // Class = the first token mod 3: learnable from the embedding of the first position.
    const tokens = tensor(BigInt64Array.from(Array.from({ length: 48 }, (_, i) => BigInt(1 + ((i * 7 + (i >> 2)) % 11)))), { shape: [16, 3] });
    const labels = tidy(() => tokens.narrow(1, 0, 1).flatten().remainder(3));
    try {
      expect(net.isNative).toBe(false);
      expect(tidy(() => shapes(net.stateDict()))).toEqual([
        ['0.weight', [12, 8]], ['1.weight', [8]], ['1.bias', [8]], ['4.weight', [16, 24]], ['4.bias', [16]],
        ['6.weight', [16, 16]], ['6.bias', [16]], ['8.weight', [3, 16]], ['8.bias', [3]],
      ]);
      const losses: number[] = [];
      for (let step = 0; step < 8; step++) {
        losses.push(tidy(() => {
          opt.zeroGrad();
          const loss = nn.functional.nllLoss(net.forward(tokens), labels);
          loss.backward();
          opt.step();
          return loss.item() as number;
        }));
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[losses.length - 1]).toBeLessThan(0.7 * losses[0]);
      // The LayerNorm and Embedding parameters were trained (not only the Linear ones).
      tidy(() => {
        const sd = net.stateDict();
        expect(vals(sd['1.weight']).some((v) => Math.abs(v - 1) > 1e-4)).toBe(true);
        expect(vals(sd['0.weight']).slice(0, 8)).toEqual(new Array(8).fill(0)); // padding row untouched
      });
    } finally {
      for (const p of params) p.dispose();
      opt.dispose();
      net.dispose();
      tokens.dispose();
      labels.dispose();
    }
  });
});

// ---------------------------------------------------------------- against PyTorch

describe.skipIf(!hasTorch)('the new layers and their PyTorch counterparts (needs /usr/bin/python3 with torch)', () => {
  it('same state-dict keys and shapes; our weights load strictly into PyTorch and give its outputs and gradients; its weights load strictly into ours', async () => {
    manualSeed(3);
    const net = new Net();
    const back = new Net();
    try {
      // Weights that are not the initial ones, so a mix-up of weight and bias shows.
      noGrad(() => {
        nn.init.uniform_(net.ln.weight as Tensor, 0.5, 1.5);
        nn.init.normal_(net.ln.bias as Tensor);
      });
      // Our state dict is saved before the forward (embMax renormalises rows in place).
      const r = await stateDictRoundTrip(net, back, {
        dir: tmp, run: runAll, pyNet: `${PY_NET}${PY_RUN_ALL}`, pyRun: 'run_all',
        pyPerturb: 'with torch.no_grad():\n    t.ln.weight.uniform_(0.5, 1.5); t.ln.bias.normal_()',
      });
      const weightsAfter = tidy(() => vals(net.embMax.weight));
      expectRunsEqual(r.ours, r.mine, 1e-10);
      expect(maxDiff(weightsAfter, r.mine.embMax.weightAfter as number[])).toBeLessThan(1e-12);
      // The padding row: zero, no gradient, in both.
      expect(r.ours.emb.grads.weight.slice(8, 12)).toEqual([0, 0, 0, 0]);
      expect(r.mine.emb.grads.weight.slice(8, 12)).toEqual([0, 0, 0, 0]);
      // ... and back: PyTorch's state dict loads strictly into ours and gives PyTorch's results.
      expectRunsEqual(r.back, r.theirs, 1e-10);
      expect(maxDiff(r.back.ln.out, r.ours.ln.out)).toBeGreaterThan(1e-3); // other weights, other outputs
      // A state dict missing a key, or with a wrong shape, is refused.
      const partial = tidy(() => {
        const sd = { ...back.stateDict() };
        delete sd['ln.bias'];
        return sd;
      });
      expect(() => net.loadStateDict(partial)).toThrow(/missing keys: ln\.bias/);
      for (const t of Object.values(partial)) t.dispose();
      expect(() => tidy(() => net.loadStateDict({ ...net.stateDict(), 'emb.weight': randn([9, 4], { dtype: 'float64' }) }))).toThrow(/size mismatch for emb\.weight/);
    } finally {
      net.dispose();
      back.dispose();
    }
  }, 120_000);

  it("Embedding draws PyTorch's initial weights from the same seed (padding row zeroed); LayerNorm starts at ones and zeros", async () => {
    manualSeed(5);
    const emb = new nn.Embedding(10, 4, { paddingIdx: 2 });
    const ln = new nn.LayerNorm([2, 3]);
    try {
      const ours = tidy(() => ({ emb: vals(emb.weight), w: vals(ln.weight as Tensor), b: vals(ln.bias as Tensor) }));
      const theirs = JSON.parse(
        await py(`
import json, torch, torch.nn as nn
torch.manual_seed(5)
e = nn.Embedding(10, 4, padding_idx=2)
l = nn.LayerNorm([2, 3])
print(json.dumps({'emb': e.weight.flatten().tolist(), 'w': l.weight.flatten().tolist(), 'b': l.bias.flatten().tolist()}))
`),
      ) as typeof ours;
      expect(maxDiff(ours.emb, theirs.emb)).toBeLessThan(1e-6);
      expect(ours.w).toEqual(theirs.w);
      expect(ours.b).toEqual(theirs.b);
    } finally {
      emb.dispose();
      ln.dispose();
    }
  }, 120_000);
});
