"""bench/cifar-accuracy.py: PyTorch's run of bench/cifar-accuracy.sh: the same network and recipe as the
`ictorch train` run beside it, on the same decoded images (written by bench/cifar-accuracy.js, decoded as
ictorch's imageFolder decodes them):
ResNet (bench/resnets.py, ictorch's layers and initialisation), batch 128, SGD Nesterov 0.9, lr 0.1 with a
linear warm-up over the first epoch(s) then half a cosine to 0 (ictorch's lrAt), weight decay on weights only,
4-pixel zero-pad crop and flip on the GPU, normalised with the training images' own statistics, bf16 autocast,
channels-last and the step captured in a CUDA graph (bench/torch_train.py). Test top-1 after every epoch, one
JSON line per epoch. Stops before an epoch that would end after --deadline (seconds since the epoch, unix time).

  python3 bench/cifar-accuracy.py --data /tmp/cifar --layout relu-ic-conv --epochs 10 [--depth 110] [--deadline T]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import resnets  # noqa: E402
import torch_train  # noqa: E402


def load(prefix, device):
    meta = json.load(open(prefix + ".json"))
    h, w = meta["height"], meta["width"]
    out = {}
    for split in ("train", "test"):
        n = meta[split]
        images = np.fromfile(f"{prefix}.{split}.images", dtype=np.uint8).reshape(n, 3, h, w)
        labels = np.fromfile(f"{prefix}.{split}.labels", dtype=np.int64)
        out[split] = (torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device))
    return meta, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--layout", default="relu-ic-conv")
    ap.add_argument("--depth", type=int, default=110)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--warmup-epochs", type=int, default=1)
    ap.add_argument("--drop-rate", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deadline", type=float, default=0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    cuda = a.device.startswith("cuda")
    torch.manual_seed(a.seed)
    if cuda:
        torch.backends.cudnn.benchmark = True
    meta, data = load(a.data, a.device)
    (xtr, ytr), (xte, yte) = data["train"], data["test"]
    # The training images' own per-channel statistics, as ictorch's channelStats computes them (float64 sums).
    mean, std = [], []
    for c in range(3):
        v = xtr[:, c].double() / 255
        m = v.mean().item()
        mean.append(m)
        std.append(max(0.0, (v * v).mean().item() - m * m) ** 0.5)
    model = resnets.resnet_cifar(a.depth, a.layout, classes=len(meta["classes"]), drop_rate=0.0 if a.layout == "baseline" else a.drop_rate).to(a.device)
    fmt = torch.channels_last if cuda else torch.contiguous_format
    model = model.to(memory_format=fmt)
    amp = torch.bfloat16 if cuda else None
    bs = a.batch_size
    steps_per_epoch = xtr.shape[0] // bs  # the last partial batch is dropped, as ictorch does
    total, warm = a.epochs * steps_per_epoch, a.warmup_epochs * steps_per_epoch
    gen = torch.Generator(device=a.device)
    gen.manual_seed(a.seed)

    def batch(idx):
        x = torch_train.normalize(torch_train.pad_crop_flip(xtr[idx], 4, gen), mean, std).contiguous(memory_format=fmt)
        return x, ytr[idx]

    step_fn = None
    if cuda:
        x0, y0 = batch(torch.arange(bs, device=a.device))
        # GraphStep's warm-up steps are real training steps (lr of step 0), as ictorch's warm-up steps are.
        step_fn = torch_train.GraphStep(model, torch_train.lr_at(0, a.lr, total, warm), 0.9, a.weight_decay, True, amp, x0, y0)
    else:
        opt = torch.optim.SGD(torch_train.sgd_groups(model, a.weight_decay), lr=a.lr, momentum=0.9, nesterov=True)
        eager = torch_train.eager_step(model, opt, None)

        def step_fn(x, y, lr):
            for g in opt.param_groups:
                g["lr"] = lr
            return eager(x, y)

    step = 0
    last = 0.0
    for epoch in range(a.epochs):
        if a.deadline and time.time() + last > a.deadline:
            print(json.dumps({"stopped": f"deadline before epoch {epoch + 1}", "layout": a.layout}), flush=True)
            break
        t0 = time.time()
        model.train()
        perm = torch.randperm(xtr.shape[0], device=a.device, generator=gen)
        loss_sum = torch.zeros((), device=a.device, dtype=torch.float64)
        correct = torch.zeros((), device=a.device, dtype=torch.float64)
        for b in range(steps_per_epoch):
            x, y = batch(perm[b * bs:(b + 1) * bs])
            loss, c = step_fn(x, y, torch_train.lr_at(step, a.lr, total, warm))
            loss_sum += loss.double() * bs
            correct += c.double()
            step += 1
        seen = steps_per_epoch * bs
        train_loss, train_acc = loss_sum.item() / seen, correct.item() / seen
        secs = time.time() - t0
        model.eval()
        hits = 0
        with torch.no_grad(), torch_train.autocast(a.device.split(":")[0], amp):
            for i in range(0, xte.shape[0], 500):
                x = torch_train.normalize(xte[i:i + 500], mean, std).contiguous(memory_format=fmt)
                hits += (model(x).argmax(1) == yte[i:i + 500]).sum().item()
        last = time.time() - t0
        print(json.dumps({"framework": "pytorch", "layout": a.layout, "depth": a.depth, "epoch": epoch + 1, "epochs": a.epochs,
                          "lr": torch_train.lr_at(step - 1, a.lr, total, warm), "trainLoss": train_loss, "trainAcc": train_acc,
                          "testAcc": hits / xte.shape[0], "imagesPerSec": seen / secs, "seconds": secs}), flush=True)


if __name__ == "__main__":
    main()
