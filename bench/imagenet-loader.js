#!/usr/bin/env node
// ictorch's side of bench/imagenet-loader.sh: iterates imagenet(dir).train batches, with the training
// transform (train) or the validation transform (val: augment false, in order), and prints one JSON line
// {images, seconds, imagesPerSecond, cpuSeconds, imagesPerCpuSecond}. The clock starts after `warmup`
// batches (index load, thread start-up and the first decodes are not counted); cpuSeconds is the process's
// user + system time over the same window (all its threads). Each batch is disposed as soon as it arrives.
//   node bench/imagenet-loader.js DIR train|val WORKERS BATCHES [WARMUP] [BATCH_SIZE]
'use strict';
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist'));

async function main() {
  const [dir, mode, workers, batches, warmup = '2', batchSize = '64'] = process.argv.slice(2);
  if (!dir || !['train', 'val'].includes(mode)) throw new Error('usage: imagenet-loader.js DIR train|val WORKERS BATCHES [WARMUP] [BATCH_SIZE]');
  const data = await torch.imagenet(dir, { workers: Number(workers) });
  const augment = mode === 'train';
  const want = Number(batches) + Number(warmup);
  if (want > data.train.numBatches({ batchSize: Number(batchSize) })) throw new Error(`the tree has fewer than ${want} batches of ${batchSize}`);
  let n = 0;
  let images = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  for await (const b of data.train.batches({ batchSize: Number(batchSize), seed: 1, epoch: 0, dropLast: true, augment, shuffle: augment })) {
    if (n === Number(warmup)) {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    }
    if (n >= Number(warmup)) images += b.images.shape[0];
    b.images.dispose();
    b.labels.dispose();
    if (++n >= want) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  data.dispose();
  console.log(JSON.stringify({ images, seconds, imagesPerSecond: images / seconds, cpuSeconds, imagesPerCpuSecond: images / cpuSeconds }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
