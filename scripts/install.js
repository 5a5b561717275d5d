#!/usr/bin/env node
'use strict';
// install.js: the package's npm "install" script (and, with --build, `npm run build`).
//
// 1. Exits at once when ICTORCH_SKIP_BUILD is set (ignored with --build).
// 2. Finds LibTorch with scripts/find-libtorch.js (downloading a pinned archive if need be).
// 3. Builds the addon with the cmake-js from node_modules:
//      cmake-js compile --out build --CDCMAKE_PREFIX_PATH=<prefix> --CDTorch_DIR=<dir>
//        --CDICTORCH_LIBTORCH_LIB_DIR=<libDir> --CDICTORCH_CXX_STANDARD=<17|20> [--CDCMAKE_CXX_COMPILER_LAUNCHER=ccache]
//        --parallel <cores> [--debug]
//    streaming its output; when it fails, repeats the last 40 lines and explains the likely causes.
// Environment: ICTORCH_SKIP_BUILD, ICTORCH_DEBUG, plus everything find-libtorch.js reads
// (LIBTORCH, Torch_DIR, CMAKE_PREFIX_PATH, PYTHON, ICTORCH_CUDA, ICTORCH_NO_DOWNLOAD, ...).
// Only Node built-ins are used.

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { findLibTorch, findOnPath } = require('./find-libtorch');

const ROOT = path.resolve(__dirname, '..');
const BUILD_DIR = 'build';
const TAIL_LINES = 40;

function log(message) {
  process.stdout.write(`[ictorch] ${message}\n`);
}

function warn(message) {
  process.stderr.write(`[ictorch] ${message}\n`);
}

// The cmake-js arguments for a LibTorch found by findLibTorch.
function cmakeJsArgs(info, env = process.env) {
  const args = [
    'compile',
    '--out', BUILD_DIR,
    `--CDCMAKE_PREFIX_PATH=${info.cmakePrefixPath}`,
    `--CDTorch_DIR=${info.torchDir}`,
    `--CDICTORCH_LIBTORCH_LIB_DIR=${info.libDir}`,
    `--CDICTORCH_CXX_STANDARD=${info.cxxStandard}`,
  ];
  // ICTORCH_GLOO=0 builds without process groups even where Gloo's headers are found; ICTORCH_JIT=0 without
  // TorchScript (native/jit.cc), for a LibTorch whose TorchScript headers that file does not compile against.
  for (const name of ['ICTORCH_GLOO', 'ICTORCH_JIT']) {
    if (env[name] === undefined) continue;
    if (env[name] !== '0' && env[name] !== '1') throw new Error(`${name} must be 0 or 1, got "${env[name]}"`);
    args.push(`--CD${name}=${env[name] === '1' ? 'ON' : 'OFF'}`);
  }
  if (findOnPath('ccache', env)) args.push('--CDCMAKE_CXX_COMPILER_LAUNCHER=ccache');
  const jobs = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  args.push('--parallel', String(jobs));
  if (env.ICTORCH_DEBUG) args.push('--debug');
  return args;
}

// A configured build/ remembers Torch_DIR and the build type, and cmake-js `compile` does not
// reconfigure it. When either changed, drop CMakeCache.txt so that the next configure uses the new ones.
function dropStaleCache(info, env, cachePath = path.join(ROOT, BUILD_DIR, 'CMakeCache.txt')) {
  let text;
  try {
    text = fs.readFileSync(cachePath, 'utf8');
  } catch {
    return;
  }
  const cached = (name) => {
    const m = text.match(new RegExp(`^${name}:[A-Z]+=(.*)$`, 'm'));
    return m ? m[1].trim() : null;
  };
  const real = (p) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  const reasons = [];
  const torchDir = cached('Torch_DIR');
  if (torchDir && real(torchDir) !== real(info.torchDir)) reasons.push(`it was configured with Torch_DIR=${torchDir}`);
  const buildType = cached('CMAKE_BUILD_TYPE');
  const wanted = env.ICTORCH_DEBUG ? 'Debug' : 'Release';
  if (buildType && buildType !== wanted) reasons.push(`it was configured as ${buildType}`);
  // `cmake-js compile` configures only a new build directory, so options that changed need a new cache.
  for (const name of ['ICTORCH_GLOO', 'ICTORCH_JIT']) {
    const was = cached(name);
    const want = env[name] === '0' ? 'OFF' : 'ON';
    if (was && was !== want) reasons.push(`it was configured with ${name}=${was}`);
  }
  if (reasons.length) {
    log(`Reconfiguring ${BUILD_DIR}/ because ${reasons.join(' and ')}.`);
    fs.rmSync(cachePath, { force: true });
  }
}

// cmake-js only uses the Node-API headers from node_modules when package.json declares
// binary.napi_versions; otherwise it downloads the full Node headers from nodejs.org.
function checkNodeApiDeclared() {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    if (!(pkg.binary && pkg.binary.napi_versions)) {
      warn('package.json has no "binary": { "napi_versions": [...] }, so cmake-js will try to download Node headers from nodejs.org.');
    }
  } catch {
    // no readable package.json: cmake-js will say so
  }
}

// Runs a command, passing its output through and keeping the tail of it.
function runStreaming(command, args, options) {
  return new Promise((resolve) => {
    let tail = '';
    const keep = (chunk) => {
      tail = (tail + chunk.toString()).slice(-64 * 1024);
    };
    const child = childProcess.spawn(command, args, { ...options, stdio: ['inherit', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      keep(chunk);
    });
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      keep(chunk);
    });
    child.on('error', (err) => {
      keep(`${command} could not be started: ${err.message}\n`);
      resolve({ code: 127, tail });
    });
    child.on('close', (code, signal) => resolve({ code: code === null ? 128 : code, signal, tail }));
  });
}

function compilerVersion(env) {
  const cxx = env.CXX || 'c++';
  const run = childProcess.spawnSync(cxx, ['--version'], { env, encoding: 'utf8', timeout: 10000 });
  if (run.error || run.status !== 0) return `${cxx} (its version could not be read)`;
  return (run.stdout || '').split('\n')[0].trim();
}

// One paragraph on what was built against and what usually goes wrong.
function failureSummary(info, code, output, env) {
  const libtorch =
    `LibTorch ${info.version || '(version unknown)'} from ${info.source} at ${info.root} ` +
    `(libraries in ${info.libDir}, ${info.cuda ? 'CUDA' : info.cuda === false ? 'CPU-only' : 'CUDA unknown'}` +
    `${info.cxx11Abi === false ? ', pre-cxx11 ABI' : info.cxx11Abi ? ', cxx11 ABI' : ''})`;
  const likely = [];
  if (/CMake executable is not found|cmake: not found/i.test(output)) {
    likely.push('a missing cmake (install cmake 3.18 or newer)');
  }
  if (/fetch failed|Downloading distribution files/i.test(output)) {
    likely.push('cmake-js trying to download Node headers (declaring "binary": {"napi_versions": [8]} in package.json makes it use node-api-headers instead)');
  }
  if (/No CMAKE_CUDA_COMPILER could be found|Failed to find nvcc|nvcc: not found|Could NOT find CUDA|CUDA_TOOLKIT_ROOT_DIR not found/i.test(output)) {
    likely.push('a missing CUDA toolkit (nvcc), which a CUDA LibTorch needs');
  }
  if (/undefined (reference|symbol).*(__cxx11|basic_string)/.test(output)) {
    likely.push('a C++ ABI mismatch between LibTorch and this compiler (_GLIBCXX_USE_CXX11_ABI)');
  }
  if (/unrecognized command.line option '-std=|requires .*C\+\+17|C\+\+17 or later|This file requires compiler and library support/i.test(output)) {
    likely.push('a compiler too old for this LibTorch (it needs full C++17 support)');
  }
  const first = likely.length ? `The output points to ${likely.join(', and to ')}. ` : '';
  return (
    `The native build failed (exit code ${code}) against ${libtorch}, compiling with ${compilerVersion(env)}. ${first}` +
    'Usual causes are a compiler too old for this LibTorch (recent LibTorch needs GCC 9 or newer with C++17), ' +
    'an ABI mismatch (a pre-cxx11 LibTorch archive, or one built by another compiler, will not link with code built here), ' +
    `${info.cuda ? 'and, as this LibTorch is a CUDA build, a missing or mismatched CUDA toolkit (nvcc on PATH or CUDA_HOME; or build against a CPU LibTorch with LIBTORCH=..., or ICTORCH_CUDA=cpu for a downloaded one). ' : 'and, for a CUDA LibTorch, a missing CUDA toolkit. '}` +
    'To build against another LibTorch set LIBTORCH=/path/to/libtorch; to install without building set ICTORCH_SKIP_BUILD=1; ' +
    `for a debug build set ICTORCH_DEBUG=1; to start over delete ${BUILD_DIR}/.`
  );
}

async function main({ argv = process.argv.slice(2), env = process.env } = {}) {
  const explicitBuild = argv.includes('--build');
  if (env.ICTORCH_SKIP_BUILD && !explicitBuild) {
    log('ICTORCH_SKIP_BUILD is set, so the native addon was not built. Run `npm run build` to build it later.');
    return 0;
  }

  let info;
  try {
    info = await findLibTorch({ env, allowDownload: true, log: (m) => log(`LibTorch search: ${m}`) });
  } catch (err) {
    warn(err.message);
    return 1;
  }
  log(`Using LibTorch ${info.version || '(version unknown)'} from ${info.source} at ${info.root} (${info.cuda ? 'CUDA' : 'CPU'}).`);

  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [ROOT] });
  } catch {
    warn('cmake-js is not installed in node_modules; run `npm install` (or `npm ci`) first.');
    return 1;
  }
  checkNodeApiDeclared();
  dropStaleCache(info, env);

  const args = cmakeJsArgs(info, env);
  log(`Running: ${path.relative(ROOT, cmakeJs)} ${args.join(' ')}`);
  const { code, tail } = await runStreaming(process.execPath, [cmakeJs, ...args], { cwd: ROOT, env });
  if (code === 0) {
    log(`Build finished: ${BUILD_DIR}/${env.ICTORCH_DEBUG ? 'Debug' : 'Release'}/.`);
    return 0;
  }

  const lines = tail.replace(/\s+$/, '').split(/\r?\n/).slice(-TAIL_LINES);
  process.stderr.write(`\n[ictorch] ---- last ${lines.length} lines of the build output ----\n${lines.join('\n')}\n[ictorch] ----\n\n`);
  warn(failureSummary(info, code, tail, env));
  return code || 1;
}

module.exports = { main, cmakeJsArgs, failureSummary, dropStaleCache };

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      warn(`The install script failed unexpectedly: ${err && err.message}`);
      process.exitCode = 1;
    }
  );
}
