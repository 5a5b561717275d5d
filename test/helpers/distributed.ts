// Runs a scenario of test/helpers/distributed-worker.js in several processes with `launch` (the data-parallel
// tests of test/distributed.test.ts, and on a GPU those of test/gpu.test.ts).
import * as fs from 'fs';
import * as path from 'path';
import { expect } from 'vitest';
import * as torch from '../../lib';
import { launch } from '../../lib/distributed/launch';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { models, batch } = require('./distributed-models.js');

const worker = path.join(__dirname, 'distributed-worker.js');

/**
 * Runs worker scenario `name` in `n` processes, in a new directory under `dir`; resolves with each rank's
 * report (null where a rank wrote none), the launcher's result, all output, and the directory. Processes still
 * running after `timeoutMs` are stopped (the result then shows the signal).
 */
export async function scenario(name: string, n: number, dir: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000) {
  const out = fs.mkdtempSync(path.join(dir, `${name}-`));
  const lines: string[] = [];
  const sink = { write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream;
  const result = await launch({ script: worker, args: [name, out], nprocPerNode: n, env: { ...process.env, ...env }, stdout: sink, stderr: sink, forwardSignals: false, graceMs: 20_000,
    signal: AbortSignal.timeout(timeoutMs) }); // a hung scenario is stopped, not left running after its test
  const reports = Array.from({ length: n }, (_, r) => {
    const f = path.join(out, `rank${r}.json`);
    return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : null;
  });
  return { result, reports, output: lines.join(''), out };
}

/**
 * The reference of the `dataParallel` scenario: one process (this one, on the CPU) training model `kind` of
 * distributed-models.js on the whole batches from rank 0's initial weights. Resolves with the initial and
 * final state dicts as arrays.
 */
export async function oneProcessReference(kind: 'native' | 'js'): Promise<{ init: Record<string, number[]>; ref: Record<string, number[]> }> {
  const values = (m: torch.nn.Module) => torch.tidy(() => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.toArray() as Float32Array)])));
  torch.manualSeed(1);
  const m = models[kind](torch) as torch.nn.Module;
  const init = values(m);
  const opt = new torch.optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 });
  const trainer = new torch.Trainer(m, opt);
  for (let k = 0; k < 4; k++) {
    const [x, y] = batch(torch, k);
    await torch.tidy(() => trainer.step(x, y));
  }
  const ref = values(m);
  trainer.dispose();
  opt.dispose();
  m.dispose();
  return { init, ref };
}

/**
 * Checks the reports of the `dataParallel` scenario for both model kinds: rank 0's weights within `tolerance`
 * of one process on the whole batches, rank 1's equal to rank 0's (although rank 1 was built from another
 * seed: the first step copies rank 0's), the weights moved, and rank 1's stop vote at the third step seen by
 * both processes there and only there.
 */
export async function expectMatchesOneProcess(reports: { [kind: string]: { params: Record<string, number[]>; stops: boolean[] } }[], tolerance: number): Promise<void> {
  for (const kind of ['native', 'js'] as const) {
    const { init, ref } = await oneProcessReference(kind);
    let moved = 0;
    for (const [name, values] of Object.entries(ref)) {
      values.forEach((v, i) => {
        moved = Math.max(moved, Math.abs(v - init[name][i]));
        expect(Math.abs(reports[0][kind].params[name][i] - v), `${kind} ${name}[${i}]`).toBeLessThan(tolerance);
        expect(reports[1][kind].params[name][i]).toBe(reports[0][kind].params[name][i]);
      });
    }
    expect(moved).toBeGreaterThan(1e-2); // the steps did train
    for (const r of reports) expect(r[kind].stops).toEqual([false, false, true, false]);
  }
}
