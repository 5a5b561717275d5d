/**
 * The data interface every data set implements, in memory (synthetic, CIFAR binaries, image folders) or
 * streamed from disk (ImageNet): per epoch, an async iterator of uint8 batches in a seeded, resumable,
 * shardable order. The training loop (`fit`), the evaluation loop, `loader()` and hand-written loops only
 * use this interface, so they do not care where batches come from.
 */
import type { Tensor } from '../tensor';
import type { TensorSplit } from './tensor-split';

/** One batch: the caller owns both tensors (dispose them, or create the batch inside `tidy`). */
export interface Batch {
  /** uint8 `[B, 3, H, W]`, RGB, on the device asked for; already cropped/flipped when `augment` was on. */
  images: Tensor;
  /** int64 `[B]`, each in `[0, classes.length)`. */
  labels: Tensor;
  /** The samples' indices in the split (global indices, also when sharded). */
  indices: Int32Array;
  /** This batch's number within the epoch (of this shard), from 0: resuming at `start: position + 1` continues after it. */
  position: number;
}

/** Options of `DataSplit.batches`. */
export interface BatchesOptions {
  /** Images per batch. */
  batchSize: number;
  /** Seed of the order and of the augmentation (default 0). The same (seed, epoch) always gives the same batches. */
  seed?: number;
  /** Which epoch's order (default 0): each epoch's order is a pure function of (seed, epoch). */
  epoch?: number;
  /** Shuffle the order (default: true for a training split, false otherwise). */
  shuffle?: boolean;
  /** Drop the last partial batch (default: true for a training split, false otherwise). */
  dropLast?: boolean;
  /** Apply the split's training transform (random crop and flip; default: true for a training split, false otherwise). */
  augment?: boolean;
  /** First batch to yield (default 0): resume an epoch in the middle. */
  start?: number;
  /** This process's shard (default 0 of 1): shards are disjoint and together cover the epoch. */
  rank?: number;
  /** Number of shards (default 1). */
  worldSize?: number;
  /** Where the batches land (default `cpu`). */
  device?: string;
  /** Batches prepared ahead of the consumer (default 2): at most this many are in flight, whatever the consumer's speed. */
  prefetch?: number;
  /** Stops the iteration (the loop ends after the batch in hand; work in flight is awaited and released). */
  signal?: AbortSignal;
}

/** Options of `DataSplit.numBatches`: those of `batches` that decide how many batches an epoch has. */
export type NumBatchesOptions = Pick<BatchesOptions, 'batchSize' | 'dropLast' | 'rank' | 'worldSize' | 'shuffle'>;

/** A split of a data set: what the training and evaluation loops consume. */
export interface DataSplit {
  /** `train`, `test` or `val`. */
  readonly name: string;
  /** Number of samples in the split. */
  readonly length: number;
  /** Class names: label k is `classes[k]`. */
  readonly classes: readonly string[];
  /** Per-channel mean (RGB, 0..1 scale) the inputs are normalised with: the data set's own statistics. */
  readonly mean: readonly number[];
  /** Per-channel standard deviation (RGB, 0..1 scale). */
  readonly std: readonly number[];
  /** `[C, H, W]` of the images in its batches (after its transform). */
  readonly imageShape: readonly [number, number, number];
  /** Batches per epoch for these options. */
  numBatches(options: NumBatchesOptions): number;
  /** The batches of one epoch (see `BatchesOptions`). */
  batches(options: BatchesOptions): AsyncIterableIterator<Batch>;
  /** Frees what the split holds (tensors, decoder threads). Idempotent. */
  dispose(): void;
}

/** A labelled image split held in memory: uint8 images `[N, 3, H, W]` and int64 labels `[N]`, on one device. */
export interface Split {
  /** uint8 `[N, 3, H, W]`, channels in RGB order. */
  images: Tensor;
  /** int64 `[N]`, each in `[0, classes.length)`. */
  labels: Tensor;
}

/** A data set: train and test splits and the class names (label k is `classes[k]`). */
export interface Dataset<S extends DataSplit = DataSplit> {
  train: S;
  test: S;
  classes: string[];
  /** Per-channel mean the set's images are normalised with (RGB, 0..1 scale). */
  mean: readonly number[];
  /** Per-channel standard deviation (RGB, 0..1 scale). */
  std: readonly number[];
  /** Optional human-readable class names (e.g. ImageNet's synset words), parallel to `classes`. */
  classNames?: string[];
  /** Frees both splits. */
  dispose(): void;
}

/** Progress of a loader: `done` of `total` images read so far. */
export type ProgressCallback = (done: number, total: number) => void;

/** A data set held in memory as tensors (synthetic, CIFAR binaries, image folders): its splits also expose `images` and `labels`. */
export type TensorDataset = Dataset<TensorSplit>;
