/**
 * Model registry: every model can be rebuilt from `{name, args}` alone (what the CLI and checkpoints store).
 * Your own networks (nn.Module subclasses, native or written in JS) join it with `registerModel`, and then
 * `fit({model: {name, args}})` and checkpoints rebuild them as they do the ResNets.
 */
import { Module } from '../nn/module';
import { typeError } from '../validate';
import { resnetCifar, resnetImageNet, type ResNetCifarOptions, type ResNetImageNetOptions } from './resnet';

/** A model description that `buildModel` turns back into a network. */
export interface ModelSpec {
  name: string;
  args: Record<string, unknown>;
}

/** Builds a model from its arguments. */
export type ModelBuilder = (args: Record<string, unknown>) => Module;
type Builder = ModelBuilder;

const registry = new Map<string, Builder>([
  ['resnet', (a) => resnetCifar({ ...(a as unknown as ResNetCifarOptions), bottleneck: false })],
  ['resnet-b', (a) => resnetCifar({ ...(a as unknown as ResNetCifarOptions), bottleneck: true })],
  ['resnet-cifar', (a) => resnetCifar(a as unknown as ResNetCifarOptions)],
  ['resnet18', (a) => resnetImageNet({ ...(a as object), depth: 18 } as ResNetImageNetOptions)],
  ['resnet34', (a) => resnetImageNet({ ...(a as object), depth: 34 } as ResNetImageNetOptions)],
  ['resnet50', (a) => resnetImageNet({ ...(a as object), depth: 50 } as ResNetImageNetOptions)],
  ['resnet101', (a) => resnetImageNet({ ...(a as object), depth: 101 } as ResNetImageNetOptions)],
  ['resnet152', (a) => resnetImageNet({ ...(a as object), depth: 152 } as ResNetImageNetOptions)],
]);

/** Names `buildModel` knows. */
export function modelNames(): string[] {
  return [...registry.keys()];
}

/**
 * Registers a model builder under `name` (for user-defined networks that `fit` and checkpoints should
 * rebuild): `registerModel('two-branch', (a) => new TwoBranch(a.classes as number))`. A name already taken is
 * replaced.
 */
export function registerModel(name: string, builder: Builder): void {
  if (typeof name !== 'string' || !name) throw typeError('registerModel', 'name', 'a non-empty string', name);
  if (typeof builder !== 'function') throw typeError('registerModel', 'builder', 'a function (args) => Module', builder);
  registry.set(name, builder);
}

/** Rebuilds a model from its spec: `buildModel({name: 'resnet', args: {depth: 110, layout: 'relu-ic-conv'}})`. */
export function buildModel(spec: ModelSpec): Module {
  const b = registry.get(spec?.name);
  if (!b) throw typeError('buildModel', 'name', `one of ${modelNames().join(', ')}`, spec?.name);
  const m = b(spec.args ?? {});
  if (!(m instanceof Module)) throw typeError('buildModel', `the builder of "${spec.name}"`, 'to return an nn.Module', m);
  return m;
}
