// Tensor lifetimes: tidy scopes, keep, dispose, and the live-tensor counters of memory().
import { describe, expect, it } from 'vitest';
import { Tensor, arange, keep, memory, ones, randn, tensor, tidy, zeros } from '../lib';
import { settleGc } from './helpers/gc';

const MiB = 1 << 20;
const cpu = () => memory().devices.cpu ?? { tensors: 0, bytes: 0 };

describe('tidy', () => {
  it('disposes intermediates and keeps the returned tensor', () => {
    const before = memory().tensors;
    let inner: Tensor[] = [];
    const out = tidy(() => {
      const a = ones([3]);
      const b = a.mul(2);
      const c = b.add(1);
      inner = [a, b];
      return c;
    });
    expect(inner.every((t) => t.isDisposed)).toBe(true);
    expect(out.isDisposed).toBe(false);
    expect(out.toNested()).toEqual([3, 3, 3]);
    expect(memory().tensors).toBe(before + 1);
    out.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('keeps every tensor in a returned array, plain object or Map (nested too)', () => {
    const before = memory().tensors;
    let scratch!: Tensor;
    const r = tidy(() => {
      scratch = zeros([2]);
      const x = ones([2]);
      return { list: [x, x.mul(3)], nested: { deep: [x.add(1)] }, map: new Map([['k', x.neg()]]), n: 5 };
    });
    expect(scratch.isDisposed).toBe(true);
    expect(r.list[0].toNested()).toEqual([1, 1]);
    expect(r.list[1].toNested()).toEqual([3, 3]);
    expect(r.nested.deep[0].toNested()).toEqual([2, 2]);
    expect(r.map.get('k')!.toNested()).toEqual([-1, -1]);
    expect(r.n).toBe(5);
    expect(memory().tensors).toBe(before + 4);
    for (const t of [...r.list, ...r.nested.deep, ...r.map.values()]) t.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('nested tidy: the inner result moves to the outer scope and is disposed by it', () => {
    const before = memory().tensors;
    let fromInner!: Tensor;
    let innerScratch!: Tensor;
    const out = tidy(() => {
      fromInner = tidy(() => {
        innerScratch = ones([2]);
        return innerScratch.mul(5);
      });
      expect(innerScratch.isDisposed).toBe(true);
      expect(fromInner.isDisposed).toBe(false);
      return fromInner.sum();
    });
    expect(fromInner.isDisposed).toBe(true); // the outer scope owned it and did not return it
    expect(out.item()).toBe(10);
    out.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('async tidy tracks tensors created after an await and keeps the resolved result', async () => {
    const before = memory().tensors;
    let early!: Tensor;
    let late!: Tensor;
    const out = await tidy(async () => {
      early = ones([4]);
      await new Promise((r) => setTimeout(r, 1));
      late = early.mul(2);
      const d = await late.data();
      return tensor(Array.from(d as Float32Array)).add(late);
    });
    expect(early.isDisposed).toBe(true);
    expect(late.isDisposed).toBe(true);
    expect(out.toNested()).toEqual([4, 4, 4, 4]);
    out.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('concurrent async scopes do not dispose each other’s tensors', async () => {
    const before = memory().tensors;
    const run = (v: number, delay: number) =>
      tidy(async () => {
        const a = ones([2]).mul(v);
        await new Promise((r) => setTimeout(r, delay));
        return a.add(1); // `a` must still be alive even though the other scope closed meanwhile
      });
    const [x, y] = await Promise.all([run(2, 5), run(10, 1)]);
    expect(x.toNested()).toEqual([3, 3]);
    expect(y.toNested()).toEqual([11, 11]);
    x.dispose();
    y.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('a throw inside tidy still disposes (sync and async)', async () => {
    const before = memory().tensors;
    let t!: Tensor;
    expect(() =>
      tidy(() => {
        t = ones([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(t.isDisposed).toBe(true);
    let u!: Tensor;
    await expect(
      tidy(async () => {
        u = ones([3]);
        await Promise.resolve();
        throw new Error('later');
      }),
    ).rejects.toThrow('later');
    expect(u.isDisposed).toBe(true);
    expect(memory().tensors).toBe(before);
  });

  it('keep() and t.keep() save a tensor from every enclosing scope', () => {
    const before = memory().tensors;
    let kept!: Tensor;
    let keptByMethod!: Tensor;
    tidy(() => {
      tidy(() => {
        kept = keep(ones([2]));
        keptByMethod = zeros([2]).keep();
      });
    });
    expect(kept.isDisposed).toBe(false);
    expect(keptByMethod.isDisposed).toBe(false);
    const sum = kept.add(keptByMethod); // outside any scope: lives until disposed
    expect(sum.toNested()).toEqual([1, 1]);
    expect(memory().tensors).toBe(before + 3);
    kept.dispose();
    keptByMethod.dispose();
    sum.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('a 10,000-iteration training-style loop of tidy scopes leaves memory().tensors and bytes unchanged', () => {
    const w = keep(randn([8, 8]));
    const x = keep(randn([4, 8]));
    const before = memory();
    let acc = 0;
    for (let i = 0; i < 10_000; i++) {
      acc += tidy(() => x.matmul(w).relu().add(i).mean().item() as number);
    }
    expect(Number.isFinite(acc)).toBe(true);
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    expect(after.devices.cpu).toEqual(before.devices.cpu);
    w.dispose();
    x.dispose();
  });
});

describe('dispose', () => {
  it('is idempotent and flips isDisposed', () => {
    const before = memory().tensors;
    const t = ones([2]);
    expect(t.isDisposed).toBe(false);
    t.dispose();
    expect(t.isDisposed).toBe(true);
    t.dispose();
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(memory().tensors).toBe(before);
  });

  it('[Symbol.dispose] disposes (and a `using` block does too)', () => {
    const t = ones([2]);
    t[Symbol.dispose]();
    expect(t.isDisposed).toBe(true);
    let seen!: Tensor;
    {
      using u = zeros([3]);
      seen = u;
      expect(u.isDisposed).toBe(false);
    }
    expect(seen.isDisposed).toBe(true);
  });

  it('using a disposed tensor throws a clear TypeError naming the operation', () => {
    const t = ones([2]);
    const other = ones([2]);
    t.dispose();
    expect(() => t.add(1)).toThrow(TypeError);
    expect(() => t.add(1)).toThrow(/^add: .*disposed/);
    expect(() => t.toArray()).toThrow(/^toArray: .*disposed/);
    expect(() => t.shape).toThrow(/^shape: .*disposed/);
    expect(() => t.item()).toThrow(/^item: .*disposed/);
    expect(() => other.mul(t)).toThrow(/^mul: .*'other'.*disposed/);
    expect(t.toString()).toBe('Tensor(disposed)');
    other.dispose();
  });

  it('disposing a base keeps its views usable (they hold the storage)', () => {
    const base = arange(6).reshape(2, 3);
    const view = base.select(0, 1);
    base.dispose();
    expect(view.toNested()).toEqual([3, 4, 5]);
    view.dispose();
  });

  it('a tensor\'s grad getter result can be disposed without breaking the grad', () => {
    tidy(() => {
      const x = tensor([1, 2, 3], { requiresGrad: true });
      x.mul(x).sum().backward();
      const g1 = x.grad!;
      expect(g1.toNested()).toEqual([2, 4, 6]);
      g1.dispose();
      expect(g1.isDisposed).toBe(true);
      const g2 = x.grad!;
      expect(g2.isDisposed).toBe(false);
      expect(g2.toNested()).toEqual([2, 4, 6]);
      x.mul(2).sum().backward(); // accumulation still works
      expect(x.grad!.toNested()).toEqual([4, 6, 8]);
      expect(g2.toNested()).toEqual([4, 6, 8]); // the handle shares the gradient's memory
    });
  });

  it('a garbage-collected (never disposed) tensor leaves the counters and is counted as collected', async () => {
    await settleGc(); // unreferenced tensors of earlier tests go first
    const before = cpu();
    const collected = memory().collected;
    (() => {
      for (let i = 0; i < 50; i++) zeros([1024]); // 4 KiB each, dropped at once
    })();
    expect(cpu().tensors).toBe(before.tensors + 50);
    await settleGc();
    expect(cpu().tensors).toBe(before.tensors);
    expect(cpu().bytes).toBe(before.bytes);
    // ... and memory() counts them as collected (missed disposals); disposed tensors are not counted.
    expect(memory().collected - collected).toBe(50);
    const kept = zeros([4]);
    kept.dispose();
    await settleGc();
    expect(memory().collected - collected).toBe(50);
  });
});

describe('memory()', () => {
  it('reports bytes per device that grow by 1 MiB for a 1 MiB float32 tensor and shrink on dispose', () => {
    const before = memory();
    const beforeCpu = cpu();
    const t = zeros([MiB / 4]); // float32: 4 bytes each
    const during = memory();
    expect(during.devices.cpu.tensors).toBe(beforeCpu.tensors + 1);
    expect(during.devices.cpu.bytes).toBe(beforeCpu.bytes + MiB);
    expect(during.bytes).toBe(before.bytes + MiB);
    expect(during.tensors).toBe(before.tensors + 1);
    const d = zeros([MiB / 8], { dtype: 'float64' });
    expect(cpu().bytes).toBe(beforeCpu.bytes + 2 * MiB);
    d.dispose();
    t.dispose();
    const after = memory();
    expect(after.devices.cpu).toEqual(beforeCpu);
    expect(after.bytes).toBe(before.bytes);
    expect(after.cuda).toEqual(before.cuda);
  });

  it('a view counts as a tensor but not again as bytes', () => {
    const beforeCpu = cpu();
    const t = zeros([MiB / 4]);
    const v = t.view(512, 512);
    const s = t.narrow(0, 0, 10);
    expect(cpu().tensors).toBe(beforeCpu.tensors + 3);
    expect(cpu().bytes).toBe(beforeCpu.bytes + MiB);
    s.dispose();
    v.dispose();
    t.dispose();
    expect(cpu()).toEqual(beforeCpu);
  });

  it('a zero-copy fromBuffer tensor counts its buffer once', async () => {
    const { fromBuffer } = await import('../lib');
    const beforeCpu = cpu();
    const t = fromBuffer(Buffer.alloc(4096), [1024], 'float32');
    expect(cpu().bytes).toBe(beforeCpu.bytes + 4096);
    t.dispose();
    expect(cpu()).toEqual(beforeCpu);
  });

  // NATIVE BUG (fails today): TensorHandle::Wrap counts a storage's bytes whenever the storage's use_count is 1,
  // which is also the case for a second handle to the *same* at::Tensor (ops that return their input unchanged,
  // like a no-op contiguous() or to(), and every `grad` getter call). memory().bytes then double-counts memory
  // that exists once. The documented rule is "unless another live handle already owns that storage".
  it('handles that share one tensor (no-op contiguous/to, repeated grad reads) do not count its bytes twice', () => {
    const beforeCpu = cpu();
    const t = zeros([MiB / 4]);
    const same = t.contiguous(); // already contiguous: the same tensor
    const alsoSame = t.to('float32'); // already float32: the same tensor
    expect(cpu().tensors).toBe(beforeCpu.tensors + 3);
    const bytesNoop = cpu().bytes - beforeCpu.bytes;
    same.dispose();
    alsoSame.dispose();
    t.dispose();

    const x = zeros([MiB / 4], { requiresGrad: true });
    x.sum().backward();
    const base = cpu().bytes;
    const g1 = x.grad!;
    const g2 = x.grad!;
    const bytesTwoGrads = cpu().bytes - base;
    g1.dispose();
    g2.dispose();
    x.dispose();

    expect({ bytesNoop, bytesTwoGrads }).toEqual({ bytesNoop: MiB, bytesTwoGrads: MiB });
  });
});
