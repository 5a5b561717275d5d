#!/usr/bin/env bash
# Proves binding.gyp still builds the addon, as C++20: node-gyp builds it in a scratch copy of the sources (node-gyp
# always writes ./build, which cmake-js owns here), then a smoke test loads that binary via ICTORCH_ADDON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/native" "$root/scripts" "$root/binding.gyp" "$root/package.json" "$work/"
ln -s "$root/node_modules" "$work/node_modules"
gyp="$root/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js"
# Node's headers: npm's configured nodedir where there is one (no download needed), else node-gyp's default.
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
args=()
[ -n "$nodedir" ] && [ "$nodedir" != "undefined" ] && [ -d "$nodedir/include/node" ] && args+=("--nodedir=$nodedir")
# As C++20 (what LibTorch 2.12 and later need; the cmake-js build uses the standard of the LibTorch it finds,
# C++17 for 1.13): so CI builds the same sources both ways.
(cd "$work" && CXX="${CXX:-g++}" ICTORCH_CXX_STANDARD=${ICTORCH_CXX_STANDARD:-20} node "$gyp" rebuild "${args[@]}" -j "$(nproc)" >"$work/gyp.log" 2>&1) || { tail -40 "$work/gyp.log"; echo "check-gyp: node-gyp build failed" >&2; exit 1; }
ICTORCH_ADDON="$work/build/Release/ictorch.node" node -e "
const t = require('$root/dist');
const x = t.tensor([[1, 2], [3, 4]]);
const s = x.matmul(x).sum().item();
if (s !== 54) throw new Error('check-gyp: wrong result ' + s);
// Both builds find Gloo alike (the cmake-js build is dist's default addon, read from its build record).
const cmakeGloo = require('$root/build/ictorch-build.json').gloo === 'ON';
if (t.distributed.isGlooAvailable() !== cmakeGloo) throw new Error('check-gyp: Gloo ' + t.distributed.isGlooAvailable() + ' in the node-gyp build, ' + cmakeGloo + ' in the cmake-js build');
// TorchScript is compiled in (native/jit.cc).
if (!t.jit.isAvailable()) throw new Error('check-gyp: the node-gyp build has no TorchScript');
console.log('check-gyp: node-gyp build loads and computes (' + t.info().torchVersion + '; Gloo ' + cmakeGloo + '; TorchScript)');
"
