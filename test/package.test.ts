// The package as users load it: `require('ictorch')` and `import * as torch from 'ictorch'` from dist/,
// with type declarations for everything exported, and a clear message when the addon cannot load.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { DTYPES } from '../lib';
import { nativeDTypes } from '../lib/runtime';

const root = path.join(__dirname, '..');
const node = (code: string, env: NodeJS.ProcessEnv = {}, module = false) =>
  spawnSync(process.execPath, [...(module ? ['--input-type=module'] : []), '-e', code], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

describe('package', () => {
  it('loads with require() and computes', () => {
    const r = node("const t = require('ictorch'); console.log(t.tensor([1, 2, 3]).sum().item())");
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('6');
  });

  it('computes float64 convolutions without warnings on stderr (NNPACK where it cannot start, LibTorch 2.x)', () => {
    // LibTorch 2.13 logged "Could not initialize NNPACK! Reason: Unsupported hardware." once per such
    // convolution on machines where NNPACK cannot start: float64 takes that path, at a batch of 16 or more.
    const r = node(
      "const t = require('ictorch'); const F = t.nn.functional; const x = t.ones([32, 3, 8, 8], { dtype: 'float64' }); const w = t.ones([4, 3, 3, 3], { dtype: 'float64' });" +
        " const sums = []; for (let i = 0; i < 3; i++) t.noGrad(() => sums.push(F.conv2d(x, w, null, { padding: 1 }).sum().item()));" +
        " const g = t.ones([16, 3, 8, 8], { dtype: 'float64', requiresGrad: true }); F.conv2d(g, w).sum().backward(); console.log(JSON.stringify({ sums, grad: g.grad.sum().item() }));",
    );
    expect(r.stderr).toBe('');
    // all-ones 3x3x3 kernels, padding 1 on 8x8: per map 36 interior x 27 + 24 edges x 18 + 4 corners x 12 = 1452
    // per output channel; without padding, each input pixel's gradient counts its 3x3 windows (6x6 outputs).
    expect(JSON.parse(r.stdout)).toEqual({ sums: [1452 * 4 * 32, 1452 * 4 * 32, 1452 * 4 * 32], grad: 16 * 3 * 4 * 36 * 9 });
  });

  it('loads with ESM import * as torch and exposes the same names', () => {
    const r = node("import * as torch from 'ictorch'; import { createRequire } from 'module'; const cjs = createRequire(import.meta.url)('ictorch'); const missing = Object.keys(cjs).filter((k) => !(k in torch)); console.log(JSON.stringify({ missing, sum: torch.ones([4]).sum().item() }));", {}, true);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ missing: [], sum: 4 });
  });

  it('ships .d.ts declarations for the entry point and every module it re-exports', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(fs.existsSync(path.join(root, pkg.types))).toBe(true);
    for (const f of fs.readdirSync(path.join(root, 'lib'))) {
      if (f.endsWith('.ts')) expect(fs.existsSync(path.join(root, 'dist', f.replace(/\.ts$/, '.d.ts'))), f).toBe(true);
    }
  });

  it('explains a missing addon in one message naming the path and what to do', () => {
    const r = node("require('ictorch')", { ICTORCH_ADDON: '/nonexistent/ictorch.node' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/could not load the native addon from \/nonexistent\/ictorch\.node/);
    expect(r.stderr).toMatch(/npm install/);
  });

  it('the TypeScript dtype list matches the native table', () => {
    expect(nativeDTypes()).toEqual([...DTYPES]);
  });

  it('the addon finds LibTorch through its RPATH, without LD_LIBRARY_PATH', () => {
    const r = node("console.log(require('ictorch').info().torchVersion)", { LD_LIBRARY_PATH: '' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+/);
  });
});
