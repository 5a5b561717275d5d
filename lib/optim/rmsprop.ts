/**
 * RMSprop (`torch.optim.RMSprop`), with momentum, the centered variant, weight decay and maximize. The update
 * runs in C++ with LibTorch's multi-tensor (`_foreach`) kernels, operation by operation as PyTorch's
 * `_multi_tensor_rmsprop` (`foreach: false`: as `_single_tensor_rmsprop`), so steps equal PyTorch's.
 */
import { Tensor } from '../tensor';
import { Optimizer, type OptionSpec, type ParamGroupInput } from './optimizer';
import { resolveOptions } from './options';

/** Hyper-parameters of RMSprop (a group may override any of them). */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Smoothing constant of the running average of squared gradients (default 0.99). */
  alpha?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Normalise by the estimated variance of the gradient (the running mean of g subtracted) instead of its second moment. */
  centered?: boolean;
  /** Maximise the objective. */
  maximize?: boolean;
}

/** A parameter group of RMSprop. */
export type RMSpropParamGroup = ParamGroupInput<RMSpropOptions>;

const SPEC: Record<keyof RMSpropOptions, OptionSpec> = {
  lr: { kind: 'number', torchName: 'lr' },
  alpha: { kind: 'number', torchName: 'alpha' },
  eps: { kind: 'number', torchName: 'eps' },
  weightDecay: { kind: 'number', torchName: 'weight_decay' },
  momentum: { kind: 'number', torchName: 'momentum' },
  centered: { kind: 'boolean', torchName: 'centered' },
  maximize: { kind: 'boolean', torchName: 'maximize' },
};

/**
 * RMSprop (Hinton): divides the gradient by a running root mean square of recent gradients. State per
 * parameter under PyTorch's keys: `step`, `square_avg`, and `momentum_buffer` (momentum > 0) / `grad_avg`
 * (centered).
 *
 * ```ts
 * const opt = new torch.optim.RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9 });
 * ```
 */
export class RMSprop extends Optimizer<Required<RMSpropOptions>> {
  constructor(params: Tensor[] | RMSpropParamGroup[], options: RMSpropOptions & { foreach?: boolean } = {}) {
    const [defaults, foreach] = resolveOptions('RMSprop', options, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false });
    super('RMSprop', 'rmsprop', params, defaults, SPEC, foreach);
  }

  protected torchExtras(): Record<string, unknown> {
    return { foreach: null, differentiable: false, capturable: false };
  }
}
