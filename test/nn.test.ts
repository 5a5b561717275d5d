// Modules (lib/nn): layer values against hand-computed references (JS loops in float64), containers,
// modes, dtype/layout conversion, parameters and state dicts, initialisation, async forward, disposal.
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Generator, Tensor, manualSeed, nn, noGrad, randn, saveStateDict, tensor, tidy, zeros, type DType } from '../lib';
import { hasTorch, py } from './helpers/torchpy';
import { rng } from './helpers/random';

// ---------------------------------------------------------------- helpers

/** n values uniform in [-1, 1), deterministic. */
function uniform(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => 2 * r() - 1);
}
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const vals = (t: Tensor): number[] => Array.from(t.toArray() as ArrayLike<number>);
const T = (v: number[], shape: number[], dtype: DType = 'float32', requiresGrad = false) => tensor(Float64Array.from(v), { shape, dtype, requiresGrad });
/** Values rounded to float32, for references computed from what a float32 tensor actually holds. */
const f32 = (v: number[]) => Array.from(Float32Array.from(v));

function expectClose(actual: number[], expected: number[], tol = 1e-5, what = 'value'): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) {
      expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

/** Sets a module's parameters and buffers by name (without recording gradients). */
function setValues(m: nn.Module, values: Record<string, number[]>): void {
  tidy(() =>
    noGrad(() => {
      const sd = m.stateDict();
      for (const [k, v] of Object.entries(values)) {
        expect(sd[k], `state dict has ${k}`).toBeDefined();
        sd[k].copy_(T(v, sd[k].shape, sd[k].dtype));
      }
    }),
  );
}

/** Direct 2-d convolution in float64: x (N, Cin, H, W), w (Cout, Cin/groups, K, K). */
function conv2dRef(
  x: number[], xs: number[], w: number[], cout: number, k: number, b: number[] | null,
  o: { stride?: number; padding?: number; dilation?: number; groups?: number } = {},
): { y: number[]; shape: number[] } {
  const [N, Cin, H, W] = xs;
  const s = o.stride ?? 1, p = o.padding ?? 0, d = o.dilation ?? 1, g = o.groups ?? 1;
  const cinG = Cin / g, coutG = cout / g;
  const Ho = Math.floor((H + 2 * p - d * (k - 1) - 1) / s) + 1;
  const Wo = Math.floor((W + 2 * p - d * (k - 1) - 1) / s) + 1;
  const y: number[] = [];
  for (let n = 0; n < N; n++)
    for (let co = 0; co < cout; co++) {
      const grp = Math.floor(co / coutG);
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let acc = b ? b[co] : 0;
          for (let ci = 0; ci < cinG; ci++)
            for (let ki = 0; ki < k; ki++)
              for (let kj = 0; kj < k; kj++) {
                const r = i * s - p + ki * d, c = j * s - p + kj * d;
                if (r < 0 || r >= H || c < 0 || c >= W) continue;
                acc += x[((n * Cin + grp * cinG + ci) * H + r) * W + c] * w[((co * cinG + ci) * k + ki) * k + kj];
              }
          y.push(acc);
        }
    }
  return { y, shape: [N, cout, Ho, Wo] };
}

afterEach(() => manualSeed(0));

// ---------------------------------------------------------------- layers

describe('Conv2d', () => {
  const cases = [
    { name: 'stride 2, padding 1, bias', cin: 2, cout: 3, k: 3, o: { stride: 2, padding: 1 }, bias: true, xs: [2, 2, 5, 6] },
    { name: 'dilation 2, groups 2, no bias', cin: 4, cout: 2, k: 2, o: { dilation: 2, groups: 2 }, bias: false, xs: [1, 4, 5, 5] },
  ];
  for (const c of cases) {
    it(`matches a direct convolution (${c.name})`, () => {
      const m = new nn.Conv2d(c.cin, c.cout, c.k, { ...c.o, bias: c.bias });
      try {
        const wShape = [c.cout, c.cin / (c.o.groups ?? 1), c.k, c.k];
        const w = f32(uniform(prod(wShape), 1));
        const b = c.bias ? f32(uniform(c.cout, 2)) : null;
        setValues(m, b ? { weight: w, bias: b } : { weight: w });
        expect(m.namedParameters().map(([k]) => k)).toEqual(c.bias ? ['weight', 'bias'] : ['weight']);
        const xv = f32(uniform(prod(c.xs), 3));
        const ref = conv2dRef(xv, c.xs, w, c.cout, c.k, b, c.o);
        tidy(() => {
          const y = m.forward(T(xv, c.xs));
          expect(y.shape).toEqual(ref.shape);
          expectClose(vals(y), ref.y, 1e-5, 'conv');
        });
      } finally {
        m.dispose();
      }
    });
  }

  it("PyTorch's default initialisation: weight and bias uniform in ±1/√fan_in (kaiming-uniform, a = √5)", () => {
    const m = new nn.Conv2d(64, 256, 3);
    try {
      tidy(() => {
        const sd = m.stateDict();
        const bound = 1 / Math.sqrt(64 * 3 * 3); // fan_in = inChannels * k * k
        for (const [name, n] of [['weight', 256 * 64 * 9], ['bias', 256]] as const) {
          const v = vals(sd[name]);
          expect(v).toHaveLength(n);
          expect(v.every((x) => Math.abs(x) <= bound * (1 + 1e-6)), name).toBe(true);
          // Uniform on [-b, b]: mean 0, std b/√3; the extremes come close to ±b.
          const mean = v.reduce((a, x) => a + x, 0) / n;
          const std = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
          expect(Math.abs(std / (bound / Math.sqrt(3)) - 1), name).toBeLessThan(name === 'weight' ? 0.02 : 0.15);
          expect(v.reduce((a, x) => Math.max(a, Math.abs(x)), 0), name).toBeGreaterThan(0.9 * bound);
        }
      });
    } finally {
      m.dispose();
    }
  });
});

describe('Linear', () => {
  it('computes x·Wᵀ + b', () => {
    const m = new nn.Linear(5, 3);
    try {
      const W = f32(uniform(15, 4)), b = f32(uniform(3, 5)), xv = f32(uniform(20, 6));
      setValues(m, { weight: W, bias: b });
      const expected: number[] = [];
      for (let i = 0; i < 4; i++) for (let o = 0; o < 3; o++) {
        let acc = b[o];
        for (let k = 0; k < 5; k++) acc += xv[i * 5 + k] * W[o * 5 + k];
        expected.push(acc);
      }
      tidy(() => {
        const y = m.forward(T(xv, [4, 5]));
        expect(y.shape).toEqual([4, 3]);
        expectClose(vals(y), expected, 1e-6, 'linear');
      });
    } finally {
      m.dispose();
    }
  });

  it('without bias has only a weight and computes x·Wᵀ', () => {
    const m = new nn.Linear(2, 2, { bias: false });
    try {
      expect(m.namedParameters().map(([k]) => k)).toEqual(['weight']);
      setValues(m, { weight: [1, 2, 3, 4] });
      tidy(() => void expect(vals(m.forward(T([1, -1], [1, 2])))).toEqual([-1, -1]));
    } finally {
      m.dispose();
    }
  });

  it('default initialisation is bounded by 1/sqrt(inFeatures) (PyTorch default)', () => {
    const m = new nn.Linear(100, 50);
    try {
      tidy(() => {
        const w = vals(m.stateDict().weight);
        const bound = 1 / Math.sqrt(100);
        expect(w.every((v) => Math.abs(v) <= bound + 1e-7)).toBe(true);
        expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
      });
    } finally {
      m.dispose();
    }
  });
});

describe('BatchNorm2d', () => {
  const C = 2, shape = [3, C, 2, 2], S = 4, eps = 1e-5;
  const xv = f32(uniform(prod(shape), 7).map((v, i) => 3 * v + (Math.floor(i / S) % C) * 2));
  const w = [1.5, -0.5], b = [0.25, 1];

  function stats() {
    const mean = [0, 0], ss = [0, 0], m = 3 * S;
    xv.forEach((v, i) => (mean[Math.floor(i / S) % C] += v / m));
    xv.forEach((v, i) => {
      const c = Math.floor(i / S) % C;
      ss[c] += (v - mean[c]) ** 2;
    });
    return { mean, biased: ss.map((v) => v / m), unbiased: ss.map((v) => v / (m - 1)) };
  }

  it('training: batch statistics (biased variance) and running statistics with momentum 0.1 (unbiased variance)', () => {
    const m = new nn.BatchNorm2d(C);
    try {
      expect(m.training).toBe(true);
      setValues(m, { weight: w, bias: b });
      const st = stats();
      tidy(() => {
        const y = vals(m.forward(T(xv, shape)));
        const expected = xv.map((v, i) => {
          const c = Math.floor(i / S) % C;
          return ((v - st.mean[c]) / Math.sqrt(st.biased[c] + eps)) * w[c] + b[c];
        });
        expectClose(y, expected, 1e-5, 'y');
        const sd = m.stateDict();
        expectClose(vals(sd.running_mean), st.mean.map((v) => 0.1 * v), 1e-6, 'running_mean');
        expectClose(vals(sd.running_var), st.unbiased.map((v) => 0.9 + 0.1 * v), 1e-6, 'running_var');
        expect(sd.num_batches_tracked.item()).toBe(1);
      });
    } finally {
      m.dispose();
    }
  });

  it('evaluation: running statistics, which it leaves unchanged', () => {
    const m = new nn.BatchNorm2d(C, { eps: 1e-3 });
    try {
      setValues(m, { weight: w, bias: b, running_mean: [0.5, -1], running_var: [4, 0.25] });
      m.eval();
      tidy(() => {
        const y = vals(m.forward(T(xv, shape)));
        const expected = xv.map((v, i) => {
          const c = Math.floor(i / S) % C;
          return ((v - [0.5, -1][c]) / Math.sqrt([4, 0.25][c] + 1e-3)) * w[c] + b[c];
        });
        expectClose(y, expected, 1e-5, 'y');
        expect(vals(m.stateDict().running_mean)).toEqual([0.5, -1]);
      });
    } finally {
      m.dispose();
    }
  });

  it('BatchNorm1d normalises (N, C) over the batch', () => {
    const m = new nn.BatchNorm1d(2, { affine: false });
    try {
      expect(m.namedParameters()).toHaveLength(0);
      tidy(() => {
        const y = vals(m.forward(T([1, 10, 3, 20], [2, 2])));
        // channel 0: {1, 3}, mean 2, biased variance 1; channel 1: {10, 20}, mean 15, biased variance 25.
        const e = 1e-5;
        expectClose(y, [-1 / Math.sqrt(1 + e), -5 / Math.sqrt(25 + e), 1 / Math.sqrt(1 + e), 5 / Math.sqrt(25 + e)], 1e-6, 'bn1d');
      });
    } finally {
      m.dispose();
    }
  });
});

describe("layers' PyTorch attributes: weight, bias, running statistics", () => {
  it('are the parameters and buffers themselves (writes through them change the layer; gradients arrive on them)', () => {
    tidy(() => {
      const lin = new nn.Linear(2, 3);
      expect(lin.weight!.shape).toEqual([3, 2]);
      expect(lin.bias!.shape).toEqual([3]);
      noGrad(() => {
        lin.weight!.copy_(T([1, 2, 3, 4, 5, 6], [3, 2]));
        lin.bias!.fill_(0.5);
      });
      const y = lin.forward(T([1, -1], [1, 2]));
      expect(vals(y)).toEqual([-0.5, -0.5, -0.5]);
      y.sum().backward();
      expect(vals(lin.weight!.grad!)).toEqual([1, -1, 1, -1, 1, -1]);
      expect(vals(lin.bias!.grad!)).toEqual([1, 1, 1]);
      expect(vals(lin.stateDict().weight)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(new nn.Conv2d(1, 2, 3, { bias: false }).bias).toBeNull();
      expect(new nn.Conv2d(1, 2, 3).weight!.shape).toEqual([2, 1, 3, 3]);
    });
  });

  it('normalisation layers expose runningMean, runningVar and numBatchesTracked (null where not kept)', () => {
    tidy(() => {
      for (const m of [new nn.BatchNorm2d(2), new nn.IC(2, { dropRate: 0.1 })]) {
        m.forward(T([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]));
        // channel 0 holds 1, 2, 5, 6 (mean 3.5), channel 1 holds 3, 4, 7, 8 (mean 5.5): 0.1 of each after one batch
        expectClose(vals(m.runningMean!), [0.35, 0.55], 1e-6, 'runningMean');
        expect(m.runningVar!.shape).toEqual([2]);
        expect(m.numBatchesTracked!.item()).toBe(1);
        expect(m.weight!.shape).toEqual([2]);
      }
      const bare = new nn.BatchNorm1d(3, { affine: false, trackRunningStats: false });
      expect([bare.weight, bare.bias, bare.runningMean, bare.runningVar, bare.numBatchesTracked]).toEqual([null, null, null, null, null]);
      const d = new nn.Linear(1, 1);
      d.dispose();
      expect(() => d.weight).toThrow(/^Linear.weight: the module has been disposed/);
    });
  });
});

describe('Dropout, ReLU, pooling, Flatten, Identity', () => {
  it('Dropout zeroes elements and scales the rest by 1/(1-p) in training, and is the identity in evaluation', () => {
    const m = new nn.Dropout(0.25);
    try {
      tidy(() => {
        const n = 4000;
        const xv = f32(uniform(n, 8).map((v) => v + 2)); // never 0
        const x = T(xv, [n]);
        const y = vals(m.forward(x));
        let zeros = 0;
        y.forEach((v, i) => {
          if (v === 0) zeros++;
          else expect(Math.abs(v - xv[i] / 0.75)).toBeLessThan(1e-5 * Math.abs(v));
        });
        expect(Math.abs(zeros - 0.25 * n)).toBeLessThan(5 * Math.sqrt(n * 0.25 * 0.75));
        m.eval();
        expect(vals(m.forward(x))).toEqual(xv);
      });
    } finally {
      m.dispose();
    }
  });

  it('ReLU is max(x, 0)', () => {
    const m = new nn.ReLU();
    try {
      tidy(() => void expect(vals(m.forward(T([-2, -0.5, 0, 0.5, 3], [5])))).toEqual([0, 0, 0, 0.5, 3]));
    } finally {
      m.dispose();
    }
  });

  const grid = Array.from({ length: 16 }, (_, i) => i); // 4x4: row r, column c holds 4r + c
  const run = (m: nn.Module, v: number[], shape: number[]) => {
    try {
      return tidy(() => {
        const y = m.forward(T(v, shape));
        return { shape: y.shape, y: vals(y) };
      });
    } finally {
      m.dispose();
    }
  };

  it('MaxPool2d: kernel 2 (stride = kernel) and kernel 3 stride 2 padding 1', () => {
    expect(run(new nn.MaxPool2d(2), grid, [1, 1, 4, 4])).toEqual({ shape: [1, 1, 2, 2], y: [5, 7, 13, 15] });
    // Windows rows/cols {-1,0,1} and {1,2,3}: the maxima are the bottom-right elements inside the grid.
    expect(run(new nn.MaxPool2d(3, { stride: 2, padding: 1 }), grid, [1, 1, 4, 4])).toEqual({ shape: [1, 1, 2, 2], y: [5, 7, 13, 15] });
    expect(run(new nn.MaxPool2d(2), grid.map((v) => -v), [1, 1, 4, 4]).y).toEqual([-0, -2, -8, -10]);
  });

  it('AvgPool2d: kernel 2, and kernel 3 stride 1', () => {
    expect(run(new nn.AvgPool2d(2), grid, [1, 1, 4, 4])).toEqual({ shape: [1, 1, 2, 2], y: [2.5, 4.5, 10.5, 12.5] });
    const r = run(new nn.AvgPool2d(3, { stride: 1 }), grid, [1, 1, 4, 4]);
    expect(r.shape).toEqual([1, 1, 2, 2]);
    // Mean of a 3x3 window = its centre for this linear grid.
    expectClose(r.y, [5, 6, 9, 10], 1e-6, 'avg');
  });

  it('AdaptiveAvgPool2d: global (1) and (2, 1)', () => {
    const two = [...grid, ...grid.map((v) => 2 * v)];
    expect(run(new nn.AdaptiveAvgPool2d(1), two, [1, 2, 4, 4])).toEqual({ shape: [1, 2, 1, 1], y: [7.5, 15] });
    expect(run(new nn.AdaptiveAvgPool2d([2, 1]), grid, [1, 1, 4, 4])).toEqual({ shape: [1, 1, 2, 1], y: [3.5, 11.5] });
    // null keeps that input size (PyTorch's None): row means
    expect(run(new nn.AdaptiveAvgPool2d([null, 1]), grid, [1, 1, 4, 4])).toEqual({ shape: [1, 1, 4, 1], y: [1.5, 5.5, 9.5, 13.5] });
    expect(run(new nn.AdaptiveAvgPool2d([1, null]), grid, [1, 1, 4, 4])).toEqual({ shape: [1, 1, 1, 4], y: [6, 7, 8, 9] });
  });

  it('ceilMode rounds the output size up: a 5x5 input under kernel 2 gives 3x3 (the last window is partial)', () => {
    const g5 = Array.from({ length: 25 }, (_, i) => i);
    expect(run(new nn.MaxPool2d(2, { ceilMode: true }), g5, [1, 1, 5, 5])).toEqual({ shape: [1, 1, 3, 3], y: [6, 8, 9, 16, 18, 19, 21, 23, 24] });
    expect(run(new nn.MaxPool2d(2), g5, [1, 1, 5, 5]).shape).toEqual([1, 1, 2, 2]);
    // average over the part of each window inside the input (padding 0)
    expect(run(new nn.AvgPool2d(2, { ceilMode: true }), g5, [1, 1, 5, 5])).toEqual({ shape: [1, 1, 3, 3], y: [3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24] });
  });

  it('Flatten keeps the element order; default dims 1..-1', () => {
    const v = Array.from({ length: 24 }, (_, i) => i);
    expect(run(new nn.Flatten(), v, [2, 3, 2, 2])).toEqual({ shape: [2, 12], y: v });
    expect(run(new nn.Flatten(0), v, [2, 3, 2, 2]).shape).toEqual([24]);
    expect(run(new nn.Flatten(1, 2), v, [2, 3, 2, 2]).shape).toEqual([2, 6, 2]);
  });

  it('Identity returns its input', () => {
    expect(run(new nn.Identity(), [1, -2, 3], [3])).toEqual({ shape: [3], y: [1, -2, 3] });
  });

  it('PadShortcut subsamples by the stride and zero-pads the channels', () => {
    const r = run(new nn.PadShortcut(2, 3), grid, [1, 1, 4, 4]);
    expect(r.shape).toEqual([1, 3, 2, 2]);
    expect(r.y).toEqual([0, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

// ---------------------------------------------------------------- containers

describe('Sequential and Residual', () => {
  it('Sequential names: an array is numbered, pairs and objects keep their names', () => {
    const a = new nn.Sequential([new nn.ReLU(), new nn.Identity(), new nn.Linear(2, 2)]);
    const b = new nn.Sequential([['act', new nn.ReLU()], ['fc', new nn.Linear(2, 2)]]);
    const c = new nn.Sequential({ first: new nn.Identity(), second: new nn.Linear(2, 2) });
    const d = new nn.Sequential(new nn.ReLU(), new nn.Linear(2, 2)); // PyTorch's nn.Sequential(a, b)
    try {
      expect(d.namedParameters().map(([k]) => k)).toEqual(['1.weight', '1.bias']);
      expect(() => new nn.Sequential(new nn.ReLU(), 3 as never)).toThrow(/Sequential: expected a Module for children\[1\]/);
      expect(() => new nn.Sequential(...([[new nn.ReLU()], [new nn.ReLU()]] as never[]))).toThrow(/Sequential: expected modules \(Sequential\(a, b\)\) or one array/);
      expect(a.namedChildren().map(([k]) => k)).toEqual(['0', '1', '2']);
      expect(a.namedParameters().map(([k]) => k)).toEqual(['2.weight', '2.bias']);
      expect(b.namedChildren().map(([k]) => k)).toEqual(['act', 'fc']);
      expect(b.namedParameters().map(([k]) => k)).toEqual(['fc.weight', 'fc.bias']);
      expect(c.namedChildren().map(([k, m]) => [k, m.kind])).toEqual([['first', 'identity'], ['second', 'linear']]);
      expect(() => new nn.Sequential([['x', new nn.ReLU()], ['x', new nn.ReLU()]])).toThrow(/"x"/);
      expect(() => new nn.Sequential([['a.b', new nn.ReLU()]])).toThrow(/a\.b/);
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
      d.dispose();
    }
  });

  it('Sequential runs its children in order', () => {
    const lin = new nn.Linear(2, 2, { bias: false });
    setValues(lin, { weight: [1, 0, 0, -1] }); // (a, b) -> (a, -b)
    const m = new nn.Sequential([new nn.ReLU(), lin]);
    try {
      // relu then negate the second: (-1, 2) -> (0, 2) -> (0, -2); the other order would give (0, 0).
      tidy(() => void expect(vals(m.forward(T([-1, 2], [1, 2])))).toEqual([0, -2]));
    } finally {
      m.dispose();
      lin.dispose();
    }
  });

  it('Residual without shortcut computes body(x) + x', () => {
    const m = new nn.Residual([['relu', new nn.ReLU()]]);
    try {
      expect(m.kind).toBe('residual');
      tidy(() => void expect(vals(m.forward(T([-1, 2, -3, 4], [2, 2])))).toEqual([-1, 4, -3, 8]));
    } finally {
      m.dispose();
    }
  });

  it('Residual with a shortcut and post layers computes post(body(x) + shortcut(x))', () => {
    const body = new nn.Linear(2, 2);
    const short = new nn.Linear(2, 2, { bias: false });
    setValues(body, { weight: [1, 2, 3, 4], bias: [0.5, -10] });
    setValues(short, { weight: [0, 1, 1, 0] });
    const m = new nn.Residual([['fc', body]], short, [['relu', new nn.ReLU()]]);
    try {
      expect(m.namedChildren().map(([k]) => k)).toEqual(['fc', 'downsample', 'relu']);
      expect(m.namedParameters().map(([k]) => k)).toEqual(['fc.weight', 'fc.bias', 'downsample.weight']);
      const x = [1, 2];
      // body: (1 + 4 + 0.5, 3 + 8 - 10) = (5.5, 1); shortcut: (2, 1); sum (7.5, 2) -> relu.
      // With x = (-1, -2): body (-5 + 0.5, -11 - 10) = (-4.5, -21); shortcut (-2, -1); sum (-6.5, -22) -> 0.
      tidy(() => {
        expect(vals(m.forward(T([...x, -1, -2], [2, 2])))).toEqual([7.5, 2, 0, 0]);
      });
    } finally {
      m.dispose();
      body.dispose();
      short.dispose();
    }
  });

  it('Residual with plain arrays numbers body and post layers in one sequence', () => {
    const m = new nn.Residual([new nn.Identity()], null, [new nn.ReLU()]);
    try {
      expect(m.namedChildren().map(([k, c]) => [k, c.kind])).toEqual([['0', 'identity'], ['1', 'relu']]);
      tidy(() => void expect(vals(m.forward(T([-1, 2], [1, 2])))).toEqual([0, 4]));
    } finally {
      m.dispose();
    }
  });

  it('Residual reports a shape mismatch between body and shortcut', () => {
    const m = new nn.Residual([new nn.Linear(2, 3)]);
    try {
      tidy(() => void expect(() => m.forward(randn([1, 2]))).toThrow(/shortcut/));
    } finally {
      m.dispose();
    }
  });
});

// ---------------------------------------------------------------- modes, dtypes, layouts

function smallNet(): nn.Sequential {
  return new nn.Sequential([
    ['conv', new nn.Conv2d(3, 4, 3, { padding: 1 })],
    ['bn', new nn.BatchNorm2d(4)],
    ['block', new nn.Sequential([['drop', new nn.Dropout(0.5)], ['ic', new nn.IC(4, { dropRate: 0.1 })]])],
    ['relu', new nn.ReLU()],
    ['pool', new nn.AdaptiveAvgPool2d(1)],
    ['flat', new nn.Flatten()],
    ['fc', new nn.Linear(4, 2)],
  ]);
}

function allModules(m: nn.Module): nn.Module[] {
  return [m, ...m.namedChildren().flatMap(([, c]) => allModules(c))];
}

describe('modes, dtypes and layouts', () => {
  it('train() and eval() propagate to every descendant', () => {
    const m = smallNet();
    try {
      expect(allModules(m).every((c) => c.training)).toBe(true);
      expect(m.eval()).toBe(m);
      expect(allModules(m).map((c) => c.training)).toEqual(allModules(m).map(() => false));
      m.train();
      expect(allModules(m).every((c) => c.training)).toBe(true);
      m.train(false);
      expect(allModules(m).some((c) => c.training)).toBe(false);
    } finally {
      m.dispose();
    }
  });

  it("to('float64') converts parameters and float buffers but keeps num_batches_tracked int64", () => {
    const m = smallNet();
    try {
      expect(m.to('float64')).toBe(m);
      tidy(() => {
        for (const [k, p] of m.namedParameters()) expect([k, p.dtype]).toEqual([k, 'float64']);
        for (const [k, b] of m.namedBuffers()) expect([k, b.dtype]).toEqual([k, k.endsWith('num_batches_tracked') ? 'int64' : 'float64']);
        m.eval();
        const y = m.forward(randn([2, 3, 5, 5], { dtype: 'float64' }));
        expect(y.dtype).toBe('float64');
        expect(y.shape).toEqual([2, 2]);
      });
    } finally {
      m.dispose();
    }
  });

  it('channelsLast() stores conv weights channels-last and leaves results unchanged', () => {
    manualSeed(1);
    const m = smallNet().eval();
    try {
      tidy(() => {
        const x = randn([2, 3, 6, 6]);
        const before = vals(m.forward(x));
        expect(m.channelsLast()).toBe(m);
        const w = m.stateDict()['conv.weight'];
        expect(w.memoryFormat).toBe('channelsLast');
        expect(w.shape).toEqual([4, 3, 3, 3]);
        expectClose(vals(m.forward(x)), before, 1e-5, 'y');
        expectClose(vals(m.forward(x.contiguous('channelsLast'))), before, 1e-5, 'y (channels-last input)');
      });
    } finally {
      m.dispose();
    }
  });
});

// ---------------------------------------------------------------- parameters and state dicts

describe('parameters, buffers and state dicts', () => {
  const paramNames = ['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'block.ic.weight', 'block.ic.bias', 'fc.weight', 'fc.bias'];
  const bufferNames = ['bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked', 'block.ic.running_mean', 'block.ic.running_var', 'block.ic.num_batches_tracked'];

  it('names follow the dotted PyTorch convention', () => {
    const m = smallNet();
    try {
      tidy(() => {
        expect(m.namedParameters().map(([k]) => k)).toEqual(paramNames);
        expect(m.parameters().map((p) => p.shape)).toEqual([[4, 3, 3, 3], [4], [4], [4], [4], [4], [2, 4], [2]]);
        expect(m.namedBuffers().map(([k]) => k)).toEqual(bufferNames);
        expect(m.buffers()).toHaveLength(bufferNames.length);
        expect(Object.keys(m.stateDict()).sort()).toEqual([...paramNames, ...bufferNames].sort());
        expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
      });
    } finally {
      m.dispose();
    }
  });

  it('parameters share memory with the module', () => {
    const m = new nn.Linear(2, 1, { bias: false });
    try {
      tidy(() => {
        noGrad(() => m.parameters()[0].fill_(3));
        expect(vals(m.forward(T([1, 2], [1, 2])))).toEqual([9]);
      });
    } finally {
      m.dispose();
    }
  });

  it('numParameters counts learnable elements', () => {
    const m = smallNet();
    try {
      // conv 4*3*9 + 4, bn 2*4, ic 2*4, fc 2*4 + 2
      expect(m.numParameters()).toBe(112 + 8 + 8 + 10);
      expect(new nn.ReLU().numParameters()).toBe(0);
    } finally {
      m.dispose();
    }
  });

  it('loadStateDict round-trip: two differently initialised models give identical outputs', () => {
    manualSeed(1);
    const a = smallNet();
    manualSeed(2);
    const b = smallNet();
    try {
      tidy(() => {
        // Different running statistics too: train a once.
        a.forward(randn([4, 3, 5, 5]));
        a.eval();
        b.eval();
        const x = randn([2, 3, 5, 5]);
        expect(vals(a.forward(x))).not.toEqual(vals(b.forward(x)));
        const res = b.loadStateDict(a.stateDict());
        expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
        expect(vals(b.forward(x))).toEqual(vals(a.forward(x)));
        expect(b.stateDict()['bn.num_batches_tracked'].item()).toBe(1);
        // b has copies, not a's tensors: changing a does not change b.
        noGrad(() => a.stateDict()['fc.bias'].fill_(100));
        expect(vals(b.forward(x))).not.toEqual(vals(a.forward(x)));
      });
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('loadStateDict errors name the missing and unexpected keys, and copy nothing', () => {
    const m = smallNet();
    try {
      tidy(() => {
        const before = vals(m.stateDict()['conv.weight']);
        const sd = { ...m.stateDict() };
        for (const k of Object.keys(sd)) sd[k] = sd[k].clone().add_(sd[k].dtype === 'int64' ? 5 : 1);
        const missing = { ...sd };
        delete missing['fc.bias'];
        expect(() => m.loadStateDict(missing)).toThrow(/missing keys: fc\.bias/);
        const extra = { ...sd, 'fc.extra': zeros([1]) };
        expect(() => m.loadStateDict(extra)).toThrow(/unexpected keys: fc\.extra/);
        expect(vals(m.stateDict()['conv.weight'])).toEqual(before);
        // Non-strict: reports instead of throwing, and loads what matches.
        const res = m.loadStateDict({ ...missing, 'fc.extra': zeros([1]) }, { strict: false });
        expect(res).toEqual({ missingKeys: ['fc.bias'], unexpectedKeys: ['fc.extra'] });
        expect(vals(m.stateDict()['conv.weight'])).toEqual(vals(sd['conv.weight']));
      });
    } finally {
      m.dispose();
    }
  });

  it('loadStateDict size mismatch names the key and both shapes, and copies nothing', () => {
    const m = smallNet();
    try {
      tidy(() => {
        const own = m.stateDict();
        const before = Object.fromEntries(Object.entries(own).map(([k, t]) => [k, vals(t)]));
        const sd: Record<string, Tensor> = {};
        for (const [k, t] of Object.entries(own)) sd[k] = t.clone().add_(1);
        sd['fc.weight'] = zeros([3, 4]);
        let err: unknown;
        try {
          m.loadStateDict(sd);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(RangeError);
        expect((err as Error).message).toMatch(/fc\.weight/);
        expect((err as Error).message).toMatch(/\[3, 4\]/);
        expect((err as Error).message).toMatch(/\[2, 4\]/);
        // conv.weight comes before fc.weight: it must not have been copied either.
        for (const [k, t] of Object.entries(m.stateDict())) expect(vals(t), k).toEqual(before[k]);
        expect(() => m.loadStateDict({ ...sd, 'fc.weight': 'nope' as never })).toThrow(/fc\.weight/);
      });
    } finally {
      m.dispose();
    }
  });

  it('summary() lists layer names, kinds, output shapes and the total', () => {
    const m = smallNet();
    try {
      m.train();
      const s = m.summary([2, 3, 8, 8]);
      for (const name of ['conv', 'bn', 'block.drop', 'block.ic', 'relu', 'pool', 'flat', 'fc']) expect(s).toMatch(new RegExp(`^${name.replace('.', '\\.')}\\s`, 'm'));
      expect(s).toContain('[2, 4, 8, 8]');
      expect(s).toContain('[2, 4, 1, 1]');
      expect(s).toContain('[2, 2]');
      expect(s).toMatch(/^conv\s+conv2d\s+\[2, 4, 8, 8\]\s+112$/m);
      expect(s).toMatch(/total parameters: 138$/);
      // summary runs in evaluation mode and restores the mode afterwards.
      expect(m.training).toBe(true);
      tidy(() => void expect(m.stateDict()['bn.num_batches_tracked'].item()).toBe(0));
    } finally {
      m.dispose();
    }
  });
});

// ---------------------------------------------------------------- seeding, async, disposal

describe('seeding, async forward and disposal', () => {
  it('manualSeed makes two builds identical (and another seed differs)', () => {
    const build = (seed: number) => {
      manualSeed(seed);
      const m = smallNet();
      const sd = tidy(() => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, vals(t)])));
      m.dispose();
      return sd;
    };
    const a = build(42), b = build(42), c = build(43);
    expect(b).toEqual(a);
    expect(c['conv.weight']).not.toEqual(a['conv.weight']);
    expect(c['fc.weight']).not.toEqual(a['fc.weight']);
  });

  it('forwardAsync equals forward', async () => {
    const m = smallNet().eval();
    try {
      const x = randn([2, 3, 6, 6]);
      const y = m.forward(x);
      const ya = await m.forwardAsync(x);
      expect(ya.shape).toEqual([2, 2]);
      expect(vals(ya)).toEqual(vals(y));
      x.dispose();
      y.dispose();
      ya.dispose();
      await expect(m.forwardAsync(zeros([2, 5, 6, 6]))).rejects.toThrow();
    } finally {
      m.dispose();
    }
  });

  it('a disposed module throws clear errors; dispose is idempotent', () => {
    const m = new nn.Linear(2, 2);
    expect(m.isDisposed).toBe(false);
    m.dispose();
    expect(m.isDisposed).toBe(true);
    m.dispose();
    tidy(() => void expect(() => m.forward(zeros([1, 2]))).toThrow(/disposed/));
    expect(() => m.parameters()).toThrow(/disposed/);
    expect(() => m.train()).toThrow(/disposed/);
    expect(() => new nn.Sequential([m])).toThrow(/disposed/);
  });

  it('forward rejects a non-tensor input', () => {
    const m = new nn.ReLU();
    try {
      expect(() => m.forward([1, 2] as never)).toThrow(TypeError);
    } finally {
      m.dispose();
    }
  });
});

describe('ModuleList and ModuleDict', () => {
  // A network written in TypeScript whose forward loops over blocks and picks a head by name, the pattern
  // these containers exist for; Python's nn.ModuleList / nn.ModuleDict twin loads its state dict strictly.
  class Blocks extends nn.Module {
    blocks = new nn.ModuleList([new nn.Linear(4, 4), new nn.Linear(4, 4)]);
    heads = new nn.ModuleDict({ small: new nn.Linear(4, 2), big: new nn.Linear(4, 3) });
    forward(x: Tensor, head: string): Tensor {
      for (const b of this.blocks) x = b.forward(x).relu();
      return this.heads.get(head).forward(x);
    }
  }

  it("register their modules under PyTorch's state-dict keys, and Python's twin gives the same outputs", async () => {
    manualSeed(3);
    const net = new Blocks();
    const x = T(uniform(8, 5), [2, 4]);
    try {
      expect(Object.keys(net.stateDict())).toEqual(['blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias', 'heads.small.weight', 'heads.small.bias', 'heads.big.weight', 'heads.big.bias']);
      const y = tidy(() => vals(net.forward(x, 'big')));
      expect(y.length).toBe(6);
      if (!hasTorch) return;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-modulelist-'));
      saveStateDict(path.join(dir, 'sd.pt'), tidy(() => net.stateDict()));
      const out = await py(`
import json, sys, torch, torch.nn as nn
class Blocks(nn.Module):
    def __init__(s):
        super().__init__()
        s.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
        s.heads = nn.ModuleDict({'small': nn.Linear(4, 2), 'big': nn.Linear(4, 3)})
    def forward(s, x, head):
        for b in s.blocks: x = torch.relu(b(x))
        return s.heads[head](x)
m = Blocks(); m.load_state_dict(torch.load(sys.argv[1] if len(sys.argv) > 1 else ${JSON.stringify(path.join(dir, 'sd.pt'))}), strict=True)
x = torch.tensor(json.loads(sys.stdin.read()), dtype=torch.float32).reshape(2, 4)
print(json.dumps(m(x, 'big').flatten().tolist()))
`, JSON.stringify(vals(x)));
      expectClose(y, JSON.parse(out), 1e-6, 'python');
      fs.rmSync(dir, { recursive: true, force: true });
    } finally {
      x.dispose();
      net.dispose();
    }
  });

  it('ModuleList: get (negative from the end), [i], length, append, extend, insert (keys move up), iteration; no forward', () => {
    const a = new nn.Linear(1, 1), b = new nn.Linear(1, 2), c = new nn.Linear(1, 3);
    const list = new nn.ModuleList<nn.Module>([a]);
    list.append(b);
    expect(list.length).toBe(2);
    expect(list.get(-1)).toBe(b);
    expect((list as unknown as Record<number, nn.Module>)[0]).toBe(a);
    list.insert(0, c);
    expect([...list]).toEqual([c, a, b]);
    expect(tidy(() => Object.entries(list.stateDict()).map(([k, t]) => `${k}:${t.shape.join('x')}`))).toEqual(['0.weight:3x1', '0.bias:3', '1.weight:1x1', '1.bias:1', '2.weight:2x1', '2.bias:2']);
    list.extend([new nn.ReLU()]);
    expect(list.length).toBe(4);
    expect(() => list.get(4)).toThrow(/^ModuleList.get: expected an index in \[-4, 4\) for index but received 4/);
    expect(() => list.append(tensor([1]) as never)).toThrow(/^ModuleList.append: expected a Module/);
    expect(() => list.forward()).toThrow(/^ModuleList.forward: a ModuleList has no forward of its own/);
    list.eval();
    expect(list.get(3).training).toBe(false);
    list.dispose();
    expect(a.isDisposed).toBe(true);
  });

  it('ModuleDict: get, set (replaces), has, delete, keys/values/entries in insertion order, size; errors name the keys', () => {
    const d = new nn.ModuleDict<nn.Module>([['enc', new nn.Linear(2, 2)], ['dec', new nn.Linear(2, 2)]]);
    expect(d.keys()).toEqual(['enc', 'dec']);
    const r = new nn.ReLU();
    d.set('enc', r);
    expect(d.get('enc')).toBe(r);
    expect(d.keys()).toEqual(['enc', 'dec']);
    expect(d.has('dec') && !d.has('x')).toBe(true);
    expect(d.delete('dec')).toBe(true);
    expect(d.delete('dec')).toBe(false);
    expect([d.size, d.entries().map(([k]) => k)]).toEqual([1, ['enc']]);
    expect(() => d.get('dec')).toThrow(/^ModuleDict.get: expected one of the keys enc for key but received "dec"/);
    expect(() => d.set('a.b', new nn.ReLU())).toThrow(/registerModule: expected a non-empty string without "\."/);
    expect(() => d.set('keys', new nn.ReLU())).toThrow(/"keys" is a method or property of ModuleDict/);
    d.dispose();
  });
});

describe('nn.init', () => {
  const stats = (t: Tensor) => {
    const v = vals(t);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    return { mean, sd, min: Math.min(...v), max: Math.max(...v) };
  };

  it("calculateGain gives PyTorch's gains", () => {
    expect(['linear', 'conv2d', 'sigmoid', 'tanh', 'relu', 'selu'].map((n) => nn.init.calculateGain(n as nn.Nonlinearity))).toEqual([1, 1, 1, 5 / 3, Math.SQRT2, 3 / 4]);
    expect(nn.init.calculateGain('leakyRelu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(nn.init.calculateGain('leakyRelu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
    expect(() => nn.init.calculateGain('leaky_relu' as never)).toThrow(/^calculateGain: /);
  });

  it('the random initialisers draw from the stated distribution (bounds exact, moments within 3%), in place, without gradients', () => {
    tidy(() => {
      manualSeed(0);
      // fan_in 64 * 9 = 576, fan_out 128 * 9 = 1152
      const w = randn([128, 64, 3, 3]).requiresGrad_();
      const a = Math.sqrt(6 / (576 + 1152));
      let s = stats(nn.init.xavierUniform_(w));
      expect(s.max).toBeLessThanOrEqual(a);
      expect(s.min).toBeGreaterThanOrEqual(-a);
      expect(Math.abs(s.sd / (a / Math.sqrt(3)) - 1)).toBeLessThan(0.03);
      expect(w.gradFn).toBeNull();
      s = stats(nn.init.xavierNormal_(w, { gain: 2 }));
      expect(Math.abs(s.sd / (2 * Math.sqrt(2 / 1728)) - 1)).toBeLessThan(0.03);
      s = stats(nn.init.kaimingNormal_(w, { mode: 'fanOut' }));
      expect(Math.abs(s.sd / (Math.SQRT2 / Math.sqrt(1152)) - 1)).toBeLessThan(0.03);
      const bound = Math.sqrt(3) * calc(0.1) / Math.sqrt(576);
      s = stats(nn.init.kaimingUniform_(w, { a: 0.1, nonlinearity: 'leakyRelu' }));
      expect(s.max).toBeLessThanOrEqual(bound);
      expect(Math.abs(s.max / bound - 1)).toBeLessThan(0.01);
      s = stats(nn.init.uniform_(w, -2, 3));
      expect([s.min >= -2, s.max <= 3, Math.abs(s.mean - 0.5) < 0.05]).toEqual([true, true, true]);
      s = stats(nn.init.normal_(w, 1, 0.5));
      expect(Math.abs(s.mean - 1) < 0.01 && Math.abs(s.sd / 0.5 - 1) < 0.03).toBe(true);
      expect(stats(nn.init.constant_(w, 0.25))).toEqual({ mean: 0.25, sd: 0, min: 0.25, max: 0.25 });
      expect(stats(nn.init.zeros_(w)).max).toBe(0);
      expect(stats(nn.init.ones_(w)).min).toBe(1);
      // a generator of its own gives a reproducible stream
      const g1 = new Generator(), g2 = new Generator();
      g1.manualSeed(5);
      g2.manualSeed(5);
      expect(vals(nn.init.xavierUniform_(zeros([3, 4]), { generator: g1 }))).toEqual(vals(nn.init.xavierUniform_(zeros([3, 4]), { generator: g2 })));
    });
    function calc(slope: number) {
      return Math.sqrt(2 / (1 + slope * slope));
    }
  });

  it('errors: 1-d weights for the fan-based ones, unknown options, bad ranges', () => {
    tidy(() => {
      expect(() => nn.init.xavierUniform_(zeros([3]))).toThrow(/^xavierUniform_: expected a weight of at least 2 dimensions/);
      expect(() => nn.init.kaimingUniform_(zeros([3, 3]), { mode: 'fan_in' } as never)).toThrow(/^kaimingUniform_: /);
      expect(() => nn.init.xavierNormal_(zeros([3, 3]), { gian: 2 } as never)).toThrow("xavierNormal_: unknown option 'gian'; did you mean 'gain'? (known: gain, generator)");
      expect(() => nn.init.uniform_(zeros([3]), 1, 0)).toThrow(/^uniform_: expected a number >= a/);
      expect(() => nn.init.normal_(zeros([3]), 0, -1)).toThrow(/^normal_: expected a number >= 0 for std/);
      expect(() => nn.init.constant_('x' as never, 1)).toThrow(/^constant_: expected a Tensor/);
    });
  });
});
