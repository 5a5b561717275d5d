// The common data interface (DataSplit.batches) over the in-memory sets: seeded, resumable, shardable order;
// per-sample augmentation independent of batching; each set's own statistics; loader() for hand-written
// loops; fit taking classes from the data set and writing a resumed copy into the copy.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { cifarBinSampleDir, cifarJpegDir } from './helpers/data';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ictorch-${name}-`));

async function collect(split: torch.DataSplit, options: torch.BatchesOptions): Promise<{ indices: number[][]; images: number[][]; labels: number[][] }> {
  const out = { indices: [] as number[][], images: [] as number[][], labels: [] as number[][] };
  for await (const b of split.batches(options)) {
    out.indices.push(Array.from(b.indices));
    out.images.push(Array.from(b.images.toArray() as Uint8Array));
    out.labels.push(Array.from(b.labels.toArray() as BigInt64Array, Number));
    b.images.dispose();
    b.labels.dispose();
  }
  return out;
}

describe('DataSplit.batches over an in-memory set', () => {
  const ds = torch.syntheticDataset({ trainSize: 103, testSize: 21, seed: 4 });

  it('the same (seed, epoch) gives the same batches; another epoch or seed another order; each epoch is a permutation', async () => {
    const a = await collect(ds.train, { batchSize: 10, seed: 1, epoch: 0 });
    const b = await collect(ds.train, { batchSize: 10, seed: 1, epoch: 0 });
    expect(b).toEqual(a);
    expect(a.indices).toHaveLength(10); // training split: dropLast by default (103 = 10 × 10 + 3)
    const e1 = await collect(ds.train, { batchSize: 10, seed: 1, epoch: 1 });
    const s2 = await collect(ds.train, { batchSize: 10, seed: 2, epoch: 0 });
    expect(e1.indices).not.toEqual(a.indices);
    expect(s2.indices).not.toEqual(a.indices);
    const all = (await collect(ds.train, { batchSize: 10, seed: 1, epoch: 0, dropLast: false })).indices.flat();
    expect([...all].sort((x, y) => x - y)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    // Labels follow the indices.
    const labels = Array.from(ds.train.labels.toArray() as BigInt64Array, Number);
    a.indices.forEach((idx, k) => expect(a.labels[k]).toEqual(idx.map((i) => labels[i])));
  });

  it('a test split is served in order with the last partial batch and no augmentation by default', async () => {
    const t = await collect(ds.test, { batchSize: 8 });
    expect(t.indices).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15], [16, 17, 18, 19, 20]]);
    const raw = Array.from(ds.test.images.narrow(0, 0, 8).toArray() as Uint8Array);
    expect(t.images[0]).toEqual(raw);
    expect(ds.test.numBatches({ batchSize: 8 })).toBe(3);
    expect(ds.train.numBatches({ batchSize: 8 })).toBe(12);
  });

  it('start resumes an epoch in the middle with exactly the remaining batches', async () => {
    const whole = await collect(ds.train, { batchSize: 16, seed: 9, epoch: 3 });
    const rest = await collect(ds.train, { batchSize: 16, seed: 9, epoch: 3, start: 4 });
    expect(rest.indices).toEqual(whole.indices.slice(4));
    expect(rest.images).toEqual(whole.images.slice(4)); // augmentation included
  });

  it('shards are disjoint and together cover the epoch', async () => {
    const parts = await Promise.all([0, 1, 2].map((rank) => collect(ds.train, { batchSize: 5, seed: 3, rank, worldSize: 3, dropLast: false })));
    const seen = parts.flatMap((p) => p.indices.flat());
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(parts.map((p) => p.indices.flat().length)).toEqual([35, 34, 34]);
  });

  it("an image's augmentation depends on (seed, epoch, index) only, not on the batch it lands in", async () => {
    const big = await collect(ds.train, { batchSize: 50, seed: 5, epoch: 2 });
    const small = await collect(ds.train, { batchSize: 7, seed: 5, epoch: 2 });
    const plane = 3 * 32 * 32;
    const byIndex = (r: typeof big) => {
      const m = new Map<number, string>();
      r.indices.forEach((idx, k) => idx.forEach((i, j) => m.set(i, r.images[k].slice(j * plane, (j + 1) * plane).join(','))));
      return m;
    };
    const mb = byIndex(big), ms = byIndex(small);
    let compared = 0;
    for (const [i, v] of ms) if (mb.has(i)) (expect(mb.get(i)).toBe(v), compared++);
    expect(compared).toBeGreaterThan(50);
    // And the augmentation does something: some images differ from the stored ones.
    const raw = Array.from(ds.train.images.toArray() as Uint8Array);
    const changed = [...mb].filter(([i, v]) => v !== raw.slice(i * plane, (i + 1) * plane).join(',')).length;
    expect(changed).toBeGreaterThan(mb.size / 2);
  });

  it('unknown or bad options are errors naming them', async () => {
    const first = (o: unknown) => ds.train.batches(o as torch.BatchesOptions).next();
    await expect(first({ batchSize: 4, batch_size: 4 })).rejects.toThrow(/unknown option 'batch_size'; did you mean 'batchSize'\?/);
    await expect(first({ batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(first({ batchSize: 4, rank: 2, worldSize: 2 })).rejects.toThrow(/rank/);
    await expect(first({ batchSize: 4, start: 1000 })).rejects.toThrow(/start/);
  });

  it('stops when its signal aborts', async () => {
    const stop = new AbortController();
    let n = 0;
    for await (const b of ds.train.batches({ batchSize: 10, signal: stop.signal })) {
      b.images.dispose();
      b.labels.dispose();
      if (++n === 3) stop.abort();
    }
    expect(n).toBe(3);
  });
});

describe('data set statistics', () => {
  it('CIFAR-10 and CIFAR-100 carry their own published statistics; image folders and the synthetic set their training images\' own', async () => {
    const c10 = await torch.cifar10(cifarBinSampleDir());
    expect(c10.mean).toEqual(torch.CIFAR10_MEAN);
    expect(c10.train.std).toEqual(torch.CIFAR10_STD);
    c10.dispose();
    // CIFAR-100: a generated file in its binary layout (the real one is not on these machines).
    const dir = tmp('c100');
    const rec = (i: number) => Buffer.from([i % 20, i % 100, ...new Array(3072).fill(i % 256)]);
    fs.writeFileSync(path.join(dir, 'train.bin'), Buffer.concat(Array.from({ length: 8 }, (_, i) => rec(i))));
    fs.writeFileSync(path.join(dir, 'test.bin'), Buffer.concat(Array.from({ length: 4 }, (_, i) => rec(i))));
    const c100 = await torch.cifar100(dir);
    expect(c100.mean).toEqual(torch.CIFAR100_MEAN);
    expect(c100.test.std).toEqual(torch.CIFAR100_STD);
    c100.dispose();
    const folder = await torch.imageFolder(cifarJpegDir(), { limitPerClass: 20, cache: false });
    const own = torch.channelStats(folder.train.images);
    expect(folder.mean).toEqual(own.mean);
    expect(folder.mean).not.toEqual(torch.CIFAR10_MEAN);
    // Close to the published CIFAR-10 figures, as 200 of its images should be.
    own.mean.forEach((m, c) => expect(Math.abs(m - torch.CIFAR10_MEAN[c])).toBeLessThan(0.06));
    folder.dispose();
  });

  it('channelStats is the per-channel mean and standard deviation over every pixel', () => {
    torch.tidy(() => {
      const x = torch.randint(0, 256, [6, 3, 5, 7], { dtype: 'uint8' });
      const { mean, std } = torch.channelStats(x);
      const f = x.to('float64').div(255).transpose(0, 1).reshape(3, -1);
      const m = Array.from(f.mean(1).toArray() as Float64Array);
      const s = Array.from(f.std(1, false, false).toArray() as Float64Array);
      m.forEach((v, c) => expect(mean[c]).toBeCloseTo(v, 12));
      s.forEach((v, c) => expect(std[c]).toBeCloseTo(v, 10));
    });
  });
});

describe('loader', () => {
  it('one epoch per loop, normalised with the split statistics, the same batches the split serves', async () => {
    const ds = torch.syntheticDataset({ trainSize: 40, testSize: 8 });
    const l = torch.loader(ds.train, { batchSize: 16, seed: 7 });
    expect(l.length).toBe(2);
    const epochs: number[][][] = [];
    for (let e = 0; e < 2; e++) {
      const idx: number[][] = [];
      for await (const { images, labels, indices } of l) {
        expect(images.dtype).toBe('float32');
        expect(images.shape).toEqual([16, 3, 32, 32]);
        expect(labels.shape).toEqual([16]);
        idx.push(Array.from(indices));
        images.dispose();
        labels.dispose();
      }
      epochs.push(idx);
    }
    expect(epochs[0]).toEqual((await collect(ds.train, { batchSize: 16, seed: 7, epoch: 0 })).indices);
    expect(epochs[1]).toEqual((await collect(ds.train, { batchSize: 16, seed: 7, epoch: 1 })).indices);
    // normalize: false gives the uint8 batch; normalisation is the split's (x/255 - mean)/std.
    const raw = torch.loader(ds.test, { batchSize: 8, normalize: false });
    const norm = torch.loader(ds.test, { batchSize: 8 });
    const [r] = await first(raw), [n] = await first(norm);
    torch.tidy(() => {
      const expected = torch.normalizeBatch(r.images, { mean: ds.mean, std: ds.std });
      expect(expected.sub(n.images).abs().max().item()).toBeLessThan(1e-6);
    });
    expect(() => torch.loader(ds.train, { batchSize: 4, shuffel: true } as never)).toThrow(/unknown option 'shuffel'; did you mean 'shuffle'/);
    ds.dispose();
  });

  async function first(l: torch.DataLoader): Promise<torch.LoaderBatch[]> {
    for await (const b of l) return [b];
    return [];
  }
});

describe('fit over the data interface', () => {
  it("takes the model's class count from the data set unless given; more classes than the model has is an error", async () => {
    const images = torch.randint(0, 256, [40, 3, 16, 16], { dtype: 'uint8' });
    const labels = torch.arange(0, 40).remainder(4).to('int64');
    const dataset = { train: { images, labels }, test: { images, labels }, classes: ['a', 'b', 'c', 'd'] };
    const r = await torch.fit({ model: { name: 'resnet', args: { depth: 8 } }, epochs: 1, batchSize: 20, outDir: tmp('classes') }, { dataset });
    const ck = torch.loadCheckpoint(r.checkpoint);
    expect(ck.model.args.classes).toBe(4);
    expect(ck.modelState['fc.weight'].shape).toEqual([4, 64]);
    torch.disposeCheckpoint(ck);
    const tooMany = { ...dataset, classes: Array.from({ length: 12 }, (_, i) => `c${i}`) };
    await expect(torch.fit({ model: { name: 'resnet', args: { depth: 8, classes: 10 } }, epochs: 1, batchSize: 20, outDir: tmp('few') }, { dataset: tooMany })).rejects.toThrow(
      /the data set has 12 classes but the model is built for 10/,
    );
    images.dispose();
    labels.dispose();
  });

  it('unknown config names are errors with a suggestion', async () => {
    await expect(torch.fit({ model: { name: 'resnet', args: { depth: 8 } }, batch_size: 32 } as never)).rejects.toThrow(/fit: unknown key in config 'batch_size'; did you mean 'batchSize'\?/);
  });

  it('resuming a copied run directory writes into the copy, never the original', async () => {
    const cfg = { model: { name: 'resnet', args: { depth: 8 } }, data: 'synthetic', epochs: 2, batchSize: 64, syntheticTrainSize: 128, syntheticTestSize: 64 };
    const orig = tmp('orig');
    await torch.fit({ ...cfg, outDir: orig }, { stopAfterEpochs: 1 });
    const copy = tmp('copy');
    fs.cpSync(orig, copy, { recursive: true });
    const before = fs.readFileSync(path.join(orig, 'checkpoint.ckpt'));
    const r = await torch.fit({}, { resume: path.join(copy, 'checkpoint.ckpt') });
    expect(r.runDir).toBe(path.resolve(copy));
    expect(fs.readFileSync(path.join(orig, 'checkpoint.ckpt')).equals(before)).toBe(true);
    const ck = torch.loadCheckpoint(path.join(copy, 'checkpoint.ckpt'));
    expect(ck.epoch).toBe(2);
    torch.disposeCheckpoint(ck);
  });
});
