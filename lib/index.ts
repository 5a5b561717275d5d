/**
 * ictorch: LibTorch tensors, autograd and (next) the IC-layer networks of Chen et al. for Node.js.
 *
 * ```ts
 * import * as torch from 'ictorch';
 * const x = torch.randn([3, 4], { requiresGrad: true });
 * x.mul(x).sum().backward();
 * console.log(x.grad?.toNested());
 * ```
 */
export * from './dtype';
export { Tensor, isTensor } from './tensor';
export type { Scalar, NestedArray, IndexItem, ToOptions, UniqueOptions, TensorHook, RemovableHandle } from './tensor';
export * from './creation';
export * from './ops';
export { tidy, keep } from './scope';
export { noGrad, enableGrad, isGradEnabled, autograd } from './autograd';
export { autocast, isAutocastEnabled, getAutocastDtype } from './autocast';
export type { AutocastOptions, AutocastDeviceType } from './autocast';
/** Mixed precision in a hand-written loop: `amp.autocast`, `amp.GradScaler` (PyTorch's torch.amp). */
export * as amp from './amp';
export type { GradOptions } from './autograd';
export { FunctionCtx, Function as AutogradFunction } from './autograd-function';
export { Generator } from './generator';
export { manualSeed, setNumThreads, getNumThreads, memory, cuda, info, rngState, setRngState } from './runtime';
export type { MemoryInfo, Info, RngState } from './runtime';
export { saveStateDict, loadStateDict } from './serialize';
export type { LoadStateDictOptions } from './serialize';
export { save, load } from './io/torchfile';
export type { TorchValue, TorchKey } from './io/torchfile';
/** Python values in JavaScript: how a PyTorch file's values appear in JS (`load`) and how JS values are written (`save`). */
export * as py from './io/pyvalue';
export { deepCopy } from './deep-copy';
export { writeFileAtomic } from './util/atomic';
export type { Chunks } from './util/atomic';
/** Linear algebra (PyTorch's torch.linalg): norms, decompositions, inverses and solvers, batched, with autograd. */
export * as linalg from './linalg';
/** Probability distributions (PyTorch's torch.distributions): Normal, Uniform, Bernoulli, Categorical, MultivariateNormal, Independent, Exponential, Gamma, Chi2, Beta, Dirichlet, Poisson, klDivergence and registerKl. */
export * as distributions from './distributions';
/** PyTorch's `torch.utils`: `utils.checkpoint.checkpoint(fn, ...args)` and `checkpointSequential` (activation checkpointing). */
export * as utils from './torch-utils';
export type { Segment, CheckpointOptions } from './checkpoint';
export type { BackwardOptions } from './autograd';
export * as nn from './nn';
export { icLayer } from './nn/functional';
export type { ICLayerOptions } from './nn/functional';
export * from './models';
export { crossEntropy } from './nn/functional';
export * as optim from './optim';
export { imageToTensor } from './image';
export type { ImageToTensorOptions } from './image';
export * from './data';
export * from './train';
/** TorchScript (PyTorch's torch.jit): load and run models exported from Python, save them back. */
export * as jit from './jit';
/** Data-parallel training across processes and machines (PyTorch's torch.distributed): process groups, collectives, the launcher. */
export * as distributed from './distributed';
/** Analysing activations: the paper's independence theory and gradient-sign argument measured on a model. */
export * as analysis from './analysis';
/** `ictorch reproduce` as a library: plan a grid of the paper's experiments, run it resumably, report it. */
export * as reproduce from './reproduce';
