/**
 * Training progress on the terminal: a single redrawn status line on a TTY, plain log lines elsewhere
 * (files, CI logs, pipes), plus the pure formatting helpers it uses.
 */

/** Numbers a progress line can show. */
export interface ProgressStats {
  /** Running loss. */
  loss?: number;
  /** Running accuracy as a fraction in [0, 1] (shown as a percentage). */
  acc?: number;
  /** Throughput. */
  imagesPerSec?: number;
}

/** Options of `Progress`. */
export interface ProgressOptions {
  /** The number of units (batches, images) that make 100%. */
  total: number;
  /** Text before the numbers, e.g. "epoch 3/160". */
  label: string;
  /** Where to write (default `process.stderr`). */
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Redraw one line in place (default: whether `stream` is a TTY). */
  isTTY?: boolean;
  /** On a TTY, the least time between redraws in milliseconds (default 100). */
  intervalMs?: number;
  /** Clock in milliseconds (default `performance.now`); for tests. */
  now?: () => number;
}

/**
 * `seconds` as `m:ss`, or `h:mm:ss` from an hour on ("2:05", "1:02:03"); rounded to whole seconds.
 * Unknown durations (NaN, negative, infinite) give "--:--".
 */
export function formatEta(seconds: number): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

/**
 * A bar of exactly `width` characters: `fraction` (clamped to [0, 1]; NaN counts as 0) of it filled
 * with "█", the rest "░". Example: `formatBar(0.5, 4)` is "██░░".
 */
export function formatBar(fraction: number, width = 20): string {
  if (!Number.isInteger(width) || width < 0) throw new RangeError(`formatBar: width must be a non-negative integer, but it is ${String(width)}.`);
  const f = typeof fraction === 'number' && !Number.isNaN(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.floor(f * width + 1e-9);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return String(loss).toLowerCase();
  return Math.abs(loss) >= 1000 ? loss.toPrecision(4) : loss.toFixed(4);
}

function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return '-';
  return rate >= 100 ? String(Math.round(rate)) : rate.toFixed(1);
}

/**
 * Progress of one phase (an epoch, an evaluation). On a TTY it redraws a single line — label, bar,
 * percentage, counts, loss, accuracy, images/s and an ETA from the average rate so far — at most every
 * `intervalMs`. Elsewhere it writes a plain line each time another tenth of the total is done, and
 * always one for the final state.
 *
 * ```ts
 * const p = new Progress({ total: batches, label: `epoch ${e}` });
 * p.update(i + 1, { loss, acc, imagesPerSec });
 * p.finish(`epoch ${e}: test acc 93.1%`);
 * ```
 */
export class Progress {
  private readonly total: number;
  private readonly label: string;
  private readonly stream: NodeJS.WritableStream;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastTenth = -1;
  private done = 0;
  private stats: ProgressStats = {};
  private shownDone = -1;
  private finished = false;

  /** A progress display; nothing is written until the first `update`. */
  constructor(opts: ProgressOptions) {
    if (opts === null || typeof opts !== 'object') throw new TypeError('Progress: options must be an object {total, label, ...}.');
    if (typeof opts.total !== 'number' || !Number.isFinite(opts.total) || opts.total < 0) {
      throw new TypeError(`Progress: total must be a non-negative number, but it is ${String(opts.total)}.`);
    }
    if (typeof opts.label !== 'string') throw new TypeError(`Progress: label must be a string, but it is ${String(opts.label)}.`);
    const stream = opts.stream ?? process.stderr;
    if (typeof (stream as NodeJS.WritableStream)?.write !== 'function') throw new TypeError('Progress: stream must be a writable stream.');
    const intervalMs = opts.intervalMs ?? 100;
    if (typeof intervalMs !== 'number' || !(intervalMs >= 0)) throw new TypeError(`Progress: intervalMs must be a non-negative number, but it is ${String(intervalMs)}.`);
    this.total = opts.total;
    this.label = opts.label;
    this.stream = stream;
    this.tty = opts.isTTY ?? Boolean((stream as NodeJS.WriteStream).isTTY);
    this.intervalMs = intervalMs;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** Reports `done` units finished (of `total`) and the current numbers; draws when it is due. */
  update(done: number, stats: ProgressStats = {}): void {
    if (typeof done !== 'number' || Number.isNaN(done)) throw new TypeError(`Progress.update: done must be a number, but it is ${String(done)}.`);
    if (this.finished) return;
    this.done = done;
    this.stats = { ...stats };
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw >= this.intervalMs || this.lastDraw === -Infinity) {
        this.lastDraw = t;
        this.draw(t);
      }
    } else {
      const tenth = this.total > 0 ? Math.floor((Math.min(done, this.total) / this.total) * 10) : 10;
      if (tenth > this.lastTenth) {
        this.lastTenth = tenth;
        this.draw(t);
      }
    }
  }

  /**
   * Shows the final state (if it was not shown yet) and ends the line; then writes `summary` on a line
   * of its own, if given. Later updates are ignored.
   */
  finish(summary?: string): void {
    if (this.finished) return;
    this.finished = true;
    const t = this.now();
    if (this.tty) {
      if (this.shownDone >= 0 || this.done > 0) {
        this.draw(t);
        this.stream.write('\n');
      }
    } else if (this.shownDone !== this.done) {
      this.draw(t);
    }
    if (summary !== undefined) this.stream.write(`${summary}\n`);
  }

  /** The current status text (no control characters). */
  line(t = this.now()): string {
    const total = this.total;
    const fraction = total > 0 ? Math.min(1, Math.max(0, this.done / total)) : 1;
    const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
    const parts: string[] = [this.label];
    if (this.tty) parts.push(formatBar(fraction, 20));
    const width = String(Math.round(total)).length;
    parts.push(pct, `${String(Math.round(this.done)).padStart(width)}/${Math.round(total)}`);
    const { loss, acc, imagesPerSec } = this.stats;
    if (typeof loss === 'number') parts.push(`loss ${formatLoss(loss)}`);
    if (typeof acc === 'number') parts.push(`acc ${Number.isFinite(acc) ? (acc * 100).toFixed(2) : String(acc).toLowerCase()}%`);
    if (typeof imagesPerSec === 'number') parts.push(`${formatRate(imagesPerSec)} img/s`);
    const elapsed = (t - this.start) / 1000;
    if (this.done >= total) {
      parts.push(`in ${formatEta(elapsed)}`);
    } else {
      const rate = elapsed > 0 ? this.done / elapsed : 0;
      parts.push(`ETA ${rate > 0 ? formatEta((total - this.done) / rate) : '--:--'}`);
    }
    return parts.join('  ');
  }

  private draw(t: number): void {
    this.shownDone = this.done;
    const text = this.line(t);
    if (this.tty) {
      const cols = (this.stream as NodeJS.WriteStream).columns;
      const fitted = typeof cols === 'number' && cols > 1 && text.length > cols - 1 ? text.slice(0, cols - 1) : text;
      this.stream.write(`\r${fitted}\x1b[K`);
    } else {
      this.stream.write(`${text}\n`);
    }
  }
}
