/**
 * Probability distributions, as PyTorch's `torch.distributions`: `Normal`, `Uniform`, `Bernoulli` and
 * `Categorical`, with `sample`, `rsample` (reparameterised, differentiable: Normal and Uniform), `logProb`,
 * `entropy`, `cdf`/`icdf` (Normal, Uniform), `mean`/`variance`/`stddev`, and `klDivergence` between two of the
 * same family. The formulas, shapes, and random draws are PyTorch's: with the same seed, `sample` on the CPU
 * draws the same numbers. The parameters are checked as PyTorch's `validate_args` does (on by default), and so are
 * the values given to `logProb`.
 *
 * ```ts
 * const policy = new distributions.Categorical({ logits });      // logits [B, A]
 * const action = policy.sample();                                 // [B], int64
 * const loss = policy.logProb(action).mul(advantage).neg().mean();
 * const q = new distributions.Normal(mu, sigma);                  // a VAE's posterior
 * const z = q.rsample();                                          // differentiable in mu and sigma
 * const kl = distributions.klDivergence(q, new distributions.Normal(0, 1)).sum();
 * ```
 *
 * A distribution's parameter tensors are new handles (views of what it was given, broadcast together) made where
 * it is constructed: a `tidy` scope around the construction frees them, and `dispose()` frees them sooner.
 */
import { noGrad } from './autograd';
import { rand, randn, tensor, where } from './creation';
import type { Generator } from './generator';
import { binaryCrossEntropyWithLogits } from './nn/losses';
import { logSoftmax, softplus } from './nn/functional';
import { Tensor } from './tensor';
import { tidy } from './scope';
import { checkBool, knownOptions, rangeError, typeError } from './validate';

/** A parameter: a floating-point Tensor, or a number (made a tensor of the other parameters' dtype and device). */
export type Param = Tensor | number;

/** Options every distribution takes. */
export interface DistributionOptions {
  /** Check the parameters at construction and the values given to `logProb`/`cdf`/`icdf` (default true, as PyTorch). */
  validateArgs?: boolean;
}

/** Options of `sample` and `rsample`. */
export interface SampleOptions {
  /** Draw from this generator instead of the process-wide default one. */
  generator?: Generator;
}

const FLOATS = ['float32', 'float64', 'float16', 'bfloat16'];
const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** NumPy's broadcasting of shapes; an error naming `op` when they do not broadcast. */
function broadcastShapes(op: string, shapes: number[][]): number[] {
  const n = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let size = 1;
    for (const s of shapes) {
      const d = s[s.length - n + i] ?? 1;
      if (d === 1) continue;
      if (size !== 1 && size !== d) throw rangeError(op, 'shapes', 'shapes that broadcast together', shapes.map(fmt).join(' and '));
      size = d;
    }
    out.push(size);
  }
  return out;
}

/** PyTorch's broadcast_all: the parameters as tensors of one dtype and device, expanded to their common shape. */
function broadcastAll(op: string, params: Record<string, Param>): Tensor[] {
  const entries = Object.entries(params);
  const first = entries.find(([, v]) => v instanceof Tensor)?.[1] as Tensor | undefined;
  for (const [name, v] of entries) {
    if (v instanceof Tensor) {
      if (!FLOATS.includes(v.dtype)) throw typeError(op, name, 'a floating-point Tensor or a number', v);
      if (first && (v.dtype !== first.dtype || v.device !== first.device)) {
        throw typeError(op, name, `a Tensor of the other parameters' dtype and device (${first.dtype} on ${first.device})`, `${v.dtype} on ${v.device}`);
      }
    } else if (typeof v !== 'number' || Number.isNaN(v)) {
      throw typeError(op, name, 'a floating-point Tensor or a number', v);
    }
  }
  const shape = broadcastShapes(op, entries.map(([, v]) => (v instanceof Tensor ? v.shape : [])));
  return entries.map(([, v]) => {
    if (v instanceof Tensor) return v.expand(shape);
    return tidy(() => tensor(v, { dtype: first?.dtype ?? 'float32', device: first?.device ?? 'cpu' }).expand(shape));
  });
}

/** Throws when `bad` (a bool tensor) has a true element: names the parameter, the constraint and the first value. */
function refuse(op: string, name: string, constraint: string, t: Tensor, bad: () => Tensor): void {
  tidy(() => {
    const b = bad();
    if (!b.any().item()) return;
    const at = (b.reshape([-1]).toArray() as Uint8Array).findIndex((x) => x !== 0);
    const value = (t.expand(b.shape).reshape([-1]).to('float64').toArray() as Float64Array)[at];
    throw new RangeError(`${op}: ${name} must hold values ${constraint}, but holds ${value} (flat index ${at} of shape ${fmt(b.shape)}); PyTorch's validate_args checks the same, and { validateArgs: false } skips it`);
  });
}

/** Checks a sample shape: an array of non-negative integers. */
function checkSampleShape(op: string, sampleShape: unknown): number[] {
  if (!Array.isArray(sampleShape) || !sampleShape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw typeError(op, 'sampleShape', 'an array of non-negative integers (e.g. [] or [16])', sampleShape);
  }
  return sampleShape as number[];
}

/** The base class of the distributions: the interface of `torch.distributions.Distribution`. */
export abstract class Distribution {
  /** The shape over which parameters are batched (PyTorch's `batch_shape`). */
  readonly batchShape: number[];
  /** The shape of one sample (PyTorch's `event_shape`): `[]` for the distributions here. */
  readonly eventShape: number[];
  /** Whether parameters and values are checked. */
  readonly validateArgs: boolean;
  /** True for distributions with a reparameterised, differentiable `rsample`. */
  abstract readonly hasRsample: boolean;
  /** @internal the tensors this distribution made (its parameters), freed by dispose(). */
  protected readonly owned: Tensor[] = [];
  /** @internal the class name in messages. */
  protected readonly op: string;

  /** @internal */
  protected constructor(op: string, batchShape: number[], eventShape: number[], options: DistributionOptions) {
    this.op = op;
    const o = knownOptions(op, options, ['validateArgs']);
    this.validateArgs = o.validateArgs === undefined ? true : checkBool(op, 'validateArgs', o.validateArgs);
    this.batchShape = batchShape;
    this.eventShape = eventShape;
  }

  /** The mean of each distribution of the batch. */
  abstract get mean(): Tensor;
  /** The variance. */
  abstract get variance(): Tensor;
  /** The standard deviation. */
  get stddev(): Tensor {
    return tidy(() => this.variance.sqrt());
  }

  /** Samples of shape `[...sampleShape, ...batchShape, ...eventShape]`, outside the autograd graph. */
  abstract sample(sampleShape?: number[], options?: SampleOptions): Tensor;

  /** Reparameterised samples: differentiable in the parameters. Only where `hasRsample`. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    void sampleShape;
    void options;
    throw new TypeError(`${this.op}.rsample: ${this.op} has no reparameterised sampling (hasRsample is false); use sample(), and a score-function estimator such as logProb(sample) for gradients`);
  }

  /** The log of the probability density or mass at `value`, per distribution of the batch. */
  abstract logProb(value: Tensor): Tensor;
  /** The cumulative distribution function at `value`. */
  cdf(value: Tensor): Tensor {
    void value;
    throw new TypeError(`${this.op}.cdf is not defined (PyTorch's ${this.op} has none either)`);
  }
  /** The inverse of `cdf`. */
  icdf(value: Tensor): Tensor {
    void value;
    throw new TypeError(`${this.op}.icdf is not defined (PyTorch's ${this.op} has none either)`);
  }
  /** The entropy of each distribution of the batch, in nats. */
  abstract entropy(): Tensor;

  /** `[...sampleShape, ...batchShape, ...eventShape]`. */
  protected extendedShape(op: string, sampleShape: unknown): number[] {
    return [...checkSampleShape(`${this.op}.${op}`, sampleShape), ...this.batchShape, ...this.eventShape];
  }

  /** @internal keeps a tensor this distribution made, to free it on dispose(). */
  protected own(t: Tensor): Tensor {
    this.owned.push(t);
    return t;
  }

  /** @internal runs a constructor's parameter checks (when validateArgs); a failing one frees what was made. */
  protected validate(check: () => void): void {
    if (!this.validateArgs) return;
    try {
      check();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** @internal checks that a method's `value` is a Tensor. */
  protected valueArg(method: string, value: unknown): Tensor {
    if (!(value instanceof Tensor)) throw typeError(`${this.op}.${method}`, 'value', 'a Tensor', value);
    return value;
  }

  /** Frees the parameter tensors this distribution holds. Idempotent. */
  dispose(): void {
    for (const t of this.owned) t.dispose();
  }

  /** `using d = new distributions.Normal(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

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
    this.validate(() => {
      refuse('Normal', 'loc', 'that are not NaN', l, () => l.isnan());
      refuse('Normal', 'scale', '> 0', s, () => s.le(0).logicalOr(s.isnan()));
    });
  }

  /** `loc`, as a new handle. */
  get mean(): Tensor {
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

  /** Samples `loc + scale · ε`, ε ~ N(0, 1), outside the graph. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    checkSampleShape(`${this.op}.sample`, sampleShape);
    return noGrad(() => this.rsample(sampleShape, options));
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

  /** `(low + high) / 2`. */
  get mean(): Tensor {
    return tidy(() => this.high.add(this.low).div(2));
  }
  /** `(high - low) / √12`. */
  get stddev(): Tensor {
    return tidy(() => this.high.sub(this.low).div(Math.sqrt(12)));
  }
  /** `(high - low)² / 12`. */
  get variance(): Tensor {
    return tidy(() => this.high.sub(this.low).square().div(12));
  }

  /** Samples outside the graph. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    checkSampleShape(`${this.op}.sample`, sampleShape);
    return noGrad(() => this.rsample(sampleShape, options));
  }

  /** `low + u · (high - low)` with u ~ U[0, 1): differentiable in `low` and `high`. */
  rsample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    const shape = this.extendedShape('rsample', sampleShape);
    return tidy(() => rand(shape, { dtype: this.low.dtype, device: this.low.device, generator: options.generator }).mul(this.high.sub(this.low)).add(this.low));
  }

  /** `-log(high - low)` inside `[low, high)`; outside it `-∞`, or an error while `validateArgs`. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    if (this.validateArgs) refuse('Uniform.logProb', 'value', 'in the support [low, high)', v, () => this.low.gt(v).logicalOr(this.high.le(v)));
    return tidy(() => this.low.le(v).logicalAnd(this.high.gt(v)).to(this.low.dtype).log().sub(this.high.sub(this.low).log()));
  }

  /** `(x - low) / (high - low)`, clamped to [0, 1]. */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    if (this.validateArgs) refuse('Uniform.cdf', 'value', 'in the support [low, high)', v, () => this.low.gt(v).logicalOr(this.high.le(v)));
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

function probsOrLogits(op: string, args: unknown): { probs?: Param; logits?: Param; validateArgs?: boolean } {
  if (args === null || typeof args !== 'object') throw typeError(op, 'options', '{ probs } or { logits }', args);
  const o = knownOptions(op, args, ['probs', 'logits', 'validateArgs']) as { probs?: Param; logits?: Param; validateArgs?: boolean };
  if ((o.probs === undefined) === (o.logits === undefined)) {
    throw typeError(op, 'options', 'exactly one of probs and logits', o.probs === undefined ? 'neither' : 'both');
  }
  return o;
}

/** PyTorch's clamp_probs: probabilities kept within [eps, 1 - eps] of the dtype. */
function clampProbs(p: Tensor): Tensor {
  const eps = p.dtype === 'float64' ? 2.220446049250313e-16 : p.dtype === 'float32' ? 1.1920928955078125e-7 : p.dtype === 'bfloat16' ? 0.0078125 : 0.0009765625;
  return p.clamp(eps, 1 - eps);
}

/** Bernoulli distributions over {0, 1}, as `torch.distributions.Bernoulli`: `new Bernoulli({ probs })` or `{ logits }`. */
export class Bernoulli extends Distribution {
  /** The probabilities of 1. */
  readonly probs: Tensor;
  /** The log-odds, `log p - log(1 - p)` (with p kept off 0 and 1 by the dtype's epsilon, as PyTorch). */
  readonly logits: Tensor;
  /** Bernoulli samples are discrete: no rsample. */
  readonly hasRsample = false;

  /** `new Bernoulli({ probs })` (in [0, 1]) or `new Bernoulli({ logits })`. */
  constructor(args: ProbsOrLogits) {
    const o = probsOrLogits('Bernoulli', args);
    const [given] = broadcastAll('Bernoulli', o.probs !== undefined ? { probs: o.probs } : { logits: o.logits as Param });
    super('Bernoulli', given.shape, [], { validateArgs: o.validateArgs });
    if (o.probs !== undefined) {
      this.probs = this.own(given);
      this.validate(() => refuse('Bernoulli', 'probs', 'in [0, 1]', given, () => given.lt(0).logicalOr(given.gt(1)).logicalOr(given.isnan())));
      this.logits = this.own(tidy(() => clampProbs(given).log().sub(clampProbs(given).neg().log1p())));
    } else {
      this.logits = this.own(given);
      this.validate(() => refuse('Bernoulli', 'logits', 'that are not NaN', given, () => given.isnan()));
      this.probs = this.own(given.sigmoid());
    }
  }

  /** `probs`, as a new handle. */
  get mean(): Tensor {
    return this.probs.expand(this.probs.shape);
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

  /** `new Categorical({ probs })` or `new Categorical({ logits })`, each of shape `[...batch, K]`. */
  constructor(args: ProbsOrLogits) {
    const o = probsOrLogits('Categorical', args);
    const given = o.probs ?? (o.logits as Param);
    const name = o.probs !== undefined ? 'probs' : 'logits';
    if (!(given instanceof Tensor) || given.shape.length < 1) throw typeError('Categorical', name, 'a Tensor of at least one dimension (its last holds the categories)', given);
    if (!FLOATS.includes(given.dtype)) throw typeError('Categorical', name, 'a floating-point Tensor', given);
    super('Categorical', given.shape.slice(0, -1), [], { validateArgs: o.validateArgs });
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

  /** Not defined for a categorical distribution: NaN, as PyTorch. */
  get mean(): Tensor {
    return tidy(() => this.probs.sum(-1).mul(Number.NaN));
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
      const bad = () => (FLOATS.includes(v.dtype) ? v.ne(v.floor()).logicalOr(v.lt(0)) : v.lt(0)).logicalOr(v.ge(this.numEvents));
      refuse('Categorical.logProb', 'value', `that are integers in [0, ${this.numEvents - 1}]`, v, bad);
    }
    const shape = broadcastShapes('Categorical.logProb', [v.shape, this.batchShape]);
    return tidy(() => {
      const idx = v.to('int64').reshape([...v.shape, 1]).expand([...shape, 1]);
      return this.logits.expand([...shape, this.numEvents]).gather(-1, idx).squeeze(-1);
    });
  }

  /** `-Σ p log p` over the categories (with log 0 taken as the dtype's lowest finite value, as PyTorch). */
  entropy(): Tensor {
    const lowest = this.logits.dtype === 'float64' ? -Number.MAX_VALUE : this.logits.dtype === 'float16' ? -65504 : -3.4028234663852886e38;
    return tidy(() => this.logits.clamp(lowest).mul(this.probs).sum(-1).neg());
  }
}

/** `KL(p ‖ q)` per distribution of the batch, for two of the same family (Normal, Uniform, Bernoulli, Categorical). */
export function klDivergence(p: Distribution, q: Distribution): Tensor {
  const op = 'klDivergence';
  if (!(p instanceof Distribution)) throw typeError(op, 'p', 'a distribution', p);
  if (!(q instanceof Distribution)) throw typeError(op, 'q', 'a distribution', q);
  if (p instanceof Normal && q instanceof Normal) {
    return tidy(() => {
      const ratio = p.scale.div(q.scale).square();
      const t1 = p.loc.sub(q.loc).div(q.scale).square();
      return ratio.add(t1).sub(1).sub(ratio.log()).mul(0.5);
    });
  }
  if (p instanceof Uniform && q instanceof Uniform) {
    return tidy(() => where(q.low.gt(p.low).logicalOr(q.high.lt(p.high)), Infinity, q.high.sub(q.low).div(p.high.sub(p.low)).log()));
  }
  if (p instanceof Bernoulli && q instanceof Bernoulli) {
    return tidy(() => {
      const t1 = p.probs.mul(softplus(q.logits.neg()).sub(softplus(p.logits.neg())));
      const t2 = p.probs.neg().add(1).mul(softplus(q.logits).sub(softplus(p.logits)));
      return where(p.probs.eq(0), 0, where(q.probs.eq(0), Infinity, t1)).add(where(p.probs.eq(1), 0, where(q.probs.eq(1), Infinity, t2)));
    });
  }
  if (p instanceof Categorical && q instanceof Categorical) {
    if (p.numEvents !== q.numEvents) throw rangeError(op, 'q', `a Categorical over p's ${p.numEvents} categories`, q.numEvents);
    return tidy(() => {
      const t = p.probs.mul(p.logits.sub(q.logits));
      return where(p.probs.eq(0).expand(t.shape), 0, where(q.probs.eq(0).expand(t.shape), Infinity, t)).sum(-1);
    });
  }
  const name = (d: Distribution) => d.constructor.name;
  throw new TypeError(`${op}: no formula for ${name(p)} ‖ ${name(q)} (known: Normal ‖ Normal, Uniform ‖ Uniform, Bernoulli ‖ Bernoulli, Categorical ‖ Categorical)`);
}
