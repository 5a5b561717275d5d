// torch.distributions' Gaussian, uniform and categorical families: Normal, Uniform, Bernoulli, Categorical,
// MultivariateNormal, and Independent, with their KL formulas.
import { noGrad } from '../autograd';
import { eye, fullLike, rand, randn, where } from '../creation';
import { finfo, isFloatingDType } from '../dtype';
import { cholesky, choleskyEx, inv, solveTriangular } from '../linalg';
import { binaryCrossEntropyWithLogits } from '../nn/losses';
import { logSoftmax, oneHot, softplus } from '../nn/functional';
import { Tensor } from '../tensor';
import { tidy } from '../scope';
import { knownOptions, rangeError, typeError } from '../validate';
import {
  Distribution,
  NO_CHECK,
  broadcastAll,
  broadcastOrThrow,
  checkLocScale,
  checkSampleShape,
  fmt,
  klDivergence,
  refuse,
  refuseVectors,
  registerKl,
  sumRightmost,
  type DistributionOptions,
  type Param,
  type SampleOptions,
} from './distribution';

/** Normal (Gaussian) distributions with mean `loc` and standard deviation `scale`, as `torch.distributions.Normal`. */
export class Normal extends Distribution {
  /** The means, broadcast with `scale`. */
  readonly loc: Tensor;
  /** The standard deviations, broadcast with `loc`. */
  readonly scale: Tensor;
  /** Normal samples are reparameterised. */
  readonly hasRsample = true;

  /** `new Normal(loc, scale)`: tensors or numbers, broadcast together; `scale` > 0. */
  constructor(loc: Param, scale: Param, options: DistributionOptions = {}) {
    const [l, s] = broadcastAll('Normal', { loc, scale });
    super('Normal', l.shape, [], options);
    this.loc = this.own(l);
    this.scale = this.own(s);
    this.validate(() => checkLocScale('Normal', l, s));
  }

  /** @internal */
  protected expanded(batchShape: number[]): Normal {
    return this.expandParams(batchShape, [this.loc, this.scale], (l, s) => new Normal(l, s, NO_CHECK));
  }

  /** `loc`, as a new handle. */
  get mean(): Tensor {
    return this.loc.expand(this.loc.shape);
  }
  /** `loc`, as a new handle. */
  get mode(): Tensor {
    return this.loc.expand(this.loc.shape);
  }
  /** `scale`, as a new handle. */
  get stddev(): Tensor {
    return this.scale.expand(this.scale.shape);
  }
  /** `scale²`. */
  get variance(): Tensor {
    return this.scale.square();
  }

  /** `loc + scale · ε` with ε ~ N(0, 1): differentiable in `loc` and `scale`. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    return tidy(() => randn(shape, { dtype: this.loc.dtype, device: this.loc.device, generator: options.generator }).mul(this.scale).add(this.loc));
  }

  /** `-(x - loc)² / (2 scale²) - log scale - log √(2π)`. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) refuse('Normal.logProb', 'value', 'that are not NaN', v, () => v.isnan());
    return tidy(() => v.sub(this.loc).square().div(this.variance.mul(2)).neg().sub(this.scale.log()).sub(Math.log(Math.sqrt(2 * Math.PI))));
  }

  /** `½ (1 + erf((x - loc) / (scale √2)))`. */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    return tidy(() => v.sub(this.loc).mul(this.scale.reciprocal()).div(Math.SQRT2).erf().add(1).mul(0.5));
  }

  /** `loc + scale · erfinv(2p - 1) · √2`, for p in [0, 1]. */
  icdf(value: Tensor): Tensor {
    const v = this.valueArg('icdf', value);
    if (this.validateArgs) refuse('Normal.icdf', 'value', 'in [0, 1]', v, () => v.lt(0).logicalOr(v.gt(1)));
    return tidy(() => v.mul(2).sub(1).erfinv().mul(Math.SQRT2).mul(this.scale).add(this.loc));
  }

  /** `½ + ½ log(2π) + log scale`. */
  entropy(): Tensor {
    return tidy(() => this.scale.log().add(0.5 + 0.5 * Math.log(2 * Math.PI)));
  }
}

/** Uniform distributions on `[low, high)`, as `torch.distributions.Uniform`. */
export class Uniform extends Distribution {
  /** The lower bounds, broadcast with `high`. */
  readonly low: Tensor;
  /** The upper bounds (excluded), broadcast with `low`. */
  readonly high: Tensor;
  /** Uniform samples are reparameterised. */
  readonly hasRsample = true;

  /** `new Uniform(low, high)`: tensors or numbers, broadcast together; `low < high`. */
  constructor(low: Param, high: Param, options: DistributionOptions = {}) {
    const [l, h] = broadcastAll('Uniform', { low, high });
    super('Uniform', l.shape, [], options);
    this.low = this.own(l);
    this.high = this.own(h);
    this.validate(() => refuse('Uniform', 'low', 'below high', l, () => l.ge(h).logicalOr(l.isnan()).logicalOr(h.isnan())));
  }

  /** @internal */
  protected expanded(batchShape: number[]): Uniform {
    return this.expandParams(batchShape, [this.low, this.high], (l, h) => new Uniform(l, h, NO_CHECK));
  }

  /** `(low + high) / 2`. */
  get mean(): Tensor {
    return tidy(() => this.high.add(this.low).div(2));
  }
  /** Not unique: NaN, as PyTorch. */
  get mode(): Tensor {
    return fullLike(this.high, Number.NaN);
  }
  /** `(high - low) / √12`. */
  get stddev(): Tensor {
    return tidy(() => this.high.sub(this.low).div(Math.sqrt(12)));
  }
  /** `(high - low)² / 12`. */
  get variance(): Tensor {
    return tidy(() => this.high.sub(this.low).square().div(12));
  }

  /** `low + u · (high - low)` with u ~ U[0, 1): differentiable in `low` and `high`. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    return tidy(() => rand(shape, { dtype: this.low.dtype, device: this.low.device, generator: options.generator }).mul(this.high.sub(this.low)).add(this.low));
  }

  /**
   * `-log(high - low)` inside `[low, high)`; outside it `-∞`, or an error while `validateArgs` (which, as PyTorch's,
   * accepts `high` itself, where the density is 0).
   */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) refuse('Uniform.logProb', 'value', 'in the support [low, high]', v, () => this.low.gt(v).logicalOr(this.high.lt(v)));
    return tidy(() => this.low.le(v).logicalAnd(this.high.gt(v)).to(this.low.dtype).log().sub(this.high.sub(this.low).log()));
  }

  /** `(x - low) / (high - low)`, clamped to [0, 1]. */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    if (this.validateArgs) refuse('Uniform.cdf', 'value', 'in the support [low, high]', v, () => this.low.gt(v).logicalOr(this.high.lt(v)));
    return tidy(() => v.sub(this.low).div(this.high.sub(this.low)).clamp(0, 1));
  }

  /** `low + p · (high - low)`. */
  icdf(value: Tensor): Tensor {
    const v = this.valueArg('icdf', value);
    if (this.validateArgs) refuse('Uniform.icdf', 'value', 'in [0, 1]', v, () => v.lt(0).logicalOr(v.gt(1)));
    return tidy(() => v.mul(this.high.sub(this.low)).add(this.low));
  }

  /** `log(high - low)`. */
  entropy(): Tensor {
    return tidy(() => this.high.sub(this.low).log());
  }
}

/** `{probs}` or `{logits}`: exactly one, as PyTorch's `probs=` / `logits=`. */
export type ProbsOrLogits = ({ probs: Param; logits?: undefined } | { logits: Param; probs?: undefined }) & DistributionOptions;

/** @internal */
export function probsOrLogits(op: string, args: unknown): { probs?: Param; logits?: Param; validateArgs?: boolean } {
  if (args === null || typeof args !== 'object') throw typeError(op, 'options', '{ probs } or { logits }', args);
  const o = knownOptions(op, args, ['probs', 'logits', 'validateArgs']) as { probs?: Param; logits?: Param; validateArgs?: boolean };
  if ((o.probs === undefined) === (o.logits === undefined)) {
    throw typeError(op, 'options', 'exactly one of probs and logits', o.probs === undefined ? 'neither' : 'both');
  }
  return o;
}

/** @internal PyTorch's clamp_probs: probabilities kept within [eps, 1 - eps] of the dtype. */
export function clampProbs(p: Tensor): Tensor {
  const eps = finfo(p.dtype).eps;
  return p.clamp(eps, 1 - eps);
}

/** @internal PyTorch's binary probs_to_logits: `log p − log(1 − p)`, with p clamped as clampProbs does. */
export function probsToLogits(p: Tensor): Tensor {
  return tidy(() => {
    const c = clampProbs(p);
    return c.log().sub(c.neg().log1p());
  });
}

/** Bernoulli distributions over {0, 1}, as `torch.distributions.Bernoulli`: `new Bernoulli({ probs })` or `{ logits }`. */
export class Bernoulli extends Distribution {
  /** The probabilities of 1. */
  readonly probs: Tensor;
  /** The log-odds, `log p - log(1 - p)` (with p kept off 0 and 1 by the dtype's epsilon, as PyTorch). */
  readonly logits: Tensor;
  /** Bernoulli samples are discrete: no rsample. */
  readonly hasRsample = false;
  /** @internal whether `probs` was given (else `logits`): what expand() broadcasts, as PyTorch. */
  private readonly fromProbs: boolean;

  /** `new Bernoulli({ probs })` (in [0, 1]) or `new Bernoulli({ logits })`. */
  constructor(args: ProbsOrLogits) {
    const o = probsOrLogits('Bernoulli', args);
    const [given] = broadcastAll('Bernoulli', o.probs !== undefined ? { probs: o.probs } : { logits: o.logits as Param });
    super('Bernoulli', given.shape, [], { validateArgs: o.validateArgs });
    this.fromProbs = o.probs !== undefined;
    if (o.probs !== undefined) {
      this.probs = this.own(given);
      this.validate(() => refuse('Bernoulli', 'probs', 'in [0, 1]', given, () => given.lt(0).logicalOr(given.gt(1)).logicalOr(given.isnan())));
      this.logits = this.own(probsToLogits(given));
    } else {
      this.logits = this.own(given);
      this.validate(() => refuse('Bernoulli', 'logits', 'that are not NaN', given, () => given.isnan()));
      this.probs = this.own(given.sigmoid());
    }
  }

  /** @internal */
  protected expanded(batchShape: number[]): Bernoulli {
    return this.expandParams(batchShape, [this.fromProbs ? this.probs : this.logits], (p) => new Bernoulli(this.fromProbs ? { probs: p, ...NO_CHECK } : { logits: p, ...NO_CHECK }));
  }

  /** `probs`, as a new handle. */
  get mean(): Tensor {
    return this.probs.expand(this.probs.shape);
  }
  /** 1 where `p > ½`, 0 where `p < ½`, NaN where `p = ½` (both are modes), as PyTorch. */
  get mode(): Tensor {
    return tidy(() => where(this.probs.eq(0.5), Number.NaN, this.probs.ge(0.5).to(this.probs.dtype)));
  }
  /** `p (1 - p)`. */
  get variance(): Tensor {
    return tidy(() => this.probs.mul(this.probs.neg().add(1)));
  }

  /** Samples (0 or 1, in the parameters' dtype), outside the graph. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('sample', sampleShape);
    return noGrad(() => tidy(() => this.probs.expand(shape).bernoulli({ generator: options.generator })));
  }

  /** `-binaryCrossEntropyWithLogits(logits, value)`; `value` 0 or 1, broadcast with the batch. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) refuse('Bernoulli.logProb', 'value', 'that are 0 or 1', v, () => v.ne(0).logicalAnd(v.ne(1)));
    return tidy(() => {
      const [l, x] = broadcastAll('Bernoulli.logProb', { logits: this.logits, value: v.to(this.logits.dtype) });
      return binaryCrossEntropyWithLogits(l, x, { reduction: 'none' }).neg();
    });
  }

  /** `binaryCrossEntropyWithLogits(logits, probs)`. */
  entropy(): Tensor {
    return binaryCrossEntropyWithLogits(this.logits, this.probs, { reduction: 'none' });
  }
}

/**
 * Categorical distributions over `{0, ..., K-1}`, as `torch.distributions.Categorical`: `new Categorical({ probs })`
 * (non-negative, normalised along the last dimension) or `{ logits }` (unnormalised log-probabilities). The last
 * dimension holds the K categories; the others are the batch.
 */
export class Categorical extends Distribution {
  /** The probabilities, normalised along the last dimension. */
  readonly probs: Tensor;
  /** The normalised log-probabilities (`logits - logsumexp(logits)`). */
  readonly logits: Tensor;
  /** Categorical samples are discrete: no rsample. */
  readonly hasRsample = false;
  /** K, the number of categories. */
  readonly numEvents: number;
  /** @internal whether `probs` was given (else `logits`): what expand() broadcasts, as PyTorch. */
  readonly fromProbs: boolean;

  /** `new Categorical({ probs })` or `new Categorical({ logits })`, each of shape `[...batch, K]`. */
  constructor(args: ProbsOrLogits) {
    const o = probsOrLogits('Categorical', args);
    const given = o.probs ?? (o.logits as Param);
    const name = o.probs !== undefined ? 'probs' : 'logits';
    if (!(given instanceof Tensor) || given.shape.length < 1) throw typeError('Categorical', name, 'a Tensor of at least one dimension (its last holds the categories)', given);
    if (!isFloatingDType(given.dtype)) throw typeError('Categorical', name, 'a floating-point Tensor', given);
    super('Categorical', given.shape.slice(0, -1), [], { validateArgs: o.validateArgs });
    this.fromProbs = o.probs !== undefined;
    this.numEvents = given.shape[given.shape.length - 1];
    if (o.probs !== undefined) {
      this.validate(() => {
        refuse('Categorical', 'probs', '>= 0', given, () => given.lt(0).logicalOr(given.isnan()));
        tidy(() => {
          const total = given.sum(-1);
          refuse('Categorical', 'probs', 'with a positive sum along the last dimension', total, () => total.le(0));
        });
      });
      this.probs = this.own(tidy(() => given.div(given.sum(-1, true))));
      this.logits = this.own(tidy(() => clampProbs(this.probs).log()));
    } else {
      this.validate(() => refuse('Categorical', 'logits', 'that are not NaN', given, () => given.isnan()));
      this.logits = this.own(logSoftmax(given, -1));
      this.probs = this.own(this.logits.exp());
    }
  }

  /** @internal */
  protected expanded(batchShape: number[]): Categorical {
    return this.expandParams(batchShape, [this.fromProbs ? this.probs : this.logits], (p) => new Categorical(this.fromProbs ? { probs: p, ...NO_CHECK } : { logits: p, ...NO_CHECK }));
  }

  /** Not defined for a categorical distribution: NaN, as PyTorch. */
  get mean(): Tensor {
    return tidy(() => this.probs.sum(-1).mul(Number.NaN));
  }
  /** The most likely category (the first of equals), int64. */
  get mode(): Tensor {
    return this.probs.argmax(-1);
  }
  /** Not defined for a categorical distribution: NaN, as PyTorch. */
  get variance(): Tensor {
    return tidy(() => this.probs.sum(-1).mul(Number.NaN));
  }

  /** Category indices (int64) of shape `[...sampleShape, ...batchShape]`, drawn with `multinomial` as PyTorch does. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('sample', sampleShape);
    const n = checkSampleShape('Categorical.sample', sampleShape).reduce((a, b) => a * b, 1);
    return noGrad(() => tidy(() => this.probs.reshape([-1, this.numEvents]).multinomial(n, true, { generator: options.generator }).transpose(0, 1).reshape(shape)));
  }

  /** The log-probability of each category index in `value` (integers, in any numeric dtype, broadcast with the batch). */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (v.dtype === 'bool') throw typeError('Categorical.logProb', 'value', 'a Tensor of category indices (integers, in any numeric dtype)', v);
    if (this.validateArgs) {
      const bad = () => (isFloatingDType(v.dtype) ? v.ne(v.floor()).logicalOr(v.lt(0)) : v.lt(0)).logicalOr(v.ge(this.numEvents));
      refuse('Categorical.logProb', 'value', `that are integers in [0, ${this.numEvents - 1}]`, v, bad);
    }
    const shape = broadcastOrThrow('Categorical.logProb', [v.shape, this.batchShape]);
    return tidy(() => {
      const idx = v.to('int64').reshape([...v.shape, 1]).expand([...shape, 1]);
      return this.logits.expand([...shape, this.numEvents]).gather(-1, idx).squeeze(-1);
    });
  }

  /** `-Σ p log p` over the categories (with log 0 taken as the dtype's lowest finite value, as PyTorch). */
  entropy(): Tensor {
    return tidy(() => this.logits.clamp(finfo(this.logits.dtype).min).mul(this.probs).sum(-1).neg());
  }
}

/**
 * Categorical distributions over one-hot vectors of size K, as `torch.distributions.OneHotCategorical`: a
 * Categorical whose samples and values are one-hot along a last (event) dimension. `new OneHotCategorical({ probs })`
 * or `{ logits }`, each `[...batch, K]`.
 */
export class OneHotCategorical extends Distribution {
  /** One-hot samples are discrete: no rsample. */
  readonly hasRsample = false;
  /** @internal the Categorical over the indices (PyTorch's `_categorical`). */
  readonly categorical: Categorical;

  /** `new OneHotCategorical({ probs })` or `new OneHotCategorical({ logits })`, each of shape `[...batch, K]`. */
  constructor(args: ProbsOrLogits) {
    const c = new Categorical(args);
    super('OneHotCategorical', c.batchShape, [c.numEvents], { validateArgs: c.validateArgs });
    this.categorical = c;
  }

  /** @internal */
  protected expanded(batchShape: number[]): OneHotCategorical {
    const c = this.categorical;
    return this.expandParams(batchShape, [c.fromProbs ? c.probs : c.logits], (p) => new OneHotCategorical(c.fromProbs ? { probs: p, ...NO_CHECK } : { logits: p, ...NO_CHECK }));
  }

  /** The probabilities, `[...batch, K]`. */
  get probs(): Tensor {
    return this.categorical.probs;
  }
  /** The normalised log-probabilities, `[...batch, K]`. */
  get logits(): Tensor {
    return this.categorical.logits;
  }
  /** `probs`, as a new handle. */
  get mean(): Tensor {
    return this.probs.expand(this.probs.shape);
  }
  /** The one-hot vector of the most likely category. */
  get mode(): Tensor {
    return tidy(() => oneHot(this.probs.argmax(-1), this.categorical.numEvents).to(this.probs.dtype));
  }
  /** `p (1 − p)`. */
  get variance(): Tensor {
    return tidy(() => this.probs.mul(this.probs.neg().add(1)));
  }

  /** One-hot samples `[...sampleShape, ...batch, K]` in the parameters' dtype, outside the graph. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    checkSampleShape('OneHotCategorical.sample', sampleShape);
    return noGrad(() => tidy(() => oneHot(this.categorical.sample(sampleShape, options), this.categorical.numEvents).to(this.probs.dtype)));
  }

  /** The log-probability of each one-hot vector in `value` (its last dimension the K categories). */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    const k = this.categorical.numEvents;
    if (v.ndim < 1 || v.shape[v.ndim - 1] !== k) throw rangeError('OneHotCategorical.logProb', 'value', `a Tensor whose last dimension is the ${k} categories`, fmt(v.shape));
    if (this.validateArgs) {
      refuse('OneHotCategorical.logProb', 'value', 'that are 0 or 1', v, () => v.ne(0).logicalAnd(v.ne(1)));
      refuseVectors('OneHotCategorical.logProb', 'value', 'hold one-hot vectors (exactly one 1 along the last dimension)', v, () => v.ne(0).sum(-1).ne(1));
    }
    return tidy(() => this.categorical.logProb(v.argmax(-1)));
  }
  /** The Categorical's entropy. */
  entropy(): Tensor {
    return this.categorical.entropy();
  }

  /** Frees the Categorical's tensors. */
  dispose(): void {
    this.categorical.dispose();
    super.dispose();
  }
}

/** The covariance given to `MultivariateNormal`: exactly one of the three, as PyTorch's keywords. */
export type CovarianceArgs = (
  | { covarianceMatrix: Tensor; precisionMatrix?: undefined; scaleTril?: undefined }
  | { precisionMatrix: Tensor; covarianceMatrix?: undefined; scaleTril?: undefined }
  | { scaleTril: Tensor; covarianceMatrix?: undefined; precisionMatrix?: undefined }
) &
  DistributionOptions;

/**
 * Multivariate normal distributions over vectors of size n, as `torch.distributions.MultivariateNormal`: `loc`
 * `[...batch, n]` with one of `covarianceMatrix` (positive-definite), `precisionMatrix` (its inverse) or
 * `scaleTril` (its lower Cholesky factor, with a positive diagonal), each `[...batch, n, n]`; batch dimensions
 * broadcast. Internally everything goes through the Cholesky factor, as PyTorch does.
 */
export class MultivariateNormal extends Distribution {
  /** The means, `[...batchShape, n]`. */
  readonly loc: Tensor;
  /** The lower Cholesky factor of the covariance, `[...batchShape, n, n]`. */
  readonly scaleTril: Tensor;
  /** Multivariate normal samples are reparameterised. */
  readonly hasRsample = true;
  /** The factor as given or computed, before broadcasting (PyTorch's `_unbroadcasted_scale_tril`). */
  private readonly tril: Tensor;

  /** `new MultivariateNormal(loc, { covarianceMatrix })`, `{ precisionMatrix }` or `{ scaleTril }`. */
  constructor(loc: Tensor, args: CovarianceArgs) {
    const op = 'MultivariateNormal';
    if (!(loc instanceof Tensor) || loc.shape.length < 1 || !isFloatingDType(loc.dtype)) {
      throw typeError(op, 'loc', 'a floating-point Tensor of at least one dimension (its last is the event)', loc);
    }
    if (args === null || typeof args !== 'object') throw typeError(op, 'options', 'one of { covarianceMatrix }, { precisionMatrix } or { scaleTril }', args);
    const o = knownOptions(op, args, ['covarianceMatrix', 'precisionMatrix', 'scaleTril', 'validateArgs']);
    const given = (['covarianceMatrix', 'precisionMatrix', 'scaleTril'] as const).filter((k) => o[k] !== undefined);
    if (given.length !== 1) throw typeError(op, 'options', 'exactly one of covarianceMatrix, precisionMatrix and scaleTril', given.length === 0 ? 'none' : given.join(' and '));
    const kind = given[0];
    const m = o[kind] as Tensor;
    const n = loc.shape[loc.shape.length - 1];
    if (!(m instanceof Tensor) || m.shape.length < 2) throw typeError(op, kind, 'a Tensor of at least two dimensions [...batch, n, n]', m);
    if (m.shape[m.shape.length - 1] !== n || m.shape[m.shape.length - 2] !== n) {
      throw rangeError(op, kind, `square matrices of loc's size n = ${n}: shape [..., ${n}, ${n}]`, fmt(m.shape));
    }
    if (m.dtype !== loc.dtype || m.device !== loc.device) throw typeError(op, kind, `a Tensor of loc's dtype and device (${loc.dtype} on ${loc.device})`, `${m.dtype} on ${m.device}`);
    const batch = broadcastOrThrow(op, [m.shape.slice(0, -2), loc.shape.slice(0, -1)]);
    super(op, batch, [n], { validateArgs: o.validateArgs as boolean | undefined });
    this.loc = this.own(loc.expand([...batch, n]));
    this.validate(() => refuse(op, 'loc', 'that are not NaN', loc, () => loc.isnan()));
    if (kind === 'scaleTril') {
      this.validate(() =>
        refuse(op, 'scaleTril', 'of lower-triangular matrices with a positive diagonal', null, () => {
          const notLower = m.tril().ne(m).reshape([...m.shape.slice(0, -2), -1]).any(-1);
          return notLower.logicalOr(m.diagonal(0, -2, -1).le(0).any(-1));
        }),
      );
      this.tril = this.own(m.expand(m.shape));
    } else {
      this.validate(() =>
        refuse(op, kind, 'of symmetric positive-definite matrices', null, () => {
          const asym = m.ne(m.transpose(-2, -1)).reshape([...m.shape.slice(0, -2), -1]).any(-1);
          return asym.logicalOr(choleskyEx(m).info.ne(0));
        }),
      );
      this.tril = this.own(tidy(() => (kind === 'covarianceMatrix' ? cholesky(m) : precisionToScaleTril(m))));
    }
    this.scaleTril = this.own(this.tril.expand([...batch, n, n]));
  }

  /** @internal */
  protected expanded(batchShape: number[]): MultivariateNormal {
    return this.expandParams(batchShape, [this.loc], (l) => new MultivariateNormal(l, { scaleTril: this.tril, ...NO_CHECK }));
  }

  /** `loc`, as a new handle. */
  get mean(): Tensor {
    return this.loc.expand(this.loc.shape);
  }
  /** `loc`, as a new handle. */
  get mode(): Tensor {
    return this.loc.expand(this.loc.shape);
  }
  /** The diagonal of the covariance, `[...batchShape, n]`. */
  get variance(): Tensor {
    return tidy(() => this.tril.square().sum(-1).expand([...this.batchShape, ...this.eventShape]));
  }
  /** `L Lᵀ`, `[...batchShape, n, n]`. */
  get covarianceMatrix(): Tensor {
    const n = this.eventShape[0];
    return tidy(() => this.tril.matmul(this.tril.transpose(-2, -1)).expand([...this.batchShape, n, n]));
  }
  /** The inverse of the covariance, `[...batchShape, n, n]`. */
  get precisionMatrix(): Tensor {
    const n = this.eventShape[0];
    return tidy(() => inv(this.tril.matmul(this.tril.transpose(-2, -1))).expand([...this.batchShape, n, n]));
  }

  /** `loc + L ε` with ε ~ N(0, I): differentiable in `loc` and the covariance. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    return tidy(() => {
      const eps = randn(shape, { dtype: this.loc.dtype, device: this.loc.device, generator: options.generator });
      return this.tril.matmul(eps.unsqueeze(-1)).squeeze(-1).add(this.loc);
    });
  }

  /** `-½ (n log 2π + ‖L⁻¹(x - loc)‖²) - log |L|`, for `value` `[..., n]` broadcast with the batch. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    const n = this.eventShape[0];
    if (v.shape[v.shape.length - 1] !== n) throw rangeError(`${this.op}.logProb`, 'value', `a Tensor whose last dimension is the event size ${n}`, fmt(v.shape));
    if (this.validateArgs) refuse(`${this.op}.logProb`, 'value', 'that are not NaN', v, () => v.isnan());
    return tidy(() => {
      const m = mahalanobis(this.tril, v.sub(this.loc));
      const halfLogDet = this.tril.diagonal(0, -2, -1).log().sum(-1);
      return m.add(n * Math.log(2 * Math.PI)).mul(-0.5).sub(halfLogDet);
    });
  }

  /** `½ n (1 + log 2π) + log |L|`. */
  entropy(): Tensor {
    const n = this.eventShape[0];
    return tidy(() => this.tril.diagonal(0, -2, -1).log().sum(-1).add(0.5 * n * (1 + Math.log(2 * Math.PI))).expand(this.batchShape));
  }

  /** @internal the factor before broadcasting (klDivergence uses it as PyTorch does). */
  get unbroadcastedScaleTril(): Tensor {
    return this.tril;
  }
}

/** `‖L⁻¹ x‖²` over the last dimension, batch dimensions broadcast (PyTorch's _batch_mahalanobis). */
function mahalanobis(L: Tensor, x: Tensor): Tensor {
  return tidy(() => {
    const batch = broadcastOrThrow('MultivariateNormal', [L.shape.slice(0, -2), x.shape.slice(0, -1)]);
    const n = L.shape[L.shape.length - 1];
    const y = solveTriangular(L.expand([...batch, n, n]), x.expand([...batch, n]).unsqueeze(-1), { upper: false });
    return y.squeeze(-1).square().sum(-1);
  });
}

/** PyTorch's _precision_to_scale_tril: the lower Cholesky factor of P⁻¹ without inverting P. */
function precisionToScaleTril(P: Tensor): Tensor {
  return tidy(() => {
    const Lf = cholesky(P.flip([-2, -1]));
    const LInv = Lf.flip([-2, -1]).transpose(-2, -1);
    const n = P.shape[P.shape.length - 1];
    return solveTriangular(LInv, eye(n, undefined, { dtype: P.dtype, device: P.device }), { upper: false });
  });
}

/**
 * Reinterprets the rightmost `reinterpretedBatchNdims` batch dimensions of `base` as event dimensions, as
 * `torch.distributions.Independent`: `new Independent(new Normal(mu, sigma), 1)` is a diagonal Gaussian over
 * vectors, whose `logProb` sums over them. It takes `base` over: `dispose()` disposes it.
 */
export class Independent extends Distribution {
  /** The distribution reinterpreted. */
  readonly baseDist: Distribution;
  /** How many of its batch dimensions became event dimensions. */
  readonly reinterpretedBatchNdims: number;
  /** Whether the base has a reparameterised rsample. */
  readonly hasRsample: boolean;

  /** `new Independent(base, reinterpretedBatchNdims)`. */
  constructor(base: Distribution, reinterpretedBatchNdims: number, options: DistributionOptions = {}) {
    const op = 'Independent';
    if (!(base instanceof Distribution)) throw typeError(op, 'baseDistribution', 'a distribution', base);
    const k = base.batchShape.length;
    if (!Number.isInteger(reinterpretedBatchNdims) || reinterpretedBatchNdims < 0 || reinterpretedBatchNdims > k) {
      throw rangeError(op, 'reinterpretedBatchNdims', `an integer in [0, ${k}] (the base's batch shape is ${fmt(base.batchShape)})`, reinterpretedBatchNdims);
    }
    const cut = k - reinterpretedBatchNdims;
    super(op, base.batchShape.slice(0, cut), [...base.batchShape.slice(cut), ...base.eventShape], options);
    this.baseDist = base;
    this.reinterpretedBatchNdims = reinterpretedBatchNdims;
    this.hasRsample = base.hasRsample;
  }

  /** @internal */
  protected expanded(batchShape: number[]): Independent {
    const base = this.baseDist;
    return new Independent(base.expand([...batchShape, ...base.batchShape.slice(base.batchShape.length - this.reinterpretedBatchNdims)]), this.reinterpretedBatchNdims, NO_CHECK);
  }

  /** The base's mean. */
  get mean(): Tensor {
    return this.baseDist.mean;
  }
  /** The base's mode. */
  get mode(): Tensor {
    return this.baseDist.mode;
  }
  /** The base's variance. */
  get variance(): Tensor {
    return this.baseDist.variance;
  }
  /** The base's samples. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    return this.baseDist.sample(sampleShape, options);
  }
  /** The base's reparameterised samples. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    return this.baseDist.rsample(sampleShape, options);
  }
  /** The base's log-probabilities summed over the reinterpreted dimensions. */
  logProb(value: Tensor): Tensor {
    return sumRightmost(this.baseDist.logProb(value), this.reinterpretedBatchNdims);
  }
  /** The base's entropies summed over the reinterpreted dimensions. */
  entropy(): Tensor {
    return sumRightmost(this.baseDist.entropy(), this.reinterpretedBatchNdims);
  }
  /** Disposes the base distribution. */
  dispose(): void {
    this.baseDist.dispose();
  }
}

registerKl(Normal, Normal, (p, q) =>
  tidy(() => {
    const ratio = p.scale.div(q.scale).square();
    const t1 = p.loc.sub(q.loc).div(q.scale).square();
    return ratio.add(t1).sub(1).sub(ratio.log()).mul(0.5);
  }),
);
registerKl(Uniform, Uniform, (p, q) =>
  tidy(() => where(q.low.gt(p.low).logicalOr(q.high.lt(p.high)), Infinity, q.high.sub(q.low).div(p.high.sub(p.low)).log())),
);
registerKl(Bernoulli, Bernoulli, (p, q) =>
  tidy(() => {
    const t1 = p.probs.mul(softplus(q.logits.neg()).sub(softplus(p.logits.neg())));
    const t2 = p.probs.neg().add(1).mul(softplus(q.logits).sub(softplus(p.logits)));
    return where(p.probs.eq(0), 0, where(q.probs.eq(0), Infinity, t1)).add(where(p.probs.eq(1), 0, where(q.probs.eq(1), Infinity, t2)));
  }),
);
registerKl(Categorical, Categorical, (p, q) => {
  if (p.numEvents !== q.numEvents) throw rangeError('klDivergence', 'q', `a Categorical over p's ${p.numEvents} categories`, q.numEvents);
  return tidy(() => {
    const t = p.probs.mul(p.logits.sub(q.logits));
    return where(p.probs.eq(0).expand(t.shape), 0, where(q.probs.eq(0).expand(t.shape), Infinity, t)).sum(-1);
  });
});
registerKl(OneHotCategorical, OneHotCategorical, (p, q) => klDivergence(p.categorical, q.categorical));
registerKl(MultivariateNormal, MultivariateNormal, (p, q) => {
  const op = 'klDivergence';
  if (p.eventShape[0] !== q.eventShape[0]) throw rangeError(op, 'q', `a MultivariateNormal over p's ${p.eventShape[0]} dimensions`, q.eventShape[0]);
  return tidy(() => {
    const pL = p.unbroadcastedScaleTril;
    const qL = q.unbroadcastedScaleTril;
    const halfTerm1 = qL.diagonal(0, -2, -1).log().sum(-1).sub(pL.diagonal(0, -2, -1).log().sum(-1));
    const n = p.eventShape[0];
    const batch = broadcastOrThrow(op, [qL.shape.slice(0, -2), pL.shape.slice(0, -2)]);
    const term2 = solveTriangular(qL.expand([...batch, n, n]), pL.expand([...batch, n, n]), { upper: false }).square().sum([-2, -1]);
    const term3 = mahalanobis(qL, q.loc.sub(p.loc));
    return halfTerm1.add(term2.add(term3).sub(n).mul(0.5));
  });
});
registerKl(Independent, Independent, (p, q) => {
  if (p.reinterpretedBatchNdims !== q.reinterpretedBatchNdims) {
    throw new TypeError(`klDivergence: Independent distributions with different reinterpretedBatchNdims (${p.reinterpretedBatchNdims} and ${q.reinterpretedBatchNdims}) have no formula here`);
  }
  return sumRightmost(klDivergence(p.baseDist, q.baseDist), p.reinterpretedBatchNdims);
});
