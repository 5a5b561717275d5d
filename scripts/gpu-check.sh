#!/usr/bin/env bash
# The GPU device run, in one call: build the addon against the machine's CUDA LibTorch (python3's torch),
# run the whole test suite there (GPU tests included), then the GPU benchmarks and the ResNet-110 CIFAR-10
# runs (bench/gpu.sh). Prepare it here with
#   bash scripts/gpu-stage.sh
# and run it on the device machine (carry [".gpu", "dist"]):
#   bash scripts/gpu-check.sh            (logs and results under $OUT, or ./gpu-out)
# GPU_TESTS limits the test files (e.g. "test/gpu.test.ts"); GPU_EPOCHS sets the ResNet-110 runs' epochs (15).
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
source .gpu/remote-setup.sh
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
export ICTORCH_NO_DOWNLOAD=1 CMAKE_BUILD_PARALLEL_LEVEL=$(nproc)
t0=$(date +%s)
node scripts/install.js --build >"$out/build.log" 2>&1
rc=$?
echo "build rc=$rc in $(( $(date +%s) - t0 )) s"
if [ $rc -ne 0 ]; then grep -E "error|Error" "$out/build.log" | head -40; tail -30 "$out/build.log"; exit 1; fi
if [ -x node_modules/.bin/tsc ]; then ./node_modules/.bin/tsc -p . || exit 1; fi
export ICTORCH_SHARED_DATA=$PWD/.gpu   # the data archives the tests read (../shared/data here)
node dist/cli.js info
t0=$(date +%s)
./node_modules/.bin/vitest run --reporter=dot ${GPU_TESTS:-} >"$out/tests.log" 2>&1
echo "tests rc=$? in $(( $(date +%s) - t0 )) s"
tail -40 "$out/tests.log"
if [ -f bench/gpu.sh ]; then bash bench/gpu.sh "$out" 2>&1 | tail -40; fi
