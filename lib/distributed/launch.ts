/**
 * The launcher: PyTorch's `torchrun` for Node scripts. It starts `nprocPerNode` processes of one script on
 * this machine with the environment `initProcessGroup`'s env:// reads (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`,
 * `LOCAL_WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`), and waits for them. Several machines: run it on each with
 * the same `nnodes`, `masterAddr` and `masterPort` and its own `nodeRank`. `ictorch train --nproc-per-node N`
 * is this around `ictorch train`.
 *
 * The processes share this machine's cores: unless the environment sets `ICTORCH_NUM_THREADS`, each gets `cores / nprocPerNode` intra-op threads (torchrun sets one), instead of every
 * process starting a thread per core and all of them contending.
 *
 * Rank 0's output passes through as it is (its progress bar draws on a terminal); every other process's lines
 * carry a `[rank r]` prefix. SIGINT/SIGTERM reach every process (each stops as it would alone; `fit` saves a
 * checkpoint on rank 0), a second one kills them. When one process fails, the others are given `graceMs` to
 * notice (their collectives fail once a peer is gone) and are then killed: a run never hangs on a dead peer.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as net from 'net';
import * as os from 'os';
import * as readline from 'readline';
import { checkInt, checkKeys, typeError } from '../validate';

/** Options of `launch`. */
export interface LaunchOptions {
  /** The Node.js script every process runs. */
  script: string;
  /** Its arguments. */
  args?: string[];
  /** Processes to start on this machine. */
  nprocPerNode: number;
  /** Machines in the run (default 1). */
  nnodes?: number;
  /** This machine's index in [0, nnodes) (default 0). */
  nodeRank?: number;
  /** Address of the machine with rank 0 (default 127.0.0.1). */
  masterAddr?: string;
  /** Its rendezvous port (default: a free port when nnodes is 1, else 29500, as torchrun). */
  masterPort?: number;
  /** Environment of the processes (default: this process's), to which the rank variables are added. */
  env?: NodeJS.ProcessEnv;
  /** Arguments to Node itself (default: none). */
  execArgv?: string[];
  /** Where rank 0's output and the others' prefixed lines go (default: this process's stdout / stderr). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Send this process's SIGINT/SIGTERM on to the processes (default true); a second signal kills them. */
  forwardSignals?: boolean;
  /** Milliseconds the others get to exit after one process failed, before they are killed (default 30 s). */
  graceMs?: number;
  /**
   * Stops the run when aborted (a deadline: `AbortSignal.timeout(ms)`): SIGTERM to every process (each stops
   * as after Ctrl-C), then SIGKILL to those still running `graceMs` later. `launch` still resolves when all
   * have exited.
   */
  signal?: AbortSignal;
}

/** How a launched process ended. */
export interface RankExit {
  rank: number;
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What `launch` resolves with. */
export interface LaunchResult {
  /** 0 when every process succeeded, else the first failure's code (128 + signal number for a signal). */
  exitCode: number;
  ranks: RankExit[];
}

/** A TCP port that was free a moment ago on `host` (for a one-machine rendezvous). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function exitCodeOf(e: RankExit): number {
  if (e.code !== null) return e.code;
  return 128 + (SIGNAL_NUMBERS[e.signal!] ?? 1);
}

// Copies a stream's lines to `out` with a prefix.
function prefixLines(from: NodeJS.ReadableStream, out: NodeJS.WritableStream, prefix: string): void {
  readline.createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => out.write(`${prefix}${line}\n`));
}

/** Starts the processes of this machine and resolves when all have exited. */
export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const op = 'launch';
  checkKeys(op, 'options', options, ['script', 'args', 'nprocPerNode', 'nnodes', 'nodeRank', 'masterAddr', 'masterPort', 'env', 'execArgv', 'stdout', 'stderr', 'forwardSignals', 'graceMs', 'signal']);
  if (typeof options.script !== 'string' || !options.script) throw typeError(op, 'script', 'a script path', options.script);
  const args = options.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw typeError(op, 'args', 'an array of strings', args);
  const nproc = checkInt(op, 'nprocPerNode', options.nprocPerNode, 1, 4096);
  const nnodes = checkInt(op, 'nnodes', options.nnodes ?? 1, 1, 1 << 16);
  const nodeRank = checkInt(op, 'nodeRank', options.nodeRank ?? 0, 0, nnodes - 1);
  const masterAddr = options.masterAddr ?? '127.0.0.1';
  if (typeof masterAddr !== 'string' || !masterAddr) throw typeError(op, 'masterAddr', 'a host name or address', masterAddr);
  const masterPort = checkInt(op, 'masterPort', options.masterPort ?? (nnodes === 1 ? await freePort(masterAddr) : 29500), 1, 65535);
  const graceMs = checkInt(op, 'graceMs', options.graceMs ?? 30_000, 0);
  const abort = options.signal;
  if (abort !== undefined && !(abort instanceof AbortSignal)) throw typeError(op, 'signal', 'an AbortSignal', abort);
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const worldSize = nnodes * nproc;
  const baseEnv = options.env ?? process.env;
  const threads = baseEnv.ICTORCH_NUM_THREADS ? {} : { ICTORCH_NUM_THREADS: String(Math.max(1, Math.floor(os.availableParallelism() / nproc))) };

  const children: ChildProcess[] = [];
  const exits: RankExit[] = [];
  let failure: RankExit | null = null;
  let killTimer: NodeJS.Timeout | null = null;
  const killAll = (sig: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(sig);
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    killAll(signals > 1 ? 'SIGKILL' : sig);
  };
  const forward = options.forwardSignals ?? true;
  if (forward) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  let abortTimer: NodeJS.Timeout | null = null;
  const onAbort = () => {
    killAll('SIGTERM');
    abortTimer = setTimeout(() => killAll('SIGKILL'), graceMs);
  };
  try {
    const done = Array.from({ length: nproc }, (_, local) => {
      const rank = nodeRank * nproc + local;
      const env = {
        ...baseEnv,
        ...threads,
        RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(local), LOCAL_WORLD_SIZE: String(nproc),
        GROUP_RANK: String(nodeRank), MASTER_ADDR: masterAddr, MASTER_PORT: String(masterPort),
      };
      const pipeOut = rank !== 0 || stdout !== process.stdout;
      const pipeErr = rank !== 0 || stderr !== process.stderr;
      const child = spawn(process.execPath, [...(options.execArgv ?? []), options.script, ...args], {
        env, stdio: ['ignore', pipeOut ? 'pipe' : 'inherit', pipeErr ? 'pipe' : 'inherit'],
      });
      children.push(child);
      const prefix = rank === 0 ? '' : `[rank ${rank}] `;
      if (child.stdout) prefixLines(child.stdout, stdout, prefix);
      if (child.stderr) prefixLines(child.stderr, stderr, prefix);
      return new Promise<void>((resolve) => {
        child.on('error', (e) => stderr.write(`${op}: rank ${rank} could not start: ${e.message}\n`));
        child.on('close', (code, signal) => {
          const e: RankExit = { rank, code, signal };
          exits.push(e);
          if ((code !== 0 || signal) && !failure) {
            failure = e;
            if (signals === 0) {
              // The others would wait for the failed one at their next collective: give them time to fail on their own.
              killTimer = setTimeout(() => killAll('SIGKILL'), graceMs);
              killAll('SIGTERM');
            }
          }
          resolve();
        });
      });
    });
    if (abort?.aborted) onAbort();
    else abort?.addEventListener('abort', onAbort, { once: true });
    await Promise.all(done);
  } finally {
    abort?.removeEventListener('abort', onAbort);
    if (abortTimer) clearTimeout(abortTimer);
    if (killTimer) clearTimeout(killTimer);
    if (forward) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  exits.sort((a, b) => a.rank - b.rank);
  const f = failure as RankExit | null;
  return { exitCode: f ? exitCodeOf(f) : 0, ranks: exits };
}
