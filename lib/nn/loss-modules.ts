/**
 * The loss modules of `torch.nn`, written in TypeScript over the functional losses (`nn.functional`):
 * `CrossEntropyLoss`, `NLLLoss`, `MSELoss`, `L1Loss`, `SmoothL1Loss`, `HuberLoss`, `BCELoss`, `BCEWithLogitsLoss`
 * and `KLDivLoss`. Each is an `nn.Module` with PyTorch's constructor options (in camelCase) and
 * `forward(input, target)`; the options are checked when the module is made, and the forward checks shapes and
 * dtypes as the functional form does. A `weight` (and `BCEWithLogitsLoss`' `posWeight`) is registered as a
 * buffer, as PyTorch's `_WeightedLoss` does: it is in the state dict under PyTorch's key (`weight`,
 * `pos_weight`), moved by `to()` and freed by `dispose()`; the buffer shares the given tensor's memory, as
 * PyTorch's does. Their forward is written in JavaScript, so it runs on the main thread (see `nn.Module`); the
 * work itself is one native call each.
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
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, huberLoss, klDiv, l1Loss, mseLoss, nllLoss, smoothL1Loss } from './losses';
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
