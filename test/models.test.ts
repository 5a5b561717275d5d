// The paper's ResNets: parameter matching across layouts, the classic counts (CIFAR ResNet-110 ≈ 1.7M,
// torchvision's ImageNet ResNets), depth/layout validation, the registry, tiny forwards and names.
import { describe, expect, it } from 'vitest';
import { LAYOUTS, buildModel, manualSeed, modelNames, nn, randn, resnetCifar, resnetCifarParameterCount, resnetImageNet, tidy, type Layout } from '../lib';

/** Builds, measures and disposes. */
function count(build: () => nn.Module): number {
  const m = build();
  try {
    return m.numParameters();
  } finally {
    m.dispose();
  }
}

/**
 * The baseline CIFAR ResNet's parameter count from its definition (He et al. 2016, option-A shortcuts):
 * 3x3 stem conv 3→16 + BN, three stages of n units (16, 32, 64 planes), global pooling, linear 64·e → 10.
 */
function cifarBaselineCount(depth: number, bottleneck: boolean, classes = 10): number {
  const n = (depth - 2) / (bottleneck ? 9 : 6);
  const e = bottleneck ? 4 : 1;
  let total = 3 * 16 * 9 + 2 * 16;
  let cin = 16;
  for (const planes of [16, 32, 64]) {
    for (let u = 0; u < n; u++) {
      if (!bottleneck) total += cin * planes * 9 + planes * planes * 9 + 2 * 2 * planes;
      else total += cin * planes + planes * planes * 9 + planes * planes * e + 2 * (planes + planes + planes * e);
      cin = planes * e;
    }
  }
  return total + cin * classes + classes;
}

describe('CIFAR ResNets: every layout has the baseline parameter count', () => {
  const depths: [number, boolean][] = [
    [20, false], [32, false], [44, false], [56, false], [110, false], [164, false],
    [110, true], [164, true],
  ];
  for (const [depth, bottleneck] of depths) {
    it(`depth ${depth}${bottleneck ? ' (bottleneck)' : ''}`, () => {
      const baseline = count(() => resnetCifar({ depth, bottleneck, layout: 'baseline' }));
      expect(baseline).toBe(cifarBaselineCount(depth, bottleneck));
      for (const layout of LAYOUTS) {
        expect([layout, count(() => resnetCifar({ depth, bottleneck, layout }))]).toEqual([layout, baseline]);
      }
    });
  }

  it('ResNet-110 (basic) has about 1.7M parameters', () => {
    const n = count(() => resnetCifar({ depth: 110, layout: 'baseline' }));
    expect(n).toBeGreaterThan(1.6e6);
    expect(n).toBeLessThan(1.8e6);
  });

  it('width and classes scale the count as the definition says, equally for every layout', () => {
    const w2 = count(() => resnetCifar({ depth: 20, width: 2, classes: 100, layout: 'baseline' }));
    for (const layout of LAYOUTS) expect(count(() => resnetCifar({ depth: 20, width: 2, classes: 100, layout }))).toBe(w2);
    // Width 1 with 100 classes differs from 10 classes only in the classifier: 64 * 90 + 90.
    expect(count(() => resnetCifar({ depth: 20, classes: 100, layout: 'baseline' })) - cifarBaselineCount(20, false)).toBe(64 * 90 + 90);
  });
});

describe('ImageNet ResNets', () => {
  const torchvision: [18 | 34 | 50, number][] = [
    [18, 11689512],
    [34, 21797672],
    [50, 25557032],
  ];
  for (const [depth, expected] of torchvision) {
    it(`ResNet-${depth}: torchvision's ${expected} parameters for the baseline and every layout`, () => {
      for (const layout of LAYOUTS) expect([layout, count(() => resnetImageNet({ depth, layout }))]).toEqual([layout, expected]);
    });
  }

  it("the baseline's state dict names are torchvision's", () => {
    const m = resnetImageNet({ depth: 50, layout: 'baseline' });
    try {
      const names = tidy(() => Object.keys(m.stateDict()));
      for (const k of [
        'conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
        'layer1.0.conv1.weight', 'layer1.0.bn1.running_mean', 'layer1.0.conv3.weight', 'layer1.0.bn3.weight',
        'layer1.0.downsample.0.weight', 'layer1.0.downsample.1.running_var', 'layer2.0.downsample.0.weight',
        'layer4.2.conv2.weight', 'fc.weight', 'fc.bias',
      ]) {
        expect(names).toContain(k);
      }
      // torchvision's resnet50 has 53 conv/linear weights, 53 BN layers (5 entries each) and the fc bias: 320 entries.
      expect(names).toHaveLength(320);
      expect(names.filter((k) => k.includes('downsample.0.weight'))).toEqual(['layer1.0.downsample.0.weight', 'layer2.0.downsample.0.weight', 'layer3.0.downsample.0.weight', 'layer4.0.downsample.0.weight']);
    } finally {
      m.dispose();
    }
  });

  it('rejects a depth that is not 18, 34, 50, 101 or 152', () => {
    expect(() => resnetImageNet({ depth: 20 as never })).toThrow(RangeError);
    expect(() => resnetImageNet({ depth: 20 as never })).toThrow(/18, 34, 50, 101, 152/);
  });
});

describe('initialisation', () => {
  it('convolutions start with He (fan-out) weights, BN/IC with scale 1 and shift 0, in every layout and both families', () => {
    manualSeed(0);
    for (const m of [...LAYOUTS.map((layout) => resnetCifar({ depth: 20, layout })), resnetImageNet({ depth: 18, layout: 'baseline' })]) {
      let convs = 0, norms = 0;
      tidy(() => {
        for (const [name, p] of m.namedParameters()) {
          if (p.ndim === 4) {
            const [out, , kh, kw] = p.shape;
            const expected = Math.sqrt(2 / (out * kh * kw));
            expect(Math.abs((p.std().item() as number) / expected - 1), name).toBeLessThan(0.15);
            expect(Math.abs(p.mean().item() as number), name).toBeLessThan(0.3 * expected);
            convs++;
          } else if (/\.(bn|ic)[^.]*\.weight$|^(bn|ic)[^.]*\.weight$/.test(name)) {
            expect(p.eq(1).all().item(), name).toBe(true);
            norms++;
          } else if (/(bn|ic)[^.]*\.bias$/.test(name)) {
            expect(p.eq(0).all().item(), name).toBe(true);
            norms++;
          }
        }
      });
      expect(convs).toBeGreaterThanOrEqual(19);
      expect(norms).toBeGreaterThanOrEqual(2 * 17); // ResNet-20: 19 BN or IC layers; ResNet-18: 17 (besides its shortcut BNs)
      m.dispose();
    }
  });

  it('kaimingNormal_ fills in place with std gain/√fan and rejects a 1-D tensor', () => {
    manualSeed(1);
    const w = nn.kaimingNormal_(randn([256, 128, 3, 3]).mul(0), { mode: 'fanIn', nonlinearity: 'linear' });
    expect(Math.abs((w.std().item() as number) * Math.sqrt(128 * 9) - 1)).toBeLessThan(0.02);
    expect(() => nn.kaimingNormal_(randn([5]))).toThrow(/^kaimingNormal_: expected a weight of at least 2 dimensions/);
    expect(() => nn.kaimingNormal_(randn([5, 5]), { mode: 'sideways' as never })).toThrow(/kaimingNormal_/);
  });
});

describe('validation', () => {
  it('invalid CIFAR depths throw a RangeError listing the valid ones', () => {
    for (const [depth, bottleneck] of [[21, false], [111, false], [21, true], [111, true], [2, false], [8, true]] as [number, boolean][]) {
      let err: unknown;
      try {
        resnetCifar({ depth, bottleneck });
      } catch (e) {
        err = e;
      }
      expect(err, `depth ${depth}`).toBeInstanceOf(RangeError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^resnetCifar: /);
      expect(msg).toContain(String(depth));
      expect(msg).toContain(bottleneck ? '9n+2' : '6n+2');
      expect(msg).toMatch(bottleneck ? /\b110\b.*\b164\b/ : /\b20\b.*\b32\b.*\b44\b.*\b56\b.*\b110\b.*\b164\b/);
    }
  });

  it('an absurd depth (a crafted checkpoint header) is an error at once, not minutes of building', () => {
    expect(() => resnetCifar({ depth: 6e15 + 2 })).toThrow(/^resnetCifar: expected an integer between 1 and 5000 for depth but received 6000000000000002/);
    expect(() => resnetCifarParameterCount({ depth: 6e15 + 2 })).toThrow(/^resnetCifarParameterCount: expected an integer between 1 and 5000 for depth/);
    expect(() => buildModel({ name: 'resnet', args: { depth: 5006 } })).toThrow(/between 1 and 5000 for depth/);
  });

  it('a network whose weights would not fit in memory is refused before anything is built; the count it uses is exact', () => {
    expect(() => resnetCifar({ depth: 4994, width: 64 })).toThrow(/^resnetCifar: expected a network whose float32 weights fit in this machine's .* GiB of memory .*depth 4994, width 64, classes 10: .* parameters/);
    expect(() => resnetCifar({ depth: 20, classes: 1e10 })).toThrow(/fit in this machine's .*classes 10000000000/);
    for (const o of [{ depth: 20 }, { depth: 110 }, { depth: 164, bottleneck: true }, { depth: 56, width: 4, classes: 100 }, { depth: 11, bottleneck: true, width: 2 }]) {
      const m = resnetCifar({ ...o, layout: 'conv-relu-ic' });
      expect(resnetCifarParameterCount(o), JSON.stringify(o)).toBe(m.numParameters());
      m.dispose();
    }
  });

  it('110 is valid with and without bottleneck units; 8 and 11 are the smallest', () => {
    for (const [depth, bottleneck] of [[110, false], [110, true], [8, false], [11, true]] as [number, boolean][]) {
      const m = resnetCifar({ depth, bottleneck, layout: 'baseline' });
      m.dispose();
    }
  });

  it('an unknown layout throws, naming the valid layouts', () => {
    expect(() => resnetCifar({ depth: 20, layout: 'bn-relu-conv' as Layout })).toThrow(TypeError);
    expect(() => resnetCifar({ depth: 20, layout: 'bn-relu-conv' as Layout })).toThrow(/relu-ic-conv/);
    expect(() => resnetImageNet({ depth: 18, layout: 'nope' as Layout })).toThrow(/layout/);
  });

  it('dropRate outside [0, 1) throws', () => {
    expect(() => resnetCifar({ depth: 20, dropRate: 1 })).toThrow(RangeError);
    expect(() => resnetCifar({ depth: 20, dropRate: -0.5 })).toThrow(RangeError);
  });
});

describe('registry', () => {
  it('knows the CIFAR and ImageNet builders', () => {
    expect(modelNames()).toEqual(expect.arrayContaining(['resnet', 'resnet-b', 'resnet-cifar', 'resnet18', 'resnet50']));
    expect(() => buildModel({ name: 'vgg', args: {} })).toThrow(/resnet/);
  });

  const specs: [string, Record<string, unknown>, () => nn.Module][] = [
    ['resnet', { depth: 20, layout: 'conv-relu-ic', dropRate: 0.1 }, () => resnetCifar({ depth: 20, layout: 'conv-relu-ic', dropRate: 0.1 })],
    ['resnet-b', { depth: 29, layout: 'ic-conv-relu' }, () => resnetCifar({ depth: 29, bottleneck: true, layout: 'ic-conv-relu' })],
    ['resnet-cifar', { depth: 14, layout: 'baseline', width: 2, classes: 100 }, () => resnetCifar({ depth: 14, layout: 'baseline', width: 2, classes: 100 })],
    ['resnet18', { layout: 'relu-ic-conv', classes: 10 }, () => resnetImageNet({ depth: 18, layout: 'relu-ic-conv', classes: 10 })],
  ];
  for (const [name, args, direct] of specs) {
    it(`buildModel({name: '${name}'}) rebuilds the same names, shapes and counts`, () => {
      const a = buildModel({ name, args });
      const b = direct();
      try {
        const describe = (m: nn.Module) => tidy(() => Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape]));
        expect(describe(a)).toEqual(describe(b));
        expect(a.numParameters()).toBe(b.numParameters());
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }

  it('the same seed and spec rebuild identical weights', () => {
    const spec = { name: 'resnet', args: { depth: 8, layout: 'relu-ic-conv' } };
    const weights = () => {
      manualSeed(5);
      const m = buildModel(spec);
      try {
        return tidy(() => Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.toArray() as ArrayLike<number | bigint>, Number)]));
      } finally {
        m.dispose();
      }
    };
    expect(weights()).toEqual(weights());
  });
});

describe('forward and names', () => {
  for (const layout of LAYOUTS) {
    it(`resnetCifar depth 8, ${layout}: (2, 3, 32, 32) -> (2, 10) in training and evaluation`, () => {
      const m = resnetCifar({ depth: 8, layout, dropRate: 0.1 });
      try {
        tidy(() => {
          const x = randn([2, 3, 32, 32]);
          const y = m.forward(x);
          expect(y.shape).toEqual([2, 10]);
          expect(Array.from(y.toArray() as Float32Array).every(Number.isFinite)).toBe(true);
          y.sum().backward();
          expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
          m.eval();
          const e1 = m.forward(x), e2 = m.forward(x);
          expect(e1.shape).toEqual([2, 10]);
          expect(Array.from(e2.toArray() as Float32Array)).toEqual(Array.from(e1.toArray() as Float32Array));
        });
      } finally {
        m.dispose();
      }
    });
  }

  it('IC layouts contain IC layers with the given dropRate and the baseline none', () => {
    const kinds = (m: nn.Module): string[] => [m.kind, ...m.namedChildren().flatMap(([, c]) => kinds(c))];
    for (const layout of LAYOUTS) {
      const m = resnetCifar({ depth: 8, layout });
      try {
        const k = kinds(m);
        expect([layout, k.includes('ic')]).toEqual([layout, layout !== 'baseline']);
        expect([layout, k.includes('batchNorm2d')]).toEqual([layout, layout === 'baseline']);
      } finally {
        m.dispose();
      }
    }
  });

  it("the CIFAR baseline's state dict names follow torchvision's style", () => {
    const m = resnetCifar({ depth: 20, layout: 'baseline' });
    try {
      const names = tidy(() => Object.keys(m.stateDict()));
      for (const k of ['conv1.weight', 'bn1.weight', 'bn1.running_var', 'layer1.0.conv1.weight', 'layer1.0.bn1.running_mean', 'layer1.2.conv2.weight', 'layer3.2.bn2.bias', 'fc.weight', 'fc.bias']) {
        expect(names).toContain(k);
      }
      // Option-A shortcuts have no parameters.
      expect(names.some((k) => k.includes('downsample'))).toBe(false);
      const params = tidy(() => m.namedParameters().map(([k, t]) => [k, t.shape]));
      expect(params[0]).toEqual(['conv1.weight', [16, 3, 3, 3]]);
      expect(params[params.length - 2]).toEqual(['fc.weight', [10, 64]]);
    } finally {
      m.dispose();
    }
  });

  it('summary() of a small model ends with the total parameter count', () => {
    const m = resnetCifar({ depth: 8, layout: 'relu-ic-conv' });
    try {
      const s = m.summary([1, 3, 32, 32]);
      const total = m.numParameters();
      expect(s).toContain(`total parameters: ${total.toLocaleString('en-US')}`);
      expect(s).toMatch(/^fc\s+linear\s+\[1, 10\]\s+650$/m);
      expect(s).toContain('layer3.0');
    } finally {
      m.dispose();
    }
  });
});
