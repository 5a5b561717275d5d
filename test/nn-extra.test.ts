// More of nn.functional and nn (lib/nn/functional-extra.ts, lib/nn/extra-layers.ts): selu, celu, glu, logsigmoid,
// softshrink, hardshrink, tanhshrink, softsign, softmin, rrelu, prelu, instanceNorm, pixelShuffle, pixelUnshuffle,
// channelShuffle, unfold, fold, bilinear and their modules (with Softmax2d, Unflatten). Without Python: modules equal
// the functions, state-dict keys, RReLU's random slopes and their gradients, the argument errors, no tensor left
// behind. Against python3-torch (PyTorch 1.13), in float64: outputs and input and weight gradients of every function
// with a few option combinations; PReLU, Bilinear and InstanceNorm state dicts loaded both ways with equal outputs
// and gradients; InstanceNorm's running statistics after training forwards; the initial weights from one seed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Tensor, cat, full, manualSeed, memory, nn, noGrad, ones, rand, randn, tensor, tidy, zeros } from '../lib';
import * as FX from '../lib/nn/functional-extra';
import { hasTorch, py, PY_TENSOR_OF, type PyTensor } from './helpers/torchpy';
import { maxDiff, shapes, vals, weighting } from './helpers/compare';
import { describeFunctionsAgainstTorch, type FCase } from './helpers/fcases';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { stateDictRoundTrip } from './helpers/roundtrip';
import { floats, toTensor } from './helpers/specs';

const F = nn.functional;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-extra-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => manualSeed(0));

// ---------------------------------------------------------------- shared inputs (also sent to Python)

// The inputs are floats (sines): in (−scale, scale), none here exactly 0 or ±0.5 (the kinks of the shrinks).
/** Positive values (variances), no gradient. */
const positive = (shape: number[], seed: number): PyTensor => ({ ...floats(shape, seed, 1, false), data: floats(shape, seed).data.map((v) => 0.5 + Math.abs(v)) });
/** A spec's values rounded to int64 (no gradient). */
const int64 = (s: PyTensor): PyTensor => ({ ...s, data: s.data.map(Math.round), dtype: 'int64', grad: false });


// ---------------------------------------------------------------- functions against PyTorch

const X = floats([3, 4], 1, 2);
const CASES: FCase[] = [
  { name: 'selu', inputs: { x: X }, py: 'F.selu(x)', ts: ({ x }) => FX.selu(x) },
  { name: 'celu', inputs: { x: X }, py: 'F.celu(x)', ts: ({ x }) => FX.celu(x) },
  { name: 'celuAlpha', inputs: { x: X }, py: 'F.celu(x, alpha=0.5)', ts: ({ x }) => FX.celu(x, { alpha: 0.5 }) },
  { name: 'glu', inputs: { x: X }, py: 'F.glu(x)', ts: ({ x }) => FX.glu(x) },
  { name: 'gluDim0', inputs: { x: floats([4, 3, 2], 2) }, py: 'F.glu(x, 0)', ts: ({ x }) => FX.glu(x, 0) },
  { name: 'logSigmoid', inputs: { x: floats([3, 4], 3, 6) }, py: 'F.logsigmoid(x)', ts: ({ x }) => FX.logsigmoid(x) },
  { name: 'softshrink', inputs: { x: X }, py: 'F.softshrink(x)', ts: ({ x }) => FX.softshrink(x) },
  { name: 'softshrink0.3', inputs: { x: X }, py: 'F.softshrink(x, 0.3)', ts: ({ x }) => FX.softshrink(x, 0.3) },
  { name: 'softshrink0', inputs: { x: X }, py: 'F.softshrink(x, 0.0)', ts: ({ x }) => FX.softshrink(x, 0) },
  { name: 'hardshrink', inputs: { x: X }, py: 'F.hardshrink(x)', ts: ({ x }) => FX.hardshrink(x) },
  { name: 'hardshrink1.2', inputs: { x: X }, py: 'F.hardshrink(x, 1.2)', ts: ({ x }) => FX.hardshrink(x, 1.2) },
  { name: 'tanhshrink', inputs: { x: X }, py: 'F.tanhshrink(x)', ts: ({ x }) => FX.tanhshrink(x) },
  { name: 'softsign', inputs: { x: X }, py: 'F.softsign(x)', ts: ({ x }) => FX.softsign(x) },
  { name: 'softmin', inputs: { x: X }, py: 'F.softmin(x, 1)', ts: ({ x }) => FX.softmin(x, 1) },
  { name: 'softminDim0', inputs: { x: floats([3, 2, 4], 4) }, py: 'F.softmin(x, -3)', ts: ({ x }) => FX.softmin(x, -3) },
  { name: 'softminFloat32', inputs: { x: X }, py: 'F.softmin(x, 0, dtype=torch.float32)', ts: ({ x }) => FX.softmin(x, 0, { dtype: 'float32' }), tol: 1e-6 },
  { name: 'softminInt64', inputs: { x: int64(floats([3, 4], 5, 3)) }, py: 'F.softmin(x, 0, dtype=torch.float64)', ts: ({ x }) => FX.softmin(x, 0, { dtype: 'float64' }) },
  { name: 'rreluEval', inputs: { x: X }, py: 'F.rrelu(x)', ts: ({ x }) => FX.rrelu(x), tol: 0 },
  { name: 'rreluEvalBounds', inputs: { x: X }, py: 'F.rrelu(x, 0.1, 0.4, False)', ts: ({ x }) => FX.rrelu(x, { lower: 0.1, upper: 0.4, training: false }), tol: 0 },
  { name: 'preluShared', inputs: { x: floats([2, 3, 4], 5), w: floats([1], 6) }, py: 'F.prelu(x, w)', ts: ({ x, w }) => FX.prelu(x, w) },
  { name: 'preluPerChannel', inputs: { x: floats([2, 3, 2, 2], 7), w: floats([3], 8) }, py: 'F.prelu(x, w)', ts: ({ x, w }) => FX.prelu(x, w) },
  { name: 'prelu1d', inputs: { x: floats([5], 9), w: floats([1], 10) }, py: 'F.prelu(x, w)', ts: ({ x, w }) => FX.prelu(x, w) },
  { name: 'preluScalarWeight', inputs: { x: floats([2, 3], 11), w: floats([], 12) }, py: 'F.prelu(x, w)', ts: ({ x, w }) => FX.prelu(x, w) },
  { name: 'instanceNorm', inputs: { x: floats([2, 3, 5], 13) }, py: 'F.instance_norm(x)', ts: ({ x }) => FX.instanceNorm(x) },
  {
    name: 'instanceNormAffine', inputs: { x: floats([2, 3, 4, 4], 14), w: floats([3], 15), b: floats([3], 16) },
    py: 'F.instance_norm(x, weight=w, bias=b, eps=1e-3)', ts: ({ x, w, b }) => FX.instanceNorm(x, { weight: w, bias: b, eps: 1e-3 }),
  },
  {
    name: 'instanceNormRunningEval', inputs: { x: floats([2, 3, 4], 17), rm: floats([3], 18, 1, false), rv: positive([3], 19), w: floats([3], 20) },
    py: 'F.instance_norm(x, rm, rv, weight=w, use_input_stats=False)', ts: ({ x, rm, rv, w }) => FX.instanceNorm(x, { runningMean: rm, runningVar: rv, weight: w, useInputStats: false }),
  },
  {
    // the running statistics are updated in place: the output and both statistics after the call
    name: 'instanceNormRunningUpdate', inputs: { x: floats([2, 3, 2, 3, 2], 21), rm: floats([3], 22, 1, false), rv: positive([3], 23), b: floats([3], 24) },
    py: '(lambda y: torch.cat([y.flatten(), rm, rv]))(F.instance_norm(x, rm, rv, bias=b, momentum=0.3))',
    ts: ({ x, rm, rv, b }) => {
      const y = FX.instanceNorm(x, { runningMean: rm, runningVar: rv, bias: b, momentum: 0.3 });
      return cat([y.flatten(), rm, rv]);
    },
  },
  { name: 'pixelShuffle', inputs: { x: floats([2, 8, 2, 3], 25) }, py: 'F.pixel_shuffle(x, 2)', ts: ({ x }) => FX.pixelShuffle(x, 2) },
  { name: 'pixelShuffleUnbatched', inputs: { x: floats([9, 2, 2], 26) }, py: 'F.pixel_shuffle(x, 3)', ts: ({ x }) => FX.pixelShuffle(x, 3) },
  { name: 'pixelShuffleInt64', inputs: { x: int64(floats([1, 4, 2, 2], 27, 50)) }, py: 'F.pixel_shuffle(x, 2)', ts: ({ x }) => FX.pixelShuffle(x, 2), tol: 0 },
  { name: 'pixelUnshuffle', inputs: { x: floats([2, 2, 4, 6], 28) }, py: 'F.pixel_unshuffle(x, 2)', ts: ({ x }) => FX.pixelUnshuffle(x, 2) },
  // channel_shuffle has no derivative in 1.13: with a gradient, PyTorch's reshape-transpose-reshape is the reference
  { name: 'channelShuffle', inputs: { x: floats([2, 6, 2, 2], 29, 1, false) }, py: 'F.channel_shuffle(x, 3)', ts: ({ x }) => FX.channelShuffle(x, 3), tol: 0 },
  { name: 'channelShuffleGrad', inputs: { x: floats([2, 6, 2, 2], 29) }, py: 'x.reshape(2, 3, 2, 2, 2).transpose(1, 2).reshape(2, 6, 2, 2)', ts: ({ x }) => FX.channelShuffle(x, 3), tol: 0 },
  { name: 'channelShuffle3d', inputs: { x: floats([2, 8, 3], 30, 1, false) }, py: 'F.channel_shuffle(x, 4)', ts: ({ x }) => FX.channelShuffle(x, 4), tol: 0 },
  { name: 'unfold', inputs: { x: floats([2, 3, 5, 6], 31) }, py: 'F.unfold(x, 2)', ts: ({ x }) => FX.unfold(x, 2) },
  {
    name: 'unfoldOptions', inputs: { x: floats([2, 3, 5, 6], 32) }, py: 'F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))',
    ts: ({ x }) => FX.unfold(x, [2, 3], { dilation: [1, 2], padding: 1, stride: [2, 1] }),
  },
  { name: 'unfoldUnbatched', inputs: { x: floats([3, 5, 6], 33) }, py: 'F.unfold(x, 3, stride=2)', ts: ({ x }) => FX.unfold(x, 3, { stride: 2 }) },
  { name: 'fold', inputs: { x: floats([2, 12, 20], 34) }, py: 'F.fold(x, (5, 6), 2)', ts: ({ x }) => FX.fold(x, [5, 6], 2) },
  {
    name: 'foldOptions', inputs: { x: floats([1, 12, 18], 35) }, py: 'F.fold(x, (6, 7), (2, 3), dilation=(2, 1), padding=(1, 0), stride=(1, 2))',
    ts: ({ x }) => FX.fold(x, [6, 7], [2, 3], { dilation: [2, 1], padding: [1, 0], stride: [1, 2] }),
  },
  { name: 'foldUnbatched', inputs: { x: floats([8, 9], 36) }, py: 'F.fold(x, 4, 2, stride=1)', ts: ({ x }) => FX.fold(x, 4, 2, { stride: 1 }) },
  {
    name: 'bilinear', inputs: { a: floats([3, 4], 37), b: floats([3, 5], 38), w: floats([6, 4, 5], 39), bias: floats([6], 40) },
    py: 'F.bilinear(a, b, w, bias)', ts: ({ a, b, w, bias }) => FX.bilinear(a, b, w, bias),
  },
  { name: 'bilinearBatchedNoBias', inputs: { a: floats([2, 3, 4], 41), b: floats([2, 3, 2], 42), w: floats([3, 4, 2], 43) }, py: 'F.bilinear(a, b, w)', ts: ({ a, b, w }) => FX.bilinear(a, b, w) },
  { name: 'bilinear1d', inputs: { a: floats([4], 44), b: floats([5], 45), w: floats([2, 4, 5], 46), bias: floats([2], 47) }, py: 'F.bilinear(a, b, w, bias)', ts: ({ a, b, w, bias }) => FX.bilinear(a, b, w, bias) },
];

describeFunctionsAgainstTorch(CASES);

// ---------------------------------------------------------------- modules equal the functions

describe('modules equal the functions', () => {
  it('activations, shuffles, sliding blocks, Bilinear, Unflatten, Softmax2d: the same values as the functional forms', () => {
    const before = memory().tensors;
    const mods: nn.Module[] = [];
    const m = <T extends nn.Module>(x: T): T => (mods.push(x), x);
    try {
      tidy(() => {
        const x = randn([2, 6, 4, 4], { dtype: 'float64' });
        const same = (a: Tensor, b: Tensor, what: string) => {
          expect(a.shape, what).toEqual(b.shape);
          expect(vals(a), what).toEqual(vals(b));
        };
        same(m(new nn.SELU()).forward(x), FX.selu(x), 'SELU');
        same(m(new nn.CELU(0.7)).forward(x), FX.celu(x, { alpha: 0.7 }), 'CELU');
        same(m(new nn.GLU()).forward(x), FX.glu(x), 'GLU');
        same(m(new nn.GLU(1)).forward(x), FX.glu(x, 1), 'GLU(1)');
        same(m(new nn.LogSigmoid()).forward(x), FX.logsigmoid(x), 'LogSigmoid');
        same(m(new nn.Softshrink()).forward(x), FX.softshrink(x), 'Softshrink');
        same(m(new nn.Softshrink(0.2)).forward(x), FX.softshrink(x, 0.2), 'Softshrink(0.2)');
        same(m(new nn.Hardshrink(0.3)).forward(x), FX.hardshrink(x, 0.3), 'Hardshrink');
        same(m(new nn.Tanhshrink()).forward(x), FX.tanhshrink(x), 'Tanhshrink');
        same(m(new nn.Softsign()).forward(x), FX.softsign(x), 'Softsign');
        same(m(new nn.Softmin(1)).forward(x), FX.softmin(x, 1), 'Softmin');
        same(m(new nn.Softmax2d()).forward(x), F.softmax(x, -3), 'Softmax2d');
        same(m(new nn.Softmax2d()).forward(x.select(0, 0)), F.softmax(x.select(0, 0), 0), 'Softmax2d unbatched');
        const rr = m(new nn.RReLU(0.1, 0.3));
        rr.eval();
        same(rr.forward(x), FX.rrelu(x, { lower: 0.1, upper: 0.3 }), 'RReLU eval');
        same(rr.forward(x), x.relu().sub(x.neg().relu().mul(0.2)), 'RReLU eval is the mean slope');
        const pr = m(new nn.PReLU(6, 0.1, { dtype: 'float64' }));
        same(pr.forward(x), FX.prelu(x, full([6], 0.1, { dtype: 'float64' })), 'PReLU');
        const p = randn([2, 8, 3, 3]);
        same(m(new nn.PixelShuffle(2)).forward(p), FX.pixelShuffle(p, 2), 'PixelShuffle');
        same(m(new nn.PixelUnshuffle(2)).forward(x), FX.pixelUnshuffle(x, 2), 'PixelUnshuffle');
        same(FX.pixelUnshuffle(FX.pixelShuffle(p, 2), 2), p, 'PixelUnshuffle inverts PixelShuffle');
        same(m(new nn.ChannelShuffle(3)).forward(x), FX.channelShuffle(x, 3), 'ChannelShuffle');
        same(FX.channelShuffle(FX.channelShuffle(x, 3), 2), x, 'ChannelShuffle by 3 then by 2 is the identity on 6 channels');
        const un = m(new nn.Unfold([2, 3], { padding: 1, stride: [1, 2] }));
        expect([un.kernelSize, un.dilation, un.padding, un.stride]).toEqual([[2, 3], [1, 1], [1, 1], [1, 2]]);
        const cols = un.forward(x);
        same(cols, FX.unfold(x, [2, 3], { padding: 1, stride: [1, 2] }), 'Unfold');
        const fo = m(new nn.Fold([4, 4], [2, 3], { padding: 1, stride: [1, 2] }));
        expect([fo.outputSize, fo.kernelSize]).toEqual([[4, 4], [2, 3]]);
        same(fo.forward(cols), FX.fold(cols, [4, 4], [2, 3], { padding: 1, stride: [1, 2] }), 'Fold');
        // fold(unfold(x)) with non-overlapping blocks is x
        same(FX.fold(FX.unfold(x, 2, { stride: 2 }), 4, 2, { stride: 2 }), x, 'fold inverts unfold without overlap');
        const bil = m(new nn.Bilinear(4, 3, 5, { dtype: 'float64' }));
        const [a, b] = [randn([7, 4], { dtype: 'float64' }), randn([7, 3], { dtype: 'float64' })];
        same(bil.forward(a, b), FX.bilinear(a, b, bil.weight, bil.bias), 'Bilinear');
        // y_k = a W_k bᵀ + bias_k, written out
        const manual = a.unsqueeze(1).unsqueeze(2).matmul(bil.weight).matmul(b.unsqueeze(1).unsqueeze(-1)).squeeze(-1).squeeze(-1).add(bil.bias as Tensor);
        expect(maxDiff(vals(bil.forward(a, b)), vals(manual))).toBeLessThan(1e-12);
        const uf = m(new nn.Unflatten(1, [2, -1]));
        same(uf.forward(x), x.reshape([2, 2, 3, 4, 4]), 'Unflatten');
        same(m(new nn.Unflatten(-1, [2, 2])).forward(x), x.reshape([2, 6, 4, 2, 2]), 'Unflatten(-1)');
        // kinds and parameters
        expect([pr.kind, pr.isNative, pr.numParameters(), pr.init, vals(pr.weight)]).toEqual(['PReLU', false, 6, 0.1, new Array(6).fill(0.1)]);
        expect(shapes(bil.stateDict())).toEqual([['weight', [5, 4, 3]], ['bias', [5]]]);
        expect(Object.keys(m(new nn.SELU()).stateDict())).toEqual([]);
      });
    } finally {
      for (const mod of mods) mod.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it("InstanceNorm1d/2d/3d: PyTorch's parameters and buffers; batched and unbatched inputs; running statistics in evaluation", () => {
    const before = memory().tensors;
    const plain = new nn.InstanceNorm2d(3);
    const full2 = new nn.InstanceNorm2d(3, { affine: true, trackRunningStats: true, eps: 1e-3, momentum: 0.2 });
    const one = new nn.InstanceNorm1d(4, { affine: true });
    const three = new nn.InstanceNorm3d(2, { trackRunningStats: true, dtype: 'float64' });
    try {
      tidy(() => {
        expect(shapes(plain.stateDict())).toEqual([]);
        expect([plain.weight, plain.bias, plain.running_mean, plain.running_var, plain.num_batches_tracked]).toEqual([null, null, null, null, null]);
        expect([plain.numFeatures, plain.eps, plain.momentum, plain.affine, plain.trackRunningStats]).toEqual([3, 1e-5, 0.1, false, false]);
        expect(shapes(full2.stateDict())).toEqual([['weight', [3]], ['bias', [3]], ['running_mean', [3]], ['running_var', [3]], ['num_batches_tracked', []]]);
        const sd = full2.stateDict();
        expect([vals(sd.weight), vals(sd.bias), vals(sd.running_mean), vals(sd.running_var), vals(sd.num_batches_tracked), sd.num_batches_tracked.dtype])
          .toEqual([[1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1], [0], 'int64']);
        expect(shapes(one.stateDict())).toEqual([['weight', [4]], ['bias', [4]]]);
        expect(shapes(three.stateDict())).toEqual([['running_mean', [2]], ['running_var', [2]], ['num_batches_tracked', []]]);
        expect(three.running_mean?.dtype).toBe('float64');
        expect(full2.parameters().length).toBe(2);
        expect(full2.buffers().length).toBe(3);

        const x = randn([2, 3, 5, 4]);
        expect(vals(plain.forward(x))).toEqual(vals(FX.instanceNorm(x)));
        // unbatched (C, H, W) is a batch of one
        expect(maxDiff(vals(plain.forward(x.select(0, 1))), vals(FX.instanceNorm(x.narrow(0, 1, 1))))).toBe(0);
        // without affine or statistics, numFeatures is not checked (as PyTorch 1.13)
        expect(plain.forward(randn([1, 5, 3, 3])).shape).toEqual([1, 5, 3, 3]);
        const x1 = randn([3, 4, 6]);
        expect(vals(one.forward(x1))).toEqual(vals(FX.instanceNorm(x1, { weight: one.weight, bias: one.bias })));
        expect(one.forward(x1.select(0, 0)).shape).toEqual([4, 6]);
        // training with statistics: input statistics, running ones updated; evaluation normalises with them
        const y = full2.forward(x);
        expect(maxDiff(vals(y), vals(FX.instanceNorm(x, { eps: 1e-3 })))).toBeLessThan(1e-5);
        const perInstanceMean = x.mean([2, 3]).mean(0);
        expect(maxDiff(vals(full2.running_mean as Tensor), vals(perInstanceMean.mul(0.2)))).toBeLessThan(1e-6);
        expect(vals(full2.num_batches_tracked as Tensor)).toEqual([0]); // instance norm never counts (as PyTorch)
        full2.eval();
        const rm = (full2.running_mean as Tensor).clone();
        const rv = (full2.running_var as Tensor).clone();
        const e = full2.forward(x);
        expect(maxDiff(vals(e), vals(FX.instanceNorm(x, { runningMean: rm, runningVar: rv, useInputStats: false, eps: 1e-3 })))).toBeLessThan(1e-6);
        expect(vals(full2.running_mean as Tensor)).toEqual(vals(rm)); // evaluation leaves them
        expect(full2.forward(x.select(0, 0)).shape).toEqual([3, 5, 4]);
        const v = randn([2, 2, 3, 3, 2], { dtype: 'float64' });
        expect(vals(three.forward(v))).toEqual(vals(FX.instanceNorm(v)));
        expect(three.forward(v.select(0, 0)).shape).toEqual([2, 3, 3, 2]);
        // resetParameters: the initial values again
        noGrad(() => void (full2.weight as Tensor).fill_(3));
        full2.resetParameters();
        expect([vals(full2.weight as Tensor), vals(full2.running_mean as Tensor), vals(full2.running_var as Tensor)]).toEqual([[1, 1, 1], [0, 0, 0], [1, 1, 1]]);
        // Module.to moves the parameters and buffers; num_batches_tracked stays int64
        full2.to('float64');
        expect([full2.weight?.dtype, full2.running_var?.dtype, full2.num_batches_tracked?.dtype]).toEqual(['float64', 'float64', 'int64']);
      });
    } finally {
      for (const mod of [plain, full2, one, three]) mod.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

// ---------------------------------------------------------------- RReLU in training

describe('RReLU in training', () => {
  it('x where x >= 0, a·x with a in [lower, upper] elsewhere; the gradient is that slope; the module draws in training only', () => {
    const before = memory().tensors;
    const act = new nn.RReLU(0.1, 0.3);
    try {
      tidy(() => {
        manualSeed(5);
        const check = (y: Tensor, x: Tensor, lower: number, upper: number) => {
          y.backward(ones(y.shape, { dtype: 'float64' }));
          const [xs, ys, gs] = [vals(x), vals(y), vals(x.grad as Tensor)];
          const slopes: number[] = [];
          xs.forEach((v, i) => {
            if (v >= 0) {
              expect([ys[i], gs[i]]).toEqual([v, 1]);
            } else {
              const a = ys[i] / v;
              expect(a).toBeGreaterThanOrEqual(lower - 1e-12);
              expect(a).toBeLessThanOrEqual(upper + 1e-12);
              expect(Math.abs(gs[i] - a)).toBeLessThan(1e-12);
              slopes.push(a);
            }
          });
          expect(slopes.length).toBeGreaterThan(50);
          expect(Math.max(...slopes) - Math.min(...slopes)).toBeGreaterThan((upper - lower) / 2); // random, not one slope
        };
        const x = randn([4, 50], { dtype: 'float64', requiresGrad: true });
        check(FX.rrelu(x, { lower: 0.1, upper: 0.3, training: true }), x, 0.1, 0.3);
        const x2 = randn([4, 50], { dtype: 'float64', requiresGrad: true });
        check(FX.rrelu(x2, { training: true }), x2, 1 / 8, 1 / 3);
        const x3 = randn([4, 50], { dtype: 'float64', requiresGrad: true });
        check(act.forward(x3), x3, 0.1, 0.3);
        act.eval();
        const x4 = randn([200], { dtype: 'float64' });
        const y4 = vals(act.forward(x4));
        vals(x4).forEach((v, i) => expect(y4[i]).toBe(v >= 0 ? v : v * 0.2));
        // equal bounds: a fixed slope in training too
        const x5 = randn([100], { dtype: 'float64' });
        expect(vals(FX.rrelu(x5, { lower: 0.25, upper: 0.25, training: true }))).toEqual(vals(F.leakyRelu(x5, 0.25)));
      });
    } finally {
      act.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

// ---------------------------------------------------------------- state dicts with PyTorch

/** Inputs of the module comparison (float64; gradients wanted). */
const NET_INPUTS: Record<string, PyTensor> = {
  x2: floats([2, 3, 4, 4], 50), x2u: floats([3, 4, 4], 51), x1: floats([2, 3, 5], 52),
  a: floats([2, 4], 53), b: floats([2, 5], 54), c: floats([3, 3], 55), d: floats([3, 2], 56),
};
const NET_OUTPUTS = ['prelu', 'bil', 'bilNoBias', 'inorm', 'inormUnbatched', 'inorm1', 'inormTrack'];

class Net extends nn.Module {
  prelu = new nn.PReLU(3, 0.2, { dtype: 'float64' });
  bil = new nn.Bilinear(4, 5, 6, { dtype: 'float64' });
  bilNoBias = new nn.Bilinear(3, 2, 4, { bias: false, dtype: 'float64' });
  inorm = new nn.InstanceNorm2d(3, { affine: true, trackRunningStats: true, dtype: 'float64' });
  inorm1 = new nn.InstanceNorm1d(3, { affine: true, eps: 1e-3, dtype: 'float64' });
  inormTrack = new nn.InstanceNorm1d(3, { trackRunningStats: true, momentum: 0.3, dtype: 'float64' });
}

const PY_NET = `
import json, sys, torch, torch.nn as nn
D = torch.float64
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.prelu = nn.PReLU(3, 0.2, dtype=D)
        s.bil = nn.Bilinear(4, 5, 6, dtype=D)
        s.bilNoBias = nn.Bilinear(3, 2, 4, bias=False, dtype=D)
        s.inorm = nn.InstanceNorm2d(3, affine=True, track_running_stats=True, dtype=D)
        s.inorm1 = nn.InstanceNorm1d(3, affine=True, eps=1e-3, dtype=D)
        s.inormTrack = nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.3, dtype=D)
${PY_TENSOR_OF}
INPUTS = json.loads(${JSON.stringify(JSON.stringify(NET_INPUTS))})
def inp(n, grad=True): return tensor_of(INPUTS[n]).requires_grad_(grad)
def weighting(o): return torch.tensor([((i % 7) - 3) / 3 for i in range(o.numel())], dtype=o.dtype).reshape(o.shape)
def run_net(net):
    net.eval()
    net.zero_grad(set_to_none=True)
    t = {n: inp(n) for n in INPUTS}
    outs = {'prelu': net.prelu(t['x2']), 'bil': net.bil(t['a'], t['b']), 'bilNoBias': net.bilNoBias(t['c'], t['d']), 'inorm': net.inorm(t['x2']),
            'inormUnbatched': net.inorm(t['x2u']), 'inorm1': net.inorm1(t['x1']), 'inormTrack': net.inormTrack(t['x1'])}
    sum((o * weighting(o)).sum() for o in outs.values()).backward()
    res = {'out.' + k: o.detach().flatten().tolist() for k, o in outs.items()}
    for k, p in net.named_parameters(): res['grad.' + k] = p.grad.flatten().tolist()
    for k, x in t.items(): res['grad.input.' + k] = x.grad.flatten().tolist()
    return res
def train_net(net):
    net.train()
    res = {}
    x2, x1 = inp('x2', False), inp('x1', False)
    for k in range(3):
        res['train%d.inorm' % k] = net.inorm(x2 * (k + 1) + k).detach().flatten().tolist()
        res['train%d.inormTrack' % k] = net.inormTrack(x1 * (k + 1) - k).detach().flatten().tolist()
    for k, b in net.named_buffers(): res['buffer.' + k] = b.double().flatten().tolist()
    net.eval()
    with torch.no_grad():
        res['eval.inorm'] = net.inorm(x2).flatten().tolist()
        res['eval.inormTrack'] = net.inormTrack(x1).flatten().tolist()
    return res
def perturb(net):
    with torch.no_grad():
        for p in net.parameters(): p.add_(torch.randn_like(p) * 0.2)
        for k, b in net.named_buffers():
            if k.endswith('running_mean'): b.add_(torch.randn_like(b) * 0.2)
            if k.endswith('running_var'): b.copy_(torch.rand_like(b) + 0.5)
`;

const makeInput = (n: string, grad = true): Tensor => toTensor(NET_INPUTS[n], grad);

function runNet(net: Net): Record<string, number[]> {
  net.eval();
  net.zeroGrad();
  return tidy(() => {
    const t = Object.fromEntries(Object.keys(NET_INPUTS).map((n) => [n, makeInput(n)]));
    const outs: Record<string, Tensor> = {
      prelu: net.prelu.forward(t.x2), bil: net.bil.forward(t.a, t.b), bilNoBias: net.bilNoBias.forward(t.c, t.d), inorm: net.inorm.forward(t.x2),
      inormUnbatched: net.inorm.forward(t.x2u), inorm1: net.inorm1.forward(t.x1), inormTrack: net.inormTrack.forward(t.x1),
    };
    expect(Object.keys(outs)).toEqual(NET_OUTPUTS);
    let loss = zeros([], { dtype: 'float64' });
    for (const o of Object.values(outs)) loss = loss.add(o.mul(tensor(Float64Array.from(weighting(o.numel(), 7, 3)), { shape: o.shape })).sum());
    loss.backward();
    const res: Record<string, number[]> = {};
    for (const [k, o] of Object.entries(outs)) res[`out.${k}`] = vals(o);
    for (const [k, p] of net.namedParameters()) res[`grad.${k}`] = vals(p.grad as Tensor);
    for (const [k, x] of Object.entries(t)) res[`grad.input.${k}`] = vals(x.grad as Tensor);
    net.zeroGrad();
    return res;
  });
}

function trainNet(net: Net): Record<string, number[]> {
  net.train();
  return tidy(() => {
    const res: Record<string, number[]> = {};
    const [x2, x1] = [makeInput('x2', false), makeInput('x1', false)];
    for (let k = 0; k < 3; k++) {
      res[`train${k}.inorm`] = vals(net.inorm.forward(x2.mul(k + 1).add(k)));
      res[`train${k}.inormTrack`] = vals(net.inormTrack.forward(x1.mul(k + 1).sub(k)));
    }
    for (const [k, b] of net.namedBuffers()) res[`buffer.${k}`] = vals(b);
    net.eval();
    noGrad(() => {
      res['eval.inorm'] = vals(net.inorm.forward(x2));
      res['eval.inormTrack'] = vals(net.inormTrack.forward(x1));
    });
    return res;
  });
}

function expectSame(ours: Record<string, number[]>, theirs: Record<string, number[]>, tol: number): void {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  for (const [k, v] of Object.entries(theirs)) expect(maxDiff(ours[k], v), k).toBeLessThan(tol);
}

describe.skipIf(!hasTorch)('PReLU, Bilinear, InstanceNorm and PyTorch (needs /usr/bin/python3 with torch)', () => {
  it("same state-dict keys and shapes; ours load strictly into PyTorch's modules and theirs into ours, with equal outputs, gradients and running statistics", async () => {
    manualSeed(3);
    const net = new Net();
    const back = new Net();
    try {
      noGrad(() => tidy(() => {
        for (const p of net.parameters()) p.add_(randn(p.shape, { dtype: 'float64' }).mul(0.2));
        for (const [k, b] of net.namedBuffers()) {
          if (k.endsWith('running_mean')) b.add_(randn(b.shape, { dtype: 'float64' }).mul(0.2));
          if (k.endsWith('running_var')) b.copy_(rand(b.shape, { dtype: 'float64' }).add(0.5));
        }
      }));
      const r = await stateDictRoundTrip(net, back, {
        dir: tmp, run: (n) => ({ run: runNet(n), train: trainNet(n) }), pyNet: PY_NET,
        pyRun: "lambda n: {'run': run_net(n), 'train': train_net(n)}", pyPerturb: 'perturb(t)',
      });
      expect(r.keys.map(([k]) => k)).toContain('inorm.num_batches_tracked');
      expectSame(r.ours.run, r.mine.run, 1e-10);
      expectSame(r.ours.train, r.mine.train, 1e-10);
      expect(r.ours.train['buffer.inorm.num_batches_tracked']).toEqual([0]);
      // ... and back: PyTorch's state dict loads strictly into ours and gives PyTorch's results
      expectSame(r.back.run, r.theirs.run, 1e-10);
      expectSame(r.back.train, r.theirs.train, 1e-10);
      expect(maxDiff(r.back.run['out.bil'], r.ours.run['out.bil'])).toBeGreaterThan(1e-3); // other weights, other outputs
    } finally {
      net.dispose();
      back.dispose();
    }
  }, 120_000);

  it('Bilinear and PReLU start from the values PyTorch draws from the same seed (float32 and float64)', async () => {
    manualSeed(11);
    const bil = new nn.Bilinear(4, 5, 6);
    const bil64 = new nn.Bilinear(3, 2, 4, { bias: false, dtype: 'float64' });
    const pr = new nn.PReLU(5, -0.3);
    try {
      const ours = tidy(() => {
        const dict = (m: nn.Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, vals(t)]));
        return { bil: dict(bil), bil64: dict(bil64), pr: dict(pr), after: vals(rand([5])) };
      });
      const theirs = JSON.parse(
        await py(`
import json, torch, torch.nn as nn
torch.manual_seed(11)
bil = nn.Bilinear(4, 5, 6)
bil64 = nn.Bilinear(3, 2, 4, bias=False, dtype=torch.float64)
pr = nn.PReLU(5, -0.3)
d = lambda m: {k: v.flatten().tolist() for k, v in m.state_dict().items()}
print(json.dumps({'bil': d(bil), 'bil64': d(bil64), 'pr': d(pr), 'after': torch.rand(5).tolist()}))
`),
      ) as typeof ours;
      for (const name of ['bil', 'bil64', 'pr'] as const) {
        expect(Object.keys(ours[name]), name).toEqual(Object.keys(theirs[name]));
        for (const k of Object.keys(theirs[name])) expect(maxDiff(ours[name][k], theirs[name][k]), `${name}.${k}`).toBeLessThan(name === 'bil64' ? 1e-12 : 1e-6);
      }
      expect(maxDiff(ours.after, theirs.after)).toBeLessThan(1e-7);
      const bound = 1 / Math.sqrt(4);
      expect(Math.max(...ours.bil.weight.map(Math.abs))).toBeLessThanOrEqual(bound);
    } finally {
      for (const m of [bil, bil64, pr]) m.dispose();
    }
  }, 60_000);
});

// ---------------------------------------------------------------- errors

describe('argument errors name the op, the argument and what was expected; the process keeps working', () => {
  it('functions', () => {
    const before = memory().tensors;
    tidy(() => {
      const x = randn([2, 3, 4]);
      const x4 = randn([2, 3, 4, 4]);
      const cases: ErrorCase[] = [
        [() => FX.selu(tensor([1n, 2n])), TypeError, /^selu: expected a floating-point tensor for input but received int64/],
        [() => FX.logsigmoid(3 as never), TypeError, /^logsigmoid: expected a Tensor for input but received 3 \(number\)/],
        [() => FX.celu(x, { alpha: 0 }), RangeError, /^celu: expected a nonzero number \(the input is divided by it\) for alpha but received 0/],
        [() => FX.celu(x, { alpah: 1 } as never), TypeError, /^celu: unknown option 'alpah'; did you mean 'alpha'\? \(known: alpha\)/],
        [() => FX.glu(randn([2, 3])), RangeError, /^glu: expected an even size in dimension -1 \(glu halves it\) for input but received shape \[2, 3\]/],
        [() => FX.glu(randn([2, 4]), 2), RangeError, /^glu: expected an integer between -2 and 1 for dim but received 2/],
        [() => FX.glu(randn([])), RangeError, /^glu: expected at least 1 dimension \(glu halves one\) for input but received shape \[\]/],
        [() => FX.softshrink(x, -1), RangeError, /^softshrink: expected a number >= 0 for lambd but received -1/],
        [() => FX.hardshrink(x, NaN), TypeError, /^hardshrink: expected a finite number for lambd but received NaN/],
        [() => FX.softmin(x, 3), RangeError, /^softmin: expected an integer between -3 and 2 for dim but received 3/],
        [() => FX.softmin(tensor([1n, 2n]), 0), TypeError, /^softmin: expected a floating-point tensor for input \(or an integer one with a floating dtype option\) but received int64/],
        [() => FX.softmin(x, 0, { dtype: 'int64' as never }), TypeError, /^softmin: expected one of "float32", "float64", "float16", "bfloat16" for dtype but received "int64"/],
        [() => FX.rrelu(x, { lower: 0.5, upper: 0.1 }), RangeError, /^rrelu: expected a number >= lower \(0\.5\) for upper but received 0\.1/],
        [() => FX.rrelu(x, { inplace: true } as never), TypeError, /^rrelu: unknown option 'inplace' \(known: lower, upper, training\)/],
        [() => FX.rrelu(x, { training: 1 as never }), TypeError, /^rrelu: expected a boolean for training but received 1/],
        [() => FX.prelu(x, ones([4])), RangeError, /^prelu: expected a scalar or a 1-d tensor of 1 element or 3 \(one per channel, dim 1 of input \[2, 3, 4\]\) for weight but received shape \[4\]/],
        [() => FX.prelu(randn([4]), ones([4])), RangeError, /^prelu: expected a scalar or a 1-d tensor of 1 element \(input \[4\] has no channel dimension\) for weight but received shape \[4\]/],
        [() => FX.prelu(x, ones([1, 1])), RangeError, /for weight but received shape \[1, 1\]/],
        [() => FX.prelu(x, ones([1], { dtype: 'float64' })), TypeError, /^prelu: expected weight of input's dtype float32 but received float64/],
        [() => FX.instanceNorm(randn([2, 3])), RangeError, /^instanceNorm: expected more than 1 spatial element per channel \(dims 2 and on\) when useInputStats is true for input but received shape \[2, 3\]/],
        [() => FX.instanceNorm(randn([2, 3, 1, 1])), RangeError, /^instanceNorm: expected more than 1 spatial element/],
        [() => FX.instanceNorm(randn([3])), RangeError, /^instanceNorm: expected at least 2 dimensions \(N, C, \.\.\.\) for input but received shape \[3\]/],
        [() => FX.instanceNorm(x, { weight: ones([4]) }), RangeError, /^instanceNorm: expected shape \[3\] \(one per channel of input \[2, 3, 4\]\) for weight but received shape \[4\]/],
        [() => FX.instanceNorm(x, { runningMean: zeros([3]), runningVar: ones([2]) }), RangeError, /^instanceNorm: expected shape \[3\] .* for runningVar but received shape \[2\]/],
        [() => FX.instanceNorm(x, { bias: zeros([3], { dtype: 'float64' }) }), TypeError, /^instanceNorm: expected bias of input's dtype float32 but received float64/],
        [() => FX.instanceNorm(x, { useInputStats: false }), TypeError, /^instanceNorm: expected Tensors when useInputStats is false \(the input is normalised with them\) for runningMean and runningVar but received null/],
        [() => FX.instanceNorm(x, { momentum: 2 }), RangeError, /^instanceNorm: expected a number in \[0, 1\] for momentum but received 2/],
        [() => FX.instanceNorm(x, { use_input_stats: false } as never), TypeError, /^instanceNorm: unknown option 'use_input_stats'; did you mean 'useInputStats'\?/],
        [() => FX.pixelShuffle(randn([2, 6, 3, 3]), 2), RangeError, /^pixelShuffle: expected a channel count \(dim -3\) divisible by upscaleFactor² = 4 for input but received shape \[2, 6, 3, 3\]/],
        [() => FX.pixelShuffle(randn([8, 3]), 2), RangeError, /^pixelShuffle: expected at least 3 dimensions \(\.\.\., C·r², H, W\) for input but received shape \[8, 3\]/],
        [() => FX.pixelShuffle(x4, 0), RangeError, /^pixelShuffle: expected an integer between 1 and \d+ for upscaleFactor but received 0/],
        [() => FX.pixelShuffle(x4, 1.5), TypeError, /^pixelShuffle: expected an integer for upscaleFactor but received 1\.5/],
        [() => FX.pixelUnshuffle(randn([2, 2, 5, 6]), 2), RangeError, /^pixelUnshuffle: expected a height and width \(dims -2, -1\) divisible by downscaleFactor 2 for input but received shape \[2, 2, 5, 6\]/],
        [() => FX.channelShuffle(randn([2, 6, 3, 3]), 4), RangeError, /^channelShuffle: expected a channel count \(dim 1\) divisible by groups 4 for input but received shape \[2, 6, 3, 3\]/],
        [() => FX.channelShuffle(randn([2, 6]), 3), RangeError, /^channelShuffle: expected at least 3 dimensions \(N, C, \.\.\.\) for input but received shape \[2, 6\]/],
        [() => FX.unfold(randn([5, 6]), 2), RangeError, /^unfold: expected a 4-d \(N, C, H, W\) or 3-d \(C, H, W\) tensor for input but received shape \[5, 6\]/],
        [() => FX.unfold(x4, 7), RangeError, /^unfold: expected a spatial size of at least \[7, 7\] for kernelSize \[7, 7\], dilation \[1, 1\], padding \[0, 0\], stride \[1, 1\] for input but received shape \[2, 3, 4, 4\]/],
        [() => FX.unfold(randn([2, 0, 4, 4]), 2), RangeError, /^unfold: expected nonzero C, H and W for input/],
        [() => FX.unfold(x4, [2, 2, 2] as never), TypeError, /^unfold: expected an integer or a pair of integers for kernelSize but received \[2, 2, 2\]/],
        [() => FX.unfold(x4, 2, { stride: 0 }), RangeError, /^unfold: expected an integer between 1 and \d+ for stride but received 0/],
        [() => FX.unfold(x4, 2, { padding: [1, -1] }), RangeError, /^unfold: expected an integer between 0 and \d+ for padding\[1\] but received -1/],
        [() => FX.unfold(x4, 2, { dilations: 2 } as never), TypeError, /^unfold: unknown option 'dilations'; did you mean 'dilation'\?/],
        [() => FX.unfold(tensor([[[[1n]]]]), 1), TypeError, /^unfold: expected a floating-point tensor for input but received int64/],
        [() => FX.fold(randn([2, 12, 19]), [5, 6], 2), RangeError, /^fold: expected 20 blocks \(4 × 5\) in dimension 2, as outputSize \[5, 6\] holds with kernelSize \[2, 2\], dilation \[1, 1\], padding \[0, 0\], stride \[1, 1\] for input but received shape \[2, 12, 19\]/],
        [() => FX.fold(randn([2, 13, 20]), [5, 6], 2), RangeError, /^fold: expected a size in dimension 1 divisible by the kernel's 4 elements \(C·kH·kW with kernelSize \[2, 2\]\) for input but received shape \[2, 13, 20\]/],
        [() => FX.fold(randn([2, 12, 20]), 1, 2), RangeError, /^fold: expected a size that holds at least one block \(kernelSize \[2, 2\], .*\) for outputSize but received \[1, 1\]/],
        [() => FX.fold(randn([1, 2, 12, 20]), [5, 6], 2), RangeError, /^fold: expected a 3-d \(N, C·kH·kW, L\) or 2-d \(C·kH·kW, L\) tensor for input but received shape \[1, 2, 12, 20\]/],
        [() => FX.fold(randn([2, 12, 20]), [5, 6], 2, { strides: 1 } as never), TypeError, /^fold: unknown option 'strides'; did you mean 'stride'\?/],
        [() => FX.bilinear(randn([2, 4]), randn([2, 5]), randn([6, 4])), RangeError, /^bilinear: expected a 3-d tensor \(outFeatures, in1Features, in2Features\) for weight but received shape \[6, 4\]/],
        [() => FX.bilinear(randn([2, 3]), randn([2, 5]), randn([6, 4, 5])), RangeError, /^bilinear: expected a last dimension of 4 \(the in1Features of weight \[6, 4, 5\]\) for input1 but received shape \[2, 3\]/],
        [() => FX.bilinear(randn([2, 4]), randn([2, 6]), randn([6, 4, 5])), RangeError, /^bilinear: expected a last dimension of 5 \(the in2Features of weight \[6, 4, 5\]\) for input2 but received shape \[2, 6\]/],
        [() => FX.bilinear(randn([2, 4]), randn([3, 5]), randn([6, 4, 5])), RangeError, /^bilinear: expected the leading dimensions \[2\] of input1 \[2, 4\] for input2 but received shape \[3, 5\]/],
        [() => FX.bilinear(randn([2, 4]), randn([1, 2, 5]), randn([6, 4, 5])), RangeError, /^bilinear: expected the leading dimensions \[2\] of input1 \[2, 4\] for input2 but received shape \[1, 2, 5\]/],
        [() => FX.bilinear(randn([2, 4]), randn([2, 5]), randn([6, 4, 5]), randn([5])), RangeError, /^bilinear: expected shape \[6\] \(the outFeatures of weight \[6, 4, 5\]\) for bias but received shape \[5\]/],
        [() => FX.bilinear(randn([2, 4]), randn([2, 5], { dtype: 'float64' }), randn([6, 4, 5])), TypeError, /^bilinear: expected input2 of input1's dtype float32 but received float64/],
      ];
      expectErrors(cases);
      // the process keeps working
      expect(FX.glu(randn([2, 4])).shape).toEqual([2, 2]);
    });
    expect(memory().tensors).toBe(before);
  });

  it('modules: construction and forward', () => {
    const before = memory().tensors;
    const affine = new nn.InstanceNorm2d(4, { affine: true });
    const in1 = new nn.InstanceNorm1d(3);
    const in3 = new nn.InstanceNorm3d(3);
    const un = new nn.Unflatten(1, [2, 4]);
    const bil = new nn.Bilinear(2, 2, 2);
    try {
      tidy(() => {
        const cases: ErrorCase[] = [
          [() => new nn.CELU(0), RangeError, /^CELU: expected a nonzero number \(the input is divided by it\) for alpha but received 0/],
          [() => new nn.Softshrink(-0.1), RangeError, /^Softshrink: expected a number >= 0 for lambd but received -0\.1/],
          [() => new nn.Hardshrink('1' as never), TypeError, /^Hardshrink: expected a finite number for lambd but received "1" \(string\)/],
          [() => new nn.GLU(1.5), TypeError, /^GLU: expected an integer for dim but received 1\.5/],
          [() => new nn.Softmin(undefined as never), TypeError, /^Softmin: expected an integer, the dimension to normalise over/],
          [() => new nn.RReLU(0.4, 0.2), RangeError, /^RReLU: expected a number >= lower \(0\.4\) for upper but received 0\.2/],
          [() => new nn.PReLU(0), RangeError, /^PReLU: expected a positive integer for numParameters but received 0/],
          [() => new nn.PReLU(2, Infinity), TypeError, /^PReLU: expected a finite number for init but received Infinity/],
          [() => new nn.PReLU(2, 0.25, { dtype: 'int64' as never }), TypeError, /^PReLU: expected one of "float32", .* for dtype but received "int64"/],
          [() => new nn.PReLU(2, 0.25, { dtyp: 'float64' } as never), TypeError, /^PReLU: unknown option 'dtyp'; did you mean 'dtype'\?/],
          [() => new nn.InstanceNorm2d(3, { track_running_stats: true } as never), TypeError, /^InstanceNorm2d: unknown option 'track_running_stats'; did you mean 'trackRunningStats'\?/],
          [() => new nn.InstanceNorm2d(0), RangeError, /^InstanceNorm2d: expected a positive integer for numFeatures but received 0/],
          [() => new nn.InstanceNorm1d(3, { momentum: 2 }), RangeError, /^InstanceNorm1d: expected a number in \[0, 1\] for momentum but received 2/],
          [() => new nn.InstanceNorm3d(3, { affine: 'yes' as never }), TypeError, /^InstanceNorm3d: expected a boolean for affine but received "yes"/],
          [() => new nn.InstanceNorm3d(3, { eps: -1 }), RangeError, /^InstanceNorm3d: expected a number in \[0, Infinity\] for eps but received -1/],
          [() => new nn.PixelShuffle(0), RangeError, /^PixelShuffle: expected a positive integer for upscaleFactor but received 0/],
          [() => new nn.PixelUnshuffle(1.5), TypeError, /^PixelUnshuffle: expected a positive integer for downscaleFactor but received 1\.5/],
          [() => new nn.ChannelShuffle(-2), RangeError, /^ChannelShuffle: expected a positive integer for groups but received -2/],
          [() => new nn.Unfold([2, 2, 2] as never), TypeError, /^Unfold: expected an integer or a pair of integers for kernelSize but received \[2, 2, 2\]/],
          [() => new nn.Unfold(2, { padding: -1 }), RangeError, /^Unfold: expected an integer between 0 and \d+ for padding but received -1/],
          [() => new nn.Fold(0, 2), RangeError, /^Fold: expected an integer between 1 and \d+ for outputSize but received 0/],
          [() => new nn.Fold(4, 2, { pad: 1 } as never), TypeError, /^Fold: unknown option 'pad'/],
          [() => new nn.Bilinear(4, 5, 0), RangeError, /^Bilinear: expected a positive integer for outFeatures but received 0/],
          [() => new nn.Bilinear(4, 5, 6, { bias: 1 as never }), TypeError, /^Bilinear: expected a boolean for bias but received 1/],
          [() => new nn.Bilinear(4, 5, 6, { in1_features: 4 } as never), TypeError, /^Bilinear: unknown option 'in1_features' \(known: bias, device, dtype\)/],
          [() => new nn.Unflatten(1, [2, -1, -1]), TypeError, /^Unflatten: expected a non-empty array of sizes \(integers >= 0, at most one -1\) for unflattenedSize but received \[2, -1, -1\]/],
          [() => new nn.Unflatten(1, []), TypeError, /^Unflatten: expected a non-empty array of sizes/],
          [() => new nn.Unflatten(1, [2, -3]), RangeError, /^Unflatten: expected an integer between -1 and \d+ for unflattenedSize\[1\] but received -3/],
          [() => new nn.Unflatten('a' as never, [2]), TypeError, /^Unflatten: expected an integer for dim but received "a"/],
          [() => new nn.SELU().forward(5 as never), TypeError, /^SELU\.forward: expected a Tensor for input but received 5 \(number\)/],
          [() => bil.forward(randn([2]), null as never), TypeError, /^Bilinear\.forward: expected a Tensor for input2 but received null/],
          [() => new nn.Softmax2d().forward(randn([2, 3])), RangeError, /^Softmax2d\.forward: expected a 4-d \(N, C, H, W\) or 3-d \(C, H, W\) tensor for input but received shape \[2, 3\]/],
          [() => in1.forward(randn([2, 3, 4, 5])), RangeError, /^InstanceNorm1d\.forward: expected a 3-d \(N, C, L\) or 2-d \(C, L\) tensor for input but received shape \[2, 3, 4, 5\]/],
          [() => in3.forward(randn([3, 4, 5])), RangeError, /^InstanceNorm3d\.forward: expected a 5-d \(N, C, D, H, W\) or 4-d \(C, D, H, W\) tensor for input but received shape \[3, 4, 5\]/],
          [() => affine.forward(randn([2, 3, 4, 4])), RangeError, /^InstanceNorm2d\.forward: expected 4 channels \(numFeatures\) in dimension 1 for input but received shape \[2, 3, 4, 4\]/],
          [() => affine.forward(randn([3, 4, 4])), RangeError, /^InstanceNorm2d\.forward: expected 4 channels \(numFeatures\) in dimension 0 for input but received shape \[3, 4, 4\]/],
          [() => affine.forward(randn([2, 4, 4, 4], { dtype: 'float64' })), TypeError, /^instanceNorm: expected weight of input's dtype float64 but received float32/],
          [() => in1.forward(randn([3, 1])), RangeError, /^InstanceNorm1d\.forward: expected more than 1 spatial element per channel when normalising by the input's statistics \(training\) for input but received shape \[3, 1\]/],
          [() => un.forward(randn([3, 6])), RangeError, /^Unflatten\.forward: expected a size in dimension 1 that unflattenedSize \[2, 4\] fills for input but received shape \[3, 6\]/],
          [() => un.forward(randn([8])), RangeError, /^Unflatten\.forward: expected a dimension 1 \(dim\) to unflatten for input but received shape \[8\]/],
          [() => new nn.ChannelShuffle(4).forward(randn([2, 6, 2])), RangeError, /^channelShuffle: expected a channel count \(dim 1\) divisible by groups 4/],
        ];
        expectErrors(cases);
        // the modules still work after their errors
        expect(affine.forward(randn([2, 4, 3, 3])).shape).toEqual([2, 4, 3, 3]);
        expect(un.forward(randn([3, 8])).shape).toEqual([3, 2, 4]);
      });
    } finally {
      for (const m of [affine, in1, in3, un, bil]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

// ---------------------------------------------------------------- memory

describe('no tensor left behind', () => {
  it('the composite functions free their intermediates, outside tidy too, with and without gradients', () => {
    const x = randn([2, 6, 3, 3], { dtype: 'float64', requiresGrad: true });
    const norm = new nn.InstanceNorm2d(6, { affine: true, trackRunningStats: true });
    const m32 = randn([6, 3, 3]);
    const xd = x.detach();
    try {
      const before = memory().tensors;
      for (const f of [
        () => FX.tanhshrink(x), () => FX.softsign(x), () => FX.softmin(x, 1), () => FX.channelShuffle(x, 2),
        () => noGrad(() => FX.channelShuffle(x, 3)), () => norm.forward(m32), () => FX.instanceNorm(xd),
      ]) {
        const y = f();
        expect(y).toBeInstanceOf(Tensor);
        y.dispose();
        expect(memory().tensors, String(f)).toBe(before);
      }
      // a backward through them leaves nothing behind either
      const inner = FX.tanhshrink(x);
      const y = FX.softsign(inner);
      const s = y.sum();
      s.backward();
      for (const t of [inner, y, s]) t.dispose();
      expect(memory().tensors).toBe(before); // x.grad lives inside x
    } finally {
      x.dispose();
      xd.dispose();
      m32.dispose();
      norm.dispose();
    }
  });
});
