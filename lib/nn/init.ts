/** In-place parameter initialisation, named as `torch.nn.init` names it. */
import { noGrad } from '../autograd';
import { randn } from '../creation';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkOneOf, knownOptions, typeError } from '../validate';

/** Options of `kaimingNormal_`. */
export interface KaimingOptions {
  /** Scale by the fan-in (preserves forward variance, default) or the fan-out (backward variance). */
  mode?: 'fanIn' | 'fanOut';
  /** The activation that follows: its gain is √2 for `relu`, 1 for `linear`. Default `relu`. */
  nonlinearity?: 'relu' | 'linear';
}

/**
 * Fills `t` (a weight of at least 2 dimensions, `[out, in, ...kernel]`) with samples of N(0, std²),
 * std = gain / √fan (He et al., 2015), from the global generator: `torch.nn.init.kaiming_normal_`.
 * Returns `t`.
 */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  if (!(t instanceof Tensor)) throw typeError('kaimingNormal_', 't', 'a Tensor', t);
  knownOptions('kaimingNormal_', options, ['mode', 'nonlinearity']);
  const shape = t.shape;
  if (shape.length < 2) throw new RangeError(`kaimingNormal_: expected a weight of at least 2 dimensions [out, in, ...] but received shape [${shape.join(', ')}].`);
  const mode = checkOneOf('kaimingNormal_', 'mode', options.mode ?? 'fanIn', ['fanIn', 'fanOut'] as const);
  const nonlinearity = checkOneOf('kaimingNormal_', 'nonlinearity', options.nonlinearity ?? 'relu', ['relu', 'linear'] as const);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  const fan = (mode === 'fanIn' ? shape[1] : shape[0]) * receptive;
  const std = (nonlinearity === 'relu' ? Math.SQRT2 : 1) / Math.sqrt(fan);
  noGrad(() => tidy(() => t.copy_(randn(shape, { dtype: t.dtype, device: t.device }).mul_(std))));
  return t;
}
