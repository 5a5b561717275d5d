#!/usr/bin/env python3
"""PyTorch's side of bench/imagenet-loader.sh: torchvision's reference ImageNet input pipeline, a DataLoader
over PIL images (ImageFolder's loader: Image.open(f).convert('RGB')) with RandomResizedCrop(224) +
RandomHorizontalFlip + PILToTensor for training, Resize(256) + CenterCrop(224) + PILToTensor for validation
(uint8 output, as ictorch's), batch 64, both over the training files (the validation transform too, so that
one epoch holds the whole run). Prints one JSON line {images, seconds, imagesPerSecond, cpuSeconds,
imagesPerCpuSecond}; the clock starts after `warmup` batches (worker start-up and the first decodes are not
counted); cpuSeconds is the user + system time of the main process and its loader workers over that window.

  python3 bench/imagenet-loader.py DIR train|val WORKERS BATCHES [WARMUP] [BATCH_SIZE]
"""
import json
import os
import sys
import time

import torch
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

TICK = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid):
    """User + system CPU seconds of one process (from /proc)."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main():
    args = sys.argv[1:]
    if len(args) < 4 or args[1] not in ('train', 'val'):
        sys.exit(__doc__)
    root, mode, workers, batches = args[0], args[1], int(args[2]), int(args[3])
    warmup = int(args[4]) if len(args) > 4 else 2
    batch_size = int(args[5]) if len(args) > 5 else 64
    torch.set_num_threads(1)
    if mode == 'train':
        transform = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.PILToTensor()])
    else:
        transform = T.Compose([T.Resize(256), T.CenterCrop(224), T.PILToTensor()])
    ds = ImageFolder(os.path.join(root, 'train'), transform)
    want = batches + warmup
    if want > len(ds) // batch_size:
        sys.exit('the tree has fewer than %d batches of %d' % (want, batch_size))
    torch.manual_seed(1)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=(mode == 'train'), num_workers=workers, drop_last=True)
    it = iter(loader)
    pids = [os.getpid()] + [w.pid for w in getattr(it, '_workers', [])]
    n = images = 0
    t0 = cpu0 = 0.0
    for x, y in it:
        if n == warmup:
            t0 = time.perf_counter()
            cpu0 = sum(cpu_seconds(p) for p in pids)
        if n >= warmup:
            images += x.shape[0]
        n += 1
        if n >= want:
            break
    seconds = time.perf_counter() - t0
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    print(json.dumps({'images': images, 'seconds': seconds, 'imagesPerSecond': images / seconds, 'cpuSeconds': cpu, 'imagesPerCpuSecond': images / cpu}))


if __name__ == '__main__':
    main()
