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
import { augmentBatch, normalizeBatch, CIFAR100_MEAN, CIFAR100_STD, CIFAR10_MEAN, CIFAR10_STD } from '../data/augment';
import { BatchSampler } from '../data/sampler';
import { loadData } from '../data/spec';
import type { TensorDataset, Split } from '../data/types';
import { buildModel, type ModelSpec } from '../models/registry';
import type { Module } from '../nn/module';
import { getNumThreads, manualSeed, rngState, setRngState } from '../runtime';
import { keep, tidy } from '../scope';
import type { Tensor } from '../tensor';
import { checkInt, checkNumber, checkOneOf, rangeError, typeError } from '../validate';
import { saveCheckpoint, loadCheckpoint, exportWeights, type Checkpoint } from './checkpoint';
import { MetricsLog } from './metrics';
import { writePlots } from './plot';
import { Progress } from './progress';
import { lrAt, SCHEDULES, type ScheduleName } from './schedule';
import { paramGroups, SGD } from './sgd';
import { evalBatch, Trainer } from './trainer';

/** Every setting of a run, with units. Defaults follow the paper's CIFAR recipe. */
export interface TrainConfig {
  /** The network: a registry name and its arguments. */
  model: ModelSpec;
  /** Data spec: synthetic | cifar10:<dir> | cifar100:<dir> | imagefolder:<dir>. */
  data: string;
  /** Passes over the training split. */
  epochs: number;
  /** Images per step (128). */
  batchSize: number;
  /** Peak learning rate (0.1). */
  lr: number;
  /** SGD momentum (0.9). */
  momentum: number;
  /** L2 weight decay on weights; BN and bias parameters get none (1e-4). */
  weightDecay: number;
  nesterov: boolean;
  /** Learning-rate schedule ('step': ×0.1 at 50% and 75%). */
  schedule: ScheduleName;
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
  /** Run directory (metrics.jsonl, curves.svg/png, checkpoint.ckpt, model.pt). */
  outDir: string;
  /** Keep only this many images per class of each split (a subset; 0: all). */
  limitPerClass: number;
  /** Synthetic data set sizes. */
  syntheticTrainSize: number;
  syntheticTestSize: number;
}

/** The defaults of every setting but the model. */
export const DEFAULT_CONFIG: Omit<TrainConfig, 'model'> = {
  data: 'synthetic', epochs: 3, batchSize: 128, lr: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: false,
  schedule: 'step', warmupEpochs: 0, labelSmoothing: 0, amp: null, cudaGraph: true, device: 'cpu', seed: 0,
  augment: true, dropLast: true, checkpointEvery: 1, logEvery: 0, outDir: 'runs/latest', limitPerClass: 0,
  syntheticTrainSize: 3000, syntheticTestSize: 1000,
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
  /** A data set already in memory (else `config.data` is loaded). */
  dataset?: TensorDataset;
  /** Continue from this checkpoint file (its config wins, except epochs, outDir and device). */
  resume?: string;
  /** Called after each epoch. */
  onEpoch?: (r: EpochRecord) => void;
  /** Human-readable lines (setup, notes); default: none. */
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

function validate(c: TrainConfig): TrainConfig {
  checkInt('fit', 'epochs', c.epochs, 1);
  checkInt('fit', 'batchSize', c.batchSize, 1);
  checkNumber('fit', 'lr', c.lr);
  if (c.lr < 0) throw rangeError('fit', 'lr', 'a number >= 0', c.lr);
  checkOneOf('fit', 'schedule', c.schedule, SCHEDULES);
  if (c.amp !== null) checkOneOf('fit', 'amp', c.amp, ['bf16', 'fp16']);
  checkInt('fit', 'checkpointEvery', c.checkpointEvery, 1);
  return c;
}

function statsFor(spec: string): { mean: readonly number[]; std: readonly number[] } {
  return spec.startsWith('cifar100') ? { mean: CIFAR100_MEAN, std: CIFAR100_STD } : { mean: CIFAR10_MEAN, std: CIFAR10_STD };
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Images per forward pass (default 500). */
  batchSize?: number;
  device?: string;
  /** The data spec, which picks the normalisation statistics (CIFAR-100's or else CIFAR-10's). */
  data?: string;
  amp?: 'bf16' | 'fp16' | null;
  /** Called after each batch with the images done so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Loss, top-1 and top-5 accuracy of `model` on `split` (evaluation mode, no gradients). */
export async function evaluate(model: Module, split: Split, options: EvaluateOptions = {}): Promise<{ loss: number; acc: number; top5: number }> {
  const batchSize = options.batchSize ?? 500;
  const device = options.device ?? 'cpu';
  const norm = statsFor(options.data ?? '');
  model.eval();
  const n = split.labels.shape[0];
  const totals = keep(zeros([3], { dtype: 'float64', device }));
  try {
    for (let i = 0; i < n; i += batchSize) {
      const len = Math.min(batchSize, n - i);
      await tidy(async () => {
        const x = noGrad(() => normalizeBatch(split.images.narrow(0, i, len).to({ device }), norm));
        const r = await evalBatch(model, x, split.labels.narrow(0, i, len), { device, amp: options.amp });
        noGrad(() => totals.add_(stack([r.lossSum, r.correct1, r.correctK].map((t) => t.to('float64')))));
      });
      options.onProgress?.(i + len, n);
    }
    const [loss, c1, c5] = Array.from(totals.toArray() as Float64Array);
    return { loss: loss / n, acc: c1 / n, top5: c5 / n };
  } finally {
    totals.dispose();
  }
}

/** Trains a model as `config` says, writing the run directory; resolves with the history. */
export async function fit(config: Partial<TrainConfig> & { model: ModelSpec }, hooks?: FitHooks): Promise<FitResult>;
/** Continues the run saved in `hooks.resume`; `config` may change only `epochs`, `outDir` and `device`. */
export async function fit(config: Partial<Pick<TrainConfig, 'epochs' | 'outDir' | 'device'>>, hooks: FitHooks & { resume: string }): Promise<FitResult>;
export async function fit(config: Partial<TrainConfig>, hooks: FitHooks = {}): Promise<FitResult> {
  const log = hooks.log ?? (() => {});
  let resumed: Checkpoint | null = null;
  let cfg: TrainConfig;
  if (hooks.resume) {
    const overrides = Object.fromEntries(Object.entries({ epochs: config.epochs, outDir: config.outDir, device: config.device }).filter(([, v]) => v !== undefined));
    resumed = loadCheckpoint(hooks.resume); // on the CPU: loading copies into the model wherever it lives
    cfg = validate({ ...DEFAULT_CONFIG, ...(resumed.config as unknown as TrainConfig), ...overrides });
    log(`resuming from ${hooks.resume} at epoch ${resumed.epoch} (step ${resumed.step})`);
  } else {
    if (!config.model) throw typeError('fit', 'config.model', 'a model spec {name, args}', config.model);
    cfg = validate({ ...DEFAULT_CONFIG, ...config } as TrainConfig);
  }
  const runDir = path.resolve(cfg.outDir);
  const ckptFile = path.join(runDir, 'checkpoint.ckpt');
  const weightsFile = path.join(runDir, 'model.pt');

  // ---- setup: seed, model, optimiser, trainer, data. Everything that can reject the config (model spec,
  // device, amp) is built before the data is loaded, and the run directory is made last, so a bad run fails
  // fast and leaves nothing behind.
  manualSeed(cfg.seed);
  const model = buildModel(cfg.model).to({ device: cfg.device });
  const groups = paramGroups(model);
  const optimizer = new SGD(groups, { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay, nesterov: cfg.nesterov });
  let trainer: Trainer | null = null;
  let data: TensorDataset | null = null;
  const release = () => {
    trainer?.dispose();
    optimizer.dispose();
    for (const g of groups) for (const p of g.params) p.dispose(); // handles only: the model owns the weights
    model.dispose();
    if (data && !hooks.dataset) for (const t of [data.train.images, data.train.labels, data.test.images, data.test.labels]) t.dispose();
  };
  try {
    trainer = new Trainer(model, optimizer, { device: cfg.device, amp: cfg.amp, labelSmoothing: cfg.labelSmoothing, cudaGraph: cfg.cudaGraph });
    data = hooks.dataset ?? (await loadData(cfg.data, { device: cfg.device, limitPerClass: cfg.limitPerClass || undefined, synthetic: { trainSize: cfg.syntheticTrainSize, testSize: cfg.syntheticTestSize, seed: cfg.seed } }));
  } catch (e) {
    release();
    throw e;
  }
  const nTrain = data.train.labels.shape[0];
  const sampler = new BatchSampler(nTrain, { batchSize: cfg.batchSize, shuffle: true, seed: cfg.seed, dropLast: cfg.dropLast });
  const stepsPerEpoch = sampler.length;
  const schedule = { name: cfg.schedule, lr: cfg.lr, totalSteps: cfg.epochs * stepsPerEpoch, warmupSteps: cfg.warmupEpochs * stepsPerEpoch };
  const history: EpochRecord[] = [];
  let step = 0;
  let startEpoch = 0;
  let bestAcc: number | null = null;
  let carried: EpochProgress | null = null;
  let logged: Record<string, unknown>[] = [];
  try {
    if (resumed) {
      carried = epochProgressOf(hooks.resume!, resumed.epochProgress);
      logged = resumedMetrics(hooks.resume!, resumed, log);
      tidy(() => {
        model.loadStateDict(resumed!.modelState);
        const bufs = (resumed!.optimizerState.meta.layout as number[]).map((len, g) =>
          Array.from({ length: len }, (_, k) => resumed!.optimizerState.tensors[`${g}.${k}`] ?? null),
        );
        optimizer.loadStateDict({ buffers: bufs });
      });
      sampler.setState(resumed.sampler as never);
      setRngState(resumed.rng);
      // The checkpoint's tensors have been copied into the model, optimiser and generators.
      for (const t of [...Object.values(resumed.modelState), ...Object.values(resumed.optimizerState.tensors), resumed.rng.cpu, ...resumed.rng.cuda]) t.dispose();
      history.push(...(resumed.history as unknown as EpochRecord[]));
      step = resumed.step;
      startEpoch = resumed.epoch;
      bestAcc = resumed.bestAcc;
    }
    fs.mkdirSync(runDir, { recursive: true });
    const metrics = new MetricsLog(runDir, logged);
    const norm = statsFor(cfg.data);
    const notes: string[] = [];
    log(`model ${cfg.model.name} ${JSON.stringify(cfg.model.args)}: ${model.numParameters().toLocaleString('en-US')} parameters; ${nTrain} training images, ${stepsPerEpoch} steps/epoch; ${cfg.device}${cfg.device === 'cpu' ? ` (${getNumThreads()} threads)` : ''}`);

    const saveAll = (epoch: number, epochProgress?: EpochProgress) => {
      tidy(() => {
        const opt = optimizer.stateDict();
        const tensors: Record<string, Tensor> = {};
        opt.buffers.forEach((g, gi) => g.forEach((t, k) => t && (tensors[`${gi}.${k}`] = t)));
        saveCheckpoint(ckptFile, {
          model: cfg.model, config: cfg as unknown as Record<string, unknown>, epoch, step, bestAcc,
          modelState: model.stateDict(),
          optimizerState: { tensors, meta: { layout: opt.buffers.map((g) => g.length), groups: opt.groups } },
          rng: rngState(), sampler: sampler.state() as unknown as Record<string, unknown>, history: history as unknown as Record<string, unknown>[],
          ...(epochProgress ? { epochProgress: { ...epochProgress } } : {}),
        });
      });
    };

    let epochsThisCall = 0;
    for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
      // ---- phase 1: train one epoch
      model.train();
      // A run resumed from a mid-epoch checkpoint starts with that epoch's totals so far.
      const sums = keep(carried ? tensor([carried.lossSum, carried.correct], { dtype: 'float64', device: cfg.device }) : zeros([2], { dtype: 'float64', device: cfg.device }));
      let seen = carried?.seen ?? 0;
      let batchIndex = carried?.batches ?? 0;
      const secondsBefore = carried?.seconds ?? 0;
      carried = null;
      const progress = hooks.progressStream ? new Progress({ total: stepsPerEpoch, label: `epoch ${epoch + 1}/${cfg.epochs}`, stream: hooks.progressStream }) : null;
      const t0 = performance.now();
      const seenBefore = seen;
      for (const idx of sampler) {
        optimizer.lr = lrAt(schedule, step);
        await tidy(async () => {
          const index = tensor(idx, { dtype: 'int64', device: cfg.device });
          const raw = data.train.images.indexSelect(0, index);
          const x = noGrad(() => (cfg.augment ? augmentBatch(raw, norm) : normalizeBatch(raw, norm)));
          const y = data.train.labels.indexSelect(0, index);
          const out = await trainer.step(x, y);
          if (out.note) {
            notes.push(out.note);
            log(`note: ${out.note}`);
          }
          // Totals stay on the device: no host round trip per step (read at log points and at the epoch's end).
          noGrad(() => sums.add_(stack([out.loss.to('float64').mul(idx.length), out.correct.to('float64')])));
        });
        seen += idx.length;
        step++;
        batchIndex++;
        if (progress && (batchIndex % 10 === 0 || batchIndex === stepsPerEpoch)) {
          const [l, c] = Array.from(sums.toArray() as Float64Array);
          progress.update(batchIndex, { loss: l / seen, acc: c / seen, imagesPerSec: (seen - seenBefore) / ((performance.now() - t0) / 1000) });
        }
        if (cfg.logEvery > 0 && step % cfg.logEvery === 0) {
          const [l, c] = Array.from(sums.toArray() as Float64Array);
          metrics.append({ kind: 'step', epoch: epoch + 1, step, lr: optimizer.lr, trainLoss: l / seen, trainAcc: c / seen });
        }
        // Interrupted: save this exact point and stop. (After an epoch's last batch the sampler has moved
        // on to the next epoch, so that case stops at the epoch's end below instead.)
        if (hooks.signal?.aborted && batchIndex < stepsPerEpoch) {
          const [l, c] = Array.from(sums.toArray() as Float64Array);
          sums.dispose();
          progress?.finish();
          saveAll(epoch, { batches: batchIndex, seen, lossSum: l, correct: c, seconds: secondsBefore + (performance.now() - t0) / 1000 });
          throw new FitInterrupted(ckptFile, epoch, step);
        }
      }
      const seconds = secondsBefore + (performance.now() - t0) / 1000;
      const [lossSum, correct] = Array.from(sums.toArray() as Float64Array);
      sums.dispose();
      progress?.finish();

      // ---- phase 2: evaluate
      // Evaluation shows a bar on a terminal only: in logs the epoch's summary line follows right after.
      const testBar = (hooks.progressStream as NodeJS.WriteStream | undefined)?.isTTY ? new Progress({ total: data.test.labels.shape[0], label: `test  ${epoch + 1}/${cfg.epochs}`, stream: hooks.progressStream }) : null;
      const test = await evaluate(model, data.test, { device: cfg.device, data: cfg.data, amp: cfg.amp, onProgress: testBar ? (done) => testBar.update(done) : undefined });
      testBar?.finish();
      const rec: EpochRecord = { epoch: epoch + 1, epochs: cfg.epochs, step, lr: optimizer.lr, trainLoss: lossSum / seen, trainAcc: correct / seen, testLoss: test.loss, testAcc: test.acc, testTop5: test.top5, imagesPerSec: seen / seconds, seconds };
      history.push(rec);
      bestAcc = Math.max(bestAcc ?? 0, rec.testAcc);

      // ---- phase 3: log, plot, checkpoint
      metrics.append({ kind: 'epoch', ...rec });
      try {
        await writePlots(runDir, history);
      } catch (e) {
        // A plot is a convenience: a failure to draw it (e.g. no PNG encoder) must not end a long run.
        log(`note: could not write the training curves: ${(e as Error).message.split('\n')[0]}`);
      }
      const due = (epoch + 1) % cfg.checkpointEvery === 0 || epoch + 1 === cfg.epochs;
      if (due || hooks.signal?.aborted) saveAll(epoch + 1);
      hooks.onEpoch?.(rec);
      if (hooks.signal?.aborted && epoch + 1 < cfg.epochs) throw new FitInterrupted(ckptFile, epoch + 1, step);

      // ---- phase 4: stop
      epochsThisCall++;
      if (hooks.stopAfterEpochs !== undefined && epochsThisCall >= hooks.stopAfterEpochs) break;
    }
    tidy(() => exportWeights(weightsFile, model.stateDict()));
    const final = history[history.length - 1];
    return { history, final, runDir, checkpoint: ckptFile, weights: weightsFile, notes };
  } finally {
    release();
  }
}
