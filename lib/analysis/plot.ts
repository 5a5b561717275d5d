/**
 * The plot of `ictorch analyze --plot FILE.svg`: measured ratios (dropout on ÷ off) of mean |correlation|
 * and of mutual information against the drop rate, each IC layer a faint point and the mean over layers a
 * line, beside the theory's keep and keep². Written as SVG and, rendered by sharp, as PNG beside it.
 */
import { niceTicks } from '../train/plot';
import { writeFileAtomicAsync } from '../util/atomic';

/** One measured point: a layer's ratios at one drop rate. */
export interface RatioPoint {
  /** The IC layer's dotted name. */
  name: string;
  dropRate: number;
  corrRatio: number;
  miRatio: number;
}

const W = 760, H = 520;
const COLORS = { corr: '#1f77b4', mi: '#d62728', theory: '#555555' };
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
const f = (n: number) => String(Math.round(n * 100) / 100);

/** The SVG text of the ratio plot. */
export function renderRatioSvg(points: readonly RatioPoint[], title: string): string {
  const m = { left: 78, right: 28, top: 56, bottom: 62 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const finite = points.filter((p) => Number.isFinite(p.corrRatio) && Number.isFinite(p.miRatio));
  const ys = finite.flatMap((p) => [p.corrRatio, p.miRatio]);
  const yt = niceTicks(Math.min(0, ...ys), Math.max(1, ...ys), 6);
  const xt = niceTicks(0, 1, 6);
  const sx = (v: number) => m.left + ((v - xt.lo) / (xt.hi - xt.lo)) * pw;
  const sy = (v: number) => m.top + ph - ((v - yt.lo) / (yt.hi - yt.lo)) * ph;
  const o: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold" fill="#111">${esc(title)}</text>`,
    `<text x="${W / 2}" y="44" text-anchor="middle" font-size="12" fill="#444">measured ratio (dropout on ÷ off) per IC layer (dots) and mean over layers (markers), theory (lines)</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="#fafafa"/>`,
  ];
  for (const v of yt.values) {
    o.push(`<line x1="${m.left}" y1="${f(sy(v))}" x2="${m.left + pw}" y2="${f(sy(v))}" stroke="#e0e0e0"/>`);
    o.push(`<text x="${m.left - 8}" y="${f(sy(v))}" dy="4" text-anchor="end" font-size="12" fill="#333">${v.toFixed(2)}</text>`);
  }
  for (const v of xt.values) {
    o.push(`<line x1="${f(sx(v))}" y1="${m.top}" x2="${f(sx(v))}" y2="${m.top + ph}" stroke="#eeeeee"/>`);
    o.push(`<text x="${f(sx(v))}" y="${m.top + ph + 20}" text-anchor="middle" font-size="12" fill="#333">${v.toFixed(1)}</text>`);
  }
  o.push(`<text x="${m.left + pw / 2}" y="${H - 18}" text-anchor="middle" font-size="13" fill="#222">drop rate (keep = 1 − drop rate)</text>`);
  o.push(`<text x="20" y="${m.top + ph / 2}" text-anchor="middle" font-size="13" fill="#222" transform="rotate(-90 20 ${m.top + ph / 2})">ratio, dropout on ÷ off</text>`);
  // Theory: keep and keep² over the whole range.
  const curve = (g: (p: number) => number) => Array.from({ length: 51 }, (_, i) => i / 50).map((p) => `${f(sx(p))},${f(sy(g(p)))}`).join(' ');
  o.push(`<polyline data-series="theory-corr" points="${curve((p) => 1 - p)}" fill="none" stroke="${COLORS.corr}" stroke-width="1.5" stroke-opacity="0.6"/>`);
  o.push(`<polyline data-series="theory-mi" points="${curve((p) => (1 - p) ** 2)}" fill="none" stroke="${COLORS.mi}" stroke-width="1.5" stroke-opacity="0.6" stroke-dasharray="6 4"/>`);
  // Measured: every layer, then the mean over layers per drop rate.
  for (const p of finite) {
    o.push(`<circle cx="${f(sx(p.dropRate))}" cy="${f(sy(p.corrRatio))}" r="2.5" fill="${COLORS.corr}" fill-opacity="0.35"/>`);
    o.push(`<circle cx="${f(sx(p.dropRate))}" cy="${f(sy(p.miRatio))}" r="2.5" fill="${COLORS.mi}" fill-opacity="0.35"/>`);
  }
  const rates = [...new Set(finite.map((p) => p.dropRate))].sort((a, b) => a - b);
  const mean = (r: number, k: 'corrRatio' | 'miRatio') => {
    const v = finite.filter((p) => p.dropRate === r).map((p) => p[k]);
    return v.reduce((a, b) => a + b, 0) / v.length;
  };
  for (const [k, color, shape] of [['corrRatio', COLORS.corr, 'circle'], ['miRatio', COLORS.mi, 'square']] as const) {
    const pts = rates.map((r) => [sx(r), sy(mean(r, k))]);
    o.push(`<g class="series" data-series="measured-${k}">`);
    if (pts.length > 1) o.push(`<polyline points="${pts.map(([x, y]) => `${f(x)},${f(y)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2.5"/>`);
    for (const [x, y] of pts) {
      o.push(shape === 'circle' ? `<circle cx="${f(x)}" cy="${f(y)}" r="5.5" fill="${color}" stroke="white" stroke-width="1.5"/>` : `<rect x="${f(x - 5)}" y="${f(y - 5)}" width="10" height="10" fill="${color}" stroke="white" stroke-width="1.5"/>`);
    }
    o.push('</g>');
  }
  // Legend.
  const lx = m.left + pw - 268, ly = m.top + 12;
  const items: [string, string, string][] = [
    ['corr: measured mean (layers: dots)', COLORS.corr, ''],
    ['corr: theory, keep', COLORS.corr, 'thin'],
    ['MI: measured mean (layers: dots)', COLORS.mi, ''],
    ['MI: theory, keep²', COLORS.mi, '6 4'],
  ];
  o.push(`<rect x="${lx}" y="${ly}" width="256" height="${14 + 20 * items.length}" fill="white" fill-opacity="0.9" stroke="#bbb"/>`);
  items.forEach(([label, color, style], i) => {
    const y = ly + 17 + 20 * i;
    const dash = style && style !== 'thin' ? ` stroke-dasharray="${style}"` : '';
    o.push(`<line x1="${lx + 10}" y1="${y}" x2="${lx + 38}" y2="${y}" stroke="${color}" stroke-width="${style ? 1.5 : 2.5}"${dash}/>`);
    o.push(`<text x="${lx + 46}" y="${y}" dy="4" font-size="12" fill="#222">${esc(label)}</text>`);
  });
  o.push('</svg>', '');
  return o.join('\n');
}

/**
 * Writes the ratio plot to `file` (SVG) and, when the name ends in `.svg`, the same drawing as PNG beside
 * it (rendered by sharp). Returns the files written. Both are replaced atomically.
 */
export async function writeRatioPlot(file: string, points: readonly RatioPoint[], title: string): Promise<string[]> {
  const svg = renderRatioSvg(points, title);
  await writeFileAtomicAsync(file, svg);
  if (!/\.svg$/i.test(file)) return [file];
  const png = file.replace(/\.svg$/i, '.png');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require('sharp') as (input: Buffer) => { png(): { toBuffer(): Promise<Buffer> } };
  await writeFileAtomicAsync(png, await sharp(Buffer.from(svg)).png().toBuffer());
  return [file, png];
}
