/** Option helpers shared by the optimisers (not part of the public API). */
import { knownOptions, typeError } from '../validate';

/** Drops keys whose value is undefined (so they do not override the defaults). */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * An optimiser's constructor options checked (an object, known keys only, `foreach` a boolean) and laid over
 * its defaults: `[hyper-parameters, foreach]`. The values themselves are checked by `Optimizer`.
 */
export function resolveOptions<O extends object>(op: string, options: O & { foreach?: boolean }, defaults: Required<O>): [Required<O>, boolean] {
  const known = [...Object.keys(defaults), 'foreach'];
  if (!options || typeof options !== 'object') throw typeError(op, 'options', `{${known.join(', ')}}`, options);
  knownOptions(op, options, known);
  const { foreach = true, ...rest } = options;
  if (typeof foreach !== 'boolean') throw typeError(op, 'options.foreach', 'a boolean', foreach);
  return [{ ...defaults, ...definedOnly(rest) } as Required<O>, foreach];
}
