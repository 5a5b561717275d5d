#!/usr/bin/env bash
# bench/ic-kernel.sh: the IC layer's kernels against PyTorch's BatchNorm2d + Dropout, in one command
# (bench/ic-kernel.js, bench/ic-kernel.py: what is measured and how). Prints the comparison per shape, dtype and
# memory format, with the effective bandwidth of ictorch's layer against the device-to-device copy measured in
# the same run; writes $out/ic-kernel.jsonl.
#
#   bash bench/ic-kernel.sh [out dir]        BENCH_CASE_MS=250 per timing; BENCH_SMALL=1 (or no GPU): smoke run
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-gpu-out}}
mkdir -p "$out"
PYTHON=${PYTHON:-python3}
raw="$out/ic-kernel.jsonl"
# BENCH_SUMMARY_ONLY=1: only print the summary of what an earlier (perhaps interrupted) run wrote to $raw.
if [ "${BENCH_SUMMARY_ONLY:-0}" != 1 ]; then
: >"$raw"
: >"$out/ic-kernel-ictorch.log"
: >"$out/ic-kernel-pytorch.log"
both() { # both <env...>: ictorch then PyTorch with these settings
  env "$@" node bench/ic-kernel.js >>"$raw" 2>>"$out/ic-kernel-ictorch.log" || tail -5 "$out/ic-kernel-ictorch.log"
  env "$@" "$PYTHON" bench/ic-kernel.py >>"$raw" 2>>"$out/ic-kernel-pytorch.log" || tail -5 "$out/ic-kernel-pytorch.log"
}
# Shape by shape, ictorch then PyTorch, so that an interrupted run still has both sides of what it measured.
shapes="128x16x32x32 128x32x16x16 128x64x8x8 256x256x56x56"
if [ "${BENCH_SMALL:-0}" = 1 ] || ! "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then shapes="8x16x8x8 8x32x4x4"; fi
both BENCH_PARTS=copy
for s in $shapes; do both BENCH_SHAPES=$s BENCH_PARTS=eager,captured; done

fi

node - "$raw" <<'EOF'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const get = (fw, kind, shape, dtype, format, impl) =>
  rows.find((r) => r.framework === fw && r.kind === kind && String(r.shape) === String(shape) && r.dtype === dtype && (format === undefined || r.format === format) && (impl === undefined || r.impl === impl));
const f = (v, d = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
const mib = (v) => (typeof v === 'number' ? (v / 2 ** 20).toFixed(1) : '–');
const shapes = [...new Set(rows.filter((r) => r.kind === 'eager').map((r) => String(r.shape)))];
const copy = (fw, dtype) => get(fw, 'copy', rows.find((r) => r.kind === 'copy')?.shape, dtype);
for (const dtype of ['float32', 'bfloat16']) {
  const c = copy('ictorch', dtype), cp = copy('pytorch', dtype);
  console.log(`copy bandwidth ${dtype}: ictorch ${f(c?.gbPerSec, 0)} GB/s, PyTorch ${f(cp?.gbPerSec, 0)} GB/s`);
}
console.log();
console.log('| shape | dtype | format | eager ms: ictorch fused | ictorch composite | PyTorch BN+Dropout | fused/PyTorch (≤0.6) | captured ms: ictorch | PyTorch | ictorch/PyTorch | ictorch eff. GB/s (% of copy, ≥70%) | peak extra MiB: ictorch | PyTorch |');
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const s of shapes) {
  const shape = s.split(',').map(Number);
  const elems = shape.reduce((a, b) => a * b, 1);
  for (const dtype of ['float32', 'bfloat16']) {
    for (const format of ['contiguous', 'channelsLast']) {
      const fu = get('ictorch', 'eager', s, dtype, format, 'fused'), co = get('ictorch', 'eager', s, dtype, format, 'composite'), pt = get('pytorch', 'eager', s, dtype, format);
      const ci = get('ictorch', 'captured', s, dtype, format), cpt = get('pytorch', 'captured', s, dtype, format);
      // Useful traffic of forward + backward: read x, write y; read g and x, write dx (5 tensors).
      const bytes = 5 * elems * (dtype === 'float32' ? 4 : 2);
      const best = Math.min(...[fu?.ms, ci?.ms].filter((v) => typeof v === 'number' && v > 0));
      const gbs = Number.isFinite(best) ? bytes / best / 1e6 : NaN;
      const copyBw = copy('ictorch', dtype)?.gbPerSec;
      console.log(`| [${s}] | ${dtype} | ${format} | ${f(fu?.ms)} | ${f(co?.ms)} | ${f(pt?.ms)} | ${f(fu?.ms / pt?.ms, 2)} | ${f(ci?.ms)} | ${f(cpt?.ms)} | ${f(ci?.ms / cpt?.ms, 2)} | ${f(gbs, 0)} (${f((100 * gbs) / copyBw, 0)}%) | ${mib(fu?.peakExtraBytes)} | ${mib(pt?.peakExtraBytes)} |`);
    }
  }
}
console.log('(eager: one forward + backward launched op by op, input needing its gradient; captured: the layer\'s share of a CUDA-graph training step,');
console.log(' [layer, avgpool, fc] minus [avgpool, fc], input needing no gradient in both; effective bandwidth: 5 tensors of traffic over the faster of the two ictorch times)');
const prof = rows.filter((r) => r.framework === 'pytorch' && r.kind === 'eager' && r.kernels !== undefined);
if (prof.length) console.log(`PyTorch BN+Dropout eager: ${[...new Set(prof.map((r) => r.kernels))].join('/')} kernels per forward+backward (torch.profiler)`);
for (const r of rows.filter((x) => x.error)) console.log(`error: ${r.framework} ${r.kind} [${r.shape}] ${r.dtype} ${r.format}: ${r.error}`);
EOF
