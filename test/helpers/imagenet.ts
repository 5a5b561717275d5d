// Small ImageNet-like trees for the loader tests: real CIFAR-10 JPEGs upscaled with sharp to odd sizes
// (not multiples of the 16-pixel JPEG blocks), quality 90, 4:2:0; plus helpers that run PIL / torchvision
// in /usr/bin/python3 as the reference.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { cifarJpegDir } from './data';

export const PYTHON = '/usr/bin/python3';
/**
 * True when /usr/bin/python3 has PIL, numpy, torch and torchvision (the references). Found without importing
 * torch, which takes seconds (and blocks the test worker meanwhile).
 */
export const hasPil =
  fs.existsSync(PYTHON) &&
  spawnSync(PYTHON, ['-c', 'import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ("PIL", "numpy", "torch", "torchvision")) else 1)'], { stdio: 'ignore' }).status === 0;

export const WNIDS = ['n01440764', 'n01443537', 'n01484850', 'n01491361', 'n01494475', 'n01496331'];
export const NAMES = ['tench, Tinca tinca', 'goldfish, Carassius auratus', 'great white shark', 'tiger shark', 'hammerhead', 'electric ray'];
const CIFAR = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog'];
const SIZES: [number, number][] = [
  [123, 91],
  [91, 130],
  [150, 113],
  [77, 69],
];

export interface TreeOptions {
  classes?: number;
  perClass?: number;
  valPerClass?: number;
  /** csv: flat val/ + LOC_val_solution.csv; list: flat val/ + val_labels.txt; folders: val/<wnid>/. */
  layout?: 'csv' | 'list' | 'folders';
  /** Write LOC_synset_mapping.txt (default true). */
  names?: boolean;
}

/** The CIFAR image `i` of class `c` as an upscaled JPEG (deterministic). */
export async function cifarJpeg(c: number, i: number, size?: [number, number]): Promise<Buffer> {
  const [w, h] = size ?? SIZES[(c * 7 + i) % SIZES.length];
  const src = path.join(cifarJpegDir(), 'train', CIFAR[c % CIFAR.length], `${String(i).padStart(4, '0')}.jpg`);
  return sharp(src).resize(w, h, { fit: 'fill', kernel: 'cubic' }).jpeg({ quality: 90, chromaSubsampling: '4:2:0' }).toBuffer();
}

/**
 * Writes a tree at `root`: train/<wnid>/<wnid>_<k>.JPEG and a val split in the chosen layout. The val
 * files are ILSVRC2012_val_<n>.JPEG numbered so that the classes interleave. Returns the val file names
 * with their wnids, in file-name order.
 */
export async function makeTree(root: string, options: TreeOptions = {}): Promise<{ val: [string, string][] }> {
  const classes = options.classes ?? 4;
  const perClass = options.perClass ?? 5;
  const valPerClass = options.valPerClass ?? 2;
  const layout = options.layout ?? 'csv';
  for (let c = 0; c < classes; c++) {
    const d = path.join(root, 'train', WNIDS[c]);
    fs.mkdirSync(d, { recursive: true });
    for (let i = 0; i < perClass; i++) fs.writeFileSync(path.join(d, `${WNIDS[c]}_${i}.JPEG`), await cifarJpeg(c, i));
  }
  const val: [string, string][] = [];
  let n = 0;
  for (let i = 0; i < valPerClass; i++) {
    for (let c = classes - 1; c >= 0; c--) {
      const name = `ILSVRC2012_val_${String(++n).padStart(8, '0')}.JPEG`;
      const d = layout === 'folders' ? path.join(root, 'val', WNIDS[c]) : path.join(root, 'val');
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, name), await cifarJpeg(c, 1000 + i));
      val.push([name, WNIDS[c]]);
    }
  }
  if (layout === 'csv') {
    const rows = val.map(([f, w]) => `${f.replace('.JPEG', '')},${w} 1 2 30 40 ${w} 3 4 50 60 `);
    fs.writeFileSync(path.join(root, 'LOC_val_solution.csv'), `ImageId,PredictionString\n${rows.join('\n')}\n`);
  } else if (layout === 'list') {
    fs.writeFileSync(path.join(root, 'val_labels.txt'), val.map(([f, w]) => `${f} ${w}`).join('\n') + '\n');
  }
  if (options.names ?? true) {
    fs.writeFileSync(path.join(root, 'LOC_synset_mapping.txt'), WNIDS.map((w, k) => `${w} ${NAMES[k]}`).join('\n') + '\n');
  }
  return { val };
}

/**
 * Runs a Python script with JSON on stdin; resolves to its stdout bytes (rejects with its stderr on failure).
 * Asynchronous, so a slow reference (torch's import on a busy machine) does not block the test worker.
 */
export function runPython(script: string, input: unknown): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`python failed: ${Buffer.concat(err).toString()}`))));
    child.stdin.end(JSON.stringify(input));
  });
}

/**
 * PIL/torchvision references, one uint8 CHW sample per item, concatenated:
 *  {file, op: 'val', size, resize}: Resize(resize) + CenterCrop(size) (torchvision, PIL backend)
 *  {file, op: 'crop', size, box: [top, left, h, w], flip}: torchvision's resized_crop + hflip
 *  {file, op: 'full'}: Image.open(f).convert('RGB'), HWC
 */
export function pilReference(items: object[]): Promise<Buffer> {
  return runPython(
    `
import sys, json, numpy as np
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image
out = []
for it in json.load(sys.stdin):
    img = Image.open(it['file']).convert('RGB')
    if it['op'] == 'val':
        x = T.CenterCrop(it['size'])(T.Resize(it['resize'])(img))
        out.append(np.asarray(x).transpose(2, 0, 1))
    elif it['op'] == 'crop':
        t, l, h, w = it['box']
        x = F.resized_crop(img, t, l, h, w, [it['size'], it['size']])
        if it['flip']:
            x = F.hflip(x)
        out.append(np.asarray(x).transpose(2, 0, 1))
    else:
        out.append(np.asarray(img))
sys.stdout.buffer.write(b''.join(np.ascontiguousarray(a).tobytes() for a in out))
`,
    items,
  );
}

/** Writes CMYK (Adobe, inverted, as PIL writes it), greyscale and PNG-named-.JPEG versions of `src` with PIL. */
export async function pilOddFiles(src: string, dir: string): Promise<{ cmyk: string; gray: string; png: string; rgba: string }> {
  const files = { cmyk: path.join(dir, 'cmyk.JPEG'), gray: path.join(dir, 'gray.JPEG'), png: path.join(dir, 'png.JPEG'), rgba: path.join(dir, 'rgba.JPEG') };
  await runPython(
    `
import sys, json
from PIL import Image
a = json.load(sys.stdin)
img = Image.open(a['src']).convert('RGB')
img.convert('CMYK').save(a['cmyk'], 'JPEG', quality=90)
img.convert('L').save(a['gray'], 'JPEG', quality=90)
img.save(a['png'], 'PNG')
rgba = img.convert('RGBA'); rgba.putalpha(128); rgba.save(a['rgba'], 'PNG')
`,
    { src, ...files },
  );
  return files;
}
