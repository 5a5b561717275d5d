// A training checkpoint is a torch.save dict a Python user can continue from: the model loads into the
// shipped Python reference (python/ictorch_models.py), the optimiser state into torch.optim.SGD with the same
// parameter groups, and one more SGD step in Python equals one more step in ictorch.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { hasTorch, py } from './helpers/torchpy';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ictorch-${name}-`));

describe.skipIf(!hasTorch)('checkpoints in Python (needs /usr/bin/python3 with torch)', () => {
  it('torch.load gives model, optimizer (load_state_dict works), classes and normalization; a step in Python equals a step in ictorch', async () => {
    const dir = tmp('ckpt-py');
    const cfg = { model: { name: 'resnet', args: { depth: 8, layout: 'relu-ic-conv', dropRate: 0 } }, data: 'synthetic', epochs: 1, batchSize: 32, syntheticTrainSize: 96, syntheticTestSize: 32, nesterov: true, augment: false };
    const r = await torch.fit({ ...cfg, outDir: dir });
    // The same next step in ictorch: load the checkpoint into a model and an optimiser, one SGD step on a fixed batch.
    const ck = torch.loadCheckpoint(r.checkpoint);
    const m = torch.buildModel(ck.model);
    m.loadStateDict(ck.modelState);
    const opt = new torch.optim.SGD(torch.paramGroups(m), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true });
    opt.loadStateDict(ck.optimizerState);
    const x = torch.randn([8, 3, 32, 32], { dtype: 'float32' });
    const y = torch.tensor(new BigInt64Array([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n]));
    m.eval(); // no batch statistics or dropout: the step is deterministic on both sides
    opt.zeroGrad();
    torch.crossEntropy(m.forward(x), y).backward();
    opt.step();
    const after = torch.tidy(() => Array.from(m.stateDict()['conv1.weight'].toArray() as Float32Array));
    const code = `
import json, sys, torch
sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', 'python'))})
from ictorch_models import resnet_cifar
inp = json.loads(sys.stdin.read())
ck = torch.load(inp['file'], weights_only=False)
a = ck['model_spec']['args']
m = resnet_cifar(a['depth'], layout=a['layout'], drop_rate=a['dropRate'], classes=a['classes'])
m.load_state_dict(ck['model'])
ps = list(m.parameters())
opt = torch.optim.SGD([{'params': [p for p in ps if p.ndim > 1]}, {'params': [p for p in ps if p.ndim <= 1], 'weight_decay': 0}],
                      lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
opt.load_state_dict(ck['optimizer'])
x = torch.tensor(inp['x'], dtype=torch.float32).reshape(8, 3, 32, 32)
y = torch.arange(8)
m.eval()
opt.zero_grad()
torch.nn.functional.cross_entropy(m(x), y).backward()
opt.step()
print(json.dumps({'keys': list(ck.keys()), 'epoch': ck['epoch'], 'classes': ck['classes'], 'normalization': ck['normalization'],
                  'groups': len(ck['optimizer']['param_groups']), 'state': len(ck['optimizer']['state']),
                  'after': m.conv1.weight.detach().flatten().tolist()}))
`;
    const out = JSON.parse((await py(code, JSON.stringify({ file: r.checkpoint, x: Array.from(x.toArray() as Float32Array) }))).trim().split('\n').pop()!);
    expect(out.keys).toEqual(expect.arrayContaining(['model', 'optimizer', 'model_spec', 'config', 'epoch', 'classes', 'normalization', 'rng', 'sampler', 'history']));
    expect(out.epoch).toBe(1);
    expect(out.classes).toEqual(ck.classes);
    expect(out.normalization).toEqual(ck.normalization);
    expect(out.groups).toBe(2);
    expect(out.state).toBe(m.parameters().length); // a momentum buffer per parameter after an epoch
    expect(out.after).toHaveLength(after.length);
    out.after.forEach((v: number, i: number) => expect(Math.abs(v - after[i])).toBeLessThan(1e-5));
    opt.dispose();
    m.dispose();
    torch.disposeCheckpoint(ck);
    x.dispose();
    y.dispose();
  });
});
