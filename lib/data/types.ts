/** The shapes every data set loader returns (synthetic, CIFAR binaries, image folders). */
import type { Tensor } from '../tensor';

/** A labelled image split: uint8 images `[N, 3, H, W]` and int64 labels `[N]`, on one device. */
export interface Split {
  /** uint8 `[N, 3, H, W]`, channels in RGB order. */
  images: Tensor;
  /** int64 `[N]`, each in `[0, classes.length)`. */
  labels: Tensor;
}

/** A data set: train and test splits and the class names (label k is `classes[k]`). */
export interface Dataset {
  train: Split;
  test: Split;
  classes: string[];
}

/** Progress of a loader: `done` of `total` images read so far. */
export type ProgressCallback = (done: number, total: number) => void;
