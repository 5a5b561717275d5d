/**
 * Sample order of an epoch, as pure functions: the order of epoch e under seed s is a permutation drawn
 * from `hash32(s, e)` alone, so any epoch can be rebuilt without replaying the ones before it (resume),
 * and every process computes the same one (sharding). A shard takes every `worldSize`-th position of the
 * order, from `rank`: shards are disjoint and together cover the epoch.
 */
import { hash32, mulberry32Step } from '../util/prng';
import { checkInt, checkKeys, rangeError, typeError } from '../validate';

/** The order of epoch `epoch`: a permutation of 0..n-1 (Fisher–Yates on mulberry32), or 0..n-1 without shuffling. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!shuffle) return order;
  let s = hash32(seed, epoch);
  for (let i = n - 1; i > 0; i--) {
    let r: number;
    [s, r] = mulberry32Step(s);
    const j = Math.floor((r / 4294967296) * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** The positions of `order` that shard `rank` of `worldSize` takes: rank, rank + worldSize, ... */
export function shardOf(order: Int32Array, rank: number, worldSize: number): Int32Array {
  if (worldSize === 1) return order;
  const out = new Int32Array(Math.ceil((order.length - rank) / worldSize));
  for (let i = rank, k = 0; i < order.length; i += worldSize, k++) out[k] = order[i];
  return out;
}

/** Number of samples in shard `rank` of `worldSize` over `n` samples. */
export function shardLength(n: number, rank: number, worldSize: number): number {
  return Math.max(0, Math.ceil((n - rank) / worldSize));
}

/** Batches in an epoch of `n` samples. */
export function batchCount(n: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** The seed of sample `index`'s augmentation in epoch `epoch` (random crop box, flip): independent of batching and order. */
export function sampleSeed(seed: number, epoch: number, index: number): number {
  return hash32(seed, epoch, index, 0x5eed);
}

/** Validated sharding options: [rank, worldSize]. */
export function checkShard(op: string, rank: unknown, worldSize: unknown): [number, number] {
  const w = checkInt(op, 'worldSize', worldSize ?? 1, 1, 1 << 20);
  const r = checkInt(op, 'rank', rank ?? 0, 0, 1 << 20);
  if (r >= w) throw rangeError(op, 'rank', `an integer in [0, worldSize = ${w})`, r);
  return [r, w];
}

/** The names `DataSplit.batches` accepts. */
export const BATCHES_OPTIONS = ['batchSize', 'seed', 'epoch', 'shuffle', 'dropLast', 'augment', 'start', 'rank', 'worldSize', 'device', 'prefetch', 'signal'] as const;

/** One epoch of a split, resolved from `BatchesOptions`: which samples, in which batches. */
export interface EpochPlan {
  batchSize: number;
  seed: number;
  epoch: number;
  shuffle: boolean;
  dropLast: boolean;
  augment: boolean;
  start: number;
  rank: number;
  worldSize: number;
  device: string;
  prefetch: number;
  signal: AbortSignal | undefined;
  /** This shard's samples in epoch order. */
  order: Int32Array;
  /** Batches of this shard in the epoch. */
  count: number;
  /** The sample indices of batch `p`. */
  batch(p: number): Int32Array;
}

/**
 * Validates `BatchesOptions` for a split of `n` samples (`training` picks the defaults: shuffle, dropLast and
 * augment on for training splits, off otherwise) and computes the epoch's order and batches. Every split
 * implementation calls this, so all of them read their options and order samples the same way.
 */
export function planEpoch(op: string, n: number, training: boolean, options: unknown): EpochPlan {
  checkKeys(op, 'options', options, BATCHES_OPTIONS);
  const o = options as Record<string, unknown>;
  const batchSize = checkInt(op, 'batchSize', o.batchSize, 1, 2 ** 31 - 1);
  const seed = checkInt(op, 'seed', o.seed ?? 0, 0, 2 ** 32 - 1);
  const epoch = checkInt(op, 'epoch', o.epoch ?? 0, 0, 2 ** 32 - 1);
  const bool = (k: string, dflt: boolean): boolean => {
    const v = o[k] ?? dflt;
    if (typeof v !== 'boolean') throw typeError(op, k, 'a boolean', v);
    return v;
  };
  const shuffle = bool('shuffle', training);
  const dropLast = bool('dropLast', training);
  const augment = bool('augment', training);
  const [rank, worldSize] = checkShard(op, o.rank, o.worldSize);
  const device = o.device ?? 'cpu';
  if (typeof device !== 'string' || !/^(cpu|cuda(:\d+)?)$/.test(device)) throw typeError(op, 'device', '"cpu", "cuda" or "cuda:N"', device);
  const prefetch = checkInt(op, 'prefetch', o.prefetch ?? 2, 1, 64);
  const signal = o.signal as AbortSignal | undefined;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError(op, 'signal', 'an AbortSignal', signal);
  const order = shardOf(epochOrder(n, seed, epoch, shuffle), rank, worldSize);
  const count = batchCount(order.length, batchSize, dropLast);
  const start = checkInt(op, 'start', o.start ?? 0, 0, count);
  const batch = (p: number) => order.subarray(p * batchSize, Math.min(order.length, (p + 1) * batchSize));
  return { batchSize, seed, epoch, shuffle, dropLast, augment, start, rank, worldSize, device, prefetch, signal, order, count, batch };
}
