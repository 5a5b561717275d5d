/**
 * State dicts (name → Tensor) in PyTorch's file format: `saveStateDict` writes what Python's
 * `torch.load` reads (an OrderedDict, as `module.state_dict()` gives), `loadStateDict` reads what
 * `torch.save(model.state_dict(), f)` wrote, or the state dict inside a training checkpoint
 * (`{key: 'model'}`). Both go through lib/io/torchfile.ts (the safe reader and the writer); files are
 * written atomically. For any other value, use `save` / `load`.
 */
import { asStateDict, isTensorEntry, saveTorchFile, TorchFile } from './io/torchfile';
import { PyDict, PyList, PyTuple } from './io/pickle';
import { Tensor } from './tensor';
import { knownOptions, typeError } from './validate';

/** Saves a dict of tensors (e.g. `model.stateDict()`) to `file` in torch.save's format. */
export function saveStateDict(file: string, dict: Record<string, Tensor>): void {
  if (typeof file !== 'string' || !file) throw typeError('saveStateDict', 'file', 'a file path', file);
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict) || dict instanceof Map) throw typeError('saveStateDict', 'dict', 'an object of name → Tensor', dict);
  for (const k of Object.keys(dict)) {
    if (!(dict[k] instanceof Tensor)) throw typeError('saveStateDict', `dict[${JSON.stringify(k)}]`, 'a Tensor', dict[k]);
  }
  saveTorchFile('saveStateDict', file, asStateDict(dict), 'dict');
}

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Read the state dict stored under this top-level key of a checkpoint dict (e.g. `'model'`). */
  key?: string;
}

// What a value of the raw tree is, in a few words (for the error that lists a checkpoint's keys).
function kindOf(v: unknown): { text: string; stateDict: boolean } {
  if (v instanceof PyDict) {
    const n = v.entries.length;
    const tensors = v.entries.filter(([, x]) => isTensorEntry(x)).length;
    const stateDict = v.stringKeys && tensors === n && n > 0;
    return { text: stateDict ? `a state dict of ${n} tensor${n === 1 ? '' : 's'}` : `a ${v.ordered ? 'OrderedDict' : 'dict'} of ${n} entr${n === 1 ? 'y' : 'ies'}`, stateDict };
  }
  if (v instanceof PyList) return { text: `a list of ${v.items.length}`, stateDict: false };
  if (v instanceof PyTuple) return { text: `a tuple of ${v.items.length}`, stateDict: false };
  if (isTensorEntry(v)) return { text: 'a tensor', stateDict: false };
  if (v === null) return { text: 'None', stateDict: false };
  if (typeof v === 'number') return { text: Number.isInteger(v) ? 'an int or integral float' : 'a float', stateDict: false };
  if (typeof v === 'bigint') return { text: 'an int', stateDict: false };
  if (typeof v === 'boolean') return { text: 'a bool', stateDict: false };
  if (typeof v === 'string') return { text: 'a str', stateDict: false };
  return { text: 'an object', stateDict: false };
}

/**
 * Loads a state dict: a file written by `saveStateDict` or by Python's `torch.save(model.state_dict(), f)`
 * (a dict or OrderedDict of str → tensor). For a file holding a dict of several things (a training
 * checkpoint such as `{'model': ..., 'optimizer': ..., 'epoch': 3}`), `options.key` picks the entry that
 * holds the state dict; without it, the error lists the top-level keys and which of them are state dicts.
 * Tensors come out on the CPU, contiguous, owned by the caller; nothing outside the chosen state dict is
 * made. Damaged or crafted files are errors naming the file and what is wrong (see lib/io/torchfile.ts).
 */
export function loadStateDict(file: string, options: LoadStateDictOptions = {}): Record<string, Tensor> {
  if (typeof file !== 'string' || !file) throw typeError('loadStateDict', 'file', 'a file path', file);
  knownOptions('loadStateDict', options, ['key']);
  if (options.key !== undefined && typeof options.key !== 'string') throw typeError('loadStateDict', 'options.key', 'a string', options.key);
  const tf = TorchFile.open('loadStateDict', file);
  try {
    const root = tf.root;
    const fail = (why: string): never => {
      throw new Error(`loadStateDict: ${file} ${why}`);
    };
    if (!(root instanceof PyDict)) return fail(`holds ${kindOf(root).text}, not a state dict (a dict of name → tensor).`);
    let node: unknown = root;
    let where = 'the file';
    if (options.key !== undefined) {
      if (!root.stringKeys || root.get(options.key) === undefined) {
        const keys = root.entries.map(([k]) => JSON.stringify(k)).slice(0, 20).join(', ');
        return fail(`has no top-level key "${options.key}" (its keys: ${keys}${root.entries.length > 20 ? ', …' : ''}).`);
      }
      node = root.get(options.key);
      where = `"${options.key}"`;
    }
    const d = node as PyDict;
    const isStateDict = d instanceof PyDict && d.stringKeys && d.entries.every(([, x]) => isTensorEntry(x));
    if (!isStateDict) {
      if (options.key !== undefined) return fail(`holds ${kindOf(node).text} under "${options.key}", not a state dict (a dict of name → tensor).`);
      const listed = root.entries.slice(0, 20).map(([k, v]) => `${JSON.stringify(k)} (${kindOf(v).text})`);
      const candidates = root.entries.filter(([k, v]) => typeof k === 'string' && kindOf(v).stateDict).map(([k]) => k as string);
      const hint = candidates.length
        ? `; the state dict${candidates.length > 1 ? 's are' : ' is'} under ${candidates.map((c) => JSON.stringify(c)).join(', ')}: pass {key: ${JSON.stringify(candidates[0])}} to read ${candidates.length > 1 ? 'one' : 'it'}`
        : '; none of them is a state dict';
      return fail(`holds a dict of several things, not a state dict: its keys are ${listed.join(', ')}${root.entries.length > 20 ? ', …' : ''}${hint}.`);
    }
    const value = tf.materialize(node, where) as Record<string, Tensor>;
    tf.verifyRest();
    tf.keep();
    return value;
  } finally {
    tf.dispose();
  }
}
