// Functions compared with python3-torch in float64, one case per op and option set: ours run here (output,
// then the gradients of the inputs that ask for one under a fixed weighting of the output), PyTorch's through
// runCases, and one test per case compares them. Shared by the nn-extra and nn-more tests.
import { beforeAll, describe, expect, it } from 'vitest';
import { info, manualSeed, memory, tensor, tidy, type Tensor } from '../../lib';
import { vals, weighting } from './compare';
import { toTensor, type OpCase } from './specs';
import { hasTorch, runCases, sameTorchVersion, type PyCase, type PyResult } from './torchpy';

/** A function case: `OpCase` with a tolerance and, for random ops, a seed. */
export interface FCase extends OpCase {
  /** Relative tolerance (default 1e-10); 0 asks for equality. */
  tol?: number;
  /** Seed both generators before the op (the random ones). */
  seed?: number;
  /** Compare only where python3's torch has the addon's LibTorch version (random draws may differ between releases). */
  sameVersionOnly?: boolean;
}

interface OurResult {
  shape: number[];
  out: number[];
  grads: Record<string, number[] | null>;
  gradOut?: number[];
}

function runOurs(c: FCase): OurResult {
  return tidy(() => {
    const t = Object.fromEntries(Object.entries(c.inputs).map(([k, s]) => [k, toTensor(s)]));
    if (c.seed !== undefined) manualSeed(c.seed);
    const out = c.ts(t);
    const wantsGrad = Object.values(c.inputs).some((s) => s.grad && s.dtype !== 'int64');
    const res: OurResult = { shape: out.shape, out: vals(out), grads: {} };
    if (wantsGrad) {
      res.gradOut = weighting(out.numel(), 7, 3);
      out.backward(tensor(Float64Array.from(res.gradOut), { shape: out.shape }).to(out.dtype));
      for (const [k, s] of Object.entries(c.inputs)) if (s.grad) res.grads[k] = t[k].grad ? vals(t[k].grad as Tensor) : null;
    }
    return res;
  });
}

const close = (a: number[], b: number[], tol: number, what: string): void => {
  expect(a.length, `${what} length`).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]), `${what} [${i}]: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]))));
};

/** One test per case: shape, output and every input gradient equal PyTorch's (skipped without python3's torch). */
export function describeFunctionsAgainstTorch(cases: FCase[]): void {
  describe.skipIf(!hasTorch)('functions equal python3-torch in float64: outputs, input and weight gradients (needs python3 with torch)', () => {
    const ours = new Map<string, OurResult>();
    let ref: Record<string, PyResult>;
    const same = hasTorch && sameTorchVersion(info().torchVersion);
    beforeAll(async () => {
      const before = memory().tensors;
      for (const c of cases) ours.set(c.name, runOurs(c));
      expect(memory().tensors).toBe(before);
      const py: PyCase[] = cases.map((c) => ({ name: c.name, expr: c.py, gradOut: ours.get(c.name)?.gradOut, inputs: c.inputs, seed: c.seed }));
      ref = await runCases(py);
    }, 120_000);

    for (const c of cases) {
      it.skipIf(c.sameVersionOnly === true && !same)(c.name, () => {
        const a = ours.get(c.name) as OurResult;
        const b = ref[c.name];
        expect(a.shape).toEqual(b.shape);
        close(a.out, b.out, c.tol ?? 1e-10, 'output');
        expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
        for (const [k, g] of Object.entries(a.grads)) {
          expect(g, `gradient of ${k}`).not.toBeNull();
          close(g as number[], b.grads[k] as number[], c.tol ?? 1e-10, `gradient of ${k}`);
        }
      });
    }
  });
}
