// The remaining common losses of torch.nn.functional and torch.nn (lib/nn/losses.ts, lib/nn/loss-modules.ts):
// marginRankingLoss, hingeEmbeddingLoss, softMarginLoss, cosineEmbeddingLoss, tripletMarginLoss, multiMarginLoss,
// multilabelMarginLoss, multilabelSoftMarginLoss, poissonNllLoss, gaussianNllLoss, ctcLoss and their modules. Each
// module equals its functional form; against python3-torch, each module's value and input gradients equal
// PyTorch's module on the same inputs (float64, every reduction and a few option combinations), the defaults are
// PyTorch's, and the state-dict keys (MultiMarginLoss' and MultiLabelSoftMarginLoss' weight buffers) load strictly
// both ways. Then the argument errors (shapes, classes out of range, p, blank, unknown options), each leaving the
// process working, with no tensor left behind.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, loadStateDict, memory, nn, saveStateDict, tensor, tidy } from '../lib';
import { lcg } from './helpers/random';
import { hasTorch, py, runCases, type PyCase, type PyTensor } from './helpers/torchpy';
import { maxDiff, shapes, vals } from './helpers/compare';
import { expectError, type ErrorCase } from './helpers/errors';
import { inp, numel, toTensor } from './helpers/specs';

const F = nn.functional;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-losses-more-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The upstream gradient the outputs are backpropagated with (so 'none' outputs are weighted unevenly). */
const weighting = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 3 + 0.1);

// ---------------------------------------------------------------- inputs

/** Deterministic float64 values in [-scale, scale) (positive: |v| + 0.1), inp's; `grad` (default false): its gradient is compared. */
const floats = (shape: number[], seed: number, opts: { scale?: number; positive?: boolean; grad?: boolean } = {}): PyTensor => inp(shape, seed, { ...opts, grad: opts.grad ?? false });
/** An input whose gradient is compared. */
const x = (shape: number[], seed: number, opts: { scale?: number; positive?: boolean } = {}): PyTensor => floats(shape, seed, { ...opts, grad: true });
/** Integer values (class indices, labels, lengths). */
const ints = (data: number[], shape = [data.length], dtype: 'int64' | 'int32' = 'int64'): PyTensor => ({ data, shape, dtype });
/** Float values as given. */
const given = (data: number[], shape = [data.length]): PyTensor => ({ data, shape, dtype: 'float64' });
/** Labels 1 / −1, deterministic. */
function signs(shape: number[], seed: number, dtype: 'float64' | 'int64' = 'float64'): PyTensor {
  const r = lcg(seed);
  return { data: Array.from({ length: numel(shape) }, () => (r() < 0 ? -1 : 1)), shape, dtype };
}
/** Log-probabilities (T, N, C) or (T, C): log-softmax rows, as a CTC input is; its gradient is compared. */
function logProbs(shape: number[], seed: number): PyTensor {
  const t = floats(shape, seed, { positive: true, grad: true });
  const c = shape[shape.length - 1];
  for (let i = 0; i < t.data.length; i += c) {
    const s = t.data.slice(i, i + c).reduce((a, b) => a + b, 0);
    for (let j = i; j < i + c; j++) t.data[j] = Math.log(t.data[j] / s);
  }
  return t;
}

// ---------------------------------------------------------------- the cases

type LossName =
  | 'MarginRankingLoss' | 'HingeEmbeddingLoss' | 'SoftMarginLoss' | 'CosineEmbeddingLoss' | 'TripletMarginLoss' | 'MultiMarginLoss'
  | 'MultiLabelMarginLoss' | 'MultiLabelSoftMarginLoss' | 'PoissonNLLLoss' | 'GaussianNLLLoss' | 'CTCLoss';

/** A module's options, the weight as data (made into a tensor for ictorch and for Python). */
interface Opts {
  weight?: PyTensor;
  reduction?: string;
  margin?: number;
  p?: number;
  eps?: number;
  swap?: boolean;
  logInput?: boolean;
  full?: boolean;
  blank?: number;
  zeroInfinity?: boolean;
}

interface Case {
  name: string;
  loss: LossName;
  opts: Opts;
  /** The forward's arguments, in order (those with `grad` have their gradients compared). */
  args: PyTensor[];
  /** Python's arguments where they differ from a0, a1, ... (PyTorch takes int64 class indices only). */
  pyArgs?: string[];
}

const W5 = given([0.5, 1, 2, 1.5, 0.8]);
const CASES: Case[] = [
  { name: 'MarginRanking mean', loss: 'MarginRankingLoss', opts: {}, args: [x([6], 1), x([6], 2), signs([6], 3)] },
  { name: 'MarginRanking margin 0.3 sum int target', loss: 'MarginRankingLoss', opts: { margin: 0.3, reduction: 'sum' }, args: [x([2, 3], 4), x([2, 3], 5), signs([2, 3], 6, 'int64')] },
  { name: 'MarginRanking margin -0.2 none', loss: 'MarginRankingLoss', opts: { margin: -0.2, reduction: 'none' }, args: [x([2, 3], 7), x([2, 3], 8), signs([2, 3], 9)] },
  { name: 'HingeEmbedding mean', loss: 'HingeEmbeddingLoss', opts: {}, args: [x([2, 4], 10, { positive: true }), signs([2, 4], 11)] },
  { name: 'HingeEmbedding margin 2 sum int target', loss: 'HingeEmbeddingLoss', opts: { margin: 2, reduction: 'sum' }, args: [x([2, 4], 12, { positive: true, scale: 2 }), signs([2, 4], 13, 'int64')] },
  { name: 'HingeEmbedding margin 0.5 none', loss: 'HingeEmbeddingLoss', opts: { margin: 0.5, reduction: 'none' }, args: [x([7], 14, { positive: true }), signs([7], 15)] },
  { name: 'SoftMargin mean', loss: 'SoftMarginLoss', opts: {}, args: [x([3, 4], 16, { scale: 3 }), signs([3, 4], 17)] },
  { name: 'SoftMargin sum int target', loss: 'SoftMarginLoss', opts: { reduction: 'sum' }, args: [x([3, 4], 18, { scale: 3 }), signs([3, 4], 19, 'int64')] },
  { name: 'SoftMargin none', loss: 'SoftMarginLoss', opts: { reduction: 'none' }, args: [x([2, 3, 2], 20, { scale: 3 }), signs([2, 3, 2], 21)] },
  { name: 'CosineEmbedding mean', loss: 'CosineEmbeddingLoss', opts: {}, args: [x([4, 5], 22), x([4, 5], 23), signs([4], 24)] },
  { name: 'CosineEmbedding margin 0.3 sum', loss: 'CosineEmbeddingLoss', opts: { margin: 0.3, reduction: 'sum' }, args: [x([4, 5], 25), x([4, 5], 26), signs([4], 27)] },
  { name: 'CosineEmbedding margin -0.5 none int target', loss: 'CosineEmbeddingLoss', opts: { margin: -0.5, reduction: 'none' }, args: [x([5, 3], 28), x([5, 3], 29), signs([5], 30, 'int64')] },
  { name: 'CosineEmbedding unbatched', loss: 'CosineEmbeddingLoss', opts: { margin: 0.2 }, args: [x([5], 31), x([5], 32), given([-1], [])] },
  { name: 'TripletMargin mean', loss: 'TripletMarginLoss', opts: {}, args: [x([4, 5], 33), x([4, 5], 34), x([4, 5], 35)] },
  { name: 'TripletMargin margin 0.5 p 1 sum', loss: 'TripletMarginLoss', opts: { margin: 0.5, p: 1, reduction: 'sum' }, args: [x([4, 5], 36), x([4, 5], 37), x([4, 5], 38)] },
  { name: 'TripletMargin p 3 swap eps none', loss: 'TripletMarginLoss', opts: { p: 3, swap: true, eps: 1e-4, reduction: 'none' }, args: [x([5, 3], 39), x([5, 3], 40), x([5, 3], 41)] },
  { name: 'TripletMargin swap margin 2 mean', loss: 'TripletMarginLoss', opts: { swap: true, margin: 2 }, args: [x([6, 2], 42), x([6, 2], 43), x([6, 2], 44)] },
  { name: 'TripletMargin unbatched', loss: 'TripletMarginLoss', opts: { margin: 1.5 }, args: [x([5], 45), x([5], 46), x([5], 47)] },
  { name: 'MultiMargin mean', loss: 'MultiMarginLoss', opts: {}, args: [x([4, 5], 48), ints([1, 0, 4, 2])] },
  { name: 'MultiMargin p 2 margin 0.7 sum', loss: 'MultiMarginLoss', opts: { p: 2, margin: 0.7, reduction: 'sum' }, args: [x([4, 5], 49), ints([3, 3, 0, 1])] },
  { name: 'MultiMargin weight none', loss: 'MultiMarginLoss', opts: { weight: W5, reduction: 'none' }, args: [x([4, 5], 50), ints([4, 2, 0, 1])] },
  { name: 'MultiMargin weight p 2 int32 target', loss: 'MultiMarginLoss', opts: { weight: W5, p: 2 }, args: [x([3, 5], 51), ints([2, 4, 1], [3], 'int32')], pyArgs: ['a0', 'a1.long()'] },
  { name: 'MultiMargin unbatched', loss: 'MultiMarginLoss', opts: { margin: 0.4 }, args: [x([5], 52), ints([3], [])] },
  { name: 'MultilabelMargin mean', loss: 'MultiLabelMarginLoss', opts: {}, args: [x([3, 5], 53), ints([3, 0, -1, 1, 1, 1, -1, 0, 0, 0, 0, 1, 2, 4, -1], [3, 5])] },
  { name: 'MultilabelMargin sum', loss: 'MultiLabelMarginLoss', opts: { reduction: 'sum' }, args: [x([2, 4], 54), ints([2, -1, 3, 3, 0, 1, 2, 3], [2, 4])] },
  { name: 'MultilabelMargin none int32 target', loss: 'MultiLabelMarginLoss', opts: { reduction: 'none' }, args: [x([3, 4], 55), ints([1, 3, -1, 0, -1, 2, 2, 2, 0, 2, -1, 1], [3, 4], 'int32')], pyArgs: ['a0', 'a1.long()'] },
  { name: 'MultilabelMargin unbatched', loss: 'MultiLabelMarginLoss', opts: {}, args: [x([5], 56), ints([4, 1, -1, 0, 0])] },
  { name: 'MultilabelSoftMargin mean', loss: 'MultiLabelSoftMarginLoss', opts: {}, args: [x([3, 5], 57, { scale: 3 }), given([1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0], [3, 5])] },
  { name: 'MultilabelSoftMargin weight sum', loss: 'MultiLabelSoftMarginLoss', opts: { weight: W5, reduction: 'sum' }, args: [x([3, 5], 58, { scale: 3 }), given([0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1], [3, 5])] },
  { name: 'MultilabelSoftMargin weight none int target', loss: 'MultiLabelSoftMarginLoss', opts: { weight: W5, reduction: 'none' }, args: [x([2, 5], 59, { scale: 3 }), ints([1, 1, 0, 0, 1, 0, 1, 0, 1, 0], [2, 5])] },
  { name: 'PoissonNLL mean', loss: 'PoissonNLLLoss', opts: {}, args: [x([3, 4], 60), given([0, 1, 2, 5, 3, 0, 1, 4, 2, 2, 0, 7], [3, 4])] },
  { name: 'PoissonNLL logInput false sum', loss: 'PoissonNLLLoss', opts: { logInput: false, reduction: 'sum' }, args: [x([3, 4], 61, { positive: true, scale: 3 }), given([0, 1, 2, 5, 3, 0, 1, 4, 2, 2, 0, 7], [3, 4])] },
  { name: 'PoissonNLL full none', loss: 'PoissonNLLLoss', opts: { full: true, reduction: 'none' }, args: [x([2, 4], 62), given([0, 1, 2, 5, 3, 0.5, 1.5, 4], [2, 4])] },
  { name: 'PoissonNLL full logInput false eps mean', loss: 'PoissonNLLLoss', opts: { full: true, logInput: false, eps: 1e-3 }, args: [x([2, 4], 63, { positive: true }), given([0, 1, 2, 5, 3, 0, 1, 4], [2, 4])] },
  { name: 'GaussianNLL mean', loss: 'GaussianNLLLoss', opts: {}, args: [x([3, 4], 64), x([3, 4], 65), x([3, 4], 66, { positive: true })] },
  { name: 'GaussianNLL full sum var without last dim', loss: 'GaussianNLLLoss', opts: { full: true, reduction: 'sum' }, args: [x([3, 4], 67), x([3, 4], 68), x([3], 69, { positive: true })] },
  { name: 'GaussianNLL eps 0.5 none var last dim 1', loss: 'GaussianNLLLoss', opts: { eps: 0.5, reduction: 'none' }, args: [x([3, 4], 70), x([3, 4], 71), x([3, 1], 72, { positive: true })] },
  { name: 'GaussianNLL eps 0.5 mean (some clamped)', loss: 'GaussianNLLLoss', opts: { eps: 0.5 }, args: [x([2, 3], 73), x([2, 3], 74), { ...given([0.1, 0.6, 0, 1.5, 0.4, 2], [2, 3]), grad: true }] },
  {
    name: 'CTC padded mean', loss: 'CTCLoss', opts: {},
    args: [logProbs([8, 3, 5], 80), ints([1, 2, 3, 4, 2, 2, 0, 0, 4, 1, 3, 0], [3, 4]), ints([8, 7, 6]), ints([4, 2, 3])],
  },
  { name: 'CTC concatenated sum', loss: 'CTCLoss', opts: { reduction: 'sum' }, args: [logProbs([7, 2, 4], 81), ints([1, 2, 3, 3, 1]), ints([7, 6]), ints([3, 2])] },
  {
    name: 'CTC blank 2 none', loss: 'CTCLoss', opts: { blank: 2, reduction: 'none' },
    args: [logProbs([6, 3, 4], 82), ints([0, 1, 3, 3, 0, 0, 1, 0, 0], [3, 3]), ints([6, 6, 4]), ints([3, 1, 2])],
  },
  {
    // [1, 1, 2, 2] needs 6 frames (a blank between the repeats): the second sequence's 5 cannot align
    name: 'CTC zeroInfinity impossible alignment none', loss: 'CTCLoss', opts: { zeroInfinity: true, reduction: 'none' },
    args: [logProbs([6, 2, 3], 83), ints([1, 2, 0, 0, 1, 1, 2, 2], [2, 4]), ints([6, 5]), ints([2, 4])],
  },
  {
    name: 'CTC zeroInfinity impossible alignment mean', loss: 'CTCLoss', opts: { zeroInfinity: true },
    args: [logProbs([6, 2, 3], 84), ints([1, 2, 0, 0, 1, 1, 2, 2], [2, 4]), ints([6, 5]), ints([2, 4])],
  },
  { name: 'CTC unbatched (T, C)', loss: 'CTCLoss', opts: {}, args: [logProbs([7, 4], 85), ints([3, 1, 1]), ints([7]), ints([3])] },
  {
    name: 'CTC int32 targets and lengths', loss: 'CTCLoss', opts: { reduction: 'sum', blank: 3 },
    args: [logProbs([5, 2, 4], 86), ints([0, 1, 2, 2, 0, 0], [2, 3], 'int32'), ints([5, 4], [2], 'int32'), ints([3, 2], [2], 'int32')],
  },
];

/** The ictorch options of a case (tensors made here: call inside tidy). */
function tsOptions(o: Opts): Record<string, unknown> {
  const out: Record<string, unknown> = { ...o };
  if (o.weight) out.weight = toTensor(o.weight);
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODULES: Record<LossName, new (options?: any) => nn.Module> = {
  MarginRankingLoss: nn.MarginRankingLoss, HingeEmbeddingLoss: nn.HingeEmbeddingLoss, SoftMarginLoss: nn.SoftMarginLoss, CosineEmbeddingLoss: nn.CosineEmbeddingLoss,
  TripletMarginLoss: nn.TripletMarginLoss, MultiMarginLoss: nn.MultiMarginLoss, MultiLabelMarginLoss: nn.MultiLabelMarginLoss,
  MultiLabelSoftMarginLoss: nn.MultiLabelSoftMarginLoss, PoissonNLLLoss: nn.PoissonNLLLoss, GaussianNLLLoss: nn.GaussianNLLLoss, CTCLoss: nn.CTCLoss,
};
/** The functional forms over a case's arguments; ctcLoss gets its lengths as arrays of numbers (the module gets tensors). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const FUNCTIONAL: Record<LossName, (a: Tensor[], options: any) => Tensor> = {
  MarginRankingLoss: (a, o) => F.marginRankingLoss(a[0], a[1], a[2], o),
  HingeEmbeddingLoss: (a, o) => F.hingeEmbeddingLoss(a[0], a[1], o),
  SoftMarginLoss: (a, o) => F.softMarginLoss(a[0], a[1], o),
  CosineEmbeddingLoss: (a, o) => F.cosineEmbeddingLoss(a[0], a[1], a[2], o),
  TripletMarginLoss: (a, o) => F.tripletMarginLoss(a[0], a[1], a[2], o),
  MultiMarginLoss: (a, o) => F.multiMarginLoss(a[0], a[1], o),
  MultiLabelMarginLoss: (a, o) => F.multilabelMarginLoss(a[0], a[1], o),
  MultiLabelSoftMarginLoss: (a, o) => F.multilabelSoftMarginLoss(a[0], a[1], o),
  PoissonNLLLoss: (a, o) => F.poissonNllLoss(a[0], a[1], o),
  GaussianNLLLoss: (a, o) => F.gaussianNllLoss(a[0], a[1], a[2], o),
  CTCLoss: (a, o) => F.ctcLoss(a[0], a[1], vals(a[2]), vals(a[3]), o),
};

const PY_NAMES: Record<string, string> = { logInput: 'log_input', zeroInfinity: 'zero_infinity' };
/** The PyTorch module of a case, as a Python expression (the weight is the input `w`). */
function pyModule(c: Case): string {
  const args = Object.entries(c.opts).map(([k, v]) => {
    if (k === 'weight') return 'weight=w';
    const value = typeof v === 'boolean' ? (v ? 'True' : 'False') : typeof v === 'string' ? `'${v}'` : String(v);
    return `${PY_NAMES[k] ?? k}=${value}`;
  });
  return `torch.nn.${c.loss}(${args.join(', ')})`;
}

interface Result {
  shape: number[];
  out: number[];
  /** The gradients of the arguments with `grad`, in order. */
  grads: number[][];
}

/** Runs `forward` on the case's arguments and backpropagates `weighting`: the output and the inputs' gradients. */
function run(c: Case, forward: (a: Tensor[]) => Tensor): Result {
  return tidy(() => {
    const a = c.args.map((s) => toTensor(s));
    const out = forward(a);
    out.backward(tensor(Float64Array.from(weighting(out.numel())), { shape: out.shape }));
    const grads = a.filter((_, i) => c.args[i].grad).map((t) => vals(t.grad as Tensor));
    return { shape: out.shape, out: vals(out), grads };
  });
}

/** The case through its module (made and disposed here). */
function runModule(c: Case): Result {
  const m = tidy(() => new MODULES[c.loss](tsOptions(c.opts)));
  try {
    return run(c, (a) => (m.forward as (...args: Tensor[]) => Tensor)(...a));
  } finally {
    m.dispose();
  }
}

// ---------------------------------------------------------------- without Python

describe('the margin, embedding, likelihood and CTC losses', () => {
  it('each module equals its functional form (values and input gradients) for every case', () => {
    const before = memory().tensors;
    for (const c of CASES) {
      const ours = runModule(c);
      const functional = run(c, (a) => tidy(() => FUNCTIONAL[c.loss](a, tsOptions(c.opts))));
      expect(ours.shape, c.name).toEqual(functional.shape);
      expect(ours.out, c.name).toEqual(functional.out);
      expect(ours.grads, c.name).toEqual(functional.grads);
      expect(ours.grads.length, c.name).toBe(c.args.filter((a) => a.grad).length);
      expect(ours.out.every(Number.isFinite), c.name).toBe(true);
      for (const g of ours.grads) expect(g.every(Number.isFinite), c.name).toBe(true);
      // a reduced loss is a scalar
      if ((c.opts.reduction ?? 'mean') !== 'none') expect(ours.shape, c.name).toEqual([]);
    }
    expect(memory().tensors).toBe(before); // nothing left behind
  });

  it("have PyTorch's attributes and defaults; MultiMarginLoss' and MultiLabelSoftMarginLoss' weights are buffers", () => {
    const before = memory().tensors;
    const w = tensor([1, 2, 3]);
    const plain = Object.values(MODULES).map((M) => new M());
    const mm = new nn.MultiMarginLoss({ p: 2, margin: 0.5, weight: w, reduction: 'sum' });
    const mlsm = new nn.MultiLabelSoftMarginLoss({ weight: w, reduction: 'none' });
    try {
      tidy(() => {
        const m = Object.fromEntries(plain.map((p) => [p.kind, p])) as unknown as {
          MarginRankingLoss: nn.MarginRankingLoss; HingeEmbeddingLoss: nn.HingeEmbeddingLoss; CosineEmbeddingLoss: nn.CosineEmbeddingLoss;
          TripletMarginLoss: nn.TripletMarginLoss; MultiMarginLoss: nn.MultiMarginLoss; PoissonNLLLoss: nn.PoissonNLLLoss; GaussianNLLLoss: nn.GaussianNLLLoss; CTCLoss: nn.CTCLoss;
        };
        expect(plain.map((p) => p.kind)).toEqual(Object.keys(MODULES));
        expect([m.MarginRankingLoss.margin, m.HingeEmbeddingLoss.margin, m.CosineEmbeddingLoss.margin]).toEqual([0, 1, 0]);
        const t = m.TripletMarginLoss;
        expect([t.margin, t.p, t.eps, t.swap]).toEqual([1, 2, 1e-6, false]);
        expect([m.MultiMarginLoss.p, m.MultiMarginLoss.margin, m.MultiMarginLoss.weight]).toEqual([1, 1, null]);
        expect([m.PoissonNLLLoss.logInput, m.PoissonNLLLoss.full, m.PoissonNLLLoss.eps]).toEqual([true, false, 1e-8]);
        expect([m.GaussianNLLLoss.full, m.GaussianNLLLoss.eps]).toEqual([false, 1e-6]);
        expect([m.CTCLoss.blank, m.CTCLoss.zeroInfinity]).toEqual([0, false]);
        for (const p of plain) {
          expect((p as unknown as { reduction: string }).reduction, p.kind).toBe('mean');
          expect(shapes(p.stateDict()), p.kind).toEqual([]);
          expect([p.numParameters(), p.isNative, p.training], p.kind).toEqual([0, false, true]);
        }
        expect([mm.p, mm.margin, mm.reduction, mlsm.reduction]).toEqual([2, 0.5, 'sum', 'none']);
        expect(shapes(mm.stateDict())).toEqual([['weight', [3]]]);
        expect(shapes(mlsm.stateDict())).toEqual([['weight', [3]]]);
        // the buffer shares the given tensor's memory; to() moves only the module's
        w.mul_(2);
        expect(vals(mm.weight as Tensor)).toEqual([2, 4, 6]);
        mm.to('float64');
        expect([mm.weight?.dtype, w.dtype, mlsm.weight?.dtype]).toEqual(['float64', 'float32', 'float32']);
        const scores = tensor(Float64Array.from([0.1, 0.2, 0.3, 1, -1, 0]), { shape: [2, 3] });
        expect(mm.forward(scores, tensor([2n, 1n])).dtype).toBe('float64');
        expect(() => mlsm.forward(scores, tensor(Float64Array.from([0, 1, 1, 0, 0, 1]), { shape: [2, 3] }))).toThrow(/^multilabelSoftMarginLoss: expected weight of input's dtype float64 but received float32/);
      });
      mm.dispose();
      expect(tidy(() => vals(w))).toEqual([2, 4, 6]); // the caller's tensor stays usable
    } finally {
      for (const p of [...plain, mm, mlsm]) p.dispose();
      w.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('CTC: an impossible alignment is an infinite loss without zeroInfinity; lengths as arrays or int tensors agree', () => {
    const before = memory().tensors;
    tidy(() => {
      const c = CASES.find((k) => k.name === 'CTC zeroInfinity impossible alignment none') as Case;
      const [lp, tg] = [toTensor(c.args[0]), toTensor(c.args[1])];
      const inf = vals(F.ctcLoss(lp, tg, [6, 5], [2, 4], { reduction: 'none' }));
      expect(inf[0]).toBeGreaterThan(0);
      expect(Number.isFinite(inf[0])).toBe(true);
      expect(inf[1]).toBe(Infinity);
      expect(vals(F.ctcLoss(lp, tg, [6, 5], [2, 4], { reduction: 'none', zeroInfinity: true }))).toEqual([inf[0], 0]);
      const asInt32 = vals(F.ctcLoss(lp, tg.int(), tensor(Int32Array.from([6, 5])), tensor([2n, 4n]), { reduction: 'none', zeroInfinity: true }));
      expect(asInt32).toEqual([inf[0], 0]);
      // unbatched: 0-d length tensors, as PyTorch's ()
      const u = CASES.find((k) => k.name === 'CTC unbatched (T, C)') as Case;
      const [ulp, utg] = [toTensor(u.args[0]), toTensor(u.args[1])];
      expect(vals(F.ctcLoss(ulp, utg, tensor(7n), tensor(3n)))).toEqual(vals(F.ctcLoss(ulp, utg, [7], [3])));
    });
    expect(memory().tensors).toBe(before);
  });

  it('bad options and arguments are errors naming the loss, the argument and what was expected; the process keeps working', () => {
    const before = memory().tensors;
    const t = tidy(() => ({
      x24: tensor(Float64Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]), { shape: [2, 4] }),
      x8: tensor(Float64Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8])),
      x32: tensor(Float32Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]), { shape: [2, 4] }),
      s24: tensor(Float64Array.from([1, -1, 1, 1, -1, -1, 1, -1]), { shape: [2, 4] }),
      lp: tensor(Float64Array.from(logProbs([5, 2, 4], 90).data), { shape: [5, 2, 4] }),
      tg: tensor(BigInt64Array.from([1n, 2n, 3n, 1n]), { shape: [2, 2] }),
      bool: tensor([true, false]),
    }));
    const { x24, x8, x32, s24, lp, tg } = t;
    const cases: ErrorCase[] = [
      // shapes
      [() => F.marginRankingLoss(x8, x24, x8), RangeError, /^marginRankingLoss: expected input1's shape \[8\] for input2 but received shape \[2, 4\]/],
      [() => F.marginRankingLoss(x24, x24, x8), RangeError, /^marginRankingLoss: expected input1's shape \[2, 4\] for target but received shape \[8\]/],
      [() => F.hingeEmbeddingLoss(x24, x8), RangeError, /^hingeEmbeddingLoss: expected the input's shape \[2, 4\] for target but received shape \[8\]/],
      [() => F.softMarginLoss(x24, s24.reshape([4, 2])), RangeError, /^softMarginLoss: expected the input's shape \[2, 4\] for target but received shape \[4, 2\]/],
      [() => F.cosineEmbeddingLoss(x24, x24, x8), RangeError, /^cosineEmbeddingLoss: expected shape \[2\] \(one label per pair of rows of inputs \[2, 4\]\) for target but received shape \[8\]/],
      [() => F.cosineEmbeddingLoss(x24.reshape([2, 2, 2]), x24.reshape([2, 2, 2]), x8), RangeError, /^cosineEmbeddingLoss: expected a 2-d \(N, D\) or 1-d \(D\) tensor for input1 but received shape \[2, 2, 2\]/],
      [() => F.tripletMarginLoss(x24, x24, x8), RangeError, /^tripletMarginLoss: expected anchor's shape \[2, 4\] for negative but received shape \[8\]/],
      [() => F.multiMarginLoss(x24, tensor([1n])), RangeError, /^multiMarginLoss: expected shape \[2\] \(one class index per sample of input \[2, 4\]\) for target but received shape \[1\]/],
      [() => F.multiMarginLoss(x24.reshape([2, 2, 2]), tensor([1n, 0n])), RangeError, /^multiMarginLoss: expected scores of shape \(N, C\) or \(C\), C ≥ 1 for input but received shape \[2, 2, 2\]/],
      [() => F.multilabelMarginLoss(x24, tensor([1n, -1n])), RangeError, /^multilabelMarginLoss: expected shape \[2, 4\] .* for target but received shape \[2\]/],
      [() => F.multilabelSoftMarginLoss(x24, s24, { weight: tensor(Float64Array.from([1, 2, 3])) }), RangeError, /^multilabelSoftMarginLoss: expected a shape that broadcasts to the input's \[2, 4\] \(one weight per class\) for weight but received shape \[3\]/],
      [() => F.poissonNllLoss(x24, x8), RangeError, /^poissonNllLoss: expected the input's shape \[2, 4\] for target but received shape \[8\]/],
      [() => F.gaussianNllLoss(x24, x24, x8), RangeError, /^gaussianNllLoss: expected the input's shape \[2, 4\], \[2\] or \[2, 1\] .* for var but received shape \[8\]/],
      [() => F.gaussianNllLoss(x24, x24, x24.neg()), RangeError, /^gaussianNllLoss: expected non-negative variances for var but received a negative entry/],
      [() => F.ctcLoss(x24, tg, [5, 5], [2, 2]), RangeError, /^ctcLoss: expected 1 length \(one per sequence: logProbs is unbatched\) for inputLengths but received 2/],
      [() => F.ctcLoss(x8, tg, [5, 5], [2, 2]), RangeError, /^ctcLoss: expected a 3-d \(T, N, C\) or 2-d \(T, C\) tensor for logProbs but received shape \[8\]/],
      [() => F.ctcLoss(lp, tg, [5], [2, 2]), RangeError, /^ctcLoss: expected 2 lengths \(one per sequence of the batch\) for inputLengths but received 1/],
      [() => F.ctcLoss(lp, tg, [6, 5], [2, 2]), RangeError, /^ctcLoss: expected a length of at most T = 5 \(logProbs \[5, 2, 4\]\) for inputLengths\[0\] but received 6/],
      [() => F.ctcLoss(lp, tg, [5, 5], [3, 2]), RangeError, /^ctcLoss: expected \(N, S\) padded targets with S ≥ 3 \(the longest of targetLengths\) for targets but received shape \[2, 2\]/],
      [() => F.ctcLoss(lp, tg.reshape([4]), [5, 5], [2, 1]), RangeError, /^ctcLoss: expected 3 concatenated targets \(the sum of targetLengths \[2, 1\]\) for targets but received shape \[4\]/],
      [() => F.ctcLoss(lp, tg, [5, -1], [2, 2]), RangeError, /^ctcLoss: expected a non-negative length for inputLengths\[1\] but received -1/],
      // classes out of range (checked natively, one host read), blank, p
      [() => F.multiMarginLoss(x24, tensor([1n, 4n])), RangeError, /^multiMarginLoss: target holds class 4, outside \[0, 4\)/],
      [() => F.multiMarginLoss(x24, tensor(Int32Array.from([-1, 0]))), RangeError, /^multiMarginLoss: target holds class -1, outside \[0, 4\)/],
      [() => F.multilabelMarginLoss(x24, tensor([1n, -1n, 0n, 0n, 4n, 1n, -1n, 0n], { shape: [2, 4] })), RangeError, /^multilabelMarginLoss: target holds 4, outside \[-1, 4\)/],
      [() => F.multilabelMarginLoss(x24, tensor([1n, -2n, 0n, 0n, 3n, 1n, -1n, 0n], { shape: [2, 4] })), RangeError, /^multilabelMarginLoss: target holds -2, outside \[-1, 4\)/],
      [() => F.ctcLoss(lp, tensor([1n, 4n, 3n, 1n], { shape: [2, 2] }), [5, 5], [2, 2]), RangeError, /^ctcLoss: targets hold class 4, outside \[0, 4\)/],
      [() => F.ctcLoss(lp, tg, [5, 5], [2, 2], { blank: 4 }), RangeError, /^ctcLoss: expected a class index in \[0, 4\) \(logProbs has 4 classes\) for blank but received 4/],
      [() => F.ctcLoss(lp, tg, [5, 5], [2, 2], { blank: -1 }), RangeError, /^ctcLoss: expected a class index in \[0, 4\) .* for blank but received -1/],
      [() => F.multiMarginLoss(x24, tensor([1n, 0n]), { p: 3 as never }), RangeError, /^multiMarginLoss: expected 1 or 2 \(only p = 1 and p = 2 are supported\) for p but received 3/],
      [() => F.multiMarginLoss(x24, tensor([1n, 0n]), { p: '1' as never }), TypeError, /^multiMarginLoss: expected 1 or 2 for p but received "1"/],
      [() => F.tripletMarginLoss(x24, x24, x24, { p: 0 }), RangeError, /^tripletMarginLoss: expected a number > 0 for p but received 0/],
      [() => F.tripletMarginLoss(x24, x24, x24, { p: -1 }), RangeError, /^tripletMarginLoss: expected a number > 0 for p but received -1/],
      [() => new nn.MultiMarginLoss({ p: 3 as never }), RangeError, /^MultiMarginLoss: expected 1 or 2 \(only p = 1 and p = 2 are supported\) for p but received 3/],
      [() => new nn.TripletMarginLoss({ p: 0 }), RangeError, /^TripletMarginLoss: expected a number > 0 for p but received 0/],
      [() => new nn.CTCLoss({ blank: -1 }), RangeError, /^CTCLoss: expected an integer between 0 and .* for blank but received -1/],
      [() => new nn.MultiMarginLoss({ weight: x24 }), RangeError, /^MultiMarginLoss: expected a 1-d tensor \(one weight per class\) for weight but received shape \[2, 4\]/],
      [() => F.multiMarginLoss(x24, tensor([1n, 0n]), { weight: x8 }), RangeError, /^multiMarginLoss: expected shape \[4\] \(one per class of input \[2, 4\]\) for weight but received shape \[8\]/],
      // dtypes and devices
      [() => F.marginRankingLoss(x24, x32, s24), TypeError, /^marginRankingLoss: expected input2 of input1's dtype float64 but received float32/],
      [() => F.softMarginLoss(x24, t.bool), TypeError, /^softMarginLoss: expected a floating-point or signed integer tensor of labels for target but received bool/],
      [() => F.multiMarginLoss(x24, tensor(Float64Array.from([1, 0]))), TypeError, /^multiMarginLoss: expected integer class indices of shape \[2\] for target but received float64/],
      [() => F.ctcLoss(lp, tg.to({ dtype: 'int16' }), [5, 5], [2, 2]), TypeError, /^ctcLoss: expected int64 or int32 class indices for targets but received int16/],
      [() => F.ctcLoss(lp, tg, tensor(Float64Array.from([5, 5])), [2, 2]), TypeError, /^ctcLoss: expected an array of integers or a 0-d or 1-d integer tensor for inputLengths but received float64 of shape \[2\]/],
      [() => F.ctcLoss(lp, tg, [5, 4.5], [2, 2]), TypeError, /^ctcLoss: expected an integer for inputLengths\[1\] but received 4\.5/],
      [() => F.ctcLoss(lp, tg, 5 as never, [2, 2]), TypeError, /^ctcLoss: expected an array of integers or an integer tensor for inputLengths but received 5 \(number\)/],
      [() => F.ctcLoss(lp.float(), tg, [5, 5], [2, 2], { zeroInfinity: 1 as never }), TypeError, /^ctcLoss: expected a boolean for zeroInfinity but received 1/],
      [() => F.poissonNllLoss(x24, x24, { logInput: 'yes' as never }), TypeError, /^poissonNllLoss: expected a boolean for logInput but received "yes"/],
      [() => F.hingeEmbeddingLoss(tensor([1n, 2n]), tensor([1n, 1n])), TypeError, /^hingeEmbeddingLoss: expected a floating-point tensor for input but received int64/],
      [() => (F.gaussianNllLoss as (a: Tensor, b: Tensor) => Tensor)(x24, x24), TypeError, /^gaussianNllLoss: expected a Tensor for var but received undefined/],
      // unknown options and bad reductions
      [() => F.marginRankingLoss(x24, x24, s24, { margn: 1 } as never), TypeError, /^marginRankingLoss: unknown option 'margn'; did you mean 'margin'\? \(known: margin, reduction\)/],
      [() => F.tripletMarginLoss(x24, x24, x24, { swp: true } as never), TypeError, /^tripletMarginLoss: unknown option 'swp'; did you mean 'swap'\?/],
      [() => F.poissonNllLoss(x24, x24, { log_input: false } as never), TypeError, /^poissonNllLoss: unknown option 'log_input'; did you mean 'logInput'\?/],
      [() => F.ctcLoss(lp, tg, [5, 5], [2, 2], { zero_infinity: true } as never), TypeError, /^ctcLoss: unknown option 'zero_infinity'; did you mean 'zeroInfinity'\?/],
      [() => F.softMarginLoss(x24, s24, { margin: 1 } as never), TypeError, /^softMarginLoss: unknown option 'margin' \(known: reduction\)/],
      [() => F.gaussianNllLoss(x24, x24, x24, { reduction: 'batchmean' } as never), TypeError, /^gaussianNllLoss: expected one of "mean", "sum", "none" for reduction but received "batchmean"/],
      [() => F.multilabelSoftMarginLoss(x24, s24, { reduction: 'avg' } as never), TypeError, /^multilabelSoftMarginLoss: expected one of "mean", "sum", "none" for reduction but received "avg"/],
      [() => new nn.GaussianNLLLoss({ var: 1 } as never), TypeError, /^GaussianNLLLoss: unknown option 'var' \(known: full, eps, reduction\)/],
      [() => new nn.PoissonNLLLoss({ log_input: true } as never), TypeError, /^PoissonNLLLoss: unknown option 'log_input'; did you mean 'logInput'\?/],
      [() => new nn.CTCLoss({ zero_infinity: true } as never), TypeError, /^CTCLoss: unknown option 'zero_infinity'; did you mean 'zeroInfinity'\?/],
      [() => new nn.MultiLabelMarginLoss({ weight: x8 } as never), TypeError, /^MultiLabelMarginLoss: unknown option 'weight' \(known: reduction\)/],
      [() => new nn.CosineEmbeddingLoss({ reduction: 'mena' } as never), TypeError, /^CosineEmbeddingLoss: expected one of "mean", "sum", "none" for reduction but received "mena"/],
      [() => new nn.HingeEmbeddingLoss({ margin: '1' as never }), TypeError, /^HingeEmbeddingLoss: expected a number for margin but received "1"/],
      [() => new nn.MultiLabelSoftMarginLoss({ weight: [1, 2] as never }), TypeError, /^MultiLabelSoftMarginLoss: expected a Tensor \(or null\) for weight but received \[1, 2\]/],
      [() => new nn.MarginRankingLoss(0 as never), TypeError, /^MarginRankingLoss: expected an object with keys among margin, reduction for options/],
      // module forwards name the module for a missing argument
      [() => (new nn.TripletMarginLoss().forward as (a: Tensor, b: Tensor) => Tensor)(x24, x24), TypeError, /^TripletMarginLoss\.forward: expected a Tensor for negative but received undefined/],
      [() => new nn.CTCLoss().forward(lp, [1, 2] as never, [5, 5], [2, 2]), TypeError, /^CTCLoss\.forward: expected a Tensor for targets but received \[1, 2\]/],
    ];
    try {
      for (const [make, type, message] of cases) {
        tidy(() => expectError(make, type, message));
        // the process keeps working: a native loss right after the error
        expect(tidy(() => F.multiMarginLoss(x24, tensor([1n, 3n])).item()), String(message)).toBeGreaterThan(0);
      }
    } finally {
      for (const v of Object.values(t)) v.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

// ---------------------------------------------------------------- against PyTorch

describe.skipIf(!hasTorch)("the margin, embedding, likelihood and CTC losses and PyTorch's (needs /usr/bin/python3 with torch)", () => {
  it("each module's value and input gradients equal PyTorch's module on the same inputs (float64)", async () => {
    const before = memory().tensors;
    const ours = Object.fromEntries(CASES.map((c) => [c.name, runModule(c)]));
    const cases: PyCase[] = CASES.map((c) => {
      const inputs: Record<string, PyTensor> = Object.fromEntries(c.args.map((a, i) => [`a${i}`, a]));
      if (c.opts.weight) inputs.w = c.opts.weight;
      const args = c.pyArgs ?? c.args.map((_, i) => `a${i}`);
      return { name: c.name, inputs, expr: `${pyModule(c)}(${args.join(', ')})`, gradOut: weighting(numel(ours[c.name].shape)) };
    });
    const theirs = await runCases(cases);
    for (const c of CASES) {
      const o = ours[c.name];
      const r = theirs[c.name];
      expect(o.shape, `${c.name}: output shape`).toEqual(r.shape);
      expect(maxDiff(o.out, r.out), `${c.name}: value`).toBeLessThan(1e-10);
      const names = c.args.map((a, i) => (a.grad ? `a${i}` : null)).filter((n): n is string => n !== null);
      expect(names.length, c.name).toBeGreaterThan(0);
      names.forEach((n, i) => expect(maxDiff(o.grads[i], r.grads[n] as number[]), `${c.name}: gradient of ${n}`).toBeLessThan(1e-10));
    }
    expect(memory().tensors).toBe(before);
  }, 120_000);

  it("the modules' defaults are PyTorch's; state-dict keys and shapes are PyTorch's, loading strictly both ways", async () => {
    const defaults = tidy(() => Object.fromEntries(Object.entries(MODULES).map(([name, M]) => {
      const m = new M() as unknown as Record<string, unknown> & nn.Module;
      const attrs = Object.fromEntries(['reduction', 'margin', 'p', 'eps', 'swap', 'logInput', 'full', 'blank', 'zeroInfinity'].filter((k) => k in m).map((k) => [PY_NAMES[k] ?? k, m[k]]));
      m.dispose();
      return [name, attrs];
    })));
    const configs: { name: string; make: () => nn.Module; py: string }[] = [
      { name: 'MultiMargin', make: () => new nn.MultiMarginLoss(), py: 'nn.MultiMarginLoss()' },
      { name: 'MultiMargin weight', make: () => new nn.MultiMarginLoss({ weight: tensor([1, 2, 3]), p: 2 }), py: 'nn.MultiMarginLoss(weight=torch.tensor([1., 2., 3.]), p=2)' },
      { name: 'MultiLabelSoftMargin', make: () => new nn.MultiLabelSoftMarginLoss(), py: 'nn.MultiLabelSoftMarginLoss()' },
      { name: 'MultiLabelSoftMargin weight', make: () => new nn.MultiLabelSoftMarginLoss({ weight: tensor([0.5, 2]) }), py: 'nn.MultiLabelSoftMarginLoss(weight=torch.tensor([0.5, 2.]))' },
      { name: 'CTC', make: () => new nn.CTCLoss({ blank: 3 }), py: 'nn.CTCLoss(blank=3)' },
      { name: 'GaussianNLL', make: () => new nn.GaussianNLLLoss(), py: 'nn.GaussianNLLLoss()' },
      { name: 'TripletMargin', make: () => new nn.TripletMarginLoss(), py: 'nn.TripletMarginLoss()' },
    ];
    const modules = configs.map((c) => tidy(() => c.make()));
    try {
      const ours = Object.fromEntries(configs.map((c, i) => [c.name, tidy(() => shapes(modules[i].stateDict()))]));
      const files: Record<string, { ours: string; theirs: string }> = {};
      configs.forEach((c, i) => {
        files[c.name] = { ours: path.join(tmp, `ours-${i}.pt`), theirs: path.join(tmp, `theirs-${i}.pt`) };
        tidy(() => saveStateDict(files[c.name].ours, modules[i].stateDict()));
      });
      const out = JSON.parse(
        await py(`
import json, sys, torch, torch.nn as nn
files = json.loads(sys.stdin.read())
defaults = {}
for name in ${JSON.stringify(Object.keys(MODULES))}:
    m = getattr(nn, name)()
    defaults[name] = {k: getattr(m, k) for k in ('reduction', 'margin', 'p', 'eps', 'swap', 'log_input', 'full', 'blank', 'zero_infinity') if hasattr(m, k)}
modules = {${configs.map((c) => `${JSON.stringify(c.name)}: ${c.py}`).join(', ')}}
res = {}
for name, m in modules.items():
    keys = [[k, list(v.shape)] for k, v in m.state_dict().items()]
    mine = torch.load(files[name]['ours'])
    m2 = type(m)()
    if 'weight' in mine: m2.register_buffer('weight', torch.zeros_like(mine['weight']))
    m2.load_state_dict(mine, strict=True)
    same = all(torch.equal(m2.state_dict()[k], m.state_dict()[k]) for k in m.state_dict())
    torch.save({k: v * 10 for k, v in m.state_dict().items()}, files[name]['theirs'])
    res[name] = {'keys': keys, 'same': same}
print(json.dumps({'defaults': defaults, 'modules': res}))
`, JSON.stringify(files)),
      ) as { defaults: Record<string, Record<string, unknown>>; modules: Record<string, { keys: [string, number[]][]; same: boolean }> };
      expect(defaults).toEqual(out.defaults);
      for (const [i, c] of configs.entries()) {
        expect(ours[c.name], `${c.name}: state-dict keys and shapes`).toEqual(out.modules[c.name].keys);
        expect(out.modules[c.name].same, `${c.name}: our values loaded into PyTorch's module`).toBe(true);
        const theirs = loadStateDict(files[c.name].theirs);
        try {
          modules[i].loadStateDict(theirs); // strict
          tidy(() => {
            for (const [k, t] of Object.entries(modules[i].stateDict())) expect(vals(t), `${c.name}: ${k} loaded`).toEqual(vals(theirs[k]));
          });
        } finally {
          for (const t of Object.values(theirs)) t.dispose();
        }
      }
      expect(out.modules['MultiMargin weight'].keys).toEqual([['weight', [3]]]);
      expect(out.modules['MultiLabelSoftMargin weight'].keys).toEqual([['weight', [2]]]);
      expect(out.modules.MultiMargin.keys).toEqual([]);
    } finally {
      for (const m of modules) m.dispose();
    }
  }, 120_000);
});
