#!/usr/bin/env node
// bench/module-cpu.js: what a forward written in JavaScript costs a CPU training step, against the same
// network run natively.
//
// Builds ResNet-20 (CIFAR, baseline conv-bn-relu layout) twice: `native` is resnetCifar({depth: 20}) (its whole
// step is one native call: forward, cross-entropy, backward, SGD), `js` is the same network written as
// nn.Module subclasses with their forward in JavaScript (the Trainer then runs the forward on the JS thread
// with autograd, and the loss, backward and update in one native call). Same names, same weights (loaded from
// the native model), same batches. Variants alternate within each round so that load from other processes
// falls on both alike; the cost is the median of the per-round ratios js/native.
//
//   node bench/module-cpu.js [--json]        (needs `npx tsc -p .`: it loads ../dist)
//   BENCH_STEPS=5 BENCH_ROUNDS=5 BENCH_WARMUP=2 BENCH_BATCH=128 node bench/module-cpu.js
'use strict';
const { intEnv, median } = require('./common');
const torch = require('../dist');
const { nn } = torch;

const STEPS = intEnv('BENCH_STEPS', 5);
const ROUNDS = intEnv('BENCH_ROUNDS', 5);
const WARMUP = intEnv('BENCH_WARMUP', 2);
const BATCH = intEnv('BENCH_BATCH', 128);
const json = process.argv.includes('--json');

// The residual unit of resnetCifar's baseline layout, with its forward in JS (names as resnetCifar's).
class Block extends nn.Module {
  constructor(cin, planes, stride) {
    super();
    this.conv1 = new nn.Conv2d(cin, planes, 3, { stride, padding: 1, bias: false });
    this.bn1 = new nn.BatchNorm2d(planes);
    this.conv2 = new nn.Conv2d(planes, planes, 3, { padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(planes);
    this.downsample = stride !== 1 || cin !== planes ? new nn.PadShortcut(stride, planes) : null;
  }
  forward(x) {
    const y = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
    return y.add(this.downsample ? this.downsample.forward(x) : x).relu();
  }
}

class JsResNet20 extends nn.Module {
  constructor() {
    super();
    this.conv1 = new nn.Conv2d(3, 16, 3, { padding: 1, bias: false });
    this.bn1 = new nn.BatchNorm2d(16);
    let cin = 16;
    [16, 32, 64].forEach((planes, i) => {
      const blocks = [0, 1, 2].map((u) => new Block(u === 0 ? cin : planes, planes, u === 0 && i > 0 ? 2 : 1));
      this.registerModule(`layer${i + 1}`, new nn.Sequential(blocks));
      cin = planes;
    });
    this.fc = new nn.Linear(64, 10);
  }
  forward(x) {
    let y = this.bn1.forward(this.conv1.forward(x)).relu();
    for (const k of ['layer1', 'layer2', 'layer3']) y = this[k].forward(y);
    return this.fc.forward(y.mean([2, 3]));
  }
}

function variant(name, model) {
  model.train();
  const optimizer = new torch.SGD(torch.paramGroups(model), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  const trainer = new torch.Trainer(model, optimizer);
  return { name, model, optimizer, trainer, ms: [] };
}

async function step(v, x, y) {
  return torch.tidy(async () => {
    const r = await v.trainer.step(x, y);
    return r.loss.item();
  });
}

async function main() {
  torch.manualSeed(0);
  const native = torch.resnetCifar({ depth: 20, layout: 'baseline' });
  const js = new JsResNet20();
  const sd = native.stateDict();
  js.loadStateDict(sd);
  for (const t of Object.values(sd)) t.dispose();
  if (native.numParameters() !== js.numParameters()) throw new Error('the two networks differ');
  if (native.isNative !== true || js.isNative !== false) throw new Error('expected one native and one JS forward');
  const x = torch.randn([BATCH, 3, 32, 32]);
  const y = torch.randint(0, 10, [BATCH]);
  const vs = [variant('native', native), variant('js', js)];
  // The same first step from the same weights: the two forwards compute the same loss.
  const first = [];
  for (const v of vs) first.push(await step(v, x, y));
  if (Math.abs(first[0] - first[1]) > 1e-4 * Math.abs(first[0])) throw new Error(`first losses differ: ${first}`);
  for (let w = 1; w < WARMUP; w++) for (const v of vs) await step(v, x, y);
  const ratios = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [...vs].reverse() : vs;
    const round = {};
    for (const v of order) {
      const t0 = performance.now();
      for (let s = 0; s < STEPS; s++) await step(v, x, y);
      round[v.name] = (performance.now() - t0) / STEPS;
      v.ms.push(round[v.name]);
    }
    ratios.push(round.js / round.native);
  }
  const result = {
    bench: 'module-cpu',
    model: 'resnet20 baseline',
    batch: BATCH,
    steps: STEPS,
    rounds: ROUNDS,
    threads: torch.getNumThreads(),
    torch: torch.info().torchVersion,
    node: process.version,
    nativeMsPerStep: +median(vs[0].ms).toFixed(1),
    jsMsPerStep: +median(vs[1].ms).toFixed(1),
    jsOverNative: +median(ratios).toFixed(3),
    ratios: ratios.map((r) => +r.toFixed(3)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`ResNet-20 (baseline), batch ${BATCH}, CPU, ${result.threads} threads, LibTorch ${result.torch}, Node ${result.node}`);
    console.log(`native forward: ${result.nativeMsPerStep} ms/step; forward in JS: ${result.jsMsPerStep} ms/step`);
    console.log(`JS/native: ${result.jsOverNative} (median of ${ROUNDS} rounds: ${result.ratios.join(', ')}); peak RSS ${result.peakRssMiB} MiB`);
  }
  for (const v of vs) {
    v.trainer.dispose();
    for (const g of v.optimizer.paramGroups) for (const p of g.params) p.dispose();
    v.optimizer.dispose();
    v.model.dispose();
  }
  x.dispose();
  y.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
