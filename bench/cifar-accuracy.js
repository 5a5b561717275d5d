#!/usr/bin/env node
// bench/cifar-accuracy.js: decodes an image-folder data set exactly as ictorch's imageFolder does (the same sharp
// calls, classes and files in the same sorted order), without needing the ictorch addon, so that PyTorch
// (bench/cifar-accuracy.py) can train on the same bytes while the addon is still being built. Files:
// <prefix>.json ({train, test, height, width, classes}), <prefix>.{train,test}.images (uint8 [N, 3, H, W]) and
// <prefix>.{train,test}.labels (int64 [N]). With --check, also loads the set through ictorch (needs the built
// addon) and verifies that the images and labels are byte for byte the same.
//
//   node bench/cifar-accuracy.js <dir> <prefix> [limitPerClass] [--check]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const EXTENSIONS = /\.(jpe?g|png)$/i;

function subdirs(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && fs.statSync(path.join(dir, e.name)).isDirectory())))
    .map((e) => e.name)
    .sort();
}

function imageFiles(dir, limit) {
  const names = fs.readdirSync(dir).filter((n) => !n.startsWith('.') && EXTENSIONS.test(n)).sort();
  return (limit === undefined ? names : names.slice(0, limit)).map((n) => path.join(dir, n));
}

async function main() {
  const args = process.argv.slice(2).filter((a) => a !== '--check');
  const check = process.argv.includes('--check');
  const [dir, prefix, limitArg] = args;
  if (!dir || !prefix) throw new Error('usage: node bench/cifar-accuracy.js <dir> <prefix> [limitPerClass] [--check]');
  const limit = limitArg ? Number(limitArg) : undefined;
  const sharp = require('sharp');
  const trainDir = path.join(dir, 'train');
  const testDir = fs.existsSync(path.join(dir, 'test')) ? path.join(dir, 'test') : path.join(dir, 'val');
  const classes = subdirs(trainDir);
  const entries = { train: [], test: [] };
  classes.forEach((c, k) => imageFiles(path.join(trainDir, c), limit).forEach((file) => entries.train.push({ file, label: k })));
  for (const c of subdirs(testDir)) {
    const k = classes.indexOf(c);
    if (k < 0) throw new Error(`test class ${c} is not a training class`);
    imageFiles(path.join(testDir, c), limit).forEach((file) => entries.test.push({ file, label: k }));
  }
  const decode = async (file) => {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${file}: ${info.channels} channels`);
    return { data, width: info.width, height: info.height };
  };
  const first = await decode(entries.train[0].file);
  const { height, width } = first;
  const plane = height * width;
  const meta = { train: entries.train.length, test: entries.test.length, height, width, classes };
  const concurrency = Math.min(16, os.availableParallelism?.() ?? os.cpus().length);
  for (const split of ['train', 'test']) {
    const list = entries[split];
    const images = Buffer.alloc(list.length * 3 * plane);
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const i = next++;
        const d = await decode(list[i].file);
        if (d.width !== width || d.height !== height) throw new Error(`${list[i].file} is ${d.width}x${d.height}, not ${width}x${height}`);
        const base = i * 3 * plane;
        for (let p = 0, q = 0; p < plane; p++, q += 3) {
          images[base + p] = d.data[q];
          images[base + plane + p] = d.data[q + 1];
          images[base + 2 * plane + p] = d.data[q + 2];
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const labels = new BigInt64Array(list.map((e) => BigInt(e.label)));
    fs.writeFileSync(`${prefix}.${split}.images`, images);
    fs.writeFileSync(`${prefix}.${split}.labels`, Buffer.from(labels.buffer));
    if (check) {
      const t = require('../dist');
      main.ds ??= await t.loadData(`imagefolder:${dir}`, { limitPerClass: limit });
      const s = split === 'train' ? main.ds.train : main.ds.test;
      const same = Buffer.compare(Buffer.from(s.images.toArray()), images) === 0 && Buffer.compare(Buffer.from(s.labels.toArray().buffer), Buffer.from(labels.buffer)) === 0;
      if (!same) throw new Error(`${split}: the images or labels differ from what ictorch's imageFolder decodes`);
      meta[`${split}SameAsIctorch`] = true;
    }
  }
  fs.writeFileSync(`${prefix}.json`, JSON.stringify(meta));
  console.log(JSON.stringify({ exported: prefix, ...meta, classes: classes.length }));
  main.ds?.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
