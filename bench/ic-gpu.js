// GPU micro-benchmark of the IC layer: forward + backward of one layer on (128, C, 32, 32), ictorch's fused
// kernel vs its composite path (batch_norm + dropout), float32 and bfloat16, NCHW and channels-last.
// Prints one JSON line per case (ms per iteration and peak allocated bytes). Run: node bench/ic-gpu.js
const t = require('../dist');
if (!t.cuda.isAvailable()) { console.error('ic-gpu: no CUDA device'); process.exit(0); }
const iters = Number(process.env.BENCH_ITERS ?? 200);
for (const dtype of ['float32', 'bfloat16']) {
  for (const fmt of ['contiguous', 'channelsLast']) {
    for (const impl of ['fused', 'composite']) {
      const C = 64;
      const r = t.tidy(() => {
        const x = t.randn([128, C, 32, 32], { device: 'cuda', dtype }).contiguous(fmt).requiresGrad_();
        const w = t.ones([C], { device: 'cuda', requiresGrad: true });
        const b = t.zeros([C], { device: 'cuda', requiresGrad: true });
        const rm = t.zeros([C], { device: 'cuda' }), rv = t.ones([C], { device: 'cuda' });
        const g = t.randn([128, C, 32, 32], { device: 'cuda', dtype }).contiguous(fmt);
        const step = () => t.tidy(() => { const y = t.icLayer(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, dropRate: 0.1, impl }); y.backward(g); });
        for (let i = 0; i < 10; i++) step();
        t.cuda.synchronize();
        t.cuda.resetPeakMemoryStats();
        const base = t.memory().cuda[0].allocated;
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < iters; i++) step();
        t.cuda.synchronize();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6 / iters;
        return { ms, peakExtra: t.memory().cuda[0].peakAllocated - base };
      });
      console.log(JSON.stringify({ bench: 'ic-gpu', framework: 'ictorch', dtype, format: fmt, impl, msPerIter: +r.ms.toFixed(4), peakExtraBytes: r.peakExtra }));
    }
  }
}
