// Autograd: gradients of known functions against hand-derived formulas (computed in float64 JS).
import { afterEach, describe, expect, it } from 'vitest';
import { Tensor, autograd, enableGrad, isGradEnabled, noGrad, ones, tensor, tidy, zeros } from '../lib';
import { randomMatrix } from './helpers/random';

function jsMatmul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, p) => s + v * b[p][j], 0)));
}
function transpose(a: number[][]): number[][] {
  return a[0].map((_, j) => a.map((r) => r[j]));
}
function flat(t: Tensor | null): number[] {
  if (!t) throw new Error('expected a gradient, got null');
  return Array.from(t.toArray() as ArrayLike<number>);
}
function expectClose(actual: number[], expected: number[], tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i] - e), `element ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(tol * (1 + Math.abs(e))));
}

// Grad mode must never leak out of a test.
afterEach(() => {
  expect(isGradEnabled()).toBe(true);
});

describe('backward of known functions', () => {
  it('d/dx sum(x²) = 2x (through mul and through pow)', () => {
    tidy(() => {
      const xs = [1, -2, 3.5, 0];
      const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
      x.mul(x).sum().backward();
      expectClose(flat(x.grad), xs.map((v) => 2 * v));
      const y = tensor(xs, { dtype: 'float64', requiresGrad: true });
      y.pow(2).sum().backward();
      expectClose(flat(y.grad), xs.map((v) => 2 * v));
    });
  });

  it('d/da sum(a*b) = b and d/db sum(a*b) = a', () => {
    tidy(() => {
      const av = [1, 2, 3];
      const bv = [-4, 0.5, 6];
      const a = tensor(av, { dtype: 'float64', requiresGrad: true });
      const b = tensor(bv, { dtype: 'float64', requiresGrad: true });
      const s = a.mul(b).sum();
      expect(s.item()).toBe(-4 + 1 + 18);
      s.backward();
      expectClose(flat(a.grad), bv);
      expectClose(flat(b.grad), av);
    });
  });

  it("sigmoid' = s(1 - s)", () => {
    tidy(() => {
      const xs = [-3, -0.5, 0, 0.7, 4];
      const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
      x.sigmoid().sum().backward();
      const s = (v: number) => 1 / (1 + Math.exp(-v));
      expectClose(flat(x.grad), xs.map((v) => s(v) * (1 - s(v))));
    });
  });

  it("tanh' = 1 - tanh², exp' = exp, log' = 1/x, relu' = step", () => {
    tidy(() => {
      const xs = [0.3, 1.2, 2.5];
      const cases: [(t: Tensor) => Tensor, (v: number) => number][] = [
        [(t) => t.tanh(), (v) => 1 - Math.tanh(v) ** 2],
        [(t) => t.exp(), Math.exp],
        [(t) => t.log(), (v) => 1 / v],
        [(t) => t.sub(1).relu(), (v) => (v > 1 ? 1 : 0)],
        [(t) => t.sqrt(), (v) => 0.5 / Math.sqrt(v)],
      ];
      for (const [f, df] of cases) {
        const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
        f(x).sum().backward();
        expectClose(flat(x.grad), xs.map(df));
      }
    });
  });

  it('matmul: dA = G·Bᵀ and dB = Aᵀ·G', () => {
    tidy(() => {
      const A = randomMatrix(3, 4, 1);
      const B = randomMatrix(4, 5, 2);
      const G = randomMatrix(3, 5, 3);
      const a = tensor(A, { dtype: 'float64', requiresGrad: true });
      const b = tensor(B, { dtype: 'float64', requiresGrad: true });
      const c = a.matmul(b);
      c.backward(tensor(G, { dtype: 'float64' }));
      expect(a.grad!.shape).toEqual([3, 4]);
      expect(b.grad!.shape).toEqual([4, 5]);
      expectClose(flat(a.grad), jsMatmul(G, transpose(B)).flat());
      expectClose(flat(b.grad), jsMatmul(transpose(A), G).flat());
    });
  });

  it('broadcasting sums the gradient over broadcast dimensions', () => {
    tidy(() => {
      const w = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
      const x = tensor([[1, 1, 1], [2, 2, 2]], { dtype: 'float64' });
      x.mul(w).sum().backward();
      expectClose(flat(w.grad), [3, 3, 3]);
    });
  });

  it('mean divides the gradient by n; detach stops it', () => {
    tidy(() => {
      const x = tensor([1, 2, 3, 4], { dtype: 'float64', requiresGrad: true });
      x.mean().add(x.detach().mul(100).sum()).backward();
      expectClose(flat(x.grad), [0.25, 0.25, 0.25, 0.25]);
    });
  });
});

describe('gradient bookkeeping', () => {
  it('gradients accumulate across two backward calls', () => {
    tidy(() => {
      const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      x.mul(3).sum().backward();
      expectClose(flat(x.grad), [3, 3]);
      x.mul(x).sum().backward(); // a second graph: adds 2x
      expectClose(flat(x.grad), [5, 7]);
      // The same graph twice needs retainGraph.
      const y = x.mul(2).sum();
      y.backward(undefined, { retainGraph: true });
      y.backward();
      expectClose(flat(x.grad), [9, 11]);
    });
  });

  it('backward twice through a freed graph is an Error', () => {
    tidy(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      const y = x.exp().sum();
      y.backward();
      expect(() => y.backward()).toThrow(/^backward: /);
    });
  });

  it('zeroGrad clears to null by default, or to zeros', () => {
    tidy(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      expect(x.grad).toBeNull();
      x.sum().backward();
      expect(flat(x.grad)).toEqual([1, 1]);
      x.zeroGrad();
      expect(x.grad).toBeNull();
      x.sum().backward();
      x.zeroGrad(false);
      expect(flat(x.grad)).toEqual([0, 0]);
      x.mul(4).sum().backward();
      expect(flat(x.grad)).toEqual([4, 4]);
    });
  });

  it('a non-scalar backward needs a gradient: RangeError without, correct with', () => {
    tidy(() => {
      const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
      const y = x.mul(x); // dy_i/dx_i = 2x_i
      expect(() => y.backward()).toThrow(RangeError);
      expect(() => y.backward()).toThrow(/^backward: .*gradient/);
      y.backward(tensor([1, 0.5, -2], { dtype: 'float64' }));
      expectClose(flat(x.grad), [2, 2, -12]);
    });
  });

  it('a gradient of the wrong shape is an Error, a non-Tensor gradient a TypeError', () => {
    tidy(() => {
      const x = tensor([1, 2, 3], { requiresGrad: true });
      expect(() => x.mul(2).backward(ones([2]))).toThrow(/^backward: /);
      expect(() => x.mul(2).backward([1, 1, 1] as never)).toThrow(TypeError);
    });
  });

  it("retainGrad keeps an intermediate's gradient (d/dy sum(3y) = 3), which is otherwise not kept", () => {
    tidy(() => {
      const x = tensor([1, 2, 3], { requiresGrad: true });
      const y = x.mul(2);
      const kept = x.mul(2).retainGrad();
      expect([y.retainsGrad, kept.retainsGrad]).toEqual([false, true]);
      y.mul(3).sum().add(kept.mul(3).sum()).backward();
      expect(y.grad).toBeNull();
      expect(kept.grad?.toNested()).toEqual([3, 3, 3]);
      expect(x.grad?.toNested()).toEqual([12, 12, 12]);
      expect(x.retainGrad().grad?.toNested()).toEqual([12, 12, 12]); // a leaf: nothing changes
      expect(() => tensor([1, 2]).retainGrad()).toThrow(/^retainGrad: the tensor does not require grad/);
    });
  });

  it('backward on a tensor that does not require grad is a TypeError', () => {
    tidy(() => {
      expect(() => tensor([1]).sum().backward()).toThrow(TypeError);
      expect(() => tensor([1]).sum().backward()).toThrow(/^backward: /);
    });
  });
});

describe('autograd.grad', () => {
  it('returns gradients without accumulating into .grad', () => {
    tidy(() => {
      const xs = [1, -2, 0.5];
      const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
      const [g] = autograd.grad(x.mul(x).sum(), x);
      expectClose(flat(g), xs.map((v) => 2 * v));
      expect(x.grad).toBeNull();
    });
  });

  it('handles several inputs, gradOutputs for non-scalar outputs, and allowUnused', () => {
    tidy(() => {
      const a = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      const b = tensor([3, 4], { dtype: 'float64', requiresGrad: true });
      const unused = tensor([5], { dtype: 'float64', requiresGrad: true });
      const y = a.mul(b); // non-scalar
      const [ga, gb] = autograd.grad([y], [a, b], { gradOutputs: [tensor([1, 10], { dtype: 'float64' })], retainGraph: true });
      expectClose(flat(ga), [3, 40]);
      expectClose(flat(gb), [1, 20]);
      expect(() => autograd.grad(y.sum(), [a, unused], { retainGraph: true })).toThrow(/^autograd.grad: /);
      const [g1, g2] = autograd.grad(y.sum(), [a, unused], { allowUnused: true });
      expectClose(flat(g1), [3, 4]);
      expect(g2).toBeNull();
    });
  });

  it('createGraph gives a second derivative: d²/dx² x³ = 6x', () => {
    tidy(() => {
      const xs = [1, -2, 0.5, 3];
      const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
      const [g] = autograd.grad(x.pow(3).sum(), x, { createGraph: true });
      expectClose(flat(g), xs.map((v) => 3 * v * v));
      expect(g!.requiresGrad).toBe(true);
      const [h] = autograd.grad(g!.sum(), x);
      expectClose(flat(h), xs.map((v) => 6 * v));
      // and through backward(createGraph) into .grad
      const z = tensor([2], { dtype: 'float64', requiresGrad: true });
      z.pow(3).sum().backward(undefined, { createGraph: true });
      const dz = z.grad!;
      expect(dz.item()).toBe(12);
      const [d2] = autograd.grad(dz.sum(), z);
      expect(d2!.item()).toBe(12);
    });
  });

  it('without createGraph the returned gradient does not require grad', () => {
    tidy(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      const [g] = autograd.grad(x.pow(3).sum(), x);
      expect(g!.requiresGrad).toBe(false);
    });
  });
});

describe('grad mode', () => {
  it('noGrad results do not require grad; enableGrad inside noGrad does', () => {
    tidy(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      const inside = noGrad(() => {
        expect(isGradEnabled()).toBe(false);
        const y = x.mul(2);
        const z = enableGrad(() => {
          expect(isGradEnabled()).toBe(true);
          return x.mul(3);
        });
        expect(isGradEnabled()).toBe(false);
        return { y, z };
      });
      expect(isGradEnabled()).toBe(true);
      expect(inside.y.requiresGrad).toBe(false);
      expect(inside.y.gradFn).toBeNull();
      expect(inside.z.requiresGrad).toBe(true);
      expect(inside.z.gradFn).toMatch(/^MulBackward\d$/);
      inside.z.sum().backward();
      expect(flat(x.grad)).toEqual([3, 3]);
    });
  });

  it('noGrad restores the mode after a throw and after an async fn', async () => {
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    const v = await noGrad(async () => {
      await Promise.resolve();
      return isGradEnabled();
    });
    expect(v).toBe(false);
    expect(isGradEnabled()).toBe(true);
  });

  it('overlapping async noGrad / enableGrad scopes leave the mode as it was outside them, whatever order they settle in', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const scope = (wrap: typeof noGrad, ms: number) =>
      wrap(async () => {
        await sleep(ms);
        return isGradEnabled();
      });
    // settling in the order they began (this once left grad mode off for good), and in the reverse order
    expect(await Promise.all([scope(noGrad, 5), scope(noGrad, 25)])).toEqual([false, false]);
    expect(isGradEnabled()).toBe(true);
    expect(await Promise.all([scope(noGrad, 25), scope(noGrad, 5)])).toEqual([false, false]);
    expect(isGradEnabled()).toBe(true);
    // an async scope opened inside other scopes: the outer ones' modes do not outlive them
    const nested = await noGrad(() => enableGrad(async () => {
      await sleep(5);
      return isGradEnabled();
    }));
    expect(nested).toBe(true);
    expect(isGradEnabled()).toBe(true);
    const inSync = noGrad(() => scope(enableGrad, 5));
    expect(await inSync).toBe(true);
    expect(isGradEnabled()).toBe(true);
    // the same under noGrad outside: the base mode is what comes back
    await noGrad(async () => {
      await Promise.all([scope(enableGrad, 5), scope(enableGrad, 15)]);
      expect(isGradEnabled()).toBe(false);
    });
    expect(isGradEnabled()).toBe(true);
    // and recording works afterwards
    const x = tensor([1, 2], { requiresGrad: true });
    expect(x.mul(x).requiresGrad).toBe(true);
    x.dispose();
  });

  it('in-place updates of a leaf are allowed under noGrad (the optimizer pattern)', () => {
    tidy(() => {
      const w = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      w.mul(w).sum().backward();
      expect(() => w.sub_(1)).toThrow(/^sub_: .*leaf/);
      noGrad(() => w.sub_(w.grad!.mul(0.25)));
      expect(w.toNested()).toEqual([0.5, 1]);
      expect(w.requiresGrad).toBe(true);
      expect(w.isLeaf).toBe(true);
    });
  });
});

describe('requiresGrad, isLeaf, gradFn', () => {
  it('requiresGrad on an int tensor is a clear error', () => {
    tidy(() => {
      const i = tensor([1, 2], { dtype: 'int32' });
      expect(() => {
        i.requiresGrad = true;
      }).toThrow(TypeError);
      expect(() => i.requiresGrad_()).toThrow(/floating-point/);
      expect(i.requiresGrad).toBe(false);
      expect(() => zeros([2], { dtype: 'int64', requiresGrad: true })).toThrow(/^zeros: .*floating point/);
      expect(() => tensor([1n], { requiresGrad: true })).toThrow(/^tensor: .*floating point/);
      // switching it off is always fine
      i.requiresGrad = false;
    });
  });

  it('leaves have no gradFn; results of recorded ops are not leaves', () => {
    tidy(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      expect(x.isLeaf).toBe(true);
      expect(x.gradFn).toBeNull();
      const y = x.mul(2);
      expect(y.isLeaf).toBe(false);
      expect(y.requiresGrad).toBe(true);
      expect(y.gradFn).toMatch(/^MulBackward\d$/); // tensor*scalar
      expect(y.sum().gradFn).toBe('SumBackward0');
      expect(x.add(x).gradFn).toBe('AddBackward0');
      expect(x.mul(x).gradFn).toBe('MulBackward0');
      expect(x.matmul(x).gradFn).toMatch(/Backward/);
      const plain = tensor([1, 2]);
      expect(plain.isLeaf).toBe(true);
      expect(plain.mul(2).isLeaf).toBe(true); // nothing recorded
      expect(plain.mul(2).gradFn).toBeNull();
      expect(() => {
        y.requiresGrad = false; // only leaves can change the flag
      }).toThrow(/^requiresGrad_: /);
    });
  });

  it('requiresGrad_ and the setter turn recording on for a float leaf', () => {
    tidy(() => {
      const x = tensor([3]);
      expect(x.requiresGrad_()).toBe(x);
      expect(x.requiresGrad).toBe(true);
      x.mul(x).sum().backward();
      expect(flat(x.grad)).toEqual([6]);
      x.requiresGrad = false;
      expect(x.mul(2).requiresGrad).toBe(false);
    });
  });
});
