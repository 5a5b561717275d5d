/** Data-parallel training across processes and machines: process groups, collectives and the launcher. */
export {
  ProcessGroup, initProcessGroup, destroyProcessGroup, isInitialized, isAvailable, isGlooAvailable, getRank, getWorldSize,
  defaultProcessGroup, DEFAULT_TIMEOUT_MS,
} from './process-group';
export type { Backend, InitProcessGroupOptions } from './process-group';
export { allReduce, broadcast, allGather, barrier, broadcastObjectList, allGatherObject } from './collectives';
export type { ReduceOp } from './collectives';
export { launch, freePort } from './launch';
export type { LaunchOptions, LaunchResult, RankExit } from './launch';
