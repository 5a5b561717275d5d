// Training I/O besides checkpoints: the metrics log, the progress display and the curve plots.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
// Imported module by module: none of these needs the native addon.
import { MetricsLog } from '../lib/train/metrics';
import { writeFileAtomic } from '../lib/util/atomic';
import { writePlots, type EpochPoint } from '../lib/train/plot';
import { Progress, formatBar, formatEta } from '../lib/train/progress';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-train-io-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
const runDir = (): string => path.join(tmp, `run-${counter++}`);

// ---------------------------------------------------------------- atomic writes

describe('writeFileAtomic', () => {
  it('writes a string, bytes or a list of chunks in order, replaces the old file and leaves no temp file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-atomic-'));
    const file = path.join(dir, 'out.bin');
    writeFileAtomic(file, 'old');
    writeFileAtomic(file, [Buffer.from('ab'), new Uint8Array(0), new Uint8Array([99, 100]), Buffer.alloc(70_000, 101)]);
    const got = fs.readFileSync(file);
    expect(got.subarray(0, 4).toString()).toBe('abcd');
    expect(got.length).toBe(4 + 70_000);
    expect(got.subarray(4).every((b) => b === 101)).toBe(true);
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3]);
    expect(fs.readdirSync(dir)).toEqual(['out.bin']);
    fs.rmSync(dir, { recursive: true });
  });

  it('takes a generator of chunks; when it throws half-way, the old file stays and no temp file is left', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-atomic-'));
    const file = path.join(dir, 'out.bin');
    function* chunks(fail: boolean) {
      yield Buffer.from('new ');
      if (fail) throw new Error('producer failed');
      yield Buffer.from('data');
    }
    writeFileAtomic(file, chunks(false));
    expect(fs.readFileSync(file, 'utf8')).toBe('new data');
    writeFileAtomic(file, 'old');
    expect(() => writeFileAtomic(file, chunks(true))).toThrow('producer failed');
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['out.bin']);
    fs.rmSync(dir, { recursive: true });
  });

  it('the temp file of a writer killed half-way is removed by the next write of the same file; live writers\' and other files\' are kept', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-atomic-'));
    const file = path.join(dir, 'checkpoint.ckpt');
    writeFileAtomic(file, 'v1');
    // a real writer killed by SIGKILL between its first and second chunk
    const atomic = path.join(__dirname, '..', 'dist', 'util', 'atomic.js');
    const script = `require(${JSON.stringify(atomic)}).writeFileAtomic(${JSON.stringify(file)}, (function* () { yield Buffer.alloc(1000); process.kill(process.pid, 'SIGKILL'); })())`;
    const r = spawnSync(process.execPath, ['-e', script]);
    expect(r.signal).toBe('SIGKILL');
    const left = fs.readdirSync(dir).filter((n) => n !== 'checkpoint.ckpt');
    expect(left).toEqual([expect.stringMatching(new RegExp(`^\\.checkpoint\\.ckpt\\.tmp-${r.pid}-[0-9a-f]+$`))]);
    // temp files of a live process (the parent of this test) and of another target are not touched
    const live = `.checkpoint.ckpt.tmp-${process.ppid}-abcdef`;
    const other = `.model.pt.tmp-${r.pid}-abcdef`;
    for (const n of [live, other]) fs.writeFileSync(path.join(dir, n), 'x');
    writeFileAtomic(file, 'v2');
    expect(fs.readFileSync(file, 'utf8')).toBe('v2');
    expect(fs.readdirSync(dir).sort()).toEqual([live, other, 'checkpoint.ckpt'].sort());
    fs.rmSync(dir, { recursive: true });
  });
});

// ---------------------------------------------------------------- metrics

describe('MetricsLog', () => {
  it('writes one JSON object per line after every append and reads them back', () => {
    const dir = runDir();
    const log = new MetricsLog(dir);
    expect(log.records).toEqual([]);
    log.append({ epoch: 1, trainLoss: 2.25, testAcc: 0.5 });
    const file = path.join(dir, 'metrics.jsonl');
    expect(fs.readFileSync(file, 'utf8')).toBe('{"epoch":1,"trainLoss":2.25,"testAcc":0.5}\n');
    log.append({ epoch: 2, trainLoss: 1.5, note: 'line\nbreak', lr: [0.1] });
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines.length).toBe(3);
    expect(lines[2]).toBe('');
    expect(lines.slice(0, 2).map((l) => JSON.parse(l))).toEqual(log.records);
    expect(MetricsLog.load(dir).records).toEqual([
      { epoch: 1, trainLoss: 2.25, testAcc: 0.5 },
      { epoch: 2, trainLoss: 1.5, note: 'line\nbreak', lr: [0.1] },
    ]);
    expect(fs.readdirSync(dir)).toEqual(['metrics.jsonl']);
  });

  it('continues a loaded log and keeps records as stored (JSON has no NaN)', () => {
    const dir = runDir();
    new MetricsLog(dir).append({ epoch: 1, loss: NaN });
    const log = MetricsLog.load(dir);
    log.append({ epoch: 2, loss: 0.5 });
    expect(log.records).toEqual([{ epoch: 1, loss: null }, { epoch: 2, loss: 0.5 }]);
    expect(MetricsLog.load(dir).records).toEqual(log.records);
  });

  it('records is a copy: changing it does not change the log', () => {
    const log = new MetricsLog(runDir());
    log.append({ epoch: 1 });
    log.records.push({ epoch: 99 });
    expect(log.records).toEqual([{ epoch: 1 }]);
  });

  it('starts from given records, e.g. a checkpoint history', () => {
    const dir = runDir();
    const log = new MetricsLog(dir, [{ epoch: 1 }, { epoch: 2 }]);
    log.append({ epoch: 3 });
    expect(MetricsLog.load(dir).records.map((r) => r.epoch)).toEqual([1, 2, 3]);
  });

  it('names the line number of a malformed line instead of skipping it', () => {
    const dir = runDir();
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(file, '{"epoch":1}\n{"epoch":2\n{"epoch":3}\n');
    expect(() => MetricsLog.load(dir)).toThrow(`MetricsLog.load: ${file} line 2 is not valid JSON`);
    fs.writeFileSync(file, '{"epoch":1}\n\n{"epoch":3}\n');
    expect(() => MetricsLog.load(dir)).toThrow(/line 2 is not valid JSON/);
    fs.writeFileSync(file, '{"epoch":1}\n[1,2]\n');
    expect(() => MetricsLog.load(dir)).toThrow(`MetricsLog.load: ${file} line 2 is not a JSON object.`);
    // a final line without its newline is still read
    fs.writeFileSync(file, '{"epoch":1}\n{"epoch":2}');
    expect(MetricsLog.load(dir).records).toEqual([{ epoch: 1 }, { epoch: 2 }]);
  });

  it('says when the file is missing, unless missingOk', () => {
    const dir = runDir();
    expect(() => MetricsLog.load(dir)).toThrow(`MetricsLog.load: ${path.join(dir, 'metrics.jsonl')} does not exist.`);
    expect(MetricsLog.load(dir, { missingOk: true }).records).toEqual([]);
  });

  it('rejects records that are not JSON objects and leaves the log unchanged', () => {
    const dir = runDir();
    const log = new MetricsLog(dir);
    log.append({ epoch: 1 });
    expect(() => log.append([1, 2] as unknown as Record<string, unknown>)).toThrow(/MetricsLog: cannot append to .*metrics\.jsonl: the record must be a plain object\./);
    expect(() => log.append({ big: 1n })).toThrow(/the record is not JSON data/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => log.append(cyclic)).toThrow(/the record is not JSON data/);
    expect(log.records).toEqual([{ epoch: 1 }]);
    expect(MetricsLog.load(dir).records).toEqual([{ epoch: 1 }]);
  });
});

// ---------------------------------------------------------------- progress

/** A stream that records what is written. */
function sink(): { stream: NodeJS.WritableStream; text: () => string } {
  const chunks: string[] = [];
  const stream = { write: (s: string) => (chunks.push(String(s)), true) } as unknown as NodeJS.WritableStream;
  return { stream, text: () => chunks.join('') };
}

/** A manual clock in milliseconds. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('formatEta / formatBar', () => {
  it('formats durations as m:ss or h:mm:ss', () => {
    expect(formatEta(0)).toBe('0:00');
    expect(formatEta(59.4)).toBe('0:59');
    expect(formatEta(59.6)).toBe('1:00');
    expect(formatEta(125)).toBe('2:05');
    expect(formatEta(3599)).toBe('59:59');
    expect(formatEta(3600)).toBe('1:00:00');
    expect(formatEta(3723)).toBe('1:02:03');
    expect(formatEta(100 * 3600 + 61)).toBe('100:01:01');
  });

  it('gives a placeholder for unknown durations', () => {
    for (const v of [NaN, Infinity, -1]) expect(formatEta(v)).toBe('--:--');
  });

  it('draws bars of a fixed width', () => {
    expect(formatBar(0, 10)).toBe('░'.repeat(10));
    expect(formatBar(0.5, 4)).toBe('██░░');
    expect(formatBar(0.3, 10)).toBe('███░░░░░░░');
    expect(formatBar(1, 10)).toBe('█'.repeat(10));
    expect(formatBar(2, 5)).toBe('█████');
    expect(formatBar(-1, 5)).toBe('░░░░░');
    expect(formatBar(NaN, 5)).toBe('░░░░░');
    expect(formatBar(0.5)).toHaveLength(20);
    expect(() => formatBar(0.5, -1)).toThrow(/formatBar: width must be a non-negative integer/);
  });
});

describe('Progress on a TTY', () => {
  it('redraws one line in place with bar, percentage, loss, accuracy, rate and ETA', () => {
    const { stream, text } = sink();
    const c = clock();
    const p = new Progress({ total: 200, label: 'epoch 1/10', stream, isTTY: true, intervalMs: 0, now: c.now });
    c.advance(10_000);
    p.update(50, { loss: 1.23456, acc: 0.5, imagesPerSec: 1280.4 });
    const first = text();
    expect(first.startsWith('\r')).toBe(true);
    expect(first.endsWith('\x1b[K')).toBe(true);
    expect(first).not.toContain('\n');
    expect(first).toContain('epoch 1/10');
    expect(first).toContain(formatBar(0.25));
    expect(first).toContain(' 25%');
    expect(first).toContain('50/200');
    expect(first).toContain('loss 1.2346');
    expect(first).toContain('acc 50.00%');
    expect(first).toContain('1280 img/s');
    // 50 done in 10 s: 150 to go at 5/s is 30 s
    expect(first).toContain('ETA 0:30');
    c.advance(10_000);
    p.update(100, { loss: 1 });
    expect(text().slice(first.length)).toMatch(/^\repoch 1\/10 .* 50% .*ETA 0:20\x1b\[K$/);
    p.finish('epoch 1: test acc 60.00%');
    expect(text().endsWith('\nepoch 1: test acc 60.00%\n')).toBe(true);
  });

  it('redraws at most once per interval, and always shows the final state on finish', () => {
    const { stream, text } = sink();
    const c = clock();
    const p = new Progress({ total: 100, label: 'train', stream, isTTY: true, intervalMs: 100, now: c.now });
    p.update(1, {});
    p.update(2, {});
    p.update(3, {});
    expect(text().split('\r').length - 1).toBe(1);
    c.advance(100);
    p.update(4, {});
    expect(text().split('\r').length - 1).toBe(2);
    p.update(100, {});
    expect(text()).not.toContain('100%');
    p.finish();
    expect(text()).toMatch(/100% +100\/100 .*\x1b\[K\n$/);
    p.update(50, {}); // ignored after finish
    expect(text()).toMatch(/\n$/);
  });

  it('shortens the line to the terminal width', () => {
    const chunks: string[] = [];
    const stream = { columns: 30, isTTY: true, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WriteStream;
    const p = new Progress({ total: 10, label: 'a long label for a narrow terminal', stream, intervalMs: 0 });
    p.update(5, { loss: 1 });
    expect(chunks[0]).toBe(`\r${'a long label for a narrow terminal'.slice(0, 29)}\x1b[K`);
  });
});

describe('Progress elsewhere (logs, pipes)', () => {
  it('writes a plain line about every tenth of the way and always the final one', () => {
    const { stream, text } = sink();
    const c = clock();
    const p = new Progress({ total: 1000, label: 'epoch 2', stream, isTTY: false, now: c.now });
    for (let i = 1; i <= 997; i++) {
      c.advance(10);
      p.update(i, { loss: 1 / i, acc: i / 1000 });
    }
    p.finish('done');
    const lines = text().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.pop()).toBe('done');
    expect(lines.every((l) => !l.includes('\r') && !l.includes('\x1b') && !l.includes('█'))).toBe(true);
    expect(lines.map((l) => /(\d+)%/.exec(l)?.[1])).toEqual(['0', '10', '20', '30', '40', '50', '60', '70', '80', '90', '99']);
    expect(lines[lines.length - 1]).toContain('997/1000');
    expect(lines[1]).toMatch(/^epoch 2 +10% +100\/1000 +loss 0\.0100 +acc 10\.00% +ETA 0:09$/);
  });

  it('does not repeat the final line when the last update already showed it', () => {
    const { stream, text } = sink();
    const p = new Progress({ total: 4, label: 'eval', stream, isTTY: false });
    for (let i = 1; i <= 4; i++) p.update(i, {});
    p.finish();
    expect(text().split('\n').filter((l) => l.includes('4/4'))).toHaveLength(1);
  });

  it('validates its options with sentences', () => {
    expect(() => new Progress({ total: -1, label: 'x' })).toThrow('Progress: total must be a non-negative number, but it is -1.');
    expect(() => new Progress({ total: 1, label: 'x', stream: {} as NodeJS.WritableStream })).toThrow('Progress: stream must be a writable stream.');
  });
});

// ---------------------------------------------------------------- plots

function historyOf(n: number): EpochPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    epoch: i + 1,
    trainLoss: 2.3 * Math.exp(-i / 8) + 0.05,
    testLoss: 2.2 * Math.exp(-i / 10) + 0.3,
    trainAcc: 1 - 0.9 * Math.exp(-i / 6),
    testAcc: 0.92 - 0.8 * Math.exp(-i / 7),
  }));
}

/** The polylines of the SVG, by data-series, as lists of [x, y]. */
function polylines(svg: string): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const m of svg.matchAll(/<polyline [^>]*data-series="([^"]+)"[^>]*points="([^"]*)"/g)) {
    out[m[1]] = m[2].trim() ? m[2].trim().split(/\s+/).map((p) => p.split(',').map(Number) as [number, number]) : [];
  }
  return out;
}

async function pngInfo(file: string): Promise<{ width?: number; height?: number; format?: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require('sharp') as (f: string) => { metadata(): Promise<{ width?: number; height?: number; format?: string }> };
  return sharp(file).metadata();
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('writePlots', () => {
  it('writes an SVG with two panels, four series of one point per epoch, axes, legend and title', async () => {
    const dir = runDir();
    await writePlots(dir, historyOf(30));
    const svg = fs.readFileSync(path.join(dir, 'curves.svg'), 'utf8');
    expect(svg).toMatch(/^<\?xml [^>]*\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // balanced elements: every opened <g> is closed, every other element self-closes or closes
    expect(svg.match(/<g[ >]/g)?.length).toBe(svg.match(/<\/g>/g)?.length);
    expect(svg.match(/<text[ >]/g)?.length).toBe(svg.match(/<\/text>/g)?.length);
    expect(svg).toContain('data-panel="loss"');
    expect(svg).toContain('data-panel="accuracy"');
    const lines = polylines(svg);
    expect(Object.keys(lines).sort()).toEqual(['test-acc', 'test-loss', 'train-acc', 'train-loss']);
    for (const pts of Object.values(lines)) {
      expect(pts).toHaveLength(30);
      expect(pts.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y))).toBe(true);
      // x increases with the epoch
      expect(pts.every((p, i) => i === 0 || p[0] > pts[i - 1][0])).toBe(true);
    }
    // decreasing loss is drawn going down (SVG y grows downwards), rising accuracy going up
    expect(lines['train-loss'][29][1]).toBeGreaterThan(lines['train-loss'][0][1]);
    expect(lines['train-acc'][29][1]).toBeLessThan(lines['train-acc'][0][1]);
    expect(svg).toContain('>epoch</text>');
    expect(svg).toContain('>accuracy (%)</text>');
    expect(svg).toMatch(/>\d+%<\/text>/); // accuracy ticks in percent
    expect(svg).toMatch(/>Training curves: run-\d+ \(30 epochs\)<\/text>/);
    expect(svg.match(/>train<\/text>/g)).toHaveLength(2);
    expect(svg.match(/>test<\/text>/g)).toHaveLength(2);
  });

  it('writes a PNG of the same size as the SVG', async () => {
    const dir = runDir();
    await writePlots(dir, historyOf(12));
    const svg = fs.readFileSync(path.join(dir, 'curves.svg'), 'utf8');
    const [, w, h] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!;
    const png = fs.readFileSync(path.join(dir, 'curves.png'));
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(await pngInfo(path.join(dir, 'curves.png'))).toMatchObject({ format: 'png', width: Number(w), height: Number(h) });
  });

  it('handles a single epoch', async () => {
    const dir = runDir();
    await writePlots(dir, historyOf(1));
    const lines = polylines(fs.readFileSync(path.join(dir, 'curves.svg'), 'utf8'));
    for (const pts of Object.values(lines)) expect(pts).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, 'curves.png')).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it('skips NaN, infinite and missing values', async () => {
    const dir = runDir();
    const h = historyOf(6);
    h[2].trainLoss = NaN;
    h[3].testLoss = Infinity;
    h[4].trainAcc = -Infinity;
    delete (h[5] as Partial<EpochPoint>).testAcc;
    await writePlots(dir, h);
    const svg = fs.readFileSync(path.join(dir, 'curves.svg'), 'utf8');
    expect(svg).not.toMatch(/NaN|Infinity/);
    const lines = polylines(svg);
    expect(Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, v.length]))).toEqual({
      'train-loss': 5, 'test-loss': 5, 'train-acc': 5, 'test-acc': 5,
    });
  });

  it('handles an empty history and all-NaN series', async () => {
    const dir = runDir();
    await writePlots(dir, []);
    expect(fs.readFileSync(path.join(dir, 'curves.svg'), 'utf8')).toContain('no data yet');
    await writePlots(dir, [{ epoch: 1, trainLoss: NaN, testLoss: NaN, trainAcc: NaN, testAcc: NaN }]);
    const svg = fs.readFileSync(path.join(dir, 'curves.svg'), 'utf8');
    expect(svg).not.toMatch(/NaN/);
    expect(Object.values(polylines(svg)).every((p) => p.length === 0)).toBe(true);
  });

  it('rewrites both files completely, also when calls overlap', async () => {
    const dir = runDir();
    await writePlots(dir, historyOf(40));
    await Promise.all([writePlots(dir, historyOf(3)), writePlots(dir, historyOf(8)), writePlots(dir, historyOf(5))]);
    const svg = fs.readFileSync(path.join(dir, 'curves.svg'), 'utf8');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const pts of Object.values(polylines(svg))) expect(pts).toHaveLength(5); // the last call wins
    const info = await pngInfo(path.join(dir, 'curves.png'));
    expect(info.format).toBe('png');
    expect(fs.readdirSync(dir).sort()).toEqual(['curves.png', 'curves.svg']);
  });

  it('rejects a history that is not an array of records', async () => {
    await expect(writePlots(runDir(), {} as unknown as EpochPoint[])).rejects.toThrow(/writePlots: cannot plot into .*: history must be an array/);
    await expect(writePlots(runDir(), [null] as unknown as EpochPoint[])).rejects.toThrow(/history\[0\] is not an object/);
  });
});
