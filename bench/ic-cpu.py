#!/usr/bin/python3
"""bench/ic-cpu.py: PyTorch's reference for bench/ic-cpu.js (run with Debian's python3-torch, /usr/bin/python3).

The same ResNet-20 CIFAR nets as ictorch's resnetCifar({depth: 20}) builds them (lib/models/resnet.ts), in plain
torch.nn, with the same layer order and parameter order:

  baseline       stem conv-bn-relu; units conv-bn-relu-conv-bn (+ shortcut) relu; avgpool, fc
  relu-ic-conv   stem conv; units relu-ic-conv-relu-ic-conv (+ shortcut); relu-ic, avgpool, fc
                 where ic = nn.BatchNorm2d + nn.Dropout(0.1)

Shortcuts are He et al.'s parameter-free option A (subsample, zero-pad channels). A training step is forward,
F.cross_entropy, backward and torch.optim.SGD(momentum=0.9, lr=0.1) on a batch of 128 random 3x32x32 images.
Layouts are interleaved over rounds; the IC cost is the median of the per-round ratios.

  /usr/bin/python3 bench/ic-cpu.py [--json]
  BENCH_STEPS=10 BENCH_ROUNDS=3 BENCH_WARMUP=2 BENCH_BATCH=128 /usr/bin/python3 bench/ic-cpu.py
"""
import hashlib
from collections import OrderedDict
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def int_env(name, default):
    v = os.environ.get(name, "")
    if v == "":
        return default
    n = int(v)
    if n < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return n


STEPS = int_env("BENCH_STEPS", 10)
ROUNDS = int_env("BENCH_ROUNDS", 3)
WARMUP = int_env("BENCH_WARMUP", 2)
BATCH = int_env("BENCH_BATCH", 128)
DROP_RATE = 0.1
LR = 0.1
MOMENTUM = 0.9
LAYOUTS = ["baseline", "relu-ic-conv"]


class PadShortcut(nn.Module):
    """Option A: keep every stride-th pixel, zero-pad the extra channels (ictorch's PadShortcut)."""

    def __init__(self, stride, out_channels):
        super().__init__()
        self.stride = stride
        self.out_channels = out_channels

    def forward(self, x):
        y = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        extra = self.out_channels - x.size(1)
        return F.pad(y, (0, 0, 0, 0, 0, extra)) if extra > 0 else y


class Residual(nn.Module):
    """post(body(x) + shortcut(x)); body and post layers are children of the unit, like ictorch's Residual."""

    def __init__(self, body, shortcut, post):
        super().__init__()
        self.body_names = [k for k, _ in body]
        self.post_names = [k for k, _ in post]
        for k, m in body + post:
            self.add_module(k, m)
        self.downsample = shortcut

    def forward(self, x):
        y = x
        for k in self.body_names:
            y = getattr(self, k)(y)
        y = y + (self.downsample(x) if self.downsample is not None else x)
        for k in self.post_names:
            y = getattr(self, k)(y)
        return y


def ic(channels):
    """The IC layer as PyTorch users write it: BatchNorm2d then Dropout."""
    return nn.Sequential(nn.BatchNorm2d(channels), nn.Dropout(DROP_RATE))


def conv3x3(cin, cout, stride):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def unit(layout, cin, planes, stride):
    convs = [("conv1", cin, planes, stride), ("conv2", planes, planes, 1)]
    body = []
    for i, (name, ci, co, s) in enumerate(convs):
        n = i + 1
        last = i == len(convs) - 1
        if layout == "baseline":
            body += [(name, conv3x3(ci, co, s)), (f"bn{n}", nn.BatchNorm2d(co))]
            if not last:
                body.append((f"relu{n}", nn.ReLU()))
        elif layout == "relu-ic-conv":
            body += [(f"relu{n}", nn.ReLU()), (f"ic{n}", ic(ci)), (name, conv3x3(ci, co, s))]
        else:
            raise ValueError(layout)
    post = [("relu", nn.ReLU())] if layout == "baseline" else []
    shortcut = PadShortcut(stride, planes) if stride != 1 or cin != planes else None
    return Residual(body, shortcut, post)


def resnet_cifar(depth, layout, classes=10):
    n = (depth - 2) // 6
    c0 = 16
    layers = [("conv1", nn.Conv2d(3, c0, 3, padding=1, bias=False))]
    if layout == "baseline":
        layers += [("bn1", nn.BatchNorm2d(c0)), ("relu", nn.ReLU())]
    cin = c0
    for i, mult in enumerate([1, 2, 4]):
        planes = c0 * mult
        units = []
        for u in range(n):
            units.append(unit(layout, cin, planes, (1 if i == 0 else 2) if u == 0 else 1))
            cin = planes
        layers.append((f"layer{i + 1}", nn.Sequential(*units)))
    if layout == "relu-ic-conv":
        layers += [("relu_final", nn.ReLU()), ("ic_final", ic(cin))]
    layers += [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(cin, classes))]
    return nn.Sequential(OrderedDict(layers))


def shape_signature(params):
    text = ",".join("x".join(str(s) for s in p.shape) for p in params)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def build(layout):
    torch.manual_seed(0)
    model = resnet_cifar(20, layout).train()
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM)
    return {
        "layout": layout,
        "model": model,
        "opt": opt,
        "numParameters": sum(p.numel() for p in params),
        "signature": shape_signature(params),
    }


def step(net, x, labels):
    loss = F.cross_entropy(net["model"](x), labels)
    loss.backward()
    net["opt"].step()
    net["opt"].zero_grad(set_to_none=True)  # ictorch's zeroGrad() default


def main():
    as_json = "--json" in sys.argv[1:]
    torch.set_num_threads(os.cpu_count())
    threads = torch.get_num_threads()
    torch.manual_seed(1)
    x = torch.randn(BATCH, 3, 32, 32)
    labels = torch.randint(0, 10, (BATCH,))
    nets = [build(l) for l in LAYOUTS]

    for net in nets:
        for _ in range(WARMUP):
            step(net, x, labels)

    per_round = {l: [] for l in LAYOUTS}
    for r in range(ROUNDS):
        order = nets if r % 2 == 0 else nets[::-1]
        for net in order:
            t0 = time.perf_counter()
            for _ in range(STEPS):
                step(net, x, labels)
            s = time.perf_counter() - t0
            per_round[net["layout"]].append(STEPS * BATCH / s)

    ratios = [b / i for b, i in zip(per_round["baseline"], per_round["relu-ic-conv"])]
    result = {
        "framework": "pytorch",
        "version": torch.__version__,
        "torchVersion": torch.__version__,
        "python": platform.python_version(),
        "threads": threads,
        "batch": BATCH,
        "steps": STEPS,
        "rounds": ROUNDS,
        "warmup": WARMUP,
        "dropRate": DROP_RATE,
        "imagesPerSec": {l: statistics.median(per_round[l]) for l in LAYOUTS},
        "perRound": per_round,
        "icOverhead": statistics.median(ratios) - 1,
        "icOverheadPerRound": [q - 1 for q in ratios],
        "numParameters": {n["layout"]: n["numParameters"] for n in nets},
        "paramSignature": {n["layout"]: n["signature"] for n in nets},
    }
    if as_json:
        print(json.dumps(result))
        return
    pct = lambda q: f"{'+' if q >= 0 else ''}{100 * q:.1f}%"
    print(f"PyTorch {torch.__version__}, Python {result['python']}, {threads} threads")
    print(f"ResNet-20, batch {BATCH}, {STEPS} steps x {ROUNDS} rounds per layout (warmup {WARMUP}); medians over rounds")
    for l in LAYOUTS:
        rounds = ", ".join(f"{v:.1f}" for v in per_round[l])
        print(f"  {l:<13} {result['imagesPerSec'][l]:8.1f} images/s   (rounds: {rounds})")
    per = ", ".join(pct(q) for q in result["icOverheadPerRound"])
    print(f"  relu-ic-conv (BatchNorm2d + Dropout) step time vs baseline: {pct(result['icOverhead'])} (rounds: {per})")


if __name__ == "__main__":
    main()
