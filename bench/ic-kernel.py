"""bench/ic-kernel.py: PyTorch's side of the IC-layer kernel benchmark (see bench/ic-kernel.js for what is measured):
BatchNorm2d + Dropout(0.1), the IC layer as PyTorch code writes it, eager and inside a CUDA-graph training step
(torch.cuda.graph over forward, cross-entropy, backward and SGD, as ictorch's Trainer captures it), and the
device-to-device copy. With torch.profiler, the eager iteration's kernel count and GPU time. One JSON line each.

  python3 bench/ic-kernel.py            (BENCH_SMALL=1 or no GPU: small shapes, CPU allowed)
"""
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

cuda = torch.cuda.is_available()
small = os.environ.get("BENCH_SMALL") == "1" or not cuda
device = "cuda" if cuda else "cpu"
all_shapes = [[8, 16, 8, 8], [8, 32, 4, 4]] if small else [[128, 16, 32, 32], [128, 32, 16, 16], [128, 64, 8, 8], [256, 256, 56, 56]]
# BENCH_SHAPES ("128x16x32x32,..."): only these shapes; BENCH_PARTS: copy, eager, captured (default all).
shapes = [[int(v) for v in s.split("x")] for s in os.environ["BENCH_SHAPES"].split(",")] if os.environ.get("BENCH_SHAPES") else all_shapes
parts = os.environ.get("BENCH_PARTS", "copy,eager,captured").split(",")
dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16}
formats = {"contiguous": torch.contiguous_format, "channelsLast": torch.channels_last}
P = 0.1
budget = (20 if small else float(os.environ.get("BENCH_CASE_MS", "250"))) / 1000


def sync():
    if cuda:
        torch.cuda.synchronize()


def emit(**o):
    print(json.dumps({"bench": "ic-kernel", "framework": "pytorch", "device": device, **o}), flush=True)


def time_it(fn, warm=3, least=5):
    for _ in range(warm):
        fn()
    sync()
    n, t0 = 0, time.perf_counter()
    while n < least or time.perf_counter() - t0 < budget:
        fn()
        n += 1
        if n % 10 == 0:
            sync()
    sync()
    return (time.perf_counter() - t0) * 1000 / n


def kernel_profile(fn):
    """Kernels launched and their summed GPU time (ms) in one call of fn, from torch.profiler."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        sync()
    events = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    return len(events), sum(e.device_time_total if hasattr(e, "device_time_total") else e.cuda_time_total for e in events) / 1000


def main():
    big = all_shapes[-1]
    for name, dt in (dtypes.items() if "copy" in parts else []):
        src, dst = torch.randn(big, device=device, dtype=dt), torch.empty(big, device=device, dtype=dt)
        ms = time_it(lambda: dst.copy_(src))
        emit(kind="copy", shape=big, dtype=name, ms=round(ms, 5), gbPerSec=round(2 * src.numel() * src.element_size() / ms / 1e6, 1))
        del src, dst
    for shape in (shapes if "eager" in parts else []):
        C = shape[1]
        for name, dt in dtypes.items():
            for fname, mf in formats.items():
                x = torch.randn(shape, device=device, dtype=dt).contiguous(memory_format=mf).requires_grad_()
                g = torch.randn(shape, device=device, dtype=dt).contiguous(memory_format=mf)
                bn = nn.BatchNorm2d(C).to(device)
                drop = nn.Dropout(P)

                def step():
                    # The float32 BatchNorm parameters with a bfloat16 input: PyTorch's BatchNorm takes the pair as is.
                    drop(bn(x)).backward(g)

                ms = time_it(step)
                peak = None
                if cuda:
                    sync()
                    torch.cuda.reset_peak_memory_stats()
                    base = torch.cuda.memory_allocated()
                    step()
                    sync()
                    peak = torch.cuda.max_memory_allocated() - base
                extra = {}
                if cuda:
                    kernels, gpu_ms = kernel_profile(step)
                    extra = {"kernels": kernels, "gpuMs": round(gpu_ms, 5)}
                emit(kind="eager", shape=shape, dtype=name, format=fname, impl="BatchNorm2d+Dropout", ms=round(ms, 5), peakExtraBytes=peak, **extra)
                del x, g, bn
    if not cuda or "captured" not in parts:
        return
    for shape in shapes:
        C = shape[1]
        for name, dt in dtypes.items():
            for fname, mf in formats.items():
                ms = {}
                for with_bn in (True, False):
                    torch.manual_seed(0)
                    layers = ([nn.BatchNorm2d(C), nn.Dropout(P)] if with_bn else []) + [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(C, 10)]
                    model = nn.Sequential(*layers).to(device=device, memory_format=mf)
                    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
                    x = torch.randn(shape, device=device, dtype=dt).contiguous(memory_format=mf)
                    y = torch.randint(0, 10, (shape[0],), device=device)
                    amp = dt != torch.float32

                    def train_step():
                        opt.zero_grad(set_to_none=True)
                        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp, cache_enabled=False):
                            loss = F.cross_entropy(model(x).float(), y)
                        loss.backward()
                        opt.step()

                    side = torch.cuda.Stream()
                    side.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(side):
                        for _ in range(3):
                            train_step()
                    torch.cuda.current_stream().wait_stream(side)
                    graph = torch.cuda.CUDAGraph()
                    opt.zero_grad(set_to_none=True)
                    with torch.cuda.graph(graph):
                        train_step()
                    ms[with_bn] = time_it(graph.replay, 5, 20)
                    del graph, model, opt, x, y
                emit(kind="captured", shape=shape, dtype=name, format=fname, impl="BatchNorm2d+Dropout", stepMs=round(ms[True], 5), restMs=round(ms[False], 5),
                     ms=round(ms[True] - ms[False], 5))


if __name__ == "__main__":
    main()
