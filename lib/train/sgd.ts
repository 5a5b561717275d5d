/** SGD with momentum, Nesterov and weight decay (PyTorch's formulation), per parameter with tensor ops. */
import { noGrad } from '../autograd';
import { zerosLike } from '../creation';
import type { Tensor } from '../tensor';
import { checkNumber, rangeError } from '../validate';

/** Options of SGD. */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent: buf = μ·buf + (g + λ·p); p -= lr·buf (or the Nesterov form). */
export class SGD {
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly buffers: (Tensor | null)[];

  constructor(readonly params: Tensor[], options: SGDOptions) {
    this.lr = checkNumber('SGD', 'lr', options.lr);
    this.momentum = checkNumber('SGD', 'momentum', options.momentum ?? 0);
    this.weightDecay = checkNumber('SGD', 'weightDecay', options.weightDecay ?? 0);
    this.nesterov = options.nesterov ?? false;
    if (this.lr < 0) throw rangeError('SGD', 'lr', 'a number >= 0', this.lr);
    if (this.nesterov && this.momentum <= 0) throw rangeError('SGD', 'momentum', 'a positive momentum with nesterov', this.momentum);
    this.buffers = params.map(() => null);
    for (const p of params) p.keep();
  }

  /** Applies one update from the current gradients. */
  step(): void {
    noGrad(() => {
      this.params.forEach((p, i) => {
        const g = p.grad;
        if (!g) return;
        let d = this.weightDecay ? g.add(p.mul(this.weightDecay)) : g;
        if (this.momentum) {
          let buf = this.buffers[i];
          if (!buf) {
            buf = zerosLike(p).keep();
            this.buffers[i] = buf;
          }
          buf.mul_(this.momentum).add_(d);
          d = this.nesterov ? d.add(buf.mul(this.momentum)) : buf;
        }
        p.sub_(d.mul(this.lr));
      });
    });
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Frees the momentum buffers and the parameter handles held by the optimiser. */
  dispose(): void {
    for (const b of this.buffers) b?.dispose();
    for (const p of this.params) p.dispose();
  }
}
