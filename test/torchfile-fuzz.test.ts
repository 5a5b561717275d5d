// Fuzzing the readers of PyTorch files in CI: a few hundred mutated .pt files and checkpoints (byte flips,
// truncations, splices, zip directory edits, edits inside data.pkl re-zipped with valid CRC-32s), each loaded
// in a child process (scripts/fuzz-torchfile.js, on the compiled dist/): no crash (a signal), no hang (10 s per
// file), no tensor value from outside the file's storages, no leaked tensor, and every failure an Error naming
// the function and the file. Seeded, so a failure reproduces with `node scripts/fuzz-torchfile.js --files 300
// --seed 20240601 --keep DIR`.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fuzz = require('../scripts/fuzz-torchfile.js') as {
  makeCorpus(dir: string, count: number, seed: number): { file: string; kind: string; mutation: string }[];
  runCorpus(files: { file: string }[], o: { perFileMs: number; dir: string }): Promise<Record<string, any>>;
  MUTATIONS: string[];
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-fuzz-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('fuzzed PyTorch files and checkpoints', () => {
  it('300 mutated files: no crash, no hang, no read outside a storage, no leak; only named errors', async () => {
    const files = fuzz.makeCorpus(dir, 300, 20240601);
    expect(new Set(files.map((f) => f.mutation)).size).toBe(fuzz.MUTATIONS.length);
    const r = await fuzz.runCorpus(files, { perFileMs: 10_000, dir });
    expect(r.crash).toEqual([]);
    expect(r.hang).toEqual([]);
    expect(r.bad).toEqual([]);
    expect(r.ok + r.error).toBe(300);
    // not vacuous: some mutants still load (harmless edits) and many reach the pickle and tensor checks
    expect(r.ok).toBeGreaterThan(10);
    const reachedPickle = Object.entries(r.errors as Record<string, number>).filter(([k]) => k.includes('data.pkl byte')).reduce((a, [, n]) => a + n, 0);
    expect(reachedPickle).toBeGreaterThan(50);
  });
});
