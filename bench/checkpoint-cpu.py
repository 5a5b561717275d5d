#!/usr/bin/python3
"""bench/checkpoint-cpu.py: the PyTorch side of bench/checkpoint-cpu.js (which runs it alternately with ictorch's
processes). The same network (bench/resnets.py: ictorch's resnetCifar layer for layer, parameter count printed),
flattened the same way (the stem, every residual unit, then the head), the same step (forward, cross-entropy,
backward, SGD lr 0.05 momentum 0.9) on a batch of random 3x32x32 images. `checkpoint` splits the list as
torch.utils.checkpoint.checkpoint_sequential does, with use_reentrant=False (what ictorch's checkpoint is);
`reentrant` splits it the same way with the reentrant form (1.13's default, the one checkpoint_sequential uses),
its input made to require grad, since the reentrant form gives the parameters no gradient otherwise. One JSON line.

  /usr/bin/python3 bench/checkpoint-cpu.py <plain|checkpoint|reentrant>
"""
import json
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.checkpoint import checkpoint  # noqa: E402

import resnets  # noqa: E402
from resnets import int_env, median_step_ms, rss_mib  # noqa: E402


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode not in ("plain", "checkpoint", "reentrant"):
        raise SystemExit(f"usage: bench/checkpoint-cpu.py <plain|checkpoint|reentrant>, got {mode!r}")
    depth, batch, segments = int_env("BENCH_DEPTH", 56), int_env("BENCH_BATCH", 64), int_env("BENCH_SEGMENTS", 6)
    steps, warmup = int_env("BENCH_STEPS", 4), int_env("BENCH_WARMUP", 1)
    torch.set_num_threads(len(os.sched_getaffinity(0)))  # ictorch's default
    torch.manual_seed(0)
    model = resnets.resnet_cifar(depth, "relu-ic-conv", drop_rate=0.05).train()
    flat = [u for c in model.children() for u in (c.children() if isinstance(c, torch.nn.Sequential) else [c])]
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))

    def run(start, end):
        def forward(h):
            for j in range(start, end + 1):
                h = flat[j](h)
            return h
        return forward

    def forward(h):
        if mode == "plain":
            return run(0, len(flat) - 1)(h)
        size, end = len(flat) // segments, -1
        if mode == "reentrant":
            h = h.detach().requires_grad_(True)
        for start in range(0, size * (segments - 1), size):
            end = start + size - 1
            h = checkpoint(run(start, end), h, use_reentrant=mode == "reentrant")
        return run(end + 1, len(flat) - 1)(h)

    def step():
        loss = F.cross_entropy(forward(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    start_mib = rss_mib()
    step_ms = median_step_ms(step, steps, warmup)
    print(json.dumps({
        "mode": mode, "stepMs": round(step_ms, 1),
        "peakRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "startMiB": start_mib,
        "units": len(flat), "numParameters": resnets.num_parameters(model), "torch": torch.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
