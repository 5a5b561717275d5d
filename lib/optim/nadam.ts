/**
 * NAdam (`torch.optim.NAdam`), Adam with Nesterov momentum, with momentum decay and weight decay (an L2 penalty, or
 * decoupled as PyTorch 2.x's `decoupled_weight_decay`). The update runs in C++ with LibTorch's multi-tensor (`_foreach`)
 * kernels, operation by operation as PyTorch's `_multi_tensor_nadam` (`foreach: false`: as `_single_tensor_nadam`), so
 * steps equal PyTorch's.
 */
import { Tensor } from '../tensor';
import { Optimizer, type OptionSpec, type ParamGroupInput } from './optimizer';
import { resolveOptions } from './options';

/** Hyper-parameters of NAdam (a group may override any of them). */
export interface NAdamOptions {
  /** Learning rate (default 2e-3). */
  lr?: number;
  /** Decay rates of the first and second moment averages (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Weight decay (default 0): an L2 penalty added to the gradient, or with `decoupledWeightDecay` p *= 1 - lr·wd. */
  weightDecay?: number;
  /** ψ of the momentum schedule μ_t = β1·(1 - ½·0.96^(t·ψ)) (default 4e-3). */
  momentumDecay?: number;
  /** Decay the weights directly (NAdamW, PyTorch 2.x's `decoupled_weight_decay`) instead of through the gradient (default false). */
  decoupledWeightDecay?: boolean;
}

/** A parameter group of NAdam. */
export type NAdamParamGroup = ParamGroupInput<NAdamOptions>;

const SPEC: Record<keyof NAdamOptions, OptionSpec> = {
  lr: { kind: 'number', torchName: 'lr' },
  betas: { kind: 'betas', torchName: 'betas' },
  eps: { kind: 'number', torchName: 'eps' },
  weightDecay: { kind: 'number', torchName: 'weight_decay' },
  momentumDecay: { kind: 'number', torchName: 'momentum_decay' },
  decoupledWeightDecay: { kind: 'boolean', torchName: 'decoupled_weight_decay' },
};

/**
 * NAdam (Dozat): Adam whose first moment looks one step ahead (Nesterov), with a momentum coefficient that warms up
 * over the first steps. State per parameter under PyTorch's keys: `step`, `mu_product` (the product of the momentum
 * coefficients so far), `exp_avg`, `exp_avg_sq`. Like PyTorch 1.13's, it has no `maximize`.
 *
 * ```ts
 * const opt = new torch.optim.NAdam(model.parameters(), { lr: 2e-3, weightDecay: 1e-2, decoupledWeightDecay: true });
 * ```
 */
export class NAdam extends Optimizer<Required<NAdamOptions>> {
  constructor(params: Tensor[] | NAdamParamGroup[], options: NAdamOptions & { foreach?: boolean } = {}) {
    const [defaults, foreach] = resolveOptions('NAdam', options, {
      lr: 2e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      momentumDecay: 4e-3,
      decoupledWeightDecay: false,
    });
    super('NAdam', 'nadam', params, defaults, SPEC, foreach);
  }

  protected torchExtras(): Record<string, unknown> {
    return { foreach: null, maximize: false, capturable: false, differentiable: false };
  }

  protected torchFixed(): { keys: Record<string, unknown>; hint: string } {
    return { keys: { maximize: false }, hint: "ictorch's NAdam is PyTorch 1.13's, which has no maximize (negate the loss instead)" };
  }
}
