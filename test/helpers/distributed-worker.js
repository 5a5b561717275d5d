// One process of a data-parallel test (test/distributed.test.ts), started by `launch` with RANK, WORLD_SIZE,
// MASTER_ADDR and MASTER_PORT set. argv: <scenario> <out dir>. Writes <out dir>/rank<R>.json with what it saw.
'use strict';
const fs = require('fs');
const path = require('path');
const torch = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));
const dist = torch.distributed;
const [scenario, outDir] = process.argv.slice(2);
const rank = Number(process.env.RANK);

// What an async call rejected with: [name, message] (null when it resolved).
async function failure(fn) {
  try {
    await fn();
    return null;
  } catch (e) {
    return [e.name, e.message];
  }
}

const scenarios = {
  // Every collective, each checked by the test against the values every rank contributes.
  async collectives() {
    const r = rank;
    const out = { rank: dist.getRank(), worldSize: dist.getWorldSize(), env: { LOCAL_RANK: process.env.LOCAL_RANK, LOCAL_WORLD_SIZE: process.env.LOCAL_WORLD_SIZE } };
    const s = torch.tensor([r + 1, 10 * (r + 1)]);
    await dist.allReduce(s);
    out.sum = Array.from(s.toArray());
    const a = torch.tensor([r, 2 * r], { dtype: 'float64' });
    await dist.allReduce(a, 'avg');
    out.avg = Array.from(a.toArray());
    const mx = torch.tensor([r, -r], { dtype: 'int64' });
    await dist.allReduce(mx, 'max');
    out.max = Array.from(mx.toArray(), Number);
    const mn = torch.tensor([r + 1], { dtype: 'int32' });
    await dist.allReduce(mn, 'min');
    out.min = Array.from(mn.toArray());
    const pr = torch.tensor([r + 2]);
    await dist.allReduce(pr, 'product');
    out.product = Array.from(pr.toArray());
    // A list: a transposed (non-contiguous) view, an int32 tensor between two float32 ones, an empty tensor.
    const base = torch.arange(0, 6, 1, { dtype: 'float32' }).reshape([2, 3]).add(r);
    const tr = base.t();
    const ints = torch.tensor([r, 1], { dtype: 'int32' });
    const f = torch.full([4], r);
    const empty = torch.zeros([0]);
    await dist.allReduce([tr, ints, f, empty]);
    out.list = { base: base.toNested(), ints: Array.from(ints.toArray()), f: Array.from(f.toArray()), empty: empty.shape };
    const b = torch.tensor([r * 100 + 7, r], { dtype: 'float64' });
    const b2 = torch.tensor([r], { dtype: 'int64' });
    await dist.broadcast([b, b2], 1);
    out.broadcast = [Array.from(b.toArray()), Array.from(b2.toArray(), Number)];
    const g = await dist.allGather(torch.tensor([r, r * 2]));
    out.allGather = g.map((t) => Array.from(t.toArray()));
    await dist.barrier();
    out.errors = {
      avgInt: await failure(() => dist.allReduce(torch.tensor([1], { dtype: 'int64' }), 'avg')),
      badOp: await failure(() => dist.allReduce(torch.tensor([1]), 'mean')),
      badSrc: await failure(() => dist.broadcast(torch.tensor([1]), 7)),
      notTensor: await failure(() => dist.allReduce([torch.tensor([1]), 3])),
      twice: await failure(() => dist.initProcessGroup()),
      fitBatch: await failure(() => torch.fit({ model: { name: 'resnet', args: { depth: 8 } }, data: 'synthetic', batchSize: 32, syntheticTrainSize: 64, syntheticTestSize: 8, epochs: 1, outDir: path.join(outDir, 'never') })),
    };
    // Processes that make different calls (another shape, dtype, collective or source) all get an error, and the
    // group still works afterwards. (Gloo itself aborts the process when the buffers' sizes differ.)
    out.mismatch = {
      shape: await failure(() => dist.allReduce(torch.ones([r === 2 ? 5 : 2]))),
      dtype: await failure(() => dist.allReduce(torch.ones([2], { dtype: r === 1 ? 'float64' : 'float32' }))),
      op: await failure(() => (r === 0 ? dist.barrier() : dist.allReduce(torch.ones([2])))),
      src: await failure(() => dist.broadcast(torch.ones([2]), r === 0 ? 1 : 0)),
      gather: await failure(() => dist.allGather(torch.ones([r + 1]))),
    };
    const after = torch.tensor([1]);
    await dist.allReduce(after);
    out.mismatch.after = Array.from(after.toArray());
    // A Trainer over a model that differs on one process fails at its first step, on every process.
    {
      const model = new torch.nn.Linear(4, r === 1 ? 3 : 2);
      const trainer = new torch.Trainer(model, new torch.optim.SGD(model.parameters(), { lr: 0.1 }), { processGroup: dist.defaultProcessGroup() });
      out.mismatch.trainer = await failure(() => trainer.step(torch.ones([2, 4]), torch.tensor([0, 1], { dtype: 'int64' })));
      trainer.dispose();
    }
    // The same model but an optimiser over other parameters on one process: the step's gradient exchange refuses.
    {
      const model = new torch.nn.Linear(4, 2);
      const params = model.parameters();
      const trainer = new torch.Trainer(model, new torch.optim.SGD(r === 1 ? params.slice(0, 1) : params, { lr: 0.1 }), { processGroup: dist.defaultProcessGroup() });
      out.mismatch.optimizer = await failure(() => trainer.step(torch.ones([2, 4]), torch.tensor([0, 1], { dtype: 'int64' })));
      trainer.dispose();
    }
    // Plain JS values: rank 1's list to every process (a Map of bigints, a string, a typed array), and every
    // rank's object, of a different size on each, to every process; then the errors, after which the group works.
    {
      const list = r === 1 ? [{ a: 1, m: new Map([['k', [1n, 2n]]]) }, 'two', new Float32Array([1.5, -2])] : [null, null, null];
      await dist.broadcastObjectList(list, 1);
      out.objects = { broadcast: [list[0].a, list[0].m.get('k').map(Number), list[1], Array.from(list[2]), list[2] instanceof Float32Array] };
      const gathered = ['stale'];
      await dist.allGatherObject(gathered, { rank: r, text: 'x'.repeat(r * 5000) });
      out.objects.gather = gathered.map((o) => [o.rank, o.text.length]);
      out.objects.errors = {
        length: await failure(() => dist.broadcastObjectList(new Array(r + 1).fill(0), 0)),
        unsendable: await failure(() => dist.allGatherObject([], r === 2 ? () => 1 : 1)),
        unsendableSrc: await failure(() => dist.broadcastObjectList([r === 0 ? Symbol('x') : 0], 0)),
        notArray: await failure(() => dist.broadcastObjectList('x', 0)),
        badSrc: await failure(() => dist.broadcastObjectList([0], 3)),
      };
      const after = [r === 0 ? 'ok' : null];
      await dist.broadcastObjectList(after);
      out.objects.after = after;
    }
    // Concurrent collectives on one group are refused (their order across processes would be undefined).
    const first = dist.allReduce(torch.tensor([1]));
    out.errors.concurrent = await failure(() => dist.allReduce(torch.tensor([2])));
    await first;
    return out;
  },

  // Data-parallel steps on this rank's half of fixed batches; the test compares the weights with one process
  // training on the whole batches. Rank 1 starts from other weights (the first step must copy rank 0's) and
  // votes to stop at step 2; steps run on a native model and on one with a forward written in JS.
  // DIST_TEST_DEVICE: the device of the model and batches (default cpu; cuda:0 for Gloo with CUDA tensors).
  async dataParallel() {
    const { models } = require('./distributed-models.js');
    const device = process.env.DIST_TEST_DEVICE || 'cpu';
    const out = {};
    for (const kind of ['native', 'js']) {
      torch.manualSeed(rank === 0 ? 1 : 99);
      const model = models[kind](torch).to({ device });
      const opt = new torch.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 });
      const trainer = new torch.Trainer(model, opt, { device, processGroup: dist.defaultProcessGroup() });
      const stops = [];
      for (let k = 0; k < 4; k++) {
        const [x, y] = require('./distributed-models.js').batch(torch, k);
        const idx = torch.tensor([...Array(x.shape[0]).keys()].filter((i) => i % 2 === rank), { dtype: 'int64' });
        const res = await trainer.step(x.indexSelect(0, idx).to(device), y.indexSelect(0, idx).to(device), { stop: rank === 1 && k === 2 });
        stops.push(res.stop);
      }
      out[kind] = { stops, params: Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, Array.from(t.cpu().toArray(), Number)])) };
      trainer.dispose();
    }
    return out;
  },

  // A BatchNorm ResNet trained data parallel on halves of fixed batches, for the comparison with PyTorch's
  // DistributedDataParallel on the same weights and batches (the test runs that). Rank 0 writes the initial
  // weights, the batches and its final state dict; rank 1 starts from other weights.
  async resnetBatchNorm() {
    torch.manualSeed(rank === 0 ? 3 : 77);
    const model = torch.resnetCifar({ depth: 8, layout: 'baseline', classes: 5 });
    if (rank === 0) torch.saveStateDict(path.join(outDir, 'init.pt'), model.stateDict());
    const opt = new torch.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    const trainer = new torch.Trainer(model, opt, { processGroup: dist.defaultProcessGroup() });
    const batches = [];
    for (let k = 0; k < 3; k++) {
      torch.manualSeed(1000 + k); // the same batches on both processes
      batches.push(torch.randn([16, 3, 16, 16]), torch.randint(0, 5, [16]));
    }
    if (rank === 0) torch.save(batches, path.join(outDir, 'batches.pt'));
    const idx = torch.arange(rank, 16, 2, { dtype: 'int64' });
    for (let k = 0; k < 3; k++) await trainer.step(batches[2 * k].indexSelect(0, idx), batches[2 * k + 1].indexSelect(0, idx));
    torch.saveStateDict(path.join(outDir, `final${rank}.pt`), model.stateDict());
    return { ok: true };
  },

  // fit over the group with a model whose forward records a random draw per training step (as a dropout mask
  // is drawn): the test checks the processes draw differently and a second run draws the same.
  async fitDraws() {
    const draws = [];
    torch.registerModel('probe', (args) => {
      class Probe extends torch.nn.Module {
        constructor() {
          super();
          this.fc = new torch.nn.Linear(3 * 32 * 32, args.classes ?? 10); // fit builds once before it knows the classes
        }
        forward(x) {
          if (this.training) draws.push(Array.from(torch.rand([3]).toArray()));
          return this.fc.forward(x.flatten(1));
        }
      }
      return new Probe();
    });
    await torch.fit({ model: { name: 'probe', args: {} }, data: 'synthetic', syntheticTrainSize: 64, syntheticTestSize: 16, batchSize: 16, epochs: 1, outDir: path.join(outDir, 'run') });
    return { draws };
  },

  // Rank 1 leaves right after joining: rank 0's collective must fail with an error, not hang or crash.
  async peerDies() {
    if (rank === 1) process.exit(3);
    process.on('SIGTERM', () => {}); // the launcher's stop after rank 1 failed: finish and report first
    const t0 = Date.now();
    const err = await failure(() => dist.allReduce(torch.tensor([1])));
    return { err, ms: Date.now() - t0 };
  },
};

(async () => {
  const timeout = Number(process.env.TEST_PG_TIMEOUT_MS || 60000);
  await dist.initProcessGroup({ backend: 'gloo', timeout });
  const result = await scenarios[scenario]();
  fs.writeFileSync(path.join(outDir, `rank${rank}.json`), JSON.stringify(result));
  dist.destroyProcessGroup();
})().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
