// One ictorch process of bench/jit-cpu.sh: loads the TorchScript archive with torch.jit.load, then times forward
// calls without gradients for each batch size, on the JS thread (forward) and off it (forwardAsync, awaited one
// at a time); prints one JSON line.
'use strict';
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist'));
const { intEnv, median } = require('./common');

async function main() {
  const [archive, inputs] = process.argv.slice(2);
  const steps = intEnv('BENCH_STEPS', 10);
  const warmup = intEnv('BENCH_WARMUP', 3);
  torch.setNumThreads(intEnv('BENCH_THREADS', 1));
  const t0 = process.hrtime.bigint();
  const m = await torch.jit.load(archive);
  m.eval();
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const xs = torch.load(inputs);
  const out = { loadMs, threads: torch.getNumThreads(), batches: {} };
  for (const [name, x] of Object.entries(xs)) {
      const time = async (call) => {
        for (let i = 0; i < warmup; i++) (await call()).dispose();
        const ts = [];
        for (let i = 0; i < steps; i++) {
          const t = process.hrtime.bigint();
          const y = await call();
          ts.push(Number(process.hrtime.bigint() - t) / 1e6);
          y.dispose();
        }
        return median(ts);
      };
      // Each call under noGrad (forwardAsync takes the grad mode at the call).
      const syncMs = await time(() => torch.noGrad(() => m.forward(x)));
      const asyncMs = await time(() => torch.noGrad(() => m.forwardAsync(x)));
      out.batches[name] = { syncMs, asyncMs };
  }
  out.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  out.liveTensors = torch.memory().devices.cpu?.tensors ?? 0;
  console.log(JSON.stringify(out));
  m.dispose();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
