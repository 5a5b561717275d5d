# One PyTorch process of bench/jit-cpu.sh: loads the TorchScript archive, then times forward calls under
# torch.no_grad() for each batch size; prints one JSON line (the fields bench/jit-cpu.js prints).
import json
import os
import resource
import statistics
import sys
import time

import torch

archive, inputs = sys.argv[1], sys.argv[2]
steps = int(os.environ.get('BENCH_STEPS', '10'))
warmup = int(os.environ.get('BENCH_WARMUP', '3'))
torch.set_num_threads(int(os.environ['BENCH_THREADS']))
t0 = time.perf_counter()
m = torch.jit.load(archive)
m.eval()
load_ms = (time.perf_counter() - t0) * 1000
xs = torch.load(inputs)
out = {'loadMs': load_ms, 'threads': torch.get_num_threads(), 'batches': {}}
with torch.no_grad():
    for name, x in xs.items():
        for _ in range(warmup):
            m(x)
        times = []
        for _ in range(steps):
            t = time.perf_counter()
            m(x)
            times.append((time.perf_counter() - t) * 1000)
        out['batches'][name] = {'syncMs': statistics.median(times)}
out['peakRssMiB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
