/**
 * SGD with momentum, Nesterov, dampening, weight decay and maximize, as PyTorch formulates it
 * (`torch.optim.SGD`). The update runs in C++ with LibTorch's multi-tensor (`_foreach`) kernels: one launch
 * per operation for all parameters of a group (`foreach: false` steps one parameter at a time).
 */
import type { Module } from '../nn/module';
import { Tensor } from '../tensor';
import { knownOptions, rangeError, typeError } from '../validate';
import { definedOnly } from './options';
import { Optimizer, type OptionSpec, type ParamGroupInput } from './optimizer';

/** Hyper-parameters of SGD (a group may override any of them). */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** Maximise the objective (step along the gradient). */
  maximize?: boolean;
}

/** A parameter group of SGD: its tensors and, optionally, its own hyper-parameters. */
export type SGDParamGroup = ParamGroupInput<SGDOptions>;

const SPEC: Record<keyof SGDOptions, OptionSpec> = {
  lr: { kind: 'number', torchName: 'lr' },
  momentum: { kind: 'number', torchName: 'momentum' },
  dampening: { kind: 'number', torchName: 'dampening' },
  weightDecay: { kind: 'number', torchName: 'weight_decay' },
  nesterov: { kind: 'boolean', torchName: 'nesterov' },
  maximize: { kind: 'boolean', torchName: 'maximize' },
};

/** Splits a model's parameters into `[{params: weights}, {params: BN/bias (1-d), weightDecay: 0}]`. */
export function paramGroups(model: Module, options: { noDecayForNormAndBias?: boolean } = {}): SGDParamGroup[] {
  const ps = model.parameters();
  if (!(options.noDecayForNormAndBias ?? true)) return [{ params: ps }];
  return [{ params: ps.filter((p) => p.ndim > 1) }, { params: ps.filter((p) => p.ndim <= 1), weightDecay: 0 }];
}

/** Stochastic gradient descent over parameter groups (`torch.optim.SGD`). */
export class SGD extends Optimizer<Required<SGDOptions>> {
  constructor(params: Tensor[] | SGDParamGroup[], options: SGDOptions & { foreach?: boolean }) {
    if (!options || typeof options !== 'object') throw typeError('SGD', 'options', '{lr, momentum, dampening, weightDecay, nesterov, maximize, foreach}', options);
    knownOptions('SGD', options, [...Object.keys(SPEC), 'foreach']);
    const { foreach = true, ...rest } = options;
    if (typeof foreach !== 'boolean') throw typeError('SGD', 'options.foreach', 'a boolean', foreach);
    const defaults = { lr: options.lr, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...definedOnly(rest) };
    if (typeof defaults.lr !== 'number') throw typeError('SGD', 'options.lr', 'a finite number (SGD has no default learning rate)', defaults.lr);
    if (defaults.nesterov && (!(defaults.momentum > 0) || defaults.dampening !== 0)) {
      throw rangeError('SGD', 'options.nesterov', 'false unless momentum > 0 and dampening is 0 (Nesterov momentum needs both)', defaults.nesterov);
    }
    super('SGD', 'sgd', params, defaults as Required<SGDOptions>, SPEC, foreach);
  }

  protected torchExtras(): Record<string, unknown> {
    return { foreach: null, differentiable: false, fused: null };
  }
}
