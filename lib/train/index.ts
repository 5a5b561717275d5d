/** Training: optimiser, loop, evaluation. */
export * from './sgd';
export * from './fit';
