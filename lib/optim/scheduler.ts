/**
 * Learning-rate schedulers for hand-written loops, as `torch.optim.lr_scheduler`: construct one on an
 * optimiser, call `step()` once per epoch (or per iteration) after `optimizer.step()`, read `getLastLr()`.
 * Each computes the next rate from the current one with PyTorch's own (chainable) formulas, so the values
 * equal PyTorch's step by step. `fit()` uses the pure functions of `lrAt` (lib/train/schedule.ts) instead.
 * @module
 */
import { Tensor } from '../tensor';
import { checkBool, checkInt, checkNumber, checkOneOf, knownOptions, rangeError, typeError } from '../validate';
import type { Optimizer, SchedulerGroupKeys } from './optimizer';

type Groups = ({ lr: number } & SchedulerGroupKeys)[];

/** The optimiser's groups, checked to be groups with a learning rate (what every scheduler reads and sets). */
function groupsOf(op: string, optimizer: Optimizer<object>): Groups {
  const groups = optimizer?.paramGroups as unknown as Groups | undefined;
  if (!Array.isArray(groups) || groups.some((g) => typeof g.lr !== 'number')) throw typeError(op, 'optimizer', 'an optimizer (torch.optim.SGD, Adam, AdamW)', optimizer);
  return groups;
}

/** A number for every group: one number for all, or an array of one per group (PyTorch's `_format_param`). */
function perGroup(op: string, arg: string, value: unknown, n: number, check: (where: string, v: unknown) => number): number[] {
  if (Array.isArray(value)) {
    if (value.length !== n) throw rangeError(op, arg, `a number or an array of one number per parameter group (${n})`, value);
    return value.map((v, i) => check(`${arg}[${i}]`, v));
  }
  const v = check(arg, value);
  return Array.from({ length: n }, () => v);
}

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
    const groups = groupsOf(op, optimizer);
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

  /**
   * The learning rates at `lastEpoch` from the initial ones alone (PyTorch's `_get_closed_form_lr`), for the
   * schedulers that have such a form; null for the others.
   */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** Advances one epoch (or iteration) and sets every group's learning rate. */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    this.setLrs(this.getLr(this.groups));
  }

  /** @internal sets every group's learning rate and records them for getLastLr. */
  protected setLrs(values: number[]): void {
    this.groups.forEach((g, i) => {
      g.lr = values[i];
    });
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /**
   * @internal SequentialLR's handover: jumps to `epoch` (PyTorch's deprecated `step(epoch)`: the closed form
   * where there is one).
   */
  _stepTo(epoch: number): void {
    this.stepCount += 1;
    this.lastEpoch = epoch;
    this.setLrs(this.closedFormLr() ?? this.getLr(this.groups));
  }

  /** @internal SequentialLR's start: undoes the construction's step (`last_epoch -= 1`); `restart` then takes it again. */
  _undoStep(): void {
    this.lastEpoch -= 1;
  }

  /** @internal SequentialLR's start for its first scheduler (PyTorch's `_initial_step`). */
  _restart(): void {
    this.initialStep();
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
  protected closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
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
  protected closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
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
  protected closedFormLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    return this.baseLrs.map((b) => b * (s + ((f - s) * Math.min(n, e)) / n));
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

/** Options of `MultiStepLR`. */
export interface MultiStepLROptions {
  /**
   * Epochs at which the learning rate is multiplied by `gamma` (integers >= 0). As in PyTorch (a `Counter`), the
   * order does not matter and an epoch listed twice decays twice (`gamma²`) there.
   */
  milestones: number[];
  /** Decay factor (default 0.1), >= 0. */
  gamma?: number;
  /** The index of the last epoch when resuming (default -1: start; then each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Milestones as PyTorch's `Counter`: epoch → how many times it is listed. */
function countMilestones(op: string, arg: string, value: unknown): Map<number, number> {
  const counts = new Map<number, number>();
  const add = (where: string, epoch: unknown, times: unknown): void => {
    const e = checkInt(op, where, epoch, 0);
    counts.set(e, (counts.get(e) ?? 0) + checkInt(op, `${where} count`, times, 1));
  };
  if (Array.isArray(value)) value.forEach((e, i) => add(`${arg}[${i}]`, e, 1));
  else if (value instanceof Map) for (const [e, n] of value) add(`${arg} key ${String(e)}`, e, n);
  else if (value && typeof value === 'object') for (const [e, n] of Object.entries(value)) add(`${arg} key "${e}"`, /^\d+$/.test(e) ? Number(e) : e, n);
  else throw typeError(op, arg, "an array of epochs (integers >= 0), or a Map or object epoch → count (PyTorch's Counter)", value);
  return counts;
}

/**
 * Multiplies each group's learning rate by `gamma` at each milestone epoch: `milestones: [100, 150]` divides it by
 * 10 at epochs 100 and 150 (the step schedules of the CIFAR papers). `stateDict().milestones` is PyTorch's
 * `Counter` as a Map (epoch → count), which `ictorch.save` writes as a dict Python's `load_state_dict` reads.
 */
export class MultiStepLR extends LRScheduler {
  /** Decay factor. */
  gamma: number;
  private counts: Map<number, number>;
  constructor(optimizer: Optimizer<object>, options: MultiStepLROptions) {
    if (!options || typeof options !== 'object') throw typeError('MultiStepLR', 'options', '{milestones, gamma}', options);
    knownOptions('MultiStepLR', options, ['milestones', 'gamma', 'lastEpoch']);
    if (!Array.isArray(options.milestones)) throw typeError('MultiStepLR', 'milestones', 'an array of epochs (integers >= 0)', options.milestones);
    const counts = countMilestones('MultiStepLR', 'milestones', options.milestones);
    const gamma = checkGamma('MultiStepLR', 'gamma', options.gamma ?? 0.1);
    super('MultiStepLR', optimizer, options.lastEpoch);
    this.counts = counts;
    this.gamma = gamma;
    this.initialStep();
  }
  /** The milestones in increasing order, an epoch listed twice appearing twice. */
  get milestones(): number[] {
    return [...this.counts].flatMap(([e, n]) => Array.from({ length: n }, () => e)).sort((a, b) => a - b);
  }
  protected getLr(groups: Groups): number[] {
    const n = this.counts.get(this.lastEpoch);
    if (n === undefined) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma ** n);
  }
  protected closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length; // Python's bisect_right
    return this.baseLrs.map((b) => b * this.gamma ** passed);
  }
  protected options(): Record<string, unknown> {
    return { milestones: new Map(this.counts), gamma: this.gamma };
  }
  protected setOptions(s: Record<string, unknown>): void {
    this.counts = countMilestones('MultiStepLR.loadStateDict', 'milestones', s.milestones);
    this.gamma = checkGamma('MultiStepLR.loadStateDict', 'gamma', s.gamma);
  }
}

/** A decay factor: a finite number >= 0 (a negative one would make the learning rate negative). */
function checkGamma(op: string, arg: string, value: unknown): number {
  const g = checkNumber(op, arg, value);
  if (g < 0) throw rangeError(op, arg, 'a number >= 0 (the factor the learning rate is multiplied by)', g);
  return g;
}

/** Options of `ExponentialLR`. */
export interface ExponentialLROptions {
  /** Factor the learning rate is multiplied by every epoch, >= 0 (no default, as in PyTorch). */
  gamma: number;
  /** The index of the last epoch when resuming (default -1: start; then each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Multiplies each group's learning rate by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  /** Decay factor per epoch. */
  gamma: number;
  constructor(optimizer: Optimizer<object>, options: ExponentialLROptions) {
    if (!options || typeof options !== 'object') throw typeError('ExponentialLR', 'options', '{gamma}', options);
    knownOptions('ExponentialLR', options, ['gamma', 'lastEpoch']);
    if (options.gamma === undefined) throw typeError('ExponentialLR', 'gamma', 'a finite number >= 0 (ExponentialLR has no default gamma)', options.gamma);
    const gamma = checkGamma('ExponentialLR', 'gamma', options.gamma);
    super('ExponentialLR', optimizer, options.lastEpoch);
    this.gamma = gamma;
    this.initialStep();
  }
  protected getLr(groups: Groups): number[] {
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
  protected options(): Record<string, unknown> {
    return { gamma: this.gamma };
  }
  protected setOptions(s: Record<string, unknown>): void {
    this.gamma = checkGamma('ExponentialLR.loadStateDict', 'gamma', s.gamma);
  }
}

/** Options of `OneCycleLR`. */
export interface OneCycleLROptions {
  /** The peak learning rate: one for every group, or one per group. */
  maxLr: number | number[];
  /** Steps in the cycle (the number of `step()` calls); else `epochs · stepsPerEpoch`. Takes precedence over both. */
  totalSteps?: number;
  /** Epochs of training, with `stepsPerEpoch` when `totalSteps` is not given. */
  epochs?: number;
  /** Steps (batches) per epoch, with `epochs` when `totalSteps` is not given. */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent raising the learning rate, in [0, 1] (default 0.3). */
  pctStart?: number;
  /** How each phase moves between its end points: `'cos'` (default) or `'linear'`. */
  annealStrategy?: 'cos' | 'linear';
  /**
   * Cycle momentum inversely to the learning rate, between `maxMomentum` and `baseMomentum` (default true): SGD's
   * `momentum`, Adam's and AdamW's `betas[0]`.
   */
  cycleMomentum?: boolean;
  /** Momentum at the peak learning rate (default 0.85): one for every group, or one per group. */
  baseMomentum?: number | number[];
  /** Momentum at the start and end of the cycle (default 0.95): one for every group, or one per group. */
  maxMomentum?: number | number[];
  /** The cycle starts at `initialLr = maxLr / divFactor` (default 25). */
  divFactor?: number;
  /** The cycle ends at `minLr = initialLr / finalDivFactor` (default 1e4). */
  finalDivFactor?: number;
  /**
   * Three phases (up, down to `initialLr` symmetrically, then down to `minLr`), as the paper, instead of two (up,
   * then down to `minLr`), as fastai (default false).
   */
  threePhase?: boolean;
  /** The index of the last step when resuming (default -1: start; then each group needs `initialLr`). */
  lastEpoch?: number;
}

/** One phase of a `OneCycleLR` cycle under PyTorch's names (`_schedule_phases`): where it ends and between which values it moves. */
interface OneCyclePhase {
  /** The step at which the phase ends (a float: `pctStart · totalSteps - 1` ...). */
  end_step: number;
  /** The learning rate at the start of the phase: which of the group's values. */
  start_lr: 'initial_lr' | 'max_lr' | 'min_lr';
  /** The learning rate at the end of the phase. */
  end_lr: 'initial_lr' | 'max_lr' | 'min_lr';
  /** The momentum at the start of the phase. */
  start_momentum: 'max_momentum' | 'base_momentum';
  /** The momentum at the end of the phase. */
  end_momentum: 'max_momentum' | 'base_momentum';
}

const LR_NAMES = ['initial_lr', 'max_lr', 'min_lr'] as const;
const MOMENTUM_NAMES = ['max_momentum', 'base_momentum'] as const;

function phasesOf(totalSteps: number, pctStart: number, threePhase: boolean): OneCyclePhase[] {
  const up: OneCyclePhase = { end_step: pctStart * totalSteps - 1, start_lr: 'initial_lr', end_lr: 'max_lr', start_momentum: 'max_momentum', end_momentum: 'base_momentum' };
  if (!threePhase) return [up, { end_step: totalSteps - 1, start_lr: 'max_lr', end_lr: 'min_lr', start_momentum: 'base_momentum', end_momentum: 'max_momentum' }];
  return [
    up,
    { end_step: 2 * pctStart * totalSteps - 2, start_lr: 'max_lr', end_lr: 'initial_lr', start_momentum: 'base_momentum', end_momentum: 'max_momentum' },
    { end_step: totalSteps - 1, start_lr: 'initial_lr', end_lr: 'min_lr', start_momentum: 'max_momentum', end_momentum: 'max_momentum' },
  ];
}

function checkPhases(op: string, value: unknown): OneCyclePhase[] {
  if (!Array.isArray(value) || value.length === 0) throw typeError(op, '_schedule_phases', 'a non-empty array of phases {end_step, start_lr, end_lr, start_momentum, end_momentum}', value);
  return value.map((p: Record<string, unknown>, i) => {
    const w = `_schedule_phases[${i}]`;
    if (!p || typeof p !== 'object') throw typeError(op, w, 'a phase {end_step, start_lr, end_lr, start_momentum, end_momentum}', p);
    return {
      end_step: checkNumber(op, `${w}.end_step`, p.end_step),
      start_lr: checkOneOf(op, `${w}.start_lr`, p.start_lr, LR_NAMES),
      end_lr: checkOneOf(op, `${w}.end_lr`, p.end_lr, LR_NAMES),
      start_momentum: checkOneOf(op, `${w}.start_momentum`, p.start_momentum, MOMENTUM_NAMES),
      end_momentum: checkOneOf(op, `${w}.end_momentum`, p.end_momentum, MOMENTUM_NAMES),
    };
  });
}

/**
 * The 1cycle policy (Smith & Topin, "Super-Convergence"), as `torch.optim.lr_scheduler.OneCycleLR`: the learning
 * rate rises from `maxLr / divFactor` to `maxLr` over the first `pctStart` of the cycle, then falls to
 * `initialLr / finalDivFactor`, while the momentum moves the opposite way; `step()` once per batch, `totalSteps`
 * times (after the last, the values are the last phase extrapolated one step, as in PyTorch, except where the
 * optimiser would refuse them: a learning rate below 0 becomes 0, Adam's betas[0] >= 1 the phase's end momentum;
 * a step beyond that is an error).
 *
 * As PyTorch, the cycle's end points are kept in the optimiser's parameter groups (`maxLr`, `minLr`, `maxMomentum`,
 * `baseMomentum`; `max_lr` ... in its state dict), so an optimiser state saved mid-cycle resumes it on either
 * side; resuming with `lastEpoch >= 0` reads them from the restored groups.
 */
export class OneCycleLR extends LRScheduler {
  /** Steps in the cycle. */
  totalSteps: number;
  /** The annealing between the end points of each phase. */
  annealStrategy: 'cos' | 'linear';
  /** Whether the momentum (SGD's `momentum`, Adam's `betas[0]`) is cycled. */
  cycleMomentum: boolean;
  /** Each group's peak learning rate. */
  readonly maxLrs: number[];
  /** Each group's final learning rate (`initialLr / finalDivFactor`). */
  readonly minLrs: number[];
  /** Each group's momentum at the peak learning rate. */
  readonly baseMomentums: number[];
  /** Each group's momentum at the start (and end) of the cycle. */
  readonly maxMomentums: number[];
  private phases: OneCyclePhase[];
  private readonly useBeta1: boolean;

  constructor(optimizer: Optimizer<object>, options: OneCycleLROptions) {
    const op = 'OneCycleLR';
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{maxLr, totalSteps | epochs and stepsPerEpoch, ...}', options);
    knownOptions(op, options, ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase', 'lastEpoch']);
    const groups = groupsOf(op, optimizer);
    const n = groups.length;
    let totalSteps: number;
    if (options.totalSteps !== undefined) totalSteps = checkInt(op, 'totalSteps', options.totalSteps, 1);
    else if (options.epochs === undefined || options.stepsPerEpoch === undefined) {
      throw typeError(op, 'options', 'totalSteps, or epochs and stepsPerEpoch (the number of steps in the cycle)', options);
    } else totalSteps = checkInt(op, 'epochs', options.epochs, 1) * checkInt(op, 'stepsPerEpoch', options.stepsPerEpoch, 1);
    const pctStart = checkNumber(op, 'pctStart', options.pctStart ?? 0.3);
    if (pctStart < 0 || pctStart > 1) throw rangeError(op, 'pctStart', 'a number in [0, 1] (the fraction of the cycle spent raising the learning rate)', pctStart);
    const annealStrategy = checkOneOf(op, 'annealStrategy', options.annealStrategy ?? 'cos', ['cos', 'linear'] as const);
    const cycleMomentum = checkBool(op, 'cycleMomentum', options.cycleMomentum ?? true);
    const threePhase = checkBool(op, 'threePhase', options.threePhase ?? false);
    const positive = (arg: string, v: unknown): number => {
      const x = checkNumber(op, arg, v);
      if (!(x > 0)) throw rangeError(op, arg, 'a number > 0', x);
      return x;
    };
    const divFactor = positive('divFactor', options.divFactor ?? 25);
    const finalDivFactor = positive('finalDivFactor', options.finalDivFactor ?? 1e4);
    const maxLrs = perGroup(op, 'maxLr', options.maxLr, n, (w, v) => {
      const x = checkNumber(op, w, v);
      if (x < 0) throw rangeError(op, w, 'a learning rate >= 0', x);
      return x;
    });
    const defaults = (optimizer as { defaults?: object }).defaults ?? {};
    const useBeta1 = 'betas' in defaults;
    if (cycleMomentum && !useBeta1 && !('momentum' in defaults)) {
      throw typeError(op, 'optimizer', 'an optimizer with momentum (SGD) or betas (Adam, AdamW) when cycleMomentum is true (pass cycleMomentum: false)', optimizer);
    }
    // Adam's betas[0] must stay below 1; SGD's momentum only >= 0 (as the optimisers check their own options).
    const momentum = (w: string, v: unknown): number => {
      const x = checkNumber(op, w, v);
      if (x < 0 || (useBeta1 && x >= 1)) throw rangeError(op, w, useBeta1 ? 'a momentum in [0, 1) (it becomes betas[0])' : 'a momentum >= 0', x);
      return x;
    };
    const maxMomentums = perGroup(op, 'maxMomentum', options.maxMomentum ?? 0.95, n, momentum);
    const baseMomentums = perGroup(op, 'baseMomentum', options.baseMomentum ?? 0.85, n, momentum);
    const lastEpoch = checkInt(op, 'lastEpoch', options.lastEpoch ?? -1, -1);
    let minLrs: number[];
    if (lastEpoch === -1) {
      // As PyTorch: every group starts the cycle at maxLr / divFactor (whatever lr it had), momentum at its maximum,
      // and keeps the cycle's end points in the group (saved with the optimiser's state under PyTorch's names).
      groups.forEach((g, i) => (g.initialLr = maxLrs[i] / divFactor));
      minLrs = groups.map((g) => (g.initialLr as number) / finalDivFactor);
      groups.forEach((g, i) => {
        g.maxLr = maxLrs[i];
        g.minLr = minLrs[i];
        if (cycleMomentum) {
          g.maxMomentum = maxMomentums[i];
          g.baseMomentum = baseMomentums[i];
        }
      });
      if (cycleMomentum) groups.forEach((g, i) => setMomentum(g, useBeta1, maxMomentums[i]));
    } else {
      // Resuming: the end points the restored groups hold (PyTorch reads them there), else the options'.
      minLrs = groups.map((g, i) => {
        if (typeof g.initialLr !== 'number') throw rangeError(op, `optimizer.paramGroups[${i}].initialLr`, 'a number when resuming with lastEpoch >= 0', g.initialLr);
        return g.minLr ?? g.initialLr / finalDivFactor;
      });
      groups.forEach((g, i) => {
        maxLrs[i] = g.maxLr ?? maxLrs[i];
        maxMomentums[i] = g.maxMomentum ?? maxMomentums[i];
        baseMomentums[i] = g.baseMomentum ?? baseMomentums[i];
      });
    }
    super(op, optimizer, lastEpoch);
    this.totalSteps = totalSteps;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycleMomentum;
    this.maxLrs = maxLrs;
    this.minLrs = minLrs;
    this.maxMomentums = maxMomentums;
    this.baseMomentums = baseMomentums;
    this.phases = phasesOf(totalSteps, pctStart, threePhase);
    this.useBeta1 = useBeta1;
    this.initialStep();
  }

  /** Advances one step; more than `totalSteps` steps after the first (PyTorch's limit) is an error. */
  step(): void {
    if (this.lastEpoch + 1 > this.totalSteps) {
      throw new RangeError(`OneCycleLR: tried to step ${this.lastEpoch + 2} times; the cycle has totalSteps ${this.totalSteps} (start a new scheduler for another cycle)`);
    }
    super.step();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'cos') return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }

  protected getLr(groups: Groups): number[] {
    const step = this.lastEpoch;
    const phases = this.phases;
    return groups.map((g, i) => {
      // The group's end points (a loaded optimiser state may have changed them, as in PyTorch), else this scheduler's.
      const value = (name: string): number =>
        name === 'initial_lr'
          ? (g.initialLr as number)
          : name === 'max_lr'
            ? (g.maxLr ?? this.maxLrs[i])
            : name === 'min_lr'
              ? (g.minLr ?? this.minLrs[i])
              : name === 'max_momentum'
                ? (g.maxMomentum ?? this.maxMomentums[i])
                : (g.baseMomentum ?? this.baseMomentums[i]);
      let start = 0;
      for (let p = 0; p < phases.length; p++) {
        const phase = phases[p];
        if (step <= phase.end_step || p === phases.length - 1) {
          if (phase.end_step === start) {
            // PyTorch raises ZeroDivisionError here (e.g. pctStart · totalSteps = 1: a first phase of no steps).
            throw new RangeError(
              `OneCycleLR: step ${step} falls in phase ${p} of the cycle, which has no steps (it starts and ends at step ${start}); choose pctStart and totalSteps so that every phase spans at least one step (pctStart · totalSteps must not be 1)`,
            );
          }
          const pct = (step - start) / (phase.end_step - start);
          // Step totalSteps (past the cycle, which PyTorch allows) extrapolates the last phase: with 'linear' the
          // learning rate goes below minLr, usually below 0, and the momentum above maxMomentum, values PyTorch sets
          // and the optimisers here refuse (lr < 0, betas[0] >= 1). The learning rate becomes 0 and betas[0] the
          // phase's end value there (no update uses them in the usual loop: they are set after the last optimizer step).
          if (this.cycleMomentum) {
            const m = this.anneal(value(phase.start_momentum), value(phase.end_momentum), pct);
            setMomentum(g, this.useBeta1, this.useBeta1 && m >= 1 ? value(phase.end_momentum) : m);
          }
          return Math.max(this.anneal(value(phase.start_lr), value(phase.end_lr), pct), 0);
        }
        start = phase.end_step;
      }
      throw new Error('OneCycleLR: unreachable'); // the last phase always matches
    });
  }

  protected options(): Record<string, unknown> {
    return {
      total_steps: this.totalSteps,
      _schedule_phases: this.phases.map((p) => ({ ...p })),
      _anneal_func_type: this.annealStrategy, // PyTorch 2.x's name; 1.13 keeps a bound method (anneal_func) and ignores this
      cycle_momentum: this.cycleMomentum,
      ...(this.cycleMomentum ? { use_beta1: this.useBeta1 } : {}),
    };
  }

  protected setOptions(s: Record<string, unknown>): void {
    const op = 'OneCycleLR.loadStateDict';
    const totalSteps = checkInt(op, 'total_steps', s.total_steps, 1);
    const phases = checkPhases(op, s._schedule_phases);
    // PyTorch 1.13 writes the strategy as a bound method (anneal_func) that no file reader can rebuild: without
    // 2.x's _anneal_func_type the scheduler keeps the strategy it was constructed with.
    const strategy = s._anneal_func_type === undefined ? this.annealStrategy : checkOneOf(op, '_anneal_func_type', s._anneal_func_type, ['cos', 'linear'] as const);
    const cycle = checkBool(op, 'cycle_momentum', s.cycle_momentum);
    if (cycle) {
      const defaults = (this.optimizer as { defaults?: object }).defaults ?? {};
      if (!('betas' in defaults) && !('momentum' in defaults)) throw typeError(op, 'cycle_momentum', 'false for an optimizer without momentum or betas', cycle);
      if (s.use_beta1 !== undefined && checkBool(op, 'use_beta1', s.use_beta1) !== this.useBeta1) {
        throw typeError(op, 'use_beta1', `${this.useBeta1} (this optimizer has ${this.useBeta1 ? 'betas' : 'momentum'}; the state is from a scheduler on ${this.useBeta1 ? 'SGD' : 'Adam or AdamW'})`, s.use_beta1);
      }
    }
    this.totalSteps = totalSteps;
    this.phases = phases;
    this.annealStrategy = strategy;
    this.cycleMomentum = cycle;
  }
}

/** Sets a group's momentum: SGD's `momentum`, or Adam's and AdamW's `betas[0]` (keeping `betas[1]`). */
function setMomentum(group: Groups[number], useBeta1: boolean, value: number): void {
  const g = group as unknown as { momentum: number; betas: [number, number] };
  if (useBeta1) g.betas = [value, g.betas[1]];
  else g.momentum = value;
}

/** Options of `ReduceLROnPlateau`. */
export interface ReduceLROnPlateauOptions {
  /** `'min'` (default): reduce when the metric stops decreasing (a loss); `'max'`: when it stops increasing (an accuracy). */
  mode?: 'min' | 'max';
  /** Factor the learning rate is multiplied by when reduced, in [0, 1) (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing: the reduction comes at the `patience + 1`-th (default 10). */
  patience?: number;
  /** How much better than the best a metric must be to count as an improvement (default 1e-4), >= 0. */
  threshold?: number;
  /** `'rel'` (default): better than `best · (1 ∓ threshold)`; `'abs'`: better than `best ∓ threshold`. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs after a reduction during which bad epochs are not counted (default 0). */
  cooldown?: number;
  /** Lower bound of the learning rate (default 0): one for every group, or one per group. */
  minLr?: number | number[];
  /** A reduction smaller than this is skipped (default 1e-8). */
  eps?: number;
}

/** A `ReduceLROnPlateau` state under PyTorch's attribute names (Python's `load_state_dict` reads it). */
export type ReduceLROnPlateauStateDict = Record<string, unknown> & {
  factor: number;
  min_lrs: number[];
  patience: number;
  cooldown: number;
  cooldown_counter: number;
  mode: 'min' | 'max';
  threshold: number;
  threshold_mode: 'rel' | 'abs';
  best: number;
  num_bad_epochs: number;
  mode_worse: number;
  eps: number;
  last_epoch: number;
};

/**
 * Reduces each group's learning rate by `factor` when a metric has not improved for `patience` epochs, as
 * `torch.optim.lr_scheduler.ReduceLROnPlateau`: call `step(metric)` once per epoch with the validation loss (or,
 * with `mode: 'max'`, accuracy). As in PyTorch 1.13 it is not an `LRScheduler`: it sets no learning rate at
 * construction and keeps no `base_lrs`.
 */
export class ReduceLROnPlateau {
  /** The optimiser whose groups' learning rates this scheduler reduces. */
  readonly optimizer: Optimizer<object>;
  /** Whether a lower (`'min'`) or a higher (`'max'`) metric is better. */
  mode: 'min' | 'max';
  /** Factor the learning rate is multiplied by when reduced. */
  factor: number;
  /** Epochs without improvement tolerated before reducing. */
  patience: number;
  /** How much better than the best a metric must be to count as an improvement. */
  threshold: number;
  /** Whether `threshold` is relative (`'rel'`) or absolute (`'abs'`). */
  thresholdMode: 'rel' | 'abs';
  /** Epochs after a reduction during which bad epochs are not counted. */
  cooldown: number;
  /** Each group's lower bound of the learning rate. */
  minLrs: number[];
  /** The one minimum learning rate given for every group, or null when one per group was given (PyTorch 2.x's `default_min_lr`). */
  defaultMinLr: number | null;
  /** A reduction smaller than this is skipped. */
  eps: number;
  /** The best metric so far (starts at +Infinity in `'min'` mode, -Infinity in `'max'` mode). */
  best: number;
  /** Epochs since the best metric (reset by a reduction and during cooldown). */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** Number of `step()` calls so far (PyTorch's `last_epoch`). */
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: Optimizer<object>, options: ReduceLROnPlateauOptions = {}) {
    const op = 'ReduceLROnPlateau';
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{mode, factor, patience, threshold, thresholdMode, cooldown, minLr, eps}', options);
    knownOptions(op, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    const groups = groupsOf(op, optimizer);
    this.optimizer = optimizer;
    this.mode = checkOneOf(op, 'mode', options.mode ?? 'min', ['min', 'max'] as const);
    this.factor = checkFactor(op, 'factor', options.factor ?? 0.1);
    this.patience = checkInt(op, 'patience', options.patience ?? 10, 0);
    this.threshold = checkNonNegative(op, 'threshold', options.threshold ?? 1e-4);
    this.thresholdMode = checkOneOf(op, 'thresholdMode', options.thresholdMode ?? 'rel', ['rel', 'abs'] as const);
    this.cooldown = checkInt(op, 'cooldown', options.cooldown ?? 0, 0);
    this.minLrs = perGroup(op, 'minLr', options.minLr ?? 0, groups.length, (w, v) => checkNonNegative(op, w, v));
    this.defaultMinLr = Array.isArray(options.minLr) ? null : this.minLrs[0];
    this.eps = checkNonNegative(op, 'eps', options.eps ?? 1e-8);
    this.best = this.modeWorse;
    this.lastLr = groups.map((g) => g.lr);
  }

  private get groups(): Groups {
    return this.optimizer.paramGroups as unknown as Groups;
  }

  /** The worst possible metric for the mode (PyTorch's `mode_worse`): +Infinity for `'min'`, -Infinity for `'max'`. */
  get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether a reduction's cooldown is still running. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /**
   * Takes one epoch's metric (a number, or a one-element Tensor) and reduces the learning rates when it has not
   * improved for more than `patience` epochs. A NaN metric counts as no improvement, as in PyTorch.
   */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? Number(metric.item()) : metric;
    if (typeof current !== 'number') throw typeError('ReduceLROnPlateau.step', 'metric', 'a number (the validation loss or accuracy) or a one-element Tensor', metric);
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown are ignored
    }
    if (this.numBadEpochs > this.patience) {
      this.groups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The learning rates after the last `step()` (before any: the optimiser's, as PyTorch 2.x), one per group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** The state under PyTorch's attribute names (Python's `scheduler.load_state_dict` reads it). */
  stateDict(): ReduceLROnPlateauStateDict {
    return {
      factor: this.factor,
      min_lrs: this.minLrs.slice(),
      default_min_lr: this.defaultMinLr, // PyTorch 2.x's; 1.13 has no such attribute and ignores it
      patience: this.patience,
      verbose: false, // PyTorch 1.13's; 2.x dropped it and ignores it
      cooldown: this.cooldown,
      cooldown_counter: this.cooldownCounter,
      mode: this.mode,
      threshold: this.threshold,
      threshold_mode: this.thresholdMode,
      best: this.best,
      num_bad_epochs: this.numBadEpochs,
      mode_worse: this.modeWorse,
      eps: this.eps,
      last_epoch: this.lastEpoch,
      _last_lr: this.lastLr.slice(),
    };
  }

  /**
   * Restores what `stateDict()` returned (or Python's `scheduler.state_dict()`). `mode_worse` follows from `mode`
   * (as PyTorch's `_init_is_better` sets it); keys other versions add are ignored.
   */
  loadStateDict(state: ReduceLROnPlateauStateDict): void {
    const op = 'ReduceLROnPlateau.loadStateDict';
    if (!state || typeof state !== 'object') throw typeError(op, 'state', 'an object from stateDict()', state);
    const n = this.groups.length;
    const list = (k: string, check: (w: string, v: unknown) => number): number[] => {
      const v = state[k];
      if (!Array.isArray(v) || v.length !== n) throw typeError(op, k, `an array of ${n} numbers (one per parameter group)`, v);
      return v.map((x, i) => check(`${k}[${i}]`, x));
    };
    const best = state.best;
    if (typeof best !== 'number' || Number.isNaN(best)) throw typeError(op, 'best', 'a number (±Infinity before the first step)', best);
    // Everything is checked before anything is set: a bad state leaves the scheduler as it was.
    const factor = checkFactor(op, 'factor', state.factor);
    const minLrs = list('min_lrs', (w, v) => checkNonNegative(op, w, v));
    const patience = checkInt(op, 'patience', state.patience, 0);
    const cooldown = checkInt(op, 'cooldown', state.cooldown, 0);
    const cooldownCounter = checkInt(op, 'cooldown_counter', state.cooldown_counter, 0);
    const mode = checkOneOf(op, 'mode', state.mode, ['min', 'max'] as const);
    const threshold = checkNonNegative(op, 'threshold', state.threshold);
    const thresholdMode = checkOneOf(op, 'threshold_mode', state.threshold_mode, ['rel', 'abs'] as const);
    const numBadEpochs = checkInt(op, 'num_bad_epochs', state.num_bad_epochs, 0);
    const eps = checkNonNegative(op, 'eps', state.eps);
    const lastEpoch = checkInt(op, 'last_epoch', state.last_epoch, 0);
    // Python writes _last_lr only after the first step.
    const lastLr = state._last_lr === undefined ? this.lastLr : list('_last_lr', (w, v) => checkNumber(op, w, v));
    // PyTorch 2.x's; absent from 1.13's states
    const d = state.default_min_lr;
    const defaultMinLr = d === undefined ? this.defaultMinLr : d === null ? null : checkNonNegative(op, 'default_min_lr', d);
    [this.factor, this.minLrs, this.patience, this.cooldown, this.cooldownCounter] = [factor, minLrs, patience, cooldown, cooldownCounter];
    [this.mode, this.threshold, this.thresholdMode, this.best, this.numBadEpochs, this.eps, this.lastEpoch] = [mode, threshold, thresholdMode, best, numBadEpochs, eps, lastEpoch];
    this.lastLr = lastLr;
    this.defaultMinLr = defaultMinLr;
  }
}

function checkFactor(op: string, arg: string, value: unknown): number {
  const f = checkNumber(op, arg, value);
  if (f < 0 || f >= 1) throw rangeError(op, arg, 'a number in [0, 1) (the factor a learning rate is multiplied by when reduced)', f);
  return f;
}

function checkNonNegative(op: string, arg: string, value: unknown): number {
  const x = checkNumber(op, arg, value);
  if (x < 0) throw rangeError(op, arg, 'a number >= 0', x);
  return x;
}

/** Options of `ConstantLR`. */
export interface ConstantLROptions {
  /** The factor for the first `totalIters` epochs, in [0, 1] (default 1/3). */
  factor?: number;
  /** Epochs at the reduced rate (default 5). */
  totalIters?: number;
  /** The index of the last epoch when resuming (default -1: start; then each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Multiplies each group's learning rate by `factor` for the first `totalIters` epochs, then restores it (PyTorch's `ConstantLR`). */
export class ConstantLR extends LRScheduler {
  /** The factor for the first `totalIters` epochs. */
  factor: number;
  /** Epochs at the reduced rate. */
  totalIters: number;
  constructor(optimizer: Optimizer<object>, options: ConstantLROptions = {}) {
    const op = 'ConstantLR';
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{factor, totalIters}', options);
    knownOptions(op, options, ['factor', 'totalIters', 'lastEpoch']);
    const factor = checkNumber(op, 'factor', options.factor ?? 1 / 3);
    if (!(factor >= 0 && factor <= 1)) throw rangeError(op, 'factor', 'a number in [0, 1]', factor);
    const totalIters = checkInt(op, 'totalIters', options.totalIters ?? 5, 0);
    super(op, optimizer, options.lastEpoch);
    this.factor = factor;
    this.totalIters = totalIters;
    this.initialStep();
  }
  protected getLr(groups: Groups): number[] {
    const { lastEpoch: e, totalIters: n } = this;
    if (e === 0) return groups.map((g) => g.lr * this.factor);
    if (e !== n) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 / this.factor));
  }
  protected closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (this.factor + (this.lastEpoch >= this.totalIters ? 1 - this.factor : 0)));
  }
  protected options(): Record<string, unknown> {
    return { factor: this.factor, total_iters: this.totalIters };
  }
  protected setOptions(s: Record<string, unknown>): void {
    this.factor = checkNumber('ConstantLR.loadStateDict', 'factor', s.factor);
    this.totalIters = checkInt('ConstantLR.loadStateDict', 'total_iters', s.total_iters, 0);
  }
}

/** Options of `PolynomialLR`. */
export interface PolynomialLROptions {
  /** Epochs of the decay, after which the rate stays 0 (default 5). */
  totalIters?: number;
  /** The polynomial's power (default 1: linear). */
  power?: number;
  /** The index of the last epoch when resuming (default -1: start; then each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Decays each group's learning rate as (1 − epoch / totalIters)^power, to 0 at `totalIters` (PyTorch's `PolynomialLR`). */
export class PolynomialLR extends LRScheduler {
  /** Epochs of the decay. */
  totalIters: number;
  /** The polynomial's power. */
  power: number;
  constructor(optimizer: Optimizer<object>, options: PolynomialLROptions = {}) {
    const op = 'PolynomialLR';
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{totalIters, power}', options);
    knownOptions(op, options, ['totalIters', 'power', 'lastEpoch']);
    const totalIters = checkInt(op, 'totalIters', options.totalIters ?? 5, 1);
    const power = checkNumber(op, 'power', options.power ?? 1);
    super(op, optimizer, options.lastEpoch);
    this.totalIters = totalIters;
    this.power = power;
    this.initialStep();
  }
  protected getLr(groups: Groups): number[] {
    const { lastEpoch: e, totalIters: n } = this;
    if (e === 0 || e > n) return groups.map((g) => g.lr);
    const decay = ((1 - e / n) / (1 - (e - 1) / n)) ** this.power;
    return groups.map((g) => g.lr * decay);
  }
  protected closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (1 - Math.min(this.totalIters, this.lastEpoch) / this.totalIters) ** this.power);
  }
  protected options(): Record<string, unknown> {
    return { total_iters: this.totalIters, power: this.power };
  }
  protected setOptions(s: Record<string, unknown>): void {
    this.totalIters = checkInt('PolynomialLR.loadStateDict', 'total_iters', s.total_iters, 1);
    this.power = checkNumber('PolynomialLR.loadStateDict', 'power', s.power);
  }
}

/** Options of `CosineAnnealingWarmRestarts`. */
export interface CosineAnnealingWarmRestartsOptions {
  /** Epochs of the first cycle (PyTorch's `T_0`). */
  t0: number;
  /** Each cycle is `tMult` times longer than the one before (an integer >= 1, default 1). */
  tMult?: number;
  /** The rate at the end of each cycle (default 0). */
  etaMin?: number;
  /** The index of the last epoch when resuming (default -1: start; then each group needs `initialLr`). */
  lastEpoch?: number;
}

/**
 * SGDR (PyTorch's `CosineAnnealingWarmRestarts`): a half cosine from each group's initial rate to `etaMin` over
 * `t0` epochs, then again from the top over `t0 · tMult`, ... `step()` advances one epoch; `step(epoch)` jumps to
 * a (fractional) epoch, for stepping per batch: `sched.step(epoch + i / batchesPerEpoch)`.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  /** Epochs of the first cycle. */
  t0: number;
  /** Epochs of the current cycle (PyTorch's `T_i`). */
  tI: number;
  /** Cycle-length multiplier. */
  tMult: number;
  /** The rate at the end of each cycle. */
  etaMin: number;
  /** Epochs since the last restart (PyTorch's `T_cur`; fractional after `step(epoch)`). */
  tCur: number;
  constructor(optimizer: Optimizer<object>, options: CosineAnnealingWarmRestartsOptions) {
    const op = 'CosineAnnealingWarmRestarts';
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{t0, tMult, etaMin}', options);
    knownOptions(op, options, ['t0', 'tMult', 'etaMin', 'lastEpoch']);
    const t0 = checkInt(op, 't0', options.t0, 1);
    const tMult = checkInt(op, 'tMult', options.tMult ?? 1, 1);
    const etaMin = checkNumber(op, 'etaMin', options.etaMin ?? 0);
    super(op, optimizer, options.lastEpoch);
    this.t0 = t0;
    this.tI = t0;
    this.tMult = tMult;
    this.etaMin = etaMin;
    this.tCur = this.lastEpoch;
    this.initialStep();
  }
  /** Advances one epoch, or with `epoch` jumps to that (possibly fractional) epoch, as PyTorch's `step(epoch)`. */
  step(epoch?: number): void {
    const op = 'CosineAnnealingWarmRestarts.step';
    let e = epoch;
    if (e === undefined && this.lastEpoch < 0) e = 0;
    if (e === undefined) {
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur %= this.tI;
        this.tI *= this.tMult;
      }
      e = this.lastEpoch + 1;
    } else {
      checkNumber(op, 'epoch', e);
      if (e < 0) throw rangeError(op, 'epoch', 'a number >= 0', e);
      if (e >= this.t0) {
        if (this.tMult === 1) {
          this.tCur = e % this.t0;
        } else {
          const n = Math.floor(Math.log((e / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
          this.tCur = e - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
          this.tI = this.t0 * this.tMult ** n;
        }
      } else {
        this.tI = this.t0;
        this.tCur = e;
      }
    }
    // (PyTorch's own step: it does not count steps, so `_step_count` stays 0)
    this.lastEpoch = Math.floor(e);
    this.setLrs(this.getLr());
  }
  protected getLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.tCur) / this.tI))) / 2);
  }
  protected options(): Record<string, unknown> {
    return { T_0: this.t0, T_i: this.tI, T_mult: this.tMult, eta_min: this.etaMin, T_cur: this.tCur };
  }
  protected setOptions(s: Record<string, unknown>): void {
    const op = 'CosineAnnealingWarmRestarts.loadStateDict';
    this.t0 = checkInt(op, 'T_0', s.T_0, 1);
    this.tI = checkNumber(op, 'T_i', s.T_i);
    this.tMult = checkInt(op, 'T_mult', s.T_mult, 1);
    this.etaMin = checkNumber(op, 'eta_min', s.eta_min);
    this.tCur = checkNumber(op, 'T_cur', s.T_cur);
  }
}

/** Options of `SequentialLR`. */
export interface SequentialLROptions {
  /** The schedulers, built on the same optimiser, in the order they run. */
  schedulers: LRScheduler[];
  /** The epochs at which each next scheduler takes over (one fewer than `schedulers`, increasing). */
  milestones: number[];
}

/** The state of a `SequentialLR`, under PyTorch's names: its own, and each scheduler's. */
export interface SequentialLRStateDict {
  _milestones: number[];
  last_epoch: number;
  _last_lr: number[];
  _schedulers: SchedulerStateDict[];
}

/**
 * Runs schedulers one after another, handing over at the milestone epochs, as PyTorch's `SequentialLR`; the
 * usual warm-up then decay:
 *
 * ```ts
 * const warmup = new optim.LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 * const cosine = new optim.CosineAnnealingLR(opt, { tMax: 195 });
 * const sched = new optim.SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [5] });
 * ```
 *
 * At a milestone the next scheduler starts from its epoch 0 (from the initial rates, by its closed form where it
 * has one), as in PyTorch.
 */
export class SequentialLR {
  /** The optimiser whose groups' learning rates the schedulers set. */
  readonly optimizer: Optimizer<object>;
  /** The schedulers, in order. */
  readonly schedulers: LRScheduler[];
  /** The epochs at which each next scheduler takes over. */
  milestones: number[];
  /** Number of `step()` calls so far (0 right after construction), PyTorch's `last_epoch`. */
  lastEpoch: number;
  private lastLr: number[];

  constructor(optimizer: Optimizer<object>, options: SequentialLROptions) {
    const op = 'SequentialLR';
    const groups = groupsOf(op, optimizer);
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{schedulers, milestones}', options);
    knownOptions(op, options, ['schedulers', 'milestones']);
    const { schedulers, milestones } = options;
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw typeError(op, 'schedulers', 'a non-empty array of schedulers', schedulers);
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) throw typeError(op, `schedulers[${i}]`, 'a scheduler (StepLR, LinearLR, CosineAnnealingLR, ...; not ReduceLROnPlateau)', s);
      if (s.optimizer !== optimizer) throw typeError(op, `schedulers[${i}]`, 'a scheduler of the same optimizer as SequentialLR', s);
    });
    if (!Array.isArray(milestones)) throw typeError(op, 'milestones', 'an array of epochs', milestones);
    if (milestones.length !== schedulers.length - 1) throw rangeError(op, 'milestones', `${schedulers.length - 1} epochs (one fewer than the schedulers)`, milestones);
    milestones.forEach((m, i) => checkInt(op, `milestones[${i}]`, m, 0));
    this.optimizer = optimizer;
    this.schedulers = schedulers;
    this.milestones = milestones.slice();
    this.lastEpoch = 0;
    // As PyTorch: back to the initial rates, undo each scheduler's construction step, start the first one again.
    for (const g of groups) g.lr = g.initialLr as number;
    for (const s of schedulers) s._undoStep();
    const first = schedulers[this.milestones.filter((m) => m <= 0).length]; // the one in charge at epoch 0 (2.x; 1.13 took the first)
    first._restart();
    this.lastLr = first.getLastLr();
  }

  /** Advances one epoch: the scheduler in charge steps (a new one starts from its epoch 0 at its milestone). */
  step(): void {
    this.lastEpoch += 1;
    const idx = this.milestones.filter((m) => m <= this.lastEpoch).length; // Python's bisect_right
    const s = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s._stepTo(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  /** The learning rates the last `step()` set, one per group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** The state under PyTorch's names, each scheduler's included (Python's `SequentialLR.load_state_dict` reads it). */
  stateDict(): SequentialLRStateDict {
    return { _milestones: this.milestones.slice(), last_epoch: this.lastEpoch, _last_lr: this.lastLr.slice(), _schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** Restores what `stateDict()` returned (or Python's `state_dict()`), each scheduler's state into its scheduler. */
  loadStateDict(state: SequentialLRStateDict): void {
    const op = 'SequentialLR.loadStateDict';
    if (!state || typeof state !== 'object') throw typeError(op, 'state', 'an object from stateDict()', state);
    const subs = state._schedulers;
    if (!Array.isArray(subs) || subs.length !== this.schedulers.length) throw typeError(op, '_schedulers', `an array of ${this.schedulers.length} scheduler states`, subs);
    if (!Array.isArray(state._milestones) || state._milestones.length !== this.milestones.length) throw typeError(op, '_milestones', `an array of ${this.milestones.length} epochs`, state._milestones);
    const milestones = state._milestones.map((m, i) => checkInt(op, `_milestones[${i}]`, m, 0));
    const lastEpoch = checkInt(op, 'last_epoch', state.last_epoch, 0);
    if (!Array.isArray(state._last_lr)) throw typeError(op, '_last_lr', 'an array of numbers', state._last_lr);
    const lastLr = state._last_lr.map((x, i) => checkNumber(op, `_last_lr[${i}]`, x));
    this.schedulers.forEach((s, i) => s.loadStateDict(subs[i]));
    this.milestones = milestones;
    this.lastEpoch = lastEpoch;
    this.lastLr = lastLr;
  }
}

/** Options of `MultiplicativeLR`: `{ lrLambda: (epoch) => (epoch < 10 ? 0.95 : 1) }`. */
export interface MultiplicativeLROptions {
  /** The factor each epoch multiplies the learning rate by, as a function of the epoch; one function, or one per group. */
  lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[];
  /** The index of the last epoch when resuming (default -1: start; then each group needs `initialLr`). */
  lastEpoch?: number;
}

/**
 * Multiplies each group's learning rate by `lrLambda(epoch)` every epoch but the first (PyTorch's
 * `MultiplicativeLR`; chainable: it multiplies the current rate, whatever set it). The functions are not part of
 * the state (`lr_lambdas` is written as nulls, as PyTorch writes plain functions).
 *
 * ```ts
 * const sched = new optim.MultiplicativeLR(opt, { lrLambda: () => 0.95 }); // lr · 0.95 each epoch
 * for (let epoch = 0; epoch < 100; epoch++) { train(); sched.step(); }
 * ```
 */
export class MultiplicativeLR extends LRScheduler {
  private readonly lambdas: ((epoch: number) => number)[];
  constructor(optimizer: Optimizer<object>, options: MultiplicativeLROptions) {
    const op = 'MultiplicativeLR';
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{lrLambda}', options);
    knownOptions(op, options, ['lrLambda', 'lastEpoch']);
    const n = groupsOf(op, optimizer).length;
    const fns = Array.isArray(options.lrLambda) ? options.lrLambda : Array.from({ length: n }, () => options.lrLambda as (e: number) => number);
    if (fns.length !== n) throw rangeError(op, 'lrLambda', `one function per parameter group (${n})`, fns);
    fns.forEach((f, i) => {
      if (typeof f !== 'function') throw typeError(op, Array.isArray(options.lrLambda) ? `lrLambda[${i}]` : 'lrLambda', 'a function of the epoch', f);
    });
    super(op, optimizer, options.lastEpoch);
    this.lambdas = fns.slice();
    this.initialStep();
  }
  protected getLr(groups: Groups): number[] {
    if (this.lastEpoch <= 0) return groups.map((g) => g.lr);
    return groups.map((g, i) => g.lr * checkNumber(this.op, `lrLambda(${this.lastEpoch})`, this.lambdas[i](this.lastEpoch)));
  }
  protected options(): Record<string, unknown> {
    return { lr_lambdas: this.lambdas.map(() => null) };
  }
  protected setOptions(): void {}
}

/** Options of `CyclicLR`: `{ baseLr: 0.001, maxLr: 0.006, stepSizeUp: 2000, mode: 'exp_range', gamma: 0.99994 }`. */
export interface CyclicLROptions {
  /** The lower learning rate of the cycle (each group starts there): one for every group, or one per group. */
  baseLr: number | number[];
  /** The upper learning rate of the cycle: one for every group, or one per group. */
  maxLr: number | number[];
  /** Steps (iterations) of the rising half of a cycle (default 2000), > 0. */
  stepSizeUp?: number;
  /** Steps of the falling half (default `stepSizeUp`), >= 0. */
  stepSizeDown?: number;
  /**
   * `'triangular'` (default): the same triangle every cycle; `'triangular2'`: its height halves each cycle;
   * `'exp_range'`: its height scales by `gamma ** iteration`. Ignored when `scaleFn` is given.
   */
  mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** The base of `'exp_range'` (default 1). */
  gamma?: number;
  /** A custom scaling of the height, in [0, 1], of the cycle number or of the iteration (`scaleMode`); replaces `mode`. */
  scaleFn?: (x: number) => number;
  /** What `scaleFn` is a function of: `'cycle'` (default, counted from 1) or `'iterations'`. */
  scaleMode?: 'cycle' | 'iterations';
  /**
   * Cycle the momentum inversely to the learning rate, between `maxMomentum` and `baseMomentum` (default true): SGD's
   * and RMSprop's `momentum`, or (as PyTorch 2.x; 1.13 refuses optimisers without `momentum`) Adam's and AdamW's `betas[0]`.
   */
  cycleMomentum?: boolean;
  /** The momentum at the peak learning rate (default 0.8): one for every group, or one per group. */
  baseMomentum?: number | number[];
  /** The momentum at the base learning rate (default 0.9): one for every group, or one per group. */
  maxMomentum?: number | number[];
  /** The index of the last step when resuming (default -1: start; then each group needs `initialLr`). */
  lastEpoch?: number;
}

const CYCLIC_MODES = ['triangular', 'triangular2', 'exp_range'] as const;

/**
 * The cyclical learning rate policy (Smith, "Cyclical Learning Rates for Training Neural Networks"), as
 * `torch.optim.lr_scheduler.CyclicLR`: the learning rate moves linearly from `baseLr` up to `maxLr` over
 * `stepSizeUp` steps and back down over `stepSizeDown`, the triangle's height scaled per `mode` (or `scaleFn`),
 * while the momentum moves the opposite way between `maxMomentum` and `baseMomentum`. `step()` once per batch.
 *
 * ```ts
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const sched = new optim.CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 500, mode: 'triangular2' });
 * for (const batch of batches) { trainStep(batch); sched.step(); }
 * ```
 *
 * Computed as PyTorch 1.13 does, step for step, with its quirks: construction sets each group's `lr` to `baseLr`
 * (and its momentum to `baseMomentum`, which the first step then moves to `maxMomentum`); the first step takes the
 * group's `initialLr` as the base when a scheduler constructed before already set one; resuming with
 * `lastEpoch >= 0` takes the groups' current momenta as `baseMomentum` (the state loaded next restores it).
 * There is no closed form: a `SequentialLR` handover computes the rate of the epoch directly, as PyTorch.
 */
export class CyclicLR extends LRScheduler {
  /** Each group's upper learning rate. */
  maxLrs: number[];
  /** Steps of a whole cycle (`stepSizeUp + stepSizeDown`). */
  totalSize: number;
  /** The rising fraction of a cycle. */
  stepRatio: number;
  /** The built-in scaling (kept in the state also when `scaleFn` replaces it, as PyTorch). */
  mode: 'triangular' | 'triangular2' | 'exp_range';
  /** The base of `'exp_range'`. */
  gamma: number;
  /** What the scaling is a function of. */
  scaleMode: 'cycle' | 'iterations';
  /** Whether the momentum cycles. */
  cycleMomentum: boolean;
  /** Each group's momentum at the peak learning rate (when the momentum cycles). */
  baseMomentums: number[];
  /** Each group's momentum at the base learning rate (when the momentum cycles). */
  maxMomentums: number[];
  private customScale: ((x: number) => number) | null;
  private readonly useBeta1: boolean;

  constructor(optimizer: Optimizer<object>, options: CyclicLROptions) {
    const op = 'CyclicLR';
    if (!options || typeof options !== 'object') throw typeError(op, 'options', '{baseLr, maxLr, stepSizeUp, stepSizeDown, mode, ...}', options);
    knownOptions(op, options, ['baseLr', 'maxLr', 'stepSizeUp', 'stepSizeDown', 'mode', 'gamma', 'scaleFn', 'scaleMode', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'lastEpoch']);
    const groups = groupsOf(op, optimizer);
    const n = groups.length;
    const lr = (w: string, v: unknown): number => {
      const x = checkNumber(op, w, v);
      if (x < 0) throw rangeError(op, w, 'a learning rate >= 0', x);
      return x;
    };
    if (options.baseLr === undefined) throw typeError(op, 'baseLr', 'a learning rate or one per group (CyclicLR has no default baseLr)', options.baseLr);
    if (options.maxLr === undefined) throw typeError(op, 'maxLr', 'a learning rate or one per group (CyclicLR has no default maxLr)', options.maxLr);
    const baseLrs = perGroup(op, 'baseLr', options.baseLr, n, lr);
    const maxLrs = perGroup(op, 'maxLr', options.maxLr, n, lr);
    const up = checkNumber(op, 'stepSizeUp', options.stepSizeUp ?? 2000);
    if (!(up > 0)) throw rangeError(op, 'stepSizeUp', 'a number of steps > 0', up);
    const down = checkNumber(op, 'stepSizeDown', options.stepSizeDown ?? up);
    if (down < 0) throw rangeError(op, 'stepSizeDown', 'a number of steps >= 0', down);
    const mode = checkOneOf(op, 'mode', options.mode ?? 'triangular', CYCLIC_MODES);
    const gamma = checkNumber(op, 'gamma', options.gamma ?? 1);
    if (options.scaleFn !== undefined && typeof options.scaleFn !== 'function') throw typeError(op, 'scaleFn', 'a function of the cycle or iteration returning a factor in [0, 1]', options.scaleFn);
    const scaleMode = checkOneOf(op, 'scaleMode', options.scaleMode ?? 'cycle', ['cycle', 'iterations'] as const);
    const cycleMomentum = checkBool(op, 'cycleMomentum', options.cycleMomentum ?? true);
    const lastEpoch = checkInt(op, 'lastEpoch', options.lastEpoch ?? -1, -1);
    const defaults = (optimizer as { defaults?: object }).defaults ?? {};
    const useBeta1 = !('momentum' in defaults) && 'betas' in defaults;
    let baseMomentums: number[] = [];
    let maxMomentums: number[] = [];
    if (cycleMomentum) {
      if (!('momentum' in defaults) && !useBeta1) {
        throw typeError(op, 'optimizer', 'an optimizer with momentum (SGD, RMSprop) or betas (Adam, AdamW) when cycleMomentum is true (pass cycleMomentum: false)', optimizer);
      }
      const momentum = (w: string, v: unknown): number => {
        const x = checkNumber(op, w, v);
        if (x < 0 || (useBeta1 && x >= 1)) throw rangeError(op, w, useBeta1 ? 'a momentum in [0, 1) (it becomes betas[0])' : 'a momentum >= 0', x);
        return x;
      };
      baseMomentums = perGroup(op, 'baseMomentum', options.baseMomentum ?? 0.8, n, momentum);
      maxMomentums = perGroup(op, 'maxMomentum', options.maxMomentum ?? 0.9, n, momentum);
    }
    if (lastEpoch === -1) {
      groups.forEach((g, i) => (g.lr = baseLrs[i]));
      if (cycleMomentum) groups.forEach((g, i) => setMomentum(g, useBeta1, baseMomentums[i]));
    }
    // PyTorch 1.13 reads the base momenta back from the groups: on resuming, their current momenta.
    if (cycleMomentum) baseMomentums = groups.map((g) => momentumOf(g, useBeta1));
    super(op, optimizer, lastEpoch);
    this.maxLrs = maxLrs;
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    this.mode = mode;
    this.gamma = gamma;
    this.customScale = options.scaleFn ?? null;
    this.scaleMode = this.customScale ? scaleMode : mode === 'exp_range' ? 'iterations' : 'cycle';
    this.cycleMomentum = cycleMomentum;
    this.baseMomentums = baseMomentums;
    this.maxMomentums = maxMomentums;
    this.useBeta1 = useBeta1;
    // As PyTorch 1.13: the first step runs with base_lrs = the groups' initial_lr, and only then takes baseLr.
    this.initialStep();
    this.baseLrs = baseLrs;
  }

  /** The height's scale at `x` (the cycle, from 1, or the iteration): `scaleFn`'s, or the mode's. */
  scaleFn(x: number): number {
    if (this.customScale) return checkNumber(this.op, `scaleFn(${x})`, this.customScale(x));
    if (this.mode === 'triangular') return 1;
    if (this.mode === 'triangular2') return 1 / 2 ** (x - 1);
    return this.gamma ** x;
  }

  protected getLr(groups: Groups): number[] {
    const e = this.lastEpoch;
    const cycle = Math.floor(1 + e / this.totalSize);
    const x = 1 + e / this.totalSize - cycle;
    const scaleFactor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const scale = this.scaleFn(this.scaleMode === 'cycle' ? cycle : e);
    const lrs = this.baseLrs.map((base, i) => base + (this.maxLrs[i] - base) * scaleFactor * scale);
    if (this.cycleMomentum) {
      this.baseMomentums.forEach((base, i) => setMomentum(groups[i], this.useBeta1, this.maxMomentums[i] - (this.maxMomentums[i] - base) * scaleFactor * scale));
    }
    return lrs;
  }

  protected options(): Record<string, unknown> {
    return {
      max_lrs: this.maxLrs.slice(),
      total_size: this.totalSize,
      step_ratio: this.stepRatio,
      mode: this.mode,
      gamma: this.gamma,
      // A function cannot be written: null, as PyTorch 2.x writes a plain function (1.13 cannot save this state at all:
      // its _scale_fn_ref, a WeakMethod, does not pickle).
      _scale_fn_custom: null,
      scale_mode: this.scaleMode,
      cycle_momentum: this.cycleMomentum,
      ...(this.cycleMomentum ? { base_momentums: this.baseMomentums.slice(), max_momentums: this.maxMomentums.slice(), use_beta1: this.useBeta1 } : {}),
    };
  }

  protected setOptions(s: Record<string, unknown>): void {
    const op = 'CyclicLR.loadStateDict';
    const n = this.baseLrs.length;
    const list = (k: string): number[] => {
      const v = s[k];
      if (!Array.isArray(v) || v.length !== n) throw typeError(op, k, `an array of ${n} numbers (one per parameter group)`, v);
      return v.map((x, i) => checkNumber(op, `${k}[${i}]`, x));
    };
    const maxLrs = list('max_lrs');
    const totalSize = checkNumber(op, 'total_size', s.total_size);
    const stepRatio = checkNumber(op, 'step_ratio', s.step_ratio);
    if (!(totalSize > 0) || !(stepRatio > 0 && stepRatio <= 1)) throw rangeError(op, 'total_size and step_ratio', 'a cycle of > 0 steps and a rising fraction in (0, 1]', [totalSize, stepRatio]);
    const mode = checkOneOf(op, 'mode', s.mode, CYCLIC_MODES);
    const gamma = checkNumber(op, 'gamma', s.gamma);
    const scaleMode = checkOneOf(op, 'scale_mode', s.scale_mode, ['cycle', 'iterations'] as const);
    const cycle = checkBool(op, 'cycle_momentum', s.cycle_momentum);
    let baseMomentums: number[] = [];
    let maxMomentums: number[] = [];
    if (cycle) {
      const defaults = (this.optimizer as { defaults?: object }).defaults ?? {};
      if (!('betas' in defaults) && !('momentum' in defaults)) throw typeError(op, 'cycle_momentum', 'false for an optimizer without momentum or betas', cycle);
      if (s.use_beta1 !== undefined && checkBool(op, 'use_beta1', s.use_beta1) !== this.useBeta1) {
        throw typeError(op, 'use_beta1', `${this.useBeta1} (this optimizer has ${this.useBeta1 ? 'betas' : 'momentum'}; the state is from a scheduler on ${this.useBeta1 ? 'SGD' : 'Adam or AdamW'})`, s.use_beta1);
      }
      baseMomentums = list('base_momentums');
      maxMomentums = list('max_momentums');
    }
    // _scale_fn_ref (1.13, a WeakMethod) and _scale_fn_custom (a function, or a callable's attributes) are not
    // restorable: a custom scaleFn given at construction stays, the built-in scaling follows the loaded mode.
    [this.maxLrs, this.totalSize, this.stepRatio, this.mode, this.gamma] = [maxLrs, totalSize, stepRatio, mode, gamma];
    this.scaleMode = this.customScale ? scaleMode : mode === 'exp_range' ? 'iterations' : 'cycle';
    [this.cycleMomentum, this.baseMomentums, this.maxMomentums] = [cycle, baseMomentums, maxMomentums];
  }
}

/** A group's momentum: SGD's `momentum`, or Adam's and AdamW's `betas[0]`. */
function momentumOf(group: Groups[number], useBeta1: boolean): number {
  const g = group as unknown as { momentum: number; betas: [number, number] };
  return useBeta1 ? g.betas[0] : g.momentum;
}

/** What `ChainedScheduler` chains: the schedulers with a `step()` of no argument, on one optimiser (`[new StepLR(opt, { stepSize: 30 }), new ExponentialLR(opt, { gamma: 0.99 })]`). */
export type ChainableScheduler = LRScheduler | SequentialLR | ChainedScheduler;

/** The state of a `ChainedScheduler`, under PyTorch's names: its own, and each scheduler's (`torch.save(sched.stateDict(), 'sched.pt')`). */
export interface ChainedSchedulerStateDict {
  _last_lr: number[];
  _schedulers: Record<string, unknown>[];
}

/**
 * Steps several schedulers of one optimiser together, each in turn, as PyTorch's `ChainedScheduler`: the chainable
 * schedulers compose (each multiplies or moves the rate the one before set).
 *
 * ```ts
 * // lr 1: 0.09, 0.081, 0.729, 0.6561, 0.59049, ... (a warm-up factor for 2 epochs, times 0.9 per epoch)
 * const sched = new optim.ChainedScheduler([new optim.ConstantLR(opt, { factor: 0.1, totalIters: 2 }), new optim.ExponentialLR(opt, { gamma: 0.9 })]);
 * for (let epoch = 0; epoch < 100; epoch++) { train(); sched.step(); }
 * ```
 *
 * `optimizer` (PyTorch 2.x's second argument) is checked against the schedulers' when given.
 */
export class ChainedScheduler {
  /** The optimiser whose groups' learning rates the schedulers set. */
  readonly optimizer: Optimizer<object>;
  /** The schedulers, in the order they step. */
  readonly schedulers: ChainableScheduler[];
  private lastLr: number[];

  constructor(schedulers: ChainableScheduler[], optimizer?: Optimizer<object>) {
    const op = 'ChainedScheduler';
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw typeError(op, 'schedulers', 'a non-empty array of schedulers', schedulers);
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler || s instanceof SequentialLR || s instanceof ChainedScheduler)) {
        throw typeError(op, `schedulers[${i}]`, 'a scheduler (StepLR, ExponentialLR, CyclicLR, SequentialLR, ...; not ReduceLROnPlateau, whose step takes a metric)', s);
      }
    });
    const opt = optimizer ?? schedulers[0].optimizer;
    if (optimizer !== undefined) groupsOf(op, optimizer);
    schedulers.forEach((s, i) => {
      if (s.optimizer !== opt) throw typeError(op, `schedulers[${i}]`, `a scheduler of the same optimizer as ${optimizer !== undefined ? 'the optimizer argument' : 'schedulers[0]'}`, s);
    });
    this.optimizer = opt;
    this.schedulers = schedulers.slice();
    this.lastLr = this.groupLrs();
  }

  private groupLrs(): number[] {
    return (this.optimizer.paramGroups as unknown as Groups).map((g) => g.lr);
  }

  /** Steps every scheduler, in order. */
  step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.groupLrs();
  }

  /** The learning rates after the last `step()` (after construction: the groups' then), one per group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** The state under PyTorch's names, each scheduler's included (Python's `ChainedScheduler.load_state_dict` reads it). */
  stateDict(): ChainedSchedulerStateDict {
    return { _last_lr: this.lastLr.slice(), _schedulers: this.schedulers.map((s) => s.stateDict() as unknown as Record<string, unknown>) };
  }

  /** Restores what `stateDict()` returned (or Python's `state_dict()`), each scheduler's state into its scheduler. */
  loadStateDict(state: ChainedSchedulerStateDict): void {
    const op = 'ChainedScheduler.loadStateDict';
    if (!state || typeof state !== 'object') throw typeError(op, 'state', 'an object from stateDict()', state);
    const subs = state._schedulers;
    if (!Array.isArray(subs) || subs.length !== this.schedulers.length) throw typeError(op, '_schedulers', `an array of ${this.schedulers.length} scheduler states`, subs);
    if (!Array.isArray(state._last_lr)) throw typeError(op, '_last_lr', 'an array of numbers', state._last_lr);
    const lastLr = state._last_lr.map((x, i) => checkNumber(op, `_last_lr[${i}]`, x));
    this.schedulers.forEach((s, i) => s.loadStateDict(subs[i] as never));
    this.lastLr = lastLr;
  }
}
