/**
 * Probability distributions, as PyTorch's `torch.distributions`: `Normal`, `Uniform`, `Bernoulli`, `Categorical`,
 * `OneHotCategorical`, `Binomial`, `Geometric`, `MultivariateNormal`, `Independent`, `MixtureSameFamily`,
 * `Exponential`, `Gamma`, `Chi2`, `Beta`, `Dirichlet`, `Poisson`, `Laplace`, `Cauchy`, `StudentT`, and
 * `TransformedDistribution` over the elementwise transforms (`ExpTransform`, `AffineTransform`, `SigmoidTransform`,
 * `TanhTransform`, `SoftplusTransform`, `PowerTransform`, `AbsTransform`, each with `.inv`) with the families
 * built on it (`LogNormal`, `Gumbel`, `HalfNormal`, `HalfCauchy`, `Pareto`, `Weibull`), with `sample`, `rsample`
 * (reparameterised, differentiable: all but Bernoulli, the categoricals, the counts and mixtures), `logProb`,
 * `entropy`, `cdf`/`icdf` (Normal, Uniform, Exponential, Laplace, Cauchy, and transformed distributions of those;
 * Gamma's and mixtures' cdf), `mean`/`mode`/`variance`/`stddev`, `expand(batchShape)` (broadcast views of the
 * parameters), `klDivergence` between two of the same family (`registerKl` adds formulas). The formulas, shapes,
 * and random draws are PyTorch's: with the same seed, `sample` on the CPU draws the same numbers. The parameters
 * are checked as PyTorch's `validate_args` does (on by default), and so are the values given to `logProb`.
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
export { Distribution, klDivergence, registerKl, type DistributionClass, type DistributionOptions, type KlFunction, type Param, type SampleOptions } from './distribution';
export { Bernoulli, Categorical, Independent, MultivariateNormal, Normal, OneHotCategorical, Uniform, type CovarianceArgs, type ProbsOrLogits } from './basic';
export { Binomial, Geometric } from './counts';
export { MixtureSameFamily } from './mixture';
export { Beta, Chi2, Dirichlet, Exponential, Gamma, Poisson } from './gamma';
export { Cauchy, Laplace, StudentT } from './location-scale';
export { Gumbel, HalfCauchy, HalfNormal, LogNormal, Pareto, TransformedDistribution, Weibull } from './transformed';
export { AbsTransform, AffineTransform, ExpTransform, PowerTransform, SigmoidTransform, SoftplusTransform, TanhTransform, Transform, type Constraint } from './transforms';
