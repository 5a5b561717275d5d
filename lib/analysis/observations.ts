/**
 * Activations as observations of a channel vector: the common input of the correlation and information
 * estimators. A layer input `[N, C, ...spatial]` (or `[N, C]`) becomes a `[C, n]` float64 matrix, one row per
 * channel and one column per observation.
 */
import { arange, tensor } from '../creation';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { mulberry32 } from '../util/prng';
import { checkInt, checkOneOf, typeError } from '../validate';

/**
 * How activations become observations:
 * - `element` (default): every (sample, position) is one observation of the C-vector. This is the setting
 *   of the dropout theory: each element has its own mask, so for zero-mean inputs the correlation of two
 *   channels is multiplied by exactly keep = 1 − dropRate.
 * - `pooled`: one observation per sample, the channel's mean over positions. Averaging over positions
 *   averages the masks out too, so here dropout moves correlations much less than the theory's factor
 *   (towards 1 as the number of positions grows): a different question (are whole feature maps related?).
 */
export type ObservationMode = 'element' | 'pooled';

/** The observation modes. */
export const OBSERVATION_MODES: readonly ObservationMode[] = ['element', 'pooled'];

/** `[N, C, ...]` → `[C, n]` float64 (see `ObservationMode`). */
export function channelObservations(x: Tensor, mode: ObservationMode = 'element'): Tensor {
  if (!(x instanceof Tensor)) throw typeError('channelObservations', 'x', 'a Tensor [N, C, ...]', x);
  checkOneOf('channelObservations', 'mode', mode, OBSERVATION_MODES);
  const shape = x.shape;
  if (shape.length < 2) throw new RangeError(`channelObservations: expected a Tensor [N, C, ...] of at least 2 dimensions but received shape [${shape.join(', ')}]`);
  const [N, C] = shape;
  return tidy(() => {
    const v = x.detach().to('float64').reshape(N, C, -1);
    if (mode === 'pooled' || v.shape[2] === 1) return v.mean(2).t().contiguous();
    return v.transpose(0, 1).reshape(C, -1).contiguous();
  });
}

/**
 * `count` distinct observation (column) indices out of `n`, drawn without replacement from `seed`
 * (all of them, in order, when `count >= n`), as an int64 tensor on `device`.
 */
export function sampleColumns(n: number, count: number, seed: number, device = 'cpu'): Tensor {
  checkInt('sampleColumns', 'n', n, 1);
  checkInt('sampleColumns', 'count', count, 1);
  if (count >= n) return arange(n, undefined, 1, { device });
  // Floyd's algorithm: count distinct values in [0, n) with count draws.
  const rand = mulberry32(seed);
  const chosen = new Set<number>();
  for (let j = n - count; j < n; j++) {
    const t = Math.floor(rand() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return tensor(Float64Array.from([...chosen].sort((a, b) => a - b)), { dtype: 'int64', device });
}

/**
 * Up to `count` distinct unordered pairs (i < j) of `channels`, drawn from `seed`; every pair when there
 * are at most `count` of them. Sorted by (i, j).
 */
export function samplePairs(channels: readonly number[], count: number, seed: number): [number, number][] {
  checkInt('samplePairs', 'count', count, 1);
  const c = channels.length;
  const total = (c * (c - 1)) / 2;
  const pairs: [number, number][] = [];
  if (total <= count) {
    for (let a = 0; a < c; a++) for (let b = a + 1; b < c; b++) pairs.push([channels[a], channels[b]]);
    return pairs;
  }
  const rand = mulberry32(seed);
  const seen = new Set<number>();
  while (pairs.length < count) {
    const a = Math.floor(rand() * c), b = Math.floor(rand() * c);
    if (a === b) continue;
    const [i, j] = a < b ? [a, b] : [b, a];
    if (seen.has(i * c + j)) continue;
    seen.add(i * c + j);
    pairs.push([channels[i], channels[j]]);
  }
  return pairs.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
}

/**
 * Channels (rows of `obs`, `[C, n]`) that are not constant: their standard deviation exceeds 1e-7 of their
 * magnitude (a dead ReLU channel, or BatchNorm of one, is constant). Correlation and information are
 * undefined or zero for constant channels, so the estimators leave them out and report how many.
 */
export function nonConstantChannels(obs: Tensor): number[] {
  const [sd, mean] = tidy(() => [obs.std(1, false, false), obs.mean(1)]);
  try {
    const s = sd.toArray() as Float64Array, m = mean.toArray() as Float64Array;
    const out: number[] = [];
    s.forEach((v, c) => {
      if (v > 1e-7 * Math.max(1, Math.abs(m[c]))) out.push(c);
    });
    return out;
  } finally {
    sd.dispose();
    mean.dispose();
  }
}
