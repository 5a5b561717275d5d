/**
 * Trainer: one whole training step (forward, cross-entropy, backward, optimiser update) as one native call off
 * the event loop. On CUDA the step is captured as a CUDA graph by default (see native/train_step.cc);
 * `cudaGraph: false` turns that off. Where a step cannot be captured it runs eager and `note` says why, once.
 */
import { native, type TrainStepHandle } from '../native';
import type { Module } from '../nn/module';
import { Tensor } from '../tensor';
import { checkKeys, checkNumber, checkOneOf, rangeError, typeError } from '../validate';
import type { Optimizer } from '../optim/optimizer';

const N = native();

/** Options of a Trainer. */
export interface TrainerOptions {
  device?: string;
  /** Mixed precision: bf16 (captured in graphs) or fp16 (with dynamic loss scaling; runs eager). */
  amp?: 'bf16' | 'fp16' | null;
  labelSmoothing?: number;
  /** Capture the step as a CUDA graph on CUDA devices (default true). */
  cudaGraph?: boolean;
  /**
   * Train in channels-last memory order (default: true on CUDA, false on the CPU): the model's 4-d weights are
   * converted once (`model.channelsLast()`), and each 4-d batch is laid out channels-last as it enters the step
   * (inside a CUDA graph, by the copy into the graph's input buffer). cuDNN's bf16/fp16 convolutions are much
   * faster in that order, and the fused IC kernels take it as it comes.
   */
  channelsLast?: boolean;
  /** Let cuDNN time its convolution algorithms for each new shape and keep the fastest (CUDA; default true). */
  cudnnBenchmark?: boolean;
}

/** What one step returns: device tensors (read them when needed, to avoid a sync per step). */
export interface StepOutput {
  /** Mean loss of the batch (0-d float32). */
  loss: Tensor;
  /** Correct top-1 predictions in the batch (0-d int64). */
  correct: Tensor;
  /** How the step ran: 'eager', 'warmup' (eager before capture) or 'graph' (replayed). */
  mode: 'eager' | 'warmup' | 'graph';
  /** Why the step could not use the CUDA graph, reported once per reason; null otherwise. */
  note: string | null;
}

/** Evaluation totals over one batch (device tensors). */
export interface EvalOutput {
  lossSum: Tensor;
  correct1: Tensor;
  correctK: Tensor;
}

/** Runs training steps of `model` with `optimizer` natively. */
export class Trainer {
  private handle: TrainStepHandle | null;
  readonly device: string;
  /** Whether the step runs in channels-last memory order. */
  readonly channelsLast: boolean;

  constructor(readonly model: Module, readonly optimizer: Optimizer, options: TrainerOptions = {}) {
    checkKeys('Trainer', 'options', options, ['device', 'amp', 'labelSmoothing', 'cudaGraph', 'channelsLast', 'cudnnBenchmark']);
    this.device = options.device ?? 'cpu';
    const amp = options.amp ?? null;
    if (amp !== null) checkOneOf('Trainer', 'amp', amp, ['bf16', 'fp16']);
    const labelSmoothing = checkNumber('Trainer', 'labelSmoothing', options.labelSmoothing ?? 0);
    if (labelSmoothing < 0 || labelSmoothing >= 1) throw rangeError('Trainer', 'labelSmoothing', 'a number in [0, 1)', labelSmoothing);
    for (const k of ['cudaGraph', 'channelsLast', 'cudnnBenchmark'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'boolean') throw typeError('Trainer', k, 'a boolean', options[k]);
    }
    this.channelsLast = options.channelsLast ?? this.device.startsWith('cuda');
    const cudnnBenchmark = options.cudnnBenchmark ?? true;
    this.handle = N.trainStepCreate(model.handle, optimizer.handle, { device: this.device, amp, labelSmoothing, cudaGraph: options.cudaGraph ?? true, channelsLast: this.channelsLast, cudnnBenchmark });
    if (this.channelsLast) model.channelsLast();
  }

  /** One training step on a batch (inputs float [N, ...], targets int64 [N]); resolves when it is done. */
  async step(input: Tensor, target: Tensor): Promise<StepOutput> {
    if (!this.handle) throw new Error('trainStep: the trainer has been disposed');
    if (!(input instanceof Tensor)) throw typeError('trainStep', 'input', 'a Tensor', input);
    if (!(target instanceof Tensor)) throw typeError('trainStep', 'target', 'an int64 Tensor', target);
    const r = await N.trainStepRun(this.handle, input.handle, target.handle);
    return { loss: new Tensor(r.loss), correct: new Tensor(r.correct), mode: r.mode, note: r.note };
  }

  /** Frees the native step (and its CUDA graph). */
  dispose(): void {
    if (this.handle) N.trainStepDispose(this.handle);
    this.handle = null;
  }
}

/** Loss sum and top-1/top-k hits of `model` on one batch, in no-grad mode, off the event loop. */
export async function evalBatch(model: Module, input: Tensor, target: Tensor, options: { k?: number; device?: string; amp?: 'bf16' | 'fp16' | null } = {}): Promise<EvalOutput> {
  if (!(input instanceof Tensor)) throw typeError('evalBatch', 'input', 'a Tensor', input);
  if (!(target instanceof Tensor)) throw typeError('evalBatch', 'target', 'an int64 Tensor', target);
  const r = await N.evalStep(model.handle, input.handle, target.handle, options.k ?? 5, options.device, options.amp ?? null);
  return { lossSum: new Tensor(r.lossSum), correct1: new Tensor(r.correct1), correctK: new Tensor(r.correctK) };
}
