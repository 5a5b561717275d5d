/**
 * Process groups: PyTorch's `torch.distributed` process-group calls for data-parallel training across
 * processes and machines. Every process runs the same program; `initProcessGroup` meets the others at a
 * rendezvous (rank 0 serves it at `host:port`) and connects them with c10d's Gloo backend
 * (native/distributed.cc). Afterwards the collectives (`collectives.ts`) and a `Trainer` given the group
 * (gradients averaged over it in the native step) work across all of them.
 *
 * ```ts
 * import { distributed as dist } from 'ictorch';
 * await dist.initProcessGroup({ backend: 'gloo' }); // env://: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE
 * const t = torch.tensor([dist.getRank() + 1]);
 * await dist.allReduce(t); // [1 + 2 + ... + worldSize] on every process
 * dist.destroyProcessGroup();
 * ```
 */
import { native, type ProcessGroupHandle } from '../native';
import { checkInt, checkKeys, rangeError, typeError } from '../validate';

const N = native();

/** The process-group backends this build of ictorch has. */
export type Backend = 'gloo';

/** PyTorch's default timeout of a process group's collectives and rendezvous: 30 minutes. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/** Options of `initProcessGroup` (PyTorch's `init_process_group` arguments). */
export interface InitProcessGroupOptions {
  /** 'gloo' (CPU tensors, and CUDA tensors through host copies). Default 'gloo'. */
  backend?: Backend;
  /**
   * Where the processes meet: 'env://' (default: `MASTER_ADDR`, `MASTER_PORT`, and `RANK`, `WORLD_SIZE` unless
   * given here, as torchrun and `ictorch train --nproc-per-node` set them) or 'tcp://host:port' (rank 0 listens there).
   */
  initMethod?: string;
  /** This process's rank in [0, worldSize) (default: the `RANK` environment variable). */
  rank?: number;
  /** Number of processes (default: the `WORLD_SIZE` environment variable). */
  worldSize?: number;
  /** Milliseconds the rendezvous and each collective wait for the other processes (default 30 minutes). */
  timeout?: number;
}

/** A group of processes that run collectives together (PyTorch's `ProcessGroup`). */
export class ProcessGroup {
  /** @internal */
  readonly handle: ProcessGroupHandle;
  /** @internal */
  constructor(handle: ProcessGroupHandle) {
    this.handle = handle;
  }
  /** This process's rank in the group. */
  rank(): number {
    return this.handle.rank();
  }
  /** Number of processes in the group. */
  size(): number {
    return this.handle.size();
  }
  /** The backend's name ('gloo'). */
  backend(): Backend {
    return this.handle.backend() as Backend;
  }
  /** Whether `destroyProcessGroup` has released it. */
  isDestroyed(): boolean {
    return this.handle.isDisposed();
  }
}

let defaultGroup: ProcessGroup | null = null;

/** Whether this build of ictorch has process groups at all (PyTorch's `is_available`). */
export function isAvailable(): boolean {
  return N.processGroupBackends().length > 0;
}

/** Whether this build has the Gloo backend (PyTorch's `is_gloo_available`). */
export function isGlooAvailable(): boolean {
  return N.processGroupBackends().includes('gloo');
}

/** Whether `initProcessGroup` has made the default group (and it has not been destroyed). */
export function isInitialized(): boolean {
  return defaultGroup !== null;
}

// An integer from an option or, when it is absent, an environment variable (with the variable named on error).
function fromEnv(op: string, name: string, given: number | undefined, variable: string, min: number, max: number): number {
  if (given !== undefined) return checkInt(op, name, given, min, max);
  const raw = process.env[variable];
  if (raw === undefined || raw === '') throw new Error(`${op}: ${name} was not given and the environment variable ${variable} is not set (env:// takes MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE from the environment)`);
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw rangeError(op, variable, `an integer in [${min}, ${max}]`, raw);
  return v;
}

/** Host and port of a rendezvous: from 'tcp://host:port' or, for 'env://', MASTER_ADDR and MASTER_PORT. */
function rendezvous(op: string, initMethod: string): { host: string; port: number } {
  if (initMethod === 'env://') {
    const host = process.env.MASTER_ADDR;
    if (!host) throw new Error(`${op}: env:// needs the environment variable MASTER_ADDR (the address of rank 0's host)`);
    return { host, port: fromEnv(op, 'port', undefined, 'MASTER_PORT', 1, 65535) };
  }
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(initMethod);
  if (!m) throw typeError(op, 'initMethod', "'env://' or 'tcp://host:port'", initMethod);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw rangeError(op, 'initMethod', 'a port in [1, 65535]', initMethod);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/**
 * Joins this process to the default process group: resolves when all `worldSize` processes have met at the
 * rendezvous and connected (or rejects when `timeout` passes first). Every process calls it with the same
 * backend and rendezvous and its own rank.
 */
export async function initProcessGroup(options: InitProcessGroupOptions = {}): Promise<ProcessGroup> {
  const op = 'initProcessGroup';
  checkKeys(op, 'options', options, ['backend', 'initMethod', 'rank', 'worldSize', 'timeout']);
  if (defaultGroup) throw new Error(`${op}: the default process group is already initialised; call destroyProcessGroup() first`);
  const backend = options.backend ?? 'gloo';
  if (backend !== 'gloo') throw rangeError(op, 'backend', "'gloo'", backend);
  if (!isGlooAvailable()) throw new Error(`${op}: this build of ictorch has no Gloo backend (it was built without Gloo's headers; on Debian install libgloo-dev and reinstall ictorch)`);
  const initMethod = options.initMethod ?? 'env://';
  if (typeof initMethod !== 'string') throw typeError(op, 'initMethod', "'env://' or 'tcp://host:port'", initMethod);
  const { host, port } = rendezvous(op, initMethod);
  const worldSize = fromEnv(op, 'worldSize', options.worldSize, 'WORLD_SIZE', 1, 1 << 20);
  const rank = fromEnv(op, 'rank', options.rank, 'RANK', 0, 1 << 20);
  if (rank >= worldSize) throw rangeError(op, 'rank', `an integer in [0, worldSize = ${worldSize})`, rank);
  const timeout = checkInt(op, 'timeout', options.timeout ?? DEFAULT_TIMEOUT_MS, 1, 2 ** 30);
  const handle = await N.processGroupCreate({ backend, rank, worldSize, host, port, timeoutMs: timeout });
  if (defaultGroup) {
    handle.dispose();
    throw new Error(`${op}: the default process group was initialised by another call meanwhile`);
  }
  defaultGroup = new ProcessGroup(handle);
  return defaultGroup;
}

/** The group a call works on: the one given, else the default group (an error when there is none). */
export function resolveGroup(op: string, group?: ProcessGroup | null): ProcessGroup {
  const g = group ?? defaultGroup;
  if (!g) throw new Error(`${op}: the default process group is not initialised; call initProcessGroup() first`);
  if (!(g instanceof ProcessGroup)) throw typeError(op, 'group', 'a ProcessGroup', g);
  if (g.isDestroyed()) throw new Error(`${op}: the process group has been destroyed`);
  return g;
}

/** This process's rank in `group` (default: the default group). */
export function getRank(group?: ProcessGroup): number {
  return resolveGroup('getRank', group).rank();
}

/** Number of processes in `group` (default: the default group). */
export function getWorldSize(group?: ProcessGroup): number {
  return resolveGroup('getWorldSize', group).size();
}

/** The default group, or null when `initProcessGroup` has not made one. */
export function defaultProcessGroup(): ProcessGroup | null {
  return defaultGroup;
}

/**
 * Releases `group` (default: the default group, which can then be initialised again). Refused while a
 * collective or a training step on it is in flight.
 */
export function destroyProcessGroup(group?: ProcessGroup): void {
  const g = group ?? defaultGroup;
  if (!g) return;
  g.handle.dispose();
  if (g === defaultGroup) defaultGroup = null;
}
