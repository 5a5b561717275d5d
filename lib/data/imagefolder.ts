/**
 * Image folders: `train/<class>/*.{jpg,jpeg,png}` and `test/<class>/...` (or `val/<class>/...`), decoded
 * (as PIL does: lib/data/jpeg.ts) into one uint8 tensor per split and cached on disk as raw bytes for small images.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tensor } from '../creation';
import type { Device } from '../dtype';
import { writeFileAtomicAsync } from '../util/atomic';
import { makeDir } from '../util/mkdir';
import { checkInt, typeError } from '../validate';
import { tensorDataset } from './tensor-split';
import { decodeImageFile } from './jpeg';
import type { TensorDataset, ProgressCallback } from './types';

/** Options of `imageFolder`. */
export interface ImageFolderOptions {
  /**
   * Resize every image to `[height, width]` (stretching, as torchvision's `Resize((h, w))`). Default: keep
   * the images' own size, which must then be the same for all (else an error names the odd file).
   */
  size?: [number, number];
  /** Take only the first k files of each class folder, in sorted file-name order (default: all). */
  limitPerClass?: number;
  /** Device the tensors are created on (default `cpu`). */
  device?: Device | string;
  /** How many images are decoded at once (default: the number of CPU cores, at most 16). */
  concurrency?: number;
  /** Called as images are decoded (or loaded from the cache) with the count so far and the total of both splits. */
  onProgress?: ProgressCallback;
  /**
   * Cache the decoded images on disk and reuse them while the file list and the files' contents stay the
   * same. Default: on for small images (at most 128×128 pixels each).
   */
  cache?: boolean;
  /**
   * Where cache files go. Default: `<dir>/.ictorch-cache/` when that can be written, else a folder under
   * `os.tmpdir()` named after the data set's path.
   */
  cacheDir?: string;
}

/** Images of at most this many pixels are cached by default. */
const CACHE_MAX_PIXELS = 128 * 128;
const CACHE_MAGIC = 'ICTCACHE';
// 2: decoded with the native decoder (PIL's colours and resampling) and keyed on file contents.
const CACHE_VERSION = 2;
const EXTENSIONS = /\.(jpe?g|png)$/i;

interface FileEntry {
  file: string;
  label: number;
}

interface CacheHeader {
  version: number;
  fingerprint: string;
  height: number;
  width: number;
  train: number;
  test: number;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await isDir(path.join(dir, e.name))))) out.push(e.name);
  }
  return out.sort();
}

/**
 * The image files of a class folder, sorted: regular files (or links to them) with an image extension. Anything
 * else with such a name (a FIFO, a device, a directory) is left out, never opened: opening a FIFO blocks.
 */
async function imageFiles(dir: string, limit: number | undefined): Promise<string[]> {
  const names: string[] = [];
  for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || !EXTENSIONS.test(e.name)) continue;
    if (e.isFile() || (e.isSymbolicLink() && (await fs.promises.stat(path.join(dir, e.name)).catch(() => null))?.isFile())) names.push(e.name);
  }
  names.sort();
  return (limit === undefined ? names : names.slice(0, limit)).map((n) => path.join(dir, n));
}

/**
 * A digest of a file's contents: the whole file up to 64 KiB; beyond, its size and three 4 KiB samples
 * (start, middle, end), which any re-encoding or truncation changes.
 */
async function contentDigest(file: string): Promise<string> {
  // Non-blocking open: if the file was replaced by a FIFO since it was listed, this fails below instead of waiting.
  const h = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new Error(`imageFolder: ${file} is not a regular file`);
    const { size } = st;
    const hash = createHash('sha1').update(String(size));
    const chunk = size <= 65536 ? size : 4096;
    const offsets = size <= 65536 ? [0] : [0, Math.floor(size / 2) - 2048, size - 4096];
    const buf = Buffer.allocUnsafe(chunk);
    for (const at of offsets) {
      let got = 0;
      while (got < chunk) {
        const { bytesRead } = await h.read(buf, got, chunk - got, at + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      hash.update(buf.subarray(0, got));
    }
    return hash.digest('hex');
  } finally {
    await h.close();
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; the first failure stops the rest and rejects. */
async function pool<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function cacheName(size: [number, number] | undefined, limit: number | undefined): string {
  return `imagefolder-${size ? `${size[0]}x${size[1]}` : 'native'}-${limit === undefined ? 'all' : `first${limit}`}.bin`;
}

async function writableDir(dir: string): Promise<boolean> {
  try {
    await makeDir(dir, 'imageFolder');
    await fs.promises.access(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function chooseCacheDir(dir: string, explicit: string | undefined): Promise<string | undefined> {
  if (explicit !== undefined) return (await writableDir(explicit)) ? explicit : undefined;
  const local = path.join(dir, '.ictorch-cache');
  if (await writableDir(local)) return local;
  const tmp = path.join(os.tmpdir(), 'ictorch-cache', createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 16));
  return (await writableDir(tmp)) ? tmp : undefined;
}

/** Reads a cache file; undefined when it is missing, stale (other fingerprint) or of the wrong size. */
async function readCache(file: string, fingerprint: string, train: number, test: number): Promise<{ header: CacheHeader; images: Uint8Array } | undefined> {
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch {
    return undefined;
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== CACHE_MAGIC) return undefined;
  const headerLength = buf.readUInt32LE(8);
  if (12 + headerLength > buf.length) return undefined;
  let header: CacheHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength)) as CacheHeader;
  } catch {
    return undefined;
  }
  if (header.version !== CACHE_VERSION || header.fingerprint !== fingerprint || header.train !== train || header.test !== test) return undefined;
  const imageBytes = 3 * header.height * header.width;
  if (!Number.isInteger(imageBytes) || imageBytes <= 0) return undefined;
  // Size check: a cache truncated by anything other than our atomic writer is not trusted.
  if (buf.length !== 12 + headerLength + (train + test) * imageBytes) return undefined;
  return { header, images: buf.subarray(12 + headerLength) };
}

async function writeCache(file: string, header: CacheHeader, images: Uint8Array): Promise<void> {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write(CACHE_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, 8);
  try {
    await writeFileAtomicAsync(file, Buffer.concat([prefix, json, images]));
  } catch (e) {
    process.emitWarning(`imageFolder: could not write the cache file ${file}: ${(e as Error).message}`);
  }
}

function checkOptions(options: ImageFolderOptions): void {
  const op = 'imageFolder';
  if (typeof options !== 'object' || options === null) throw typeError(op, 'options', '{size, limitPerClass, device, concurrency, onProgress, cache, cacheDir}', options);
  if (options.size !== undefined) {
    const s = options.size;
    if (!Array.isArray(s) || s.length !== 2) throw typeError(op, 'size', 'an array [height, width] of positive integers', s);
    checkInt(op, 'size[0] (height)', s[0], 1, 65535);
    checkInt(op, 'size[1] (width)', s[1], 1, 65535);
  }
  if (options.limitPerClass !== undefined) checkInt(op, 'limitPerClass', options.limitPerClass, 1);
  if (options.concurrency !== undefined) checkInt(op, 'concurrency', options.concurrency, 1, 1024);
  if (options.device !== undefined && typeof options.device !== 'string') throw typeError(op, 'device', '"cpu", "cuda" or "cuda:N"', options.device);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw typeError(op, 'onProgress', 'a function (done, total) => void', options.onProgress);
  if (options.cache !== undefined && typeof options.cache !== 'boolean') throw typeError(op, 'cache', 'a boolean', options.cache);
  if (options.cacheDir !== undefined && typeof options.cacheDir !== 'string') throw typeError(op, 'cacheDir', 'a directory path (string)', options.cacheDir);
}

/**
 * Loads an image-folder data set: `<dir>/train/<class>/*.{jpg,jpeg,png}` for training and
 * `<dir>/test/<class>/...` (or `<dir>/val/<class>/...`) for testing. Class names are the training
 * sub-folders in sorted order and label k is `classes[k]`; a test folder that is not a training class is
 * an error. Files are taken in sorted name order, decoded to RGB as PIL's `convert('RGB')` does (alpha
 * dropped, greyscale expanded, CMYK JPEGs as PIL converts them; JPEGs natively, other formats with sharp),
 * optionally resized (PIL's bilinear filter), and returned as uint8 `[N, 3, H, W]` images with int64 `[N]` labels
 * (training split first class by class, then the test split), on `options.device`.
 * Decoded images are cached (see `ImageFolderOptions.cache`); a file that cannot be decoded is an error
 * naming it.
 */
export async function imageFolder(dir: string, options: ImageFolderOptions = {}): Promise<TensorDataset> {
  const op = 'imageFolder';
  if (typeof dir !== 'string' || dir.length === 0) throw typeError(op, 'dir', 'a directory path (string)', dir);
  checkOptions(options);
  if (!(await isDir(dir))) throw new Error(`${op}: directory "${dir}" does not exist`);
  const layout = 'expected train/<class>/*.{jpg,jpeg,png} and test/<class>/... (or val/<class>/...)';
  const trainDir = path.join(dir, 'train');
  if (!(await isDir(trainDir))) throw new Error(`${op}: "${dir}" has no train/ folder; ${layout}`);
  let testDir = path.join(dir, 'test');
  if (!(await isDir(testDir))) {
    testDir = path.join(dir, 'val');
    if (!(await isDir(testDir))) throw new Error(`${op}: "${dir}" has no test/ or val/ folder; ${layout}`);
  }
  const classes = await subdirs(trainDir);
  if (classes.length === 0) throw new Error(`${op}: "${trainDir}" has no class folders; ${layout}`);
  const limit = options.limitPerClass;
  const train: FileEntry[] = [];
  for (let k = 0; k < classes.length; k++) {
    for (const file of await imageFiles(path.join(trainDir, classes[k]), limit)) train.push({ file, label: k });
  }
  if (train.length === 0) throw new Error(`${op}: no .jpg, .jpeg or .png files in the class folders of "${trainDir}"`);
  const test: FileEntry[] = [];
  for (const name of await subdirs(testDir)) {
    const k = classes.indexOf(name);
    if (k < 0) throw new Error(`${op}: test class folder "${path.join(testDir, name)}" has no counterpart in "${trainDir}" (classes: ${classes.join(', ')})`);
    for (const file of await imageFiles(path.join(testDir, name), limit)) test.push({ file, label: k });
  }
  const all = [...train, ...test];
  const total = all.length;
  const concurrency = options.concurrency ?? Math.min(16, Math.max(1, os.availableParallelism?.() ?? os.cpus().length));

  // Fingerprint of the inputs: relative paths, labels and contents (see contentDigest), plus the options
  // that change the bytes. Not modification times: a copied data set keeps its cache, an edited file does not.
  const hash = createHash('sha256').update(JSON.stringify({ size: options.size ?? null, classes }));
  const stats: string[] = new Array(total);
  await pool(all, 64, async (e, i) => {
    stats[i] = `${path.relative(dir, e.file)}\0${await contentDigest(e.file)}\0${e.label}\n`;
  });
  for (const s of stats) hash.update(s);
  const fingerprint = hash.digest('hex');

  const size = options.size;
  const cacheWanted = options.cache ?? (size ? size[0] * size[1] <= CACHE_MAX_PIXELS : undefined);
  const cacheDir = cacheWanted === false ? undefined : await chooseCacheDir(dir, options.cacheDir);
  const cacheFile = cacheDir ? path.join(cacheDir, cacheName(size, limit)) : undefined;

  let images: Uint8Array | undefined;
  let height = 0;
  let width = 0;
  const cached = cacheFile ? await readCache(cacheFile, fingerprint, train.length, test.length) : undefined;
  if (cached) {
    ({ height, width } = cached.header);
    images = cached.images;
    options.onProgress?.(total, total);
  } else {
    // PIL's Image.open(f).convert('RGB') (CMYK and greyscale JPEGs included) and, with `size`, its bilinear resize.
    const decode = async (file: string): Promise<{ data: Buffer; width: number; height: number }> => {
      try {
        return await decodeImageFile(file, size);
      } catch (e) {
        throw new Error(`${op}: could not decode ${file}: ${(e as Error).message.trim().split('\n')[0]}`);
      }
    };
    // The first training image sets the size (when not resizing) that every other one must have.
    const first = await decode(all[0].file);
    height = first.height;
    width = first.width;
    const plane = height * width;
    const out = new Uint8Array(total * 3 * plane);
    let done = 0;
    const place = (i: number, d: { data: Buffer; width: number; height: number }): void => {
      if (d.width !== width || d.height !== height) {
        throw new Error(
          `${op}: ${all[i].file} is ${d.width}×${d.height} pixels but ${all[0].file} is ${width}×${height}; ` +
            'all images must have the same size, or pass {size: [height, width]} to resize them',
        );
      }
      // HWC -> CHW.
      const base = i * 3 * plane;
      const src = d.data;
      for (let p = 0, q = 0; p < plane; p++, q += 3) {
        out[base + p] = src[q];
        out[base + plane + p] = src[q + 1];
        out[base + 2 * plane + p] = src[q + 2];
      }
      done++;
      options.onProgress?.(done, total);
    };
    place(0, first);
    await pool(all.slice(1), concurrency, async (e, i) => place(i + 1, await decode(e.file)));
    images = out;
    const small = height * width <= CACHE_MAX_PIXELS;
    if (cacheFile && (cacheWanted === true || (cacheWanted === undefined && small))) {
      await writeCache(cacheFile, { version: CACHE_VERSION, fingerprint, height, width, train: train.length, test: test.length }, images);
    }
  }

  const imageBytes = 3 * height * width;
  const split = (entries: FileEntry[], from: number) => ({
    images: tensor(images!.subarray(from * imageBytes, (from + entries.length) * imageBytes), { shape: [entries.length, 3, height, width], device: options.device }),
    labels: tensor(BigInt64Array.from(entries, (e) => BigInt(e.label)), { device: options.device }),
  });
  return tensorDataset({ train: split(train, 0), test: split(test, train.length), classes });
}
