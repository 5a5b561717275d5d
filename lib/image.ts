/**
 * Images to model inputs for Node services: decode (JPEG, PNG, WebP, ... with sharp), resize, centre-crop,
 * scale to [0, 1] and normalise, as torchvision's `Resize(size) + CenterCrop(crop) + ToTensor() +
 * Normalize(mean, std)` does, giving a float32 [1, 3, H, W] tensor.
 *
 * Resizing uses sharp's `linear` kernel, the closest to PIL's antialiased bilinear filter that torchvision
 * applies to PIL images; test/image.test.ts measures the difference on real CIFAR-10 JPEGs (upscaled and
 * downscaled) against torchvision.
 */
import * as fs from 'fs';
import { tensor } from './creation';
import type { Tensor } from './tensor';
import { checkInt, checkNumber, checkOneOf, rangeError, typeError } from './validate';

/** Options of `imageToTensor`. */
export interface ImageToTensorOptions {
  /**
   * Target size. With `resize: 'shorter'` (default) a number: the shorter side becomes `size`, the other
   * keeps the aspect ratio (torchvision's `Resize(int)`). With `resize: 'exact'`: `[height, width]` or a
   * number for a square. Absent: no resizing.
   */
  size?: number | [number, number];
  /** How `size` is applied (see `size`). */
  resize?: 'shorter' | 'exact';
  /** Crop the centre to this size (`[height, width]` or a number for a square), after resizing. */
  centerCrop?: number | [number, number];
  /** Per-channel mean subtracted after scaling to [0, 1] (e.g. ImageNet's [0.485, 0.456, 0.406]). */
  mean?: [number, number, number];
  /** Per-channel standard deviation divided by after subtracting the mean (e.g. [0.229, 0.224, 0.225]). */
  std?: [number, number, number];
}

const KNOWN = ['size', 'resize', 'centerCrop', 'mean', 'std'];

function hw(op: string, arg: string, v: unknown): [number, number] {
  if (typeof v === 'number') return [checkInt(op, arg, v, 1), v];
  if (Array.isArray(v) && v.length === 2) return [checkInt(op, `${arg}[0]`, v[0], 1), checkInt(op, `${arg}[1]`, v[1], 1)];
  throw typeError(op, arg, 'a positive integer or [height, width]', v);
}

function triple(op: string, arg: string, v: unknown): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3) throw typeError(op, arg, 'three numbers (one per RGB channel)', v);
  return v.map((x, i) => checkNumber(op, `${arg}[${i}]`, x)) as [number, number, number];
}

/** Python's round(): halves go to the even neighbour (torchvision's centre-crop offsets use it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Decodes an image (a Buffer, or a file path) into a normalised float32 tensor [1, 3, H, W]: RGB (alpha
 * dropped, greyscale expanded), resized and centre-cropped as asked, scaled to [0, 1], then
 * `(x - mean) / std` per channel when given. EXIF orientation is ignored, as PIL does.
 */
export async function imageToTensor(image: Buffer | Uint8Array | string, options: ImageToTensorOptions = {}): Promise<Tensor> {
  const op = 'imageToTensor';
  if (typeof image !== 'string' && !(image instanceof Uint8Array)) throw typeError(op, 'image', 'a Buffer or a file path', image);
  if (!options || typeof options !== 'object') throw typeError(op, 'options', `an object {${KNOWN.join(', ')}}`, options);
  const extra = Object.keys(options).find((k) => !KNOWN.includes(k));
  if (extra !== undefined) throw typeError(op, `options.${extra}`, `one of the options ${KNOWN.join(', ')}`, extra);
  const mode = checkOneOf(op, 'resize', options.resize ?? 'shorter', ['shorter', 'exact'] as const);
  if (mode === 'shorter' && options.size !== undefined && typeof options.size !== 'number') {
    throw typeError(op, 'size', "a number with resize: 'shorter' (use resize: 'exact' for [height, width])", options.size);
  }
  const size = options.size === undefined ? null : hw(op, 'size', options.size);
  const crop = options.centerCrop === undefined ? null : hw(op, 'centerCrop', options.centerCrop);
  const mean = options.mean === undefined ? null : triple(op, 'mean', options.mean);
  const std = options.std === undefined ? null : triple(op, 'std', options.std);
  if (std?.some((s) => s === 0)) throw rangeError(op, 'std', 'non-zero numbers', std);
  if (typeof image === 'string' && !fs.existsSync(image)) throw new Error(`${op}: cannot read ${image}: no such file`);

  const sharp = (await import('sharp')).default;
  const source = typeof image === 'string' ? image : Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  let meta;
  try {
    meta = await sharp(source).metadata();
  } catch (e) {
    throw new Error(`${op}: could not decode ${typeof image === 'string' ? image : 'the buffer'} as an image: ${(e as Error).message}`);
  }
  if (!meta.width || !meta.height) throw new Error(`${op}: ${typeof image === 'string' ? image : 'the buffer'} has no pixel size`);
  let [h, w] = [meta.height, meta.width];
  let pipeline = sharp(source, { failOn: 'error' }).removeAlpha().toColourspace('srgb');
  if (size) {
    if (mode === 'shorter') {
      // torchvision: the shorter side becomes `size`, the longer one int(size * long / short).
      const s = size[0];
      [h, w] = h <= w ? [s, Math.floor((s * w) / h)] : [Math.floor((s * h) / w), s];
    } else {
      [h, w] = size;
    }
    pipeline = pipeline.resize({ width: w, height: h, fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false });
  }
  if (crop) {
    const [ch, cw] = crop;
    if (ch > h || cw > w) throw rangeError(op, 'centerCrop', `at most the resized size [${h}, ${w}]`, crop);
    const top = roundHalfEven((h - ch) / 2);
    const left = roundHalfEven((w - cw) / 2);
    pipeline = pipeline.extract({ left, top, width: cw, height: ch });
    [h, w] = [ch, cw];
  }
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    raw = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`${op}: could not decode ${typeof image === 'string' ? image : 'the buffer'} as an image: ${(e as Error).message}`);
  }
  const { data, info } = raw;
  if (info.channels !== 3 || info.width !== w || info.height !== h) throw new Error(`${op}: decoding gave ${info.width}x${info.height}x${info.channels}, expected ${w}x${h}x3`);
  // HWC uint8 -> CHW float32, in float32 arithmetic as torchvision (x / 255, then (x - mean) / std).
  const f = Math.fround;
  const out = new Float32Array(3 * h * w);
  const m = (mean ?? [0, 0, 0]).map(f);
  const sd = (std ?? [1, 1, 1]).map(f);
  for (let c = 0; c < 3; c++) {
    const plane = c * h * w;
    for (let i = 0; i < h * w; i++) {
      let v = f(data[i * 3 + c] / 255);
      if (mean) v = f(v - m[c]);
      if (std) v = f(v / sd[c]);
      out[plane + i] = v;
    }
  }
  return tensor(out, { shape: [1, 3, h, w] });
}
