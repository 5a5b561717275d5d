// TorchScript (lib/jit.ts, native/jit.cc): archives that Python's torch.jit wrote (scripted torchvision ResNet-18,
// a scripted module with rich signatures, a traced network) run in ictorch with Python's outputs; state dicts,
// training through a ScriptModule, saving back for Python, and the checks on damaged or wrong files.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { zipStream, ZipReader } from '../lib/io/zip';
import { bufferSource } from '../lib/io/source';
import { runNode } from './helpers/run';
import { hasTorch, hasTorchvision, PYTHON, py } from './helpers/torchpy';
import { run } from './helpers/run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-jit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const f = (name: string) => path.join(tmp, name);

const values = (t: torch.Tensor) => Array.from(t.to('float64').toArray() as Float64Array);
function expectClose(a: torch.Tensor, b: torch.Tensor, tol: number, what = ''): void {
  expect(a.shape, what).toEqual(b.shape);
  const x = values(a), y = values(b);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  expect(worst, what).toBeLessThan(tol);
}

// A script that loads each file of its arguments in a child process (where a crash would show as a signal)
// and prints, as JSON, 'loaded' or the error's class and first line for each.
function loader(): string {
  const script = f('loader.js');
  fs.writeFileSync(script, `const torch = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'))});
(async () => {
  const out = [];
  for (const file of process.argv.slice(2)) {
    try { (await torch.jit.load(file)).dispose(); out.push('loaded'); } catch (e) { out.push(e.constructor.name + ': ' + e.message.split('\\n')[0]); }
  }
  console.log(JSON.stringify(out));
})();`);
  return script;
}

describe.runIf(hasTorchvision)('TorchScript archives from Python (needs python3 with torch and torchvision)', () => {
  let io: Record<string, torch.Tensor>;
  beforeAll(async () => {
    const r = await run(PYTHON, [path.join(__dirname, 'helpers', 'jit-fixtures.py'), tmp], { timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    io = torch.load(f('io.pt')) as Record<string, torch.Tensor>;
  }, 150_000);

  it("runs scripted torchvision ResNet-18 as Python does; its state dict has Python's names", async () => {
    const m = await torch.jit.load(f('resnet18.pt'));
    try {
      expect(m.typeName).toBe('__torch__.torchvision.models.resnet.ResNet');
      expect(m.training).toBe(false); // saved in eval mode
      expect(m.methodNames()).toContain('forward');
      expect(m.signature()).toEqual({ args: [{ name: 'x', type: 'Tensor', hasDefault: false }], returns: ['Tensor'] });
      torch.tidy(() => {
        const y = torch.noGrad(() => m.forward(io.x)) as torch.Tensor;
        expectClose(y, io.y, 1e-5, 'forward');
        expect(Object.keys(m.stateDict())).toEqual(JSON.parse(fs.readFileSync(f('keys.json'), 'utf8')));
      });
      // Off the event loop, several at once.
      const ys = await torch.noGrad(() => Promise.all([m.forwardAsync(io.x), m.forwardAsync(io.x)]));
      for (const y of ys) expectClose(y as torch.Tensor, io.y, 1e-5, 'forwardAsync');
      for (const y of ys) (y as torch.Tensor).dispose();
    } finally {
      m.dispose();
    }
  });

  it('loads the weights of a torch.save state dict into the script module', async () => {
    const m = await torch.jit.load(f('resnet18.pt'));
    try {
      const sd = torch.loadStateDict(f('weights.pt'));
      expect(m.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
      const { y_other: expected } = torch.load(f('io-other.pt')) as Record<string, torch.Tensor>;
      torch.tidy(() => expectClose(torch.noGrad(() => m.forward(io.x)) as torch.Tensor, expected, 1e-5));
      for (const t of Object.values(sd)) t.dispose();
      expect(() => m.loadStateDict({ 'fc.weight': torch.zeros([3, 3]) })).toThrow(/missing keys/);
      expect(() => m.loadStateDict({ 'fc.weight': torch.zeros([3, 3]) }, { strict: false })).toThrow(/size mismatch for fc.weight/);
    } finally {
      m.dispose();
    }
  });

  it('passes defaults, numbers, lists, optional tensors and dicts by the signature; returns tuples, dicts and bigints', async () => {
    const m = await torch.jit.load(f('multi.pt'));
    try {
      expect(m.signature().args.map((a) => [a.name, a.type, a.hasDefault])).toEqual([
        ['x', 'Tensor', false], ['scale', 'float', true], ['n', 'int', true], ['names', 'Optional[List[str]]', true], ['extra', 'Optional[Tensor]', true],
      ]);
      expect(m.methodNames().sort()).toEqual(['big', 'describe', 'forward']);
      torch.tidy(() => {
        const [y, d, count] = m.forward(io.xm, 0.5, 3, ['a', 'b'], io.extra) as [torch.Tensor, Record<string, torch.Tensor>, number];
        expectClose(y, io.ym, 1e-6, 'y');
        expectClose(d.sum, io.ym_sum, 1e-5, 'sum');
        expect(d.n.item()).toBe(3);
        expect(count).toBe(2);
        // Left out, and undefined where a default exists: the defaults (scale 2, n 1, no names, no extra).
        expectClose((m.forward(io.xm) as [torch.Tensor])[0], io.ym_default, 1e-6, 'defaults');
        expectClose((m.forward(io.xm, undefined as never, 1) as [torch.Tensor])[0], io.ym_default, 1e-6, 'undefined');
      });
      expect(m.runMethod('describe', { a: 1, b: 5 }, [true, false, true])).toEqual({ a: [1, 2, 3], b: [5, 10, 3] });
      expect(m.runMethod('big')).toBe(2n ** 60n);
      expect(await m.runMethodAsync('describe', {}, [])).toEqual({});
      // train() turns dropout on (two calls differ) and BatchNorm onto batch statistics; eval() off again.
      const run1 = () => torch.tidy(() => values((m.forward(io.xm) as [torch.Tensor])[0]));
      expect(run1()).toEqual(run1());
      m.train();
      expect(m.training).toBe(true);
      expect(run1()).not.toEqual(run1());
      m.eval();
      expect(m.training).toBe(false);
      expect(run1()).toEqual(run1());
    } finally {
      m.dispose();
    }
  });

  it('says what is wrong with the arguments, the method or the module', async () => {
    const m = await torch.jit.load(f('multi.pt'));
    try {
      const x = torch.zeros([5, 4]);
      expect(() => m.forward(3)).toThrow(TypeError);
      expect(() => m.forward(3)).toThrow(/^ScriptModule\.forward: argument 'x' has TorchScript type Tensor: expected a Tensor, got a number/);
      expect(() => m.forward(x, 'big')).toThrow(/argument 'scale' has TorchScript type float: expected a number, got a string/);
      expect(() => m.forward(x, 1, 2.5)).toThrow(/argument 'n' has TorchScript type int: expected an integer, got 2\.5/);
      expect(() => m.forward(x, 1, 1, ['a', 3])).toThrow(/argument 'names\[1\]' has TorchScript type str/);
      expect(() => m.forward(x, 1, 1, null, null, 7)).toThrow(RangeError);
      expect(() => m.forward(x, 1, 1, null, null, 7)).toThrow(/forward\(\) takes 5 argument\(s\) \(x, scale, n, names, extra\), got 6/);
      expect(() => m.runMethod('describe', new Map() as never, [])).toThrow(/^ScriptModule\.describe: args\[0\] is a Map: pass a Dict\[str, \.\.\.\] as a plain object/);
      expect(() => m.runMethod('nope')).toThrow(/the module has no method 'nope'; it has: .*describe/);
      // LibTorch's own error, its cause first, then the TorchScript traceback.
      expect(() => m.forward(torch.zeros([5, 7]))).toThrow(/^ScriptModule\.forward: mat1 and mat2 shapes cannot be multiplied \(5x7 and 4x3\) \(raised in the TorchScript interpreter; its traceback:\)\n[\s\S]*Traceback of TorchScript/);
      // While a call is in flight the module cannot change; after it, it can.
      const pending = m.forwardAsync(x);
      expect(() => m.train()).toThrow(/in use by ScriptModule\.forward in flight/);
      expect(() => m.dispose()).toThrow(/in flight/);
      (await pending as [torch.Tensor])[0].dispose();
      m.train().eval();
      x.dispose();
    } finally {
      m.dispose();
    }
    expect(m.isDisposed()).toBe(true);
    expect(() => m.forward(torch.zeros([1]))).toThrow(/disposed/);
  });

  it('trains through a traced module: one SGD step equals PyTorch\'s, and the saved module loads in Python', async () => {
    const m = await torch.jit.load(f('traced.pt'));
    const params = m.parameters();
    const opt = new torch.optim.SGD(params, { lr: 0.1 });
    try {
      m.train();
      torch.tidy(() => (m.forward(io.xt) as torch.Tensor).sum().backward());
      opt.step();
      const stepped = io.stepped as unknown as Record<string, torch.Tensor>;
      const sd = m.stateDict();
      for (const [k, v] of Object.entries(stepped)) expectClose(sd[k], v, 1e-6, k);
      for (const t of Object.values(sd)) t.dispose();
      m.eval();
      await m.save(f('resaved.pt'));
      // Python reads what ictorch wrote and gets ictorch's outputs.
      const mine = torch.tidy(() => values(torch.noGrad(() => m.forward(io.xt)) as torch.Tensor));
      const theirs = JSON.parse(await py(`import torch, json\nm = torch.jit.load('${f('resaved.pt')}')\nx = torch.load('${f('io.pt')}')['xt']\nprint(json.dumps(m(x).detach().flatten().tolist()))`));
      // Relative: python3's LibTorch may be another version than the addon's (1.13 against 2.13 differ by ~1e-7 relative).
      mine.forEach((v, i) => expect(Math.abs(v - theirs[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(theirs[i]))));
      // And ictorch reads it back.
      const again = await torch.jit.load(f('resaved.pt'));
      const back = torch.tidy(() => values(torch.noGrad(() => again.forward(io.xt)) as torch.Tensor));
      expect(back).toEqual(mine);
      // to(dtype) casts the floating-point parameters in place, on their device.
      again.to('float64');
      torch.tidy(() => {
        expect(Object.values(again.stateDict()).map((t) => [t.dtype, t.device])).toEqual(Object.keys(again.stateDict()).map(() => ['float64', 'cpu']));
        const y = torch.noGrad(() => again.forward(io.xt.to('float64'))) as torch.Tensor;
        expect(y.dtype).toBe('float64');
        values(y).forEach((v, i) => expect(Math.abs(v - mine[i])).toBeLessThan(1e-5));
      });
      expect(() => again.to('int64')).toThrow(/floating-point dtype/);
      again.dispose();
    } finally {
      opt.dispose();
      for (const p of params) p.dispose();
      m.dispose();
    }
  });

  it('reads tensor constants (constants.pkl, constants/), and refuses one cut short', async () => {
    const m = await torch.jit.load(f('const.pt'));
    const y = torch.tidy(() => Array.from((m.forward(torch.ones([4])) as torch.Tensor).toArray() as Float32Array));
    expect(y).toEqual([1, 2, 3, 4]);
    m.dispose();
    const zip = ZipReader.open(bufferSource(fs.readFileSync(f('const.pt'))));
    expect(zip.entries.map((e) => e.name)).toContain('const/constants/0');
    const cut = zip.entries.map((e) => ({ name: e.name, data: e.name === 'const/constants/0' ? zip.read(e).subarray(0, 8) : zip.read(e) }));
    await expect(torch.jit.load(Buffer.concat([...zipStream(cut)]))).rejects.toThrow(/cannot be loaded: const\/constants\.pkl .*storage "0" declares 4 elements of float32 \(16 bytes\), but its entry holds 8 bytes/);
  });

  it('loads from bytes, onto a mapLocation; refuses files that are not TorchScript archives with a clear error', async () => {
    const m = await torch.jit.load(fs.readFileSync(f('traced.pt')), { mapLocation: 'cpu' });
    m.dispose();
    await expect(torch.jit.load(f('missing.pt'))).rejects.toThrow(/does not exist/);
    await expect(torch.jit.load(f('weights.pt'))).rejects.toThrow(/is a torch\.save file, not a TorchScript archive: read it with torch\.load\(\)/);
    fs.writeFileSync(f('text.pt'), 'hello');
    await expect(torch.jit.load(f('text.pt'))).rejects.toThrow(/is not a TorchScript archive: it does not start with the zip signature/);
    const bytes = fs.readFileSync(f('multi.pt'));
    fs.writeFileSync(f('cut.pt'), bytes.subarray(0, bytes.length - 100));
    await expect(torch.jit.load(f('cut.pt'))).rejects.toThrow(/cut\.pt is corrupt/);
    await expect(torch.jit.load(tmp)).rejects.toThrow(/only regular files/);
    await expect(torch.jit.load(f('traced.pt'), { device: 'cpu' } as never)).rejects.toThrow(/device/);
    await expect(torch.jit.load(f('traced.pt'), { mapLocation: 'tpu' })).rejects.toThrow(/tpu/);
  });

  it('a flipped byte anywhere is an error, never a crash (each load in a child process)', async () => {
    // Every entry's CRC-32 is checked before LibTorch sees the bytes; the child reports what load did.
    const src = fs.readFileSync(f('multi.pt'));
    const files: string[] = [];
    let x = 12345;
    for (let k = 0; k < 40; k++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const b = Buffer.from(src);
      b[x % b.length] ^= 1 << (k % 8);
      files.push(f(`flip-${k}.pt`));
      fs.writeFileSync(files[k], b);
    }
    const r = await runNode([loader(), ...files], { timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as string[];
    expect(results).toHaveLength(40);
    // A flip in zip metadata that no reader uses (a timestamp, say) may leave the archive loadable.
    for (const res of results) expect(res).toMatch(/^(loaded|Error: jit\.load: .*)$/);
    expect(results.filter((s) => s !== 'loaded').length).toBeGreaterThan(30);
  }, 150_000);

  it('archives rebuilt with valid CRCs around damaged entries are errors or load, never a crash', async () => {
    // The zip checks pass here; LibTorch's own parsers meet the damage (bounded reads, errors as exceptions).
    const src = fs.readFileSync(f('multi.pt'));
    const zip = ZipReader.open(bufferSource(src));
    const files: string[] = [];
    const cases: string[] = [];
    let x = 777;
    for (const [k, e] of zip.entries.entries()) {
      for (const how of ['truncate', 'garble']) {
        const entries = zip.entries.map((other) => {
          let data = Buffer.from(zip.read(other));
          if (other === e) {
            if (how === 'truncate') data = data.subarray(0, data.length >> 1);
            else for (let i = 0; i < Math.max(1, data.length >> 4); i++) data[(x = (x * 1103515245 + 12345) >>> 0) % Math.max(1, data.length)] ^= 0x5a;
          }
          return { name: other.name, data };
        });
        const file = f(`rebuilt-${k}-${how}.pt`);
        fs.writeFileSync(file, Buffer.concat([...zipStream(entries)]));
        files.push(file);
        cases.push(`${e.name} ${how}`);
      }
    }
    const r = await runNode([loader(), ...files], { timeout: 120_000 });
    expect(r.status, `${r.stderr}\n${r.signal}`).toBe(0);
    const results = JSON.parse(r.stdout) as string[];
    expect(results).toHaveLength(files.length);
    for (const res of results) expect(res).toMatch(/^(loaded|\w*Error: jit\.load: .*)$/);
    // A tensor entry cut short is refused before LibTorch would build a tensor reaching past its storage.
    cases.forEach((c, i) => {
      if (/\/data\/\d+ truncate$/.test(c)) expect(results[i], c).toMatch(/cannot be loaded: multi\/data\.pkl .*storage "\d+" declares \d+ elements of \w+ \(\d+ bytes\), but its entry holds \d+ bytes/);
    });
    expect(cases.filter((c) => /\/data\/\d+ truncate$/.test(c)).length).toBe(7);
    // Damaged TorchScript code is LibTorch's parse error, not a crash.
    cases.forEach((c, i) => {
      if (/code\/__torch__\.py truncate$/.test(c)) expect(results[i], c).toMatch(/^Error: jit\.load: <?[^:]*: expected/);
    });
  }, 150_000);
});

describe('jit without archives', () => {
  it('rejects bad arguments before reading anything', async () => {
    await expect(torch.jit.load(42 as never)).rejects.toThrow(TypeError);
    await expect(torch.jit.load('x.pt', { mapLocation: 3 } as never)).rejects.toThrow(/mapLocation/);
    await expect(torch.jit.save({} as never, f('never.pt'))).rejects.toThrow(/a ScriptModule/);
  });
});

describe.runIf(hasTorch)("LibTorch's warnings (needs python3 with torch)", () => {
  // c10's default handler logs every warning through glog, on every call; ictorch's prints each distinct one
  // once (runtime.cc), on the JS thread and on the worker threads alike. A TorchScript warnings.warn reaches
  // c10 on every call (the interpreter does not deduplicate it), so the model below warns six times.
  it("a TorchScript model's warnings.warn prints once, from forward and forwardAsync alike, without glog's preamble", async () => {
    const py_ = f('make-warns.py');
    fs.writeFileSync(py_, `import torch, warnings
class M(torch.nn.Module):
    def forward(self, x):
        if bool(x.sum() < 0):
            warnings.warn("negative input")
        warnings.warn("every call warns")
        return x * 2
torch.jit.script(M()).save(${JSON.stringify(f('warns.pt'))})
`);
    const made = await run(PYTHON, [py_], { timeout: 60_000 });
    expect(made.status, made.stderr).toBe(0);
    const script = `const torch = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'))});
(async () => {
  const m = await torch.jit.load(${JSON.stringify(f('warns.pt'))});
  for (let i = 0; i < 3; i++) m.forward(torch.ones([2]));
  for (let i = 0; i < 3; i++) await m.forwardAsync(torch.ones([2]).neg());
  console.log('done');
})().catch((e) => { console.error(e); process.exit(3); });`;
    const r = await runNode(['-e', script], { timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('done');
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[ictorch\] LibTorch warning: every call warns \(__torch__\.py:\d+; shown once\)$/);
    expect(lines[1]).toMatch(/^\[ictorch\] LibTorch warning: negative input \(__torch__\.py:\d+; shown once\)$/);
  });
});
