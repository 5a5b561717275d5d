/**
 * Generator: a random stream of one's own, as `torch.Generator`. Random creation ops (`rand`, `randn`,
 * `randint` with `{generator}`) and layers given one (`nn.Dropout(p, {generator})`, `nn.IC(c, {generator})`)
 * draw from it instead of the process-wide default generator that `manualSeed` seeds. The default generator
 * is shared by every thread of the process (worker_threads and the threads forwardAsync runs on): give each
 * worker, request or model its own Generator when its stream must be reproducible whatever else runs.
 */
import { native, type GeneratorHandle } from './native';
import { Tensor } from './tensor';
import { checkInt, knownOptions, typeError } from './validate';

const N = native();

/** A random generator (CPU by default, or on one CUDA device), with PyTorch's default seed until seeded. */
export class Generator {
  /** @internal */
  readonly handle: GeneratorHandle;

  constructor(options: { device?: string } = {}) {
    knownOptions('Generator', options, ['device']);
    if (options.device !== undefined && typeof options.device !== 'string') throw typeError('Generator', 'device', '"cpu", "cuda" or "cuda:N"', options.device);
    this.handle = N.generatorCreate(options.device);
  }

  /** Seeds the generator (the same seed gives the same stream); returns it. */
  manualSeed(seed: number): this {
    checkInt('Generator.manualSeed', 'seed', seed, 0);
    this.handle.manualSeed(seed);
    return this;
  }

  /** The seed the generator was last seeded with. */
  initialSeed(): number {
    return this.handle.initialSeed();
  }

  /** The full state (a uint8 CPU tensor): `setState` continues the stream exactly from here. */
  getState(): Tensor {
    return new Tensor(this.handle.getState());
  }

  /** Restores a state from `getState()`; returns the generator. */
  setState(state: Tensor): this {
    if (!(state instanceof Tensor)) throw typeError('Generator.setState', 'state', 'a uint8 Tensor from getState()', state);
    this.handle.setState(state.handle);
    return this;
  }

  /** The device the generator draws for. */
  get device(): string {
    return this.handle.device();
  }

  /** Frees the generator; layers built with it keep their own reference. Idempotent. */
  dispose(): void {
    this.handle.dispose();
  }

  /** True once disposed. */
  get isDisposed(): boolean {
    return this.handle.isDisposed();
  }

  /** `using g = ...` support. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** @internal The native generator of an optional `generator` option, checked. */
export function generatorHandle(op: string, g: unknown): GeneratorHandle | undefined {
  if (g === undefined || g === null) return undefined;
  if (!(g instanceof Generator)) throw typeError(op, 'generator', 'a Generator', g);
  return g.handle;
}
