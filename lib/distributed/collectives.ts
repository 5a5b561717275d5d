/**
 * Collectives over a process group (PyTorch's `torch.distributed.all_reduce`, `broadcast`, `all_gather`,
 * `barrier`). Each is called by every process of the group, in the same order, and resolves when it is done
 * on this process; tensors are changed in place. They run off the event loop, on the training thread after
 * the training steps queued before them, and are refused while another collective or a training step uses
 * the same group (await it first).
 */
import { native } from '../native';
import { Tensor } from '../tensor';
import { typeError, checkInt, checkOneOf } from '../validate';
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
