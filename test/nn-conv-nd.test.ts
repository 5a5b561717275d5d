// Convolution, pooling and resampling in 1 and 3 spatial dimensions (lib/nn/functional.ts, lib/nn/conv-pool-nd.ts):
// F.conv1d/3d, F.convTranspose1d/3d, F.maxPool1d/3d, F.avgPool1d/3d, F.adaptiveAvgPool1d/3d,
// F.adaptiveMaxPool1d/2d/3d, F.interpolate on 3-d and 5-d input, and the modules over them. Against python3-torch
// (float64): outputs and input gradients of each functional op with several option combinations, the indices of
// returnIndices, every interpolate mode; the modules' initial weights from the same seed, their state dicts loaded
// strictly both ways and the outputs and parameter gradients on them. Without Python: shapes, initialisation
// bounds, resetParameters, nn.Upsample on the new shapes, memory, and the argument errors.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, manualSeed, memory, nn, noGrad, randn, tensor, tidy } from '../lib';
import { maxDiff, shapes, vals } from './helpers/compare';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { stateDictRoundTrip } from './helpers/roundtrip';
import { inp, numel, toTensor, values, type OpCase } from './helpers/specs';
import { hasTorch, py, runCases, type PyCase, type PyTensor } from './helpers/torchpy';

const F = nn.functional;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-nn-conv-nd-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => manualSeed(0));

const onesOf = (shape: number[]): Tensor => tensor(new Float32Array(numel(shape)).fill(1), { shape });

// ---------------------------------------------------------------- functional ops against PyTorch

interface Case extends OpCase {
  /** Compare values only (indices). */
  noGrad?: boolean;
}

const CASES: Case[] = [
  // ---- convolutions
  { name: 'conv1d bias', inputs: { x: inp([2, 4, 9], 1), w: inp([6, 4, 3], 2), b: inp([6], 3) }, py: 'F.conv1d(x, w, b)', ts: (t) => F.conv1d(t.x, t.w, t.b) },
  {
    name: 'conv1d stride padding dilation groups',
    inputs: { x: inp([2, 4, 11], 4), w: inp([6, 2, 3], 5) },
    py: 'F.conv1d(x, w, None, stride=2, padding=1, dilation=2, groups=2)',
    ts: (t) => F.conv1d(t.x, t.w, null, { stride: 2, padding: [1], dilation: 2, groups: 2 }),
  },
  { name: 'conv1d same, even kernel, dilation', inputs: { x: inp([2, 3, 8], 6), w: inp([4, 3, 4], 7) }, py: "F.conv1d(x, w, padding='same', dilation=2)", ts: (t) => F.conv1d(t.x, t.w, null, { padding: 'same', dilation: 2 }) },
  { name: 'conv1d valid unbatched', inputs: { x: inp([3, 8], 8), w: inp([5, 3, 3], 9), b: inp([5], 10) }, py: "F.conv1d(x, w, b, padding='valid')", ts: (t) => F.conv1d(t.x, t.w, t.b, { padding: 'valid' }) },
  { name: 'conv3d bias', inputs: { x: inp([2, 2, 4, 5, 4], 11), w: inp([3, 2, 2, 3, 2], 12), b: inp([3], 13) }, py: 'F.conv3d(x, w, b)', ts: (t) => F.conv3d(t.x, t.w, t.b) },
  {
    name: 'conv3d stride padding dilation groups',
    inputs: { x: inp([1, 4, 5, 6, 5], 14), w: inp([4, 2, 2, 2, 3], 15) },
    py: 'F.conv3d(x, w, stride=(2, 1, 1), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2)',
    ts: (t) => F.conv3d(t.x, t.w, undefined, { stride: [2, 1, 1], padding: [1, 0, 1], dilation: [1, 2, 1], groups: 2 }),
  },
  { name: 'conv3d same unbatched', inputs: { x: inp([2, 4, 4, 4], 16), w: inp([3, 2, 3, 2, 3], 17), b: inp([3], 18) }, py: "F.conv3d(x, w, b, padding='same')", ts: (t) => F.conv3d(t.x, t.w, t.b, { padding: 'same' }) },
  {
    name: 'convTranspose1d stride padding outputPadding groups',
    inputs: { x: inp([2, 4, 5], 19), w: inp([4, 3, 3], 20), b: inp([6], 21) },
    py: 'F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)',
    ts: (t) => F.convTranspose1d(t.x, t.w, t.b, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
  },
  {
    name: 'convTranspose1d dilation unbatched',
    inputs: { x: inp([4, 5], 22), w: inp([4, 2, 2], 23) },
    py: 'F.conv_transpose1d(x, w, stride=3, output_padding=2, dilation=2)',
    ts: (t) => F.convTranspose1d(t.x, t.w, null, { stride: [3], outputPadding: 2, dilation: 2 }),
  },
  {
    name: 'convTranspose3d stride padding outputPadding groups',
    inputs: { x: inp([1, 4, 3, 3, 2], 24), w: inp([4, 2, 2, 3, 2], 25), b: inp([4], 26) },
    py: 'F.conv_transpose3d(x, w, b, stride=(2, 1, 2), padding=(0, 1, 1), output_padding=(1, 0, 1), groups=2)',
    ts: (t) => F.convTranspose3d(t.x, t.w, t.b, { stride: [2, 1, 2], padding: [0, 1, 1], outputPadding: [1, 0, 1], groups: 2 }),
  },
  {
    name: 'convTranspose3d dilation unbatched',
    inputs: { x: inp([2, 3, 2, 3], 27), w: inp([2, 3, 2, 2, 2], 28) },
    py: 'F.conv_transpose3d(x, w, dilation=2)',
    ts: (t) => F.convTranspose3d(t.x, t.w, null, { dilation: 2 }),
  },
  // ---- pooling
  { name: 'maxPool1d', inputs: { x: inp([2, 3, 9], 30) }, py: 'F.max_pool1d(x, 3, stride=2, padding=1)', ts: (t) => F.maxPool1d(t.x, 3, { stride: 2, padding: 1 }) },
  { name: 'maxPool1d dilation ceil unbatched', inputs: { x: inp([3, 10], 31) }, py: 'F.max_pool1d(x, 2, dilation=2, ceil_mode=True)', ts: (t) => F.maxPool1d(t.x, [2], { dilation: 2, ceilMode: true }) },
  {
    name: 'maxPool3d stride padding ceil',
    inputs: { x: inp([1, 2, 5, 6, 5], 32) },
    py: 'F.max_pool3d(x, (2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0), ceil_mode=True)',
    ts: (t) => F.maxPool3d(t.x, [2, 3, 2], { stride: [1, 2, 2], padding: [1, 1, 0], ceilMode: true }),
  },
  { name: 'maxPool3d dilation unbatched', inputs: { x: inp([2, 4, 4, 5], 33) }, py: 'F.max_pool3d(x, 2, dilation=(1, 2, 1))', ts: (t) => F.maxPool3d(t.x, 2, { dilation: [1, 2, 1] }) },
  { name: 'avgPool1d countIncludePad false', inputs: { x: inp([2, 3, 9], 34) }, py: 'F.avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False)', ts: (t) => F.avgPool1d(t.x, 3, { stride: 2, padding: 1, countIncludePad: false }) },
  { name: 'avgPool1d ceil unbatched', inputs: { x: inp([3, 8], 35) }, py: 'F.avg_pool1d(x, 3, ceil_mode=True, padding=1)', ts: (t) => F.avgPool1d(t.x, 3, { ceilMode: true, padding: 1 }) },
  {
    name: 'avgPool3d stride padding countIncludePad false',
    inputs: { x: inp([1, 2, 5, 6, 4], 36) },
    py: 'F.avg_pool3d(x, (3, 2, 2), stride=(2, 2, 1), padding=(1, 1, 0), count_include_pad=False)',
    ts: (t) => F.avgPool3d(t.x, [3, 2, 2], { stride: [2, 2, 1], padding: [1, 1, 0], countIncludePad: false }),
  },
  { name: 'avgPool3d divisorOverride ceil', inputs: { x: inp([1, 1, 4, 5, 5], 37) }, py: 'F.avg_pool3d(x, 2, ceil_mode=True, divisor_override=3)', ts: (t) => F.avgPool3d(t.x, 2, { ceilMode: true, divisorOverride: 3 }) },
  { name: 'avgPool3d unbatched', inputs: { x: inp([2, 4, 4, 6], 38) }, py: 'F.avg_pool3d(x, (2, 2, 3))', ts: (t) => F.avgPool3d(t.x, [2, 2, 3]) },
  { name: 'adaptiveAvgPool1d', inputs: { x: inp([2, 3, 10], 40) }, py: 'F.adaptive_avg_pool1d(x, 4)', ts: (t) => F.adaptiveAvgPool1d(t.x, 4) },
  { name: 'adaptiveAvgPool1d unbatched', inputs: { x: inp([3, 7], 41) }, py: 'F.adaptive_avg_pool1d(x, 3)', ts: (t) => F.adaptiveAvgPool1d(t.x, [3]) },
  { name: 'adaptiveAvgPool3d with None', inputs: { x: inp([1, 2, 5, 6, 7], 42) }, py: 'F.adaptive_avg_pool3d(x, (2, None, 3))', ts: (t) => F.adaptiveAvgPool3d(t.x, [2, null, 3]) },
  { name: 'adaptiveAvgPool3d unbatched', inputs: { x: inp([2, 4, 5, 6], 43) }, py: 'F.adaptive_avg_pool3d(x, 2)', ts: (t) => F.adaptiveAvgPool3d(t.x, 2) },
  { name: 'adaptiveMaxPool1d', inputs: { x: inp([2, 3, 10], 44) }, py: 'F.adaptive_max_pool1d(x, 4)', ts: (t) => F.adaptiveMaxPool1d(t.x, 4) },
  { name: 'adaptiveMaxPool2d with None', inputs: { x: inp([2, 3, 7, 6], 45) }, py: 'F.adaptive_max_pool2d(x, (3, None))', ts: (t) => F.adaptiveMaxPool2d(t.x, [3, null]) },
  { name: 'adaptiveMaxPool2d unbatched', inputs: { x: inp([3, 7, 6], 46) }, py: 'F.adaptive_max_pool2d(x, 2)', ts: (t) => F.adaptiveMaxPool2d(t.x, 2) },
  { name: 'adaptiveMaxPool3d', inputs: { x: inp([1, 2, 5, 6, 7], 47) }, py: 'F.adaptive_max_pool3d(x, (2, 3, None))', ts: (t) => F.adaptiveMaxPool3d(t.x, [2, 3, null]) },
  // ---- returnIndices: the indices themselves
  { name: 'maxPool1d indices', inputs: { x: inp([2, 3, 9], 50) }, py: 'F.max_pool1d(x, 3, stride=2, padding=1, return_indices=True)[1]', ts: (t) => F.maxPool1d(t.x, 3, { stride: 2, padding: 1, returnIndices: true })[1], noGrad: true },
  { name: 'maxPool1d output with returnIndices', inputs: { x: inp([2, 3, 9], 50) }, py: 'F.max_pool1d(x, 3, stride=2, padding=1, return_indices=True)[0]', ts: (t) => F.maxPool1d(t.x, 3, { stride: 2, padding: 1, returnIndices: true })[0] },
  { name: 'maxPool3d indices', inputs: { x: inp([1, 2, 4, 5, 6], 51) }, py: 'F.max_pool3d(x, 2, ceil_mode=True, return_indices=True)[1]', ts: (t) => F.maxPool3d(t.x, 2, { ceilMode: true, returnIndices: true })[1], noGrad: true },
  { name: 'adaptiveMaxPool1d indices', inputs: { x: inp([2, 3, 10], 52) }, py: 'F.adaptive_max_pool1d(x, 4, return_indices=True)[1]', ts: (t) => F.adaptiveMaxPool1d(t.x, 4, { returnIndices: true })[1], noGrad: true },
  { name: 'adaptiveMaxPool2d indices', inputs: { x: inp([2, 3, 7, 6], 53) }, py: 'F.adaptive_max_pool2d(x, (3, 2), return_indices=True)[1]', ts: (t) => F.adaptiveMaxPool2d(t.x, [3, 2], { returnIndices: true })[1], noGrad: true },
  { name: 'adaptiveMaxPool3d indices', inputs: { x: inp([1, 2, 5, 6, 7], 54) }, py: 'F.adaptive_max_pool3d(x, 2, return_indices=True)[1]', ts: (t) => F.adaptiveMaxPool3d(t.x, 2, { returnIndices: true })[1], noGrad: true },
  // ---- interpolate, 1-d: (N, C, L)
  { name: 'interpolate 1-d nearest size', inputs: { x: inp([2, 3, 5], 60) }, py: 'F.interpolate(x, size=8)', ts: (t) => F.interpolate(t.x, { size: 8 }) },
  { name: 'interpolate 1-d nearest scale 1.7', inputs: { x: inp([2, 3, 5], 61) }, py: 'F.interpolate(x, scale_factor=1.7)', ts: (t) => F.interpolate(t.x, { scaleFactor: [1.7] }) },
  { name: 'interpolate 1-d nearest-exact scale 2.5', inputs: { x: inp([2, 3, 5], 62) }, py: "F.interpolate(x, scale_factor=2.5, mode='nearest-exact')", ts: (t) => F.interpolate(t.x, { scaleFactor: 2.5, mode: 'nearest-exact' }) },
  { name: 'interpolate 1-d nearest-exact size', inputs: { x: inp([1, 2, 7], 63) }, py: "F.interpolate(x, size=(4,), mode='nearest-exact')", ts: (t) => F.interpolate(t.x, { size: [4], mode: 'nearest-exact' }) },
  { name: 'interpolate 1-d linear size', inputs: { x: inp([2, 3, 5], 64) }, py: "F.interpolate(x, size=9, mode='linear')", ts: (t) => F.interpolate(t.x, { size: 9, mode: 'linear' }) },
  { name: 'interpolate 1-d linear scale 1.5', inputs: { x: inp([2, 3, 5], 65) }, py: "F.interpolate(x, scale_factor=1.5, mode='linear')", ts: (t) => F.interpolate(t.x, { scaleFactor: 1.5, mode: 'linear' }) },
  { name: 'interpolate 1-d linear alignCorners', inputs: { x: inp([2, 3, 5], 66) }, py: "F.interpolate(x, scale_factor=1.5, mode='linear', align_corners=True)", ts: (t) => F.interpolate(t.x, { scaleFactor: 1.5, mode: 'linear', alignCorners: true }) },
  { name: 'interpolate 1-d linear recomputeScaleFactor', inputs: { x: inp([2, 3, 7], 67) }, py: "F.interpolate(x, scale_factor=0.7, mode='linear', recompute_scale_factor=True)", ts: (t) => F.interpolate(t.x, { scaleFactor: 0.7, mode: 'linear', recomputeScaleFactor: true }) },
  { name: 'interpolate 1-d area size', inputs: { x: inp([2, 3, 10], 68) }, py: "F.interpolate(x, size=4, mode='area')", ts: (t) => F.interpolate(t.x, { size: 4, mode: 'area' }) },
  { name: 'interpolate 1-d area scale', inputs: { x: inp([2, 3, 9], 69) }, py: "F.interpolate(x, scale_factor=0.5, mode='area')", ts: (t) => F.interpolate(t.x, { scaleFactor: 0.5, mode: 'area' }) },
  // ---- interpolate, 3-d: (N, C, D, H, W)
  { name: 'interpolate 3-d nearest size', inputs: { x: inp([1, 2, 3, 4, 5], 70) }, py: 'F.interpolate(x, size=(5, 6, 4))', ts: (t) => F.interpolate(t.x, { size: [5, 6, 4] }) },
  { name: 'interpolate 3-d nearest scale', inputs: { x: inp([1, 2, 3, 4, 5], 71) }, py: 'F.interpolate(x, scale_factor=(2, 1.5, 0.6))', ts: (t) => F.interpolate(t.x, { scaleFactor: [2, 1.5, 0.6] }) },
  { name: 'interpolate 3-d nearest-exact scale', inputs: { x: inp([1, 2, 3, 4, 5], 72) }, py: "F.interpolate(x, scale_factor=(2, 1.5, 0.6), mode='nearest-exact')", ts: (t) => F.interpolate(t.x, { scaleFactor: [2, 1.5, 0.6], mode: 'nearest-exact' }) },
  { name: 'interpolate 3-d nearest-exact size', inputs: { x: inp([2, 1, 3, 4, 5], 73) }, py: "F.interpolate(x, size=7, mode='nearest-exact')", ts: (t) => F.interpolate(t.x, { size: 7, mode: 'nearest-exact' }) },
  { name: 'interpolate 3-d trilinear scale', inputs: { x: inp([1, 2, 3, 4, 5], 74) }, py: "F.interpolate(x, scale_factor=1.5, mode='trilinear')", ts: (t) => F.interpolate(t.x, { scaleFactor: 1.5, mode: 'trilinear' }) },
  { name: 'interpolate 3-d trilinear size alignCorners', inputs: { x: inp([1, 2, 3, 4, 5], 75) }, py: "F.interpolate(x, size=(4, 7, 3), mode='trilinear', align_corners=True)", ts: (t) => F.interpolate(t.x, { size: [4, 7, 3], mode: 'trilinear', alignCorners: true }) },
  {
    name: 'interpolate 3-d trilinear recomputeScaleFactor',
    inputs: { x: inp([1, 2, 3, 4, 5], 76) },
    py: "F.interpolate(x, scale_factor=(1.3, 0.8, 2.2), mode='trilinear', recompute_scale_factor=True)",
    ts: (t) => F.interpolate(t.x, { scaleFactor: [1.3, 0.8, 2.2], mode: 'trilinear', recomputeScaleFactor: true }),
  },
  { name: 'interpolate 3-d area scale', inputs: { x: inp([1, 2, 4, 5, 6], 77) }, py: "F.interpolate(x, scale_factor=0.5, mode='area')", ts: (t) => F.interpolate(t.x, { scaleFactor: 0.5, mode: 'area' }) },
  { name: 'interpolate 3-d area size', inputs: { x: inp([1, 2, 4, 5, 6], 78) }, py: "F.interpolate(x, size=(3, 2, 4), mode='area')", ts: (t) => F.interpolate(t.x, { size: [3, 2, 4], mode: 'area' }) },
];

describe.skipIf(!hasTorch)('1-d and 3-d functional ops equal python3-torch (values and input gradients, float64; needs python3 with torch)', () => {
  // Upstream gradients: Python needs the output shape first, so shapes come from the ictorch side.
  const ours = new Map<string, { shape: number[]; out: number[]; grads: Record<string, number[]>; gradOut: number[] | undefined }>();
  const before = memory().tensors;
  for (const c of CASES) {
    tidy(() => {
      const ts = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, toTensor(v)]));
      const out = c.ts(ts);
      const gradOut = c.noGrad ? undefined : values(out.numel(), 99);
      const grads: Record<string, number[]> = {};
      if (gradOut) {
        out.backward(tensor(Float64Array.from(gradOut), { shape: out.shape }));
        for (const k of Object.keys(c.inputs)) grads[k] = vals(ts[k].grad as Tensor);
      }
      ours.set(c.name, { shape: out.shape, out: vals(out), grads, gradOut });
    });
  }
  const after = memory().tensors;
  let ref: Awaited<ReturnType<typeof runCases>>;
  beforeAll(async () => {
    ref = await runCases(CASES.map((c): PyCase => ({ name: c.name, inputs: { ...c.inputs }, expr: c.py, gradOut: ours.get(c.name)!.gradOut })));
  });

  it('left no tensors behind', () => expect(after).toBe(before));

  for (const c of CASES) {
    it(c.name, () => {
      const a = ours.get(c.name)!;
      const b = ref[c.name];
      expect(a.shape).toEqual(b.shape);
      expect(maxDiff(a.out, b.out)).toBeLessThan(1e-10);
      if (c.noGrad) return;
      expect(Object.keys(b.grads).sort()).toEqual(Object.keys(a.grads).sort());
      for (const [k, g] of Object.entries(a.grads)) expect(maxDiff(g, b.grads[k] as number[]), `gradient of ${k}`).toBeLessThan(1e-10);
    });
  }
});

// ---------------------------------------------------------------- the modules

/** Every new module (float64 where it has parameters), under the names the Python twin uses. */
class Net extends nn.Module {
  c1 = new nn.Conv1d(4, 6, 3, { stride: 2, padding: 1, dtype: 'float64' });
  c1Same = new nn.Conv1d(4, 4, 4, { padding: 'same', dilation: 2, groups: 2, bias: false, dtype: 'float64' });
  c1Reflect = new nn.Conv1d(4, 3, 3, { padding: 2, paddingMode: 'reflect', dtype: 'float64' });
  c1Circular = new nn.Conv1d(4, 2, 4, { padding: 'same', paddingMode: 'circular', dtype: 'float64' });
  c3 = new nn.Conv3d(2, 4, [2, 3, 2], { stride: [1, 2, 1], padding: [1, 0, 1], dtype: 'float64' });
  c3Replicate = new nn.Conv3d(2, 2, 3, { padding: [1, 0, 1], paddingMode: 'replicate', groups: 2, dtype: 'float64' });
  ct1 = new nn.ConvTranspose1d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2, dtype: 'float64' });
  ct3 = new nn.ConvTranspose3d(2, 3, [2, 2, 3], { stride: [2, 1, 1], dilation: [1, 2, 1], bias: false, dtype: 'float64' });
  mp1 = new nn.MaxPool1d(3, { stride: 2, padding: 1 });
  mp1Indices = new nn.MaxPool1d(2, { returnIndices: true });
  mp3 = new nn.MaxPool3d([2, 2, 2], { ceilMode: true });
  ap1 = new nn.AvgPool1d(3, { stride: 2, countIncludePad: false, padding: 1 });
  ap3 = new nn.AvgPool3d(2, { divisorOverride: 3, ceilMode: true });
  aap1 = new nn.AdaptiveAvgPool1d(3);
  aap3 = new nn.AdaptiveAvgPool3d([2, null, 2]);
  amp1 = new nn.AdaptiveMaxPool1d(4, { returnIndices: true });
  amp2 = new nn.AdaptiveMaxPool2d([2, null]);
  amp3 = new nn.AdaptiveMaxPool3d(2);
}

const PY_NET = `
import json, sys, torch, torch.nn as nn
d = torch.float64
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv1d(4, 6, 3, stride=2, padding=1, dtype=d)
        s.c1Same = nn.Conv1d(4, 4, 4, padding='same', dilation=2, groups=2, bias=False, dtype=d)
        s.c1Reflect = nn.Conv1d(4, 3, 3, padding=2, padding_mode='reflect', dtype=d)
        s.c1Circular = nn.Conv1d(4, 2, 4, padding='same', padding_mode='circular', dtype=d)
        s.c3 = nn.Conv3d(2, 4, (2, 3, 2), stride=(1, 2, 1), padding=(1, 0, 1), dtype=d)
        s.c3Replicate = nn.Conv3d(2, 2, 3, padding=(1, 0, 1), padding_mode='replicate', groups=2, dtype=d)
        s.ct1 = nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dtype=d)
        s.ct3 = nn.ConvTranspose3d(2, 3, (2, 2, 3), stride=(2, 1, 1), dilation=(1, 2, 1), bias=False, dtype=d)
        s.mp1 = nn.MaxPool1d(3, stride=2, padding=1)
        s.mp1Indices = nn.MaxPool1d(2, return_indices=True)
        s.mp3 = nn.MaxPool3d((2, 2, 2), ceil_mode=True)
        s.ap1 = nn.AvgPool1d(3, stride=2, count_include_pad=False, padding=1)
        s.ap3 = nn.AvgPool3d(2, divisor_override=3, ceil_mode=True)
        s.aap1 = nn.AdaptiveAvgPool1d(3)
        s.aap3 = nn.AdaptiveAvgPool3d((2, None, 2))
        s.amp1 = nn.AdaptiveMaxPool1d(4, return_indices=True)
        s.amp2 = nn.AdaptiveMaxPool2d((2, None))
        s.amp3 = nn.AdaptiveMaxPool3d(2)
`;

/** The input each module takes, by name: x1 (N, C, L), x1u unbatched (C, L), x2 (N, C, H, W), x3 (N, C, D, H, W), x3u (C, D, H, W). */
const INPUT_OF: Record<string, string> = {
  c1: 'x1', c1Same: 'x1', c1Reflect: 'x1u', c1Circular: 'x1', c3: 'x3', c3Replicate: 'x3u', ct1: 'x1', ct3: 'x3',
  mp1: 'x1', mp1Indices: 'x1u', mp3: 'x3', ap1: 'x1', ap3: 'x3', aap1: 'x1', aap3: 'x3', amp1: 'x1', amp2: 'x2', amp3: 'x3u',
};
const INPUTS: Record<string, PyTensor> = { x1: inp([2, 4, 9], 101), x1u: inp([4, 7], 102), x2: inp([2, 3, 5, 6], 103), x3: inp([2, 2, 4, 5, 4], 104), x3u: inp([2, 3, 5, 4], 105) };

/** One module's forward and backward of sum(out · weighting): the output, its indices if it returns them, the gradients. */
interface Run {
  out: number[];
  shape: number[];
  indices?: number[];
  grads: Record<string, number[]>;
}

const weighting = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 3);

function runAll(net: Net): Record<string, Run> {
  const res: Record<string, Run> = {};
  for (const [name, m] of net.namedChildren()) {
    tidy(() => {
      const x = toTensor(INPUTS[INPUT_OF[name]]);
      const r = m.forward(x) as Tensor | [Tensor, Tensor];
      const out = Array.isArray(r) ? r[0] : r;
      out.mul(tensor(Float64Array.from(weighting(out.numel())), { shape: out.shape })).sum().backward();
      const grads: Record<string, number[]> = { input: vals(x.grad as Tensor) };
      for (const [k, p] of m.namedParameters()) grads[k] = vals(p.grad as Tensor);
      res[name] = { out: vals(out), shape: out.shape, grads, ...(Array.isArray(r) ? { indices: vals(r[1]) } : {}) };
    });
  }
  net.zeroGrad();
  return res;
}

const PY_RUN_ALL = `
inputs = {k: torch.tensor(v['data'], dtype=torch.float64).reshape(v['shape']) for k, v in json.loads('${JSON.stringify(INPUTS)}').items()}
input_of = json.loads('${JSON.stringify(INPUT_OF)}')
def run_all(net):
    res = {}
    for name, m in net.named_children():
        x = inputs[input_of[name]].clone().requires_grad_(True)
        r = m(x)
        out = r[0] if isinstance(r, tuple) else r
        w = torch.tensor([((i % 7) - 3) / 3 for i in range(out.numel())], dtype=out.dtype).reshape(out.shape)
        (out * w).sum().backward()
        grads = {'input': x.grad.flatten().tolist()}
        for k, p in m.named_parameters(): grads[k] = p.grad.flatten().tolist()
        res[name] = {'out': out.detach().flatten().tolist(), 'shape': list(out.shape), 'grads': grads}
        if isinstance(r, tuple): res[name]['indices'] = [float(v) for v in r[1].flatten().tolist()]
    net.zero_grad()
    return res
`;

function expectRunsEqual(ours: Record<string, Run>, theirs: Record<string, Run>): void {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  for (const [name, r] of Object.entries(theirs)) {
    const o = ours[name];
    expect(o.shape, `${name} output shape`).toEqual(r.shape);
    expect(maxDiff(o.out, r.out), `${name} output`).toBeLessThan(1e-10);
    expect(o.indices, `${name} indices`).toEqual(r.indices);
    expect(Object.keys(o.grads).sort(), `${name} gradients`).toEqual(Object.keys(r.grads).sort());
    for (const k of Object.keys(r.grads)) expect(maxDiff(o.grads[k], r.grads[k]), `${name} gradient of ${k}`).toBeLessThan(1e-10);
  }
}

describe.skipIf(!hasTorch)('the 1-d and 3-d modules and their PyTorch counterparts (needs /usr/bin/python3 with torch)', () => {
  it("same seed, same initial weights; same state-dict keys and shapes; state dicts load strictly both ways and give PyTorch's outputs and gradients", async () => {
    const before = memory().tensors;
    manualSeed(3);
    const net = new Net();
    const back = new Net();
    try {
      const initial = tidy(() => Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, vals(t)])));
      const r = await stateDictRoundTrip(net, back, { dir: tmp, run: runAll, pyNet: `${PY_NET}${PY_RUN_ALL}`, pyRun: 'run_all', seed: 3 });
      // The same draws from the same seed: kaiming-uniform weights and uniform biases, module after module.
      expect(Object.keys(initial)).toEqual(Object.keys(r.initial));
      for (const [k, v] of Object.entries(initial)) expect(maxDiff(v, r.initial[k]), `initial ${k}`).toBeLessThan(1e-12);
      expectRunsEqual(r.ours, r.mine);
      // ... and back: PyTorch's state dict loads strictly into ours and gives PyTorch's results.
      expectRunsEqual(r.back, r.theirs);
      expect(maxDiff(r.back.c1.out, r.ours.c1.out)).toBeGreaterThan(1e-3); // other weights, other outputs
    } finally {
      net.dispose();
      back.dispose();
    }
    expect(memory().tensors).toBe(before);
  }, 120_000);
});

// ---------------------------------------------------------------- ConvTranspose forward(input, outputSize)

type ConvTransposeModule = nn.ConvTranspose1d | nn.ConvTranspose2d | nn.ConvTranspose3d;

/** A transposed convolution's forward with `outputSize` (PyTorch's `output_size`) on given weights, and its Python twin. */
interface OutputSizeCase {
  name: string;
  /** The module (float64); its weight and bias are overwritten with w and b. */
  make: () => ConvTransposeModule;
  /** The same module in Python (torch.nn.ConvTranspose{n}d(...), float64). */
  py: string;
  x: PyTensor;
  w: PyTensor;
  b?: PyTensor;
  /** The spatial sizes or the whole output shape. */
  outputSize: number[];
}

const ct1Of = (): ConvTransposeModule => new nn.ConvTranspose1d(4, 6, 3, { stride: 2, padding: 1, groups: 2, dtype: 'float64' });
const CT1_PY = 'torch.nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, groups=2, dtype=torch.float64)';
const ct2Of = (): ConvTransposeModule => new nn.ConvTranspose2d(3, 4, 3, { stride: 2, dtype: 'float64' });
const CT2_PY = 'torch.nn.ConvTranspose2d(3, 4, 3, stride=2, dtype=torch.float64)';
// W: stride 1 with dilation 2 allows a single size, as in PyTorch (max = min + stride - 1).
const ct3Of = (): ConvTransposeModule => new nn.ConvTranspose3d(2, 3, 2, { stride: [2, 2, 1], padding: [0, 1, 0], dilation: [1, 1, 2], dtype: 'float64' });
const CT3_PY = 'torch.nn.ConvTranspose3d(2, 3, 2, stride=(2, 2, 1), padding=(0, 1, 0), dilation=(1, 1, 2), dtype=torch.float64)';

// The sizes each allows: ct1 on L 5: 9..10; ct2 on [4, 5]: [9, 11]..[10, 12]; ct3 on [3, 3, 2]: [6, 4, 4]..[7, 5, 4].
const OUTPUT_SIZE_CASES: OutputSizeCase[] = [
  { name: 'ConvTranspose1d stride 2, groups: [L] the larger', make: ct1Of, py: CT1_PY, x: inp([2, 4, 5], 201), w: inp([4, 3, 3], 202), b: inp([6], 203), outputSize: [10] },
  { name: 'ConvTranspose1d stride 2: the whole shape (N, C, L)', make: ct1Of, py: CT1_PY, x: inp([2, 4, 5], 204), w: inp([4, 3, 3], 205), b: inp([6], 206), outputSize: [2, 6, 9] },
  { name: 'ConvTranspose1d unbatched: the whole shape (C, L)', make: ct1Of, py: CT1_PY, x: inp([4, 5], 207), w: inp([4, 3, 3], 208), b: inp([6], 209), outputSize: [6, 10] },
  { name: 'ConvTranspose2d stride 2: [H, W]', make: ct2Of, py: CT2_PY, x: inp([2, 3, 4, 5], 210), w: inp([3, 4, 3, 3], 211), b: inp([4], 212), outputSize: [10, 11] },
  { name: 'ConvTranspose2d stride 2: the whole shape (N, C, H, W)', make: ct2Of, py: CT2_PY, x: inp([2, 3, 4, 5], 213), w: inp([3, 4, 3, 3], 214), b: inp([4], 215), outputSize: [2, 4, 9, 12] },
  { name: 'ConvTranspose2d unbatched: the whole shape (C, H, W)', make: ct2Of, py: CT2_PY, x: inp([3, 4, 5], 216), w: inp([3, 4, 3, 3], 217), b: inp([4], 218), outputSize: [4, 10, 12] },
  {
    name: 'ConvTranspose2d: outputSize overrides the outputPadding option',
    make: () => new nn.ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 1, dtype: 'float64' }),
    py: 'torch.nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=1, dtype=torch.float64)',
    x: inp([2, 3, 4, 5], 219), w: inp([3, 4, 3, 3], 220), b: inp([4], 221), outputSize: [9, 11],
  },
  {
    name: 'ConvTranspose2d stride, padding and dilation per dimension, no bias',
    make: () => new nn.ConvTranspose2d(3, 2, [3, 2], { stride: [3, 2], padding: [1, 0], dilation: [2, 3], bias: false, dtype: 'float64' }),
    py: 'torch.nn.ConvTranspose2d(3, 2, (3, 2), stride=(3, 2), padding=(1, 0), dilation=(2, 3), bias=False, dtype=torch.float64)',
    x: inp([1, 3, 4, 4], 222), w: inp([3, 2, 3, 2], 223), outputSize: [14, 11], // H 12..14, W 10..11
  },
  { name: 'ConvTranspose3d stride 2, padding, dilation: [D, H, W]', make: ct3Of, py: CT3_PY, x: inp([1, 2, 3, 3, 2], 224), w: inp([2, 3, 2, 2, 2], 225), b: inp([3], 226), outputSize: [7, 5, 4] },
  { name: 'ConvTranspose3d: the whole shape (N, C, D, H, W)', make: ct3Of, py: CT3_PY, x: inp([2, 2, 3, 3, 2], 227), w: inp([2, 3, 2, 2, 2], 228), b: inp([3], 229), outputSize: [2, 3, 6, 5, 4] },
  {
    name: 'ConvTranspose3d stride 2, groups, unbatched: the whole shape (C, D, H, W)',
    make: () => new nn.ConvTranspose3d(4, 2, [2, 3, 2], { stride: 2, groups: 2, dtype: 'float64' }),
    py: 'torch.nn.ConvTranspose3d(4, 2, (2, 3, 2), stride=2, groups=2, dtype=torch.float64)',
    x: inp([4, 2, 3, 2], 230), w: inp([4, 1, 2, 3, 2], 231), b: inp([2], 232), outputSize: [2, 5, 8, 4], // D 4..5, H 7..8, W 4..5
  },
];

// functional_call puts w and b in the module's place, so their gradients come back as the parameters' gradients.
const outputSizeExpr = (c: OutputSizeCase): string =>
  `torch.nn.utils.stateless.functional_call(${c.py}, {'weight': w${c.b ? ", 'bias': b" : ''}}, (x,), {'output_size': ${JSON.stringify(c.outputSize)}})`;

describe.skipIf(!hasTorch)('ConvTranspose1d/2d/3d forward(input, outputSize) equals PyTorch\'s output_size (values, input and parameter gradients, float64; needs python3 with torch)', () => {
  const ours = new Map<string, { shape: number[]; out: number[]; grads: Record<string, number[]>; gradOut: number[] }>();
  const before = memory().tensors;
  for (const c of OUTPUT_SIZE_CASES) {
    const m = c.make();
    try {
      tidy(() => {
        noGrad(() => {
          m.weight.copy_(toTensor(c.w, false));
          if (c.b) (m.bias as Tensor).copy_(toTensor(c.b, false));
        });
        const x = toTensor(c.x);
        const out = m.forward(x, c.outputSize);
        const gradOut = values(out.numel(), 98);
        out.backward(tensor(Float64Array.from(gradOut), { shape: out.shape }));
        const grads: Record<string, number[]> = { x: vals(x.grad as Tensor), w: vals(m.weight.grad as Tensor) };
        if (c.b) grads.b = vals((m.bias as Tensor).grad as Tensor);
        ours.set(c.name, { shape: out.shape, out: vals(out), grads, gradOut });
      });
    } finally {
      m.dispose();
    }
  }
  const after = memory().tensors;
  let ref: Awaited<ReturnType<typeof runCases>>;
  beforeAll(async () => {
    ref = await runCases(
      OUTPUT_SIZE_CASES.map((c): PyCase => ({ name: c.name, inputs: { x: c.x, w: c.w, ...(c.b ? { b: c.b } : {}) }, expr: outputSizeExpr(c), gradOut: ours.get(c.name)!.gradOut })),
    );
  });

  it('left no tensors behind', () => expect(after).toBe(before));

  for (const c of OUTPUT_SIZE_CASES) {
    it(c.name, () => {
      const a = ours.get(c.name)!;
      const b = ref[c.name];
      const n = c.w.shape.length - 2;
      expect(a.shape.slice(-n), 'spatial output size').toEqual(c.outputSize.slice(-n));
      expect(a.shape).toEqual(b.shape);
      expect(maxDiff(a.out, b.out)).toBeLessThan(1e-10);
      expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
      for (const [k, g] of Object.entries(a.grads)) expect(maxDiff(g, b.grads[k] as number[]), `gradient of ${k}`).toBeLessThan(1e-10);
    });
  }

  it('refuses what PyTorch refuses: the same valid range for a size out of it; wrong lengths; paddingMode other than zeros', async () => {
    const before = memory().tensors;
    const [ct1, ct2, ct3] = [ct1Of(), ct2Of(), ct3Of()];
    const x = (...shape: number[]): Tensor => randn(shape, { dtype: 'float64' });
    // [ours, the same call in Python (raising ValueError)]
    const cases: [() => unknown, string][] = [
      [() => ct2.forward(x(2, 3, 4, 5), [11, 11]), `${CT2_PY}(torch.zeros(2, 3, 4, 5, dtype=torch.float64), output_size=[11, 11])`],
      [() => ct2.forward(x(2, 3, 4, 5), [2, 4, 8, 12]), `${CT2_PY}(torch.zeros(2, 3, 4, 5, dtype=torch.float64), output_size=[2, 4, 8, 12])`],
      [() => ct1.forward(x(4, 5), [11]), `${CT1_PY}(torch.zeros(4, 5, dtype=torch.float64), output_size=[11])`],
      [() => ct3.forward(x(1, 2, 3, 3, 2), [7, 5, 5]), `${CT3_PY}(torch.zeros(1, 2, 3, 3, 2, dtype=torch.float64), output_size=[7, 5, 5])`],
      [() => ct2.forward(x(2, 3, 4, 5), [10]), `${CT2_PY}(torch.zeros(2, 3, 4, 5, dtype=torch.float64), output_size=[10])`],
      [() => ct2.forward(x(3, 4, 5), [3, 4, 10, 11]), `${CT2_PY}(torch.zeros(3, 4, 5, dtype=torch.float64), output_size=[3, 4, 10, 11])`],
      [() => new nn.ConvTranspose2d(3, 4, 3, { paddingMode: 'reflect' as never }), "torch.nn.ConvTranspose2d(3, 4, 3, padding_mode='reflect')"],
    ];
    const theirs = JSON.parse(
      await py(
        `
import json, sys, torch
out = []
for e in json.load(sys.stdin):
    try:
        eval(e)
        out.append(None)
    except ValueError as err:
        out.append(str(err))
print(json.dumps(out))
`,
        JSON.stringify(cases.map(([, e]) => e)),
      ),
    ) as (string | null)[];
    const range = (msg: string): string[] | undefined => /from (\[[^\]]*\]) to (\[[^\]]*\])/.exec(msg)?.slice(1);
    try {
      cases.forEach(([call], i) => {
        let message = '';
        tidy(() => {
          try {
            const r = call();
            if (r instanceof nn.Module) r.dispose();
          } catch (e) {
            message = (e as Error).message;
          }
        });
        expect(message, `ours ${i}`).not.toBe('');
        expect(theirs[i], `theirs ${i}`).not.toBe(null);
        expect(range(message), `valid range ${i}`).toEqual(range(theirs[i] as string));
      });
    } finally {
      for (const m of [ct1, ct2, ct3]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

// ---------------------------------------------------------------- without Python

describe('the 1-d and 3-d modules: parameters, initialisation, shapes', () => {
  it("have PyTorch's parameter shapes and initial bounds (±1/√fanIn), the given options and output shapes; resetParameters draws again", () => {
    const before = memory().tensors;
    const conv1 = new nn.Conv1d(6, 8, 5, { groups: 2, padding: 'same' });
    const conv3 = new nn.Conv3d(3, 4, [1, 3, 3], { stride: [1, 2, 2], padding: [0, 1, 1], bias: false });
    const ct1 = new nn.ConvTranspose1d(4, 6, 4, { stride: 2, padding: 1, groups: 2 });
    const ct3 = new nn.ConvTranspose3d(3, 2, 2, { stride: 2, dtype: 'float64' });
    try {
      tidy(() => {
        const bounded = (t: Tensor, bound: number): void => {
          const v = vals(t).map(Math.abs);
          expect(Math.max(...v)).toBeLessThanOrEqual(bound);
          expect(Math.max(...v)).toBeGreaterThan(0.7 * bound); // spread over the range, not a constant
        };
        expect(shapes(conv1.stateDict())).toEqual([['weight', [8, 3, 5]], ['bias', [8]]]);
        bounded(conv1.weight, 1 / Math.sqrt(3 * 5));
        bounded(conv1.bias as Tensor, 1 / Math.sqrt(3 * 5));
        expect([conv1.kernelSize, conv1.stride, conv1.padding, conv1.dilation, conv1.groups, conv1.paddingMode, conv1.kind]).toEqual([[5], [1], 'same', [1], 2, 'zeros', 'Conv1d']);
        expect(conv1.forward(randn([2, 6, 11])).shape).toEqual([2, 8, 11]);
        expect(conv1.forward(randn([6, 11])).shape).toEqual([8, 11]);
        expect(shapes(conv3.stateDict())).toEqual([['weight', [4, 3, 1, 3, 3]]]);
        expect(conv3.bias).toBe(null);
        bounded(conv3.weight, 1 / Math.sqrt(3 * 9));
        expect(conv3.forward(randn([2, 3, 4, 8, 8])).shape).toEqual([2, 4, 4, 4, 4]);
        expect(conv3.forward(randn([3, 4, 8, 8])).shape).toEqual([4, 4, 4, 4]);
        expect(shapes(ct1.stateDict())).toEqual([['weight', [4, 3, 4]], ['bias', [6]]]);
        bounded(ct1.weight, 1 / Math.sqrt(3 * 4));
        expect([ct1.padding, ct1.outputPadding]).toEqual([[1], [0]]);
        expect(ct1.forward(randn([2, 4, 10])).shape).toEqual([2, 6, 20]);
        expect(shapes(ct3.stateDict())).toEqual([['weight', [3, 2, 2, 2, 2]], ['bias', [2]]]);
        expect(ct3.weight.dtype).toBe('float64');
        bounded(ct3.bias as Tensor, 1 / Math.sqrt(2 * 8));
        expect(ct3.forward(randn([1, 3, 2, 3, 4], { dtype: 'float64' })).shape).toEqual([1, 2, 4, 6, 8]);
        noGrad(() => conv3.weight.fill_(3));
        conv3.resetParameters();
        expect(vals(conv3.weight).includes(3)).toBe(false);
      });
    } finally {
      for (const m of [conv1, conv3, ct1, ct3]) m.dispose();
    }
    // Pools: the options as given (stride defaults to the kernel), output shapes, indices.
    const mp1 = new nn.MaxPool1d(3);
    const mp3 = new nn.MaxPool3d([1, 2, 2], { returnIndices: true });
    const ap1 = new nn.AvgPool1d(2, { ceilMode: true });
    const ap3 = new nn.AvgPool3d([2, 2, 1], { stride: 1, divisorOverride: 2 });
    const aap3 = new nn.AdaptiveAvgPool3d([null, 1, 1]);
    const amp2 = new nn.AdaptiveMaxPool2d(1, { returnIndices: true });
    try {
      tidy(() => {
        expect([mp1.kernelSize, mp1.stride, mp1.padding, mp1.dilation, mp1.ceilMode, mp1.returnIndices]).toEqual([[3], [3], [0], [1], false, false]);
        expect(mp1.forward(randn([2, 3, 10])).shape).toEqual([2, 3, 3]);
        const [y, idx] = mp3.forward(randn([2, 3, 4, 6, 6]));
        expect([y.shape, idx.shape, idx.dtype]).toEqual([[2, 3, 4, 3, 3], [2, 3, 4, 3, 3], 'int64']);
        expect(ap1.forward(randn([2, 3, 7])).shape).toEqual([2, 3, 4]);
        expect([ap3.stride, ap3.divisorOverride, ap3.countIncludePad]).toEqual([[1, 1, 1], 2, true]);
        const ones = ap3.forward(onesOf([1, 1, 3, 3, 3]));
        expect(ones.shape).toEqual([1, 1, 2, 2, 3]);
        expect(new Set(vals(ones))).toEqual(new Set([2])); // four ones summed, divided by 2
        expect(aap3.outputSize).toEqual([null, 1, 1]);
        expect(aap3.forward(randn([2, 3, 5, 6, 7])).shape).toEqual([2, 3, 5, 1, 1]);
        const x = randn([2, 3, 4, 5]);
        const [m, i] = amp2.forward(x);
        expect(vals(m)).toEqual(vals(x.flatten(2).amax(2, true).unsqueeze(3)));
        expect(i.shape).toEqual([2, 3, 1, 1]);
        expect(shapes(amp2.stateDict())).toEqual([]);
      });
    } finally {
      for (const m of [mp1, mp3, ap1, ap3, aap3, amp2]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it("ConvTranspose1d/2d/3d: paddingMode 'zeros'; forward(input, outputSize) gives that size and equals the functional form with the output padding it implies", () => {
    const before = memory().tensors;
    const ct1 = new nn.ConvTranspose1d(4, 2, 3, { stride: 2, padding: 1 });
    const ct2 = new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1, paddingMode: 'zeros' });
    const ct3 = new nn.ConvTranspose3d(2, 2, [1, 4, 3], { stride: [1, 2, 3], dilation: [1, 1, 2] });
    try {
      tidy(() => {
        expect([ct1.paddingMode, ct2.paddingMode, ct3.paddingMode]).toEqual(['zeros', 'zeros', 'zeros']);
        // ct1 on L 5: 9 (no output padding) or 10
        const x1 = randn([2, 4, 5]);
        expect(ct1.forward(x1).shape).toEqual([2, 2, 9]);
        expect(ct1.forward(x1, [10]).shape).toEqual([2, 2, 10]);
        expect(ct1.forward(x1, [2, 2, 9]).shape).toEqual([2, 2, 9]);
        expect(ct1.forward(x1.select(0, 0), [2, 10]).shape).toEqual([2, 10]);
        expect(vals(ct1.forward(x1, [10]))).toEqual(vals(F.convTranspose1d(x1, ct1.weight, ct1.bias, { stride: 2, padding: 1, outputPadding: 1 })));
        // ct2 on [8, 8]: [15, 15] to [16, 16]; its own outputPadding 1 gives [16, 16], outputSize replaces it
        const x2 = randn([1, 3, 8, 8]);
        expect(ct2.forward(x2).shape).toEqual([1, 2, 16, 16]);
        expect(ct2.forward(x2, null).shape).toEqual([1, 2, 16, 16]);
        expect(ct2.forward(x2, [16, 15]).shape).toEqual([1, 2, 16, 15]);
        expect(vals(ct2.forward(x2, [1, 2, 15, 16]))).toEqual(vals(F.convTranspose2d(x2, ct2.weight, ct2.bias, { stride: 2, padding: 1, outputPadding: [0, 1] })));
        expect(vals(ct2.forward(x2, [16, 16]))).toEqual(vals(ct2.forward(x2)));
        // ct3 on [2, 3, 4]: D 2 only (stride 1), H 8..9, W 14..16 (stride 3 with dilation 2)
        const x3 = randn([1, 2, 2, 3, 4]);
        expect(ct3.forward(x3).shape).toEqual([1, 2, 2, 8, 14]);
        expect(ct3.forward(x3, [2, 9, 16]).shape).toEqual([1, 2, 2, 9, 16]);
        expect(vals(ct3.forward(x3, [1, 2, 2, 9, 15]))).toEqual(vals(F.convTranspose3d(x3, ct3.weight, ct3.bias, { stride: [1, 2, 3], dilation: [1, 1, 2], outputPadding: [0, 1, 1] })));
        // the gradients reach the parameters through the output padding outputSize implies
        const y = ct2.forward(x2, [15, 15]);
        y.sum().backward();
        expect(ct2.weight.grad?.shape).toEqual([3, 2, 3, 3]);
      });
    } finally {
      for (const m of [ct1, ct2, ct3]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('the modules equal their functional forms, inside nn.Sequential too; nn.Upsample resamples 3-d and 5-d input', () => {
    const before = memory().tensors;
    const c0 = new nn.Conv1d(3, 8, 3, { padding: 1 });
    const c3 = new nn.Conv1d(8, 8, 3, { paddingMode: 'circular', padding: 1 });
    const net = new nn.Sequential(c0, new nn.ReLU(), new nn.MaxPool1d(2), c3, new nn.AdaptiveAvgPool1d(1), new nn.Flatten(1), new nn.Linear(8, 2));
    const up1 = new nn.Upsample({ scaleFactor: 2, mode: 'linear', alignCorners: true });
    const up3 = new nn.Upsample({ size: [4, 6, 8], mode: 'trilinear' });
    const upNearest = new nn.Upsample({ scaleFactor: 2 });
    try {
      tidy(() => {
        expect(shapes(net.stateDict())).toEqual([['0.weight', [8, 3, 3]], ['0.bias', [8]], ['3.weight', [8, 8, 3]], ['3.bias', [8]], ['6.weight', [2, 8]], ['6.bias', [2]]]);
        const x = randn([4, 3, 16]);
        const y = net.forward(x);
        expect(y.shape).toEqual([4, 2]);
        y.sum().backward();
        expect(c0.weight.grad?.shape).toEqual([8, 3, 3]);
        expect(vals(c0.forward(x))).toEqual(vals(F.conv1d(x, c0.weight, c0.bias, { padding: 1 })));
        const h = randn([2, 8, 6]);
        expect(vals(c3.forward(h))).toEqual(vals(F.conv1d(F.pad(h, [1, 1], 'circular'), c3.weight, c3.bias)));
        const s = randn([2, 3, 5]);
        expect(up1.forward(s).shape).toEqual([2, 3, 10]);
        expect(vals(up1.forward(s))).toEqual(vals(F.interpolate(s, { scaleFactor: 2, mode: 'linear', alignCorners: true })));
        const v = randn([1, 2, 2, 3, 4]);
        expect(up3.forward(v).shape).toEqual([1, 2, 4, 6, 8]);
        expect(upNearest.forward(v).shape).toEqual([1, 2, 4, 6, 8]);
        expect(upNearest.forward(s).shape).toEqual([2, 3, 10]);
        expect(() => up3.forward(randn([1, 2, 3, 4]))).toThrow(/^interpolate: expected a 5-d tensor \(N, C, D, H, W\) \(mode 'trilinear' needs 5-d input\) for input but received shape \[1, 2, 3, 4\]/);
        expect(() => up1.forward(v)).toThrow(/^interpolate: expected a 3-d tensor \(N, C, L\) \(mode 'linear' needs 3-d input\)/);
      });
    } finally {
      for (const m of [net, up1, up3, upNearest]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

// ---------------------------------------------------------------- errors

describe('1-d and 3-d errors name the op, the argument and what was expected', () => {
  it('functional: input dims, channels, weights, options, unknown keys', () =>
    tidy(() => {
      const x1 = randn([2, 4, 9]);
      const x3 = randn([1, 4, 5, 6, 5]);
      const cases: ErrorCase[] = [
        [() => F.conv1d(randn([2, 4, 9, 9]), randn([6, 4, 3])), RangeError, /^conv1d: expected a 3-d \(N, C, L\) or 2-d \(C, L\) tensor for input but received shape \[2, 4, 9, 9\]$/],
        [() => F.conv3d(randn([4, 5, 6]), randn([4, 4, 2, 2, 2])), RangeError, /^conv3d: expected a 5-d \(N, C, D, H, W\) or 4-d \(C, D, H, W\) tensor for input but received shape \[4, 5, 6\]$/],
        [() => F.conv1d(x1, randn([6, 3, 3])), RangeError, /^conv1d: expected 3 channels in dim 1 \(weight \[6, 3, 3\], groups 1\) for input but received shape \[2, 4, 9\]$/],
        [() => F.conv3d(x3, randn([4, 1, 2, 2, 2]), null, { groups: 2 }), RangeError, /^conv3d: expected 2 channels in dim 1 \(weight \[4, 1, 2, 2, 2\], groups 2\) for input/],
        [() => F.conv1d(x1, randn([6, 4, 3, 3])), RangeError, /^conv1d: expected a 3-d tensor \(outChannels, inChannels\/groups, kL\) for weight but received shape \[6, 4, 3, 3\]$/],
        [() => F.conv3d(x3, randn([4, 4, 2, 2])), RangeError, /^conv3d: expected a 5-d tensor \(outChannels, inChannels\/groups, kD, kH, kW\) for weight/],
        [() => F.conv1d(x1, randn([6, 4, 3]), randn([5])), RangeError, /^conv1d: expected shape \[6\] \(one per output channel of weight \[6, 4, 3\]\) for bias but received shape \[5\]$/],
        [() => F.conv1d(x1, randn([6, 4, 3], { dtype: 'float64' })), TypeError, /^conv1d: expected weight of input's dtype float32 but received float64$/],
        [() => F.conv3d(x3, randn([4, 4, 3, 3, 3]), null, { stride: [1, 2, 1], padding: 'same' }), RangeError, /^conv3d: expected a number when stride is not 1 \('same' needs stride 1\) for padding but received "same"/],
        [() => F.conv3d(x3, randn([4, 4, 3, 3, 3]), null, { stride: [1, 2] as never }), TypeError, /^conv3d: expected an integer or an array of 3 integers for stride but received \[1, 2\]/],
        [() => F.conv1d(x1, randn([6, 4, 3]), null, { padding: [1, 1] as never }), TypeError, /^conv1d: expected an integer or an array of one integer for padding/],
        [() => F.conv1d(x1, randn([6, 4, 12])), RangeError, /^conv1d: expected spatial size at least \[12\] for kernel \[12\] with padding \[0\] and dilation \[1\] for input/],
        [() => F.conv1d(x1, randn([6, 4, 3]), null, { strides: 2 } as never), TypeError, /^conv1d: unknown option 'strides'; did you mean 'stride'\? \(known: stride, padding, dilation, groups\)$/],
        [() => F.convTranspose1d(x1, randn([3, 2, 3])), RangeError, /^convTranspose1d: expected 3 channels in dim 1 \(weight \[3, 2, 3\]\) for input/],
        [() => F.convTranspose3d(x3, randn([4, 2, 2, 2, 2]), null, { stride: 2, outputPadding: [0, 2, 0] }), RangeError, /^convTranspose3d: expected values smaller than the stride or the dilation \(stride \[2, 2, 2\], dilation \[1, 1, 1\]\) for outputPadding/],
        [() => F.convTranspose1d(x1, randn([4, 2, 3]), null, { padding: 'same' as never }), TypeError, /^convTranspose1d: expected an integer or an array of one integer for padding but received "same"/],
        [() => F.convTranspose1d(randn([1, 4, 1]), randn([4, 2, 3]), null, { padding: 2 }), RangeError, /^convTranspose1d: expected a spatial size that gives a positive output size with padding \[2\] \(dimension 0 would be -1\)/],
        [() => F.maxPool1d(x1, 3, { padding: 2 }), RangeError, /^maxPool1d: expected at most half the kernel size \[3\] for padding but received \[2\]/],
        [() => F.maxPool3d(x3, [2, 2] as never), TypeError, /^maxPool3d: expected an integer or an array of 3 integers for kernelSize but received \[2, 2\]/],
        [() => F.maxPool3d(randn([2, 5, 6]), 2), RangeError, /^maxPool3d: expected a 5-d \(N, C, D, H, W\) or 4-d \(C, D, H, W\) tensor for input/],
        [() => F.maxPool1d(x1, 3, { ceil_mode: true } as never), TypeError, /^maxPool1d: unknown option 'ceil_mode'; did you mean 'ceilMode'\?/],
        [() => F.avgPool1d(x1, 3, { divisorOverride: 2 } as never), TypeError, /^avgPool1d: unknown option 'divisorOverride' \(known: stride, padding, ceilMode, countIncludePad\)$/],
        [() => F.avgPool3d(x3, 2, { divisorOverride: 0 }), RangeError, /^avgPool3d: expected an integer between 1 and \d+ for divisorOverride but received 0/],
        [() => F.avgPool3d(randn([1, 1, 1, 4, 4]), 2), RangeError, /^avgPool3d: expected a padded spatial size of at least the kernel \[2, 2, 2\] for input but received shape \[1, 1, 1, 4, 4\]/],
        [() => F.avgPool1d(x1, 0), RangeError, /^avgPool1d: expected an integer between 1 and \d+ for kernelSize but received 0/],
        [() => F.adaptiveAvgPool1d(x1, [2, 3] as never), TypeError, /^adaptiveAvgPool1d: expected an integer or an array of one integer \(or null\) for outputSize but received \[2, 3\]/],
        [() => F.adaptiveAvgPool3d(x3, [2, 0, 2]), RangeError, /^adaptiveAvgPool3d: expected an integer between 1 and \d+ for outputSize\[1\] but received 0/],
        [() => F.adaptiveMaxPool2d(randn([4, 5]), 2), RangeError, /^adaptiveMaxPool2d: expected a 4-d \(N, C, H, W\) or 3-d \(C, H, W\) tensor for input/],
        [() => F.adaptiveMaxPool3d(x3, 2, { return_indices: true } as never), TypeError, /^adaptiveMaxPool3d: unknown option 'return_indices'; did you mean 'returnIndices'\?/],
        [() => F.adaptiveMaxPool1d(x1, 2, { returnIndices: 'yes' as never }), TypeError, /^adaptiveMaxPool1d: expected a boolean for returnIndices but received "yes"/],
        [() => F.maxPool1d(tensor([[[1n, 2n]]]), 2), TypeError, /^maxPool1d: expected a floating-point tensor for input but received int64$/],
      ];
      expectErrors(cases);
    }));

  it('interpolate: mode and dims mismatches, sizes per dimension, alignCorners', () =>
    tidy(() => {
      const x1 = randn([2, 3, 5]);
      const x2 = randn([2, 3, 4, 5]);
      const x3 = randn([1, 2, 3, 4, 5]);
      const cases: ErrorCase[] = [
        [() => F.interpolate(x1, { size: 4, mode: 'bilinear' }), RangeError, /^interpolate: expected a 4-d tensor \(N, C, H, W\) \(mode 'bilinear' needs 4-d input\) for input but received shape \[2, 3, 5\]$/],
        [() => F.interpolate(x2, { scaleFactor: 2, mode: 'trilinear' }), RangeError, /^interpolate: expected a 5-d tensor \(N, C, D, H, W\) \(mode 'trilinear' needs 5-d input\) for input but received shape \[2, 3, 4, 5\]$/],
        [() => F.interpolate(x3, { size: 4, mode: 'linear' }), RangeError, /^interpolate: expected a 3-d tensor \(N, C, L\) \(mode 'linear' needs 3-d input\)/],
        [() => F.interpolate(x3, { size: 4, mode: 'bicubic' }), RangeError, /^interpolate: expected a 4-d tensor \(N, C, H, W\) \(mode 'bicubic' needs 4-d input\)/],
        [() => F.interpolate(randn([3, 5]), { size: 4 }), RangeError, /^interpolate: expected a 3-d \(N, C, L\), 4-d \(N, C, H, W\) or 5-d \(N, C, D, H, W\) tensor for input but received shape \[3, 5\]$/],
        [() => F.interpolate(x1, { size: [4, 4] }), RangeError, /^interpolate: expected a 4-d tensor to match size \[4, 4\] \(one value per spatial dimension\) for input but received shape \[2, 3, 5\]$/],
        [() => F.interpolate(x3, { scaleFactor: [2, 2], mode: 'area' }), RangeError, /^interpolate: expected a 4-d tensor to match scaleFactor \[2, 2\]/],
        [() => F.interpolate(x1, { size: [4, 4], mode: 'linear' }), RangeError, /^interpolate: expected 1 value \(mode 'linear' resamples 1 spatial dimension\) for size but received \[4, 4\]/],
        [() => F.interpolate(x3, { scaleFactor: [2, 2], mode: 'trilinear' }), RangeError, /^interpolate: expected 3 values \(mode 'trilinear' resamples 3 spatial dimensions\) for scaleFactor but received \[2, 2\]/],
        [() => F.interpolate(x1, { size: [1, 2, 3, 4] as never }), TypeError, /^interpolate: expected an integer or an array of 1 to 3 integers \(one per spatial dimension\) for size/],
        [() => F.interpolate(x1, { scaleFactor: [] as never }), TypeError, /^interpolate: expected a positive number or an array of 1 to 3 of them \(one per spatial dimension\) for scaleFactor/],
        [() => F.interpolate(x3, { scaleFactor: [2, -1, 2] }), RangeError, /^interpolate: expected a finite number > 0 for scaleFactor\[1\] but received -1/],
        [() => F.interpolate(x1, { scaleFactor: 0 }), RangeError, /^interpolate: expected a finite number > 0 for scaleFactor but received 0/],
        [() => F.interpolate(x1, { size: 0 }), RangeError, /^interpolate: expected an integer between 1 and \d+ for size but received 0/],
        [() => F.interpolate(x3, { scaleFactor: 0.2 }), RangeError, /^interpolate: expected a spatial size that scaleFactor \[0\.2, 0\.2, 0\.2\] keeps at least 1 \(the output would be \[0, 0, 1\]\)/],
        [() => F.interpolate(x3, { size: 4, mode: 'nearest', alignCorners: false }), TypeError, /^interpolate: expected no value with mode 'nearest' \(only 'linear', 'bilinear', 'bicubic' and 'trilinear' take it\) for alignCorners/],
        [() => F.interpolate(x1, { size: 4, mode: 'cubic' as never }), TypeError, /^interpolate: expected one of "nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area" for mode but received "cubic"/],
        [() => F.interpolate(x1, { size: 4, scale_factor: 2 } as never), TypeError, /^interpolate: unknown option 'scale_factor'; did you mean 'scaleFactor'\?/],
        [() => new nn.Upsample({ size: [2, 2], mode: 'trilinear' }), RangeError, /^Upsample: expected 3 values \(mode 'trilinear' resamples 3 spatial dimensions\) for size but received \[2, 2\]/],
        [() => new nn.Upsample({ scaleFactor: 2, mode: 'area', alignCorners: true }), TypeError, /^Upsample: expected no value with mode 'area'/],
      ];
      expectErrors(cases);
    }));

  it('modules: constructor arguments and options, unknown keys, forward inputs', () => {
    const cases: ErrorCase[] = [
      [() => new nn.Conv1d(4, 6, 3, { groups: 4 }), RangeError, /^Conv1d: expected a multiple of groups \(4\) for outChannels but received 6 \(number\)$/],
      [() => new nn.Conv3d(3, 6, 3, { groups: 2 }), RangeError, /^Conv3d: expected a multiple of groups \(2\) for inChannels but received 3 \(number\)$/],
      [() => new nn.Conv1d(0, 6, 3), RangeError, /^Conv1d: expected a positive integer for inChannels but received 0/],
      [() => new nn.Conv3d(2, 2, [3, 3] as never), TypeError, /^Conv3d: expected an integer or an array of 3 integers for kernelSize but received \[3, 3\]/],
      [() => new nn.Conv1d(2, 2, 3, { padding: 'same', stride: 2 }), RangeError, /^Conv1d: expected a number when stride is not 1 \('same' needs stride 1\) for padding/],
      [() => new nn.Conv1d(2, 2, 3, { paddingMode: 'mirror' as never }), TypeError, /^Conv1d: expected one of "zeros", "reflect", "replicate", "circular" for paddingMode but received "mirror"/],
      [() => new nn.Conv1d(2, 2, 3, { padding_mode: 'reflect' } as never), TypeError, /^Conv1d: unknown option 'padding_mode'; did you mean 'paddingMode'\?/],
      [() => new nn.Conv3d(2, 2, 3, { dtype: 'int64' as never }), TypeError, /^Conv3d: expected one of "float32", .* for dtype but received "int64"/],
      [() => new nn.Conv1d(2, 2, 3, { bias: 1 as never }), TypeError, /^Conv1d: expected a boolean for bias but received 1/],
      [() => new nn.ConvTranspose1d(2, 2, 3, { padding: 'same' as never }), TypeError, /^ConvTranspose1d: expected an integer or an array of one integer for padding but received "same"/],
      [() => new nn.ConvTranspose3d(2, 2, 3, { stride: 2, outputPadding: 2 }), RangeError, /^ConvTranspose3d: expected values smaller than the stride or the dilation \(stride \[2, 2, 2\], dilation \[1, 1, 1\]\) for outputPadding/],
      [() => new nn.ConvTranspose1d(2, 2, 3, { paddingMode: 'reflect' as never }), RangeError, /^ConvTranspose1d: expected "zeros" \(the only padding mode of a transposed convolution, as in PyTorch\) for paddingMode but received "reflect" \(string\)$/],
      [() => new nn.ConvTranspose2d(2, 2, 3, { paddingMode: 'circular' as never }), RangeError, /^ConvTranspose2d: expected "zeros" \(the only padding mode/],
      [() => new nn.ConvTranspose3d(2, 2, 3, { paddingMode: 'mirror' as never }), TypeError, /^ConvTranspose3d: expected "zeros" \(the only padding mode of a transposed convolution, as in PyTorch\) for paddingMode but received "mirror" \(string\)$/],
      [() => new nn.ConvTranspose2d(2, 2, 3, { paddingMode: 0 as never }), TypeError, /^ConvTranspose2d: expected "zeros" .* for paddingMode but received 0 \(number\)$/],
      [() => new nn.ConvTranspose2d(2, 2, 3, { padding_mode: 'zeros' } as never), TypeError, /^ConvTranspose2d: unknown option 'padding_mode'; did you mean 'paddingMode'\?/],
      [() => new nn.MaxPool1d(2, { padding: 2 }), RangeError, /^MaxPool1d: expected at most half the kernel size \[2\] for padding but received \[2\]/],
      [() => new nn.MaxPool3d(2, { dilation: [1, 0, 1] }), RangeError, /^MaxPool3d: expected an integer between 1 and \d+ for dilation\[1\] but received 0/],
      [() => new nn.MaxPool3d(2, { return_indices: true } as never), TypeError, /^MaxPool3d: unknown option 'return_indices'; did you mean 'returnIndices'\?/],
      [() => new nn.AvgPool1d(2, { divisorOverride: 2 } as never), TypeError, /^AvgPool1d: unknown option 'divisorOverride' \(known: stride, padding, ceilMode, countIncludePad\)$/],
      [() => new nn.AvgPool3d(2, { divisorOverride: 1.5 }), TypeError, /^AvgPool3d: expected an integer for divisorOverride but received 1\.5/],
      [() => new nn.AvgPool3d(2, { countIncludePad: 'no' as never }), TypeError, /^AvgPool3d: expected a boolean for countIncludePad/],
      [() => new nn.AdaptiveAvgPool1d(null as never), TypeError, /^AdaptiveAvgPool1d: expected an integer or an array of one integer \(or null\) for outputSize but received null/],
      [() => new nn.AdaptiveAvgPool3d([1, 2] as never), TypeError, /^AdaptiveAvgPool3d: expected an integer or an array of 3 integers \(or null\) for outputSize/],
      [() => new nn.AdaptiveMaxPool2d(2, { returnIndices: 1 as never }), TypeError, /^AdaptiveMaxPool2d: expected a boolean for returnIndices but received 1/],
      [() => new nn.AdaptiveMaxPool3d(2, { indices: true } as never), TypeError, /^AdaptiveMaxPool3d: unknown option 'indices' \(known: returnIndices\)$/],
    ];
    expectErrors(cases);
    const conv = new nn.Conv1d(4, 2, 3);
    const conv3 = new nn.Conv3d(2, 2, 2);
    const reflect = new nn.Conv1d(4, 2, 3, { padding: 3, paddingMode: 'reflect' });
    const ct = new nn.ConvTranspose3d(2, 2, 2);
    const pool = new nn.AdaptiveMaxPool3d(2);
    try {
      tidy(() => {
        expect(() => conv.forward(randn([2, 3, 8]))).toThrow(/^conv1d: expected 4 channels in dim 1 \(weight \[2, 4, 3\], groups 1\) for input but received shape \[2, 3, 8\]$/);
        expect(() => conv.forward(randn([2, 4, 8, 8]))).toThrow(/^conv1d: expected a 3-d \(N, C, L\) or 2-d \(C, L\) tensor for input/);
        expect(() => conv.forward([1, 2] as never)).toThrow(/^Conv1d\.forward: expected a Tensor for input but received \[1, 2\]/);
        expect(() => conv3.forward(randn([2, 2, 4, 4]).unsqueeze(0).unsqueeze(0))).toThrow(/^conv3d: expected a 5-d \(N, C, D, H, W\) or 4-d \(C, D, H, W\) tensor for input/);
        expect(() => conv3.forward(randn([1, 2, 4, 4, 4], { dtype: 'float64' }))).toThrow(/^conv3d: expected weight of input's dtype float64 but received float32$/);
        expect(() => reflect.forward(randn([1, 4, 3]))).toThrow(/^pad: expected less than the size 3 of the dimension it pads/);
        expect(() => ct.forward(randn([1, 3, 2, 2, 2]))).toThrow(/^convTranspose3d: expected 2 channels in dim 1 \(weight \[2, 2, 2, 2, 2\]\) for input/);
        expect(() => pool.forward(randn([2, 3]))).toThrow(/^adaptiveMaxPool3d: expected a 5-d \(N, C, D, H, W\) or 4-d \(C, D, H, W\) tensor for input but received shape \[2, 3\]$/);
        expect(() => pool.forward(null as never)).toThrow(/^AdaptiveMaxPool3d\.forward: expected a Tensor for input but received null/);
      });
    } finally {
      for (const m of [conv, conv3, reflect, ct, pool]) m.dispose();
    }
  });

  it('ConvTranspose forward(input, outputSize): sizes out of range name the valid range; wrong lengths, non-integers, bad inputs', () => {
    const before = memory().tensors;
    const ct1 = new nn.ConvTranspose1d(4, 6, 3, { stride: 2, padding: 1, groups: 2 });
    const ct2 = new nn.ConvTranspose2d(3, 4, 3, { stride: 2 });
    const ct3 = new nn.ConvTranspose3d(2, 3, 2, { stride: [2, 2, 1], padding: [0, 1, 0], dilation: [1, 1, 2] });
    try {
      tidy(() => {
        const x1 = randn([2, 4, 5]);
        const x2 = randn([2, 3, 4, 5]);
        const x3 = randn([1, 2, 3, 3, 2]);
        const cases: ErrorCase[] = [
          // out of range: the message gives PyTorch's min and max sizes per dimension
          [() => ct2.forward(x2, [11, 11]), RangeError, /^ConvTranspose2d\.forward: expected spatial sizes from \[9, 11\] to \[10, 12\] \(the valid range for an input of spatial size \[4, 5\]\) for outputSize but received \[11, 11\] \(array of 2\)$/],
          [() => ct2.forward(x2, [9, 13]), RangeError, /^ConvTranspose2d\.forward: expected spatial sizes from \[9, 11\] to \[10, 12\] .* but received \[9, 13\]/],
          [() => ct2.forward(x2, [2, 4, 8, 12]), RangeError, /^ConvTranspose2d\.forward: expected spatial sizes from \[9, 11\] to \[10, 12\] .* for outputSize but received \[2, 4, 8, 12\] \(array of 4\)$/],
          [() => ct2.forward(x2.select(0, 0), [3, 8, 12]), RangeError, /^ConvTranspose2d\.forward: expected spatial sizes from \[9, 11\] to \[10, 12\]/],
          [() => ct1.forward(x1, [11]), RangeError, /^ConvTranspose1d\.forward: expected spatial sizes from \[9\] to \[10\] \(the valid range for an input of spatial size \[5\]\) for outputSize but received \[11\] \(array of 1\)$/],
          [() => ct1.forward(x1, [-1]), RangeError, /^ConvTranspose1d\.forward: expected spatial sizes from \[9\] to \[10\]/],
          // stride 1 with dilation 2 (W) allows one size only, as in PyTorch
          [() => ct3.forward(x3, [7, 5, 5]), RangeError, /^ConvTranspose3d\.forward: expected spatial sizes from \[6, 4, 4\] to \[7, 5, 4\] \(the valid range for an input of spatial size \[3, 3, 2\]\) for outputSize but received \[7, 5, 5\]/],
          // wrong length: the spatial sizes, or the whole shape of this input's rank
          [() => ct2.forward(x2, [10]), RangeError, /^ConvTranspose2d\.forward: expected 2 values \(H, W\) or, with this 4-d input, 4 \(N, C, H, W\) for outputSize but received \[10\] \(array of 1\)$/],
          [() => ct2.forward(x2, [4, 10, 11]), RangeError, /^ConvTranspose2d\.forward: expected 2 values \(H, W\) or, with this 4-d input, 4 \(N, C, H, W\) for outputSize but received \[4, 10, 11\] \(array of 3\)$/],
          [() => ct2.forward(x2.select(0, 0), [2, 4, 10, 11]), RangeError, /^ConvTranspose2d\.forward: expected 2 values \(H, W\) or, with this 3-d input, 3 \(C, H, W\) for outputSize but received \[2, 4, 10, 11\]/],
          [() => ct1.forward(x1, []), RangeError, /^ConvTranspose1d\.forward: expected 1 value \(L\) or, with this 3-d input, 3 \(N, C, L\) for outputSize but received \[\] \(array of 0\)$/],
          [() => ct3.forward(x3, [7, 5]), RangeError, /^ConvTranspose3d\.forward: expected 3 values \(D, H, W\) or, with this 5-d input, 5 \(N, C, D, H, W\) for outputSize/],
          // not integers
          [() => ct2.forward(x2, [9.5, 11]), TypeError, /^ConvTranspose2d\.forward: expected an array of integers \(the output's H, W sizes, or its whole shape\) for outputSize but received \[9\.5, 11\] \(array of 2\)$/],
          [() => ct2.forward(x2, [10, '11'] as never), TypeError, /^ConvTranspose2d\.forward: expected an array of integers .* for outputSize but received \[10, 11\] \(array of 2\)$/],
          [() => ct1.forward(x1, 10 as never), TypeError, /^ConvTranspose1d\.forward: expected an array of integers \(the output's L sizes, or its whole shape\) for outputSize but received 10 \(number\)$/],
          [() => ct2.forward(x2, [NaN, 11]), TypeError, /^ConvTranspose2d\.forward: expected an array of integers/],
          [() => ct2.forward(x2, randn([2]) as never), TypeError, /^ConvTranspose2d\.forward: expected an array of integers .* but received a Tensor$/],
          // the input is checked first, as without outputSize
          [() => ct2.forward(randn([4, 5]), [10, 11]), RangeError, /^convTranspose2d: expected a 4-d \(N, C, H, W\) or 3-d \(C, H, W\) tensor for input but received shape \[4, 5\]$/],
          [() => ct2.forward(null as never, [10, 11]), TypeError, /^ConvTranspose2d\.forward: expected a Tensor for input but received null/],
        ];
        expectErrors(cases);
      });
    } finally {
      for (const m of [ct1, ct2, ct3]) m.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});
