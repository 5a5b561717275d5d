/** Loss functions and other functional forms. */
import { Tensor } from '../tensor';
import { typeError, rangeError } from '../validate';

/**
 * Mean cross-entropy between logits [N, C] and int64 class labels [N], optionally with label smoothing
 * (the target puts 1 - s on the label and s/C spread over all classes).
 */
export function crossEntropy(logits: Tensor, labels: Tensor, options: { labelSmoothing?: number } = {}): Tensor {
  if (!(logits instanceof Tensor)) throw typeError('crossEntropy', 'logits', 'a Tensor', logits);
  if (!(labels instanceof Tensor)) throw typeError('crossEntropy', 'labels', 'an int64 Tensor', labels);
  const s = options.labelSmoothing ?? 0;
  if (!(s >= 0 && s < 1)) throw rangeError('crossEntropy', 'labelSmoothing', 'a number in [0, 1)', s);
  const logp = logits.logSoftmax(1);
  const nll = logp.gather(1, labels.unsqueeze(1)).neg().mean();
  if (s === 0) return nll;
  const smooth = logp.mean(1).neg().mean();
  return nll.mul(1 - s).add(smooth.mul(s));
}
