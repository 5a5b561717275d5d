#!/usr/bin/env node
// bench/train-throughput.js: ictorch's side of bench/train-throughput.sh. ResNet-110 (baseline, relu-ic-conv) and
// ResNet-164 ResNet-B (relu-ic-conv) at batch 128 on device-resident random data, SGD Nesterov (momentum 0.9,
// lr 0.1, weight decay 5e-4 on weights), float32 and bf16 autocast, through the native training step:
//   default   what `ictorch train --device cuda` does: CUDA graph, channels-last, cuDNN benchmark mode
//   eager     the same with cudaGraph: false (`--no-cuda-graph`)
// Images/s per case (steps back to back, synchronised at the ends only). Then a whole `fit` epoch (data,
// augmentation, step, metrics; BENCH_EPOCH_DATA, default synthetic) for the relu-ic-conv ResNet-110 in bf16, so
// that the data path cannot hide a slowdown. One JSON line per case; the summary is bench/train-throughput.sh's.
// BENCH_SMALL=1 (or no GPU): ResNet-8, batch 16, a few steps on the available device.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const t = require('../dist');

const cuda = t.cuda.isAvailable();
const small = process.env.BENCH_SMALL === '1' || !cuda;
const device = cuda ? 'cuda' : 'cpu';
const cifarBatch = small ? 16 : Number(process.env.BENCH_BATCH ?? 128);
const seconds = small ? 0.5 : Number(process.env.BENCH_SECONDS ?? 2.5);
const NETS = small
  ? [['resnet8', 8, 'baseline', false], ['resnet8', 8, 'relu-ic-conv', false]]
  : [['resnet110', 110, 'baseline', false], ['resnet110', 110, 'relu-ic-conv', false], ['resnet164b', 164, 'relu-ic-conv', true]];
// ImageNet ResNet-50 at batch 256, bf16, 224x224 (the ImageNet check: ictorch's default step against
// PyTorch eager); BENCH_IMAGENET=0 leaves it out.
const IMAGENET = !small && process.env.BENCH_IMAGENET !== '0' ? [['resnet50', 50, 'baseline', false, true], ['resnet50', 50, 'relu-ic-conv', false, true]] : [];
const only = process.env.BENCH_NETS ? process.env.BENCH_NETS.split(',') : null;
// BENCH_PARTS: "steps" (the step throughputs), "fit" (the whole fit epoch), or both (default).
const parts = (process.env.BENCH_PARTS ?? 'steps,fit').split(',');
const sync = () => cuda && t.cuda.synchronize();

// CUDA runtime calls counted by bench/cuda-counters.so (LD_PRELOAD, CUDA_COUNTERS_FILE), slot order of that file.
const COUNTER_NAMES = ['launch', 'launchEx', 'graphLaunch', 'streamSync', 'deviceSync', 'eventSync', 'memcpy', 'memcpyAsync'];
function readCounters() {
  const file = process.env.CUDA_COUNTERS_FILE;
  if (!file || !fs.existsSync(file)) return null;
  const b = fs.readFileSync(file);
  return b.length < 8 * COUNTER_NAMES.length ? null : COUNTER_NAMES.map((_, i) => Number(b.readBigUInt64LE(8 * i)));
}
// Per step: kernels launched through the runtime, graph launches, host synchronisations (stream, device and
// event syncs and synchronous copies).
function perStep(c0, c1, n) {
  if (!c0 || !c1) return {};
  const d = Object.fromEntries(COUNTER_NAMES.map((k, i) => [k, (c1[i] - c0[i]) / n]));
  const r = (v) => +v.toFixed(2);
  return { runtimeLaunchesPerStep: r(d.launch + d.launchEx), graphLaunchesPerStep: r(d.graphLaunch), syncsPerStep: r(d.streamSync + d.deviceSync + d.eventSync + d.memcpy), asyncCopiesPerStep: r(d.memcpyAsync) };
}

async function timed(step, batch) {
  sync();
  let n = 0;
  const c0 = readCounters();
  const t0 = performance.now();
  while (n < 3 || performance.now() - t0 < seconds * 1000) {
    await step();
    n++;
  }
  const c1 = readCounters();
  sync();
  return { imagesPerSec: (n * batch) / ((performance.now() - t0) / 1000), timedSteps: n, ...perStep(c0, c1, n) };
}

async function main() {
  const info = t.info();
  const env = { torch: info.torchVersion, device: info.cudaDevices[0]?.name ?? 'cpu', cudnn: info.cudnnVersion, ictorch: info.ictorchVersion };
  for (const [name, depth, layout, bottleneck, imagenet] of parts.includes('steps') ? [...NETS, ...IMAGENET] : []) {
    if (only && !only.includes(`${name}:${layout}`)) continue;
    const [batch, size] = imagenet ? [Number(process.env.BENCH_IMAGENET_BATCH ?? 256), 224] : [cifarBatch, 32];
    for (const precision of imagenet ? ['bf16'] : ['fp32', 'bf16']) {
      for (const mode of !cuda ? ['default'] : imagenet ? ['default'] : ['default', 'eager']) {
        t.manualSeed(0);
        const model = (imagenet ? t.resnetImageNet({ depth, layout }) : t.resnetCifar({ depth, layout, bottleneck })).to(device);
        const groups = t.paramGroups(model);
        const opt = new t.SGD(groups, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
        const amp = precision === 'bf16' ? 'bf16' : null;
        const trainer = new t.Trainer(model, opt, { device, amp, ...(mode === 'eager' ? { cudaGraph: false } : {}) });
        const x = t.randn([batch, 3, size, size], { device });
        const y = t.randint(0, imagenet ? 1000 : 10, [batch], { device });
        const modes = new Set();
        const notes = [];
        const step = () =>
          t.tidy(async () => {
            const r = await trainer.step(x, y);
            modes.add(r.mode);
            if (r.note) notes.push(r.note);
          });
        const row = { bench: 'train-throughput', framework: 'ictorch', net: name, depth, layout, bottleneck, precision, mode, batch, imageSize: size, numParameters: model.numParameters(), channelsLast: trainer.channelsLast, ...env };
        try {
          for (let i = 0; i < 6; i++) await step(); // eager warm-up (cuDNN autotuning) and the capture
          modes.clear();
          Object.assign(row, await timed(step, batch), { stepModes: [...modes] });
          if (notes.length) row.notes = notes;
        } catch (e) {
          row.error = String(e.message).split('\n')[0];
        }
        console.log(JSON.stringify(row));
        trainer.dispose();
        opt.dispose();
        for (const g of groups) for (const p of g.params) p.dispose();
        model.dispose();
        x.dispose();
        y.dispose();
      }
    }
  }
  // ---- a whole fit epoch: data, augmentation, step, metrics, evaluation
  if (!parts.includes('fit')) return;
  const data = process.env.BENCH_EPOCH_DATA || 'synthetic';
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-epoch-'));
  const [depth, epochs] = small ? [8, 1] : [110, Number(process.env.BENCH_EPOCHS ?? 2)];
  const batch = cifarBatch;
  const row = { bench: 'train-throughput', framework: 'ictorch', kind: 'fit-epoch', net: `resnet${depth}`, depth, layout: 'relu-ic-conv', precision: cuda ? 'bf16' : 'fp32', mode: 'default', batch, data };
  try {
    const t0 = performance.now();
    const r = await t.fit(
      { model: { name: 'resnet', args: { depth, layout: 'relu-ic-conv' } }, data, epochs, batchSize: batch, device, amp: cuda ? 'bf16' : null, nesterov: true, weightDecay: 5e-4, schedule: 'cosine', outDir: out, syntheticTrainSize: small ? 64 : 50000, syntheticTestSize: small ? 32 : 10000 },
      { log: () => {} },
    );
    // Epoch 1 includes warm-up and graph capture; later epochs are the steady state.
    Object.assign(row, { epochs: r.history.map((h) => ({ epoch: h.epoch, imagesPerSec: Math.round(h.imagesPerSec), seconds: +h.seconds.toFixed(2), testAcc: h.testAcc })), wallSeconds: +((performance.now() - t0) / 1000).toFixed(1), notes: r.notes });
  } catch (e) {
    row.error = String(e.message).split('\n')[0];
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  console.log(JSON.stringify(row));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
