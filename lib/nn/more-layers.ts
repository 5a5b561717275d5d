/**
 * Still more layers written in TypeScript over `nn.functional` (`functional-more.ts`, `functional.ts`):
 * `EmbeddingBag`; the paddings of 1 and 3 dimensions (`ReflectionPad1d/3d`, `ReplicationPad1d/3d`,
 * `ConstantPad1d/3d`); `Dropout1d`, `Dropout3d`, `AlphaDropout`, `FeatureAlphaDropout`; `UpsamplingNearest2d`,
 * `UpsamplingBilinear2d`; `Threshold`; `MaxUnpool1d/2d/3d`, `LPPool1d/2d`, `LocalResponseNorm`. Each is an
 * `nn.Module` with PyTorch 1.13's constructor arguments (camelCase), parameter names, shapes and initialisation,
 * so a state dict goes to the PyTorch module of the same name and back. Their forward is written in JavaScript
 * (main thread, see `nn.Module`); the work itself is one ATen call each.
 */
import { noGrad } from '../autograd';
import { randn } from '../creation';
import type { Device, DType } from '../dtype';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkBool, checkNumber, checkOneOf, knownOptions, rangeError, typeError } from '../validate';
import { checkSize, embeddingTableOptions, factoryOptions, ntuple, pretrainedTableOptions, zeroPaddingRow, type SpatialDims } from './checks';
import { interpolatePlan, pad, type PadMode } from './functional';
import {
  alphaDropout,
  dropout1d,
  dropout3d,
  embeddingBag,
  featureAlphaDropout,
  localResponseNorm,
  lpNormType,
  lpPool1d,
  lpPool2d,
  lrnOptions,
  maxUnpool1d,
  maxUnpool2d,
  maxUnpool3d,
  threshold,
  type EmbeddingBagMode,
} from './functional-more';
import { Upsample } from './functional-layers';
import { Module, Parameter } from './module';

// A module's forward input must be a Tensor (named as `Threshold.forward`; `arg` names it, default `input`).
function inputArg(op: string, v: unknown, arg = 'input'): Tensor {
  if (!(v instanceof Tensor)) throw typeError(op, arg, 'a Tensor', v);
  return v;
}

// ---------------------------------------------------------------- EmbeddingBag

/** Options of `nn.EmbeddingBag` (and of `nn.EmbeddingBag.fromPretrained`, which adds `freeze`). */
export interface EmbeddingBagOptions {
  /** Each row looked up whose `normType`-norm exceeds this is rescaled to it, in `weight` itself (as PyTorch). */
  maxNorm?: number | null;
  /** The p of the p-norm `maxNorm` bounds (default 2). */
  normType?: number;
  /** Scale each row's gradient by the inverse frequency of its index in the batch (default false; not with `'max'`). */
  scaleGradByFreq?: boolean;
  /** How each bag is reduced: `'sum'`, `'mean'` (default) or `'max'`. */
  mode?: EmbeddingBagMode;
  /** Sparse gradients are not supported: only false (the default) is accepted. */
  sparse?: boolean;
  /** `offsets` has one more element, the end of the last bag, which must be the input's length (as CSR's; default false). */
  includeLastOffset?: boolean;
  /**
   * Indices equal to this row are left out of their bags; the row is zero after initialisation and gets no
   * gradient. Negative counts from the end and is stored non-negative, as PyTorch.
   */
  paddingIdx?: number | null;
  /** Device of the weight (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the weight (default float32). */
  dtype?: DType | null;
}

/** Options of `nn.EmbeddingBag.fromPretrained`. */
export interface EmbeddingBagFromPretrainedOptions extends Omit<EmbeddingBagOptions, 'device' | 'dtype'> {
  /** Keep the weight fixed: it does not require grad (default true, as PyTorch). */
  freeze?: boolean;
}

// The weight handed from `fromPretrained` to the constructor (PyTorch's private `_weight` argument).
let pretrainedBag: { weight: Tensor; freeze: boolean } | null = null;

/**
 * Sums, means or maxima of bags of embeddings without building the looked-up rows (`torch.nn.EmbeddingBag`): the
 * forward takes int64 (or int32) indices, (B, L) for B bags of L or 1-d with `offsets` (each bag's start), and
 * optional `perSampleWeights` (mode `'sum'`), and returns (bags, embeddingDim). The state-dict key is `weight`
 * (numEmbeddings, embeddingDim), drawn from N(0, 1) as PyTorch draws it (the same seed gives the same table), with
 * the `paddingIdx` row zeroed.
 *
 * ```ts
 * const bag = new nn.EmbeddingBag(1000, 64, { mode: 'sum' });
 * const out = bag.forward(torch.tensor([3n, 7n, 7n, 9n, 1n]), torch.tensor([0n, 3n])); // [2, 64]
 * ```
 */
export class EmbeddingBag extends Module {
  /** Number of rows of the table. */
  readonly numEmbeddings: number;
  /** Size of each row. */
  readonly embeddingDim: number;
  /** The norm rows looked up are limited to, or null. */
  readonly maxNorm: number | null;
  /** The p of the p-norm of `maxNorm`. */
  readonly normType: number;
  /** Whether gradients are scaled by the inverse frequency of the indices in the batch. */
  readonly scaleGradByFreq: boolean;
  /** How each bag is reduced. */
  readonly mode: EmbeddingBagMode;
  /** Always false: sparse gradients are not supported. */
  readonly sparse: boolean;
  /** Whether `offsets` ends with the end of the last bag. */
  readonly includeLastOffset: boolean;
  /** The padding row (non-negative), or null. */
  readonly paddingIdx: number | null;
  /** The table, (numEmbeddings, embeddingDim). */
  declare weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingBagOptions = {}) {
    const op = pretrainedBag ? 'EmbeddingBag.fromPretrained' : 'EmbeddingBag';
    const o = knownOptions(op, options, ['maxNorm', 'normType', 'scaleGradByFreq', 'mode', 'sparse', 'includeLastOffset', 'paddingIdx', 'device', 'dtype']);
    const n = checkSize(op, 'numEmbeddings', numEmbeddings);
    const d = checkSize(op, 'embeddingDim', embeddingDim);
    const { paddingIdx, maxNorm, normType, scaleGradByFreq } = embeddingTableOptions(op, o, n);
    const mode = checkOneOf(op, 'mode', o.mode ?? 'mean', ['sum', 'mean', 'max'] as const);
    if (scaleGradByFreq && mode === 'max') throw rangeError(op, 'scaleGradByFreq', "false with mode 'max' (max mode does not scale the gradient by frequency)", true);
    const includeLastOffset = o.includeLastOffset === undefined ? false : checkBool(op, 'includeLastOffset', o.includeLastOffset);
    const factory = factoryOptions(op, o);
    const given = pretrainedBag;
    super();
    this.numEmbeddings = n;
    this.embeddingDim = d;
    this.maxNorm = maxNorm;
    this.normType = normType;
    this.scaleGradByFreq = scaleGradByFreq;
    this.mode = mode;
    this.sparse = false;
    this.includeLastOffset = includeLastOffset;
    this.paddingIdx = paddingIdx;
    if (given) {
      // As PyTorch's from_pretrained: the weight shares the given tensor's memory and its padding row is kept.
      this.registerParameter('weight', new Parameter(given.weight, !given.freeze));
    } else {
      this.registerParameter('weight', tidy(() => new Parameter(randn([n, d], factory))));
      this.zeroPaddingRow();
    }
  }

  /**
   * A bag whose table is `embeddings` (numEmbeddings, embeddingDim), as PyTorch's `EmbeddingBag.from_pretrained`:
   * the weight shares `embeddings`' memory, does not require grad unless `freeze` is false, and its `paddingIdx`
   * row is kept as given.
   */
  static fromPretrained(embeddings: Tensor, options: EmbeddingBagFromPretrainedOptions = {}): EmbeddingBag {
    const op = 'EmbeddingBag.fromPretrained';
    const o = knownOptions(op, options, ['freeze', 'maxNorm', 'normType', 'scaleGradByFreq', 'mode', 'sparse', 'includeLastOffset', 'paddingIdx']);
    const { freeze, rest } = pretrainedTableOptions(op, embeddings, o);
    pretrainedBag = { weight: embeddings, freeze };
    try {
      return new EmbeddingBag(embeddings.shape[0], embeddings.shape[1], rest as EmbeddingBagOptions);
    } finally {
      pretrainedBag = null;
    }
  }

  /**
   * The bags of `input`: (B, L) indices are B bags (`offsets` null), 1-d indices are split at `offsets`;
   * `perSampleWeights` (input's shape) weigh each row in mode `'sum'`. Returns (bags, embeddingDim).
   */
  forward(input: Tensor, offsets?: Tensor | null, perSampleWeights?: Tensor | null): Tensor {
    return embeddingBag(inputArg('EmbeddingBag.forward', input), this.weight, offsets, {
      maxNorm: this.maxNorm, normType: this.normType, scaleGradByFreq: this.scaleGradByFreq, mode: this.mode, perSampleWeights: perSampleWeights ?? null,
      includeLastOffset: this.includeLastOffset, paddingIdx: this.paddingIdx,
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

// ---------------------------------------------------------------- paddings of 1 and 3 dimensions

// A padding of n dimensions: one number for every side, or 2n of them, (before, after) from the last dimension on.
function padSides(op: string, n: 1 | 3, v: unknown): number[] {
  const what = n === 1 ? 'an integer or [left, right]' : 'an integer or [left, right, top, bottom, front, back]';
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw typeError(op, 'padding', what, v);
    return new Array<number>(2 * n).fill(v);
  }
  if (!Array.isArray(v) || v.length !== 2 * n || v.some((x) => typeof x !== 'number' || !Number.isInteger(x))) throw typeError(op, 'padding', what, v);
  return [...(v as number[])];
}

// The paddings of 1 and 3 dimensions: one mode, the padding (and value) fixed at construction.
abstract class PadNd extends Module {
  /** The padding, (before, after) pairs from the last dimension backwards: [left, right] or [left, right, top, bottom, front, back]. */
  readonly padding: number[];
  /** The fill of a constant padding (undefined for the others). */
  readonly value: number | undefined;
  private readonly op: string;
  private readonly mode: PadMode;

  protected constructor(op: string, n: 1 | 3, mode: PadMode, padding: unknown, value?: unknown) {
    const p = padSides(op, n, padding);
    const fill = mode === 'constant' ? checkNumber(op, 'value', value) : undefined;
    super();
    this.padding = p;
    this.value = fill;
    this.op = op;
    this.mode = mode;
  }

  /** Pads the last dimension(s) of `input`. */
  forward(input: Tensor): Tensor {
    return pad(inputArg(`${this.op}.forward`, input), this.padding, this.mode, this.value);
  }
}

/**
 * Mirror padding of the last dimension of (N, C, L) or (C, L), without repeating the edge (`torch.nn.ReflectionPad1d`);
 * each side less than L.
 *
 * ```ts
 * const y = new nn.ReflectionPad1d([2, 1]).forward(x); // L -> L + 3
 * ```
 */
export class ReflectionPad1d extends PadNd {
  constructor(padding: number | [number, number]) {
    super('ReflectionPad1d', 1, 'reflect', padding);
  }
}

/**
 * Mirror padding of the last three dimensions of (N, C, D, H, W) or (C, D, H, W) (`torch.nn.ReflectionPad3d`):
 * `padding` one number or [left, right, top, bottom, front, back].
 *
 * ```ts
 * const y = new nn.ReflectionPad3d(1).forward(volume);
 * ```
 */
export class ReflectionPad3d extends PadNd {
  constructor(padding: number | [number, number, number, number, number, number]) {
    super('ReflectionPad3d', 3, 'reflect', padding);
  }
}

/**
 * Padding of the last dimension that repeats the edge values (`torch.nn.ReplicationPad1d`).
 *
 * ```ts
 * const y = new nn.ReplicationPad1d([3, 0]).forward(x);
 * ```
 */
export class ReplicationPad1d extends PadNd {
  constructor(padding: number | [number, number]) {
    super('ReplicationPad1d', 1, 'replicate', padding);
  }
}

/**
 * Padding of the last three dimensions that repeats the edge values (`torch.nn.ReplicationPad3d`).
 *
 * ```ts
 * const y = new nn.ReplicationPad3d([1, 1, 2, 2, 0, 1]).forward(volume);
 * ```
 */
export class ReplicationPad3d extends PadNd {
  constructor(padding: number | [number, number, number, number, number, number]) {
    super('ReplicationPad3d', 3, 'replicate', padding);
  }
}

/**
 * Padding of the last dimension with `value` (`torch.nn.ConstantPad1d`).
 *
 * ```ts
 * const y = new nn.ConstantPad1d([2, 2], -1).forward(x);
 * ```
 */
export class ConstantPad1d extends PadNd {
  constructor(padding: number | [number, number], value: number) {
    super('ConstantPad1d', 1, 'constant', padding, value);
  }
}

/**
 * Padding of the last three dimensions with `value` (`torch.nn.ConstantPad3d`).
 *
 * ```ts
 * const y = new nn.ConstantPad3d(1, 0.5).forward(volume);
 * ```
 */
export class ConstantPad3d extends PadNd {
  constructor(padding: number | [number, number, number, number, number, number], value: number) {
    super('ConstantPad3d', 3, 'constant', padding, value);
  }
}

// ---------------------------------------------------------------- dropouts

// A dropout module: the probability, checked at construction; the functional form in training.
abstract class DropoutBase extends Module {
  /** The probability of dropping an element or a channel. */
  readonly p: number;

  protected constructor(op: string, p: unknown) {
    const q = checkNumber(op, 'p', p);
    if (q < 0 || q > 1) throw rangeError(op, 'p', 'a probability in [0, 1]', q);
    super();
    this.p = q;
  }
}

/**
 * Zeroes whole channels of (N, C, L) or (C, L) with probability `p` in training, scaling the rest by 1/(1-p)
 * (`torch.nn.Dropout1d`); the identity in evaluation.
 *
 * ```ts
 * const drop = new nn.Dropout1d(0.2);
 * ```
 */
export class Dropout1d extends DropoutBase {
  constructor(p = 0.5) {
    super('Dropout1d', p);
  }

  /** Channel dropout of `input` in training; `input` itself in evaluation. */
  forward(input: Tensor): Tensor {
    return dropout1d(inputArg('Dropout1d.forward', input), { p: this.p, training: this.training });
  }
}

/**
 * Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) with probability `p` in training, scaling the rest by
 * 1/(1-p) (`torch.nn.Dropout3d`); the identity in evaluation.
 *
 * ```ts
 * const drop = new nn.Dropout3d(0.1);
 * ```
 */
export class Dropout3d extends DropoutBase {
  constructor(p = 0.5) {
    super('Dropout3d', p);
  }

  /** Channel dropout of `input` in training; `input` itself in evaluation. */
  forward(input: Tensor): Tensor {
    return dropout3d(inputArg('Dropout3d.forward', input), { p: this.p, training: this.training });
  }
}

/**
 * Alpha dropout for SELU networks (`torch.nn.AlphaDropout`): in training, dropped elements take SELU's negative
 * saturation and the output keeps the input's mean and variance; the identity in evaluation.
 *
 * ```ts
 * const net = new nn.Sequential(new nn.Linear(64, 64), new nn.SELU(), new nn.AlphaDropout(0.1));
 * ```
 */
export class AlphaDropout extends DropoutBase {
  constructor(p = 0.5) {
    super('AlphaDropout', p);
  }

  /** Alpha dropout of `input` in training; `input` itself in evaluation. */
  forward(input: Tensor): Tensor {
    return alphaDropout(inputArg('AlphaDropout.forward', input), { p: this.p, training: this.training });
  }
}

/**
 * Alpha dropout of whole channels (dim 1 of (N, C, ...)) (`torch.nn.FeatureAlphaDropout`); the identity in
 * evaluation.
 *
 * ```ts
 * const drop = new nn.FeatureAlphaDropout(0.2);
 * ```
 */
export class FeatureAlphaDropout extends DropoutBase {
  constructor(p = 0.5) {
    super('FeatureAlphaDropout', p);
  }

  /** Channel alpha dropout of `input` in training; `input` itself in evaluation. */
  forward(input: Tensor): Tensor {
    return featureAlphaDropout(inputArg('FeatureAlphaDropout.forward', input), { p: this.p, training: this.training });
  }
}

// ---------------------------------------------------------------- upsampling, threshold

/** Options of `nn.UpsamplingNearest2d` and `nn.UpsamplingBilinear2d` (give `size` or `scaleFactor`). */
export interface Upsampling2dOptions {
  /** The output's height and width (one number for both). */
  size?: number | [number, number];
  /** The factor of the height and width (one number for both). */
  scaleFactor?: number | [number, number];
}

/**
 * Nearest-neighbour upsampling of (N, C, H, W) (`torch.nn.UpsamplingNearest2d`): `nn.Upsample` with mode
 * `'nearest'`.
 *
 * ```ts
 * const up = new nn.UpsamplingNearest2d({ scaleFactor: 2 }); // (N, C, H, W) -> (N, C, 2H, 2W)
 * ```
 */
export class UpsamplingNearest2d extends Upsample {
  constructor(options: Upsampling2dOptions) {
    const o = knownOptions('UpsamplingNearest2d', options, ['size', 'scaleFactor']);
    interpolatePlan('UpsamplingNearest2d', { ...o, mode: 'nearest' });
    super({ ...o, mode: 'nearest' });
  }
}

/**
 * Bilinear upsampling of (N, C, H, W) with aligned corners (`torch.nn.UpsamplingBilinear2d`): `nn.Upsample` with
 * mode `'bilinear'` and `alignCorners: true`.
 *
 * ```ts
 * const up = new nn.UpsamplingBilinear2d({ size: [64, 64] });
 * ```
 */
export class UpsamplingBilinear2d extends Upsample {
  constructor(options: Upsampling2dOptions) {
    const o = knownOptions('UpsamplingBilinear2d', options, ['size', 'scaleFactor']);
    interpolatePlan('UpsamplingBilinear2d', { ...o, mode: 'bilinear', alignCorners: true });
    super({ ...o, mode: 'bilinear', alignCorners: true });
  }
}

/**
 * x where x > `threshold`, `value` elsewhere (`torch.nn.Threshold`).
 *
 * ```ts
 * const act = new nn.Threshold(0.1, 20);
 * ```
 */
export class Threshold extends Module {
  /** The threshold. */
  readonly threshold: number;
  /** The value of the elements at or below it. */
  readonly value: number;

  constructor(threshold: number, value: number) {
    const t = checkNumber('Threshold', 'threshold', threshold);
    const v = checkNumber('Threshold', 'value', value);
    super();
    this.threshold = t;
    this.value = v;
  }

  /** Each element thresholded. */
  forward(input: Tensor): Tensor {
    return threshold(inputArg('Threshold.forward', input), this.threshold, this.value);
  }
}

// ---------------------------------------------------------------- unpooling, power-average pooling, local response normalisation

/** Options of `nn.MaxUnpool1d/2d/3d`: `T` is one integer per spatial dimension. */
export interface MaxUnpoolOptions<T extends number[] = number[]> {
  /** The stride of the pooling undone (default the kernel size). */
  stride?: number | T | null;
  /** The padding of the pooling undone (default 0). */
  padding?: number | T;
}

// The unpoolings: kernel, stride and padding fixed at construction.
abstract class MaxUnpoolNd extends Module {
  /** The kernel size of the pooling undone. */
  readonly kernelSize: number[];
  /** Its stride. */
  readonly stride: number[];
  /** Its padding. */
  readonly padding: number[];

  protected constructor(op: string, n: SpatialDims, kernelSize: unknown, options: unknown) {
    const o = knownOptions(op, options, ['stride', 'padding']);
    const k = ntuple(op, 'kernelSize', kernelSize, 1, n);
    const stride = o.stride === undefined || o.stride === null ? k : ntuple(op, 'stride', o.stride, 1, n);
    const padding = ntuple(op, 'padding', o.padding ?? 0, 0, n);
    super();
    this.kernelSize = k;
    this.stride = stride;
    this.padding = padding;
  }
}

/**
 * The partial inverse of `nn.MaxPool1d` (`torch.nn.MaxUnpool1d`): the forward puts each value at its index (from
 * the pooling's `returnIndices`) in a zero output, of the default size or `outputSize`.
 *
 * ```ts
 * const [y, idx] = F.maxPool1d(x, 2, { returnIndices: true });
 * const back = new nn.MaxUnpool1d(2).forward(y, idx);
 * ```
 */
export class MaxUnpool1d extends MaxUnpoolNd {
  constructor(kernelSize: number | [number], options: MaxUnpoolOptions<[number]> = {}) {
    super('MaxUnpool1d', 1, kernelSize, options);
  }

  /** Unpools `input` (N, C, L) or (C, L) with `indices` (input's shape). */
  forward(input: Tensor, indices: Tensor, outputSize?: number[] | null): Tensor {
    const op = 'MaxUnpool1d.forward';
    return maxUnpool1d(inputArg(op, input), inputArg(op, indices, 'indices'), this.kernelSize as [number], { stride: this.stride as [number], padding: this.padding as [number], outputSize });
  }
}

/**
 * The partial inverse of `nn.MaxPool2d` (`torch.nn.MaxUnpool2d`).
 *
 * ```ts
 * const unpool = new nn.MaxUnpool2d(2, { stride: 2 });
 * const back = unpool.forward(y, idx, x.shape);
 * ```
 */
export class MaxUnpool2d extends MaxUnpoolNd {
  constructor(kernelSize: number | [number, number], options: MaxUnpoolOptions<[number, number]> = {}) {
    super('MaxUnpool2d', 2, kernelSize, options);
  }

  /** Unpools `input` (N, C, H, W) or (C, H, W) with `indices` (input's shape). */
  forward(input: Tensor, indices: Tensor, outputSize?: number[] | null): Tensor {
    const op = 'MaxUnpool2d.forward';
    return maxUnpool2d(inputArg(op, input), inputArg(op, indices, 'indices'), this.kernelSize as [number, number], {
      stride: this.stride as [number, number], padding: this.padding as [number, number], outputSize,
    });
  }
}

/**
 * The partial inverse of `nn.MaxPool3d` (`torch.nn.MaxUnpool3d`).
 *
 * ```ts
 * const back = new nn.MaxUnpool3d(2).forward(y, idx);
 * ```
 */
export class MaxUnpool3d extends MaxUnpoolNd {
  constructor(kernelSize: number | [number, number, number], options: MaxUnpoolOptions<[number, number, number]> = {}) {
    super('MaxUnpool3d', 3, kernelSize, options);
  }

  /** Unpools `input` (N, C, D, H, W) or (C, D, H, W) with `indices` (input's shape). */
  forward(input: Tensor, indices: Tensor, outputSize?: number[] | null): Tensor {
    const op = 'MaxUnpool3d.forward';
    return maxUnpool3d(inputArg(op, input), inputArg(op, indices, 'indices'), this.kernelSize as [number, number, number], {
      stride: this.stride as [number, number, number], padding: this.padding as [number, number, number], outputSize,
    });
  }
}

/** Options of `nn.LPPool1d` and `nn.LPPool2d`: `T` is one integer per spatial dimension. */
export interface LPPoolOptions<T extends number[] = number[]> {
  /** The step of the window (default the kernel size). */
  stride?: number | T | null;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
}

// The power-average poolings: norm, kernel, stride and rounding fixed at construction.
abstract class LPPoolNd extends Module {
  /** The p of (Σ x^p)^(1/p). */
  readonly normType: number;
  /** The window size. */
  readonly kernelSize: number[];
  /** The step of the window. */
  readonly stride: number[];
  /** Whether the output size is rounded up. */
  readonly ceilMode: boolean;

  protected constructor(op: string, n: 1 | 2, normType: unknown, kernelSize: unknown, options: unknown) {
    const o = knownOptions(op, options, ['stride', 'ceilMode']);
    const p = lpNormType(op, normType);
    const k = ntuple(op, 'kernelSize', kernelSize, 1, n);
    const stride = o.stride === undefined || o.stride === null ? k : ntuple(op, 'stride', o.stride, 1, n);
    const ceilMode = o.ceilMode === undefined ? false : checkBool(op, 'ceilMode', o.ceilMode);
    super();
    this.normType = p;
    this.kernelSize = k;
    this.stride = stride;
    this.ceilMode = ceilMode;
  }
}

/**
 * Power-average pooling over (N, C, L) or (C, L) (`torch.nn.LPPool1d`): (Σ x^p)^(1/p) over each window.
 *
 * ```ts
 * const pool = new nn.LPPool1d(2, 3, { stride: 2 });
 * ```
 */
export class LPPool1d extends LPPoolNd {
  constructor(normType: number, kernelSize: number | [number], options: LPPoolOptions<[number]> = {}) {
    super('LPPool1d', 1, normType, kernelSize, options);
  }

  /** Pools `input`. */
  forward(input: Tensor): Tensor {
    return lpPool1d(inputArg('LPPool1d.forward', input), this.normType, this.kernelSize as [number], { stride: this.stride as [number], ceilMode: this.ceilMode });
  }
}

/**
 * Power-average pooling over (N, C, H, W) or (C, H, W) (`torch.nn.LPPool2d`): (Σ x^p)^(1/p) over each window.
 *
 * ```ts
 * const pool = new nn.LPPool2d(2, [3, 2], { stride: [2, 1] });
 * ```
 */
export class LPPool2d extends LPPoolNd {
  constructor(normType: number, kernelSize: number | [number, number], options: LPPoolOptions<[number, number]> = {}) {
    super('LPPool2d', 2, normType, kernelSize, options);
  }

  /** Pools `input`. */
  forward(input: Tensor): Tensor {
    return lpPool2d(inputArg('LPPool2d.forward', input), this.normType, this.kernelSize as [number, number], { stride: this.stride as [number, number], ceilMode: this.ceilMode });
  }
}

/** Options of `nn.LocalResponseNorm`. */
export interface LocalResponseNormOptions {
  /** The multiplicative factor (default 1e-4). */
  alpha?: number;
  /** The exponent (default 0.75). */
  beta?: number;
  /** The additive factor (default 1). */
  k?: number;
}

/**
 * Local response normalisation across channels (`torch.nn.LocalResponseNorm`, AlexNet's): each element of
 * (N, C, ...) divided by (k + alpha/size · Σ x²)^beta over the `size` channels around it.
 *
 * ```ts
 * const lrn = new nn.LocalResponseNorm(5, { k: 2 });
 * ```
 */
export class LocalResponseNorm extends Module {
  /** The number of neighbouring channels summed over. */
  readonly size: number;
  /** The multiplicative factor. */
  readonly alpha: number;
  /** The exponent. */
  readonly beta: number;
  /** The additive factor. */
  readonly k: number;

  constructor(size: number, options: LocalResponseNormOptions = {}) {
    const o = lrnOptions('LocalResponseNorm', size, options);
    super();
    this.size = o.size;
    this.alpha = o.alpha;
    this.beta = o.beta;
    this.k = o.k;
  }

  /** Normalises `input` (N, C, ...). */
  forward(input: Tensor): Tensor {
    return localResponseNorm(inputArg('LocalResponseNorm.forward', input), this.size, { alpha: this.alpha, beta: this.beta, k: this.k });
  }
}
