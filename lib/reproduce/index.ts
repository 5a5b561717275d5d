/** `ictorch reproduce` as a library: plan a grid of the paper's experiments, run it resumably, report it. */
export { PUBLISHED_CIFAR, PAPER_CIFAR_EPOCHS, PAPER_DEPTH_NOTE, publishedCifar } from './published';
export type { PublishedRow } from './published';
export { locateData, REPRODUCE_DATASETS } from './data-root';
export type { DataLocation, ReproduceDataset } from './data-root';
export { buildGrid } from './grid';
export type { Cell, GridOptions } from './grid';
export { TABLES, TABLE_SPECS, PAPER_LAYOUTS } from './tables';
export type { TableName, TableSpec } from './tables';
export { inspectCell, CellConflict } from './cell-state';
export type { CellState, CellStatus } from './cell-state';
export { planReproduce, runReproduce, reportPlan } from './run';
export type { ReproduceOptions, ReproducePlan, ReproduceResult, ReproduceHooks } from './run';
export type { CellSummary, GroupSummary } from './summary';
export type { ReportFiles } from './report';
