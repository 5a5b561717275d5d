// torch.finfo: every field of the four floating-point dtypes equals python3-torch's, and the values are the dtypes'
// own (a tensor holds max and tiny exactly; max overflows to infinity when doubled; 1 + eps differs from 1).
import { describe, expect, it } from 'vitest';
import { finfo, tensor, type DType } from '../lib';
import { hasTorch, py } from './helpers/torchpy';

const FLOATS: DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

describe('finfo', () => {
  it.skipIf(!hasTorch)('equals torch.finfo for float32, float64, float16 and bfloat16 (needs python3 with torch)', async () => {
    const out = await py(`
import json, torch
f = {n: torch.finfo(getattr(torch, n)) for n in ${JSON.stringify(FLOATS)}}
print(json.dumps({n: [i.bits, i.eps, i.max, i.min, i.tiny, i.resolution] for n, i in f.items()}))
`);
    const theirs = JSON.parse(out) as Record<string, number[]>;
    for (const d of FLOATS) {
      const f = finfo(d);
      expect([f.bits, f.eps, f.max, f.min, f.tiny, f.resolution], d).toEqual(theirs[d]);
      expect(f.smallestNormal).toBe(f.tiny);
      expect(f.dtype).toBe(d);
    }
  });

  it('describes the values the dtypes hold', () => {
    for (const d of FLOATS) {
      const f = finfo(d);
      const t = tensor([f.max, f.tiny, 1 + f.eps, f.eps / 4], { dtype: d });
      const [max, tiny, onePlusEps, quarterEps] = Array.from(t.to('float64').toArray() as Float64Array);
      expect(max, d).toBe(f.max);
      expect(tiny, d).toBe(f.tiny);
      expect(onePlusEps, d).toBe(1 + f.eps);
      expect(quarterEps, d).toBeGreaterThan(0);
      expect(t.select(0, 0).mul(2).isinf().item(), d).toBe(true);
      expect(tensor([1], { dtype: d }).add(f.eps / 4).item(), d).toBe(1); // below eps, 1 + x rounds to 1
      t.dispose();
    }
    expect(finfo()).toEqual(finfo('float32'));
  });

  it('refuses a dtype that is not floating-point', () => {
    expect(() => finfo('int64')).toThrow(/^finfo: expected a floating-point dtype \(float32, float64, float16, bfloat16\) but received "int64"/);
    expect(() => finfo('double' as never)).toThrow(TypeError);
  });
});
