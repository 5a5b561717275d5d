#!/usr/bin/env bash
# ImageNet input pipeline: ictorch's imagenet() (native libjpeg-turbo decoder threads) against PyTorch's
# DataLoader + PIL + torchvision transforms, on the same files and the same cores, alternating runs
# (ictorch, torch, ictorch, torch, ...), for the training transform (RandomResizedCrop(224) + flip) and the
# validation transform (Resize(256) + CenterCrop(224)), uint8 output, batch 64:
#   1 core:    taskset to one CPU; ictorch workers=1, DataLoader num_workers=1 (+ torch.set_num_threads(1))
#   all cores: ictorch workers=N, DataLoader num_workers=N
# Prints per run: images/s (wall clock), images per CPU-second (user + system time of the process and its
# workers over the same window: the cost per image, which other load on the machine disturbs less), the
# 1-minute load average before the run, and each side's peak RSS (sum over the process and its children,
# sampled every 0.1 s); then the medians of the paired ratios (ictorch / torch).
#
#   bash bench/imagenet-loader.sh [DIR] [ROUNDS=3] [BATCHES=40]
# DIR defaults to a tree made by bench/imagenet-tree.py under $TMPDIR (3,000 training files; one epoch of
# 46 batches holds a run of BATCHES + 2 warm-up batches).
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
echo "# CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $cores cores available; load average $(cut -d' ' -f1-3 /proc/loadavg)"
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
field() { node -p "JSON.parse(require('fs').readFileSync('$1', 'utf8')).$2.toFixed(1)"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '\n%-5s %-5s %5s | %9s %9s %6s | %9s %9s %6s | %5s %5s | %6s %6s\n' mode cores round 'ict img/s' 'pt img/s' ratio 'ict /cpu' 'pt /cpu' ratio load1 load2 ictMiB ptMiB
for mode in train val; do
  for config in 1 all; do
    if [ "$config" = 1 ]; then workers=1; cpus=0; else workers=$cores; cpus=0-$((cores - 1)); fi
    : >"$tmp/wall"
    : >"$tmp/cpu"
    for r in $(seq 1 "$rounds"); do
      l1=$(cut -d' ' -f1 /proc/loadavg)
      mi=$(run_peak "$tmp/i.json" taskset -c "$cpus" node "$root/bench/imagenet-loader.js" "$dir" "$mode" "$workers" "$batches")
      l2=$(cut -d' ' -f1 /proc/loadavg)
      mt=$(run_peak "$tmp/t.json" taskset -c "$cpus" "$py" "$root/bench/imagenet-loader.py" "$dir" "$mode" "$workers" "$batches")
      i=$(field "$tmp/i.json" imagesPerSecond)
      t=$(field "$tmp/t.json" imagesPerSecond)
      ic=$(field "$tmp/i.json" imagesPerCpuSecond)
      tc=$(field "$tmp/t.json" imagesPerCpuSecond)
      wr=$(node -p "($i / $t).toFixed(3)")
      cr=$(node -p "($ic / $tc).toFixed(3)")
      echo "$wr" >>"$tmp/wall"
      echo "$cr" >>"$tmp/cpu"
      printf '%-5s %-5s %5s | %9s %9s %6s | %9s %9s %6s | %5s %5s | %6s %6s\n' "$mode" "$config" "$r" "$i" "$t" "$wr" "$ic" "$tc" "$cr" "$l1" "$l2" "$mi" "$mt"
    done
    echo "$mode, $config core(s): median ratio ictorch/torch: images/s $(median <"$tmp/wall"), images per CPU-second $(median <"$tmp/cpu")" >>"$tmp/summary"
  done
done
echo
cat "$tmp/summary"
