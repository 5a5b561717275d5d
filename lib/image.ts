/**
 * Images to model inputs for Node services: decode (JPEG, PNG, WebP, ... with sharp), resize, centre-crop,
 * scale to [0, 1] and normalise, as torchvision's `Resize(size) + CenterCrop(crop) + ToTensor() +
 * Normalize(mean, std)` does, giving a float32 [1, 3, H, W] tensor.
 *
 * sharp decodes; resizing is PIL's antialiased bilinear resampling (what torchvision's `Resize` does to PIL
 * images), reimplemented here with PIL's fixed-point arithmetic, so a decoded image resizes to the same bytes
 * as in PIL. sharp's own resize kernels differ from PIL's by up to 54/255 on upscaled CIFAR images
 * (measured; see test/image.test.ts), which is why it is not used. What remains is the JPEG decoder (sharp's
 * libjpeg vs PIL's): at most a level or two on some pixels.
 */
import * as fs from 'fs';
import { tensor } from './creation';
import type { Tensor } from './tensor';
import { checkInt, checkNumber, checkOneOf, knownOptions, rangeError, typeError } from './validate';

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
  knownOptions(op, options, KNOWN);
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
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    raw = await sharp(source, { failOn: 'error' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`${op}: could not decode ${typeof image === 'string' ? image : 'the buffer'} as an image: ${(e as Error).message}`);
  }
  if (raw.info.channels !== 3) throw new Error(`${op}: decoding gave ${raw.info.channels} channels, expected 3`);
  let pixels: Uint8Array = raw.data;
  let [h, w] = [raw.info.height, raw.info.width];
  if (size) {
    // torchvision: the shorter side becomes `size`, the longer one int(size * long / short).
    const [oh, ow] = mode === 'shorter' ? (h <= w ? [size[0], Math.floor((size[0] * w) / h)] : [Math.floor((size[0] * h) / w), size[0]]) : size;
    pixels = resizeBilinear(pixels, w, h, ow, oh);
    [h, w] = [oh, ow];
  }
  let [top, left] = [0, 0];
  if (crop) {
    const [ch, cw] = crop;
    if (ch > h || cw > w) throw rangeError(op, 'centerCrop', `at most the resized size [${h}, ${w}]`, crop);
    top = roundHalfEven((h - ch) / 2);
    left = roundHalfEven((w - cw) / 2);
  }
  const [oh, ow] = crop ?? [h, w];
  // HWC uint8 -> CHW float32, in float32 arithmetic as torchvision (x / 255, then (x - mean) / std).
  const f = Math.fround;
  const out = new Float32Array(3 * oh * ow);
  const m = (mean ?? [0, 0, 0]).map(f);
  const sd = (std ?? [1, 1, 1]).map(f);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let v = f(pixels[((y + top) * w + x + left) * 3 + c] / 255);
        if (mean) v = f(v - m[c]);
        if (std) v = f(v / sd[c]);
        out[(c * oh + y) * ow + x] = v;
      }
    }
  }
  return tensor(out, { shape: [1, 3, oh, ow] });
}

// ---------------------------------------------------------------- PIL's bilinear resampling (Resample.c)

const PRECISION_BITS = 32 - 8 - 2;

/** Per output position: first input index, tap count, and fixed-point weights (PIL's precompute_coeffs + normalize_coeffs_8bpc). */
function coefficients(inSize: number, outSize: number): { bounds: Int32Array; weights: Int32Array; taps: number } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale; // the bilinear filter's support is 1
  const taps = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * taps);
  const k = new Float64Array(taps);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < taps; x++) {
      const w = x < xmax && ww !== 0 ? k[x] / ww : 0;
      weights[xx * taps + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, weights, taps };
}

function clip8(v: number): number {
  if (v >= 1 << (8 + PRECISION_BITS)) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / (1 << PRECISION_BITS));
}

/**
 * Resizes RGB uint8 pixels (HWC) as PIL's `Image.resize(size, Image.BILINEAR)` does: horizontal pass over
 * the rows the vertical pass needs, rounding to uint8, then the vertical pass.
 */
function resizeBilinear(src: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array {
  const horiz = coefficients(w, ow);
  const vert = coefficients(h, oh);
  const needH = ow !== w;
  const needV = oh !== h;
  let img = src;
  let rows = h;
  let first = 0;
  if (needH) {
    first = needV ? vert.bounds[0] : 0;
    const last = needV ? vert.bounds[(oh - 1) * 2] + vert.bounds[(oh - 1) * 2 + 1] : h;
    rows = last - first;
    const tmp = new Uint8Array(rows * ow * 3);
    for (let y = 0; y < rows; y++) {
      const row = (y + first) * w * 3;
      for (let x = 0; x < ow; x++) {
        const xmin = horiz.bounds[x * 2];
        const n = horiz.bounds[x * 2 + 1];
        const k = x * horiz.taps;
        let s0 = 1 << (PRECISION_BITS - 1);
        let s1 = s0;
        let s2 = s0;
        for (let t = 0; t < n; t++) {
          const p = row + (xmin + t) * 3;
          const wt = horiz.weights[k + t];
          s0 += src[p] * wt;
          s1 += src[p + 1] * wt;
          s2 += src[p + 2] * wt;
        }
        const o = (y * ow + x) * 3;
        tmp[o] = clip8(s0);
        tmp[o + 1] = clip8(s1);
        tmp[o + 2] = clip8(s2);
      }
    }
    img = tmp;
  }
  const cw = needH ? ow : w;
  if (!needV) return img;
  const out = new Uint8Array(oh * cw * 3);
  for (let y = 0; y < oh; y++) {
    const ymin = vert.bounds[y * 2] - first;
    const n = vert.bounds[y * 2 + 1];
    const k = y * vert.taps;
    for (let x = 0; x < cw; x++) {
      let s0 = 1 << (PRECISION_BITS - 1);
      let s1 = s0;
      let s2 = s0;
      for (let t = 0; t < n; t++) {
        const p = ((ymin + t) * cw + x) * 3;
        const wt = vert.weights[k + t];
        s0 += img[p] * wt;
        s1 += img[p + 1] * wt;
        s2 += img[p + 2] * wt;
      }
      const o = (y * cw + x) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return out;
}
