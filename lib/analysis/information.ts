/**
 * Binned entropy and mutual information of activation channels, as tensor ops on the activations' device.
 *
 * Discretisation (per channel, `discretize`): exact zeros are their own symbol 0 (dropout's dropped value,
 * so a dropped element is always recognisable); the nonzero values fall in `bins` bins, symbols 1..bins,
 * with thresholds from that channel's nonzero values:
 * - `quantile` (default, equal frequency): each bin holds about 1/bins of the nonzero values. Thresholds are
 *   the sample quantiles of up to `thresholdSample` values per channel (a seeded sample).
 * - `width` (equal width): bins of equal width over [μ − 4σ, μ + 4σ] of the channel's nonzero values, the
 *   outer bins open-ended.
 * Both are scale-equivariant: inverted dropout divides the kept values by keep and the thresholds follow,
 * so a kept value falls in the bin its undropped value falls in (up to the thresholds' sampling error).
 *
 * Estimators (Miller–Madow bias correction, reported in bits): H = −Σ p̂ log p̂ + (m − 1)/(2n), m the number
 * of non-empty cells and n the observations; I(X;Y) = H(X) + H(Y) − H(X,Y) with each term corrected.
 * Standard errors are the delta-method ones of the plug-in estimates: Var(Ĥ) ≈ (Σ p̂ log² p̂ − Ĥ²)/n and
 * Var(Î) ≈ (Σ p̂_xy log²(p̂_xy/(p̂_x p̂_y)) − Î²)/n, for independent observations (a lower bound on real
 * activations, whose positions within one image are not independent).
 *
 * With dropout of keep probability p applied to x (the mask recoverable from the output), the binned
 * variables obey exactly (in expectation) H(x̂) = p·H(x) + H_b(p) and I(x̂_i; x̂_j) = p²·I(x_i; x_j).
 */
import { arange, cat, tensor, where, zeros } from '../creation';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkInt, checkOneOf, typeError } from '../validate';
import { sampleColumns } from './observations';

/** How nonzero values are binned (see the file comment). */
export type BinScheme = 'quantile' | 'width';

/** The binning schemes. */
export const BIN_SCHEMES: readonly BinScheme[] = ['quantile', 'width'];

/** Options of `discretize`. */
export interface BinningOptions {
  /** Bins for the nonzero values (default 16); symbol 0 is the exact zero. */
  bins?: number;
  /** `quantile` (default) or `width`. */
  scheme?: BinScheme;
  /** Values per channel the quantile thresholds are estimated from (default 4096; all when fewer). */
  thresholdSample?: number;
  /** Seed of that sample (default 0). */
  seed?: number;
}

const LN2 = Math.log(2);

/** Per-channel thresholds `[C, bins − 1]` (float64) of the nonzero values of `obs` (`[C, n]`). */
function thresholds(obs: Tensor, bins: number, scheme: BinScheme, sample: number, seed: number): Tensor {
  const [C, n] = obs.shape;
  const device = obs.device;
  const xs = sample < n ? obs.indexSelect(1, sampleColumns(n, sample, seed, device)) : obs;
  if (scheme === 'width') {
    const nz = xs.ne(0);
    const count = nz.sum(1, true).to('float64').clamp(1); // [C, 1]
    const mean = where(nz, xs, 0).sum(1, true).div(count);
    const sd = where(nz, xs.sub(mean), 0).square().sum(1, true).div(count).sqrt();
    // μ + σ·(−4 + 8k/bins): mean and deviation scale with the values, the extremes would not.
    const k = arange(1, bins, 1, { dtype: 'float64', device }).view(1, bins - 1).mul(8 / bins).sub(4);
    return mean.add(sd.mul(k));
  }
  // Equal frequency: t_k is the value of rank ⌊k·m/bins⌋ (from 0) among the m nonzero sampled values, and a
  // value equal to a threshold goes above it, so a repeated value (a point mass) never straddles a threshold
  // and scaling the values scales the thresholds exactly. Sorting is not a tensor op here: the sample (at most
  // `thresholdSample` values per channel) is sorted on the host; binning all values stays on the device.
  const values = xs.to({ device: 'cpu', dtype: 'float64' }).contiguous().toArray() as Float64Array;
  const m = xs.shape[1];
  const out = new Float64Array(C * (bins - 1));
  for (let c = 0; c < C; c++) {
    const nonzero = values.subarray(c * m, (c + 1) * m).filter((v) => v !== 0).sort();
    for (let k = 1; k < bins; k++) out[c * (bins - 1) + k - 1] = nonzero.length ? nonzero[Math.floor((k * nonzero.length) / bins)] : 0;
  }
  return tensor(out, { shape: [C, bins - 1], dtype: 'float64', device });
}

/**
 * Symbols `[C, n]` (int64): 0 for exact zeros, 1..bins for nonzero values binned per channel (see the file
 * comment for the schemes).
 */
export function discretize(obs: Tensor, options: BinningOptions = {}): Tensor {
  if (!(obs instanceof Tensor) || obs.ndim !== 2) throw typeError('discretize', 'obs', 'a Tensor [C, n] (from channelObservations)', obs);
  const bins = checkInt('discretize', 'bins', options.bins ?? 16, 2, 1024);
  const scheme = checkOneOf('discretize', 'scheme', options.scheme ?? 'quantile', BIN_SCHEMES);
  const sample = checkInt('discretize', 'thresholdSample', options.thresholdSample ?? 4096, 16);
  const seed = checkInt('discretize', 'seed', options.seed ?? 0, 0);
  return tidy(() => {
    const x = obs.to('float64');
    const t = thresholds(x, bins, scheme, sample, seed);
    // symbol = 1 + #{k : x ≥ t_k} for nonzero x, chunked over observations to bound memory.
    const [C, n] = x.shape;
    const chunk = Math.max(1, Math.floor(2 ** 24 / (C * (bins - 1))));
    const parts: Tensor[] = [];
    for (let s = 0; s < n; s += chunk) {
      const xc = x.narrow(1, s, Math.min(chunk, n - s));
      const above = xc.unsqueeze(1).ge(t.unsqueeze(2)).to('float32').sum(1).add(1); // [C, bins − 1, chunk] → [C, chunk]
      parts.push(where(xc.ne(0), above, 0).to('int64'));
    }
    return parts.length === 1 ? parts[0] : cat(parts, 1);
  });
}

/** One-hot `[rows, K, n]` float32 (symbols before observations: sums over n run along contiguous memory). */
function oneHotT(codes: Tensor, K: number): Tensor {
  return codes.unsqueeze(1).eq(arange(K, undefined, 1, { device: codes.device }).view(1, K, 1)).to('float32');
}

/**
 * Symbol counts of every channel (`[C, K]`) and joint counts of each pair (`[P, K, K]`), float64. Joint
 * histograms are products of one-hot codes, a batched matmul per chunk of pairs (P·n·K² multiply-adds in
 * all); float32 sums of 0/1 are exact below 2²⁴ observations.
 */
function symbolCounts(codes: Tensor, pairs: readonly [number, number][], K: number): { marginal: Tensor; joint: Tensor | null } {
  const [C, n] = codes.shape;
  const device = codes.device;
  const idx = (v: number[]) => tensor(Float64Array.from(v), { dtype: 'int64', device });
  const marginal = zeros([C, K], { dtype: 'float64', device });
  const rows = Math.max(1, Math.floor(2 ** 24 / (n * K)));
  for (let r = 0; r < C; r += rows) {
    const len = Math.min(rows, C - r);
    tidy(() => marginal.narrow(0, r, len).add_(oneHotT(codes.narrow(0, r, len), K).sum(2).to('float64')));
  }
  if (pairs.length === 0) return { marginal, joint: null };
  // Chunks of pairs: one-hot codes of both ends, then one batched matmul per chunk.
  const parts: Tensor[] = [];
  const chunk = Math.max(1, Math.floor(2 ** 23 / (n * K)));
  for (let s = 0; s < pairs.length; s += chunk) {
    const part = pairs.slice(s, s + chunk);
    parts.push(
      tidy(() => {
        const oi = oneHotT(codes.index(idx(part.map((p) => p[0]))), K); // [P, K, n]
        const oj = oneHotT(codes.index(idx(part.map((p) => p[1]))), K);
        return oi.matmul(oj.transpose(1, 2)).to('float64'); // [P, K, K]
      }),
    );
  }
  return { marginal, joint: parts.length === 1 ? parts[0] : cat(parts, 0) };
}

/** Miller–Madow entropy (nats) and its delta-method variance term, over the last dimension of `counts` [..., K]. */
function entropyOf(counts: Tensor, n: number): { h: Tensor; v: Tensor } {
  const c = counts.to('float64');
  const p = c.div(n);
  const logp = where(c.gt(0), p.log(), 0);
  const plogp = p.mul(logp);
  const h0 = plogp.sum(-1).neg();
  const m = c.gt(0).sum(-1).to('float64');
  const h = h0.add(m.sub(1).div(2 * n));
  const v = p.mul(logp.square()).sum(-1).sub(h0.square()).clamp(0).div(n);
  return { h, v };
}

/** What `channelEntropy` measured (bits). */
export interface EntropyResult {
  /** Per channel (rows of the codes). */
  perChannel: number[];
  /** Mean over channels. */
  mean: number;
  /** Standard error of the mean, bounded by the mean of the channels' errors. */
  se: number;
  /** Fraction of observations that are the zero symbol, per channel. */
  zeroFraction: number[];
}

/** What `pairwiseMutualInformation` measured (bits). */
export interface MutualInformationResult {
  /** Per pair, in the order given. */
  perPair: number[];
  /** Mean over pairs. */
  mean: number;
  /** Standard error of the mean, bounded by the mean of the pairs' errors. */
  se: number;
}

function checkCodes(op: string, codes: unknown, symbols: unknown): [number, number, number] {
  if (!(codes instanceof Tensor) || codes.ndim !== 2) throw typeError(op, 'codes', 'an int64 Tensor [C, n] (from discretize)', codes);
  const K = checkInt(op, 'symbols', symbols, 2);
  const [C, n] = codes.shape;
  if (n >= 2 ** 24) throw new RangeError(`${op}: at most ${2 ** 24 - 1} observations are counted exactly, received ${n}`);
  return [C, n, K];
}

function checkPairs(op: string, pairs: unknown, C: number): readonly [number, number][] {
  if (!Array.isArray(pairs) || pairs.length === 0) throw typeError(op, 'pairs', 'a non-empty array of [i, j] channel pairs', pairs);
  for (const pr of pairs) {
    const [i, j] = Array.isArray(pr) ? pr : [NaN, NaN];
    if (!Number.isInteger(i) || !Number.isInteger(j) || i < 0 || j < 0 || i >= C || j >= C || i === j) {
      throw typeError(op, 'pairs', `pairs of distinct channel indices in [0, ${C})`, pr);
    }
  }
  return pairs as [number, number][];
}

/**
 * Binned entropy of every channel and mutual information of each pair (bits, Miller–Madow, see the file
 * comment) from `codes` (`[C, n]` from `discretize`), `symbols` = bins + 1; one counting pass for both.
 */
export function binnedInformation(codes: Tensor, pairs: readonly [number, number][], symbols: number): { entropy: EntropyResult; mi: MutualInformationResult } {
  const op = 'binnedInformation';
  const [C, n, K] = checkCodes(op, codes, symbols);
  checkPairs(op, pairs, C);
  return tidy(() => {
    const { marginal, joint } = symbolCounts(codes, pairs, K);
    const e = entropyOf(marginal, n);
    const entropy = {
      perChannel: Array.from(e.h.div(LN2).toArray() as Float64Array),
      mean: 0,
      se: avg(Array.from(e.v.sqrt().div(LN2).toArray() as Float64Array)),
      zeroFraction: Array.from(marginal.select(1, 0).div(n).toArray() as Float64Array),
    };
    entropy.mean = avg(entropy.perChannel);
    const j = joint as Tensor;
    const P = pairs.length;
    const ci = j.sum(2), cj = j.sum(1);
    const I = entropyOf(ci, n).h.add(entropyOf(cj, n).h).sub(entropyOf(j.view(P, K * K), n).h);
    // Delta-method variance from the plug-in pointwise information log(p_xy / (p_x p_y)).
    const pxy = j.div(n), px = ci.div(n).unsqueeze(2), py = cj.div(n).unsqueeze(1);
    const pmi = where(j.gt(0), pxy.div(px.mul(py)).log(), 0);
    const i0 = pxy.mul(pmi).sum([1, 2]);
    const v = pxy.mul(pmi.square()).sum([1, 2]).sub(i0.square()).clamp(0).div(n);
    const perPair = Array.from(I.div(LN2).toArray() as Float64Array);
    return { entropy, mi: { perPair, mean: avg(perPair), se: avg(Array.from(v.sqrt().div(LN2).toArray() as Float64Array)) } };
  });
}

/** Binned entropy (bits, Miller–Madow) of every channel of `codes` (`[C, n]` from `discretize`), `symbols` = bins + 1. */
export function channelEntropy(codes: Tensor, symbols: number): EntropyResult {
  const [, n, K] = checkCodes('channelEntropy', codes, symbols);
  return tidy(() => {
    const { marginal } = symbolCounts(codes, [], K);
    const e = entropyOf(marginal, n);
    const perChannel = Array.from(e.h.div(LN2).toArray() as Float64Array);
    return {
      perChannel,
      mean: avg(perChannel),
      se: avg(Array.from(e.v.sqrt().div(LN2).toArray() as Float64Array)),
      zeroFraction: Array.from(marginal.select(1, 0).div(n).toArray() as Float64Array),
    };
  });
}

/**
 * Binned mutual information (bits, Miller–Madow) of each channel pair of `codes` (`[C, n]` from
 * `discretize`), `symbols` = bins + 1.
 */
export function pairwiseMutualInformation(codes: Tensor, pairs: readonly [number, number][], symbols: number): MutualInformationResult {
  return binnedInformation(codes, pairs, symbols).mi;
}

/** Binary entropy H_b(p) in bits. */
export function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
}

function avg(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}
