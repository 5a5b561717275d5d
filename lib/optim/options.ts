/** Option helpers shared by the optimisers (not part of the public API). */

/** Drops keys whose value is undefined (so they do not override the defaults). */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
