/**
 * The ResNets of Chen et al., "Rethinking the Usage of Batch Normalization and Dropout in the Training of
 * Deep Neural Networks": the classic residual unit (`baseline`, Conv-BN-ReLU) and the three IC layouts,
 * where an IC layer (BatchNorm + Dropout) sits before each weight layer:
 *
 *   baseline       conv-bn-relu-conv-bn  (+ shortcut) relu
 *   relu-ic-conv   relu-ic-conv-relu-ic-conv  (+ shortcut)
 *   ic-conv-relu   ic-conv-relu-ic-conv  (+ shortcut) relu
 *   conv-relu-ic   conv-relu-ic-conv  (+ shortcut) relu-ic
 *
 * A unit is a list of layers chosen by the layout name; depth, width and layout are parameters.
 * Parameter matching: every IC layer has learnable scale and shift, and each layout places exactly as many
 * normalised channels as the baseline has BatchNorm channels (the stem and head are arranged so), so
 * `numParameters()` is equal across layouts for the same depth and width.
 */
import * as os from 'os';
import { Conv2d, BatchNorm2d, IC, ReLU, Residual, Sequential, PadShortcut, AdaptiveAvgPool2d, Flatten, Linear, MaxPool2d } from '../nn/layers';
import { kaimingNormal_ } from '../nn/init';
import type { Module } from '../nn/module';
import { tidy } from '../scope';
import { checkInt, checkNumber, checkOneOf, knownOptions, rangeError } from '../validate';

/** The residual unit layouts: the classic baseline and the paper's IC layouts ①②③. */
export const LAYOUTS = ['baseline', 'relu-ic-conv', 'ic-conv-relu', 'conv-relu-ic'] as const;
/** A unit layout name. */
export type Layout = (typeof LAYOUTS)[number];

type Layer = [string, Module];

/** What a unit builder needs to know. */
interface UnitSpec {
  layout: Layout;
  inChannels: number;
  planes: number;
  stride: number;
  dropRate: number;
  bottleneck: boolean;
  /** 'pad' (parameter-free, CIFAR) or 'conv' (1x1 projection + BN, ImageNet). */
  shortcut: 'pad' | 'conv';
}

const EXPANSION = { basic: 1, bottleneck: 4 };

/** The normalisation before/after a weight layer: BN for the baseline, IC otherwise. */
function norm(layout: Layout, channels: number, dropRate: number): Module {
  return layout === 'baseline' ? new BatchNorm2d(channels) : new IC(channels, { dropRate });
}

/** The weight layers of a unit: [name, inChannels, outChannels, kernel, stride]. */
function convsOf(s: UnitSpec): [string, number, number, number, number][] {
  if (!s.bottleneck) {
    return [
      ['conv1', s.inChannels, s.planes, 3, s.stride],
      ['conv2', s.planes, s.planes, 3, 1],
    ];
  }
  return [
    ['conv1', s.inChannels, s.planes, 1, 1],
    ['conv2', s.planes, s.planes, 3, s.stride],
    ['conv3', s.planes, s.planes * EXPANSION.bottleneck, 1, 1],
  ];
}

/** One residual unit, its layers listed in the order the layout names them. */
function unit(s: UnitSpec): Residual {
  const convs = convsOf(s);
  const out = convs[convs.length - 1][2];
  const conv = ([name, cin, cout, k, stride]: [string, number, number, number, number]): Layer => [
    name,
    new Conv2d(cin, cout, k, { stride, padding: k === 3 ? 1 : 0, bias: false }),
  ];
  const body: Layer[] = [];
  const post: Layer[] = [];
  convs.forEach((c, i) => {
    const n = i + 1;
    const last = i === convs.length - 1;
    switch (s.layout) {
      case 'baseline':
        body.push(conv(c), [`bn${n}`, norm(s.layout, c[2], 0)]);
        if (!last) body.push([`relu${n}`, new ReLU()]);
        break;
      case 'relu-ic-conv':
        body.push([`relu${n}`, new ReLU()], [`ic${n}`, norm(s.layout, c[1], s.dropRate)], conv(c));
        break;
      case 'ic-conv-relu':
        body.push([`ic${n}`, norm(s.layout, c[1], s.dropRate)], conv(c));
        if (!last) body.push([`relu${n}`, new ReLU()]);
        break;
      case 'conv-relu-ic':
        body.push(conv(c));
        if (!last) body.push([`relu${n}`, new ReLU()], [`ic${n}`, norm(s.layout, c[2], s.dropRate)]);
        break;
    }
  });
  if (s.layout === 'baseline' || s.layout === 'ic-conv-relu') post.push(['relu', new ReLU()]);
  if (s.layout === 'conv-relu-ic') post.push(['relu', new ReLU()], [`ic${convs.length}`, norm(s.layout, out, s.dropRate)]);
  let shortcut: Module | null = null;
  if (s.stride !== 1 || s.inChannels !== out) {
    shortcut =
      s.shortcut === 'pad'
        ? new PadShortcut(s.stride, out)
        : new Sequential([
            ['0', new Conv2d(s.inChannels, out, 1, { stride: s.stride, bias: false })],
            ['1', new BatchNorm2d(out)],
          ]);
  }
  return new Residual(body, shortcut, post);
}

/**
 * He initialisation of every convolution, as torchvision's ResNets and the usual CIFAR ResNet code do:
 * N(0, 2 / (k·k·outChannels)) (fan-out, ReLU gain). As in torchvision, each nn.Conv2d first gets PyTorch's
 * default initialisation and the builder then re-initialises it here, once. BatchNorm/IC scale 1 and shift 0,
 * and the classifier keeps PyTorch's default Linear initialisation.
 */
function heInit(model: Sequential): Sequential {
  tidy(() => {
    for (const [, p] of model.namedParameters()) if (p.ndim === 4) kaimingNormal_(p, { mode: 'fanOut', nonlinearity: 'relu' });
  });
  return model;
}

/** A stage: `units` residual units, the first one changing stride/width. */
function stage(layout: Layout, inChannels: number, planes: number, units: number, stride: number, dropRate: number, bottleneck: boolean, shortcut: 'pad' | 'conv'): [Sequential, number] {
  const layers: Module[] = [];
  let cin = inChannels;
  for (let u = 0; u < units; u++) {
    layers.push(unit({ layout, inChannels: cin, planes, stride: u === 0 ? stride : 1, dropRate, bottleneck, shortcut }));
    cin = planes * (bottleneck ? EXPANSION.bottleneck : EXPANSION.basic);
  }
  return [new Sequential(layers), cin];
}

/** The stem after its convolution, per layout (what normalises the stem's output). */
function stemTail(layout: Layout, channels: number, dropRate: number): Layer[] {
  switch (layout) {
    case 'baseline':
      return [['bn1', new BatchNorm2d(channels)], ['relu', new ReLU()]];
    case 'relu-ic-conv':
      return []; // the first unit begins with relu-ic
    case 'ic-conv-relu':
      return [['relu', new ReLU()]];
    case 'conv-relu-ic':
      return [['relu', new ReLU()], ['ic1', new IC(channels, { dropRate })]];
  }
}

/** The head before pooling, per layout: the IC before the classifier's weight layer where the layout puts one. */
function headNorm(layout: Layout, channels: number, dropRate: number): Layer[] {
  switch (layout) {
    case 'relu-ic-conv':
      return [['relu_final', new ReLU()], ['ic_final', new IC(channels, { dropRate })]];
    case 'ic-conv-relu':
      return [['ic_final', new IC(channels, { dropRate })]];
    default:
      return [];
  }
}

/** Options of `resnetCifar`. */
export interface ResNetCifarOptions {
  /** 6n+2 for basic units (20, 32, 44, 56, 110, 164 ...), 9n+2 with `bottleneck` (ResNet-B: 110, 164 ...); at most `MAX_CIFAR_DEPTH`. */
  depth: number;
  /** Unit layout (default `relu-ic-conv`). */
  layout?: Layout;
  /** Three-layer bottleneck units (ResNet-B). */
  bottleneck?: boolean;
  /** Output classes (default 10). */
  classes?: number;
  /** Dropout rate of the IC layers (ignored by the baseline; default 0.05 for IC layouts). */
  dropRate?: number;
  /** Width multiplier of the 16-32-64 stages (default 1). */
  width?: number;
}

/**
 * How many parameters `resnetCifar(options)` would have, counted from the network's shape without building
 * it (the builder checks this against the machine's memory first).
 */
export function resnetCifarParameterCount(options: ResNetCifarOptions): number {
  const s = cifarShape('resnetCifarParameterCount', options);
  return cifarParameterCount(s.n, s.c0, s.bottleneck, s.classes);
}

/** The validated shape of a CIFAR ResNet: n units per stage, c0 stem channels. */
function cifarShape(op: string, opts: ResNetCifarOptions) {
  const options = knownOptions(op, opts, ['depth', 'layout', 'bottleneck', 'classes', 'dropRate', 'width']) as Partial<ResNetCifarOptions>;
  const bottleneck = options.bottleneck ?? false;
  const classes = checkInt(op, 'classes', options.classes ?? 10, 1);
  const width = checkInt(op, 'width', options.width ?? 1, 1, 64);
  // A bound, so that a mistyped or crafted depth (a checkpoint header saying 6e15) is an error at once and
  // not minutes of building: the deepest published CIFAR ResNets have 1001 and 1202 layers.
  const depth = checkInt(op, 'depth', options.depth, 1, MAX_CIFAR_DEPTH);
  const per = bottleneck ? 9 : 6;
  if ((depth - 2) % per !== 0 || depth < per + 2) {
    throw rangeError(op, 'depth', `a depth of the form ${validDepths(bottleneck)} for ${bottleneck ? 'ResNet-B (bottleneck) units' : 'basic units'}`, depth);
  }
  return { depth, bottleneck, classes, width, n: (depth - 2) / per, c0: 16 * width };
}

function cifarParameterCount(n: number, c0: number, bottleneck: boolean, classes: number): number {
  let total = 3 * c0 * 9 + 2 * c0; // stem convolution and its normalisation
  let cin = c0;
  [1, 2, 4].forEach((mult, i) => {
    for (let u = 0; u < n; u++) {
      const spec = { layout: 'baseline' as const, inChannels: cin, planes: c0 * mult, stride: u === 0 && i > 0 ? 2 : 1, dropRate: 0, bottleneck, shortcut: 'pad' as const };
      for (const [, a, b, k] of convsOf(spec)) total += a * b * k * k + 2 * b;
      cin = c0 * mult * (bottleneck ? EXPANSION.bottleneck : EXPANSION.basic);
    }
  });
  return total + cin * classes + classes;
}

/** The deepest network `resnetCifar` builds (ResNet-1202 of He et al. fits well below it). */
export const MAX_CIFAR_DEPTH = 5000;

/** Depths that `resnetCifar` accepts, for messages. */
function validDepths(bottleneck: boolean): string {
  return bottleneck ? '9n+2 (11, 20, 29, ..., 56, 110, 164, ...)' : '6n+2 (8, 14, 20, 32, 44, 56, 110, 164, ...)';
}

/**
 * The CIFAR ResNet (He et al.) with the paper's unit layouts: a 3x3 stem with 16·width channels, three
 * stages of n units at 16·width, 32·width, 64·width planes (stride 1, 2, 2), global average pooling and a
 * linear classifier; parameter-free shortcuts (option A), so ResNet-110 has about 1.7M parameters.
 */
export function resnetCifar(options: ResNetCifarOptions): Sequential {
  const { depth, bottleneck, classes, width, n, c0 } = cifarShape('resnetCifar', options);
  const layout = checkOneOf('resnetCifar', 'layout', options.layout ?? 'relu-ic-conv', LAYOUTS);
  const dropRate = checkNumber('resnetCifar', 'dropRate', options.dropRate ?? (layout === 'baseline' ? 0 : 0.05));
  if (dropRate < 0 || dropRate >= 1) throw rangeError('resnetCifar', 'dropRate', 'a number in [0, 1)', dropRate);
  // Count before building: a network whose weights alone exceed this machine's memory is an error at once.
  const count = cifarParameterCount(n, c0, bottleneck, classes);
  if (count * 4 > os.totalmem()) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
    throw rangeError('resnetCifar', 'depth, width and classes', `a network whose float32 weights fit in this machine's ${gib(os.totalmem())} of memory`,
      `depth ${depth}, width ${width}, classes ${classes}: ${count.toExponential(2)} parameters, ${gib(count * 4)}`);
  }
  const layers: Layer[] = [['conv1', new Conv2d(3, c0, 3, { padding: 1, bias: false })], ...stemTail(layout, c0, dropRate)];
  let cin = c0;
  [1, 2, 4].forEach((mult, i) => {
    const [s, cout] = stage(layout, cin, c0 * mult, n, i === 0 ? 1 : 2, dropRate, bottleneck, 'pad');
    layers.push([`layer${i + 1}`, s]);
    cin = cout;
  });
  layers.push(...headNorm(layout, cin, dropRate), ['avgpool', new AdaptiveAvgPool2d(1)], ['flatten', new Flatten()], ['fc', new Linear(cin, classes)]);
  return heInit(new Sequential(layers));
}

/** Options of `resnetImageNet`. */
export interface ResNetImageNetOptions {
  depth: 18 | 34 | 50 | 101 | 152;
  layout?: Layout;
  /** Output classes (default 1000). */
  classes?: number;
  dropRate?: number;
}

const IMAGENET_UNITS: Record<number, [number[], boolean]> = {
  18: [[2, 2, 2, 2], false],
  34: [[3, 4, 6, 3], false],
  50: [[3, 4, 6, 3], true],
  101: [[3, 4, 23, 3], true],
  152: [[3, 8, 36, 3], true],
};

/**
 * The ImageNet ResNets (torchvision layout and parameter names for `baseline`): 7x7 stem with max pooling,
 * four stages of 64-128-256-512 planes, projection shortcuts (1x1 conv + BN) where stride or width changes.
 */
export function resnetImageNet(options: ResNetImageNetOptions): Sequential {
  knownOptions('resnetImageNet', options, ['depth', 'layout', 'classes', 'dropRate']);
  const spec = IMAGENET_UNITS[options.depth];
  if (!spec) throw rangeError('resnetImageNet', 'depth', 'one of 18, 34, 50, 101, 152', options.depth);
  const [units, bottleneck] = spec;
  const layout = checkOneOf('resnetImageNet', 'layout', options.layout ?? 'relu-ic-conv', LAYOUTS);
  const classes = checkInt('resnetImageNet', 'classes', options.classes ?? 1000, 1);
  const dropRate = checkNumber('resnetImageNet', 'dropRate', options.dropRate ?? (layout === 'baseline' ? 0 : 0.05));
  if (dropRate < 0 || dropRate >= 1) throw rangeError('resnetImageNet', 'dropRate', 'a number in [0, 1)', dropRate);
  const layers: Layer[] = [['conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false })], ...stemTail(layout, 64, dropRate), ['maxpool', new MaxPool2d(3, { stride: 2, padding: 1 })]];
  let cin = 64;
  [64, 128, 256, 512].forEach((planes, i) => {
    const [s, cout] = stage(layout, cin, planes, units[i], i === 0 ? 1 : 2, dropRate, bottleneck, 'conv');
    layers.push([`layer${i + 1}`, s]);
    cin = cout;
  });
  layers.push(...headNorm(layout, cin, dropRate), ['avgpool', new AdaptiveAvgPool2d(1)], ['flatten', new Flatten()], ['fc', new Linear(cin, classes)]);
  return heInit(new Sequential(layers));
}
