#!/usr/bin/env bash
# GPU benchmarks and evidence runs (called by scripts/gpu-check.sh with its output folder). ictorch and PyTorch
# are measured in the same run; results are JSON lines in $1/bench.jsonl, training runs in $1/runs.jsonl.
out=${1:-.}
{ node bench/ic-gpu.js; python3 bench/ic-gpu.py; node bench/train-gpu.js 110 128 60; python3 bench/train-gpu.py 110 128 60; } 2>&1 | tee "$out/bench.jsonl"
# ResNet-110 on the full real CIFAR-10 (JPEG folders) for a short schedule, IC layout and baseline.
if [ -d /tmp/cifar10-jpg ]; then
  data=imagefolder:$(ls -d /tmp/cifar10-jpg/*/ 2>/dev/null | head -1 | sed 's#/$##')
  [ -d /tmp/cifar10-jpg/train ] && data=imagefolder:/tmp/cifar10-jpg
  for layout in relu-ic-conv baseline; do
    node dist/cli.js train --data "$data" --model resnet --depth 110 --layout $layout --epochs ${GPU_EPOCHS:-15} \
      --device cuda --amp bf16 --schedule cosine --out "/tmp/runs/r110-$layout" --json 2>"$out/train-$layout.log" | tail -1 | tee -a "$out/runs.jsonl"
    tail -3 "$out/train-$layout.log"
  done
fi
