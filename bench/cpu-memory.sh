#!/usr/bin/env bash
# bench/cpu-memory.sh: ictorch against PyTorch on the CPU, memory and step time, paired.
#
# ResNet-20 (CIFAR), batch 128, SGD Nesterov; each process builds one layout, runs BENCH_WARMUP steps, then
# times BENCH_STEPS steps and reports its peak RSS (getrusage), page faults and CPU time (bench/cpu-memory.js:
# ictorch's native training step; bench/cpu-memory.py: PyTorch 1.13 from Debian, the same LibTorch). Processes
# alternate ictorch, PyTorch, ictorch, PyTorch ... (the order flips every pair) so that load from elsewhere
# falls on both; a ratio is taken within each pair and the medians of the pairwise ratios are reported, with
# their range. BENCH_BEFORE_ADDON=<ictorch.node> adds a third process per pair with that addon (ICTORCH_ADDON),
# e.g. the addon before a change.
#
#   bash bench/cpu-memory.sh
#   BENCH_PAIRS=6 BENCH_STEPS=20 BENCH_LAYOUTS="baseline relu-ic-conv" BENCH_JSON=out.jsonl bash bench/cpu-memory.sh
#   BENCH_SMALL=1 bash bench/cpu-memory.sh       (smoke run: depth 8, batch 16, 2 steps, 1 pair)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
PAIRS=${BENCH_PAIRS:-5}
LAYOUTS=${BENCH_LAYOUTS:-baseline relu-ic-conv}
if [ "${BENCH_SMALL:-0}" = 1 ]; then
  export BENCH_DEPTH=8 BENCH_BATCH=16 BENCH_STEPS=2 BENCH_WARMUP=1
  PAIRS=1
fi
source bench/cpu-header.sh
bench_require
raw=${BENCH_JSON:-$(mktemp)}
: >"$raw"

bench_header
echo "settings: pairs=$PAIRS steps=${BENCH_STEPS:-20} warmup=${BENCH_WARMUP:-3} batch=${BENCH_BATCH:-128} depth=${BENCH_DEPTH:-20}"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (before)"

run_ictorch() { node bench/cpu-memory.js "$1" | sed "s/^{/{\"pair\":$2,\"arm\":\"ictorch\",/" >>"$raw"; }
run_pytorch() { "$PYTHON" bench/cpu-memory.py "$1" | sed "s/^{/{\"pair\": $2, \"arm\": \"pytorch\", /" >>"$raw"; }
run_before() { ICTORCH_ADDON=$BENCH_BEFORE_ADDON node bench/cpu-memory.js "$1" | sed "s/^{/{\"pair\":$2,\"arm\":\"before\",/" >>"$raw"; }
for p in $(seq 1 "$PAIRS"); do
  for l in $LAYOUTS; do
    echo "pair $p/$PAIRS $l" >&2
    if [ $((p % 2)) = 1 ]; then run_ictorch "$l" "$p"; run_pytorch "$l" "$p"; else run_pytorch "$l" "$p"; run_ictorch "$l" "$p"; fi
    if [ -n "${BENCH_BEFORE_ADDON:-}" ]; then run_before "$l" "$p"; fi
  done
done
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (after)"
echo

node - "$raw" <<'EOF'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
const arms = [...new Set(rows.map((r) => r.arm))];
console.log('| layout | arm | step ms (median) | peak RSS MiB (median) | minor faults/step | user s/step | sys s/step | GCs in timed steps |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
const layouts = [...new Set(rows.map((r) => r.layout))];
for (const l of layouts) {
  for (const a of arms) {
    const rs = rows.filter((r) => r.layout === l && r.arm === a);
    if (!rs.length) continue;
    const f = (k) => median(rs.map((r) => r[k]));
    console.log(`| ${l} | ${a} | ${f('medianStepMs').toFixed(0)} | ${f('peakRssMiB').toFixed(0)} | ${f('minorFaultsPerStep').toFixed(0)} | ${f('userSecPerStep').toFixed(3)} | ${f('sysSecPerStep').toFixed(3)} | ${a === 'pytorch' ? '' : f('gcs')} |`);
  }
}
console.log();
for (const l of layouts) {
  const pairs = [...new Set(rows.map((r) => r.pair))];
  for (const a of arms.filter((x) => x !== 'pytorch')) {
    const speed = [], mem = [];
    for (const p of pairs) {
      const i = rows.find((r) => r.layout === l && r.pair === p && r.arm === a);
      const t = rows.find((r) => r.layout === l && r.pair === p && r.arm === 'pytorch');
      if (!i || !t) continue;
      speed.push(t.medianStepMs / i.medianStepMs);
      mem.push(i.peakRssMiB / t.peakRssMiB);
    }
    if (!speed.length) continue;
    console.log(`${l.padEnd(13)} ${a.padEnd(8)} speed vs PyTorch (PyTorch step / ${a} step): median ${median(speed).toFixed(2)} (pairs ${range(speed)}); peak RSS vs PyTorch: median ${median(mem).toFixed(2)} (pairs ${range(mem)}); ${speed.length} pairs`);
  }
}
const params = new Set(rows.map((r) => `${r.layout}:${r.numParameters}`));
if (params.size !== layouts.length) console.log(`WARNING: the frameworks built networks of different sizes: ${[...params].join(', ')}`);
const leaks = rows.filter((r) => r.liveTensors && r.liveTensors.atEnd !== r.liveTensors.afterWarmup);
if (leaks.length) console.log(`WARNING: ictorch's live tensor count grew in ${leaks.length} run(s)`);
EOF
