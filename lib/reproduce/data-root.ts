/**
 * Where `ictorch reproduce --data-root DIR` finds each data set: a fixed list of sub-directories per data
 * set, tried in order; the first that exists and holds a recognised layout gives the data spec.
 *
 *   cifar10    <root>/cifar-10-batches-bin   binary release (data_batch_*.bin, test_batch.bin)   cifar10:<dir>
 *              <root>/cifar10                the binary release, or an image folder (train/, test/)
 *              <root>/cifar10-jpg            an image folder: train/<class>/*, test|val/<class>/*  imagefolder:<dir>
 *   cifar100   <root>/cifar-100-binary       binary release (train.bin, test.bin)                  cifar100:<dir>
 *              <root>/cifar100               the binary release, or an image folder
 *              <root>/cifar100-jpg           an image folder                                       imagefolder:<dir>
 *   imagenet   <root>/ILSVRC2012, <root>/imagenet, <root> itself: train/ and val/                 imagenet:<dir>
 *   synthetic  no directory: ictorch's built-in generated set                                   synthetic
 */
import * as fs from 'fs';
import * as path from 'path';

/** The data sets the reproduce tables know. */
export const REPRODUCE_DATASETS = ['cifar10', 'cifar100', 'synthetic', 'imagenet'] as const;
/** A data set name of the reproduce tables. */
export type ReproduceDataset = (typeof REPRODUCE_DATASETS)[number];

/** Where a data set was found (or not). */
export interface DataLocation {
  dataset: ReproduceDataset;
  /** The data spec for `loadData`/`fit`, or null when nothing usable was found. */
  spec: string | null;
  /** The directory the spec names (null for synthetic or when not found). */
  dir: string | null;
  /** What was recognised: "CIFAR-10 binary release", "image folder", ... */
  format: string;
  /** Every place looked at, with what was found there, for messages. */
  looked: string[];
}

const isDir = (p: string): boolean => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const isFile = (p: string): boolean => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

type Probe = (dir: string) => { spec: string; format: string } | string;

// Each probe returns the spec it recognises in `dir`, or a sentence saying what is missing.
const cifar10Binary: Probe = (dir) =>
  isFile(path.join(dir, 'test_batch.bin')) ? { spec: `cifar10:${dir}`, format: 'CIFAR-10 binary release' } : 'no test_batch.bin';
const cifar100Binary: Probe = (dir) =>
  isFile(path.join(dir, 'train.bin')) && isFile(path.join(dir, 'test.bin')) ? { spec: `cifar100:${dir}`, format: 'CIFAR-100 binary release' } : 'no train.bin and test.bin';
const imageFolder: Probe = (dir) =>
  isDir(path.join(dir, 'train')) && (isDir(path.join(dir, 'test')) || isDir(path.join(dir, 'val')))
    ? { spec: `imagefolder:${dir}`, format: 'image folder (train/, test|val/)' }
    : 'no train/ with test/ or val/';
const imagenetTree: Probe = (dir) =>
  isDir(path.join(dir, 'train')) && isDir(path.join(dir, 'val')) ? { spec: `imagenet:${dir}`, format: 'ILSVRC2012 tree (train/, val/)' } : 'no train/ and val/';
const either = (a: Probe, b: Probe): Probe => (dir) => {
  const x = a(dir);
  if (typeof x !== 'string') return x;
  const y = b(dir);
  return typeof y !== 'string' ? y : `${x}; ${y}`;
};

const CANDIDATES: Record<Exclude<ReproduceDataset, 'synthetic'>, [string, Probe][]> = {
  cifar10: [['cifar-10-batches-bin', cifar10Binary], ['cifar10', either(cifar10Binary, imageFolder)], ['cifar10-jpg', imageFolder]],
  cifar100: [['cifar-100-binary', cifar100Binary], ['cifar100', either(cifar100Binary, imageFolder)], ['cifar100-jpg', imageFolder]],
  imagenet: [['ILSVRC2012', imagenetTree], ['imagenet', imagenetTree], ['.', imagenetTree]],
};

/** The sub-directories `locateData` tries for `dataset`, relative to the data root, in order. */
export function dataCandidates(dataset: ReproduceDataset): string[] {
  return dataset === 'synthetic' ? [] : CANDIDATES[dataset].map(([d]) => d);
}

/**
 * Finds `dataset` under `root` by the convention in this file's header. `root` may be undefined (then
 * only `synthetic` is found). Never throws: a data set that is not there comes back with `spec: null`
 * and `looked` saying where it was looked for and why each place did not do.
 */
export function locateData(dataset: ReproduceDataset, root: string | undefined): DataLocation {
  if (dataset === 'synthetic') return { dataset, spec: 'synthetic', dir: null, format: "ictorch's built-in synthetic set", looked: [] };
  if (root === undefined) return { dataset, spec: null, dir: null, format: 'not found', looked: ['no --data-root given'] };
  const looked: string[] = [];
  for (const [sub, probe] of CANDIDATES[dataset]) {
    const dir = path.resolve(root, sub);
    if (!isDir(dir)) {
      looked.push(`${dir}: does not exist`);
      continue;
    }
    const r = probe(dir);
    if (typeof r !== 'string') return { dataset, spec: r.spec, dir, format: r.format, looked };
    looked.push(`${dir}: ${r}`);
  }
  return { dataset, spec: null, dir: null, format: 'not found', looked };
}
