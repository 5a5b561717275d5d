// Tensor hooks (Tensor.registerHook): what they see and change, compared with python3-torch on the same graph;
// their errors; nesting; and hooks fired by a Trainer's step on the training thread (which may read the model the
// step holds, and whose wrappers are freed after each step). The backward tests run
// twice: as a CPU graph runs (on the JS thread, hooks called in place) and through the backward thread that a
// graph reaching CUDA takes (the JS thread serving the hook calls).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SGD, Tensor, Trainer, autograd, enableGrad, info, isGradEnabled, memory, nn, noGrad, tensor, tidy } from '../lib';
import { native } from '../lib/native';
import { liveTensors, settleGc } from './helpers/gc';
import { hasTorch, py, sameTorchVersion } from './helpers/torchpy';

const vals = (t: Tensor | null): number[] => {
  if (!t) throw new Error('expected a tensor, got null');
  return Array.from(t.toArray() as Float64Array);
};
const X = [0.5, -1.25, 2, 0.75];
const W = [1.5, 0.25, -0.5, 2];

// The same graph in both: h = x·w (hooked: ×2 + 0.5), y = sum(sin(h)·w); x's hook adds 1, w's only records.
function jsGraph(): { x: Tensor; w: Tensor; seenW: number[][]; seenH: number[][]; y: Tensor } {
  const x = tensor(X, { dtype: 'float64', requiresGrad: true });
  const w = tensor(W, { dtype: 'float64', requiresGrad: true });
  const seenW: number[][] = [];
  const seenH: number[][] = [];
  x.registerHook((g) => g.add(1));
  w.registerHook((g) => {
    seenW.push(vals(g));
  });
  const h = x.mul(w);
  h.registerHook((g) => {
    seenH.push(vals(g));
    return g.mul(2).add(0.5);
  });
  return { x, w, seenW, seenH, y: h.sin().mul(w).sum() };
}

const PY_GRAPH = `
import json, torch
x = torch.tensor(${JSON.stringify(X)}, dtype=torch.float64, requires_grad=True)
w = torch.tensor(${JSON.stringify(W)}, dtype=torch.float64, requires_grad=True)
seen_w, seen_h = [], []
x.register_hook(lambda g: g + 1)
w.register_hook(lambda g: seen_w.append(g.tolist()))
h = x * w
def hh(g):
    seen_h.append(g.tolist())
    return g * 2 + 0.5
h.register_hook(hh)
y = (h.sin() * w).sum()
`;

function expectClose(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]), `element ${i}: ${v} vs ${b[i]}`).toBeLessThan(1e-12));
}

const PATHS = [
  ['in place', false],
  ['through the backward thread', true],
] as const;

function onPath(threaded: boolean): void {
  beforeAll(() => native().hooksThreadedForTests(threaded));
  afterAll(() => native().hooksThreadedForTests(false));
}

describe.skipIf(!hasTorch).each(PATHS)('registerHook, against python3-torch (%s)', (_path, threaded) => {
  onPath(threaded);

  it('backward: a hook replaces the gradient downstream and in .grad, an observer sees it unchanged', async () => {
    const ref = JSON.parse(await py(`${PY_GRAPH}
y.backward()
print(json.dumps({'x': x.grad.tolist(), 'w': w.grad.tolist(), 'seen_w': seen_w, 'seen_h': seen_h}))`));
    tidy(() => {
      const { x, w, seenW, seenH, y } = jsGraph();
      y.backward();
      expectClose(vals(x.grad), ref.x);
      expectClose(vals(w.grad), ref.w);
      expect(seenW.length).toBe(1);
      expect(seenH.length).toBe(1);
      expectClose(seenW[0], ref.seen_w[0]);
      expectClose(seenH[0], ref.seen_h[0]);
    });
  });

  // Whether the hooks of the inputs themselves run in autograd.grad differs between LibTorch 1.13 (it returns the
  // gradient before them) and 2.13 (after), and ictorch does what its LibTorch does: those two are compared where
  // python3's torch is the addon's version; the hooks on the path apply alike in every version.
  it('autograd.grad: hooks on the path apply as in PyTorch; the inputs’ own hooks as in the same PyTorch version', async () => {
    const ref = JSON.parse(await py(`${PY_GRAPH}
gx, gw = torch.autograd.grad(y, [x, w])
print(json.dumps({'x': gx.tolist(), 'w': gw.tolist(), 'seen_w': seen_w, 'seen_h': seen_h}))`));
    tidy(() => {
      const { x, w, seenW, seenH, y } = jsGraph();
      const [gx, gw] = autograd.grad(y, [x, w]);
      expectClose(vals(gw), ref.w);
      expect(seenH.length).toBe(ref.seen_h.length);
      seenH.forEach((s, i) => expectClose(s, ref.seen_h[i]));
      if (sameTorchVersion(info().torchVersion)) {
        expectClose(vals(gx), ref.x);
        expect(seenW.length).toBe(ref.seen_w.length);
      }
      expect(x.grad).toBeNull();
    });
  });

  it('hooks on one tensor run in registration order, each on the previous one’s result', async () => {
    const ref = JSON.parse(await py(`
import json, torch
x = torch.tensor(${JSON.stringify(X)}, dtype=torch.float64, requires_grad=True)
x.register_hook(lambda g: g * 3)
x.register_hook(lambda g: g - 1)
(x * x).sum().backward()
print(json.dumps(x.grad.tolist()))`));
    tidy(() => {
      const x = tensor(X, { dtype: 'float64', requiresGrad: true });
      const order: string[] = [];
      x.registerHook((g) => (order.push('a'), g.mul(3)));
      x.registerHook((g) => (order.push('b'), g.sub(1)));
      x.mul(x).sum().backward();
      expect(order).toEqual(['a', 'b']);
      expectClose(vals(x.grad), ref);
    });
  });
});

describe.each(PATHS)('registerHook (%s)', (_path, threaded) => {
  onPath(threaded);

  it('remove() stops the hook at once; calling it again does nothing', () => {
    tidy(() => {
      const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
      let calls = 0;
      const h = x.registerHook((g) => (calls++, g.mul(10)));
      x.sum().backward();
      expect(vals(x.grad)).toEqual([10, 10, 10]);
      h.remove();
      h.remove();
      x.zeroGrad();
      x.sum().backward();
      expect(vals(x.grad)).toEqual([1, 1, 1]);
      expect(calls).toBe(1);
    });
  });

  it('a hook registered on a non-leaf runs on every backward through it, retainGraph included', () => {
    tidy(() => {
      const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      const h = x.mul(2);
      const seen: number[][] = [];
      h.registerHook((g) => {
        seen.push(vals(g));
      });
      const y = h.mul(h).sum();
      y.backward(undefined, { retainGraph: true });
      y.backward();
      expect(seen).toEqual([[4, 8], [4, 8]]);
      expect(vals(x.grad)).toEqual([16, 32]);
    });
  });

  it('an error thrown by a hook ends backward with that same error, and the next backward works', () => {
    tidy(() => {
      const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      const boom = new Error('boom from the hook');
      const h = x.registerHook(() => {
        throw boom;
      });
      let caught: unknown;
      try {
        x.mul(3).sum().backward();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBe(boom);
      h.remove();
      x.mul(3).sum().backward();
      expect(vals(x.grad)).toEqual([3, 3]);
    });
  });

  it('refuses a result of another shape, dtype or kind, saying what it expected', () => {
    tidy(() => {
      const cases: [(g: Tensor) => unknown, RegExp, ErrorConstructor][] = [
        [(g) => g.sum(), /returned a gradient of shape \[\] for a gradient of shape \[2, 3\]; it must keep the gradient's shape/, RangeError],
        [(g) => g.to('float32'), /returned a float32 gradient on cpu for a float64 gradient on cpu; it must keep the gradient's dtype and device/, TypeError],
        [() => 42, /registerHook: expected a Tensor or nothing for the hook's result/, TypeError],
      ];
      for (const [hook, message, type] of cases) {
        const x = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64', requiresGrad: true });
        x.registerHook(hook as (g: Tensor) => Tensor);
        let caught: unknown;
        try {
          x.mul(2).sum().backward();
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(type);
        expect(String((caught as Error).message)).toMatch(message);
        expect(x.grad).toBeNull();
      }
    });
  });

  it('refuses a tensor that does not require grad, and a hook that is not a function', () => {
    tidy(() => {
      expect(() => tensor([1, 2]).registerHook((g) => g)).toThrow(/registerHook: cannot register a hook on a tensor that does not require grad/);
      const x = tensor([1, 2], { requiresGrad: true });
      expect(() => x.registerHook('g * 2' as never)).toThrow(TypeError);
      expect(() => x.registerHook('g * 2' as never)).toThrow(/registerHook: argument 'hook' must be a function/);
    });
  });

  it('a hook may run autograd itself (a nested backward is served too)', () => {
    tidy(() => {
      const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
      const z = tensor([2, 2, 2], { dtype: 'float64', requiresGrad: true });
      const v = z.mul(1);
      v.registerHook((g) => g.mul(5));
      let inner: number[] = [];
      let gradModeInHook: boolean | null = null;
      x.registerHook((g) => {
        gradModeInHook = isGradEnabled(); // off during a backward without createGraph, as in PyTorch
        // d/dz sum(v³) with v = z: 3v² = 12, times 5 from v's hook
        inner = vals(enableGrad(() => autograd.grad(v.pow(3).sum(), z))[0]);
        return g.add(1);
      });
      x.mul(x).sum().backward();
      expect(gradModeInHook).toBe(false);
      expect(isGradEnabled()).toBe(true);
      expect(inner).toEqual([60, 60, 60]);
      expect(vals(x.grad)).toEqual([3, 5, 7]);
    });
  });

  it('a hook on a tensor disposed from JS keeps working inside the graph that holds it', () => {
    tidy(() => {
      const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      const h = x.mul(2);
      let calls = 0;
      const handle = h.registerHook((g) => (calls++, g.mul(0)));
      const y = h.sum();
      h.dispose();
      y.backward();
      expect(calls).toBe(1);
      expect(vals(x.grad)).toEqual([0, 0]);
      handle.remove(); // the tensor is gone from JS: removing still stops the hook and does not throw
    });
  });

  it('registering and firing hooks in a loop keeps the live tensor count flat', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const round = () =>
      tidy(() => {
        const h = x.mul(2);
        h.registerHook((g) => g.mul(2));
        h.sum().backward();
        x.zeroGrad();
      });
    for (let i = 0; i < 5; i++) round();
    const before = memory().tensors;
    for (let i = 0; i < 50; i++) round();
    expect(memory().tensors).toBe(before);
    x.dispose();
  });
});

describe('registerHook in a Trainer step (the hook fires on the training thread)', () => {
  function model(): nn.Module {
    return new nn.Sequential(new nn.Flatten(), new nn.Linear(12, 4), new nn.ReLU(), new nn.Linear(4, 3));
  }
  const x = () => tensor(Array.from({ length: 8 * 12 }, (_, i) => Math.sin(i)), { dtype: 'float32' }).reshape([8, 3, 2, 2]);
  const y = () => tensor([0n, 1n, 2n, 0n, 1n, 2n, 0n, 1n]);

  for (const jsForward of [false, true]) {
    it(`${jsForward ? 'a JS forward' : 'the native step'}: a hook that zeroes one parameter's gradient freezes it, the others train`, async () => {
      const inner = model();
      const m = jsForward
        ? new (class extends nn.Module {
            body = inner;
            forward(t: Tensor): Tensor {
              return this.body.forward(t) as Tensor;
            }
          })()
        : inner;
      const [w0, , w1] = m.parameters();
      const before = noGrad(() => [w0.clone(), w1.clone()]);
      let calls = 0;
      const h = w0.registerHook((g) => (calls++, g.mul(0)));
      const trainer = new Trainer(m, new SGD(m.parameters(), { lr: 0.5 }));
      const [xs, ys] = [x(), y()];
      for (let i = 0; i < 3; i++) {
        const r = await trainer.step(xs, ys);
        r.loss.dispose();
        r.correct?.dispose();
      }
      expect(calls).toBe(3);
      expect(vals(w0.to('float64'))).toEqual(vals(before[0].to('float64')));
      expect(vals(w1.to('float64'))).not.toEqual(vals(before[1].to('float64')));
      h.remove();
      const r = await trainer.step(xs, ys);
      r.loss.dispose();
      r.correct?.dispose();
      expect(calls).toBe(3);
      expect(vals(w0.to('float64'))).not.toEqual(vals(before[0].to('float64')));
    });
  }

  it('an error thrown by the hook rejects the step with its message', async () => {
    const m = model();
    const [w0] = m.parameters();
    w0.registerHook(() => {
      throw new Error('no gradients today');
    });
    const trainer = new Trainer(m, new SGD(m.parameters(), { lr: 0.5 }));
    await expect(trainer.step(x(), y())).rejects.toThrow(/a tensor hook \(registerHook\) threw: no gradients today/);
  });

  it('a tensor hook in a Trainer step may read the model the step holds', async () => {
    class Probe extends nn.Module {
      fc = new nn.Linear(4, 3);
      seen: number[] = [];
      forward(x: Tensor): Tensor {
        const h = x.mul(1);
        if (h.requiresGrad) h.registerHook((g) => void this.seen.push((this.fc.weight as Tensor).abs().sum().item() as number, g.numel()));
        return this.fc.forward(h) as Tensor;
      }
    }
    const m = new Probe();
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const trainer = new Trainer(m, opt, { device: 'cpu' });
    const live: number[] = [];
    await settleGc(); // what earlier tests dropped is collected before counting
    const collected = memory().collected;
    for (let i = 0; i < 3; i++) {
      await tidy(async () => {
        await trainer.step(tensor([[0.5, -1, 2, 0.25], [1, 0, -0.5, 3]], { requiresGrad: true }), tensor([0n, 2n]));
      });
      live.push(await liveTensors());
    }
    // the hook's gradient wrappers and what it made were freed after each step, by the step, not by the GC
    expect(live).toEqual([live[0], live[0], live[0]]);
    expect(memory().collected - collected, 'tensors the steps left for the garbage collector').toBe(0);
    expect(m.seen).toHaveLength(6);
    expect(m.seen[0]).toBeGreaterThan(0);
    expect(m.seen[1]).toBe(8);
    trainer.dispose();
    opt.dispose();
    m.dispose();
  });
});
