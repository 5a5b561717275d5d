// Module backward hooks (registerFullBackwardHook, registerFullBackwardPreHook): the gradients they see and
// replace, compared with python3-torch's register_full_backward_hook on the same module and inputs; their
// errors; and a Trainer step through a hooked sub-module.
import { describe, expect, it } from 'vitest';
import { SGD, Tensor, Trainer, nn, noGrad, tensor, tidy } from '../lib';
import { hasTorch, py } from './helpers/torchpy';

const vals = (t: Tensor | null): number[] | null => (t ? Array.from(t.to('float64').toArray() as Float64Array) : null);
const X = [
  [0.5, -1.25, 2],
  [0.75, 0.1, -0.3],
];
const Y = [
  [1, 2, -1],
  [0.5, -0.5, 3],
];

function closeTo(a: unknown, b: unknown, path = ''): void {
  if (Array.isArray(b)) {
    expect(Array.isArray(a), path).toBe(true);
    expect((a as unknown[]).length, path).toBe(b.length);
    b.forEach((v, i) => closeTo((a as unknown[])[i], v, `${path}[${i}]`));
  } else if (typeof b === 'number') {
    expect(Math.abs((a as number) - b), `${path}: ${a} vs ${b}`).toBeLessThan(1e-12);
  } else {
    expect(a, path).toEqual(b);
  }
}

function linear(): nn.Linear {
  const m = new nn.Linear(3, 2).to('float64');
  noGrad(() => {
    m.weight!.copy_(tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], { dtype: 'float64' }));
    m.bias!.copy_(tensor([0.05, -0.05], { dtype: 'float64' }));
  });
  return m;
}

const PY_LINEAR = `
import json, torch
m = torch.nn.Linear(3, 2).double()
with torch.no_grad():
    m.weight.copy_(torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], dtype=torch.float64))
    m.bias.copy_(torch.tensor([0.05, -0.05], dtype=torch.float64))
seen = []
out = {}
`;

describe.skipIf(!hasTorch)('module backward hooks, against python3-torch', () => {
  it('registerFullBackwardHook on a Linear: sees gradInput and gradOutput, and a doubled gradInput reaches x', async () => {
    const ref = JSON.parse(await py(`${PY_LINEAR}
def hook(mod, gi, go):
    seen.append([[g.tolist() if g is not None else None for g in gi], [g.tolist() for g in go]])
    return (gi[0] * 2,)
m.register_full_backward_hook(hook)
x = torch.tensor(${JSON.stringify(X)}, dtype=torch.float64, requires_grad=True)
(m(x).tanh().sum()).backward()
print(json.dumps({'seen': seen, 'x': x.grad.tolist(), 'w': m.weight.grad.tolist()}))`));
    tidy(() => {
      const m = linear();
      const seen: unknown[] = [];
      m.registerFullBackwardHook((mod, gi, go) => {
        expect(mod).toBe(m);
        seen.push([gi.map((g) => (g ? (g.toNested() as unknown) : null)), go.map((g) => g!.toNested())]);
        return [gi[0]!.mul(2)];
      });
      const x = tensor(X, { dtype: 'float64', requiresGrad: true });
      (m.forward(x) as Tensor).tanh().sum().backward();
      closeTo(seen, ref.seen);
      closeTo(x.grad!.toNested(), ref.x);
      closeTo(m.weight!.grad!.toNested(), ref.w);
    });
  });

  it('an input that needs no gradient: the hook runs once with [null] and the output gradient', async () => {
    const ref = JSON.parse(await py(`${PY_LINEAR}
m.register_full_backward_hook(lambda mod, gi, go: seen.append([[None if g is None else g.tolist() for g in gi], [g.tolist() for g in go]]))
x = torch.tensor(${JSON.stringify(X)}, dtype=torch.float64)
(m(x) ** 2).sum().backward()
print(json.dumps({'seen': seen, 'w': m.weight.grad.tolist()}))`));
    tidy(() => {
      const m = linear();
      const seen: unknown[] = [];
      m.registerFullBackwardHook((_m, gi, go) => {
        seen.push([gi.map((g) => (g ? g.toNested() : null)), go.map((g) => g!.toNested())]);
      });
      (m.forward(tensor(X, { dtype: 'float64' })) as Tensor).pow(2).sum().backward();
      closeTo(seen, ref.seen);
      closeTo(m.weight!.grad!.toNested(), ref.w);
    });
  });

  it('a module of two tensor inputs: one call with both gradients; a replaced second gradient reaches b', async () => {
    const ref = JSON.parse(await py(`
import json, torch
class Two(torch.nn.Module):
    def forward(self, a, b):
        return a * b + a.sin()
m = Two()
seen = []
def hook(mod, gi, go):
    seen.append([[g.tolist() for g in gi], [g.tolist() for g in go]])
    return (gi[0], gi[1] * -1)
m.register_full_backward_hook(hook)
a = torch.tensor(${JSON.stringify(X)}, dtype=torch.float64, requires_grad=True)
b = torch.tensor(${JSON.stringify(Y)}, dtype=torch.float64, requires_grad=True)
(m(a, b) * b).sum().backward()
print(json.dumps({'seen': seen, 'a': a.grad.tolist(), 'b': b.grad.tolist()}))`));
    class Two extends nn.Module {
      forward(a: Tensor, b: Tensor): Tensor {
        return a.mul(b).add(a.sin());
      }
    }
    tidy(() => {
      const m = new Two();
      const seen: unknown[] = [];
      m.registerFullBackwardHook((_m, gi, go) => {
        seen.push([gi.map((g) => g!.toNested()), go.map((g) => g!.toNested())]);
        return [gi[0], gi[1]!.neg()];
      });
      const a = tensor(X, { dtype: 'float64', requiresGrad: true });
      const b = tensor(Y, { dtype: 'float64', requiresGrad: true });
      (m.forward(a, b) as Tensor).mul(b).sum().backward();
      closeTo(seen, ref.seen);
      closeTo(a.grad!.toNested(), ref.a);
      closeTo(b.grad!.toNested(), ref.b);
    });
  });

  it('a hooked layer inside a Sequential (the container then runs through JS) gives the same gradients', async () => {
    const ref = JSON.parse(await py(`${PY_LINEAR}
net = torch.nn.Sequential(m, torch.nn.ReLU(), torch.nn.Linear(2, 1).double())
with torch.no_grad():
    net[2].weight.fill_(0.7); net[2].bias.fill_(0.1)
m.register_full_backward_hook(lambda mod, gi, go: seen.append(go[0].tolist()))
x = torch.tensor(${JSON.stringify(X)}, dtype=torch.float64, requires_grad=True)
net(x).sum().backward()
print(json.dumps({'seen': seen, 'x': x.grad.tolist(), 'w': m.weight.grad.tolist()}))`));
    tidy(() => {
      const m = linear();
      const last = new nn.Linear(2, 1).to('float64');
      noGrad(() => {
        last.weight!.fill_(0.7);
        last.bias!.fill_(0.1);
      });
      const net = new nn.Sequential(m, new nn.ReLU(), last);
      const seen: unknown[] = [];
      m.registerFullBackwardHook((_m, _gi, go) => void seen.push(go[0]!.toNested()));
      const x = tensor(X, { dtype: 'float64', requiresGrad: true });
      (net.forward(x) as Tensor).sum().backward();
      closeTo(seen, ref.seen);
      closeTo(x.grad!.toNested(), ref.x);
      closeTo(m.weight!.grad!.toNested(), ref.w);
    });
  });
});

describe('module backward hooks', () => {
  it('registerFullBackwardPreHook replaces the output gradient before the module’s backward; the full hook sees the replacement', () => {
    tidy(() => {
      const plain = linear();
      const x = tensor(X, { dtype: 'float64', requiresGrad: true });
      (plain.forward(x) as Tensor).sum().backward();
      const base = { x: vals(x.grad)!, w: vals(plain.weight!.grad)! };

      const m = linear();
      const order: string[] = [];
      let fullSaw: number[] | null = null;
      m.registerFullBackwardPreHook((_m, go) => {
        order.push('pre');
        return [go[0]!.mul(3)];
      });
      m.registerFullBackwardHook((_m, _gi, go) => {
        order.push('full');
        fullSaw = vals(go[0]);
      });
      const x2 = tensor(X, { dtype: 'float64', requiresGrad: true });
      (m.forward(x2) as Tensor).sum().backward();
      expect(order).toEqual(['pre', 'full']);
      expect(fullSaw).toEqual([3, 3, 3, 3]);
      closeTo(vals(x2.grad), base.x.map((v) => 3 * v));
      closeTo(vals(m.weight!.grad), base.w.map((v) => 3 * v));
    });
  });

  it('remove() stops the hook; no grad mode runs no hook and returns the plain output', () => {
    tidy(() => {
      const m = linear();
      let calls = 0;
      const h = m.registerFullBackwardHook(() => void calls++);
      const x = tensor(X, { dtype: 'float64', requiresGrad: true });
      (m.forward(x) as Tensor).sum().backward();
      expect(calls).toBe(1);
      const y = noGrad(() => m.forward(x) as Tensor);
      expect(y.requiresGrad).toBe(false);
      h.remove();
      (m.forward(x) as Tensor).sum().backward();
      expect(calls).toBe(1);
    });
  });

  it('refuses a result of the wrong length or shape, a forward that does not return a Tensor, inputs of two dtypes', () => {
    tidy(() => {
      const x = () => tensor(X, { dtype: 'float64', requiresGrad: true });
      const m1 = linear();
      m1.registerFullBackwardHook((_m, gi) => [gi[0], gi[0]]);
      expect(() => (m1.forward(x()) as Tensor).sum().backward()).toThrow(/registerFullBackwardHook: expected nothing or an array of 1 gradient \(Tensors or null\)/);
      const m2 = linear();
      m2.registerFullBackwardHook((_m, gi) => [gi[0]!.sum(0)]);
      expect(() => (m2.forward(x()) as Tensor).sum().backward()).toThrow(/registerFullBackwardHook: the hook returned a gradient of shape \[3\] for linear's input of shape \[2,3\]/);
      const m3 = linear();
      m3.registerFullBackwardPreHook(() => 'twice' as never);
      expect(() => (m3.forward(x()) as Tensor).sum().backward()).toThrow(TypeError);

      class Pair extends nn.Module {
        forward(a: Tensor): Tensor[] {
          return [a, a.mul(2)];
        }
      }
      const p = new Pair();
      p.registerFullBackwardHook(() => undefined);
      expect(() => p.forward(x())).toThrow(/Pair's forward must return one Tensor for its backward hooks, got an array/);

      class Mix extends nn.Module {
        forward(a: Tensor, b: Tensor): Tensor {
          return a.add(b.to('float64'));
        }
      }
      const mix = new Mix();
      mix.registerFullBackwardHook(() => undefined);
      expect(() => mix.forward(x(), tensor(X, { requiresGrad: true }))).toThrow(/inputs that require grad must share one dtype and device \(found float64 on cpu, float32 on cpu\)/);
      expect(() => linear().registerFullBackwardHook(42 as never)).toThrow(/registerFullBackwardHook: expected a function for hook/);
    });
  });

  it('a hooked sub-module in a Trainer step: the hook runs every step (on the JS thread, called from the training thread)', async () => {
    const first = new nn.Linear(12, 4);
    const m = new nn.Sequential(new nn.Flatten(), first, new nn.ReLU(), new nn.Linear(4, 3));
    const norms: number[] = [];
    const h = first.registerFullBackwardHook((_m, _gi, go) => void norms.push(go[0]!.norm().item() as number));
    const trainer = new Trainer(m, new SGD(m.parameters(), { lr: 0.1 }));
    const xs = tensor(Array.from({ length: 8 * 12 }, (_, i) => Math.cos(i))).reshape([8, 3, 2, 2]);
    const ys = tensor([0n, 1n, 2n, 0n, 1n, 2n, 0n, 1n]);
    for (let i = 0; i < 3; i++) {
      const r = await trainer.step(xs, ys);
      r.loss.dispose();
      r.correct?.dispose();
    }
    expect(norms.length).toBe(3);
    expect(norms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
    h.remove();
  });
});
