#!/usr/bin/env node
'use strict';
// find-libtorch.js: locates a LibTorch installation for building the ictorch addon.
//
// Search order (the first hit wins; every step is recorded with what it found or why it failed):
//   a. env LIBTORCH            a LibTorch root holding share/cmake/Torch/TorchConfig.cmake
//   b. env Torch_DIR, then each entry of env CMAKE_PREFIX_PATH
//   c. python: $PYTHON, python3, /usr/bin/python3 (`import torch`, with a timeout)
//   d. a system install (Debian/Ubuntu libtorch-dev, /usr/local, /usr)
//   e. the official LibTorch archive, from the cache dir or (when allowed) downloaded,
//      verified against a pinned SHA-256 and extracted there
//
// Library use:  const { findLibTorch } = require('./find-libtorch');
//               const info = await findLibTorch({ allowDownload: true, log: console.log });
// CLI use:      node scripts/find-libtorch.js [--download] [--verbose]
//                 [--field NAME | --gyp-include-dirs | --gyp-libraries | --gyp-cxx-std]
// Download settings: ICTORCH_NO_DOWNLOAD (never download), ICTORCH_CACHE (default ~/.cache/ictorch),
// ICTORCH_CUDA (cpu | 1 | a CUDA version such as 12.8 or 13.0; unset: CUDA if nvidia-smi shows a
// GPU), ICTORCH_LIBTORCH_VERSION (pick among the pinned versions), ICTORCH_LIBTORCH_URL together
// with ICTORCH_LIBTORCH_SHA256 (any other archive).
// Only Node built-ins are used: this runs before anything in the package is compiled.

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const os = require('os');
const path = require('path');

// ---------------------------------------------------------------------------------------------
// Pinned official LibTorch archives (linux x86_64, cxx11 ABI, shared-with-deps).
//
// Only SHA-256 values of the .zip archives themselves that were found published elsewhere are
// listed, each with where it was found. (nixpkgs' libtorch-bin hashes were NOT used: those are
// fetchzip/NAR hashes of the unpacked tree, not of the archive; e.g. nixpkgs' 1.13.0+cpu value
// differs from the archive's SHA-256.) From 2.7 on every official LibTorch build uses the cxx11
// ABI and the archive name lost its "cxx11-abi-" prefix (pytorch/pytorch PR #149443); before 2.7
// the plain "libtorch-shared-with-deps-" archives are the pre-cxx11 ABI and are not listed here.
// To use another archive: ICTORCH_LIBTORCH_URL=<url> ICTORCH_LIBTORCH_SHA256=<hex>.
const PINNED_ARCHIVES = [
  {
    version: '2.5.1',
    variant: 'cpu',
    url: 'https://download.pytorch.org/libtorch/cpu/libtorch-cxx11-abi-shared-with-deps-2.5.1%2Bcpu.zip',
    sha256: '618ca54eef82a1dca46ff1993d5807d9c0deb0bae147da4974166a147cb562fa',
    // Source: WasmEdge/WasmEdge utils/wasi-nn/install-pytorch.sh (revision defaulting to 2.5.1,
    // checked with `sha256sum -c`); the same value is pinned as a CMake URL_HASH and in two other
    // public install scripts for this exact URL.
  },
  {
    version: '2.4.1',
    variant: 'cpu',
    url: 'https://download.pytorch.org/libtorch/cpu/libtorch-cxx11-abi-shared-with-deps-2.4.1%2Bcpu.zip',
    sha256: '415c3ed51c766a6ef20dc10b2e60fae7f10a3ae8aa62223d6f4bccc1fc98740b',
    // Source: WasmEdge/WasmEdge utils/wasi-nn/install-pytorch.sh @ 0bca14603bf1 (PYTORCH_SHA).
  },
  {
    version: '2.11.0',
    variant: 'cu130',
    url: 'https://download.pytorch.org/libtorch/cu130/libtorch-shared-with-deps-2.11.0%2Bcu130.zip',
    sha256: 'a163eff74ffc1eaf3827e808c8bad3a88338ca68b5733d0974c1cbc9bc033295',
    // Source: randolf-scholz/linodenet src/linodenet_special/build.sh @ 046018a980ff (LIBTORCH_HASHES).
  },
  {
    version: '2.10.0',
    variant: 'cu128',
    url: 'https://download.pytorch.org/libtorch/cu128/libtorch-shared-with-deps-2.10.0%2Bcu128.zip',
    sha256: '429aa9fead3cf3d557e7c310442a1fae3879cdc14a469ff452043b39b61666a9',
    // Source: randolf-scholz/linodenet src/linodenet_special/build.sh @ 046018a980ff (LIBTORCH_HASHES).
  },
  {
    version: '2.9.1',
    variant: 'cu128',
    url: 'https://download.pytorch.org/libtorch/cu128/libtorch-shared-with-deps-2.9.1%2Bcu128.zip',
    sha256: 'b052452965093db69f537b3cf376812d5acf6dca28819b20d28d7f0b171d7699',
    // Sources: randolf-scholz/linodenet src/linodenet_special/build.sh @ 046018a980ff, and an
    // xmake package recipe for libtorch (add_versions("2.9.1", ...) for this URL).
  },
];

const DOWNLOAD_HELP_URL =
  'https://download.pytorch.org/libtorch/<cpu|cuXYZ>/libtorch-shared-with-deps-<version>%2B<cpu|cuXYZ>.zip';

// ---------------------------------------------------------------------------------------------
// Small helpers.

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p) {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readText(p) {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

// Debian multiarch triplet for this machine, e.g. x86_64-linux-gnu.
function multiarchTriplet() {
  const map = {
    x64: 'x86_64-linux-gnu',
    arm64: 'aarch64-linux-gnu',
    ppc64: 'powerpc64le-linux-gnu',
    s390x: 's390x-linux-gnu',
    riscv64: 'riscv64-linux-gnu',
  };
  return map[process.arch] || `${process.arch}-linux-gnu`;
}

// Reads PACKAGE_VERSION from a TorchConfigVersion.cmake in torchDir.
function versionFromConfigVersion(torchDir) {
  const text = readText(path.join(torchDir, 'TorchConfigVersion.cmake'));
  const m = text && text.match(/set\s*\(\s*PACKAGE_VERSION\s+"([^"]+)"/);
  return m ? m[1] : null;
}

// <root>/build-version (official archives, e.g. "2.11.0+cu130"), else TorchConfigVersion.cmake.
function detectVersion(root, torchDir) {
  const buildVersion = root ? readText(path.join(root, 'build-version')) : null;
  if (buildVersion && buildVersion.trim()) return buildVersion.trim();
  return torchDir ? versionFromConfigVersion(torchDir) : null;
}

// true when libDir holds the CUDA parts of LibTorch, false when it holds only the CPU ones.
function detectCuda(libDir, version) {
  let names = [];
  try {
    names = fs.readdirSync(libDir);
  } catch {
    return null;
  }
  if (names.some((n) => /^lib(torch_cuda|c10_cuda)\.so/.test(n))) return true;
  if (version && /\+cu\d+/.test(version)) return true;
  if (names.some((n) => /^libtorch_cpu\.so/.test(n))) return false;
  return null;
}

// true/false from the _GLIBCXX_USE_CXX11_ABI flag that TorchConfig.cmake sets, null if unknown.
function detectCxx11Abi(torchDir) {
  const text = readText(path.join(torchDir, 'TorchConfig.cmake'));
  const m = text && text.match(/_GLIBCXX_USE_CXX11_ABI=([01])/);
  return m ? m[1] === '1' : null;
}

// The C++ standard for this LibTorch's headers: 17 through 2.11, 20 from 2.12 on. PyTorch moved to C++20 in
// 2026 and its headers now refuse older standards (`#error C++20 or later compatible compiler is required to
// use ATen.`; reports place the first such release between 2.12 and 2.14, and the sources build as either).
// Read from the headers' own guard where it is there (a nightly is judged by what it says), else the version.
// ICTORCH_CXX_STANDARD (17 or 20) overrides it (CI builds the sources as C++20 against 1.13 that way).
function detectCxxStandard(info, env) {
  const override = env.ICTORCH_CXX_STANDARD;
  if (override !== undefined && override !== '') {
    if (override !== '17' && override !== '20') throw new Error(`ICTORCH_CXX_STANDARD is "${override}"; expected 17 or 20.`);
    return Number(override);
  }
  const includeDir = info.includeDirs[0];
  for (const header of [['ATen', 'ATen.h'], ['c10', 'util', 'C++17.h']]) {
    const text = readText(path.join(includeDir, ...header));
    if (text && /__cplusplus\s*<\s*202002L/.test(text)) return 20;
  }
  const m = /^(\d+)\.(\d+)/.exec(info.version || '');
  return m && (Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 12)) ? 20 : 17;
}

// Given the directory holding TorchConfig.cmake, works out the install layout:
// <root>/share/cmake/Torch (official archive, pip wheel), <root>/lib/<triplet>/cmake/Torch
// (Debian), <root>/lib(64)/cmake/Torch. Returns { root, libDir }.
function layoutFromTorchDir(torchDir) {
  const parts = path.resolve(torchDir).split(path.sep);
  const n = parts.length;
  const up = (k) => parts.slice(0, n - k).join(path.sep) || path.sep;
  if (n >= 4 && parts[n - 2] === 'cmake' && parts[n - 3] === 'share') {
    return { root: up(3), libDir: path.join(up(3), 'lib') };
  }
  if (n >= 4 && parts[n - 2] === 'cmake' && /^lib(64)?$/.test(parts[n - 3])) {
    return { root: up(3), libDir: up(2) };
  }
  if (n >= 5 && parts[n - 2] === 'cmake' && parts[n - 4] === 'lib') {
    return { root: up(4), libDir: up(2) };
  }
  return { root: up(3), libDir: path.join(up(3), 'lib') };
}

// Checks that a found installation is usable; returns a reason string when it is not.
function checkInstallation(info) {
  if (!isFile(path.join(info.torchDir, 'TorchConfig.cmake'))) {
    return `${path.join(info.torchDir, 'TorchConfig.cmake')} does not exist.`;
  }
  let libs = [];
  try {
    libs = fs.readdirSync(info.libDir);
  } catch {
    return `its library directory ${info.libDir} does not exist.`;
  }
  if (!libs.some((n) => /^libtorch\.(so|dylib)/.test(n))) {
    return `its library directory ${info.libDir} holds no libtorch.so.`;
  }
  if (!isDir(path.join(info.root, 'include', 'torch'))) {
    return `its header directory ${path.join(info.root, 'include', 'torch')} does not exist.`;
  }
  return null;
}

// Builds the result object for a LibTorch whose TorchConfig.cmake lives in torchDir.
function describe(source, torchDir, extra = {}) {
  const layout = layoutFromTorchDir(torchDir);
  const root = extra.root || layout.root;
  const libDir = extra.libDir || layout.libDir;
  const version = extra.version !== undefined ? extra.version : detectVersion(root, torchDir);
  const cuda = extra.cuda !== undefined ? extra.cuda : detectCuda(libDir, version);
  const includeDir = path.join(root, 'include');
  return {
    source,
    cmakePrefixPath: extra.cmakePrefixPath || path.dirname(torchDir),
    torchDir,
    libDir,
    root,
    version: version || null,
    cuda,
    cxx11Abi: detectCxx11Abi(torchDir),
    includeDirs: [includeDir, path.join(includeDir, 'torch', 'csrc', 'api', 'include')],
  };
}

// Looks for TorchConfig.cmake under a CMake prefix the way find_package(Torch) would.
function torchDirUnderPrefix(prefix) {
  const candidates = [
    path.join(prefix, 'Torch'),
    path.join(prefix, 'share', 'cmake', 'Torch'),
    path.join(prefix, 'lib', 'cmake', 'Torch'),
    path.join(prefix, 'lib', multiarchTriplet(), 'cmake', 'Torch'),
    prefix,
  ];
  return candidates.find((d) => isFile(path.join(d, 'TorchConfig.cmake'))) || null;
}

function findOnPath(command, env) {
  for (const dir of String(env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (isFile(candidate)) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Steps a-d. Each returns { result } or { reason }.

function fromLibtorchEnv(value) {
  const root = path.resolve(value);
  if (!isDir(root)) return { reason: `${root} is not a directory.` };
  const torchDir = path.join(root, 'share', 'cmake', 'Torch');
  if (!isFile(path.join(torchDir, 'TorchConfig.cmake'))) {
    return { reason: `${path.join(torchDir, 'TorchConfig.cmake')} does not exist, so ${root} is not a LibTorch root.` };
  }
  const info = describe('LIBTORCH', torchDir, { root, libDir: path.join(root, 'lib'), cmakePrefixPath: root });
  const problem = checkInstallation(info);
  return problem ? { reason: `TorchConfig.cmake was found, but ${problem}` } : { result: info };
}

function fromTorchDirEnv(value) {
  const torchDir = path.resolve(value);
  if (!isFile(path.join(torchDir, 'TorchConfig.cmake'))) {
    return { reason: `${path.join(torchDir, 'TorchConfig.cmake')} does not exist (Torch_DIR must be the directory holding TorchConfig.cmake).` };
  }
  const info = describe('Torch_DIR', torchDir);
  const problem = checkInstallation(info);
  return problem ? { reason: `TorchConfig.cmake was found, but ${problem}` } : { result: info };
}

function fromPrefixEntry(prefix) {
  const abs = path.resolve(prefix);
  const torchDir = torchDirUnderPrefix(abs);
  if (!torchDir) {
    return { reason: `neither ${path.join(abs, 'Torch', 'TorchConfig.cmake')} nor ${path.join(abs, 'share', 'cmake', 'Torch', 'TorchConfig.cmake')} exists.` };
  }
  const info = describe('CMAKE_PREFIX_PATH', torchDir);
  const problem = checkInstallation(info);
  return problem ? { reason: `TorchConfig.cmake was found in ${torchDir}, but ${problem}` } : { result: info };
}

const PYTHON_PROBE = [
  'import json, os, torch',
  'print("ICTORCH_TORCH_INFO=" + json.dumps({',
  '  "cmake_prefix_path": torch.utils.cmake_prefix_path,',
  '  "root": os.path.dirname(torch.__file__),',
  '  "version": torch.__version__,',
  '  "cuda": torch.version.cuda}))',
].join('\n');

function fromPython(python, env, timeoutMs) {
  const run = childProcess.spawnSync(python, ['-c', PYTHON_PROBE], {
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (run.error) {
    if (run.error.code === 'ENOENT') return { reason: `${python} was not found.` };
    if (run.error.code === 'ETIMEDOUT') return { reason: `${python} did not finish \`import torch\` within ${Math.round(timeoutMs / 1000)} s.` };
    return { reason: `${python} could not be run: ${run.error.message}.` };
  }
  const line = (run.stdout || '').split('\n').find((l) => l.startsWith('ICTORCH_TORCH_INFO='));
  if (run.status !== 0 || !line) {
    const err = (run.stderr || '').trim().split('\n').filter(Boolean).pop() || `exit status ${run.status}`;
    return { reason: `${python} cannot import torch (${err}).` };
  }
  const t = JSON.parse(line.slice('ICTORCH_TORCH_INFO='.length));
  const torchDir = t.cmake_prefix_path ? path.join(t.cmake_prefix_path, 'Torch') : null;
  if (!torchDir || !isFile(path.join(torchDir, 'TorchConfig.cmake'))) {
    return {
      reason:
        `${python} has torch ${t.version} in ${t.root}, but its torch.utils.cmake_prefix_path ` +
        `(${t.cmake_prefix_path}) holds no Torch/TorchConfig.cmake, so it cannot be built against ` +
        '(distribution packages of python torch often ship without the C++ files).',
    };
  }
  const info = describe('python', torchDir, {
    root: t.root,
    libDir: path.join(t.root, 'lib'),
    cmakePrefixPath: t.cmake_prefix_path,
    version: t.version,
    cuda: t.cuda != null,
  });
  info.python = python;
  const problem = checkInstallation(info);
  return problem ? { reason: `${python} has torch ${t.version}, but ${problem}` } : { result: info };
}

function defaultSystemCandidates() {
  const triplet = multiarchTriplet();
  const dirs = [path.join('/usr/lib', triplet, 'cmake', 'Torch')];
  // Other multiarch directories (e.g. a cross or i386 install) come after the native one.
  try {
    for (const name of fs.readdirSync('/usr/lib')) {
      if (name !== triplet && /-linux-gnu/.test(name)) dirs.push(path.join('/usr/lib', name, 'cmake', 'Torch'));
    }
  } catch {
    // no /usr/lib
  }
  dirs.push('/usr/local/share/cmake/Torch', '/usr/local/lib/cmake/Torch', '/usr/share/cmake/Torch', '/usr/lib/cmake/Torch');
  return dirs;
}

function fromSystem(torchDir) {
  if (!isFile(path.join(torchDir, 'TorchConfig.cmake'))) {
    return { reason: `${path.join(torchDir, 'TorchConfig.cmake')} does not exist.` };
  }
  const info = describe('system', torchDir);
  const problem = checkInstallation(info);
  return problem ? { reason: `TorchConfig.cmake was found, but ${problem}` } : { result: info };
}

// ---------------------------------------------------------------------------------------------
// Step e: the official archive (cache, then download).

function parseCudaSetting(value) {
  // Returns 'cpu', 'auto' (CUDA build, version from the driver) or a variant like 'cu126'.
  const v = String(value).trim().toLowerCase();
  if (['', '0', 'cpu', 'false', 'no', 'off', 'none'].includes(v)) return 'cpu';
  if (['1', 'true', 'yes', 'on', 'auto', 'cuda'].includes(v)) return 'auto';
  const m = v.match(/^(?:cu)?(\d+)(?:\.(\d+))?$/);
  if (m) return m[2] !== undefined ? `cu${m[1]}${m[2]}` : m[1].length >= 3 ? `cu${m[1]}` : `cu${m[1]}0`;
  return null;
}

// Returns the highest CUDA version the NVIDIA driver supports (e.g. 130 for 13.0), or null.
function driverCudaVersion(env) {
  const run = childProcess.spawnSync('nvidia-smi', [], { env, encoding: 'utf8', timeout: 15000, stdio: ['ignore', 'pipe', 'ignore'] });
  if (run.error || run.status !== 0) return null;
  const m = (run.stdout || '').match(/CUDA Version:\s*(\d+)\.(\d+)/);
  return m ? Number(m[1]) * 10 + Number(m[2]) : null;
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d) return d;
  }
  return 0;
}

function officialUrl(version, variant) {
  const legacyName = compareVersions(version, '2.7.0') < 0;
  const name = `${legacyName ? 'libtorch-cxx11-abi-shared-with-deps' : 'libtorch-shared-with-deps'}-${version}%2B${variant}.zip`;
  return `https://download.pytorch.org/libtorch/${variant}/${name}`;
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function newestPinned(filter) {
  return PINNED_ARCHIVES.filter(filter).sort((a, b) => compareVersions(b.version, a.version) || b.variant.localeCompare(a.variant))[0] || null;
}

// Works out which archive to fetch. Returns { spec, notes } or { reason }.
// spec: { version, variant, url, sha256|null, dirName }
function chooseArchive(env, detectDriver = driverCudaVersion) {
  const notes = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { reason: `official LibTorch downloads are only set up for linux x64 (this is ${process.platform} ${process.arch}).` };
  }
  if (env.ICTORCH_LIBTORCH_URL) {
    const url = env.ICTORCH_LIBTORCH_URL;
    const sha256 = env.ICTORCH_LIBTORCH_SHA256 ? env.ICTORCH_LIBTORCH_SHA256.trim().toLowerCase() : null;
    const decoded = safeDecode(url);
    const base = (decoded.split('/').pop() || 'libtorch').replace(/\.zip$/, '').replace(/[^A-Za-z0-9.+_-]/g, '_');
    const dirName = `${base}-${sha256 ? sha256.slice(0, 12) : 'unverified'}`;
    const m = decoded.match(/(\d+\.\d+\.\d+)\+(cpu|cu\d+)/);
    return { spec: { version: m ? m[1] : null, variant: m ? m[2] : null, url, sha256, dirName, custom: true }, notes };
  }
  let variant;
  const setting = env.ICTORCH_CUDA !== undefined ? parseCudaSetting(env.ICTORCH_CUDA) : undefined;
  if (setting === null) {
    return { reason: `ICTORCH_CUDA=${env.ICTORCH_CUDA} is not understood; use a CUDA version such as 12.8 or 13.0, "1" for automatic, or "cpu".` };
  }
  const wantedVersion = env.ICTORCH_LIBTORCH_VERSION || null;
  const fits = (s) => !wantedVersion || s.version === wantedVersion;
  if (setting === 'cpu') {
    variant = 'cpu';
  } else if (setting && setting !== 'auto') {
    variant = setting;
  } else {
    const driver = detectDriver(env);
    if (driver === null && setting === undefined) {
      variant = 'cpu';
      notes.push('no NVIDIA GPU reported by nvidia-smi, so the CPU build was chosen');
    } else {
      const usable = (s) => s.variant !== 'cpu' && fits(s) && (driver === null || Number(s.variant.slice(2)) <= driver);
      const best = newestPinned(usable);
      if (best) {
        variant = best.variant;
        notes.push(driver === null ? `ICTORCH_CUDA=${env.ICTORCH_CUDA} chose ${variant}` : `nvidia-smi reports a GPU with CUDA ${Math.floor(driver / 10)}.${driver % 10}, so ${variant} was chosen`);
      } else {
        variant = 'cpu';
        notes.push(`a GPU was found (driver CUDA ${driver !== null ? `${Math.floor(driver / 10)}.${driver % 10}` : 'unknown'}), but no pinned CUDA LibTorch fits it, so the CPU build was chosen; set ICTORCH_CUDA=<version> with ICTORCH_LIBTORCH_URL/ICTORCH_LIBTORCH_SHA256 for a CUDA build`);
      }
    }
  }
  const pinned = newestPinned((s) => s.variant === variant && fits(s));
  if (pinned) return { spec: { ...pinned, dirName: `libtorch-${pinned.version}+${pinned.variant}` }, notes };
  const version = wantedVersion || (newestPinned((s) => s.variant !== 'cpu') || PINNED_ARCHIVES[0]).version;
  return {
    spec: { version, variant, url: officialUrl(version, variant), sha256: null, dirName: `libtorch-${version}+${variant}` },
    notes,
  };
}

function sha256File(file) {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let n;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

// Throws when file's SHA-256 is not `expected` (hex, any case); returns the digest otherwise.
function verifySha256(file, expected, actual = sha256File(file), label = file) {
  const want = String(expected || '').trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(want)) {
    throw new Error(`The expected SHA-256 "${expected}" is not 64 hexadecimal digits.`);
  }
  if (actual !== want) {
    throw new Error(
      `The SHA-256 of ${label} is ${actual}, but ${want} was expected. The file was not used; ` +
        'if the archive was replaced upstream, check it yourself and set ICTORCH_LIBTORCH_URL and ICTORCH_LIBTORCH_SHA256.'
    );
  }
  return actual;
}

// Downloads url to dest with node's https (following redirects), hashing as it goes.
function httpsDownload(url, dest, { log = () => {}, redirects = 5 } = {}) {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { headers: { 'User-Agent': 'ictorch-install' } }, (res) => {
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location) {
        res.resume();
        if (redirects <= 0) return reject(new Error(`Too many redirects while downloading ${url}.`));
        return resolve(httpsDownload(new URL(res.headers.location, url).toString(), dest, { log, redirects: redirects - 1 }));
      }
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`Downloading ${url} failed with HTTP ${res.statusCode} ${res.statusMessage || ''}.`.replace(' .', '.')));
      }
      const total = Number(res.headers['content-length']) || 0;
      const hash = crypto.createHash('sha256');
      const out = fs.createWriteStream(dest);
      let received = 0;
      let nextReport = 0.1;
      res.on('data', (chunk) => {
        hash.update(chunk);
        received += chunk.length;
        if (total && received / total >= nextReport) {
          log(`downloaded ${Math.round((received / total) * 100)}% of ${(total / 1e6).toFixed(0)} MB`);
          nextReport += 0.1;
        }
      });
      res.on('error', (err) => reject(new Error(`Downloading ${url} failed (${err.message}).`)));
      out.on('error', (err) => reject(new Error(`Writing ${dest} failed (${err.message}).`)));
      out.on('finish', () => {
        if (total && received !== total) return reject(new Error(`The download of ${url} ended early (${received} of ${total} bytes).`));
        resolve({ sha256: hash.digest('hex'), bytes: received });
      });
      res.pipe(out);
    });
    request.setTimeout(120000, () => request.destroy(new Error('no data arrived for 120 s')));
    request.on('error', (err) =>
      reject(new Error(`Downloading ${url} failed (${err.message}). Without internet access, fetch the archive elsewhere, unpack it and set LIBTORCH.`))
    );
  });
}

// Extracts a zip with `unzip`, falling back to python's zipfile.
function extractZip(zip, destDir, env) {
  const tries = [
    ['unzip', ['-q', '-o', zip, '-d', destDir]],
    ['python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, destDir]],
    ['/usr/bin/python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, destDir]],
  ];
  const failures = [];
  for (const [cmd, args] of tries) {
    const run = childProcess.spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (!run.error && run.status === 0) return;
    failures.push(run.error ? `${cmd}: ${run.error.code === 'ENOENT' ? 'not found' : run.error.message}` : `${cmd}: ${(run.stderr || '').trim() || `exit status ${run.status}`}`);
  }
  throw new Error(`The archive ${zip} could not be extracted (${failures.join('; ')}). Install unzip and retry.`);
}

// A cached, previously extracted archive, or null.
function cachedArchive(root) {
  const torchDir = path.join(root, 'share', 'cmake', 'Torch');
  if (!isFile(path.join(torchDir, 'TorchConfig.cmake')) || !isFile(path.join(root, '.ictorch-archive.json'))) return null;
  const info = describe('download', torchDir, { root, libDir: path.join(root, 'lib'), cmakePrefixPath: root });
  return checkInstallation(info) ? null : info;
}

async function fromDownload(spec, { cacheDir, allowDownload, env, log }) {
  const target = path.join(cacheDir, spec.dirName);
  const cached = cachedArchive(target);
  if (cached) return { result: cached, detail: `reused ${target}` };
  if (!allowDownload) return { reason: `no LibTorch in the cache (${target}), and downloading is disabled here.` };
  if (env.ICTORCH_NO_DOWNLOAD) return { reason: `no LibTorch in the cache (${target}), and ICTORCH_NO_DOWNLOAD is set.` };
  if (!spec.sha256) {
    return {
      reason:
        `refusing to download ${spec.url} because its SHA-256 is not known (no pinned value for ` +
        `${spec.version ? `${spec.version}+${spec.variant}` : 'this archive'}). Check the archive yourself and rerun with ` +
        `ICTORCH_LIBTORCH_URL=${spec.url} ICTORCH_LIBTORCH_SHA256=<its sha256>.`,
    };
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  const stamp = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const zip = path.join(cacheDir, `.download-${stamp}.zip`);
  const staging = path.join(cacheDir, `.extract-${stamp}`);
  try {
    log(`downloading ${spec.url}`);
    const got = await httpsDownload(spec.url, zip, { log });
    verifySha256(zip, spec.sha256, got.sha256, spec.url);
    log(`SHA-256 verified (${got.sha256}); extracting into ${cacheDir}`);
    fs.mkdirSync(staging);
    extractZip(zip, staging, env);
    const extracted = path.join(staging, 'libtorch');
    const extractedTorchDir = path.join(extracted, 'share', 'cmake', 'Torch');
    if (!isFile(path.join(extractedTorchDir, 'TorchConfig.cmake'))) {
      throw new Error(`The archive ${spec.url} does not contain libtorch/share/cmake/Torch/TorchConfig.cmake.`);
    }
    const problem = checkInstallation(describe('download', extractedTorchDir, { root: extracted, libDir: path.join(extracted, 'lib') }));
    if (problem) throw new Error(`The archive ${spec.url} is not a usable LibTorch: ${problem}`);
    fs.writeFileSync(path.join(extracted, '.ictorch-archive.json'), JSON.stringify({ url: spec.url, sha256: spec.sha256, version: spec.version, variant: spec.variant }, null, 2) + '\n');
    if (fs.existsSync(target) && !cachedArchive(target)) fs.rmSync(target, { recursive: true, force: true }); // a broken leftover
    try {
      fs.renameSync(extracted, target); // atomic on one file system: the cache never holds half a tree
    } catch (err) {
      if (!cachedArchive(target)) throw new Error(`Could not move the extracted LibTorch to ${target}: ${err.message}.`);
      log(`another process already put LibTorch at ${target}; using it`);
    }
  } catch (err) {
    return { reason: err.message };
  } finally {
    fs.rmSync(zip, { force: true });
    fs.rmSync(staging, { recursive: true, force: true });
  }
  const result = cachedArchive(target);
  return result ? { result, detail: `downloaded ${spec.url}` } : { reason: `the extracted archive at ${target} is incomplete.` };
}

// ---------------------------------------------------------------------------------------------

function waysToProvide() {
  return [
    'Ways to provide LibTorch:',
    '  - Debian/Ubuntu: sudo apt-get install libtorch-dev, then rerun npm install.',
    '  - Python: pip install torch (into the python3 on PATH, or set PYTHON=/path/to/python), then rerun npm install.',
    '  - An unpacked LibTorch: LIBTORCH=/path/to/libtorch npm install',
    '  - A CMake package directory: Torch_DIR=/path/to/libtorch/share/cmake/Torch npm install (or add its prefix to CMAKE_PREFIX_PATH).',
    `  - Download: npm install fetches a pinned official archive unless ICTORCH_NO_DOWNLOAD is set (CPU by default; ICTORCH_CUDA=13.0 or 12.8 for CUDA). Archives live at ${DOWNLOAD_HELP_URL}; for one that is not pinned set ICTORCH_LIBTORCH_URL=<url> and ICTORCH_LIBTORCH_SHA256=<sha256>.`,
  ].join('\n');
}

/**
 * Finds LibTorch. Resolves to { source, cmakePrefixPath, libDir, root, version, cuda, torchDir,
 * cxx11Abi, cxxStandard, includeDirs, attempts }, or rejects with an Error listing every attempt.
 * options: env (default process.env: LIBTORCH, Torch_DIR, ..., ICTORCH_CXX_STANDARD), log (function),
 * allowDownload (default false), cacheDir,
 * and for tests: pythonCandidates, systemCandidates, pythonTimeoutMs, detectDriver.
 */
async function findLibTorch(options = {}) {
  const info = await search(options);
  info.cxxStandard = detectCxxStandard(info, options.env || process.env);
  return info;
}

async function search(options) {
  const env = options.env || process.env;
  const log = options.log || (() => {});
  const allowDownload = Boolean(options.allowDownload);
  const home = env.HOME || os.homedir();
  const cacheDir = path.resolve(options.cacheDir || env.ICTORCH_CACHE || path.join(home, '.cache', 'ictorch'));
  const attempts = [];

  const record = (step, candidate, outcome) => {
    const ok = Boolean(outcome.result);
    attempts.push({ step, candidate, ok, reason: ok ? `${outcome.detail ? `${outcome.detail}; ` : ''}found LibTorch ${outcome.result.version || '(version unknown)'} at ${outcome.result.root}.` : outcome.reason });
    log(`${step}${candidate ? ` (${candidate})` : ''}: ${ok ? `found LibTorch ${outcome.result.version || '(version unknown)'} at ${outcome.result.root}` : outcome.reason}`);
    if (ok) outcome.result.attempts = attempts;
    return ok ? outcome.result : null;
  };

  // a. LIBTORCH
  let found;
  if (env.LIBTORCH) {
    if ((found = record('LIBTORCH', env.LIBTORCH, fromLibtorchEnv(env.LIBTORCH)))) return found;
  } else {
    record('LIBTORCH', null, { reason: 'not set.' });
  }

  // b. Torch_DIR, then CMAKE_PREFIX_PATH entries
  if (env.Torch_DIR) {
    if ((found = record('Torch_DIR', env.Torch_DIR, fromTorchDirEnv(env.Torch_DIR)))) return found;
  } else {
    record('Torch_DIR', null, { reason: 'not set.' });
  }
  const prefixes = String(env.CMAKE_PREFIX_PATH || '').split(/[:;]/).filter(Boolean);
  if (!prefixes.length) record('CMAKE_PREFIX_PATH', null, { reason: 'not set.' });
  for (const prefix of prefixes) {
    if ((found = record('CMAKE_PREFIX_PATH', prefix, fromPrefixEntry(prefix)))) return found;
  }

  // c. python
  const pythons = options.pythonCandidates || [...new Set([env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean))];
  for (const python of pythons) {
    if ((found = record('python', python, fromPython(python, env, options.pythonTimeoutMs || 60000)))) return found;
  }

  // d. system install
  for (const torchDir of options.systemCandidates || defaultSystemCandidates()) {
    if ((found = record('system', torchDir, fromSystem(torchDir)))) return found;
  }

  // e. official archive: cache, then download
  const choice = chooseArchive(env, options.detectDriver);
  if (choice.reason) {
    record('download', null, { reason: choice.reason });
  } else {
    for (const note of choice.notes) log(`download: ${note}`);
    const outcome = await fromDownload(choice.spec, { cacheDir, allowDownload, env, log });
    if ((found = record('download', choice.spec.url, outcome))) {
      if (found.version === null && choice.spec.version) found.version = `${choice.spec.version}+${choice.spec.variant}`;
      return found;
    }
  }

  const lines = attempts.map((a, i) => `  ${i + 1}. ${a.step}${a.candidate ? ` (${a.candidate})` : ''}: ${a.reason}`);
  const error = new Error(`LibTorch was not found. These places were tried, in order:\n${lines.join('\n')}\n${waysToProvide()}`);
  error.attempts = attempts;
  error.code = 'ICTORCH_LIBTORCH_NOT_FOUND';
  throw error;
}

// Compiler/linker flags for binding.gyp.
function gypIncludeDirs(info) {
  return info.includeDirs.join(' ');
}

// Process groups (native/distributed.cc) need c10d's headers (LibTorch's) and Gloo's (LibTorch's own copy, or
// the system's: Debian's libgloo-dev); CMakeLists.txt makes the same check.
function glooAvailable(info) {
  const dirs = [...info.includeDirs, '/usr/include', '/usr/local/include'];
  const has = (rel) => dirs.some((d) => fs.existsSync(path.join(d, rel)));
  return has('gloo/algorithm.h') && has('torch/csrc/distributed/c10d/ProcessGroupGloo.hpp');
}

function gypDefines(info, env = process.env) {
  return env.ICTORCH_GLOO !== '0' && glooAvailable(info) ? 'ICTORCH_WITH_GLOO=1 USE_C10D_GLOO=1' : '';
}

function gypLibraries(info) {
  const libs = ['-ltorch', '-ltorch_cpu', '-lc10'];
  if (info.cuda) libs.push('-ltorch_cuda', '-lc10_cuda');
  return [`-L${info.libDir}`, `-Wl,-rpath,${info.libDir}`, ...libs].join(' ');
}

// ---------------------------------------------------------------------------------------------
// CLI

async function cli(argv) {
  const args = argv.slice(2);
  const has = (flag) => args.includes(flag);
  const fieldIndex = args.indexOf('--field');
  const verbose = has('--verbose') || has('-v');
  try {
    const info = await findLibTorch({
      allowDownload: has('--download'),
      log: verbose ? (msg) => process.stderr.write(`[find-libtorch] ${msg}\n`) : undefined,
    });
    if (has('--gyp-include-dirs')) {
      process.stdout.write(gypIncludeDirs(info) + '\n');
    } else if (has('--gyp-libraries')) {
      process.stdout.write(gypLibraries(info) + '\n');
    } else if (has('--gyp-defines')) {
      process.stdout.write(gypDefines(info) + '\n');
    } else if (has('--gyp-cxx-std')) {
      process.stdout.write(`-std=c++${info.cxxStandard}\n`);
    } else if (fieldIndex !== -1) {
      const name = args[fieldIndex + 1];
      if (!name || !(name in info)) {
        process.stderr.write(`Unknown field "${name}". Known fields: ${Object.keys(info).join(', ')}.\n`);
        return 2;
      }
      const value = info[name];
      process.stdout.write((value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value)) + '\n');
    } else {
      process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    }
    return 0;
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
}

module.exports = {
  findLibTorch,
  gypIncludeDirs,
  gypLibraries,
  gypDefines,
  sha256File,
  verifySha256,
  chooseArchive,
  httpsDownload,
  findOnPath,
  PINNED_ARCHIVES,
};

if (require.main === module) {
  cli(process.argv).then((code) => {
    process.exitCode = code;
  });
}
