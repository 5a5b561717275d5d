/**
 * The paper's argument for normalising after ReLU, measured: a weight layer fed non-negative inputs (raw
 * ReLU outputs) gets per-sample weight-gradient rows whose entries all share one sign, which makes SGD
 * zig-zag.
 *
 * Per-sample gradient (`gradientSigns`). With the model in training mode and a batch of B samples, the
 * batch loss L (mean cross-entropy) has weight gradient ∇_W L = Σ_s g_s, where g_s is sample s's
 * contribution: the weight gradient of the layer's own map on sample s's input alone, pulled back from
 * δ_s = ∂L/∂y_s (the gradient of the batch loss at that sample's layer output, so BatchNorm's coupling of
 * the samples is in δ). For a linear layer g_s = δ_s x_sᵀ; for a convolution, g_s[o, c, u, v] =
 * Σ_positions δ_s[o, pos] · x_s[c, pos + (u, v)]. Row o of g_s is its `[in-channels × kernel]` entries for
 * output unit (channel) o. A row is single-signed when all its entries are ≥ 0 or all are ≤ 0; rows that are
 * entirely zero (a dead unit) are left out. `singleSignFraction` is the fraction of single-signed rows over
 * the output units and the samples examined. With non-negative inputs a linear layer's rows are single-signed
 * by construction (fraction 1); a convolution's row sums over positions with δ of either sign, so the
 * fraction measures how much of that survives.
 *
 * Successive-update cosine (`updateCosines`): plain SGD (no momentum, no weight decay) for a few steps on a
 * fixed list of batches (cycled); for each layer, the cosine between the weight updates of steps t and
 * t + 1, averaged over t. Zig-zagging shows as low or negative cosines.
 */
import { autograd, noGrad } from '../autograd';
import { crossEntropy } from '../nn/functional';
import type { Module } from '../nn/module';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { checkInt, checkNumber, typeError } from '../validate';
import { forwardCapture, WEIGHT_KINDS } from './capture';

/** Per-layer result of `gradientSigns`. */
export interface GradientSignRow {
  layer: string;
  kind: string;
  /** Fraction of the layer's input entries (over the whole batch) that are ≥ 0. */
  inputNonNegative: number;
  /** Fraction of single-signed per-sample gradient rows (see the file comment). */
  singleSignFraction: number;
  /** Non-zero rows examined (output units × samples). */
  rows: number;
}

/** Options of `gradientSigns`. */
export interface GradientSignOptions {
  /** Samples of the batch whose contributions are examined (default 4; the first ones). */
  samples?: number;
  /** Which weight layers (by dotted name; default all conv2d/linear layers). */
  select?: (name: string) => boolean;
}

function weightOf(op: string, name: string, m: Module): Tensor {
  const w = m.namedParameters().find(([k]) => k === 'weight')?.[1];
  if (!w) throw new Error(`${op}: layer "${name}" has no weight parameter`);
  return w;
}

/** One weight layer's per-sample weight-gradient contributions (see the file comment). */
export interface PerSampleGradients {
  layer: string;
  kind: string;
  /** The layer's input over the whole batch (detached). */
  input: Tensor;
  /** g_s for the first `samples` samples, each shaped like the weight. */
  perSample: Tensor[];
}

/**
 * Per-sample contributions g_s to the weight gradient of the batch loss (mean cross-entropy of `model` on
 * `(x, labels)` in its current mode) for every selected weight layer: Σ over all samples of g_s is
 * ∇_W L. The tensors belong to the caller (use `tidy`).
 */
export function perSampleGradients(model: Module, x: Tensor, labels: Tensor, options: GradientSignOptions = {}): PerSampleGradients[] {
  const op = 'perSampleGradients';
  if (!(x instanceof Tensor)) throw typeError(op, 'x', 'a float Tensor [B, ...]', x);
  if (!(labels instanceof Tensor)) throw typeError(op, 'labels', 'an int64 Tensor [B]', labels);
  const samples = Math.min(x.shape[0], checkInt(op, 'samples', options.samples ?? 4, 1));
  const select = options.select ?? (() => true);
  return tidy(() => {
    const out: PerSampleGradients[] = [];
    const { output, layers } = forwardCapture(model, x, (name, kind) => WEIGHT_KINDS.includes(kind) && select(name));
    if (layers.length === 0) return out;
    const deltas = autograd.grad(crossEntropy(output, labels), layers.map((l) => l.output)) as Tensor[];
    layers.forEach((l, k) => {
      const w = weightOf(op, l.name, l.module);
      const perSample: Tensor[] = [];
      for (let s = 0; s < samples; s++) {
        // g_s: the layer's own map on sample s alone, pulled back from δ_s (linear in W, so exact).
        const ys = l.module.forward(l.input.narrow(0, s, 1).detach());
        const [g] = autograd.grad(ys, [w], { gradOutputs: [deltas[k].narrow(0, s, 1)] }) as Tensor[];
        perSample.push(g);
      }
      out.push({ layer: l.name, kind: l.kind, input: l.input.detach(), perSample });
    });
    return out;
  });
}

/**
 * Per-sample weight-gradient sign structure of every weight layer of `model` on the batch `(x, labels)`,
 * in training mode (the model is left in training mode; its running statistics see one more batch).
 */
export function gradientSigns(model: Module, x: Tensor, labels: Tensor, options: GradientSignOptions = {}): GradientSignRow[] {
  model.train();
  return tidy(() => {
    const layers = perSampleGradients(model, x, labels, options);
    return layers.map((l) => {
      let single = 0, nonzero = 0;
      tidy(() => {
        for (const g of l.perSample) {
          const rows = g.reshape(g.shape[0], -1);
          const mn = rows.amin(1), mx = rows.amax(1);
          const live = mn.ne(0).logicalOr(mx.ne(0));
          single += mn.ge(0).logicalOr(mx.le(0)).logicalAnd(live).sum().item() as number;
          nonzero += live.sum().item() as number;
        }
      });
      const nonNeg = tidy(() => l.input.ge(0).to('float64').mean().item() as number);
      return { layer: l.layer, kind: l.kind, inputNonNegative: nonNeg, singleSignFraction: nonzero ? single / nonzero : NaN, rows: nonzero };
    });
  });
}

/** Options of `updateCosines`. */
export interface UpdateCosineOptions {
  /** SGD steps (default 5; at least 2). */
  steps?: number;
  /** Learning rate of the plain SGD steps (default 0.1). */
  lr?: number;
  /** Which weight layers (by dotted name of the layer; default all conv2d/linear layers). */
  select?: (name: string) => boolean;
}

/**
 * Runs `steps` plain SGD steps on `model` (in place, training mode) over `batches` (cycled) and returns, per
 * weight layer, the mean cosine between successive weight updates (see the file comment).
 */
export function updateCosines(model: Module, batches: readonly { x: Tensor; labels: Tensor }[], options: UpdateCosineOptions = {}): Map<string, number> {
  const op = 'updateCosines';
  if (!Array.isArray(batches) || batches.length === 0) throw typeError(op, 'batches', 'a non-empty array of {x, labels}', batches);
  const steps = checkInt(op, 'steps', options.steps ?? 5, 2);
  const lr = checkNumber(op, 'lr', options.lr ?? 0.1);
  const select = options.select ?? (() => true);
  model.train();
  return tidy(() => {
    const params = model.namedParameters();
    const weights = tidy(() => {
      const names = new Set<string>();
      // Weight layers are the leaves of kind conv2d/linear; their weight is `<layer>.weight`.
      const visit = (m: Module, name: string) => {
        const kids = m.namedChildren();
        if (kids.length === 0 && WEIGHT_KINDS.includes(m.kind) && select(name)) names.add(`${name}.weight`);
        for (const [k, c] of kids) visit(c, name ? `${name}.${k}` : k);
      };
      visit(model, '');
      return names;
    });
    const tracked = params.filter(([k]) => weights.has(k));
    const sums = new Map<string, number>(tracked.map(([k]) => [k, 0]));
    let previous: Tensor[] | null = null;
    for (let t = 0; t < steps; t++) {
      const { x, labels } = batches[t % batches.length];
      const grads = tidy(() => {
        for (const [, p] of params) p.zeroGrad();
        crossEntropy(model.forward(x), labels).backward();
        const gs = tracked.map(([, p]) => (p.grad as Tensor).clone());
        noGrad(() => {
          for (const [, p] of params) {
            const g = p.grad;
            if (g) p.sub_(g.mul(lr));
          }
        });
        return gs;
      });
      if (previous) {
        const prev: Tensor[] = previous;
        tidy(() =>
          tracked.forEach(([k], i) => {
            const a = prev[i], b = grads[i];
            const cos = (a.mul(b).sum().item() as number) / Math.sqrt((a.square().sum().item() as number) * (b.square().sum().item() as number));
            sums.set(k, (sums.get(k) as number) + cos);
          }),
        );
        prev.forEach((g) => g.dispose());
      }
      previous = grads;
    }
    previous?.forEach((g) => g.dispose());
    for (const [, p] of params) p.zeroGrad();
    return new Map([...sums].map(([k, v]) => [k.replace(/\.weight$/, ''), v / (steps - 1)]));
  });
}
