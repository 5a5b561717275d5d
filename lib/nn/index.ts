/**
 * Neural-network building blocks (`nn.Conv2d`, `nn.IC`, `nn.Sequential`, ...), `nn.functional` and `nn.utils`.
 * @module
 */
export { Module, Parameter } from './module';
export type { StateDict, LoadResult, ForwardHook, ForwardPreHook, RemovableHandle, ToTarget } from './module';
export * from './layers';
export { ModuleList, ModuleDict } from './module-list';
export * from './functional-layers';
export * from './loss-modules';
export { MultiheadAttention, TransformerEncoderLayer, TransformerEncoder, type MultiheadAttentionOptions, type MultiheadAttentionForwardOptions, type TransformerActivation, type TransformerEncoderLayerOptions, type TransformerEncoderLayerForwardOptions, type TransformerEncoderOptions, type TransformerEncoderForwardOptions } from './attention';
/** `torch.nn.functional`: conv2d, linear, batchNorm, pooling, activations, embedding, icLayer and the losses. */
export * as functional from './functional';
export { crossEntropy } from './functional';
/** `torch.nn.utils`: gradient clipping. */
export * as utils from '../optim/clip';
export * from './init';
/** `torch.nn.init`: the same functions under PyTorch's module name (`nn.init.xavierUniform_(w)`). */
export * as init from './init';
