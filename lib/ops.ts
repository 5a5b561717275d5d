/**
 * The `torch.*` functions that are neither factories (`creation.ts`) nor only Tensor methods: searching sorted
 * sequences, pairwise distances, sampling, closeness tests, and the function forms PyTorch code writes as
 * `torch.tril(x)`.
 */
import { generatorHandle, type Generator } from './generator';
import { native } from './native';
import { Tensor } from './tensor';
import { checkBool, checkInt, checkNumber, knownOptions, rangeError, typeError } from './validate';

const N = native();

function tensorIn(op: string, arg: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw typeError(op, arg, 'a Tensor', v);
  return v;
}

/** Options of `searchsorted` and `bucketize`. */
export interface SearchOptions {
  /** Return the last position a value could go (after equal elements) instead of the first. */
  right?: boolean;
  /** int32 indices instead of int64. */
  outInt32?: boolean;
}

function search(op: string, sequence: Tensor, values: Tensor | number, options: SearchOptions): Tensor {
  const o = knownOptions(op, options, ['right', 'outInt32']);
  const v = values instanceof Tensor ? values.handle : typeof values === 'number' ? checkNumber(op, 'values', values) : (() => { throw typeError(op, 'values', 'a Tensor or a number', values); })();
  return new Tensor(N.searchsorted(sequence.handle, v, checkBool(op, 'right', o.right ?? false), checkBool(op, 'outInt32', o.outInt32 ?? false)));
}

/**
 * Where each of `values` would be inserted into `sortedSequence` (sorted ascending along its last dimension) to
 * keep it sorted, as PyTorch's `searchsorted`. A multi-dimensional sequence is searched row by row, `values`
 * having the same leading dimensions.
 */
export function searchsorted(sortedSequence: Tensor, values: Tensor | number, options: SearchOptions = {}): Tensor {
  return search('searchsorted', tensorIn('searchsorted', 'sortedSequence', sortedSequence), values, options);
}

/** The bucket of each element of `input` given ascending 1-d `boundaries`, as PyTorch's `bucketize`. */
export function bucketize(input: Tensor, boundaries: Tensor, options: SearchOptions = {}): Tensor {
  const b = tensorIn('bucketize', 'boundaries', boundaries);
  if (b.ndim !== 1) throw rangeError('bucketize', 'boundaries', 'a 1-d tensor', b.shape);
  return search('bucketize', b, tensorIn('bucketize', 'input', input), options);
}

/** p-norm distances between each row of `x1` (shape `[*, P, M]`) and each row of `x2` (`[*, R, M]`): `[*, P, R]` (PyTorch's `cdist`; p may be Infinity). */
export function cdist(x1: Tensor, x2: Tensor, p = 2): Tensor {
  const op = 'cdist';
  const a = tensorIn(op, 'x1', x1);
  const b = tensorIn(op, 'x2', x2);
  if (a.ndim < 2 || b.ndim < 2) throw rangeError(op, 'x1 and x2', 'tensors of at least 2 dimensions', [a.shape, b.shape]);
  if (a.shape[a.ndim - 1] !== b.shape[b.ndim - 1]) throw rangeError(op, 'x2', `rows of ${a.shape[a.ndim - 1]} features, as x1's`, b.shape);
  if (typeof p !== 'number' || !(p >= 0)) throw rangeError(op, 'p', 'a number >= 0 (Infinity included)', p);
  return new Tensor(N.distance('cdist', a.handle, b.handle, p));
}

/** Category indices drawn from each row of non-negative `input` weights (see Tensor.multinomial). */
export function multinomial(input: Tensor, numSamples: number, replacement = false, options: { generator?: Generator } = {}): Tensor {
  return tensorIn('multinomial', 'input', input).multinomial(numSamples, replacement, options);
}

/** 1 with probability `input` (or `p`, when given, for every element of input's shape), else 0 (PyTorch's `bernoulli`). */
export function bernoulli(input: Tensor, p?: number, options: { generator?: Generator } = {}): Tensor {
  const x = tensorIn('bernoulli', 'input', input);
  if (p === undefined || p === null) return x.bernoulli(options);
  const o = knownOptions('bernoulli', options, ['generator']);
  return new Tensor(N.sample('bernoulliP', generatorHandle('bernoulli', o.generator as Generator | undefined), x.handle, checkNumber('bernoulli', 'p', p)));
}

/**
 * Draws from the Poisson distribution of each element's rate (finite, >= 0), as PyTorch's `poisson`: a tensor of
 * input's shape and dtype holding whole numbers; the same numbers as PyTorch's for the same seed on the CPU.
 */
export function poisson(input: Tensor, options: { generator?: Generator } = {}): Tensor {
  const x = tensorIn('poisson', 'input', input);
  const o = knownOptions('poisson', options, ['generator']);
  return new Tensor(N.sample('poisson', generatorHandle('poisson', o.generator as Generator | undefined), x.handle));
}

/**
 * Draws from the binomial distribution of `count` trials (whole numbers >= 0) with success probability `prob` (in
 * [0, 1]) elementwise, as PyTorch's `binomial`: both of one floating dtype and shape; the result, of that dtype,
 * holds whole numbers in [0, count], the same numbers as PyTorch's for the same seed on the CPU.
 */
export function binomial(count: Tensor, prob: Tensor, options: { generator?: Generator } = {}): Tensor {
  const c = tensorIn('binomial', 'count', count);
  const p = tensorIn('binomial', 'prob', prob);
  const o = knownOptions('binomial', options, ['generator']);
  return new Tensor(N.sample('binomial', generatorHandle('binomial', o.generator as Generator | undefined), c.handle, p.handle));
}

/** Elementwise closeness (see Tensor.isclose). */
export function isclose(input: Tensor, other: Tensor, rtol = 1e-5, atol = 1e-8, equalNan = false): Tensor {
  return tensorIn('isclose', 'input', input).isclose(other, rtol, atol, equalNan);
}

/** Whether every element of `input` is close to `other`'s (see Tensor.allclose). */
export function allclose(input: Tensor, other: Tensor, rtol = 1e-5, atol = 1e-8, equalNan = false): boolean {
  return tensorIn('allclose', 'input', input).allclose(other, rtol, atol, equalNan);
}

/** The lower triangle (see Tensor.tril). */
export function tril(input: Tensor, diagonal = 0): Tensor {
  return tensorIn('tril', 'input', input).tril(checkInt('tril', 'diagonal', diagonal));
}

/** The upper triangle (see Tensor.triu). */
export function triu(input: Tensor, diagonal = 0): Tensor {
  return tensorIn('triu', 'input', input).triu(checkInt('triu', 'diagonal', diagonal));
}
