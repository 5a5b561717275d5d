/**
 * Attention, written in TypeScript over existing ops: `nn.functional.scaledDotProductAttention` (PyTorch 2.x's
 * `scaled_dot_product_attention`), `nn.MultiheadAttention`, `nn.TransformerEncoderLayer` and
 * `nn.TransformerEncoder`, with PyTorch 1.13's constructor arguments (camelCase), submodule and parameter names,
 * initialisation and forward semantics, so their state dicts go to the PyTorch modules of the same name and back
 * (strict loading both ways). Their forward is written in JavaScript, so it runs on the main thread (see
 * `nn.Module`); PyTorch's fused inference "fast paths" are not reproduced (the general path always runs, which
 * PyTorch also takes whenever gradients are recorded).
 */
import { zeros, ones } from '../creation';
import type { Device, DType } from '../dtype';
import { rngState, setRngState } from '../runtime';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkBool, knownOptions, rangeError, typeError } from '../validate';
import { checkSize, factoryOptions, floatArg, fmt, numberOpt, optTensorArg, sameKind, shapeError } from './checks';
import { dropout, gelu, linear, relu, softmax } from './functional';
import { LayerNorm } from './functional-layers';
import { constant_, xavierUniform_ } from './init';
import { Dropout, Linear } from './layers';
import { Module, Parameter } from './module';
import { ModuleList } from './module-list';

// ---------------------------------------------------------------- helpers

// An nn.Linear with PyTorch's initialisation drawn in the requested dtype and on the requested device, as
// `Linear(..., device=, dtype=)` draws it: the native layer is made (float32, CPU) with the random state put
// back afterwards, then moved and initialised again, so the same seed gives PyTorch's values.
function factoryLinear(inFeatures: number, outFeatures: number, bias: boolean, factory: { device?: string; dtype?: DType }): Linear {
  if (factory.device === undefined && factory.dtype === undefined) return new Linear(inFeatures, outFeatures, { bias });
  return withoutDraws(
    () => new Linear(inFeatures, outFeatures, { bias }),
    (layer) => {
      layer.to(factory);
      layer.resetParameters();
    },
  );
}

// Makes a module whose construction must draw no random numbers: `make()` runs, the random state is put back as
// it was before, then `finish(module)` runs (it may draw). The module is disposed if either throws.
function withoutDraws<M extends Module>(make: () => M, finish: (m: M) => void): M {
  const state = rngState();
  let m: M | null = null;
  try {
    m = make();
    setRngState(state);
    finish(m);
    return m;
  } catch (e) {
    m?.dispose();
    throw e;
  } finally {
    state.cpu.dispose();
    for (const t of state.cuda) t.dispose();
  }
}

// The shape two shapes broadcast to, or null when they do not.
function broadcastShapes(a: number[], b: number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

// An input must have the dtype and device of the module's parameters (`like`).
function moduleKind(op: string, arg: string, t: Tensor, like: Tensor): void {
  if (t.dtype !== like.dtype) throw new TypeError(`${op}: expected ${arg} of the module's dtype ${like.dtype} but received ${t.dtype} (convert one with .to())`);
  if (t.device !== like.device) throw new TypeError(`${op}: expected ${arg} on the module's device ${like.device} but received one on ${t.device}`);
}

// A mask: a bool tensor, or a floating one of the query's dtype (added to the attention scores), on its device.
function maskArg(op: string, arg: string, v: unknown, like: Tensor): Tensor | null {
  const m = optTensorArg(op, arg, v);
  if (!m) return null;
  if (m.dtype !== 'bool' && m.dtype !== like.dtype) {
    throw new TypeError(`${op}: expected a bool tensor or a floating-point one of the query's dtype ${like.dtype} for ${arg} but received ${m.dtype}`);
  }
  if (m.device !== like.device) throw new TypeError(`${op}: expected ${arg} on the query's device ${like.device} but received one on ${m.device}`);
  return m;
}

// A mask as an additive float mask of `dtype`: a bool mask gives -inf where `blockedWhen` (true: where the mask
// is true, as MultiheadAttention reads it; false: where it is false, as scaledDotProductAttention reads it), else 0.
function additive(mask: Tensor, dtype: DType, blockedWhen: boolean): Tensor {
  if (mask.dtype !== 'bool') return mask;
  const blocked = blockedWhen ? mask : mask.logicalNot();
  return zeros(mask.shape, { dtype, device: mask.device }).maskedFill(blocked, -Infinity);
}

// ---------------------------------------------------------------- scaledDotProductAttention

/** Options of `nn.functional.scaledDotProductAttention` (PyTorch 2.x's keyword arguments, in camelCase). */
export interface ScaledDotProductAttentionOptions {
  /**
   * A mask broadcastable to the scores `(..., L, S)`: bool (true = the position takes part, false = it is
   * masked out) or a floating-point tensor of the query's dtype, added to the scores.
   */
  attnMask?: Tensor | null;
  /** Dropout probability applied to the attention weights (default 0: none). Applied whenever it is above 0. */
  dropoutP?: number;
  /** Causal masking: query i attends to keys 0..i (the top-left aligned lower triangle of `(L, S)`); not with `attnMask`. */
  isCausal?: boolean;
  /** The factor the scores are multiplied by (default 1/√E, E the last dimension of the query). */
  scale?: number | null;
}

/**
 * Scaled dot-product attention, as PyTorch 2.x's `torch.nn.functional.scaled_dot_product_attention`:
 * `softmax(query · keyᵀ · scale + mask) · value` over the last two dimensions, where query is `(..., L, E)`,
 * key `(..., S, E)` and value `(..., S, Ev)`; the leading (batch, head) dimensions broadcast. Returns
 * `(..., L, Ev)`, differentiable in all three inputs. It is computed as PyTorch's math reference computes it
 * (no fused kernel), so a row whose keys are all masked out gives NaN, as that reference does.
 *
 * ```ts
 * const F = nn.functional;
 * const q = randn([2, 8, 10, 64]), k = randn([2, 8, 12, 64]), v = randn([2, 8, 12, 64]); // (N, heads, L or S, E)
 * const out = F.scaledDotProductAttention(q, k, v, { isCausal: true }); // (2, 8, 10, 64)
 * ```
 */
export function scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, options: ScaledDotProductAttentionOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  const o = knownOptions(op, options, ['attnMask', 'dropoutP', 'isCausal', 'scale']);
  const q = floatArg(op, 'query', query);
  const k = floatArg(op, 'key', key);
  const v = floatArg(op, 'value', value);
  sameKind(op, 'key', k, 'query', q);
  sameKind(op, 'value', v, 'query', q);
  for (const [arg, t] of [['query', q], ['key', k], ['value', v]] as const) {
    if (t.ndim < 2) throw shapeError(op, arg, 'at least 2 dimensions (..., sequence, features)', t.shape);
  }
  const E = q.shape[q.ndim - 1];
  if (k.shape[k.ndim - 1] !== E) throw shapeError(op, 'key', `a last dimension of ${E} (the query's, shape ${fmt(q.shape)})`, k.shape);
  const S = k.shape[k.ndim - 2];
  if (v.shape[v.ndim - 2] !== S) throw shapeError(op, 'value', `${S} positions in dimension -2 (the key's, shape ${fmt(k.shape)})`, v.shape);
  const L = q.shape[q.ndim - 2];
  const batchQK = broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2));
  if (!batchQK) throw shapeError(op, 'key', `leading dimensions that broadcast with the query's ${fmt(q.shape.slice(0, -2))}`, k.shape);
  if (!broadcastShapes(batchQK, v.shape.slice(0, -2))) throw shapeError(op, 'value', `leading dimensions that broadcast with ${fmt(batchQK)} (query and key)`, v.shape);
  const scoreShape = [...batchQK, L, S];
  const mask = maskArg(op, 'attnMask', o.attnMask, q);
  if (mask) {
    const b = broadcastShapes(scoreShape, mask.shape);
    if (!b || fmt(b) !== fmt(scoreShape)) throw shapeError(op, 'attnMask', `a shape that broadcasts to the scores ${fmt(scoreShape)} (..., L, S)`, mask.shape);
  }
  const dropoutP = numberOpt(op, 'dropoutP', o.dropoutP, 0, { min: 0, max: 1 });
  const isCausal = o.isCausal === undefined ? false : checkBool(op, 'isCausal', o.isCausal);
  if (isCausal && mask) throw typeError(op, 'attnMask', 'no mask when isCausal is true (isCausal is the mask)', o.attnMask);
  let scale = 1 / Math.sqrt(E);
  if (o.scale !== undefined && o.scale !== null) {
    if (typeof o.scale !== 'number' || !Number.isFinite(o.scale)) throw typeError(op, 'scale', 'a finite number (or null for 1/√E)', o.scale);
    scale = o.scale;
  }
  return tidy(() => {
    let scores = q.matmul(k.transpose(-2, -1)).mul(scale);
    if (isCausal) {
      const allowed = ones([L, S], { dtype: 'bool', device: q.device }).tril();
      scores = scores.add(additive(allowed, q.dtype, false));
    }
    if (mask) scores = scores.add(additive(mask, q.dtype, false));
    let weights = softmax(scores, -1);
    if (dropoutP > 0) weights = dropout(weights, { p: dropoutP, training: true });
    return weights.matmul(v);
  });
}

// ---------------------------------------------------------------- MultiheadAttention

/** Options of `nn.MultiheadAttention` (PyTorch's arguments after `num_heads`, in camelCase). */
export interface MultiheadAttentionOptions {
  /** Dropout probability on the attention weights, in training mode (default 0). */
  dropout?: number;
  /** Learn biases for the input and output projections (default true). */
  bias?: boolean;
  /** Bias vectors appended to the key and value sequences: only false (the default) is supported yet. */
  addBiasKv?: boolean;
  /** A batch of zeros appended to the key and value sequences: only false (the default) is supported yet. */
  addZeroAttn?: boolean;
  /** Features of the key: only `embedDim` (the default) is supported yet. */
  kdim?: number | null;
  /** Features of the value: only `embedDim` (the default) is supported yet. */
  vdim?: number | null;
  /** Inputs and output are `(N, L, E)` instead of `(L, N, E)` (default false; unbatched inputs ignore it). */
  batchFirst?: boolean;
  /** Device of the parameters (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters (default float32). */
  dtype?: DType | null;
}

/** Options of `MultiheadAttention.forward` (PyTorch's keyword arguments after `value`, in camelCase). */
export interface MultiheadAttentionForwardOptions {
  /**
   * Keys to ignore, `(N, S)` (or `(S)` for an unbatched query): bool, true = ignored (padding); or a
   * floating-point tensor of the query's dtype, added to the scores.
   */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights as well (default true); false returns null in their place. */
  needWeights?: boolean;
  /**
   * Positions that may not attend, `(L, S)` for every batch entry and head, or `(N·numHeads, L, S)`: bool,
   * true = not allowed; or a floating-point tensor of the query's dtype, added to the scores.
   */
  attnMask?: Tensor | null;
  /** Average the returned weights over the heads (default true); false returns them per head. */
  averageAttnWeights?: boolean;
}

/**
 * Multi-head attention (`torch.nn.MultiheadAttention`, PyTorch 1.13): the query, key and value are projected
 * by the packed `in_proj_weight` `(3·embedDim, embedDim)` and `in_proj_bias` `(3·embedDim)`, split into
 * `numHeads` heads of `embedDim / numHeads` features, attended (scaled dot products, softmax, dropout in
 * training) and projected back by `out_proj` (an `nn.Linear`). State-dict keys `in_proj_weight`,
 * `in_proj_bias`, `out_proj.weight`, `out_proj.bias`, as PyTorch's; initialisation as PyTorch's
 * (`out_proj` a default Linear, then Xavier-uniform `in_proj_weight`, zero biases). Separate key/value sizes
 * (`kdim`, `vdim`), `addBiasKv` and `addZeroAttn` are not supported yet.
 *
 * `forward(query, key, value, options)` takes `(L, N, E)` query and `(S, N, E)` key and value (`(N, L, E)` with
 * `batchFirst`), or unbatched `(L, E)` and `(S, E)`, and returns `[output, weights]`: output shaped as the
 * query, weights `(N, L, S)` averaged over the heads (`(N, numHeads, L, S)` with `averageAttnWeights: false`;
 * without the N for unbatched input; null with `needWeights: false`). In training mode the weights returned
 * are the ones after dropout, as PyTorch's.
 *
 * ```ts
 * const attn = new nn.MultiheadAttention(64, 8, { batchFirst: true });
 * const x = randn([2, 10, 64]);                                  // (N, L, E)
 * const [y, w] = attn.forward(x, x, x, { keyPaddingMask: pad }); // y (2, 10, 64), w (2, 10, 10)
 * ```
 */
export class MultiheadAttention extends Module {
  /** Features of the query, and of the output (E). */
  readonly embedDim: number;
  /** Features of the key (equal to `embedDim`). */
  readonly kdim: number;
  /** Features of the value (equal to `embedDim`). */
  readonly vdim: number;
  /** The number of heads. */
  readonly numHeads: number;
  /** Features per head, `embedDim / numHeads`. */
  readonly headDim: number;
  /** Dropout probability on the attention weights in training. */
  readonly dropout: number;
  /** Whether batched inputs are `(N, L, E)` rather than `(L, N, E)`. */
  readonly batchFirst: boolean;
  /** The packed query, key and value projections, `(3·embedDim, embedDim)`. */
  declare in_proj_weight: Parameter;
  /** The packed projection biases, `(3·embedDim)`, or null with `bias: false`. */
  declare in_proj_bias: Parameter | null;
  /** The output projection (`out_proj.weight` `(embedDim, embedDim)`, `out_proj.bias` `(embedDim)`). */
  declare out_proj: Linear;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    const op = 'MultiheadAttention';
    const o = knownOptions(op, options, ['dropout', 'bias', 'addBiasKv', 'addZeroAttn', 'kdim', 'vdim', 'batchFirst', 'device', 'dtype']);
    const E = checkSize(op, 'embedDim', embedDim);
    const H = checkSize(op, 'numHeads', numHeads);
    if (E % H !== 0) throw rangeError(op, 'embedDim', `a multiple of numHeads (${H})`, E);
    const p = numberOpt(op, 'dropout', o.dropout, 0, { min: 0, max: 1 });
    const withBias = o.bias === undefined ? true : checkBool(op, 'bias', o.bias);
    const batchFirst = o.batchFirst === undefined ? false : checkBool(op, 'batchFirst', o.batchFirst);
    for (const arg of ['kdim', 'vdim'] as const) {
      const d = o[arg];
      if (d === undefined || d === null) continue;
      checkSize(op, arg, d);
      if (d !== E) throw new TypeError(`${op}: ${arg} ${String(d)} different from embedDim ${E} is not supported yet (PyTorch's separate q/k/v projection weights); use ${arg} equal to embedDim or leave it out`);
    }
    for (const arg of ['addBiasKv', 'addZeroAttn'] as const) {
      if (o[arg] !== undefined && checkBool(op, arg, o[arg])) throw new TypeError(`${op}: ${arg} true is not supported yet; leave it out or set it to false`);
    }
    const factory = factoryOptions(op, o);
    super();
    this.embedDim = E;
    this.kdim = E;
    this.vdim = E;
    this.numHeads = H;
    this.headDim = E / H;
    this.dropout = p;
    this.batchFirst = batchFirst;
    this.registerParameter('in_proj_weight', tidy(() => new Parameter(zeros([3 * E, E], factory))));
    this.registerParameter('in_proj_bias', withBias ? tidy(() => new Parameter(zeros([3 * E], factory))) : null);
    // As PyTorch: out_proj draws its Linear initialisation first, then _reset_parameters draws in_proj_weight.
    this.out_proj = factoryLinear(E, E, withBias, factory);
    this.resetInProjection();
  }

  /**
   * Attends `query` to `key` and `value` (see the class comment for the shapes); returns `[output, weights]`,
   * weights null with `needWeights: false`.
   */
  forward(query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    const op = 'MultiheadAttention.forward';
    const o = knownOptions(op, options, ['keyPaddingMask', 'needWeights', 'attnMask', 'averageAttnWeights']);
    const needWeights = o.needWeights === undefined ? true : checkBool(op, 'needWeights', o.needWeights);
    const average = o.averageAttnWeights === undefined ? true : checkBool(op, 'averageAttnWeights', o.averageAttnWeights);
    const W = this.in_proj_weight;
    const q0 = floatArg(op, 'query', query);
    const k0 = floatArg(op, 'key', key);
    const v0 = floatArg(op, 'value', value);
    moduleKind(op, 'query', q0, W);
    sameKind(op, 'key', k0, 'query', q0);
    sameKind(op, 'value', v0, 'query', q0);
    const { batched, N, L, S } = checkAttentionShapes(op, { query: 'query', key: 'key', value: 'value' }, q0, k0, v0, this.embedDim, this.batchFirst);
    const names = { keyPaddingMask: 'keyPaddingMask', attnMask: 'attnMask' };
    const kpm = maskArg(op, 'keyPaddingMask', o.keyPaddingMask, q0);
    const am = maskArg(op, 'attnMask', o.attnMask, q0);
    checkMaskShapes(op, names, kpm, am, batched, N, L, S, this.numHeads);

    const E = this.embedDim, H = this.numHeads, hd = this.headDim;
    const selfAttention = query === key && key === value;
    const sameKeyValue = key === value;
    return tidy((): [Tensor, Tensor | null] => {
      // To PyTorch's (L, N, E) layout with a batch dimension.
      const layout = (t: Tensor) => (!batched ? t.unsqueeze(1) : this.batchFirst ? t.transpose(0, 1) : t);
      const qx = layout(q0);
      const kx = key === query ? qx : layout(k0);
      const vx = value === key ? kx : value === query ? qx : layout(v0);
      const b = this.in_proj_bias;
      // The in-projection, as PyTorch's _in_projection_packed (one product for self-attention).
      let q: Tensor, k: Tensor, v: Tensor;
      if (selfAttention) {
        [q, k, v] = linear(qx, W, b).chunk(3, -1);
      } else if (sameKeyValue) {
        const [wq, wkv] = W.split([E, 2 * E]);
        const [bq, bkv] = b ? b.split([E, 2 * E]) : [null, null];
        q = linear(qx, wq, bq);
        [k, v] = linear(kx, wkv, bkv).chunk(2, -1);
      } else {
        const [wq, wk, wv] = W.chunk(3);
        const [bq, bk, bv] = b ? b.chunk(3) : [null, null, null];
        q = linear(qx, wq, bq);
        k = linear(kx, wk, bk);
        v = linear(vx, wv, bv);
      }
      // The masks, merged into one additive mask (1 or N·H, L, S).
      let mask: Tensor | null = null;
      if (am) mask = am.ndim === 2 ? additive(am, q.dtype, true).unsqueeze(0) : additive(am, q.dtype, true);
      if (kpm) {
        const pad = additive(batched ? kpm : kpm.unsqueeze(0), q.dtype, true).reshape(N, 1, 1, S).expand(N, H, 1, S).reshape(N * H, 1, S);
        mask = mask ? mask.add(pad) : pad;
      }
      // Heads: (L, N, E) -> (N·H, L, headDim).
      q = q.reshape(L, N * H, hd).transpose(0, 1);
      k = k.reshape(S, N * H, hd).transpose(0, 1);
      v = v.reshape(S, N * H, hd).transpose(0, 1);
      let scores = q.div(Math.sqrt(hd)).matmul(k.transpose(-2, -1));
      if (mask) scores = mask.add(scores);
      let weights = softmax(scores, -1);
      if (this.training && this.dropout > 0) weights = dropout(weights, { p: this.dropout, training: true });
      const heads = weights.matmul(v).transpose(0, 1).reshape(L * N, E);
      const outW = this.out_proj.weight as Tensor;
      let out = linear(heads, outW, this.out_proj.bias).reshape(L, N, E);
      out = !batched ? out.squeeze(1) : this.batchFirst ? out.transpose(1, 0) : out;
      if (!needWeights) return [out, null];
      let w = weights.reshape(N, H, L, S);
      if (average) w = w.sum(1).div(H);
      return [out, batched ? w : w.squeeze(0)];
    });
  }

  /**
   * PyTorch's initialisation again: `out_proj` as a new Linear, then `in_proj_weight` Xavier-uniform and both
   * biases zero (also called by a container's `resetParameters()`).
   */
  resetParameters(): this {
    this.out_proj.resetParameters();
    this.resetInProjection();
    return this;
  }

  // PyTorch's _reset_parameters: Xavier-uniform in_proj_weight, zero in_proj_bias and out_proj.bias.
  private resetInProjection(): void {
    xavierUniform_(this.in_proj_weight);
    if (this.in_proj_bias) {
      constant_(this.in_proj_bias, 0);
      tidy(() => void constant_(this.out_proj.bias as Tensor, 0));
    }
  }
}

// The shapes of query, key and value (named as `names` says): batched (3-d) or unbatched (2-d), E features each,
// key and value alike, one batch size. Returns whether batched, N (1 unbatched), L and S.
function checkAttentionShapes(
  op: string, names: { query: string; key: string; value: string }, q: Tensor, k: Tensor, v: Tensor, E: number, batchFirst: boolean,
): { batched: boolean; N: number; L: number; S: number } {
  if (q.ndim !== 2 && q.ndim !== 3) {
    throw shapeError(op, names.query, `a 3-d tensor ${batchFirst ? '(N, L, E)' : '(L, N, E)'} or an unbatched 2-d one (L, E)`, q.shape);
  }
  const batched = q.ndim === 3;
  for (const [arg, t] of [[names.key, k], [names.value, v]] as const) {
    if (t.ndim !== q.ndim) throw shapeError(op, arg, `a ${q.ndim}-d tensor as the ${names.query} is (${batched ? (batchFirst ? '(N, S, E)' : '(S, N, E)') : '(S, E)'})`, t.shape);
  }
  for (const [arg, t] of [[names.query, q], [names.key, k], [names.value, v]] as const) {
    if (t.shape[t.ndim - 1] !== E) throw shapeError(op, arg, `a last dimension of ${E} (embedDim)`, t.shape);
  }
  if (fmt(k.shape) !== fmt(v.shape)) throw shapeError(op, names.value, `the ${names.key}'s shape ${fmt(k.shape)}`, v.shape);
  const seqDim = batched && batchFirst ? 1 : 0;
  const N = batched ? q.shape[batchFirst ? 0 : 1] : 1;
  if (batched && k.shape[batchFirst ? 0 : 1] !== N) throw shapeError(op, names.key, `the ${names.query}'s batch size ${N} in dimension ${batchFirst ? 0 : 1}`, k.shape);
  return { batched, N, L: q.shape[seqDim], S: k.shape[seqDim] };
}

// The shapes of the key padding mask and the attention mask, as PyTorch 1.13 checks them.
function checkMaskShapes(
  op: string, names: { keyPaddingMask: string; attnMask: string }, kpm: Tensor | null, am: Tensor | null,
  batched: boolean, N: number, L: number, S: number, H: number,
): void {
  if (kpm) {
    const want = batched ? [N, S] : [S];
    if (fmt(kpm.shape) !== fmt(want)) throw shapeError(op, names.keyPaddingMask, `shape ${fmt(want)} (${batched ? 'N, S' : 'S'})`, kpm.shape);
  }
  if (am) {
    const nh = batched ? N * H : H;
    if (!(am.ndim === 2 && fmt(am.shape) === fmt([L, S])) && !(am.ndim === 3 && fmt(am.shape) === fmt([nh, L, S]))) {
      throw shapeError(op, names.attnMask, `shape ${fmt([L, S])} (L, S) or ${fmt([nh, L, S])} (${batched ? 'N·numHeads' : 'numHeads'}, L, S)`, am.shape);
    }
  }
}

// ---------------------------------------------------------------- TransformerEncoderLayer

/** The activation of a Transformer feed-forward block: `'relu'`, `'gelu'` (exact), or a function of a tensor. */
export type TransformerActivation = 'relu' | 'gelu' | ((x: Tensor) => Tensor);

/** Options of `nn.TransformerEncoderLayer` (PyTorch 1.13's arguments after `nhead`, in camelCase). */
export interface TransformerEncoderLayerOptions {
  /** Width of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability of the attention weights, the feed-forward block and the residual branches (default 0.1). */
  dropout?: number;
  /** The feed-forward activation (default `'relu'`). */
  activation?: TransformerActivation;
  /** The `eps` of both layer norms (default 1e-5). */
  layerNormEps?: number;
  /** Inputs and output are `(N, S, E)` instead of `(S, N, E)` (default false). */
  batchFirst?: boolean;
  /** Layer norm before the attention and feed-forward blocks (pre-norm) instead of after them (default false). */
  normFirst?: boolean;
  /** Device of the parameters (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters (default float32). */
  dtype?: DType | null;
}

/** Options of `TransformerEncoderLayer.forward`. */
export interface TransformerEncoderLayerForwardOptions {
  /** The attention mask `(S, S)` or `(N·nhead, S, S)`: bool (true = not allowed) or added (float). */
  srcMask?: Tensor | null;
  /** Padding positions `(N, S)` (`(S)` unbatched): bool (true = ignored) or added (float). */
  srcKeyPaddingMask?: Tensor | null;
}

// The constructor arguments of each TransformerEncoderLayer, so TransformerEncoder can copy one.
const layerArgs = new WeakMap<object, { dModel: number; nhead: number; options: TransformerEncoderLayerOptions }>();

/**
 * A Transformer encoder layer (`torch.nn.TransformerEncoderLayer`, PyTorch 1.13): self-attention then a
 * feed-forward block (`linear1`, activation, `dropout`, `linear2`), each with a residual connection and a layer
 * norm, after the block (default) or before it (`normFirst`). Submodules `self_attn`, `linear1`, `dropout`,
 * `linear2`, `norm1`, `norm2`, `dropout1`, `dropout2` and state-dict keys as PyTorch's, initialised as
 * PyTorch initialises them (the same seed gives the same values).
 *
 * `forward(src, { srcMask, srcKeyPaddingMask })` takes `(S, N, E)` (`(N, S, E)` with `batchFirst`) or
 * unbatched `(S, E)` and returns the same shape. PyTorch's fused inference path (evaluation mode without
 * gradients) is not reproduced; its results agree except that, through `nn.TransformerEncoder` with a padding
 * mask, PyTorch's nested-tensor path returns zeros at padded positions.
 *
 * ```ts
 * const layer = new nn.TransformerEncoderLayer(512, 8, { dimFeedforward: 2048, batchFirst: true, activation: 'gelu' });
 * const y = layer.forward(randn([32, 10, 512]));                  // (N, S, E)
 * ```
 */
export class TransformerEncoderLayer extends Module {
  /** Features of the input and output (E). */
  readonly dModel: number;
  /** The number of attention heads. */
  readonly nhead: number;
  /** Width of the feed-forward block. */
  readonly dimFeedforward: number;
  /** The feed-forward activation. */
  readonly activation: TransformerActivation;
  /** Whether the layer norms come before the blocks (pre-norm). */
  readonly normFirst: boolean;
  /** Whether batched inputs are `(N, S, E)`. */
  readonly batchFirst: boolean;
  /** The self-attention. */
  declare self_attn: MultiheadAttention;
  /** The first feed-forward projection, dModel → dimFeedforward. */
  declare linear1: Linear;
  /** Dropout after the activation. */
  declare dropout: Dropout;
  /** The second feed-forward projection, dimFeedforward → dModel. */
  declare linear2: Linear;
  /** The layer norm of the attention block. */
  declare norm1: LayerNorm;
  /** The layer norm of the feed-forward block. */
  declare norm2: LayerNorm;
  /** Dropout of the attention branch. */
  declare dropout1: Dropout;
  /** Dropout of the feed-forward branch. */
  declare dropout2: Dropout;

  constructor(dModel: number, nhead: number, options: TransformerEncoderLayerOptions = {}) {
    const op = 'TransformerEncoderLayer';
    const o = knownOptions(op, options, ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst', 'device', 'dtype']);
    const E = checkSize(op, 'dModel', dModel);
    const H = checkSize(op, 'nhead', nhead);
    if (E % H !== 0) throw rangeError(op, 'dModel', `a multiple of nhead (${H})`, E);
    const ff = checkSize(op, 'dimFeedforward', o.dimFeedforward ?? 2048);
    const p = numberOpt(op, 'dropout', o.dropout, 0.1, { min: 0, max: 1 });
    const act = o.activation;
    if (act !== undefined && typeof act !== 'function' && act !== 'relu' && act !== 'gelu') throw typeError(op, 'activation', '"relu", "gelu" or a function of a tensor', act);
    const activation = (act ?? 'relu') as TransformerActivation;
    const eps = numberOpt(op, 'layerNormEps', o.layerNormEps, 1e-5, { min: 0 });
    const batchFirst = o.batchFirst === undefined ? false : checkBool(op, 'batchFirst', o.batchFirst);
    const normFirst = o.normFirst === undefined ? false : checkBool(op, 'normFirst', o.normFirst);
    const factory = factoryOptions(op, o);
    super();
    layerArgs.set(this, { dModel: E, nhead: H, options: { ...options } });
    this.dModel = E;
    this.nhead = H;
    this.dimFeedforward = ff;
    this.activation = activation;
    this.normFirst = normFirst;
    this.batchFirst = batchFirst;
    // In PyTorch's order (registration order is the state-dict order and the order of the random draws).
    this.self_attn = new MultiheadAttention(E, H, { dropout: p, batchFirst, ...factory });
    this.linear1 = factoryLinear(E, ff, true, factory);
    this.dropout = new Dropout(p);
    this.linear2 = factoryLinear(ff, E, true, factory);
    this.norm1 = new LayerNorm(E, { eps, ...factory });
    this.norm2 = new LayerNorm(E, { eps, ...factory });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
  }

  /** The layer on `src` `(S, N, E)`, `(N, S, E)` with `batchFirst`, or `(S, E)`; the output has its shape. */
  forward(src: Tensor, options: TransformerEncoderLayerForwardOptions = {}): Tensor {
    const op = 'TransformerEncoderLayer.forward';
    const o = knownOptions(op, options, ['srcMask', 'srcKeyPaddingMask']);
    const x0 = checkSource(op, src, this.self_attn.in_proj_weight, this.dModel, this.batchFirst);
    const masks = checkSourceMasks(op, { attnMask: 'srcMask', keyPaddingMask: 'srcKeyPaddingMask' }, x0, o.srcMask, o.srcKeyPaddingMask, this.nhead, this.batchFirst);
    return tidy(() => {
      const sa = (x: Tensor) => this.dropout1.forward(this.self_attn.forward(x, x, x, { attnMask: masks.attnMask, keyPaddingMask: masks.keyPaddingMask, needWeights: false })[0]);
      const act = this.activation;
      const f = act === 'relu' ? relu : act === 'gelu' ? (t: Tensor) => gelu(t) : act;
      const ffn = (x: Tensor) => this.dropout2.forward(this.linear2.forward(this.dropout.forward(f(this.linear1.forward(x)))));
      let x = x0;
      if (this.normFirst) {
        x = x.add(sa(this.norm1.forward(x)));
        x = x.add(ffn(this.norm2.forward(x)));
      } else {
        x = this.norm1.forward(x.add(sa(x)));
        x = this.norm2.forward(x.add(ffn(x)));
      }
      return x;
    });
  }
}

// A Transformer input: a floating tensor of the parameters' dtype and device, (S, N, E) / (N, S, E) or (S, E).
function checkSource(op: string, src: unknown, like: Tensor, E: number, batchFirst: boolean): Tensor {
  const x = floatArg(op, 'src', src);
  moduleKind(op, 'src', x, like);
  if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== E) {
    throw shapeError(op, 'src', `a 3-d tensor ${batchFirst ? '(N, S, E)' : '(S, N, E)'} or an unbatched 2-d one (S, E) with E = ${E}`, x.shape);
  }
  return x;
}

// The masks of a Transformer forward, checked under the names the caller's options give them.
function checkSourceMasks(
  op: string, names: { attnMask: string; keyPaddingMask: string }, x: Tensor, attnMask: unknown, keyPaddingMask: unknown, H: number, batchFirst: boolean,
): { attnMask: Tensor | null; keyPaddingMask: Tensor | null } {
  const am = maskArg(op, names.attnMask, attnMask, x);
  const kpm = maskArg(op, names.keyPaddingMask, keyPaddingMask, x);
  const batched = x.ndim === 3;
  const S = x.shape[batched && batchFirst ? 1 : 0];
  const N = batched ? x.shape[batchFirst ? 0 : 1] : 1;
  checkMaskShapes(op, names, kpm, am, batched, N, S, S, H);
  return { attnMask: am, keyPaddingMask: kpm };
}

// ---------------------------------------------------------------- TransformerEncoder

/** Options of `nn.TransformerEncoder`. */
export interface TransformerEncoderOptions {
  /** A module applied to the output of the last layer (usually an `nn.LayerNorm`); it becomes the child `norm`. */
  norm?: Module | null;
}

/** Options of `TransformerEncoder.forward`. */
export interface TransformerEncoderForwardOptions {
  /** The attention mask `(S, S)` or `(N·nhead, S, S)`, given to every layer as its `srcMask`. */
  mask?: Tensor | null;
  /** Padding positions `(N, S)` (`(S)` unbatched), given to every layer. */
  srcKeyPaddingMask?: Tensor | null;
}

/**
 * A stack of `numLayers` encoder layers (`torch.nn.TransformerEncoder`), children `layers.0`, `layers.1`, ...
 * and the optional final `norm`, as PyTorch's state-dict keys.
 *
 * Given an `nn.TransformerEncoderLayer`, it makes `numLayers` copies of it, as PyTorch's `copy.deepcopy` does:
 * each a new layer with the same options, weights, dtype, device and training mode (so all start equal, as in
 * PyTorch; hooks are not copied). The layer given is not used and stays yours to dispose. Given a function
 * instead, it calls it once per layer (with the index) and takes each module it returns (its own
 * initialisation); such a module's forward is called as `forward(x, { srcMask, srcKeyPaddingMask })`.
 * PyTorch's nested-tensor inference path (`enable_nested_tensor`, `mask_check`) is not reproduced.
 *
 * ```ts
 * const layer = new nn.TransformerEncoderLayer(512, 8);
 * const encoder = new nn.TransformerEncoder(layer, 6, { norm: new nn.LayerNorm(512) });
 * layer.dispose(); // copied: the encoder does not use it
 * const y = encoder.forward(randn([10, 32, 512]), { srcKeyPaddingMask: pad }); // (S, N, E)
 * const fresh = new nn.TransformerEncoder(() => new nn.TransformerEncoderLayer(512, 8), 6); // each layer drawn anew
 * ```
 */
export class TransformerEncoder extends Module {
  /** The number of layers. */
  readonly numLayers: number;
  /** The layers, run in order. */
  declare layers: ModuleList;
  /** The module applied after the last layer, or null. */
  declare norm: Module | null;

  constructor(encoderLayer: TransformerEncoderLayer | ((index: number) => Module), numLayers: number, options: TransformerEncoderOptions = {}) {
    const op = 'TransformerEncoder';
    const o = knownOptions(op, options, ['norm']);
    const n = checkSize(op, 'numLayers', numLayers);
    if (!(encoderLayer instanceof TransformerEncoderLayer) && typeof encoderLayer !== 'function') {
      const hint = (encoderLayer as unknown) instanceof Module ? ' (to stack another kind of module, pass a function that makes one: (i) => new MyLayer())' : '';
      throw typeError(op, 'encoderLayer', `an nn.TransformerEncoderLayer or a function returning a new layer${hint}`, encoderLayer);
    }
    if (encoderLayer instanceof TransformerEncoderLayer && encoderLayer.isDisposed) throw typeError(op, 'encoderLayer', 'a live TransformerEncoderLayer (this one has been disposed)', encoderLayer);
    const norm = o.norm ?? null;
    if (norm !== null && !(norm instanceof Module)) throw typeError(op, 'norm', 'a Module (such as an nn.LayerNorm) or null', norm);
    if (norm?.isDisposed) throw typeError(op, 'norm', 'a live Module (this one has been disposed)', norm);
    const made: Module[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const m = encoderLayer instanceof TransformerEncoderLayer ? copyLayer(encoderLayer) : encoderLayer(i);
        if (!(m instanceof Module) || m.isDisposed || made.includes(m)) {
          throw typeError(op, 'encoderLayer', 'a function returning a new, live Module on each call', m);
        }
        made.push(m);
      }
    } catch (e) {
      if (encoderLayer instanceof TransformerEncoderLayer) for (const m of made) m.dispose();
      throw e;
    }
    super();
    this.numLayers = n;
    this.layers = new ModuleList(made);
    this.registerModule('norm', norm);
  }

  /** Runs `src` through every layer, then `norm`; the options go to every layer. */
  forward(src: Tensor, options: TransformerEncoderForwardOptions = {}): Tensor {
    const op = 'TransformerEncoder.forward';
    const o = knownOptions(op, options, ['mask', 'srcKeyPaddingMask']);
    const first = this.layers.get(0);
    let masks: { attnMask: Tensor | null; keyPaddingMask: Tensor | null };
    if (first instanceof TransformerEncoderLayer) {
      const x = checkSource(op, src, first.self_attn.in_proj_weight, first.dModel, first.batchFirst);
      masks = checkSourceMasks(op, { attnMask: 'mask', keyPaddingMask: 'srcKeyPaddingMask' }, x, o.mask, o.srcKeyPaddingMask, first.nhead, first.batchFirst);
    } else {
      if (!(src instanceof Tensor)) throw typeError(op, 'src', 'a Tensor', src);
      masks = { attnMask: optTensorArg(op, 'mask', o.mask), keyPaddingMask: optTensorArg(op, 'srcKeyPaddingMask', o.srcKeyPaddingMask) };
    }
    const layerOptions: TransformerEncoderLayerForwardOptions = {};
    if (masks.attnMask) layerOptions.srcMask = masks.attnMask;
    if (masks.keyPaddingMask) layerOptions.srcKeyPaddingMask = masks.keyPaddingMask;
    return tidy(() => {
      let x: Tensor = src;
      for (const layer of this.layers) x = layer.forward(x, { ...layerOptions });
      return this.norm ? (this.norm.forward(x) as Tensor) : x;
    });
  }
}

// A new TransformerEncoderLayer with `layer`'s options, weights, dtype, device and modes (PyTorch's deepcopy,
// which draws no random numbers: the random state is put back after the new layer's initialisation).
function copyLayer(layer: TransformerEncoderLayer): TransformerEncoderLayer {
  const args = layerArgs.get(layer);
  if (!args) throw typeError('TransformerEncoder', 'encoderLayer', 'a TransformerEncoderLayer made by its constructor', layer);
  const w = layer.self_attn.in_proj_weight;
  const options = { ...args.options, dtype: w.dtype, device: w.device };
  return withoutDraws(
    () => new TransformerEncoderLayer(args.dModel, args.nhead, options),
    (copy) => {
      const from = layer.namedModules();
      const to = copy.namedModules();
      if (from.length !== to.length || from.some(([k], i) => k !== to[i][0])) {
        throw typeError('TransformerEncoder', 'encoderLayer', 'a TransformerEncoderLayer with its own submodules (one was replaced, so it cannot be copied)', layer);
      }
      tidy(() => void copy.loadStateDict(layer.stateDict()));
      // Each module's own mode, parents first (train() sets a whole subtree).
      from.forEach(([, m], i) => to[i][1].train(m.training));
    },
  );
}
