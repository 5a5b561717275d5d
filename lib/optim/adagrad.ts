/**
 * Adagrad (`torch.optim.Adagrad`), with learning-rate decay, weight decay, an initial accumulator value and
 * maximize. The update runs in C++ with LibTorch's multi-tensor (`_foreach`) kernels, operation by operation as
 * PyTorch's `_multi_tensor_adagrad` (`foreach: false`: as `_single_tensor_adagrad`), so steps equal PyTorch's.
 */
import { Tensor } from '../tensor';
import { Optimizer, type OptionSpec, type ParamGroupInput } from './optimizer';
import { resolveOptions } from './options';

/** Hyper-parameters of Adagrad (a group may override any of them). */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** The learning rate at step t is lr / (1 + (t - 1)·lrDecay) (default 0). */
  lrDecay?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** The starting value of every accumulated sum of squares (default 0); read when the optimiser is made. */
  initialAccumulatorValue?: number;
  /** Added to the denominator (default 1e-10). */
  eps?: number;
  /** Maximise the objective. */
  maximize?: boolean;
}

/** A parameter group of Adagrad. */
export type AdagradParamGroup = ParamGroupInput<AdagradOptions>;

const SPEC: Record<keyof AdagradOptions, OptionSpec> = {
  lr: { kind: 'number', torchName: 'lr' },
  lrDecay: { kind: 'number', torchName: 'lr_decay' },
  weightDecay: { kind: 'number', torchName: 'weight_decay' },
  initialAccumulatorValue: { kind: 'number', torchName: 'initial_accumulator_value' },
  eps: { kind: 'number', torchName: 'eps' },
  maximize: { kind: 'boolean', torchName: 'maximize' },
};

/**
 * Adagrad (Duchi et al.): each parameter's step is scaled by the root of its accumulated squared gradients.
 * As in PyTorch the state (`step`, `sum`) exists for every parameter from construction.
 *
 * ```ts
 * const opt = new torch.optim.Adagrad(model.parameters(), { lr: 0.05, lrDecay: 1e-4 });
 * ```
 */
export class Adagrad extends Optimizer<Required<AdagradOptions>> {
  constructor(params: Tensor[] | AdagradParamGroup[], options: AdagradOptions & { foreach?: boolean } = {}) {
    const [defaults, foreach] = resolveOptions('Adagrad', options, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false });
    super('Adagrad', 'adagrad', params, defaults, SPEC, foreach);
  }

  protected torchExtras(): Record<string, unknown> {
    return { foreach: null, differentiable: false, fused: null };
  }
}
