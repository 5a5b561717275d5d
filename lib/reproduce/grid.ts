/**
 * The experiment grid of `ictorch reproduce`: the cells (data set × model × depth × layout × seed) of a
 * table slice, the run directory of each, and the full `fit` config each one trains with (the table's
 * recipe, `tables.ts`, with every setting overridable).
 */
import * as path from 'path';
import type { Layout } from '../models/resnet';
import { DEFAULT_CONFIG, type TrainConfig } from '../train/fit';
import type { ReproduceDataset } from './data-root';
import { DATASET_CLASSES, depthOfModel, groupName, TABLE_SPECS, type TableName } from './tables';

/** One cell: one training run. */
export interface Cell {
  /** Stable name, also the run directory's name: `cifar10-resnet-110-relu-ic-conv-seed0`. */
  id: string;
  table: TableName;
  dataset: ReproduceDataset;
  model: string;
  depth: number;
  layout: Layout;
  seed: number;
  /** The cell group (the cell without its seed): `cifar10-resnet-110-relu-ic-conv`. */
  group: string;
  /** The run directory (absolute). */
  dir: string;
  /** The complete `fit` config of this cell. */
  config: TrainConfig;
}

/** What a grid is made of. */
export interface GridOptions {
  table: TableName;
  datasets: ReproduceDataset[];
  models: string[];
  /** CIFAR depths (each model gets each depth); ignored for ImageNet (the model name fixes it). */
  depths: number[];
  layouts: Layout[];
  /** Seeds 0..seeds-1. */
  seeds: number;
  /** Root of the run directories. */
  out: string;
  /** The data spec of each data set in the grid. */
  specs: Partial<Record<ReproduceDataset, string>>;
  /** `TrainConfig` fields set by flags (over the table's recipe). */
  overrides: Partial<TrainConfig>;
  /** IC dropout rate (default: ictorch's, 0.05; the baseline has none). */
  dropRate?: number;
  /** Width multiplier of the CIFAR ResNets (default 1). */
  width?: number;
  /**
   * Linear learning-rate warm-up, in epochs, for the baselines of 110 layers or more (He et al. train
   * ResNet-110 at lr 0.01 for about the first 400 iterations, ≈1 epoch; ictorch's warm-up is linear).
   */
  baselineWarmupEpochs: number;
}

/**
 * Every cell of the grid, in run order: data set, then seed, then model, depth and layout, so that a grid
 * cut short still holds every layout of the first seed.
 */
export function buildGrid(o: GridOptions): Cell[] {
  const table = TABLE_SPECS[o.table];
  const cells: Cell[] = [];
  const depths = table.defaultDepths === null ? [0] : o.depths;
  for (const dataset of o.datasets) {
    const spec = o.specs[dataset];
    if (spec === undefined) throw new Error(`reproduce: no data spec for ${dataset}`);
    for (let seed = 0; seed < o.seeds; seed++) {
      for (const model of o.models) {
        for (const d of depths) {
          const depth = depthOfModel(model, d);
          for (const layout of o.layouts) {
            const group = groupName(dataset, model, depth, layout);
            const id = `${group}-seed${seed}`;
            const dir = path.resolve(o.out, id);
            const dropRate = o.dropRate ?? (layout === 'baseline' ? 0 : 0.05);
            const args: Record<string, unknown> =
              table.defaultDepths === null
                ? { layout, dropRate, classes: DATASET_CLASSES[dataset] }
                : { depth, layout, dropRate, width: o.width ?? 1, classes: DATASET_CLASSES[dataset] };
            const warm = layout === 'baseline' && depth >= 110 && o.baselineWarmupEpochs > 0 ? { warmupEpochs: o.baselineWarmupEpochs } : {};
            const config: TrainConfig = {
              ...DEFAULT_CONFIG,
              ...table.recipe,
              ...o.overrides,
              ...warm,
              model: { name: model, args },
              data: spec,
              seed,
              outDir: dir,
            };
            cells.push({ id, table: o.table, dataset, model, depth, layout, seed, group, dir, config });
          }
        }
      }
    }
  }
  return cells;
}
