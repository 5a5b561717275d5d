// Custom autograd functions (autograd.Function): values and gradients against python3-torch's
// torch.autograd.Function on the same inputs (saved tensors, several inputs and outputs, an output without a
// gradient, a straight-through estimator, a non-differentiable output), double backward, freeing the saved
// tensors, errors, a Trainer step through one, and a flat tensor count. The backward tests run on both paths a
// backward from JS takes (CPU graphs in place; the backward thread a graph reaching CUDA takes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionCtx, SGD, Tensor, Trainer, autograd, memory, nn, noGrad, tensor, tidy } from '../lib';
import { native } from '../lib/native';
import { hasTorch, py } from './helpers/torchpy';

const vals = (t: Tensor | null): number[] => {
  if (!t) throw new Error('expected a tensor, got null');
  return Array.from(t.to('float64').toArray() as Float64Array);
};
function expectClose(a: number[], b: number[], tol = 1e-12): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]), `element ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]))));
}

class Exp extends autograd.Function {
  static forward(ctx: FunctionCtx, x: Tensor): Tensor {
    const y = x.exp();
    ctx.saveForBackward(y);
    return y;
  }
  static backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [y] = ctx.savedTensors;
    return g.mul(y);
  }
}

// a·b·alpha + a, with a number argument.
class MulAdd extends autograd.Function {
  static forward(ctx: FunctionCtx, a: Tensor, b: Tensor, alpha: number): Tensor {
    ctx.saveForBackward(a, b);
    ctx.alpha = alpha;
    return a.mul(b).mul(alpha).add(a);
  }
  static backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const [a, b] = ctx.savedTensors;
    const alpha = ctx.alpha as number;
    return [g.mul(b).mul(alpha).add(g), g.mul(a).mul(alpha), null];
  }
}

// Two outputs: 2x and x³ (the second's gradient is zeros when the loss does not use it).
class Two extends autograd.Function {
  static forward(ctx: FunctionCtx, x: Tensor): Tensor[] {
    ctx.saveForBackward(x);
    return [x.mul(2), x.pow(3)];
  }
  static backward(ctx: FunctionCtx, g1: Tensor | null, g2: Tensor | null): Tensor {
    const [x] = ctx.savedTensors;
    return g1!.mul(2).add(g2!.mul(x.pow(2)).mul(3));
  }
}

class StraightThroughSign extends autograd.Function {
  static forward(_ctx: FunctionCtx, x: Tensor): Tensor {
    return x.sign();
  }
  static backward(_ctx: FunctionCtx, g: Tensor): Tensor {
    return g;
  }
}

const X = [0.5, -1.25, 2, 0.75];
const Y = [1.5, 0.25, -0.5, 2];

const PY_FUNCTIONS = `
import json, torch
class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp(); ctx.save_for_backward(y); return y
    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors; return g * y
class MulAdd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.save_for_backward(a, b); ctx.alpha = alpha; return a * b * alpha + a
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors; return g * b * ctx.alpha + g, g * a * ctx.alpha, None
class Two(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x); return x * 2, x ** 3
    @staticmethod
    def backward(ctx, g1, g2):
        x, = ctx.saved_tensors; return g1 * 2 + g2 * x ** 2 * 3
class STE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x): return x.sign()
    @staticmethod
    def backward(ctx, g): return g
def t(v): return torch.tensor(v, dtype=torch.float64, requires_grad=True)
out = {}
x = t(${JSON.stringify(X)}); y = Exp.apply(x); (y * y).sum().backward()
out['exp'] = {'y': y.tolist(), 'gx': x.grad.tolist()}
a = t(${JSON.stringify(X)}); b = t(${JSON.stringify(Y)}); z = MulAdd.apply(a, b, 0.5); (z.sin()).sum().backward()
out['muladd'] = {'z': z.tolist(), 'ga': a.grad.tolist(), 'gb': b.grad.tolist()}
x = t(${JSON.stringify(X)}); p, q = Two.apply(x); (p * p).sum().backward()
out['two'] = {'p': p.tolist(), 'q': q.tolist(), 'gx': x.grad.tolist()}
w = t(${JSON.stringify(Y)}); x = torch.tensor(${JSON.stringify(X)}, dtype=torch.float64)
(STE.apply(x * w) * torch.tensor([1., 2., 3., 4.], dtype=torch.float64)).sum().backward()
out['ste'] = {'gw': w.grad.tolist()}
print(json.dumps(out))
`;

const PATHS = [
  ['in place', false],
  ['through the backward thread', true],
] as const;

describe.each(PATHS)('autograd.Function (%s)', (_path, threaded) => {
  beforeAll(() => native().hooksThreadedForTests(threaded));
  afterAll(() => native().hooksThreadedForTests(false));

  it.skipIf(!hasTorch)('values and gradients equal torch.autograd.Function’s on the same inputs', async () => {
    const ref = JSON.parse(await py(PY_FUNCTIONS));
    tidy(() => {
      const t = (v: number[]) => tensor(v, { dtype: 'float64', requiresGrad: true });
      let x = t(X);
      const y = Exp.apply(x) as Tensor;
      expect(y.gradFn).toBe('ExpBackward');
      y.mul(y).sum().backward();
      expectClose(vals(y), ref.exp.y);
      expectClose(vals(x.grad), ref.exp.gx);

      const a = t(X);
      const b = t(Y);
      const z = MulAdd.apply(a, b, 0.5) as Tensor;
      z.sin().sum().backward();
      expectClose(vals(z), ref.muladd.z);
      expectClose(vals(a.grad), ref.muladd.ga);
      expectClose(vals(b.grad), ref.muladd.gb);

      x = t(X);
      const [p, q] = Two.apply(x) as Tensor[];
      p.mul(p).sum().backward(); // q gets no gradient: its backward sees zeros
      expectClose(vals(p), ref.two.p);
      expectClose(vals(q), ref.two.q);
      expectClose(vals(x.grad), ref.two.gx);

      const w = t(Y);
      const xs = tensor(X, { dtype: 'float64' });
      (StraightThroughSign.apply(xs.mul(w)) as Tensor).mul(tensor([1, 2, 3, 4], { dtype: 'float64' })).sum().backward();
      expectClose(vals(w.grad), ref.ste.gw);
    });
  });

  it('needsInputGrad, and a non-floating output that gets no gradient (null in backward)', () => {
    tidy(() => {
      let seen: unknown[] = [];
      class ArgmaxAndDouble extends autograd.Function {
        static forward(ctx: FunctionCtx, x: Tensor, y: Tensor, k: number): Tensor[] {
          seen = [...ctx.needsInputGrad];
          return [x.argmax(), x.mul(k).add(y)];
        }
        static backward(_ctx: FunctionCtx, gIdx: Tensor | null, g: Tensor | null): (Tensor | null)[] {
          seen.push(gIdx);
          return [g!.mul(3), g, null];
        }
      }
      const x = tensor([1, 5, 2], { dtype: 'float64', requiresGrad: true });
      const y = tensor([0, 0, 0], { dtype: 'float64' });
      const [idx, out] = ArgmaxAndDouble.apply(x, y, 3) as Tensor[];
      expect([idx.dtype, idx.requiresGrad, idx.item()]).toEqual(['int64', false, 1]);
      out.sum().backward();
      expect(seen).toEqual([true, false, false, null]);
      expect(vals(x.grad)).toEqual([3, 3, 3]);
    });
  });

  it('double backward through a differentiable backward (createGraph)', () => {
    tidy(() => {
      class Cube extends autograd.Function {
        static forward(ctx: FunctionCtx, x: Tensor): Tensor {
          ctx.saveForBackward(x);
          return x.pow(3);
        }
        static backward(ctx: FunctionCtx, g: Tensor): Tensor {
          const [x] = ctx.savedTensors;
          return g.mul(x.pow(2)).mul(3);
        }
      }
      const x = tensor([1, 2, -3], { dtype: 'float64', requiresGrad: true });
      const [d1] = autograd.grad((Cube.apply(x) as Tensor).sum(), x, { createGraph: true });
      expect(vals(d1)).toEqual([3, 12, 27]);
      const [d2] = autograd.grad(d1!.sum(), x);
      expect(vals(d2)).toEqual([6, 12, -18]);
    });
  });

  it('a saved input or output changed in place before the backward is refused, as PyTorch refuses it (also after a first backward that kept the graph)', () => {
    tidy(() => {
      const msg = (name: string) => new RegExp(`${name}: saved tensor 0 \\(Double \\[3\\]\\) was modified by an in-place operation after the forward saved it: it is at version 1, expected version 0`);
      const x = tensor([0.1, 0.2, 0.3], { dtype: 'float64', requiresGrad: true });
      const y = Exp.apply(x) as Tensor; // saves its output
      noGrad(() => y.mul_(2));
      expect(() => y.sum().backward()).toThrow(msg('ExpBackward'));
      const a = x.mul(1);
      const b = tensor([1, 1, 1], { dtype: 'float64' });
      const z = MulAdd.apply(a, b, 1) as Tensor; // saves its inputs
      a.add_(1);
      expect(() => z.sum().backward()).toThrow(msg('MulAddBackward'));
      const ok = MulAdd.apply(x.mul(1), b, 1) as Tensor;
      ok.sum().backward(undefined, { retainGraph: true });
      b.add_(1); // between two backwards: the second sees it, as in PyTorch
      expect(() => ok.sum().backward()).toThrow(/MulAddBackward: saved tensor 1 \(Double \[3\]\) was modified/);
    });
  });

  it('frees the saved tensors after a backward that does not keep the graph; retainGraph keeps them', () => {
    tidy(() => {
      const x = tensor([0, 1], { dtype: 'float64', requiresGrad: true });
      const y = (Exp.apply(x) as Tensor).sum();
      y.backward(undefined, { retainGraph: true });
      y.backward();
      expectClose(vals(x.grad), [2, 2 * Math.E]);
      expect(() => y.backward()).toThrow(/ExpBackward: trying to backward through the graph a second time, after its saved tensors were freed; pass retainGraph: true/);
    });
  });

  it('errors: a wrong number of gradients, a non-Tensor one, a gradient of the wrong shape, a throwing backward', () => {
    tidy(() => {
      const make = (backward: (g: Tensor) => unknown) =>
        class Bad extends autograd.Function {
          static forward(_ctx: FunctionCtx, x: Tensor, _k: number): Tensor {
            return x.mul(2);
          }
          static backward(_ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
            return backward(g) as (Tensor | null)[];
          }
        };
      const x = () => tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
      const run = (F: ReturnType<typeof make>) => (F.apply(x(), 2) as Tensor).sum().backward();
      expect(() => run(make((g) => [g]))).toThrow(/Bad\.backward returned 1 gradient, expected 2 \(one per argument of forward, null for none\)/);
      expect(() => run(make(() => ['g', null]))).toThrow(/Bad\.backward: expected a Tensor or null for result\[0\]/);
      expect(() => run(make((g) => [g, g]))).toThrow(/Bad\.backward returned a gradient for argument 1, which is not a Tensor; return null there/);
      expect(() => run(make((g) => [g.sum(), null]))).toThrow(/BadBackward.*invalid gradient at index 0 - got \[\] but expected shape compatible with \[3\]/);
      const boom = new Error('no backward today');
      let caught: unknown;
      try {
        run(
          make(() => {
            throw boom;
          }),
        );
      } catch (e) {
        caught = e;
      }
      expect(caught).toBe(boom);
    });
  });
});

describe('autograd.Function', () => {
  it('without grad (noGrad, or no input that requires it) returns the forward’s outputs, with no backward', () => {
    tidy(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      const a = noGrad(() => Exp.apply(x) as Tensor);
      const b = Exp.apply(tensor([1, 2])) as Tensor;
      expect([a.requiresGrad, a.gradFn, b.requiresGrad, b.gradFn]).toEqual([false, null, false, null]);
    });
  });

  it('refuses a forward that returns something other than Tensors, and a class without forward or backward', () => {
    tidy(() => {
      class NotTensor extends autograd.Function {
        static forward(): Tensor {
          return 42 as never;
        }
      }
      class NoForward extends autograd.Function {}
      class NoBackward extends autograd.Function {
        static forward(_ctx: FunctionCtx, x: Tensor): Tensor {
          return x.mul(2);
        }
      }
      const x = tensor([1, 2], { requiresGrad: true });
      expect(() => NotTensor.apply(x)).toThrow(/^NotTensor\.forward: expected a Tensor or an array of Tensors for result but received 42/);
      expect(() => NoForward.apply(x)).toThrow(/NoForward\.forward is not implemented/);
      expect(() => (NoBackward.apply(x) as Tensor).sum().backward()).toThrow(/NoBackward\.backward is not implemented/);
      expect(() => new FunctionCtx([]).savedTensors).toThrow(/read them in backward/);
    });
  });

  it('in a Trainer step (a JS forward; the backward is called from the training thread)', async () => {
    class Scaled extends nn.Module {
      lin = new nn.Linear(6, 3);
      forward(x: Tensor): Tensor {
        return MulAdd.apply(this.lin.forward(x) as Tensor, this.lin.forward(x) as Tensor, 0.25) as Tensor;
      }
    }
    class Plain extends nn.Module {
      lin = new nn.Linear(6, 3);
      forward(x: Tensor): Tensor {
        const h = this.lin.forward(x) as Tensor;
        return h.mul(h).mul(0.25).add(h);
      }
    }
    const a = new Scaled();
    const b = new Plain();
    tidy(() => b.loadStateDict(a.stateDict()));
    const ta = new Trainer(a, new SGD(a.parameters(), { lr: 0.1 }));
    const tb = new Trainer(b, new SGD(b.parameters(), { lr: 0.1 }));
    const x = tensor(Array.from({ length: 8 * 6 }, (_, i) => Math.sin(i))).reshape([8, 6]);
    const y = tensor([0n, 1n, 2n, 0n, 1n, 2n, 0n, 1n]);
    for (let i = 0; i < 3; i++) {
      const [ra, rb] = [await ta.step(x, y), await tb.step(x, y)];
      expect(Math.abs((ra.loss.item() as number) - (rb.loss.item() as number))).toBeLessThan(1e-6);
    }
    tidy(() => {
      const sa = a.stateDict(), sb = b.stateDict();
      for (const k of Object.keys(sa)) expect(sa[k].sub(sb[k]).abs().max().item(), k).toBeLessThan(1e-6);
    });
    ta.dispose();
    tb.dispose();
  });

  it('the forward\'s intermediates are freed when it returns; what it returns, saves or keeps on ctx stays for the backward', () => {
    // forward makes six tensors: two intermediates it drops, one saved, one on a ctx field, one in an array on
    // ctx, and the result. The live count rises by the four it keeps (the result among them).
    class Keeps extends autograd.Function {
      static forward(ctx: FunctionCtx, x: Tensor): Tensor {
        const dropped = x.add(1).mul(3);
        ctx.saveForBackward(x.cos());
        ctx.two = x.mul(2);
        ctx.list = [x.square()];
        return dropped.sub(3).sin();
      }
      static backward(ctx: FunctionCtx, g: Tensor): Tensor {
        const [cosx] = ctx.savedTensors;
        return g.mul(cosx).mul(ctx.two as Tensor).div((ctx.list as Tensor[])[0].add(1e-300)); // cos x · 2x / x²
      }
    }
    tidy(() => {
      const x = tensor([0.5, 1.5], { dtype: 'float64', requiresGrad: true });
      const before = memory().tensors;
      const y = Keeps.apply(x) as Tensor;
      expect(memory().tensors - before).toBe(4);
      expectClose(vals(y), [Math.sin(1.5), Math.sin(4.5)]);
      y.sum().backward();
      expectClose(vals(x.grad), [(Math.cos(0.5) * 2) / 0.5, (Math.cos(1.5) * 2) / 1.5]);
    });
  });

  it('a loop of applies and backwards keeps the live tensor count flat', () => {
    const x = tensor([0.1, 0.2, 0.3], { requiresGrad: true });
    const round = () =>
      tidy(() => {
        (MulAdd.apply(Exp.apply(x) as Tensor, x, 2) as Tensor).sum().backward();
        x.zeroGrad();
      });
    for (let i = 0; i < 5; i++) round();
    const before = memory().tensors;
    for (let i = 0; i < 50; i++) round();
    expect(memory().tensors).toBe(before);
    x.dispose();
  });
});
