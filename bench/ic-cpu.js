#!/usr/bin/env node
// bench/ic-cpu.js: the cost of the IC layer in a ResNet-20 CIFAR training step on the CPU, in ictorch.
//
// Builds resnetCifar({depth: 20}) in the 'baseline' layout (conv-bn-relu) and in 'relu-ic-conv' (BatchNorm +
// Dropout(0.1) IC layers before each weight layer), and times full training steps on a batch of 128 random
// 3x32x32 images: forward, cross-entropy, backward, SGD with momentum. Layouts are interleaved over rounds so
// that load from other processes falls on both alike; the IC cost is the median of the per-round ratios.
//
//   node bench/ic-cpu.js [--json]
//   BENCH_STEPS=10 BENCH_ROUNDS=3 BENCH_WARMUP=2 BENCH_BATCH=128 node bench/ic-cpu.js
//
// bench/ic-cpu.py is the same benchmark in PyTorch; bench/ic-cpu.sh runs both and prints the comparison.
'use strict';
const crypto = require('crypto');
const { intEnv, median } = require('./common');
const torch = require('../dist');

const STEPS = intEnv('BENCH_STEPS', 10);
const ROUNDS = intEnv('BENCH_ROUNDS', 3);
const WARMUP = intEnv('BENCH_WARMUP', 2);
const BATCH = intEnv('BENCH_BATCH', 128);
const DROP_RATE = 0.1;
const LR = 0.1;
const MOMENTUM = 0.9;
const LAYOUTS = ['baseline', 'relu-ic-conv'];
const json = process.argv.includes('--json');

// A short fingerprint of the parameter shapes in registration order, to check that ic-cpu.py builds the same nets.
function shapeSignature(params) {
  const text = params.map((p) => p.shape.join('x')).join(',');
  return crypto.createHash('sha1').update(text).digest('hex').slice(0, 12);
}

function build(layout) {
  torch.manualSeed(0);
  const model = layout === 'baseline' ? torch.resnetCifar({ depth: 20, layout }) : torch.resnetCifar({ depth: 20, layout, dropRate: DROP_RATE });
  model.train();
  const params = model.parameters(); // handles sharing the module's memory, kept for the whole run
  const bufs = params.map((p) => torch.zerosLike(p)); // momentum buffers
  return { layout, model, params, bufs, numParameters: model.numParameters(), signature: shapeSignature(params) };
}

// One training step; everything it creates is disposed by tidy, so memory stays flat.
function step(net, x, labels) {
  torch.tidy(() => {
    const logits = net.model.forward(x);
    const loss = logits.logSoftmax(1).gather(1, labels.unsqueeze(1)).neg().mean();
    loss.backward();
    torch.noGrad(() => {
      net.params.forEach((p, i) => {
        const g = p.grad;
        if (g === null) return;
        const buf = net.bufs[i];
        buf.mul_(MOMENTUM).add_(g);
        p.sub_(buf.mul(LR));
        p.zeroGrad();
      });
    });
  });
}

function main() {
  const threads = torch.getNumThreads();
  torch.manualSeed(1);
  const x = torch.randn([BATCH, 3, 32, 32]);
  const labels = torch.randint(0, 10, [BATCH]);
  const nets = LAYOUTS.map(build);

  for (const net of nets) for (let i = 0; i < WARMUP; i++) step(net, x, labels);
  const liveAfterWarmup = torch.memory().tensors;

  const perRound = Object.fromEntries(LAYOUTS.map((l) => [l, []])); // images/s per round
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order each round so neither layout always runs first.
    const order = r % 2 === 0 ? nets : [...nets].reverse();
    for (const net of order) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < STEPS; i++) step(net, x, labels);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      perRound[net.layout].push((STEPS * BATCH) / s);
    }
  }
  const liveAtEnd = torch.memory().tensors;

  const ratios = perRound['relu-ic-conv'].map((v, i) => perRound.baseline[i] / v); // time(IC) / time(baseline)
  const result = {
    framework: 'ictorch',
    version: require('../package.json').version,
    torchVersion: torch.info().torchVersion,
    node: process.version,
    threads,
    batch: BATCH,
    steps: STEPS,
    rounds: ROUNDS,
    warmup: WARMUP,
    dropRate: DROP_RATE,
    imagesPerSec: Object.fromEntries(LAYOUTS.map((l) => [l, median(perRound[l])])),
    perRound,
    icOverhead: median(ratios) - 1, // relative extra time per step of relu-ic-conv over baseline
    icOverheadPerRound: ratios.map((q) => q - 1),
    numParameters: Object.fromEntries(nets.map((n) => [n.layout, n.numParameters])),
    paramSignature: Object.fromEntries(nets.map((n) => [n.layout, n.signature])),
    liveTensors: { afterWarmup: liveAfterWarmup, atEnd: liveAtEnd },
  };

  if (json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`ictorch ${result.version} (LibTorch ${result.torchVersion}), Node ${result.node}, ${threads} threads`);
    console.log(`ResNet-20, batch ${BATCH}, ${STEPS} steps x ${ROUNDS} rounds per layout (warmup ${WARMUP}); medians over rounds`);
    for (const l of LAYOUTS) {
      const rounds = perRound[l].map((v) => v.toFixed(1)).join(', ');
      console.log(`  ${l.padEnd(13)} ${result.imagesPerSec[l].toFixed(1).padStart(8)} images/s   (rounds: ${rounds})`);
    }
    const pct = (q) => `${q >= 0 ? '+' : ''}${(100 * q).toFixed(1)}%`;
    console.log(`  relu-ic-conv step time vs baseline: ${pct(result.icOverhead)} (rounds: ${result.icOverheadPerRound.map(pct).join(', ')})`);
    console.log(`  live tensors after warmup ${liveAfterWarmup}, at end ${liveAtEnd}`);
  }
  for (const n of nets) n.model.dispose();
}

main();
