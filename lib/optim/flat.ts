/**
 * An optimiser state dict as flat named tensors plus JSON, the shape ictorch's checkpoint files hold
 * (`optimizerState: {tensors, meta}`): tensors are named `<param index>.<key>` ("0.exp_avg", "3.step"),
 * meta holds `param_groups`. Reading also accepts ictorch 0.1 checkpoints (`meta.layout`: SGD momentum
 * buffers named `<group>.<k>`).
 */
import { Tensor } from '../tensor';
import { typeError } from '../validate';
import type { OptimizerStateDict, OptimizerStateDictInput, ParamState } from './optimizer';

/** `stateDict()` as `{tensors, meta}` for a checkpoint (the tensors are the state dict's, not copies). */
export function flattenOptimizerState(sd: OptimizerStateDict): { tensors: Record<string, Tensor>; meta: { param_groups: OptimizerStateDict['param_groups'] } } {
  const tensors: Record<string, Tensor> = {};
  for (const [i, s] of sd.state) for (const [k, t] of Object.entries(s)) tensors[`${i}.${k}`] = t;
  return { tensors, meta: { param_groups: sd.param_groups } };
}

/** The inverse of `flattenOptimizerState`, for `optimizer.loadStateDict(...)`; also reads the ictorch 0.1 layout. */
export function unflattenOptimizerState(flat: { tensors: Record<string, Tensor>; meta: Record<string, unknown> }): OptimizerStateDictInput | { buffers: (Tensor | null)[][] } {
  const op = 'unflattenOptimizerState';
  if (!flat || typeof flat !== 'object' || !flat.tensors || !flat.meta) throw typeError(op, 'state', 'an object {tensors, meta}', flat);
  if (Array.isArray(flat.meta.layout)) {
    const layout = flat.meta.layout as number[];
    return { buffers: layout.map((len, g) => Array.from({ length: len }, (_, k) => flat.tensors[`${g}.${k}`] ?? null)) };
  }
  if (!Array.isArray(flat.meta.param_groups)) throw typeError(op, 'meta.param_groups', 'the param_groups of a state dict', flat.meta.param_groups);
  const state = new Map<number, ParamState>();
  for (const [name, t] of Object.entries(flat.tensors)) {
    const dot = name.indexOf('.');
    const i = Number(name.slice(0, dot));
    if (dot < 1 || !Number.isInteger(i) || i < 0) throw typeError(op, `tensors["${name}"]`, 'a name "<param index>.<key>"', name);
    if (!(t instanceof Tensor)) throw typeError(op, `tensors["${name}"]`, 'a Tensor', t);
    const s = state.get(i) ?? {};
    s[name.slice(dot + 1)] = t;
    state.set(i, s);
  }
  return { state, param_groups: flat.meta.param_groups as OptimizerStateDictInput['param_groups'] };
}
