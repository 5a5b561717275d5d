/**
 * Data specs, as the CLI's `--data` takes them: `synthetic` (default), `cifar10:<dir>`, `cifar100:<dir>`,
 * `cifar100-coarse:<dir>`, `imagefolder:<dir>` and `imagenet:<dir>`.
 */
import * as fs from 'fs';
import type { Device } from '../dtype';
import { tensor } from '../creation';
import { tidy } from '../scope';
import { checkInt, checkKeys, typeError } from '../validate';
import { cifar10, cifar100 } from './cifar';
import { imageFolder, type ImageFolderOptions } from './imagefolder';
import { imagenet, type ImageNetOptions } from './imagenet';
import { syntheticDataset, type SyntheticOptions } from './synthetic';
import { tensorDataset } from './tensor-split';
import type { Dataset, ProgressCallback, Split } from './types';

/** The forms `loadData` accepts, as shown in its error messages. */
export const DATA_SPEC_FORMS: readonly string[] = ['synthetic', 'cifar10:<dir>', 'cifar100:<dir>', 'cifar100-coarse:<dir>', 'imagefolder:<dir>', 'imagenet:<dir>'];

/** The schemes of a data spec that name a directory (`<scheme>:<dir>`). */
export const SCHEMES = ['cifar10', 'cifar100', 'cifar100-coarse', 'imagefolder', 'imagenet'] as const;

/** A parsed data spec. */
export type DataSpec =
  | { kind: 'synthetic' }
  | { kind: (typeof SCHEMES)[number]; dir: string };

/** Options of `loadData`. */
export interface LoadDataOptions {
  /** Device the tensors are created on (default `cpu`). */
  device?: Device | string;
  /** Keep only the first k images of each class in each split (default: all). */
  limitPerClass?: number;
  /** Progress of reading or decoding, where the loader reports it (CIFAR binaries, image folders). */
  onProgress?: ProgressCallback;
  /** Options for `synthetic` (sizes and seed); `device` comes from above. */
  synthetic?: Omit<SyntheticOptions, 'device'>;
  /** Options for `imagefolder:` (size, concurrency, cache); device, limit and progress come from above. */
  imageFolder?: Omit<ImageFolderOptions, 'device' | 'limitPerClass' | 'onProgress'>;
  /** Options for `imagenet:` (class subset, val labels, decoder threads, sizes, skipCorrupt); limit and progress come from above. */
  imagenet?: Omit<ImageNetOptions, 'limitPerClass' | 'onProgress'>;
}

function specError(spec: string, why: string): Error {
  return new Error(`loadData: ${why} in data spec "${spec}"; accepted forms: ${DATA_SPEC_FORMS.join(', ')}`);
}

/**
 * Parses a data spec without loading anything; an unknown scheme, a missing directory part or a directory
 * that does not exist is an Error naming the spec and the accepted forms.
 */
export function parseDataSpec(spec: string): DataSpec {
  if (typeof spec !== 'string') throw typeError('loadData', 'spec', `a data spec string (${DATA_SPEC_FORMS.join(', ')})`, spec);
  if (spec === 'synthetic') return { kind: 'synthetic' };
  const colon = spec.indexOf(':');
  const scheme = colon < 0 ? spec : spec.slice(0, colon);
  if (!(SCHEMES as readonly string[]).includes(scheme)) {
    throw specError(spec, scheme === 'synthetic' ? '"synthetic" takes no argument' : `unknown scheme "${scheme}"`);
  }
  const dir = colon < 0 ? '' : spec.slice(colon + 1);
  if (dir.length === 0) throw specError(spec, `no directory after "${scheme}:"`);
  let isDir = false;
  try {
    isDir = fs.statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw specError(spec, `the directory "${dir}" does not exist`);
  return { kind: scheme as (typeof SCHEMES)[number], dir };
}

// The first k items of each class, in order (for the data sets whose loader has no limit of its own).
function takePerClass(split: Split, k: number): Split {
  const labels = split.labels.toArray() as BigInt64Array;
  const counts = new Map<bigint, number>();
  const keep: number[] = [];
  labels.forEach((l, i) => {
    const c = counts.get(l) ?? 0;
    if (c < k) keep.push(i);
    counts.set(l, c + 1);
  });
  if (keep.length === labels.length) return split;
  const out = tidy(() => {
    const idx = tensor(Int32Array.from(keep), { dtype: 'int64', device: split.images.device });
    return { images: split.images.indexSelect(0, idx), labels: split.labels.indexSelect(0, idx) };
  });
  split.images.dispose();
  split.labels.dispose();
  return out;
}

/**
 * Loads the data set a spec names (see `DATA_SPEC_FORMS`; default `synthetic`): `cifar10:<dir>` and
 * `cifar100:<dir>` read the official binary releases (`cifar10`, `cifar100`; `cifar100-coarse:<dir>` uses the
 * 20 coarse labels), `imagefolder:<dir>` a train/test folder tree (`imageFolder`), `synthetic` the built-in
 * generated set (`syntheticDataset`), `imagenet:<dir>` ILSVRC2012 streamed from disk (`imagenet`). Every
 * form returns a `Dataset` (`{train, test, classes, mean, std}` with `DataSplit`s); the in-memory forms'
 * splits also hold their uint8 `images` and int64 `labels` on `options.device` (`TensorSplit`).
 */
export async function loadData(spec = 'synthetic', options: LoadDataOptions = {}): Promise<Dataset> {
  const parsed = parseDataSpec(spec);
  checkKeys('loadData', 'options', options, ['device', 'limitPerClass', 'onProgress', 'synthetic', 'imageFolder', 'imagenet']);
  const { device, limitPerClass, onProgress } = options;
  if (limitPerClass !== undefined) checkInt('loadData', 'limitPerClass', limitPerClass, 1);
  switch (parsed.kind) {
    case 'synthetic': {
      const ds = syntheticDataset({ ...options.synthetic, device });
      if (limitPerClass === undefined) return ds;
      return tensorDataset({ train: takePerClass(ds.train, limitPerClass), test: takePerClass(ds.test, limitPerClass), classes: ds.classes }, { mean: ds.mean, std: ds.std });
    }
    case 'cifar10':
      return cifar10(parsed.dir, { device, limitPerClass, onProgress });
    case 'cifar100':
    case 'cifar100-coarse':
      return cifar100(parsed.dir, { device, limitPerClass, onProgress, labels: parsed.kind === 'cifar100' ? 'fine' : 'coarse' });
    case 'imagefolder':
      return imageFolder(parsed.dir, { ...options.imageFolder, device, limitPerClass, onProgress });
    case 'imagenet':
      return imagenet(parsed.dir, { ...options.imagenet, limitPerClass, onProgress });
  }
}
