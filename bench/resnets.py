"""bench/resnets.py: the PyTorch side of the benchmarks that compare the two frameworks (bench/cpu-memory.py,
bench/train-throughput.py, bench/cifar-accuracy.py, bench/torch_train.py).

The networks are python/ictorch_models.py, shipped in the package: ictorch's ResNets (lib/models/resnet.ts)
written in plain PyTorch, layer for layer and name for name (state_dict keys and shapes equal ictorch's; each
benchmark asserts equal parameter counts against the count ictorch reports). The IC layer there is what a
PyTorch user writes: BatchNorm2d followed by F.dropout. This file adds the helpers the benchmarks share.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from ictorch_models import IC, LAYOUTS, resnet_cifar, resnet_imagenet  # noqa: E402,F401


def num_parameters(model):
    return sum(p.numel() for p in model.parameters())


def param_groups(model, weight_decay):
    """ictorch's paramGroups: weight decay on weights (ndim > 1) only, none on BatchNorm/IC and bias parameters."""
    ps = list(model.parameters())
    return [{"params": [p for p in ps if p.ndim > 1], "weight_decay": weight_decay}, {"params": [p for p in ps if p.ndim <= 1], "weight_decay": 0.0}]


def int_env(name, default):
    """An integer setting from the environment variable `name`, or `default` when it is unset or empty."""
    v = os.environ.get(name, "")
    return default if v == "" else int(v)


def rss_mib():
    """This process's resident memory now, in MiB (/proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return round(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)


def median_step_ms(step, steps, warmup):
    """Runs step() `warmup` times, then `steps` timed times; returns the median time in milliseconds."""
    for _ in range(warmup):
        step()
    ms = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ms)
