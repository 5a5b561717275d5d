// Modules written in TypeScript (nn.Module subclasses with their own forward): registration and names as
// PyTorch's, training with fit and by hand, state dicts to PyTorch and back, hooks, dispose; the native
// fast path and where a forward runs; the busy guard of calls in flight; error types across threads.
import { execFile, spawnSync } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { SGD, Tensor, Trainer, cat, crossEntropy, fit, memory, nn, noGrad, ones, randn, registerModel, tensor, tidy, zeros } from '../lib';

const PYTHON = '/usr/bin/python3';
const hasTorch = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-modules-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const vals = (t: Tensor): number[] => Array.from(t.toArray() as ArrayLike<number | bigint>, Number);
const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/**
 * Two convolution branches over a stem, concatenated, with an IC layer (BatchNorm + Dropout) before each
 * weight layer, and a learnable output scale (an nn.Parameter of its own).
 */
class TwoBranch extends nn.Module {
  scale: nn.Parameter;
  stem: nn.Conv2d;
  icA: nn.IC;
  convA: nn.Conv2d;
  icB: nn.IC;
  convB: nn.Conv2d;
  icHead: nn.IC;
  fc: nn.Linear;

  constructor(classes = 10, dropRate = 0.1) {
    super();
    this.scale = new nn.Parameter(ones([1]));
    this.stem = new nn.Conv2d(3, 8, 3, { padding: 1, bias: false });
    this.icA = new nn.IC(8, { dropRate });
    this.convA = new nn.Conv2d(8, 8, 3, { padding: 1, bias: false });
    this.icB = new nn.IC(8, { dropRate });
    this.convB = new nn.Conv2d(8, 8, 1, { bias: false });
    this.icHead = new nn.IC(16, { dropRate });
    this.fc = new nn.Linear(16, classes);
  }

  forward(x: Tensor): Tensor {
    const h = this.stem.forward(x).relu();
    const a = this.convA.forward(this.icA.forward(h));
    const b = this.convB.forward(this.icB.forward(h));
    const y = cat([a, b], 1).relu();
    const z = this.icHead.forward(y).mean([2, 3]);
    return this.fc.forward(z).mul(this.scale);
  }
}

const PY_TWO_BRANCH = `
import sys, torch, torch.nn as nn, torch.nn.functional as F
class TwoBranch(nn.Module):
    def __init__(s, classes=10, p=0.1):
        super().__init__()
        s.scale = nn.Parameter(torch.ones(1))
        s.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        s.icA = nn.BatchNorm2d(8); s.dropA = nn.Dropout(p)
        s.convA = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        s.icB = nn.BatchNorm2d(8); s.dropB = nn.Dropout(p)
        s.convB = nn.Conv2d(8, 8, 1, bias=False)
        s.icHead = nn.BatchNorm2d(16); s.dropHead = nn.Dropout(p)
        s.fc = nn.Linear(16, classes)
    def forward(s, x):
        h = F.relu(s.stem(x))
        a = s.convA(s.dropA(s.icA(h)))
        b = s.convB(s.dropB(s.icB(h)))
        y = F.relu(torch.cat([a, b], 1))
        z = s.dropHead(s.icHead(y)).mean([2, 3])
        return s.fc(z) * s.scale
`;

// Asynchronous, so the test worker stays responsive while Python starts (torch takes seconds to import).
async function python(script: string): Promise<string> {
  const r = await promisify(execFile)(PYTHON, ['-c', PY_TWO_BRANCH + script], { encoding: 'utf8', timeout: 120_000 });
  return r.stdout.trim();
}

// ---------------------------------------------------------------- registration and names

describe('a module written in TypeScript', () => {
  it('finds fields, explicit registrations and parameters, in registration order, with PyTorch names', () => {
    const m = new TwoBranch();
    try {
      tidy(() => {
        expect(m.namedChildren().map(([k]) => k)).toEqual(['stem', 'icA', 'convA', 'icB', 'convB', 'icHead', 'fc']);
        expect(m.namedParameters().map(([k]) => k)).toEqual([
          'scale', 'stem.weight', 'icA.weight', 'icA.bias', 'convA.weight', 'icB.weight', 'icB.bias', 'convB.weight', 'icHead.weight', 'icHead.bias', 'fc.weight', 'fc.bias',
        ]);
        // PyTorch's state_dict order: each module's parameters, then its buffers, then its children's.
        expect(Object.keys(m.stateDict()).slice(0, 8)).toEqual(['scale', 'stem.weight', 'icA.weight', 'icA.bias', 'icA.running_mean', 'icA.running_var', 'icA.num_batches_tracked', 'convA.weight']);
        expect(m.namedBuffers().map(([k]) => k)).toEqual(['icA.running_mean', 'icA.running_var', 'icA.num_batches_tracked', 'icB.running_mean', 'icB.running_var', 'icB.num_batches_tracked', 'icHead.running_mean', 'icHead.running_var', 'icHead.num_batches_tracked']);
        expect(m.numParameters()).toBe(1 + 8 * 27 + 16 + 8 * 72 + 16 + 64 + 32 + 160 + 10);
        expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
        expect(m.namedModules().map(([k]) => k)).toEqual(['', 'stem', 'icA', 'convA', 'icB', 'convB', 'icHead', 'fc']);
        expect(m.kind).toBe('TwoBranch');
        expect(m.isNative).toBe(false);
      });
    } finally {
      m.dispose();
    }
  });

  it('registerModule / registerParameter / registerBuffer work as PyTorch (buffers persistent or not, null placeholders)', () => {
    class Custom extends nn.Module {
      constructor() {
        super();
        this.registerBuffer('steps', zeros([1], { dtype: 'int64' }));
        this.registerBuffer('scratch', zeros([2]), { persistent: false });
        this.registerParameter('w', new nn.Parameter(randn([2, 2])));
        this.registerParameter('b', null);
        this.registerModule('inner', new nn.Linear(2, 2));
      }
      forward(x: Tensor): Tensor {
        return (this as unknown as { inner: nn.Linear }).inner.forward(x.matmul((this as unknown as { w: Tensor }).w));
      }
    }
    const tracked = tidy(() => {
      const m = new Custom(); // made inside a scope: its parameters and buffers outlive it
      return m;
    });
    try {
      tidy(() => {
        expect(tracked.namedParameters().map(([k]) => k)).toEqual(['w', 'inner.weight', 'inner.bias']);
        expect(tracked.namedBuffers().map(([k]) => k)).toEqual(['steps', 'scratch']);
        expect(Object.keys(tracked.stateDict())).toEqual(['w', 'steps', 'inner.weight', 'inner.bias']);
        expect(tracked.forward(ones([1, 2])).shape).toEqual([1, 2]);
      });
      expect(() => tracked.registerModule('train', new nn.ReLU())).toThrow(/method or property/);
      expect(() => tracked.registerModule('a.b', new nn.ReLU())).toThrow(/a\.b/);
      expect(() => tracked.registerParameter('p', randn([2]) as never)).toThrow(/nn\.Parameter/);
      // A registered parameter can be replaced by a Parameter or null, not by a plain tensor.
      expect(() => ((tracked as unknown as Record<string, unknown>).w = randn([2, 2]))).toThrow(/nn\.Parameter or null/);
    } finally {
      tracked.dispose();
    }
  });

  it('train()/eval(), to(), channelsLast() and zeroGrad reach fields, parameters and buffers', () => {
    const m = new TwoBranch();
    try {
      expect(m.modules().every((c) => c.training)).toBe(true);
      m.eval();
      expect(m.modules().some((c) => c.training)).toBe(false);
      m.to('float64');
      tidy(() => {
        for (const [k, t] of Object.entries(m.stateDict())) expect([k, t.dtype]).toEqual([k, k.endsWith('num_batches_tracked') ? 'int64' : 'float64']);
        expect(m.scale.dtype).toBe('float64'); // the module's own Parameter handle stays valid
        expect(m.forward(randn([2, 3, 8, 8], { dtype: 'float64' })).dtype).toBe('float64');
      });
      m.to('float32').channelsLast();
      tidy(() => void expect(m.stateDict()['stem.weight'].memoryFormat).toBe('channelsLast'));
      m.train();
      tidy(() => m.forward(randn([2, 3, 8, 8])).sum().backward());
      tidy(() => void expect(m.parameters().every((p) => p.grad !== null)).toBe(true));
      m.zeroGrad();
      tidy(() => void expect(m.parameters().every((p) => p.grad === null)).toBe(true));
    } finally {
      m.dispose();
    }
  });

  it('works inside Sequential and Residual (which then run through JS); all-native containers run natively', () => {
    class Scale extends nn.Module {
      constructor(readonly k: number) {
        super();
      }
      forward(x: Tensor): Tensor {
        return x.mul(this.k);
      }
    }
    const native = new nn.Sequential([new nn.Linear(2, 2), new nn.ReLU()]);
    const mixed = new nn.Sequential([new nn.Identity(), new Scale(3)]);
    const res = new nn.Residual([new Scale(2)], null, [new nn.ReLU()]);
    try {
      expect(native.isNative).toBe(true);
      expect(mixed.isNative).toBe(false);
      expect(res.isNative).toBe(false);
      tidy(() => {
        expect(vals(mixed.forward(tensor([[1, -2]])))).toEqual([3, -6]);
        expect(vals(res.forward(tensor([[1, -2]])))).toEqual([3, 0]); // relu(2x + x)
      });
    } finally {
      native.dispose();
      mixed.dispose();
      res.dispose();
    }
  });

  it('a subclass of a built-in layer or container that overrides forward runs its own forward (not the native one)', () => {
    class Doubled extends nn.Linear {
      forward(x: Tensor): Tensor {
        return super.forward(x).mul(2);
      }
    }
    class Negated extends nn.Sequential {
      forward(x: Tensor): Tensor {
        return super.forward(x).neg();
      }
    }
    const d = new Doubled(2, 2, { bias: false });
    const n = new Negated([new nn.Identity()]);
    const outer = new nn.Sequential([d, new nn.ReLU()]);
    try {
      tidy(() => void noGrad(() => d.parameters()[0].copy_(tensor([[1, 0], [0, 1]]))));
      expect([d.isNative, n.isNative, outer.isNative]).toEqual([false, false, false]);
      tidy(() => {
        expect(vals(d.forward(tensor([[1, -2]])))).toEqual([2, -4]);
        expect(vals(n.forward(tensor([[1, -2]])))).toEqual([-1, 2]);
        expect(vals(outer.forward(tensor([[1, -2]])))).toEqual([2, 0]);
      });
    } finally {
      outer.dispose();
      n.dispose();
    }
  });

  it('forward hooks and pre-hooks run, may replace input and output, force the JS path, and are removable', async () => {
    const seq = new nn.Sequential([['fc', new nn.Linear(2, 2, { bias: false })], ['act', new nn.ReLU()]]);
    try {
      tidy(() => noGrad(() => seq.namedParameters()[0][1].copy_(tensor([[1, 0], [0, 1]]))));
      const seen: string[] = [];
      const pre = (seq as unknown as { fc: nn.Module }).fc.registerForwardPreHook((_m, inputs) => {
        seen.push('pre');
        return (inputs[0] as Tensor).mul(-1);
      });
      const post = seq.registerForwardHook((_m, _inputs, out) => {
        seen.push('post');
        return (out as Tensor).add(10);
      });
      expect(seq.isNative).toBe(false);
      tidy(() => void expect(vals(seq.forward(tensor([[1, -2]])))).toEqual([10, 12])); // relu(-x) + 10
      const y = await seq.forwardAsync(tensor([[1, -2]]));
      expect(vals(y)).toEqual([10, 12]);
      y.dispose();
      expect(seen).toEqual(['pre', 'post', 'pre', 'post']);
      pre.remove();
      post.remove();
      expect(seq.isNative).toBe(true);
      tidy(() => void expect(vals(seq.forward(tensor([[1, -2]])))).toEqual([1, 0]));
      expect(seen).toHaveLength(4);
    } finally {
      seq.dispose();
    }
  });

  it('summary() lists the layers of a TS module', () => {
    const m = new TwoBranch();
    try {
      const s = m.summary([2, 3, 8, 8]);
      expect(s).toMatch(/^stem\s+conv2d\s+\[2, 8, 8, 8\]\s+216$/m);
      expect(s).toMatch(/^icHead\s+ic\s+\[2, 16, 8, 8\]\s+32$/m);
      expect(s).toMatch(/^fc\s+linear\s+\[2, 10\]\s+170$/m);
      expect(s).toMatch(/total parameters: 1,091$/);
    } finally {
      m.dispose();
    }
  });

  it('dispose() frees the module, its children and its parameters (and is refused nowhere else)', () => {
    const before = memory().tensors;
    const m = tidy(() => new TwoBranch()); // the scope frees the ones() the Parameter was made from, not the module
    const children = m.children();
    expect(memory().tensors).toBe(before + 1); // its Parameter; the native layers hold the rest
    m.dispose();
    expect(m.isDisposed).toBe(true);
    expect(children.every((c) => c.isDisposed)).toBe(true);
    expect(m.scale.isDisposed).toBe(true);
    expect(memory().tensors).toBe(before);
    m.dispose();
    expect(() => m.parameters()).toThrow(/disposed/);
    expect(() => tidy(() => m.forward(zeros([1, 3, 8, 8])))).toThrow(/disposed/);
    expect(() => m.train()).toThrow(/disposed/);
    expect(() => new nn.Sequential([m])).toThrow(/disposed/);
  });
});

// ---------------------------------------------------------------- training

describe('training a TypeScript module', () => {
  it('by hand: forward, crossEntropy, backward, SGD step lower the loss on a batch', () => {
    torch.manualSeed(3);
    const m = new TwoBranch(4, 0);
    const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    try {
      const x = randn([16, 3, 8, 8]);
      const y = tensor(Array.from({ length: 16 }, (_, i) => BigInt(i % 4)));
      const losses: number[] = [];
      for (let i = 0; i < 15; i++) {
        losses.push(
          tidy(() => {
            opt.zeroGrad();
            const loss = crossEntropy(m.forward(x), y);
            loss.backward();
            opt.step();
            return loss.item() as number;
          }),
        );
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[losses.length - 1]).toBeLessThan(0.5 * losses[0]);
      x.dispose();
      y.dispose();
    } finally {
      for (const g of opt.paramGroups) for (const p of g.params) p.dispose();
      opt.dispose();
      m.dispose();
    }
  });

  it('the Trainer gives a JS module the same steps as the same layers run natively', async () => {
    const build = () => new nn.Sequential([new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.IC(4), new nn.ReLU(), new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(4, 3)]);
    class Wrapped extends nn.Module {
      body = build();
      forward(x: Tensor): Tensor {
        return this.body.forward(x);
      }
    }
    const native = build();
    const js = new Wrapped();
    tidy(() => js.loadStateDict(Object.fromEntries(Object.entries(native.stateDict()).map(([k, t]) => [`body.${k}`, t]))));
    const optN = new SGD(native.parameters(), { lr: 0.1, momentum: 0.9 });
    const optJ = new SGD(js.parameters(), { lr: 0.1, momentum: 0.9 });
    const tn = new Trainer(native, optN);
    const tj = new Trainer(js, optJ);
    try {
      const x = randn([8, 3, 6, 6]);
      const y = tensor([0n, 1n, 2n, 0n, 1n, 2n, 0n, 1n]);
      const notes: (string | null)[] = [];
      for (let i = 0; i < 3; i++) {
        const a = await tn.step(x, y);
        const b = await tj.step(x, y);
        notes.push(b.note);
        expect(Math.abs((a.loss.item() as number) - (b.loss.item() as number))).toBeLessThan(1e-6);
        expect(b.correct!.item()).toBe(a.correct!.item());
        for (const t of [a.loss, a.correct, b.loss, b.correct]) t?.dispose();
      }
      expect(notes[0]).toMatch(/written in JavaScript/);
      expect(notes.slice(1)).toEqual([null, null]);
      tidy(() => {
        const wn = native.parameters().map(vals).flat();
        const wj = js.parameters().map(vals).flat();
        expect(maxDiff(wn, wj)).toBeLessThan(1e-6);
      });
      x.dispose();
      y.dispose();
    } finally {
      tn.dispose();
      tj.dispose();
      for (const o of [optN, optJ]) {
        for (const g of o.paramGroups) for (const p of g.params) p.dispose();
        o.dispose();
      }
      native.dispose();
      js.dispose();
    }
  });

  it('trains with fit({model: {name, args}}) through registerModel, and the saved weights name every parameter', async () => {
    registerModel('test-two-branch', (a) => new TwoBranch((a.classes as number) ?? 10));
    const outDir = path.join(tmp, 'fit');
    const r = await fit({ model: { name: 'test-two-branch', args: { classes: 10 } }, data: 'synthetic', epochs: 3, batchSize: 32, lr: 0.05, syntheticTrainSize: 320, syntheticTestSize: 64, seed: 2, outDir });
    expect(r.history).toHaveLength(3);
    expect(r.history.every((h) => Number.isFinite(h.trainLoss) && Number.isFinite(h.testLoss))).toBe(true);
    expect(r.history[2].trainLoss).toBeLessThan(r.history[0].trainLoss);
    expect(r.notes.some((n) => /written in JavaScript/.test(n))).toBe(true);
    const saved = torch.loadStateDict(r.weights);
    const m = new TwoBranch(10);
    try {
      expect(Object.keys(saved)).toEqual(tidy(() => Object.keys(m.stateDict())));
      m.loadStateDict(saved);
    } finally {
      for (const t of Object.values(saved)) t.dispose();
      m.dispose();
    }
  });
});

// ---------------------------------------------------------------- PyTorch interop

describe.skipIf(!hasTorch)('a TypeScript module and the same module in PyTorch (needs /usr/bin/python3 with torch)', () => {
  it("nn.Conv2d and nn.Linear start with PyTorch's default weights: the same seed draws the same values", async () => {
    torch.manualSeed(5);
    const conv = new nn.Conv2d(3, 4, 3);
    const fc = new nn.Linear(6, 2);
    try {
      const ours = tidy(() => [...conv.parameters(), ...fc.parameters()].map(vals).flat());
      const theirs = JSON.parse(await python(`
import json
torch.manual_seed(5)
conv = nn.Conv2d(3, 4, 3); fc = nn.Linear(6, 2)
print(json.dumps([v for p in list(conv.parameters()) + list(fc.parameters()) for v in p.detach().flatten().tolist()]))
`)) as number[];
      expect(ours).toHaveLength(theirs.length);
      expect(maxDiff(ours, theirs)).toBeLessThan(1e-7);
    } finally {
      conv.dispose();
      fc.dispose();
    }
  });

  it('saves a state dict PyTorch loads into the equivalent module (same logits in eval mode), and loads PyTorch\'s back', async () => {
    torch.manualSeed(11);
    const m = new TwoBranch(10, 0.1);
    try {
      // Some training steps, so the running statistics and num_batches_tracked are not the initial ones.
      const opt = new SGD(m.parameters(), { lr: 0.05 });
      for (let i = 0; i < 3; i++) {
        tidy(() => {
          opt.zeroGrad();
          crossEntropy(m.forward(randn([8, 3, 8, 8])), tensor([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n])).backward();
          opt.step();
        });
      }
      for (const g of opt.paramGroups) for (const p of g.params) p.dispose();
      opt.dispose();
      m.eval();
      const x = randn([4, 3, 8, 8]);
      const logits = tidy(() => vals(noGrad(() => m.forward(x))));
      const ours = path.join(tmp, 'two-branch.pt');
      const input = path.join(tmp, 'input.pt');
      const theirs = path.join(tmp, 'two-branch-torch.pt');
      tidy(() => torch.saveStateDict(ours, m.stateDict()));
      torch.saveStateDict(input, { x });
      const out = JSON.parse(
        await python(`
import json
m = TwoBranch(10, 0.1)
sd = torch.load(${JSON.stringify(ours)})
keys = list(m.state_dict().keys())
m.load_state_dict(sd)
m.eval()
x = torch.load(${JSON.stringify(input)})['x']
with torch.no_grad():
    y = m(x)
torch.manual_seed(0)
with torch.no_grad():
    for p in m.parameters(): p.add_(0.05 * torch.randn_like(p))
    for mod in (m.icA, m.icB, m.icHead): mod.running_mean.add_(0.1); mod.running_var.mul_(1.5); mod.num_batches_tracked.add_(7)
    y2 = m(x)
torch.save(dict(m.state_dict()), ${JSON.stringify(theirs)})  # a plain dict: LibTorch reads an OrderedDict as None
print(json.dumps({'keys': keys, 'ourKeys': list(sd.keys()), 'y': y.flatten().tolist(), 'y2': y2.flatten().tolist()}))
`),
      ) as { keys: string[]; ourKeys: string[]; y: number[]; y2: number[] };
      expect(out.ourKeys).toEqual(out.keys); // same names, in PyTorch's order
      expect(maxDiff(logits, out.y)).toBeLessThan(1e-4);
      // ... and back: PyTorch's changed weights give PyTorch's logits here.
      const back = torch.loadStateDict(theirs);
      m.loadStateDict(back);
      for (const t of Object.values(back)) t.dispose();
      const logits2 = tidy(() => vals(noGrad(() => m.forward(x))));
      expect(maxDiff(logits2, out.y2)).toBeLessThan(1e-4);
      expect(maxDiff(logits2, logits)).toBeGreaterThan(1e-3);
      tidy(() => void expect(m.stateDict()['icA.num_batches_tracked'].item()).toBe(3 + 7));
      x.dispose();
    } finally {
      m.dispose();
    }
  });
});

// ---------------------------------------------------------------- calls in flight

describe('a module used by a native call in flight (issue 9)', () => {
  const net = () =>
    new nn.Sequential([
      ['conv', new nn.Conv2d(3, 16, 3, { padding: 1 })], ['bn', new nn.BatchNorm2d(16)], ['relu', new nn.ReLU()],
      ['conv2', new nn.Conv2d(16, 16, 3, { padding: 1 })], ['pool', new nn.AdaptiveAvgPool2d(1)], ['flat', new nn.Flatten()], ['fc', new nn.Linear(16, 10)],
    ]);

  it('refuses loadStateDict, train/eval, to, channelsLast, dispose and in-place changes during forwardAsync: 0 of 30 outputs mixed', async () => {
    torch.manualSeed(1);
    const m = net().eval();
    torch.manualSeed(2);
    const other = net();
    const B = other.stateDict();
    const x = randn([32, 3, 24, 24]);
    // an optimiser over the same parameters: its step and zeroGrad write them (once this went unchecked)
    const params = m.parameters();
    const opt = new SGD(params, { lr: 0.1 });
    try {
      const yA = tidy(() => vals(noGrad(() => m.forward(x))));
      let mixed = 0;
      let refused = 0;
      const mutations: [string, () => unknown][] = [
        ['loadStateDict', () => m.loadStateDict(B)],
        ['train', () => m.train()],
        ['eval', () => m.eval()],
        ['to', () => m.to('float64')],
        ['channelsLast', () => m.channelsLast()],
        ['dispose', () => m.dispose()],
        ['child train', () => m.children()[1].train()],
        ['fill_ of a parameter', () => tidy(() => m.parameters()[0].fill_(0))],
        ['copy_ into a buffer', () => tidy(() => m.buffers()[0].copy_(zeros([16])))],
        ['optimizer.step', () => opt.step()],
        ['optimizer.zeroGrad', () => opt.zeroGrad()],
      ];
      for (let i = 0; i < 30; i++) {
        const p = noGrad(() => m.forwardAsync(x));
        for (const [what, mutate] of mutations) {
          let err: unknown;
          try {
            mutate();
          } catch (e) {
            err = e;
          }
          expect((err as Error)?.message, what).toMatch(/in use by forwardAsync in flight; await it first/);
          refused++;
        }
        const y = await p;
        if (maxDiff(vals(y), yA) > 1e-5) mixed++;
        y.dispose();
      }
      expect({ mixed, refused }).toEqual({ mixed: 0, refused: 30 * mutations.length });
      // Overlapping forwards are fine; once they settle, changes go through.
      const [y1, y2] = await Promise.all([m.forwardAsync(x), m.forwardAsync(x)]);
      expect(vals(y1)).toEqual(vals(y2));
      y1.dispose();
      y2.dispose();
      m.loadStateDict(B);
      const yB = tidy(() => vals(noGrad(() => other.eval().forward(x))));
      tidy(() => void expect(maxDiff(vals(noGrad(() => m.forward(x))), yB)).toBeLessThan(1e-5));
    } finally {
      for (const t of Object.values(B)) t.dispose();
      for (const t of params) t.dispose();
      x.dispose();
      m.dispose();
      other.dispose();
    }
  });

  it('refuses changes, forwards and optimiser calls while a training step is in flight (native and JS models)', async () => {
    class JsNet extends nn.Module {
      body = net();
      forward(x: Tensor): Tensor {
        return this.body.forward(x);
      }
    }
    for (const m of [net(), new JsNet()] as nn.Module[]) {
      const opt = new SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
      const trainer = new Trainer(m, opt);
      const x = randn([16, 3, 16, 16]);
      const y = tensor(Array.from({ length: 16 }, (_, i) => BigInt(i % 10)));
      const shape0 = tidy(() => m.parameters()[0].shape);
      try {
        for (let i = 0; i < 5; i++) {
          const xg = x.detach().requiresGrad_();
          const earlier = m.forward(xg).sum(); // a graph over the parameters, built before the step
          const p = trainer.step(x, y);
          // its backward would accumulate into the .grad the step is replacing
          expect(() => earlier.backward()).toThrow(/^backward: a leaf tensor of the graph is in use by trainStep in flight/);
          expect(() => torch.autograd.grad([earlier], [xg])).toThrow(/^autograd.grad: a leaf tensor of the graph is in use by trainStep in flight/);
          expect(() => m.loadStateDict(tidy(() => m.stateDict()))).toThrow(/in use by trainStep in flight/);
          expect(() => tidy(() => m.forward(x))).toThrow(/in use by trainStep in flight/);
          await expect(m.forwardAsync(x)).rejects.toThrow(/in use by trainStep in flight/);
          expect(() => opt.step()).toThrow(/in use by trainStep in flight/);
          expect(() => opt.dispose()).toThrow(/in use by trainStep in flight/);
          expect(() => tidy(() => m.parameters()[0].add_(1))).toThrow(/in use by trainStep in flight/);
          expect(() => tidy(() => m.parameters()[0].exponential_())).toThrow(/^exponential_: tensor 'self' is in use by trainStep in flight/);
          // reading back what the step writes would mix old and new values: refused (as data() is)
          expect(() => tidy(() => m.parameters()[0].toArray())).toThrow(/tensor 'self' is in use by trainStep in flight/);
          expect(() => tidy(() => m.parameters()[0].toNested())).toThrow(/tensor 'self' is in use by trainStep in flight/);
          expect(() => tidy(() => m.parameters()[0].data())).toThrow(/in use by trainStep in flight/);
          // so are ops that read its values (as self or as another argument), and its .grad, which the step
          // replaces under the reader
          expect(() => tidy(() => m.parameters()[0].mul(2))).toThrow(/tensor 'self' is in use by trainStep in flight/);
          expect(() => tidy(() => { const w = m.parameters()[0]; return ones(w.shape).add(w); })).toThrow(/tensor 'other' is in use by trainStep in flight/);
          expect(() => tidy(() => m.parameters()[0].grad)).toThrow(/tensor 'self' is in use by trainStep in flight/);
          // its metadata, which no step changes, stays readable
          expect(tidy(() => m.parameters()[0].shape)).toEqual(shape0);
          expect(tidy(() => [m.parameters()[0].dtype, m.parameters()[0].device, m.parameters()[0].requiresGrad])).toEqual(['float32', 'cpu', true]);
          expect(() => trainer.dispose()).toThrow(/in use by trainStep in flight/);
          const r = await p;
          r.loss.dispose();
          r.correct!.dispose();
          earlier.dispose();
          xg.dispose();
        }
        tidy(() => m.forward(x)); // usable again
        tidy(() => m.forward(x).sum().backward());
        expect(tidy(() => m.parameters()[0].toArray()).length).toBeGreaterThan(0);
        expect(tidy(() => m.parameters()[0].mul(2).shape)).toEqual(shape0);
        expect(tidy(() => m.parameters()[0].grad !== null)).toBe(true);
      } finally {
        x.dispose();
        y.dispose();
        trainer.dispose();
        for (const g of opt.paramGroups) for (const p of g.params) p.dispose();
        opt.dispose();
        m.dispose();
      }
    }
  });

  it('keeps the JS error type across the worker thread (RangeError, TypeError, Error)', async () => {
    const ic = new nn.IC(4);
    const conv = new nn.Conv2d(4, 2, 1);
    const noFlatten = new nn.Sequential([new nn.Conv2d(3, 2, 1)]);
    const opt = new SGD(noFlatten.parameters(), { lr: 0.1 });
    const trainer = new Trainer(noFlatten, opt);
    try {
      const wrongChannels = ic.forwardAsync(zeros([2, 3, 4, 4]));
      await expect(wrongChannels).rejects.toBeInstanceOf(RangeError);
      await expect(ic.forwardAsync(zeros([2, 3, 4, 4]))).rejects.toThrow(/^forwardAsync: IC layer has 4 channels but the input has 3/);
      await expect(ic.forwardAsync(zeros([2, 4, 4, 4], { dtype: 'int64' }))).rejects.toBeInstanceOf(TypeError);
      const plain = await conv.forwardAsync(zeros([2, 3, 4, 4])).catch((e: Error) => e);
      expect(plain).toBeInstanceOf(Error);
      expect(plain).not.toBeInstanceOf(TypeError);
      expect(plain).not.toBeInstanceOf(RangeError);
      expect((plain as Error).message).toMatch(/^forwardAsync: /);
      const step = trainer.step(zeros([2, 3, 4, 4]), tensor([0n, 1n]));
      await expect(step).rejects.toBeInstanceOf(RangeError);
      await expect(trainer.step(zeros([2, 3, 4, 4]), tensor([0n, 1n]))).rejects.toThrow(/^trainStep: the model must return logits of shape \[N, classes\]/);
    } finally {
      trainer.dispose();
      for (const g of opt.paramGroups) for (const p of g.params) p.dispose();
      opt.dispose();
      for (const m of [ic, conv, noFlatten]) m.dispose();
    }
  });
  it('a tensor disposed while data() or forwardAsync reads it leaves no in-flight mark on the tensors made after it', async () => {
    // The call's own reference to its input is dropped on the worker thread, before the promise settles on the
    // JS thread. Once the storage was freed then while still marked, a new tensor allocated at its address was
    // refused as "in use by data() in flight" (seen in CI: zero_ on a fresh tensor).
    const blockJs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    const m = new nn.Linear(3, 2);
    const pending: Promise<unknown>[] = [];
    const refused: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const t = tensor([[1, 2, 3], [4, 5, 6]]);
        pending.push(i % 2 ? t.data() : m.forwardAsync(t));
        t.dispose();
        blockJs(25); // the worker finishes meanwhile; no promise settles while this loop runs
        for (let k = 0; k < 5; k++) {
          const u = tensor([[1, 2, 3], [4, 5, 6]]);
          try {
            u.zero_();
          } catch (e) {
            refused.push((e as Error).message);
          }
          u.dispose();
        }
      }
    } finally {
      for (const r of await Promise.all(pending)) if (r instanceof Tensor) r.dispose();
      m.dispose();
    }
    expect(refused).toEqual([]);
  });
});

describe('freezing and looking up parts of a model (requiresGrad_, getSubmodule, getParameter, getBuffer)', () => {
  const x = () => randn([4, 3, 32, 32]);
  const y = () => tensor([1n, 0n, 3n, 2n]);

  it('getSubmodule, getParameter and getBuffer find what the dotted names of namedModules, namedParameters and namedBuffers name', () =>
    tidy(() => {
      const net = torch.resnetCifar({ depth: 8, classes: 4 });
      for (const [name, m] of net.namedModules()) expect(net.getSubmodule(name)).toBe(m);
      for (const [name, p] of net.namedParameters()) {
        const q = net.getParameter(name);
        expect([q.shape, q.toArray()]).toEqual([p.shape, p.toArray()]);
        noGrad(() => q.mul_(0)); // the same memory
        expect(p.abs().sum().item()).toBe(0);
      }
      for (const [name, b] of net.namedBuffers()) expect(net.getBuffer(name).toArray()).toEqual(b.toArray());
      expect(() => net.getSubmodule('layer1.7')).toThrow(/^getSubmodule: 'layer1' has no submodule '7' \(its submodules: 0\)$/);
      expect(() => net.getSubmodule('nope')).toThrow(/^getSubmodule: the module has no submodule 'nope' \(its submodules: conv1, .*fc\)$/);
      expect(() => net.getParameter('fc.wieght')).toThrow(/^getParameter: 'fc' has no parameter 'wieght' \(its parameters: weight, bias\)$/);
      expect(() => net.getParameter('layer9.conv1.weight')).toThrow(/^getParameter: the module has no submodule 'layer9'/);
      expect(() => net.getBuffer('fc.weight')).toThrow(/^getBuffer: 'fc' has no buffer 'weight' \(its buffers: none\)$/);
      expect(() => net.getParameter('')).toThrow(TypeError);
      expect(() => net.getSubmodule(3 as never)).toThrow(TypeError);
    }));

  it('requiresGrad_(false) freezes every parameter below a module: no gradient, the same head gradient, untouched by the native training step', async () => {
    torch.manualSeed(5);
    const net = torch.resnetCifar({ depth: 8, classes: 4 });
    const input = x();
    const target = y();
    net.eval();
    // the head's gradient with everything trainable ...
    const full = tidy(() => {
      crossEntropy(net.forward(input), target).backward();
      return net.getParameter('fc.weight').grad!.keep();
    });
    net.zeroGrad();
    // ... equals its gradient with the rest frozen, and the frozen parameters get none
    expect(net.requiresGrad_(false)).toBe(net);
    (net.getSubmodule('fc') as nn.Module).requiresGrad_(true);
    tidy(() => {
      const trainable = net.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
      expect(trainable).toEqual(['fc.weight', 'fc.bias']);
      crossEntropy(net.forward(input), target).backward();
      expect(net.getParameter('fc.weight').grad!.sub(full).abs().max().item()).toBeLessThan(1e-6);
      expect(net.getParameter('conv1.weight').grad).toBeNull();
      expect(net.getParameter('layer1.0.conv1.weight').grad).toBeNull();
    });
    net.zeroGrad();
    full.dispose();

    // the native whole step (SGD with momentum and weight decay) leaves frozen parameters exactly as they were
    net.train();
    const before = new Map(net.namedParameters().map(([n, p]) => [n, p.clone().keep()]));
    const opt = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    const trainer = new Trainer(net, opt);
    for (let i = 0; i < 2; i++) await trainer.step(input, target);
    tidy(() => {
      for (const [n, p] of net.namedParameters()) {
        const moved = p.sub(before.get(n)!).abs().max().item() as number;
        if (n.startsWith('fc.')) expect(moved, n).toBeGreaterThan(0);
        else expect(moved, n).toBe(0);
      }
    });
    for (const t of before.values()) t.dispose();
    trainer.dispose();
    net.dispose();
    input.dispose();
    target.dispose();
  });

  it('requiresGrad_ takes a boolean and is refused while a call in flight uses the module', async () => {
    const net = torch.resnetCifar({ depth: 8, classes: 4 });
    expect(() => net.requiresGrad_('no' as never)).toThrow(/^requiresGrad_: expected a boolean for requiresGrad/);
    const input = x();
    const pending = net.forwardAsync(input);
    expect(() => net.requiresGrad_(false)).toThrow(/^requiresGrad_: module is in use by forwardAsync in flight; await it first/);
    (await pending).dispose();
    net.requiresGrad_(false);
    expect(tidy(() => net.parameters().every((p) => !p.requiresGrad))).toBe(true);
    net.dispose();
    input.dispose();
  });
});
