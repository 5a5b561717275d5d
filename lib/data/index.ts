/** Data sets, batch sampling and device-side augmentation. */
export type { Dataset, TensorDataset, DataSplit, Batch, BatchesOptions, NumBatchesOptions, Split, ProgressCallback } from './types';
export * from './synthetic';
export * from './cifar';
export * from './imagefolder';
export * from './augment';
export * from './sampler';
export * from './spec';
export * from './order';
export * from './tensor-split';
export * from './loader';
export * from './imagenet';
export { imagenetIndex, type ImageNetIndex, type IndexedSplit, type ImageNetIndexOptions } from './imagenet-index';
export { ImageDecoder, decodeImageFile, jpegInfo, type ImageTransform, type DecodeFailure, type DecodeJob } from './jpeg';
