/**
 * Forward capture: runs a model exactly as its native forward does, by walking the module tree in
 * TypeScript and calling each leaf's own native forward, and hands the input and output of chosen leaves
 * to the caller. Sequential: children in order. Residual (native `ResidualLayer::forward`): body layers,
 * then the shortcut `downsample` on the unit's input (identity when absent), the sum, then the post
 * layers. Leaves run in the same order as natively, so dropout masks drawn from the generator and
 * running-statistics updates are the same as in `model.forward` with the same seed.
 *
 * The native module tree does not say where a residual unit's body ends and its post layers begin
 * (children are listed body, `downsample`, post; with no `downsample` the two lists run together). The
 * split is found once per model by a probe in evaluation mode (deterministic: no dropout, no statistics
 * update, no generator use): the first split, preferring the fewest post layers, whose walked output equals
 * the unit's native output bit for bit. Splits that differ only by identity-like layers give the same
 * output and are not told apart; such layers are never weight or IC layers. When modules gain forward
 * hooks, this file is the one to switch to them.
 */
import { noGrad } from '../autograd';
import type { Module } from '../nn/module';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { typeError } from '../validate';

/** One captured leaf: its dotted name, kind (`conv2d`, `linear`, `ic`, ...), module, input and output. */
export interface CapturedLayer {
  name: string;
  kind: string;
  module: Module;
  /** The tensor the leaf received (part of the autograd graph when gradients are on). */
  input: Tensor;
  /** The tensor the leaf returned. */
  output: Tensor;
}

/** Which leaves to capture: called with the dotted name and the kind of each leaf. */
export type LayerSelector = (name: string, kind: string) => boolean;

/** The result of `forwardCapture`: the model's output and the captured leaves in execution order. */
export interface CaptureResult {
  output: Tensor;
  layers: CapturedLayer[];
}

// Residual splits (index of the first post layer among the non-shortcut children) per model and unit name.
const splitCache = new WeakMap<object, Map<string, number>>();

interface Ctx {
  splits: Map<string, number>;
  select: LayerSelector;
  layers: CapturedLayer[];
  kept: Set<Tensor>;
  /** Planning pass: residual splits are found against the native forward (evaluation mode only). */
  planning: boolean;
}

function sameTensor(a: Tensor, b: Tensor): boolean {
  const sa = a.shape, sb = b.shape;
  if (sa.length !== sb.length || sa.some((s, i) => s !== sb[i])) return false;
  return tidy(() => a.eq(b).all().item() === true);
}

// The split of one residual unit: the unit's output must equal post(body(x) + shortcut(x)).
function findSplit(unit: Module, name: string, rest: [string, Module][], shortcut: Module | null, x: Tensor): number {
  return tidy(() => {
    const reference = unit.forward(x);
    const sc = shortcut ? shortcut.forward(x) : x;
    const prefix: Tensor[] = [x];
    for (const [, c] of rest) prefix.push(c.forward(prefix[prefix.length - 1]));
    for (let split = rest.length; split >= 0; split--) {
      const body = prefix[split];
      if (body.shape.length !== sc.shape.length || body.shape.some((s, i) => s !== sc.shape[i])) continue;
      let y = body.add(sc);
      try {
        for (let k = split; k < rest.length; k++) y = rest[k][1].forward(y);
      } catch {
        continue; // post layers that cannot take this shape: not the split
      }
      if (sameTensor(y, reference)) return split;
    }
    throw new Error(
      `forwardCapture: cannot tell where the body of residual unit "${name}" ends: no split of its children ` +
        `[${rest.map(([k]) => k).join(', ')}] into body and post layers reproduces its native forward`,
    );
  });
}

function walk(m: Module, name: string, x: Tensor, ctx: Ctx): Tensor {
  const kind = m.kind;
  const prefix = name ? `${name}.` : '';
  // A container disposes the intermediate results it received from its children once the next child has
  // consumed them (the autograd graph keeps its own references), unless they were captured.
  const step = (child: Module, childName: string, input: Tensor, owned: boolean): Tensor => {
    const y = walk(child, childName, input, ctx);
    if (owned && y !== input && !ctx.kept.has(input)) input.dispose();
    return y;
  };
  if (kind === 'sequential') {
    let y = x;
    for (const [k, c] of m.namedChildren()) y = step(c, prefix + k, y, y !== x);
    return y;
  }
  if (kind === 'residual') {
    const children = m.namedChildren();
    const sc = children.find(([k]) => k === 'downsample')?.[1] ?? null;
    const rest = children.filter(([k]) => k !== 'downsample');
    let split = ctx.splits.get(name);
    if (split === undefined) {
      if (!ctx.planning) throw new Error(`forwardCapture: no plan for residual unit "${name}"`);
      split = findSplit(m, name, rest, sc, x);
      ctx.splits.set(name, split);
    }
    let y = x;
    for (let k = 0; k < split; k++) y = step(rest[k][1], prefix + rest[k][0], y, y !== x);
    const s = sc ? walk(sc, `${prefix}downsample`, x, ctx) : x;
    const sum = y.add(s);
    if (y !== x && !ctx.kept.has(y)) y.dispose();
    if (s !== x && !ctx.kept.has(s)) s.dispose();
    y = sum;
    for (let k = split; k < rest.length; k++) y = step(rest[k][1], prefix + rest[k][0], y, true);
    return y;
  }
  const y = m.forward(x);
  if (ctx.select(name, kind)) {
    ctx.layers.push({ name, kind, module: m, input: x, output: y });
    ctx.kept.add(x);
    ctx.kept.add(y);
  }
  return y;
}

// Every module of the tree with its own training flag, parents before children.
function modes(m: Module, out: [Module, boolean][] = []): [Module, boolean][] {
  out.push([m, m.training]);
  for (const [, c] of m.namedChildren()) modes(c, out);
  return out;
}

/**
 * Finds (once per model, then cached) where each residual unit's body ends, with a probe forward of the
 * first sample of `input` in evaluation mode without gradients. Every module's own training flag is
 * restored afterwards.
 */
export function planCapture(model: Module, input: Tensor): Map<string, number> {
  const cached = splitCache.get(model);
  if (cached) return cached;
  const saved = modes(model);
  const splits = new Map<string, number>();
  model.eval();
  try {
    tidy(() => noGrad(() => walk(model, '', input.narrow(0, 0, 1), { splits, select: () => false, layers: [], kept: new Set(), planning: true })));
  } finally {
    for (const [m, flag] of saved) m.train(flag);
  }
  splitCache.set(model, splits);
  return splits;
}

/**
 * Runs `model` on `input` exactly as `model.forward(input)` does (same values, same generator draws, same
 * running-statistics updates, in the model's current mode and the current grad mode) and captures the
 * leaves `select` picks. Intermediate tensors that are not captured are freed as the walk goes; the
 * output and the captured tensors belong to the caller (use `tidy`).
 */
export function forwardCapture(model: Module, input: Tensor, select: LayerSelector): CaptureResult {
  if (!(input instanceof Tensor)) throw typeError('forwardCapture', 'input', 'a Tensor', input);
  if (typeof select !== 'function') throw typeError('forwardCapture', 'select', 'a function (name, kind) => boolean', select);
  const splits = planCapture(model, input);
  const ctx: Ctx = { splits, select, layers: [], kept: new Set(), planning: false };
  const output = walk(model, '', input, ctx);
  return { output, layers: ctx.layers };
}

/** The kinds of weight layers (their inputs are what the IC layer is meant to decorrelate). */
export const WEIGHT_KINDS: readonly string[] = ['conv2d', 'linear'];
