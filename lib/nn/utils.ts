/**
 * `torch.nn.utils`: gradient clipping (`clipGradNorm_`, `clipGradValue_`), a model's parameters as one vector and
 * back (`parametersToVector`, `vectorToParameters`), and `rnn`, the packed sequences of the recurrent layers
 * (`nn.utils.rnn.packPaddedSequence`, `PackedSequence`, ...).
 */
import { cat } from '../creation';
import { noGrad } from '../autograd';
import { Tensor } from '../tensor';
import { typeError } from '../validate';
import { fmt } from './checks';

export { clipGradNorm_, clipGradValue_, type ClipGradNormOptions } from '../optim/clip';
/** `torch.nn.utils.rnn`: `PackedSequence`, `packPaddedSequence`, `padPackedSequence`, `padSequence`, `unpadSequence`, `packSequence`, `unpackSequence`, `invertPermutation`. */
export * as rnn from './utils-rnn';

// The parameters argument: an array (or another iterable) of Tensors, all on one device (PyTorch's
// _check_param_device: "Found two parameters on different devices").
function parameterList(op: string, parameters: unknown): Tensor[] {
  const iterable = parameters !== null && typeof parameters === 'object' && typeof (parameters as Iterable<unknown>)[Symbol.iterator] === 'function';
  if (!iterable || parameters instanceof Tensor) throw typeError(op, 'parameters', 'an array (or iterable) of Tensors', parameters);
  const list = Array.from(parameters as Iterable<unknown>);
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw typeError(op, `parameters[${i}]`, 'a Tensor', p);
  });
  const ps = list as Tensor[];
  if (ps.length === 0) throw new RangeError(`${op}: expected at least one parameter but received none`);
  const device = ps[0].device;
  ps.forEach((p, i) => {
    if (p.device !== device) throw new TypeError(`${op}: found parameters on two devices (parameters[0] on ${device}, parameters[${i}] on ${p.device}); all must be on one`);
  });
  return ps;
}

/**
 * The parameters flattened and concatenated into one 1-d tensor (`torch.nn.utils.parameters_to_vector`), in the
 * order given; all on one device. The result is a new tensor that records autograd (gradients flow back to the
 * parameters).
 *
 * ```ts
 * const net = new nn.Linear(3, 2);
 * const v = nn.utils.parametersToVector(net.parameters()); // (8): the weight's 6 values, then the bias's 2
 * ```
 */
export function parametersToVector(parameters: Iterable<Tensor>): Tensor {
  const ps = parameterList('parametersToVector', parameters);
  return cat(ps.map((p) => p.reshape(-1)));
}

/**
 * Copies consecutive slices of a 1-d vector into the parameters, in the order given, without recording autograd
 * (`torch.nn.utils.vector_to_parameters`): the inverse of `parametersToVector`. `vec` must hold exactly as many
 * elements as the parameters together (PyTorch ignores extra elements; here they are an error). Unlike PyTorch's,
 * which makes each parameter a view of `vec`, the values are copied, so the parameters keep their own memory and
 * dtype.
 *
 * ```ts
 * const v = nn.utils.parametersToVector(net.parameters());
 * nn.utils.vectorToParameters(v.mul(0.5), net.parameters()); // every weight halved
 * ```
 */
export function vectorToParameters(vec: Tensor, parameters: Iterable<Tensor>): void {
  const op = 'vectorToParameters';
  if (!(vec instanceof Tensor)) throw typeError(op, 'vec', 'a Tensor', vec);
  const ps = parameterList(op, parameters);
  if (vec.ndim !== 1) throw new RangeError(`${op}: expected a 1-d tensor for vec but received shape ${fmt(vec.shape)}`);
  const total = ps.reduce((n, p) => n + p.numel(), 0);
  if (vec.shape[0] !== total) throw new RangeError(`${op}: expected vec of ${total} elements (the parameters' total) but received ${vec.shape[0]}`);
  noGrad(() => {
    let offset = 0;
    for (const p of ps) {
      const n = p.numel();
      const slice = vec.narrow(0, offset, n);
      const view = slice.reshape(p.shape);
      try {
        p.copy_(view);
      } finally {
        view.dispose();
        slice.dispose();
      }
      offset += n;
    }
  });
}
