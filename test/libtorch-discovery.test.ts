// Tests scripts/find-libtorch.js: search order, failure message, the real system install on this
// machine, archive choice and checksum verification. No network: downloads stay disabled or are
// refused before any request is made.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The scripts are plain CommonJS; vitest gives test files a `require` resolved from this file
// (used instead of createRequire(import.meta.url) so that the file also type-checks as CommonJS).
const finder = require('../scripts/find-libtorch.js');

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-discovery-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

// A fake LibTorch tree laid out like the official archive: share/cmake/Torch, lib, include.
function fakeLibTorch(root: string, { version = '2.11.0+cpu', cuda = false } = {}): string {
  const torchDir = path.join(root, 'share', 'cmake', 'Torch');
  fs.mkdirSync(torchDir, { recursive: true });
  fs.writeFileSync(path.join(torchDir, 'TorchConfig.cmake'), 'set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=1")\n');
  fs.writeFileSync(path.join(torchDir, 'TorchConfigVersion.cmake'), `set(PACKAGE_VERSION "${version.split('+')[0]}")\n`);
  fs.mkdirSync(path.join(root, 'lib'), { recursive: true });
  const libs = ['libtorch.so', 'libtorch_cpu.so', 'libc10.so', ...(cuda ? ['libtorch_cuda.so', 'libc10_cuda.so'] : [])];
  for (const lib of libs) fs.writeFileSync(path.join(root, 'lib', lib), '');
  fs.mkdirSync(path.join(root, 'include', 'torch', 'csrc', 'api', 'include'), { recursive: true });
  fs.writeFileSync(path.join(root, 'build-version'), `${version}\n`);
  return torchDir;
}

// Options that keep the search inside the temp dir: no real python, system dirs or GPU probe.
function isolated(env: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    env: { PATH: process.env.PATH ?? '', HOME: tmp, ...env },
    allowDownload: false,
    cacheDir: path.join(tmp, 'empty-cache'),
    pythonCandidates: [] as string[],
    systemCandidates: [] as string[],
    detectDriver: () => null,
    ...extra,
  };
}

describe('search order', () => {
  it('prefers LIBTORCH over Torch_DIR', async () => {
    const a = path.join(tmp, 'order', 'libtorch-a');
    const b = path.join(tmp, 'order', 'libtorch-b');
    fakeLibTorch(a, { version: '2.11.0+cu130', cuda: true });
    const bTorchDir = fakeLibTorch(b, { version: '2.5.1+cpu' });

    const info = await finder.findLibTorch(isolated({ LIBTORCH: a, Torch_DIR: bTorchDir }));
    expect(info.source).toBe('LIBTORCH');
    expect(info.root).toBe(a);
    expect(info.libDir).toBe(path.join(a, 'lib'));
    expect(info.cmakePrefixPath).toBe(a);
    expect(info.version).toBe('2.11.0+cu130');
    expect(info.cuda).toBe(true);
    expect(info.attempts).toHaveLength(1);
    expect(finder.gypIncludeDirs(info)).toBe(`${a}/include ${a}/include/torch/csrc/api/include`);
    expect(finder.gypLibraries(info)).toBe(`-L${a}/lib -Wl,-rpath,${a}/lib -ltorch -ltorch_cpu -lc10 -ltorch_cuda -lc10_cuda`);
  });

  it('reports a bad LIBTORCH with its reason and goes on to Torch_DIR', async () => {
    const bad = path.join(tmp, 'bad', 'not-libtorch');
    fs.mkdirSync(bad, { recursive: true });
    const good = path.join(tmp, 'bad', 'libtorch');
    const torchDir = fakeLibTorch(good, { version: '2.5.1+cpu' });

    const info = await finder.findLibTorch(isolated({ LIBTORCH: bad, Torch_DIR: torchDir }));
    expect(info.source).toBe('Torch_DIR');
    expect(info.root).toBe(good);
    expect(info.version).toBe('2.5.1+cpu');
    expect(info.cuda).toBe(false);
    expect(finder.gypLibraries(info)).toBe(`-L${good}/lib -Wl,-rpath,${good}/lib -ltorch -ltorch_cpu -lc10`);
    expect(info.attempts[0]).toMatchObject({ step: 'LIBTORCH', candidate: bad, ok: false });
    expect(info.attempts[0].reason).toContain(path.join(bad, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'));
    expect(info.attempts[0].reason).toContain('does not exist');
  });

  it('finds LibTorch through a CMAKE_PREFIX_PATH entry after skipping ones without it', async () => {
    const root = path.join(tmp, 'prefix', 'libtorch');
    fakeLibTorch(root, { version: '2.9.1+cu128', cuda: true });
    const empty = path.join(tmp, 'prefix', 'empty');
    fs.mkdirSync(empty, { recursive: true });

    const info = await finder.findLibTorch(isolated({ CMAKE_PREFIX_PATH: `${empty}:${root}` }));
    expect(info.source).toBe('CMAKE_PREFIX_PATH');
    expect(info.root).toBe(root);
    expect(info.torchDir).toBe(path.join(root, 'share', 'cmake', 'Torch'));
    expect(info.attempts.map((a: { step: string; ok: boolean }) => [a.step, a.ok])).toEqual([
      ['LIBTORCH', false],
      ['Torch_DIR', false],
      ['CMAKE_PREFIX_PATH', false],
      ['CMAKE_PREFIX_PATH', true],
    ]);
  });

  it('uses a pip-style torch reported by python (layout as on the GPU machine: torch/share/cmake, torch/lib)', async () => {
    const root = path.join(tmp, 'site-packages', 'torch');
    fakeLibTorch(root, { version: '2.11.0+cu130', cuda: true });
    fs.rmSync(path.join(root, 'build-version')); // pip wheels have none
    const info = {
      cmake_prefix_path: path.join(root, 'share', 'cmake'),
      root,
      version: '2.11.0+cu130',
      cuda: '13.0',
    };
    const fakePython = path.join(tmp, 'bin', 'python-with-torch');
    fs.mkdirSync(path.dirname(fakePython), { recursive: true });
    fs.writeFileSync(fakePython, `#!/bin/sh\necho 'ICTORCH_TORCH_INFO=${JSON.stringify(info)}'\n`, { mode: 0o755 });

    const found = await finder.findLibTorch(
      isolated({}, { pythonCandidates: [path.join(tmp, 'bin', 'no-python'), fakePython] })
    );
    expect(found.source).toBe('python');
    expect(found.root).toBe(root);
    expect(found.libDir).toBe(path.join(root, 'lib'));
    expect(found.cmakePrefixPath).toBe(path.join(root, 'share', 'cmake'));
    expect(found.version).toBe('2.11.0+cu130');
    expect(found.cuda).toBe(true);
    expect(found.attempts.at(-2)).toMatchObject({ step: 'python', ok: false });
    expect(found.attempts.at(-2).reason).toContain('was not found');
  });

  it('reuses a previously downloaded archive from the cache without downloading', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const root = path.join(cacheDir, 'libtorch-2.5.1+cpu');
    fakeLibTorch(root, { version: '2.5.1+cpu' });
    fs.writeFileSync(path.join(root, '.ictorch-archive.json'), '{}\n');

    const info = await finder.findLibTorch(isolated({}, { cacheDir }));
    expect(info.source).toBe('download');
    expect(info.root).toBe(root);
    expect(info.version).toBe('2.5.1+cpu');
  });
});

describe('C++ standard', () => {
  // LibTorch 2.12 and later are C++20 code whose ATen.h refuses older standards with an #error.
  const guard = (std: string) => `#pragma once\n#if !defined(_MSC_VER) && __cplusplus < ${std}\n#error C++ too old\n#endif\n`;

  it('is 17 up to LibTorch 2.11 and 20 from 2.12 on, by version', async () => {
    const expected: Record<string, number> = { '1.13.1': 17, '2.11.0+cu130': 17, '2.12.0+cpu': 20, '2.15.0+cu130': 20, '3.0.0': 20 };
    for (const [version, std] of Object.entries(expected)) {
      const root = path.join(tmp, 'std', version);
      fakeLibTorch(root, { version });
      const info = await finder.findLibTorch(isolated({ LIBTORCH: root }));
      expect([version, info.cxxStandard]).toEqual([version, std]);
    }
  });

  it("follows the guard in the headers over the version (a nightly says what it needs)", async () => {
    const root = path.join(tmp, 'std', 'nightly');
    fakeLibTorch(root, { version: '2.11.0.dev20260801+cpu' });
    fs.mkdirSync(path.join(root, 'include', 'ATen'), { recursive: true });
    fs.writeFileSync(path.join(root, 'include', 'ATen', 'ATen.h'), guard('201703L'));
    expect((await finder.findLibTorch(isolated({ LIBTORCH: root }))).cxxStandard).toBe(17);
    fs.writeFileSync(path.join(root, 'include', 'ATen', 'ATen.h'), guard('202002L'));
    expect((await finder.findLibTorch(isolated({ LIBTORCH: root }))).cxxStandard).toBe(20);
  });

  it('takes ICTORCH_CXX_STANDARD as 17 or 20 and refuses anything else', async () => {
    const root = path.join(tmp, 'std', 'override');
    fakeLibTorch(root, { version: '2.11.0+cpu' });
    expect((await finder.findLibTorch(isolated({ LIBTORCH: root, ICTORCH_CXX_STANDARD: '20' }))).cxxStandard).toBe(20);
    await expect(finder.findLibTorch(isolated({ LIBTORCH: root, ICTORCH_CXX_STANDARD: '14' }))).rejects.toThrow(
      'ICTORCH_CXX_STANDARD is "14"; expected 17 or 20.'
    );
  });
});

describe('failure message', () => {
  it('lists every attempt with its reason, then the ways to provide LibTorch', async () => {
    const missing = path.join(tmp, 'nowhere');
    const options = isolated(
      {
        LIBTORCH: path.join(missing, 'libtorch'),
        Torch_DIR: path.join(missing, 'torch-cmake'),
        CMAKE_PREFIX_PATH: path.join(missing, 'prefix'),
      },
      {
        pythonCandidates: [path.join(missing, 'bin', 'python3')],
        systemCandidates: [path.join(missing, 'usr', 'lib', 'cmake', 'Torch')],
      }
    );

    const error = await finder.findLibTorch(options).then(
      () => null,
      (e: Error & { attempts: unknown[] }) => e
    );
    expect(error).toBeInstanceOf(Error);
    const message = error!.message;
    expect(error!.attempts).toHaveLength(6);
    expect(message).toMatch(/1\. LIBTORCH \(.*nowhere\/libtorch\): .*is not a directory\./);
    expect(message).toMatch(/2\. Torch_DIR \(.*torch-cmake\): .*TorchConfig\.cmake does not exist/);
    expect(message).toMatch(/3\. CMAKE_PREFIX_PATH \(.*prefix\): neither .* exists\./);
    expect(message).toMatch(/4\. python \(.*python3\): .*was not found\./);
    expect(message).toMatch(/5\. system \(.*Torch\): .*TorchConfig\.cmake does not exist\./);
    expect(message).toMatch(/6\. download \(https:\/\/download\.pytorch\.org\/.*\): no LibTorch in the cache .* downloading is disabled/);
    expect(message).toContain('apt-get install libtorch-dev');
    expect(message).toContain('pip install torch');
    expect(message).toContain('LIBTORCH=/path/to/libtorch npm install');
    expect(message).toContain('Torch_DIR=');
    expect(message).toContain('ICTORCH_LIBTORCH_URL=');
    expect(message).toContain('https://download.pytorch.org/libtorch/');
    // The ways to provide LibTorch come after the attempts.
    expect(message.indexOf('Ways to provide LibTorch')).toBeGreaterThan(message.indexOf('6. download'));
  });
});

const debianConfig = '/usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake';

describe('this machine', () => {
  it.skipIf(!fs.existsSync(debianConfig))(
    "finds Debian's libtorch-dev when nothing else is set",
    async () => {
      const info = await finder.findLibTorch({
        env: { PATH: process.env.PATH ?? '', HOME: tmp },
        allowDownload: false,
        cacheDir: path.join(tmp, 'empty-cache'),
      });
      expect(info.source).toBe('system');
      expect(info.version).toMatch(/^1\.13\./);
      expect(info.root).toBe('/usr');
      expect(info.libDir).toBe('/usr/lib/x86_64-linux-gnu');
      expect(info.cuda).toBe(false);
      expect(info.cxxStandard).toBe(17);
      expect(finder.gypIncludeDirs(info)).toBe('/usr/include /usr/include/torch/csrc/api/include');
      expect(finder.gypLibraries(info)).toBe(
        '-L/usr/lib/x86_64-linux-gnu -Wl,-rpath,/usr/lib/x86_64-linux-gnu -ltorch -ltorch_cpu -lc10'
      );
      // Gloo's headers (Debian's libgloo-dev, as CI installs) turn process groups on for node-gyp too, unless ICTORCH_GLOO=0.
      const gloo = fs.existsSync('/usr/include/gloo/algorithm.h');
      expect(finder.gypDefines(info, {})).toBe(gloo ? 'ICTORCH_WITH_GLOO=1 USE_C10D_GLOO=1' : '');
      expect(finder.gypDefines(info, { ICTORCH_GLOO: '0' })).toBe('');
      // The python candidates were tried (and rejected) before the system install.
      const steps = info.attempts.map((a: { step: string }) => a.step);
      expect(steps.indexOf('python')).toBeGreaterThan(-1);
      expect(steps.indexOf('python')).toBeLessThan(steps.indexOf('system'));
    },
    60000
  );
});

describe('download', () => {
  it('rejects a file whose SHA-256 does not match, and accepts the right one', () => {
    const file = path.join(tmp, 'archive.zip');
    fs.writeFileSync(file, 'hello\n');
    const right = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03'; // sha256("hello\n")
    expect(finder.sha256File(file)).toBe(right);
    expect(finder.verifySha256(file, right.toUpperCase())).toBe(right);
    const wrong = '0'.repeat(64);
    expect(() => finder.verifySha256(file, wrong)).toThrow(/SHA-256 of .*archive\.zip is 5891b5b5.*but 0{64} was expected/);
    expect(() => finder.verifySha256(file, 'not-a-hash')).toThrow(/not 64 hexadecimal digits/);
  });

  it('refuses to download an archive whose checksum is unknown and says how to supply it', async () => {
    const error = await finder
      .findLibTorch(isolated({ ICTORCH_CUDA: '12.6' }, { allowDownload: true }))
      .then(() => null, (e: Error) => e);
    expect(error!.message).toMatch(/refusing to download https:\/\/download\.pytorch\.org\/libtorch\/cu126\/\S+ because its SHA-256 is not known/);
    expect(error!.message).toContain('ICTORCH_LIBTORCH_SHA256=<its sha256>');

    const custom = await finder
      .findLibTorch(isolated({ ICTORCH_LIBTORCH_URL: 'https://example.invalid/libtorch.zip' }, { allowDownload: true }))
      .then(() => null, (e: Error) => e);
    expect(custom!.message).toMatch(/refusing to download https:\/\/example\.invalid\/libtorch\.zip/);
  });

  it('does not download when ICTORCH_NO_DOWNLOAD is set', async () => {
    const error = await finder
      .findLibTorch(isolated({ ICTORCH_NO_DOWNLOAD: '1' }, { allowDownload: true }))
      .then(() => null, (e: Error) => e);
    expect(error!.message).toMatch(/download \(.*\): no LibTorch in the cache .* ICTORCH_NO_DOWNLOAD is set\./);
  });

  it('chooses a pinned archive for the CPU, an explicit CUDA version, or the GPU driver', () => {
    const none = () => null;
    const cpu = finder.chooseArchive({}, none).spec;
    expect(cpu).toMatchObject({ variant: 'cpu', version: '2.5.1' });
    expect(cpu.url).toBe('https://download.pytorch.org/libtorch/cpu/libtorch-cxx11-abi-shared-with-deps-2.5.1%2Bcpu.zip');
    expect(cpu.sha256).toMatch(/^[0-9a-f]{64}$/);

    expect(finder.chooseArchive({ ICTORCH_CUDA: '13.0' }, none).spec).toMatchObject({ variant: 'cu130', version: '2.11.0' });
    expect(finder.chooseArchive({ ICTORCH_CUDA: '12.8' }, none).spec).toMatchObject({ variant: 'cu128', version: '2.10.0' });
    expect(finder.chooseArchive({ ICTORCH_CUDA: 'cpu' }, () => 130).spec.variant).toBe('cpu');
    expect(finder.chooseArchive({}, () => 130).spec.variant).toBe('cu130');
    expect(finder.chooseArchive({}, () => 129).spec.variant).toBe('cu128');
    expect(finder.chooseArchive({}, () => 124).spec.variant).toBe('cpu'); // no pinned build fits that driver
    expect(finder.chooseArchive({ ICTORCH_CUDA: 'banana' }, none).reason).toMatch(/ICTORCH_CUDA=banana is not understood/);
    for (const pinned of finder.PINNED_ARCHIVES) {
      expect(pinned.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(pinned.url).toContain(`${pinned.version}%2B${pinned.variant}.zip`);
    }
  });
});

describe('install.js build switches', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { cmakeJsArgs } = require('../scripts/install.js');
  const info = { cmakePrefixPath: '/p', torchDir: '/p/share/cmake/Torch', libDir: '/p/lib', cxxStandard: 17 };
  it('a build directory configured with other ICTORCH_GLOO/ICTORCH_JIT settings is configured again', () => {
    const { dropStaleCache } = require('../scripts/install.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-cache-'));
    const cache = path.join(dir, 'CMakeCache.txt');
    const write = (jit: string) => fs.writeFileSync(cache, `ICTORCH_GLOO:BOOL=ON\nICTORCH_JIT:BOOL=${jit}\n`);
    try {
      write('ON');
      dropStaleCache(info, { ICTORCH_JIT: '1' }, cache);
      expect(fs.existsSync(cache)).toBe(true); // as configured
      dropStaleCache(info, { ICTORCH_JIT: '0' }, cache);
      expect(fs.existsSync(cache)).toBe(false); // turned off: reconfigure
      write('OFF');
      dropStaleCache(info, {}, cache);
      expect(fs.existsSync(cache)).toBe(false); // the default (on) again after a build without it
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ICTORCH_GLOO=0|1 and ICTORCH_JIT=0|1 reach CMake; anything else is an error', () => {
    expect(cmakeJsArgs(info, { PATH: '' })).not.toContain('--CDICTORCH_GLOO=OFF');
    expect(cmakeJsArgs(info, { PATH: '', ICTORCH_GLOO: '0' })).toContain('--CDICTORCH_GLOO=OFF');
    expect(cmakeJsArgs(info, { PATH: '', ICTORCH_GLOO: '1' })).toContain('--CDICTORCH_GLOO=ON');
    expect(() => cmakeJsArgs(info, { PATH: '', ICTORCH_GLOO: 'yes' })).toThrow(/ICTORCH_GLOO must be 0 or 1, got "yes"/);
    expect(cmakeJsArgs(info, { PATH: '', ICTORCH_JIT: '0' })).toContain('--CDICTORCH_JIT=OFF');
    expect(() => cmakeJsArgs(info, { PATH: '', ICTORCH_JIT: 'off' })).toThrow(/ICTORCH_JIT must be 0 or 1, got "off"/);
  });
});
