/**
 * The image decoder: JPEG files decoded by the addon (libjpeg-turbo) on its own threads, straight into a
 * batch tensor, with torchvision's transforms applied on the way (RandomResizedCrop + flip, or Resize +
 * CenterCrop); other formats (a PNG named .JPEG) and builds without libjpeg go through sharp, then the
 * same native resampling. Results match PIL's `Image.open(f).convert('RGB')` followed by torchvision's
 * PIL transforms (bit for bit with `dctScaling: false`).
 */
import { native, type DecoderHandle } from '../native';
import type { Tensor } from '../tensor';

/** A per-sample transform that the native decoder applies to each image it writes into a batch. */
export interface ImageTransform {
  /** `train`: torchvision's RandomResizedCrop + horizontal flip; `val`: Resize + CenterCrop; `resize`: stretch. */
  mode: 'train' | 'val' | 'resize';
  /** Output height in pixels. */
  height: number;
  /** Output width in pixels. */
  width: number;
  /** `train`: the crop's area range as a fraction of the image (torchvision's default [0.08, 1]). */
  scale?: [number, number];
  /** `train`: the crop's aspect-ratio range (default [3/4, 4/3]). */
  ratio?: [number, number];
  /** `train`: flip horizontally with probability 1/2 (default true). */
  flip?: boolean;
  /** `val`: the shorter side before the centre crop (default 256; at least the output size). */
  resizeSize?: number;
  /** Let libjpeg-turbo decode at 1/2, 1/4 or 1/8 scale when the output is that much smaller (default true). */
  dctScaling?: boolean;
}

/** A batch being decoded (`ImageDecoder.decodeBatch`). */
export interface DecodeJob {
  /** Settles with the images that were not written (empty when all went well). */
  promise: Promise<DecodeFailure[]>;
  /** Skips the images not yet started (they are reported as `cancelled`). */
  cancel: () => void;
}

/** Why one image of a batch was not written. */
export interface DecodeFailure {
  /** Position in the batch's file list. */
  index: number;
  /** File that failed. */
  file: string;
  /** `corrupt`: truncated or undecodable data; `error`: unreadable, not a regular file, too large...; `cancelled`. */
  status: 'corrupt' | 'error' | 'cancelled';
  message: string;
}

/** Whether the addon was built with libjpeg, and which. */
export function jpegInfo(): { available: boolean; library: string } {
  return native().jpegInfo();
}

type Sharp = (typeof import('sharp'))['default'];
let sharpModule: Sharp | undefined;
async function sharp(): Promise<Sharp> {
  sharpModule ??= (await import('sharp')).default;
  return sharpModule;
}

/**
 * Decodes any image sharp reads to RGB HWC: alpha dropped, greyscale expanded (as PIL's convert('RGB')).
 * Rejects with the reason when the file cannot be decoded; a truncated file is an error (failOn: 'warning').
 */
export async function decodeWithSharp(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const s = await sharp();
  const { data, info } = await s(file, { failOn: 'warning' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels instead of 3`);
  return { data, width: info.width, height: info.height };
}

let warned = false;

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .trim()
    .split('\n')[0];
}

/**
 * A pool of decoder threads. `decodeBatch` writes each file's transformed sample into its slot of a uint8
 * `[B, 3, H, W]` CPU tensor (pinned or not) and reports the files it could not decode; nothing else runs on
 * the JS thread per image, except for the rare non-JPEG file.
 */
export class ImageDecoder {
  private handle: DecoderHandle | undefined;
  /** Number of decoder threads. */
  readonly workers: number;
  /** Batches submitted and not yet settled (the bound `prefetch` keeps). */
  inFlight = 0;
  /** The most batches ever in flight at once. */
  maxInFlight = 0;

  /** Starts `workers` threads. */
  constructor(workers: number) {
    this.handle = native().jpegDecoderCreate(workers);
    this.workers = workers;
    if (!warned && !native().jpegInfo().available) {
      warned = true;
      process.emitWarning('ictorch was built without libjpeg (install libjpeg62-turbo-dev or your system\'s libjpeg-turbo headers and rebuild): JPEGs are decoded with sharp, more slowly');
    }
  }

  /**
   * Decodes `files[i]` with `transform` and seed `seeds[i]` into sample `slots[i]` of `out`. Resolves with the
   * failures (empty when all went well); `cancel()` on the returned handle skips images not yet started.
   */
  decodeBatch(files: string[], slots: Int32Array, seeds: Uint32Array, transform: ImageTransform, out: Tensor): DecodeJob {
    if (!this.handle) throw new Error('ImageDecoder: the decoder has been disposed');
    const handle = this.handle;
    const n = native();
    const { id, promise } = n.jpegDecodeBatch(handle, files, slots, seeds, transform, out.handle);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const settled = promise.then(async (raw) => {
      const failures: DecodeFailure[] = [];
      const others: number[] = [];
      for (const f of raw) {
        if (f.status === 'notJpeg') others.push(f.index);
        else failures.push({ index: f.index, file: files[f.index], status: f.status, message: f.message });
      }
      // Not a JPEG (or no libjpeg in this build): sharp decodes, the native resampler transforms.
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < others.length) {
          const i = others[next++];
          try {
            const img = await decodeWithSharp(files[i]);
            n.jpegTransformRgb(img.data, img.width, img.height, transform, seeds[i], out.handle, slots[i]);
          } catch (e) {
            failures.push({ index: i, file: files[i], status: 'corrupt', message: firstLine(e) });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.workers, others.length) }, worker));
      return failures.sort((a, b) => a.index - b.index);
    });
    const done = settled.finally(() => {
      this.inFlight--;
    });
    return { promise: done, cancel: () => n.jpegCancel(handle, id) };
  }

  /** Stops the threads (images being decoded finish, queued ones are cancelled). Idempotent. */
  dispose(): void {
    if (!this.handle) return;
    native().jpegDecoderDispose(this.handle);
    this.handle = undefined;
  }

  /** True after dispose(). */
  get isDisposed(): boolean {
    return this.handle === undefined;
  }
}

/**
 * Decodes one whole image file to RGB HWC (`[height, width, 3]` bytes), resized to `size = [height,
 * width]` (PIL's bilinear resampling, stretching) when given: the colours of PIL's
 * `Image.open(f).convert('RGB')` (CMYK and greyscale JPEGs included). Non-JPEG files go through sharp.
 * Rejects with the reason when the file cannot be decoded.
 */
export async function decodeImageFile(file: string, size?: readonly [number, number]): Promise<{ data: Buffer; width: number; height: number }> {
  const n = native();
  const r = await n.jpegDecodeImage(file, size ? size[0] : null, size ? size[1] : null);
  if (r.status === 'ok' && r.data) return { data: r.data, width: r.width, height: r.height };
  if (r.status !== 'notJpeg') throw new Error(r.message);
  const img = await decodeWithSharp(file);
  if (!size) return img;
  const chw = new Uint8Array(3 * size[0] * size[1]);
  n.jpegTransformRgb(img.data, img.width, img.height, { mode: 'resize', height: size[0], width: size[1] }, 0, chw, 0);
  const plane = size[0] * size[1];
  const hwc = Buffer.allocUnsafe(3 * plane);
  for (let p = 0; p < plane; p++) {
    hwc[3 * p] = chw[p];
    hwc[3 * p + 1] = chw[plane + p];
    hwc[3 * p + 2] = chw[2 * plane + p];
  }
  return { data: hwc, width: size[1], height: size[0] };
}
