/**
 * The numbers of a grid: per cell its final test figures, per cell group (the cell without its seed) the
 * mean and sample standard deviation over the seeds that finished, next to the paper's figure and the
 * IC-minus-baseline difference of both. Only finished cells count; a partial cell shows where it is.
 */
import type { EpochRecord } from '../train/fit';
import type { CellState, CellStatus } from './cell-state';
import type { Cell } from './grid';
import type { TableName } from './tables';
import { publishedCifar } from './published';

/** One cell's outcome. */
export interface CellSummary {
  id: string;
  dataset: string;
  model: string;
  depth: number;
  layout: string;
  seed: number;
  group: string;
  status: CellStatus;
  /** Epochs completed and planned. */
  epoch: number;
  epochs: number;
  /** Final (last epoch's) test top-1 / top-5 accuracy and loss; null until the cell is done. */
  testAcc: number | null;
  testTop5: number | null;
  testLoss: number | null;
  /** Best test top-1 over the epochs so far (for reference; the table uses the final one). */
  bestAcc: number | null;
  /** Seconds spent in training steps (sum over epochs, evaluation excluded). */
  trainSeconds: number;
  runDir: string;
  /** The per-epoch records so far. */
  history: EpochRecord[];
}

/** One cell group's outcome. */
export interface GroupSummary {
  group: string;
  dataset: string;
  model: string;
  depth: number;
  layout: string;
  /** Seeds planned and finished. */
  planned: number;
  n: number;
  epochs: number;
  /** Mean and sample standard deviation (null for n < 2) of the final test top-1 accuracy; null for n = 0. */
  accMean: number | null;
  accStd: number | null;
  top5Mean: number | null;
  top5Std: number | null;
  /** The paper's figure (CIFAR), or null. */
  paper: number | null;
  /** accMean − paper. */
  diff: number | null;
  /** This layout's mean minus the baseline's mean in the same (data set, model, depth); null for the baseline. */
  icMinusBaseline: number | null;
  paperIcMinusBaseline: number | null;
}

/** Mean and sample standard deviation (n − 1); std null below two values, both null for none. */
export function meanStd(xs: number[]): [number | null, number | null] {
  if (xs.length === 0) return [null, null];
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return [m, null];
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
  return [m, Math.sqrt(v)];
}

/** A cell's summary from its state. */
export function summarizeCell(cell: Cell, state: CellState): CellSummary {
  const h = state.history;
  const last = state.status === 'done' ? h[h.length - 1] : undefined;
  const best = h.length ? Math.max(...h.map((r) => r.testAcc).filter((x) => Number.isFinite(x))) : null;
  return {
    id: cell.id, dataset: cell.dataset, model: cell.model, depth: cell.depth, layout: cell.layout, seed: cell.seed, group: cell.group,
    status: state.status, epoch: state.epoch, epochs: cell.config.epochs,
    testAcc: last?.testAcc ?? null, testTop5: last?.testTop5 ?? null, testLoss: last?.testLoss ?? null,
    bestAcc: best !== null && Number.isFinite(best) ? best : null,
    trainSeconds: h.reduce((a, r) => a + (Number.isFinite(r.seconds) ? r.seconds : 0), 0),
    runDir: cell.dir, history: h,
  };
}

/** Groups cells (in grid order) and computes each group's figures. */
export function summarizeGroups(table: TableName, cells: CellSummary[]): GroupSummary[] {
  const byGroup = new Map<string, CellSummary[]>();
  for (const c of cells) byGroup.set(c.group, [...(byGroup.get(c.group) ?? []), c]);
  const groups: GroupSummary[] = [];
  for (const [group, cs] of byGroup) {
    const c0 = cs[0];
    const done = cs.filter((c) => c.status === 'done' && c.testAcc !== null);
    const [accMean, accStd] = meanStd(done.map((c) => c.testAcc!));
    const [top5Mean, top5Std] = meanStd(done.map((c) => c.testTop5!));
    const paper = table === 'cifar' ? publishedCifar(c0.dataset, c0.model, c0.depth, c0.layout) : null;
    groups.push({
      group, dataset: c0.dataset, model: c0.model, depth: c0.depth, layout: c0.layout, planned: cs.length, n: done.length, epochs: c0.epochs,
      accMean, accStd, top5Mean, top5Std, paper, diff: accMean !== null && paper !== null ? accMean - paper : null,
      icMinusBaseline: null, paperIcMinusBaseline: null,
    });
  }
  for (const g of groups) {
    if (g.layout === 'baseline') continue;
    const base = groups.find((b) => b.layout === 'baseline' && b.dataset === g.dataset && b.model === g.model && b.depth === g.depth);
    if (base && g.accMean !== null && base.accMean !== null) g.icMinusBaseline = g.accMean - base.accMean;
    const paperBase = table === 'cifar' ? publishedCifar(g.dataset, g.model, g.depth, 'baseline') : null;
    if (g.paper !== null && paperBase !== null) g.paperIcMinusBaseline = g.paper - paperBase;
  }
  return groups;
}
