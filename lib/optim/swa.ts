/**
 * Stochastic Weight Averaging, as `torch.optim.swa_utils` (PyTorch 1.13): `AveragedModel` keeps a running
 * average (or an EMA) of a model's parameters, `SWALR` anneals the learning rate to a constant SWA rate, and
 * `updateBn` recomputes the batch-norm statistics of the averaged weights at the end.
 *
 * ```ts
 * const swa = new optim.AveragedModel(model);
 * const sched = new optim.CosineAnnealingLR(opt, { tMax: 300 });
 * const swaSched = new optim.SWALR(opt, { swaLr: 0.05 });
 * for (let epoch = 0; epoch < 300; epoch++) {
 *   train(model, opt);
 *   if (epoch > 160) { swa.updateParameters(model); swaSched.step(); } else sched.step();
 * }
 * await optim.updateBn(batches, swa);
 * ```
 * @module
 */
import { noGrad } from '../autograd';
import { DTYPES, type DType } from '../dtype';
import { tensor } from '../creation';
import { buildModel, type ModelSpec } from '../models/registry';
import { batchNorm } from '../nn/functional';
import { BatchNorm1d, BatchNorm2d, BatchNorm3d, IC } from '../nn/layers';
import { deepCopy } from '../deep-copy';
import { Module } from '../nn/module';
import { tidy } from '../scope';
import { Tensor, type RemovableHandle } from '../tensor';
import { checkBool, checkInt, checkNumber, checkOneOf, knownOptions, rangeError, typeError } from '../validate';
import type { Optimizer, SchedulerGroupKeys } from './optimizer';
import { LRScheduler } from './scheduler';

/**
 * How `AveragedModel` folds a model's parameter into the average: `(averaged, current, numAveraged)` → the new
 * average (PyTorch's `avg_fn(averaged_model_parameter, model_parameter, num_averaged)`), all Tensors:
 * `numAveraged` is the int64 count of models averaged so far (before this one). An EMA:
 *
 * ```ts
 * const ema: optim.AvgFn = (avg, p) => avg.mul(0.1).add(p.mul(0.9));
 * ```
 */
export type AvgFn = (averagedParam: Tensor, modelParam: Tensor, numAveraged: Tensor) => Tensor;

/** Options of `AveragedModel`: `{ avgFn: ema, useBuffers: true }`. */
export interface AveragedModelOptions<M extends Module = Module> {
  /**
   * How to build the copy that holds the average. By default `deepCopy(model)`, as PyTorch's `deepcopy`. Else a
   * function returning a new module of the model's class and architecture, or a model spec `{name, args}` that
   * `buildModel` rebuilds (the ResNets and `registerModel`'s networks): its parameters and buffers then take the
   * model's values, dtypes and device, each submodule the model's training mode and each parameter its
   * `requiresGrad` (its hooks are its own).
   */
  copy?: (() => M) | ModelSpec;
  /** Keep the average on this device (default: the model's). */
  device?: string;
  /** The averaging (default: the equally weighted running mean, PyTorch's default). */
  avgFn?: AvgFn;
  /** Average the buffers too (batch-norm running statistics ...), not only the parameters (default false). */
  useBuffers?: boolean;
}

/** PyTorch's default `avg_fn`: the equally weighted running mean, `avg + (p - avg) / (n + 1)`, as the same tensor ops. */
const runningMean: AvgFn = (avg, p, n) => tidy(() => avg.add(p.sub(avg).div(n.add(1))));

/** The tensors of a module, each once: `[name, tensor]` of its parameters (and buffers), new handles the caller disposes. */
function tensorsOf(m: Module, buffers: boolean): [string, Tensor][] {
  return buffers ? [...m.namedParameters(), ...m.namedBuffers()] : m.namedParameters();
}

/** A module built from `copy` with `model`'s values, dtypes, devices, training modes and requiresGrad flags. */
function copyOf<M extends Module>(op: string, model: M, copy: unknown): M {
  if (copy === undefined) return deepCopy(model);
  let fresh: unknown;
  if (typeof copy === 'function') fresh = (copy as () => unknown)();
  else if (copy !== null && typeof copy === 'object' && typeof (copy as ModelSpec).name === 'string') fresh = buildModel(copy as ModelSpec);
  else throw typeError(op, 'copy', 'a function returning a new module, or a model spec {name, args}', copy);
  if (!(fresh instanceof Module)) throw typeError(op, 'copy()', 'a new nn.Module', fresh);
  if (fresh === model) throw typeError(op, 'copy()', 'a new module (it returned the model itself)', fresh);
  if (fresh.constructor !== model.constructor) {
    fresh.dispose();
    throw typeError(op, 'copy()', `a module of the model's class (${model.constructor.name})`, fresh);
  }
  try {
    tidy(() => {
      const ours = tensorsOf(fresh, true);
      const theirs = tensorsOf(model, true);
      const names = (l: [string, Tensor][]) => l.map(([k]) => k).join(', ');
      if (ours.length !== theirs.length || ours.some(([k], i) => k !== theirs[i][0])) {
        throw new RangeError(`${op}: copy() built another architecture: its parameters and buffers are [${names(ours)}], the model's [${names(theirs)}]`);
      }
      // The model's device and floating dtype, where it has one of each (as deepcopy keeps them).
      const devices = new Set(theirs.map(([, t]) => t.device));
      const floats = new Set(theirs.filter(([, t]) => t.dtype.startsWith('float') || t.dtype.startsWith('bfloat')).map(([, t]) => t.dtype));
      const to: { device?: string; dtype?: DType } = {};
      if (devices.size === 1 && ours.some(([, t]) => t.device !== [...devices][0])) to.device = [...devices][0];
      if (floats.size === 1 && ours.some(([, t]) => (t.dtype.startsWith('float') || t.dtype.startsWith('bfloat')) && t.dtype !== [...floats][0])) to.dtype = [...floats][0];
      if (to.device !== undefined || to.dtype !== undefined) fresh.to(to);
      ours.forEach(([k, t], i) => {
        const s = theirs[i][1];
        if (t.shape.join() !== s.shape.join() || t.dtype !== s.dtype || t.device !== s.device) {
          throw new RangeError(`${op}: copy() built another architecture: ${k} is ${t.dtype} [${t.shape.join(', ')}] on ${t.device}, the model's ${s.dtype} [${s.shape.join(', ')}] on ${s.device}`);
        }
      });
      noGrad(() => ours.forEach(([, t], i) => t.copy_(theirs[i][1])));
      const params = fresh.namedParameters();
      model.namedParameters().forEach(([, p], i) => params[i][1].requiresGrad_(p.requiresGrad));
    });
    // Pre-order, so that a child's own mode wins over its parent's.
    const modes = model.namedModules().map(([, m]) => m.training);
    fresh.namedModules().forEach(([, m], i) => m.train(modes[i]));
  } catch (e) {
    fresh.dispose();
    throw e;
  }
  return fresh as M;
}

/**
 * The averaged model of Stochastic Weight Averaging (Izmailov et al., "Averaging Weights Leads to Wider Optima and
 * Better Generalization"), as `torch.optim.swa_utils.AveragedModel`: a copy of `model` (`module`) whose parameters
 * `updateParameters(model)` folds into a running average (or `avgFn`'s EMA), counting in the int64 buffer
 * `n_averaged`. Its forward is the copy's; its state dict is PyTorch's (`n_averaged`, `module.<name>` ...), so it
 * loads into Python's `AveragedModel` and back.
 *
 * ```ts
 * const swa = new optim.AveragedModel(model);
 * const ema = new optim.AveragedModel(model, { avgFn: (a, p) => a.mul(0.999).add(p.mul(0.001)), useBuffers: true });
 * swa.updateParameters(model);   // after each epoch (or step)
 * const logits = swa.forward(x);
 * ```
 *
 * The copy is `deepCopy(model)` unless `copy` builds it (see `AveragedModelOptions.copy`). As 1.13 (2.x copies the buffers over when `useBuffers` is false), without `useBuffers` the copy's buffers
 * keep the model's values at construction: run `updateBn` on the averaged model before evaluating it.
 */
export class AveragedModel<M extends Module = Module> extends Module {
  /** The copy holding the average (PyTorch's `module`). */
  declare readonly module: M;
  /** The averaging function. */
  readonly avgFn: AvgFn;
  /** Whether the buffers are averaged too. */
  readonly useBuffers: boolean;
  private readonly averaged: Tensor;

  constructor(model: M, options: AveragedModelOptions<M> = {}) {
    const op = 'AveragedModel';
    if (!(model instanceof Module)) throw typeError(op, 'model', 'an nn.Module', model);
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{copy, device, avgFn, useBuffers}', options);
    knownOptions(op, options, ['copy', 'device', 'avgFn', 'useBuffers']);
    if (options.device !== undefined && (typeof options.device !== 'string' || (DTYPES as readonly string[]).includes(options.device))) {
      throw typeError(op, 'device', "a device ('cpu', 'cuda', 'cuda:1')", options.device);
    }
    if (options.avgFn !== undefined && typeof options.avgFn !== 'function') throw typeError(op, 'avgFn', 'a function (averaged, current, numAveraged) => Tensor', options.avgFn);
    const useBuffers = checkBool(op, 'useBuffers', options.useBuffers ?? false);
    super();
    const copy = copyOf(op, model, options.copy);
    if (options.device !== undefined) copy.to(options.device);
    this.registerModule('module', copy);
    this.averaged = tensor(0, { dtype: 'int64', device: options.device });
    this.registerBuffer('n_averaged', this.averaged);
    this.avgFn = options.avgFn ?? runningMean;
    this.useBuffers = useBuffers;
  }

  /** How many models have been averaged (PyTorch's `n_averaged`, an int64 0-d buffer; owned by this module). */
  get nAveraged(): Tensor {
    return (this as unknown as { n_averaged: Tensor }).n_averaged;
  }

  /** The copy's forward. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  forward(...inputs: any[]): any {
    return this.module.forward(...inputs);
  }

  /**
   * Folds `model`'s current parameters (and, with `useBuffers`, buffers) into the average: the first call copies
   * them, each later one sets `avg = avgFn(avg, p, nAveraged)`; then `nAveraged` grows by one. `model` must have
   * the copy's parameters (same names and shapes), on any device.
   */
  updateParameters(model: Module): void {
    const op = 'AveragedModel.updateParameters';
    if (!(model instanceof Module)) throw typeError(op, 'model', 'an nn.Module', model);
    tidy(() =>
      noGrad(() => {
        const ours = tensorsOf(this.module, this.useBuffers);
        const theirs = tensorsOf(model, this.useBuffers);
        const what = this.useBuffers ? 'parameters and buffers' : 'parameters';
        if (ours.length !== theirs.length) throw new RangeError(`${op}: the model has ${theirs.length} ${what}, the averaged model ${ours.length}`);
        ours.forEach(([k, t], i) => {
          const [k2, s] = theirs[i];
          if (t.shape.join() !== s.shape.join()) throw new RangeError(`${op}: the model's ${k2} has shape [${s.shape.join(', ')}], the averaged model's ${k} [${t.shape.join(', ')}]`);
        });
        const n = this.averaged;
        const first = Number(n.item()) === 0;
        ours.forEach(([k, pSwa], i) => {
          const device = pSwa.device;
          const pModel = theirs[i][1].detach().to({ device });
          if (first) {
            pSwa.copy_(pModel);
            return;
          }
          const avg = this.avgFn(pSwa.detach(), pModel, n.to({ device }));
          if (!(avg instanceof Tensor)) throw typeError(op, `avgFn's result for ${k}`, 'a Tensor', avg);
          pSwa.copy_(avg);
        });
        n.add_(1);
      }),
    );
  }
}

/** One batch of `updateBn`'s loader: a Tensor (`x`), an array whose first element is the input (`[x, y]`), or an ictorch loader's batch (`{images, labels}`). */
export type UpdateBnBatch = Tensor | readonly unknown[] | { images: Tensor; labels?: Tensor };

/** The modules `updateBn` recomputes: batch norm (and the IC layer, which normalises as one) with running statistics. */
function normLayers(model: Module): (BatchNorm1d | BatchNorm2d | BatchNorm3d | IC)[] {
  return model.modules().filter((m): m is BatchNorm1d | BatchNorm2d | BatchNorm3d | IC => {
    if (!(m instanceof BatchNorm1d || m instanceof BatchNorm2d || m instanceof BatchNorm3d || m instanceof IC)) return false;
    const rm = m.runningMean;
    rm?.dispose();
    return rm !== null;
  });
}

/**
 * Recomputes the batch-norm running statistics of `model` (typically an `AveragedModel`) with one pass over
 * `loader`, as `torch.optim.swa_utils.update_bn`: every `BatchNorm1d`, `BatchNorm2d`, `BatchNorm3d` and `IC` layer's
 * `running_mean`, `running_var` and `num_batches_tracked` start again from 0, 1 and 0, and each batch is folded in
 * with weight 1/k (PyTorch's `momentum=None`: the cumulative average over the batches), in training mode without
 * gradients; the model's mode is restored after (`model.train(wasTraining)` over the whole model, as PyTorch).
 *
 * ```ts
 * await optim.updateBn(trainBatches, swa);                                   // arrays of [input, target] work too
 * await optim.updateBn(torch.loader(data.train, { batchSize: 256, augment: false }), swa, 'cuda');
 * ```
 *
 * `loader`: an iterable or async iterable of batches, each a Tensor, an array whose first element is the input, or
 * a `torch.loader` batch `{images, labels}` (whose tensors `updateBn` then disposes, being their owner; the others
 * stay the caller's). `device`: where each input goes first. With a synchronous iterable the work is done when the
 * call returns. The native layers' momentum cannot be None, so each layer's update is redone exactly as PyTorch's
 * (ATen's batch_norm with momentum 1/k on the statistics before the batch); layers without running statistics are
 * skipped (PyTorch fails on them).
 */
export async function updateBn(loader: Iterable<UpdateBnBatch> | AsyncIterable<UpdateBnBatch>, model: Module, device?: string): Promise<void> {
  const op = 'updateBn';
  if (!(model instanceof Module)) throw typeError(op, 'model', 'an nn.Module', model);
  if (device !== undefined && typeof device !== 'string') throw typeError(op, 'device', "a device ('cpu', 'cuda')", device);
  const sync = loader !== null && typeof loader === 'object' && typeof (loader as Iterable<UpdateBnBatch>)[Symbol.iterator] === 'function';
  const async = loader !== null && typeof loader === 'object' && typeof (loader as AsyncIterable<UpdateBnBatch>)[Symbol.asyncIterator] === 'function';
  if (!sync && !async) throw typeError(op, 'loader', 'an iterable or async iterable of batches (Tensors, [input, ...] arrays or loader batches)', loader);
  const layers = normLayers(model);
  if (layers.length === 0) return;
  tidy(() =>
    noGrad(() => {
      for (const m of layers) {
        m.runningMean!.zero_();
        m.runningVar!.fill_(1);
        m.numBatchesTracked!.zero_();
      }
    }),
  );
  const wasTraining = model.training;
  const hooks: RemovableHandle[] = [];
  let index = 0;
  try {
    model.train();
    for (const m of layers) {
      let k = 0;
      let next: [Tensor, Tensor] | null = null;
      // Before the layer's forward: the statistics with this batch folded in as PyTorch's momentum=None does (ATen's
      // batch_norm with momentum 1/k, k counting the batches). After it: those replace the native layer's update.
      hooks.push(
        m.registerForwardPreHook((_m, inputs) => {
          k += 1;
          const x = inputs[0];
          if (!(x instanceof Tensor)) return undefined;
          const [rm, rv] = [m.runningMean!, m.runningVar!];
          const [mean, variance] = [rm.clone(), rv.clone()];
          rm.dispose();
          rv.dispose();
          batchNorm(x, mean, variance, { training: true, momentum: 1 / k }).dispose();
          next = [mean, variance];
          return undefined;
        }),
      );
      hooks.push(
        m.registerForwardHook(() => {
          if (!next) return undefined;
          const [rm, rv] = [m.runningMean!, m.runningVar!];
          rm.copy_(next[0]);
          rv.copy_(next[1]);
          [rm, rv, ...next].forEach((t) => t.dispose());
          next = null;
          return undefined;
        }),
      );
    }
    const run = (batch: unknown): void => {
      const i = index++;
      let input: unknown;
      let owned: Tensor[] = [];
      if (batch instanceof Tensor) input = batch;
      else if (Array.isArray(batch)) input = batch[0];
      else if (batch && typeof batch === 'object' && 'images' in batch) {
        const b = batch as { images: unknown; labels?: unknown };
        input = b.images;
        owned = [b.images, b.labels].filter((t): t is Tensor => t instanceof Tensor);
      }
      if (!(input instanceof Tensor)) throw typeError(op, `batch ${i}`, 'a Tensor, an array whose first element is the input Tensor, or a loader batch {images, labels}', batch);
      try {
        tidy(() => noGrad(() => void model.forward(device === undefined ? input : (input as Tensor).to({ device }))));
      } finally {
        owned.forEach((t) => t.dispose());
      }
    };
    if (sync) for (const batch of loader as Iterable<UpdateBnBatch>) run(batch);
    else for await (const batch of loader as AsyncIterable<UpdateBnBatch>) run(batch);
  } finally {
    hooks.forEach((h) => h.remove());
    model.train(wasTraining);
  }
}

/** Options of `SWALR`: `{ swaLr: 0.05, annealEpochs: 5, annealStrategy: 'linear' }`. */
export interface SWALROptions {
  /** The SWA learning rate the annealing ends at: one for every group, or one per group (PyTorch's `swa_lr`). */
  swaLr: number | number[];
  /** Epochs of the annealing (default 10; 0 switches at once), an integer >= 0. */
  annealEpochs?: number;
  /** `'cos'` (default) or `'linear'` annealing. */
  annealStrategy?: 'cos' | 'linear';
  /** The index of the last epoch when resuming (default -1: start; then each group needs `initialLr`). */
  lastEpoch?: number;
}

type Groups = ({ lr: number } & SchedulerGroupKeys)[];

/**
 * Anneals each group's learning rate from its current value to `swaLr` over `annealEpochs` epochs, then keeps it
 * there, as `torch.optim.swa_utils.SWALR` (chainable, counting its own `step()` calls: it takes over from whatever
 * scheduler ran before).
 *
 * ```ts
 * const sched = new optim.CosineAnnealingLR(opt, { tMax: 100 });
 * const swaSched = new optim.SWALR(opt, { swaLr: 0.05, annealEpochs: 5, annealStrategy: 'linear' });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   train();
 *   if (epoch >= 75) { swa.updateParameters(model); swaSched.step(); } else sched.step();
 * }
 * ```
 *
 * PyTorch keeps `swa_lr` in the optimiser's groups; here the scheduler keeps it (`swaLrs`), and, as PyTorch's, its
 * state does not include it (the constructor sets it).
 */
export class SWALR extends LRScheduler {
  /** Each group's SWA learning rate. */
  swaLrs: number[];
  /** Epochs of the annealing. */
  annealEpochs: number;
  /** The annealing's shape. */
  annealStrategy: 'cos' | 'linear';

  constructor(optimizer: Optimizer<object>, options: SWALROptions) {
    const op = 'SWALR';
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{swaLr, annealEpochs, annealStrategy}', options);
    knownOptions(op, options, ['swaLr', 'annealEpochs', 'annealStrategy', 'lastEpoch']);
    const n = (optimizer?.paramGroups as unknown[] | undefined)?.length ?? 0;
    const lr = (w: string, v: unknown): number => {
      const x = checkNumber(op, w, v);
      if (x < 0) throw rangeError(op, w, 'a learning rate >= 0', x);
      return x;
    };
    if (options.swaLr === undefined) throw typeError(op, 'swaLr', 'a learning rate or one per group (SWALR has no default swaLr)', options.swaLr);
    let swaLrs: number[];
    if (Array.isArray(options.swaLr)) {
      if (options.swaLr.length !== n) throw rangeError(op, 'swaLr', `a number or an array of one number per parameter group (${n})`, options.swaLr);
      swaLrs = options.swaLr.map((v, i) => lr(`swaLr[${i}]`, v));
    } else swaLrs = Array.from({ length: n }, () => lr('swaLr', options.swaLr));
    const annealStrategy = checkOneOf(op, 'annealStrategy', options.annealStrategy ?? 'cos', ['cos', 'linear'] as const);
    const annealEpochs = checkInt(op, 'annealEpochs', options.annealEpochs ?? 10, 0);
    super(op, optimizer, options.lastEpoch);
    this.swaLrs = swaLrs;
    // As PyTorch's, the rate is also written to each group (`swa_lr` in the optimiser's state dict).
    optimizer.paramGroups.forEach((g, i) => (g.swaLr = swaLrs[i]));
    this.annealEpochs = annealEpochs;
    this.annealStrategy = annealStrategy;
    this.initialStep();
  }

  private anneal(t: number): number {
    return this.annealStrategy === 'linear' ? t : (1 - Math.cos(Math.PI * t)) / 2;
  }

  protected getLr(groups: Groups): number[] {
    let step = this.stepCountValue - 1;
    if (this.annealEpochs === 0) step = Math.max(1, step);
    const prevT = Math.max(0, Math.min(1, (step - 1) / Math.max(1, this.annealEpochs)));
    const prevAlpha = this.anneal(prevT);
    // The rate before the annealing, recovered from the current one (PyTorch's _get_initial_lr).
    const prevLrs = groups.map((g, i) => (prevAlpha === 1 ? this.swaLrs[i] : (g.lr - prevAlpha * this.swaLrs[i]) / (1 - prevAlpha)));
    const t = Math.max(0, Math.min(1, step / Math.max(1, this.annealEpochs)));
    const alpha = this.anneal(t);
    return groups.map((_, i) => this.swaLrs[i] * alpha + prevLrs[i] * (1 - alpha));
  }

  protected options(): Record<string, unknown> {
    return { anneal_epochs: this.annealEpochs };
  }

  protected setOptions(s: Record<string, unknown>): void {
    // PyTorch's anneal_func (a function) is not restorable: the strategy stays the constructor's.
    this.annealEpochs = checkInt('SWALR.loadStateDict', 'anneal_epochs', s.anneal_epochs, 0);
  }
}
