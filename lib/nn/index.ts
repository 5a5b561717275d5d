/**
 * Neural-network building blocks (`nn.Conv2d`, `nn.IC`, `nn.Sequential`, ...), `nn.functional` and `nn.utils`.
 * @module
 */
export { Module, Parameter } from './module';
export type { StateDict, LoadResult, ForwardHook, ForwardPreHook, ToTarget } from './module';
export type { RemovableHandle } from '../tensor';
export type { FullBackwardHook, FullBackwardPreHook } from './backward-hooks';
export * from './layers';
export { ModuleList, ModuleDict, ParameterList, ParameterDict } from './module-list';
export * from './functional-layers';
export * from './conv-pool-nd';
export * from './loss-modules';
export * from './extra-layers';
export * from './more-layers';
export { MultiheadAttention, TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer, TransformerDecoder, Transformer, type MultiheadAttentionOptions, type MultiheadAttentionForwardOptions, type TransformerActivation, type TransformerEncoderLayerOptions, type TransformerEncoderLayerForwardOptions, type TransformerEncoderOptions, type TransformerEncoderForwardOptions, type TransformerDecoderLayerOptions, type TransformerDecoderLayerForwardOptions, type TransformerDecoderOptions, type TransformerDecoderForwardOptions, type TransformerOptions, type TransformerForwardOptions, type SquareSubsequentMaskOptions } from './attention';
export { RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell, type RNNMode, type RNNNonlinearity, type RNNBaseOptions, type RNNOptions, type LSTMOptions, type GRUOptions, type RNNCellBaseOptions, type RNNCellOptions, type LSTMCellOptions, type GRUCellOptions } from './rnn';
/** `torch.nn.functional`: convolutions and pooling (1-3 d), linear, normalisation, resampling, activations, embedding, icLayer and the losses. */
export * as functional from './functional';
export { crossEntropy } from './functional';
/** `torch.nn.utils`: gradient clipping, parameters to one vector and back, and `rnn` (packed sequences for the recurrent layers). */
export * as utils from './utils';
export * from './init';
/** `torch.nn.init`: the same functions under PyTorch's module name (`nn.init.xavierUniform_(w)`). */
export * as init from './init';
