// The state-dict round trip with PyTorch of the module tests: our state dict saved and loaded strictly into
// PyTorch's twin of the module, PyTorch's saved and loaded strictly into ours, and each side's results on them.
import * as path from 'path';
import { expect } from 'vitest';
import { loadStateDict, nn, saveStateDict, tidy } from '../../lib';
import { shapes } from './compare';
import { py } from './torchpy';

/** What stateDictRoundTrip gives: the results of `run` (ours) and of `pyRun` (PyTorch's) on both sets of weights. */
export interface RoundTrip<R> {
  /** PyTorch's state-dict keys and shapes (asserted equal to ours). */
  keys: [string, number[]][];
  /** PyTorch's `Net()` before loading ours (drawn from `seed` where one is given). */
  initial: Record<string, number[]>;
  /** Ours on our weights. */
  ours: R;
  /** PyTorch's on our weights. */
  mine: R;
  /** PyTorch's on its weights. */
  theirs: R;
  /** Ours on PyTorch's weights (loaded into `back`). */
  back: R;
}

/** Loads `net`'s state dict into PyTorch's `Net()` and its seed-7 `Net()`'s (after `pyPerturb` on `t`) into `back`, strictly; `run`/`pyRun` on each. */
export async function stateDictRoundTrip<M extends nn.Module, R>(
  net: M,
  back: M,
  // pyNet: Python defining `Net` (json, sys, torch imported) and what pyRun (a Python callable) needs; seed: of the `Net()` for ours
  o: { dir: string; run: (m: M) => R; pyNet: string; pyRun: string; pyPerturb?: string; seed?: number },
): Promise<RoundTrip<R>> {
  const files = { ours: path.join(o.dir, 'net.pt'), theirs: path.join(o.dir, 'net-torch.pt') };
  tidy(() => saveStateDict(files.ours, net.stateDict()));
  const ours = o.run(net);
  const out = JSON.parse(
    await py(`${o.pyNet}
files = json.loads(sys.stdin.read())
run = ${o.pyRun}
${o.seed === undefined ? '' : `torch.manual_seed(${o.seed})`}
m = Net()
initial = {k: v.flatten().tolist() for k, v in m.state_dict().items()}
keys = [[k, list(v.shape)] for k, v in m.state_dict().items()]
m.load_state_dict(torch.load(files['ours']), strict=True)
mine = run(m)
torch.manual_seed(7)
t = Net()
${o.pyPerturb ?? ''}
torch.save(dict(t.state_dict()), files['theirs'])  # a plain dict, as torch.save of a state dict is read here
theirs = run(t)
print(json.dumps({'keys': keys, 'initial': initial, 'mine': mine, 'theirs': theirs}))
`, JSON.stringify(files)),
  ) as Omit<RoundTrip<R>, 'ours' | 'back'>;
  expect(tidy(() => shapes(net.stateDict()))).toEqual(out.keys); // same names, order and shapes
  const theirs = loadStateDict(files.theirs);
  try {
    back.loadStateDict(theirs);
  } finally {
    for (const t of Object.values(theirs)) t.dispose();
  }
  return { ...out, ours, back: o.run(back) };
}
