// ic_math.h: scalar maths of the IC layer shared by the CPU and CUDA kernels (the CUDA kernels' own maths is in
// ic_fused.h).
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define IC_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define IC_HOST_DEVICE inline
#endif

namespace ictorch::ic {

// Counter-based random bits for the CPU path: element i is kept when
//   hash32(hash32(lo32(i) ^ keyLo) ^ hi32(i) ^ keyHi) < (1 - p) * 2^32.
// Stateless, so backward regenerates exactly the forward's mask from the key alone, and the mask of an
// element does not depend on how the work was split between threads.
IC_HOST_DEVICE uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// The keep test of both paths is `bits < keepThreshold(p)` on 32 uniform random bits: P(keep) = 1 - p.
inline uint32_t keepThreshold(double dropRate) {
  const double t = std::ldexp(1.0 - dropRate, 32);
  return t >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<uint32_t>(t);
}

}  // namespace ictorch::ic
