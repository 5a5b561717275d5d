/**
 * Layers written in TypeScript over `nn.functional`: `LayerNorm`, `GroupNorm`, `Upsample`, the 2-d
 * paddings, `Dropout2d`, `Embedding`, the activations (`GELU`, `SiLU`, `Mish`, `LeakyReLU`, `ELU`, `Hardtanh`,
 * `ReLU6`, `Softplus`, `Hardswish`, `Hardsigmoid`, `Sigmoid`, `Tanh`, `Softmax`, `LogSoftmax`) and the distances
 * (`CosineSimilarity`, `PairwiseDistance`, whose forward takes two inputs). Each is an `nn.Module` with PyTorch's
 * constructor arguments (in camelCase) and PyTorch's parameter names, shapes and initialisation, so a state dict
 * goes to the PyTorch module of the same name and back (strict loading both ways). Their forward is written in
 * JavaScript, so it runs on the main thread (see `nn.Module`); the work itself is one ATen call each.
 */
import { noGrad } from '../autograd';
import { ones, randn, zeros } from '../creation';
import type { Device, DType } from '../dtype';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkBool, checkInt, checkNumber, checkOneOf, knownOptions, rangeError, typeError } from '../validate';
import { boolOpt, checkSize, embeddingTableOptions, factoryOptions, numberOpt, pretrainedTableOptions, zeroPaddingRow } from './checks';
import { cosineSimilarity, dropout2d, elu, embedding, gelu, groupNorm, hardsigmoid, hardswish, hardtanh, interpolate, interpolatePlan, layerNorm, leakyRelu, logSoftmax, mish, pad, pairwiseDistance, relu6, silu, softmax, softplus, type InterpolateOptions, type PadMode } from './functional';
import { Module, Parameter } from './module';

// ---------------------------------------------------------------- argument checks

// A module's forward input must be a Tensor (named as `Sigmoid.forward`; `arg` names it, default `input`).
function inputArg(op: string, v: unknown, arg = 'input'): Tensor {
  if (!(v instanceof Tensor)) throw typeError(op, arg, 'a Tensor', v);
  return v;
}

// ---------------------------------------------------------------- LayerNorm

/** Options of `nn.LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance before its square root is taken (default 1e-5). */
  eps?: number;
  /** Learn a per-element `weight` (initialised to ones) and `bias` (zeros) of shape `normalizedShape` (default true). */
  elementwiseAffine?: boolean;
  /** With `elementwiseAffine`, learn the `bias` too (default true; false leaves it out, as PyTorch 2.1's `bias=False`). */
  bias?: boolean;
  /** Device of the parameters (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters (default float32). */
  dtype?: DType | null;
}

/**
 * Layer normalisation over the trailing `normalizedShape` dimensions (`torch.nn.LayerNorm`): each sample's
 * last dimensions are normalised to mean 0 and variance 1 (biased variance, `eps` added), then scaled by
 * `weight` and shifted by `bias`. State-dict keys `weight` and `bias`, of shape `normalizedShape`, as PyTorch's.
 *
 * ```ts
 * const ln = new nn.LayerNorm(64);              // over the last dimension of (batch, tokens, 64)
 * const ln2 = new nn.LayerNorm([8, 8], { elementwiseAffine: false, eps: 1e-6 });
 * ```
 */
export class LayerNorm extends Module {
  /** The trailing dimensions normalised over. */
  readonly normalizedShape: number[];
  /** Added to the variance for numerical stability. */
  readonly eps: number;
  /** Whether the layer has a learnable `weight` (and `bias`). */
  readonly elementwiseAffine: boolean;
  /** The learnable scale, of shape `normalizedShape` (ones initially); null without `elementwiseAffine`. */
  declare weight: Parameter | null;
  /** The learnable shift, of shape `normalizedShape` (zeros initially); null without `elementwiseAffine` or with `bias: false`. */
  declare bias: Parameter | null;

  constructor(normalizedShape: number | number[], options: LayerNormOptions = {}) {
    const op = 'LayerNorm';
    const o = knownOptions(op, options, ['eps', 'elementwiseAffine', 'bias', 'device', 'dtype']);
    let shape: number[];
    if (typeof normalizedShape === 'number') shape = [checkSize(op, 'normalizedShape', normalizedShape)];
    else if (Array.isArray(normalizedShape) && normalizedShape.length > 0) shape = normalizedShape.map((s, i) => checkSize(op, `normalizedShape[${i}]`, s));
    else throw typeError(op, 'normalizedShape', 'a positive integer or a non-empty array of positive integers', normalizedShape);
    const eps = checkNumber(op, 'eps', o.eps ?? 1e-5);
    if (eps < 0) throw rangeError(op, 'eps', 'a number >= 0', eps);
    const affine = o.elementwiseAffine === undefined ? true : checkBool(op, 'elementwiseAffine', o.elementwiseAffine);
    const withBias = o.bias === undefined ? true : checkBool(op, 'bias', o.bias);
    const factory = factoryOptions(op, o);
    super();
    this.normalizedShape = shape;
    this.eps = eps;
    this.elementwiseAffine = affine;
    this.registerParameter('weight', affine ? tidy(() => new Parameter(ones(shape, factory))) : null);
    this.registerParameter('bias', affine && withBias ? tidy(() => new Parameter(zeros(shape, factory))) : null);
  }

  /** Normalises `input` (…, ...normalizedShape) over its trailing `normalizedShape` dimensions. */
  forward(input: Tensor): Tensor {
    return layerNorm(inputArg('LayerNorm.forward', input), this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  /**
   * PyTorch's initial values again: `weight` ones, `bias` zeros (also called by a container's `resetParameters()`).
   */
  resetParameters(): this {
    noGrad(() => {
      this.weight?.fill_(1);
      this.bias?.fill_(0);
    });
    return this;
  }
}

// ---------------------------------------------------------------- GroupNorm

/** Options of `nn.GroupNorm`. */
export interface GroupNormOptions {
  /** Added to the variance before its square root is taken (default 1e-5). */
  eps?: number;
  /** Learn a per-channel `weight` (ones initially) and `bias` (zeros) (default true). */
  affine?: boolean;
  /** Device of the parameters (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters (default float32). */
  dtype?: DType | null;
}

/**
 * Group normalisation (`torch.nn.GroupNorm`): the `numChannels` channels of an (N, C, ...) input are split into
 * `numGroups` groups, each normalised per sample over its channels and positions, then scaled and shifted per
 * channel. It does not depend on the batch, so it behaves the same in training and evaluation.
 * State-dict keys `weight` and `bias` (numChannels), as PyTorch's.
 */
export class GroupNorm extends Module {
  /** The number of channel groups. */
  readonly numGroups: number;
  /** The number of channels C the input must have. */
  readonly numChannels: number;
  /** Added to the variance for numerical stability. */
  readonly eps: number;
  /** Whether the layer has a learnable per-channel `weight` and `bias`. */
  readonly affine: boolean;
  /** The per-channel scale (ones initially); null without `affine`. */
  declare weight: Parameter | null;
  /** The per-channel shift (zeros initially); null without `affine`. */
  declare bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    const op = 'GroupNorm';
    const o = knownOptions(op, options, ['eps', 'affine', 'device', 'dtype']);
    const g = checkSize(op, 'numGroups', numGroups);
    const c = checkSize(op, 'numChannels', numChannels);
    if (c % g !== 0) throw rangeError(op, 'numChannels', `a multiple of numGroups (${g})`, c);
    const eps = numberOpt(op, 'eps', o.eps, 1e-5, { min: 0 });
    const affine = o.affine === undefined ? true : checkBool(op, 'affine', o.affine);
    const factory = factoryOptions(op, o);
    super();
    this.numGroups = g;
    this.numChannels = c;
    this.eps = eps;
    this.affine = affine;
    this.registerParameter('weight', affine ? tidy(() => new Parameter(ones([c], factory))) : null);
    this.registerParameter('bias', affine ? tidy(() => new Parameter(zeros([c], factory))) : null);
  }

  /** Normalises `input` (N, numChannels, ...). */
  forward(input: Tensor): Tensor {
    const x = inputArg('GroupNorm.forward', input);
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new RangeError(`GroupNorm.forward: expected an input (N, ${this.numChannels}, ...) but received shape [${x.shape.join(', ')}]`);
    }
    return groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  /** PyTorch's initial values again: `weight` ones, `bias` zeros (also called by a container's `resetParameters()`). */
  resetParameters(): this {
    noGrad(() => {
      this.weight?.fill_(1);
      this.bias?.fill_(0);
    });
    return this;
  }
}

// ---------------------------------------------------------------- Upsample

/**
 * Resampling to a size or by a factor (`torch.nn.Upsample`), over `nn.functional.interpolate`: the options are
 * interpolate's (`size` or `scaleFactor`, `mode` default `'nearest'`, `alignCorners`, `recomputeScaleFactor`),
 * checked when the module is made.
 *
 * ```ts
 * const up = new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }); // (N, C, H, W) -> (N, C, 2H, 2W)
 * const up3 = new nn.Upsample({ size: [8, 32, 32], mode: 'trilinear' }); // (N, C, D, H, W) -> (N, C, 8, 32, 32)
 * ```
 */
export class Upsample extends Module {
  /** The interpolate options this module applies. */
  readonly options: Readonly<InterpolateOptions>;

  constructor(options: InterpolateOptions) {
    interpolatePlan('Upsample', options);
    super();
    this.options = Object.freeze({ ...options });
  }

  /** Resamples `input` (N, C, L), (N, C, H, W) or (N, C, D, H, W), as the mode allows. */
  forward(input: Tensor): Tensor {
    return interpolate(inputArg('Upsample.forward', input), this.options);
  }
}

// ---------------------------------------------------------------- padding and channel dropout

// A 2-d padding: one number for all four sides, or [left, right, top, bottom] (PyTorch's _quadruple).
function quadruple(op: string, v: unknown): [number, number, number, number] {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw typeError(op, 'padding', 'an integer or [left, right, top, bottom]', v);
    return [v, v, v, v];
  }
  if (!Array.isArray(v) || v.length !== 4 || v.some((x) => typeof x !== 'number' || !Number.isInteger(x))) {
    throw typeError(op, 'padding', 'an integer or [left, right, top, bottom]', v);
  }
  return [v[0], v[1], v[2], v[3]];
}

// The 2-d paddings: one mode, and the padding (and value) fixed at construction.
abstract class Pad2d extends Module {
  /** [left, right, top, bottom]. */
  readonly padding: [number, number, number, number];
  private readonly op: string;
  private readonly mode: PadMode;
  private readonly fill: number | undefined;

  protected constructor(op: string, mode: PadMode, padding: number | [number, number, number, number], value?: number) {
    const p = quadruple(op, padding);
    const fill = value === undefined ? undefined : checkNumber(op, 'value', value);
    super();
    this.padding = p;
    this.op = op;
    this.mode = mode;
    this.fill = fill;
  }

  /** Pads the last two dimensions of `input` ((N, C, H, W) or (C, H, W)). */
  forward(input: Tensor): Tensor {
    return pad(inputArg(`${this.op}.forward`, input), this.padding, this.mode, this.fill);
  }
}

/** Zero padding of the last two dimensions (`torch.nn.ZeroPad2d`): `padding` one number or [left, right, top, bottom]. */
export class ZeroPad2d extends Pad2d {
  constructor(padding: number | [number, number, number, number]) {
    super('ZeroPad2d', 'constant', padding, 0);
  }
}

/** Padding of the last two dimensions with `value` (`torch.nn.ConstantPad2d`). */
export class ConstantPad2d extends Pad2d {
  constructor(padding: number | [number, number, number, number], value: number) {
    super('ConstantPad2d', 'constant', padding, value);
  }
}

/** Mirror padding without repeating the edge (`torch.nn.ReflectionPad2d`); each side less than the size it pads. */
export class ReflectionPad2d extends Pad2d {
  constructor(padding: number | [number, number, number, number]) {
    super('ReflectionPad2d', 'reflect', padding);
  }
}

/** Padding that repeats the edge values (`torch.nn.ReplicationPad2d`). */
export class ReplicationPad2d extends Pad2d {
  constructor(padding: number | [number, number, number, number]) {
    super('ReplicationPad2d', 'replicate', padding);
  }
}

/**
 * Zeroes whole channels with probability `p` in training, scaling the rest by 1/(1-p) (`torch.nn.Dropout2d`);
 * the identity in evaluation.
 */
export class Dropout2d extends Module {
  /** The probability of zeroing a channel. */
  readonly p: number;

  constructor(p = 0.5) {
    const q = checkNumber('Dropout2d', 'p', p);
    if (q < 0 || q > 1) throw rangeError('Dropout2d', 'p', 'a probability in [0, 1]', q);
    super();
    this.p = q;
  }

  /** Channel dropout of `input` (N, C, H, W) in training; `input` itself in evaluation. */
  forward(input: Tensor): Tensor {
    return dropout2d(inputArg('Dropout2d.forward', input), { p: this.p, training: this.training });
  }
}

// ---------------------------------------------------------------- Embedding

/** Options of `nn.Embedding` (and of `nn.Embedding.fromPretrained`, which adds `freeze`). */
export interface EmbeddingOptions {
  /**
   * The padding token's row: zero after initialisation and never given a gradient, so it stays what it is.
   * Negative counts from the end and is stored non-negative (`paddingIdx` -1 of 10 rows is 9), as PyTorch.
   */
  paddingIdx?: number | null;
  /** Each row looked up whose `normType`-norm exceeds this is rescaled to it, in `weight` itself (as PyTorch). */
  maxNorm?: number | null;
  /** The p of the p-norm `maxNorm` bounds (default 2). */
  normType?: number;
  /** Scale each row's gradient by the inverse frequency of its index in the batch (default false). */
  scaleGradByFreq?: boolean;
  /** Sparse gradients are not supported: only false (the default) is accepted. */
  sparse?: boolean;
  /** Device of the weight (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the weight (default float32). */
  dtype?: DType | null;
}

/** Options of `nn.Embedding.fromPretrained`. */
export interface EmbeddingFromPretrainedOptions extends Omit<EmbeddingOptions, 'device' | 'dtype'> {
  /** Keep the weight fixed: it does not require grad (default true, as PyTorch). */
  freeze?: boolean;
}

// The weight handed from `fromPretrained` to the constructor (PyTorch's private `_weight` argument).
let pretrained: { weight: Tensor; freeze: boolean } | null = null;

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim` (`torch.nn.Embedding`): the forward takes
 * int64 (or int32) indices of any shape and returns their rows, of shape (...indices, embeddingDim). The
 * state-dict key is `weight` (numEmbeddings, embeddingDim), drawn from N(0, 1) as PyTorch draws it (the same
 * seed gives the same table), with the `paddingIdx` row zeroed.
 *
 * ```ts
 * const emb = new nn.Embedding(1000, 64, { paddingIdx: 0 });
 * const vectors = emb.forward(torch.tensor([[5n, 7n, 0n]])); // [1, 3, 64]; row 0 is zeros
 * ```
 */
export class Embedding extends Module {
  /** Number of rows of the table. */
  readonly numEmbeddings: number;
  /** Size of each row. */
  readonly embeddingDim: number;
  /** The padding row (non-negative), or null. */
  readonly paddingIdx: number | null;
  /** The norm rows looked up are limited to, or null. */
  readonly maxNorm: number | null;
  /** The p of the p-norm of `maxNorm`. */
  readonly normType: number;
  /** Whether gradients are scaled by the inverse frequency of the indices in the batch. */
  readonly scaleGradByFreq: boolean;
  /** Always false: sparse gradients are not supported. */
  readonly sparse: boolean;
  /** The table, (numEmbeddings, embeddingDim). */
  declare weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    const op = pretrained ? 'Embedding.fromPretrained' : 'Embedding';
    const o = knownOptions(op, options, ['paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq', 'sparse', 'device', 'dtype']);
    const n = checkSize(op, 'numEmbeddings', numEmbeddings);
    const d = checkSize(op, 'embeddingDim', embeddingDim);
    const { paddingIdx, maxNorm, normType, scaleGradByFreq } = embeddingTableOptions(op, o, n);
    const factory = factoryOptions(op, o);
    const given = pretrained;
    super();
    this.numEmbeddings = n;
    this.embeddingDim = d;
    this.paddingIdx = paddingIdx;
    this.maxNorm = maxNorm;
    this.normType = normType;
    this.scaleGradByFreq = scaleGradByFreq;
    this.sparse = false;
    if (given) {
      // As PyTorch's from_pretrained: the weight shares the given tensor's memory and its padding row is kept.
      this.registerParameter('weight', new Parameter(given.weight, !given.freeze));
    } else {
      this.registerParameter('weight', tidy(() => new Parameter(randn([n, d], factory))));
      this.zeroPaddingRow();
    }
  }

  /**
   * An embedding whose table is `embeddings` (numEmbeddings, embeddingDim), as PyTorch's
   * `Embedding.from_pretrained`: the weight shares `embeddings`' memory, does not require grad unless `freeze`
   * is false, and its `paddingIdx` row is kept as given (it still gets no gradient).
   */
  static fromPretrained(embeddings: Tensor, options: EmbeddingFromPretrainedOptions = {}): Embedding {
    const op = 'Embedding.fromPretrained';
    const o = knownOptions(op, options, ['freeze', 'paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq', 'sparse']);
    const { freeze, rest } = pretrainedTableOptions(op, embeddings, o);
    pretrained = { weight: embeddings, freeze };
    try {
      return new Embedding(embeddings.shape[0], embeddings.shape[1], rest as EmbeddingOptions);
    } finally {
      pretrained = null;
    }
  }

  /** Looks up the rows at `input` (int64 or int32 indices of any shape): (...input.shape, embeddingDim). */
  forward(input: Tensor): Tensor {
    return embedding(inputArg('Embedding.forward', input), this.weight, {
      paddingIdx: this.paddingIdx ?? undefined, maxNorm: this.maxNorm ?? undefined, normType: this.normType, scaleGradByFreq: this.scaleGradByFreq,
    });
  }

  /**
   * PyTorch's initial values again: `weight` from N(0, 1) with the `paddingIdx` row zeroed (also called by a
   * container's `resetParameters()`).
   */
  resetParameters(): this {
    tidy(() => noGrad(() => void this.weight.copy_(randn(this.weight.shape, { dtype: this.weight.dtype, device: this.weight.device }))));
    this.zeroPaddingRow();
    return this;
  }

  private zeroPaddingRow(): void {
    zeroPaddingRow(this.weight, this.paddingIdx);
  }
}

// ---------------------------------------------------------------- activations

/** Options of `nn.GELU`. */
export interface GELUOptions {
  /** `'none'` (default): x·Φ(x) exactly; `'tanh'`: its tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit, x·Φ(x) (`torch.nn.GELU`), exact or with `approximate: 'tanh'`. */
export class GELU extends Module {
  /** `'none'` (exact) or `'tanh'`. */
  readonly approximate: 'none' | 'tanh';

  constructor(options: GELUOptions = {}) {
    const o = knownOptions('GELU', options, ['approximate']);
    const approximate = checkOneOf('GELU', 'approximate', o.approximate ?? 'none', ['none', 'tanh'] as const);
    super();
    this.approximate = approximate;
  }

  /** GELU of each element. */
  forward(input: Tensor): Tensor {
    return gelu(inputArg('GELU.forward', input), { approximate: this.approximate });
  }
}

/** x·sigmoid(x), the sigmoid-weighted linear unit or swish (`torch.nn.SiLU`). */
export class SiLU extends Module {
  /** SiLU of each element. */
  forward(input: Tensor): Tensor {
    return silu(inputArg('SiLU.forward', input));
  }
}

/** x · tanh(softplus(x)) (`torch.nn.Mish`). */
export class Mish extends Module {
  /** Mish of each element. */
  forward(input: Tensor): Tensor {
    return mish(inputArg('Mish.forward', input));
  }
}

/** x · relu6(x + 3) / 6 (`torch.nn.Hardswish`, MobileNetV3's activation). */
export class Hardswish extends Module {
  /** Hardswish of each element. */
  forward(input: Tensor): Tensor {
    return hardswish(inputArg('Hardswish.forward', input));
  }
}

/** relu6(x + 3) / 6 (`torch.nn.Hardsigmoid`). */
export class Hardsigmoid extends Module {
  /** Hardsigmoid of each element. */
  forward(input: Tensor): Tensor {
    return hardsigmoid(inputArg('Hardsigmoid.forward', input));
  }
}

/** min(max(0, x), 6) (`torch.nn.ReLU6`). */
export class ReLU6 extends Module {
  /** ReLU6 of each element. */
  forward(input: Tensor): Tensor {
    return relu6(inputArg('ReLU6.forward', input));
  }
}

/** max(0, x) + negativeSlope · min(0, x) (`torch.nn.LeakyReLU`): `new nn.LeakyReLU(0.2)`. */
export class LeakyReLU extends Module {
  /** The slope for negative inputs. */
  readonly negativeSlope: number;

  constructor(negativeSlope = 0.01) {
    const slope = checkNumber('LeakyReLU', 'negativeSlope', negativeSlope);
    super();
    this.negativeSlope = slope;
  }

  /** Leaky ReLU of each element. */
  forward(input: Tensor): Tensor {
    return leakyRelu(inputArg('LeakyReLU.forward', input), this.negativeSlope);
  }
}

/** x for x > 0, alpha · (eˣ − 1) otherwise (`torch.nn.ELU`). */
export class ELU extends Module {
  /** The scale of the negative branch. */
  readonly alpha: number;

  constructor(alpha = 1) {
    const a = checkNumber('ELU', 'alpha', alpha);
    super();
    this.alpha = a;
  }

  /** ELU of each element. */
  forward(input: Tensor): Tensor {
    return elu(inputArg('ELU.forward', input), this.alpha);
  }
}

/** x clamped to [minVal, maxVal] (`torch.nn.Hardtanh`; default [−1, 1]). */
export class Hardtanh extends Module {
  /** The lower bound. */
  readonly minVal: number;
  /** The upper bound. */
  readonly maxVal: number;

  constructor(minVal = -1, maxVal = 1) {
    const lo = checkNumber('Hardtanh', 'minVal', minVal);
    const hi = checkNumber('Hardtanh', 'maxVal', maxVal);
    if (!(hi > lo)) throw rangeError('Hardtanh', 'maxVal', `a number greater than minVal (${lo})`, hi);
    super();
    this.minVal = lo;
    this.maxVal = hi;
  }

  /** Each element clamped to [minVal, maxVal]. */
  forward(input: Tensor): Tensor {
    return hardtanh(inputArg('Hardtanh.forward', input), this.minVal, this.maxVal);
  }
}

/** log(1 + e^(beta·x)) / beta, linear where beta·x > threshold (`torch.nn.Softplus`; defaults 1 and 20). */
export class Softplus extends Module {
  /** The sharpness. */
  readonly beta: number;
  /** Above beta·x > threshold the output is x. */
  readonly threshold: number;

  constructor(beta = 1, threshold = 20) {
    const b = checkNumber('Softplus', 'beta', beta);
    if (b === 0) throw rangeError('Softplus', 'beta', 'a nonzero number (the result is divided by it)', b);
    const t = checkNumber('Softplus', 'threshold', threshold);
    super();
    this.beta = b;
    this.threshold = t;
  }

  /** Softplus of each element. */
  forward(input: Tensor): Tensor {
    return softplus(inputArg('Softplus.forward', input), this.beta, this.threshold);
  }
}

/** 1 / (1 + e^(−x)) (`torch.nn.Sigmoid`). */
export class Sigmoid extends Module {
  /** The sigmoid of each element. */
  forward(input: Tensor): Tensor {
    return inputArg('Sigmoid.forward', input).sigmoid();
  }
}

/** The hyperbolic tangent (`torch.nn.Tanh`). */
export class Tanh extends Module {
  /** tanh of each element. */
  forward(input: Tensor): Tensor {
    return inputArg('Tanh.forward', input).tanh();
  }
}

function checkDim(op: string, dim: unknown): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) {
    throw typeError(op, 'dim', "an integer, the dimension to normalise over (PyTorch's implicit choice for dim=None is not supported)", dim);
  }
  return dim;
}

// Softmax and LogSoftmax: one function of the input along a dimension fixed at construction.
abstract class AlongDim extends Module {
  /** The dimension normalised over (negative counts from the end). */
  readonly dim: number;

  protected constructor(op: string, dim: number) {
    const d = checkDim(op, dim);
    super();
    this.dim = d;
  }
}

/** Softmax along `dim` (`torch.nn.Softmax`): the values along it are positive and sum to 1. */
export class Softmax extends AlongDim {
  constructor(dim: number) {
    super('Softmax', dim);
  }

  /** Softmax of `input` along `dim`. */
  forward(input: Tensor): Tensor {
    return softmax(inputArg('Softmax.forward', input), this.dim);
  }
}

/** log(softmax(x)) along `dim`, computed stably (`torch.nn.LogSoftmax`); pairs with `nllLoss`. */
export class LogSoftmax extends AlongDim {
  constructor(dim: number) {
    super('LogSoftmax', dim);
  }

  /** Log-softmax of `input` along `dim`. */
  forward(input: Tensor): Tensor {
    return logSoftmax(inputArg('LogSoftmax.forward', input), this.dim);
  }
}

// ---------------------------------------------------------------- distances

/** Options of `nn.CosineSimilarity`. */
export interface CosineSimilarityOptions {
  /** The dimension the similarity is computed along (default 1; negative counts from the end). */
  dim?: number;
  /** Smallest divisor, against division by zero (default 1e-8). */
  eps?: number;
}

/**
 * Cosine similarity of `x1` and `x2` along `dim` (`torch.nn.CosineSimilarity`): x1·x2 / max(‖x1‖·‖x2‖, eps),
 * the inputs broadcast to one shape; the output drops `dim`.
 *
 * ```ts
 * const cos = new nn.CosineSimilarity({ dim: -1 });
 * const sim = cos.forward(queries, keys); // (N, D) and (N, D) -> (N)
 * ```
 */
export class CosineSimilarity extends Module {
  /** The dimension the similarity is computed along. */
  readonly dim: number;
  /** Smallest divisor. */
  readonly eps: number;

  constructor(options: CosineSimilarityOptions = {}) {
    const op = 'CosineSimilarity';
    const o = knownOptions(op, options, ['dim', 'eps']);
    const dim = o.dim === undefined ? 1 : checkInt(op, 'dim', o.dim);
    const eps = numberOpt(op, 'eps', o.eps, 1e-8, { min: 0 });
    super();
    this.dim = dim;
    this.eps = eps;
  }

  /** The cosine similarity of `x1` and `x2` along `dim`. */
  forward(x1: Tensor, x2: Tensor): Tensor {
    const op = 'CosineSimilarity.forward';
    return cosineSimilarity(inputArg(op, x1, 'x1'), inputArg(op, x2, 'x2'), { dim: this.dim, eps: this.eps });
  }
}

/** Options of `nn.PairwiseDistance`. */
export interface PairwiseDistanceOptions {
  /** Order of the norm, ≥ 0 (default 2). */
  p?: number;
  /** Added to the difference, against a zero norm's gradient (default 1e-6). */
  eps?: number;
  /** Keep the last dimension (size 1) in the output (default false). */
  keepdim?: boolean;
}

/**
 * The p-norm distance ‖x1 − x2 + eps‖_p over the last dimension, row by row (`torch.nn.PairwiseDistance`), the
 * inputs broadcast to one shape.
 *
 * ```ts
 * const dist = new nn.PairwiseDistance({ p: 1 });
 * const d = dist.forward(anchors, positives); // (N, D) and (N, D) -> (N)
 * ```
 */
export class PairwiseDistance extends Module {
  /** Order of the norm. */
  readonly p: number;
  /** Added to the difference. */
  readonly eps: number;
  /** Whether the last dimension is kept (size 1). */
  readonly keepdim: boolean;

  constructor(options: PairwiseDistanceOptions = {}) {
    const op = 'PairwiseDistance';
    const o = knownOptions(op, options, ['p', 'eps', 'keepdim']);
    const p = numberOpt(op, 'p', o.p, 2, { min: 0 });
    const eps = numberOpt(op, 'eps', o.eps, 1e-6);
    const keepdim = boolOpt(op, 'keepdim', o.keepdim, false);
    super();
    this.p = p;
    this.eps = eps;
    this.keepdim = keepdim;
  }

  /** The distance of each row of `x1` to the matching row of `x2`. */
  forward(x1: Tensor, x2: Tensor): Tensor {
    const op = 'PairwiseDistance.forward';
    return pairwiseDistance(inputArg(op, x1, 'x1'), inputArg(op, x2, 'x2'), { p: this.p, eps: this.eps, keepdim: this.keepdim });
  }
}
