// Attention (lib/nn/attention.ts): nn.functional.scaledDotProductAttention, nn.MultiheadAttention,
// nn.TransformerEncoderLayer and nn.TransformerEncoder. Without Python: state-dict keys, initial values, shapes,
// masks, dropout in training, the encoder's copies of its layer, resetParameters, memory, and the argument errors.
// Against python3-torch (PyTorch 1.13; scaled_dot_product_attention against an explicit reference there, since
// 1.13 has none): outputs, attention weights and input and parameter gradients in float64 on the same weights,
// our state dict loaded strictly into PyTorch's modules and theirs into ours, and the initial values drawn from
// the same seed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Tensor, manualSeed, memory, nn, noGrad, rand, randn, tensor, tidy, zeros } from '../lib';
import { hasTorch, py, PY_TENSOR_OF, type PyTensor } from './helpers/torchpy';
import { maxDiff, shapes, vals, expectRunsEqual, weighting, type Run } from './helpers/compare';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { stateDictRoundTrip } from './helpers/roundtrip';
import { bools, floats, toTensor } from './helpers/specs';
import { expectTrainsWithFlatMemory } from './helpers/toy-training';

const F = nn.functional;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-attention-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => manualSeed(0));

// ---------------------------------------------------------------- shared inputs (also sent to Python)

/** Float64 inputs (gradients wanted) by name: L 4, S 5, N 3, E 8; the encoder's S 4. */
const INPUTS: Record<string, PyTensor> = {
  x: floats([4, 3, 8], 1), y: floats([5, 3, 8], 2), z: floats([5, 3, 8], 3),
  xb: floats([3, 4, 8], 4), yb: floats([3, 5, 8], 5),
  xu: floats([4, 8], 6), yu: floats([5, 8], 7), zu: floats([5, 8], 8),
  // scaledDotProductAttention: (N 2, heads 3, L 4 / S 6, E 5), value Ev 7; a query broadcast over N; 2-d ones
  sq: floats([2, 3, 4, 5], 9), sk: floats([2, 3, 6, 5], 10), sv: floats([2, 3, 6, 7], 11), sq1: floats([1, 3, 4, 5], 12),
  sq2: floats([4, 5], 13), sk2: floats([6, 5], 14), sv2: floats([6, 7], 15),
};
/** Masks by name (no gradient): MultiheadAttention's bool masks are true where blocked; key 0 is never blocked. */
const MASKS: Record<string, PyTensor> = {
  kpm: bools([3, 5], ([n, s]) => s >= 4 - n && n < 2), // batch 0: key 4; batch 1: keys 3, 4; batch 2: none
  kpmU: bools([5], ([s]) => s === 1 || s === 4),
  amB: bools([4, 5], ([i, j]) => j > 0 && (i + 2 * j) % 3 === 0),
  amF: floats([4, 5], 20, 0.5, false),
  am3: floats([6, 4, 5], 21, 0.3, false), // (N·heads, L, S)
  amU3: bools([2, 4, 5], ([h, i, j]) => j > 0 && (h + i + j) % 4 === 0), // unbatched (heads, L, S)
  causal4: bools([4, 4], ([i, j]) => j > i),
  srcKpm: bools([3, 4], ([n, s]) => (n === 0 && s === 3) || (n === 1 && s >= 2)),
  srcF: floats([4, 4], 22, 0.4, false),
  // scaledDotProductAttention's: bool true = takes part
  smB: bools([4, 6], ([i, j]) => j <= i + 2),
  smF: floats([2, 1, 4, 6], 23, 0.5, false),
  smB2: bools([4, 6], ([i, j]) => (i + j) % 3 !== 1),
};

const makeInput = (name: string): Tensor => toTensor(INPUTS[name]);
const makeMask = (name: string): Tensor => toTensor(MASKS[name]);

/** One forward of the comparison: which module, which inputs and masks (by name), which options. */
interface Case {
  name: string;
  kind: 'mha' | 'layer' | 'encoder' | 'sdpa';
  module?: string;
  /** Input names: q, k, v for attention (the same name twice is the same tensor), src for the encoders. */
  q?: string;
  k?: string;
  v?: string;
  src?: string;
  /** MultiheadAttention: keyPaddingMask / attnMask; layer: srcKeyPaddingMask / srcMask; encoder: srcKeyPaddingMask / mask; sdpa: attnMask. */
  kpm?: string;
  am?: string;
  needWeights?: boolean;
  average?: boolean;
  isCausal?: boolean;
  scale?: number;
}

const CASES: Case[] = [
  { name: 'self', kind: 'mha', module: 'mha', q: 'x', k: 'x', v: 'x' },
  { name: 'crossKpm', kind: 'mha', module: 'mha', q: 'x', k: 'y', v: 'y', kpm: 'kpm' },
  { name: 'separateBoolMask', kind: 'mha', module: 'mha', q: 'x', k: 'y', v: 'z', am: 'amB' },
  { name: 'floatMaskKpmPerHead', kind: 'mha', module: 'mha', q: 'x', k: 'y', v: 'z', am: 'amF', kpm: 'kpm', average: false },
  { name: 'mask3d', kind: 'mha', module: 'mha', q: 'x', k: 'y', v: 'y', am: 'am3' },
  { name: 'boolMaskKpm', kind: 'mha', module: 'mha', q: 'x', k: 'y', v: 'y', am: 'amB', kpm: 'kpm' },
  { name: 'noWeights', kind: 'mha', module: 'mha', q: 'x', k: 'x', v: 'x', am: 'causal4', needWeights: false },
  { name: 'batchFirstSelf', kind: 'mha', module: 'mhaBF', q: 'xb', k: 'xb', v: 'xb', kpm: 'srcKpm' },
  { name: 'batchFirstCross', kind: 'mha', module: 'mhaBF', q: 'xb', k: 'yb', v: 'yb', kpm: 'kpm', average: false },
  { name: 'unbatched', kind: 'mha', module: 'mha', q: 'xu', k: 'yu', v: 'zu', kpm: 'kpmU', am: 'amU3' },
  { name: 'unbatchedBatchFirst', kind: 'mha', module: 'mhaBF', q: 'xu', k: 'xu', v: 'xu', average: false },
  { name: 'noBias', kind: 'mha', module: 'mhaNoBias', q: 'x', k: 'y', v: 'y', am: 'amF' },
  { name: 'layerReluPost', kind: 'layer', module: 'encRelu', src: 'x', am: 'causal4', kpm: 'srcKpm' },
  { name: 'layerReluPostUnbatched', kind: 'layer', module: 'encRelu', src: 'xu', am: 'srcF' },
  { name: 'layerReluPre', kind: 'layer', module: 'encReluPre', src: 'x', am: 'srcF' },
  { name: 'layerGeluPreBatchFirst', kind: 'layer', module: 'encGeluPre', src: 'xb', kpm: 'srcKpm' },
  { name: 'layerGeluPost', kind: 'layer', module: 'encGeluPost', src: 'x' },
  { name: 'encoder', kind: 'encoder', module: 'stack', src: 'x', am: 'srcF', kpm: 'srcKpm' },
  { name: 'encoderUnbatched', kind: 'encoder', module: 'stack', src: 'xu', am: 'causal4' },
  { name: 'sdpa', kind: 'sdpa', q: 'sq', k: 'sk', v: 'sv' },
  { name: 'sdpaBoolMask', kind: 'sdpa', q: 'sq', k: 'sk', v: 'sv', am: 'smB' },
  { name: 'sdpaFloatMask', kind: 'sdpa', q: 'sq', k: 'sk', v: 'sv', am: 'smF' },
  { name: 'sdpaCausal', kind: 'sdpa', q: 'sq', k: 'sk', v: 'sv', isCausal: true },
  { name: 'sdpaScaleBroadcast', kind: 'sdpa', q: 'sq1', k: 'sk', v: 'sv', scale: 0.3 },
  { name: 'sdpa2d', kind: 'sdpa', q: 'sq2', k: 'sk2', v: 'sv2', am: 'smB2' },
];

/** Every module of the comparison, float64, under the names the Python twin uses. */
class Net extends nn.Module {
  mha = new nn.MultiheadAttention(8, 2, { dtype: 'float64' });
  mhaBF = new nn.MultiheadAttention(8, 4, { batchFirst: true, dropout: 0.2, dtype: 'float64' });
  mhaNoBias = new nn.MultiheadAttention(8, 2, { bias: false, kdim: 8, vdim: 8, dtype: 'float64' });
  encRelu = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dtype: 'float64' });
  encReluPre = new nn.TransformerEncoderLayer(8, 4, { dimFeedforward: 12, normFirst: true, layerNormEps: 1e-3, dtype: 'float64' });
  encGeluPre = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12, activation: 'gelu', normFirst: true, batchFirst: true, layerNormEps: 1e-6, dtype: 'float64' });
  encGeluPost = new nn.TransformerEncoderLayer(8, 4, { dimFeedforward: 10, activation: 'gelu', dropout: 0.3, dtype: 'float64' });
  stack = makeStack();
}

function makeStack(): nn.TransformerEncoder {
  const layer = new nn.TransformerEncoderLayer(8, 4, { dimFeedforward: 16, dropout: 0, dtype: 'float64' });
  try {
    return new nn.TransformerEncoder(layer, 2, { norm: new nn.LayerNorm(8, { dtype: 'float64' }) });
  } finally {
    layer.dispose();
  }
}

const PY_NET = `
import json, math, sys, torch, torch.nn as nn
D = torch.float64
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.mha = nn.MultiheadAttention(8, 2, dtype=D)
        s.mhaBF = nn.MultiheadAttention(8, 4, batch_first=True, dropout=0.2, dtype=D)
        s.mhaNoBias = nn.MultiheadAttention(8, 2, bias=False, kdim=8, vdim=8, dtype=D)
        s.encRelu = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dtype=D)
        s.encReluPre = nn.TransformerEncoderLayer(8, 4, dim_feedforward=12, norm_first=True, layer_norm_eps=1e-3, dtype=D)
        s.encGeluPre = nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, activation='gelu', norm_first=True, batch_first=True, layer_norm_eps=1e-6, dtype=D)
        s.encGeluPost = nn.TransformerEncoderLayer(8, 4, dim_feedforward=10, activation='gelu', dropout=0.3, dtype=D)
        s.stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 4, dim_feedforward=16, dropout=0.0, dtype=D), 2, norm=nn.LayerNorm(8, dtype=D))
`;

/** Runs every case on `net` (in evaluation mode): one forward and backward each. */
function runAll(net: Net): Record<string, Run> {
  const res: Record<string, Run> = {};
  const modules = Object.fromEntries(net.namedChildren()) as Record<string, nn.Module>;
  for (const c of CASES) {
    tidy(() => {
      const inputs: Record<string, Tensor> = {};
      const inp = (n: string) => (inputs[n] ??= makeInput(n));
      const mask = (n?: string) => (n === undefined ? undefined : makeMask(n));
      const m = c.module ? modules[c.module] : null;
      m?.zeroGrad();
      let out: Tensor;
      let w: Tensor | null = null;
      if (c.kind === 'mha') {
        [out, w] = (m as nn.MultiheadAttention).forward(inp(c.q as string), inp(c.k as string), inp(c.v as string), {
          keyPaddingMask: mask(c.kpm), attnMask: mask(c.am), needWeights: c.needWeights ?? true, averageAttnWeights: c.average ?? true,
        });
      } else if (c.kind === 'layer') {
        out = (m as nn.TransformerEncoderLayer).forward(inp(c.src as string), { srcMask: mask(c.am), srcKeyPaddingMask: mask(c.kpm) });
      } else if (c.kind === 'encoder') {
        out = (m as nn.TransformerEncoder).forward(inp(c.src as string), { mask: mask(c.am), srcKeyPaddingMask: mask(c.kpm) });
      } else {
        out = F.scaledDotProductAttention(inp(c.q as string), inp(c.k as string), inp(c.v as string), { attnMask: mask(c.am), isCausal: c.isCausal, scale: c.scale });
      }
      let loss = out.mul(tensor(Float64Array.from(weighting(out.numel(), 7, 3)), { shape: out.shape })).sum();
      if (w) loss = loss.add(w.mul(tensor(Float64Array.from(weighting(w.numel(), 5, 2)), { shape: w.shape })).sum());
      loss.backward();
      const grads: Record<string, number[]> = {};
      for (const [k, t] of Object.entries(inputs)) grads[`input.${k}`] = vals(t.grad as Tensor);
      if (m) for (const [k, p] of m.namedParameters()) grads[k] = vals(p.grad as Tensor);
      res[c.name] = { shape: out.shape, out: vals(out), wshape: w ? w.shape : null, weights: w ? vals(w) : null, grads };
    });
  }
  net.zeroGrad();
  return res;
}

const PY_RUN_ALL = `${PY_TENSOR_OF}
INPUTS = json.loads(${JSON.stringify(JSON.stringify(INPUTS))})
MASKS = json.loads(${JSON.stringify(JSON.stringify(MASKS))})
CASES = json.loads(${JSON.stringify(JSON.stringify(CASES))})
def weighting(o, m, c): return torch.tensor([((i % m) - c) / c for i in range(o.numel())], dtype=o.dtype).reshape(o.shape)
def make_mask(n): return None if n is None else tensor_of(MASKS[n])
def sdpa(q, k, v, attn_mask=None, is_causal=False, scale=None):
    # PyTorch 2.x's documented reference of scaled_dot_product_attention
    L, S = q.size(-2), k.size(-2)
    sf = 1 / math.sqrt(q.size(-1)) if scale is None else scale
    bias = torch.zeros(L, S, dtype=q.dtype)
    if is_causal:
        bias = bias.masked_fill(torch.ones(L, S, dtype=torch.bool).tril().logical_not(), float('-inf'))
    if attn_mask is not None:
        bias = torch.where(attn_mask, bias, torch.tensor(float('-inf'), dtype=q.dtype)) if attn_mask.dtype == torch.bool else attn_mask + bias
    w = q @ k.transpose(-2, -1) * sf + bias
    return torch.softmax(w, dim=-1) @ v
def run_all(net):
    net.eval()
    res = {}
    for c in CASES:
        ts = {}
        def inp(n):
            if n not in ts: ts[n] = tensor_of(INPUTS[n])
            return ts[n]
        m = getattr(net, c['module']) if c.get('module') else None
        if m is not None: m.zero_grad(set_to_none=True)
        w = None
        if c['kind'] == 'mha':
            out, w = m(inp(c['q']), inp(c['k']), inp(c['v']), key_padding_mask=make_mask(c.get('kpm')), need_weights=c.get('needWeights', True),
                       attn_mask=make_mask(c.get('am')), average_attn_weights=c.get('average', True))
        elif c['kind'] == 'layer':
            out = m(inp(c['src']), src_mask=make_mask(c.get('am')), src_key_padding_mask=make_mask(c.get('kpm')))
        elif c['kind'] == 'encoder':
            out = m(inp(c['src']), mask=make_mask(c.get('am')), src_key_padding_mask=make_mask(c.get('kpm')))
        else:
            out = sdpa(inp(c['q']), inp(c['k']), inp(c['v']), attn_mask=make_mask(c.get('am')), is_causal=c.get('isCausal', False), scale=c.get('scale'))
        loss = (out * weighting(out, 7, 3)).sum()
        if w is not None: loss = loss + (w * weighting(w, 5, 2)).sum()
        loss.backward()
        grads = {'input.' + k: t.grad.flatten().tolist() for k, t in ts.items()}
        if m is not None:
            for k, p in m.named_parameters(): grads[k] = p.grad.flatten().tolist()
        res[c['name']] = {'shape': list(out.shape), 'out': out.detach().flatten().tolist(),
                          'wshape': None if w is None else list(w.shape), 'weights': None if w is None else w.detach().flatten().tolist(), 'grads': grads}
    net.zero_grad()
    return res
`;

// ---------------------------------------------------------------- without Python

describe('MultiheadAttention, TransformerEncoderLayer, TransformerEncoder: parameters, state dicts, initialisation', () => {
  it("have PyTorch's state-dict keys, shapes and initial values; nothing is left behind", () => {
    const before = memory().tensors;
    const mha = new nn.MultiheadAttention(16, 4);
    const plain = new nn.MultiheadAttention(6, 3, { bias: false, batchFirst: true, dropout: 0.1 });
    const layer = new nn.TransformerEncoderLayer(8, 2);
    try {
      tidy(() => {
        expect(shapes(mha.stateDict())).toEqual([['in_proj_weight', [48, 16]], ['in_proj_bias', [48]], ['out_proj.weight', [16, 16]], ['out_proj.bias', [16]]]);
        expect([mha.embedDim, mha.kdim, mha.vdim, mha.numHeads, mha.headDim, mha.dropout, mha.batchFirst, mha.kind, mha.isNative]).toEqual([16, 16, 16, 4, 4, 0, false, 'MultiheadAttention', false]);
        const sd = mha.stateDict();
        expect(vals(sd.in_proj_bias)).toEqual(new Array(48).fill(0));
        expect(vals(sd['out_proj.bias'])).toEqual(new Array(16).fill(0));
        const xavier = Math.sqrt(6 / (16 + 48)); // fanIn 16, fanOut 48
        const w = vals(sd.in_proj_weight).map(Math.abs);
        expect(Math.max(...w)).toBeLessThanOrEqual(xavier);
        expect(Math.max(...w)).toBeGreaterThan(0.9 * xavier);
        const ow = vals(sd['out_proj.weight']).map(Math.abs);
        expect(Math.max(...ow)).toBeLessThanOrEqual(1 / Math.sqrt(16)); // Linear's default: kaiming-uniform, a = √5
        expect(Math.max(...ow)).toBeGreaterThan(0.8 / Math.sqrt(16));
        expect(mha.in_proj_weight!.requiresGrad).toBe(true);
        expect(mha.out_proj).toBeInstanceOf(nn.Linear);
        expect(shapes(plain.stateDict())).toEqual([['in_proj_weight', [18, 6]], ['out_proj.weight', [6, 6]]]);
        expect([plain.in_proj_bias, plain.out_proj.bias, plain.batchFirst, plain.dropout, plain.headDim]).toEqual([null, null, true, 0.1, 2]);
        expect(shapes(layer.stateDict())).toEqual([
          ['self_attn.in_proj_weight', [24, 8]], ['self_attn.in_proj_bias', [24]], ['self_attn.out_proj.weight', [8, 8]], ['self_attn.out_proj.bias', [8]],
          ['linear1.weight', [2048, 8]], ['linear1.bias', [2048]], ['linear2.weight', [8, 2048]], ['linear2.bias', [8]],
          ['norm1.weight', [8]], ['norm1.bias', [8]], ['norm2.weight', [8]], ['norm2.bias', [8]],
        ]);
        expect(layer.namedChildren().map(([k]) => k)).toEqual(['self_attn', 'linear1', 'dropout', 'linear2', 'norm1', 'norm2', 'dropout1', 'dropout2']);
        expect([layer.dModel, layer.nhead, layer.dimFeedforward, layer.activation, layer.normFirst, layer.batchFirst, layer.self_attn.dropout, layer.norm1.eps])
          .toEqual([8, 2, 2048, 'relu', false, false, 0.1, 1e-5]);
        const f64 = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dtype: 'float64', device: 'cpu' });
        expect(f64.parameters().map((p) => p.dtype)).toEqual(new Array(12).fill('float64'));
        f64.dispose();
        const stack = new nn.TransformerEncoder(layer, 3, { norm: new nn.LayerNorm(8) });
        const keys = Object.keys(stack.stateDict());
        expect(keys.length).toBe(3 * 12 + 2);
        expect([keys[0], keys[12], keys[35], keys[36], keys[37]]).toEqual(['layers.0.self_attn.in_proj_weight', 'layers.1.self_attn.in_proj_weight', 'layers.2.norm2.bias', 'norm.weight', 'norm.bias']);
        expect([stack.numLayers, stack.layers.length, stack.norm?.kind]).toEqual([3, 3, 'LayerNorm']);
        const noNorm = new nn.TransformerEncoder(() => new nn.TransformerEncoderLayer(4, 1, { dimFeedforward: 4 }), 2);
        expect([noNorm.norm, Object.keys(noNorm.stateDict()).length]).toEqual([null, 24]);
        stack.dispose();
        noNorm.dispose();
      });
    } finally {
      for (const m of [mha, plain, layer]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('TransformerEncoder copies its layer as deepcopy does (weights, options, modes; no random draws); a function makes each layer anew', () => {
    manualSeed(4);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12, activation: 'gelu', normFirst: true, batchFirst: true, dtype: 'float64' });
    const afterLayer = tidy(() => vals(rand([4])));
    manualSeed(4);
    const layer2 = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12, activation: 'gelu', normFirst: true, batchFirst: true, dtype: 'float64' });
    noGrad(() => tidy(() => void layer2.norm1.weight?.fill_(2)));
    layer2.eval();
    layer2.dropout.train(); // a submodule's own mode is copied too
    const stack = new nn.TransformerEncoder(layer2, 2);
    const afterStack = tidy(() => vals(rand([4])));
    const fresh = new nn.TransformerEncoder((i) => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12 + i }), 2);
    try {
      expect(afterStack).toEqual(afterLayer); // copying drew nothing, as PyTorch's deepcopy
      tidy(() => {
        const own = layer2.stateDict();
        for (let i = 0; i < 2; i++) {
          const copy = stack.layers.get(i) as nn.TransformerEncoderLayer;
          expect(copy).not.toBe(layer2);
          expect([copy.activation, copy.normFirst, copy.batchFirst, copy.dimFeedforward, copy.training, copy.dropout.training, copy.dropout1.training]).toEqual(['gelu', true, true, 12, false, true, false]);
          const sd = copy.stateDict();
          for (const [k, t] of Object.entries(own)) expect(vals(sd[`${k}`]), k).toEqual(vals(t));
          expect(sd['self_attn.in_proj_weight'].dtype).toBe('float64');
        }
        // the copies are not the given layer: changing it changes nothing in the stack
        noGrad(() => void layer2.linear1.weight?.fill_(5));
        expect(vals(stack.stateDict()['layers.0.linear1.weight']).includes(5)).toBe(false);
        const x = randn([2, 3, 8], { dtype: 'float64' });
        stack.eval();
        const manual = (stack.layers.get(1) as nn.TransformerEncoderLayer).forward((stack.layers.get(0) as nn.TransformerEncoderLayer).forward(x));
        expect(maxDiff(vals(stack.forward(x)), vals(manual))).toBe(0);
        // the function: its own module each call (own initialisation, own options)
        const [a, b] = [fresh.layers.get(0), fresh.layers.get(1)] as nn.TransformerEncoderLayer[];
        expect([a.dimFeedforward, b.dimFeedforward]).toEqual([12, 13]);
        expect(vals(a.stateDict()['self_attn.in_proj_weight'])).not.toEqual(vals(b.stateDict()['self_attn.in_proj_weight']));
      });
    } finally {
      for (const m of [layer, layer2, stack, fresh]) m.dispose();
    }
  });

  it('resetParameters gives the initial values again (also from a container); Module.to moves everything', () => {
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    try {
      tidy(() => {
        noGrad(() => {
          for (const p of layer.parameters()) p.fill_(7);
        });
        layer.resetParameters(); // the container reaches self_attn's own resetParameters
        const sd = layer.stateDict();
        expect(vals(sd['self_attn.in_proj_bias'])).toEqual(new Array(24).fill(0));
        expect(vals(sd['self_attn.out_proj.bias'])).toEqual(new Array(8).fill(0));
        expect(vals(sd['norm1.weight'])).toEqual(new Array(8).fill(1));
        for (const k of ['self_attn.in_proj_weight', 'self_attn.out_proj.weight', 'linear1.weight', 'linear1.bias', 'linear2.weight']) expect(vals(sd[k]).includes(7), k).toBe(false);
        layer.to('float64');
        expect(layer.self_attn.in_proj_weight!.dtype).toBe('float64');
        expect(layer.forward(randn([3, 2, 8], { dtype: 'float64' })).dtype).toBe('float64');
      });
    } finally {
      layer.dispose();
    }
  });
});

describe('attention forward: shapes, masks, weights, dropout', () => {
  it("MultiheadAttention returns PyTorch 1.13's shapes for batched, batchFirst and unbatched inputs", () => {
    const mha = new nn.MultiheadAttention(8, 2);
    const bf = new nn.MultiheadAttention(8, 4, { batchFirst: true });
    try {
      tidy(() => {
        const q = randn([4, 3, 8]);
        const kv = randn([5, 3, 8]);
        const [o, w] = mha.forward(q, kv, kv);
        expect([o.shape, w?.shape]).toEqual([[4, 3, 8], [3, 4, 5]]);
        vals((w as Tensor).sum(-1)).forEach((s) => expect(s).toBeCloseTo(1, 5));
        const [, perHead] = mha.forward(q, kv, kv, { averageAttnWeights: false });
        expect(perHead?.shape).toEqual([3, 2, 4, 5]);
        expect(maxDiff(vals((perHead as Tensor).mean(1)), vals(w as Tensor))).toBeLessThan(1e-6);
        const [o2, none] = mha.forward(q, kv, kv, { needWeights: false });
        expect(none).toBeNull();
        expect(vals(o2)).toEqual(vals(o));
        const [ob, wb] = bf.forward(q.transpose(0, 1), kv.transpose(0, 1), kv.transpose(0, 1));
        expect([ob.shape, wb?.shape]).toEqual([[3, 4, 8], [3, 4, 5]]);
        const [ou, wu] = mha.forward(randn([4, 8]), randn([5, 8]), randn([5, 8]));
        expect([ou.shape, wu?.shape]).toEqual([[4, 8], [4, 5]]);
        const [, wuh] = bf.forward(randn([4, 8]), randn([5, 8]), randn([5, 8]), { averageAttnWeights: false });
        expect(wuh?.shape).toEqual([4, 4, 5]); // unbatched: batchFirst is ignored
        // an unbatched query gives the batched result of its batch entry
        const [ob0] = mha.forward(q.select(1, 0).unsqueeze(1), kv.select(1, 0).unsqueeze(1), kv.select(1, 0).unsqueeze(1));
        const [ou0] = mha.forward(q.select(1, 0), kv.select(1, 0), kv.select(1, 0));
        expect(maxDiff(vals(ob0), vals(ou0))).toBeLessThan(1e-6);
      });
    } finally {
      mha.dispose();
      bf.dispose();
    }
  });

  it('masks: ignored keys get weight 0; a bool mask equals a float mask of -inf; an all-zero float mask changes nothing', () => {
    const mha = new nn.MultiheadAttention(8, 2);
    try {
      tidy(() => {
        const q = randn([4, 2, 8]);
        const kv = randn([5, 2, 8]);
        const kpm = tensor([[false, false, true, false, true], [false, false, false, false, false]]);
        const [, w] = mha.forward(q, kv, kv, { keyPaddingMask: kpm });
        const rows = (w as Tensor).toNested() as number[][][];
        for (const row of rows[0]) expect([row[2], row[4]]).toEqual([0, 0]);
        expect(rows[1].flat().every((v) => v > 0)).toBe(true);
        const am = tensor([[false, true, false, false, false], [false, false, true, true, false], [false, false, false, false, true], [true, false, false, false, false]]);
        const amF = zeros([4, 5]).maskedFill(am, -Infinity);
        const [o1, w1] = mha.forward(q, kv, kv, { attnMask: am, keyPaddingMask: kpm });
        const [o2, w2] = mha.forward(q, kv, kv, { attnMask: amF, keyPaddingMask: kpm });
        expect(maxDiff(vals(o1), vals(o2))).toBe(0);
        expect(maxDiff(vals(w1 as Tensor), vals(w2 as Tensor))).toBe(0);
        const [o3] = mha.forward(q, kv, kv, { attnMask: zeros([2 * 2, 4, 5]) });
        const [o4] = mha.forward(q, kv, kv);
        expect(maxDiff(vals(o3), vals(o4))).toBeLessThan(1e-6);
      });
    } finally {
      mha.dispose();
    }
  });

  it('scaledDotProductAttention: isCausal equals the lower-triangular bool mask; the default scale is 1/√E; its value has its own width', () => {
    tidy(() => {
      const q = randn([2, 3, 4, 5]);
      const k = randn([2, 3, 6, 5]);
      const v = randn([2, 3, 6, 7]);
      const causal = F.scaledDotProductAttention(q, k, v, { isCausal: true });
      const tri = torchTril(4, 6);
      expect(causal.shape).toEqual([2, 3, 4, 7]);
      expect(maxDiff(vals(causal), vals(F.scaledDotProductAttention(q, k, v, { attnMask: tri })))).toBe(0);
      const ref = nn.functional.softmax(q.matmul(k.transpose(-2, -1)).div(Math.sqrt(5)), -1).matmul(v);
      expect(maxDiff(vals(F.scaledDotProductAttention(q, k, v)), vals(ref))).toBeLessThan(1e-6);
      expect(maxDiff(vals(F.scaledDotProductAttention(q, k, v, { scale: 1 / Math.sqrt(5) })), vals(ref))).toBeLessThan(1e-6);
      // dropout: with p 1 the weights are all zero, so the output is too
      expect(vals(F.scaledDotProductAttention(q, k, v, { dropoutP: 1 })).every((x) => x === 0)).toBe(true);
    });
  });

  it('dropout applies to the attention weights in training only; TransformerEncoderLayer drops in training and is deterministic in evaluation', () => {
    const mha = new nn.MultiheadAttention(8, 2, { dropout: 0.5 });
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.5 });
    try {
      tidy(() => {
        const x = randn([6, 2, 8]);
        const [, w] = mha.forward(x, x, x, { averageAttnWeights: false });
        const ws = vals(w as Tensor);
        expect(ws.filter((v) => v === 0).length).toBeGreaterThan(ws.length / 5);
        const [, wAvg] = mha.forward(x, x, x);
        expect(vals((wAvg as Tensor).sum(-1)).some((s) => Math.abs(s - 1) > 1e-3)).toBe(true); // dropped and rescaled
        manualSeed(9);
        const [a] = mha.forward(x, x, x);
        manualSeed(9);
        const [b] = mha.forward(x, x, x);
        expect(vals(a)).toEqual(vals(b));
        mha.eval();
        const [, we] = mha.forward(x, x, x);
        vals((we as Tensor).sum(-1)).forEach((s) => expect(s).toBeCloseTo(1, 5));
        const t1 = vals(layer.forward(x));
        const t2 = vals(layer.forward(x));
        expect(maxDiff(t1, t2)).toBeGreaterThan(1e-3);
        layer.eval();
        expect(vals(layer.forward(x))).toEqual(vals(layer.forward(x)));
      });
    } finally {
      mha.dispose();
      layer.dispose();
    }
  });

  it('trains: a small encoder fits a toy task with SGD, every parameter gets a gradient, and memory stays flat', () => {
    manualSeed(2);
    const enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true }), 2, { norm: new nn.LayerNorm(8) });
    const head = new nn.Linear(8, 1);
    const params = [...enc.parameters(), ...head.parameters()];
    const x = randn([16, 5, 8]);
    const y = tidy(() => x.sum([1, 2]).gt(0).to('float32').unsqueeze(1)); // the sign of the sum of the inputs
    try {
      expectTrainsWithFlatMemory(params, () => F.binaryCrossEntropyWithLogits(head.forward(enc.forward(x).mean(1)), y), { lr: 0.05 });
    } finally {
      for (const p of params) p.dispose();
      enc.dispose();
      head.dispose();
      x.dispose();
      y.dispose();
    }
  });
});

// torch.ones(L, S).tril() as bool, built from comparisons.
function torchTril(L: number, S: number): Tensor {
  return tensor(Array.from({ length: L }, (_, i) => Array.from({ length: S }, (_, j) => j <= i)));
}

describe('attention argument errors', () => {
  it('construction: bad and unknown options are errors naming the class, the argument and what was expected', () => {
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8 });
    const dead = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8 });
    dead.dispose();
    const shared = new nn.LayerNorm(8);
    const cases: ErrorCase[] = [
      [() => new nn.MultiheadAttention(8, 3), RangeError, /^MultiheadAttention: expected a multiple of numHeads \(3\) for embedDim but received 8/],
      [() => new nn.MultiheadAttention(0, 1), RangeError, /^MultiheadAttention: expected a positive integer for embedDim but received 0/],
      [() => new nn.MultiheadAttention(8.5, 2), TypeError, /^MultiheadAttention: expected a positive integer for embedDim but received 8\.5/],
      [() => new nn.MultiheadAttention(8, '2' as never), TypeError, /^MultiheadAttention: expected a positive integer for numHeads but received "2"/],
      [() => new nn.MultiheadAttention(8, 2, { batch_first: true } as never), TypeError, /^MultiheadAttention: unknown option 'batch_first'; did you mean 'batchFirst'\?/],
      [() => new nn.MultiheadAttention(8, 2, { dropout: 1.5 }), RangeError, /^MultiheadAttention: expected a number in \[0, 1\] for dropout but received 1\.5/],
      [() => new nn.MultiheadAttention(8, 2, { bias: 'no' as never }), TypeError, /^MultiheadAttention: expected a boolean for bias/],
      [() => new nn.MultiheadAttention(8, 2, { dtype: 'int64' }), TypeError, /^MultiheadAttention: expected one of "float32", .* for dtype but received "int64"/],
      [() => new nn.TransformerEncoderLayer(8, 3), RangeError, /^TransformerEncoderLayer: expected a multiple of nhead \(3\) for dModel but received 8/],
      [() => new nn.TransformerEncoderLayer(8, 2, { activation: 'tanh' as never }), TypeError, /^TransformerEncoderLayer: expected "relu", "gelu" or a function of a tensor for activation but received "tanh"/],
      [() => new nn.TransformerEncoderLayer(8, 2, { dim_feedforward: 16 } as never), TypeError, /^TransformerEncoderLayer: unknown option 'dim_feedforward'; did you mean 'dimFeedforward'\?/],
      [() => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 0 }), RangeError, /^TransformerEncoderLayer: expected a positive integer for dimFeedforward/],
      [() => new nn.TransformerEncoderLayer(8, 2, { layerNormEps: -1 }), RangeError, /^TransformerEncoderLayer: expected a number in \[0, Infinity\] for layerNormEps but received -1/],
      [() => new nn.TransformerEncoderLayer(8, 2, { normFirst: 1 as never }), TypeError, /^TransformerEncoderLayer: expected a boolean for normFirst/],
      [() => new nn.TransformerEncoder(new nn.Linear(2, 2) as never, 2), TypeError, /^TransformerEncoder: expected an nn\.TransformerEncoderLayer or a function returning a new layer \(to stack another kind of module, pass a function/],
      [() => new nn.TransformerEncoder(layer, 0), RangeError, /^TransformerEncoder: expected a positive integer for numLayers but received 0/],
      [() => new nn.TransformerEncoder(layer, 2, { norm: 5 as never }), TypeError, /^TransformerEncoder: expected a Module \(such as an nn\.LayerNorm\) or null for norm but received 5/],
      [() => new nn.TransformerEncoder(layer, 2, { enableNestedTensor: false } as never), TypeError, /^TransformerEncoder: unknown option 'enableNestedTensor' \(known: norm\)/],
      [() => new nn.TransformerEncoder(() => shared, 2), TypeError, /^TransformerEncoder: expected a function returning a new, live Module on each call/],
      [() => new nn.TransformerEncoder(() => 3 as never, 2), TypeError, /^TransformerEncoder: expected a function returning a new, live Module on each call for encoderLayer but received 3/],
      [() => new nn.TransformerEncoder(dead, 2), TypeError, /^TransformerEncoder: expected a live TransformerEncoderLayer \(this one has been disposed\)/],
    ];
    try {
      expectErrors(cases);
      // kdim and vdim equal to embedDim are accepted (PyTorch's packed projection)
      new nn.MultiheadAttention(8, 2, { kdim: 8, vdim: 8, addBiasKv: false, addZeroAttn: false }).dispose();
    } finally {
      layer.dispose();
      shared.dispose();
    }
  });

  it('forward: bad inputs and masks are errors naming the op and what was expected', () => {
    const mha = new nn.MultiheadAttention(8, 2);
    const mha64 = new nn.MultiheadAttention(8, 2, { dtype: 'float64' });
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8 });
    const stack = new nn.TransformerEncoder(layer, 1);
    try {
      tidy(() => {
        const q = randn([4, 3, 8]);
        const kv = randn([5, 3, 8]);
        const cases: [() => unknown, RegExp][] = [
          [() => mha.forward(q, kv, undefined as never), /^MultiheadAttention\.forward: expected a Tensor for value but received undefined/],
          [() => mha.forward(q, kv, kv, { key_padding_mask: null } as never), /^MultiheadAttention\.forward: unknown option 'key_padding_mask'; did you mean 'keyPaddingMask'\?/],
          [() => mha.forward(q, kv, kv, { needWeights: 1 as never }), /^MultiheadAttention\.forward: expected a boolean for needWeights/],
          [() => mha64.forward(q, kv, kv), /^MultiheadAttention\.forward: expected query of the module's dtype float64 but received float32/],
          [() => mha.forward(q, kv.double(), kv), /^MultiheadAttention\.forward: expected key of query's dtype float32 but received float64/],
          [() => mha.forward(q.unsqueeze(0), kv, kv), /^MultiheadAttention\.forward: expected a 3-d tensor \(L, N, E\) or an unbatched 2-d one \(L, E\) for query but received shape \[1, 4, 3, 8\]/],
          [() => mha.forward(q, kv.select(1, 0), kv), /^MultiheadAttention\.forward: expected a 3-d tensor as the query is \(\(S, N, E\)\) for key but received shape \[5, 8\]/],
          [() => mha.forward(randn([4, 3, 6]), kv, kv), /^MultiheadAttention\.forward: expected a last dimension of 8 \(embedDim\) for query/],
          [() => mha.forward(q, kv, randn([6, 3, 8])), /^MultiheadAttention\.forward: expected the key's shape \[5, 3, 8\] for value but received shape \[6, 3, 8\]/],
          [() => mha.forward(q, randn([5, 2, 8]), randn([5, 2, 8])), /^MultiheadAttention\.forward: expected the query's batch size 3 in dimension 1 for key/],
          [() => mha.forward(q, kv, kv, { keyPaddingMask: tensor([[false, true]]) }), /^MultiheadAttention\.forward: expected shape \[3, 5\] \(N, S\) for keyPaddingMask but received shape \[1, 2\]/],
          [() => mha.forward(q, kv, kv, { keyPaddingMask: zeros([3, 5], { dtype: 'int64' }) }), /^MultiheadAttention\.forward: expected a bool tensor or a floating-point one of the query's dtype float32 for keyPaddingMask but received int64/],
          [() => mha.forward(q, kv, kv, { attnMask: zeros([4, 4]) }), /^MultiheadAttention\.forward: expected shape \[4, 5\] \(L, S\) or \[6, 4, 5\] \(N·numHeads, L, S\) for attnMask but received shape \[4, 4\]/],
          [() => mha.forward(q, kv, kv, { attnMask: zeros([4, 5], { dtype: 'float64' }) }), /^MultiheadAttention\.forward: expected a bool tensor or a floating-point one of the query's dtype float32 for attnMask but received float64/],
          [() => mha.forward(q.select(1, 0), kv.select(1, 0), kv.select(1, 0), { attnMask: zeros([6, 4, 5]) }), /expected shape \[4, 5\] \(L, S\) or \[2, 4, 5\] \(numHeads, L, S\) for attnMask/],
          [() => mha.forward(q.select(1, 0), kv.select(1, 0), kv.select(1, 0), { keyPaddingMask: tensor([[false]]) }), /expected shape \[5\] \(S\) for keyPaddingMask/],
          [() => layer.forward(randn([4, 3, 6])), /^TransformerEncoderLayer\.forward: expected a 3-d tensor \(S, N, E\) or an unbatched 2-d one \(S, E\) with E = 8 for src but received shape \[4, 3, 6\]/],
          [() => layer.forward(q, { srcMask: zeros([4, 5]) }), /^TransformerEncoderLayer\.forward: expected shape \[4, 4\] \(L, S\) or \[6, 4, 4\] \(N·numHeads, L, S\) for srcMask/],
          [() => layer.forward(q, { srcKeyPaddingMask: tensor([true]) }), /^TransformerEncoderLayer\.forward: expected shape \[3, 4\] \(N, S\) for srcKeyPaddingMask/],
          [() => layer.forward(q, { src_mask: null } as never), /^TransformerEncoderLayer\.forward: unknown option 'src_mask'; did you mean 'srcMask'\?/],
          [() => layer.forward(tensor([[1n]])), /^TransformerEncoderLayer\.forward: expected a floating-point tensor for src but received int64/],
          [() => stack.forward(q, { mask: zeros([3, 3]) }), /^TransformerEncoder\.forward: expected shape \[4, 4\] \(L, S\) or \[6, 4, 4\] \(N·numHeads, L, S\) for mask/],
          [() => stack.forward(q, { srcMask: zeros([4, 4]) } as never), /^TransformerEncoder\.forward: unknown option 'srcMask' \(known: mask, srcKeyPaddingMask\)/],
          [() => stack.forward(q.double()), /^TransformerEncoder\.forward: expected src of the module's dtype float32 but received float64/],
        ];
        for (const [call, message] of cases) expect(call, String(message)).toThrow(message);
        const sq = randn([2, 4, 5]);
        const sk = randn([2, 6, 5]);
        const sv = randn([2, 6, 3]);
        const sdpa: [() => unknown, RegExp][] = [
          [() => F.scaledDotProductAttention(sq, sk, sv, { isCausal: true, attnMask: tensor([true]) }), /^scaledDotProductAttention: expected no mask when isCausal is true \(isCausal is the mask\) for attnMask/],
          [() => F.scaledDotProductAttention(sq, randn([2, 6, 4]), sv), /^scaledDotProductAttention: expected a last dimension of 5 \(the query's, shape \[2, 4, 5\]\) for key but received shape \[2, 6, 4\]/],
          [() => F.scaledDotProductAttention(sq, sk, randn([2, 5, 3])), /^scaledDotProductAttention: expected 6 positions in dimension -2 \(the key's, shape \[2, 6, 5\]\) for value/],
          [() => F.scaledDotProductAttention(sq, randn([3, 6, 5]), randn([3, 6, 3])), /^scaledDotProductAttention: expected leading dimensions that broadcast with the query's \[2\] for key but received shape \[3, 6, 5\]/],
          [() => F.scaledDotProductAttention(sq, sk, sv, { attnMask: tensor([true, false]) }), /^scaledDotProductAttention: expected a shape that broadcasts to the scores \[2, 4, 6\] \(\.\.\., L, S\) for attnMask but received shape \[2\]/],
          [() => F.scaledDotProductAttention(sq, sk, sv, { attnMask: zeros([3, 2, 4, 6]) }), /for attnMask but received shape \[3, 2, 4, 6\]/],
          [() => F.scaledDotProductAttention(sq, sk, sv, { dropoutP: 2 }), /^scaledDotProductAttention: expected a number in \[0, 1\] for dropoutP but received 2/],
          [() => F.scaledDotProductAttention(sq, sk, sv, { scale: 'x' as never }), /^scaledDotProductAttention: expected a finite number \(or null for 1\/√E\) for scale/],
          [() => F.scaledDotProductAttention(sq, sk, sv, { is_causal: true } as never), /^scaledDotProductAttention: unknown option 'is_causal'; did you mean 'isCausal'\?/],
          [() => F.scaledDotProductAttention(tensor([[1n]]), sk, sv), /^scaledDotProductAttention: expected a floating-point tensor for query but received int64/],
          [() => F.scaledDotProductAttention(randn([5]), sk, sv), /^scaledDotProductAttention: expected at least 2 dimensions \(\.\.\., sequence, features\) for query but received shape \[5\]/],
          [() => F.scaledDotProductAttention(sq, sk, sv, { attnMask: zeros([4, 6], { dtype: 'int32' }) }), /^scaledDotProductAttention: expected a bool tensor or a floating-point one of the query's dtype float32 for attnMask but received int32/],
        ];
        for (const [call, message] of sdpa) expect(call, String(message)).toThrow(message);
      });
    } finally {
      for (const m of [mha, mha64, layer, stack]) m.dispose();
    }
  });
});

// ---------------------------------------------------------------- against PyTorch

describe.skipIf(!hasTorch)('attention and PyTorch (needs /usr/bin/python3 with torch)', () => {
  it("same state-dict keys and shapes; our weights load strictly into PyTorch's modules and give its outputs, weights and gradients; its weights load strictly into ours", async () => {
    manualSeed(3);
    const net = new Net();
    const back = new Net();
    try {
      // Weights that are not the initial ones (zero biases, unit norms), so a mix-up of two shows.
      noGrad(() => tidy(() => {
        for (const p of net.parameters()) p.add_(randn(p.shape, { dtype: 'float64' }).mul(0.2));
      }));
      net.eval();
      back.eval();
      const r = await stateDictRoundTrip(net, back, {
        dir: tmp, run: runAll, pyNet: `${PY_NET}${PY_RUN_ALL}`, pyRun: 'run_all',
        pyPerturb: 'with torch.no_grad():\n    for p in t.parameters(): p.add_(torch.randn_like(p) * 0.2)',
      });
      expectRunsEqual(r.ours, r.mine, 1e-10);
      // the padded keys got no weight, in both
      const kpmWeights = r.ours.crossKpm.weights as number[]; // (N 3, L 4, S 5); batch 0 ignores key 4
      expect([0, 1, 2, 3].map((i) => kpmWeights[i * 5 + 4])).toEqual([0, 0, 0, 0]);
      // ... and back: PyTorch's state dict loads strictly into ours and gives PyTorch's results.
      expectRunsEqual(r.back, r.theirs, 1e-10);
      expect(maxDiff(r.back.self.out, r.ours.self.out)).toBeGreaterThan(1e-3); // other weights, other outputs
      const partial = tidy(() => {
        const sd = { ...back.stateDict() };
        delete sd['stack.layers.1.self_attn.in_proj_bias'];
        return sd;
      });
      expect(() => net.loadStateDict(partial)).toThrow(/missing keys: stack\.layers\.1\.self_attn\.in_proj_bias/);
      for (const t of Object.values(partial)) t.dispose();
    } finally {
      net.dispose();
      back.dispose();
    }
  }, 180_000);

  it('draw the initial weights PyTorch draws from the same seed (float32 and float64), and the encoder copies draw nothing', async () => {
    manualSeed(11);
    const mha = new nn.MultiheadAttention(8, 2);
    const noBias = new nn.MultiheadAttention(6, 3, { bias: false });
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    const layer64 = new nn.TransformerEncoderLayer(6, 3, { dimFeedforward: 10, dtype: 'float64' });
    const stack = new nn.TransformerEncoder(layer64, 2);
    try {
      const ours = tidy(() => {
        const dict = (m: nn.Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, vals(t)]));
        return { mha: dict(mha), noBias: dict(noBias), layer: dict(layer), layer64: dict(layer64), stack: dict(stack), after: vals(rand([5])) };
      });
      const theirs = JSON.parse(
        await py(`
import json, torch, torch.nn as nn
torch.manual_seed(11)
mha = nn.MultiheadAttention(8, 2)
noBias = nn.MultiheadAttention(6, 3, bias=False)
layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
layer64 = nn.TransformerEncoderLayer(6, 3, dim_feedforward=10, dtype=torch.float64)
stack = nn.TransformerEncoder(layer64, 2)
d = lambda m: {k: v.flatten().tolist() for k, v in m.state_dict().items()}
print(json.dumps({'mha': d(mha), 'noBias': d(noBias), 'layer': d(layer), 'layer64': d(layer64), 'stack': d(stack), 'after': torch.rand(5).tolist()}))
`),
      ) as typeof ours;
      for (const name of ['mha', 'noBias', 'layer', 'layer64', 'stack'] as const) {
        expect(Object.keys(ours[name]), name).toEqual(Object.keys(theirs[name]));
        const tol = name === 'layer64' || name === 'stack' ? 1e-12 : 1e-6;
        for (const k of Object.keys(theirs[name])) expect(maxDiff(ours[name][k], theirs[name][k]), `${name}.${k}`).toBeLessThan(tol);
      }
      expect(maxDiff(ours.after, theirs.after)).toBeLessThan(1e-7);
    } finally {
      for (const m of [mha, noBias, layer, layer64, stack]) m.dispose();
    }
  }, 120_000);
});
