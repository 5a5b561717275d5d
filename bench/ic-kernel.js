#!/usr/bin/env node
// bench/ic-kernel.js: ictorch's side of the IC-layer kernel benchmark (bench/ic-kernel.sh runs it and
// bench/ic-kernel.py, PyTorch's BatchNorm2d + Dropout, in the same run and prints the comparison).
//
// For ResNet-110's three stage shapes at batch 128 ([128,16,32,32], [128,32,16,16], [128,64,8,8]) and an ImageNet
// shape ([256,256,56,56]), float32 and bfloat16, NCHW and channels-last, dropRate 0.1:
//   eager     forward + backward of one IC layer (input and parameters need gradients), each op launched from
//             JS, milliseconds per iteration; fused kernels (impl auto) and the composite path (batch_norm +
//             dropout); peak extra device memory of one iteration.
//   captured  the layer's time inside a CUDA-graph training step: a Trainer step of [IC, avgpool, flatten, fc]
//             minus the step of [avgpool, flatten, fc] on the same input (the input itself needs no gradient
//             there, in both frameworks), milliseconds per step, graph replays back to back.
//   copy      a device-to-device copy of the largest float32 and bfloat16 tensors (bandwidth = 2 x bytes / time).
// One JSON line per measurement. BENCH_SMALL=1 (or no GPU): small shapes on the available device, few
// iterations, so that the script is known to run end to end.
'use strict';
const t = require('../dist');

const cuda = t.cuda.isAvailable();
const small = process.env.BENCH_SMALL === '1' || !cuda;
const device = cuda ? 'cuda' : 'cpu';
const allShapes = small ? [[8, 16, 8, 8], [8, 32, 4, 4]] : [[128, 16, 32, 32], [128, 32, 16, 16], [128, 64, 8, 8], [256, 256, 56, 56]];
// BENCH_SHAPES ("128x16x32x32,..."): only these shapes; BENCH_PARTS: copy, eager, captured (default all).
const shapes = process.env.BENCH_SHAPES ? process.env.BENCH_SHAPES.split(',').map((s) => s.split('x').map(Number)) : allShapes;
const parts = (process.env.BENCH_PARTS ?? 'copy,eager,captured').split(',');
const dtypes = ['float32', 'bfloat16'];
const formats = ['contiguous', 'channelsLast'];
const P = 0.1;
const budgetMs = small ? 20 : Number(process.env.BENCH_CASE_MS ?? 250);
const sync = () => cuda && t.cuda.synchronize();
const emit = (o) => console.log(JSON.stringify({ bench: 'ic-kernel', framework: 'ictorch', device, ...o }));

// Runs fn until budgetMs has passed (at least `min` times) after `warm` warm-up calls; ms per call.
async function timeIt(fn, warm = 3, min = 5) {
  for (let i = 0; i < warm; i++) await fn();
  sync();
  let n = 0;
  const t0 = performance.now();
  while (n < min || performance.now() - t0 < budgetMs) {
    await fn();
    n++;
    if (n % 10 === 0) sync();
  }
  sync();
  return (performance.now() - t0) / n;
}

async function eager(shape, dtype, format, impl) {
  const C = shape[1];
  return t.tidy(() => {
    const x = t.randn(shape, { device, dtype }).contiguous(format).requiresGrad_();
    const g = t.randn(shape, { device, dtype }).contiguous(format);
    const w = t.ones([C], { device, requiresGrad: true }), b = t.zeros([C], { device, requiresGrad: true });
    const rm = t.zeros([C], { device }), rv = t.ones([C], { device });
    return { x, g, w, b, rm, rv, step: () => t.tidy(() => t.icLayer(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, dropRate: P, impl }).backward(g)) };
  });
}

async function main() {
  // ---- copy bandwidth on the largest shape
  const big = allShapes[allShapes.length - 1];
  for (const dtype of parts.includes('copy') ? dtypes : []) {
    const ms = await t.tidy(async () => {
      const src = t.randn(big, { device, dtype }), dst = t.empty(big, { device, dtype });
      return timeIt(() => { dst.copy_(src); });
    });
    const bytes = big.reduce((a, b) => a * b, 1) * (dtype === 'float32' ? 4 : 2);
    emit({ kind: 'copy', shape: big, dtype, ms: +ms.toFixed(5), gbPerSec: +((2 * bytes) / ms / 1e6).toFixed(1) });
  }
  // ---- eager forward + backward
  for (const shape of parts.includes('eager') ? shapes : []) {
    for (const dtype of dtypes) {
      for (const format of formats) {
        for (const impl of ['auto', 'composite']) {
          const c = await eager(shape, dtype, format, impl);
          try {
            const ms = await timeIt(c.step);
            let peakExtraBytes = null;
            if (cuda) {
              sync();
              t.cuda.resetPeakMemoryStats();
              const base = t.memory().cuda[0].allocated;
              c.step();
              sync();
              peakExtraBytes = t.memory().cuda[0].peakAllocated - base;
            }
            emit({ kind: 'eager', shape, dtype, format, impl: impl === 'auto' ? 'fused' : impl, ms: +ms.toFixed(5), peakExtraBytes });
          } finally {
            for (const k of ['x', 'g', 'w', 'b', 'rm', 'rv']) c[k].dispose();
          }
        }
      }
    }
  }
  // ---- captured: a CUDA-graph training step with and without the IC layer
  if (!cuda || !parts.includes('captured')) return;
  for (const shape of shapes) {
    for (const dtype of dtypes) {
      for (const format of formats) {
        const ms = {};
        for (const withIC of [true, false]) {
          const C = shape[1];
          t.manualSeed(0);
          const layers = [['pool', new t.nn.AdaptiveAvgPool2d(1)], ['flatten', new t.nn.Flatten()], ['fc', new t.nn.Linear(C, 10)]];
          if (withIC) layers.unshift(['ic', new t.nn.IC(C, { dropRate: P })]);
          const model = new t.nn.Sequential(layers).to('cuda');
          const opt = new t.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
          const trainer = new t.Trainer(model, opt, { device: 'cuda', amp: dtype === 'bfloat16' ? 'bf16' : null, channelsLast: format === 'channelsLast' });
          const x = t.randn(shape, { device, dtype }).contiguous(format);
          const y = t.randint(0, 10, [shape[0]], { device });
          let modes = new Set();
          try {
            ms[withIC] = await timeIt(async () => t.tidy(async () => modes.add((await trainer.step(x, y)).mode)), 5, 20);
          } finally {
            trainer.dispose();
            opt.dispose();
            model.dispose();
            x.dispose();
            y.dispose();
          }
          modes = [...modes];
          if (!modes.includes('graph')) emit({ kind: 'captured', shape, dtype, format, error: `the step was not captured (modes ${modes.join(', ')})` });
        }
        emit({ kind: 'captured', shape, dtype, format, impl: 'fused', stepMs: +ms.true.toFixed(5), restMs: +ms.false.toFixed(5), ms: +(ms.true - ms.false).toFixed(5) });
      }
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
