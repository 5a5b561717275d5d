/**
 * The optimiser interface shared by SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam and Adadelta, as PyTorch's `torch.optim.Optimizer`: `step()`,
 * `zeroGrad({setToNone})`, `paramGroups` with per-group hyper-parameters (assigning `group.lr = 0.01`
 * takes effect at the next step, also inside a native training step), `addParamGroup`, and
 * `stateDict()` / `loadStateDict()` in PyTorch's layout. The update itself runs natively (native/optim.cc).
 */
import { enableGrad } from '../autograd';
import { tensor } from '../creation';
import { native, type NativeParamGroup, type OptimizerHandle, type OptimizerKind } from '../native';
import { Tensor } from '../tensor';
import { checkKeys, checkNumber, rangeError, typeError } from '../validate';

const N = native();

/** How one hyper-parameter is checked and named in PyTorch's state dict. */
export interface OptionSpec {
  kind: 'number' | 'boolean' | 'betas';
  /** PyTorch's name (snake_case) in `param_groups`. */
  torchName: string;
  /** A number's largest allowed value (inclusive; Adadelta's rho: 1). Numbers are >= 0 in any case. */
  max?: number;
}

/** A parameter group as passed in: its tensors and, optionally, its own hyper-parameters. */
export type ParamGroupInput<O> = { params: Tensor[] } & Partial<O>;

/**
 * The keys schedulers keep in a parameter group, as PyTorch's do: `initialLr` (every scheduler: PyTorch's
 * `initial_lr`) and OneCycleLR's `maxLr`, `minLr`, `maxMomentum` and `baseMomentum`. They travel with the
 * optimiser's state dict under PyTorch's names, so a run resumes on either side.
 */
export interface SchedulerGroupKeys {
  /** The learning rate a scheduler started from (PyTorch's `initial_lr`). */
  initialLr?: number;
  /** OneCycleLR's peak learning rate (`max_lr`). */
  maxLr?: number;
  /** OneCycleLR's final learning rate (`min_lr`). */
  minLr?: number;
  /** OneCycleLR's momentum at the start and end of the cycle (`max_momentum`). */
  maxMomentum?: number;
  /** OneCycleLR's momentum at the peak learning rate (`base_momentum`). */
  baseMomentum?: number;
  /** SWALR's learning rate to anneal to (`swa_lr`). */
  swaLr?: number;
}

/** PyTorch's names of the scheduler keys of a group. */
const SCHEDULER_KEYS: Record<string, keyof SchedulerGroupKeys> = {
  initial_lr: 'initialLr',
  max_lr: 'maxLr',
  min_lr: 'minLr',
  max_momentum: 'maxMomentum',
  base_momentum: 'baseMomentum',
  swa_lr: 'swaLr',
};

/**
 * A live parameter group: `params`, every hyper-parameter of the optimiser, and the keys schedulers set
 * (`SchedulerGroupKeys`). Assigning a hyper-parameter checks it and passes it to the native optimiser; adding a
 * key the optimiser does not know throws.
 */
export type LiveParamGroup<O> = { readonly params: Tensor[] } & SchedulerGroupKeys & O;

/** One parameter's state under PyTorch's keys (SGD `momentum_buffer`; Adam `step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`; ...). */
export type ParamState = Record<string, Tensor>;

/**
 * An optimiser's state in PyTorch's layout: `state` maps the parameter's index (counted over all groups
 * in order) to its state tensors; `param_groups` hold the hyper-parameters under PyTorch's names and the
 * indices of their parameters. The tensors share memory with the optimiser's state (as in PyTorch): copy
 * them to keep a snapshot, dispose them (or use `tidy`) when done.
 */
export interface OptimizerStateDict {
  state: Map<number, ParamState>;
  param_groups: ({ params: number[] } & Record<string, unknown>)[];
}

/** What `loadStateDict` reads: `state` as a Map or an object keyed by the index (as JSON or Python write it). */
export interface OptimizerStateDictInput {
  state: Map<number, ParamState> | Record<string, ParamState>;
  param_groups: ({ params: number[] } & Record<string, unknown>)[];
}

/** Keys PyTorch writes in param_groups that have no effect here (accepted on load, then ignored). */
const TORCH_ONLY_KEYS = new Set(['foreach', 'differentiable', 'capturable', 'fused', 'params']);

/** Base class of the optimisers: the interface of `torch.optim.Optimizer`. */
export abstract class Optimizer<O extends object = object> {
  /** @internal the native optimiser (the training step reads it). */
  readonly handle: OptimizerHandle;
  /** The hyper-parameters groups take when they do not set their own. */
  readonly defaults: Readonly<O>;
  /** The parameter groups, live: assigning `paramGroups[i].lr` changes that group's learning rate. */
  readonly paramGroups: LiveParamGroup<O>[] = [];
  /** The optimiser's name in messages (`SGD`, `Adam`, `AdamW`). */
  protected readonly op: string;
  private readonly spec: Record<string, OptionSpec>;
  private disposed = false;

  /** @internal subclasses pass their name, native kind, option table and checked defaults. */
  protected constructor(
    op: string,
    kind: OptimizerKind,
    params: Tensor[] | ParamGroupInput<O>[],
    defaults: O,
    spec: Record<keyof O & string, OptionSpec>,
    foreach: boolean,
  ) {
    this.op = op;
    this.spec = spec;
    for (const [key, value] of Object.entries(defaults)) (defaults as Record<string, unknown>)[key] = this.checkOption(`options.${key}`, key, value);
    this.defaults = Object.freeze({ ...defaults });
    if (!Array.isArray(params)) throw typeError(op, 'params', 'an array of Tensors or of parameter groups {params, ...options}', params);
    if (params.length === 0) throw rangeError(op, 'params', 'at least one parameter (the optimizer got an empty parameter list)', params);
    const inputs: ParamGroupInput<O>[] = params.every((p) => p instanceof Tensor)
      ? [{ params: params as Tensor[] } as ParamGroupInput<O>]
      : (params as ParamGroupInput<O>[]);
    const resolved = inputs.map((g, i) => this.resolveGroup(g, `params[${i}]`));
    this.handle = N.optimCreate(kind, resolved.map((g) => this.toNative(g)), foreach);
    for (const g of resolved) this.paramGroups.push(this.liveGroup(g));
  }

  /** Checks a group: its tensors and options, filling in the defaults. */
  private resolveGroup(g: ParamGroupInput<O>, where: string): { params: Tensor[] } & O {
    if (!g || typeof g !== 'object' || !Array.isArray(g.params)) throw typeError(this.op, where, 'a parameter group {params: Tensor[], ...options}', g);
    g.params.forEach((p, k) => {
      if (!(p instanceof Tensor)) throw typeError(this.op, `${where}.params[${k}]`, 'a Tensor', p);
    });
    const out: Record<string, unknown> = { params: g.params.slice() };
    for (const [key, value] of Object.entries(g)) {
      if (key === 'params' || value === undefined) continue;
      if (!(key in this.spec)) checkKeys(this.op, where, { [key]: value }, Object.keys(this.spec));
      out[key] = this.checkOption(`${where}.${key}`, key, value);
    }
    for (const [key, value] of Object.entries(this.defaults)) if (!(key in out)) out[key] = value;
    return out as { params: Tensor[] } & O;
  }

  private checkOption(where: string, key: string, value: unknown): unknown {
    const kind = this.spec[key].kind;
    if (kind === 'boolean') {
      if (typeof value !== 'boolean') throw typeError(this.op, where, 'a boolean', value);
      return value;
    }
    if (kind === 'betas') {
      if (!Array.isArray(value) || value.length !== 2) throw typeError(this.op, where, 'two numbers [beta1, beta2]', value);
      const b = value.map((v, i) => checkNumber(this.op, `${where}[${i}]`, v));
      b.forEach((v, i) => {
        if (v < 0 || v >= 1) throw rangeError(this.op, `${where}[${i}]`, 'a number in [0, 1)', v);
      });
      return b;
    }
    const n = checkNumber(this.op, where, value);
    const max = this.spec[key].max;
    if (max !== undefined && (n < 0 || n > max)) throw rangeError(this.op, where, `a number in [0, ${max}]`, n);
    if (n < 0 && key !== 'dampening') throw rangeError(this.op, where, 'a number >= 0', n);
    return n;
  }

  private toNative(g: { params: Tensor[] } & O): NativeParamGroup {
    return { ...(g as object), params: g.params.map((p) => p.handle) } as NativeParamGroup;
  }

  /** A group object whose hyper-parameters write through to the native optimiser. */
  private liveGroup(g: { params: Tensor[] } & O): LiveParamGroup<O> {
    const index = this.paramGroups.length;
    const values: Record<string, unknown> = { ...(g as object) };
    const group: Record<string, unknown> = {};
    Object.defineProperty(group, 'params', { value: g.params, enumerable: true });
    for (const key of Object.keys(this.spec)) {
      Object.defineProperty(group, key, {
        enumerable: true,
        get: () => (Array.isArray(values[key]) ? (values[key] as unknown[]).slice() : values[key]),
        set: (v: unknown) => {
          const checked = this.checkOption(`paramGroups[${index}].${key}`, key, v);
          N.optimSetGroup(this.live(), index, { [key]: checked });
          values[key] = checked;
        },
      });
    }
    for (const key of Object.values(SCHEDULER_KEYS)) group[key] = undefined;
    return Object.seal(group) as LiveParamGroup<O>;
  }

  private live(): OptimizerHandle {
    if (this.disposed) throw new Error(`${this.op}: the optimizer has been disposed`);
    return this.handle;
  }

  /**
   * Applies one update from the parameters' current gradients (parameters without a gradient are
   * skipped). With a `closure` (which recomputes the loss: zeroGrad, forward, backward) it is called
   * first with grad mode on, and its loss returned, as in PyTorch.
   */
  step(closure?: () => Tensor): Tensor | undefined {
    const h = this.live();
    let loss: Tensor | undefined;
    if (closure !== undefined) {
      if (typeof closure !== 'function') throw typeError(`${this.op}.step`, 'closure', 'a function returning the loss', closure);
      loss = enableGrad(closure);
    }
    N.optimStep(h, null);
    return loss;
  }

  /** Clears the gradients of every parameter: to none by default (as PyTorch 2 does), else to zeros. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const extra = Object.keys(options ?? {}).find((k) => k !== 'setToNone');
    if (extra !== undefined) throw typeError(`${this.op}.zeroGrad`, 'options', '{setToNone?: boolean}', options);
    N.optimZeroGrad(this.live(), options.setToNone ?? true);
  }

  /** Adds a parameter group (e.g. layers unfrozen during fine-tuning); its missing options take the defaults. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const g = this.resolveGroup(group, 'group');
    N.optimAddGroup(this.live(), this.toNative(g));
    this.paramGroups.push(this.liveGroup(g));
  }

  /** Learning rate of the first group; setting it scales every group's learning rate by the same factor. */
  get lr(): number {
    return (this.paramGroups[0] as unknown as { lr: number }).lr;
  }
  set lr(value: number) {
    checkNumber(`${this.op}.lr`, 'value', value);
    const groups = this.paramGroups as unknown as { lr: number }[];
    const base = groups[0].lr;
    groups.forEach((g, i) => {
      g.lr = i === 0 || base === 0 ? value : (g.lr / base) * value;
    });
  }

  /** The state in PyTorch's layout (see `OptimizerStateDict`). */
  stateDict(): OptimizerStateDict {
    const raw = N.optimState(this.live());
    const state = new Map<number, ParamState>();
    const param_groups: OptimizerStateDict['param_groups'] = [];
    let index = 0;
    raw.forEach((group, gi) => {
      const params: number[] = [];
      group.forEach((entry) => {
        if (entry) state.set(index, Object.fromEntries(Object.entries(entry).map(([k, h]) => [k, new Tensor(h)])));
        params.push(index++);
      });
      param_groups.push({ ...this.torchGroup(this.paramGroups[gi]), params });
    });
    return { state, param_groups };
  }

  /** One group's hyper-parameters under PyTorch's names (and the keys PyTorch adds). */
  protected torchGroup(g: LiveParamGroup<O>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, s] of Object.entries(this.spec)) out[s.torchName] = (g as Record<string, unknown>)[key];
    for (const [torchName, key] of Object.entries(SCHEDULER_KEYS)) if (g[key] !== undefined) out[torchName] = g[key];
    return { ...out, ...this.torchExtras() };
  }

  /**
   * Keys PyTorch writes in each group that this optimiser has no use for (foreach, differentiable ...): those of
   * PyTorch 1.13 and 2.x together, so a file has every key either writes (each ignores the ones it lacks).
   */
  protected abstract torchExtras(): Record<string, unknown>;

  /**
   * Keys whose value in PyTorch selects another algorithm (Adam's `decoupled_weight_decay`, which PyTorch 2.x
   * writes true for AdamW): a group that has one with another value is refused on load, with `hint` saying
   * where it belongs, rather than loaded into the wrong update rule.
   */
  protected torchFixed(): { keys: Record<string, unknown>; hint: string } {
    return { keys: {}, hint: '' };
  }

  /**
   * Restores a state from `stateDict()` (or from PyTorch's `optimizer.state_dict()` loaded from a file):
   * the groups must have the same numbers of parameters; hyper-parameters and state tensors are copied in.
   */
  loadStateDict(sd: OptimizerStateDictInput): void {
    const op = `${this.op}.loadStateDict`;
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.param_groups) || !sd.state || typeof sd.state !== 'object') {
      throw typeError(op, 'stateDict', 'an object {state, param_groups} from stateDict()', sd);
    }
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw rangeError(op, 'stateDict.param_groups', `${this.paramGroups.length} parameter groups (as this optimizer has)`, sd.param_groups.length);
    }
    const byTorchName = new Map(Object.entries(this.spec).map(([k, s]) => [s.torchName, k]));
    const fixed = this.torchFixed();
    const updates: Record<string, unknown>[] = sd.param_groups.map((g, gi) => {
      const where = `stateDict.param_groups[${gi}]`;
      if (!g || !Array.isArray(g.params)) throw typeError(op, where, 'a group {params: number[], ...}', g);
      if (g.params.length !== this.paramGroups[gi].params.length) {
        throw rangeError(op, `${where}.params`, `${this.paramGroups[gi].params.length} parameters (the size of this optimizer's group ${gi})`, g.params);
      }
      const u: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(g)) {
        if (Object.hasOwn(SCHEDULER_KEYS, name)) {
          u[SCHEDULER_KEYS[name]] = checkNumber(op, `${where}.${name}`, value);
        } else if (byTorchName.has(name)) {
          const key = byTorchName.get(name)!;
          u[key] = this.checkOption(`${where}.${name}`, key, value);
        } else if (Object.hasOwn(fixed.keys, name)) {
          if (value !== fixed.keys[name]) {
            throw new TypeError(`${op}: ${where}.${name} is ${String(value)}, where ${this.op} has ${String(fixed.keys[name])}: ${fixed.hint}`);
          }
        } else if (!TORCH_ONLY_KEYS.has(name)) {
          throw typeError(op, `${where}.${name}`, `a key ${this.op} knows (${[...byTorchName.keys()].join(', ')})`, name);
        }
      }
      return u;
    });
    const stateOf = (i: number): ParamState | undefined => {
      const s = sd.state instanceof Map ? sd.state.get(i) : (sd.state as Record<string, ParamState>)[String(i)];
      return s ?? undefined;
    };
    // A step count may be a number (PyTorch 1.13's RMSprop and Adadelta keep a Python int; older NAdam states a
    // float mu_product): it becomes a 0-d tensor here.
    const counters: Tensor[] = [];
    const nativeState = sd.param_groups.map((g) =>
      g.params.map((i) => {
        const s = stateOf(i);
        if (s === undefined) return null;
        if (!s || typeof s !== 'object') throw typeError(op, `stateDict.state[${i}]`, 'an object of Tensors', s);
        return Object.fromEntries(
          Object.entries(s).map(([k, t]) => {
            if ((k === 'step' || k === 'mu_product') && typeof t === 'number' && Number.isFinite(t)) {
              const c = tensor(t, { dtype: 'float32' });
              counters.push(c);
              return [k, c.handle];
            }
            if (!(t instanceof Tensor)) throw typeError(op, `stateDict.state[${i}].${k}`, k === 'step' || k === 'mu_product' ? 'a Tensor or a number' : 'a Tensor', t);
            return [k, t.handle];
          }),
        );
      }),
    );
    // Hyper-parameters first (amsgrad decides which state slots exist), then the state tensors.
    const schedulerKeys = new Set<string>(Object.values(SCHEDULER_KEYS));
    updates.forEach((u, gi) => {
      const group = this.paramGroups[gi] as Record<string, unknown>;
      for (const [k, v] of Object.entries(u)) if (!schedulerKeys.has(k)) group[k] = v;
      for (const k of schedulerKeys) if (u[k] !== undefined) group[k] = u[k];
    });
    try {
      N.optimLoadState(this.live(), nativeState);
    } finally {
      for (const c of counters) c.dispose();
    }
  }

  /** Frees the optimiser's native state (parameters are not touched). */
  dispose(): void {
    if (this.disposed) return;
    N.optimDispose(this.handle); // refused (throws) while a training step uses it: the optimiser stays usable
    this.disposed = true;
  }

  /** `using opt = new torch.optim.Adam(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
