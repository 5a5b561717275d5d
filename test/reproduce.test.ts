// `ictorch reproduce` end to end, run as a user runs it (node dist/cli.js; `npm test` compiles dist first):
// a tiny grid on synthetic data and a real CIFAR-10 JPEG subset, interrupted with SIGINT and resumed; the
// CIFAR-100 binary path on a generated file; the dry-run plan; the ImageNet table's configs; usage errors.
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { cifarJpegDir } from './helpers/data';

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
// Asynchronous, so that the test worker's event loop keeps answering vitest while a grid trains.
function run(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'reproduce', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ictorch-reproduce-${name}-`));
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

// A data root holding the real CIFAR-10 JPEGs by the convention `<root>/cifar10-jpg` (a symlink to the shared copy).
function cifarRoot(): string {
  const root = tmp('root');
  fs.symlinkSync(cifarJpegDir(), path.join(root, 'cifar10-jpg'));
  return root;
}

// A file in the CIFAR-100 binary layout: records of <coarse label><fine label><3072 image bytes>.
function writeCifar100(dir: string, perClass: number, seed: number): void {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const records: Buffer[] = [];
  for (let i = 0; i < perClass; i++) {
    for (let fine = 0; fine < 100; fine++) {
      const r = Buffer.alloc(3074);
      r[0] = fine % 20;
      r[1] = fine;
      // Class-dependent mean colour plus noise, so the labels carry some signal.
      for (let k = 2; k < 3074; k++) r[k] = (fine * 37 * (1 + Math.floor((k - 2) / 1024)) + (rand() >> 2)) & 0xff;
      records.push(r);
    }
  }
  fs.writeFileSync(dir, Buffer.concat(records));
}

// Every file of a run directory: [name, mtimeMs, sha256].
function snapshot(dir: string): [string, number, string][] {
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => [f, fs.statSync(path.join(dir, f)).mtimeMs, createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]);
}

function weightsOf(file: string): Map<string, number[]> {
  const ck = torch.loadCheckpoint(file);
  try {
    return torch.tidy(() => new Map(Object.entries(ck.modelState).map(([k, t]) => [k, Array.from(t.to('float64').toArray() as Float64Array)])));
  } finally {
    torch.disposeCheckpoint(ck);
  }
}

// The figures of a metrics log (timings left out: they differ from run to run).
function figures(dir: string): unknown[] {
  return fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { seconds: _s, imagesPerSec: _i, ...rest } = JSON.parse(l);
      return rest;
    });
}

describe('ictorch reproduce', () => {
  it('runs a grid, stops on SIGINT with a checkpoint (exit 130), resumes without retraining finished cells, and reports every cell', async () => {
    const root = cifarRoot();
    const out = tmp('grid');
    const grid = [
      '--datasets', 'synthetic,cifar10', '--models', 'resnet', '--depths', '8', '--layouts', 'baseline,relu-ic-conv', '--epochs', '1',
      '--data-root', root, '--limit-per-class', '40', '--train-size', '256', '--test-size', '128', '--batch-size', '16', '--log-every', '1',
    ];
    const ids = ['synthetic-resnet-8-baseline-seed0', 'synthetic-resnet-8-relu-ic-conv-seed0', 'cifar10-resnet-8-baseline-seed0', 'cifar10-resnet-8-relu-ic-conv-seed0'];
    const victim = path.join(out, ids[2]);

    // Interrupt once the third cell (the first CIFAR-10 one) has taken a step.
    const child = spawn(process.execPath, [cli, 'reproduce', ...grid, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const timer = setInterval(() => fs.existsSync(path.join(victim, 'metrics.jsonl')) && (clearInterval(timer), child.kill('SIGINT')), 5);
    const code = await exited;
    clearInterval(timer);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/^SIGINT: stopping after this step and saving a checkpoint/m);
    expect(stderr).toMatch(/cifar10-resnet-8-baseline-seed0: stopped at step \d+/);
    const saved = torch.loadCheckpoint(path.join(victim, 'checkpoint.ckpt'));
    torch.disposeCheckpoint(saved);
    expect(saved.epochProgress, 'the interrupted cell saved a mid-epoch checkpoint').toBeDefined();
    expect(fs.existsSync(path.join(out, ids[3])), 'no cell started after the interruption').toBe(false);
    const partialReport = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(partialReport).toMatch(/\*\*Interrupted\.\*\*/);
    expect(partialReport).toMatch(/\*\*Cells:\*\* 2 of 4 finished/);

    // Resume: the finished cells are skipped, their files untouched; the interrupted one continues.
    const before = ids.slice(0, 2).map((id) => snapshot(path.join(out, id)));
    const resumed = await run(...grid, '--out', out, '--json');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(ids.slice(0, 2).map((id) => snapshot(path.join(out, id)))).toEqual(before);
    expect(resumed.stderr).toMatch(/\[1\/4\] synthetic-resnet-8-baseline-seed0: done .* skipped/);
    expect(resumed.stderr).toMatch(/\[3\/4\] cifar10-resnet-8-baseline-seed0: resumes in epoch 1 \(step \d+\) of 1/);
    const summary = lastJson(resumed.stdout);
    expect(summary.complete).toBe(true);
    expect(summary.trained).toEqual(ids.slice(2));
    expect(summary.cells.map((c: { id: string; status: string }) => [c.id, c.status])).toEqual(ids.map((id) => [id, 'done']));
    const prov = JSON.parse(fs.readFileSync(path.join(victim, 'reproduce.json'), 'utf8'));
    expect(prov.sessions.map((s: { status: string }) => s.status)).toEqual(['interrupted', 'finished']);
    expect(prov.sessions[1].fromStep).toBe(saved.step);
    expect(prov.sessions[0].data.files).toBe(60_000);

    // The resumed cell equals an uninterrupted run of the same cell (ictorch resumes exactly on the CPU).
    const ref = tmp('ref');
    const single = await run(...grid.map((a) => (a === 'synthetic,cifar10' ? 'cifar10' : a === 'baseline,relu-ic-conv' ? 'baseline' : a)), '--out', ref);
    expect(single.status, single.stderr).toBe(0);
    expect(figures(victim)).toEqual(figures(path.join(ref, ids[2])));
    const wa = weightsOf(path.join(ref, ids[2], 'checkpoint.ckpt'));
    const wb = weightsOf(path.join(victim, 'checkpoint.ckpt'));
    expect([...wb.keys()]).toEqual([...wa.keys()]);
    for (const [k, v] of wa) expect(wb.get(k), k).toEqual(v);

    // The report: every cell, the published table, the short-schedule warning, provenance; CSVs and plots.
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const id of ids) expect(md).toContain(`| ${id} | done | 1/1 |`);
    for (const r of torch.reproduce.PUBLISHED_CIFAR.filter((p) => p.model === 'resnet')) {
      expect(md).toContain(`| ResNet | ${r.depth} | ${r.unit} | ${(100 * r.cifar10).toFixed(2)} | ${(100 * r.cifar100).toFixed(2)} |`);
    }
    expect(md).toMatch(/\*\*Short schedule: read the comparison with care\.\*\* These cells train for 1 epoch\(s\), not the paper's 164/);
    expect(md).toMatch(/commit [0-9a-f]{40}|not a git checkout/);
    expect(md).toMatch(/LibTorch \d+\.\d+/);
    expect(md).toContain(`imagefolder:${path.join(root, 'cifar10-jpg')}`);
    expect(md).toMatch(/60,000 files, [\d.]+ MiB, list sha256 [0-9a-f]{16}/);
    expect(md).toContain('"lr": 0.1');
    expect(md).toMatch(/No cell of this grid has a published counterpart/);
    expect(md).toContain('![CIFAR-10, ResNet-8: 2 cell(s)](curves-cifar10-resnet-8.svg)');
    const acc = summary.cells.find((c: { id: string }) => c.id === ids[3]).testAcc;
    expect(md).toContain(`| ${ids[3]} | done | 1/1 | ${(100 * acc).toFixed(2)} |`);
    const csv = fs.readFileSync(path.join(out, 'report.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^table,dataset,model,depth,layout,unit,seeds_done,seeds_planned,epochs,acc_mean,acc_std/);
    expect(csv).toHaveLength(5);
    expect(fs.readFileSync(path.join(out, 'cells.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
    for (const f of ['curves-synthetic-resnet-8.svg', 'curves-cifar10-resnet-8.svg', 'curves-cifar10-resnet-8.png']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    const svg = fs.readFileSync(path.join(out, 'curves-cifar10-resnet-8.svg'), 'utf8');
    expect(svg).toMatch(/data-series="baseline"/);
    expect(svg).toMatch(/data-series="relu-ic-conv"/);

    // A finished grid asked again with another recipe is refused: nothing is retrained or overwritten.
    const other = await run(...grid, '--lr', '0.05', '--out', out);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/^ictorch: reproduce: cell synthetic-resnet-8-baseline-seed0: .* holds a run with another config \(lr 0\.1 there, 0\.05 asked\)/);
    expect(ids.slice(0, 2).map((id) => snapshot(path.join(out, id)))).toEqual(before);
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(ref, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }, 300_000);

  it('trains CIFAR-100 from the binary layout (train.bin/test.bin) with 100 classes and compares with the CIFAR-100 figures', async () => {
    const root = tmp('c100');
    const dir = path.join(root, 'cifar-100-binary');
    fs.mkdirSync(dir);
    writeCifar100(path.join(dir, 'train.bin'), 3, 1);
    writeCifar100(path.join(dir, 'test.bin'), 1, 2);
    const out = path.join(root, 'out');
    const r = await run('--datasets', 'cifar100', '--models', 'resnet', '--depths', '8', '--layouts', 'conv-relu-ic', '--epochs', '1', '--batch-size', '50', '--data-root', root, '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`data cifar100:${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 300 training and 100 test images, 100 classes`));
    const s = lastJson(r.stdout);
    expect(s.cells).toHaveLength(1);
    expect(s.cells[0]).toMatchObject({ id: 'cifar100-resnet-8-conv-relu-ic-seed0', status: 'done', epoch: 1 });
    const ck = torch.loadCheckpoint(path.join(out, s.cells[0].id, 'checkpoint.ckpt'));
    torch.disposeCheckpoint(ck);
    expect(ck.model).toEqual({ name: 'resnet', args: { depth: 8, layout: 'conv-relu-ic', dropRate: 0.05, width: 1, classes: 100 } });
    expect(ck.config.data).toBe(`cifar100:${dir}`);
    expect(ck.config).toMatchObject({ batchSize: 50, lr: 0.1, momentum: 0.9, weightDecay: 1e-4, schedule: 'step', epochs: 1 });
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('| CIFAR-100 | ResNet | 8 | 2×{Conv2D-ReLU-IC} | 1/1 | 1 |');
    expect(md).toContain('| ResNet | 110 | 2×{Conv2D-ReLU-IC} | 94.08 | 71.74 |');
    expect(md).toContain('CIFAR-100 binary release');
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('--dry-run prints every cell of the paper\'s table with its published figure, and nothing is trained', async () => {
    const root = tmp('dry');
    fs.mkdirSync(path.join(root, 'cifar-100-binary'));
    writeCifar100(path.join(root, 'cifar-100-binary', 'train.bin'), 1, 1);
    writeCifar100(path.join(root, 'cifar-100-binary', 'test.bin'), 1, 2);
    const out = path.join(root, 'out');
    const r = await run('--dry-run', '--data-root', root, '--out', out, '--estimate-steps', '0', '--json');
    expect(r.status, r.stderr).toBe(0);
    const plan = lastJson(r.stdout);
    expect(plan.dryRun).toBe(true);
    expect(plan.cells).toHaveLength(32);
    for (const p of torch.reproduce.PUBLISHED_CIFAR) {
      for (const ds of ['cifar10', 'cifar100'] as const) {
        const c = plan.cells.find((x: { id: string }) => x.id === `${ds}-${p.model}-${p.depth}-${p.layout}-seed0`);
        expect(c, `${ds} ${p.model} ${p.depth} ${p.layout}`).toBeDefined();
        expect(c.published[ds]).toBe(p[ds]);
        expect(c.status).toBe('pending');
        expect(c.config).toMatchObject({ epochs: 164, batchSize: 128, lr: 0.1, momentum: 0.9, weightDecay: 1e-4, schedule: 'step' });
        expect(c.config.model.args.classes).toBe(ds === 'cifar10' ? 10 : 100);
        expect(r.stdout).toMatch(new RegExp(`${c.id} +pending +${(100 * p[ds]).toFixed(2)}`));
      }
    }
    // The data found and missing are both named; no run directory is made.
    expect(r.stdout).toMatch(/^data cifar10: MISSING \(.*cifar-10-batches-bin: does not exist/m);
    expect(r.stdout).toContain(`data cifar100: cifar100:${path.join(root, 'cifar-100-binary')} (CIFAR-100 binary release)`);
    expect(fs.existsSync(out)).toBe(false);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('--dry-run estimates the time from a few measured steps of each network', async () => {
    const out = tmp('est');
    const r = await run('--dry-run', '--datasets', 'synthetic', '--models', 'resnet,resnet-b', '--depths', '20', '--layouts', 'baseline,relu-ic-conv', '--epochs', '2', '--batch-size', '16', '--estimate-steps', '1', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    const plan = lastJson(r.stdout);
    expect(plan.estimate.throughputs.map((t: { key: string }) => t.key).sort()).toEqual([
      'resnet-20 baseline (10 classes)', 'resnet-20 relu-ic-conv (10 classes)', 'resnet-b-20 baseline (10 classes)', 'resnet-b-20 relu-ic-conv (10 classes)',
    ]);
    for (const c of plan.cells) expect(c.estimateSeconds).toBeGreaterThan(0);
    expect(plan.estimate.seconds).toBeCloseTo(plan.cells.reduce((a: number, c: { estimateSeconds: number }) => a + c.estimateSeconds, 0), 6);
    expect(r.stdout).toMatch(/^estimated time: .+ for the 4 cell\(s\) left$/m);
    expect(r.stdout).toMatch(/^assumption: time per image measured on cpu over 1 training step/m);
    expect(fs.readdirSync(out)).toEqual([]);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('--table imagenet plans ResNet-18/50, baseline vs IC, on an ILSVRC2012 tree with the ImageNet recipe', async () => {
    const root = tmp('imagenet');
    for (const d of ['train/n01440764', 'val/n01440764']) fs.mkdirSync(path.join(root, 'imagenet', d), { recursive: true });
    const out = path.join(root, 'out');
    const r = await run('--table', 'imagenet', '--data-root', root, '--out', out, '--dry-run', '--estimate-steps', '0', '--json');
    expect(r.status, r.stderr).toBe(0);
    const plan = lastJson(r.stdout);
    expect(plan.cells.map((c: { id: string }) => c.id)).toEqual([
      'imagenet-resnet18-baseline-seed0', 'imagenet-resnet18-relu-ic-conv-seed0', 'imagenet-resnet50-baseline-seed0', 'imagenet-resnet50-relu-ic-conv-seed0',
    ]);
    for (const c of plan.cells) {
      expect(c.config).toMatchObject({ data: `imagenet:${path.join(root, 'imagenet')}`, epochs: 90, batchSize: 256, lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
      expect(c.config.model).toEqual({ name: c.model, args: { layout: c.layout, dropRate: c.layout === 'baseline' ? 0 : 0.05, classes: 1000 } });
      expect(c.published).toBeNull();
    }
    expect(plan.cells.map((c: { depth: number }) => c.depth)).toEqual([18, 18, 50, 50]);

    // Training needs the `imagenet:` data spec in loadData; where this tree has none yet, the run is a clear usage error.
    let supported = true;
    try {
      torch.parseDataSpec(`imagenet:${path.join(root, 'imagenet')}`);
    } catch (e) {
      expect((e as Error).message).toMatch(/unknown scheme "imagenet"/);
      supported = false;
    }
    if (!supported) {
      const t = await run('--table', 'imagenet', '--models', 'resnet18', '--layouts', 'baseline', '--epochs', '1', '--data-root', root, '--out', out);
      expect(t.status).toBe(2);
      expect(t.stderr.trim().split('\n').pop()).toMatch(/^ictorch: loadData: unknown scheme "imagenet"/);
    } else {
      console.log('imagenet: loadData knows the spec; training the ImageNet table needs a real ILSVRC2012 tree and is not run here');
    }
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('unknown options and bad values are one-line usage errors (exit 2) that leave nothing behind', async () => {
    const out = path.join(tmp('bad'), 'out');
    const cases = [
      ['--nope'], ['--table', 'mnist'], ['--layouts', 'sideways'], ['--models', 'resnet', '--depths', '21'], ['--models', 'resnet-b', '--depths', '8'],
      ['--seeds', '0'], ['--epochs', 'many'], ['--epochs', '0'], ['--datasets', 'cifar10,'], ['--datasets', 'imagenet'], ['--table', 'imagenet', '--depths', '18'],
      ['--table', 'imagenet', '--models', 'resnet'], ['positional'], ['--drop-rate', '1.5'], ['--device', 'tpu'], ['--estimate-steps', '-1'], ['--warmup-epochs', '-2'],
      ['--datasets', 'cifar10', '--models', 'resnet', '--depths', '8', '--layouts', 'baseline'], // no --data-root: CIFAR-10 not found
    ];
    for (const args of cases) {
      const r = await run(...args, '--out', out);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ictorch: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(out), `${args.join(' ')} left ${out} behind`).toBe(false);
    }
    expect([...torch.reproduce.PAPER_LAYOUTS].sort()).toEqual([...torch.LAYOUTS].sort());
    expect((await run('--layouts', 'sideways')).stderr).toMatch(/--layouts: "sideways" is not one of relu-ic-conv, ic-conv-relu, conv-relu-ic, baseline/);
    expect((await run('--models', 'resnet-b', '--depths', '8')).stderr).toMatch(/resnet-b depth 8 is not of the form 9n\+2/);
    expect((await run('--datasets', 'cifar10', '--depths', '8', '--models', 'resnet')).stderr).toMatch(/cifar10 not found: no --data-root given/);
  });
});
