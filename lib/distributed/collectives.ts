/**
 * Collectives over a process group (PyTorch's `torch.distributed.all_reduce`, `broadcast`, `all_gather`,
 * `barrier`, and for plain JS values `broadcast_object_list` and `all_gather_object`). Each is called by every process of the group, in the same order, and resolves when it is done
 * on this process; tensors are changed in place. They run off the event loop, on the training thread after
 * the training steps queued before them, and are refused while another collective or a training step uses
 * the same group (await it first).
 */
import { deserialize, serialize } from 'v8';
import { native } from '../native';
import { Tensor } from '../tensor';
import { typeError, checkInt, checkOneOf, rangeError } from '../validate';
import { resolveGroup, type ProcessGroup } from './process-group';

const N = native();

/** How `allReduce` combines the processes' values ('avg': the mean, for floating-point tensors). */
export type ReduceOp = 'sum' | 'avg' | 'product' | 'min' | 'max';

// One tensor or a list of them (a list is exchanged in as few flat buffers as possible).
function tensorsOf(op: string, t: Tensor | Tensor[]): Tensor[] {
  const list = Array.isArray(t) ? t : [t];
  list.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw typeError(op, Array.isArray(t) ? `tensor[${i}]` : 'tensor', 'a Tensor', x);
  });
  return list;
}

/** Reduces `tensor` (or each tensor of a list) over the group, in place, with `op` (default 'sum'). */
export async function allReduce(tensor: Tensor | Tensor[], op: ReduceOp = 'sum', group?: ProcessGroup): Promise<void> {
  const ts = tensorsOf('allReduce', tensor);
  checkOneOf('allReduce', 'op', op, ['sum', 'avg', 'product', 'min', 'max']);
  const g = resolveGroup('allReduce', group);
  await N.allReduce(g.handle, ts.map((t) => t.handle), op);
}

/** Copies rank `src`'s `tensor` (or list of tensors) into every other process's, in place. */
export async function broadcast(tensor: Tensor | Tensor[], src: number, group?: ProcessGroup): Promise<void> {
  const ts = tensorsOf('broadcast', tensor);
  checkInt('broadcast', 'src', src, 0);
  const g = resolveGroup('broadcast', group);
  await N.broadcast(g.handle, ts.map((t) => t.handle), src);
}

/** Every process's `tensor` (each of the same shape and dtype), in rank order. */
export async function allGather(tensor: Tensor, group?: ProcessGroup): Promise<Tensor[]> {
  if (!(tensor instanceof Tensor)) throw typeError('allGather', 'tensor', 'a Tensor', tensor);
  const g = resolveGroup('allGather', group);
  return (await N.allGather(g.handle, tensor.handle)).map((h) => new Tensor(h));
}

/** Resolves when every process of the group has called it. */
export async function barrier(group?: ProcessGroup): Promise<void> {
  const g = resolveGroup('barrier', group);
  await N.barrier(g.handle);
}

// A value's bytes for the object collectives (Node's structured serializer, the format of `v8.serialize`), or
// the error that says why it has none. The processes first exchange their byte counts, so one whose value
// cannot be sent makes every process fail with the same error, instead of leaving the others waiting.
function bytesOf(op: string, what: string, value: unknown): Buffer | TypeError {
  try {
    return serialize(value);
  } catch (e) {
    return typeError(op, what, `plain data that structuredClone copies (${(e as Error).message})`, value);
  }
}

// The error every process raises when `rank`'s value could not be serialized (`own`: this process's error).
function unsendable(op: string, rank: number, own: Buffer | TypeError | null): TypeError {
  return own instanceof TypeError ? own : new TypeError(`${op}: rank ${rank}'s value cannot be sent (not plain data that structuredClone copies); see the error on that process`);
}

// A 1-d uint8 CPU tensor holding a copy of `bytes`, zero-padded to `length`.
function byteTensor(bytes: Uint8Array, length: number): Tensor {
  const padded = new Uint8Array(length);
  padded.set(bytes);
  return new Tensor(N.fromTypedArray(padded, [length], 'uint8', 'cpu', false));
}

// A copy of a 1-d uint8 CPU tensor's bytes.
function bufferOf(t: Tensor): Buffer {
  const a = t.toArray() as Uint8Array;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

// Each of `values` maximised over the group (one all-reduce of an int64 CPU tensor).
async function int64Max(g: ProcessGroup, values: number[]): Promise<number[]> {
  const t = new Tensor(N.fromTypedArray(BigInt64Array.from(values, BigInt), [values.length], 'int64', 'cpu', false));
  try {
    await N.allReduce(g.handle, [t.handle], 'max');
    return Array.from(t.toArray() as BigInt64Array, Number);
  } finally {
    t.dispose();
  }
}

/**
 * Replaces the items of `objectList` on every process with those of rank `src`'s list (PyTorch's
 * `broadcast_object_list`). Every process passes a list of the same length. The items are plain data, sent
 * with Node's structured serializer (what `structuredClone` copies: objects, arrays, Maps, Sets, Dates,
 * typed arrays, bigints, ...; class instances arrive as plain objects, so send tensors with `broadcast`).
 */
export async function broadcastObjectList(objectList: unknown[], src = 0, group?: ProcessGroup): Promise<void> {
  if (!Array.isArray(objectList)) throw typeError('broadcastObjectList', 'objectList', 'an array', objectList);
  checkInt('broadcastObjectList', 'src', src, 0);
  const g = resolveGroup('broadcastObjectList', group);
  if (src >= g.size()) throw rangeError('broadcastObjectList', 'src', `a rank of the group, in [0, ${g.size()})`, src);
  const mine = g.rank() === src ? bytesOf('broadcastObjectList', 'objectList', objectList) : null;
  // One small all-reduce gives every process the byte count (-1: src cannot send its list) and checks that
  // the lists have one length.
  const n = objectList.length;
  const [bytes, longest, minusShortest, failed] = await int64Max(g, [mine instanceof Buffer ? mine.length : 0, n, -n, mine instanceof TypeError ? 1 : 0]);
  if (failed) throw unsendable('broadcastObjectList', src, mine);
  if (longest !== -minusShortest) {
    throw rangeError('broadcastObjectList', 'objectList', `a list of the same length on every process (as PyTorch's broadcast_object_list); the lengths range from ${-minusShortest} to ${longest}`, n);
  }
  const t = byteTensor(mine instanceof Buffer ? mine : new Uint8Array(0), bytes);
  try {
    await N.broadcast(g.handle, [t.handle], src);
    if (mine !== null) return;
    const items = deserialize(bufferOf(t)) as unknown[];
    objectList.splice(0, objectList.length, ...items);
  } finally {
    t.dispose();
  }
}

/**
 * Fills `objectList` with every process's `obj`, in rank order (PyTorch's `all_gather_object`; the list
 * ends with one item per process). `obj` is plain data, as for `broadcastObjectList`.
 */
export async function allGatherObject(objectList: unknown[], obj: unknown, group?: ProcessGroup): Promise<void> {
  if (!Array.isArray(objectList)) throw typeError('allGatherObject', 'objectList', 'an array', objectList);
  const g = resolveGroup('allGatherObject', group);
  const mine = bytesOf('allGatherObject', 'obj', obj);
  // Each process's byte count first (-1: it cannot send its value), then the bytes padded to the longest.
  const gather = async (t: Tensor): Promise<Tensor[]> => {
    try {
      return (await N.allGather(g.handle, t.handle)).map((h) => new Tensor(h));
    } finally {
      t.dispose();
    }
  };
  const count = mine instanceof Buffer ? mine.length : -1;
  const counts = await gather(new Tensor(N.fromTypedArray(BigInt64Array.of(BigInt(count)), [1], 'int64', 'cpu', false)));
  const sizes = counts.map((x) => Number((x.toArray() as BigInt64Array)[0]));
  for (const x of counts) x.dispose();
  const failed = sizes.indexOf(-1);
  if (failed >= 0) throw unsendable('allGatherObject', failed, mine);
  const gathered = await gather(byteTensor(mine as Buffer, Math.max(...sizes)));
  try {
    const items = gathered.map((x, r) => deserialize(bufferOf(x).subarray(0, sizes[r])));
    objectList.splice(0, objectList.length, ...items);
  } finally {
    for (const x of gathered) x.dispose();
  }
}
