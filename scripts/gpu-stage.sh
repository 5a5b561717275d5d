#!/usr/bin/env bash
# Prepares a GPU device run of scripts/gpu-check.sh within the 64 MiB a device call carries:
# Node 20 (../shared/gpu/stage), node_modules packed without TypeScript and @types (the TypeScript is
# compiled here into dist/, which travels instead), the CIFAR-10 archives the tests and evidence runs read.
# Then call the device tool with carry [".gpu", "dist"] and command `bash scripts/gpu-check.sh`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared=${ICTORCH_SHARED:-$root/../shared}
rm -rf .gpu
"$shared/gpu/stage" >/dev/null
cp "$shared/data/cifar10-jpg.tar.xz" "$shared/data/cifar10-bin-sample.tar.xz" .gpu/
tar cf - --exclude='node_modules/.cache' --exclude='node_modules/typescript' --exclude='node_modules/@types' node_modules | xz -6 -T0 > .gpu/node_modules.tar.xz
./node_modules/.bin/tsc -p .
du -sh .gpu dist
