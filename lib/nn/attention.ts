/**
 * Attention, written in TypeScript over existing ops: `nn.functional.scaledDotProductAttention` (PyTorch 2.x's
 * `scaled_dot_product_attention`), `nn.MultiheadAttention`, `nn.TransformerEncoderLayer`,
 * `nn.TransformerEncoder`, `nn.TransformerDecoderLayer`, `nn.TransformerDecoder` and `nn.Transformer`, with
 * PyTorch 1.13's constructor arguments (camelCase), submodule and parameter names, initialisation and forward
 * semantics, so their state dicts go to the PyTorch modules of the same name and back (strict loading both ways).
 * Their forward is written in JavaScript, so it runs on the main thread (see `nn.Module`); PyTorch's fused
 * inference "fast paths" are not reproduced (the general path always runs, which PyTorch also takes whenever
 * gradients are recorded).
 */
import { cat, full, ones, zeros } from '../creation';
import type { Device, DType } from '../dtype';
import { rngState, setRngState } from '../runtime';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { broadcastShapes, checkBool, checkInt, knownOptions, rangeError, typeError } from '../validate';
import { boolOpt, checkSize, factoryOptions, floatArg, fmt, numberOpt, optTensorArg, sameKind, shapeError } from './checks';
import { dropout, gelu, linear, pad, relu, softmax } from './functional';
import { LayerNorm } from './functional-layers';
import { constant_, xavierNormal_, xavierUniform_ } from './init';
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
  /**
   * Learn a bias vector for the key and one for the value (`bias_k`, `bias_v`, each `(1, 1, embedDim)`), appended
   * to the projected key and value sequences as one more position (default false).
   */
  addBiasKv?: boolean;
  /** Append a position of zeros to the projected key and value sequences, per head (default false). */
  addZeroAttn?: boolean;
  /**
   * Features of the key (default `embedDim`). With `kdim` or `vdim` other than `embedDim` the projections are the
   * separate `q_proj_weight`, `k_proj_weight` and `v_proj_weight` instead of the packed `in_proj_weight`.
   */
  kdim?: number | null;
  /** Features of the value (default `embedDim`; see `kdim`). */
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
 * (by the packed `in_proj_weight` `(3·embedDim, embedDim)`, or with `kdim`/`vdim` other than `embedDim` by the
 * separate `q_proj_weight` `(embedDim, embedDim)`, `k_proj_weight` `(embedDim, kdim)` and `v_proj_weight`
 * `(embedDim, vdim)`; biases `in_proj_bias` `(3·embedDim)`), split into `numHeads` heads of
 * `embedDim / numHeads` features, attended (scaled dot products, softmax, dropout in training) and projected back
 * by `out_proj` (an `nn.Linear`). `addBiasKv` appends the learnt `bias_k` and `bias_v` `(1, 1, embedDim)` to the
 * projected key and value sequences, `addZeroAttn` a position of zeros (per head, after them); the masks are
 * padded with "allowed" for these positions, and the returned weights include them (S + 1 or S + 2 columns).
 *
 * State-dict keys in PyTorch's order (`in_proj_weight` or `q_proj_weight`, `k_proj_weight`, `v_proj_weight`;
 * then `in_proj_bias`, `bias_k`, `bias_v`, `out_proj.weight`, `out_proj.bias`); initialisation as PyTorch's
 * `_reset_parameters` (`out_proj` a default Linear, then Xavier-uniform projection weights, zero biases,
 * Xavier-normal `bias_k` and `bias_v`), so the same seed gives the same values.
 *
 * `forward(query, key, value, options)` takes `(L, N, E)` query and `(S, N, kdim)`, `(S, N, vdim)` key and
 * value (`(N, L, E)` ... with `batchFirst`), or unbatched `(L, E)`, `(S, kdim)`, `(S, vdim)`, and returns
 * `[output, weights]`: output shaped as the query, weights `(N, L, S)` averaged over the heads
 * (`(N, numHeads, L, S)` with `averageAttnWeights: false`; without the N for unbatched input; null with
 * `needWeights: false`). In training mode the weights returned are the ones after dropout, as PyTorch's.
 *
 * ```ts
 * const attn = new nn.MultiheadAttention(64, 8, { batchFirst: true });
 * const x = randn([2, 10, 64]);                                  // (N, L, E)
 * const [y, w] = attn.forward(x, x, x, { keyPaddingMask: pad }); // y (2, 10, 64), w (2, 10, 10)
 * const cross = new nn.MultiheadAttention(64, 8, { kdim: 32, vdim: 48, addBiasKv: true });
 * const [z] = cross.forward(randn([10, 2, 64]), randn([7, 2, 32]), randn([7, 2, 48])); // (10, 2, 64)
 * ```
 */
export class MultiheadAttention extends Module {
  /** Features of the query, and of the output (E). */
  readonly embedDim: number;
  /** Features of the key. */
  readonly kdim: number;
  /** Features of the value. */
  readonly vdim: number;
  /** The number of heads. */
  readonly numHeads: number;
  /** Features per head, `embedDim / numHeads`. */
  readonly headDim: number;
  /** Dropout probability on the attention weights in training. */
  readonly dropout: number;
  /** Whether batched inputs are `(N, L, E)` rather than `(L, N, E)`. */
  readonly batchFirst: boolean;
  /** Whether a position of zeros is appended to the projected keys and values (`addZeroAttn`). */
  readonly addZeroAttn: boolean;
  /**
   * The packed query, key and value projections, `(3·embedDim, embedDim)`. Null (as PyTorch's None) when `kdim`
   * or `vdim` differs from `embedDim`: then `q_proj_weight`, `k_proj_weight` and `v_proj_weight` hold them.
   */
  declare in_proj_weight: Parameter | null;
  /** The query projection `(embedDim, embedDim)` when `kdim` or `vdim` differs from `embedDim`, else null. */
  declare q_proj_weight: Parameter | null;
  /** The key projection `(embedDim, kdim)` when `kdim` or `vdim` differs from `embedDim`, else null. */
  declare k_proj_weight: Parameter | null;
  /** The value projection `(embedDim, vdim)` when `kdim` or `vdim` differs from `embedDim`, else null. */
  declare v_proj_weight: Parameter | null;
  /** The projection biases (query, key, value), `(3·embedDim)`, or null with `bias: false`. */
  declare in_proj_bias: Parameter | null;
  /** The output projection (`out_proj.weight` `(embedDim, embedDim)`, `out_proj.bias` `(embedDim)`). */
  declare out_proj: Linear;
  /** The bias appended to the projected keys, `(1, 1, embedDim)`, with `addBiasKv`; else null. */
  declare bias_k: Parameter | null;
  /** The bias appended to the projected values, `(1, 1, embedDim)`, with `addBiasKv`; else null. */
  declare bias_v: Parameter | null;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    const op = 'MultiheadAttention';
    const o = knownOptions(op, options, ['dropout', 'bias', 'addBiasKv', 'addZeroAttn', 'kdim', 'vdim', 'batchFirst', 'device', 'dtype']);
    const E = checkSize(op, 'embedDim', embedDim);
    const H = checkSize(op, 'numHeads', numHeads);
    if (E % H !== 0) throw rangeError(op, 'embedDim', `a multiple of numHeads (${H})`, E);
    const p = numberOpt(op, 'dropout', o.dropout, 0, { min: 0, max: 1 });
    const withBias = boolOpt(op, 'bias', o.bias, true);
    const addBiasKv = boolOpt(op, 'addBiasKv', o.addBiasKv, false);
    const addZeroAttn = boolOpt(op, 'addZeroAttn', o.addZeroAttn, false);
    const kdim = o.kdim === undefined || o.kdim === null ? E : checkSize(op, 'kdim', o.kdim);
    const vdim = o.vdim === undefined || o.vdim === null ? E : checkSize(op, 'vdim', o.vdim);
    const batchFirst = boolOpt(op, 'batchFirst', o.batchFirst, false);
    const factory = factoryOptions(op, o);
    super();
    this.embedDim = E;
    this.kdim = kdim;
    this.vdim = vdim;
    this.numHeads = H;
    this.headDim = E / H;
    this.dropout = p;
    this.batchFirst = batchFirst;
    this.addZeroAttn = addZeroAttn;
    // In PyTorch's order: the registration order is the state-dict order.
    const param = (shape: number[]) => tidy(() => new Parameter(zeros(shape, factory)));
    if (kdim === E && vdim === E) {
      this.registerParameter('in_proj_weight', param([3 * E, E]));
      for (const name of ['q_proj_weight', 'k_proj_weight', 'v_proj_weight']) this.registerParameter(name, null);
    } else {
      this.registerParameter('q_proj_weight', param([E, E]));
      this.registerParameter('k_proj_weight', param([E, kdim]));
      this.registerParameter('v_proj_weight', param([E, vdim]));
      this.registerParameter('in_proj_weight', null);
    }
    this.registerParameter('in_proj_bias', withBias ? param([3 * E]) : null);
    // As PyTorch: out_proj draws its Linear initialisation first, then _reset_parameters draws the rest.
    this.out_proj = factoryLinear(E, E, withBias, factory);
    this.registerParameter('bias_k', addBiasKv ? param([1, 1, E]) : null);
    this.registerParameter('bias_v', addBiasKv ? param([1, 1, E]) : null);
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
    const packed = this.in_proj_weight;
    const q0 = floatArg(op, 'query', query);
    const k0 = floatArg(op, 'key', key);
    const v0 = floatArg(op, 'value', value);
    moduleKind(op, 'query', q0, attentionWeight(this));
    sameKind(op, 'key', k0, 'query', q0);
    sameKind(op, 'value', v0, 'query', q0);
    const dims = { E: this.embedDim, kdim: this.kdim, vdim: this.vdim };
    const { batched, N, L, S } = checkAttentionShapes(op, { query: 'query', key: 'key', value: 'value' }, q0, k0, v0, dims, this.batchFirst);
    const names = { keyPaddingMask: 'keyPaddingMask', attnMask: 'attnMask' };
    const kpm = maskArg(op, 'keyPaddingMask', o.keyPaddingMask, q0);
    const am = maskArg(op, 'attnMask', o.attnMask, q0);
    checkMaskShapes(op, names, kpm, am, batched, N, L, S, this.numHeads);

    const E = this.embedDim, H = this.numHeads, hd = this.headDim;
    const selfAttention = query === key && key === value;
    const sameKeyValue = key === value;
    const biasK = this.bias_k, biasV = this.bias_v;
    // Key and value positions after bias_k/bias_v and the zero attention are appended.
    const S2 = S + (biasK && biasV ? 1 : 0) + (this.addZeroAttn ? 1 : 0);
    return tidy((): [Tensor, Tensor | null] => {
      // To PyTorch's (L, N, E) layout with a batch dimension.
      const layout = (t: Tensor) => (!batched ? t.unsqueeze(1) : this.batchFirst ? t.transpose(0, 1) : t);
      const qx = layout(q0);
      const kx = key === query ? qx : layout(k0);
      const vx = value === key ? kx : value === query ? qx : layout(v0);
      const b = this.in_proj_bias;
      const [bq, bk, bv] = b ? b.chunk(3) : [null, null, null];
      // The in-projection, as PyTorch's _in_projection_packed (one product for self-attention) or _in_projection.
      let q: Tensor, k: Tensor, v: Tensor;
      if (!packed) {
        q = linear(qx, this.q_proj_weight as Tensor, bq);
        k = linear(kx, this.k_proj_weight as Tensor, bk);
        v = linear(vx, this.v_proj_weight as Tensor, bv);
      } else if (selfAttention) {
        [q, k, v] = linear(qx, packed, b).chunk(3, -1);
      } else if (sameKeyValue) {
        const [wq, wkv] = packed.split([E, 2 * E]);
        const [bq1, bkv] = b ? b.split([E, 2 * E]) : [null, null];
        q = linear(qx, wq, bq1);
        [k, v] = linear(kx, wkv, bkv).chunk(2, -1);
      } else {
        const [wq, wk, wv] = packed.chunk(3);
        q = linear(qx, wq, bq);
        k = linear(kx, wk, bk);
        v = linear(vx, wv, bv);
      }
      // bias_k and bias_v: one more key and value position for every batch entry.
      if (biasK && biasV) {
        k = cat([k, biasK.expand(1, N, E)]);
        v = cat([v, biasV.expand(1, N, E)]);
      }
      // The masks, merged into one additive mask (1 or N·H, L, S2), "allowed" (0) at the appended positions.
      const padded = (m: Tensor) => (S2 > S ? pad(m, [0, S2 - S]) : m);
      let mask: Tensor | null = null;
      if (am) mask = padded(am.ndim === 2 ? additive(am, q.dtype, true).unsqueeze(0) : additive(am, q.dtype, true));
      if (kpm) {
        const pad1 = padded(additive(batched ? kpm : kpm.unsqueeze(0), q.dtype, true));
        const perHead = pad1.reshape(N, 1, 1, S2).expand(N, H, 1, S2).reshape(N * H, 1, S2);
        mask = mask ? mask.add(perHead) : perHead;
      }
      // Heads: (L, N, E) -> (N·H, L, headDim).
      q = q.reshape(L, N * H, hd).transpose(0, 1);
      k = k.reshape(k.shape[0], N * H, hd).transpose(0, 1);
      v = v.reshape(v.shape[0], N * H, hd).transpose(0, 1);
      if (this.addZeroAttn) {
        const zero = zeros([N * H, 1, hd], { dtype: k.dtype, device: k.device });
        k = cat([k, zero], 1);
        v = cat([v, zero], 1);
      }
      let scores = q.div(Math.sqrt(hd)).matmul(k.transpose(-2, -1));
      if (mask) scores = mask.add(scores);
      let weights = softmax(scores, -1);
      if (this.training && this.dropout > 0) weights = dropout(weights, { p: this.dropout, training: true });
      const heads = weights.matmul(v).transpose(0, 1).reshape(L * N, E);
      const outW = this.out_proj.weight as Tensor;
      let out = linear(heads, outW, this.out_proj.bias).reshape(L, N, E);
      out = !batched ? out.squeeze(1) : this.batchFirst ? out.transpose(1, 0) : out;
      if (!needWeights) return [out, null];
      let w = weights.reshape(N, H, L, S2);
      if (average) w = w.sum(1).div(H);
      return [out, batched ? w : w.squeeze(0)];
    });
  }

  /**
   * PyTorch's initialisation again: `out_proj` as a new Linear, then the projection weights Xavier-uniform, both
   * biases zero and `bias_k`, `bias_v` Xavier-normal (also called by a container's `resetParameters()`).
   */
  resetParameters(): this {
    this.out_proj.resetParameters();
    this.resetInProjection();
    return this;
  }

  // PyTorch's _reset_parameters: Xavier-uniform projection weights, zero in_proj_bias and out_proj.bias,
  // Xavier-normal bias_k and bias_v, drawn in this order.
  private resetInProjection(): void {
    const packed = this.in_proj_weight;
    if (packed) xavierUniform_(packed);
    else for (const w of [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight]) xavierUniform_(w as Tensor);
    if (this.in_proj_bias) {
      constant_(this.in_proj_bias, 0);
      tidy(() => void constant_(this.out_proj.bias as Tensor, 0));
    }
    if (this.bias_k) xavierNormal_(this.bias_k);
    if (this.bias_v) xavierNormal_(this.bias_v);
  }
}

// A projection weight of a MultiheadAttention, for its dtype and device.
function attentionWeight(m: MultiheadAttention): Tensor {
  return m.in_proj_weight ?? (m.q_proj_weight as Parameter);
}

// The shapes of query, key and value (named as `names` says): batched (3-d) or unbatched (2-d), with E, kdim and
// vdim features, key and value alike but for their features, one batch size. Returns whether batched, N (1
// unbatched), L and S.
function checkAttentionShapes(
  op: string, names: { query: string; key: string; value: string }, q: Tensor, k: Tensor, v: Tensor,
  dims: { E: number; kdim: number; vdim: number }, batchFirst: boolean,
): { batched: boolean; N: number; L: number; S: number } {
  if (q.ndim !== 2 && q.ndim !== 3) {
    throw shapeError(op, names.query, `a 3-d tensor ${batchFirst ? '(N, L, E)' : '(L, N, E)'} or an unbatched 2-d one (L, E)`, q.shape);
  }
  const batched = q.ndim === 3;
  for (const [arg, t] of [[names.key, k], [names.value, v]] as const) {
    if (t.ndim !== q.ndim) throw shapeError(op, arg, `a ${q.ndim}-d tensor as the ${names.query} is (${batched ? (batchFirst ? '(N, S, E)' : '(S, N, E)') : '(S, E)'})`, t.shape);
  }
  const { E, kdim, vdim } = dims;
  const features: [string, Tensor, number, string][] = [
    [names.query, q, E, 'embedDim'], [names.key, k, kdim, kdim === E ? 'embedDim' : 'kdim'], [names.value, v, vdim, vdim === E ? 'embedDim' : 'vdim'],
  ];
  for (const [arg, t, d, what] of features) {
    if (t.shape[t.ndim - 1] !== d) throw shapeError(op, arg, `a last dimension of ${d} (${what})`, t.shape);
  }
  if (fmt(k.shape.slice(0, -1)) !== fmt(v.shape.slice(0, -1))) {
    const want = kdim === vdim ? `the ${names.key}'s shape ${fmt(k.shape)}` : `the ${names.key}'s sequence and batch sizes ${fmt(k.shape.slice(0, -1))}`;
    throw shapeError(op, names.value, want, v.shape);
  }
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

// ---------------------------------------------------------------- Transformer layers: shared

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
  /** The `eps` of the layer norms (default 1e-5). */
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

/**
 * Options of `nn.TransformerDecoderLayer`: PyTorch 1.13's arguments after `nhead`, in camelCase, the same as the
 * encoder layer's (`layerNormEps` is the `eps` of its three layer norms).
 */
export type TransformerDecoderLayerOptions = TransformerEncoderLayerOptions;

const LAYER_OPTIONS = ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst', 'device', 'dtype'] as const;

// The checked arguments of a Transformer layer.
interface LayerSettings {
  E: number;
  H: number;
  ff: number;
  p: number;
  activation: TransformerActivation;
  eps: number;
  batchFirst: boolean;
  normFirst: boolean;
  factory: { device?: string; dtype?: DType };
}

// Checks dModel, nhead and a layer's options (`o`, whose unknown keys the caller has refused), named after `op`.
function layerSettings(op: string, dModel: unknown, nhead: unknown, o: Record<string, unknown>): LayerSettings {
  const E = checkSize(op, 'dModel', dModel);
  const H = checkSize(op, 'nhead', nhead);
  if (E % H !== 0) throw rangeError(op, 'dModel', `a multiple of nhead (${H})`, E);
  const ff = checkSize(op, 'dimFeedforward', o.dimFeedforward ?? 2048);
  const p = numberOpt(op, 'dropout', o.dropout, 0.1, { min: 0, max: 1 });
  const act = o.activation;
  if (act !== undefined && typeof act !== 'function' && act !== 'relu' && act !== 'gelu') throw typeError(op, 'activation', '"relu", "gelu" or a function of a tensor', act);
  const activation = (act ?? 'relu') as TransformerActivation;
  const eps = numberOpt(op, 'layerNormEps', o.layerNormEps, 1e-5, { min: 0 });
  const batchFirst = boolOpt(op, 'batchFirst', o.batchFirst, false);
  const normFirst = boolOpt(op, 'normFirst', o.normFirst, false);
  return { E, H, ff, p, activation, eps, batchFirst, normFirst, factory: factoryOptions(op, o) };
}

// The function of an activation option.
function activationFn(act: TransformerActivation): (t: Tensor) => Tensor {
  return act === 'relu' ? relu : act === 'gelu' ? (t: Tensor) => gelu(t) : act;
}

// The constructor arguments of each Transformer layer, so the stacks can copy one.
const layerArgs = new WeakMap<object, { dModel: number; nhead: number; options: TransformerEncoderLayerOptions }>();

// A Transformer input: a floating tensor of the parameters' dtype and device, (S, N, E) / (N, S, E) or (S, E),
// `seq` naming its sequence dimension.
function checkSequence(op: string, arg: string, x0: unknown, like: Tensor, E: number, batchFirst: boolean, seq = 'S'): Tensor {
  const x = floatArg(op, arg, x0);
  moduleKind(op, arg, x, like);
  if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== E) {
    throw shapeError(op, arg, `a 3-d tensor ${batchFirst ? `(N, ${seq}, E)` : `(${seq}, N, E)`} or an unbatched 2-d one (${seq}, E) with E = ${E}`, x.shape);
  }
  return x;
}

// The sequence length and batch size (1 unbatched) of a checked Transformer input.
function seqBatch(x: Tensor, batchFirst: boolean): { len: number; N: number; batched: boolean } {
  const batched = x.ndim === 3;
  return { len: x.shape[batched && batchFirst ? 1 : 0], N: batched ? x.shape[batchFirst ? 0 : 1] : 1, batched };
}

// The masks of a Transformer encoder forward, checked under the names the caller's options give them.
function checkSourceMasks(
  op: string, names: { attnMask: string; keyPaddingMask: string }, x: Tensor, attnMask: unknown, keyPaddingMask: unknown, H: number, batchFirst: boolean,
): { attnMask: Tensor | null; keyPaddingMask: Tensor | null } {
  const am = maskArg(op, names.attnMask, attnMask, x);
  const kpm = maskArg(op, names.keyPaddingMask, keyPaddingMask, x);
  const { len: S, N, batched } = seqBatch(x, batchFirst);
  checkMaskShapes(op, names, kpm, am, batched, N, S, S, H);
  return { attnMask: am, keyPaddingMask: kpm };
}

// `memory` beside a checked `tgt`: a floating tensor of its dtype and device, as many dimensions, E features, the
// same batch size.
function checkMemory(op: string, memory: unknown, tgt: Tensor, E: number, batchFirst: boolean): Tensor {
  const m = floatArg(op, 'memory', memory);
  sameKind(op, 'memory', m, 'tgt', tgt);
  const batched = tgt.ndim === 3;
  if (m.ndim !== tgt.ndim || m.shape[m.ndim - 1] !== E) {
    throw shapeError(op, 'memory', `a ${tgt.ndim}-d tensor as tgt is (${batched ? (batchFirst ? '(N, S, E)' : '(S, N, E)') : '(S, E)'}) with E = ${E}`, m.shape);
  }
  const bd = batchFirst ? 0 : 1;
  if (batched && m.shape[bd] !== tgt.shape[bd]) throw shapeError(op, 'memory', `tgt's batch size ${tgt.shape[bd]} in dimension ${bd}`, m.shape);
  return m;
}

/** Options of `TransformerDecoderLayer.forward` and `TransformerDecoder.forward`. */
export interface TransformerDecoderLayerForwardOptions {
  /** The self-attention mask `(T, T)` or `(N·nhead, T, T)`: bool (true = not allowed) or added (float). */
  tgtMask?: Tensor | null;
  /** The mask of the attention to the memory, `(T, S)` or `(N·nhead, T, S)`: bool (true = not allowed) or added (float). */
  memoryMask?: Tensor | null;
  /** Padding positions of the target `(N, T)` (`(T)` unbatched): bool (true = ignored) or added (float). */
  tgtKeyPaddingMask?: Tensor | null;
  /** Padding positions of the memory `(N, S)` (`(S)` unbatched): bool (true = ignored) or added (float). */
  memoryKeyPaddingMask?: Tensor | null;
}

/** Options of `TransformerDecoder.forward` (given to every layer). */
export type TransformerDecoderForwardOptions = TransformerDecoderLayerForwardOptions;

const DECODER_MASKS = ['tgtMask', 'memoryMask', 'tgtKeyPaddingMask', 'memoryKeyPaddingMask'] as const;

interface DecoderMasks {
  tgtMask: Tensor | null;
  memoryMask: Tensor | null;
  tgtKeyPaddingMask: Tensor | null;
  memoryKeyPaddingMask: Tensor | null;
}

// The masks of a decoder forward on checked `tgt` (T) and `memory` (S).
function checkDecoderMasks(op: string, o: Record<string, unknown>, tgt: Tensor, memory: Tensor, H: number, batchFirst: boolean): DecoderMasks {
  const m = {
    tgtMask: maskArg(op, 'tgtMask', o.tgtMask, tgt),
    memoryMask: maskArg(op, 'memoryMask', o.memoryMask, tgt),
    tgtKeyPaddingMask: maskArg(op, 'tgtKeyPaddingMask', o.tgtKeyPaddingMask, tgt),
    memoryKeyPaddingMask: maskArg(op, 'memoryKeyPaddingMask', o.memoryKeyPaddingMask, tgt),
  };
  const { len: T, N, batched } = seqBatch(tgt, batchFirst);
  const S = seqBatch(memory, batchFirst).len;
  checkMaskShapes(op, { attnMask: 'tgtMask', keyPaddingMask: 'tgtKeyPaddingMask' }, m.tgtKeyPaddingMask, m.tgtMask, batched, N, T, T, H);
  checkMaskShapes(op, { attnMask: 'memoryMask', keyPaddingMask: 'memoryKeyPaddingMask' }, m.memoryKeyPaddingMask, m.memoryMask, batched, N, T, S, H);
  return m;
}

// The given masks only, as options for a layer.
function givenMasks<K extends string>(m: Record<K, Tensor | null>): Partial<Record<K, Tensor>> {
  const out: Partial<Record<K, Tensor>> = {};
  for (const k of Object.keys(m) as K[]) if (m[k]) out[k] = m[k] as Tensor;
  return out;
}

// ---------------------------------------------------------------- TransformerEncoderLayer

/** Options of `TransformerEncoderLayer.forward`. */
export interface TransformerEncoderLayerForwardOptions {
  /** The attention mask `(S, S)` or `(N·nhead, S, S)`: bool (true = not allowed) or added (float). */
  srcMask?: Tensor | null;
  /** Padding positions `(N, S)` (`(S)` unbatched): bool (true = ignored) or added (float). */
  srcKeyPaddingMask?: Tensor | null;
}

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
    const o = knownOptions(op, options, LAYER_OPTIONS);
    const { E, H, ff, p, activation, eps, batchFirst, normFirst, factory } = layerSettings(op, dModel, nhead, o);
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
    const x0 = checkSequence(op, 'src', src, attentionWeight(this.self_attn), this.dModel, this.batchFirst);
    const masks = checkSourceMasks(op, { attnMask: 'srcMask', keyPaddingMask: 'srcKeyPaddingMask' }, x0, o.srcMask, o.srcKeyPaddingMask, this.nhead, this.batchFirst);
    return tidy(() => {
      const sa = (x: Tensor) => this.dropout1.forward(this.self_attn.forward(x, x, x, { attnMask: masks.attnMask, keyPaddingMask: masks.keyPaddingMask, needWeights: false })[0]);
      const f = activationFn(this.activation);
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

// ---------------------------------------------------------------- TransformerDecoderLayer

/**
 * A Transformer decoder layer (`torch.nn.TransformerDecoderLayer`, PyTorch 1.13): self-attention on the target,
 * attention from the target to the encoder's output (`memory`), then a feed-forward block (`linear1`,
 * activation, `dropout`, `linear2`), each with a residual connection and a layer norm, after the block (default)
 * or before it (`normFirst`). Submodules `self_attn`, `multihead_attn`, `linear1`, `dropout`, `linear2`, `norm1`,
 * `norm2`, `norm3`, `dropout1`, `dropout2`, `dropout3` and state-dict keys as PyTorch's, initialised as PyTorch
 * initialises them (the same seed gives the same values).
 *
 * `forward(tgt, memory, { tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask })` takes `tgt`
 * `(T, N, E)` and `memory` `(S, N, E)` (`(N, T, E)` and `(N, S, E)` with `batchFirst`), or unbatched `(T, E)` and
 * `(S, E)`, and returns the shape of `tgt`.
 *
 * ```ts
 * const layer = new nn.TransformerDecoderLayer(512, 8, { batchFirst: true });
 * const causal = nn.Transformer.generateSquareSubsequentMask(20);
 * const y = layer.forward(randn([32, 20, 512]), memory, { tgtMask: causal }); // (N, T, E)
 * ```
 */
export class TransformerDecoderLayer extends Module {
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
  /** Whether batched inputs are `(N, T, E)` and `(N, S, E)`. */
  readonly batchFirst: boolean;
  /** The self-attention on the target. */
  declare self_attn: MultiheadAttention;
  /** The attention from the target to the memory. */
  declare multihead_attn: MultiheadAttention;
  /** The first feed-forward projection, dModel → dimFeedforward. */
  declare linear1: Linear;
  /** Dropout after the activation. */
  declare dropout: Dropout;
  /** The second feed-forward projection, dimFeedforward → dModel. */
  declare linear2: Linear;
  /** The layer norm of the self-attention block. */
  declare norm1: LayerNorm;
  /** The layer norm of the memory attention block. */
  declare norm2: LayerNorm;
  /** The layer norm of the feed-forward block. */
  declare norm3: LayerNorm;
  /** Dropout of the self-attention branch. */
  declare dropout1: Dropout;
  /** Dropout of the memory attention branch. */
  declare dropout2: Dropout;
  /** Dropout of the feed-forward branch. */
  declare dropout3: Dropout;

  constructor(dModel: number, nhead: number, options: TransformerDecoderLayerOptions = {}) {
    const op = 'TransformerDecoderLayer';
    const o = knownOptions(op, options, LAYER_OPTIONS);
    const { E, H, ff, p, activation, eps, batchFirst, normFirst, factory } = layerSettings(op, dModel, nhead, o);
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
    this.multihead_attn = new MultiheadAttention(E, H, { dropout: p, batchFirst, ...factory });
    this.linear1 = factoryLinear(E, ff, true, factory);
    this.dropout = new Dropout(p);
    this.linear2 = factoryLinear(ff, E, true, factory);
    this.norm1 = new LayerNorm(E, { eps, ...factory });
    this.norm2 = new LayerNorm(E, { eps, ...factory });
    this.norm3 = new LayerNorm(E, { eps, ...factory });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.dropout3 = new Dropout(p);
  }

  /**
   * The layer on `tgt` `(T, N, E)` (`(N, T, E)` with `batchFirst`, or `(T, E)`) attending to `memory` `(S, N, E)`
   * (`(N, S, E)`, or `(S, E)`); the output has the shape of `tgt`.
   */
  forward(tgt: Tensor, memory: Tensor, options: TransformerDecoderLayerForwardOptions = {}): Tensor {
    const op = 'TransformerDecoderLayer.forward';
    const o = knownOptions(op, options, DECODER_MASKS);
    const x0 = checkSequence(op, 'tgt', tgt, attentionWeight(this.self_attn), this.dModel, this.batchFirst, 'T');
    const mem = checkMemory(op, memory, x0, this.dModel, this.batchFirst);
    const m = checkDecoderMasks(op, o, x0, mem, this.nhead, this.batchFirst);
    return tidy(() => {
      const sa = (x: Tensor) => this.dropout1.forward(this.self_attn.forward(x, x, x, { attnMask: m.tgtMask, keyPaddingMask: m.tgtKeyPaddingMask, needWeights: false })[0]);
      const mha = (x: Tensor) => this.dropout2.forward(this.multihead_attn.forward(x, mem, mem, { attnMask: m.memoryMask, keyPaddingMask: m.memoryKeyPaddingMask, needWeights: false })[0]);
      const f = activationFn(this.activation);
      const ffn = (x: Tensor) => this.dropout3.forward(this.linear2.forward(this.dropout.forward(f(this.linear1.forward(x)))));
      let x = x0;
      if (this.normFirst) {
        x = x.add(sa(this.norm1.forward(x)));
        x = x.add(mha(this.norm2.forward(x)));
        x = x.add(ffn(this.norm3.forward(x)));
      } else {
        x = this.norm1.forward(x.add(sa(x)));
        x = this.norm2.forward(x.add(mha(x)));
        x = this.norm3.forward(x.add(ffn(x)));
      }
      return x;
    });
  }
}

// ---------------------------------------------------------------- the stacks: shared

type TransformerLayer = TransformerEncoderLayer | TransformerDecoderLayer;

// Checks a stack's `layer` argument: a live layer of `cls` or a function.
function checkLayerArg(op: string, arg: string, cls: typeof TransformerEncoderLayer | typeof TransformerDecoderLayer, layer: unknown): void {
  if (!(layer instanceof cls) && typeof layer !== 'function') {
    const hint = layer instanceof Module ? ' (to stack another kind of module, pass a function that makes one: (i) => new MyLayer())' : '';
    throw typeError(op, arg, `an nn.${cls.name} or a function returning a new layer${hint}`, layer);
  }
  if (layer instanceof cls && layer.isDisposed) throw typeError(op, arg, `a live ${cls.name} (this one has been disposed)`, layer);
}

// Checks a stack's `norm` option: a live module or null.
function checkNorm(op: string, norm: unknown): Module | null {
  const n = norm ?? null;
  if (n !== null && !(n instanceof Module)) throw typeError(op, 'norm', 'a Module (such as an nn.LayerNorm) or null', n);
  if (n?.isDisposed) throw typeError(op, 'norm', 'a live Module (this one has been disposed)', n);
  return n;
}

// The `n` layers of a stack: copies of `layer` (PyTorch's _get_clones), or what the function makes for each index.
function stackLayers(op: string, arg: string, layer: TransformerLayer | ((index: number) => Module), n: number): Module[] {
  const made: Module[] = [];
  const copying = layer instanceof Module;
  try {
    for (let i = 0; i < n; i++) {
      const m = layer instanceof Module ? copyLayer(op, arg, layer) : layer(i);
      if (!(m instanceof Module) || m.isDisposed || made.includes(m)) {
        throw typeError(op, arg, 'a function returning a new, live Module on each call', m);
      }
      made.push(m);
    }
  } catch (e) {
    if (copying) for (const m of made) m.dispose();
    throw e;
  }
  return made;
}

// A new layer with `layer`'s options, weights, dtype, device and modes (PyTorch's deepcopy, which draws no random
// numbers: the random state is put back after the new layer's initialisation).
function copyLayer(op: string, arg: string, layer: TransformerLayer): Module {
  const cls = layer.constructor as new (dModel: number, nhead: number, options: TransformerEncoderLayerOptions) => TransformerLayer;
  const args = layerArgs.get(layer);
  if (!args) throw typeError(op, arg, `a ${cls.name} made by its constructor`, layer);
  const w = attentionWeight(layer.self_attn);
  const options = { ...args.options, dtype: w.dtype, device: w.device };
  return withoutDraws<Module>(
    () => new cls(args.dModel, args.nhead, options),
    (copy) => {
      const from = layer.namedModules();
      const to = copy.namedModules();
      if (from.length !== to.length || from.some(([k], i) => k !== to[i][0])) {
        throw typeError(op, arg, `a ${cls.name} with its own submodules (one was replaced, so it cannot be copied)`, layer);
      }
      tidy(() => void copy.loadStateDict(layer.stateDict()));
      // Each module's own mode, parents first (train() sets a whole subtree).
      from.forEach(([, m], i) => to[i][1].train(m.training));
    },
  );
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
    checkLayerArg(op, 'encoderLayer', TransformerEncoderLayer, encoderLayer);
    const norm = checkNorm(op, o.norm);
    const made = stackLayers(op, 'encoderLayer', encoderLayer, n);
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
      const x = checkSequence(op, 'src', src, attentionWeight(first.self_attn), first.dModel, first.batchFirst);
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

// ---------------------------------------------------------------- TransformerDecoder

/** Options of `nn.TransformerDecoder`. */
export interface TransformerDecoderOptions {
  /** A module applied to the output of the last layer (usually an `nn.LayerNorm`); it becomes the child `norm`. */
  norm?: Module | null;
}

/**
 * A stack of `numLayers` decoder layers (`torch.nn.TransformerDecoder`), children `layers.0`, `layers.1`, ...
 * and the optional final `norm`, as PyTorch's state-dict keys. Every layer attends to the same `memory`.
 *
 * Given an `nn.TransformerDecoderLayer`, it makes `numLayers` copies of it, as PyTorch's `copy.deepcopy` does
 * (same options, weights, dtype, device and training modes; no random draws), so all start equal; the layer given
 * is not used and stays yours to dispose. Given a function instead, it calls it once per layer (with the index);
 * such a module's forward is called as `forward(x, memory, { tgtMask, memoryMask, tgtKeyPaddingMask,
 * memoryKeyPaddingMask })` with the masks given.
 *
 * ```ts
 * const layer = new nn.TransformerDecoderLayer(512, 8);
 * const decoder = new nn.TransformerDecoder(layer, 6, { norm: new nn.LayerNorm(512) });
 * layer.dispose(); // copied: the decoder does not use it
 * const out = decoder.forward(tgt, memory, { tgtMask: nn.Transformer.generateSquareSubsequentMask(tgt.shape[0]) });
 * ```
 */
export class TransformerDecoder extends Module {
  /** The number of layers. */
  readonly numLayers: number;
  /** The layers, run in order. */
  declare layers: ModuleList;
  /** The module applied after the last layer, or null. */
  declare norm: Module | null;

  constructor(decoderLayer: TransformerDecoderLayer | ((index: number) => Module), numLayers: number, options: TransformerDecoderOptions = {}) {
    const op = 'TransformerDecoder';
    const o = knownOptions(op, options, ['norm']);
    const n = checkSize(op, 'numLayers', numLayers);
    checkLayerArg(op, 'decoderLayer', TransformerDecoderLayer, decoderLayer);
    const norm = checkNorm(op, o.norm);
    const made = stackLayers(op, 'decoderLayer', decoderLayer, n);
    super();
    this.numLayers = n;
    this.layers = new ModuleList(made);
    this.registerModule('norm', norm);
  }

  /** Runs `tgt` through every layer (each attending to `memory`), then `norm`; the options go to every layer. */
  forward(tgt: Tensor, memory: Tensor, options: TransformerDecoderForwardOptions = {}): Tensor {
    const op = 'TransformerDecoder.forward';
    const o = knownOptions(op, options, DECODER_MASKS);
    const first = this.layers.get(0);
    let masks: DecoderMasks;
    if (first instanceof TransformerDecoderLayer) {
      const x = checkSequence(op, 'tgt', tgt, attentionWeight(first.self_attn), first.dModel, first.batchFirst, 'T');
      const mem = checkMemory(op, memory, x, first.dModel, first.batchFirst);
      masks = checkDecoderMasks(op, o, x, mem, first.nhead, first.batchFirst);
    } else {
      if (!(tgt instanceof Tensor)) throw typeError(op, 'tgt', 'a Tensor', tgt);
      if (!(memory instanceof Tensor)) throw typeError(op, 'memory', 'a Tensor', memory);
      masks = {
        tgtMask: optTensorArg(op, 'tgtMask', o.tgtMask), memoryMask: optTensorArg(op, 'memoryMask', o.memoryMask),
        tgtKeyPaddingMask: optTensorArg(op, 'tgtKeyPaddingMask', o.tgtKeyPaddingMask), memoryKeyPaddingMask: optTensorArg(op, 'memoryKeyPaddingMask', o.memoryKeyPaddingMask),
      };
    }
    const layerOptions: TransformerDecoderLayerForwardOptions = givenMasks(masks);
    return tidy(() => {
      let x: Tensor = tgt;
      for (const layer of this.layers) x = layer.forward(x, memory, { ...layerOptions });
      return this.norm ? (this.norm.forward(x) as Tensor) : x;
    });
  }
}

// ---------------------------------------------------------------- Transformer

/** Options of `nn.Transformer` (PyTorch 1.13's arguments, in camelCase). */
export interface TransformerOptions<Enc extends Module = TransformerEncoder, Dec extends Module = TransformerDecoder> {
  /** Features of the encoder and decoder inputs (default 512). */
  dModel?: number;
  /** Attention heads (default 8). */
  nhead?: number;
  /** Encoder layers (default 6). */
  numEncoderLayers?: number;
  /** Decoder layers (default 6). */
  numDecoderLayers?: number;
  /** Width of the feed-forward blocks (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability throughout (default 0.1). */
  dropout?: number;
  /** The feed-forward activation (default `'relu'`). */
  activation?: TransformerActivation;
  /**
   * A module used as the encoder instead of a `TransformerEncoder` (called as
   * `forward(src, { mask, srcKeyPaddingMask })` with the masks given); it becomes the child `encoder`.
   */
  customEncoder?: Enc | null;
  /**
   * A module used as the decoder instead of a `TransformerDecoder` (called as `forward(tgt, memory, { tgtMask,
   * memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask })` with the masks given); it becomes the child `decoder`.
   */
  customDecoder?: Dec | null;
  /** The `eps` of every layer norm (default 1e-5). */
  layerNormEps?: number;
  /** Inputs and output are `(N, S, E)` and `(N, T, E)` instead of `(S, N, E)` and `(T, N, E)` (default false). */
  batchFirst?: boolean;
  /** Pre-norm layers (default false: post-norm). */
  normFirst?: boolean;
  /** Device of the parameters (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters (default float32). */
  dtype?: DType | null;
}

/** Options of `Transformer.forward` (PyTorch's keyword arguments after `tgt`, in camelCase). */
export interface TransformerForwardOptions {
  /** The encoder's self-attention mask `(S, S)` or `(N·nhead, S, S)`: bool (true = not allowed) or added (float). */
  srcMask?: Tensor | null;
  /** The decoder's self-attention mask `(T, T)` or `(N·nhead, T, T)` (causal: `generateSquareSubsequentMask(T)`). */
  tgtMask?: Tensor | null;
  /** The mask of the decoder's attention to the memory, `(T, S)` or `(N·nhead, T, S)`. */
  memoryMask?: Tensor | null;
  /** Padding positions of the source `(N, S)` (`(S)` unbatched): bool (true = ignored) or added (float). */
  srcKeyPaddingMask?: Tensor | null;
  /** Padding positions of the target `(N, T)` (`(T)` unbatched). */
  tgtKeyPaddingMask?: Tensor | null;
  /** Padding positions of the memory (the encoded source) `(N, S)` (`(S)` unbatched); usually `srcKeyPaddingMask`. */
  memoryKeyPaddingMask?: Tensor | null;
}

/** Options of `Transformer.generateSquareSubsequentMask`. */
export interface SquareSubsequentMaskOptions {
  /** Device of the mask (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the mask (default float32; PyTorch 2.x's argument): the query's, for a float mask. */
  dtype?: DType | null;
}

const TRANSFORMER_OPTIONS = [
  'dModel', 'nhead', 'numEncoderLayers', 'numDecoderLayers', 'dimFeedforward', 'dropout', 'activation', 'customEncoder', 'customDecoder',
  'layerNormEps', 'batchFirst', 'normFirst', 'device', 'dtype',
] as const;

/**
 * The Transformer (`torch.nn.Transformer`, PyTorch 1.13): an `encoder` (a `TransformerEncoder` of
 * `numEncoderLayers` layers and a final `LayerNorm`) and a `decoder` (a `TransformerDecoder` of `numDecoderLayers`
 * layers and a final `LayerNorm`), or the custom modules given. State-dict keys as PyTorch's (`encoder.layers.0...`,
 * `encoder.norm.weight`, `decoder.layers.0...`, `decoder.norm.weight`, ...). Initialisation as PyTorch's: the
 * layers drawn as they draw (every copy equal), then `_reset_parameters`, Xavier-uniform on every parameter with
 * more than one dimension (custom modules' included), so the same seed gives the same values.
 *
 * `forward(src, tgt, options)` encodes `src` `(S, N, E)` into the memory and decodes `tgt` `(T, N, E)` against it
 * (`(N, S, E)`, `(N, T, E)` with `batchFirst`; unbatched `(S, E)`, `(T, E)`), returning the shape of `tgt`.
 * PyTorch's fused inference paths are not reproduced (see `TransformerEncoderLayer`).
 *
 * ```ts
 * const model = new nn.Transformer({ dModel: 256, nhead: 8, numEncoderLayers: 3, numDecoderLayers: 3, batchFirst: true });
 * const src = randn([32, 12, 256]), tgt = randn([32, 9, 256]);                 // (N, S, E), (N, T, E)
 * const out = model.forward(src, tgt, { tgtMask: nn.Transformer.generateSquareSubsequentMask(9) }); // (32, 9, 256)
 * ```
 */
export class Transformer<Enc extends Module = TransformerEncoder, Dec extends Module = TransformerDecoder> extends Module {
  /** Features of the inputs and output (E). */
  readonly dModel: number;
  /** The number of attention heads. */
  readonly nhead: number;
  /** Whether batched inputs are `(N, S, E)` and `(N, T, E)`. */
  readonly batchFirst: boolean;
  /** The encoder: a `TransformerEncoder`, or the custom encoder given. */
  declare encoder: Enc;
  /** The decoder: a `TransformerDecoder`, or the custom decoder given. */
  declare decoder: Dec;

  constructor(options: TransformerOptions<Enc, Dec> = {}) {
    const op = 'Transformer';
    const o = knownOptions(op, options, TRANSFORMER_OPTIONS);
    const s = layerSettings(op, o.dModel ?? 512, o.nhead ?? 8, o);
    const numEncoderLayers = checkSize(op, 'numEncoderLayers', o.numEncoderLayers ?? 6);
    const numDecoderLayers = checkSize(op, 'numDecoderLayers', o.numDecoderLayers ?? 6);
    for (const arg of ['customEncoder', 'customDecoder'] as const) {
      const m = o[arg];
      if (m === undefined || m === null) continue;
      if (!(m instanceof Module)) throw typeError(op, arg, 'a Module or null', m);
      if (m.isDisposed) throw typeError(op, arg, 'a live Module (this one has been disposed)', m);
    }
    if (o.customEncoder && o.customEncoder === o.customDecoder) throw typeError(op, 'customDecoder', 'a module other than customEncoder', o.customDecoder);
    const layerOptions: TransformerEncoderLayerOptions = {
      dimFeedforward: s.ff, dropout: s.p, activation: s.activation, layerNormEps: s.eps, batchFirst: s.batchFirst, normFirst: s.normFirst, ...s.factory,
    };
    const made: Module[] = [];
    const stack = (make: () => Module): Module => {
      const m = make();
      made.push(m);
      return m;
    };
    let encoder: Module, decoder: Module;
    try {
      // In PyTorch's order: the encoder's layer draws, its copies and norm draw nothing; then the decoder's.
      encoder = (o.customEncoder as Module | undefined | null) ?? stack(() => {
        const layer = new TransformerEncoderLayer(s.E, s.H, layerOptions);
        try {
          return new TransformerEncoder(layer, numEncoderLayers, { norm: new LayerNorm(s.E, { eps: s.eps, ...s.factory }) });
        } finally {
          layer.dispose();
        }
      });
      decoder = (o.customDecoder as Module | undefined | null) ?? stack(() => {
        const layer = new TransformerDecoderLayer(s.E, s.H, layerOptions);
        try {
          return new TransformerDecoder(layer, numDecoderLayers, { norm: new LayerNorm(s.E, { eps: s.eps, ...s.factory }) });
        } finally {
          layer.dispose();
        }
      });
    } catch (e) {
      for (const m of made) m.dispose();
      throw e;
    }
    super();
    this.dModel = s.E;
    this.nhead = s.H;
    this.batchFirst = s.batchFirst;
    this.encoder = encoder as Enc;
    this.decoder = decoder as Dec;
    this.xavierWeights();
  }

  /**
   * A causal mask for a sequence of `sz`: `(sz, sz)` float, -inf above the diagonal (position i may not attend
   * to j > i) and 0 elsewhere, as PyTorch's `generate_square_subsequent_mask`; float32 on the CPU unless said (a
   * float mask must have the dtype of the model).
   */
  static generateSquareSubsequentMask(sz: number, options: SquareSubsequentMaskOptions = {}): Tensor {
    const op = 'Transformer.generateSquareSubsequentMask';
    const o = knownOptions(op, options, ['device', 'dtype']);
    const n = checkInt(op, 'sz', sz, 0);
    const factory = factoryOptions(op, o);
    return tidy(() => full([n, n], -Infinity, { dtype: factory.dtype ?? 'float32', device: factory.device }).triu(1));
  }

  /**
   * Encodes `src` and decodes `tgt` against it (see the class comment for the shapes); the output has the shape of
   * `tgt`.
   */
  forward(src: Tensor, tgt: Tensor, options: TransformerForwardOptions = {}): Tensor {
    const op = 'Transformer.forward';
    const o = knownOptions(op, options, ['srcMask', 'tgtMask', 'memoryMask', 'srcKeyPaddingMask', 'tgtKeyPaddingMask', 'memoryKeyPaddingMask']);
    const E = this.dModel, H = this.nhead, bf = this.batchFirst;
    const s0 = floatArg(op, 'src', src);
    const like = tidy(() => {
      const p = this.parameters()[0];
      return p ? { dtype: p.dtype, device: p.device } : null;
    });
    if (like) {
      if (s0.dtype !== like.dtype) throw new TypeError(`${op}: expected src of the module's dtype ${like.dtype} but received ${s0.dtype} (convert one with .to())`);
      if (s0.device !== like.device) throw new TypeError(`${op}: expected src on the module's device ${like.device} but received one on ${s0.device}`);
    }
    const x = checkSequence(op, 'src', s0, s0, E, bf);
    const t = checkSequence(op, 'tgt', tgt, x, E, bf, 'T');
    if (t.ndim !== x.ndim) throw shapeError(op, 'tgt', `a ${x.ndim}-d tensor like src (batched and unbatched inputs do not mix)`, t.shape);
    const bd = bf ? 0 : 1;
    if (x.ndim === 3 && t.shape[bd] !== x.shape[bd]) throw shapeError(op, 'tgt', `the batch size of src, ${x.shape[bd]}, in dimension ${bd}`, t.shape);
    const srcMasks = checkSourceMasks(op, { attnMask: 'srcMask', keyPaddingMask: 'srcKeyPaddingMask' }, x, o.srcMask, o.srcKeyPaddingMask, H, bf);
    const tgtMasks = checkDecoderMasks(op, o, t, x, H, bf);
    const encoderOptions = givenMasks({ mask: srcMasks.attnMask, srcKeyPaddingMask: srcMasks.keyPaddingMask });
    return tidy(() => {
      const memory = this.encoder.forward(x, encoderOptions) as Tensor;
      return this.decoder.forward(t, memory, givenMasks(tgtMasks)) as Tensor;
    });
  }

  /**
   * The initial values again: each layer's own initialisation (as at construction), then `_reset_parameters`'
   * Xavier-uniform on every parameter with more than one dimension.
   */
  resetParameters(): this {
    super.resetParameters();
    this.xavierWeights();
    return this;
  }

  // PyTorch's _reset_parameters: Xavier-uniform on every parameter with more than one dimension, in order.
  private xavierWeights(): void {
    tidy(() => {
      for (const p of this.parameters()) if (p.ndim > 1) xavierUniform_(p);
    });
  }
}
