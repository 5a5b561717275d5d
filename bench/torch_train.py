"""bench/torch_train.py: the PyTorch training steps the GPU benchmarks compare ictorch with.

  eager_step(...)     what most PyTorch code does: torch.optim.SGD, autocast, one Python call per op.
  GraphStep(...)      what a Python expert does without torch.compile: cuDNN benchmark mode, channels-last, the
                      whole step (forward, cross-entropy, backward, SGD) captured in a CUDA graph after warm-up
                      steps on a side stream, static input buffers, the learning rate read from a device scalar
                      (the same recipe as ictorch's native step, native/train_step.cc).
Both use SGD as PyTorch defines it (momentum buffer b = m*b + g, Nesterov g + m*b, weight decay added to the
gradient) with weight decay on weights only, as ictorch's paramGroups does.
"""
import contextlib

import torch
import torch.nn.functional as F

import resnets


def autocast(device_type, dtype):
    """torch.autocast for a low-precision dtype, or nothing for None (float32)."""
    return torch.autocast(device_type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def sgd_groups(model, weight_decay):
    return resnets.param_groups(model, weight_decay)


def eager_step(model, opt, amp_dtype):
    """A plain eager training step on (x, y); returns (loss, correct) as device tensors."""
    def step(x, y):
        opt.zero_grad(set_to_none=True)
        with autocast(x.device.type, amp_dtype):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        loss.backward()
        opt.step()
        return loss.detach(), (logits.argmax(1) == y).sum()
    return step


class GraphStep:
    """The whole training step captured in a CUDA graph; `lr` can change between replays."""

    def __init__(self, model, lr, momentum, weight_decay, nesterov, amp_dtype, x, y, warmup=3):
        self.model, self.amp = model, amp_dtype
        self.momentum, self.nesterov = momentum, nesterov
        ps = list(model.parameters())
        self.decay = [p for p in ps if p.ndim > 1]
        self.no_decay = [p for p in ps if p.ndim <= 1]
        self.params = self.decay + self.no_decay
        self.wd = weight_decay
        self.bufs = [torch.zeros_like(p) for p in self.params]
        self.lr = torch.full((), float(lr), device=x.device)
        self.static_x = x.clone(memory_format=torch.channels_last if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) else torch.preserve_format)
        self.static_y = y.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(warmup):
                self._step()
        torch.cuda.current_stream().wait_stream(side)
        torch.cuda.synchronize()
        # Warm-up moved the weights; that is part of training as in ictorch (its warm-up steps are real steps).
        self.graph = torch.cuda.CUDAGraph()
        for p in self.params:
            p.grad = None
        with torch.cuda.graph(self.graph):
            self.loss, self.correct = self._step()

    def _step(self):
        for p in self.params:
            p.grad = None
        with torch.autocast("cuda", dtype=self.amp, cache_enabled=False) if self.amp is not None else contextlib.nullcontext():
            logits = self.model(self.static_x)
        loss = F.cross_entropy(logits.float(), self.static_y)
        loss.backward()
        with torch.no_grad():
            grads = [p.grad for p in self.params]
            dg = grads[: len(self.decay)]
            if self.wd:
                torch._foreach_add_(dg, self.decay, alpha=self.wd)
            torch._foreach_mul_(self.bufs, self.momentum)
            torch._foreach_add_(self.bufs, grads)
            if self.nesterov:
                torch._foreach_add_(grads, self.bufs, alpha=self.momentum)
                upd = grads
            else:
                upd = self.bufs
            torch._foreach_add_(self.params, torch._foreach_mul(upd, -self.lr))
        return loss.detach(), (logits.argmax(1) == self.static_y).sum()

    def __call__(self, x, y, lr=None):
        self.static_x.copy_(x, non_blocking=True)
        self.static_y.copy_(y, non_blocking=True)
        if lr is not None:
            self.lr.fill_(lr)
        self.graph.replay()
        return self.loss, self.correct


def lr_at(step, lr, total_steps, warmup_steps, name="cosine"):
    """ictorch's lrAt (lib/train/schedule.ts): linear warm-up, then half a cosine to 0."""
    import math
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if name == "constant":
        return lr
    u = 1.0 if warmup_steps >= total_steps else min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
    return 0.5 * lr * (1 + math.cos(math.pi * u))


def pad_crop_flip(images, padding=4, generator=None):
    """uint8 [B, C, H, W] -> each image zero-padded, cropped back at its own offset, flipped with p = 1/2 (as
    ictorch's cropFlipBatch: padding with 0 before normalisation)."""
    B, C, H, W = images.shape
    dev = images.device
    padded = F.pad(images, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (B, 1), device=dev, generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (B, 1), device=dev, generator=generator)
    flip = torch.randint(0, 2, (B, 1), device=dev, generator=generator).bool()
    rows = torch.arange(H, device=dev).unsqueeze(0) + dy
    cols = torch.arange(W, device=dev).unsqueeze(0) + dx
    cols = torch.where(flip, cols.flip(1), cols)
    b = torch.arange(B, device=dev).view(B, 1, 1, 1)
    c = torch.arange(C, device=dev).view(1, C, 1, 1)
    return padded[b, c, rows.view(B, 1, H, 1), cols.view(B, 1, 1, W)]


def normalize(images, mean, std):
    m = torch.tensor(mean, device=images.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=images.device).view(1, -1, 1, 1)
    return (images.float() / 255 - m) / s
