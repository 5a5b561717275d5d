#!/usr/bin/env node
// bench/ddp-cpu.js: one ictorch run of the data-parallel CPU benchmark (bench/ddp-cpu.sh pairs it with
// bench/ddp-cpu.py). ResNet-20 (CIFAR) in one layout, a global batch of BENCH_BATCH random 3x32x32 images per
// step, SGD Nesterov 0.9, lr 0.1, weight decay 1e-4 on weights only, BENCH_STEPS timed steps after
// BENCH_WARMUP. Alone (no RANK in the environment): one process, the whole batch. Started by `launch` (as
// bench/ddp-cpu.sh does with BENCH_NPROC=2): each process trains on its share, gradients averaged over Gloo.
// Rank 0 prints one JSON line: step milliseconds (median), images/s and the largest peak RSS of the processes.
//
//   node bench/ddp-cpu.js <baseline|relu-ic-conv>                    one process
//   BENCH_NPROC=2 node bench/ddp-cpu.js <baseline|relu-ic-conv>      two processes (this script launches them)
'use strict';
const torch = require('../dist');
const { intEnv: int, median } = require('./common');
const dist = torch.distributed;

const layout = process.argv[2] ?? 'baseline';
const STEPS = int('BENCH_STEPS', 20);
const WARMUP = int('BENCH_WARMUP', 3);
const BATCH = int('BENCH_BATCH', 128);
const DEPTH = int('BENCH_DEPTH', 20);
const NPROC = int('BENCH_NPROC', 1);
if (!['baseline', 'relu-ic-conv'].includes(layout)) throw new Error(`layout must be baseline or relu-ic-conv, got ${layout}`);

async function main() {
  const launched = process.env.RANK !== undefined;
  if (!launched && NPROC > 1) {
    const r = await dist.launch({ script: __filename, args: process.argv.slice(2), nprocPerNode: NPROC });
    process.exit(r.exitCode);
  }
  const group = launched ? await dist.initProcessGroup({ backend: 'gloo' }) : null;
  const world = group ? group.size() : 1;
  const rank = group ? group.rank() : 0;
  if (BATCH % world) throw new Error(`BENCH_BATCH ${BATCH} is not a multiple of ${world} processes`);
  torch.manualSeed(0);
  const model = torch.resnetCifar({ depth: DEPTH, layout });
  model.train();
  const opt = new torch.SGD(torch.paramGroups(model), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const trainer = new torch.Trainer(model, opt, { device: 'cpu', processGroup: group });
  torch.manualSeed(1 + rank);
  const x = torch.randn([BATCH / world, 3, 32, 32]);
  const y = torch.randint(0, 10, [BATCH / world]);
  const step = () => torch.tidy(async () => {
    await trainer.step(x, y);
  });
  for (let i = 0; i < WARMUP; i++) await step();
  const ms = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    await step();
    ms.push(performance.now() - t0);
  }
  const rss = torch.tensor([process.resourceUsage().maxRSS / 1024], { dtype: 'float64' });
  if (group) await dist.allReduce(rss, 'max');
  const stepMs = median(ms);
  if (rank === 0) {
    process.stdout.write(`${JSON.stringify({ layout, nproc: world, threads: torch.getNumThreads(), stepMs, imagesPerSec: (1000 * BATCH) / stepMs, peakRssMiB: Math.round(rss.item()) })}\n`);
  }
  trainer.dispose();
  if (group) dist.destroyProcessGroup();
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
