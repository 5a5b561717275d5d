#!/usr/bin/env node
/**
 * Fuzzes ictorch's readers of PyTorch files (`load`, `loadCheckpoint`) in a child process, so that a crash
 * shows as a signal and a hang as silence.
 *
 * Seed files (a state dict of every dtype, a nested training checkpoint, views sharing one storage, an
 * ictorch checkpoint) hold only values from known sets (float32 1000.25 + k, int64 10^12 + k, ...). Each
 * fuzzed file is a seed with one mutation: byte flips, truncation, splices, zeroed ranges, edits of zip
 * directory fields, or edits inside data.pkl (flipped, cut, duplicated, inserted bytes; small and large
 * integers swapped in) re-zipped with correct CRC-32s so that they reach the unpickler and the tensor
 * checks. Every file must either load with every tensor value from its set (a value from outside means a
 * read outside a storage) and no tensor leaked, or fail with an Error whose message starts with the
 * function's name and the file. A crash, a hang (no answer within --per-file-ms), another error or a
 * foreign value is reported.
 *
 *   node scripts/fuzz-torchfile.js [--files 20000] [--seed 1] [--per-file-ms 10000] [--keep DIR]
 *
 * Needs the compiled library (`npx tsc -p .`). test/torchfile-fuzz.test.ts runs a few hundred files of it.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const DIST = path.join(__dirname, '..', 'dist');

// ---------------------------------------------------------------- value sets

/** True when `v` is one of the values the seeds use for `dtype`. */
function allowed(dtype, v) {
  switch (dtype) {
    case 'float32': return Number.isInteger(v - 1000.25) && v >= 1000.25 && v < 1000.25 + 4096;
    case 'float64': return Number.isInteger(v - 2000.125) && v >= 2000.125 && v < 2000.125 + 4096;
    case 'float16': return Number.isInteger(v) && v >= 1024 && v < 2048;
    case 'bfloat16': return Number.isInteger(v) && v >= 256 && v < 512 && v % 2 === 0;
    case 'int32': return v >= 3_000_000 && v < 3_004_096;
    case 'int64': return v >= 1_000_000_000_000n && v < 1_000_000_004_096n;
    case 'uint8': return v >= 100 && v < 200;
    default: return true; // bool: 0 or 1, nothing to tell apart
  }
}

function seedValues(dtype, n, offset = 0) {
  const k = (i) => (i + offset) % 1024;
  switch (dtype) {
    case 'float32': return Float32Array.from({ length: n }, (_, i) => 1000.25 + k(i));
    case 'float64': return Float64Array.from({ length: n }, (_, i) => 2000.125 + k(i));
    case 'float16': return Float32Array.from({ length: n }, (_, i) => 1024 + k(i));
    case 'bfloat16': return Float32Array.from({ length: n }, (_, i) => 256 + 2 * (k(i) % 128));
    case 'int32': return Int32Array.from({ length: n }, (_, i) => 3_000_000 + k(i));
    case 'int64': return BigInt64Array.from({ length: n }, (_, i) => 1_000_000_000_000n + BigInt(k(i)));
    case 'uint8': return Uint8Array.from({ length: n }, (_, i) => 100 + (k(i) % 100));
    default: return Uint8Array.from({ length: n }, (_, i) => i % 2);
  }
}

// ---------------------------------------------------------------- seeds

/** Writes the seed files into `dir`; returns [{file, kind}]. */
function makeSeeds(dir) {
  const torch = require(DIST);
  const { zipStream } = require(path.join(DIST, 'io', 'zip'));
  const seeds = [];
  const t = (dtype, shape, offset) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return torch.tensor(seedValues(dtype, n, offset), { shape, dtype: dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype === 'bool' ? 'bool' : undefined }).to(dtype);
  };
  return torch.tidy(() => {
    const sd = {};
    ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'int64', 'uint8', 'bool'].forEach((d, i) => {
      sd[`layer${i}.weight`] = t(d, [3, 4], i * 7);
      sd[`layer${i}.bias`] = t(d, [4], i * 3);
    });
    sd['scalar'] = t('float32', [], 5);
    const f1 = path.join(dir, 'seed-state-dict.pt');
    torch.saveStateDict(f1, sd);
    seeds.push({ file: f1, kind: 'load' });

    const f2 = path.join(dir, 'seed-nested.pt');
    torch.save({
      model: torch.py.orderedDict({ 'fc.weight': sd['layer0.weight'], 'fc.bias': sd['layer0.bias'] }),
      optimizer: { state: new Map([[0, { momentum_buffer: t('float32', [3, 4], 100) }], [1, { momentum_buffer: t('float32', [4], 200) }]]),
        param_groups: [{ lr: torch.py.float(0.1), momentum: 0.9, nesterov: false, params: [0, 1] }] },
      epoch: 3, config: { name: 'x', milestones: torch.py.tuple([80, 120]), nan: NaN, big: 2n ** 70n, none: null },
    }, f2);
    seeds.push({ file: f2, kind: 'load' });

    // Views: tensors with offsets and strides into one storage of 24 float32 values (crafted pickle).
    const f3 = path.join(dir, 'seed-views.pt');
    fs.writeFileSync(f3, Buffer.concat([...zipStream([
      { name: 'archive/data.pkl', data: viewsPickle() },
      { name: 'archive/data/0', data: new Uint8Array(seedValues('float32', 24).buffer) },
      { name: 'archive/version', data: Buffer.from('3\n') },
    ])]));
    seeds.push({ file: f3, kind: 'load' });

    const f4 = path.join(dir, 'seed-checkpoint.ckpt');
    torch.saveCheckpoint(f4, {
      model: { name: 'resnet', args: { depth: 8 } }, config: { lr: 0.1, epochs: 2, data: 'synthetic' }, epoch: 1, step: 12, bestAcc: 0.5,
      modelState: { 'fc.weight': sd['layer0.weight'], 'bn.num_batches_tracked': t('int64', [], 9) },
      optimizerState: { state: new Map([[0, { momentum_buffer: t('float32', [3, 4], 300) }]]), param_groups: [{ lr: 0.1, momentum: 0.9, params: [0, 1] }] },
      rng: { cpu: t('uint8', [64], 0), cuda: [] }, sampler: { seed: 1, epoch: 1 }, history: [{ epoch: 1, trainLoss: 2.5, testAcc: NaN }],
      epochProgress: { batches: 3, seen: 96 },
    });
    seeds.push({ file: f4, kind: 'checkpoint' });
    return seeds;
  });
}

// A pickle of {'x': x, 't': x.t(), 'slice': x[1:, ::2], 'col': x[:, 3], 'tail': x.view(-1)[20:]} for x a 4×6 view of storage "0".
function viewsPickle() {
  const parts = [Buffer.from([0x80, 2, 0x7d, 0x28])];
  const str = (s) => {
    const b = Buffer.from(s);
    const h = Buffer.alloc(5);
    h[0] = 0x58;
    h.writeUInt32LE(b.length, 1);
    return Buffer.concat([h, b]);
  };
  const int = (n) => {
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    return b;
  };
  const tuple = (xs) => Buffer.concat([Buffer.from([0x28]), ...xs.map(int), Buffer.from([0x74])]);
  const views = [['x', 0, [4, 6], [6, 1]], ['t', 0, [6, 4], [1, 6]], ['slice', 6, [3, 3], [6, 2]], ['col', 3, [4], [6]], ['tail', 20, [4], [1]]];
  for (const [name, offset, size, stride] of views) {
    parts.push(
      str(name),
      Buffer.from('ctorch._utils\n_rebuild_tensor_v2\n(', 'latin1'),
      Buffer.from([0x28]), str('storage'), Buffer.from('ctorch\nFloatStorage\n', 'latin1'), str('0'), str('cpu'), int(24), Buffer.from([0x74, 0x51]),
      int(offset), tuple(size), tuple(stride), Buffer.from([0x89]), Buffer.from('ccollections\nOrderedDict\n)R', 'latin1'), Buffer.from([0x74, 0x52]),
    );
  }
  parts.push(Buffer.from([0x75, 0x2e]));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- mutations

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MUTATIONS = ['flip', 'truncate', 'splice', 'zero', 'cd-field', 'pkl-flip', 'pkl-int', 'pkl-cut', 'pkl-dup', 'pkl-insert', 'entry-cut'];

/** One mutated copy of `seed` (bytes) by the mutation `kind`. */
function mutate(seed, kind, rnd) {
  const { ZipReader } = require(path.join(DIST, 'io', 'zip'));
  const { bufferSource } = require(path.join(DIST, 'io', 'source'));
  const { zipStream } = require(path.join(DIST, 'io', 'zip'));
  const int = (n) => Math.floor(rnd() * n);
  const b = Buffer.from(seed);
  if (kind === 'flip') {
    for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] ^= 1 + int(255);
    return b;
  }
  if (kind === 'truncate') return b.subarray(0, int(b.length));
  if (kind === 'splice') {
    const n = 1 + int(64);
    b.copy(b, int(b.length), int(b.length), int(b.length) + n);
    return b;
  }
  if (kind === 'zero') {
    const at = int(b.length);
    b.fill(0, at, Math.min(b.length, at + 1 + int(32)));
    return b;
  }
  if (kind === 'cd-field') {
    const cd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const field = cd + [10, 16, 20, 24, 28, 30, 42][int(7)];
    const big = [0xffffffff, 0x7fffffff, 0x80000000, 0, 1, b.length, int(0x100000000)][int(7)];
    if (field + 4 <= b.length) b.writeUInt32LE(big >>> 0, field);
    return b;
  }
  // Edits of the entries, re-zipped with correct CRC-32s.
  const zip = ZipReader.open(bufferSource(seed));
  const entries = zip.entries.map((e) => ({ name: e.name, data: Buffer.from(zip.read(e)) }));
  const pklEntry = entries.find((e) => e.name.endsWith('/data.pkl'));
  let p = pklEntry.data;
  if (kind === 'pkl-flip') {
    for (let k = 1 + int(3); k > 0; k--) p[int(p.length)] ^= 1 + int(255);
  } else if (kind === 'pkl-int') {
    // an integer operand (BININT1 K, BININT2 M, BININT J) set to an extreme
    const at = [];
    for (let i = 0; i < p.length - 1; i++) if (p[i] === 0x4b || p[i] === 0x4a || p[i] === 0x4d) at.push(i);
    if (at.length) {
      const i = at[int(at.length)];
      if (p[i] === 0x4b) p[i + 1] = [0, 1, 2, 255, int(256)][int(5)];
      else if (p[i] === 0x4d && i + 3 <= p.length) p.writeUInt16LE([0, 65535, int(65536)][int(3)], i + 1);
      else if (p[i] === 0x4a && i + 5 <= p.length) p.writeInt32LE([-1, 2147483647, -2147483648, 1 << 30, int(1 << 20)][int(5)], i + 1);
    }
  } else if (kind === 'pkl-cut') {
    const at = int(p.length);
    p = Buffer.concat([p.subarray(0, at), p.subarray(at + 1 + int(16))]);
  } else if (kind === 'pkl-dup') {
    const at = int(p.length);
    const n = 1 + int(32);
    p = Buffer.concat([p.subarray(0, at + n), p.subarray(at, at + n), p.subarray(at + n)]);
  } else if (kind === 'pkl-insert') {
    const at = int(p.length);
    const ops = [0x52, 0x81, 0x62, 0x51, 0x85, 0x86, 0x87, 0x74, 0x28, 0x61, 0x65, 0x73, 0x75, 0x29, 0x5d, 0x7d, 0x4e, 0x30, 0x32, 0x68, 0x71, 0x2e];
    const ins = Buffer.from(Array.from({ length: 1 + int(4) }, () => (rnd() < 0.8 ? ops[int(ops.length)] : int(256))));
    p = Buffer.concat([p.subarray(0, at), ins, p.subarray(at)]);
  } else if (kind === 'entry-cut') {
    const data = entries.filter((e) => /\/data\/\d+$/.test(e.name));
    if (data.length) {
      const e = data[int(data.length)];
      e.data = e.data.subarray(0, int(e.data.length));
    }
  }
  pklEntry.data = p;
  return Buffer.concat([...zipStream(entries)]);
}

/** Writes `count` mutated files into `dir`; returns [{file, kind, mutation}]. */
function makeCorpus(dir, count, seed = 1) {
  fs.mkdirSync(dir, { recursive: true });
  const seeds = makeSeeds(dir).map((s) => ({ ...s, bytes: fs.readFileSync(s.file) }));
  const rnd = mulberry32(seed);
  const files = [];
  for (let i = 0; i < count; i++) {
    const s = seeds[i % seeds.length];
    const mutation = MUTATIONS[Math.floor(rnd() * MUTATIONS.length)];
    const sub = path.join(dir, String(Math.floor(i / 1000))); // directories of 1000: large ones are slow to list and remove
    if (i % 1000 === 0) fs.mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `fuzz-${i}-${mutation}${path.extname(s.file)}`);
    fs.writeFileSync(file, mutate(s.bytes, mutation, rnd));
    files.push({ file, kind: s.kind, mutation });
  }
  return files;
}

// ---------------------------------------------------------------- the child: load each file, check it

function runChild(listFile) {
  const torch = require(DIST);
  const list = JSON.parse(fs.readFileSync(listFile, 'utf8'));
  const start = Number(process.argv[4] ?? 0);
  const say = (s) => process.stdout.write(`${s}\n`); // synchronous for pipes on Linux: a crash loses nothing
  const collect = (v, out) => {
    if (v instanceof torch.Tensor) out.push(v);
    else if (Array.isArray(v)) v.forEach((x) => collect(x, out));
    else if (v instanceof Map) v.forEach((x) => collect(x, out));
    else if (v !== null && typeof v === 'object') Object.values(v).forEach((x) => collect(x, out));
    return out;
  };
  for (let i = start; i < list.length; i++) {
    const { file, kind } = list[i];
    say(`S ${i}`);
    const live = torch.memory().tensors;
    let line;
    try {
      const v = kind === 'checkpoint' ? torch.loadCheckpoint(file) : torch.load(file);
      const tensors = collect(kind === 'checkpoint' ? [v.modelState, [...v.optimizerState.state.values()], v.rng] : v, []);
      let foreign = null;
      for (const t of tensors) {
        const a = t.toArray();
        for (let k = 0; k < a.length && !foreign; k++) if (!allowed(t.dtype, a[k])) foreign = `${t.dtype} value ${a[k]}`;
      }
      for (const t of tensors) t.dispose();
      const leaked = torch.memory().tensors - live;
      line = foreign ? `R ${i} bad a value from outside the file's storages: ${foreign}` : leaked ? `R ${i} bad ${leaked} tensors leaked` : `R ${i} ok`;
    } catch (e) {
      const prefix = `${kind === 'checkpoint' ? 'loadCheckpoint' : 'load'}: ${file}`;
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      const leaked = torch.memory().tensors - live;
      if (!(e instanceof Error) || !e.message.startsWith(prefix)) line = `R ${i} bad unexpected error: ${e instanceof Error ? e.constructor.name : typeof e}: ${msg}`;
      else if (leaked) line = `R ${i} bad ${leaked} tensors leaked by a failed load: ${msg}`;
      else line = `R ${i} error ${msg.slice(prefix.length).trim()}`;
    }
    say(line);
  }
}

// ---------------------------------------------------------------- the parent: run children, watch them

/**
 * Loads every file of `files` in child processes; resolves with counts and the problems found
 * ({crash, hang, bad}: lists of {file, mutation, detail}).
 */
/** How long a child process may take to load Node, dist/ and the addon before its first file. */
const STARTUP_MS = 120_000;

function runCorpus(files, { perFileMs = 10_000, dir } = {}) {
  const listFile = path.join(dir ?? path.dirname(files[0].file), 'fuzz-list.json');
  fs.writeFileSync(listFile, JSON.stringify(files));
  const result = { files: files.length, ok: 0, error: 0, crash: [], hang: [], bad: [], errors: {} };
  const problem = (kind, i, detail) => result[kind].push({ file: files[i].file, mutation: files[i].mutation, detail });
  return new Promise((resolve) => {
    const launch = (from) => {
      if (from >= files.length) return resolve(result);
      const child = spawn(process.execPath, [__filename, '--child', listFile, String(from)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let current = from;
      let buffer = '';
      let stderr = '';
      let timer = null;
      let started = false;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          problem('hang', current, started ? `no answer within ${perFileMs} ms` : `the child process did not start within ${STARTUP_MS} ms`);
          child.kill('SIGKILL');
        }, started ? perFileMs : STARTUP_MS);
      };
      // Until its first line the child is loading Node, dist/ and the addon, which on a loaded machine can take
      // longer than a file may: that time is not charged to the first file.
      arm();
      child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
      child.stdout.on('data', (d) => {
        buffer += d;
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const m = /^(S|R) (\d+)(?: (\w+)(?: (.*))?)?$/.exec(line);
          if (!m) continue;
          const i = Number(m[2]);
          if (m[1] === 'S') {
            current = i;
            started = true;
            arm();
          } else if (m[3] === 'ok') result.ok++;
          else if (m[3] === 'error') {
            result.error++;
            const key = (m[4] ?? '').replace(/\d+/g, 'N').slice(0, 90);
            result.errors[key] = (result.errors[key] ?? 0) + 1;
          } else problem('bad', i, m[4]);
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const hung = result.hang.some((h) => h.file === files[current].file);
        if (signal && !hung) problem('crash', current, `signal ${signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
        else if (code && code !== 0) problem('crash', current, `exit code ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
        if (signal || code) launch(current + 1);
        else resolve(result);
      });
    };
    launch(0);
  });
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const count = Number(opt('files', 20000));
  const seed = Number(opt('seed', 1));
  const keep = opt('keep', null);
  const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-fuzz-'));
  const t0 = Date.now();
  const files = makeCorpus(dir, count, seed);
  const t1 = Date.now();
  const r = await runCorpus(files, { perFileMs: Number(opt('per-file-ms', 10_000)), dir });
  const t2 = Date.now();
  const top = Object.entries(r.errors).sort((a, b) => b[1] - a[1]).slice(0, 25);
  console.log(`ictorch torchfile fuzz: ${count} files (seed ${seed}), made in ${((t1 - t0) / 1000).toFixed(1)} s, loaded in ${((t2 - t1) / 1000).toFixed(1)} s`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
  console.log(`loaded ${r.ok}, rejected with a named error ${r.error}, crashes ${r.crash.length}, hangs ${r.hang.length}, bad ${r.bad.length}`);
  console.log('most frequent errors:');
  for (const [k, n] of top) console.log(`  ${String(n).padStart(6)}  ${k}`);
  for (const kind of ['crash', 'hang', 'bad']) for (const p of r[kind]) console.log(`${kind.toUpperCase()} ${p.file} (${p.mutation}): ${p.detail}`);
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = r.crash.length || r.hang.length || r.bad.length ? 1 : 0;
}

module.exports = { makeCorpus, runCorpus, MUTATIONS };

if (require.main === module) {
  if (process.argv[2] === '--child') runChild(process.argv[3]);
  else main();
}
