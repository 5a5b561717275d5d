#!/usr/bin/env bash
# The GPU device run, in one call (issue 11): builds the addon against the machine's CUDA LibTorch (python3's
# torch), runs the GPU tests, then the benchmarks in priority order, each behind a time guard so the call always
# ends within its limit with whatever was measured written under $OUT:
#   1. accuracy    bench/cifar-accuracy.sh: ResNet baseline and relu-ic-conv, ictorch and PyTorch, on the real
#                  CIFAR-10; PyTorch's runs start while the addon builds, ictorch's when it is built
#   2. throughput  bench/train-throughput.sh: training steps (a)-(d), counts per step, a whole fit epoch
#   3. kernel      bench/ic-kernel.sh: the IC layer against BatchNorm2d + Dropout, copy bandwidth
# Prepare it here with
#   bash scripts/gpu-stage.sh
# and make ONE device call from the project root (the command limit is 600 s; this uses GPU_BUDGET of it):
#   command: bash scripts/gpu-check.sh        carry: [".gpu", "dist"]
# Settings (environment): GPU_BUDGET seconds for the whole command (570), ACC_UNTIL seconds from the start at
# which the accuracy runs stop (330), ACC_EPOCHS epochs scheduled (10), GPU_STAGES (default
# "tests accuracy throughput kernel"; a second call can run e.g. GPU_STAGES=kernel), GPU_TESTS (test files),
# GPU_SKIP_BUILD=1 (use the addon an earlier call built on the same, still warm, machine).
set -uo pipefail
start=$(date +%s)
budget=${GPU_BUDGET:-570}
end=$((start + budget))
stages=" ${GPU_STAGES:-tests accuracy throughput kernel} "
has() { [[ "$stages" == *" $1 "* ]]; }
left() { echo $((end - $(date +%s))); }
out=${OUT:-gpu-out}
mkdir -p "$out"
log() { echo "[$(( $(date +%s) - start ))s] $*"; }

source .gpu/remote-setup.sh >"$out/setup.log" 2>&1 || { cat "$out/setup.log"; exit 1; }
tail -2 "$out/setup.log"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
export ICTORCH_NO_DOWNLOAD=1 CMAKE_BUILD_PARALLEL_LEVEL=$(nproc)
export ICTORCH_SHARED_DATA=$PWD/.gpu   # the data archives the tests read (../shared/data here)
cifar=
[ -d /tmp/cifar10-jpg/train ] && cifar=/tmp/cifar10-jpg
[ -z "$cifar" ] && [ -d "$(ls -d /tmp/cifar10-jpg/*/ 2>/dev/null | head -1)train" ] && cifar=$(ls -d /tmp/cifar10-jpg/*/ | head -1 | sed 's#/$##')

# ---- 1a. accuracy: PyTorch's runs need no addon, so they start now; ictorch's wait for the build (marker file).
built="$out/.built"
rm -f "$built"
acc_pid=
if has accuracy && [ -n "$cifar" ]; then
  ACC_DEADLINE=$((start + ${ACC_UNTIL:-330})) ACC_EPOCHS=${ACC_EPOCHS:-10} ACC_WAIT_FOR="$built" \
    bash bench/cifar-accuracy.sh "$cifar" "$out/accuracy" >"$out/accuracy.txt" 2>&1 &
  acc_pid=$!
  log "accuracy runs started (PyTorch now, ictorch after the build)"
elif has accuracy; then
  log "accuracy skipped: no CIFAR-10 JPEGs under /tmp/cifar10-jpg (stage them with scripts/gpu-stage.sh)"
fi

# ---- build
# libjpeg-turbo staged by gpu-stage.sh: found by find_package(JPEG) through CMAKE_PREFIX_PATH, loaded at run time.
if [ -f .gpu/jpeg/include/jpeglib.h ]; then
  export CMAKE_PREFIX_PATH="$PWD/.gpu/jpeg${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export LD_LIBRARY_PATH="$PWD/.gpu/jpeg/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
t0=$(date +%s)
if [ "${GPU_SKIP_BUILD:-0}" = 1 ] && [ -f build/Release/ictorch.node ]; then
  echo "build skipped (GPU_SKIP_BUILD=1)" >"$out/build.log"; rc=0
else
  timeout $(( $(left) - 60 )) node scripts/install.js --build >"$out/build.log" 2>&1
  rc=$?
  # Process groups and TorchScript are not what this run measures, and their files (c10d/Gloo, torch/script.h)
  # have only been compiled against LibTorch 1.13: if one of them is what broke the build, build once more
  # without it rather than lose the run (each failed log is kept as build-failed-N.log).
  # (ninja's "FAILED: ...native/<file>.cc.o" or the compiler's "native/<file>.cc:L:C: error").
  failed_in() { grep -qE "(FAILED: .*native/$1\.cc|native/$1\.cc:[0-9]+(:[0-9]+)?: (fatal )?error)" "$out/build.log"; }
  # Twice at most: the build stops at its first failed file, so the other may fail on the second try.
  for attempt in 1 2; do
    [ $rc -ne 0 ] && { failed_in distributed || failed_in jit; } || break
    failed_in distributed && export ICTORCH_GLOO=0
    failed_in jit && export ICTORCH_JIT=0
    log "build failed in native/distributed.cc or native/jit.cc (see build-failed-$attempt.log); building again with ICTORCH_GLOO=${ICTORCH_GLOO:-1} ICTORCH_JIT=${ICTORCH_JIT:-1}"
    cp "$out/build.log" "$out/build-failed-$attempt.log"
    timeout $(( $(left) - 60 )) node scripts/install.js --build >"$out/build.log" 2>&1
    rc=$?
  done
fi
log "build rc=$rc in $(( $(date +%s) - t0 )) s"
if [ $rc -ne 0 ]; then
  echo failed >"$built"
  grep -E "error|Error" "$out/build.log" | head -40; tail -30 "$out/build.log"
  [ -n "$acc_pid" ] && wait "$acc_pid"
  exit 1
fi
if [ -x node_modules/.bin/tsc ]; then ./node_modules/.bin/tsc -p . || { echo failed >"$built"; exit 1; }; fi
echo ok >"$built"
node dist/cli.js info | head -12

# ---- GPU tests (beside the accuracy runs: the GPU has room, and tests do not time anything)
if has tests; then
  t0=$(date +%s)
  timeout $(( $(left) > 150 ? 150 : $(left) )) ./node_modules/.bin/vitest run --reporter=dot ${GPU_TESTS:-test/gpu.test.ts test/ic.test.ts test/ic-fused-emulation.test.ts} >"$out/tests.log" 2>&1
  log "tests rc=$? in $(( $(date +%s) - t0 )) s"
  grep -E "✓|×|FAIL|Tests|Test Files|AssertionError|Error:" "$out/tests.log" | grep -v "^ *✓" | tail -30
fi

# ---- 1b. accuracy: wait for the runs (they stop themselves at ACC_UNTIL)
if [ -n "$acc_pid" ]; then
  wait "$acc_pid"
  log "accuracy done"
  cat "$out/accuracy.txt"
fi

# ---- 2. throughput (alone on the GPU)
if has throughput && [ "$(left)" -gt 60 ]; then
  t0=$(date +%s)
  BENCH_SECONDS=${BENCH_SECONDS:-1.5} BENCH_EPOCH_DATA=${cifar:+imagefolder:$cifar} BENCH_EPOCHS=${BENCH_EPOCHS:-2} \
    timeout $(( $(left) - 15 )) bash bench/train-throughput.sh "$out" >"$out/throughput.txt" 2>&1
  rc=$?
  log "throughput rc=$rc in $(( $(date +%s) - t0 )) s"
  [ $rc -eq 124 ] && BENCH_SUMMARY_ONLY=1 bash bench/train-throughput.sh "$out" >>"$out/throughput.txt" 2>&1  # stopped by its guard
  cat "$out/throughput.txt"
fi

# ---- 3. the IC kernel
if has kernel && [ "$(left)" -gt 30 ]; then
  t0=$(date +%s)
  BENCH_CASE_MS=${BENCH_CASE_MS:-150} timeout $(( $(left) - 5 )) bash bench/ic-kernel.sh "$out" >"$out/ic-kernel.txt" 2>&1
  rc=$?
  log "kernel rc=$rc in $(( $(date +%s) - t0 )) s"
  [ $rc -eq 124 ] && BENCH_SUMMARY_ONLY=1 bash bench/ic-kernel.sh "$out" >>"$out/ic-kernel.txt" 2>&1
  cat "$out/ic-kernel.txt"
fi
log "done ($(left) s of the budget left)"
