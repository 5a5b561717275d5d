/** Analysing activations: the paper's independence theory and gradient-sign argument measured on a model. */
export * from './capture';
export * from './observations';
export * from './correlation';
export * from './information';
export * from './independence';
export * from './gradients';
export * from './analyze';
export { renderRatioSvg, writeRatioPlot } from './plot';
export type { RatioPoint } from './plot';
