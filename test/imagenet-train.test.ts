// `ictorch train --data imagenet:<dir>` end to end on the CPU: a tiny ILSVRC2012-shaped tree (flat val/ with
// LOC_val_solution.csv), an ImageNet model, top-1/top-5 per epoch, the class list in the checkpoint, exact
// resume, and `ictorch eval` on the checkpoint.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { makeTree, WNIDS } from './helpers/imagenet';
import { runNode } from './helpers/run';

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ictorch-${name}-`));

describe('ictorch train --data imagenet:<dir>', () => {
  it('trains an ImageNet ResNet with top-1/top-5, stores the wnids, resumes exactly and evaluates', async () => {
    const root = tmp('in-tree');
    await makeTree(root, { classes: 3, perClass: 8, valPerClass: 2 });
    const args = ['train', '--data', `imagenet:${root}`, '--model', 'resnet18', '--image-size', '48', '--batch-size', '8', '--epochs', '2', '--workers', '2', '--json'];
    const ref = tmp('in-ref');
    const a = await runNode([cli, ...args, '--out', ref], { timeout: 600_000 });
    expect(a.status, a.stderr).toBe(0);
    const out = JSON.parse(a.stdout.trim().split('\n').pop()!);
    expect(out.epochs).toBe(2);
    expect(out.testTop5).toBeGreaterThanOrEqual(out.testAcc);
    expect(a.stderr).toMatch(/resnet18 .*"classes":3.*24 training images, 3 classes, 3 steps\/epoch/);
    const ck = torch.loadCheckpoint(path.join(ref, 'checkpoint.ckpt'));
    expect(ck.classes).toEqual(WNIDS.slice(0, 3));
    expect(ck.normalization).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(ck.config).toMatchObject({ batchSize: 8, lr: (0.1 * 8) / 256, lrStepEpochs: 30, imageSize: 48 });
    expect(ck.modelState['fc.weight'].shape).toEqual([3, 512]);
    torch.disposeCheckpoint(ck);

    // Stopped after one epoch and resumed: the same final weights as the uninterrupted run.
    const part = tmp('in-part');
    const one = await runNode([cli, ...args.map((x) => (x === '2' ? '1' : x)), '--out', part], { timeout: 600_000 });
    expect(one.status, one.stderr).toBe(0);
    const resumed = await runNode([cli, 'train', '--resume', path.join(part, 'checkpoint.ckpt'), '--epochs', '2'], { timeout: 600_000 });
    expect(resumed.status, resumed.stderr).toBe(0);
    const weights = (f: string) =>
      torch.tidy(() => {
        const c = torch.loadCheckpoint(f);
        const w = Array.from(c.modelState['layer4.1.conv2.weight'].toArray() as Float32Array);
        torch.disposeCheckpoint(c);
        return w;
      });
    expect(weights(path.join(part, 'checkpoint.ckpt'))).toEqual(weights(path.join(ref, 'checkpoint.ckpt')));

    const e = await runNode([cli, 'eval', '--checkpoint', path.join(ref, 'checkpoint.ckpt'), '--json'], { timeout: 300_000 });
    expect(e.status, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout.trim().split('\n').pop()!);
    expect(ev.testAcc).toBeCloseTo(out.testAcc, 10); // the same validation split, transform and normalisation
  });
});
