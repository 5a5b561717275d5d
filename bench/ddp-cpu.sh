#!/usr/bin/env bash
# bench/ddp-cpu.sh: data-parallel training on one CPU machine, ictorch against PyTorch, paired.
#
# ResNet-20 (CIFAR), a global batch of 128 per step, SGD Nesterov, four arms per round:
#   ictorch-1   one process, every core (bench/ddp-cpu.js)
#   ictorch-N   BENCH_NPROC processes (launch: cores / N threads each), gradients averaged over Gloo
#   pytorch-1   one PyTorch process, every core (bench/ddp-cpu.py)
#   pytorch-N   BENCH_NPROC PyTorch processes, DistributedDataParallel over Gloo, cores / N threads each
# The arms of a round run one after another, in an order that rotates each round, so that load from elsewhere
# falls on all of them; ratios are taken within each round and their medians (and range) reported.
#
#   bash bench/ddp-cpu.sh
#   BENCH_ROUNDS=6 BENCH_NPROC=2 BENCH_LAYOUTS="baseline relu-ic-conv" bash bench/ddp-cpu.sh
#   BENCH_SMALL=1 bash bench/ddp-cpu.sh       (smoke run: depth 8, batch 16, 2 steps, 1 round)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
ROUNDS=${BENCH_ROUNDS:-4}
NPROC=${BENCH_NPROC:-2}
LAYOUTS=${BENCH_LAYOUTS:-baseline relu-ic-conv}
if [ "${BENCH_SMALL:-0}" = 1 ]; then
  export BENCH_DEPTH=8 BENCH_BATCH=16 BENCH_STEPS=2 BENCH_WARMUP=1
  ROUNDS=1
fi
source bench/cpu-header.sh
bench_require
node -e "process.exit(require('./dist').distributed.isGlooAvailable() ? 0 : 1)" || { echo "this ictorch build has no Gloo (install libgloo-dev and rebuild)" >&2; exit 1; }
raw=${BENCH_JSON:-$(mktemp)}
: >"$raw"

bench_header
echo "settings: rounds=$ROUNDS nproc=$NPROC steps=${BENCH_STEPS:-20} warmup=${BENCH_WARMUP:-3} batch=${BENCH_BATCH:-128} (global) depth=${BENCH_DEPTH:-20}"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (before)"

tag() { sed "s/^{/{\"round\":$1,\"arm\":\"$2\",/" >>"$raw"; }
pytorch_n() {
  local port
  port=$(node -e "require('./dist').distributed.freePort().then((p) => console.log(p))")
  local pids=()
  for r in $(seq 0 $((NPROC - 1))); do
    MASTER_ADDR=127.0.0.1 MASTER_PORT=$port RANK=$r WORLD_SIZE=$NPROC "$PYTHON" bench/ddp-cpu.py "$1" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
}
arm() {
  case $1 in
    ictorch-1) BENCH_NPROC=1 node bench/ddp-cpu.js "$2" ;;
    ictorch-N) BENCH_NPROC=$NPROC node bench/ddp-cpu.js "$2" ;;
    pytorch-1) "$PYTHON" bench/ddp-cpu.py "$2" ;;
    pytorch-N) pytorch_n "$2" ;;
  esac
}
ARMS=(ictorch-1 ictorch-N pytorch-1 pytorch-N)
for r in $(seq 1 "$ROUNDS"); do
  for l in $LAYOUTS; do
    echo "round $r/$ROUNDS $l" >&2
    for i in 0 1 2 3; do
      a=${ARMS[$(( (i + r - 1) % 4 ))]}
      arm "$a" "$l" | tag "$r" "$a"
    done
  done
done
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (after)"
echo

node - "$raw" "$NPROC" <<'JS'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const n = process.argv[3];
const median = (xs) => { const s = [...xs].sort((a, b) => a - b), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
const arms = ['ictorch-1', 'ictorch-N', 'pytorch-1', 'pytorch-N'];
const name = (a) => a.replace('-N', `-${n}`);
console.log('| layout | arm | processes × threads | images/s (median) | step ms (median) | peak RSS MiB per process (median) |');
console.log('| --- | --- | --- | ---: | ---: | ---: |');
const layouts = [...new Set(rows.map((r) => r.layout))];
for (const l of layouts) {
  for (const a of arms) {
    const rs = rows.filter((r) => r.layout === l && r.arm === a);
    if (!rs.length) continue;
    console.log(`| ${l} | ${name(a)} | ${rs[0].nproc} × ${rs[0].threads} | ${median(rs.map((r) => r.imagesPerSec)).toFixed(0)} | ${median(rs.map((r) => r.stepMs)).toFixed(1)} | ${median(rs.map((r) => r.peakRssMiB))} |`);
  }
}
console.log();
console.log('Ratios of images/s within each round (median, range over rounds):');
console.log('| layout | ictorch-N / pytorch-N | ictorch-N / ictorch-1 | pytorch-N / pytorch-1 | ictorch-1 / pytorch-1 |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const l of layouts) {
  const rounds = [...new Set(rows.map((r) => r.round))];
  const ratio = (a, b) => rounds.map((k) => {
    const x = rows.find((r) => r.layout === l && r.round === k && r.arm === a);
    const y = rows.find((r) => r.layout === l && r.round === k && r.arm === b);
    return x && y ? x.imagesPerSec / y.imagesPerSec : null;
  }).filter((v) => v !== null);
  const cell = (a, b) => { const v = ratio(a, b); return v.length ? `${median(v).toFixed(2)} (${range(v)})` : '–'; };
  console.log(`| ${l} | ${cell('ictorch-N', 'pytorch-N')} | ${cell('ictorch-N', 'ictorch-1')} | ${cell('pytorch-N', 'pytorch-1')} | ${cell('ictorch-1', 'pytorch-1')} |`);
}
JS
