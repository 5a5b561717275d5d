/**
 * `torch.nn.functional` in TypeScript: the stateless forms of the layers and the losses, with PyTorch's
 * names (camelCase), argument order and option names, and autograd through all of them.
 *
 * ```ts
 * const F = torch.nn.functional;
 * const y = F.relu(F.conv2d(x, w, b, { stride: 2, padding: 1 }));
 * const loss = F.crossEntropy(F.linear(y.flatten(1), fcW, fcB), labels, { labelSmoothing: 0.1 });
 * ```
 *
 * Each op checks its inputs (dtype, device, shapes) and names the op and the mismatch in its error.
 * @module
 */
import type { DType } from '../dtype';
import { native, type TensorHandle } from '../native';
import { Tensor } from '../tensor';
import { checkInt, checkOneOf, rangeError, typeError } from '../validate';
import {
  adaptiveSize,
  avgPoolOptions,
  boolOpt,
  convGeometry,
  divisorOverrideOpt,
  floatArg,
  fmt,
  knownOptions,
  MAX_POOL_OPTIONS,
  numberOpt,
  optTensorArg,
  perChannel,
  poolGeometry,
  sameKind,
  shapeError,
  spatialAxes,
  spatialInput,
  tensorArg,
  type ConvGeometry,
  type SpatialDims,
} from './checks';

export * from './losses';
export * from './functional-extra';
export * from './functional-more';

const N = native();
const h = (t: Tensor | null): TensorHandle | null => (t ? t.handle : null);

// ---------------------------------------------------------------- convolution and linear

/**
 * Options of `conv1d`, `conv2d` and `conv3d`: `T` is one integer per spatial dimension (`[number, number]` for
 * `conv2d`); a single number applies to every dimension.
 */
export interface ConvFunctionalOptions<T extends number[] = number[]> {
  /** Step of the kernel per dimension (default 1). */
  stride?: number | T;
  /** Zero padding on each side, or `'same'` (output size = input size; stride 1 only) or `'valid'` (none). */
  padding?: number | T | 'same' | 'valid';
  /** Spacing between kernel elements (default 1). */
  dilation?: number | T;
  /** Blocked connections: input and output channels are split into `groups` (each divisible by it). */
  groups?: number;
}

/** Options of `conv1d`. */
export type Conv1dFunctionalOptions = ConvFunctionalOptions<[number]>;
/** Options of `conv2d`. */
export type Conv2dFunctionalOptions = ConvFunctionalOptions<[number, number]>;
/** Options of `conv3d`. */
export type Conv3dFunctionalOptions = ConvFunctionalOptions<[number, number, number]>;

// "kH, kW": the kernel's dimensions in a weight's description.
const kernelAxes = (n: SpatialDims): string => spatialAxes(n).map((a) => `k${a}`).join(', ');

const CONV = { 1: N.conv1d, 2: N.conv2d, 3: N.conv3d } as const;

// The convolution of n spatial dimensions: conv1d, conv2d, conv3d.
function convNd(n: SpatialDims, input: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvFunctionalOptions): Tensor {
  const op = `conv${n}d`;
  const o = knownOptions(op, options, ['stride', 'padding', 'dilation', 'groups']);
  const x = spatialInput(op, input, n);
  const w = floatArg(op, 'weight', weight);
  const b = optTensorArg(op, 'bias', bias);
  if (w.ndim !== n + 2) throw shapeError(op, 'weight', `a ${n + 2}-d tensor (outChannels, inChannels/groups, ${kernelAxes(n)})`, w.shape);
  sameKind(op, 'weight', w, 'input', x);
  const groups = checkInt(op, 'groups', o.groups ?? 1, 1);
  const cin = x.shape[x.ndim - n - 1];
  const [cout, cinPerGroup] = w.shape;
  if (cinPerGroup * groups !== cin) {
    throw shapeError(op, 'input', `${cinPerGroup * groups} channels in dim ${x.ndim - n - 1} (weight ${fmt(w.shape)}, groups ${groups})`, x.shape);
  }
  if (cout % groups !== 0) throw shapeError(op, 'weight', `an output channel count divisible by groups ${groups}`, w.shape);
  if (b) {
    sameKind(op, 'bias', b, 'input', x);
    perChannel(op, 'bias', b, cout, `one per output channel of weight ${fmt(w.shape)}`);
  }
  const { stride, padding, dilation } = convGeometry(op, n, o, false);
  if (typeof padding !== 'string') {
    const kernel = w.shape.slice(2);
    for (let d = 0; d < n; d++) {
      if (x.shape[x.ndim - n + d] + 2 * padding[d] < dilation[d] * (kernel[d] - 1) + 1) {
        throw shapeError(op, 'input', `spatial size at least ${fmt(kernel.map((k, i) => dilation[i] * (k - 1) + 1 - 2 * padding[i]))} for kernel ${fmt(kernel)} with padding ${fmt(padding)} and dilation ${fmt(dilation)}`, x.shape);
      }
    }
  }
  return new Tensor(CONV[n](x.handle, w.handle, h(b), stride, padding, dilation, groups));
}

/**
 * 1-d convolution of `input` (N, C_in, L) or (C_in, L) with `weight` (C_out, C_in/groups, kL) and an optional
 * `bias` (C_out), as `torch.nn.functional.conv1d`.
 */
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dFunctionalOptions = {}): Tensor {
  return convNd(1, input, weight, bias, options);
}

/**
 * 2-d convolution of `input` (N, C_in, H, W) or (C_in, H, W) with `weight` (C_out, C_in/groups, kH, kW)
 * and an optional `bias` (C_out), as `torch.nn.functional.conv2d`.
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dFunctionalOptions = {}): Tensor {
  return convNd(2, input, weight, bias, options);
}

/**
 * 3-d convolution of `input` (N, C_in, D, H, W) or (C_in, D, H, W) with `weight` (C_out, C_in/groups, kD, kH, kW)
 * and an optional `bias` (C_out), as `torch.nn.functional.conv3d`.
 */
export function conv3d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv3dFunctionalOptions = {}): Tensor {
  return convNd(3, input, weight, bias, options);
}

/**
 * Options of `convTranspose1d`, `convTranspose2d` and `convTranspose3d` (PyTorch's `conv_transpose{n}d` arguments
 * after `bias`): `T` is one integer per spatial dimension; a single number applies to every dimension.
 */
export interface ConvTransposeFunctionalOptions<T extends number[] = number[]> {
  /** Stride of the underlying convolution: the upsampling factor (default 1). */
  stride?: number | T;
  /** Removes `dilation * (kernel - 1) - padding` zeros of implicit padding from each side of the output. */
  padding?: number | T;
  /** Extra size added to one side of each output dimension (smaller than the stride or the dilation). */
  outputPadding?: number | T;
  /** Blocked connections: input and output channels are split into `groups`. */
  groups?: number;
  /** Spacing between kernel elements (default 1). */
  dilation?: number | T;
}

/** Options of `convTranspose1d`. */
export type ConvTranspose1dFunctionalOptions = ConvTransposeFunctionalOptions<[number]>;
/** Options of `convTranspose2d` (PyTorch's `conv_transpose2d` arguments after `bias`). */
export type ConvTranspose2dFunctionalOptions = ConvTransposeFunctionalOptions<[number, number]>;
/** Options of `convTranspose3d`. */
export type ConvTranspose3dFunctionalOptions = ConvTransposeFunctionalOptions<[number, number, number]>;

const CONV_TRANSPOSE = { 1: N.convTranspose1d, 2: N.convTranspose2d, 3: N.convTranspose3d } as const;

// The transposed convolution of n spatial dimensions: convTranspose1d, convTranspose2d, convTranspose3d.
function convTransposeNd(n: SpatialDims, input: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvTransposeFunctionalOptions): Tensor {
  const op = `convTranspose${n}d`;
  const o = knownOptions(op, options, ['stride', 'padding', 'outputPadding', 'groups', 'dilation']);
  const x = spatialInput(op, input, n);
  const w = floatArg(op, 'weight', weight);
  const b = optTensorArg(op, 'bias', bias);
  if (w.ndim !== n + 2) throw shapeError(op, 'weight', `a ${n + 2}-d tensor (inChannels, outChannels/groups, ${kernelAxes(n)})`, w.shape);
  sameKind(op, 'weight', w, 'input', x);
  const groups = checkInt(op, 'groups', o.groups ?? 1, 1);
  const cin = x.shape[x.ndim - n - 1];
  if (w.shape[0] !== cin) throw shapeError(op, 'input', `${w.shape[0]} channels in dim ${x.ndim - n - 1} (weight ${fmt(w.shape)})`, x.shape);
  if (cin % groups !== 0) throw shapeError(op, 'weight', `an input channel count divisible by groups ${groups}`, w.shape);
  const cout = w.shape[1] * groups;
  if (b) {
    sameKind(op, 'bias', b, 'input', x);
    perChannel(op, 'bias', b, cout, `one per output channel: weight ${fmt(w.shape)} with groups ${groups}`);
  }
  const { stride, padding, outputPadding, dilation } = convGeometry(op, n, o, true) as ConvGeometry & { padding: number[] };
  for (let d = 0; d < n; d++) {
    const size = (x.shape[x.ndim - n + d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (w.shape[2 + d] - 1) + outputPadding[d] + 1;
    if (size < 1) throw shapeError(op, 'input', `a spatial size that gives a positive output size with padding ${fmt(padding)} (dimension ${d} would be ${size})`, x.shape);
  }
  return new Tensor(CONV_TRANSPOSE[n](x.handle, w.handle, h(b), stride, padding, outputPadding, groups, dilation));
}

/**
 * 1-d transposed convolution of `input` (N, C_in, L) or (C_in, L) with `weight` (C_in, C_out/groups, kL) and an
 * optional `bias` (C_out), as `torch.nn.functional.conv_transpose1d`. Output length:
 * (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
 */
export function convTranspose1d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose1dFunctionalOptions = {}): Tensor {
  return convTransposeNd(1, input, weight, bias, options);
}

/**
 * 2-d transposed convolution ("deconvolution", the gradient of `conv2d` with respect to its input) of `input`
 * (N, C_in, H, W) or (C_in, H, W) with `weight` (C_in, C_out/groups, kH, kW) and an optional `bias` (C_out),
 * as `torch.nn.functional.conv_transpose2d`. Output size per dimension:
 * (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
 */
export function convTranspose2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose2dFunctionalOptions = {}): Tensor {
  return convTransposeNd(2, input, weight, bias, options);
}

/**
 * 3-d transposed convolution of `input` (N, C_in, D, H, W) or (C_in, D, H, W) with `weight`
 * (C_in, C_out/groups, kD, kH, kW) and an optional `bias` (C_out), as `torch.nn.functional.conv_transpose3d`.
 * Output size per dimension: (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
 */
export function convTranspose3d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose3dFunctionalOptions = {}): Tensor {
  return convTransposeNd(3, input, weight, bias, options);
}

/** y = x Wᵀ + b over the last dimension of `input` (…, inFeatures), `weight` (outFeatures, inFeatures), as `torch.nn.functional.linear`. */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const op = 'linear';
  const x = floatArg(op, 'input', input);
  const w = floatArg(op, 'weight', weight);
  const b = optTensorArg(op, 'bias', bias);
  if (w.ndim !== 2) throw shapeError(op, 'weight', 'a 2-d tensor (outFeatures, inFeatures)', w.shape);
  sameKind(op, 'weight', w, 'input', x);
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== w.shape[1]) {
    throw shapeError(op, 'input', `a last dimension of ${w.shape[1]} (the inFeatures of weight ${fmt(w.shape)})`, x.shape);
  }
  if (b) {
    sameKind(op, 'bias', b, 'input', x);
    perChannel(op, 'bias', b, w.shape[0], `the outFeatures of weight ${fmt(w.shape)}`);
  }
  return new Tensor(N.linear(x.handle, w.handle, h(b)));
}

// ---------------------------------------------------------------- normalisation

/** Options of `batchNorm`. */
export interface BatchNormFunctionalOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Use batch statistics and update the running ones (default false, as PyTorch's functional form). */
  training?: boolean;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over dim 1 of `input` (N, C, ...), as `torch.nn.functional.batch_norm`: batch
 * statistics in training (updating `runningMean`/`runningVar` in place when given), the running ones in
 * evaluation.
 */
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormFunctionalOptions = {}): Tensor {
  const op = 'batchNorm';
  const o = knownOptions(op, options, ['weight', 'bias', 'training', 'momentum', 'eps']);
  const x = floatArg(op, 'input', input);
  if (x.ndim < 2) throw shapeError(op, 'input', 'at least 2 dimensions (N, C, ...)', x.shape);
  const c = x.shape[1];
  const training = boolOpt(op, 'training', o.training, false);
  const named: [string, Tensor | null][] = [
    ['runningMean', optTensorArg(op, 'runningMean', runningMean)],
    ['runningVar', optTensorArg(op, 'runningVar', runningVar)],
    ['weight', optTensorArg(op, 'weight', o.weight)],
    ['bias', optTensorArg(op, 'bias', o.bias)],
  ];
  for (const [name, t] of named) {
    if (!t) continue;
    perChannel(op, name, t, c, `one per channel of input ${fmt(x.shape)}`);
    if (t.device !== x.device) throw new TypeError(`${op}: expected ${name} on input's device ${x.device} but received one on ${t.device}`);
  }
  if (!training && (!named[0][1] || !named[1][1])) throw typeError(op, 'runningMean and runningVar', 'Tensors when training is false (evaluation normalises with them)', null);
  if (training && x.numel() / c <= 1) throw shapeError(op, 'input', 'more than one value per channel when training', x.shape);
  const momentum = numberOpt(op, 'momentum', o.momentum, 0.1, { min: 0, max: 1 });
  const eps = numberOpt(op, 'eps', o.eps, 1e-5, { min: 0 });
  return new Tensor(N.batchNorm(x.handle, h(named[0][1]), h(named[1][1]), h(named[2][1]), h(named[3][1]), training, momentum, eps));
}

/** Options of `layerNorm`. */
export interface LayerNormFunctionalOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  eps?: number;
}

/** Layer normalisation over the trailing `normalizedShape` dimensions of `input`, as `torch.nn.functional.layer_norm`. */
export function layerNorm(input: Tensor, normalizedShape: number | number[], options: LayerNormFunctionalOptions = {}): Tensor {
  const op = 'layerNorm';
  const o = knownOptions(op, options, ['weight', 'bias', 'eps']);
  const x = floatArg(op, 'input', input);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(shape) || shape.length === 0) throw typeError(op, 'normalizedShape', 'an integer or a non-empty array of integers', normalizedShape);
  shape.forEach((s, i) => checkInt(op, `normalizedShape[${i}]`, s, 1));
  const tail = x.shape.slice(x.ndim - shape.length);
  if (x.ndim < shape.length || tail.some((s, i) => s !== shape[i])) throw shapeError(op, 'input', `trailing dimensions ${fmt(shape)} (normalizedShape)`, x.shape);
  for (const name of ['weight', 'bias'] as const) {
    const t = optTensorArg(op, name, o[name]);
    if (!t) continue;
    if (fmt(t.shape) !== fmt(shape)) throw shapeError(op, name, `shape ${fmt(shape)} (normalizedShape)`, t.shape);
    sameKind(op, name, t, 'input', x);
  }
  const eps = numberOpt(op, 'eps', o.eps, 1e-5, { min: 0 });
  return new Tensor(N.layerNorm(x.handle, shape, h(optTensorArg(op, 'weight', o.weight)), h(optTensorArg(op, 'bias', o.bias)), eps));
}

/** Options of `groupNorm`. */
export interface GroupNormFunctionalOptions {
  /** Per-channel scale (C). */
  weight?: Tensor | null;
  /** Per-channel shift (C). */
  bias?: Tensor | null;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * Group normalisation of `input` (N, C, ...), as `torch.nn.functional.group_norm`: the C channels are split
 * into `numGroups` groups and each sample's group is normalised over its channels and positions (biased
 * variance), then scaled and shifted per channel. Independent of the batch size.
 */
export function groupNorm(input: Tensor, numGroups: number, options: GroupNormFunctionalOptions = {}): Tensor {
  const op = 'groupNorm';
  const o = knownOptions(op, options, ['weight', 'bias', 'eps']);
  const x = floatArg(op, 'input', input);
  if (x.ndim < 2) throw shapeError(op, 'input', 'at least 2 dimensions (N, C, ...)', x.shape);
  checkInt(op, 'numGroups', numGroups, 1);
  const c = x.shape[1];
  if (c % numGroups !== 0) throw shapeError(op, 'input', `a channel count (dim 1) divisible by numGroups ${numGroups}`, x.shape);
  const weight = optTensorArg(op, 'weight', o.weight);
  const bias = optTensorArg(op, 'bias', o.bias);
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (!t) continue;
    perChannel(op, name, t, c, `one per channel of input ${fmt(x.shape)}`);
    sameKind(op, name, t, 'input', x);
  }
  const eps = numberOpt(op, 'eps', o.eps, 1e-5, { min: 0 });
  return new Tensor(N.groupNorm(x.handle, numGroups, h(weight), h(bias), eps));
}

/** Options of the functional IC layer. */
export interface ICLayerOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Batch statistics and dropout (default true). */
  training?: boolean;
  momentum?: number;
  eps?: number;
  /** Dropout rate after normalisation, in [0, 1). */
  dropRate?: number;
  /** `auto` (fused where available), `fused` (error if not available) or `composite` (batch_norm + dropout). */
  impl?: 'auto' | 'fused' | 'composite';
}

/**
 * The IC layer of Chen et al. as a function: batch normalisation over dim 1 then dropout, with autograd;
 * one fused op on the CPU and on CUDA (see `nn.IC` for the module).
 */
export function icLayer(input: Tensor, options: ICLayerOptions = {}): Tensor {
  const op = 'icLayer';
  const o = knownOptions(op, options, ['weight', 'bias', 'runningMean', 'runningVar', 'training', 'momentum', 'eps', 'dropRate', 'impl']);
  const x = floatArg(op, 'input', input);
  if (x.ndim < 2) throw shapeError(op, 'input', 'at least 2 dimensions (N, C, ...)', x.shape);
  // Sizes of the per-channel tensors and the dropRate range are checked natively (native/ic).
  const ts = (['weight', 'bias', 'runningMean', 'runningVar'] as const).map((name) => optTensorArg(op, name, o[name]));
  const impl = checkOneOf(op, 'impl', o.impl ?? 'auto', ['auto', 'fused', 'composite'] as const);
  return new Tensor(
    N.icLayer(x.handle, h(ts[0]), h(ts[1]), h(ts[2]), h(ts[3]), boolOpt(op, 'training', o.training, true), numberOpt(op, 'momentum', o.momentum, 0.1),
      numberOpt(op, 'eps', o.eps, 1e-5), numberOpt(op, 'dropRate', o.dropRate, 0), impl),
  );
}

// ---------------------------------------------------------------- dropout and activations

/** Zeroes elements with probability `p` and scales the rest by 1/(1-p) when `training` (default true), as `torch.nn.functional.dropout`. */
export function dropout(input: Tensor, options: { p?: number; training?: boolean } = {}): Tensor {
  const op = 'dropout';
  const o = knownOptions(op, options, ['p', 'training']);
  const x = floatArg(op, 'input', input);
  const p = numberOpt(op, 'p', o.p, 0.5, { min: 0, max: 1 });
  return new Tensor(N.dropout(x.handle, p, boolOpt(op, 'training', o.training, true)));
}

/**
 * Zeroes whole channels (dim 1 of (N, C, H, W)) with probability `p` and scales the rest by 1/(1-p) when
 * `training` (default true), as `torch.nn.functional.dropout2d`. A 3-d input is refused: PyTorch reads it as
 * (N, C, L), not as an unbatched image (`unsqueeze(0)` one).
 */
export function dropout2d(input: Tensor, options: { p?: number; training?: boolean } = {}): Tensor {
  const op = 'dropout2d';
  const o = knownOptions(op, options, ['p', 'training']);
  const x = floatArg(op, 'input', input);
  if (x.ndim !== 4) throw shapeError(op, 'input', "a 4-d tensor (N, C, H, W) (PyTorch reads a 3-d one as (N, C, L), not as an unbatched image: unsqueeze(0) it)", x.shape);
  const p = numberOpt(op, 'p', o.p, 0.5, { min: 0, max: 1 });
  return new Tensor(N.dropout2d(x.handle, p, boolOpt(op, 'training', o.training, true)));
}

/** How `pad` fills: a constant, the mirror image without the edge (`reflect`), the edge repeated, or wrapped around. */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * Pads `input`, as `torch.nn.functional.pad`: `pad` lists (before, after) pairs from the last dimension backwards
 * (`[left, right, top, bottom]` for an image). `constant` (default, with `value`, default 0) pads any dimensions;
 * `reflect`, `replicate` and `circular` pad the last 1, 2 or 3 dimensions of a batched or unbatched input.
 */
export function pad(input: Tensor, pad: number[], mode: PadMode = 'constant', value?: number): Tensor {
  const op = 'pad';
  const x = tensorArg(op, 'input', input);
  if (!Array.isArray(pad) || pad.length === 0 || pad.length % 2 !== 0) throw typeError(op, 'pad', 'an array of (before, after) pairs of integers', pad);
  pad.forEach((v, i) => checkInt(op, `pad[${i}]`, v));
  if (pad.length / 2 > x.ndim) throw shapeError(op, 'input', `at least ${pad.length / 2} dimensions (pad has ${pad.length / 2} pairs)`, x.shape);
  const m = checkOneOf(op, 'mode', mode, ['constant', 'reflect', 'replicate', 'circular'] as const);
  if (value !== undefined && m !== 'constant') throw typeError(op, 'value', `no value with mode '${m}' (only 'constant' fills with one)`, value);
  if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value))) throw typeError(op, 'value', 'a number', value);
  if (m !== 'constant') {
    const k = pad.length / 2;
    if (k > 3 || x.ndim < k + 1 || x.ndim > k + 2) {
      throw shapeError(op, 'input', `a ${k + 1}-d or ${k + 2}-d tensor for ${m} padding of ${k} dimension${k > 1 ? 's' : ''} (pad of length ${pad.length})`, x.shape);
    }
    if (m === 'reflect') {
      pad.forEach((v, i) => {
        const size = x.shape[x.ndim - 1 - Math.floor(i / 2)];
        if (v >= size) throw rangeError(op, `pad[${i}]`, `less than the size ${size} of the dimension it pads (reflect padding mirrors inside it)`, v);
      });
    }
  }
  return new Tensor(N.pad(x.handle, pad, m, value ?? null));
}

/** max(x, 0). */
export function relu(input: Tensor): Tensor {
  return tensorArg('relu', 'input', input).relu();
}

/** Gaussian error linear unit, exact (`approximate: 'none'`, default) or its tanh approximation. */
export function gelu(input: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const o = knownOptions('gelu', options, ['approximate']);
  const approximate = checkOneOf('gelu', 'approximate', o.approximate ?? 'none', ['none', 'tanh'] as const);
  return new Tensor(N.activation('gelu', floatArg('gelu', 'input', input).handle, approximate));
}

/** x · sigmoid(x) (swish). */
export function silu(input: Tensor): Tensor {
  return new Tensor(N.activation('silu', floatArg('silu', 'input', input).handle, null));
}

// A number argument of an activation ("leakyRelu: expected a finite number for negativeSlope ...").
function activationNumber(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw typeError(op, arg, 'a finite number', v);
  return v;
}

/** max(0, x) + negativeSlope · min(0, x) (`torch.nn.functional.leaky_relu`; default slope 0.01). */
export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  const x = floatArg('leakyRelu', 'input', input);
  return new Tensor(N.activation('leakyRelu', x.handle, activationNumber('leakyRelu', 'negativeSlope', negativeSlope)));
}

/** x for x > 0, alpha · (eˣ − 1) otherwise (`torch.nn.functional.elu`; default alpha 1). */
export function elu(input: Tensor, alpha = 1): Tensor {
  const x = floatArg('elu', 'input', input);
  return new Tensor(N.activation('elu', x.handle, activationNumber('elu', 'alpha', alpha)));
}

/** x clamped to [minVal, maxVal] with the gradient zero outside (`torch.nn.functional.hardtanh`; default [−1, 1]). */
export function hardtanh(input: Tensor, minVal = -1, maxVal = 1): Tensor {
  const x = floatArg('hardtanh', 'input', input);
  const lo = activationNumber('hardtanh', 'minVal', minVal);
  const hi = activationNumber('hardtanh', 'maxVal', maxVal);
  if (!(hi > lo)) throw rangeError('hardtanh', 'maxVal', `a number greater than minVal (${lo})`, hi);
  return new Tensor(N.activation('hardtanh', x.handle, lo, hi));
}

/** min(max(0, x), 6) (`torch.nn.functional.relu6`). */
export function relu6(input: Tensor): Tensor {
  return new Tensor(N.activation('hardtanh', floatArg('relu6', 'input', input).handle, 0, 6));
}

/**
 * log(1 + e^(beta·x)) / beta, a smooth ReLU, and x itself where beta·x > threshold
 * (`torch.nn.functional.softplus`; defaults beta 1, threshold 20).
 */
export function softplus(input: Tensor, beta = 1, threshold = 20): Tensor {
  const x = floatArg('softplus', 'input', input);
  const b = activationNumber('softplus', 'beta', beta);
  if (b === 0) throw rangeError('softplus', 'beta', 'a nonzero number (the result is divided by it)', b);
  return new Tensor(N.activation('softplus', x.handle, b, activationNumber('softplus', 'threshold', threshold)));
}

/** x · tanh(softplus(x)) (`torch.nn.functional.mish`). */
export function mish(input: Tensor): Tensor {
  return new Tensor(N.activation('mish', floatArg('mish', 'input', input).handle, null));
}

/** x · relu6(x + 3) / 6 (`torch.nn.functional.hardswish`, MobileNetV3's). */
export function hardswish(input: Tensor): Tensor {
  return new Tensor(N.activation('hardswish', floatArg('hardswish', 'input', input).handle, null));
}

/** relu6(x + 3) / 6 (`torch.nn.functional.hardsigmoid`). */
export function hardsigmoid(input: Tensor): Tensor {
  return new Tensor(N.activation('hardsigmoid', floatArg('hardsigmoid', 'input', input).handle, null));
}

function softmaxOf(op: string, input: Tensor, dim: number, options: { dtype?: DType }, log: boolean): Tensor {
  const o = knownOptions(op, options, ['dtype']);
  const x = tensorArg(op, 'input', input);
  checkInt(op, 'dim', dim, -Math.max(1, x.ndim), Math.max(1, x.ndim) - 1);
  return new Tensor(N.softmax(x.handle, dim, (o.dtype as DType | undefined) ?? null, log));
}

/** Softmax along `dim` (`dtype`: compute in and return that dtype). */
export function softmax(input: Tensor, dim: number, options: { dtype?: DType } = {}): Tensor {
  return softmaxOf('softmax', input, dim, options, false);
}

/** log(softmax(x)) along `dim`, computed stably. */
export function logSoftmax(input: Tensor, dim: number, options: { dtype?: DType } = {}): Tensor {
  return softmaxOf('logSoftmax', input, dim, options, true);
}

// ---------------------------------------------------------------- one-hot, normalisation and distances

/**
 * One-hot encoding of int64 class indices, as `torch.nn.functional.one_hot`: shape [..., numClasses], int64;
 * `numClasses` -1 (the default) uses the largest index + 1.
 */
export function oneHot(tensor: Tensor, numClasses = -1): Tensor {
  const t = tensorArg('oneHot', 'tensor', tensor);
  return new Tensor(N.oneHot(t.handle, checkInt('oneHot', 'numClasses', numClasses, -1)));
}

/** Options of `normalize`. */
export interface NormalizeOptions {
  /** Order of the norm (default 2). */
  p?: number;
  /** The dimension normalised (default 1). */
  dim?: number;
  /** Smallest divisor, against division by zero (default 1e-12). */
  eps?: number;
}

/** `input` divided by its p-norm along `dim` (at least `eps`), as `torch.nn.functional.normalize`. */
export function normalize(input: Tensor, options: NormalizeOptions = {}): Tensor {
  const op = 'normalize';
  const o = knownOptions(op, options, ['p', 'dim', 'eps']);
  const x = floatArg(op, 'input', input);
  const p = numberOpt(op, 'p', o.p, 2);
  const n = Math.max(x.ndim, 1);
  const dim = checkInt(op, 'dim', o.dim ?? 1, -n, n - 1);
  const eps = numberOpt(op, 'eps', o.eps, 1e-12, { min: 0 });
  const norm = x.norm(p, dim, true);
  try {
    const d = norm.clamp(eps);
    try {
      return x.div(d);
    } finally {
      d.dispose();
    }
  } finally {
    norm.dispose();
  }
}

/** Cosine similarity of `x1` and `x2` along `dim` (default 1), broadcasting, as `torch.nn.functional.cosine_similarity`. */
export function cosineSimilarity(x1: Tensor, x2: Tensor, options: { dim?: number; eps?: number } = {}): Tensor {
  const op = 'cosineSimilarity';
  const o = knownOptions(op, options, ['dim', 'eps']);
  const a = floatArg(op, 'x1', x1);
  const b = floatArg(op, 'x2', x2);
  sameKind(op, 'x2', b, 'x1', a);
  return new Tensor(N.distance('cosineSimilarity', a.handle, b.handle, checkInt(op, 'dim', o.dim ?? 1), numberOpt(op, 'eps', o.eps, 1e-8, { min: 0 })));
}

/** Options of `pairwiseDistance`. */
export interface PairwiseDistanceOptions {
  /** Order of the norm (default 2). */
  p?: number;
  /** Added to the difference, against a zero norm's gradient (default 1e-6). */
  eps?: number;
  /** Keep the last dimension (size 1). */
  keepdim?: boolean;
}

/** ‖x1 − x2 + eps‖_p over the last dimension, row by row, as `torch.nn.functional.pairwise_distance`. */
export function pairwiseDistance(x1: Tensor, x2: Tensor, options: PairwiseDistanceOptions = {}): Tensor {
  const op = 'pairwiseDistance';
  const o = knownOptions(op, options, ['p', 'eps', 'keepdim']);
  const a = floatArg(op, 'x1', x1);
  const b = floatArg(op, 'x2', x2);
  sameKind(op, 'x2', b, 'x1', a);
  const p = numberOpt(op, 'p', o.p, 2, { min: 0 });
  return new Tensor(N.distance('pairwiseDistance', a.handle, b.handle, p, numberOpt(op, 'eps', o.eps, 1e-6), boolOpt(op, 'keepdim', o.keepdim, false)));
}

// ---------------------------------------------------------------- pooling

/**
 * Options of `maxPool1d`, `maxPool2d` and `maxPool3d` (and of `nn.MaxPool1d`, `nn.MaxPool3d`): `T` is one integer
 * per spatial dimension; a single number applies to every dimension.
 */
export interface MaxPoolFunctionalOptions<T extends number[] = number[]> {
  /** Default: the kernel size. */
  stride?: number | T;
  /** Implicit negative-infinity padding on each side, at most half the kernel (default 0). */
  padding?: number | T;
  /** Spacing between window elements (default 1). */
  dilation?: number | T;
  /** Round the output size up instead of down. */
  ceilMode?: boolean;
  /** Also return the flat indices of the maxima (per channel, over the spatial dimensions). */
  returnIndices?: boolean;
}

/** Options of `maxPool1d`. */
export type MaxPool1dFunctionalOptions = MaxPoolFunctionalOptions<[number]>;
/** Options of `maxPool2d`. */
export type MaxPool2dFunctionalOptions = MaxPoolFunctionalOptions<[number, number]>;
/** Options of `maxPool3d`. */
export type MaxPool3dFunctionalOptions = MaxPoolFunctionalOptions<[number, number, number]>;

/** What a pooling returns: the pooled tensor, or `[output, indices]` with `returnIndices: true`. */
export type PoolOutput<R extends boolean | undefined> = R extends true ? [Tensor, Tensor] : Tensor;

// The padded input must hold one window in each spatial dimension.
function poolChecks(op: string, x: Tensor, k: number[], padding: number[]): void {
  const spatial = x.shape.slice(-k.length);
  if (spatial.some((s, i) => s + 2 * padding[i] < k[i])) throw shapeError(op, 'input', `a padded spatial size of at least the kernel ${fmt(k)}`, x.shape);
}

// The pooling output of a native call: one tensor or [output, indices].
const pooled = (r: TensorHandle | [TensorHandle, TensorHandle]): Tensor | [Tensor, Tensor] => (Array.isArray(r) ? [new Tensor(r[0]), new Tensor(r[1])] : new Tensor(r));

const MAX_POOL = { 1: N.maxPool1d, 2: N.maxPool2d, 3: N.maxPool3d } as const;

// The max pooling of n spatial dimensions: maxPool1d, maxPool2d, maxPool3d.
function maxPoolNd(n: SpatialDims, input: Tensor, kernelSize: unknown, options: MaxPoolFunctionalOptions): Tensor | [Tensor, Tensor] {
  const op = `maxPool${n}d`;
  const o = knownOptions(op, options, MAX_POOL_OPTIONS);
  const x = spatialInput(op, input, n);
  const g = poolGeometry(op, n, kernelSize, o, true);
  poolChecks(op, x, g.kernelSize, g.padding);
  const ceil = boolOpt(op, 'ceilMode', o.ceilMode, false);
  return pooled(MAX_POOL[n](x.handle, g.kernelSize, g.stride, g.padding, g.dilation, ceil, boolOpt(op, 'returnIndices', o.returnIndices, false)));
}

/** 1-d max pooling of (N, C, L) or (C, L), as `torch.nn.functional.max_pool1d`; `returnIndices: true` returns `[output, indices]`. */
export function maxPool1d(input: Tensor, kernelSize: number | [number], options: MaxPool1dFunctionalOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool1d(input: Tensor, kernelSize: number | [number], options?: MaxPool1dFunctionalOptions): Tensor;
export function maxPool1d(input: Tensor, kernelSize: number | [number], options: MaxPool1dFunctionalOptions = {}): Tensor | [Tensor, Tensor] {
  return maxPoolNd(1, input, kernelSize, options);
}

/** 2-d max pooling, as `torch.nn.functional.max_pool2d`; `returnIndices: true` returns `[output, indices]`. */
export function maxPool2d(input: Tensor, kernelSize: number | [number, number], options: MaxPool2dFunctionalOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool2d(input: Tensor, kernelSize: number | [number, number], options?: MaxPool2dFunctionalOptions): Tensor;
export function maxPool2d(input: Tensor, kernelSize: number | [number, number], options: MaxPool2dFunctionalOptions = {}): Tensor | [Tensor, Tensor] {
  return maxPoolNd(2, input, kernelSize, options);
}

/** 3-d max pooling of (N, C, D, H, W) or (C, D, H, W), as `torch.nn.functional.max_pool3d`; `returnIndices: true` returns `[output, indices]`. */
export function maxPool3d(input: Tensor, kernelSize: number | [number, number, number], options: MaxPool3dFunctionalOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool3d(input: Tensor, kernelSize: number | [number, number, number], options?: MaxPool3dFunctionalOptions): Tensor;
export function maxPool3d(input: Tensor, kernelSize: number | [number, number, number], options: MaxPool3dFunctionalOptions = {}): Tensor | [Tensor, Tensor] {
  return maxPoolNd(3, input, kernelSize, options);
}

/**
 * Options of `avgPool2d` and `avgPool3d` (and of `nn.AvgPool3d`; `avgPool1d` has no `divisorOverride`): `T` is one
 * integer per spatial dimension; a single number applies to every dimension.
 */
export interface AvgPoolFunctionalOptions<T extends number[] = number[]> {
  /** Default: the kernel size. */
  stride?: number | T;
  /** Implicit zero padding on each side, at most half the kernel (default 0). */
  padding?: number | T;
  /** Round the output size up instead of down. */
  ceilMode?: boolean;
  /** Count the zero padding in the average (default true). */
  countIncludePad?: boolean;
  /** Divide by this instead of the window size. */
  divisorOverride?: number;
}

/** Options of `avgPool1d` (PyTorch's `avg_pool1d` has no `divisorOverride`). */
export type AvgPool1dFunctionalOptions = Omit<AvgPoolFunctionalOptions<[number]>, 'divisorOverride'>;
/** Options of `avgPool2d`. */
export type AvgPool2dFunctionalOptions = AvgPoolFunctionalOptions<[number, number]>;
/** Options of `avgPool3d`. */
export type AvgPool3dFunctionalOptions = AvgPoolFunctionalOptions<[number, number, number]>;

const AVG_POOL = { 1: N.avgPool1d, 2: N.avgPool2d, 3: N.avgPool3d } as const;

// The average pooling of n spatial dimensions: avgPool1d, avgPool2d, avgPool3d.
function avgPoolNd(n: SpatialDims, input: Tensor, kernelSize: unknown, options: AvgPoolFunctionalOptions): Tensor {
  const op = `avgPool${n}d`;
  const o = knownOptions(op, options, avgPoolOptions(n));
  const x = spatialInput(op, input, n);
  const g = poolGeometry(op, n, kernelSize, o, false);
  poolChecks(op, x, g.kernelSize, g.padding);
  const div = divisorOverrideOpt(op, o.divisorOverride);
  const ceil = boolOpt(op, 'ceilMode', o.ceilMode, false);
  const countPad = boolOpt(op, 'countIncludePad', o.countIncludePad, true);
  // avgPool1d takes no divisorOverride: it is not among its options, so div is null there.
  return new Tensor((AVG_POOL[n] as typeof N.avgPool2d)(x.handle, g.kernelSize, g.stride, g.padding, ceil, countPad, div));
}

/** 1-d average pooling of (N, C, L) or (C, L), as `torch.nn.functional.avg_pool1d`. */
export function avgPool1d(input: Tensor, kernelSize: number | [number], options: AvgPool1dFunctionalOptions = {}): Tensor {
  return avgPoolNd(1, input, kernelSize, options);
}

/** 2-d average pooling, as `torch.nn.functional.avg_pool2d`. */
export function avgPool2d(input: Tensor, kernelSize: number | [number, number], options: AvgPool2dFunctionalOptions = {}): Tensor {
  return avgPoolNd(2, input, kernelSize, options);
}

/** 3-d average pooling of (N, C, D, H, W) or (C, D, H, W), as `torch.nn.functional.avg_pool3d`. */
export function avgPool3d(input: Tensor, kernelSize: number | [number, number, number], options: AvgPool3dFunctionalOptions = {}): Tensor {
  return avgPoolNd(3, input, kernelSize, options);
}

const ADAPTIVE_AVG_POOL = { 1: N.adaptiveAvgPool1d, 2: N.adaptiveAvgPool2d, 3: N.adaptiveAvgPool3d } as const;

// The adaptive average pooling of n spatial dimensions.
function adaptiveAvgPoolNd(n: SpatialDims, input: Tensor, outputSize: unknown): Tensor {
  const op = `adaptiveAvgPool${n}d`;
  const x = spatialInput(op, input, n);
  return new Tensor(ADAPTIVE_AVG_POOL[n](x.handle, adaptiveSize(op, n, outputSize, x)));
}

/** Average pooling of (N, C, L) or (C, L) to a fixed length, as `torch.nn.functional.adaptive_avg_pool1d`. */
export function adaptiveAvgPool1d(input: Tensor, outputSize: number | [number]): Tensor {
  return adaptiveAvgPoolNd(1, input, outputSize);
}

/** Average pooling to a fixed output size (`null` in a pair keeps that input size), as `torch.nn.functional.adaptive_avg_pool2d`. */
export function adaptiveAvgPool2d(input: Tensor, outputSize: number | [number | null, number | null]): Tensor {
  return adaptiveAvgPoolNd(2, input, outputSize);
}

/**
 * Average pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed output size (`null` keeps that input size), as
 * `torch.nn.functional.adaptive_avg_pool3d`.
 */
export function adaptiveAvgPool3d(input: Tensor, outputSize: number | [number | null, number | null, number | null]): Tensor {
  return adaptiveAvgPoolNd(3, input, outputSize);
}

/** Options of `adaptiveMaxPool1d`, `adaptiveMaxPool2d` and `adaptiveMaxPool3d`. */
export interface AdaptiveMaxPoolFunctionalOptions {
  /** Also return the flat indices of the maxima (per channel, over the spatial dimensions). */
  returnIndices?: boolean;
}

const ADAPTIVE_MAX_POOL = { 1: N.adaptiveMaxPool1d, 2: N.adaptiveMaxPool2d, 3: N.adaptiveMaxPool3d } as const;

// The adaptive max pooling of n spatial dimensions.
function adaptiveMaxPoolNd(n: SpatialDims, input: Tensor, outputSize: unknown, options: AdaptiveMaxPoolFunctionalOptions): Tensor | [Tensor, Tensor] {
  const op = `adaptiveMaxPool${n}d`;
  const o = knownOptions(op, options, ['returnIndices']);
  const x = spatialInput(op, input, n);
  return pooled(ADAPTIVE_MAX_POOL[n](x.handle, adaptiveSize(op, n, outputSize, x), boolOpt(op, 'returnIndices', o.returnIndices, false)));
}

/** Max pooling of (N, C, L) or (C, L) to a fixed length, as `torch.nn.functional.adaptive_max_pool1d`; `returnIndices: true` returns `[output, indices]`. */
export function adaptiveMaxPool1d(input: Tensor, outputSize: number | [number], options: AdaptiveMaxPoolFunctionalOptions & { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool1d(input: Tensor, outputSize: number | [number], options?: AdaptiveMaxPoolFunctionalOptions): Tensor;
export function adaptiveMaxPool1d(input: Tensor, outputSize: number | [number], options: AdaptiveMaxPoolFunctionalOptions = {}): Tensor | [Tensor, Tensor] {
  return adaptiveMaxPoolNd(1, input, outputSize, options);
}

/**
 * Max pooling of (N, C, H, W) or (C, H, W) to a fixed output size (`null` keeps that input size), as
 * `torch.nn.functional.adaptive_max_pool2d`; `returnIndices: true` returns `[output, indices]`.
 */
export function adaptiveMaxPool2d(input: Tensor, outputSize: number | [number | null, number | null], options: AdaptiveMaxPoolFunctionalOptions & { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool2d(input: Tensor, outputSize: number | [number | null, number | null], options?: AdaptiveMaxPoolFunctionalOptions): Tensor;
export function adaptiveMaxPool2d(input: Tensor, outputSize: number | [number | null, number | null], options: AdaptiveMaxPoolFunctionalOptions = {}): Tensor | [Tensor, Tensor] {
  return adaptiveMaxPoolNd(2, input, outputSize, options);
}

/**
 * Max pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed output size (`null` keeps that input size), as
 * `torch.nn.functional.adaptive_max_pool3d`; `returnIndices: true` returns `[output, indices]`.
 */
export function adaptiveMaxPool3d(input: Tensor, outputSize: number | [number | null, number | null, number | null], options: AdaptiveMaxPoolFunctionalOptions & { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool3d(input: Tensor, outputSize: number | [number | null, number | null, number | null], options?: AdaptiveMaxPoolFunctionalOptions): Tensor;
export function adaptiveMaxPool3d(input: Tensor, outputSize: number | [number | null, number | null, number | null], options: AdaptiveMaxPoolFunctionalOptions = {}): Tensor | [Tensor, Tensor] {
  return adaptiveMaxPoolNd(3, input, outputSize, options);
}

// ---------------------------------------------------------------- resampling

/**
 * How `interpolate` resamples, as PyTorch's modes: `nearest`, `nearest-exact` and `area` in 1, 2 or 3 spatial
 * dimensions; `linear` in 1, `bilinear` and `bicubic` in 2, `trilinear` in 3.
 */
export type InterpolateMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear' | 'area';

const INTERPOLATE_MODES: readonly InterpolateMode[] = ['nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'];
// The modes that resample one number of spatial dimensions only (and take alignCorners).
const MODE_DIMS: Partial<Record<InterpolateMode, SpatialDims>> = { linear: 1, bilinear: 2, bicubic: 2, trilinear: 3 };

/** Options of `interpolate` (give `size` or `scaleFactor`). */
export interface InterpolateOptions {
  /** The output's spatial size: one number for every dimension, or one per dimension ([L], [H, W] or [D, H, W]). */
  size?: number | [number] | [number, number] | [number, number, number];
  /** The factor per spatial dimension (one number for all); the output size is floor(in · factor). */
  scaleFactor?: number | [number] | [number, number] | [number, number, number];
  /** The resampling (default `'nearest'`). */
  mode?: InterpolateMode;
  /** For `linear`, `bilinear`, `bicubic` and `trilinear`: align the corner pixels' centres instead of their edges (default false). */
  alignCorners?: boolean;
  /** With `scaleFactor`: map positions by in/out sizes instead of by the factor given (default false). */
  recomputeScaleFactor?: boolean;
}

/**
 * Resamples `input` (N, C, L), (N, C, H, W) or (N, C, D, H, W) to a new spatial size, as
 * `torch.nn.functional.interpolate`: nearest, nearest-exact or area in any of them, linear (3-d input), bilinear
 * or bicubic (4-d), trilinear (5-d); to `size`, or by `scaleFactor` (then, as PyTorch, the kernels map positions
 * by the factor given unless `recomputeScaleFactor`). Differentiable.
 */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const op = 'interpolate';
  const plan = interpolatePlan(op, options);
  const x = floatArg(op, 'input', input);
  const fixed = MODE_DIMS[plan.mode];
  if (fixed !== undefined && x.ndim !== fixed + 2) {
    throw shapeError(op, 'input', `a ${fixed + 2}-d tensor (N, C, ${spatialAxes(fixed).join(', ')}) (mode '${plan.mode}' needs ${fixed + 2}-d input)`, x.shape);
  }
  if (x.ndim < 3 || x.ndim > 5) throw shapeError(op, 'input', 'a 3-d (N, C, L), 4-d (N, C, H, W) or 5-d (N, C, D, H, W) tensor', x.shape);
  const spatial = x.shape.slice(2);
  // One value per spatial dimension of the input.
  const perDim = (what: string, v: number | number[]): number[] => {
    if (typeof v === 'number') return spatial.map(() => v);
    if (v.length !== spatial.length) throw shapeError(op, 'input', `a ${v.length + 2}-d tensor to match ${what} ${fmt(v)} (one value per spatial dimension)`, x.shape);
    return v;
  };
  let size: number[];
  let scales: number[] | null = null;
  if (plan.size !== undefined) {
    size = perDim('size', plan.size);
  } else {
    const f = perDim('scaleFactor', plan.scaleFactor as number | number[]);
    size = spatial.map((n, i) => Math.floor(n * f[i]));
    if (size.some((n) => n < 1)) throw shapeError(op, 'input', `a spatial size that scaleFactor ${fmt(f)} keeps at least 1 (the output would be ${fmt(size)})`, x.shape);
    if (!plan.recomputeScaleFactor && plan.mode !== 'area') scales = f;
  }
  return new Tensor(N.interpolate(x.handle, plan.mode, size, scales, plan.alignCorners));
}

// `size` or `scaleFactor` of interpolate: one number for every spatial dimension or 1 to 3 of them, as many as a
// mode tied to a number of dimensions resamples.
function perDimOption(op: string, arg: string, v: unknown, mode: InterpolateMode, check: (name: string, x: unknown) => number, expected: string): number | number[] {
  if (typeof v === 'number') return check(arg, v);
  if (!Array.isArray(v) || v.length < 1 || v.length > 3) throw typeError(op, arg, expected, v);
  const fixed = MODE_DIMS[mode];
  if (fixed !== undefined && v.length !== fixed) throw rangeError(op, arg, `${fixed} value${fixed > 1 ? 's' : ''} (mode '${mode}' resamples ${fixed} spatial dimension${fixed > 1 ? 's' : ''})`, v);
  return v.map((x, i) => check(`${arg}[${i}]`, x));
}

/** @internal `interpolate`'s options, checked (also by `nn.Upsample` when it is made), under the name `op`. */
export function interpolatePlan(op: string, options: InterpolateOptions): { mode: InterpolateMode; alignCorners: boolean; size?: number | number[]; scaleFactor?: number | number[]; recomputeScaleFactor: boolean } {
  const o = knownOptions(op, options, ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor']);
  const mode = checkOneOf(op, 'mode', o.mode ?? 'nearest', INTERPOLATE_MODES);
  if (o.alignCorners !== undefined && MODE_DIMS[mode] === undefined) {
    throw typeError(op, 'alignCorners', `no value with mode '${mode}' (only 'linear', 'bilinear', 'bicubic' and 'trilinear' take it)`, o.alignCorners);
  }
  const alignCorners = boolOpt(op, 'alignCorners', o.alignCorners, false);
  if ((o.size === undefined) === (o.scaleFactor === undefined)) throw typeError(op, 'options', 'exactly one of size and scaleFactor', options);
  const recomputeScaleFactor = boolOpt(op, 'recomputeScaleFactor', o.recomputeScaleFactor, false);
  if (o.size !== undefined) {
    if (o.recomputeScaleFactor !== undefined) throw typeError(op, 'recomputeScaleFactor', 'no value with size (it applies to scaleFactor)', o.recomputeScaleFactor);
    const size = perDimOption(op, 'size', o.size, mode, (name, v) => checkInt(op, name, v, 1), 'an integer or an array of 1 to 3 integers (one per spatial dimension)');
    return { mode, alignCorners, size, recomputeScaleFactor };
  }
  const factor = (name: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw rangeError(op, name, 'a finite number > 0', v);
    return v;
  };
  const scaleFactor = perDimOption(op, 'scaleFactor', o.scaleFactor, mode, factor, 'a positive number or an array of 1 to 3 of them (one per spatial dimension)');
  return { mode, alignCorners, scaleFactor, recomputeScaleFactor };
}

// ---------------------------------------------------------------- embedding

/** Options of `embedding`. */
export interface EmbeddingFunctionalOptions {
  /** The row that gets no gradient (negative counts from the end). */
  paddingIdx?: number;
  /** Rows looked up are renormalised in place to this norm at most. */
  maxNorm?: number;
  /** Order of the norm for `maxNorm` (default 2). */
  normType?: number;
  /** Scale gradients by the inverse frequency of the indices in the batch. */
  scaleGradByFreq?: boolean;
}

/** Looks up rows of `weight` (numEmbeddings, dim) at integer `input` indices, as `torch.nn.functional.embedding`. */
export function embedding(input: Tensor, weight: Tensor, options: EmbeddingFunctionalOptions = {}): Tensor {
  const op = 'embedding';
  const o = knownOptions(op, options, ['paddingIdx', 'maxNorm', 'normType', 'scaleGradByFreq']);
  const idx = tensorArg(op, 'input', input);
  const w = floatArg(op, 'weight', weight);
  if (!['int64', 'int32'].includes(idx.dtype)) throw new TypeError(`${op}: expected int64 or int32 indices for input but received ${idx.dtype}`);
  if (w.ndim !== 2) throw shapeError(op, 'weight', 'a 2-d tensor (numEmbeddings, embeddingDim)', w.shape);
  if (idx.device !== w.device) throw new TypeError(`${op}: expected input on weight's device ${w.device} but received one on ${idx.device}`);
  const n = w.shape[0];
  let paddingIdx = -1;
  if (o.paddingIdx !== undefined && o.paddingIdx !== null) {
    const p = checkInt(op, 'paddingIdx', o.paddingIdx, -n, n - 1);
    paddingIdx = p < 0 ? p + n : p;
  }
  const maxNorm = o.maxNorm === undefined || o.maxNorm === null ? null : numberOpt(op, 'maxNorm', o.maxNorm, 0, { min: 0 });
  const normType = numberOpt(op, 'normType', o.normType, 2, { min: 0 });
  return new Tensor(N.embedding(idx.handle, w.handle, paddingIdx, maxNorm, normType, boolOpt(op, 'scaleGradByFreq', o.scaleGradByFreq, false)));
}

export { scaledDotProductAttention, type ScaledDotProductAttentionOptions } from './attention';
