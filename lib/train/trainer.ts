/**
 * Trainer: training steps of a model with an optimiser (SGD, Adam, AdamW).
 *
 * A model whose whole forward is native (built-in layers and containers of them, no hooks) trains with one
 * native call per step off the event loop: forward, cross-entropy, backward and the optimiser update in C++. On
 * CUDA that step is captured as a CUDA graph by default (see native/train_step.cc); `cudaGraph: false` turns
 * that off. Where a step cannot be captured it runs eager and `note` says why, once.
 *
 * Data parallel (`processGroup`): every process of the group runs a Trainer on its own share of each batch;
 * the first step copies rank 0's parameters and buffers to every process, and each step averages the
 * gradients over the group (in the native step, between backward and the update, in flat buckets), so the
 * update is that of the whole batch and the replicas stay equal. `syncBuffers()` copies rank 0's buffers
 * (BatchNorm's running statistics) to the others, e.g. before evaluating or saving.
 *
 * A model with a forward written in JavaScript cannot run on a worker thread: its forward runs on the JS
 * thread with autograd (and autocast when `amp` is set), then the cross-entropy, backward and update run in
 * one native call off the event loop. It keeps the event loop busy for the forward and is never captured as
 * a CUDA graph; on the CPU it cost ResNet-20 4-7% per step with one intra-op thread (bench/module-cpu.js,
 * bench/RESULTS.md).
 *
 * With a `criterion` (a loss module such as `nn.MSELoss`, or a function of output and target) the forward and
 * the loss run on the JS thread, then backward and update in one native call off the event loop; the step
 * reports no `correct` count (it does not know what the output means).
 */
import { enableGrad, noGrad } from '../autograd';
import { native, type ModuleHandle, type TrainStepHandle } from '../native';
import { Module, inFlight, runsNatively } from '../nn/module';
import { Tensor } from '../tensor';
import { checkKeys, checkNumber, checkOneOf, rangeError, typeError } from '../validate';
import type { Optimizer } from '../optim/optimizer';
import { broadcast } from '../distributed/collectives';
import { ProcessGroup } from '../distributed/process-group';
import { tidy } from '../scope';

const N = native();

const CRITERION_NOTE =
  'a criterion runs in JavaScript: each step runs the forward and the loss on the main thread (with autograd), then backward and update off the event loop; it is never captured as a CUDA graph';

const JS_FORWARD_NOTE =
  "the model's forward is written in JavaScript: each step runs it on the main thread (with autograd), then the loss, backward and update off the event loop; it is never captured as a CUDA graph";

// Runs fn with autocast on (for a forward that runs in JS) when amp is set.
function withAutocast<T>(device: string, amp: 'bf16' | 'fp16' | null, fn: () => T): T {
  if (!amp) return fn();
  const type = device.startsWith('cuda') ? 'cuda' : 'cpu';
  N.setAutocast(type, amp);
  try {
    return fn();
  } finally {
    N.setAutocast(type, null);
  }
}

/**
 * A training loss: a module whose `forward(output, target)` returns it (`nn.MSELoss`, `nn.CrossEntropyLoss`,
 * a module of your own), or a function `(output, target) => loss`. The loss must be a 0-d floating-point Tensor.
 */
export type Criterion = Module | ((output: Tensor, target: Tensor) => Tensor);

/** Options of a Trainer. */
export interface TrainerOptions {
  device?: string;
  /**
   * The loss to train on (default: none, the built-in cross-entropy on logits [N, classes] and int64 class
   * targets, which runs natively and counts correct predictions). `labelSmoothing` belongs to the built-in one.
   */
  criterion?: Criterion | null;
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
  /**
   * Data-parallel training over this process group (`distributed.initProcessGroup`): gradients are averaged
   * over its processes at every step. Default: none (this process alone). A group of one process is allowed.
   */
  processGroup?: ProcessGroup | null;
}

/** Options of one `Trainer.step`. */
export interface StepOptions {
  /** This process's vote to stop the run after this step (data parallel: the processes agree through `stop`). */
  stop?: boolean;
}

/** What one step returns: device tensors (read them when needed, to avoid a sync per step). */
export interface StepOutput {
  /** Mean loss of the batch (0-d float32). */
  loss: Tensor;
  /** Correct top-1 predictions in the batch (0-d int64); null when the Trainer has a criterion. */
  correct: Tensor | null;
  /** How the step ran: 'eager', 'warmup' (eager before capture) or 'graph' (replayed). */
  mode: 'eager' | 'warmup' | 'graph';
  /** Why the step could not use the CUDA graph, reported once per reason; null otherwise. */
  note: string | null;
  /** Whether any process of the group voted to stop with this step (alone: this step's own `stop` option). */
  stop: boolean;
}

/** Evaluation totals over one batch (device tensors). */
export interface EvalOutput {
  lossSum: Tensor;
  correct1: Tensor;
  correctK: Tensor;
}

/** Runs training steps of `model` with `optimizer`. */
export class Trainer {
  private handle: TrainStepHandle | null;
  private readonly native: ModuleHandle | null;
  private readonly amp: 'bf16' | 'fp16' | null;
  private notedJsForward = false;
  private readonly criterion: ((output: Tensor, target: Tensor) => unknown) | null;
  private synced = false;
  readonly device: string;
  /** The process group gradients are averaged over (null: this process alone). */
  readonly processGroup: ProcessGroup | null;
  /** Whether the step runs in channels-last memory order. */
  readonly channelsLast: boolean;

  constructor(readonly model: Module, readonly optimizer: Optimizer, options: TrainerOptions = {}) {
    checkKeys('Trainer', 'options', options, ['device', 'amp', 'labelSmoothing', 'criterion', 'cudaGraph', 'channelsLast', 'cudnnBenchmark', 'processGroup']);
    const criterion = options.criterion ?? null;
    if (criterion !== null && typeof criterion !== 'function' && !(criterion instanceof Module)) {
      throw typeError('Trainer', 'criterion', 'a loss Module or a function (output, target) => loss', criterion);
    }
    if (criterion !== null && options.labelSmoothing) {
      throw new TypeError('Trainer: labelSmoothing applies to the built-in cross-entropy; with a criterion, give it to the criterion (nn.CrossEntropyLoss({ labelSmoothing }))');
    }
    this.criterion = criterion === null ? null : criterion instanceof Module ? (o, t) => criterion.forward(o, t) : criterion;
    const group = options.processGroup ?? null;
    if (group !== null && (!(group instanceof ProcessGroup) || group.isDestroyed())) throw typeError('Trainer', 'processGroup', 'a live ProcessGroup', group);
    this.processGroup = group;
    this.device = options.device ?? 'cpu';
    const amp = options.amp ?? null;
    if (amp !== null) checkOneOf('Trainer', 'amp', amp, ['bf16', 'fp16']);
    this.amp = amp;
    const labelSmoothing = checkNumber('Trainer', 'labelSmoothing', options.labelSmoothing ?? 0);
    if (labelSmoothing < 0 || labelSmoothing >= 1) throw rangeError('Trainer', 'labelSmoothing', 'a number in [0, 1)', labelSmoothing);
    for (const k of ['cudaGraph', 'channelsLast', 'cudnnBenchmark'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'boolean') throw typeError('Trainer', k, 'a boolean', options[k]);
    }
    this.channelsLast = options.channelsLast ?? this.device.startsWith('cuda');
    const cudnnBenchmark = options.cudnnBenchmark ?? true;
    this.native = runsNatively(model);
    this.handle = N.trainStepCreate(this.native, optimizer.handle, { device: this.device, amp, labelSmoothing, cudaGraph: options.cudaGraph ?? true, channelsLast: this.channelsLast, cudnnBenchmark, processGroup: group?.handle ?? null });
    if (this.channelsLast) model.channelsLast();
  }

  /**
   * One training step on a batch (inputs float [N, ...], targets int64 [N]); resolves when it is done. While it
   * runs, the model and the optimiser cannot be changed or used (their methods are refused until it settles).
   */
  async step(input: Tensor, target: Tensor, options: StepOptions = {}): Promise<StepOutput> {
    const handle = this.handle;
    if (!handle) throw new Error('trainStep: the trainer has been disposed');
    if (!(input instanceof Tensor)) throw typeError('trainStep', 'input', 'a Tensor', input);
    if (!(target instanceof Tensor)) throw typeError('trainStep', 'target', this.criterion ? 'a Tensor' : 'an int64 Tensor', target);
    checkKeys('trainStep', 'options', options, ['stop']);
    const stop = options.stop ?? false;
    if (typeof stop !== 'boolean') throw typeError('trainStep', 'stop', 'a boolean', stop);
    if (this.processGroup && !this.synced) {
      // Every replica starts from rank 0's weights and buffers (as DistributedDataParallel's constructor).
      await tidy(() => broadcast([...this.model.parameters(), ...this.model.buffers()], 0, this.processGroup!));
      this.synced = true;
    }
    if (this.criterion) return this.stepWithCriterion(handle, this.criterion, input, target, stop);
    const whole = runsNatively(this.model);
    if (whole && whole === this.native) {
      const r = await inFlight(this.model, 'trainStep', true, () => N.trainStepRun(handle, input.handle, target.handle, stop));
      return { loss: new Tensor(r.loss), correct: new Tensor(r.correct), mode: r.mode, note: r.note, stop: r.stop };
    }
    // The forward runs here, in JS, with autograd; the rest of the step off the event loop.
    const x = input.device === this.device ? null : input.to({ device: this.device });
    let logits: Tensor | null = null;
    try {
      logits = enableGrad(() => withAutocast(this.device, this.amp, () => this.model.forward(x ?? input) as Tensor));
      if (!(logits instanceof Tensor)) throw typeError('trainStep', "the model's output", 'a Tensor of logits [N, classes]', logits);
      const l = logits;
      const r = await inFlight(this.model, 'trainStep', true, () => N.trainStepBackward(handle, l.handle, target.handle, stop));
      const note = this.notedJsForward ? r.note : (r.note ?? JS_FORWARD_NOTE);
      this.notedJsForward = true;
      return { loss: new Tensor(r.loss), correct: new Tensor(r.correct), mode: r.mode, note, stop: r.stop };
    } finally {
      logits?.dispose();
      x?.dispose();
    }
  }

  // The forward and the criterion here, in JS, with autograd (the intermediate handles are released: the graph
  // keeps what backward needs); backward and update off the event loop.
  private async stepWithCriterion(handle: TrainStepHandle, criterion: (output: Tensor, target: Tensor) => unknown, input: Tensor, target: Tensor, stop: boolean): Promise<StepOutput> {
    const loss = tidy(() => {
      const x = input.device === this.device ? input : input.to({ device: this.device });
      const t = target.device === this.device ? target : target.to({ device: this.device });
      return enableGrad(() => withAutocast(this.device, this.amp, () => criterion(this.model.forward(x) as Tensor, t)));
    });
    try {
      if (!(loss instanceof Tensor)) throw typeError('trainStep', "the criterion's result", 'a 0-d loss Tensor', loss);
      const r = await inFlight(this.model, 'trainStep', true, () => N.trainStepBackwardLoss(handle, loss.handle, stop));
      const note = this.notedJsForward ? r.note : (r.note ?? CRITERION_NOTE);
      this.notedJsForward = true;
      return { loss: new Tensor(r.loss), correct: null, mode: r.mode, note, stop: r.stop };
    } finally {
      if (loss instanceof Tensor && loss !== input && loss !== target) loss.dispose();
    }
  }

  /**
   * Data parallel: copies rank 0's buffers (BatchNorm's running statistics, which each process updates from its
   * own share of the batches) to every process of the group; every process calls it. Alone: nothing to do.
   */
  async syncBuffers(): Promise<void> {
    if (!this.processGroup || this.processGroup.size() === 1) return;
    await tidy(() => broadcast(this.model.buffers(), 0, this.processGroup!));
  }

  /** Frees the native step (and its CUDA graph). Idempotent; refused while a step is in flight. */
  dispose(): void {
    this.handle?.dispose();
    this.handle = null;
  }
}

/**
 * Loss sum and top-1/top-k hits of `model` on one batch, in no-grad mode: off the event loop for a native
 * model, the forward on the JS thread for a model written in JS (the totals off it).
 */
export async function evalBatch(model: Module, input: Tensor, target: Tensor, options: { k?: number; device?: string; amp?: 'bf16' | 'fp16' | null } = {}): Promise<EvalOutput> {
  if (!(input instanceof Tensor)) throw typeError('evalBatch', 'input', 'a Tensor', input);
  if (!(target instanceof Tensor)) throw typeError('evalBatch', 'target', 'an int64 Tensor', target);
  const k = options.k ?? 5;
  const wrap = (r: { lossSum: unknown; correct1: unknown; correctK: unknown }): EvalOutput => ({
    lossSum: new Tensor(r.lossSum as never), correct1: new Tensor(r.correct1 as never), correctK: new Tensor(r.correctK as never),
  });
  const h = runsNatively(model);
  if (h) return wrap(await inFlight(model, 'evalStep', false, () => N.evalStep(h, input.handle, target.handle, k, options.device, options.amp ?? null)));
  const device = options.device ?? input.device;
  const x = input.device === device ? null : input.to({ device });
  let logits: Tensor | null = null;
  try {
    logits = noGrad(() => withAutocast(device, options.amp ?? null, () => model.forward(x ?? input) as Tensor));
    if (!(logits instanceof Tensor)) throw typeError('evalBatch', "the model's output", 'a Tensor of logits [N, classes]', logits);
    return wrap(await N.evalLogits(logits.handle, target.handle, k));
  } finally {
    logits?.dispose();
    x?.dispose();
  }
}
