/**
 * `ictorch analyze`: the paper's theory checked on real activations of a checkpoint or a fresh model.
 * Prints a table; with `--json` one JSON object on the last line of stdout; `--plot FILE.svg` draws the
 * measured ratios against the drop rate (and writes FILE.png beside it).
 */
import { parseArgs } from 'util';
import type { ModelSpec } from '../models/registry';
import type { Module } from '../nn/module';
import type { Tensor } from '../tensor';
import type { ActivationReport, GradientSignEntry } from './analyze';

/** The help lines of `analyze` (the lead's `ictorch --help` shows them). */
export const ANALYZE_HELP = `  analyze (--checkpoint FILE | --model M --depth N --layout L --drop-rate P [--width K]) [options]
                    the paper's theory on real activations: how each IC layer's dropout changes the
                    correlation (theory: x keep), mutual information (x keep^2) and entropy of its output,
                    and the per-sample gradient signs / successive-update cosines of the layouts
      --data SPEC --split train|test (test) --batches N (1) --batch-size B (128) --limit-per-class N
      --layers REGEX          layers whose dotted name matches (default all)
      --drop-rates P,P,...    drop rates to evaluate on the same inputs (default: the model's, else 0.5)
      --pairs N (32) --bins N (16) --binning quantile|width --observations element|pooled
      --max-observations N (32768) --capture-mode train|eval (train)  --seed N  --device D
      --no-gradients  --grad-samples N (4) --grad-steps N (5) --lr X (0.1)
      --grad-drop-rate P      IC dropout of the fresh layouts in the gradient comparison (0: placement only)
      --json (last line of stdout)  --plot FILE.svg (and FILE.png)`;

const MODELS = ['resnet', 'resnet-b', 'resnet18', 'resnet34', 'resnet50'] as const;

type Usage = (message: string) => Error;

function num(usage: Usage, name: string, v: string | undefined, dflt: number, opts: { integer?: boolean; min?: number } = {}): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || (opts.integer && !Number.isInteger(x))) throw usage(`--${name} expects ${opts.integer ? 'an integer' : 'a number'}, got "${v}"`);
  if (opts.min !== undefined && x < opts.min) throw usage(`--${name} must be at least ${opts.min}, got ${v}`);
  return x;
}

function oneOf<T extends string>(usage: Usage, name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw usage(`--${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

const r3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));
const r4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

function render(report: ActivationReport, grads: GradientSignEntry[], header: string, gradNote: string): string {
  const out = [header, ''];
  if (report.layers.length) {
    out.push('IC layers: BatchNorm output (dropout off) vs IC output (dropout on) on the same captured inputs.');
    out.push('corr = mean |Pearson r| over channel pairs; MI = binned mutual information (bits, Miller-Madow); H = binned entropy (bits).');
    out.push('Theory: corr ratio = keep (exact for zero-mean channels; "moments" = exact for their actual means), MI ratio = keep^2, H_on = keep*H_off + H_b(keep).');
    out.push(
      table(
        ['layer', 'drop', 'corr off', 'corr on', 'ratio', '+-se', 'keep', 'moments', 'MI off', 'MI on', 'ratio', '+-se', 'keep^2', 'H off', 'H on', 'H pred'],
        [
          ...report.layers.map((l) => [l.name, l.dropRate.toFixed(2), r4(l.corrOff), r4(l.corrOn), r3(l.corrRatio), r3(l.corrRatioSe), r3(l.keep), r3(l.corrPredictedMoments), r4(l.miOff), r4(l.miOn), r3(l.miRatio), r3(l.miRatioSe), r3(l.miPredicted), r3(l.entropyOff), r3(l.entropyOn), r3(l.entropyPredicted)]),
          ...report.summary.map((s) => [`mean of ${s.layers} layers`, s.dropRate.toFixed(2), '', '', r3(s.corrRatio), '', r3(s.keep), r3(s.corrPredictedMoments), '', '', r3(s.miRatio), '', r3(s.miPredicted), '', r3(s.entropyOn), r3(s.entropyPredicted)]),
        ],
      ),
    );
  } else {
    out.push('No IC layers in this model (or none matching --layers): nothing to compare with the dropout theory.');
  }
  for (const k of report.skipped) out.push(`skipped ${k.name}: ${k.reason}`);
  if (report.weightInputs.length) {
    out.push('', 'Weight-layer inputs in the capture forward (how independent the channels a weight layer sees are):');
    out.push(table(['layer', 'kind', 'channels', 'observations', 'corr', 'MI', 'H', 'x>=0'], report.weightInputs.map((w) => [w.name, w.kind, `${w.channels}/${w.totalChannels}`, String(w.observations), r4(w.corr), r4(w.mi), r3(w.entropy), r3(w.inputNonNegative)])));
  }
  if (grads.length) {
    const models = [...new Set(grads.map((g) => g.model))];
    const layers = [...new Set(grads.map((g) => g.layer))];
    out.push('', 'Gradient signs: per weight layer and model, fraction of input entries >= 0 / fraction of single-signed per-sample');
    out.push('weight-gradient rows / mean cosine between successive plain-SGD updates (low or negative: zig-zag).');
    out.push(gradNote);
    out.push(
      table(
        ['layer', ...models],
        layers.map((name) => [name, ...models.map((m) => {
          const g = grads.find((e) => e.model === m && e.layer === name);
          return g ? `${g.inputNonNegative.toFixed(2)} / ${g.singleSignFraction.toFixed(2)} / ${g.updateCosine.toFixed(2)}` : '-';
        })]),
      ),
    );
  }
  return out.join('\n');
}

/**
 * Runs `ictorch analyze` with the arguments after the command name. `usage` makes the error for a bad
 * command line (the CLI prints it as one line and exits with code 2).
 */
export async function cmdAnalyze(argv: string[], usage: Usage): Promise<void> {
  const s = { type: 'string' } as const;
  const b = { type: 'boolean' } as const;
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      checkpoint: s, model: s, depth: s, layout: s, 'drop-rate': s, width: s, data: s, split: s, batches: s, 'batch-size': s,
      'limit-per-class': s, layers: s, 'drop-rates': s, pairs: s, bins: s, binning: s, observations: s, 'max-observations': s,
      'capture-mode': s, seed: s, device: s, 'no-gradients': b, 'grad-samples': s, 'grad-steps': s, 'grad-drop-rate': s, lr: s, json: b, plot: s, verbose: b,
    },
  });
  // The command line is checked before the native addon loads (a typo costs no LibTorch start-up).
  if (v.checkpoint && (v.model || v.depth || v.layout || v['drop-rate'] || v.width)) {
    throw usage('--checkpoint takes the model from the checkpoint; do not combine it with --model, --depth, --layout, --drop-rate or --width');
  }
  const seed = num(usage, 'seed', v.seed, 0, { integer: true, min: 0 });
  const split = oneOf(usage, 'split', v.split, ['train', 'test'] as const, 'test');
  const batches = num(usage, 'batches', v.batches, 1, { integer: true, min: 1 });
  const batchSize = num(usage, 'batch-size', v['batch-size'], 128, { integer: true, min: 2 });
  const limitPerClass = num(usage, 'limit-per-class', v['limit-per-class'], 0, { integer: true, min: 1 });
  const pairs = num(usage, 'pairs', v.pairs, 32, { integer: true, min: 1 });
  const bins = num(usage, 'bins', v.bins, 16, { integer: true, min: 2 });
  if (bins > 1024) throw usage(`--bins must be at most 1024, got ${bins}`);
  const binning = oneOf(usage, 'binning', v.binning, ['quantile', 'width'] as const, 'quantile');
  const observations = oneOf(usage, 'observations', v.observations, ['element', 'pooled'] as const, 'element');
  const maxObservations = num(usage, 'max-observations', v['max-observations'], 32768, { integer: true, min: 16 });
  if (maxObservations >= 2 ** 24) throw usage(`--max-observations must be below ${2 ** 24}, got ${maxObservations}`);
  const captureMode = oneOf(usage, 'capture-mode', v['capture-mode'], ['train', 'eval'] as const, 'train');
  const gradSamples = num(usage, 'grad-samples', v['grad-samples'], 4, { integer: true, min: 1 });
  const gradSteps = num(usage, 'grad-steps', v['grad-steps'], 5, { integer: true, min: 2 });
  const lr = num(usage, 'lr', v.lr, 0.1, { min: 0 });
  const gradDropRate = num(usage, 'grad-drop-rate', v['grad-drop-rate'], 0, { min: 0 });
  if (gradDropRate >= 1) throw usage(`--grad-drop-rate must be in [0, 1), got ${gradDropRate}`);
  const device = v.device ?? 'cpu';
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw usage(`--device must be cpu, cuda or cuda:N, got "${device}"`);
  let layers: RegExp | undefined;
  if (v.layers !== undefined) {
    try {
      layers = new RegExp(v.layers);
    } catch (e) {
      throw usage(`--layers expects a regular expression over dotted layer names, got "${v.layers}" (${(e as Error).message})`);
    }
  }
  let dropRates: number[] | undefined;
  if (v['drop-rates'] !== undefined) {
    dropRates = v['drop-rates'].split(',').map((t) => {
      const p = Number(t);
      if (t.trim() === '' || !Number.isFinite(p) || p <= 0 || p >= 1) throw usage(`--drop-rates expects comma-separated numbers in (0, 1), got "${v['drop-rates']}"`);
      return p;
    });
  }
  if (v.plot !== undefined && !/\.svg$/i.test(v.plot)) throw usage(`--plot expects a file name ending in .svg (a .png is written beside it), got "${v.plot}"`);

  const torch = require('../index') as typeof import('../index');
  const { analyzeActivations, compareGradientSigns } = require('./analyze') as typeof import('./analyze');
  const { writeRatioPlot } = require('./plot') as typeof import('./plot');
  if (device.startsWith('cuda') && !torch.cuda.isAvailable()) throw usage(`--device ${device}: LibTorch sees no CUDA device (see \`ictorch info\`)`);

  // The model: a checkpoint's, or a fresh one built with the seed.
  let spec: ModelSpec;
  let model: Module;
  let dataSpec = v.data ?? 'synthetic';
  let source: string;
  // The statistics the inputs are normalised with: the checkpoint's (what the model was trained with), else the data set's own.
  let normalization: { mean: readonly number[]; std: readonly number[] } | undefined;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (v.checkpoint) {
    const ck = torch.loadCheckpoint(v.checkpoint, { device });
    spec = ck.model;
    model = torch.buildModel(spec).to({ device });
    model.loadStateDict(ck.modelState);
    if (ck.normalization) normalization = ck.normalization;
    torch.disposeCheckpoint(ck);
    if (v.data === undefined && typeof ck.config.data === 'string') dataSpec = ck.config.data;
    source = `checkpoint ${v.checkpoint} (epoch ${ck.epoch})`;
  } else {
    const name = oneOf(usage, 'model', v.model, MODELS, 'resnet');
    const layout = oneOf(usage, 'layout', v.layout, torch.LAYOUTS, 'relu-ic-conv');
    const args: Record<string, unknown> = { layout, dropRate: num(usage, 'drop-rate', v['drop-rate'], layout === 'baseline' ? 0 : 0.05) };
    if (name === 'resnet' || name === 'resnet-b') {
      args.depth = num(usage, 'depth', v.depth, name === 'resnet-b' ? 29 : 20, { integer: true });
      args.width = num(usage, 'width', v.width, 1, { integer: true });
    }
    if (dataSpec.startsWith('cifar100')) args.classes = 100;
    spec = { name, args };
    torch.manualSeed(seed);
    model = torch.buildModel(spec).to({ device });
    source = `fresh model (seed ${seed})`;
  }
  const modelDrop = Number(spec.args.dropRate ?? 0);
  const rates = dropRates ?? [modelDrop > 0 ? modelDrop : 0.5];

  // The data: batches × batchSize samples of the split, chosen at random with the seed, normalised with the
  // statistics the model was trained with (a checkpoint's), else the data set's own.
  const needed = batches * batchSize;
  const data = await torch.loadData(dataSpec, {
    device,
    limitPerClass: limitPerClass || (dataSpec === 'synthetic' ? undefined : needed),
    synthetic: { trainSize: split === 'train' ? needed : 1, testSize: split === 'test' ? needed : 1, seed },
  });
  const part = data[split];
  const total = part.length;
  if (total < needed) {
    data.dispose();
    throw usage(`--batches ${batches} x --batch-size ${batchSize} needs ${needed} samples but the ${split} split of ${dataSpec} has ${total}`);
  }
  const stats = normalization ?? { mean: data.mean, std: data.std };
  // The first `batches` batches of the split in the seed's shuffled order, without augmentation.
  const inputs: { x: Tensor; labels: Tensor }[] = [];
  try {
    for await (const b of part.batches({ batchSize, seed, shuffle: true, dropLast: true, augment: false, device })) {
      torch.noGrad(() => inputs.push({ x: torch.normalizeBatch(b.images, stats), labels: b.labels }));
      b.images.dispose();
      if (inputs.length === batches) break;
    }
  } finally {
    data.dispose();
  }

  const header =
    `ictorch analyze: ${spec.name} ${JSON.stringify(spec.args)}, ${source}; ${dataSpec} ${split} split, ${needed} samples ` +
    `(${batches} x ${batchSize}), capture in ${captureMode} mode, ${observations} observations, ${bins} ${binning} bins + zero, ${pairs} MI pairs, seed ${seed}`;
  log(header);
  log('measuring the IC layers and weight-layer inputs ...');
  const report = analyzeActivations(
    model,
    inputs.map((i) => i.x),
    { dropRates: rates, layers, captureMode, mode: observations, bins, scheme: binning, pairs, maxObservations, seed, log },
  );
  let grads: GradientSignEntry[] = [];
  if (!v['no-gradients']) {
    log('gradient signs and update cosines ...');
    grads = compareGradientSigns(spec, inputs, { trained: v.checkpoint ? model : undefined, dropRate: gradDropRate, seed, samples: gradSamples, steps: gradSteps, lr, layers, device, log });
  }
  model.dispose();
  inputs.forEach((i) => (i.x.dispose(), i.labels.dispose()));

  let plotFiles: string[] = [];
  if (v.plot) {
    const title = `${spec.name}${spec.args.depth ? `-${spec.args.depth}` : ''} ${String(spec.args.layout ?? '')}: dropout's effect on its output's dependence`;
    plotFiles = await writeRatioPlot(v.plot, report.layers, title);
    log(`plot: ${plotFiles.join(', ')}`);
  }
  const gradNote = `Fresh models built with seed ${seed}, IC layouts with drop rate ${gradDropRate}; ${gradSteps} steps of plain SGD (lr ${lr}) cycling over the analysed batches${v.checkpoint ? '; "checkpoint" is the trained model' : ''}.`;
  process.stdout.write(`${render(report, grads, header, gradNote)}\n`);
  if (v.json) {
    const result = {
      model: spec,
      source,
      data: dataSpec,
      split,
      samples: report.samples,
      captureMode,
      options: { observations, bins, binning, pairs, maxObservations, seed, dropRates: rates, layers: v.layers ?? null, gradSamples, gradSteps, gradDropRate, lr },
      layers: report.layers,
      summary: report.summary,
      weightInputs: report.weightInputs,
      skipped: report.skipped,
      gradientSigns: grads,
      plot: plotFiles,
    };
    // JSON has no NaN or Infinity: they become null.
    process.stdout.write(`${JSON.stringify(result, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x))}\n`);
  }
}
