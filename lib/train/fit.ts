/**
 * A readable training loop (the beginning of the training engine): shuffle, step, evaluate, report.
 * Phases per epoch: set the learning rate from the schedule, train over shuffled batches, evaluate.
 */
import { noGrad } from '../autograd';
import { tensor } from '../creation';
import type { Dataset, Split } from '../data/synthetic';
import { crossEntropy } from '../nn/functional';
import type { Module } from '../nn/module';
import { tidy } from '../scope';
import type { Tensor } from '../tensor';
import { SGD } from './sgd';

/** Training settings. Defaults follow the paper's CIFAR recipe. */
export interface FitOptions {
  epochs: number;
  /** Images per step (default 128). */
  batchSize?: number;
  /** Peak learning rate (default 0.1). */
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  /** Device to train on (default 'cpu'). */
  device?: string;
  seed?: number;
}

/** What one epoch reports. */
export interface EpochReport {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  imagesPerSec: number;
}

/** Step decay (×0.1 at 50% and 75% of training): a pure function of the epoch. */
export function stepDecay(lr: number, epoch: number, epochs: number): number {
  return lr * (epoch >= Math.floor(0.75 * epochs) && epochs >= 4 ? 0.01 : epoch >= Math.floor(0.5 * epochs) && epochs >= 2 ? 0.1 : 1);
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** uint8 images → normalised float32 on the device. */
function prepare(images: Tensor, device: string): Tensor {
  return images.to({ device, dtype: 'float32' }).div(255).sub(0.5).div(0.25);
}

/** Top-1 accuracy and mean loss of `model` on `split`, in evaluation mode without gradients. */
export function evaluate(model: Module, split: Split, batchSize = 256, device = 'cpu'): { loss: number; acc: number } {
  model.eval();
  const n = split.labels.shape[0];
  let correct = 0;
  let lossSum = 0;
  for (let i = 0; i < n; i += batchSize) {
    const len = Math.min(batchSize, n - i);
    tidy(() =>
      noGrad(() => {
        const x = prepare(split.images.narrow(0, i, len), device);
        const y = split.labels.narrow(0, i, len).to({ device });
        const logits = model.forward(x);
        lossSum += (crossEntropy(logits, y).item() as number) * len;
        correct += logits.argmax(1).eq(y).sum().item() as number;
      }),
    );
  }
  return { loss: lossSum / n, acc: correct / n };
}

/** Trains `model` on `data` with SGD and step decay, calling `onEpoch` after each epoch. */
export function fit(model: Module, data: Dataset, options: FitOptions, onEpoch?: (r: EpochReport) => void): EpochReport[] {
  const batchSize = options.batchSize ?? 128;
  const lr0 = options.lr ?? 0.1;
  const device = options.device ?? 'cpu';
  const rand = prng(options.seed ?? 0);
  const sgd = new SGD(model.parameters(), { lr: lr0, momentum: options.momentum ?? 0.9, weightDecay: options.weightDecay ?? 1e-4 });
  const n = data.train.labels.shape[0];
  const reports: EpochReport[] = [];
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      sgd.lr = stepDecay(lr0, epoch, options.epochs);
      model.train();
      const order = Int32Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      let lossSum = 0, correct = 0, seen = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i + batchSize <= n; i += batchSize) {
        tidy(() => {
          const idx = tensor(order.subarray(i, i + batchSize)).long();
          const x = prepare(data.train.images.indexSelect(0, idx), device);
          const y = data.train.labels.indexSelect(0, idx).to({ device });
          const logits = model.forward(x);
          const loss = crossEntropy(logits, y);
          sgd.zeroGrad();
          loss.backward();
          sgd.step();
          lossSum += (loss.item() as number) * batchSize;
          correct += noGrad(() => logits.argmax(1).eq(y).sum().item() as number);
          seen += batchSize;
        });
      }
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const test = evaluate(model, data.test, 256, device);
      const r: EpochReport = { epoch: epoch + 1, lr: sgd.lr, trainLoss: lossSum / seen, trainAcc: correct / seen, testLoss: test.loss, testAcc: test.acc, imagesPerSec: seen / secs };
      reports.push(r);
      onEpoch?.(r);
    }
  } finally {
    sgd.dispose();
  }
  return reports;
}
