/**
 * The training flags the CLI's commands share (`ictorch train`, `ictorch reproduce`): one option table for
 * `util.parseArgs` and one parser that turns the given flags into `TrainConfig` fields, so both commands
 * accept the same names, defaults and messages. Flags that were not given stay undefined: each command
 * applies its own defaults (`train` the library's, `reproduce` the paper's recipe per table).
 */
import { OPTIMIZERS, type TrainConfig } from './train/fit';
import { SCHEDULES } from './train/schedule';

/** A usage error: the CLI prints it as one line and exits with code 2. */
export class UsageError extends Error {}

/** Parses a numeric flag value (`--name v`); `dflt` when absent; a usage error when not a (whole) number. */
export function num(name: string, v: string | undefined, dflt: number, integer = false): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || (integer && !Number.isInteger(x))) throw new UsageError(`--${name} expects ${integer ? 'an integer' : 'a number'}, got "${v}"`);
  return x;
}

/**
 * Runs `fn`, turning the library's errors about user input (a bad depth, a missing data directory, a corrupt
 * checkpoint) into usage errors: one line, exit code 2. An interrupted run (AbortError) passes through.
 */
export async function asUsage<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = e as Error;
    if (err?.name === 'AbortError') throw e; // an interrupted run is not a usage error
    if (e instanceof TypeError || e instanceof RangeError || /^(loadData|loadCheckpoint|cifar|imageFolder|imagenet|resnet|buildModel|fit)/.test(err.message)) {
      const u = new UsageError(err.message);
      u.stack = err.stack;
      throw u;
    }
    throw e;
  }
}

const s = { type: 'string' } as const;
const b = { type: 'boolean' } as const;

/** The `util.parseArgs` option table of the shared training flags (see `parseTrainFlags`). */
export const TRAIN_FLAGS = {
  'drop-rate': s, width: s, epochs: s, 'batch-size': s, lr: s, momentum: s, 'weight-decay': s, nesterov: b, schedule: s,
  'warmup-epochs': s, 'label-smoothing': s, device: s, amp: s, 'no-cuda-graph': b, 'checkpoint-every': s, 'log-every': s,
  'no-augment': b, 'keep-last': b, 'limit-per-class': s, 'train-size': s, 'test-size': s, json: b, verbose: b,
  optimizer: s, 'lr-step-epochs': s, classes: s, 'val-labels': s, workers: s, 'image-size': s, 'skip-corrupt': b,
} as const;

/** The values `util.parseArgs` gives for `TRAIN_FLAGS` (strings, booleans, or undefined when absent). */
export type TrainFlagValues = { [K in keyof typeof TRAIN_FLAGS]?: (typeof TRAIN_FLAGS)[K]['type'] extends 'string' ? string : boolean };

/** What `parseTrainFlags` returns: the flags that were given, checked, as config fields and model arguments. */
export interface TrainFlags {
  /** `TrainConfig` fields set by a flag (absent when the flag was not given). */
  config: Partial<Omit<TrainConfig, 'model' | 'data' | 'outDir' | 'seed'>>;
  /** `--drop-rate` (a model argument), if given. */
  dropRate?: number;
  /** `--width` (a model argument of the CIFAR ResNets), if given. */
  width?: number;
}

/**
 * Checks the shared training flags and returns the ones given as `TrainConfig` fields. Bad values are
 * `UsageError`s naming the flag, the expectation and the value; `--device cuda` without a visible GPU too.
 */
export function parseTrainFlags(values: TrainFlagValues): TrainFlags {
  const config: TrainFlags['config'] = {};
  const int = (flag: keyof typeof TRAIN_FLAGS, key: keyof TrainFlags['config']) => {
    const v = values[flag];
    if (typeof v === 'string') (config as Record<string, unknown>)[key] = num(flag, v, 0, true);
  };
  const real = (flag: keyof typeof TRAIN_FLAGS, key: keyof TrainFlags['config']) => {
    const v = values[flag];
    if (typeof v === 'string') (config as Record<string, unknown>)[key] = num(flag, v, 0);
  };
  int('epochs', 'epochs');
  int('batch-size', 'batchSize');
  real('lr', 'lr');
  real('momentum', 'momentum');
  real('weight-decay', 'weightDecay');
  int('warmup-epochs', 'warmupEpochs');
  real('label-smoothing', 'labelSmoothing');
  int('checkpoint-every', 'checkpointEvery');
  int('log-every', 'logEvery');
  int('limit-per-class', 'limitPerClass');
  int('train-size', 'syntheticTrainSize');
  int('test-size', 'syntheticTestSize');
  int('lr-step-epochs', 'lrStepEpochs');
  int('classes', 'classSubset');
  int('workers', 'workers');
  int('image-size', 'imageSize');
  if (values['val-labels'] !== undefined) config.valLabels = values['val-labels'];
  if (values['skip-corrupt']) config.skipCorrupt = true;
  if (values.optimizer !== undefined) {
    if (!(OPTIMIZERS as readonly string[]).includes(values.optimizer)) throw new UsageError(`--optimizer must be one of ${OPTIMIZERS.join(', ')}, got "${values.optimizer}"`);
    config.optimizer = values.optimizer as TrainConfig['optimizer'];
  }
  if (values.nesterov) config.nesterov = true;
  if (values['no-cuda-graph']) config.cudaGraph = false;
  if (values['no-augment']) config.augment = false;
  if (values['keep-last']) config.dropLast = false;
  if (values.schedule !== undefined) {
    if (!(SCHEDULES as readonly string[]).includes(values.schedule)) throw new UsageError(`--schedule must be one of ${SCHEDULES.join(', ')}, got "${values.schedule}"`);
    config.schedule = values.schedule as TrainConfig['schedule'];
  }
  if (values.amp !== undefined) {
    if (values.amp !== 'bf16' && values.amp !== 'fp16') throw new UsageError(`--amp must be bf16 or fp16, got "${values.amp}"`);
    config.amp = values.amp;
  }
  if (values.device !== undefined) {
    const device = values.device;
    if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device must be cpu, cuda or cuda:N, got "${device}"`);
    // Loaded here so that parsing the other flags works without the addon.
    const { cuda } = require('./runtime') as typeof import('./runtime');
    if (device.startsWith('cuda') && !cuda.isAvailable()) throw new UsageError(`--device ${device}: LibTorch sees no CUDA device (see \`ictorch info\`)`);
    config.device = device;
  }
  const out: TrainFlags = { config };
  if (values['drop-rate'] !== undefined) out.dropRate = num('drop-rate', values['drop-rate'], 0);
  if (values.width !== undefined) out.width = num('width', values.width, 1, true);
  return out;
}
