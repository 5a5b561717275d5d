// torch.autocast for hand-written loops: the same bf16 results and gradients as PyTorch's CPU autocast, the
// state restored after the region (also after a throw), nesting, the cast-weight cache cleared on leaving,
// forwardAsync and TorchScript calls started inside a region autocast on their worker thread, and the errors.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { tidy } from '../lib/scope';
import { lcg } from './helpers/random';
import { hasTorch, py, sameTorchVersion } from './helpers/torchpy';

const F = torch.nn.functional;

function values(n: number, seed: number): number[] {
  const r = lcg(seed);
  return Array.from({ length: n }, () => r());
}

describe('torch.autocast', () => {
  it('runs fn with autocast on for the device type, then restores the state, also when fn throws', () =>
    tidy(() => {
      const x = torch.randn([4, 8]);
      const w = torch.randn([3, 8]);
      expect(torch.isAutocastEnabled('cpu')).toBe(false);
      const y = torch.autocast('cpu', () => {
        expect(torch.isAutocastEnabled('cpu')).toBe(true);
        expect(torch.getAutocastDtype('cpu')).toBe('bfloat16'); // PyTorch's CPU default
        expect(torch.isAutocastEnabled('cuda')).toBe(false);
        return F.linear(x, w);
      });
      expect(y.dtype).toBe('bfloat16');
      expect(F.linear(x, w).dtype).toBe('float32');
      expect(torch.isAutocastEnabled('cpu')).toBe(false);
      expect(() => torch.autocast('cpu', () => {
        throw new Error('boom');
      })).toThrow('boom');
      expect(torch.isAutocastEnabled('cpu')).toBe(false);
      // elementwise ops and reductions stay in float32 (PyTorch's lists)
      expect(torch.autocast('cpu', () => x.exp().sum()).dtype).toBe('float32');
    }));

  it('nests: an inner region can turn autocast off or change the dtype, and the outer state comes back', () =>
    tidy(() => {
      const x = torch.randn([2, 5]);
      const w = torch.randn([4, 5]);
      const dtypes = torch.autocast('cpu', () => {
        const off = torch.autocast('cpu', { enabled: false }, () => [torch.isAutocastEnabled('cpu'), F.linear(x, w).dtype]);
        const again = F.linear(x, w).dtype;
        return [off, again, torch.isAutocastEnabled('cpu')];
      });
      expect(dtypes).toEqual([[false, 'float32'], 'bfloat16', true]);
      expect(torch.isAutocastEnabled('cpu')).toBe(false);
      // float16 on the CPU: LibTorch 1.13 refuses it (2.x takes it); either way the state afterwards is the old one
      let inner: string | null = null;
      try {
        inner = torch.autocast('cpu', { dtype: 'float16' }, () => F.linear(x, w).dtype);
      } catch (e) {
        expect((e as Error).message).toMatch(/^autocast: .*Bfloat16/);
      }
      if (inner !== null) expect(inner).toBe('float16');
      expect([torch.isAutocastEnabled('cpu'), torch.getAutocastDtype('cpu')]).toEqual([false, 'bfloat16']);
    }));

  it('leaving the outermost region clears the cache of cast weights: a weight changed between regions is read anew', () =>
    tidy(() => {
      const x = torch.ones([1, 4]);
      const w = torch.ones([2, 4], { requiresGrad: true }); // a leaf that requires grad: what autocast caches
      const first = torch.autocast('cpu', () => F.linear(x, w).float().sum().item());
      torch.noGrad(() => w.mul_(2));
      const second = torch.autocast('cpu', () => F.linear(x, w).float().sum().item());
      expect([first, second]).toEqual([8, 16]);
    }));

  it('forwardAsync started inside a region runs autocast on its worker thread, with the values of forward', async () => {
    torch.manualSeed(3);
    const net = torch.resnetCifar({ depth: 8, classes: 4 });
    net.eval();
    const img = torch.randn([2, 3, 32, 32]);
    const sync = torch.autocast('cpu', () => net.forward(img));
    const pending = torch.autocast('cpu', () => net.forwardAsync(img));
    expect(torch.isAutocastEnabled('cpu')).toBe(false); // the region closed when fn returned
    const async_ = await pending;
    const plain = await net.forwardAsync(img);
    expect([sync.dtype, async_.dtype, plain.dtype]).toEqual(['bfloat16', 'bfloat16', 'float32']);
    expect(Array.from(async_.float().toArray() as Float32Array)).toEqual(Array.from(sync.float().toArray() as Float32Array));
    for (const t of [sync, async_, plain, img]) t.dispose();
    net.dispose();
  });

  it.skipIf(!hasTorch)('a TorchScript forwardAsync started inside a region autocasts on its worker thread too', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-autocast-'));
    const file = path.join(dir, 'lin.pt');
    await py(`import torch\ntorch.manual_seed(0)\ntorch.jit.script(torch.nn.Linear(4, 3)).save(${JSON.stringify(file)})`);
    const m = await torch.jit.load(file);
    const x = torch.randn([2, 4]);
    const sync = torch.autocast('cpu', () => m.forward(x)) as torch.Tensor;
    const async_ = (await torch.autocast('cpu', () => m.forwardAsync(x))) as torch.Tensor;
    const plain = (await m.forwardAsync(x)) as torch.Tensor;
    expect([sync.dtype, async_.dtype, plain.dtype]).toEqual(['bfloat16', 'bfloat16', 'float32']);
    expect(Array.from(async_.float().toArray() as Float32Array)).toEqual(Array.from(sync.float().toArray() as Float32Array));
    for (const t of [sync, async_, plain, x]) t.dispose();
    m.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bad arguments are errors naming autocast', () => {
    const ok = () => 1;
    expect(() => torch.autocast('tpu' as never, ok)).toThrow(/^autocast: expected one of "cpu", "cuda" for deviceType/);
    expect(() => torch.autocast('cpu', { dtype: 'float64' as never }, ok)).toThrow(/^autocast: expected one of "bfloat16", "float16" for dtype/);
    expect(() => torch.autocast('cpu', { dtpye: 'bfloat16' } as never, ok)).toThrow(/^autocast: unknown option 'dtpye'; did you mean 'dtype'\?/);
    expect(() => torch.autocast('cpu', { enabled: 1 } as never, ok)).toThrow(/^autocast: expected a boolean for enabled/);
    expect(() => torch.autocast('cpu', {} as never)).toThrow(/^autocast: expected a function to run under autocast for fn/);
    expect(() => torch.isAutocastEnabled('gpu' as never)).toThrow(/^isAutocastEnabled: /);
    expect(torch.isAutocastEnabled('cpu')).toBe(false);
  });

  it.skipIf(!hasTorch)('equals PyTorch\'s CPU autocast (bf16): linear, conv2d and a matmul chain, values and float32 input gradients', async () => {
    const xs = values(2 * 3 * 6 * 6, 11);
    const ws = values(4 * 3 * 3 * 3, 12);
    const ls = values(5 * 4, 13);
    const code = `
import json, sys, torch
import torch.nn.functional as F
d = json.load(sys.stdin)
x = torch.tensor(d['x']).reshape(2, 3, 6, 6).requires_grad_(True)
w = torch.tensor(d['w']).reshape(4, 3, 3, 3).requires_grad_(True)
l = torch.tensor(d['l']).reshape(5, 4).requires_grad_(True)
with torch.autocast('cpu', dtype=torch.bfloat16):
    c = F.conv2d(x, w, padding=1)
    y = F.linear(c.permute(0, 2, 3, 1), l)
    z = y.matmul(y.transpose(-1, -2))
loss = z.float().square().mean()
loss.backward()
print(json.dumps({'dtypes': [str(c.dtype), str(y.dtype), str(z.dtype)], 'z': z.float().flatten().tolist(), 'loss': loss.item(),
                  'gx': x.grad.flatten().tolist(), 'gw': w.grad.flatten().tolist(), 'gl': l.grad.flatten().tolist(),
                  'gdt': [str(x.grad.dtype), str(w.grad.dtype)]}))
`;
    const ref = JSON.parse(await py(code, JSON.stringify({ x: xs, w: ws, l: ls }))) as Record<string, number[] | string[] | number>;
    tidy(() => {
      const x = torch.tensor(xs, { shape: [2, 3, 6, 6], requiresGrad: true } as never);
      const w = torch.tensor(ws, { shape: [4, 3, 3, 3], requiresGrad: true } as never);
      const l = torch.tensor(ls, { shape: [5, 4], requiresGrad: true } as never);
      const [c, y, z] = torch.autocast('cpu', { dtype: 'bfloat16' }, () => {
        const c = F.conv2d(x, w, null, { padding: 1 });
        const y = F.linear(c.permute(0, 2, 3, 1), l);
        return [c, y, y.matmul(y.transpose(-1, -2))];
      });
      expect([c.dtype, y.dtype, z.dtype]).toEqual(['bfloat16', 'bfloat16', 'bfloat16']);
      expect(ref.dtypes).toEqual(['torch.bfloat16', 'torch.bfloat16', 'torch.bfloat16']);
      const loss = z.float().square().mean();
      loss.backward();
      expect([x.grad!.dtype, w.grad!.dtype]).toEqual(['float32', 'float32']);
      expect(ref.gdt).toEqual(['torch.float32', 'torch.float32']);
      const got: [string, number[], number[]][] = [
        ['z', Array.from(z.float().toArray() as Float32Array), ref.z as number[]],
        ['loss', [loss.item() as number], [ref.loss as number]],
        ['x.grad', Array.from(x.grad!.toArray() as Float32Array), ref.gx as number[]],
        ['w.grad', Array.from(w.grad!.toArray() as Float32Array), ref.gw as number[]],
        ['l.grad', Array.from(l.grad!.toArray() as Float32Array), ref.gl as number[]],
      ];
      if (sameTorchVersion(torch.info().torchVersion)) {
        // the same kernels on the same inputs: bit-identical
        for (const [what, a, b] of got) expect(a, what).toEqual(b);
      } else {
        // another LibTorch's bf16 kernels round differently (scripts/check-libtorch2.sh: a 2.x addon against 1.13):
        // within a few bf16 steps (2^-8 relative) of each value's scale
        for (const [what, a, b] of got) {
          const scale = Math.max(...b.map(Math.abs));
          a.forEach((v, i) => expect(Math.abs(v - b[i]), `${what}[${i}]`).toBeLessThanOrEqual(0.05 * scale));
        }
      }
    });
  });
});
