/**
 * More of `torch.nn.functional`: the activations `selu`, `celu`, `glu`, `logsigmoid`, `softshrink`, `hardshrink`,
 * `tanhshrink`, `softsign`, `softmin`, `rrelu` and `prelu`; `instanceNorm`; the rearrangements `pixelShuffle`,
 * `pixelUnshuffle` and `channelShuffle`; `unfold` and `fold` (sliding blocks to columns and back); `bilinear`.
 * PyTorch 1.13's names, argument order and defaults in camelCase, autograd through all of them, one ATen call
 * each (`tanhshrink`, `softsign` and `softmin` are two or three).
 *
 * ```ts
 * const F = torch.nn.functional;
 * const y = F.pixelShuffle(F.selu(x), 2);                 // (N, 4C, H, W) -> (N, C, 2H, 2W)
 * const cols = F.unfold(img, 3, { padding: 1 });          // (N, C·9, H·W)
 * ```
 *
 * Each op checks its inputs (dtype, device, shapes, options) first and names the op and the mismatch in its
 * error; unknown options are errors.
 * @module
 */
import { isGradEnabled } from '../autograd';
import { FLOATING_DTYPES, isFloatingDType, type DType } from '../dtype';
import { native, type TensorHandle } from '../native';
import { Tensor } from '../tensor';
import { checkInt, checkNumber, checkOneOf, knownOptions, rangeError, typeError } from '../validate';
import { blockGeometry, boolOpt, celuAlpha, floatArg, fmt, numberOpt, optTensorArg, pair, perChannel, rreluBounds, sameKind, shapeError, softshrinkLambd, tensorArg, type BlockGeometry } from './checks';
import { softmax } from './functional';

const N = native();
const h = (t: Tensor | null): TensorHandle | null => (t ? t.handle : null);

// Runs `f`, then disposes the intermediate tensors `made` (the autograd graph keeps what it needs of them).
function disposing<T>(made: Tensor[], f: () => T): T {
  try {
    return f();
  } finally {
    for (const t of made) t.dispose();
  }
}

const prod = (xs: number[]): number => xs.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------- activations

/**
 * scale · (max(0, x) + min(0, α·(eˣ − 1))) with α ≈ 1.6733 and scale ≈ 1.0507, the self-normalising ELU
 * (`torch.nn.functional.selu`).
 */
export function selu(input: Tensor): Tensor {
  return new Tensor(N.activation('selu', floatArg('selu', 'input', input).handle));
}

/** Options of `celu`. */
export interface CELUFunctionalOptions {
  /** The α of max(0, x) + min(0, α·(e^(x/α) − 1)); nonzero (default 1). */
  alpha?: number;
}

/** max(0, x) + min(0, α·(e^(x/α) − 1)), the continuously differentiable ELU (`torch.nn.functional.celu`; default α 1). */
export function celu(input: Tensor, options: CELUFunctionalOptions = {}): Tensor {
  const op = 'celu';
  const o = knownOptions(op, options, ['alpha']);
  const x = floatArg(op, 'input', input);
  return new Tensor(N.activation('celu', x.handle, celuAlpha(op, o.alpha)));
}

/**
 * The gated linear unit (`torch.nn.functional.glu`): `input` is split in two halves a, b along `dim` (default -1,
 * of even size) and a · sigmoid(b) is returned (that dimension halved).
 */
export function glu(input: Tensor, dim = -1): Tensor {
  const op = 'glu';
  const x = floatArg(op, 'input', input);
  if (x.ndim === 0) throw shapeError(op, 'input', 'at least 1 dimension (glu halves one)', x.shape);
  const d = checkInt(op, 'dim', dim, -x.ndim, x.ndim - 1);
  if (x.shape[d < 0 ? d + x.ndim : d] % 2 !== 0) throw shapeError(op, 'input', `an even size in dimension ${d} (glu halves it)`, x.shape);
  return new Tensor(N.activation('glu', x.handle, d));
}

/** log(1 / (1 + e^(−x))), computed stably (`torch.nn.functional.logsigmoid`). */
export function logsigmoid(input: Tensor): Tensor {
  return new Tensor(N.activation('logSigmoid', floatArg('logsigmoid', 'input', input).handle));
}

/** x − lambd for x > lambd, x + lambd for x < −lambd, 0 in between (`torch.nn.functional.softshrink`; lambd ≥ 0, default 0.5). */
export function softshrink(input: Tensor, lambd = 0.5): Tensor {
  const x = floatArg('softshrink', 'input', input);
  return new Tensor(N.activation('softshrink', x.handle, softshrinkLambd('softshrink', lambd)));
}

/** x where |x| > lambd, 0 elsewhere (`torch.nn.functional.hardshrink`; default lambd 0.5). */
export function hardshrink(input: Tensor, lambd = 0.5): Tensor {
  const x = floatArg('hardshrink', 'input', input);
  return new Tensor(N.activation('hardshrink', x.handle, checkNumber('hardshrink', 'lambd', lambd)));
}

/** x − tanh(x) (`torch.nn.functional.tanhshrink`). */
export function tanhshrink(input: Tensor): Tensor {
  const x = floatArg('tanhshrink', 'input', input);
  const t = x.tanh();
  return disposing([t], () => x.sub(t));
}

/** x / (1 + |x|) (`torch.nn.functional.softsign`). */
export function softsign(input: Tensor): Tensor {
  const x = floatArg('softsign', 'input', input);
  const a = x.abs();
  const d = a.add(1);
  return disposing([a, d], () => x.div(d));
}

/** Options of `softmin`. */
export interface SoftminFunctionalOptions {
  /** Cast the input to this floating dtype first and return it (an integer input needs one). */
  dtype?: DType;
}

/**
 * softmax(−x) along `dim` (`torch.nn.functional.softmin`): the values along it are positive, sum to 1, and the
 * smallest input gets the largest. With `dtype` the result has that dtype (an integer input is accepted then).
 */
export function softmin(input: Tensor, dim: number, options: SoftminFunctionalOptions = {}): Tensor {
  const op = 'softmin';
  const o = knownOptions(op, options, ['dtype']);
  const x = tensorArg(op, 'input', input);
  const dtype = o.dtype === undefined || o.dtype === null ? undefined : checkOneOf(op, 'dtype', o.dtype, FLOATING_DTYPES);
  if (x.dtype === 'bool' || (dtype === undefined && !isFloatingDType(x.dtype))) {
    throw new TypeError(`${op}: expected a floating-point tensor for input (or an integer one with a floating dtype option) but received ${x.dtype}`);
  }
  const n = Math.max(1, x.ndim);
  checkInt(op, 'dim', dim, -n, n - 1);
  const neg = x.neg();
  return disposing([neg], () => softmax(neg, dim, dtype === undefined ? {} : { dtype }));
}

/** Options of `rrelu`. */
export interface RReLUFunctionalOptions {
  /** The smallest slope for negative inputs (default 1/8). */
  lower?: number;
  /** The largest slope, ≥ lower (default 1/3). */
  upper?: number;
  /** Draw each element's slope from U(lower, upper) (default false: the fixed slope (lower + upper) / 2). */
  training?: boolean;
}

/**
 * The randomised leaky ReLU (`torch.nn.functional.rrelu`): x for x ≥ 0 and a·x otherwise, where in training each
 * element's slope a is drawn from U(lower, upper) with the default generator, and out of training a is
 * (lower + upper) / 2. Defaults: lower 1/8, upper 1/3, training false (as PyTorch's functional form).
 */
export function rrelu(input: Tensor, options: RReLUFunctionalOptions = {}): Tensor {
  const op = 'rrelu';
  const o = knownOptions(op, options, ['lower', 'upper', 'training']);
  const x = floatArg(op, 'input', input);
  const [lower, upper] = rreluBounds(op, o.lower, o.upper);
  return new Tensor(N.activation('rrelu', x.handle, lower, upper, boolOpt(op, 'training', o.training, false)));
}

/**
 * max(0, x) + weight · min(0, x) with a learnable slope (`torch.nn.functional.prelu`): `weight` has one element
 * (shared) or one per channel (dim 1 of `input`; an input of fewer than 2 dimensions has one channel).
 */
export function prelu(input: Tensor, weight: Tensor): Tensor {
  const op = 'prelu';
  const x = floatArg(op, 'input', input);
  const w = floatArg(op, 'weight', weight);
  sameKind(op, 'weight', w, 'input', x);
  const c = x.ndim >= 2 ? x.shape[1] : 1;
  if (w.ndim > 1 || (w.numel() !== 1 && w.numel() !== c)) {
    const per = x.ndim >= 2 ? ` or ${c} (one per channel, dim 1 of input ${fmt(x.shape)})` : ` (input ${fmt(x.shape)} has no channel dimension)`;
    throw shapeError(op, 'weight', `a scalar or a 1-d tensor of 1 element${per}`, w.shape);
  }
  return new Tensor(N.activation('prelu', x.handle, w.handle));
}

// ---------------------------------------------------------------- instance normalisation

/** Options of `instanceNorm`. */
export interface InstanceNormFunctionalOptions {
  /** Per-channel running mean (C), updated in place when `useInputStats`; used for normalising otherwise. */
  runningMean?: Tensor | null;
  /** Per-channel running variance (C, unbiased estimates), as `runningMean`. */
  runningVar?: Tensor | null;
  /** Per-channel scale (C). */
  weight?: Tensor | null;
  /** Per-channel shift (C). */
  bias?: Tensor | null;
  /** Normalise each sample's channel by its own statistics (default true); false uses the running ones. */
  useInputStats?: boolean;
  /** Weight of the new statistics in the running averages (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * Instance normalisation of `input` (N, C, ...), as `torch.nn.functional.instance_norm`: each sample's channel is
 * normalised over its positions (biased variance, `eps` added), then scaled by `weight` and shifted by `bias`.
 * With `useInputStats` (the default) the running statistics, when given, are updated in place with the batch's
 * mean over samples of the per-instance statistics; with `useInputStats: false` they normalise instead.
 */
export function instanceNorm(input: Tensor, options: InstanceNormFunctionalOptions = {}): Tensor {
  const op = 'instanceNorm';
  const o = knownOptions(op, options, ['runningMean', 'runningVar', 'weight', 'bias', 'useInputStats', 'momentum', 'eps']);
  const x = floatArg(op, 'input', input);
  if (x.ndim < 2) throw shapeError(op, 'input', 'at least 2 dimensions (N, C, ...)', x.shape);
  const c = x.shape[1];
  const named = (['runningMean', 'runningVar', 'weight', 'bias'] as const).map((name) => {
    const t = optTensorArg(op, name, o[name]);
    if (t) {
      perChannel(op, name, t, c, `one per channel of input ${fmt(x.shape)}`);
      sameKind(op, name, t, 'input', x);
    }
    return t;
  });
  const [rm, rv, weight, bias] = named;
  const useInputStats = boolOpt(op, 'useInputStats', o.useInputStats, true);
  if (!useInputStats && (!rm || !rv)) throw typeError(op, 'runningMean and runningVar', 'Tensors when useInputStats is false (the input is normalised with them)', null);
  if (useInputStats && prod(x.shape.slice(2)) <= 1) throw shapeError(op, 'input', 'more than 1 spatial element per channel (dims 2 and on) when useInputStats is true', x.shape);
  const momentum = numberOpt(op, 'momentum', o.momentum, 0.1, { min: 0, max: 1 });
  const eps = numberOpt(op, 'eps', o.eps, 1e-5, { min: 0 });
  return new Tensor(N.instanceNorm(x.handle, h(weight), h(bias), h(rm), h(rv), useInputStats, momentum, eps));
}

// ---------------------------------------------------------------- rearrangements

/**
 * Rearranges (..., C·r², H, W) into (..., C, H·r, W·r) (`torch.nn.functional.pixel_shuffle`, the sub-pixel
 * convolution's upsampling; r = `upscaleFactor`). Any dtype.
 */
export function pixelShuffle(input: Tensor, upscaleFactor: number): Tensor {
  const op = 'pixelShuffle';
  const x = tensorArg(op, 'input', input);
  const r = checkInt(op, 'upscaleFactor', upscaleFactor, 1);
  if (x.ndim < 3) throw shapeError(op, 'input', 'at least 3 dimensions (..., C·r², H, W)', x.shape);
  if (x.shape[x.ndim - 3] % (r * r) !== 0) throw shapeError(op, 'input', `a channel count (dim -3) divisible by upscaleFactor² = ${r * r}`, x.shape);
  return new Tensor(N.rearrange('pixelShuffle', x.handle, r));
}

/** Rearranges (..., C, H·r, W·r) into (..., C·r², H, W), the inverse of `pixelShuffle` (`torch.nn.functional.pixel_unshuffle`). Any dtype. */
export function pixelUnshuffle(input: Tensor, downscaleFactor: number): Tensor {
  const op = 'pixelUnshuffle';
  const x = tensorArg(op, 'input', input);
  const r = checkInt(op, 'downscaleFactor', downscaleFactor, 1);
  if (x.ndim < 3) throw shapeError(op, 'input', 'at least 3 dimensions (..., C, H·r, W·r)', x.shape);
  const [hh, ww] = x.shape.slice(-2);
  if (hh % r !== 0 || ww % r !== 0) throw shapeError(op, 'input', `a height and width (dims -2, -1) divisible by downscaleFactor ${r}`, x.shape);
  return new Tensor(N.rearrange('pixelUnshuffle', x.handle, r));
}

/**
 * Shuffles the channels of (N, C, ...) in `groups` groups (`torch.nn.functional.channel_shuffle`, ShuffleNet's):
 * viewed as (N, groups, C/groups, ...), the two channel dimensions are transposed. Any dtype. LibTorch 1.13's
 * kernel has no gradient, so where one is needed (the input requires grad, grad mode on) the same permutation is
 * taken as reshape, transpose, reshape, which has one.
 */
export function channelShuffle(input: Tensor, groups: number): Tensor {
  const op = 'channelShuffle';
  const x = tensorArg(op, 'input', input);
  const g = checkInt(op, 'groups', groups, 1);
  if (x.ndim < 3) throw shapeError(op, 'input', 'at least 3 dimensions (N, C, ...)', x.shape);
  const c = x.shape[1];
  if (c % g !== 0) throw shapeError(op, 'input', `a channel count (dim 1) divisible by groups ${g}`, x.shape);
  if (!(isGradEnabled() && x.requiresGrad)) return new Tensor(N.rearrange('channelShuffle', x.handle, g));
  const [n, , ...rest] = x.shape;
  const grouped = x.reshape([n, g, c / g, ...rest]);
  const swapped = grouped.transpose(1, 2);
  return disposing([grouped, swapped], () => swapped.reshape(x.shape));
}

// ---------------------------------------------------------------- sliding blocks

/** Options of `unfold` and `fold` (and of `nn.Unfold`, `nn.Fold`): one integer for both spatial dimensions or a pair. */
export interface FoldFunctionalOptions {
  /** Spacing between kernel elements (default 1). */
  dilation?: number | [number, number];
  /** Implicit zero padding on each side (default 0). */
  padding?: number | [number, number];
  /** Step between blocks (default 1). */
  stride?: number | [number, number];
}

// The number of blocks along each spatial dimension of size `size`.
const blocks = (size: number[], g: BlockGeometry): number[] =>
  size.map((s, i) => Math.floor((s + 2 * g.padding[i] - g.dilation[i] * (g.kernelSize[i] - 1) - 1) / g.stride[i]) + 1);

const geometryText = (g: BlockGeometry): string =>
  `kernelSize ${fmt(g.kernelSize)}, dilation ${fmt(g.dilation)}, padding ${fmt(g.padding)}, stride ${fmt(g.stride)}`;

/**
 * Extracts sliding blocks of `input` (N, C, H, W) or (C, H, W) into columns (`torch.nn.functional.unfold`, im2col):
 * the output is (N, C·kH·kW, L), L the number of blocks, each column one block's values.
 */
export function unfold(input: Tensor, kernelSize: number | [number, number], options: FoldFunctionalOptions = {}): Tensor {
  const op = 'unfold';
  const o = knownOptions(op, options, ['dilation', 'padding', 'stride']);
  const x = floatArg(op, 'input', input);
  if (x.ndim !== 3 && x.ndim !== 4) throw shapeError(op, 'input', 'a 4-d (N, C, H, W) or 3-d (C, H, W) tensor', x.shape);
  if (x.shape.slice(-3).some((s) => s === 0)) throw shapeError(op, 'input', 'nonzero C, H and W', x.shape);
  const g = blockGeometry(op, kernelSize, o);
  const b = blocks(x.shape.slice(-2), g);
  if (b.some((n) => n < 1)) {
    const least = g.kernelSize.map((k, i) => g.dilation[i] * (k - 1) + 1 - 2 * g.padding[i]);
    throw shapeError(op, 'input', `a spatial size of at least ${fmt(least)} for ${geometryText(g)}`, x.shape);
  }
  return new Tensor(N.unfold(x.handle, g.kernelSize, g.dilation, g.padding, g.stride));
}

/**
 * Sums columns of sliding blocks back into an image (`torch.nn.functional.fold`, col2im; overlapping values add):
 * `input` (N, C·kH·kW, L) or (C·kH·kW, L), L the number of blocks `outputSize` holds, gives (N, C, *outputSize).
 */
export function fold(input: Tensor, outputSize: number | [number, number], kernelSize: number | [number, number], options: FoldFunctionalOptions = {}): Tensor {
  const op = 'fold';
  const o = knownOptions(op, options, ['dilation', 'padding', 'stride']);
  const x = floatArg(op, 'input', input);
  if (x.ndim !== 2 && x.ndim !== 3) throw shapeError(op, 'input', 'a 3-d (N, C·kH·kW, L) or 2-d (C·kH·kW, L) tensor', x.shape);
  if (x.shape.slice(-2).some((s) => s === 0)) throw shapeError(op, 'input', 'nonzero sizes in the last 2 dimensions', x.shape);
  const out = pair(op, 'outputSize', outputSize, 1);
  const g = blockGeometry(op, kernelSize, o);
  const b = blocks(out, g);
  if (b.some((n) => n < 1)) throw rangeError(op, 'outputSize', `a size that holds at least one block (${geometryText(g)})`, out);
  const kk = g.kernelSize[0] * g.kernelSize[1];
  const cdim = x.ndim - 2;
  if (x.shape[cdim] % kk !== 0) throw shapeError(op, 'input', `a size in dimension ${cdim} divisible by the kernel's ${kk} elements (C·kH·kW with kernelSize ${fmt(g.kernelSize)})`, x.shape);
  if (x.shape[cdim + 1] !== b[0] * b[1]) {
    throw shapeError(op, 'input', `${b[0] * b[1]} blocks (${b[0]} × ${b[1]}) in dimension ${cdim + 1}, as outputSize ${fmt(out)} holds with ${geometryText(g)}`, x.shape);
  }
  return new Tensor(N.fold(x.handle, out, g.kernelSize, g.dilation, g.padding, g.stride));
}

// ---------------------------------------------------------------- bilinear

/**
 * y = x1ᵀ · W · x2 + b for each output feature (`torch.nn.functional.bilinear`): `input1` (..., in1) and `input2`
 * (..., in2) with the same leading dimensions, `weight` (out, in1, in2), `bias` (out); the output is (..., out).
 */
export function bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const op = 'bilinear';
  const a = floatArg(op, 'input1', input1);
  const b = floatArg(op, 'input2', input2);
  const w = floatArg(op, 'weight', weight);
  const bs = optTensorArg(op, 'bias', bias);
  sameKind(op, 'input2', b, 'input1', a);
  sameKind(op, 'weight', w, 'input1', a);
  if (w.ndim !== 3) throw shapeError(op, 'weight', 'a 3-d tensor (outFeatures, in1Features, in2Features)', w.shape);
  if (a.ndim < 1 || a.shape[a.ndim - 1] !== w.shape[1]) throw shapeError(op, 'input1', `a last dimension of ${w.shape[1]} (the in1Features of weight ${fmt(w.shape)})`, a.shape);
  if (b.ndim < 1 || b.shape[b.ndim - 1] !== w.shape[2]) throw shapeError(op, 'input2', `a last dimension of ${w.shape[2]} (the in2Features of weight ${fmt(w.shape)})`, b.shape);
  const lead = a.shape.slice(0, -1);
  if (b.ndim !== a.ndim || b.shape.slice(0, -1).some((s, i) => s !== lead[i])) {
    throw shapeError(op, 'input2', `the leading dimensions ${fmt(lead)} of input1 ${fmt(a.shape)}`, b.shape);
  }
  if (bs) {
    sameKind(op, 'bias', bs, 'input1', a);
    perChannel(op, 'bias', bs, w.shape[0], `the outFeatures of weight ${fmt(w.shape)}`);
  }
  return new Tensor(N.bilinear(a.handle, b.handle, w.handle, h(bs)));
}
