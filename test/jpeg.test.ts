// The native image decoder (native/jpeg.cc, native/decoder.cc, lib/data/jpeg.ts): torchvision's crop sampling,
// PIL's pixels (exactly without DCT scaling), odd JPEGs (CMYK, greyscale, PNG named .JPEG), corrupt and
// hostile files, bad arguments.
import { execFileSync } from 'child_process';
import sharp from 'sharp';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { ImageDecoder, decodeImageFile, jpegInfo, type ImageTransform } from '../lib/data/jpeg';
import { native } from '../lib/native';
import { mulberry32 } from '../lib/util/prng';
import { cifarJpeg, hasPil, pilOddFiles, pilReference, runPython } from './helpers/imagenet';

const jpegOk = jpegInfo().available;

// torchvision's RandomResizedCrop.get_params (and the flip draw) on mulberry32: the reference the C++ sampler must equal.
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  if (x - f === 0.5) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}
function refSample(W: number, H: number, scale: [number, number], ratio: [number, number], seed: number, flip: boolean) {
  const u = mulberry32(seed);
  const area = W * H;
  const lo = Math.log(ratio[0]);
  const hi = Math.log(ratio[1]);
  let box: { top: number; left: number; height: number; width: number; fallback: boolean } | undefined;
  for (let a = 0; a < 10 && !box; a++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * u());
    const ar = Math.exp(lo + (hi - lo) * u());
    const w = roundHalfEven(Math.sqrt(target * ar));
    const h = roundHalfEven(Math.sqrt(target / ar));
    if (w > 0 && w <= W && h > 0 && h <= H) {
      const top = Math.floor(u() * (H - h + 1));
      const left = Math.floor(u() * (W - w + 1));
      box = { top, left, height: h, width: w, fallback: false };
    }
  }
  if (!box) {
    const inRatio = W / H;
    let w = W;
    let h = H;
    if (inRatio < ratio[0]) h = roundHalfEven(W / ratio[0]);
    else if (inRatio > ratio[1]) w = roundHalfEven(H * ratio[1]);
    box = { top: Math.floor((H - h) / 2), left: Math.floor((W - w) / 2), height: h, width: w, fallback: true };
  }
  return { ...box, flip: flip ? u() < 0.5 : false };
}

describe('RandomResizedCrop sampling (native)', () => {
  const scale: [number, number] = [0.08, 1];
  const ratio: [number, number] = [3 / 4, 4 / 3];

  it('equals the TypeScript port of torchvision get_params on the same seeds', () => {
    const sizes: [number, number][] = [[500, 375], [375, 500], [224, 224], [17, 900], [1000, 12], [3, 2], [1, 1]];
    let fallbacks = 0;
    for (const [W, H] of sizes) {
      for (let seed = 0; seed < 1500; seed++) {
        const s = seed * 2654435761;
        const got = native().jpegSampleCrop(W, H, scale, ratio, s >>> 0, true);
        expect(got).toEqual(refSample(W, H, scale, ratio, s >>> 0, true));
        if (got.fallback) fallbacks++;
      }
    }
    expect(fallbacks).toBeGreaterThan(1000); // the 17x900 and 1000x12 images exercise the fallback
  });

  it('keeps the box inside the image with area and aspect within bounds (or the clamped centre crop)', () => {
    let flips = 0;
    const n = 4000;
    for (let seed = 0; seed < n; seed++) {
      const W = 50 + (seed % 450);
      const H = 40 + ((seed * 7) % 500);
      const c = native().jpegSampleCrop(W, H, scale, ratio, seed, true);
      expect(c.top).toBeGreaterThanOrEqual(0);
      expect(c.left).toBeGreaterThanOrEqual(0);
      expect(c.top + c.height).toBeLessThanOrEqual(H);
      expect(c.left + c.width).toBeLessThanOrEqual(W);
      expect(c.width).toBeGreaterThan(0);
      expect(c.height).toBeGreaterThan(0);
      if (!c.fallback) {
        // w and h are rounded: allow one pixel either way.
        expect((c.width + 1) * (c.height + 1)).toBeGreaterThanOrEqual(0.08 * W * H);
        expect((c.width - 1) * (c.height - 1)).toBeLessThanOrEqual(W * H);
        expect((c.width + 1) / Math.max(1, c.height - 1)).toBeGreaterThanOrEqual(3 / 4);
        expect(Math.max(0, c.width - 1) / (c.height + 1)).toBeLessThanOrEqual(4 / 3);
      }
      if (c.flip) flips++;
    }
    expect(flips / n).toBeGreaterThan(0.45);
    expect(flips / n).toBeLessThan(0.55);
    // Without flipping the box is the same and flip stays false.
    const a = native().jpegSampleCrop(500, 375, scale, ratio, 7, true);
    const b = native().jpegSampleCrop(500, 375, scale, ratio, 7, false);
    expect({ ...b, flip: a.flip }).toEqual(a);
    expect(b.flip).toBe(false);
  });

  it('falls back to the centre crop with the ratio clamped', () => {
    // A 1000x10 image: no attempt fits (h would exceed 10 for any area ≥ 8% at ratio ≤ 4/3).
    const c = native().jpegSampleCrop(1000, 10, scale, ratio, 3, false);
    expect(c).toEqual({ top: 0, left: Math.floor((1000 - 13) / 2), height: 10, width: 13, flip: false, fallback: true });
    const d = native().jpegSampleCrop(10, 1000, scale, ratio, 3, false);
    expect(d).toEqual({ top: Math.floor((1000 - 13) / 2), left: 0, height: 13, width: 10, flip: false, fallback: true });
  });

  it('rejects bad arguments with errors', () => {
    expect(() => native().jpegSampleCrop(0, 10, scale, ratio, 1, true)).toThrow(/width and height must be positive/);
    expect(() => native().jpegSampleCrop(10, 10, [0.5, 0.1], ratio, 1, true)).toThrow(/scale must be finite with 0 < lo <= hi/);
    expect(() => native().jpegSampleCrop(10, 10, scale, [NaN, 1], 1, true)).toThrow(/ratio/);
    expect(() => native().jpegSampleCrop(10, 10, scale, ratio, -1, true)).toThrow(/seed must be a uint32/);
  });
});

describe.skipIf(!jpegOk)('decoding and transforms vs PIL / torchvision', () => {
  let dir: string;
  let files: string[];
  let odd: Awaited<ReturnType<typeof pilOddFiles>> | undefined;
  let dec: ImageDecoder;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-jpeg-'));
    files = [];
    const sizes: [number, number][] = [[123, 91], [91, 130], [200, 150], [64, 48], [520, 381], [381, 520]];
    for (let i = 0; i < sizes.length; i++) {
      const f = path.join(dir, `img${i}.JPEG`);
      fs.writeFileSync(f, await cifarJpeg(i % 6, i, sizes[i]));
      files.push(f);
    }
    if (hasPil) odd = await pilOddFiles(files[4], dir);
    dec = new ImageDecoder(2);
  });
  afterAll(() => {
    dec.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function decode(list: string[], t: ImageTransform, seeds?: number[]): Promise<Uint8Array> {
    const out = torch.empty([list.length, 3, t.height, t.width], { dtype: 'uint8' });
    const job = dec.decodeBatch(list, Int32Array.from(list, (_, i) => i), Uint32Array.from(seeds ?? list.map((_, i) => i)), t, out);
    const failures = await job.promise;
    expect(failures).toEqual([]);
    const a = out.toArray() as Uint8Array;
    out.dispose();
    return a;
  }

  function maxDiff(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
    expect(a.length).toBe(b.length);
    let max = 0;
    let sum = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      sum += d;
      if (d > max) max = d;
    }
    return { max, mean: sum / a.length };
  }

  it.skipIf(!hasPil)('validation transform equals torchvision Resize + CenterCrop on PIL images exactly (no DCT scaling)', async () => {
    const all = [...files, odd!.cmyk, odd!.gray, odd!.png, odd!.rgba];
    const configs = [[32, 40], [56, 64], [224, 256]];
    const ref = await pilReference(configs.flatMap(([size, resize]) => all.map((file) => ({ file, op: 'val', size, resize }))));
    let offset = 0;
    for (const [size, resize] of configs) {
      const got = await decode(all, { mode: 'val', height: size, width: size, resizeSize: resize, dctScaling: false });
      expect(maxDiff(got, ref.subarray(offset, offset + got.length)).max).toBe(0);
      offset += got.length;
    }
  });

  it.skipIf(!hasPil)('training transform equals torchvision resized_crop + hflip on the sampled boxes exactly (no DCT scaling)', async () => {
    const all = [...files, odd!.cmyk, odd!.gray, odd!.png];
    const seeds = all.map((_, i) => (i * 977 + 13) >>> 0);
    const dims = await Promise.all(all.map(async (f) => sharp(f).metadata()));
    const configs = [24, 48];
    const got: Uint8Array[] = [];
    const items = [];
    let flips = 0;
    for (const size of configs) {
      const t: ImageTransform = { mode: 'train', height: size, width: size, scale: [0.08, 1], ratio: [3 / 4, 4 / 3], flip: true, dctScaling: false };
      got.push(await decode(all, t, seeds));
      for (let i = 0; i < all.length; i++) {
        const c = native().jpegSampleCrop(dims[i].width!, dims[i].height!, [0.08, 1], [3 / 4, 4 / 3], seeds[i], true);
        if (c.flip) flips++;
        items.push({ file: all[i], op: 'crop', size, box: [c.top, c.left, c.height, c.width], flip: c.flip });
      }
    }
    expect(flips).toBeGreaterThan(0);
    const ref = await pilReference(items);
    expect(maxDiff(Buffer.concat(got), ref).max).toBe(0);
  });

  it.skipIf(!hasPil)('with DCT scaling (the default) stays close to PIL: mean error under 2 levels', async () => {
    const big = [files[4], files[5]];
    const got = await decode(big, { mode: 'val', height: 56, width: 56, resizeSize: 64 });
    const ref = await pilReference(big.map((file) => ({ file, op: 'val', size: 56, resize: 64 })));
    const d = maxDiff(got, ref);
    expect(d.mean).toBeGreaterThan(0); // it did scale (520x381 -> 64 px is below 1/4)
    expect(d.mean).toBeLessThan(2);
  });

  it('is deterministic and independent of threads and batching', async () => {
    const t: ImageTransform = { mode: 'train', height: 32, width: 32, flip: true };
    const seeds = files.map((_, i) => 1000 + i);
    const a = await decode(files, t, seeds);
    const b = await decode([...files].reverse(), t, [...seeds].reverse());
    const one = new ImageDecoder(1);
    try {
      const out = torch.empty([1, 3, 32, 32], { dtype: 'uint8' });
      const S = 3 * 32 * 32;
      for (let i = 0; i < files.length; i++) {
        expect((await one.decodeBatch([files[i]], Int32Array.of(0), Uint32Array.of(seeds[i]), t, out).promise).length).toBe(0);
        const x = out.toArray() as Uint8Array;
        expect(Buffer.from(x).equals(Buffer.from(a.subarray(i * S, (i + 1) * S)))).toBe(true);
        expect(Buffer.from(x).equals(Buffer.from(b.subarray((files.length - 1 - i) * S, (files.length - i) * S)))).toBe(true);
      }
      out.dispose();
    } finally {
      one.dispose();
    }
  });

  it.skipIf(!hasPil)('decodes CMYK (Adobe), greyscale and PNG-named files to the RGB of PIL convert("RGB")', async () => {
    const list = [odd!.cmyk, odd!.gray, odd!.png, odd!.rgba, files[0]];
    const ref = await pilReference(list.map((file) => ({ file, op: 'full' })));
    let offset = 0;
    for (const f of list) {
      const got = await decodeImageFile(f);
      expect([got.width, got.height]).toEqual(f === files[0] ? [123, 91] : [520, 381]);
      expect(maxDiff(got.data, ref.subarray(offset, offset + got.data.length)).max).toBe(0);
      offset += got.data.length;
    }
    // Resized on the way (imageFolder's size option): PIL's bilinear resize of the whole image.
    const small = await decodeImageFile(odd!.cmyk, [30, 40]);
    const refSmall = await runPython(
      'import sys, json, numpy as np; from PIL import Image; a = json.load(sys.stdin); sys.stdout.buffer.write(np.asarray(Image.open(a).convert("RGB").resize((40, 30), Image.BILINEAR)).tobytes())',
      odd!.cmyk,
    );
    expect([small.width, small.height]).toEqual([40, 30]);
    expect(maxDiff(small.data, refSmall).max).toBe(0);
  });

  it('reports truncated, garbage, unreadable, non-regular and oversized files without crashing', async () => {
    const good = fs.readFileSync(files[2]);
    const truncated = path.join(dir, 'truncated.JPEG');
    fs.writeFileSync(truncated, good.subarray(0, Math.floor(good.length * 0.6)));
    const garbage = path.join(dir, 'garbage.JPEG');
    const g = Buffer.from(good);
    for (let i = Math.floor(g.length / 3); i < g.length - 2; i += 7) g[i] = 0xff; // markers in the middle of the data
    fs.writeFileSync(garbage, g);
    const text = path.join(dir, 'text.JPEG');
    fs.writeFileSync(text, 'this is not an image\n');
    const huge = path.join(dir, 'huge.JPEG');
    // A valid header declaring 60000 x 60000 pixels (SOF0 height/width patched), no data needed.
    const h = Buffer.from(good);
    const sof = h.indexOf(Buffer.from([0xff, 0xc0]));
    h.writeUInt16BE(60000, sof + 5);
    h.writeUInt16BE(60000, sof + 7);
    fs.writeFileSync(huge, h);
    const fifo = path.join(dir, 'fifo.JPEG');
    execFileSync('mkfifo', [fifo]);
    const missing = path.join(dir, 'missing.JPEG');
    // One thread, a good file after each bad one: a failure leaves the thread's decoder ready for the next file.
    const list = [truncated, garbage, text, huge, fifo, missing].flatMap((f) => [f, files[0]]);
    const out = torch.empty([list.length, 3, 16, 16], { dtype: 'uint8' });
    const one = new ImageDecoder(1);
    const failures = await one.decodeBatch(list, Int32Array.from(list, (_, i) => i), new Uint32Array(list.length), { mode: 'val', height: 16, width: 16, resizeSize: 20 }, out).promise;
    one.dispose();
    out.dispose();
    expect(failures.map((f) => f.index)).toEqual([0, 2, 4, 6, 8, 10]);
    const by = new Map(failures.map((f) => [path.basename(f.file), f]));
    expect(by.get('truncated.JPEG')).toMatchObject({ status: 'corrupt', message: expect.stringMatching(/truncated|premature end/i) });
    expect(by.get('garbage.JPEG')).toMatchObject({ status: 'corrupt', message: expect.stringMatching(/Corrupt JPEG data/) });
    expect(by.get('text.JPEG')?.status).toBe('corrupt'); // not a JPEG; sharp could not read it either
    expect(by.get('huge.JPEG')).toMatchObject({ status: 'error', message: expect.stringMatching(/60000x60000 pixels, more than/) });
    expect(by.get('fifo.JPEG')).toMatchObject({ status: 'error', message: 'it is not a regular file' });
    expect(by.get('missing.JPEG')).toMatchObject({ status: 'error', message: expect.stringMatching(/cannot open it: No such file/) });
    await expect(decodeImageFile(truncated)).rejects.toThrow(/truncated/);
  });

  it('rejects bad arguments (output tensor, slots, transform) with errors', () => {
    const n = native();
    const bad = torch.empty([2, 3, 8, 8], { dtype: 'float32' });
    const ok = torch.empty([2, 3, 8, 8], { dtype: 'uint8' });
    const t: ImageTransform = { mode: 'val', height: 8, width: 8, resizeSize: 10 };
    expect(() => dec.decodeBatch([files[0]], Int32Array.of(0), Uint32Array.of(0), t, bad)).toThrow(/output tensor must be uint8, got float32/);
    expect(() => dec.decodeBatch([files[0]], Int32Array.of(2), Uint32Array.of(0), t, ok)).toThrow(/slots\[0\] = 2 is outside the batch of 2/);
    expect(() => dec.decodeBatch([files[0]], Int32Array.of(0), Uint32Array.of(0), { ...t, height: 9 }, ok)).toThrow(/must be \[B, 3, 9, 8\]/);
    expect(() => dec.decodeBatch([files[0]], Int32Array.of(0), Uint32Array.of(0), { ...t, mode: 'zoom' as 'val' }, ok)).toThrow(/transform.mode/);
    expect(() => dec.decodeBatch([files[0]], Int32Array.of(0), Uint32Array.of(0), { ...t, resizeSize: 4 }, ok)).toThrow(/resizeSize must be at least the crop size/);
    expect(() => dec.decodeBatch([files[0], files[1]], Int32Array.of(0), Uint32Array.of(0), t, ok)).toThrow(/same length/);
    expect(() => n.jpegTransformRgb(new Uint8Array(10), 2, 2, t, 0, ok.handle, 0)).toThrow(/rgb holds 10 bytes/);
    const d = new ImageDecoder(1);
    d.dispose();
    expect(() => d.decodeBatch([files[0]], Int32Array.of(0), Uint32Array.of(0), t, ok)).toThrow(/disposed/);
    bad.dispose();
    ok.dispose();
  });
});

describe('imageFolder decodes as PIL does and keys its cache on file contents', () => {
  let root: string;
  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-folder-'));
    for (const [k, c] of [['a', 0], ['b', 1]] as const) {
      for (const split of ['train', 'test']) fs.mkdirSync(path.join(root, split, k), { recursive: true });
      for (let i = 0; i < 2; i++) fs.writeFileSync(path.join(root, 'train', k, `img${i}.jpg`), await cifarJpeg(c, i, [40, 30]));
      fs.writeFileSync(path.join(root, 'test', k, 'x.jpg'), await cifarJpeg(c, 9, [40, 30]));
    }
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it.skipIf(!hasPil || !jpegOk)('gives PIL convert("RGB") colours for a CMYK JPEG (sharp differs: up to 47 levels on one such file)', async () => {
    const cmyk = path.join(root, 'train', 'b', 'img1.jpg');
    await runPython('import sys, json; from PIL import Image; f = json.load(sys.stdin); Image.open(f).convert("CMYK").save(f, "JPEG", quality=90)', cmyk);
    const ds = await torch.imageFolder(root, { cache: false });
    const got = (ds.train.images.toArray() as Uint8Array).subarray(3 * 3 * 30 * 40, 4 * 3 * 30 * 40);
    const ref = await pilReference([{ file: cmyk, op: 'full' }]);
    const plane = 30 * 40;
    let max = 0;
    for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) max = Math.max(max, Math.abs(got[ch * plane + p] - ref[3 * p + ch]));
    expect(max).toBe(0);
    for (const t of [ds.train.images, ds.train.labels, ds.test.images, ds.test.labels]) t.dispose();
  });

  it('re-decodes a file whose contents changed with the same size and modification time', async () => {
    const cacheDir = path.join(root, 'cache');
    const first = await torch.imageFolder(root, { cacheDir, cache: true });
    const target = path.join(root, 'train', 'a', 'img0.jpg');
    const st = fs.statSync(target);
    const ref = path.join(root, 'mtime-ref');
    execFileSync('touch', ['-r', target, ref]); // keeps the nanoseconds, which utimes would round
    const other = fs.readFileSync(path.join(root, 'train', 'a', 'img1.jpg'));
    // Same length as the original (padded or cut after the end-of-image marker), same mtime.
    const body = Buffer.alloc(st.size);
    other.copy(body, 0, 0, Math.min(other.length, st.size));
    if (other.length > st.size) body.writeUInt16BE(0xffd9, st.size - 2);
    fs.writeFileSync(target, body);
    execFileSync('touch', ['-r', ref, target]);
    expect(fs.statSync(target).mtimeMs).toBe(st.mtimeMs);
    const second = await torch.imageFolder(root, { cacheDir, cache: true });
    const a = first.train.images.toArray() as Uint8Array;
    const b = second.train.images.toArray() as Uint8Array;
    const S = 3 * 30 * 40;
    expect(Buffer.from(a.subarray(0, S)).equals(Buffer.from(b.subarray(0, S)))).toBe(false);
    expect(Buffer.from(a.subarray(S)).equals(Buffer.from(b.subarray(S)))).toBe(true);
    for (const ds of [first, second]) for (const t of [ds.train.images, ds.train.labels, ds.test.images, ds.test.labels]) t.dispose();
  });
});
