// Live-tensor counts that do not depend on when V8 collects: tensors that earlier code dropped without
// disposing are freed by Node-API finalizers, which run on the event loop after a collection. Counting
// without settling first lets an unrelated test's garbage vanish in the middle of a measurement.
import * as v8 from 'v8';
import * as vm from 'vm';
import { memory } from '../../lib';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Collects garbage and lets the finalizers that the collection queued run (three rounds, as they can chain). */
export async function settleGc(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

/** The number of live native tensors once unreferenced ones have been collected. */
export async function liveTensors(): Promise<number> {
  await settleGc();
  return memory().tensors;
}
