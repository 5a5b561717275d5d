/**
 * Training curves: `<runDir>/curves.svg` (hand-written SVG, no dependency) and `<runDir>/curves.png`
 * (the same drawing rendered by sharp), both written atomically.
 */
import * as path from 'path';
import { writeFileAtomicAsync } from '../util/atomic';

/** One epoch's numbers for the plots: losses, and accuracies as fractions in [0, 1]. */
export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  trainAcc: number;
  testAcc: number;
}

/** Width of the drawing in pixels (SVG user units; the PNG has the same size). */
export const PLOT_WIDTH = 1000;
/** Height of the drawing in pixels. */
export const PLOT_HEIGHT = 430;

const COLORS = { train: '#1f77b4', test: '#d62728' };
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

interface Ticks {
  lo: number;
  hi: number;
  step: number;
  values: number[];
}

function niceNum(x: number, round: boolean): number {
  const e = Math.floor(Math.log10(x));
  const f = x / 10 ** e;
  let nf: number;
  if (round) nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nf * 10 ** e;
}

/** "Nice" axis ticks covering [min, max] (about `count` of them); `integer` keeps the step ≥ 1 and whole. */
export function niceTicks(min: number, max: number, count = 5, integer = false): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    min = 0;
    max = 1;
  }
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = integer ? 1 : Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    min -= pad;
    max += pad;
  }
  let step = niceNum((max - min) / Math.max(1, count - 1), true);
  if (integer) step = Math.max(1, Math.round(step));
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const values: number[] = [];
  for (let v = lo, i = 0; v <= hi + step * 1e-6 && i < 100; i++, v = lo + i * step) values.push(Number(v.toPrecision(12)));
  return { lo, hi, step, values };
}

function tickLabel(v: number, step: number, suffix = ''): string {
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return `${v.toFixed(decimals)}${suffix}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}

interface Series {
  key: string;
  label: string;
  color: string;
  dash?: string;
  points: [number, number][];
}

interface PanelSpec {
  id: string;
  title: string;
  yLabel: string;
  suffix: string;
  clamp?: [number, number];
  legendAt: 'top' | 'bottom';
  series: Series[];
}

function panel(x0: number, y0: number, w: number, h: number, spec: PanelSpec, xTicks: Ticks): string {
  const m = { left: 72, right: 24, top: 34, bottom: 52 };
  const px = x0 + m.left;
  const py = y0 + m.top;
  const pw = w - m.left - m.right;
  const ph = h - m.top - m.bottom;
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1]));
  // A little room above and below the data, so no point sits on the frame (not below 0 for data that is not).
  const yMin = ys.length ? Math.min(...ys) : 0;
  const yMax = ys.length ? Math.max(...ys) : 1;
  const pad = (yMax - yMin) * 0.04;
  let yTicks = niceTicks(yMin >= 0 ? Math.max(0, yMin - pad) : yMin - pad, yMax + pad, 6);
  if (spec.clamp) {
    const [cl, ch] = spec.clamp;
    if (yTicks.lo < cl || yTicks.hi > ch) {
      yTicks = niceTicks(Math.max(cl, yTicks.lo), Math.min(ch, yTicks.hi), 6);
      const values = yTicks.values.filter((v) => v >= cl - 1e-9 && v <= ch + 1e-9);
      yTicks = { ...yTicks, lo: Math.max(cl, yTicks.lo), hi: Math.min(ch, yTicks.hi), values };
    }
  }
  const sx = (v: number): number => px + ((v - xTicks.lo) / (xTicks.hi - xTicks.lo)) * pw;
  const sy = (v: number): number => py + ph - ((v - yTicks.lo) / (yTicks.hi - yTicks.lo)) * ph;
  const out: string[] = [];
  out.push(`<g class="panel" data-panel="${spec.id}">`);
  out.push(`<text x="${fmt(px + pw / 2)}" y="${fmt(y0 + 22)}" text-anchor="middle" font-size="16" font-weight="bold">${esc(spec.title)}</text>`);
  out.push(`<rect x="${fmt(px)}" y="${fmt(py)}" width="${fmt(pw)}" height="${fmt(ph)}" fill="#fafafa" stroke="none"/>`);
  // Grid and ticks.
  for (const v of yTicks.values) {
    const y = fmt(sy(v));
    out.push(`<line x1="${fmt(px)}" y1="${y}" x2="${fmt(px + pw)}" y2="${y}" stroke="#e0e0e0" stroke-width="1"/>`);
    out.push(`<line x1="${fmt(px - 5)}" y1="${y}" x2="${fmt(px)}" y2="${y}" stroke="#333" stroke-width="1"/>`);
    out.push(`<text x="${fmt(px - 8)}" y="${y}" dy="4" text-anchor="end" font-size="12" fill="#333">${tickLabel(v, yTicks.step, spec.suffix)}</text>`);
  }
  for (const v of xTicks.values) {
    const x = fmt(sx(v));
    out.push(`<line x1="${x}" y1="${fmt(py)}" x2="${x}" y2="${fmt(py + ph)}" stroke="#eeeeee" stroke-width="1"/>`);
    out.push(`<line x1="${x}" y1="${fmt(py + ph)}" x2="${x}" y2="${fmt(py + ph + 5)}" stroke="#333" stroke-width="1"/>`);
    out.push(`<text x="${x}" y="${fmt(py + ph + 20)}" text-anchor="middle" font-size="12" fill="#333">${tickLabel(v, xTicks.step)}</text>`);
  }
  // Axes and their labels.
  out.push(`<line x1="${fmt(px)}" y1="${fmt(py + ph)}" x2="${fmt(px + pw)}" y2="${fmt(py + ph)}" stroke="#333" stroke-width="1.2"/>`);
  out.push(`<line x1="${fmt(px)}" y1="${fmt(py)}" x2="${fmt(px)}" y2="${fmt(py + ph)}" stroke="#333" stroke-width="1.2"/>`);
  out.push(`<text x="${fmt(px + pw / 2)}" y="${fmt(py + ph + 42)}" text-anchor="middle" font-size="13" fill="#222">epoch</text>`);
  const ly = py + ph / 2;
  out.push(`<text x="${fmt(x0 + 18)}" y="${fmt(ly)}" text-anchor="middle" font-size="13" fill="#222" transform="rotate(-90 ${fmt(x0 + 18)} ${fmt(ly)})">${esc(spec.yLabel)}</text>`);
  // Data.
  for (const s of spec.series) {
    const pts = s.points.map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`).join(' ');
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<polyline class="series" data-series="${s.key}" points="${pts}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"${dash}/>`);
    if (s.points.length <= 60) {
      for (const [x, y] of s.points) out.push(`<circle cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="3" fill="${s.color}"/>`);
    }
  }
  if (spec.series.every((s) => s.points.length === 0)) {
    out.push(`<text x="${fmt(px + pw / 2)}" y="${fmt(py + ph / 2)}" text-anchor="middle" font-size="14" fill="#888">no data yet</text>`);
  }
  // Legend.
  const lw = 96;
  const lh = 14 + 20 * spec.series.length;
  const lx = px + pw - lw - 10;
  const lyTop = spec.legendAt === 'top' ? py + 10 : py + ph - lh - 10;
  out.push(`<g class="legend"><rect x="${fmt(lx)}" y="${fmt(lyTop)}" width="${lw}" height="${lh}" fill="white" fill-opacity="0.9" stroke="#bbb"/>`);
  spec.series.forEach((s, i) => {
    const yy = lyTop + 17 + 20 * i;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<line x1="${fmt(lx + 10)}" y1="${fmt(yy)}" x2="${fmt(lx + 38)}" y2="${fmt(yy)}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${fmt(lx + 46)}" y="${fmt(yy)}" dy="4" font-size="12" fill="#222">${esc(s.label)}</text>`);
  });
  out.push('</g>');
  out.push('</g>');
  return out.join('\n');
}

function checkHistory(runDir: string, history: unknown): EpochPoint[] {
  if (!Array.isArray(history)) throw new TypeError(`writePlots: cannot plot into ${runDir}: history must be an array of {epoch, trainLoss, testLoss, trainAcc, testAcc}.`);
  history.forEach((h, i) => {
    if (h === null || typeof h !== 'object') throw new TypeError(`writePlots: cannot plot into ${runDir}: history[${i}] is not an object.`);
  });
  return history as EpochPoint[];
}

/**
 * The SVG text of the training curves: a loss panel (train, test) and an accuracy panel (train, test,
 * in percent), one point per epoch; NaN, ±Infinity and missing values are left out.
 */
export function renderCurvesSvg(history: EpochPoint[], title = 'Training curves'): string {
  const series = (key: keyof EpochPoint, scale: number): [number, number][] => {
    const pts: [number, number][] = [];
    for (const h of history) {
      const x = h.epoch;
      const y = h[key];
      if (typeof x === 'number' && Number.isFinite(x) && typeof y === 'number' && Number.isFinite(y)) pts.push([x, y * scale]);
    }
    return pts;
  };
  const epochs = history.map((h) => h.epoch).filter((e): e is number => typeof e === 'number' && Number.isFinite(e));
  const xTicks = niceTicks(epochs.length ? Math.min(...epochs) : 0, epochs.length ? Math.max(...epochs) : 1, 8, true);
  const n = history.length;
  const loss: PanelSpec = {
    id: 'loss',
    title: 'Loss',
    yLabel: 'cross-entropy loss',
    suffix: '',
    legendAt: 'top',
    series: [
      { key: 'train-loss', label: 'train', color: COLORS.train, points: series('trainLoss', 1) },
      { key: 'test-loss', label: 'test', color: COLORS.test, dash: '7 4', points: series('testLoss', 1) },
    ],
  };
  const acc: PanelSpec = {
    id: 'accuracy',
    title: 'Accuracy',
    yLabel: 'accuracy (%)',
    suffix: '%',
    clamp: [0, 100],
    legendAt: 'bottom',
    series: [
      { key: 'train-acc', label: 'train', color: COLORS.train, points: series('trainAcc', 100) },
      { key: 'test-acc', label: 'test', color: COLORS.test, dash: '7 4', points: series('testAcc', 100) },
    ],
  };
  const top = 36;
  const half = PLOT_WIDTH / 2;
  const ph = PLOT_HEIGHT - top;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" viewBox="0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}" font-family="${FONT}">`,
    `<rect x="0" y="0" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" fill="white"/>`,
    `<text x="${half}" y="26" text-anchor="middle" font-size="18" font-weight="bold" fill="#111">${esc(title)} (${n} epoch${n === 1 ? '' : 's'})</text>`,
    panel(0, top, half, ph, loss, xTicks),
    panel(half, top, half, ph, acc, xTicks),
    '</svg>',
    '',
  ].join('\n');
}

type SharpFactory = (input: Buffer) => { png(): { toBuffer(): Promise<Buffer> } };

let sharpCache: SharpFactory | undefined;
function loadSharp(runDir: string): SharpFactory {
  if (sharpCache) return sharpCache;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sharpCache = require('sharp') as SharpFactory;
  } catch (e) {
    throw new Error(
      `writePlots: wrote ${path.join(runDir, 'curves.svg')} but cannot render curves.png because the "sharp" package does not load ` +
        `(${(e as Error).message.split('\n')[0]}); install it with "npm install sharp".`,
    );
  }
  return sharpCache;
}

const pending = new Map<string, Promise<void>>();

/**
 * Writes `<runDir>/curves.svg` and `<runDir>/curves.png` (same size, 1000×430) from the per-epoch
 * history: loss (train, test) and accuracy (fractions in [0, 1], shown in percent) against the epoch.
 * Both files are replaced atomically, so a reader never sees half a file; calls for the same run
 * directory run one after another. Rejects if sharp cannot be loaded (after writing the SVG).
 */
export async function writePlots(runDir: string, history: EpochPoint[]): Promise<void> {
  if (typeof runDir !== 'string' || !runDir) throw new TypeError(`writePlots: expected a run directory path but received ${String(runDir)}.`);
  const points = checkHistory(runDir, history).map((h) => ({ ...h }));
  const key = path.resolve(runDir);
  const previous = pending.get(key) ?? Promise.resolve();
  const job = previous
    .catch(() => undefined)
    .then(async () => {
      const svg = renderCurvesSvg(points, `Training curves: ${path.basename(key)}`);
      await writeFileAtomicAsync(path.join(runDir, 'curves.svg'), svg);
      const sharp = loadSharp(runDir);
      let png: Buffer;
      try {
        png = await sharp(Buffer.from(svg)).png().toBuffer();
      } catch (e) {
        throw new Error(`writePlots: rendering ${path.join(runDir, 'curves.png')} failed (${(e as Error).message}).`);
      }
      await writeFileAtomicAsync(path.join(runDir, 'curves.png'), png);
    });
  pending.set(key, job);
  try {
    await job;
  } finally {
    if (pending.get(key) === job) pending.delete(key);
  }
}
