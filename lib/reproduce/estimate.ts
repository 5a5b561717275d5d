/**
 * Time estimate of a grid from a short measured throughput: a few training steps (and one evaluation
 * batch) of each distinct network (model × depth × layout × classes) on the chosen device, on random data
 * of the data set's image size. The estimate assumes that time grows linearly with the images processed
 * (per-image cost at the measured batch, scaled to the cell's batch and data set size) and leaves out data
 * loading, checkpoints and plots.
 */
import { randint, randn } from '../creation';
import { buildModel } from '../models/registry';
import { manualSeed } from '../runtime';
import { cuda } from '../runtime';
import { tidy } from '../scope';
import { paramGroups, SGD } from '../train/sgd';
import { evalBatch, Trainer } from '../train/trainer';
import type { Cell } from './grid';

/** Training and test images of each data set (the standard splits). */
export const SPLIT_SIZES: Record<string, { train: number; test: number; classes: number; side: number }> = {
  cifar10: { train: 50_000, test: 10_000, classes: 10, side: 32 },
  cifar100: { train: 50_000, test: 10_000, classes: 100, side: 32 },
  imagenet: { train: 1_281_167, test: 50_000, classes: 1000, side: 224 },
  synthetic: { train: 0, test: 0, classes: 10, side: 32 },
};

/** Images per split a cell trains and tests on (the standard sizes, cut by `limitPerClass`). */
export function splitSizes(cell: Cell): { train: number; test: number } {
  const s = SPLIT_SIZES[cell.dataset];
  const c = cell.config;
  let train = cell.dataset === 'synthetic' ? c.syntheticTrainSize : s.train;
  let test = cell.dataset === 'synthetic' ? c.syntheticTestSize : s.test;
  if (c.limitPerClass > 0) {
    train = Math.min(train, c.limitPerClass * s.classes);
    test = Math.min(test, c.limitPerClass * s.classes);
  }
  return { train, test };
}

/** Measured cost of one network. */
export interface Throughput {
  /** The network: `resnet-110 relu-ic-conv (100 classes)`. */
  key: string;
  /** Batch measured (the cell's batch, capped at 32 images on the CPU). */
  batch: number;
  /** Seconds per training image (median of the timed steps / batch). */
  trainSecondsPerImage: number;
  /** Seconds per test image (one evaluation batch). */
  evalSecondsPerImage: number;
}

/** The network a cell trains, as a key for sharing one measurement. */
export function networkKey(cell: Cell): string {
  const a = cell.config.model.args as { classes?: number };
  return `${cell.model}${/^resnet\d+$/.test(cell.model) ? '' : `-${cell.depth}`} ${cell.layout} (${a.classes} classes)`;
}

/**
 * Times `steps` training steps (after warm-up: 1 step on the CPU, 4 on CUDA where the step is captured as a
 * graph after three) and one evaluation batch of `cell`'s network on `device`, on random inputs.
 */
export async function measureThroughput(cell: Cell, device: string, steps: number): Promise<Throughput> {
  const side = SPLIT_SIZES[cell.dataset].side;
  const classes = (cell.config.model.args as { classes: number }).classes;
  const onCuda = device.startsWith('cuda');
  const batch = onCuda ? cell.config.batchSize : Math.min(cell.config.batchSize, 32);
  const warmup = onCuda ? 4 : 1;
  manualSeed(0);
  const model = buildModel(cell.config.model).to({ device });
  const groups = paramGroups(model);
  const optimizer = new SGD(groups, { lr: cell.config.lr, momentum: cell.config.momentum, weightDecay: cell.config.weightDecay });
  const trainer = new Trainer(model, optimizer, { device, amp: cell.config.amp, cudaGraph: cell.config.cudaGraph });
  const sync = () => onCuda && cuda.synchronize();
  try {
    const times: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      await tidy(async () => {
        const x = randn([batch, 3, side, side], { device });
        const y = randint(0, classes, [batch], { device });
        sync();
        const t0 = performance.now();
        const out = await trainer.step(x, y);
        out.loss.item(); // the step's result on the host: the step is done
        sync();
        if (i >= warmup) times.push((performance.now() - t0) / 1000);
      });
    }
    times.sort((a, b) => a - b);
    const step = times[Math.floor(times.length / 2)];
    model.eval();
    const evalSeconds = await tidy(async () => {
      const x = randn([batch, 3, side, side], { device });
      const y = randint(0, classes, [batch], { device });
      await evalBatch(model, x, y, { device }); // warm-up
      sync();
      const t0 = performance.now();
      const r = await evalBatch(model, x, y, { device });
      r.correct1.item();
      sync();
      return (performance.now() - t0) / 1000;
    });
    return { key: networkKey(cell), batch, trainSecondsPerImage: step / batch, evalSecondsPerImage: evalSeconds / batch };
  } finally {
    trainer.dispose();
    optimizer.dispose();
    for (const g of groups) for (const p of g.params) p.dispose();
    model.dispose();
  }
}

/** Seconds a cell still needs: the epochs left × (its training images + its test images) at the measured rates. */
export function cellSeconds(cell: Cell, t: Throughput, epochsDone: number): number {
  const { train, test } = splitSizes(cell);
  const b = cell.config.batchSize;
  const trained = cell.config.dropLast ? Math.floor(train / b) * b : train;
  return Math.max(0, cell.config.epochs - epochsDone) * (trained * t.trainSecondsPerImage + test * t.evalSecondsPerImage);
}

/** "3 h 12 min", "45 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${(h / 24).toFixed(1)} days`;
}
