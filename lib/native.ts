/**
 * The one typed declaration of the native addon (build/Release/ictorch.node) and its loader.
 * Nothing else in ictorch touches the raw binding.
 */
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import type { ImageTransform } from './data/jpeg';
import type { AnyTypedArray, DType } from './dtype';

/** An opaque native handle that owns one at::Tensor. */
export interface TensorHandle {
  dispose(): void;
  isDisposed(): boolean;
}

type H = TensorHandle;

/** The optimisers the addon implements (native/optim.h). */
export type OptimizerKind = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad' | 'adamax' | 'nadam' | 'radam' | 'adadelta';

/** A parameter group as the addon reads it (absent hyper-parameters take the native defaults). */
export interface NativeParamGroup {
  params: TensorHandle[];
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  betas?: [number, number];
  eps?: number;
  amsgrad?: boolean;
  maximize?: boolean;
  alpha?: number;
  centered?: boolean;
  lrDecay?: number;
  initialAccumulatorValue?: number;
  rho?: number;
  momentumDecay?: number;
  decoupledWeightDecay?: boolean;
}

/** What every native handle has (native/handle.h): dispose() is refused while a call in flight uses it. */
export interface NativeHandle {
  dispose(): void;
  isDisposed(): boolean;
}
/** An opaque native handle that owns an optimiser (SGD, Adam, AdamW). */
export type OptimizerHandle = NativeHandle;
/** An opaque native handle that owns a training step (and its CUDA graph). */
export type TrainStepHandle = NativeHandle;
/** An opaque native handle that owns one native layer (native/nn: a layer or a container of layers). */
export type ModuleHandle = NativeHandle;
/** A c10d process group (native/distributed.cc). */
export interface ProcessGroupHandle extends NativeHandle {
  rank(): number;
  size(): number;
  backend(): string;
}
/** A native random generator of one's own. */
export interface GeneratorHandle extends NativeHandle {
  manualSeed(seed: number): void;
  initialSeed(): number;
  getState(): TensorHandle;
  setState(state: TensorHandle): void;
  device(): string;
}
type Scalar = number | boolean | bigint;
type Opt<T> = T | null | undefined;
/** One index item: integer, null (new axis), '...', boolean, slice or index tensor. */
export type NativeIndex = number | null | '...' | boolean | { start?: number | null; stop?: number | null; step?: number | null } | H;

/** An opaque native handle that owns the image decoder's threads. */
export type DecoderHandle = object;

/** A per-sample image transform, as the native decoder takes it (defined in lib/data/jpeg.ts). */
export type NativeImageTransform = ImageTransform;

/** An image of a batch that the native decoder did not write. */
export interface NativeDecodeFailure {
  /** Position in the files list given to `jpegDecodeBatch`. */
  index: number;
  /** notJpeg: not a JPEG (decode it another way); corrupt: truncated or undecodable; error: unreadable, too large...; cancelled. */
  status: 'notJpeg' | 'corrupt' | 'error' | 'cancelled';
  message: string;
}

/** Device and library facts reported by the addon. */
export interface NativeInfo {
  torchVersion: string;
  builtWithCuda: boolean;
  cudaAvailable: boolean;
  cudnnAvailable: boolean;
  cudnnVersion: number | null;
  cudaDevices: { index: number; name: string; totalMemory: number; capability: string; multiProcessors: number }[];
  numThreads: number;
  parallelInfo: string;
  buildConfig: string;
  dtypes: string[];
}

/** Live tensors per device and CUDA allocator statistics. */
export interface NativeMemoryStats {
  devices: Record<string, { tensors: number; bytes: number }>;
  /** Tensor handles freed by the garbage collector rather than dispose()/tidy: each one a missed disposal. */
  collected: number;
  cuda: { device: string; allocated: number; reserved: number; peakAllocated: number }[];
}

/** The native surface, function by function. */
export interface NativeBinding {
  TensorHandle: new () => H;
  fromTypedArray(data: AnyTypedArray, shape: number[], dtype: Opt<DType>, device: Opt<string>, requiresGrad: boolean): H;
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: DType): H;
  full(shape: number[], value: Scalar, dtype: Opt<DType>, device: Opt<string>, requiresGrad: boolean): H;
  empty(shape: number[], dtype: Opt<DType>, device: Opt<string>, requiresGrad: boolean, memoryFormat: Opt<string>): H;
  arange(start: number, end: number, step: number, dtype: Opt<DType>, device: Opt<string>, requiresGrad: boolean): H;
  linspace(start: number, end: number, steps: number, dtype: Opt<DType>, device: Opt<string>, requiresGrad: boolean): H;
  eye(n: number, m: Opt<number>, dtype: Opt<DType>, device: Opt<string>, requiresGrad: boolean): H;
  rand(shape: number[], dtype: Opt<DType>, device: Opt<string>, requiresGrad: boolean): H;
  randn(shape: number[], dtype: Opt<DType>, device: Opt<string>, requiresGrad: boolean): H;
  randint(low: number, high: number, shape: number[], dtype: Opt<DType>, device: Opt<string>): H;

  toArray(t: H): AnyTypedArray;
  data(t: H): Promise<AnyTypedArray>;
  item(t: H): number | boolean;
  shape(t: H): number[];
  strides(t: H): number[];
  dtype(t: H): DType;
  device(t: H): string;
  isContiguous(t: H, memoryFormat: Opt<string>): boolean;
  memoryFormat(t: H): 'contiguous' | 'channelsLast';
  /** [storage offset, storage size in elements, storage identity]. */
  storageInfo(t: H): [number, number, number];

  unary(op: string, t: H): H;
  binary(op: string, a: H, b: H | Scalar): H;
  reduce(op: string, t: H, dim: Opt<number | number[]>, keepdim: boolean, unbiased: boolean, p?: number): H;
  sortOp(op: 'topk', t: H, dim: number, k: number, largest: boolean, sorted: boolean): [H, H];
  sortOp(op: 'sort' | 'argsort', t: H, dim: number, descending: boolean, stable: boolean): [H, H];
  sortOp(op: 'median' | 'nanmedian' | 'mode' | 'cummax' | 'cummin' | 'kthvalue', t: H, dim: number, keepdim: boolean, k?: number): [H, H];
  shapeOp(op: string, t: H, ...args: unknown[]): H;
  index(t: H, indices: NativeIndex[]): H;
  indexPut_(t: H, indices: NativeIndex[], value: H | Scalar): void;
  indexSelect(t: H, dim: number, index: H): H;
  maskedSelect(t: H, mask: H): H;
  gather(t: H, dim: number, index: H): H;
  indexOp(op: string, t: H, dim: number, index: H, source: H | Scalar, alpha?: Scalar): H | undefined;
  maskedOp(op: string, t: H, mask: H, value: H | Scalar): H | undefined;
  nonzero(t: H, asTuple: boolean): H | H[];
  unique(t: H, sorted: boolean, returnInverse: boolean, returnCounts: boolean, dim: Opt<number>): [H, H, H];
  bincount(t: H, weights: Opt<H>, minlength: number): H;
  histc(t: H, bins: number, min: number, max: number): H;
  searchsorted(sortedSequence: H, values: H | Scalar, right: boolean, outInt32: boolean): H;
  unbind(t: H, dim: number): H[];
  isclose(a: H, b: H, rtol: number, atol: number, equalNan: boolean): H;
  lerp(t: H, end: H, weight: H | Scalar): H;
  cat(ts: H[], dim: number): H;
  einsum(equation: string, operands: H[]): H;
  /** torch.linalg: (function name, its arguments in PyTorch's order, options spread out): one tensor or a tuple. */
  linalg(op: string, ...args: unknown[]): H | H[];
  stack(ts: H[], dim: number): H;
  split(t: H, sizes: number | number[], dim: number): H[];
  chunk(t: H, chunks: number, dim: number): H[];
  where(cond: H, a: H | Scalar, b: H | Scalar): H;
  clamp(t: H, min: Opt<number>, max: Opt<number>, inplace: boolean): H | undefined;
  to(t: H, dtype: Opt<DType>, device: Opt<string>, nonBlocking: boolean, copy: boolean, memoryFormat: Opt<string>): H;
  alias(t: H): H;

  setRequiresGrad(t: H, flag: boolean): void;
  requiresGrad(t: H): boolean;
  isLeaf(t: H): boolean;
  retainGrad(t: H): void;
  retainsGrad(t: H): boolean;
  gradFn(t: H): string | null;
  grad(t: H): H | null;
  zeroGrad(t: H, setToNone: boolean): void;
  setGrad(t: H, grad: H | null): void;
  backward(t: H, gradient: Opt<H>, retainGraph: Opt<boolean>, createGraph: boolean): void;
  autogradGrad(outputs: H[], inputs: H[], gradOutputs: Opt<H[]>, retainGraph: Opt<boolean>, createGraph: boolean, allowUnused: boolean): (H | null)[];
  registerHook(t: H, hook: (grad: H) => H | undefined): [number, number];
  removeHook(id: number, t: Opt<H>, position: number): void;
  customFunctionApply(inputs: H[], outputs: H[], saved: H[], backward: (grads: (H | null)[], saved: H[]) => (H | null)[], name: string): H[];
  /** @internal Sends every backward with hooks through the backward thread (the CUDA path), for CPU tests. */
  hooksThreadedForTests(on: boolean): void;
  /** Whether JS is running a hook or custom backward for a training step in flight (whose writer marks are lifted meanwhile). */
  inStepCallback(): boolean;
  setGradEnabled(flag: boolean): void;
  isGradEnabled(): boolean;
  setAutocast(deviceType: 'cpu' | 'cuda', dtype: 'bf16' | 'fp16' | null): void;
  autocastGet(deviceType: string): [boolean, DType];
  autocastSet(deviceType: string, enabled: boolean, dtype: DType): void;
  autocastNesting(delta: 1 | -1): void;

  ModuleHandle: new () => ModuleHandle;
  moduleCreate(kind: string, options: object): ModuleHandle;
  sequential(children: [string, ModuleHandle][]): ModuleHandle;
  residual(body: [string, ModuleHandle][], shortcut: ModuleHandle | null, post: [string, ModuleHandle][]): ModuleHandle;
  moduleForward(m: ModuleHandle, x: H): H;
  moduleForwardAsync(m: ModuleHandle, x: H, gradEnabled: boolean): Promise<H>;
  moduleTrain(m: ModuleHandle, mode: boolean): void;
  moduleIsTraining(m: ModuleHandle): boolean;
  moduleResetParameters(m: ModuleHandle): void;
  moduleClone(m: ModuleHandle): ModuleHandle;
  moduleNamedParameters(m: ModuleHandle): [string, H][];
  moduleNamedBuffers(m: ModuleHandle): [string, H][];
  moduleKind(m: ModuleHandle): string;
  tensorsTo_(tensors: H[], device: Opt<string>, dtype: Opt<DType>): void;
  tensorsChannelsLast_(tensors: H[]): void;
  icLayer(x: H, weight: Opt<H>, bias: Opt<H>, runningMean: Opt<H>, runningVar: Opt<H>, training: boolean, momentum: number, eps: number, dropRate: number, impl: Opt<string>): H;

  OptimizerHandle: new () => OptimizerHandle;
  optimCreate(kind: OptimizerKind, groups: NativeParamGroup[], foreach: boolean): OptimizerHandle;
  optimAddGroup(o: OptimizerHandle, group: NativeParamGroup): void;
  optimStep(o: OptimizerHandle, lrScale: H | null): void;
  optimZeroGrad(o: OptimizerHandle, setToNone: boolean): void;
  optimSetGroup(o: OptimizerHandle, group: number, options: Partial<Omit<NativeParamGroup, 'params'>>): void;
  optimState(o: OptimizerHandle): (Record<string, H> | null)[][];
  optimLoadState(o: OptimizerHandle, state: (Record<string, H> | null)[][]): void;
  optimDispose(o: OptimizerHandle): void;
  clipGradNorm(params: H[], maxNorm: number, normType: number, errorIfNonfinite: boolean, foreach: boolean): H;
  clipGradValue(params: H[], clipValue: number): void;

  conv1d(x: H, weight: H, bias: H | null, stride: number[], padding: number[] | 'same' | 'valid', dilation: number[], groups: number): H;
  conv2d(x: H, weight: H, bias: H | null, stride: number[], padding: number[] | 'same' | 'valid', dilation: number[], groups: number): H;
  conv3d(x: H, weight: H, bias: H | null, stride: number[], padding: number[] | 'same' | 'valid', dilation: number[], groups: number): H;
  convTranspose1d(x: H, weight: H, bias: H | null, stride: number[], padding: number[], outputPadding: number[], groups: number, dilation: number[]): H;
  convTranspose2d(x: H, weight: H, bias: H | null, stride: number[], padding: number[], outputPadding: number[], groups: number, dilation: number[]): H;
  convTranspose3d(x: H, weight: H, bias: H | null, stride: number[], padding: number[], outputPadding: number[], groups: number, dilation: number[]): H;
  /** One ATen call for a whole (multi-layer, bidirectional) RNN; params in PyTorch's order (wIh, wHh[, bIh, bHh][, wHr] per layer and direction). */
  rnn(kind: 'lstm', x: H, hx: [H, H], params: H[], hasBiases: boolean, numLayers: number, dropout: number, train: boolean, bidirectional: boolean, batchFirst: boolean, batchSizes?: H | null): [H, H, H];
  rnn(kind: 'gru' | 'rnnTanh' | 'rnnRelu', x: H, hx: [H], params: H[], hasBiases: boolean, numLayers: number, dropout: number, train: boolean, bidirectional: boolean, batchFirst: boolean, batchSizes?: H | null): [H, H];
  /** A padded batch to a packed sequence's [data, batchSizes]; lengths an int64 CPU tensor sorted decreasing. */
  packPaddedSequence(x: H, lengths: H, batchFirst: boolean): [H, H];
  /** A packed sequence's data back to [padded, lengths]; totalLength -1 for the longest. */
  padPackedSequence(data: H, batchSizes: H, batchFirst: boolean, paddingValue: number, totalLength: number): [H, H];
  rnnCell(kind: 'lstm', x: H, hx: [H, H], wIh: H, wHh: H, bIh: H | null, bHh: H | null): [H, H];
  rnnCell(kind: 'gru' | 'rnnTanh' | 'rnnRelu', x: H, hx: [H], wIh: H, wHh: H, bIh: H | null, bHh: H | null): H;
  linear(x: H, weight: H, bias: H | null): H;
  batchNorm(x: H, runningMean: H | null, runningVar: H | null, weight: H | null, bias: H | null, training: boolean, momentum: number, eps: number): H;
  layerNorm(x: H, normalizedShape: number[], weight: H | null, bias: H | null, eps: number): H;
  groupNorm(x: H, numGroups: number, weight: H | null, bias: H | null, eps: number): H;
  interpolate(x: H, mode: string, size: number[], scales: number[] | null, alignCorners: boolean): H;
  dropout2d(x: H, p: number, training: boolean): H;
  pad(x: H, pad: number[], mode: string, value: number | null): H;
  embedding(indices: H, weight: H, paddingIdx: number, maxNorm: number | null, normType: number, scaleGradByFreq: boolean): H;
  dropout(x: H, p: number, training: boolean): H;
  activation(op: 'gelu', x: H, approximate: string | null): H;
  activation(op: 'silu' | 'mish' | 'hardswish' | 'hardsigmoid', x: H, a?: null): H;
  activation(op: 'leakyRelu' | 'elu' | 'hardtanh' | 'softplus', x: H, a: number, b?: number): H;
  activation(op: 'selu' | 'logSigmoid', x: H): H;
  activation(op: 'celu' | 'softshrink' | 'hardshrink' | 'glu', x: H, a: number): H;
  activation(op: 'rrelu', x: H, lower: number, upper: number, training: boolean): H;
  activation(op: 'prelu', x: H, weight: H): H;
  activation(op: 'threshold', x: H, threshold: number, value: number): H;
  instanceNorm(x: H, weight: H | null, bias: H | null, runningMean: H | null, runningVar: H | null, useInputStats: boolean, momentum: number, eps: number): H;
  rearrange(op: 'pixelShuffle' | 'pixelUnshuffle' | 'channelShuffle', x: H, factor: number): H;
  unfold(x: H, kernelSize: number[], dilation: number[], padding: number[], stride: number[]): H;
  fold(x: H, outputSize: number[], kernelSize: number[], dilation: number[], padding: number[], stride: number[]): H;
  bilinear(x1: H, x2: H, weight: H, bias: H | null): H;
  gridSample(input: H, grid: H, mode: string, paddingMode: string, alignCorners: boolean): H;
  affineGrid(theta: H, size: number[], alignCorners: boolean): H;
  embeddingBag(input: H, weight: H, offsets: H, mode: string, perSampleWeights: H | null, includeLastOffset: boolean, paddingIdx: number, maxNorm: number | null, normType: number, scaleGradByFreq: boolean): H;
  maxUnpool1d(input: H, indices: H, outputSize: number[], stride: number[], padding: number[]): H;
  maxUnpool2d(input: H, indices: H, outputSize: number[], stride: number[], padding: number[]): H;
  maxUnpool3d(input: H, indices: H, outputSize: number[], stride: number[], padding: number[]): H;
  lpPool1d(input: H, normType: number, kernelSize: number[], stride: number[], ceilMode: boolean): H;
  lpPool2d(input: H, normType: number, kernelSize: number[], stride: number[], ceilMode: boolean): H;
  localResponseNorm(input: H, size: number, alpha: number, beta: number, k: number): H;
  pdist(input: H, p: number): H;
  gumbelSoftmax(logits: H, tau: number, hard: boolean, dim: number): H;
  dropoutKind(kind: 'feature' | 'alpha' | 'featureAlpha', input: H, p: number, training: boolean): H;
  softmax(x: H, dim: number, dtype: DType | null, log: boolean): H;
  maxPool1d(x: H, kernelSize: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean, returnIndices: boolean): H | [H, H];
  maxPool2d(x: H, kernelSize: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean, returnIndices: boolean): H | [H, H];
  maxPool3d(x: H, kernelSize: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean, returnIndices: boolean): H | [H, H];
  avgPool1d(x: H, kernelSize: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean, divisorOverride: null): H;
  avgPool2d(x: H, kernelSize: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean, divisorOverride: number | null): H;
  avgPool3d(x: H, kernelSize: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean, divisorOverride: number | null): H;
  adaptiveAvgPool1d(x: H, outputSize: number[]): H;
  adaptiveAvgPool2d(x: H, outputSize: number[]): H;
  adaptiveAvgPool3d(x: H, outputSize: number[]): H;
  adaptiveMaxPool1d(x: H, outputSize: number[], returnIndices: boolean): H | [H, H];
  adaptiveMaxPool2d(x: H, outputSize: number[], returnIndices: boolean): H | [H, H];
  adaptiveMaxPool3d(x: H, outputSize: number[], returnIndices: boolean): H | [H, H];
  crossEntropy(x: H, target: H, weight: H | null, reduction: string, ignoreIndex: number, labelSmoothing: number): H;
  nllLoss(x: H, target: H, weight: H | null, reduction: string, ignoreIndex: number): H;
  pointwiseLoss(kind: 'mse' | 'l1', x: H, target: H, reduction: string): H;
  pointwiseLoss(kind: 'smoothL1' | 'huber', x: H, target: H, reduction: string, a: number): H;
  pointwiseLoss(kind: 'bce', x: H, target: H, reduction: string, a: null, weight: Opt<H>): H;
  distance(kind: 'cosineSimilarity', x1: H, x2: H, dim: number, eps: number): H;
  distance(kind: 'pairwiseDistance', x1: H, x2: H, p: number, eps: number, keepdim: boolean): H;
  distance(kind: 'cdist', x1: H, x2: H, p: number): H;
  oneHot(t: H, numClasses: number): H;
  bceWithLogits(x: H, target: H, weight: H | null, posWeight: H | null, reduction: string): H;
  klDiv(x: H, target: H, reduction: string, logTarget: boolean): H;
  marginLoss(kind: 'marginRanking' | 'cosineEmbedding', x1: H, x2: H, target: H, margin: number, reduction: string): H;
  marginLoss(kind: 'hingeEmbedding' | 'softMargin' | 'multilabelMargin', x: H, unused: null, target: H, margin: number, reduction: string): H;
  tripletMarginLoss(anchor: H, positive: H, negative: H, margin: number, p: number, eps: number, swap: boolean, reduction: string): H;
  multiMarginLoss(x: H, target: H, p: number, margin: number, weight: H | null, reduction: string): H;
  poissonNllLoss(x: H, target: H, logInput: boolean, full: boolean, eps: number, reduction: string): H;
  ctcLoss(logProbs: H, targets: H, inputLengths: number[], targetLengths: number[], blank: number, reduction: string, zeroInfinity: boolean): H;
  TrainStepHandle: new () => TrainStepHandle;
  trainStepCreate(m: ModuleHandle | null, o: OptimizerHandle, options: { device: string; amp: 'bf16' | 'fp16' | null; labelSmoothing: number; cudaGraph: boolean; channelsLast: boolean; cudnnBenchmark: boolean; processGroup: ProcessGroupHandle | null }): TrainStepHandle;
  trainStepRun(s: TrainStepHandle, x: H, y: H, stop: boolean): Promise<{ loss: H; correct: H; mode: 'eager' | 'warmup' | 'graph'; note: string | null; stop: boolean }>;
  trainStepBackward(s: TrainStepHandle, logits: H, y: H, stop: boolean): Promise<{ loss: H; correct: H; mode: 'eager'; note: string | null; stop: boolean }>;
  trainStepBackwardLoss(s: TrainStepHandle, loss: H, stop: boolean): Promise<{ loss: H; correct: null; mode: 'eager'; note: string | null; stop: boolean }>;
  trainStepDispose(s: TrainStepHandle): void;
  evalStep(m: ModuleHandle, x: H, y: H, k: number, device: Opt<string>, amp: Opt<string>): Promise<{ lossSum: H; correct1: H; correctK: H }>;
  evalLogits(logits: H, y: H, k: number): Promise<{ lossSum: H; correct1: H; correctK: H }>;
  ScriptModuleHandle: new () => NativeHandle;
  jitLoad(bytes: Uint8Array, mapLocation: string | null): Promise<NativeHandle>;
  scriptCall(m: NativeHandle, method: string, args: unknown[], gradEnabled: boolean): unknown;
  scriptCallAsync(m: NativeHandle, method: string, args: unknown[], gradEnabled: boolean): Promise<unknown>;
  scriptMethods(m: NativeHandle): string[];
  scriptSignature(m: NativeHandle, method: string): { args: [string, string, boolean][]; returns: string[] };
  scriptNamedParameters(m: NativeHandle): [string, H][];
  scriptNamedBuffers(m: NativeHandle): [string, H][];
  scriptNamedState(m: NativeHandle): [string, H][];
  scriptTrain(m: NativeHandle, mode: boolean): void;
  scriptIsTraining(m: NativeHandle): boolean;
  scriptTo(m: NativeHandle, device: string, dtype: DType | null): void;
  scriptTypeName(m: NativeHandle): string;
  scriptSave(m: NativeHandle): Promise<Buffer>;
  ProcessGroupHandle: new () => ProcessGroupHandle;
  processGroupCreate(options: { backend: 'gloo'; rank: number; worldSize: number; host: string; port: number; timeoutMs: number }): Promise<ProcessGroupHandle>;
  processGroupBackends(): string[];
  allReduce(g: ProcessGroupHandle, tensors: H[], op: 'sum' | 'avg' | 'product' | 'min' | 'max'): Promise<void>;
  broadcast(g: ProcessGroupHandle, tensors: H[], src: number): Promise<void>;
  allGather(g: ProcessGroupHandle, tensor: H): Promise<H[]>;
  barrier(g: ProcessGroupHandle): Promise<void>;
  GeneratorHandle: new () => GeneratorHandle;
  generatorCreate(device: Opt<string>): GeneratorHandle;
  randomWith(kind: 'rand' | 'randn' | 'randint', g: GeneratorHandle, shape: number[], dtype: Opt<DType>, device: Opt<string>, requiresGrad: boolean, low?: number, high?: number): H;
  sample(kind: 'randperm', g: Opt<GeneratorHandle>, n: number, dtype: Opt<DType>, device: Opt<string>): H;
  sample(kind: 'multinomial', g: Opt<GeneratorHandle>, t: H, numSamples: number, replacement: boolean): H;
  sample(kind: 'bernoulli', g: Opt<GeneratorHandle>, t: H): H;
  sample(kind: 'bernoulliP', g: Opt<GeneratorHandle>, t: H, p: number): H;
  sample(kind: 'poisson' | 'standardGamma' | 'sampleDirichlet', g: Opt<GeneratorHandle>, t: H): H;
  sample(kind: 'binomial', g: Opt<GeneratorHandle>, count: H, prob: H): H;
  /** In-place fills: exponential_ (lambd), uniform_ (from, to), normal_ (mean, std), cauchy_ (median, sigma). */
  sample(kind: 'exponential_' | 'uniform_' | 'normal_' | 'cauchy_', g: Opt<GeneratorHandle>, t: H, ...args: number[]): H;
  dirichletGrad(x: H, concentration: H, total: H): H;
  rngState(): { cpu: H; cuda: H[] };
  setRngState(cpu: H, cuda: Opt<H[]>): void;

  jpegInfo(): { available: boolean; library: string };
  jpegDecoderCreate(workers: number): DecoderHandle;
  jpegDecoderDispose(d: DecoderHandle): void;
  jpegDecodeBatch(d: DecoderHandle, files: string[], slots: Int32Array, seeds: Uint32Array, transform: NativeImageTransform, out: H): { id: number; promise: Promise<NativeDecodeFailure[]> };
  jpegCancel(d: DecoderHandle, id: number): void;
  jpegSampleCrop(width: number, height: number, scale: [number, number], ratio: [number, number], seed: number, flip: boolean): { top: number; left: number; height: number; width: number; flip: boolean; fallback: boolean };
  jpegTransformRgb(rgb: Uint8Array, width: number, height: number, transform: NativeImageTransform, seed: number, out: H | Uint8Array, slot: number): void;
  jpegDecodeImage(path: string, height: number | null, width: number | null): Promise<{ status: 'ok' | 'notJpeg' | 'corrupt' | 'error'; message: string; data: Buffer | null; width: number; height: number }>;
  pinnedEmpty(shape: number[]): H;

  info(): NativeInfo;
  manualSeed(seed: number): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  memoryStats(): NativeMemoryStats;
  resetPeakMemory(): void;
  cudaSynchronize(): void;
  cudaDeviceCount(): number;
}

/** The package root (the folder holding package.json), from lib/ or dist/. */
export const packageRoot = path.resolve(__dirname, '..');

/** Where the addon is loaded from: ICTORCH_ADDON, else build/Release/ictorch.node. */
export function addonPath(): string {
  return process.env.ICTORCH_ADDON ?? path.join(packageRoot, 'build', 'Release', 'ictorch.node');
}

/** What CMake recorded about the build (LibTorch version and location), or null. */
export function buildInfo(): Record<string, string> | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(packageRoot, 'build', 'ictorch-build.json'), 'utf8'));
  } catch {
    return null;
  }
}

function explainLoadFailure(file: string, err: Error): Error {
  const msg = err.message;
  const built = buildInfo();
  const against = built ? ` It was built against LibTorch ${built.torchVersion} from ${built.torchPrefix} (rpath ${built.rpath}).` : '';
  let cause: string;
  if (!fs.existsSync(file)) {
    cause = 'The addon has not been built. Run `npm install` (or `npm run build`) in the package folder; set LIBTORCH=/path/to/libtorch if LibTorch is not found.';
  } else if (/cannot open shared object file|Library not loaded|image not found/.test(msg)) {
    const lib = /([\w.+-]+\.so[\w.]*)/.exec(msg)?.[1] ?? 'a LibTorch library';
    cause = `${lib} could not be found at run time: the LibTorch the addon was built against has moved or been removed.${against} Reinstall that LibTorch, or rebuild with \`npm rebuild ictorch\`.`;
  } else if (/undefined symbol/.test(msg)) {
    cause = `A symbol is missing: the LibTorch found at run time differs from the one used at build time (version or C++ ABI mismatch).${against} Rebuild with \`npm rebuild ictorch\`.`;
  } else if (/NODE_MODULE_VERSION|was compiled against a different Node.js version/.test(msg)) {
    cause = 'The addon was built for another Node.js version. Rebuild with `npm rebuild ictorch`.';
  } else {
    cause = `Unexpected load failure.${against}`;
  }
  return new Error(`ictorch: could not load the native addon from ${file}: ${msg.split('\n')[0]}\n${cause}`);
}

let cached: NativeBinding | undefined;

/** Loads the addon once (per thread) and returns its typed surface. */
export function native(): NativeBinding {
  if (cached) return cached;
  const file = addonPath();
  try {
    cached = createRequire(__filename)(file) as NativeBinding;
  } catch (e) {
    throw explainLoadFailure(file, e as Error);
  }
  return cached;
}
