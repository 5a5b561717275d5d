#!/usr/bin/env bash
# ImageNet input pipeline: ictorch's imagenet() (native libjpeg-turbo decoder threads) against PyTorch's
# DataLoader + PIL + torchvision transforms, on the same files and the same cores, alternating runs
# (ictorch, torch, ictorch, torch, ...), for the training transform (RandomResizedCrop(224) + flip) and the
# validation transform (Resize(256) + CenterCrop(224)), uint8 output, batch 64:
#   1 core:    taskset to one CPU; ictorch workers=1, DataLoader num_workers=1 (+ torch.set_num_threads(1))
#   all cores: ictorch workers=N, DataLoader num_workers=N
# Prints images/s of each run, the median of the paired ratios (ictorch / torch) and each side's peak RSS
# (sum over the process and its children, sampled every 0.1 s).
#
#   bash bench/imagenet-loader.sh [DIR] [ROUNDS=3] [BATCHES=40]
# DIR defaults to a tree made by bench/imagenet-tree.py under $TMPDIR (3,000 training files).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-${TMPDIR:-/tmp}/ictorch-imagenet-bench}
rounds=${2:-3}
batches=${3:-40}
py=${PYTHON:-/usr/bin/python3}
cores=$(nproc)

if [ ! -d "$dir/train" ]; then
  echo "making the benchmark tree in $dir ..." >&2
  "$py" "$root/bench/imagenet-tree.py" "$dir" --train-per-class 300 --val-per-class 50
fi
[ -f "$root/dist/index.js" ] || (cd "$root" && npx tsc -p .)

echo "# ImageNet loader benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $cores cores available"
echo "# node $(node --version), ictorch $(node -p "require('$root/package.json').version") ($(node -p "require('$root/dist').jpegInfo().library"))"
echo "# $("$py" -c 'import torch, torchvision, PIL; from PIL import features; print("torch", torch.__version__, "torchvision", torchvision.__version__, "PIL", PIL.__version__, "libjpeg", features.version("jpg"))')"
echo "# data: $dir ($(find "$dir/train" -type f | wc -l) training files, $(du -sh "$dir/train" | cut -f1)); $batches batches of 64 per run after 2 warm-up batches; $rounds rounds"

# run_peak OUTFILE CMD...: runs CMD with stdout to OUTFILE; prints the peak RSS (MiB) of it and its children.
run_peak() {
  local out=$1
  shift
  "$@" >"$out" &
  local pid=$! peak=0 rss
  while kill -0 "$pid" 2>/dev/null; do
    rss=$(ps -o rss= -p "$pid" --ppid "$pid" 2>/dev/null | awk '{s += $1} END {print s + 0}')
    [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 0.1
  done
  wait "$pid"
  echo $((peak / 1024))
}

median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '\n%-6s %-9s %5s %12s %12s %8s %10s %10s\n' mode cores round ictorch/s torch/s ratio ictorchMiB torchMiB
for mode in train val; do
  for config in 1 all; do
    if [ "$config" = 1 ]; then workers=1; cpus=0; else workers=$cores; cpus=0-$((cores - 1)); fi
    : >"$tmp/ratios"
    for r in $(seq 1 "$rounds"); do
      mi=$(run_peak "$tmp/i.json" taskset -c "$cpus" node "$root/bench/imagenet-loader.js" "$dir" "$mode" "$workers" "$batches")
      mt=$(run_peak "$tmp/t.json" taskset -c "$cpus" "$py" "$root/bench/imagenet-loader.py" "$dir" "$mode" "$workers" "$batches")
      i=$(node -p "JSON.parse(require('fs').readFileSync('$tmp/i.json', 'utf8')).imagesPerSecond.toFixed(1)")
      t=$(node -p "JSON.parse(require('fs').readFileSync('$tmp/t.json', 'utf8')).imagesPerSecond.toFixed(1)")
      ratio=$(node -p "($i / $t).toFixed(3)")
      echo "$ratio" >>"$tmp/ratios"
      printf '%-6s %-9s %5s %12s %12s %8s %10s %10s\n' "$mode" "$config" "$r" "$i" "$t" "$ratio" "$mi" "$mt"
    done
    echo "$mode, $config core(s): median ratio $(median <"$tmp/ratios")" | tee -a "$tmp/summary"
  done
done
echo
cat "$tmp/summary"
