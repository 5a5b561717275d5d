/**
 * The tables `ictorch reproduce` knows (CIFAR: the paper's table; ImageNet: ResNet-18/50, IC vs baseline):
 * their data sets, models, depths and layouts, and the training recipe of each. No native code is loaded
 * here, so the command checks its flags before loading LibTorch.
 */
import type { Layout } from '../models/resnet';
import type { TrainConfig } from '../train/fit';
import type { ReproduceDataset } from './data-root';
import { IMAGENET_REFERENCE_EPOCHS, PAPER_CIFAR_EPOCHS } from './published';

/** The unit layouts of the paper's table, in its order (the same names as `LAYOUTS` of the model builders). */
export const PAPER_LAYOUTS: readonly Layout[] = ['relu-ic-conv', 'ic-conv-relu', 'conv-relu-ic', 'baseline'];

/** The tables `ictorch reproduce` knows. */
export const TABLES = ['cifar', 'imagenet'] as const;
/** A table name. */
export type TableName = (typeof TABLES)[number];

/** What each table allows and starts from. */
export interface TableSpec {
  datasets: readonly ReproduceDataset[];
  defaultDatasets: ReproduceDataset[];
  models: readonly string[];
  defaultModels: string[];
  /** Depths per model name (CIFAR) or null where the model name fixes the depth (ImageNet). */
  defaultDepths: number[] | null;
  defaultLayouts: Layout[];
  /** The recipe: every `TrainConfig` field this table sets on top of `DEFAULT_CONFIG`. */
  recipe: Partial<TrainConfig>;
}

/** The tables: CIFAR (the paper's table) and ImageNet (ResNet-18/50, IC vs baseline). */
export const TABLE_SPECS: Record<TableName, TableSpec> = {
  cifar: {
    datasets: ['cifar10', 'cifar100', 'synthetic'],
    defaultDatasets: ['cifar10', 'cifar100'],
    models: ['resnet', 'resnet-b'],
    defaultModels: ['resnet', 'resnet-b'],
    defaultDepths: [110, 164],
    defaultLayouts: [...PAPER_LAYOUTS],
    // He et al.'s CIFAR recipe, which the paper follows: batch 128, lr 0.1, momentum 0.9, weight decay 1e-4,
    // lr ÷10 at 32k and 48k of 64k iterations (50% and 75%: ictorch's `step` schedule), 164 epochs.
    recipe: { epochs: PAPER_CIFAR_EPOCHS, batchSize: 128, lr: 0.1, momentum: 0.9, weightDecay: 1e-4, schedule: 'step', warmupEpochs: 0 },
  },
  imagenet: {
    datasets: ['imagenet'],
    defaultDatasets: ['imagenet'],
    models: ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152'],
    defaultModels: ['resnet18', 'resnet50'],
    defaultDepths: null,
    defaultLayouts: ['baseline', 'relu-ic-conv'],
    // He et al.'s ImageNet recipe: batch 256, lr 0.1, momentum 0.9, weight decay 1e-4, 90 epochs. Their lr
    // drops ÷10 at epochs 30 and 60; ictorch's `step` schedule drops at 50% and 75% (45 and 67.5 of 90).
    recipe: { epochs: IMAGENET_REFERENCE_EPOCHS, batchSize: 256, lr: 0.1, momentum: 0.9, weightDecay: 1e-4, schedule: 'step', warmupEpochs: 0 },
  },
};

/** Classes of each data set. */
export const DATASET_CLASSES: Record<ReproduceDataset, number> = { cifar10: 10, cifar100: 100, synthetic: 10, imagenet: 1000 };

/** The depth a model has: CIFAR models take it as an argument, ImageNet ones carry it in the name. */
export function depthOfModel(model: string, depth: number): number {
  const m = /^resnet(\d+)$/.exec(model);
  return m ? Number(m[1]) : depth;
}

/** Why a CIFAR depth does not fit a model, or null when it does (6n+2 for `resnet`, 9n+2 for `resnet-b`). */
export function depthProblem(model: string, depth: number): string | null {
  const per = model === 'resnet-b' ? 9 : 6;
  if (Number.isInteger(depth) && depth >= per + 2 && (depth - 2) % per === 0) return null;
  const forms = model === 'resnet-b' ? '9n+2 (11, 20, 29, ..., 110, 164, ...)' : '6n+2 (8, 14, 20, ..., 110, 164, ...)';
  return `${model} depth ${depth} is not of the form ${forms}`;
}

/** The group name of a cell (the cell without its seed). */
export function groupName(dataset: string, model: string, depth: number, layout: string): string {
  return /^resnet\d+$/.test(model) ? `${dataset}-${model}-${layout}` : `${dataset}-${model}-${depth}-${layout}`;
}

