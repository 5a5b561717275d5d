// Runs a learning-rate scheduler on a two-group optimiser and records what it sets, for the tests that compare
// schedulers with python3-torch (test/optim.test.ts, test/scheduler-more.test.ts).
import { expect } from 'vitest';
import * as torch from '../../lib';

const { optim } = torch;

/** An optimiser of any kind. */
export type Opt = torch.optim.Optimizer<object>;

/** A parameter group's scheduled values: SGD has `momentum`, Adam `betas`. */
export type MomentumGroup = { lr: number; momentum?: number; betas?: [number, number] };

/** The scheduler interface the runs use (every scheduler class has it; ReduceLROnPlateau's step takes a metric). */
interface Scheduler {
  step(metric?: number): void;
  stateDict(): unknown;
  loadStateDict(state: never): unknown;
  getLastLr(): number[];
}

/** What `runScheduler` runs: a scheduler built over SGD (momentum 0.9) or Adam, for `steps` steps. */
export interface SchedulerRun {
  name: string;
  opt: 'SGD' | 'Adam';
  make: (o: Opt) => object;
  steps: number;
  /** Where a run resumed `from` a state starts. */
  at: number;
  /** ReduceLROnPlateau's metric per step. */
  metrics?: number[];
}

/** SGD (momentum 0.9) or Adam over two parameters in two groups, lr 0.1 and 0.03. */
export function twoGroups(kind: 'SGD' | 'Adam'): { opt: Opt; ps: torch.Tensor[] } {
  const ps = [torch.zeros([2], { requiresGrad: true }), torch.zeros([3], { requiresGrad: true })];
  const groups = [{ params: [ps[0]] }, { params: [ps[1]], lr: 0.03 }];
  return { opt: kind === 'SGD' ? new optim.SGD(groups, { lr: 0.1, momentum: 0.9 }) : new optim.Adam(groups, { lr: 0.1 }), ps };
}

/** The groups' learning rates, then momenta (SGD's momentum, Adam's betas[0]). */
export function recordGroups(opt: Opt): number[] {
  const gs = opt.paramGroups as unknown as MomentumGroup[];
  return [...gs.map((g) => g.lr), ...gs.map((g) => (g.betas ? g.betas[0] : (g.momentum as number)))];
}

/**
 * Runs a spec on `twoGroups(spec.opt)`: the groups' values (`recordGroups`) after construction and after each
 * step, and the state after each step; checks getLastLr against the groups every step. With `from`, the
 * scheduler first loads that state and the groups take those values, and it runs the steps after `spec.at`.
 */
export function runScheduler(spec: SchedulerRun, from?: { state: Record<string, unknown>; groups: number[] }): { rec: number[][]; states: Record<string, unknown>[] } {
  const { opt, ps } = twoGroups(spec.opt);
  const gs = opt.paramGroups as unknown as MomentumGroup[];
  const s = spec.make(opt) as Scheduler;
  if (from) {
    s.loadStateDict(from.state as never);
    gs.forEach((g, i) => {
      g.lr = from.groups[i];
      if (g.betas) g.betas = [from.groups[gs.length + i], g.betas[1]];
      else g.momentum = from.groups[gs.length + i];
    });
  }
  const rec = [recordGroups(opt)];
  const states = [s.stateDict() as Record<string, unknown>];
  for (let e = from ? spec.at : 0; e < spec.steps; e++) {
    opt.step();
    if (s instanceof optim.ReduceLROnPlateau) s.step(spec.metrics![e]);
    else s.step();
    rec.push(recordGroups(opt));
    expect(s.getLastLr(), `${spec.name}: getLastLr after step ${e + 1}`).toEqual(gs.map((g) => g.lr));
    states.push(s.stateDict() as Record<string, unknown>);
  }
  opt.dispose();
  ps.forEach((p) => p.dispose());
  return { rec, states };
}
