#!/usr/bin/python3
"""bench/ic-cpu.py: PyTorch's reference for bench/ic-cpu.js (run with Debian's python3-torch, /usr/bin/python3).

The same ResNet-20 CIFAR nets as ictorch's resnetCifar({depth: 20}) builds them (lib/models/resnet.ts), in plain
torch.nn, with the same layer order and parameter order (python/ictorch_models.py, shipped in the package):

  baseline       stem conv-bn-relu; units conv-bn-relu-conv-bn (+ shortcut) relu; avgpool, fc
  relu-ic-conv   stem conv; units relu-ic-conv-relu-ic-conv (+ shortcut); relu-ic, avgpool, fc
                 where ic = BatchNorm2d then dropout 0.1 (ictorch_models.IC)

Shortcuts are He et al.'s parameter-free option A (subsample, zero-pad channels). A training step is forward,
F.cross_entropy, backward and torch.optim.SGD(momentum=0.9, lr=0.1) on a batch of 128 random 3x32x32 images.
Layouts are interleaved over rounds; the IC cost is the median of the per-round ratios.

  /usr/bin/python3 bench/ic-cpu.py [--json]
  BENCH_STEPS=10 BENCH_ROUNDS=3 BENCH_WARMUP=2 BENCH_BATCH=128 /usr/bin/python3 bench/ic-cpu.py
"""
import hashlib
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import ictorch_models  # noqa: E402  (the reference of ictorch's ResNets shipped in the package)


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


def resnet_cifar(depth, layout, classes=10):
    """ictorch's resnetCifar, from the Python reference shipped with the package (python/ictorch_models.py)."""
    return ictorch_models.resnet_cifar(depth, layout=layout, drop_rate=DROP_RATE, classes=classes)


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
