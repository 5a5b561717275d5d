/** Training: optimiser, schedules, the native training step, the run loop and its I/O. */
export * from './sgd';
export * from './schedule';
export * from './trainer';
export * from './fit';
export * from './io';
