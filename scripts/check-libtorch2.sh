#!/usr/bin/env bash
# Builds the addon against a LibTorch 2.x and runs the test suite and the CUDA compile checks with it.
#
# The README's set-up, CI and the tests build against Debian's LibTorch 1.13; users, and the GPU machine
# (PyTorch 2.11), mostly have a 2.x, whose headers and behaviour differ. This script checks the same tree
# against one, in a copy of the tracked files beside the cache (the work tree and its build/ are not touched):
#   1. the addon built with LIBTORCH=<2.x>   (node scripts/install.js --build)
#   2. the whole test suite against it        (vitest; /usr/bin/python3 stays the machine's, Debian's torch 1.13)
#   3. scripts/check-cuda.sh against 2.x's headers (nvcc compiles the CUDA code the GPU machine will build)
#   4. where the wheel's Python part imports (with its Python dependencies from pip's configured index), the
#      test files that compare with Python, run again with the tests' python3 importing that torch 2.x
#
# Where LibTorch 2.x comes from, first found:
#   LIBTORCH2=<dir>              a LibTorch root (include/, lib/, share/cmake/Torch/TorchConfig.cmake)
#   ICTORCH_TORCH_WHEEL=<file>   a torch 2.x wheel for this machine's python3 (its torch/ is a LibTorch root)
#   /opt/wheels/torch-2*.whl     the newest such wheel on this machine (this workplace's images have one)
# With none of them it says so and exits 0. The wheel is unpacked once into the cache (ICTORCH_CACHE, default
# ~/.cache/ictorch), keyed by its name. Steps can be chosen: LT2_STEPS (default "build tests cuda python").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${ICTORCH_CACHE:-${HOME:-/tmp}/.cache/ictorch}
steps=" ${LT2_STEPS:-build tests cuda python} "
has() { [[ "$steps" == *" $1 "* ]]; }
say() { echo "check-libtorch2: $*"; }

wheel=
if [ -n "${LIBTORCH2:-}" ]; then
  lt=$LIBTORCH2
  [ -f "$lt/share/cmake/Torch/TorchConfig.cmake" ] || { say "LIBTORCH2=$lt has no share/cmake/Torch/TorchConfig.cmake" >&2; exit 1; }
else
  wheel=${ICTORCH_TORCH_WHEEL:-$(ls /opt/wheels/torch-2*.whl 2>/dev/null | sort -V | tail -1 || true)}
  if [ -z "$wheel" ]; then say "skipped: no LibTorch 2.x (set LIBTORCH2 or ICTORCH_TORCH_WHEEL)"; exit 0; fi
  [ -f "$wheel" ] || { say "ICTORCH_TORCH_WHEEL=$wheel is not a file" >&2; exit 1; }
  unpacked="$cache/$(basename "$wheel" .whl)"
  if [ ! -f "$unpacked/torch/share/cmake/Torch/TorchConfig.cmake" ]; then
    say "unpacking $(basename "$wheel") into $unpacked"
    rm -rf "$unpacked.tmp" && mkdir -p "$unpacked.tmp"
    python3 -m zipfile -e "$wheel" "$unpacked.tmp"
    rm -rf "$unpacked" && mv "$unpacked.tmp" "$unpacked"
  fi
  lt="$unpacked/torch"
fi

# The copy: the tracked files of the work tree as they are now (edits included), and the work tree's
# node_modules (JavaScript only; the addon is built in the copy).
work="$cache/libtorch2-check"
mkdir -p "$work"
src="$work/src"
rm -rf "$src" && mkdir -p "$src"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$src")
ln -s "$root/node_modules" "$src/node_modules"
export ICTORCH_SHARED_DATA=${ICTORCH_SHARED_DATA:-$(cd "$root/.." && pwd)/shared/data}
cd "$src"

# The addon's build directory survives between runs (the copy's build/ is a link to it), so ccache and ninja
# reuse what they can, and later steps can run alone (LT2_STEPS) on an earlier build. CMake keeps the include
# paths of the node_modules it was configured with (CMAKE_JS_INC): a build configured from another work tree
# (another clone, perhaps deleted since) would compile against its headers, so it is cleared first.
mkdir -p "$work/build"
if has build && [ "$(cat "$work/build/.ictorch-root" 2>/dev/null)" != "$root" ]; then
  rm -rf "$work/build" && mkdir -p "$work/build"
fi
ln -s "$work/build" build
if has build; then
  LIBTORCH="$lt" ICTORCH_NO_DOWNLOAD=1 node scripts/install.js --build >"$work/build.log" 2>&1 \
    || { grep -E "error|FAILED" "$work/build.log" | head -40; say "the build against $lt failed (log: $work/build.log)" >&2; exit 1; }
  # When an incremental build fails, cmake-js starts over by removing build/ (the link) and builds into a new
  # directory in the copy: keep that one, so that a later run of a step alone (LT2_STEPS) does not find the older
  # addon behind the link.
  if [ ! -L build ]; then
    say "the build started over (log: $work/build.log); keeping it in $work/build"
    rm -rf "$work/build" && mv build "$work/build" && ln -s "$work/build" build
  fi
  echo "$root" > "$work/build/.ictorch-root"
fi
[ -f build/Release/ictorch.node ] || { say "no addon built against $lt yet: run with the build step" >&2; exit 1; }
./node_modules/.bin/tsc -p .
node dist/cli.js info | head -2 | sed 's/^/check-libtorch2: /'

if has tests; then
  say "the test suite against that addon"
  ./node_modules/.bin/vitest run --reporter=dot
fi
if has cuda; then
  bash scripts/check-cuda.sh | sed 's/^/check-libtorch2: /'
fi
if has python; then
  # The torch 2.x of the wheel as the tests' python3 (/usr/bin/python3, test/helpers/torchpy.ts): its
  # pure-Python dependencies come from pip's configured index (none of them is a build or test dependency of
  # the project). Where they cannot be had, the step is skipped, and says so.
  py=/usr/bin/python3
  if [ -n "$wheel" ]; then
    pydeps="$work/python-deps"
    path2="$(dirname "$lt"):$pydeps"
    version=$(basename "$(dirname "$lt")" | sed -n 's/^torch-\([^-]*\)-.*/\1/p')
    sees() { PYTHONPATH="$path2" "$py" -c 'import torch; print(torch.__version__)' 2>/dev/null; }
    if [ "$(sees)" != "$version" ]; then
      "$py" -m pip install -q --retries 1 --timeout 20 --no-deps --target "$pydeps" \
        typing-extensions sympy mpmath networkx jinja2 markupsafe fsspec filelock >"$work/pip.log" 2>&1 || true
    fi
    if [ "$(sees)" = "$version" ]; then
      export PYTHONPATH="$path2"
      say "the tests that compare with Python, with $py importing torch $version"
      # Only the test files that reach Python (directly, or through a helper that does, however deep) can see the
      # other torch; the rest ran in the tests step against the same addon. torchvision is Debian's, built for
      # torch 1.13, and aborts python3 under another torch: the files that compare with it throughout are left
      # out (others skip their torchvision parts by themselves).
      reach="python3|PYTHON|torchpy|\\.py['\"]"
      helpers=torchpy prev=
      while [ "$helpers" != "$prev" ]; do
        prev=$helpers
        helpers=$(grep -l -E "$reach|/($prev)['\"]" test/helpers/*.ts | xargs -n1 basename | sed 's/\.ts$//' | sort -u | paste -sd'|')
      done
      files=$(grep -l -E "$reach|helpers/($helpers)['\"]" test/*.test.ts | grep -v -E '^test/(jpeg|image|imagenet|imagenet-train|models|readme)\.test\.ts$')
      say "$(echo "$files" | wc -l) of $(ls test/*.test.ts | wc -l) test files reach Python"
      # shellcheck disable=SC2086 # one path per word
      ./node_modules/.bin/vitest run --reporter=dot $files
    else
      say "python step skipped: $py does not import the wheel's torch $version (see $work/pip.log)"
    fi
  else
    say "python step skipped: LIBTORCH2 is a LibTorch root, not a wheel"
  fi
fi
say "done"
