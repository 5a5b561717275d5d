/**
 * Optimisers (`torch.optim`): SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam, Adadelta behind one interface, learning-rate schedulers,
 * Stochastic Weight Averaging (`swa_utils`) and gradient clipping.
 * @module
 */
export * from './optimizer';
export * from './sgd';
export * from './adam';
export * from './rmsprop';
export * from './adagrad';
export * from './adamax';
export * from './nadam';
export * from './radam';
export * from './adadelta';
export * from './clip';
export * from './scheduler';
export * as lrScheduler from './scheduler';
export * from './swa';
export * as swaUtils from './swa';
