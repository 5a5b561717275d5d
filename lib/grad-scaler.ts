/**
 * `torch.amp.GradScaler`: loss scaling for float16 training in a hand-written loop, as PyTorch's. float16's
 * small range flushes small gradients to zero; the scaler multiplies the loss by a large factor before
 * `backward()`, divides the gradients by it before the optimiser steps, skips a step whose gradients hold an
 * Infinity or NaN (and halves the factor), and doubles the factor after `growthInterval` clean steps. (bfloat16
 * has float32's range and needs none of this; the Trainer and `fit` scale float16 losses natively.)
 *
 * ```ts
 * const scaler = new torch.amp.GradScaler();
 * for (const [x, y] of batches) {
 *   opt.zeroGrad();
 *   const loss = torch.autocast('cuda', { dtype: 'float16' }, () => F.crossEntropy(model.forward(x), y));
 *   scaler.scale(loss).backward();
 *   scaler.unscale_(opt);                          // optional: before clipping the true gradients
 *   nn.utils.clipGradNorm_(model.parameters(), 1);
 *   scaler.step(opt);                              // skipped when a gradient is not finite
 *   scaler.update();
 * }
 * ```
 */
import { noGrad } from './autograd';
import type { Optimizer } from './optim/optimizer';
import { tidy } from './scope';
import { Tensor } from './tensor';
import { checkBool, checkInt, checkNumber, knownOptions, rangeError, typeError } from './validate';

/** Options of `GradScaler` (PyTorch's names and defaults). */
export interface GradScalerOptions {
  /** The first scale factor (default 2^16). */
  initScale?: number;
  /** The factor's multiplier after `growthInterval` steps without a non-finite gradient, > 1 (default 2). */
  growthFactor?: number;
  /** The factor's multiplier after a step with one, in (0, 1) (default 0.5). */
  backoffFactor?: number;
  /** Clean steps between growths (default 2000). */
  growthInterval?: number;
  /** false makes every method a pass-through (`scale` returns its input, `step` steps). Default true. */
  enabled?: boolean;
}

/** What `GradScaler.stateDict()` returns: PyTorch's keys, so a checkpoint resumes on either side. */
export interface GradScalerStateDict {
  scale: number;
  growth_factor: number;
  backoff_factor: number;
  growth_interval: number;
  _growth_tracker: number;
}

type Stage = 'ready' | 'unscaled' | 'stepped';
interface PerOptimizer {
  stage: Stage;
  /** Whether unscale_ met a non-finite gradient. */
  foundInf: boolean;
}

/** Loss scaling for float16 training, as PyTorch's `torch.amp.GradScaler` (see the module comment). */
export class GradScaler {
  private scaleValue: number;
  private growthFactor: number;
  private backoffFactor: number;
  private growthInterval: number;
  private readonly enabled: boolean;
  private growthTracker = 0;
  private perOptimizer = new Map<Optimizer, PerOptimizer>();

  constructor(options: GradScalerOptions = {}) {
    const op = 'GradScaler';
    const o = knownOptions(op, options, ['initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'enabled']);
    const num = (arg: string, dflt: number) => (o[arg] === undefined ? dflt : checkNumber(op, arg, o[arg]));
    this.scaleValue = Math.fround(num('initScale', 2 ** 16));
    this.growthFactor = num('growthFactor', 2);
    this.backoffFactor = num('backoffFactor', 0.5);
    this.growthInterval = o.growthInterval === undefined ? 2000 : checkInt(op, 'growthInterval', o.growthInterval, 1);
    this.enabled = o.enabled === undefined ? true : checkBool(op, 'enabled', o.enabled);
    if (!(this.scaleValue > 0) || !Number.isFinite(this.scaleValue)) throw rangeError(op, 'initScale', 'a finite number > 0', o.initScale);
    if (!(this.growthFactor > 1)) throw rangeError(op, 'growthFactor', 'a number > 1', this.growthFactor);
    if (!(this.backoffFactor > 0 && this.backoffFactor < 1)) throw rangeError(op, 'backoffFactor', 'a number in (0, 1)', this.backoffFactor);
  }

  /** Whether the scaler scales (false: every method passes through). */
  isEnabled(): boolean {
    return this.enabled;
  }

  /** The current scale factor (1 when disabled, as PyTorch's). */
  getScale(): number {
    return this.enabled ? this.scaleValue : 1;
  }

  /** `outputs` (the loss) times the scale factor: new tensors; call `backward()` on the result. */
  scale(outputs: Tensor): Tensor;
  scale(outputs: Tensor[]): Tensor[];
  scale(outputs: Tensor | Tensor[]): Tensor | Tensor[] {
    const one = (t: unknown, arg: string): Tensor => {
      if (!(t instanceof Tensor)) throw typeError('GradScaler.scale', arg, 'a Tensor (the loss)', t);
      return this.enabled ? t.mul(this.scaleValue) : t;
    };
    return Array.isArray(outputs) ? outputs.map((t, i) => one(t, `outputs[${i}]`)) : one(outputs, 'outputs');
  }

  /**
   * Divides the gradients of `optimizer`'s parameters by the scale factor, in place, and notes whether any is
   * not finite. Call it before reading or clipping gradients; `step` calls it if you have not. Once per
   * optimiser between `update()`s.
   */
  unscale_(optimizer: Optimizer): void {
    const op = 'GradScaler.unscale_';
    if (!this.enabled) return;
    const s = this.stateOf(op, optimizer);
    if (s.stage === 'unscaled') throw new Error(`${op}: unscale_() has already been called on this optimizer since the last update()`);
    if (s.stage === 'stepped') throw new Error(`${op}: unscale_() is being called after step(); call update() first`);
    const inv = Math.fround(1 / this.scaleValue);
    s.foundInf = tidy(() =>
      noGrad(() => {
        let bad: Tensor | null = null;
        for (const group of optimizer.paramGroups) {
          for (const p of group.params) {
            const g = p.grad;
            if (!g) continue;
            g.mul_(inv);
            const nonFinite = g.isfinite().logicalNot().any();
            bad = bad === null ? nonFinite : bad.logicalOr(nonFinite.to(bad.device));
          }
        }
        return bad !== null && bad.item() === true; // one host read per optimiser and step
      }),
    );
    s.stage = 'unscaled';
  }

  /**
   * Unscales the gradients if `unscale_` has not, then runs `optimizer.step()` unless a gradient is not finite.
   * Returns whether the step was taken. Once per optimiser between `update()`s.
   */
  step(optimizer: Optimizer): boolean {
    const op = 'GradScaler.step';
    if (!this.enabled) {
      this.stateOf(op, optimizer);
      optimizer.step();
      return true;
    }
    const s = this.stateOf(op, optimizer);
    if (s.stage === 'stepped') throw new Error(`${op}: step() has already been called since the last update()`);
    if (s.stage === 'ready') this.unscale_(optimizer);
    s.stage = 'stepped';
    if (s.foundInf) return false;
    optimizer.step();
    return true;
  }

  /**
   * Updates the scale factor after this iteration's steps: times `backoffFactor` if any optimiser met a
   * non-finite gradient, times `growthFactor` after `growthInterval` clean iterations in a row; or sets it to
   * `newScale`. Ends the iteration (each optimiser may be unscaled and stepped again).
   */
  update(newScale?: number): void {
    const op = 'GradScaler.update';
    if (!this.enabled) return;
    if (newScale !== undefined) {
      const v = Math.fround(checkNumber(op, 'newScale', newScale));
      if (!(v > 0) || !Number.isFinite(v)) throw rangeError(op, 'newScale', 'a finite number > 0', newScale);
      this.scaleValue = v;
    } else {
      const stepped = [...this.perOptimizer.values()].filter((s) => s.stage !== 'ready');
      if (stepped.length === 0) throw new Error(`${op}: no optimizer was unscaled or stepped since the last update()`);
      if (stepped.some((s) => s.foundInf)) {
        this.scaleValue = Math.fround(this.scaleValue * this.backoffFactor);
        this.growthTracker = 0;
      } else if (this.growthTracker + 1 === this.growthInterval) {
        const grown = Math.fround(this.scaleValue * this.growthFactor);
        if (Number.isFinite(grown)) this.scaleValue = grown;
        this.growthTracker = 0;
      } else {
        this.growthTracker += 1;
      }
    }
    this.perOptimizer.clear();
  }

  /** The scaler's state under PyTorch's keys (`{}` when disabled, as PyTorch's). */
  stateDict(): GradScalerStateDict | Record<string, never> {
    if (!this.enabled) return {};
    return {
      scale: this.scaleValue,
      growth_factor: this.growthFactor,
      backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval,
      _growth_tracker: this.growthTracker,
    };
  }

  /** Restores a state from `stateDict()` (or PyTorch's `GradScaler.state_dict()`). */
  loadStateDict(state: GradScalerStateDict): void {
    const op = 'GradScaler.loadStateDict';
    if (!this.enabled) return;
    if (state === null || typeof state !== 'object' || Object.keys(state).length === 0) {
      throw typeError(op, 'state', "a GradScaler state dict with 'scale', 'growth_factor', 'backoff_factor', 'growth_interval' and '_growth_tracker'", state);
    }
    const o = knownOptions(op, state, ['scale', 'growth_factor', 'backoff_factor', 'growth_interval', '_growth_tracker']);
    const scale = Math.fround(checkNumber(op, 'scale', o.scale));
    const growth = checkNumber(op, 'growth_factor', o.growth_factor);
    const backoff = checkNumber(op, 'backoff_factor', o.backoff_factor);
    const interval = checkInt(op, 'growth_interval', o.growth_interval, 1);
    const tracker = checkInt(op, '_growth_tracker', o._growth_tracker, 0);
    if (!(scale > 0) || !Number.isFinite(scale)) throw rangeError(op, 'scale', 'a finite number > 0', o.scale);
    if (!(growth > 1)) throw rangeError(op, 'growth_factor', 'a number > 1', growth);
    if (!(backoff > 0 && backoff < 1)) throw rangeError(op, 'backoff_factor', 'a number in (0, 1)', backoff);
    this.scaleValue = scale;
    this.growthFactor = growth;
    this.backoffFactor = backoff;
    this.growthInterval = interval;
    this.growthTracker = tracker;
    this.perOptimizer.clear();
  }

  private stateOf(op: string, optimizer: unknown): PerOptimizer {
    if (optimizer === null || typeof optimizer !== 'object' || typeof (optimizer as Optimizer).step !== 'function' || !Array.isArray((optimizer as Optimizer).paramGroups)) {
      throw typeError(op, 'optimizer', 'an optimizer (optim.SGD, Adam, AdamW)', optimizer);
    }
    const o = optimizer as Optimizer;
    let s = this.perOptimizer.get(o);
    if (!s) {
      s = { stage: 'ready', foundInf: false };
      this.perOptimizer.set(o, s);
    }
    return s;
  }
}
