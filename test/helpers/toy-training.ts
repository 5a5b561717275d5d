// A toy training run shared by the layer tests: a model fits a small task with SGD and its memory stays flat.
import { expect } from 'vitest';
import { SGD, memory, tidy, type Tensor } from '../../lib';

/**
 * Trains `params` with SGD (momentum 0.9) for `steps` steps on `lossOf()` (built inside a tidy each step) and
 * checks that every parameter gets a gradient on the first step, that the live tensor count stays what it was
 * after the first step, and that the last loss is below `drop` times the first.
 */
export function expectTrainsWithFlatMemory(params: Tensor[], lossOf: () => Tensor, options: { lr: number; steps?: number; drop?: number }): void {
  const opt = new SGD(params, { lr: options.lr, momentum: 0.9 });
  try {
    const losses: number[] = [];
    let tensorsAfterFirst = 0;
    for (let step = 0; step < (options.steps ?? 30); step++) {
      losses.push(
        tidy(() => {
          opt.zeroGrad();
          const loss = lossOf();
          loss.backward();
          if (step === 0) expect(params.every((p) => p.grad !== null)).toBe(true);
          opt.step();
          return loss.item() as number;
        }),
      );
      if (step === 0) tensorsAfterFirst = memory().tensors;
    }
    expect(memory().tensors).toBe(tensorsAfterFirst);
    expect(losses[losses.length - 1]).toBeLessThan((options.drop ?? 0.6) * losses[0]);
  } finally {
    opt.dispose();
  }
}
