#!/usr/bin/env bash
# bench/ic-cpu.sh: ictorch's IC layer vs PyTorch's BatchNorm2d + Dropout in a ResNet-20 CPU training step.
#
# Runs bench/ic-cpu.js (ictorch) and bench/ic-cpu.py (PyTorch, Debian's python3-torch on the same LibTorch)
# alternately, node, python, node, python, ... BENCH_RUNS times (default 3), so that load from other processes
# falls on both; each run itself interleaves the two layouts over BENCH_ROUNDS rounds. Prints the machine,
# versions and a markdown table of medians: images/s per layout and framework, ictorch/PyTorch, and the IC
# layout's extra step time over each framework's own baseline.
#
#   bash bench/ic-cpu.sh
#   BENCH_RUNS=3 BENCH_ROUNDS=3 BENCH_STEPS=10 BENCH_WARMUP=2 PYTHON=/usr/bin/python3 bash bench/ic-cpu.sh
#   BENCH_RAW=/tmp/ic-cpu.jsonl bash bench/ic-cpu.sh    # also keep each run's JSON line
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -f dist/index.js ] || { echo "dist/ is missing: run npx tsc -p . first" >&2; exit 1; }
"$PYTHON" -c 'import torch' 2>/dev/null || { echo "$PYTHON cannot import torch (install Debian's python3-torch)" >&2; exit 1; }

# Waits (up to BENCH_QUIET_WAIT seconds, default 120) until the CPUs have been at least 90% idle for 2 s, so a
# run does not start while a compile or a test run from elsewhere is using the cores; says when it gave up.
idle_pct() {
  local a b
  a=($(sed -n 's/^cpu  //p' /proc/stat)); sleep 2; b=($(sed -n 's/^cpu  //p' /proc/stat))
  local total=0 i
  for i in "${!a[@]}"; do total=$((total + b[i] - a[i])); done
  echo $(( total > 0 ? 100 * (b[3] + b[4] - a[3] - a[4]) / total : 100 ))
}
wait_quiet() {
  local waited=0 limit=${BENCH_QUIET_WAIT:-120} idle
  while idle=$(idle_pct); [ "$idle" -lt 90 ]; do
    if [ "$waited" -ge "$limit" ]; then echo "  (CPUs still busy, ${idle}% idle, after ${waited}s: running anyway)" >&2; return; fi
    waited=$((waited + 2))
  done
  [ "$waited" -gt 0 ] && echo "  (waited ${waited}s for idle CPUs)" >&2
  return 0
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT

cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
echo "CPU:      ${cpu:-unknown}, $(nproc) cores available ($(lscpu | sed -n 's/^CPU(s):[[:space:]]*//p' | head -1) online)"
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "addon:    build/Release/ictorch.node sha256 $(sha256sum build/Release/ictorch.node | cut -c1-12), built $(date -u -r build/Release/ictorch.node '+%Y-%m-%d %H:%M UTC')"
echo "node:     $(node --version); ictorch $(node -p "require('./package.json').version"), LibTorch $(node -p "require('./dist').info().torchVersion")"
echo "python:   $("$PYTHON" -c 'import platform, torch; print(f"Python {platform.python_version()}; torch {torch.__version__} from {torch.__file__}")')"
echo "settings: runs=$RUNS rounds=${BENCH_ROUNDS:-3} steps=${BENCH_STEPS:-10} warmup=${BENCH_WARMUP:-2} batch=${BENCH_BATCH:-128}"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before)"
echo

for i in $(seq 1 "$RUNS"); do
  echo "run $i/$RUNS: ictorch" >&2
  wait_quiet
  node bench/ic-cpu.js --json >>"$out"
  echo "run $i/$RUNS: pytorch" >&2
  wait_quiet
  "$PYTHON" bench/ic-cpu.py --json >>"$out"
done

echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, after)"
[ -n "${BENCH_RAW:-}" ] && cp "$out" "$BENCH_RAW"  # the raw JSON lines, one per run
echo

node - "$out" <<'EOF'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const by = (fw) => rows.filter((r) => r.framework === fw);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const layouts = ['baseline', 'relu-ic-conv'];
const fws = { ictorch: by('ictorch'), pytorch: by('pytorch') };
// images/s: median over runs of each run's median over rounds; IC cost: median of all per-round paired ratios.
const ips = (fw, l) => median(fws[fw].map((r) => r.imagesPerSec[l]));
const overhead = (fw) => median(fws[fw].flatMap((r) => r.icOverheadPerRound));
const spread = (fw, l) => {
  const v = fws[fw].flatMap((r) => r.perRound[l]);
  return `${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)}`;
};
const pct = (q) => `${q >= 0 ? '+' : ''}${(100 * q).toFixed(1)}%`;

const t = fws.ictorch[0], p = fws.pytorch[0];
console.log(`threads: ictorch ${t.threads}, PyTorch ${p.threads}; batch ${t.batch}; ${t.steps} timed steps x ${t.rounds} rounds per layout per run; ${fws.ictorch.length} runs each`);
console.log();
console.log('| layout | ictorch img/s | PyTorch img/s | ictorch/PyTorch |');
console.log('| --- | ---: | ---: | ---: |');
for (const l of layouts) {
  const a = ips('ictorch', l), b = ips('pytorch', l);
  const name = l === 'baseline' ? 'baseline (conv-bn-relu)' : 'relu-ic-conv (IC, dropRate 0.1)';
  console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)} |`);
}
const oi = overhead('ictorch'), op = overhead('pytorch');
console.log(`| IC step time vs own baseline | ${pct(oi)} | ${pct(op)} | |`);
console.log();
console.log('per-round ranges (img/s):');
for (const fw of ['ictorch', 'pytorch']) {
  console.log(`  ${fw.padEnd(8)} ${layouts.map((l) => `${l} ${spread(fw, l)}`).join(', ')}; IC cost per round ${fws[fw].flatMap((r) => r.icOverheadPerRound).map(pct).join(' ')}`);
}
const best = (fw, l) => Math.max(...fws[fw].flatMap((r) => r.perRound[l]));
console.log(`  fastest rounds (least disturbed by other load): IC cost ictorch ${pct(best('ictorch', 'baseline') / best('ictorch', 'relu-ic-conv') - 1)}, PyTorch ${pct(best('pytorch', 'baseline') / best('pytorch', 'relu-ic-conv') - 1)}`);
console.log();
console.log(`ictorch IC cost ${pct(oi)} over its baseline: ${oi <= 0.1 ? 'within' : 'MISSES'} the 10% target`);
console.log(`PyTorch BatchNorm2d + Dropout(0.1) costs ${pct(op)} over BatchNorm alone`);

// The two scripts must have built the same networks.
for (const l of layouts) {
  const sig = new Set(rows.map((r) => `${r.numParameters[l]}/${r.paramSignature[l]}`));
  if (sig.size !== 1) console.log(`WARNING: ${l}: the frameworks built different networks (parameters/shape signatures: ${[...sig].join(', ')})`);
}
const leaks = fws.ictorch.filter((r) => r.liveTensors.atEnd !== r.liveTensors.afterWarmup);
if (leaks.length) console.log(`WARNING: ictorch's live tensor count grew during ${leaks.length} run(s)`);
EOF
