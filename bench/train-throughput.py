"""bench/train-throughput.py: PyTorch's side of bench/train-throughput.sh. The networks of bench/train-throughput.js
(ResNet-110 baseline and relu-ic-conv, ResNet-164 ResNet-B relu-ic-conv; bench/resnets.py, parameter counts
equal to ictorch's) at batch 128 on device-resident random data, SGD Nesterov (momentum 0.9, lr 0.1, weight
decay 5e-4 on weights), float32 and bf16 autocast, in two ways (bench/torch_train.py):
  eager   torch.optim.SGD, NCHW, one Python call per op (cuDNN benchmark mode on)
  graph   channels-last, the whole step in a CUDA graph (cuDNN benchmark mode on)
Images/s per case, and where the time goes: kernels per step, GPU time per step and busy fraction (torch.profiler
over a few steps), host synchronisations per step (torch.cuda sync debug mode). One JSON line per case.

  python3 bench/train-throughput.py            (BENCH_SMALL=1 or no GPU: ResNet-8, batch 16, a few steps, CPU allowed)
"""
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import resnets  # noqa: E402
import torch_train  # noqa: E402

cuda = torch.cuda.is_available()
small = os.environ.get("BENCH_SMALL") == "1" or not cuda
device = "cuda" if cuda else "cpu"
batch = 16 if small else int(os.environ.get("BENCH_BATCH", "128"))
seconds = 0.5 if small else float(os.environ.get("BENCH_SECONDS", "2.5"))
NETS = [("resnet8", 8, "baseline", False), ("resnet8", 8, "relu-ic-conv", False)] if small else [
    ("resnet110", 110, "baseline", False), ("resnet110", 110, "relu-ic-conv", False), ("resnet164b", 164, "relu-ic-conv", True)]
# ImageNet ResNet-50 at batch 256, bf16, 224x224, eager (the ImageNet check); BENCH_IMAGENET=0 leaves it out.
IMAGENET = [("resnet50", 50, "baseline", False), ("resnet50", 50, "relu-ic-conv", False)] if not small and os.environ.get("BENCH_IMAGENET") != "0" else []
only = os.environ.get("BENCH_NETS")  # e.g. "resnet110:baseline,resnet110:relu-ic-conv"


def sync():
    if cuda:
        torch.cuda.synchronize()


# CUDA runtime calls counted by bench/cuda-counters.so (LD_PRELOAD, CUDA_COUNTERS_FILE), slot order of that file.
COUNTER_NAMES = ["launch", "launchEx", "graphLaunch", "streamSync", "deviceSync", "eventSync", "memcpy", "memcpyAsync"]


def read_counters():
    f = os.environ.get("CUDA_COUNTERS_FILE")
    if not f or not os.path.exists(f):
        return None
    import struct
    b = open(f, "rb").read()
    return list(struct.unpack(f"<{len(COUNTER_NAMES)}Q", b[: 8 * len(COUNTER_NAMES)])) if len(b) >= 8 * len(COUNTER_NAMES) else None


def per_step(c0, c1, n):
    if not c0 or not c1:
        return {}
    d = {k: (c1[i] - c0[i]) / n for i, k in enumerate(COUNTER_NAMES)}
    return {"runtimeLaunchesPerStep": round(d["launch"] + d["launchEx"], 2), "graphLaunchesPerStep": round(d["graphLaunch"], 2),
            "syncsPerStep": round(d["streamSync"] + d["deviceSync"] + d["eventSync"] + d["memcpy"], 2), "asyncCopiesPerStep": round(d["memcpyAsync"], 2)}


def timed(step, x, y):
    """Images/s of back-to-back steps for about `seconds` (synchronised at the ends only), and the counted CUDA calls."""
    sync()
    n, c0, t0 = 0, read_counters(), time.perf_counter()
    while n < 3 or time.perf_counter() - t0 < seconds:
        step(x, y)
        n += 1
    c1 = read_counters()
    sync()
    return n * x.shape[0] / (time.perf_counter() - t0), n, per_step(c0, c1, n)


def profile(step, x, y, steps=3):
    """Kernels, GPU milliseconds and wall milliseconds per step over `steps` steps (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile as prof
    sync()
    t0 = time.perf_counter()
    with prof(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
        for _ in range(steps):
            step(x, y)
        sync()
    wall = (time.perf_counter() - t0) * 1000 / steps
    ev = [e for e in p.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    gpu = sum(getattr(e, "device_time_total", None) or e.cuda_time_total for e in ev) / 1000 / steps
    return {"kernelsPerStep": round(len(ev) / steps, 1), "gpuMsPerStep": round(gpu, 3), "profiledWallMsPerStep": round(wall, 3)}


def syncs_per_step(step, x, y, steps=3):
    """Synchronising CUDA calls per step, counted by torch.cuda's sync debug mode (warnings)."""
    sync()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            for _ in range(steps):
                step(x, y)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    sync()
    return round(sum("synchronizing" in str(m.message) for m in w) / steps, 2)


def main():
    torch.backends.cudnn.benchmark = True
    env = {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version() if cuda else None,
           "device": torch.cuda.get_device_name() if cuda else "cpu"}
    for name, depth, layout, bottleneck in NETS + IMAGENET:
        if only and f"{name}:{layout}" not in only.split(","):
            continue
        imagenet = name == "resnet50"
        bsz, size = (int(os.environ.get("BENCH_IMAGENET_BATCH", "256")), 224) if imagenet else (batch, 32)
        for precision in (("bf16",) if imagenet else ("fp32", "bf16")):
            amp = torch.bfloat16 if precision == "bf16" else None
            for mode in (("eager",) if imagenet or not cuda else ("eager", "graph")):
                torch.manual_seed(0)
                model = (resnets.resnet_imagenet(depth, layout) if imagenet else resnets.resnet_cifar(depth, layout, bottleneck=bottleneck)).to(device)
                nparams = resnets.num_parameters(model)
                x = torch.randn(bsz, 3, size, size, device=device)
                y = torch.randint(0, 1000 if imagenet else 10, (bsz,), device=device)
                row = {"bench": "train-throughput", "framework": "pytorch", "net": name, "depth": depth, "layout": layout, "bottleneck": bottleneck,
                       "precision": precision, "mode": mode, "batch": bsz, "imageSize": size, "numParameters": nparams, **env}
                try:
                    if mode == "eager":
                        opt = torch.optim.SGD(torch_train.sgd_groups(model, 5e-4), lr=0.1, momentum=0.9, nesterov=True)
                        step = torch_train.eager_step(model, opt, amp)
                        for _ in range(5):
                            step(x, y)
                    else:
                        model = model.to(memory_format=torch.channels_last)
                        x = x.contiguous(memory_format=torch.channels_last)
                        step = torch_train.GraphStep(model, 0.1, 0.9, 5e-4, True, amp, x, y)
                        for _ in range(3):
                            step(x, y)
                    ips, n, counts = timed(step, x, y)
                    row.update({"imagesPerSec": round(ips, 1), "timedSteps": n, "channelsLast": mode == "graph", **counts})
                    if cuda:
                        row.update(profile(step, x, y))
                        row["gpuBusy"] = round(row["gpuMsPerStep"] / (1000 * bsz / ips), 3)
                        row["syncDebugWarningsPerStep"] = syncs_per_step(step, x, y)
                except Exception as e:  # a failed case is reported, the others still run
                    row["error"] = str(e).split("\n")[0]
                print(json.dumps(row), flush=True)
                del model, x, y
                if cuda:
                    torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
