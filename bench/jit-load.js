#!/usr/bin/env node
// bench/jit-load.js: what torch.jit.load's checks of the archive cost, against the whole load.
//
// jit.load reads the archive and checks it (a well-formed zip, every entry's CRC-32, both pickles: see lib/jit.ts)
// on the JS thread before LibTorch loads it off the event loop. This times, in one process, alternating round by
// round after one warm-up load: `read` (the file's bytes only), `check` (the bytes read and checked, as jit.load
// does first) and `load` (the whole jit.load). Reported: the medians and the median per-round share of the checks
// (check - read) in the load.
//
//   node bench/jit-load.js [archive.pt] [--json]     (needs `npx tsc -p .`; without an archive, python3 with torch
//                                                     and torchvision scripts torchvision's ResNet-18 into one)
//   BENCH_ROUNDS=10 node bench/jit-load.js
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { intEnv, median } = require('./common');
const torch = require('../dist');
const { checkTorchScriptArchive } = require('../dist/io/torchfile');
const { bufferSource } = require('../dist/io/source');

const ROUNDS = intEnv('BENCH_ROUNDS', 10);
const json = process.argv.includes('--json');

function archive() {
  const given = process.argv.slice(2).find((a) => !a.startsWith('--'));
  if (given) return { file: given, cleanup: () => {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-jit-load-'));
  const file = path.join(dir, 'resnet18.pt');
  const py = spawnSync(process.env.PYTHON || '/usr/bin/python3', ['-c', `import torch, torchvision; torch.manual_seed(0); torch.jit.save(torch.jit.script(torchvision.models.resnet18().eval()), ${JSON.stringify(file)})`], { stdio: 'inherit' });
  if (py.status !== 0) throw new Error('python3 with torch and torchvision could not write the archive; pass one: node bench/jit-load.js model.pt');
  return { file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function main() {
  const { file, cleanup } = archive();
  const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
  const variants = {
    read: async () => void fs.readFileSync(file),
    check: async () => {
      const bytes = fs.readFileSync(file);
      checkTorchScriptArchive('bench', file, bufferSource(bytes, file));
    },
    load: async () => (await torch.jit.load(file)).dispose(),
  };
  await variants.load(); // LibTorch's first TorchScript load in the process costs more
  const times = { read: [], check: [], load: [] };
  const shares = [];
  for (let r = 0; r < ROUNDS; r++) {
    const names = Object.keys(variants);
    const round = {};
    for (const name of r % 2 ? names.reverse() : names) {
      const t0 = process.hrtime.bigint();
      await variants[name]();
      round[name] = ms(t0);
      times[name].push(round[name]);
    }
    shares.push((round.check - round.read) / round.load);
  }
  const result = {
    bench: 'jit-load',
    archiveMiB: +(fs.statSync(file).size / 2 ** 20).toFixed(1),
    rounds: ROUNDS,
    torch: torch.info().torchVersion,
    node: process.version,
    readMs: +median(times.read).toFixed(1),
    checkMs: +median(times.check).toFixed(1),
    loadMs: +median(times.load).toFixed(1),
    checkShareOfLoad: +median(shares).toFixed(3),
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`TorchScript archive ${result.archiveMiB} MiB, LibTorch ${result.torch}, Node ${result.node}, ${ROUNDS} rounds`);
    console.log(`read ${result.readMs} ms, read + check ${result.checkMs} ms, jit.load ${result.loadMs} ms; checks ${(100 * result.checkShareOfLoad).toFixed(1)}% of the load`);
  }
  cleanup();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
