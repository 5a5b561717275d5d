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
  boolOpt,
  checkOutputPadding,
  floatArg,
  fmt,
  knownOptions,
  numberOpt,
  optTensorArg,
  pair,
  perChannel,
  sameKind,
  shapeError,
  spatialInput,
  tensorArg,
} from './checks';

export * from './losses';

const N = native();
const h = (t: Tensor | null): TensorHandle | null => (t ? t.handle : null);

// ---------------------------------------------------------------- convolution and linear

/** Options of `conv2d`. */
export interface Conv2dFunctionalOptions {
  stride?: number | [number, number];
  /** Zero padding on each side, or `'same'` (output size = input size; stride 1 only) or `'valid'` (none). */
  padding?: number | [number, number] | 'same' | 'valid';
  dilation?: number | [number, number];
  /** Blocked connections: input and output channels are split into `groups` (each divisible by it). */
  groups?: number;
}

/**
 * 2-d convolution of `input` (N, C_in, H, W) or (C_in, H, W) with `weight` (C_out, C_in/groups, kH, kW)
 * and an optional `bias` (C_out), as `torch.nn.functional.conv2d`.
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dFunctionalOptions = {}): Tensor {
  const op = 'conv2d';
  const o = knownOptions(op, options, ['stride', 'padding', 'dilation', 'groups']);
  const x = spatialInput(op, input);
  const w = floatArg(op, 'weight', weight);
  const b = optTensorArg(op, 'bias', bias);
  if (w.ndim !== 4) throw shapeError(op, 'weight', 'a 4-d tensor (outChannels, inChannels/groups, kH, kW)', w.shape);
  sameKind(op, 'weight', w, 'input', x);
  const groups = checkInt(op, 'groups', o.groups ?? 1, 1);
  const cin = x.shape[x.ndim - 3];
  const [cout, cinPerGroup] = w.shape;
  if (cinPerGroup * groups !== cin) {
    throw shapeError(op, 'input', `${cinPerGroup * groups} channels in dim ${x.ndim - 3} (weight ${fmt(w.shape)}, groups ${groups})`, x.shape);
  }
  if (cout % groups !== 0) throw shapeError(op, 'weight', `an output channel count divisible by groups ${groups}`, w.shape);
  if (b) {
    sameKind(op, 'bias', b, 'input', x);
    perChannel(op, 'bias', b, cout, `one per output channel of weight ${fmt(w.shape)}`);
  }
  const stride = pair(op, 'stride', o.stride ?? 1, 1);
  const dilation = pair(op, 'dilation', o.dilation ?? 1, 1);
  let padding: [number, number] | 'same' | 'valid';
  if (o.padding === 'same' || o.padding === 'valid') {
    padding = o.padding;
    if (padding === 'same' && (stride[0] !== 1 || stride[1] !== 1)) throw rangeError(op, 'padding', "a number when stride is not 1 ('same' needs stride 1)", padding);
  } else {
    padding = pair(op, 'padding', o.padding ?? 0, 0);
  }
  if (typeof padding !== 'string') {
    for (let d = 0; d < 2; d++) {
      const size = x.shape[x.ndim - 2 + d] + 2 * padding[d];
      const span = dilation[d] * (w.shape[2 + d] - 1) + 1;
      if (size < span) {
        throw shapeError(op, 'input', `spatial size at least ${fmt(w.shape.slice(2).map((k, i) => dilation[i] * (k - 1) + 1 - 2 * (padding as number[])[i]))} for kernel ${fmt(w.shape.slice(2))} with padding ${fmt(padding)} and dilation ${fmt(dilation)}`, x.shape);
      }
    }
  }
  return new Tensor(N.conv2d(x.handle, w.handle, h(b), stride, padding, dilation, groups));
}

/** Options of `convTranspose2d` (PyTorch's `conv_transpose2d` arguments after `bias`). */
export interface ConvTranspose2dFunctionalOptions {
  stride?: number | [number, number];
  /** Removes `dilation * (kernel - 1) - padding` zeros of implicit padding from each side of the output. */
  padding?: number | [number, number];
  /** Extra size added to one side of each output dimension (smaller than the stride or the dilation). */
  outputPadding?: number | [number, number];
  /** Blocked connections: input and output channels are split into `groups`. */
  groups?: number;
  dilation?: number | [number, number];
}

/**
 * 2-d transposed convolution ("deconvolution", the gradient of `conv2d` with respect to its input) of `input`
 * (N, C_in, H, W) or (C_in, H, W) with `weight` (C_in, C_out/groups, kH, kW) and an optional `bias` (C_out),
 * as `torch.nn.functional.conv_transpose2d`. Output size per dimension:
 * (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
 */
export function convTranspose2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose2dFunctionalOptions = {}): Tensor {
  const op = 'convTranspose2d';
  const o = knownOptions(op, options, ['stride', 'padding', 'outputPadding', 'groups', 'dilation']);
  const x = spatialInput(op, input);
  const w = floatArg(op, 'weight', weight);
  const b = optTensorArg(op, 'bias', bias);
  if (w.ndim !== 4) throw shapeError(op, 'weight', 'a 4-d tensor (inChannels, outChannels/groups, kH, kW)', w.shape);
  sameKind(op, 'weight', w, 'input', x);
  const groups = checkInt(op, 'groups', o.groups ?? 1, 1);
  const cin = x.shape[x.ndim - 3];
  if (w.shape[0] !== cin) throw shapeError(op, 'input', `${w.shape[0]} channels in dim ${x.ndim - 3} (weight ${fmt(w.shape)})`, x.shape);
  if (cin % groups !== 0) throw shapeError(op, 'weight', `an input channel count divisible by groups ${groups}`, w.shape);
  const cout = w.shape[1] * groups;
  if (b) {
    sameKind(op, 'bias', b, 'input', x);
    perChannel(op, 'bias', b, cout, `one per output channel: weight ${fmt(w.shape)} with groups ${groups}`);
  }
  const stride = pair(op, 'stride', o.stride ?? 1, 1);
  const padding = pair(op, 'padding', o.padding ?? 0, 0);
  const outputPadding = pair(op, 'outputPadding', o.outputPadding ?? 0, 0);
  const dilation = pair(op, 'dilation', o.dilation ?? 1, 1);
  checkOutputPadding(op, outputPadding, stride, dilation);
  for (let d = 0; d < 2; d++) {
    const size = (x.shape[x.ndim - 2 + d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (w.shape[2 + d] - 1) + outputPadding[d] + 1;
    if (size < 1) throw shapeError(op, 'input', `a spatial size that gives a positive output size with padding ${fmt(padding)} (dimension ${d} would be ${size})`, x.shape);
  }
  return new Tensor(N.convTranspose2d(x.handle, w.handle, h(b), stride, padding, outputPadding, groups, dilation));
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

/** Options of `maxPool2d`. */
export interface MaxPool2dFunctionalOptions {
  /** Default: the kernel size. */
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  /** Round the output size up instead of down. */
  ceilMode?: boolean;
  /** Also return the flat indices of the maxima. */
  returnIndices?: boolean;
}

function poolChecks(op: string, x: Tensor, k: [number, number], padding: [number, number]): void {
  if (padding[0] * 2 > k[0] || padding[1] * 2 > k[1]) throw rangeError(op, 'padding', `at most half the kernel size ${fmt(k)}`, padding);
  const [hh, ww] = x.shape.slice(-2);
  if (hh + 2 * padding[0] < k[0] || ww + 2 * padding[1] < k[1]) throw shapeError(op, 'input', `a padded spatial size of at least the kernel ${fmt(k)}`, x.shape);
}

/** 2-d max pooling, as `torch.nn.functional.max_pool2d`; `returnIndices: true` returns `[output, indices]`. */
export function maxPool2d(input: Tensor, kernelSize: number | [number, number], options: MaxPool2dFunctionalOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool2d(input: Tensor, kernelSize: number | [number, number], options?: MaxPool2dFunctionalOptions): Tensor;
export function maxPool2d(input: Tensor, kernelSize: number | [number, number], options: MaxPool2dFunctionalOptions = {}): Tensor | [Tensor, Tensor] {
  const op = 'maxPool2d';
  const o = knownOptions(op, options, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices']);
  const x = spatialInput(op, input);
  const k = pair(op, 'kernelSize', kernelSize, 1);
  const stride = o.stride === undefined || o.stride === null ? k : pair(op, 'stride', o.stride, 1);
  const padding = pair(op, 'padding', o.padding ?? 0, 0);
  const dilation = pair(op, 'dilation', o.dilation ?? 1, 1);
  poolChecks(op, x, k, padding);
  const r = N.maxPool2d(x.handle, k, stride, padding, dilation, boolOpt(op, 'ceilMode', o.ceilMode, false), boolOpt(op, 'returnIndices', o.returnIndices, false));
  return Array.isArray(r) ? [new Tensor(r[0]), new Tensor(r[1])] : new Tensor(r);
}

/** Options of `avgPool2d`. */
export interface AvgPool2dFunctionalOptions {
  /** Default: the kernel size. */
  stride?: number | [number, number];
  padding?: number | [number, number];
  ceilMode?: boolean;
  /** Count the zero padding in the average (default true). */
  countIncludePad?: boolean;
  /** Divide by this instead of the window size. */
  divisorOverride?: number;
}

/** 2-d average pooling, as `torch.nn.functional.avg_pool2d`. */
export function avgPool2d(input: Tensor, kernelSize: number | [number, number], options: AvgPool2dFunctionalOptions = {}): Tensor {
  const op = 'avgPool2d';
  const o = knownOptions(op, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  const x = spatialInput(op, input);
  const k = pair(op, 'kernelSize', kernelSize, 1);
  const stride = o.stride === undefined || o.stride === null ? k : pair(op, 'stride', o.stride, 1);
  const padding = pair(op, 'padding', o.padding ?? 0, 0);
  poolChecks(op, x, k, padding);
  const div = o.divisorOverride === undefined || o.divisorOverride === null ? null : checkInt(op, 'divisorOverride', o.divisorOverride, 1);
  return new Tensor(N.avgPool2d(x.handle, k, stride, padding, boolOpt(op, 'ceilMode', o.ceilMode, false), boolOpt(op, 'countIncludePad', o.countIncludePad, true), div));
}

/** Average pooling to a fixed output size (`null` in a pair keeps that input size), as `torch.nn.functional.adaptive_avg_pool2d`. */
export function adaptiveAvgPool2d(input: Tensor, outputSize: number | [number | null, number | null]): Tensor {
  const op = 'adaptiveAvgPool2d';
  const x = spatialInput(op, input);
  const pairIn = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  if (!Array.isArray(pairIn) || pairIn.length !== 2) throw typeError(op, 'outputSize', 'an integer or a pair of integers (or null)', outputSize);
  const size = pairIn.map((s, i) => (s === null ? x.shape[x.ndim - 2 + i] : checkInt(op, `outputSize[${i}]`, s, 1)));
  return new Tensor(N.adaptiveAvgPool2d(x.handle, size));
}

/** How `interpolate` resamples: PyTorch's 2-d modes. */
export type InterpolateMode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic' | 'area';

/** Options of `interpolate` (give `size` or `scaleFactor`). */
export interface InterpolateOptions {
  /** The output's height and width (one number for both). */
  size?: number | [number, number];
  /** The factor per dimension (one number for both); the output size is floor(in · factor). */
  scaleFactor?: number | [number, number];
  /** The resampling (default `'nearest'`). */
  mode?: InterpolateMode;
  /** For `bilinear` and `bicubic`: align the corner pixels' centres instead of their edges (default false). */
  alignCorners?: boolean;
  /** With `scaleFactor`: map positions by in/out sizes instead of by the factor given (default false). */
  recomputeScaleFactor?: boolean;
}

/**
 * Resamples `input` (N, C, H, W) to a new height and width, as `torch.nn.functional.interpolate`: nearest,
 * nearest-exact, bilinear, bicubic or area; to `size`, or by `scaleFactor` (then, as PyTorch, the kernels map
 * positions by the factor given unless `recomputeScaleFactor`). Differentiable.
 */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const op = 'interpolate';
  const plan = interpolatePlan(op, options);
  const x = floatArg(op, 'input', input);
  if (x.ndim !== 4) throw shapeError(op, 'input', 'a 4-d tensor (N, C, H, W) (the 1-d and 3-d modes are not available)', x.shape);
  let size: number[];
  let scales: [number | null, number | null] = [null, null];
  if (plan.size) {
    size = plan.size;
  } else {
    const f = plan.scaleFactor as [number, number];
    size = [x.shape[2], x.shape[3]].map((n, i) => Math.floor(n * f[i]));
    if (size.some((n) => n < 1)) throw shapeError(op, 'input', `a spatial size that scaleFactor ${fmt(f)} keeps at least 1 (the output would be ${fmt(size)})`, x.shape);
    if (!plan.recomputeScaleFactor && plan.mode !== 'area') scales = f;
  }
  return new Tensor(N.interpolate(x.handle, plan.mode, size, scales[0], scales[1], plan.alignCorners));
}

/** @internal `interpolate`'s options, checked (also by `nn.Upsample` when it is made), under the name `op`. */
export function interpolatePlan(op: string, options: InterpolateOptions): { mode: InterpolateMode; alignCorners: boolean; size?: [number, number]; scaleFactor?: [number, number]; recomputeScaleFactor: boolean } {
  const o = knownOptions(op, options, ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor']);
  const mode = checkOneOf(op, 'mode', o.mode ?? 'nearest', ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area'] as const);
  if (o.alignCorners !== undefined && mode !== 'bilinear' && mode !== 'bicubic') {
    throw typeError(op, 'alignCorners', `no value with mode '${mode}' (only 'bilinear' and 'bicubic' take it)`, o.alignCorners);
  }
  const alignCorners = boolOpt(op, 'alignCorners', o.alignCorners, false);
  if ((o.size === undefined) === (o.scaleFactor === undefined)) throw typeError(op, 'options', 'exactly one of size and scaleFactor', options);
  const recomputeScaleFactor = boolOpt(op, 'recomputeScaleFactor', o.recomputeScaleFactor, false);
  if (o.size !== undefined) {
    if (o.recomputeScaleFactor !== undefined) throw typeError(op, 'recomputeScaleFactor', 'no value with size (it applies to scaleFactor)', o.recomputeScaleFactor);
    return { mode, alignCorners, size: pair(op, 'size', o.size, 1), recomputeScaleFactor };
  }
  const f = typeof o.scaleFactor === 'number' ? [o.scaleFactor, o.scaleFactor] : o.scaleFactor;
  if (!Array.isArray(f) || f.length !== 2) throw typeError(op, 'scaleFactor', 'a positive number or a pair of them', o.scaleFactor);
  f.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw rangeError(op, `scaleFactor[${i}]`, 'a finite number > 0', v);
  });
  return { mode, alignCorners, scaleFactor: [f[0], f[1]], recomputeScaleFactor };
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
