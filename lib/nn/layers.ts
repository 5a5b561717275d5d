/**
 * The layers: PyTorch's names, options and initialisation, native LibTorch modules underneath (native/nn/).
 * Containers (`Sequential`, `Residual`) take any modules, including modules written in JavaScript; when all
 * their children are native, their whole forward runs in one native call.
 */
import { generatorHandle, type Generator } from '../generator';
import { native, type ModuleHandle } from '../native';
import { Tensor } from '../tensor';
import { checkInt, checkNumber, knownOptions, rangeError, typeError } from '../validate';
import { Module, markNativeForward } from './module';

const N = native();

/** A built-in layer: one native module. */
abstract class NativeLayer extends Module {
  constructor(kind: string, options: Record<string, unknown>) {
    super();
    // The native side reads undefined and null alike as "the default": null is refused here, since in PyTorch
    // None means something of its own for some of these options (BatchNorm's momentum: a cumulative average).
    for (const [k, v] of Object.entries(options)) {
      if (v !== null || k === 'generator') continue;
      const why = k === 'momentum' ? "a number in [0, 1] (null, PyTorch's cumulative moving average, is not supported)" : 'a value or no option at all';
      throw typeError(new.target.name, k, why, v);
    }
    this.bindNative(N.moduleCreate(kind, options));
  }

  /** Runs the layer on `input`. */
  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw typeError('forward', 'input', 'a Tensor', input);
    return new Tensor(N.moduleForward(this.nativeLeaf(), input.handle));
  }

  /**
   * @internal One of the layer's own parameters or buffers by its state-dict name (`conv.weight`), as a new
   * handle sharing its memory and gradient (like `namedParameters()`), or null when the layer has none.
   */
  protected ownTensor(name: string): Tensor | null {
    if (this.isDisposed) throw new TypeError(`${this.constructor.name}.${name}: the module has been disposed`);
    const leaf = this.nativeLeaf();
    let found: Tensor | null = null;
    for (const [k, h] of [...N.moduleNamedParameters(leaf), ...N.moduleNamedBuffers(leaf)]) {
      if (k === name && found === null) found = new Tensor(h);
      else h.dispose();
    }
    return found;
  }
}
markNativeForward(NativeLayer.prototype.forward);

/**
 * A layer with PyTorch's `weight` and `bias` attributes (each a new handle sharing the parameter's memory and
 * gradient: read it inside `tidy`, or dispose it).
 */
abstract class WeightedLayer extends NativeLayer {
  /** The learnable weight (null for a normalisation layer without `affine`). */
  get weight(): Tensor | null {
    return this.ownTensor('weight');
  }
  /** The learnable bias, or null (`bias: false`, or no `affine`). */
  get bias(): Tensor | null {
    return this.ownTensor('bias');
  }
}

/** A normalisation layer: `weight`, `bias` and the running statistics under PyTorch's attribute names. */
abstract class NormLayer extends WeightedLayer {
  /** The running mean (null without `trackRunningStats`). */
  get runningMean(): Tensor | null {
    return this.ownTensor('running_mean');
  }
  /** The running (unbiased) variance (null without `trackRunningStats`). */
  get runningVar(): Tensor | null {
    return this.ownTensor('running_var');
  }
  /** How many training batches updated the running statistics (an int64 scalar). */
  get numBatchesTracked(): Tensor | null {
    return this.ownTensor('num_batches_tracked');
  }
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

/**
 * 2-d convolution over (N, C, H, W). PyTorch's default initialisation: weight and bias uniform in
 * ±1/√fan_in (kaiming-uniform with a = √5). The ResNet builders re-initialise their convolutions with He
 * normal (fan-out), as torchvision does; `nn.kaimingNormal_` does that for your own networks.
 */
export class Conv2d extends WeightedLayer {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: Conv2dOptions = {}) {
    checkInt('Conv2d', 'inChannels', inChannels, 1);
    checkInt('Conv2d', 'outChannels', outChannels, 1);
    checkInt('Conv2d', 'kernelSize', kernelSize, 1);
    knownOptions('Conv2d', options, ['stride', 'padding', 'dilation', 'groups', 'bias']);
    super('conv2d', { inChannels, outChannels, kernelSize, ...options });
  }
}

/** Fully connected layer y = x Wᵀ + b (PyTorch's default initialisation, uniform in ±1/√inFeatures). */
export class Linear extends WeightedLayer {
  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean } = {}) {
    checkInt('Linear', 'inFeatures', inFeatures, 1);
    checkInt('Linear', 'outFeatures', outFeatures, 1);
    knownOptions('Linear', options, ['bias']);
    super('linear', { inFeatures, outFeatures, ...options });
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

const BATCHNORM_OPTIONS = ['momentum', 'eps', 'affine', 'trackRunningStats'];

/** Batch normalisation over (N, C). */
export class BatchNorm1d extends NormLayer {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    checkInt('BatchNorm1d', 'numFeatures', numFeatures, 1);
    knownOptions('BatchNorm1d', options, BATCHNORM_OPTIONS);
    super('batchNorm1d', { numFeatures, ...options });
  }
}

/** Batch normalisation over (N, C, H, W). */
export class BatchNorm2d extends NormLayer {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    checkInt('BatchNorm2d', 'numFeatures', numFeatures, 1);
    knownOptions('BatchNorm2d', options, BATCHNORM_OPTIONS);
    super('batchNorm2d', { numFeatures, ...options });
  }
}

/**
 * Batch normalisation over (N, C, D, H, W) (`torch.nn.BatchNorm3d`): batch statistics in training (updating the
 * running mean and unbiased variance with `momentum`), the running ones in evaluation. State-dict keys `weight`,
 * `bias`, `running_mean`, `running_var` and `num_batches_tracked`, as PyTorch's.
 *
 * ```ts
 * const bn = new nn.BatchNorm3d(16, { momentum: 0.05 });
 * const y = bn.forward(volumes); // (N, 16, D, H, W)
 * ```
 */
export class BatchNorm3d extends NormLayer {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    checkInt('BatchNorm3d', 'numFeatures', numFeatures, 1);
    knownOptions('BatchNorm3d', options, BATCHNORM_OPTIONS);
    super('batchNorm3d', { numFeatures, ...options });
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
  /**
   * Draw the dropout masks from this generator instead of the process-wide default one (then the layer runs
   * as batch_norm followed by dropout rather than the fused kernel).
   */
  generator?: Generator;
}

/**
 * The Independent-Component layer of Chen et al.: BatchNorm followed by Dropout, placed before a weight
 * layer. Training: batch statistics, affine, running statistics, then dropout scaled by 1/(1 - dropRate).
 * Evaluation: running statistics, no dropout. Runs as one fused op (CPU and CUDA) where possible.
 */
export class IC extends NormLayer {
  constructor(channels: number, options: ICOptions = {}) {
    checkInt('IC', 'channels', channels, 1);
    knownOptions('IC', options, ['dropRate', 'momentum', 'eps', 'affine', 'dims', 'generator']);
    const dropRate = options.dropRate ?? 0;
    checkNumber('IC', 'dropRate', dropRate);
    if (dropRate < 0 || dropRate >= 1) throw rangeError('IC', 'dropRate', 'a number in [0, 1)', dropRate);
    const dims = options.dims ?? 2;
    if (dims !== 1 && dims !== 2) throw typeError('IC', 'dims', '1 or 2', dims);
    const generator = generatorHandle('IC', options.generator);
    super(dims === 1 ? 'ic1d' : 'ic2d', { channels, dropRate, momentum: options.momentum, eps: options.eps, affine: options.affine, generator });
  }
}

/** Dropout: zeroes elements with probability p in training and scales the rest by 1/(1-p). */
export class Dropout extends NativeLayer {
  constructor(p = 0.5, options: { generator?: Generator } = {}) {
    checkNumber('Dropout', 'p', p);
    if (p < 0 || p > 1) throw rangeError('Dropout', 'p', 'a number in [0, 1]', p);
    knownOptions('Dropout', options, ['generator']);
    super('dropout', { p, generator: generatorHandle('Dropout', options.generator) });
  }
}

/** max(x, 0). */
export class ReLU extends NativeLayer {
  constructor(options: { inplace?: boolean } = {}) {
    knownOptions('ReLU', options, ['inplace']);
    super('relu', options);
  }
}

/** 2-d max pooling (stride defaults to the kernel size). */
export class MaxPool2d extends NativeLayer {
  constructor(kernelSize: number, options: { stride?: number; padding?: number; ceilMode?: boolean } = {}) {
    checkInt('MaxPool2d', 'kernelSize', kernelSize, 1);
    knownOptions('MaxPool2d', options, ['stride', 'padding', 'ceilMode']);
    super('maxPool2d', { kernelSize, ...options });
  }
}

/** 2-d average pooling (stride defaults to the kernel size). */
export class AvgPool2d extends NativeLayer {
  constructor(kernelSize: number, options: { stride?: number; padding?: number; ceilMode?: boolean } = {}) {
    checkInt('AvgPool2d', 'kernelSize', kernelSize, 1);
    knownOptions('AvgPool2d', options, ['stride', 'padding', 'ceilMode']);
    super('avgPool2d', { kernelSize, ...options });
  }
}

/** Average pooling to a fixed output size (1 gives global average pooling; `null` in a pair keeps that input size). */
export class AdaptiveAvgPool2d extends NativeLayer {
  constructor(outputSize: number | [number | null, number | null] = 1) {
    const pair = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
    if (!Array.isArray(pair) || pair.length !== 2) throw typeError('AdaptiveAvgPool2d', 'outputSize', 'an integer or a pair of integers (or null)', outputSize);
    const [h, w] = pair.map((s, i) => (s === null ? 0 : checkInt('AdaptiveAvgPool2d', `outputSize[${i}]`, s, 1)));
    super('adaptiveAvgPool2d', { outputHeight: h, outputWidth: w });
  }
}

/** Flattens dimensions startDim..endDim (default 1..-1). */
export class Flatten extends NativeLayer {
  constructor(startDim = 1, endDim = -1) {
    super('flatten', { startDim, endDim });
  }
}

/** Returns its input. */
export class Identity extends NativeLayer {
  constructor() {
    super('identity', {});
  }
}

/** The parameter-free "option A" shortcut of He et al.'s CIFAR ResNets: subsample and zero-pad channels. */
export class PadShortcut extends NativeLayer {
  constructor(stride: number, outChannels: number) {
    checkInt('PadShortcut', 'stride', stride, 1);
    checkInt('PadShortcut', 'outChannels', outChannels, 1);
    super('padShortcut', { stride, outChannels });
  }
}

/** Named children, as an array of [name, module] pairs or an object; plain arrays are numbered "0", "1", ... */
export type Children = Module[] | [string, Module][] | Record<string, Module>;

function named(op: string, children: Children, firstIndex = 0): [string, Module][] {
  let pairs: [string, Module][];
  if (Array.isArray(children)) {
    pairs = children.map((c, i) => (Array.isArray(c) ? c : [String(firstIndex + i), c]));
  } else if (children instanceof Module) {
    // A single module where a list is meant (Residual(a, ...)): it would take the module's own fields as children.
    throw typeError(op, 'children', 'an array of modules ([a, b], not a, b), [name, module] pairs or an object', children);
  } else if (children && typeof children === 'object') {
    pairs = Object.entries(children);
  } else {
    throw typeError(op, 'children', 'an array of modules, [name, module] pairs or an object', children);
  }
  const seen = new Set<string>();
  pairs.forEach(([k, m], i) => {
    if (typeof k !== 'string' || !k || k.includes('.')) throw typeError(op, `the name of children[${i}]`, 'a non-empty string without "."', k);
    if (seen.has(k)) throw new TypeError(`${op}: child name "${k}" is used twice`);
    seen.add(k);
    if (!(m instanceof Module)) throw typeError(op, `children[${i}]`, 'a Module', m);
    if (m.isDisposed) throw typeError(op, `children[${i}]`, 'a live Module (this one has been disposed)', m);
  });
  return pairs;
}

/**
 * Runs its children in order. As in PyTorch, `new Sequential(a, b, c)` numbers them "0", "1", "2"; one array
 * (`[a, b]`), [name, module] pairs or an object (PyTorch's OrderedDict form) may be given instead.
 */
export class Sequential extends Module {
  constructor(...modules: Module[]);
  constructor(children?: Children);
  constructor(...args: unknown[]) {
    super();
    this.setKind('sequential');
    const children = args[0] instanceof Module ? (args as Module[]) : (args[0] as Children | undefined) ?? [];
    if (!(args[0] instanceof Module) && args.length > 1) {
      throw typeError('Sequential', 'arguments', 'modules (Sequential(a, b)) or one array, [name, module] pairs or object', args);
    }
    for (const [k, m] of named('Sequential', children)) this.registerModule(k, m);
  }

  /** Appends a child, named by its position. */
  append(module: Module): this {
    const [[k, m]] = named('Sequential.append', [[String(this.namedChildren().length), module]]);
    this.registerModule(k, m);
    return this;
  }

  /** Each child's forward in turn. */
  forward(input: Tensor): Tensor {
    let y: Tensor = input;
    for (const m of this.children()) y = m.forward(y);
    return y;
  }

  /** @internal The native container over the children's native layers. */
  protected buildNative(children: Map<string, ModuleHandle>): ModuleHandle {
    return N.sequential([...children]);
  }
}
markNativeForward(Sequential.prototype.forward);

/**
 * A residual unit: `post(body(x) + shortcut(x))`. Body and post layers are named children of the unit
 * itself (`conv1`, `bn1`, ...); the shortcut is `downsample`; no shortcut means the identity. Plain arrays
 * are numbered in one sequence: body "0".."k-1", then post "k", "k+1", ... (so the names never collide).
 */
export class Residual extends Module {
  private readonly bodyNames: string[];
  private readonly postNames: string[];

  constructor(body: Children, shortcut: Module | null = null, post: Children = []) {
    if (shortcut !== null && !(shortcut instanceof Module)) throw typeError('Residual', 'shortcut', 'a Module or null', shortcut);
    const bodyPairs = named('Residual', body);
    const postPairs = named('Residual', post, bodyPairs.length);
    const all = [...bodyPairs.map(([k]) => k), ...(shortcut ? ['downsample'] : []), ...postPairs.map(([k]) => k)];
    const dup = all.find((k, i) => all.indexOf(k) !== i);
    if (dup !== undefined) throw new TypeError(`Residual: child name "${dup}" is used twice`);
    if (shortcut?.isDisposed) throw typeError('Residual', 'shortcut', 'a live Module (this one has been disposed)', shortcut);
    super();
    this.setKind('residual');
    this.bodyNames = bodyPairs.map(([k]) => k);
    this.postNames = postPairs.map(([k]) => k);
    for (const [k, m] of bodyPairs) this.registerModule(k, m);
    if (shortcut) this.registerModule('downsample', shortcut);
    for (const [k, m] of postPairs) this.registerModule(k, m);
  }

  /** post(body(x) + shortcut(x)). */
  forward(input: Tensor): Tensor {
    const child = (k: string) => (this as unknown as Record<string, Module | null>)[k];
    let y: Tensor = input;
    for (const k of this.bodyNames) y = child(k)?.forward(y) ?? y;
    const shortcut = child('downsample');
    const s: Tensor = shortcut ? shortcut.forward(input) : input;
    const a = y.shape, b = s.shape;
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
      throw new RangeError(`forward: residual body gives shape [${a.join(', ')}] but the shortcut gives [${b.join(', ')}]; use a projection shortcut where the stride or width changes`);
    }
    y = y.add(s);
    for (const k of this.postNames) y = child(k)?.forward(y) ?? y;
    return y;
  }

  /** @internal The native unit over the children's native layers. */
  protected buildNative(children: Map<string, ModuleHandle>): ModuleHandle {
    const pick = (names: string[]) => names.filter((k) => children.has(k)).map((k): [string, ModuleHandle] => [k, children.get(k) as ModuleHandle]);
    return N.residual(pick(this.bodyNames), children.get('downsample') ?? null, pick(this.postNames));
  }
}
markNativeForward(Residual.prototype.forward);
