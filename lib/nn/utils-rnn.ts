/**
 * Packed sequences (`torch.nn.utils.rnn`, PyTorch 1.13): `PackedSequence`, `packPaddedSequence`,
 * `padPackedSequence`, `padSequence`, `unpadSequence`, `packSequence`, `unpackSequence` and `invertPermutation`.
 *
 * A packed sequence holds a batch of sequences of different lengths without their padding: `data` is
 * `(sum of the lengths, *)`, time step by time step, and at each step only the sequences still running, longest
 * first; `batchSizes` says how many run at each step. `nn.RNN`, `nn.LSTM` and `nn.GRU` take one as input and give
 * one as output, so no step is computed on padding and every final state is that of its sequence's last step.
 *
 * Ownership: a `PackedSequence` owns its tensors. It is disposed as a whole (`dispose()`, `using`, or a `tidy`
 * scope: returned from one it moves to the enclosing scope, as a tensor does; otherwise the scope disposes it),
 * and the constructor takes the tensors it is given out of every `tidy` scope. Functions that make one from another
 * (`to`, the recurrent layers' output) give it its own copies of the small index tensors.
 */
import { arange, stack, tensor, zeros } from '../creation';
import type { Device, DType } from '../dtype';
import { native } from '../native';
import { keep, tidy, track } from '../scope';
import { Tensor, type ToOptions } from '../tensor';
import { checkInt, knownOptions, typeError } from '../validate';
import { boolOpt, fmt, shapeError, tensorArg } from './checks';

const N = native();

// Integer dtypes a lengths tensor may have.
const INTS: readonly DType[] = ['int64', 'int32', 'int16', 'int8', 'uint8'];

// A 1-d int64 tensor argument (batch sizes, a permutation); `cpu` asks it on the CPU.
function indexTensor(op: string, arg: string, v: unknown, cpu: boolean): Tensor {
  const t = tensorArg(op, arg, v);
  const where = cpu ? ' CPU' : '';
  if (t.dtype !== 'int64' || t.ndim !== 1) throw new TypeError(`${op}: expected a 1-d int64${where} tensor for ${arg} but received a ${t.dtype} tensor of shape ${fmt(t.shape)}`);
  if (cpu && t.device !== 'cpu') throw new TypeError(`${op}: expected ${arg} on the CPU (a packed sequence's batch sizes always are) but received one on ${t.device}`);
  return t;
}

// A padding value: any number (±Infinity and NaN included: a mask may pad with -Infinity).
function paddingValueOpt(op: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number') throw typeError(op, 'paddingValue', 'a number', v);
  return v;
}

/**
 * The lengths argument as numbers: an array of integers or a 1-d integer CPU tensor, one per sequence (`count`),
 * each in [min, max].
 */
function lengthsArg(op: string, lengths: unknown, count: number, min: number, max: number, what: string): number[] {
  const expected = 'an array of integers or a 1-d integer CPU Tensor';
  let lens: number[];
  if (lengths instanceof Tensor) {
    if (!INTS.includes(lengths.dtype) || lengths.ndim !== 1) throw new TypeError(`${op}: expected ${expected} for lengths but received a ${lengths.dtype} tensor of shape ${fmt(lengths.shape)}`);
    if (lengths.device !== 'cpu') throw new TypeError(`${op}: expected lengths on the CPU but received a tensor on ${lengths.device}`);
    lens = Array.from(lengths.toArray() as ArrayLike<number | bigint>, Number);
  } else if (Array.isArray(lengths)) {
    lens = lengths.map((l, i) => {
      if (typeof l !== 'number' || !Number.isInteger(l)) throw typeError(op, `lengths[${i}]`, 'an integer', l);
      return l;
    });
  } else {
    throw typeError(op, 'lengths', expected, lengths);
  }
  if (lens.length !== count) throw new RangeError(`${op}: expected ${count} lengths (one per sequence of ${what}) but received ${lens.length}`);
  lens.forEach((l, i) => {
    if (l < min || l > max) throw new RangeError(`${op}: expected every length in [${min}, ${max}] (${max} is the padded length of ${what}) but lengths[${i}] is ${l}`);
  });
  return lens;
}

// ---------------------------------------------------------------- PackedSequence

/**
 * A batch of variable-length sequences packed without their padding (`torch.nn.utils.rnn.PackedSequence`, a
 * namedtuple in PyTorch: its fields in the same order, `const [data, batchSizes] = packed` works too).
 * Made by `packPaddedSequence` or `packSequence`, taken and given by `nn.RNN`, `nn.LSTM` and `nn.GRU`, read back
 * by `padPackedSequence` or `unpackSequence`; not usually made directly.
 *
 * - `data` `(sum of the lengths, *)`: step 0 of every sequence, then step 1 of those at least 2 long, ...; within
 *   a step the sequences are in order of decreasing length (any device and dtype).
 * - `batchSizes`: how many sequences run at each step (a 1-d int64 CPU tensor, non-increasing; its length is the
 *   longest sequence's).
 * - `sortedIndices`: for a batch that was sorted by length (`enforceSorted: false`), the original index of each
 *   sorted sequence; null when the batch came sorted.
 * - `unsortedIndices`: the inverse permutation, which puts results back in the original order; null likewise.
 *
 * A PackedSequence owns its four tensors: `dispose()` frees them, and a `tidy` scope treats it as one tensor (see
 * the file comment).
 *
 * ```ts
 * const padded = tensor([[1, 2, 3], [4, 5, 0]]);           // batchFirst, lengths 3 and 2
 * const packed = nn.utils.rnn.packPaddedSequence(padded, [3, 2], { batchFirst: true });
 * packed.data.toNested();                                   // [1, 4, 2, 5, 3]
 * packed.batchSizes.toNested();                             // [2, 2, 1]
 * ```
 */
export class PackedSequence {
  /** The packed values, `(sum of the lengths, *)`. */
  readonly data: Tensor;
  /** Sequences running at each time step (1-d int64, on the CPU). */
  readonly batchSizes: Tensor;
  /** The original index of each sequence in sorted order (int64, on data's device), or null. */
  readonly sortedIndices: Tensor | null;
  /** The inverse of `sortedIndices` (int64, on data's device), or null. */
  readonly unsortedIndices: Tensor | null;

  /**
   * Wraps `data` and `batchSizes` (and the permutations; `unsortedIndices` is computed from `sortedIndices` when
   * left out), taking ownership of them: they leave every `tidy` scope, and the PackedSequence joins the innermost.
   * As PyTorch's, it does not check that they describe a valid packing (`padPackedSequence` and the recurrent layers do).
   */
  constructor(data: Tensor, batchSizes: Tensor, sortedIndices: Tensor | null = null, unsortedIndices: Tensor | null = null) {
    const op = 'PackedSequence';
    tensorArg(op, 'data', data);
    indexTensor(op, 'batchSizes', batchSizes, true);
    if (sortedIndices !== null && sortedIndices !== undefined) indexTensor(op, 'sortedIndices', sortedIndices, false);
    if (unsortedIndices !== null && unsortedIndices !== undefined) indexTensor(op, 'unsortedIndices', unsortedIndices, false);
    const unsorted = unsortedIndices ?? invertPermutation(sortedIndices ?? null);
    this.data = keep(data);
    this.batchSizes = keep(batchSizes);
    this.sortedIndices = sortedIndices ? keep(sortedIndices) : null;
    this.unsortedIndices = unsorted ? keep(unsorted) : null;
    track(this);
  }

  /** True once `dispose()` has run (or `data` was disposed). */
  get isDisposed(): boolean {
    return this.data.isDisposed;
  }

  /** Frees the four tensors now. Idempotent. */
  dispose(): void {
    for (const t of [this.data, this.batchSizes, this.sortedIndices, this.unsortedIndices]) t?.dispose();
  }

  /** `using packed = ...` support. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The fields in PyTorch's namedtuple order: `const [data, batchSizes, sortedIndices, unsortedIndices] = packed`. */
  *[Symbol.iterator](): IterableIterator<Tensor | null> {
    yield this.data;
    yield this.batchSizes;
    yield this.sortedIndices;
    yield this.unsortedIndices;
  }

  /** True when `data` is on a CUDA device. */
  get isCuda(): boolean {
    return this.data.device.startsWith('cuda');
  }

  /**
   * Converts `data`'s dtype and/or device (`Tensor.to`'s argument); the permutations follow data's device and
   * `batchSizes` stays on the CPU. As PyTorch's, returns this PackedSequence itself when data already has that
   * dtype and device (and no `copy` is asked), else a new one with its own tensors.
   */
  to(target: DType | Device | string | ToOptions): PackedSequence {
    const data = this.data.to(target);
    const copy = typeof target === 'object' && target !== null && target.copy === true;
    if (!copy && data.dtype === this.data.dtype && data.device === this.data.device) {
      data.dispose();
      return this;
    }
    const follow = (t: Tensor | null) => (t ? t.to({ device: data.device, copy: true }) : null);
    return new PackedSequence(data, this.batchSizes.clone(), follow(this.sortedIndices), follow(this.unsortedIndices));
  }

  /** `to({ device: 'cpu' })`. */
  cpu(): PackedSequence {
    return this.to({ device: 'cpu' });
  }

  /** `to({ device })` (default `'cuda'`). */
  cuda(device: Device = 'cuda'): PackedSequence {
    return this.to({ device });
  }

  /** `to('float64')`. */
  double(): PackedSequence {
    return this.to('float64');
  }

  /** `to('float32')`. */
  float(): PackedSequence {
    return this.to('float32');
  }

  /** `to('float16')`. */
  half(): PackedSequence {
    return this.to('float16');
  }
}

// ---------------------------------------------------------------- functions

/**
 * The inverse of a permutation (`torch.nn.utils.rnn.invert_permutation`): `out[permutation[i]] = i`; null for null.
 *
 * ```ts
 * nn.utils.rnn.invertPermutation(tensor([2n, 0n, 1n]))?.toNested(); // [1, 2, 0]
 * ```
 */
export function invertPermutation(permutation: Tensor | null): Tensor | null {
  if (permutation === null || permutation === undefined) return null;
  const p = indexTensor('invertPermutation', 'permutation', permutation, false);
  return tidy(() => zeros(p.shape, { dtype: 'int64', device: p.device }).scatter_(0, p, arange(0, p.shape[0], 1, { dtype: 'int64', device: p.device })));
}

/** Options of `packPaddedSequence`. */
export interface PackPaddedSequenceOptions {
  /** The input is `(B, T, *)` instead of `(T, B, *)` (default false). */
  batchFirst?: boolean;
  /**
   * The sequences come sorted by decreasing length, and unsorted lengths are an error (default true). With false
   * the batch is sorted here and the PackedSequence keeps the permutation, so `padPackedSequence` and the recurrent
   * layers' final states give the original order back.
   */
  enforceSorted?: boolean;
}

// packPaddedSequence's work (also packSequence's, under its own name): lengths already checked.
function pack(op: string, x: Tensor, lens: number[], batchFirst: boolean, enforceSorted: boolean): PackedSequence {
  if (enforceSorted) {
    for (let i = 1; i < lens.length; i++) {
      if (lens[i] > lens[i - 1]) {
        throw new RangeError(
          `${op}: expected lengths sorted in decreasing order when enforceSorted is true, but lengths[${i}] (${lens[i]}) > lengths[${i - 1}] (${lens[i - 1]}); pass enforceSorted: false to have the batch sorted (and the results put back in its order)`,
        );
      }
    }
  }
  const [data, batchSizes, sortedIndices] = tidy(() => {
    let lengths = tensor(BigInt64Array.from(lens, (l) => BigInt(l)));
    let input = x;
    let sorted: Tensor | null = null;
    if (!enforceSorted) {
      const [values, indices] = lengths.sort(0, true); // torch.sort(lengths, descending=True), as PyTorch
      lengths = values;
      sorted = indices.to(x.device);
      input = x.indexSelect(batchFirst ? 0 : 1, sorted);
    }
    const [d, b] = N.packPaddedSequence(input.handle, lengths.handle, batchFirst).map((h) => new Tensor(h));
    return [d, b, sorted] as const;
  });
  return new PackedSequence(data, batchSizes, sortedIndices);
}

/**
 * Packs a padded batch of sequences (`torch.nn.utils.rnn.pack_padded_sequence`). `input` is `(T, B, *)`
 * (`batchFirst`: `(B, T, *)`), any dtype, with sequence b in its first `lengths[b]` steps (each length in [1, T]);
 * `lengths` is an array of integers or a 1-d integer CPU tensor. Gradients flow back to `input`.
 *
 * ```ts
 * const x = randn([3, 5, 10]);                              // batchFirst: 3 sequences, padded to 5 steps
 * const packed = nn.utils.rnn.packPaddedSequence(x, [2, 5, 3], { batchFirst: true, enforceSorted: false });
 * packed.data.shape;                                        // [10, 10]: 2 + 5 + 3 steps
 * const [out, [hN, cN]] = new nn.LSTM(10, 20).forward(packed);
 * const [padded, lengths] = nn.utils.rnn.padPackedSequence(out, { batchFirst: true }); // (3, 5, 20), [2, 5, 3]
 * ```
 */
export function packPaddedSequence(input: Tensor, lengths: number[] | Tensor, options: PackPaddedSequenceOptions = {}): PackedSequence {
  const op = 'packPaddedSequence';
  const x = tensorArg(op, 'input', input);
  const o = knownOptions(op, options, ['batchFirst', 'enforceSorted']);
  const batchFirst = boolOpt(op, 'batchFirst', o.batchFirst, false);
  const enforceSorted = boolOpt(op, 'enforceSorted', o.enforceSorted, true);
  if (x.ndim < 2) throw shapeError(op, 'input', `at least 2 dimensions ${batchFirst ? '(B, T, *)' : '(T, B, *)'}`, x.shape);
  const [B, T] = batchFirst ? [x.shape[0], x.shape[1]] : [x.shape[1], x.shape[0]];
  return pack(op, x, lengthsArg(op, lengths, B, 1, T, 'input'), batchFirst, enforceSorted);
}

/** Options of `padPackedSequence`. */
export interface PadPackedSequenceOptions {
  /** Return `(B, T, *)` instead of `(T, B, *)` (default false). */
  batchFirst?: boolean;
  /** The value of the padding (default 0). */
  paddingValue?: number;
  /** Pad to this many steps instead of the longest sequence's (at least that; null or left out: the longest). */
  totalLength?: number | null;
}

/**
 * Pads a packed batch back (`torch.nn.utils.rnn.pad_packed_sequence`), the inverse of `packPaddedSequence`.
 * Returns `[padded, lengths]`: padded `(T, B, *)` (`batchFirst`: `(B, T, *)`; T the longest length or
 * `totalLength`), lengths a 1-d int64 CPU tensor; both in the batch's original order (`unsortedIndices`).
 * Gradients flow back to the sequence's data.
 *
 * ```ts
 * const packed = nn.utils.rnn.packSequence([tensor([1, 2, 3]), tensor([4, 5])]);
 * const [padded, lengths] = nn.utils.rnn.padPackedSequence(packed, { batchFirst: true, totalLength: 4 });
 * padded.toNested();                                        // [[1, 2, 3, 0], [4, 5, 0, 0]]
 * lengths.toNested();                                       // [3, 2]
 * ```
 */
export function padPackedSequence(sequence: PackedSequence, options: PadPackedSequenceOptions = {}): [Tensor, Tensor] {
  const op = 'padPackedSequence';
  if (!(sequence instanceof PackedSequence)) throw typeError(op, 'sequence', 'a PackedSequence', sequence);
  const o = knownOptions(op, options, ['batchFirst', 'paddingValue', 'totalLength']);
  const batchFirst = boolOpt(op, 'batchFirst', o.batchFirst, false);
  const paddingValue = paddingValueOpt(op, o.paddingValue);
  const longest = sequence.batchSizes.shape[0];
  let total = longest;
  if (o.totalLength !== undefined && o.totalLength !== null) {
    total = checkInt(op, 'totalLength', o.totalLength);
    if (total < longest) {
      throw new RangeError(`${op}: expected totalLength to be at least the length of the longest sequence (${longest}) but received ${total}`);
    }
  }
  return tidy(() => {
    const [padded, lengths] = N.padPackedSequence(sequence.data.handle, sequence.batchSizes.handle, batchFirst, paddingValue, total).map((h) => new Tensor(h));
    const unsorted = sequence.unsortedIndices;
    if (!unsorted) return [padded, lengths] as [Tensor, Tensor];
    return [padded.indexSelect(batchFirst ? 0 : 1, unsorted), lengths.indexSelect(0, unsorted.cpu())] as [Tensor, Tensor];
  });
}

/** Options of `padSequence`. */
export interface PadSequenceOptions {
  /** Return `(B, T, *)` instead of `(T, B, *)` (default false). */
  batchFirst?: boolean;
  /** The value of the padding (default 0). */
  paddingValue?: number;
}

// A list of sequences: an array of Tensors of one dtype and device, each at least 1-d, with the same trailing
// dimensions; at least one.
function sequencesArg(op: string, sequences: unknown): Tensor[] {
  if (!Array.isArray(sequences)) throw typeError(op, 'sequences', 'an array of Tensors', sequences);
  if (sequences.length === 0) throw new RangeError(`${op}: expected at least one sequence but received an empty array`);
  const first = tensorArg(op, 'sequences[0]', sequences[0]);
  if (first.ndim < 1) throw shapeError(op, 'sequences[0]', 'at least 1 dimension (L, *)', first.shape);
  const trailing = first.shape.slice(1).join(', ');
  sequences.forEach((s, i) => {
    const t = tensorArg(op, `sequences[${i}]`, s);
    if (t.ndim < 1 || t.shape.slice(1).join(', ') !== trailing) {
      throw shapeError(op, `sequences[${i}]`, `shape (L${trailing ? `, ${trailing}` : ''}) (the trailing dimensions of sequences[0])`, t.shape);
    }
    if (t.dtype !== first.dtype) throw new TypeError(`${op}: expected sequences[${i}] of sequences[0]'s dtype ${first.dtype} but received ${t.dtype}`);
    if (t.device !== first.device) throw new TypeError(`${op}: expected sequences[${i}] on sequences[0]'s device ${first.device} but received one on ${t.device}`);
  });
  return sequences as Tensor[];
}

// padSequence's work: sequences already checked.
function pad(sequences: Tensor[], batchFirst: boolean, paddingValue: number): Tensor {
  return tidy(() => {
    const longest = Math.max(...sequences.map((s) => s.shape[0]));
    const trailing = new Array<number>(2 * (sequences[0].ndim - 1)).fill(0);
    return stack(sequences.map((s) => s.pad([...trailing, 0, longest - s.shape[0]], paddingValue)), batchFirst ? 0 : 1);
  });
}

/**
 * Pads sequences of different lengths into one tensor (`torch.nn.utils.rnn.pad_sequence`): each `(L_i, *)` (one
 * dtype and device, the same trailing dimensions) is padded with `paddingValue` to the longest length T and
 * stacked into `(T, B, *)` (`batchFirst`: `(B, T, *)`). A Tensor stands for its slices along dimension 0.
 * Gradients flow back to the sequences.
 *
 * ```ts
 * nn.utils.rnn.padSequence([ones([3]), ones([1])], { batchFirst: true }).toNested(); // [[1, 1, 1], [1, 0, 0]]
 * ```
 */
export function padSequence(sequences: Tensor[] | Tensor, options: PadSequenceOptions = {}): Tensor {
  const op = 'padSequence';
  const o = knownOptions(op, options, ['batchFirst', 'paddingValue']);
  const batchFirst = boolOpt(op, 'batchFirst', o.batchFirst, false);
  const paddingValue = paddingValueOpt(op, o.paddingValue);
  if (sequences instanceof Tensor) {
    if (sequences.ndim < 1) throw shapeError(op, 'sequences', 'at least 1 dimension (B, L, *)', sequences.shape);
    return tidy(() => pad(sequencesArg(op, sequences.unbind(0)), batchFirst, paddingValue));
  }
  return pad(sequencesArg(op, sequences), batchFirst, paddingValue);
}

/** Options of `unpadSequence`. */
export interface UnpadSequenceOptions {
  /** The padded batch is `(B, T, *)` instead of `(T, B, *)` (default false). */
  batchFirst?: boolean;
}

/**
 * Splits a padded batch into its sequences (`torch.nn.utils.rnn.unpad_sequence`), the inverse of `padSequence`:
 * sequence b is the first `lengths[b]` steps of batch entry b, a `(lengths[b], *)` copy. `paddedSequences` is
 * `(T, B, *)` (`batchFirst`: `(B, T, *)`); `lengths` an array of integers or a 1-d integer CPU tensor, each in
 * [0, T]. Unlike PyTorch 1.13's, it leaves `paddedSequences` untransposed. Gradients flow back to it.
 *
 * ```ts
 * const padded = nn.utils.rnn.padSequence([tensor([1, 2, 3]), tensor([4])]);
 * nn.utils.rnn.unpadSequence(padded, [3, 1]).map((t) => t.toNested()); // [[1, 2, 3], [4]]
 * ```
 */
export function unpadSequence(paddedSequences: Tensor, lengths: number[] | Tensor, options: UnpadSequenceOptions = {}): Tensor[] {
  const op = 'unpadSequence';
  const x = tensorArg(op, 'paddedSequences', paddedSequences);
  const o = knownOptions(op, options, ['batchFirst']);
  const batchFirst = boolOpt(op, 'batchFirst', o.batchFirst, false);
  if (x.ndim < 2) throw shapeError(op, 'paddedSequences', `at least 2 dimensions ${batchFirst ? '(B, T, *)' : '(T, B, *)'}`, x.shape);
  const [B, T] = batchFirst ? [x.shape[0], x.shape[1]] : [x.shape[1], x.shape[0]];
  const lens = lengthsArg(op, lengths, B, 0, T, 'paddedSequences');
  return tidy(() => lens.map((l, b) => x.select(batchFirst ? 0 : 1, b).narrow(0, 0, l).clone()));
}

/** Options of `packSequence`. */
export interface PackSequenceOptions {
  /** The sequences come sorted by decreasing length, and unsorted ones are an error (default true; see `packPaddedSequence`). */
  enforceSorted?: boolean;
}

/**
 * Packs a list of sequences of different lengths (`torch.nn.utils.rnn.pack_sequence`): `padSequence` then
 * `packPaddedSequence`. Each sequence is `(L_i, *)`, L_i ≥ 1, one dtype and device, the same trailing dimensions.
 *
 * ```ts
 * const packed = nn.utils.rnn.packSequence([tensor([4, 5]), tensor([1, 2, 3]), tensor([6])], { enforceSorted: false });
 * packed.data.toNested();                                   // [1, 4, 6, 2, 5, 3]
 * packed.sortedIndices?.toNested();                         // [1, 0, 2]
 * ```
 */
export function packSequence(sequences: Tensor[], options: PackSequenceOptions = {}): PackedSequence {
  const op = 'packSequence';
  const o = knownOptions(op, options, ['enforceSorted']);
  const enforceSorted = boolOpt(op, 'enforceSorted', o.enforceSorted, true);
  const seqs = sequencesArg(op, sequences);
  const lens = seqs.map((s) => s.shape[0]);
  lens.forEach((l, i) => {
    if (l < 1) throw shapeError(op, `sequences[${i}]`, 'at least one step (a length of 0 cannot be packed)', seqs[i].shape);
  });
  const padded = pad(seqs, false, 0);
  try {
    return pack(op, padded, lens, false, enforceSorted);
  } finally {
    padded.dispose();
  }
}

/**
 * Unpacks a packed batch into its sequences (`torch.nn.utils.rnn.unpack_sequence`), the inverse of
 * `packSequence`: `(L_i, *)` tensors in the batch's original order. Gradients flow back to the packed data.
 *
 * ```ts
 * const packed = nn.utils.rnn.packSequence([tensor([1, 2, 3]), tensor([4, 5])]);
 * nn.utils.rnn.unpackSequence(packed).map((t) => t.toNested()); // [[1, 2, 3], [4, 5]]
 * ```
 */
export function unpackSequence(packedSequences: PackedSequence): Tensor[] {
  const op = 'unpackSequence';
  if (!(packedSequences instanceof PackedSequence)) throw typeError(op, 'packedSequences', 'a PackedSequence', packedSequences);
  return tidy(() => {
    const [padded, lengths] = padPackedSequence(packedSequences, { batchFirst: true });
    return unpadSequence(padded, lengths, { batchFirst: true });
  });
}
