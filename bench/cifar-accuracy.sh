#!/usr/bin/env bash
# bench/cifar-accuracy.sh: ResNet baseline and relu-ic-conv on the real CIFAR-10 JPEGs, ictorch (`ictorch train`)
# and PyTorch (bench/cifar-accuracy.py) on the same decoded images with the same recipe, in one command: batch 128,
# SGD Nesterov 0.9, lr 0.1 with one warm-up epoch then cosine decay, weight decay 5e-4 on weights only, 4-pixel
# pad-crop and flip, dropRate 0.05, bf16 autocast, CUDA graph (channels-last). The four runs go at once (the GPU
# has room; their speeds are not measured here, see bench/train-throughput.sh), each stopped at the deadline;
# test top-1 after every epoch is tabulated. Prints a markdown table; writes $OUT_DIR/accuracy.json.
#
#   bash bench/cifar-accuracy.sh <cifar10-jpg dir> [out dir]
#   ACC_EPOCHS=12 ACC_SECONDS=240 ACC_DEPTH=110 bash bench/cifar-accuracy.sh /tmp/cifar10-jpg gpu-out/acc
#   BENCH_SMALL=1 bash bench/cifar-accuracy.sh <dir>    (CPU smoke run: ResNet-8, 20 images per class, 2 epochs)
# ACC_DEADLINE (unix time) overrides ACC_SECONDS; ACC_WAIT_FOR: see below (used by scripts/gpu-check.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bash bench/cifar-accuracy.sh <cifar10-jpg dir> [out dir]}
out=${2:-${OUT:-gpu-out}/accuracy}
mkdir -p "$out"
PYTHON=${PYTHON:-python3}
epochs=${ACC_EPOCHS:-12}
depth=${ACC_DEPTH:-110}
seconds=${ACC_SECONDS:-240}
limit=
device=cuda
amp=(--amp bf16)
if [ "${BENCH_SMALL:-0}" = 1 ] || ! "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  epochs=${ACC_EPOCHS:-2} depth=8 limit=20 device=cpu amp=() seconds=${ACC_SECONDS:-600}
fi
deadline=${ACC_DEADLINE:-$(( $(date +%s) + seconds ))}
prefix=$(mktemp -d)/cifar
echo "accuracy: ResNet-$depth, $epochs epochs, $device, until $(date -u -d @"$deadline" '+%H:%M:%S UTC'); decoding the images"
check=
[ -z "${ACC_WAIT_FOR:-}" ] && check=--check  # the addon is there: verify that the bytes are ictorch's
node bench/cifar-accuracy.js "$dir" "$prefix" $limit $check >"$out/export.json" || { echo "accuracy: decoding failed"; exit 1; }
pids=()
for layout in relu-ic-conv baseline; do
  timeout $((deadline - $(date +%s))) "$PYTHON" bench/cifar-accuracy.py --data "$prefix" --layout $layout --depth "$depth" --epochs "$epochs" \
    --device $device --deadline "$deadline" >"$out/pytorch-$layout.jsonl" 2>"$out/pytorch-$layout.log" &
  pids+=($!)
done
# ACC_WAIT_FOR: a file that appears once the ictorch addon is built (scripts/gpu-check.sh builds it meanwhile);
# it holds "ok", or anything else when the build failed (the ictorch runs are then skipped).
if [ -n "${ACC_WAIT_FOR:-}" ]; then
  while [ ! -s "$ACC_WAIT_FOR" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 2; done
fi
if [ -z "${ACC_WAIT_FOR:-}" ] || [ "$(cat "$ACC_WAIT_FOR" 2>/dev/null)" = ok ]; then
  echo "accuracy: ictorch runs start ($(( deadline - $(date +%s) )) s left)"
  for layout in relu-ic-conv baseline; do
    timeout $((deadline - $(date +%s))) node dist/cli.js train --data "imagefolder:$dir" ${limit:+--limit-per-class $limit} --model resnet --depth "$depth" \
      --layout $layout --epochs "$epochs" --batch-size 128 --lr 0.1 --momentum 0.9 --nesterov --weight-decay 5e-4 --warmup-epochs 1 \
      --schedule cosine --drop-rate 0.05 "${amp[@]}" --device $device --out "$out/ictorch-$layout" --json >"$out/ictorch-$layout.json" 2>"$out/ictorch-$layout.log" &
    pids+=($!)
  done
else
  echo "accuracy: no ictorch runs (the addon was not built)"
fi
for p in "${pids[@]}"; do wait "$p"; done
rm -rf "$(dirname "$prefix")"

node - "$out" "$epochs" <<'EOF'
const fs = require('fs');
const [out, epochs] = [process.argv[2], Number(process.argv[3])];
const lines = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const runs = {};
for (const layout of ['relu-ic-conv', 'baseline']) {
  runs[`ictorch ${layout}`] = lines(`${out}/ictorch-${layout}/metrics.jsonl`).filter((r) => r.kind === 'epoch');
  runs[`pytorch ${layout}`] = lines(`${out}/pytorch-${layout}.jsonl`).filter((r) => r.epoch);
}
const names = Object.keys(runs);
const n = Math.max(0, ...names.map((k) => runs[k].length));
console.log(`| epoch | ${names.join(' | ')} |`);
console.log(`| ---: | ${names.map(() => '---:').join(' | ')} |`);
for (let e = 1; e <= n; e++) console.log(`| ${e} | ${names.map((k) => { const r = runs[k].find((x) => x.epoch === e); return r ? (100 * r.testAcc).toFixed(2) : ''; }).join(' | ')} |`);
console.log(`(test top-1 %, ${epochs} epochs scheduled; the four runs ran at once on one device)`);
const last = (k) => runs[k][runs[k].length - 1];
for (const layout of ['relu-ic-conv', 'baseline']) {
  const a = last(`ictorch ${layout}`), b = last(`pytorch ${layout}`);
  if (a && b && a.epoch === b.epoch) console.log(`${layout}: ictorch - PyTorch after epoch ${a.epoch}: ${(100 * (a.testAcc - b.testAcc)).toFixed(2)} points`);
}
fs.writeFileSync(`${out}/accuracy.json`, JSON.stringify({ epochs, runs }, null, 1));
EOF
for layout in relu-ic-conv baseline; do
  grep -h -iE "error|note:" "$out/ictorch-$layout.log" "$out/pytorch-$layout.log" 2>/dev/null | head -5 || true  # none is the usual case
done
