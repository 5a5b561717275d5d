# TorchScript archives and the outputs Python computes from them, for test/jit.test.ts.
# Usage: python3 jit-fixtures.py <out dir>. Writes:
#   resnet18.pt   torchvision's ResNet-18 (10 classes), scripted, in eval mode
#   multi.pt      a scripted module with defaults, optional and container arguments, tuple/dict results,
#                 exported methods and BatchNorm + Dropout
#   traced.pt     a traced two-layer network
#   const.pt      a traced function with a tensor constant (stored under constants/)
#   io.pt         the inputs and Python's outputs (torch.save; ictorch reads it with torch.load)
#   weights.pt    other weights for resnet18 (torch.save of a state dict) and io's outputs with them
#   keys.json     resnet18's state_dict keys in order
import json
import sys
from typing import Dict, List, Optional, Tuple

import torch
import torchvision

out = sys.argv[1]
torch.manual_seed(0)


class Multi(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 3)
        self.bn = torch.nn.BatchNorm1d(3)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x: torch.Tensor, scale: float = 2.0, n: int = 1, names: Optional[List[str]] = None,
                extra: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], int]:
        y = self.drop(self.bn(self.lin(x))) * scale
        for _ in range(n):
            y = y + 1
        if extra is not None:
            y = y + extra
        return y, {'sum': y.sum(), 'n': torch.tensor(n)}, 0 if names is None else len(names)

    @torch.jit.export
    def describe(self, d: Dict[str, int], flags: List[bool]) -> Dict[str, List[int]]:
        r: Dict[str, List[int]] = {}
        for k, v in d.items():
            r[k] = [v, v * 2, int(len(flags))]
        return r

    @torch.jit.export
    def big(self) -> int:
        return 1152921504606846976  # 2 ** 60 (TorchScript types 2 ** 60 as float)


resnet = torchvision.models.resnet18(num_classes=10).eval()
# BatchNorm statistics that are not the initial ones, so that eval mode is checked.
with torch.no_grad():
    for m in resnet.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
scripted = torch.jit.script(resnet)
scripted.save(f'{out}/resnet18.pt')
with open(f'{out}/keys.json', 'w') as f:
    json.dump(list(scripted.state_dict().keys()), f)

multi = torch.jit.script(Multi().eval())
multi.save(f'{out}/multi.pt')

net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 5)).eval()
traced = torch.jit.trace(net, torch.randn(1, 3, 8, 8))
traced.save(f'{out}/traced.pt')



class Scale(torch.nn.Module):
    def forward(self, x):
        return x * torch.tensor([1.0, 2.0, 3.0, 4.0])  # a constant of the trace


import warnings
with warnings.catch_warnings():
    warnings.simplefilter('ignore')  # the tracer's note that torch.tensor becomes a constant
    torch.jit.trace(Scale(), torch.zeros(4)).save(f'{out}/const.pt')

x = torch.randn(2, 3, 64, 64)
xm = torch.randn(5, 4)
extra = torch.randn(5, 3)
xt = torch.randn(3, 3, 8, 8)
with torch.no_grad():
    y = scripted(x)
    ym, dm, nm = multi(xm, 0.5, 3, ['a', 'b'], extra)
    ym_default, _, _ = multi(xm)
    yt = traced(xt)
# One SGD step (lr 0.1) on traced with loss = sum of the outputs: the weights after it.
opt = torch.optim.SGD(traced.parameters(), lr=0.1)
traced.train()
opt.zero_grad()
traced(xt).sum().backward()
opt.step()
stepped = {k: v.detach().clone() for k, v in traced.state_dict().items()}

torch.save({'x': x, 'y': y, 'xm': xm, 'extra': extra, 'ym': ym, 'ym_sum': dm['sum'], 'ym_default': ym_default, 'xt': xt, 'yt': yt,
            'stepped': stepped}, f'{out}/io.pt')

other = torchvision.models.resnet18(num_classes=10).eval()
with torch.no_grad():
    y_other = other(x)
torch.save(other.state_dict(), f'{out}/weights.pt')
torch.save({'y_other': y_other}, f'{out}/io-other.pt')
print('ok')
