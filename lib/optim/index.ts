/**
 * Optimisers (`torch.optim`): SGD, Adam, AdamW behind one interface, learning-rate schedulers and gradient clipping.
 * @module
 */
export * from './optimizer';
export * from './sgd';
export * from './adam';
export * from './clip';
export * from './scheduler';
export * as lrScheduler from './scheduler';
