/**
 * Where a cell stands, decided from its own run directory and validated: `done` (the verified checkpoint
 * is at the last epoch of the config asked for, the metrics log holds exactly those epochs with the same
 * figures, and the weights were exported), `partial` (a verified checkpoint to resume from) or `pending`
 * (no checkpoint: the cell starts from scratch). A run directory that holds another run (another config)
 * or files that disagree with each other is a `CellConflict`: nothing is retrained or overwritten silently.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_CONFIG, type EpochRecord, type TrainConfig } from '../train/fit';
import { disposeCheckpoint, loadCheckpoint } from '../train/checkpoint';
import { MetricsLog } from '../train/metrics';
import type { Cell } from './grid';

/** A cell's status. */
export type CellStatus = 'done' | 'partial' | 'pending';

/** What `inspectCell` found. */
export interface CellState {
  status: CellStatus;
  /** Epochs completed (0 when pending). */
  epoch: number;
  /** Optimiser steps taken. */
  step: number;
  /** The checkpoint's epoch history (verified by its SHA-256). */
  history: EpochRecord[];
  /** The checkpoint to resume from (partial), or null. */
  checkpoint: string | null;
  /** For a partial cell: what is left to do, in words. */
  note?: string;
}

/** A run directory that cannot be used for its cell; the message says why and what to do. */
export class CellConflict extends Error {
  override readonly name = 'CellConflict';
}

/**
 * Config fields that may differ between the run saved in a cell and the grid asking for it, because they do
 * not change the numbers: where it runs, where it writes, how often it logs and checkpoints, graph capture.
 */
export const CONFIG_KEYS_FREE = ['outDir', 'device', 'logEvery', 'checkpointEvery', 'cudaGraph'] as const;

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The config fields (outside `CONFIG_KEYS_FREE`) whose values differ: [key, saved, asked]. */
export function configDifferences(saved: Record<string, unknown>, asked: TrainConfig): [string, unknown, unknown][] {
  const a = asked as unknown as Record<string, unknown>;
  const d = DEFAULT_CONFIG as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(saved), ...Object.keys(a)]);
  const out: [string, unknown, unknown][] = [];
  for (const k of [...keys].sort()) {
    if ((CONFIG_KEYS_FREE as readonly string[]).includes(k)) continue;
    const x = k in saved ? saved[k] : d[k];
    const y = k in a ? a[k] : d[k];
    if (canonical(x) !== canonical(y)) out.push([k, x, y]);
  }
  return out;
}

const HISTORY_KEYS = ['epoch', 'step', 'trainLoss', 'trainAcc', 'testLoss', 'testAcc', 'testTop5'] as const;

/** The epoch records of a cell's metrics.jsonl (validated as JSON objects by `MetricsLog.load`). */
export function epochRecords(dir: string): Record<string, unknown>[] {
  return MetricsLog.load(dir).records.filter((r) => r.kind === 'epoch');
}

/**
 * Reads the cell's run directory and says where it stands. Throws `CellConflict` when the directory holds
 * a run of another config, an unreadable or corrupt checkpoint, or a metrics log that disagrees with it.
 */
export function inspectCell(cell: Cell): CellState {
  const ckptFile = path.join(cell.dir, 'checkpoint.ckpt');
  const fix = `Delete ${cell.dir} to rerun this cell, or choose another --out.`;
  if (!fs.existsSync(ckptFile)) return { status: 'pending', epoch: 0, step: 0, history: [], checkpoint: null };
  let ck;
  try {
    ck = loadCheckpoint(ckptFile);
  } catch (e) {
    throw new CellConflict(`reproduce: cell ${cell.id}: ${(e as Error).message.replace(/^loadCheckpoint: /, '')} ${fix}`);
  }
  // Only the header is needed: the tensors go at once.
  disposeCheckpoint(ck);
  const diffs = configDifferences(ck.config, cell.config);
  if (diffs.length > 0) {
    const list = diffs.map(([k, x, y]) => `${k} ${canonical(x)} there, ${canonical(y)} asked`).join('; ');
    throw new CellConflict(`reproduce: cell ${cell.id}: ${cell.dir} holds a run with another config (${list}). ${fix}`);
  }
  const history = ck.history as unknown as EpochRecord[];
  const epochs = cell.config.epochs;
  const base = { epoch: ck.epoch, step: ck.step, history, checkpoint: ckptFile };
  if (ck.epoch < epochs || ck.epochProgress !== undefined) {
    const where = ck.epochProgress !== undefined ? `in epoch ${ck.epoch + 1} (step ${ck.step})` : `after epoch ${ck.epoch}`;
    return { status: 'partial', ...base, note: `resumes ${where} of ${epochs}` };
  }
  if (ck.epoch > epochs || history.length !== epochs) {
    throw new CellConflict(`reproduce: cell ${cell.id}: the checkpoint in ${cell.dir} is at epoch ${ck.epoch} with ${history.length} epoch records, but the cell has ${epochs} epochs. ${fix}`);
  }
  // Finished training: the metrics log must hold the same epochs with the same figures.
  let records: Record<string, unknown>[];
  try {
    records = epochRecords(cell.dir);
  } catch (e) {
    throw new CellConflict(`reproduce: cell ${cell.id}: ${(e as Error).message.replace(/^MetricsLog\.load: /, '')} ${fix}`);
  }
  const same =
    records.length === history.length &&
    records.every((r, i) => HISTORY_KEYS.every((k) => canonical(r[k]) === canonical((history[i] as unknown as Record<string, unknown>)[k])));
  if (!same) {
    throw new CellConflict(
      `reproduce: cell ${cell.id}: ${path.join(cell.dir, 'metrics.jsonl')} does not match its checkpoint (${records.length} epoch records, the checkpoint has ${history.length}, or their figures differ). ${fix}`,
    );
  }
  if (!fs.existsSync(path.join(cell.dir, 'model.pt'))) return { status: 'partial', ...base, note: 'trained; the weights export (model.pt) is missing' };
  return { status: 'done', ...base };
}
