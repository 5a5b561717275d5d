/**
 * Runs a reproduce grid: plans it (finds the data, builds the cells, reads where each cell stands), then
 * trains the cells one after another with `fit`, one run directory per cell, skipping finished cells and
 * resuming interrupted ones from their checkpoints, and rewrites the report after every cell. An aborted
 * `signal` stops the cell in flight after its current step with a checkpoint (see `fit`). Over a process
 * group every process runs the grid and trains each cell data parallel; rank 0 decides and writes.
 */
import * as path from 'path';
import { loadData } from '../data/spec';
import type { Dataset } from '../data/types';
import { allGatherObject } from '../distributed/collectives';
import { defaultProcessGroup, ProcessGroup } from '../distributed/process-group';
import { dataOptions, fit, FitInterrupted, type EpochRecord, type TrainConfig } from '../train/fit';
import { rangeError, typeError } from '../validate';
import { CellConflict, inspectCell, type CellState } from './cell-state';
import { dataCandidates, locateData, type DataLocation, type ReproduceDataset } from './data-root';
import { buildGrid, type Cell, type GridOptions } from './grid';
import type { TableName } from './tables';
import { codeVersion, dataFingerprint, machine, readProvenance, writeProvenance, type CellProvenance, type DataFingerprint, type Session } from './provenance';
import { writeReport, type ReportFiles } from './report';
import { summarizeCell, summarizeGroups, type CellSummary, type GroupSummary } from './summary';

/** What `planReproduce` needs. */
export interface ReproduceOptions extends Omit<GridOptions, 'specs'> {
  /** The directory holding the data sets (see `locateData` for the sub-directory convention). */
  dataRoot?: string;
  /** The command line, for the report. */
  argv: string[];
}

/** A planned grid: its cells, where the data is, and each cell's state (or why its directory is unusable). */
export interface ReproducePlan {
  options: ReproduceOptions;
  table: TableName;
  cells: Cell[];
  data: DataLocation[];
  states: Map<string, CellState | CellConflict>;
}

/** The spec a data set would have where it is expected but missing (for the plan of a dry run). */
function expectedSpec(dataset: ReproduceDataset, root: string | undefined): string {
  const first = dataCandidates(dataset)[0] ?? '';
  const dir = root === undefined ? `<--data-root>/${first}` : path.resolve(root, first);
  return `${dataset === 'imagenet' ? 'imagenet' : dataset}:${dir}`;
}

/** Builds the grid and reads each cell's run directory; nothing is written or trained. */
export function planReproduce(options: ReproduceOptions): ReproducePlan {
  const data = options.datasets.map((d) => locateData(d, options.dataRoot));
  const specs: GridOptions['specs'] = {};
  for (const loc of data) specs[loc.dataset] = loc.spec ?? expectedSpec(loc.dataset, options.dataRoot);
  const cells = buildGrid({ ...options, specs });
  const states = new Map<string, CellState | CellConflict>();
  for (const c of cells) {
    try {
      states.set(c.id, inspectCell(c));
    } catch (e) {
      if (!(e instanceof CellConflict)) throw e;
      states.set(c.id, e);
    }
  }
  return { options, table: options.table, cells, data, states };
}

/**
 * Checks that every cell of `plan` can train data parallel over `worldSize` processes: its batch is a multiple
 * of it and the last partial batch is dropped (RangeError naming the first cell that cannot).
 */
export function checkShares(plan: ReproducePlan, worldSize: number): void {
  for (const c of plan.cells) {
    if (c.config.batchSize % worldSize !== 0) throw rangeError('reproduce', `the batchSize of cell ${c.id}`, `a multiple of the ${worldSize} processes (each trains on an equal share of every batch)`, c.config.batchSize);
    if (!c.config.dropLast) throw rangeError('reproduce', `the dropLast of cell ${c.id}`, `true when training with ${worldSize} processes`, c.config.dropLast);
  }
}

/** What `runReproduce` reports back. */
export interface ReproduceResult {
  /** Whether every cell is done. */
  complete: boolean;
  /** Set when the signal stopped the grid. */
  interrupted: boolean;
  cells: CellSummary[];
  groups: GroupSummary[];
  report: ReportFiles;
  /** Cells trained (started or resumed) by this call. */
  trained: string[];
}

/** Hooks of `runReproduce`. */
export interface ReproduceHooks {
  signal?: AbortSignal;
  /** Human-readable lines. */
  log?: (line: string) => void;
  /** Where fit's progress bar goes. */
  progressStream?: NodeJS.WritableStream;
  /** After each epoch of each cell. */
  onEpoch?: (cell: Cell, r: EpochRecord) => void;
  /**
   * Data parallel: train every cell over this process group (default: the default group, when
   * `initProcessGroup` made one; null: this process alone). Every process of the group calls `runReproduce`
   * with the same plan. Rank 0 decides where each cell stands (the others follow its reading of the run
   * directories, which must be on storage every machine sees), alone logs and writes the run directories, the
   * provenance and the report, and every process resolves with rank 0's result. Each cell's `batchSize` must
   * be a multiple of the group's size (see `FitHooks.processGroup`).
   */
  processGroup?: ProcessGroup | null;
}

// What rank 0 decided, or the error it met, and whether any process has been asked to stop.
interface Decision<T> {
  value?: T;
  error?: [name: string, message: string];
  aborted: boolean;
}

/**
 * `decide(what)`: alone, `what()` and whether this process's signal has aborted. Over a group, rank 0's
 * `what()` (an error it throws is thrown on every process) and whether any process's signal has aborted, so
 * that every process takes the same branch. One all-gather of plain data.
 */
function decider(group: ProcessGroup | null, signal: AbortSignal | undefined) {
  return async <T>(what: () => T): Promise<{ value: T; aborted: boolean }> => {
    const aborted = !!signal?.aborted;
    if (!group) return { value: what(), aborted };
    const mine: Decision<T> = { aborted };
    if (group.rank() === 0) {
      try {
        mine.value = what();
      } catch (e) {
        mine.error = [(e as Error).name, (e as Error).message];
      }
    }
    const all: Decision<T>[] = [];
    await allGatherObject(all, mine, group);
    const lead = all[0];
    if (lead.error) throw lead.error[0] === 'CellConflict' ? new CellConflict(lead.error[1]) : Object.assign(new Error(lead.error[1]), { name: lead.error[0] });
    return { value: lead.value as T, aborted: all.some((d) => d.aborted) };
  };
}

/** Reads every cell's state again and writes the report. */
export async function reportPlan(plan: ReproducePlan, notes: string[] = []): Promise<{ cells: CellSummary[]; groups: GroupSummary[]; report: ReportFiles }> {
  const provenance = new Map<string, CellProvenance | null>();
  const summaries = plan.cells.map((c) => {
    let state: CellState;
    try {
      state = inspectCell(c);
    } catch (e) {
      if (!(e instanceof CellConflict)) throw e;
      state = { status: 'pending', epoch: 0, step: 0, history: [], checkpoint: null, note: e.message };
    }
    provenance.set(c.id, readProvenance(c.dir));
    return summarizeCell(c, state);
  });
  const groups = summarizeGroups(plan.table, summaries);
  const device = plan.cells[0]?.config.device ?? 'cpu';
  const data = plan.data.map((location) => ({ location, fingerprint: location.spec ? dataFingerprint(location.spec) : null }));
  const report = await writeReport({
    table: plan.table, out: path.resolve(plan.options.out), argv: plan.options.argv, cells: plan.cells, summaries, groups, data,
    code: codeVersion(), machine: machine(device), provenance, notes,
  });
  return { cells: summaries, groups, report };
}

// The data sets loaded into memory once and shared by the cells that use them (fit's `dataset` hook):
// the same call fit itself would make, so a cell's numbers do not depend on whether it loaded its data.
class DataCache {
  private key: string | null = null;
  private data: Dataset | null = null;

  async get(cfg: TrainConfig, log: (line: string) => void): Promise<Dataset | undefined> {
    // Image sets too large for memory (ImageNet) are left to fit, which loads them itself.
    if (cfg.data.startsWith('imagenet:')) return undefined;
    const synthetic = cfg.data === 'synthetic';
    const key = JSON.stringify([cfg.data, cfg.device, cfg.limitPerClass, synthetic ? [cfg.syntheticTrainSize, cfg.syntheticTestSize, cfg.seed] : null]);
    if (key === this.key && this.data) return this.data;
    this.release();
    const t0 = Date.now();
    const data = await loadData(cfg.data, dataOptions(cfg));
    this.data = data;
    this.key = key;
    log(`data ${cfg.data}: ${data.train.length} training and ${data.test.length} test images, ${data.classes.length} classes (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return data;
  }

  release(): void {
    this.data?.dispose();
    this.data = null;
    this.key = null;
  }
}

/**
 * Trains the plan's cells in order: finished cells are skipped, partial ones resumed, pending ones started.
 * A cell whose run directory holds another run (`CellConflict`) stops the grid before anything is trained.
 * Rejects with the first error of a cell (after recording it and writing the report).
 */
export async function runReproduce(plan: ReproducePlan, hooks: ReproduceHooks = {}): Promise<ReproduceResult> {
  const given = hooks.processGroup === undefined ? defaultProcessGroup() : hooks.processGroup;
  if (given !== null && (!(given instanceof ProcessGroup) || given.isDestroyed())) throw typeError('runReproduce', 'processGroup', 'a live ProcessGroup or null', given);
  // A group of one process runs the grid alone.
  const group = given && given.size() > 1 ? given : null;
  const lead = !group || group.rank() === 0;
  const log = lead && hooks.log ? hooks.log : () => {};
  // Checked here, before rank 0 writes anything (fit would refuse the first cell after its provenance).
  if (group) checkShares(plan, group.size());
  const decide = decider(group, hooks.signal);
  await decide(() => {
    const conflicts = [...plan.states.values()].filter((s): s is CellConflict => s instanceof CellConflict);
    if (conflicts.length) {
      const more = conflicts.length > 1 ? ` (${conflicts.length - 1} more cell(s) of this grid are in the same case)` : '';
      throw new CellConflict(`${conflicts[0].message}${more}`);
    }
    const missing = plan.data.filter((d) => d.spec === null);
    if (missing.length) {
      const d = missing[0];
      throw new CellConflict(`reproduce: ${d.dataset} not found: ${d.looked.join('; ')}. Put it in one of those places (or pass --data-root).`);
    }
    return null;
  });
  const code = codeVersion();
  const cache = new DataCache();
  const trained: string[] = [];
  const notes: string[] = [];
  let interrupted = false;
  const fingerprints = new Map<string, DataFingerprint>();
  const fingerprint = (spec: string): DataFingerprint => {
    let f = fingerprints.get(spec);
    if (!f) fingerprints.set(spec, (f = dataFingerprint(spec)));
    return f;
  };
  try {
    for (const [i, cell] of plan.cells.entries()) {
      const { value: state, aborted } = await decide(() => inspectCell(cell));
      if (aborted) {
        interrupted = true;
        break;
      }
      const tag = `[${i + 1}/${plan.cells.length}] ${cell.id}`;
      if (state.status === 'done') {
        log(`${tag}: done (${state.epoch} epochs, test top-1 ${(100 * state.history[state.history.length - 1].testAcc).toFixed(2)}%), skipped`);
        continue;
      }
      log(`${tag}: ${state.status === 'partial' ? state.note : `starting (${cell.config.epochs} epochs)`}`);
      const dataset = await cache.get(cell.config, log);
      if ((await decide(() => null)).aborted) {
        // Stopped while the data loaded: nothing of this cell has run yet.
        interrupted = true;
        break;
      }
      const classes = (cell.config.model.args as { classes: number }).classes;
      if (dataset && dataset.classes.length !== classes) {
        throw new CellConflict(`reproduce: ${cell.config.data} has ${dataset.classes.length} classes, but ${cell.dataset} has ${classes}: is it the right data set?`);
      }
      // Rank 0 alone writes the cell's provenance (as fit writes its run directory on rank 0 alone).
      const prov: CellProvenance = (lead && state.status === 'partial' ? readProvenance(cell.dir) : null) ?? { format: 'ictorch-reproduce-cell', cell: cell.id, sessions: [] };
      const session: Session = {
        code, machine: machine(cell.config.device), data: fingerprint(cell.config.data), argv: plan.options.argv,
        started: new Date().toISOString(), ended: null, status: 'running', fromEpoch: state.epoch, fromStep: state.step, toEpoch: null, toStep: null, seconds: null,
        ...(group ? { processes: group.size() } : {}),
      };
      prov.sessions.push(session);
      if (lead) writeProvenance(cell.dir, prov);
      const t0 = Date.now();
      const end = (status: Session['status'], epoch: number, step: number, error?: string) => {
        Object.assign(session, { status, ended: new Date().toISOString(), toEpoch: epoch, toStep: step, seconds: (Date.now() - t0) / 1000 }, error ? { error } : {});
        if (lead) writeProvenance(cell.dir, prov);
      };
      trained.push(cell.id);
      const fitHooks = { dataset, signal: hooks.signal, log, progressStream: hooks.progressStream, onEpoch: (r: EpochRecord) => hooks.onEpoch?.(cell, r), processGroup: group };
      try {
        const r =
          state.status === 'partial'
            ? await fit({ epochs: cell.config.epochs, outDir: cell.dir, device: cell.config.device }, { ...fitHooks, resume: state.checkpoint! })
            : await fit(cell.config, fitHooks);
        end('finished', r.final.epoch, r.final.step);
        log(`${tag}: finished, test top-1 ${(100 * r.final.testAcc).toFixed(2)}% top-5 ${(100 * r.final.testTop5).toFixed(2)}%`);
      } catch (e) {
        if (e instanceof FitInterrupted) {
          end('interrupted', e.epoch, e.step);
          interrupted = true;
          log(`${tag}: stopped at step ${e.step} (${e.epoch} epochs done); run the same command again to continue`);
          break;
        }
        let after: CellState = state;
        try {
          after = inspectCell(cell);
        } catch {
          // the error is what matters; the session keeps the starting point
        }
        end('failed', after.epoch, after.step, (e as Error).message);
        notes.push(`**Stopped by an error** in cell ${cell.id}: ${(e as Error).message.split('\n')[0]}`);
        if (lead) await reportPlan(plan, notes).catch(() => undefined);
        throw e;
      }
      if (lead) await reportPlan(plan, notes); // after every cell, so the report is current even if the process dies
    }
  } finally {
    cache.release();
  }
  if (interrupted) notes.push('**Interrupted.** The grid was stopped before every cell finished; running the same command again continues it.');
  // Rank 0 writes the report; every process returns what it found.
  const final = async () => {
    const { cells, groups, report } = await reportPlan(plan, notes);
    return { complete: cells.every((c) => c.status === 'done'), interrupted, cells, groups, report, trained };
  };
  if (!group) return final();
  const mine = lead ? await final().catch((e: Error) => e) : null;
  const { value } = await decide(() => {
    if (mine instanceof Error) throw mine;
    return mine!;
  });
  return value;
}
