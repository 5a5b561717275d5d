/**
 * Still more of `torch.nn.functional`: the spatial transformer's `gridSample` and `affineGrid`; `embeddingBag`;
 * the channel and alpha dropouts (`dropout1d`, `dropout3d`, `alphaDropout`, `featureAlphaDropout`); `threshold`;
 * `maxUnpool1d/2d/3d`, `lpPool1d/2d` and `localResponseNorm`; `pdist`; `gumbelSoftmax`. PyTorch 1.13's names,
 * argument order and defaults in camelCase, autograd through all of them, one ATen call each (`lpPool`,
 * `localResponseNorm` and `gumbelSoftmax` are PyTorch's few).
 *
 * ```ts
 * const F = torch.nn.functional;
 * const grid = F.affineGrid(theta, [n, c, 32, 32], { alignCorners: false }); // theta (N, 2, 3)
 * const warped = F.gridSample(images, grid, { mode: 'bilinear', paddingMode: 'border', alignCorners: false });
 * const bags = F.embeddingBag(tokens, table, offsets, { mode: 'sum' });  // one row per bag
 * ```
 *
 * Each op checks its inputs (dtype, device, shapes, options) first and names the op and the mismatch in its
 * error; unknown options are errors. Indices (embedding rows, unpooling positions) and offsets are checked
 * before the kernel runs, on every device.
 * @module
 */
import { arange } from '../creation';
import { native, type TensorHandle } from '../native';
import { Tensor } from '../tensor';
import { checkInt, checkNumber, checkOneOf, rangeError, typeError } from '../validate';
import { boolOpt, floatArg, fmt, knownOptions, ntuple, numberOpt, optTensorArg, sameKind, shapeError, spatialAxes, spatialInput, tensorArg, type SpatialDims } from './checks';

const N = native();
const h = (t: Tensor | null): TensorHandle | null => (t ? t.handle : null);

// ---------------------------------------------------------------- spatial transformers

/** How `gridSample` reads the input at a grid position: interpolating its neighbours, the nearest one, or bicubically (4-d input only). */
export type GridSampleMode = 'bilinear' | 'nearest' | 'bicubic';
/** What `gridSample` reads outside the input: zeros, the border values, or the input reflected at its border. */
export type GridSamplePaddingMode = 'zeros' | 'border' | 'reflection';

/** Options of `gridSample`. */
export interface GridSampleOptions {
  /** The interpolation (default `'bilinear'`; with a 5-d input it is trilinear). */
  mode?: GridSampleMode;
  /** What positions outside [-1, 1] read (default `'zeros'`). */
  paddingMode?: GridSamplePaddingMode;
  /**
   * -1 and 1 are the centres of the corner pixels (true) or their outer edges (false, the default, as PyTorch's
   * default after its warning).
   */
  alignCorners?: boolean;
}

/**
 * Samples `input` at the positions of `grid`, as `torch.nn.functional.grid_sample` (the spatial transformer's
 * sampler): `input` (N, C, H, W) and `grid` (N, H_out, W_out, 2) of (x, y) positions in [-1, 1], or `input`
 * (N, C, D, H, W) and `grid` (N, D_out, H_out, W_out, 3) of (x, y, z); the output is (N, C, H_out, W_out) or
 * (N, C, D_out, H_out, W_out). Differentiable in `input` and `grid`.
 *
 * ```ts
 * const out = F.gridSample(x, F.affineGrid(theta, x.shape, { alignCorners: false }), { alignCorners: false });
 * ```
 */
export function gridSample(input: Tensor, grid: Tensor, options: GridSampleOptions = {}): Tensor {
  const op = 'gridSample';
  const o = knownOptions(op, options, ['mode', 'paddingMode', 'alignCorners']);
  const x = floatArg(op, 'input', input);
  const g = floatArg(op, 'grid', grid);
  const mode = checkOneOf(op, 'mode', o.mode ?? 'bilinear', ['bilinear', 'nearest', 'bicubic'] as const);
  const paddingMode = checkOneOf(op, 'paddingMode', o.paddingMode ?? 'zeros', ['zeros', 'border', 'reflection'] as const);
  const alignCorners = boolOpt(op, 'alignCorners', o.alignCorners, false);
  if (x.ndim !== 4 && x.ndim !== 5) throw shapeError(op, 'input', 'a 4-d (N, C, H, W) or 5-d (N, C, D, H, W) tensor', x.shape);
  sameKind(op, 'grid', g, 'input', x);
  const n = x.ndim - 2;
  const axes = spatialAxes(n as SpatialDims).map((a) => `${a}_out`).join(', ');
  if (g.ndim !== x.ndim || g.shape[g.ndim - 1] !== n || g.shape[0] !== x.shape[0]) {
    throw shapeError(op, 'grid', `a ${x.ndim}-d tensor (${x.shape[0]}, ${axes}, ${n}) for input ${fmt(x.shape)} (the batch of input, ${n} coordinates per position)`, g.shape);
  }
  if (mode === 'bicubic' && n !== 2) throw rangeError(op, 'mode', "'bilinear' or 'nearest' for a 5-d input ('bicubic' samples 4-d input only)", mode);
  if (x.shape.slice(2).some((s) => s === 0)) throw shapeError(op, 'input', 'nonzero spatial sizes (there is nothing to sample)', x.shape);
  return new Tensor(N.gridSample(x.handle, g.handle, mode, paddingMode, alignCorners));
}

/** Options of `affineGrid`. */
export interface AffineGridOptions {
  /** As `gridSample`'s: -1 and 1 are the corner pixels' centres (true) or outer edges (false, the default). */
  alignCorners?: boolean;
}

/**
 * The sampling grid of a batch of affine transforms, as `torch.nn.functional.affine_grid`: `theta` (N, 2, 3)
 * and `size` [N, C, H, W] give (N, H, W, 2); `theta` (N, 3, 4) and `size` [N, C, D, H, W] give (N, D, H, W, 3), the
 * positions `gridSample` reads. Differentiable in `theta`.
 *
 * ```ts
 * const identity = torch.tensor([[[1, 0, 0], [0, 1, 0]]]);   // (1, 2, 3)
 * const grid = F.affineGrid(identity, [1, 3, 8, 8]);         // (1, 8, 8, 2)
 * ```
 */
export function affineGrid(theta: Tensor, size: number[], options: AffineGridOptions = {}): Tensor {
  const op = 'affineGrid';
  const o = knownOptions(op, options, ['alignCorners']);
  const t = floatArg(op, 'theta', theta);
  if (!Array.isArray(size) || (size.length !== 4 && size.length !== 5)) throw typeError(op, 'size', 'an array of 4 ([N, C, H, W]) or 5 ([N, C, D, H, W]) sizes', size);
  size.forEach((s, i) => checkInt(op, `size[${i}]`, s, 1));
  const n = size.length - 2;
  const [rows, cols] = n === 2 ? [2, 3] : [3, 4];
  if (t.ndim !== 3 || t.shape[0] !== size[0] || t.shape[1] !== rows || t.shape[2] !== cols) {
    throw shapeError(op, 'theta', `shape [${size[0]}, ${rows}, ${cols}] (a batch of ${n}-d affine matrices for size ${fmt(size)})`, t.shape);
  }
  return new Tensor(N.affineGrid(t.handle, size, boolOpt(op, 'alignCorners', o.alignCorners, false)));
}

// ---------------------------------------------------------------- embeddingBag

/** How `embeddingBag` reduces each bag's rows: their sum, their mean or their element-wise maximum. */
export type EmbeddingBagMode = 'sum' | 'mean' | 'max';

/** Options of `embeddingBag`. */
export interface EmbeddingBagFunctionalOptions {
  /** Rows looked up are renormalised in place (in `weight`) to this `normType`-norm at most. */
  maxNorm?: number | null;
  /** The p of the p-norm of `maxNorm` (default 2). */
  normType?: number;
  /** Scale gradients by the inverse frequency of the indices in the batch (default false; not with `'max'`). */
  scaleGradByFreq?: boolean;
  /** The reduction of each bag (default `'mean'`). */
  mode?: EmbeddingBagMode;
  /** Sparse gradients are not supported: only false (the default). */
  sparse?: boolean;
  /** One weight per index (input's shape, weight's dtype), multiplying its row before the sum (mode `'sum'` only). */
  perSampleWeights?: Tensor | null;
  /** `offsets` has one more element, the end of the last bag, which must be the input's length (as CSR's; default false). */
  includeLastOffset?: boolean;
  /** Indices equal to this row are left out of their bags (negative counts from the end). */
  paddingIdx?: number | null;
}

/**
 * The sums, means or maxima of bags of rows of `weight` (numEmbeddings, embeddingDim), as
 * `torch.nn.functional.embedding_bag`: `input` (B, L) of int64 or int32 indices is B bags of L; a 1-d `input` is
 * split into bags at `offsets` (1-d, each bag's start; the first 0). The result is (bags, embeddingDim); an empty
 * bag gives zeros. Differentiable in `weight` (and `perSampleWeights`).
 *
 * ```ts
 * const out = F.embeddingBag(torch.tensor([1n, 2n, 4n, 5n, 4n]), weight, torch.tensor([0n, 2n]), { mode: 'sum' }); // 2 bags
 * ```
 */
export function embeddingBag(input: Tensor, weight: Tensor, offsets?: Tensor | null, options: EmbeddingBagFunctionalOptions = {}): Tensor {
  const op = 'embeddingBag';
  const o = knownOptions(op, options, ['maxNorm', 'normType', 'scaleGradByFreq', 'mode', 'sparse', 'perSampleWeights', 'includeLastOffset', 'paddingIdx']);
  const idx = tensorArg(op, 'input', input);
  const w = floatArg(op, 'weight', weight);
  let off = optTensorArg(op, 'offsets', offsets);
  const psw = optTensorArg(op, 'perSampleWeights', o.perSampleWeights);
  if (!['int64', 'int32'].includes(idx.dtype)) throw new TypeError(`${op}: expected int64 or int32 indices for input but received ${idx.dtype}`);
  if (w.ndim !== 2) throw shapeError(op, 'weight', 'a 2-d tensor (numEmbeddings, embeddingDim)', w.shape);
  if (idx.device !== w.device) throw new TypeError(`${op}: expected input on weight's device ${w.device} but received one on ${idx.device}`);
  const mode = checkOneOf(op, 'mode', o.mode ?? 'mean', ['sum', 'mean', 'max'] as const);
  const scaleGradByFreq = boolOpt(op, 'scaleGradByFreq', o.scaleGradByFreq, false);
  if (scaleGradByFreq && mode === 'max') throw rangeError(op, 'scaleGradByFreq', "false with mode 'max' (max mode does not scale the gradient by frequency)", true);
  if (boolOpt(op, 'sparse', o.sparse, false)) throw rangeError(op, 'sparse', 'false (sparse gradients are not supported; the gradient of weight is dense)', true);
  const includeLastOffset = boolOpt(op, 'includeLastOffset', o.includeLastOffset, false);
  const n = w.shape[0];
  let paddingIdx = -1;
  if (o.paddingIdx !== undefined && o.paddingIdx !== null) {
    const p = checkInt(op, 'paddingIdx', o.paddingIdx, -n, n - 1);
    paddingIdx = p < 0 ? p + n : p;
  }
  const maxNorm = o.maxNorm === undefined || o.maxNorm === null ? null : numberOpt(op, 'maxNorm', o.maxNorm, 0, { min: 0 });
  const normType = numberOpt(op, 'normType', o.normType, 2, { min: 0 });
  if (psw) {
    if (mode !== 'sum') throw typeError(op, 'perSampleWeights', `null with mode '${mode}' (only mode 'sum' weighs the samples)`, psw);
    if (fmt(psw.shape) !== fmt(idx.shape)) throw shapeError(op, 'perSampleWeights', `input's shape ${fmt(idx.shape)}`, psw.shape);
    sameKind(op, 'perSampleWeights', psw, 'weight', w);
  }
  const made: Tensor[] = [];
  try {
    let flat = idx;
    let flatW = psw;
    if (idx.ndim === 2) {
      if (off) throw typeError(op, 'offsets', 'null with a 2-d input (each row is a bag)', off);
      const [b, l] = idx.shape;
      if (l === 0) throw shapeError(op, 'input', 'a 2-d input with at least one index per bag (dim 1)', idx.shape);
      off = arange(0, b * l, l, { dtype: idx.dtype, device: idx.device });
      flat = idx.reshape([-1]);
      made.push(off, flat);
      if (psw) made.push((flatW = psw.reshape([-1])));
    } else if (idx.ndim === 1) {
      if (!off) throw typeError(op, 'offsets', 'a 1-d tensor of bag starts with a 1-d input', off);
      if (off.ndim !== 1) throw shapeError(op, 'offsets', 'a 1-d tensor (the start of each bag)', off.shape);
      if (!['int64', 'int32'].includes(off.dtype)) throw new TypeError(`${op}: expected int64 or int32 offsets but received ${off.dtype}`);
      if (off.device !== idx.device) throw new TypeError(`${op}: expected offsets on input's device ${idx.device} but received one on ${off.device}`);
    } else {
      throw shapeError(op, 'input', 'a 1-d (with offsets) or 2-d (bags, indices per bag) tensor', idx.shape);
    }
    return new Tensor(N.embeddingBag(flat.handle, w.handle, (off as Tensor).handle, mode, h(flatW), includeLastOffset, paddingIdx, maxNorm, normType, scaleGradByFreq));
  } finally {
    for (const t of made) t.dispose();
  }
}

// ---------------------------------------------------------------- dropouts and threshold

/** Options of the channel and alpha dropouts (`dropout1d`, `dropout3d`, `alphaDropout`, `featureAlphaDropout`). */
export interface ChannelDropoutFunctionalOptions {
  /** The probability of dropping an element or a channel, in [0, 1] (default 0.5). */
  p?: number;
  /** Drop (true) or return the input unchanged (false). Default true for `dropout1d`/`dropout3d`, false for the alpha dropouts (as PyTorch's). */
  training?: boolean;
}

function channelDropout(op: string, kind: 'feature' | 'alpha' | 'featureAlpha', x: Tensor, options: ChannelDropoutFunctionalOptions, trainingDefault: boolean): Tensor {
  const o = knownOptions(op, options, ['p', 'training']);
  const p = numberOpt(op, 'p', o.p, 0.5, { min: 0, max: 1 });
  return new Tensor(N.dropoutKind(kind, x.handle, p, boolOpt(op, 'training', o.training, trainingDefault)));
}

// A channel dropout of (N, C, *spatial) or unbatched (C, *spatial) input: the unbatched one as a batch of one.
function featureDropoutNd(op: string, n: 1 | 3, input: Tensor, options: ChannelDropoutFunctionalOptions): Tensor {
  const x = floatArg(op, 'input', input);
  const axes = spatialAxes(n).join(', ');
  if (x.ndim !== n + 1 && x.ndim !== n + 2) throw shapeError(op, 'input', `a ${n + 2}-d (N, C, ${axes}) or ${n + 1}-d (C, ${axes}) tensor`, x.shape);
  if (x.ndim === n + 2) return channelDropout(op, 'feature', x, options, true);
  const batched = x.unsqueeze(0);
  try {
    const y = channelDropout(op, 'feature', batched, options, true);
    try {
      return y.squeeze(0);
    } finally {
      y.dispose();
    }
  } finally {
    batched.dispose();
  }
}

/**
 * Zeroes whole channels of (N, C, L) or (C, L) with probability `p` and scales the rest by 1/(1-p) when
 * `training` (default true), as `torch.nn.functional.dropout1d`.
 *
 * ```ts
 * const y = F.dropout1d(x, { p: 0.2 }); // x (N, C, L)
 * ```
 */
export function dropout1d(input: Tensor, options: ChannelDropoutFunctionalOptions = {}): Tensor {
  return featureDropoutNd('dropout1d', 1, input, options);
}

/**
 * Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) with probability `p` and scales the rest by 1/(1-p)
 * when `training` (default true), as `torch.nn.functional.dropout3d` (a 4-d input is one unbatched sample).
 *
 * ```ts
 * const y = F.dropout3d(volumes, { p: 0.1 });
 * ```
 */
export function dropout3d(input: Tensor, options: ChannelDropoutFunctionalOptions = {}): Tensor {
  return featureDropoutNd('dropout3d', 3, input, options);
}

/**
 * Alpha dropout, as `torch.nn.functional.alpha_dropout` (for SELU networks): dropped elements are set to SELU's
 * negative saturation and the result is scaled and shifted so that mean and variance are kept. Only when
 * `training` (default false, as PyTorch's functional form).
 *
 * ```ts
 * const y = F.alphaDropout(F.selu(x), { p: 0.1, training: true });
 * ```
 */
export function alphaDropout(input: Tensor, options: ChannelDropoutFunctionalOptions = {}): Tensor {
  const op = 'alphaDropout';
  return channelDropout(op, 'alpha', floatArg(op, 'input', input), options, false);
}

/**
 * Alpha dropout of whole channels (dim 1 of (N, C, ...)), as `torch.nn.functional.feature_alpha_dropout`. Only
 * when `training` (default false, as PyTorch's functional form).
 *
 * ```ts
 * const y = F.featureAlphaDropout(x, { p: 0.2, training: true }); // x (N, C, H, W)
 * ```
 */
export function featureAlphaDropout(input: Tensor, options: ChannelDropoutFunctionalOptions = {}): Tensor {
  const op = 'featureAlphaDropout';
  const x = floatArg(op, 'input', input);
  if (x.ndim < 2) throw shapeError(op, 'input', 'at least 2 dimensions (N, C, ...): whole channels are dropped', x.shape);
  return channelDropout(op, 'featureAlpha', x, options, false);
}

/**
 * x where x > `threshold`, `value` elsewhere, as `torch.nn.functional.threshold`.
 *
 * ```ts
 * const y = F.threshold(x, 0.1, 20); // elements <= 0.1 become 20
 * ```
 */
export function threshold(input: Tensor, threshold: number, value: number): Tensor {
  const op = 'threshold';
  const x = tensorArg(op, 'input', input);
  if (x.dtype === 'bool') throw new TypeError(`${op}: expected a numeric tensor for input but received bool`);
  return new Tensor(N.activation('threshold', x.handle, checkNumber(op, 'threshold', threshold), checkNumber(op, 'value', value)));
}

// ---------------------------------------------------------------- unpooling, power-average pooling, local response normalisation

/** Options of `maxUnpool1d/2d/3d`: `T` is one integer per spatial dimension. */
export interface MaxUnpoolFunctionalOptions<T extends number[] = number[]> {
  /** The stride of the pooling undone (default the kernel size). */
  stride?: number | T | null;
  /** The padding of the pooling undone (default 0). */
  padding?: number | T;
  /**
   * The spatial size of the output (the pooling's input), one per dimension (or with N and C first); by default
   * (in − 1)·stride + kernel − 2·padding. It must lie within a stride of that.
   */
  outputSize?: number[] | null;
}

/** Options of `maxUnpool1d`. */
export type MaxUnpool1dFunctionalOptions = MaxUnpoolFunctionalOptions<[number]>;
/** Options of `maxUnpool2d`. */
export type MaxUnpool2dFunctionalOptions = MaxUnpoolFunctionalOptions<[number, number]>;
/** Options of `maxUnpool3d`. */
export type MaxUnpool3dFunctionalOptions = MaxUnpoolFunctionalOptions<[number, number, number]>;

const UNPOOL = { 1: N.maxUnpool1d, 2: N.maxUnpool2d, 3: N.maxUnpool3d } as const;

/** @internal The output size of an unpooling (PyTorch's `_unpool_output_size`), checked. */
export function unpoolOutputSize(op: string, x: Tensor, k: number[], stride: number[], padding: number[], outputSize: unknown): number[] {
  const n = k.length;
  const dflt = k.map((kk, d) => (x.shape[x.ndim - n + d] - 1) * stride[d] + kk - 2 * padding[d]);
  if (outputSize === undefined || outputSize === null) {
    if (dflt.some((s) => s < 1)) throw shapeError(op, 'input', `a spatial size whose unpooled size is positive (it would be ${fmt(dflt)})`, x.shape);
    return dflt;
  }
  if (!Array.isArray(outputSize) || (outputSize.length !== n && outputSize.length !== n + 2)) {
    throw typeError(op, 'outputSize', `an array of ${n} sizes (or ${n + 2}, with N and C first)`, outputSize);
  }
  const size = (outputSize as unknown[]).slice(outputSize.length - n).map((s, i) => checkInt(op, `outputSize[${i}]`, s, 1));
  size.forEach((s, d) => {
    if (!(dflt[d] - stride[d] < s && s < dflt[d] + stride[d])) {
      throw rangeError(op, 'outputSize', `sizes between ${fmt(dflt.map((v, i) => v - stride[i] + 1))} and ${fmt(dflt.map((v, i) => v + stride[i] - 1))} (within a stride of the default ${fmt(dflt)})`, outputSize);
    }
  });
  return size;
}

function maxUnpoolNd(n: SpatialDims, input: Tensor, indices: Tensor, kernelSize: unknown, options: MaxUnpoolFunctionalOptions): Tensor {
  const op = `maxUnpool${n}d`;
  const o = knownOptions(op, options, ['stride', 'padding', 'outputSize']);
  const x = spatialInput(op, input, n);
  const idx = tensorArg(op, 'indices', indices);
  if (idx.dtype !== 'int64') throw new TypeError(`${op}: expected int64 indices (from a max pooling with returnIndices) but received ${idx.dtype}`);
  if (fmt(idx.shape) !== fmt(x.shape)) throw shapeError(op, 'indices', `input's shape ${fmt(x.shape)}`, idx.shape);
  if (idx.device !== x.device) throw new TypeError(`${op}: expected indices on input's device ${x.device} but received one on ${idx.device}`);
  const k = ntuple(op, 'kernelSize', kernelSize, 1, n);
  const stride = o.stride === undefined || o.stride === null ? k : ntuple(op, 'stride', o.stride, 1, n);
  const padding = ntuple(op, 'padding', o.padding ?? 0, 0, n);
  const size = unpoolOutputSize(op, x, k, stride, padding, o.outputSize);
  return new Tensor(UNPOOL[n](x.handle, idx.handle, size, stride, padding));
}

/**
 * The partial inverse of `maxPool1d`, as `torch.nn.functional.max_unpool1d`: each value of `input` (N, C, L) or
 * (C, L) is put at its `indices` (the pooling's, with `returnIndices`) in a zero output of the pooling's input
 * size. Differentiable in `input`.
 *
 * ```ts
 * const [y, idx] = F.maxPool1d(x, 2, { returnIndices: true });
 * const back = F.maxUnpool1d(y, idx, 2); // x's maxima in place, zeros elsewhere
 * ```
 */
export function maxUnpool1d(input: Tensor, indices: Tensor, kernelSize: number | [number], options: MaxUnpool1dFunctionalOptions = {}): Tensor {
  return maxUnpoolNd(1, input, indices, kernelSize, options);
}

/**
 * The partial inverse of `maxPool2d`, as `torch.nn.functional.max_unpool2d`: (N, C, H, W) or (C, H, W) values put
 * at their `indices` in a zero output.
 *
 * ```ts
 * const [y, idx] = F.maxPool2d(x, 2, { returnIndices: true });
 * const back = F.maxUnpool2d(y, idx, 2, { outputSize: x.shape });
 * ```
 */
export function maxUnpool2d(input: Tensor, indices: Tensor, kernelSize: number | [number, number], options: MaxUnpool2dFunctionalOptions = {}): Tensor {
  return maxUnpoolNd(2, input, indices, kernelSize, options);
}

/**
 * The partial inverse of `maxPool3d`, as `torch.nn.functional.max_unpool3d`: (N, C, D, H, W) or (C, D, H, W) values
 * put at their `indices` in a zero output.
 *
 * ```ts
 * const [y, idx] = F.maxPool3d(x, 2, { returnIndices: true });
 * const back = F.maxUnpool3d(y, idx, 2);
 * ```
 */
export function maxUnpool3d(input: Tensor, indices: Tensor, kernelSize: number | [number, number, number], options: MaxUnpool3dFunctionalOptions = {}): Tensor {
  return maxUnpoolNd(3, input, indices, kernelSize, options);
}

/** Options of `lpPool1d` and `lpPool2d`: `T` is one integer per spatial dimension. */
export interface LPPoolFunctionalOptions<T extends number[] = number[]> {
  /** The step of the window (default the kernel size). */
  stride?: number | T | null;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
}

/** Options of `lpPool1d`. */
export type LPPool1dFunctionalOptions = LPPoolFunctionalOptions<[number]>;
/** Options of `lpPool2d`. */
export type LPPool2dFunctionalOptions = LPPoolFunctionalOptions<[number, number]>;

/** @internal normType of the power-average poolings, checked: a finite nonzero number. */
export function lpNormType(op: string, v: unknown): number {
  const p = checkNumber(op, 'normType', v);
  if (p === 0) throw rangeError(op, 'normType', 'a nonzero number (the result is taken to the power 1/normType)', p);
  return p;
}

function lpPoolNd(n: 1 | 2, input: Tensor, normType: number, kernelSize: unknown, options: LPPoolFunctionalOptions): Tensor {
  const op = `lpPool${n}d`;
  const o = knownOptions(op, options, ['stride', 'ceilMode']);
  const x = spatialInput(op, input, n);
  const p = lpNormType(op, normType);
  const k = ntuple(op, 'kernelSize', kernelSize, 1, n);
  const stride = o.stride === undefined || o.stride === null ? k : ntuple(op, 'stride', o.stride, 1, n);
  const ceilMode = boolOpt(op, 'ceilMode', o.ceilMode, false);
  const spatial = x.shape.slice(x.ndim - n);
  if (spatial.some((s, d) => s < k[d])) throw shapeError(op, 'input', `a spatial size of at least the kernel size ${fmt(k)}`, x.shape);
  return new Tensor((n === 1 ? N.lpPool1d : N.lpPool2d)(x.handle, p, k, stride, ceilMode));
}

/**
 * Power-average pooling over (N, C, L) or (C, L), as `torch.nn.functional.lp_pool1d`: (Σ x^p)^(1/p) over each
 * window (`p` = `normType`; p = 1 is sum pooling, large p approaches max pooling).
 *
 * ```ts
 * const y = F.lpPool1d(x, 2, 3, { stride: 2 });
 * ```
 */
export function lpPool1d(input: Tensor, normType: number, kernelSize: number | [number], options: LPPool1dFunctionalOptions = {}): Tensor {
  return lpPoolNd(1, input, normType, kernelSize, options);
}

/**
 * Power-average pooling over (N, C, H, W) or (C, H, W), as `torch.nn.functional.lp_pool2d`: (Σ x^p)^(1/p) over each
 * window.
 *
 * ```ts
 * const y = F.lpPool2d(x, 2, [3, 2]);
 * ```
 */
export function lpPool2d(input: Tensor, normType: number, kernelSize: number | [number, number], options: LPPool2dFunctionalOptions = {}): Tensor {
  return lpPoolNd(2, input, normType, kernelSize, options);
}

/** Options of `localResponseNorm`. */
export interface LocalResponseNormFunctionalOptions {
  /** The multiplicative factor (default 1e-4). */
  alpha?: number;
  /** The exponent (default 0.75). */
  beta?: number;
  /** The additive factor (default 1). */
  k?: number;
}

/** @internal localResponseNorm's options, checked. */
export function lrnOptions(op: string, size: unknown, options: unknown): { size: number; alpha: number; beta: number; k: number } {
  const o = knownOptions(op, options, ['alpha', 'beta', 'k']);
  return {
    size: checkInt(op, 'size', size, 1),
    alpha: o.alpha === undefined ? 1e-4 : checkNumber(op, 'alpha', o.alpha),
    beta: o.beta === undefined ? 0.75 : checkNumber(op, 'beta', o.beta),
    k: o.k === undefined ? 1 : checkNumber(op, 'k', o.k),
  };
}

/**
 * Local response normalisation across channels (AlexNet's), as `torch.nn.functional.local_response_norm`: each
 * element of (N, C, ...) is divided by (k + alpha/size · Σ x²)^beta, the sum over the `size` channels around it.
 *
 * ```ts
 * const y = F.localResponseNorm(x, 5, { alpha: 1e-4, beta: 0.75, k: 2 });
 * ```
 */
export function localResponseNorm(input: Tensor, size: number, options: LocalResponseNormFunctionalOptions = {}): Tensor {
  const op = 'localResponseNorm';
  const x = floatArg(op, 'input', input);
  const o = lrnOptions(op, size, options);
  if (x.ndim < 3) throw shapeError(op, 'input', 'at least 3 dimensions (N, C, ...)', x.shape);
  return new Tensor(N.localResponseNorm(x.handle, o.size, o.alpha, o.beta, o.k));
}

// ---------------------------------------------------------------- pdist, gumbelSoftmax

/**
 * The p-norm distance between every pair of rows of `input` (N, M), as `torch.nn.functional.pdist`: the upper
 * triangle of `cdist(input, input)` without its diagonal, row by row, N·(N − 1)/2 values. `p` ≥ 0 (default 2).
 *
 * ```ts
 * const d = F.pdist(points); // points (5, 3) -> (10)
 * ```
 */
export function pdist(input: Tensor, p = 2): Tensor {
  const op = 'pdist';
  const x = floatArg(op, 'input', input);
  if (x.ndim !== 2) throw shapeError(op, 'input', 'a 2-d tensor (N, M)', x.shape);
  if (typeof p !== 'number' || Number.isNaN(p)) throw typeError(op, 'p', 'a number >= 0 (Infinity allowed)', p);
  if (p < 0) throw rangeError(op, 'p', 'a number >= 0', p);
  return new Tensor(N.pdist(x.handle, p));
}

/** Options of `gumbelSoftmax`. */
export interface GumbelSoftmaxOptions {
  /** The temperature, a nonzero number (default 1): small values give nearly one-hot samples. */
  tau?: number;
  /** Return the one-hot of each sample's largest element, with the soft sample's gradient (straight through; default false). */
  hard?: boolean;
  /** The dimension the softmax is taken along (default -1). */
  dim?: number;
}

/**
 * A sample of the Gumbel-softmax distribution, as `torch.nn.functional.gumbel_softmax`: softmax((logits + g) / tau)
 * along `dim`, g drawn from Gumbel(0, 1) with the default generator; with `hard`, the one-hot of its argmax whose
 * gradient is the soft sample's. (PyTorch's deprecated `eps` has no effect there and is not an option here.)
 *
 * ```ts
 * const sample = F.gumbelSoftmax(logits, { tau: 0.5, hard: true }); // one-hot rows, differentiable
 * ```
 */
export function gumbelSoftmax(logits: Tensor, options: GumbelSoftmaxOptions = {}): Tensor {
  const op = 'gumbelSoftmax';
  const o = knownOptions(op, options, ['tau', 'hard', 'dim']);
  const x = floatArg(op, 'logits', logits);
  const tau = o.tau === undefined ? 1 : checkNumber(op, 'tau', o.tau);
  if (tau === 0) throw rangeError(op, 'tau', 'a nonzero number (the logits are divided by it)', tau);
  const n = Math.max(1, x.ndim);
  const dim = checkInt(op, 'dim', o.dim ?? -1, -n, n - 1);
  return new Tensor(N.gumbelSoftmax(x.handle, tau, boolOpt(op, 'hard', o.hard, false), dim));
}
