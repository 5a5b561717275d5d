/**
 * In-place parameter initialisation, named as `torch.nn.init` names it (camelCase, options for keywords):
 * `uniform_`, `normal_`, `constant_`, `zeros_`, `ones_`, `xavierUniform_`, `xavierNormal_`, `kaimingUniform_`,
 * `kaimingNormal_`, and `calculateGain`. Each fills the tensor without recording gradients and returns it;
 * random values come from the global generator or `options.generator`.
 */
import { noGrad } from '../autograd';
import type { Generator } from '../generator';
import { Tensor } from '../tensor';
import { checkNumber, checkOneOf, knownOptions, rangeError, typeError } from '../validate';

/** The activations `calculateGain` knows (PyTorch's names in camelCase). */
export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';
const NONLINEARITIES: readonly Nonlinearity[] = ['linear', 'conv1d', 'conv2d', 'conv3d', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'selu'];

/**
 * The recommended gain for an activation (`torch.nn.init.calculate_gain`): 1 for linear, convolutions and
 * sigmoid, 5/3 for tanh, √2 for relu, √(2 / (1 + slope²)) for leakyRelu (slope `param`, default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  const n = checkOneOf('calculateGain', 'nonlinearity', nonlinearity, NONLINEARITIES);
  if (n === 'tanh') return 5 / 3;
  if (n === 'relu') return Math.SQRT2;
  if (n === 'selu') return 3 / 4;
  if (n === 'leakyRelu') {
    const slope = param === undefined ? 0.01 : checkNumber('calculateGain', 'param', param);
    return Math.sqrt(2 / (1 + slope * slope));
  }
  return 1;
}

function tensorArg(op: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw typeError(op, 't', 'a Tensor', t);
  return t;
}

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field, as PyTorch computes them.
function fans(op: string, t: Tensor): { fanIn: number; fanOut: number } {
  const shape = t.shape;
  if (shape.length < 2) throw new RangeError(`${op}: expected a weight of at least 2 dimensions [out, in, ...] but received shape [${shape.join(', ')}].`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

// The random fills are the tensor's own in-place samplers, as PyTorch's nn.init calls them: the same numbers for the
// same seed (a uniform drawn as rand·(b − a) + a rounds differently from uniform_(a, b) in float32).
function uniformInto(t: Tensor, a: number, b: number, generator: Generator | undefined): Tensor {
  noGrad(() => t.uniform_(a, b, { generator }));
  return t;
}

function normalInto(t: Tensor, mean: number, std: number, generator: Generator | undefined): Tensor {
  noGrad(() => t.normal_(mean, std, { generator }));
  return t;
}

/** Options of the random initialisers: the generator to draw from (default the global one). */
export interface InitOptions {
  generator?: Generator;
}

/** Fills `t` with U(a, b) (default U(0, 1)). */
export function uniform_(t: Tensor, a = 0, b = 1, options: InitOptions = {}): Tensor {
  tensorArg('uniform_', t);
  checkNumber('uniform_', 'a', a);
  checkNumber('uniform_', 'b', b);
  if (!(a <= b)) throw rangeError('uniform_', 'b', `a number >= a (${a})`, b);
  return uniformInto(t, a, b, knownOptions('uniform_', options, ['generator']).generator as Generator | undefined);
}

/** Fills `t` with N(mean, std²) (default N(0, 1)). */
export function normal_(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  tensorArg('normal_', t);
  checkNumber('normal_', 'mean', mean);
  checkNumber('normal_', 'std', std);
  if (std < 0) throw rangeError('normal_', 'std', 'a number >= 0', std);
  return normalInto(t, mean, std, knownOptions('normal_', options, ['generator']).generator as Generator | undefined);
}

/** Fills `t` with `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  tensorArg('constant_', t);
  checkNumber('constant_', 'value', value);
  noGrad(() => t.fill_(value));
  return t;
}

/** Fills `t` with zeros. */
export function zeros_(t: Tensor): Tensor {
  return constant_(tensorArg('zeros_', t), 0);
}

/** Fills `t` with ones. */
export function ones_(t: Tensor): Tensor {
  return constant_(tensorArg('ones_', t), 1);
}

/** Options of the Xavier (Glorot) initialisers. */
export interface XavierOptions extends InitOptions {
  /** Scale (default 1; `calculateGain` gives the usual values). */
  gain?: number;
}

/** Fills `t` with U(−a, a), a = gain · √(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010). */
export function xavierUniform_(t: Tensor, options: XavierOptions = {}): Tensor {
  const o = knownOptions('xavierUniform_', options, ['gain', 'generator']) as XavierOptions;
  const { fanIn, fanOut } = fans('xavierUniform_', tensorArg('xavierUniform_', t));
  const a = checkNumber('xavierUniform_', 'gain', o.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniformInto(t, -a, a, o.generator);
}

/** Fills `t` with N(0, std²), std = gain · √(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, options: XavierOptions = {}): Tensor {
  const o = knownOptions('xavierNormal_', options, ['gain', 'generator']) as XavierOptions;
  const { fanIn, fanOut } = fans('xavierNormal_', tensorArg('xavierNormal_', t));
  return normalInto(t, 0, checkNumber('xavierNormal_', 'gain', o.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), o.generator);
}

/** Options of the Kaiming (He) initialisers. */
export interface KaimingOptions extends InitOptions {
  /** The negative slope of the leaky ReLU that follows (default 0; with `relu` it is not used). */
  a?: number;
  /** Scale by the fan-in (preserves forward variance, default) or the fan-out (backward variance). */
  mode?: 'fanIn' | 'fanOut';
  /** The activation that follows: `relu` (default, gain √2), `leakyRelu` (slope `a`), `linear` (gain 1), ... */
  nonlinearity?: Nonlinearity;
}

// std = gain / √fan for the Kaiming initialisers.
function kaimingStd(op: string, t: Tensor, options: KaimingOptions): { std: number; generator?: Generator } {
  const o = knownOptions(op, options, ['a', 'mode', 'nonlinearity', 'generator']) as KaimingOptions;
  const { fanIn, fanOut } = fans(op, tensorArg(op, t));
  const mode = checkOneOf(op, 'mode', o.mode ?? 'fanIn', ['fanIn', 'fanOut'] as const);
  const nonlinearity = checkOneOf(op, 'nonlinearity', o.nonlinearity ?? 'relu', NONLINEARITIES);
  const gain = calculateGain(nonlinearity, nonlinearity === 'leakyRelu' ? checkNumber(op, 'a', o.a ?? 0) : undefined);
  return { std: gain / Math.sqrt(mode === 'fanIn' ? fanIn : fanOut), generator: o.generator };
}

/**
 * Fills `t` (a weight of at least 2 dimensions, `[out, in, ...kernel]`) with N(0, std²), std = gain / √fan
 * (He et al., 2015): `torch.nn.init.kaiming_normal_`. Returns `t`.
 */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const { std, generator } = kaimingStd('kaimingNormal_', t, options);
  return normalInto(t, 0, std, generator);
}

/** Fills `t` with U(−bound, bound), bound = √3 · gain / √fan: `torch.nn.init.kaiming_uniform_`. */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const { std, generator } = kaimingStd('kaimingUniform_', t, options);
  const bound = Math.sqrt(3) * std;
  return uniformInto(t, -bound, bound, generator);
}
