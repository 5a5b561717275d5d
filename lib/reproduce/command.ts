/**
 * `ictorch reproduce`: the paper's experiment grid in one command. Parses the flags (the training flags are
 * `ictorch train`'s, from `lib/train-flags.ts`), plans the grid, and either prints the plan with a measured
 * time estimate (`--dry-run`) or trains the cells and writes the report. Ctrl-C stops after the step in
 * flight with a checkpoint (exit 130); running the same command again continues.
 */
import * as path from 'path';
import { parseArgs } from 'util';
import type { Layout } from '../models/resnet';
import { joinLaunchedRun, LAUNCH_FLAGS, launchCommand, wantsLaunch } from '../cli-launch';
import { asUsage, num, parseTrainFlags, TRAIN_FLAGS, UsageError } from '../train-flags';
import type { ReproduceDataset } from './data-root';
import type { Throughput } from './estimate';
import { publishedCifar } from './published';
import type { ReproducePlan, ReproduceOptions } from './run';
import { depthProblem, PAPER_LAYOUTS, TABLE_SPECS, TABLES, type TableName } from './tables';
import { stopOnSignals } from '../util/stop-signals';

// The modules that load LibTorch are required only after the flags have been checked, so a usage error
// comes at once.
const heavy = () => ({
  ...(require('./run') as typeof import('./run')),
  ...(require('./estimate') as typeof import('./estimate')),
  CellConflict: (require('./cell-state') as typeof import('./cell-state')).CellConflict,
});

function list(flag: string, v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const items = v.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new UsageError(`--${flag} expects a comma-separated list without empty items, got "${v}"`);
  return [...new Set(items)];
}

function oneOf<T extends string>(flag: string, items: string[], allowed: readonly T[], context = ''): T[] {
  for (const x of items) if (!(allowed as readonly string[]).includes(x)) throw new UsageError(`--${flag}: "${x}" is not one of ${allowed.join(', ')}${context}`);
  return items as T[];
}

/**
 * Parses the command line into grid options (usage errors for anything unknown or out of range); `launch`
 * holds the launcher's flags (`--nproc-per-node`, ...) as given.
 */
export function parseReproduceArgs(argv: string[]): { options: ReproduceOptions; dryRun: boolean; json: boolean; estimateSteps: number; launch: Record<string, string | undefined> } {
  const s = { type: 'string' } as const;
  const b = { type: 'boolean' } as const;
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      ...TRAIN_FLAGS, ...LAUNCH_FLAGS, table: s, datasets: s, models: s, depths: s, layouts: s, seeds: s, 'data-root': s, out: s,
      'dry-run': b, 'estimate-steps': s, 'baseline-warmup-epochs': s,
    },
  });
  if (positionals.length) throw new UsageError(`reproduce takes no positional arguments, got "${positionals[0]}"`);
  const table = (values.table ?? 'cifar') as TableName;
  if (!(TABLES as readonly string[]).includes(table)) throw new UsageError(`--table must be one of ${TABLES.join(', ')}, got "${values.table}"`);
  const spec = TABLE_SPECS[table];
  const datasets = oneOf<ReproduceDataset>('datasets', list('datasets', values.datasets) ?? spec.defaultDatasets, spec.datasets, ` for --table ${table}`);
  const models = oneOf('models', list('models', values.models) ?? spec.defaultModels, spec.models, ` for --table ${table}`);
  const layouts = oneOf<Layout>('layouts', list('layouts', values.layouts) ?? spec.defaultLayouts, PAPER_LAYOUTS);
  let depths: number[] = [];
  if (spec.defaultDepths === null) {
    if (values.depths !== undefined) throw new UsageError(`--depths applies to --table cifar; the ImageNet models are named by their depth (--models ${spec.models.join(',')})`);
  } else {
    depths = (list('depths', values.depths) ?? spec.defaultDepths.map(String)).map((d) => num('depths', d, 0, true));
    for (const m of models) for (const d of depths) {
      const why = depthProblem(m, d);
      if (why) throw new UsageError(`--depths: ${why}`);
    }
  }
  const seeds = num('seeds', values.seeds, 1, true);
  if (seeds < 1 || seeds > 1000) throw new UsageError(`--seeds expects an integer from 1 to 1000, got "${values.seeds}"`);
  const estimateSteps = num('estimate-steps', values['estimate-steps'], 2, true);
  if (estimateSteps < 0 || estimateSteps > 1000) throw new UsageError(`--estimate-steps expects an integer from 0 to 1000, got "${values['estimate-steps']}"`);
  const baselineWarmupEpochs = num('baseline-warmup-epochs', values['baseline-warmup-epochs'], 0, true);
  if (baselineWarmupEpochs < 0) throw new UsageError(`--baseline-warmup-epochs expects an integer >= 0, got "${values['baseline-warmup-epochs']}"`);
  const flags = parseTrainFlags(values);
  const positive: [string, number | undefined][] = [['epochs', flags.config.epochs], ['batch-size', flags.config.batchSize], ['checkpoint-every', flags.config.checkpointEvery], ['train-size', flags.config.syntheticTrainSize], ['test-size', flags.config.syntheticTestSize]];
  for (const [flag, v] of positive) if (v !== undefined && v < 1) throw new UsageError(`--${flag} expects an integer >= 1, got "${v}"`);
  const nonNegative: [string, number | undefined][] = [['limit-per-class', flags.config.limitPerClass], ['log-every', flags.config.logEvery], ['warmup-epochs', flags.config.warmupEpochs]];
  for (const [flag, v] of nonNegative) if (v !== undefined && v < 0) throw new UsageError(`--${flag} expects an integer >= 0, got "${v}"`);
  if (flags.dropRate !== undefined && (flags.dropRate < 0 || flags.dropRate >= 1)) throw new UsageError(`--drop-rate expects a number in [0, 1), got "${values['drop-rate']}"`);
  if (flags.width !== undefined && (flags.width < 1 || flags.width > 64)) throw new UsageError(`--width expects an integer from 1 to 64, got "${values.width}"`);
  if (flags.width !== undefined && table === 'imagenet') throw new UsageError('--width applies to --table cifar (the CIFAR ResNets)');
  const out = values.out ?? path.join('runs', `reproduce-${table}`);
  return {
    options: {
      table, datasets, models, depths, layouts, seeds, out, overrides: { ...flags.config }, dropRate: flags.dropRate, width: flags.width,
      baselineWarmupEpochs, dataRoot: values['data-root'], argv: ['ictorch', 'reproduce', ...argv],
    },
    dryRun: values['dry-run'] ?? false,
    json: values.json ?? false,
    estimateSteps,
    launch: Object.fromEntries(Object.keys(LAUNCH_FLAGS).map((k) => [k, (values as Record<string, string | undefined>)[k]])),
  };
}

const pct = (x: number | null): string => (x === null ? '—' : (100 * x).toFixed(2));

/** Measures each distinct network of the cells still to train and returns the estimate per cell. */
async function estimate(plan: ReproducePlan, steps: number, log: (l: string) => void): Promise<{ perCell: Map<string, number>; throughputs: Throughput[] }> {
  const { CellConflict, networkKey, measureThroughput, cellSeconds } = heavy();
  const perCell = new Map<string, number>();
  const measured = new Map<string, Throughput>();
  for (const c of plan.cells) {
    const st = plan.states.get(c.id);
    if (!st || st instanceof CellConflict || st.status === 'done') continue;
    const key = networkKey(c);
    let t = measured.get(key);
    if (!t) {
      log(`timing ${steps} training step(s) of ${key} on ${c.config.device} ...`);
      t = await asUsage(() => measureThroughput(c, c.config.device, steps));
      measured.set(key, t);
    }
    perCell.set(c.id, cellSeconds(c, t, st.epoch));
  }
  return { perCell, throughputs: [...measured.values()] };
}

async function dryRun(plan: ReproducePlan, estimateSteps: number, json: boolean, log: (l: string) => void): Promise<void> {
  const { CellConflict, formatDuration } = heavy();
  const est = estimateSteps > 0 ? await estimate(plan, estimateSteps, log) : null;
  const o = plan.options;
  const cellsOut = plan.cells.map((c) => {
    const st = plan.states.get(c.id)!;
    return {
      id: c.id, dataset: c.dataset, model: c.model, depth: c.depth, layout: c.layout, seed: c.seed, runDir: c.dir,
      status: st instanceof CellConflict ? 'conflict' : st.status,
      ...(st instanceof CellConflict ? { problem: st.message } : st.note ? { note: st.note } : {}),
      epochsDone: st instanceof CellConflict ? null : st.epoch,
      published: plan.table === 'cifar' ? { cifar10: publishedCifar('cifar10', c.model, c.depth, c.layout), cifar100: publishedCifar('cifar100', c.model, c.depth, c.layout) } : null,
      estimateSeconds: est ? (est.perCell.get(c.id) ?? 0) : null,
      config: c.config,
    };
  });
  const total = est ? [...est.perCell.values()].reduce((a, b) => a + b, 0) : null;
  const device = plan.cells[0]?.config.device ?? 'cpu';
  const assumption =
    `time per image measured on ${device} over ${estimateSteps} training step(s) of random data (batch ${est?.throughputs[0]?.batch ?? '-'}${device === 'cpu' ? ', capped at 32 on the CPU' : ''}) and one evaluation batch per network, ` +
    'scaled linearly to each cell\'s images per epoch (standard split sizes, cut by --limit-per-class) and epochs left; data loading, checkpoints and plots not included';
  const lines: string[] = [];
  const L = plan.cells.length;
  lines.push(`ictorch reproduce --table ${plan.table}: ${L} cell(s) (${o.datasets.length} data set(s) × ${o.models.length} model(s)${plan.table === 'cifar' ? ` × ${o.depths.length} depth(s)` : ''} × ${o.layouts.length} layout(s) × ${o.seeds} seed(s)), run directories under ${path.resolve(o.out)}`);
  for (const d of plan.data) lines.push(d.spec ? `data ${d.dataset}: ${d.spec} (${d.format})` : `data ${d.dataset}: MISSING (${d.looked.join('; ')})`);
  const c0 = plan.cells[0]?.config;
  if (c0) lines.push(`recipe: ${c0.epochs} epochs, batch ${c0.batchSize}, lr ${c0.lr} (${c0.schedule}${c0.warmupEpochs ? `, ${c0.warmupEpochs} warm-up epoch(s)` : ''}), momentum ${c0.momentum}, weight decay ${c0.weightDecay}, IC dropout ${o.dropRate ?? 0.05}, device ${c0.device}${c0.limitPerClass ? `, first ${c0.limitPerClass} images per class` : ''}${o.baselineWarmupEpochs ? `; baselines of depth >= 110: ${o.baselineWarmupEpochs} warm-up epoch(s)` : ''}`);
  lines.push('');
  // The paper's figure for the cell's own data set (CIFAR-10 or CIFAR-100; none for synthetic data).
  const head = ['#', 'cell', 'status', 'paper (%)', 'estimate'];
  const rows = cellsOut.map((c, i) => [
    String(i + 1), c.id, c.status === 'partial' ? `partial (${c.epochsDone} ep.)` : c.status,
    pct(c.dataset === 'cifar10' || c.dataset === 'cifar100' ? (c.published?.[c.dataset] ?? null) : null), c.estimateSeconds === null ? '-' : formatDuration(c.estimateSeconds),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const fmtRow = (r: string[]) => r.map((x, j) => (j >= 3 ? x.padStart(widths[j]) : x.padEnd(widths[j]))).join('  ').trimEnd();
  lines.push(fmtRow(head), ...rows.map(fmtRow));
  for (const c of cellsOut) if (c.status === 'conflict') lines.push(`conflict: ${(c as { problem?: string }).problem}`);
  lines.push('');
  if (est) {
    for (const t of est.throughputs) lines.push(`measured ${t.key}: ${(1 / t.trainSecondsPerImage).toFixed(1)} training img/s, ${(1 / t.evalSecondsPerImage).toFixed(1)} test img/s (batch ${t.batch})`);
    lines.push(`estimated time: ${formatDuration(total!)} for the ${est.perCell.size} cell(s) left`);
    lines.push(`assumption: ${assumption}`);
  } else lines.push('estimated time: not measured (--estimate-steps 0)');
  process.stdout.write(`${lines.join('\n')}\n`);
  if (json) {
    const summary = {
      dryRun: true, table: plan.table, out: path.resolve(o.out), data: plan.data, cells: cellsOut,
      estimate: est ? { seconds: total, device, throughputs: est.throughputs, assumption } : null,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
}

/** `ictorch reproduce [options]`: see `REPRODUCE_HELP`. */
export async function cmdReproduce(argv: string[]): Promise<void> {
  const { options, dryRun: dry, json, estimateSteps, launch } = parseReproduceArgs(argv);
  if (wantsLaunch(launch)) {
    if (dry) throw new UsageError('--dry-run plans and times the grid in this process; give it without --nproc-per-node');
    const { planReproduce, checkShares } = heavy();
    return launchCommand('reproduce', argv, launch, (worldSize) => asUsage(() => checkShares(planReproduce(options), worldSize)));
  }
  const { planReproduce, runReproduce, CellConflict, formatDuration } = heavy();
  // A process of a launched run joins its group (every cell then trains data parallel); rank 0 alone speaks.
  const joined = await joinLaunchedRun(options.overrides.device ?? 'cpu');
  if (joined.launched) {
    if (dry) throw new UsageError('--dry-run plans and times the grid in one process, not in a launched run');
    options.overrides.device = joined.device;
  }
  const lead = joined.rank === 0;
  const log = lead ? (line: string) => process.stderr.write(`${line}\n`) : () => {};
  const plan = await asUsage(() => planReproduce(options));
  if (dry) return dryRun(plan, estimateSteps, json, log);

  // Ctrl-C (or SIGTERM) stops the cell in flight after its current step, with a checkpoint.
  const stop = stopOnSignals(log);
  const t0 = Date.now();
  let result: Awaited<ReturnType<typeof runReproduce>>;
  try {
    result = await asUsage(async () => {
      try {
        return await runReproduce(plan, {
          signal: stop.signal,
          log,
          progressStream: process.stderr,
          onEpoch: (cell, r) =>
            log(`${cell.id} epoch ${r.epoch}/${r.epochs}  lr ${r.lr.toPrecision(2)}  train loss ${r.trainLoss.toFixed(3)} acc ${(100 * r.trainAcc).toFixed(1)}%  test top-1 ${(100 * r.testAcc).toFixed(2)}% top-5 ${(100 * r.testTop5).toFixed(1)}%  ${Math.round(r.imagesPerSec)} img/s`),
        });
      } catch (e) {
        if (e instanceof CellConflict) throw new UsageError(e.message);
        throw e;
      }
    });
  } finally {
    stop.dispose();
  }
  (require('../distributed/process-group') as typeof import('../distributed/process-group')).destroyProcessGroup();
  if (!lead) {
    if (result.interrupted) process.exit(stop.exitCode());
    return;
  }
  const secs = (Date.now() - t0) / 1000;
  const lines = result.groups.map((g) => {
    const ours = g.accMean === null ? '—' : `${pct(g.accMean)}${g.accStd !== null ? ` ± ${pct(g.accStd)}` : ''}`;
    return `${g.group}: ${ours}% (n=${g.n}/${g.planned})${g.paper !== null ? `, paper ${pct(g.paper)}%` : ''}`;
  });
  const done = result.cells.filter((c) => c.status === 'done').length;
  log(`${result.interrupted ? 'interrupted' : 'done'} after ${formatDuration(secs)}: ${done} of ${result.cells.length} cells finished; report ${result.report.markdown}`);
  for (const w of result.report.warnings) log(`note: ${w}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (json) {
    const summary = {
      table: plan.table, out: path.resolve(options.out), complete: result.complete, interrupted: result.interrupted, trained: result.trained, seconds: secs,
      cells: result.cells.map(({ history: _h, ...c }) => c),
      groups: result.groups,
      report: { markdown: result.report.markdown, csv: result.report.csv, cellsCsv: result.report.cellsCsv, figures: result.report.figures },
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
  if (result.interrupted) process.exit(stop.exitCode());
}
