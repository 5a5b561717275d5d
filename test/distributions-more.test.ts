// torch.distributions, second part: Laplace, Cauchy, StudentT, the elementwise transforms, TransformedDistribution,
// LogNormal and Gumbel, and `mode` of every family, against python3-torch's in float64 on the same inputs (values
// and the parameters' gradients; draws with the same seed where python3's torch is the addon's version). Without
// Python: undefined moments, the transform API, supports, sample moments, errors, and no tensor left behind.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { Generator, cat, distributions, manualSeed, memory, nn, ones, stack, tensor, tidy, zeros } from '../lib';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { describeFunctionsAgainstTorch, type FCase } from './helpers/fcases';
import { inp } from './helpers/specs';

const {
  Normal, Uniform, Bernoulli, Categorical, MultivariateNormal, Independent, Exponential, Gamma, Beta, Dirichlet, Poisson,
  Laplace, Cauchy, StudentT, LogNormal, Gumbel, TransformedDistribution, OneHotCategorical, MixtureSameFamily,
  Binomial, Geometric, HalfNormal, HalfCauchy, Pareto, Weibull,
  ExpTransform, AffineTransform, SigmoidTransform, TanhTransform, SoftplusTransform, PowerTransform, klDivergence,
} = distributions;
const D = 'torch.distributions';
const T = 'torch.distributions.transforms';
const F64 = 'dtype=torch.float64';

const cases: FCase[] = [
  {
    name: 'Laplace: logProb, cdf, icdf, entropy, mean, mode, stddev, variance',
    inputs: { loc: inp([3], 1), scale: inp([3], 2, { positive: true }), x: inp([3], 3, { grad: false, scale: 2 }) },
    py: `(lambda d: torch.stack([d.log_prob(x), d.cdf(x), d.icdf(torch.sigmoid(x)), d.entropy(), d.mean, d.mode, d.stddev, d.variance]))(${D}.Laplace(loc, scale))`,
    ts: (t) => {
      const d = new Laplace(t.loc, t.scale);
      return stack([d.logProb(t.x), d.cdf(t.x), d.icdf(t.x.sigmoid()), d.entropy(), d.mean, d.mode, d.stddev, d.variance]);
    },
  },
  {
    name: 'Laplace.rsample draws what PyTorch draws with the same seed (float64 and float32)',
    inputs: { loc: inp([3], 4), scale: inp([3], 5, { positive: true }) },
    py: `torch.cat([${D}.Laplace(loc, scale).rsample((4,)).flatten(), ${D}.Laplace(loc.float(), scale.float()).rsample((2,)).flatten().double()])`,
    ts: (t) => cat([new Laplace(t.loc, t.scale).rsample([4]).reshape([-1]), new Laplace(t.loc.to('float32'), t.scale.to('float32')).rsample([2]).reshape([-1]).to('float64')]),
    seed: 6,
    sameVersionOnly: true,
  },
  {
    name: 'Cauchy: logProb, cdf, icdf, entropy, mode',
    inputs: { loc: inp([4], 7), scale: inp([4], 8, { positive: true }), x: inp([4], 9, { grad: false, scale: 3 }) },
    py: `(lambda d: torch.stack([d.log_prob(x), d.cdf(x), d.icdf(torch.sigmoid(x)), d.entropy(), d.mode]))(${D}.Cauchy(loc, scale))`,
    ts: (t) => {
      const d = new Cauchy(t.loc, t.scale);
      return stack([d.logProb(t.x), d.cdf(t.x), d.icdf(t.x.sigmoid()), d.entropy(), d.mode]);
    },
  },
  {
    name: 'Cauchy.rsample with the same seed',
    inputs: { loc: inp([2], 10), scale: inp([2], 11, { positive: true }) },
    py: `${D}.Cauchy(loc, scale).rsample((3,))`,
    ts: (t) => new Cauchy(t.loc, t.scale).rsample([3]),
    seed: 12,
    sameVersionOnly: true,
  },
  {
    name: 'StudentT: logProb, entropy, mean, mode, variance (df > 2), gradients in df, loc and scale',
    inputs: { df: inp([3], 13, { positive: true }), loc: inp([3], 14), scale: inp([3], 15, { positive: true }), x: inp([2, 3], 16, { grad: false, scale: 2 }) },
    py: `(lambda d: torch.cat([d.log_prob(x).flatten(), d.entropy(), d.mean, d.mode, d.variance]))(${D}.StudentT(df + 2, loc, scale))`,
    ts: (t) => {
      const d = new StudentT(t.df.add(2), t.loc, t.scale);
      return cat([d.logProb(t.x).reshape([-1]), d.entropy(), d.mean, d.mode, d.variance]);
    },
  },
  {
    name: 'StudentT.rsample with the same seed: a normal draw, then Chi2 (differentiable in df)',
    inputs: { df: inp([2], 17, { positive: true }), loc: inp([2], 18), scale: inp([2], 19, { positive: true }) },
    py: `${D}.StudentT(df * 3, loc, scale).rsample((3,))`,
    ts: (t) => new StudentT(t.df.mul(3), t.loc, t.scale).rsample([3]),
    seed: 20,
    sameVersionOnly: true,
  },
  {
    name: 'LogNormal: logProb, cdf, icdf, entropy, mean, mode, variance',
    inputs: { loc: inp([3], 21, { scale: 0.5 }), scale: inp([3], 22, { positive: true }), x: inp([3], 23, { grad: false, positive: true, scale: 2 }) },
    py: `(lambda d: torch.stack([d.log_prob(x), d.cdf(x), d.icdf(torch.sigmoid(x)), d.entropy(), d.mean, d.mode, d.variance]))(${D}.LogNormal(loc, scale))`,
    ts: (t) => {
      const d = new LogNormal(t.loc, t.scale);
      return stack([d.logProb(t.x), d.cdf(t.x), d.icdf(t.x.sigmoid()), d.entropy(), d.mean, d.mode, d.variance]);
    },
  },
  {
    name: 'LogNormal.rsample with the same seed',
    inputs: { loc: inp([3], 24), scale: inp([3], 25, { positive: true }) },
    py: `${D}.LogNormal(loc, scale).rsample((2,))`,
    ts: (t) => new LogNormal(t.loc, t.scale).rsample([2]),
    seed: 26,
    sameVersionOnly: true,
  },
  {
    name: 'Gumbel: logProb, cdf, icdf (through the transforms), entropy, mean, mode, stddev, variance',
    inputs: { loc: inp([3], 27), scale: inp([3], 28, { positive: true }), x: inp([3], 29, { grad: false }) },
    py: `(lambda d: torch.stack([d.log_prob(x), d.cdf(x), d.icdf(torch.sigmoid(x)), d.entropy(), d.mean, d.mode, d.stddev, d.variance]))(${D}.Gumbel(loc, scale))`,
    ts: (t) => {
      const d = new Gumbel(t.loc, t.scale);
      return stack([d.logProb(t.x), d.cdf(t.x), d.icdf(t.x.sigmoid()), d.entropy(), d.mean, d.mode, d.stddev, d.variance]);
    },
  },
  {
    name: 'Gumbel.rsample with the same seed (float64 and float32)',
    inputs: { loc: inp([2], 30), scale: inp([2], 31, { positive: true }) },
    py: `torch.cat([${D}.Gumbel(loc, scale).rsample((3,)).flatten(), ${D}.Gumbel(loc.float(), scale.float()).rsample((2,)).flatten().double()])`,
    ts: (t) => cat([new Gumbel(t.loc, t.scale).rsample([3]).reshape([-1]), new Gumbel(t.loc.to('float32'), t.scale.to('float32')).rsample([2]).reshape([-1]).to('float64')]),
    seed: 32,
    sameVersionOnly: true,
  },
  {
    name: 'TransformedDistribution: a logistic (Uniform through SigmoidTransform.inv and AffineTransform): logProb, cdf, icdf',
    inputs: { a: inp([3], 33), b: inp([3], 34, { positive: true }), x: inp([3], 35, { grad: false, scale: 2 }) },
    py: `(lambda d: torch.stack([d.log_prob(x), d.cdf(x), d.icdf(torch.sigmoid(x))]))(${D}.TransformedDistribution(${D}.Uniform(torch.zeros(3, ${F64}), torch.ones(3, ${F64})), [${T}.SigmoidTransform().inv, ${T}.AffineTransform(a, b)]))`,
    ts: (t) => {
      const d = new TransformedDistribution(new Uniform(zeros([3], { dtype: 'float64' }), ones([3], { dtype: 'float64' })), [new SigmoidTransform().inv, new AffineTransform(t.a, t.b)]);
      return stack([d.logProb(t.x), d.cdf(t.x), d.icdf(t.x.sigmoid())]);
    },
  },
  {
    name: 'TransformedDistribution: a tanh-squashed, scaled Normal (a SAC policy): logProb, rsample with the same seed',
    inputs: { mu: inp([2], 36), sigma: inp([2], 37, { positive: true }), x: inp([2], 38, { grad: false, scale: 0.8 }) },
    py: `(lambda d: torch.cat([d.log_prob(x * 2), d.rsample((3,)).flatten()]))(${D}.TransformedDistribution(${D}.Normal(mu, sigma), [${T}.TanhTransform(), ${T}.AffineTransform(0.0, 2.0)]))`,
    ts: (t) => {
      const d = new TransformedDistribution(new Normal(t.mu, t.sigma), [new TanhTransform(), new AffineTransform(0, 2)]);
      return cat([d.logProb(t.x.mul(2)), d.rsample([3]).reshape([-1])]);
    },
    seed: 39,
    sameVersionOnly: true,
  },
  {
    name: 'TransformedDistribution: Exponential through PowerTransform (a Weibull) and Normal through SoftplusTransform: logProb, cdf, icdf',
    inputs: { rate: inp([3], 40, { positive: true }), k: inp([3], 41, { positive: true }), mu: inp([3], 42), x: inp([3], 43, { grad: false, positive: true }) },
    py: `(lambda w, s: torch.cat([w.log_prob(x), w.cdf(x), w.icdf(torch.sigmoid(x)), s.log_prob(x), s.cdf(x), s.icdf(torch.sigmoid(x))]))(${D}.TransformedDistribution(${D}.Exponential(rate), ${T}.PowerTransform(k)), ${D}.TransformedDistribution(${D}.Normal(mu, 1.0), ${T}.SoftplusTransform()))`,
    ts: (t) => {
      const w = new TransformedDistribution(new Exponential(t.rate), new PowerTransform(t.k));
      const s = new TransformedDistribution(new Normal(t.mu, 1), new SoftplusTransform());
      return cat([w.logProb(t.x), w.cdf(t.x), w.icdf(t.x.sigmoid()), s.logProb(t.x), s.cdf(t.x), s.icdf(t.x.sigmoid())]);
    },
  },
  {
    name: 'transforms: forward, inverse and logAbsDetJacobian of each, and of an inverse',
    inputs: { x: inp([4], 44, { scale: 0.9 }), p: inp([4], 45, { positive: true }), a: inp([4], 46), b: inp([4], 47) },
    py: `torch.cat([torch.cat([t(v), t.inv(t(v)), t.log_abs_det_jacobian(v, t(v))]) for t, v in [(${T}.ExpTransform(), x), (${T}.AffineTransform(a, b), x), (${T}.SigmoidTransform(), x), (${T}.TanhTransform(), x), (${T}.SoftplusTransform(), x), (${T}.PowerTransform(p), p), (${T}.ExpTransform().inv, p), (${T}.AffineTransform(1.5, -3.0), x)]])`,
    ts: (t) => {
      const pairs: [distributions.Transform, typeof t.x][] = [
        [new ExpTransform(), t.x], [new AffineTransform(t.a, t.b), t.x], [new SigmoidTransform(), t.x], [new TanhTransform(), t.x],
        [new SoftplusTransform(), t.x], [new PowerTransform(t.p), t.p], [new ExpTransform().inv, t.p], [new AffineTransform(1.5, -3), t.x],
      ];
      return cat(pairs.flatMap(([tr, v]) => [tr.forward(v), tr.inverse(tr.forward(v)), tr.logAbsDetJacobian(v, tr.forward(v))]));
    },
  },
  {
    name: 'klDivergence Laplace ‖ Laplace, Cauchy ‖ Cauchy, Gumbel ‖ Gumbel, LogNormal ‖ LogNormal',
    inputs: { m1: inp([3], 48), s1: inp([3], 49, { positive: true }), m2: inp([3], 50), s2: inp([3], 51, { positive: true }) },
    py: `torch.cat([${D}.kl_divergence(C(m1, s1), C(m2, s2)) for C in [${D}.Laplace, ${D}.Cauchy, ${D}.Gumbel, ${D}.LogNormal]])`,
    ts: (t) => cat([Laplace, Cauchy, Gumbel, LogNormal].map((C) => klDivergence(new C(t.m1, t.s1), new C(t.m2, t.s2)))),
  },
  {
    name: 'mode of Normal, MultivariateNormal, Independent, Exponential, Gamma, Beta, Poisson, Bernoulli and Categorical',
    inputs: { m: inp([3], 52), c: inp([3], 53, { positive: true, scale: 3 }), r: inp([3], 54, { positive: true, scale: 4 }), l: inp([2, 4], 55, { grad: false, scale: 3 }) },
    py: `torch.cat([${D}.Normal(m, r).mode, ${D}.MultivariateNormal(m, scale_tril=torch.diag(r)).mode, ${D}.Independent(${D}.Normal(m, r), 1).mode, ${D}.Exponential(r).mode, ${D}.Gamma(c, r).mode, ${D}.Beta(c, r).mode, ${D}.Poisson(r).mode, ${D}.Bernoulli(logits=m).mode, ${D}.Categorical(logits=l).mode.double()])`,
    ts: (t) => cat([
      new Normal(t.m, t.r).mode, new MultivariateNormal(t.m, { scaleTril: t.r.diag() }).mode, new Independent(new Normal(t.m, t.r), 1).mode, new Exponential(t.r).mode,
      new Gamma(t.c, t.r).mode, new Beta(t.c, t.r).mode, new Poisson(t.r).mode, new Bernoulli({ logits: t.m }).mode, new Categorical({ logits: t.l }).mode.to('float64'),
    ]),
  },
  {
    name: 'Dirichlet.mode: interior, corner (every concentration < 1) and mixed rows',
    inputs: { c: { data: [2, 3, 1.5, 0.5, 0.2, 0.7, 2, 0.5, 3], shape: [3, 3], dtype: 'float64', grad: true } },
    py: `${D}.Dirichlet(c).mode`,
    ts: (t) => new Dirichlet(t.c).mode,
  },
  {
    name: 'expand: every family broadcast to a larger batch, logProb of values over it',
    inputs: { m: inp([3], 56), s: inp([3], 57, { positive: true }), x: inp([2, 3], 58, { grad: false, positive: true }), l: inp([3, 4], 59) },
    py: `(lambda b, k: torch.cat([d.expand(b).log_prob(v).flatten() for d, v in [(${D}.Normal(m, s), x), (${D}.Uniform(-s, s + 2), x), (${D}.Laplace(m, s), x), (${D}.Cauchy(m, s), x), (${D}.StudentT(s + 1, m, s), x), (${D}.LogNormal(m, s), x), (${D}.Gumbel(m, s), x), (${D}.Exponential(s), x), (${D}.Gamma(s, s + 1), x), (${D}.Chi2(s), x), (${D}.Beta(s, s + 1), torch.sigmoid(x)), (${D}.Poisson(s), k), (${D}.Bernoulli(logits=m), k.clamp(max=1)), (${D}.Bernoulli(probs=torch.sigmoid(m)), k.clamp(max=1)), (${D}.Categorical(logits=l), k.long()), (${D}.Categorical(probs=torch.softmax(l, -1)), k.long())]]))((2, 3), torch.tensor([[0., 1, 2], [1, 0, 3]], ${F64}))`,
    ts: (t) => {
      const k = tensor([[0, 1, 2], [1, 0, 3]], { dtype: 'float64' });
      const pairs: [distributions.Distribution, typeof t.x][] = [
        [new Normal(t.m, t.s), t.x], [new Uniform(t.s.neg(), t.s.add(2)), t.x], [new Laplace(t.m, t.s), t.x], [new Cauchy(t.m, t.s), t.x], [new StudentT(t.s.add(1), t.m, t.s), t.x],
        [new LogNormal(t.m, t.s), t.x], [new Gumbel(t.m, t.s), t.x], [new Exponential(t.s), t.x], [new Gamma(t.s, t.s.add(1)), t.x], [new distributions.Chi2(t.s), t.x],
        [new Beta(t.s, t.s.add(1)), t.x.sigmoid()], [new Poisson(t.s), k], [new Bernoulli({ logits: t.m }), k.clamp(null, 1)], [new Bernoulli({ probs: t.m.sigmoid() }), k.clamp(null, 1)],
        [new Categorical({ logits: t.l }), k.to('int64')], [new Categorical({ probs: nn.functional.softmax(t.l, -1) }), k.to('int64')],
      ];
      return cat(pairs.map(([d, v]) => d.expand([2, 3]).logProb(v).reshape([-1])));
    },
  },
  {
    name: 'expand of the multivariate families: MultivariateNormal, Dirichlet, Independent, and a transformed Normal',
    inputs: { m: inp([3], 60), a: inp([3, 3], 61), c: inp([3], 62, { positive: true }), x: inp([4, 3], 63, { grad: false, scale: 0.5 }) },
    py: `torch.cat([${D}.MultivariateNormal(m, scale_tril=torch.tril(a, -1) + torch.diag(c)).expand((4,)).log_prob(x), ${D}.Dirichlet(c).expand((4,)).log_prob(torch.softmax(x, -1)), ${D}.Independent(${D}.Normal(m, c), 1).expand((4,)).log_prob(x), ${D}.TransformedDistribution(${D}.Normal(m, c), [${T}.TanhTransform()]).expand((4, 3)).log_prob(torch.tanh(x)).flatten()])`,
    ts: (t) => cat([
      new MultivariateNormal(t.m, { scaleTril: t.a.tril(-1).add(t.c.diag()) }).expand([4]).logProb(t.x),
      new Dirichlet(t.c).expand([4]).logProb(nn.functional.softmax(t.x, -1)),
      new Independent(new Normal(t.m, t.c), 1).expand([4]).logProb(t.x),
      new TransformedDistribution(new Normal(t.m, t.c), [new TanhTransform()]).expand([4, 3]).logProb(t.x.tanh()).reshape([-1]),
    ]),
  },
  {
    name: 'TransformedDistribution expands a base the transforms broadcast: PyTorch\'s logistic example (a scalar Uniform)',
    inputs: { a: inp([3], 64), b: inp([3], 65, { positive: true }), x: inp([3], 66, { grad: false, scale: 2 }) },
    py: `(lambda d: torch.cat([d.log_prob(x), d.cdf(x), torch.tensor(d.batch_shape, ${F64})]))(${D}.TransformedDistribution(${D}.Uniform(torch.tensor(0., ${F64}), torch.tensor(1., ${F64})), [${T}.SigmoidTransform().inv, ${T}.AffineTransform(a, b)]))`,
    ts: (t) => {
      const d = new TransformedDistribution(new Uniform(tensor(0, { dtype: 'float64' }), tensor(1, { dtype: 'float64' })), [new SigmoidTransform().inv, new AffineTransform(t.a, t.b)]);
      return cat([d.logProb(t.x), d.cdf(t.x), tensor(d.batchShape, { dtype: 'float64' })]);
    },
  },
  {
    name: 'OneHotCategorical: logProb of one-hot values, entropy, mean, mode, variance; KL',
    inputs: { l: inp([2, 4], 67, { scale: 2 }), l2: inp([2, 4], 68) },
    py: `(lambda d, v: torch.cat([d.log_prob(v), d.entropy(), d.mean.flatten(), d.mode.flatten(), d.variance.flatten(), ${D}.kl_divergence(d, ${D}.OneHotCategorical(probs=torch.softmax(l2, -1)))]))(${D}.OneHotCategorical(logits=l), torch.eye(4, ${F64})[[1, 3]])`,
    ts: (t) => {
      const d = new OneHotCategorical({ logits: t.l });
      const v = tensor([[0, 1, 0, 0], [0, 0, 0, 1]], { dtype: 'float64' });
      return cat([d.logProb(v), d.entropy(), d.mean.reshape([-1]), d.mode.reshape([-1]), d.variance.reshape([-1]), klDivergence(d, new OneHotCategorical({ probs: nn.functional.softmax(t.l2, -1) }))]);
    },
  },
  {
    name: 'OneHotCategorical.sample with the same seed',
    inputs: { l: inp([3, 5], 69, { grad: false }) },
    py: `${D}.OneHotCategorical(logits=l).sample((4,))`,
    ts: (t) => new OneHotCategorical({ logits: t.l }).sample([4]),
    seed: 70,
    sameVersionOnly: true,
  },
  {
    name: 'MixtureSameFamily, a 1-d Gaussian mixture: logProb, cdf, mean, variance, with the gradients of weights, means and scales',
    inputs: { w: inp([4], 71), mu: inp([4], 72, { scale: 3 }), s: inp([4], 73, { positive: true }), x: inp([5], 74, { grad: false, scale: 3 }) },
    py: `(lambda d: torch.cat([d.log_prob(x), d.cdf(x), d.mean.reshape(1), d.variance.reshape(1)]))(${D}.MixtureSameFamily(${D}.Categorical(logits=w), ${D}.Normal(mu, s)))`,
    ts: (t) => {
      const d = new MixtureSameFamily(new Categorical({ logits: t.w }), new Normal(t.mu, t.s));
      return cat([d.logProb(t.x), d.cdf(t.x), d.mean.reshape([1]), d.variance.reshape([1])]);
    },
  },
  {
    name: 'MixtureSameFamily, a batch of 2-d Gaussian mixtures (Independent components): logProb, mean, variance; expand',
    inputs: { w: inp([3, 4], 75), mu: inp([3, 4, 2], 76, { scale: 2 }), s: inp([3, 4, 2], 77, { positive: true }), x: inp([6, 3, 2], 78, { grad: false, scale: 2 }) },
    py: `(lambda d: torch.cat([d.log_prob(x).flatten(), d.mean.flatten(), d.variance.flatten(), d.expand((2, 3)).log_prob(x[:2]).flatten()]))(${D}.MixtureSameFamily(${D}.Categorical(logits=w), ${D}.Independent(${D}.Normal(mu, s), 1)))`,
    ts: (t) => {
      const d = new MixtureSameFamily(new Categorical({ logits: t.w }), new Independent(new Normal(t.mu, t.s), 1));
      return cat([d.logProb(t.x).reshape([-1]), d.mean.reshape([-1]), d.variance.reshape([-1]), d.expand([2, 3]).logProb(t.x.narrow(0, 0, 2)).reshape([-1])]);
    },
  },
  {
    name: 'MixtureSameFamily.sample with the same seed (the mixture draws first, then every component)',
    inputs: { w: inp([3, 4], 79, { grad: false }), mu: inp([3, 4, 2], 80, { grad: false, scale: 5 }) },
    py: `${D}.MixtureSameFamily(${D}.Categorical(logits=w), ${D}.Independent(${D}.Normal(mu, 0.1), 1)).sample((5,))`,
    ts: (t) => new MixtureSameFamily(new Categorical({ logits: t.w }), new Independent(new Normal(t.mu, 0.1), 1)).sample([5]),
    seed: 81,
    sameVersionOnly: true,
  },
  {
    name: 'Binomial from probs and from logits: logProb, mean, mode, variance, entropy; KL; expand',
    inputs: { a: inp([3], 82, { scale: 2 }), b: inp([3], 83), k: { data: [0, 3, 7, 1, 5, 2], shape: [2, 3], dtype: 'float64' } },
    py: `(lambda p, l, q: torch.cat([p.log_prob(k).flatten(), l.log_prob(k).flatten(), p.mean, p.mode, p.variance, p.entropy(), l.entropy(), ${D}.kl_divergence(p, q), p.expand((2, 3)).log_prob(k).flatten()]))(${D}.Binomial(7, probs=torch.sigmoid(a)), ${D}.Binomial(torch.full((3,), 7., ${F64}), logits=a), ${D}.Binomial(7, logits=b))`,
    ts: (t) => {
      const p = new Binomial(7, { probs: t.a.sigmoid() });
      const l = new Binomial(torch.full([3], 7, { dtype: 'float64' }), { logits: t.a });
      const q = new Binomial(7, { logits: t.b });
      return cat([p.logProb(t.k).reshape([-1]), l.logProb(t.k).reshape([-1]), p.mean, p.mode, p.variance, p.entropy(), l.entropy(), klDivergence(p, q), p.expand([2, 3]).logProb(t.k).reshape([-1])]);
    },
  },
  {
    name: 'Binomial.sample and torch.binomial with the same seed',
    inputs: { n: { data: [0, 1, 5, 40, 300], shape: [5], dtype: 'float64' }, p: inp([5], 84, { grad: false }) },
    py: `torch.cat([${D}.Binomial(n, probs=torch.sigmoid(p)).sample((3,)).flatten(), torch.binomial(n, torch.sigmoid(p) * 0.5)])`,
    ts: (t) => cat([new Binomial(t.n, { probs: t.p.sigmoid() }).sample([3]).reshape([-1]), torch.binomial(t.n, t.p.sigmoid().mul(0.5))]),
    seed: 85,
    sameVersionOnly: true,
  },
  {
    name: 'Geometric from probs and logits: logProb, mean, mode, variance, entropy; KL',
    inputs: { a: inp([3], 86), b: inp([3], 87), k: { data: [0, 2, 9], shape: [3], dtype: 'float64' } },
    py: `(lambda p, l: torch.cat([p.log_prob(k), l.log_prob(k), p.mean, p.mode, p.variance, p.entropy(), l.entropy(), ${D}.kl_divergence(p, l)]))(${D}.Geometric(probs=torch.sigmoid(a)), ${D}.Geometric(logits=b))`,
    ts: (t) => {
      const p = new Geometric({ probs: t.a.sigmoid() });
      const l = new Geometric({ logits: t.b });
      return cat([p.logProb(t.k), l.logProb(t.k), p.mean, p.mode, p.variance, p.entropy(), l.entropy(), klDivergence(p, l)]);
    },
  },
  {
    name: 'Geometric.sample with the same seed, and probs 1 (only 0)',
    inputs: { a: inp([4], 88, { grad: false }) },
    py: `torch.cat([${D}.Geometric(probs=torch.sigmoid(a)).sample((3,)).flatten(), ${D}.Geometric(probs=torch.ones(2, ${F64})).sample(), ${D}.Geometric(probs=torch.ones(1, ${F64})).log_prob(torch.zeros(1, ${F64}))])`,
    ts: (t) => cat([new Geometric({ probs: t.a.sigmoid() }).sample([3]).reshape([-1]), new Geometric({ probs: torch.ones([2], { dtype: 'float64' }) }).sample(), new Geometric({ probs: torch.ones([1], { dtype: 'float64' }) }).logProb(torch.zeros([1], { dtype: 'float64' }))]),
    seed: 89,
    sameVersionOnly: true,
  },
  {
    name: 'HalfNormal and HalfCauchy: logProb (−∞ below 0 without validation), cdf, icdf, entropy, mean, mode, variance',
    inputs: { s: inp([3], 90, { positive: true }), x: inp([3], 91, { grad: false, positive: true, scale: 2 }) },
    py: `(lambda n, c: torch.cat([n.log_prob(x), n.cdf(x), n.icdf(torch.sigmoid(x)), n.entropy(), n.mean, n.mode, n.variance, c.log_prob(x), c.cdf(x), c.icdf(torch.sigmoid(x)), c.entropy(), c.mode, ${D}.kl_divergence(n, ${D}.HalfNormal(s + 1))]))(${D}.HalfNormal(s), ${D}.HalfCauchy(s))`,
    ts: (t) => {
      const n = new HalfNormal(t.s);
      const c = new HalfCauchy(t.s);
      return cat([n.logProb(t.x), n.cdf(t.x), n.icdf(t.x.sigmoid()), n.entropy(), n.mean, n.mode, n.variance, c.logProb(t.x), c.cdf(t.x), c.icdf(t.x.sigmoid()), c.entropy(), c.mode, klDivergence(n, new HalfNormal(t.s.add(1)))]);
    },
  },
  {
    name: 'HalfNormal and HalfCauchy rsample with the same seed',
    inputs: { s: inp([3], 92, { positive: true }) },
    py: `torch.cat([${D}.HalfNormal(s).rsample((2,)).flatten(), ${D}.HalfCauchy(s).rsample((2,)).flatten()])`,
    ts: (t) => cat([new HalfNormal(t.s).rsample([2]).reshape([-1]), new HalfCauchy(t.s).rsample([2]).reshape([-1])]),
    seed: 93,
    sameVersionOnly: true,
  },
  {
    name: 'Pareto and Weibull: logProb, cdf, icdf, entropy, mean, mode, variance; Pareto KL; expand',
    inputs: { s: inp([3], 94, { positive: true }), a: inp([3], 95, { positive: true }), x: inp([3], 96, { grad: false, positive: true }) },
    py: `(lambda p, w: torch.cat([p.log_prob(s + x), p.cdf(s + x), p.icdf(torch.sigmoid(x)), p.entropy(), p.mean, p.mode, p.variance, w.log_prob(x), w.cdf(x), w.icdf(torch.sigmoid(x)), w.entropy(), w.mean, w.mode, w.variance, ${D}.kl_divergence(p, ${D}.Pareto(s * 0.5, a + 1)), w.expand((2, 3)).log_prob(x).flatten()]))(${D}.Pareto(s, a + 2.5), ${D}.Weibull(s, a + 1))`,
    ts: (t) => {
      const p = new Pareto(t.s, t.a.add(2.5));
      const w = new Weibull(t.s, t.a.add(1));
      const y = t.s.add(t.x);
      return cat([p.logProb(y), p.cdf(y), p.icdf(t.x.sigmoid()), p.entropy(), p.mean, p.mode, p.variance, w.logProb(t.x), w.cdf(t.x), w.icdf(t.x.sigmoid()), w.entropy(), w.mean, w.mode, w.variance, klDivergence(p, new Pareto(t.s.mul(0.5), t.a.add(1))), w.expand([2, 3]).logProb(t.x).reshape([-1])]);
    },
  },
  {
    name: 'Pareto and Weibull rsample with the same seed',
    inputs: { s: inp([2], 97, { positive: true }), a: inp([2], 98, { positive: true }) },
    py: `torch.cat([${D}.Pareto(s, a + 1).rsample((3,)).flatten(), ${D}.Weibull(s, a + 0.5).rsample((3,)).flatten()])`,
    ts: (t) => cat([new Pareto(t.s, t.a.add(1)).rsample([3]).reshape([-1]), new Weibull(t.s, t.a.add(0.5)).rsample([3]).reshape([-1])]),
    seed: 99,
    sameVersionOnly: true,
  },
];

describeFunctionsAgainstTorch(cases);

describe('distributions: heavy tails, transforms and modes without Python', () => {
  it('undefined moments are NaN or ∞, as PyTorch; Bernoulli and Uniform modes', () => {
    tidy(() => {
      const c = new Cauchy(tensor([0, 1]), 2);
      expect(Array.from(c.mean.toArray() as Float32Array).every(Number.isNaN)).toBe(true);
      expect(Array.from(c.variance.toArray() as Float32Array)).toEqual([Infinity, Infinity]);
      const t = new StudentT(tensor([0.5, 1.5, 4]), tensor([1, 2, 3]), 2);
      const mean = Array.from(t.mean.toArray() as Float32Array);
      expect(Number.isNaN(mean[0])).toBe(true);
      expect(mean.slice(1)).toEqual([2, 3]);
      const v = Array.from(t.variance.toArray() as Float32Array);
      expect([Number.isNaN(v[0]), v[1], v[2]]).toEqual([true, Infinity, 8]);
      expect(Array.from(new Bernoulli({ probs: tensor([0.2, 0.5, 0.9]) }).mode.toArray() as Float32Array).map(String)).toEqual(['0', 'NaN', '1']);
      expect(Number.isNaN(new Uniform(0, 1).mode.item() as number)).toBe(true);
      expect(() => new TransformedDistribution(new Normal(0, 1), new TanhTransform()).mean).toThrow(/TransformedDistribution.mean is not defined/);
      expect(() => new TransformedDistribution(new Normal(0, 1), new TanhTransform()).mode).toThrow(/TransformedDistribution.mode is not defined/);
    });
  });

  it('the transform API: inv is an involution, equals compares parameters, signs, and shapes', () => {
    tidy(() => {
      const e = new ExpTransform();
      expect(e.inv.inv).toBe(e);
      expect(e.inv).toBe(e.inv);
      expect(e.equals(new ExpTransform())).toBe(true);
      expect(e.equals(new SigmoidTransform())).toBe(false);
      expect(e.inv.equals(new ExpTransform().inv)).toBe(true);
      expect(e.inv.equals(e)).toBe(false);
      const s = tensor([1, -2]);
      expect(new AffineTransform(0, s).equals(new AffineTransform(0, tensor([1, -2])))).toBe(true);
      expect(new AffineTransform(0, s).equals(new AffineTransform(0, tensor([1, 2])))).toBe(false);
      expect(new AffineTransform(1, 2).equals(new AffineTransform(1, 2))).toBe(true);
      expect(new AffineTransform(0, s).equals(new AffineTransform(0, tensor([1, -2, 3])))).toBe(false); // shapes that do not broadcast
      expect(new PowerTransform(2).equals(new PowerTransform(tensor(2)))).toBe(true);
      expect(new AffineTransform(0, -3).sign).toBe(-1);
      expect(((new AffineTransform(0, s).inv.sign) as ReturnType<typeof tensor>).toNested()).toEqual([1, -1]);
      expect(new AffineTransform(tensor([[0], [1]]), 1).forwardShape([3])).toEqual([2, 3]);
      expect(e.forwardShape([4, 2])).toEqual([4, 2]);
      // a decreasing map flips the cdf: Exp(1) through x ↦ −x has cdf e^y for y ≤ 0
      const neg = new TransformedDistribution(new Exponential(1), new AffineTransform(0, -1));
      expect(neg.cdf(tensor([-1])).item()).toBeCloseTo(Math.exp(-1), 6);
      expect(neg.icdf(tensor([Math.exp(-1)])).item()).toBeCloseTo(-1, 5);
    });
  });

  it('samples lie in the support with the right moments; a generator repeats its draws; rsample keeps the graph', () => {
    manualSeed(4);
    tidy(() => {
      const ln = new LogNormal(tensor([0, 1]), tensor([0.5, 0.25]));
      expect([ln.batchShape, ln.eventShape, ln.sample([3]).shape]).toEqual([[2], [], [3, 2]]);
      const x = ln.sample([20000]);
      expect(x.min().item()).toBeGreaterThan(0);
      const lm = x.mean(0).toArray() as Float32Array;
      expect(Math.abs(lm[0] - Math.exp(0.125)) / Math.exp(0.125)).toBeLessThan(0.02);
      expect(Math.abs(lm[1] - Math.exp(1 + 0.03125)) / Math.exp(1.03125)).toBeLessThan(0.02);
      const g = new Gumbel(1, 2).sample([20000]);
      expect(Math.abs((g.mean().item() as number) - (1 + 2 * 0.5772156649))).toBeLessThan(0.06);
      const lap = new Laplace(tensor([-1, 3]), tensor([1, 0.5])).sample([20000]);
      const lapMean = lap.mean(0).toArray() as Float32Array;
      expect(Math.abs(lapMean[0] + 1)).toBeLessThan(0.04);
      expect(Math.abs(lapMean[1] - 3)).toBeLessThan(0.02);
      expect(Math.abs((lap.select(1, 1).var().item() as number) - 0.5)).toBeLessThan(0.03);
      const median = new Cauchy(2, 1).sample([20001]).median().item() as number;
      expect(Math.abs(median - 2)).toBeLessThan(0.05);
      const st = new StudentT(5, 0, 1).sample([20000]);
      expect(Math.abs((st.var().item() as number) - 5 / 3)).toBeLessThan(0.15);
      const tanhPolicy = new TransformedDistribution(new Normal(tensor([0, 5]), 1), new TanhTransform());
      const a = tanhPolicy.sample([1000]);
      expect(a.abs().max().item()).toBeLessThanOrEqual(1);
      for (const d of [new Laplace(0, 1), new Cauchy(0, 1), new StudentT(3), new LogNormal(0, 1), new Gumbel(0, 1)]) {
        const g1 = new Generator().manualSeed(7);
        const g2 = new Generator().manualSeed(7);
        expect(d.sample([4], { generator: g1 }).toNested()).toEqual(d.sample([4], { generator: g2 }).toNested());
        expect(d.hasRsample).toBe(true);
      }
      const loc = tensor([0.5], { requiresGrad: true });
      expect(new Gumbel(loc, 1).rsample().requiresGrad).toBe(true);
      expect(new Gumbel(loc, 1).sample().requiresGrad).toBe(false);
      const df = tensor([4], { requiresGrad: true, dtype: 'float64' });
      new StudentT(df).rsample([100]).pow(2).mean().backward();
      expect(df.grad).not.toBeNull();
      expect(new TransformedDistribution(new Categorical({ logits: tensor([0, 0]) }), new ExpTransform()).hasRsample).toBe(false);
    });
  });

  it('expand: views of the parameters, the same class, the value checks kept; disposed on its own; a subclass must give its own', () => {
    tidy(() => {
      const loc = tensor([0, 1, 2]);
      const n = new Normal(loc, 2);
      const e = n.expand([4, 3]);
      expect(e).toBeInstanceOf(Normal);
      expect([e.batchShape, e.loc.shape, e.sample([5]).shape]).toEqual([[4, 3], [4, 3], [5, 4, 3]]);
      expect(e.validateArgs).toBe(true);
      expect(() => e.logProb(tensor([NaN]))).toThrow(/Normal.logProb: value must hold values that are not NaN/);
      expect(new Normal(0, 1, { validateArgs: false }).expand([2]).validateArgs).toBe(false);
      e.dispose();
      expect(n.loc.toNested()).toEqual([0, 1, 2]); // the original is untouched
      const mvn = new MultivariateNormal(tensor([0, 0]), { scaleTril: tensor([[1, 0], [0.5, 1]]) }).expand([3]);
      expect([mvn.batchShape, mvn.eventShape, mvn.scaleTril.shape]).toEqual([[3], [2], [3, 2, 2]]);
      const ind = new Independent(new Normal(tensor([[0, 1]]), 1), 1).expand([5]);
      expect([ind.batchShape, ind.eventShape, ind.baseDist.batchShape]).toEqual([[5], [2], [5, 2]]);
      const chi = new distributions.Chi2(3).expand([2]);
      expect([chi.constructor.name, chi.df.toNested()]).toEqual(['Chi2', [3, 3]]);
      // a scalar base under a Tensor AffineTransform is expanded to the transform's batch, as PyTorch does
      const logistic = new TransformedDistribution(new Uniform(0, 1), [new SigmoidTransform().inv, new AffineTransform(tensor([1, 2, 3]), 0.5)]);
      expect([logistic.batchShape, logistic.baseDist.batchShape, logistic.sample([2]).shape]).toEqual([[3], [3], [2, 3]]);
      expect(new Gumbel(0, 1).expand([2, 2]).sample().shape).toEqual([2, 2]);
      class Shifted extends Normal {
        constructor(loc: number) {
          super(loc, 1);
        }
      }
      expect(() => new Shifted(1).expand([2])).toThrow(/Normal.expand: Shifted must override expanded\(batchShape\) to expand \(the one it inherits makes a Normal\)/);
    });
    // expand in a loop leaves nothing behind
    const loc = tensor([0, 1]);
    const above = loc.add(1);
    const before = memory().tensors;
    for (let i = 0; i < 5; i++) {
      for (const d of [new Normal(loc, 1), new Beta(above, 2), new distributions.Chi2(above), new LogNormal(loc, 1), new TransformedDistribution(new Uniform(0, 1), new AffineTransform(loc, 2))]) {
        d.expand([3, 2]).dispose();
        d.dispose();
      }
    }
    expect(memory().tensors).toBe(before);
    loc.dispose();
    above.dispose();
  });

  it('a loop of constructions, draws and log-probabilities leaves no tensor behind; dispose frees the base', () => {
    const loc = tensor([0, 1, 2]);
    const round = () =>
      tidy(() => {
        for (const d of [new Laplace(loc, 1), new Cauchy(loc, 2), new StudentT(3, loc), new LogNormal(loc, 0.5), new Gumbel(loc, 1)]) {
          d.logProb(d.sample([2])).sum().item();
          d.mode.sum().item();
        }
        const td = new TransformedDistribution(new Normal(loc, 1), [new TanhTransform(), new AffineTransform(loc, 2)]);
        td.logProb(td.rsample()).sum().item();
        td.cdf(td.sample()).sum().item();
        const gmm = new MixtureSameFamily(new Categorical({ logits: loc }), new Normal(loc, 1));
        gmm.logProb(gmm.sample([2])).sum().add(gmm.variance).add(gmm.cdf(loc).sum()).item();
        for (const d of [new Binomial(5, { logits: loc }), new Geometric({ probs: loc.sigmoid() }), new HalfNormal(loc.add(1)), new HalfCauchy(2), new Pareto(1, loc.add(1)), new Weibull(loc.add(1), 2)]) {
          d.logProb(d.sample([2])).sum().add(d.mode.sum()).add(d.entropy().sum()).item();
          d.expand([4, 3]).sample().sum().item();
        }
        const oh = new OneHotCategorical({ logits: loc });
        oh.logProb(oh.sample([3])).sum().add(oh.entropy()).item();
        klDivergence(new LogNormal(loc, 1), new LogNormal(0, 2)).sum().item();
        klDivergence(new Gumbel(loc, 1), new Gumbel(0, 2)).sum().item();
      });
    round();
    const before = memory().tensors;
    for (let i = 0; i < 10; i++) round();
    expect(memory().tensors).toBe(before);
    // dispose() frees the distribution's tensors and its base's; a construction refused by its checks frees what it made
    const d = new Gumbel(loc, 2);
    const t = new StudentT(loc.add(3));
    const ln = new LogNormal(loc, 1);
    const gmm = new MixtureSameFamily(new Categorical({ logits: loc }), new Normal(loc, 1));
    expect(memory().tensors).toBeGreaterThan(before);
    d.dispose();
    ln.dispose();
    gmm.dispose();
    t.dispose();
    expect(memory().tensors).toBe(before + 1); // loc.add(3)
    expect(() => new Gumbel(loc, -1)).toThrow(RangeError);
    expect(() => new StudentT(tensor([1, 0]))).toThrow(RangeError);
    expect(memory().tensors).toBe(before + 2); // and the df tensor the refused StudentT was given
    expect(loc.isDisposed).toBe(false);
  });

  it('MixtureSameFamily samples the picked component in the mixture\'s proportions; OneHotCategorical, the counting, folded and power-law families: supports and sample moments', () => {
    manualSeed(5);
    tidy(() => {
      const means = tensor([0, 100, 200]);
      const gmm = new MixtureSameFamily(new Categorical({ probs: tensor([0.2, 0.5, 0.3]) }), new Normal(means, 0.01));
      const x = gmm.sample([6000]);
      expect(x.shape).toEqual([6000]);
      const k = x.div(100).round();
      expect(x.sub(k.mul(100)).abs().max().item()).toBeLessThan(0.1);
      const freq = [0, 1, 2].map((i) => (k.eq(i).sum().item() as number) / 6000);
      [0.2, 0.5, 0.3].forEach((p, i) => expect(Math.abs(freq[i] - p)).toBeLessThan(0.03));
      expect(gmm.mean.item()).toBeCloseTo(110, 3);
      // one mixture shared by a batch of 4 mixtures of 2-d components
      const shared = new MixtureSameFamily(new Categorical({ logits: tensor([0, 0, 0]) }), new Independent(new Normal(means.reshape([1, 3, 1]).expand([4, 3, 2]), 0.01), 1));
      expect([shared.batchShape, shared.eventShape, shared.sample([7]).shape, shared.logProb(shared.sample()).shape]).toEqual([[4], [2], [7, 4, 2], [4]]);
      const oh = new OneHotCategorical({ probs: tensor([[0.1, 0.9], [0.5, 0.5]]) });
      const ohs = oh.sample([100]);
      expect([oh.batchShape, oh.eventShape, ohs.shape, ohs.sum(-1).min().item(), ohs.sum(-1).max().item()]).toEqual([[2], [2], [100, 2, 2], 1, 1]);
      expect(oh.expand([3, 2]).sample().shape).toEqual([3, 2, 2]);
      // the counting families and the folded and power-law ones: supports and sample moments
      const bin = new Binomial(tensor([0, 10, 100]), { probs: tensor([0.5, 0.3, 0.9]) }).sample([4000]);
      expect(bin.sub(bin.floor()).abs().max().item()).toBe(0);
      expect(bin.select(1, 0).max().item()).toBe(0);
      const bm = bin.mean(0).toArray() as Float32Array;
      expect(Math.abs(bm[1] - 3)).toBeLessThan(0.1);
      expect(Math.abs(bm[2] - 90)).toBeLessThan(0.2);
      const geo = new Geometric({ probs: tensor([0.25, 1]) }).sample([8000]);
      expect(Math.abs((geo.select(1, 0).mean().item() as number) - 3)).toBeLessThan(0.15);
      expect(geo.select(1, 1).max().item()).toBe(0);
      const hn = new HalfNormal(2).sample([8000]);
      expect(hn.min().item()).toBeGreaterThanOrEqual(0);
      expect(Math.abs((hn.mean().item() as number) - 2 * Math.sqrt(2 / Math.PI))).toBeLessThan(0.05);
      const par = new Pareto(3, 4).sample([8000]);
      expect(par.min().item()).toBeGreaterThanOrEqual(3);
      expect(Math.abs((par.mean().item() as number) - 4)).toBeLessThan(0.1);
      const wb = new Weibull(2, 1).sample([8000]); // k = 1: an exponential of mean 2
      expect(Math.abs((wb.mean().item() as number) - 2)).toBeLessThan(0.1);
      expect(new HalfNormal(1, { validateArgs: false }).logProb(tensor([-1])).item()).toBe(-Infinity);
    });
  });

  it('argument and value errors', () => {
    tidy(() => {
      const cases: ErrorCase[] = [
        [() => new Laplace(0, tensor([1, 0])), RangeError, /Laplace: scale must hold values > 0, but holds 0 \(flat index 1/],
        [() => new Laplace(NaN, 1), TypeError, /Laplace: expected a floating-point Tensor or a number for loc/],
        [() => new Laplace(tensor([NaN]), 1), RangeError, /Laplace: loc must hold values that are not NaN, but holds NaN/],
        [() => new Cauchy(0, -1), RangeError, /Cauchy: scale must hold values > 0, but holds -1/],
        [() => new Cauchy(0, 1).logProb(tensor([NaN])), RangeError, /Cauchy.logProb: value must hold values that are not NaN/],
        [() => new StudentT(tensor([2, -1])), RangeError, /StudentT: df must hold values > 0, but holds -1/],
        [() => new StudentT(2, 0, 0), RangeError, /StudentT: scale must hold values > 0, but holds 0/],
        [() => new StudentT(2, 0, 1, { validate: false } as never), TypeError, /StudentT: unknown option 'validate'/],
        [() => new LogNormal(0, -1), RangeError, /Normal: scale must hold values > 0, but holds -1/],
        [() => new LogNormal(0, 1, { check: 1 } as never), TypeError, /LogNormal: unknown option 'check'/],
        [() => new LogNormal(0, 1).logProb(tensor([1, -1])), RangeError, /LogNormal.logProb: value must hold values in \(0, ∞\), but holds -1 \(flat index 1/],
        [() => new Gumbel(0, tensor([1, -2])), RangeError, /Gumbel: scale must hold values > 0, but holds -2/],
        [() => new Gumbel(0, 1, { x: 1 } as never), TypeError, /Gumbel: unknown option 'x'/],
        [() => new TransformedDistribution({} as never, new ExpTransform()), TypeError, /TransformedDistribution: expected a distribution for baseDistribution/],
        [() => new TransformedDistribution(new Normal(0, 1), [new ExpTransform(), 3 as never]), TypeError, /TransformedDistribution: expected a Transform or an array of Transforms for transforms/],
        [() => new TransformedDistribution(new MultivariateNormal(tensor([0]), { scaleTril: tensor([[1]]) }), new AffineTransform(tensor([0, 1, 2]), 1)), RangeError, /TransformedDistribution: expected transforms whose parameters keep the base distribution's event shape \[1\] for transforms but received "transforms that broadcast its shape to \[3\]"/],
        [() => new Normal(tensor([0, 1]), 1).expand([3]), RangeError, /Normal.expand: expected a shape the batch shape \[2\] broadcasts to for batchShape but received "\[3\]"/],
        [() => new Normal(tensor([0, 1]), 1).expand([2, 1]), RangeError, /Normal.expand: expected a shape the batch shape \[2\] broadcasts to/],
        [() => new Normal(0, 1).expand(3 as never), TypeError, /Normal.expand: expected an array of non-negative integers for batchShape/],
        [() => new TransformedDistribution(new Normal(0, 1), new SigmoidTransform()).logProb(tensor([1.5])), RangeError, /TransformedDistribution.logProb: value must hold values in \[0, 1\], but holds 1.5/],
        [() => new AffineTransform('1' as never, 2), TypeError, /AffineTransform: expected a number or a floating-point Tensor for loc/],
        [() => new PowerTransform(tensor([2], { dtype: 'int64' })), TypeError, /PowerTransform: expected a number or a floating-point Tensor for exponent/],
        [() => new ExpTransform().forward(2 as never), TypeError, /ExpTransform.forward: expected a Tensor for x/],
        [() => new ExpTransform().inv.logAbsDetJacobian(tensor([1]), null as never), TypeError, /InverseTransform.logAbsDetJacobian: expected a Tensor for y/],
        [() => klDivergence(new LogNormal(0, 1), new TransformedDistribution(new Normal(0, 1), new AffineTransform(0, 2))), TypeError, /klDivergence: LogNormal ‖ TransformedDistribution needs the same transforms on both sides/],
        [() => klDivergence(new Laplace(0, 1), new Cauchy(0, 1)), TypeError, /klDivergence: no formula for Laplace ‖ Cauchy/],
        [() => new Poisson(2).entropy(), TypeError, /Poisson.entropy is not defined/],
        [() => new Binomial(-1, { probs: 0.5 }), RangeError, /Binomial: totalCount must hold values that are whole numbers >= 0, but holds -1/],
        [() => new Binomial(tensor([2, 2.5]), { probs: 0.5 }), RangeError, /Binomial: totalCount must hold values that are whole numbers >= 0, but holds 2.5 \(flat index 1/],
        [() => new Binomial(3, { probs: 1.5 }), RangeError, /Binomial: probs must hold values in \[0, 1\], but holds 1.5/],
        [() => new Binomial(3, { probs: 0.5, logits: 0 } as never), TypeError, /Binomial: expected exactly one of probs and logits/],
        [() => new Binomial(3, { probs: 0.5 }).logProb(tensor([4])), RangeError, /Binomial.logProb: value must hold values that are whole numbers in \[0, totalCount\], but holds 4/],
        [() => new Binomial(tensor([2, 3]), { probs: 0.5 }).entropy(), TypeError, /Binomial.entropy: needs one totalCount for the whole batch/],
        [() => klDivergence(new Binomial(2, { probs: 0.5 }), new Binomial(3, { probs: 0.5 })), TypeError, /klDivergence: Binomial ‖ Binomial where q has more trials than p/],
        [() => new Geometric({ probs: tensor([0.5, 0]) }), RangeError, /Geometric: probs must hold values in \(0, 1\], but holds 0 \(flat index 1/],
        [() => new Geometric({ logits: NaN }), TypeError, /Geometric: expected a floating-point Tensor or a number for logits/],
        [() => new Geometric({ probs: 0.5 }).logProb(tensor([1.5])), RangeError, /Geometric.logProb: value must hold values that are whole numbers >= 0, but holds 1.5/],
        [() => new HalfNormal(tensor([1, -1])), RangeError, /HalfNormal: scale must hold values > 0, but holds -1/],
        [() => new HalfNormal(1).logProb(tensor([-0.5])), RangeError, /HalfNormal.logProb: value must hold values in \[0, ∞\), but holds -0.5/],
        [() => new HalfCauchy(1).cdf(tensor([-1])), RangeError, /HalfCauchy.cdf: value must hold values in \[0, ∞\), but holds -1/],
        [() => new HalfCauchy(0), RangeError, /HalfCauchy: scale must hold values > 0, but holds 0/],
        [() => new Pareto(2, 1).logProb(tensor([3, 1.5])), RangeError, /Pareto.logProb: value must hold values at least scale, but holds 1.5 \(flat index 1/],
        [() => new Pareto(2, -1), RangeError, /Pareto: alpha must hold values > 0, but holds -1/],
        [() => new Weibull(1, 0), RangeError, /Weibull: concentration must hold values > 0, but holds 0/],
        [() => new Weibull(1, 2).logProb(tensor([0])), RangeError, /Weibull.logProb: value must hold values in \(0, ∞\), but holds 0/],
        [() => new distributions.AbsTransform().logAbsDetJacobian(tensor([1]), tensor([1])), TypeError, /AbsTransform.logAbsDetJacobian is not defined: \|x\| is not injective/],
        [() => new TransformedDistribution(new Normal(0, 1), new distributions.AbsTransform()).cdf(tensor([1])), TypeError, /AbsTransform.sign is not defined/],
        [() => torch.binomial(tensor([3, 4]), tensor([0.5, 1.5])), RangeError, /^binomial: prob must hold probabilities in \[0, 1\], found 1.5/],
        [() => torch.binomial(tensor([3, -1]), tensor([0.5, 0.5])), RangeError, /^binomial: count must hold finite counts >= 0, found -1/],
        [() => torch.binomial(tensor([3, 2.5]), tensor([0.5, 0.5])), RangeError, /^binomial: count must hold whole numbers/],
        [() => torch.binomial(tensor([3, 2]), tensor([0.5])), TypeError, /^binomial: count and prob must have one dtype, shape and device, got float32 \[2\] and float32 \[1\]/],
        [() => torch.binomial(tensor([3]), tensor([0.5]), { gen: 1 } as never), TypeError, /^binomial: unknown option 'gen'/],
        [() => new MixtureSameFamily(new Normal(0, 1) as never, new Normal(tensor([0, 1]), 1)), TypeError, /MixtureSameFamily: expected a Categorical for mixtureDistribution/],
        [() => new MixtureSameFamily(new Categorical({ logits: tensor([0, 0]) }), new Normal(0, 1)), RangeError, /MixtureSameFamily: expected a distribution with a batch dimension of components \(its rightmost\) for componentDistribution but received "batch shape \[\]"/],
        [() => new MixtureSameFamily(new Categorical({ logits: tensor([0, 0]) }), new Normal(tensor([0, 1, 2]), 1)), RangeError, /MixtureSameFamily: expected a Categorical over the components' 3 \(the rightmost of their batch shape \[3\]\) for mixtureDistribution but received "2 categories"/],
        [() => new MixtureSameFamily(new Categorical({ logits: zeros([3, 2]) }), new Normal(zeros([4, 2]), 1)), RangeError, /MixtureSameFamily: expected a batch shape compatible with the components' \[4\] for mixtureDistribution but received "\[3\]"/],
        [() => new MixtureSameFamily(new Categorical({ logits: tensor([0, 0]) }), new Normal(tensor([0, 1]), 1)).entropy(), TypeError, /MixtureSameFamily.entropy is not defined/],
        [() => new OneHotCategorical({ probs: tensor([0.5, 0.5]) }).logProb(tensor([1, 1])), RangeError, /OneHotCategorical.logProb: value must hold one-hot vectors \(exactly one 1 along the last dimension\), but the vector at flat batch index 0 is \[1, 1\]; PyTorch's validate_args/],
        [() => new OneHotCategorical({ probs: tensor([0.5, 0.5]) }).logProb(tensor([0.5, 0.5])), RangeError, /OneHotCategorical.logProb: value must hold values that are 0 or 1, but holds 0.5/],
        [() => new OneHotCategorical({ probs: tensor([0.5, 0.5]) }).logProb(tensor([1, 0, 0])), RangeError, /OneHotCategorical.logProb: expected a Tensor whose last dimension is the 2 categories for value but received "\[3\]"/],
      ];
      expectErrors(cases);
      // validateArgs: false skips the support check, as PyTorch: log of a negative value is NaN.
      expect(Number.isNaN(new LogNormal(0, 1, { validateArgs: false }).logProb(tensor([-1])).item() as number)).toBe(true);
      // Uniform's support is PyTorch's closed [low, high]; a Gumbel's cdf far in the upper tail is 1.
      expect(new Gumbel(0, 1).cdf(tensor([100])).item()).toBe(1);
    });
  });
});
