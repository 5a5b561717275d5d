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
