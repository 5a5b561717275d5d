// torch.distributions' MixtureSameFamily: a Categorical choosing among the components of one distribution
// (a Gaussian mixture: a Categorical over k weights and a Normal of batch shape [..., k]).
import { noGrad } from '../autograd';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { rangeError, typeError } from '../validate';
import { Categorical } from './basic';
import { Distribution, NO_CHECK, checkSampleShape, fmt, type DistributionOptions, type SampleOptions } from './distribution';

/**
 * A batch of mixtures whose components are one family, as `torch.distributions.MixtureSameFamily`: the
 * component distribution's rightmost batch dimension (k) indexes the components, and `mixture`, a Categorical
 * over k, weighs them; its batch shape is empty or broadcasts with the rest of the component's.
 * `logProb(x) = logsumexp_k(log w_k + log p_k(x))`. It takes both distributions over: `dispose()` disposes them.
 *
 * ```ts
 * const gmm = new MixtureSameFamily(new Categorical({ logits: w }), new Independent(new Normal(mu, sigma), 1)); // mu [k, 2]
 * const nll = gmm.logProb(points).neg().mean();                                                               // points [n, 2]
 * ```
 */
export class MixtureSameFamily extends Distribution {
  /** The Categorical over the components. */
  readonly mixtureDistribution: Categorical;
  /** The components: their rightmost batch dimension is k. */
  readonly componentDistribution: Distribution;
  /** Samples pick a component, so they are not reparameterised (as PyTorch). */
  readonly hasRsample = false;

  /** `new MixtureSameFamily(mixture, component)`. */
  constructor(mixture: Categorical, component: Distribution, options: DistributionOptions = {}) {
    const op = 'MixtureSameFamily';
    if (!(mixture instanceof Categorical)) throw typeError(op, 'mixtureDistribution', 'a Categorical', mixture);
    if (!(component instanceof Distribution)) throw typeError(op, 'componentDistribution', 'a distribution', component);
    const cb = component.batchShape;
    if (cb.length < 1) throw rangeError(op, 'componentDistribution', 'a distribution with a batch dimension of components (its rightmost)', `batch shape ${fmt(cb)}`);
    const batch = cb.slice(0, -1);
    const mb = mixture.batchShape;
    const compatible = mb.length <= batch.length && mb.every((d, i) => {
      const e = batch[batch.length - mb.length + i];
      return d === 1 || e === 1 || d === e;
    });
    if (!compatible) throw rangeError(op, 'mixtureDistribution', `a batch shape compatible with the components' ${fmt(batch)}`, fmt(mb));
    if (mixture.numEvents !== cb[cb.length - 1]) {
      throw rangeError(op, 'mixtureDistribution', `a Categorical over the components' ${cb[cb.length - 1]} (the rightmost of their batch shape ${fmt(cb)})`, `${mixture.numEvents} categories`);
    }
    super(op, batch, component.eventShape, options);
    this.mixtureDistribution = mixture;
    this.componentDistribution = component;
  }

  /** @internal */
  protected expanded(batchShape: number[]): MixtureSameFamily {
    const k = this.mixtureDistribution.numEvents;
    const component = this.componentDistribution.expand([...batchShape, k]);
    return new MixtureSameFamily(this.mixtureDistribution.expand(batchShape), component, NO_CHECK);
  }

  /** `Σ_k w_k · mean_k`. */
  get mean(): Tensor {
    return tidy(() => this.weights().mul(this.componentDistribution.mean).sum(this.componentDim()));
  }
  /** `Σ_k w_k · var_k + Σ_k w_k · (mean_k − mean)²` (the law of total variance). */
  get variance(): Tensor {
    return tidy(() => {
      const w = this.weights();
      const c = this.componentDistribution;
      const dim = this.componentDim();
      return w.mul(c.variance).sum(dim).add(w.mul(c.mean.sub(this.mean.unsqueeze(dim)).pow(2)).sum(dim));
    });
  }

  /** `Σ_k w_k · cdf_k(x)`, for components with scalar events. */
  cdf(value: Tensor): Tensor {
    const v = this.valueArg('cdf', value);
    return tidy(() => this.componentDistribution.cdf(v.unsqueeze(-1)).mul(this.mixtureDistribution.probs).sum(-1));
  }

  /** `logsumexp_k(log w_k + log p_k(x))`; `x` of shape `[..., ...batchShape, ...eventShape]`. */
  logProb(value: Tensor): Tensor {
    const v = this.valueArg('logProb', value);
    return tidy(() => {
      const lp = this.componentDistribution.logProb(v.unsqueeze(this.componentDim()));
      return lp.add(this.mixtureDistribution.logits.logSoftmax(-1)).logsumexp(-1);
    });
  }

  /** Each sample drawn from a component the mixture picks (the components all draw; the picked one is kept), outside the graph. */
  sample(sampleShape: number[] = [], options: SampleOptions = {}): Tensor {
    checkSampleShape('MixtureSameFamily.sample', sampleShape);
    const gatherDim = sampleShape.length + this.batchShape.length;
    const es = this.eventShape;
    return noGrad(() =>
      tidy(() => {
        const pick = this.mixtureDistribution.sample(sampleShape, options); // [...sampleShape, ...mixture batch]
        const all = this.componentDistribution.sample(sampleShape, options); // [...sampleShape, ...batch, k, ...event]
        const lead = all.shape.slice(0, gatherDim);
        const mb = this.mixtureDistribution.batchShape;
        const aligned = [...sampleShape, ...Array<number>(this.batchShape.length - mb.length).fill(1), ...mb];
        const index = pick.reshape([...aligned, 1, ...es.map(() => 1)]).expand([...lead, 1, ...es]);
        return all.gather(gatherDim, index).squeeze(gatherDim);
      }),
    );
  }

  /** Not defined for a mixture (PyTorch's has none either). */
  entropy(): Tensor {
    throw new TypeError('MixtureSameFamily.entropy is not defined (it has no closed form; PyTorch\'s raises NotImplementedError too)');
  }

  /** Frees both distributions. */
  dispose(): void {
    this.mixtureDistribution.dispose();
    this.componentDistribution.dispose();
    super.dispose();
  }

  /** The dimension of the components in the component distribution's moments: −1 − the event's rank. */
  private componentDim(): number {
    return -1 - this.eventShape.length;
  }

  /**
   * The mixture's probabilities shaped to broadcast with the component distribution's moments, `[..., k, 1...]`
   * (one 1 per event dimension; the batch dimensions align from the right, as in logProb).
   */
  private weights(): Tensor {
    const p = this.mixtureDistribution.probs;
    return p.reshape([...p.shape, ...this.eventShape.map(() => 1)]);
  }
}
