/** The paper's networks and the model registry. */
export * from './resnet';
export * from './registry';
