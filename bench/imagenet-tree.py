#!/usr/bin/env python3
"""Makes a deterministic ImageNet-like (ILSVRC2012 layout) tree from the CIFAR-10 JPEGs, for the loader
benchmark: train/<wnid>/<wnid>_<k>.JPEG, a flat val/ with LOC_val_solution.csv, and LOC_synset_mapping.txt.

The 32x32 CIFAR images are upscaled (bicubic) to typical ILSVRC sizes (mostly 500x375, some 375x500, some
around 800x600) with added noise, fine and coarse, so that they compress like photographs rather than like
smooth upscales: quality 90, about 110 KB each at 500x375 (ILSVRC2012's training archive, 138 GB for 1.28 M
files, averages about 110 KB a file). A few files are the ILSVRC oddities: CMYK JPEGs (Adobe marker,
inverted, as PIL writes them), greyscale JPEGs and a PNG named .JPEG. Everything depends only on --seed and
the counts.

  python3 bench/imagenet-tree.py OUT [--train-per-class 300] [--val-per-class 50] [--seed 0] [--cifar PATH]
"""
import argparse
import io
import os
import sys
import tarfile

import numpy as np
from PIL import Image

WNIDS = [
    ('n01440764', 'tench, Tinca tinca'),
    ('n01443537', 'goldfish, Carassius auratus'),
    ('n01484850', 'great white shark, white shark, man-eater, man-eating shark, Carcharodon carcharias'),
    ('n01491361', 'tiger shark, Galeocerdo cuvieri'),
    ('n01494475', 'hammerhead, hammerhead shark'),
    ('n01496331', 'electric ray, crampfish, numbfish, torpedo'),
    ('n01498041', 'stingray'),
    ('n01514668', 'cock'),
    ('n01514859', 'hen'),
    ('n01518878', 'ostrich, Struthio camelus'),
]
CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']


def read_cifar(path, per_class):
    """{(split, class): [jpeg bytes of NNNN.jpg for NNNN < per_class[split], in number order]}."""
    want = {}
    if os.path.isdir(path):
        for split, n in per_class.items():
            for c in CIFAR_CLASSES:
                want[(split, c)] = [open(os.path.join(path, split, c, '%04d.jpg' % i), 'rb').read() for i in range(n)]
        return want
    found = {}
    with tarfile.open(path, 'r:xz') as tar:
        for m in tar:
            parts = m.name.split('/')
            if len(parts) != 3 or not m.isfile():
                continue
            split, c, name = parts
            if split in per_class and int(name[:4]) < per_class[split]:
                found[(split, c, int(name[:4]))] = tar.extractfile(m).read()
    for split, n in per_class.items():
        for c in CIFAR_CLASSES:
            want[(split, c)] = [found[(split, c, i)] for i in range(n)]
    return want


def photo(jpeg, rng):
    """A CIFAR image upscaled to an ILSVRC-like size with fine and coarse noise (uint8 RGB PIL image)."""
    u = rng.random()
    if u < 0.7:
        w, h = 500, 375
    elif u < 0.9:
        w, h = 375, 500
    else:
        w, h = int(rng.integers(700, 900)), int(rng.integers(500, 700))
    img = Image.open(io.BytesIO(jpeg)).convert('RGB').resize((w, h), Image.BICUBIC)
    a = np.asarray(img, dtype=np.float32)
    coarse = rng.normal(0, 20, (h // 8 + 1, w // 8 + 1, 3)).astype(np.float32)
    coarse = np.asarray(Image.fromarray(np.clip(coarse + 128, 0, 255).astype(np.uint8)).resize((w, h), Image.BILINEAR), dtype=np.float32) - 128
    luma = rng.normal(0, 24, (h, w, 1)).astype(np.float32)
    fine = rng.normal(0, 8, (h, w, 3)).astype(np.float32)
    return Image.fromarray(np.clip(a + coarse + luma + fine, 0, 255).astype(np.uint8))


def save(img, path, kind):
    if kind == 'cmyk':
        img.convert('CMYK').save(path, 'JPEG', quality=90)
    elif kind == 'gray':
        img.convert('L').save(path, 'JPEG', quality=90)
    elif kind == 'png':
        img.save(path, 'PNG')
    else:
        img.save(path, 'JPEG', quality=90)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out')
    p.add_argument('--train-per-class', type=int, default=300)
    p.add_argument('--val-per-class', type=int, default=50)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--cifar', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'data', 'cifar10-jpg.tar.xz'))
    args = p.parse_args()
    if not os.path.exists(args.cifar):
        args.cifar = '/work/shared/data/cifar10-jpg.tar.xz'
    rng = np.random.default_rng(args.seed)
    src = read_cifar(args.cifar, {'train': args.train_per_class, 'test': args.val_per_class})
    os.makedirs(os.path.join(args.out, 'val'), exist_ok=True)
    with open(os.path.join(args.out, 'LOC_synset_mapping.txt'), 'w') as f:
        for wnid, name in WNIDS:
            f.write('%s %s\n' % (wnid, name))
    specials = {('train', 0, 3): 'cmyk', ('train', 1, 5): 'gray', ('train', 2, 7): 'png', ('train', 3, 2): 'cmyk',
                ('val', 4, 1): 'cmyk', ('val', 5, 2): 'gray'}
    for k, (wnid, _) in enumerate(WNIDS):
        d = os.path.join(args.out, 'train', wnid)
        os.makedirs(d, exist_ok=True)
        for i, jpeg in enumerate(src[('train', CIFAR_CLASSES[k])]):
            save(photo(jpeg, rng), os.path.join(d, '%s_%d.JPEG' % (wnid, i)), specials.get(('train', k, i), 'rgb'))
    # Validation: flat, numbered in an order that interleaves the classes (as ILSVRC's does).
    val = [(k, i) for k in range(len(WNIDS)) for i in range(args.val_per_class)]
    perm = rng.permutation(len(val))
    rows = []
    for n, j in enumerate(perm):
        k, i = val[j]
        name = 'ILSVRC2012_val_%08d' % (n + 1)
        img = photo(src[('test', CIFAR_CLASSES[k])][i], rng)
        save(img, os.path.join(args.out, 'val', name + '.JPEG'), specials.get(('val', k, i), 'rgb'))
        w, h = img.size
        rows.append('%s,%s %d %d %d %d ' % (name, WNIDS[k][0], w // 8, h // 8, w - w // 8, h - h // 8))
    rows.sort()
    with open(os.path.join(args.out, 'LOC_val_solution.csv'), 'w') as f:
        f.write('ImageId,PredictionString\n')
        f.write('\n'.join(rows) + '\n')
    print('imagenet-tree: %d train and %d val images in %s' % (len(WNIDS) * args.train_per_class, len(val), args.out), file=sys.stderr)


if __name__ == '__main__':
    main()
