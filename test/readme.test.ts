// Every TypeScript example in README.md runs as written. A block that starts with `import ... from 'ictorch'`
// begins a program; a block without one continues the program above it (the README reads top to bottom).
// Each program is type-checked against the library's declarations, compiled to CommonJS with its
// `from 'ictorch'` pointed at this checkout, wrapped in an async function (the examples use top-level await)
// and run in a child process in an empty directory (so `fit`'s run directories land there).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRequire } from 'module';
import type * as TS from 'typescript';
import { describe, expect, it } from 'vitest';
import { run } from './helpers/run';
import { hasTorch, PYTHON } from './helpers/torchpy';

// The GPU machine's staged node_modules leave TypeScript out (dist/ travels compiled): skip there.
const ts: typeof TS | null = (() => {
  try {
    return createRequire(__filename)('typescript') as typeof TS;
  } catch {
    return null;
  }
})();

const root = path.resolve(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

function programs(): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = [];
  const re = /^```ts\n([\s\S]*?)^```/gm;
  for (let m = re.exec(readme); m; m = re.exec(readme)) {
    const line = readme.slice(0, m.index).split('\n').length;
    if (/^import .* from 'ictorch';/m.test(m[1]) || out.length === 0) out.push({ line, code: m[1] });
    else out[out.length - 1].code += `\n${m[1]}`;
  }
  return out;
}

const progs = programs();

describe.skipIf(!ts)('README examples (needs the typescript devDependency)', () => {
  const t = ts as typeof TS;
  it('has TypeScript examples to check', () => {
    expect(progs.length).toBeGreaterThanOrEqual(3);
  });

  it('type-check against the library', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-readme-tc-'));
    try {
      const files = progs.map((p, i) => {
        const f = path.join(dir, `example${i}.ts`);
        // A module with top-level await, as in an ES module; 'ictorch' resolves to this checkout's lib/.
        fs.writeFileSync(f, `${p.code.replace(/from 'ictorch'/g, `from ${JSON.stringify(path.join(root, 'lib'))}`)}\nexport {};\n`);
        return f;
      });
      const program = t.createProgram(files, {
        target: t.ScriptTarget.ES2022, module: t.ModuleKind.ES2022, moduleResolution: t.ModuleResolutionKind.Bundler,
        strict: true, noEmit: true, skipLibCheck: true, esModuleInterop: true, lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'], types: ['node'],
        typeRoots: [path.join(root, 'node_modules', '@types')],
      });
      const diags = t.getPreEmitDiagnostics(program).filter((d) => d.file && files.includes(path.resolve(d.file.fileName)));
      const text = diags.map((d) => {
        const i = files.indexOf(path.resolve(d.file!.fileName));
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `README example at line ${progs[i].line} (+${line}): ${t.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      expect(text).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [i, p] of progs.entries()) {
    // An example whose first line says it needs python3 with torch runs where /usr/bin/python3 has it (as the
    // tests that compare with PyTorch), with that python3 first on the PATH.
    const needsTorch = /^\/\/ needs python3 with torch/.test(p.code);
    it.runIf(!needsTorch || hasTorch)(`the example at README.md line ${p.line} runs`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-readme-'));
      try {
        const js = t.transpileModule(p.code, { compilerOptions: { module: t.ModuleKind.CommonJS, target: t.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
        const body = js.replace(/require\("ictorch"\)/g, `require(${JSON.stringify(path.join(root, 'dist', 'index.js'))})`);
        const file = path.join(dir, `example${i}.js`);
        fs.writeFileSync(file, `(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exit(1); });\n`);
        const env = needsTorch ? { ...process.env, PATH: `${path.dirname(PYTHON)}${path.delimiter}${process.env.PATH ?? ''}` } : process.env;
        const r = await run(process.execPath, [file], { cwd: dir, timeout: 600_000, env });
        expect(r.status, `README.md line ${p.line}: ${r.error?.message ?? ''}\n${r.stderr}`).toBe(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 600_000);
  }
});
