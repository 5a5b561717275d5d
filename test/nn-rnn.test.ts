// Recurrent layers (lib/nn/rnn.ts): nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell. Without Python:
// parameter names, shapes, order and initial ranges, forward shapes (batched, batchFirst, unbatched, default
// states), dropout between layers, training with flat memory, and the argument errors. Against python3-torch
// (PyTorch 1.13): outputs, final states and the gradients of the input, the initial states and every parameter in
// float64 on the same weights, our state dict loaded strictly into PyTorch's modules and theirs into ours, and
// the initial values drawn from the same seed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Tensor, cat, manualSeed, memory, nn, rand, randn, tensor, tidy, zeros } from '../lib';
import { hasTorch, py, PY_TENSOR_OF, type PyTensor } from './helpers/torchpy';
import { maxDiff, shapes, vals } from './helpers/compare';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { stateDictRoundTrip } from './helpers/roundtrip';
import { floats, toTensor } from './helpers/specs';
import { expectTrainsWithFlatMemory } from './helpers/toy-training';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-rnn-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => manualSeed(0));

// ---------------------------------------------------------------- shared inputs (also sent to Python)

/** Float64 inputs and initial states by name (gradients wanted): L 4, N 3, inputSize 5. */
const INPUTS: Record<string, PyTensor> = {
  x: floats([4, 3, 5], 1), xb: floats([3, 4, 5], 2), xu: floats([4, 5], 3), c: floats([3, 5], 4), cu: floats([5], 5),
  h1: floats([1, 3, 4], 6, 0.5), c1: floats([1, 3, 4], 7, 0.5), hu1: floats([1, 4], 8, 0.5),
  h4: floats([4, 3, 4], 9, 0.5), h1s: floats([1, 3, 3], 10, 0.5),
  hp: floats([4, 3, 3], 11, 0.5), cp: floats([4, 3, 6], 12, 0.5), hpu: floats([4, 3], 13, 0.5), cpu: floats([4, 6], 14, 0.5),
  h2: floats([2, 3, 4], 15, 0.5), c2: floats([2, 3, 4], 16, 0.5), hnb: floats([1, 3, 2], 17, 0.5),
  hc: floats([3, 4], 18, 0.5), cc: floats([3, 4], 19, 0.5), hcu: floats([4], 20, 0.5), ccu: floats([4], 21, 0.5),
};
const makeInput = (name: string): Tensor => toTensor(INPUTS[name]);

/** One forward of the comparison: which module, which input and initial states (by name). */
interface Case {
  name: string;
  module: string;
  input: string;
  hx?: string[];
}

const CASES: Case[] = [
  { name: 'rnnTanh', module: 'rnnTanh', input: 'x', hx: ['h1'] },
  { name: 'rnnTanhNoHx', module: 'rnnTanh', input: 'x' },
  { name: 'rnnTanhUnbatched', module: 'rnnTanh', input: 'xu', hx: ['hu1'] },
  { name: 'rnnRelu2Bi', module: 'rnnRelu2Bi', input: 'x', hx: ['h4'] },
  { name: 'rnnNoBiasBF', module: 'rnnNoBiasBF', input: 'xb', hx: ['h1s'] },
  { name: 'lstm', module: 'lstm', input: 'x', hx: ['h1', 'c1'] },
  { name: 'lstmNoHx', module: 'lstm', input: 'x' },
  { name: 'lstmProj2Bi', module: 'lstmProj2Bi', input: 'x', hx: ['hp', 'cp'] },
  { name: 'lstmProj2BiUnbatched', module: 'lstmProj2Bi', input: 'xu', hx: ['hpu', 'cpu'] },
  { name: 'lstm2BFDropout', module: 'lstm2BFDropout', input: 'xb', hx: ['h2', 'c2'] },
  { name: 'lstmNoBiasProj', module: 'lstmNoBiasProj', input: 'x', hx: ['hnb', 'c1'] },
  { name: 'gru', module: 'gru', input: 'x', hx: ['h1'] },
  { name: 'gru2BiBF', module: 'gru2BiBF', input: 'xb', hx: ['h4'] },
  { name: 'gru2BiBFUnbatched', module: 'gru2BiBF', input: 'xu' },
  { name: 'gruNoBias', module: 'gruNoBias', input: 'x' },
  { name: 'rnnCell', module: 'rnnCell', input: 'c', hx: ['hc'] },
  { name: 'rnnCellUnbatched', module: 'rnnCell', input: 'cu' },
  { name: 'rnnCellReluNoBias', module: 'rnnCellReluNoBias', input: 'c', hx: ['hc'] },
  { name: 'lstmCell', module: 'lstmCell', input: 'c', hx: ['hc', 'cc'] },
  { name: 'lstmCellUnbatched', module: 'lstmCell', input: 'cu', hx: ['hcu', 'ccu'] },
  { name: 'lstmCellNoHx', module: 'lstmCell', input: 'c' },
  { name: 'gruCell', module: 'gruCell', input: 'c', hx: ['hc'] },
  { name: 'gruCellNoBiasUnbatched', module: 'gruCellNoBias', input: 'cu', hx: ['hcu'] },
];

const D = 'float64';
/** Every module of the comparison, float64, under the names the Python twin uses. */
class Net extends nn.Module {
  rnnTanh = new nn.RNN(5, 4, { dtype: D });
  rnnRelu2Bi = new nn.RNN(5, 4, { nonlinearity: 'relu', numLayers: 2, bidirectional: true, dtype: D });
  rnnNoBiasBF = new nn.RNN(5, 3, { bias: false, batchFirst: true, dtype: D });
  lstm = new nn.LSTM(5, 4, { dtype: D });
  lstmProj2Bi = new nn.LSTM(5, 6, { projSize: 3, numLayers: 2, bidirectional: true, dtype: D });
  lstm2BFDropout = new nn.LSTM(5, 4, { numLayers: 2, batchFirst: true, dropout: 0.3, dtype: D });
  lstmNoBiasProj = new nn.LSTM(5, 4, { bias: false, projSize: 2, dtype: D });
  gru = new nn.GRU(5, 4, { dtype: D });
  gru2BiBF = new nn.GRU(5, 4, { numLayers: 2, bidirectional: true, batchFirst: true, dtype: D });
  gruNoBias = new nn.GRU(5, 3, { bias: false, dtype: D });
  rnnCell = new nn.RNNCell(5, 4, { dtype: D });
  rnnCellReluNoBias = new nn.RNNCell(5, 4, { nonlinearity: 'relu', bias: false, dtype: D });
  lstmCell = new nn.LSTMCell(5, 4, { dtype: D });
  gruCell = new nn.GRUCell(5, 4, { dtype: D });
  gruCellNoBias = new nn.GRUCell(5, 4, { bias: false, dtype: D });
}

const PY_NET = `
import json, sys, torch, torch.nn as nn
D = torch.float64
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.rnnTanh = nn.RNN(5, 4, dtype=D)
        s.rnnRelu2Bi = nn.RNN(5, 4, nonlinearity='relu', num_layers=2, bidirectional=True, dtype=D)
        s.rnnNoBiasBF = nn.RNN(5, 3, bias=False, batch_first=True, dtype=D)
        s.lstm = nn.LSTM(5, 4, dtype=D)
        s.lstmProj2Bi = nn.LSTM(5, 6, proj_size=3, num_layers=2, bidirectional=True, dtype=D)
        s.lstm2BFDropout = nn.LSTM(5, 4, num_layers=2, batch_first=True, dropout=0.3, dtype=D)
        s.lstmNoBiasProj = nn.LSTM(5, 4, bias=False, proj_size=2, dtype=D)
        s.gru = nn.GRU(5, 4, dtype=D)
        s.gru2BiBF = nn.GRU(5, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=D)
        s.gruNoBias = nn.GRU(5, 3, bias=False, dtype=D)
        s.rnnCell = nn.RNNCell(5, 4, dtype=D)
        s.rnnCellReluNoBias = nn.RNNCell(5, 4, nonlinearity='relu', bias=False, dtype=D)
        s.lstmCell = nn.LSTMCell(5, 4, dtype=D)
        s.gruCell = nn.GRUCell(5, 4, dtype=D)
        s.gruCellNoBias = nn.GRUCell(5, 4, bias=False, dtype=D)
`;

/** The weighting of result k in the test losses: sum_k sum(result_k * w_k). */
const weighting = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => ((i % (5 + 2 * k)) - (2 + k)) / (2 + k));

interface Run {
  shapes: number[][];
  outs: number[][];
  grads: Record<string, number[]>;
}

/** One forward of any recurrent module: its results as a list (output and states, or the cell's states). */
function forwardAny(m: nn.Module, x: Tensor, hx: Tensor[]): Tensor[] {
  const pair = (): [Tensor, Tensor] | undefined => (hx.length ? [hx[0], hx[1]] : undefined);
  if (m instanceof nn.LSTM) {
    const [o, [h, c]] = m.forward(x, pair());
    return [o, h, c];
  }
  if (m instanceof nn.RNN || m instanceof nn.GRU) return m.forward(x, hx[0]);
  if (m instanceof nn.LSTMCell) return m.forward(x, pair());
  return [(m as nn.RNNCell | nn.GRUCell).forward(x, hx[0])];
}

/** Runs every case on `net` (in evaluation mode): one forward and backward each. */
function runAll(net: Net): Record<string, Run> {
  const res: Record<string, Run> = {};
  const modules = Object.fromEntries(net.namedChildren()) as Record<string, nn.Module>;
  for (const c of CASES) {
    tidy(() => {
      const m = modules[c.module];
      m.zeroGrad();
      const x = makeInput(c.input);
      const hx = (c.hx ?? []).map(makeInput);
      const outs = forwardAny(m, x, hx);
      let loss = zeros([], { dtype: D });
      outs.forEach((o, k) => (loss = loss.add(o.mul(tensor(Float64Array.from(weighting(o.numel(), k)), { shape: o.shape })).sum())));
      loss.backward();
      const grads: Record<string, number[]> = { [`input.${c.input}`]: vals(x.grad as Tensor) };
      (c.hx ?? []).forEach((n, i) => (grads[`input.${n}`] = vals(hx[i].grad as Tensor)));
      for (const [k, p] of m.namedParameters()) grads[k] = vals(p.grad as Tensor);
      res[c.name] = { shapes: outs.map((o) => o.shape), outs: outs.map(vals), grads };
    });
  }
  net.zeroGrad();
  return res;
}

const PY_RUN_ALL = `${PY_TENSOR_OF}
INPUTS = json.loads(${JSON.stringify(JSON.stringify(INPUTS))})
CASES = json.loads(${JSON.stringify(JSON.stringify(CASES))})
def weighting(o, k): return torch.tensor([((i % (5 + 2 * k)) - (2 + k)) / (2 + k) for i in range(o.numel())], dtype=o.dtype).reshape(o.shape)
def inp(n): return tensor_of(INPUTS[n])
def fwd(m, x, hx):
    if isinstance(m, nn.LSTM):
        o, (h, c) = m(x, (hx[0], hx[1]) if hx else None)
        return [o, h, c]
    if isinstance(m, (nn.RNN, nn.GRU)): return list(m(x, hx[0] if hx else None))
    if isinstance(m, nn.LSTMCell): return list(m(x, (hx[0], hx[1]) if hx else None))
    return [m(x, hx[0] if hx else None)]
def run_all(net):
    net.eval()
    res = {}
    for c in CASES:
        m = getattr(net, c['module'])
        m.zero_grad(set_to_none=True)
        x = inp(c['input'])
        hx = [inp(n) for n in c.get('hx', [])]
        outs = fwd(m, x, hx)
        loss = sum((o * weighting(o, k)).sum() for k, o in enumerate(outs))
        loss.backward()
        grads = {'input.' + c['input']: x.grad.flatten().tolist()}
        for n, t in zip(c.get('hx', []), hx): grads['input.' + n] = t.grad.flatten().tolist()
        for k, p in m.named_parameters(): grads[k] = p.grad.flatten().tolist()
        res[c['name']] = {'shapes': [list(o.shape) for o in outs], 'outs': [o.detach().flatten().tolist() for o in outs], 'grads': grads}
    net.zero_grad()
    return res
`;

function expectRunsEqual(ours: Record<string, Run>, theirs: Record<string, Run>, tol: number): void {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  for (const [name, r] of Object.entries(theirs)) {
    const o = ours[name];
    expect(o.shapes, `${name} result shapes`).toEqual(r.shapes);
    r.outs.forEach((t, k) => expect(maxDiff(o.outs[k], t), `${name} result ${k}`).toBeLessThan(tol));
    expect(Object.keys(o.grads).sort(), `${name} gradients`).toEqual(Object.keys(r.grads).sort());
    for (const k of Object.keys(r.grads)) expect(maxDiff(o.grads[k], r.grads[k]), `${name} gradient of ${k}`).toBeLessThan(tol);
  }
}

// ---------------------------------------------------------------- without Python

describe('recurrent layers: parameters, state dicts, initialisation', () => {
  it("have PyTorch's parameter names, shapes and order, initial values within ±1/√hiddenSize, and their options; nothing is left behind", () => {
    const before = memory().tensors;
    const rnn = new nn.RNN(10, 20, { numLayers: 2 });
    const lstm = new nn.LSTM(3, 8, { projSize: 2, bidirectional: true, bias: false });
    const gru = new nn.GRU(4, 5, { numLayers: 2, bidirectional: true, batchFirst: true, dtype: 'float64' });
    const cells = [new nn.RNNCell(3, 4, { nonlinearity: 'relu' }), new nn.LSTMCell(3, 4, { bias: false }), new nn.GRUCell(3, 4, { dtype: 'float64' })] as const;
    try {
      tidy(() => {
        expect(shapes(rnn.stateDict())).toEqual([
          ['weight_ih_l0', [20, 10]], ['weight_hh_l0', [20, 20]], ['bias_ih_l0', [20]], ['bias_hh_l0', [20]],
          ['weight_ih_l1', [20, 20]], ['weight_hh_l1', [20, 20]], ['bias_ih_l1', [20]], ['bias_hh_l1', [20]],
        ]);
        expect(shapes(lstm.stateDict())).toEqual([
          ['weight_ih_l0', [32, 3]], ['weight_hh_l0', [32, 2]], ['weight_hr_l0', [2, 8]],
          ['weight_ih_l0_reverse', [32, 3]], ['weight_hh_l0_reverse', [32, 2]], ['weight_hr_l0_reverse', [2, 8]],
        ]);
        expect(shapes(gru.stateDict())).toEqual([
          ['weight_ih_l0', [15, 4]], ['weight_hh_l0', [15, 5]], ['bias_ih_l0', [15]], ['bias_hh_l0', [15]],
          ['weight_ih_l0_reverse', [15, 4]], ['weight_hh_l0_reverse', [15, 5]], ['bias_ih_l0_reverse', [15]], ['bias_hh_l0_reverse', [15]],
          ['weight_ih_l1', [15, 10]], ['weight_hh_l1', [15, 5]], ['bias_ih_l1', [15]], ['bias_hh_l1', [15]],
          ['weight_ih_l1_reverse', [15, 10]], ['weight_hh_l1_reverse', [15, 5]], ['bias_ih_l1_reverse', [15]], ['bias_hh_l1_reverse', [15]],
        ]);
        expect(shapes(cells[0].stateDict())).toEqual([['weight_ih', [4, 3]], ['weight_hh', [4, 4]], ['bias_ih', [4]], ['bias_hh', [4]]]);
        expect(shapes(cells[1].stateDict())).toEqual([['weight_ih', [16, 3]], ['weight_hh', [16, 4]]]);
        expect(shapes(cells[2].stateDict())).toEqual([['weight_ih', [12, 3]], ['weight_hh', [12, 4]], ['bias_ih', [12]], ['bias_hh', [12]]]);
        expect([cells[1].bias_ih, cells[1].bias_hh, cells[1].bias, cells[0].nonlinearity, cells[2].weight_ih.dtype]).toEqual([null, null, false, 'relu', 'float64']);
        expect([rnn.mode, rnn.inputSize, rnn.hiddenSize, rnn.numLayers, rnn.bias, rnn.batchFirst, rnn.dropout, rnn.bidirectional, rnn.projSize, rnn.nonlinearity])
          .toEqual(['RNN_TANH', 10, 20, 2, true, false, 0, false, 0, 'tanh']);
        expect([lstm.mode, lstm.projSize, lstm.bias, lstm.bidirectional, lstm.kind, lstm.isNative]).toEqual(['LSTM', 2, false, true, 'LSTM', false]);
        expect([gru.mode, gru.batchFirst, gru.numLayers, gru.kind]).toEqual(['GRU', true, 2, 'GRU']);
        expect(gru.parameters().map((p) => p.dtype)).toEqual(new Array(16).fill('float64'));
        // allWeights: the module's own parameters per layer and direction
        expect(gru.allWeights.map((w) => w.length)).toEqual([4, 4, 4, 4]);
        expect(lstm.allWeights[1][2]).toBe((lstm as unknown as Record<string, unknown>).weight_hr_l0_reverse);
        // uniform in ±1/√hiddenSize, every parameter (biases too)
        for (const [m, H] of [[rnn, 20], [lstm, 8], [gru, 5], ...cells.map((c) => [c, 4] as const)] as const) {
          for (const [k, p] of m.namedParameters()) {
            const a = vals(p).map(Math.abs);
            expect(Math.max(...a), k).toBeLessThanOrEqual(1 / Math.sqrt(H));
            if (a.length >= 40) expect(Math.max(...a), k).toBeGreaterThan(0.8 / Math.sqrt(H));
            expect(p.requiresGrad).toBe(true);
          }
        }
      });
    } finally {
      for (const m of [rnn, lstm, gru, ...cells]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('resetParameters draws the initial values again (also from a container); Module.to converts every parameter', () => {
    const lstm = new nn.LSTM(4, 6, { numLayers: 2, projSize: 3 });
    const cell = new nn.GRUCell(4, 6);
    const seq = new nn.Sequential(new nn.Linear(2, 2));
    try {
      tidy(() => {
        for (const m of [lstm, cell] as nn.Module[]) {
          for (const p of m.parameters()) p.requiresGrad_(false).fill_(7).requiresGrad_(true);
        }
        lstm.resetParameters();
        cell.resetParameters();
        for (const m of [lstm, cell] as nn.Module[]) {
          for (const [k, p] of m.namedParameters()) expect(Math.max(...vals(p).map(Math.abs)), k).toBeLessThanOrEqual(1 / Math.sqrt(6));
        }
        lstm.to('float64');
        expect(lstm.parameters().map((p) => p.dtype)).toEqual(new Array(10).fill('float64'));
        const [o, [h, c]] = lstm.forward(randn([5, 2, 4], { dtype: 'float64' }));
        expect([o.dtype, o.shape, h.shape, c.shape]).toEqual(['float64', [5, 2, 3], [2, 2, 3], [2, 2, 6]]);
      });
    } finally {
      lstm.dispose();
      cell.dispose();
      seq.dispose();
    }
    // a container reaches the layers' own resetParameters
    class Holder extends nn.Module {
      rnn = new nn.RNN(3, 4);
      forward(x: Tensor): Tensor {
        return this.rnn.forward(x)[0];
      }
    }
    const holder = new Holder();
    try {
      tidy(() => {
        for (const p of holder.parameters()) p.requiresGrad_(false).fill_(7).requiresGrad_(true);
        holder.resetParameters();
        for (const p of holder.parameters()) expect(vals(p).includes(7)).toBe(false);
      });
    } finally {
      holder.dispose();
    }
  });
});

describe('recurrent forward: shapes, states, unbatched input, dropout', () => {
  it("returns PyTorch's shapes; default states are zeros; batchFirst transposes input and output only; unbatched input gives its batched result", () => {
    manualSeed(1);
    const rnn = new nn.RNN(5, 4, { numLayers: 2 });
    const rnnBF = new nn.RNN(5, 4, { numLayers: 2, batchFirst: true });
    const lstm = new nn.LSTM(5, 6, { projSize: 3, bidirectional: true });
    const gru = new nn.GRU(5, 4, { bidirectional: true });
    try {
      tidy(() => {
        rnnBF.loadStateDict(rnn.stateDict());
        const x = randn([7, 3, 5]);
        const [o, h] = rnn.forward(x);
        expect([o.shape, h.shape]).toEqual([[7, 3, 4], [2, 3, 4]]);
        const [o0, h0] = rnn.forward(x, zeros([2, 3, 4]));
        expect([maxDiff(vals(o), vals(o0)), maxDiff(vals(h), vals(h0))]).toEqual([0, 0]);
        // the top layer's final state is the output's last step
        expect(maxDiff(vals(h.select(0, 1)), vals(o.select(0, 6)))).toBe(0);
        const [ob, hb] = rnnBF.forward(x.transpose(0, 1));
        expect([ob.shape, hb.shape]).toEqual([[3, 7, 4], [2, 3, 4]]);
        expect(maxDiff(vals(ob.transpose(0, 1).contiguous()), vals(o))).toBeLessThan(1e-6);
        expect(maxDiff(vals(hb), vals(h))).toBeLessThan(1e-6);
        // unbatched: the batch entry's result, with or without batchFirst
        const hx = randn([2, 3, 4]);
        const [oh, hh] = rnn.forward(x, hx);
        const [ou, hu] = rnn.forward(x.select(1, 1), hx.select(1, 1));
        expect([ou.shape, hu.shape]).toEqual([[7, 4], [2, 4]]);
        expect(maxDiff(vals(ou), vals(oh.select(1, 1)))).toBeLessThan(1e-6);
        expect(maxDiff(vals(hu), vals(hh.select(1, 1)))).toBeLessThan(1e-6);
        const [obu] = rnnBF.forward(x.select(1, 1), hx.select(1, 1));
        expect(maxDiff(vals(obu), vals(ou))).toBeLessThan(1e-6);
        // LSTM: h has projSize features, c hiddenSize; the output both directions' h
        const [lo, [lh, lc]] = lstm.forward(x);
        expect([lo.shape, lh.shape, lc.shape]).toEqual([[7, 3, 6], [2, 3, 3], [2, 3, 6]]);
        const [lou, [lhu, lcu]] = lstm.forward(x.select(1, 2), [lh.select(1, 2), lc.select(1, 2)]);
        const [lob, [lhb, lcb]] = lstm.forward(x, [lh, lc]);
        expect([lou.shape, lhu.shape, lcu.shape]).toEqual([[7, 6], [2, 3], [2, 6]]);
        expect(maxDiff(vals(lou), vals(lob.select(1, 2)))).toBeLessThan(1e-6);
        expect(maxDiff(vals(lhu), vals(lhb.select(1, 2)))).toBeLessThan(1e-6);
        expect(maxDiff(vals(lcu), vals(lcb.select(1, 2)))).toBeLessThan(1e-6);
        // bidirectional: the forward direction's final state is the output's last step, the backward one's the first
        const [go, gh] = gru.forward(x);
        expect([go.shape, gh.shape]).toEqual([[7, 3, 8], [2, 3, 4]]);
        expect(maxDiff(vals(gh.select(0, 0)), vals(go.select(0, 6).narrow(1, 0, 4)))).toBe(0);
        expect(maxDiff(vals(gh.select(0, 1)), vals(go.select(0, 0).narrow(1, 4, 4)))).toBe(0);
      });
    } finally {
      for (const m of [rnn, rnnBF, lstm, gru]) m.dispose();
    }
  });

  it('cells: one step of the one-layer module; default states are zeros; unbatched input', () => {
    manualSeed(2);
    const pairs = [
      [new nn.RNNCell(5, 4, { nonlinearity: 'relu' }), new nn.RNN(5, 4, { nonlinearity: 'relu' })],
      [new nn.LSTMCell(5, 4), new nn.LSTM(5, 4)],
      [new nn.GRUCell(5, 4, { bias: false }), new nn.GRU(5, 4, { bias: false })],
    ] as const;
    try {
      tidy(() => {
        const x = randn([3, 5]);
        const h = randn([3, 4]);
        const c = randn([3, 4]);
        for (const [cell, layer] of pairs) {
          const sd = cell.stateDict();
          layer.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, t]) => [`${k}_l0`, t])));
          const withState = cell instanceof nn.LSTMCell ? cell.forward(x, [h, c]) : [(cell as nn.RNNCell).forward(x, h)];
          const layerOut = forwardAny(layer, x.unsqueeze(0), cell instanceof nn.LSTMCell ? [h.unsqueeze(0), c.unsqueeze(0)] : [h.unsqueeze(0)]);
          expect(maxDiff(vals(withState[0]), vals(layerOut[0].squeeze(0))), cell.kind).toBeLessThan(1e-6);
          if (cell instanceof nn.LSTMCell) expect(maxDiff(vals(withState[1]), vals(layerOut[2].squeeze(0)))).toBeLessThan(1e-6);
          const zero = cell instanceof nn.LSTMCell ? cell.forward(x, [zeros([3, 4]), zeros([3, 4])]) : [(cell as nn.RNNCell).forward(x, zeros([3, 4]))];
          const dflt = cell instanceof nn.LSTMCell ? cell.forward(x) : [(cell as nn.RNNCell).forward(x)];
          zero.forEach((t, i) => expect(maxDiff(vals(t), vals(dflt[i]))).toBe(0));
          const unb = cell instanceof nn.LSTMCell ? cell.forward(x.select(0, 1), [h.select(0, 1), c.select(0, 1)]) : [(cell as nn.RNNCell).forward(x.select(0, 1), h.select(0, 1))];
          unb.forEach((t, i) => {
            expect(t.shape).toEqual([4]);
            expect(maxDiff(vals(t), vals(withState[i].select(0, 1)))).toBeLessThan(1e-6);
          });
        }
      });
    } finally {
      for (const [cell, layer] of pairs) {
        cell.dispose();
        layer.dispose();
      }
    }
  });

  it('dropout between layers: none in evaluation; in training the output differs and gradients reach everything; one layer warns and drops nothing', () => {
    manualSeed(3);
    const drop = new nn.LSTM(5, 8, { numLayers: 3, dropout: 0.5 });
    const plain = new nn.LSTM(5, 8, { numLayers: 3 });
    const gruDrop = new nn.GRU(5, 8, { numLayers: 2, dropout: 0.5, bidirectional: true });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    let single: nn.GRU | null = null;
    try {
      single = new nn.GRU(5, 4, { dropout: 0.4 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/^GRU: dropout adds dropout after all but the last recurrent layer, so a non-zero dropout expects numLayers greater than 1, but got dropout=0\.4 and numLayers=1/);
      warn.mockClear();
      new nn.GRU(5, 4, { dropout: 0.4, numLayers: 2 }).dispose();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    try {
      tidy(() => {
        plain.loadStateDict(drop.stateDict());
        const x = randn([6, 2, 5]);
        drop.eval();
        plain.eval();
        const [oe, [he]] = drop.forward(x);
        const [op, [hp]] = plain.forward(x);
        expect([maxDiff(vals(oe), vals(op)), maxDiff(vals(he), vals(hp))]).toEqual([0, 0]);
        drop.train();
        plain.train();
        expect(maxDiff(vals(plain.forward(x)[0]), vals(op))).toBe(0); // no dropout: training changes nothing
        const xg = x.clone().requiresGrad_(true);
        const [ot, [ht, ct]] = drop.forward(xg);
        expect(maxDiff(vals(ot), vals(op))).toBeGreaterThan(1e-3);
        ot.sum().add(ht.sum()).add(ct.sum()).backward();
        expect(xg.grad).not.toBeNull();
        for (const [k, p] of drop.namedParameters()) expect(p.grad, k).not.toBeNull();
        // GRU, bidirectional
        const [ge] = (gruDrop.eval(), gruDrop.forward(x));
        gruDrop.train();
        const [gt, gh] = gruDrop.forward(xg);
        expect(maxDiff(vals(gt), vals(ge))).toBeGreaterThan(1e-3);
        gt.sum().add(gh.sum()).backward();
        for (const [k, p] of gruDrop.namedParameters()) expect(p.grad, k).not.toBeNull();
        // one layer: nothing to drop between layers
        const s = single as nn.GRU;
        const [st] = s.forward(x);
        s.eval();
        expect(maxDiff(vals(st), vals(s.forward(x)[0]))).toBe(0);
      });
    } finally {
      for (const m of [drop, plain, gruDrop, single]) m?.dispose();
    }
  });

  it('trains: an LSTM fits a toy task with SGD, every parameter gets a gradient, and memory stays flat', () => {
    manualSeed(4);
    const lstm = new nn.LSTM(3, 8, { batchFirst: true, numLayers: 2, projSize: 4 });
    const cell = new nn.GRUCell(3, 4);
    const head = new nn.Linear(8, 1);
    const params = [...lstm.parameters(), ...cell.parameters(), ...head.parameters()];
    const x = randn([16, 5, 3]);
    const y = tidy(() => x.sum([1, 2]).gt(0).to('float32').unsqueeze(1)); // the sign of the sum of the inputs
    try {
      expectTrainsWithFlatMemory(params, () => {
        const [, [h]] = lstm.forward(x);
        const g = cell.forward(x.select(1, 4), h.select(0, 1));
        return nn.functional.binaryCrossEntropyWithLogits(head.forward(cat([h.select(0, 1), g], 1)), y);
      }, { lr: 0.3 });
    } finally {
      for (const p of params) p.dispose();
      for (const m of [lstm, cell, head]) m.dispose();
      x.dispose();
      y.dispose();
    }
  });
});

describe('recurrent argument errors', () => {
  it('construction: bad and unknown options are errors naming the class, the argument and what was expected', () => {
    const cases: ErrorCase[] = [
      [() => new nn.LSTM(10, 20, { projSize: 20 }), RangeError, /^LSTM: expected a non-negative integer smaller than hiddenSize \(20\), or 0 for no projection for projSize but received 20/],
      [() => new nn.LSTM(10, 20, { projSize: -1 }), RangeError, /^LSTM: expected a non-negative integer smaller than hiddenSize \(20\), or 0 for no projection for projSize but received -1/],
      [() => new nn.LSTM(10, 20, { projSize: 1.5 }), TypeError, /^LSTM: expected a non-negative integer .* for projSize but received 1\.5/],
      [() => new nn.RNN(10, 20, { projSize: 5 } as never), TypeError, /^RNN: projSize is only supported by LSTM, not by RNN or GRU/],
      [() => new nn.GRU(10, 20, { projSize: 5 } as never), TypeError, /^GRU: projSize is only supported by LSTM, not by RNN or GRU/],
      [() => new nn.RNN(10, 20, { nonlinearity: 'sigmoid' as never }), TypeError, /^RNN: expected one of "tanh", "relu" for nonlinearity but received "sigmoid"/],
      [() => new nn.LSTM(10, 20, { nonlinearity: 'relu' } as never), TypeError, /^LSTM: unknown option 'nonlinearity' \(known: numLayers, bias, batchFirst, dropout, bidirectional, device, dtype, projSize\)/],
      [() => new nn.LSTM(10, 20, { dropout: 1.5 }), RangeError, /^LSTM: expected a number in \[0, 1\] for dropout but received 1\.5/],
      [() => new nn.GRU(10, 20, { dropout: true as never }), TypeError, /^GRU: expected a number for dropout but received true/],
      [() => new nn.GRU(10, 20, { numLayers: 0 }), RangeError, /^GRU: expected a positive integer for numLayers but received 0/],
      [() => new nn.RNN(10, 2.5), TypeError, /^RNN: expected a positive integer for hiddenSize but received 2\.5/],
      [() => new nn.RNN(0, 4), RangeError, /^RNN: expected a positive integer for inputSize but received 0/],
      [() => new nn.LSTM(10, 20, { batch_first: true } as never), TypeError, /^LSTM: unknown option 'batch_first'; did you mean 'batchFirst'\?/],
      [() => new nn.GRU(10, 20, { bidirectional: 1 as never }), TypeError, /^GRU: expected a boolean for bidirectional but received 1/],
      [() => new nn.LSTM(10, 20, { dtype: 'int64' }), TypeError, /^LSTM: expected one of "float32", .* for dtype but received "int64"/],
      [() => new nn.RNNCell(3, 4, { nonlinearity: 'gelu' as never }), TypeError, /^RNNCell: expected one of "tanh", "relu" for nonlinearity but received "gelu"/],
      [() => new nn.LSTMCell(3, 4, { nonlinearity: 'relu' } as never), TypeError, /^LSTMCell: unknown option 'nonlinearity' \(known: bias, device, dtype\)/],
      [() => new nn.GRUCell(3, 4, { numLayers: 2 } as never), TypeError, /^GRUCell: unknown option 'numLayers' \(known: bias, device, dtype\)/],
      [() => new nn.GRUCell(3, 0), RangeError, /^GRUCell: expected a positive integer for hiddenSize but received 0/],
      [() => new nn.LSTMCell(3, 4, { bias: 'no' as never }), TypeError, /^LSTMCell: expected a boolean for bias/],
    ];
    const before = memory().tensors;
    expectErrors(cases);
    expect(memory().tensors).toBe(before);
  });

  it('forward: bad inputs and states are errors naming the op and what was expected', () => {
    const rnn = new nn.RNN(5, 4);
    const lstm = new nn.LSTM(5, 4);
    const lstmProj = new nn.LSTM(5, 6, { projSize: 3, numLayers: 2 });
    const gruBF = new nn.GRU(5, 4, { batchFirst: true, bidirectional: true });
    const gruCell = new nn.GRUCell(5, 4);
    const lstmCell = new nn.LSTMCell(5, 4);
    const before = memory().tensors;
    try {
      tidy(() => {
        const x = randn([4, 3, 5]);
        const c = randn([3, 5]);
        const cases: ErrorCase[] = [
          [() => lstm.forward(randn([4, 3, 6])), RangeError, /^LSTM\.forward: expected a last dimension of 5 \(inputSize\) for input but received shape \[4, 3, 6\]/],
          [() => lstm.forward(randn([2, 4, 3, 5])), RangeError, /^LSTM\.forward: expected a 3-d tensor \(L, N, H_in\) or an unbatched 2-d one \(L, H_in\) for input but received shape \[2, 4, 3, 5\]/],
          [() => gruBF.forward(randn([5])), RangeError, /^GRU\.forward: expected a 3-d tensor \(N, L, H_in\) or an unbatched 2-d one \(L, H_in\) for input but received shape \[5\]/],
          [() => lstm.forward(x, [randn([1, 2, 4]), randn([1, 3, 4])]), RangeError, /^LSTM\.forward: expected shape \[1, 3, 4\] \(numLayers·directions, N, hiddenSize\) for hx\[0\] but received shape \[1, 2, 4\]/],
          [() => lstmProj.forward(x, [randn([2, 3, 3]), randn([2, 3, 3])]), RangeError, /^LSTM\.forward: expected shape \[2, 3, 6\] \(numLayers·directions, N, hiddenSize\) for hx\[1\] but received shape \[2, 3, 3\]/],
          [() => lstmProj.forward(x, [randn([2, 3, 6]), randn([2, 3, 6])]), RangeError, /^LSTM\.forward: expected shape \[2, 3, 3\] \(numLayers·directions, N, projSize\) for hx\[0\]/],
          [() => lstm.forward(x, randn([1, 3, 4]) as never), TypeError, /^LSTM\.forward: expected a pair \[h0, c0\] of Tensors, or null for hx but received a Tensor/],
          [() => lstm.forward(x, [randn([1, 3, 4]), 3] as never), TypeError, /^LSTM\.forward: expected a Tensor for hx\[1\] but received 3/],
          [() => rnn.forward(x, randn([3, 4])), RangeError, /^RNN\.forward: expected shape \[1, 3, 4\] \(numLayers·directions, N, hiddenSize\) for hx but received shape \[3, 4\]/],
          [() => rnn.forward(x.select(1, 0), randn([1, 1, 4])), RangeError, /^RNN\.forward: expected shape \[1, 4\] \(numLayers·directions, hiddenSize\) for hx but received shape \[1, 1, 4\]/],
          [() => gruBF.forward(x, randn([1, 4, 4])), RangeError, /^GRU\.forward: expected shape \[2, 4, 4\] \(numLayers·directions, N, hiddenSize\) for hx but received shape \[1, 4, 4\]/],
          [() => rnn.forward(x.double()), TypeError, /^RNN\.forward: expected input of the module's dtype float32 but received float64/],
          [() => rnn.forward(x, randn([1, 3, 4]).double()), TypeError, /^RNN\.forward: expected hx of input's dtype float32 but received float64/],
          [() => rnn.forward(tensor([[1n]])), TypeError, /^RNN\.forward: expected a floating-point tensor for input but received int64/],
          [() => rnn.forward(undefined as never), TypeError, /^RNN\.forward: expected a Tensor for input but received undefined/],
          [() => rnn.forward(x, 'h' as never), TypeError, /^RNN\.forward: expected a Tensor for hx but received "h"/],
          [() => gruCell.forward(randn([2, 3, 5])), RangeError, /^GRUCell\.forward: expected a 2-d tensor \(N, inputSize\) or an unbatched 1-d one \(inputSize\) for input but received shape \[2, 3, 5\]/],
          [() => gruCell.forward(randn([3, 6])), RangeError, /^GRUCell\.forward: expected a last dimension of 5 \(inputSize\) for input/],
          [() => gruCell.forward(c, randn([2, 4])), RangeError, /^GRUCell\.forward: expected shape \[3, 4\] \(N, hiddenSize\) for hx but received shape \[2, 4\]/],
          [() => gruCell.forward(c.select(0, 0), randn([1, 4])), RangeError, /^GRUCell\.forward: expected shape \[4\] \(hiddenSize\) for hx but received shape \[1, 4\]/],
          [() => gruCell.forward(c.double()), TypeError, /^GRUCell\.forward: expected input of the module's dtype float32 but received float64/],
          [() => lstmCell.forward(c, [randn([3, 4])] as never), TypeError, /^LSTMCell\.forward: expected a pair \[h, c\] of Tensors, or null for hx but received \[/],
          [() => lstmCell.forward(c, [randn([3, 4]), randn([3, 5])]), RangeError, /^LSTMCell\.forward: expected shape \[3, 4\] \(N, hiddenSize\) for hx\[1\] but received shape \[3, 5\]/],
        ];
        expectErrors(cases);
      });
      expect(memory().tensors).toBe(before);
    } finally {
      for (const m of [rnn, lstm, lstmProj, gruBF, gruCell, lstmCell]) m.dispose();
    }
  });
});

// ---------------------------------------------------------------- against PyTorch

describe.skipIf(!hasTorch)('recurrent layers and PyTorch (needs /usr/bin/python3 with torch)', () => {
  it("same state-dict keys and shapes; our weights load strictly into PyTorch's modules and give its outputs, states and gradients; its weights load strictly into ours", async () => {
    manualSeed(3);
    const net = new Net();
    const back = new Net();
    try {
      net.eval();
      back.eval();
      const r = await stateDictRoundTrip(net, back, { dir: tmp, run: runAll, pyNet: `${PY_NET}${PY_RUN_ALL}`, pyRun: 'run_all' });
      expectRunsEqual(r.ours, r.mine, 1e-10);
      // ... and back: PyTorch's state dict loads strictly into ours and gives PyTorch's results.
      expectRunsEqual(r.back, r.theirs, 1e-10);
      expect(maxDiff(r.back.lstm.outs[0], r.ours.lstm.outs[0])).toBeGreaterThan(1e-3); // other weights, other outputs
    } finally {
      net.dispose();
      back.dispose();
    }
  }, 120_000);

  it('draw the initial weights PyTorch draws from the same seed (float32 and float64)', async () => {
    manualSeed(11);
    const modules: Record<string, nn.Module> = {
      rnn: new nn.RNN(5, 4, { numLayers: 2, nonlinearity: 'relu' }),
      lstm: new nn.LSTM(5, 6, { projSize: 3, numLayers: 2, bidirectional: true }),
      gru: new nn.GRU(3, 4, { bias: false, batchFirst: true }),
      lstm64: new nn.LSTM(4, 5, { dtype: 'float64', bidirectional: true }),
      rnnCell: new nn.RNNCell(5, 4),
      lstmCell: new nn.LSTMCell(5, 4, { bias: false }),
      gruCell64: new nn.GRUCell(3, 6, { dtype: 'float64' }),
    };
    try {
      const ours = tidy(() => {
        const dict = (m: nn.Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, vals(t)]));
        return { ...Object.fromEntries(Object.entries(modules).map(([k, m]) => [k, dict(m)])), after: vals(rand([5])) } as Record<string, unknown>;
      });
      const theirs = JSON.parse(
        await py(`
import json, torch, torch.nn as nn
torch.manual_seed(11)
ms = {
    'rnn': nn.RNN(5, 4, num_layers=2, nonlinearity='relu'),
    'lstm': nn.LSTM(5, 6, proj_size=3, num_layers=2, bidirectional=True),
    'gru': nn.GRU(3, 4, bias=False, batch_first=True),
    'lstm64': nn.LSTM(4, 5, dtype=torch.float64, bidirectional=True),
    'rnnCell': nn.RNNCell(5, 4),
    'lstmCell': nn.LSTMCell(5, 4, bias=False),
    'gruCell64': nn.GRUCell(3, 6, dtype=torch.float64),
}
d = lambda m: {k: v.flatten().tolist() for k, v in m.state_dict().items()}
out = {k: d(m) for k, m in ms.items()}
out['after'] = torch.rand(5).tolist()
print(json.dumps(out))
`),
      ) as Record<string, unknown>;
      for (const name of Object.keys(modules)) {
        const o = ours[name] as Record<string, number[]>;
        const t = theirs[name] as Record<string, number[]>;
        expect(Object.keys(o), name).toEqual(Object.keys(t));
        const tol = name.endsWith('64') ? 1e-12 : 1e-6;
        for (const k of Object.keys(t)) expect(maxDiff(o[k], t[k]), `${name}.${k}`).toBeLessThan(tol);
      }
      expect(maxDiff(ours.after as number[], theirs.after as number[])).toBeLessThan(1e-7); // as many draws
    } finally {
      for (const m of Object.values(modules)) m.dispose();
    }
  }, 60_000);
});
