/**
 * The data-parallel side of the long CLI commands (`ictorch train`, `ictorch reproduce`): the launcher flags
 * (`--nproc-per-node` and the several-machine ones), starting the command's processes with `launch`, and, in
 * each launched process, joining the group and picking this process's GPU.
 */
import * as path from 'path';
import { asUsage, num, UsageError } from './train-flags';

const s = { type: 'string' } as const;

/** The launcher's flags, for `parseArgs` (removed from the command line each process gets). */
export const LAUNCH_FLAGS = { 'nproc-per-node': s, nnodes: s, 'node-rank': s, 'master-addr': s, 'master-port': s } as const;

/** The help lines of the launcher's flags. */
export const LAUNCH_HELP = `      --nproc-per-node N      data parallel: N processes on this machine (Gloo), --batch-size shared out
      --nnodes M --node-rank R --master-addr HOST --master-port P
                              several machines: the same command on each, with its own --node-rank`;

const NAMES = Object.keys(LAUNCH_FLAGS);

/**
 * Whether the parsed flags ask this process to start the command's processes. Usage errors for launcher flags
 * without `--nproc-per-node`, or given to a process that was itself launched.
 */
export function wantsLaunch(values: Record<string, unknown>): boolean {
  if (!NAMES.some((k) => values[k] !== undefined)) return false;
  if (process.env.RANK !== undefined) throw new UsageError(`${NAMES.map((k) => `--${k}`).join(', ')} start processes; this process is already rank ${process.env.RANK} of a launched run`);
  if (values['nproc-per-node'] === undefined) throw new UsageError('--nnodes, --node-rank, --master-addr and --master-port go with --nproc-per-node');
  return true;
}

/**
 * `ictorch <command> --nproc-per-node N ...`: the same command in N processes with the rank variables set;
 * exits with the first failure's code (or 0), after saying which processes failed. `check(worldSize)` runs
 * before any process starts, for the usage errors the command can tell from the group's size alone.
 */
export async function launchCommand(command: string, argv: string[], values: Record<string, unknown>, check?: (worldSize: number) => void | Promise<void>): Promise<never> {
  const { launch } = require('./distributed/launch') as typeof import('./distributed/launch');
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '').split('=')[0];
    if (NAMES.includes(name)) {
      if (!argv[i].includes('=')) i++; // its value
      continue;
    }
    rest.push(argv[i]);
  }
  const flag = (k: string) => values[k] as string | undefined;
  const nproc = num('nproc-per-node', flag('nproc-per-node'), 1, true);
  const nnodes = num('nnodes', flag('nnodes'), 1, true);
  const nodeRank = num('node-rank', flag('node-rank'), 0, true);
  if (nproc < 1) throw new UsageError(`--nproc-per-node must be at least 1, got ${nproc}`);
  if (nnodes < 1 || nodeRank < 0 || nodeRank >= nnodes) throw new UsageError(`--node-rank must be in [0, --nnodes = ${nnodes}), got ${nodeRank}`);
  if (nnodes > 1 && flag('master-addr') === undefined) throw new UsageError('--nnodes above 1 needs --master-addr (the address of the machine with --node-rank 0)');
  await check?.(nproc * nnodes);
  const result = await launch({
    script: path.join(__dirname, 'cli.js'), args: [command, ...rest], nprocPerNode: nproc, nnodes, nodeRank,
    masterAddr: flag('master-addr'), masterPort: flag('master-port') === undefined ? undefined : num('master-port', flag('master-port'), 0, true),
  });
  if (result.exitCode !== 0) {
    const failed = result.ranks.filter((r) => r.code !== 0).map((r) => `rank ${r.rank}: ${r.code ?? r.signal}`);
    process.stderr.write(`ictorch: ${failed.length} of ${result.ranks.length} processes failed (${failed.join(', ')})\n`);
  }
  process.exit(result.exitCode);
}

/** Where this process stands in a launched run. */
export interface LaunchedProcess {
  /** Whether the environment names a launched run (ours or torchrun's: RANK and WORLD_SIZE are set). */
  launched: boolean;
  /** This process's rank (0 when not launched): rank 0 alone speaks for the run. */
  rank: number;
  /** The device to train on: `cuda` becomes this process's `cuda:LOCAL_RANK` in a launched run. */
  device: string;
}

/**
 * In a process of a launched run: joins the default group (env://) and maps `--device cuda` to this process's
 * own GPU (a usage error when the machine has fewer GPUs than processes). Outside one: `device` as it is.
 */
export async function joinLaunchedRun(device: string): Promise<LaunchedProcess> {
  const launched = process.env.WORLD_SIZE !== undefined && process.env.RANK !== undefined;
  if (!launched) return { launched, rank: 0, device };
  const torch = require('./index') as typeof import('./index');
  await asUsage(() => torch.distributed.initProcessGroup({ backend: 'gloo' }));
  if (device === 'cuda' && process.env.LOCAL_RANK !== undefined) {
    const local = Number(process.env.LOCAL_RANK);
    const gpus = torch.cuda.deviceCount();
    if (local >= gpus) throw new UsageError(`--device cuda: this process (LOCAL_RANK ${local}) would train on cuda:${local}, but ${gpus} GPU(s) are visible; start at most ${gpus} processes per machine (--nproc-per-node)`);
    device = `cuda:${local}`;
  }
  return { launched, rank: torch.distributed.getRank(), device };
}
