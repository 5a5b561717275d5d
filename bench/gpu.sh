#!/usr/bin/env bash
# bench/gpu.sh: the GPU benchmarks of issue 11 one after the other, outside the device run's time guards
# (scripts/gpu-check.sh runs them itself, in priority order, with guards): accuracy, throughput, IC kernel.
#   bash bench/gpu.sh <out dir> [<cifar10-jpg dir>]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-out}
cifar=${2:-/tmp/cifar10-jpg}
mkdir -p "$out"
if [ -d "$cifar/train" ]; then bash bench/cifar-accuracy.sh "$cifar" "$out/accuracy" | tee "$out/accuracy.txt"; fi
BENCH_EPOCH_DATA=$([ -d "$cifar/train" ] && echo "imagefolder:$cifar") bash bench/train-throughput.sh "$out" | tee "$out/throughput.txt"
bash bench/ic-kernel.sh "$out" | tee "$out/ic-kernel.txt"
