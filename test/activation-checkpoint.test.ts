// Activation checkpointing (lib/checkpoint.ts: utils.checkpoint.checkpoint, checkpointSequential) and
// autograd.backward over several tensors. Against python3-torch (torch.utils.checkpoint, non-reentrant): outputs
// and the gradients of the inputs and of weights the segment closes over. Without Python: a checkpointed run of
// the paper's IC layers (batch statistics and dropout) in training mode gives exactly the outputs and gradients
// of the plain run, and leaves the random stream where the plain run leaves it; parameters get gradients when no
// input requires one; a Trainer step over a TypeScript model that checkpoints trains exactly as without (its
// backward runs the segment again while the step waits, so it may read the model then, and only then); argument
// errors; no tensor is left behind.
import { afterEach, describe, expect, it } from 'vitest';
import { Tensor, Trainer, autograd, autocast, deepCopy, manualSeed, memory, nn, noGrad, optim, randint, randn, tensor, tidy, utils } from '../lib';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { describeFunctionsAgainstTorch, type FCase } from './helpers/fcases';
import { settleGc } from './helpers/gc';
import { inp } from './helpers/specs';

const { checkpoint, checkpointSequential } = utils.checkpoint;
afterEach(() => manualSeed(0));

const cases: FCase[] = [
  {
    name: 'checkpoint of a segment closing over weights: output and gradients of input and weights',
    inputs: { x: inp([4, 3], 1), W1: inp([3, 5], 2), W2: inp([5, 2], 3) },
    py: '__import__("torch.utils.checkpoint").utils.checkpoint.checkpoint(lambda a: torch.tanh(a @ W1) @ W2, x, use_reentrant=False)',
    ts: (t) => checkpoint((a: Tensor) => a.matmul(t.W1).tanh().matmul(t.W2), t.x) as Tensor,
  },
  {
    name: 'checkpoint with an input that needs no gradient: the weights still get theirs',
    inputs: { x: { ...inp([4, 3], 4), grad: false }, W1: inp([3, 5], 5) },
    py: '__import__("torch.utils.checkpoint").utils.checkpoint.checkpoint(lambda a: torch.sigmoid(a @ W1).square(), x, use_reentrant=False)',
    ts: (t) => checkpoint((a: Tensor) => a.matmul(t.W1).sigmoid().square(), t.x) as Tensor,
  },
  {
    name: 'checkpoint of a segment of two inputs and a number',
    inputs: { x: inp([3, 3], 6), y: inp([3, 3], 7) },
    py: '__import__("torch.utils.checkpoint").utils.checkpoint.checkpoint(lambda a, b, s: (a * b).exp() * s + a, x, y, 0.5, use_reentrant=False)',
    ts: (t) => checkpoint((a: Tensor, b: Tensor, s: number) => a.mul(b).exp().mul(s).add(a), t.x, t.y, 0.5) as Tensor,
  },
];
describeFunctionsAgainstTorch(cases);

/** The paper's unit in training mode: batch statistics and dropout, so a recomputation must redraw the same masks. */
function icNet(): nn.Sequential {
  return new nn.Sequential(
    new nn.IC(3, { dropRate: 0.3 }), new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.ReLU(),
    new nn.IC(8, { dropRate: 0.3 }), new nn.Conv2d(8, 8, 3, { padding: 1 }), new nn.ReLU(),
    new nn.Dropout(0.2), new nn.Conv2d(8, 4, 3, { padding: 1 }), new nn.Flatten(), new nn.Linear(4 * 6 * 6, 3),
  );
}

function grads(m: nn.Module): Tensor[] {
  return [...m.parameters()].map((p) => (p.grad as Tensor).clone());
}

const same = (a: Tensor[], b: Tensor[]): void => {
  expect(a.length).toBe(b.length);
  a.forEach((t, i) => expect(t.sub(b[i]).abs().max().item(), `tensor ${i}`).toBe(0));
};

describe('activation checkpointing', () => {
  it('a checkpointed run of IC layers in training mode equals the plain run: outputs, gradients, running statistics, random stream', () => {
    const before = memory().tensors;
    tidy(() => {
      manualSeed(1);
      const a = icNet();
      const b = deepCopy(a);
      const c = deepCopy(a);
      c.train();
      a.train();
      b.train();
      const x = randn([5, 3, 6, 6]);
      const xa = x.clone().requiresGrad_();
      const xb = x.clone().requiresGrad_();
      manualSeed(2);
      const ya = a.forward(xa) as Tensor;
      ya.square().sum().backward();
      const nextA = randn([4]);
      manualSeed(2);
      const yb = checkpointSequential(b, 3, xb);
      expect(yb.gradFn).not.toBeNull();
      yb.square().sum().backward();
      const nextB = randn([4]);
      same([ya], [yb]);
      same(grads(a), grads(b));
      same([xa.grad as Tensor], [xb.grad as Tensor]);
      // the backward's second run left the generator where the plain run did
      same([nextA], [nextB]);
      // Both runs of a segment are training-mode forwards, so its batch norms update their running statistics
      // twice, as under PyTorch's checkpoint: b's equal those of two plain forwards from the same random state.
      noGrad(() => {
        for (let k = 0; k < 2; k++) {
          manualSeed(2);
          c.forward(x);
        }
      });
      const stats = (m: nn.Module) => Object.entries(m.stateDict()).filter(([k]) => /running_|num_batches/.test(k)).map(([, v]) => v as Tensor);
      expect(stats(b).length).toBe(6);
      same(stats(b), stats(c));
      c.dispose();
      a.dispose();
      b.dispose();
    });
    expect(memory().tensors).toBe(before);
  });

  it('parameters inside get gradients when no input requires one; under noGrad it is a plain call', () => {
    tidy(() => {
      manualSeed(3);
      const m = new nn.Sequential(new nn.Linear(4, 6), new nn.Tanh(), new nn.Linear(6, 2));
      const x = randn([3, 4]);
      const y = checkpoint((a: Tensor) => m.forward(a) as Tensor, x) as Tensor;
      expect(y.requiresGrad).toBe(true);
      y.sum().backward();
      const g = grads(m);
      m.zeroGrad();
      (m.forward(x) as Tensor).sum().backward();
      same(g, grads(m));
      const z = noGrad(() => checkpoint((a: Tensor) => m.forward(a) as Tensor, x) as Tensor);
      expect(z.requiresGrad).toBe(false);
      expect(z.gradFn).toBeNull();
      m.dispose();
    });
  });

  it('what a checkpointed segment computes inside is freed when the forward returns: the live tensors do not grow with its length', () => {
    tidy(() => {
      manualSeed(4);
      const layers = Array.from({ length: 8 }, () => new nn.Linear(256, 256));
      const x = randn([512, 256], { requiresGrad: true });
      const liveAfter = (n: number): number =>
        tidy(() => {
          const before = memory().bytes;
          const y = checkpoint((a: Tensor) => layers.slice(0, n).reduce((h, l) => l.forward(h) as Tensor, a), x) as Tensor;
          const grown = memory().bytes - before;
          y.sum().backward();
          return grown;
        });
      const short = liveAfter(1);
      const long = liveAfter(8);
      // memory() counts the tensors JS holds: after the forward that is the output alone (512x256 float32), however
      // many layers the checkpointed segment ran (what the graph saves for the backward is not counted there).
      expect(short).toBe(512 * 256 * 4);
      expect(long).toBe(short);
      layers.forEach((l) => l.dispose());
    });
  });

  it('a segment of several outputs, some unused, and a second backward with retainGraph', () => {
    tidy(() => {
      const x = randn([4], { requiresGrad: true });
      const [p, q] = checkpoint((a: Tensor) => [a.exp(), a.square()], x) as Tensor[];
      p.sum().backward(undefined, { retainGraph: true });
      p.sum().backward();
      expect((x.grad as Tensor).sub(x.detach().exp().mul(2)).abs().max().item()).toBeLessThan(1e-6);
      expect(q.requiresGrad).toBe(true);
    });
  });

  it('the recomputation runs under the autocast state of the first run', () => {
    tidy(() => {
      const x = randn([4, 4], { requiresGrad: true });
      const w = randn([4, 4], { requiresGrad: true });
      let dtypes: string[] = [];
      const seg = (a: Tensor) => {
        const r = a.matmul(w);
        dtypes.push(r.dtype);
        return r;
      };
      const y = autocast('cpu', { dtype: 'bfloat16' }, () => checkpoint(seg, x) as Tensor);
      y.float().sum().backward();
      expect(dtypes).toEqual(['bfloat16', 'bfloat16']);
      dtypes = [];
      checkpoint(seg, x);
      expect(dtypes).toEqual(['float32']);
    });
  });

  it('a Trainer step over a TypeScript model that checkpoints trains exactly as without, the model stays refused outside the step, memory stays flat', async () => {
    class Net extends nn.Module {
      body = new nn.Sequential(new nn.IC(3, { dropRate: 0.2 }), new nn.Conv2d(3, 6, 3, { padding: 1 }), new nn.ReLU(), new nn.Flatten());
      head = new nn.Linear(6 * 4 * 4, 5);
      useCheckpoint = false;
      forward(x: Tensor): Tensor {
        const h = this.useCheckpoint ? (checkpoint((a: Tensor) => this.body.forward(a) as Tensor, x) as Tensor) : (this.body.forward(x) as Tensor);
        return this.head.forward(h) as Tensor;
      }
    }
    manualSeed(4);
    const plain = new Net();
    const ck = deepCopy(plain);
    ck.useCheckpoint = true;
    const x = randn([6, 3, 4, 4]);
    const y = randint(0, 5, [6]);
    const run = async (m: Net) => {
      const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
      const trainer = new Trainer(m, opt, { device: 'cpu' });
      manualSeed(5);
      const losses: number[] = [];
      const live: number[] = [];
      await settleGc(); // what earlier tests dropped is collected now, not in the middle of the count
      for (let i = 0; i < 4; i++) {
        const r = await tidy(async () => {
          const pending = trainer.step(x, y);
          if (m === ck && i === 0) {
            // outside the step's callbacks the model is still the step's
            expect(() => m.forward(x)).toThrow(/in use by trainStep in flight/);
          }
          const out = await pending;
          return (await (out.loss as Tensor).data())[0] as number;
        });
        losses.push(r);
        await new Promise((done) => setImmediate(done));
        live.push(memory().tensors);
      }
      // what the steps' backwards created was freed (the custom backward's scope closes in a microtask)
      expect(live.slice(1)).toEqual([live[0], live[0], live[0]]);
      trainer.dispose();
      opt.dispose();
      return losses;
    };
    const lp = await run(plain);
    const lc = await run(ck);
    expect(lc).toEqual(lp);
    tidy(() => same([...ck.parameters()], [...plain.parameters()]));
    plain.dispose();
    ck.dispose();
    x.dispose();
    y.dispose();
  });

  it('argument errors', () => {
    tidy(() => {
      const m = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU());
      const x = randn([1, 2], { requiresGrad: true });
      const cases: ErrorCase[] = [
        [() => checkpoint('f' as never, x), TypeError, /checkpoint: expected a function for fn/],
        [() => checkpointSequential(m, 3, x), RangeError, /checkpointSequential: .*segments/],
        [() => checkpointSequential(m, 0, x), RangeError, /segments/],
        [() => checkpointSequential([], 1, x), TypeError, /non-empty array/],
        [() => checkpointSequential([1 as never], 1, x), TypeError, /functions\[0\]/],
        [() => checkpointSequential(m, 1, 'x' as never), TypeError, /input/],
        [() => checkpointSequential(m, 1, x, { preserveRNGState: true } as never), TypeError, /unknown option 'preserveRNGState'; did you mean 'preserveRngState'/],
        [() => checkpoint((a: Tensor) => a.exp().sum().item() as never, x), TypeError, /result/],
      ];
      expectErrors(cases);
      m.dispose();
    });
  });
});

const gradOf = (t: Tensor): Tensor => t.grad as Tensor;

describe('autograd.backward', () => {
  it('several tensors with their gradients equal the sum of separate backwards, exactly', () => {
    tidy(() => {
      const x = randn([3], { requiresGrad: true });
      const a = x.exp();
      const b = x.sin().sum();
      const g = randn([3]);
      autograd.backward([a, b], [g, null], { retainGraph: true });
      const joint = (x.grad as Tensor).clone();
      x.grad = null;
      a.backward(g, { retainGraph: true });
      b.backward();
      expect(joint.sub(gradOf(x)).abs().max().item()).toBe(0);
      const cases: ErrorCase[] = [
        [() => autograd.backward([a, b], [g]), TypeError, /2 gradients/],
        [() => autograd.backward([a, b], null, { retainGraph: true }), RangeError, /tensors\[0\] has 3 elements; give its gradient/],
        [() => autograd.backward([], []), TypeError, /at least one Tensor/],
        [() => autograd.backward([a, 'b' as never], [g, null]), TypeError, /tensors\[1\]/],
        [() => autograd.backward(b, null, { keepGraph: true } as never), TypeError, /unknown option 'keepGraph'/],
      ];
      expectErrors(cases);
    });
  });
});
