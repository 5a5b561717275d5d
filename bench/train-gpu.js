// GPU training-step throughput of a CIFAR ResNet in ictorch: the native step with CUDA-graph capture and
// eager, on a fixed random batch (data loading excluded). One JSON line per case. Usage:
//   node bench/train-gpu.js [depth=110] [batch=128] [steps=60]
const t = require('../dist');
if (!t.cuda.isAvailable()) { console.error('train-gpu: no CUDA device'); process.exit(0); }
const [depth = 110, batch = 128, steps = 60] = process.argv.slice(2).map(Number);
(async () => {
  for (const layout of ['baseline', 'relu-ic-conv']) {
    for (const graph of [true, false]) {
      for (const amp of [null, 'bf16']) {
        t.manualSeed(0);
        const model = t.resnetCifar({ depth, layout, dropRate: layout === 'baseline' ? 0 : 0.05 }).to('cuda');
        const opt = new t.SGD(t.paramGroups(model), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
        const trainer = new t.Trainer(model, opt, { device: 'cuda', cudaGraph: graph, amp });
        const x = t.randn([batch, 3, 32, 32], { device: 'cuda' }).keep();
        const y = t.randint(0, 10, [batch], { device: 'cuda' }).keep();
        let mode = '';
        const notes = [];
        const run = async () => { const r = await trainer.step(x, y); mode = r.mode; if (r.note) notes.push(r.note); };
        try {
          for (let i = 0; i < 8; i++) await t.tidy(run);
          t.cuda.synchronize();
          const t0 = performance.now();
          for (let i = 0; i < steps; i++) await t.tidy(run);
          t.cuda.synchronize();
          const secs = (performance.now() - t0) / 1000;
          console.log(JSON.stringify({ bench: 'train-gpu', framework: 'ictorch', depth, batch, layout, cudaGraph: graph, mode, amp: amp ?? 'fp32', imagesPerSec: Math.round((steps * batch) / secs), notes }));
        } catch (e) {
          console.log(JSON.stringify({ bench: 'train-gpu', framework: 'ictorch', depth, batch, layout, cudaGraph: graph, amp: amp ?? 'fp32', error: String(e.message).split('\n')[0] }));
        }
        trainer.dispose(); opt.dispose(); model.dispose(); x.dispose(); y.dispose();
      }
    }
  }
})();
