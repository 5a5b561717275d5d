// ic_math.h: scalar maths of the IC layer shared by the CPU and CUDA kernels.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define IC_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define IC_HOST_DEVICE inline
#endif

namespace ictorch::ic {

// y = keep ? (x * scale + shift) / (1 - p) : 0, where scale = weight * invstd and shift = bias - mean * scale
// are per channel; the 1/(1-p) factor is folded into scale/shift by the caller.
template <typename acc_t>
IC_HOST_DEVICE acc_t apply(acc_t x, acc_t scale, acc_t shift, bool keep) {
  return keep ? x * scale + shift : acc_t(0);
}

// Counter-based random bits for the CPU path: a 32-bit integer hash of (element index, key).
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

IC_HOST_DEVICE bool keepElement(uint64_t index, uint32_t keyLo, uint32_t keyHi, uint32_t threshold) {
  uint32_t h = hash32(static_cast<uint32_t>(index) ^ keyLo);
  h = hash32(h ^ static_cast<uint32_t>(index >> 32) ^ keyHi);
  return h < threshold;  // P(keep) = threshold / 2^32
}

}  // namespace ictorch::ic
