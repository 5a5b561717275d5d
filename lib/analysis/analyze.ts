/**
 * `analyze`: the paper's theory checked on a model's real activations. Captures the inputs of the IC
 * layers and weight layers on given batches, measures what each IC layer's dropout does to the
 * independence of its output channels at one or more drop rates (`icDropoutEffect`), how independent each
 * weight layer's input is, and (`compareGradientSigns`) the per-sample gradient sign structure and the
 * successive-update cosines of the baseline and the IC layouts built with the same seed.
 */
import { noGrad } from '../autograd';
import { cat } from '../creation';
import { buildModel, type ModelSpec } from '../models/registry';
import { LAYOUTS, type Layout } from '../models/resnet';
import type { Module } from '../nn/module';
import { manualSeed } from '../runtime';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkOneOf, typeError } from '../validate';
import { forwardCapture, WEIGHT_KINDS } from './capture';
import { gradientSigns, updateCosines } from './gradients';
import { icDropoutEffect, measureIndependence, type DropoutEffect, type IndependenceOptions } from './independence';
import { channelObservations, nonConstantChannels } from './observations';

/** Options of `analyzeActivations`. */
export interface AnalyzeOptions extends IndependenceOptions {
  /** Drop rates to evaluate each IC layer's dropout at (each in (0, 1)). */
  dropRates: number[];
  /** Layers (IC and weight layers) whose dotted name matches are analysed (default all). */
  layers?: RegExp;
  /** The mode of the capture forward: `train` (default: batch statistics and dropout, as SGD sees it) or `eval`. */
  captureMode?: 'train' | 'eval';
  /** Called with a line of progress now and then. */
  log?: (line: string) => void;
}

/** One IC layer at one drop rate. */
export interface LayerEffect extends DropoutEffect {
  /** The IC layer's dotted name. */
  name: string;
  /** The drop rate the model itself uses in that layer, when known. */
  modelDropRate?: number;
}

/** How independent one weight layer's input is (in the capture forward). */
export interface WeightInput {
  name: string;
  kind: string;
  channels: number;
  totalChannels: number;
  observations: number;
  corr: number;
  corrSe: number;
  mi: number;
  miSe: number;
  entropy: number;
  /** Fraction of input entries ≥ 0 (1 for raw ReLU outputs). */
  inputNonNegative: number;
}

/** Mean over layers at one drop rate. */
export interface RateSummary {
  dropRate: number;
  keep: number;
  layers: number;
  corrRatio: number;
  corrPredicted: number;
  corrPredictedMoments: number;
  miRatio: number;
  miPredicted: number;
  entropyOn: number;
  entropyPredicted: number;
}

/** What `analyzeActivations` returns. */
export interface ActivationReport {
  layers: LayerEffect[];
  summary: RateSummary[];
  weightInputs: WeightInput[];
  /** Layers left out, with why (an input with fewer than two non-constant channels). */
  skipped: { name: string; reason: string }[];
  /** Samples the activations were captured on. */
  samples: number;
}

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}

/**
 * Captures the IC layers' and weight layers' inputs of `model` over `batches` (normalised float inputs,
 * each forwarded on its own, inputs concatenated over the batches) and measures them (see the file comment).
 * The model is left in the capture mode; its running statistics see the batches when that mode is `train`.
 */
export function analyzeActivations(model: Module, batches: readonly Tensor[], options: AnalyzeOptions): ActivationReport {
  const op = 'analyzeActivations';
  if (!Array.isArray(batches) || batches.length === 0 || batches.some((b) => !(b instanceof Tensor))) throw typeError(op, 'batches', 'a non-empty array of Tensors', batches);
  const mode = checkOneOf(op, 'captureMode', options.captureMode ?? 'train', ['train', 'eval']);
  const pattern = options.layers ?? /.*/;
  const log = options.log ?? (() => {});
  const wanted = (name: string, kind: string) => (kind === 'ic' || WEIGHT_KINDS.includes(kind)) && pattern.test(name);
  model.train(mode === 'train');
  return tidy(() => {
    // Capture: per batch, then concatenated along the batch dimension.
    const modules = new Map<string, { kind: string; module: Module }>();
    const inputs = new Map<string, Tensor[]>();
    if (options.seed !== undefined) manualSeed(options.seed);
    noGrad(() => {
      for (const x of batches) {
        const got = tidy(() => {
          const { layers } = forwardCapture(model, x, wanted);
          for (const l of layers) if (!modules.has(l.name)) modules.set(l.name, { kind: l.kind, module: l.module });
          return layers.map((l) => [l.name, l.input.detach().contiguous()] as [string, Tensor]);
        });
        for (const [name, t] of got) inputs.set(name, [...(inputs.get(name) ?? []), t]);
      }
    });
    const captured = [...inputs].map(([name, ts]) => ({ name, ...(modules.get(name) as { kind: string; module: Module }), input: ts.length === 1 ? ts[0] : cat(ts, 0) }));
    const samples = batches.reduce((n, b) => n + b.shape[0], 0);
    const layers: LayerEffect[] = [];
    const weightInputs: WeightInput[] = [];
    const skipped: { name: string; reason: string }[] = [];
    for (const c of captured) {
      // A layer whose input has fewer than two non-constant channels (dead units) has no pairs to measure.
      const live = tidy(() => nonConstantChannels(channelObservations(c.input, options.mode ?? 'element')).length);
      if (live < 2) {
        skipped.push({ name: c.name, reason: `${live} non-constant channel(s) of ${c.input.shape[1]}` });
        log(`  ${c.name}: skipped (${skipped[skipped.length - 1].reason})`);
        continue;
      }
      tidy(() => {
        if (c.kind === 'ic') {
          const params = Object.fromEntries(c.module.namedParameters());
          log(`  ${c.name}: dropout at ${options.dropRates.join(', ')} on [${c.input.shape.join(', ')}]`);
          const effects = icDropoutEffect(c.input, { weight: params.weight ?? null, bias: params.bias ?? null }, options.dropRates, options);
          for (const e of effects) layers.push({ name: c.name, ...e });
        } else {
          const m = measureIndependence(c.input, options);
          weightInputs.push({
            name: c.name,
            kind: c.kind,
            channels: m.channels.length,
            totalChannels: m.totalChannels,
            observations: m.corr.observations,
            corr: m.corr.mean,
            corrSe: m.corr.se,
            mi: m.mi.mean,
            miSe: m.mi.se,
            entropy: m.entropy.mean,
            inputNonNegative: c.input.ge(0).to('float64').mean().item() as number,
          });
        }
      });
    }
    const summary = options.dropRates.map((p) => {
      const at = layers.filter((l) => l.dropRate === p);
      return {
        dropRate: p,
        keep: 1 - p,
        layers: at.length,
        corrRatio: mean(at.map((l) => l.corrRatio)),
        corrPredicted: 1 - p,
        corrPredictedMoments: mean(at.map((l) => l.corrPredictedMoments)),
        miRatio: mean(at.map((l) => l.miRatio)),
        miPredicted: (1 - p) ** 2,
        entropyOn: mean(at.map((l) => l.entropyOn)),
        entropyPredicted: mean(at.map((l) => l.entropyPredicted)),
      };
    });
    return { layers, summary: layers.length ? summary : [], weightInputs, skipped, samples };
  });
}

/** One weight layer of one model in `compareGradientSigns`. */
export interface GradientSignEntry {
  /** `baseline`, an IC layout, or `checkpoint` for a given trained model. */
  model: string;
  layout: string;
  layer: string;
  kind: string;
  inputNonNegative: number;
  singleSignFraction: number;
  rows: number;
  /** Mean cosine between successive SGD updates of the layer's weight. */
  updateCosine: number;
}

/** Options of `compareGradientSigns`. */
export interface CompareGradientOptions {
  /** Layouts built fresh from `spec` with `seed` (default all four). */
  layouts?: readonly Layout[];
  /**
   * Drop rate of the fresh IC layouts (default: the spec's). 0 isolates where the normalisation sits from
   * the gradient noise dropout adds, which by itself lowers successive-update cosines.
   */
  dropRate?: number;
  /** Also examine this (trained) model, labelled `checkpoint`. */
  trained?: Module;
  /** Seed of the fresh models and of the batches (default 0). */
  seed?: number;
  /** Samples whose per-sample gradients are examined (default 4; at most the batch). */
  samples?: number;
  /** SGD steps whose updates are compared (default 5). */
  steps?: number;
  /** Learning rate of those steps (default 0.1). */
  lr?: number;
  /** Which weight layers to report, by name (default: all). */
  layers?: RegExp;
  /** Device to run on (default 'cpu'). */
  device?: string;
  /** Called with a line of progress now and then. */
  log?: (line: string) => void;
}

/**
 * Per-sample gradient signs (`gradientSigns`, on the first batch) and successive-update cosines
 * (`updateCosines`: plain SGD cycling over `batches`) of weight layers, for fresh models of each layout
 * built from `spec` with the same seed (and a trained model if given). `batches` are normalised inputs
 * with their labels. Fresh models are disposed; the trained model's weights are changed by the SGD steps.
 */
export function compareGradientSigns(spec: ModelSpec, batches: readonly { x: Tensor; labels: Tensor }[], options: CompareGradientOptions = {}): GradientSignEntry[] {
  const layouts = options.layouts ?? LAYOUTS;
  const seed = options.seed ?? 0;
  const pattern = options.layers ?? /.*/;
  const select = (name: string) => pattern.test(name);
  const log = options.log ?? (() => {});
  const out: GradientSignEntry[] = [];
  const examine = (label: string, layout: string, model: Module) => {
    manualSeed(seed);
    const signs = gradientSigns(model, batches[0].x, batches[0].labels, { samples: options.samples, select });
    manualSeed(seed);
    const cos = updateCosines(model, batches, { steps: options.steps, lr: options.lr, select });
    for (const s of signs) out.push({ model: label, layout, ...s, updateCosine: cos.get(s.layer) ?? NaN });
  };
  if (options.trained) {
    log('  gradients: checkpoint');
    examine('checkpoint', String(spec.args.layout ?? ''), options.trained);
  }
  for (const layout of layouts) {
    log(`  gradients: fresh ${layout}`);
    manualSeed(seed);
    const args = { ...spec.args, layout, dropRate: layout === 'baseline' ? 0 : (options.dropRate ?? spec.args.dropRate) };
    const model = buildModel({ name: spec.name, args });
    try {
      if (options.device) model.to({ device: options.device });
      examine(layout, layout, model);
    } finally {
      model.dispose();
    }
  }
  return out;
}
