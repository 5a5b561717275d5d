// python/ictorch_models.py (shipped in the package) rebuilds ictorch's ResNets in torch.nn with the same
// state-dict names and numerics: ictorch weights (all parameters and BN/IC statistics randomised) load with
// strict=True and give the same eval-mode logits, for every layout, both unit kinds and an ImageNet depth.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { hasTorch, py } from './helpers/torchpy';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-pymodels-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const PYDIR = path.resolve(__dirname, '..', 'python');

/** Randomises every floating tensor of the state (variances positive) so that the comparison means something. */
function randomise(model: torch.nn.Module): void {
  torch.tidy(() =>
    torch.noGrad(() => {
      for (const [name, t] of Object.entries(model.stateDict())) {
        if (t.dtype !== 'float32') continue;
        const r = torch.rand(t.shape);
        if (name.endsWith('running_var')) t.copy_(r.add(0.5));
        else if (name.endsWith('.weight') && t.ndim === 1) t.copy_(r.add(0.5));
        else t.copy_(r.sub(0.5).mul(t.ndim === 4 ? 0.5 : 1));
      }
    }),
  );
}

interface Net {
  name: string;
  build: () => torch.nn.Module;
  py: string;
  input: number[];
}

const nets: Net[] = [];
for (const layout of torch.LAYOUTS) {
  nets.push({ name: `cifar ${layout} basic`, build: () => torch.resnetCifar({ depth: 8, layout, classes: 7, width: 2 }), py: `resnet_cifar(8, layout='${layout}', classes=7, width=2)`, input: [2, 3, 16, 16] });
  nets.push({ name: `cifar ${layout} bottleneck`, build: () => torch.resnetCifar({ depth: 11, layout, bottleneck: true }), py: `resnet_cifar(11, layout='${layout}', bottleneck=True)`, input: [2, 3, 16, 16] });
}
nets.push({ name: 'imagenet 18 relu-ic-conv', build: () => torch.resnetImageNet({ depth: 18, layout: 'relu-ic-conv', classes: 5 }), py: "resnet_imagenet(18, layout='relu-ic-conv', classes=5)", input: [1, 3, 40, 40] });
nets.push({ name: 'imagenet 50 baseline', build: () => torch.resnetImageNet({ depth: 50, layout: 'baseline', classes: 5 }), py: "resnet_imagenet(50, layout='baseline', classes=5)", input: [1, 3, 40, 40] });

describe.skipIf(!hasTorch)('python/ictorch_models.py loads ictorch weights strictly and gives the same logits (needs python3 with torch)', () => {
  const cases: { name: string; file: string; py: string; params: number }[] = [];
  torch.manualSeed(3);
  nets.forEach((n, i) => {
    const model = n.build();
    randomise(model);
    model.eval();
    torch.tidy(() => {
      const x = torch.randn(n.input);
      const logits = model.forward(x);
      const file = path.join(tmp, `${i}.pt`);
      torch.saveStateDict(file, { ...Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [`model.${k}`, v])), x, logits });
      cases.push({ name: n.name, file, py: n.py, params: model.numParameters() });
    });
    model.dispose();
  });
  let out: Record<string, { maxDiff: number; scale: number; shape: number[]; params: number; keys: boolean }>;
  beforeAll(async () => {
    out = JSON.parse(
    await py(`
import json, sys, torch
sys.path.insert(0, ${JSON.stringify(PYDIR)})
from ictorch_models import resnet_cifar, resnet_imagenet
res = {}
for c in json.loads(sys.stdin.read()):
    d = torch.load(c['file'])
    net = eval(c['py'])
    sd = {k[6:]: v for k, v in d.items() if k.startswith('model.')}
    missing = net.load_state_dict(sd, strict=True)
    net.eval()
    with torch.no_grad():
        y = net(d['x'])
    ref = d['logits']
    res[c['name']] = {'maxDiff': float((y - ref).abs().max()), 'scale': float(ref.abs().max()), 'shape': list(y.shape), 'params': sum(p.numel() for p in net.parameters()),
                      'keys': sorted(net.state_dict().keys()) == sorted(sd.keys())}
print(json.dumps(res))`, JSON.stringify(cases)),
    );
  });

  for (const c of cases) {
    it(c.name, () => {
      const r = out[c.name];
      expect(r.params).toBe(c.params);
      expect(r.keys, 'same state-dict keys').toBe(true);
      // Same ops on the same LibTorch: float32 rounding differences only (different summation orders in
      // fused kernels), far below the logits' scale.
      expect(r.maxDiff).toBeLessThan(1e-4 * Math.max(1, r.scale));
    });
  }
});
