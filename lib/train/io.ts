/** Training I/O: verified checkpoints and weight export, the metrics log, terminal progress and curve plots. */
export * from './checkpoint';
export * from './metrics';
export * from './progress';
export * from './plot';
