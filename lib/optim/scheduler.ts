/**
 * Learning-rate schedulers for hand-written loops, as `torch.optim.lr_scheduler`: construct one on an
 * optimiser, call `step()` once per epoch (or per iteration) after `optimizer.step()`, read `getLastLr()`.
 * Each computes the next rate from the current one with PyTorch's own (chainable) formulas, so the values
 * equal PyTorch's step by step. `fit()` uses the pure functions of `lrAt` (lib/train/schedule.ts) instead.
 * @module
 */
import { checkInt, checkNumber, knownOptions, rangeError, typeError } from '../validate';
import type { Optimizer } from './optimizer';

type Groups = { lr: number; initialLr?: number }[];

/** A scheduler's state, under PyTorch's names (`last_epoch`, `base_lrs`, `_last_lr`, ... and its options). */
export type SchedulerStateDict = Record<string, unknown> & { last_epoch: number; base_lrs: number[]; _step_count: number; _last_lr: number[] };


/** Base class: PyTorch's `_LRScheduler` (`step`, `getLastLr`, `stateDict`, `loadStateDict`). */
export abstract class LRScheduler {
  /** The optimiser whose groups' learning rates this scheduler sets. */
  readonly optimizer: Optimizer<object>;
  /** Each group's initial learning rate. */
  baseLrs: number[];
  /** Number of `step()` calls so far minus one (0 right after construction), PyTorch's `last_epoch`. */
  lastEpoch: number;
  private stepCount = 0;
  private lastLr: number[] = [];
  /** The scheduler's name in messages. */
  protected readonly op: string;

  /** @internal subclasses check their options first, then call this (which takes the first step). */
  protected constructor(op: string, optimizer: Optimizer<object>, lastEpoch = -1) {
    this.op = op;
    const groups = optimizer?.paramGroups as unknown as Groups | undefined;
    if (!Array.isArray(groups) || groups.some((g) => typeof g.lr !== 'number')) throw typeError(op, 'optimizer', 'an optimizer (torch.optim.SGD, Adam, AdamW)', optimizer);
    checkInt(op, 'lastEpoch', lastEpoch, -1);
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const g of groups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      groups.forEach((g, i) => {
        if (g.initialLr === undefined) throw rangeError(op, `optimizer.paramGroups[${i}].initialLr`, 'a number when resuming with lastEpoch >= 0', g.initialLr);
      });
    }
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** @internal the first step, taken by each subclass constructor once its fields are set (as PyTorch's `_initial_step`). */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  private get groups(): Groups {
    return this.optimizer.paramGroups as unknown as Groups;
  }

  /** The learning rates for `lastEpoch`, from the current ones (PyTorch's chainable `get_lr`). */
  protected abstract getLr(groups: Groups): number[];
  /** The scheduler's own options under PyTorch's names, for `stateDict`. */
  protected abstract options(): Record<string, unknown>;
  /** Restores the scheduler's own options from PyTorch's names. */
  protected abstract setOptions(state: Record<string, unknown>): void;

  /** Advances one epoch (or iteration) and sets every group's learning rate. */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    const values = this.getLr(this.groups);
    this.groups.forEach((g, i) => {
      g.lr = values[i];
    });
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The learning rates the last `step()` set, one per group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** The state under PyTorch's names (Python's `scheduler.load_state_dict` reads it). */
  stateDict(): SchedulerStateDict {
    return {
      ...this.options(),
      base_lrs: this.baseLrs.slice(),
      last_epoch: this.lastEpoch,
      verbose: false,
      _step_count: this.stepCount,
      _get_lr_called_within_step: false,
      _is_initial: false, // PyTorch 2.x's; 1.13 has no such attribute and ignores it
      _last_lr: this.lastLr.slice(),
    };
  }

  /** Restores what `stateDict()` returned (or Python's `scheduler.state_dict()`). */
  loadStateDict(state: SchedulerStateDict): void {
    const op = `${this.op}.loadStateDict`;
    if (!state || typeof state !== 'object') throw typeError(op, 'state', 'an object from stateDict()', state);
    const nums = (k: string): number[] => {
      const v = state[k];
      if (!Array.isArray(v) || v.length !== this.groups.length) throw typeError(op, k, `an array of ${this.groups.length} numbers`, v);
      return v.map((x, i) => checkNumber(op, `${k}[${i}]`, x));
    };
    const baseLrs = nums('base_lrs');
    const lastLr = nums('_last_lr');
    const lastEpoch = checkInt(op, 'last_epoch', state.last_epoch, -1);
    const stepCount = checkInt(op, '_step_count', state._step_count, 0);
    this.setOptions(state);
    this.baseLrs = baseLrs;
    this.lastLr = lastLr;
    this.lastEpoch = lastEpoch;
    this.stepCount = stepCount;
  }

  /** @internal */
  protected get stepCountValue(): number {
    return this.stepCount;
  }
}

/** Options of `StepLR`. */
export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Decay factor (default 0.1). */
  gamma?: number;
  lastEpoch?: number;
}

/** Multiplies each group's learning rate by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  constructor(optimizer: Optimizer<object>, options: StepLROptions) {
    if (!options || typeof options !== 'object') throw typeError('StepLR', 'options', '{stepSize, gamma}', options);
    knownOptions('StepLR', options, ['stepSize', 'gamma', 'lastEpoch']);
    super('StepLR', optimizer, options.lastEpoch);
    this.stepSize = checkInt('StepLR', 'stepSize', options.stepSize, 1);
    this.gamma = checkNumber('StepLR', 'gamma', options.gamma ?? 0.1);
    this.initialStep();
  }
  protected getLr(groups: Groups): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected options(): Record<string, unknown> {
    return { step_size: this.stepSize, gamma: this.gamma };
  }
  protected setOptions(s: Record<string, unknown>): void {
    this.stepSize = checkInt('StepLR.loadStateDict', 'step_size', s.step_size, 1);
    this.gamma = checkNumber('StepLR.loadStateDict', 'gamma', s.gamma);
  }
}

/** Options of `CosineAnnealingLR`. */
export interface CosineAnnealingLROptions {
  /** Epochs of a half cosine (PyTorch's `T_max`). */
  tMax: number;
  /** Minimum learning rate (default 0). */
  etaMin?: number;
  lastEpoch?: number;
}

/** Anneals each group's learning rate along a half cosine from its initial value to `etaMin` over `tMax` epochs. */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;
  constructor(optimizer: Optimizer<object>, options: CosineAnnealingLROptions) {
    if (!options || typeof options !== 'object') throw typeError('CosineAnnealingLR', 'options', '{tMax, etaMin}', options);
    knownOptions('CosineAnnealingLR', options, ['tMax', 'etaMin', 'lastEpoch']);
    super('CosineAnnealingLR', optimizer, options.lastEpoch);
    this.tMax = checkInt('CosineAnnealingLR', 'tMax', options.tMax, 1);
    this.etaMin = checkNumber('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0);
    this.initialStep();
  }
  protected getLr(groups: Groups): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCountValue === 1 && e > 0) return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    if ((((e - 1 - T) % (2 * T)) + 2 * T) % (2 * T) === 0) return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }
  protected options(): Record<string, unknown> {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }
  protected setOptions(s: Record<string, unknown>): void {
    this.tMax = checkInt('CosineAnnealingLR.loadStateDict', 'T_max', s.T_max, 1);
    this.etaMin = checkNumber('CosineAnnealingLR.loadStateDict', 'eta_min', s.eta_min);
  }
}

/** Options of `LinearLR`. */
export interface LinearLROptions {
  /** Factor at epoch 0 (default 1/3), in (0, 1]. */
  startFactor?: number;
  /** Factor from `totalIters` on (default 1), in [0, 1]. */
  endFactor?: number;
  /** Epochs of the linear ramp (default 5). */
  totalIters?: number;
  lastEpoch?: number;
}

/** Scales each group's learning rate by a factor moving linearly from `startFactor` to `endFactor` (warm-up). */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;
  constructor(optimizer: Optimizer<object>, options: LinearLROptions = {}) {
    if (!options || typeof options !== 'object') throw typeError('LinearLR', 'options', '{startFactor, endFactor, totalIters}', options);
    knownOptions('LinearLR', options, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    super('LinearLR', optimizer, options.lastEpoch);
    this.startFactor = checkNumber('LinearLR', 'startFactor', options.startFactor ?? 1 / 3);
    this.endFactor = checkNumber('LinearLR', 'endFactor', options.endFactor ?? 1);
    this.totalIters = checkInt('LinearLR', 'totalIters', options.totalIters ?? 5, 1);
    if (!(this.startFactor > 0 && this.startFactor <= 1)) throw rangeError('LinearLR', 'startFactor', 'a number in (0, 1]', this.startFactor);
    if (!(this.endFactor >= 0 && this.endFactor <= 1)) throw rangeError('LinearLR', 'endFactor', 'a number in [0, 1]', this.endFactor);
    this.initialStep();
  }
  protected getLr(groups: Groups): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    if (e === 0) return groups.map((g) => g.lr * s);
    if (e > n) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }
  protected options(): Record<string, unknown> {
    return { start_factor: this.startFactor, end_factor: this.endFactor, total_iters: this.totalIters };
  }
  protected setOptions(s: Record<string, unknown>): void {
    this.startFactor = checkNumber('LinearLR.loadStateDict', 'start_factor', s.start_factor);
    this.endFactor = checkNumber('LinearLR.loadStateDict', 'end_factor', s.end_factor);
    this.totalIters = checkInt('LinearLR.loadStateDict', 'total_iters', s.total_iters, 1);
  }
}

/** Options of `LambdaLR`. */
export interface LambdaLROptions {
  /** Factor of the initial learning rate as a function of the epoch; one function, or one per group. */
  lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[];
  lastEpoch?: number;
}

/** Sets each group's learning rate to its initial value times `lrLambda(epoch)`. */
export class LambdaLR extends LRScheduler {
  private readonly lambdas: ((epoch: number) => number)[];
  constructor(optimizer: Optimizer<object>, options: LambdaLROptions) {
    if (!options || typeof options !== 'object') throw typeError('LambdaLR', 'options', '{lrLambda}', options);
    knownOptions('LambdaLR', options, ['lrLambda', 'lastEpoch']);
    const n = optimizer?.paramGroups?.length ?? 0;
    const fns = Array.isArray(options.lrLambda) ? options.lrLambda : Array.from({ length: n }, () => options.lrLambda as (e: number) => number);
    if (fns.length !== n) throw rangeError('LambdaLR', 'lrLambda', `one function per parameter group (${n})`, fns);
    fns.forEach((f, i) => {
      if (typeof f !== 'function') throw typeError('LambdaLR', `lrLambda[${i}]`, 'a function of the epoch', f);
    });
    super('LambdaLR', optimizer, options.lastEpoch);
    this.lambdas = fns;
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => {
      const f = this.lambdas[i](this.lastEpoch);
      return b * checkNumber('LambdaLR', `lrLambda(${this.lastEpoch})`, f);
    });
  }
  protected options(): Record<string, unknown> {
    return { lr_lambdas: this.lambdas.map(() => null) };
  }
  protected setOptions(): void {}
}
