/**
 * The report of a grid, written into its `--out` directory: `report.md` (results against the paper,
 * convergence plots, the published table, every cell, and what produced each number: code, machine, data,
 * config), `report.csv` (one row per cell group), `cells.csv` (one row per cell) and one figure per
 * (data set, model, depth), `curves-<dataset>-<model>[-<depth>].svg/.png`. All files are written atomically.
 */
import * as path from 'path';
import { writeFileAtomic } from '../util/atomic';
import { epochRecords, CONFIG_KEYS_FREE } from './cell-state';
import type { DataLocation } from './data-root';
import type { Cell } from './grid';
import type { TableName } from './tables';
import { LAYOUT_COLORS, renderPanelsSvg, writeFigure, type PlotPanel, type PlotSeries } from './plot';
import { describeCode, describeData, describeMachine, type CellProvenance, type CodeVersion, type DataFingerprint, type Machine } from './provenance';
import { IMAGENET_REFERENCE_EPOCHS, PAPER_CIFAR_EPOCHS, PAPER_DEPTH_NOTE, PUBLISHED_CIFAR } from './published';
import type { CellSummary, GroupSummary } from './summary';

/** Everything the report is made from. */
export interface ReportContext {
  table: TableName;
  /** The `--out` directory. */
  out: string;
  /** The command line that wrote this report. */
  argv: string[];
  cells: Cell[];
  summaries: CellSummary[];
  groups: GroupSummary[];
  /** Where each data set of the grid was found, with its fingerprint when found. */
  data: { location: DataLocation; fingerprint: DataFingerprint | null }[];
  /** The code and machine writing the report. */
  code: CodeVersion;
  machine: Machine;
  /** Each cell's `reproduce.json` (null when the cell has none). */
  provenance: Map<string, CellProvenance | null>;
  /** Lines added at the top (e.g. "the grid was interrupted"). */
  notes: string[];
}

/** The files a report consists of. */
export interface ReportFiles {
  /** report.md: the table beside the published figures, notes and figures. */
  markdown: string;
  /** report.csv: one row per (data set, model, layout), averaged over seeds. */
  csv: string;
  /** cells.csv: one row per cell (one seed of one configuration). */
  cellsCsv: string;
  /** The curve figures (SVG, and PNG where rendering works). */
  figures: string[];
  /** Problems that did not stop the report (a PNG that could not be rendered). */
  warnings: string[];
}

const pct = (x: number | null, digits = 2): string => (x === null || !Number.isFinite(x) ? '—' : (100 * x).toFixed(digits));
const signedPct = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : `${x >= 0 ? '+' : '−'}${(100 * Math.abs(x)).toFixed(2)}`);
const csvNum = (x: number | null): string => (x === null || !Number.isFinite(x) ? '' : String(Number(x.toPrecision(6))));
const csvField = (s: string | number): string => (typeof s === 'number' ? String(s) : /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** How the paper names a layout's unit for a model, e.g. "2×{ReLU-IC-Conv2D}". */
export function unitName(model: string, layout: string): string {
  const bottleneck = model === 'resnet-b' || ['resnet50', 'resnet101', 'resnet152'].includes(model);
  const names: Record<string, string> = { 'relu-ic-conv': '{ReLU-IC-Conv2D}', 'ic-conv-relu': '{IC-Conv2D-ReLU}', 'conv-relu-ic': '{Conv2D-ReLU-IC}' };
  return layout === 'baseline' ? 'Baseline' : `${bottleneck ? 3 : 2}×${names[layout] ?? layout}`;
}

const MODEL_NAMES: Record<string, string> = { resnet: 'ResNet', 'resnet-b': 'ResNet-B' };
const modelName = (m: string): string => MODEL_NAMES[m] ?? m.replace(/^resnet/, 'ResNet-');
const DATASET_NAMES: Record<string, string> = { cifar10: 'CIFAR-10', cifar100: 'CIFAR-100', synthetic: 'synthetic', imagenet: 'ImageNet' };
const dsName = (d: string): string => DATASET_NAMES[d] ?? d;

/** The figure of a (data set, model, depth), as a file base name. */
function figureBase(c: { dataset: string; model: string; depth: number }): string {
  return /^resnet\d+$/.test(c.model) ? `curves-${c.dataset}-${c.model}` : `curves-${c.dataset}-${c.model}-${c.depth}`;
}

/** A cell's per-epoch records for the plots: its metrics.jsonl up to the checkpoint's epoch (else the checkpoint history). */
function curveRecords(s: CellSummary): Record<string, unknown>[] {
  try {
    return epochRecords(s.runDir).filter((r) => typeof r.epoch === 'number' && r.epoch <= s.epoch);
  } catch {
    return s.history as unknown as Record<string, unknown>[];
  }
}

function figurePanels(table: TableName, cells: CellSummary[]): PlotPanel[] {
  const layouts = [...new Set(cells.map((c) => c.layout))];
  const value = (key: string, transform: (v: number) => number) => (r: Record<string, unknown>): [number, number] | null =>
    typeof r.epoch === 'number' && typeof r[key] === 'number' && Number.isFinite(r[key] as number) ? [r.epoch, transform(r[key] as number)] : null;
  const specs =
    table === 'imagenet'
      ? [
          { title: 'Top-1 validation error (1-crop)', yLabel: 'top-1 error (%)', legendAt: 'top' as const, get: value('testAcc', (v) => 100 * (1 - v)) },
          { title: 'Top-5 validation error (1-crop)', yLabel: 'top-5 error (%)', legendAt: 'top' as const, get: value('testTop5', (v) => 100 * (1 - v)) },
        ]
      : [
          { title: 'Test accuracy', yLabel: 'test accuracy (%)', legendAt: 'bottom' as const, get: value('testAcc', (v) => 100 * v) },
          { title: 'Training loss', yLabel: 'training loss', legendAt: 'top' as const, get: value('trainLoss', (v) => v) },
        ];
  return specs.map((spec) => {
    const series: PlotSeries[] = [];
    for (const layout of layouts) {
      const color = LAYOUT_COLORS[layout] ?? '#888888';
      const runs = cells.filter((c) => c.layout === layout).map((c) => curveRecords(c).map(spec.get).filter((p): p is [number, number] => p !== null));
      const withData = runs.filter((r) => r.length > 0);
      if (withData.length === 1) {
        series.push({ label: layout, color, points: withData[0], thick: true, legend: true });
        continue;
      }
      for (const r of withData) series.push({ label: `${layout} (seed)`, color, points: r, thick: false, legend: false });
      // The mean over the seeds that reached each epoch.
      const byEpoch = new Map<number, number[]>();
      for (const r of withData) for (const [e, v] of r) byEpoch.set(e, [...(byEpoch.get(e) ?? []), v]);
      const mean = [...byEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([e, vs]) => [e, vs.reduce((a, b) => a + b, 0) / vs.length] as [number, number]);
      if (mean.length) series.push({ label: `${layout} (mean of ${withData.length})`, color, points: mean, thick: true, legend: true });
    }
    return { title: spec.title, yLabel: spec.yLabel, legendAt: spec.legendAt, series };
  });
}

function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

/** Config keys equal in every cell, and each cell's other keys. */
function splitConfigs(cells: Cell[]): { common: Record<string, unknown>; perCell: Map<string, Record<string, unknown>> } {
  const configs = cells.map((c) => c.config as unknown as Record<string, unknown>);
  const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))].sort();
  const common: Record<string, unknown> = {};
  const varying: string[] = [];
  for (const k of keys) {
    const vals = new Set(configs.map((c) => canonicalJson(c[k])));
    if (vals.size === 1 && k !== 'outDir') common[k] = configs[0][k];
    else varying.push(k);
  }
  const perCell = new Map<string, Record<string, unknown>>();
  cells.forEach((c, i) => perCell.set(c.id, Object.fromEntries(varying.map((k) => [k, configs[i][k]]))));
  return { common, perCell };
}

/** Labels "A", "B", ... for distinct values, in order of first appearance. */
function labeller<T>(key: (v: T) => string): { label: (v: T) => string; entries: [string, T][] } {
  const seen = new Map<string, [string, T]>();
  return {
    label(v: T) {
      const k = key(v);
      let e = seen.get(k);
      if (!e) {
        const n = seen.size;
        e = [n < 26 ? String.fromCharCode(65 + n) : `Z${n - 25}`, v];
        seen.set(k, e);
      }
      return e[0];
    },
    get entries() {
      return [...seen.values()];
    },
  };
}

/** Writes report.md, report.csv, cells.csv and the figures into `ctx.out`. */
export async function writeReport(ctx: ReportContext): Promise<ReportFiles> {
  const { table, groups, summaries, cells } = ctx;
  const warnings: string[] = [];
  const figures: string[] = [];
  const md: string[] = [];
  const imagenet = table === 'imagenet';
  const reference = imagenet ? IMAGENET_REFERENCE_EPOCHS : PAPER_CIFAR_EPOCHS;
  const done = summaries.filter((s) => s.status === 'done').length;

  md.push(`# Reproducing Chen et al.: the ${imagenet ? 'ImageNet' : 'CIFAR'} experiments`, '');
  md.push(
    `"Rethinking the Usage of Batch Normalization and Dropout in the Training of Deep Neural Networks" (Chen et al.): ` +
      `IC layers (BatchNorm then Dropout before each weight layer) against the classic Conv-BN-ReLU unit. ` +
      `This report was written ${new Date().toISOString()} by \`${ctx.argv.join(' ')}\` with ${describeCode(ctx.code)}.`,
    '',
  );
  for (const n of ctx.notes) md.push(`> ${n}`, '');
  md.push(`**Cells:** ${done} of ${summaries.length} finished${done < summaries.length ? ` (${summaries.filter((s) => s.status === 'partial').length} partial, ${summaries.filter((s) => s.status === 'pending').length} not started)` : ''}.`, '');
  const epochsSet = [...new Set(cells.map((c) => c.config.epochs))];
  if (epochsSet.some((e) => e < reference)) {
    md.push(
      `> **Short schedule: read the comparison with care.** These cells train for ${epochsSet.join(', ')} epoch(s), not the ` +
        `${imagenet ? `${reference} of the standard ImageNet ResNet schedule (He et al.)` : `paper's ${reference}`}. The learning rate still drops ÷10 at 50% ` +
        `and 75% of the (shortened) run, so the networks are far from converged: the final accuracies are not comparable with ` +
        `the published figures, and differences between layouts this early say little about where they end. What such a ` +
        `run can show is early convergence (the curves below); it neither confirms nor refutes the paper's table.`,
      '',
    );
  }
  const limits = [...new Set(cells.map((c) => c.config.limitPerClass))].filter((l) => l > 0);
  if (limits.length) md.push(`> **Subset.** Each split keeps only the first ${limits.join('/')} images per class (\`--limit-per-class\`), not the full data set.`, '');
  if (cells.some((c) => c.dataset === 'synthetic')) md.push("> **Synthetic data.** `synthetic` cells train on ictorch's generated images: a check of the machinery, with no published figure.", '');
  const seeds = Math.max(...groups.map((g) => g.planned));
  if (seeds < 2) md.push('> **One seed per cell:** no spread can be given; a difference between layouts may be seed noise.', '');

  // ---- results
  md.push('## Results', '');
  if (imagenet) {
    md.push('Final-epoch top-1 and top-5 validation error (1-crop, %), mean ± sample standard deviation over the finished seeds (n). The paper reports ImageNet as error curves, without a table figure.', '');
    md.push('| model | unit | n/seeds | epochs | top-1 error | top-5 error | top-1: IC − baseline |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const g of groups) {
      const err = (m: number | null, s: number | null) => (m === null ? '—' : `${pct(1 - m)}${s !== null ? ` ± ${pct(s)}` : ''}`);
      md.push(`| ${modelName(g.model)} | ${unitName(g.model, g.layout)} | ${g.n}/${g.planned} | ${g.epochs} | ${err(g.accMean, g.accStd)} | ${err(g.top5Mean, g.top5Std)} | ${g.icMinusBaseline === null ? '—' : signedPct(-g.icMinusBaseline)} |`);
    }
  } else {
    md.push(
      'Final-epoch test accuracy (%), mean ± sample standard deviation over the finished seeds (n), against the paper\'s figure. ' +
        '"IC − baseline" compares each IC layout with the baseline of the same data set, model and depth (ours: our means; paper: its figures).',
      '',
    );
    md.push('| data set | model | depth | unit | n/seeds | epochs | ours | paper | ours − paper | IC − baseline (ours) | IC − baseline (paper) |');
    md.push('| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const g of groups) {
      const ours = g.accMean === null ? '—' : `${pct(g.accMean)}${g.accStd !== null ? ` ± ${pct(g.accStd)}` : ''}`;
      md.push(`| ${dsName(g.dataset)} | ${modelName(g.model)} | ${g.depth} | ${unitName(g.model, g.layout)} | ${g.n}/${g.planned} | ${g.epochs} | ${ours} | ${pct(g.paper)} | ${signedPct(g.diff)} | ${signedPct(g.icMinusBaseline)} | ${signedPct(g.paperIcMinusBaseline)} |`);
    }
    if (groups.every((g) => g.paper === null)) {
      md.push('', 'No cell of this grid has a published counterpart: the paper\'s CIFAR table covers ResNet and ResNet-B of depth 110 and 164 on CIFAR-10/100 only (listed below). Only the comparison between layouts within this grid applies.');
    }
  }
  md.push('');

  // ---- convergence figures
  md.push('## Convergence', '');
  md.push(
    imagenet
      ? 'Top-1 and top-5 validation error per epoch, one colour per layout: thin lines are single seeds, thick lines their mean.'
      : 'Test accuracy and training loss per epoch, one colour per layout: thin lines are single seeds, thick lines their mean (from each run\'s metrics.jsonl).',
    '',
  );
  const figureKeys = new Map<string, CellSummary[]>();
  for (const s of summaries) {
    const k = figureBase(s);
    figureKeys.set(k, [...(figureKeys.get(k) ?? []), s]);
  }
  for (const [base, ss] of figureKeys) {
    const s0 = ss[0];
    const title = `${dsName(s0.dataset)}, ${modelName(s0.model)}${/^resnet\d+$/.test(s0.model) ? '' : `-${s0.depth}`}: ${ss.length} cell(s)`;
    const svg = renderPanelsSvg(title, figurePanels(table, ss), `ictorch reproduce, ${ctx.code.commit ? ctx.code.commit.slice(0, 12) : ctx.code.version}`);
    const r = await writeFigure(path.join(ctx.out, base), svg);
    figures.push(...r.files);
    if (r.pngError) warnings.push(r.pngError);
    md.push(`![${title}](${base}.svg)`, '');
  }

  // ---- published figures
  if (!imagenet) {
    const ds = [...new Set(cells.map((c) => c.dataset))].filter((d) => d === 'cifar10' || d === 'cifar100');
    const models = new Set(cells.map((c) => c.model));
    const rows = PUBLISHED_CIFAR.filter((r) => models.has(r.model));
    md.push('## Published figures (Chen et al.)', '');
    md.push('Test accuracy (%) as published, for the models of this grid. ' + PAPER_DEPTH_NOTE, '');
    md.push('| model | depth | unit | CIFAR-10 | CIFAR-100 |', '| --- | ---: | --- | ---: | ---: |');
    for (const r of rows) md.push(`| ${modelName(r.model)} | ${r.depth} | ${r.unit} | ${pct(r.cifar10)} | ${pct(r.cifar100)} |`);
    md.push('');
    if (ds.length === 0) md.push('(No CIFAR data set is in this grid: nothing above is compared with these figures.)', '');
  } else {
    md.push('## Published figures (Chen et al.)', '', 'ImageNet: the paper shows top-1/top-5 1-crop validation error curves of ResNet-18 and ResNet-50 with and without IC layers; compare the figures above with them.', '');
  }

  // ---- cells, with provenance labels
  const codeL = labeller<CodeVersion>((c) => `${c.version}|${c.commit}|${c.dirty}`);
  const machL = labeller<Machine>((m) => `${m.host}|${m.cpu}|${m.device}|${m.gpu}|${m.torchVersion}|${m.threads}`);
  const dataL = labeller<DataFingerprint>((d) => `${d.spec}|${d.listSha256}|${d.files}|${d.bytes}`);
  md.push('## Cells', '');
  md.push('Each cell is one run directory under the output directory. Sessions: code [letter], machine [letter], data [letter] (listed below), epochs trained, how it ended.', '');
  md.push('| cell | status | epochs | test top-1 | test top-5 | best top-1 | training time | sessions |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const s of summaries) {
    const prov = ctx.provenance.get(s.id);
    const sessions = prov?.sessions.length
      ? prov.sessions
          .map((x) => `code ${codeL.label(x.code)}, machine ${machL.label(x.machine)}, data ${dataL.label(x.data)}: epochs ${x.fromEpoch}→${x.toEpoch ?? '?'}${x.processes && x.processes > 1 ? ` on ${x.processes} processes` : ''}, ${x.status === 'running' ? 'ended without a record (killed?)' : x.status}${x.seconds !== null ? ` in ${Math.round(x.seconds)} s` : ''}`)
          .join('; ')
      : 'no reproduce.json (not run by `ictorch reproduce`)';
    md.push(`| ${s.id} | ${s.status} | ${s.epoch}/${s.epochs} | ${pct(s.testAcc)} | ${pct(s.testTop5)} | ${pct(s.bestAcc)} | ${Math.round(s.trainSeconds)} s | ${sessions} |`);
  }
  md.push('', 'Training time is the time in training steps (sum over epochs); session times include loading the data and evaluation.', '');

  // ---- provenance
  md.push('## What produced these numbers', '');
  md.push('### Code', '');
  if (codeL.entries.length === 0) md.push('No cell has a session record yet.');
  for (const [l, c] of codeL.entries) md.push(`- **${l}**: ${describeCode(c)}`);
  md.push(`- This report: ${describeCode(ctx.code)}`, '');
  md.push('### Machines', '');
  for (const [l, m] of machL.entries) md.push(`- **${l}**: ${m.host}: ${describeMachine(m)}`);
  md.push(`- This report: ${ctx.machine.host}: ${describeMachine(ctx.machine)}`, '');
  md.push('### Data', '');
  for (const [l, d] of dataL.entries) md.push(`- **${l}**: \`${d.spec}\`: ${describeData(d)}`);
  for (const { location, fingerprint } of ctx.data) {
    md.push(
      location.spec
        ? `- Now: ${location.dataset} → \`${location.spec}\` (${location.format})${fingerprint ? `: ${describeData(fingerprint)}` : ''}`
        : `- Now: ${location.dataset} not found (${location.looked.join('; ')})`,
    );
  }
  md.push('', 'The data fingerprint hashes the sorted list of relative file paths and sizes (hidden files, such as the image folder decode cache, left out).', '');
  md.push('### Config', '');
  const { common, perCell } = splitConfigs(cells);
  md.push(`Every cell's complete \`fit\` config is the common part below plus its own keys (fields that may change on resume without changing the numbers: ${CONFIG_KEYS_FREE.join(', ')}).`, '');
  md.push('```json', JSON.stringify(common, null, 2), '```', '');
  md.push('| cell | its own keys |', '| --- | --- |');
  for (const c of cells) md.push(`| ${c.id} | \`${canonicalJson(perCell.get(c.id))}\` |`);
  md.push('');
  if (!imagenet) md.push('### Depths', '', PAPER_DEPTH_NOTE, '');
  else {
    md.push('### Recipe notes', '');
    md.push(`He et al.'s ImageNet schedule drops the learning rate ÷10 at epochs 30 and 60 of 90; ictorch's \`step\` schedule drops at 50% and 75% of the run (epochs 45 and 67.5 of 90).`, '');
  }

  const markdown = path.join(ctx.out, 'report.md');
  writeFileAtomic(markdown, md.join('\n'));

  // ---- CSVs (fractions, not percent)
  const gHead = ['table', 'dataset', 'model', 'depth', 'layout', 'unit', 'seeds_done', 'seeds_planned', 'epochs', 'acc_mean', 'acc_std', 'top5_mean', 'top5_std', 'paper_acc', 'diff_vs_paper', 'ic_minus_baseline', 'paper_ic_minus_baseline'];
  const gRows = groups.map((g) =>
    [table, g.dataset, g.model, g.depth, g.layout, unitName(g.model, g.layout), g.n, g.planned, g.epochs, csvNum(g.accMean), csvNum(g.accStd), csvNum(g.top5Mean), csvNum(g.top5Std), csvNum(g.paper), csvNum(g.diff), csvNum(g.icMinusBaseline), csvNum(g.paperIcMinusBaseline)].map(csvField).join(','),
  );
  const csv = path.join(ctx.out, 'report.csv');
  writeFileAtomic(csv, [gHead.join(','), ...gRows].join('\n') + '\n');
  const cHead = ['cell', 'dataset', 'model', 'depth', 'layout', 'seed', 'status', 'epoch', 'epochs', 'test_acc', 'test_top5', 'test_loss', 'best_acc', 'train_seconds', 'commit', 'run_dir'];
  const cRows = summaries.map((s) => {
    const commits = [...new Set((ctx.provenance.get(s.id)?.sessions ?? []).map((x) => x.code.commit ?? x.code.version))].join(' ');
    return [s.id, s.dataset, s.model, s.depth, s.layout, s.seed, s.status, s.epoch, s.epochs, csvNum(s.testAcc), csvNum(s.testTop5), csvNum(s.testLoss), csvNum(s.bestAcc), csvNum(s.trainSeconds), commits, s.runDir].map(csvField).join(',');
  });
  const cellsCsv = path.join(ctx.out, 'cells.csv');
  writeFileAtomic(cellsCsv, [cHead.join(','), ...cRows].join('\n') + '\n');
  return { markdown, csv, cellsCsv, figures, warnings };
}
