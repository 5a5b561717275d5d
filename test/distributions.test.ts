// torch.distributions (lib/distributions.ts): Normal, Uniform, Bernoulli, Categorical, MultivariateNormal, Independent
// and klDivergence against python3-torch's torch.distributions in float64 on the same inputs: logProb, cdf, icdf,
// entropy, moments and KL with the gradients of the parameters; rsample and sample with the same seed (the same
// draws, where python3's torch is the addon's version). Without Python: shapes, generators, validation errors, and
// no tensor left behind.
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, cat, distributions, eye, linalg, manualSeed, memory, nn, stack, tensor, tidy } from '../lib';
import { native } from '../lib/native';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { describeFunctionsAgainstTorch, type FCase } from './helpers/fcases';
import { inp, ints } from './helpers/specs';

const { Normal, Uniform, Bernoulli, Categorical, MultivariateNormal, Independent, Exponential, Gamma, Chi2, Beta, Dirichlet, Poisson, klDivergence } = distributions;
const D = 'torch.distributions';
/** A symmetric positive-definite matrix from any square `a`: a aᵀ + I, in both languages. */
const spd = (a: Tensor): Tensor => a.matmul(a.transpose(-2, -1)).add(eye(a.shape[a.shape.length - 1], undefined, { dtype: a.dtype }));
const SPD = (a: string) => `(${a} @ ${a}.mT + torch.eye(${a}.shape[-1], dtype=torch.float64))`;

const cases: FCase[] = [
  {
    name: 'Normal.logProb, value broadcast over the batch',
    inputs: { loc: inp([3], 1), scale: inp([3], 2, { positive: true }), x: inp([2, 3], 3, { grad: false, scale: 2 }) },
    py: `${D}.Normal(loc, scale).log_prob(x)`,
    ts: (t) => new Normal(t.loc, t.scale).logProb(t.x),
  },
  {
    name: 'Normal.cdf and icdf',
    inputs: { loc: inp([4], 4), scale: inp([4], 5, { positive: true }), x: inp([4], 6) },
    py: `torch.stack([${D}.Normal(loc, scale).cdf(x), ${D}.Normal(loc, scale).icdf(torch.sigmoid(x))])`,
    ts: (t) => {
      const n = new Normal(t.loc, t.scale);
      return stack([n.cdf(t.x), n.icdf(t.x.sigmoid())]);
    },
  },
  {
    name: 'Normal entropy, mean, stddev, variance',
    inputs: { loc: inp([2, 2], 7), scale: inp([2, 2], 8, { positive: true }) },
    py: `(lambda d: torch.stack([d.entropy(), d.mean, d.stddev, d.variance]))(${D}.Normal(loc, scale))`,
    ts: (t) => {
      const d = new Normal(t.loc, t.scale);
      return stack([d.entropy(), d.mean, d.stddev, d.variance]);
    },
  },
  {
    name: 'Normal.rsample draws what PyTorch draws with the same seed, differentiable in loc and scale',
    inputs: { loc: inp([3], 9), scale: inp([3], 10, { positive: true }) },
    py: `${D}.Normal(loc, scale).rsample((4,))`,
    ts: (t) => new Normal(t.loc, t.scale).rsample([4]),
    seed: 11,
    sameVersionOnly: true,
  },
  {
    name: 'Uniform.logProb, cdf, icdf, entropy and moments',
    inputs: { low: inp([3], 12), width: inp([3], 13, { positive: true }), u: inp([3], 14, { grad: false, positive: true }) },
    py: `(lambda d, x: torch.stack([d.log_prob(x), d.cdf(x), d.icdf(u / 2), d.entropy(), d.mean, d.stddev, d.variance]))(${D}.Uniform(low, low + width), low + width * u / 2)`,
    ts: (t) => {
      const d = new Uniform(t.low, t.low.add(t.width));
      const x = t.low.add(t.width.mul(t.u).div(2));
      return stack([d.logProb(x), d.cdf(x), d.icdf(t.u.div(2)), d.entropy(), d.mean, d.stddev, d.variance]);
    },
  },
  {
    name: 'Uniform.rsample with the same seed',
    inputs: { low: inp([2], 15), width: inp([2], 16, { positive: true }) },
    py: `${D}.Uniform(low, low + width).rsample((3,))`,
    ts: (t) => new Uniform(t.low, t.low.add(t.width)).rsample([3]),
    seed: 17,
    sameVersionOnly: true,
  },
  {
    name: 'Bernoulli from probs: logProb, entropy, mean, variance',
    inputs: { a: inp([2, 3], 18, { scale: 3 }), v: { ...ints([2, 3], 0, 2, 19), dtype: 'float64' } },
    py: `(lambda d: torch.stack([d.log_prob(v), d.entropy(), d.mean, d.variance]))(${D}.Bernoulli(probs=torch.sigmoid(a)))`,
    ts: (t) => {
      const d = new Bernoulli({ probs: t.a.sigmoid() });
      return stack([d.logProb(t.v), d.entropy(), d.mean, d.variance]);
    },
  },
  {
    name: 'Bernoulli from logits: logProb, entropy, probs',
    inputs: { a: inp([4], 20, { scale: 4 }), v: { ...ints([4], 0, 2, 21), dtype: 'float64' } },
    py: `(lambda d: torch.stack([d.log_prob(v), d.entropy(), d.probs]))(${D}.Bernoulli(logits=a))`,
    ts: (t) => {
      const d = new Bernoulli({ logits: t.a });
      return stack([d.logProb(t.v), d.entropy(), d.probs]);
    },
  },
  {
    name: 'Bernoulli.sample with the same seed',
    inputs: { a: inp([3, 2], 22, { grad: false }) },
    py: `${D}.Bernoulli(probs=torch.sigmoid(a)).sample((5,))`,
    ts: (t) => new Bernoulli({ probs: t.a.sigmoid() }).sample([5]),
    seed: 23,
    sameVersionOnly: true,
  },
  {
    name: 'Categorical from logits: logProb of indices broadcast over the batch, entropy, probs',
    inputs: { l: inp([2, 5], 24, { scale: 3 }), k: ints([3, 2], 0, 5, 25) },
    py: `(lambda d: torch.cat([d.log_prob(k).flatten(), d.entropy(), d.probs.flatten()]))(${D}.Categorical(logits=l))`,
    ts: (t) => {
      const d = new Categorical({ logits: t.l });
      return cat([d.logProb(t.k).reshape([-1]), d.entropy(), d.probs.reshape([-1])]);
    },
  },
  {
    name: 'Categorical from unnormalised probs: logProb, entropy, logits',
    inputs: { p: inp([3, 4], 26, { positive: true }), k: ints([3], 0, 4, 27) },
    py: `(lambda d: torch.cat([d.log_prob(k), d.entropy(), d.logits.flatten()]))(${D}.Categorical(probs=p))`,
    ts: (t) => {
      const d = new Categorical({ probs: t.p });
      return cat([d.logProb(t.k), d.entropy(), d.logits.reshape([-1])]);
    },
  },
  {
    name: 'Categorical.sample with the same seed',
    inputs: { l: inp([2, 6], 28, { grad: false, scale: 2 }) },
    py: `${D}.Categorical(logits=l).sample((4, 3))`,
    ts: (t) => new Categorical({ logits: t.l }).sample([4, 3]),
    seed: 29,
    sameVersionOnly: true,
  },
  {
    name: 'klDivergence Normal ‖ Normal',
    inputs: { m1: inp([3], 30), s1: inp([3], 31, { positive: true }), m2: inp([3], 32), s2: inp([3], 33, { positive: true }) },
    py: `${D}.kl_divergence(${D}.Normal(m1, s1), ${D}.Normal(m2, s2))`,
    ts: (t) => klDivergence(new Normal(t.m1, t.s1), new Normal(t.m2, t.s2)),
  },
  {
    name: 'klDivergence Bernoulli ‖ Bernoulli, Categorical ‖ Categorical',
    inputs: { a: inp([4], 34, { scale: 3 }), b: inp([4], 35, { scale: 3 }), l1: inp([2, 3], 36), l2: inp([2, 3], 37) },
    py: `torch.cat([${D}.kl_divergence(${D}.Bernoulli(logits=a), ${D}.Bernoulli(probs=torch.sigmoid(b))), ${D}.kl_divergence(${D}.Categorical(logits=l1), ${D}.Categorical(probs=torch.softmax(l2, -1)))])`,
    ts: (t) => cat([klDivergence(new Bernoulli({ logits: t.a }), new Bernoulli({ probs: t.b.sigmoid() })), klDivergence(new Categorical({ logits: t.l1 }), new Categorical({ probs: nn.functional.softmax(t.l2, -1) }))]),
  },
  {
    name: 'klDivergence Uniform ‖ Uniform, finite, and infinite where q does not cover p',
    inputs: { lo: inp([2], 38), w: inp([2], 39, { positive: true }) },
    py: `torch.stack([${D}.kl_divergence(${D}.Uniform(lo, lo + w), ${D}.Uniform(lo - 1, lo + w + 1)), torch.isinf(${D}.kl_divergence(${D}.Uniform(lo - 1, lo + w), ${D}.Uniform(lo, lo + w))).double()])`,
    ts: (t) =>
      stack([klDivergence(new Uniform(t.lo, t.lo.add(t.w)), new Uniform(t.lo.sub(1), t.lo.add(t.w).add(1))), klDivergence(new Uniform(t.lo.sub(1), t.lo.add(t.w)), new Uniform(t.lo, t.lo.add(t.w))).isinf().to('float64')]),
  },
  {
    name: 'MultivariateNormal from a covariance: logProb (value broadcast over a batch), entropy, variance, covarianceMatrix',
    inputs: { loc: inp([2, 3], 40), a: inp([3, 3], 41), x: inp([4, 1, 3], 42, { grad: false, scale: 2 }) },
    py: `(lambda d: torch.cat([d.log_prob(x).flatten(), d.entropy(), d.variance.flatten(), d.covariance_matrix.flatten()]))(${D}.MultivariateNormal(loc, covariance_matrix=${SPD('a')}))`,
    ts: (t) => {
      const d = new MultivariateNormal(t.loc, { covarianceMatrix: spd(t.a) });
      return cat([d.logProb(t.x).reshape([-1]), d.entropy(), d.variance.reshape([-1]), d.covarianceMatrix.reshape([-1])]);
    },
  },
  {
    name: 'MultivariateNormal from a precision matrix (batched) and from a scale_tril: logProb, scaleTril, precisionMatrix',
    inputs: { loc: inp([3], 43), a: inp([2, 3, 3], 44), x: inp([2, 3], 45, { grad: false }) },
    py: `(lambda d, e: torch.cat([d.log_prob(x), d.scale_tril.flatten(), e.log_prob(x), e.precision_matrix.flatten()]))(${D}.MultivariateNormal(loc, precision_matrix=${SPD('a')}), ${D}.MultivariateNormal(loc, scale_tril=torch.linalg.cholesky(${SPD('a')})))`,
    ts: (t) => {
      const d = new MultivariateNormal(t.loc, { precisionMatrix: spd(t.a) });
      const e = new MultivariateNormal(t.loc, { scaleTril: linalg.cholesky(spd(t.a)) });
      return cat([d.logProb(t.x), d.scaleTril.reshape([-1]), e.logProb(t.x), e.precisionMatrix.reshape([-1])]);
    },
    tol: 1e-9,
  },
  {
    name: 'MultivariateNormal.rsample with the same seed, differentiable in loc and the covariance',
    inputs: { loc: inp([2, 3], 46), a: inp([3, 3], 47) },
    py: `${D}.MultivariateNormal(loc, covariance_matrix=${SPD('a')}).rsample((2,))`,
    ts: (t) => new MultivariateNormal(t.loc, { covarianceMatrix: spd(t.a) }).rsample([2]),
    seed: 48,
    sameVersionOnly: true,
  },
  {
    name: 'klDivergence MultivariateNormal ‖ MultivariateNormal, batch shapes broadcast',
    inputs: { m1: inp([2, 3], 49), a1: inp([3, 3], 50), m2: inp([3], 51), a2: inp([2, 3, 3], 52) },
    py: `${D}.kl_divergence(${D}.MultivariateNormal(m1, covariance_matrix=${SPD('a1')}), ${D}.MultivariateNormal(m2, scale_tril=torch.linalg.cholesky(${SPD('a2')})))`,
    ts: (t) => klDivergence(new MultivariateNormal(t.m1, { covarianceMatrix: spd(t.a1) }), new MultivariateNormal(t.m2, { scaleTril: linalg.cholesky(spd(t.a2)) })),
  },
  {
    name: 'Independent over Normal: logProb and entropy summed over the event, KL of two',
    inputs: { m: inp([2, 4], 53), s: inp([2, 4], 54, { positive: true }), x: inp([3, 2, 4], 55, { grad: false }), m2: inp([4], 56) },
    py: `(lambda d: torch.cat([d.log_prob(x).flatten(), d.entropy(), ${D}.kl_divergence(d, ${D}.Independent(${D}.Normal(m2, s), 1))]))(${D}.Independent(${D}.Normal(m, s), 1))`,
    ts: (t) => {
      const d = new Independent(new Normal(t.m, t.s), 1);
      return cat([d.logProb(t.x).reshape([-1]), d.entropy(), klDivergence(d, new Independent(new Normal(t.m2, t.s), 1))]);
    },
  },
  {
    name: 'Exponential.logProb, cdf, icdf, entropy and moments',
    inputs: { rate: inp([3], 60, { positive: true }), x: inp([2, 3], 61, { positive: true, scale: 2 }), u: inp([3], 62, { grad: false, positive: true, scale: 0.8 }) },
    py: `(lambda d: torch.cat([d.log_prob(x).flatten(), d.cdf(x).flatten(), d.icdf(u), d.entropy(), d.mean, d.stddev, d.variance]))(${D}.Exponential(rate))`,
    ts: (t) => {
      const d = new Exponential(t.rate);
      return cat([d.logProb(t.x).reshape([-1]), d.cdf(t.x).reshape([-1]), d.icdf(t.u), d.entropy(), d.mean, d.stddev, d.variance]);
    },
  },
  {
    name: 'Exponential.rsample draws what PyTorch draws with the same seed, differentiable in rate',
    inputs: { rate: inp([3], 63, { positive: true }) },
    py: `${D}.Exponential(rate).rsample((4,))`,
    ts: (t) => new Exponential(t.rate).rsample([4]),
    seed: 64,
    sameVersionOnly: true,
  },
  {
    name: 'Gamma.logProb (value broadcast), entropy, mean, variance; Chi2 the same as Gamma(df/2, 1/2)',
    inputs: { c: inp([3], 65, { positive: true, scale: 3 }), r: inp([3], 66, { positive: true }), x: inp([2, 3], 67, { positive: true, scale: 2 }), df: inp([3], 68, { positive: true, scale: 4 }) },
    py: `(lambda d, e: torch.cat([d.log_prob(x).flatten(), d.entropy(), d.mean, d.variance, e.log_prob(x).flatten(), e.entropy(), e.mean, e.df]))(${D}.Gamma(c, r), ${D}.Chi2(df))`,
    ts: (t) => {
      const d = new Gamma(t.c, t.r);
      const e = new Chi2(t.df);
      return cat([d.logProb(t.x).reshape([-1]), d.entropy(), d.mean, d.variance, e.logProb(t.x).reshape([-1]), e.entropy(), e.mean, e.df]);
    },
  },
  {
    name: 'Gamma.cdf is torch.special.gammainc(concentration, rate · x), differentiable in rate and x (1.13 has no Gamma.cdf)',
    inputs: { c: inp([3], 96, { grad: false, positive: true, scale: 3 }), r: inp([3], 97, { positive: true }), x: inp([2, 3], 98, { positive: true, scale: 2 }) },
    py: `torch.special.gammainc(c, r * x)`,
    ts: (t) => new Gamma(t.c, t.r).cdf(t.x),
  },
  {
    name: 'Gamma.rsample with the same seed, differentiable in concentration (implicit gradient) and rate',
    inputs: { c: inp([4], 69, { positive: true, scale: 3 }), r: inp([4], 70, { positive: true }) },
    py: `${D}.Gamma(c, r).rsample((3,))`,
    ts: (t) => new Gamma(t.c, t.r).rsample([3]),
    seed: 71,
    sameVersionOnly: true,
  },
  {
    name: 'Dirichlet.logProb, entropy, mean, variance (a batch of 2 over 4 categories)',
    inputs: { c: inp([2, 4], 72, { positive: true, scale: 2 }), l: inp([3, 1, 4], 73, { grad: false }) },
    py: `(lambda d: torch.cat([d.log_prob(torch.softmax(l, -1)).flatten(), d.entropy(), d.mean.flatten(), d.variance.flatten()]))(${D}.Dirichlet(c))`,
    ts: (t) => {
      const d = new Dirichlet(t.c);
      return cat([d.logProb(nn.functional.softmax(t.l, -1)).reshape([-1]), d.entropy(), d.mean.reshape([-1]), d.variance.reshape([-1])]);
    },
  },
  {
    name: 'Dirichlet.rsample with the same seed, differentiable in the concentration',
    inputs: { c: inp([2, 3], 74, { positive: true, scale: 2 }) },
    py: `${D}.Dirichlet(c).rsample((2,))`,
    ts: (t) => new Dirichlet(t.c).rsample([2]),
    seed: 75,
    sameVersionOnly: true,
  },
  {
    name: 'Beta.logProb, entropy, mean, variance, concentrations',
    inputs: { a: inp([3], 76, { positive: true, scale: 3 }), b: inp([3], 77, { positive: true, scale: 2 }), x: inp([2, 3], 78, { grad: false, positive: true, scale: 0.85 }) },
    py: `(lambda d: torch.cat([d.log_prob(x).flatten(), d.entropy(), d.mean, d.variance, d.concentration1, d.concentration0]))(${D}.Beta(a, b))`,
    ts: (t) => {
      const d = new Beta(t.a, t.b);
      return cat([d.logProb(t.x).reshape([-1]), d.entropy(), d.mean, d.variance, d.concentration1, d.concentration0]);
    },
  },
  {
    name: 'Beta.rsample with the same seed, differentiable in both concentrations',
    inputs: { a: inp([3], 79, { positive: true, scale: 3 }), b: inp([3], 80, { positive: true, scale: 2 }) },
    py: `${D}.Beta(a, b).rsample((2,))`,
    ts: (t) => new Beta(t.a, t.b).rsample([2]),
    seed: 81,
    sameVersionOnly: true,
  },
  {
    name: 'Poisson.logProb (counts broadcast over the batch), mean, variance',
    inputs: { r: inp([4], 82, { positive: true, scale: 5 }), k: { ...ints([3, 4], 0, 9, 83), dtype: 'float64' } },
    py: `(lambda d: torch.cat([d.log_prob(k).flatten(), d.mean, d.variance]))(${D}.Poisson(r))`,
    ts: (t) => {
      const d = new Poisson(t.r);
      return cat([d.logProb(t.k).reshape([-1]), d.mean, d.variance]);
    },
  },
  {
    name: 'Poisson.sample with the same seed',
    inputs: { r: inp([5], 84, { grad: false, positive: true, scale: 8 }) },
    py: `${D}.Poisson(r).sample((3,))`,
    ts: (t) => new Poisson(t.r).sample([3]),
    seed: 85,
    sameVersionOnly: true,
  },
  {
    name: 'klDivergence Exponential, Gamma, Chi2 ‖ Gamma, Poisson',
    inputs: { r1: inp([3], 86, { positive: true }), r2: inp([3], 87, { positive: true }), c1: inp([3], 88, { positive: true, scale: 3 }), c2: inp([3], 89, { positive: true, scale: 3 }) },
    py: `torch.cat([${D}.kl_divergence(${D}.Exponential(r1), ${D}.Exponential(r2)), ${D}.kl_divergence(${D}.Gamma(c1, r1), ${D}.Gamma(c2, r2)), ${D}.kl_divergence(${D}.Chi2(c1), ${D}.Gamma(c2, r2)), ${D}.kl_divergence(${D}.Poisson(r1), ${D}.Poisson(r2))])`,
    ts: (t) =>
      cat([
        klDivergence(new Exponential(t.r1), new Exponential(t.r2)),
        klDivergence(new Gamma(t.c1, t.r1), new Gamma(t.c2, t.r2)),
        klDivergence(new Chi2(t.c1), new Gamma(t.c2, t.r2)),
        klDivergence(new Poisson(t.r1), new Poisson(t.r2)),
      ]),
  },
  {
    name: 'klDivergence Beta ‖ Beta, Dirichlet ‖ Dirichlet',
    inputs: { a1: inp([3], 90, { positive: true, scale: 3 }), b1: inp([3], 91, { positive: true }), a2: inp([3], 92, { positive: true, scale: 2 }), b2: inp([3], 93, { positive: true }), c1: inp([2, 4], 94, { positive: true }), c2: inp([4], 95, { positive: true, scale: 2 }) },
    py: `torch.cat([${D}.kl_divergence(${D}.Beta(a1, b1), ${D}.Beta(a2, b2)), ${D}.kl_divergence(${D}.Dirichlet(c1), ${D}.Dirichlet(c2.expand(2, 4)))])`,
    ts: (t) => cat([klDivergence(new Beta(t.a1, t.b1), new Beta(t.a2, t.b2)), klDivergence(new Dirichlet(t.c1), new Dirichlet(t.c2.expand([2, 4])))]),
  },
];

describeFunctionsAgainstTorch(cases);

describe('distributions', () => {
  it('shapes: sample shape, then batch; Categorical samples are int64 indices; a generator repeats its draws', () => {
    tidy(() => {
      const n = new Normal(tensor([0, 10]), 1);
      expect(n.batchShape).toEqual([2]);
      expect(n.sample().shape).toEqual([2]);
      expect(n.rsample([5, 3]).shape).toEqual([5, 3, 2]);
      const c = new Categorical({ logits: tensor([[0, 0, 0], [0, 0, 0]]) });
      const s = c.sample([7]);
      expect(s.shape).toEqual([7, 2]);
      expect(s.dtype).toBe('int64');
      const a = new Generator().manualSeed(5);
      const b = new Generator().manualSeed(5);
      expect(n.sample([4], { generator: a }).toNested()).toEqual(n.sample([4], { generator: b }).toNested());
      const m = n.sample([2000]).mean(0).toArray() as Float32Array;
      expect(Math.abs(m[0])).toBeLessThan(0.2);
      expect(Math.abs(m[1] - 10)).toBeLessThan(0.2);
      // rsample keeps the graph to the parameters; sample does not.
      const loc = tensor([1, 2], { requiresGrad: true });
      const d = new Normal(loc, 0.5);
      expect(d.rsample().requiresGrad).toBe(true);
      expect(d.sample().requiresGrad).toBe(false);
      expect(d.hasRsample).toBe(true);
      expect(new Bernoulli({ probs: 0.3 }).hasRsample).toBe(false);
      const mvn = new MultivariateNormal(tensor([[0, 0, 0], [1, 1, 1]]), { covarianceMatrix: eye(3) });
      expect([mvn.batchShape, mvn.eventShape, mvn.sample([5]).shape]).toEqual([[2], [3], [5, 2, 3]]);
      const ind = new Independent(new Normal(tensor([[0, 1], [2, 3]]), 1), 1);
      expect([ind.batchShape, ind.eventShape, ind.sample([4]).shape, ind.logProb(ind.sample()).shape]).toEqual([[2], [2], [4, 2, 2], [2]]);
      expect(ind.hasRsample).toBe(true);
    });
  });

  it('the gamma family: shapes, supports, sample moments, and gradients through rsample', () => {
    manualSeed(3);
    tidy(() => {
      const dir = new Dirichlet(tensor([[1, 2, 3], [0.5, 0.5, 0.5]]));
      expect([dir.batchShape, dir.eventShape, dir.sample([4]).shape]).toEqual([[2], [3], [4, 2, 3]]);
      const sums = dir.sample([100]).sum(-1).toArray() as Float32Array;
      for (const v of sums) expect(Math.abs(v - 1)).toBeLessThan(1e-5);
      const beta = new Beta(tensor([2, 0.5]), 3);
      expect([beta.batchShape, beta.eventShape, beta.sample([5]).shape]).toEqual([[2], [], [5, 2]]);
      expect(new Beta(2, 3).sample().shape).toEqual([]);
      const b = beta.sample([4000]);
      expect(b.min().item()).toBeGreaterThanOrEqual(0);
      expect(b.max().item()).toBeLessThanOrEqual(1);
      const bm = b.mean(0).toArray() as Float32Array;
      expect(Math.abs(bm[0] - 2 / 5)).toBeLessThan(0.02);
      expect(Math.abs(bm[1] - 0.5 / 3.5)).toBeLessThan(0.02);
      const g = new Gamma(tensor([0.3, 4]), tensor([1, 2])).sample([6000]);
      expect(g.min().item()).toBeGreaterThan(0); // kept at or above the dtype's smallest normal number
      const gm = g.mean(0).toArray() as Float32Array;
      expect(Math.abs(gm[0] - 0.3)).toBeLessThan(0.05);
      expect(Math.abs(gm[1] - 2)).toBeLessThan(0.1);
      const e = new Exponential(tensor([0.5, 4])).sample([6000]).mean(0).toArray() as Float32Array;
      expect(Math.abs(e[0] - 2)).toBeLessThan(0.15);
      expect(Math.abs(e[1] - 0.25)).toBeLessThan(0.02);
      const p = new Poisson(tensor([0, 3.5]));
      const k = p.sample([5000]);
      expect(k.dtype).toBe('float32');
      expect(k.sub(k.floor()).abs().max().item()).toBe(0);
      expect(k.select(1, 0).max().item()).toBe(0); // rate 0 draws only 0
      expect(Math.abs((k.select(1, 1).mean().item() as number) - 3.5)).toBeLessThan(0.1);
      expect(p.hasRsample).toBe(false);
      const chi = new Chi2(tensor([3]));
      expect([chi.df.item(), chi.concentration.item(), chi.rate.item()]).toEqual([3, 1.5, 0.5]);
      expect(chi).toBeInstanceOf(Gamma);
      // rsample's implicit gradient: d E[G]/dα over many draws approaches d(α/β)/dα = 1/β.
      const alpha = tensor([2.5], { requiresGrad: true, dtype: 'float64' });
      new Gamma(alpha, 2).rsample([20000]).mean().backward();
      expect(Math.abs((alpha.grad!.item() as number) - 0.5)).toBeLessThan(0.02);
      // and Beta's: d E[X]/dα = β / (α + β)²
      const a = tensor([2], { requiresGrad: true, dtype: 'float64' });
      new Beta(a, 3).rsample([20000]).mean().backward();
      expect(Math.abs((a.grad!.item() as number) - 3 / 25)).toBeLessThan(0.01);
      // sample() stays outside the graph
      expect(new Dirichlet(tensor([1, 2], { requiresGrad: true })).sample().requiresGrad).toBe(false);
      expect(new Dirichlet(tensor([1, 2], { requiresGrad: true })).rsample().gradFn).toBe('_DirichletBackward');
      // a generator repeats its draws
      const g1 = new Generator().manualSeed(9);
      const g2 = new Generator().manualSeed(9);
      for (const d of [new Gamma(2, 1), new Dirichlet(tensor([1, 2, 3])), new Beta(1, 2), new Poisson(4), new Exponential(2)]) {
        expect(d.sample([3], { generator: g1 }).toNested()).toEqual(d.sample([3], { generator: g2 }).toNested());
      }
    });
  });

  it('registerKl: a formula of your own, the nearest registered classes win', () => {
    tidy(() => {
      class Sharp extends Normal {}
      const calls: string[] = [];
      expect(klDivergence(new Sharp(0, 1), new Normal(1, 1)).item()).toBeCloseTo(0.5, 6); // Normal ‖ Normal applies
      distributions.registerKl(Sharp, Normal, (p, q) => (calls.push('sharp'), p.loc.sub(q.loc).abs()));
      expect(klDivergence(new Sharp(0, 1), new Normal(3, 1)).item()).toBe(3);
      expect(klDivergence(new Normal(0, 1), new Sharp(1, 1)).item()).toBeCloseTo(0.5, 6);
      expect(calls).toEqual(['sharp']);
      expect(() => distributions.registerKl(Object as never, Normal, () => tensor(0))).toThrow(/registerKl: expected a Distribution class for typeP/);
      expect(() => distributions.registerKl(Normal, Normal, 3 as never)).toThrow(/registerKl: expected a function \(p, q\) => Tensor for fn/);
    });
  });

  it('REINFORCE through Categorical.logProb gives the gradient of the expected reward', () => {
    // E[r] over a softmax policy; the score-function estimate over many samples approaches the exact gradient.
    manualSeed(1);
    tidy(() => {
      const logits = tensor([0.5, -0.2, 0.1], { requiresGrad: true, dtype: 'float64' });
      const reward = tensor([1, 3, -2], { dtype: 'float64' });
      const pi = new Categorical({ logits });
      const k = pi.sample([20000]);
      pi.logProb(k).mul(reward.gather(0, k)).mean().backward();
      const est = logits.grad?.toArray() as Float64Array;
      const exact = tidy(() => {
        const l = logits.detach().requiresGrad_(true);
        nn.functional.softmax(l, 0).mul(reward).sum().backward();
        return Array.from(l.grad?.toArray() as Float64Array);
      });
      exact.forEach((g, i) => expect(Math.abs(est[i] - g)).toBeLessThan(0.1));
    });
  });

  it('a loop of constructions, draws and log-probabilities in tidy leaves no tensor behind; dispose frees the parameters', () => {
    const loc = tensor([0, 1, 2]);
    const round = () =>
      tidy(() => {
        const d = new Normal(loc, 2);
        d.logProb(d.sample([3])).sum().item();
        klDivergence(new Categorical({ probs: tensor([0.2, 0.8]) }), new Categorical({ logits: tensor([0, 1]) })).item();
        const c = tensor([1, 2, 3], { requiresGrad: true });
        const dir = new Dirichlet(c);
        dir.logProb(dir.rsample([2])).sum().backward();
        const beta = new Beta(c.select(0, 0), 2);
        beta.logProb(beta.rsample()).backward();
        const g = new Gamma(c, 1);
        g.rsample().sum().backward();
        klDivergence(g, new Chi2(2)).sum().item();
        new Poisson(loc).logProb(new Poisson(loc).sample()).sum().item();
      });
    round();
    const before = memory().tensors;
    for (let i = 0; i < 20; i++) round();
    expect(memory().tensors).toBe(before);
    // A construction refused by its checks frees what it made.
    expect(() => new Normal(loc, -1)).toThrow(RangeError);
    const negative = loc.neg();
    expect(() => new Categorical({ probs: negative })).toThrow(RangeError);
    negative.dispose();
    expect(memory().tensors).toBe(before);
    const probs = loc.div(4);
    const d = new Bernoulli({ probs });
    expect(memory().tensors).toBe(before + 3); // probs, and the distribution's probs (a view) and logits
    d.dispose();
    expect(memory().tensors).toBe(before + 1);
    expect(probs.isDisposed).toBe(false);
    probs.dispose();
    expect(loc.isDisposed).toBe(false);
    loc.dispose();
  });

  it('argument and value errors', () => {
    tidy(() => {
      const cases: ErrorCase[] = [
        [() => new Normal(0, tensor([1, -1])), RangeError, /Normal: scale must hold values > 0, but holds -1 \(flat index 1 of shape \[2\]\).*validateArgs: false/],
        [() => new Normal(tensor([0, 1]), tensor([1, 2, 3])), RangeError, /Normal: expected shapes that broadcast together for shapes but received "\[2\] and \[3\]"/],
        [() => new Normal(tensor([1, 2], { dtype: 'int64' }), 1), TypeError, /Normal: expected a floating-point Tensor or a number for loc/],
        [() => new Normal(tensor([1]), tensor([1], { dtype: 'float64' })), TypeError, /Normal: expected a Tensor of the other parameters' dtype and device \(float32 on cpu\) for scale/],
        [() => new Normal(0, 1, { validate: true } as never), TypeError, /Normal: unknown option 'validate'/],
        [() => new Uniform(1, 1), RangeError, /Uniform: low must hold values below high, but holds 1/],
        [() => new Uniform(0, 1).logProb(tensor([0.5, 1.5])), RangeError, /Uniform.logProb: value must hold values in the support \[low, high\], but holds 1.5 \(flat index 1/],
        [() => new Bernoulli({ probs: 1.5 }), RangeError, /Bernoulli: probs must hold values in \[0, 1\], but holds 1.5/],
        [() => new Bernoulli({ probs: 0.5, logits: 0 } as never), TypeError, /Bernoulli: expected exactly one of probs and logits for options but received "both"/],
        [() => new Bernoulli({} as never), TypeError, /Bernoulli: expected exactly one of probs and logits for options but received "neither"/],
        [() => new Bernoulli({ probs: 0.5 }).logProb(tensor([2])), RangeError, /Bernoulli.logProb: value must hold values that are 0 or 1, but holds 2/],
        [() => new Bernoulli({ probs: 0.5 }).rsample(), TypeError, /Bernoulli.rsample: Bernoulli has no reparameterised sampling/],
        [() => new Categorical({ probs: tensor([0.5, -0.1]) }), RangeError, /Categorical: probs must hold values >= 0, but holds -0.1/],
        [() => new Categorical({ probs: tensor([0, 0]) }), RangeError, /Categorical: probs must hold values with a positive sum along the last dimension, but holds 0/],
        [() => new Categorical({ logits: 3 } as never), TypeError, /Categorical: expected a Tensor of at least one dimension \(its last holds the categories\) for logits/],
        [() => new Categorical({ logits: tensor([0, 0]) }).logProb(tensor([2])), RangeError, /Categorical.logProb: value must hold values that are integers in \[0, 1\], but holds 2/],
        [() => new Categorical({ logits: tensor([0, 0]) }).logProb(tensor([0.5])), RangeError, /but holds 0.5/],
        [() => new Normal(0, 1).sample(3 as never), TypeError, /Normal.sample: expected an array of non-negative integers \(e.g. \[\] or \[16\]\) for sampleShape/],
        [() => new Normal(0, 1).icdf(tensor([1.5])), RangeError, /Normal.icdf: value must hold values in \[0, 1\]/],
        [() => new Categorical({ probs: 0.5 } as never).cdf(tensor([0])), TypeError, /Categorical: expected a Tensor of at least one dimension/],
        [() => new Bernoulli({ probs: 0.5 }).cdf(tensor([0])), TypeError, /Bernoulli.cdf is not defined/],
        [() => klDivergence(new Normal(0, 1), new Uniform(0, 1)), TypeError, /klDivergence: no formula for Normal ‖ Uniform \(known: Normal ‖ Normal/],
        [() => klDivergence(new Categorical({ logits: tensor([0, 0]) }), new Categorical({ logits: tensor([0, 0, 0]) })), RangeError, /klDivergence: expected a Categorical over p's 2 categories for q/],
        [() => new MultivariateNormal(tensor([0, 0]), { covarianceMatrix: tensor([[1, 2], [2, 1]]) }), RangeError, /MultivariateNormal: covarianceMatrix must consist of symmetric positive-definite matrices, but the matrix at flat batch index 0/],
        [() => new MultivariateNormal(tensor([0, 0]), { covarianceMatrix: tensor([[1, 0.5], [0, 1]]) }), RangeError, /covarianceMatrix must consist of symmetric positive-definite matrices/],
        [() => new MultivariateNormal(tensor([0, 0]), { scaleTril: tensor([[1, 1], [0, 1]]) }), RangeError, /scaleTril must consist of lower-triangular matrices with a positive diagonal/],
        [() => new MultivariateNormal(tensor([0, 0]), { scaleTril: tensor([[1, 0], [0, -1]]) }), RangeError, /scaleTril must consist of lower-triangular matrices with a positive diagonal/],
        [() => new MultivariateNormal(tensor([0, 0]), { covarianceMatrix: eye(3) }), RangeError, /MultivariateNormal: expected square matrices of loc's size n = 2: shape \[\.\.\., 2, 2\] for covarianceMatrix but received "\[3, 3\]"/],
        [() => new MultivariateNormal(tensor([0, 0]), {} as never), TypeError, /exactly one of covarianceMatrix, precisionMatrix and scaleTril for options but received "none"/],
        [() => new MultivariateNormal(tensor([0, 0]), { covarianceMatrix: eye(2), scaleTril: eye(2) } as never), TypeError, /received "covarianceMatrix and scaleTril"/],
        [() => new MultivariateNormal(tensor(0), { covarianceMatrix: eye(2) }), TypeError, /MultivariateNormal: expected a floating-point Tensor of at least one dimension/],
        [() => new MultivariateNormal(tensor([0, 0]), { covarianceMatrix: eye(2) }).logProb(tensor([0, 0, 0])), RangeError, /MultivariateNormal.logProb: expected a Tensor whose last dimension is the event size 2/],
        [() => new Independent(new Normal(0, 1), 1), RangeError, /Independent: expected an integer in \[0, 0\] \(the base's batch shape is \[\]\) for reinterpretedBatchNdims/],
        [() => klDivergence(new Independent(new Normal(tensor([0, 0]), 1), 1), new Independent(new Normal(tensor([0, 0]), 1), 0)), TypeError, /different reinterpretedBatchNdims \(1 and 0\)/],
        [() => new Exponential(tensor([1, 0])), RangeError, /Exponential: rate must hold values > 0, but holds 0 \(flat index 1/],
        [() => new Exponential(1).logProb(tensor([-1])), RangeError, /Exponential.logProb: value must hold values in the support \[0, ∞\), but holds -1/],
        [() => new Gamma(tensor([1, -2]), 1), RangeError, /Gamma: concentration must hold values > 0, but holds -2/],
        [() => new Gamma(1, NaN), TypeError, /Gamma: expected a floating-point Tensor or a number for rate/],
        [() => new Chi2(tensor([4, -3])), RangeError, /Chi2: df must hold values > 0, but holds -3/],
        [() => new Chi2('3' as never), TypeError, /Chi2: expected a floating-point Tensor or a number for df/],
        [() => new Dirichlet(tensor(2)), TypeError, /Dirichlet: expected a Tensor of at least one dimension \(its last holds the categories\) for concentration/],
        [() => new Dirichlet(tensor([1, 0])), RangeError, /Dirichlet: concentration must hold values > 0, but holds 0/],
        [() => new Dirichlet(tensor([1, 1])).logProb(tensor([[0.5, 0.5], [0.7, 0.4]])), RangeError, /Dirichlet.logProb: value must lie on the simplex .* the vector at flat batch index 1 is \[0.7/],
        [() => new Beta(1, tensor([2, 0])), RangeError, /Beta: concentration0 must hold values > 0, but holds 0/],
        [() => new Beta(1, 1).logProb(tensor([1.5])), RangeError, /Beta.logProb: value must hold values in \[0, 1\], but holds 1.5/],
        [() => new Poisson(-1), RangeError, /Poisson: rate must hold values >= 0, but holds -1/],
        [() => new Poisson(2).logProb(tensor([1.5])), RangeError, /Poisson.logProb: value must hold values that are whole numbers >= 0, but holds 1.5/],
        [() => new Poisson(2).entropy(), TypeError, /Poisson.entropy is not defined/],
        [() => new Poisson(2).rsample(), TypeError, /Poisson.rsample: Poisson has no reparameterised sampling/],
        [() => klDivergence(new Gamma(1, 1), new Exponential(1)), TypeError, /klDivergence: no formula for Gamma ‖ Exponential \(known: .*Gamma ‖ Gamma.*registerKl adds one\)/],
        [() => klDivergence(new Dirichlet(tensor([1, 1])), new Dirichlet(tensor([1, 1, 1]))), TypeError, /klDivergence: expected a Dirichlet over p's 2 categories for q/],
      ];
      expectErrors(cases);
      // The native samplers check what they are given whatever the caller (validateArgs: false skips only the TS checks).
      const N = native();
      const h = (t: Tensor) => t.handle;
      expectErrors([
        [() => new Gamma(tensor([1, -2]), 1, { validateArgs: false }).sample(), RangeError, /^standardGamma: self must hold finite concentrations > 0, found -2/],
        [() => new Dirichlet(tensor([1, 0]), { validateArgs: false }).sample(), RangeError, /^sampleDirichlet: self must hold finite concentrations > 0, found 0/],
        [() => new Poisson(-1, { validateArgs: false }).sample(), RangeError, /^poisson: self must hold finite rates >= 0, found -1/],
        [() => N.sample('sampleDirichlet', undefined, h(tensor(2))), RangeError, /sampleDirichlet: self must have a dimension of categories/],
        [() => N.sample('standardGamma', undefined, h(tensor([1], { dtype: 'int64' }))), TypeError, /standardGamma: self must be a floating-point tensor of concentrations, got int64/],
        [() => N.dirichletGrad(h(tensor([0.5, 0.5])), h(tensor([1, 1, 1])), h(tensor([2, 2]))), RangeError, /^dirichletGrad: x, concentration and total must have one shape, got \[2\], \[3\] and \[2\]/],
        [() => N.dirichletGrad(h(tensor([0.5, 0.5])), {} as never, h(tensor([2, 2]))), TypeError, /^dirichletGrad: /],
      ]);
      // validateArgs: false skips the checks, as PyTorch: a value outside the support has log-probability -inf.
      expect(new Uniform(0, 1, { validateArgs: false }).logProb(tensor([2])).item()).toBe(-Infinity);
      // PyTorch's support of Uniform is the closed [low, high]: high itself passes the check, with density 0.
      expect(new Uniform(0, 1).logProb(tensor([1])).item()).toBe(-Infinity);
    });
  });
});
