/** Neural-network building blocks (`nn.Conv2d`, `nn.IC`, `nn.Sequential`, ...). */
export { Module } from './module';
export type { StateDict, LoadResult } from './module';
export * from './layers';
export * from './functional';
export * from './init';
