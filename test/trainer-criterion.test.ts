// Trainer with a criterion (a loss module or a function): each step equals the same step written by hand
// (forward, loss, backward, optimiser step); the built-in cross-entropy and nn.CrossEntropyLoss agree; bad
// criteria and bad losses are clear errors; a loop of steps keeps the live tensor count flat.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { SGD, Tensor, Trainer, nn } from '../lib';
import { liveTensors } from './helpers/gc';

const F = nn.functional;


function regressor(seed: number): nn.Sequential {
  torch.manualSeed(seed);
  return new nn.Sequential(new nn.Linear(5, 8), new nn.Tanh(), new nn.Linear(8, 2));
}
const batch = () => {
  torch.manualSeed(11);
  return { x: torch.randn([16, 5]), y: torch.randn([16, 2]) };
};
function maxDiff(a: nn.Module, b: nn.Module): number {
  return torch.tidy(() => {
    const sa = a.stateDict(), sb = b.stateDict();
    return Math.max(...Object.keys(sa).map((k) => sa[k].sub(sb[k]).abs().max().item() as number));
  });
}

describe('Trainer with a criterion', () => {
  const criteria: [string, () => torch.Criterion][] = [
    ['nn.MSELoss()', () => new nn.MSELoss()],
    ['a function (F.smoothL1Loss)', () => (o: Tensor, t: Tensor) => F.smoothL1Loss(o, t)],
  ];
  for (const [name, make] of criteria) {
    it(`${name}: three steps equal forward + loss + backward + SGD step written by hand`, async () => {
      const a = regressor(4);
      const b = regressor(4);
      const { x, y } = batch();
      const trainer = new Trainer(a, new SGD(a.parameters(), { lr: 0.1, momentum: 0.9 }), { criterion: make() });
      const opt = new SGD(b.parameters(), { lr: 0.1, momentum: 0.9 });
      const criterion = make();
      const lossOf = (o: Tensor, t: Tensor) => (criterion instanceof nn.Module ? (criterion.forward(o, t) as Tensor) : criterion(o, t));
      const notes: (string | null)[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await trainer.step(x, y);
        notes.push(r.note);
        expect(r.correct).toBeNull();
        expect([r.mode, r.loss.dtype, r.loss.shape]).toEqual(['eager', 'float32', []]);
        const expected = torch.tidy(() => {
          opt.zeroGrad();
          const l = lossOf(b.forward(x) as Tensor, y);
          l.backward();
          opt.step();
          return l.item() as number;
        });
        expect(Math.abs((r.loss.item() as number) - expected)).toBeLessThan(1e-6);
        r.loss.dispose();
      }
      expect(maxDiff(a, b)).toBeLessThan(1e-6);
      expect(notes[0]).toMatch(/a criterion runs in JavaScript/);
      expect(notes.slice(1)).toEqual([null, null]);
      trainer.dispose();
    });
  }

  it('nn.CrossEntropyLoss({ labelSmoothing }) trains as the built-in cross-entropy with labelSmoothing', async () => {
    const a = regressor(7);
    const b = regressor(7);
    const x = torch.randn([12, 5]);
    const y = torch.tensor([0n, 1n, 1n, 0n, 1n, 0n, 0n, 1n, 1n, 1n, 0n, 0n]);
    const ta = new Trainer(a, new SGD(a.parameters(), { lr: 0.2 }), { labelSmoothing: 0.1 });
    const tb = new Trainer(b, new SGD(b.parameters(), { lr: 0.2 }), { criterion: new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }) });
    for (let i = 0; i < 3; i++) {
      const [ra, rb] = [await ta.step(x, y), await tb.step(x, y)];
      expect(Math.abs((ra.loss.item() as number) - (rb.loss.item() as number))).toBeLessThan(1e-6);
      expect(ra.correct).not.toBeNull();
      expect(rb.correct).toBeNull();
    }
    expect(maxDiff(a, b)).toBeLessThan(1e-6);
    ta.dispose();
    tb.dispose();
  });

  it('refuses a criterion that is not a module or function, labelSmoothing beside it, and losses that cannot be trained on', async () => {
    const m = regressor(1);
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    expect(() => new Trainer(m, opt, { criterion: 'mse' as never })).toThrow(/^Trainer: expected a loss Module or a function \(output, target\) => loss for criterion/);
    expect(() => new Trainer(m, opt, { criterion: new nn.MSELoss(), labelSmoothing: 0.1 })).toThrow(/^Trainer: labelSmoothing applies to the built-in cross-entropy/);
    const { x, y } = batch();
    const cases: [torch.Criterion, RegExp][] = [
      [(o, t) => o.sub(t), /^trainStep: the criterion must return a 0-d floating-point loss, got a float32 tensor of shape \[16, 2\]/],
      [() => 3 as never, /^trainStep: expected a 0-d loss Tensor for the criterion's result but received 3/],
      [(_o, t) => t.sum(), /^trainStep: the loss does not require grad/],
    ];
    for (const [criterion, message] of cases) {
      const t = new Trainer(m, opt, { criterion });
      await expect(t.step(x, y)).rejects.toThrow(message);
      t.dispose();
    }
    // the target survives a criterion that returns it
    const t = new Trainer(m, opt, { criterion: (_o, target) => target });
    await expect(t.step(x, y)).rejects.toThrow(/the criterion must return a 0-d floating-point loss/);
    expect(y.isDisposed).toBe(false);
    t.dispose();
  });

  it('a loop of criterion steps keeps the live tensor count flat', async () => {
    const m = regressor(2);
    const trainer = new Trainer(m, new SGD(m.parameters(), { lr: 0.01 }), { criterion: new nn.MSELoss() });
    const { x, y } = batch();
    const step = async () => (await trainer.step(x, y)).loss.dispose();
    for (let i = 0; i < 5; i++) await step();
    const before = await liveTensors();
    for (let i = 0; i < 40; i++) await step();
    expect(await liveTensors()).toBe(before);
    trainer.dispose();
  });
});
