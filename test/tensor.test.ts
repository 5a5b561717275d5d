// Tensor creation, reading back, elementwise math, reductions, shape ops, indexing and in-place ops.
// Expected values are hand-computed or computed here in float64 JS, never by ictorch itself.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { inspect } from 'util';
import * as v8 from 'v8';
import * as vm from 'vm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DTYPES,
  einsum,
  nn,
  Tensor,
  arange,
  cat,
  empty,
  eye,
  fromBuffer,
  full,
  linspace,
  manualSeed,
  matmul,
  ones,
  rand,
  randint,
  randn,
  stack,
  tensor,
  tidy,
  where,
  zeros,
  type DType,
  type NestedArray,
} from '../lib';
import { native } from '../lib/native';
import { nativeDTypes } from '../lib/runtime';
import { randomMatrix } from './helpers/random';
import { hasTorch, pyAsync } from './helpers/torchfile';

// ---------------------------------------------------------------- helpers


/** Flat float64 values of a tensor (bigints and booleans converted). */
function flat(t: Tensor): number[] {
  return Array.from(t.toArray() as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Elementwise closeness with a relative+absolute tolerance (float32 results against float64 JS). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      expect(a, `element ${i}`).toBeNaN();
      continue;
    }
    if (!Number.isFinite(e)) {
      expect(a, `element ${i}`).toBe(e);
      continue;
    }
    expect(Math.abs(a - e), `element ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tol * (1 + Math.abs(e)));
  }
}

/** Every tensor made in a test is disposed afterwards (keeps this file's memory flat). */
const made: Tensor[] = [];
function keepTrack<T extends Tensor | Tensor[]>(t: T): T {
  if (Array.isArray(t)) made.push(...t);
  else made.push(t);
  return t;
}
afterEach(() => {
  for (const t of made.splice(0)) t.dispose();
});

// ---------------------------------------------------------------- creation

describe('tensor() from JS data', () => {
  it('infers float32 from numbers, bool from booleans and int64 from bigints', () => {
    tidy(() => {
      const f = tensor([[1, 2, 3], [4, 5, 6]]);
      expect(f.dtype).toBe('float32');
      expect(f.shape).toEqual([2, 3]);
      expect(f.toNested()).toEqual([[1, 2, 3], [4, 5, 6]]);
      expect(f.toArray()).toBeInstanceOf(Float32Array);

      const b = tensor([true, false, true]);
      expect(b.dtype).toBe('bool');
      expect(b.toNested()).toEqual([true, false, true]);
      expect(Array.from(b.toArray() as Uint8Array)).toEqual([1, 0, 1]);

      const i = tensor([[1n, -2n], [3n, 4n]]);
      expect(i.dtype).toBe('int64');
      expect(i.toNested()).toEqual([[1, -2], [3, 4]]);
      expect(i.toArray()).toEqual(new BigInt64Array([1n, -2n, 3n, 4n]));
    });
  });

  it('takes a TypedArray with its own dtype, and an explicit shape', () => {
    tidy(() => {
      const cases: [ArrayLike<number | bigint> & ArrayBufferView, DType][] = [
        [new Float32Array([1.5, 2.5]), 'float32'],
        [new Float64Array([1.5, 2.5]), 'float64'],
        [new Int32Array([-7, 7]), 'int32'],
        [new BigInt64Array([-7n, 7n]), 'int64'],
        [new Uint8Array([0, 255]), 'uint8'],
      ];
      for (const [data, dtype] of cases) {
        const t = tensor(data as never);
        expect(t.dtype).toBe(dtype);
        expect(t.shape).toEqual([2]);
        expect(Array.from(t.toArray() as ArrayLike<number | bigint>)).toEqual(Array.from(data));
      }
      const shaped = tensor(new Float64Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
      expect(shaped.toNested()).toEqual([[1, 2], [3, 4], [5, 6]]);
      // The data is copied: changing the source afterwards does not change the tensor.
      const src = new Float32Array([1, 2]);
      const copy = tensor(src);
      src[0] = 99;
      expect(copy.toNested()).toEqual([1, 2]);
    });
  });

  it('makes 0-d tensors from scalars and empty tensors from empty arrays', () => {
    tidy(() => {
      const s = tensor(3.5);
      expect(s.shape).toEqual([]);
      expect(s.ndim).toBe(0);
      expect(s.item()).toBe(3.5);
      expect(s.toNested()).toBe(3.5);
      expect(tensor(7n).item()).toBe(7);
      expect(tensor(true).item()).toBe(true);
      expect(tensor([]).shape).toEqual([0]);
      expect(tensor([[], []]).shape).toEqual([2, 0]);
      expect(tensor([]).numel()).toBe(0);
    });
  });

  it('honours dtype and requiresGrad options', () => {
    tidy(() => {
      const t = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      expect(t.dtype).toBe('float64');
      expect(t.requiresGrad).toBe(true);
      expect(tensor([1.9, -1.9], { dtype: 'int32' }).toNested()).toEqual([1, -1]); // truncation toward zero
    });
  });

  it('rejects ragged arrays and mixed element kinds', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(RangeError);
    expect(() => tensor([[1, 2], [3]])).toThrow(/^tensor: .*rectangular/);
    expect(() => tensor([1, true] as never)).toThrow(TypeError);
    expect(() => tensor([1n, 2] as never)).toThrow(/^tensor: /);
  });

  it('rejects bigints outside the int64 range instead of wrapping them', () => {
    expect(() => tensor([2n ** 63n])).toThrow(RangeError);
    expect(() => tensor([-(2n ** 63n) - 1n])).toThrow(/^tensor: /);
    tidy(() => {
      expect(tensor([2n ** 63n - 1n, -(2n ** 63n)]).toArray()).toEqual(new BigInt64Array([2n ** 63n - 1n, -(2n ** 63n)]));
    });
  });
});

describe('dtypes round-trip', () => {
  // Values chosen to be exactly representable in each dtype.
  const cases: { dtype: DType; values: (number | boolean | bigint)[]; array: string; read: (number | boolean)[] }[] = [
    { dtype: 'float32', values: [0.5, -1.25, 3e38, 1e-38], array: 'Float32Array', read: [0.5, -1.25, Math.fround(3e38), Math.fround(1e-38)] },
    { dtype: 'float64', values: [0.1, -1e300, 5e-324, Math.PI], array: 'Float64Array', read: [0.1, -1e300, 5e-324, Math.PI] },
    { dtype: 'float16', values: [0.5, -2, 1024, 65504], array: 'Float32Array', read: [0.5, -2, 1024, 65504] },
    { dtype: 'bfloat16', values: [1.5, -3, 256, 2 ** 100], array: 'Float32Array', read: [1.5, -3, 256, 2 ** 100] },
    { dtype: 'int32', values: [2 ** 31 - 1, -(2 ** 31), 0, 7], array: 'Int32Array', read: [2 ** 31 - 1, -(2 ** 31), 0, 7] },
    { dtype: 'int64', values: [2n ** 53n, -5n, 0n, 9n], array: 'BigInt64Array', read: [2 ** 53, -5, 0, 9] },
    { dtype: 'uint8', values: [0, 1, 128, 255], array: 'Uint8Array', read: [0, 1, 128, 255] },
    { dtype: 'bool', values: [true, false, false, true], array: 'Uint8Array', read: [true, false, false, true] },
    { dtype: 'int8', values: [-128, 127, 0, -1], array: 'Int8Array', read: [-128, 127, 0, -1] },
    { dtype: 'int16', values: [-32768, 32767, 0, 300], array: 'Int16Array', read: [-32768, 32767, 0, 300] },
  ];

  it('int8 and int16: from their TypedArrays, range-checked from numbers, cast, and usable as class targets', () => {
    tidy(() => {
      expect(tensor(new Int8Array([-3, 4])).dtype).toBe('int8');
      expect(tensor(new Int16Array([-3, 400])).dtype).toBe('int16');
      expect(() => tensor([200], { dtype: 'int8' })).toThrow(/^tensor: expected values that fit int8 \(finite, truncated toward zero, within -128 to 127\)/);
      expect(() => tensor(new Int16Array([300]), { dtype: 'int8' })).toThrow(/values that fit int8/);
      expect(() => tensor(new Int32Array([40000]), { dtype: 'int16' })).toThrow(/values that fit int16/);
      expect(tensor(new Int8Array([100, 27])).short().mul(3).toNested()).toEqual([300, 81]);
      expect(tensor([1.7, -2.2]).char().dtype).toBe('int8');
      const logits = tensor([[2, 1, 0], [0, 3, 1]]);
      const want = nn.functional.crossEntropy(logits, tensor([0n, 2n])).item();
      expect(nn.functional.crossEntropy(logits, tensor(new Int8Array([0, 2]))).item()).toBe(want);
      expect(nn.functional.crossEntropy(logits, tensor(new Int16Array([0, 2]))).item()).toBe(want);
    });
  });

  it('covers every dtype', () => {
    expect(cases.map((c) => c.dtype).sort()).toEqual([...DTYPES].sort());
  });

  for (const c of cases) {
    it(`${c.dtype}: toArray, toNested and item`, () => {
      tidy(() => {
        const t = tensor(c.values as never, { dtype: c.dtype });
        expect(t.dtype).toBe(c.dtype);
        const arr = t.toArray();
        expect(arr.constructor.name).toBe(c.array);
        if (c.dtype === 'int64') expect(Array.from(arr as BigInt64Array)).toEqual(c.values);
        else if (c.dtype === 'bool') expect(Array.from(arr as Uint8Array)).toEqual([1, 0, 0, 1]);
        else expect(Array.from(arr as ArrayLike<number>)).toEqual(c.read);
        expect(t.reshape(2, 2).toNested()).toEqual([c.read.slice(0, 2), c.read.slice(2, 4)]);
        c.read.forEach((v, k) => expect(t.index(k).item()).toBe(v));
        // toArray returns a copy: writing it does not touch the tensor.
        (arr as unknown as unknown[])[0] = (c.dtype === 'int64' ? 42n : 42) as never;
        expect(t.index(0).item()).toBe(c.read[0]);
      });
    });
  }

  it('nativeDTypes() (the addon table) equals DTYPES, in order', () => {
    expect(nativeDTypes()).toEqual([...DTYPES]);
  });
});

describe('factory functions', () => {
  it('zeros, ones, full and empty', () => {
    tidy(() => {
      expect(zeros([2, 3]).toNested()).toEqual([[0, 0, 0], [0, 0, 0]]);
      expect(zeros(3).shape).toEqual([3]);
      expect(zeros([]).shape).toEqual([]);
      expect(zeros([2, 0]).numel()).toBe(0);
      expect(ones([2], { dtype: 'int32' }).toNested()).toEqual([1, 1]);
      expect(ones([2], { dtype: 'int32' }).dtype).toBe('int32');
      expect(full([2, 2], 7.5).toNested()).toEqual([[7.5, 7.5], [7.5, 7.5]]);
      expect(full([2], true).dtype).toBe('bool');
      expect(full([1], 3n, { dtype: 'int64' }).toArray()).toEqual(new BigInt64Array([3n]));
      const e = empty([4, 5], { dtype: 'float64' });
      expect(e.shape).toEqual([4, 5]);
      expect(e.dtype).toBe('float64');
      const cl = empty([1, 2, 3, 4], { memoryFormat: 'channelsLast' });
      expect(cl.memoryFormat).toBe('channelsLast');
    });
  });

  it('arange: integer arguments give int64, fractional give float32; negative steps count down', () => {
    tidy(() => {
      const a = arange(5);
      expect(a.dtype).toBe('int64');
      expect(a.toNested()).toEqual([0, 1, 2, 3, 4]);
      expect(arange(2, 5).toNested()).toEqual([2, 3, 4]);
      expect(arange(5, 0, -2).toNested()).toEqual([5, 3, 1]);
      const f = arange(0, 1, 0.25);
      expect(f.dtype).toBe('float32');
      expect(f.toNested()).toEqual([0, 0.25, 0.5, 0.75]);
      expect(arange(3, undefined, 1, { dtype: 'float64' }).toNested()).toEqual([0, 1, 2]);
      expect(arange(0).numel()).toBe(0);
    });
  });

  it('linspace includes both ends', () => {
    tidy(() => {
      expect(linspace(0, 1, 5).toNested()).toEqual([0, 0.25, 0.5, 0.75, 1]);
      expect(linspace(-1, 1, 3, { dtype: 'float64' }).toNested()).toEqual([-1, 0, 1]);
      expect(linspace(2, 2, 1).toNested()).toEqual([2]);
    });
  });

  it('eye is the identity (square or rectangular)', () => {
    tidy(() => {
      expect(eye(3).toNested()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
      expect(eye(2, 3).toNested()).toEqual([[1, 0, 0], [0, 1, 0]]);
      expect(eye(2, undefined, { dtype: 'int32' }).dtype).toBe('int32');
    });
  });

  it('rand is uniform in [0, 1), randn finite, randint integral within [low, high)', () => {
    tidy(() => {
      const u = flat(rand([1000]));
      expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
      expect(new Set(u).size).toBeGreaterThan(900); // not a constant
      expect(rand([2, 3], { dtype: 'float64' }).dtype).toBe('float64');
      const n = randn([3, 4]);
      expect(n.shape).toEqual([3, 4]);
      expect(flat(n).every(Number.isFinite)).toBe(true);
      const k = randint(-3, 4, [500]);
      expect(k.dtype).toBe('int64');
      const kv = flat(k);
      expect(kv.every((v) => Number.isInteger(v) && v >= -3 && v < 4)).toBe(true);
      expect(new Set(kv).size).toBe(7);
      expect(randint(0, 10, [3], { dtype: 'int32' }).dtype).toBe('int32');
    });
  });

  it('manualSeed makes rand, randn and randint repeat', () => {
    tidy(() => {
      manualSeed(1234);
      const a = [flat(rand([16])), flat(randn([16])), flat(randint(0, 1000, [16]))];
      manualSeed(1234);
      const b = [flat(rand([16])), flat(randn([16])), flat(randint(0, 1000, [16]))];
      expect(b).toEqual(a);
      manualSeed(4321);
      expect(flat(rand([16]))).not.toEqual(a[0]);
    });
  });
});

describe('fromBuffer (zero-copy)', () => {
  it('writes through the tensor show in the Buffer and the other way round', () => {
    const buf = Buffer.alloc(16);
    const t = keepTrack(fromBuffer(buf, [2, 2], 'float32'));
    expect(t.toNested()).toEqual([[0, 0], [0, 0]]);
    t.fill_(2.5);
    expect([0, 4, 8, 12].map((o) => buf.readFloatLE(o))).toEqual([2.5, 2.5, 2.5, 2.5]);
    buf.writeFloatLE(-7, 4);
    expect(t.toNested()).toEqual([[2.5, -7], [2.5, 2.5]]);
    // A view of the tensor shares the memory too.
    const row = keepTrack(t.select(0, 1));
    row.mul_(2);
    expect(buf.readFloatLE(8)).toBe(5);
  });

  it('works over TypedArrays and at an aligned byte offset', () => {
    const f64 = new Float64Array([1, 2, 3, 4]);
    const t = keepTrack(fromBuffer(f64, [4], 'float64'));
    t.add_(10);
    expect(Array.from(f64)).toEqual([11, 12, 13, 14]);
    const ab = new ArrayBuffer(32);
    const part = new Int32Array(ab, 8, 4);
    const ti = keepTrack(fromBuffer(part, [2, 2], 'int32'));
    ti.fill_(9);
    expect(Array.from(new Int32Array(ab))).toEqual([0, 0, 9, 9, 9, 9, 0, 0]);
    // Reinterpreting bytes: 4 bytes 0x3f800000 little-endian is float32 1.0.
    const bytes = new Uint8Array([0, 0, 0x80, 0x3f]);
    expect(keepTrack(fromBuffer(bytes, [1], 'float32')).item()).toBe(1);
  });

  it('rejects a wrong byte length and misaligned memory with RangeErrors', () => {
    expect(() => fromBuffer(Buffer.alloc(12), [4], 'float32')).toThrow(RangeError);
    expect(() => fromBuffer(Buffer.alloc(12), [4], 'float32')).toThrow(/^fromBuffer: .*16 bytes.*12/);
    const misaligned = new Uint8Array(new ArrayBuffer(20), 1, 16);
    expect(() => fromBuffer(misaligned, [4], 'float32')).toThrow(RangeError);
    expect(() => fromBuffer(misaligned, [4], 'float32')).toThrow(/^fromBuffer: .*aligned/);
    expect(() => fromBuffer([1, 2] as never, [2], 'float32')).toThrow(TypeError);
    expect(() => fromBuffer(Buffer.alloc(8), [2], 'float99' as never)).toThrow(TypeError);
  });

  // fromBuffer keeps a reference to the TypedArray, not to its memory: were the ArrayBuffer transferred
  // (detached) and the receiving side collected, the tensor would read freed memory. ictorch marks the
  // ArrayBuffer untransferable, so a transfer copies (or throws) and the memory under the tensor stays.
  it('a tensor over a Buffer keeps valid data when the ArrayBuffer is transferred away', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const n = 4096; // 16 KiB: below malloc's mmap threshold, so a stale read returns reused heap data, not a fault
    const ab = new ArrayBuffer(n * 4);
    new Float32Array(ab).fill(7);
    const t = keepTrack(fromBuffer(new Float32Array(ab), [n], 'float32'));
    try {
      structuredClone(ab, { transfer: [ab] });
    } catch {
      // refusing the transfer is as good as copying
    }
    expect(ab.byteLength, 'the ArrayBuffer under a tensor must not be detached').toBe(n * 4);
    gc();
    gc();
    const churn: Float32Array[] = [];
    for (let k = 0; k < 64; k++) churn.push(new Float32Array(n).fill(-1));
    const stale = flat(t).filter((v) => v !== 7).length;
    expect(churn.length).toBe(64);
    expect(stale, 'elements that no longer read 7: the tensor reads freed memory').toBe(0);
  });
});

describe('fromBuffer over resizable memory', () => {
  it('refuses a view of a resizable ArrayBuffer (a shrink would take the memory from under the tensor), in TS and in the addon', () => {
    const rab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(16, { maxByteLength: 64 });
    expect(() => fromBuffer(new Float32Array(rab), [4], 'float32')).toThrow(TypeError);
    expect(() => fromBuffer(new Float32Array(rab), [4], 'float32')).toThrow(/^fromBuffer: expected a view of a fixed-length ArrayBuffer .* for buffer but received a Float32Array/);
    expect(() => fromBuffer(new Uint8Array(rab, 0, 8), [2], 'float32')).toThrow(/fixed-length/);
    expect(() => native().fromBuffer(new Float32Array(rab), [4], 'float32')).toThrow(/^fromBuffer: argument 'buffer' is a view of a resizable ArrayBuffer/);
    // a copy is fine
    const t = keepTrack(tensor(new Float32Array(rab)));
    expect(t.shape).toEqual([4]);
  });

  it('the audit\'s crash (resize(0), then read the tensor) cannot happen: the process ends normally', () => {
    const script = `
      const torch = require(${JSON.stringify(path.join(__dirname, '..', 'dist'))});
      const ab = new ArrayBuffer(16, { maxByteLength: 64 });
      let t = null;
      try { t = torch.fromBuffer(new Float32Array(ab), [4], 'float32'); } catch (e) { console.log(e.constructor.name); }
      ab.resize(0);
      ab.resize(64);
      console.log(t === null ? 'refused' : JSON.stringify(t.toNested()));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect([r.status, r.signal, r.stdout.trim().split('\n')]).toEqual([0, null, ['TypeError', 'refused']]);
  });
});

describe('tensor(): values out of an integer dtype\'s range are RangeErrors, never wrapped', () => {
  const cases: [number | bigint, DType][] = [
    [1e20, 'int64'], [2 ** 63, 'int64'], [-(2 ** 64), 'int64'], [NaN, 'int64'], [Infinity, 'int64'],
    [3e9, 'int32'], [-2147483649, 'int32'], [NaN, 'int32'], [-Infinity, 'int32'], [2n ** 40n, 'int32'],
    [300, 'uint8'], [256, 'uint8'], [-1, 'uint8'], [NaN, 'uint8'], [-1n, 'uint8'],
  ];
  for (const [v, dtype] of cases) {
    it(`${String(v)}${typeof v === 'bigint' ? 'n' : ''} as ${dtype}`, () => {
      expect(() => tensor([v as number], { dtype })).toThrow(RangeError);
      expect(() => tensor([v as number], { dtype })).toThrow(new RegExp(`^tensor: expected values that fit ${dtype} \\(finite, truncated toward zero, within .*\\) for data \\(element 0\\) but received`));
    });
  }

  it('the edges fit; fractions truncate toward zero as in PyTorch; bool takes anything', () => {
    tidy(() => {
      expect(Array.from(tensor([-(2 ** 63), 2 ** 62], { dtype: 'int64' }).toArray() as BigInt64Array)).toEqual([-(2n ** 63n), 2n ** 62n]);
      expect(Array.from(tensor([-(2n ** 63n), 2n ** 63n - 1n], { dtype: 'int64' }).toArray() as BigInt64Array)).toEqual([-(2n ** 63n), 2n ** 63n - 1n]);
      expect(flat(tensor([-2147483648, 2147483647, 1.9, -1.9], { dtype: 'int32' }))).toEqual([-2147483648, 2147483647, 1, -1]);
      expect(flat(tensor([0, 255, 255.9, -0.5], { dtype: 'uint8' }))).toEqual([0, 255, 255, 0]);
      expect(flat(tensor([NaN, 1e20, -1, 0], { dtype: 'bool' }))).toEqual([1, 1, 1, 0]);
    });
  });

  it('TypedArray data is checked the same way when converted to a narrower integer dtype', () => {
    expect(() => tensor(new Float64Array([1, 1e20]), { dtype: 'int64' })).toThrow(/for data \(element 1\) but received 100000000000000000000/);
    expect(() => tensor(new Float32Array([3e9]), { dtype: 'int32' })).toThrow(RangeError);
    expect(() => tensor(new Int32Array([5, -1]), { dtype: 'uint8' })).toThrow(/for data \(element 1\) but received -1/);
    expect(() => tensor(new BigInt64Array([2n ** 40n]), { dtype: 'int32' })).toThrow(RangeError);
    tidy(() => {
      expect(Array.from(tensor(new Int32Array([-5, 7]), { dtype: 'int64' }).toArray() as BigInt64Array)).toEqual([-5n, 7n]);
      expect(flat(tensor(new Uint8Array([255]), { dtype: 'int32' }))).toEqual([255]);
    });
  });

  // PyTorch 1.13 lets two through: -1 into uint8 (wrapped to 255 on purpose) and the float 2^63 into int64 (its
  // overflow check compares against 2^63 - 1 rounded up to 2^63, and the cast gives -2^63). ictorch refuses both.
  it.skipIf(!hasTorch)('PyTorch refuses the same values, but for two that it wraps', async () => {
    const out = await pyAsync(`
import torch, json
cases = [(1e20, 'int64'), (2.0**63, 'int64'), (-2.0**64, 'int64'), (float('nan'), 'int64'), (float('inf'), 'int64'), (3e9, 'int32'), (-2147483649, 'int32'),
         (float('nan'), 'int32'), (float('-inf'), 'int32'), (2**40, 'int32'), (300, 'uint8'), (256, 'uint8'), (-1, 'uint8'), (float('nan'), 'uint8')]
r = []
for v, d in cases:
    try:
        torch.tensor([v], dtype=getattr(torch, d)); r.append('ok')
    except Exception: r.append('error')
print(json.dumps(r))`);
    expect(JSON.parse(out)).toEqual(['error', 'ok', ...Array(10).fill('error'), 'ok', 'error']);
  });
});

describe('reading back', () => {
  it('async data() equals toArray()', async () => {
    const t = keepTrack(randn([3, 5], { dtype: 'float64' }));
    const d = await t.data();
    expect(d).toBeInstanceOf(Float64Array);
    expect(Array.from(d as Float64Array)).toEqual(Array.from(t.toArray() as Float64Array));
    const i = keepTrack(tensor([1n, 2n]));
    expect(await i.data()).toEqual(new BigInt64Array([1n, 2n]));
    const h = keepTrack(tensor([0.5, 2], { dtype: 'float16' }));
    expect(Array.from((await h.data()) as Float32Array)).toEqual([0.5, 2]);
  });

  it('item() needs exactly one element', () => {
    tidy(() => {
      expect(tensor([[4]]).item()).toBe(4);
      expect(() => tensor([1, 2]).item()).toThrow(RangeError);
      expect(() => tensor([1, 2]).item()).toThrow(/^item: /);
    });
  });

  it('describes itself with toString()', () => {
    tidy(() => {
      expect(tensor([1, 2]).toString()).toBe('Tensor(shape=[2], dtype=float32, device=cpu, [1,2])');
      expect(zeros([30]).toString()).toBe('Tensor(shape=[30], dtype=float32, device=cpu)');
      // non-finite values as themselves (JSON.stringify printed null), int64 exactly, and the autograd flag
      expect(tensor([NaN, Infinity, -Infinity, 0.5]).toString()).toBe('Tensor(shape=[4], dtype=float32, device=cpu, [NaN,Infinity,-Infinity,0.5])');
      expect(tensor([2n ** 60n + 1n], { dtype: 'int64' }).toString()).toBe('Tensor(shape=[1], dtype=int64, device=cpu, [1152921504606846977])');
      expect(tensor([[1], [2]], { requiresGrad: true }).toString()).toBe('Tensor(shape=[2, 1], dtype=float32, device=cpu, requiresGrad=true, [[1],[2]])');
      expect(inspect(tensor([1, 2]))).toBe('Tensor(shape=[2], dtype=float32, device=cpu, [1,2])');
    });
  });

  it('reports metadata: shape, strides, ndim, numel, size, device', () => {
    tidy(() => {
      const t = zeros([2, 3, 4]);
      expect(t.strides).toEqual([12, 4, 1]);
      expect(t.ndim).toBe(3);
      expect(t.numel()).toBe(24);
      expect(t.size()).toEqual([2, 3, 4]);
      expect(t.size(-1)).toBe(4);
      expect(t.size(1)).toBe(3);
      expect(t.device).toBe('cpu');
      expect(() => t.size(3)).toThrow(RangeError);
    });
  });
});

// ---------------------------------------------------------------- elementwise

describe('elementwise arithmetic', () => {
  it('broadcasts [2,3] with [3] and [2,1] with [1,3]', () => {
    tidy(() => {
      const a = tensor([[1, 2, 3], [4, 5, 6]]);
      const b = tensor([10, 20, 30]);
      expect(a.add(b).toNested()).toEqual([[11, 22, 33], [14, 25, 36]]);
      expect(a.sub(b).toNested()).toEqual([[-9, -18, -27], [-6, -15, -24]]);
      expect(a.mul(b).toNested()).toEqual([[10, 40, 90], [40, 100, 180]]);
      expectClose(flat(a.div(b)), [0.1, 0.1, 0.1, 0.4, 0.25, 0.2]);
      const col = tensor([[1], [2]]);
      const row = tensor([[10, 20, 30]]);
      expect(col.mul(row).toNested()).toEqual([[10, 20, 30], [20, 40, 60]]);
      expect(col.add(row).shape).toEqual([2, 3]);
    });
  });

  it('takes scalars on the right', () => {
    tidy(() => {
      const a = tensor([1, 2, 4]);
      expect(a.add(1).toNested()).toEqual([2, 3, 5]);
      expect(a.sub(0.5).toNested()).toEqual([0.5, 1.5, 3.5]);
      expect(a.mul(-2).toNested()).toEqual([-2, -4, -8]);
      expect(a.div(4).toNested()).toEqual([0.25, 0.5, 1]);
      expect(a.pow(2).toNested()).toEqual([1, 4, 16]);
      expect(tensor([-3, 3]).remainder(2).toNested()).toEqual([1, 1]); // sign of the divisor
      expect(tensor([-3, 3]).fmod(2).toNested()).toEqual([-1, 1]); // sign of the dividend
      expect(tensor([1, 5]).maximum(3).toNested()).toEqual([3, 5]);
      expect(tensor([1, 5]).minimum(tensor([2, 2])).toNested()).toEqual([1, 2]);
    });
  });

  it('integer tensors with integer scalars stay integral; fractions and division promote to float', () => {
    tidy(() => {
      const i32 = tensor([1, 2, 3], { dtype: 'int32' });
      const r = i32.add(3);
      expect(r.dtype).toBe('int32');
      expect(r.toNested()).toEqual([4, 5, 6]);
      expect(i32.mul(-2).dtype).toBe('int32');
      expect(i32.sub(1).toNested()).toEqual([0, 1, 2]);
      const i64 = tensor([5n, 7n]);
      expect(i64.add(1).dtype).toBe('int64');
      expect(i64.add(1).toArray()).toEqual(new BigInt64Array([6n, 8n]));
      expect(i64.mul(2n).toArray()).toEqual(new BigInt64Array([10n, 14n]));
      expect(i32.add(0.5).dtype).toBe('float32');
      expect(i32.add(0.5).toNested()).toEqual([1.5, 2.5, 3.5]);
      expect(i32.div(2).dtype).toBe('float32');
      expect(i32.div(2).toNested()).toEqual([0.5, 1, 1.5]);
      expect(tensor([7], { dtype: 'uint8' }).add(1).dtype).toBe('uint8');
    });
  });

  it('comparisons give bool tensors', () => {
    tidy(() => {
      const a = tensor([1, 2, 3]);
      const b = tensor([3, 2, 1]);
      expect(a.eq(b).dtype).toBe('bool');
      expect(a.eq(b).toNested()).toEqual([false, true, false]);
      expect(a.ne(b).toNested()).toEqual([true, false, true]);
      expect(a.lt(b).toNested()).toEqual([true, false, false]);
      expect(a.le(b).toNested()).toEqual([true, true, false]);
      expect(a.gt(2).toNested()).toEqual([false, false, true]);
      expect(a.ge(2).toNested()).toEqual([false, true, true]);
      expect(a.gt(1).logicalAnd(a.lt(3)).toNested()).toEqual([false, true, false]);
      expect(a.lt(2).logicalOr(a.gt(2)).toNested()).toEqual([true, false, true]);
      expect(a.eq(2).logicalNot().toNested()).toEqual([true, false, true]);
    });
  });

  it('where picks from tensors or scalars, broadcasting the condition', () => {
    tidy(() => {
      const c = tensor([true, false, true]);
      expect(where(c, tensor([1, 2, 3]), tensor([-1, -2, -3])).toNested()).toEqual([1, -2, 3]);
      expect(where(c, tensor([1, 2, 3]), 0).toNested()).toEqual([1, 0, 3]);
      expect(where(c, 5, tensor([-1, -2, -3])).toNested()).toEqual([5, -2, 5]);
      expect(where(tensor([[true], [false]]), tensor([1, 2]), tensor([[7], [8]])).toNested()).toEqual([[1, 2], [8, 8]]);
    });
  });

  it('unary functions match float64 JS math', () => {
    tidy(() => {
      const xs = [-2, -0.5, 0, 0.25, 1, 3];
      const x = tensor(xs, { dtype: 'float64' });
      const sig = (v: number) => 1 / (1 + Math.exp(-v));
      const cases: [string, Tensor, (v: number) => number][] = [
        ['abs', x.abs(), Math.abs],
        ['neg', x.neg(), (v) => -v],
        ['exp', x.exp(), Math.exp],
        ['sigmoid', x.sigmoid(), sig],
        ['tanh', x.tanh(), Math.tanh],
        ['relu', x.relu(), (v) => Math.max(v, 0)],
        ['square', x.square(), (v) => v * v],
        ['sin', x.sin(), Math.sin],
        ['cos', x.cos(), Math.cos],
        ['floor', x.floor(), Math.floor],
        ['ceil', x.ceil(), Math.ceil],
        ['sign', x.sign(), Math.sign],
        ['pow 3', x.pow(3), (v) => v ** 3],
        ['clamp', x.clamp(-1, 0.5), (v) => Math.min(Math.max(v, -1), 0.5)],
        ['clamp min', x.clamp(0), (v) => Math.max(v, 0)],
        ['clamp max', x.clamp(null, 0), (v) => Math.min(v, 0)],
      ];
      for (const [name, t, f] of cases) {
        expect(t.dtype, name).toBe('float64');
        expectClose(flat(t), xs.map(f), 1e-12);
      }
      const pos = [0.25, 1, 4, 9];
      const p = tensor(pos, { dtype: 'float64' });
      expectClose(flat(p.log()), pos.map(Math.log), 1e-12);
      expectClose(flat(p.sqrt()), pos.map(Math.sqrt), 1e-12);
      expectClose(flat(p.rsqrt()), pos.map((v) => 1 / Math.sqrt(v)), 1e-12);
      expectClose(flat(p.reciprocal()), pos.map((v) => 1 / v), 1e-12);
      expectClose(flat(p.log1p()), pos.map(Math.log1p), 1e-12);
      expectClose(flat(p.pow(tensor([2, 0.5, -1, 0.5], { dtype: 'float64' }))), [0.0625, 1, 0.25, 3], 1e-12);
      // float32 against float64 JS, and the IEEE special cases
      const f = tensor([-1, 0, 1]);
      expectClose(flat(f.exp()), [Math.exp(-1), 1, Math.E], 1e-6);
      expect(flat(tensor([-1, 0]).log())).toEqual([NaN, -Infinity]);
      expect(flat(tensor([-1]).sqrt())).toEqual([NaN]);
      expect(tensor([NaN, 1, Infinity]).isnan().toNested()).toEqual([true, false, false]);
      expect(tensor([NaN, 1, Infinity]).isfinite().toNested()).toEqual([false, true, false]);
      expect(tensor([0.5, 1.5, 2.5, -0.5]).round().toNested()).toEqual([0, 2, 2, -0]); // half to even
    });
  });
});

// ---------------------------------------------------------------- reductions

describe('reductions', () => {
  const data = [[1, 5, 2], [8, -1, 3]];

  it('sum, mean, max, min over everything, a dim, several dims, with keepdim', () => {
    tidy(() => {
      const x = tensor(data, { dtype: 'float64' });
      expect(x.sum().item()).toBe(18);
      expect(x.sum().shape).toEqual([]);
      expect(x.sum(0).toNested()).toEqual([9, 4, 5]);
      expect(x.sum(1).toNested()).toEqual([8, 10]);
      expect(x.sum(-1, true).toNested()).toEqual([[8], [10]]);
      expect(x.sum([0, 1]).item()).toBe(18);
      expect(x.mean().item()).toBe(3);
      expect(x.mean(0).toNested()).toEqual([4.5, 2, 2.5]);
      expect(x.mean(1, true).shape).toEqual([2, 1]);
      expect(x.max().item()).toBe(8);
      expect(x.amax(1).toNested()).toEqual([5, 8]);
      expect(x.amax(0, true).toNested()).toEqual([[8, 5, 3]]);
      expect(x.amax([0, 1]).item()).toBe(8);
      expect(x.min().item()).toBe(-1);
      expect(x.amin(0).toNested()).toEqual([1, -1, 2]);
      expect(x.prod(1).toNested()).toEqual([10, -24]);
    });
  });

  it('max(dim) and min(dim) give [values, indices] as PyTorch; max(tensor) is maximum', () => {
    tidy(() => {
      const x = tensor([[1, 5, 3], [8, -1, 8]]);
      const [v, i] = x.max(1);
      expect(v.toNested()).toEqual([5, 8]);
      expect(i.dtype).toBe('int64');
      expect(i.toNested()).toEqual([1, 0]); // the first of tied maxima
      const [vk, ik] = x.min(0, true);
      expect(vk.toNested()).toEqual([[1, -1, 3]]);
      expect(ik.toNested()).toEqual([[0, 1, 0]]);
      const [vn, in_] = x.max(-1);
      expect(vn.toNested()).toEqual([5, 8]);
      expect(in_.toNested()).toEqual([1, 0]);
      expect(x.max(tensor([2, 2, 2])).toNested()).toEqual([[2, 5, 3], [8, 2, 8]]);
      expect(x.min(tensor(0)).toNested()).toEqual([[0, 0, 0], [0, -1, 0]]);
      expect(() => x.max([0, 1] as never)).toThrow(/^max: expected one integer \(amax reduces several dims, values only\) for dim/);
      expect(() => x.min(2)).toThrow(RangeError);
      // a NaN is the maximum and the minimum, as in PyTorch
      const [nv, ni] = tensor([1, NaN, 3]).max(0);
      expect(Number.isNaN(nv.item())).toBe(true);
      expect(ni.item()).toBe(1);
    });
  });

  it('einsum: matrix and batched products, trace, outer product, permutation; bad equations are errors', () => {
    tidy(() => {
      const a = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
      const b = tensor([[1, 0], [2, 1], [0, 3]], { dtype: 'float64' });
      expect(einsum('ij,jk->ik', a, b).toNested()).toEqual(a.matmul(b).toNested());
      expect(einsum('ij,jk->ik', [a, b]).toNested()).toEqual([[5, 11], [14, 23]]);
      const sq = tensor([[1, 2], [3, 4]]);
      expect(einsum('ii', sq).item()).toBe(5);
      expect(einsum('i,j->ij', tensor([1, 2]), tensor([3, 4, 5])).toNested()).toEqual([[3, 4, 5], [6, 8, 10]]);
      const batch = randn([4, 2, 3], { dtype: 'float64' });
      const other = randn([4, 3, 5], { dtype: 'float64' });
      const diff = einsum('bij,bjk->bik', batch, other).sub(batch.matmul(other)).abs().max().item() as number;
      expect(diff).toBeLessThan(1e-12);
      expect(einsum('bij->bji', batch).shape).toEqual([4, 3, 2]);
      expect(() => einsum('ij,jk->ik', a, a)).toThrow(/^einsum: /);
      expect(() => einsum('ij->ik', a)).toThrow(/^einsum: /);
      expect(() => einsum(3 as never, a)).toThrow(/^einsum: expected a string such as 'ij,jk->ik' for equation/);
      expect(() => einsum('ij', [1, 2] as never)).toThrow(/^einsum: expected a Tensor for operands\[0\]/);
      expect(() => einsum('ij')).toThrow(/^einsum: expected at least one operand/);
    });
  });

  it('argmax and argmin give int64 indices (flattened or along a dim)', () => {
    tidy(() => {
      const x = tensor(data);
      const a = x.argmax();
      expect(a.dtype).toBe('int64');
      expect(a.item()).toBe(3);
      expect(x.argmax(1).toNested()).toEqual([1, 0]);
      expect(x.argmax(0, true).toNested()).toEqual([[1, 0, 1]]);
      expect(x.argmin().item()).toBe(4);
      expect(x.argmin(1).toNested()).toEqual([0, 1]);
    });
  });

  it('std and var match the hand formula, unbiased (n-1) and biased (n)', () => {
    tidy(() => {
      const rows = randomMatrix(3, 7, 42);
      const x = tensor(rows, { dtype: 'float64' });
      const varOf = (v: number[], unbiased: boolean) => {
        const m = v.reduce((a, b) => a + b, 0) / v.length;
        return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - (unbiased ? 1 : 0));
      };
      const all = rows.flat();
      expect(x.var().item()).toBeCloseTo(varOf(all, true), 12);
      expect(x.var(undefined, false, false).item()).toBeCloseTo(varOf(all, false), 12);
      expect(x.std().item()).toBeCloseTo(Math.sqrt(varOf(all, true)), 12);
      expect(x.std(undefined, false, false).item()).toBeCloseTo(Math.sqrt(varOf(all, false)), 12);
      expectClose(flat(x.var(1)), rows.map((r) => varOf(r, true)), 1e-12);
      expectClose(flat(x.var(1, false, false)), rows.map((r) => varOf(r, false)), 1e-12);
      expectClose(flat(x.std(1)), rows.map((r) => Math.sqrt(varOf(r, true))), 1e-12);
      const cols = rows[0].map((_, j) => rows.map((r) => r[j]));
      const s0 = x.std(0, false, true);
      expect(s0.shape).toEqual([1, 7]);
      expectClose(flat(s0), cols.map((c) => Math.sqrt(varOf(c, false))), 1e-12);
      // PyTorch's argument order (dim, unbiased, keepdim): tensor([[1, 2], [3, 5]]).std(0, False) is [1, 1.5]
      expect(tensor([[1, 2], [3, 5]], { dtype: 'float64' }).std(0, false).toNested()).toEqual([1, 1.5]);
      // A hand-computed case: [2, 4, 4, 4, 5, 5, 7, 9] has mean 5, biased variance 4, unbiased 32/7.
      const h = tensor([2, 4, 4, 4, 5, 5, 7, 9], { dtype: 'float64' });
      expect(h.var(0, false, false).item()).toBe(4);
      expect(h.std(0, false, false).item()).toBe(2);
      expect(h.var().item()).toBeCloseTo(32 / 7, 14);
    });
  });

  it("topk, sort and argsort give PyTorch's [values, indices]", () => {
    tidy(() => {
      const x = tensor([[3, 1, 2], [0, 5, 4]], { dtype: 'float64' });
      const pair = ([v, i]: [Tensor, Tensor]) => [v.toNested(), i.toNested()];
      expect(pair(x.topk(2))).toEqual([[[3, 2], [5, 4]], [[0, 2], [1, 2]]]);
      expect(pair(x.topk(1, 0))).toEqual([[[3, 5, 4]], [[0, 1, 1]]]);
      expect(pair(x.topk(2, -1, false))).toEqual([[[1, 2], [0, 4]], [[1, 2], [0, 2]]]);
      expect(pair(x.sort())).toEqual([[[1, 2, 3], [0, 4, 5]], [[1, 2, 0], [0, 2, 1]]]);
      expect(pair(x.sort(0, true))).toEqual([[[3, 5, 4], [0, 1, 2]], [[0, 1, 1], [1, 0, 0]]]);
      expect(x.argsort(-1, true).toNested()).toEqual([[0, 2, 1], [1, 2, 0]]);
      // ties keep their order with stable
      expect(tensor([1, 0, 1, 0]).sort(0, false, true)[1].toNested()).toEqual([1, 3, 0, 2]);
      expect(() => x.topk(4)).toThrow(/^topk: k must be between 0 and 3/);
      expect(() => x.topk(1, 2)).toThrow(RangeError);
      expect(() => x.sort(0, 'yes' as never)).toThrow(/^sort: expected a boolean for descending/);
    });
  });

  it('all, any, norm, softmax, logSoftmax, cumsum', () => {
    tidy(() => {
      const b = tensor([[true, false], [true, true]]);
      expect(b.all().item()).toBe(false);
      expect(b.all(1).toNested()).toEqual([false, true]);
      expect(b.any(0).toNested()).toEqual([true, true]);
      expect(tensor([3, 4]).norm().item()).toBe(5);
      // PyTorch's argument order: p, dim, keepdim
      const m = tensor([[1, -2], [3, 5]], { dtype: 'float64' });
      expect(m.norm(1).item()).toBe(11);
      expect(m.norm(Infinity).item()).toBe(5);
      expect(m.norm(1, 1).toNested()).toEqual([3, 8]);
      expect(m.norm('fro', 0, true).shape).toEqual([1, 2]);
      expectClose(flat(m.norm(2, 0)), [Math.sqrt(10), Math.sqrt(29)], 1e-12);
      expect(() => m.norm('nuc' as never)).toThrow(/^norm: expected a number \(Infinity included\) or 'fro' for p/);
      const xs = [1, 2, 3];
      const e = xs.map(Math.exp);
      const z = e.reduce((a, v) => a + v, 0);
      const x = tensor([xs], { dtype: 'float64' });
      expectClose(flat(x.softmax(1)), e.map((v) => v / z), 1e-12);
      expectClose(flat(x.logSoftmax(-1)), e.map((v) => Math.log(v / z)), 1e-12);
      expect(tensor([1, 2, 3, 4]).cumsum(0).toNested()).toEqual([1, 3, 6, 10]);
    });
  });
});

// ---------------------------------------------------------------- matmul

describe('matmul', () => {
  function jsMatmul(a: number[][], b: number[][]): number[][] {
    const n = a.length;
    const k = b.length;
    const m = b[0].length;
    const out = Array.from({ length: n }, () => new Array<number>(m).fill(0));
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let p = 0; p < k; p++) out[i][j] += a[i][p] * b[p][j];
    return out;
  }

  it('matches a JS triple loop (float64, several shapes)', () => {
    tidy(() => {
      for (const [n, k, m] of [[1, 1, 1], [3, 4, 5], [7, 2, 9], [16, 16, 16]]) {
        const a = randomMatrix(n, k, n * 100 + k);
        const b = randomMatrix(k, m, m * 7 + 1);
        const got = tensor(a, { dtype: 'float64' }).matmul(tensor(b, { dtype: 'float64' }));
        expect(got.shape).toEqual([n, m]);
        expectClose(flat(got), jsMatmul(a, b).flat(), 1e-12);
        expectClose(flat(matmul(tensor(a), tensor(b))), jsMatmul(a, b).flat(), 1e-5);
      }
    });
  });

  it('handles vectors and batched broadcasting', () => {
    tidy(() => {
      const a = randomMatrix(3, 4, 5);
      const v = [1, -2, 0.5, 3];
      const av = tensor(a, { dtype: 'float64' }).matmul(tensor(v, { dtype: 'float64' }));
      expect(av.shape).toEqual([3]);
      expectClose(flat(av), a.map((r) => r.reduce((s, x, j) => s + x * v[j], 0)), 1e-12);
      expect(tensor([1, 2, 3]).matmul(tensor([4, 5, 6])).item()).toBe(32);
      const b0 = randomMatrix(3, 4, 11);
      const b1 = randomMatrix(3, 4, 12);
      const w = randomMatrix(4, 2, 13);
      const batched = tensor([b0, b1], { dtype: 'float64' }).matmul(tensor(w, { dtype: 'float64' }));
      expect(batched.shape).toEqual([2, 3, 2]);
      expectClose(flat(batched), [...jsMatmul(b0, w).flat(), ...jsMatmul(b1, w).flat()], 1e-12);
    });
  });

  it('rejects mismatched inner dimensions', () => {
    tidy(() => {
      expect(() => zeros([2, 3]).matmul(zeros([4, 2]))).toThrow(/^matmul: /);
    });
  });
});

// ---------------------------------------------------------------- shape

describe('shape operations', () => {
  const nested = (t: Tensor) => t.toNested() as NestedArray;

  it('reshape and view (with -1), flatten', () => {
    tidy(() => {
      const x = arange(12);
      expect(x.reshape(3, 4).toNested()).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
      expect(x.reshape([2, -1]).shape).toEqual([2, 6]);
      expect(x.view(2, 2, 3).shape).toEqual([2, 2, 3]);
      expect(x.view(-1, 3).shape).toEqual([4, 3]);
      expect(x.reshape(2, 2, 3).flatten().toNested()).toEqual(flat(x));
      expect(x.reshape(2, 2, 3).flatten(1).shape).toEqual([2, 6]);
      expect(x.reshape(2, 2, 3).flatten(0, 1).shape).toEqual([4, 3]);
      expect(() => x.reshape(5, 3)).toThrow(/^reshape: /);
      // view never copies, so it fails on a transposed (non-contiguous) tensor; reshape copies instead.
      const tr = x.reshape(3, 4).t();
      expect(() => tr.view(12)).toThrow(/^view: /);
      expect(tr.reshape(12).toNested()).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    });
  });

  it('permute, transpose and t move elements as index math says', () => {
    tidy(() => {
      const x = arange(24).reshape(2, 3, 4);
      const p = x.permute(2, 0, 1);
      expect(p.shape).toEqual([4, 2, 3]);
      const pv = p.toNested() as number[][][];
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expect(pv[k][i][j]).toBe(i * 12 + j * 4 + k);
      expect(x.permute([0, 2, 1]).shape).toEqual([2, 4, 3]);
      const tr = x.transpose(0, 2);
      expect(tr.shape).toEqual([4, 3, 2]);
      expect((tr.toNested() as number[][][])[3][2][1]).toBe(1 * 12 + 2 * 4 + 3);
      expect(tr.isContiguous()).toBe(false);
      expect(tensor([[1, 2], [3, 4]]).t().toNested()).toEqual([[1, 3], [2, 4]]);
    });
  });

  it('squeeze, unsqueeze, expand, repeat', () => {
    tidy(() => {
      const x = zeros([1, 3, 1]);
      expect(x.squeeze().shape).toEqual([3]);
      expect(x.squeeze(0).shape).toEqual([3, 1]);
      expect(x.squeeze(1).shape).toEqual([1, 3, 1]); // size 3: unchanged
      expect(tensor([1, 2]).unsqueeze(0).shape).toEqual([1, 2]);
      expect(tensor([1, 2]).unsqueeze(-1).toNested()).toEqual([[1], [2]]);
      const e = tensor([[1], [2]]).expand(2, 3);
      expect(e.toNested()).toEqual([[1, 1, 1], [2, 2, 2]]);
      expect(e.strides).toEqual([1, 0]); // no copy
      expect(tensor([[1], [2]]).expand([-1, 2]).toNested()).toEqual([[1, 1], [2, 2]]);
      expect(tensor([1, 2]).repeat(2, 2).toNested()).toEqual([[1, 2, 1, 2], [1, 2, 1, 2]]);
    });
  });

  it('contiguous() copies a transposed tensor into row-major order', () => {
    tidy(() => {
      const tr = arange(6).reshape(2, 3).t();
      expect(tr.isContiguous()).toBe(false);
      const c = tr.contiguous();
      expect(c.isContiguous()).toBe(true);
      expect(c.strides).toEqual([2, 1]);
      expect(nested(c)).toEqual(nested(tr));
      const already = arange(4);
      expect(nested(already.contiguous())).toEqual([0, 1, 2, 3]);
    });
  });

  it('channels-last: memoryFormat, isContiguous and unchanged values', () => {
    tidy(() => {
      const x = arange(24, undefined, 1, { dtype: 'float32' }).reshape(1, 2, 3, 4);
      expect(x.memoryFormat).toBe('contiguous');
      expect(x.isContiguous('channelsLast')).toBe(false);
      const y = x.contiguous('channelsLast');
      expect(y.memoryFormat).toBe('channelsLast');
      expect(y.isContiguous('channelsLast')).toBe(true);
      expect(y.isContiguous()).toBe(false);
      expect(y.shape).toEqual([1, 2, 3, 4]);
      expect(y.strides).toEqual([24, 1, 8, 2]); // NHWC: C varies fastest
      expect(nested(y)).toEqual(nested(x));
      expect(flat(y)).toEqual(flat(x)); // toArray reads in logical (row-major) order
      const back = y.contiguous();
      expect(back.memoryFormat).toBe('contiguous');
      expect(nested(back)).toEqual(nested(x));
      expect(y.add(1).sub(1).toNested()).toEqual(nested(x));
      const viaTo = x.to({ memoryFormat: 'channelsLast' });
      expect(viaTo.memoryFormat).toBe('channelsLast');
      expect(() => zeros([2, 3]).contiguous('channelsLast')).toThrow(/^contiguous: /);
    });
  });
});

// ---------------------------------------------------------------- indexing

describe('indexing', () => {
  const grid = () => arange(12).reshape(3, 4); // [[0..3],[4..7],[8..11]]

  it('integers (negative from the end), slices with steps, null, "..."', () => {
    tidy(() => {
      const x = grid();
      expect(x.index(1).toNested()).toEqual([4, 5, 6, 7]);
      expect(x.index(-1, -2).item()).toBe(10);
      expect(x.index({ start: 0, stop: 3, step: 2 }, { step: 3 }).toNested()).toEqual([[0, 3], [8, 11]]);
      expect(x.index({ start: 1 }).toNested()).toEqual([[4, 5, 6, 7], [8, 9, 10, 11]]);
      expect(x.index({ stop: -1 }, { start: -2 }).toNested()).toEqual([[2, 3], [6, 7]]);
      expect(x.index({}).shape).toEqual([3, 4]);
      expect(x.index(null).shape).toEqual([1, 3, 4]);
      expect(x.index({}, null).shape).toEqual([3, 1, 4]);
      expect(x.index('...', 1).toNested()).toEqual([1, 5, 9]);
      expect(x.index('...', null).shape).toEqual([3, 4, 1]);
      expect(() => x.index(3)).toThrow(RangeError);
      expect(() => x.index(3)).toThrow(/^index: /);
      expect(() => x.index(0, 0, 0)).toThrow(/^index: /);
    });
  });

  it('a bool mask selects elements; an int64 tensor gathers rows', () => {
    tidy(() => {
      const x = grid();
      expect(x.index(x.gt(8)).toNested()).toEqual([9, 10, 11]);
      expect(x.index(tensor([true, false, true])).toNested()).toEqual([[0, 1, 2, 3], [8, 9, 10, 11]]);
      expect(x.index(tensor([2n, 0n, 2n])).toNested()).toEqual([[8, 9, 10, 11], [0, 1, 2, 3], [8, 9, 10, 11]]);
      expect(x.index({}, tensor([3n, 0n])).toNested()).toEqual([[3, 0], [7, 4], [11, 8]]);
      expect(() => x.index(tensor([5n]))).toThrow(/^index: /);
    });
  });

  it('slice, select, narrow are views of the same memory', () => {
    tidy(() => {
      const x = grid();
      expect(x.slice(1, 1, 3).toNested()).toEqual([[1, 2], [5, 6], [9, 10]]);
      expect(x.slice(0, null, null, 2).toNested()).toEqual([[0, 1, 2, 3], [8, 9, 10, 11]]);
      expect(x.slice(1, -2).toNested()).toEqual([[2, 3], [6, 7], [10, 11]]);
      expect(x.select(1, 2).toNested()).toEqual([2, 6, 10]);
      expect(x.select(0, -1).toNested()).toEqual([8, 9, 10, 11]);
      expect(x.narrow(0, 1, 2).toNested()).toEqual([[4, 5, 6, 7], [8, 9, 10, 11]]);
      x.select(0, 0).fill_(-1);
      x.narrow(1, 3, 1).zero_();
      expect(x.toNested()).toEqual([[-1, -1, -1, 0], [4, 5, 6, 0], [8, 9, 10, 0]]);
    });
  });

  it('asStrided is a view of the storage with the given sizes, strides and offset; storageOffset reports it; a view past the storage is an error', () => {
    tidy(() => {
      const x = grid(); // 3 x 4, values 0..11
      const col = x.asStrided([3], [4], 1); // column 1
      expect(col.toNested()).toEqual([1, 5, 9]);
      expect([col.strides, col.storageOffset(), x.select(0, 2).storageOffset(), x.storageOffset()]).toEqual([[4], 1, 8, 0]);
      expect(x.asStrided([2, 2], [1, 4]).toNested()).toEqual([[0, 4], [1, 5]]); // offset defaults to x's own
      col.fill_(-1);
      expect(x.select(1, 1).toNested()).toEqual([-1, -1, -1]);
      expect(() => x.asStrided([3], [4], 2).add(0).asStrided([13], [1], 0)).toThrow(/^asStrided: .*out of bounds for storage/);
      expect(() => x.asStrided([2], [-1], 3)).toThrow(/^asStrided: /);
      expect(() => x.asStrided([2], [1, 1])).toThrow(/^asStrided: /);
      // a view of no elements reaches no storage, so ATen would take any offset: refused past the storage's end
      expect(() => x.asStrided([0], [1], 1e6)).toThrow(/^asStrided: storageOffset must be in \[0, 12\].*got 1000000/);
      expect(() => x.asStrided([0], [1], -1)).toThrow(/^asStrided: storageOffset must be in \[0, 12\]/);
      expect(x.asStrided([0], [1], 12).shape).toEqual([0]);
    });
  });

  it('indexSelect, maskedSelect, gather', () => {
    tidy(() => {
      const x = grid();
      expect(x.indexSelect(1, tensor([0n, 3n])).toNested()).toEqual([[0, 3], [4, 7], [8, 11]]);
      expect(x.indexSelect(0, tensor([2n])).toNested()).toEqual([[8, 9, 10, 11]]);
      expect(x.maskedSelect(x.remainder(5).eq(0)).toNested()).toEqual([0, 5, 10]);
      expect(x.maskedSelect(tensor([true, false, false, true])).toNested()).toEqual([0, 3, 4, 7, 8, 11]); // broadcast mask
      expect(x.gather(1, tensor([[0n], [2n], [3n]])).toNested()).toEqual([[0], [6], [11]]);
    });
  });

  it('indexPut_ writes scalars and tensors in place and returns this', () => {
    tidy(() => {
      const x = grid();
      expect(x.indexPut_([0, { start: 1, stop: 3 }], -5)).toBe(x);
      expect(x.index(0).toNested()).toEqual([0, -5, -5, 3]);
      x.indexPut_([tensor([1n, 2n]), tensor([0n, 3n])], tensor([100n, 200n]));
      expect(x.toNested()).toEqual([[0, -5, -5, 3], [100, 5, 6, 7], [8, 9, 10, 200]]);
      x.indexPut_([x.gt(99)], 0);
      expect(x.toNested()).toEqual([[0, -5, -5, 3], [0, 5, 6, 7], [8, 9, 10, 0]]);
      x.indexPut_(['...', 1], tensor([1n, 2n, 3n]));
      expect(x.select(1, 1).toNested()).toEqual([1, 2, 3]);
    });
  });

  it('an index tensor out of range is a RangeError naming the dimension it indexes, after ..., None and masks too', () => {
    tidy(() => {
      const x = grid(); // 3 x 4
      expect(x.index(tensor([-3n, 2n])).toNested()).toEqual([[0, 1, 2, 3], [8, 9, 10, 11]]); // negative counts from the end, as PyTorch
      expect(() => x.index(tensor([3n]))).toThrow(/^index: indices\[0\] holds 3, outside \[-3, 3\) for dimension 0 of size 3$/);
      expect(() => x.index(tensor([-4n]))).toThrow(/^index: indices\[0\] holds -4, outside \[-3, 3\)/);
      expect(() => x.index('...', tensor([0n, 4n]))).toThrow(/^index: indices\[1\] holds 4, outside \[-4, 4\) for dimension 1 of size 4$/);
      expect(() => x.index(null, { start: 0 }, tensor([4n]))).toThrow(/indices\[2\] holds 4, outside \[-4, 4\) for dimension 1/);
      expect(() => x.index(tensor([true, false, true]), tensor([5n]))).toThrow(/indices\[1\] holds 5, outside \[-4, 4\) for dimension 1/);
      expect(() => x.indexPut_([tensor([0n]), tensor([9n])], 1)).toThrow(/^indexPut_: indices\[1\] holds 9/);
      expect(() => x.index(tensor([0.5]))).toThrow(TypeError);
      expect(x.index('...', tensor([-1n])).toNested()).toEqual([[3], [7], [11]]);
      expect(x.sum().item()).toBe(66); // x is unchanged by the refused indexPut_
    });
  });
});

// ---------------------------------------------------------------- joining and splitting

describe('cat, stack, split, chunk', () => {
  it('cat along existing dims, stack along a new one', () => {
    tidy(() => {
      const a = tensor([[1, 2]]);
      const b = tensor([[3, 4], [5, 6]]);
      expect(cat([a, b]).toNested()).toEqual([[1, 2], [3, 4], [5, 6]]);
      expect(cat([tensor([[1], [2]]), tensor([[3], [4]])], 1).toNested()).toEqual([[1, 3], [2, 4]]);
      expect(cat([a, b], -2).shape).toEqual([3, 2]);
      const s = stack([tensor([1, 2]), tensor([3, 4]), tensor([5, 6])]);
      expect(s.toNested()).toEqual([[1, 2], [3, 4], [5, 6]]);
      expect(stack([tensor([1, 2]), tensor([3, 4])], 1).toNested()).toEqual([[1, 3], [2, 4]]);
      expect(() => cat([a, tensor([1, 2, 3]).reshape(1, 3)])).toThrow(/^cat: /);
      expect(() => stack([tensor([1]), tensor([1, 2])])).toThrow(/^stack: /);
    });
  });

  it('split by size or sizes, chunk into nearly equal pieces', () => {
    tidy(() => {
      const x = arange(7);
      expect(x.split(3).map((t) => t.toNested())).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
      expect(x.split([2, 5]).map((t) => t.toNested())).toEqual([[0, 1], [2, 3, 4, 5, 6]]);
      expect(x.chunk(2).map((t) => t.toNested())).toEqual([[0, 1, 2, 3], [4, 5, 6]]);
      const m = arange(6).reshape(2, 3);
      expect(m.split(1, 1).map((t) => t.toNested())).toEqual([[[0], [3]], [[1], [4]], [[2], [5]]]);
      expect(m.chunk(3, 1).length).toBe(3);
      expect(() => x.split([2, 2])).toThrow(/^split: /);
      // split pieces are views: writing one writes the original
      x.split(3)[1].fill_(0);
      expect(x.toNested()).toEqual([0, 1, 2, 0, 0, 0, 6]);
    });
  });
});

// ---------------------------------------------------------------- conversion and copies

describe('conversion, clone and detach', () => {
  it('to(dtype) converts values (float→int truncates toward zero)', () => {
    tidy(() => {
      const x = tensor([1.7, -1.7, 0.5]);
      expect(x.to('int32').dtype).toBe('int32');
      expect(x.to('int32').toNested()).toEqual([1, -1, 0]);
      expect(x.to('float64').toNested()).toEqual([Math.fround(1.7), Math.fround(-1.7), 0.5]);
      expect(x.to({ dtype: 'bool' }).toNested()).toEqual([true, true, true]);
      expect(tensor([0, 2]).bool().toNested()).toEqual([false, true]);
      expect(tensor([1, 2]).double().dtype).toBe('float64');
      expect(tensor([1, 2]).half().dtype).toBe('float16');
      expect(tensor([1.5]).int().dtype).toBe('int32');
      expect(tensor([1.5]).long().toArray()).toEqual(new BigInt64Array([1n]));
      expect(tensor([1n]).float().dtype).toBe('float32');
      expect(x.cpu().device).toBe('cpu');
      expect(x.to('cpu').toNested()).toEqual(x.toNested());
      // copy: true always gives new memory
      const c = x.to({ dtype: 'float32', copy: true });
      c.fill_(0);
      expect(x.index(0).item()).toBe(Math.fround(1.7));
    });
  });

  it('clone owns its memory; detach shares it but leaves the graph', () => {
    tidy(() => {
      const x = tensor([1, 2, 3], { requiresGrad: true });
      const c = x.clone();
      expect(c.requiresGrad).toBe(true);
      expect(c.isLeaf).toBe(false);
      const d = x.detach();
      expect(d.requiresGrad).toBe(false);
      expect(d.isLeaf).toBe(true);
      d.fill_(9); // writes x's memory
      expect(x.toNested()).toEqual([9, 9, 9]);
      expect(c.toNested()).toEqual([1, 2, 3]);
      const plain = tensor([4, 5]);
      const pc = plain.clone();
      pc.zero_();
      expect(plain.toNested()).toEqual([4, 5]);
    });
  });
});

describe('in-place operations return the same object and change its values', () => {
  it('add_ sub_ mul_ div_ pow_ zero_ fill_ copy_ relu_ clamp_ abs_ neg_ exp_ log_ sqrt_ sigmoid_ tanh_', () => {
    tidy(() => {
      const x = tensor([1, -2, 3], { dtype: 'float64' });
      const steps: [string, () => Tensor, number[]][] = [
        ['add_', () => x.add_(1), [2, -1, 4]],
        ['mul_', () => x.mul_(tensor([2, 2, 0.5], { dtype: 'float64' })), [4, -2, 2]],
        ['sub_', () => x.sub_(1), [3, -3, 1]],
        ['div_', () => x.div_(2), [1.5, -1.5, 0.5]],
        ['pow_', () => x.pow_(2), [2.25, 2.25, 0.25]],
        ['neg_', () => x.neg_(), [-2.25, -2.25, -0.25]],
        ['abs_', () => x.abs_(), [2.25, 2.25, 0.25]],
        ['sqrt_', () => x.sqrt_(), [1.5, 1.5, 0.5]],
        ['log_', () => x.log_(), [Math.log(1.5), Math.log(1.5), Math.log(0.5)]],
        ['exp_', () => x.exp_(), [1.5, 1.5, 0.5]],
        ['fill_', () => x.fill_(-4), [-4, -4, -4]],
        ['copy_', () => x.copy_(tensor([5, -6, 0.5])), [5, -6, 0.5]],
        ['relu_', () => x.relu_(), [5, 0, 0.5]],
        ['clamp_', () => x.clamp_(0.25, 1), [1, 0.25, 0.5]],
        ['tanh_', () => x.tanh_(), [Math.tanh(1), Math.tanh(0.25), Math.tanh(0.5)]],
        ['zero_', () => x.zero_(), [0, 0, 0]],
        ['sigmoid_', () => x.sigmoid_(), [0.5, 0.5, 0.5]],
      ];
      for (const [name, step, expected] of steps) {
        const r = step();
        expect(r, name).toBe(x);
        expectClose(flat(x), expected, 1e-12);
      }
      expect(x.dtype).toBe('float64');
    });
  });

  it('copy_ broadcasts and converts dtype; fill_ takes a 0-d tensor', () => {
    tidy(() => {
      const x = zeros([2, 2], { dtype: 'int32' });
      x.copy_(tensor([1.9, -2.9]));
      expect(x.toNested()).toEqual([[1, -2], [1, -2]]);
      x.fill_(tensor(7));
      expect(x.toNested()).toEqual([[7, 7], [7, 7]]);
    });
  });

  it('in-place ops on a view change the base', () => {
    tidy(() => {
      const x = zeros([2, 3]);
      x.index(1).add_(5);
      x.t().index(0).mul_(0).add_(1);
      expect(x.toNested()).toEqual([[1, 0, 0], [1, 5, 5]]);
    });
  });
});
