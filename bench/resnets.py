"""bench/resnets.py: ictorch's ResNets (lib/models/resnet.ts) written in plain PyTorch, for the benchmarks that
compare the two frameworks (bench/cpu-memory.py, bench/train-throughput.py, bench/cifar-accuracy.py).

Layer for layer and name for name the same networks as `resnetCifar` / `resnetImageNet`: the same children in
the same order, so `state_dict()` keys and shapes match ictorch's and the parameter counts are equal (each
benchmark asserts that against the count ictorch reports). The IC layer is what a PyTorch user writes:
BatchNorm2d followed by dropout (here one module, a BatchNorm2d whose forward ends with F.dropout, so that its
parameters are named `ic1.weight` as in ictorch rather than `ic1.0.weight`). Initialisation as ictorch's
builders: He normal (fan-out, ReLU gain) for every convolution, BatchNorm scale 1 / shift 0, PyTorch's default
Linear initialisation.

Note for later: python/ictorch_models.py (written on another branch) is meant to hold the same networks for
users; once it is merged, these benchmarks can import it instead of this file.
"""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

LAYOUTS = ("baseline", "relu-ic-conv", "ic-conv-relu", "conv-relu-ic")


class IC(nn.BatchNorm2d):
    """The IC layer as PyTorch code writes it: BatchNorm2d then Dropout(p) (PyTorch stores the mask)."""

    def __init__(self, channels, drop_rate):
        super().__init__(channels)
        self.drop_rate = drop_rate

    def forward(self, x):
        return F.dropout(super().forward(x), self.drop_rate, self.training)


class PadShortcut(nn.Module):
    """Option A of He et al.: keep every stride-th pixel, zero-pad the extra channels (ictorch's PadShortcut)."""

    def __init__(self, stride, out_channels):
        super().__init__()
        self.stride = stride
        self.out_channels = out_channels

    def forward(self, x):
        y = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        extra = self.out_channels - x.size(1)
        return F.pad(y, (0, 0, 0, 0, 0, extra)) if extra > 0 else y


class Residual(nn.Module):
    """post(body(x) + shortcut(x)); body and post layers are children of the unit, the shortcut `downsample`."""

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


def _norm(layout, channels, drop_rate):
    return nn.BatchNorm2d(channels) if layout == "baseline" else IC(channels, drop_rate)


def _unit(layout, cin, planes, stride, drop_rate, bottleneck, shortcut):
    if bottleneck:
        convs = [("conv1", cin, planes, 1, 1), ("conv2", planes, planes, 3, stride), ("conv3", planes, planes * 4, 1, 1)]
    else:
        convs = [("conv1", cin, planes, 3, stride), ("conv2", planes, planes, 3, 1)]
    out = convs[-1][2]

    def conv(c):
        name, ci, co, k, s = c
        return (name, nn.Conv2d(ci, co, k, stride=s, padding=1 if k == 3 else 0, bias=False))

    body, post = [], []
    for i, c in enumerate(convs):
        n, last = i + 1, i == len(convs) - 1
        if layout == "baseline":
            body += [conv(c), (f"bn{n}", _norm(layout, c[2], 0))]
            if not last:
                body.append((f"relu{n}", nn.ReLU()))
        elif layout == "relu-ic-conv":
            body += [(f"relu{n}", nn.ReLU()), (f"ic{n}", _norm(layout, c[1], drop_rate)), conv(c)]
        elif layout == "ic-conv-relu":
            body += [(f"ic{n}", _norm(layout, c[1], drop_rate)), conv(c)]
            if not last:
                body.append((f"relu{n}", nn.ReLU()))
        elif layout == "conv-relu-ic":
            body.append(conv(c))
            if not last:
                body += [(f"relu{n}", nn.ReLU()), (f"ic{n}", _norm(layout, c[2], drop_rate))]
        else:
            raise ValueError(f"unknown layout {layout!r}")
    if layout in ("baseline", "ic-conv-relu"):
        post.append(("relu", nn.ReLU()))
    if layout == "conv-relu-ic":
        post += [("relu", nn.ReLU()), (f"ic{len(convs)}", _norm(layout, out, drop_rate))]
    sc = None
    if stride != 1 or cin != out:
        if shortcut == "pad":
            sc = PadShortcut(stride, out)
        else:
            sc = nn.Sequential(OrderedDict([("0", nn.Conv2d(cin, out, 1, stride=stride, bias=False)), ("1", nn.BatchNorm2d(out))]))
    return Residual(body, sc, post)


def _stage(layout, cin, planes, units, stride, drop_rate, bottleneck, shortcut):
    layers = []
    for u in range(units):
        layers.append(_unit(layout, cin, planes, stride if u == 0 else 1, drop_rate, bottleneck, shortcut))
        cin = planes * (4 if bottleneck else 1)
    return nn.Sequential(*layers), cin


def _stem_tail(layout, channels, drop_rate):
    if layout == "baseline":
        return [("bn1", nn.BatchNorm2d(channels)), ("relu", nn.ReLU())]
    if layout == "relu-ic-conv":
        return []
    if layout == "ic-conv-relu":
        return [("relu", nn.ReLU())]
    return [("relu", nn.ReLU()), ("ic1", IC(channels, drop_rate))]


def _head_norm(layout, channels, drop_rate):
    if layout == "relu-ic-conv":
        return [("relu_final", nn.ReLU()), ("ic_final", IC(channels, drop_rate))]
    if layout == "ic-conv-relu":
        return [("ic_final", IC(channels, drop_rate))]
    return []


def _he_init(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return model


def default_drop_rate(layout):
    return 0.0 if layout == "baseline" else 0.05


def resnet_cifar(depth, layout="relu-ic-conv", bottleneck=False, classes=10, drop_rate=None, width=1):
    """ictorch's resnetCifar: 6n+2 layers (9n+2 with bottleneck units, ResNet-B), option-A shortcuts."""
    drop_rate = default_drop_rate(layout) if drop_rate is None else drop_rate
    per = 9 if bottleneck else 6
    if (depth - 2) % per != 0 or depth < per + 2:
        raise ValueError(f"depth {depth} is not of the form {per}n+2")
    n = (depth - 2) // per
    c0 = 16 * width
    layers = [("conv1", nn.Conv2d(3, c0, 3, padding=1, bias=False))] + _stem_tail(layout, c0, drop_rate)
    cin = c0
    for i, mult in enumerate([1, 2, 4]):
        s, cin = _stage(layout, cin, c0 * mult, n, 1 if i == 0 else 2, drop_rate, bottleneck, "pad")
        layers.append((f"layer{i + 1}", s))
    layers += _head_norm(layout, cin, drop_rate)
    layers += [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(cin, classes))]
    return _he_init(nn.Sequential(OrderedDict(layers)))


IMAGENET_UNITS = {18: ([2, 2, 2, 2], False), 34: ([3, 4, 6, 3], False), 50: ([3, 4, 6, 3], True), 101: ([3, 4, 23, 3], True), 152: ([3, 8, 36, 3], True)}


def resnet_imagenet(depth, layout="relu-ic-conv", classes=1000, drop_rate=None):
    """ictorch's resnetImageNet: torchvision's layout (7x7 stem, max pooling, projection shortcuts)."""
    drop_rate = default_drop_rate(layout) if drop_rate is None else drop_rate
    units, bottleneck = IMAGENET_UNITS[depth]
    layers = [("conv1", nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False))] + _stem_tail(layout, 64, drop_rate)
    layers.append(("maxpool", nn.MaxPool2d(3, stride=2, padding=1)))
    cin = 64
    for i, planes in enumerate([64, 128, 256, 512]):
        s, cin = _stage(layout, cin, planes, units[i], 1 if i == 0 else 2, drop_rate, bottleneck, "conv")
        layers.append((f"layer{i + 1}", s))
    layers += _head_norm(layout, cin, drop_rate)
    layers += [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(cin, classes))]
    return _he_init(nn.Sequential(OrderedDict(layers)))


def num_parameters(model):
    return sum(p.numel() for p in model.parameters())


def param_groups(model, weight_decay):
    """ictorch's paramGroups: weight decay on weights (ndim > 1) only, none on BatchNorm/IC and bias parameters."""
    ps = list(model.parameters())
    return [{"params": [p for p in ps if p.ndim > 1], "weight_decay": weight_decay}, {"params": [p for p in ps if p.ndim <= 1], "weight_decay": 0.0}]
