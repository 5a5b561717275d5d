#!/usr/bin/env bash
# GPU benchmarks (called by scripts/gpu-check.sh): ictorch and PyTorch in the same run, JSON lines to $1/bench.jsonl.
out=${1:-.}
{ node bench/ic-gpu.js; python3 bench/ic-gpu.py; } | tee "$out/bench.jsonl"
