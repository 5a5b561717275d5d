/**
 * ImageNet's file index: which files make up the training and validation splits, and their labels.
 * Built once by walking `train/<wnid>/` (and `val/`), then cached as JSON beside the data (or under the
 * user cache folder when the data is read-only), written atomically. A cached index is used while the
 * modification times of the folders it was built from (and of the labels files) are unchanged: a second
 * open reads one file and a few thousand `stat`s instead of listing 1.28 million entries.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomicAsync } from '../util/atomic';
import type { ProgressCallback } from './types';

const OP = 'imagenet';
const FORMAT = 'ictorch-imagenet-index';
const VERSION = 1;
/** Image files the index takes (case-insensitive). */
export const IMAGE_EXTENSIONS = /\.(jpe?g|png)$/i;
/** Validation label files looked for when `valLabels` is not given. */
const LABEL_FILES = ['LOC_val_solution.csv', 'val_labels.txt'];
/** Class-name files (`<wnid> <name>` per line) looked for. */
const NAME_FILES = ['LOC_synset_mapping.txt', 'synset_words.txt'];

/** The files of one split: `<root>/<dir>/[<wnid>/]<name>`, with their labels. */
export interface IndexedSplit {
  /** Folder of the split, relative to the root (`train`, `val`). */
  dir: string;
  /** True when the files sit in per-class folders `<dir>/<wnid>/`; false for a flat folder. */
  folders: boolean;
  /** File names, in the split's order (by class then name for folders; by name for a flat folder). */
  names: string[];
  /** Label of each file: an index into `classes`. */
  labels: Int32Array;
}

/** The index of an ImageNet tree. */
export interface ImageNetIndex {
  /** Absolute path of the data set's root folder. */
  root: string;
  /** The classes used (wnids, sorted; the first `classes` of them when that option is given). */
  classes: string[];
  /** Human-readable class names, parallel to `classes`, when a synset mapping file was found. */
  classNames?: string[];
  train: IndexedSplit;
  val: IndexedSplit;
  /** The cache file used or written (undefined when none could be written). */
  cacheFile?: string;
  /** True when the index came from the cache rather than a walk of the folders. */
  fromCache: boolean;
}

/** What decides the index's content (and so its cache file). */
export interface ImageNetIndexOptions {
  classes?: number;
  limitPerClass?: number;
  valLabels?: string;
  onProgress?: ProgressCallback;
}

/** Path of file `k` of `split`. */
export function indexedPath(index: ImageNetIndex, split: IndexedSplit, k: number): string {
  return split.folders
    ? path.join(index.root, split.dir, index.classes[split.labels[k]], split.names[k])
    : path.join(index.root, split.dir, split.names[k]);
}

// ------------------------------------------------------------------------------------------------ walking

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Non-hidden sub-folders (or links to folders), sorted. */
async function subdirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await isDir(path.join(dir, e.name))))) out.push(e.name);
  }
  return out.sort(byCodePoint);
}

/**
 * Image files of a folder, sorted by name: regular files (or links to them) only, so a FIFO or a device
 * named x.JPEG is never opened.
 */
async function imageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || !IMAGE_EXTENSIONS.test(e.name)) continue;
    if (e.isFile() || (e.isSymbolicLink() && (await isFile(path.join(dir, e.name))))) out.push(e.name);
  }
  return out.sort(byCodePoint);
}

/** Runs fn over items with at most `limit` at once, in any order; rejects on the first failure. */
async function each<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Where a stamp records a path's state: modification time and size. */
type Stamp = [file: string, mtimeMs: number, size: number];

async function stamp(p: string): Promise<Stamp> {
  const st = await fs.promises.stat(p);
  return [p, st.mtimeMs, st.size];
}

/**
 * The first existing file named one of `names` in one of `dirs`. The candidates looked at before it and
 * found missing go to `absent`: the cached index is stale once one of them appears.
 */
async function findFile(dirs: string[], names: string[], absent: string[]): Promise<string | undefined> {
  for (const d of dirs) {
    for (const n of names) {
      const p = path.join(d, n);
      if (await isFile(p)) return p;
      absent.push(p);
    }
  }
  return undefined;
}

/** Folders searched for the labels and class-name files: the root, its val/, and up to three ancestors (Kaggle's ILSVRC/Data/CLS-LOC/ layout keeps them three levels up). */
function searchDirs(root: string): string[] {
  const dirs = [root, path.join(root, 'val')];
  let d = root;
  for (let i = 0; i < 3; i++) {
    const up = path.dirname(d);
    if (up === d) break;
    dirs.push(up);
    d = up;
  }
  return dirs;
}

/**
 * Reads a validation labels file: `LOC_val_solution.csv` (header `ImageId,PredictionString`, the wnid is
 * the first token of PredictionString) or a plain `<file> <wnid>` list. Returns image stem -> wnid; a wnid
 * that is not a training class is an error naming the file and line.
 */
export function parseValLabels(file: string, text: string, known: Set<string>): Map<string, string> {
  const lines = text.split(/\r?\n/);
  const csv = lines[0]?.replace(/^\uFEFF/, '').trim() === 'ImageId,PredictionString';
  const out = new Map<string, string>();
  for (let i = csv ? 1 : 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    let name: string;
    let wnid: string | undefined;
    if (csv) {
      const comma = line.indexOf(',');
      if (comma <= 0) throw new Error(`${OP}: ${file} line ${i + 1}: expected "ImageId,PredictionString" but read "${line}"`);
      name = line.slice(0, comma);
      wnid = line.slice(comma + 1).trim().split(/\s+/)[0];
    } else {
      const tokens = line.split(/[\s,]+/);
      name = tokens[0];
      wnid = tokens[1];
    }
    if (!wnid) throw new Error(`${OP}: ${file} line ${i + 1}: no wnid after "${name}"; expected "<file> <wnid>"`);
    if (!known.has(wnid)) throw new Error(`${OP}: ${file} line ${i + 1}: "${wnid}" (for ${name}) is not a class of the training set (no folder train/${wnid})`);
    const stem = stemOf(name);
    const prev = out.get(stem);
    if (prev !== undefined && prev !== wnid) throw new Error(`${OP}: ${file} line ${i + 1}: ${name} is labelled ${wnid} here but ${prev} earlier`);
    out.set(stem, wnid);
  }
  return out;
}

function stemOf(name: string): string {
  return path.basename(name).replace(/\.[^.]*$/, '');
}

/** Reads `<wnid> <name>` lines into a map. */
function parseNames(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(\S+)\s+(.*\S)\s*$/.exec(raw);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

async function walk(root: string, options: ImageNetIndexOptions): Promise<{ index: ImageNetIndex; stamps: Stamp[]; absent: string[] }> {
  const layout = 'expected train/<wnid>/*.JPEG and val/ (val/<wnid>/*.JPEG, or a flat val/ with LOC_val_solution.csv or a "<file> <wnid>" list)';
  const trainDir = path.join(root, 'train');
  const valDir = path.join(root, 'val');
  if (!(await isDir(trainDir))) throw new Error(`${OP}: "${root}" has no train/ folder; ${layout}`);
  if (!(await isDir(valDir))) throw new Error(`${OP}: "${root}" has no val/ folder; ${layout}`);
  // Stamps are taken before listing, so a change made during the walk invalidates the index next time.
  // (Not the root's: writing the cache file there changes it.)
  const stamps: Stamp[] = [await stamp(trainDir), await stamp(valDir)];
  const absent: string[] = [];
  const all = await subdirs(trainDir);
  if (all.length === 0) throw new Error(`${OP}: "${trainDir}" has no class folders; ${layout}`);
  if (options.classes !== undefined && options.classes > all.length) {
    throw new Error(`${OP}: asked for classes: ${options.classes} but "${trainDir}" has ${all.length} class folders`);
  }
  const classes = options.classes === undefined ? all : all.slice(0, options.classes);
  const limit = options.limitPerClass;
  const take = (names: string[]): string[] => (limit === undefined ? names : names.slice(0, limit));

  const valSubdirs = await subdirs(valDir);
  const valFolders = valSubdirs.length > 0;
  const total = classes.length + (valFolders ? valSubdirs.filter((d) => classes.includes(d)).length : 1);
  let done = 0;
  const progress = (): void => {
    done++;
    options.onProgress?.(done, total);
  };

  const perClass: string[][] = new Array(classes.length);
  const classStamps: Stamp[] = new Array(classes.length);
  await each(classes, 8, async (wnid, k) => {
    const d = path.join(trainDir, wnid);
    classStamps[k] = await stamp(d);
    perClass[k] = take(await imageFiles(d));
    progress();
  });
  stamps.push(...classStamps);
  const trainNames: string[] = [];
  const trainLabels: number[] = [];
  perClass.forEach((names, k) => {
    for (const n of names) {
      trainNames.push(n);
      trainLabels.push(k);
    }
  });
  if (trainNames.length === 0) throw new Error(`${OP}: no .JPEG, .jpg, .jpeg or .png files in the class folders of "${trainDir}"`);

  const classIndex = new Map(classes.map((c, k) => [c, k]));
  const known = new Set(all);
  const valNames: string[] = [];
  const valLabels: number[] = [];
  if (valFolders) {
    for (const d of valSubdirs) {
      if (!known.has(d)) throw new Error(`${OP}: validation folder "${path.join(valDir, d)}" is not a class of the training set (no folder train/${d})`);
    }
    const used = valSubdirs.filter((d) => classIndex.has(d)).sort((a, b) => classIndex.get(a)! - classIndex.get(b)!);
    const lists: string[][] = new Array(used.length);
    const vs: Stamp[] = new Array(used.length);
    await each(used, 8, async (wnid, i) => {
      const d = path.join(valDir, wnid);
      vs[i] = await stamp(d);
      lists[i] = take(await imageFiles(d));
      progress();
    });
    stamps.push(...vs);
    used.forEach((wnid, i) => {
      for (const n of lists[i]) {
        valNames.push(n);
        valLabels.push(classIndex.get(wnid)!);
      }
    });
  } else {
    const labelsFile = options.valLabels !== undefined ? path.resolve(root, options.valLabels) : await findFile(searchDirs(root), LABEL_FILES, absent);
    if (labelsFile === undefined) {
      throw new Error(`${OP}: "${valDir}" holds images but no labels were found: looked for ${LABEL_FILES.join(' and ')} in ${searchDirs(root).join(', ')}; name one with {valLabels: 'path'}`);
    }
    let text: string;
    try {
      text = await fs.promises.readFile(labelsFile, 'utf8');
    } catch (e) {
      throw new Error(`${OP}: cannot read the validation labels file ${labelsFile}: ${(e as Error).message}`);
    }
    stamps.push(await stamp(labelsFile));
    const labels = parseValLabels(labelsFile, text, known);
    const counts = new Map<string, number>();
    for (const n of await imageFiles(valDir)) {
      const wnid = labels.get(stemOf(n));
      if (wnid === undefined) throw new Error(`${OP}: ${path.join(valDir, n)} has no label in ${labelsFile}`);
      const k = classIndex.get(wnid);
      if (k === undefined) continue; // a class left out by {classes}
      const c = counts.get(wnid) ?? 0;
      if (limit !== undefined && c >= limit) continue;
      counts.set(wnid, c + 1);
      valNames.push(n);
      valLabels.push(k);
    }
    progress();
  }

  let classNames: string[] | undefined;
  const namesFile = await findFile(searchDirs(root), NAME_FILES, absent);
  if (namesFile) {
    const names = parseNames(await fs.promises.readFile(namesFile, 'utf8'));
    classNames = classes.map((c) => names.get(c) ?? c);
    stamps.push(await stamp(namesFile));
  }
  const index: ImageNetIndex = {
    root,
    classes,
    classNames,
    train: { dir: 'train', folders: true, names: trainNames, labels: Int32Array.from(trainLabels) },
    val: { dir: 'val', folders: valFolders, names: valNames, labels: Int32Array.from(valLabels) },
    fromCache: false,
  };
  return { index, stamps, absent };
}

// ------------------------------------------------------------------------------------------------ cache

interface CachedSplit {
  dir: string;
  folders: boolean;
  names: string;
  labels: number[];
}

interface CacheFile {
  format: string;
  version: number;
  root: string;
  key: string;
  stamps: Stamp[];
  absent: string[];
  classes: string[];
  classNames: string[] | null;
  train: CachedSplit;
  val: CachedSplit;
}

function cacheKey(root: string, options: ImageNetIndexOptions): string {
  const valLabels = options.valLabels === undefined ? null : path.resolve(root, options.valLabels);
  return createHash('sha256')
    .update(JSON.stringify({ v: VERSION, classes: options.classes ?? null, limitPerClass: options.limitPerClass ?? null, valLabels }))
    .digest('hex')
    .slice(0, 16);
}

/** The user cache folder: $XDG_CACHE_HOME/ictorch, else ~/.cache/ictorch. */
export function userCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME) ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'ictorch');
}

/** Candidate cache files, in order of preference: beside the data, then the user cache folder. */
export function cacheFiles(root: string, options: ImageNetIndexOptions): string[] {
  const key = cacheKey(root, options);
  const tag = createHash('sha256').update(root).digest('hex').slice(0, 16);
  return [path.join(root, `.ictorch-index-${key}.json`), path.join(userCacheDir(), `imagenet-index-${tag}-${key}.json`)];
}

function isSplit(s: unknown): s is CachedSplit {
  const o = s as CachedSplit;
  return typeof o === 'object' && o !== null && typeof o.dir === 'string' && typeof o.folders === 'boolean' && typeof o.names === 'string' && Array.isArray(o.labels);
}

function toSplit(s: CachedSplit, classes: number): IndexedSplit | undefined {
  const names = s.names === '' ? [] : s.names.split('\n');
  if (names.length !== s.labels.length || (s.dir !== 'train' && s.dir !== 'val')) return undefined;
  const labels = new Int32Array(s.labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = s.labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= classes) return undefined;
    labels[i] = l;
  }
  if (names.some((n) => n === '' || n.includes('/') || n.includes('\\') || n.includes('\0'))) return undefined;
  return { dir: s.dir, folders: s.folders, names, labels };
}

/** A cached index when the file is valid and every stamped path is unchanged; else undefined. */
async function readCache(file: string, root: string, key: string): Promise<ImageNetIndex | undefined> {
  let c: CacheFile;
  try {
    c = JSON.parse(await fs.promises.readFile(file, 'utf8')) as CacheFile;
  } catch {
    return undefined;
  }
  if (typeof c !== 'object' || c === null || c.format !== FORMAT || c.version !== VERSION || c.root !== root || c.key !== key) return undefined;
  if (!Array.isArray(c.classes) || c.classes.length === 0 || !c.classes.every((x) => typeof x === 'string' && x !== '' && !x.includes('/'))) return undefined;
  if (c.classNames !== null && (!Array.isArray(c.classNames) || c.classNames.length !== c.classes.length || !c.classNames.every((x) => typeof x === 'string'))) return undefined;
  if (!isSplit(c.train) || !isSplit(c.val) || !Array.isArray(c.stamps) || !Array.isArray(c.absent)) return undefined;
  for (const p of c.absent) {
    if (typeof p !== 'string' || (await isFile(p))) return undefined;
  }
  for (const s of c.stamps) {
    if (!Array.isArray(s) || s.length !== 3 || typeof s[0] !== 'string') return undefined;
    try {
      const st = await fs.promises.stat(s[0]);
      if (st.mtimeMs !== s[1] || st.size !== s[2]) return undefined;
    } catch {
      return undefined;
    }
  }
  const train = toSplit(c.train, c.classes.length);
  const val = toSplit(c.val, c.classes.length);
  if (!train || !val || train.names.length === 0) return undefined;
  return { root, classes: c.classes, classNames: c.classNames ?? undefined, train, val, cacheFile: file, fromCache: true };
}

async function writeCache(files: string[], index: ImageNetIndex, key: string, stamps: Stamp[], absent: string[]): Promise<string | undefined> {
  const split = (s: IndexedSplit): CachedSplit => ({ dir: s.dir, folders: s.folders, names: s.names.join('\n'), labels: Array.from(s.labels) });
  const body: CacheFile = {
    format: FORMAT,
    version: VERSION,
    root: index.root,
    key,
    stamps,
    absent,
    classes: index.classes,
    classNames: index.classNames ?? null,
    train: split(index.train),
    val: split(index.val),
  };
  const text = JSON.stringify(body);
  const errors: string[] = [];
  for (const f of files) {
    try {
      await writeFileAtomicAsync(f, text);
      return f;
    } catch (e) {
      errors.push(`${f}: ${(e as Error).message}`);
    }
  }
  process.emitWarning(`${OP}: could not cache the file index (${errors.join('; ')}); the folders will be listed again next time`);
  return undefined;
}

/**
 * The index of the ImageNet tree at `dir`: from the cache when it is still valid, else by walking the
 * folders (reporting `onProgress(done, total)` per class folder) and caching the result.
 */
export async function imagenetIndex(dir: string, options: ImageNetIndexOptions = {}): Promise<ImageNetIndex> {
  const root = path.resolve(dir);
  if (!(await isDir(root))) throw new Error(`${OP}: directory "${dir}" does not exist`);
  const key = cacheKey(root, options);
  const files = cacheFiles(root, options);
  for (const f of files) {
    const cached = await readCache(f, root, key);
    if (cached) {
      const n = cached.classes.length + 1;
      options.onProgress?.(n, n);
      return cached;
    }
  }
  const { index, stamps, absent } = await walk(root, options);
  index.cacheFile = await writeCache(files, index, key, stamps, absent);
  return index;
}
