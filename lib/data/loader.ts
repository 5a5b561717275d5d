/**
 * `loader()`: PyTorch's `DataLoader` for hand-written loops, over any `DataSplit`. Each `for await` over it
 * is one epoch (the next epoch's order and augmentation on the next loop), with the same order, sharding
 * and training transform the training engine uses, normalised with the split's own statistics.
 *
 * ```ts
 * const data = await torch.loadData('cifar10:/data/cifar-10-batches-bin');
 * const train = torch.loader(data.train, { batchSize: 128, shuffle: true, augment: true });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for await (const { images, labels } of train) {
 *     torch.tidy(() => { ... images.dispose(); labels.dispose(); });   // float32 [128, 3, 32, 32], int64 [128]
 *   }
 * }
 * ```
 */
import { noGrad } from '../autograd';
import type { Tensor } from '../tensor';
import { checkInt, checkKeys, typeError } from '../validate';
import { normalizeBatch } from './augment';
import type { BatchesOptions, DataSplit } from './types';

/** Options of `loader`. */
export interface LoaderOptions {
  /** Images per batch. */
  batchSize: number;
  /** A new order each epoch (default: true for a training split). */
  shuffle?: boolean;
  /** The split's training transform (random crop and flip; default: true for a training split). */
  augment?: boolean;
  /** Drop the last partial batch (default: true for a training split). */
  dropLast?: boolean;
  /** Seed of the order and the augmentation (default 0). */
  seed?: number;
  /** The first epoch (default 0); each loop over the loader advances it. */
  epoch?: number;
  /** Where batches land (default `cpu`). */
  device?: string;
  /** Yield float32 images normalised with the split's mean/std (default true); false yields the uint8 images. */
  normalize?: boolean;
  /** Batches prepared ahead (default 2). */
  prefetch?: number;
  /** This process's shard (default 0 of 1). */
  rank?: number;
  /** Number of shards (default 1). */
  worldSize?: number;
  /** Stops the current loop. */
  signal?: AbortSignal;
}

/** A batch from a `DataLoader`: the caller owns both tensors. */
export interface LoaderBatch {
  /** float32 `[B, 3, H, W]` normalised (or uint8 with `normalize: false`). */
  images: Tensor;
  /** int64 `[B]`. */
  labels: Tensor;
  /** The samples' indices in the split. */
  indices: Int32Array;
}

/** Iterates a split in batches, one epoch per loop (see `loader`). */
export class DataLoader implements AsyncIterable<LoaderBatch> {
  /** The epoch the next loop serves. */
  epoch: number;
  private readonly normalize: boolean;
  private readonly batches: Omit<BatchesOptions, 'epoch'>;

  constructor(
    readonly split: DataSplit,
    options: LoaderOptions,
  ) {
    const op = 'loader';
    if (!split || typeof (split as DataSplit).batches !== 'function') throw typeError(op, 'split', 'a DataSplit (e.g. loadData(...).train)', split);
    checkKeys(op, 'options', options, ['batchSize', 'shuffle', 'augment', 'dropLast', 'seed', 'epoch', 'device', 'normalize', 'prefetch', 'rank', 'worldSize', 'signal']);
    const { epoch, normalize, ...rest } = options;
    this.epoch = checkInt(op, 'epoch', epoch ?? 0, 0, 2 ** 32 - 1);
    if (normalize !== undefined && typeof normalize !== 'boolean') throw typeError(op, 'normalize', 'a boolean', normalize);
    this.normalize = normalize ?? true;
    this.batches = rest;
    // Checks the options the split will take, once, up front.
    split.numBatches({ batchSize: rest.batchSize, dropLast: rest.dropLast, rank: rest.rank, worldSize: rest.worldSize });
  }

  /** Batches per epoch. */
  get length(): number {
    const o = this.batches;
    return this.split.numBatches({ batchSize: o.batchSize, dropLast: o.dropLast, rank: o.rank, worldSize: o.worldSize });
  }

  /** One epoch of batches; the loader moves to the next epoch when the loop starts. */
  async *[Symbol.asyncIterator](): AsyncIterator<LoaderBatch> {
    const epoch = this.epoch++;
    for await (const b of this.split.batches({ ...this.batches, epoch })) {
      if (!this.normalize) {
        yield { images: b.images, labels: b.labels, indices: b.indices };
        continue;
      }
      let images: Tensor;
      try {
        images = noGrad(() => normalizeBatch(b.images, { mean: this.split.mean, std: this.split.std }));
      } finally {
        b.images.dispose();
      }
      yield { images, labels: b.labels, indices: b.indices };
    }
  }
}

/** A `DataLoader` over `split` (see `LoaderOptions`): `for await (const {images, labels} of loader(train, {batchSize: 128}))`. */
export function loader(split: DataSplit, options: LoaderOptions): DataLoader {
  return new DataLoader(split, options);
}
