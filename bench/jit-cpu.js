// One ictorch process of bench/jit-cpu.sh: loads the TorchScript archive with torch.jit.load, then times forward
// calls without gradients for each batch size, on the JS thread (`forward`) or off it (`forwardAsync`, awaited
// one at a time), as the third argument says (`both`: the two in turn, in one process); prints one JSON line.
//
// One kind of call per process is what a service does, and it matters on a machine with few cores: every thread
// that runs intra-op work keeps an OpenMP team, and once a process has more OpenMP threads than cores, libgomp
// cuts its workers' spin-wait from about 300,000 to 100 iterations (do_spin in libgomp's config/linux/wait.h),
// so they sleep between parallel regions. Calling both kinds in one process runs two teams.
'use strict';
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist'));
const { intEnv, median } = require('./common');

async function main() {
  const [archive, inputs, calls = 'both'] = process.argv.slice(2);
  if (!['forward', 'forwardAsync', 'both'].includes(calls)) throw new Error(`calls must be forward, forwardAsync or both, got ${calls}`);
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
      out.batches[name] = {};
      if (calls !== 'forwardAsync') out.batches[name].syncMs = await time(() => torch.noGrad(() => m.forward(x)));
      if (calls !== 'forward') out.batches[name].asyncMs = await time(() => torch.noGrad(() => m.forwardAsync(x)));
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
