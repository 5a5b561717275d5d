/**
 * Adadelta (`torch.optim.Adadelta`), with weight decay and maximize. The update runs in C++ with LibTorch's
 * multi-tensor (`_foreach`) kernels, operation by operation as PyTorch's `_multi_tensor_adadelta` (`foreach: false`: as
 * `_single_tensor_adadelta`), so steps equal PyTorch's.
 */
import { Tensor } from '../tensor';
import { Optimizer, type OptionSpec, type ParamGroupInput } from './optimizer';
import { resolveOptions } from './options';

/** Hyper-parameters of Adadelta (a group may override any of them). */
export interface AdadeltaOptions {
  /** Scales the update (default 1.0). */
  lr?: number;
  /** Decay rate of the running averages of squared gradients and of squared updates, in [0, 1] (default 0.9). */
  rho?: number;
  /** Added inside both square roots (default 1e-6). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Maximise the objective. */
  maximize?: boolean;
}

/** A parameter group of Adadelta. */
export type AdadeltaParamGroup = ParamGroupInput<AdadeltaOptions>;

const SPEC: Record<keyof AdadeltaOptions, OptionSpec> = {
  lr: { kind: 'number', torchName: 'lr' },
  rho: { kind: 'number', torchName: 'rho', max: 1 },
  eps: { kind: 'number', torchName: 'eps' },
  weightDecay: { kind: 'number', torchName: 'weight_decay' },
  maximize: { kind: 'boolean', torchName: 'maximize' },
};

/**
 * Adadelta (Zeiler): each step is the gradient scaled by RMS(past updates) / RMS(gradients), so the units of the
 * update match the parameter's and no learning rate needs tuning (lr only scales it). State per parameter under
 * PyTorch's keys: `step`, `square_avg`, `acc_delta`.
 *
 * ```ts
 * const opt = new torch.optim.Adadelta(model.parameters(), { rho: 0.95 });
 * ```
 */
export class Adadelta extends Optimizer<Required<AdadeltaOptions>> {
  constructor(params: Tensor[] | AdadeltaParamGroup[], options: AdadeltaOptions & { foreach?: boolean } = {}) {
    const [defaults, foreach] = resolveOptions('Adadelta', options, { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false });
    super('Adadelta', 'adadelta', params, defaults, SPEC, foreach);
  }

  protected torchExtras(): Record<string, unknown> {
    return { foreach: null, differentiable: false, capturable: false };
  }
}
