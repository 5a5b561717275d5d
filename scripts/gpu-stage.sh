#!/usr/bin/env bash
# Prepares a GPU device run of scripts/gpu-check.sh within the 64 MiB a device call carries:
# Node 20 (../shared/gpu/stage), node_modules packed without TypeScript, @types and typedoc with its syntax
# highlighter (the TypeScript is compiled here into dist/, which travels instead; the docs test skips there), the CIFAR-10 JPEG archive the benchmarks read.
# Then call the device tool with carry [".gpu", "dist"] and command `bash scripts/gpu-check.sh`. The whole
# travelling tree (tracked files, .gpu, dist) must stay under 64 MiB: the sizes are printed at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared=${ICTORCH_SHARED:-}
if [ -z "$shared" ]; then  # ../shared beside the checkout, or beside its parent (a worktree under wt/)
  for d in "$root/../shared" "$root/../../shared"; do [ -x "$d/gpu/stage" ] && { shared=$(cd "$d" && pwd); break; }; done
fi
[ -n "$shared" ] || { echo "gpu-stage: cannot find ../shared/gpu/stage; set ICTORCH_SHARED" >&2; exit 1; }
rm -rf .gpu
# The shared stage script fills its Node cache and copies Node and remote-setup.sh into .gpu; in a git worktree
# it stops early (it writes .git/info/exclude, and .git is a file there), so the two copies are made here too.
"$shared/gpu/stage" >/dev/null 2>&1 || true
node_tar=${XDG_CACHE_HOME:-$HOME/.cache}/ictorch-gpu/node-20.20.2-linux-x64.tar.xz
[ -s "$node_tar" ] || { echo "gpu-stage: $node_tar is missing (the shared stage script could not fetch Node)" >&2; exit 1; }
mkdir -p .gpu
[ -f .gpu/node20-linux-x64.tar.xz ] || cp "$node_tar" .gpu/node20-linux-x64.tar.xz
cp "$shared/gpu/remote-setup.sh" .gpu/
# libjpeg-turbo's headers and library (~0.6 MiB), so the GPU build has the native JPEG decoder (the GPU machine
# has no -dev packages; without them the image loaders fall back to sharp there). gpu-check.sh points the build
# (CMAKE_PREFIX_PATH) and the loader (LD_LIBRARY_PATH) at .gpu/jpeg.
lib=$(ls /usr/lib/x86_64-linux-gnu/libjpeg.so.62.* 2>/dev/null | head -1 || true)
if [ -f /usr/include/jpeglib.h ] && [ -n "$lib" ]; then
  mkdir -p .gpu/jpeg/include .gpu/jpeg/lib
  cp /usr/include/jpeglib.h /usr/include/jmorecfg.h /usr/include/jerror.h .gpu/jpeg/include/
  cp "$(ls /usr/include/*/jconfig.h /usr/include/jconfig.h 2>/dev/null | head -1)" .gpu/jpeg/include/jconfig.h
  cp "$lib" .gpu/jpeg/lib/libjpeg.so.62
  cp "$lib" .gpu/jpeg/lib/libjpeg.so  # a copy, not a link: links may not travel in a device call
else
  echo "gpu-stage: libjpeg62-turbo-dev is not installed here; the GPU build will decode JPEGs with sharp" >&2
fi
# The real CIFAR-10 JPEGs (the accuracy runs and the fit epoch); the GPU tests read no other archive.
cp "$shared/data/cifar10-jpg.tar.xz" .gpu/
# node_modules may be a symlink (worktrees): archive what it points to, under the name node_modules.
modules=$(readlink -f node_modules)
tar cf - -C "$(dirname "$modules")" --transform "s#^$(basename "$modules")#node_modules#" \
  --exclude='*/.cache' --exclude="$(basename "$modules")/typescript" --exclude="$(basename "$modules")/@types" \
  --exclude="$(basename "$modules")/typedoc" --exclude="$(basename "$modules")/@shikijs" --exclude="$(basename "$modules")/@gerrit0" \
  "$(basename "$modules")" | xz -6 -T0 > .gpu/node_modules.tar.xz
./node_modules/.bin/tsc -p .
du -sh .gpu dist
echo "tracked files: $(git ls-files -z | du -ch --files0-from=- | tail -1 | cut -f1)"
