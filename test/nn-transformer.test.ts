// The rest of the attention family (lib/nn/attention.ts): nn.MultiheadAttention with kdim/vdim (separate q/k/v
// projection weights), addBiasKv and addZeroAttn; nn.TransformerDecoderLayer, nn.TransformerDecoder and
// nn.Transformer (with generateSquareSubsequentMask). Without Python: state-dict keys and order, initial values,
// shapes, the decoder's copies of its layer, custom encoder and decoder, memory, and the argument errors. Against
// python3-torch (PyTorch 1.13): outputs, attention weights and the gradients of every input and parameter in
// float64 on the same weights, our state dict loaded strictly into PyTorch's modules and theirs into ours, and the
// initial values drawn from the same seed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Tensor, loadStateDict, manualSeed, memory, nn, noGrad, rand, randn, saveStateDict, tensor, tidy, zeros } from '../lib';
import { hasTorch, py, type PyTensor } from './helpers/torchpy';
import { bools, floats, toTensor } from './helpers/specs';
import { expectError } from './helpers/errors';
import { maxDiff, shapes, vals, expectRunsEqual, weighting, type Run } from './helpers/compare';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-transformer-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => manualSeed(0));

// ---------------------------------------------------------------- inputs as data (also sent to Python)

/** A tensor as data (also sent to Python). */
type Spec = PyTensor;

/** Inputs by name: T (L) 4, S 5, N 3, E 8; kdim 4 / vdim 6 (and 5 / 3 batch-first). */
const INPUTS: Record<string, Spec> = {
  x: floats([4, 3, 8], 1), mem: floats([5, 3, 8], 2), k4: floats([5, 3, 4], 3), v6: floats([5, 3, 6], 4),
  xb: floats([3, 4, 8], 5), memb: floats([3, 5, 8], 6), k5b: floats([3, 5, 5], 7), v3b: floats([3, 5, 3], 8), kb4: floats([3, 5, 4], 9), vb6: floats([3, 5, 6], 10),
  xu: floats([4, 8], 11), memu: floats([5, 8], 12), ku4: floats([5, 4], 13), vu6: floats([5, 6], 14),
};

/**
 * Masks by name (no gradient). Bool masks are true where blocked; key 0 is never blocked, so no row is empty.
 * `sq4` is Transformer.generateSquareSubsequentMask(4) (float64), made by each side.
 */
const MASKS: Record<string, Spec> = {
  kpm: bools([3, 5], ([n, s]) => s >= 4 - n && n < 2), // batch 0: key 4; batch 1: keys 3, 4; batch 2: none
  kpmU: bools([5], ([s]) => s === 1 || s === 4),
  kpmF: floats([3, 5], 20, 0.5, false),
  amB: bools([4, 5], ([i, j]) => j > 0 && (i + 2 * j) % 3 === 0),
  amF: floats([4, 5], 21, 0.5, false),
  amF44: floats([4, 4], 22, 0.5, false),
  am3: floats([6, 4, 5], 23, 0.3, false), // (N·heads 2, L, S)
  amU3: bools([2, 4, 5], ([h, i, j]) => j > 0 && (h + i + j) % 4 === 0), // unbatched (heads, L, S)
  amT12: floats([12, 4, 4], 24, 0.4, false), // (N·heads 4, T, T)
  causalB: bools([4, 4], ([i, j]) => j > i),
  tgtKpm: bools([3, 4], ([n, s]) => (n === 0 && s === 3) || (n === 1 && s >= 2)),
  srcKpm: bools([3, 5], ([n, s]) => (n === 0 && s === 4) || (n === 2 && s >= 2)),
  srcF: floats([5, 5], 25, 0.4, false),
};

const makeInput = (name: string): Tensor => toTensor(INPUTS[name]);
const makeMask = (name?: string): Tensor | undefined =>
  name === undefined ? undefined : name === 'sq4' ? nn.Transformer.generateSquareSubsequentMask(4, { dtype: 'float64' }) : toTensor(MASKS[name]);

/** One forward of the comparison: module, inputs and masks by name, options. */
interface Case {
  name: string;
  kind: 'mha' | 'dec' | 'tf';
  module: string;
  /** mha: query, key, value; dec: tgt = q, memory = k; tf: src = k, tgt = q. */
  q: string;
  k: string;
  v?: string;
  /** mha: keyPaddingMask / attnMask; dec, tf: tgtKeyPaddingMask / tgtMask. */
  kpm?: string;
  am?: string;
  /** dec, tf: memoryKeyPaddingMask / memoryMask; tf: srcKeyPaddingMask / srcMask. */
  memKpm?: string;
  memMask?: string;
  srcKpm?: string;
  srcMask?: string;
  needWeights?: boolean;
  average?: boolean;
}

const CASES: Case[] = [
  { name: 'kvCross', kind: 'mha', module: 'mhaKV', q: 'x', k: 'k4', v: 'v6', kpm: 'kpm', am: 'amB' },
  { name: 'kvFloatMaskPerHead', kind: 'mha', module: 'mhaKV', q: 'x', k: 'k4', v: 'v6', am: 'amF', average: false },
  { name: 'kvFloatKpm', kind: 'mha', module: 'mhaKV', q: 'x', k: 'k4', v: 'v6', kpm: 'kpmF' },
  { name: 'kvBatchFirstNoBias', kind: 'mha', module: 'mhaKVBF', q: 'xb', k: 'k5b', v: 'v3b', kpm: 'kpm', average: false },
  { name: 'kvUnbatched', kind: 'mha', module: 'mhaKV', q: 'xu', k: 'ku4', v: 'vu6', kpm: 'kpmU', am: 'amU3' },
  { name: 'biasKvSelf', kind: 'mha', module: 'mhaBiasKv', q: 'x', k: 'x', v: 'x', am: 'causalB', kpm: 'tgtKpm' },
  { name: 'biasKvCross', kind: 'mha', module: 'mhaBiasKv', q: 'x', k: 'mem', v: 'mem', kpm: 'kpm', am: 'amF', average: false },
  { name: 'biasKvMask3d', kind: 'mha', module: 'mhaBiasKv', q: 'x', k: 'mem', v: 'mem', am: 'am3' },
  { name: 'biasKvUnbatched', kind: 'mha', module: 'mhaBiasKv', q: 'xu', k: 'memu', v: 'memu', kpm: 'kpmU' },
  { name: 'zeroSelf', kind: 'mha', module: 'mhaZero', q: 'x', k: 'x', v: 'x', am: 'amF44', kpm: 'tgtKpm' },
  { name: 'zeroCross3d', kind: 'mha', module: 'mhaZero', q: 'x', k: 'mem', v: 'mem', am: 'am3', kpm: 'kpm', average: false },
  { name: 'zeroNoWeights', kind: 'mha', module: 'mhaZero', q: 'x', k: 'mem', v: 'mem', needWeights: false },
  { name: 'allBatchFirst', kind: 'mha', module: 'mhaAll', q: 'xb', k: 'kb4', v: 'vb6', kpm: 'kpm', am: 'amB', average: false },
  { name: 'allFloatKpm', kind: 'mha', module: 'mhaAll', q: 'xb', k: 'kb4', v: 'vb6', kpm: 'kpmF' },
  { name: 'allUnbatched', kind: 'mha', module: 'mhaAll', q: 'xu', k: 'ku4', v: 'vu6', kpm: 'kpmU', am: 'amB' },
  { name: 'decPost', kind: 'dec', module: 'decPost', q: 'x', k: 'mem', am: 'sq4', kpm: 'tgtKpm', memMask: 'amB', memKpm: 'srcKpm' },
  { name: 'decPostMask3d', kind: 'dec', module: 'decPost', q: 'x', k: 'mem', am: 'amF44', memMask: 'am3', kpm: 'tgtKpm' },
  { name: 'decPostUnbatched', kind: 'dec', module: 'decPost', q: 'xu', k: 'memu', am: 'causalB', memKpm: 'kpmU' },
  { name: 'decPreGeluBatchFirst', kind: 'dec', module: 'decPreGelu', q: 'xb', k: 'memb', am: 'amT12', memKpm: 'srcKpm', memMask: 'amF' },
  { name: 'decStack', kind: 'dec', module: 'decStack', q: 'x', k: 'mem', am: 'sq4', memMask: 'amF', kpm: 'tgtKpm', memKpm: 'srcKpm' },
  { name: 'decStackUnbatched', kind: 'dec', module: 'decStack', q: 'xu', k: 'memu', am: 'sq4' },
  { name: 'tfAllMasks', kind: 'tf', module: 'tf', k: 'mem', q: 'x', srcMask: 'srcF', am: 'sq4', memMask: 'amB', srcKpm: 'srcKpm', kpm: 'tgtKpm', memKpm: 'srcKpm' },
  { name: 'tfCausal', kind: 'tf', module: 'tf', k: 'mem', q: 'x', am: 'sq4' },
  { name: 'tfUnbatched', kind: 'tf', module: 'tf', k: 'memu', q: 'xu', am: 'sq4', srcKpm: 'kpmU', memKpm: 'kpmU' },
  { name: 'tfPreGeluBatchFirst', kind: 'tf', module: 'tfBF', k: 'memb', q: 'xb', am: 'sq4', srcKpm: 'srcKpm', memKpm: 'srcKpm', kpm: 'tgtKpm' },
];

/** Every module of the comparison, float64, under the names the Python twin uses. */
class Net extends nn.Module {
  mhaKV = new nn.MultiheadAttention(8, 2, { kdim: 4, vdim: 6, dtype: 'float64' });
  mhaKVBF = new nn.MultiheadAttention(8, 4, { kdim: 5, vdim: 3, batchFirst: true, bias: false, dtype: 'float64' });
  mhaBiasKv = new nn.MultiheadAttention(8, 2, { addBiasKv: true, dtype: 'float64' });
  mhaZero = new nn.MultiheadAttention(8, 2, { addZeroAttn: true, dropout: 0.2, dtype: 'float64' });
  mhaAll = new nn.MultiheadAttention(8, 2, { kdim: 4, vdim: 6, addBiasKv: true, addZeroAttn: true, batchFirst: true, dtype: 'float64' });
  decPost = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dtype: 'float64' });
  decPreGelu = new nn.TransformerDecoderLayer(8, 4, { dimFeedforward: 12, activation: 'gelu', normFirst: true, batchFirst: true, layerNormEps: 1e-6, dtype: 'float64' });
  decStack = makeDecoder();
  tf = new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 12, dropout: 0, dtype: 'float64' });
  tfBF = new nn.Transformer({ dModel: 8, nhead: 4, numEncoderLayers: 1, numDecoderLayers: 2, dimFeedforward: 10, dropout: 0, activation: 'gelu', normFirst: true, batchFirst: true, layerNormEps: 1e-4, dtype: 'float64' });
}

function makeDecoder(): nn.TransformerDecoder {
  const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 12, dropout: 0, dtype: 'float64' });
  try {
    return new nn.TransformerDecoder(layer, 2, { norm: new nn.LayerNorm(8, { dtype: 'float64' }) });
  } finally {
    layer.dispose();
  }
}

/** Modules run in training mode (dropout 0), away from PyTorch's inference fast paths; the rest in evaluation. */
const TRAINING = ['decStack', 'tf', 'tfBF'];

const PY_NET = `
import json, sys, torch, torch.nn as nn
D = torch.float64
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.mhaKV = nn.MultiheadAttention(8, 2, kdim=4, vdim=6, dtype=D)
        s.mhaKVBF = nn.MultiheadAttention(8, 4, kdim=5, vdim=3, batch_first=True, bias=False, dtype=D)
        s.mhaBiasKv = nn.MultiheadAttention(8, 2, add_bias_kv=True, dtype=D)
        s.mhaZero = nn.MultiheadAttention(8, 2, add_zero_attn=True, dropout=0.2, dtype=D)
        s.mhaAll = nn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True, add_zero_attn=True, batch_first=True, dtype=D)
        s.decPost = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dtype=D)
        s.decPreGelu = nn.TransformerDecoderLayer(8, 4, dim_feedforward=12, activation='gelu', norm_first=True, batch_first=True, layer_norm_eps=1e-6, dtype=D)
        s.decStack = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, dim_feedforward=12, dropout=0.0, dtype=D), 2, norm=nn.LayerNorm(8, dtype=D))
        s.tf = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=12, dropout=0.0, dtype=D)
        s.tfBF = nn.Transformer(d_model=8, nhead=4, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=10, dropout=0.0, activation='gelu', norm_first=True, batch_first=True, layer_norm_eps=1e-4, dtype=D)
`;

/** Runs every case on `net`: one forward and backward each. */
function runAll(net: Net): Record<string, Run> {
  net.eval();
  const modules = Object.fromEntries(net.namedChildren()) as Record<string, nn.Module>;
  for (const name of TRAINING) modules[name].train();
  const res: Record<string, Run> = {};
  for (const c of CASES) {
    tidy(() => {
      const inputs: Record<string, Tensor> = {};
      const inp = (n: string) => (inputs[n] ??= makeInput(n));
      const m = modules[c.module];
      m.zeroGrad();
      let out: Tensor;
      let w: Tensor | null = null;
      if (c.kind === 'mha') {
        [out, w] = (m as nn.MultiheadAttention).forward(inp(c.q), inp(c.k), inp(c.v as string), {
          keyPaddingMask: makeMask(c.kpm), attnMask: makeMask(c.am), needWeights: c.needWeights ?? true, averageAttnWeights: c.average ?? true,
        });
      } else if (c.kind === 'dec') {
        const options = { tgtMask: makeMask(c.am), memoryMask: makeMask(c.memMask), tgtKeyPaddingMask: makeMask(c.kpm), memoryKeyPaddingMask: makeMask(c.memKpm) };
        out = m instanceof nn.TransformerDecoder ? m.forward(inp(c.q), inp(c.k), options) : (m as nn.TransformerDecoderLayer).forward(inp(c.q), inp(c.k), options);
      } else {
        out = (m as nn.Transformer).forward(inp(c.k), inp(c.q), {
          srcMask: makeMask(c.srcMask), tgtMask: makeMask(c.am), memoryMask: makeMask(c.memMask),
          srcKeyPaddingMask: makeMask(c.srcKpm), tgtKeyPaddingMask: makeMask(c.kpm), memoryKeyPaddingMask: makeMask(c.memKpm),
        });
      }
      let loss = out.mul(tensor(Float64Array.from(weighting(out.numel(), 7, 3)), { shape: out.shape })).sum();
      if (w) loss = loss.add(w.mul(tensor(Float64Array.from(weighting(w.numel(), 5, 2)), { shape: w.shape })).sum());
      loss.backward();
      const grads: Record<string, number[]> = {};
      for (const [k, t] of Object.entries(inputs)) grads[`input.${k}`] = vals(t.grad as Tensor);
      for (const [k, p] of m.namedParameters()) grads[k] = vals(p.grad as Tensor);
      res[c.name] = { shape: out.shape, out: vals(out), wshape: w ? w.shape : null, weights: w ? vals(w) : null, grads };
    });
  }
  net.zeroGrad();
  return res;
}

const PY_RUN_ALL = `
INPUTS = json.loads(${JSON.stringify(JSON.stringify(INPUTS))})
MASKS = json.loads(${JSON.stringify(JSON.stringify(MASKS))})
CASES = json.loads(${JSON.stringify(JSON.stringify(CASES))})
TRAINING = json.loads(${JSON.stringify(JSON.stringify(TRAINING))})
def tensor_of(s):
    x = torch.tensor(s['data'], dtype=getattr(torch, s['dtype'])).reshape(s['shape'])
    return x.requires_grad_(True) if s.get('grad') else x
def weighting(o, m, c): return torch.tensor([((i % m) - c) / c for i in range(o.numel())], dtype=o.dtype).reshape(o.shape)
def make_mask(n):
    if n is None: return None
    if n == 'sq4': return nn.Transformer.generate_square_subsequent_mask(4).to(D)
    return tensor_of(MASKS[n])
def run_all(net):
    net.eval()
    for n in TRAINING: getattr(net, n).train()
    res = {}
    for c in CASES:
        ts = {}
        def inp(n):
            if n not in ts: ts[n] = tensor_of(INPUTS[n])
            return ts[n]
        m = getattr(net, c['module'])
        m.zero_grad(set_to_none=True)
        w = None
        g = lambda k: make_mask(c.get(k))
        if c['kind'] == 'mha':
            out, w = m(inp(c['q']), inp(c['k']), inp(c['v']), key_padding_mask=g('kpm'), need_weights=c.get('needWeights', True),
                       attn_mask=g('am'), average_attn_weights=c.get('average', True))
        elif c['kind'] == 'dec':
            out = m(inp(c['q']), inp(c['k']), tgt_mask=g('am'), memory_mask=g('memMask'), tgt_key_padding_mask=g('kpm'), memory_key_padding_mask=g('memKpm'))
        else:
            out = m(inp(c['k']), inp(c['q']), src_mask=g('srcMask'), tgt_mask=g('am'), memory_mask=g('memMask'),
                    src_key_padding_mask=g('srcKpm'), tgt_key_padding_mask=g('kpm'), memory_key_padding_mask=g('memKpm'))
        loss = (out * weighting(out, 7, 3)).sum()
        if w is not None: loss = loss + (w * weighting(w, 5, 2)).sum()
        loss.backward()
        grads = {'input.' + k: t.grad.flatten().tolist() for k, t in ts.items()}
        for k, p in m.named_parameters(): grads[k] = p.grad.flatten().tolist()
        res[c['name']] = {'shape': list(out.shape), 'out': out.detach().flatten().tolist(),
                          'wshape': None if w is None else list(w.shape), 'weights': None if w is None else w.detach().flatten().tolist(), 'grads': grads}
    net.zero_grad()
    return res
`;

// ---------------------------------------------------------------- without Python

describe('MultiheadAttention with kdim/vdim, addBiasKv, addZeroAttn', () => {
  it("has PyTorch's parameters (separate projections, bias_k, bias_v) in its state-dict order, initialised as PyTorch's", () => {
    const before = memory().tensors;
    const kv = new nn.MultiheadAttention(16, 4, { kdim: 6, vdim: 10 });
    const all = new nn.MultiheadAttention(8, 2, { kdim: 4, vdim: 8, addBiasKv: true, addZeroAttn: true, bias: false });
    const packed = new nn.MultiheadAttention(8, 2, { addBiasKv: true, kdim: 8, vdim: 8 });
    try {
      tidy(() => {
        expect(shapes(kv.stateDict())).toEqual([
          ['q_proj_weight', [16, 16]], ['k_proj_weight', [16, 6]], ['v_proj_weight', [16, 10]], ['in_proj_bias', [48]], ['out_proj.weight', [16, 16]], ['out_proj.bias', [16]],
        ]);
        expect([kv.embedDim, kv.kdim, kv.vdim, kv.numHeads, kv.headDim, kv.addZeroAttn, kv.in_proj_weight, kv.bias_k, kv.bias_v]).toEqual([16, 6, 10, 4, 4, false, null, null, null]);
        expect(kv.namedParameters().map(([k]) => k)).toEqual(['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
        expect(shapes(all.stateDict())).toEqual([['q_proj_weight', [8, 8]], ['k_proj_weight', [8, 4]], ['v_proj_weight', [8, 8]], ['bias_k', [1, 1, 8]], ['bias_v', [1, 1, 8]], ['out_proj.weight', [8, 8]]]);
        expect([all.addZeroAttn, all.in_proj_bias, all.kdim, all.vdim]).toEqual([true, null, 4, 8]);
        expect(shapes(packed.stateDict())).toEqual([['in_proj_weight', [24, 8]], ['in_proj_bias', [24]], ['bias_k', [1, 1, 8]], ['bias_v', [1, 1, 8]], ['out_proj.weight', [8, 8]], ['out_proj.bias', [8]]]);
        expect([packed.q_proj_weight, packed.k_proj_weight, packed.v_proj_weight]).toEqual([null, null, null]);
        // Xavier-uniform projections (each its own fans), zero biases, Xavier-normal bias_k / bias_v
        const sd = kv.stateDict();
        for (const [k, fanIn] of [['q_proj_weight', 16], ['k_proj_weight', 6], ['v_proj_weight', 10]] as const) {
          const bound = Math.sqrt(6 / (fanIn + 16));
          const w = vals(sd[k]).map(Math.abs);
          expect(Math.max(...w), k).toBeLessThanOrEqual(bound);
          expect(Math.max(...w), k).toBeGreaterThan(0.8 * bound);
        }
        expect(vals(sd.in_proj_bias).every((v) => v === 0)).toBe(true);
        expect(vals(sd['out_proj.bias']).every((v) => v === 0)).toBe(true);
        const bk = vals(packed.stateDict().bias_k);
        expect(bk.every((v) => v !== 0 && Math.abs(v) < 5 * Math.sqrt(1 / 8))).toBe(true); // N(0, 1/8): fan_in = fan_out = 8
        expect(bk).not.toEqual(vals(packed.stateDict().bias_v));
        for (const p of [kv.q_proj_weight, all.bias_k, packed.bias_v]) expect(p?.requiresGrad).toBe(true);
        // resetParameters draws them again, zeros the biases
        noGrad(() => {
          for (const p of packed.parameters()) p.fill_(3);
        });
        packed.resetParameters();
        const again = packed.stateDict();
        expect(vals(again.in_proj_bias).every((v) => v === 0)).toBe(true);
        for (const k of ['in_proj_weight', 'bias_k', 'bias_v', 'out_proj.weight']) expect(vals(again[k]).includes(3), k).toBe(false);
      });
    } finally {
      for (const m of [kv, all, packed]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('returns the weights over S + 1 (bias) and S + 2 (bias and zeros) keys; the appended keys are never masked', () => {
    const all = new nn.MultiheadAttention(8, 2, { kdim: 4, vdim: 6, addBiasKv: true, addZeroAttn: true });
    const zero = new nn.MultiheadAttention(8, 2, { addZeroAttn: true, batchFirst: true });
    const bias = new nn.MultiheadAttention(8, 4, { addBiasKv: true });
    try {
      tidy(() => {
        const q = randn([4, 3, 8]);
        const k = randn([5, 3, 4]);
        const v = randn([5, 3, 6]);
        const kpm = tensor([[false, false, false, true, true], [false, false, false, false, false], [false, true, true, true, true]]);
        const [o, w] = all.forward(q, k, v, { keyPaddingMask: kpm });
        expect([o.shape, w?.shape]).toEqual([[4, 3, 8], [3, 4, 7]]);
        const rows = (w as Tensor).toNested() as number[][][];
        for (const row of rows[0]) {
          expect([row[3], row[4]]).toEqual([0, 0]); // padded
          expect(row[5] > 0 && row[6] > 0).toBe(true); // bias_k and the zero key take part
        }
        vals((w as Tensor).sum(-1)).forEach((s) => expect(s).toBeCloseTo(1, 5));
        const [, perHead] = all.forward(q, k, v, { averageAttnWeights: false, attnMask: zeros([4, 5]) });
        expect(perHead?.shape).toEqual([3, 2, 4, 7]);
        const [ou, wu] = all.forward(q.select(1, 0), k.select(1, 0), v.select(1, 0), { keyPaddingMask: kpm.select(0, 0) });
        expect([ou.shape, wu?.shape]).toEqual([[4, 8], [4, 7]]);
        expect(maxDiff(vals(ou), vals(o.select(1, 0)))).toBeLessThan(1e-5); // unbatched = that batch entry
        const xb = randn([2, 6, 8]);
        const [ob, wb] = zero.forward(xb, xb, xb);
        expect([ob.shape, wb?.shape]).toEqual([[2, 6, 8], [2, 6, 7]]);
        // a query that only the zero key may attend to: its output is out_proj's bias (zero), the zero value
        const blocked = tensor(Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, () => i === 0)));
        const [oz, wz] = zero.forward(xb, xb, xb, { attnMask: blocked });
        expect(vals(oz.select(1, 0)).every((x) => Math.abs(x) < 1e-6)).toBe(true);
        expect(vals((wz as Tensor).select(1, 0).select(1, 6))).toEqual([1, 1]);
        const x = randn([5, 2, 8]);
        const [, wbias] = bias.forward(x, x, x, { attnMask: tensor(Array.from({ length: 5 }, () => [false, true, true, true, true])) });
        expect(wbias?.shape).toEqual([2, 5, 6]);
        // a query attending to key 0 and bias_k only
        vals((wbias as Tensor).select(2, 0).add((wbias as Tensor).select(2, 5))).forEach((s) => expect(s).toBeCloseTo(1, 5));
      });
    } finally {
      for (const m of [all, zero, bias]) m.dispose();
    }
  });
});

describe('TransformerDecoderLayer, TransformerDecoder, Transformer: structure, initialisation, shapes', () => {
  it("TransformerDecoderLayer has PyTorch's children and state-dict keys; forward keeps the target's shape", () => {
    const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
    const bf = new nn.TransformerDecoderLayer(8, 4, { dimFeedforward: 12, batchFirst: true, normFirst: true, activation: 'gelu', layerNormEps: 1e-3 });
    try {
      tidy(() => {
        expect(layer.namedChildren().map(([k]) => k)).toEqual(['self_attn', 'multihead_attn', 'linear1', 'dropout', 'linear2', 'norm1', 'norm2', 'norm3', 'dropout1', 'dropout2', 'dropout3']);
        expect(shapes(layer.stateDict())).toEqual([
          ['self_attn.in_proj_weight', [24, 8]], ['self_attn.in_proj_bias', [24]], ['self_attn.out_proj.weight', [8, 8]], ['self_attn.out_proj.bias', [8]],
          ['multihead_attn.in_proj_weight', [24, 8]], ['multihead_attn.in_proj_bias', [24]], ['multihead_attn.out_proj.weight', [8, 8]], ['multihead_attn.out_proj.bias', [8]],
          ['linear1.weight', [16, 8]], ['linear1.bias', [16]], ['linear2.weight', [8, 16]], ['linear2.bias', [8]],
          ['norm1.weight', [8]], ['norm1.bias', [8]], ['norm2.weight', [8]], ['norm2.bias', [8]], ['norm3.weight', [8]], ['norm3.bias', [8]],
        ]);
        expect([layer.dModel, layer.nhead, layer.dimFeedforward, layer.activation, layer.normFirst, layer.batchFirst, layer.multihead_attn.dropout, layer.norm3.eps])
          .toEqual([8, 2, 16, 'relu', false, false, 0.1, 1e-5]);
        expect([bf.activation, bf.normFirst, bf.batchFirst, bf.self_attn.batchFirst, bf.multihead_attn.numHeads, bf.norm2.eps]).toEqual(['gelu', true, true, true, 4, 1e-3]);
        expect(layer.forward(randn([4, 3, 8]), randn([6, 3, 8])).shape).toEqual([4, 3, 8]);
        expect(layer.forward(randn([4, 8]), randn([6, 8])).shape).toEqual([4, 8]);
        expect(bf.forward(randn([3, 4, 8]), randn([3, 6, 8])).shape).toEqual([3, 4, 8]);
        // in evaluation: deterministic; in training (dropout 0.1): not
        const t = randn([4, 2, 8]);
        const m = randn([5, 2, 8]);
        expect(maxDiff(vals(layer.forward(t, m)), vals(layer.forward(t, m)))).toBeGreaterThan(1e-4);
        layer.eval();
        expect(vals(layer.forward(t, m))).toEqual(vals(layer.forward(t, m)));
        // a custom activation is called
        const f64 = new nn.TransformerDecoderLayer(4, 2, { dimFeedforward: 6, dtype: 'float64', activation: (x) => x.tanh() });
        expect(f64.parameters().map((p) => p.dtype)).toEqual(new Array(18).fill('float64'));
        expect(f64.forward(randn([3, 4], { dtype: 'float64' }), randn([2, 4], { dtype: 'float64' })).dtype).toBe('float64');
        f64.dispose();
      });
    } finally {
      layer.dispose();
      bf.dispose();
    }
  });

  it('TransformerDecoder copies its layer as deepcopy does (equal weights, modes, no random draws); a function makes each layer', () => {
    manualSeed(4);
    const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 12, normFirst: true, dtype: 'float64' });
    const afterLayer = tidy(() => vals(rand([4])));
    manualSeed(4);
    const layer2 = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 12, normFirst: true, dtype: 'float64' });
    noGrad(() => tidy(() => void layer2.norm3.weight?.fill_(2)));
    layer2.eval();
    layer2.dropout3.train();
    const stack = new nn.TransformerDecoder(layer2, 3, { norm: new nn.LayerNorm(8, { dtype: 'float64' }) });
    const afterStack = tidy(() => vals(rand([4])));
    const fresh = new nn.TransformerDecoder((i) => new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 12 + i }), 2);
    try {
      expect(afterStack).toEqual(afterLayer); // copying drew nothing
      tidy(() => {
        const keys = Object.keys(stack.stateDict());
        expect(keys.length).toBe(3 * 18 + 2);
        expect([keys[0], keys[18], keys[53], keys[54], keys[55]]).toEqual(['layers.0.self_attn.in_proj_weight', 'layers.1.self_attn.in_proj_weight', 'layers.2.norm3.bias', 'norm.weight', 'norm.bias']);
        expect([stack.numLayers, stack.layers.length, stack.norm?.kind]).toEqual([3, 3, 'LayerNorm']);
        const own = layer2.stateDict();
        for (let i = 0; i < 3; i++) {
          const copy = stack.layers.get(i) as nn.TransformerDecoderLayer;
          expect(copy).not.toBe(layer2);
          expect([copy.normFirst, copy.dimFeedforward, copy.training, copy.dropout3.training, copy.dropout2.training]).toEqual([true, 12, false, true, false]);
          const sd = copy.stateDict();
          for (const [k, t] of Object.entries(own)) expect(vals(sd[k]), k).toEqual(vals(t));
        }
        // forward = the layers in turn, then the norm
        stack.eval();
        const t = randn([4, 2, 8], { dtype: 'float64' });
        const m = randn([5, 2, 8], { dtype: 'float64' });
        const mask = nn.Transformer.generateSquareSubsequentMask(4, { dtype: 'float64' });
        let manual = t;
        for (const l of stack.layers) manual = (l as nn.TransformerDecoderLayer).forward(manual, m, { tgtMask: mask });
        manual = (stack.norm as nn.LayerNorm).forward(manual);
        expect(maxDiff(vals(stack.forward(t, m, { tgtMask: mask })), vals(manual))).toBe(0);
        const [a, b] = [fresh.layers.get(0), fresh.layers.get(1)] as nn.TransformerDecoderLayer[];
        expect([a.dimFeedforward, b.dimFeedforward, fresh.norm]).toEqual([12, 13, null]);
        expect(vals(a.stateDict()['self_attn.in_proj_weight'])).not.toEqual(vals(b.stateDict()['self_attn.in_proj_weight']));
      });
    } finally {
      for (const m of [layer, layer2, stack, fresh]) m.dispose();
    }
  });

  it("Transformer: PyTorch's keys and defaults, Xavier-uniform weights, the causal mask, custom encoder and decoder, no leaks", () => {
    const before = memory().tensors;
    const tf = new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16 });
    try {
      tidy(() => {
        const sd = tf.stateDict();
        const keys = Object.keys(sd);
        expect(keys.length).toBe(2 * 12 + 2 + 18 + 2);
        expect([keys[0], keys[12], keys[24], keys[25], keys[26], keys[45]]).toEqual([
          'encoder.layers.0.self_attn.in_proj_weight', 'encoder.layers.1.self_attn.in_proj_weight', 'encoder.norm.weight', 'encoder.norm.bias',
          'decoder.layers.0.self_attn.in_proj_weight', 'decoder.norm.bias',
        ]);
        expect([tf.dModel, tf.nhead, tf.batchFirst, tf.encoder.numLayers, tf.decoder.numLayers, tf.encoder.norm?.kind, tf.decoder.norm?.kind]).toEqual([8, 2, false, 2, 1, 'LayerNorm', 'LayerNorm']);
        // _reset_parameters: every weight with more than one dimension is Xavier-uniform; biases as the layers left them
        for (const [k, t] of Object.entries(sd)) {
          const v = vals(t).map(Math.abs);
          if (t.ndim > 1) {
            const bound = Math.sqrt(6 / (t.shape[0] + t.shape[1]));
            expect(Math.max(...v), k).toBeLessThanOrEqual(bound);
            expect(Math.max(...v), k).toBeGreaterThan(0.7 * bound);
          }
        }
        expect(vals(sd['encoder.layers.0.self_attn.in_proj_bias']).every((v) => v === 0)).toBe(true);
        expect(vals(sd['decoder.norm.weight']).every((v) => v === 1)).toBe(true);
        expect(vals(sd['encoder.layers.0.linear1.bias']).some((v) => v !== 0)).toBe(true); // Linear's own bias draw
        // unlike the stacks' copies, every layer has its own weights after the Xavier draws
        expect(vals(sd['encoder.layers.0.linear1.weight'])).not.toEqual(vals(sd['encoder.layers.1.linear1.weight']));
        // generateSquareSubsequentMask: -inf above the diagonal, 0 elsewhere; float32 unless said
        const mask = nn.Transformer.generateSquareSubsequentMask(3);
        expect([mask.dtype, mask.shape]).toEqual(['float32', [3, 3]]);
        expect(mask.toNested()).toEqual([[0, -Infinity, -Infinity], [0, 0, -Infinity], [0, 0, 0]]);
        expect(nn.Transformer.generateSquareSubsequentMask(2, { dtype: 'float64', device: 'cpu' }).dtype).toBe('float64');
        expect(nn.Transformer.generateSquareSubsequentMask(0).shape).toEqual([0, 0]);
        // forward: the decoder's shape; a causal mask makes position i independent of the targets after it
        const src = randn([6, 2, 8]);
        const tgt = randn([4, 2, 8]);
        tf.eval();
        const causal = nn.Transformer.generateSquareSubsequentMask(4);
        const out = tf.forward(src, tgt, { tgtMask: causal });
        expect(out.shape).toEqual([4, 2, 8]);
        const changed = tgt.clone();
        noGrad(() => void changed.narrow(0, 3, 1).fill_(5));
        const out2 = tf.forward(src, changed, { tgtMask: causal });
        expect(maxDiff(vals(out.narrow(0, 0, 3)), vals(out2.narrow(0, 0, 3)))).toBeLessThan(1e-6);
        expect(maxDiff(vals(out.narrow(0, 3, 1)), vals(out2.narrow(0, 3, 1)))).toBeGreaterThan(1e-3);
        expect(tf.forward(src.select(1, 0), tgt.select(1, 0)).shape).toEqual([4, 8]);
        // resetParameters: the layers' initialisation, then Xavier again
        noGrad(() => {
          for (const p of tf.parameters()) p.fill_(7);
        });
        tf.resetParameters();
        const re = tf.stateDict();
        for (const k of ['encoder.layers.0.self_attn.in_proj_weight', 'decoder.layers.0.linear2.weight', 'decoder.layers.0.linear2.bias']) expect(vals(re[k]).includes(7), k).toBe(false);
        expect(vals(re['encoder.norm.weight']).every((v) => v === 1)).toBe(true);
        expect(vals(re['decoder.layers.0.multihead_attn.in_proj_bias']).every((v) => v === 0)).toBe(true);
        // gradients reach every parameter
        tf.train();
        tf.forward(src, tgt, { tgtMask: causal }).sum().backward();
        expect(tf.parameters().every((p) => p.grad !== null)).toBe(true);
        tf.zeroGrad();
      });
    } finally {
      tf.dispose();
    }
    // custom encoder and decoder: used as given (their parameters Xavier-initialised too), called with the masks given
    const calls: string[][] = [];
    class Echo extends nn.Module {
      proj = new nn.Linear(8, 8);
      forward(t: Tensor, m: Tensor, options: Record<string, unknown>): Tensor {
        calls.push(Object.keys(options));
        return this.proj.forward(t.add(m.mean([0])));
      }
    }
    const encoder = new nn.TransformerEncoder(() => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8 }), 1);
    const custom = new nn.Transformer<nn.TransformerEncoder, Echo>({ dModel: 8, nhead: 2, customEncoder: encoder, customDecoder: new Echo() });
    try {
      tidy(() => {
        expect(custom.encoder).toBe(encoder);
        expect(Object.keys(custom.stateDict())).toEqual([...Object.keys(encoder.stateDict()).map((k) => `encoder.${k}`), 'decoder.proj.weight', 'decoder.proj.bias']);
        const w = vals(custom.decoder.proj.weight as Tensor).map(Math.abs);
        expect(Math.max(...w)).toBeGreaterThan(1 / Math.sqrt(8)); // Xavier's bound √(6/16) > Linear's 1/√8
        const out = custom.forward(randn([5, 2, 8]), randn([3, 2, 8]), { tgtMask: nn.Transformer.generateSquareSubsequentMask(3) });
        expect(out.shape).toEqual([3, 2, 8]);
        expect(calls).toEqual([['tgtMask']]);
      });
    } finally {
      custom.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it("Transformer's defaults are PyTorch's (dModel 512, 8 heads, 6 + 6 layers, 2048 wide: 44,140,544 parameters)", () => {
    const tf = new nn.Transformer();
    try {
      expect([tf.dModel, tf.nhead, tf.batchFirst, tf.encoder.numLayers, tf.decoder.numLayers, tf.numParameters(), tidy(() => Object.keys(tf.stateDict()).length)])
        .toEqual([512, 8, false, 6, 6, 44140544, 184]);
      const layer = tf.decoder.layers.get(5) as nn.TransformerDecoderLayer;
      expect([layer.dimFeedforward, layer.activation, layer.normFirst, layer.self_attn.dropout, layer.norm1.eps]).toEqual([2048, 'relu', false, 0.1, 1e-5]);
    } finally {
      tf.dispose();
    }
  });
});

describe('Transformer family argument errors', () => {
  it('construction: bad and unknown options are errors naming the class, the argument and what was expected', () => {
    const before = memory().tensors;
    const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 8 });
    const dead = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 8 });
    dead.dispose();
    const enc = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8 });
    const cases: [() => unknown, ErrorConstructor, RegExp][] = [
      [() => new nn.MultiheadAttention(8, 2, { kdim: 0 }), RangeError, /^MultiheadAttention: expected a positive integer for kdim but received 0/],
      [() => new nn.MultiheadAttention(8, 2, { vdim: 2.5 }), TypeError, /^MultiheadAttention: expected a positive integer for vdim but received 2\.5/],
      [() => new nn.MultiheadAttention(8, 2, { addBiasKv: 'yes' as never }), TypeError, /^MultiheadAttention: expected a boolean for addBiasKv/],
      [() => new nn.MultiheadAttention(8, 2, { addZeroAttn: 1 as never }), TypeError, /^MultiheadAttention: expected a boolean for addZeroAttn/],
      [() => new nn.MultiheadAttention(8, 2, { add_zero_attn: true } as never), TypeError, /^MultiheadAttention: unknown option 'add_zero_attn'; did you mean 'addZeroAttn'\?/],
      [() => new nn.TransformerDecoderLayer(8, 3), RangeError, /^TransformerDecoderLayer: expected a multiple of nhead \(3\) for dModel but received 8/],
      [() => new nn.TransformerDecoderLayer(0, 1), RangeError, /^TransformerDecoderLayer: expected a positive integer for dModel but received 0/],
      [() => new nn.TransformerDecoderLayer(8, 2, { activation: 'tanh' as never }), TypeError, /^TransformerDecoderLayer: expected "relu", "gelu" or a function of a tensor for activation but received "tanh"/],
      [() => new nn.TransformerDecoderLayer(8, 2, { dim_feedforward: 16 } as never), TypeError, /^TransformerDecoderLayer: unknown option 'dim_feedforward'; did you mean 'dimFeedforward'\?/],
      [() => new nn.TransformerDecoderLayer(8, 2, { dropout: -0.1 }), RangeError, /^TransformerDecoderLayer: expected a number in \[0, 1\] for dropout but received -0\.1/],
      [() => new nn.TransformerDecoderLayer(8, 2, { dtype: 'int32' }), TypeError, /^TransformerDecoderLayer: expected one of "float32", .* for dtype but received "int32"/],
      [() => new nn.TransformerDecoder(enc as never, 2), TypeError, /^TransformerDecoder: expected an nn\.TransformerDecoderLayer or a function returning a new layer \(to stack another kind of module, pass a function/],
      [() => new nn.TransformerDecoder(layer, 0), RangeError, /^TransformerDecoder: expected a positive integer for numLayers but received 0/],
      [() => new nn.TransformerDecoder(layer, 2, { norm: 5 as never }), TypeError, /^TransformerDecoder: expected a Module \(such as an nn\.LayerNorm\) or null for norm but received 5/],
      [() => new nn.TransformerDecoder(layer, 2, { normFirst: true } as never), TypeError, /^TransformerDecoder: unknown option 'normFirst' \(known: norm\)/],
      [() => new nn.TransformerDecoder(dead, 2), TypeError, /^TransformerDecoder: expected a live TransformerDecoderLayer \(this one has been disposed\)/],
      [() => new nn.TransformerDecoder(() => layer, 2), TypeError, /^TransformerDecoder: expected a function returning a new, live Module on each call for decoderLayer/],
      [() => new nn.Transformer({ dModel: 8, nhead: 3 }), RangeError, /^Transformer: expected a multiple of nhead \(3\) for dModel but received 8/],
      [() => new nn.Transformer({ d_model: 8 } as never), TypeError, /^Transformer: unknown option 'd_model'; did you mean 'dModel'\?/],
      [() => new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 0 }), RangeError, /^Transformer: expected a positive integer for numEncoderLayers but received 0/],
      [() => new nn.Transformer({ dModel: 8, nhead: 2, numDecoderLayers: 1.5 }), TypeError, /^Transformer: expected a positive integer for numDecoderLayers but received 1\.5/],
      [() => new nn.Transformer({ dModel: 8, nhead: 2, activation: 'swish' as never }), TypeError, /^Transformer: expected "relu", "gelu" or a function of a tensor for activation but received "swish"/],
      [() => new nn.Transformer({ dModel: 8, nhead: 2, customEncoder: 5 as never }), TypeError, /^Transformer: expected a Module or null for customEncoder but received 5/],
      [() => new nn.Transformer({ dModel: 8, nhead: 2, customDecoder: dead as never }), TypeError, /^Transformer: expected a live Module \(this one has been disposed\) for customDecoder/],
      [() => new nn.Transformer({ dModel: 8, nhead: 2, layerNormEps: -1 }), RangeError, /^Transformer: expected a number in \[0, Infinity\] for layerNormEps but received -1/],
      [() => nn.Transformer.generateSquareSubsequentMask(-1), RangeError, /^Transformer\.generateSquareSubsequentMask: expected an integer .*for sz but received -1/],
      [() => nn.Transformer.generateSquareSubsequentMask(2.5), TypeError, /^Transformer\.generateSquareSubsequentMask: expected an integer.* for sz but received 2\.5/],
      [() => nn.Transformer.generateSquareSubsequentMask(3, { dtype: 'int64' }), TypeError, /^Transformer\.generateSquareSubsequentMask: expected one of "float32", .* for dtype but received "int64"/],
    ];
    try {
      for (const [make, type, message] of cases) expectError(make, type, message);
    } finally {
      for (const m of [layer, enc]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('forward: bad inputs and masks are errors naming the op, the argument and what was expected', () => {
    const before = memory().tensors;
    const mha = new nn.MultiheadAttention(8, 2, { kdim: 4, vdim: 6, addBiasKv: true });
    const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 8 });
    const stack = new nn.TransformerDecoder(layer, 1);
    const tf = new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 8 });
    try {
      tidy(() => {
        const q = randn([4, 3, 8]);
        const k = randn([5, 3, 4]);
        const v = randn([5, 3, 6]);
        const mem = randn([5, 3, 8]);
        const cases: [() => unknown, ErrorConstructor, RegExp][] = [
          [() => mha.forward(q, randn([5, 3, 8]), v), RangeError, /^MultiheadAttention\.forward: expected a last dimension of 4 \(kdim\) for key but received shape \[5, 3, 8\]/],
          [() => mha.forward(q, k, randn([5, 3, 4])), RangeError, /^MultiheadAttention\.forward: expected a last dimension of 6 \(vdim\) for value but received shape \[5, 3, 4\]/],
          [() => mha.forward(q, k, randn([6, 3, 6])), RangeError, /^MultiheadAttention\.forward: expected the key's sequence and batch sizes \[5, 3\] for value but received shape \[6, 3, 6\]/],
          [() => mha.forward(randn([4, 3, 4]), k, v), RangeError, /^MultiheadAttention\.forward: expected a last dimension of 8 \(embedDim\) for query/],
          [() => mha.forward(q, k, v, { attnMask: zeros([4, 6]) }), RangeError, /^MultiheadAttention\.forward: expected shape \[4, 5\] \(L, S\) or \[6, 4, 5\] \(N·numHeads, L, S\) for attnMask but received shape \[4, 6\]/],
          [() => mha.forward(q, k, v, { keyPaddingMask: zeros([3, 6], { dtype: 'bool' }) }), RangeError, /^MultiheadAttention\.forward: expected shape \[3, 5\] \(N, S\) for keyPaddingMask but received shape \[3, 6\]/],
          [() => mha.forward(q.double(), k, v), TypeError, /^MultiheadAttention\.forward: expected query of the module's dtype float32 but received float64/],
          [() => layer.forward(randn([4, 3, 6]), mem), RangeError, /^TransformerDecoderLayer\.forward: expected a 3-d tensor \(T, N, E\) or an unbatched 2-d one \(T, E\) with E = 8 for tgt but received shape \[4, 3, 6\]/],
          [() => layer.forward(q, mem.select(1, 0)), RangeError, /^TransformerDecoderLayer\.forward: expected a 3-d tensor as tgt is \(\(S, N, E\)\) with E = 8 for memory but received shape \[5, 8\]/],
          [() => layer.forward(q, randn([5, 2, 8])), RangeError, /^TransformerDecoderLayer\.forward: expected tgt's batch size 3 in dimension 1 for memory but received shape \[5, 2, 8\]/],
          [() => layer.forward(q, mem.double()), TypeError, /^TransformerDecoderLayer\.forward: expected memory of tgt's dtype float32 but received float64/],
          [() => layer.forward(q, undefined as never), TypeError, /^TransformerDecoderLayer\.forward: expected a Tensor for memory but received undefined/],
          [() => layer.forward(q, mem, { tgtMask: zeros([4, 5]) }), RangeError, /^TransformerDecoderLayer\.forward: expected shape \[4, 4\] \(L, S\) or \[6, 4, 4\] \(N·numHeads, L, S\) for tgtMask but received shape \[4, 5\]/],
          [() => layer.forward(q, mem, { memoryMask: zeros([4, 4]) }), RangeError, /^TransformerDecoderLayer\.forward: expected shape \[4, 5\] \(L, S\) or \[6, 4, 5\] \(N·numHeads, L, S\) for memoryMask but received shape \[4, 4\]/],
          [() => layer.forward(q, mem, { tgtKeyPaddingMask: zeros([3, 5], { dtype: 'bool' }) }), RangeError, /^TransformerDecoderLayer\.forward: expected shape \[3, 4\] \(N, S\) for tgtKeyPaddingMask but received shape \[3, 5\]/],
          [() => layer.forward(q, mem, { memoryKeyPaddingMask: zeros([3, 4], { dtype: 'bool' }) }), RangeError, /^TransformerDecoderLayer\.forward: expected shape \[3, 5\] \(N, S\) for memoryKeyPaddingMask/],
          [() => layer.forward(q, mem, { memoryKeyPaddingMask: zeros([3, 5], { dtype: 'int64' }) }), TypeError, /^TransformerDecoderLayer\.forward: expected a bool tensor or a floating-point one of the query's dtype float32 for memoryKeyPaddingMask but received int64/],
          [() => layer.forward(q, mem, { tgtMask: zeros([4, 4], { dtype: 'float64' }) }), TypeError, /^TransformerDecoderLayer\.forward: expected a bool tensor or a floating-point one of the query's dtype float32 for tgtMask but received float64/],
          [() => layer.forward(q, mem, { tgt_mask: null } as never), TypeError, /^TransformerDecoderLayer\.forward: unknown option 'tgt_mask'; did you mean 'tgtMask'\?/],
          [() => stack.forward(q, mem, { mask: null } as never), TypeError, /^TransformerDecoder\.forward: unknown option 'mask' \(known: tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask\)/],
          [() => stack.forward(q, mem, { memoryMask: zeros([5, 4]) }), RangeError, /^TransformerDecoder\.forward: expected shape \[4, 5\] \(L, S\) or \[6, 4, 5\] \(N·numHeads, L, S\) for memoryMask/],
          [() => stack.forward(q.double(), mem.double()), TypeError, /^TransformerDecoder\.forward: expected tgt of the module's dtype float32 but received float64/],
          [() => tf.forward(mem, randn([4, 2, 8])), RangeError, /^Transformer\.forward: expected the batch size of src, 3, in dimension 1 for tgt but received shape \[4, 2, 8\]/],
          [() => tf.forward(mem, randn([4, 3, 6])), RangeError, /^Transformer\.forward: expected a 3-d tensor \(T, N, E\) or an unbatched 2-d one \(T, E\) with E = 8 for tgt/],
          [() => tf.forward(randn([5, 3, 4]), q), RangeError, /^Transformer\.forward: expected a 3-d tensor \(S, N, E\) or an unbatched 2-d one \(S, E\) with E = 8 for src but received shape \[5, 3, 4\]/],
          [() => tf.forward(mem, q.select(1, 0)), RangeError, /^Transformer\.forward: expected a 3-d tensor like src \(batched and unbatched inputs do not mix\) for tgt but received shape \[4, 8\]/],
          [() => tf.forward(mem.double(), q.double()), TypeError, /^Transformer\.forward: expected src of the module's dtype float32 but received float64/],
          [() => tf.forward(mem, q.double()), TypeError, /^Transformer\.forward: expected tgt of the module's dtype float32 but received float64/],
          [() => tf.forward(mem, q, { srcMask: zeros([4, 4]) }), RangeError, /^Transformer\.forward: expected shape \[5, 5\] \(L, S\) or \[6, 5, 5\] \(N·numHeads, L, S\) for srcMask but received shape \[4, 4\]/],
          [() => tf.forward(mem, q, { tgtMask: zeros([5, 5]) }), RangeError, /^Transformer\.forward: expected shape \[4, 4\] \(L, S\) or \[6, 4, 4\] \(N·numHeads, L, S\) for tgtMask/],
          [() => tf.forward(mem, q, { memoryMask: zeros([5, 4]) }), RangeError, /^Transformer\.forward: expected shape \[4, 5\] \(L, S\) or \[6, 4, 5\] \(N·numHeads, L, S\) for memoryMask/],
          [() => tf.forward(mem, q, { srcKeyPaddingMask: zeros([3, 4], { dtype: 'bool' }) }), RangeError, /^Transformer\.forward: expected shape \[3, 5\] \(N, S\) for srcKeyPaddingMask/],
          [() => tf.forward(mem, q, { memoryKeyPaddingMask: zeros([3, 4], { dtype: 'bool' }) }), RangeError, /^Transformer\.forward: expected shape \[3, 5\] \(N, S\) for memoryKeyPaddingMask/],
          [() => tf.forward(mem, q, { tgtKeyPaddingMask: zeros([3, 5], { dtype: 'bool' }) }), RangeError, /^Transformer\.forward: expected shape \[3, 4\] \(N, S\) for tgtKeyPaddingMask/],
          [() => tf.forward(mem, q, { src_mask: null } as never), TypeError, /^Transformer\.forward: unknown option 'src_mask'; did you mean 'srcMask'\?/],
        ];
        for (const [make, type, message] of cases) expectError(make, type, message);
      });
    } finally {
      for (const m of [mha, layer, stack, tf]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

// ---------------------------------------------------------------- against PyTorch

describe.skipIf(!hasTorch)('the Transformer family and PyTorch (needs /usr/bin/python3 with torch)', () => {
  it("same state-dict keys and shapes; our weights load strictly into PyTorch's modules and give its outputs, weights and gradients; its weights load strictly into ours", async () => {
    manualSeed(3);
    const net = new Net();
    const back = new Net();
    const files = { ours: path.join(tmp, 'net.pt'), theirs: path.join(tmp, 'net-torch.pt') };
    try {
      // Weights that are not the initial ones (zero biases, unit norms), so a mix-up of two shows.
      noGrad(() => tidy(() => {
        for (const p of net.parameters()) p.add_(randn(p.shape, { dtype: 'float64' }).mul(0.2));
      }));
      tidy(() => saveStateDict(files.ours, net.stateDict()));
      const ours = runAll(net);
      const r = JSON.parse(
        await py(`${PY_NET}${PY_RUN_ALL}
files = json.loads(sys.stdin.read())
m = Net()
keys = [[k, list(v.shape)] for k, v in m.state_dict().items()]
m.load_state_dict(torch.load(files['ours']), strict=True)
mine = run_all(m)
torch.manual_seed(7)
t = Net()
with torch.no_grad():
    for p in t.parameters(): p.add_(torch.randn_like(p) * 0.2)
torch.save(dict(t.state_dict()), files['theirs'])
theirs = run_all(t)
print(json.dumps({'keys': keys, 'mine': mine, 'theirs': theirs}))
`, JSON.stringify(files)),
      ) as { keys: [string, number[]][]; mine: Record<string, Run>; theirs: Record<string, Run> };
      expect(tidy(() => shapes(net.stateDict()))).toEqual(r.keys); // same names, order and shapes
      expectRunsEqual(ours, r.mine, 1e-10);
      // the padded keys got no weight, the appended ones did
      const w = ours.allBatchFirst.weights as number[]; // (N 3, H 2, L 4, S 5 + 2); batch 0 ignores key 4
      expect([0, 1, 2, 3].map((i) => w[i * 7 + 4])).toEqual([0, 0, 0, 0]);
      expect([0, 1, 2, 3].every((i) => w[i * 7 + 5] > 0 && w[i * 7 + 6] > 0)).toBe(true);
      // ... and back: PyTorch's state dict loads strictly into ours and gives PyTorch's results.
      const theirs = loadStateDict(files.theirs);
      try {
        back.loadStateDict(theirs);
      } finally {
        for (const t of Object.values(theirs)) t.dispose();
      }
      const backRun = runAll(back);
      expectRunsEqual(backRun, r.theirs, 1e-10);
      expect(maxDiff(backRun.tfCausal.out, ours.tfCausal.out)).toBeGreaterThan(1e-3); // other weights, other outputs
      const partial = tidy(() => {
        const sd = { ...back.stateDict() };
        delete sd['mhaAll.bias_k'];
        return sd;
      });
      expect(() => net.loadStateDict(partial)).toThrow(/missing keys: mhaAll\.bias_k/);
      for (const t of Object.values(partial)) t.dispose();
    } finally {
      net.dispose();
      back.dispose();
    }
  }, 120_000);

  it('draw the initial weights PyTorch draws from the same seed (float32 and float64); the stacks copy without drawing', async () => {
    manualSeed(11);
    const kv = new nn.MultiheadAttention(8, 2, { kdim: 4, vdim: 6, addBiasKv: true });
    const all64 = new nn.MultiheadAttention(6, 3, { kdim: 5, vdim: 7, addBiasKv: true, addZeroAttn: true, bias: false, dtype: 'float64' });
    const dec = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
    const decLayer64 = new nn.TransformerDecoderLayer(6, 3, { dimFeedforward: 10, dtype: 'float64' });
    const stack = new nn.TransformerDecoder(decLayer64, 2, { norm: new nn.LayerNorm(6, { dtype: 'float64' }) });
    decLayer64.dispose();
    const tf64 = new nn.Transformer({ dModel: 6, nhead: 3, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 10, dtype: 'float64' });
    const tf32 = new nn.Transformer({ dModel: 4, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 2, dimFeedforward: 8, normFirst: true });
    const modules = { kv, all64, dec, stack, tf64, tf32 };
    try {
      const ours = tidy(() => {
        const dict = (m: nn.Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, vals(t)]));
        return { ...Object.fromEntries(Object.entries(modules).map(([k, m]) => [k, dict(m)])), after: vals(rand([5])) } as Record<string, Record<string, number[]>> & { after: number[] };
      });
      const theirs = JSON.parse(
        await py(`
import json, torch, torch.nn as nn
D = torch.float64
torch.manual_seed(11)
kv = nn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True)
all64 = nn.MultiheadAttention(6, 3, kdim=5, vdim=7, add_bias_kv=True, add_zero_attn=True, bias=False, dtype=D)
dec = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)
stack = nn.TransformerDecoder(nn.TransformerDecoderLayer(6, 3, dim_feedforward=10, dtype=D), 2, norm=nn.LayerNorm(6, dtype=D))
tf64 = nn.Transformer(d_model=6, nhead=3, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=10, dtype=D)
tf32 = nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=8, norm_first=True)
d = lambda m: {k: v.flatten().tolist() for k, v in m.state_dict().items()}
print(json.dumps({'kv': d(kv), 'all64': d(all64), 'dec': d(dec), 'stack': d(stack), 'tf64': d(tf64), 'tf32': d(tf32), 'after': torch.rand(5).tolist()}))
`),
      ) as typeof ours;
      for (const name of Object.keys(modules)) {
        expect(Object.keys(ours[name]), name).toEqual(Object.keys(theirs[name]));
        const tol = name.includes('64') || name === 'stack' ? 1e-12 : 1e-6;
        for (const k of Object.keys(theirs[name])) expect(maxDiff(ours[name][k], theirs[name][k]), `${name}.${k}`).toBeLessThan(tol);
      }
      expect(maxDiff(ours.after, theirs.after)).toBeLessThan(1e-7);
    } finally {
      for (const m of Object.values(modules)) m.dispose();
    }
  }, 120_000);
});
