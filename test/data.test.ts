// Data: the CIFAR binary readers (against a sample of the official release), image folders (against the
// real CIFAR-10 JPEGs), device-side augmentation, the batch sampler and data specs.
// Expected values come from the files themselves (read here with fs, decoded here with sharp) or from JS.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../lib/creation';
import {
  BatchSampler,
  CIFAR100_COARSE_CLASSES,
  CIFAR100_FINE_CLASSES,
  CIFAR10_CLASSES,
  CIFAR10_MEAN,
  CIFAR10_STD,
  augmentBatch,
  cifar10,
  cifar100,
  imageFolder,
  loadData,
  normalizeBatch,
  parseDataSpec,
  syntheticDataset,
  TensorSplit,
  type Dataset,
  type TensorDataset,
} from '../lib/data';
import { cuda, manualSeed } from '../lib/runtime';
import type { Tensor } from '../lib/tensor';
import { cifarBinSampleDir, cifarJpegDir } from './helpers/data';

const RECORD = 3073;
const IMAGE = 3072;
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-data-test-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh empty folder under this run's temp folder. */
function freshDir(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

function bytes(t: Tensor): Uint8Array {
  return t.toArray() as Uint8Array;
}

function labelsOf(t: Tensor): number[] {
  return Array.from(t.toArray() as BigInt64Array, Number);
}

// The data set's splits, which loadData returns as tensors for every kind but ImageNet.
function inMemory(ds: Dataset): TensorDataset {
  expect(ds.train).toBeInstanceOf(TensorSplit);
  expect(ds.test).toBeInstanceOf(TensorSplit);
  return ds as TensorDataset;
}

function dispose(ds: TensorDataset): void {
  for (const t of [ds.train.images, ds.train.labels, ds.test.images, ds.test.labels]) t.dispose();
}

/** Decodes a file with sharp (HWC) and returns it as CHW bytes. */
async function sharpCHW(file: string): Promise<Uint8Array> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  const plane = info.width * info.height;
  const out = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = data[p * 3 + c];
  return out;
}

// ---------------------------------------------------------------- CIFAR-10 binary

describe('cifar10 (binary release)', () => {
  it('reads the sample: sizes, dtypes, label range, classes and the exact bytes of the file', async () => {
    const dir = cifarBinSampleDir();
    const progress: [number, number][] = [];
    const ds = await cifar10(dir, { onProgress: (d, t) => progress.push([d, t]) });
    expect(ds.train.images.shape).toEqual([1000, 3, 32, 32]);
    expect(ds.test.images.shape).toEqual([500, 3, 32, 32]);
    expect(ds.train.images.dtype).toBe('uint8');
    expect(ds.train.labels.dtype).toBe('int64');
    expect(ds.train.labels.shape).toEqual([1000]);
    expect(ds.test.labels.shape).toEqual([500]);
    expect(ds.train.images.device).toBe('cpu');
    const metaNames = fs.readFileSync(path.join(dir, 'batches.meta.txt'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    expect(ds.classes).toEqual(metaNames);
    expect(progress.at(-1)).toEqual([1500, 1500]);

    const trainFile = fs.readFileSync(path.join(dir, 'data_batch_1.bin'));
    const testFile = fs.readFileSync(path.join(dir, 'test_batch.bin'));
    const trainImages = bytes(ds.train.images);
    const testImages = bytes(ds.test.images);
    const trainLabels = labelsOf(ds.train.labels);
    const testLabels = labelsOf(ds.test.labels);
    for (const i of [0, 1, 517, 999]) {
      expect(trainLabels[i]).toBe(trainFile[i * RECORD]);
      expect(Buffer.compare(Buffer.from(trainImages.subarray(i * IMAGE, (i + 1) * IMAGE)), trainFile.subarray(i * RECORD + 1, (i + 1) * RECORD))).toBe(0);
    }
    for (const i of [0, 499]) {
      expect(testLabels[i]).toBe(testFile[i * RECORD]);
      expect(Buffer.compare(Buffer.from(testImages.subarray(i * IMAGE, (i + 1) * IMAGE)), testFile.subarray(i * RECORD + 1, (i + 1) * RECORD))).toBe(0);
    }
    for (const l of [...trainLabels, ...testLabels]) expect(l >= 0 && l < 10).toBe(true);
    // Every class occurs in a random sample of 1,000.
    expect(new Set(trainLabels).size).toBe(10);
    dispose(ds);
  });

  it('takes class names from batches.meta.txt when present and the standard names otherwise; finds the archive sub-folder', async () => {
    const src = cifarBinSampleDir();
    const withNames = freshDir('cifar-names');
    fs.copyFileSync(path.join(src, 'test_batch.bin'), path.join(withNames, 'test_batch.bin'));
    fs.copyFileSync(path.join(src, 'test_batch.bin'), path.join(withNames, 'data_batch_3.bin'));
    const custom = CLASSES.map((c) => `my-${c}`);
    fs.writeFileSync(path.join(withNames, 'batches.meta.txt'), `${custom.join('\n')}\n\n`);
    const a = await cifar10(withNames);
    expect(a.classes).toEqual(custom);
    expect(a.train.images.shape).toEqual([500, 3, 32, 32]);
    dispose(a);

    const parent = freshDir('cifar-parent');
    const inner = path.join(parent, 'cifar-10-batches-bin');
    fs.mkdirSync(inner);
    for (const f of ['data_batch_1.bin', 'test_batch.bin']) fs.copyFileSync(path.join(src, f), path.join(inner, f));
    const b = await cifar10(parent);
    expect(b.classes).toEqual([...CIFAR10_CLASSES]);
    expect(b.classes).toEqual(CLASSES);
    expect(b.train.images.shape[0]).toBe(1000);
    dispose(b);
  });

  it('limitPerClass keeps the first k images of each class in file order', async () => {
    const dir = cifarBinSampleDir();
    const ds = await cifar10(dir, { limitPerClass: 3 });
    expect(ds.train.images.shape).toEqual([30, 3, 32, 32]);
    const file = fs.readFileSync(path.join(dir, 'data_batch_1.bin'));
    const expected: number[] = [];
    const counts = new Array(10).fill(0);
    for (let r = 0; r < 1000; r++) if (counts[file[r * RECORD]]++ < 3) expected.push(r);
    expect(labelsOf(ds.train.labels)).toEqual(expected.map((r) => file[r * RECORD]));
    const imgs = bytes(ds.train.images);
    expected.forEach((r, i) => {
      expect(Buffer.compare(Buffer.from(imgs.subarray(i * IMAGE, (i + 1) * IMAGE)), file.subarray(r * RECORD + 1, (r + 1) * RECORD))).toBe(0);
    });
    dispose(ds);
  });

  it('a truncated file is an error naming the file, its size and the record size', async () => {
    const src = cifarBinSampleDir();
    const dir = freshDir('cifar-truncated');
    fs.copyFileSync(path.join(src, 'test_batch.bin'), path.join(dir, 'test_batch.bin'));
    const size = 10 * RECORD + 100;
    fs.writeFileSync(path.join(dir, 'data_batch_1.bin'), fs.readFileSync(path.join(src, 'data_batch_1.bin')).subarray(0, size));
    const err = await cifar10(dir).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(path.join(dir, 'data_batch_1.bin'));
    expect(err!.message).toContain(String(size));
    expect(err!.message).toContain('3073');
  });

  it('a label byte out of range, a directory without the files, or no directory at all are errors', async () => {
    const bad = freshDir('cifar-badlabel');
    const rec = Buffer.alloc(RECORD, 1);
    rec[0] = 10;
    fs.writeFileSync(path.join(bad, 'data_batch_1.bin'), rec);
    fs.writeFileSync(path.join(bad, 'test_batch.bin'), rec);
    await expect(cifar10(bad)).rejects.toThrow(/data_batch_1\.bin.*label 10/);

    const empty = freshDir('cifar-empty');
    const err = await cifar10(empty).then(() => null, (e: Error) => e);
    for (const f of ['data_batch_1.bin', 'data_batch_5.bin', 'test_batch.bin']) expect(err!.message).toContain(f);

    const noTest = freshDir('cifar-notest');
    fs.writeFileSync(path.join(noTest, 'data_batch_2.bin'), Buffer.alloc(RECORD));
    await expect(cifar10(noTest)).rejects.toThrow(/test_batch\.bin/);
    await expect(cifar10(path.join(tmp, 'does-not-exist'))).rejects.toThrow(/does-not-exist.*does not exist/);
  });
});

// ---------------------------------------------------------------- CIFAR-100 binary

describe('cifar100 (binary release)', () => {
  // Two records per file: (coarse, fine) labels and a recognisable image pattern.
  function writeCifar100(dir: string): Buffer {
    const recs: Buffer[] = [];
    const labels = [
      [3, 42],
      [19, 99],
    ];
    labels.forEach(([coarse, fine], r) => {
      const rec = Buffer.alloc(3074);
      rec[0] = coarse;
      rec[1] = fine;
      for (let i = 0; i < IMAGE; i++) rec[2 + i] = (r * 7 + i) % 256;
      recs.push(rec);
    });
    const file = Buffer.concat(recs);
    fs.writeFileSync(path.join(dir, 'train.bin'), file);
    fs.writeFileSync(path.join(dir, 'test.bin'), file);
    return file;
  }

  it('reads fine labels by default and coarse ones on request, with the images after the two label bytes', async () => {
    const dir = freshDir('cifar100');
    const file = writeCifar100(dir);
    const fine = await cifar100(dir);
    expect(fine.train.images.shape).toEqual([2, 3, 32, 32]);
    expect(labelsOf(fine.train.labels)).toEqual([42, 99]);
    expect(labelsOf(fine.test.labels)).toEqual([42, 99]);
    expect(fine.classes).toHaveLength(100);
    expect(fine.classes).toEqual([...CIFAR100_FINE_CLASSES]);
    expect(fine.classes[0]).toBe('apple');
    expect(fine.classes[99]).toBe('worm');
    const imgs = bytes(fine.train.images);
    expect(Buffer.compare(Buffer.from(imgs.subarray(IMAGE)), file.subarray(3074 + 2))).toBe(0);
    dispose(fine);

    const coarse = await cifar100(dir, { labels: 'coarse' });
    expect(labelsOf(coarse.train.labels)).toEqual([3, 19]);
    expect(coarse.classes).toEqual([...CIFAR100_COARSE_CLASSES]);
    expect(coarse.classes).toHaveLength(20);
    dispose(coarse);

    const names = Array.from({ length: 100 }, (_, i) => `fine${i}`);
    fs.writeFileSync(path.join(dir, 'fine_label_names.txt'), names.join('\n'));
    const named = await cifar100(dir);
    expect(named.classes).toEqual(names);
    dispose(named);
  });

  it('a CIFAR-10 sized file is an error naming the file and the 3074-byte record', async () => {
    const dir = freshDir('cifar100-bad');
    fs.writeFileSync(path.join(dir, 'train.bin'), Buffer.alloc(2 * RECORD));
    fs.writeFileSync(path.join(dir, 'test.bin'), Buffer.alloc(2 * 3074));
    await expect(cifar100(dir)).rejects.toThrow(/train\.bin has 6146 bytes.*3074/);
  });
});

// ---------------------------------------------------------------- image folders

describe('imageFolder', () => {
  it('loads the CIFAR-10 JPEG subset: sizes, sorted classes, labels by folder, sharp-equal pixels, cached second time', async () => {
    const dir = cifarJpegDir();
    const cacheDir = freshDir('jpeg-cache');
    const progress: number[] = [];
    const ds = await imageFolder(dir, { limitPerClass: 20, cacheDir, onProgress: (d, t) => progress.push(d / t) });
    expect(ds.classes).toEqual(CLASSES);
    expect(ds.train.images.shape).toEqual([200, 3, 32, 32]);
    expect(ds.test.images.shape).toEqual([200, 3, 32, 32]);
    expect(ds.train.images.dtype).toBe('uint8');
    expect(ds.train.labels.dtype).toBe('int64');
    expect(progress.at(-1)).toBe(1);
    const expectedLabels = Array.from({ length: 200 }, (_, i) => Math.floor(i / 20));
    expect(labelsOf(ds.train.labels)).toEqual(expectedLabels);
    expect(labelsOf(ds.test.labels)).toEqual(expectedLabels);

    const train = bytes(ds.train.images);
    const test = bytes(ds.test.images);
    const fileAt = (split: string, i: number) => {
      const cls = path.join(dir, split, CLASSES[Math.floor(i / 20)]);
      return path.join(cls, fs.readdirSync(cls).sort()[i % 20]);
    };
    for (const i of [0, 19, 73, 199]) {
      expect(Buffer.compare(Buffer.from(train.subarray(i * IMAGE, (i + 1) * IMAGE)), Buffer.from(await sharpCHW(fileAt('train', i))))).toBe(0);
    }
    for (const i of [5, 150]) {
      expect(Buffer.compare(Buffer.from(test.subarray(i * IMAGE, (i + 1) * IMAGE)), Buffer.from(await sharpCHW(fileAt('test', i))))).toBe(0);
    }

    // The second load comes from the cache file (not rewritten) and gives the same tensors.
    const cacheFiles = fs.readdirSync(cacheDir).filter((f) => f.endsWith('.bin'));
    expect(cacheFiles).toHaveLength(1);
    const before = fs.statSync(path.join(cacheDir, cacheFiles[0]));
    const progress2: [number, number][] = [];
    const again = await imageFolder(dir, { limitPerClass: 20, cacheDir, onProgress: (d, t) => progress2.push([d, t]) });
    expect(progress2).toEqual([[400, 400]]);
    const after = fs.statSync(path.join(cacheDir, cacheFiles[0]));
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
    expect(Buffer.compare(Buffer.from(bytes(again.train.images)), Buffer.from(train))).toBe(0);
    expect(Buffer.compare(Buffer.from(bytes(again.test.images)), Buffer.from(test))).toBe(0);
    expect(labelsOf(again.train.labels)).toEqual(expectedLabels);
    expect(again.classes).toEqual(CLASSES);
    dispose(ds);
    dispose(again);
  });

  /** A small image folder copied from the JPEG set: classes a, b with `per` train and 1 test image each. */
  function smallFolder(name: string, per = 2): string {
    const src = cifarJpegDir();
    const root = freshDir(name);
    for (const [k, cls] of [['a', 'cat'], ['b', 'ship']]) {
      for (const split of ['train', 'test']) fs.mkdirSync(path.join(root, split, k), { recursive: true });
      for (let i = 0; i < per; i++) fs.copyFileSync(path.join(src, 'train', cls, `000${i}.jpg`), path.join(root, 'train', k, `img${i}.jpg`));
      fs.copyFileSync(path.join(src, 'test', cls, '0000.jpg'), path.join(root, 'test', k, 'x.jpg'));
    }
    return root;
  }

  it('re-decodes when a file changes, and writes its default cache under <dir>/.ictorch-cache', async () => {
    const root = smallFolder('folder-invalidate');
    const first = await imageFolder(root);
    expect(fs.readdirSync(path.join(root, '.ictorch-cache')).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    const target = path.join(root, 'train', 'a', 'img0.jpg');
    const replacement = path.join(cifarJpegDir(), 'train', 'frog', '0007.jpg');
    fs.copyFileSync(replacement, target);
    fs.utimesSync(target, new Date(), new Date(Date.now() + 5000));
    const second = await imageFolder(root);
    expect(Buffer.compare(Buffer.from(bytes(second.train.images).subarray(0, IMAGE)), Buffer.from(await sharpCHW(replacement)))).toBe(0);
    expect(Buffer.compare(Buffer.from(bytes(second.train.images).subarray(IMAGE)), Buffer.from(bytes(first.train.images).subarray(IMAGE)))).toBe(0);
    dispose(first);
    dispose(second);
  });

  it('only regular files are images: a FIFO named x.jpg and a directory named y.jpg are left out, never opened (opening a FIFO blocks)', async () => {
    const root = smallFolder('folder-fifo');
    execFileSync('mkfifo', [path.join(root, 'train', 'a', 'img5.jpg')]);
    fs.mkdirSync(path.join(root, 'train', 'b', 'img6.jpg'));
    fs.symlinkSync(path.join(root, 'train', 'a', 'img0.jpg'), path.join(root, 'train', 'b', 'img7.jpg'));
    const ds = await imageFolder(root, { cache: false });
    expect([ds.train.length, ds.test.length]).toEqual([5, 2]); // 2 + 2 regular files and the link to one
    dispose(ds);
  });

  it('a corrupt JPEG is an error naming the file', async () => {
    const root = smallFolder('folder-corrupt');
    const bad = path.join(root, 'train', 'b', 'img1.jpg');
    const good = fs.readFileSync(bad);
    fs.writeFileSync(bad, good.subarray(0, good.length >> 1));
    await expect(imageFolder(root, { cache: false })).rejects.toThrow(bad);
    fs.writeFileSync(bad, 'not a jpeg at all');
    await expect(imageFolder(root, { cache: false })).rejects.toThrow(bad);
  });

  it('images of another size are an error naming the file unless size is given; val/ is accepted for test', async () => {
    const root = smallFolder('folder-sizes');
    const odd = path.join(root, 'train', 'b', 'odd.png');
    await sharp(path.join(root, 'train', 'a', 'img0.jpg')).resize(16, 16).png().toFile(odd);
    await expect(imageFolder(root, { cache: false })).rejects.toThrow(new RegExp(`${odd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*16×16`));
    const resized = await imageFolder(root, { size: [24, 20], cache: false });
    expect(resized.train.images.shape).toEqual([5, 3, 24, 20]);
    expect(labelsOf(resized.train.labels)).toEqual([0, 0, 1, 1, 1]);
    dispose(resized);

    fs.renameSync(path.join(root, 'test'), path.join(root, 'val'));
    fs.rmSync(odd);
    const val = await imageFolder(root, { cache: false });
    expect(val.test.images.shape).toEqual([2, 3, 32, 32]);
    dispose(val);
    fs.rmSync(path.join(root, 'val'), { recursive: true });
    await expect(imageFolder(root)).rejects.toThrow(/no test\/ or val\/ folder/);
  });
});

// ---------------------------------------------------------------- augmentation

describe('augmentBatch / normalizeBatch', () => {
  let images: Tensor;
  let raw: Uint8Array;
  const B = 64;
  beforeAll(async () => {
    const ds = await cifar10(cifarBinSampleDir());
    images = ds.train.images.narrow(0, 0, 400).clone();
    raw = bytes(images);
    dispose(ds);
  });

  it('normalizeBatch computes (x/255 - mean)/std per channel; padding 0 without flips is the same', () => {
    const x = images.narrow(0, 0, B);
    const out = normalizeBatch(x);
    expect(out.shape).toEqual([B, 3, 32, 32]);
    expect(out.dtype).toBe('float32');
    const got = out.toArray() as Float32Array;
    for (let i = 0; i < B * IMAGE; i += 97) {
      const c = Math.floor(i / 1024) % 3;
      expect(got[i]).toBeCloseTo((raw[i] / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c], 5);
    }
    const plain = augmentBatch(x, { padding: 0, flip: false }).toArray() as Float32Array;
    expect(Array.from(plain)).toEqual(Array.from(got));
  });

  /** Which (dy, dx, flipped) window of the zero-padded original image `orig` equals `crop`, or null. */
  function findWindow(orig: Uint8Array, crop: Uint8Array, pad: number): [number, number, boolean] | null {
    for (const flipped of [false, true]) {
      for (let dy = 0; dy <= 2 * pad; dy++) {
        for (let dx = 0; dx <= 2 * pad; dx++) {
          let ok = true;
          for (let c = 0; c < 3 && ok; c++) {
            for (let y = 0; y < 32 && ok; y++) {
              for (let x = 0; x < 32 && ok; x++) {
                const sx = (flipped ? 31 - x : x) + dx - pad;
                const sy = y + dy - pad;
                const v = sx < 0 || sy < 0 || sx >= 32 || sy >= 32 ? 0 : orig[c * 1024 + sy * 32 + sx];
                if (crop[c * 1024 + y * 32 + x] !== v) ok = false;
              }
            }
          }
          if (ok) return [dy, dx, flipped];
        }
      }
    }
    return null;
  }

  function checkWindows(x: Tensor, out: Tensor, n: number, pad: number): [number, number, boolean][] {
    const src = bytes(x.cpu());
    // mean 0, std 1: the output is x / 255, so x comes back exactly.
    const crops = Uint8Array.from(out.cpu().toArray() as Float32Array, (v) => Math.round(v * 255));
    const found: [number, number, boolean][] = [];
    for (let i = 0; i < n; i++) {
      const w = findWindow(src.subarray(i * IMAGE, (i + 1) * IMAGE), crops.subarray(i * IMAGE, (i + 1) * IMAGE), pad);
      expect(w, `image ${i} is no window of its padded original`).not.toBeNull();
      found.push(w!);
    }
    return found;
  }

  it('crops are shifted windows of the zero-padded image, possibly flipped, each with its own offset', () => {
    const x = images.narrow(0, 0, B);
    manualSeed(11);
    const out = augmentBatch(x, { mean: [0, 0, 0], std: [1, 1, 1] });
    expect(out.shape).toEqual([B, 3, 32, 32]);
    expect(out.dtype).toBe('float32');
    expect(out.device).toBe('cpu');
    const windows = checkWindows(x, out, B, 4);
    expect(new Set(windows.map(([dy, dx]) => `${dy},${dx}`)).size).toBeGreaterThan(20);
    expect(windows.some(([, , f]) => f)).toBe(true);
    expect(windows.some(([, , f]) => !f)).toBe(true);
  });

  it('manualSeed makes it repeat; about half of many images are flipped', () => {
    const x = images.narrow(0, 0, B);
    manualSeed(5);
    const a = augmentBatch(x).toArray() as Float32Array;
    const b = augmentBatch(x).toArray() as Float32Array;
    manualSeed(5);
    const c = augmentBatch(x).toArray() as Float32Array;
    expect(Array.from(c)).toEqual(Array.from(a));
    expect(Array.from(b)).not.toEqual(Array.from(a));

    const out = augmentBatch(images, { padding: 0, mean: [0, 0, 0], std: [1, 1, 1] });
    const crops = Uint8Array.from(out.toArray() as Float32Array, (v) => Math.round(v * 255));
    let flipped = 0;
    for (let i = 0; i < 400; i++) {
      const w = findWindow(raw.subarray(i * IMAGE, (i + 1) * IMAGE), crops.subarray(i * IMAGE, (i + 1) * IMAGE), 0);
      expect(w).not.toBeNull();
      if (w![2]) flipped++;
    }
    expect(flipped).toBeGreaterThan(140);
    expect(flipped).toBeLessThan(260);
  });

  it('rejects non-uint8 input and mean/std of the wrong length', () => {
    expect(() => augmentBatch(images.float())).toThrow(/uint8 Tensor \[B, C, H, W\].*float32/);
    expect(() => normalizeBatch(images, { mean: [0.5, 0.5] })).toThrow(/mean/);
    expect(() => augmentBatch(images, { std: [1, 0, 1] })).toThrow(/std/);
  });

  it.skipIf(!cuda.isAvailable())('runs on the GPU: same device out, windows of the padded image, seeded', () => {
    const x = images.narrow(0, 0, B).to('cuda');
    manualSeed(3);
    const out = augmentBatch(x, { mean: [0, 0, 0], std: [1, 1, 1] });
    expect(out.device).toMatch(/^cuda/);
    expect(out.dtype).toBe('float32');
    checkWindows(x, out, B, 4);
    manualSeed(3);
    const again = augmentBatch(x, { mean: [0, 0, 0], std: [1, 1, 1] });
    expect(Array.from(again.cpu().toArray() as Float32Array)).toEqual(Array.from(out.cpu().toArray() as Float32Array));
    expect(normalizeBatch(x).device).toMatch(/^cuda/);
  });
});

// ---------------------------------------------------------------- sampler

describe('BatchSampler', () => {
  function epoch(s: BatchSampler): number[][] {
    return [...s].map((b) => Array.from(b));
  }

  it('serves a permutation each epoch, a different one next epoch, in batches of batchSize', () => {
    const s = new BatchSampler(103, { batchSize: 10, seed: 1, dropLast: false });
    expect(s.length).toBe(11);
    const e0 = epoch(s);
    const e1 = epoch(s);
    for (const e of [e0, e1]) {
      expect(e.map((b) => b.length)).toEqual([...new Array(10).fill(10), 3]);
      expect(e.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    }
    expect(e1.flat()).not.toEqual(e0.flat());
    expect(s.epoch).toBe(2);
  });

  it('dropLast drops the last partial batch; shuffle false keeps the order', () => {
    const dropped = new BatchSampler(10, { batchSize: 3, seed: 2 });
    expect(dropped.length).toBe(3);
    const e = epoch(dropped);
    expect(e.map((b) => b.length)).toEqual([3, 3, 3]);
    expect(new Set(e.flat()).size).toBe(9);
    const kept = new BatchSampler(10, { batchSize: 3, seed: 2, dropLast: false });
    expect(epoch(kept).map((b) => b.length)).toEqual([3, 3, 3, 1]);
    const ordered = new BatchSampler(7, { batchSize: 3, shuffle: false, dropLast: false });
    expect(epoch(ordered)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(() => new BatchSampler(5, { batchSize: 8 })).toThrow(/batchSize 8.*n = 5/);
  });

  it('the same seed gives the same order, another seed another', () => {
    const a = new BatchSampler(50, { batchSize: 5, seed: 42 });
    const b = new BatchSampler(50, { batchSize: 5, seed: 42 });
    const c = new BatchSampler(50, { batchSize: 5, seed: 43 });
    const ea = [epoch(a), epoch(a)];
    expect([epoch(b), epoch(b)]).toEqual(ea);
    expect(epoch(c)).not.toEqual(ea[0]);
  });

  it('state/setState resumes mid-epoch with exactly the same batches', () => {
    const s = new BatchSampler(40, { batchSize: 6, seed: 9 });
    epoch(s);
    const it0 = s[Symbol.iterator]();
    it0.next();
    it0.next();
    const saved = JSON.parse(JSON.stringify(s.state()));
    expect(saved.epoch).toBe(1);
    expect(saved.position).toBe(2);
    const rest = [...s].map((b) => Array.from(b));
    const next = epoch(s);
    const resumed = new BatchSampler(40, { batchSize: 6 }); // another (random) seed: the state decides
    resumed.setState(saved);
    expect(resumed.epoch).toBe(1);
    expect(epoch(resumed)).toEqual(rest);
    expect(rest).toHaveLength(4);
    expect(epoch(resumed)).toEqual(next);
    expect(() => new BatchSampler(41, { batchSize: 6 }).setState(saved)).toThrow(/n = 40/);
  });

  it('a state taken while the last batch of an epoch is in use resumes with the next epoch', () => {
    const s = new BatchSampler(12, { batchSize: 4, seed: 4 });
    let saved: ReturnType<BatchSampler['state']> | undefined;
    let i = 0;
    for (const _ of s) if (++i === 3) saved = JSON.parse(JSON.stringify(s.state()));
    expect(saved).toMatchObject({ epoch: 1, position: 0 });
    const next = epoch(s);
    const resumed = new BatchSampler(12, { batchSize: 4, seed: 4 });
    resumed.setState(saved!);
    expect(epoch(resumed)).toEqual(next);
    expect(resumed.epoch).toBe(2);
  });

  it('tensors() yields int64 index tensors', () => {
    const s = new BatchSampler(8, { batchSize: 4, shuffle: false });
    const ts = [...s.tensors()];
    expect(ts.map((t) => t.dtype)).toEqual(['int64', 'int64']);
    expect(ts[1].toNested()).toEqual([4, 5, 6, 7]);
  });
});

// ---------------------------------------------------------------- data specs

describe('loadData / parseDataSpec', () => {
  it('an unknown scheme or a missing directory is an error naming the spec and the accepted forms', async () => {
    for (const spec of ['mnist:/data', 'cifar10', 'cifar10:', `cifar10:${path.join(tmp, 'nope')}`, 'synthetic:3']) {
      const err = await loadData(spec).then(() => null, (e: Error) => e);
      expect(err, spec).toBeInstanceOf(Error);
      expect(err!.message).toContain(`"${spec}"`);
      for (const form of ['synthetic', 'cifar10:<dir>', 'cifar100:<dir>', 'imagefolder:<dir>']) expect(err!.message).toContain(form);
    }
    expect(parseDataSpec('synthetic')).toEqual({ kind: 'synthetic' });
    expect(parseDataSpec(`cifar100-coarse:${tmp}`)).toEqual({ kind: 'cifar100-coarse', dir: tmp });
  });

  it('loads each kind with device and limitPerClass', async () => {
    const bin = inMemory(await loadData(`cifar10:${cifarBinSampleDir()}`, { limitPerClass: 2, device: 'cpu' }));
    expect(bin.train.images.shape).toEqual([20, 3, 32, 32]);
    expect(bin.test.images.shape).toEqual([20, 3, 32, 32]);
    dispose(bin);
    const folder = inMemory(await loadData(`imagefolder:${cifarJpegDir()}`, { limitPerClass: 1, imageFolder: { cacheDir: freshDir('spec-cache') } }));
    expect(folder.train.images.shape).toEqual([10, 3, 32, 32]);
    expect(folder.classes).toEqual(CLASSES);
    dispose(folder);
    const synth = inMemory(await loadData('synthetic', { limitPerClass: 3, synthetic: { trainSize: 200, testSize: 100 } }));
    const labels = labelsOf(synth.train.labels);
    expect(labels).toHaveLength(30);
    for (let k = 0; k < 10; k++) expect(labels.filter((l) => l === k)).toHaveLength(3);
    expect(synth.train.images.shape).toEqual([30, 3, 32, 32]);
    dispose(synth);
  });

  it('syntheticDataset takes a device', () => {
    const ds = syntheticDataset({ trainSize: 4, testSize: 2, device: 'cpu' });
    expect(ds.train.images.device).toBe('cpu');
    expect(ds.train.images.shape).toEqual([4, 3, 32, 32]);
    expect(tensor([1]).device).toBe('cpu');
    dispose(ds);
  });
});
