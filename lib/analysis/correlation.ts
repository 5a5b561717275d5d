/**
 * Mean absolute pairwise Pearson correlation between the channels of a layer's input, with a standard
 * error. All work is tensor ops (float64) on the device the activations are on.
 */
import { arange, tensor } from '../creation';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { typeError } from '../validate';

/** What `meanAbsCorrelation` measured. */
export interface CorrelationResult {
  /** Mean over channel pairs i < j of |r_ij|. */
  mean: number;
  /**
   * Standard error of `mean`, bounded by the mean of the pairs' asymptotic standard errors (the pairs are
   * not independent, so the errors are not averaged down). Each pair's error is the delta-method one for
   * a sample correlation of independent observations, valid for any distribution with finite fourth
   * moments: Var(r) ≈ E[(z_i z_j − r (z_i² + z_j²)/2)²] / n with z the standardised channels. Positions of
   * one image are not independent observations, so on real activations this is a lower bound.
   */
  se: number;
  /** Pairs averaged over. */
  pairs: number;
  /** Observations per channel. */
  observations: number;
  /** Per-channel mean and standard deviation (population) of the channels used. */
  channelMean: number[];
  channelStd: number[];
  /**
   * For each keep probability p of `keeps`: the mean over pairs of |r_ij| · f_ij divided by `mean`, where
   * f_ij = p·σ_iσ_j / √((σ_i² + (1−p)μ_i²)(σ_j² + (1−p)μ_j²)) is the exact factor inverted dropout with keep
   * probability p applies to r_ij when channel i has mean μ_i and deviation σ_i (Cov is unchanged, each
   * variance becomes σ²/p + μ²(1/p − 1)): for zero-mean channels it is p.
   */
  predictedRatios: number[];
}

/** Options of `meanAbsCorrelation`. */
export interface CorrelationOptions {
  /** Rows (channels) of `obs` to use (default all); pass the non-constant ones. */
  channels?: readonly number[];
  /** Keep probabilities to compute `predictedRatios` for (default none). */
  keeps?: readonly number[];
}

/**
 * Mean |Pearson correlation| over all channel pairs of `obs` (`[C, n]`, from `channelObservations`), its
 * standard error, and optionally the ratios dropout should multiply it by given the channels' moments.
 */
export function meanAbsCorrelation(obs: Tensor, options: CorrelationOptions = {}): CorrelationResult {
  if (!(obs instanceof Tensor) || obs.ndim !== 2) throw typeError('meanAbsCorrelation', 'obs', 'a Tensor [C, n] (from channelObservations)', obs);
  return tidy(() => {
    let x = obs.to('float64');
    if (options.channels) x = x.indexSelect(0, tensor(Float64Array.from(options.channels), { dtype: 'int64', device: x.device }));
    const [C, n] = x.shape;
    if (C < 2) throw new RangeError(`meanAbsCorrelation: expected at least 2 channels but received ${C}`);
    const mean = x.mean(1, true);
    const xc = x.sub(mean);
    const sd = xc.square().mean(1, true).sqrt();
    const z = xc.div(sd);
    const r = z.matmul(z.t()).div(n);
    // Fourth-moment terms of the delta method.
    const z2 = z.square();
    const a = z2.matmul(z2.t()).div(n); // E[z_i² z_j²]
    const b = z2.mul(z).matmul(z.t()).div(n); // E[z_i³ z_j]
    const k4 = z2.square().mean(1, true); // E[z_i⁴]
    const v = a.sub(r.mul(b.add(b.t()))).add(r.square().div(4).mul(k4.add(k4.t()).add(a.mul(2))));
    const se = v.clamp(0).div(n).sqrt();
    const idx = arange(C, undefined, 1, { device: x.device });
    const upper = idx.view(C, 1).lt(idx.view(1, C)).to('float64');
    const pairs = (C * (C - 1)) / 2;
    const absR = r.abs().mul(upper);
    const meanAbs = absR.sum().item() as number;
    const out: CorrelationResult = {
      mean: meanAbs / pairs,
      se: (se.mul(upper).sum().item() as number) / pairs,
      pairs,
      observations: n,
      channelMean: Array.from(mean.view(-1).toArray() as Float64Array),
      channelStd: Array.from(sd.view(-1).toArray() as Float64Array),
      predictedRatios: (options.keeps ?? []).map((p) => {
        const f = sd.div(sd.square().add(mean.square().mul(1 - p)).sqrt()); // σ / √(σ² + (1−p)μ²)
        return (absR.mul(f.matmul(f.t())).sum().item() as number) * p / meanAbs;
      }),
    };
    return out;
  });
}
