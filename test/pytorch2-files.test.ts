// Files a current PyTorch writes (test/fixtures/pytorch-2.13, made by its make.py with torch 2.13.0), read by
// ictorch whatever LibTorch the addon was built against: the 2.x torch.save layout (.format_version,
// .storage_alignment, aligned storages), every dtype ictorch has with its strides and shared storages, optimiser
// states that continue exactly as PyTorch 2.13 continued them, a TorchScript archive, and the errors for what
// does not belong (the legacy format; an AdamW state loaded into Adam). The machine's python3 (Debian's torch
// 1.13) is not needed: expected.json holds PyTorch 2.13's values.
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';

const dir = path.join(__dirname, 'fixtures', 'pytorch-2.13');
const f = (name: string): string => path.join(dir, name);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const expected: Record<string, any> = JSON.parse(fs.readFileSync(f('expected.json'), 'utf8'), (_k, v) =>
  v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : v); // make.py's spelling of non-finite values

/** A tensor's values as numbers (float16/bfloat16 widened, int64 through Number, as Python's `float()` wrote them). */
const values = (t: torch.Tensor): number[] => Array.from(t.toArray() as ArrayLike<number | bigint>, Number);

function expectClose(got: number[], want: number[], tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  const worst = got.reduce((w, v, i) => Math.max(w, Math.abs(v - want[i]) / Math.max(1, Math.abs(want[i]))), 0);
  expect(worst, what).toBeLessThanOrEqual(tol);
}

function model(): torch.nn.Sequential {
  const { nn } = torch;
  return new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(4, 2));
}

describe(`files written by PyTorch ${expected.torch}`, () => {
  it('a module state dict loads with every value, and the eval forward gives PyTorch 2.13\'s output', () => {
    const sd = torch.loadStateDict(f('module.pt'));
    const m = model();
    try {
      expect(Object.keys(sd)).toEqual(Object.keys(expected.module.state));
      for (const [k, [shape, dtype, v]] of Object.entries(expected.module.state) as [string, [number[], string, number[]]][]) {
        expect([k, sd[k].shape, sd[k].dtype]).toEqual([k, shape, dtype]);
        expect(values(sd[k]), k).toEqual(v);
      }
      m.loadStateDict(sd);
      m.eval();
      const y = torch.tidy(() => values(torch.noGrad(() => m.forward(torch.tensor(new Float32Array(expected.module.x)).reshape(2, 3, 6, 6)))));
      expectClose(y, expected.module.y, 1e-5, 'forward');
    } finally {
      m.dispose();
      Object.values(sd).forEach((t) => t.dispose());
    }
  });

  it('every dtype, with strides, storage offsets and shared storages kept; Python values alongside', () => {
    const v = torch.load(f('mixed.pt')) as Record<string, unknown>;
    const tensors = Object.entries(v).filter((e): e is [string, torch.Tensor] => e[1] instanceof torch.Tensor);
    try {
      expect(tensors.map(([k]) => k)).toEqual(Object.keys(expected.mixed));
      for (const [k, t] of tensors) {
        const [shape, dtype, strides, offset, vals] = expected.mixed[k];
        expect([k, t.shape, t.dtype, t.strides, t.storageOffset()]).toEqual([k, shape, dtype, strides, offset]);
        expect(values(t), k).toEqual(vals);
      }
      const i64 = (v.i64 as torch.Tensor).toArray() as BigInt64Array;
      expect(Array.from(i64)).toEqual([-(2n ** 63n), 2n ** 63n - 1n, 0n]);
      // The views share the base's storage, as in PyTorch.
      (v.base as torch.Tensor).indexPut_([1, 0], 100);
      expect(((v.transposed as torch.Tensor).toNested() as number[][])[0][1]).toBe(100);
      expect(((v.narrow as torch.Tensor).toNested() as number[])[1]).toBe(100);
      expect((v.param as torch.Tensor).requiresGrad).toBe(true);
      expect((v.channels_last as torch.Tensor).isContiguous('channelsLast')).toBe(true);
      const nested = v.nested as { list: unknown[]; tuple: unknown[]; big: unknown };
      expect(nested.list).toEqual([1, 2.5, 'text', null, true]);
      expect([values(nested.tuple[0] as torch.Tensor), nested.tuple[1]]).toEqual([[1, 1], 7]);
      expect(nested.big).toBe(2n ** 62n); // ints beyond 2^53 come as bigints
    } finally {
      tensors.forEach(([, t]) => t.dispose());
      ((v.nested as { tuple: torch.Tensor[] }).tuple[0]).dispose();
    }
  });

  for (const [name, make] of [
    ['sgd', (g: torch.optim.SGDParamGroup[]) => new torch.optim.SGD(g, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })],
    ['adam', (g: torch.optim.AdamParamGroup[]) => new torch.optim.Adam(g, { lr: 0.01, weightDecay: 1e-2, amsgrad: true })],
    ['adamw', (g: torch.optim.AdamParamGroup[]) => new torch.optim.AdamW(g, { lr: 0.01, weightDecay: 0.05 })],
  ] as const) {
    it(`a ${name} state continues exactly as PyTorch 2.13 continued it`, () => {
      const e = expected.optim[name];
      const ps = e.shapes.map((s: number[], i: number) => torch.tensor(new Float32Array(e.before[i])).reshape(s).requiresGrad_());
      const opt = (make as (g: never) => torch.optim.Optimizer)([{ params: ps.slice(0, 2) }, { params: ps.slice(2), weightDecay: 0 }] as never);
      try {
        opt.loadStateDict(torch.load(f(`${name}.pt`)) as never);
        // The gradient of sum(p * g) is g: the second step's gradients of make.py.
        torch.tidy(() => {
          let loss = torch.zeros([]);
          ps.forEach((p: torch.Tensor, i: number) => (loss = loss.add(p.mul(torch.tensor(new Float32Array(e.grad[i])).reshape(e.shapes[i])).sum())));
          loss.backward();
        });
        opt.step();
        ps.forEach((p: torch.Tensor, i: number) => expectClose(values(p), e.after[i], 1e-6, `${name} parameter ${i}`));
      } finally {
        opt.dispose();
        ps.forEach((p: torch.Tensor) => p.dispose());
      }
    });
  }

  it("an AdamW state (decoupled_weight_decay: true) is refused by Adam, and Adam's by AdamW, naming the right one", () => {
    const p = [torch.zeros([3, 2], { requiresGrad: true }), torch.zeros([2], { requiresGrad: true }), torch.zeros([4], { requiresGrad: true })];
    const groups = [{ params: p.slice(0, 2) }, { params: p.slice(2) }];
    const adam = new torch.optim.Adam(groups);
    const adamw = new torch.optim.AdamW(groups);
    try {
      expect(() => adam.loadStateDict(torch.load(f('adamw.pt')) as never)).toThrow(
        /Adam\.loadStateDict: stateDict\.param_groups\[0\]\.decoupled_weight_decay is true, where Adam has false: .*load it into torch\.optim\.AdamW/,
      );
      expect(() => adamw.loadStateDict(torch.load(f('adam.pt')) as never)).toThrow(/decoupled_weight_decay is false, where AdamW has true: .*load it into torch\.optim\.Adam\b/);
    } finally {
      adam.dispose();
      adamw.dispose();
      p.forEach((t) => t.dispose());
    }
  });

  it.skipIf(!torch.jit.isAvailable())('a TorchScript archive runs and gives PyTorch 2.13\'s output', async () => {
    const s = await torch.jit.load(f('script.pt'));
    try {
      const y = torch.tidy(() => values(torch.noGrad(() => s.forward(torch.tensor(new Float32Array(expected.script.x)).reshape(2, 4))) as torch.Tensor));
      expectClose(y, expected.script.y, 1e-6, 'script');
    } finally {
      s.dispose();
    }
  });

  it('the legacy format is refused with a sentence saying how to convert it', () => {
    expect(() => torch.load(f('legacy.pt'))).toThrow(/legacy torch\.save format .* re-save it with a current PyTorch/);
  });
});
