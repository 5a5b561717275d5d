"""ictorch_models.py: the ictorch ResNets in plain torch.nn, with exactly ictorch's state-dict names and numerics.

Weights exported from ictorch (``exportWeights`` / ``saveStateDict``, or the ``model.pt`` of a run) load here
with ``load_state_dict(strict=True)`` and give the same outputs:

    import torch
    from ictorch_models import resnet_cifar
    net = resnet_cifar(110, layout="relu-ic-conv")
    net.load_state_dict(torch.load("runs/r110-ic/model.pt"))
    net.eval()

The file is shipped in the npm package (``node_modules/ictorch/python/ictorch_models.py``); copy it or put
that folder on ``sys.path``. It mirrors lib/models/resnet.ts and native/layers.cc:

- The IC layer (Chen et al.) is BatchNorm followed by Dropout: ``IC`` is a ``BatchNorm2d`` (so its state is
  ``weight, bias, running_mean, running_var, num_batches_tracked``) whose forward applies dropout after it.
- A residual unit computes ``post(body(x) + shortcut(x))``; body and post layers are children of the unit
  (``conv1, bn1, relu1, ic1, ...``), the shortcut is ``downsample``.
- The CIFAR nets use He et al.'s parameter-free option-A shortcut: subsample by the stride and zero-pad the
  new channels **at the end** of the channel dimension. The ImageNet nets use 1x1 conv + BatchNorm
  (``downsample.0``, ``downsample.1``) as torchvision does.
- Layouts: ``baseline`` (conv-bn-relu-conv-bn, +shortcut, relu), ``relu-ic-conv``, ``ic-conv-relu``,
  ``conv-relu-ic``; the stem and head are arranged so every layout has as many normalised channels as the
  baseline (equal parameter counts).
- Initialisation as ictorch: He normal (fan-out, ReLU gain) for every convolution, BatchNorm/IC scale 1 and
  shift 0, PyTorch's default for the classifier.
"""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["IC", "IC1d", "PadShortcut", "Residual", "LAYOUTS", "resnet_cifar", "resnet_imagenet"]

LAYOUTS = ("baseline", "relu-ic-conv", "ic-conv-relu", "conv-relu-ic")


class IC(nn.BatchNorm2d):
    """The IC layer for (N, C, H, W): batch normalisation, then dropout with rate ``drop_rate`` in training."""

    def __init__(self, channels, drop_rate=0.0, momentum=0.1, eps=1e-5, affine=True):
        super().__init__(channels, eps=eps, momentum=momentum, affine=affine)
        if not 0 <= drop_rate < 1:
            raise ValueError(f"IC: expected a drop_rate in [0, 1) but received {drop_rate}")
        self.drop_rate = drop_rate

    def forward(self, x):
        return F.dropout(super().forward(x), self.drop_rate, self.training)

    def extra_repr(self):
        return f"{super().extra_repr()}, drop_rate={self.drop_rate}"


class IC1d(nn.BatchNorm1d):
    """The IC layer for (N, C) input (ictorch's ``nn.IC(c, {dims: 1})``)."""

    def __init__(self, channels, drop_rate=0.0, momentum=0.1, eps=1e-5, affine=True):
        super().__init__(channels, eps=eps, momentum=momentum, affine=affine)
        if not 0 <= drop_rate < 1:
            raise ValueError(f"IC1d: expected a drop_rate in [0, 1) but received {drop_rate}")
        self.drop_rate = drop_rate

    def forward(self, x):
        return F.dropout(super().forward(x), self.drop_rate, self.training)


class PadShortcut(nn.Module):
    """Option A: keep every ``stride``-th pixel and append zero channels up to ``out_channels``."""

    def __init__(self, stride, out_channels):
        super().__init__()
        self.stride = stride
        self.out_channels = out_channels

    def forward(self, x):
        y = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        extra = self.out_channels - x.size(1)
        if extra < 0:
            raise ValueError(f"PadShortcut: cannot shrink {x.size(1)} channels to {self.out_channels}")
        return F.pad(y, (0, 0, 0, 0, 0, extra)) if extra > 0 else y


class Residual(nn.Module):
    """``post(body(x) + shortcut(x))``; body and post layers are named children of the unit, the shortcut
    is ``downsample`` (None: the identity). Registration order: body, downsample, post (as ictorch)."""

    def __init__(self, body, shortcut=None, post=()):
        super().__init__()
        self.body_names = [k for k, _ in body]
        self.post_names = [k for k, _ in post]
        for k, m in body:
            self.add_module(k, m)
        self.downsample = shortcut
        for k, m in post:
            self.add_module(k, m)

    def forward(self, x):
        y = x
        for k in self.body_names:
            y = getattr(self, k)(y)
        s = self.downsample(x) if self.downsample is not None else x
        if y.shape != s.shape:
            raise ValueError(f"Residual: body gives {list(y.shape)} but the shortcut gives {list(s.shape)}")
        y = y + s
        for k in self.post_names:
            y = getattr(self, k)(y)
        return y


_EXPANSION = {False: 1, True: 4}


def _norm(layout, channels, drop_rate):
    return nn.BatchNorm2d(channels) if layout == "baseline" else IC(channels, drop_rate)


def _convs(cin, planes, stride, bottleneck):
    if not bottleneck:
        return [("conv1", cin, planes, 3, stride), ("conv2", planes, planes, 3, 1)]
    return [("conv1", cin, planes, 1, 1), ("conv2", planes, planes, 3, stride), ("conv3", planes, planes * 4, 1, 1)]


def _unit(layout, cin, planes, stride, drop_rate, bottleneck, shortcut):
    convs = _convs(cin, planes, stride, bottleneck)
    out = convs[-1][2]

    def conv(c):
        name, ci, co, k, s = c
        return (name, nn.Conv2d(ci, co, k, stride=s, padding=1 if k == 3 else 0, bias=False))

    body, post = [], []
    for i, c in enumerate(convs):
        n, last = i + 1, i == len(convs) - 1
        if layout == "baseline":
            body += [conv(c), (f"bn{n}", _norm(layout, c[2], 0.0))]
            if not last:
                body.append((f"relu{n}", nn.ReLU()))
        elif layout == "relu-ic-conv":
            body += [(f"relu{n}", nn.ReLU()), (f"ic{n}", _norm(layout, c[1], drop_rate)), conv(c)]
        elif layout == "ic-conv-relu":
            body += [(f"ic{n}", _norm(layout, c[1], drop_rate)), conv(c)]
            if not last:
                body.append((f"relu{n}", nn.ReLU()))
        else:  # conv-relu-ic
            body.append(conv(c))
            if not last:
                body += [(f"relu{n}", nn.ReLU()), (f"ic{n}", _norm(layout, c[2], drop_rate))]
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
        cin = planes * _EXPANSION[bottleneck]
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


def _check(op, layout, drop_rate):
    if layout not in LAYOUTS:
        raise ValueError(f"{op}: expected layout one of {', '.join(LAYOUTS)} but received {layout!r}")
    if drop_rate is None:
        drop_rate = 0.0 if layout == "baseline" else 0.05
    if not 0 <= drop_rate < 1:
        raise ValueError(f"{op}: expected drop_rate in [0, 1) but received {drop_rate}")
    return drop_rate


def resnet_cifar(depth, layout="relu-ic-conv", bottleneck=False, width=1, drop_rate=None, classes=10):
    """ictorch's ``resnetCifar({depth, layout, bottleneck, width, dropRate, classes})``: depth 6n+2 (basic
    units) or 9n+2 (bottleneck, ResNet-B); stages of 16·width, 32·width, 64·width planes; option-A shortcuts.
    ``drop_rate`` defaults to 0.05 for the IC layouts (ignored by the baseline)."""
    drop_rate = _check("resnet_cifar", layout, drop_rate)
    per = 9 if bottleneck else 6
    if (depth - 2) % per != 0 or depth < per + 2:
        raise ValueError(f"resnet_cifar: expected a depth of the form {per}n+2 for {'bottleneck' if bottleneck else 'basic'} units but received {depth}")
    n = (depth - 2) // per
    c0 = 16 * width
    layers = [("conv1", nn.Conv2d(3, c0, 3, padding=1, bias=False))] + _stem_tail(layout, c0, drop_rate)
    cin = c0
    for i, mult in enumerate([1, 2, 4]):
        stage, cin = _stage(layout, cin, c0 * mult, n, 1 if i == 0 else 2, drop_rate, bottleneck, "pad")
        layers.append((f"layer{i + 1}", stage))
    layers += _head_norm(layout, cin, drop_rate)
    layers += [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(cin, classes))]
    return _he_init(nn.Sequential(OrderedDict(layers)))


_IMAGENET_UNITS = {18: ([2, 2, 2, 2], False), 34: ([3, 4, 6, 3], False), 50: ([3, 4, 6, 3], True), 101: ([3, 4, 23, 3], True), 152: ([3, 8, 36, 3], True)}


def resnet_imagenet(depth, layout="relu-ic-conv", drop_rate=None, classes=1000):
    """ictorch's ``resnetImageNet({depth, layout, dropRate, classes})``: torchvision's layout and names for
    ``baseline`` (7x7 stem, max pooling, 64-128-256-512 planes, 1x1 conv + BN projection shortcuts)."""
    if depth not in _IMAGENET_UNITS:
        raise ValueError(f"resnet_imagenet: expected depth one of 18, 34, 50, 101, 152 but received {depth}")
    drop_rate = _check("resnet_imagenet", layout, drop_rate)
    units, bottleneck = _IMAGENET_UNITS[depth]
    layers = [("conv1", nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False))] + _stem_tail(layout, 64, drop_rate)
    layers.append(("maxpool", nn.MaxPool2d(3, stride=2, padding=1)))
    cin = 64
    for i, planes in enumerate([64, 128, 256, 512]):
        stage, cin = _stage(layout, cin, planes, units[i], 1 if i == 0 else 2, drop_rate, bottleneck, "conv")
        layers.append((f"layer{i + 1}", stage))
    layers += _head_norm(layout, cin, drop_rate)
    layers += [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(cin, classes))]
    return _he_init(nn.Sequential(OrderedDict(layers)))
