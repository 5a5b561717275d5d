// The base class of torch.distributions, the checks every distribution shares, and klDivergence's registry of
// formulas (PyTorch's register_kl): each family file registers its pairs.
import { noGrad } from '../autograd';
import { tensor } from '../creation';
import { isFloatingDType } from '../dtype';
import type { Generator } from '../generator';
import { Tensor } from '../tensor';
import { tidy } from '../scope';
import { broadcastShapes, checkBool, knownOptions, rangeError, typeError } from '../validate';

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

/** @internal the options an expanded copy is built with: its parameters were checked as the original's. */
export const NO_CHECK: DistributionOptions = Object.freeze({ validateArgs: false });

/** @internal */
export const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** @internal The shape `shapes` broadcast to; an error naming `op` when they do not broadcast. */
export function broadcastOrThrow(op: string, shapes: number[][]): number[] {
  const out = broadcastShapes(...shapes);
  if (!out) throw rangeError(op, 'shapes', 'shapes that broadcast together', shapes.map(fmt).join(' and '));
  return out;
}

/** @internal PyTorch's broadcast_all: the parameters as tensors of one dtype and device, expanded to their common shape. */
export function broadcastAll(op: string, params: Record<string, Param>): Tensor[] {
  const entries = Object.entries(params);
  const first = entries.find(([, v]) => v instanceof Tensor)?.[1] as Tensor | undefined;
  for (const [name, v] of entries) {
    if (v instanceof Tensor) {
      if (!isFloatingDType(v.dtype)) throw typeError(op, name, 'a floating-point Tensor or a number', v);
      if (first && (v.dtype !== first.dtype || v.device !== first.device)) {
        throw typeError(op, name, `a Tensor of the other parameters' dtype and device (${first.dtype} on ${first.device})`, `${v.dtype} on ${v.device}`);
      }
    } else if (typeof v !== 'number' || Number.isNaN(v)) {
      throw typeError(op, name, 'a floating-point Tensor or a number', v);
    }
  }
  const shape = broadcastOrThrow(op, entries.map(([, v]) => (v instanceof Tensor ? v.shape : [])));
  return entries.map(([, v]) => {
    if (v instanceof Tensor) return v.expand(shape);
    return tidy(() => tensor(v, { dtype: first?.dtype ?? 'float32', device: first?.device ?? 'cpu' }).expand(shape));
  });
}

/** How every validation message ends. */
const HINT = "; PyTorch's validate_args checks the same, and { validateArgs: false } skips it";

/** The flat index of the first true element of the bool tensor `b`, or -1 (the elements are read only when one is). */
function firstTrue(b: Tensor): number {
  if (!b.any().item()) return -1;
  return (b.reshape([-1]).toArray() as Uint8Array).findIndex((x) => x !== 0);
}

/**
 * @internal Throws when `bad` (a bool tensor) has a true element: names the parameter, the constraint and the first bad
 * value of `t`, or, with `t` null (a check per matrix), the first bad matrix.
 */
export function refuse(op: string, name: string, constraint: string, t: Tensor | null, bad: () => Tensor): void {
  tidy(() => {
    const b = bad();
    const at = firstTrue(b);
    if (at < 0) return;
    if (t === null) throw new RangeError(`${op}: ${name} must consist ${constraint}, but the matrix at flat batch index ${at} (batch shape ${fmt(b.shape)}) is not${HINT}`);
    const value = (t.expand(b.shape).reshape([-1]).to('float64').toArray() as Float64Array)[at];
    throw new RangeError(`${op}: ${name} must hold values ${constraint}, but holds ${value} (flat index ${at} of shape ${fmt(b.shape)})${HINT}`);
  });
}

/**
 * @internal Throws when `bad` (one bool per vector along `v`'s last dimension) has a true element: names the
 * constraint (`must …`) and prints the first bad vector, as its own dtype prints it.
 */
export function refuseVectors(op: string, name: string, constraint: string, v: Tensor, bad: () => Tensor): void {
  tidy(() => {
    const at = firstTrue(bad());
    if (at < 0) return;
    const row = v.reshape([-1, v.shape[v.ndim - 1]]).select(0, at).to('float64').toArray() as Float64Array;
    const digits = v.dtype === 'float64' ? 17 : 7;
    const shown = Array.from(row, (x) => Number(x.toPrecision(digits))).join(', ');
    throw new RangeError(`${op}: ${name} must ${constraint}, but the vector at flat batch index ${at} is [${shown}]${HINT}`);
  });
}

/** @internal Checks that the parameter `t` holds values > 0 (no NaN). */
export function positive(op: string, name: string, t: Tensor): void {
  refuse(op, name, '> 0', t, () => t.le(0).logicalOr(t.isnan()));
}

/** @internal Checks a location-scale family's parameters: `loc` not NaN, `scale` > 0. */
export function checkLocScale(op: string, loc: Tensor, scale: Tensor): void {
  refuse(op, 'loc', 'that are not NaN', loc, () => loc.isnan());
  positive(op, 'scale', scale);
}

/** @internal Checks a sample shape: an array of non-negative integers. */
export function checkSampleShape(op: string, sampleShape: unknown): number[] {
  if (!Array.isArray(sampleShape) || !sampleShape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw typeError(op, 'sampleShape', 'an array of non-negative integers (e.g. [] or [16])', sampleShape);
  }
  return sampleShape as number[];
}

/** The base class of the distributions: the interface of `torch.distributions.Distribution`. */
export abstract class Distribution {
  /** The shape over which parameters are batched (PyTorch's `batch_shape`). */
  readonly batchShape: number[];
  /** The shape of one sample (PyTorch's `event_shape`): `[]` for scalar distributions, `[n]` for a multivariate normal. */
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
  /** The mode (the most likely value) of each distribution of the batch, as PyTorch's `mode`. */
  get mode(): Tensor {
    throw new TypeError(`${this.op}.mode is not defined for this distribution (PyTorch's raises NotImplementedError too)`);
  }
  /** The standard deviation. */
  get stddev(): Tensor {
    return tidy(() => this.variance.sqrt());
  }

  /**
   * Samples of shape `[...sampleShape, ...batchShape, ...eventShape]`, outside the autograd graph: `rsample`'s
   * draws under noGrad, for the reparameterised distributions; the discrete ones draw their own.
   */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    checkSampleShape(`${this.op}.sample`, sampleShape);
    return noGrad(() => this.rsample(sampleShape, options));
  }

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

  /**
   * This distribution over the larger batch `batchShape` (one its batch shape broadcasts to), as PyTorch's
   * `expand`: a new distribution of the same class whose parameters are broadcast views of these (no copy),
   * checking values as this one does (`validateArgs`) without checking the parameters again. Each of the two is
   * disposed on its own.
   */
  expand(batchShape: number[]): this {
    const op = `${this.op}.expand`;
    if (!Array.isArray(batchShape) || !batchShape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw typeError(op, 'batchShape', 'an array of non-negative integers', batchShape);
    }
    const to = broadcastShapes(this.batchShape, batchShape);
    if (!to || fmt(to) !== fmt(batchShape)) throw rangeError(op, 'batchShape', `a shape the batch shape ${fmt(this.batchShape)} broadcasts to`, fmt(batchShape));
    const d = this.expanded([...batchShape]);
    if (d.constructor !== this.constructor) {
      d.dispose();
      throw new TypeError(`${op}: ${this.constructor.name} must override expanded(batchShape) to expand (the one it inherits makes a ${d.constructor.name})`);
    }
    (d as unknown as { validateArgs: boolean }).validateArgs = this.validateArgs;
    return d as this;
  }

  /** @internal the new distribution `expand` returns, built with NO_CHECK; each class gives its own. */
  protected expanded(batchShape: number[]): Distribution {
    void batchShape;
    throw new TypeError(`${this.op}.expand is not defined for this distribution`);
  }

  /**
   * @internal `make` called with views of `params` broadcast to `batchShape` (each keeps its dimensions after this
   * batch's, the event's); the views are freed after (what `make` builds holds its own).
   */
  protected expandParams<D extends Distribution>(batchShape: number[], params: Tensor[], make: (...views: Tensor[]) => D): D {
    const views = params.map((p) => p.expand([...batchShape, ...p.shape.slice(this.batchShape.length)]));
    try {
      return make(...views);
    } finally {
      for (const v of views) v.dispose();
    }
  }

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

/** @internal Sums (and disposes) `t` over its `n` rightmost dimensions. */
export function sumRightmost(t: Tensor, n: number): Tensor {
  if (n === 0) return t;
  const dims = Array.from({ length: n }, (_, i) => -1 - i);
  const out = t.sum(dims);
  t.dispose();
  return out;
}

/** A formula for `KL(p ‖ q)` per distribution of the batch. */
export type KlFunction<P extends Distribution = Distribution, Q extends Distribution = Distribution> = (p: P, q: Q) => Tensor;
/** A distribution class (its constructor), as `registerKl` takes it: `Normal`, or a subclass of your own. */
export type DistributionClass<D extends Distribution> = abstract new (...args: never[]) => D;
const KL_TABLE: { p: DistributionClass<Distribution>; q: DistributionClass<Distribution>; fn: KlFunction }[] = [];

/**
 * Registers the formula `klDivergence(p, q)` uses when `p` is a `P` and `q` a `Q` (subclasses included), as
 * PyTorch's `register_kl`: for several that match, the one whose classes are nearest to p's and q's (fewest
 * subclass steps, p's first), as PyTorch picks by the classes' method resolution order. A later registration of
 * the same pair replaces the earlier one.
 */
export function registerKl<P extends Distribution, Q extends Distribution>(typeP: DistributionClass<P>, typeQ: DistributionClass<Q>, fn: KlFunction<P, Q>): void {
  const op = 'registerKl';
  const isDistClass = (c: unknown) => typeof c === 'function' && (c === Distribution || c.prototype instanceof Distribution);
  if (!isDistClass(typeP)) throw typeError(op, 'typeP', 'a Distribution class', typeP);
  if (!isDistClass(typeQ)) throw typeError(op, 'typeQ', 'a Distribution class', typeQ);
  if (typeof fn !== 'function') throw typeError(op, 'fn', 'a function (p, q) => Tensor', fn);
  const at = KL_TABLE.findIndex((e) => e.p === typeP && e.q === typeQ);
  const entry = { p: typeP, q: typeQ, fn: fn as KlFunction };
  if (at >= 0) KL_TABLE[at] = entry;
  else KL_TABLE.push(entry);
}

/** Subclass steps from `obj`'s class up to `cls`, or -1 when obj is not a `cls`. */
function distance(obj: object, cls: DistributionClass<Distribution>): number {
  let n = 0;
  for (let proto = Object.getPrototypeOf(obj); proto !== null; proto = Object.getPrototypeOf(proto), n++) {
    if (proto === cls.prototype) return n;
  }
  return -1;
}

/**
 * `KL(p ‖ q)` per distribution of the batch, by the formula registered for their classes (`registerKl`):
 * Normal, Uniform, Bernoulli, Categorical, MultivariateNormal, Exponential, Gamma (and Chi2), Beta, Dirichlet and
 * Poisson with their own family, and Independent over a pair of those with the same number of reinterpreted
 * dimensions.
 */
export function klDivergence(p: Distribution, q: Distribution): Tensor {
  const op = 'klDivergence';
  if (!(p instanceof Distribution)) throw typeError(op, 'p', 'a distribution', p);
  if (!(q instanceof Distribution)) throw typeError(op, 'q', 'a distribution', q);
  let best: { fn: KlFunction; dp: number; dq: number } | null = null;
  for (const e of KL_TABLE) {
    const dp = distance(p, e.p);
    const dq = distance(q, e.q);
    if (dp < 0 || dq < 0) continue;
    if (!best || dp < best.dp || (dp === best.dp && dq < best.dq)) best = { fn: e.fn, dp, dq };
  }
  if (best) return best.fn(p, q);
  const name = (d: Distribution | DistributionClass<Distribution>) => (typeof d === 'function' ? d.name : d.constructor.name);
  const known = KL_TABLE.map((e) => `${name(e.p)} ‖ ${name(e.q)}`).join(', ');
  throw new TypeError(`${op}: no formula for ${name(p)} ‖ ${name(q)} (known: ${known}; registerKl adds one)`);
}
