/**
 * State dicts in PyTorch's file format: `saveStateDict` writes what Python's `torch.load` reads, and
 * `loadStateDict` reads what `torch.save({name: tensor, ...})` wrote. Files are written atomically.
 */
import * as fs from 'fs';
import { native } from './native';
import { Tensor } from './tensor';
import { writeFileAtomic } from './util/atomic';
import { typeError } from './validate';

const N = native();

/** Saves a dict of tensors (e.g. `model.stateDict()`) to `file` in torch.save's format. */
export function saveStateDict(file: string, dict: Record<string, Tensor>): void {
  if (typeof file !== 'string' || !file) throw typeError('saveStateDict', 'file', 'a file path', file);
  if (dict === null || typeof dict !== 'object') throw typeError('saveStateDict', 'dict', 'an object of name → Tensor', dict);
  const names = Object.keys(dict);
  names.forEach((k) => {
    if (!(dict[k] instanceof Tensor)) throw typeError('saveStateDict', `dict["${k}"]`, 'a Tensor', dict[k]);
  });
  writeFileAtomic(file, N.pickleSave(names, names.map((k) => dict[k].handle)));
}

/** Loads a dict of tensors saved by `saveStateDict` or by Python's `torch.save(state_dict)` (CPU tensors). */
export function loadStateDict(file: string): Record<string, Tensor> {
  if (typeof file !== 'string' || !file) throw typeError('loadStateDict', 'file', 'a file path', file);
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`loadStateDict: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let names: string[];
  let handles: ReturnType<typeof N.pickleLoad>[1];
  try {
    [names, handles] = N.pickleLoad(data);
  } catch (e) {
    throw new Error(`loadStateDict: ${file} is not a PyTorch state dict file (${(e as Error).message.replace(/^pickleLoad: /, '')})`);
  }
  const out: Record<string, Tensor> = {};
  names.forEach((k, i) => {
    out[k] = new Tensor(handles[i]);
  });
  return out;
}
