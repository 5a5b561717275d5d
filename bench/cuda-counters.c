// bench/cuda-counters.c: an LD_PRELOAD library that counts CUDA runtime calls of a process, for the GPU benchmarks'
// "where the time goes" columns (kernels launched and host synchronisations per training step), the same way for
// ictorch (Node) and PyTorch (Python). Counts go to a shared 64-bit counter array in the file CUDA_COUNTERS_FILE,
// which the benchmark reads before and after its timed steps (a plain read of the file sees the mapped counters).
//
// Counted (CUDA runtime API, as libtorch_cuda calls it through the dynamic libcudart): kernel launches
// (cudaLaunchKernel, cudaLaunchKernelExC), graph launches, stream/device/event synchronisations, cudaMemcpy
// and cudaMemcpyAsync. Kernels that cuDNN and cuBLAS launch through the driver API are not seen.
//
//   gcc -shared -fPIC -O2 -o cuda-counters.so bench/cuda-counters.c -ldl
//   CUDA_COUNTERS_FILE=/tmp/c.bin LD_PRELOAD=$PWD/cuda-counters.so node bench/train-throughput.js
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

// Slot order, also read by bench/train-throughput.{js,py} (COUNTER_NAMES there).
enum { LAUNCH, LAUNCH_EX, GRAPH_LAUNCH, STREAM_SYNC, DEVICE_SYNC, EVENT_SYNC, MEMCPY, MEMCPY_ASYNC, NSLOTS };

static uint64_t fallback[NSLOTS];
static uint64_t* counters = fallback;

__attribute__((constructor)) static void openCounters(void) {
  const char* file = getenv("CUDA_COUNTERS_FILE");
  if (!file) return;
  int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  if (ftruncate(fd, sizeof(fallback)) == 0) {
    void* p = mmap(NULL, sizeof(fallback), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) counters = (uint64_t*)p;
  }
  close(fd);
}

static void bump(int slot) { __atomic_fetch_add(&counters[slot], 1, __ATOMIC_RELAXED); }

typedef int cudaError_t;
typedef void* cudaStream_t;
typedef struct {
  unsigned x, y, z;
} dim3;

// Defines `name` with the runtime's signature: count, then call the next definition (libcudart's).
#define WRAP(name, slot, params, args)                                   \
  typedef cudaError_t(*name##_fn) params;                                \
  cudaError_t name params {                                              \
    static name##_fn real;                                               \
    if (!real) real = (name##_fn)dlsym(RTLD_NEXT, #name);                \
    bump(slot);                                                          \
    return real ? real args : 999; /* cudaErrorUnknown: no libcudart */ \
  }

WRAP(cudaLaunchKernel, LAUNCH, (const void* func, dim3 grid, dim3 block, void** args, size_t shared, cudaStream_t stream),
     (func, grid, block, args, shared, stream))
WRAP(cudaLaunchKernelExC, LAUNCH_EX, (const void* config, const void* func, void** args), (config, func, args))
WRAP(cudaGraphLaunch, GRAPH_LAUNCH, (void* exec, cudaStream_t stream), (exec, stream))
WRAP(cudaStreamSynchronize, STREAM_SYNC, (cudaStream_t stream), (stream))
WRAP(cudaDeviceSynchronize, DEVICE_SYNC, (void), ())
WRAP(cudaEventSynchronize, EVENT_SYNC, (void* event), (event))
WRAP(cudaMemcpy, MEMCPY, (void* dst, const void* src, size_t count, int kind), (dst, src, count, kind))
WRAP(cudaMemcpyAsync, MEMCPY_ASYNC, (void* dst, const void* src, size_t count, int kind, cudaStream_t stream), (dst, src, count, kind, stream))
