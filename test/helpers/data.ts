// Shared test data: the archives in ../shared/data, extracted once into a fixed folder under os.tmpdir().
// Lock-free: each caller that finds the folder missing extracts into its own temporary folder beside it and
// renames that into place; when another process won the race, the loser's copy is deleted.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// ICTORCH_SHARED_DATA points elsewhere where ../shared is absent (the GPU device run carries the archives in .gpu/).
const SHARED = process.env.ICTORCH_SHARED_DATA ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'data');
const ROOT = path.join(os.tmpdir(), 'ictorch-test-data');

function extractOnce(archive: string, name: string): string {
  const final = path.join(ROOT, name);
  if (fs.existsSync(final)) return final;
  const src = path.join(SHARED, archive);
  if (!fs.existsSync(src)) throw new Error(`test data archive ${src} is missing`);
  fs.mkdirSync(ROOT, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(ROOT, `.${name}-`));
  try {
    execFileSync('tar', ['xJf', src, '-C', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      fs.renameSync(tmp, final);
    } catch (e) {
      // Another process renamed its copy first (the target exists and is not empty): use that one.
      if (!fs.existsSync(final)) throw e;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return final;
}

/** The real CIFAR-10 as JPEGs: train/<class>/NNNN.jpg (5,000 per class) and test/<class>/NNNN.jpg (1,000 per class). */
export function cifarJpegDir(): string {
  return extractOnce('cifar10-jpg.tar.xz', 'cifar10-jpg');
}

/** A sample of the CIFAR-10 binary release: data_batch_1.bin (1,000 images), test_batch.bin (500), batches.meta.txt. */
export function cifarBinSampleDir(): string {
  return path.join(extractOnce('cifar10-bin-sample.tar.xz', 'cifar10-bin-sample'), 'cifar10-bin-sample');
}
