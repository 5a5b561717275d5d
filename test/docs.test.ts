// The API reference is generated from doc comments (typedoc.json, `npm run docs`): every export must have
// one, links must resolve, nothing referenced may be left unexported. typedoc treats each such warning as an
// error, so this check fails on an undocumented export. Skipped where typedoc is not installed.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const bin = path.join(root, 'node_modules', '.bin', 'typedoc');

describe.skipIf(!fs.existsSync(bin))('API reference (needs the typedoc devDependency)', () => {
  it('typedoc validates every export without warnings', () => {
    const p = spawnSync(bin, ['--emit', 'none'], { cwd: root, encoding: 'utf8' });
    const out = `${p.stdout}${p.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    expect(out).not.toMatch(/\[warning\]|\[error\]/);
    expect(p.status).toBe(0);
  });
});
