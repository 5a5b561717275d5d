// The fused CUDA IC kernels' maths (native/ic/ic_fused.h) run on the CPU: test/native/ic_fused_emulation.cc is
// compiled with the host C++ compiler and executes the kernels' per-thread and per-channel functions block by
// block, as ic_cuda.cu launches them, against a float64 reference (statistics, running statistics, forward
// output and mask, dx/dweight/dbias) and Philox4x32-10 against Random123's known-answer vectors. This is what
// can be checked without a GPU; test/ic.test.ts compares the real kernels with the composite path on one.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';

const cxx = process.env.CXX ?? 'g++';
const hasCxx = spawnSync(cxx, ['--version']).status === 0;

describe.skipIf(!hasCxx)('fused CUDA IC kernel maths, emulated on the CPU', () => {
  it('matches the float64 reference for NCHW, channels-last and (N, C) inputs, float32 and float64', () => {
    const root = path.resolve(__dirname, '..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-emu-'));
    try {
      const exe = path.join(dir, 'emu');
      execFileSync(cxx, ['-std=c++17', '-O2', '-I', path.join(root, 'native'), path.join(root, 'test/native/ic_fused_emulation.cc'), '-o', exe], { stdio: 'pipe' });
      const r = spawnSync(exe, { encoding: 'utf8' });
      expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/all fused-kernel emulation checks passed/);
      // Every layout path ran (the emulator prints one line per case and precision).
      for (const what of ['NCHW', 'channels-last', '2-d']) expect(r.stdout).toContain(what);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
