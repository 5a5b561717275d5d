/**
 * The loss modules of `torch.nn`, written in TypeScript over the functional losses (`nn.functional`):
 * `CrossEntropyLoss`, `NLLLoss`, `MSELoss`, `L1Loss`, `SmoothL1Loss`, `HuberLoss`, `BCELoss`, `BCEWithLogitsLoss`,
 * `KLDivLoss`, `MarginRankingLoss`, `HingeEmbeddingLoss`, `SoftMarginLoss`, `CosineEmbeddingLoss`,
 * `TripletMarginLoss`, `TripletMarginWithDistanceLoss`, `MultiMarginLoss`, `MultiLabelMarginLoss`, `MultiLabelSoftMarginLoss`, `PoissonNLLLoss`,
 * `GaussianNLLLoss` and `CTCLoss`. Each is an `nn.Module` with PyTorch's constructor options (in camelCase) and
 * PyTorch's `forward` arguments (`forward(input, target)` for most); the options are checked when the module is
 * made, and the forward checks shapes and dtypes as the functional form does. A `weight` (and
 * `BCEWithLogitsLoss`' `posWeight`) is registered as a buffer, as PyTorch's `_WeightedLoss` does: it is in the
 * state dict under PyTorch's key (`weight`, `pos_weight`), moved by `to()` and freed by `dispose()`; the buffer
 * shares the given tensor's memory, as PyTorch's does. Their forward is written in JavaScript, so it runs on the
 * main thread (see `nn.Module`); the work itself is one native call each (a few for `MultiLabelSoftMarginLoss`
 * and `GaussianNLLLoss`, which PyTorch too composes from tensor operations).
 *
 * ```ts
 * const criterion = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = criterion.forward(net.forward(x), labels);
 * loss.backward();
 * ```
 */
import { Tensor } from '../tensor';
import { checkBool, checkInt, checkOneOf, knownOptions, rangeError, typeError } from '../validate';
import { floatArg, numberOpt, REDUCTIONS, shapeError, type Reduction } from './checks';
import {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, cosineEmbeddingLoss, crossEntropy, ctcLoss, gaussianNllLoss, hingeEmbeddingLoss, huberLoss, klDiv, l1Loss,
  marginRankingLoss, mseLoss, multilabelMarginLoss, multilabelSoftMarginLoss, multiMarginLoss, nllLoss, poissonNllLoss, smoothL1Loss, softMarginLoss,
  tripletMarginLoss, tripletMarginWithDistanceLoss, distanceFunctionOpt, type DistanceFunction,
} from './losses';
import { Module } from './module';

// ---------------------------------------------------------------- argument checks

// The reduction option ("CrossEntropyLoss: expected one of "mean", "sum", "none" for reduction but received "avg" (string)").
function reductionOf<T extends string>(op: string, v: unknown, allowed: readonly T[]): T {
  return checkOneOf(op, 'reduction', v ?? 'mean', allowed);
}

// An optional floating-point weight tensor (undefined and null mean none).
function weightArg(op: string, arg: string, v: unknown): Tensor | null {
  if (v === undefined || v === null) return null;
  if (!(v instanceof Tensor)) throw typeError(op, arg, 'a Tensor (or null)', v);
  return floatArg(op, arg, v);
}

// A per-class weight: 1-d, one per class ("CrossEntropyLoss: expected a 1-d tensor (one weight per class) for weight but received shape [2, 3]").
function classWeightArg(op: string, v: unknown): Tensor | null {
  const w = weightArg(op, 'weight', v);
  if (w && w.ndim !== 1) throw shapeError(op, 'weight', 'a 1-d tensor (one weight per class)', w.shape);
  return w;
}

// A forward argument must be a Tensor (named as `CrossEntropyLoss.forward`).
function tensorIn(op: string, arg: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw typeError(op, arg, 'a Tensor', v);
  return v;
}

// Registers `t` (or null) as the buffer `name`: a new handle sharing its memory (the module owns its handle, so
// `dispose()` and `to()` of the module leave the caller's tensor as it is, as PyTorch's `to()` does).
function registerWeight(m: Module, name: string, t: Tensor | null): void {
  m.registerBuffer(name, t ? t.detach() : null);
}

// ---------------------------------------------------------------- CrossEntropyLoss, NLLLoss

/** Options of `nn.CrossEntropyLoss`. */
export interface CrossEntropyLossOptions {
  /** Weight of each class, a 1-d float tensor of C (registered as the buffer `weight`; default none). */
  weight?: Tensor | null;
  /** Targets equal to this class index contribute nothing, to the loss nor to the mean's divisor (default -100). */
  ignoreIndex?: number;
  /** `'mean'` (default: the weighted mean over the samples), `'sum'`, or `'none'` (one loss per sample). */
  reduction?: Reduction;
  /** Label smoothing in [0, 1]: the target puts 1 − s on the label and s/C on every class (default 0). */
  labelSmoothing?: number;
}

/**
 * Cross-entropy between unnormalised scores and class indices or class probabilities
 * (`torch.nn.CrossEntropyLoss`): `forward(input, target)` with `input` (N, C), (C) or (N, C, d1, ...) and
 * `target` int64 class indices (N) / (N, d1, ...), or float probabilities of the input's shape. The state-dict
 * key is `weight` when a weight is given, as PyTorch's.
 *
 * ```ts
 * const criterion = new nn.CrossEntropyLoss({ weight: torch.tensor([1, 2, 1]), ignoreIndex: 0 });
 * const loss = criterion.forward(logits, labels); // a scalar
 * ```
 */
export class CrossEntropyLoss extends Module {
  /** Targets equal to this class index are ignored. */
  readonly ignoreIndex: number;
  /** How the per-sample losses are reduced. */
  readonly reduction: Reduction;
  /** The label smoothing, in [0, 1]. */
  readonly labelSmoothing: number;
  /** The class weights (a buffer sharing the given tensor's memory), or null. */
  declare weight: Tensor | null;

  constructor(options: CrossEntropyLossOptions = {}) {
    const op = 'CrossEntropyLoss';
    const o = knownOptions(op, options, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
    const weight = classWeightArg(op, o.weight);
    const ignoreIndex = checkInt(op, 'ignoreIndex', o.ignoreIndex ?? -100);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    const labelSmoothing = numberOpt(op, 'labelSmoothing', o.labelSmoothing, 0, { min: 0, max: 1 });
    super();
    this.ignoreIndex = ignoreIndex;
    this.reduction = reduction;
    this.labelSmoothing = labelSmoothing;
    registerWeight(this, 'weight', weight);
  }

  /** The loss of scores `input` against `target` (class indices or probabilities): a scalar, or per sample with `reduction: 'none'`. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'CrossEntropyLoss.forward';
    return crossEntropy(tensorIn(op, 'input', input), tensorIn(op, 'target', target), {
      weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing,
    });
  }
}

/** Options of `nn.NLLLoss`. */
export interface NLLLossOptions {
  /** Weight of each class, a 1-d float tensor of C (registered as the buffer `weight`; default none). */
  weight?: Tensor | null;
  /** Targets equal to this class index contribute nothing, to the loss nor to the mean's divisor (default -100). */
  ignoreIndex?: number;
  /** `'mean'` (default: the weighted mean over the samples), `'sum'`, or `'none'` (one loss per sample). */
  reduction?: Reduction;
}

/**
 * Negative log-likelihood of class indices under log-probabilities (`torch.nn.NLLLoss`): `forward(input,
 * target)` with `input` log-probabilities (N, C), (C) or (N, C, d1, ...) (a `LogSoftmax` output) and `target`
 * int64 class indices (N) / (N, d1, ...). The state-dict key is `weight` when a weight is given, as PyTorch's.
 */
export class NLLLoss extends Module {
  /** Targets equal to this class index are ignored. */
  readonly ignoreIndex: number;
  /** How the per-sample losses are reduced. */
  readonly reduction: Reduction;
  /** The class weights (a buffer sharing the given tensor's memory), or null. */
  declare weight: Tensor | null;

  constructor(options: NLLLossOptions = {}) {
    const op = 'NLLLoss';
    const o = knownOptions(op, options, ['weight', 'ignoreIndex', 'reduction']);
    const weight = classWeightArg(op, o.weight);
    const ignoreIndex = checkInt(op, 'ignoreIndex', o.ignoreIndex ?? -100);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.ignoreIndex = ignoreIndex;
    this.reduction = reduction;
    registerWeight(this, 'weight', weight);
  }

  /** The loss of log-probabilities `input` against class indices `target`: a scalar, or per sample with `reduction: 'none'`. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'NLLLoss.forward';
    return nllLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), {
      weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction,
    });
  }
}

// ---------------------------------------------------------------- MSELoss, L1Loss

/** Options of `nn.MSELoss`. */
export interface MSELossOptions {
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
}

/** Options of `nn.L1Loss`. */
export interface L1LossOptions {
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
}

/** Mean squared error between `input` and `target` of one shape (`torch.nn.MSELoss`). */
export class MSELoss extends Module {
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: MSELossOptions = {}) {
    const o = knownOptions('MSELoss', options, ['reduction']);
    const reduction = reductionOf('MSELoss', o.reduction, REDUCTIONS);
    super();
    this.reduction = reduction;
  }

  /** (input − target)², reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'MSELoss.forward';
    return mseLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { reduction: this.reduction });
  }
}

/** Mean absolute error between `input` and `target` of one shape (`torch.nn.L1Loss`). */
export class L1Loss extends Module {
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: L1LossOptions = {}) {
    const o = knownOptions('L1Loss', options, ['reduction']);
    const reduction = reductionOf('L1Loss', o.reduction, REDUCTIONS);
    super();
    this.reduction = reduction;
  }

  /** |input − target|, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'L1Loss.forward';
    return l1Loss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { reduction: this.reduction });
  }
}

// ---------------------------------------------------------------- SmoothL1Loss, HuberLoss

/** Options of `nn.SmoothL1Loss`. */
export interface SmoothL1LossOptions {
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
  /** Where the loss turns from quadratic to linear, ≥ 0 (default 1; 0 is the L1 loss). */
  beta?: number;
}

/**
 * Smooth L1 loss between `input` and `target` of one shape (`torch.nn.SmoothL1Loss`): 0.5·d²/beta where
 * |d| < beta, else |d| − 0.5·beta, with d = input − target.
 *
 * ```ts
 * const criterion = new nn.SmoothL1Loss({ beta: 0.5 });
 * const loss = criterion.forward(boxes, targetBoxes); // a scalar
 * ```
 */
export class SmoothL1Loss extends Module {
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;
  /** Where the loss turns from quadratic to linear. */
  readonly beta: number;

  constructor(options: SmoothL1LossOptions = {}) {
    const op = 'SmoothL1Loss';
    const o = knownOptions(op, options, ['reduction', 'beta']);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    const beta = numberOpt(op, 'beta', o.beta, 1, { min: 0 });
    super();
    this.reduction = reduction;
    this.beta = beta;
  }

  /** The smooth L1 loss of `input` against `target`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'SmoothL1Loss.forward';
    return smoothL1Loss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { reduction: this.reduction, beta: this.beta });
  }
}

/** Options of `nn.HuberLoss`. */
export interface HuberLossOptions {
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
  /** Where the loss turns from quadratic to linear, > 0 (default 1). */
  delta?: number;
}

/**
 * Huber loss between `input` and `target` of one shape (`torch.nn.HuberLoss`): 0.5·d² where |d| < delta, else
 * delta·(|d| − 0.5·delta), with d = input − target (the smooth L1 loss times delta, with beta = delta).
 *
 * ```ts
 * const criterion = new nn.HuberLoss({ delta: 2 });
 * const loss = criterion.forward(predictions, targets); // a scalar
 * ```
 */
export class HuberLoss extends Module {
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;
  /** Where the loss turns from quadratic to linear. */
  readonly delta: number;

  constructor(options: HuberLossOptions = {}) {
    const op = 'HuberLoss';
    const o = knownOptions(op, options, ['reduction', 'delta']);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    const delta = numberOpt(op, 'delta', o.delta, 1);
    if (!(delta > 0)) throw rangeError(op, 'delta', 'a number > 0', delta);
    super();
    this.reduction = reduction;
    this.delta = delta;
  }

  /** The Huber loss of `input` against `target`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'HuberLoss.forward';
    return huberLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { reduction: this.reduction, delta: this.delta });
  }
}

// ---------------------------------------------------------------- BCELoss, BCEWithLogitsLoss

/** Options of `nn.BCELoss`. */
export interface BCELossOptions {
  /** Rescales each element's loss, broadcast to the input's shape (registered as the buffer `weight`; default none). */
  weight?: Tensor | null;
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
}

/**
 * Binary cross-entropy of probabilities (in [0, 1], e.g. a sigmoid's output) against targets in [0, 1] of the
 * same shape (`torch.nn.BCELoss`); each log is clamped at −100, as PyTorch's. `BCEWithLogitsLoss` is the stable
 * form on logits. The state-dict key is `weight` when a weight is given, as PyTorch's.
 *
 * ```ts
 * const criterion = new nn.BCELoss();
 * const loss = criterion.forward(net.forward(x).sigmoid(), targets); // both (N, 5)
 * ```
 */
export class BCELoss extends Module {
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;
  /** The element weights (a buffer sharing the given tensor's memory), or null. */
  declare weight: Tensor | null;

  constructor(options: BCELossOptions = {}) {
    const op = 'BCELoss';
    const o = knownOptions(op, options, ['weight', 'reduction']);
    const weight = weightArg(op, 'weight', o.weight);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.reduction = reduction;
    registerWeight(this, 'weight', weight);
  }

  /** The loss of probabilities `input` against targets of its shape: a scalar, or per element with `reduction: 'none'`. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'BCELoss.forward';
    return binaryCrossEntropy(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { weight: this.weight, reduction: this.reduction });
  }
}

/** Options of `nn.BCEWithLogitsLoss`. */
export interface BCEWithLogitsLossOptions {
  /** Rescales each element's loss, broadcast to the input's shape (registered as the buffer `weight`; default none). */
  weight?: Tensor | null;
  /**
   * Weight of the positive examples, one per class (the input's last dimension), 0-d or 1-d (registered as
   * the buffer `pos_weight`, PyTorch's state-dict key; default none).
   */
  posWeight?: Tensor | null;
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
}

/**
 * Binary cross-entropy of logits against targets in [0, 1] of the same shape, computed stably
 * (`torch.nn.BCEWithLogitsLoss`). The state-dict keys are `weight` and `pos_weight` (those given), as PyTorch's.
 *
 * ```ts
 * const criterion = new nn.BCEWithLogitsLoss({ posWeight: torch.full([5], 3) }); // 5 labels, positives rare
 * const loss = criterion.forward(logits, targets);                            // both (N, 5)
 * ```
 */
export class BCEWithLogitsLoss extends Module {
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;
  /** The element weights (a buffer sharing the given tensor's memory), or null. */
  declare weight: Tensor | null;

  constructor(options: BCEWithLogitsLossOptions = {}) {
    const op = 'BCEWithLogitsLoss';
    const o = knownOptions(op, options, ['weight', 'posWeight', 'reduction']);
    const weight = weightArg(op, 'weight', o.weight);
    const posWeight = weightArg(op, 'posWeight', o.posWeight);
    if (posWeight && posWeight.ndim > 1) throw shapeError(op, 'posWeight', 'a 0-d or 1-d tensor (one weight per class, the input\'s last dimension)', posWeight.shape);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.reduction = reduction;
    registerWeight(this, 'weight', weight);
    registerWeight(this, 'pos_weight', posWeight);
  }

  /** The weight of the positive examples: the buffer `pos_weight` (sharing the given tensor's memory), or null. */
  get posWeight(): Tensor | null {
    return (this as unknown as { pos_weight: Tensor | null }).pos_weight;
  }

  /** The loss of logits `input` against targets of its shape: a scalar, or per element with `reduction: 'none'`. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'BCEWithLogitsLoss.forward';
    return binaryCrossEntropyWithLogits(tensorIn(op, 'input', input), tensorIn(op, 'target', target), {
      weight: this.weight, posWeight: this.posWeight, reduction: this.reduction,
    });
  }
}

// ---------------------------------------------------------------- KLDivLoss

/** Options of `nn.KLDivLoss`. */
export interface KLDivLossOptions {
  /**
   * `'mean'` (default, as PyTorch: the mean over all elements), `'batchmean'` (the sum divided by the batch
   * size: the KL divergence itself), `'sum'`, or `'none'` (one term per element).
   */
  reduction?: Reduction | 'batchmean';
  /** `target` holds log-probabilities instead of probabilities (default false). */
  logTarget?: boolean;
}

/**
 * Kullback-Leibler divergence KL(target ‖ input) with `input` as log-probabilities (`torch.nn.KLDivLoss`):
 * `forward(input, target)` with `target` probabilities (or log-probabilities with `logTarget`) of the input's
 * shape.
 */
export class KLDivLoss extends Module {
  /** How the per-element terms are reduced. */
  readonly reduction: Reduction | 'batchmean';
  /** Whether `target` holds log-probabilities. */
  readonly logTarget: boolean;

  constructor(options: KLDivLossOptions = {}) {
    const op = 'KLDivLoss';
    const o = knownOptions(op, options, ['reduction', 'logTarget']);
    const reduction = reductionOf(op, o.reduction, [...REDUCTIONS, 'batchmean'] as const);
    const logTarget = o.logTarget === undefined ? false : checkBool(op, 'logTarget', o.logTarget);
    super();
    this.reduction = reduction;
    this.logTarget = logTarget;
  }

  /** KL(target ‖ exp(input)), reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'KLDivLoss.forward';
    return klDiv(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { reduction: this.reduction, logTarget: this.logTarget });
  }
}

// ---------------------------------------------------------------- MarginRankingLoss, HingeEmbeddingLoss, SoftMarginLoss, CosineEmbeddingLoss

/** Options of `nn.MarginRankingLoss`. */
export interface MarginRankingLossOptions {
  /** The margin the ranking must hold by (default 0). */
  margin?: number;
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
}

/**
 * Margin ranking loss (`torch.nn.MarginRankingLoss`): `forward(input1, input2, target)`, the three of one shape,
 * max(0, −target·(input1 − input2) + margin) per element, `target` 1 where `input1` should rank higher and −1
 * where `input2` should.
 *
 * ```ts
 * const criterion = new nn.MarginRankingLoss({ margin: 0.5 });
 * const loss = criterion.forward(scoresA, scoresB, torch.tensor([1, -1, 1]));
 * ```
 */
export class MarginRankingLoss extends Module {
  /** The margin. */
  readonly margin: number;
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: MarginRankingLossOptions = {}) {
    const op = 'MarginRankingLoss';
    const o = knownOptions(op, options, ['margin', 'reduction']);
    const margin = numberOpt(op, 'margin', o.margin, 0);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.margin = margin;
    this.reduction = reduction;
  }

  /** The ranking loss of `input1` against `input2` with labels `target` (1 or −1), reduced. */
  forward(input1: Tensor, input2: Tensor, target: Tensor): Tensor {
    const op = 'MarginRankingLoss.forward';
    return marginRankingLoss(tensorIn(op, 'input1', input1), tensorIn(op, 'input2', input2), tensorIn(op, 'target', target), { margin: this.margin, reduction: this.reduction });
  }
}

/** Options of `nn.HingeEmbeddingLoss`. */
export interface HingeEmbeddingLossOptions {
  /** The margin dissimilar pairs are pushed beyond (default 1). */
  margin?: number;
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
}

/**
 * Hinge embedding loss (`torch.nn.HingeEmbeddingLoss`): `forward(input, target)` of one shape, `input` (a
 * distance) where `target` is 1 and max(0, margin − input) where it is −1.
 */
export class HingeEmbeddingLoss extends Module {
  /** The margin. */
  readonly margin: number;
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: HingeEmbeddingLossOptions = {}) {
    const op = 'HingeEmbeddingLoss';
    const o = knownOptions(op, options, ['margin', 'reduction']);
    const margin = numberOpt(op, 'margin', o.margin, 1);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.margin = margin;
    this.reduction = reduction;
  }

  /** The hinge embedding loss of distances `input` with labels `target` (1 or −1), reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'HingeEmbeddingLoss.forward';
    return hingeEmbeddingLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { margin: this.margin, reduction: this.reduction });
  }
}

/** Options of `nn.SoftMarginLoss`. */
export interface SoftMarginLossOptions {
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
}

/** Two-class logistic loss with labels 1 and −1 (`torch.nn.SoftMarginLoss`): log(1 + exp(−target·input)) per element, `input` and `target` of one shape. */
export class SoftMarginLoss extends Module {
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: SoftMarginLossOptions = {}) {
    const op = 'SoftMarginLoss';
    const o = knownOptions(op, options, ['reduction']);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.reduction = reduction;
  }

  /** log(1 + exp(−target·input)), reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'SoftMarginLoss.forward';
    return softMarginLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { reduction: this.reduction });
  }
}

/** Options of `nn.CosineEmbeddingLoss`. */
export interface CosineEmbeddingLossOptions {
  /** Dissimilar pairs are penalised where their cosine similarity exceeds it, in [−1, 1] (default 0). */
  margin?: number;
  /** `'mean'` (default) or `'sum'` over the pairs, or `'none'` (one loss per pair). */
  reduction?: Reduction;
}

/**
 * Cosine embedding loss (`torch.nn.CosineEmbeddingLoss`): `forward(input1, input2, target)` with inputs (N, D) and
 * target (N), or (D) and a 0-d target; 1 − cos(input1, input2) where `target` is 1, max(0, cos − margin) where −1.
 */
export class CosineEmbeddingLoss extends Module {
  /** The margin. */
  readonly margin: number;
  /** How the per-pair losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: CosineEmbeddingLossOptions = {}) {
    const op = 'CosineEmbeddingLoss';
    const o = knownOptions(op, options, ['margin', 'reduction']);
    const margin = numberOpt(op, 'margin', o.margin, 0);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.margin = margin;
    this.reduction = reduction;
  }

  /** The cosine embedding loss of the pairs (`input1`, `input2`) with labels `target` (1 or −1), reduced. */
  forward(input1: Tensor, input2: Tensor, target: Tensor): Tensor {
    const op = 'CosineEmbeddingLoss.forward';
    return cosineEmbeddingLoss(tensorIn(op, 'input1', input1), tensorIn(op, 'input2', input2), tensorIn(op, 'target', target), { margin: this.margin, reduction: this.reduction });
  }
}

// ---------------------------------------------------------------- TripletMarginLoss

/** Options of `nn.TripletMarginLoss`. */
export interface TripletMarginLossOptions {
  /** The margin the negative must be farther than the positive by (default 1). */
  margin?: number;
  /** The norm of the pairwise distance, > 0 (default 2). */
  p?: number;
  /** Added to the differences before the norm, for stability (default 1e-6). */
  eps?: number;
  /** Use the positive–negative distance where it is smaller than the anchor–negative one (default false). */
  swap?: boolean;
  /** `'mean'` (default) or `'sum'` over the triplets, or `'none'` (one loss per triplet). */
  reduction?: Reduction;
}

/**
 * Triplet margin loss (`torch.nn.TripletMarginLoss`): `forward(anchor, positive, negative)`, the three of one
 * shape (N, D) or (D); max(0, d(anchor, positive) − d(anchor, negative) + margin) with d the p-norm distance.
 *
 * ```ts
 * const criterion = new nn.TripletMarginLoss({ margin: 0.2, swap: true });
 * const loss = criterion.forward(embed(a), embed(p), embed(n));
 * ```
 */
export class TripletMarginLoss extends Module {
  /** The margin. */
  readonly margin: number;
  /** The norm of the distance. */
  readonly p: number;
  /** The distance's stabilising epsilon. */
  readonly eps: number;
  /** Whether the distance swap is used. */
  readonly swap: boolean;
  /** How the per-triplet losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: TripletMarginLossOptions = {}) {
    const op = 'TripletMarginLoss';
    const o = knownOptions(op, options, ['margin', 'p', 'eps', 'swap', 'reduction']);
    const margin = numberOpt(op, 'margin', o.margin, 1);
    const p = numberOpt(op, 'p', o.p, 2);
    if (!(p > 0)) throw rangeError(op, 'p', 'a number > 0', p);
    const eps = numberOpt(op, 'eps', o.eps, 1e-6, { min: 0 });
    const swap = o.swap === undefined ? false : checkBool(op, 'swap', o.swap);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.margin = margin;
    this.p = p;
    this.eps = eps;
    this.swap = swap;
    this.reduction = reduction;
  }

  /** The triplet loss of (`anchor`, `positive`, `negative`), reduced. */
  forward(anchor: Tensor, positive: Tensor, negative: Tensor): Tensor {
    const op = 'TripletMarginLoss.forward';
    return tripletMarginLoss(tensorIn(op, 'anchor', anchor), tensorIn(op, 'positive', positive), tensorIn(op, 'negative', negative), {
      margin: this.margin, p: this.p, eps: this.eps, swap: this.swap, reduction: this.reduction,
    });
  }
}

/** Options of `nn.TripletMarginWithDistanceLoss`. */
export interface TripletMarginWithDistanceLossOptions {
  /** The distance (default `pairwiseDistance`, the Euclidean one): any differentiable function of two tensors. */
  distanceFunction?: DistanceFunction | null;
  /** The margin the negative must be farther than the positive by (default 1). */
  margin?: number;
  /** Use the positive–negative distance where it is smaller than the anchor–negative one (default false). */
  swap?: boolean;
  /** `'mean'` (default) or `'sum'` of the per-triplet losses, or `'none'`. */
  reduction?: Reduction;
}

/**
 * Triplet margin loss with any distance (`torch.nn.TripletMarginWithDistanceLoss`): max(0, d(anchor, positive) −
 * d(anchor, negative) + margin), reduced, d the `distanceFunction` (default the pairwise Euclidean distance).
 *
 * ```ts
 * const criterion = new nn.TripletMarginWithDistanceLoss({ distanceFunction: (a, b) => F.pairwiseDistance(a, b, { p: 1 }), margin: 0.5 });
 * const loss = criterion.forward(embed(a), embed(p), embed(n));
 * ```
 */
export class TripletMarginWithDistanceLoss extends Module {
  /** The distance function, or null for the pairwise Euclidean distance. */
  readonly distanceFunction: DistanceFunction | null;
  /** The margin. */
  readonly margin: number;
  /** Whether the distance swap is used. */
  readonly swap: boolean;
  /** How the per-triplet losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: TripletMarginWithDistanceLossOptions = {}) {
    const op = 'TripletMarginWithDistanceLoss';
    const o = knownOptions(op, options, ['distanceFunction', 'margin', 'swap', 'reduction']);
    const fn = distanceFunctionOpt(op, o.distanceFunction);
    const margin = numberOpt(op, 'margin', o.margin, 1);
    if (!Number.isFinite(margin)) throw rangeError(op, 'margin', 'a finite number', margin);
    const swap = o.swap === undefined ? false : checkBool(op, 'swap', o.swap);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.distanceFunction = fn;
    this.margin = margin;
    this.swap = swap;
    this.reduction = reduction;
  }

  /** The triplet loss of (`anchor`, `positive`, `negative`), reduced. */
  forward(anchor: Tensor, positive: Tensor, negative: Tensor): Tensor {
    const op = 'TripletMarginWithDistanceLoss.forward';
    return tripletMarginWithDistanceLoss(tensorIn(op, 'anchor', anchor), tensorIn(op, 'positive', positive), tensorIn(op, 'negative', negative), {
      distanceFunction: this.distanceFunction, margin: this.margin, swap: this.swap, reduction: this.reduction,
    });
  }
}

// ---------------------------------------------------------------- MultiMarginLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss

/** Options of `nn.MultiMarginLoss`. */
export interface MultiMarginLossOptions {
  /** 1 (hinge, default) or 2 (squared hinge). */
  p?: 1 | 2;
  /** The margin the target class must lead every other by (default 1). */
  margin?: number;
  /** Weight of each class, a 1-d float tensor of C (registered as the buffer `weight`; default none). */
  weight?: Tensor | null;
  /** `'mean'` (default) or `'sum'` over the samples, or `'none'` (one loss per sample). */
  reduction?: Reduction;
}

/**
 * Multi-class margin (hinge) loss (`torch.nn.MultiMarginLoss`): `forward(input, target)` with scores (N, C) or
 * (C) and integer class indices (N) or one; per sample the mean over the other classes i of
 * max(0, margin − x[y] + x[i])^p, times weight[y]. The state-dict key is `weight` when a weight is given, as
 * PyTorch's.
 */
export class MultiMarginLoss extends Module {
  /** 1 or 2. */
  readonly p: 1 | 2;
  /** The margin. */
  readonly margin: number;
  /** How the per-sample losses are reduced. */
  readonly reduction: Reduction;
  /** The class weights (a buffer sharing the given tensor's memory), or null. */
  declare weight: Tensor | null;

  constructor(options: MultiMarginLossOptions = {}) {
    const op = 'MultiMarginLoss';
    const o = knownOptions(op, options, ['p', 'margin', 'weight', 'reduction']);
    if (o.p !== undefined && typeof o.p !== 'number') throw typeError(op, 'p', '1 or 2', o.p);
    if (o.p !== undefined && o.p !== 1 && o.p !== 2) throw rangeError(op, 'p', '1 or 2 (only p = 1 and p = 2 are supported)', o.p);
    const margin = numberOpt(op, 'margin', o.margin, 1);
    const weight = classWeightArg(op, o.weight);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.p = (o.p as 1 | 2 | undefined) ?? 1;
    this.margin = margin;
    this.reduction = reduction;
    registerWeight(this, 'weight', weight);
  }

  /** The multi-class margin loss of scores `input` against class indices `target`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'MultiMarginLoss.forward';
    return multiMarginLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { p: this.p, margin: this.margin, weight: this.weight, reduction: this.reduction });
  }
}

/** Options of `nn.MultiLabelMarginLoss`. */
export interface MultiLabelMarginLossOptions {
  /** `'mean'` (default) or `'sum'` over the samples, or `'none'` (one loss per sample). */
  reduction?: Reduction;
}

/**
 * Multi-label margin loss (`torch.nn.MultiLabelMarginLoss`): `forward(input, target)` with scores (N, C) or (C)
 * and a target of the same shape holding each sample's class indices first, ended by −1.
 */
export class MultiLabelMarginLoss extends Module {
  /** How the per-sample losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: MultiLabelMarginLossOptions = {}) {
    const op = 'MultiLabelMarginLoss';
    const o = knownOptions(op, options, ['reduction']);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.reduction = reduction;
  }

  /** The multi-label margin loss of scores `input` against the class lists `target`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'MultiLabelMarginLoss.forward';
    return multilabelMarginLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { reduction: this.reduction });
  }
}

/** Options of `nn.MultiLabelSoftMarginLoss`. */
export interface MultiLabelSoftMarginLossOptions {
  /** Weight of each class, C (or a shape broadcasting to the input's), registered as the buffer `weight` (default none). */
  weight?: Tensor | null;
  /** `'mean'` (default) or `'sum'` over the samples, or `'none'` (one loss per sample). */
  reduction?: Reduction;
}

/**
 * Multi-label one-versus-all logistic loss (`torch.nn.MultiLabelSoftMarginLoss`): `forward(input, target)` with
 * scores (N, C) and 0/1 targets of that shape; per sample −mean over the classes of (y·logσ(x) + (1 − y)·logσ(−x))
 * (times the weight). The state-dict key is `weight` when a weight is given, as PyTorch's.
 */
export class MultiLabelSoftMarginLoss extends Module {
  /** How the per-sample losses are reduced. */
  readonly reduction: Reduction;
  /** The class weights (a buffer sharing the given tensor's memory), or null. */
  declare weight: Tensor | null;

  constructor(options: MultiLabelSoftMarginLossOptions = {}) {
    const op = 'MultiLabelSoftMarginLoss';
    const o = knownOptions(op, options, ['weight', 'reduction']);
    const weight = weightArg(op, 'weight', o.weight);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.reduction = reduction;
    registerWeight(this, 'weight', weight);
  }

  /** The multi-label soft margin loss of scores `input` against 0/1 `target`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'MultiLabelSoftMarginLoss.forward';
    return multilabelSoftMarginLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { weight: this.weight, reduction: this.reduction });
  }
}

// ---------------------------------------------------------------- PoissonNLLLoss, GaussianNLLLoss

/** Options of `nn.PoissonNLLLoss`. */
export interface PoissonNLLLossOptions {
  /** `input` is the log of the rate: exp(input) − target·input (default true); else input − target·log(input + eps). */
  logInput?: boolean;
  /** Add Stirling's approximation of log(target!) where target > 1 (default false). */
  full?: boolean;
  /** Keeps log(input + eps) finite when `logInput` is false (default 1e-8). */
  eps?: number;
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
}

/** Poisson negative log-likelihood (`torch.nn.PoissonNLLLoss`): `forward(input, target)`, rates (or their logs) and counts of one shape. */
export class PoissonNLLLoss extends Module {
  /** Whether `input` is the log of the rate. */
  readonly logInput: boolean;
  /** Whether Stirling's term is added. */
  readonly full: boolean;
  /** The epsilon inside the log when `logInput` is false. */
  readonly eps: number;
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: PoissonNLLLossOptions = {}) {
    const op = 'PoissonNLLLoss';
    const o = knownOptions(op, options, ['logInput', 'full', 'eps', 'reduction']);
    const logInput = o.logInput === undefined ? true : checkBool(op, 'logInput', o.logInput);
    const full = o.full === undefined ? false : checkBool(op, 'full', o.full);
    const eps = numberOpt(op, 'eps', o.eps, 1e-8, { min: 0 });
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.logInput = logInput;
    this.full = full;
    this.eps = eps;
    this.reduction = reduction;
  }

  /** The Poisson negative log-likelihood of counts `target` under rates `input`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    const op = 'PoissonNLLLoss.forward';
    return poissonNllLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), { logInput: this.logInput, full: this.full, eps: this.eps, reduction: this.reduction });
  }
}

/** Options of `nn.GaussianNLLLoss`. */
export interface GaussianNLLLossOptions {
  /** Add the constant 0.5·log(2π) (default false). */
  full?: boolean;
  /** The variances are clamped to at least this, without a gradient through the clamp (default 1e-6). */
  eps?: number;
  /** `'mean'` (default) or `'sum'` over the elements, or `'none'` (one loss per element). */
  reduction?: Reduction;
}

/**
 * Gaussian negative log-likelihood (`torch.nn.GaussianNLLLoss`): `forward(input, target, var)` with expectations
 * and samples of one shape and variances of that shape, without its last dimension, or with it 1.
 *
 * ```ts
 * const criterion = new nn.GaussianNLLLoss();
 * const [mean, logVar] = net.forward(x).chunk(2, 1);
 * const loss = criterion.forward(mean, y, logVar.exp());
 * ```
 */
export class GaussianNLLLoss extends Module {
  /** Whether the constant term is added. */
  readonly full: boolean;
  /** The smallest variance used. */
  readonly eps: number;
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;

  constructor(options: GaussianNLLLossOptions = {}) {
    const op = 'GaussianNLLLoss';
    const o = knownOptions(op, options, ['full', 'eps', 'reduction']);
    const full = o.full === undefined ? false : checkBool(op, 'full', o.full);
    const eps = numberOpt(op, 'eps', o.eps, 1e-6, { min: 0 });
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    super();
    this.full = full;
    this.eps = eps;
    this.reduction = reduction;
  }

  /** The Gaussian negative log-likelihood of `target` under mean `input` and variance `variance` (PyTorch's `var`), reduced. */
  forward(input: Tensor, target: Tensor, variance: Tensor): Tensor {
    const op = 'GaussianNLLLoss.forward';
    return gaussianNllLoss(tensorIn(op, 'input', input), tensorIn(op, 'target', target), tensorIn(op, 'var', variance), { full: this.full, eps: this.eps, reduction: this.reduction });
  }
}

// ---------------------------------------------------------------- CTCLoss

/** Options of `nn.CTCLoss`. */
export interface CTCLossOptions {
  /** The blank class (default 0). */
  blank?: number;
  /** `'mean'` (default: each sequence's loss divided by its target length, then the mean), `'sum'`, or `'none'` (one loss per sequence). */
  reduction?: Reduction;
  /** Replace infinite losses (inputs too short for their targets) and their gradients by zero (default false). */
  zeroInfinity?: boolean;
}

/**
 * Connectionist Temporal Classification loss (`torch.nn.CTCLoss`): `forward(logProbs, targets, inputLengths,
 * targetLengths)` with log-probabilities (T, N, C) or (T, C), targets (N, S) padded or concatenated, and the
 * lengths as arrays of numbers or integer tensors (see `nn.functional.ctcLoss`).
 *
 * ```ts
 * const criterion = new nn.CTCLoss({ blank: 0, zeroInfinity: true });
 * const loss = criterion.forward(logits.logSoftmax(2), targets, inputLengths, targetLengths);
 * ```
 */
export class CTCLoss extends Module {
  /** The blank class. */
  readonly blank: number;
  /** How the per-sequence losses are reduced. */
  readonly reduction: Reduction;
  /** Whether infinite losses are zeroed. */
  readonly zeroInfinity: boolean;

  constructor(options: CTCLossOptions = {}) {
    const op = 'CTCLoss';
    const o = knownOptions(op, options, ['blank', 'reduction', 'zeroInfinity']);
    const blank = checkInt(op, 'blank', o.blank ?? 0, 0);
    const reduction = reductionOf(op, o.reduction, REDUCTIONS);
    const zeroInfinity = o.zeroInfinity === undefined ? false : checkBool(op, 'zeroInfinity', o.zeroInfinity);
    super();
    this.blank = blank;
    this.reduction = reduction;
    this.zeroInfinity = zeroInfinity;
  }

  /** The CTC loss of `targets` under `logProbs`, with each sequence's input and target lengths, reduced. */
  forward(logProbs: Tensor, targets: Tensor, inputLengths: number[] | Tensor, targetLengths: number[] | Tensor): Tensor {
    const op = 'CTCLoss.forward';
    return ctcLoss(tensorIn(op, 'logProbs', logProbs), tensorIn(op, 'targets', targets), inputLengths, targetLengths, {
      blank: this.blank, reduction: this.reduction, zeroInfinity: this.zeroInfinity,
    });
  }
}
