// Data-parallel training across processes (lib/distributed, native/distributed.cc): process groups over Gloo,
// the collectives, the Trainer's gradient averaging, `fit` over a group and the `--nproc-per-node` launcher.
// Every test starts real processes on this machine (rendezvous on a free local port).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { run, runNode } from './helpers/run';
import { launch } from '../lib/distributed/launch';
import { hasTorch, PYTHON } from './helpers/torchpy';
import { expectMatchesOneProcess, scenario as runScenario } from './helpers/distributed';

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-dist-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const available = torch.distributed.isGlooAvailable();
const scenario = (name: string, n: number, env: NodeJS.ProcessEnv = {}) => runScenario(name, n, tmp, env);

describe.runIf(available)('process groups and collectives (3 processes)', () => {
  it('all-reduce (sum, avg, min, max, product), lists of mixed tensors, broadcast, all-gather, barrier, JS objects, and clear errors', async () => {
    const { result, reports, output, out } = await scenario('collectives', 3);
    expect(result.exitCode, output).toBe(0);
    expect(fs.existsSync(path.join(out, 'never'))).toBe(false); // the refused fit made no run directory
    reports.forEach((r, rank) => {
      expect(r.rank).toBe(rank);
      expect(r.worldSize).toBe(3);
      expect(r.env).toEqual({ LOCAL_RANK: String(rank), LOCAL_WORLD_SIZE: '3' });
      expect(r.sum).toEqual([6, 60]); // (1 + 2 + 3), 10 × that
      expect(r.avg).toEqual([1, 2]);
      expect(r.max).toEqual([2, 0]);
      expect(r.min).toEqual([1]);
      expect(r.product).toEqual([24]); // 2 × 3 × 4
      // arange(6) + rank summed over ranks 0..2, through a transposed view of it; an int32 and an empty tensor between.
      expect(r.list).toEqual({ base: [[3, 6, 9], [12, 15, 18]], ints: [3, 3], f: [3, 3, 3, 3], empty: [0] });
      expect(r.broadcast).toEqual([[107, 1], [1]]); // rank 1's
      expect(r.allGather).toEqual([[0, 0], [1, 2], [2, 4]]);
      expect(r.errors.avgInt).toEqual(['TypeError', expect.stringMatching(/avg.*floating-point.*int64/)]);
      expect(r.errors.badOp).toEqual(['TypeError', expect.stringMatching(/op.*"mean"/)]);
      expect(r.errors.badSrc).toEqual(['RangeError', expect.stringMatching(/src must be a rank in \[0, 3\), got 7/)]);
      expect(r.errors.notTensor).toEqual(['TypeError', expect.stringMatching(/tensor\[1\]/)]);
      expect(r.errors.twice).toEqual(['Error', expect.stringMatching(/already initialised/)]);
      expect(r.errors.fitBatch).toEqual(['RangeError', expect.stringMatching(/multiple of the 3 processes.*batchSize.*32/)]);
      expect(r.errors.concurrent).toEqual(['Error', expect.stringMatching(/process group is in use by allReduce in flight/)]);
      const differ = /^(allReduce|broadcast|barrier|allGather): the processes of the group made different calls/;
      for (const k of ['shape', 'dtype', 'op', 'src', 'gather']) expect(r.mismatch[k], k).toEqual(['RangeError', expect.stringMatching(differ)]);
      expect(r.mismatch.after).toEqual([3]);
      expect(r.mismatch.trainer).toEqual(['RangeError', expect.stringMatching(/^broadcast: the processes of the group made different calls/)]);
      expect(r.objects.broadcast).toEqual([1, [1, 2], 'two', [1.5, -2], true]);
      expect(r.objects.gather).toEqual([[0, 0], [1, 5000], [2, 10000]]);
      expect(r.objects.errors.length).toEqual(['RangeError', expect.stringMatching(/same length on every process.*from 1 to 3/)]);
      // The process whose value cannot be sent names it; the others name that process.
      expect(r.objects.errors.unsendable).toEqual(['TypeError', rank === 2 ? expect.stringMatching(/^allGatherObject: expected plain data .* for obj/) : expect.stringMatching(/^allGatherObject: rank 2's value cannot be sent/)]);
      expect(r.objects.errors.unsendableSrc).toEqual(['TypeError', rank === 0 ? expect.stringMatching(/^broadcastObjectList: expected plain data .* for objectList/) : expect.stringMatching(/^broadcastObjectList: rank 0's value cannot be sent/)]);
      expect(r.objects.errors.notArray).toEqual(['TypeError', expect.stringMatching(/expected an array for objectList/)]);
      expect(r.objects.errors.badSrc).toEqual(['RangeError', expect.stringMatching(/rank of the group, in \[0, 3\) for src but received 3/)]);
      expect(r.objects.after).toEqual(['ok']);
      expect(r.mismatch.optimizer).toEqual(['RangeError', expect.stringMatching(/^trainStep: the processes of the group made different calls/)]);
    });
  });

  it('a collective whose peer has died fails with an error instead of hanging; the launcher reports the failure', async () => {
    const { result, reports } = await scenario('peerDies', 2, { TEST_PG_TIMEOUT_MS: '20000' });
    expect(result.exitCode).toBe(3); // rank 1's exit code
    expect(result.ranks[1]).toEqual({ rank: 1, code: 3, signal: null });
    expect(reports[0].err[0]).toBe('Error');
    expect(reports[0].err[1]).toMatch(/^allReduce: /);
    expect(reports[0].ms).toBeLessThan(20_000);
  });
});

describe.runIf(available)('data-parallel training steps', () => {
  it('two processes on halves of each batch train exactly as one process on the whole batches (native and JS forwards)', async () => {
    const { result, reports, output } = await scenario('dataParallel', 2);
    expect(result.exitCode, output).toBe(0);
    await expectMatchesOneProcess(reports, 5e-6); // float32 sums in another order
  });
});

// PyTorch's DistributedDataParallel over Gloo, two processes, from the files the ictorch run wrote.
const DDP_PY = `
import os, sys, torch, torch.distributed as dist
sys.path.insert(0, os.environ['ICTORCH_PY'])
from ictorch_models import resnet_cifar
out = os.environ['OUT']
dist.init_process_group('gloo')
rank = dist.get_rank()
model = resnet_cifar(8, layout='baseline', classes=5)
model.load_state_dict(torch.load(os.path.join(out, 'init.pt')), strict=True)
ddp = torch.nn.parallel.DistributedDataParallel(model)
opt = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
b = torch.load(os.path.join(out, 'batches.pt'))
for k in range(3):
    x, y = b[2 * k][rank::2], b[2 * k + 1][rank::2]
    opt.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(ddp(x), y).backward()
    opt.step()
if rank == 0:
    torch.save(model.state_dict(), os.path.join(out, 'pytorch0.pt'))
dist.destroy_process_group()
`;

describe.runIf(available)('fit over a group: random draws', () => {
  it('each process draws its own numbers at each step (independent dropout masks), the same again in a second run', async () => {
    const first = await scenario('fitDraws', 2);
    expect(first.result.exitCode, first.output).toBe(0);
    const [r0, r1] = first.reports.map((r) => r.draws as number[][]);
    expect(r0).toHaveLength(4); // 64 images, 16 per step
    expect(r1).toHaveLength(4);
    r0.forEach((d, step) => expect(d, `step ${step}`).not.toEqual(r1[step]));
    expect(new Set(r0.map((d) => d.join())).size).toBe(4); // and from step to step
    const second = await scenario('fitDraws', 2);
    expect(second.result.exitCode, second.output).toBe(0);
    expect(second.reports.map((r) => r.draws)).toEqual([r0, r1]);
  });
});

describe.runIf(available && hasTorch)('data parallel against PyTorch (needs python3 with torch)', () => {
  it("a BatchNorm ResNet trained on two processes matches PyTorch's DistributedDataParallel on the same weights and batches", async () => {
    const { result, output, out } = await scenario('resnetBatchNorm', 2);
    expect(result.exitCode, output).toBe(0);
    const port = await torch.distributed.freePort();
    const env = { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), WORLD_SIZE: '2', OUT: out, ICTORCH_PY: path.join(__dirname, '..', 'python'), OMP_NUM_THREADS: '1' };
    const ranks = await Promise.all([0, 1].map((r) => run(PYTHON, ['-c', DDP_PY], { env: { ...env, RANK: String(r) }, timeout: 180_000 })));
    ranks.forEach((r, i) => expect(r.status, `python rank ${i}: ${r.stderr}`).toBe(0));
    torch.tidy(() => {
      const ours = torch.loadStateDict(path.join(out, 'final0.pt'));
      const theirs = torch.loadStateDict(path.join(out, 'pytorch0.pt'));
      const init = torch.loadStateDict(path.join(out, 'init.pt'));
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
      let moved = 0;
      for (const [k, t] of Object.entries(theirs)) {
        const a = Array.from(ours[k].toArray() as ArrayLike<number | bigint>, Number);
        const b = Array.from(t.toArray() as ArrayLike<number | bigint>, Number);
        const a0 = Array.from(init[k].toArray() as ArrayLike<number | bigint>, Number);
        // Weights, and rank 0's BatchNorm running statistics (DDP copies rank 0's buffers to the others).
        b.forEach((v, i) => {
          expect(Math.abs(a[i] - v), `${k}[${i}]`).toBeLessThan(1e-5 + 1e-4 * Math.abs(v));
          moved = Math.max(moved, Math.abs(v - a0[i]));
        });
      }
      expect(moved).toBeGreaterThan(1e-2);
    });
    // Rank 1's weights are rank 0's.
    torch.tidy(() => {
      const w0 = torch.loadStateDict(path.join(out, 'final0.pt'));
      const w1 = torch.loadStateDict(path.join(out, 'final1.pt'));
      for (const k of Object.keys(w0)) if (!k.includes("running") && !k.includes("num_batches")) expect(Array.from(w1[k].toArray() as Float32Array), k).toEqual(Array.from(w0[k].toArray() as Float32Array));
    });
  }, 300_000);
});

describe.runIf(available)('ictorch train --nproc-per-node', () => {
  const trainArgs = (out: string) => ['train', '--nproc-per-node', '2', '--epochs', '2', '--train-size', '256', '--test-size', '100', '--batch-size', '32', '--depth', '8', '--log-every', '4', '--out', out, '--json'];

  it('trains with two processes: rank 0 alone logs and writes the run; its checkpoint resumes in one process', async () => {
    const out = path.join(tmp, 'cli-run');
    const r = await runNode([cli, ...trainArgs(out)], { timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/data parallel over 2 processes \(gloo\), 16 images each per step/);
    expect(r.stderr).not.toMatch(/\[rank 1\]/); // the other process is silent
    expect(r.stderr.match(/^epoch 2\/2 .*test loss/gm)?.length).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]);
    expect(summary.epochs).toBe(2);
    const metrics = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const epochs = metrics.filter((m) => m.kind === 'epoch');
    expect(epochs.map((m) => m.step)).toEqual([8, 16]); // 256 images / 32 per step (16 on each process)
    expect(epochs[1].testAcc).toBe(summary.testAcc);
    expect(epochs[1].trainLoss).toBeLessThan(epochs[0].trainLoss);
    // Step records every 4 steps, from the group's totals; the one at an epoch's end equals the epoch's.
    const steps = metrics.filter((m) => m.kind === 'step');
    expect(steps.map((m) => m.step)).toEqual([4, 8, 12, 16]);
    for (const m of steps) expect(m.trainAcc).toBeLessThanOrEqual(1);
    expect(steps[1].trainLoss).toBeCloseTo(epochs[0].trainLoss, 12);
    expect(steps[3].trainAcc).toBeCloseTo(epochs[1].trainAcc, 12);
    for (const f of ['checkpoint.ckpt', 'model.pt', 'curves.svg']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    // The sampler position is the group's: one process continues the run where the two stopped.
    const more = await runNode([cli, 'train', '--resume', path.join(out, 'checkpoint.ckpt'), '--epochs', '3', '--out', path.join(tmp, 'cli-resumed'), '--json'], { timeout: 300_000 });
    expect(more.status, more.stderr).toBe(0);
    expect(JSON.parse(more.stdout.trim()).epochs).toBe(3);
  });

  it('Ctrl-C stops both processes at one step; resuming ends with the weights of an uninterrupted run', async () => {
    const args = (out: string) => ['train', '--nproc-per-node', '2', '--epochs', '2', '--train-size', '2048', '--test-size', '64', '--batch-size', '32', '--depth', '8', '--seed', '5', '--out', out];
    const whole = path.join(tmp, 'whole');
    const a = await runNode([cli, ...args(whole)], { timeout: 300_000 });
    expect(a.status, a.stderr).toBe(0);
    // The same run, interrupted in its first epoch (SIGINT to the launcher, as Ctrl-C in a terminal).
    const cut = path.join(tmp, 'cut');
    const { spawn } = await import('child_process');
    const p = spawn(process.execPath, [cli, ...args(cut)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let sent = false;
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (!sent && /epoch 1\/2 .*%/.test(err)) {
        sent = true;
        p.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c)));
    expect(code, err).toBe(130);
    expect(err).toMatch(/stopped at step (\d+)/);
    const ck = torch.loadCheckpoint(path.join(cut, 'checkpoint.ckpt'));
    const stoppedAt = ck.step;
    torch.disposeCheckpoint(ck);
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(64); // in the first epoch (64 steps), so mid-epoch: the epoch's totals were saved too
    const b = await runNode([cli, 'train', '--nproc-per-node', '2', '--resume', path.join(cut, 'checkpoint.ckpt')], { timeout: 300_000 });
    expect(b.status, b.stderr).toBe(0);
    torch.tidy(() => {
      const w = torch.loadStateDict(path.join(whole, 'model.pt'));
      const r = torch.loadStateDict(path.join(cut, 'model.pt'));
      for (const k of Object.keys(w)) expect(Array.from(r[k].toArray() as ArrayLike<number | bigint>, Number), k).toEqual(Array.from(w[k].toArray() as ArrayLike<number | bigint>, Number));
    });
  }, 600_000);

  it('two "machines" (two launchers, --nnodes 2 with their own --node-rank) form one group of four processes', async () => {
    const port = await torch.distributed.freePort();
    const out = path.join(tmp, 'two-nodes');
    const node = (rank: number) =>
      runNode([cli, 'train', '--nproc-per-node', '2', '--nnodes', '2', '--node-rank', String(rank), '--master-addr', '127.0.0.1', '--master-port', String(port),
        '--epochs', '1', '--train-size', '256', '--test-size', '64', '--batch-size', '32', '--depth', '8', '--out', out, '--json'], { timeout: 300_000 });
    const [a, b] = await Promise.all([node(0), node(1)]);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    expect(a.stderr).toMatch(/data parallel over 4 processes \(gloo\), 8 images each per step/);
    expect(JSON.parse(a.stdout.trim()).epochs).toBe(1); // rank 0 is on the first machine
    expect(b.stdout.trim()).toBe(''); // the second machine's processes (ranks 2 and 3) are silent
  });

  it('bad launcher flags are usage errors (exit code 2)', async () => {
    for (const args of [['--nnodes', '2'], ['--nproc-per-node', '0'], ['--nproc-per-node', '2', '--nnodes', '2'], ['--nproc-per-node', '2', '--node-rank', '1']]) {
      const r = await runNode([cli, 'train', ...args], { timeout: 60_000 });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^ictorch: --/);
    }
  });
});

describe.runIf(available)('ictorch reproduce --nproc-per-node', () => {
  // Two synthetic cells; the second is interrupted, then the grid is run again.
  const grid = (out: string, layouts = 'baseline,relu-ic-conv') => [
    'reproduce', '--nproc-per-node', '2', '--datasets', 'synthetic', '--models', 'resnet', '--depths', '8', '--layouts', layouts, '--epochs', '2',
    '--train-size', '1024', '--test-size', '64', '--batch-size', '32', '--log-every', '1', '--out', out,
  ];
  const ids = ['synthetic-resnet-8-baseline-seed0', 'synthetic-resnet-8-relu-ic-conv-seed0'];
  const weights = (file: string) =>
    torch.tidy(() => Object.fromEntries(Object.entries(torch.loadStateDict(file)).map(([k, t]) => [k, Array.from(t.toArray() as ArrayLike<number | bigint>, Number)])));

  it('trains every cell over two processes; Ctrl-C stops the grid, and running it again skips the done cell and resumes exactly', async () => {
    const out = path.join(tmp, 'grid');
    const victim = path.join(out, ids[1]);
    const { spawn } = await import('child_process');
    const p = spawn(process.execPath, [cli, ...grid(out)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let stdout = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setInterval(() => fs.existsSync(path.join(victim, 'metrics.jsonl')) && (clearInterval(timer), p.kill('SIGINT')), 5);
    const code = await new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c)));
    clearInterval(timer);
    expect(code, err).toBe(130);
    expect(err).toMatch(/data parallel over 2 processes \(gloo\), 16 images each per step/);
    expect(err).not.toMatch(/\[rank 1\]/); // the other process is silent
    expect(err).toMatch(/\[1\/2\] synthetic-resnet-8-baseline-seed0: finished/);
    expect(err).toMatch(/synthetic-resnet-8-relu-ic-conv-seed0: stopped at step \d+/);
    expect(stdout.trim().split('\n')).toHaveLength(2); // rank 0's two group lines only
    const before = fs.readdirSync(path.join(out, ids[0])).map((f) => [f, fs.statSync(path.join(out, ids[0], f)).mtimeMs]);

    const again = await runNode([cli, ...grid(out), '--json'], { timeout: 300_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/\[1\/2\] synthetic-resnet-8-baseline-seed0: done .* skipped/);
    expect(again.stderr).toMatch(/\[2\/2\] synthetic-resnet-8-relu-ic-conv-seed0: resumes in epoch \d \(step \d+\) of 2/);
    expect(fs.readdirSync(path.join(out, ids[0])).map((f) => [f, fs.statSync(path.join(out, ids[0], f)).mtimeMs])).toEqual(before);
    const lines = again.stdout.trim().split('\n');
    expect(lines).toHaveLength(3); // printed once, by rank 0
    const summary = JSON.parse(lines[2]);
    expect(summary.complete).toBe(true);
    expect(summary.trained).toEqual([ids[1]]);
    const prov = JSON.parse(fs.readFileSync(path.join(victim, 'reproduce.json'), 'utf8'));
    expect(prov.sessions.map((x: { status: string; processes: number }) => [x.status, x.processes])).toEqual([['interrupted', 2], ['finished', 2]]);
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(new RegExp(`\\| ${ids[1]} \\| done .*epochs 0→\\d on 2 processes, interrupted.*on 2 processes, finished`));

    // The interrupted and resumed cell ends with the weights of the same cell trained without a stop.
    const ref = path.join(tmp, 'grid-ref');
    const whole = await runNode([cli, ...grid(ref, 'relu-ic-conv')], { timeout: 300_000 });
    expect(whole.status, whole.stderr).toBe(0);
    expect(weights(path.join(victim, 'model.pt'))).toEqual(weights(path.join(ref, ids[1], 'model.pt')));
  }, 600_000);

  it('a batch that does not share out, and --dry-run, are usage errors that leave nothing behind', async () => {
    const out = path.join(tmp, 'grid-bad');
    const odd = await runNode([cli, ...grid(out).map((a) => (a === '32' ? '33' : a))], { timeout: 120_000 });
    expect(odd.status, odd.stderr).toBe(2);
    expect(odd.stderr).toMatch(/^ictorch: reproduce: expected a multiple of the 2 processes .* for the batchSize of cell synthetic-resnet-8-baseline-seed0 but received 33/);
    expect(odd.stderr.trim().split('\n')).toHaveLength(1); // told before any process starts
    const dry = await runNode([cli, ...grid(out), '--dry-run'], { timeout: 60_000 });
    expect(dry.status, dry.stderr).toBe(2);
    expect(dry.stderr).toMatch(/^ictorch: --dry-run .* without --nproc-per-node/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('launch', () => {
  it('an aborted signal stops the processes: SIGTERM, then SIGKILL for one that ignores it', async () => {
    const script = path.join(tmp, 'wait.js');
    fs.writeFileSync(script, "if (process.env.RANK === '1') process.on('SIGTERM', () => {});\nsetInterval(() => {}, 1000);\nconsole.log('up');\n");
    const stop = new AbortController();
    let up = 0;
    const sink = { write: (s: string) => ((up += s.split('up').length - 1) === 2 && stop.abort(), true) } as unknown as NodeJS.WritableStream;
    const r = await launch({ script, nprocPerNode: 2, signal: stop.signal, graceMs: 300, stdout: sink, stderr: sink, forwardSignals: false });
    expect(r.ranks).toEqual([{ rank: 0, code: null, signal: 'SIGTERM' }, { rank: 1, code: null, signal: 'SIGKILL' }]);
    expect(r.exitCode).toBe(143);
    await expect(launch({ script, nprocPerNode: 1, signal: 5 as never })).rejects.toThrow(/an AbortSignal for signal/);
  });
});

describe('process-group errors in one process', () => {
  it('initProcessGroup names what is missing or wrong; collectives need a group', async () => {
    const env = { ...process.env };
    try {
      delete process.env.MASTER_ADDR;
      await expect(torch.distributed.initProcessGroup({ rank: 0, worldSize: 2 })).rejects.toThrow(available ? /MASTER_ADDR/ : /no Gloo backend/);
      if (available) {
        process.env.MASTER_ADDR = '127.0.0.1';
        process.env.MASTER_PORT = '29999';
        delete process.env.WORLD_SIZE;
        await expect(torch.distributed.initProcessGroup({ rank: 0 })).rejects.toThrow(/WORLD_SIZE/);
        await expect(torch.distributed.initProcessGroup({ initMethod: 'udp://x:1', rank: 0, worldSize: 1 })).rejects.toThrow(TypeError);
        await expect(torch.distributed.initProcessGroup({ initMethod: 'tcp://127.0.0.1:29999', rank: 2, worldSize: 2 })).rejects.toThrow(RangeError);
        await expect(torch.distributed.initProcessGroup({ initMethod: 'tcp://127.0.0.1:29999', rank: 0, worldSize: 1, retries: 3 } as never)).rejects.toThrow(/retries/);
      }
    } finally {
      process.env = env;
    }
    expect(torch.distributed.isInitialized()).toBe(false);
    await expect(torch.distributed.allReduce(torch.tensor([1]))).rejects.toThrow(/not initialised; call initProcessGroup/);
    expect(() => torch.distributed.getRank()).toThrow(/not initialised/);
  });

  it('a group of one process: collectives are the identity, and a Trainer or fit over it trains as alone', async () => {
    if (!available) return;
    const port = await torch.distributed.freePort();
    const g = await torch.distributed.initProcessGroup({ initMethod: `tcp://127.0.0.1:${port}`, rank: 0, worldSize: 1, timeout: 20_000 });
    try {
      expect([torch.distributed.getRank(), torch.distributed.getWorldSize(), g.backend()]).toEqual([0, 1, 'gloo']);
      const t = torch.tensor([1.5, 2]);
      await torch.distributed.allReduce(t, 'avg');
      expect(Array.from(t.toArray() as Float32Array)).toEqual([1.5, 2]);
      const r = await torch.fit({ model: { name: 'resnet', args: { depth: 8 } }, data: 'synthetic', syntheticTrainSize: 64, syntheticTestSize: 16, batchSize: 32, epochs: 1, outDir: path.join(tmp, 'one') });
      expect(r.history).toHaveLength(1);
    } finally {
      torch.distributed.destroyProcessGroup();
    }
    expect(() => new torch.Trainer(new torch.nn.Linear(2, 2), new torch.optim.SGD(new torch.nn.Linear(2, 2).parameters(), { lr: 0.1 }), { processGroup: g })).toThrow(/processGroup/);
  });
});
