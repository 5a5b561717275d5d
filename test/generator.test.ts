// Generators of one's own (torch.Generator): per call and per layer, reproducible whatever else draws from
// the process-wide default generator, including in worker threads; the same numbers as PyTorch's generator.
import { execFile, spawnSync } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { describe, expect, it } from 'vitest';
import { Generator, manualSeed, nn, ones, rand, randint, randn, tidy } from '../lib';

const addon = path.resolve(__dirname, '..', 'build', 'Release', 'ictorch.node');
const PYTHON = '/usr/bin/python3';
const hasTorch = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const vals = (t: { toArray(): ArrayLike<number | bigint> }): number[] => Array.from(t.toArray(), Number);

describe('Generator', () => {
  it('gives the same stream for the same seed, independent of the default generator, and restores its state', () => {
    const g = new Generator().manualSeed(7);
    try {
      expect(g.initialSeed()).toBe(7);
      expect(g.device).toBe('cpu');
      tidy(() => {
        const a = vals(randn([40], { generator: g }));
        const state = g.getState();
        const b = vals(rand([5], { generator: g }));
        const c = vals(randint(0, 100, [5], { generator: g }));
        g.manualSeed(7);
        manualSeed(123); // the default generator's draws do not touch g's stream
        randn([1000]);
        expect(vals(randn([40], { generator: g }))).toEqual(a);
        g.setState(state);
        expect(vals(rand([5], { generator: g }))).toEqual(b);
        expect(vals(randint(0, 100, [5], { generator: g }))).toEqual(c);
      });
      expect(() => randn([2], { generator: {} as Generator })).toThrow(/randn: expected a Generator for generator/);
      expect(() => new Generator({ device: 'tpu' })).toThrow(/unknown device/);
      expect(() => g.manualSeed(-1)).toThrow(RangeError);
    } finally {
      g.dispose();
    }
    expect(g.isDisposed).toBe(true);
    expect(() => randn([2], { generator: g })).toThrow(/disposed/);
  });

  it('drives Dropout and IC masks in training: same seed, same mask, whatever the default generator does', () => {
    const masks = (seed: number) => {
      const gd = new Generator().manualSeed(seed);
      const gi = new Generator().manualSeed(seed);
      const drop = new nn.Dropout(0.5, { generator: gd });
      const ic = new nn.IC(4, { dropRate: 0.3, affine: false, generator: gi });
      try {
        manualSeed(seed + 1000);
        return tidy(() => ({
          drop: vals(drop.forward(ones([64]))).map((v) => v !== 0),
          ic: vals(ic.forward(ones([8, 4, 3, 3]).add(randn([8, 4, 3, 3])))).map((v) => v !== 0),
        }));
      } finally {
        for (const m of [drop, ic]) m.dispose();
        gd.dispose();
        gi.dispose();
      }
    };
    const a = masks(1), b = masks(1), c = masks(2);
    expect(b.drop).toEqual(a.drop);
    expect(a.drop.some((k) => !k) && a.drop.some((k) => k)).toBe(true);
    expect(c.drop).not.toEqual(a.drop);
    expect(b.ic).toEqual(a.ic);
    expect(a.ic.filter((k) => !k).length).toBeGreaterThan(10);
  });

  it.skipIf(!hasTorch)('draws what PyTorch draws from torch.Generator().manual_seed(s)', async () => {
    const g = new Generator().manualSeed(42);
    const ours = tidy(() => ({ n: vals(randn([20], { generator: g, dtype: 'float64' })), u: vals(rand([7], { generator: g, dtype: 'float64' })) }));
    g.dispose();
    const r = await promisify(execFile)(PYTHON, ['-c', 'import torch, json; g = torch.Generator().manual_seed(42); n = torch.randn(20, generator=g, dtype=torch.float64); u = torch.rand(7, generator=g, dtype=torch.float64); print(json.dumps({"n": n.tolist(), "u": u.tolist()}))'], { encoding: 'utf8', timeout: 120_000 });
    const theirs = JSON.parse(r.stdout) as { n: number[]; u: number[] };
    expect(ours.n.map((v, i) => Math.abs(v - theirs.n[i]) < 1e-12).every(Boolean)).toBe(true);
    expect(ours.u.map((v, i) => Math.abs(v - theirs.u[i]) < 1e-12).every(Boolean)).toBe(true);
  });
});

// A worker draws `rounds` batches from its own generator (and a Dropout mask from another) while other
// threads draw from and reseed the process-wide default generator.
const workerCode = `
const { parentPort, workerData } = require('worker_threads');
const N = require(workerData.addon);
const g = N.generatorCreate(null);
g.manualSeed(workerData.seed);
const gd = N.generatorCreate(null);
gd.manualSeed(workerData.seed);
const drop = N.moduleCreate('dropout', { p: 0.5, generator: gd });
const draws = [];
for (let i = 0; i < workerData.rounds; i++) {
  N.manualSeed(i); // disturb the shared default generator as much as possible
  N.randn([64], null, null, false).dispose();
  const t = N.randomWith('randn', g, [32], null, null, false);
  draws.push(...Array.from(N.toArray(t)));
  t.dispose();
}
const y = N.moduleForward(drop, N.full([64], 1, null, null, false));
parentPort.postMessage({ draws, mask: Array.from(N.toArray(y)).map((v) => v !== 0) });
`;

function runWorker(seed: number, rounds: number): Promise<{ draws: number[]; mask: boolean[] }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerCode, { eval: true, workerData: { addon, seed, rounds } });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe('generators in worker threads', () => {
  it('two workers with their own seeded generators get reproducible, independent streams while the default generator is disturbed', async () => {
    const rounds = 200;
    const running = Promise.all([runWorker(7, rounds), runWorker(7, rounds), runWorker(8, rounds)]);
    for (let i = 0; i < 200; i++) {
      manualSeed(1000 + i);
      tidy(() => randn([256]));
    }
    const [a, b, c] = await running;
    // The reference: the same generator, seeded the same, drawn in this thread alone.
    const g = new Generator().manualSeed(7);
    const ref = tidy(() => Array.from({ length: rounds }, () => vals(randn([32], { generator: g }))).flat());
    g.dispose();
    expect(a.draws).toHaveLength(32 * rounds);
    expect(a.draws).toEqual(ref);
    expect(b.draws).toEqual(ref);
    expect(c.draws).not.toEqual(ref);
    expect(b.mask).toEqual(a.mask);
    expect(c.mask).not.toEqual(a.mask);
  });
});
