/** SGD moved to lib/optim (with Adam, AdamW and the schedulers); re-exported here for existing imports. */
export { SGD, paramGroups } from '../optim/sgd';
export type { SGDOptions, SGDParamGroup } from '../optim/sgd';
