#!/usr/bin/python3
"""bench/cpu-memory.py: one PyTorch process of the paired CPU benchmark (bench/cpu-memory.sh runs it alternately
with bench/cpu-memory.js). The same ResNet-20 as ictorch's (bench/resnets.py), batch 128 of random 3x32x32
images, torch.optim.SGD(lr 0.1, momentum 0.9, nesterov, weight decay 1e-4 on weights only), BENCH_STEPS timed
steps after BENCH_WARMUP (BENCH_AMP=bf16: forward under torch.autocast("cpu", bfloat16)). One JSON line: per-step milliseconds, peak RSS (getrusage), page faults, CPU seconds.

  /usr/bin/python3 bench/cpu-memory.py <baseline|relu-ic-conv>
"""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import resnets  # noqa: E402
from resnets import int_env, rss_mib  # noqa: E402


def main():
    layout = sys.argv[1] if len(sys.argv) > 1 else "baseline"
    steps, warmup, batch, depth = int_env("BENCH_STEPS", 20), int_env("BENCH_WARMUP", 3), int_env("BENCH_BATCH", 128), int_env("BENCH_DEPTH", 20)
    # ictorch's default: as many intra-op threads as the cores this process may use.
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    rss_start = rss_mib()
    torch.manual_seed(0)
    model = resnets.resnet_cifar(depth, layout).train()
    opt = torch.optim.SGD(resnets.param_groups(model, 1e-4), lr=0.1, momentum=0.9, nesterov=True)
    torch.manual_seed(1)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))

    amp = os.environ.get("BENCH_AMP", "")
    if amp not in ("", "bf16"):
        raise SystemExit(f"BENCH_AMP must be bf16 or unset, got {amp}")

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp == "bf16"):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    rss_warm = rss_mib()
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    ms = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1000)
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "framework": "pytorch", "mode": "eager", "amp": amp or None, "layout": layout, "depth": depth, "batch": batch, "steps": steps,
        "threads": torch.get_num_threads(), "numParameters": resnets.num_parameters(model),
        "medianStepMs": round(sorted(ms)[len(ms) // 2], 2), "stepMs": [round(v, 2) for v in ms],
        "peakRssMiB": round(u1.ru_maxrss / 1024),
        "rssMiB": {"atStart": rss_start, "afterWarmup": rss_warm, "atEnd": rss_mib()},
        "minorFaultsPerStep": round((u1.ru_minflt - u0.ru_minflt) / steps),
        "userSecPerStep": round((u1.ru_utime - u0.ru_utime) / steps, 4),
        "sysSecPerStep": round((u1.ru_stime - u0.ru_stime) / steps, 4),
        "torch": torch.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
