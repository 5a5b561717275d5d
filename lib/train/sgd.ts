/**
 * SGD with momentum, Nesterov, dampening and weight decay, as PyTorch formulates it. The update runs in C++
 * with LibTorch's multi-tensor (`_foreach`) kernels: one launch per operation for all parameters of a
 * group, not one per parameter (`foreach: false` steps one parameter at a time). Parameter groups let BN
 * and bias parameters skip weight decay (see `paramGroups`).
 */
import type { Module } from '../nn/module';
import { native, type OptimizerHandle } from '../native';
import { Tensor } from '../tensor';
import { checkNumber, rangeError, typeError } from '../validate';

const N = native();

/** Hyper-parameters of SGD (a group may override any of them). */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** A parameter group: its tensors and, optionally, its own hyper-parameters. */
export interface ParamGroup extends Partial<SGDOptions> {
  params: Tensor[];
}

/** Splits a model's parameters into `[{params: weights}, {params: BN/bias (1-d), weightDecay: 0}]`. */
export function paramGroups(model: Module, options: { noDecayForNormAndBias?: boolean } = {}): ParamGroup[] {
  const ps = model.parameters();
  if (!(options.noDecayForNormAndBias ?? true)) return [{ params: ps }];
  return [{ params: ps.filter((p) => p.ndim > 1) }, { params: ps.filter((p) => p.ndim <= 1), weightDecay: 0 }];
}

/** Stochastic gradient descent over parameter groups. */
export class SGD {
  /** @internal */
  readonly handle: OptimizerHandle;
  /** The groups with their resolved hyper-parameters. */
  readonly groups: (Required<SGDOptions> & { params: Tensor[] })[];

  constructor(params: Tensor[] | ParamGroup[], options: SGDOptions & { foreach?: boolean }) {
    if (!Array.isArray(params)) throw typeError('SGD', 'params', 'an array of Tensors or parameter groups', params);
    if (!options || typeof options !== 'object') throw typeError('SGD', 'options', '{lr, momentum, weightDecay, nesterov}', options);
    const groups: ParamGroup[] = params.length && params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as ParamGroup[]);
    this.groups = groups.map((g, i) => {
      if (!g || !Array.isArray(g.params)) throw typeError('SGD', `params[${i}]`, 'a Tensor or a {params: Tensor[]} group', g);
      const r = {
        params: g.params,
        lr: checkNumber('SGD', 'lr', g.lr ?? options.lr),
        momentum: checkNumber('SGD', 'momentum', g.momentum ?? options.momentum ?? 0),
        dampening: checkNumber('SGD', 'dampening', g.dampening ?? options.dampening ?? 0),
        weightDecay: checkNumber('SGD', 'weightDecay', g.weightDecay ?? options.weightDecay ?? 0),
        nesterov: g.nesterov ?? options.nesterov ?? false,
      };
      if (r.lr < 0) throw rangeError('SGD', 'lr', 'a number >= 0', r.lr);
      return r;
    });
    this.handle = N.sgdCreate(
      this.groups.map((g) => ({ ...g, params: g.params.map((p) => p.handle) })),
      options.foreach ?? true,
    );
  }

  /** Learning rate of the first group (setting it scales every group's lr by the same factor). */
  get lr(): number {
    return this.groups[0]?.lr ?? 0;
  }
  set lr(value: number) {
    checkNumber('SGD.lr', 'value', value);
    const base = this.groups[0]?.lr || 1;
    this.groups.forEach((g, i) => {
      g.lr = i === 0 ? value : (g.lr / base) * value;
      N.sgdSetLr(this.handle, i, g.lr);
    });
  }

  /** Sets one group's learning rate. */
  setGroupLr(group: number, lr: number): void {
    N.sgdSetLr(this.handle, group, lr);
    this.groups[group].lr = lr;
  }

  /** Applies one update from the parameters' current gradients. */
  step(): void {
    N.sgdStep(this.handle);
  }

  /** Clears gradients (to none by default, as PyTorch does). */
  zeroGrad(setToNone = true): void {
    N.sgdZeroGrad(this.handle, setToNone);
  }

  /** Momentum buffers (per group, per parameter; null before the first step) and hyper-parameters. */
  stateDict(): { buffers: (Tensor | null)[][]; groups: Omit<Required<SGDOptions>, never>[] } {
    return {
      buffers: N.sgdBuffers(this.handle).map((g) => g.map((h) => (h ? new Tensor(h) : null))),
      groups: this.groups.map(({ lr, momentum, dampening, weightDecay, nesterov }) => ({ lr, momentum, dampening, weightDecay, nesterov })),
    };
  }

  /** Restores what `stateDict()` returned (buffers copied in, learning rates set). */
  loadStateDict(state: { buffers: (Tensor | null)[][]; groups?: { lr: number }[] }): void {
    if (!state || !Array.isArray(state.buffers)) throw typeError('SGD.loadStateDict', 'state', 'an object from stateDict()', state);
    N.sgdLoadBuffers(this.handle, state.buffers.map((g) => g.map((t) => (t ? t.handle : null))));
    state.groups?.forEach((g, i) => {
      if (i < this.groups.length) this.setGroupLr(i, g.lr);
    });
  }

  /** Frees the optimiser's native state. */
  dispose(): void {
    N.sgdDispose(this.handle);
  }
}
