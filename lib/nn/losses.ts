/**
 * Loss functions, as in `torch.nn.functional`: `crossEntropy`, `nllLoss`, `mseLoss`, `l1Loss`, `smoothL1Loss`,
 * `huberLoss`, `binaryCrossEntropy`, `binaryCrossEntropyWithLogits`, `klDiv`, each with `reduction: 'mean' | 'sum' | 'none'`. Shapes and
 * dtypes are checked first and a mismatch is named ("crossEntropy: expected target of shape [4] ... but
 * received shape [3]"); class indices outside [0, C) are an error (one host read), never a crash.
 */
import type { TensorHandle } from '../native';
import { native } from '../native';
import { Tensor } from '../tensor';
import { checkInt } from '../validate';
import { FLOATS, fmt, floatArg, knownOptions, numberOpt, optTensorArg, perChannel, reductionOpt, sameKind, shapeError, tensorArg, type Reduction } from './checks';

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
  if (FLOATS.includes(t.dtype)) {
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
