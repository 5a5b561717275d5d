// torch.optim.swa_utils in TypeScript (lib/optim/swa.ts) against python3-torch 1.13 on the same values:
// AveragedModel's parameters and buffers after several updates (running mean, an EMA, useBuffers), its state
// dict both ways through torch.save files; updateBn's running statistics (BatchNorm1d/2d and the IC layer as
// BatchNorm) over the same batches in every accepted form; SWALR's learning rates and states; and the errors.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { AveragedModel, SWALR, updateBn, type AvgFn } from '../lib/optim/swa';
import { maxDiff, vals } from './helpers/compare';
import { lcg } from './helpers/random';
import { hasTorch, py, pyTorchVersion } from './helpers/torchpy';

// ictorch's schedulers and SWA follow PyTorch 1.13; 2.x changed some of them (CyclicLR's state and resumed momenta,
// SWALR's state, AveragedModel syncing buffers): those comparisons need python3's torch to be 1.13.
const py113 = pyTorchVersion?.startsWith('1.13') ?? false;

const { nn, optim } = torch;
const makeNet = () => new nn.Sequential(new nn.Linear(4, 8), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 3));
const PY_NET = 'torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))';
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const values = (n: number, seed: number, scale = 1): number[] => {
  const r = lcg(seed);
  return Array.from({ length: n }, () => Math.fround(r() * scale));
};
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-swa-'));

/** Sets every parameter of `m` (in namedParameters order) from `flat[i]`. */
function setParams(m: torch.nn.Module, flat: number[][]): void {
  torch.tidy(() => torch.noGrad(() => m.parameters().forEach((p, i) => p.copy_(torch.tensor(flat[i]).reshape(p.shape)))));
}

/** A state dict's values by key as numbers. */
const stateValues = (m: torch.nn.Module): Record<string, number[]> => torch.tidy(() => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, vals(t)])));

const UPDATES = 5;
const SHAPES = [[8, 4], [8], [8], [8], [3, 8], [3]];
/** Per update: the model's parameters and a training batch (which moves the BatchNorm buffers). */
const steps = Array.from({ length: UPDATES }, (_, k) => ({ params: SHAPES.map((s, i) => values(numel(s), 100 * k + i)), x: values(6 * 4, 999 + k, 2) }));

interface Case {
  name: string;
  options: { avgFn?: AvgFn; useBuffers?: boolean };
  py: string;
}
const CASES: Case[] = [
  { name: 'running mean', options: {}, py: '{}' },
  { name: 'EMA', options: { avgFn: (a, p) => a.mul(0.1).add(p.mul(0.9)) }, py: "{'avg_fn': lambda a, p, n: 0.1 * a + 0.9 * p}" },
  { name: 'running mean with buffers', options: { useBuffers: true }, py: "{'use_buffers': True}" },
  { name: 'EMA of n with buffers', options: { avgFn: (a, p, n) => a.add(p.sub(a).mul(n.add(1).reciprocal().mul(0.5))), useBuffers: true }, py: "{'avg_fn': lambda a, p, n: a + (p - a) * ((n + 1).reciprocal() * 0.5), 'use_buffers': True}" },
];

/** Runs the updates in ictorch: the averaged model's state after each. */
function runAveraged(c: Case): { model: torch.nn.Module; swa: AveragedModel; states: Record<string, number[]>[] } {
  const model = makeNet();
  setParams(model, steps[0].params);
  // The copy is deepCopy(model), PyTorch's default.
  const swa = new AveragedModel(model, { ...c.options });
  const states = [stateValues(swa)];
  for (const st of steps) {
    setParams(model, st.params);
    torch.tidy(() => void model.forward(torch.tensor(st.x).reshape([6, 4])));
    swa.updateParameters(model);
    states.push(stateValues(swa));
  }
  return { model, swa, states };
}

describe.skipIf(!hasTorch)('AveragedModel and updateBn equal python3-torch (needs python3 with torch)', () => {
  it.skipIf(!py113)("AveragedModel's parameters and buffers after each update equal PyTorch's (running mean, EMA, useBuffers); its state dict has PyTorch's keys and loads both ways (needs python3's torch 1.13, which ictorch follows here)", async () => {
    const dir = tmp();
    try {
      const runs = CASES.map((c) => runAveraged(c));
      runs.forEach((r, i) => torch.save(r.swa.stateDict(), path.join(dir, `ours${i}.pt`)));
      const ref = JSON.parse(
        await py(
          `
import json, sys, torch
from torch.optim.swa_utils import AveragedModel
inp = json.loads(sys.stdin.read())
def set_params(m, flat):
    with torch.no_grad():
        for p, v in zip(m.parameters(), flat): p.copy_(torch.tensor(v).reshape(p.shape))
def values(m): return {k: t.double().flatten().tolist() for k, t in m.state_dict().items()}
out = {}
for i, opts in enumerate([${CASES.map((c) => c.py).join(', ')}]):
    model = ${PY_NET}
    set_params(model, inp['steps'][0]['params'])
    swa = AveragedModel(model, **opts)
    states = [values(swa)]
    for st in inp['steps']:
        set_params(model, st['params'])
        model(torch.tensor(st['x']).reshape(6, 4))
        swa.update_parameters(model)
        states.append(values(swa))
    torch.save(swa.state_dict(), inp['dir'] + f'/py{i}.pt')
    # ictorch's file into a fresh PyTorch AveragedModel
    other = AveragedModel(${PY_NET}, **opts)
    other.load_state_dict(torch.load(inp['dir'] + f'/ours{i}.pt'))
    out[str(i)] = {'states': states, 'keys': list(swa.state_dict().keys()), 'loaded': values(other), 'dtypes': {k: str(t.dtype) for k, t in other.state_dict().items()}}
print(json.dumps(out))`,
          JSON.stringify({ steps, dir }),
        ),
      ) as Record<string, { states: Record<string, number[]>[]; keys: string[]; loaded: Record<string, number[]>; dtypes: Record<string, string> }>;
      CASES.forEach((c, i) => {
        const r = ref[String(i)];
        const { swa, model, states } = runs[i];
        expect(Object.keys(swa.stateDict()), `${c.name}: state dict keys`).toEqual(r.keys);
        expect(r.keys[0]).toBe('n_averaged');
        states.forEach((s, k) => {
          for (const key of r.keys) expect(maxDiff(s[key], r.states[k][key]), `${c.name}: ${key} after ${k} updates`).toBeLessThanOrEqual(2e-6);
        });
        expect(Number(swa.nAveraged.item())).toBe(UPDATES);
        // ictorch → PyTorch: the file loads into Python's AveragedModel with the same values and dtypes.
        for (const key of r.keys) expect(maxDiff(r.loaded[key], states[UPDATES][key]), `${c.name}: ${key} loaded in PyTorch`).toBe(0);
        expect(r.dtypes['n_averaged']).toBe('torch.int64');
        // PyTorch → ictorch: Python's file loads into a fresh AveragedModel.
        const fresh = new AveragedModel(makeNet(), { copy: makeNet, ...c.options });
        const loaded = torch.load(path.join(dir, `py${i}.pt`)) as Record<string, torch.Tensor>;
        fresh.loadStateDict(loaded);
        const got = stateValues(fresh);
        for (const key of r.keys) expect(maxDiff(got[key], r.states[UPDATES][key]), `${c.name}: ${key} from PyTorch's file`).toBe(0);
        // The forward is the copy's.
        torch.tidy(() => {
          fresh.eval();
          const x = torch.tensor(steps[0].x).reshape([6, 4]);
          expect(vals(fresh.forward(x))).toEqual(vals(fresh.module.forward(x)));
        });
        [swa, model, fresh].forEach((m) => m.dispose());
        Object.values(loaded).forEach((t) => t.dispose());
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("updateBn recomputes BatchNorm1d/2d and IC running statistics as PyTorch's update_bn (cumulative average), from arrays, [input, target] pairs, async iterables and loader batches", async () => {
    const B = 4;
    const xs = Array.from({ length: B }, (_, k) => values(5 * 3 * 6 * 6, 500 + k, 1.5 + k));
    // IC (dropRate 0) is BatchNorm2d exactly; the IC with dropout comes last, so no statistics depend on its dropout
    // masks. Python has BatchNorm2d and BatchNorm1d in their places.
    const build = () =>
      new nn.Sequential(
        new nn.Conv2d(3, 4, 3),
        new nn.BatchNorm2d(4, { momentum: 0.3 }),
        new nn.ReLU(),
        new nn.IC(4, { dropRate: 0 }),
        new nn.Conv2d(4, 6, 1),
        new nn.Flatten(),
        new nn.BatchNorm1d(6 * 4 * 4),
        new nn.IC(6 * 4 * 4, { dropRate: 0.3, dims: 1 }),
      );
    const PY_BUILD = 'torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4, momentum=0.3), torch.nn.ReLU(), torch.nn.BatchNorm2d(4), torch.nn.Conv2d(4, 6, 1), torch.nn.Flatten(), torch.nn.BatchNorm1d(6 * 4 * 4), torch.nn.BatchNorm1d(6 * 4 * 4))';
    const normKeys = (m: torch.nn.Module) => Object.keys(m.stateDict()).filter((k) => /running_|num_batches/.test(k));
    const init = torch.tidy(() => stateValues(build()));
    const fresh = () => {
      const m = build();
      torch.tidy(() => torch.noGrad(() => Object.entries(m.stateDict()).forEach(([k, t]) => t.copy_(torch.tensor(init[k], { dtype: t.dtype }).reshape(t.shape)))));
      // Statistics to be replaced, and a mode to be restored.
      torch.tidy(() => void m.forward(torch.tensor(xs[0]).reshape([5, 3, 6, 6]).mul(3)));
      m.eval();
      return m;
    };
    const input = (k: number) => torch.tensor(xs[k]).reshape([5, 3, 6, 6]);
    const loaders: [string, () => Iterable<unknown> | AsyncIterable<unknown>][] = [
      ['tensors', () => xs.map((_, k) => input(k))],
      ['[input, target] arrays', () => xs.map((_, k) => [input(k), torch.tensor([k])])],
      [
        'an async generator',
        () =>
          (async function* () {
            for (let k = 0; k < B; k++) yield input(k);
          })(),
      ],
      ['loader batches', () => xs.map((_, k) => ({ images: input(k), labels: torch.zeros([5], { dtype: 'int64' }), indices: new Int32Array(5) }))],
    ];
    const results: Record<string, number[]>[] = [];
    const afterOneMore: Record<string, number[]>[] = [];
    for (const [name, make] of loaders) {
      const m = fresh();
      const batches = make();
      await updateBn(batches as never, m);
      expect(m.training, `${name}: the mode is restored`).toBe(false);
      expect(m.modules().every((c) => !c.training)).toBe(true);
      results.push(stateValues(m));
      if (name === 'loader batches') for (const b of batches as { images: torch.Tensor; labels: torch.Tensor }[]) expect(b.images.isDisposed && b.labels.isDisposed).toBe(true);
      if (name === 'tensors') for (const t of batches as torch.Tensor[]) expect(t.isDisposed).toBe(false);
      // The layers' momenta are untouched: one more training batch moves the statistics as PyTorch's.
      m.train();
      torch.tidy(() => void m.forward(input(1).mul(0.5)));
      afterOneMore.push(stateValues(m));
      m.dispose();
    }
    const keys = normKeys(build());
    const ref = JSON.parse(
      await py(
        `
import json, sys, torch
from torch.optim.swa_utils import update_bn
inp = json.loads(sys.stdin.read())
m = ${PY_BUILD}
with torch.no_grad():
    for k, t in m.state_dict().items(): t.copy_(torch.tensor(inp['init'][k], dtype=t.dtype).reshape(t.shape))
xs = [torch.tensor(x).reshape(5, 3, 6, 6) for x in inp['xs']]
m(xs[0] * 3)
m.eval()
update_bn([(x, 0) for x in xs], m)
training = m.training
def values(m): return {k: t.double().flatten().tolist() for k, t in m.state_dict().items()}
res = values(m)
m.train()
m(xs[1] * 0.5)
print(json.dumps({'res': res, 'after': values(m), 'training': training}))`,
        JSON.stringify({ init, xs }),
      ),
    ) as { res: Record<string, number[]>; after: Record<string, number[]>; training: boolean };
    expect(ref.training).toBe(false);
    loaders.forEach(([name], i) => {
      for (const k of keys) {
        expect(maxDiff(results[i][k], ref.res[k]), `${name}: ${k}`).toBeLessThanOrEqual(1e-6);
        expect(maxDiff(afterOneMore[i][k], ref.after[k]), `${name}: ${k} after one more training batch`).toBeLessThanOrEqual(1e-6);
      }
      expect(results[i]['7.num_batches_tracked']).toEqual([B]);
      expect(results[i]['3.num_batches_tracked']).toEqual([B]);
    });
  });

  it("updateBn recomputes BatchNorm3d's running statistics as PyTorch's update_bn", async () => {
    const xs = Array.from({ length: 3 }, (_, k) => values(2 * 2 * 3 * 4 * 4, 700 + k, 1 + k));
    torch.manualSeed(5);
    const m = new nn.Sequential(new nn.Conv3d(2, 3, 1), new nn.BatchNorm3d(3));
    const params = torch.tidy(() => m.parameters().map((p) => vals(p)));
    await updateBn(xs.map((x) => torch.tensor(x).reshape([2, 2, 3, 4, 4])), m);
    const ours = stateValues(m);
    const ref = JSON.parse(
      await py(
        `
import json, sys, torch
from torch.optim.swa_utils import update_bn
inp = json.loads(sys.stdin.read())
m = torch.nn.Sequential(torch.nn.Conv3d(2, 3, 1), torch.nn.BatchNorm3d(3))
with torch.no_grad():
    for p, v in zip(m.parameters(), inp['params']): p.copy_(torch.tensor(v).reshape(p.shape))
update_bn([torch.tensor(x).reshape(2, 2, 3, 4, 4) for x in inp['xs']], m)
print(json.dumps({k: t.double().flatten().tolist() for k, t in m.state_dict().items()}))`,
        JSON.stringify({ params, xs }),
      ),
    );
    for (const k of ['1.running_mean', '1.running_var', '1.num_batches_tracked']) expect(maxDiff(ours[k], ref[k]), k).toBeLessThan(1e-6);
    m.dispose();
  });

  it('updateBn on an AveragedModel (the SWA recipe) equals update_bn on PyTorch\'s', async () => {
    const model = makeNet();
    setParams(model, steps[0].params);
    const swa = new AveragedModel(model, { copy: makeNet });
    for (const st of steps.slice(1)) {
      setParams(model, st.params);
      swa.updateParameters(model);
    }
    const batches = steps.map((st) => [torch.tensor(st.x).reshape([6, 4])]);
    await updateBn(batches, swa, 'cpu');
    const ours = stateValues(swa);
    const ref = JSON.parse(
      await py(
        `
import json, sys, torch
from torch.optim.swa_utils import AveragedModel, update_bn
inp = json.loads(sys.stdin.read())
def set_params(m, flat):
    with torch.no_grad():
        for p, v in zip(m.parameters(), flat): p.copy_(torch.tensor(v).reshape(p.shape))
model = ${PY_NET}
set_params(model, inp[0]['params'])
swa = AveragedModel(model)
for st in inp[1:]:
    set_params(model, st['params'])
    swa.update_parameters(model)
update_bn([[torch.tensor(st['x']).reshape(6, 4)] for st in inp], swa, device='cpu')
print(json.dumps({k: t.double().flatten().tolist() for k, t in swa.state_dict().items()}))`,
        JSON.stringify(steps),
      ),
    ) as Record<string, number[]>;
    expect(Object.keys(ours)).toEqual(Object.keys(ref));
    for (const k of Object.keys(ref)) expect(maxDiff(ours[k], ref[k]), k).toBeLessThanOrEqual(2e-6);
    [model, swa].forEach((m) => m.dispose());
  });

  it.skipIf(!py113)("SWALR's learning rates equal PyTorch's (cos and linear, per group, annealEpochs 0, after a CosineAnnealingLR); its state loads both ways (needs python3's torch 1.13, which ictorch follows here)", async () => {
    type Spec = { name: string; opt: 'SGD' | 'Adam'; swa: (o: torch.optim.Optimizer<object>) => SWALR; py: string; switchAt: number; steps: number; at: number };
    const specs: Spec[] = [
      { name: 'cos after cosine', opt: 'SGD', swa: (o) => new SWALR(o, { swaLr: 0.05, annealEpochs: 5 }), py: 'SWALR(opt, swa_lr=0.05, anneal_epochs=5)', switchAt: 8, steps: 20, at: 11 },
      { name: 'linear per group (Adam)', opt: 'Adam', swa: (o) => new SWALR(o, { swaLr: [0.02, 0.01], annealEpochs: 3, annealStrategy: 'linear' }), py: "SWALR(opt, swa_lr=[0.02, 0.01], anneal_epochs=3, anneal_strategy='linear')", switchAt: 4, steps: 12, at: 6 },
      { name: 'at once (annealEpochs 0)', opt: 'SGD', swa: (o) => new SWALR(o, { swaLr: 0.001, annealEpochs: 0 }), py: 'SWALR(opt, swa_lr=0.001, anneal_epochs=0)', switchAt: 3, steps: 8, at: 5 },
      { name: 'defaults from the start', opt: 'SGD', swa: (o) => new SWALR(o, { swaLr: 0.3 }), py: 'SWALR(opt, swa_lr=0.3)', switchAt: 0, steps: 14, at: 4 },
    ];
    const setup = (spec: Spec) => {
      const ps = [torch.zeros([2], { requiresGrad: true }), torch.zeros([3], { requiresGrad: true })];
      const groups = [{ params: [ps[0]] }, { params: [ps[1]], lr: 0.03 }];
      const opt = spec.opt === 'SGD' ? new optim.SGD(groups, { lr: 0.1, momentum: 0.9 }) : new optim.Adam(groups, { lr: 0.1 });
      const cosine = new optim.CosineAnnealingLR(opt, { tMax: 20 });
      const swa = spec.swa(opt);
      return { ps, opt, cosine, swa };
    };
    const lrs = (opt: torch.optim.Optimizer<object>) => (opt.paramGroups as unknown as { lr: number }[]).map((g) => g.lr);
    const ours = specs.map((spec) => {
      const { ps, opt, cosine, swa } = setup(spec);
      const rec = [lrs(opt)];
      let state: Record<string, unknown> = {};
      let groupsAt: number[] = [];
      for (let e = 0; e < spec.steps; e++) {
        if (e >= spec.switchAt) swa.step();
        else cosine.step();
        rec.push(lrs(opt));
        if (e + 1 === spec.at) [state, groupsAt] = [swa.stateDict(), lrs(opt)];
      }
      opt.dispose();
      ps.forEach((p) => p.dispose());
      return { rec, state, groupsAt };
    });
    const ref = JSON.parse(
      await py(
        `
import json, sys, torch, warnings
from torch.optim.swa_utils import SWALR
warnings.simplefilter('ignore')
ours = json.loads(sys.stdin.read())
def setup(kind, make):
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    groups = [{'params': [a]}, {'params': [b], 'lr': 0.03}]
    opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9) if kind == 'SGD' else torch.optim.Adam(groups, lr=0.1)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
    return opt, cosine, make(opt)
out = {}
for i, (kind, make, switch, steps, at) in enumerate([${specs.map((s) => `('${s.opt}', lambda opt: ${s.py}, ${s.switchAt}, ${s.steps}, ${s.at})`).join(', ')}]):
    opt, cosine, swa = setup(kind, make)
    rec, state = [[g['lr'] for g in opt.param_groups]], None
    for e in range(steps):
        opt.step()
        swa.step() if e >= switch else cosine.step()
        rec.append([g['lr'] for g in opt.param_groups])
        if e + 1 == at: state = {k: v for k, v in swa.state_dict().items() if k != 'anneal_func'}
    # ictorch's state into a fresh PyTorch SWALR (the groups' lrs as the optimizer's state carries them)
    opt2, _, swa2 = setup(kind, make)
    swa2.load_state_dict(ours[i]['state'])
    for g, lr in zip(opt2.param_groups, ours[i]['groupsAt']): g['lr'] = lr
    cont = []
    for e in range(at, steps):
        opt2.step(); swa2.step(); cont.append([g['lr'] for g in opt2.param_groups])
    out[str(i)] = {'rec': rec, 'state': state, 'cont': cont}
print(json.dumps(out))`,
        JSON.stringify(ours.map((o) => ({ state: o.state, groupsAt: o.groupsAt }))),
      ),
    ) as Record<string, { rec: number[][]; state: Record<string, unknown>; cont: number[][] }>;
    const close = (what: string, a: number[][], b: number[][]) => {
      expect(a.length, what).toBe(b.length);
      a.forEach((row, e) => row.forEach((v, g) => expect(Math.abs(v - b[e][g]), `${what}: step ${e} group ${g}: ${v} vs ${b[e][g]}`).toBeLessThanOrEqual(1e-15 + 1e-12 * Math.abs(v))));
    };
    specs.forEach((spec, i) => {
      const r = ref[String(i)];
      close(spec.name, ours[i].rec, r.rec);
      // PyTorch's keys (but its anneal_func, a function), and 2.x's _is_initial.
      const sd = ours[i].state;
      expect(Object.keys(sd).filter((k) => k !== '_is_initial').sort(), `${spec.name}: state keys`).toEqual(Object.keys(r.state).sort());
      for (const [k, v] of Object.entries(r.state)) {
        if (k === '_last_lr' || k === 'base_lrs') (v as number[]).forEach((x, g) => expect(Math.abs((sd[k] as number[])[g] - x)).toBeLessThanOrEqual(1e-12 * Math.abs(x)));
        else expect(sd[k], `${spec.name}: state ${k}`).toEqual(v);
      }
      close(`${spec.name} (ictorch's state in PyTorch)`, r.cont, r.rec.slice(spec.at + 1));
      // PyTorch's state into a fresh ictorch SWALR continues as PyTorch did.
      const { ps, opt, swa } = setup(spec);
      swa.loadStateDict(r.state as never);
      (opt.paramGroups as unknown as { lr: number }[]).forEach((g, j) => (g.lr = r.rec[spec.at][j]));
      const cont: number[][] = [];
      for (let e = spec.at; e < spec.steps; e++) {
        swa.step();
        cont.push(lrs(opt));
      }
      close(`${spec.name} (PyTorch's state in ictorch)`, cont, r.rec.slice(spec.at + 1));
      opt.dispose();
      ps.forEach((p) => p.dispose());
    });
  });
});

describe('AveragedModel, updateBn and SWALR without Python', () => {
  it.each([['deepCopy (the default)', undefined], ['a copy function', makeNet]] as const)("the copy takes the model's values, training modes and requiresGrad: %s; a model spec builds it through the registry", (_, copy) => {
    const model = makeNet();
    model.eval();
    (model as unknown as { 1: torch.nn.Module })[1].train();
    torch.tidy(() => model.parameters()[0].requiresGrad_(false));
    const swa = new AveragedModel(model, copy ? { copy } : undefined);
    expect(swa.module).not.toBe(model);
    expect(swa.module.constructor).toBe(model.constructor);
    expect(swa.module.modules().map((m) => m.training)).toEqual(model.modules().map((m) => m.training));
    torch.tidy(() => {
      expect(swa.module.parameters().map((p) => p.requiresGrad)).toEqual(model.parameters().map((p) => p.requiresGrad));
      const a = model.stateDict();
      for (const [k, t] of Object.entries(swa.module.stateDict())) expect(vals(t), k).toEqual(vals(a[k]));
    });
    expect(swa.nAveraged.dtype).toBe('int64');
    expect(Number(swa.nAveraged.item())).toBe(0);
    // A float64 model: the copy becomes float64 too (deepcopy keeps the dtype).
    const m64 = makeNet().to('float64');
    const swa64 = new AveragedModel(m64, { copy: makeNet });
    torch.tidy(() => {
      expect(swa64.module.parameters().every((p) => p.dtype === 'float64')).toBe(true);
    });
    const spec = { name: 'resnet', args: { depth: 8, layout: 'relu-ic-conv', classes: 10 } };
    const resnet = torch.buildModel(spec);
    const swaResnet = new AveragedModel(resnet, { copy: spec });
    swaResnet.updateParameters(resnet);
    torch.tidy(() => {
      expect(Object.keys(swaResnet.stateDict())).toEqual(['n_averaged', ...Object.keys(resnet.stateDict()).map((k) => `module.${k}`)]);
    });
    [model, swa, m64, swa64, resnet, swaResnet].forEach((m) => m.dispose());
  });

  it('int64 buffers average as PyTorch (true division, then truncation into the buffer) with useBuffers', () => {
    const model = makeNet();
    const swa = new AveragedModel(model, { copy: makeNet, useBuffers: true });
    const counts: number[] = [];
    for (let k = 0; k < 4; k++) {
      for (let j = 0; j <= k; j++) torch.tidy(() => void model.forward(torch.ones([3, 4]).mul(j)));
      swa.updateParameters(model);
      counts.push(torch.tidy(() => Number(swa.module.stateDict()['1.num_batches_tracked'].item())));
    }
    // model's count after update k: 1, 3, 6, 10; the running mean in float, truncated: 1, 1 + (3-1)/2 = 2, 2 + (6-2)/3 = 3 (3.33), 3 + (10-3)/4 = 4 (4.75)
    expect(counts).toEqual([1, 2, 3, 4]);
    [model, swa].forEach((m) => m.dispose());
  });

  it('updateBn leaves a model without batch norm alone (the loader is not iterated) and refuses bad loaders and batches', async () => {
    const plain = new nn.Sequential(new nn.Linear(2, 2));
    const untouched = {
      [Symbol.iterator]() {
        throw new Error('iterated');
      },
    };
    await expect(updateBn(untouched as never, plain)).resolves.toBeUndefined();
    const net = makeNet();
    await expect(updateBn(42 as never, net)).rejects.toThrow(/^updateBn: expected an iterable or async iterable of batches/);
    await expect(updateBn([torch.zeros([3, 4])], {} as never)).rejects.toThrow(/^updateBn: expected an nn.Module for model/);
    await expect(updateBn([torch.zeros([3, 4])], net, 3 as never)).rejects.toThrow(/^updateBn: expected a device/);
    net.eval();
    await expect(updateBn([torch.zeros([3, 4]), 'x'] as never, net)).rejects.toThrow(/^updateBn: expected a Tensor, an array whose first element is the input Tensor, or a loader batch \{images, labels\} for batch 1 but received "x"/);
    // After a failure the hooks are gone and the mode is restored.
    expect(net.training).toBe(false);
    expect(net.isNative).toBe(true);
    [plain, net].forEach((m) => m.dispose());
  });

  it('AveragedModel and SWALR check their options; updateParameters checks the model', () => {
    const model = makeNet();
    expect(() => new AveragedModel(model, { copy: null } as never)).toThrow(/^AveragedModel: expected a function returning a new module, or a model spec \{name, args\} for copy but received null/);
    expect(() => new AveragedModel(model, { copy: makeNet, avg_fn: () => null } as never)).toThrow(/^AveragedModel: unknown option 'avg_fn'; did you mean 'avgFn'\?/);
    expect(() => new AveragedModel(model, { copy: makeNet, avgFn: 1 as never })).toThrow(/^AveragedModel: expected a function .* for avgFn/);
    expect(() => new AveragedModel(model, { copy: makeNet, useBuffers: 'yes' as never })).toThrow(/^AveragedModel: expected a boolean for useBuffers/);
    expect(() => new AveragedModel(model, { copy: () => model })).toThrow(/^AveragedModel: expected a new module \(it returned the model itself\)/);
    expect(() => new AveragedModel(model, { copy: () => new nn.Linear(4, 3) as never })).toThrow(/^AveragedModel: expected a module of the model's class \(Sequential\) for copy\(\)/);
    expect(() => new AveragedModel(model, { copy: () => new nn.Sequential(new nn.Linear(4, 8), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 2)) })).toThrow(
      /^AveragedModel: copy\(\) built another architecture: 3.weight is float32 \[2, 8\]/,
    );
    expect(() => new AveragedModel({} as never, { copy: makeNet })).toThrow(/^AveragedModel: expected an nn.Module for model/);
    expect(() => new AveragedModel(model, { copy: makeNet, device: 'float64' })).toThrow(/^AveragedModel: expected a device \('cpu', 'cuda', 'cuda:1'\) for device but received "float64"/);
    const swa = new AveragedModel(model, { copy: makeNet, avgFn: () => 3 as never });
    expect(() => swa.updateParameters(new nn.Linear(4, 8))).toThrow(/^AveragedModel.updateParameters: the model has 2 parameters, the averaged model 6/);
    const wide = new nn.Sequential(new nn.Linear(4, 8), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 4));
    expect(() => swa.updateParameters(wide)).toThrow(/^AveragedModel.updateParameters: the model's 3.weight has shape \[4, 8\], the averaged model's 3.weight \[3, 8\]/);
    swa.updateParameters(model);
    expect(() => swa.updateParameters(model)).toThrow(/^AveragedModel.updateParameters: expected a Tensor for avgFn's result for 0.weight but received 3/);

    const p = torch.zeros([2], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1 });
    expect(() => new SWALR(opt, {} as never)).toThrow(/^SWALR: expected a learning rate or one per group \(SWALR has no default swaLr\)/);
    expect(() => new SWALR(opt, { swaLr: -1 })).toThrow(/^SWALR: expected a learning rate >= 0 for swaLr/);
    expect(() => new SWALR(opt, { swaLr: [0.1, 0.2] })).toThrow(/^SWALR: expected a number or an array of one number per parameter group \(1\) for swaLr/);
    expect(() => new SWALR(opt, { swaLr: 0.1, annealStrategy: 'cosine' as never })).toThrow(/^SWALR: expected one of "cos", "linear" for annealStrategy/);
    expect(() => new SWALR(opt, { swaLr: 0.1, annealEpochs: -1 })).toThrow(/^SWALR: expected an integer between 0/);
    expect(() => new SWALR(opt, { swaLr: 0.1, annealEpochs: 1.5 })).toThrow(/^SWALR: expected an integer for annealEpochs/);
    expect(() => new SWALR(opt, { swaLr: 0.1, anneal_epochs: 3 } as never)).toThrow(/^SWALR: unknown option 'anneal_epochs'; did you mean 'annealEpochs'\?/);
    expect(() => new SWALR(opt, { swaLr: 0.1, lastEpoch: 3 })).toThrow(/^SWALR: expected a number when resuming with lastEpoch >= 0 for optimizer.paramGroups\[0\].initialLr/);
    const s = new SWALR(opt, { swaLr: 0.1 });
    expect(() => s.loadStateDict({ ...s.stateDict(), anneal_epochs: -2 })).toThrow(/^SWALR.loadStateDict: expected an integer between 0/);
    opt.dispose();
    p.dispose();
    [model, swa, wide].forEach((m) => m.dispose());
  });

  it("SWALR writes swa_lr to the optimiser's groups, as PyTorch's, and an optimiser state holding it loads", () => {
    const ps = [torch.zeros([2], { requiresGrad: true }), torch.zeros([3], { requiresGrad: true })];
    const opt = new optim.SGD([{ params: [ps[0]] }, { params: [ps[1]] }], { lr: 0.1 });
    new SWALR(opt, { swaLr: [0.02, 0.01] });
    const sd = opt.stateDict();
    expect(sd.param_groups.map((g) => g.swa_lr)).toEqual([0.02, 0.01]);
    const other = new optim.SGD([{ params: [ps[0]] }, { params: [ps[1]] }], { lr: 0.1 });
    other.loadStateDict(sd);
    expect(other.paramGroups.map((g) => g.swaLr)).toEqual([0.02, 0.01]);
    [opt, other].forEach((o) => o.dispose());
    ps.forEach((p) => p.dispose());
  });
});
