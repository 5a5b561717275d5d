// imageToTensor against torchvision (Resize + CenterCrop + ToTensor + Normalize on PIL images) on real
// CIFAR-10 JPEGs: upscaled (32 → 72, crop 64), and downscaled from a larger image made from one (PNG and
// JPEG), plus exact resizing and the errors.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageToTensor } from '../lib/image';
import { cifarJpegDir } from './helpers/data';
import { PYTHON, py } from './helpers/torchpy';
import { spawnSync } from 'child_process';

const hasVision = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torchvision, PIL'], { stdio: 'ignore' }).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-image-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];

/** torchvision's pipeline in Python; returns the tensor as nested lists. */
async function reference(file: string, transforms: string): Promise<{ shape: number[]; data: number[] }> {
  return JSON.parse(
    await py(`
import json, torch
from PIL import Image
import torchvision.transforms as T
img = Image.open(${JSON.stringify(file)}).convert('RGB')
t = T.Compose([${transforms}, T.ToTensor(), T.Normalize(${JSON.stringify(MEAN)}, ${JSON.stringify(STD)})])(img)
print(json.dumps({'shape': [1] + list(t.shape), 'data': t.flatten().tolist()}))`),
  );
}

/** Differences in [0, 1] pixel units (the normalised values times std). */
function diffs(a: Float32Array, b: number[]): { max: number; mean: number } {
  const plane = a.length / 3;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) * STD[Math.floor(i / plane)];
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

describe.skipIf(!hasVision)('imageToTensor equals torchvision (needs python3 with torchvision and PIL)', () => {
  const dir = hasVision ? cifarJpegDir() : '';
  const jpeg = (cls: string, n: string): string => path.join(dir, 'test', cls, `${n}.jpg`);

  // imageToTensor resizes with PIL's own fixed-point bilinear algorithm, so a decoded image gives the same
  // bytes: PNG inputs must match to float32 rounding. JPEG inputs also depend on the decoder (sharp's bundled
  // libjpeg vs the system's for PIL): measured here identical, bounded at 2/255 (max) and 0.2/255 (mean)
  // for decoders that round some IDCT outputs differently. (sharp's own 'linear' resize, tried first,
  // differed by up to 54/255 on upscaled CIFAR images: not used.)
  const JPEG = { max: 2.01 / 255, mean: 0.2 / 255 };
  const PNG = { max: 1e-6, mean: 1e-7 };
  const cases: [string, () => string | Promise<string>, Parameters<typeof imageToTensor>[1], string, { max: number; mean: number }][] = [
    ['CIFAR JPEG upscaled 32 → 72, crop 64', () => jpeg('cat', '0000'), { size: 72, centerCrop: 64, mean: MEAN, std: STD }, 'T.Resize(72), T.CenterCrop(64)', JPEG],
    ['another CIFAR JPEG upscaled, odd crop offsets', () => jpeg('ship', '0003'), { size: 45, centerCrop: [32, 40], mean: MEAN, std: STD }, 'T.Resize(45), T.CenterCrop((32, 40))', JPEG],
    ['exact resize to [40, 56]', () => jpeg('dog', '0001'), { size: [40, 56], resize: 'exact', mean: MEAN, std: STD }, 'T.Resize((40, 56))', JPEG],
    ['a 300x200 PNG made from a CIFAR JPEG, downscaled to 96, crop 80', () => big('png'), { size: 96, centerCrop: 80, mean: MEAN, std: STD }, 'T.Resize(96), T.CenterCrop(80)', PNG],
    ['the same as JPEG', () => big('jpg'), { size: 96, centerCrop: 80, mean: MEAN, std: STD }, 'T.Resize(96), T.CenterCrop(80)', JPEG],
  ];

  async function big(ext: string): Promise<string> {
    const file = path.join(tmp, `big.${ext}`);
    if (!fs.existsSync(file)) {
      await py(`
from PIL import Image
Image.open(${JSON.stringify(jpeg('horse', '0002'))}).convert('RGB').resize((300, 200), Image.BICUBIC).save(${JSON.stringify(file)}${ext === 'jpg' ? ', quality=95' : ''})`);
    }
    return file;
  }

  for (const [name, file, options, transforms, bound] of cases) {
    it(name, async () => {
      const f = await file();
      const ref = await reference(f, transforms);
      const t = await imageToTensor(f, options);
      expect(t.shape).toEqual(ref.shape);
      expect(t.dtype).toBe('float32');
      const d = diffs(t.toArray() as Float32Array, ref.data);
      console.log(`imageToTensor vs torchvision, ${name}: max |diff| ${d.max.toFixed(4)}, mean ${d.mean.toFixed(5)} (pixel units of 1/255 = ${(1 / 255).toFixed(4)})`);
      expect(d.max).toBeLessThanOrEqual(bound.max);
      expect(d.mean).toBeLessThanOrEqual(bound.mean);
      // The same from a Buffer.
      const fromBuffer = await imageToTensor(fs.readFileSync(f), options);
      expect(Array.from(fromBuffer.toArray() as Float32Array)).toEqual(Array.from(t.toArray() as Float32Array));
      t.dispose();
      fromBuffer.dispose();
    });
  }

  it('without resizing, values are exactly ToTensor + Normalize of the decoded pixels', async () => {
    const f = await big('png');
    const ref = await reference(f, 'T.CenterCrop(100)');
    const t = await imageToTensor(f, { centerCrop: 100, mean: MEAN, std: STD });
    const d = diffs(t.toArray() as Float32Array, ref.data);
    expect(d.max).toBeLessThan(1e-6);
    t.dispose();
  });
});

describe('imageToTensor errors', () => {
  it('names the bad option, size or input', async () => {
    await expect(imageToTensor(Buffer.from('not an image'))).rejects.toThrow(/imageToTensor: could not decode the buffer as an image/);
    await expect(imageToTensor('/nonexistent/x.jpg')).rejects.toThrow('imageToTensor: cannot read /nonexistent/x.jpg: no such file');
    await expect(imageToTensor(Buffer.alloc(1), { crop: 3 } as never)).rejects.toThrow("imageToTensor: unknown option 'crop' (known: size, resize, centerCrop, mean, std)");
    await expect(imageToTensor(Buffer.alloc(1), { size: [3, 4] })).rejects.toThrow(/expected a number with resize: 'shorter'/);
    await expect(imageToTensor(Buffer.alloc(1), { mean: [0.5, 0.5] as never })).rejects.toThrow(/expected three numbers \(one per RGB channel\) for mean/);
    await expect(imageToTensor(Buffer.alloc(1), { std: [1, 0, 1] })).rejects.toThrow(/expected non-zero numbers for std/);
    await expect(imageToTensor(42 as never)).rejects.toThrow(/expected a Buffer or a file path for image/);
  });
});
