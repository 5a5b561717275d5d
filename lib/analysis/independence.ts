/**
 * How independent the channels of a layer input are (correlation, mutual information, entropy), and what
 * an IC layer's dropout does to that: the paper's claims checked on given activations.
 *
 * For an IC layer with input x, y_off = icLayer(x, batch statistics, dropRate 0) (BatchNorm alone) and
 * y_on = icLayer(x, the same statistics, dropRate p), both with the layer's own scale and shift and
 * without touching its running statistics. With keep = 1 − p the theory predicts
 * corr(y_on) / corr(y_off) = keep (exact for zero-mean channels; `corrPredictedMoments` gives the exact
 * factor for the channels' actual means), MI(y_on) / MI(y_off) = keep², and H(y_on) = keep·H(y_off) + H_b(keep).
 */
import { noGrad } from '../autograd';
import { tensor } from '../creation';
import { icLayer } from '../nn/functional';
import { manualSeed, rngState, setRngState } from '../runtime';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkInt, checkNumber, checkOneOf, rangeError, typeError } from '../validate';
import { meanAbsCorrelation, type CorrelationResult } from './correlation';
import { binaryEntropy, binnedInformation, discretize, BIN_SCHEMES, type BinScheme, type EntropyResult, type MutualInformationResult } from './information';
import { channelObservations, nonConstantChannels, sampleColumns, samplePairs, OBSERVATION_MODES, type ObservationMode } from './observations';

/** Options of the independence measurements. */
export interface IndependenceOptions {
  /** How activations become observations (default `element`; see `ObservationMode`). */
  mode?: ObservationMode;
  /** Bins for nonzero values (default 16). */
  bins?: number;
  /** Binning scheme (default `quantile`). */
  scheme?: BinScheme;
  /** Channel pairs the mutual information is averaged over, drawn at random (default 32; all when fewer). */
  pairs?: number;
  /** Observations the information estimates use, drawn at random (default 32,768; all when fewer). */
  maxObservations?: number;
  /** Seed of the pair, observation and threshold samples and of the dropout masks (default 0). */
  seed?: number;
}

/** Correlation, information and entropy of one activation tensor. */
export interface IndependenceMeasure {
  corr: CorrelationResult;
  mi: MutualInformationResult;
  entropy: EntropyResult;
  /** The channels used (non-constant ones unless given). */
  channels: number[];
  /** Channels of the tensor in all. */
  totalChannels: number;
  /** Channel pairs of the information estimate. */
  pairs: [number, number][];
  /** Observations per channel of the information estimate. */
  infoObservations: number;
}

function resolved(op: string, o: IndependenceOptions): Required<IndependenceOptions> {
  if (typeof o !== 'object' || o === null) throw typeError(op, 'options', '{mode, bins, scheme, pairs, maxObservations, seed}', o);
  return {
    mode: checkOneOf(op, 'mode', o.mode ?? 'element', OBSERVATION_MODES),
    bins: checkInt(op, 'bins', o.bins ?? 16, 2, 1024),
    scheme: checkOneOf(op, 'scheme', o.scheme ?? 'quantile', BIN_SCHEMES),
    pairs: checkInt(op, 'pairs', o.pairs ?? 32, 1),
    maxObservations: checkInt(op, 'maxObservations', o.maxObservations ?? 32768, 16, 2 ** 24 - 1),
    seed: checkInt(op, 'seed', o.seed ?? 0, 0),
  };
}

/**
 * Mean |correlation| of all channel pairs, mean binned mutual information of a random subset of pairs,
 * and mean binned entropy of the channels of `x` (`[N, C, ...]`). `channels` restricts the channels (by
 * default the non-constant ones); `keeps` adds the correlation ratios dropout should cause.
 */
export function measureIndependence(x: Tensor, options: IndependenceOptions & { channels?: number[]; keeps?: readonly number[] } = {}): IndependenceMeasure {
  const o = resolved('measureIndependence', options);
  if (!(x instanceof Tensor)) throw typeError('measureIndependence', 'x', 'a Tensor [N, C, ...]', x);
  return tidy(() => {
    const obs = channelObservations(x, o.mode);
    const [C, n] = obs.shape;
    const channels = options.channels ?? nonConstantChannels(obs);
    if (channels.length < 2) throw new RangeError(`measureIndependence: needs at least 2 non-constant channels, found ${channels.length} of ${C}`);
    const corr = meanAbsCorrelation(obs, { channels, keeps: options.keeps });
    const rows = obs.indexSelect(0, tensor(Float64Array.from(channels), { dtype: 'int64', device: obs.device }));
    const sub = n > o.maxObservations ? rows.indexSelect(1, sampleColumns(n, o.maxObservations, o.seed, obs.device)) : rows;
    const codes = discretize(sub, { bins: o.bins, scheme: o.scheme, seed: o.seed });
    const local = samplePairs(channels.map((_, k) => k), o.pairs, o.seed);
    const { entropy, mi } = binnedInformation(codes, local, o.bins + 1);
    return { corr, mi, entropy, channels, totalChannels: C, pairs: local.map(([a, b]) => [channels[a], channels[b]] as [number, number]), infoObservations: sub.shape[1] };
  });
}

/** The IC layer's learnable parameters (null for a layer without affine) and its eps. */
export interface ICParams {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Default 1e-5, the IC layer's default. */
  eps?: number;
}

/** The effect of one IC layer's dropout at one drop rate, measured and predicted. */
export interface DropoutEffect {
  dropRate: number;
  keep: number;
  /** Mean |corr| of BatchNorm's output (dropout off) and of the IC output (dropout on), and on ÷ off. */
  corrOff: number;
  corrOn: number;
  corrRatio: number;
  /** Standard error of corrRatio (from the two estimates' errors, added: a bound). */
  corrRatioSe: number;
  /** The theory's ratio for zero-mean inputs: keep. */
  corrPredicted: number;
  /** The exact expected ratio given the channels' means and deviations (equal to keep for zero means). */
  corrPredictedMoments: number;
  /** Mean pairwise binned MI (bits), off and on, and on ÷ off. */
  miOff: number;
  miOn: number;
  miRatio: number;
  miRatioSe: number;
  /** The theory's ratio: keep². */
  miPredicted: number;
  /** Mean binned channel entropy (bits), off and on, and keep·entropyOff + H_b(keep). */
  entropyOff: number;
  entropyOn: number;
  entropyPredicted: number;
  /** Standard error of entropyOn − entropyPredicted. */
  entropySe: number;
  /** Fraction of exact zeros in the IC output: the realised drop rate. */
  droppedFraction: number;
  /** Channels used, of all; observations per channel (correlation) and for the information estimates. */
  channels: number;
  totalChannels: number;
  observations: number;
  infoObservations: number;
  pairs: number;
}

/**
 * Measures what an IC layer's dropout does to the independence of its output channels, at each of
 * `dropRates`, on the layer's input `x` (see the file comment). The dropout masks come from `seed`; the
 * global generator's state is restored afterwards. Channels constant after BatchNorm are left out.
 */
export function icDropoutEffect(x: Tensor, params: ICParams, dropRates: readonly number[], options: IndependenceOptions = {}): DropoutEffect[] {
  const op = 'icDropoutEffect';
  const o = resolved(op, options);
  if (!(x instanceof Tensor)) throw typeError(op, 'x', 'a Tensor [N, C, ...] (an IC layer input)', x);
  if (!Array.isArray(dropRates) || dropRates.length === 0) throw typeError(op, 'dropRates', 'a non-empty array of numbers in (0, 1)', dropRates);
  for (const p of dropRates) {
    checkNumber(op, 'dropRates[]', p);
    if (!(p > 0 && p < 1)) throw rangeError(op, 'dropRates[]', 'numbers in (0, 1)', p);
  }
  const eps = checkNumber(op, 'eps', params?.eps ?? 1e-5);
  const saved = rngState();
  try {
    return tidy(() =>
      noGrad(() => {
        const input = x.detach().contiguous();
        const ic = (dropRate: number) => icLayer(input, { weight: params.weight ?? null, bias: params.bias ?? null, training: true, dropRate, eps });
        const yOff = ic(0);
        const off = measureIndependence(yOff, { ...o, keeps: dropRates.map((p) => 1 - p) });
        return dropRates.map((p, k) => {
          const keep = 1 - p;
          return tidy(() => {
            manualSeed(o.seed + k);
            const yOn = ic(p);
            const on = measureIndependence(yOn, { ...o, channels: off.channels });
            const corrRatio = on.corr.mean / off.corr.mean;
            const miRatio = on.mi.mean / off.mi.mean;
            const predictedH = keep * off.entropy.mean + binaryEntropy(keep);
            const dropped = on.entropy.zeroFraction.reduce((a, b) => a + b, 0) / on.entropy.zeroFraction.length;
            return {
              dropRate: p,
              keep,
              corrOff: off.corr.mean,
              corrOn: on.corr.mean,
              corrRatio,
              corrRatioSe: Math.abs(corrRatio) * (on.corr.se / on.corr.mean + off.corr.se / off.corr.mean),
              corrPredicted: keep,
              corrPredictedMoments: off.corr.predictedRatios[k],
              miOff: off.mi.mean,
              miOn: on.mi.mean,
              miRatio,
              miRatioSe: Math.abs(miRatio) * (on.mi.se / Math.abs(on.mi.mean) + off.mi.se / Math.abs(off.mi.mean)),
              miPredicted: keep * keep,
              entropyOff: off.entropy.mean,
              entropyOn: on.entropy.mean,
              entropyPredicted: predictedH,
              entropySe: on.entropy.se + keep * off.entropy.se,
              droppedFraction: dropped,
              channels: off.channels.length,
              totalChannels: off.totalChannels,
              observations: off.corr.observations,
              infoObservations: off.infoObservations,
              pairs: off.pairs.length,
            };
          });
        });
      }),
    );
  } finally {
    setRngState(saved);
    saved.cpu.dispose();
    saved.cuda.forEach((t) => t.dispose());
  }
}
