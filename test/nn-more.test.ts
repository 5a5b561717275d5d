// Still more of nn.functional and nn (lib/nn/functional-more.ts, lib/nn/more-layers.ts, nn.BatchNorm3d,
// nn.ParameterList/ParameterDict, F.tripletMarginWithDistanceLoss): gridSample, affineGrid, embeddingBag, the
// channel and alpha dropouts, threshold, maxUnpool1d/2d/3d, lpPool1d/2d, localResponseNorm, pdist, gumbelSoftmax and
// their modules. Against python3-torch in float64: outputs and input and weight gradients of every function with
// its modes and options (the random ones from the same seed where the kernels are the same version's); the
// EmbeddingBag, BatchNorm3d, ParameterList and ParameterDict state dicts loaded strictly both ways with equal
// outputs, gradients and running statistics, the stateless modules run beside them; EmbeddingBag's and
// BatchNorm3d's initial values from one seed. Without Python: modules equal the functions, gumbelSoftmax's
// properties, the argument errors (indices and offsets out of range refused before the kernel), no tensor left behind.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Tensor, cat, manualSeed, memory, nn, noGrad, ones, rand, randn, tensor, tidy, zeros } from '../lib';
import { maxDiff, shapes, vals, weighting } from './helpers/compare';
import { describeFunctionsAgainstTorch, type FCase } from './helpers/fcases';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { stateDictRoundTrip } from './helpers/roundtrip';
import { floats, ints, toTensor } from './helpers/specs';
import { hasTorch, py, PY_TENSOR_OF, type PyTensor } from './helpers/torchpy';

const F = nn.functional;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-more-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => manualSeed(0));

/** A spec without gradient. */
const noGradOf = (s: PyTensor): PyTensor => ({ ...s, grad: false });
/** Positive values |v| + 0.2 (for fractional powers). */
const positive = (s: PyTensor): PyTensor => ({ ...s, data: s.data.map((v) => Math.abs(v) + 0.2) });

// ---------------------------------------------------------------- functions against PyTorch


const IMG = floats([2, 3, 4, 5], 1);
const GRID2 = floats([2, 3, 4, 2], 2, 1.2);
const VOL = floats([2, 2, 3, 4, 3], 3);
const GRID3 = floats([2, 2, 3, 2, 3], 4, 1.2);
const W = floats([10, 3], 5);
const IDX2 = ints([3, 4], 0, 10, 6);
const IDX1 = ints([7], 0, 10, 7);

const GRID_CASES: FCase[] = [];
for (const mode of ['bilinear', 'nearest', 'bicubic'] as const) {
  for (const paddingMode of ['zeros', 'border', 'reflection'] as const) {
    for (const alignCorners of [false, true]) {
      GRID_CASES.push({
        name: `gridSample 4-d ${mode} ${paddingMode} ${alignCorners}`, inputs: { x: IMG, g: GRID2 },
        py: `F.grid_sample(x, g, mode='${mode}', padding_mode='${paddingMode}', align_corners=${alignCorners ? 'True' : 'False'})`,
        ts: ({ x, g }) => F.gridSample(x, g, { mode, paddingMode, alignCorners }),
      });
      if (mode !== 'bicubic') {
        GRID_CASES.push({
          name: `gridSample 5-d ${mode} ${paddingMode} ${alignCorners}`, inputs: { x: VOL, g: GRID3 },
          py: `F.grid_sample(x, g, mode='${mode}', padding_mode='${paddingMode}', align_corners=${alignCorners ? 'True' : 'False'})`,
          ts: ({ x, g }) => F.gridSample(x, g, { mode, paddingMode, alignCorners }),
        });
      }
    }
  }
}

const CASES: FCase[] = [
  ...GRID_CASES,
  { name: 'gridSample defaults', inputs: { x: IMG, g: GRID2 }, py: 'F.grid_sample(x, g, align_corners=False)', ts: ({ x, g }) => F.gridSample(x, g) },
  { name: 'affineGrid 4-d', inputs: { t: floats([2, 2, 3], 8) }, py: 'F.affine_grid(t, [2, 3, 4, 5], align_corners=False)', ts: ({ t }) => F.affineGrid(t, [2, 3, 4, 5]) },
  { name: 'affineGrid 4-d alignCorners', inputs: { t: floats([2, 2, 3], 9) }, py: 'F.affine_grid(t, [2, 1, 3, 1], align_corners=True)', ts: ({ t }) => F.affineGrid(t, [2, 1, 3, 1], { alignCorners: true }) },
  { name: 'affineGrid 5-d', inputs: { t: floats([1, 3, 4], 10) }, py: 'F.affine_grid(t, [1, 2, 3, 4, 2], align_corners=False)', ts: ({ t }) => F.affineGrid(t, [1, 2, 3, 4, 2]) },
  { name: 'affineGrid 5-d alignCorners', inputs: { t: floats([2, 3, 4], 11) }, py: 'F.affine_grid(t, [2, 1, 2, 3, 3], align_corners=True)', ts: ({ t }) => F.affineGrid(t, [2, 1, 2, 3, 3], { alignCorners: true }) },
  {
    name: 'spatial transformer: gridSample of affineGrid', inputs: { x: IMG, t: floats([2, 2, 3], 12, 0.8) },
    py: "F.grid_sample(x, F.affine_grid(t, list(x.shape), align_corners=False), padding_mode='border', align_corners=False)",
    ts: ({ x, t }) => F.gridSample(x, F.affineGrid(t, x.shape), { paddingMode: 'border' }),
  },
  // ---- embeddingBag
  { name: 'embeddingBag 2-d mean', inputs: { i: IDX2, w: W }, py: 'F.embedding_bag(i, w)', ts: ({ i, w }) => F.embeddingBag(i, w) },
  { name: 'embeddingBag offsets sum', inputs: { i: IDX1, w: W }, py: "F.embedding_bag(i, w, torch.tensor([0, 2, 5]), mode='sum')", ts: ({ i, w }) => F.embeddingBag(i, w, tensor([0n, 2n, 5n]), { mode: 'sum' }) },
  { name: 'embeddingBag offsets max', inputs: { i: IDX1, w: W }, py: "F.embedding_bag(i, w, torch.tensor([0, 3, 4]), mode='max')", ts: ({ i, w }) => F.embeddingBag(i, w, tensor([0n, 3n, 4n]), { mode: 'max' }) },
  {
    name: 'embeddingBag empty bags mean and max', inputs: { i: IDX1, w: W },
    py: "torch.cat([F.embedding_bag(i, w, torch.tensor([0, 2, 2, 7]), mode='mean'), F.embedding_bag(i, w, torch.tensor([0, 0, 4]), mode='max')])",
    ts: ({ i, w }) => cat([F.embeddingBag(i, w, tensor([0n, 2n, 2n, 7n])), F.embeddingBag(i, w, tensor([0n, 0n, 4n]), { mode: 'max' })]),
  },
  {
    name: 'embeddingBag perSampleWeights 2-d', inputs: { i: IDX2, w: W, s: floats([3, 4], 13) },
    py: "F.embedding_bag(i, w, mode='sum', per_sample_weights=s)", ts: ({ i, w, s }) => F.embeddingBag(i, w, null, { mode: 'sum', perSampleWeights: s }),
  },
  {
    name: 'embeddingBag perSampleWeights offsets includeLastOffset', inputs: { i: IDX1, w: W, s: floats([7], 14) },
    py: "F.embedding_bag(i, w, torch.tensor([0, 1, 4, 7]), mode='sum', per_sample_weights=s, include_last_offset=True)",
    ts: ({ i, w, s }) => F.embeddingBag(i, w, tensor([0n, 1n, 4n, 7n]), { mode: 'sum', perSampleWeights: s, includeLastOffset: true }),
  },
  {
    name: 'embeddingBag includeLastOffset mean', inputs: { i: IDX1, w: W },
    py: 'F.embedding_bag(i, w, torch.tensor([0, 3, 7]), include_last_offset=True)', ts: ({ i, w }) => F.embeddingBag(i, w, tensor([0n, 3n, 7n]), { includeLastOffset: true }),
  },
  {
    name: 'embeddingBag paddingIdx mean', inputs: { i: { data: [1, 3, 3, 0, 3, 3, 2, 5], shape: [2, 4], dtype: 'int64' }, w: W },
    py: 'F.embedding_bag(i, w, padding_idx=3)', ts: ({ i, w }) => F.embeddingBag(i, w, null, { paddingIdx: 3 }),
  },
  {
    name: 'embeddingBag negative paddingIdx sum and max', inputs: { i: { data: [9, 1, 9, 9, 4, 9], shape: [6], dtype: 'int64' }, w: W },
    py: "torch.cat([F.embedding_bag(i, w, torch.tensor([0, 2, 4]), mode='sum', padding_idx=-1), F.embedding_bag(i, w, torch.tensor([0, 3]), mode='max', padding_idx=-1)])",
    ts: ({ i, w }) => cat([F.embeddingBag(i, w, tensor([0n, 2n, 4n]), { mode: 'sum', paddingIdx: -1 }), F.embeddingBag(i, w, tensor([0n, 3n]), { mode: 'max', paddingIdx: -1 })]),
  },
  { name: 'embeddingBag int32', inputs: { i: ints([7], 0, 10, 15, 'int32'), w: W }, py: 'F.embedding_bag(i, w, torch.tensor([0, 4], dtype=torch.int32))', ts: ({ i, w }) => F.embeddingBag(i, w, tensor([0, 4], { dtype: 'int32' })) },
  { name: 'embeddingBag scaleGradByFreq', inputs: { i: { data: [1, 1, 1, 2, 4, 1], shape: [2, 3], dtype: 'int64' }, w: W }, py: "F.embedding_bag(i, w, mode='sum', scale_grad_by_freq=True)", ts: ({ i, w }) => F.embeddingBag(i, w, null, { mode: 'sum', scaleGradByFreq: true }) },
  {
    // maxNorm renormalises the rows looked up in weight itself: the output and the weight after the call
    name: 'embeddingBag maxNorm', inputs: { i: IDX2, w: noGradOf(floats([10, 3], 16, 2)) },
    py: 'torch.cat([F.embedding_bag(i, w, max_norm=1.0, norm_type=1.5).flatten(), w.flatten()])',
    ts: ({ i, w }) => cat([F.embeddingBag(i, w, null, { maxNorm: 1, normType: 1.5 }).flatten(), w.flatten()]),
  },
  // ---- dropouts and threshold (identity out of training; the same draws from the same seed in training)
  { name: 'dropout1d eval', inputs: { x: floats([2, 3, 4], 17) }, py: 'F.dropout1d(x, 0.4, training=False)', ts: ({ x }) => F.dropout1d(x, { p: 0.4, training: false }) },
  { name: 'alphaDropout default (eval)', inputs: { x: floats([2, 3, 4], 18) }, py: 'F.alpha_dropout(x, 0.4)', ts: ({ x }) => F.alphaDropout(x, { p: 0.4 }) },
  { name: 'dropout1d train', inputs: { x: floats([4, 6, 3], 19) }, py: 'F.dropout1d(x, 0.4)', ts: ({ x }) => F.dropout1d(x, { p: 0.4 }), seed: 3, sameVersionOnly: true },
  { name: 'dropout1d train unbatched', inputs: { x: floats([6, 3], 20) }, py: 'F.dropout1d(x, 0.5)', ts: ({ x }) => F.dropout1d(x), seed: 4, sameVersionOnly: true },
  { name: 'dropout3d train', inputs: { x: floats([2, 5, 2, 2, 2], 21) }, py: 'F.dropout3d(x, 0.3)', ts: ({ x }) => F.dropout3d(x, { p: 0.3 }), seed: 5, sameVersionOnly: true },
  { name: 'dropout3d train unbatched', inputs: { x: floats([5, 2, 2, 2], 22) }, py: 'F.dropout3d(x, 0.3)', ts: ({ x }) => F.dropout3d(x, { p: 0.3 }), seed: 6, sameVersionOnly: true },
  { name: 'alphaDropout train', inputs: { x: floats([4, 8], 23) }, py: 'F.alpha_dropout(x, 0.3, training=True)', ts: ({ x }) => F.alphaDropout(x, { p: 0.3, training: true }), seed: 7, sameVersionOnly: true },
  { name: 'featureAlphaDropout train', inputs: { x: floats([3, 4, 2, 2], 24) }, py: 'F.feature_alpha_dropout(x, 0.5, training=True)', ts: ({ x }) => F.featureAlphaDropout(x, { training: true }), seed: 8, sameVersionOnly: true },
  { name: 'threshold', inputs: { x: floats([3, 5], 25, 2) }, py: 'F.threshold(x, 0.3, -2.5)', ts: ({ x }) => F.threshold(x, 0.3, -2.5) },
  // ---- unpooling
  { name: 'maxUnpool1d', inputs: { x: floats([2, 3, 8], 26) }, py: 'F.max_unpool1d(*F.max_pool1d(x, 2, return_indices=True), 2)', ts: ({ x }) => F.maxUnpool1d(...F.maxPool1d(x, 2, { returnIndices: true }), 2) },
  {
    name: 'maxUnpool1d stride padding outputSize unbatched', inputs: { x: floats([3, 9], 27) },
    py: 'F.max_unpool1d(*F.max_pool1d(x, 3, 2, 1, return_indices=True), 3, 2, 1, output_size=[9])',
    ts: ({ x }) => F.maxUnpool1d(...F.maxPool1d(x, 3, { stride: 2, padding: 1, returnIndices: true }), 3, { stride: 2, padding: 1, outputSize: [9] }),
  },
  { name: 'maxUnpool2d', inputs: { x: floats([2, 2, 4, 6], 28) }, py: 'F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2)', ts: ({ x }) => F.maxUnpool2d(...F.maxPool2d(x, 2, { returnIndices: true }), 2) },
  {
    name: 'maxUnpool2d outputSize with N and C, stride', inputs: { x: floats([1, 2, 5, 7], 29) },
    py: 'F.max_unpool2d(*F.max_pool2d(x, (2, 3), (2, 2), return_indices=True), (2, 3), (2, 2), output_size=x.shape)',
    ts: ({ x }) => F.maxUnpool2d(...F.maxPool2d(x, [2, 3], { stride: [2, 2], returnIndices: true }), [2, 3], { stride: [2, 2], outputSize: x.shape }),
  },
  { name: 'maxUnpool2d unbatched', inputs: { x: floats([2, 4, 4], 30) }, py: 'F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2)', ts: ({ x }) => F.maxUnpool2d(...F.maxPool2d(x, 2, { returnIndices: true }), 2) },
  { name: 'maxUnpool3d', inputs: { x: floats([1, 2, 4, 4, 6], 31) }, py: 'F.max_unpool3d(*F.max_pool3d(x, 2, return_indices=True), 2)', ts: ({ x }) => F.maxUnpool3d(...F.maxPool3d(x, 2, { returnIndices: true }), 2) },
  {
    name: 'maxUnpool3d stride padding outputSize unbatched', inputs: { x: floats([2, 5, 4, 5], 32) },
    py: 'F.max_unpool3d(*F.max_pool3d(x, 3, 2, 1, return_indices=True), 3, 2, 1, output_size=[5, 4, 5])',
    ts: ({ x }) => F.maxUnpool3d(...F.maxPool3d(x, 3, { stride: 2, padding: 1, returnIndices: true }), 3, { stride: 2, padding: 1, outputSize: [5, 4, 5] }),
  },
  // ---- power-average pooling, local response normalisation
  { name: 'lpPool1d p2', inputs: { x: floats([2, 3, 7], 33) }, py: 'F.lp_pool1d(x, 2, 3)', ts: ({ x }) => F.lpPool1d(x, 2, 3) },
  { name: 'lpPool1d p1.5 stride ceil unbatched', inputs: { x: positive(floats([3, 8], 34)) }, py: 'F.lp_pool1d(x, 1.5, 3, stride=2, ceil_mode=True)', ts: ({ x }) => F.lpPool1d(x, 1.5, 3, { stride: 2, ceilMode: true }) },
  { name: 'lpPool2d p3', inputs: { x: positive(floats([2, 2, 5, 6], 35)) }, py: 'F.lp_pool2d(x, 3, (2, 3))', ts: ({ x }) => F.lpPool2d(x, 3, [2, 3]) },
  { name: 'lpPool2d p2 stride ceil', inputs: { x: floats([1, 2, 5, 5], 36) }, py: 'F.lp_pool2d(x, 2, 2, stride=(2, 1), ceil_mode=True)', ts: ({ x }) => F.lpPool2d(x, 2, 2, { stride: [2, 1], ceilMode: true }) },
  { name: 'localResponseNorm 3-d', inputs: { x: floats([2, 5, 4], 37, 3) }, py: 'F.local_response_norm(x, 3)', ts: ({ x }) => F.localResponseNorm(x, 3) },
  { name: 'localResponseNorm 4-d options', inputs: { x: floats([2, 6, 3, 3], 38, 3) }, py: 'F.local_response_norm(x, 4, alpha=0.1, beta=0.6, k=2.0)', ts: ({ x }) => F.localResponseNorm(x, 4, { alpha: 0.1, beta: 0.6, k: 2 }) },
  { name: 'localResponseNorm 5-d size > C', inputs: { x: floats([1, 3, 2, 3, 2], 39, 3) }, py: 'F.local_response_norm(x, 5, alpha=0.5)', ts: ({ x }) => F.localResponseNorm(x, 5, { alpha: 0.5 }) },
  // ---- pdist
  { name: 'pdist', inputs: { x: floats([5, 3], 40) }, py: 'F.pdist(x)', ts: ({ x }) => F.pdist(x) },
  { name: 'pdist p1', inputs: { x: floats([4, 6], 41) }, py: 'F.pdist(x, 1)', ts: ({ x }) => F.pdist(x, 1) },
  { name: 'pdist p3', inputs: { x: floats([4, 2], 42) }, py: 'F.pdist(x, 3)', ts: ({ x }) => F.pdist(x, 3) },
  { name: 'pdist inf', inputs: { x: floats([4, 3], 43) }, py: "F.pdist(x, float('inf'))", ts: ({ x }) => F.pdist(x, Infinity) },
  // ---- gumbelSoftmax (the same Gumbel draws from the same seed)
  { name: 'gumbelSoftmax', inputs: { x: floats([3, 5], 44) }, py: 'F.gumbel_softmax(x)', ts: ({ x }) => F.gumbelSoftmax(x), seed: 9, sameVersionOnly: true },
  { name: 'gumbelSoftmax tau dim', inputs: { x: floats([4, 3, 2], 45) }, py: 'F.gumbel_softmax(x, tau=0.5, dim=1)', ts: ({ x }) => F.gumbelSoftmax(x, { tau: 0.5, dim: 1 }), seed: 10, sameVersionOnly: true },
  { name: 'gumbelSoftmax hard', inputs: { x: floats([3, 4], 46) }, py: 'F.gumbel_softmax(x, tau=2.0, hard=True)', ts: ({ x }) => F.gumbelSoftmax(x, { tau: 2, hard: true }), seed: 11, sameVersionOnly: true },
  // ---- tripletMarginWithDistanceLoss
  {
    name: 'tripletMarginWithDistanceLoss default', inputs: { a: floats([4, 3], 47), p: floats([4, 3], 48), n: floats([4, 3], 49) },
    py: 'F.triplet_margin_with_distance_loss(a, p, n)', ts: ({ a, p, n }) => F.tripletMarginWithDistanceLoss(a, p, n),
  },
  {
    name: 'tripletMarginWithDistanceLoss swap none', inputs: { a: floats([5, 2], 50), p: floats([5, 2], 51, 2), n: floats([5, 2], 52) },
    py: "F.triplet_margin_with_distance_loss(a, p, n, margin=2.0, swap=True, reduction='none')", ts: ({ a, p, n }) => F.tripletMarginWithDistanceLoss(a, p, n, { margin: 2, swap: true, reduction: 'none' }),
  },
  {
    name: 'tripletMarginWithDistanceLoss cosine distance sum', inputs: { a: floats([4, 3], 53), p: floats([4, 3], 54), n: floats([4, 3], 55) },
    py: "F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda x, y: 1 - F.cosine_similarity(x, y), margin=0.7, swap=True, reduction='sum')",
    ts: ({ a, p, n }) => F.tripletMarginWithDistanceLoss(a, p, n, { distanceFunction: (x, y) => F.cosineSimilarity(x, y).neg().add(1), margin: 0.7, swap: true, reduction: 'sum' }),
  },
];

describeFunctionsAgainstTorch(CASES);

describe('the gridSample cases', () => {
  it('cover every mode, padding mode and alignCorners of gridSample (4-d: 18, 5-d: 12)', () => {
    expect(GRID_CASES.length).toBe(30);
  });
});

// ---------------------------------------------------------------- properties without Python

describe('random ops: properties', () => {
  it('gumbelSoftmax: rows on the simplex; hard gives one-hot rows at the soft argmax with the soft gradient; the same seed gives the same sample', () => {
    const before = memory().tensors;
    tidy(() => {
      const logits = randn([6, 5], { dtype: 'float64' });
      manualSeed(1);
      const soft = F.gumbelSoftmax(logits, { tau: 0.7 });
      manualSeed(1);
      const again = F.gumbelSoftmax(logits, { tau: 0.7 });
      expect(vals(again)).toEqual(vals(soft));
      expect(vals(soft).every((v) => v > 0 && v < 1)).toBe(true);
      expect(maxDiff(vals(soft.sum(-1)), new Array(6).fill(1))).toBeLessThan(1e-12);
      const x = logits.detach().requiresGrad_(true);
      manualSeed(2);
      const hard = F.gumbelSoftmax(x, { hard: true, dim: 1 });
      manualSeed(2);
      const x2 = logits.detach().requiresGrad_(true);
      const soft2 = F.gumbelSoftmax(x2, { dim: 1 });
      const h = vals(hard);
      const s = vals(soft2);
      for (let r = 0; r < 6; r++) {
        const row = h.slice(r * 5, r * 5 + 5);
        const srow = s.slice(r * 5, r * 5 + 5);
        expect(row.filter((v) => v === 1).length).toBe(1);
        expect(row.filter((v) => v === 0).length).toBe(4);
        expect(row.indexOf(1)).toBe(srow.indexOf(Math.max(...srow)));
      }
      const w = randn([6, 5], { dtype: 'float64' });
      hard.mul(w).sum().backward();
      soft2.mul(w).sum().backward();
      expect(maxDiff(vals(x.grad as Tensor), vals(x2.grad as Tensor))).toBeLessThan(1e-12);
    });
    expect(memory().tensors).toBe(before);
  });

  it('dropouts: whole channels dropped and the rest scaled; alpha dropout keeps mean and variance; evaluation is the identity', () => {
    const before = memory().tensors;
    tidy(() => {
      manualSeed(3);
      const x = ones([8, 16, 5], { dtype: 'float64' });
      const y = vals(F.dropout1d(x, { p: 0.5 }));
      for (let c = 0; c < 8 * 16; c++) {
        const ch = y.slice(c * 5, c * 5 + 5);
        expect(ch.every((v) => v === ch[0]) && (ch[0] === 0 || ch[0] === 2)).toBe(true);
      }
      const v = vals(F.dropout3d(ones([4, 2, 2, 2], { dtype: 'float64' }), { p: 0.25 }));
      for (let c = 0; c < 4; c++) expect(new Set(v.slice(c * 8, c * 8 + 8)).size).toBe(1);
      const big = randn([200000], { dtype: 'float64' });
      const a = F.alphaDropout(big, { p: 0.2, training: true });
      expect(Math.abs(vals(a.mean())[0])).toBeLessThan(0.02);
      expect(Math.abs(vals(a.std())[0] - 1)).toBeLessThan(0.02);
      const fa = vals(F.featureAlphaDropout(ones([50, 40, 3], { dtype: 'float64' }), { p: 0.5, training: true }));
      for (let c = 0; c < 50 * 40; c++) expect(new Set(fa.slice(c * 3, c * 3 + 3)).size).toBe(1);
      const m = new nn.Dropout3d(0.9);
      const am = new nn.AlphaDropout(0.9);
      m.eval();
      am.eval();
      const z = randn([2, 3, 2, 2, 2]);
      expect(vals(m.forward(z))).toEqual(vals(z));
      expect(vals(am.forward(z))).toEqual(vals(z));
      m.dispose();
      am.dispose();
    });
    expect(memory().tensors).toBe(before);
  });
});

// ---------------------------------------------------------------- modules equal the functions

describe('modules equal the functions', () => {
  it('paddings, dropouts, upsampling, Threshold, MaxUnpool, LPPool, LocalResponseNorm, EmbeddingBag, TripletMarginWithDistanceLoss', () => {
    const before = memory().tensors;
    const mods: nn.Module[] = [];
    const m = <T extends nn.Module>(x: T): T => (mods.push(x), x);
    try {
      tidy(() => {
        const same = (a: Tensor, b: Tensor, what: string) => {
          expect(a.shape, what).toEqual(b.shape);
          expect(vals(a), what).toEqual(vals(b));
        };
        const x1 = randn([2, 3, 6]);
        const x3 = randn([2, 2, 4, 4, 4]);
        same(m(new nn.ReflectionPad1d([2, 1])).forward(x1), F.pad(x1, [2, 1], 'reflect'), 'ReflectionPad1d');
        same(m(new nn.ReflectionPad3d(1)).forward(x3), F.pad(x3, [1, 1, 1, 1, 1, 1], 'reflect'), 'ReflectionPad3d');
        same(m(new nn.ReplicationPad1d(3)).forward(x1), F.pad(x1, [3, 3], 'replicate'), 'ReplicationPad1d');
        same(m(new nn.ReplicationPad3d([1, 0, 2, 1, 0, 1])).forward(x3), F.pad(x3, [1, 0, 2, 1, 0, 1], 'replicate'), 'ReplicationPad3d');
        same(m(new nn.ConstantPad1d([1, 2], -3)).forward(x1), F.pad(x1, [1, 2], 'constant', -3), 'ConstantPad1d');
        same(m(new nn.ConstantPad3d(1, 0.5)).forward(x3.select(0, 0)), F.pad(x3.select(0, 0), [1, 1, 1, 1, 1, 1], 'constant', 0.5), 'ConstantPad3d unbatched');
        expect(m(new nn.ReflectionPad3d([1, 2, 0, 1, 1, 0])).padding).toEqual([1, 2, 0, 1, 1, 0]);
        const img = randn([2, 3, 4, 5]);
        same(m(new nn.UpsamplingNearest2d({ scaleFactor: 2 })).forward(img), F.interpolate(img, { scaleFactor: 2, mode: 'nearest' }), 'UpsamplingNearest2d');
        same(m(new nn.UpsamplingBilinear2d({ size: [7, 9] })).forward(img), F.interpolate(img, { size: [7, 9], mode: 'bilinear', alignCorners: true }), 'UpsamplingBilinear2d');
        same(m(new nn.Threshold(0.2, -1)).forward(img), F.threshold(img, 0.2, -1), 'Threshold');
        for (const [mod, f] of [[new nn.Dropout1d(0.3), (t: Tensor) => F.dropout1d(t, { p: 0.3 })], [new nn.AlphaDropout(0.3), (t: Tensor) => F.alphaDropout(t, { p: 0.3, training: true })]] as const) {
          m(mod);
          manualSeed(4);
          const a = mod.forward(x1);
          manualSeed(4);
          same(a, f(x1), mod.constructor.name);
        }
        const fad = m(new nn.FeatureAlphaDropout(0.4));
        manualSeed(5);
        const a = fad.forward(img);
        manualSeed(5);
        same(a, F.featureAlphaDropout(img, { p: 0.4, training: true }), 'FeatureAlphaDropout');
        const [y, idx] = F.maxPool2d(img, 2, { returnIndices: true });
        same(m(new nn.MaxUnpool2d(2)).forward(y, idx, img.shape), F.maxUnpool2d(y, idx, 2, { outputSize: img.shape }), 'MaxUnpool2d');
        const [y1, i1] = F.maxPool1d(x1, 3, { stride: 2, padding: 1, returnIndices: true });
        same(m(new nn.MaxUnpool1d(3, { stride: 2, padding: 1 })).forward(y1, i1, [6]), F.maxUnpool1d(y1, i1, 3, { stride: 2, padding: 1, outputSize: [6] }), 'MaxUnpool1d');
        const [y3, i3] = F.maxPool3d(x3, 2, { returnIndices: true });
        same(m(new nn.MaxUnpool3d(2)).forward(y3, i3), F.maxUnpool3d(y3, i3, 2), 'MaxUnpool3d');
        // unpooling puts each maximum back in place: pooling the unpooled gives the pooled again
        same(F.maxPool2d(F.maxUnpool2d(y, idx, 2, { outputSize: [4, 5] }), 2), y, 'maxPool2d(maxUnpool2d(y)) = y');
        same(m(new nn.LPPool1d(2, 3, { stride: 2 })).forward(x1), F.lpPool1d(x1, 2, 3, { stride: 2 }), 'LPPool1d');
        same(m(new nn.LPPool2d(3, [2, 3], { ceilMode: true })).forward(img), F.lpPool2d(img, 3, [2, 3], { ceilMode: true }), 'LPPool2d');
        // p = 1 on positive inputs is sum pooling
        const pos = img.abs();
        expect(maxDiff(vals(F.lpPool2d(pos, 1, 2)), vals(F.avgPool2d(pos, 2).mul(4)))).toBeLessThan(1e-5);
        same(m(new nn.LocalResponseNorm(3, { alpha: 0.01, k: 2 })).forward(img), F.localResponseNorm(img, 3, { alpha: 0.01, k: 2 }), 'LocalResponseNorm');
        const bag = m(new nn.EmbeddingBag(10, 4, { mode: 'max', paddingIdx: -2, dtype: 'float64' }));
        expect([bag.paddingIdx, bag.mode, bag.weight.dtype, bag.weight.shape]).toEqual([8, 'max', 'float64', [10, 4]]);
        expect(vals(bag.weight.narrow(0, 8, 1))).toEqual([0, 0, 0, 0]);
        const ids = tensor([[1n, 8n, 3n], [4n, 4n, 8n]]);
        same(bag.forward(ids), F.embeddingBag(ids, bag.weight, null, { mode: 'max', paddingIdx: 8 }), 'EmbeddingBag');
        const table = randn([5, 3]);
        const pre = m(nn.EmbeddingBag.fromPretrained(table, { mode: 'sum' }));
        expect([pre.weight.requiresGrad, vals(pre.weight)]).toEqual([false, vals(table)]);
        same(pre.forward(tensor([0n, 1n, 4n]), tensor([0n, 1n]), tensor([1, 2, 3], { dtype: 'float32' })), F.embeddingBag(tensor([0n, 1n, 4n]), table, tensor([0n, 1n]), { mode: 'sum', perSampleWeights: tensor([1, 2, 3], { dtype: 'float32' }) }), 'EmbeddingBag.fromPretrained');
        expect(m(nn.EmbeddingBag.fromPretrained(table, { freeze: false })).weight.requiresGrad).toBe(true);
        const [an, po, ne] = [randn([4, 3]), randn([4, 3]), randn([4, 3])];
        const dist = (p: Tensor, q: Tensor) => F.pairwiseDistance(p, q, { p: 1 });
        same(m(new nn.TripletMarginWithDistanceLoss({ distanceFunction: dist, swap: true })).forward(an, po, ne), F.tripletMarginWithDistanceLoss(an, po, ne, { distanceFunction: dist, swap: true }), 'TripletMarginWithDistanceLoss');
        same(m(new nn.TripletMarginWithDistanceLoss()).forward(an, po, ne), F.tripletMarginWithDistanceLoss(an, po, ne), 'TripletMarginWithDistanceLoss default');
        // the default distance is the pairwise Euclidean one, with tripletMarginLoss's eps
        expect(maxDiff(vals(F.tripletMarginWithDistanceLoss(an, po, ne, { margin: 0.5 })), vals(F.tripletMarginLoss(an, po, ne, { margin: 0.5 })))).toBeLessThan(1e-6);
        for (const mod of mods) expect(Object.keys(mod.stateDict()).length, mod.constructor.name).toBe(mod instanceof nn.EmbeddingBag ? 1 : 0);
      });
    } finally {
      for (const mod of mods) mod.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it("BatchNorm3d: PyTorch's parameters and buffers; batch statistics in training, running ones in evaluation; a native layer", () => {
    const before = memory().tensors;
    const bn = new nn.BatchNorm3d(3, { momentum: 0.2 });
    const bare = new nn.BatchNorm3d(2, { affine: false, trackRunningStats: false });
    try {
      tidy(() => {
        expect(shapes(bn.stateDict())).toEqual([['weight', [3]], ['bias', [3]], ['running_mean', [3]], ['running_var', [3]], ['num_batches_tracked', []]]);
        expect(shapes(bare.stateDict())).toEqual([]);
        expect([bn.isNative, bn.kind]).toEqual([true, 'batchNorm3d']);
        const x = randn([2, 3, 2, 3, 2]);
        const y = bn.forward(x);
        expect(maxDiff(vals(y), vals(F.batchNorm(x, null, null, { training: true })))).toBeLessThan(1e-5);
        expect(maxDiff(vals(bn.runningMean as Tensor), vals(x.mean([0, 2, 3, 4]).mul(0.2)))).toBeLessThan(1e-6);
        expect(vals(bn.numBatchesTracked as Tensor)).toEqual([1]);
        bn.eval();
        const rm = (bn.runningMean as Tensor).clone();
        const rv = (bn.runningVar as Tensor).clone();
        expect(maxDiff(vals(bn.forward(x)), vals(F.batchNorm(x, rm, rv)))).toBeLessThan(1e-5);
        expect(bare.forward(randn([2, 2, 2, 2, 2])).shape).toEqual([2, 2, 2, 2, 2]);
      });
    } finally {
      bn.dispose();
      bare.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('ParameterList and ParameterDict: registration under "0", "1", ... and under the keys; tensors wrapped as parameters sharing memory', () => {
    const before = memory().tensors;
    const a = randn([2, 3]);
    const b = randn([4]);
    const list = new nn.ParameterList([a, new nn.Parameter(b)]);
    const init = ones([3]);
    const dict = new nn.ParameterDict({ scale: init });
    try {
      tidy(() => {
        list.append(zeros([1]));
        expect([list.length, shapes(list.stateDict())]).toEqual([3, [['0', [2, 3]], ['1', [4]], ['2', [1]]]]);
        expect([list.get(0).requiresGrad, list.get(-1).shape]).toEqual([true, [1]]);
        noGrad(() => void list.get(0).fill_(2));
        expect(vals(a)).toEqual(new Array(6).fill(2)); // shares a's memory
        expect([...list].map((p) => p.shape)).toEqual([[2, 3], [4], [1]]);
        expect(list.parameters().length).toBe(3);
        dict.set('shift', zeros([3])).set('scale', full3(5));
        expect([dict.size, dict.keys(), dict.has('shift'), shapes(dict.stateDict())]).toEqual([2, ['scale', 'shift'], true, [['scale', [3]], ['shift', [3]]]]);
        expect(vals(dict.get('scale'))).toEqual([5, 5, 5]);
        const popped = dict.pop('shift');
        expect([dict.keys(), popped.shape]).toEqual([['scale'], [3]]);
        popped.dispose();
        expect(dict.entries().map(([k, p]) => [k, p.shape])).toEqual([['scale', [3]]]);
        const outer = new nn.Module();
        outer.registerModule('w', list);
        expect(Object.keys(outer.stateDict())).toEqual(['w.0', 'w.1', 'w.2']);
      });
    } finally {
      list.dispose();
      dict.dispose();
      for (const t of [a, b, init]) t.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

const full3 = (v: number): Tensor => ones([3]).mul(v);

// ---------------------------------------------------------------- state dicts with PyTorch

/** Inputs of the module comparison (float64; gradients wanted where floating). */
const NET_INPUTS: Record<string, PyTensor> = {
  bagIdx: ints([3, 4], 0, 12, 60), bagFlat: ints([9], 0, 12, 61), psw: floats([9], 62),
  vol: floats([2, 3, 3, 2, 3], 63), img: floats([2, 4, 5, 4], 64, 2), seq: floats([2, 3, 6], 65),
};
const NET_OUTPUTS = ['bagMean', 'bagSum', 'bagMax', 'bn3', 'bn3Plain', 'plist', 'pdict', 'lrn', 'lp', 'pad3', 'pad1', 'thr', 'up'];

class Net extends nn.Module {
  bagMean = new nn.EmbeddingBag(12, 3, { dtype: 'float64' });
  bagSum = new nn.EmbeddingBag(12, 3, { mode: 'sum', paddingIdx: 2, includeLastOffset: true, dtype: 'float64' });
  bagMax = new nn.EmbeddingBag(12, 3, { mode: 'max', maxNorm: 1.5, dtype: 'float64' });
  bn3 = new nn.BatchNorm3d(3, { momentum: 0.3 });
  bn3Plain = new nn.BatchNorm3d(3, { affine: false, eps: 1e-3 });
  plist = new nn.ParameterList([zeros([4, 4], { dtype: 'float64' }), ones([4], { dtype: 'float64' })]);
  pdict = new nn.ParameterDict({ alpha: ones([6], { dtype: 'float64' }), beta: zeros([6], { dtype: 'float64' }) });
  lrn = new nn.LocalResponseNorm(3, { alpha: 0.3, k: 1.5 });
  lp = new nn.LPPool2d(2, 2);
  pad3 = new nn.ReflectionPad3d([1, 0, 1, 1, 0, 1]);
  pad1 = new nn.ReplicationPad1d([2, 1]);
  thr = new nn.Threshold(0.1, -0.5);
  up = new nn.UpsamplingBilinear2d({ scaleFactor: 2 });
}

const PY_NET = `
import json, sys, torch, torch.nn as nn
D = torch.float64
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.bagMean = nn.EmbeddingBag(12, 3, dtype=D)
        s.bagSum = nn.EmbeddingBag(12, 3, mode='sum', padding_idx=2, include_last_offset=True, dtype=D)
        s.bagMax = nn.EmbeddingBag(12, 3, mode='max', max_norm=1.5, dtype=D)
        s.bn3 = nn.BatchNorm3d(3, momentum=0.3, dtype=D)
        s.bn3Plain = nn.BatchNorm3d(3, affine=False, eps=1e-3, dtype=D)
        s.plist = nn.ParameterList([nn.Parameter(torch.zeros(4, 4, dtype=D)), nn.Parameter(torch.ones(4, dtype=D))])
        s.pdict = nn.ParameterDict({'alpha': nn.Parameter(torch.ones(6, dtype=D)), 'beta': nn.Parameter(torch.zeros(6, dtype=D))})
        s.lrn = nn.LocalResponseNorm(3, alpha=0.3, k=1.5)
        s.lp = nn.LPPool2d(2, 2)
        s.pad3 = nn.ReflectionPad3d((1, 0, 1, 1, 0, 1))
        s.pad1 = nn.ReplicationPad1d((2, 1))
        s.thr = nn.Threshold(0.1, -0.5)
        s.up = nn.UpsamplingBilinear2d(scale_factor=2)
${PY_TENSOR_OF}
INPUTS = json.loads(${JSON.stringify(JSON.stringify(NET_INPUTS))})
def inp(n, grad=True): return tensor_of(INPUTS[n]).requires_grad_(grad and INPUTS[n]['dtype'] == 'float64')
def weighting(o): return torch.tensor([((i % 7) - 3) / 3 for i in range(o.numel())], dtype=o.dtype).reshape(o.shape)
def outputs(net, t):
    return {'bagMean': net.bagMean(t['bagIdx']), 'bagSum': net.bagSum(t['bagFlat'], torch.tensor([0, 2, 5, 9]), t['psw']),
            'bagMax': net.bagMax(t['bagFlat'], torch.tensor([0, 4, 4])), 'bn3': net.bn3(t['vol']), 'bn3Plain': net.bn3Plain(t['vol']),
            'plist': t['seq'][:, 0, :4].matmul(net.plist[0]) + net.plist[1], 'pdict': t['seq'].flatten(1)[:, :6] * net.pdict['alpha'] + net.pdict['beta'],
            'lrn': net.lrn(t['img']), 'lp': net.lp(t['img']), 'pad3': net.pad3(t['vol']), 'pad1': net.pad1(t['seq']), 'thr': net.thr(t['img']), 'up': net.up(t['img'])}
def run_net(net):
    net.eval()
    net.zero_grad(set_to_none=True)
    t = {n: inp(n) for n in INPUTS}
    outs = outputs(net, t)
    sum((o * weighting(o)).sum() for o in outs.values()).backward()
    res = {'out.' + k: o.detach().flatten().tolist() for k, o in outs.items()}
    for k, p in net.named_parameters(): res['grad.' + k] = p.grad.flatten().tolist()
    for k, x in t.items():
        if x.requires_grad: res['grad.input.' + k] = x.grad.flatten().tolist()
    res['weight.bagMax'] = net.bagMax.weight.detach().flatten().tolist()  # renormalised in place by maxNorm
    return res
def train_net(net):
    net.train()
    res = {}
    v = inp('vol', False)
    for k in range(3):
        res['train%d.bn3' % k] = net.bn3(v * (k + 1) + k).detach().flatten().tolist()
        res['train%d.bn3Plain' % k] = net.bn3Plain(v * (k + 1) - k).detach().flatten().tolist()
    for k, b in net.named_buffers(): res['buffer.' + k] = b.double().flatten().tolist()
    net.eval()
    with torch.no_grad():
        res['eval.bn3'] = net.bn3(v).flatten().tolist()
        res['eval.bn3Plain'] = net.bn3Plain(v).flatten().tolist()
    return res
def perturb(net):
    with torch.no_grad():
        for p in net.parameters(): p.add_(torch.randn_like(p) * 0.2)
        for k, b in net.named_buffers():
            if k.endswith('running_mean'): b.add_(torch.randn_like(b) * 0.2)
            if k.endswith('running_var'): b.copy_(torch.rand_like(b) + 0.5)
`;

const makeInput = (n: string, grad = true): Tensor => toTensor(NET_INPUTS[n], grad && NET_INPUTS[n].dtype === 'float64');

function outputs(net: Net, t: Record<string, Tensor>): Record<string, Tensor> {
  return {
    bagMean: net.bagMean.forward(t.bagIdx), bagSum: net.bagSum.forward(t.bagFlat, tensor([0n, 2n, 5n, 9n]), t.psw),
    bagMax: net.bagMax.forward(t.bagFlat, tensor([0n, 4n, 4n])), bn3: net.bn3.forward(t.vol.to('float32')).to('float64'), bn3Plain: net.bn3Plain.forward(t.vol.to('float32')).to('float64'),
    plist: t.seq.select(1, 0).narrow(1, 0, 4).matmul(net.plist.get(0)).add(net.plist.get(1)),
    pdict: t.seq.flatten(1).narrow(1, 0, 6).mul(net.pdict.get('alpha')).add(net.pdict.get('beta')),
    lrn: net.lrn.forward(t.img), lp: net.lp.forward(t.img), pad3: net.pad3.forward(t.vol), pad1: net.pad1.forward(t.seq), thr: net.thr.forward(t.img), up: net.up.forward(t.img),
  };
}

function runNet(net: Net): Record<string, number[]> {
  net.eval();
  net.zeroGrad();
  return tidy(() => {
    const t = Object.fromEntries(Object.keys(NET_INPUTS).map((n) => [n, makeInput(n)]));
    const outs = outputs(net, t);
    expect(Object.keys(outs)).toEqual(NET_OUTPUTS);
    let loss = zeros([], { dtype: 'float64' });
    for (const o of Object.values(outs)) loss = loss.add(o.mul(tensor(Float64Array.from(weighting(o.numel(), 7, 3)), { shape: o.shape })).sum());
    loss.backward();
    const res: Record<string, number[]> = {};
    for (const [k, o] of Object.entries(outs)) res[`out.${k}`] = vals(o);
    for (const [k, p] of net.namedParameters()) res[`grad.${k}`] = vals(p.grad as Tensor);
    for (const [k, x] of Object.entries(t)) if (x.requiresGrad) res[`grad.input.${k}`] = vals(x.grad as Tensor);
    res['weight.bagMax'] = vals(net.bagMax.weight);
    net.zeroGrad();
    return res;
  });
}

function trainNet(net: Net): Record<string, number[]> {
  net.train();
  return tidy(() => {
    const res: Record<string, number[]> = {};
    const v = makeInput('vol', false).to('float32');
    for (let k = 0; k < 3; k++) {
      res[`train${k}.bn3`] = vals(net.bn3.forward(v.mul(k + 1).add(k)));
      res[`train${k}.bn3Plain`] = vals(net.bn3Plain.forward(v.mul(k + 1).sub(k)));
    }
    for (const [k, b] of net.namedBuffers()) res[`buffer.${k}`] = vals(b);
    net.eval();
    noGrad(() => {
      res['eval.bn3'] = vals(net.bn3.forward(v));
      res['eval.bn3Plain'] = vals(net.bn3Plain.forward(v));
    });
    return res;
  });
}

function expectSame(ours: Record<string, number[]>, theirs: Record<string, number[]>, tol: (k: string) => number): void {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  for (const [k, v] of Object.entries(theirs)) expect(maxDiff(ours[k], v), k).toBeLessThan(tol(k));
}

// BatchNorm3d is a native float32 layer here (as BatchNorm1d/2d): its values are compared to float32 precision.
const tolOf = (k: string): number => (k.includes('bn3') ? 2e-5 : 1e-10);

describe.skipIf(!hasTorch)('EmbeddingBag, BatchNorm3d, ParameterList, ParameterDict and PyTorch (needs /usr/bin/python3 with torch)', () => {
  it("same state-dict keys and shapes; ours load strictly into PyTorch's modules and theirs into ours, with equal outputs, gradients and running statistics", async () => {
    manualSeed(3);
    const net = new Net();
    const back = new Net();
    try {
      noGrad(() => tidy(() => {
        for (const p of net.parameters()) p.add_(randn(p.shape, { dtype: p.dtype }).mul(0.2));
        for (const [k, b] of net.namedBuffers()) {
          if (k.endsWith('running_mean')) b.add_(randn(b.shape, { dtype: b.dtype }).mul(0.2));
          if (k.endsWith('running_var')) b.copy_(rand(b.shape, { dtype: b.dtype }).add(0.5));
        }
      }));
      // PyTorch's BatchNorm3d is float64 here, ours float32 (native): the state dict converts on load both ways
      const pyNet = PY_NET.replace('s.bn3 = nn.BatchNorm3d(3, momentum=0.3, dtype=D)', 's.bn3 = nn.BatchNorm3d(3, momentum=0.3)').replace('s.bn3Plain = nn.BatchNorm3d(3, affine=False, eps=1e-3, dtype=D)', 's.bn3Plain = nn.BatchNorm3d(3, affine=False, eps=1e-3)');
      const r = await stateDictRoundTrip(net, back, {
        dir: tmp, run: (n) => ({ run: runNet(n), train: trainNet(n) }), pyNet: pyNet.replace("'bn3': net.bn3(t['vol'])", "'bn3': net.bn3(t['vol'].float()).double()").replace("'bn3Plain': net.bn3Plain(t['vol'])", "'bn3Plain': net.bn3Plain(t['vol'].float()).double()").replace("v = inp('vol', False)", "v = inp('vol', False).float()"),
        pyRun: "lambda n: {'run': run_net(n), 'train': train_net(n)}", pyPerturb: 'perturb(t)',
      });
      expect(r.keys.map(([k]) => k)).toEqual([
        'bagMean.weight', 'bagSum.weight', 'bagMax.weight', 'bn3.weight', 'bn3.bias', 'bn3.running_mean', 'bn3.running_var', 'bn3.num_batches_tracked',
        'bn3Plain.running_mean', 'bn3Plain.running_var', 'bn3Plain.num_batches_tracked', 'plist.0', 'plist.1', 'pdict.alpha', 'pdict.beta',
      ]);
      expectSame(r.ours.run, r.mine.run, tolOf);
      expectSame(r.ours.train, r.mine.train, tolOf);
      expect(r.ours.train['buffer.bn3.num_batches_tracked']).toEqual([3]);
      // ... and back: PyTorch's state dict loads strictly into ours and gives PyTorch's results
      expectSame(r.back.run, r.theirs.run, tolOf);
      expectSame(r.back.train, r.theirs.train, tolOf);
      expect(maxDiff(r.back.run['out.bagMean'], r.ours.run['out.bagMean'])).toBeGreaterThan(1e-3); // other weights, other outputs
    } finally {
      net.dispose();
      back.dispose();
    }
  }, 120_000);

  it('EmbeddingBag and BatchNorm3d start from the values PyTorch gives from the same seed (float32 and float64)', async () => {
    manualSeed(11);
    const bag = new nn.EmbeddingBag(7, 5);
    const bag64 = new nn.EmbeddingBag(6, 3, { paddingIdx: -1, mode: 'sum', dtype: 'float64' });
    const bn = new nn.BatchNorm3d(4);
    try {
      const ours = tidy(() => {
        const dict = (m: nn.Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, vals(t)]));
        return { bag: dict(bag), bag64: dict(bag64), bn: dict(bn), after: vals(rand([5])) };
      });
      const theirs = JSON.parse(
        await py(`
import json, torch, torch.nn as nn
torch.manual_seed(11)
bag = nn.EmbeddingBag(7, 5)
bag64 = nn.EmbeddingBag(6, 3, padding_idx=-1, mode='sum', dtype=torch.float64)
bn = nn.BatchNorm3d(4)
d = lambda m: {k: v.double().flatten().tolist() for k, v in m.state_dict().items()}
print(json.dumps({'bag': d(bag), 'bag64': d(bag64), 'bn': d(bn), 'after': torch.rand(5).tolist()}))
`),
      ) as typeof ours;
      for (const name of ['bag', 'bag64', 'bn'] as const) {
        expect(Object.keys(ours[name]), name).toEqual(Object.keys(theirs[name]));
        for (const k of Object.keys(theirs[name])) expect(maxDiff(ours[name][k], theirs[name][k]), `${name}.${k}`).toBeLessThan(name === 'bag64' ? 1e-12 : 1e-6);
      }
      expect(ours.bag64.weight.slice(15)).toEqual([0, 0, 0]);
      expect(maxDiff(ours.after, theirs.after)).toBeLessThan(1e-7);
    } finally {
      for (const m of [bag, bag64, bn]) m.dispose();
    }
  }, 60_000);
});

// ---------------------------------------------------------------- errors

describe('argument errors name the op, the argument and what was expected; the process keeps working', () => {
  it('functions', () => {
    const before = memory().tensors;
    tidy(() => {
      const img = randn([2, 3, 4, 4]);
      const grid = rand([2, 3, 3, 2]);
      const w = randn([10, 3]);
      const [py2, pi2] = F.maxPool2d(img, 2, { returnIndices: true });
      const cases: ErrorCase[] = [
        [() => F.gridSample(img, grid, { mode: 'cubic' as never }), TypeError, /^gridSample: expected one of "bilinear", "nearest", "bicubic" for mode but received "cubic"/],
        [() => F.gridSample(img, grid, { paddingMode: 'reflect' as never }), TypeError, /^gridSample: expected one of "zeros", "border", "reflection" for paddingMode but received "reflect"/],
        [() => F.gridSample(img, grid, { align_corners: true } as never), TypeError, /^gridSample: unknown option 'align_corners'; did you mean 'alignCorners'\?/],
        [() => F.gridSample(randn([3, 4, 4]), grid), RangeError, /^gridSample: expected a 4-d \(N, C, H, W\) or 5-d \(N, C, D, H, W\) tensor for input but received shape \[3, 4, 4\]/],
        [() => F.gridSample(img, rand([2, 3, 3, 3])), RangeError, /^gridSample: expected a 4-d tensor \(2, H_out, W_out, 2\) for input \[2, 3, 4, 4\] .* for grid but received shape \[2, 3, 3, 3\]/],
        [() => F.gridSample(img, rand([1, 3, 3, 2])), RangeError, /^gridSample: expected a 4-d tensor \(2, H_out, W_out, 2\) .* for grid but received shape \[1, 3, 3, 2\]/],
        [() => F.gridSample(randn([1, 2, 3, 3, 3]), rand([1, 2, 2, 2, 3]), { mode: 'bicubic' }), RangeError, /^gridSample: expected 'bilinear' or 'nearest' for a 5-d input \('bicubic' samples 4-d input only\) for mode but received "bicubic"/],
        [() => F.gridSample(img, grid.to('float64')), TypeError, /^gridSample: expected grid of input's dtype float32 but received float64/],
        [() => F.gridSample(randn([2, 3, 0, 4]), grid), RangeError, /^gridSample: expected nonzero spatial sizes/],
        [() => F.gridSample(img, tensor([[[[0n, 0n]]]])), TypeError, /^gridSample: expected a floating-point tensor for grid but received int64/],
        [() => F.affineGrid(randn([2, 2, 3]), [2, 3, 4]), TypeError, /^affineGrid: expected an array of 4 \(\[N, C, H, W\]\) or 5 \(\[N, C, D, H, W\]\) sizes for size but received \[2, 3, 4\]/],
        [() => F.affineGrid(randn([2, 2, 3]), [2, 3, 0, 4]), RangeError, /^affineGrid: expected an integer between 1 and \d+ for size\[2\] but received 0/],
        [() => F.affineGrid(randn([2, 3, 4]), [2, 3, 4, 4]), RangeError, /^affineGrid: expected shape \[2, 2, 3\] \(a batch of 2-d affine matrices for size \[2, 3, 4, 4\]\) for theta but received shape \[2, 3, 4\]/],
        [() => F.affineGrid(randn([1, 3, 4]), [2, 3, 4, 4, 4]), RangeError, /^affineGrid: expected shape \[2, 3, 4\] .* for theta but received shape \[1, 3, 4\]/],
        [() => F.affineGrid(randn([2, 2, 3]), [2, 3, 4, 4], { alignCorner: true } as never), TypeError, /^affineGrid: unknown option 'alignCorner'; did you mean 'alignCorners'\?/],
        // embeddingBag: indices and offsets checked before the kernel
        [() => F.embeddingBag(tensor([[1n, 10n]]), w), RangeError, /^embeddingBag: index 10 is out of range for a weight of 10 embeddings \(expected indices in \[0, 10\)\)/],
        [() => F.embeddingBag(tensor([-1n, 2n]), w, tensor([0n])), RangeError, /^embeddingBag: index -1 is out of range/],
        [() => F.embeddingBag(tensor([1n, 2n, 3n]), w, tensor([1n, 2n])), RangeError, /^embeddingBag: offsets\[0\] must be 0 \(the first bag starts at the first index\), got 1/],
        [() => F.embeddingBag(tensor([1n, 2n, 3n]), w, tensor([0n, 2n, 1n])), RangeError, /^embeddingBag: offsets must not decrease, got offsets\[1\] = 2 > offsets\[2\] = 1/],
        [() => F.embeddingBag(tensor([1n, 2n, 3n]), w, tensor([0n, 4n])), RangeError, /^embeddingBag: offsets must not pass the end of input \(3 indices\), got 4/],
        [() => F.embeddingBag(tensor([1n, 2n, 3n]), w, tensor([0n, 2n]), { includeLastOffset: true }), RangeError, /^embeddingBag: the last offset must be the end of input \(3\) with includeLastOffset, got 2/],
        [() => F.embeddingBag(tensor([1n, 2n]), w, tensor([], { dtype: 'int64' }), { includeLastOffset: true }), RangeError, /^embeddingBag: offsets must hold at least one offset with includeLastOffset/],
        [() => F.embeddingBag(tensor([1n, 2n]), w), TypeError, /^embeddingBag: expected a 1-d tensor of bag starts with a 1-d input for offsets but received null/],
        [() => F.embeddingBag(tensor([[1n, 2n]]), w, tensor([0n])), TypeError, /^embeddingBag: expected null with a 2-d input \(each row is a bag\) for offsets but received a Tensor/],
        [() => F.embeddingBag(tensor([[[1n]]]), w), RangeError, /^embeddingBag: expected a 1-d \(with offsets\) or 2-d \(bags, indices per bag\) tensor for input but received shape \[1, 1, 1\]/],
        [() => F.embeddingBag(tensor([1, 2]), w, tensor([0n])), TypeError, /^embeddingBag: expected int64 or int32 indices for input but received float32/],
        [() => F.embeddingBag(tensor([1n, 2n]), w, tensor([0, 1])), TypeError, /^embeddingBag: expected int64 or int32 offsets but received float32/],
        [() => F.embeddingBag(tensor([1n, 2n]), randn([10]), tensor([0n])), RangeError, /^embeddingBag: expected a 2-d tensor \(numEmbeddings, embeddingDim\) for weight but received shape \[10\]/],
        [() => F.embeddingBag(tensor([[1n, 2n]]), w, null, { mode: 'min' as never }), TypeError, /^embeddingBag: expected one of "sum", "mean", "max" for mode but received "min"/],
        [() => F.embeddingBag(tensor([[1n, 2n]]), w, null, { perSampleWeights: ones([1, 2]) }), TypeError, /^embeddingBag: expected null with mode 'mean' \(only mode 'sum' weighs the samples\) for perSampleWeights/],
        [() => F.embeddingBag(tensor([[1n, 2n]]), w, null, { mode: 'sum', perSampleWeights: ones([2]) }), RangeError, /^embeddingBag: expected input's shape \[1, 2\] for perSampleWeights but received shape \[2\]/],
        [() => F.embeddingBag(tensor([[1n, 2n]]), w, null, { mode: 'sum', perSampleWeights: ones([1, 2], { dtype: 'float64' }) }), TypeError, /^embeddingBag: expected perSampleWeights of weight's dtype float32 but received float64/],
        [() => F.embeddingBag(tensor([[1n, 2n]]), w, null, { mode: 'max', scaleGradByFreq: true }), RangeError, /^embeddingBag: expected false with mode 'max' .* for scaleGradByFreq/],
        [() => F.embeddingBag(tensor([[1n, 2n]]), w, null, { sparse: true }), RangeError, /^embeddingBag: expected false \(sparse gradients are not supported/],
        [() => F.embeddingBag(tensor([[1n, 2n]]), w, null, { paddingIdx: 10 }), RangeError, /^embeddingBag: expected an integer between -10 and 9 for paddingIdx but received 10/],
        [() => F.embeddingBag(tensor([[1n, 2n]]), w, null, { padding_idx: 1 } as never), TypeError, /^embeddingBag: unknown option 'padding_idx'; did you mean 'paddingIdx'\?/],
        // dropouts, threshold
        [() => F.dropout1d(randn([2, 3, 4, 5])), RangeError, /^dropout1d: expected a 3-d \(N, C, L\) or 2-d \(C, L\) tensor for input but received shape \[2, 3, 4, 5\]/],
        [() => F.dropout3d(randn([2, 3, 4])), RangeError, /^dropout3d: expected a 5-d \(N, C, D, H, W\) or 4-d \(C, D, H, W\) tensor for input but received shape \[2, 3, 4\]/],
        [() => F.dropout1d(randn([2, 3]), { p: 1.5 }), RangeError, /^dropout1d: expected a number in \[0, 1\] for p but received 1\.5/],
        [() => F.alphaDropout(randn([2, 3]), { p: 0.5, inplace: true } as never), TypeError, /^alphaDropout: unknown option 'inplace' \(known: p, training\)/],
        [() => F.featureAlphaDropout(randn([3])), RangeError, /^featureAlphaDropout: expected at least 2 dimensions \(N, C, \.\.\.\): whole channels are dropped for input but received shape \[3\]/],
        [() => F.alphaDropout(tensor([1n])), TypeError, /^alphaDropout: expected a floating-point tensor for input but received int64/],
        [() => F.threshold(img, NaN, 0), TypeError, /^threshold: expected a finite number for threshold but received NaN/],
        [() => F.threshold(img, 0, '1' as never), TypeError, /^threshold: expected a finite number for value but received "1" \(string\)/],
        // unpooling: indices checked before the kernel
        [() => F.maxUnpool2d(py2, pi2.add(100), 2), RangeError, /^maxUnpool2d: indices hold 1\d\d, outside \[0, 16\) for an output of size \[4, 4\]/],
        [() => F.maxUnpool2d(py2, pi2.mul(0).sub(1), 2), RangeError, /^maxUnpool2d: indices hold -1, outside \[0, 16\)/],
        [() => F.maxUnpool2d(py2, pi2.to('int32'), 2), TypeError, /^maxUnpool2d: expected int64 indices \(from a max pooling with returnIndices\) but received int32/],
        [() => F.maxUnpool2d(py2, pi2.narrow(0, 0, 1), 2), RangeError, /^maxUnpool2d: expected input's shape \[2, 3, 2, 2\] for indices but received shape \[1, 3, 2, 2\]/],
        [() => F.maxUnpool2d(py2, pi2, 2, { outputSize: [6, 4] }), RangeError, /^maxUnpool2d: expected sizes between \[3, 3\] and \[5, 5\] \(within a stride of the default \[4, 4\]\) for outputSize but received \[6, 4\]/],
        [() => F.maxUnpool2d(py2, pi2, 2, { outputSize: [4] }), TypeError, /^maxUnpool2d: expected an array of 2 sizes \(or 4, with N and C first\) for outputSize but received \[4\]/],
        [() => F.maxUnpool1d(randn([2, 3, 4, 4]), pi2, 2), RangeError, /^maxUnpool1d: expected a 3-d \(N, C, L\) or 2-d \(C, L\) tensor for input/],
        [() => F.maxUnpool3d(randn([3, 2, 2]), pi2, 2), RangeError, /^maxUnpool3d: expected a 5-d \(N, C, D, H, W\) or 4-d \(C, D, H, W\) tensor for input but received shape \[3, 2, 2\]/],
        [() => F.maxUnpool2d(py2, pi2, 2, { stride: 0 }), RangeError, /^maxUnpool2d: expected an integer between 1 and \d+ for stride but received 0/],
        [() => F.maxUnpool2d(py2, pi2, 2, { output_size: [4, 4] } as never), TypeError, /^maxUnpool2d: unknown option 'output_size'; did you mean 'outputSize'\?/],
        // power-average pooling, local response normalisation, pdist, gumbelSoftmax
        [() => F.lpPool2d(img, 0, 2), RangeError, /^lpPool2d: expected a nonzero number \(the result is taken to the power 1\/normType\) for normType but received 0/],
        [() => F.lpPool2d(img, 2, 5), RangeError, /^lpPool2d: expected a spatial size of at least the kernel size \[5, 5\] for input but received shape \[2, 3, 4, 4\]/],
        [() => F.lpPool1d(img, 2, 2), RangeError, /^lpPool1d: expected a 3-d \(N, C, L\) or 2-d \(C, L\) tensor for input but received shape \[2, 3, 4, 4\]/],
        [() => F.lpPool1d(randn([2, 3, 4]), 2, 2, { padding: 1 } as never), TypeError, /^lpPool1d: unknown option 'padding' \(known: stride, ceilMode\)/],
        [() => F.localResponseNorm(randn([2, 3]), 2), RangeError, /^localResponseNorm: expected at least 3 dimensions \(N, C, \.\.\.\) for input but received shape \[2, 3\]/],
        [() => F.localResponseNorm(img, 0), RangeError, /^localResponseNorm: expected an integer between 1 and \d+ for size but received 0/],
        [() => F.localResponseNorm(img, 2, { beta: Infinity }), TypeError, /^localResponseNorm: expected a finite number for beta but received Infinity/],
        [() => F.pdist(randn([2, 3, 4])), RangeError, /^pdist: expected a 2-d tensor \(N, M\) for input but received shape \[2, 3, 4\]/],
        [() => F.pdist(randn([3, 4]), -1), RangeError, /^pdist: expected a number >= 0 for p but received -1/],
        [() => F.gumbelSoftmax(img, { tau: 0 }), RangeError, /^gumbelSoftmax: expected a nonzero number \(the logits are divided by it\) for tau but received 0/],
        [() => F.gumbelSoftmax(img, { dim: 4 }), RangeError, /^gumbelSoftmax: expected an integer between -4 and 3 for dim but received 4/],
        [() => F.gumbelSoftmax(img, { eps: 1e-10 } as never), TypeError, /^gumbelSoftmax: unknown option 'eps' \(known: tau, hard, dim\)/],
        [() => F.gumbelSoftmax(tensor([1n, 2n])), TypeError, /^gumbelSoftmax: expected a floating-point tensor for logits but received int64/],
        // tripletMarginWithDistanceLoss
        [() => F.tripletMarginWithDistanceLoss(w, w, w, { distanceFunction: 3 as never }), TypeError, /^tripletMarginWithDistanceLoss: expected a function \(x1, x2\) => Tensor, or null for pairwiseDistance for distanceFunction but received 3/],
        [() => F.tripletMarginWithDistanceLoss(w, w, w, { distanceFunction: () => 1 as never }), TypeError, /^tripletMarginWithDistanceLoss: expected a function returning a Tensor \(the anchor-positive distance\) for distanceFunction but received 1/],
        [() => F.tripletMarginWithDistanceLoss(w, w, w.to('float64')), TypeError, /^tripletMarginWithDistanceLoss: expected negative of anchor's dtype float32 but received float64/],
        [() => F.tripletMarginWithDistanceLoss(w, w, w, { reduction: 'batchmean' as never }), TypeError, /^tripletMarginWithDistanceLoss: expected one of "mean", "sum", "none" for reduction/],
        [() => F.tripletMarginWithDistanceLoss(w, w, w, { margin: Infinity }), RangeError, /^tripletMarginWithDistanceLoss: expected a finite number for margin but received Infinity/],
        [() => F.tripletMarginWithDistanceLoss(w, 3 as never, w), TypeError, /^tripletMarginWithDistanceLoss: expected a Tensor for positive but received 3/],
      ];
      expectErrors(cases);
      // the process keeps working
      expect(F.embeddingBag(tensor([[1n, 9n]]), w).shape).toEqual([1, 3]);
      expect(F.maxUnpool2d(py2, pi2, 2).shape).toEqual([2, 3, 4, 4]);
    });
    expect(memory().tensors).toBe(before);
  });

  it('modules: construction and forward', () => {
    const before = memory().tensors;
    const bag = new nn.EmbeddingBag(5, 2);
    const bn = new nn.BatchNorm3d(3);
    const list = new nn.ParameterList();
    const dict = new nn.ParameterDict();
    try {
      tidy(() => {
        const cases: ErrorCase[] = [
          [() => new nn.EmbeddingBag(0, 2), RangeError, /^EmbeddingBag: expected a positive integer for numEmbeddings but received 0/],
          [() => new nn.EmbeddingBag(5, 2, { mode: 'avg' as never }), TypeError, /^EmbeddingBag: expected one of "sum", "mean", "max" for mode but received "avg"/],
          [() => new nn.EmbeddingBag(5, 2, { paddingIdx: 5 }), RangeError, /^EmbeddingBag: expected a row index in \[-5, 5\) \(numEmbeddings 5; negative counts from the end\) for paddingIdx but received 5/],
          [() => new nn.EmbeddingBag(5, 2, { sparse: true }), RangeError, /^EmbeddingBag: expected false \(sparse gradients are not supported/],
          [() => new nn.EmbeddingBag(5, 2, { mode: 'max', scaleGradByFreq: true }), RangeError, /^EmbeddingBag: expected false with mode 'max'/],
          [() => new nn.EmbeddingBag(5, 2, { include_last_offset: true } as never), TypeError, /^EmbeddingBag: unknown option 'include_last_offset'; did you mean 'includeLastOffset'\?/],
          [() => new nn.EmbeddingBag(5, 2, { dtype: 'int64' as never }), TypeError, /^EmbeddingBag: expected one of "float32", .* for dtype but received "int64"/],
          [() => nn.EmbeddingBag.fromPretrained(randn([5])), RangeError, /^EmbeddingBag\.fromPretrained: expected a 2-d tensor \(numEmbeddings, embeddingDim\) for embeddings but received shape \[5\]/],
          [() => nn.EmbeddingBag.fromPretrained(randn([5, 2]), { dtype: 'float64' } as never), TypeError, /^EmbeddingBag\.fromPretrained: unknown option 'dtype'/],
          [() => bag.forward(tensor([[5n]])), RangeError, /^embeddingBag: index 5 is out of range for a weight of 5 embeddings/],
          [() => bag.forward('x' as never), TypeError, /^EmbeddingBag\.forward: expected a Tensor for input but received "x" \(string\)/],
          [() => new nn.BatchNorm3d(0), RangeError, /^BatchNorm3d: expected an integer between 1 and \d+ for numFeatures but received 0/],
          [() => new nn.BatchNorm3d(3, { track_running_stats: false } as never), TypeError, /^BatchNorm3d: unknown option 'track_running_stats'; did you mean 'trackRunningStats'\?/],
          [() => new nn.BatchNorm3d(3, { momentum: null } as never), TypeError, /^BatchNorm3d: expected a number in \[0, 1\] \(null, PyTorch's cumulative moving average, is not supported\) for momentum/],
          [() => bn.forward(randn([2, 3, 4, 4])), RangeError, /BatchNorm3d: expected a 5-d \(N, C, D, H, W\) input, got shape \[2, 3, 4, 4\]/],
          [() => bn.forward(randn([2, 4, 2, 2, 2])), RangeError, /BatchNorm3d has 3 features but the input has 4/],
          [() => new nn.ReflectionPad1d([1, 2, 3] as never), TypeError, /^ReflectionPad1d: expected an integer or \[left, right\] for padding but received \[1, 2, 3\]/],
          [() => new nn.ReplicationPad3d([1, 1] as never), TypeError, /^ReplicationPad3d: expected an integer or \[left, right, top, bottom, front, back\] for padding but received \[1, 1\]/],
          [() => new nn.ConstantPad1d(1, undefined as never), TypeError, /^ConstantPad1d: expected a finite number for value but received undefined/],
          [() => new nn.ReflectionPad1d(4).forward(randn([2, 3, 4])), RangeError, /^pad: expected less than the size 4 of the dimension it pads \(reflect padding mirrors inside it\) for pad\[0\] but received 4/],
          [() => new nn.Dropout1d(-0.1), RangeError, /^Dropout1d: expected a probability in \[0, 1\] for p but received -0\.1/],
          [() => new nn.FeatureAlphaDropout('0.5' as never), TypeError, /^FeatureAlphaDropout: expected a finite number for p but received "0\.5" \(string\)/],
          [() => new nn.UpsamplingNearest2d({ size: 4, scaleFactor: 2 }), TypeError, /^UpsamplingNearest2d: expected exactly one of size and scaleFactor for options/],
          [() => new nn.UpsamplingBilinear2d({ mode: 'nearest' } as never), TypeError, /^UpsamplingBilinear2d: unknown option 'mode' \(known: size, scaleFactor\)/],
          [() => new nn.Threshold(0, NaN), TypeError, /^Threshold: expected a finite number for value but received NaN/],
          [() => new nn.MaxUnpool2d(0), RangeError, /^MaxUnpool2d: expected an integer between 1 and \d+ for kernelSize but received 0/],
          [() => new nn.MaxUnpool3d(2, { outputSize: [4, 4, 4] } as never), TypeError, /^MaxUnpool3d: unknown option 'outputSize' \(known: stride, padding\)/],
          [() => new nn.LPPool1d(0, 2), RangeError, /^LPPool1d: expected a nonzero number .* for normType but received 0/],
          [() => new nn.LPPool2d(2, [2, 2, 2] as never), TypeError, /^LPPool2d: expected an integer or a pair of integers for kernelSize but received \[2, 2, 2\]/],
          [() => new nn.LocalResponseNorm(2.5), TypeError, /^LocalResponseNorm: expected an integer for size but received 2\.5/],
          [() => new nn.TripletMarginWithDistanceLoss({ distance_function: null } as never), TypeError, /^TripletMarginWithDistanceLoss: unknown option 'distance_function'; did you mean 'distanceFunction'\?/],
          [() => new nn.TripletMarginWithDistanceLoss({ reduction: 'avg' as never }), TypeError, /^TripletMarginWithDistanceLoss: expected one of "mean", "sum", "none" for reduction/],
          [() => new nn.ParameterList([3 as never]), TypeError, /^ParameterList\.append: expected a Tensor or an nn\.Parameter for value but received 3 \(number\)/],
          [() => list.get(0), RangeError, /^ParameterList\.get: expected an index in \[0, 0\) for index but received 0/],
          [() => dict.set('a.b', ones([1])), TypeError, /^registerParameter: expected a non-empty string without "\." for name/],
          [() => dict.set('keys', ones([1])), TypeError, /^registerParameter: "keys" is a method or property of ParameterDict; choose another name/],
          [() => dict.get('missing'), RangeError, /^ParameterDict\.get: expected one of the keys \(none\) for key but received "missing"/],
          [() => list.forward(), TypeError, /^ParameterList\.forward: a ParameterList has no forward of its own/],
        ];
        expectErrors(cases);
        // the modules still work after their errors
        expect(bag.forward(tensor([[4n, 0n]])).shape).toEqual([1, 2]);
        expect(bn.forward(randn([2, 3, 2, 2, 2])).shape).toEqual([2, 3, 2, 2, 2]);
      });
    } finally {
      for (const m of [bag, bn, list, dict]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

// ---------------------------------------------------------------- memory

describe('no tensor left behind', () => {
  it('the composite functions free their intermediates, outside tidy too, with and without gradients', () => {
    const x = randn([4, 3], { dtype: 'float64', requiresGrad: true });
    const seq = randn([3, 5], { requiresGrad: true });
    const w = randn([10, 3], { requiresGrad: true });
    const idx = tensor([[1n, 2n], [3n, 4n]]);
    const s = ones([2, 2]);
    try {
      const before = memory().tensors;
      for (const f of [
        () => F.embeddingBag(idx, w), () => F.embeddingBag(idx, w, null, { mode: 'sum', perSampleWeights: s }), () => F.dropout1d(seq, { p: 0.3 }),
        () => F.tripletMarginWithDistanceLoss(x, x, x, { swap: true }), () => F.tripletMarginWithDistanceLoss(x, x, x, { reduction: 'none' }),
        () => F.tripletMarginWithDistanceLoss(x, x, x, { distanceFunction: (a) => a.sum(1) }), () => noGrad(() => F.gumbelSoftmax(x, { hard: true })),
      ]) {
        const y = f();
        expect(y).toBeInstanceOf(Tensor);
        y.dispose();
        expect(memory().tensors, String(f)).toBe(before);
      }
      // a distance function that returns its input: not disposed by the loss
      const loss = F.tripletMarginWithDistanceLoss(x, x, x, { distanceFunction: (a) => a });
      loss.dispose();
      expect(vals(x).length).toBe(12);
      expect(memory().tensors).toBe(before);
      const y = F.embeddingBag(idx, w);
      const l = y.sum();
      l.backward();
      y.dispose();
      l.dispose();
      expect(memory().tensors).toBe(before); // w.grad lives inside w
    } finally {
      for (const t of [x, seq, w, idx, s]) t.dispose();
    }
  });
});
