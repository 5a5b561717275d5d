#!/usr/bin/env node
// bench/hooks-cpu.js: what tensor hooks (Tensor.registerHook) cost a backward pass on the CPU.
//
// A backward() from JS over CPU nodes runs on the JS thread and calls its hooks in place; one whose graph reaches
// a CUDA node runs on a backward thread while the JS thread serves the hook calls (native/hooks.h). Four variants
// of the same ResNet-20 forward + cross-entropy + backward, from the JS thread, alternating within each round:
//   none    no hook anywhere;
//   idle    one hook on a tensor outside the graph (hooks exist, none is called);
//   all     an observing hook on every parameter (one JS call per parameter per backward);
//   thread  as idle, but sent through the backward thread (hooksThreadedForTests: the path of CUDA graphs).
// The costs are the medians of the per-round ratios against `none`, and (all - idle) per hook call.
//
//   node bench/hooks-cpu.js [--json]        (needs `npx tsc -p .`: it loads ../dist)
//   BENCH_STEPS=5 BENCH_ROUNDS=7 BENCH_WARMUP=2 BENCH_BATCH=32 node bench/hooks-cpu.js
'use strict';
const { intEnv, median } = require('./common');
const torch = require('../dist');
const native = require('../dist/native').native();

const STEPS = intEnv('BENCH_STEPS', 5);
const ROUNDS = intEnv('BENCH_ROUNDS', 7);
const WARMUP = intEnv('BENCH_WARMUP', 2);
const BATCH = intEnv('BENCH_BATCH', 32);
const json = process.argv.includes('--json');

function main() {
  torch.manualSeed(0);
  const model = torch.resnetCifar({ depth: 20, layout: 'baseline' });
  const params = model.parameters();
  const x = torch.randn([BATCH, 3, 32, 32]);
  const y = torch.randint(0, 10, [BATCH]);
  const outside = torch.zeros([1], { requiresGrad: true });
  let calls = 0;
  const variants = {
    none: () => [],
    idle: () => [outside.registerHook(() => undefined)],
    all: () => params.map((p) => p.registerHook(() => void calls++)),
    thread: () => {
      native.hooksThreadedForTests(true);
      return [outside.registerHook(() => undefined), { remove: () => native.hooksThreadedForTests(false) }];
    },
  };
  const step = () =>
    torch.tidy(() => {
      for (const p of params) p.zeroGrad();
      torch.crossEntropy(model.forward(x), y).backward();
    });
  const time = (name) => {
    const handles = variants[name]();
    const t0 = performance.now();
    for (let s = 0; s < STEPS; s++) step();
    const ms = (performance.now() - t0) / STEPS;
    for (const h of handles) h.remove();
    return ms;
  };
  for (let w = 0; w < WARMUP; w++) for (const name of Object.keys(variants)) time(name);
  calls = 0;
  const ms = { none: [], idle: [], all: [], thread: [] };
  const ratios = { idle: [], all: [], thread: [] };
  const perCallUs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const names = Object.keys(variants);
    const order = r % 2 ? names.reverse() : names;
    const round = {};
    for (const name of order) {
      round[name] = time(name);
      ms[name].push(round[name]);
    }
    ratios.idle.push(round.idle / round.none);
    ratios.all.push(round.all / round.none);
    ratios.thread.push(round.thread / round.none);
    perCallUs.push(((round.all - round.idle) * 1000) / params.length);
  }
  if (calls !== ROUNDS * STEPS * params.length) throw new Error(`expected ${ROUNDS * STEPS * params.length} hook calls, counted ${calls}`);
  const result = {
    bench: 'hooks-cpu',
    model: 'resnet20 baseline, forward + cross-entropy + backward from the JS thread',
    batch: BATCH,
    steps: STEPS,
    rounds: ROUNDS,
    hookedParameters: params.length,
    threads: torch.getNumThreads(),
    torch: torch.info().torchVersion,
    node: process.version,
    msPerBackward: { none: +median(ms.none).toFixed(2), idle: +median(ms.idle).toFixed(2), all: +median(ms.all).toFixed(2), thread: +median(ms.thread).toFixed(2) },
    idleOverNone: +median(ratios.idle).toFixed(3),
    allOverNone: +median(ratios.all).toFixed(3),
    threadOverNone: +median(ratios.thread).toFixed(3),
    usPerHookCall: +median(perCallUs).toFixed(1),
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, v.map((r) => +r.toFixed(3))])),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`ResNet-20 (baseline), batch ${BATCH}, CPU, ${result.threads} threads, LibTorch ${result.torch}, Node ${result.node}`);
    const m = result.msPerBackward;
    console.log(`ms per step: none ${m.none}, idle ${m.idle}, all (${params.length} hooks) ${m.all}, thread ${m.thread}`);
    console.log(`idle/none ${result.idleOverNone} (${result.ratios.idle.join(', ')}); all/none ${result.allOverNone} (${result.ratios.all.join(', ')})`);
    console.log(`thread/none ${result.threadOverNone} (${result.ratios.thread.join(', ')})`);
    console.log(`per hook call: ${result.usPerHookCall} µs (median over rounds); peak RSS ${result.peakRssMiB} MiB`);
  }
  for (const p of params) p.dispose();
  model.dispose();
  for (const t of [x, y, outside]) t.dispose();
}

main();
