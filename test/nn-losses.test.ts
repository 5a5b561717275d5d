// The loss modules written in TypeScript over the functional losses (lib/nn/loss-modules.ts): CrossEntropyLoss,
// NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss. Each equals its
// functional form; against python3-torch, each module's value and input gradient equal PyTorch's module on the
// same inputs (float64, every reduction and option), and the state-dict keys and shapes are PyTorch's (weight /
// pos_weight buffers, strict loading both ways). Then the buffers under to() and dispose(), the argument errors, and a short training with
// nn.CrossEntropyLoss.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SGD, Tensor, loadStateDict, manualSeed, memory, nn, saveStateDict, tensor, tidy } from '../lib';
import { lcg } from './helpers/random';
import { hasTorch, py, runCases, type PyCase, type PyTensor } from './helpers/torchpy';
import { maxDiff, shapes, vals } from './helpers/compare';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { inp, numel, toTensor } from './helpers/specs';

const F = nn.functional;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-losses-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => manualSeed(0));

/** The upstream gradient the outputs are backpropagated with (so 'none' outputs are weighted unevenly). */
const weighting = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 3 + 0.1);

// ---------------------------------------------------------------- inputs

/** Deterministic float64 values in [-scale, scale) (positive: |v| + 0.1), inp's without a gradient. */
const floats = (shape: number[], seed: number, opts: { scale?: number; positive?: boolean } = {}): PyTensor => inp(shape, seed, { ...opts, grad: false });
/** Rows of probabilities (each row along the last dimension sums to 1). */
function probabilities(shape: number[], seed: number): PyTensor {
  const t = floats(shape, seed, { positive: true });
  const c = shape[shape.length - 1];
  for (let i = 0; i < t.data.length; i += c) {
    const s = t.data.slice(i, i + c).reduce((a, b) => a + b, 0);
    for (let j = i; j < i + c; j++) t.data[j] /= s;
  }
  return t;
}
/** Class indices (int64). */
const classes = (data: number[], shape = [data.length]): PyTensor => ({ data, shape, dtype: 'int64' });

// ---------------------------------------------------------------- the cases

type LossName = 'CrossEntropyLoss' | 'NLLLoss' | 'MSELoss' | 'L1Loss' | 'SmoothL1Loss' | 'HuberLoss' | 'BCELoss' | 'BCEWithLogitsLoss' | 'KLDivLoss';

/** A module's options with the tensors as data (made into tensors for ictorch and for Python). */
interface Opts {
  weight?: PyTensor;
  posWeight?: PyTensor;
  ignoreIndex?: number;
  reduction?: string;
  labelSmoothing?: number;
  logTarget?: boolean;
  beta?: number;
  delta?: number;
}

interface Case {
  name: string;
  loss: LossName;
  opts: Opts;
  x: PyTensor;
  t: PyTensor;
}

const W5 = { data: [0.5, 1, 2, 1.5, 0.8], shape: [5], dtype: 'float64' };
const CASES: Case[] = [
  { name: 'CE mean', loss: 'CrossEntropyLoss', opts: {}, x: floats([4, 5], 1, { scale: 2 }), t: classes([1, 0, 4, 2]) },
  { name: 'CE weight ignoreIndex mean', loss: 'CrossEntropyLoss', opts: { weight: W5, ignoreIndex: 2 }, x: floats([5, 5], 2, { scale: 2 }), t: classes([1, 2, 4, 2, 0]) },
  { name: 'CE weight labelSmoothing sum', loss: 'CrossEntropyLoss', opts: { weight: W5, labelSmoothing: 0.2, reduction: 'sum' }, x: floats([4, 5], 3, { scale: 2 }), t: classes([3, 0, 4, 1]) },
  { name: 'CE ignoreIndex labelSmoothing none', loss: 'CrossEntropyLoss', opts: { ignoreIndex: 0, labelSmoothing: 0.1, reduction: 'none' }, x: floats([4, 5], 4, { scale: 2 }), t: classes([0, 2, 0, 3]) },
  { name: 'CE weight ignoreIndex labelSmoothing mean', loss: 'CrossEntropyLoss', opts: { weight: W5, ignoreIndex: 3, labelSmoothing: 0.3 }, x: floats([6, 5], 5, { scale: 2 }), t: classes([3, 1, 4, 3, 0, 2]) },
  { name: 'CE spatial weight', loss: 'CrossEntropyLoss', opts: { weight: { data: [1, 0.3, 2], shape: [3], dtype: 'float64' } }, x: floats([2, 3, 4], 6), t: classes([0, 2, 1, 1, 2, 2, 0, 1], [2, 4]) },
  { name: 'CE probabilities weight labelSmoothing', loss: 'CrossEntropyLoss', opts: { weight: W5, labelSmoothing: 0.1 }, x: floats([3, 5], 7, { scale: 2 }), t: probabilities([3, 5], 8) },
  { name: 'CE unbatched', loss: 'CrossEntropyLoss', opts: { labelSmoothing: 0.05 }, x: floats([5], 9, { scale: 2 }), t: classes([3], []) },
  { name: 'NLL mean', loss: 'NLLLoss', opts: {}, x: floats([4, 5], 10), t: classes([1, 0, 4, 2]) },
  { name: 'NLL weight ignoreIndex mean', loss: 'NLLLoss', opts: { weight: W5, ignoreIndex: 1 }, x: floats([5, 5], 11), t: classes([1, 3, 4, 1, 0]) },
  { name: 'NLL weight sum', loss: 'NLLLoss', opts: { weight: W5, reduction: 'sum' }, x: floats([4, 5], 12), t: classes([2, 2, 4, 0]) },
  { name: 'NLL weight ignoreIndex none', loss: 'NLLLoss', opts: { weight: W5, ignoreIndex: 4, reduction: 'none' }, x: floats([4, 5], 13), t: classes([4, 2, 3, 0]) },
  { name: 'MSE mean', loss: 'MSELoss', opts: {}, x: floats([3, 4], 20), t: floats([3, 4], 21) },
  { name: 'MSE sum', loss: 'MSELoss', opts: { reduction: 'sum' }, x: floats([3, 4], 22), t: floats([3, 4], 23) },
  { name: 'MSE none', loss: 'MSELoss', opts: { reduction: 'none' }, x: floats([2, 3, 2], 24), t: floats([2, 3, 2], 25) },
  { name: 'L1 mean', loss: 'L1Loss', opts: {}, x: floats([3, 4], 26), t: floats([3, 4], 27) },
  { name: 'L1 sum', loss: 'L1Loss', opts: { reduction: 'sum' }, x: floats([3, 4], 28), t: floats([3, 4], 29) },
  { name: 'L1 none', loss: 'L1Loss', opts: { reduction: 'none' }, x: floats([2, 3, 2], 30), t: floats([2, 3, 2], 31) },
  { name: 'SmoothL1 mean', loss: 'SmoothL1Loss', opts: {}, x: floats([3, 4], 32, { scale: 2 }), t: floats([3, 4], 33, { scale: 2 }) },
  { name: 'SmoothL1 beta 0.5 sum', loss: 'SmoothL1Loss', opts: { beta: 0.5, reduction: 'sum' }, x: floats([3, 4], 34), t: floats([3, 4], 35) },
  { name: 'SmoothL1 beta 0 none', loss: 'SmoothL1Loss', opts: { beta: 0, reduction: 'none' }, x: floats([2, 3, 2], 36), t: floats([2, 3, 2], 37) },
  { name: 'Huber mean', loss: 'HuberLoss', opts: {}, x: floats([3, 4], 38, { scale: 2 }), t: floats([3, 4], 39, { scale: 2 }) },
  { name: 'Huber delta 0.3 none', loss: 'HuberLoss', opts: { delta: 0.3, reduction: 'none' }, x: floats([2, 3, 2], 52), t: floats([2, 3, 2], 53) },
  { name: 'Huber delta 2 sum', loss: 'HuberLoss', opts: { delta: 2, reduction: 'sum' }, x: floats([3, 4], 54, { scale: 3 }), t: floats([3, 4], 55) },
  { name: 'BCELoss mean', loss: 'BCELoss', opts: {}, x: floats([3, 4], 56, { positive: true, scale: 0.8 }), t: floats([3, 4], 57, { positive: true, scale: 0.8 }) },
  { name: 'BCELoss weight sum', loss: 'BCELoss', opts: { weight: floats([4], 58, { positive: true }), reduction: 'sum' }, x: floats([3, 4], 59, { positive: true, scale: 0.8 }), t: floats([3, 4], 72, { positive: true, scale: 0.8 }) },
  {
    name: 'BCELoss weight none', loss: 'BCELoss', opts: { weight: floats([3, 1], 73, { positive: true }), reduction: 'none' },
    x: floats([3, 4], 74, { positive: true, scale: 0.8 }), t: { data: [0, 1, 1, 0, 0.5, 0.2, 1, 0, 0.9, 0, 1, 0.1], shape: [3, 4], dtype: 'float64' },
  },
  { name: 'BCE mean', loss: 'BCEWithLogitsLoss', opts: {}, x: floats([3, 4], 40, { scale: 3 }), t: floats([3, 4], 41, { positive: true, scale: 0.8 }) },
  { name: 'BCE weight sum', loss: 'BCEWithLogitsLoss', opts: { weight: floats([4], 42, { positive: true }), reduction: 'sum' }, x: floats([3, 4], 43, { scale: 3 }), t: floats([3, 4], 44, { positive: true, scale: 0.8 }) },
  { name: 'BCE posWeight mean', loss: 'BCEWithLogitsLoss', opts: { posWeight: { data: [3, 0.5, 1, 2], shape: [4], dtype: 'float64' } }, x: floats([3, 4], 45, { scale: 3 }), t: floats([3, 4], 46, { positive: true, scale: 0.8 }) },
  {
    name: 'BCE weight posWeight none', loss: 'BCEWithLogitsLoss', opts: { weight: floats([3, 4], 47, { positive: true }), posWeight: { data: [3, 0.5, 1, 2], shape: [4], dtype: 'float64' }, reduction: 'none' },
    x: floats([3, 4], 48, { scale: 3 }), t: floats([3, 4], 49, { positive: true, scale: 0.8 }),
  },
  { name: 'BCE posWeight of one', loss: 'BCEWithLogitsLoss', opts: { posWeight: { data: [2.5], shape: [1], dtype: 'float64' } }, x: floats([3, 4], 50, { scale: 3 }), t: floats([3, 4], 51, { positive: true, scale: 0.8 }) },
  { name: 'KLDiv mean', loss: 'KLDivLoss', opts: {}, x: floats([3, 4], 60), t: probabilities([3, 4], 61) },
  { name: 'KLDiv batchmean', loss: 'KLDivLoss', opts: { reduction: 'batchmean' }, x: floats([3, 4], 62), t: probabilities([3, 4], 63) },
  { name: 'KLDiv sum', loss: 'KLDivLoss', opts: { reduction: 'sum' }, x: floats([3, 4], 64), t: probabilities([3, 4], 65) },
  { name: 'KLDiv none', loss: 'KLDivLoss', opts: { reduction: 'none' }, x: floats([3, 4], 66), t: probabilities([3, 4], 67) },
  { name: 'KLDiv logTarget batchmean', loss: 'KLDivLoss', opts: { reduction: 'batchmean', logTarget: true }, x: floats([3, 4], 68), t: floats([3, 4], 69) },
  { name: 'KLDiv logTarget sum', loss: 'KLDivLoss', opts: { reduction: 'sum', logTarget: true }, x: floats([3, 4], 70), t: floats([3, 4], 71) },
];

/** The ictorch options of a case (tensors made here: call inside tidy). */
function tsOptions(o: Opts): Record<string, unknown> {
  const out: Record<string, unknown> = { ...o };
  if (o.weight) out.weight = toTensor(o.weight);
  if (o.posWeight) out.posWeight = toTensor(o.posWeight);
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODULES: Record<LossName, new (options?: any) => nn.Module> = {
  CrossEntropyLoss: nn.CrossEntropyLoss, NLLLoss: nn.NLLLoss, MSELoss: nn.MSELoss, L1Loss: nn.L1Loss, SmoothL1Loss: nn.SmoothL1Loss, HuberLoss: nn.HuberLoss,
  BCELoss: nn.BCELoss, BCEWithLogitsLoss: nn.BCEWithLogitsLoss, KLDivLoss: nn.KLDivLoss,
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const FUNCTIONAL: Record<LossName, (x: Tensor, t: Tensor, options?: any) => Tensor> = {
  CrossEntropyLoss: F.crossEntropy, NLLLoss: F.nllLoss, MSELoss: F.mseLoss, L1Loss: F.l1Loss, SmoothL1Loss: F.smoothL1Loss, HuberLoss: F.huberLoss,
  BCELoss: F.binaryCrossEntropy, BCEWithLogitsLoss: F.binaryCrossEntropyWithLogits, KLDivLoss: F.klDiv,
};

/** The PyTorch module of a case, as a Python expression over the inputs `w` and `pw`. */
function pyModule(c: Case): string {
  const args: string[] = [];
  if (c.opts.weight) args.push('weight=w');
  if (c.opts.posWeight) args.push('pos_weight=pw');
  if (c.opts.ignoreIndex !== undefined) args.push(`ignore_index=${c.opts.ignoreIndex}`);
  if (c.opts.reduction !== undefined) args.push(`reduction='${c.opts.reduction}'`);
  if (c.opts.labelSmoothing !== undefined) args.push(`label_smoothing=${c.opts.labelSmoothing}`);
  if (c.opts.logTarget !== undefined) args.push(`log_target=${c.opts.logTarget ? 'True' : 'False'}`);
  if (c.opts.beta !== undefined) args.push(`beta=${c.opts.beta.toFixed(6)}`);
  if (c.opts.delta !== undefined) args.push(`delta=${c.opts.delta.toFixed(6)}`);
  return `torch.nn.${c.loss}(${args.join(', ')})`;
}

interface Result {
  shape: number[];
  out: number[];
  grad: number[];
}

/** Runs `forward` on the case's inputs and backpropagates `weighting`: the output and the input's gradient. */
function run(c: Case, forward: (x: Tensor, t: Tensor) => Tensor): Result {
  return tidy(() => {
    const x = toTensor(c.x, true);
    const out = forward(x, toTensor(c.t));
    out.backward(tensor(Float64Array.from(weighting(out.numel())), { shape: out.shape }));
    return { shape: out.shape, out: vals(out), grad: vals(x.grad as Tensor) };
  });
}

/** The case through its module (made and disposed here). */
function runModule(c: Case): Result {
  const m = tidy(() => new MODULES[c.loss](tsOptions(c.opts)));
  try {
    return run(c, (x, t) => m.forward(x, t) as Tensor);
  } finally {
    m.dispose();
  }
}

// ---------------------------------------------------------------- without Python

describe('the loss modules', () => {
  it('equal their functional forms (values and input gradients) for every case', () => {
    const before = memory().tensors;
    for (const c of CASES) {
      const ours = runModule(c);
      const functional = run(c, (x, t) => tidy(() => FUNCTIONAL[c.loss](x, t, tsOptions(c.opts))));
      expect(ours.shape, c.name).toEqual(functional.shape);
      expect(ours.out, c.name).toEqual(functional.out);
      expect(ours.grad, c.name).toEqual(functional.grad);
      expect(ours.out.every(Number.isFinite), c.name).toBe(true);
      // the output shape follows the reduction
      const reduced = (c.opts.reduction ?? 'mean') !== 'none';
      expect(ours.shape.length === 0, c.name).toBe(reduced);
    }
    expect(memory().tensors).toBe(before); // nothing left behind
  });

  it("have PyTorch's attributes and defaults; weight and pos_weight are buffers in the state dict, moved by to() and freed by dispose()", () => {
    const before = memory().tensors;
    const w = tensor([1, 2, 3]);
    const pw = tensor([0.5, 2, 1, 4]);
    const plain = [new nn.CrossEntropyLoss(), new nn.NLLLoss(), new nn.MSELoss(), new nn.L1Loss(), new nn.BCEWithLogitsLoss(), new nn.KLDivLoss()];
    const ce = new nn.CrossEntropyLoss({ weight: w, ignoreIndex: 0, reduction: 'sum', labelSmoothing: 0.1 });
    const nll = new nn.NLLLoss({ weight: w, reduction: 'none' });
    const bce = tidy(() => new nn.BCEWithLogitsLoss({ weight: tensor([2]), posWeight: pw }));
    const kl = new nn.KLDivLoss({ reduction: 'batchmean', logTarget: true });
    try {
      tidy(() => {
        const [ce0, nll0, mse0, l10, bce0, kl0] = plain as [nn.CrossEntropyLoss, nn.NLLLoss, nn.MSELoss, nn.L1Loss, nn.BCEWithLogitsLoss, nn.KLDivLoss];
        expect([ce0.ignoreIndex, ce0.reduction, ce0.labelSmoothing, ce0.weight]).toEqual([-100, 'mean', 0, null]);
        expect([nll0.ignoreIndex, nll0.reduction, nll0.weight]).toEqual([-100, 'mean', null]);
        expect([mse0.reduction, l10.reduction]).toEqual(['mean', 'mean']);
        expect([bce0.reduction, bce0.weight, bce0.posWeight]).toEqual(['mean', null, null]);
        expect([kl0.reduction, kl0.logTarget]).toEqual(['mean', false]);
        for (const m of plain) {
          expect(shapes(m.stateDict()), m.kind).toEqual([]);
          expect([m.numParameters(), m.isNative, m.training], m.kind).toEqual([0, false, true]);
        }
        expect(plain.map((m) => m.kind)).toEqual(['CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'BCEWithLogitsLoss', 'KLDivLoss']);
        expect([ce.ignoreIndex, ce.reduction, ce.labelSmoothing]).toEqual([0, 'sum', 0.1]);
        expect([kl.reduction, kl.logTarget]).toEqual(['batchmean', true]);
        expect(shapes(ce.stateDict())).toEqual([['weight', [3]]]);
        expect(shapes(nll.stateDict())).toEqual([['weight', [3]]]);
        expect(shapes(bce.stateDict())).toEqual([['weight', [1]], ['pos_weight', [4]]]);
        expect(bce.namedBuffers().map(([k]) => k)).toEqual(['weight', 'pos_weight']);
        expect(vals(ce.weight as Tensor)).toEqual([1, 2, 3]);
        expect(vals(bce.posWeight as Tensor)).toEqual([0.5, 2, 1, 4]);
        // A loss inside a model: its buffer under the child's dotted name, as PyTorch's.
        class Model extends nn.Module {
          fc = new nn.Linear(2, 3);
          criterion = new nn.CrossEntropyLoss({ weight: tensor([1, 1, 2]) });
        }
        const model = new Model();
        expect(shapes(model.stateDict())).toEqual([['fc.weight', [3, 2]], ['fc.bias', [3]], ['criterion.weight', [3]]]);
        model.dispose();
        // The buffer shares the given tensor's memory (as PyTorch's), but to() moves only the module's.
        w.mul_(2);
        expect(vals(ce.weight as Tensor)).toEqual([2, 4, 6]);
        ce.to('float64');
        expect([ce.weight?.dtype, w.dtype, nll.weight?.dtype]).toEqual(['float64', 'float32', 'float32']);
        const x = tensor(Float64Array.from([0.1, 0.2, 0.3, 1, -1, 0]), { shape: [2, 3] });
        const y = tensor([2n, 1n]);
        expect(() => nll.forward(x, y)).toThrow(/^nllLoss: expected weight of input's dtype float64 but received float32/);
        expect(ce.forward(x, y).dtype).toBe('float64');
      });
      // dispose() frees the module's buffer handles; the caller's tensors stay usable.
      ce.dispose();
      bce.dispose();
      expect(tidy(() => vals(w))).toEqual([2, 4, 6]);
      expect(tidy(() => vals(pw))).toEqual([0.5, 2, 1, 4]);
    } finally {
      for (const m of [...plain, ce, nll, bce, kl]) m.dispose();
      w.dispose();
      pw.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it("SmoothL1Loss, HuberLoss and BCELoss have PyTorch's attributes and defaults; BCELoss' weight is a buffer in the state dict", () => {
    const before = memory().tensors;
    const w = tensor([[1, 2, 3]]);
    const plain = [new nn.SmoothL1Loss(), new nn.HuberLoss(), new nn.BCELoss()] as const;
    const sl1 = new nn.SmoothL1Loss({ reduction: 'sum', beta: 0 });
    const huber = new nn.HuberLoss({ reduction: 'none', delta: 0.3 });
    const bce = new nn.BCELoss({ weight: w, reduction: 'sum' });
    try {
      tidy(() => {
        const [sl10, huber0, bce0] = plain;
        expect([sl10.reduction, sl10.beta, huber0.reduction, huber0.delta, bce0.reduction, bce0.weight]).toEqual(['mean', 1, 'mean', 1, 'mean', null]);
        expect(plain.map((m) => m.kind)).toEqual(['SmoothL1Loss', 'HuberLoss', 'BCELoss']);
        for (const m of plain) {
          expect(shapes(m.stateDict()), m.kind).toEqual([]);
          expect([m.numParameters(), m.isNative, m.training], m.kind).toEqual([0, false, true]);
        }
        expect([sl1.reduction, sl1.beta, huber.reduction, huber.delta, bce.reduction]).toEqual(['sum', 0, 'none', 0.3, 'sum']);
        expect(shapes(bce.stateDict())).toEqual([['weight', [1, 3]]]);
        expect(bce.namedBuffers().map(([k]) => k)).toEqual(['weight']);
        // The buffer shares the given tensor's memory, but to() moves only the module's.
        w.mul_(2);
        expect(vals(bce.weight as Tensor)).toEqual([2, 4, 6]);
        const p = tensor([[0.1, 0.5, 0.9], [0.3, 0.2, 0.6]]);
        const y = tensor([[0, 1, 1], [1, 0, 0]]);
        expect(bce.forward(p, y).item()).toBeCloseTo(F.binaryCrossEntropy(p, y, { weight: w, reduction: 'sum' }).item() as number, 5);
        bce.to('float64');
        expect([bce.weight?.dtype, w.dtype]).toEqual(['float64', 'float32']);
        expect(() => bce.forward(p, y)).toThrow(/^binaryCrossEntropy: expected weight of input's dtype float32 but received float64/);
        // beta 0 is the L1 loss; the Huber loss is delta times the smooth L1 loss with beta = delta
        const x = tensor([0.1, -2, 0.25, 3]);
        const t = tensor([0, 0, 0, 0]);
        expect(vals(sl1.forward(x, t))[0]).toBeCloseTo(vals(F.l1Loss(x, t, { reduction: 'sum' }))[0], 6);
        const smooth = vals(new nn.SmoothL1Loss({ beta: 0.3, reduction: 'none' }).forward(x, t)).map((v) => 0.3 * v);
        vals(huber.forward(x, t)).forEach((v, i) => expect(v).toBeCloseTo(smooth[i], 6));
      });
      bce.dispose();
      expect(tidy(() => vals(w))).toEqual([2, 4, 6]); // the caller's tensor stays usable
    } finally {
      for (const m of [...plain, sl1, huber, bce]) m.dispose();
      w.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('bad options and arguments are errors naming the module, the argument and what was expected', () => {
    const before = memory().tensors;
    const w2d = tensor([[1, 2], [3, 4]]);
    const wInt = tensor([1n, 2n]);
    const cases: ErrorCase[] = [
      [() => new nn.CrossEntropyLoss({ ignore_index: 1 } as never), TypeError, /^CrossEntropyLoss: unknown option 'ignore_index'; did you mean 'ignoreIndex'\?/],
      [() => new nn.CrossEntropyLoss({ label_smoothing: 0.1 } as never), TypeError, /^CrossEntropyLoss: unknown option 'label_smoothing'; did you mean 'labelSmoothing'\?/],
      [() => new nn.CrossEntropyLoss({ reduction: 'avg' } as never), TypeError, /^CrossEntropyLoss: expected one of "mean", "sum", "none" for reduction but received "avg" \(string\)/],
      [() => new nn.CrossEntropyLoss({ reduction: 'batchmean' } as never), TypeError, /^CrossEntropyLoss: expected one of "mean", "sum", "none" for reduction but received "batchmean"/],
      [() => new nn.CrossEntropyLoss({ labelSmoothing: 1.5 }), RangeError, /^CrossEntropyLoss: expected a number in \[0, 1\] for labelSmoothing but received 1\.5/],
      [() => new nn.CrossEntropyLoss({ labelSmoothing: '0.1' as never }), TypeError, /^CrossEntropyLoss: expected a number for labelSmoothing but received "0\.1"/],
      [() => new nn.CrossEntropyLoss({ ignoreIndex: 1.5 }), TypeError, /^CrossEntropyLoss: expected an integer for ignoreIndex but received 1\.5/],
      [() => new nn.CrossEntropyLoss({ weight: [1, 2, 3] as never }), TypeError, /^CrossEntropyLoss: expected a Tensor \(or null\) for weight but received \[1, 2, 3\]/],
      [() => new nn.CrossEntropyLoss({ weight: wInt }), TypeError, /^CrossEntropyLoss: expected a floating-point tensor for weight but received int64/],
      [() => new nn.CrossEntropyLoss({ weight: w2d }), RangeError, /^CrossEntropyLoss: expected a 1-d tensor \(one weight per class\) for weight but received shape \[2, 2\]/],
      [() => new nn.CrossEntropyLoss(0.1 as never), TypeError, /^CrossEntropyLoss: expected an object with keys among weight, ignoreIndex, reduction, labelSmoothing for options/],
      [() => new nn.NLLLoss({ labelSmoothing: 0.1 } as never), TypeError, /^NLLLoss: unknown option 'labelSmoothing' \(known: weight, ignoreIndex, reduction\)/],
      [() => new nn.NLLLoss({ weight: w2d }), RangeError, /^NLLLoss: expected a 1-d tensor \(one weight per class\) for weight/],
      [() => new nn.NLLLoss({ ignoreIndex: '0' as never }), TypeError, /^NLLLoss: expected an integer for ignoreIndex/],
      [() => new nn.MSELoss({ reduction: 'mena' } as never), TypeError, /^MSELoss: expected one of "mean", "sum", "none" for reduction but received "mena"/],
      [() => new nn.MSELoss({ weight: w2d } as never), TypeError, /^MSELoss: unknown option 'weight' \(known: reduction\)/],
      [() => new nn.L1Loss({ reductio: 'sum' } as never), TypeError, /^L1Loss: unknown option 'reductio'; did you mean 'reduction'\?/],
      [() => new nn.BCEWithLogitsLoss({ pos_weight: w2d } as never), TypeError, /^BCEWithLogitsLoss: unknown option 'pos_weight'; did you mean 'posWeight'\?/],
      [() => new nn.BCEWithLogitsLoss({ posWeight: w2d }), RangeError, /^BCEWithLogitsLoss: expected a 0-d or 1-d tensor \(one weight per class, the input's last dimension\) for posWeight but received shape \[2, 2\]/],
      [() => new nn.BCEWithLogitsLoss({ posWeight: wInt }), TypeError, /^BCEWithLogitsLoss: expected a floating-point tensor for posWeight but received int64/],
      [() => new nn.BCEWithLogitsLoss({ weight: 2 as never }), TypeError, /^BCEWithLogitsLoss: expected a Tensor \(or null\) for weight but received 2 \(number\)/],
      [() => new nn.SmoothL1Loss({ delta: 1 } as never), TypeError, /^SmoothL1Loss: unknown option 'delta'; did you mean 'beta'\? \(known: reduction, beta\)/],
      [() => new nn.SmoothL1Loss({ beta: -1 }), RangeError, /^SmoothL1Loss: expected a number in \[0, Infinity\] for beta but received -1/],
      [() => new nn.SmoothL1Loss({ beta: '1' as never }), TypeError, /^SmoothL1Loss: expected a number for beta but received "1"/],
      [() => new nn.SmoothL1Loss({ reduction: 'batchmean' } as never), TypeError, /^SmoothL1Loss: expected one of "mean", "sum", "none" for reduction but received "batchmean"/],
      [() => new nn.HuberLoss({ beta: 1 } as never), TypeError, /^HuberLoss: unknown option 'beta'; did you mean 'delta'\? \(known: reduction, delta\)/],
      [() => new nn.HuberLoss({ delta: 0 }), RangeError, /^HuberLoss: expected a number > 0 for delta but received 0/],
      [() => new nn.HuberLoss({ delta: -2 }), RangeError, /^HuberLoss: expected a number > 0 for delta but received -2/],
      [() => new nn.HuberLoss({ delta: NaN }), TypeError, /^HuberLoss: expected a number for delta but received NaN/],
      [() => new nn.HuberLoss({ reduction: 'mena' } as never), TypeError, /^HuberLoss: expected one of "mean", "sum", "none" for reduction but received "mena"/],
      [() => new nn.BCELoss({ posWeight: w2d } as never), TypeError, /^BCELoss: unknown option 'posWeight'; did you mean 'weight'\? \(known: weight, reduction\)/],
      [() => new nn.BCELoss({ weight: wInt }), TypeError, /^BCELoss: expected a floating-point tensor for weight but received int64/],
      [() => new nn.BCELoss({ weight: [1, 2] as never }), TypeError, /^BCELoss: expected a Tensor \(or null\) for weight but received \[1, 2\]/],
      [() => new nn.BCELoss({ reduction: 'avg' } as never), TypeError, /^BCELoss: expected one of "mean", "sum", "none" for reduction but received "avg"/],
      [() => new nn.BCELoss('mean' as never), TypeError, /^BCELoss: expected an object with keys among weight, reduction for options/],
      [() => new nn.KLDivLoss({ log_target: true } as never), TypeError, /^KLDivLoss: unknown option 'log_target'; did you mean 'logTarget'\?/],
      [() => new nn.KLDivLoss({ logTarget: 1 as never }), TypeError, /^KLDivLoss: expected a boolean for logTarget but received 1 \(number\)/],
      [() => new nn.KLDivLoss({ reduction: 'batch' } as never), TypeError, /^KLDivLoss: expected one of "mean", "sum", "none", "batchmean" for reduction but received "batch"/],
    ];
    try {
      expectErrors(cases);
      // Forward errors: a missing or non-tensor argument names the module; shapes and dtypes name the loss.
      const ce = tidy(() => new nn.CrossEntropyLoss({ weight: tensor([1, 2, 3]) }));
      const mse = new nn.MSELoss();
      const bce = tidy(() => new nn.BCEWithLogitsLoss({ posWeight: tensor([1, 2, 3]) }));
      try {
        tidy(() => {
          const x = tensor(Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), { shape: [2, 4] });
          expect(() => (ce.forward as (x: Tensor) => Tensor)(x)).toThrow(/^CrossEntropyLoss\.forward: expected a Tensor for target but received undefined/);
          expect(() => ce.forward([1, 2] as never, tensor([0n]))).toThrow(/^CrossEntropyLoss\.forward: expected a Tensor for input but received \[1, 2\]/);
          expect(() => ce.forward(x, tensor([0n, 1n]))).toThrow(/^crossEntropy: expected shape \[4\] \(one per class of input \[2, 4\]\) for weight but received shape \[3\]/);
          expect(() => mse.forward(x, tensor([1, 2]))).toThrow(/^mseLoss: expected the input's shape \[2, 4\] for target but received shape \[2\]/);
          expect(() => mse.forward(x, null as never)).toThrow(/^MSELoss\.forward: expected a Tensor for target but received null/);
          expect(() => bce.forward(x, x)).toThrow(/^binaryCrossEntropyWithLogits: expected shape \[4\] \(one weight per class, the input's last dimension\) for posWeight but received shape \[3\]/);
          expect(() => new nn.NLLLoss().forward(x, tensor([0.5, 1]))).toThrow(/^nllLoss: expected int64 class indices of shape \[2\] for target but received float32/);
          expect(() => new nn.L1Loss().forward(tensor([1n]), tensor([1n]))).toThrow(/^l1Loss: expected a floating-point tensor for input but received int64/);
          expect(() => new nn.SmoothL1Loss().forward(x, tensor([1, 2]))).toThrow(/^smoothL1Loss: expected the input's shape \[2, 4\] for target but received shape \[2\]/);
          expect(() => new nn.SmoothL1Loss().forward(x, undefined as never)).toThrow(/^SmoothL1Loss\.forward: expected a Tensor for target but received undefined/);
          expect(() => new nn.HuberLoss().forward(x, x.reshape([4, 2]))).toThrow(/^huberLoss: expected the input's shape \[2, 4\] for target but received shape \[4, 2\]/);
          expect(() => new nn.HuberLoss().forward('x' as never, x)).toThrow(/^HuberLoss\.forward: expected a Tensor for input but received "x"/);
          expect(() => new nn.BCELoss().forward(x.mul(2), x)).toThrow(/^binaryCrossEntropy: input must hold probabilities in \[0, 1\]/);
          expect(() => new nn.BCELoss().forward(x, x.reshape([8]))).toThrow(/^binaryCrossEntropy: expected the input's shape \[2, 4\] for target but received shape \[8\]/);
          expect(() => new nn.BCELoss().forward(x, null as never)).toThrow(/^BCELoss\.forward: expected a Tensor for target but received null/);
        });
      } finally {
        ce.dispose();
        mse.dispose();
        bce.dispose();
      }
    } finally {
      w2d.dispose();
      wInt.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('a tiny net trained with SGD and new nn.CrossEntropyLoss(): the loss goes down', () => {
    manualSeed(1);
    const net = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Linear(16, 3));
    const criterion = new nn.CrossEntropyLoss();
    const params = net.parameters();
    const opt = new SGD(params, { lr: 0.3, momentum: 0.9 });
    // Three separable classes: the class is the index of the largest of the first three features.
    const r = lcg(11);
    const xs = Array.from({ length: 32 * 4 }, () => r());
    const labels = Array.from({ length: 32 }, (_, i) => {
      const row = xs.slice(4 * i, 4 * i + 3);
      return BigInt(row.indexOf(Math.max(...row)));
    });
    const x = tensor(Float32Array.from(xs), { shape: [32, 4] });
    const y = tensor(BigInt64Array.from(labels));
    try {
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) {
        losses.push(tidy(() => {
          opt.zeroGrad();
          const loss = criterion.forward(net.forward(x), y);
          loss.backward();
          opt.step();
          return loss.item() as number;
        }));
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[losses.length - 1]).toBeLessThan(0.5 * losses[0]);
    } finally {
      for (const p of params) p.dispose();
      opt.dispose();
      net.dispose();
      criterion.dispose();
      x.dispose();
      y.dispose();
    }
  });
});

// ---------------------------------------------------------------- against PyTorch

describe.skipIf(!hasTorch)('the loss modules and PyTorch\'s (needs /usr/bin/python3 with torch)', () => {
  it("each module's value and input gradient equal PyTorch's module on the same inputs (float64)", async () => {
    const ours = Object.fromEntries(CASES.map((c) => [c.name, runModule(c)]));
    const cases: PyCase[] = CASES.map((c) => {
      const inputs: Record<string, PyTensor> = { x: { ...c.x, grad: true }, t: c.t };
      if (c.opts.weight) inputs.w = c.opts.weight;
      if (c.opts.posWeight) inputs.pw = c.opts.posWeight;
      return { name: c.name, inputs, expr: `${pyModule(c)}(x, t)`, gradOut: weighting(numel(ours[c.name].shape)) };
    });
    const theirs = await runCases(cases);
    for (const c of CASES) {
      const o = ours[c.name];
      const r = theirs[c.name];
      expect(o.shape, `${c.name}: output shape`).toEqual(r.shape);
      expect(maxDiff(o.out, r.out), `${c.name}: value`).toBeLessThan(1e-10);
      expect(maxDiff(o.grad, r.grads.x as number[]), `${c.name}: input gradient`).toBeLessThan(1e-10);
    }
  }, 120_000);

  it("state-dict keys and shapes are PyTorch's, with and without weights; state dicts load strictly both ways", async () => {
    const configs: { name: string; make: () => nn.Module; py: string }[] = [
      { name: 'CE', make: () => new nn.CrossEntropyLoss(), py: 'nn.CrossEntropyLoss()' },
      { name: 'CE weight', make: () => new nn.CrossEntropyLoss({ weight: tensor([1, 2, 3]) }), py: 'nn.CrossEntropyLoss(weight=torch.tensor([1., 2., 3.]))' },
      { name: 'NLL', make: () => new nn.NLLLoss(), py: 'nn.NLLLoss()' },
      { name: 'NLL weight', make: () => new nn.NLLLoss({ weight: tensor([1, 2, 3, 4]) }), py: 'nn.NLLLoss(weight=torch.tensor([1., 2., 3., 4.]))' },
      { name: 'MSE', make: () => new nn.MSELoss(), py: 'nn.MSELoss()' },
      { name: 'L1', make: () => new nn.L1Loss(), py: 'nn.L1Loss()' },
      { name: 'BCE', make: () => new nn.BCEWithLogitsLoss(), py: 'nn.BCEWithLogitsLoss()' },
      { name: 'BCE weight', make: () => new nn.BCEWithLogitsLoss({ weight: tensor([[1, 2]]) }), py: 'nn.BCEWithLogitsLoss(weight=torch.tensor([[1., 2.]]))' },
      { name: 'BCE posWeight', make: () => new nn.BCEWithLogitsLoss({ posWeight: tensor([3, 4]) }), py: 'nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3., 4.]))' },
      { name: 'BCE both', make: () => new nn.BCEWithLogitsLoss({ posWeight: tensor([3, 4]), weight: tensor([5]) }), py: 'nn.BCEWithLogitsLoss(weight=torch.tensor([5.]), pos_weight=torch.tensor([3., 4.]))' },
      { name: 'KLDiv', make: () => new nn.KLDivLoss({ reduction: 'batchmean' }), py: "nn.KLDivLoss(reduction='batchmean')" },
      { name: 'SmoothL1', make: () => new nn.SmoothL1Loss({ beta: 0.5 }), py: 'nn.SmoothL1Loss(beta=0.5)' },
      { name: 'Huber', make: () => new nn.HuberLoss({ delta: 0.3 }), py: 'nn.HuberLoss(delta=0.3)' },
      { name: 'BCELoss', make: () => new nn.BCELoss(), py: 'nn.BCELoss()' },
      { name: 'BCELoss weight', make: () => new nn.BCELoss({ weight: tensor([[1, 2], [3, 4]]) }), py: 'nn.BCELoss(weight=torch.tensor([[1., 2.], [3., 4.]]))' },
    ];
    const modules = configs.map((c) => tidy(() => c.make()));
    try {
      const ours = Object.fromEntries(configs.map((c, i) => [c.name, tidy(() => shapes(modules[i].stateDict()))]));
      // Our state dicts, saved, load strictly into PyTorch's modules (values checked there); PyTorch's come back.
      const files: Record<string, { ours: string; theirs: string }> = {};
      configs.forEach((c, i) => {
        files[c.name] = { ours: path.join(tmp, `ours-${i}.pt`), theirs: path.join(tmp, `theirs-${i}.pt`) };
        tidy(() => saveStateDict(files[c.name].ours, modules[i].stateDict()));
      });
      const out = JSON.parse(
        await py(`
import json, sys, torch, torch.nn as nn
files = json.loads(sys.stdin.read())
modules = {${configs.map((c) => `${JSON.stringify(c.name)}: ${c.py}`).join(', ')}}
res = {}
for name, m in modules.items():
    keys = [[k, list(v.shape)] for k, v in m.state_dict().items()]
    mine = torch.load(files[name]['ours'])
    m2 = type(m)()
    for k in ('weight', 'pos_weight'):
        if k in mine: m2.register_buffer(k, torch.zeros_like(mine[k]))
    m2.load_state_dict(mine, strict=True)
    same = all(torch.equal(m2.state_dict()[k], m.state_dict()[k]) for k in m.state_dict())
    torch.save({k: v * 10 for k, v in m.state_dict().items()}, files[name]['theirs'])
    res[name] = {'keys': keys, 'same': same}
print(json.dumps(res))
`, JSON.stringify(files)),
      ) as Record<string, { keys: [string, number[]][]; same: boolean }>;
      for (const [i, c] of configs.entries()) {
        expect(ours[c.name], `${c.name}: state-dict keys and shapes`).toEqual(out[c.name].keys);
        expect(out[c.name].same, `${c.name}: our values loaded into PyTorch's module`).toBe(true);
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
      expect(out['CE weight'].keys).toEqual([['weight', [3]]]);
      expect(out['BCE both'].keys).toEqual([['weight', [1]], ['pos_weight', [2]]]);
      expect(out['BCELoss weight'].keys).toEqual([['weight', [2, 2]]]);
      expect(out.BCELoss.keys).toEqual([]);
    } finally {
      for (const m of modules) m.dispose();
    }
  }, 120_000);
});
