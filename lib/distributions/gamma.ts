// torch.distributions' gamma family and its relatives: Exponential, Gamma, Chi2, Beta, Dirichlet and Poisson,
// with their KL formulas. Their samplers are LibTorch's (exponential_, _standard_gamma, _sample_dirichlet,
// poisson: native/generator.cc), so a seed draws PyTorch's numbers; Gamma's and Dirichlet's samples are
// differentiable in the concentrations through LibTorch's implicit-reparameterisation gradients.
import { noGrad } from '../autograd';
import { Function, type FunctionCtx } from '../autograd-function';
import { empty, stack, where, zerosLike } from '../creation';
import { finfo, isFloatingDType } from '../dtype';
import { generatorHandle } from '../generator';
import { native } from '../native';
import { oneHot } from '../nn/functional';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { typeError } from '../validate';
import {
  Distribution,
  NO_CHECK,
  broadcastAll,
  positive,
  refuse,
  refuseVectors,
  registerKl,
  type DistributionOptions,
  type Param,
  type SampleOptions,
} from './distribution';

const N = native();

/** Checks `value` lies in `[0, ∞)` (PyTorch's `nonnegative` support). */
function nonnegative(op: string, v: Tensor): void {
  refuse(op, 'value', 'in the support [0, ∞)', v, () => v.lt(0).logicalOr(v.isnan()));
}

/**
 * Exponential distributions of rate `rate` (density `rate · e^(−rate·x)` on `[0, ∞)`), as
 * `torch.distributions.Exponential`.
 */
export class Exponential extends Distribution {
  /** The rates (> 0). */
  readonly rate: Tensor;
  /** Exponential samples are reparameterised. */
  readonly hasRsample = true;

  /** `new Exponential(rate)`: a tensor or a number, > 0. */
  constructor(rate: Param, options: DistributionOptions = {}) {
    const [r] = broadcastAll('Exponential', { rate });
    super('Exponential', r.shape, [], options);
    this.rate = this.own(r);
    this.validate(() => positive('Exponential', 'rate', r));
  }

  /** @internal */
  protected expanded(batchShape: number[]): Exponential {
    return this.expandParams(batchShape, [this.rate], (r) => new Exponential(r, NO_CHECK));
  }

  /** `1 / rate`. */
  get mean(): Tensor {
    return this.rate.reciprocal();
  }
  /** 0. */
  get mode(): Tensor {
    return zerosLike(this.rate);
  }
  /** `1 / rate`. */
  get stddev(): Tensor {
    return this.rate.reciprocal();
  }
  /** `1 / rate²`. */
  get variance(): Tensor {
    return this.rate.pow(-2);
  }

  /** `e / rate` with e ~ Exp(1): differentiable in `rate`. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    return tidy(() => empty(shape, { dtype: this.rate.dtype, device: this.rate.device }).exponential_(1, { generator: options.generator }).div(this.rate));
  }

  /** `log rate − rate · x`. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) nonnegative('Exponential.logProb', v);
    return tidy(() => this.rate.log().sub(this.rate.mul(v)));
  }

  /** `1 − e^(−rate·x)`. */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    if (this.validateArgs) nonnegative('Exponential.cdf', v);
    return tidy(() => this.rate.neg().mul(v).exp().neg().add(1));
  }

  /** `−log(1 − p) / rate`, for p in [0, 1]. */
  icdf(value: Tensor): Tensor {
    const v = this.valueArg('icdf', value);
    if (this.validateArgs) refuse('Exponential.icdf', 'value', 'in [0, 1]', v, () => v.lt(0).logicalOr(v.gt(1)));
    return tidy(() => v.neg().log1p().neg().div(this.rate));
  }

  /** `1 − log rate`. */
  entropy(): Tensor {
    return tidy(() => this.rate.log().neg().add(1));
  }
}

/**
 * Gamma distributions of shape `concentration` (α) and rate `rate` (β), density `β^α x^(α−1) e^(−βx) / Γ(α)` on
 * `[0, ∞)`, as `torch.distributions.Gamma`.
 */
export class Gamma extends Distribution {
  /** The shapes α (> 0). */
  readonly concentration: Tensor;
  /** The rates β (> 0). */
  readonly rate: Tensor;
  /** Gamma samples are reparameterised (implicit gradients in `concentration`; `rate` scales them). */
  readonly hasRsample: boolean = true;

  /** `new Gamma(concentration, rate)`: tensors or numbers, broadcast together; both > 0. */
  constructor(concentration: Param, rate: Param, options: DistributionOptions = {}) {
    const op = new.target === Chi2 ? 'Chi2' : 'Gamma';
    const [c, r] = broadcastAll(op, { concentration, rate });
    super(op, c.shape, [], options);
    this.concentration = this.own(c);
    this.rate = this.own(r);
    this.validate(() => {
      if (op === 'Chi2') tidy(() => refuse(op, 'df', '> 0', c.mul(2), () => c.le(0).logicalOr(c.isnan())));
      else positive(op, 'concentration', c);
      positive(op, 'rate', r);
    });
  }

  /** @internal */
  protected expanded(batchShape: number[]): Gamma {
    return this.expandParams(batchShape, [this.concentration, this.rate], (c, r) => new Gamma(c, r, NO_CHECK));
  }

  /** `α / β`. */
  get mean(): Tensor {
    return tidy(() => this.concentration.div(this.rate));
  }
  /** `max((α − 1) / β, 0)`. */
  get mode(): Tensor {
    return tidy(() => this.concentration.sub(1).div(this.rate).clamp(0));
  }
  /** `α / β²`. */
  get variance(): Tensor {
    return tidy(() => this.concentration.div(this.rate.pow(2)));
  }

  /**
   * `G / β` with G ~ Gamma(α, 1) (LibTorch's `_standard_gamma`), kept at or above the dtype's smallest normal
   * number as PyTorch does; differentiable in `concentration` and `rate`.
   */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    return tidy(() => {
      const g = new Tensor(N.sample('standardGamma', generatorHandle(`${this.op}.rsample`, options.generator), this.concentration.expand(shape).handle));
      const value = g.div(this.rate.expand(shape));
      value.detach().clamp_(finfo(value.dtype).tiny); // in place, outside the graph, as PyTorch
      return value;
    });
  }

  /** `α log β + (α − 1) log x − β x − log Γ(α)`. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) nonnegative(`${this.op}.logProb`, v);
    return tidy(() => {
      const x = v.to(this.rate.dtype);
      return this.concentration.xlogy(this.rate).add(this.concentration.sub(1).xlogy(x)).sub(this.rate.mul(x)).sub(this.concentration.lgamma());
    });
  }

  /** `P(α, β x)`, the regularized lower incomplete gamma function (differentiable in `value` and `rate`, not α). */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    if (this.validateArgs) nonnegative(`${this.op}.cdf`, v);
    return tidy(() => this.concentration.igamma(this.rate.mul(v.to(this.rate.dtype))));
  }

  /** `α − log β + log Γ(α) + (1 − α) ψ(α)`. */
  entropy(): Tensor {
    const c = this.concentration;
    return tidy(() => c.sub(this.rate.log()).add(c.lgamma()).add(c.neg().add(1).mul(c.digamma())));
  }
}

/** Chi-squared distributions with `df` degrees of freedom, as `torch.distributions.Chi2`: `Gamma(df / 2, 1 / 2)`. */
export class Chi2 extends Gamma {
  /** `new Chi2(df)`: a tensor or a number, > 0. */
  constructor(df: Param, options: DistributionOptions = {}) {
    if (!(df instanceof Tensor) && (typeof df !== 'number' || Number.isNaN(df))) throw typeError('Chi2', 'df', 'a floating-point Tensor or a number', df);
    if (df instanceof Tensor && !isFloatingDType(df.dtype)) throw typeError('Chi2', 'df', 'a floating-point Tensor or a number', df);
    const half = df instanceof Tensor ? tidy(() => df.mul(0.5)) : 0.5 * df;
    try {
      super(half, 0.5, options);
    } finally {
      if (half instanceof Tensor) half.dispose();
    }
  }

  /** @internal */
  protected expanded(batchShape: number[]): Chi2 {
    const df = this.df;
    try {
      return this.expandParams(batchShape, [df], (d) => new Chi2(d, NO_CHECK));
    } finally {
      df.dispose();
    }
  }
  /** The degrees of freedom, `2 · concentration`. */
  get df(): Tensor {
    return this.concentration.mul(2);
  }
}

/** Checks that each vector along `v`'s last dimension is >= 0 and sums to 1 (PyTorch's `simplex`, within 1e-6). */
function onSimplex(op: string, v: Tensor): void {
  if (v.shape.length < 1) throw typeError(op, 'value', 'a Tensor of at least one dimension (its last holds the categories)', v);
  refuseVectors(op, 'value', 'lie on the simplex (values >= 0 summing to 1 along the last dimension)', v, () =>
    v.lt(0).logicalOr(v.isnan()).any(-1).logicalOr(v.sum(-1).sub(1).abs().ge(1e-6)),
  );
}

/** Dirichlet sampling with PyTorch's reparameterisation gradient (its `_Dirichlet` function). */
class _Dirichlet extends Function {
  static forward(ctx: FunctionCtx, concentration: Tensor, generator: unknown): Tensor {
    const x = new Tensor(N.sample('sampleDirichlet', generatorHandle('Dirichlet.rsample', generator as never), concentration.handle));
    ctx.saveForBackward(x, concentration);
    return x;
  }
  static backward(ctx: FunctionCtx, grad: Tensor | null): (Tensor | null)[] {
    const [x, concentration] = ctx.savedTensors;
    if (grad === null) return [null, null];
    const total = concentration.sum(-1, true).expand(concentration.shape);
    const g = new Tensor(N.dirichletGrad(x.handle, concentration.handle, total.handle));
    return [g.mul(grad.sub(x.mul(grad).sum(-1, true))), null];
  }
}

/**
 * Dirichlet distributions over the probability simplex, as `torch.distributions.Dirichlet`: `concentration`'s last
 * dimension holds the K categories (the event), the others are the batch.
 */
export class Dirichlet extends Distribution {
  /** The concentrations (> 0), `[...batchShape, K]`. */
  readonly concentration: Tensor;
  /** Dirichlet samples are reparameterised. */
  readonly hasRsample = true;

  /** `new Dirichlet(concentration)`: a floating-point tensor of at least one dimension, > 0. */
  constructor(concentration: Tensor, options: DistributionOptions = {}) {
    const op = 'Dirichlet';
    if (!(concentration instanceof Tensor) || concentration.shape.length < 1) {
      throw typeError(op, 'concentration', 'a Tensor of at least one dimension (its last holds the categories)', concentration);
    }
    if (!isFloatingDType(concentration.dtype)) throw typeError(op, 'concentration', 'a floating-point Tensor', concentration);
    super(op, concentration.shape.slice(0, -1), concentration.shape.slice(-1), options);
    const c = this.own(concentration.expand(concentration.shape));
    this.concentration = c;
    this.validate(() => positive(op, 'concentration', c));
  }

  /** @internal */
  protected expanded(batchShape: number[]): Dirichlet {
    return this.expandParams(batchShape, [this.concentration], (c) => new Dirichlet(c, NO_CHECK));
  }

  /** `α / Σα`. */
  get mean(): Tensor {
    return tidy(() => this.concentration.div(this.concentration.sum(-1, true)));
  }
  /**
   * `(α − 1) / Σ(α − 1)` with α − 1 clamped at 0; where every α < 1 (the density peaks at the corners), the one-hot
   * vector of the largest of those (NaN ties give the first), as PyTorch.
   */
  get mode(): Tensor {
    return tidy(() => {
      const a = this.concentration;
      const m1 = a.sub(1).clamp(0);
      const mode = m1.div(m1.sum(-1, true));
      const corner = oneHot(mode.argmax(-1), a.shape[a.ndim - 1]).to(a.dtype);
      return where(a.lt(1).all(-1, true), corner, mode);
    });
  }
  /** `α (α₀ − α) / (α₀² (α₀ + 1))`, α₀ = Σα. */
  get variance(): Tensor {
    return tidy(() => {
      const c = this.concentration;
      const c0 = c.sum(-1, true);
      return c.mul(c0.sub(c)).div(c0.pow(2).mul(c0.add(1)));
    });
  }

  /** Samples on the simplex, `[...sampleShape, ...batchShape, K]`; differentiable in `concentration`. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    return tidy(() => _Dirichlet.apply(this.concentration.expand(shape), options.generator) as Tensor);
  }

  /** `Σ (α − 1) log x + log Γ(Σα) − Σ log Γ(α)`, over the last dimension. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) onSimplex('Dirichlet.logProb', v);
    return tidy(() => {
      const c = this.concentration;
      return c.sub(1).xlogy(v).sum(-1).add(c.sum(-1).lgamma()).sub(c.lgamma().sum(-1));
    });
  }

  /** `Σ log Γ(α) − log Γ(α₀) − (K − α₀) ψ(α₀) − Σ (α − 1) ψ(α)`. */
  entropy(): Tensor {
    return tidy(() => {
      const c = this.concentration;
      const k = c.shape[c.shape.length - 1];
      const a0 = c.sum(-1);
      return c.lgamma().sum(-1).sub(a0.lgamma()).sub(a0.neg().add(k).mul(a0.digamma())).sub(c.sub(1).mul(c.digamma()).sum(-1));
    });
  }
}

/**
 * Beta distributions on `[0, 1]` with concentrations `concentration1` (α) and `concentration0` (β), as
 * `torch.distributions.Beta`: the first coordinate of a Dirichlet over `[α, β]`, which draws its samples.
 */
export class Beta extends Distribution {
  /** Beta samples are reparameterised. */
  readonly hasRsample = true;
  /** @internal the Dirichlet over `[α, β]` (PyTorch's `_dirichlet`). */
  private readonly dirichlet: Dirichlet;

  /** `new Beta(concentration1, concentration0)`: tensors or numbers, broadcast together; both > 0. */
  constructor(concentration1: Param, concentration0: Param, options: DistributionOptions = {}) {
    const [c1, c0] = broadcastAll('Beta', { concentration1, concentration0 });
    super('Beta', c1.shape, [], options);
    this.own(c1);
    this.own(c0);
    this.validate(() => {
      positive('Beta', 'concentration1', c1);
      positive('Beta', 'concentration0', c0);
    });
    const both = stack([c1, c0], -1);
    try {
      this.dirichlet = new Dirichlet(both, { validateArgs: false });
    } finally {
      both.dispose(); // the Dirichlet keeps a view of its own
    }
  }

  /** @internal */
  protected expanded(batchShape: number[]): Beta {
    const [c1, c0] = [this.concentration1, this.concentration0];
    try {
      return this.expandParams(batchShape, [c1, c0], (a, b) => new Beta(a, b, NO_CHECK));
    } finally {
      c1.dispose();
      c0.dispose();
    }
  }

  /** α, as a new handle. */
  get concentration1(): Tensor {
    return this.dirichlet.concentration.select(-1, 0);
  }
  /** β, as a new handle. */
  get concentration0(): Tensor {
    return this.dirichlet.concentration.select(-1, 1);
  }
  /** `α / (α + β)`. */
  get mean(): Tensor {
    return tidy(() => this.concentration1.div(this.dirichlet.concentration.sum(-1)));
  }
  /** The first component of the two-category Dirichlet's mode, as PyTorch. */
  get mode(): Tensor {
    return tidy(() => this.dirichlet.mode.select(-1, 0));
  }
  /** `αβ / ((α + β)² (α + β + 1))`. */
  get variance(): Tensor {
    return tidy(() => {
      const total = this.dirichlet.concentration.sum(-1);
      return this.concentration1.mul(this.concentration0).div(total.pow(2).mul(total.add(1)));
    });
  }

  /** The Dirichlet's samples' first coordinate; differentiable in both concentrations. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    this.extendedShape('rsample', sampleShape);
    return tidy(() => this.dirichlet.rsample(sampleShape, options).select(-1, 0));
  }

  /** The Dirichlet's log-density at `[x, 1 − x]`. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) refuse('Beta.logProb', 'value', 'in [0, 1]', v, () => v.lt(0).logicalOr(v.gt(1)).logicalOr(v.isnan()));
    return tidy(() => {
      const x = v.to(this.dirichlet.concentration.dtype);
      const [h, t] = broadcastAll('Beta.logProb', { heads: x, tails: x.neg().add(1) });
      return this.dirichlet.logProb(stack([h, t], -1));
    });
  }

  /** The Dirichlet's entropy. */
  entropy(): Tensor {
    return this.dirichlet.entropy();
  }

  /** Frees the parameter tensors, the Dirichlet's included. */
  dispose(): void {
    super.dispose();
    this.dirichlet?.dispose();
  }
}

/** Poisson distributions of rate `rate` over {0, 1, 2, ...}, as `torch.distributions.Poisson`. */
export class Poisson extends Distribution {
  /** The rates (>= 0). */
  readonly rate: Tensor;
  /** Poisson samples are discrete: no rsample. */
  readonly hasRsample = false;

  /** `new Poisson(rate)`: a tensor or a number, >= 0. */
  constructor(rate: Param, options: DistributionOptions = {}) {
    const [r] = broadcastAll('Poisson', { rate });
    super('Poisson', r.shape, [], options);
    this.rate = this.own(r);
    this.validate(() => refuse('Poisson', 'rate', '>= 0', r, () => r.lt(0).logicalOr(r.isnan())));
  }

  /** @internal */
  protected expanded(batchShape: number[]): Poisson {
    return this.expandParams(batchShape, [this.rate], (r) => new Poisson(r, NO_CHECK));
  }

  /** `rate`, as a new handle. */
  get mean(): Tensor {
    return this.rate.expand(this.rate.shape);
  }
  /** `⌊rate⌋`. */
  get mode(): Tensor {
    return this.rate.floor();
  }
  /** `rate`, as a new handle. */
  get variance(): Tensor {
    return this.rate.expand(this.rate.shape);
  }

  /** Counts (whole numbers in the rate's dtype), outside the graph: LibTorch's `poisson`. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('sample', sampleShape);
    return noGrad(() => tidy(() => new Tensor(N.sample('poisson', generatorHandle('Poisson.sample', options.generator), this.rate.expand(shape).handle))));
  }

  /** `k log rate − rate − log k!`; `value` whole numbers >= 0. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) {
      refuse('Poisson.logProb', 'value', 'that are whole numbers >= 0', v, () => {
        const f = v.to('float64');
        return f.lt(0).logicalOr(f.ne(f.floor()));
      });
    }
    return tidy(() => {
      const [r, k] = broadcastAll('Poisson.logProb', { rate: this.rate, value: v.to(this.rate.dtype) });
      return k.xlogy(r).sub(r).sub(k.add(1).lgamma());
    });
  }

  /** Not defined: PyTorch's Poisson has no entropy either. */
  entropy(): Tensor {
    throw new TypeError("Poisson.entropy is not defined (PyTorch's Poisson has none either)");
  }
}

registerKl(Exponential, Exponential, (p, q) =>
  tidy(() => {
    const ratio = q.rate.div(p.rate);
    return ratio.log().neg().add(ratio).sub(1);
  }),
);
registerKl(Gamma, Gamma, (p, q) =>
  tidy(() => {
    const t1 = q.concentration.mul(p.rate.div(q.rate).log());
    const t2 = q.concentration.lgamma().sub(p.concentration.lgamma());
    const t3 = p.concentration.sub(q.concentration).mul(p.concentration.digamma());
    const t4 = q.rate.sub(p.rate).mul(p.concentration.div(p.rate));
    return t1.add(t2).add(t3).add(t4);
  }),
);
registerKl(Dirichlet, Dirichlet, (p, q) => {
  if (p.eventShape[0] !== q.eventShape[0]) throw typeError('klDivergence', 'q', `a Dirichlet over p's ${p.eventShape[0]} categories`, `one over ${q.eventShape[0]}`);
  return tidy(() => {
    const sp = p.concentration.sum(-1);
    const sq = q.concentration.sum(-1);
    const t1 = sp.lgamma().sub(sq.lgamma());
    const t2 = p.concentration.lgamma().sub(q.concentration.lgamma()).sum(-1);
    const t3 = p.concentration.sub(q.concentration);
    const t4 = p.concentration.digamma().sub(sp.digamma().unsqueeze(-1));
    return t1.sub(t2).add(t3.mul(t4).sum(-1));
  });
});
registerKl(Beta, Beta, (p, q) =>
  tidy(() => {
    const [p1, p0, q1, q0] = [p.concentration1, p.concentration0, q.concentration1, q.concentration0];
    const sp = p1.add(p0);
    const sq = q1.add(q0);
    const t1 = q1.lgamma().add(q0.lgamma()).add(sp.lgamma());
    const t2 = p1.lgamma().add(p0.lgamma()).add(sq.lgamma());
    const t3 = p1.sub(q1).mul(p1.digamma());
    const t4 = p0.sub(q0).mul(p0.digamma());
    const t5 = sq.sub(sp).mul(sp.digamma());
    return t1.sub(t2).add(t3).add(t4).add(t5);
  }),
);
registerKl(Poisson, Poisson, (p, q) => tidy(() => p.rate.mul(p.rate.log().sub(q.rate.log())).sub(p.rate.sub(q.rate))));
