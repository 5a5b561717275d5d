/**
 * Recurrent layers in TypeScript, one ATen call each: `nn.RNN`, `nn.LSTM` and `nn.GRU` (multi-layer,
 * bidirectional, LSTM projections; `at::rnn_tanh`, `at::rnn_relu`, `at::lstm`, `at::gru`, which run cuDNN's fused
 * kernels on CUDA) and the single steps `nn.RNNCell`, `nn.LSTMCell` and `nn.GRUCell`. Constructor arguments
 * (camelCase), parameter names, shapes, registration order and initialisation are PyTorch 1.13's, so a state dict
 * goes to the PyTorch module of the same name and back (strict loading both ways), and the same seed draws the
 * same initial weights. Their forward is written in JavaScript, so it runs on the main thread (see `nn.Module`).
 * `RNN`, `LSTM` and `GRU` also take a batch of sequences of different lengths as a `PackedSequence`
 * (`nn.utils.rnn.packPaddedSequence`), as PyTorch's do: the output is then packed too, and the final states are
 * each sequence's own, in the batch's original order.
 */
import { zeros } from '../creation';
import type { Device, DType } from '../dtype';
import { native } from '../native';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkOneOf, rangeError, typeError } from '../validate';
import { boolOpt, checkSize, factoryOptions, floatArg, fmt, knownOptions, numberOpt, optTensorArg, sameKind, shapeError, tensorArg } from './checks';
import { uniform_ } from './init';
import { Module, Parameter } from './module';
import { PackedSequence } from './utils-rnn';

const N = native();

// ---------------------------------------------------------------- types and options

/** The recurrence of a recurrent layer, named as PyTorch's `RNNBase.mode` names it. */
export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** The nonlinearity of `nn.RNN` and `nn.RNNCell`: `'tanh'` (the default) or `'relu'`. */
export type RNNNonlinearity = 'tanh' | 'relu';

/** Options shared by `nn.RNN`, `nn.LSTM` and `nn.GRU` (PyTorch's arguments after `hidden_size`, in camelCase). */
export interface RNNBaseOptions {
  /** Recurrent layers stacked, each reading the previous one's output (default 1). */
  numLayers?: number;
  /** Learn the biases `bias_ih_l*` and `bias_hh_l*` (default true). */
  bias?: boolean;
  /** Inputs and output are `(N, L, features)` instead of `(L, N, features)` (default false; the states are not affected). */
  batchFirst?: boolean;
  /**
   * Dropout probability on the outputs of each layer but the last, in training mode (default 0). With one
   * layer it has no effect (a warning says so, as PyTorch's does).
   */
  dropout?: number;
  /** Run every layer in both directions and concatenate the two outputs (default false). */
  bidirectional?: boolean;
  /** Device of the parameters (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters (default float32). */
  dtype?: DType | null;
}

/** Options of `nn.RNN`. */
export interface RNNOptions extends RNNBaseOptions {
  /** The nonlinearity, `'tanh'` (default) or `'relu'`. */
  nonlinearity?: RNNNonlinearity;
}

/** Options of `nn.LSTM`. */
export interface LSTMOptions extends RNNBaseOptions {
  /**
   * Project the hidden state to this many features (`weight_hr_l*`); 0 (the default) for none. It must be
   * smaller than `hiddenSize`; h then has `projSize` features and c keeps `hiddenSize`.
   */
  projSize?: number;
}

/** Options of `nn.GRU`: those of every recurrent layer. */
export type GRUOptions = RNNBaseOptions;

/** Options shared by `nn.RNNCell`, `nn.LSTMCell` and `nn.GRUCell`. */
export interface RNNCellBaseOptions {
  /** Learn the biases `bias_ih` and `bias_hh` (default true). */
  bias?: boolean;
  /** Device of the parameters (default `cpu`). */
  device?: Device | string | null;
  /** Floating dtype of the parameters (default float32). */
  dtype?: DType | null;
}

/** Options of `nn.RNNCell`. */
export interface RNNCellOptions extends RNNCellBaseOptions {
  /** The nonlinearity, `'tanh'` (default) or `'relu'`. */
  nonlinearity?: RNNNonlinearity;
}

/** Options of `nn.LSTMCell`. */
export type LSTMCellOptions = RNNCellBaseOptions;

/** Options of `nn.GRUCell`. */
export type GRUCellOptions = RNNCellBaseOptions;

// ---------------------------------------------------------------- helpers

const NONLINEARITIES: readonly RNNNonlinearity[] = ['tanh', 'relu'];
const BASE_OPTIONS = ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'device', 'dtype'];
const CELL_OPTIONS = ['bias', 'device', 'dtype'];
// Gates per layer: rows of weight_ih / weight_hh are gates × hiddenSize.
const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };
// The native kind of each mode.
const KINDS = { RNN_TANH: 'rnnTanh', RNN_RELU: 'rnnRelu', LSTM: 'lstm', GRU: 'gru' } as const;

type Factory = { device?: string; dtype?: DType };

// A module's input must have the dtype and device of its parameters (`like`), as PyTorch's check_input asks.
function moduleKind(op: string, arg: string, t: Tensor, like: Tensor): void {
  if (t.dtype !== like.dtype) throw new TypeError(`${op}: expected ${arg} of the module's dtype ${like.dtype} but received ${t.dtype} (convert one with .to())`);
  if (t.device !== like.device) throw new TypeError(`${op}: expected ${arg} on the module's device ${like.device} but received one on ${t.device}`);
}

// A registered parameter read by name (a user may have replaced it; null is refused).
function paramByName(op: string, m: Module, name: string): Parameter {
  const p = (m as unknown as Record<string, unknown>)[name];
  if (!(p instanceof Parameter)) throw new TypeError(`${op}: parameter ${name} is ${p === null ? 'null' : 'missing'}; the layer needs all of its weights`);
  return p;
}

// RNN and GRU take no projSize (PyTorch: "proj_size argument is only supported for LSTM, not RNN or GRU").
function noProjection(op: string, options: unknown): void {
  if (options !== null && typeof options === 'object' && Object.prototype.hasOwnProperty.call(options, 'projSize')) {
    throw new TypeError(`${op}: projSize is only supported by LSTM, not by RNN or GRU`);
  }
}

// A nonlinearity option (default tanh).
function nonlinearityOpt(op: string, v: unknown): RNNNonlinearity {
  return v === undefined ? 'tanh' : checkOneOf(op, 'nonlinearity', v, NONLINEARITIES);
}

// The checked arguments of a recurrent layer.
interface RNNConfig {
  mode: RNNMode;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  batchFirst: boolean;
  dropout: number;
  bidirectional: boolean;
  projSize: number;
  factory: Factory;
}

// Checks the arguments of a recurrent layer (options already checked for unknown keys), as PyTorch 1.13's
// RNNBase.__init__ does, with its warning for dropout on a single layer.
function rnnConfig(op: string, mode: RNNMode, inputSize: unknown, hiddenSize: unknown, o: Record<string, unknown>): RNNConfig {
  const I = checkSize(op, 'inputSize', inputSize);
  const H = checkSize(op, 'hiddenSize', hiddenSize);
  const numLayers = o.numLayers === undefined ? 1 : checkSize(op, 'numLayers', o.numLayers);
  const dropout = numberOpt(op, 'dropout', o.dropout, 0, { min: 0, max: 1 });
  let projSize = 0;
  if (o.projSize !== undefined) {
    const want = `a non-negative integer smaller than hiddenSize (${H}), or 0 for no projection`;
    if (typeof o.projSize !== 'number' || !Number.isInteger(o.projSize)) throw typeError(op, 'projSize', want, o.projSize);
    if (o.projSize < 0 || o.projSize >= H) throw rangeError(op, 'projSize', want, o.projSize);
    projSize = o.projSize;
  }
  const config: RNNConfig = {
    mode, inputSize: I, hiddenSize: H, numLayers, dropout, projSize,
    bias: boolOpt(op, 'bias', o.bias, true),
    batchFirst: boolOpt(op, 'batchFirst', o.batchFirst, false),
    bidirectional: boolOpt(op, 'bidirectional', o.bidirectional, false),
    factory: factoryOptions(op, o),
  };
  if (dropout > 0 && numLayers === 1) {
    process.emitWarning(
      `${op}: dropout adds dropout after all but the last recurrent layer, so a non-zero dropout expects numLayers greater than 1, but got dropout=${dropout} and numLayers=1`,
      'UserWarning',
    );
  }
  return config;
}

// ---------------------------------------------------------------- RNNBase

/**
 * The base of `nn.RNN`, `nn.LSTM` and `nn.GRU` (`torch.nn.RNNBase`): the parameters of every layer and
 * direction, PyTorch's initialisation, and the one native call of the forward. Parameters, in this order for
 * each layer k and direction (the backward one with the suffix `_reverse`): `weight_ih_lk`
 * `(gates·hiddenSize, in)`, `weight_hh_lk` `(gates·hiddenSize, h)`, `bias_ih_lk` and `bias_hh_lk`
 * `(gates·hiddenSize)` with `bias`, and for an LSTM with `projSize` `weight_hr_lk` `(projSize, hiddenSize)`;
 * gates are 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n); `in` is `inputSize` for layer 0 and
 * `h·directions` above it; `h` is `projSize` when set, else `hiddenSize`. Every parameter starts uniform in
 * ±1/√hiddenSize. Not made directly: use `nn.RNN`, `nn.LSTM` or `nn.GRU`.
 *
 * ```ts
 * const lstm = new nn.LSTM(10, 20, { numLayers: 2, bidirectional: true });
 * lstm.allWeights[1].length;          // 4: weight_ih_l0_reverse, weight_hh_l0_reverse, bias_ih_l0_reverse, bias_hh_l0_reverse
 * ```
 */
export abstract class RNNBase extends Module {
  /** The recurrence: `'RNN_TANH'`, `'RNN_RELU'`, `'LSTM'` or `'GRU'`. */
  readonly mode: RNNMode;
  /** Features of the input (H_in). */
  readonly inputSize: number;
  /** Features of the hidden state (and of LSTM's cell state). */
  readonly hiddenSize: number;
  /** Recurrent layers stacked. */
  readonly numLayers: number;
  /** Whether the layers have biases. */
  readonly bias: boolean;
  /** Whether inputs and output are `(N, L, features)` rather than `(L, N, features)`. */
  readonly batchFirst: boolean;
  /** Dropout probability between layers, in training mode. */
  readonly dropout: number;
  /** Whether every layer runs in both directions. */
  readonly bidirectional: boolean;
  /** LSTM's projection size (0: none; always 0 for RNN and GRU). */
  readonly projSize: number;
  // The parameter names of each layer and direction, in PyTorch's order (its _all_weights).
  private readonly weightNames: string[][];

  /**
   * Checks the arguments (`options` already checked for unknown keys), registers the parameters and initialises
   * them (called by RNN, LSTM and GRU).
   */
  protected constructor(op: string, kind: RNNMode, inSize: number, hidden: number, options: Record<string, unknown>) {
    const config = rnnConfig(op, kind, inSize, hidden, options);
    super();
    const { mode, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize, factory } = config;
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = bias;
    this.batchFirst = batchFirst;
    this.dropout = dropout;
    this.bidirectional = bidirectional;
    this.projSize = projSize;
    this.weightNames = [];
    const gates = GATES[mode] * hiddenSize;
    const real = projSize > 0 ? projSize : hiddenSize;
    const dirs = bidirectional ? 2 : 1;
    try {
      for (let layer = 0; layer < numLayers; layer++) {
        for (let dir = 0; dir < dirs; dir++) {
          const suffix = `l${layer}${dir === 1 ? '_reverse' : ''}`;
          const layerIn = layer === 0 ? inputSize : real * dirs;
          const shapes: [string, number[]][] = [[`weight_ih_${suffix}`, [gates, layerIn]], [`weight_hh_${suffix}`, [gates, real]]];
          if (bias) shapes.push([`bias_ih_${suffix}`, [gates]], [`bias_hh_${suffix}`, [gates]]);
          if (projSize > 0) shapes.push([`weight_hr_${suffix}`, [projSize, hiddenSize]]);
          for (const [name, shape] of shapes) this.registerParameter(name, tidy(() => new Parameter(zeros(shape, factory))));
          this.weightNames.push(shapes.map(([name]) => name));
        }
      }
      this.resetParameters();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * The parameters of each layer and direction (`[layer 0, layer 0 reverse, layer 1, ...]`), each list in
   * PyTorch's order (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, `weight_hr`): PyTorch's `all_weights`.
   * These are the module's own parameters, not copies.
   */
  get allWeights(): Parameter[][] {
    return this.weightNames.map((names) => names.map((n) => paramByName('allWeights', this, n)));
  }

  /** PyTorch's initialisation again: every parameter uniform in ±1/√hiddenSize, in registration order. */
  resetParameters(): this {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    for (const names of this.weightNames) for (const n of names) uniform_(paramByName('resetParameters', this, n), -stdv, stdv);
    return this;
  }

  // The initial states' shapes for a batch of n, each with its argument's name and its last dimension's name.
  private stateShapes(n: number): [string, number[], string][] {
    const isLSTM = this.mode === 'LSTM';
    const layers = this.numLayers * (this.bidirectional ? 2 : 1);
    const real = this.projSize > 0 ? this.projSize : this.hiddenSize;
    const want: [string, number[], string][] = [[isLSTM ? 'hx[0]' : 'hx', [layers, n, real], this.projSize > 0 ? 'projSize' : 'hiddenSize']];
    if (isLSTM) want.push(['hx[1]', [layers, n, this.hiddenSize], 'hiddenSize']);
    return want;
  }

  // The initial states given to a forward (h0, or [h0, c0] for an LSTM), checked against the input x (dtype and
  // device) and their shapes `want` (without the batch dimension when not batched); null when none are given.
  private givenStates(op: string, hx: unknown, x: Tensor, want: [string, number[], string][], batched: boolean): Tensor[] | null {
    let states: Tensor[] | null = null;
    if (this.mode === 'LSTM') {
      if (hx !== undefined && hx !== null) {
        if (!Array.isArray(hx) || hx.length !== 2) throw typeError(op, 'hx', 'a pair [h0, c0] of Tensors, or null', hx);
        states = [tensorArg(op, 'hx[0]', hx[0]), tensorArg(op, 'hx[1]', hx[1])];
      }
    } else {
      const h = optTensorArg(op, 'hx', hx);
      if (h) states = [h];
    }
    if (states) {
      states.forEach((s, i) => {
        const [arg, shape, last] = want[i];
        sameKind(op, arg, s, 'input', x);
        const expected = batched ? shape : [shape[0], shape[2]];
        if (fmt(s.shape) !== fmt(expected)) {
          throw shapeError(op, arg, `shape ${fmt(expected)} (numLayers·directions, ${batched ? 'N, ' : ''}${last})`, s.shape);
        }
      });
    }
    return states;
  }

  // The one native call: [output, hN] or, for an LSTM, [output, hN, cN]; x packed data when batchSizes is given.
  private run(weights: Parameter[], x: Tensor, hs: Tensor[], batchSizes: Tensor | null): Tensor[] {
    const w = weights.map((p) => p.handle);
    const args = [this.bias, this.numLayers, this.dropout, this.training, this.bidirectional, this.batchFirst, batchSizes ? batchSizes.handle : null] as const;
    return (this.mode === 'LSTM'
      ? N.rnn('lstm', x.handle, [hs[0].handle, hs[1].handle], w, ...args)
      : N.rnn(KINDS[this.mode] as 'gru' | 'rnnTanh' | 'rnnRelu', x.handle, [hs[0].handle], w, ...args)
    ).map((h) => new Tensor(h));
  }

  /**
   * The forward of RNN, LSTM and GRU: checks the input and the states, adds and removes the batch dimension of
   * unbatched input, makes zero states when none are given, and runs the one native call. Returns
   * `[output, hN]` or, for an LSTM, `[output, hN, cN]`.
   */
  protected recur(op: string, input: unknown, hx: unknown): Tensor[] {
    const weights = this.weightNames.flat().map((n) => paramByName(op, this, n));
    const x = floatArg(op, 'input', input);
    moduleKind(op, 'input', x, weights[0]);
    const bf = this.batchFirst;
    if (x.ndim !== 2 && x.ndim !== 3) throw shapeError(op, 'input', `a 3-d tensor ${bf ? '(N, L, H_in)' : '(L, N, H_in)'} or an unbatched 2-d one (L, H_in)`, x.shape);
    if (x.shape[x.ndim - 1] !== this.inputSize) throw shapeError(op, 'input', `a last dimension of ${this.inputSize} (inputSize)`, x.shape);
    const batched = x.ndim === 3;
    const batchDim = bf ? 0 : 1;
    const n = batched ? x.shape[batchDim] : 1;
    // The states' shapes (batched), each with the name of its last dimension.
    const want = this.stateShapes(n);
    const states = this.givenStates(op, hx, x, want, batched);
    return tidy(() => {
      const xb = batched ? x : x.unsqueeze(batchDim);
      const hs = states
        ? states.map((s) => (batched ? s : s.unsqueeze(1)))
        : want.map(([, shape]) => zeros(shape, { dtype: x.dtype, device: x.device }));
      const out = this.run(weights, xb, hs, null);
      return batched ? out : [out[0].squeeze(batchDim), ...out.slice(1).map((t) => t.squeeze(1))];
    });
  }

  /**
   * The forward of RNN, LSTM and GRU on a packed sequence, as PyTorch's: the states given are in the batch's
   * original order, so they are put in the packed (sorted) order with `sortedIndices` first, and the final states
   * back with `unsortedIndices`. Returns the packed output (with the input's batch sizes and permutations, its own
   * copies) and `[hN]` or, for an LSTM, `[hN, cN]`.
   */
  protected recurPacked(op: string, input: PackedSequence, hx: unknown): [PackedSequence, Tensor[]] {
    const weights = this.weightNames.flat().map((n) => paramByName(op, this, n));
    const x = floatArg(op, 'input.data', input.data);
    moduleKind(op, 'input.data', x, weights[0]);
    if (x.ndim !== 2) throw shapeError(op, 'input.data', "a 2-d tensor (sum of the lengths, H_in): a packed sequence's data", x.shape);
    if (x.shape[1] !== this.inputSize) throw shapeError(op, 'input.data', `a last dimension of ${this.inputSize} (inputSize)`, x.shape);
    const bs = input.batchSizes;
    if (bs.dtype !== 'int64' || bs.ndim !== 1 || bs.device !== 'cpu' || bs.shape[0] === 0) {
      throw new TypeError(`${op}: expected a non-empty 1-d int64 CPU tensor for input.batchSizes but received a ${bs.dtype} tensor of shape ${fmt(bs.shape)} on ${bs.device}`);
    }
    const sizes = Array.from(bs.toArray() as BigInt64Array, Number);
    const rows = sizes.reduce((a, b) => a + b, 0);
    if (sizes.some((b, i) => b < 1 || (i > 0 && b > sizes[i - 1]))) throw rangeError(op, 'input.batchSizes', 'positive, non-increasing batch sizes (a packed sequence\'s)', sizes);
    if (rows !== x.shape[0]) throw shapeError(op, 'input.data', `${rows} rows (the sum of input.batchSizes)`, x.shape);
    const want = this.stateShapes(sizes[0]);
    const states = this.givenStates(op, hx, x, want, true);
    const sorted = input.sortedIndices;
    const unsorted = input.unsortedIndices;
    const [output, ...hN] = tidy(() => {
      const hs = states
        ? states.map((s) => (sorted ? s.indexSelect(1, sorted) : s))
        : want.map(([, shape]) => zeros(shape, { dtype: x.dtype, device: x.device }));
      const [out, ...h] = this.run(weights, x, hs, bs);
      return [out, ...h.map((t) => (unsorted ? t.indexSelect(1, unsorted) : t))];
    });
    return [new PackedSequence(output, bs.clone(), sorted ? sorted.clone() : null, unsorted ? unsorted.clone() : null), hN];
  }
}

// ---------------------------------------------------------------- RNN, LSTM, GRU

/**
 * An Elman RNN (`torch.nn.RNN`, PyTorch 1.13): per layer and time step,
 * `h_t = tanh(x_t W_ihᵀ + b_ih + h_(t−1) W_hhᵀ + b_hh)` (or relu with `nonlinearity: 'relu'`). Parameters as
 * `nn.RNNBase` describes (gates 1).
 *
 * `forward(input, hx?)` takes input `(L, N, inputSize)` (`(N, L, inputSize)` with `batchFirst`) or unbatched
 * `(L, inputSize)`, and the initial state `hx` `(numLayers·directions, N, hiddenSize)` (without N for unbatched
 * input; zeros when left out). It returns `[output, hN]`: output `(L, N, directions·hiddenSize)` (batchFirst:
 * `(N, L, ...)`), the last layer's output at every step; hN the final state of every layer and direction, shaped
 * as hx.
 *
 * `input` may also be a `PackedSequence` (`nn.utils.rnn.packPaddedSequence`) of `(sum of the lengths, inputSize)`
 * data, as PyTorch's: hx is then `(numLayers·directions, N, hiddenSize)` in the batch's original order, the output
 * a PackedSequence of `(sum of the lengths, directions·hiddenSize)` data with the input's batch sizes and
 * permutations, and hN each sequence's state after its own last step, in the original order.
 *
 * ```ts
 * const rnn = new nn.RNN(10, 20, { numLayers: 2 });
 * const [output, hN] = rnn.forward(randn([5, 3, 10]), randn([2, 3, 20])); // (5, 3, 20), (2, 3, 20)
 * ```
 */
export class RNN extends RNNBase {
  /** The nonlinearity, `'tanh'` or `'relu'`. */
  readonly nonlinearity: RNNNonlinearity;

  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const op = 'RNN';
    noProjection(op, options);
    const o = knownOptions(op, options, [...BASE_OPTIONS, 'nonlinearity']);
    const nonlinearity = nonlinearityOpt(op, o.nonlinearity);
    super(op, nonlinearity === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, o);
    this.nonlinearity = nonlinearity;
  }

  /**
   * Runs the RNN over `input` from `hx` (zeros by default); returns `[output, hN]` (see the class comment). A
   * packed input gives a packed output.
   */
  forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor];
  forward(input: PackedSequence, hx?: Tensor | null): [PackedSequence, Tensor];
  forward(input: Tensor | PackedSequence, hx?: Tensor | null): [Tensor | PackedSequence, Tensor];
  forward(input: Tensor | PackedSequence, hx?: Tensor | null): [Tensor | PackedSequence, Tensor] {
    if (input instanceof PackedSequence) {
      const [output, [h]] = this.recurPacked('RNN.forward', input, hx);
      return [output, h];
    }
    const [output, h] = this.recur('RNN.forward', input, hx);
    return [output, h];
  }
}

/**
 * A long short-term memory RNN (`torch.nn.LSTM`, PyTorch 1.13): per layer and time step, gates
 * `i, f, g, o = σ, σ, tanh, σ (x_t W_ihᵀ + b_ih + h_(t−1) W_hhᵀ + b_hh)`, `c_t = f ⊙ c_(t−1) + i ⊙ g`,
 * `h_t = o ⊙ tanh(c_t)`, and with `projSize` `h_t = (o ⊙ tanh(c_t)) W_hrᵀ`. Parameters as `nn.RNNBase`
 * describes (gates 4, in PyTorch's order i, f, g, o).
 *
 * `forward(input, [h0, c0]?)` takes input `(L, N, inputSize)` (`(N, L, inputSize)` with `batchFirst`) or
 * unbatched `(L, inputSize)`; h0 `(numLayers·directions, N, h)` with h = `projSize || hiddenSize`, c0
 * `(numLayers·directions, N, hiddenSize)` (without N for unbatched input; zeros when left out). It returns
 * `[output, [hN, cN]]`: output `(L, N, directions·h)` (batchFirst: `(N, L, ...)`), hN and cN shaped as h0 and c0.
 * A `PackedSequence` input gives a packed output and each sequence's own final states, as `nn.RNN` describes.
 *
 * ```ts
 * const lstm = new nn.LSTM(10, 20, { numLayers: 2, batchFirst: true, projSize: 8 });
 * const [output, [hN, cN]] = lstm.forward(randn([3, 5, 10])); // (3, 5, 8), (2, 3, 8), (2, 3, 20)
 * const packed = nn.utils.rnn.packPaddedSequence(randn([3, 5, 10]), [5, 2, 4], { batchFirst: true, enforceSorted: false });
 * const [out, [h, c]] = lstm.forward(packed);              // out.data (11, 8); h (2, 3, 8): each sequence's last step
 * ```
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    const op = 'LSTM';
    const o = knownOptions(op, options, [...BASE_OPTIONS, 'projSize']);
    super(op, 'LSTM', inputSize, hiddenSize, o);
  }

  /**
   * Runs the LSTM over `input` from `[h0, c0]` (zeros by default); returns `[output, [hN, cN]]` (see the class
   * comment). A packed input gives a packed output.
   */
  forward(input: Tensor, hx?: [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]];
  forward(input: PackedSequence, hx?: [Tensor, Tensor] | null): [PackedSequence, [Tensor, Tensor]];
  forward(input: Tensor | PackedSequence, hx?: [Tensor, Tensor] | null): [Tensor | PackedSequence, [Tensor, Tensor]];
  forward(input: Tensor | PackedSequence, hx?: [Tensor, Tensor] | null): [Tensor | PackedSequence, [Tensor, Tensor]] {
    if (input instanceof PackedSequence) {
      const [output, [h, c]] = this.recurPacked('LSTM.forward', input, hx);
      return [output, [h, c]];
    }
    const [output, h, c] = this.recur('LSTM.forward', input, hx);
    return [output, [h, c]];
  }
}

/**
 * A gated recurrent unit RNN (`torch.nn.GRU`, PyTorch 1.13): per layer and time step,
 * `r, z = σ(x_t W_irᵀ + b_ir + h_(t−1) W_hrᵀ + b_hr), σ(...)`, `n = tanh(x_t W_inᵀ + b_in + r ⊙ (h_(t−1) W_hnᵀ + b_hn))`,
 * `h_t = (1 − z) ⊙ n + z ⊙ h_(t−1)`. Parameters as `nn.RNNBase` describes (gates 3, in PyTorch's order r, z, n).
 *
 * `forward(input, hx?)` takes and returns what `nn.RNN`'s does: `[output, hN]` (packed sequences included).
 *
 * ```ts
 * const gru = new nn.GRU(10, 20, { bidirectional: true });
 * const [output, hN] = gru.forward(randn([5, 3, 10])); // (5, 3, 40), (2, 3, 20)
 * ```
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: GRUOptions = {}) {
    const op = 'GRU';
    noProjection(op, options);
    const o = knownOptions(op, options, BASE_OPTIONS);
    super(op, 'GRU', inputSize, hiddenSize, o);
  }

  /**
   * Runs the GRU over `input` from `hx` (zeros by default); returns `[output, hN]` (see the class comment). A
   * packed input gives a packed output.
   */
  forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor];
  forward(input: PackedSequence, hx?: Tensor | null): [PackedSequence, Tensor];
  forward(input: Tensor | PackedSequence, hx?: Tensor | null): [Tensor | PackedSequence, Tensor];
  forward(input: Tensor | PackedSequence, hx?: Tensor | null): [Tensor | PackedSequence, Tensor] {
    if (input instanceof PackedSequence) {
      const [output, [h]] = this.recurPacked('GRU.forward', input, hx);
      return [output, h];
    }
    const [output, h] = this.recur('GRU.forward', input, hx);
    return [output, h];
  }
}

// ---------------------------------------------------------------- cells

// The checked arguments of a cell.
interface CellConfig {
  inputSize: number;
  hiddenSize: number;
  bias: boolean;
  gates: number;
  factory: Factory;
}

// Checks the arguments of a cell (options already checked for unknown keys).
function cellConfig(op: string, inputSize: unknown, hiddenSize: unknown, o: Record<string, unknown>, gates: number): CellConfig {
  return {
    inputSize: checkSize(op, 'inputSize', inputSize),
    hiddenSize: checkSize(op, 'hiddenSize', hiddenSize),
    bias: boolOpt(op, 'bias', o.bias, true),
    gates,
    factory: factoryOptions(op, o),
  };
}

/**
 * The base of `nn.RNNCell`, `nn.LSTMCell` and `nn.GRUCell` (`torch.nn.RNNCellBase`): one time step of one
 * layer. Parameters `weight_ih` `(gates·hiddenSize, inputSize)`, `weight_hh` `(gates·hiddenSize, hiddenSize)`
 * and, with `bias`, `bias_ih` and `bias_hh` `(gates·hiddenSize)`, gates 1, 4 or 3; every one starts uniform in
 * ±1/√hiddenSize. Not made directly: use `nn.RNNCell`, `nn.LSTMCell` or `nn.GRUCell`.
 *
 * ```ts
 * const cell = new nn.GRUCell(10, 20);
 * cell.weight_ih.shape;                // [60, 10]
 * ```
 */
export abstract class RNNCellBase extends Module {
  /** Features of the input. */
  readonly inputSize: number;
  /** Features of the hidden state (and of LSTMCell's cell state). */
  readonly hiddenSize: number;
  /** Whether the cell has biases. */
  readonly bias: boolean;
  /** Input-to-hidden weights, `(gates·hiddenSize, inputSize)`. */
  declare weight_ih: Parameter;
  /** Hidden-to-hidden weights, `(gates·hiddenSize, hiddenSize)`. */
  declare weight_hh: Parameter;
  /** Input-to-hidden bias, `(gates·hiddenSize)`, or null with `bias: false`. */
  declare bias_ih: Parameter | null;
  /** Hidden-to-hidden bias, `(gates·hiddenSize)`, or null with `bias: false`. */
  declare bias_hh: Parameter | null;

  /**
   * Checks the arguments (`options` already checked for unknown keys), registers the parameters of `gateCount`
   * gates and initialises them (called by the cells).
   */
  protected constructor(op: string, inSize: number, hidden: number, options: Record<string, unknown>, gateCount: number) {
    const config = cellConfig(op, inSize, hidden, options, gateCount);
    super();
    const { inputSize, hiddenSize, bias, gates, factory } = config;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.bias = bias;
    const g = gates * hiddenSize;
    try {
      this.registerParameter('weight_ih', tidy(() => new Parameter(zeros([g, inputSize], factory))));
      this.registerParameter('weight_hh', tidy(() => new Parameter(zeros([g, hiddenSize], factory))));
      this.registerParameter('bias_ih', bias ? tidy(() => new Parameter(zeros([g], factory))) : null);
      this.registerParameter('bias_hh', bias ? tidy(() => new Parameter(zeros([g], factory))) : null);
      this.resetParameters();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** PyTorch's initialisation again: every parameter uniform in ±1/√hiddenSize, in registration order. */
  resetParameters(): this {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    for (const p of [this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh]) if (p) uniform_(p, -stdv, stdv);
    return this;
  }

  /**
   * One step of the cells: checks the input and the states, adds and removes the batch dimension of unbatched
   * input, makes zero states when none are given, and runs the native cell. Returns `[h']` or, for the LSTM
   * cell, `[h', c']`.
   */
  protected step(op: string, kind: 'lstm' | 'gru' | 'rnnTanh' | 'rnnRelu', input: unknown, hx: unknown): Tensor[] {
    const isLSTM = kind === 'lstm';
    const wIh = paramByName(op, this, 'weight_ih');
    const wHh = paramByName(op, this, 'weight_hh');
    const x = floatArg(op, 'input', input);
    moduleKind(op, 'input', x, wIh);
    if (x.ndim !== 1 && x.ndim !== 2) throw shapeError(op, 'input', 'a 2-d tensor (N, inputSize) or an unbatched 1-d one (inputSize)', x.shape);
    if (x.shape[x.ndim - 1] !== this.inputSize) throw shapeError(op, 'input', `a last dimension of ${this.inputSize} (inputSize)`, x.shape);
    const batched = x.ndim === 2;
    const want = batched ? [x.shape[0], this.hiddenSize] : [this.hiddenSize];
    let states: [string, Tensor][] | null = null;
    if (isLSTM) {
      if (hx !== undefined && hx !== null) {
        if (!Array.isArray(hx) || hx.length !== 2) throw typeError(op, 'hx', 'a pair [h, c] of Tensors, or null', hx);
        states = [['hx[0]', tensorArg(op, 'hx[0]', hx[0])], ['hx[1]', tensorArg(op, 'hx[1]', hx[1])]];
      }
    } else {
      const h = optTensorArg(op, 'hx', hx);
      if (h) states = [['hx', h]];
    }
    for (const [arg, s] of states ?? []) {
      sameKind(op, arg, s, 'input', x);
      if (fmt(s.shape) !== fmt(want)) throw shapeError(op, arg, `shape ${fmt(want)} (${batched ? 'N, ' : ''}hiddenSize)`, s.shape);
    }
    return tidy(() => {
      const xb = batched ? x : x.unsqueeze(0);
      const hs = states
        ? states.map(([, s]) => (batched ? s : s.unsqueeze(0)))
        : Array.from({ length: isLSTM ? 2 : 1 }, () => zeros([xb.shape[0], this.hiddenSize], { dtype: x.dtype, device: x.device }));
      const bIh = this.bias_ih ? this.bias_ih.handle : null;
      const bHh = this.bias_hh ? this.bias_hh.handle : null;
      const out = isLSTM
        ? N.rnnCell('lstm', xb.handle, [hs[0].handle, hs[1].handle], wIh.handle, wHh.handle, bIh, bHh).map((h) => new Tensor(h))
        : [new Tensor(N.rnnCell(kind as 'gru' | 'rnnTanh' | 'rnnRelu', xb.handle, [hs[0].handle], wIh.handle, wHh.handle, bIh, bHh))];
      return batched ? out : out.map((t) => t.squeeze(0));
    });
  }
}

/**
 * An Elman RNN cell (`torch.nn.RNNCell`): `h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)` (or relu with
 * `nonlinearity: 'relu'`). `forward(input, hx?)` takes input `(N, inputSize)` or unbatched `(inputSize)` and hx
 * `(N, hiddenSize)` (or `(hiddenSize)`; zeros when left out), and returns h' shaped as hx.
 *
 * ```ts
 * const cell = new nn.RNNCell(10, 20);
 * let h = zeros([3, 20]);
 * for (const x of randn([6, 3, 10]).unbind(0)) h = cell.forward(x, h); // (3, 20)
 * ```
 */
export class RNNCell extends RNNCellBase {
  /** The nonlinearity, `'tanh'` or `'relu'`. */
  readonly nonlinearity: RNNNonlinearity;

  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    const op = 'RNNCell';
    const o = knownOptions(op, options, [...CELL_OPTIONS, 'nonlinearity']);
    const nonlinearity = nonlinearityOpt(op, o.nonlinearity);
    super(op, inputSize, hiddenSize, o, 1);
    this.nonlinearity = nonlinearity;
  }

  /** One step from `hx` (zeros by default); returns h'. */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this.step('RNNCell.forward', this.nonlinearity === 'tanh' ? 'rnnTanh' : 'rnnRelu', input, hx)[0];
  }
}

/**
 * A long short-term memory cell (`torch.nn.LSTMCell`): the gates i, f, g, o of `nn.LSTM` for one step.
 * `forward(input, [h, c]?)` takes input `(N, inputSize)` or unbatched `(inputSize)` and h, c `(N, hiddenSize)`
 * (or `(hiddenSize)`; zeros when left out), and returns `[h', c']`.
 *
 * ```ts
 * const cell = new nn.LSTMCell(10, 20);
 * const [h, c] = cell.forward(randn([3, 10]));             // (3, 20), (3, 20)
 * const [h2, c2] = cell.forward(randn([3, 10]), [h, c]);
 * ```
 */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: LSTMCellOptions = {}) {
    const op = 'LSTMCell';
    const o = knownOptions(op, options, CELL_OPTIONS);
    super(op, inputSize, hiddenSize, o, 4);
  }

  /** One step from `[h, c]` (zeros by default); returns `[h', c']`. */
  forward(input: Tensor, hx?: [Tensor, Tensor] | null): [Tensor, Tensor] {
    const [h, c] = this.step('LSTMCell.forward', 'lstm', input, hx);
    return [h, c];
  }
}

/**
 * A gated recurrent unit cell (`torch.nn.GRUCell`): the gates r, z, n of `nn.GRU` for one step.
 * `forward(input, hx?)` takes input `(N, inputSize)` or unbatched `(inputSize)` and hx `(N, hiddenSize)` (or
 * `(hiddenSize)`; zeros when left out), and returns h'.
 *
 * ```ts
 * const cell = new nn.GRUCell(10, 20);
 * const h = cell.forward(randn([3, 10]));                   // (3, 20)
 * ```
 */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: GRUCellOptions = {}) {
    const op = 'GRUCell';
    const o = knownOptions(op, options, CELL_OPTIONS);
    super(op, inputSize, hiddenSize, o, 3);
  }

  /** One step from `hx` (zeros by default); returns h'. */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this.step('GRUCell.forward', 'gru', input, hx)[0];
  }
}
