/**
 * More layers written in TypeScript over `nn.functional` (`functional-extra.ts`): the activations `SELU`, `CELU`,
 * `GLU`, `LogSigmoid`, `Softshrink`, `Hardshrink`, `Tanhshrink`, `Softsign`, `Softmin`, `Softmax2d`, `RReLU` and
 * `PReLU`; `InstanceNorm1d`, `InstanceNorm2d`, `InstanceNorm3d`; `PixelShuffle`, `PixelUnshuffle`,
 * `ChannelShuffle`; `Unfold`, `Fold`; `Bilinear`; `Unflatten`. Each is an `nn.Module` with PyTorch 1.13's
 * constructor arguments (camelCase), parameter and buffer names, shapes and initialisation, so a state dict goes
 * to the PyTorch module of the same name and back. Their forward is written in JavaScript (main thread, see
 * `nn.Module`); the work itself is one ATen call each.
 */
import { noGrad } from '../autograd';
import { full, ones, zeros } from '../creation';
import type { Device, DType } from '../dtype';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkBool, checkInt, checkNumber, knownOptions, typeError } from '../validate';
import { blockGeometry, boolOpt, celuAlpha, checkSize, factoryOptions, fmt, numberOpt, pair, rreluBounds, shapeError, softshrinkLambd, spatialAxes, type BlockGeometry, type SpatialDims } from './checks';
import { softmax } from './functional';
import {
  bilinear,
  celu,
  channelShuffle,
  fold,
  glu,
  hardshrink,
  instanceNorm,
  logsigmoid,
  pixelShuffle,
  pixelUnshuffle,
  prelu,
  rrelu,
  selu,
  softmin,
  softshrink,
  softsign,
  tanhshrink,
  unfold,
  type FoldFunctionalOptions,
} from './functional-extra';
import { uniform_ } from './init';
import { Module, Parameter } from './module';

// A module's forward input must be a Tensor (named as `SELU.forward`; `arg` names it, default `input`).
function inputArg(op: string, v: unknown, arg = 'input'): Tensor {
  if (!(v instanceof Tensor)) throw typeError(op, arg, 'a Tensor', v);
  return v;
}

// ---------------------------------------------------------------- activations without state

/** scale · (max(0, x) + min(0, α·(eˣ − 1))), the self-normalising ELU (`torch.nn.SELU`). */
export class SELU extends Module {
  /** SELU of each element. */
  forward(input: Tensor): Tensor {
    return selu(inputArg('SELU.forward', input));
  }
}

/** max(0, x) + min(0, α·(e^(x/α) − 1)) (`torch.nn.CELU`; α nonzero, default 1): `new nn.CELU(0.5)`. */
export class CELU extends Module {
  /** The α of the negative branch. */
  readonly alpha: number;

  constructor(alpha = 1) {
    const a = celuAlpha('CELU', alpha);
    super();
    this.alpha = a;
  }

  /** CELU of each element. */
  forward(input: Tensor): Tensor {
    return celu(inputArg('CELU.forward', input), { alpha: this.alpha });
  }
}

/** The gated linear unit (`torch.nn.GLU`): a · sigmoid(b) for the two halves a, b of `input` along `dim` (default -1). */
export class GLU extends Module {
  /** The dimension halved (negative counts from the end). */
  readonly dim: number;

  constructor(dim = -1) {
    const d = checkInt('GLU', 'dim', dim);
    super();
    this.dim = d;
  }

  /** GLU of `input` along `dim` (of even size). */
  forward(input: Tensor): Tensor {
    return glu(inputArg('GLU.forward', input), this.dim);
  }
}

/** log(sigmoid(x)), computed stably (`torch.nn.LogSigmoid`). */
export class LogSigmoid extends Module {
  /** LogSigmoid of each element. */
  forward(input: Tensor): Tensor {
    return logsigmoid(inputArg('LogSigmoid.forward', input));
  }
}

/** x − lambd above lambd, x + lambd below −lambd, 0 in between (`torch.nn.Softshrink`; lambd ≥ 0, default 0.5). */
export class Softshrink extends Module {
  /** The threshold. */
  readonly lambd: number;

  constructor(lambd = 0.5) {
    const l = softshrinkLambd('Softshrink', lambd);
    super();
    this.lambd = l;
  }

  /** Softshrink of each element. */
  forward(input: Tensor): Tensor {
    return softshrink(inputArg('Softshrink.forward', input), this.lambd);
  }
}

/** x where |x| > lambd, 0 elsewhere (`torch.nn.Hardshrink`; default lambd 0.5). */
export class Hardshrink extends Module {
  /** The threshold. */
  readonly lambd: number;

  constructor(lambd = 0.5) {
    const l = checkNumber('Hardshrink', 'lambd', lambd);
    super();
    this.lambd = l;
  }

  /** Hardshrink of each element. */
  forward(input: Tensor): Tensor {
    return hardshrink(inputArg('Hardshrink.forward', input), this.lambd);
  }
}

/** x − tanh(x) (`torch.nn.Tanhshrink`). */
export class Tanhshrink extends Module {
  /** Tanhshrink of each element. */
  forward(input: Tensor): Tensor {
    return tanhshrink(inputArg('Tanhshrink.forward', input));
  }
}

/** x / (1 + |x|) (`torch.nn.Softsign`). */
export class Softsign extends Module {
  /** Softsign of each element. */
  forward(input: Tensor): Tensor {
    return softsign(inputArg('Softsign.forward', input));
  }
}

/** softmax(−x) along `dim` (`torch.nn.Softmin`): positive values summing to 1 along it, largest for the smallest input. */
export class Softmin extends Module {
  /** The dimension normalised over (negative counts from the end). */
  readonly dim: number;

  constructor(dim: number) {
    if (typeof dim !== 'number' || !Number.isInteger(dim)) {
      throw typeError('Softmin', 'dim', "an integer, the dimension to normalise over (PyTorch's implicit choice for dim=None is not supported)", dim);
    }
    super();
    this.dim = dim;
  }

  /** Softmin of `input` along `dim`. */
  forward(input: Tensor): Tensor {
    return softmin(inputArg('Softmin.forward', input), this.dim);
  }
}

/** Softmax over the channels (dim −3) of (N, C, H, W) or (C, H, W) at each position (`torch.nn.Softmax2d`). */
export class Softmax2d extends Module {
  /** Softmax of `input` along its channel dimension. */
  forward(input: Tensor): Tensor {
    const op = 'Softmax2d.forward';
    const x = inputArg(op, input);
    if (x.ndim !== 3 && x.ndim !== 4) throw shapeError(op, 'input', 'a 4-d (N, C, H, W) or 3-d (C, H, W) tensor', x.shape);
    return softmax(x, -3);
  }
}

/**
 * The randomised leaky ReLU (`torch.nn.RReLU`): x for x ≥ 0 and a·x otherwise, a drawn per element from
 * U(lower, upper) in training and fixed to (lower + upper) / 2 in evaluation (defaults 1/8 and 1/3).
 *
 * ```ts
 * const act = new nn.RReLU(0.1, 0.3);
 * act.eval(); // slope 0.2 for negative inputs from now on
 * ```
 */
export class RReLU extends Module {
  /** The smallest slope. */
  readonly lower: number;
  /** The largest slope. */
  readonly upper: number;

  constructor(lower = 1 / 8, upper = 1 / 3) {
    const [lo, hi] = rreluBounds('RReLU', lower, upper);
    super();
    this.lower = lo;
    this.upper = hi;
  }

  /** RReLU of each element: random slopes in training, the mean slope in evaluation. */
  forward(input: Tensor): Tensor {
    return rrelu(inputArg('RReLU.forward', input), { lower: this.lower, upper: this.upper, training: this.training });
  }
}

// ---------------------------------------------------------------- PReLU

/** Options of `nn.PReLU` (after `numParameters` and `init`). */
export interface PReLUOptions {
  /** Device of the weight (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the weight (default float32). */
  dtype?: DType | null;
}

/**
 * max(0, x) + a · min(0, x) with a learnable slope a (`torch.nn.PReLU`): one slope shared by all channels
 * (`numParameters` 1, the default) or one per channel (dim 1 of the input), all starting at `init` (default 0.25).
 * State-dict key `weight` (numParameters), as PyTorch's; `numParameters()` (Module's count of learnable
 * elements) is PyTorch's `num_parameters`.
 *
 * ```ts
 * const act = new nn.PReLU(64);            // one slope per channel of (N, 64, H, W)
 * const y = act.forward(x);
 * ```
 */
export class PReLU extends Module {
  /** The initial slope. */
  readonly init: number;
  /** The slopes (numParameters). */
  declare weight: Parameter;

  constructor(numParameters = 1, init = 0.25, options: PReLUOptions = {}) {
    const op = 'PReLU';
    const o = knownOptions(op, options, ['device', 'dtype']);
    const n = checkSize(op, 'numParameters', numParameters);
    const a = checkNumber(op, 'init', init);
    const factory = factoryOptions(op, o);
    super();
    this.init = a;
    this.registerParameter('weight', tidy(() => new Parameter(full([n], a, factory))));
  }

  /** PReLU of `input` (a weight of numParameters > 1 needs that many channels in dim 1). */
  forward(input: Tensor): Tensor {
    return prelu(inputArg('PReLU.forward', input), this.weight);
  }

  /** PyTorch's initial value again: every slope `init`. */
  resetParameters(): this {
    noGrad(() => void this.weight.fill_(this.init));
    return this;
  }
}

// ---------------------------------------------------------------- instance normalisation

/** Options of `nn.InstanceNorm1d`, `nn.InstanceNorm2d` and `nn.InstanceNorm3d`. */
export interface InstanceNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the new statistics in the running averages (default 0.1). */
  momentum?: number;
  /** Learn a per-channel `weight` (ones initially) and `bias` (zeros) (default false, as PyTorch). */
  affine?: boolean;
  /**
   * Keep running averages of the statistics (buffers `running_mean`, `running_var`, `num_batches_tracked`) and
   * normalise with them in evaluation (default false: every forward uses the input's own statistics).
   */
  trackRunningStats?: boolean;
  /** Device of the parameters and buffers (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters and buffers (default float32). */
  dtype?: DType | null;
}

// InstanceNorm1d, 2d and 3d: PyTorch's _InstanceNorm, for `dims` spatial dimensions.
abstract class InstanceNormNd extends Module {
  /** The number of channels C. */
  readonly numFeatures: number;
  /** Added to the variance. */
  readonly eps: number;
  /** Weight of the new statistics in the running averages. */
  readonly momentum: number;
  /** Whether the layer has a learnable per-channel `weight` and `bias`. */
  readonly affine: boolean;
  /** Whether running statistics are kept (and used in evaluation). */
  readonly trackRunningStats: boolean;
  /** The per-channel scale (ones initially); null without `affine`. */
  declare weight: Parameter | null;
  /** The per-channel shift (zeros initially); null without `affine`. */
  declare bias: Parameter | null;
  /** The running mean per channel (zeros initially); null without `trackRunningStats`. */
  declare running_mean: Tensor | null;
  /** The running (unbiased) variance per channel (ones initially); null without `trackRunningStats`. */
  declare running_var: Tensor | null;
  /**
   * An int64 scalar, zero: PyTorch's `_NormBase` buffer, kept for state-dict compatibility (instance
   * normalisation never counts); null without `trackRunningStats`.
   */
  declare num_batches_tracked: Tensor | null;
  private readonly op: string;
  private readonly dims: SpatialDims;

  protected constructor(op: string, dims: SpatialDims, numFeatures: number, options: InstanceNormOptions) {
    const o = knownOptions(op, options, ['eps', 'momentum', 'affine', 'trackRunningStats', 'device', 'dtype']);
    const c = checkSize(op, 'numFeatures', numFeatures);
    const eps = numberOpt(op, 'eps', o.eps, 1e-5, { min: 0 });
    const momentum = numberOpt(op, 'momentum', o.momentum, 0.1, { min: 0, max: 1 });
    const affine = o.affine === undefined ? false : checkBool(op, 'affine', o.affine);
    const track = o.trackRunningStats === undefined ? false : checkBool(op, 'trackRunningStats', o.trackRunningStats);
    const factory = factoryOptions(op, o);
    super();
    this.op = op;
    this.dims = dims;
    this.numFeatures = c;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = track;
    this.registerParameter('weight', affine ? tidy(() => new Parameter(ones([c], factory))) : null);
    this.registerParameter('bias', affine ? tidy(() => new Parameter(zeros([c], factory))) : null);
    this.registerBuffer('running_mean', track ? zeros([c], factory) : null);
    this.registerBuffer('running_var', track ? ones([c], factory) : null);
    this.registerBuffer('num_batches_tracked', track ? zeros([], { dtype: 'int64', device: factory.device }) : null);
  }

  /**
   * Normalises each sample's channels of a batched (N, C, ...) or unbatched (C, ...) input: by its own statistics
   * in training or without `trackRunningStats` (updating the running ones when tracked), by the running
   * statistics in evaluation with `trackRunningStats`.
   */
  forward(input: Tensor): Tensor {
    const op = `${this.op}.forward`;
    const x = inputArg(op, input);
    const n = this.dims;
    if (x.ndim !== n + 1 && x.ndim !== n + 2) {
      const axes = spatialAxes(n).join(', ');
      throw shapeError(op, 'input', `a ${n + 2}-d (N, C, ${axes}) or ${n + 1}-d (C, ${axes}) tensor`, x.shape);
    }
    // Without per-channel parameters or statistics PyTorch 1.13 ignores numFeatures; with them it must match.
    const cdim = x.ndim - n - 1;
    if ((this.affine || this.trackRunningStats) && x.shape[cdim] !== this.numFeatures) {
      throw shapeError(op, 'input', `${this.numFeatures} channels (numFeatures) in dimension ${cdim}`, x.shape);
    }
    const useInputStats = this.training || !this.trackRunningStats;
    if (useInputStats && x.shape.slice(cdim + 1).reduce((a, b) => a * b, 1) <= 1) {
      throw shapeError(op, 'input', `more than 1 spatial element per channel when normalising by the input's statistics (${this.training ? 'training' : 'no running statistics'})`, x.shape);
    }
    const options = {
      runningMean: this.running_mean, runningVar: this.running_var, weight: this.weight, bias: this.bias,
      useInputStats, momentum: this.momentum, eps: this.eps,
    };
    if (x.ndim === n + 2) return instanceNorm(x, options);
    // Unbatched: as a batch of one, as PyTorch's _handle_no_batch_input.
    const batch = x.unsqueeze(0);
    try {
      const y = instanceNorm(batch, options);
      try {
        return y.squeeze(0);
      } finally {
        y.dispose();
      }
    } finally {
      batch.dispose();
    }
  }

  /**
   * PyTorch's initial values again: `weight` ones, `bias` zeros, running mean zeros, running variance ones,
   * `num_batches_tracked` zero.
   */
  resetParameters(): this {
    noGrad(() => {
      this.weight?.fill_(1);
      this.bias?.fill_(0);
      this.running_mean?.fill_(0);
      this.running_var?.fill_(1);
      this.num_batches_tracked?.fill_(0);
    });
    return this;
  }
}

/**
 * Instance normalisation of (N, C, L) or unbatched (C, L) (`torch.nn.InstanceNorm1d`): each sample's channel is
 * normalised over its length. State-dict keys as PyTorch's: `weight`, `bias` with `affine`; `running_mean`,
 * `running_var`, `num_batches_tracked` with `trackRunningStats`.
 *
 * ```ts
 * const norm = new nn.InstanceNorm1d(16, { affine: true });
 * const y = norm.forward(x); // x: (N, 16, L)
 * ```
 */
export class InstanceNorm1d extends InstanceNormNd {
  constructor(numFeatures: number, options: InstanceNormOptions = {}) {
    super('InstanceNorm1d', 1, numFeatures, options);
  }
}

/**
 * Instance normalisation of (N, C, H, W) or unbatched (C, H, W) (`torch.nn.InstanceNorm2d`, style transfer's
 * normalisation): each sample's channel is normalised over its positions. State-dict keys as PyTorch's.
 *
 * ```ts
 * const norm = new nn.InstanceNorm2d(64, { affine: true, trackRunningStats: true });
 * const y = norm.forward(x); // x: (N, 64, H, W); norm.eval() then uses the running statistics
 * ```
 */
export class InstanceNorm2d extends InstanceNormNd {
  constructor(numFeatures: number, options: InstanceNormOptions = {}) {
    super('InstanceNorm2d', 2, numFeatures, options);
  }
}

/**
 * Instance normalisation of (N, C, D, H, W) or unbatched (C, D, H, W) (`torch.nn.InstanceNorm3d`). State-dict
 * keys as PyTorch's.
 *
 * ```ts
 * const norm = new nn.InstanceNorm3d(8);
 * const y = norm.forward(volume); // (N, 8, D, H, W)
 * ```
 */
export class InstanceNorm3d extends InstanceNormNd {
  constructor(numFeatures: number, options: InstanceNormOptions = {}) {
    super('InstanceNorm3d', 3, numFeatures, options);
  }
}

// ---------------------------------------------------------------- rearrangements

/**
 * Rearranges (..., C·r², H, W) into (..., C, H·r, W·r) (`torch.nn.PixelShuffle`, sub-pixel upsampling).
 *
 * ```ts
 * const up = new nn.PixelShuffle(2); // (N, 4C, H, W) -> (N, C, 2H, 2W)
 * ```
 */
export class PixelShuffle extends Module {
  /** The factor r. */
  readonly upscaleFactor: number;

  constructor(upscaleFactor: number) {
    const r = checkSize('PixelShuffle', 'upscaleFactor', upscaleFactor);
    super();
    this.upscaleFactor = r;
  }

  /** `input` (..., C·r², H, W) as (..., C, H·r, W·r). */
  forward(input: Tensor): Tensor {
    return pixelShuffle(inputArg('PixelShuffle.forward', input), this.upscaleFactor);
  }
}

/**
 * Rearranges (..., C, H·r, W·r) into (..., C·r², H, W), the inverse of `PixelShuffle` (`torch.nn.PixelUnshuffle`).
 *
 * ```ts
 * const down = new nn.PixelUnshuffle(2); // (N, C, 2H, 2W) -> (N, 4C, H, W)
 * ```
 */
export class PixelUnshuffle extends Module {
  /** The factor r. */
  readonly downscaleFactor: number;

  constructor(downscaleFactor: number) {
    const r = checkSize('PixelUnshuffle', 'downscaleFactor', downscaleFactor);
    super();
    this.downscaleFactor = r;
  }

  /** `input` (..., C, H·r, W·r) as (..., C·r², H, W). */
  forward(input: Tensor): Tensor {
    return pixelUnshuffle(inputArg('PixelUnshuffle.forward', input), this.downscaleFactor);
  }
}

/**
 * Shuffles the channels of (N, C, ...) in `groups` groups (`torch.nn.ChannelShuffle`, ShuffleNet's): viewed as
 * (N, groups, C/groups, ...), the two channel dimensions are transposed.
 *
 * ```ts
 * const shuffle = new nn.ChannelShuffle(4); // C divisible by 4
 * ```
 */
export class ChannelShuffle extends Module {
  /** The number of groups. */
  readonly groups: number;

  constructor(groups: number) {
    const g = checkSize('ChannelShuffle', 'groups', groups);
    super();
    this.groups = g;
  }

  /** `input` with its channels shuffled. */
  forward(input: Tensor): Tensor {
    return channelShuffle(inputArg('ChannelShuffle.forward', input), this.groups);
  }
}

// ---------------------------------------------------------------- sliding blocks

// The geometry of Unfold and Fold: checked when the module is made.
function geometryOf(op: string, kernelSize: unknown, options: FoldFunctionalOptions): BlockGeometry {
  return blockGeometry(op, kernelSize, knownOptions(op, options, ['dilation', 'padding', 'stride']));
}

/**
 * Extracts sliding blocks into columns (`torch.nn.Unfold`, im2col): (N, C, H, W) or (C, H, W) gives
 * (N, C·kH·kW, L), L the number of blocks.
 *
 * ```ts
 * const cols = new nn.Unfold(3, { padding: 1 }).forward(x); // (N, C·9, H·W)
 * ```
 */
export class Unfold extends Module {
  /** The block size [kH, kW]. */
  readonly kernelSize: [number, number];
  /** Spacing between kernel elements. */
  readonly dilation: [number, number];
  /** Implicit zero padding on each side. */
  readonly padding: [number, number];
  /** Step between blocks. */
  readonly stride: [number, number];

  constructor(kernelSize: number | [number, number], options: FoldFunctionalOptions = {}) {
    const g = geometryOf('Unfold', kernelSize, options);
    super();
    this.kernelSize = g.kernelSize;
    this.dilation = g.dilation;
    this.padding = g.padding;
    this.stride = g.stride;
  }

  /** The blocks of `input` as columns. */
  forward(input: Tensor): Tensor {
    return unfold(inputArg('Unfold.forward', input), this.kernelSize, { dilation: this.dilation, padding: this.padding, stride: this.stride });
  }
}

/**
 * Sums columns of sliding blocks back into an image (`torch.nn.Fold`, col2im; overlaps add): (N, C·kH·kW, L) or
 * (C·kH·kW, L) gives (N, C, *outputSize).
 *
 * ```ts
 * const image = new nn.Fold([4, 5], 2).forward(cols); // cols: (N, C·4, 12)
 * ```
 */
export class Fold extends Module {
  /** The spatial size of the output [H, W]. */
  readonly outputSize: [number, number];
  /** The block size [kH, kW]. */
  readonly kernelSize: [number, number];
  /** Spacing between kernel elements. */
  readonly dilation: [number, number];
  /** Implicit zero padding on each side. */
  readonly padding: [number, number];
  /** Step between blocks. */
  readonly stride: [number, number];

  constructor(outputSize: number | [number, number], kernelSize: number | [number, number], options: FoldFunctionalOptions = {}) {
    const out = pair('Fold', 'outputSize', outputSize, 1);
    const g = geometryOf('Fold', kernelSize, options);
    super();
    this.outputSize = out;
    this.kernelSize = g.kernelSize;
    this.dilation = g.dilation;
    this.padding = g.padding;
    this.stride = g.stride;
  }

  /** The columns of `input` summed into (N, C, *outputSize). */
  forward(input: Tensor): Tensor {
    return fold(inputArg('Fold.forward', input), this.outputSize, this.kernelSize, { dilation: this.dilation, padding: this.padding, stride: this.stride });
  }
}

// ---------------------------------------------------------------- Bilinear

/** Options of `nn.Bilinear`. */
export interface BilinearOptions {
  /** Learn an additive `bias` (outFeatures) (default true). */
  bias?: boolean;
  /** Device of the parameters (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters (default float32). */
  dtype?: DType | null;
}

/**
 * y = x1ᵀ · A · x2 + b for each output feature (`torch.nn.Bilinear`): inputs (..., in1Features) and
 * (..., in2Features) with the same leading dimensions give (..., outFeatures). State-dict keys `weight`
 * (outFeatures, in1Features, in2Features) and `bias` (outFeatures), both drawn from U(−1/√in1Features,
 * 1/√in1Features) as PyTorch draws them.
 *
 * ```ts
 * const bil = new nn.Bilinear(20, 30, 40);
 * const y = bil.forward(randn([128, 20]), randn([128, 30])); // [128, 40]
 * ```
 */
export class Bilinear extends Module {
  /** Size of each first input sample. */
  readonly in1Features: number;
  /** Size of each second input sample. */
  readonly in2Features: number;
  /** Size of each output sample. */
  readonly outFeatures: number;
  /** The weight (outFeatures, in1Features, in2Features). */
  declare weight: Parameter;
  /** The bias (outFeatures); null with `bias: false`. */
  declare bias: Parameter | null;

  constructor(in1Features: number, in2Features: number, outFeatures: number, options: BilinearOptions = {}) {
    const op = 'Bilinear';
    const o = knownOptions(op, options, ['bias', 'device', 'dtype']);
    const in1 = checkSize(op, 'in1Features', in1Features);
    const in2 = checkSize(op, 'in2Features', in2Features);
    const out = checkSize(op, 'outFeatures', outFeatures);
    const withBias = boolOpt(op, 'bias', o.bias, true);
    const factory = factoryOptions(op, o);
    super();
    this.in1Features = in1;
    this.in2Features = in2;
    this.outFeatures = out;
    this.registerParameter('weight', tidy(() => new Parameter(zeros([out, in1, in2], factory))));
    this.registerParameter('bias', withBias ? tidy(() => new Parameter(zeros([out], factory))) : null);
    this.resetParameters();
  }

  /** The bilinear form of `input1` (..., in1Features) and `input2` (..., in2Features). */
  forward(input1: Tensor, input2: Tensor): Tensor {
    const op = 'Bilinear.forward';
    return bilinear(inputArg(op, input1, 'input1'), inputArg(op, input2, 'input2'), this.weight, this.bias);
  }

  /** PyTorch's initial values again: `weight`, then `bias`, from U(−1/√in1Features, 1/√in1Features). */
  resetParameters(): this {
    const bound = 1 / Math.sqrt(this.in1Features);
    uniform_(this.weight, -bound, bound);
    if (this.bias) uniform_(this.bias, -bound, bound);
    return this;
  }
}

// ---------------------------------------------------------------- Unflatten

/**
 * Expands dimension `dim` of the input into `unflattenedSize` (`torch.nn.Unflatten`, a reshape; one size may be
 * −1, inferred), the inverse of `nn.Flatten`.
 *
 * ```ts
 * const net = new nn.Sequential(new nn.Linear(50, 50), new nn.Unflatten(1, [2, 5, 5])); // (N, 50) -> (N, 2, 5, 5)
 * ```
 */
export class Unflatten extends Module {
  /** The dimension expanded (negative counts from the end). */
  readonly dim: number;
  /** Its new sizes. */
  readonly unflattenedSize: readonly number[];

  constructor(dim: number, unflattenedSize: number[]) {
    const op = 'Unflatten';
    const d = checkInt(op, 'dim', dim);
    const words = 'a non-empty array of sizes (integers >= 0, at most one -1)';
    if (!Array.isArray(unflattenedSize) || unflattenedSize.length === 0) throw typeError(op, 'unflattenedSize', words, unflattenedSize);
    unflattenedSize.forEach((s, i) => checkInt(op, `unflattenedSize[${i}]`, s, -1));
    if (unflattenedSize.filter((s) => s === -1).length > 1) throw typeError(op, 'unflattenedSize', words, unflattenedSize);
    super();
    this.dim = d;
    this.unflattenedSize = Object.freeze([...unflattenedSize]);
  }

  /** `input` with dimension `dim` expanded into `unflattenedSize`. */
  forward(input: Tensor): Tensor {
    const op = 'Unflatten.forward';
    const x = inputArg(op, input);
    if (this.dim < -x.ndim || this.dim >= x.ndim) throw shapeError(op, 'input', `a dimension ${this.dim} (dim) to unflatten`, x.shape);
    const size = x.shape[this.dim < 0 ? this.dim + x.ndim : this.dim];
    const sizes = [...this.unflattenedSize];
    const known = sizes.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
    const free = sizes.length - sizes.filter((s) => s !== -1).length;
    if ((free === 0 && known !== size) || (free === 1 && (known === 0 || size % known !== 0))) {
      throw shapeError(op, 'input', `a size in dimension ${this.dim} that unflattenedSize ${fmt(sizes)} fills`, x.shape);
    }
    return x.unflatten(this.dim, sizes);
  }
}
