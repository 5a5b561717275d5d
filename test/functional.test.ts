// torch.nn.functional in TypeScript: every op and loss against python3-torch on the same inputs (values
// and input gradients, float64; oneHot's values), and the errors for bad shapes, dtypes, class indices,
// probabilities and options.
import { beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { tensor } from '../lib/creation';
import { manualSeed } from '../lib/runtime';
import { tidy } from '../lib/scope';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { inp, ints, toTensor, values, type OpCase } from './helpers/specs';
import { hasTorch, runCases, sameTorchVersion, type PyCase, type PyTensor } from './helpers/torchpy';

const F = torch.nn.functional;

/** An int64 input of class indices in [0, n). */
const idx = (shape: number[], n: number, seed: number): PyTensor => ints(shape, 0, n, seed);

interface Case extends OpCase {
  seed?: number;
  noGrad?: boolean;
  tol?: number;
  /** Compared only when python3's torch is the addon's LibTorch version (the kernels changed between them). */
  sameVersionOnly?: string;
}

const CASES: Case[] = [
  { name: 'conv2d', inputs: { x: inp([2, 3, 7, 6], 1), w: inp([4, 3, 3, 3], 2), b: inp([4], 3) }, py: 'F.conv2d(x, w, b)', ts: (t) => F.conv2d(t.x, t.w, t.b) },
  {
    name: 'conv2d stride padding dilation groups',
    inputs: { x: inp([2, 4, 9, 8], 4), w: inp([6, 2, 3, 2], 5) },
    py: 'F.conv2d(x, w, None, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)',
    ts: (t) => F.conv2d(t.x, t.w, null, { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 }),
  },
  { name: 'conv2d same', inputs: { x: inp([1, 2, 5, 5], 6), w: inp([3, 2, 3, 3], 7) }, py: "F.conv2d(x, w, padding='same')", ts: (t) => F.conv2d(t.x, t.w, null, { padding: 'same' }) },
  { name: 'conv2d unbatched', inputs: { x: inp([2, 5, 5], 8), w: inp([3, 2, 3, 3], 9) }, py: 'F.conv2d(x, w, stride=2)', ts: (t) => F.conv2d(t.x, t.w, undefined, { stride: 2 }) },
  { name: 'linear', inputs: { x: inp([3, 2, 5], 10), w: inp([4, 5], 11), b: inp([4], 12) }, py: 'F.linear(x, w, b)', ts: (t) => F.linear(t.x, t.w, t.b) },
  { name: 'linear no bias', inputs: { x: inp([3, 5], 13), w: inp([2, 5], 14) }, py: 'F.linear(x, w)', ts: (t) => F.linear(t.x, t.w) },
  {
    name: 'batchNorm training',
    inputs: { x: inp([4, 3, 2, 2], 15), rm: inp([3], 16, { grad: false }), rv: inp([3], 17, { grad: false, positive: true }), w: inp([3], 18), b: inp([3], 19) },
    py: 'F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2, eps=1e-3) + 0 * rm.sum() + torch.stack([rm, rv]).sum()',
    ts: (t) => F.batchNorm(t.x, t.rm, t.rv, { weight: t.w, bias: t.b, training: true, momentum: 0.2, eps: 1e-3 }).add(t.rm.mul(0).sum()).add(torch.stack([t.rm, t.rv]).sum()),
  },
  {
    name: 'batchNorm eval',
    inputs: { x: inp([4, 3], 20), rm: inp([3], 21, { grad: false }), rv: inp([3], 22, { grad: false, positive: true }), w: inp([3], 23) },
    py: 'F.batch_norm(x, rm, rv, w)',
    ts: (t) => F.batchNorm(t.x, t.rm, t.rv, { weight: t.w }),
  },
  {
    name: 'layerNorm',
    inputs: { x: inp([2, 3, 4], 24), w: inp([3, 4], 25), b: inp([3, 4], 26) },
    py: 'F.layer_norm(x, [3, 4], w, b, eps=1e-4)',
    ts: (t) => F.layerNorm(t.x, [3, 4], { weight: t.w, bias: t.b, eps: 1e-4 }),
  },
  { name: 'relu', inputs: { x: inp([3, 4], 27) }, py: 'F.relu(x)', ts: (t) => F.relu(t.x) },
  { name: 'gelu', inputs: { x: inp([3, 4], 28, { scale: 3 }) }, py: 'F.gelu(x)', ts: (t) => F.gelu(t.x) },
  { name: 'gelu tanh', inputs: { x: inp([3, 4], 29, { scale: 3 }) }, py: "F.gelu(x, approximate='tanh')", ts: (t) => F.gelu(t.x, { approximate: 'tanh' }) },
  { name: 'silu', inputs: { x: inp([3, 4], 30, { scale: 3 }) }, py: 'F.silu(x)', ts: (t) => F.silu(t.x) },
  { name: 'softmax', inputs: { x: inp([3, 4], 31, { scale: 3 }) }, py: 'F.softmax(x, dim=0)', ts: (t) => F.softmax(t.x, 0) },
  { name: 'logSoftmax', inputs: { x: inp([3, 4], 32, { scale: 3 }) }, py: 'F.log_softmax(x, dim=-1)', ts: (t) => F.logSoftmax(t.x, -1) },
  { name: 'maxPool2d', inputs: { x: inp([2, 2, 7, 6], 33) }, py: 'F.max_pool2d(x, 3, stride=2, padding=1)', ts: (t) => F.maxPool2d(t.x, 3, { stride: 2, padding: 1 }) },
  { name: 'maxPool2d ceil dilation', inputs: { x: inp([1, 2, 8, 7], 34) }, py: 'F.max_pool2d(x, (2, 3), dilation=(2, 1), ceil_mode=True)', ts: (t) => F.maxPool2d(t.x, [2, 3], { dilation: [2, 1], ceilMode: true }) },
  { name: 'avgPool2d', inputs: { x: inp([2, 2, 7, 6], 35) }, py: 'F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)', ts: (t) => F.avgPool2d(t.x, 3, { stride: 2, padding: 1, countIncludePad: false }) },
  { name: 'avgPool2d divisor ceil', inputs: { x: inp([1, 1, 5, 5], 36) }, py: 'F.avg_pool2d(x, 2, ceil_mode=True, divisor_override=3)', ts: (t) => F.avgPool2d(t.x, 2, { ceilMode: true, divisorOverride: 3 }) },
  { name: 'adaptiveAvgPool2d', inputs: { x: inp([2, 3, 7, 5], 37) }, py: 'F.adaptive_avg_pool2d(x, (3, None))', ts: (t) => F.adaptiveAvgPool2d(t.x, [3, null]) },
  { name: 'adaptiveAvgPool2d global', inputs: { x: inp([2, 3, 4, 4], 38) }, py: 'F.adaptive_avg_pool2d(x, 1)', ts: (t) => F.adaptiveAvgPool2d(t.x, 1) },
  { name: 'embedding', inputs: { i: idx([2, 3], 5, 39), w: inp([5, 4], 40) }, py: 'F.embedding(i, w, padding_idx=1)', ts: (t) => F.embedding(t.i, t.w, { paddingIdx: 1 }) },
  { name: 'embedding negative padding freq', inputs: { i: { data: [0, 3, 3, 4, 0], shape: [5], dtype: 'int64' }, w: inp([5, 3], 41) }, py: 'F.embedding(i, w, padding_idx=-1, scale_grad_by_freq=True)', ts: (t) => F.embedding(t.i, t.w, { paddingIdx: -1, scaleGradByFreq: true }) },
  { name: 'dropout', inputs: { x: inp([6, 50], 42) }, py: 'F.dropout(x, p=0.3)', ts: (t) => F.dropout(t.x, { p: 0.3 }), seed: 7 },
  { name: 'dropout eval', inputs: { x: inp([3, 4], 43) }, py: 'F.dropout(x, p=0.3, training=False)', ts: (t) => F.dropout(t.x, { p: 0.3, training: false }) },
  {
    name: 'icLayer = batch_norm + dropout (dropRate 0)',
    inputs: { x: inp([4, 3, 2, 2], 44), w: inp([3], 45), b: inp([3], 46) },
    py: 'F.batch_norm(x, None, None, w, b, training=True)',
    ts: (t) => F.icLayer(t.x, { weight: t.w, bias: t.b }),
  },
  // ---- added later: transposed convolution, group norm, resampling, more activations, einsum
  {
    name: 'convTranspose2d stride padding outputPadding groups dilation',
    inputs: { x: inp([2, 4, 3, 4], 80), w: inp([4, 3, 3, 2], 81), b: inp([6], 82) },
    py: 'F.conv_transpose2d(x, w, b, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, dilation=(1, 2))',
    ts: (t) => F.convTranspose2d(t.x, t.w, t.b, { stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], groups: 2, dilation: [1, 2] }),
  },
  { name: 'groupNorm', inputs: { x: inp([3, 6, 2, 3], 83), w: inp([6], 84), b: inp([6], 85) }, py: 'F.group_norm(x, 3, w, b, eps=1e-4)', ts: (t) => F.groupNorm(t.x, 3, { weight: t.w, bias: t.b, eps: 1e-4 }) },
  { name: 'interpolate nearest scale 1.7', inputs: { x: inp([2, 2, 5, 4], 86) }, py: "F.interpolate(x, scale_factor=1.7, mode='nearest')", ts: (t) => F.interpolate(t.x, { scaleFactor: 1.7 }) },
  { name: 'interpolate nearest-exact size', inputs: { x: inp([1, 2, 5, 4], 87) }, py: "F.interpolate(x, size=(7, 3), mode='nearest-exact')", ts: (t) => F.interpolate(t.x, { size: [7, 3], mode: 'nearest-exact' }) },
  { name: 'interpolate bilinear scale (2, 0.6)', inputs: { x: inp([1, 3, 5, 6], 88) }, py: "F.interpolate(x, scale_factor=(2, 0.6), mode='bilinear')", ts: (t) => F.interpolate(t.x, { scaleFactor: [2, 0.6], mode: 'bilinear' }) },
  { name: 'interpolate bilinear alignCorners', inputs: { x: inp([2, 1, 4, 4], 89) }, py: "F.interpolate(x, size=9, mode='bilinear', align_corners=True)", ts: (t) => F.interpolate(t.x, { size: 9, mode: 'bilinear', alignCorners: true }) },
  {
    name: 'interpolate bicubic recomputeScaleFactor',
    inputs: { x: inp([1, 2, 5, 5], 90) },
    py: "F.interpolate(x, scale_factor=1.5, mode='bicubic', recompute_scale_factor=True)",
    ts: (t) => F.interpolate(t.x, { scaleFactor: 1.5, mode: 'bicubic', recomputeScaleFactor: true }),
  },
  { name: 'interpolate area', inputs: { x: inp([2, 2, 7, 6], 91) }, py: "F.interpolate(x, scale_factor=0.5, mode='area')", ts: (t) => F.interpolate(t.x, { scaleFactor: 0.5, mode: 'area' }) },
  { name: 'leakyRelu', inputs: { x: inp([3, 4], 92, { scale: 3 }) }, py: 'F.leaky_relu(x, 0.3)', ts: (t) => F.leakyRelu(t.x, 0.3) },
  { name: 'elu', inputs: { x: inp([3, 4], 93, { scale: 3 }) }, py: 'F.elu(x, 0.5)', ts: (t) => F.elu(t.x, 0.5) },
  { name: 'hardtanh', inputs: { x: inp([3, 4], 94, { scale: 3 }) }, py: 'F.hardtanh(x, -0.5, 2.0)', ts: (t) => F.hardtanh(t.x, -0.5, 2) },
  { name: 'relu6', inputs: { x: inp([3, 4], 95, { scale: 8 }) }, py: 'F.relu6(x)', ts: (t) => F.relu6(t.x) },
  { name: 'softplus', inputs: { x: inp([3, 4], 96, { scale: 8 }) }, py: 'F.softplus(x, beta=0.5, threshold=2)', ts: (t) => F.softplus(t.x, 0.5, 2) },
  { name: 'mish', inputs: { x: inp([3, 4], 97, { scale: 3 }) }, py: 'F.mish(x)', ts: (t) => F.mish(t.x) },
  { name: 'hardswish', inputs: { x: inp([3, 4], 98, { scale: 5 }) }, py: 'F.hardswish(x)', ts: (t) => F.hardswish(t.x) },
  { name: 'hardsigmoid', inputs: { x: inp([3, 4], 99, { scale: 5 }) }, py: 'F.hardsigmoid(x)', ts: (t) => F.hardsigmoid(t.x) },
  { name: 'pad constant value, negative (crop)', inputs: { x: inp([2, 3, 4], 102) }, py: 'F.pad(x, [1, -1, 2, 0], value=0.5)', ts: (t) => F.pad(t.x, [1, -1, 2, 0], 'constant', 0.5) },
  { name: 'pad reflect 2-d', inputs: { x: inp([1, 2, 4, 5], 103) }, py: "F.pad(x, [2, 1, 3, 0], mode='reflect')", ts: (t) => F.pad(t.x, [2, 1, 3, 0], 'reflect') },
  { name: 'pad replicate 1-d', inputs: { x: inp([2, 3, 4], 104) }, py: "F.pad(x, [3, 1], mode='replicate')", ts: (t) => F.pad(t.x, [3, 1], 'replicate') },
  { name: 'pad circular 2-d unbatched', inputs: { x: inp([2, 3, 4], 105) }, py: "F.pad(x.unsqueeze(0), [1, 2, 2, 1], mode='circular').squeeze(0)", ts: (t) => F.pad(t.x.unsqueeze(0), [1, 2, 2, 1], 'circular').squeeze(0) },
  { name: 'dropout2d', inputs: { x: inp([4, 16, 3, 3], 106) }, py: 'F.dropout2d(x, p=0.4)', ts: (t) => F.dropout2d(t.x, { p: 0.4 }), seed: 11 },
  // ---- one-hot, normalisation and distances
  { name: 'oneHot numClasses -1 (default)', inputs: { i: { data: [2, 0, 3, 3, 1], shape: [5], dtype: 'int64' } }, py: 'F.one_hot(i)', ts: (t) => F.oneHot(t.i) },
  { name: 'oneHot 2-d numClasses 6', inputs: { i: idx([2, 3], 4, 110) }, py: 'F.one_hot(i, 6)', ts: (t) => F.oneHot(t.i, 6) },
  { name: 'oneHot 2-d numClasses -1 given', inputs: { i: { data: [1, 4, 0, 2], shape: [2, 2], dtype: 'int64' } }, py: 'F.one_hot(i, -1)', ts: (t) => F.oneHot(t.i, -1) },
  { name: 'normalize', inputs: { x: inp([3, 4], 111) }, py: 'F.normalize(x)', ts: (t) => F.normalize(t.x) },
  { name: 'normalize p 1 dim 0', inputs: { x: inp([3, 4], 112) }, py: 'F.normalize(x, p=1, dim=0)', ts: (t) => F.normalize(t.x, { p: 1, dim: 0 }) },
  { name: 'normalize p 3 dim -1 eps (some norms clamped)', inputs: { x: inp([2, 3, 4], 113, { scale: 0.4 }) }, py: 'F.normalize(x, p=3, dim=-1, eps=0.4)', ts: (t) => F.normalize(t.x, { p: 3, dim: -1, eps: 0.4 }) },
  { name: 'normalize p inf', inputs: { x: inp([3, 4], 114) }, py: "F.normalize(x, p=float('inf'))", ts: (t) => F.normalize(t.x, { p: Infinity }) },
  { name: 'cosineSimilarity', inputs: { a: inp([4, 5], 115), b: inp([4, 5], 116) }, py: 'F.cosine_similarity(a, b)', ts: (t) => F.cosineSimilarity(t.a, t.b) },
  { name: 'cosineSimilarity dim 0 broadcast', inputs: { a: inp([3, 4], 117), b: inp([3, 1], 118) }, py: 'F.cosine_similarity(a, b, dim=0)', ts: (t) => F.cosineSimilarity(t.a, t.b, { dim: 0 }) },
  {
    name: 'cosineSimilarity dim -1 eps (some rows clamped)',
    inputs: { a: inp([2, 3, 4], 119), b: inp([2, 3, 4], 120) },
    py: 'F.cosine_similarity(a, b, dim=-1, eps=0.8)',
    ts: (t) => F.cosineSimilarity(t.a, t.b, { dim: -1, eps: 0.8 }),
    sameVersionOnly: 'PyTorch 2.x clamps each norm at eps, 1.13 their product',
  },
  { name: 'pairwiseDistance', inputs: { a: inp([4, 5], 121), b: inp([4, 5], 122) }, py: 'F.pairwise_distance(a, b)', ts: (t) => F.pairwiseDistance(t.a, t.b) },
  {
    name: 'pairwiseDistance p 1 eps keepdim',
    inputs: { a: inp([3, 4], 123), b: inp([3, 4], 124) },
    py: 'F.pairwise_distance(a, b, p=1, eps=1e-3, keepdim=True)',
    ts: (t) => F.pairwiseDistance(t.a, t.b, { p: 1, eps: 1e-3, keepdim: true }),
  },
  { name: 'pairwiseDistance p 3 broadcast 3-d', inputs: { a: inp([2, 3, 4], 125), b: inp([4], 126) }, py: 'F.pairwise_distance(a, b, p=3)', ts: (t) => F.pairwiseDistance(t.a, t.b, { p: 3 }) },
  { name: 'pairwiseDistance 1-d', inputs: { a: inp([5], 127), b: inp([5], 128) }, py: 'F.pairwise_distance(a, b, eps=0)', ts: (t) => F.pairwiseDistance(t.a, t.b, { eps: 0 }) },
  { name: 'einsum batched product', inputs: { a: inp([2, 3, 4], 100), b: inp([2, 4, 5], 101) }, py: "torch.einsum('bij,bjk->bki', a, b)", ts: (t) => torch.einsum('bij,bjk->bki', t.a, t.b) },
  // ---- losses
  { name: 'crossEntropy', inputs: { x: inp([5, 4], 50, { scale: 2 }), y: idx([5], 4, 51) }, py: 'F.cross_entropy(x, y)', ts: (t) => F.crossEntropy(t.x, t.y) },
  {
    name: 'crossEntropy weight ignoreIndex smoothing sum',
    inputs: { x: inp([6, 4], 52, { scale: 2 }), y: { data: [0, 3, 2, 1, 2, 3], shape: [6], dtype: 'int64' }, w: inp([4], 53, { grad: false, positive: true }) },
    py: "F.cross_entropy(x, y, weight=w, ignore_index=2, label_smoothing=0.2, reduction='sum')",
    ts: (t) => F.crossEntropy(t.x, t.y, { weight: t.w, ignoreIndex: 2, labelSmoothing: 0.2, reduction: 'sum' }),
  },
  { name: 'crossEntropy none spatial', inputs: { x: inp([2, 3, 2, 2], 54), y: idx([2, 2, 2], 3, 55) }, py: "F.cross_entropy(x, y, reduction='none')", ts: (t) => F.crossEntropy(t.x, t.y, { reduction: 'none' }) },
  {
    name: 'crossEntropy probabilities',
    inputs: { x: inp([3, 4], 56), p: { data: [0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25], shape: [3, 4], dtype: 'float64' } },
    py: 'F.cross_entropy(x, p, label_smoothing=0.1)',
    ts: (t) => F.crossEntropy(t.x, t.p, { labelSmoothing: 0.1 }),
  },
  { name: 'nllLoss', inputs: { x: inp([5, 3], 57), y: idx([5], 3, 58), w: inp([3], 59, { grad: false, positive: true }) }, py: 'F.nll_loss(F.log_softmax(x, 1), y, weight=w)', ts: (t) => F.nllLoss(F.logSoftmax(t.x, 1), t.y, { weight: t.w }) },
  { name: 'mseLoss', inputs: { x: inp([3, 4], 60), y: inp([3, 4], 61) }, py: 'F.mse_loss(x, y)', ts: (t) => F.mseLoss(t.x, t.y) },
  { name: 'mseLoss sum', inputs: { x: inp([3, 4], 62), y: inp([3, 4], 63) }, py: "F.mse_loss(x, y, reduction='sum')", ts: (t) => F.mseLoss(t.x, t.y, { reduction: 'sum' }) },
  { name: 'l1Loss none', inputs: { x: inp([3, 4], 64), y: inp([3, 4], 65) }, py: "F.l1_loss(x, y, reduction='none')", ts: (t) => F.l1Loss(t.x, t.y, { reduction: 'none' }) },
  { name: 'smoothL1Loss', inputs: { x: inp([3, 4], 130, { scale: 2 }), y: inp([3, 4], 131, { scale: 2 }) }, py: 'F.smooth_l1_loss(x, y)', ts: (t) => F.smoothL1Loss(t.x, t.y) },
  { name: 'smoothL1Loss beta 0.5 sum', inputs: { x: inp([3, 4], 132), y: inp([3, 4], 133) }, py: "F.smooth_l1_loss(x, y, reduction='sum', beta=0.5)", ts: (t) => F.smoothL1Loss(t.x, t.y, { reduction: 'sum', beta: 0.5 }) },
  { name: 'smoothL1Loss beta 0 none', inputs: { x: inp([2, 3, 2], 134), y: inp([2, 3, 2], 135) }, py: "F.smooth_l1_loss(x, y, reduction='none', beta=0.0)", ts: (t) => F.smoothL1Loss(t.x, t.y, { reduction: 'none', beta: 0 }) },
  { name: 'huberLoss', inputs: { x: inp([3, 4], 136, { scale: 2 }), y: inp([3, 4], 137, { scale: 2 }) }, py: 'F.huber_loss(x, y)', ts: (t) => F.huberLoss(t.x, t.y) },
  { name: 'huberLoss delta 0.3 none', inputs: { x: inp([3, 4], 138), y: inp([3, 4], 139) }, py: "F.huber_loss(x, y, reduction='none', delta=0.3)", ts: (t) => F.huberLoss(t.x, t.y, { reduction: 'none', delta: 0.3 }) },
  { name: 'huberLoss delta 2 sum', inputs: { x: inp([4, 3], 140, { scale: 3 }), y: inp([4, 3], 141) }, py: "F.huber_loss(x, y, reduction='sum', delta=2.0)", ts: (t) => F.huberLoss(t.x, t.y, { reduction: 'sum', delta: 2 }) },
  {
    name: 'binaryCrossEntropy',
    inputs: { x: inp([3, 4], 142, { positive: true, scale: 0.8 }), y: inp([3, 4], 143, { grad: false, positive: true, scale: 0.8 }) },
    py: 'F.binary_cross_entropy(x, y)',
    ts: (t) => F.binaryCrossEntropy(t.x, t.y),
  },
  {
    name: 'binaryCrossEntropy weight sum',
    inputs: { x: inp([3, 4], 144, { positive: true, scale: 0.8 }), y: inp([3, 4], 145, { grad: false, positive: true, scale: 0.8 }), w: inp([4], 146, { grad: false, positive: true }) },
    py: "F.binary_cross_entropy(x, y, weight=w, reduction='sum')",
    ts: (t) => F.binaryCrossEntropy(t.x, t.y, { weight: t.w, reduction: 'sum' }),
  },
  {
    name: 'binaryCrossEntropy weight none',
    inputs: { x: inp([3, 4], 147, { positive: true, scale: 0.8 }), y: inp([3, 4], 148, { grad: false, positive: true, scale: 0.8 }), w: inp([3, 1], 149, { grad: false, positive: true }) },
    py: "F.binary_cross_entropy(x, y, weight=w, reduction='none')",
    ts: (t) => F.binaryCrossEntropy(t.x, t.y, { weight: t.w, reduction: 'none' }),
  },
  {
    name: 'binaryCrossEntropy at 0 and 1 (logs clamped at -100)',
    inputs: { x: { data: [0, 1, 0.5, 1e-3, 0, 1], shape: [6], dtype: 'float64', grad: true }, y: { data: [0.3, 0.7, 1, 0, 0, 1], shape: [6], dtype: 'float64' } },
    py: "F.binary_cross_entropy(x, y, reduction='none')",
    ts: (t) => F.binaryCrossEntropy(t.x, t.y, { reduction: 'none' }),
  },
  {
    name: 'binaryCrossEntropyWithLogits posWeight weight',
    inputs: { x: inp([4, 3], 66, { scale: 3 }), y: inp([4, 3], 67, { grad: false, positive: true, scale: 0.5 }), pw: inp([3], 68, { grad: false, positive: true }), w: inp([4, 1], 69, { grad: false, positive: true }) },
    py: 'F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw)',
    ts: (t) => F.binaryCrossEntropyWithLogits(t.x, t.y, { weight: t.w, posWeight: t.pw }),
  },
  {
    name: 'klDiv batchmean',
    inputs: { x: inp([3, 4], 70), y: inp([3, 4], 71) },
    py: "F.kl_div(F.log_softmax(x, 1), F.softmax(y, 1), reduction='batchmean')",
    ts: (t) => F.klDiv(F.logSoftmax(t.x, 1), F.softmax(t.y, 1), { reduction: 'batchmean' }),
  },
  {
    name: 'klDiv logTarget none',
    inputs: { x: inp([3, 4], 72), y: inp([3, 4], 73) },
    py: "F.kl_div(F.log_softmax(x, 1), F.log_softmax(y, 1), reduction='none', log_target=True)",
    ts: (t) => F.klDiv(F.logSoftmax(t.x, 1), F.logSoftmax(t.y, 1), { reduction: 'none', logTarget: true }),
  },
];

describe.skipIf(!hasTorch)('functional ops and losses equal python3-torch (values and gradients; needs python3 with torch)', () => {
  // Upstream gradients: Python needs the output shape first, so shapes come from the ictorch side.
  const ours = new Map<string, { shape: number[]; out: number[]; grads: Record<string, number[] | null>; gradOut: number[] | undefined }>();
  for (const c of CASES) {
    tidy(() => {
      if (c.seed !== undefined) manualSeed(c.seed);
      const ts = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, toTensor(v)]));
      const out = c.ts(ts);
      const flat = Array.from(out.to('float64').toArray() as Float64Array);
      const wantsGrad = Object.values(c.inputs).some((v) => v.grad);
      const gradOut = wantsGrad && !c.noGrad ? values(out.numel(), 99) : undefined;
      const grads: Record<string, number[] | null> = {};
      if (gradOut) {
        out.backward(tensor(Float64Array.from(gradOut), { shape: out.shape }));
        for (const [k, v] of Object.entries(c.inputs)) if (v.grad) grads[k] = ts[k].grad ? Array.from(ts[k].grad!.toArray() as Float64Array) : null;
      }
      ours.set(c.name, { shape: out.shape, out: flat, grads, gradOut });
    });
  }
  let ref: Awaited<ReturnType<typeof runCases>>;
  beforeAll(async () => {
    ref = await runCases(CASES.map((c): PyCase => ({ name: c.name, inputs: c.inputs, expr: c.py, seed: c.seed, gradOut: ours.get(c.name)!.gradOut })));
  });

  for (const c of CASES) {
    it.skipIf(c.sameVersionOnly !== undefined && !sameTorchVersion(torch.info().torchVersion))(c.name, () => {
      const a = ours.get(c.name)!;
      const b = ref[c.name];
      const tol = c.tol ?? 1e-10;
      expect(a.shape).toEqual(b.shape);
      expect(a.out.length).toBe(b.out.length);
      a.out.forEach((v, i) => expect(Math.abs(v - b.out[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b.out[i]))));
      expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
      for (const [k, g] of Object.entries(a.grads)) {
        const r = b.grads[k];
        expect(g === null, `gradient of ${k}`).toBe(r === null);
        g?.forEach((v, i) => expect(Math.abs(v - r![i]), `gradient of ${k}[${i}]`).toBeLessThanOrEqual(tol * (1 + Math.abs(r![i]))));
      }
    });
  }

  it('maxPool2d returnIndices gives the indices PyTorch gives', async () => {
    const x = inp([1, 2, 5, 4], 80, { grad: false });
    const r = (await runCases([{ name: 'i', inputs: { x }, expr: 'F.max_pool2d(x, 2, return_indices=True)[1]' }])).i;
    tidy(() => {
      const [out, indices] = F.maxPool2d(toTensor(x), 2, { returnIndices: true });
      expect(out.shape).toEqual([1, 2, 2, 2]);
      expect(Array.from(indices.toArray() as BigInt64Array, Number)).toEqual(r.out);
    });
  });
});

describe('functional errors name the op and the mismatch', () => {
  const x4 = () => torch.randn([2, 3, 8, 8]);
  it('conv2d: channels, dims, dtype, bias, padding', () =>
    tidy(() => {
      expect(() => F.conv2d(x4(), torch.randn([4, 2, 3, 3]))).toThrow('conv2d: expected 2 channels in dim 1 (weight [4, 2, 3, 3], groups 1) for input but received shape [2, 3, 8, 8]');
      expect(() => F.conv2d(torch.randn([3, 8]), torch.randn([4, 3, 3, 3]))).toThrow(/conv2d: expected a 4-d \(N, C, H, W\) or 3-d \(C, H, W\) tensor for input but received shape \[3, 8\]/);
      expect(() => F.conv2d(x4(), torch.randn([4, 3, 3, 3], { dtype: 'float64' }))).toThrow("conv2d: expected weight of input's dtype float32 but received float64");
      expect(() => F.conv2d(x4(), torch.randn([4, 3, 3, 3]), torch.randn([5]))).toThrow('conv2d: expected shape [4] (one per output channel of weight [4, 3, 3, 3]) for bias but received shape [5]');
      expect(() => F.conv2d(x4(), torch.randn([4, 3, 3, 3]), null, { stride: 2, padding: 'same' })).toThrow(/conv2d: expected a number when stride is not 1/);
      expect(() => F.conv2d(x4(), torch.randn([4, 3, 9, 9]))).toThrow(/conv2d: expected spatial size at least \[9, 9\]/);
      expect(() => F.conv2d(x4(), torch.randn([4, 3, 3, 3]), null, { strides: 2 } as never)).toThrow("conv2d: unknown option 'strides'; did you mean 'stride'? (known: stride, padding, dilation, groups)");
      expect(() => F.conv2d(torch.zeros([1, 3, 4, 4], { dtype: 'int64' }), torch.randn([4, 3, 3, 3]))).toThrow('conv2d: expected a floating-point tensor for input but received int64');
    }));
  it('linear, batchNorm, layerNorm, pooling, embedding', () =>
    tidy(() => {
      expect(() => F.linear(torch.randn([2, 5]), torch.randn([3, 4]))).toThrow('linear: expected a last dimension of 4 (the inFeatures of weight [3, 4]) for input but received shape [2, 5]');
      expect(() => F.batchNorm(x4(), torch.zeros([4]), torch.ones([4]))).toThrow('batchNorm: expected shape [3] (one per channel of input [2, 3, 8, 8]) for runningMean but received shape [4]');
      expect(() => F.batchNorm(x4(), null, null)).toThrow(/batchNorm: expected Tensors when training is false/);
      expect(() => F.layerNorm(x4(), [8, 7])).toThrow('layerNorm: expected trailing dimensions [8, 7] (normalizedShape) for input but received shape [2, 3, 8, 8]');
      expect(() => F.maxPool2d(x4(), 3, { padding: 2 })).toThrow(/maxPool2d: expected at most half the kernel size \[3, 3\] for padding/);
      expect(() => F.avgPool2d(torch.randn([1, 1, 2, 2]), 3)).toThrow(/avgPool2d: expected a padded spatial size of at least the kernel \[3, 3\]/);
      expect(() => F.embedding(torch.tensor([1, 7], { dtype: 'int64' }), torch.randn([5, 2]))).toThrow('embedding: index 7 is out of range for a weight of 5 embeddings (expected indices in [0, 5))');
      expect(() => F.embedding(torch.tensor([-1, 2], { dtype: 'int64' }), torch.randn([5, 2]))).toThrow('embedding: index -1 is out of range for a weight of 5 embeddings');
      expect(() => F.embedding(torch.tensor([1.5]), torch.randn([5, 2]))).toThrow('embedding: expected int64 or int32 indices for input but received float32');
      expect(() => F.dropout(x4(), { p: 1.5 })).toThrow('dropout: expected a number in [0, 1] for p but received 1.5 (number)');
      expect(() => F.softmax(x4(), 4)).toThrow(/softmax: expected an integer between -4 and 3 for dim/);
    }));
  it('oneHot, normalize, the distances and the new losses: class range, dtype, probabilities, shapes, options', () =>
    tidy(() => {
      const a = torch.randn([2, 3]);
      const cases: ErrorCase[] = [
        [() => F.oneHot(torch.tensor([0n, 3n, 1n]), 3), RangeError, /^oneHot: class values must be smaller than numClasses \(3\), found 3/],
        [() => F.oneHot(torch.tensor([[0n, 1n], [-1n, 2n]])), RangeError, /^oneHot: class values must be >= 0, found -1/],
        [() => F.oneHot(torch.tensor([-2n]), 4), RangeError, /^oneHot: class values must be >= 0, found -2/],
        [() => F.oneHot(torch.tensor([0, 1]), 3), TypeError, /^oneHot: tensor must be an int64 tensor of class indices, got float32/],
        [() => F.oneHot(torch.tensor([0, 1], { dtype: 'float64' })), TypeError, /^oneHot: .*int64.*float64/],
        [() => F.oneHot(torch.tensor([0n]), -2), RangeError, /^oneHot: expected an integer between -1 and \d+ for numClasses but received -2/],
        [() => F.oneHot(torch.tensor([0n]), 1.5), TypeError, /^oneHot: expected an integer for numClasses but received 1\.5/],
        [() => F.oneHot([0, 1] as never, 2), TypeError, /^oneHot: expected a Tensor for tensor/],
        [() => F.normalize(a, { dims: 1 } as never), TypeError, /^normalize: unknown option 'dims'; did you mean 'dim'\? \(known: p, dim, eps\)/],
        [() => F.normalize(torch.tensor([[3n, 4n]])), TypeError, /^normalize: expected a floating-point tensor for input but received int64/],
        [() => F.normalize(a, { eps: -1 }), RangeError, /^normalize: expected a number in \[0, Infinity\] for eps but received -1/],
        [() => F.cosineSimilarity(a, a, { eps: 1e-8, keepdim: true } as never), TypeError, /^cosineSimilarity: unknown option 'keepdim' \(known: dim, eps\)/],
        [() => F.cosineSimilarity(a, torch.randn([2, 4])), Error, /^cosineSimilarity: .*size of tensor a \(3\) must match the size of tensor b \(4\)/],
        [() => F.cosineSimilarity(a, torch.randn([2, 3], { dtype: 'float64' })), TypeError, /^cosineSimilarity: expected x2 of x1's dtype float32 but received float64/],
        [() => F.cosineSimilarity(a, a, { dim: 2 }), RangeError, /^cosineSimilarity: Dimension out of range/],
        [() => F.pairwiseDistance(a, a, { keepDim: true } as never), TypeError, /^pairwiseDistance: unknown option 'keepDim'; did you mean 'keepdim'\?/],
        [() => F.pairwiseDistance(a, torch.randn([3, 3])), Error, /^pairwiseDistance: .*size of tensor a \(2\) must match the size of tensor b \(3\)/],
        [() => F.pairwiseDistance(a, a, { p: -1 }), RangeError, /^pairwiseDistance: expected a number in \[0, Infinity\] for p but received -1/],
        [() => F.pairwiseDistance(a, a, { keepdim: 1 as never }), TypeError, /^pairwiseDistance: expected a boolean for keepdim but received 1/],
        [() => F.smoothL1Loss(a, torch.randn([3])), RangeError, /^smoothL1Loss: expected the input's shape \[2, 3\] for target but received shape \[3\]/],
        [() => F.smoothL1Loss(a, a, { delta: 1 } as never), TypeError, /^smoothL1Loss: unknown option 'delta'; did you mean 'beta'\? \(known: reduction, beta\)/],
        [() => F.smoothL1Loss(a, a, { beta: -0.5 }), RangeError, /^smoothL1Loss: expected a number in \[0, Infinity\] for beta but received -0\.5/],
        [() => F.smoothL1Loss(a, a, { reduction: 'avg' as never }), TypeError, /^smoothL1Loss: expected one of "mean", "sum", "none" for reduction/],
        [() => F.huberLoss(a, torch.randn([2, 1])), RangeError, /^huberLoss: expected the input's shape \[2, 3\] for target but received shape \[2, 1\]/],
        [() => F.huberLoss(a, a, { beta: 1 } as never), TypeError, /^huberLoss: unknown option 'beta'; did you mean 'delta'\? \(known: reduction, delta\)/],
        [() => F.huberLoss(a, a, { delta: 0 }), RangeError, /^huberLoss: expected a number > 0 for delta but received 0/],
        [() => F.huberLoss(a, a, { delta: -1 }), RangeError, /^huberLoss: expected a number > 0 for delta but received -1/],
        [() => F.normalize(a, { dim: 2 }), RangeError, /^normalize: .*dim/],
        [() => F.binaryCrossEntropy(a.sigmoid(), a.sigmoid(), { weight: torch.ones([4]) }), RangeError, /^binaryCrossEntropy: expected a shape that broadcasts to the input's \[2, 3\] for weight but received shape \[4\]/],
        [() => F.huberLoss(torch.tensor([1n]), torch.tensor([1n])), TypeError, /^huberLoss: expected a floating-point tensor for input but received int64/],
        [() => F.binaryCrossEntropy(torch.tensor([0.5, 1.5]), torch.tensor([1, 0])), RangeError, /^binaryCrossEntropy: input must hold probabilities in \[0, 1\]/],
        [() => F.binaryCrossEntropy(torch.tensor([-0.1, 0.5]), torch.tensor([1, 0])), RangeError, /^binaryCrossEntropy: input must hold probabilities in \[0, 1\]/],
        [() => F.binaryCrossEntropy(torch.tensor([NaN, 0.5]), torch.tensor([1, 0])), RangeError, /^binaryCrossEntropy: input must hold probabilities in \[0, 1\]/],
        [() => F.binaryCrossEntropy(a.sigmoid(), torch.rand([2, 3, 1])), RangeError, /^binaryCrossEntropy: expected the input's shape \[2, 3\] for target but received shape \[2, 3, 1\]/],
        [() => F.binaryCrossEntropy(a.sigmoid(), a.sigmoid(), { posWeight: a } as never), TypeError, /^binaryCrossEntropy: unknown option 'posWeight'; did you mean 'weight'\? \(known: weight, reduction\)/],
        [() => F.binaryCrossEntropy(a.sigmoid(), a.sigmoid(), { weight: torch.ones([3], { dtype: 'float64' }) }), TypeError, /^binaryCrossEntropy: expected weight of input's dtype float32 but received float64/],
      ];
      expectErrors(cases);
      // what is accepted: an empty tensor with numClasses, probabilities 0 and 1
      expect(F.oneHot(torch.zeros([0, 2], { dtype: 'int64' }), 3).shape).toEqual([0, 2, 3]);
      expect(F.oneHot(torch.tensor([2n, 0n]), -1).dtype).toBe('int64');
      expect(F.binaryCrossEntropy(torch.tensor([0, 1]), torch.tensor([1, 0])).item()).toBe(100);
      // targets outside [0, 1]: LibTorch 1.13 took them, 2.x refuses them (and CUDA asserts): refused everywhere
      expect(() => F.binaryCrossEntropy(torch.tensor([0.2, 0.7]), torch.tensor([1.5, -0.5]))).toThrow(/^binaryCrossEntropy: target must hold values in \[0, 1\], found -0\.5$/);
      expect(() => F.binaryCrossEntropy(torch.tensor([0.2]), torch.tensor([NaN]))).toThrow(RangeError);
    }));
  it('crossEntropy: batch size, float labels, class range, weight (where it used to return a loss or name gather)', () =>
    tidy(() => {
      const logits = torch.randn([4, 10]);
      expect(() => F.crossEntropy(logits, torch.tensor([1, 2, 3], { dtype: 'int64' }))).toThrow(
        'crossEntropy: expected shape [4] (one class index per sample of input [4, 10]; the batch sizes 4 and 3 differ) for target but received shape [3]',
      );
      expect(() => F.crossEntropy(logits, torch.tensor([1, 2, 3, 4]))).toThrow(
        "crossEntropy: expected int64 class indices of shape [4], or float probabilities of the input's shape [4, 10], for target but received float32 of shape [4]",
      );
      expect(() => F.crossEntropy(logits, torch.tensor([1, 2, 12, 4], { dtype: 'int64' }))).toThrow('crossEntropy: target holds class 12, outside [0, 10) for an input with 10 classes');
      expect(() => F.crossEntropy(logits, torch.tensor([1, -1, 2, 4], { dtype: 'int64' }))).toThrow('crossEntropy: target holds class -1, outside [0, 10)');
      expect(() => F.crossEntropy(logits, torch.tensor([1, 2, 3, 4], { dtype: 'int64' }), { weight: torch.ones([9]) })).toThrow(/crossEntropy: expected shape \[10\] \(one per class of input \[4, 10\]\) for weight/);
      expect(() => F.crossEntropy(logits, torch.tensor([1, 2, 3, 4], { dtype: 'int64' }), { reduction: 'avg' as never })).toThrow(/crossEntropy: expected one of "mean", "sum", "none" for reduction/);
      expect(() => F.crossEntropy(logits, torch.tensor([1, 2, 3, 4], { dtype: 'int64' }), { smoothing: 0.1 } as never)).toThrow(/crossEntropy: unknown option 'smoothing'.* \(known: weight, ignoreIndex, reduction, labelSmoothing\)/);
      expect(() => F.nllLoss(logits, torch.randn([4, 10]))).toThrow(/nllLoss: expected int64 class indices of shape \[4\] for target but received float32 of shape \[4, 10\]/);
      expect(() => F.mseLoss(logits, torch.randn([4, 1]))).toThrow("mseLoss: expected the input's shape [4, 10] for target but received shape [4, 1]");
      // ignoreIndex marks targets outside [0, C) as fine; int32 labels are widened.
      const ok = F.crossEntropy(logits, torch.tensor([1, -100, 3, 4], { dtype: 'int64' }));
      // ... but not a target out of range beside an ignored one, nor one beside a custom ignoreIndex
      expect(() => F.crossEntropy(logits, torch.tensor([-100, 10, 3, 4], { dtype: 'int64' }))).toThrow('crossEntropy: target holds class 10, outside [0, 10)');
      expect(() => F.nllLoss(logits, torch.tensor([7, -3, 3, -100], { dtype: 'int64' }), { ignoreIndex: 7 })).toThrow('nllLoss: target holds class -100, outside [0, 10)');
      expect(Number.isFinite(ok.item() as number)).toBe(true);
      const i32 = F.crossEntropy(logits, torch.tensor([1, 2, 3, 4], { dtype: 'int32' }));
      expect(i32.item()).toBeCloseTo(F.crossEntropy(logits, torch.tensor([1, 2, 3, 4], { dtype: 'int64' })).item() as number, 6);
    }));
});
