// imagenet(): layouts and labels, the file index and its cache, batches (order, resume, sharding,
// determinism), bounded prefetch and release, corrupt files.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as torch from '../lib';
import type { Batch } from '../lib/data/types';
import { imagenet, type ImageNetSplit } from '../lib/data/imagenet';
import { jpegInfo } from '../lib/data/jpeg';
import { settleGc } from './helpers/gc';
import { NAMES, WNIDS, cifarJpeg, makeTree } from './helpers/imagenet';

const SIZE = { trainSize: 24, valSize: 24, resizeSize: 28 };

function tmp(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ictorch-imagenet-${name}-`));
}

/** All batches of an epoch as plain data (tensors disposed). */
async function collect(split: ImageNetSplit, options: Parameters<ImageNetSplit['batches']>[0]) {
  const out: { images: Uint8Array; labels: number[]; indices: number[]; position: number; shape: number[] }[] = [];
  for await (const b of split.batches(options)) {
    out.push({ images: b.images.toArray() as Uint8Array, labels: Array.from(b.labels.toArray() as BigInt64Array, Number), indices: Array.from(b.indices), position: b.position, shape: b.images.shape });
    b.images.dispose();
    b.labels.dispose();
  }
  return out;
}

describe('imagenet(): layouts, labels and classes', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

  it('reads the three validation layouts to the same labels; classes sorted; class names from the synset mapping', async () => {
    const seen: Record<string, [string, number][]> = {};
    for (const layout of ['csv', 'list', 'folders'] as const) {
      const root = tmp(layout);
      roots.push(root);
      const { val } = await makeTree(root, { classes: 3, perClass: 2, valPerClass: 2, layout });
      const data = await imagenet(root, { ...SIZE, workers: 1 });
      expect(data.classes).toEqual(WNIDS.slice(0, 3));
      expect(data.classNames).toEqual(NAMES.slice(0, 3));
      expect(data.mean).toEqual([0.485, 0.456, 0.406]);
      expect(data.std).toEqual([0.229, 0.224, 0.225]);
      expect(data.train.length).toBe(6);
      expect(data.test.length).toBe(6);
      expect(data.test.name).toBe('val');
      const pairs: [string, number][] = [];
      for (let i = 0; i < data.test.length; i++) pairs.push([path.basename(data.test.file(i)), data.test.label(i)]);
      // Each file's label is its wnid's position among the sorted training folders.
      for (const [f, k] of pairs) expect(WNIDS[k]).toBe(val.find(([n]) => n === f)![1]);
      seen[layout] = pairs.sort();
      // Training labels follow the folders.
      for (let i = 0; i < data.train.length; i++) expect(data.train.file(i)).toContain(`/train/${WNIDS[data.train.label(i)]}/`);
      data.dispose();
    }
    expect(seen.list).toEqual(seen.csv);
    expect(seen.folders).toEqual(seen.csv);
  });

  it('takes synset_words.txt too, and no class names when there is no mapping', async () => {
    const root = tmp('names');
    roots.push(root);
    await makeTree(root, { classes: 2, perClass: 1, valPerClass: 1, names: false });
    let data = await imagenet(root, SIZE);
    expect(data.classNames).toBeUndefined();
    data.dispose();
    // A names file that appears later invalidates the cached index.
    fs.writeFileSync(path.join(root, 'synset_words.txt'), `${WNIDS[1]} goldfish\n${WNIDS[0]} tench\n`);
    data = await imagenet(root, SIZE);
    expect(data.classNames).toEqual(['tench', 'goldfish']);
    data.dispose();
  });

  it('subsets with classes and limitPerClass (first classes, first files by name)', async () => {
    const root = tmp('subset');
    roots.push(root);
    await makeTree(root, { classes: 4, perClass: 4, valPerClass: 3 });
    const data = await imagenet(root, { ...SIZE, classes: 2, limitPerClass: 2 });
    expect(data.classes).toEqual(WNIDS.slice(0, 2));
    expect(data.train.length).toBe(4);
    expect([0, 1, 2, 3].map((i) => path.basename(data.train.file(i)))).toEqual([`${WNIDS[0]}_0.JPEG`, `${WNIDS[0]}_1.JPEG`, `${WNIDS[1]}_0.JPEG`, `${WNIDS[1]}_1.JPEG`]);
    expect(data.test.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(data.test.label(i)).toBeLessThan(2);
    data.dispose();
    await expect(imagenet(root, { classes: 9 })).rejects.toThrow(/asked for classes: 9 but .* has 4 class folders/);
  });

  it('names the file and line of a label with an unknown wnid, and a validation file without a label', async () => {
    const root = tmp('badlabels');
    roots.push(root);
    await makeTree(root, { classes: 2, perClass: 1, valPerClass: 2 });
    const csv = path.join(root, 'LOC_val_solution.csv');
    const lines = fs.readFileSync(csv, 'utf8').split('\n');
    lines[3] = lines[3].replace(/n\d{8}/g, 'n99999999');
    fs.writeFileSync(csv, lines.join('\n'));
    await expect(imagenet(root, SIZE)).rejects.toThrow(`${csv} line 4: "n99999999" (for ${lines[3].split(',')[0]}) is not a class of the training set`);
    const fixed = fs.readFileSync(csv, 'utf8').replace(/n99999999/g, WNIDS[0]).split('\n');
    fs.writeFileSync(csv, [fixed[0], ...fixed.slice(2)].join('\n'));
    await expect(imagenet(root, SIZE)).rejects.toThrow(/val\/ILSVRC2012_val_00000001.JPEG has no label in .*LOC_val_solution.csv/);
    // A labels file named explicitly, in the plain format.
    const list = path.join(root, 'my-labels.txt');
    fs.writeFileSync(list, fixed.slice(1).filter(Boolean).map((l, i) => `${l.split(',')[0]}.JPEG ${WNIDS[i % 2]}`).join('\n'));
    fs.rmSync(csv);
    const data = await imagenet(root, { ...SIZE, valLabels: list });
    expect(data.test.length).toBe(4);
    data.dispose();
    fs.rmSync(list);
    await expect(imagenet(root, SIZE)).rejects.toThrow(/holds images but no labels were found: looked for LOC_val_solution.csv and val_labels.txt/);
  });

  it('rejects unknown options and bad values', async () => {
    const root = tmp('opts');
    roots.push(root);
    await makeTree(root, { classes: 1, perClass: 1, valPerClass: 1 });
    await expect(imagenet(root, { workerz: 2 } as never)).rejects.toThrow(/unknown option 'workerz'; did you mean 'workers'\?/);
    await expect(imagenet(root, { scale: [0.5, 0.1] })).rejects.toThrow(/scale/);
    await expect(imagenet(root, { resizeSize: 100, valSize: 224 })).rejects.toThrow(/resizeSize/);
    await expect(imagenet(root, { workers: 0 })).rejects.toThrow(/workers/);
    await expect(imagenet(path.join(root, 'nope'))).rejects.toThrow(/does not exist/);
    await expect(imagenet(path.join(root, 'train'))).rejects.toThrow(/has no train\/ folder/);
    const data = await imagenet(root, SIZE);
    expect(() => data.train.batches({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => data.train.batches({ batchSize: 1, shufle: true } as never)).toThrow(/unknown option 'shufle'; did you mean 'shuffle'\?/);
    expect(() => data.train.batches({ batchSize: 1, rank: 2, worldSize: 2 })).toThrow(/rank/);
    expect(() => data.train.batches({ batchSize: 1, device: 'tpu' })).toThrow(/device/);
    expect(() => data.train.batches({ batchSize: 1, start: 5 })).toThrow(/start/);
    data.dispose();
    expect(() => data.train.batches({ batchSize: 1 })).toThrow(/disposed/);
  });
});

describe.skipIf(!jpegInfo().available)('imagenet(): batches', () => {
  let root: string;
  let data: Awaited<ReturnType<typeof imagenet>>;
  beforeAll(async () => {
    root = tmp('batches');
    await makeTree(root, { classes: 4, perClass: 6, valPerClass: 2 });
    data = await imagenet(root, { ...SIZE, workers: 2 });
  });
  afterAll(() => {
    data.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('yields uint8 [B, 3, H, W] images and int64 labels that match the index; train shuffles and drops the last batch', async () => {
    const bs = await collect(data.train, { batchSize: 5, seed: 3 });
    expect(bs.length).toBe(4); // 24 samples, dropLast
    expect(data.train.numBatches({ batchSize: 5 })).toBe(4);
    for (const [k, b] of bs.entries()) {
      expect(b.shape).toEqual([5, 3, 24, 24]);
      expect(b.position).toBe(k);
      expect(b.labels).toEqual(b.indices.map((i) => data.train.label(i)));
    }
    const all = bs.flatMap((b) => b.indices);
    expect(new Set(all).size).toBe(20);
    expect(all).not.toEqual([...all].sort((a, b) => a - b));
    // The order is order.ts's for (seed, epoch).
    expect(all).toEqual(Array.from(torch.epochOrder(24, 3, 0, true).subarray(0, 20)));
  });

  it('validation: in order, last batch kept, no flip: equals the centre crop of each file', async () => {
    const bs = await collect(data.test, { batchSize: 3 });
    expect(bs.map((b) => b.shape[0])).toEqual([3, 3, 2]);
    expect(bs.flatMap((b) => b.indices)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const again = await collect(data.test, { batchSize: 8, seed: 99, epoch: 5 });
    expect(Buffer.from(again[0].images).equals(Buffer.concat(bs.map((b) => Buffer.from(b.images))))).toBe(true);
  });

  it('is a pure function of (seed, epoch): batching, prefetch and worker count do not change a sample', async () => {
    const a = await collect(data.train, { batchSize: 4, seed: 7, epoch: 2 });
    const b = await collect(data.train, { batchSize: 6, seed: 7, epoch: 2, prefetch: 1 });
    const S = 3 * 24 * 24;
    const bySample = (bs: typeof a) => {
      const m = new Map<number, Buffer>();
      for (const x of bs) x.indices.forEach((i, k) => m.set(i, Buffer.from(x.images.subarray(k * S, (k + 1) * S))));
      return m;
    };
    const ma = bySample(a);
    const mb = bySample(b);
    for (const [i, img] of mb) expect(img.equals(ma.get(i)!)).toBe(true);
    const other = await imagenet(root, { ...SIZE, workers: 1 });
    const c = bySample(await collect(other.train, { batchSize: 4, seed: 7, epoch: 2 }));
    other.dispose();
    for (const [i, img] of c) expect(img.equals(ma.get(i)!)).toBe(true);
    // Another epoch: another order and other crops.
    const d = bySample(await collect(data.train, { batchSize: 4, seed: 7, epoch: 3 }));
    let same = 0;
    for (const [i, img] of d) if (ma.has(i) && img.equals(ma.get(i)!)) same++;
    expect(same).toBeLessThan(3);
  });

  it('resumes mid-epoch with the same remaining batches', async () => {
    const full = await collect(data.train, { batchSize: 4, seed: 11, epoch: 1 });
    const rest = await collect(data.train, { batchSize: 4, seed: 11, epoch: 1, start: 2 });
    expect(rest.map((b) => b.position)).toEqual([2, 3, 4, 5]);
    expect(rest.map((b) => b.indices)).toEqual(full.slice(2).map((b) => b.indices));
    rest.forEach((b, k) => expect(Buffer.from(b.images).equals(Buffer.from(full[k + 2].images))).toBe(true));
    expect(await collect(data.train, { batchSize: 4, seed: 11, epoch: 1, start: 6 })).toEqual([]);
  });

  it('shards the epoch disjointly and completely', async () => {
    const ws = 3;
    const shards = [];
    for (let r = 0; r < ws; r++) shards.push((await collect(data.train, { batchSize: 2, seed: 5, rank: r, worldSize: ws, dropLast: false })).flatMap((b) => b.indices));
    const all = shards.flat();
    expect(all.length).toBe(24);
    expect(new Set(all).size).toBe(24);
    expect(shards.map((s) => s.length)).toEqual([8, 8, 8]);
    expect(data.train.numBatches({ batchSize: 3, rank: 0, worldSize: 5 })).toBe(1); // 5 samples, dropLast
  });

  it('keeps at most `prefetch` batches in flight with a slow consumer, and memory flat', async () => {
    await settleGc(); // what earlier tests dropped is collected now, not in the middle of the count
    const before = torch.memory().tensors;
    let maxInFlight = 0;
    let maxLive = 0;
    for await (const b of data.train.batches({ batchSize: 2, seed: 1, prefetch: 2 })) {
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 20));
        maxInFlight = Math.max(maxInFlight, data.train.inFlight);
        maxLive = Math.max(maxLive, torch.memory().tensors - before);
      }
      b.images.dispose();
      b.labels.dispose();
    }
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(maxInFlight).toBeGreaterThan(0);
    // The batch in hand (2 tensors) plus at most 2 prepared ahead (2 each).
    expect(maxLive).toBeLessThanOrEqual(6);
    expect(torch.memory().tensors).toBe(before);
    for await (const b of data.train.batches({ batchSize: 1, prefetch: 1 })) {
      expect(data.train.inFlight).toBeLessThanOrEqual(1);
      b.images.dispose();
      b.labels.dispose();
    }
  });

  it('frees everything when the loop is left early, or aborted by a signal', async () => {
    await settleGc(); // what earlier tests dropped is collected now, not in the middle of the count
    const before = torch.memory().tensors;
    for await (const b of data.train.batches({ batchSize: 2, prefetch: 3 })) {
      b.images.dispose();
      b.labels.dispose();
      break;
    }
    expect(data.train.inFlight).toBe(0);
    expect(torch.memory().tensors).toBe(before);
    const it = data.train.batches({ batchSize: 2, prefetch: 3 });
    const first = await it.next();
    disposeBatch(first.value as Batch);
    await it.return!(undefined);
    expect(torch.memory().tensors).toBe(before);
    const ac = new AbortController();
    let n = 0;
    for await (const b of data.train.batches({ batchSize: 2, prefetch: 3, signal: ac.signal })) {
      n++;
      disposeBatch(b);
      if (n === 2) ac.abort();
    }
    expect(n).toBe(2);
    expect(data.train.inFlight).toBe(0);
    expect(torch.memory().tensors).toBe(before);
    // Disposing the data set in the middle of a loop ends it with an error, and frees what was in flight.
    const other = await imagenet(root, { ...SIZE, workers: 1 });
    await expect(
      (async () => {
        for await (const b of other.train.batches({ batchSize: 2, prefetch: 4 })) {
          disposeBatch(b);
          other.dispose();
        }
      })(),
    ).rejects.toThrow(/disposed during the iteration|data set has been disposed/);
    expect(torch.memory().tensors).toBe(before);
  });
});

function disposeBatch(b: Batch): void {
  b.images.dispose();
  b.labels.dispose();
}

describe.skipIf(!jpegInfo().available)('imagenet(): corrupt files', () => {
  let root: string;
  beforeAll(async () => {
    root = tmp('corrupt');
    await makeTree(root, { classes: 2, perClass: 5, valPerClass: 1 });
    const good = await cifarJpeg(0, 100, [90, 70]);
    fs.writeFileSync(path.join(root, 'train', WNIDS[0], `${WNIDS[0]}_1.JPEG`), good.subarray(0, good.length >> 1)); // truncated
    fs.writeFileSync(path.join(root, 'train', WNIDS[1], `${WNIDS[1]}_3.JPEG`), Buffer.from('not a picture at all'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('fails naming the file, or with skipCorrupt replaces and counts it (batches keep their size, labels follow)', async () => {
    let data = await imagenet(root, SIZE);
    await expect(collect(data.train, { batchSize: 10, shuffle: false })).rejects.toThrow(/cannot decode .*n01440764_1.JPEG: the file is truncated.*skipCorrupt/);
    expect(torch.memory().tensors).toBe(0);
    data.dispose();
    data = await imagenet(root, { ...SIZE, skipCorrupt: true });
    const bs = await collect(data.train, { batchSize: 4, seed: 2 });
    expect(bs.map((b) => b.shape[0])).toEqual([4, 4]);
    for (const b of bs) expect(b.labels).toEqual(b.indices.map((i) => data.train.label(i)));
    const used = bs.flatMap((b) => b.indices);
    const corrupt = [1, 8];
    const order = Array.from(torch.epochOrder(10, 2, 0, true));
    for (const c of corrupt) expect(used).not.toContain(c);
    const expectedSkips = order.slice(0, 8).filter((i) => corrupt.includes(i)).length;
    expect(data.train.skippedCorrupt).toBe(expectedSkips);
    // Same again: the same replacements, now without decoding the known-bad files.
    const again = await collect(data.train, { batchSize: 4, seed: 2 });
    expect(again.map((b) => b.indices)).toEqual(bs.map((b) => b.indices));
    again.forEach((b, k) => expect(Buffer.from(b.images).equals(Buffer.from(bs[k].images))).toBe(true));
    await collect(data.train, { batchSize: 10, shuffle: false });
    expect(data.train.corruptFiles.map((c) => path.basename(c.file)).sort()).toEqual([`${WNIDS[0]}_1.JPEG`, `${WNIDS[1]}_3.JPEG`]);
    data.dispose();
  });
});

describe('imagenet(): the file index and its cache', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

  it('is built once with progress, reused without listing the class folders again, and rebuilt when a folder changes', async () => {
    const root = tmp('cache');
    roots.push(root);
    await makeTree(root, { classes: 3, perClass: 2, valPerClass: 1 });
    const progress: [number, number][] = [];
    let data = await imagenet(root, { ...SIZE, onProgress: (d, t) => progress.push([d, t]) });
    data.dispose();
    expect(progress).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]); // 3 class folders + the flat val/
    const cache = fs.readdirSync(root).filter((f) => f.startsWith('.ictorch-index-'));
    expect(cache.length).toBe(1);

    const readdir = vi.spyOn(fs.promises, 'readdir');
    try {
      data = await imagenet(root, SIZE);
      expect(readdir).not.toHaveBeenCalled();
      expect(data.train.length).toBe(6);
      data.dispose();
      // A new file in a class folder changes its modification time: the index is rebuilt and has it.
      fs.copyFileSync(path.join(root, 'train', WNIDS[2], `${WNIDS[2]}_0.JPEG`), path.join(root, 'train', WNIDS[2], 'new.JPEG'));
      data = await imagenet(root, SIZE);
      expect(readdir).toHaveBeenCalled();
      expect(data.train.length).toBe(7);
      data.dispose();
      readdir.mockClear();
      // Other options, another index; a damaged cache file is ignored and rewritten.
      data = await imagenet(root, { ...SIZE, classes: 1 });
      expect(data.train.length).toBe(2);
      data.dispose();
      expect(readdir).toHaveBeenCalled();
      readdir.mockClear();
      const file = path.join(root, fs.readdirSync(root).filter((f) => f.startsWith('.ictorch-index-'))[0]);
      const text = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, text.replace(/"labels":\[/, '"labels":[7777,'));
      data = await imagenet(root, SIZE);
      expect(data.train.length).toBe(7);
      data.dispose();
    } finally {
      readdir.mockRestore();
    }
  });

  it('indexes regular files only: a FIFO named x.JPEG is skipped, never opened', async () => {
    const root = tmp('fifo');
    roots.push(root);
    await makeTree(root, { classes: 1, perClass: 2, valPerClass: 1 });
    execFileSync('mkfifo', [path.join(root, 'train', WNIDS[0], 'zz_fifo.JPEG')]);
    fs.mkdirSync(path.join(root, 'train', WNIDS[0], 'sub.JPEG'));
    fs.writeFileSync(path.join(root, 'train', WNIDS[0], 'notes.txt'), 'x');
    fs.symlinkSync(path.join(root, 'train', WNIDS[0], `${WNIDS[0]}_0.JPEG`), path.join(root, 'train', WNIDS[0], 'link.jpg'));
    const data = await imagenet(root, SIZE);
    expect([0, 1, 2].map((i) => path.basename(data.train.file(i)))).toEqual(['link.jpg', `${WNIDS[0]}_0.JPEG`, `${WNIDS[0]}_1.JPEG`]);
    expect(data.train.length).toBe(3);
    data.dispose();
  });

  it('falls back to the user cache folder when the data folder cannot be written', async () => {
    const root = tmp('ro');
    roots.push(root);
    await makeTree(root, { classes: 1, perClass: 1, valPerClass: 1 });
    const cacheHome = tmp('xdg');
    roots.push(cacheHome);
    // Make the data folder's cache path unwritable: a directory where the cache file would go.
    const { cacheFiles } = await import('../lib/data/imagenet-index');
    const [beside] = cacheFiles(path.resolve(root), { classes: undefined, limitPerClass: undefined, valLabels: undefined });
    fs.mkdirSync(beside);
    const old = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cacheHome;
    try {
      const data = await imagenet(root, SIZE);
      data.dispose();
      const written = fs.readdirSync(path.join(cacheHome, 'ictorch'));
      expect(written.length).toBe(1);
      expect(written[0]).toMatch(/^imagenet-index-[0-9a-f]{16}-[0-9a-f]{16}\.json$/);
    } finally {
      if (old === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = old;
    }
  });
});
