/**
 * The published results that `ictorch reproduce` compares against: Chen et al., "Rethinking the Usage of
 * Batch Normalization and Dropout in the Training of Deep Neural Networks", CIFAR test accuracy
 * (fractions) of ResNet and ResNet-B at depths 110 and 164, per unit layout. The paper reports ImageNet
 * (ResNet-18/50) as top-1/top-5 1-crop validation error curves, so it has no single figure here.
 */
import type { Layout } from '../models/resnet';

/** One row of the paper's CIFAR table. */
export interface PublishedRow {
  /** ictorch model name: `resnet` (two-layer units) or `resnet-b` (three-layer bottleneck units). */
  model: 'resnet' | 'resnet-b';
  /** The paper's depth, which is also ictorch's `depth` argument (see `PAPER_DEPTH_NOTE`). */
  depth: number;
  layout: Layout;
  /** How the paper names the unit, e.g. "2×{ReLU-IC-Conv2D}". */
  unit: string;
  /** Test accuracy on CIFAR-10 and CIFAR-100 (fractions). */
  cifar10: number;
  cifar100: number;
}

const UNIT: Record<Layout, string> = {
  'relu-ic-conv': '{ReLU-IC-Conv2D}',
  'ic-conv-relu': '{IC-Conv2D-ReLU}',
  'conv-relu-ic': '{Conv2D-ReLU-IC}',
  baseline: 'Baseline',
};

function row(model: 'resnet' | 'resnet-b', depth: number, layout: Layout, cifar10: number, cifar100: number): PublishedRow {
  const unit = layout === 'baseline' ? UNIT.baseline : `${model === 'resnet' ? 2 : 3}×${UNIT[layout]}`;
  return { model, depth, layout, unit, cifar10, cifar100 };
}

/** The paper's CIFAR table, in its order. */
export const PUBLISHED_CIFAR: readonly PublishedRow[] = [
  row('resnet', 110, 'relu-ic-conv', 0.9361, 0.725),
  row('resnet', 110, 'ic-conv-relu', 0.9352, 0.7165),
  row('resnet', 110, 'conv-relu-ic', 0.9408, 0.7174),
  row('resnet', 110, 'baseline', 0.9292, 0.6893),
  row('resnet', 164, 'relu-ic-conv', 0.9395, 0.7224),
  row('resnet', 164, 'ic-conv-relu', 0.9366, 0.7273),
  row('resnet', 164, 'conv-relu-ic', 0.9411, 0.7237),
  row('resnet', 164, 'baseline', 0.9339, 0.6981),
  row('resnet-b', 110, 'relu-ic-conv', 0.9448, 0.7563),
  row('resnet-b', 110, 'ic-conv-relu', 0.9425, 0.7532),
  row('resnet-b', 110, 'conv-relu-ic', 0.9433, 0.7482),
  row('resnet-b', 110, 'baseline', 0.9333, 0.7387),
  row('resnet-b', 164, 'relu-ic-conv', 0.9445, 0.758),
  row('resnet-b', 164, 'ic-conv-relu', 0.9424, 0.7616),
  row('resnet-b', 164, 'conv-relu-ic', 0.9453, 0.7548),
  row('resnet-b', 164, 'baseline', 0.9355, 0.7465),
];

/** Epochs of the paper's CIFAR schedule (He et al.'s 64k iterations at batch 128). */
export const PAPER_CIFAR_EPOCHS = 164;

/** Epochs of the standard ImageNet ResNet schedule (He et al.), the reference for a "short" ImageNet run. */
export const IMAGENET_REFERENCE_EPOCHS = 90;

/**
 * How the paper's depths map to ictorch's `depth`: the same number. ResNet has two 3×3 layers per unit,
 * depth 6n+2 (110: n = 18, 164: n = 27 units per stage); ResNet-B has three layers per (1×1, 3×3, 1×1
 * bottleneck) unit, depth 9n+2 (110: n = 12, 164: n = 18), the 164-layer bottleneck ResNet of He et al.
 * Both paper depths are of ictorch's forms, so nothing is substituted.
 */
export const PAPER_DEPTH_NOTE =
  'Depths are the paper\'s: `resnet` is 6n+2 with two 3×3 layers per unit (110: n = 18, 164: n = 27 units per stage); ' +
  '`resnet-b` is 9n+2 with three layers (1×1, 3×3, 1×1) per bottleneck unit (110: n = 12, 164: n = 18, He et al.\'s ResNet-164).';

/** The paper's CIFAR figure for a cell group, or null where the paper has none (another depth, synthetic data). */
export function publishedCifar(dataset: string, model: string, depth: number, layout: string): number | null {
  if (dataset !== 'cifar10' && dataset !== 'cifar100') return null;
  const r = PUBLISHED_CIFAR.find((p) => p.model === model && p.depth === depth && p.layout === layout);
  return r ? r[dataset] : null;
}
