#!/usr/bin/env bash
# Compile-checks the CUDA code paths on a machine with nvcc but no GPU and a CPU-only LibTorch (CI, and most
# sessions): the fused IC kernel (native/ic/*.cu) through nvcc, and every C++ file that has an
# `#ifdef ICTORCH_WITH_CUDA` branch through the host compiler with that branch on. Nothing of that is linked or
# run: it catches compile errors in GPU-only code before a GPU machine sees it, not wrong results. Wrong results
# of the fused IC kernels' maths are caught first by test/native/ic_fused_emulation.cc (host g++, no nvcc needed),
# which runs native/ic/ic_fused.h block by block against a float64 reference.
#
# The LibTorch headers come from the build (build/ictorch-build.json). A compile-only CUDA toolkit may lack
# the CUDA library headers that ATen's CUDA headers include (cuBLAS, cuSPARSE, cuSOLVER, cuRAND); for each
# one that is missing, a declaration-only stand-in is written to a scratch include directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# The fused IC kernels' maths (native/ic/ic_fused.h) compiled for the host and run in a sequential emulation of
# their grids against a float64 reference: this needs only g++, so it runs first, with or without nvcc.
emu=$(mktemp)
if "${CXX:-g++}" -std=c++17 -O2 -Inative test/native/ic_fused_emulation.cc -o "$emu" && "$emu" >"$emu.log"; then
  echo "check-cuda: fused IC kernel maths emulated on the CPU: $(tail -1 "$emu.log")"
  rm -f "$emu" "$emu.log"
else
  cat "$emu.log" 2>/dev/null | grep -v '^ok ' | head -40; rm -f "$emu" "$emu.log"
  echo "check-cuda: the fused IC kernel emulation failed" >&2; exit 1
fi
nvcc=${NVCC:-$(command -v nvcc || true)}
if [ -z "$nvcc" ]; then echo "check-cuda: nvcc checks skipped (no nvcc on PATH; set NVCC to check the CUDA code)"; exit 0; fi
info=build/ictorch-build.json
[ -f "$info" ] || { echo "check-cuda: $info is missing: build the addon first (npm install)" >&2; exit 1; }
prefix=$(node -p "require('./$info').torchPrefix")
cuda_home=$(dirname "$(dirname "$(readlink -f "$nvcc")")")
# nvcc may be a wrapper script: ask it where its toolkit is.
[ -f "$cuda_home/include/cuda_runtime.h" ] || cuda_home=$("$nvcc" -v -x cu -E /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p' | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

has() { [ -f "$cuda_home/include/$1" ] || [ -f "$prefix/include/$1" ]; }
stub() { has "$1" || { mkdir -p "$(dirname "$work/stubs/$1")"; cat >"$work/stubs/$1"; }; }
stub cublas_v2.h <<'H'
#pragma once
#include <cuda_runtime.h>
typedef struct cublasContext* cublasHandle_t;
typedef int cublasStatus_t;
H
stub cublasLt.h <<'H'
#pragma once
typedef struct cublasLtContext* cublasLtHandle_t;
H
stub cusparse.h <<'H'
#pragma once
typedef struct cusparseContext* cusparseHandle_t;
typedef int cusparseStatus_t;
H
stub cusolverDn.h <<'H'
#pragma once
#include <cusolver_common.h>
typedef struct cusolverDnContext* cusolverDnHandle_t;
H
stub cusolver_common.h <<'H'
#pragma once
typedef int cusolverStatus_t;
H
stub curand_kernel.h <<'H'
#pragma once
#include <vector_types.h>
// Declaration-compatible with cuRAND's Philox4x32-10 round function; the body only lets ptxas finish.
__device__ inline uint4 curand_Philox4x32_10(uint4 c, uint2 k) { return c; }
H
# CUDA builds of LibTorch generate this header; CPU packages ship c10/cuda without it.
stub c10/cuda/impl/cuda_cmake_macros.h <<'H'
#pragma once
H

node_inc=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
[ -f "$node_inc/node_api.h" ] || node_inc=$(ls -d "$HOME"/.cmake-js/node-*/v"$(node -v | tr -d v)"/include/node 2>/dev/null | head -1)
addon_inc=$(node -p "require('node-addon-api').include_dir")
incs=(-Inative -I"$addon_inc" -I"$node_inc" -I"$work/stubs" -I"$prefix/include" -I"$prefix/include/torch/csrc/api/include" -I"$cuda_home/include")
defs=(-DICTORCH_WITH_CUDA=1 -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED)

status=0
# nvcc at the standard of the build (17 with LibTorch up to 2.11: 1.13's headers are not C++20 code for nvcc's
# front end); the host files at both standards the build can use (20 for LibTorch 2.12 and later).
nvcc_std=$(node -p "require('./$info').cxxStandard || 17")
for cu in $(grep '\.cu$' native/sources.txt); do
  if "$nvcc" -std=c++"$nvcc_std" -arch=sm_90 --expt-relaxed-constexpr "${defs[@]}" "${incs[@]}" -c "$cu" -o "$work/out.o" 2>"$work/log"; then
    echo "check-cuda: $cu compiles (nvcc, sm_90, C++$nvcc_std)"
    { grep -v 'Wdeprecated' "$work/log" | grep -iE 'warning|remark' | head -20; } || true
  else
    { grep -v 'Wdeprecated' "$work/log" | head -40; } || true
    echo "check-cuda: $cu failed to compile (C++$nvcc_std)" >&2; status=1
  fi
done
for std in 17 20; do
  for cc in $(grep -l 'ICTORCH_WITH_CUDA' $(grep '\.cc$' native/sources.txt)); do
    if "${CXX:-g++}" -std=c++"$std" -fsyntax-only "${defs[@]}" "${incs[@]}" "$cc" 2>"$work/log"; then
      echo "check-cuda: $cc compiles with ICTORCH_WITH_CUDA (C++$std)"
    else
      head -40 "$work/log"; echo "check-cuda: $cc failed to compile with ICTORCH_WITH_CUDA (C++$std)" >&2; status=1
    fi
  done
done
exit $status
