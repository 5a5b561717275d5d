# PyTorch reference for bench/train-gpu.js: the same CIFAR ResNet (option-A shortcuts; the IC layout built
# from BatchNorm2d + Dropout), the same SGD step, eager, on a fixed random batch. One JSON line per case.
import json, sys, time, torch, torch.nn as nn, torch.nn.functional as F

class Pad(nn.Module):
    def __init__(s, stride, out): super().__init__(); s.stride, s.out = stride, out
    def forward(s, x):
        x = x[:, :, ::s.stride, ::s.stride]
        return F.pad(x, (0, 0, 0, 0, 0, s.out - x.shape[1]))

class Unit(nn.Module):
    def __init__(s, layout, cin, cout, stride, p):
        super().__init__()
        conv = lambda a, b, st: nn.Conv2d(a, b, 3, st, 1, bias=False)
        if layout == 'baseline':
            s.body = nn.Sequential(conv(cin, cout, stride), nn.BatchNorm2d(cout), nn.ReLU(), conv(cout, cout, 1), nn.BatchNorm2d(cout)); s.post = nn.ReLU()
        else:  # relu-ic-conv
            s.body = nn.Sequential(nn.ReLU(), nn.BatchNorm2d(cin), nn.Dropout(p), conv(cin, cout, stride), nn.ReLU(), nn.BatchNorm2d(cout), nn.Dropout(p), conv(cout, cout, 1)); s.post = nn.Identity()
        s.short = Pad(stride, cout) if stride != 1 or cin != cout else nn.Identity()
    def forward(s, x): return s.post(s.body(x) + s.short(x))

def resnet(depth, layout, p=0.05):
    n = (depth - 2) // 6
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False)] + ([nn.BatchNorm2d(16), nn.ReLU()] if layout == 'baseline' else [])
    cin = 16
    for i, w in enumerate([16, 32, 64]):
        for u in range(n):
            layers.append(Unit(layout, cin, w, 2 if (u == 0 and i > 0) else 1, p)); cin = w
    if layout != 'baseline': layers += [nn.ReLU(), nn.BatchNorm2d(64), nn.Dropout(p)]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

depth, batch, steps = (int(a) for a in (sys.argv[1:] + ['110', '128', '60'])[:3])
for layout in ['baseline', 'relu-ic-conv']:
    for amp in [None, torch.bfloat16]:
        torch.manual_seed(0)
        m = resnet(depth, layout).cuda()
        opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        x = torch.randn(batch, 3, 32, 32, device='cuda'); y = torch.randint(0, 10, (batch,), device='cuda')
        def step():
            opt.zero_grad(set_to_none=True)
            with torch.autocast('cuda', dtype=amp or torch.float32, enabled=amp is not None):
                loss = F.cross_entropy(m(x), y)
            loss.backward(); opt.step()
        for _ in range(8): step()
        torch.cuda.synchronize(); t0 = time.perf_counter()
        for _ in range(steps): step()
        torch.cuda.synchronize()
        print(json.dumps({"bench": "train-gpu", "framework": "pytorch", "depth": depth, "batch": batch, "layout": layout, "mode": "eager",
                          "amp": "bf16" if amp else "fp32", "imagesPerSec": round(steps * batch / (time.perf_counter() - t0))}), flush=True)
