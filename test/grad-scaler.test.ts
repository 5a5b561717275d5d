// amp.GradScaler: a scaled step equals the unscaled one (a power-of-two scale is exact), a step with a
// non-finite gradient is skipped and the scale backs off, the scale grows after growthInterval clean steps,
// PyTorch's call-order errors, and the state dict loads into PyTorch's GradScaler and back.
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { tidy } from '../lib/scope';
import { hasTorch, py } from './helpers/torchpy';

const { nn, optim, amp } = torch;
const F = nn.functional;

function setup(seed: number) {
  torch.manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const x = torch.randn([5, 6]);
  const y = torch.tensor([0n, 2n, 1n, 1n, 0n]);
  return { model, opt, x, y };
}
const params = (m: torch.nn.Module): number[][] => tidy(() => m.parameters().map((p) => Array.from(p.toArray() as Float32Array)));

describe('amp.GradScaler', () => {
  it('scale → backward → step → update trains exactly as the unscaled loop (the scale is a power of two)', () => {
    const a = setup(1);
    const b = setup(1);
    const scaler = new amp.GradScaler({ initScale: 1024 });
    for (let i = 0; i < 3; i++) {
      tidy(() => {
        a.opt.zeroGrad();
        F.crossEntropy(a.model.forward(a.x), a.y).backward();
        a.opt.step();
        b.opt.zeroGrad();
        const loss = F.crossEntropy(b.model.forward(b.x), b.y);
        const scaled = scaler.scale(loss);
        expect(scaled.item()).toBe(Math.fround(loss.item() as number) * 1024);
        scaled.backward();
        expect(scaler.step(b.opt)).toBe(true);
        scaler.update();
      });
    }
    expect(params(b.model)).toEqual(params(a.model));
    expect(scaler.getScale()).toBe(1024);
    expect(scaler.stateDict()).toEqual({ scale: 1024, growth_factor: 2, backoff_factor: 0.5, growth_interval: 2000, _growth_tracker: 3 });
  });

  it('unscale_ before clipping gives the true gradients; step then does not unscale again', () => {
    const s = setup(2);
    const scaler = new amp.GradScaler({ initScale: 256 });
    const [trueGrad, unscaled] = tidy(() => {
      F.crossEntropy(s.model.forward(s.x), s.y).backward();
      const g = s.model.parameters()[0].grad!.clone().keep();
      s.opt.zeroGrad();
      scaler.scale(F.crossEntropy(s.model.forward(s.x), s.y)).backward();
      scaler.unscale_(s.opt);
      return [g, s.model.parameters()[0].grad!.clone().keep()];
    });
    expect(Array.from(unscaled.toArray() as Float32Array)).toEqual(Array.from(trueGrad.toArray() as Float32Array));
    scaler.step(s.opt);
    tidy(() => {
      expect(Array.from(s.model.parameters()[0].grad!.toArray() as Float32Array)).toEqual(Array.from(trueGrad.toArray() as Float32Array));
    });
    scaler.update();
    trueGrad.dispose();
    unscaled.dispose();
  });

  it('a non-finite gradient skips the step and backs the scale off; growthInterval clean steps grow it', () => {
    const s = setup(3);
    const scaler = new amp.GradScaler({ initScale: 2 ** 10, growthInterval: 2 });
    const before = params(s.model);
    tidy(() => {
      scaler.scale(F.crossEntropy(s.model.forward(s.x), s.y)).backward();
      torch.noGrad(() => s.model.parameters()[2].grad!.index(0).fill_(Infinity));
    });
    expect(scaler.step(s.opt)).toBe(false);
    scaler.update();
    expect(params(s.model)).toEqual(before); // skipped
    expect([scaler.getScale(), scaler.stateDict()._growth_tracker]).toEqual([2 ** 9, 0]);
    for (let i = 0; i < 2; i++) {
      tidy(() => {
        s.opt.zeroGrad();
        scaler.scale(F.crossEntropy(s.model.forward(s.x), s.y)).backward();
      });
      expect(scaler.step(s.opt)).toBe(true);
      scaler.update();
    }
    expect([scaler.getScale(), scaler.stateDict()._growth_tracker]).toEqual([2 ** 10, 0]);
    tidy(() => {
      s.opt.zeroGrad();
      scaler.scale(F.crossEntropy(s.model.forward(s.x), s.y)).backward();
      torch.noGrad(() => s.model.parameters()[0].grad!.index(0, 0).fill_(NaN));
    });
    expect(scaler.step(s.opt)).toBe(false);
    scaler.update();
    expect(scaler.getScale()).toBe(2 ** 9);
    scaler.update(4096); // an explicit new scale
    expect(scaler.getScale()).toBe(4096);
  });

  it('PyTorch\'s order is enforced: one unscale_ and one step per optimizer between updates', () => {
    const s = setup(4);
    const scaler = new amp.GradScaler();
    tidy(() => scaler.scale(F.crossEntropy(s.model.forward(s.x), s.y)).backward());
    expect(() => scaler.update()).toThrow(/^GradScaler.update: no optimizer was unscaled or stepped since the last update\(\)/);
    scaler.unscale_(s.opt);
    expect(() => scaler.unscale_(s.opt)).toThrow(/^GradScaler.unscale_: unscale_\(\) has already been called on this optimizer since the last update\(\)/);
    scaler.step(s.opt);
    expect(() => scaler.step(s.opt)).toThrow(/^GradScaler.step: step\(\) has already been called since the last update\(\)/);
    expect(() => scaler.unscale_(s.opt)).toThrow(/^GradScaler.unscale_: unscale_\(\) is being called after step\(\)/);
    scaler.update();
    expect(() => scaler.step({} as never)).toThrow(/^GradScaler.step: expected an optimizer/);
    expect(() => scaler.scale('loss' as never)).toThrow(/^GradScaler.scale: expected a Tensor \(the loss\) for outputs/);
    expect(() => new amp.GradScaler({ growthFactor: 1 })).toThrow(/^GradScaler: expected a number > 1 for growthFactor/);
    expect(() => new amp.GradScaler({ backoffFactor: 1 })).toThrow(/^GradScaler: expected a number in \(0, 1\) for backoffFactor/);
    expect(() => new amp.GradScaler({ initScale: 0 })).toThrow(/^GradScaler: expected a finite number > 0 for initScale/);
    expect(() => new amp.GradScaler({ growthInterval: 0 })).toThrow(/^GradScaler: expected an integer between 1/);
    expect(() => new amp.GradScaler({ init_scale: 2 } as never)).toThrow(/^GradScaler: unknown option 'init_scale'; did you mean 'initScale'\?/);
    expect(() => scaler.loadStateDict({ scale: 1 } as never)).toThrow(/^GradScaler.loadStateDict: /);
  });

  it('disabled, every method passes through: scale returns its input, step steps, the state dict is empty', () => {
    const s = setup(5);
    const scaler = new amp.GradScaler({ enabled: false });
    tidy(() => {
      const loss = F.crossEntropy(s.model.forward(s.x), s.y);
      expect(scaler.scale(loss)).toBe(loss);
      loss.backward();
    });
    const before = params(s.model);
    expect(scaler.step(s.opt)).toBe(true);
    scaler.update();
    expect(params(s.model)).not.toEqual(before);
    expect([scaler.getScale(), scaler.isEnabled(), scaler.stateDict()]).toEqual([1, false, {}]);
  });

  it.skipIf(!hasTorch)('its state dict has PyTorch\'s keys and loads into PyTorch\'s GradScaler, and PyTorch\'s loads here', async () => {
    const scaler = new amp.GradScaler({ initScale: 512, growthInterval: 7 });
    const s = setup(6);
    tidy(() => scaler.scale(F.crossEntropy(s.model.forward(s.x), s.y)).backward());
    scaler.step(s.opt);
    scaler.update();
    // PyTorch 1.13's GradScaler turns itself off without CUDA (its state dict methods work on the CPU): told it has
    // CUDA; 2.x has torch.amp.GradScaler('cpu')
    const code = `
import json, sys, warnings, torch
warnings.simplefilter('ignore')
mine = json.load(sys.stdin)
if hasattr(torch, 'amp') and hasattr(torch.amp, 'GradScaler'):  # 2.x: a GradScaler for the CPU
    s = torch.amp.GradScaler('cpu', init_scale=3.0, growth_interval=5)
else:
    torch.cuda.amp.grad_scaler.amp_definitely_not_available = lambda: False
    s = torch.cuda.amp.GradScaler(init_scale=3.0, growth_interval=5)
s._lazy_init_scale_growth_tracker('cpu')
theirs = s.state_dict()
s.load_state_dict(mine)
print(json.dumps({'keys': sorted(theirs.keys()), 'theirs': theirs, 'loaded': s.state_dict()}))
`;
    const r = JSON.parse(await py(code, JSON.stringify(scaler.stateDict()))) as { keys: string[]; theirs: Record<string, number>; loaded: Record<string, number> };
    expect(r.keys).toEqual(Object.keys(scaler.stateDict()).sort());
    expect(r.loaded).toEqual(scaler.stateDict());
    const back = new amp.GradScaler();
    back.loadStateDict(r.theirs as never);
    expect(back.stateDict()).toEqual({ scale: 3, growth_factor: 2, backoff_factor: 0.5, growth_interval: 5, _growth_tracker: 0 });
  });
});
