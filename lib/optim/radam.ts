/**
 * RAdam (`torch.optim.RAdam`), rectified Adam, with weight decay (an L2 penalty, or decoupled as PyTorch 2.x's
 * `decoupled_weight_decay`). The update runs in C++ with LibTorch's multi-tensor (`_foreach`) kernels, operation by
 * operation as PyTorch's `_multi_tensor_radam` (`foreach: false`: as `_single_tensor_radam`), so steps equal PyTorch's.
 */
import { Tensor } from '../tensor';
import { Optimizer, type OptionSpec, type ParamGroupInput } from './optimizer';
import { resolveOptions } from './options';

/** Hyper-parameters of RAdam (a group may override any of them). */
export interface RAdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment averages (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Weight decay (default 0): an L2 penalty added to the gradient, or with `decoupledWeightDecay` p *= 1 - lr·wd. */
  weightDecay?: number;
  /** Decay the weights directly (RAdamW, PyTorch 2.x's `decoupled_weight_decay`) instead of through the gradient (default false). */
  decoupledWeightDecay?: boolean;
}

/** A parameter group of RAdam. */
export type RAdamParamGroup = ParamGroupInput<RAdamOptions>;

const SPEC: Record<keyof RAdamOptions, OptionSpec> = {
  lr: { kind: 'number', torchName: 'lr' },
  betas: { kind: 'betas', torchName: 'betas' },
  eps: { kind: 'number', torchName: 'eps' },
  weightDecay: { kind: 'number', torchName: 'weight_decay' },
  decoupledWeightDecay: { kind: 'boolean', torchName: 'decoupled_weight_decay' },
};

/**
 * RAdam (Liu et al.): Adam with its adaptive learning rate rectified by the variance of its estimate; over the first
 * steps (while ρ_t <= 5, the first 5 with the default betas) the step is SGD with bias-corrected momentum, so no
 * warm-up is needed. State per parameter under PyTorch's keys: `step`, `exp_avg`, `exp_avg_sq`. Like PyTorch 1.13's,
 * it has no `maximize`.
 *
 * ```ts
 * const opt = new torch.optim.RAdam(model.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
 * ```
 */
export class RAdam extends Optimizer<Required<RAdamOptions>> {
  constructor(params: Tensor[] | RAdamParamGroup[], options: RAdamOptions & { foreach?: boolean } = {}) {
    const [defaults, foreach] = resolveOptions('RAdam', options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false });
    super('RAdam', 'radam', params, defaults, SPEC, foreach);
  }

  protected torchExtras(): Record<string, unknown> {
    return { foreach: null, maximize: false, capturable: false, differentiable: false };
  }

  protected torchFixed(): { keys: Record<string, unknown>; hint: string } {
    return { keys: { maximize: false }, hint: "ictorch's RAdam is PyTorch 1.13's, which has no maximize (negate the loss instead)" };
  }
}
