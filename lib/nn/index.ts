/** Neural-network building blocks (`nn.Conv2d`, `nn.IC`, `nn.Sequential`, ...). */
export { Module, Parameter } from './module';
export type { StateDict, LoadResult, ForwardHook, ForwardPreHook, RemovableHandle } from './module';
export * from './layers';
export * from './functional';
export * from './init';
