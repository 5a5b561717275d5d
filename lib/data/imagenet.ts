/**
 * ImageNet (ILSVRC2012) streamed from disk: `imagenet(dir)` indexes the JPEG tree once (cached) and its
 * splits decode batches on the fly on a pool of native threads, with torchvision's training transform
 * (RandomResizedCrop + RandomHorizontalFlip) or validation transform (Resize + CenterCrop), in a seeded,
 * resumable, shardable order with a bounded number of batches in flight.
 *
 * ```ts
 * const data = await imagenet('/data/imagenet', { workers: 8 });
 * for await (const { images, labels } of data.train.batches({ batchSize: 256, seed: 0, epoch })) {
 *   // images: uint8 [256, 3, 224, 224], labels: int64 [256]; yours to dispose
 * }
 * data.dispose();
 * ```
 */
import * as os from 'os';
import { empty, tensor } from '../creation';
import { native } from '../native';
import { keep } from '../scope';
import { Tensor } from '../tensor';
import { hash32 } from '../util/prng';
import { checkInt, checkKeys, rangeError, typeError } from '../validate';
import { imagenetIndex, indexedPath, type ImageNetIndex, type IndexedSplit } from './imagenet-index';
import { ImageDecoder, type ImageTransform } from './jpeg';
import { batchCount, checkShard, planEpoch, sampleSeed, shardLength, type EpochPlan } from './order';
import type { Batch, BatchesOptions, DataSplit, Dataset, NumBatchesOptions, ProgressCallback } from './types';

const OP = 'imagenet';

/** ImageNet's per-channel mean (RGB, 0..1 scale), as torchvision's reference scripts use. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
/** ImageNet's per-channel standard deviation (RGB, 0..1 scale). */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** Options of `imagenet`. */
export interface ImageNetOptions {
  /** Use only the first N classes (wnids in sorted order), e.g. to try things on a small machine. */
  classes?: number;
  /** Use only the first k files (sorted by name) of each class, in both splits. */
  limitPerClass?: number;
  /** Side of the training crops (default 224). */
  trainSize?: number;
  /** Side of the validation centre crops (default 224). */
  valSize?: number;
  /** Shorter side the validation images are resized to before the centre crop (default 256). */
  resizeSize?: number;
  /** RandomResizedCrop's range of crop area, as a fraction of the image (default [0.08, 1]). */
  scale?: [number, number];
  /** RandomResizedCrop's range of aspect ratio (default [3/4, 4/3]). */
  ratio?: [number, number];
  /** Decoder threads (default: the number of CPU cores). */
  workers?: number;
  /**
   * Replace files that cannot be decoded (corrupt, truncated, unreadable) by the next sample of the order
   * instead of failing; each split counts them (`skippedCorrupt`, `corruptFiles`). Default false.
   */
  skipCorrupt?: boolean;
  /** Called while the file index is built (per class folder), or once when it comes from the cache. */
  onProgress?: ProgressCallback;
  /** The validation labels file, when val/ is flat and it is not found on its own (LOC_val_solution.csv or a `<file> <wnid>` list). */
  valLabels?: string;
  /**
   * Decode JPEGs at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) when the crop stays at least the output
   * size: faster, and a resampling slightly different from PIL's full-resolution one. False gives PIL's
   * pixels exactly (default true).
   */
  dctScaling?: boolean;
}

const OPTION_NAMES = ['classes', 'limitPerClass', 'trainSize', 'valSize', 'resizeSize', 'scale', 'ratio', 'workers', 'skipCorrupt', 'onProgress', 'valLabels', 'dctScaling'];

function checkRange(op: string, arg: string, v: unknown, max: number): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw typeError(op, arg, 'an array [lo, hi] of two finite numbers', v);
  if (!(v[0] > 0 && v[0] <= v[1] && v[1] <= max)) throw rangeError(op, arg, `0 < lo <= hi${Number.isFinite(max) ? ` <= ${max}` : ''}`, v);
  return [v[0], v[1]];
}

function checkBool(op: string, arg: string, v: unknown): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw typeError(op, arg, 'a boolean', v);
  return v;
}

/** The decoder threads, shared by both splits and started on first use. */
class DecoderLease {
  private decoder: ImageDecoder | undefined;
  private closed = false;
  constructor(readonly workers: number) {}
  get(): ImageDecoder {
    if (this.closed) throw new Error(`${OP}: the data set has been disposed`);
    this.decoder ??= new ImageDecoder(this.workers);
    return this.decoder;
  }
  close(): void {
    this.closed = true;
    this.decoder?.dispose();
    this.decoder = undefined;
  }
}

type Resolved = EpochPlan;

interface Pending {
  promise: Promise<Batch>;
  cancel: () => void;
}

class Cancelled extends Error {}

function disposeBatch(b: Batch): void {
  b.images.dispose();
  b.labels.dispose();
}

/** One split of ImageNet, streamed from disk (see `imagenet`). */
export class ImageNetSplit implements DataSplit {
  readonly name: 'train' | 'val';
  readonly length: number;
  readonly classes: readonly string[];
  readonly mean = IMAGENET_MEAN;
  readonly std = IMAGENET_STD;
  readonly imageShape: readonly [number, number, number];
  private readonly corrupt = new Map<number, string>();
  private skipped = 0;
  private disposed = false;
  private ahead = 0;

  /** @internal built by `imagenet()`. */
  constructor(
    name: 'train' | 'val',
    private readonly index: ImageNetIndex,
    private readonly files: IndexedSplit,
    private readonly lease: DecoderLease,
    private readonly size: number,
    private readonly resizeSize: number,
    private readonly scale: [number, number],
    private readonly ratio: [number, number],
    private readonly skipCorrupt: boolean,
    private readonly dctScaling: boolean,
    private readonly onDispose: () => void,
  ) {
    this.name = name;
    this.length = files.names.length;
    this.classes = index.classes;
    this.imageShape = [3, size, size];
  }

  /** Path of sample `i`. */
  file(i: number): string {
    checkInt(`${OP}.${this.name}.file`, 'i', i, 0, this.length - 1);
    return indexedPath(this.index, this.files, i);
  }

  /** Label of sample `i`. */
  label(i: number): number {
    checkInt(`${OP}.${this.name}.label`, 'i', i, 0, this.length - 1);
    return this.files.labels[i];
  }

  /** Samples replaced so far because their file could not be decoded (with `skipCorrupt`). */
  get skippedCorrupt(): number {
    return this.skipped;
  }

  /** The distinct files found undecodable so far, with the reason (with `skipCorrupt`). */
  get corruptFiles(): { file: string; reason: string }[] {
    return [...this.corrupt].map(([i, reason]) => ({ file: indexedPath(this.index, this.files, i), reason }));
  }

  /**
   * Batches started and not yet handed to the consumer (being decoded, or decoded and waiting), over this
   * split's iterators: at most `prefetch` per iterator, whatever the consumer's speed.
   */
  get inFlight(): number {
    return this.ahead;
  }

  private defaults(): boolean {
    return this.name === 'train';
  }

  numBatches(options: NumBatchesOptions): number {
    const op = `${OP}.${this.name}.numBatches`;
    checkKeys(op, 'options', options, ['batchSize', 'dropLast', 'rank', 'worldSize', 'shuffle']);
    const bs = checkInt(op, 'batchSize', options.batchSize, 1);
    const [rank, ws] = checkShard(op, options.rank, options.worldSize);
    const dropLast = checkBool(op, 'dropLast', options.dropLast) ?? this.defaults();
    return batchCount(shardLength(this.length, rank, ws), bs, dropLast);
  }

  private resolve(options: BatchesOptions): Resolved {
    const op = `${OP}.${this.name}.batches`;
    if (this.disposed) throw new Error(`${op}: the split has been disposed`);
    const plan = planEpoch(op, this.length, this.defaults(), options);
    if (plan.batchSize > 1 << 16) throw rangeError(op, 'batchSize', 'at most 65536', plan.batchSize);
    if (plan.device.startsWith('cuda') && native().cudaDeviceCount() === 0) throw new Error(`${op}: device ${plan.device} asked for, but LibTorch sees no CUDA device`);
    return plan;
  }

  private transform(augment: boolean): ImageTransform {
    return augment
      ? { mode: 'train', height: this.size, width: this.size, scale: this.scale, ratio: this.ratio, flip: true, dctScaling: this.dctScaling }
      : { mode: 'val', height: this.size, width: this.size, resizeSize: this.resizeSize, dctScaling: this.dctScaling };
  }

  /**
   * The batches of one epoch. At most `prefetch` batches are being decoded at any time (plus the one the
   * consumer holds), whatever the consumer's speed; leaving the loop (break, return, throw) or aborting
   * `signal` cancels the images not yet started and frees what was prepared.
   */
  batches(options: BatchesOptions): AsyncIterableIterator<Batch> {
    return this.run(this.resolve(options));
  }

  private async *run(o: Resolved): AsyncGenerator<Batch, void, undefined> {
    const order = o.order;
    const nb = o.count;
    const pending: Pending[] = [];
    let next = o.start;
    const fill = (): void => {
      while (next < nb && pending.length < o.prefetch && !o.signal?.aborted) {
        pending.push(this.startBatch(order, next++, o));
        this.ahead++;
      }
    };
    const onAbort = (): void => pending.forEach((p) => p.cancel());
    o.signal?.addEventListener('abort', onAbort);
    try {
      fill();
      while (pending.length > 0 && !o.signal?.aborted) {
        let b: Batch;
        try {
          b = await pending[0].promise;
        } catch (e) {
          if (o.signal?.aborted) break;
          // Only an abort (above) or disposing the data set cancels a batch the loop still waits for.
          if (e instanceof Cancelled) throw new Error(`${OP}.${this.name}.batches: the data set was disposed during the iteration`);
          throw e;
        } finally {
          pending.shift();
          this.ahead--;
        }
        if (o.signal?.aborted) {
          disposeBatch(b);
          break;
        }
        fill(); // the next batch starts decoding while the consumer works on this one
        yield b;
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      for (const p of pending) p.cancel();
      for (const r of await Promise.allSettled(pending.map((p) => p.promise))) if (r.status === 'fulfilled') disposeBatch(r.value);
      this.ahead -= pending.length;
      pending.length = 0;
    }
  }

  /** The next sample of the order after position q that is not known to be corrupt (with skipCorrupt). */
  private replacement(order: Int32Array, q: number, tried: number): { index: number; tried: number } {
    for (let j = tried + 1; j < order.length; j++) {
      const c = order[(q + j) % order.length];
      if (!this.corrupt.has(c)) return { index: c, tried: j };
    }
    throw new Error(`${OP}: every file of this ${this.name} shard is corrupt or unreadable (${this.corrupt.size} files), e.g. ${this.corruptFiles[0]?.file}`);
  }

  private startBatch(order: Int32Array, position: number, o: Resolved): Pending {
    const from = position * o.batchSize;
    const indices = order.slice(from, Math.min(from + o.batchSize, order.length));
    const n = indices.length;
    const shape = [n, 3, this.size, this.size];
    const cuda = o.device !== 'cpu';
    let cancelled = false;
    let cancelNative = (): void => {};
    const promise = (async (): Promise<Batch> => {
      const decoder = this.lease.get();
      const out = keep(cuda ? new Tensor(native().pinnedEmpty(shape)) : empty(shape, { dtype: 'uint8' }));
      try {
        const transform = this.transform(o.augment);
        const seeds = new Uint32Array(n);
        const tried = new Int32Array(n);
        for (let s = 0; s < n; s++) seeds[s] = sampleSeed(o.seed, o.epoch, indices[s]);
        // Samples known to be corrupt from an earlier batch are replaced before decoding.
        const substitute = (s: number): void => {
          const failed = indices[s];
          const r = this.replacement(order, from + s, tried[s]);
          tried[s] = r.tried;
          seeds[s] = hash32(sampleSeed(o.seed, o.epoch, failed), r.index);
          indices[s] = r.index;
          this.skipped++;
        };
        let todo: number[] = [];
        for (let s = 0; s < n; s++) {
          if (this.skipCorrupt) while (this.corrupt.has(indices[s])) substitute(s);
          todo.push(s);
        }
        while (todo.length > 0) {
          if (cancelled) throw new Cancelled('cancelled');
          const files = todo.map((s) => indexedPath(this.index, this.files, indices[s]));
          const job = decoder.decodeBatch(files, Int32Array.from(todo), Uint32Array.from(todo, (s) => seeds[s]), transform, out);
          cancelNative = job.cancel;
          const failures = await job.promise;
          if (cancelled || failures.some((f) => f.status === 'cancelled')) throw new Cancelled('cancelled');
          if (failures.length > 0 && !this.skipCorrupt) {
            const f = failures[0];
            throw new Error(`${OP}: cannot decode ${f.file}: ${f.message} (pass {skipCorrupt: true} to replace undecodable files by other samples)`);
          }
          const again: number[] = [];
          for (const f of failures) {
            const s = todo[f.index];
            this.corrupt.set(indices[s], f.message);
            while (this.corrupt.has(indices[s])) substitute(s);
            again.push(s);
          }
          todo = again;
        }
        const labels = keep(tensor(BigInt64Array.from(indices, (i) => BigInt(this.files.labels[i])), { device: o.device }));
        let images = out;
        if (cuda) {
          images = keep(out.to({ device: o.device, nonBlocking: true }));
          out.dispose(); // the caching host allocator keeps the pinned block until the copy is done
        }
        return { images, labels, indices, position };
      } catch (e) {
        out.dispose();
        throw e;
      }
    })();
    promise.catch(() => {}); // awaited later; not an unhandled rejection meanwhile
    return {
      promise,
      cancel: () => {
        cancelled = true;
        cancelNative();
      },
    };
  }

  /** Frees the split; the decoder threads stop when both splits are disposed. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
  }

  /** `using` support: same as `dispose()`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Opens ImageNet (ILSVRC2012) at `dir`: `train/<wnid>/*.JPEG`, and `val/<wnid>/*.JPEG` or a flat `val/`
 * labelled by `LOC_val_solution.csv` or a `<file> <wnid>` list (found beside val/ or named by
 * `valLabels`). Classes are the training folders' wnids in sorted order (label k is `classes[k]`, as
 * torchvision's ImageFolder numbers them); `classNames` come from `LOC_synset_mapping.txt` or
 * `synset_words.txt` when present. `train` uses RandomResizedCrop(trainSize, scale, ratio) + horizontal
 * flip, `test` (the validation split, named `val`) Resize(resizeSize) + CenterCrop(valSize); a training
 * split iterated with `augment: false` gets Resize(resizeSize · trainSize / valSize) + CenterCrop(trainSize).
 * Batches are uint8 `[B, 3, size, size]` RGB; normalise with `mean`/`std` (ImageNet's) on the device.
 */
export async function imagenet(dir: string, options: ImageNetOptions = {}): Promise<Dataset<ImageNetSplit>> {
  if (typeof dir !== 'string' || dir.length === 0) throw typeError(OP, 'dir', 'a directory path (string)', dir);
  if (typeof options !== 'object' || options === null) throw typeError(OP, 'options', 'an options object', options);
  checkKeys(OP, 'options', options, OPTION_NAMES);
  const classes = options.classes === undefined ? undefined : checkInt(OP, 'classes', options.classes, 1);
  const limitPerClass = options.limitPerClass === undefined ? undefined : checkInt(OP, 'limitPerClass', options.limitPerClass, 1);
  const trainSize = checkInt(OP, 'trainSize', options.trainSize ?? 224, 1, 8192);
  const valSize = checkInt(OP, 'valSize', options.valSize ?? 224, 1, 8192);
  const resizeSize = checkInt(OP, 'resizeSize', options.resizeSize ?? 256, 1, 16384);
  if (resizeSize < valSize) throw rangeError(OP, 'resizeSize', `an integer at least valSize (${valSize})`, resizeSize);
  const scale = options.scale === undefined ? ([0.08, 1] as [number, number]) : checkRange(OP, 'scale', options.scale, 1);
  const ratio = options.ratio === undefined ? ([3 / 4, 4 / 3] as [number, number]) : checkRange(OP, 'ratio', options.ratio, Infinity);
  const workers = checkInt(OP, 'workers', options.workers ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length), 1, 1024);
  const skipCorrupt = checkBool(OP, 'skipCorrupt', options.skipCorrupt) ?? false;
  const dctScaling = checkBool(OP, 'dctScaling', options.dctScaling) ?? true;
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw typeError(OP, 'onProgress', 'a function (done, total) => void', options.onProgress);
  if (options.valLabels !== undefined && (typeof options.valLabels !== 'string' || options.valLabels === '')) throw typeError(OP, 'valLabels', 'a file path (string)', options.valLabels);

  const index = await imagenetIndex(dir, { classes, limitPerClass, valLabels: options.valLabels, onProgress: options.onProgress });
  const lease = new DecoderLease(workers);
  let open = 2;
  const release = (): void => {
    if (--open === 0) lease.close();
  };
  const trainResize = Math.round((resizeSize * trainSize) / valSize);
  const train = new ImageNetSplit('train', index, index.train, lease, trainSize, Math.max(trainResize, trainSize), scale, ratio, skipCorrupt, dctScaling, release);
  const val = new ImageNetSplit('val', index, index.val, lease, valSize, resizeSize, scale, ratio, skipCorrupt, dctScaling, release);
  const set: Dataset<ImageNetSplit> = {
    train,
    test: val,
    classes: index.classes,
    classNames: index.classNames,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    dispose: () => {
      train.dispose();
      val.dispose();
    },
  };
  return set;
}
