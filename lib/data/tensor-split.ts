/**
 * In-memory splits: the images of a whole split in one uint8 tensor `[N, 3, H, W]` (CIFAR binaries,
 * image folders of small images, the synthetic set), served through the common `DataSplit` interface.
 * A batch is one `indexSelect` of the split's tensor on its own device; the training transform (padded
 * random crop and flip, `cropFlipBatch`) runs on the whole batch there, with each image's randomness
 * drawn from `sampleSeed(seed, epoch, index)`.
 */
import { tensor } from '../creation';
import { noGrad } from '../autograd';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkInt, typeError } from '../validate';
import { cropFlipBatch, cropFlipParams, type CropFlipOptions } from './augment';
import { batchCount, planEpoch, sampleSeed, shardLength } from './order';
import type { Batch, BatchesOptions, DataSplit, Dataset, NumBatchesOptions, Split, TensorDataset } from './types';

/** Options of a `TensorSplit`. */
export interface TensorSplitOptions {
  /** `train`, `test` or `val` (`train` makes shuffling, dropLast and augmentation the defaults of `batches`). */
  name: string;
  classes: readonly string[];
  mean: readonly number[];
  std: readonly number[];
  /** The training transform (default: 4-pixel padded random crop and horizontal flip). */
  augment?: CropFlipOptions;
}

/** A split held in memory: `images` uint8 `[N, 3, H, W]` and `labels` int64 `[N]` on one device, and `batches()` over them. */
export class TensorSplit implements DataSplit, Split {
  readonly name: string;
  readonly classes: readonly string[];
  readonly mean: readonly number[];
  readonly std: readonly number[];
  private readonly transform: CropFlipOptions;

  /** Takes ownership of `images` and `labels` (`dispose()` frees them). */
  constructor(
    readonly images: Tensor,
    readonly labels: Tensor,
    options: TensorSplitOptions,
  ) {
    const op = 'TensorSplit';
    if (!(images instanceof Tensor) || images.dtype !== 'uint8' || images.ndim !== 4) throw typeError(op, 'images', 'a uint8 Tensor [N, C, H, W]', images);
    if (!(labels instanceof Tensor) || labels.dtype !== 'int64' || labels.ndim !== 1 || labels.shape[0] !== images.shape[0]) {
      throw typeError(op, 'labels', `an int64 Tensor [${images.shape[0]}] (one label per image)`, labels);
    }
    this.name = options.name;
    this.classes = options.classes;
    this.mean = options.mean;
    this.std = options.std;
    this.transform = options.augment ?? { padding: 4, flip: true };
  }

  /** Number of images. */
  get length(): number {
    return this.labels.shape[0];
  }

  /** `[C, H, W]` of the images. */
  get imageShape(): readonly [number, number, number] {
    const [, c, h, w] = this.images.shape;
    return [c, h, w];
  }

  /** Batches per epoch for these options. */
  numBatches(options: NumBatchesOptions): number {
    const training = this.name === 'train';
    const batchSize = checkInt('numBatches', 'batchSize', options?.batchSize, 1);
    const n = shardLength(this.length, options.rank ?? 0, options.worldSize ?? 1);
    return batchCount(n, batchSize, options.dropLast ?? training);
  }

  /**
   * The batches of one epoch (see `BatchesOptions`): uint8 images and int64 labels on `device`. The epoch's
   * order and augmentation parameters go to the split's device once per epoch; each batch is then gathered
   * there with no host transfer (no synchronisation with a GPU per batch).
   */
  async *batches(options: BatchesOptions): AsyncIterableIterator<Batch> {
    const plan = planEpoch(`${this.name}.batches`, this.length, this.name === 'train', options);
    if (plan.start >= plan.count) return;
    const device = this.images.device;
    const used = plan.order.subarray(0, Math.min(plan.order.length, plan.count * plan.batchSize));
    const orderT = tensor(used, { dtype: 'int64', device });
    let paramsT: Tensor | null = null;
    try {
      if (plan.augment) {
        const seeds = Uint32Array.from(used, (i) => sampleSeed(plan.seed, plan.epoch, i));
        paramsT = tensor(cropFlipParams(seeds, this.transform), { shape: [used.length, 3], device });
      }
      for (let p = plan.start; p < plan.count; p++) {
        if (plan.signal?.aborted) return;
        const indices = plan.batch(p).slice();
        const at = p * plan.batchSize;
        const { images, labels } = tidy(() =>
          noGrad(() => {
            const idx = orderT.narrow(0, at, indices.length);
            let x = this.images.indexSelect(0, idx);
            if (paramsT) x = cropFlipBatch(x, paramsT.narrow(0, at, indices.length), this.transform);
            const y = this.labels.indexSelect(0, idx);
            return { images: x.to({ device: plan.device }), labels: y.to({ device: plan.device }) };
          }),
        );
        yield { images, labels, indices, position: p };
      }
    } finally {
      orderT.dispose();
      paramsT?.dispose();
    }
  }

  /** Frees the images and labels. Idempotent. */
  dispose(): void {
    this.images.dispose();
    this.labels.dispose();
  }
}

/**
 * Per-channel mean and standard deviation (0..1 scale) of uint8 images `[N, C, H, W]`, over every pixel
 * of every image: the statistics a data set without published ones is normalised with.
 */
export function channelStats(images: Tensor): { mean: number[]; std: number[] } {
  if (!(images instanceof Tensor) || images.dtype !== 'uint8' || images.ndim !== 4) throw typeError('channelStats', 'images', 'a uint8 Tensor [N, C, H, W]', images);
  return tidy(() =>
    noGrad(() => {
      const C = images.shape[1];
      // Sums in float64 per chunk of about 4M values keep the temporaries small (~100 MiB) and the totals exact.
      const sum = new Float64Array(C);
      const sq = new Float64Array(C);
      const N = images.shape[0];
      const step = Math.max(1, Math.floor(2 ** 22 / Math.max(1, images.numel() / Math.max(1, N))));
      for (let i = 0; i < N; i += step) {
        tidy(() => {
          const x = images.narrow(0, i, Math.min(step, N - i)).to('float64').transpose(0, 1).reshape(C, -1);
          const s = x.sum(1).toArray() as Float64Array;
          const q = x.square().sum(1).toArray() as Float64Array;
          for (let c = 0; c < C; c++) {
            sum[c] += s[c];
            sq[c] += q[c];
          }
        });
      }
      const count = images.numel() / C;
      const mean = Array.from(sum, (s) => s / count / 255);
      const std = Array.from(sq, (q, c) => Math.sqrt(Math.max(0, q / count / 255 ** 2 - mean[c] ** 2)));
      return { mean, std };
    }),
  );
}

/**
 * Wraps in-memory splits `{images, labels}` as a `Dataset` of `TensorSplit`s. The statistics default to the
 * training images' own (`channelStats`), never to another data set's.
 */
export function tensorDataset(
  splits: { train: Split; test: Split; classes: string[] },
  options: { mean?: readonly number[]; std?: readonly number[]; augment?: CropFlipOptions; classNames?: string[] } = {},
): TensorDataset {
  const { train, test, classes } = splits;
  if ((options.mean === undefined) !== (options.std === undefined)) throw typeError('tensorDataset', 'options', 'both mean and std, or neither', options);
  const stats = options.mean && options.std ? { mean: options.mean, std: options.std } : channelStats(train.images);
  const make = (name: string, s: Split) => (s instanceof TensorSplit ? s : new TensorSplit(s.images, s.labels, { name, classes, ...stats, augment: options.augment }));
  const trainSplit = make('train', train);
  const testSplit = make('test', test);
  return {
    train: trainSplit,
    test: testSplit,
    classes,
    mean: stats.mean,
    std: stats.std,
    ...(options.classNames ? { classNames: options.classNames } : {}),
    dispose() {
      trainSplit.dispose();
      testSplit.dispose();
    },
  };
}

/** True for a `Dataset` whose splits implement `DataSplit` (as opposed to bare `{images, labels}` splits). */
export function isDataset(v: unknown): v is Dataset {
  const d = v as Dataset | null;
  return !!d && typeof d === 'object' && typeof d.train?.batches === 'function' && typeof d.test?.batches === 'function';
}
