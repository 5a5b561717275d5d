/**
 * A seeded mini-batch sampler: each epoch's order is `epochOrder(n, seed, epoch)` (a permutation drawn from
 * the seed and the epoch number alone, or 0..n-1 without shuffling), cut into batches, with a small
 * JSON-able state so that a resumed run continues with exactly the same batches. It is the stateful face of
 * the pure functions in `order.ts`, which every `DataSplit` uses too.
 */
import { randomInt } from 'crypto';
import { tensor } from '../creation';
import type { Device } from '../dtype';
import type { Tensor } from '../tensor';
import { checkInt, typeError } from '../validate';
import { batchCount, epochOrder } from './order';

/** Options of `BatchSampler`. */
export interface BatchSamplerOptions {
  /** Indices per batch. */
  batchSize: number;
  /** A new random order each epoch (default true); false serves 0..n-1 in order. */
  shuffle?: boolean;
  /** Seed of the shuffling PRNG, an integer in 0..2^32-1 (default: a random one, recorded in `state()`). */
  seed?: number;
  /** Drop the last, smaller batch of an epoch (default true); false serves it too. */
  dropLast?: boolean;
}

/** What `BatchSampler.state()` returns and `setState()` takes: plain JSON. */
export interface BatchSamplerState {
  /** Format version (2: the order is a pure function of seed and epoch). */
  version: 2;
  /** Data set size the state belongs to. */
  n: number;
  /** Batch size the state belongs to. */
  batchSize: number;
  /** Whether the order is shuffled. */
  shuffle: boolean;
  /** Whether the last partial batch is dropped. */
  dropLast: boolean;
  /** The seed of the order. */
  seed: number;
  /** Epochs completed so far (0 during the first). */
  epoch: number;
  /** Batches of the current epoch already served. */
  position: number;
}

/**
 * Serves epochs of index batches over a data set of `n` items.
 *
 * ```ts
 * const sampler = new BatchSampler(50000, { batchSize: 128, seed: 1 });
 * for (let e = sampler.epoch; e < epochs; e++) {
 *   for (const idx of sampler) {          // Int32Array of batch indices; one epoch per loop
 *     const x = images.indexSelect(0, tensor(idx, { dtype: 'int64', device }));
 *     ...
 *     checkpoint.sampler = sampler.state(); // resuming from here continues with the next batch
 *   }
 * }
 * ```
 * Iterating yields the remaining batches of the current epoch; handing out its last batch moves the
 * sampler to the next epoch (a new permutation). Each batch is a fresh Int32Array; `tensors()` yields
 * int64 Tensors instead.
 */
export class BatchSampler {
  /** Data set size. */
  readonly n: number;
  /** Indices per batch. */
  readonly batchSize: number;
  /** Whether each epoch has a new random order. */
  readonly shuffle: boolean;
  /** Whether the last partial batch of an epoch is dropped. */
  readonly dropLast: boolean;
  private seedValue: number;
  private epochIndex = 0;
  private pos = 0;
  private order: Int32Array;

  /** A sampler over `n` items; see `BatchSamplerOptions`. */
  constructor(n: number, options: BatchSamplerOptions) {
    const op = 'BatchSampler';
    checkInt(op, 'n', n, 1, 2 ** 31 - 1);
    if (typeof options !== 'object' || options === null) throw typeError(op, 'options', '{batchSize, shuffle, seed, dropLast}', options);
    this.n = n;
    this.batchSize = checkInt(op, 'batchSize', options.batchSize, 1, 2 ** 31 - 1);
    this.shuffle = options.shuffle ?? true;
    this.dropLast = options.dropLast ?? true;
    if (typeof this.shuffle !== 'boolean') throw typeError(op, 'shuffle', 'a boolean', options.shuffle);
    if (typeof this.dropLast !== 'boolean') throw typeError(op, 'dropLast', 'a boolean', options.dropLast);
    this.seedValue = options.seed === undefined ? randomInt(0, 2 ** 32 - 1) : checkInt(op, 'seed', options.seed, 0, 2 ** 32 - 1);
    if (this.dropLast && n < this.batchSize) {
      throw new RangeError(`${op}: batchSize ${this.batchSize} is larger than the data set (n = ${n}), so with dropLast every batch would be dropped; use a smaller batchSize or dropLast: false`);
    }
    this.order = epochOrder(n, this.seedValue, 0, this.shuffle);
  }

  /** The seed of the order (the restored one after `setState`). */
  get seed(): number {
    return this.seedValue;
  }
  /** Batches per epoch. */
  get length(): number {
    return batchCount(this.n, this.batchSize, this.dropLast);
  }
  /** Epochs completed so far (0 during the first). */
  get epoch(): number {
    return this.epochIndex;
  }
  /** Batches of the current epoch already served. */
  get position(): number {
    return this.pos;
  }

  private nextEpoch(): void {
    this.epochIndex++;
    this.pos = 0;
    this.order = epochOrder(this.n, this.seedValue, this.epochIndex, this.shuffle);
  }

  /** The index order of the current epoch (a copy; batches are consecutive runs of it). */
  epochOrder(): Int32Array {
    return this.order.slice();
  }

  /**
   * Yields the remaining batches of the current epoch (Int32Array each). The sampler moves to the next
   * epoch as it hands out the last batch, so `state()` taken while a batch is being used always resumes
   * with the batch after it (the next epoch's first, after the last).
   */
  *[Symbol.iterator](): IterableIterator<Int32Array> {
    if (this.pos >= this.length) this.nextEpoch();
    const epoch = this.epochIndex;
    while (this.epochIndex === epoch) {
      const start = this.pos * this.batchSize;
      const batch = this.order.slice(start, Math.min(start + this.batchSize, this.n));
      this.pos++;
      if (this.pos >= this.length) this.nextEpoch();
      yield batch;
    }
  }

  /** Like iterating the sampler, but each batch is an int64 Tensor on `device` (default cpu); dispose them or use tidy. */
  *tensors(device?: Device | string): IterableIterator<Tensor> {
    for (const batch of this) yield tensor(batch, { dtype: 'int64', device });
  }

  /** The sampler's position as plain JSON: save it with a checkpoint and pass it to `setState` to resume. */
  state(): BatchSamplerState {
    return {
      version: 2,
      n: this.n,
      batchSize: this.batchSize,
      shuffle: this.shuffle,
      dropLast: this.dropLast,
      seed: this.seed,
      epoch: this.epochIndex,
      position: this.pos,
    };
  }

  /**
   * Restores a position saved by `state()` (of a sampler with the same n, batchSize, shuffle and dropLast):
   * the next batch served is the one that followed when the state was taken.
   */
  setState(state: BatchSamplerState): void {
    const op = 'BatchSampler.setState';
    if (typeof state !== 'object' || state === null || state.version !== 2) throw typeError(op, 'state', 'an object from BatchSampler.state() (version 2)', state);
    for (const key of ['n', 'batchSize', 'shuffle', 'dropLast'] as const) {
      if (state[key] !== this[key]) {
        throw new Error(`${op}: the state was saved by a sampler with ${key} = ${String(state[key])}, but this sampler has ${key} = ${String(this[key])}`);
      }
    }
    const epoch = checkInt(op, 'state.epoch', state.epoch, 0, 2 ** 32 - 1);
    const position = checkInt(op, 'state.position', state.position, 0, this.length);
    this.seedValue = checkInt(op, 'state.seed', state.seed, 0, 2 ** 32 - 1);
    this.epochIndex = epoch;
    this.pos = position;
    this.order = epochOrder(this.n, this.seedValue, epoch, this.shuffle);
  }
}
