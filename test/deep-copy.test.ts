// deepCopy (lib/deep-copy.ts), Python's copy.deepcopy for modules, tensors and what holds them: a copy computes
// what the original computes, holds the same values, dtypes, modes, requiresGrad flags and gradients in memory
// of its own, keeps what is shared shared, draws no random numbers, and refuses what it cannot copy. Also
// Tensor.grad's setter (PyTorch's `t.grad = g`), which copying gradients uses.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { native } from '../lib/native';
import { nativeModule } from '../lib/nn/module';
import { vals } from './helpers/compare';

const { nn, deepCopy, tidy, noGrad } = torch;

/** Every parameter and buffer of `m` by name, as numbers. */
const stateOf = (m: torch.nn.Module): Record<string, number[]> =>
  tidy(() => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, vals(t)])));

/** Adds 1 to every floating parameter and buffer of `m` in place. */
const bump = (m: torch.nn.Module): void =>
  tidy(() => noGrad(() => Object.values(m.stateDict()).forEach((t) => (t.dtype.startsWith('float') ? t.add_(1) : t))));

/** Each case: a module (built afresh), an input, and its forward as numbers (eval mode, no gradient). */
const cases: [string, () => torch.nn.Module, () => torch.Tensor][] = [
  ['ResNet-20 ReLU-IC-Conv (native layers, containers)', () => torch.resnetCifar({ depth: 20, layout: 'relu-ic-conv', dropRate: 0.1 }), () => torch.randn([2, 3, 16, 16])],
  ['ResNet-20 baseline', () => torch.resnetCifar({ depth: 20, layout: 'baseline' }), () => torch.randn([2, 3, 16, 16])],
  ['LSTM (TypeScript, 2 layers, bidirectional)', () => new nn.LSTM(5, 4, { numLayers: 2, bidirectional: true, batchFirst: true }), () => torch.randn([2, 3, 5])],
  ['LayerNorm', () => new nn.LayerNorm([6]), () => torch.randn([3, 6])],
  ['TransformerEncoderLayer', () => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true }), () => torch.randn([2, 3, 8])],
  ['Conv1d in a Sequential with BatchNorm1d', () => new nn.Sequential(new nn.Conv1d(3, 4, 3, { padding: 1 }), new nn.BatchNorm1d(4), new nn.ReLU()), () => torch.randn([2, 3, 7])],
];

/** The forward of `m` on `x` as numbers (an LSTM gives [output, state]: its output). */
function run(m: torch.nn.Module, x: torch.Tensor): number[] {
  return tidy(() => {
    const y = noGrad(() => m.forward(x)) as torch.Tensor | [torch.Tensor, unknown];
    return vals(Array.isArray(y) ? y[0] : y);
  });
}

describe('deepCopy of modules', () => {
  it.each(cases)('%s: same class, values and results; memory of its own', (_, make, input) => {
    torch.manualSeed(1);
    const m = make();
    const x = input();
    // Running statistics that are not the initial ones, so that buffers are seen to be copied.
    if (m.isNative) tidy(() => noGrad(() => m.forward(x)));
    m.eval();
    const copy = deepCopy(m);
    expect(copy).not.toBe(m);
    expect(copy.constructor).toBe(m.constructor);
    expect(copy.kind).toBe(m.kind);
    expect(copy.isNative).toBe(m.isNative);
    expect(stateOf(copy)).toEqual(stateOf(m));
    expect(run(copy, x)).toEqual(run(m, x));
    // The copy's tensors are its own: changing the original leaves it as it was.
    const before = stateOf(copy);
    const out = run(copy, x);
    bump(m);
    expect(stateOf(copy)).toEqual(before);
    expect(run(copy, x)).toEqual(out);
    expect(run(m, x)).not.toEqual(out);
    [m, copy].forEach((t) => t.dispose());
    x.dispose();
  });

  it('keeps training modes per module, requiresGrad flags, dtypes and gradients, and draws no random numbers', () => {
    torch.manualSeed(2);
    const m = torch.resnetCifar({ depth: 8, layout: 'relu-ic-conv', dropRate: 0.2 });
    m.to({ dtype: 'float64' });
    m.eval();
    const children = m.children();
    children[1].train();
    tidy(() => m.parameters()[0].requiresGrad_(false));
    const x = torch.randn([2, 3, 8, 8], { dtype: 'float64' });
    tidy(() => (m.forward(x) as torch.Tensor).sum().backward());

    const rng = torch.rngState();
    const copy = deepCopy(m);
    const after = torch.rngState();
    expect(tidy(() => vals(after.cpu))).toEqual(tidy(() => vals(rng.cpu)));

    expect(copy.modules().map((s) => s.training)).toEqual(m.modules().map((s) => s.training));
    tidy(() => {
      const [ps, qs] = [m.parameters(), copy.parameters()];
      expect(qs.map((p) => p.requiresGrad)).toEqual(ps.map((p) => p.requiresGrad));
      expect(qs.map((p) => p.dtype)).toEqual(ps.map((p) => p.dtype));
      expect(qs.map((p) => (p.grad ? vals(p.grad) : null))).toEqual(ps.map((p) => (p.grad ? vals(p.grad) : null)));
      expect(ps[0].grad).toBeNull();
      // The gradients are copies too: zeroing the original's leaves the copy's.
      const g = vals(qs[1].grad!);
      m.zeroGrad(false);
      expect(vals(qs[1].grad!)).toEqual(g);
      expect(g.some((v) => v !== 0)).toBe(true);
    });
    [m, copy, x, rng.cpu, after.cpu].forEach((t) => t.dispose());
  });

  it('a module written in TypeScript: its class, plain fields copied, shared children stay shared, hooks copied', () => {
    class Twin extends nn.Module {
      fc = new nn.Linear(3, 3);
      head: torch.nn.Module;
      config = { scale: 2, tags: ['a'], table: new Map([['k', [1]]]) };
      calls = 0;
      constructor() {
        super();
        this.head = this.fc; // the same layer twice
        this.registerBuffer('offset', torch.ones([3]));
      }
      forward(x: torch.Tensor): torch.Tensor {
        this.calls++;
        const o = (this as unknown as { offset: torch.Tensor }).offset;
        return tidy(() => (this.head.forward(this.fc.forward(x)) as torch.Tensor).mul(this.config.scale).add(o));
      }
    }
    const m = new Twin();
    const seen: string[] = [];
    const hook = m.registerForwardHook(() => {
      seen.push('hook');
    });
    const copy = deepCopy(m);
    expect(copy).toBeInstanceOf(Twin);
    expect(copy.head).toBe(copy.fc);
    expect(copy.fc).not.toBe(m.fc);
    expect(copy.namedParameters().map(([k]) => k)).toEqual(['fc.weight', 'fc.bias']);
    expect(copy.config).toEqual(m.config);
    expect(copy.config).not.toBe(m.config);
    expect(copy.config.table).not.toBe(m.config.table);
    copy.config.tags.push('b');
    expect(m.config.tags).toEqual(['a']);
    const x = torch.randn([2, 3]);
    expect(tidy(() => vals(copy.forward(x)))).toEqual(tidy(() => vals(m.forward(x))));
    expect([copy.calls, m.calls]).toEqual([1, 1]);
    expect(seen).toEqual(['hook', 'hook']);
    // Removing the original's hook leaves the copy's, as in PyTorch.
    hook.remove();
    tidy(() => copy.forward(x));
    tidy(() => m.forward(x));
    expect(seen).toEqual(['hook', 'hook', 'hook']);
    // Its own buffer.
    tidy(() => noGrad(() => (m as unknown as { offset: torch.Tensor }).offset.add_(1)));
    expect(tidy(() => vals((copy as unknown as { offset: torch.Tensor }).offset))).toEqual([1, 1, 1]);
    [m, copy, x].forEach((t) => t.dispose());
  });

  it('refuses what it cannot copy, saying why', async () => {
    class Arrow extends nn.Module {
      fc = new nn.Linear(2, 2);
      forward = (x: torch.Tensor): torch.Tensor => this.fc.forward(x);
    }
    const a = new Arrow();
    expect(() => deepCopy(a)).toThrow(/^deepCopy: Arrow's forward is an arrow function \(a class field\) or a bound function, which keeps the module it was made for as `this`; declare it as a method/);
    a.dispose();

    const gone = new nn.Linear(2, 2);
    gone.dispose();
    expect(() => deepCopy(gone)).toThrow(/^deepCopy: module has been disposed/);

    const w = torch.randn([2], { requiresGrad: true });
    const y = w.mul(2);
    expect(() => deepCopy({ y })).toThrow(/^deepCopy: only tensors created explicitly \(graph leaves\) can be copied, as in PyTorch; this one was computed \(MulBackward\d\)/);
    [w, y].forEach((t) => t.dispose());

    // While a training step writes the model.
    const m = torch.resnetCifar({ depth: 8, layout: 'baseline' });
    const trainer = new torch.Trainer(m, new torch.SGD(m.parameters(), { lr: 0.1 }));
    const [xb, yb] = [torch.randn([4, 3, 8, 8]), torch.randint(0, 10, [4])];
    const step = trainer.step(xb, yb);
    expect(() => deepCopy(m)).toThrow(/^deepCopy: module is in use by .* in flight; await it first/);
    const r = await step;
    r.loss.dispose();
    r.correct?.dispose();
    const copy = deepCopy(m);
    expect(stateOf(copy)).toEqual(stateOf(m));
    [m, copy, xb, yb].forEach((t) => t.dispose());
  });
});

// A native container's clone (Layer::clone of Sequential and Residual: what a native network would copy; deepCopy
// itself copies JS containers and clones their leaves). Internal API: the container built from a ResNet's
// children, cloned, gives the same results and keeps each module's own mode, in memory of its own.
describe('Layer::clone of native containers (internal)', () => {
  it('a whole ResNet-18 (Sequential of Residual units with conv shortcuts): same names, values, results and modes', () => {
    const N = native();
    torch.manualSeed(3);
    const m = torch.resnetImageNet({ depth: 18, layout: 'relu-ic-conv', classes: 10, dropRate: 0 });
    const x = torch.randn([2, 3, 32, 32]);
    tidy(() => noGrad(() => m.forward(x)));
    m.eval();
    m.getSubmodule('layer2').train();
    const h = nativeModule(m)!;
    const c = N.moduleClone(h);
    const named = (k: 'moduleNamedParameters' | 'moduleNamedBuffers', handle: typeof h) =>
      N[k](handle).map(([n, t]) => {
        const tt = new torch.Tensor(t);
        const out: [string, number[]] = [n, vals(tt)];
        tt.dispose();
        return out;
      });
    for (const k of ['moduleNamedParameters', 'moduleNamedBuffers'] as const) expect(named(k, c)).toEqual(named(k, h));
    expect(N.moduleKind(c)).toBe('sequential');
    expect(named('moduleNamedParameters', c).map(([k]) => k)).toContain('layer2.0.downsample.0.weight');
    // Modes: layer2 normalises with its batch's statistics, the rest with running ones.
    const run = (handle: typeof h) => tidy(() => noGrad(() => vals(new torch.Tensor(N.moduleForward(handle, x.handle)))));
    expect(run(c)).toEqual(run(h));
    bump(m);
    expect(run(c)).not.toEqual(run(h));
    c.dispose();
    [m, x].forEach((t) => t.dispose());
  });
});

describe('deepCopy of values', () => {
  it('a state dict: equal values, its own memory; Parameters stay Parameters with their flags', () => {
    const m = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
    const sd = m.stateDict();
    const best = deepCopy(sd);
    expect(Object.keys(best)).toEqual(Object.keys(sd));
    tidy(() => {
      for (const [k, t] of Object.entries(sd)) {
        expect(vals(best[k]), k).toEqual(vals(t));
        expect(best[k].dtype).toBe(t.dtype);
      }
    });
    bump(m);
    tidy(() => {
      const now = m.stateDict();
      expect(vals(best['0.weight'])).not.toEqual(vals(now['0.weight']));
      m.loadStateDict(best);
      for (const [k, t] of Object.entries(best)) expect(vals(m.stateDict()[k]), k).toEqual(vals(t));
    });
    const p = new nn.Parameter(torch.ones([2]), false);
    const q = deepCopy(p);
    expect(q).toBeInstanceOf(nn.Parameter);
    expect(q.requiresGrad).toBe(false);
    const r = deepCopy(new nn.Parameter(torch.ones([2])));
    expect(r.requiresGrad).toBe(true);
    expect(r.isLeaf).toBe(true);
    [...Object.values(sd), ...Object.values(best), p, q, r, m].forEach((t) => t.dispose());
  });

  it('containers and primitives: copies of arrays, objects, Maps, Sets, typed arrays, Buffers and Dates; one copy per object; functions and class instances shared', () => {
    const t = torch.tensor([1, 2]);
    const shared = { n: 1 };
    const gen = new torch.Generator();
    const fn = () => 1;
    const v = { a: [1, 'x', null, undefined], t, again: t, s: shared, s2: shared, m: new Map([[shared, 'v']]), set: new Set([shared]), f32: new Float32Array([1.5]), buf: Buffer.from('ab'), d: new Date(5), fn, gen };
    const c = deepCopy(v);
    expect(c.a).toEqual(v.a);
    expect(c.a).not.toBe(v.a);
    expect(c.t).not.toBe(t);
    expect(c.again).toBe(c.t);
    expect(c.s2).toBe(c.s);
    expect(c.s).not.toBe(shared);
    expect([...c.m.keys()][0]).toBe(c.s);
    expect([...c.set][0]).toBe(c.s);
    expect(c.f32).not.toBe(v.f32);
    expect([...c.f32]).toEqual([1.5]);
    c.buf[0] = 0;
    expect(v.buf.toString()).toBe('ab');
    expect(c.d.getTime()).toBe(5);
    expect(c.d).not.toBe(v.d);
    expect(c.fn).toBe(fn);
    expect(c.gen).toBe(gen);
    expect(deepCopy(3)).toBe(3);
    expect(deepCopy(null)).toBe(null);
    tidy(() => noGrad(() => t.add_(1)));
    expect(tidy(() => vals(c.t))).toEqual([1, 2]);
    [t, c.t].forEach((x) => x.dispose());
  });
});

describe('Tensor.grad = g (PyTorch: t.grad = g)', () => {
  it('sets the gradient to g itself, which backward then accumulates into; null clears it', () => {
    const w = torch.ones([3], { requiresGrad: true });
    const g = torch.tensor([1, 2, 3]);
    w.grad = g;
    expect(tidy(() => vals(w.grad!))).toEqual([1, 2, 3]);
    tidy(() => noGrad(() => g.mul_(2)));
    expect(tidy(() => vals(w.grad!))).toEqual([2, 4, 6]);
    tidy(() => w.mul(torch.tensor([1, 1, 1])).sum().backward());
    expect(tidy(() => vals(w.grad!))).toEqual([3, 5, 7]);
    w.grad = null;
    expect(w.grad).toBeNull();
    [w, g].forEach((t) => t.dispose());
  });

  it("refuses another dtype, shape or a non-tensor, with PyTorch's words", () => {
    const w = torch.ones([3], { requiresGrad: true });
    const bad: [unknown, RegExp][] = [
      [torch.ones([3], { dtype: 'float64' }), /^grad: assigned grad has data of a different type: Double for a Float tensor/],
      [torch.ones([2]), /^grad: assigned grad has data of a different size: \[2\] for a tensor of shape \[3\]/],
      [[1, 2, 3], /^grad: expected a Tensor or null for grad/],
    ];
    for (const [g, re] of bad) {
      expect(() => {
        w.grad = g as torch.Tensor;
      }).toThrow(re);
      if (g instanceof torch.Tensor) g.dispose();
    }
    expect(w.grad).toBeNull();
    w.dispose();
  });
});
