/**
 * The report's convergence plots: per (data set, model, depth), one curve per layout and seed overlaid
 * (thin lines per seed, a thick line for the mean over seeds), in two panels side by side. Hand-written
 * SVG like the training curves of `lib/train/plot.ts` (whose tick rule it reuses), and a PNG of it rendered
 * by sharp when sharp loads.
 */
import * as path from 'path';
import { niceTicks } from '../train/plot';
import { writeFileAtomicAsync } from '../util/atomic';

/** One line of a panel. */
export interface PlotSeries {
  label: string;
  color: string;
  /** [epoch, value] points. */
  points: [number, number][];
  /** Thick (the mean) or thin (one seed). */
  thick: boolean;
  /** Whether the series appears in the legend. */
  legend: boolean;
}

/** One panel: a y axis and its lines. */
export interface PlotPanel {
  title: string;
  yLabel: string;
  /** Legend in the top or bottom right corner (where the curves are not: top for falling ones). */
  legendAt: 'top' | 'bottom';
  series: PlotSeries[];
}

/** Colours of the layouts (the baseline in black). */
export const LAYOUT_COLORS: Record<string, string> = {
  baseline: '#222222',
  'relu-ic-conv': '#1f77b4',
  'ic-conv-relu': '#2ca02c',
  'conv-relu-ic': '#d62728',
};

const W = 1100;
const H = 460;
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
const f = (n: number): string => String(Math.round(n * 100) / 100);

function decimals(step: number): number {
  return Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
}

function panel(x0: number, y0: number, w: number, h: number, p: PlotPanel): string {
  const m = { left: 70, right: 20, top: 30, bottom: 50 };
  const px = x0 + m.left;
  const py = y0 + m.top;
  const pw = w - m.left - m.right;
  const ph = h - m.top - m.bottom;
  const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = pts.map((q) => q[0]);
  const ys = pts.map((q) => q[1]);
  const xt = niceTicks(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1, 8, true);
  const yt = niceTicks(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1, 6);
  const sx = (v: number) => px + ((v - xt.lo) / (xt.hi - xt.lo)) * pw;
  const sy = (v: number) => py + ph - ((v - yt.lo) / (yt.hi - yt.lo)) * ph;
  const o: string[] = [`<g class="panel" data-panel="${esc(p.title)}">`];
  o.push(`<text x="${f(px + pw / 2)}" y="${f(y0 + 20)}" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`);
  o.push(`<rect x="${f(px)}" y="${f(py)}" width="${f(pw)}" height="${f(ph)}" fill="#fafafa"/>`);
  for (const v of yt.values) {
    const y = f(sy(v));
    o.push(`<line x1="${f(px)}" y1="${y}" x2="${f(px + pw)}" y2="${y}" stroke="#e0e0e0"/>`);
    o.push(`<text x="${f(px - 7)}" y="${y}" dy="4" text-anchor="end" font-size="12" fill="#333">${v.toFixed(decimals(yt.step))}</text>`);
  }
  for (const v of xt.values) {
    const x = f(sx(v));
    o.push(`<line x1="${x}" y1="${f(py)}" x2="${x}" y2="${f(py + ph)}" stroke="#eeeeee"/>`);
    o.push(`<text x="${x}" y="${f(py + ph + 18)}" text-anchor="middle" font-size="12" fill="#333">${v.toFixed(decimals(xt.step))}</text>`);
  }
  o.push(`<line x1="${f(px)}" y1="${f(py + ph)}" x2="${f(px + pw)}" y2="${f(py + ph)}" stroke="#333" stroke-width="1.2"/>`);
  o.push(`<line x1="${f(px)}" y1="${f(py)}" x2="${f(px)}" y2="${f(py + ph)}" stroke="#333" stroke-width="1.2"/>`);
  o.push(`<text x="${f(px + pw / 2)}" y="${f(py + ph + 40)}" text-anchor="middle" font-size="13">epoch</text>`);
  const ly = py + ph / 2;
  o.push(`<text x="${f(x0 + 16)}" y="${f(ly)}" text-anchor="middle" font-size="13" transform="rotate(-90 ${f(x0 + 16)} ${f(ly)})">${esc(p.yLabel)}</text>`);
  for (const s of p.series) {
    const sp = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (sp.length === 0) continue;
    const width = s.thick ? 2.5 : 1;
    const opacity = s.thick ? 1 : 0.45;
    o.push(`<polyline class="series" data-series="${esc(s.label)}" points="${sp.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="${width}" stroke-opacity="${opacity}" stroke-linejoin="round"/>`);
    if (s.thick && sp.length <= 60) for (const [x, y] of sp) o.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="2.5" fill="${s.color}"/>`);
  }
  if (pts.length === 0) o.push(`<text x="${f(px + pw / 2)}" y="${f(py + ph / 2)}" text-anchor="middle" font-size="14" fill="#888">no data yet</text>`);
  const legend = p.series.filter((s) => s.legend);
  if (legend.length) {
    const lw = 150;
    const lh = 10 + 18 * legend.length;
    const lx = px + pw - lw - 8;
    const lt = p.legendAt === 'top' ? py + 8 : py + ph - lh - 8;
    o.push(`<g class="legend"><rect x="${f(lx)}" y="${f(lt)}" width="${lw}" height="${lh}" fill="white" fill-opacity="0.9" stroke="#bbb"/>`);
    legend.forEach((s, i) => {
      const yy = lt + 14 + 18 * i;
      o.push(`<line x1="${f(lx + 8)}" y1="${f(yy)}" x2="${f(lx + 34)}" y2="${f(yy)}" stroke="${s.color}" stroke-width="2.5"/>`);
      o.push(`<text x="${f(lx + 40)}" y="${f(yy)}" dy="4" font-size="12">${esc(s.label)}</text>`);
    });
    o.push('</g>');
  }
  o.push('</g>');
  return o.join('\n');
}

/** The SVG text of a figure: a title and panels side by side. */
export function renderPanelsSvg(title: string, panels: PlotPanel[], note = ''): string {
  const top = 34;
  const w = W / Math.max(1, panels.length);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${esc(title)}</text>`,
    ...panels.map((p, i) => panel(i * w, top, w, H - top - (note ? 14 : 0), p)),
    note ? `<text x="${W / 2}" y="${H - 6}" text-anchor="middle" font-size="11" fill="#555">${esc(note)}</text>` : '',
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Writes `<base>.svg` and, when sharp loads and renders it, `<base>.png`, both atomically. Resolves with the
 * files written and, if the PNG could not be made, why.
 */
export async function writeFigure(base: string, svg: string): Promise<{ files: string[]; pngError?: string }> {
  await writeFileAtomicAsync(`${base}.svg`, svg);
  const files = [`${base}.svg`];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sharp = require('sharp') as (b: Buffer) => { png(): { toBuffer(): Promise<Buffer> } };
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    await writeFileAtomicAsync(`${base}.png`, png);
    files.push(`${base}.png`);
    return { files };
  } catch (e) {
    return { files, pngError: `${path.basename(base)}.png not written: ${(e as Error).message.split('\n')[0]}` };
  }
}
