// Reading tensors back in a synchronous loop does not grow memory (issue 10, point 5). Before, toArray()
// returned an ArrayBuffer over LibTorch memory whose Node-API finaliser (which frees that memory) Node 20 runs
// only when the event loop turns: a synchronous loop held every copy it made, and global.gc() did not help.
// Measured in a child process (its own heap, --expose-gc) on the raw addon, so the same script runs against
// any build: ICTORCH_ADDON=<old build> node -e "$(script)" shows the growth the old code had.
import { execFile } from 'child_process';
import { promisify } from 'util';
import * as path from 'path';
import { describe, expect, it } from 'vitest';

const addon = path.resolve(__dirname, '..', 'build', 'Release', 'ictorch.node');

// Each loop: 200 warm-up iterations, a full GC, then the loop; growth = peak RSS during the loop (sampled
// every 100 iterations) minus RSS before it. The loops read back 375 MiB (toArray), 375 MiB (forward then
// toArray) and 6,000 scalars in all.
const script = `
const N = require(process.env.ADDON);
const MiB = 1 << 20;
const rss = () => process.memoryUsage().rss;
function measure(name, iters, body) {
  for (let i = 0; i < 200; i++) body(i);
  global.gc();
  const before = rss();
  let peak = before;
  for (let i = 0; i < iters; i++) {
    body(i);
    if (i % 100 === 0) peak = Math.max(peak, rss());
  }
  peak = Math.max(peak, rss());
  return [name, +((peak - before) / MiB).toFixed(1)];
}
async function measureAsync(name, iters, body) {
  for (let i = 0; i < 50; i++) await body(i);
  global.gc();
  const before = rss();
  let peak = before;
  for (let i = 0; i < iters; i++) {
    await body(i);
    if (i % 100 === 0) peak = Math.max(peak, rss());
  }
  return [name, +((Math.max(peak, rss()) - before) / MiB).toFixed(1)];
}
(async () => {
  const out = [];
  const t = N.rand([128, 128], null, null, false); // 64 KiB of float32
  out.push(measure('toArray', 6000, () => N.toArray(t)));
  const s = N.rand([1], null, null, false);
  out.push(measure('item', 6000, () => N.item(s)));
  const conv = N.moduleCreate('conv2d', { inChannels: 3, outChannels: 16, kernelSize: 3, padding: 1 });
  const net = N.sequential([['conv', conv], ['relu', N.moduleCreate('relu', {})]]);
  const x = N.rand([16, 3, 16, 16], null, null, false); // the output: 16x16x16x16 float32, 256 KiB
  out.push(measure('forward+toArray', 1500, () => {
    const y = N.moduleForward(net, x);
    N.toArray(y);
    y.dispose();
  }));
  out.push(await measureAsync('data', 1500, () => N.data(t)));
  console.log(JSON.stringify(Object.fromEntries(out)));
})();
`;

describe('synchronous read-back loops', () => {
  it('toArray, item, forward + toArray (and awaited data) keep RSS flat: under 100 MiB of growth', async () => {
    // Asynchronous, so the test worker stays responsive while the child runs.
    const r = await promisify(execFile)(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ADDON: addon } });
    const growth = JSON.parse(r.stdout.trim()) as Record<string, number>;
    // V8 frees an ArrayBuffer it owns at the next scavenge or, for large totals, when external memory passes
    // its limit (64 MiB above the last collection): growth stays below that plus the new space, whatever
    // the loop length. A loop that kept a quarter of what it read (94 MiB of 375) would fail.
    for (const [name, mib] of Object.entries(growth)) expect([name, mib < 100]).toEqual([name, true]);
  });
});
