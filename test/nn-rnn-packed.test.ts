// Packed sequences (lib/nn/utils-rnn.ts), the recurrent layers on them (lib/nn/rnn.ts) and torch.nn.utils'
// parametersToVector / vectorToParameters (lib/nn/utils.ts). Without Python: PyTorch's documented examples, a
// PackedSequence's ownership (tidy, dispose, to), a packed forward equal to each sequence run alone, and the argument
// errors. Against python3-torch (PyTorch 1.13), in float64 on the same inputs and weights: every function of
// torch.nn.utils.rnn (values, batch sizes, permutations and gradients), LSTM / GRU / RNN on packed input (packed
// output, final states and the gradients of the input, the initial states and every parameter), and
// parameters_to_vector / vector_to_parameters.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, keep, manualSeed, memory, nn, randn, saveStateDict, tensor, tidy, zeros } from '../lib';
type PackedSequence = nn.utils.rnn.PackedSequence;
import { hasTorch, py, PY_TENSOR_OF, type PyTensor } from './helpers/torchpy';
import { maxDiff, vals } from './helpers/compare';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { floats, toTensor } from './helpers/specs';

const R = nn.utils.rnn;
const D = 'float64';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-rnn-packed-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------- shared inputs (also sent to Python)

/** Float64 inputs by name (gradients wanted): padded batches x (T 5, B 4, 3) and xb (batch first), sequences s0..s2 (lengths 3, 5, 2), states. */
const INPUTS: Record<string, PyTensor> = {
  x: floats([5, 4, 3], 1), xb: floats([4, 5, 3], 2), s0: floats([3, 2], 3), s1: floats([5, 2], 4), s2: floats([2, 2], 5),
  h4: floats([4, 4, 4], 6, 0.5), c4: floats([4, 4, 4], 7, 0.5), hp: floats([1, 4, 2], 8, 0.5), cp: floats([1, 4, 5], 9, 0.5),
};
const make = (name: string): Tensor => toTensor(INPUTS[name]);

/** The weighting of result k in the test losses: sum_k sum(result_k * w_k). */
const weighting = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => ((i % (5 + 2 * k)) - (2 + k)) / (2 + k));
const PY_WEIGHTING = 'def weighting(o, k): return torch.tensor([((i % (5 + 2 * k)) - (2 + k)) / (2 + k) for i in range(o.numel())], dtype=o.dtype).reshape(o.shape)';
/** sum(t * weighting(k)). */
const weighted = (t: Tensor, k: number): Tensor => t.mul(tensor(Float64Array.from(weighting(t.numel(), k)), { shape: t.shape, dtype: t.dtype })).sum();

/** A result as data: its shape and values (null for a missing tensor, as Python's None). */
type Res = { shape: number[]; data: number[] } | null;
const res = (t: Tensor | null): Res => (t ? { shape: t.shape, data: vals(t) } : null);
const PY_RES = "def res(t): return None if t is None else {'shape': list(t.shape), 'data': t.detach().double().flatten().tolist()}";

/** Asserts two result tables are equal: the same names, shapes and nulls, values within `tol`. */
function expectResults(ours: Record<string, Res>, theirs: Record<string, Res>, tol: number): void {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  for (const [k, t] of Object.entries(theirs)) {
    const o = ours[k];
    if (t === null || o === null) {
      expect(o, k).toBe(t);
      continue;
    }
    expect(o.shape, `${k} shape`).toEqual(t.shape);
    expect(maxDiff(o.data, t.data), k).toBeLessThanOrEqual(tol);
  }
}

// ---------------------------------------------------------------- the recurrent modules of the comparison

class Net extends nn.Module {
  lstm = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, dtype: D });
  gru = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true, dtype: D });
  rnn = new nn.RNN(3, 4, { numLayers: 2, bidirectional: true, dtype: D });
  lstmProjBF = new nn.LSTM(3, 5, { projSize: 2, batchFirst: true, dtype: D });
}

const PY_NET = `
import json, sys, torch, torch.nn as nn
from torch.nn.utils import rnn as R
from torch.nn.utils import parameters_to_vector, vector_to_parameters
D = torch.float64
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=D)
        s.gru = nn.GRU(3, 4, num_layers=2, bidirectional=True, dtype=D)
        s.rnn = nn.RNN(3, 4, num_layers=2, bidirectional=True, dtype=D)
        s.lstmProjBF = nn.LSTM(3, 5, proj_size=2, batch_first=True, dtype=D)
inp = json.loads(sys.stdin.read())
${PY_TENSOR_OF}
def T(n): return tensor_of(inp['inputs'][n])
${PY_WEIGHTING}
${PY_RES}
`;

/** A packed forward of the comparison: module, padded input, lengths, packing options, initial states (by name). */
interface Case {
  name: string;
  module: 'lstm' | 'gru' | 'rnn' | 'lstmProjBF';
  input: string;
  lengths: number[];
  enforceSorted: boolean;
  batchFirst: boolean;
  hx: string[];
}
const UNSORTED = [3, 5, 2, 5]; // with a tie: the sort's order of equal lengths is PyTorch's too
const SORTED = [5, 4, 2, 1];
const CASES: Case[] = [
  { name: 'lstmUnsortedHx', module: 'lstm', input: 'x', lengths: UNSORTED, enforceSorted: false, batchFirst: false, hx: ['h4', 'c4'] },
  { name: 'lstmUnsorted', module: 'lstm', input: 'x', lengths: UNSORTED, enforceSorted: false, batchFirst: false, hx: [] },
  { name: 'lstmSortedHx', module: 'lstm', input: 'x', lengths: SORTED, enforceSorted: true, batchFirst: false, hx: ['h4', 'c4'] },
  { name: 'gruUnsortedHx', module: 'gru', input: 'x', lengths: UNSORTED, enforceSorted: false, batchFirst: false, hx: ['h4'] },
  { name: 'gruSorted', module: 'gru', input: 'x', lengths: SORTED, enforceSorted: true, batchFirst: false, hx: [] },
  { name: 'rnnUnsortedHx', module: 'rnn', input: 'x', lengths: UNSORTED, enforceSorted: false, batchFirst: false, hx: ['h4'] },
  { name: 'rnnUnsorted', module: 'rnn', input: 'x', lengths: UNSORTED, enforceSorted: false, batchFirst: false, hx: [] },
  { name: 'lstmProjBFUnsortedHx', module: 'lstmProjBF', input: 'xb', lengths: [2, 5, 3, 4], enforceSorted: false, batchFirst: true, hx: ['hp', 'cp'] },
];

/** One case's results: packed output (data, batch sizes, permutations), final states, padded output, gradients. */
type CaseRun = Record<string, Res>;

/** Runs every case on `net` (evaluation mode): one packed forward and backward each. */
function runCases(net: Net): Record<string, CaseRun> {
  const out: Record<string, CaseRun> = {};
  for (const c of CASES) {
    tidy(() => {
      const m = net[c.module];
      m.zeroGrad();
      const x = make(c.input);
      const hx = c.hx.map((n) => make(n));
      const packed = R.packPaddedSequence(x, c.lengths, { batchFirst: c.batchFirst, enforceSorted: c.enforceSorted });
      let output: PackedSequence;
      let states: Tensor[];
      if (m instanceof nn.LSTM) {
        const [o, [h, cN]] = m.forward(packed, hx.length ? [hx[0], hx[1]] : null);
        [output, states] = [o, [h, cN]];
      } else if (m instanceof nn.GRU) {
        const [o, h] = m.forward(packed, hx[0] ?? null);
        [output, states] = [o, [h]];
      } else {
        const [o, h] = m.forward(packed, hx[0] ?? null);
        [output, states] = [o, [h]];
      }
      const results = [output.data, ...states];
      results.map((t, k) => weighted(t, k)).reduce((a, b) => a.add(b)).backward();
      const r: CaseRun = {
        data: res(output.data), batchSizes: res(output.batchSizes), sorted: res(output.sortedIndices), unsorted: res(output.unsortedIndices),
        padded: res(R.padPackedSequence(output, { batchFirst: c.batchFirst })[0]),
        'grad.input': res(x.grad),
      };
      states.forEach((s, k) => (r[`state${k}`] = res(s)));
      c.hx.forEach((n, k) => (r[`grad.${n}`] = res(hx[k].grad)));
      for (const [k, p] of m.namedParameters()) r[`grad.${k}`] = res(p.grad);
      out[c.name] = r;
    });
  }
  net.zeroGrad();
  return out;
}

const PY_RUN_CASES = `
def run_cases(net):
    out = {}
    for c in inp['cases']:
        m = getattr(net, c['module'])
        m.zero_grad(set_to_none=True)
        x = T(c['input'])
        hx = [T(n) for n in c['hx']]
        packed = R.pack_padded_sequence(x, c['lengths'], batch_first=c['batchFirst'], enforce_sorted=c['enforceSorted'])
        if isinstance(m, nn.LSTM):
            o, (h, cn) = m(packed, (hx[0], hx[1]) if hx else None)
            states = [h, cn]
        else:
            o, h = m(packed, hx[0] if hx else None)
            states = [h]
        results = [o.data] + states
        sum((t * weighting(t, k)).sum() for k, t in enumerate(results)).backward()
        r = {'data': res(o.data), 'batchSizes': res(o.batch_sizes), 'sorted': res(o.sorted_indices), 'unsorted': res(o.unsorted_indices),
             'padded': res(R.pad_packed_sequence(o, batch_first=c['batchFirst'])[0]), 'grad.input': res(x.grad)}
        for k, s in enumerate(states): r['state%d' % k] = res(s)
        for n, t in zip(c['hx'], hx): r['grad.' + n] = res(t.grad)
        for k, p in m.named_parameters(): r['grad.' + k] = res(p.grad)
        out[c['name']] = r
    return out
`;

// ---------------------------------------------------------------- without Python

describe('torch.nn.utils.rnn: PyTorch\'s examples, ownership', () => {
  it("gives the values of PyTorch's documented examples", () => {
    const before = memory().tensors;
    tidy(() => {
      // pad_packed_sequence's docstring
      const seq = tensor([[1n, 2n, 0n], [3n, 0n, 0n], [4n, 5n, 6n]]);
      const packed = R.packPaddedSequence(seq, [2, 1, 3], { batchFirst: true, enforceSorted: false });
      expect([packed.data, packed.batchSizes, packed.sortedIndices, packed.unsortedIndices].map((t) => t?.toNested())).toEqual([[4, 1, 3, 5, 2, 6], [3, 2, 1], [2, 0, 1], [1, 2, 0]]);
      expect([packed.data.dtype, packed.batchSizes.dtype, packed.batchSizes.device]).toEqual(['int64', 'int64', 'cpu']);
      const [unpacked, lens] = R.padPackedSequence(packed, { batchFirst: true });
      expect([unpacked.toNested(), lens.toNested(), lens.dtype]).toEqual([[[1, 2, 0], [3, 0, 0], [4, 5, 6]], [2, 1, 3], 'int64']);
      // pack_sequence's and unpack_sequence's
      const abc = [tensor([1n, 2n, 3n]), tensor([4n, 5n]), tensor([6n])];
      const p = R.packSequence(abc);
      expect([p.data.toNested(), p.batchSizes.toNested(), p.sortedIndices, p.unsortedIndices]).toEqual([[1, 4, 6, 2, 5, 3], [3, 2, 1], null, null]);
      expect(R.unpackSequence(p).map((t) => t.toNested())).toEqual([[1, 2, 3], [4, 5], [6]]);
      // pad_sequence's and unpad_sequence's
      const [a, b, c] = [randn([25, 30]), randn([22, 30]), randn([15, 30])];
      const padded = R.padSequence([a, b, c]);
      expect(padded.shape).toEqual([25, 3, 30]);
      const back = R.unpadSequence(padded, tensor([25n, 22n, 15n]));
      [a, b, c].forEach((t, i) => expect(back[i].allclose(t)).toBe(true));
      expect(padded.shape).toEqual([25, 3, 30]); // not transposed in place (PyTorch 1.13's is)
      // the namedtuple's fields, in order
      const [data, batchSizes, sortedIndices, unsortedIndices] = packed;
      expect(data).toBe(packed.data);
      expect(batchSizes).toBe(packed.batchSizes);
      expect(sortedIndices).toBe(packed.sortedIndices);
      expect(unsortedIndices).toBe(packed.unsortedIndices);
      expect(R.invertPermutation(tensor([2n, 0n, 3n, 1n]))?.toNested()).toEqual([1, 3, 0, 2]);
      expect(R.invertPermutation(null)).toBeNull();
      // a Tensor stands for its slices along dimension 0; paddingValue may be -Infinity
      expect(R.padSequence(tensor([[1, 2], [3, 4]]), { batchFirst: false }).toNested()).toEqual([[1, 3], [2, 4]]);
      expect(R.padSequence([tensor([1]), tensor([2, 3])], { batchFirst: true, paddingValue: -Infinity }).toNested()).toEqual([[1, -Infinity], [2, 3]]);
    });
    expect(memory().tensors).toBe(before);
  });

  it('a PackedSequence owns its tensors: tidy keeps the one returned and disposes the rest; dispose, keep and to', () => {
    const before = memory().tensors;
    let dropped: PackedSequence | null = null;
    const kept = tidy(() => {
      dropped = R.packSequence([tensor([1, 2, 3]), tensor([4])]);
      return { packed: R.packSequence([tensor([5, 6]), tensor([7, 8, 9])], { enforceSorted: false }) };
    }).packed;
    expect((dropped as unknown as PackedSequence).isDisposed).toBe(true);
    expect(kept.isDisposed).toBe(false);
    expect([kept.data.toNested(), kept.sortedIndices?.toNested(), kept.unsortedIndices?.toNested()]).toEqual([[7, 5, 8, 6, 9], [1, 0], [1, 0]]);
    expect(memory().tensors).toBe(before + 4);
    // to: itself when nothing changes (as PyTorch's), else a new PackedSequence with its own tensors
    expect(kept.to('float32')).toBe(kept);
    expect(kept.cpu()).toBe(kept);
    expect(kept.isCuda).toBe(false);
    const doubled = kept.double();
    expect([doubled.data.dtype, doubled.batchSizes.toNested(), doubled.sortedIndices?.toNested(), doubled.unsortedIndices?.toNested()]).toEqual(['float64', [2, 2, 1], [1, 0], [1, 0]]);
    kept.dispose();
    expect([kept.isDisposed, kept.batchSizes.isDisposed, kept.sortedIndices?.isDisposed, doubled.isDisposed]).toEqual([true, true, true, false]);
    expect(vals(doubled.data)).toEqual([7, 5, 8, 6, 9]);
    doubled[Symbol.dispose]();
    kept.dispose(); // idempotent
    expect(memory().tensors).toBe(before);
    // keep() takes one out of every scope; the constructor takes its tensors out of them
    let escaped: PackedSequence | null = null;
    tidy(() => {
      escaped = keep(new R.PackedSequence(tensor([1, 2, 3]), tensor([2n, 1n]), tensor([1n, 0n])));
    });
    const e = escaped as unknown as PackedSequence;
    expect([e.isDisposed, e.unsortedIndices?.toNested()]).toEqual([false, [1, 0]]);
    e.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('recurrent layers on packed input: each sequence gets what it gets alone; the padding is never computed; states in the original order', () => {
    manualSeed(5);
    const lstm = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, dtype: D });
    const gru = new nn.GRU(3, 4, { bidirectional: true, batchFirst: true, dtype: D });
    const before = memory().tensors;
    try {
      tidy(() => {
        const lengths = [3, 5, 2, 5];
        const x = randn([5, 4, 3], { dtype: D });
        const h0 = randn([4, 4, 4], { dtype: D });
        const c0 = randn([4, 4, 4], { dtype: D });
        const [out, [hN, cN]] = lstm.forward(R.packPaddedSequence(x, lengths, { enforceSorted: false }), [h0, c0]);
        expect([out.data.shape, out.batchSizes.toNested(), hN.shape, cN.shape]).toEqual([[15, 8], [4, 4, 3, 2, 2], [4, 4, 4], [4, 4, 4]]);
        const [padded, lens] = R.padPackedSequence(out, { paddingValue: 7 });
        expect(lens.toNested()).toEqual(lengths);
        lengths.forEach((L, b) => {
          const [o, [h, c]] = lstm.forward(x.select(1, b).narrow(0, 0, L), [h0.select(1, b), c0.select(1, b)]);
          expect(maxDiff(vals(padded.select(1, b).narrow(0, 0, L)), vals(o)), `sequence ${b}`).toBeLessThan(1e-12);
          if (L < 5) expect(vals(padded.select(1, b).narrow(0, L, 5 - L)).every((v) => v === 7)).toBe(true);
          expect(maxDiff(vals(hN.select(1, b)), vals(h))).toBeLessThan(1e-12);
          expect(maxDiff(vals(cN.select(1, b)), vals(c))).toBeLessThan(1e-12);
        });
        // GRU, batchFirst, zero states; the output keeps the input's permutations (its own copies)
        const packed = R.packPaddedSequence(x.transpose(0, 1), lengths, { batchFirst: true, enforceSorted: false });
        const [gOut, gh] = gru.forward(packed);
        expect([gOut.sortedIndices?.toNested(), gOut.unsortedIndices?.toNested()]).toEqual([packed.sortedIndices?.toNested(), packed.unsortedIndices?.toNested()]);
        expect(gOut.batchSizes).not.toBe(packed.batchSizes);
        const [gPadded] = R.padPackedSequence(gOut, { batchFirst: true });
        lengths.forEach((L, b) => {
          const [o, h] = gru.forward(x.select(1, b).narrow(0, 0, L));
          expect(maxDiff(vals(gPadded.select(0, b).narrow(0, 0, L)), vals(o))).toBeLessThan(1e-12);
          expect(maxDiff(vals(gh.select(1, b)), vals(h))).toBeLessThan(1e-12);
        });
        packed.dispose();
        expect(gOut.batchSizes.toNested()).toEqual([4, 4, 3, 2, 2]); // not shared with the input
      });
      expect(memory().tensors).toBe(before);
    } finally {
      lstm.dispose();
      gru.dispose();
    }
  });

  it('parametersToVector and vectorToParameters: a round trip; the vector records autograd, the copy back does not', () => {
    manualSeed(6);
    const net = new nn.Sequential(new nn.Linear(3, 2), new nn.Linear(2, 4, { bias: false }));
    const before = memory().tensors;
    try {
      tidy(() => {
        const ps = net.parameters();
        const v = nn.utils.parametersToVector(ps);
        expect([v.shape, v.requiresGrad]).toEqual([[6 + 2 + 8], true]);
        expect(vals(v)).toEqual(ps.flatMap((p) => vals(p)));
        v.mul(tensor(Float64Array.from({ length: 16 }, (_, i) => i), { dtype: 'float32' })).sum().backward();
        expect(ps.flatMap((p) => vals(p.grad as Tensor))).toEqual(Array.from({ length: 16 }, (_, i) => i));
        nn.utils.vectorToParameters(v.mul(2), ps.values()); // any iterable
        expect(maxDiff(vals(nn.utils.parametersToVector(ps)), vals(v).map((x) => 2 * x))).toBeLessThan(1e-6);
        expect(ps.every((p) => p.isLeaf && p.requiresGrad && p.gradFn === null)).toBe(true);
        // clipping is still there
        expect(nn.utils.clipGradNorm_(ps, 1e9).item()).toBeGreaterThan(0);
      });
      expect(memory().tensors).toBe(before);
    } finally {
      net.dispose();
    }
  });
});

describe('torch.nn.utils.rnn and packed recurrent forward: argument errors', () => {
  it('name the function, the argument, what was expected and what was received; nothing is left behind', () => {
    const lstm = new nn.LSTM(3, 4, { dtype: D });
    const gru = new nn.GRU(3, 4, { numLayers: 2 });
    const before = memory().tensors;
    try {
      tidy(() => {
        const x = zeros([5, 4, 3]);
        const cases: ErrorCase[] = [
          // packPaddedSequence
          [() => R.packPaddedSequence(x, [2, 5, 3, 1]), RangeError, /^packPaddedSequence: expected lengths sorted in decreasing order when enforceSorted is true, but lengths\[1\] \(5\) > lengths\[0\] \(2\); pass enforceSorted: false/],
          [() => R.packPaddedSequence(x, [5, 0, 0, 0], { enforceSorted: false }), RangeError, /^packPaddedSequence: expected every length in \[1, 5\] \(5 is the padded length of input\) but lengths\[1\] is 0/],
          [() => R.packPaddedSequence(x, [6, 5, 3, 1]), RangeError, /^packPaddedSequence: expected every length in \[1, 5\] .* but lengths\[0\] is 6/],
          [() => R.packPaddedSequence(x, [5, 4]), RangeError, /^packPaddedSequence: expected 4 lengths \(one per sequence of input\) but received 2/],
          [() => R.packPaddedSequence(x, tensor([5n, 4n, 3n]), { batchFirst: true }), RangeError, /^packPaddedSequence: expected 5 lengths \(one per sequence of input\) but received 3/],
          [() => R.packPaddedSequence(x, [5, 4, 2.5, 1]), TypeError, /^packPaddedSequence: expected an integer for lengths\[2\] but received 2\.5/],
          [() => R.packPaddedSequence(x, 'abc' as never), TypeError, /^packPaddedSequence: expected an array of integers or a 1-d integer CPU Tensor for lengths but received "abc"/],
          [() => R.packPaddedSequence(x, tensor([5, 4, 3, 1])), TypeError, /^packPaddedSequence: expected an array of integers or a 1-d integer CPU Tensor for lengths but received a float32 tensor of shape \[4\]/],
          [() => R.packPaddedSequence([1, 2] as never, [1]), TypeError, /^packPaddedSequence: expected a Tensor for input but received \[1, 2\]/],
          [() => R.packPaddedSequence(zeros([5]), [5]), RangeError, /^packPaddedSequence: expected at least 2 dimensions \(T, B, \*\) for input but received shape \[5\]/],
          [() => R.packPaddedSequence(x, [5, 4, 3, 1], { batch_first: true } as never), TypeError, /^packPaddedSequence: unknown option 'batch_first'; did you mean 'batchFirst'\?/],
          [() => R.packPaddedSequence(x, [5, 4, 3, 1], { enforceSorted: 'no' as never }), TypeError, /^packPaddedSequence: expected a boolean for enforceSorted but received "no"/],
          // padPackedSequence
          [() => R.padPackedSequence(x as never), TypeError, /^padPackedSequence: expected a PackedSequence for sequence but received a Tensor/],
          [() => R.padPackedSequence(R.packPaddedSequence(x, [5, 4, 3, 1]), { totalLength: 4 }), RangeError, /^padPackedSequence: expected totalLength to be at least the length of the longest sequence \(5\) but received 4/],
          [() => R.padPackedSequence(R.packPaddedSequence(x, [5, 4, 3, 1]), { totalLength: 6.5 }), TypeError, /^padPackedSequence: expected an integer for totalLength but received 6\.5/],
          [() => R.padPackedSequence(R.packPaddedSequence(x, [5, 4, 3, 1]), { paddingValue: '0' as never }), TypeError, /^padPackedSequence: expected a number for paddingValue but received "0"/],
          [() => R.padPackedSequence(R.packPaddedSequence(x, [5, 4, 3, 1]), { total_length: 6 } as never), TypeError, /^padPackedSequence: unknown option 'total_length'; did you mean 'totalLength'\?/],
          // padSequence, packSequence, unpadSequence, unpackSequence
          [() => R.padSequence([]), RangeError, /^padSequence: expected at least one sequence but received an empty array/],
          [() => R.padSequence([zeros([3, 2]), zeros([4, 3])]), RangeError, /^padSequence: expected shape \(L, 2\) \(the trailing dimensions of sequences\[0\]\) for sequences\[1\] but received shape \[4, 3\]/],
          [() => R.padSequence([zeros([3]), zeros([2], { dtype: D })]), TypeError, /^padSequence: expected sequences\[1\] of sequences\[0\]'s dtype float32 but received float64/],
          [() => R.padSequence([zeros([3]), 4 as never]), TypeError, /^padSequence: expected a Tensor for sequences\[1\] but received 4/],
          [() => R.padSequence('ab' as never), TypeError, /^padSequence: expected an array of Tensors for sequences but received "ab"/],
          [() => R.padSequence([zeros([3])], { padding_value: 1 } as never), TypeError, /^padSequence: unknown option 'padding_value'; did you mean 'paddingValue'\?/],
          [() => R.packSequence([zeros([2]), zeros([3])]), RangeError, /^packSequence: expected lengths sorted in decreasing order when enforceSorted is true, but lengths\[1\] \(3\) > lengths\[0\] \(2\)/],
          [() => R.packSequence([zeros([2]), zeros([0])]), RangeError, /^packSequence: expected at least one step \(a length of 0 cannot be packed\) for sequences\[1\] but received shape \[0\]/],
          [() => R.packSequence([zeros([2])], { batchFirst: true } as never), TypeError, /^packSequence: unknown option 'batchFirst' \(known: enforceSorted\)/],
          [() => R.unpadSequence(x, [5, 4, 6, 0]), RangeError, /^unpadSequence: expected every length in \[0, 5\] \(5 is the padded length of paddedSequences\) but lengths\[2\] is 6/],
          [() => R.unpadSequence(x, [5, 4, 3]), RangeError, /^unpadSequence: expected 4 lengths \(one per sequence of paddedSequences\) but received 3/],
          [() => R.unpackSequence([x] as never), TypeError, /^unpackSequence: expected a PackedSequence for packedSequences but received \[/],
          // PackedSequence, invertPermutation
          [() => new R.PackedSequence(x, tensor([4, 4])), TypeError, /^PackedSequence: expected a 1-d int64 CPU tensor for batchSizes but received a float32 tensor of shape \[2\]/],
          [() => new R.PackedSequence(x, tensor([4n]), tensor([[0n]])), TypeError, /^PackedSequence: expected a 1-d int64 tensor for sortedIndices but received a int64 tensor of shape \[1, 1\]/],
          [() => R.invertPermutation(tensor([1, 0])), TypeError, /^invertPermutation: expected a 1-d int64 tensor for permutation but received a float32 tensor/],
          // recurrent layers on packed input
          [() => lstm.forward(R.packPaddedSequence(zeros([5, 4, 2], { dtype: D }), [5, 4, 3, 1])), RangeError, /^LSTM\.forward: expected a last dimension of 3 \(inputSize\) for input\.data but received shape \[13, 2\]/],
          [() => lstm.forward(R.packPaddedSequence(x, [5, 4, 3, 1])), TypeError, /^LSTM\.forward: expected input\.data of the module's dtype float64 but received float32/],
          [() => lstm.forward(R.packPaddedSequence(x.double(), [5, 4, 3, 1]), [zeros([1, 3, 4], { dtype: D }), zeros([1, 4, 4], { dtype: D })]), RangeError, /^LSTM\.forward: expected shape \[1, 4, 4\] \(numLayers·directions, N, hiddenSize\) for hx\[0\] but received shape \[1, 3, 4\]/],
          [() => lstm.forward(R.packPaddedSequence(x.double(), [5, 4, 3, 1]), [zeros([4, 4], { dtype: D }), zeros([4, 4], { dtype: D })]), RangeError, /^LSTM\.forward: expected shape \[1, 4, 4\] .* for hx\[0\] but received shape \[4, 4\]/],
          [() => gru.forward(R.packPaddedSequence(x, [5, 4, 3, 1]), zeros([2, 4, 4], { dtype: D })), TypeError, /^GRU\.forward: expected hx of input's dtype float32 but received float64/],
          [() => gru.forward(new R.PackedSequence(zeros([12, 3]), tensor([4n, 4n, 3n, 2n]))), RangeError, /^GRU\.forward: expected 13 rows \(the sum of input\.batchSizes\) for input\.data but received shape \[12, 3\]/],
          [() => gru.forward(new R.PackedSequence(zeros([12, 3]), tensor([4n, 4n, 5n]))), RangeError, /^GRU\.forward: expected positive, non-increasing batch sizes \(a packed sequence's\) for input\.batchSizes but received \[4, 4, 5\]/],
          [() => gru.forward(new R.PackedSequence(zeros([4, 3, 3]), tensor([4n, 4n, 4n]))), RangeError, /^GRU\.forward: expected a 2-d tensor \(sum of the lengths, H_in\): a packed sequence's data for input\.data but received shape \[4, 3, 3\]/],
          // parametersToVector, vectorToParameters
          [() => nn.utils.parametersToVector([]), RangeError, /^parametersToVector: expected at least one parameter but received none/],
          [() => nn.utils.parametersToVector(x as never), TypeError, /^parametersToVector: expected an array \(or iterable\) of Tensors for parameters but received a Tensor/],
          [() => nn.utils.parametersToVector([x, 3] as never), TypeError, /^parametersToVector: expected a Tensor for parameters\[1\] but received 3/],
          [() => nn.utils.vectorToParameters([1, 2] as never, [x]), TypeError, /^vectorToParameters: expected a Tensor for vec but received \[1, 2\]/],
          [() => nn.utils.vectorToParameters(zeros([59]), [x]), RangeError, /^vectorToParameters: expected vec of 60 elements \(the parameters' total\) but received 59/],
          [() => nn.utils.vectorToParameters(zeros([6, 10]), [x]), RangeError, /^vectorToParameters: expected a 1-d tensor for vec but received shape \[6, 10\]/],
        ];
        expectErrors(cases);
      });
      expect(memory().tensors).toBe(before);
    } finally {
      lstm.dispose();
      gru.dispose();
    }
  });
});

// ---------------------------------------------------------------- against PyTorch

describe.skipIf(!hasTorch)('torch.nn.utils.rnn and packed recurrent layers against PyTorch (needs /usr/bin/python3 with torch)', () => {
  it('packPaddedSequence, padPackedSequence, padSequence, packSequence, unpadSequence and unpackSequence give PyTorch\'s values, permutations and gradients', async () => {
    const before = memory().tensors;
    const ours = tidy(() => {
      const r: Record<string, Res> = {};
      const put = (name: string, t: Tensor | null) => (r[name] = res(t));
      const x = make('x');
      const xb = make('xb');
      const s = ['s0', 's1', 's2'].map((n) => make(n));
      const p1 = R.packPaddedSequence(x, [5, 4, 2, 1]);
      put('p1.data', p1.data); put('p1.batchSizes', p1.batchSizes); put('p1.sorted', p1.sortedIndices); put('p1.unsorted', p1.unsortedIndices);
      const p2 = R.packPaddedSequence(xb, tensor([3n, 5n, 2n, 5n]), { batchFirst: true, enforceSorted: false });
      put('p2.data', p2.data); put('p2.batchSizes', p2.batchSizes); put('p2.sorted', p2.sortedIndices); put('p2.unsorted', p2.unsortedIndices);
      const p3 = R.packPaddedSequence(x, [1, 4, 4, 2], { enforceSorted: false });
      put('p3.data', p3.data); put('p3.batchSizes', p3.batchSizes); put('p3.sorted', p3.sortedIndices); put('p3.unsorted', p3.unsortedIndices);
      const [pad1, len1] = R.padPackedSequence(p1);
      put('pad1', pad1); put('len1', len1);
      const [pad2, len2] = R.padPackedSequence(p2, { totalLength: 7, paddingValue: -1.5 });
      put('pad2', pad2); put('len2', len2);
      const [pad2b, len2b] = R.padPackedSequence(p2, { batchFirst: true });
      put('pad2b', pad2b); put('len2b', len2b);
      const ps = R.padSequence(s);
      const psb = R.padSequence(s, { batchFirst: true, paddingValue: 9 });
      put('ps', ps); put('psb', psb);
      const pk = R.packSequence(s, { enforceSorted: false });
      put('pk.data', pk.data); put('pk.batchSizes', pk.batchSizes); put('pk.sorted', pk.sortedIndices); put('pk.unsorted', pk.unsortedIndices);
      const pks = R.packSequence([s[1], s[0], s[2]]);
      put('pks.data', pks.data); put('pks.batchSizes', pks.batchSizes); put('pks.sorted', pks.sortedIndices);
      R.unpadSequence(ps, tensor([3n, 5n, 2n])).forEach((t, i) => put(`up${i}`, t));
      R.unpadSequence(psb, [3, 5, 2], { batchFirst: true }).forEach((t, i) => put(`upb${i}`, t));
      const uk = R.unpackSequence(pk);
      uk.forEach((t, i) => put(`uk${i}`, t));
      // gradients through packing and padding
      weighted(p2.data, 0).add(weighted(pad2, 1)).add(weighted(pad1, 2)).backward();
      put('grad.xb', xb.grad); put('grad.x', x.grad);
      [weighted(pk.data, 0), weighted(psb, 1), ...uk.map((t, i) => weighted(t, 2 + i))].reduce((a, b) => a.add(b)).backward();
      s.forEach((t, i) => put(`grad.s${i}`, t.grad));
      return r;
    });
    expect(memory().tensors).toBe(before);
    const theirs = JSON.parse(
      await py(`${PY_NET}
r = {}
def put(name, t): r[name] = res(t)
x, xb = T('x'), T('xb')
s = [T('s0'), T('s1'), T('s2')]
p1 = R.pack_padded_sequence(x, [5, 4, 2, 1])
put('p1.data', p1.data); put('p1.batchSizes', p1.batch_sizes); put('p1.sorted', p1.sorted_indices); put('p1.unsorted', p1.unsorted_indices)
p2 = R.pack_padded_sequence(xb, torch.tensor([3, 5, 2, 5]), batch_first=True, enforce_sorted=False)
put('p2.data', p2.data); put('p2.batchSizes', p2.batch_sizes); put('p2.sorted', p2.sorted_indices); put('p2.unsorted', p2.unsorted_indices)
p3 = R.pack_padded_sequence(x, [1, 4, 4, 2], enforce_sorted=False)
put('p3.data', p3.data); put('p3.batchSizes', p3.batch_sizes); put('p3.sorted', p3.sorted_indices); put('p3.unsorted', p3.unsorted_indices)
pad1, len1 = R.pad_packed_sequence(p1)
put('pad1', pad1); put('len1', len1)
pad2, len2 = R.pad_packed_sequence(p2, total_length=7, padding_value=-1.5)
put('pad2', pad2); put('len2', len2)
pad2b, len2b = R.pad_packed_sequence(p2, batch_first=True)
put('pad2b', pad2b); put('len2b', len2b)
ps = R.pad_sequence(s)
psb = R.pad_sequence(s, batch_first=True, padding_value=9)
put('ps', ps); put('psb', psb)
pk = R.pack_sequence(s, enforce_sorted=False)
put('pk.data', pk.data); put('pk.batchSizes', pk.batch_sizes); put('pk.sorted', pk.sorted_indices); put('pk.unsorted', pk.unsorted_indices)
pks = R.pack_sequence([s[1], s[0], s[2]])
put('pks.data', pks.data); put('pks.batchSizes', pks.batch_sizes); put('pks.sorted', pks.sorted_indices)
for i, t in enumerate(R.unpad_sequence(ps.clone(), torch.tensor([3, 5, 2]))): put('up%d' % i, t)
for i, t in enumerate(R.unpad_sequence(psb, torch.tensor([3, 5, 2]), batch_first=True)): put('upb%d' % i, t)
uk = R.unpack_sequence(pk)
for i, t in enumerate(uk): put('uk%d' % i, t)
((p2.data * weighting(p2.data, 0)).sum() + (pad2 * weighting(pad2, 1)).sum() + (pad1 * weighting(pad1, 2)).sum()).backward()
put('grad.xb', xb.grad); put('grad.x', x.grad)
sum([(pk.data * weighting(pk.data, 0)).sum(), (psb * weighting(psb, 1)).sum()] + [(t * weighting(t, 2 + i)).sum() for i, t in enumerate(uk)]).backward()
for i, t in enumerate(s): put('grad.s%d' % i, t.grad)
print(json.dumps(r))
`, JSON.stringify({ inputs: INPUTS })),
    ) as Record<string, Res>;
    expectResults(ours, theirs, 1e-12);
  }, 60_000);

  it("LSTM, GRU and RNN (2 layers, bidirectional; sorted and unsorted; with and without states) on packed input give PyTorch's packed output, final states and gradients; parametersToVector and vectorToParameters give its vectors", async () => {
    manualSeed(7);
    const before = memory().tensors;
    const net = new Net();
    try {
      net.eval();
      const file = path.join(tmp, 'net.pt');
      tidy(() => saveStateDict(file, net.stateDict()));
      const ours = runCases(net);
      // parameters to one vector, and a vector back into the GRU's parameters
      const nGru = tidy(() => net.gru.parameters().reduce((n, p) => n + p.numel(), 0));
      const vec = Array.from({ length: nGru }, (_, i) => Math.cos(0.37 * i));
      const vectors = tidy(() => {
        const all = res(nn.utils.parametersToVector(net.parameters()));
        nn.utils.vectorToParameters(tensor(Float64Array.from(vec), { dtype: D }), net.gru.parameters());
        const after = Object.fromEntries(Object.entries(net.gru.stateDict()).map(([k, t]) => [k, res(t)]));
        return { all, gru: res(nn.utils.parametersToVector(net.gru.parameters())), ...after };
      });
      const theirs = JSON.parse(
        await py(`${PY_NET}${PY_RUN_CASES}
net = Net()
net.load_state_dict(torch.load(inp['file']), strict=True)
net.eval()
out = {'cases': run_cases(net)}
v = {'all': res(parameters_to_vector(net.parameters()))}
vector_to_parameters(torch.tensor(inp['vec'], dtype=D), net.gru.parameters())
v['gru'] = res(parameters_to_vector(net.gru.parameters()))
for k, t in net.gru.state_dict().items(): v[k] = res(t)
out['vectors'] = v
print(json.dumps(out))
`, JSON.stringify({ inputs: INPUTS, cases: CASES, file, vec })),
      ) as { cases: Record<string, CaseRun>; vectors: Record<string, Res> };
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs.cases).sort());
      for (const c of CASES) {
        expect(theirs.cases[c.name].sorted === null, c.name).toBe(c.enforceSorted);
        expectResults(ours[c.name], theirs.cases[c.name], 1e-10);
      }
      expectResults(vectors, theirs.vectors, 0);
    } finally {
      net.dispose();
    }
    expect(memory().tensors).toBe(before);
  }, 120_000);
});
