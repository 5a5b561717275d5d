// Assertions on the errors of bad calls, shared by the tests of the argument checks.
import { expect } from 'vitest';
import { nn } from '../../lib';

/** One row of an errors table: the call, the class of its error, and a pattern of its message. */
export type ErrorCase = [() => unknown, ErrorConstructor, RegExp];

/** Asserts `make()` throws a `type` whose message matches `message` (or contains it); a module it returns is disposed. */
export function expectError(make: () => unknown, type: ErrorConstructor, message: RegExp | string): void {
  let thrown: unknown = null;
  try {
    const m = make();
    if (m instanceof nn.Module) m.dispose();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, String(message)).toBeInstanceOf(type);
  if (typeof message === 'string') expect((thrown as Error).message, message).toContain(message);
  else expect((thrown as Error).message, String(message)).toMatch(message);
}

/** expectError on every row of an errors table. */
export function expectErrors(cases: ErrorCase[]): void {
  for (const [make, type, message] of cases) expectError(make, type, message);
}
