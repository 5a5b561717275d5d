/**
 * Model registry: every model can be rebuilt from `{name, args}` alone (what the CLI and checkpoints store).
 */
import type { Sequential } from '../nn/layers';
import { typeError } from '../validate';
import { resnetCifar, resnetImageNet, type ResNetCifarOptions, type ResNetImageNetOptions } from './resnet';

/** A model description that `buildModel` turns back into a network. */
export interface ModelSpec {
  name: string;
  args: Record<string, unknown>;
}

type Builder = (args: Record<string, unknown>) => Sequential;

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

/** Registers a model builder under `name` (for user-defined networks that checkpoints should rebuild). */
export function registerModel(name: string, builder: Builder): void {
  if (typeof name !== 'string' || !name) throw typeError('registerModel', 'name', 'a non-empty string', name);
  registry.set(name, builder);
}

/** Rebuilds a model from its spec: `buildModel({name: 'resnet', args: {depth: 110, layout: 'relu-ic-conv'}})`. */
export function buildModel(spec: ModelSpec): Sequential {
  const b = registry.get(spec?.name);
  if (!b) throw typeError('buildModel', 'name', `one of ${modelNames().join(', ')}`, spec?.name);
  return b(spec.args ?? {});
}
