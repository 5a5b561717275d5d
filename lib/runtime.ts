/** Process-level facts and settings: versions and devices, threads, seeding, memory. */
import * as fs from 'fs';
import * as path from 'path';
import { isAvailable as jitAvailable } from './jit';
import { buildInfo, native, packageRoot, type NativeInfo, type NativeMemoryStats } from './native';
import { Tensor } from './tensor';
import { checkInt, typeError } from './validate';

const N = native();

/** Seeds every random generator ictorch uses (CPU and each CUDA device), like `torch.manual_seed`. */
export function manualSeed(seed: number): void {
  checkInt('manualSeed', 'seed', seed, 0);
  N.manualSeed(seed);
}

/** The full state of every random generator (CPU and each CUDA device), for checkpoints. */
export interface RngState {
  cpu: Tensor;
  cuda: Tensor[];
}

/** Captures the random generators' states (tensors; dispose them or use tidy). */
export function rngState(): RngState {
  const s = N.rngState();
  return { cpu: new Tensor(s.cpu), cuda: s.cuda.map((h) => new Tensor(h)) };
}

/** Restores states captured by `rngState()`: the random sequence continues exactly from there. */
export function setRngState(state: RngState): void {
  if (!state || !(state.cpu instanceof Tensor)) throw typeError('setRngState', 'state', 'an object from rngState()', state);
  N.setRngState(state.cpu.handle, (state.cuda ?? []).map((t) => t.handle));
}

/** Sets LibTorch's intra-op thread count (defaults to the cores this process may use, or ICTORCH_NUM_THREADS). */
export function setNumThreads(threads: number): void {
  checkInt('setNumThreads', 'threads', threads, 1, 4096);
  N.setNumThreads(threads);
}

/** LibTorch's intra-op thread count. */
export function getNumThreads(): number {
  return N.getNumThreads();
}

/** Live tensors and bytes per device, plus CUDA caching-allocator statistics per GPU. */
export interface MemoryInfo extends NativeMemoryStats {
  /** Live tensor handles over all devices. */
  tensors: number;
  /** Bytes owned by live tensor handles over all devices. */
  bytes: number;
}

/**
 * Live tensor count and bytes per device. A handle counts until it is disposed or garbage-collected; bytes
 * are those of the distinct storages live handles reference (views and aliases share). `collected` counts
 * handles the garbage collector freed because nobody disposed them: in a loop it should stay flat.
 */
export function memory(): MemoryInfo {
  const s = N.memoryStats();
  let tensors = 0;
  let bytes = 0;
  for (const d of Object.values(s.devices)) {
    tensors += d.tensors;
    bytes += d.bytes;
  }
  return { ...s, tensors, bytes };
}

/** CUDA helpers. */
export const cuda = {
  /** True when LibTorch was built with CUDA and sees at least one GPU. */
  isAvailable(): boolean {
    return N.cudaDeviceCount() > 0;
  },
  /** Number of visible GPUs. */
  deviceCount(): number {
    return N.cudaDeviceCount();
  },
  /** Waits for all queued GPU work on every stream. */
  synchronize(): void {
    N.cudaSynchronize();
  },
  /** Resets the allocator's peak statistics (see `memory().cuda[i].peakAllocated`). */
  resetPeakMemoryStats(): void {
    N.resetPeakMemory();
  },
};

/** Everything `ictorch info` prints. */
export interface Info extends Omit<NativeInfo, 'dtypes'> {
  ictorchVersion: string;
  nodeVersion: string;
  /** The addon file loaded. */
  addon: string;
  /** What CMake recorded at build time (LibTorch location, compiler, flags), or null. */
  build: Record<string, string> | null;
  /** The process-group backends of this build (`['gloo']`, or none: no data-parallel training). */
  processGroupBackends: string[];
  /** Whether this build runs TorchScript (`torch.jit.load`; false when built with `ICTORCH_JIT=0`). */
  torchScript: boolean;
}

/** Package and LibTorch versions, CUDA/cuDNN and devices, threads and build flags. */
export function info(): Info {
  const n = N.info();
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return {
    ictorchVersion: pkg.version,
    nodeVersion: process.version,
    torchVersion: n.torchVersion,
    builtWithCuda: n.builtWithCuda,
    cudaAvailable: n.cudaAvailable,
    cudnnAvailable: n.cudnnAvailable,
    cudnnVersion: n.cudnnVersion,
    cudaDevices: n.cudaDevices,
    numThreads: n.numThreads,
    addon: path.join(packageRoot, 'build', 'Release', 'ictorch.node'),
    build: buildInfo(),
    processGroupBackends: N.processGroupBackends(),
    torchScript: jitAvailable(),
    parallelInfo: n.parallelInfo,
    buildConfig: n.buildConfig,
  };
}

/** The dtype names the native addon knows (for checking against `DTYPES`). */
export function nativeDTypes(): string[] {
  return N.info().dtypes;
}
