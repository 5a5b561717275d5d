/**
 * Loss functions, as in `torch.nn.functional`: `crossEntropy`, `nllLoss`, `mseLoss`, `l1Loss`, `smoothL1Loss`,
 * `huberLoss`, `binaryCrossEntropy`, `binaryCrossEntropyWithLogits`, `klDiv`, `marginRankingLoss`,
 * `hingeEmbeddingLoss`, `softMarginLoss`, `cosineEmbeddingLoss`, `tripletMarginLoss`, `tripletMarginWithDistanceLoss`,
 * `multiMarginLoss`,
 * `multilabelMarginLoss`, `multilabelSoftMarginLoss`, `poissonNllLoss`, `gaussianNllLoss` and `ctcLoss`, each with
 * `reduction: 'mean' | 'sum' | 'none'`. Shapes and dtypes are checked first and a mismatch is named
 * ("crossEntropy: expected target of shape [4] ... but received shape [3]"); class indices outside [0, C) are an
 * error (one host read), never a crash.
 */
import type { TensorHandle } from '../native';
import { native } from '../native';
import { noGrad } from '../autograd';
import { isFloatingDType } from '../dtype';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkInt, rangeError, typeError } from '../validate';
import { boolOpt, fmt, floatArg, knownOptions, numberOpt, optTensorArg, perChannel, reductionOpt, sameKind, shapeError, tensorArg, type Reduction } from './checks';
import { logsigmoid } from './functional-extra';

export type { Reduction } from './checks';

const N = native();
const h = (t: Tensor | null): TensorHandle | null => (t ? t.handle : null);
const INTS = ['int64', 'int32', 'int16', 'int8', 'uint8'];

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** Weight of each class (1-d, C). */
  weight?: Tensor | null;
  /** Targets equal to this class index contribute nothing (default -100). */
  ignoreIndex?: number;
  reduction?: Reduction;
  /** The target puts 1 - s on the label and s/C on every class, in [0, 1]. */
  labelSmoothing?: number;
}

/** Checks class-index or probability targets against `input` and returns the class count. */
function classTarget(op: string, x: Tensor, t: Tensor, allowProbabilities: boolean): number {
  if (x.ndim < 1) throw shapeError(op, 'input', 'scores of shape (C), (N, C) or (N, C, d1, ...)', x.shape);
  const c = x.ndim === 1 ? x.shape[0] : x.shape[1];
  const indexShape = x.ndim === 1 ? [] : [x.shape[0], ...x.shape.slice(2)];
  const expected = allowProbabilities
    ? `int64 class indices of shape ${fmt(indexShape)}, or float probabilities of the input's shape ${fmt(x.shape)},`
    : `int64 class indices of shape ${fmt(indexShape)}`;
  if (isFloatingDType(t.dtype)) {
    if (!allowProbabilities) throw new TypeError(`${op}: expected ${expected} for target but received ${t.dtype} of shape ${fmt(t.shape)}`);
    if (fmt(t.shape) !== fmt(x.shape)) throw new TypeError(`${op}: expected ${expected} for target but received ${t.dtype} of shape ${fmt(t.shape)}`);
    sameKind(op, 'target', t, 'input', x);
    return c;
  }
  if (!INTS.includes(t.dtype)) throw new TypeError(`${op}: expected ${expected} for target but received ${t.dtype} of shape ${fmt(t.shape)}`);
  if (t.device !== x.device) throw new TypeError(`${op}: expected target on input's device ${x.device} but received one on ${t.device}`);
  if (fmt(t.shape) !== fmt(indexShape)) {
    const batch = x.ndim >= 2 && t.ndim >= 1 && t.shape[0] !== x.shape[0] ? `; the batch sizes ${x.shape[0]} and ${t.shape[0]} differ` : '';
    throw shapeError(op, 'target', `shape ${fmt(indexShape)} (one class index per ${x.ndim === 1 ? 'input' : 'sample'} of input ${fmt(x.shape)}${batch})`, t.shape);
  }
  return c;
}

function classWeight(op: string, x: Tensor, weight: unknown, c: number): Tensor | null {
  const w = optTensorArg(op, 'weight', weight);
  if (w) {
    sameKind(op, 'weight', w, 'input', x);
    perChannel(op, 'weight', w, c, `one per class of input ${fmt(x.shape)}`);
  }
  return w;
}

/**
 * Cross-entropy between unnormalised scores `input` (N, C) — or (C), or (N, C, d1, ...) — and `target`:
 * class indices (N) (int64; int32/uint8 are widened), or class probabilities of the input's shape. As
 * `torch.nn.functional.cross_entropy`.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const o = knownOptions(op, options, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
  const x = floatArg(op, 'input', input);
  const t = tensorArg(op, 'target', target);
  const c = classTarget(op, x, t, true);
  const w = classWeight(op, x, o.weight, c);
  const ignoreIndex = checkInt(op, 'ignoreIndex', o.ignoreIndex ?? -100);
  const labelSmoothing = numberOpt(op, 'labelSmoothing', o.labelSmoothing, 0, { min: 0, max: 1 });
  return new Tensor(N.crossEntropy(x.handle, t.handle, h(w), reductionOpt(op, o.reduction), ignoreIndex, labelSmoothing));
}

/** Options of `nllLoss`. */
export interface NllLossOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Negative log-likelihood of class indices `target` (N) under log-probabilities `input` (N, C), as `torch.nn.functional.nll_loss`. */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  const op = 'nllLoss';
  const o = knownOptions(op, options, ['weight', 'ignoreIndex', 'reduction']);
  const x = floatArg(op, 'input', input);
  const t = tensorArg(op, 'target', target);
  const c = classTarget(op, x, t, false);
  const w = classWeight(op, x, o.weight, c);
  return new Tensor(N.nllLoss(x.handle, t.handle, h(w), reductionOpt(op, o.reduction), checkInt(op, 'ignoreIndex', o.ignoreIndex ?? -100)));
}

/** `input` and `target` of one shape and float dtype (PyTorch only warns when they broadcast; that is almost always a bug). */
function sameShape(op: string, input: unknown, target: unknown): [Tensor, Tensor] {
  const x = floatArg(op, 'input', input);
  const t = floatArg(op, 'target', target);
  if (fmt(t.shape) !== fmt(x.shape)) throw shapeError(op, 'target', `the input's shape ${fmt(x.shape)}`, t.shape);
  sameKind(op, 'target', t, 'input', x);
  return [x, t];
}

/** Mean squared error, as `torch.nn.functional.mse_loss` (input and target of one shape). */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const o = knownOptions('mseLoss', options, ['reduction']);
  const [x, t] = sameShape('mseLoss', input, target);
  return new Tensor(N.pointwiseLoss('mse', x.handle, t.handle, reductionOpt('mseLoss', o.reduction)));
}

/** Mean absolute error, as `torch.nn.functional.l1_loss` (input and target of one shape). */
export function l1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const o = knownOptions('l1Loss', options, ['reduction']);
  const [x, t] = sameShape('l1Loss', input, target);
  return new Tensor(N.pointwiseLoss('l1', x.handle, t.handle, reductionOpt('l1Loss', o.reduction)));
}

/**
 * Smooth L1 loss, as `torch.nn.functional.smooth_l1_loss`: 0.5·d²/beta where |d| < beta, else |d| − 0.5·beta
 * (input and target of one shape; beta ≥ 0, default 1; beta 0 is the L1 loss).
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction; beta?: number } = {}): Tensor {
  const op = 'smoothL1Loss';
  const o = knownOptions(op, options, ['reduction', 'beta']);
  const [x, t] = sameShape(op, input, target);
  return new Tensor(N.pointwiseLoss('smoothL1', x.handle, t.handle, reductionOpt(op, o.reduction), numberOpt(op, 'beta', o.beta, 1, { min: 0, max: Infinity })));
}

/**
 * Huber loss, as `torch.nn.functional.huber_loss`: 0.5·d² where |d| < delta, else delta·(|d| − 0.5·delta)
 * (input and target of one shape; delta > 0, default 1).
 */
export function huberLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction; delta?: number } = {}): Tensor {
  const op = 'huberLoss';
  const o = knownOptions(op, options, ['reduction', 'delta']);
  const [x, t] = sameShape(op, input, target);
  const delta = numberOpt(op, 'delta', o.delta, 1);
  if (!(delta > 0)) throw new RangeError(`${op}: expected a number > 0 for delta but received ${delta}`);
  return new Tensor(N.pointwiseLoss('huber', x.handle, t.handle, reductionOpt(op, o.reduction), delta));
}

/** Options of `binaryCrossEntropy`. */
export interface BCEOptions {
  /** Rescales each element's loss (broadcast to the input's shape). */
  weight?: Tensor | null;
  reduction?: Reduction;
}

/**
 * Binary cross-entropy of probabilities `input` (in [0, 1], e.g. after a sigmoid) against targets in [0, 1] of
 * the same shape, as `torch.nn.functional.binary_cross_entropy` (each log clamped at −100, as PyTorch's).
 * `binaryCrossEntropyWithLogits` is the stable form on logits.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BCEOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  const o = knownOptions(op, options, ['weight', 'reduction']);
  const [x, t] = sameShape(op, input, target);
  const w = optTensorArg(op, 'weight', o.weight);
  if (w) {
    sameKind(op, 'weight', w, 'input', x);
    // PyTorch broadcasts the weight to the input's shape (not the other way round)
    const broadcasts = w.ndim <= x.ndim && w.shape.every((n, i) => n === 1 || n === x.shape[x.ndim - w.ndim + i]);
    if (!broadcasts) throw shapeError(op, 'weight', `a shape that broadcasts to the input's ${fmt(x.shape)}`, w.shape);
  }
  return new Tensor(N.pointwiseLoss('bce', x.handle, t.handle, reductionOpt(op, o.reduction), null, h(w)));
}

/** Options of `binaryCrossEntropyWithLogits`. */
export interface BCEWithLogitsOptions {
  /** Rescales each element's loss (broadcast to the input's shape). */
  weight?: Tensor | null;
  /** Weight of the positive examples, one per class (the last dimension). */
  posWeight?: Tensor | null;
  reduction?: Reduction;
}

/** Binary cross-entropy of logits `input` against targets in [0, 1] of the same shape, computed stably, as `torch.nn.functional.binary_cross_entropy_with_logits`. */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BCEWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  const o = knownOptions(op, options, ['weight', 'posWeight', 'reduction']);
  const [x, t] = sameShape(op, input, target);
  const w = optTensorArg(op, 'weight', o.weight);
  if (w) sameKind(op, 'weight', w, 'input', x);
  const pw = optTensorArg(op, 'posWeight', o.posWeight);
  if (pw) {
    sameKind(op, 'posWeight', pw, 'input', x);
    const last = x.shape[x.ndim - 1] ?? 1;
    if (pw.ndim > 1 || (pw.ndim === 1 && pw.shape[0] !== last && pw.shape[0] !== 1)) throw shapeError(op, 'posWeight', `shape [${last}] (one weight per class, the input's last dimension)`, pw.shape);
  }
  return new Tensor(N.bceWithLogits(x.handle, t.handle, h(w), h(pw), reductionOpt(op, o.reduction)));
}

/** Options of `klDiv`. */
export interface KlDivOptions {
  /** `batchmean` (the sum divided by the batch size) is the mathematically correct KL divergence; `mean` (default, as PyTorch) averages over all elements. */
  reduction?: Reduction | 'batchmean';
  /** `target` holds log-probabilities instead of probabilities. */
  logTarget?: boolean;
}

/** Kullback-Leibler divergence KL(target ‖ input) with `input` as log-probabilities, as `torch.nn.functional.kl_div`. */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  const op = 'klDiv';
  const o = knownOptions(op, options, ['reduction', 'logTarget']);
  const [x, t] = sameShape(op, input, target);
  const reduction = reductionOpt(op, o.reduction, ['mean', 'sum', 'none', 'batchmean']);
  if (o.logTarget !== undefined && typeof o.logTarget !== 'boolean') throw new TypeError(`${op}: expected a boolean for logTarget but received ${typeof o.logTarget}`);
  return new Tensor(N.klDiv(x.handle, t.handle, reduction, (o.logTarget as boolean | undefined) ?? false));
}

// ---------------------------------------------------------------- margin and embedding losses

const SIGNED_INTS = ['int64', 'int32', 'int16', 'int8'];

/** Checks that `t` has `like`'s shape ("expected input1's shape [4] for target but received shape [3]"). */
function sameShapeAs(op: string, arg: string, t: Tensor, likeArg: string, like: Tensor): void {
  if (fmt(t.shape) !== fmt(like.shape)) throw shapeError(op, arg, `${likeArg}'s shape ${fmt(like.shape)}`, t.shape);
}

/**
 * A target of labels (1 or −1; multi-label 0 or 1): floating point of `like`'s dtype, or signed integers (as
 * PyTorch, which promotes them), on `like`'s device.
 */
function labelTarget(op: string, arg: string, v: unknown, likeArg: string, like: Tensor): Tensor {
  const t = tensorArg(op, arg, v);
  if (isFloatingDType(t.dtype)) {
    sameKind(op, arg, t, likeArg, like);
  } else if (SIGNED_INTS.includes(t.dtype)) {
    if (t.device !== like.device) throw new TypeError(`${op}: expected ${arg} on ${likeArg}'s device ${like.device} but received one on ${t.device}`);
  } else {
    throw new TypeError(`${op}: expected a floating-point or signed integer tensor of labels for ${arg} but received ${t.dtype}`);
  }
  return t;
}

/** Options of `marginRankingLoss`. */
export interface MarginRankingLossFunctionalOptions {
  /** The margin the ranking must hold by (default 0). */
  margin?: number;
  /** `'mean'` (default) or `'sum'` of the losses, or `'none'` (each loss). */
  reduction?: Reduction;
}

/**
 * Margin ranking loss, as `torch.nn.functional.margin_ranking_loss`: max(0, −target·(input1 − input2) + margin)
 * per element, with `target` 1 where `input1` should rank higher and −1 where `input2` should (the three of one
 * shape).
 */
export function marginRankingLoss(input1: Tensor, input2: Tensor, target: Tensor, options: MarginRankingLossFunctionalOptions = {}): Tensor {
  const op = 'marginRankingLoss';
  const o = knownOptions(op, options, ['margin', 'reduction']);
  const x1 = floatArg(op, 'input1', input1);
  const x2 = floatArg(op, 'input2', input2);
  sameKind(op, 'input2', x2, 'input1', x1);
  sameShapeAs(op, 'input2', x2, 'input1', x1);
  const t = labelTarget(op, 'target', target, 'input1', x1);
  sameShapeAs(op, 'target', t, 'input1', x1);
  const margin = numberOpt(op, 'margin', o.margin, 0);
  return new Tensor(N.marginLoss('marginRanking', x1.handle, x2.handle, t.handle, margin, reductionOpt(op, o.reduction)));
}

/** Options of `hingeEmbeddingLoss`. */
export interface HingeEmbeddingLossFunctionalOptions {
  /** The margin dissimilar pairs are pushed beyond (default 1). */
  margin?: number;
  /** `'mean'` (default) or `'sum'` of the losses, or `'none'` (each loss). */
  reduction?: Reduction;
}

/**
 * Hinge embedding loss, as `torch.nn.functional.hinge_embedding_loss`: `input` (a distance, e.g. an L1
 * distance) where `target` is 1, max(0, margin − input) where it is −1 (input and target of one shape).
 */
export function hingeEmbeddingLoss(input: Tensor, target: Tensor, options: HingeEmbeddingLossFunctionalOptions = {}): Tensor {
  const op = 'hingeEmbeddingLoss';
  const o = knownOptions(op, options, ['margin', 'reduction']);
  const x = floatArg(op, 'input', input);
  const t = labelTarget(op, 'target', target, 'input', x);
  sameShapeAs(op, 'target', t, 'the input', x);
  const margin = numberOpt(op, 'margin', o.margin, 1);
  return new Tensor(N.marginLoss('hingeEmbedding', x.handle, null, t.handle, margin, reductionOpt(op, o.reduction)));
}

/**
 * Soft margin loss, as `torch.nn.functional.soft_margin_loss`: log(1 + exp(−target·input)) per element, a
 * two-class logistic loss with labels 1 and −1 (input and target of one shape).
 */
export function softMarginLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const op = 'softMarginLoss';
  const o = knownOptions(op, options, ['reduction']);
  const x = floatArg(op, 'input', input);
  const t = labelTarget(op, 'target', target, 'input', x);
  sameShapeAs(op, 'target', t, 'the input', x);
  return new Tensor(N.marginLoss('softMargin', x.handle, null, t.handle, 0, reductionOpt(op, o.reduction)));
}

/** Options of `cosineEmbeddingLoss`. */
export interface CosineEmbeddingLossFunctionalOptions {
  /** Dissimilar pairs are penalised where their cosine similarity exceeds it, in [−1, 1] (default 0). */
  margin?: number;
  /** `'mean'` (default) or `'sum'` of the losses, or `'none'` (each loss). */
  reduction?: Reduction;
}

/**
 * Cosine embedding loss, as `torch.nn.functional.cosine_embedding_loss`: 1 − cos(input1, input2) where `target`
 * is 1, max(0, cos(input1, input2) − margin) where it is −1. Inputs (N, D) with target (N), or unbatched (D) with
 * a 0-d target.
 */
export function cosineEmbeddingLoss(input1: Tensor, input2: Tensor, target: Tensor, options: CosineEmbeddingLossFunctionalOptions = {}): Tensor {
  const op = 'cosineEmbeddingLoss';
  const o = knownOptions(op, options, ['margin', 'reduction']);
  const x1 = floatArg(op, 'input1', input1);
  const x2 = floatArg(op, 'input2', input2);
  if (x1.ndim !== 1 && x1.ndim !== 2) throw shapeError(op, 'input1', 'a 2-d (N, D) or 1-d (D) tensor', x1.shape);
  sameKind(op, 'input2', x2, 'input1', x1);
  sameShapeAs(op, 'input2', x2, 'input1', x1);
  const t = labelTarget(op, 'target', target, 'input1', x1);
  const expected = x1.ndim === 2 ? [x1.shape[0]] : [];
  if (fmt(t.shape) !== fmt(expected)) throw shapeError(op, 'target', `shape ${fmt(expected)} (one label per ${x1.ndim === 2 ? 'pair of rows' : 'pair'} of inputs ${fmt(x1.shape)})`, t.shape);
  const margin = numberOpt(op, 'margin', o.margin, 0);
  return new Tensor(N.marginLoss('cosineEmbedding', x1.handle, x2.handle, t.handle, margin, reductionOpt(op, o.reduction)));
}

/** Options of `tripletMarginLoss`. */
export interface TripletMarginLossFunctionalOptions {
  /** The margin the negative must be farther than the positive by (default 1). */
  margin?: number;
  /** The norm of the pairwise distance, > 0 (default 2). */
  p?: number;
  /** Added to the differences before the norm, for stability (default 1e-6). */
  eps?: number;
  /** Use the positive–negative distance where it is smaller than the anchor–negative one (default false). */
  swap?: boolean;
  /** `'mean'` (default) or `'sum'` of the losses, or `'none'` (each loss). */
  reduction?: Reduction;
}

/**
 * Triplet margin loss, as `torch.nn.functional.triplet_margin_loss`: max(0, d(anchor, positive) −
 * d(anchor, negative) + margin), d the p-norm pairwise distance over the last dimension; the three of one shape,
 * (N, D) or (D).
 */
export function tripletMarginLoss(anchor: Tensor, positive: Tensor, negative: Tensor, options: TripletMarginLossFunctionalOptions = {}): Tensor {
  const op = 'tripletMarginLoss';
  const o = knownOptions(op, options, ['margin', 'p', 'eps', 'swap', 'reduction']);
  const a = floatArg(op, 'anchor', anchor);
  const pos = floatArg(op, 'positive', positive);
  const neg = floatArg(op, 'negative', negative);
  sameKind(op, 'positive', pos, 'anchor', a);
  sameKind(op, 'negative', neg, 'anchor', a);
  sameShapeAs(op, 'positive', pos, 'anchor', a);
  sameShapeAs(op, 'negative', neg, 'anchor', a);
  const margin = numberOpt(op, 'margin', o.margin, 1);
  const p = numberOpt(op, 'p', o.p, 2);
  if (!(p > 0)) throw rangeError(op, 'p', 'a number > 0', p);
  const eps = numberOpt(op, 'eps', o.eps, 1e-6, { min: 0 });
  const swap = boolOpt(op, 'swap', o.swap, false);
  return new Tensor(N.tripletMarginLoss(a.handle, pos.handle, neg.handle, margin, p, eps, swap, reductionOpt(op, o.reduction)));
}

/** A distance between two batches of embeddings, row by row: (N, D) and (N, D) give (N) (`pairwiseDistance` by default). */
export type DistanceFunction = (x1: Tensor, x2: Tensor) => Tensor;

/** Options of `tripletMarginWithDistanceLoss`. */
export interface TripletMarginWithDistanceLossFunctionalOptions {
  /** The distance (default `pairwiseDistance`, the Euclidean one): any differentiable function of two tensors. */
  distanceFunction?: DistanceFunction | null;
  /** The margin the negative must be farther than the positive by (default 1). */
  margin?: number;
  /** Use the positive–negative distance where it is smaller than the anchor–negative one (default false). */
  swap?: boolean;
  /** `'mean'` (default) or `'sum'` of the losses, or `'none'` (each loss). */
  reduction?: Reduction;
}

/** @internal A triplet loss's distance function, checked (null: the default). */
export function distanceFunctionOpt(op: string, v: unknown): DistanceFunction | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'function') throw typeError(op, 'distanceFunction', 'a function (x1, x2) => Tensor, or null for pairwiseDistance', v);
  return v as DistanceFunction;
}

/**
 * Triplet margin loss with any distance, as `torch.nn.functional.triplet_margin_with_distance_loss`:
 * max(0, d(anchor, positive) − d(anchor, negative) + margin), reduced; d is `distanceFunction` (default
 * `pairwiseDistance`), and with `swap` the negative distance is min(d(anchor, negative), d(positive, negative)).
 *
 * ```ts
 * const cosineDistance = (a: Tensor, b: Tensor) => F.cosineSimilarity(a, b).neg().add(1);
 * const loss = F.tripletMarginWithDistanceLoss(a, p, n, { distanceFunction: cosineDistance, margin: 0.3 });
 * ```
 */
export function tripletMarginWithDistanceLoss(anchor: Tensor, positive: Tensor, negative: Tensor, options: TripletMarginWithDistanceLossFunctionalOptions = {}): Tensor {
  const op = 'tripletMarginWithDistanceLoss';
  const o = knownOptions(op, options, ['distanceFunction', 'margin', 'swap', 'reduction']);
  const a = tensorArg(op, 'anchor', anchor);
  const pos = tensorArg(op, 'positive', positive);
  const neg = tensorArg(op, 'negative', negative);
  const fn = distanceFunctionOpt(op, o.distanceFunction);
  const margin = numberOpt(op, 'margin', o.margin, 1);
  if (!Number.isFinite(margin)) throw rangeError(op, 'margin', 'a finite number', margin);
  const swap = boolOpt(op, 'swap', o.swap, false);
  const reduction = reductionOpt(op, o.reduction);
  const made: Tensor[] = [];
  const own = (t: Tensor): Tensor => {
    if (t !== a && t !== pos && t !== neg && !made.includes(t)) made.push(t);
    return t;
  };
  const dist = (x1: Tensor, x2: Tensor, what: string): Tensor => {
    if (!fn) return own(pairwiseDistanceOf(op, x1, x2, what));
    const d = fn(x1, x2);
    if (!(d instanceof Tensor)) throw typeError(op, 'distanceFunction', `a function returning a Tensor (the ${what.replace(' ', '-')} distance)`, d);
    return own(d);
  };
  try {
    const dPos = dist(a, pos, 'anchor positive');
    let dNeg = dist(a, neg, 'anchor negative');
    if (swap) dNeg = own(dNeg.minimum(dist(pos, neg, 'positive negative')));
    const loss = own(own(own(dPos.sub(dNeg)).add(margin)).clamp(0));
    const out = reduction === 'mean' ? loss.mean() : reduction === 'sum' ? loss.sum() : loss;
    if (out === loss) made.splice(made.indexOf(loss), 1);
    return out;
  } finally {
    for (const t of made) t.dispose();
  }
}

// The default distance of tripletMarginWithDistanceLoss: pairwiseDistance's (p 2, eps 1e-6), the inputs checked as it checks them.
function pairwiseDistanceOf(op: string, x1: Tensor, x2: Tensor, names: string): Tensor {
  const [n1, n2] = names.split(' ');
  const a = floatArg(op, n1, x1);
  const b = floatArg(op, n2, x2);
  sameKind(op, n2, b, n1, a);
  return new Tensor(N.distance('pairwiseDistance', a.handle, b.handle, 2, 1e-6, false));
}

// ---------------------------------------------------------------- multi-class and multi-label margin losses

/** An integer class-index target on `x`'s device, of shape `shape` (or one of `shapes`). */
function indexTarget(op: string, v: unknown, x: Tensor, shapes: number[][], what: string): Tensor {
  const t = tensorArg(op, 'target', v);
  if (!INTS.includes(t.dtype)) throw new TypeError(`${op}: expected integer class indices of shape ${fmt(shapes[0])} for target but received ${t.dtype}`);
  if (t.device !== x.device) throw new TypeError(`${op}: expected target on input's device ${x.device} but received one on ${t.device}`);
  if (!shapes.some((s) => fmt(s) === fmt(t.shape))) throw shapeError(op, 'target', `shape ${shapes.map(fmt).join(' or ')} (${what} of input ${fmt(x.shape)})`, t.shape);
  return t;
}

/** Checks `multiMarginLoss`'s `p`: 1 or 2. */
function marginP(op: string, v: unknown): 1 | 2 {
  if (v === undefined) return 1;
  if (typeof v !== 'number') throw typeError(op, 'p', '1 or 2', v);
  if (v !== 1 && v !== 2) throw rangeError(op, 'p', '1 or 2 (only p = 1 and p = 2 are supported)', v);
  return v;
}

/** Options of `multiMarginLoss`. */
export interface MultiMarginLossFunctionalOptions {
  /** 1 (hinge, default) or 2 (squared hinge). */
  p?: 1 | 2;
  /** The margin the target class must lead every other by (default 1). */
  margin?: number;
  /** Weight of each class (1-d, C), scaling the terms of samples of that target class. */
  weight?: Tensor | null;
  /** `'mean'` (default) or `'sum'` of the losses, or `'none'` (each loss). */
  reduction?: Reduction;
}

/**
 * Multi-class margin loss, as `torch.nn.functional.multi_margin_loss`: for each sample, the mean over the
 * classes i ≠ y of max(0, margin − x[y] + x[i])^p (times weight[y]). `input` (N, C) or (C); `target` integer
 * class indices (N), or one for an unbatched input (int32/uint8 are widened); indices outside [0, C) are an
 * error.
 */
export function multiMarginLoss(input: Tensor, target: Tensor, options: MultiMarginLossFunctionalOptions = {}): Tensor {
  const op = 'multiMarginLoss';
  const o = knownOptions(op, options, ['p', 'margin', 'weight', 'reduction']);
  const x = floatArg(op, 'input', input);
  if ((x.ndim !== 1 && x.ndim !== 2) || x.shape[x.ndim - 1] === 0) throw shapeError(op, 'input', 'scores of shape (N, C) or (C), C ≥ 1', x.shape);
  const t = indexTarget(op, target, x, x.ndim === 2 ? [[x.shape[0]]] : [[], [1]], x.ndim === 2 ? 'one class index per sample' : 'one class index');
  const p = marginP(op, o.p);
  const margin = numberOpt(op, 'margin', o.margin, 1);
  const w = classWeight(op, x, o.weight, x.shape[x.ndim - 1]);
  return new Tensor(N.multiMarginLoss(x.handle, t.handle, p, margin, h(w), reductionOpt(op, o.reduction)));
}

/**
 * Multi-label margin loss, as `torch.nn.functional.multilabel_margin_loss`: for each sample, the sum over its
 * target classes j and the other classes i of max(0, 1 − (x[j] − x[i])), divided by C. `input` (N, C) or (C);
 * `target` of the input's shape holds each sample's class indices first, ended by −1 (the rest is ignored);
 * integer dtypes other than int64 are widened; indices outside [−1, C) are an error.
 */
export function multilabelMarginLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const op = 'multilabelMarginLoss';
  const o = knownOptions(op, options, ['reduction']);
  const x = floatArg(op, 'input', input);
  if (x.ndim !== 1 && x.ndim !== 2) throw shapeError(op, 'input', 'scores of shape (N, C) or (C)', x.shape);
  const t = indexTarget(op, target, x, [x.shape], 'class indices padded with -1, the shape');
  const reduction = reductionOpt(op, o.reduction);
  if (t.dtype === 'int64') return new Tensor(N.marginLoss('multilabelMargin', x.handle, null, t.handle, 0, reduction));
  return tidy(() => new Tensor(N.marginLoss('multilabelMargin', x.handle, null, t.long().handle, 0, reduction)));
}

/** Options of `multilabelSoftMarginLoss`. */
export interface MultiLabelSoftMarginLossFunctionalOptions {
  /** Weight of each class (C, or any shape that broadcasts to the input's), scaling each term. */
  weight?: Tensor | null;
  /** `'mean'` (default) or `'sum'` of the losses, or `'none'` (each loss). */
  reduction?: Reduction;
}

/**
 * Multi-label one-versus-all logistic loss, as `torch.nn.functional.multilabel_soft_margin_loss`: per sample,
 * −mean over the classes of (y·logσ(x) + (1 − y)·logσ(−x)) (each term times the weight), then reduced over the
 * samples. `input` (N, C) or (C); `target` of its shape, 1 for the sample's labels and 0 elsewhere.
 */
export function multilabelSoftMarginLoss(input: Tensor, target: Tensor, options: MultiLabelSoftMarginLossFunctionalOptions = {}): Tensor {
  const op = 'multilabelSoftMarginLoss';
  const o = knownOptions(op, options, ['weight', 'reduction']);
  const x = floatArg(op, 'input', input);
  if (x.ndim < 1) throw shapeError(op, 'input', 'scores of shape (N, C) or (C)', x.shape);
  const t = labelTarget(op, 'target', target, 'input', x);
  sameShapeAs(op, 'target', t, 'the input', x);
  const w = optTensorArg(op, 'weight', o.weight);
  if (w) {
    sameKind(op, 'weight', w, 'input', x);
    const broadcasts = w.ndim <= x.ndim && w.shape.every((n, i) => n === 1 || n === x.shape[x.ndim - w.ndim + i]);
    if (!broadcasts) throw shapeError(op, 'weight', `a shape that broadcasts to the input's ${fmt(x.shape)} (one weight per class)`, w.shape);
  }
  const reduction = reductionOpt(op, o.reduction);
  // PyTorch's composition, op for op: −(y·logσ(x) + (1 − y)·logσ(−x)), weighted, summed over the classes / C
  return tidy(() => {
    let loss = t.mul(logsigmoid(x)).add(t.neg().add(1).mul(logsigmoid(x.neg()))).neg();
    if (w) loss = loss.mul(w);
    const c = x.shape[x.ndim - 1];
    loss = loss.sum(x.ndim - 1).div(c);
    return reduction === 'mean' ? loss.mean() : reduction === 'sum' ? loss.sum() : loss;
  });
}

// ---------------------------------------------------------------- likelihood losses

/** Options of `poissonNllLoss`. */
export interface PoissonNLLLossFunctionalOptions {
  /** `input` is the log of the rate: the loss is exp(input) − target·input (default true); else input − target·log(input + eps). */
  logInput?: boolean;
  /** Add Stirling's approximation of log(target!), target·log(target) − target + 0.5·log(2π·target), where target > 1 (default false). */
  full?: boolean;
  /** Keeps log(input + eps) finite when `logInput` is false (default 1e-8). */
  eps?: number;
  /** `'mean'` (default) or `'sum'` of the losses, or `'none'` (each loss). */
  reduction?: Reduction;
}

/** Poisson negative log-likelihood of `target` counts under rates `input` (of one shape), as `torch.nn.functional.poisson_nll_loss`. */
export function poissonNllLoss(input: Tensor, target: Tensor, options: PoissonNLLLossFunctionalOptions = {}): Tensor {
  const op = 'poissonNllLoss';
  const o = knownOptions(op, options, ['logInput', 'full', 'eps', 'reduction']);
  const [x, t] = sameShape(op, input, target);
  const logInput = boolOpt(op, 'logInput', o.logInput, true);
  const full = boolOpt(op, 'full', o.full, false);
  const eps = numberOpt(op, 'eps', o.eps, 1e-8, { min: 0 });
  return new Tensor(N.poissonNllLoss(x.handle, t.handle, logInput, full, eps, reductionOpt(op, o.reduction)));
}

/** Options of `gaussianNllLoss`. */
export interface GaussianNLLLossFunctionalOptions {
  /** Add the constant 0.5·log(2π) (default false). */
  full?: boolean;
  /** The variances are clamped to at least this, without a gradient through the clamp (default 1e-6). */
  eps?: number;
  /** `'mean'` (default) or `'sum'` of the losses, or `'none'` (each loss). */
  reduction?: Reduction;
}

/**
 * Gaussian negative log-likelihood, as `torch.nn.functional.gaussian_nll_loss`: 0.5·(log(var) +
 * (input − target)²/var) per element (+ 0.5·log(2π) with `full`), `var` clamped to at least `eps`. `input` and
 * `target` of one shape; `var` of that shape (one variance per expectation), of it without the last dimension,
 * or with the last dimension 1 (one variance shared by the last dimension). Negative variances are an error.
 */
export function gaussianNllLoss(input: Tensor, target: Tensor, variance: Tensor, options: GaussianNLLLossFunctionalOptions = {}): Tensor {
  const op = 'gaussianNllLoss';
  const o = knownOptions(op, options, ['full', 'eps', 'reduction']);
  const [x, t] = sameShape(op, input, target);
  const v = floatArg(op, 'var', variance);
  sameKind(op, 'var', v, 'input', x);
  const lead = fmt(x.shape.slice(0, -1));
  const unsqueeze = fmt(v.shape) !== fmt(x.shape) && fmt(v.shape) === lead;
  if (fmt(v.shape) !== fmt(x.shape) && !unsqueeze && !(v.ndim >= 1 && fmt(v.shape.slice(0, -1)) === lead && v.shape[v.ndim - 1] === 1)) {
    const last = [...x.shape.slice(0, -1), 1];
    throw shapeError(op, 'var', `the input's shape ${fmt(x.shape)}, ${lead} or ${fmt(last)} (one variance per expectation, or one per row)`, v.shape);
  }
  const full = boolOpt(op, 'full', o.full, false);
  const eps = numberOpt(op, 'eps', o.eps, 1e-6, { min: 0 });
  const reduction = reductionOpt(op, o.reduction);
  return tidy(() => {
    if (v.lt(0).any().item()) throw new RangeError(`${op}: expected non-negative variances for var but received a negative entry`);
    // as PyTorch: a copy clamped without recording it, so the gradient reaches var as if unclamped
    const clamped = (unsqueeze ? v.unsqueeze(-1) : v).clone();
    noGrad(() => void clamped.clamp_(eps));
    let loss = clamped.log().add(x.sub(t).pow(2).div(clamped)).mul(0.5);
    if (full) loss = loss.add(0.5 * Math.log(2 * Math.PI));
    return reduction === 'mean' ? loss.mean() : reduction === 'sum' ? loss.sum() : loss;
  });
}

// ---------------------------------------------------------------- CTC

/** Options of `ctcLoss`. */
export interface CTCLossFunctionalOptions {
  /** The blank class, in [0, C) (default 0). */
  blank?: number;
  /** `'mean'` (default: each sequence's loss divided by its target length, then the mean over the batch), `'sum'` or `'none'`. */
  reduction?: Reduction;
  /** Replace infinite losses (inputs too short for their targets) and their gradients by zero (default false). */
  zeroInfinity?: boolean;
}

/** Sequence lengths as numbers: an array of non-negative integers, or an integer tensor (0-d or 1-d; one host read). */
function lengthsArg(op: string, arg: string, v: unknown, batch: number, batched: boolean): number[] {
  let values: number[];
  if (v instanceof Tensor) {
    if (!INTS.includes(v.dtype) || v.ndim > 1) throw new TypeError(`${op}: expected an array of integers or a 0-d or 1-d integer tensor for ${arg} but received ${v.dtype} of shape ${fmt(v.shape)}`);
    values = Array.from(v.toArray() as ArrayLike<number | bigint>, Number);
  } else if (Array.isArray(v)) {
    values = v.map((n, i) => checkInt(op, `${arg}[${i}]`, n));
  } else {
    throw typeError(op, arg, 'an array of integers or an integer tensor', v);
  }
  if (values.length !== batch) {
    throw new RangeError(`${op}: expected ${batch} ${batch === 1 ? 'length' : 'lengths'} (one per ${batched ? 'sequence of the batch' : 'sequence: logProbs is unbatched'}) for ${arg} but received ${values.length}`);
  }
  values.forEach((n, i) => {
    if (n < 0) throw rangeError(op, `${arg}[${i}]`, 'a non-negative length', n);
  });
  return values;
}

/**
 * Connectionist Temporal Classification loss, as `torch.nn.functional.ctc_loss`: the negative log-likelihood of
 * each target sequence summed over its alignments to the input. `logProbs` (T, N, C) (log-softmax outputs over C
 * classes, blank included), or unbatched (T, C); `targets` (N, S) padded or 1-d concatenated (the sum of the
 * target lengths), int64 or int32 class indices in [0, C), never the blank; `inputLengths` and `targetLengths`
 * one per sequence (N), arrays of numbers or integer tensors, each input length at most T.
 */
export function ctcLoss(logProbs: Tensor, targets: Tensor, inputLengths: number[] | Tensor, targetLengths: number[] | Tensor, options: CTCLossFunctionalOptions = {}): Tensor {
  const op = 'ctcLoss';
  const o = knownOptions(op, options, ['blank', 'reduction', 'zeroInfinity']);
  const lp = floatArg(op, 'logProbs', logProbs);
  if (lp.ndim !== 2 && lp.ndim !== 3) throw shapeError(op, 'logProbs', 'a 3-d (T, N, C) or 2-d (T, C) tensor', lp.shape);
  const [T, c] = [lp.shape[0], lp.shape[lp.ndim - 1]];
  const batched = lp.ndim === 3;
  const batch = batched ? lp.shape[1] : 1;
  const tg = tensorArg(op, 'targets', targets);
  if (tg.dtype !== 'int64' && tg.dtype !== 'int32') throw new TypeError(`${op}: expected int64 or int32 class indices for targets but received ${tg.dtype}`);
  if (tg.device !== lp.device) throw new TypeError(`${op}: expected targets on logProbs' device ${lp.device} but received one on ${tg.device}`);
  const inLengths = lengthsArg(op, 'inputLengths', inputLengths, batch, batched);
  const tgLengths = lengthsArg(op, 'targetLengths', targetLengths, batch, batched);
  inLengths.forEach((n, i) => {
    if (n > T) throw rangeError(op, `inputLengths[${i}]`, `a length of at most T = ${T} (logProbs ${fmt(lp.shape)})`, n);
  });
  if (tg.ndim === 2) {
    if (tg.shape[0] !== batch) throw shapeError(op, 'targets', `(N, S) padded targets with N = ${batch} (logProbs ${fmt(lp.shape)})`, tg.shape);
    const longest = Math.max(0, ...tgLengths);
    if (tg.shape[1] < longest) throw shapeError(op, 'targets', `(N, S) padded targets with S ≥ ${longest} (the longest of targetLengths)`, tg.shape);
  } else if (tg.ndim === 1) {
    const total = tgLengths.reduce((a, b) => a + b, 0);
    if (tg.shape[0] !== total) throw shapeError(op, 'targets', `${total} concatenated targets (the sum of targetLengths ${fmt(tgLengths)})`, tg.shape);
  } else {
    throw shapeError(op, 'targets', `(N, S) padded targets or 1-d concatenated ones`, tg.shape);
  }
  const blank = checkInt(op, 'blank', o.blank ?? 0);
  if (blank < 0 || blank >= c) throw rangeError(op, 'blank', `a class index in [0, ${c}) (logProbs has ${c} classes)`, blank);
  const zeroInfinity = boolOpt(op, 'zeroInfinity', o.zeroInfinity, false);
  return new Tensor(N.ctcLoss(lp.handle, tg.handle, inLengths, tgLengths, blank, reductionOpt(op, o.reduction), zeroInfinity));
}
