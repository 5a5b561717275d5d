/**
 * Readers for the official CIFAR-10 and CIFAR-100 binary releases
 * (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version").
 *
 * CIFAR-10 (`cifar-10-binary.tar.gz`, directory `cifar-10-batches-bin/`): `data_batch_1.bin` ..
 * `data_batch_5.bin` (training) and `test_batch.bin`, each a run of 3,073-byte records: one label byte
 * (0..9) then 3,072 image bytes (1,024 red, 1,024 green, 1,024 blue, each 32×32 row-major). Class names
 * come from `batches.meta.txt` (one per line) when present.
 *
 * CIFAR-100 (`cifar-100-binary.tar.gz`, directory `cifar-100-binary/`): `train.bin` and `test.bin`, each
 * a run of 3,074-byte records: the coarse label byte (0..19), the fine label byte (0..99), then the
 * 3,072 image bytes. Class names come from `fine_label_names.txt` / `coarse_label_names.txt` when present.
 *
 * The whole set is read once and lands in one uint8 tensor per split on the requested device.
 */
import * as fs from 'fs';
import * as path from 'path';
import { tensor } from '../creation';
import type { Device } from '../dtype';
import { checkInt, checkOneOf, typeError } from '../validate';
import { CIFAR100_MEAN, CIFAR100_STD, CIFAR10_MEAN, CIFAR10_STD } from './augment';
import { tensorDataset } from './tensor-split';
import type { TensorDataset, ProgressCallback, Split } from './types';

/** Side of a CIFAR image in pixels. */
const SIDE = 32;
/** Bytes of one CIFAR image (3 × 32 × 32). */
const IMAGE_BYTES = 3 * SIDE * SIDE;

/** The CIFAR-10 class names, in label order (used when the directory has no `batches.meta.txt`). */
export const CIFAR10_CLASSES: readonly string[] = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

/** The CIFAR-100 fine class names, in label order (used when there is no `fine_label_names.txt`). */
export const CIFAR100_FINE_CLASSES: readonly string[] = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

/** The CIFAR-100 coarse (superclass) names, in label order (used when there is no `coarse_label_names.txt`). */
export const CIFAR100_COARSE_CLASSES: readonly string[] = [
  'aquatic_mammals', 'fish', 'flowers', 'food_containers', 'fruit_and_vegetables',
  'household_electrical_devices', 'household_furniture', 'insects', 'large_carnivores', 'large_man-made_outdoor_things',
  'large_natural_outdoor_scenes', 'large_omnivores_and_herbivores', 'medium_mammals', 'non-insect_invertebrates', 'people',
  'reptiles', 'small_mammals', 'trees', 'vehicles_1', 'vehicles_2',
];

/** Options of `cifar10` and `cifar100`. */
export interface CifarOptions {
  /** Device the image and label tensors are created on (default `cpu`). */
  device?: Device | string;
  /** Keep only the first k images of each class of each split, in file order (default: all). */
  limitPerClass?: number;
  /** Called after each file is read with the records read so far and the records in all files. */
  onProgress?: ProgressCallback;
}

/** Options of `cifar100`. */
export interface Cifar100Options extends CifarOptions {
  /** Which label byte becomes `labels`: the 100 `fine` classes (default) or the 20 `coarse` superclasses. */
  labels?: 'fine' | 'coarse';
}

interface Layout {
  op: string;
  /** Human name of the format in messages. */
  name: string;
  /** Sub-directory of the official archive, tried when `dir` has none of the files. */
  archiveDir: string;
  trainFiles: string[];
  /** Whether every train file must exist (CIFAR-100's single train.bin) or any subset will do. */
  allTrainRequired: boolean;
  testFile: string;
  recordBytes: number;
  /** Offset of the label byte used within a record. */
  labelOffset: number;
  numClasses: number;
  /** Files holding class names, first found wins, else `defaultClasses`. */
  namesFile: string;
  defaultClasses: readonly string[];
  recordDescription: string;
  /** The set's published per-channel statistics. */
  stats: { mean: readonly number[]; std: readonly number[] };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function checkDir(op: string, dir: unknown): string {
  if (typeof dir !== 'string' || dir.length === 0) throw typeError(op, 'dir', 'a directory path (string)', dir);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new Error(`${op}: directory "${dir}" does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`${op}: "${dir}" is not a directory`);
  return dir;
}

// The directory that holds the files: `dir` itself, or the archive's sub-directory inside it.
function findRoot(layout: Layout, dir: string): string {
  const all = [...layout.trainFiles, layout.testFile];
  for (const root of [dir, path.join(dir, layout.archiveDir)]) {
    if (all.some((f) => isFile(path.join(root, f)))) return root;
  }
  throw new Error(
    `${layout.op}: no ${layout.name} binary files in "${dir}" (nor in its "${layout.archiveDir}" sub-directory); ` +
      `expected ${all.join(', ')}`,
  );
}

function readNames(op: string, root: string, file: string, expected: number, fallback: readonly string[]): string[] {
  const p = path.join(root, file);
  if (!isFile(p)) return [...fallback];
  const names = fs
    .readFileSync(p, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (names.length !== expected) {
    throw new Error(`${op}: ${p} lists ${names.length} class names but ${expected} were expected, one per line`);
  }
  return names;
}

async function readSplit(
  layout: Layout,
  files: string[],
  limitPerClass: number | undefined,
  device: string | undefined,
  progress: { done: number; total: number; cb?: ProgressCallback },
): Promise<Split> {
  const { op, recordBytes, labelOffset, numClasses } = layout;
  const imageOffset = recordBytes - IMAGE_BYTES;
  const buffers: Buffer[] = [];
  for (const file of files) {
    const buf = await fs.promises.readFile(file);
    if (buf.length === 0 || buf.length % recordBytes !== 0) {
      throw new Error(
        `${op}: ${file} has ${buf.length} bytes, which is not a whole number of ${recordBytes}-byte records ` +
          `(${layout.recordDescription}); the file is truncated or not a ${layout.name} binary file`,
      );
    }
    buffers.push(buf);
  }
  const totalRecords = buffers.reduce((a, b) => a + b.length / recordBytes, 0);
  const images = new Uint8Array(totalRecords * IMAGE_BYTES);
  const labels = new BigInt64Array(totalRecords);
  const perClass = new Array<number>(numClasses).fill(0);
  let n = 0;
  for (let f = 0; f < buffers.length; f++) {
    const buf = buffers[f];
    const records = buf.length / recordBytes;
    for (let r = 0; r < records; r++) {
      const off = r * recordBytes;
      const label = buf[off + labelOffset];
      if (label >= numClasses) {
        throw new Error(
          `${op}: ${files[f]} record ${r} (byte ${off + labelOffset}) has label ${label}, but labels are 0..${numClasses - 1}; ` +
            `the file is not a ${layout.name} binary file (${layout.recordDescription})`,
        );
      }
      if (limitPerClass !== undefined && perClass[label] >= limitPerClass) continue;
      perClass[label]++;
      images.set(buf.subarray(off + imageOffset, off + recordBytes), n * IMAGE_BYTES);
      labels[n] = BigInt(label);
      n++;
    }
    progress.done += records;
    progress.cb?.(progress.done, progress.total);
  }
  return {
    images: tensor(images.subarray(0, n * IMAGE_BYTES), { shape: [n, 3, SIDE, SIDE], device }),
    labels: tensor(labels.subarray(0, n), { device }),
  };
}

async function load(layout: Layout, dir: unknown, options: CifarOptions): Promise<TensorDataset> {
  const { op } = layout;
  if (typeof options !== 'object' || options === null) throw typeError(op, 'options', '{device, limitPerClass, onProgress}', options);
  if (options.device !== undefined && typeof options.device !== 'string') throw typeError(op, 'device', '"cpu", "cuda" or "cuda:N"', options.device);
  const limit = options.limitPerClass === undefined ? undefined : checkInt(op, 'limitPerClass', options.limitPerClass, 1);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw typeError(op, 'onProgress', 'a function (done, total) => void', options.onProgress);
  const root = findRoot(layout, checkDir(op, dir));
  const train = layout.trainFiles.map((f) => path.join(root, f)).filter(isFile);
  const test = path.join(root, layout.testFile);
  if (train.length === 0 || (layout.allTrainRequired && train.length < layout.trainFiles.length)) {
    const missing = layout.trainFiles.filter((f) => !isFile(path.join(root, f)));
    throw new Error(`${op}: training file${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing in "${root}"`);
  }
  if (!isFile(test)) throw new Error(`${op}: test file ${layout.testFile} missing in "${root}"`);
  const classes = readNames(op, root, layout.namesFile, layout.numClasses, layout.defaultClasses);
  const total = [...train, test].reduce((a, f) => a + Math.floor(fs.statSync(f).size / layout.recordBytes), 0);
  const progress = { done: 0, total, cb: options.onProgress };
  const trainSplit = await readSplit(layout, train, limit, options.device, progress);
  try {
    const testSplit = await readSplit(layout, [test], limit, options.device, progress);
    return tensorDataset({ train: trainSplit, test: testSplit, classes }, layout.stats);
  } catch (e) {
    trainSplit.images.dispose();
    trainSplit.labels.dispose();
    throw e;
  }
}

/**
 * Loads CIFAR-10 from the official binary release in `dir` (or in its `cifar-10-batches-bin/`
 * sub-directory): the training split from whichever of `data_batch_1.bin` .. `data_batch_5.bin` exist
 * (all five in the full release; at least one is required), the test split from `test_batch.bin`, and
 * class names from `batches.meta.txt` when present (else the standard names).
 * Images are uint8 `[N, 3, 32, 32]`, labels int64 `[N]`, both on `options.device`.
 * A file whose size is not a multiple of the 3,073-byte record is an error naming it.
 */
export async function cifar10(dir: string, options: CifarOptions = {}): Promise<TensorDataset> {
  return load(
    {
      op: 'cifar10',
      name: 'CIFAR-10',
      archiveDir: 'cifar-10-batches-bin',
      trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
      allTrainRequired: false,
      testFile: 'test_batch.bin',
      recordBytes: 1 + IMAGE_BYTES,
      labelOffset: 0,
      numClasses: 10,
      namesFile: 'batches.meta.txt',
      defaultClasses: CIFAR10_CLASSES,
      recordDescription: `1 label byte + ${IMAGE_BYTES} image bytes`,
      stats: { mean: CIFAR10_MEAN, std: CIFAR10_STD },
    },
    dir,
    options,
  );
}

/**
 * Loads CIFAR-100 from the official binary release in `dir` (or in its `cifar-100-binary/`
 * sub-directory): `train.bin` and `test.bin`, with the fine labels (100 classes, names from
 * `fine_label_names.txt`) by default or the coarse ones (20 superclasses, names from
 * `coarse_label_names.txt`) with `labels: 'coarse'`; the standard names when the file is absent.
 * Images are uint8 `[N, 3, 32, 32]`, labels int64 `[N]`, both on `options.device`.
 * A file whose size is not a multiple of the 3,074-byte record is an error naming it.
 */
export async function cifar100(dir: string, options: Cifar100Options = {}): Promise<TensorDataset> {
  const which = options?.labels === undefined ? 'fine' : checkOneOf('cifar100', 'labels', options.labels, ['fine', 'coarse']);
  const fine = which === 'fine';
  return load(
    {
      op: 'cifar100',
      name: 'CIFAR-100',
      archiveDir: 'cifar-100-binary',
      trainFiles: ['train.bin'],
      allTrainRequired: true,
      testFile: 'test.bin',
      recordBytes: 2 + IMAGE_BYTES,
      labelOffset: fine ? 1 : 0,
      numClasses: fine ? 100 : 20,
      namesFile: fine ? 'fine_label_names.txt' : 'coarse_label_names.txt',
      defaultClasses: fine ? CIFAR100_FINE_CLASSES : CIFAR100_COARSE_CLASSES,
      recordDescription: `1 coarse label byte + 1 fine label byte + ${IMAGE_BYTES} image bytes`,
      stats: { mean: CIFAR100_MEAN, std: CIFAR100_STD },
    },
    dir,
    options,
  );
}
