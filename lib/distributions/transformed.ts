// torch.distributions' TransformedDistribution (a base distribution pushed through invertible elementwise
// transforms) and the two families PyTorch builds on it: LogNormal (Normal through exp) and Gumbel (Uniform
// through four maps), with their KL formulas.
import { noGrad } from '../autograd';
import { fullLike, onesLike, where, zerosLike } from '../creation';
import { finfo } from '../dtype';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { knownOptions, rangeError, typeError } from '../validate';
import { Normal, Uniform } from './basic';
import { Exponential } from './gamma';
import { Cauchy } from './location-scale';
import {
  Distribution,
  NO_CHECK,
  broadcastAll,
  checkLocScale,
  fmt,
  klDivergence,
  positive,
  refuse,
  registerKl,
  sumRightmost,
  type DistributionOptions,
  type Param,
  type SampleOptions,
} from './distribution';
import { AbsTransform, AffineTransform, ExpTransform, PowerTransform, Transform, positive as positiveSet, type Constraint } from './transforms';

/** Euler–Mascheroni γ, as PyTorch's `euler_constant`. */
const EULER = 0.5772156649015329;

/**
 * A distribution pushed through invertible elementwise transforms, as `torch.distributions.TransformedDistribution`:
 * samples are `f_n(…f_1(x))` for x drawn from `base`, and `logProb(y)` is the base's log-density at the inverse
 * image minus the log-Jacobians. Where a transform's parameters broadcast the base's batch larger, the base is
 * expanded to it (`expand`), as PyTorch's. It takes `base` over: `dispose()` disposes it; the transforms'
 * parameters stay the caller's.
 *
 * ```ts
 * // a logistic distribution: logit of a uniform, scaled
 * const logistic = new TransformedDistribution(new Uniform(0, 1), [new SigmoidTransform().inv, new AffineTransform(a, b)]);
 * ```
 */
export class TransformedDistribution extends Distribution {
  /** The distribution transformed. */
  readonly baseDist: Distribution;
  /** The transforms, applied first to last. */
  readonly transforms: readonly Transform[];
  /** Whether the base's samples are reparameterised (the transforms are differentiable). */
  readonly hasRsample: boolean;
  /** @internal the base as given, where `baseDist` is its expansion (disposed with this one too). */
  private readonly givenBase: Distribution | null;

  /** `new TransformedDistribution(base, transform | [transforms])`. */
  constructor(base: Distribution, transforms: Transform | Transform[], options: DistributionOptions = {}) {
    const op = new.target.name;
    if (!(base instanceof Distribution)) throw typeError(op, 'baseDistribution', 'a distribution', base);
    const list = transforms instanceof Transform ? [transforms] : transforms;
    if (!Array.isArray(list) || !list.every((t) => t instanceof Transform)) {
      throw typeError(op, 'transforms', 'a Transform or an array of Transforms', transforms);
    }
    const out = list.reduce((s, t) => t.forwardShape(s), [...base.batchShape, ...base.eventShape]);
    const cut = out.length - base.eventShape.length;
    if (fmt(out.slice(cut)) !== fmt(base.eventShape)) {
      throw rangeError(op, 'transforms', `transforms whose parameters keep the base distribution's event shape ${fmt(base.eventShape)}`, `transforms that broadcast its shape to ${fmt(out)}`);
    }
    const batch = out.slice(0, cut);
    super(op, batch, base.eventShape, options);
    this.givenBase = fmt(batch) === fmt(base.batchShape) ? null : base;
    this.baseDist = this.givenBase ? base.expand(batch) : base;
    this.transforms = Object.freeze([...list]);
    this.hasRsample = base.hasRsample;
  }

  /** @internal */
  protected expanded(batchShape: number[]): TransformedDistribution {
    const base = this.baseDist;
    return new TransformedDistribution(base.expand(batchShape), [...this.transforms], NO_CHECK);
  }

  /** Not defined in general (PyTorch's raises too); LogNormal and Gumbel give theirs. */
  get mean(): Tensor {
    throw new TypeError(`${this.op}.mean is not defined for a general TransformedDistribution (PyTorch's raises NotImplementedError too)`);
  }
  /** Not defined in general. */
  get variance(): Tensor {
    throw new TypeError(`${this.op}.variance is not defined for a general TransformedDistribution (PyTorch's raises NotImplementedError too)`);
  }
  /** Not defined in general. */
  entropy(): Tensor {
    throw new TypeError(`${this.op}.entropy is not defined for a general TransformedDistribution (PyTorch's raises NotImplementedError too)`);
  }

  /** The base's samples through the transforms, outside the autograd graph. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    return noGrad(() => tidy(() => this.transforms.reduce((x, t) => t.map(x), this.baseDist.sample(sampleShape, options))));
  }
  /** The base's reparameterised samples through the transforms: differentiable in the parameters. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    return tidy(() => this.transforms.reduce((x, t) => t.map(x), this.baseDist.rsample(sampleShape, options)));
  }

  /** The base's log-density at the inverse image, minus each transform's log-Jacobian (summed over the event). */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    this.checkSupport('logProb', v);
    const eventDim = this.eventShape.length;
    return tidy(() => {
      let y = v;
      let lp: Tensor | null = null;
      for (const t of [...this.transforms].reverse()) {
        const x = t.unmap(y);
        const term = sumRightmost(t.ladj(x, y), eventDim);
        lp = lp ? lp.sub(term) : term.neg();
        y = x;
      }
      const base = this.baseDist.logProb(y);
      return lp ? lp.add(base) : base;
    });
  }

  /** The base's cdf at the inverse image, flipped (`1 − F`) where the transforms decrease. */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    return tidy(() => this.monotonize(this.baseDist.cdf(this.transforms.reduceRight((y, t) => t.unmap(y), v))));
  }
  /** The transforms applied to the base's icdf (of `1 − p` where the transforms decrease). */
  icdf(value: Tensor): Tensor {
    const v = this.valueArg('icdf', value);
    return tidy(() => this.transforms.reduce((x, t) => t.map(x), this.baseDist.icdf(this.monotonize(v))));
  }

  /** Frees the base distribution and what this one made. */
  dispose(): void {
    this.baseDist.dispose();
    this.givenBase?.dispose();
    super.dispose();
  }

  /** @internal while validateArgs: `v` must lie in the support (PyTorch's `_validate_sample`). */
  protected checkSupport(method: string, v: Tensor): void {
    const s = this.support;
    if (this.validateArgs && s) refuse(`${this.op}.${method}`, 'value', s.describe, v, () => s.bad(v));
  }

  /** @internal the set values lie in: the last transform's codomain (none to check without transforms: the base checks its own). */
  protected get support(): Constraint | null {
    return this.transforms[this.transforms.length - 1]?.codomain ?? null;
  }

  /** PyTorch's `_monotonize_cdf`: `p` where the composed map increases, `1 − p` where it decreases. */
  private monotonize(p: Tensor): Tensor {
    let sign: number | Tensor = 1;
    for (const t of this.transforms) {
      const s = t.sign;
      sign = typeof sign === 'number' && typeof s === 'number' ? sign * s : typeof sign === 'number' ? (s as Tensor).mul(sign) : sign.mul(s);
    }
    if (sign === 1) return p;
    return p.sub(0.5).mul(sign).add(0.5);
  }
}

/**
 * Log-normal distributions: `exp(X)` for X ~ Normal(loc, scale), as `torch.distributions.LogNormal` (a
 * TransformedDistribution of a Normal through ExpTransform).
 */
export class LogNormal extends TransformedDistribution {
  /** `new LogNormal(loc, scale)`: the mean and standard deviation of the log; tensors or numbers; `scale` > 0. */
  constructor(loc: Param, scale: Param, options: DistributionOptions = {}) {
    knownOptions('LogNormal', options, ['validateArgs']);
    super(new Normal(loc, scale, options), new ExpTransform(), options);
  }

  /** @internal */
  protected expanded(batchShape: number[]): LogNormal {
    return this.expandParams(batchShape, [this.loc, this.scale], (l, s) => new LogNormal(l, s, NO_CHECK));
  }
  /** The mean of the log (the base Normal's `loc`). */
  get loc(): Tensor {
    return (this.baseDist as Normal).loc;
  }
  /** The standard deviation of the log (the base Normal's `scale`). */
  get scale(): Tensor {
    return (this.baseDist as Normal).scale;
  }
  /** `exp(loc + scale² / 2)`. */
  get mean(): Tensor {
    return tidy(() => this.loc.add(this.scale.pow(2).div(2)).exp());
  }
  /** `exp(loc − scale²)`. */
  get mode(): Tensor {
    return tidy(() => this.loc.sub(this.scale.square()).exp());
  }
  /** `(exp(scale²) − 1) · exp(2 loc + scale²)`. */
  get variance(): Tensor {
    return tidy(() => this.scale.pow(2).exp().sub(1).mul(this.loc.mul(2).add(this.scale.pow(2)).exp()));
  }
  /** The base Normal's entropy plus `loc`. */
  entropy(): Tensor {
    return tidy(() => this.baseDist.entropy().add(this.loc));
  }
}

/**
 * Gumbel (type-I extreme value) distributions of location `loc` and scale `scale`, density
 * `e^(−(z + e^(−z))) / scale` with `z = (x − loc) / scale`, as `torch.distributions.Gumbel`: a Uniform on
 * `[tiny, 1 − eps]` of the dtype through `−log`, negation, `−log` and `loc − scale · x`, so a seed draws PyTorch's
 * numbers. (PyTorch's cdf refuses values far in the upper tail, whose inverse image rounds to 1, outside that
 * Uniform's support; this one returns 1 there.)
 */
export class Gumbel extends TransformedDistribution {
  /** The locations (the modes). */
  readonly loc: Tensor;
  /** The scales (> 0). */
  readonly scale: Tensor;

  /** `new Gumbel(loc, scale)`: tensors or numbers, broadcast together; `scale` > 0. */
  constructor(loc: Param, scale: Param, options: DistributionOptions = {}) {
    knownOptions('Gumbel', options, ['validateArgs']);
    const [l, s] = broadcastAll('Gumbel', { loc, scale });
    const f = finfo(l.dtype);
    const made = [fullLike(l, f.tiny), fullLike(l, 1 - f.eps), fullLike(s, -1), s.neg()];
    const [lo, hi, negOnes, negScale] = made;
    const exp = new ExpTransform();
    super(new Uniform(lo, hi, { validateArgs: false }), [exp.inv, new AffineTransform(0, negOnes), exp.inv, new AffineTransform(l, negScale)], options);
    this.loc = this.own(l);
    this.scale = this.own(s);
    for (const t of made) this.own(t);
    this.validate(() => checkLocScale('Gumbel', l, s));
  }

  /** @internal */
  protected expanded(batchShape: number[]): Gumbel {
    return this.expandParams(batchShape, [this.loc, this.scale], (l, s) => new Gumbel(l, s, NO_CHECK));
  }

  /** `loc + scale · γ` (γ: Euler's constant). */
  get mean(): Tensor {
    return tidy(() => this.scale.mul(EULER).add(this.loc));
  }
  /** `loc`, as a new handle. */
  get mode(): Tensor {
    return this.loc.expand(this.loc.shape);
  }
  /** `π scale / √6`. */
  get stddev(): Tensor {
    return this.scale.mul(Math.PI / Math.sqrt(6));
  }
  /** `(π scale)² / 6`. */
  get variance(): Tensor {
    return tidy(() => this.stddev.pow(2));
  }
  /** `z − e^z − log scale` with `z = (loc − x) / scale` (PyTorch's direct form, more precise than the transforms'). */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    this.checkSupport('logProb', v);
    return tidy(() => {
      const z = this.loc.sub(v).div(this.scale);
      return z.sub(z.exp()).sub(this.scale.log());
    });
  }
  /** `log scale + 1 + γ`. */
  entropy(): Tensor {
    return tidy(() => this.scale.log().add(1 + EULER));
  }
}

/** PyTorch's `constraints.nonnegative`. */
const nonnegative: Constraint = { describe: 'in [0, ∞)', bad: (v) => v.ge(0).logicalNot() };

/**
 * @internal HalfNormal's and HalfCauchy's shared part: `|X|` for X of a base symmetric about 0, whose density on
 * [0, ∞) is twice the base's.
 */
abstract class Folded extends TransformedDistribution {
  constructor(base: Distribution, options: DistributionOptions) {
    super(base, new AbsTransform(), options);
  }
  /** The base's scale. */
  get scale(): Tensor {
    return (this.baseDist as Normal | Cauchy).scale;
  }
  /** 0. */
  get mode(): Tensor {
    return zerosLike(this.scale);
  }
  /** The base's log-density plus log 2 on [0, ∞); −∞ below. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    this.checkSupport('logProb', v);
    return tidy(() => where(v.ge(0), this.baseDist.logProb(v).add(Math.LN2), -Infinity));
  }
  /** `2 F(x) − 1`, F the base's cdf. */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    this.checkSupport('cdf', v);
    return tidy(() => this.baseDist.cdf(v).mul(2).sub(1));
  }
  /** The base's icdf at `(p + 1) / 2`. */
  icdf(value: Tensor): Tensor {
    const v = this.valueArg('icdf', value);
    return tidy(() => this.baseDist.icdf(v.add(1).div(2)));
  }
  /** The base's entropy minus log 2. */
  entropy(): Tensor {
    return tidy(() => this.baseDist.entropy().sub(Math.LN2));
  }
  /** @internal [0, ∞). */
  protected get support(): Constraint {
    return nonnegative;
  }
}

/**
 * Half-normal distributions: `|X|` for X ~ Normal(0, scale), as `torch.distributions.HalfNormal` (a
 * TransformedDistribution of a Normal through AbsTransform, with its own density on [0, ∞)).
 */
export class HalfNormal extends Folded {
  /** `new HalfNormal(scale)`: a tensor or a number, > 0. */
  constructor(scale: Param, options: DistributionOptions = {}) {
    knownOptions('HalfNormal', options, ['validateArgs']);
    super(new Normal(0, scale, NO_CHECK), options);
    this.validate(() => positive('HalfNormal', 'scale', this.scale));
  }
  /** @internal */
  protected expanded(batchShape: number[]): HalfNormal {
    return this.expandParams(batchShape, [this.scale], (s) => new HalfNormal(s, NO_CHECK));
  }
  /** `scale · √(2/π)`. */
  get mean(): Tensor {
    return this.scale.mul(Math.sqrt(2 / Math.PI));
  }
  /** `scale² (1 − 2/π)`. */
  get variance(): Tensor {
    return tidy(() => this.scale.pow(2).mul(1 - 2 / Math.PI));
  }
}

/**
 * Half-Cauchy distributions: `|X|` for X ~ Cauchy(0, scale), as `torch.distributions.HalfCauchy` (mean and
 * variance ∞, as PyTorch's).
 */
export class HalfCauchy extends Folded {
  /** `new HalfCauchy(scale)`: a tensor or a number, > 0. */
  constructor(scale: Param, options: DistributionOptions = {}) {
    knownOptions('HalfCauchy', options, ['validateArgs']);
    super(new Cauchy(0, scale, NO_CHECK), options);
    this.validate(() => positive('HalfCauchy', 'scale', this.scale));
  }
  /** @internal */
  protected expanded(batchShape: number[]): HalfCauchy {
    return this.expandParams(batchShape, [this.scale], (s) => new HalfCauchy(s, NO_CHECK));
  }
  /** ∞, as PyTorch. */
  get mean(): Tensor {
    return fullLike(this.scale, Infinity);
  }
  /** ∞ (the Cauchy's). */
  get variance(): Tensor {
    return this.baseDist.variance;
  }
}

/**
 * Pareto (type I) distributions of minimum `scale` and tail index `alpha`, density `α scale^α / x^(α+1)` on
 * `[scale, ∞)`, as `torch.distributions.Pareto` (an Exponential(alpha) through exp and a scaling).
 */
export class Pareto extends TransformedDistribution {
  /** The minima (> 0). */
  readonly scale: Tensor;
  /** The tail indices (> 0). */
  readonly alpha: Tensor;

  /** `new Pareto(scale, alpha)`: tensors or numbers, broadcast together; both > 0. */
  constructor(scale: Param, alpha: Param, options: DistributionOptions = {}) {
    knownOptions('Pareto', options, ['validateArgs']);
    const [s, a] = broadcastAll('Pareto', { scale, alpha });
    super(new Exponential(a, NO_CHECK), [new ExpTransform(), new AffineTransform(0, s)], options);
    this.scale = this.own(s);
    this.alpha = this.own(a);
    this.validate(() => {
      positive('Pareto', 'scale', s);
      positive('Pareto', 'alpha', a);
    });
  }

  /** @internal */
  protected expanded(batchShape: number[]): Pareto {
    return this.expandParams(batchShape, [this.scale, this.alpha], (s, a) => new Pareto(s, a, NO_CHECK));
  }

  /** `α scale / (α − 1)` (∞ for α <= 1). */
  get mean(): Tensor {
    return tidy(() => {
      const a = this.alpha.clamp(1);
      return a.mul(this.scale).div(a.sub(1));
    });
  }
  /** `scale`, as a new handle. */
  get mode(): Tensor {
    return this.scale.expand(this.scale.shape);
  }
  /** `scale² α / ((α − 1)² (α − 2))` (∞ for α <= 2). */
  get variance(): Tensor {
    return tidy(() => {
      const a = this.alpha.clamp(2);
      return this.scale.pow(2).mul(a).div(a.sub(1).pow(2).mul(a.sub(2)));
    });
  }
  /** `log(scale / α) + 1 + 1/α`. */
  entropy(): Tensor {
    return tidy(() => this.scale.div(this.alpha).log().add(this.alpha.reciprocal().add(1)));
  }
  /** @internal [scale, ∞). */
  protected get support(): Constraint {
    return { describe: 'at least scale', bad: (v) => v.ge(this.scale).logicalNot() };
  }
}

/**
 * Weibull distributions of scale `scale` and shape `concentration` (k), density
 * `(k/scale) (x/scale)^(k−1) e^(−(x/scale)^k)` on (0, ∞), as `torch.distributions.Weibull` (an Exponential(1)
 * through x^(1/k) and a scaling).
 */
export class Weibull extends TransformedDistribution {
  /** The scales (> 0). */
  readonly scale: Tensor;
  /** The shapes k (> 0). */
  readonly concentration: Tensor;

  /** `new Weibull(scale, concentration)`: tensors or numbers, broadcast together; both > 0. */
  constructor(scale: Param, concentration: Param, options: DistributionOptions = {}) {
    knownOptions('Weibull', options, ['validateArgs']);
    const [s, k] = broadcastAll('Weibull', { scale, concentration });
    const made = [k.reciprocal(), onesLike(s)];
    const [kInv, ones] = made;
    super(new Exponential(ones, NO_CHECK), [new PowerTransform(kInv), new AffineTransform(0, s)], options);
    this.scale = this.own(s);
    this.concentration = this.own(k);
    for (const t of made) this.own(t);
    this.validate(() => {
      positive('Weibull', 'scale', s);
      positive('Weibull', 'concentration', k);
    });
  }

  /** @internal */
  protected expanded(batchShape: number[]): Weibull {
    return this.expandParams(batchShape, [this.scale, this.concentration], (s, k) => new Weibull(s, k, NO_CHECK));
  }

  /** `scale · Γ(1 + 1/k)`. */
  get mean(): Tensor {
    return tidy(() => this.scale.mul(this.concentration.reciprocal().add(1).lgamma().exp()));
  }
  /** `scale ((k − 1)/k)^(1/k)` (NaN for k < 1, as PyTorch). */
  get mode(): Tensor {
    return tidy(() => {
      const k = this.concentration;
      return this.scale.mul(k.sub(1).div(k).pow(k.reciprocal()));
    });
  }
  /** `scale² (Γ(1 + 2/k) − Γ(1 + 1/k)²)`. */
  get variance(): Tensor {
    return tidy(() => {
      const r = this.concentration.reciprocal();
      return this.scale.pow(2).mul(r.mul(2).add(1).lgamma().exp().sub(r.add(1).lgamma().mul(2).exp()));
    });
  }
  /** `γ (1 − 1/k) + log(scale / k) + 1`. */
  entropy(): Tensor {
    return tidy(() => {
      const r = this.concentration.reciprocal();
      return r.neg().add(1).mul(EULER).add(this.scale.mul(r).log()).add(1);
    });
  }
  /** @internal (0, ∞). */
  protected get support(): Constraint {
    return positiveSet;
  }
}

registerKl(Pareto, Pareto, (p, q) =>
  tidy(() => {
    const scaleRatio = p.scale.div(q.scale);
    const alphaRatio = q.alpha.div(p.alpha);
    const kl = q.alpha.mul(scaleRatio.log()).sub(alphaRatio.log()).add(alphaRatio).sub(1);
    return where(p.scale.lt(q.scale), Infinity, kl);
  }),
);

registerKl(TransformedDistribution, TransformedDistribution, (p, q) => {
  const same = p.transforms.length === q.transforms.length && p.transforms.every((t, i) => t.equals(q.transforms[i]));
  if (!same) throw new TypeError(`klDivergence: ${p.constructor.name} ‖ ${q.constructor.name} needs the same transforms on both sides (then it is the KL of the bases); these differ`);
  if (fmt(p.eventShape) !== fmt(q.eventShape)) {
    throw new TypeError(`klDivergence: ${p.constructor.name} ‖ ${q.constructor.name} needs one event shape, got ${fmt(p.eventShape)} and ${fmt(q.eventShape)}`);
  }
  return klDivergence(p.baseDist, q.baseDist);
});

registerKl(Gumbel, Gumbel, (p, q) =>
  tidy(() => {
    const ct1 = p.scale.div(q.scale);
    const ct2 = q.loc.div(q.scale);
    const ct3 = p.loc.div(q.scale);
    const t1 = ct1.log().neg().sub(ct2).add(ct3);
    const t2 = ct1.mul(EULER);
    const t3 = ct2.add(ct1.add(1).lgamma()).sub(ct3).exp();
    return t1.add(t2).add(t3).sub(1 + EULER);
  }),
);
