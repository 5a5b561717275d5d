// CyclicLR, MultiplicativeLR and ChainedScheduler against python3-torch 1.13 on the same two-group optimisers:
// every step's learning rates and momenta, the states both ways (JSON and torch.save files), 1.13's quirks
// (CyclicLR's first step from an earlier initial_lr, its base momenta read back from the groups on resuming),
// and the errors.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { ChainedScheduler, CyclicLR, MultiplicativeLR } from '../lib/optim/scheduler';
import { hasTorch, py, pyTorchVersion } from './helpers/torchpy';

// ictorch's schedulers and SWA follow PyTorch 1.13; 2.x changed some of them (CyclicLR's state and resumed momenta,
// SWALR's state, AveragedModel syncing buffers): those comparisons need python3's torch to be 1.13.
const py113 = pyTorchVersion?.startsWith('1.13') ?? false;
import { recordGroups as record, runScheduler as run, twoGroups, type MomentumGroup, type Opt, type SchedulerRun } from './helpers/schedulers';

const { optim } = torch;
type Sched = torch.optim.LRScheduler | ChainedScheduler | torch.optim.SequentialLR;

/** A scheduler compared with PyTorch: ictorch's and Python's construction over `opt` (and `L` = lr_scheduler, `math`). */
interface Spec extends SchedulerRun {
  make: (o: Opt) => Sched;
  py: string;
}

const close = (what: string, a: number[][], b: number[][]): void => {
  expect(a.length, `${what}: steps`).toBe(b.length);
  a.forEach((row, e) => row.forEach((v, g) => expect(Math.abs(v - b[e][g]), `${what}: step ${e} value ${g} (lrs, then momenta): ${v} vs ${b[e][g]}`).toBeLessThanOrEqual(1e-15 + 1e-12 * Math.abs(v))));
};

const PY_COMMON = `
import json, math, torch, warnings
from torch.optim import lr_scheduler as L
warnings.simplefilter('ignore')
def make_opt(kind):
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    groups = [{'params': [a]}, {'params': [b], 'lr': 0.03}]
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9) if kind == 'SGD' else torch.optim.Adam(groups, lr=0.1)
def record(opt):
    return [g['lr'] for g in opt.param_groups] + [g['betas'][0] if 'betas' in g else g['momentum'] for g in opt.param_groups]
def set_groups(opt, v):
    n = len(opt.param_groups)
    for i, g in enumerate(opt.param_groups):
        g['lr'] = v[i]
        if 'betas' in g: g['betas'] = (v[n + i], g['betas'][1])
        else: g['momentum'] = v[n + i]
def portable(sd):
    # What a file or JSON can hold: 1.13's CyclicLR keeps a WeakMethod (_scale_fn_ref) and maybe a lambda.
    out = {}
    for k, v in sd.items():
        if k in ('_scale_fn_ref', 'anneal_func'): continue
        out[k] = [portable(x) for x in v] if k == '_schedulers' else None if callable(v) else v
    return out
def loadable(sd):
    # ictorch's state for a 1.13 scheduler: _scale_fn_custom (null, as 2.x writes a function) would replace 1.13's own.
    out = {k: v for k, v in sd.items() if k != '_scale_fn_custom'}
    if '_schedulers' in out: out['_schedulers'] = [loadable(x) for x in out['_schedulers']]
    return out
`;

/** Keys one of PyTorch 1.13 and 2.x writes and the other lacks (each ignores the other's). */
const OTHER_VERSION = ['verbose', '_is_initial', 'use_beta1'];

function expectStatesMatch(name: string, ours: Record<string, unknown>, theirs: Record<string, unknown>): void {
  const known = (k: string) => !OTHER_VERSION.includes(k);
  expect(Object.keys(theirs).filter((k) => known(k) && !(k in ours)), `${name}: PyTorch's state keys missing`).toEqual([]);
  expect(Object.keys(ours).filter((k) => known(k) && !(k in theirs)), `${name}: keys PyTorch lacks`).toEqual([]);
  for (const [k, v] of Object.entries(theirs)) {
    if (!known(k)) continue;
    if (k === '_schedulers') {
      (v as Record<string, unknown>[]).forEach((sub, j) => expectStatesMatch(`${name} _schedulers[${j}]`, (ours[k] as Record<string, unknown>[])[j], sub));
    } else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) {
      (v as number[]).forEach((x, g) => expect(Math.abs((ours[k] as number[])[g] - x), `${name}: ${k}[${g}]`).toBeLessThanOrEqual(1e-15 + 1e-12 * Math.abs(x)));
    } else expect(ours[k], `${name}: state ${k}`).toEqual(v);
  }
}

const SPECS: Spec[] = [
  { name: 'cyclic triangular SGD', opt: 'SGD', make: (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4 }), py: 'L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)', steps: 30, at: 11 },
  {
    name: 'cyclic triangular2 per group, uneven halves',
    opt: 'SGD',
    make: (o) => new CyclicLR(o, { baseLr: [0.01, 0.002], maxLr: [0.1, 0.05], stepSizeUp: 3, stepSizeDown: 5, mode: 'triangular2', baseMomentum: [0.8, 0.7], maxMomentum: 0.95 }),
    py: "L.CyclicLR(opt, base_lr=[0.01, 0.002], max_lr=[0.1, 0.05], step_size_up=3, step_size_down=5, mode='triangular2', base_momentum=[0.8, 0.7], max_momentum=0.95)",
    steps: 40,
    at: 13,
  },
  {
    name: 'cyclic exp_range without momentum cycling',
    opt: 'SGD',
    make: (o) => new CyclicLR(o, { baseLr: 0.001, maxLr: 0.006, stepSizeUp: 5, mode: 'exp_range', gamma: 0.97, cycleMomentum: false }),
    py: "L.CyclicLR(opt, base_lr=0.001, max_lr=0.006, step_size_up=5, mode='exp_range', gamma=0.97, cycle_momentum=False)",
    steps: 35,
    at: 7,
  },
  {
    name: 'cyclic exp_range on Adam without momentum cycling',
    opt: 'Adam',
    make: (o) => new CyclicLR(o, { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, stepSizeDown: 0, mode: 'exp_range', gamma: 0.9, cycleMomentum: false }),
    py: "L.CyclicLR(opt, base_lr=0.001, max_lr=0.01, step_size_up=2, step_size_down=0, mode='exp_range', gamma=0.9, cycle_momentum=False)",
    steps: 12,
    at: 5,
  },
  {
    name: 'cyclic scaleFn of the cycle',
    opt: 'SGD',
    make: (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3, scaleFn: (x) => 0.5 * (1 + Math.sin((x * Math.PI) / 2)) }),
    py: 'L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 0.5 * (1 + math.sin(x * math.pi / 2)))',
    steps: 30,
    at: 9,
  },
  {
    name: 'cyclic scaleFn of the iteration',
    opt: 'SGD',
    make: (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2, stepSizeDown: 3, scaleFn: (x) => 1 / (1 + x / 10), scaleMode: 'iterations', mode: 'triangular2' }),
    py: "L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2, step_size_down=3, scale_fn=lambda x: 1 / (1 + x / 10), scale_mode='iterations', mode='triangular2')",
    steps: 25,
    at: 4,
  },
  {
    // 1.13: the first step takes base_lrs from the groups' initial_lr, which the StepLR constructed before set (0.1,
    // 0.03), so the lr after construction is that, not base_lr; the next steps use base_lr.
    name: 'cyclic after another scheduler (the initial_lr quirk)',
    opt: 'SGD',
    make: (o) => {
      new optim.StepLR(o, { stepSize: 3 });
      return new CyclicLR(o, { baseLr: 0.01, maxLr: 0.05, stepSizeUp: 2 });
    },
    py: '(L.StepLR(opt, step_size=3), L.CyclicLR(opt, base_lr=0.01, max_lr=0.05, step_size_up=2))[1]',
    steps: 10,
    at: 3,
  },
  { name: 'multiplicative', opt: 'SGD', make: (o) => new MultiplicativeLR(o, { lrLambda: () => 0.95 }), py: 'L.MultiplicativeLR(opt, lr_lambda=lambda e: 0.95)', steps: 30, at: 10 },
  {
    name: 'multiplicative per group',
    opt: 'Adam',
    make: (o) => new MultiplicativeLR(o, { lrLambda: [(e) => 1 / (1 + 0.1 * e), (e) => (e % 3 === 0 ? 0.5 : 1)] }),
    py: 'L.MultiplicativeLR(opt, lr_lambda=[lambda e: 1 / (1 + 0.1 * e), lambda e: 0.5 if e % 3 == 0 else 1])',
    steps: 15,
    at: 6,
  },
  {
    name: 'chained constant and exponential (PyTorch docs)',
    opt: 'SGD',
    make: (o) => new ChainedScheduler([new optim.ConstantLR(o, { factor: 0.1, totalIters: 2 }), new optim.ExponentialLR(o, { gamma: 0.9 })]),
    py: 'L.ChainedScheduler([L.ConstantLR(opt, factor=0.1, total_iters=2), L.ExponentialLR(opt, gamma=0.9)])',
    steps: 10,
    at: 1,
  },
  {
    name: 'chained multiplicative, step and cyclic',
    opt: 'SGD',
    make: (o) => new ChainedScheduler([new MultiplicativeLR(o, { lrLambda: () => 0.98 }), new optim.StepLR(o, { stepSize: 4, gamma: 0.5 }), new CyclicLR(o, { baseLr: 0.02, maxLr: 0.08, stepSizeUp: 3 })], o),
    py: 'L.ChainedScheduler([L.MultiplicativeLR(opt, lr_lambda=lambda e: 0.98), L.StepLR(opt, step_size=4, gamma=0.5), L.CyclicLR(opt, base_lr=0.02, max_lr=0.08, step_size_up=3)])',
    steps: 16,
    at: 6,
  },
  {
    name: 'sequential warm-up then cyclic',
    opt: 'SGD',
    make: (o) => new optim.SequentialLR(o, { schedulers: [new optim.LinearLR(o, { startFactor: 0.2, totalIters: 3 }), new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2 })], milestones: [3] }),
    py: 'L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.2, total_iters=3), L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2)], milestones=[3])',
    steps: 12,
    at: 5,
  },
];

describe.skipIf(!hasTorch)('CyclicLR, MultiplicativeLR, ChainedScheduler equal python3-torch (needs python3 with torch)', () => {
  it.skipIf(!py113)("learning rates and momenta step by step; the states have PyTorch's keys and values and load both ways (needs python3's torch 1.13, which ictorch follows here)", async () => {
    const runs = SPECS.map((s) => run(s));
    const ours = Object.fromEntries(SPECS.map((s, i) => [s.name, { state: runs[i].states[s.at], groups: runs[i].rec[s.at] }]));
    const ref = JSON.parse(
      await py(
        `${PY_COMMON}
import sys
ours = json.loads(sys.stdin.readline())
out = {}
for name, kind, make, steps, at in [${SPECS.map((s) => `(${JSON.stringify(s.name)}, '${s.opt}', lambda opt: ${s.py}, ${s.steps}, ${s.at})`).join(', ')}]:
    opt = make_opt(kind)
    s = make(opt)
    rec, state = [record(opt)], None
    for e in range(steps):
        opt.step(); s.step()
        rec.append(record(opt))
        if e + 1 == at: state = portable(s.state_dict())
    opt2 = make_opt(kind)
    s2 = make(opt2)
    s2.load_state_dict(loadable(ours[name]['state']))
    set_groups(opt2, ours[name]['groups'])
    cont = []
    for e in range(at, steps):
        opt2.step(); s2.step()
        cont.append(record(opt2))
    out[name] = {'rec': rec, 'state': state, 'cont': cont}
print(json.dumps(out))`,
        `${JSON.stringify(ours)}\n`,
      ),
    ) as Record<string, { rec: number[][]; state: Record<string, unknown>; cont: number[][] }>;
    SPECS.forEach((spec, i) => {
      const r = ref[spec.name];
      close(spec.name, runs[i].rec, r.rec);
      expectStatesMatch(spec.name, runs[i].states[spec.at], r.state);
      close(`${spec.name} (ictorch's state in PyTorch)`, r.cont, r.rec.slice(spec.at + 1));
      const cont = run(spec, { state: r.state, groups: r.rec[spec.at] }).rec.slice(1);
      close(`${spec.name} (PyTorch's state in ictorch)`, cont, r.rec.slice(spec.at + 1));
    });
  });

  it.skipIf(!py113)("CyclicLR resumed with lastEpoch takes the groups' momenta as its base momenta, as 1.13 (needs python3's torch 1.13, which ictorch follows here)", async () => {
    const { opt, ps } = twoGroups('SGD');
    const gs = opt.paramGroups;
    gs.forEach((g, i) => {
      g.initialLr = [0.01, 0.004][i];
      (g as unknown as MomentumGroup).lr = [0.05, 0.02][i];
      (g as unknown as MomentumGroup).momentum = [0.85, 0.83][i];
    });
    const s = new CyclicLR(opt, { baseLr: [0.01, 0.004], maxLr: 0.1, stepSizeUp: 4, lastEpoch: 5 });
    const rec = [record(opt)];
    for (let e = 0; e < 6; e++) {
      s.step();
      rec.push(record(opt));
    }
    const ref = JSON.parse(
      await py(`${PY_COMMON}
opt = make_opt('SGD')
for g, ilr, lr, m in zip(opt.param_groups, [0.01, 0.004], [0.05, 0.02], [0.85, 0.83]):
    g['initial_lr'], g['lr'], g['momentum'] = ilr, lr, m
s = L.CyclicLR(opt, base_lr=[0.01, 0.004], max_lr=0.1, step_size_up=4, last_epoch=5)
rec = [record(opt)]
for e in range(6):
    s.step(); rec.append(record(opt))
print(json.dumps({'rec': rec, 'base_momentums': s.base_momentums, 'last_epoch': s.last_epoch}))`),
    ) as { rec: number[][]; base_momentums: number[]; last_epoch: number };
    close('resumed CyclicLR', rec, ref.rec);
    expect(s.baseMomentums).toEqual(ref.base_momentums);
    expect(s.lastEpoch).toBe(ref.last_epoch);
    opt.dispose();
    ps.forEach((p) => p.dispose());
  });

  it.skipIf(!py113)("states travel in torch.save files both ways (a 1.13 CyclicLR state without its WeakMethod; a ChainedScheduler) (needs python3's torch 1.13, which ictorch follows here)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-sched-'));
    try {
      const pyFile = path.join(dir, 'py.pt');
      const ourFile = path.join(dir, 'ours.pt');
      const makeOurs = (o: Opt) => new ChainedScheduler([new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3, mode: 'triangular2' }), new MultiplicativeLR(o, { lrLambda: () => 0.9 })]);
      const { opt, ps } = twoGroups('SGD');
      const s = makeOurs(opt);
      for (let e = 0; e < 4; e++) s.step();
      torch.save({ sched: s.stateDict(), groups: record(opt) }, ourFile);
      const ourCont: number[][] = [];
      for (let e = 0; e < 8; e++) {
        s.step();
        ourCont.push(record(opt));
      }
      const ref = JSON.parse(
        await py(`${PY_COMMON}
def make(opt): return L.ChainedScheduler([L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, mode='triangular2'), L.MultiplicativeLR(opt, lr_lambda=lambda e: 0.9)])
opt = make_opt('SGD'); s = make(opt)
for e in range(4): s.step()
torch.save({'sched': portable(s.state_dict()), 'groups': record(opt)}, ${JSON.stringify(pyFile)})
cont = []
for e in range(8):
    s.step(); cont.append(record(opt))
saved = torch.load(${JSON.stringify(ourFile)})
opt2 = make_opt('SGD'); s2 = make(opt2)
s2.load_state_dict(loadable(saved['sched'])); set_groups(opt2, saved['groups'])
cont2 = []
for e in range(8):
    s2.step(); cont2.append(record(opt2))
print(json.dumps({'cont': cont, 'cont2': cont2}))`),
      ) as { cont: number[][]; cont2: number[][] };
      close('ictorch run', ourCont, ref.cont);
      close("ictorch's file in PyTorch", ref.cont2, ref.cont);
      const saved = torch.load(pyFile) as { sched: Record<string, unknown>; groups: number[] };
      const o2 = twoGroups('SGD');
      const s2 = makeOurs(o2.opt);
      s2.loadStateDict(saved.sched as never);
      const gs = o2.opt.paramGroups as unknown as MomentumGroup[];
      gs.forEach((g, i) => {
        g.lr = saved.groups[i];
        g.momentum = saved.groups[2 + i];
      });
      const cont: number[][] = [];
      for (let e = 0; e < 8; e++) {
        s2.step();
        cont.push(record(o2.opt));
      }
      close("PyTorch's file in ictorch", cont, ref.cont);
      [opt, o2.opt].forEach((o) => o.dispose());
      [...ps, ...o2.ps].forEach((p) => p.dispose());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CyclicLR, MultiplicativeLR, ChainedScheduler without Python', () => {
  it("CyclicLR cycles Adam's betas[0] as SGD's momentum (PyTorch 2.x; 1.13 refuses Adam), keeping betas[1]", () => {
    const sgd = twoGroups('SGD');
    const adam = twoGroups('Adam');
    const opts = { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3, baseMomentum: 0.8, maxMomentum: 0.95 };
    const a = new CyclicLR(sgd.opt, opts);
    const b = new CyclicLR(adam.opt, opts);
    for (let e = 0; e < 10; e++) {
      expect(record(adam.opt)).toEqual(record(sgd.opt));
      expect((adam.opt.paramGroups[1] as unknown as MomentumGroup).betas![1]).toBe(0.999);
      a.step();
      b.step();
    }
    expect(b.stateDict().use_beta1).toBe(true);
    expect(a.stateDict().use_beta1).toBe(false);
    expect(() => b.loadStateDict(a.stateDict())).toThrow(/^CyclicLR.loadStateDict: expected true .* for use_beta1/);
    [sgd, adam].forEach((x) => {
      x.opt.dispose();
      x.ps.forEach((p) => p.dispose());
    });
  });

  it('bad options, states and schedulers are errors naming the scheduler and the argument', () => {
    const { opt, ps } = twoGroups('SGD');
    const other = twoGroups('SGD');
    const adagradP = torch.zeros([2], { requiresGrad: true });
    const adagrad = new optim.Adagrad([adagradP], { lr: 0.1 });
    expect(() => new CyclicLR(opt, { baseLr: 0.01 } as never)).toThrow(/^CyclicLR: expected a learning rate or one per group \(CyclicLR has no default maxLr\)/);
    expect(() => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, stepSize: 3 } as never)).toThrow(/^CyclicLR: unknown option 'stepSize'; did you mean 'stepSizeUp'\?/);
    expect(() => new CyclicLR(opt, { baseLr: [0.01], maxLr: 0.1 })).toThrow(/^CyclicLR: expected a number or an array of one number per parameter group \(2\) for baseLr/);
    expect(() => new CyclicLR(opt, { baseLr: -0.01, maxLr: 0.1 })).toThrow(/^CyclicLR: expected a learning rate >= 0 for baseLr/);
    expect(() => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, mode: 'triangle' as never })).toThrow(/^CyclicLR: expected one of "triangular", "triangular2", "exp_range" for mode/);
    expect(() => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 0 })).toThrow(/^CyclicLR: expected a number of steps > 0 for stepSizeUp/);
    expect(() => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, stepSizeDown: -1 })).toThrow(/^CyclicLR: expected a number of steps >= 0 for stepSizeDown/);
    expect(() => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, scaleFn: 2 as never })).toThrow(/^CyclicLR: expected a function .* for scaleFn/);
    expect(() => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, scaleMode: 'iteration' as never })).toThrow(/^CyclicLR: expected one of "cycle", "iterations" for scaleMode/);
    expect(() => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, baseMomentum: -0.1 })).toThrow(/^CyclicLR: expected a momentum >= 0 for baseMomentum/);
    expect(() => new CyclicLR(adagrad, { baseLr: 0.01, maxLr: 0.1 })).toThrow(/^CyclicLR: expected an optimizer with momentum .* \(pass cycleMomentum: false\)/);
    expect(() => new CyclicLR(adagrad, { baseLr: 0.01, maxLr: 0.1, cycleMomentum: false })).not.toThrow();
    expect(() => new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2, scaleFn: () => NaN, cycleMomentum: false })).toThrow(/^CyclicLR: expected a finite number for scaleFn\(1\) but received NaN/);
    const c = new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1 });
    expect(() => c.loadStateDict({ ...c.stateDict(), max_lrs: [0.1] })).toThrow(/^CyclicLR.loadStateDict: expected an array of 2 numbers \(one per parameter group\) for max_lrs/);
    expect(() => c.loadStateDict({ ...c.stateDict(), mode: 'cosine' })).toThrow(/^CyclicLR.loadStateDict: expected one of .* for mode/);
    expect(() => new MultiplicativeLR(opt, { lrLambda: 0.9 as never })).toThrow(/^MultiplicativeLR: expected a function of the epoch for lrLambda but received 0.9/);
    expect(() => new MultiplicativeLR(opt, { lrLambda: [() => 1] })).toThrow(/^MultiplicativeLR: expected one function per parameter group \(2\) for lrLambda/);
    expect(() => new MultiplicativeLR(opt, { lrLambda: () => 1, gamma: 2 } as never)).toThrow(/^MultiplicativeLR: unknown option 'gamma'/);
    const bad = new MultiplicativeLR(opt, { lrLambda: () => Infinity });
    expect(() => bad.step()).toThrow(/^MultiplicativeLR: expected a finite number for lrLambda\(1\)/);
    expect(() => new ChainedScheduler([])).toThrow(/^ChainedScheduler: expected a non-empty array of schedulers/);
    expect(() => new ChainedScheduler([new optim.ReduceLROnPlateau(opt) as never])).toThrow(/^ChainedScheduler: expected a scheduler .*not ReduceLROnPlateau/);
    const e1 = new optim.ExponentialLR(opt, { gamma: 0.9 });
    const e2 = new optim.ExponentialLR(other.opt, { gamma: 0.9 });
    expect(() => new ChainedScheduler([e1, e2])).toThrow(/^ChainedScheduler: expected a scheduler of the same optimizer as schedulers\[0\] for schedulers\[1\]/);
    expect(() => new ChainedScheduler([e1], other.opt)).toThrow(/^ChainedScheduler: expected a scheduler of the same optimizer as the optimizer argument for schedulers\[0\]/);
    const chain = new ChainedScheduler([e1]);
    expect(() => chain.loadStateDict({ _last_lr: [0.1, 0.03], _schedulers: [] })).toThrow(/^ChainedScheduler.loadStateDict: expected an array of 1 scheduler states for _schedulers/);
    [opt, other.opt, adagrad].forEach((o) => o.dispose());
    [...ps, ...other.ps, adagradP].forEach((p) => p.dispose());
  });
});
