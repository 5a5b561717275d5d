"""bench/resnets.py: the PyTorch side of the benchmarks that compare the two frameworks (bench/cpu-memory.py,
bench/train-throughput.py, bench/cifar-accuracy.py, bench/torch_train.py).

The networks are python/ictorch_models.py, shipped in the package: ictorch's ResNets (lib/models/resnet.ts)
written in plain PyTorch, layer for layer and name for name (state_dict keys and shapes equal ictorch's; each
benchmark asserts equal parameter counts against the count ictorch reports). The IC layer there is what a
PyTorch user writes: BatchNorm2d followed by F.dropout. This file adds the two helpers the benchmarks share.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from ictorch_models import IC, LAYOUTS, resnet_cifar, resnet_imagenet  # noqa: E402,F401


def num_parameters(model):
    return sum(p.numel() for p in model.parameters())


def param_groups(model, weight_decay):
    """ictorch's paramGroups: weight decay on weights (ndim > 1) only, none on BatchNorm/IC and bias parameters."""
    ps = list(model.parameters())
    return [{"params": [p for p in ps if p.ndim > 1], "weight_decay": weight_decay}, {"params": [p for p in ps if p.ndim <= 1], "weight_decay": 0.0}]
