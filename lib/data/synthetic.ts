/**
 * The built-in data set: procedurally generated 32×32 colour images of 10 classes, no download needed.
 * Class k is an oriented grating (angle k·18°) tinted with the class colour, with a random phase, frequency
 * jitter, contrast, position of a bright blob, and pixel noise; deterministic from a seed.
 */
import { tensor } from '../creation';
import type { Device } from '../dtype';
import { mulberry32 as prng } from '../util/prng';
import { checkInt, typeError } from '../validate';
import { tensorDataset } from './tensor-split';
import type { TensorDataset, Split } from './types';

// The types moved to ./types; re-exported here so existing imports keep working.
export type { TensorDataset, Split } from './types';

/** Options of `syntheticDataset`. */
export interface SyntheticOptions {
  /** Training images (default 5,000). */
  trainSize?: number;
  /** Test images (default 1,000). */
  testSize?: number;
  /** Seed of the generator (default 0): the same seed gives the same images. */
  seed?: number;
  /** Device the tensors are created on (default `cpu`). */
  device?: Device | string;
}


const COLOURS: [number, number, number][] = [
  [1, 0.2, 0.2], [0.2, 1, 0.2], [0.2, 0.2, 1], [1, 1, 0.2], [1, 0.2, 1],
  [0.2, 1, 1], [1, 0.6, 0.2], [0.6, 0.2, 1], [0.5, 0.5, 0.5], [0.2, 0.6, 0.4],
];

function makeSplit(n: number, rand: () => number, device: string | undefined): Split {
  const S = 32;
  const images = new Uint8Array(n * 3 * S * S);
  const labels = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rand() * 10);
    labels[i] = BigInt(k);
    const theta = (k * Math.PI) / 10 + (rand() - 0.5) * 0.15;
    const freq = 0.35 + rand() * 0.25;
    const phase = rand() * 2 * Math.PI;
    const contrast = 0.5 + rand() * 0.5;
    const bx = rand() * S, by = rand() * S;
    const [cr, cg, cb] = COLOURS[k];
    const tint = [cr * (0.7 + 0.3 * rand()), cg * (0.7 + 0.3 * rand()), cb * (0.7 + 0.3 * rand())];
    const c = Math.cos(theta), s = Math.sin(theta);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const g = 0.5 + 0.5 * contrast * Math.sin(freq * (x * c + y * s) + phase);
        const blob = Math.exp(-((x - bx) ** 2 + (y - by) ** 2) / 18);
        for (let ch = 0; ch < 3; ch++) {
          const v = g * tint[ch] * 0.85 + 0.25 * blob + (rand() - 0.5) * 0.25;
          images[((i * 3 + ch) * S + y) * S + x] = Math.max(0, Math.min(255, Math.round(v * 255)));
        }
      }
    }
  }
  return { images: tensor(images, { shape: [n, 3, S, S], device }), labels: tensor(labels, { device }) };
}

/** The built-in synthetic data set (default 5,000 training and 1,000 test images), on `options.device` (default cpu). */
export function syntheticDataset(options: SyntheticOptions = {}): TensorDataset {
  const trainSize = checkInt('syntheticDataset', 'trainSize', options.trainSize ?? 5000, 1);
  const testSize = checkInt('syntheticDataset', 'testSize', options.testSize ?? 1000, 1);
  const rand = prng(checkInt('syntheticDataset', 'seed', options.seed ?? 0, 0));
  const device = options.device;
  if (device !== undefined && typeof device !== 'string') throw typeError('syntheticDataset', 'device', '"cpu", "cuda" or "cuda:N"', device);
  return tensorDataset({
    train: makeSplit(trainSize, rand, device),
    test: makeSplit(testSize, rand, device),
    classes: ['grating-0', 'grating-18', 'grating-36', 'grating-54', 'grating-72', 'grating-90', 'grating-108', 'grating-126', 'grating-144', 'grating-162'],
  });
}
