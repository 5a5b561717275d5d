#!/usr/bin/python3
"""bench/ddp-cpu.py: one PyTorch run of the data-parallel CPU benchmark (bench/ddp-cpu.sh pairs it with
bench/ddp-cpu.js). The same ResNet-20 as ictorch's (bench/resnets.py), a global batch of BENCH_BATCH random
3x32x32 images per step, torch.optim.SGD(lr 0.1, momentum 0.9, nesterov, weight decay 1e-4 on weights only),
BENCH_STEPS timed steps after BENCH_WARMUP. With RANK and WORLD_SIZE in the environment (bench/ddp-cpu.sh
starts the processes): DistributedDataParallel over Gloo, each process on its share of the batch, and
cores / processes intra-op threads each (as ictorch's launcher gives). Rank 0 prints one JSON line.

  /usr/bin/python3 bench/ddp-cpu.py <baseline|relu-ic-conv>
"""
import json
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import resnets  # noqa: E402
from resnets import int_env, median_step_ms  # noqa: E402


def main():
    layout = sys.argv[1] if len(sys.argv) > 1 else "baseline"
    steps, warmup, batch, depth = int_env("BENCH_STEPS", 20), int_env("BENCH_WARMUP", 3), int_env("BENCH_BATCH", 128), int_env("BENCH_DEPTH", 20)
    launched = "RANK" in os.environ
    if launched:
        dist.init_process_group("gloo")
    world = dist.get_world_size() if launched else 1
    rank = dist.get_rank() if launched else 0
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // world))
    torch.manual_seed(0)
    model = resnets.resnet_cifar(depth, layout).train()
    net = torch.nn.parallel.DistributedDataParallel(model) if launched else model
    opt = torch.optim.SGD(resnets.param_groups(model, 1e-4), lr=0.1, momentum=0.9, nesterov=True)
    torch.manual_seed(1 + rank)
    x = torch.randn(batch // world, 3, 32, 32)
    y = torch.randint(0, 10, (batch // world,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()

    step_ms = median_step_ms(step, steps, warmup)
    rss = torch.tensor([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024], dtype=torch.float64)
    if launched:
        dist.all_reduce(rss, op=dist.ReduceOp.MAX)
    if rank == 0:
        print(json.dumps({"layout": layout, "nproc": world, "threads": torch.get_num_threads(), "stepMs": step_ms, "imagesPerSec": 1000 * batch / step_ms, "peakRssMiB": round(rss.item())}))
    if launched:
        dist.barrier()  # rank 0 serves the rendezvous store: it leaves last
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
