#!/usr/bin/env node
// bench/checkpoint-cpu.js: what activation checkpointing (utils.checkpoint.checkpointSequential) saves in memory
// and costs in time, on a CPU training step of a CIFAR ResNet with IC layers (relu-ic-conv).
//
// The network is resnetCifar's, as a flat list: the stem, every residual unit, then the head. A step is
// forward, cross-entropy, backward and SGD, in JS; `plain` runs the list as it is, `checkpoint` runs it in
// BENCH_SEGMENTS segments (all but the last checkpointed: their activations are recomputed in the backward).
// Peak memory is per process (getrusage's max RSS), so each run is a child process of its own; the two modes
// alternate, BENCH_ROUNDS times, and the table gives the medians and the median of the per-round ratios.
//
//   node bench/checkpoint-cpu.js                 (needs `npx tsc -p .`: it loads ../dist)
//   BENCH_DEPTH=56 BENCH_BATCH=64 BENCH_SEGMENTS=6 BENCH_STEPS=4 BENCH_ROUNDS=3 node bench/checkpoint-cpu.js
//   BENCH_SMALL=1 node bench/checkpoint-cpu.js   (smoke run: depth 8, batch 8, one round)
'use strict';
const { spawnSync } = require('child_process');
const { intEnv, median } = require('./common');

const small = process.env.BENCH_SMALL === '1';
const DEPTH = small ? 8 : intEnv('BENCH_DEPTH', 56);
const BATCH = small ? 8 : intEnv('BENCH_BATCH', 64);
const SEGMENTS = small ? 2 : intEnv('BENCH_SEGMENTS', 6);
const STEPS = small ? 1 : intEnv('BENCH_STEPS', 4);
const WARMUP = small ? 1 : intEnv('BENCH_WARMUP', 1);
const ROUNDS = small ? 1 : intEnv('BENCH_ROUNDS', 3);

async function child(mode) {
  const torch = require('../dist');
  torch.manualSeed(0);
  const model = torch.resnetCifar({ depth: DEPTH, layout: 'relu-ic-conv', dropRate: 0.05 });
  model.train();
  const flat = model.children().flatMap((c) => (c instanceof torch.nn.Sequential ? c.children() : [c]));
  const opt = new torch.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const x = torch.randn([BATCH, 3, 32, 32]);
  const y = torch.randint(0, 10, [BATCH]);
  const step = () =>
    torch.tidy(() => {
      const out = mode === 'plain' ? flat.reduce((h, m) => m.forward(h), x) : torch.utils.checkpoint.checkpointSequential(flat, SEGMENTS, x);
      const loss = torch.crossEntropy(out, y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  const startMiB = Math.round(process.memoryUsage().rss / 2 ** 20); // model, optimiser and batch in place
  for (let i = 0; i < WARMUP; i++) step();
  const ms = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    step();
    ms.push(performance.now() - t0);
  }
  const r = process.resourceUsage();
  console.log(JSON.stringify({ mode, stepMs: +median(ms).toFixed(1), peakRssMiB: Math.round(r.maxRSS / 1024), startMiB, units: flat.length }));
}

function parent() {
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['plain', 'checkpoint'] : ['checkpoint', 'plain'];
    const got = {};
    for (const mode of order) {
      const p = spawnSync(process.execPath, [__filename, mode], { encoding: 'utf8', env: process.env });
      if (p.status !== 0) throw new Error(`${mode} run failed: ${p.stderr}`);
      got[mode] = JSON.parse(p.stdout.trim().split('\n').pop());
    }
    rows.push(got);
    process.stderr.write(`round ${round + 1}/${ROUNDS}: ${JSON.stringify(got)}\n`);
  }
  const torch = require('../dist');
  const i = torch.info();
  console.log(`ResNet-${DEPTH} relu-ic-conv (${rows[0].plain.units} units), batch ${BATCH}, ${SEGMENTS} segments, ${STEPS} timed steps after ${WARMUP}, ${ROUNDS} rounds; LibTorch ${i.torchVersion}, ${torch.getNumThreads()} threads, Node ${process.versions.node}`);
  console.log('| mode | step ms (median) | peak RSS MiB (median) | RSS before the first step | peak above it |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const above = (r) => r.peakRssMiB - r.startMiB;
  for (const mode of ['plain', 'checkpoint']) {
    const rs = rows.map((r) => r[mode]);
    console.log(`| ${mode} | ${median(rs.map((r) => r.stepMs))} | ${median(rs.map((r) => r.peakRssMiB))} | ${median(rs.map((r) => r.startMiB))} | ${median(rs.map(above))} |`);
  }
  const time = median(rows.map((r) => r.checkpoint.stepMs / r.plain.stepMs));
  const mem = median(rows.map((r) => r.checkpoint.peakRssMiB / r.plain.peakRssMiB));
  const step = median(rows.map((r) => above(r.checkpoint) / above(r.plain)));
  console.log(`checkpoint / plain, medians of the per-round ratios: step time ${time.toFixed(2)}, peak RSS ${mem.toFixed(2)}, peak above the start ${step.toFixed(2)}`);
}

if (process.argv[2] === 'plain' || process.argv[2] === 'checkpoint') {
  child(process.argv[2]).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else if (process.argv[2] === undefined) {
  parent();
} else {
  throw new Error(`usage: node bench/checkpoint-cpu.js [plain|checkpoint], got ${process.argv[2]}`);
}
