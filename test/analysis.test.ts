// `ictorch analyze` and lib/analysis: the estimators against known answers on synthetic Gaussian data,
// the captured forward against the model's own forward, per-sample gradients against the batch gradient,
// and the command line (JSON form on a fresh model, a checkpoint, bad options).
//
// Tolerances. Every statistical check allows 4 standard errors, where the standard error is the estimator's
// own delta-method one for the sample size at hand (sample correlation: Var(r) ≈ E[(z_i z_j − r(z_i² + z_j²)/2)²]/n;
// plug-in entropy: (Σ p log² p − H²)/n; plug-in MI: (Σ p_xy log²(p_xy/(p_x p_y)) − I²)/n), added over the two
// estimates a ratio or difference combines (a bound: the errors are positively correlated, since both are
// computed on the same inputs). For a normal error a 4-se miss has probability 6e-5 per check; the data are
// seeded, so each run is the same.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { analysis, buildModel, nn, icLayer, manualSeed, memory, noGrad, randint, randn, rngState, saveCheckpoint, tensor, tidy, crossEntropy, type Tensor } from '../lib';

const { forwardCapture, icDropoutEffect, measureIndependence, perSampleGradients, gradientSigns, updateCosines, meanAbsCorrelation, channelObservations, discretize, binnedInformation } = analysis;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-analysis-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
/** Runs the CLI without blocking the test worker's event loop. */
function run(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { timeout: 300_000 });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const same = (a: Tensor, b: Tensor) => tidy(() => a.shape.join() === b.shape.join() && a.eq(b).all().item() === true);

/**
 * n i.i.d. observations of C Gaussian channels with mean μ, deviation σ and equal pairwise correlation ρ,
 * laid out as an activation [n / 64, C, 8, 8] (every element one observation).
 */
function gaussian(n: number, C: number, rho: number, mu = 1, sigma = 2): Tensor {
  return tidy(() => {
    const common = randn([n, 1]);
    const own = randn([n, C]);
    const x = common.mul(Math.sqrt(rho)).add(own.mul(Math.sqrt(1 - rho))).mul(sigma).add(mu);
    return x.view(n / 64, 8, 8, C).permute(0, 3, 1, 2).contiguous();
  });
}

describe('estimators on Gaussian channels with a known correlation', () => {
  const RHO = 0.5;
  const C = 6;
  const N = 2 ** 17;

  it('mean |r| and binned MI match the known values; the estimator standard errors are of the right size', () => {
    manualSeed(11);
    tidy(() => {
      const x = gaussian(N, C, RHO);
      const m = measureIndependence(x, { pairs: 100, maxObservations: N });
      expect(m.corr.pairs).toBe(15);
      expect(m.corr.observations).toBe(N);
      expect(Math.abs(m.corr.mean - RHO)).toBeLessThan(4 * m.corr.se);
      // Gaussian sample correlation: Var(r) = (1 − ρ²)²/n, the delta method's value for normal data.
      expect(Math.abs(m.corr.se / ((1 - RHO ** 2) / Math.sqrt(N)) - 1)).toBeLessThan(0.05);
      // Binning loses information (data processing): binned MI ≤ true MI = −½ log2(1 − ρ²) up to the error;
      // 16 equal-frequency bins of a bivariate normal with ρ = 0.5 keep about 96% of it.
      const trueMi = -0.5 * Math.log2(1 - RHO ** 2);
      expect(m.mi.mean).toBeLessThan(trueMi + 4 * m.mi.se);
      expect(m.mi.mean).toBeGreaterThan(0.9 * trueMi);
      // Entropy of 16 equal-frequency bins: log2(16) = 4 bits, less the thresholds' sampling error.
      expect(Math.abs(m.entropy.mean - 4)).toBeLessThan(0.01);
      expect(m.entropy.zeroFraction.every((z) => z === 0)).toBe(true);
    });
  });

  it('dropout multiplies correlation by keep and MI by keep², and H(x̂) = keep·H(x) + H_b(keep) (quantile and width bins)', () => {
    manualSeed(12);
    tidy(() => {
      const x = gaussian(N, C, RHO);
      for (const scheme of ['quantile', 'width'] as const) {
        const effects = icDropoutEffect(x, {}, [0.3, 0.7], { scheme, seed: 3 });
        expect(effects.map((e) => e.keep)).toEqual([0.7, 1 - 0.7]);
        for (const e of effects) {
          const what = `${scheme} keep ${e.keep}`;
          // The realised drop rate over the infoObservations × channels elements the entropies count.
          expect(Math.abs(e.droppedFraction - e.dropRate), what).toBeLessThan(4 * Math.sqrt((e.dropRate * e.keep) / (e.infoObservations * e.channels)));
          expect(e.corrOff, what).toBeGreaterThan(0.45);
          expect(Math.abs(e.corrRatio - e.keep), what).toBeLessThan(4 * e.corrRatioSe);
          expect(e.corrRatioSe, what).toBeLessThan(0.02); // the check has teeth
          // BatchNorm's output is zero-mean per channel, so the exact factor is keep itself.
          expect(e.corrPredictedMoments, what).toBeCloseTo(e.keep, 9);
          expect(Math.abs(e.miRatio - e.keep ** 2), what).toBeLessThan(4 * e.miRatioSe);
          expect(Math.abs(e.entropyOn - e.entropyPredicted), what).toBeLessThan(4 * e.entropySe);
        }
      }
    });
  });

  it('with a nonzero mean after the affine shift, the correlation ratio follows the moment formula (below keep); MI still keep²', () => {
    manualSeed(13);
    tidy(() => {
      const x = gaussian(N, C, RHO);
      const weight = tensor([1, 1, 1, 1, 1, 1]);
      const bias = tensor([1.5, -1, 2, 0.5, -2, 1]);
      const [e] = icDropoutEffect(x, { weight, bias }, [0.5], { seed: 4 });
      expect(e.corrPredictedMoments).toBeLessThan(e.keep - 0.1);
      expect(Math.abs(e.corrRatio - e.corrPredictedMoments)).toBeLessThan(4 * e.corrRatioSe);
      expect(Math.abs(e.miRatio - e.keep ** 2)).toBeLessThan(4 * e.miRatioSe);
      expect(Math.abs(e.entropyOn - e.entropyPredicted)).toBeLessThan(4 * e.entropySe);
    });
  });

  it('discretize keeps exact zeros as symbol 0 and is scale-equivariant; constant channels are left out', () => {
    tidy(() => {
      manualSeed(14);
      const v = randn([3, 4096]).to('float64');
      const withZeros = v.mul(v.gt(0.5).logicalNot().to('float64')); // zero where v > 0.5
      const codes = discretize(withZeros, { bins: 8 });
      expect(same(codes.eq(0), withZeros.eq(0))).toBe(true);
      expect(codes.max().item()).toBe(8);
      expect(same(discretize(withZeros.mul(2.5), { bins: 8 }), codes)).toBe(true);
      const { entropy, mi } = binnedInformation(codes, [[0, 1], [1, 2]], 9);
      expect(entropy.perChannel).toHaveLength(3);
      expect(mi.perPair).toHaveLength(2);
      // A constant channel (a dead ReLU) is excluded from the measurements.
      const x = randn([64, 4, 4, 4]);
      x.narrow(1, 2, 1).fill_(0.25);
      const m = measureIndependence(x);
      expect(m.channels).toEqual([0, 1, 3]);
      expect(m.corr.pairs).toBe(3);
      expect(channelObservations(x, 'pooled').shape).toEqual([4, 64]);
      expect(meanAbsCorrelation(channelObservations(x)).pairs).toBe(6);
    });
  });

  it('bad arguments are clear errors', () => {
    tidy(() => {
      const x = randn([8, 3, 4, 4]);
      expect(() => icDropoutEffect(x, {}, [1])).toThrow(/numbers in \(0, 1\) for dropRates\[\]/);
      expect(() => icDropoutEffect(x, {}, [])).toThrow(/non-empty array/);
      expect(() => measureIndependence(x, { bins: 1 })).toThrow(/bins/);
      expect(() => measureIndependence(x, { mode: 'nope' as 'element' })).toThrow(/mode/);
      expect(() => binnedInformation(randint(0, 3, [2, 10]), [[0, 0]], 3)).toThrow(/distinct channel indices/);
    });
  });
});

describe('capture', () => {
  const x = () => randn([4, 3, 32, 32]);

  for (const layout of ['relu-ic-conv', 'conv-relu-ic', 'ic-conv-relu', 'baseline'] as const) {
    it(`the walked forward equals the model's forward exactly: ${layout}, training (same seed) and evaluation`, () => {
      manualSeed(20);
      const model = buildModel({ name: 'resnet', args: { depth: 8, layout, dropRate: 0.3 } });
      try {
        tidy(() =>
          noGrad(() => {
            const input = x();
            for (const training of [true, false]) {
              model.train(training);
              manualSeed(7);
              const ref = model.forward(input);
              manualSeed(7);
              const { output, layers } = forwardCapture(model, input, (_n, kind) => kind === 'conv2d' || kind === 'ic');
              expect(same(output, ref), `${layout} training=${training}`).toBe(true);
              // Each captured convolution, rerun on its captured input, gives its captured output; the stem sees the input.
              expect(same(layers[0].input, input)).toBe(true);
              for (const l of layers.filter((c) => c.kind === 'conv2d')) expect(same(l.module.forward(l.input), l.output), l.name).toBe(true);
              expect(layers.filter((c) => c.kind === 'ic').length).toBe(layout === 'baseline' ? 0 : 7);
            }
          }),
        );
      } finally {
        model.dispose();
      }
    });
  }

  it('a container shortcut (projection: conv + BatchNorm), dropout in the body and IC after the sum are walked too', () => {
    manualSeed(21);
    const { Sequential, Residual, Conv2d, BatchNorm2d, ReLU, Dropout, IC, AdaptiveAvgPool2d, Flatten, Linear } = nn;
    const model = new Sequential([
      ['conv1', new Conv2d(3, 8, 3, { padding: 1 })],
      ['block', new Residual(
        [['conv1', new Conv2d(8, 16, 3, { stride: 2, padding: 1 })], ['drop', new Dropout(0.3)], ['relu1', new ReLU()], ['conv2', new Conv2d(16, 16, 3, { padding: 1 })]],
        new Sequential([['0', new Conv2d(8, 16, 1, { stride: 2 })], ['1', new BatchNorm2d(16)]]),
        [['relu', new ReLU()], ['ic', new IC(16, { dropRate: 0.4 })]],
      )],
      ['pool', new AdaptiveAvgPool2d(1)], ['flatten', new Flatten()], ['fc', new Linear(16, 10)],
    ]);
    try {
      tidy(() =>
        noGrad(() => {
          const input = randn([4, 3, 16, 16]);
          for (const training of [true, false]) {
            model.train(training);
            manualSeed(8);
            const ref = model.forward(input);
            manualSeed(8);
            const { output, layers } = forwardCapture(model, input, (_n, kind) => kind !== 'relu');
            expect(same(output, ref), `training=${training}`).toBe(true);
            expect(layers.map((l) => l.name)).toEqual(['conv1', 'block.conv1', 'block.drop', 'block.conv2', 'block.downsample.0', 'block.downsample.1', 'block.ic', 'pool', 'flatten', 'fc']);
          }
        }),
      );
    } finally {
      model.dispose();
    }
  });

  it("the analysis's BatchNorm output (icLayer, dropRate 0, the layer's weight and bias) is the IC layer's own output", () => {
    manualSeed(22);
    const model = buildModel({ name: 'resnet', args: { depth: 8, layout: 'relu-ic-conv', dropRate: 0 } });
    try {
      tidy(() =>
        noGrad(() => {
          // Non-trivial scale and shift.
          for (const [k, p] of model.namedParameters()) if (/ic(\d|_final)\.(weight|bias)$/.test(k)) p.copy_(randn(p.shape));
          model.train();
          const { layers } = forwardCapture(model, x(), (_n, kind) => kind === 'ic');
          for (const l of layers) {
            const params = Object.fromEntries(l.module.namedParameters());
            const y = icLayer(l.input, { weight: params.weight, bias: params.bias, training: true, dropRate: 0 });
            expect(same(y, l.output), l.name).toBe(true);
          }
        }),
      );
    } finally {
      model.dispose();
    }
  });
});

describe('analyzeActivations', () => {
  it('reports every IC layer at every drop rate, measures weight-layer inputs, and skips layers with dead inputs', () => {
    manualSeed(23);
    const { Sequential, Conv2d, ReLU, IC } = nn;
    const model = new Sequential([
      ['conv1', new Conv2d(3, 4, 3, { padding: 1 })], ['relu1', new ReLU()], ['ic1', new IC(4, { dropRate: 0.2 })], ['conv2', new Conv2d(4, 4, 3, { padding: 1 })],
      ['dead', new Conv2d(4, 4, 1)], ['relu2', new ReLU()], ['ic2', new IC(4, { dropRate: 0.2 })], ['conv3', new Conv2d(4, 2, 1)],
    ]);
    try {
      tidy(() => {
        noGrad(() => {
          for (const [k, p] of model.namedParameters()) if (k.startsWith('dead.')) p.fill_(0); // ic2 and conv3 see constants
        });
        const batches = [randn([16, 3, 8, 8]), randn([16, 3, 8, 8])];
        const live = memory().tensors;
        const report = analysis.analyzeActivations(model, batches, { dropRates: [0.25, 0.5], pairs: 4, seed: 1 });
        expect(memory().tensors, 'tensors left behind').toBe(live);
        expect(report.samples).toBe(32);
        expect(report.layers.map((l) => `${l.name}@${l.dropRate}`)).toEqual(['ic1@0.25', 'ic1@0.5']);
        expect(report.layers[0].observations).toBe(32 * 64);
        expect(report.summary.map((r) => r.layers)).toEqual([1, 1]);
        expect(report.weightInputs.map((w) => w.name)).toEqual(['conv1', 'conv2', 'dead']);
        expect(report.skipped.map((k) => k.name)).toEqual(['ic2', 'conv3']);
      });
    } finally {
      model.dispose();
    }
  });
});

describe('gradient signs', () => {
  it('per-sample contributions sum to the batch gradient (BatchNorm coupling and dropout included)', () => {
    manualSeed(30);
    const model = buildModel({ name: 'resnet', args: { depth: 8, layout: 'relu-ic-conv', dropRate: 0.2 } });
    try {
      tidy(() => {
        model.train();
        const input = randn([4, 3, 32, 32]);
        const labels = randint(0, 10, [4]);
        manualSeed(5);
        const per = perSampleGradients(model, input, labels, { samples: 4 });
        manualSeed(5);
        crossEntropy(model.forward(input), labels).backward();
        const params = Object.fromEntries(model.namedParameters());
        expect(per.map((p) => p.layer)).toContain('fc');
        for (const p of per) {
          const total = p.perSample.reduce((a, b) => a.add(b));
          const ref = params[`${p.layer}.weight`].grad as Tensor;
          const err = total.sub(ref).abs().max().item() as number;
          expect(err, p.layer).toBeLessThan(1e-5 * Math.max(1, ref.abs().max().item() as number));
        }
        for (const [, q] of model.namedParameters()) q.zeroGrad();
      });
    } finally {
      model.dispose();
    }
  });

  it('a linear layer fed ReLU outputs has single-signed rows (baseline head); fed IC outputs it does not', () => {
    const input = randn([8, 3, 32, 32]);
    const labels = randint(0, 10, [8]);
    const fc: Record<string, number> = {};
    for (const layout of ['baseline', 'relu-ic-conv'] as const) {
      manualSeed(31);
      const model = buildModel({ name: 'resnet', args: { depth: 8, layout, dropRate: 0 } });
      const live = memory().tensors;
      const rows = gradientSigns(model, input, labels, { samples: 4, select: (n) => n === 'fc' || n === 'layer1.0.conv2' });
      expect(memory().tensors, 'tensors left behind').toBe(live);
      model.dispose();
      const head = rows.find((r) => r.layer === 'fc')!;
      fc[layout] = head.singleSignFraction;
      expect(head.rows).toBe(40);
      if (layout === 'baseline') expect(head.inputNonNegative).toBe(1);
    }
    expect(fc.baseline).toBe(1);
    expect(fc['relu-ic-conv']).toBeLessThan(0.5);
    input.dispose();
    labels.dispose();
  });

  it('successive-update cosines: with learning rate 0 and no dropout every step has the same gradient (cosine 1)', () => {
    manualSeed(32);
    const model = buildModel({ name: 'resnet', args: { depth: 8, layout: 'baseline' } });
    tidy(() => {
      const batch = { x: randn([4, 3, 32, 32]), labels: randint(0, 10, [4]) };
      const still = updateCosines(model, [batch], { steps: 3, lr: 0 });
      expect([...still.keys()]).toContain('fc');
      for (const [k, c] of still) expect(c, k).toBeCloseTo(1, 5);
      const moving = updateCosines(model, [batch], { steps: 3, lr: 0.5 });
      for (const [k, c] of moving) expect(Math.abs(c), k).toBeLessThanOrEqual(1 + 1e-9);
      expect(Math.min(...moving.values())).toBeLessThan(0.999);
    });
    model.dispose();
  });
});

describe('ictorch analyze', () => {
  it('JSON on a fresh depth-8 relu-ic-conv model: keys, finite numbers, corr ratio near keep, plot files', async () => {
    const plot = path.join(tmp, 'ratios.svg');
    const r = await run('analyze', '--model', 'resnet', '--depth', '8', '--layout', 'relu-ic-conv', '--drop-rate', '0.5', '--data', 'synthetic', '--json',
      '--batch-size', '16', '--pairs', '8', '--max-observations', '8192', '--grad-samples', '2', '--grad-steps', '2', '--plot', plot);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const j = JSON.parse(lines[lines.length - 1]);
    expect(lines[0]).toMatch(/^ictorch analyze: resnet/);
    expect(j.layers.map((l: { name: string }) => l.name)).toEqual(['layer1.0.ic1', 'layer1.0.ic2', 'layer2.0.ic1', 'layer2.0.ic2', 'layer3.0.ic1', 'layer3.0.ic2', 'ic_final']);
    const keys = ['name', 'dropRate', 'keep', 'corrRatio', 'miRatio', 'corrOff', 'corrOn', 'miOff', 'miOn', 'entropyOff', 'entropyOn', 'entropyPredicted', 'corrRatioSe', 'miRatioSe', 'corrPredicted', 'miPredicted'];
    for (const l of j.layers) {
      for (const k of keys) expect(l, k).toHaveProperty(k);
      for (const k of keys.slice(1)) expect(Number.isFinite(l[k]), `${l.name}.${k}`).toBe(true);
      expect(l.dropRate).toBe(0.5);
      expect(l.keep).toBe(0.5);
      // The inputs are fixed; only the masks are random, and the reported error (input sampling and masks
      // together) bounds their effect. BatchNorm's outputs of a fresh model are zero-mean, so the ratio's
      // expectation is keep exactly.
      expect(Math.abs(l.corrRatio - l.keep), l.name).toBeLessThan(4 * l.corrRatioSe);
    }
    expect(j.layers[0].corrRatioSe).toBeLessThan(0.05);
    expect(Math.abs(j.summary[0].corrRatio - 0.5)).toBeLessThan(0.1);
    expect(j.weightInputs.map((w: { name: string }) => w.name)).toContain('fc');
    const models = new Set(j.gradientSigns.map((g: { model: string }) => g.model));
    expect([...models]).toEqual(['baseline', 'relu-ic-conv', 'ic-conv-relu', 'conv-relu-ic']);
    for (const g of j.gradientSigns) for (const k of ['inputNonNegative', 'singleSignFraction', 'updateCosine']) expect(Number.isFinite(g[k]), `${g.model} ${g.layer} ${k}`).toBe(true);
    expect(j.plot).toEqual([plot, plot.replace(/\.svg$/, '.png')]);
    expect(fs.readFileSync(plot, 'utf8')).toMatch(/<svg[\s\S]*data-series="measured-corrRatio"/);
    expect(fs.readFileSync(plot.replace(/\.svg$/, '.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('a checkpoint, swept over drop rates', async () => {
    manualSeed(40);
    const spec = { name: 'resnet', args: { depth: 8, layout: 'conv-relu-ic', dropRate: 0.1 } };
    const model = buildModel(spec);
    const file = path.join(tmp, 'model.ckpt');
    tidy(() => saveCheckpoint(file, { model: spec, config: { data: 'synthetic', seed: 0 }, epoch: 3, step: 30, bestAcc: null, modelState: model.stateDict(), optimizerState: { state: new Map(), param_groups: [] }, rng: rngState(), history: [] }));
    model.dispose();
    const r = await run('analyze', '--checkpoint', file, '--drop-rates', '0.2,0.6', '--batch-size', '16', '--pairs', '8', '--max-observations', '8192', '--no-gradients', '--layers', '^layer1\\.', '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    expect(j.source).toMatch(/^checkpoint .*model\.ckpt \(epoch 3\)/);
    expect(j.layers.map((l: { name: string; dropRate: number }) => `${l.name}@${l.dropRate}`)).toEqual(['layer1.0.ic1@0.2', 'layer1.0.ic1@0.6', 'layer1.0.ic2@0.2', 'layer1.0.ic2@0.6']);
    expect(j.summary.map((s: { keep: number }) => s.keep)).toEqual([0.8, 1 - 0.6]);
    expect(j.weightInputs.map((w: { name: string }) => w.name)).toEqual(['layer1.0.conv1', 'layer1.0.conv2']);
    expect(j.gradientSigns).toEqual([]);
  });

  it('bad options are one-line usage errors (exit 2)', async () => {
    const cases = [
      ['analyze', '--nope'],
      ['analyze', '--bins', 'many'],
      ['analyze', '--drop-rates', '0.5,1'],
      ['analyze', '--checkpoint', 'x.ckpt', '--model', 'resnet'],
      ['analyze', '--layers', '('],
      ['analyze', '--plot', 'out.pdf'],
      ['analyze', '--layout', 'sideways'],
      ['analyze', '--checkpoint', path.join(tmp, 'missing.ckpt')],
      ['analyze', '--data', 'cifar10:/no/such/dir', '--depth', '8'],
    ];
    for (const args of cases) {
      const r = await run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ictorch: /);
    }
  });
});
