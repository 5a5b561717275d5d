// The IC layer (BatchNorm followed by Dropout): the functional `icLayer` (composite and fused paths) and
// the `nn.IC` module. Every expected value is computed independently, in float64 JS loops or with plain
// tensor ops; the dropout mask of an output is inferred from its zeros (inputs are chosen so that the
// normalised value is never exactly 0, which each test checks).
import { afterEach, describe, expect, it } from 'vitest';
import {
  SGD,
  Tensor,
  Trainer,
  cuda,
  getNumThreads,
  icLayer,
  manualSeed,
  memory,
  nn,
  noGrad,
  ones,
  randn,
  resnetCifar,
  setNumThreads,
  tensor,
  tidy,
  zeros,
  type DType,
  type ICLayerOptions,
} from '../lib';
import { rng } from './helpers/random';

// ---------------------------------------------------------------- helpers (independent of ictorch)


/** n standard-normal-ish values (Box-Muller), with per-call scale and offset. */
function normals(n: number, seed: number, scale = 1, offset = 0): number[] {
  const r = rng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u = Math.max(r(), 1e-12), v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out.push(offset + scale * m * Math.cos(2 * Math.PI * v));
    if (out.length < n) out.push(offset + scale * m * Math.sin(2 * Math.PI * v));
  }
  return out;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const vals = (t: Tensor): number[] => Array.from(t.toArray() as ArrayLike<number>);
const T = (v: number[], shape: number[], dtype: DType = 'float64', requiresGrad = false) =>
  tensor(Float64Array.from(v), { shape, dtype, requiresGrad });

/** Input of `shape` whose channel c has mean ~c-1 and scale ~(1 + c/2), so statistics differ per channel. */
function inputValues(shape: number[], seed: number): number[] {
  const C = shape[1], S = prod(shape.slice(2));
  const v = normals(prod(shape), seed);
  return v.map((z, i) => {
    const c = Math.floor(i / S) % C;
    return (c - 1) + (1 + c / 2) * z;
  });
}

interface BNRef {
  /** (x - mean) / sqrt(biasedVar + eps) * w + b, float64. */
  y: number[];
  mean: number[];
  biasedVar: number[];
  unbiasedVar: number[];
}

/** Batch normalisation of x viewed as (N, C, S), in float64 (two-pass statistics). */
function bnRef(x: number[], shape: number[], w: number[], b: number[], eps: number): BNRef {
  const N = shape[0], C = shape[1], S = prod(shape.slice(2));
  const m = N * S;
  const mean = new Array<number>(C).fill(0), ss = new Array<number>(C).fill(0);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) mean[c] += x[(n * C + c) * S + s];
  for (let c = 0; c < C; c++) mean[c] /= m;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < S; s++) {
        const d = x[(n * C + c) * S + s] - mean[c];
        ss[c] += d * d;
      }
  const biasedVar = ss.map((v) => v / m);
  const unbiasedVar = ss.map((v) => v / (m - 1));
  const y = x.map((xi, i) => {
    const c = Math.floor(i / S) % C;
    return ((xi - mean[c]) / Math.sqrt(biasedVar[c] + eps)) * w[c] + b[c];
  });
  return { y, mean, biasedVar, unbiasedVar };
}

function expectClose(actual: number[], expected: number[], rtol: number, atol: number, what = 'value'): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1, worstErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(err <= 0) && (worst < 0 || err > worstErr)) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}[${worst}]: got ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** The central finite-difference gradient of f at v (f is evaluated on copies of v). */
function numericGrad(f: (v: number[]) => number, v: number[], h = 1e-6): number[] {
  return v.map((_, i) => {
    const plus = v.slice(), minus = v.slice();
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

afterEach(() => manualSeed(0));

// ---------------------------------------------------------------- gradcheck

type Impl = 'composite' | 'fused';

describe('icLayer gradients (float64 gradcheck on CPU)', () => {
  const shape = [4, 3, 2, 2];
  const C = 3;
  const x0 = inputValues(shape, 11);
  const w0 = [0.7, -1.3, 1.9];
  const b0 = [0.2, -0.4, 0.9];
  const g = normals(prod(shape), 12);
  const seed = 1234;

  /** sum(icLayer(x) * g), reseeding first so that the dropout mask repeats. */
  function loss(impl: Impl, p: number, x: number[], w: number[], b: number[]): number {
    return tidy(() =>
      noGrad(() => {
        manualSeed(seed);
        const y = icLayer(T(x, shape), { impl, dropRate: p, weight: T(w, [C]), bias: T(b, [C]), runningMean: zeros([C], { dtype: 'float64' }), runningVar: ones([C], { dtype: 'float64' }) });
        return vals(y).reduce((s, yi, i) => s + yi * g[i], 0);
      }),
    );
  }

  function analytic(impl: Impl, p: number): { dx: number[]; dw: number[]; db: number[]; y: number[] } {
    return tidy(() => {
      const x = T(x0, shape, 'float64', true), w = T(w0, [C], 'float64', true), b = T(b0, [C], 'float64', true);
      manualSeed(seed);
      const y = icLayer(x, { impl, dropRate: p, weight: w, bias: b, runningMean: zeros([C], { dtype: 'float64' }), runningVar: ones([C], { dtype: 'float64' }) });
      y.mul(T(g, shape)).sum().backward();
      return { dx: vals(x.grad!), dw: vals(w.grad!), db: vals(b.grad!), y: vals(y) };
    });
  }

  for (const impl of ['composite', 'fused'] as const) {
    for (const p of [0, 0.4]) {
      it(`${impl}, dropRate ${p}: backward matches central finite differences for x, weight and bias`, () => {
        const a = analytic(impl, p);
        if (p > 0) {
          // Precondition of the finite differences: reseeding repeats the mask, and the mask drops something.
          const again = analytic(impl, p);
          expect(again.y).toEqual(a.y);
          const dropped = a.y.filter((v) => v === 0).length;
          expect(dropped).toBeGreaterThan(0);
          expect(dropped).toBeLessThan(a.y.length);
        }
        const nx = numericGrad((v) => loss(impl, p, v, w0, b0), x0);
        const nw = numericGrad((v) => loss(impl, p, x0, v, b0), w0);
        const nb = numericGrad((v) => loss(impl, p, x0, w0, v), b0);
        expectClose(a.dx, nx, 1e-5, 1e-6, 'dx');
        expectClose(a.dw, nw, 1e-5, 1e-6, 'dweight');
        expectClose(a.db, nb, 1e-5, 1e-6, 'dbias');
        // The gradients are not trivially zero.
        expect(Math.max(...a.dx.map(Math.abs))).toBeGreaterThan(1e-3);
      });
    }
  }
});

// ---------------------------------------------------------------- forward against the formula

describe('icLayer training forward = mask * bn(x) / (1 - p)', () => {
  const cases: { shape: number[] }[] = [{ shape: [6, 4, 3, 5] }, { shape: [40, 5] }];
  for (const impl of ['composite', 'fused'] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const { shape } of cases) {
        it(`${impl}, ${dtype}, shape [${shape}]`, () => {
          const C = shape[1];
          const p = 0.35, eps = 1e-5;
          const xv = inputValues(shape, 21 + shape.length);
          const w = normals(C, 22, 0.5, 1), b = normals(C, 23, 0.5, 0);
          const ref = bnRef(xv, shape, w, b, eps);
          expect(ref.y.every((v) => Math.abs(v) > 1e-4)).toBe(true);
          const y = tidy(() =>
            vals(icLayer(T(xv, shape, dtype), { impl, dropRate: p, eps, weight: T(w, [C], dtype), bias: T(b, [C], dtype), runningMean: zeros([C], { dtype }), runningVar: ones([C], { dtype }) })),
          );
          const kept = y.map((v) => v !== 0);
          const nKept = kept.filter(Boolean).length;
          // 5 binomial standard deviations around the expected number kept.
          const n = y.length, sd = Math.sqrt(n * p * (1 - p));
          expect(Math.abs(nKept - n * (1 - p))).toBeLessThan(5 * sd);
          const expected = ref.y.map((v, i) => (kept[i] ? v / (1 - p) : 0));
          const tol = dtype === 'float64' ? 1e-10 : 2e-5;
          expectClose(y, expected, tol, tol, 'y');
        });
      }
    }
  }

  it('the mask depends on the element, not on the channel: every channel keeps about 1 - p', () => {
    const shape = [8, 6, 16, 16], C = 6, p = 0.5;
    const y = tidy(() => vals(icLayer(T(inputValues(shape, 31), shape, 'float32'), { impl: 'fused', dropRate: p, weight: ones([C]), bias: zeros([C]), runningMean: zeros([C]), runningVar: ones([C]) })));
    const S = 256, perChannel = 8 * S;
    for (let c = 0; c < C; c++) {
      let k = 0;
      for (let n = 0; n < 8; n++) for (let s = 0; s < S; s++) if (y[(n * C + c) * S + s] !== 0) k++;
      expect(Math.abs(k - perChannel * (1 - p))).toBeLessThan(5 * Math.sqrt(perChannel * p * (1 - p)));
    }
  });
});

// ---------------------------------------------------------------- running statistics

describe('running statistics after one training step', () => {
  for (const impl of ['composite', 'fused'] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${impl}, ${dtype}: running_mean = 0.1 * mean, running_var = 0.9 + 0.1 * unbiased var`, () => {
        const shape = [5, 3, 4, 4], C = 3;
        const xv = inputValues(shape, 41);
        const ref = bnRef(xv, shape, [1, 1, 1], [0, 0, 0], 1e-5);
        const [rm, rv] = tidy(() => {
          const rm = zeros([C], { dtype }), rv = ones([C], { dtype });
          icLayer(T(xv, shape, dtype), { impl, dropRate: 0.3, weight: ones([C], { dtype }), bias: zeros([C], { dtype }), runningMean: rm, runningVar: rv });
          return [vals(rm), vals(rv)];
        });
        const tol = dtype === 'float64' ? 1e-12 : 1e-6;
        expectClose(rm, ref.mean.map((m) => 0.9 * 0 + 0.1 * m), tol, tol, 'running_mean');
        expectClose(rv, ref.unbiasedVar.map((v) => 0.9 * 1 + 0.1 * v), tol, tol, 'running_var');
      });
    }
  }

  it('the IC module updates its buffers the same way and counts the batch', () => {
    const shape = [4, 2, 3, 3], C = 2;
    const xv = inputValues(shape, 42);
    const ref = bnRef(xv, shape, [1, 1], [0, 0], 1e-5);
    const m = new nn.IC(C, { dropRate: 0.2, momentum: 0.25 });
    try {
      tidy(() => {
        m.forward(T(xv, shape, 'float32'));
        const sd = m.stateDict();
        expectClose(vals(sd.running_mean), ref.mean.map((v) => 0.25 * v), 1e-6, 1e-6, 'running_mean');
        expectClose(vals(sd.running_var), ref.unbiasedVar.map((v) => 0.75 + 0.25 * v), 1e-6, 1e-6, 'running_var');
        expect(sd.num_batches_tracked.item()).toBe(1);
      });
    } finally {
      m.dispose();
    }
  });
});

// ---------------------------------------------------------------- evaluation

describe('IC module in evaluation mode', () => {
  it('equals (x - running_mean) / sqrt(running_var + eps) * w + b, with no dropout', () => {
    const C = 4, shape = [3, C, 5, 5], eps = 1e-5;
    const w = [1.5, -0.5, 2, 0.25], b = [0.1, 0.2, -0.3, 0.4], rmv = [0.5, -1, 2, 0], rvv = [0.25, 4, 1, 9];
    const m = new nn.IC(C, { dropRate: 0.5 });
    try {
      tidy(() => {
        m.loadStateDict({ weight: tensor(w), bias: tensor(b), running_mean: tensor(rmv), running_var: tensor(rvv), num_batches_tracked: tensor(7n) });
        m.eval();
        expect(m.training).toBe(false);
        const xv = inputValues(shape, 51);
        const x = T(xv, shape, 'float32');
        const xf = vals(x); // the float32-rounded input
        const S = 25;
        const expected = xf.map((xi, i) => {
          const c = Math.floor(i / S) % C;
          return ((xi - rmv[c]) / Math.sqrt(rvv[c] + eps)) * w[c] + b[c];
        });
        const y1 = vals(m.forward(x));
        const y2 = vals(m.forward(x));
        expectClose(y1, expected, 2e-6, 2e-6, 'y');
        expect(y2).toEqual(y1);
        // Evaluation leaves the running statistics and the counter alone.
        const sd = m.stateDict();
        expect(vals(sd.running_mean)).toEqual(rmv);
        expect(vals(sd.running_var)).toEqual(rvv);
        expect(sd.num_batches_tracked.item()).toBe(7);
      });
    } finally {
      m.dispose();
    }
  });

  it('in float64 the evaluation output matches the formula to rounding', () => {
    const C = 2, shape = [3, C], eps = 1e-3;
    const m = new nn.IC(C, { dropRate: 0.3, eps, dims: 1 }).to('float64');
    try {
      tidy(() => {
        noGrad(() => {
          const sd = m.stateDict();
          sd.weight.copy_(tensor([2, 3], { dtype: 'float64' }));
          sd.bias.copy_(tensor([-1, 1], { dtype: 'float64' }));
          sd.running_mean.copy_(tensor([0.5, -0.5], { dtype: 'float64' }));
          sd.running_var.copy_(tensor([3, 0.5], { dtype: 'float64' }));
        });
        m.eval();
        const xv = [1, 2, -3, 4, 0.5, 0.25];
        const y = vals(m.forward(T(xv, shape)));
        const expected = xv.map((xi, i) => {
          const c = i % 2;
          return ((xi - [0.5, -0.5][c]) / Math.sqrt([3, 0.5][c] + eps)) * [2, 3][c] + [-1, 1][c];
        });
        expectClose(y, expected, 1e-14, 1e-14, 'y');
      });
    } finally {
      m.dispose();
    }
  });
});

// ---------------------------------------------------------------- dropRate 0 is BatchNorm

describe('dropRate 0 in training equals BatchNorm2d', () => {
  it('same output, gradients and running statistics as nn.BatchNorm2d with the same weights', () => {
    const C = 3, shape = [4, C, 5, 5];
    const ic = new nn.IC(C, { dropRate: 0 });
    const bn = new nn.BatchNorm2d(C);
    try {
      tidy(() => {
        const params = { weight: tensor([0.5, 1.5, -2]), bias: tensor([0.3, 0, -0.7]) };
        for (const m of [ic, bn]) m.loadStateDict({ ...params, running_mean: zeros([C]), running_var: ones([C]), num_batches_tracked: tensor(0n) });
        const xv = inputValues(shape, 61), gv = normals(prod(shape), 62);
        const run = (m: nn.Module) => {
          const x = T(xv, shape, 'float32', true);
          const y = m.forward(x);
          y.mul(T(gv, shape, 'float32')).sum().backward();
          const p = Object.fromEntries(m.namedParameters());
          const sd = m.stateDict();
          return { y: vals(y), dx: vals(x.grad!), dw: vals(p.weight.grad!), db: vals(p.bias.grad!), rm: vals(sd.running_mean), rv: vals(sd.running_var) };
        };
        const a = run(ic), r = run(bn);
        // Independent sanity check of the reference: BatchNorm2d agrees with the float64 formula.
        expectClose(r.y, bnRef(vals(T(xv, shape, 'float32')), shape, [0.5, 1.5, -2], [0.3, 0, -0.7], 1e-5).y, 1e-5, 1e-5, 'bn');
        expect(a.y.some((v) => v === 0)).toBe(false);
        for (const k of ['y', 'dx', 'dw', 'db', 'rm', 'rv'] as const) expectClose(a[k], r[k], 1e-6, 1e-6, k);
      });
    } finally {
      ic.dispose();
      bn.dispose();
    }
  });
});

// ---------------------------------------------------------------- the fused mask

describe('fused CPU dropout mask', () => {
  const shape = [64, 16, 32, 32];
  const C = 16;
  const n = prod(shape);
  const stats = (opts: ICLayerOptions, x: Tensor) => tidy(() => vals(icLayer(x, { impl: 'fused', weight: ones([C]), bias: zeros([C]), runningMean: zeros([C]), runningVar: ones([C]), ...opts })));

  it('keeps a fraction 1 - p of the elements, with independent neighbours', () => {
    tidy(() => {
      manualSeed(3);
      const x = randn(shape);
      for (const p of [0.1, 0.5, 0.9]) {
        const y = stats({ dropRate: p }, x);
        let kept = 0, pairs = 0;
        for (let i = 0; i < n; i++) {
          if (y[i] !== 0) {
            kept++;
            if (i + 1 < n && y[i + 1] !== 0) pairs++;
          }
        }
        const q = 1 - p;
        expect(Math.abs(kept / n - q)).toBeLessThan(5 * Math.sqrt((p * q) / n));
        // Adjacent elements are kept together with probability (1 - p)^2 (no correlation in the hash).
        const q2 = q * q;
        expect(Math.abs(pairs / (n - 1) - q2)).toBeLessThan(5 * Math.sqrt((q2 * (1 - q2)) / (n - 1)) * 2);
      }
    });
  });

  it('the mask does not depend on the number of threads', () => {
    const before = getNumThreads();
    try {
      tidy(() => {
        const x = randn([8, 4, 16, 16]);
        const run = (threads: number) => {
          setNumThreads(threads);
          manualSeed(21);
          return vals(icLayer(x, { impl: 'fused', dropRate: 0.5, weight: ones([4]), bias: zeros([4]), runningMean: zeros([4]), runningVar: ones([4]) }));
        };
        const one = run(1);
        expect(one.some((v) => v === 0)).toBe(true);
        expect(run(2)).toEqual(one);
      });
    } finally {
      setNumThreads(before);
    }
  });

  it('two calls draw different, independent masks; manualSeed makes the output repeat exactly', () => {
    tidy(() => {
      manualSeed(4);
      const x = randn(shape);
      const p = 0.5;
      const a = stats({ dropRate: p }, x);
      const b = stats({ dropRate: p }, x);
      let both = 0, differ = 0;
      for (let i = 0; i < n; i++) {
        if (a[i] !== 0 && b[i] !== 0) both++;
        if ((a[i] === 0) !== (b[i] === 0)) differ++;
      }
      expect(differ).toBeGreaterThan(0);
      expect(Math.abs(both / n - 0.25)).toBeLessThan(5 * Math.sqrt((0.25 * 0.75) / n));
      manualSeed(99);
      const c = stats({ dropRate: p }, x);
      manualSeed(99);
      const d = stats({ dropRate: p }, x);
      expect(d).toEqual(c);
    });
  });
});

// ---------------------------------------------------------------- fused backward

/** sum(mask * bn(x) / (1 - p) * g) built from tensor ops with autograd; mask given, statistics over all dims but 1. */
function referenceGrads(xv: Tensor, wv: Tensor, bv: Tensor, mask: Tensor, g: Tensor, p: number, eps: number) {
  const x = xv.detach().requiresGrad_(), w = wv.detach().requiresGrad_(), b = bv.detach().requiresGrad_();
  const C = x.shape[1];
  const dims = x.ndim === 4 ? [0, 2, 3] : [0];
  const view = x.ndim === 4 ? [1, C, 1, 1] : [1, C];
  const mean = x.mean(dims, true);
  const varB = x.sub(mean).square().mean(dims, true);
  const bn = x.sub(mean).div(varB.add(eps).sqrt()).mul(w.reshape(view)).add(b.reshape(view));
  const y = bn.mul(mask).div(1 - p);
  y.mul(g).sum().backward();
  return { y, dx: x.grad!, dw: w.grad!, db: b.grad! };
}

describe('fused backward equals the composite reference with the same mask', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const shape of [[6, 4, 3, 3], [30, 4]]) {
      it(`${dtype}, shape [${shape}]`, () => {
        tidy(() => {
          const C = shape[1], p = 0.3, eps = 1e-5;
          const x = T(inputValues(shape, 71), shape, dtype, true);
          const w = T(normals(C, 72, 0.5, 1), [C], dtype, true);
          const b = T(normals(C, 73, 0.5, 0), [C], dtype, true);
          const g = T(normals(prod(shape), 74), shape, dtype);
          const y = icLayer(x, { impl: 'fused', dropRate: p, eps, weight: w, bias: b, runningMean: zeros([C], { dtype }), runningVar: ones([C], { dtype }) });
          y.mul(g).sum().backward();
          const mask = y.ne(0).to(dtype);
          const r = referenceGrads(x, w, b, mask, g, p, eps);
          const tol = dtype === 'float64' ? 1e-9 : 1e-4;
          expectClose(vals(y), vals(r.y), tol, tol, 'y');
          const scale = (t: Tensor) => Math.max(...vals(t).map(Math.abs));
          expectClose(vals(x.grad!), vals(r.dx), 1e-4, 1e-4 * scale(r.dx), 'dx');
          expectClose(vals(w.grad!), vals(r.dw), 1e-4, 1e-4 * scale(r.dw), 'dweight');
          expectClose(vals(b.grad!), vals(r.db), 1e-4, 1e-4 * scale(r.db), 'dbias');
        });
      });
    }
  }
});

describe('fused CPU kernel on a bfloat16 input with float32 parameters (as under autocast)', () => {
  // Shapes: NCHW with short planes, (N, C), and a ResNet stage-1 shape whose planes fill vector registers.
  for (const shape of [[6, 4, 3, 3], [30, 4], [8, 16, 32, 32]]) {
    it(`shape [${shape}]: output, gradients and running statistics match a float32 reference with the same mask`, () => {
      tidy(() => {
        const C = shape[1], p = 0.3, eps = 1e-5, n = prod(shape);
        const x = T(inputValues(shape, 81), shape, 'bfloat16', true);
        const w = T(normals(C, 82, 0.5, 1), [C], 'float32', true);
        const b = T(normals(C, 83, 0.5, 0), [C], 'float32', true);
        const g = T(normals(n, 84), shape, 'bfloat16');
        const rm = zeros([C]), rv = ones([C]);
        const y = icLayer(x, { impl: 'fused', dropRate: p, eps, weight: w, bias: b, runningMean: rm, runningVar: rv });
        expect(y.dtype).toBe('bfloat16');
        y.mul(g).sum().backward();
        expect([x.grad!.dtype, w.grad!.dtype, b.grad!.dtype]).toEqual(['bfloat16', 'float32', 'float32']);
        const mask = y.ne(0).to('float32');
        const kept = vals(mask.sum())[0];
        expect(Math.abs(kept - n * (1 - p))).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)) + 1);
        // The reference sees the same (rounded) input in float32; the fused kernel computes in float and rounds
        // its outputs to bfloat16 (relative step 2^-8).
        const r = referenceGrads(x.to('float32'), w, b, mask, g.to('float32'), p, eps);
        const scale = (t: Tensor) => vals(t).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expectClose(vals(y.to('float32')), vals(r.y), 1e-2, 1e-2 * scale(r.y), 'y');
        expectClose(vals(x.grad!.to('float32')), vals(r.dx), 1e-2, 1e-2 * scale(r.dx), 'dx');
        expectClose(vals(w.grad!), vals(r.dw), 1e-4, 1e-4 * scale(r.dw), 'dweight');
        expectClose(vals(b.grad!), vals(r.db), 1e-4, 1e-4 * scale(r.db), 'dbias');
        // Running statistics: as the composite path updates them from the same bfloat16 input.
        const rmC = zeros([C]), rvC = ones([C]);
        icLayer(x.detach(), { impl: 'composite', dropRate: p, eps, weight: w.detach(), bias: b.detach(), runningMean: rmC, runningVar: rvC });
        expectClose([...vals(rm), ...vals(rv)], [...vals(rmC), ...vals(rvC)], 1e-3, 1e-3, 'running statistics');
      });
    });
  }

  it('a ResNet trains under bf16 autocast with its IC layers on the fused kernel (fits one batch)', async () => {
    const m = resnetCifar({ depth: 8, layout: 'relu-ic-conv', dropRate: 0.1 });
    const opt = new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
    const t = new Trainer(m, opt, { amp: 'bf16' });
    const x = randn([16, 3, 32, 32]);
    const y = tensor(Array.from({ length: 16 }, (_, i) => BigInt(i % 10)));
    try {
      const losses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await t.step(x, y);
        losses.push(Number(r.loss.item()));
        r.loss.dispose();
        r.correct!.dispose();
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]); // one batch, eight steps: it fits
    } finally {
      t.dispose();
      opt.dispose();
      x.dispose();
      y.dispose();
      m.dispose();
    }
  });
});

describe('fused backward of sum(y) (an expanded, non-contiguous output gradient)', () => {
  it('equals the masked reference with g = 1', () => {
    tidy(() => {
      const shape = [5, 3, 4, 4], C = 3, p = 0.5, eps = 1e-5;
      const x = T(inputValues(shape, 75), shape, 'float64', true);
      const w = T([0.5, 1, 2], [C], 'float64', true), b = T([0, 1, -1], [C], 'float64', true);
      const y = icLayer(x, { impl: 'fused', dropRate: p, eps, weight: w, bias: b, runningMean: zeros([C], { dtype: 'float64' }), runningVar: ones([C], { dtype: 'float64' }) });
      y.sum().backward();
      const r = referenceGrads(x, w, b, y.ne(0).to('float64'), ones(shape, { dtype: 'float64' }), p, eps);
      expectClose(vals(x.grad!), vals(r.dx), 1e-9, 1e-9, 'dx');
      expectClose(vals(w.grad!), vals(r.dw), 1e-9, 1e-9, 'dweight');
      expectClose(vals(b.grad!), vals(r.db), 1e-9, 1e-9, 'dbias');
    });
  });
});

// ---------------------------------------------------------------- without affine parameters or running statistics

describe('icLayer with dropout and optional tensors left out', () => {
  // weight/bias and the running statistics are optional (ICLayerOptions); training needs neither.
  for (const impl of ['auto', 'fused', 'composite'] as const) {
    it(`${impl}: no weight, bias or running statistics gives mask * (x - mean) / sqrt(var + eps) / (1 - p)`, () => {
      const shape = [5, 3, 2, 2], p = 0.25;
      const xv = inputValues(shape, 81);
      const ref = bnRef(xv, shape, [1, 1, 1], [0, 0, 0], 1e-5);
      const y = tidy(() => vals(icLayer(T(xv, shape), { impl, dropRate: p })));
      expectClose(y, ref.y.map((v, i) => (y[i] !== 0 ? v / (1 - p) : 0)), 1e-10, 1e-10, 'y');
    });
  }

  it('an IC module without affine parameters trains with dropout', () => {
    const m = new nn.IC(3, { dropRate: 0.25, affine: false });
    try {
      expect(m.namedParameters()).toHaveLength(0);
      tidy(() => {
        const shape = [5, 3, 2, 2];
        const xv = inputValues(shape, 82);
        const ref = bnRef(xv, shape, [1, 1, 1], [0, 0, 0], 1e-5);
        const y = vals(m.forward(T(xv, shape)));
        expectClose(y, ref.y.map((v, i) => (y[i] !== 0 ? v / 0.75 : 0)), 1e-10, 1e-10, 'y');
      });
    } finally {
      m.dispose();
    }
  });
});

// ---------------------------------------------------------------- errors

describe('icLayer errors', () => {
  const C = 3;
  const full = (dtype: DType = 'float32') => ({ weight: ones([C], { dtype }), bias: zeros([C], { dtype }), runningMean: zeros([C], { dtype }), runningVar: ones([C], { dtype }) });

  it('rejects a wrong rank', () => {
    tidy(() => {
      expect(() => icLayer(randn([2, 3, 4]), full())).toThrow(/^icLayer: .*\[2, 3, 4\]/);
      expect(() => icLayer(randn([2, 3, 4]), full())).toThrow(RangeError);
      expect(() => icLayer(randn([6]), {})).toThrow(/^icLayer: /);
    });
  });

  it('rejects weight, bias or running statistics whose size does not match the channels', () => {
    tidy(() => {
      const x = randn([2, C, 2, 2]);
      expect(() => icLayer(x, { ...full(), weight: ones([4]) })).toThrow(/^icLayer: weight .*\[3\].*\[4\]/);
      expect(() => icLayer(x, { ...full(), bias: zeros([2]) })).toThrow(/^icLayer: bias /);
      expect(() => icLayer(x, { ...full(), runningMean: zeros([5]) })).toThrow(/^icLayer: runningMean /);
    });
  });

  it('rejects dropRate 1 and -0.1', () => {
    tidy(() => {
      const x = randn([2, C, 2, 2]);
      for (const impl of ['auto', 'fused', 'composite'] as const) {
        expect(() => icLayer(x, { ...full(), dropRate: 1, impl })).toThrow(/^icLayer: dropRate/);
        expect(() => icLayer(x, { ...full(), dropRate: -0.1, impl })).toThrow(/^icLayer: dropRate/);
      }
      expect(() => icLayer(x, { ...full(), dropRate: 1 })).toThrow(RangeError);
    });
  });

  it('rejects an integer input', () => {
    tidy(() => {
      const x = randn([2, C, 2, 2]).to('int64');
      expect(() => icLayer(x, full())).toThrow(/^icLayer: .*floating/);
      expect(() => icLayer(x, full())).toThrow(TypeError);
    });
  });

  it('rejects evaluation without running statistics', () => {
    tidy(() => {
      const x = randn([2, C, 2, 2]);
      expect(() => icLayer(x, { weight: ones([C]), bias: zeros([C]), training: false })).toThrow(/^icLayer: .*running stat/);
    });
  });

  it('rejects impl "fused" for inputs the CPU kernel does not take (non-contiguous, float16), and unknown impls', () => {
    tidy(() => {
      const nc = randn([2, C, 4, 5]).transpose(2, 3);
      expect(nc.isContiguous()).toBe(false);
      expect(() => icLayer(nc, { ...full(), dropRate: 0.5, impl: 'fused' })).toThrow(/^icLayer: .*fused/);
      const half = randn([2, C, 4, 4]).to('float16');
      expect(() => icLayer(half, { ...full(), dropRate: 0.5, impl: 'fused' })).toThrow(/^icLayer: .*fused/);
      // 'auto' falls back to the composite path for the non-contiguous input.
      expect(icLayer(nc, { ...full(), dropRate: 0.5 }).shape).toEqual([2, C, 5, 4]);
      expect(() => icLayer(randn([2, C]), { ...full(), impl: 'fast' as never })).toThrow(/^icLayer: .*impl/i);
    });
  });

  it('the IC module rejects a bad dropRate, a wrong rank and a channel mismatch', () => {
    expect(() => new nn.IC(3, { dropRate: 1 })).toThrow(RangeError);
    expect(() => new nn.IC(3, { dropRate: -0.1 })).toThrow(/dropRate/);
    const m = new nn.IC(3, { dropRate: 0.1 });
    try {
      tidy(() => {
        expect(() => m.forward(randn([2, 3]))).toThrow(/4-d/);
        expect(() => m.forward(randn([2, 4, 2, 2]))).toThrow(/3 channels.*4/);
      });
    } finally {
      m.dispose();
    }
  });
});

// ---------------------------------------------------------------- CUDA

describe.skipIf(!cuda.isAvailable())('IC layer on CUDA', () => {
  const C = 8;
  const params = (device = 'cuda', channels = C) => ({
    weight: tensor(normals(channels, 91, 0.5, 1), { device }),
    bias: tensor(normals(channels, 92, 0.5, 0), { device }),
    runningMean: zeros([channels], { device }),
    runningVar: ones([channels], { device }),
  });
  const tol: Record<string, number> = { float64: 1e-9, float32: 1e-4, float16: 2e-2, bfloat16: 6e-2 };
  // Shapes that take each path of the fused kernels (native/ic/ic_cuda.cu): NCHW planes whose size is a multiple
  // of 4 (mask groups inside a plane) or not (groups across planes), channels-last with C a multiple of 4 (a
  // group is 4 channels of a row) or not, (N, C) input, and a ResNet-110 stage-1 shape with many splits per channel.
  const cases: { shape: number[]; fmts: ('contiguous' | 'channelsLast')[]; dtypes: readonly DType[] }[] = [
    { shape: [8, C, 6, 6], fmts: ['contiguous', 'channelsLast'], dtypes: ['float32', 'float16', 'bfloat16', 'float64'] },
    { shape: [4, 6, 5, 5], fmts: ['contiguous', 'channelsLast'], dtypes: ['float32', 'bfloat16'] },
    { shape: [64, 12], fmts: ['contiguous'], dtypes: ['float32', 'bfloat16'] },
    { shape: [30, 5], fmts: ['contiguous'], dtypes: ['float32'] },
    { shape: [32, 16, 32, 32], fmts: ['contiguous', 'channelsLast'], dtypes: ['float32', 'bfloat16'] },
  ];

  for (const { shape, fmts, dtypes } of cases) {
    for (const dtype of dtypes) {
      for (const fmt of fmts) {
        const name = shape.length === 2 ? '(N, C)' : fmt === 'channelsLast' ? 'channels-last' : 'NCHW';
        for (const affine of dtype === 'float32' ? [true, false] : [true]) {
          it(`${dtype}, ${name} [${shape}]${affine ? '' : ', no affine'}: fused and composite agree with the formula and the masked reference (forward, backward, running statistics)`, () => {
            tidy(() => {
              const Cn = shape[1], p = 0.3, eps = 1e-5;
              const xv = inputValues(shape, 93);
              const gv = normals(prod(shape), 94);
              const pr = params('cuda', Cn);
              const ref = shape.length === 4 && prod(shape) <= 4096 ? bnRef(xv, shape, new Array(Cn).fill(1), new Array(Cn).fill(0), eps) : null;
              for (const impl of ['fused', 'composite'] as const) {
                const x = tensor(Float64Array.from(xv), { shape, dtype, device: 'cuda' }).contiguous(fmt).requiresGrad_();
                const w = pr.weight.detach().clone().requiresGrad_(), b = pr.bias.detach().clone().requiresGrad_();
                const g = tensor(Float64Array.from(gv), { shape, dtype, device: 'cuda' });
                const rm = zeros([Cn], { device: 'cuda' }), rv = ones([Cn], { device: 'cuda' });
                const y = icLayer(x, { impl, dropRate: p, eps, ...(affine ? { weight: w, bias: b } : {}), runningMean: rm, runningVar: rv });
                expect(y.shape).toEqual(shape);
                expect(y.dtype).toBe(dtype);
                if (shape.length === 4) expect(y.memoryFormat).toBe(x.memoryFormat);
                y.mul(g).sum().backward();
                // Reference in float32 (float64 for float64) from the same (rounded) input, with the mask inferred from the output.
                const rdt = dtype === 'float64' ? 'float64' : 'float32';
                const mask = y.ne(0).to(rdt);
                const kept = vals(mask.sum().cpu())[0];
                expect(Math.abs(kept - prod(shape) * (1 - p))).toBeLessThan(5 * Math.sqrt(prod(shape) * p * (1 - p)));
                const wr = affine ? pr.weight.to(rdt) : ones([Cn], { device: 'cuda', dtype: rdt });
                const br = affine ? pr.bias.to(rdt) : zeros([Cn], { device: 'cuda', dtype: rdt });
                const r = referenceGrads(x.to(rdt), wr, br, mask, g.to(rdt), p, eps);
                const t = tol[dtype];
                const scale = (v: Tensor) => Math.max(...vals(v.cpu()).map(Math.abs));
                expectClose(vals(y.to(rdt).cpu()), vals(r.y.cpu()), t, t * scale(r.y), `${impl} y`);
                expectClose(vals(x.grad!.to(rdt).cpu()), vals(r.dx.cpu()), t, t * scale(r.dx), `${impl} dx`);
                if (affine) {
                  expectClose(vals(w.grad!.to(rdt).cpu()), vals(r.dw.cpu()), t, t * scale(r.dw), `${impl} dweight`);
                  expectClose(vals(b.grad!.to(rdt).cpu()), vals(r.db.cpu()), t, t * scale(r.db), `${impl} dbias`);
                } else {
                  expect(w.grad).toBeNull();
                }
                // Running statistics: 0.9 * initial + 0.1 * batch statistics (unbiased variance), in float32.
                if (ref && dtype !== 'float16' && dtype !== 'bfloat16') {
                  expectClose(vals(rm.cpu()), ref.mean.map((m) => 0.1 * m), 1e-5, 1e-5, `${impl} running_mean`);
                  expectClose(vals(rv.cpu()), ref.unbiasedVar.map((v) => 0.9 + 0.1 * v), 1e-5, 1e-5, `${impl} running_var`);
                }
              }
            });
          });
        }
      }
    }
  }

  it('fused: when the input needs no gradient, the weight and bias gradients still match the reference', () => {
    tidy(() => {
      const shape = [16, C, 8, 8];
      const x = tensor(Float64Array.from(inputValues(shape, 96)), { shape, device: 'cuda' });
      const g = tensor(Float64Array.from(normals(prod(shape), 97)), { shape, device: 'cuda' });
      const pr = params();
      const f = { w: pr.weight.detach().clone().requiresGrad_(), b: pr.bias.detach().clone().requiresGrad_() };
      const y = icLayer(x, { impl: 'fused', dropRate: 0.3, weight: f.w, bias: f.b });
      y.mul(g).sum().backward();
      expect(x.grad).toBeNull();
      // Reference with the fused output's mask (inferred from its zeros).
      const mask = y.ne(0).to('float32');
      const r = referenceGrads(x, pr.weight, pr.bias, mask, g, 0.3, 1e-5);
      const scale = (v: Tensor) => Math.max(...vals(v.cpu()).map(Math.abs));
      expectClose(vals(f.w.grad!.cpu()), vals(r.dw.cpu()), 1e-4, 1e-4 * scale(r.dw), 'dweight');
      expectClose(vals(f.b.grad!.cpu()), vals(r.db.cpu()), 1e-4, 1e-4 * scale(r.db), 'dbias');
    });
  });

  it('fused and composite update the running statistics alike for a bfloat16 input (float32 buffers)', () => {
    tidy(() => {
      const shape = [16, C, 8, 8];
      const x = tensor(Float64Array.from(inputValues(shape, 95)), { shape, dtype: 'bfloat16', device: 'cuda' }).contiguous('channelsLast');
      const stats = (impl: 'fused' | 'composite') => {
        const rm = zeros([C], { device: 'cuda' }), rv = ones([C], { device: 'cuda' });
        icLayer(x, { impl, dropRate: 0.2, runningMean: rm, runningVar: rv });
        expect(rm.dtype).toBe('float32');
        return [...vals(rm.cpu()), ...vals(rv.cpu())];
      };
      expectClose(stats('fused'), stats('composite'), 1e-3, 1e-3, 'running statistics');
    });
  });

  for (const p of [0.1, 0.5, 0.9]) {
    it(`fused keeps about 1 - p of a large tensor (p = ${p})`, () => {
      tidy(() => {
        const shape = [64, C, 32, 32], n = prod(shape);
        const x = randn(shape, { device: 'cuda' });
        const y = icLayer(x, { impl: 'fused', dropRate: p });
        const kept = vals(y.ne(0).to('float64').sum().cpu())[0];
        expect(Math.abs(kept / n - (1 - p))).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
      });
    });
  }

  it('fused: the same seed gives the same output, two calls differ', () => {
    tidy(() => {
      const x = randn([16, C, 8, 8], { device: 'cuda' });
      const pr = params();
      manualSeed(5);
      const a = vals(icLayer(x, { impl: 'fused', dropRate: 0.5, ...pr }).cpu());
      const b = vals(icLayer(x, { impl: 'fused', dropRate: 0.5, ...pr }).cpu());
      manualSeed(5);
      const c = vals(icLayer(x, { impl: 'fused', dropRate: 0.5, ...pr }).cpu());
      expect(c).toEqual(a);
      expect(b).not.toEqual(a);
    });
  });

  it('a stack of 8 IC layers needs less peak memory in training than BatchNorm2d + Dropout', () => {
    const Cm = 32, shape = [32, Cm, 32, 32], p = 0.2;
    const peak = (build: () => nn.Module): number => {
      const m = build().to('cuda');
      try {
        tidy(() => {
          const x = randn(shape, { device: 'cuda', requiresGrad: true });
          // Warm up once (cuDNN workspaces, allocator), then measure a second step.
          m.forward(x).sum().backward();
        });
        cuda.synchronize();
        cuda.resetPeakMemoryStats();
        tidy(() => {
          const x = randn(shape, { device: 'cuda', requiresGrad: true });
          m.forward(x).sum().backward();
        });
        cuda.synchronize();
        return memory().cuda[0].peakAllocated;
      } finally {
        m.dispose();
      }
    };
    const stack = (layer: (i: number) => [string, nn.Module][]) => () => new nn.Sequential(Array.from({ length: 8 }, (_, i) => layer(i)).flat());
    const fused = peak(stack((i) => [[`ic${i}`, new nn.IC(Cm, { dropRate: p })]]));
    const composite = peak(stack((i) => [[`bn${i}`, new nn.BatchNorm2d(Cm)], [`drop${i}`, new nn.Dropout(p)]]));
    expect(fused).toBeGreaterThan(0);
    expect(fused).toBeLessThan(composite);
  });
});
