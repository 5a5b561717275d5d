/** The layers: PyTorch's names and options, native torch::nn modules underneath. */
import { native, type ModuleHandle } from '../native';
import { Tensor } from '../tensor';
import { checkInt, checkNumber, rangeError, typeError } from '../validate';
import { Module } from './module';

const N = native();

function create(kind: string, options: Record<string, unknown>): ModuleHandle {
  return N.moduleCreate(kind, options);
}

/** Options of Conv2d. */
export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  /** Learnable bias (default true). */
  bias?: boolean;
}

/** 2-d convolution over (N, C, H, W). Weights use He normal initialisation (fan_out), bias zero. */
export class Conv2d extends Module {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: Conv2dOptions = {}) {
    checkInt('Conv2d', 'inChannels', inChannels, 1);
    checkInt('Conv2d', 'outChannels', outChannels, 1);
    checkInt('Conv2d', 'kernelSize', kernelSize, 1);
    super(create('conv2d', { inChannels, outChannels, kernelSize, ...options }));
  }
}

/** Fully connected layer y = x Wᵀ + b (PyTorch's default initialisation). */
export class Linear extends Module {
  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean } = {}) {
    checkInt('Linear', 'inFeatures', inFeatures, 1);
    checkInt('Linear', 'outFeatures', outFeatures, 1);
    super(create('linear', { inFeatures, outFeatures, ...options }));
  }
}

/** Options of the batch-normalisation layers. */
export interface BatchNormOptions {
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  eps?: number;
  /** Learnable scale and shift (default true). */
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Batch normalisation over (N, C). */
export class BatchNorm1d extends Module {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    checkInt('BatchNorm1d', 'numFeatures', numFeatures, 1);
    super(create('batchNorm1d', { numFeatures, ...options }));
  }
}

/** Batch normalisation over (N, C, H, W). */
export class BatchNorm2d extends Module {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    checkInt('BatchNorm2d', 'numFeatures', numFeatures, 1);
    super(create('batchNorm2d', { numFeatures, ...options }));
  }
}

/** Options of the IC layer. */
export interface ICOptions {
  /** Dropout rate after normalisation, in [0, 1); 0 makes the layer exactly BatchNorm. */
  dropRate?: number;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  eps?: number;
  /** Learnable scale and shift (default true, as in the paper's parameter-matched comparison). */
  affine?: boolean;
  /** 2 for (N, C, H, W) input (default), 1 for (N, C). */
  dims?: 1 | 2;
}

/**
 * The Independent-Component layer of Chen et al.: BatchNorm followed by Dropout, placed before a weight
 * layer. Training: batch statistics, affine, running statistics, then dropout scaled by 1/(1 - dropRate).
 * Evaluation: running statistics, no dropout. Runs as one fused op (CPU and CUDA) where possible.
 */
export class IC extends Module {
  constructor(channels: number, options: ICOptions = {}) {
    checkInt('IC', 'channels', channels, 1);
    const dropRate = options.dropRate ?? 0;
    checkNumber('IC', 'dropRate', dropRate);
    if (dropRate < 0 || dropRate >= 1) throw rangeError('IC', 'dropRate', 'a number in [0, 1)', dropRate);
    const dims = options.dims ?? 2;
    if (dims !== 1 && dims !== 2) throw typeError('IC', 'dims', '1 or 2', dims);
    super(create(dims === 1 ? 'ic1d' : 'ic2d', { channels, dropRate, momentum: options.momentum, eps: options.eps, affine: options.affine }));
  }
}

/** Dropout: zeroes elements with probability p in training and scales the rest by 1/(1-p). */
export class Dropout extends Module {
  constructor(p = 0.5) {
    checkNumber('Dropout', 'p', p);
    if (p < 0 || p > 1) throw rangeError('Dropout', 'p', 'a number in [0, 1]', p);
    super(create('dropout', { p }));
  }
}

/** max(x, 0). */
export class ReLU extends Module {
  constructor(options: { inplace?: boolean } = {}) {
    super(create('relu', options));
  }
}

/** 2-d max pooling (stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  constructor(kernelSize: number, options: { stride?: number; padding?: number } = {}) {
    checkInt('MaxPool2d', 'kernelSize', kernelSize, 1);
    super(create('maxPool2d', { kernelSize, ...options }));
  }
}

/** 2-d average pooling (stride defaults to the kernel size). */
export class AvgPool2d extends Module {
  constructor(kernelSize: number, options: { stride?: number; padding?: number } = {}) {
    checkInt('AvgPool2d', 'kernelSize', kernelSize, 1);
    super(create('avgPool2d', { kernelSize, ...options }));
  }
}

/** Average pooling to a fixed output size (1 gives global average pooling). */
export class AdaptiveAvgPool2d extends Module {
  constructor(outputSize: number | [number, number] = 1) {
    const [h, w] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
    super(create('adaptiveAvgPool2d', { outputHeight: h, outputWidth: w }));
  }
}

/** Flattens dimensions startDim..endDim (default 1..-1). */
export class Flatten extends Module {
  constructor(startDim = 1, endDim = -1) {
    super(create('flatten', { startDim, endDim }));
  }
}

/** Returns its input. */
export class Identity extends Module {
  constructor() {
    super(create('identity', {}));
  }
}

/** The parameter-free "option A" shortcut of He et al.'s CIFAR ResNets: subsample and zero-pad channels. */
export class PadShortcut extends Module {
  constructor(stride: number, outChannels: number) {
    checkInt('PadShortcut', 'stride', stride, 1);
    checkInt('PadShortcut', 'outChannels', outChannels, 1);
    super(create('padShortcut', { stride, outChannels }));
  }
}

/** Named children, as an array of [name, module] pairs or an object; plain arrays are numbered "0", "1", ... */
export type Children = Module[] | [string, Module][] | Record<string, Module>;

function named(op: string, children: Children, firstIndex = 0): [string, ModuleHandle][] {
  let pairs: [string, Module][];
  if (Array.isArray(children)) {
    pairs = children.map((c, i) => (Array.isArray(c) ? c : [String(firstIndex + i), c]));
  } else if (children && typeof children === 'object') {
    pairs = Object.entries(children);
  } else {
    throw typeError(op, 'children', 'an array of modules, [name, module] pairs or an object', children);
  }
  return pairs.map(([k, m], i) => {
    if (!(m instanceof Module)) throw typeError(op, `children[${i}]`, 'a Module', m);
    return [k, m.handle];
  });
}

/** Runs its children in order. */
export class Sequential extends Module {
  constructor(children: Children) {
    super(N.sequential(named('Sequential', children)));
  }
}

/**
 * A residual unit: `post(body(x) + shortcut(x))`. Body and post layers are named children of the unit
 * itself (`conv1`, `bn1`, ...); the shortcut is `downsample`; no shortcut means the identity. Plain arrays
 * are numbered in one sequence: body "0".."k-1", then post "k", "k+1", ... (so the names never collide).
 */
export class Residual extends Module {
  constructor(body: Children, shortcut: Module | null = null, post: Children = []) {
    if (shortcut !== null && !(shortcut instanceof Module)) throw typeError('Residual', 'shortcut', 'a Module or null', shortcut);
    const bodyPairs = named('Residual', body);
    super(N.residual(bodyPairs, shortcut ? shortcut.handle : null, named('Residual', post, bodyPairs.length)));
  }
}

/** Options of the functional IC layer. */
export interface ICLayerOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
  dropRate?: number;
  /** `auto` (fused where available), `fused` (error if not available) or `composite` (batch_norm + dropout). */
  impl?: 'auto' | 'fused' | 'composite';
}

/** The IC layer as a function: batch normalisation then dropout, with autograd. */
export function icLayer(input: Tensor, options: ICLayerOptions = {}): Tensor {
  if (!(input instanceof Tensor)) throw typeError('icLayer', 'input', 'a Tensor', input);
  const h = (t: Tensor | null | undefined) => (t ? t.handle : null);
  return new Tensor(
    N.icLayer(input.handle, h(options.weight), h(options.bias), h(options.runningMean), h(options.runningVar), options.training ?? true,
      options.momentum ?? 0.1, options.eps ?? 1e-5, options.dropRate ?? 0, options.impl ?? 'auto'),
  );
}
