#!/usr/bin/env node
// ictorch's side of bench/imagenet-loader.sh: iterates imagenet(dir).train batches, with the training
// transform (train) or the validation transform (val: augment false, in order), and prints
// one JSON line {images, seconds, imagesPerSecond}. The clock starts after `warmup` batches (index load,
// thread start-up and the first decodes are not counted); each batch is disposed as soon as it arrives.
//   node bench/imagenet-loader.js DIR train|val WORKERS BATCHES [WARMUP] [BATCH_SIZE]
'use strict';
const path = require('path');
const torch = require(path.join(__dirname, '..', 'dist'));

async function main() {
  const [dir, mode, workers, batches, warmup = '2', batchSize = '64'] = process.argv.slice(2);
  if (!dir || !['train', 'val'].includes(mode)) throw new Error('usage: imagenet-loader.js DIR train|val WORKERS BATCHES [WARMUP] [BATCH_SIZE]');
  const data = await torch.imagenet(dir, { workers: Number(workers) });
  const split = data.train;
  const augment = mode === 'train';
  const want = Number(batches) + Number(warmup);
  let n = 0;
  let images = 0;
  let t0 = 0;
  // Epochs follow one another until enough batches were seen.
  for (let epoch = 0; n < want; epoch++) {
    for await (const b of split.batches({ batchSize: Number(batchSize), seed: 1, epoch, dropLast: true, augment, shuffle: augment })) {
      if (n === Number(warmup)) t0 = performance.now();
      if (n >= Number(warmup)) images += b.images.shape[0];
      b.images.dispose();
      b.labels.dispose();
      if (++n >= want) break;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  data.dispose();
  console.log(JSON.stringify({ images, seconds, imagesPerSecond: images / seconds }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
