#!/usr/bin/env node
// bench/cpu-memory.js: one ictorch process of the paired CPU benchmark (bench/cpu-memory.sh runs it alternately
// with bench/cpu-memory.py). ResNet-20 (CIFAR) in one layout, batch 128 of random 3x32x32 images, SGD with
// Nesterov momentum 0.9, lr 0.1, weight decay 1e-4 on weights only, BENCH_STEPS timed steps after BENCH_WARMUP:
// the native training step (`Trainer.step`, what `ictorch train` runs), or with BENCH_MODE=js a hand-written
// step (forward, cross-entropy, backward, SGD.step in tidy()).
// Prints one JSON line: per-step milliseconds, peak RSS (getrusage of this process), page faults, user and
// system CPU seconds, and the garbage collections V8 ran during the timed steps.
//
//   node bench/cpu-memory.js <baseline|relu-ic-conv>
//   BENCH_STEPS=20 BENCH_WARMUP=3 BENCH_BATCH=128 BENCH_DEPTH=20 BENCH_MODE=trainer node bench/cpu-memory.js baseline
// BENCH_AMP=bf16: the step under bf16 autocast (bench/cpu-memory.py does the same with torch.autocast).
'use strict';
const { PerformanceObserver } = require('perf_hooks');
const torch = require('../dist');
const { intEnv: int } = require('./common');

const layout = process.argv[2] ?? 'baseline';
const STEPS = int('BENCH_STEPS', 20);
const WARMUP = int('BENCH_WARMUP', 3);
const BATCH = int('BENCH_BATCH', 128);
const DEPTH = int('BENCH_DEPTH', 20);
const MODE = process.env.BENCH_MODE || 'trainer';
const AMP = process.env.BENCH_AMP || null;
if (AMP !== null && AMP !== 'bf16') throw new Error(`BENCH_AMP must be bf16 or unset, got ${AMP}`);
if (AMP && MODE !== 'trainer') throw new Error('BENCH_AMP needs BENCH_MODE=trainer');
if (!['trainer', 'js'].includes(MODE)) throw new Error(`BENCH_MODE must be trainer or js, got ${MODE}`);
if (!['baseline', 'relu-ic-conv'].includes(layout)) throw new Error(`layout must be baseline or relu-ic-conv, got ${layout}`);

const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const usage = () => process.resourceUsage();

async function main() {
  const rssAtStart = rss();
  torch.manualSeed(0);
  const model = torch.resnetCifar({ depth: DEPTH, layout });
  model.train();
  const groups = torch.paramGroups(model);
  const opt = new torch.SGD(groups, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const trainer = MODE === 'trainer' ? new torch.Trainer(model, opt, { device: 'cpu', amp: AMP }) : null;
  torch.manualSeed(1);
  const x = torch.randn([BATCH, 3, 32, 32]);
  const y = torch.randint(0, 10, [BATCH]);
  const step = async () => {
    if (trainer) {
      await torch.tidy(async () => {
        await trainer.step(x, y);
      });
    } else {
      torch.tidy(() => {
        const loss = torch.crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
    }
  };
  for (let i = 0; i < WARMUP; i++) await step();
  const rssAfterWarmup = rss();
  const live = torch.memory().tensors;
  let gcs = 0;
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcs++;
      gcMs += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const u0 = usage();
  const ms = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    await step();
    ms.push(performance.now() - t0);
  }
  const u1 = usage();
  await new Promise((r) => setImmediate(r)); // let the GC observer report
  obs.disconnect();
  const sorted = [...ms].sort((a, b) => a - b);
  const out = {
    framework: 'ictorch',
    mode: MODE,
    amp: AMP,
    layout,
    depth: DEPTH,
    batch: BATCH,
    steps: STEPS,
    threads: torch.getNumThreads(),
    numParameters: model.numParameters(),
    medianStepMs: +sorted[sorted.length >> 1].toFixed(2),
    stepMs: ms.map((v) => +v.toFixed(2)),
    peakRssMiB: Math.round(u1.maxRSS / 1024),
    rssMiB: { atStart: rssAtStart, afterWarmup: rssAfterWarmup, atEnd: rss() },
    minorFaultsPerStep: Math.round((u1.minorPageFault - u0.minorPageFault) / STEPS),
    userSecPerStep: +((u1.userCPUTime - u0.userCPUTime) / 1e6 / STEPS).toFixed(4),
    sysSecPerStep: +((u1.systemCPUTime - u0.systemCPUTime) / 1e6 / STEPS).toFixed(4),
    gcs,
    gcMs: +gcMs.toFixed(1),
    liveTensors: { afterWarmup: live, atEnd: torch.memory().tensors },
    mallocTuning: !process.env.ICTORCH_NO_MALLOC_TUNING,
  };
  console.log(JSON.stringify(out));
  trainer?.dispose();
  opt.dispose();
  for (const g of groups) for (const p of g.params) p.dispose();
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
