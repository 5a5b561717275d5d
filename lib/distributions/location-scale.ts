// torch.distributions' heavier-tailed location-scale families: Laplace, Cauchy and StudentT, with their KL
// formulas. Their samplers are PyTorch's (uniform_, cauchy_, and a standard normal over a Chi2), so a seed draws
// PyTorch's numbers.
import { empty, fullLike, randn, where } from '../creation';
import { finfo } from '../dtype';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { Distribution, NO_CHECK, broadcastAll, checkLocScale, positive, refuse, registerKl, type DistributionOptions, type Param, type SampleOptions } from './distribution';
import { Chi2 } from './gamma';
import { real } from './transforms';

/**
 * Laplace (double exponential) distributions of location `loc` and scale `scale`, density
 * `e^(−|x − loc| / scale) / (2 scale)`, as `torch.distributions.Laplace`.
 */
export class Laplace extends Distribution {
  /** The locations (mean, median and mode). */
  readonly loc: Tensor;
  /** The scales (> 0). */
  readonly scale: Tensor;
  /** Laplace samples are reparameterised. */
  readonly hasRsample = true;

  /** `new Laplace(loc, scale)`: tensors or numbers, broadcast together; `scale` > 0. */
  constructor(loc: Param, scale: Param, options: DistributionOptions = {}) {
    const [l, s] = broadcastAll('Laplace', { loc, scale });
    super('Laplace', l.shape, [], options);
    this.loc = this.own(l);
    this.scale = this.own(s);
    this.validate(() => checkLocScale('Laplace', l, s));
  }

  /** @internal */
  protected expanded(batchShape: number[]): Laplace {
    return this.expandParams(batchShape, [this.loc, this.scale], (l, s) => new Laplace(l, s, NO_CHECK));
  }

  /** `loc`, as a new handle. */
  get mean(): Tensor {
    return this.loc.expand(this.loc.shape);
  }
  /** `loc`, as a new handle. */
  get mode(): Tensor {
    return this.loc.expand(this.loc.shape);
  }
  /** `2 scale²`. */
  get variance(): Tensor {
    return tidy(() => this.scale.pow(2).mul(2));
  }
  /** `√2 scale`. */
  get stddev(): Tensor {
    return this.scale.mul(Math.SQRT2);
  }

  /** `loc − scale · sign(u) · log(1 − |u|)` with u ~ U(eps − 1, 1): differentiable in `loc` and `scale`. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    const eps = finfo(this.loc.dtype).eps;
    return tidy(() => {
      const u = empty(shape, { dtype: this.loc.dtype, device: this.loc.device }).uniform_(eps - 1, 1, { generator: options.generator });
      return this.loc.sub(this.scale.mul(u.sign()).mul(u.abs().neg().log1p()));
    });
  }

  /** `−log(2 scale) − |x − loc| / scale`. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) refuse('Laplace.logProb', 'value', real.describe, v, () => real.bad(v));
    return tidy(() => this.scale.mul(2).log().neg().sub(v.sub(this.loc).abs().div(this.scale)));
  }
  /** `½ − ½ sign(x − loc) · expm1(−|x − loc| / scale)`. */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    if (this.validateArgs) refuse('Laplace.cdf', 'value', real.describe, v, () => real.bad(v));
    return tidy(() => {
      const d = v.sub(this.loc);
      return d.sign().mul(0.5).mul(d.abs().neg().div(this.scale).expm1()).neg().add(0.5);
    });
  }
  /** `loc − scale · sign(p − ½) · log(1 − 2|p − ½|)`. */
  icdf(value: Tensor): Tensor {
    const v = this.valueArg('icdf', value);
    return tidy(() => {
      const term = v.sub(0.5);
      return this.loc.sub(this.scale.mul(term.sign()).mul(term.abs().mul(-2).log1p()));
    });
  }
  /** `1 + log(2 scale)`. */
  entropy(): Tensor {
    return tidy(() => this.scale.mul(2).log().add(1));
  }
}

/**
 * Cauchy (Lorentz) distributions of median `loc` and half-width `scale`, density
 * `1 / (π scale (1 + ((x − loc) / scale)²))`, as `torch.distributions.Cauchy`: mean NaN and variance ∞, as PyTorch's.
 */
export class Cauchy extends Distribution {
  /** The medians (and modes). */
  readonly loc: Tensor;
  /** The half-widths at half maximum (> 0). */
  readonly scale: Tensor;
  /** Cauchy samples are reparameterised. */
  readonly hasRsample = true;

  /** `new Cauchy(loc, scale)`: tensors or numbers, broadcast together; `scale` > 0. */
  constructor(loc: Param, scale: Param, options: DistributionOptions = {}) {
    const [l, s] = broadcastAll('Cauchy', { loc, scale });
    super('Cauchy', l.shape, [], options);
    this.loc = this.own(l);
    this.scale = this.own(s);
    this.validate(() => checkLocScale('Cauchy', l, s));
  }

  /** @internal */
  protected expanded(batchShape: number[]): Cauchy {
    return this.expandParams(batchShape, [this.loc, this.scale], (l, s) => new Cauchy(l, s, NO_CHECK));
  }

  /** Undefined: NaN, as PyTorch. */
  get mean(): Tensor {
    return fullLike(this.loc, Number.NaN);
  }
  /** `loc`, as a new handle. */
  get mode(): Tensor {
    return this.loc.expand(this.loc.shape);
  }
  /** Infinite, as PyTorch. */
  get variance(): Tensor {
    return fullLike(this.loc, Infinity);
  }

  /** `loc + scale · c` with c drawn by `cauchy_`: differentiable in `loc` and `scale`. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    return tidy(() => empty(shape, { dtype: this.loc.dtype, device: this.loc.device }).cauchy_(0, 1, { generator: options.generator }).mul(this.scale).add(this.loc));
  }

  /** `−log π − log scale − log(1 + ((x − loc) / scale)²)`. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) refuse('Cauchy.logProb', 'value', real.describe, v, () => real.bad(v));
    return tidy(() => this.scale.log().neg().sub(Math.log(Math.PI)).sub(v.sub(this.loc).div(this.scale).pow(2).add(1).log()));
  }
  /** `atan((x − loc) / scale) / π + ½`. */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    if (this.validateArgs) refuse('Cauchy.cdf', 'value', real.describe, v, () => real.bad(v));
    return tidy(() => v.sub(this.loc).div(this.scale).atan().div(Math.PI).add(0.5));
  }
  /** `tan(π (p − ½)) · scale + loc`. */
  icdf(value: Tensor): Tensor {
    const v = this.valueArg('icdf', value);
    return tidy(() => v.sub(0.5).mul(Math.PI).tan().mul(this.scale).add(this.loc));
  }
  /** `log(4π) + log scale`. */
  entropy(): Tensor {
    return tidy(() => this.scale.log().add(Math.log(4 * Math.PI)));
  }
}

/**
 * Student's t distributions with `df` degrees of freedom, location `loc` and scale `scale`, as
 * `torch.distributions.StudentT`: samples are `loc + scale · X / √(Z / df)` with X ~ N(0, 1) and Z ~ Chi2(df),
 * differentiable in all three parameters.
 */
export class StudentT extends Distribution {
  /** The degrees of freedom (> 0). */
  readonly df: Tensor;
  /** The locations. */
  readonly loc: Tensor;
  /** The scales (> 0). */
  readonly scale: Tensor;
  /** StudentT samples are reparameterised. */
  readonly hasRsample = true;
  /** @internal the Chi2(df) the samples divide by (PyTorch's `_chi2`). */
  private readonly chi2: Chi2;

  /** `new StudentT(df, loc = 0, scale = 1)`: tensors or numbers, broadcast together; `df` > 0, `scale` > 0. */
  constructor(df: Param, loc: Param = 0, scale: Param = 1, options: DistributionOptions = {}) {
    const [d, l, s] = broadcastAll('StudentT', { df, loc, scale });
    super('StudentT', d.shape, [], options);
    this.df = this.own(d);
    this.loc = this.own(l);
    this.scale = this.own(s);
    this.validate(() => {
      positive('StudentT', 'df', d);
      checkLocScale('StudentT', l, s);
    });
    this.chi2 = new Chi2(d, { validateArgs: false });
  }

  /** @internal */
  protected expanded(batchShape: number[]): StudentT {
    return this.expandParams(batchShape, [this.df, this.loc, this.scale], (d, l, s) => new StudentT(d, l, s, NO_CHECK));
  }

  /** `loc` where `df > 1`, else NaN. */
  get mean(): Tensor {
    return tidy(() => where(this.df.le(1), Number.NaN, this.loc));
  }
  /** `loc`, as a new handle. */
  get mode(): Tensor {
    return this.loc.expand(this.loc.shape);
  }
  /** `scale² df / (df − 2)` where `df > 2`; ∞ where `1 < df ≤ 2`; NaN where `df ≤ 1`. */
  get variance(): Tensor {
    return tidy(() => {
      const d = this.df;
      const finite = this.scale.pow(2).mul(d).div(d.sub(2));
      return where(d.gt(2), finite, where(d.gt(1), Infinity, Number.NaN));
    });
  }

  /** `loc + scale · X · rsqrt(Z / df)`, X ~ N(0, 1) drawn first, then Z ~ Chi2(df), as PyTorch. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    return tidy(() => {
      const x = randn(shape, { dtype: this.df.dtype, device: this.df.device, generator: options.generator });
      const z = this.chi2.rsample(sampleShape, options);
      return this.scale.mul(x.mul(z.div(this.df).rsqrt())).add(this.loc);
    });
  }

  /** `−½ (df + 1) log(1 + y² / df) − log scale − ½ log df − ½ log π − lgamma(df / 2) + lgamma((df + 1) / 2)`, y = (x − loc) / scale. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) refuse('StudentT.logProb', 'value', real.describe, v, () => real.bad(v));
    return tidy(() => {
      const d = this.df;
      const y = v.sub(this.loc).div(this.scale);
      const z = this.scale.log().add(d.log().mul(0.5)).add(0.5 * Math.log(Math.PI)).add(d.mul(0.5).lgamma()).sub(d.add(1).mul(0.5).lgamma());
      return d.add(1).mul(-0.5).mul(y.pow(2).div(d).log1p()).sub(z);
    });
  }
  /** `log scale + ½ (df + 1) (ψ((df + 1) / 2) − ψ(df / 2)) + ½ log df + log B(df / 2, ½)`. */
  entropy(): Tensor {
    return tidy(() => {
      const d = this.df;
      const half = d.mul(0.5);
      const halfUp = d.add(1).mul(0.5);
      const lbeta = half.lgamma().add(LGAMMA_HALF).sub(halfUp.lgamma());
      return this.scale.log().add(d.add(1).mul(0.5).mul(halfUp.digamma().sub(half.digamma()))).add(d.log().mul(0.5)).add(lbeta);
    });
  }

  /** Frees the parameters and the Chi2 they share. */
  dispose(): void {
    this.chi2?.dispose();
    super.dispose();
  }
}

/** `log Γ(½) = ½ log π`. */
const LGAMMA_HALF = 0.5 * Math.log(Math.PI);

registerKl(Laplace, Laplace, (p, q) =>
  tidy(() => {
    const ratio = p.scale.div(q.scale);
    const diff = p.loc.sub(q.loc).abs();
    return ratio.log().neg().add(diff.div(q.scale)).add(ratio.mul(diff.neg().div(p.scale).exp())).sub(1);
  }),
);

registerKl(Cauchy, Cauchy, (p, q) =>
  tidy(() => {
    const t1 = p.scale.add(q.scale).pow(2).add(p.loc.sub(q.loc).pow(2)).log();
    const t2 = p.scale.mul(q.scale).mul(4).log();
    return t1.sub(t2);
  }),
);
