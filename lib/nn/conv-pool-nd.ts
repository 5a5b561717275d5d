/**
 * Convolution and pooling layers in 1, 2 and 3 spatial dimensions, written in TypeScript over `nn.functional`:
 * `Conv1d`, `Conv3d`, `ConvTranspose1d`, `ConvTranspose2d`, `ConvTranspose3d`, `MaxPool1d`, `MaxPool3d`, `AvgPool1d`,
 * `AvgPool3d`, `AdaptiveAvgPool1d`, `AdaptiveAvgPool3d`, `AdaptiveMaxPool1d`, `AdaptiveMaxPool2d` and
 * `AdaptiveMaxPool3d` (`Conv2d`, `MaxPool2d`, `AvgPool2d` and `AdaptiveAvgPool2d` are native layers, in layers.ts).
 * Each has PyTorch's constructor arguments (in camelCase), parameter names, shapes and initialisation, so a state
 * dict goes to the PyTorch module of the same name and back. One generic class per kind holds the code; the
 * exported classes fix the number of spatial dimensions. Their forward runs on the main thread (see `nn.Module`);
 * the work itself is one ATen call.
 */
import { zeros } from '../creation';
import type { Device, DType } from '../dtype';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkBool, checkOneOf, knownOptions, rangeError, typeError } from '../validate';
import {
  adaptiveSizeArg,
  avgPoolOptions,
  boolOpt,
  checkSize,
  convGeometry,
  divisorOverrideOpt,
  factoryOptions,
  fmt,
  MAX_POOL_OPTIONS,
  ntuple,
  poolGeometry,
  spatialAxes,
  spatialInput,
  tensorArg,
  type ConvGeometry,
  type SpatialDims,
} from './checks';
import {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  conv1d,
  conv2d,
  conv3d,
  convTranspose1d,
  convTranspose2d,
  convTranspose3d,
  maxPool1d,
  maxPool2d,
  maxPool3d,
  pad,
  type AdaptiveMaxPoolFunctionalOptions,
  type AvgPool1dFunctionalOptions,
  type AvgPool3dFunctionalOptions,
  type AvgPoolFunctionalOptions,
  type ConvFunctionalOptions,
  type ConvTransposeFunctionalOptions,
  type MaxPool1dFunctionalOptions,
  type MaxPool3dFunctionalOptions,
  type MaxPoolFunctionalOptions,
  type PoolOutput,
} from './functional';
import { kaimingUniform_, uniform_ } from './init';
import { Module, Parameter } from './module';

// The functional forms by number of spatial dimensions, under one signature each.
type ConvFn = (input: Tensor, weight: Tensor, bias: Tensor | null, options: ConvFunctionalOptions) => Tensor;
type ConvTransposeFn = (input: Tensor, weight: Tensor, bias: Tensor | null, options: ConvTransposeFunctionalOptions) => Tensor;
type MaxPoolFn = (input: Tensor, kernelSize: number[], options: MaxPoolFunctionalOptions) => Tensor | [Tensor, Tensor];
type AvgPoolFn = (input: Tensor, kernelSize: number[], options: AvgPoolFunctionalOptions) => Tensor;
type AdaptiveAvgPoolFn = (input: Tensor, outputSize: (number | null)[]) => Tensor;
type AdaptiveMaxPoolFn = (input: Tensor, outputSize: (number | null)[], options: AdaptiveMaxPoolFunctionalOptions) => Tensor | [Tensor, Tensor];
const CONV = { 1: conv1d, 2: conv2d, 3: conv3d } as Record<SpatialDims, ConvFn>;
const CONV_TRANSPOSE = { 1: convTranspose1d, 2: convTranspose2d, 3: convTranspose3d } as Record<SpatialDims, ConvTransposeFn>;
const MAX_POOL = { 1: maxPool1d, 2: maxPool2d, 3: maxPool3d } as Record<SpatialDims, MaxPoolFn>;
const AVG_POOL = { 1: avgPool1d, 2: avgPool2d, 3: avgPool3d } as Record<SpatialDims, AvgPoolFn>;
const ADAPTIVE_AVG_POOL = { 1: adaptiveAvgPool1d, 2: adaptiveAvgPool2d, 3: adaptiveAvgPool3d } as Record<SpatialDims, AdaptiveAvgPoolFn>;
const ADAPTIVE_MAX_POOL = { 1: adaptiveMaxPool1d, 2: adaptiveMaxPool2d, 3: adaptiveMaxPool3d } as Record<SpatialDims, AdaptiveMaxPoolFn>;

// A module's forward input, named as `Conv1d.forward`.
const forwardInput = (m: Module, input: unknown): Tensor => tensorArg(`${m.kind}.forward`, 'input', input);

// ---------------------------------------------------------------- convolutions

/** The options about the parameters that every convolution module takes. */
export interface ConvParameterOptions {
  /** Learn an additive `bias` (default true). */
  bias?: boolean;
  /** Device of the parameters (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters (default float32). */
  dtype?: DType | null;
}

/**
 * How a convolution module fills its padding: `zeros` (the convolution's own zero padding, default), or the input
 * padded by `F.pad` with `reflect`, `replicate` or `circular` before an unpadded convolution, as PyTorch does.
 */
export type ConvPaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';
const PADDING_MODES: readonly ConvPaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/**
 * Options of `nn.Conv1d` and `nn.Conv3d` (PyTorch's arguments after `kernel_size`): `T` is one integer per spatial
 * dimension; a single number applies to every dimension.
 */
export interface ConvOptions<T extends number[] = number[]> extends ConvFunctionalOptions<T>, ConvParameterOptions {
  /** How the padding is filled (default `'zeros'`). */
  paddingMode?: ConvPaddingMode;
}

/** Options of `nn.Conv1d`. */
export type Conv1dOptions = ConvOptions<[number]>;
/** Options of `nn.Conv3d`. */
export type Conv3dOptions = ConvOptions<[number, number, number]>;

/**
 * Options of `nn.ConvTranspose1d`, `nn.ConvTranspose2d` and `nn.ConvTranspose3d` (PyTorch's arguments after
 * `kernel_size`): `T` is one integer per spatial dimension; a single number applies to every dimension.
 */
export interface ConvTransposeOptions<T extends number[] = number[]> extends ConvTransposeFunctionalOptions<T>, ConvParameterOptions {
  /**
   * How the padding is filled: only `'zeros'` (the default, also for null), as in PyTorch, whose transposed
   * convolutions refuse every other mode; `'reflect'`, `'replicate'` or `'circular'` is a RangeError, any other
   * value a TypeError.
   */
  paddingMode?: 'zeros';
}

/** Options of `nn.ConvTranspose1d`. */
export type ConvTranspose1dOptions = ConvTransposeOptions<[number]>;
/** Options of `nn.ConvTranspose2d` (PyTorch's arguments after `kernel_size`). */
export type ConvTranspose2dOptions = ConvTransposeOptions<[number, number]>;
/** Options of `nn.ConvTranspose3d`. */
export type ConvTranspose3dOptions = ConvTransposeOptions<[number, number, number]>;

// What the plain and transposed convolutions of every dimension share: channels, kernel, stride, dilation, groups,
// the weight and bias, and PyTorch's initialisation.
abstract class ConvBase<T extends number[]> extends Module {
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Kernel size per spatial dimension. */
  readonly kernelSize: T;
  /** Stride per spatial dimension. */
  readonly stride: T;
  /** Dilation per spatial dimension. */
  readonly dilation: T;
  /** Channel groups. */
  readonly groups: number;
  /** The kernel: (outChannels, inChannels/groups, ...kernelSize), transposed (inChannels, outChannels/groups, ...kernelSize). */
  declare weight: Parameter;
  /** The bias (outChannels), or null with `bias: false`. */
  declare bias: Parameter | null;

  protected constructor(op: string, n: SpatialDims, transposed: boolean, inChannels: number, outChannels: number, kernelSize: unknown, g: ConvGeometry, o: Record<string, unknown>) {
    const cin = checkSize(op, 'inChannels', inChannels);
    const cout = checkSize(op, 'outChannels', outChannels);
    const k = ntuple(op, 'kernelSize', kernelSize, 1, n);
    const groups = checkSize(op, 'groups', o.groups ?? 1);
    if (cin % groups !== 0) throw rangeError(op, 'inChannels', `a multiple of groups (${groups})`, cin);
    if (cout % groups !== 0) throw rangeError(op, 'outChannels', `a multiple of groups (${groups})`, cout);
    const withBias = o.bias === undefined ? true : checkBool(op, 'bias', o.bias);
    const factory = factoryOptions(op, o);
    super();
    this.inChannels = cin;
    this.outChannels = cout;
    this.kernelSize = k as T;
    this.stride = g.stride as T;
    this.dilation = g.dilation as T;
    this.groups = groups;
    const shape = transposed ? [cin, cout / groups, ...k] : [cout, cin / groups, ...k];
    this.registerParameter('weight', tidy(() => new Parameter(zeros(shape, factory))));
    this.registerParameter('bias', withBias ? tidy(() => new Parameter(zeros([cout], factory))) : null);
    this.resetParameters();
  }

  /**
   * PyTorch's initialisation again (also called by a container's `resetParameters()`): `weight` Kaiming-uniform
   * with a = √5, `bias` uniform in ±1/√fanIn, fanIn = weight.shape[1]·prod(kernelSize).
   */
  resetParameters(): this {
    kaimingUniform_(this.weight, { a: Math.sqrt(5), nonlinearity: 'leakyRelu' });
    if (this.bias) {
      const bound = 1 / Math.sqrt(this.weight.shape[1] * this.kernelSize.reduce((a, b) => a * b, 1));
      uniform_(this.bias, -bound, bound);
    }
    return this;
  }
}

// The convolution of n spatial dimensions (Conv1d, Conv3d).
abstract class ConvNd<T extends number[]> extends ConvBase<T> {
  /** Padding per spatial dimension, or `'same'` / `'valid'`. */
  readonly padding: T | 'same' | 'valid';
  /** How the padding is filled. */
  readonly paddingMode: ConvPaddingMode;

  protected constructor(n: SpatialDims, inChannels: number, outChannels: number, kernelSize: unknown, options: ConvOptions) {
    const op = `Conv${n}d`;
    const o = knownOptions(op, options, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', 'device', 'dtype']);
    const g = convGeometry(op, n, o, false);
    const paddingMode = checkOneOf(op, 'paddingMode', o.paddingMode ?? 'zeros', PADDING_MODES);
    super(op, n, false, inChannels, outChannels, kernelSize, g, o);
    this.padding = g.padding as T | 'same' | 'valid';
    this.paddingMode = paddingMode;
  }

  /** Convolves `input` (N, inChannels, ...spatial) or (inChannels, ...spatial). */
  forward(input: Tensor): Tensor {
    const x = forwardInput(this, input);
    const conv = CONV[this.kernelSize.length as SpatialDims];
    const options = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode === 'zeros') return conv(x, this.weight, this.bias, { ...options, padding: this.padding });
    const padded = pad(x, this.padList(), this.paddingMode);
    try {
      return conv(padded, this.weight, this.bias, { ...options, padding: 0 });
    } finally {
      padded.dispose();
    }
  }

  // F.pad's [before, after] per dimension from the last backwards (PyTorch's _reversed_padding_repeated_twice);
  // 'same' puts the odd element after.
  private padList(): number[] {
    const out: number[] = [];
    for (let d = this.kernelSize.length - 1; d >= 0; d--) {
      if (this.padding === 'valid') out.push(0, 0);
      else if (this.padding === 'same') {
        const total = this.dilation[d] * (this.kernelSize[d] - 1);
        out.push(Math.floor(total / 2), total - Math.floor(total / 2));
      } else out.push(this.padding[d], this.padding[d]);
    }
    return out;
  }
}

// The transposed convolution of n spatial dimensions (ConvTranspose1d, 2d, 3d).
abstract class ConvTransposeNd<T extends number[]> extends ConvBase<T> {
  /** Padding per spatial dimension. */
  readonly padding: T;
  /** Output padding per spatial dimension (used when the forward is given no `outputSize`). */
  readonly outputPadding: T;
  /** How the padding is filled: always `'zeros'` (PyTorch's transposed convolutions have no other mode). */
  readonly paddingMode: 'zeros';

  protected constructor(n: SpatialDims, inChannels: number, outChannels: number, kernelSize: unknown, options: ConvTransposeOptions) {
    const op = `ConvTranspose${n}d`;
    const o = knownOptions(op, options, ['stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation', 'paddingMode', 'device', 'dtype']);
    const g = convGeometry(op, n, o, true);
    const paddingMode = o.paddingMode ?? 'zeros';
    if (paddingMode !== 'zeros') {
      // A mode of the plain convolutions is in range of the type but refused here, as PyTorch refuses it.
      const known = (PADDING_MODES as readonly unknown[]).includes(paddingMode);
      throw (known ? rangeError : typeError)(op, 'paddingMode', `"zeros" (the only padding mode of a transposed convolution, as in PyTorch)`, paddingMode);
    }
    super(op, n, true, inChannels, outChannels, kernelSize, g, o);
    this.padding = g.padding as T;
    this.outputPadding = g.outputPadding as T;
    this.paddingMode = paddingMode;
  }

  /**
   * Upsamples `input` (N, inChannels, ...spatial) or (inChannels, ...spatial). Each output size is
   * (in − 1)·stride − 2·padding + dilation·(k − 1) + 1 + outputPadding; since a convolution of stride s maps s
   * input sizes to one output size, its transpose has s candidate sizes, and `outputSize` (PyTorch's
   * `output_size`; undefined or null: none) picks one instead of the `outputPadding` option:
   * the spatial sizes, or the whole output shape (N, C, ...spatial or C, ...spatial, of which only the spatial
   * sizes are read), each within [min, min + stride − 1] where min is the size with no output padding. A size out
   * of that range is a RangeError naming the valid sizes, the wrong number of sizes a RangeError, non-integers a
   * TypeError.
   */
  forward(input: Tensor, outputSize?: number[] | null): Tensor {
    const x = forwardInput(this, input);
    const outputPadding = outputSize === undefined || outputSize === null ? this.outputPadding : this.outputPaddingFor(x, outputSize);
    return CONV_TRANSPOSE[this.kernelSize.length as SpatialDims](x, this.weight, this.bias, {
      stride: this.stride, padding: this.padding, outputPadding, groups: this.groups, dilation: this.dilation,
    });
  }

  // PyTorch's _output_padding: the output padding per dimension that gives the spatial sizes of `outputSize`.
  private outputPaddingFor(x: Tensor, outputSize: unknown): number[] {
    const op = `${this.kind}.forward`;
    const n = this.kernelSize.length as SpatialDims;
    const axes = spatialAxes(n);
    if (!Array.isArray(outputSize) || outputSize.some((s) => typeof s !== 'number' || !Number.isInteger(s))) {
      throw typeError(op, 'outputSize', `an array of integers (the output's ${axes.join(', ')} sizes, or its whole shape)`, outputSize);
    }
    spatialInput(`convTranspose${n}d`, x, n); // the functional form's error for an input of the wrong dims
    const lead = x.ndim - n; // 2 batched (N, C), 1 unbatched (C)
    const leadAxes = lead === 2 ? ['N', 'C'] : ['C'];
    let sizes = outputSize as number[];
    if (sizes.length === n + lead) sizes = sizes.slice(lead);
    else if (sizes.length !== n) {
      throw rangeError(op, 'outputSize', `${n} ${n === 1 ? 'value' : 'values'} (${axes.join(', ')}) or, with this ${x.ndim}-d input, ${n + lead} (${[...leadAxes, ...axes].join(', ')})`, outputSize);
    }
    const inSizes = x.shape.slice(lead);
    const min = inSizes.map((s, d) => (s - 1) * this.stride[d] - 2 * this.padding[d] + this.dilation[d] * (this.kernelSize[d] - 1) + 1);
    const max = min.map((m, d) => m + this.stride[d] - 1);
    if (sizes.some((s, d) => s < min[d] || s > max[d])) {
      throw rangeError(op, 'outputSize', `spatial sizes from ${fmt(min)} to ${fmt(max)} (the valid range for an input of spatial size ${fmt(inSizes)})`, outputSize);
    }
    return sizes.map((s, d) => s - min[d]);
  }
}

/**
 * 1-d convolution over (N, C, L) or (C, L) (`torch.nn.Conv1d`): `weight` (outChannels, inChannels/groups, k) and
 * `bias` (outChannels), initialised as PyTorch does (Kaiming-uniform with a = √5, bias uniform in ±1/√fanIn,
 * fanIn = inChannels/groups·k). `padding` may be `'same'` or `'valid'`; `paddingMode` `'reflect'`, `'replicate'` or
 * `'circular'` pads with `F.pad` first.
 *
 * ```ts
 * const conv = new nn.Conv1d(16, 32, 5, { padding: 'same' });
 * const y = conv.forward(torch.randn([8, 16, 100])); // [8, 32, 100]
 * ```
 */
export class Conv1d extends ConvNd<[number]> {
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number], options: Conv1dOptions = {}) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 3-d convolution over (N, C, D, H, W) or (C, D, H, W) (`torch.nn.Conv3d`): `weight`
 * (outChannels, inChannels/groups, kD, kH, kW) and `bias` (outChannels), initialised as PyTorch does
 * (Kaiming-uniform with a = √5, bias uniform in ±1/√fanIn, fanIn = inChannels/groups·kD·kH·kW). `padding` may be
 * `'same'` or `'valid'`; `paddingMode` `'reflect'`, `'replicate'` or `'circular'` pads with `F.pad` first.
 *
 * ```ts
 * const conv = new nn.Conv3d(3, 8, [3, 5, 5], { stride: [1, 2, 2], padding: [1, 2, 2] });
 * const y = conv.forward(torch.randn([2, 3, 4, 32, 32])); // [2, 8, 4, 16, 16]
 * ```
 */
export class Conv3d extends ConvNd<[number, number, number]> {
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number, number], options: Conv3dOptions = {}) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 1-d transposed convolution (`torch.nn.ConvTranspose1d`), learned upsampling of sequences: `weight`
 * (inChannels, outChannels/groups, k) and `bias` (outChannels), initialised as PyTorch does (Kaiming-uniform with
 * a = √5, bias uniform in ±1/√fanIn, fanIn = outChannels/groups·k). `paddingMode` is `'zeros'` only, as in
 * PyTorch. `forward(input, outputSize)` picks the output length among those the stride allows instead of
 * `outputPadding` (PyTorch's `output_size`: [L] or the whole output shape).
 *
 * ```ts
 * const up = new nn.ConvTranspose1d(32, 16, 4, { stride: 2, padding: 1 }); // doubles L
 * const y = new nn.ConvTranspose1d(32, 16, 3, { stride: 2 }).forward(torch.randn([8, 32, 10]), [22]); // L 21 or 22: [8, 16, 22]
 * ```
 */
export class ConvTranspose1d extends ConvTransposeNd<[number]> {
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number], options: ConvTranspose1dOptions = {}) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 2-d transposed convolution (`torch.nn.ConvTranspose2d`), the usual learned upsampling of decoders and
 * generators: `weight` (inChannels, outChannels/groups, kH, kW) and `bias` (outChannels), initialised as
 * PyTorch does (Kaiming-uniform with a = √5, bias uniform in ±1/√fanIn, fanIn = outChannels/groups·kH·kW).
 * `paddingMode` is `'zeros'` only, as in PyTorch. `forward(input, outputSize)` picks the output size among those
 * the stride allows instead of `outputPadding` (PyTorch's `output_size`: [H, W] or the whole output shape), as a
 * decoder does to match the size of its encoder's feature map.
 *
 * ```ts
 * const up = new nn.ConvTranspose2d(64, 32, 4, { stride: 2, padding: 1 }); // doubles H and W
 * const up3 = new nn.ConvTranspose2d(64, 32, 3, { stride: 2, padding: 1 }); // 2H − 1 or 2H
 * const y = up3.forward(torch.randn([1, 64, 8, 8]), [16, 15]); // [1, 32, 16, 15]
 * ```
 */
export class ConvTranspose2d extends ConvTransposeNd<[number, number]> {
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], options: ConvTranspose2dOptions = {}) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 3-d transposed convolution (`torch.nn.ConvTranspose3d`), learned upsampling of volumes and videos: `weight`
 * (inChannels, outChannels/groups, kD, kH, kW) and `bias` (outChannels), initialised as PyTorch does
 * (Kaiming-uniform with a = √5, bias uniform in ±1/√fanIn, fanIn = outChannels/groups·kD·kH·kW). `paddingMode` is
 * `'zeros'` only, as in PyTorch. `forward(input, outputSize)` picks the output size among those the stride allows
 * instead of `outputPadding` (PyTorch's `output_size`: [D, H, W] or the whole output shape).
 *
 * ```ts
 * const up = new nn.ConvTranspose3d(16, 8, [1, 4, 4], { stride: [1, 2, 2], padding: [0, 1, 1] }); // doubles H and W
 * ```
 */
export class ConvTranspose3d extends ConvTransposeNd<[number, number, number]> {
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number, number], options: ConvTranspose3dOptions = {}) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}

// ---------------------------------------------------------------- pooling

// The max pooling of n spatial dimensions (MaxPool1d, MaxPool3d); R: whether it returns the indices too.
abstract class MaxPoolNd<T extends number[], R extends boolean> extends Module {
  /** Window size per spatial dimension. */
  readonly kernelSize: T;
  /** Stride per spatial dimension (the kernel size unless given). */
  readonly stride: T;
  /** Padding per spatial dimension. */
  readonly padding: T;
  /** Dilation per spatial dimension. */
  readonly dilation: T;
  /** Whether the output size is rounded up. */
  readonly ceilMode: boolean;
  /** Whether the forward returns `[output, indices]`. */
  readonly returnIndices: R;

  protected constructor(n: SpatialDims, kernelSize: unknown, options: MaxPoolFunctionalOptions) {
    const op = `MaxPool${n}d`;
    const o = knownOptions(op, options, MAX_POOL_OPTIONS);
    const g = poolGeometry(op, n, kernelSize, o, true);
    const ceilMode = boolOpt(op, 'ceilMode', o.ceilMode, false);
    const returnIndices = boolOpt(op, 'returnIndices', o.returnIndices, false);
    super();
    this.kernelSize = g.kernelSize as T;
    this.stride = g.stride as T;
    this.padding = g.padding as T;
    this.dilation = g.dilation as T;
    this.ceilMode = ceilMode;
    this.returnIndices = returnIndices as R;
  }

  /** The maxima over each window of `input` (N, C, ...spatial) or (C, ...spatial); with `returnIndices`, `[output, indices]`. */
  forward(input: Tensor): PoolOutput<R> {
    return MAX_POOL[this.kernelSize.length as SpatialDims](forwardInput(this, input), this.kernelSize, {
      stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode, returnIndices: this.returnIndices,
    }) as PoolOutput<R>;
  }
}

/**
 * 1-d max pooling over (N, C, L) or (C, L) (`torch.nn.MaxPool1d`); the stride defaults to the kernel size.
 * With `returnIndices: true` the forward returns `[output, indices]` (for `nn.functional` or an unpooling).
 *
 * ```ts
 * const pool = new nn.MaxPool1d(3, { stride: 2, padding: 1 });
 * const y = pool.forward(torch.randn([4, 16, 50])); // [4, 16, 25]
 * ```
 */
export class MaxPool1d<R extends boolean = false> extends MaxPoolNd<[number], R> {
  constructor(kernelSize: number | [number], options: MaxPool1dFunctionalOptions & { returnIndices?: R } = {}) {
    super(1, kernelSize, options);
  }
}

/**
 * 3-d max pooling over (N, C, D, H, W) or (C, D, H, W) (`torch.nn.MaxPool3d`); the stride defaults to the kernel
 * size. With `returnIndices: true` the forward returns `[output, indices]`.
 *
 * ```ts
 * const pool = new nn.MaxPool3d([1, 2, 2]);
 * const y = pool.forward(torch.randn([2, 8, 4, 16, 16])); // [2, 8, 4, 8, 8]
 * ```
 */
export class MaxPool3d<R extends boolean = false> extends MaxPoolNd<[number, number, number], R> {
  constructor(kernelSize: number | [number, number, number], options: MaxPool3dFunctionalOptions & { returnIndices?: R } = {}) {
    super(3, kernelSize, options);
  }
}

// The average pooling of n spatial dimensions (AvgPool1d, AvgPool3d).
abstract class AvgPoolNd<T extends number[]> extends Module {
  /** Window size per spatial dimension. */
  readonly kernelSize: T;
  /** Stride per spatial dimension (the kernel size unless given). */
  readonly stride: T;
  /** Padding per spatial dimension. */
  readonly padding: T;
  /** Whether the output size is rounded up. */
  readonly ceilMode: boolean;
  /** Whether the zero padding counts in the average. */
  readonly countIncludePad: boolean;
  /** The divisor used instead of the window size, or null. */
  readonly divisorOverride: number | null;

  protected constructor(n: SpatialDims, kernelSize: unknown, options: AvgPoolFunctionalOptions) {
    const op = `AvgPool${n}d`;
    const o = knownOptions(op, options, avgPoolOptions(n));
    const g = poolGeometry(op, n, kernelSize, o, false);
    const ceilMode = boolOpt(op, 'ceilMode', o.ceilMode, false);
    const countIncludePad = boolOpt(op, 'countIncludePad', o.countIncludePad, true);
    const divisorOverride = divisorOverrideOpt(op, o.divisorOverride);
    super();
    this.kernelSize = g.kernelSize as T;
    this.stride = g.stride as T;
    this.padding = g.padding as T;
    this.ceilMode = ceilMode;
    this.countIncludePad = countIncludePad;
    this.divisorOverride = divisorOverride;
  }

  /** The mean over each window of `input` (N, C, ...spatial) or (C, ...spatial). */
  forward(input: Tensor): Tensor {
    const options: AvgPoolFunctionalOptions = { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad };
    if (this.divisorOverride !== null) options.divisorOverride = this.divisorOverride; // never in 1-d, which has none
    return AVG_POOL[this.kernelSize.length as SpatialDims](forwardInput(this, input), this.kernelSize, options);
  }
}

/**
 * 1-d average pooling over (N, C, L) or (C, L) (`torch.nn.AvgPool1d`); the stride defaults to the kernel size.
 *
 * ```ts
 * const pool = new nn.AvgPool1d(4, { stride: 2, padding: 1, countIncludePad: false });
 * ```
 */
export class AvgPool1d extends AvgPoolNd<[number]> {
  constructor(kernelSize: number | [number], options: AvgPool1dFunctionalOptions = {}) {
    super(1, kernelSize, options);
  }
}

/**
 * 3-d average pooling over (N, C, D, H, W) or (C, D, H, W) (`torch.nn.AvgPool3d`); the stride defaults to the
 * kernel size.
 *
 * ```ts
 * const pool = new nn.AvgPool3d(2, { ceilMode: true, divisorOverride: 4 });
 * ```
 */
export class AvgPool3d extends AvgPoolNd<[number, number, number]> {
  constructor(kernelSize: number | [number, number, number], options: AvgPool3dFunctionalOptions = {}) {
    super(3, kernelSize, options);
  }
}

// The adaptive average pooling of n spatial dimensions; S: the output size as given.
abstract class AdaptiveAvgPoolNd<S extends (number | null)[]> extends Module {
  /** The output size per spatial dimension (null keeps the input's). */
  readonly outputSize: S;

  protected constructor(n: SpatialDims, outputSize: unknown) {
    const size = adaptiveSizeArg(`AdaptiveAvgPool${n}d`, n, outputSize);
    super();
    this.outputSize = size as S;
  }

  /** The mean over the windows that split `input` (N, C, ...spatial) or (C, ...spatial) into `outputSize`. */
  forward(input: Tensor): Tensor {
    return ADAPTIVE_AVG_POOL[this.outputSize.length as SpatialDims](forwardInput(this, input), this.outputSize);
  }
}

/**
 * Average pooling of (N, C, L) or (C, L) to a fixed length (`torch.nn.AdaptiveAvgPool1d`).
 *
 * ```ts
 * const pool = new nn.AdaptiveAvgPool1d(1); // global average over L: (N, C, 1)
 * ```
 */
export class AdaptiveAvgPool1d extends AdaptiveAvgPoolNd<[number]> {
  constructor(outputSize: number | [number]) {
    super(1, outputSize);
  }
}

/**
 * Average pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed output size (`torch.nn.AdaptiveAvgPool3d`); `null`
 * keeps that input size.
 *
 * ```ts
 * const pool = new nn.AdaptiveAvgPool3d([null, 7, 7]); // every frame to 7 x 7
 * ```
 */
export class AdaptiveAvgPool3d extends AdaptiveAvgPoolNd<[number | null, number | null, number | null]> {
  constructor(outputSize: number | [number | null, number | null, number | null]) {
    super(3, outputSize);
  }
}

// The adaptive max pooling of n spatial dimensions; S: the output size as given; R: whether it returns the indices.
abstract class AdaptiveMaxPoolNd<S extends (number | null)[], R extends boolean> extends Module {
  /** The output size per spatial dimension (null keeps the input's). */
  readonly outputSize: S;
  /** Whether the forward returns `[output, indices]`. */
  readonly returnIndices: R;

  protected constructor(n: SpatialDims, outputSize: unknown, options: AdaptiveMaxPoolFunctionalOptions) {
    const op = `AdaptiveMaxPool${n}d`;
    const o = knownOptions(op, options, ['returnIndices']);
    const size = adaptiveSizeArg(op, n, outputSize);
    const returnIndices = boolOpt(op, 'returnIndices', o.returnIndices, false);
    super();
    this.outputSize = size as S;
    this.returnIndices = returnIndices as R;
  }

  /** The maxima over the windows that split `input` (N, C, ...spatial) or (C, ...spatial) into `outputSize`; with `returnIndices`, `[output, indices]`. */
  forward(input: Tensor): PoolOutput<R> {
    return ADAPTIVE_MAX_POOL[this.outputSize.length as SpatialDims](forwardInput(this, input), this.outputSize, { returnIndices: this.returnIndices }) as PoolOutput<R>;
  }
}

/**
 * Max pooling of (N, C, L) or (C, L) to a fixed length (`torch.nn.AdaptiveMaxPool1d`); with `returnIndices: true`
 * the forward returns `[output, indices]`.
 *
 * ```ts
 * const pool = new nn.AdaptiveMaxPool1d(4, { returnIndices: true });
 * const [y, indices] = pool.forward(torch.randn([2, 3, 10])); // both [2, 3, 4]
 * ```
 */
export class AdaptiveMaxPool1d<R extends boolean = false> extends AdaptiveMaxPoolNd<[number], R> {
  constructor(outputSize: number | [number], options: AdaptiveMaxPoolFunctionalOptions & { returnIndices?: R } = {}) {
    super(1, outputSize, options);
  }
}

/**
 * Max pooling of (N, C, H, W) or (C, H, W) to a fixed output size (`torch.nn.AdaptiveMaxPool2d`); `null` keeps that
 * input size; with `returnIndices: true` the forward returns `[output, indices]`.
 *
 * ```ts
 * const pool = new nn.AdaptiveMaxPool2d([1, null]); // the maximum over H of each column
 * ```
 */
export class AdaptiveMaxPool2d<R extends boolean = false> extends AdaptiveMaxPoolNd<[number | null, number | null], R> {
  constructor(outputSize: number | [number | null, number | null], options: AdaptiveMaxPoolFunctionalOptions & { returnIndices?: R } = {}) {
    super(2, outputSize, options);
  }
}

/**
 * Max pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed output size (`torch.nn.AdaptiveMaxPool3d`); `null`
 * keeps that input size; with `returnIndices: true` the forward returns `[output, indices]`.
 *
 * ```ts
 * const pool = new nn.AdaptiveMaxPool3d(1); // global max: (N, C, 1, 1, 1)
 * ```
 */
export class AdaptiveMaxPool3d<R extends boolean = false> extends AdaptiveMaxPoolNd<[number | null, number | null, number | null], R> {
  constructor(outputSize: number | [number | null, number | null, number | null], options: AdaptiveMaxPoolFunctionalOptions & { returnIndices?: R } = {}) {
    super(3, outputSize, options);
  }
}
