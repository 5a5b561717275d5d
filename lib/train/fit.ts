/**
 * The training run: everything `ictorch train` does, as a library call. The loop reads top to bottom in
 * phases, nanoGPT-style: per epoch, (1) train over the sampler's batches with the learning rate a pure
 * function of the step, (2) evaluate top-1/top-5 and loss on the test split, (3) log metrics, plot, and
 * checkpoint (every `checkpointEvery` epochs and at the end), (4) stop.
 * A checkpoint holds everything needed to continue exactly: model, momentum buffers, step, sampler order,
 * RNG states, history and this config; resuming reproduces an uninterrupted run (CPU, deterministic).
 */
import * as fs from 'fs';
import * as path from 'path';
import { noGrad } from '../autograd';
import { stack, tensor, zeros } from '../creation';
import { normalizeBatch, type NormalizeOptions } from '../data/augment';
import { loadData, type LoadDataOptions } from '../data/spec';
import { isDataset, tensorDataset, TensorSplit } from '../data/tensor-split';
import type { Dataset, DataSplit, Split } from '../data/types';
import { buildModel, type ModelSpec } from '../models/registry';
import type { Module } from '../nn/module';
import { getNumThreads, manualSeed, rngState, setRngState } from '../runtime';
import { keep, tidy } from '../scope';
import type { Tensor } from '../tensor';
import { checkInt, checkKeys, checkNumber, checkOneOf, rangeError, typeError } from '../validate';
import { saveCheckpoint, loadCheckpoint, exportWeights, disposeCheckpoint, type Checkpoint } from './checkpoint';
import { makeDirSync } from '../util/mkdir';
import { MetricsLog } from './metrics';
import { writePlots } from './plot';
import { Progress } from './progress';
import { lrAt, SCHEDULES, type ScheduleName } from './schedule';
import { Adadelta } from '../optim/adadelta';
import { Adagrad } from '../optim/adagrad';
import { Adam, AdamW } from '../optim/adam';
import { Adamax } from '../optim/adamax';
import { NAdam } from '../optim/nadam';
import type { Optimizer } from '../optim/optimizer';
import { RAdam } from '../optim/radam';
import { RMSprop } from '../optim/rmsprop';
import { paramGroups, SGD } from '../optim/sgd';
import { evalBatch, Trainer } from './trainer';
import { allReduce } from '../distributed/collectives';
import { defaultProcessGroup, ProcessGroup } from '../distributed/process-group';
import { shardLength } from '../data/order';
import { hash32 } from '../util/prng';

/** Every setting of a run, with units. Defaults follow the paper's CIFAR recipe. */
export interface TrainConfig {
  /** The network: a registry name and its arguments. */
  model: ModelSpec;
  /** Data spec: synthetic | cifar10:<dir> | cifar100:<dir> | imagefolder:<dir> (see `DATA_SPEC_FORMS`). */
  data: string;
  /** Passes over the training split. */
  epochs: number;
  /** Images per step (128). */
  batchSize: number;
  /** Peak learning rate (0.1). */
  lr: number;
  /** The optimiser: SGD (the paper's), Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam or Adadelta. */
  optimizer: 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad' | 'adamax' | 'nadam' | 'radam' | 'adadelta';
  /** SGD momentum (0.9; the other optimisers keep their own defaults: Adam's betas, RMSprop without momentum). */
  momentum: number;
  /** L2 weight decay on weights; BN and bias parameters get none (1e-4). */
  weightDecay: number;
  nesterov: boolean;
  /** Learning-rate schedule ('step': ×0.1 at 50% and 75%, or every `lrStepEpochs`). */
  schedule: ScheduleName;
  /** With the 'step' schedule: ×0.1 every this many epochs (the ImageNet recipe: 30); 0: at 50% and 75%. */
  lrStepEpochs: number;
  /** Linear warm-up, in epochs (0). */
  warmupEpochs: number;
  /** Label smoothing of the cross-entropy (0). */
  labelSmoothing: number;
  /** Mixed precision (null: float32). */
  amp: 'bf16' | 'fp16' | null;
  /** Capture the step as a CUDA graph on CUDA (true). */
  cudaGraph: boolean;
  /** cpu | cuda | cuda:N. */
  device: string;
  /** Seed of weights, data order, augmentation and dropout. */
  seed: number;
  /** Random crop (4-pixel zero padding) and horizontal flip on the training batches (true). */
  augment: boolean;
  /** Drop the last partial batch of an epoch (true). */
  dropLast: boolean;
  /** Checkpoint every this many epochs, and at the end (1). */
  checkpointEvery: number;
  /** Metrics line every this many steps, besides each epoch (0: per epoch only). */
  logEvery: number;
  /**
   * Run directory (metrics.jsonl, curves.svg/png, checkpoint.ckpt, model.pt). A resumed run writes where it is
   * told, or else beside the checkpoint it resumes: never into the directory the checkpoint was first written to.
   */
  outDir: string;
  /** Keep only this many images per class of each split (a subset; 0: all). */
  limitPerClass: number;
  /** Synthetic data set sizes. */
  syntheticTrainSize: number;
  syntheticTestSize: number;
  /** ImageNet: train on the first N classes in wnid order (0: all). */
  classSubset: number;
  /** ImageNet: the validation labels file (LOC_val_solution.csv or a `<file> <wnid>` list; null: found beside val/). */
  valLabels: string | null;
  /** Streaming sets: decoder threads (0: one per core). */
  workers: number;
  /** ImageNet: the side of the training and validation crops (0: 224; validation resizes to 256/224 of it first). */
  imageSize: number;
  /** Streaming sets: skip (and count) corrupt or unreadable images instead of stopping. */
  skipCorrupt: boolean;
}

/** The defaults of every setting but the model. */
export const DEFAULT_CONFIG: Omit<TrainConfig, 'model'> = {
  data: 'synthetic', epochs: 3, batchSize: 128, lr: 0.1, optimizer: 'sgd', momentum: 0.9, weightDecay: 1e-4, nesterov: false,
  schedule: 'step', warmupEpochs: 0, labelSmoothing: 0, amp: null, cudaGraph: true, device: 'cpu', seed: 0,
  augment: true, dropLast: true, checkpointEvery: 1, logEvery: 0, outDir: 'runs/latest', limitPerClass: 0,
  syntheticTrainSize: 3000, syntheticTestSize: 1000, lrStepEpochs: 0, classSubset: 0, valLabels: null, workers: 0, imageSize: 0, skipCorrupt: false,
};

/** One epoch's metrics (a line of metrics.jsonl). */
export interface EpochRecord {
  epoch: number;
  /** Epochs the run is set to last. */
  epochs: number;
  step: number;
  lr: number;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  testTop5: number;
  imagesPerSec: number;
  seconds: number;
}

/** What a finished run returns. */
export interface FitResult {
  history: EpochRecord[];
  final: EpochRecord;
  runDir: string;
  checkpoint: string;
  weights: string;
  /** Notes the trainer reported (why a step could not use the CUDA graph). */
  notes: string[];
}

/** Hooks and inputs of `fit`. */
export interface FitHooks {
  /**
   * A data set to train on instead of loading `config.data`: any `Dataset` (its splits' own statistics are
   * used), or in-memory splits `{train: {images, labels}, test: {images, labels}, classes}` (normalised with
   * their training images' own statistics). The caller keeps ownership: fit does not dispose it.
   */
  dataset?: Dataset | { train: Split; test: Split; classes: string[] };
  /** Continue from this checkpoint file (its config wins, except epochs, outDir and device). */
  resume?: string;
  /** Called after each epoch. */
  onEpoch?: (r: EpochRecord) => void;
  /** Human-readable lines (setup, notes); default: none. Data parallel: rank 0's only. */
  log?: (line: string) => void;
  /** Where the progress bar goes (default: none). */
  progressStream?: NodeJS.WritableStream;
  /** Stop after this many epochs of this call (for tests of interrupted runs). */
  stopAfterEpochs?: number;
  /**
   * Stops the run when aborted (the CLI aborts on SIGINT/SIGTERM): the step in flight finishes, a
   * checkpoint of that exact point is written (mid-epoch if need be), and `fit` rejects with a
   * `FitInterrupted` naming it. Resuming from it continues as if the run had not stopped.
   */
  signal?: AbortSignal;
  /**
   * Data-parallel training over this process group (default: the default group, when `initProcessGroup` made
   * one; null: this process alone). Every process of the group calls `fit` with the same config. `batchSize`
   * stays the batch of one step for the whole group: each process trains on its `1/worldSize` share of it
   * (every `worldSize`-th image of the batch, so the group's steps take the batches one process would) and the
   * gradients are averaged over the group. BatchNorm normalises each share with its own statistics (as
   * PyTorch's DistributedDataParallel); rank 0's running statistics are copied to the others before each
   * evaluation. The test split is shared out the same way and its totals summed. Rank 0 alone logs and writes
   * the run directory (metrics, curves, checkpoints, weights); every process returns the same history. An
   * abort on any process stops all of them at the same step. Before each step every process seeds its random
   * generators from (seed, rank, step): dropout draws independent masks on each share, as one process does
   * over the whole batch (processes seeded alike would repeat one another's masks), and a resumed run draws
   * the masks of the uninterrupted one whatever the number of processes.
   */
  processGroup?: ProcessGroup | null;
}

/** The error `fit` rejects with when its `signal` aborts it; the run was saved to `checkpoint` first. */
export class FitInterrupted extends Error {
  override readonly name = 'AbortError';
  constructor(
    /** The checkpoint that holds the run up to the step where it stopped. */
    readonly checkpoint: string,
    /** Epochs completed. */
    readonly epoch: number,
    /** Optimiser steps taken. */
    readonly step: number,
  ) {
    super(`fit: interrupted at step ${step} (${epoch} epochs done); saved ${checkpoint}: continue with resume`);
  }
}

// The running totals of an unfinished epoch, kept in a mid-epoch checkpoint.
interface EpochProgress {
  batches: number;
  seen: number;
  lossSum: number;
  correct: number;
  seconds: number;
}

function epochProgressOf(file: string, v: Record<string, unknown> | undefined): EpochProgress | null {
  if (v === undefined) return null;
  const keys = ['batches', 'seen', 'lossSum', 'correct', 'seconds'] as const;
  for (const k of keys) {
    if (typeof v[k] !== 'number' || !Number.isFinite(v[k] as number) || (v[k] as number) < 0) {
      throw new Error(`fit: cannot resume from ${file}: epochProgress.${k} must be a non-negative number, but it is ${String(v[k])}.`);
    }
  }
  return v as unknown as EpochProgress;
}

// The metrics log a resumed run continues: the records the interrupted run wrote next to its checkpoint,
// up to the checkpoint's step (later ones are written again as the run repeats those steps). Without
// that file, the checkpoint's epoch history.
function resumedMetrics(ckptFile: string, ckpt: Checkpoint, log: (line: string) => void): Record<string, unknown>[] {
  const fromHistory = ckpt.history.map((r) => ({ kind: 'epoch', ...r }));
  const dir = path.dirname(path.resolve(ckptFile));
  if (!fs.existsSync(path.join(dir, 'metrics.jsonl'))) return fromHistory;
  try {
    return MetricsLog.load(dir).records.filter((r) => typeof r.step === 'number' && r.step <= ckpt.step);
  } catch (e) {
    log(`note: ${(e as Error).message} The metrics log restarts from the checkpoint's epoch history.`);
    return fromHistory;
  }
}

/** What `loadData` gets from a run's config. */
export function dataOptions(cfg: TrainConfig, log?: (line: string) => void): LoadDataOptions {
  let last = 0;
  return {
    device: cfg.device,
    limitPerClass: cfg.limitPerClass || undefined,
    synthetic: { trainSize: cfg.syntheticTrainSize, testSize: cfg.syntheticTestSize, seed: cfg.seed },
    imagenet: {
      ...(cfg.classSubset ? { classes: cfg.classSubset } : {}),
      ...(cfg.valLabels ? { valLabels: cfg.valLabels } : {}),
      ...(cfg.workers ? { workers: cfg.workers } : {}),
      ...(cfg.imageSize ? { trainSize: cfg.imageSize, valSize: cfg.imageSize, resizeSize: Math.round((cfg.imageSize * 256) / 224) } : {}),
      skipCorrupt: cfg.skipCorrupt,
    },
    // Building a large data set's index (or decoding an image folder) reports progress, about once a second.
    onProgress: log
      ? (done, total) => {
          const now = Date.now();
          if (now - last < 1000 && done < total) return;
          last = now;
          log(`data: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`);
        }
      : undefined,
  };
}

/** The optimisers `fit` can train with. */
export const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adamax', 'nadam', 'radam', 'adadelta'] as const;

/** The names a `TrainConfig` has (an unknown name in a config is an error that suggests the closest). */
export const CONFIG_KEYS: readonly (keyof TrainConfig)[] = ['model', ...(Object.keys(DEFAULT_CONFIG) as (keyof TrainConfig)[])];

function validate(c: TrainConfig): TrainConfig {
  const op = 'fit';
  checkKeys(op, 'config', c, CONFIG_KEYS);
  const m = c.model as unknown;
  if (m === null || typeof m !== 'object' || typeof (m as ModelSpec).name !== 'string') throw typeError(op, 'model', 'a model spec {name, args}', m);
  const args = (m as ModelSpec).args;
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) throw typeError(op, 'model.args', 'an object of builder arguments', args);
  if (typeof c.data !== 'string' || !c.data) throw typeError(op, 'data', 'a data spec string', c.data);
  checkInt(op, 'epochs', c.epochs, 1, 1e6);
  checkInt(op, 'batchSize', c.batchSize, 1, 2 ** 24);
  for (const k of ['lr', 'momentum', 'weightDecay', 'labelSmoothing'] as const) {
    checkNumber(op, k, c[k]);
    if (c[k] < 0) throw rangeError(op, k, 'a number >= 0', c[k]);
  }
  if (c.momentum >= 1) throw rangeError(op, 'momentum', 'a number in [0, 1)', c.momentum);
  if (c.labelSmoothing >= 1) throw rangeError(op, 'labelSmoothing', 'a number in [0, 1)', c.labelSmoothing);
  for (const k of ['nesterov', 'cudaGraph', 'augment', 'dropLast'] as const) if (typeof c[k] !== 'boolean') throw typeError(op, k, 'a boolean', c[k]);
  checkOneOf(op, 'schedule', c.schedule, SCHEDULES);
  checkOneOf(op, 'optimizer', c.optimizer, OPTIMIZERS);
  checkInt(op, 'warmupEpochs', c.warmupEpochs, 0, c.epochs);
  if (c.amp !== null) checkOneOf(op, 'amp', c.amp, ['bf16', 'fp16']);
  if (typeof c.device !== 'string' || !/^(cpu|cuda(:\d+)?)$/.test(c.device)) throw typeError(op, 'device', '"cpu", "cuda" or "cuda:N"', c.device);
  checkInt(op, 'seed', c.seed, 0, 2 ** 32 - 1);
  checkInt(op, 'checkpointEvery', c.checkpointEvery, 1);
  checkInt(op, 'logEvery', c.logEvery, 0);
  if (typeof c.outDir !== 'string' || !c.outDir) throw typeError(op, 'outDir', 'a directory path', c.outDir);
  checkInt(op, 'limitPerClass', c.limitPerClass, 0);
  checkInt(op, 'syntheticTrainSize', c.syntheticTrainSize, 1, 1e7);
  checkInt(op, 'syntheticTestSize', c.syntheticTestSize, 1, 1e7);
  checkInt(op, 'lrStepEpochs', c.lrStepEpochs, 0, 1e6);
  checkInt(op, 'classSubset', c.classSubset, 0);
  if (c.valLabels !== null && (typeof c.valLabels !== 'string' || !c.valLabels)) throw typeError(op, 'valLabels', 'a file path or null', c.valLabels);
  checkInt(op, 'workers', c.workers, 0, 1024);
  checkInt(op, 'imageSize', c.imageSize, 0, 8192);
  if (typeof c.skipCorrupt !== 'boolean') throw typeError(op, 'skipCorrupt', 'a boolean', c.skipCorrupt);
  return c;
}

/** Options of `evaluate`. */
export interface EvaluateOptions extends NormalizeOptions {
  /** Images per forward pass (default 500). */
  batchSize?: number;
  device?: string;
  amp?: 'bf16' | 'fp16' | null;
  /** Called after each batch with the images done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the evaluation early (it then rejects with an AbortError). */
  signal?: AbortSignal;
  /**
   * Evaluate with every process of this group: each takes every `worldSize`-th image of the split and the
   * totals are summed over the group (every process calls it and gets the same result; `onProgress` counts
   * this process's images of its share).
   */
  processGroup?: ProcessGroup | null;
}

/**
 * Loss, top-1 and top-5 accuracy of `model` on a split (evaluation mode, no gradients, the validation
 * transform). The inputs are normalised with `options.mean`/`std` when given (what the model was trained
 * with, e.g. a checkpoint's `normalization`), else a `DataSplit`'s own statistics; bare in-memory splits
 * `{images, labels}` without them get `normalizeBatch`'s defaults (CIFAR-10's).
 */
export async function evaluate(model: Module, split: DataSplit | Split, options: EvaluateOptions = {}): Promise<{ loss: number; acc: number; top5: number }> {
  checkKeys('evaluate', 'options', options, ['batchSize', 'device', 'amp', 'onProgress', 'signal', 'mean', 'std', 'processGroup']);
  const group = options.processGroup ?? null;
  if (group !== null && !(group instanceof ProcessGroup)) throw typeError('evaluate', 'processGroup', 'a ProcessGroup', group);
  const [rank, worldSize] = group ? [group.rank(), group.size()] : [0, 1];
  const batchSize = checkInt('evaluate', 'batchSize', options.batchSize ?? 500, 1);
  const device = options.device ?? 'cpu';
  let data: DataSplit;
  let norm: NormalizeOptions;
  if (typeof (split as DataSplit).batches === 'function') {
    data = split as DataSplit;
    norm = options.mean || options.std ? { mean: options.mean, std: options.std } : { mean: data.mean, std: data.std };
  } else {
    const s = split as Split;
    data = new TensorSplit(s.images, s.labels, { name: 'test', classes: [], mean: [], std: [] });
    norm = { mean: options.mean, std: options.std };
  }
  model.eval();
  const n = data.length;
  const share = shardLength(n, rank, worldSize);
  // Summed over the group on the CPU (Gloo's CUDA path copies through the host anyway).
  const totals = keep(zeros([3], { dtype: 'float64', device }));
  let done = 0;
  try {
    for await (const batch of data.batches({ batchSize, augment: false, shuffle: false, dropLast: false, device, signal: options.signal, ...(worldSize > 1 ? { rank, worldSize } : {}) })) {
      await tidy(async () => {
        const x = noGrad(() => normalizeBatch(batch.images, norm));
        const r = await evalBatch(model, x, batch.labels, { device, amp: options.amp });
        noGrad(() => totals.add_(stack([r.lossSum, r.correct1, r.correctK].map((t) => t.to('float64')))));
      });
      batch.images.dispose();
      batch.labels.dispose();
      done += batch.indices.length;
      options.onProgress?.(done, share);
    }
    if (done < share) throw Object.assign(new Error(`evaluate: stopped after ${done} of ${share} images`), { name: 'AbortError' });
    const [loss, c1, c5] = await sumOver(group, totals);
    return { loss: loss / n, acc: c1 / n, top5: c5 / n };
  } finally {
    totals.dispose();
  }
}

/** The values of a small 1-d device tensor summed over `group` (alone: as they are). */
async function sumOver(group: ProcessGroup | null, t: Tensor): Promise<number[]> {
  if (!group || group.size() === 1) return Array.from(t.toArray() as Float64Array);
  // A copy: `to` returns the tensor itself when it is already on the CPU, and the running totals must stay this process's.
  const host = t.device === 'cpu' ? t.clone() : t.to({ device: 'cpu' });
  try {
    await allReduce(host, 'sum', group);
    return Array.from(host.toArray() as Float64Array);
  } finally {
    host.dispose();
  }
}

/** Whether any process of `group` passes true (alone: `vote`). */
async function anyOver(group: ProcessGroup | null, vote: boolean): Promise<boolean> {
  if (!group || group.size() === 1) return vote;
  const t = tensor([vote ? 1 : 0], { dtype: 'float64' });
  try {
    return (await sumOver(group, t))[0] > 0;
  } finally {
    t.dispose();
  }
}

/** Trains a model as `config` says, writing the run directory; resolves with the history. */
export async function fit(config: Partial<TrainConfig> & { model: ModelSpec }, hooks?: FitHooks): Promise<FitResult>;
/** Continues the run saved in `hooks.resume`; `config` may change only `epochs`, `outDir` and `device`. */
export async function fit(config: Partial<Pick<TrainConfig, 'epochs' | 'outDir' | 'device'>>, hooks: FitHooks & { resume: string }): Promise<FitResult>;
export async function fit(config: Partial<TrainConfig>, hooks: FitHooks = {}): Promise<FitResult> {
  checkKeys('fit', 'hooks', hooks, ['dataset', 'resume', 'onEpoch', 'log', 'progressStream', 'stopAfterEpochs', 'signal', 'processGroup']);
  const givenGroup = hooks.processGroup === undefined ? defaultProcessGroup() : hooks.processGroup;
  if (givenGroup !== null && (!(givenGroup instanceof ProcessGroup) || givenGroup.isDestroyed())) throw typeError('fit', 'processGroup', 'a live ProcessGroup or null', givenGroup);
  // A group of one process trains alone.
  const group = givenGroup && givenGroup.size() > 1 ? givenGroup : null;
  const [rank, world] = group ? [group.rank(), group.size()] : [0, 1];
  // Rank 0 leads: it alone logs and writes the run directory.
  const lead = rank === 0;
  const log = (lead && hooks.log) || (() => {});
  let resumed: Checkpoint | null = null;
  let cfg: TrainConfig;
  let runDir: string;
  if (hooks.resume) {
    checkKeys('fit', 'config', config, CONFIG_KEYS);
    const overrides = Object.fromEntries(Object.entries({ epochs: config.epochs, outDir: config.outDir, device: config.device }).filter(([, v]) => v !== undefined));
    resumed = loadCheckpoint(hooks.resume); // on the CPU: loading copies into the model wherever it lives
    try {
      cfg = validate({ ...DEFAULT_CONFIG, ...(resumed.config as unknown as TrainConfig), model: resumed.model, ...overrides });
    } catch (e) {
      disposeCheckpoint(resumed);
      throw new Error(`fit: cannot resume from ${hooks.resume}: its config is invalid (${(e as Error).message})`);
    }
    // The rest of the config is the checkpoint's: a given value must agree with it (the model's classes may
    // have been filled in from the data set).
    for (const [k, v] of Object.entries(config)) {
      if (v === undefined || k === 'epochs' || k === 'outDir' || k === 'device') continue;
      const saved = (cfg as unknown as Record<string, unknown>)[k];
      const same = k === 'model' ? sameModel(v as ModelSpec, saved as ModelSpec) : JSON.stringify(v) === JSON.stringify(saved);
      if (!same) {
        disposeCheckpoint(resumed);
        throw new Error(`fit: a resumed run keeps its checkpoint's ${k} (${JSON.stringify(saved)}), but the config gives ${JSON.stringify(v)}; only epochs, outDir and device can change`);
      }
    }
    // A resumed run writes where it is told, else beside its checkpoint (a copied run directory stays the copy's).
    runDir = path.resolve(config.outDir ?? path.dirname(hooks.resume));
    log(`resuming from ${hooks.resume} at epoch ${resumed.epoch} (step ${resumed.step})`);
  } else {
    if (!config.model) throw typeError('fit', 'config.model', 'a model spec {name, args}', config.model);
    cfg = validate({ ...DEFAULT_CONFIG, ...config } as TrainConfig);
    runDir = path.resolve(cfg.outDir);
  }
  if (group && cfg.batchSize % world !== 0) {
    if (resumed) disposeCheckpoint(resumed);
    throw rangeError('fit', 'batchSize', `a multiple of the ${world} processes of the group (each trains on an equal share of every batch)`, cfg.batchSize);
  }
  if (group && !cfg.dropLast) {
    if (resumed) disposeCheckpoint(resumed);
    throw rangeError('fit', 'dropLast', `true when training with ${world} processes (a last partial batch cannot be shared out evenly)`, cfg.dropLast);
  }
  const ckptFile = path.join(runDir, 'checkpoint.ckpt');
  const weightsFile = path.join(runDir, 'model.pt');

  // ---- setup: seed, model, optimiser, trainer, data. Everything that can reject the config (model spec,
  // device, amp) is built before the data is loaded, and the run directory is made last, so a bad run fails
  // fast and leaves nothing behind. The model's number of classes comes from the data set unless given.
  const classesGiven = cfg.model.args?.classes !== undefined;
  let model: Module | null = null;
  let groups: ReturnType<typeof paramGroups> = [];
  let optimizer: Optimizer | null = null;
  let trainer: Trainer | null = null;
  let data: Dataset | null = null;
  const ownsData = !hooks.dataset;
  const releaseModel = () => {
    trainer?.dispose();
    optimizer?.dispose();
    for (const g of groups) for (const p of g.params) p.dispose(); // handles only: the model owns the weights
    model?.dispose();
    [trainer, optimizer, groups, model] = [null, null, [], null];
  };
  const build = () => {
    manualSeed(cfg.seed);
    model = buildModel(cfg.model).to({ device: cfg.device });
    groups = paramGroups(model);
    // Weights get weight decay; BatchNorm/IC scales and shifts and biases do not (paramGroups).
    // momentum and nesterov are SGD's; the others take their own defaults beyond lr and weight decay
    const common = { lr: cfg.lr, weightDecay: cfg.weightDecay };
    optimizer =
      cfg.optimizer === 'sgd'
        ? new SGD(groups, { ...common, momentum: cfg.momentum, nesterov: cfg.nesterov })
        : new { adam: Adam, adamw: AdamW, rmsprop: RMSprop, adagrad: Adagrad, adamax: Adamax, nadam: NAdam, radam: RAdam, adadelta: Adadelta }[cfg.optimizer](groups, common);
    trainer = new Trainer(model, optimizer, { device: cfg.device, amp: cfg.amp, labelSmoothing: cfg.labelSmoothing, cudaGraph: cfg.cudaGraph, processGroup: group });
  };
  const release = () => {
    releaseModel();
    if (data && ownsData) data.dispose();
    if (resumed) disposeCheckpoint(resumed);
  };
  try {
    build();
    if (hooks.dataset) {
      data = isDataset(hooks.dataset) ? hooks.dataset : tensorDataset(hooks.dataset as { train: Split; test: Split; classes: string[] });
    } else {
      data = await loadData(cfg.data, dataOptions(cfg, hooks.log));
    }
    const nClasses = data.classes.length;
    if (classesGiven) {
      const given = Number(cfg.model.args.classes);
      if (given < nClasses) throw new RangeError(`fit: the data set has ${nClasses} classes but the model is built for ${given} (model.args.classes); leave classes out to take it from the data set`);
    } else {
      // Rebuilt with the data set's class count (the first build only checked the spec, before a long data load).
      cfg = { ...cfg, model: { name: cfg.model.name, args: { ...cfg.model.args, classes: nClasses } } };
      releaseModel();
      build();
    }
  } catch (e) {
    release();
    throw e;
  }
  const train = data.train;
  const nTrain = train.length;
  const order = { batchSize: cfg.batchSize, dropLast: cfg.dropLast };
  const stepsPerEpoch = train.numBatches(order);
  if (stepsPerEpoch === 0) {
    release();
    throw new RangeError(`fit: the training split has ${nTrain} images, fewer than one batch of ${cfg.batchSize}; use a smaller batchSize or dropLast: false`);
  }
  const schedule = {
    name: cfg.schedule, lr: cfg.lr, totalSteps: cfg.epochs * stepsPerEpoch, warmupSteps: cfg.warmupEpochs * stepsPerEpoch,
    ...(cfg.lrStepEpochs > 0 ? { stepEvery: cfg.lrStepEpochs * stepsPerEpoch } : {}),
  };
  const history: EpochRecord[] = [];
  let step = 0;
  let startEpoch = 0;
  let bestAcc: number | null = null;
  let carried: EpochProgress | null = null;
  let logged: Record<string, unknown>[] = [];
  // The inputs are normalised with the training split's statistics (a resumed run: the checkpoint's).
  let norm: { mean: readonly number[]; std: readonly number[] } = { mean: train.mean, std: train.std };
  try {
    if (resumed) {
      const ck = resumed;
      carried = epochProgressOf(hooks.resume!, ck.epochProgress);
      checkResumable(hooks.resume!, ck, { n: nTrain, batchSize: cfg.batchSize, stepsPerEpoch, epochs: cfg.epochs, carried });
      logged = resumedMetrics(hooks.resume!, ck, log);
      if (ck.classes && ck.classes.join('\n') !== data.classes.join('\n')) {
        throw new Error(`fit: cannot resume from ${hooks.resume}: it was trained on ${ck.classes.length} classes (${ck.classes.slice(0, 5).join(', ')}${ck.classes.length > 5 ? ', …' : ''}) but the data set has ${data.classes.length} (${data.classes.slice(0, 5).join(', ')}${data.classes.length > 5 ? ', …' : ''})`);
      }
      if (ck.normalization) norm = ck.normalization;
      tidy(() => {
        model!.loadStateDict(ck.modelState);
        optimizer!.loadStateDict(ck.optimizerState);
      });
      setRngState(ck.rng);
      history.push(...(ck.history as unknown as EpochRecord[]));
      step = ck.step;
      startEpoch = ck.epoch;
      bestAcc = ck.bestAcc;
      // The checkpoint's tensors have been copied into the model, optimiser and generators.
      disposeCheckpoint(ck);
      resumed = null;
    }
    if (lead) makeDirSync(runDir, 'fit');
    const metrics = new MetricsLog(runDir, logged);
    const notes: string[] = [];
    const m = model!;
    const opt = optimizer!;
    const stepper = trainer!;
    log(`model ${cfg.model.name} ${JSON.stringify(cfg.model.args)}: ${m.numParameters().toLocaleString('en-US')} parameters; ${nTrain} training images, ${data.classes.length} classes, ${stepsPerEpoch} steps/epoch; ${cfg.device}${cfg.device === 'cpu' ? ` (${getNumThreads()} threads)` : ''}${group ? `; data parallel over ${world} processes (${group.backend()}), ${cfg.batchSize / world} images each per step` : ''}`);

    // The sampler state is (seed, epoch, position): each epoch's order and augmentation are pure functions
    // of the seed and the epoch, so this is all a resumed run needs to continue with the same batches.
    const saveAll = (epoch: number, position: number, epochProgress?: EpochProgress) => {
      if (!lead) return;
      tidy(() => {
        saveCheckpoint(ckptFile, {
          model: cfg.model, config: cfg as unknown as Record<string, unknown>, epoch, step, bestAcc,
          modelState: m.stateDict(),
          optimizerState: opt.stateDict(),
          classes: [...data.classes],
          normalization: { mean: [...norm.mean], std: [...norm.std] },
          rng: rngState(),
          sampler: { version: 2, n: nTrain, batchSize: cfg.batchSize, dropLast: cfg.dropLast, seed: cfg.seed, epoch, position },
          history: history as unknown as Record<string, unknown>[],
          ...(epochProgress ? { epochProgress: { ...epochProgress } } : {}),
        });
      });
    };

    let epochsThisCall = 0;
    for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
      // ---- phase 1: train one epoch
      m.train();
      // A run resumed from a mid-epoch checkpoint starts with that epoch's totals so far.
      // Data parallel: each process sums its own share (rank 0's starts with the carried totals); `seen` counts the group's images.
      const carriedHere = carried && lead ? carried : null;
      const sums = keep(carriedHere ? tensor([carriedHere.lossSum, carriedHere.correct], { dtype: 'float64', device: cfg.device }) : zeros([2], { dtype: 'float64', device: cfg.device }));
      let seen = carried?.seen ?? 0;
      let seenHere = carriedHere?.seen ?? 0;
      let batchIndex = carried?.batches ?? 0;
      const secondsBefore = carried?.seconds ?? 0;
      carried = null;
      const progress = hooks.progressStream && lead ? new Progress({ total: stepsPerEpoch, label: `epoch ${epoch + 1}/${cfg.epochs}`, stream: hooks.progressStream }) : null;
      const t0 = performance.now();
      const seenBefore = seen;
      let lastBar = t0;
      let interrupted = false;
      try {
        const shard = group ? { batchSize: cfg.batchSize / world, rank, worldSize: world } : {};
        for await (const batch of train.batches({ ...order, ...shard, seed: cfg.seed, epoch, start: batchIndex, augment: cfg.augment, device: cfg.device })) {
          if (batchIndex >= stepsPerEpoch) {
            // A share one image longer than the others can hold one batch more than the group's epoch has.
            batch.images.dispose();
            batch.labels.dispose();
            break;
          }
          opt.lr = lrAt(schedule, step);
          // Data parallel: this process's masks for this step, unlike the other processes' (see FitHooks.processGroup).
          if (group) manualSeed(hash32(cfg.seed, rank, step));
          const size = batch.indices.length;
          let stopVoted = false;
          try {
            await tidy(async () => {
              const x = noGrad(() => normalizeBatch(batch.images, norm));
              const out = await stepper.step(x, batch.labels, { stop: hooks.signal?.aborted ?? false });
              stopVoted = out.stop;
              if (out.note) {
                notes.push(out.note);
                log(`note: ${out.note}`);
              }
              // Totals stay on the device: no host round trip per step (read at log points and at the epoch's end).
              // fit's Trainer has no criterion, so its steps count correct predictions.
              noGrad(() => sums.add_(stack([out.loss.to('float64').mul(size), out.correct!.to('float64')])));
            });
          } finally {
            batch.images.dispose();
            batch.labels.dispose();
          }
          seen += size * world;
          seenHere += size;
          step++;
          batchIndex++;
          // The bar reads the device totals (a host sync on a GPU) at most once a second, at each tenth of the
          // epoch (the plain log lines) and at its end.
          const tenth = Math.floor((batchIndex * 10) / stepsPerEpoch) !== Math.floor(((batchIndex - 1) * 10) / stepsPerEpoch);
          // Data parallel: the bar shows rank 0's share (reading the group's totals would be a collective).
          if (progress && (tenth || batchIndex === stepsPerEpoch || performance.now() - lastBar >= 1000)) {
            lastBar = performance.now();
            const [l, c] = Array.from(sums.toArray() as Float64Array);
            progress.update(batchIndex, { loss: l / seenHere, acc: c / seenHere, imagesPerSec: (seen - seenBefore) / ((performance.now() - t0) / 1000) });
          }
          if (cfg.logEvery > 0 && step % cfg.logEvery === 0) {
            const [l, c] = await sumOver(group, sums);
            if (lead) metrics.append({ kind: 'step', epoch: epoch + 1, step, lr: opt.lr, trainLoss: l / seen, trainAcc: c / seen });
          }
          // Interrupted: save this exact point and stop (after the epoch's last batch, the epoch ends first).
          // Data parallel: the step's vote, which every process of the group sees the same.
          const stopNow = group ? stopVoted : !!hooks.signal?.aborted;
          if (stopNow && batchIndex < stepsPerEpoch) {
            interrupted = true;
            break;
          }
        }
      } catch (e) {
        sums.dispose();
        progress?.finish();
        throw e;
      }
      if (interrupted) {
        const [l, c] = await sumOver(group, sums);
        sums.dispose();
        progress?.finish();
        saveAll(epoch, batchIndex, { batches: batchIndex, seen, lossSum: l, correct: c, seconds: secondsBefore + (performance.now() - t0) / 1000 });
        throw new FitInterrupted(ckptFile, epoch, step);
      }
      const seconds = secondsBefore + (performance.now() - t0) / 1000;
      let lossSum: number, correct: number;
      try {
        [lossSum, correct] = await sumOver(group, sums);
      } finally {
        sums.dispose();
        progress?.finish();
      }
      // Rank 0's running statistics for every replica: evaluation and the checkpoint see one model.
      await stepper.syncBuffers();

      // ---- phase 2: evaluate
      // Evaluation shows a bar on a terminal only: in logs the epoch's summary line follows right after.
      const testBar = lead && (hooks.progressStream as NodeJS.WriteStream | undefined)?.isTTY ? new Progress({ total: shardLength(data.test.length, rank, world), label: `test  ${epoch + 1}/${cfg.epochs}`, stream: hooks.progressStream }) : null;
      const test = await evaluate(m, data.test, { device: cfg.device, amp: cfg.amp, mean: norm.mean, std: norm.std, onProgress: testBar ? (done) => testBar.update(done) : undefined, processGroup: group });
      testBar?.finish();
      const rec: EpochRecord = { epoch: epoch + 1, epochs: cfg.epochs, step, lr: opt.lr, trainLoss: lossSum / seen, trainAcc: correct / seen, testLoss: test.loss, testAcc: test.acc, testTop5: test.top5, imagesPerSec: seen / seconds, seconds };
      history.push(rec);
      bestAcc = Math.max(bestAcc ?? 0, rec.testAcc);

      // ---- phase 3: log, plot, checkpoint
      const skipped = (train as { skippedCorrupt?: number }).skippedCorrupt ?? 0;
      if (skipped > 0) log(`note: ${skipped} corrupt or unreadable training image${skipped > 1 ? 's' : ''} skipped so far (skipCorrupt)`);
      if (lead) metrics.append({ kind: 'epoch', ...rec });
      try {
        if (lead) await writePlots(runDir, history);
      } catch (e) {
        // A plot is a convenience: a failure to draw it (e.g. no PNG encoder) must not end a long run.
        log(`note: could not write the training curves: ${(e as Error).message.split('\n')[0]}`);
      }
      const due = (epoch + 1) % cfg.checkpointEvery === 0 || epoch + 1 === cfg.epochs;
      const aborted = await anyOver(group, hooks.signal?.aborted ?? false);
      if (due || aborted) saveAll(epoch + 1, 0);
      hooks.onEpoch?.(rec);
      if (aborted && epoch + 1 < cfg.epochs) throw new FitInterrupted(ckptFile, epoch + 1, step);

      // ---- phase 4: stop
      epochsThisCall++;
      if (hooks.stopAfterEpochs !== undefined && epochsThisCall >= hooks.stopAfterEpochs) break;
    }
    if (lead) tidy(() => exportWeights(weightsFile, m.stateDict()));
    const final = history[history.length - 1];
    return { history, final, runDir, checkpoint: ckptFile, weights: weightsFile, notes };
  } finally {
    release();
  }
}

// The same model spec, a missing `classes` argument matching any (it is filled in from the data set).
function sameModel(a: ModelSpec, b: ModelSpec): boolean {
  const args = { ...(a?.args ?? {}) };
  if (args.classes === undefined && b?.args?.classes !== undefined) args.classes = b.args.classes;
  const sorted = (o: Record<string, unknown>) => JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
  return a?.name === b?.name && sorted(args) === sorted(b?.args ?? {});
}


// Checks that a checkpoint's sampler position belongs to this data set and batch size, and that its counters agree.
function checkResumable(file: string, ck: Checkpoint, run: { n: number; batchSize: number; stepsPerEpoch: number; epochs: number; carried: EpochProgress | null }): void {
  const bad = (why: string) => new Error(`fit: cannot resume from ${file}: ${why}`);
  const s = ck.sampler as Record<string, unknown> | undefined;
  if (!s || s.version !== 2) throw bad('it has no sampler position of this ictorch version (sampler.version 2); it was written by an older ictorch');
  if (s.n !== run.n) throw bad(`it was trained on ${String(s.n)} images but the data set has ${run.n}`);
  if (s.batchSize !== run.batchSize) throw bad(`its sampler used batchSize ${String(s.batchSize)}, the run ${run.batchSize}`);
  if (s.epoch !== ck.epoch) throw bad(`sampler.epoch ${String(s.epoch)} differs from epoch ${ck.epoch}`);
  const position = run.carried?.batches ?? 0;
  if (s.position !== position) throw bad(`sampler.position ${String(s.position)} differs from the ${position} batches its epoch progress records`);
  if (position >= run.stepsPerEpoch && position !== 0) throw bad(`sampler.position ${position} is past the ${run.stepsPerEpoch} batches of an epoch`);
  if (ck.step !== ck.epoch * run.stepsPerEpoch + position) throw bad(`step ${ck.step} does not match epoch ${ck.epoch} × ${run.stepsPerEpoch} steps + ${position}`);
  if (ck.history.length !== ck.epoch) throw bad(`its history has ${ck.history.length} epochs but it records ${ck.epoch}`);
  if (ck.epoch > run.epochs || (ck.epoch === run.epochs && position > 0)) throw bad(`it is at epoch ${ck.epoch}, past the run's ${run.epochs} epochs; pass more epochs to continue`);
}
