/** Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`. */
import { native } from '../native';
import { Tensor } from '../tensor';
import { checkNumber, knownOptions, rangeError, typeError } from '../validate';

const N = native();

function params(op: string, parameters: Tensor | Tensor[]): Tensor[] {
  const list = parameters instanceof Tensor ? [parameters] : parameters;
  if (!Array.isArray(list)) throw typeError(op, 'parameters', 'a Tensor or an array of Tensors', parameters);
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw typeError(op, `parameters[${i}]`, 'a Tensor', p);
  });
  return list;
}

/** Options of `clipGradNorm_`. */
export interface ClipGradNormOptions {
  /** Order of the norm: 2 (default), any positive number, or Infinity for the largest absolute value. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite (one host read) instead of scaling by it. */
  errorIfNonfinite?: boolean;
  /** Multi-tensor kernels (default true). */
  foreach?: boolean;
}

/**
 * Scales the gradients of `parameters` in place so that their total norm (the norm of the per-gradient
 * norms) is at most `maxNorm`: each gradient is multiplied by min(1, maxNorm / (total + 1e-6)). Returns the
 * total norm before clipping as a 0-d tensor (on the gradients' device; no host read). Parameters without
 * a gradient are skipped.
 */
export function clipGradNorm_(parameters: Tensor | Tensor[], maxNorm: number, options: ClipGradNormOptions = {}): Tensor {
  const op = 'clipGradNorm_';
  const ps = params(op, parameters);
  checkNumber(op, 'maxNorm', maxNorm);
  knownOptions(op, options, ['normType', 'errorIfNonfinite', 'foreach']);
  const normType = options.normType ?? 2;
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType <= 0) throw rangeError(op, 'normType', 'a positive number or Infinity', normType);
  return new Tensor(N.clipGradNorm(ps.map((p) => p.handle), maxNorm, normType, options.errorIfNonfinite ?? false, options.foreach ?? true));
}

/** Clamps every gradient of `parameters` to [-clipValue, clipValue] in place. */
export function clipGradValue_(parameters: Tensor | Tensor[], clipValue: number): void {
  const op = 'clipGradValue_';
  const ps = params(op, parameters);
  checkNumber(op, 'clipValue', clipValue);
  if (clipValue < 0) throw rangeError(op, 'clipValue', 'a number >= 0', clipValue);
  N.clipGradValue(ps.map((p) => p.handle), clipValue);
}
