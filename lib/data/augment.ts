/**
 * Batched, device-side augmentation for CIFAR-style training: random crops of the zero-padded image,
 * random horizontal flips and per-channel normalisation, all as a handful of tensor ops on the images'
 * own device (no per-image loop, no host round trip). Randomness comes from `randint` on that device, so
 * `manualSeed` / `rngState` govern it.
 */
import { arange, randint, tensor, where } from '../creation';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { mulberry32 } from '../util/prng';
import { checkInt, rangeError, typeError } from '../validate';

/** Per-channel mean of the CIFAR-10 training images (RGB, on the 0..1 scale). */
export const CIFAR10_MEAN: readonly [number, number, number] = [0.4914, 0.4822, 0.4465];
/** Per-channel standard deviation of the CIFAR-10 training images (RGB, on the 0..1 scale). */
export const CIFAR10_STD: readonly [number, number, number] = [0.247, 0.2435, 0.2616];
/** Per-channel mean of the CIFAR-100 training images (RGB, on the 0..1 scale). */
export const CIFAR100_MEAN: readonly [number, number, number] = [0.5071, 0.4865, 0.4409];
/** Per-channel standard deviation of the CIFAR-100 training images (RGB, on the 0..1 scale). */
export const CIFAR100_STD: readonly [number, number, number] = [0.2673, 0.2564, 0.2762];

/** Options of `normalizeBatch`. */
export interface NormalizeOptions {
  /** Per-channel mean on the 0..1 scale (default `CIFAR10_MEAN`). */
  mean?: readonly number[];
  /** Per-channel standard deviation on the 0..1 scale (default `CIFAR10_STD`). */
  std?: readonly number[];
}

/** Options of `augmentBatch`. */
export interface AugmentOptions extends NormalizeOptions {
  /** Zero padding on each side before the random crop back to the original size (default 4; 0 turns cropping off). */
  padding?: number;
  /** Flip each image horizontally with probability 1/2 (default true). */
  flip?: boolean;
}

function checkImages(op: string, images: unknown): [number, number, number, number] {
  if (!(images instanceof Tensor)) throw typeError(op, 'images', 'a uint8 Tensor [B, C, H, W]', images);
  if (images.isDisposed) throw typeError(op, 'images', 'a live Tensor (this one has been disposed)', images);
  const shape = images.shape;
  if (images.dtype !== 'uint8' || shape.length !== 4) {
    throw new TypeError(`${op}: expected a uint8 Tensor [B, C, H, W] for images but received a ${images.dtype} Tensor of shape [${shape.join(', ')}]`);
  }
  return shape as [number, number, number, number];
}

function checkStats(op: string, arg: string, v: unknown, channels: number, positive: boolean): number[] {
  if (!Array.isArray(v) || v.length !== channels || v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0))) {
    throw typeError(op, arg, `an array of ${channels} finite${positive ? ' positive' : ''} numbers (one per channel)`, v);
  }
  return v as number[];
}

// (x / 255 - mean) / std  ==  x * (1 / (255 std)) - mean / std, per channel, as float32.
function normalize(op: string, x: Tensor, channels: number, options: NormalizeOptions): Tensor {
  const mean = checkStats(op, 'mean', options.mean ?? CIFAR10_MEAN, channels, false);
  const std = checkStats(op, 'std', options.std ?? CIFAR10_STD, channels, true);
  const device = x.device;
  const scale = tensor(std.map((s) => 1 / (255 * s)), { device }).view(1, channels, 1, 1);
  const shift = tensor(mean.map((m, c) => m / std[c]), { device }).view(1, channels, 1, 1);
  return x.to('float32').mul(scale).sub(shift);
}

/**
 * Normalises a batch without augmentation (for evaluation): uint8 `[B, C, H, W]` on any device →
 * float32 `[B, C, H, W]` on the same device, `(x / 255 - mean) / std` per channel.
 */
export function normalizeBatch(images: Tensor, options: NormalizeOptions = {}): Tensor {
  const [, C] = checkImages('normalizeBatch', images);
  if (typeof options !== 'object' || options === null) throw typeError('normalizeBatch', 'options', '{mean, std}', options);
  return tidy(() => normalize('normalizeBatch', images, C, options));
}

// Crops each image of the zero-padded batch at its own offset (rowOff, colOff: int64 [B, 1], each in
// 0..2·padding) and mirrors those with `flips` (bool [B, 1]) set: one gather on the batch's device.
function padCropFlip(images: Tensor, padding: number, rowOff: Tensor | null, colOff: Tensor | null, flips: Tensor | null): Tensor {
  const [B, C, H, W] = images.shape;
  const device = images.device;
  const padded = padding > 0 ? images.pad([padding, padding, padding, padding], 0) : images;
  // Per-image row and column index grids into the padded image: [B, H] and [B, W].
  let rows = arange(H, undefined, 1, { device }).unsqueeze(0);
  let cols = arange(W, undefined, 1, { device }).unsqueeze(0);
  rows = rowOff ? rows.add(rowOff) : rows.expand(B, H);
  cols = colOff ? cols.add(colOff) : cols.expand(B, W);
  if (flips) cols = where(flips, cols.flip(1), cols);
  const b = arange(B, undefined, 1, { device }).view(B, 1, 1, 1);
  const c = arange(C, undefined, 1, { device }).view(1, C, 1, 1);
  return padded.index(b, c, rows.view(B, 1, H, 1), cols.view(B, 1, 1, W));
}

/**
 * The standard CIFAR training augmentation on a whole batch, on the batch's device: each image is
 * zero-padded by `padding` pixels on every side and cropped back to H×W at its own random offset
 * (dy, dx in 0..2·padding), flipped horizontally with probability 1/2 (when `flip`), then normalised
 * per channel as in `normalizeBatch`. uint8 `[B, C, H, W]` in, float32 `[B, C, H, W]` out.
 * The offsets and flips are drawn with `randint` on the images' device (crop rows, crop columns, then
 * flips), so `manualSeed` makes the result repeat.
 */
export function augmentBatch(images: Tensor, options: AugmentOptions = {}): Tensor {
  const op = 'augmentBatch';
  const [B, C] = checkImages(op, images);
  if (typeof options !== 'object' || options === null) throw typeError(op, 'options', '{padding, flip, mean, std}', options);
  const padding = checkInt(op, 'padding', options.padding ?? 4, 0, 1 << 20);
  const flip = options.flip ?? true;
  if (typeof flip !== 'boolean') throw typeError(op, 'flip', 'a boolean', flip);
  if (B === 0) throw rangeError(op, 'images', 'a batch of at least one image', images.shape);
  return tidy(() => {
    const device = images.device;
    if (padding === 0 && !flip) return normalize(op, images, C, options);
    const rowOff = padding > 0 ? randint(0, 2 * padding + 1, [B, 1], { device }) : null;
    const colOff = padding > 0 ? randint(0, 2 * padding + 1, [B, 1], { device }) : null;
    const flips = flip ? randint(0, 2, [B, 1], { device }).eq(1) : null;
    return normalize(op, padCropFlip(images, padding, rowOff, colOff, flips), C, options);
  });
}

/** Options of `cropFlipBatch`. */
export interface CropFlipOptions {
  /** Zero padding on each side before the random crop back to the original size (default 4; 0: no cropping). */
  padding?: number;
  /** Flip each image horizontally with probability 1/2 (default true). */
  flip?: boolean;
}

function cropFlipOptions(op: string, options: CropFlipOptions): { padding: number; flip: boolean } {
  if (typeof options !== 'object' || options === null) throw typeError(op, 'options', '{padding, flip}', options);
  const padding = checkInt(op, 'padding', options.padding ?? 4, 0, 1 << 20);
  const flip = options.flip ?? true;
  if (typeof flip !== 'boolean') throw typeError(op, 'flip', 'a boolean', flip);
  return { padding, flip };
}

/**
 * Each image's crop offsets and flip for `cropFlipBatch`, drawn from its own seed (mulberry32: row offset,
 * column offset, then flip): `[dy, dx, flip]` per image, row-major in one BigInt64Array of 3·B values.
 */
export function cropFlipParams(seeds: Uint32Array, options: CropFlipOptions = {}): BigInt64Array {
  const { padding } = cropFlipOptions('cropFlipParams', options);
  if (!(seeds instanceof Uint32Array)) throw typeError('cropFlipParams', 'seeds', 'a Uint32Array of per-image seeds', seeds);
  const out = new BigInt64Array(3 * seeds.length);
  const span = 2 * padding + 1;
  for (let i = 0; i < seeds.length; i++) {
    const next = mulberry32(seeds[i]);
    out[3 * i] = BigInt(Math.floor(next() * span));
    out[3 * i + 1] = BigInt(Math.floor(next() * span));
    out[3 * i + 2] = next() < 0.5 ? 1n : 0n;
  }
  return out;
}

/**
 * The CIFAR training transform (padded random crop and horizontal flip) on a uint8 batch, with each
 * image's randomness drawn from its own seed (`seeds[i]`, e.g. `sampleSeed(seed, epoch, index)`): the
 * result depends only on the seeds, not on batching, order or timing. `params` may instead be the int64
 * `[B, 3]` tensor of `cropFlipParams` already on the batch's device (no host transfer per batch).
 * uint8 `[B, C, H, W]` in and out, on the batch's device; normalise afterwards (`normalizeBatch`).
 */
export function cropFlipBatch(images: Tensor, params: Uint32Array | Tensor, options: CropFlipOptions = {}): Tensor {
  const op = 'cropFlipBatch';
  const [B] = checkImages(op, images);
  const { padding, flip } = cropFlipOptions(op, options);
  const isTensor = params instanceof Tensor;
  if (isTensor ? params.dtype !== 'int64' || params.ndim !== 2 || params.shape[0] !== B || params.shape[1] !== 3 : !(params instanceof Uint32Array) || params.length !== B) {
    throw typeError(op, 'params', `a Uint32Array of ${B} seeds (one per image) or an int64 Tensor [${B}, 3] from cropFlipParams`, params);
  }
  if (B === 0 || (padding === 0 && !flip)) return images.clone();
  return tidy(() => {
    const device = images.device;
    const p = isTensor ? params.to({ device }) : tensor(cropFlipParams(params, { padding, flip }), { shape: [B, 3], device });
    const rowOff = padding > 0 ? p.narrow(1, 0, 1) : null;
    const colOff = padding > 0 ? p.narrow(1, 1, 1) : null;
    const flips = flip ? p.narrow(1, 2, 1).eq(1) : null;
    return padCropFlip(images, padding, rowOff, colOff, flips);
  });
}
