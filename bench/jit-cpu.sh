#!/usr/bin/env bash
# bench/jit-cpu.sh: serving a TorchScript model on the CPU, ictorch's torch.jit.load against PyTorch's, paired.
#
# torchvision's ResNet-18 (1000 classes), scripted and saved by Python once; each process loads the archive,
# then times BENCH_STEPS forward calls (after BENCH_WARMUP) without gradients at each batch size (224x224
# images), and reports the median per call and its peak RSS (bench/jit-cpu.js: forward on the JS thread in one
# process, forwardAsync awaited one at a time in another, as a service calls one or the other; bench/jit-cpu.py:
# the module called under torch.no_grad(), PyTorch 1.13 from Debian, the same LibTorch). Each pair runs the
# processes in rotating order, and the medians of the pairwise ratios are reported with their range.
#
#   bash bench/jit-cpu.sh
#   BENCH_PAIRS=6 BENCH_STEPS=20 BENCH_BATCHES="1 8 32" BENCH_THREADS=1 bash bench/jit-cpu.sh
#   BENCH_PY_MALLOC=1 bash bench/jit-cpu.sh   (adds PyTorch with ictorch's malloc settings to each pair)
#   BENCH_SMALL=1 bash bench/jit-cpu.sh       (smoke run: batch 1, 2 steps, 1 pair)
#   BENCH_BEFORE_ADDON=/path/to/ictorch.node bash bench/jit-cpu.sh
#                                     (adds a forwardAsync process with another build of the addon to each pair:
#                                      to measure a change of the addon)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
PAIRS=${BENCH_PAIRS:-5}
BATCHES=${BENCH_BATCHES:-1 8}
export BENCH_THREADS=${BENCH_THREADS:-$(nproc)}   # intra-op threads, set alike on both sides
if [ "${BENCH_SMALL:-0}" = 1 ]; then
  export BENCH_STEPS=2 BENCH_WARMUP=1
  PAIRS=1 BATCHES=1
fi
source bench/cpu-header.sh
bench_require
"$PYTHON" -c 'import torchvision' 2>/dev/null || { echo "$PYTHON cannot import torchvision (install Debian's python3-torchvision)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=${BENCH_JSON:-$work/raw.jsonl}
: >"$raw"
"$PYTHON" - "$work" "$BATCHES" <<'PY'
import sys, torch, torchvision
work, batches = sys.argv[1], [int(b) for b in sys.argv[2].split()]
torch.manual_seed(0)
m = torchvision.models.resnet18().eval()
torch.jit.save(torch.jit.script(m), f'{work}/resnet18.pt')
torch.save({f'batch{b}': torch.randn(b, 3, 224, 224) for b in batches}, f'{work}/inputs.pt')
PY

bench_header
echo "settings: pairs=$PAIRS steps=${BENCH_STEPS:-10} warmup=${BENCH_WARMUP:-3} batches=$BATCHES threads=$BENCH_THREADS; torchvision ResNet-18 scripted, 224x224"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (before)"
run_ictorch() { node bench/jit-cpu.js "$work/resnet18.pt" "$work/inputs.pt" forward | sed "s/^{/{\"pair\":$1,\"arm\":\"ictorch\",/" >>"$raw"; }
run_ictorch_async() { node bench/jit-cpu.js "$work/resnet18.pt" "$work/inputs.pt" forwardAsync | sed "s/^{/{\"pair\":$1,\"arm\":\"ictorch-async\",/" >>"$raw"; }
run_pytorch() { "$PYTHON" bench/jit-cpu.py "$work/resnet18.pt" "$work/inputs.pt" | sed "s/^{/{\"pair\": $1, \"arm\": \"pytorch\", /" >>"$raw"; }
# BENCH_PY_MALLOC=1: a third process per pair, PyTorch with glibc's malloc set as native/runtime.cc sets it for
# ictorch (mallopt), through the environment: to check how much of a difference is the allocator's.
run_pytorch_malloc() { MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=2147483647 MALLOC_ARENA_MAX=1 "$PYTHON" bench/jit-cpu.py "$work/resnet18.pt" "$work/inputs.pt" | sed "s/^{/{\"pair\": $1, \"arm\": \"pytorch-malloc\", /" >>"$raw"; }
run_before() { ICTORCH_ADDON="$BENCH_BEFORE_ADDON" node bench/jit-cpu.js "$work/resnet18.pt" "$work/inputs.pt" forwardAsync | sed "s/^{/{\"pair\":$1,\"arm\":\"ictorch-before\",/" >>"$raw"; }
arms=(run_ictorch run_ictorch_async run_pytorch)
if [ -n "${BENCH_BEFORE_ADDON:-}" ]; then arms+=(run_before); fi
for p in $(seq 1 "$PAIRS"); do
  echo "pair $p/$PAIRS" >&2
  # rotate the order: pair 1 starts with the first arm, pair 2 with the second, ...
  n=${#arms[@]}
  for k in $(seq 0 $((n - 1))); do "${arms[$(((p - 1 + k) % n))]}" "$p"; done
  if [ "${BENCH_PY_MALLOC:-0}" = 1 ]; then run_pytorch_malloc "$p"; fi
done
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (after)"
echo

node - "$raw" <<'EOF2'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const { median } = require('./bench/common');
const range = (xs) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
const by = (arm) => rows.filter((r) => r.arm === arm);
const pairs = [...new Set(rows.map((r) => r.pair))];
console.log('| batch | ictorch forward ms | ictorch forwardAsync ms | PyTorch ms | PyTorch / ictorch forward (pairs) | PyTorch / ictorch forwardAsync (pairs) |');
console.log('| ---: | ---: | ---: | ---: | --- | --- |');
for (const b of Object.keys(rows[0].batches)) {
  const med = (arm, k) => median(by(arm).map((r) => r.batches[b][k]));
  const ratio = (arm, k) => {
    const xs = pairs.map((p) => {
      const i = rows.find((r) => r.pair === p && r.arm === arm);
      const t = rows.find((r) => r.pair === p && r.arm === 'pytorch');
      return t.batches[b].syncMs / i.batches[b][k];
    });
    return `${median(xs).toFixed(2)} (${range(xs)})`;
  };
  console.log(`| ${b.replace('batch', '')} | ${med('ictorch', 'syncMs').toFixed(1)} | ${med('ictorch-async', 'asyncMs').toFixed(1)} | ${med('pytorch', 'syncMs').toFixed(1)} | ${ratio('ictorch', 'syncMs')} | ${ratio('ictorch-async', 'asyncMs')} |`);
}
if (by('pytorch-malloc').length) {
  for (const b of Object.keys(rows[0].batches)) {
    const xs = pairs.map((p) => {
      const i = rows.find((r) => r.pair === p && r.arm === 'ictorch');
      const t = rows.find((r) => r.pair === p && r.arm === 'pytorch-malloc');
      return t.batches[b].syncMs / i.batches[b].syncMs;
    });
    console.log(`batch ${b.replace('batch', '')}: PyTorch with ictorch's malloc settings ${median(by('pytorch-malloc').map((r) => r.batches[b].syncMs)).toFixed(1)} ms; its time / ictorch forward: ${median(xs).toFixed(2)} (${range(xs)})`);
  }
}
if (by('ictorch-before').length) {
  // This build's forwardAsync over the other build's, pair by pair.
  for (const b of Object.keys(rows[0].batches)) {
    const across = pairs.map((p) => {
      const i = rows.find((r) => r.pair === p && r.arm === 'ictorch-async');
      const o = rows.find((r) => r.pair === p && r.arm === 'ictorch-before');
      return i.batches[b].asyncMs / o.batches[b].asyncMs;
    });
    console.log(`batch ${b.replace('batch', '')}: forwardAsync ms, this build ${median(by('ictorch-async').map((r) => r.batches[b].asyncMs)).toFixed(1)}, the other build (BENCH_BEFORE_ADDON) ${median(by('ictorch-before').map((r) => r.batches[b].asyncMs)).toFixed(1)}; this build / the other (pairs) ${median(across).toFixed(2)} (${range(across)})`);
  }
}
const f = (arm, k) => median(by(arm).map((r) => r[k]));
console.log(`\nload ms: ictorch ${f('ictorch', 'loadMs').toFixed(0)} (checks included), PyTorch ${f('pytorch', 'loadMs').toFixed(0)}; peak RSS MiB: ictorch ${f('ictorch', 'peakRssMiB').toFixed(0)}, PyTorch ${f('pytorch', 'peakRssMiB').toFixed(0)}; threads ${by('ictorch')[0].threads} / ${by('pytorch')[0].threads}`);
EOF2
