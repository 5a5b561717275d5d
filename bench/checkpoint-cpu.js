#!/usr/bin/env node
// bench/checkpoint-cpu.js: what activation checkpointing (utils.checkpoint.checkpointSequential) saves in memory
// and costs in time, on a CPU training step of a CIFAR ResNet with IC layers (relu-ic-conv), in ictorch and, in the
// same run, in PyTorch (bench/checkpoint-cpu.py: the same network, split and step, torch.utils.checkpoint in its
// non-reentrant form, as ictorch's, and in its reentrant form, 1.13's default).
//
// The network is resnetCifar's, as a flat list: the stem, every residual unit, then the head. A step is
// forward, cross-entropy, backward and SGD, in JS; `plain` runs the list as it is, `checkpoint` runs it in
// BENCH_SEGMENTS segments (all but the last checkpointed: their activations are recomputed in the backward).
// Peak memory is per process (getrusage's max RSS), so each run is a child process of its own; the kinds
// (ictorch plain and checkpoint; PyTorch plain, checkpoint and reentrant) alternate, in a rotating order,
// BENCH_ROUNDS times, and the table gives the medians and the medians of the per-round ratios. BENCH_NO_TORCH=1 leaves PyTorch out;
// BENCH_BEFORE_DIST=<dir> adds ictorch's plain and checkpoint runs from another build of lib/ (a `dist` directory
// beside this one, so that it loads the same addon), to measure a change in the same run.
//
//   node bench/checkpoint-cpu.js                 (needs `npx tsc -p .`: it loads ../dist; PyTorch: /usr/bin/python3)
//   BENCH_DEPTH=56 BENCH_BATCH=64 BENCH_SEGMENTS=6 BENCH_STEPS=4 BENCH_ROUNDS=3 node bench/checkpoint-cpu.js
//   BENCH_SMALL=1 node bench/checkpoint-cpu.js   (smoke run: depth 8, batch 8, one round)
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');
const { intEnv, median } = require('./common');

const small = process.env.BENCH_SMALL === '1';
const DEPTH = small ? 8 : intEnv('BENCH_DEPTH', 56);
const BATCH = small ? 8 : intEnv('BENCH_BATCH', 64);
const SEGMENTS = small ? 2 : intEnv('BENCH_SEGMENTS', 6);
const STEPS = small ? 1 : intEnv('BENCH_STEPS', 4);
const WARMUP = small ? 1 : intEnv('BENCH_WARMUP', 1);
const ROUNDS = small ? 1 : intEnv('BENCH_ROUNDS', 3);
const PYTHON = process.env.PYTHON || '/usr/bin/python3';
const BEFORE = process.env.BENCH_BEFORE_DIST ? path.resolve(process.env.BENCH_BEFORE_DIST) : null;
const KINDS = [
  ...['ictorch plain', 'ictorch checkpoint'],
  ...(process.env.BENCH_NO_TORCH === '1' ? [] : ['pytorch plain', 'pytorch checkpoint', 'pytorch reentrant']),
  ...(BEFORE ? ['before plain', 'before checkpoint'] : []),
];

async function child(mode) {
  const torch = require(process.env.ICTORCH_BENCH_DIST || '../dist');
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
  console.log(JSON.stringify({ mode, stepMs: +median(ms).toFixed(1), peakRssMiB: Math.round(r.maxRSS / 1024), startMiB, units: flat.length, numParameters: model.numParameters() }));
}

function run(kind) {
  const [framework, mode] = kind.split(' ');
  const env = { ...process.env, BENCH_DEPTH: String(DEPTH), BENCH_BATCH: String(BATCH), BENCH_SEGMENTS: String(SEGMENTS), BENCH_STEPS: String(STEPS), BENCH_WARMUP: String(WARMUP) };
  const p =
    framework !== 'pytorch'
      ? spawnSync(process.execPath, [__filename, mode], { encoding: 'utf8', env: framework === 'before' ? { ...env, ICTORCH_BENCH_DIST: BEFORE } : env })
      : spawnSync(PYTHON, [path.join(__dirname, 'checkpoint-cpu.py'), mode], { encoding: 'utf8', env });
  if (p.status !== 0) throw new Error(`${kind} run failed: ${p.error ?? p.stderr}`);
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

function parent() {
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = KINDS.map((_, k) => KINDS[(k + round) % KINDS.length]);
    const got = {};
    for (const kind of order) got[kind] = run(kind);
    rows.push(got);
    process.stderr.write(`round ${round + 1}/${ROUNDS}: ${JSON.stringify(got)}\n`);
  }
  const first = rows[0];
  if (first['pytorch plain'] && first['pytorch plain'].numParameters !== first['ictorch plain'].numParameters) {
    throw new Error(`the networks differ: ictorch ${first['ictorch plain'].numParameters} parameters, PyTorch ${first['pytorch plain'].numParameters}`);
  }
  const torch = require('../dist');
  const i = torch.info();
  const py = first['pytorch plain'] ? `, PyTorch ${first['pytorch plain'].torch}` : '';
  console.log(`ResNet-${DEPTH} relu-ic-conv (${first['ictorch plain'].units} units, ${first['ictorch plain'].numParameters} parameters), batch ${BATCH}, ${SEGMENTS} segments, ${STEPS} timed steps after ${WARMUP}, ${ROUNDS} rounds; LibTorch ${i.torchVersion}${py}, ${torch.getNumThreads()} threads, Node ${process.versions.node}`);
  console.log('| run | step ms (median) | peak RSS MiB (median) | RSS before the first step | peak above it |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const above = (r) => r.peakRssMiB - r.startMiB;
  for (const kind of KINDS) {
    const rs = rows.map((r) => r[kind]);
    console.log(`| ${kind} | ${median(rs.map((r) => r.stepMs))} | ${median(rs.map((r) => r.peakRssMiB))} | ${median(rs.map((r) => r.startMiB))} | ${median(rs.map(above))} |`);
  }
  const ratios = (a, b) => {
    const f = (g) => median(rows.map((r) => g(r[a]) / g(r[b]))).toFixed(2);
    return `step time ${f((r) => r.stepMs)}, peak RSS ${f((r) => r.peakRssMiB)}, peak above the start ${f(above)}`;
  };
  const has = (fw) => KINDS.includes(`${fw} plain`);
  for (const fw of ['ictorch', 'pytorch', 'before'].filter(has)) console.log(`${fw} checkpoint / plain, medians of the per-round ratios: ${ratios(`${fw} checkpoint`, `${fw} plain`)}`);
  if (has('pytorch')) console.log(`pytorch reentrant / plain: ${ratios('pytorch reentrant', 'pytorch plain')}`);
  for (const other of ['pytorch', 'before'].filter(has)) {
    for (const mode of ['plain', 'checkpoint']) console.log(`ictorch / ${other}, ${mode}: ${ratios(`ictorch ${mode}`, `${other} ${mode}`)}`);
  }
  if (has('pytorch')) console.log(`ictorch checkpoint / pytorch reentrant: ${ratios('ictorch checkpoint', 'pytorch reentrant')}`);
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
