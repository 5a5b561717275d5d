/**
 * The run's metrics log: `<runDir>/metrics.jsonl`, one JSON object per line, rewritten atomically on
 * every append, so a crash never leaves a half-written line behind.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../util/atomic';

/** The file name of the metrics log inside a run directory. */
export const METRICS_FILE = 'metrics.jsonl';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * An append-only list of records (e.g. one per epoch) mirrored to `<runDir>/metrics.jsonl`.
 *
 * Records are stored as JSON: what `records` returns is exactly what `MetricsLog.load` reads back
 * (JSON has no NaN or Infinity, so non-finite numbers become `null`, and `undefined` members are dropped).
 */
export class MetricsLog {
  /** The run directory. */
  readonly runDir: string;
  /** The log's path, `<runDir>/metrics.jsonl`. */
  readonly file: string;
  private readonly lines: string[] = [];
  private readonly parsed: Record<string, unknown>[] = [];

  /**
   * A log for `runDir`, starting from `initial` (default: empty). Nothing is written until the first
   * `append`, which replaces any existing metrics.jsonl with `initial` plus the new record; use
   * `MetricsLog.load(runDir)` to continue an existing log, or pass a checkpoint's history as `initial`.
   */
  constructor(runDir: string, initial: Record<string, unknown>[] = []) {
    if (typeof runDir !== 'string' || !runDir) throw new TypeError(`MetricsLog: expected a run directory path but received ${String(runDir)}.`);
    if (!Array.isArray(initial)) throw new TypeError(`MetricsLog: the initial records for ${path.join(runDir, METRICS_FILE)} must be an array of objects.`);
    this.runDir = runDir;
    this.file = path.join(runDir, METRICS_FILE);
    initial.forEach((r, i) => {
      const line = this.serialize(r, `initial record ${i}`);
      this.lines.push(line);
      this.parsed.push(JSON.parse(line) as Record<string, unknown>);
    });
  }

  /** A copy of the records so far, oldest first, as stored (JSON round-tripped). */
  get records(): Record<string, unknown>[] {
    return this.parsed.slice();
  }

  /** Adds `record` and rewrites metrics.jsonl atomically; on a write error the log is unchanged. */
  append(record: Record<string, unknown>): void {
    const line = this.serialize(record, 'the record');
    const text = [...this.lines, line].join('\n') + '\n';
    writeFileAtomic(this.file, text);
    this.lines.push(line);
    this.parsed.push(JSON.parse(line) as Record<string, unknown>);
  }

  private serialize(record: unknown, what: string): string {
    if (!isPlainObject(record)) throw new TypeError(`MetricsLog: cannot append to ${this.file}: ${what} must be a plain object.`);
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch (e) {
      throw new TypeError(`MetricsLog: cannot append to ${this.file}: ${what} is not JSON data (${(e as Error).message}).`);
    }
    return line;
  }

  /**
   * Reads `<runDir>/metrics.jsonl` back into a log that further appends extend. Every line must be a
   * JSON object: a malformed line is an error naming its line number (nothing is skipped). A missing
   * file is an error unless `options.missingOk`, which gives an empty log.
   */
  static load(runDir: string, options: { missingOk?: boolean } = {}): MetricsLog {
    if (typeof runDir !== 'string' || !runDir) throw new TypeError(`MetricsLog.load: expected a run directory path but received ${String(runDir)}.`);
    const file = path.join(runDir, METRICS_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') {
        if (options.missingOk) return new MetricsLog(runDir);
        throw new Error(`MetricsLog.load: ${file} does not exist.`);
      }
      throw new Error(`MetricsLog.load: cannot read ${file} (${err.code ?? err.message}).`);
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const records = lines.map((raw, i) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new Error(`MetricsLog.load: ${file} line ${i + 1} is not valid JSON (${(e as Error).message}).`);
      }
      if (!isPlainObject(v)) throw new Error(`MetricsLog.load: ${file} line ${i + 1} is not a JSON object.`);
      return v;
    });
    return new MetricsLog(runDir, records);
  }
}
