/**
 * Adamax (`torch.optim.Adamax`), Adam with the infinity norm, with weight decay and maximize. The update runs in C++
 * with LibTorch's multi-tensor (`_foreach`) kernels, operation by operation as PyTorch's `_multi_tensor_adamax`
 * (`foreach: false`: as `_single_tensor_adamax`), so steps equal PyTorch's.
 */
import { Tensor } from '../tensor';
import { Optimizer, type OptionSpec, type ParamGroupInput } from './optimizer';
import { resolveOptions } from './options';

/** Hyper-parameters of Adamax (a group may override any of them). */
export interface AdamaxOptions {
  /** Learning rate (default 2e-3). */
  lr?: number;
  /** Decay rates of the first moment and of the infinity norm (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to |g| before the running maximum (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Maximise the objective. */
  maximize?: boolean;
}

/** A parameter group of Adamax. */
export type AdamaxParamGroup = ParamGroupInput<AdamaxOptions>;

const SPEC: Record<keyof AdamaxOptions, OptionSpec> = {
  lr: { kind: 'number', torchName: 'lr' },
  betas: { kind: 'betas', torchName: 'betas' },
  eps: { kind: 'number', torchName: 'eps' },
  weightDecay: { kind: 'number', torchName: 'weight_decay' },
  maximize: { kind: 'boolean', torchName: 'maximize' },
};

/**
 * Adamax (Kingma & Ba): Adam's step with the second moment replaced by an exponentially weighted infinity norm,
 * u = max(β2·u, |g| + eps). State per parameter under PyTorch's keys: `step`, `exp_avg`, `exp_inf`.
 *
 * ```ts
 * const opt = new torch.optim.Adamax(model.parameters(), { lr: 2e-3, weightDecay: 1e-4 });
 * ```
 */
export class Adamax extends Optimizer<Required<AdamaxOptions>> {
  constructor(params: Tensor[] | AdamaxParamGroup[], options: AdamaxOptions & { foreach?: boolean } = {}) {
    const [defaults, foreach] = resolveOptions('Adamax', options, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false });
    super('Adamax', 'adamax', params, defaults, SPEC, foreach);
  }

  protected torchExtras(): Record<string, unknown> {
    return { foreach: null, differentiable: false, capturable: false };
  }
}
