/** Learning-rate schedules: pure functions of the step (fraction of training done), as nanoGPT writes them. */
import { checkOneOf, rangeError } from '../validate';

/** Schedule names the trainer and CLI accept. */
export const SCHEDULES = ['step', 'cosine', 'constant'] as const;
/** A schedule name. */
export type ScheduleName = (typeof SCHEDULES)[number];

/** A schedule: base lr, total steps, linear warm-up steps. */
export interface Schedule {
  name: ScheduleName;
  lr: number;
  totalSteps: number;
  warmupSteps?: number;
  /** `step` only: decay ×0.1 every this many steps (PyTorch's StepLR; the ImageNet recipe: 30 epochs) instead of at 50% and 75%. */
  stepEvery?: number;
}

/**
 * The learning rate at `step` (0-based): linear warm-up from lr/warmup to lr, then
 * `step`: ×0.1 at 50% and ×0.01 at 75% of training (the classic CIFAR ResNet recipe), or ×0.1 every
 * `stepEvery` steps when given (the ImageNet recipe),
 * `cosine`: half a cosine from lr to 0, `constant`: lr.
 */
export function lrAt(s: Schedule, step: number): number {
  checkOneOf('lrAt', 'name', s.name, SCHEDULES);
  if (!(s.totalSteps > 0)) throw rangeError('lrAt', 'totalSteps', 'a positive number', s.totalSteps);
  const warm = s.warmupSteps ?? 0;
  if (step < warm) return (s.lr * (step + 1)) / warm;
  const t = Math.min(1, Math.max(0, step / s.totalSteps));
  switch (s.name) {
    case 'step':
      if (s.stepEvery !== undefined) {
        if (!(s.stepEvery > 0)) throw rangeError('lrAt', 'stepEvery', 'a positive number of steps', s.stepEvery);
        return s.lr * 0.1 ** Math.floor(step / s.stepEvery);
      }
      return s.lr * (t >= 0.75 ? 0.01 : t >= 0.5 ? 0.1 : 1);
    case 'cosine': {
      const u = warm >= s.totalSteps ? 1 : Math.min(1, (step - warm) / (s.totalSteps - warm));
      return 0.5 * s.lr * (1 + Math.cos(Math.PI * u));
    }
    default:
      return s.lr;
  }
}
