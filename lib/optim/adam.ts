/**
 * Adam and AdamW (`torch.optim.Adam`, `torch.optim.AdamW`), with amsgrad and maximize. The update runs in
 * C++ with LibTorch's multi-tensor (`_foreach`) kernels, operation by operation as PyTorch's
 * `_multi_tensor_adam(w)` (`foreach: false`: as `_single_tensor_adam(w)`), so steps equal PyTorch's on the
 * CPU. On CUDA it is PyTorch's `capturable` form: step counters on the device, no host read per step, so
 * the native training step can capture it in a CUDA graph.
 */
import { Tensor } from '../tensor';
import { Optimizer, type OptionSpec, type ParamGroupInput } from './optimizer';
import { resolveOptions } from './options';

/** Hyper-parameters of Adam and AdamW (a group may override any of them). */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment averages (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay p *= 1 - lr·wd (default 1e-2). */
  weightDecay?: number;
  /** The AMSGrad variant: normalise by the running maximum of the second moment. */
  amsgrad?: boolean;
  /** Maximise the objective. */
  maximize?: boolean;
}

/** A parameter group of Adam/AdamW. */
export type AdamParamGroup = ParamGroupInput<AdamOptions>;

const SPEC: Record<keyof AdamOptions, OptionSpec> = {
  lr: { kind: 'number', torchName: 'lr' },
  betas: { kind: 'betas', torchName: 'betas' },
  eps: { kind: 'number', torchName: 'eps' },
  weightDecay: { kind: 'number', torchName: 'weight_decay' },
  amsgrad: { kind: 'boolean', torchName: 'amsgrad' },
  maximize: { kind: 'boolean', torchName: 'maximize' },
};

function resolve(op: string, options: AdamOptions & { foreach?: boolean }, weightDecay: number): [Required<AdamOptions>, boolean] {
  return resolveOptions(op, options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad: false, maximize: false });
}

/** Adam (Kingma & Ba), weight decay as an L2 penalty added to the gradient (`torch.optim.Adam`). */
export class Adam extends Optimizer<Required<AdamOptions>> {
  constructor(params: Tensor[] | AdamParamGroup[], options: AdamOptions & { foreach?: boolean } = {}) {
    const [defaults, foreach] = resolve('Adam', options, 0);
    super('Adam', 'adam', params, defaults, SPEC, foreach);
  }

  protected torchExtras(): Record<string, unknown> {
    return { foreach: null, capturable: false, differentiable: false, fused: false, decoupled_weight_decay: false };
  }

  protected torchFixed(): { keys: Record<string, unknown>; hint: string } {
    return {
      keys: { decoupled_weight_decay: false },
      hint: "a group with decoupled weight decay is AdamW's (PyTorch 2.x writes it for AdamW and Adam(decoupled_weight_decay=True)): load it into torch.optim.AdamW",
    };
  }
}

/** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, default 1e-2 (`torch.optim.AdamW`). */
export class AdamW extends Optimizer<Required<AdamOptions>> {
  constructor(params: Tensor[] | AdamParamGroup[], options: AdamOptions & { foreach?: boolean } = {}) {
    const [defaults, foreach] = resolve('AdamW', options, 1e-2);
    super('AdamW', 'adamw', params, defaults, SPEC, foreach);
  }

  protected torchExtras(): Record<string, unknown> {
    return { foreach: null, capturable: false, differentiable: false, fused: null, decoupled_weight_decay: true };
  }

  protected torchFixed(): { keys: Record<string, unknown>; hint: string } {
    return { keys: { decoupled_weight_decay: true }, hint: "a group with L2 weight decay is Adam's: load it into torch.optim.Adam" };
  }
}
