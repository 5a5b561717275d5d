#!/usr/bin/env bash
# bench/train-throughput.sh: training-step throughput, ictorch against PyTorch in the same run, in one command.
# ResNet-110 (baseline, relu-ic-conv) and ResNet-164 ResNet-B (relu-ic-conv), batch 128, float32 and bf16:
#   (a) ictorch default   `ictorch train --device cuda`'s step: CUDA graph, channels-last, cuDNN benchmark
#   (b) ictorch eager     the same with --no-cuda-graph
#   (c) PyTorch eager     torch.optim.SGD, NCHW (cuDNN benchmark on)
#   (d) PyTorch graph     channels-last, the whole step captured in a CUDA graph (what an expert does without compiling)
# (bench/train-throughput.js, bench/train-throughput.py; networks asserted equal by parameter count), then a whole
# ictorch `fit` epoch (data, augmentation, step, metrics; BENCH_EPOCH_DATA). With bench/cuda-counters.so built
# (gcc), both sides count kernels launched and host synchronisations per step. Prints the card, driver and
# versions and one table of images/s and ratios; writes $out/throughput.jsonl.
#
#   bash bench/train-throughput.sh [out dir]
#   BENCH_SECONDS=2.5 BENCH_EPOCH_DATA=imagefolder:/tmp/cifar10-jpg bash bench/train-throughput.sh gpu-out
#   BENCH_SMALL=1 bash bench/train-throughput.sh        (CPU smoke run: ResNet-8, batch 16)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-gpu-out}}
mkdir -p "$out"
PYTHON=${PYTHON:-python3}
raw="$out/throughput.jsonl"
# BENCH_SUMMARY_ONLY=1: only print the summary of what an earlier (perhaps interrupted) run wrote to $raw.
if [ "${BENCH_SUMMARY_ONLY:-0}" != 1 ]; then
: >"$raw"
: >"$out/throughput-ictorch.log"
: >"$out/throughput-pytorch.log"
echo "card:     $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'no GPU (CPU smoke run)')"
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "versions: node $(node --version), ictorch $(node -p "require('./package.json').version") on LibTorch $(node -p "require('./dist').info().torchVersion"); $("$PYTHON" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version())')"
shim=
if command -v gcc >/dev/null && gcc -shared -fPIC -O2 -o "$out/cuda-counters.so" bench/cuda-counters.c -ldl 2>/dev/null; then shim="$PWD/$out/cuda-counters.so"; fi
run() { # run <counter file> <command...>
  local f=$1; shift
  if [ -n "$shim" ]; then CUDA_COUNTERS_FILE=$f LD_PRELOAD=$shim "$@"; else "$@"; fi
}
# Network by network, ictorch then PyTorch, so that an interrupted run still has both sides of what it measured.
nets="resnet110:baseline resnet110:relu-ic-conv resnet164b:relu-ic-conv resnet50:baseline resnet50:relu-ic-conv"
if [ "${BENCH_SMALL:-0}" = 1 ] || ! "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  nets="resnet8:baseline resnet8:relu-ic-conv"
fi
for n in ${BENCH_NETS:-$nets}; do
  BENCH_NETS=$n BENCH_PARTS=steps run "$out/counters-ictorch.bin" node bench/train-throughput.js >>"$raw" 2>>"$out/throughput-ictorch.log" || tail -5 "$out/throughput-ictorch.log"
  BENCH_NETS=$n run "$out/counters-pytorch.bin" "$PYTHON" bench/train-throughput.py >>"$raw" 2>>"$out/throughput-pytorch.log" || tail -5 "$out/throughput-pytorch.log"
done
BENCH_PARTS=fit node bench/train-throughput.js >>"$raw" 2>>"$out/throughput-ictorch.log" || tail -5 "$out/throughput-ictorch.log"

fi

node - "$raw" <<'EOF'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const steps = rows.filter((r) => r.kind !== 'fit-epoch');
const find = (fw, net, layout, precision, mode) => steps.find((r) => r.framework === fw && r.net === net && r.layout === layout && r.precision === precision && r.mode === mode);
const ips = (r) => (r && !r.error ? r.imagesPerSec : NaN);
const f0 = (v) => (Number.isFinite(v) ? Math.round(v).toString() : '–');
const f2 = (v) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const nets = [...new Set(steps.map((r) => `${r.net}|${r.layout}`))];
console.log('| network | precision | (a) ictorch default | (b) ictorch eager | (c) PyTorch eager | (d) PyTorch graph+CL | a/d (≥1.25) | a/c (≥3) |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const nl of nets) {
  const [net, layout] = nl.split('|');
  for (const p of ['fp32', 'bf16']) {
    const a = ips(find('ictorch', net, layout, p, 'default')), b = ips(find('ictorch', net, layout, p, 'eager'));
    const c = ips(find('pytorch', net, layout, p, 'eager')), d = ips(find('pytorch', net, layout, p, 'graph'));
    if ([a, b, c, d].every((v) => !Number.isFinite(v))) continue;
    console.log(`| ${net} ${layout} | ${p} | ${f0(a)} | ${f0(b)} | ${f0(c)} | ${f0(d)} | ${f2(a / d)} | ${f2(a / c)} |`);
  }
}
console.log('(images/s; CIFAR nets batch 128, ResNet-50 ImageNet 224x224 batch 256; a/d and a/c: the issue\'s goals for the CIFAR nets)');
for (const layout of ['baseline', 'relu-ic-conv']) {
  const a = ips(find('ictorch', 'resnet50', layout, 'bf16', 'default')), c = ips(find('pytorch', 'resnet50', layout, 'bf16', 'eager'));
  if (Number.isFinite(a / c)) console.log(`ResNet-50 ${layout} bf16 channels-last, batch 256: ictorch default / PyTorch eager = ${f2(a / c)} (goal ≥ 1.2)`);
}
for (const p of ['fp32', 'bf16']) {
  for (const [fw, mode] of [['ictorch', 'default'], ['ictorch', 'eager'], ['pytorch', 'eager'], ['pytorch', 'graph']]) {
    const base = ips(find(fw, 'resnet110', 'baseline', p, mode)), ic = ips(find(fw, 'resnet110', 'relu-ic-conv', p, mode));
    if (Number.isFinite(base / ic)) console.log(`ResNet-110 relu-ic-conv step time vs baseline, ${fw} ${mode} ${p}: ${((base / ic - 1) * 100).toFixed(1)}%${fw === 'ictorch' && mode === 'default' ? ' (goal ≤ 3%)' : ''}`);
  }
}
console.log();
console.log('| network | precision | framework | mode | runtime kernel launches/step | graph launches/step | host syncs/step | kernels/step (profiler) | GPU ms/step | GPU busy |');
console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of steps) {
  const v = (k) => (r[k] === undefined ? '–' : r[k]);
  console.log(`| ${r.net} ${r.layout} | ${r.precision} | ${r.framework} | ${r.mode} | ${v('runtimeLaunchesPerStep')} | ${v('graphLaunchesPerStep')} | ${v('syncsPerStep')} | ${v('kernelsPerStep')} | ${v('gpuMsPerStep')} | ${v('gpuBusy')} |${r.error ? ` error: ${r.error}` : ''}`);
}
for (const r of rows.filter((x) => x.kind === 'fit-epoch')) {
  const step = ips(find('ictorch', r.net, r.layout, r.precision, 'default'));
  console.log(`\nictorch fit on ${r.data}, ${r.net} ${r.layout} ${r.precision}: ${r.error ? `error: ${r.error}` : r.epochs.map((e) => `epoch ${e.epoch} ${e.imagesPerSec} img/s (${e.seconds} s)`).join(', ')}`
    + (Number.isFinite(step) && r.epochs?.length > 1 ? `; steady epoch / step-only throughput ${(r.epochs[r.epochs.length - 1].imagesPerSec / step).toFixed(2)}` : ''));
}
const params = new Map();
for (const r of steps) {
  const k = `${r.net}|${r.layout}`;
  if (params.has(k) && params.get(k) !== r.numParameters) console.log(`WARNING: ${k}: ictorch and PyTorch networks differ in size (${params.get(k)} vs ${r.numParameters})`);
  params.set(k, r.numParameters);
}
EOF
