// torch.distributions' counting families over whole numbers: Binomial (successes in n trials) and Geometric
// (failures before the first success), from `{ probs }` or `{ logits }` as Bernoulli, with their KL formulas.
// Binomial draws through torch.binomial, Geometric through uniform_: a seed draws PyTorch's numbers.
import { noGrad } from '../autograd';
import { arange, empty, where } from '../creation';
import { finfo, isFloatingDType } from '../dtype';
import { binaryCrossEntropyWithLogits } from '../nn/losses';
import { binomial } from '../ops';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { probsOrLogits, probsToLogits, type ProbsOrLogits } from './basic';
import { Distribution, NO_CHECK, broadcastAll, refuse, registerKl, type Param, type SampleOptions } from './distribution';

/** The probabilities and logits of a `{ probs }` or `{ logits }` parameter (broadcast as given), as Bernoulli's. */
function binaryParams(given: Tensor, fromProbs: boolean): { probs: Tensor; logits: Tensor } {
  if (fromProbs) return { probs: given, logits: probsToLogits(given) };
  return { probs: given.sigmoid(), logits: given };
}

/** Checks a `{ probs }` (in [0, 1], or (0, 1] with `positive`) or `{ logits }` (not NaN) parameter. */
function checkBinaryParam(op: string, given: Tensor, fromProbs: boolean, positive = false): void {
  if (!fromProbs) return refuse(op, 'logits', 'that are not NaN', given, () => given.isnan());
  refuse(op, 'probs', positive ? 'in (0, 1]' : 'in [0, 1]', given, () => (positive ? given.gt(0) : given.ge(0)).logicalAnd(given.le(1)).logicalNot());
}

/**
 * Binomial distributions: the number of successes in `totalCount` independent trials of success probability
 * `probs` (or log-odds `logits`), as `torch.distributions.Binomial`: `new Binomial(10, { probs })`.
 */
export class Binomial extends Distribution {
  /** The numbers of trials (whole numbers >= 0), in the parameters' dtype. */
  readonly totalCount: Tensor;
  /** The success probabilities. */
  readonly probs: Tensor;
  /** The log-odds, `log p − log(1 − p)` (p kept off 0 and 1 by the dtype's epsilon, as PyTorch). */
  readonly logits: Tensor;
  /** Counts are discrete: no rsample. */
  readonly hasRsample = false;
  /** @internal whether `probs` was given (else `logits`): what expand() broadcasts, as PyTorch. */
  readonly fromProbs: boolean;

  /** `new Binomial(totalCount, { probs })` or `{ logits }`; `totalCount` a number or a Tensor (an integer one is converted). */
  constructor(totalCount: Param, args: ProbsOrLogits) {
    const op = 'Binomial';
    const o = probsOrLogits(op, args);
    const fromProbs = o.probs !== undefined;
    const param = (fromProbs ? o.probs : o.logits) as Param;
    const converted = totalCount instanceof Tensor && !isFloatingDType(totalCount.dtype) && totalCount.dtype !== 'bool' ? totalCount.to(param instanceof Tensor ? param.dtype : 'float32') : null;
    let n: Tensor;
    let given: Tensor;
    try {
      [n, given] = broadcastAll(op, fromProbs ? { totalCount: converted ?? totalCount, probs: param } : { totalCount: converted ?? totalCount, logits: param });
    } finally {
      converted?.dispose();
    }
    super(op, n.shape, [], { validateArgs: o.validateArgs });
    this.fromProbs = fromProbs;
    this.totalCount = this.own(n);
    this.own(given);
    this.validate(() => {
      refuse(op, 'totalCount', 'that are whole numbers >= 0', n, () => n.ge(0).logicalAnd(n.eq(n.floor())).logicalNot());
      checkBinaryParam(op, given, fromProbs);
    });
    const { probs, logits } = binaryParams(given, fromProbs);
    this.probs = fromProbs ? probs : this.own(probs);
    this.logits = fromProbs ? this.own(logits) : logits;
  }

  /** @internal */
  protected expanded(batchShape: number[]): Binomial {
    return this.expandParams(batchShape, [this.totalCount, this.fromProbs ? this.probs : this.logits], (n, p) => new Binomial(n, this.fromProbs ? { probs: p, ...NO_CHECK } : { logits: p, ...NO_CHECK }));
  }

  /** `n p`. */
  get mean(): Tensor {
    return tidy(() => this.totalCount.mul(this.probs));
  }
  /** `⌊(n + 1) p⌋`, at most n. */
  get mode(): Tensor {
    return tidy(() => this.totalCount.add(1).mul(this.probs).floor().minimum(this.totalCount));
  }
  /** `n p (1 − p)`. */
  get variance(): Tensor {
    return tidy(() => this.totalCount.mul(this.probs).mul(this.probs.neg().add(1)));
  }

  /** Counts `[...sampleShape, ...batchShape]` in the parameters' dtype, outside the graph. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('sample', sampleShape);
    return noGrad(() => tidy(() => binomial(this.totalCount.expand(shape), this.probs.expand(shape), options)));
  }

  /** `log C(n, k) + k·logits − n·log(1 + e^logits)`, in PyTorch's stable form; `k` whole numbers in [0, n]. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    const n = this.totalCount;
    if (this.validateArgs) refuse('Binomial.logProb', 'value', 'that are whole numbers in [0, totalCount]', v, () => v.ge(0).logicalAnd(v.le(n)).logicalAnd(v.eq(v.floor())).logicalNot());
    return tidy(() => {
      const l = this.logits;
      const clampByZero = l.clamp(0).add(l).sub(l.clamp(null, 0)).div(2);
      const normalize = n.mul(clampByZero).add(n.mul(l.abs().neg().exp().log1p())).sub(n.add(1).lgamma());
      return v.mul(l).sub(v.add(1).lgamma()).sub(n.sub(v).add(1).lgamma()).sub(normalize);
    });
  }

  /** `−Σ_k P(k) log P(k)` over the support; all `totalCount` must be equal (as PyTorch). */
  entropy(): Tensor {
    return tidy(() => {
      const n = this.totalCount;
      const top = n.max().item() as number;
      if (n.min().item() !== top) throw new TypeError('Binomial.entropy: needs one totalCount for the whole batch (PyTorch refuses an inhomogeneous one too)');
      const values = arange(0, top + 1, 1, { dtype: this.probs.dtype, device: this.probs.device }).reshape([-1, ...this.batchShape.map(() => 1)]);
      const lp = this.logProb(values);
      return lp.exp().mul(lp).sum(0).neg();
    });
  }
}

/**
 * Geometric distributions: the number of failures before the first success in trials of success probability
 * `probs` (in (0, 1]) or log-odds `logits`, as `torch.distributions.Geometric`.
 */
export class Geometric extends Distribution {
  /** The success probabilities. */
  readonly probs: Tensor;
  /** The log-odds. */
  readonly logits: Tensor;
  /** Counts are discrete: no rsample. */
  readonly hasRsample = false;
  /** @internal whether `probs` was given (else `logits`). */
  readonly fromProbs: boolean;

  /** `new Geometric({ probs })` or `new Geometric({ logits })`. */
  constructor(args: ProbsOrLogits) {
    const op = 'Geometric';
    const o = probsOrLogits(op, args);
    const fromProbs = o.probs !== undefined;
    const [given] = broadcastAll(op, fromProbs ? { probs: o.probs as Param } : { logits: o.logits as Param });
    super(op, given.shape, [], { validateArgs: o.validateArgs });
    this.fromProbs = fromProbs;
    this.own(given);
    this.validate(() => checkBinaryParam(op, given, fromProbs, true));
    const { probs, logits } = binaryParams(given, fromProbs);
    this.probs = fromProbs ? probs : this.own(probs);
    this.logits = fromProbs ? this.own(logits) : logits;
  }

  /** @internal */
  protected expanded(batchShape: number[]): Geometric {
    return this.expandParams(batchShape, [this.fromProbs ? this.probs : this.logits], (p) => new Geometric(this.fromProbs ? { probs: p, ...NO_CHECK } : { logits: p, ...NO_CHECK }));
  }

  /** `1/p − 1`. */
  get mean(): Tensor {
    return tidy(() => this.probs.reciprocal().sub(1));
  }
  /** 0. */
  get mode(): Tensor {
    return tidy(() => this.probs.mul(0));
  }
  /** `(1/p − 1) / p`. */
  get variance(): Tensor {
    return tidy(() => this.probs.reciprocal().sub(1).div(this.probs));
  }

  /** `⌊log u / log(1 − p)⌋` with u ~ U(tiny, 1), outside the graph. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('sample', sampleShape);
    const p = this.probs;
    return noGrad(() =>
      tidy(() => {
        const u = empty(shape, { dtype: p.dtype, device: p.device }).uniform_(finfo(p.dtype).tiny, 1, { generator: options.generator });
        return u.log().div(p.neg().log1p()).floor();
      }),
    );
  }

  /** `k log(1 − p) + log p` (0 · log 0 taken as 0 where p = 1); `k` whole numbers >= 0. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) refuse('Geometric.logProb', 'value', 'that are whole numbers >= 0', v, () => v.ge(0).logicalAnd(v.eq(v.floor())).logicalNot());
    return tidy(() => {
      const p = this.probs;
      const safe = where(p.eq(1).logicalAnd(v.eq(0)), 0, p);
      return v.mul(safe.neg().log1p()).add(p.log());
    });
  }

  /** `binaryCrossEntropyWithLogits(logits, p) / p`. */
  entropy(): Tensor {
    return tidy(() => binaryCrossEntropyWithLogits(this.logits, this.probs, { reduction: 'none' }).div(this.probs));
  }
}

registerKl(Binomial, Binomial, (p, q) =>
  tidy(() => {
    if (p.totalCount.lt(q.totalCount).any().item()) throw new TypeError('klDivergence: Binomial ‖ Binomial where q has more trials than p is not defined here (nor in PyTorch)');
    const kl = p.totalCount.mul(p.probs.mul(p.logits.sub(q.logits)).add(p.probs.neg().log1p()).sub(q.probs.neg().log1p()));
    return where(p.totalCount.gt(q.totalCount), Infinity, kl);
  }),
);

registerKl(Geometric, Geometric, (p, q) => tidy(() => p.entropy().neg().sub(q.probs.neg().log1p().div(p.probs)).sub(q.logits)));
