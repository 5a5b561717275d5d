// ic_fused.h: the per-thread and per-channel maths of the fused CUDA IC kernels (ic_cuda.cu), as plain
// __host__ __device__ functions with no ATen or CUDA library dependency, so that scripts/check-cuda.sh can also
// compile them for the host and run them in a sequential emulation of the kernels' grids (test/native/
// ic_fused_emulation.cc): index maths, mask groups, partial statistics and the forward/backward coefficients are
// checked there against a float64 reference, even on machines without a GPU. What the emulation cannot check is
// the device-only part: block reductions (warp shuffles, shared memory) and the launch configuration.
//
// The layer, per channel c over the M = N*S values of that channel (training):
//   forward   mean, biased var v, invstd = 1/sqrt(v + eps)
//             y = keep ? ((x - mean) * w * invstd + b) / (1 - p) : 0
//   backward  gy = keep ? g / (1 - p) : 0
//             S1 = sum(gy), S2 = sum(gy * (x - mean))
//             dbias = S1, dweight = S2 * invstd
//             dx = w * invstd * (gy - S1 / M - (x - mean) * invstd^2 * S2 / M)
// The keep decision of element e (its memory position) is bit (e & 3) of Philox4x32-10(counter (e >> 2, offset),
// key seed) compared with keepThreshold(p): forward and backward regenerate the same mask, whatever the launch.
#pragma once
#include <cstdint>
#include "ic/ic_math.h"

namespace ictorch::ic::fused {

// ---------------------------------------------------------------- random bits

struct Bits4 {
  uint32_t v[4];
};

IC_HOST_DEVICE uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
#if defined(__CUDA_ARCH__)
  *hi = __umulhi(a, b);
  return a * b;
#else
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
#endif
}

// Philox4x32-10 (Salmon et al. 2011; the same function as cuRAND's curand_Philox4x32_10 and Random123's
// philox4x32 with 10 rounds, checked against Random123's known-answer vectors by the emulation test).
IC_HOST_DEVICE Bits4 philox4x32_10(Bits4 ctr, uint32_t k0, uint32_t k1) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo32(0xD2511F53u, ctr.v[0], &hi0);
    const uint32_t lo1 = mulhilo32(0xCD9E8D57u, ctr.v[2], &hi1);
    ctr = Bits4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

// The 128 random bits of element group `group` (memory positions 4*group .. 4*group+3).
IC_HOST_DEVICE Bits4 groupBits(uint64_t seed, uint64_t offset, int64_t group) {
  const uint64_t g = static_cast<uint64_t>(group);
  Bits4 ctr{{static_cast<uint32_t>(g), static_cast<uint32_t>(g >> 32), static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32)}};
  return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Whether memory position e is kept (one Philox call; use groupBits directly where 4 neighbours are needed).
IC_HOST_DEVICE bool keepAt(uint64_t seed, uint64_t offset, int64_t e, uint32_t threshold) {
  return groupBits(seed, offset, e >> 2).v[e & 3] < threshold;
}

// ---------------------------------------------------------------- layout

// The input as the kernels see its memory: `planes` (NCHW-contiguous, memory (N, C, S) with S = H*W) or `rows`
// (channels-last or 2-d (N, C): memory (M, C) with M = N*S rows of C channels).
struct Shape {
  int64_t N, C, S;
  bool rows;
  bool idx32;  // numel() < 2^32: channel arithmetic in 32 bits (a 64-bit division costs several times more)
  IC_HOST_DEVICE int64_t perChannel() const { return N * S; }
  IC_HOST_DEVICE int64_t numel() const { return N * C * S; }
  IC_HOST_DEVICE int64_t channelOf(int64_t e) const {
    if (idx32) {
      const uint32_t u = static_cast<uint32_t>(e), c = static_cast<uint32_t>(C);
      return rows ? u % c : (u / static_cast<uint32_t>(S)) % c;
    }
    return rows ? e % C : (e / S) % C;
  }
  // Memory position of value j (0 <= j < N*S) of channel c.
  IC_HOST_DEVICE int64_t element(int64_t c, int64_t j) const {
    if (rows) return j * C + c;
    const int64_t n = j / S;
    return (n * C + c) * S + (j - n * S);
  }
};

template <typename T>
IC_HOST_DEVICE T squareRoot(T v) {
#if defined(__CUDA_ARCH__)
  return sqrt(v);
#else
  return std::sqrt(v);
#endif
}

// Walks values j, j + step, j + 2 step, ... of one channel of planes memory, keeping (n, s) = (j / S, j % S)
// without a division per value.
struct PlaneWalk {
  int64_t n, s, stepN, stepS, S;
  IC_HOST_DEVICE PlaneWalk(int64_t j, int64_t step, int64_t planeSize) : S(planeSize) {
    n = j / S;
    s = j - n * S;
    stepN = step / S;
    stepS = step - stepN * S;
  }
  IC_HOST_DEVICE void advance() {
    n += stepN;
    s += stepS;
    if (s >= S) {
      s -= S;
      ++n;
    }
  }
  IC_HOST_DEVICE int64_t element(int64_t C, int64_t c) const { return (n * C + c) * S + s; }
};

// Items [begin, end) of partial p of P over `items` items (contiguous chunks; the last ones may be empty).
IC_HOST_DEVICE void chunkOf(int64_t items, int64_t P, int64_t p, int64_t* begin, int64_t* end) {
  const int64_t chunk = (items + P - 1) / P;
  const int64_t b = p * chunk < items ? p * chunk : items;
  *begin = b;
  *end = b + chunk < items ? b + chunk : items;
}

// The channel of memory position e, and of position e given the channel c of position e - 1 (no division for
// rows, or for planes whose S is a multiple of 4, where the 4 elements of a mask group share a channel).
IC_HOST_DEVICE int64_t channelAt(const Shape& sh, int64_t e) { return sh.channelOf(e); }
IC_HOST_DEVICE int64_t nextChannel(const Shape& sh, int64_t c, int64_t e) {
  if (sh.rows) return c + 1 == sh.C ? 0 : c + 1;
  return (sh.S & 3) == 0 ? c : sh.channelOf(e);
}

// ---------------------------------------------------------------- launch configuration (host)

constexpr int kThreads = 256;  // every kernel's block size (1-d, or bx * by for the rows kernels)

// Splits per channel (or channel tile) of a reduction over `columns` blocks in x: enough blocks to fill the GPU
// (4 per multiprocessor), at least 4 items per thread, at most 65535 (grid.y).
inline int64_t splitsFor(int64_t columns, int64_t items, int64_t threadsPerColumn, int64_t multiProcessors) {
  const int64_t target = 4 * multiProcessors;
  const int64_t want = (target + columns - 1) / columns;
  int64_t cap = items / (threadsPerColumn * 4);
  if (cap < 1) cap = 1;
  int64_t p = want < cap ? want : cap;
  if (p > 65535) p = 65535;
  return p < 1 ? 1 : p;
}

// The x extent of a rows kernel's block over `units` columns: a power of two up to 32 covering them (y: kThreads / x).
inline int rowsBlockX(int64_t units) {
  int bx = 1;
  while (bx < 32 && bx < units) bx *= 2;
  return bx;
}

// ---------------------------------------------------------------- forward statistics

// Count, mean and sum of squared deviations of a set of values; combined with Chan et al.'s formula.
template <typename acc_t>
struct Moments {
  acc_t n, mean, m2;
};

template <typename acc_t>
IC_HOST_DEVICE Moments<acc_t> combine(const Moments<acc_t>& a, const Moments<acc_t>& b) {
  if (b.n == acc_t(0)) return a;
  if (a.n == acc_t(0)) return b;
  const acc_t n = a.n + b.n;
  const acc_t delta = b.mean - a.mean;
  const acc_t fb = b.n / n;
  return Moments<acc_t>{n, a.mean + delta * fb, a.m2 + b.m2 + delta * delta * a.n * fb};
}

// Shifted sums of one thread's values -> Moments. Shifting by a value of the channel keeps sum-of-squares
// cancellation small; each thread sees few enough values that float sums stay accurate.
template <typename acc_t>
struct ShiftedSums {
  acc_t ref, s, s2, n;
  IC_HOST_DEVICE void add(acc_t v) {
    const acc_t d = v - ref;
    s += d;
    s2 += d * d;
    n += acc_t(1);
  }
  IC_HOST_DEVICE Moments<acc_t> moments() const {
    if (n == acc_t(0)) return Moments<acc_t>{acc_t(0), acc_t(0), acc_t(0)};
    const acc_t dm = s / n;
    const acc_t m2 = s2 - s * dm;
    return Moments<acc_t>{n, ref + dm, m2 > acc_t(0) ? m2 : acc_t(0)};
  }
};

// Planes: thread `tid` of `threads` over values [begin, end) of channel c (a grid-stride loop over j).
template <typename scalar_t, typename acc_t>
IC_HOST_DEVICE Moments<acc_t> statsPlanesThread(const scalar_t* x, const Shape& sh, int64_t c, int64_t begin, int64_t end, int64_t tid, int64_t threads) {
  ShiftedSums<acc_t> t{static_cast<acc_t>(x[sh.element(c, 0)]), acc_t(0), acc_t(0), acc_t(0)};
  PlaneWalk w(begin + tid, threads, sh.S);
  for (int64_t j = begin + tid; j < end; j += threads, w.advance()) t.add(static_cast<acc_t>(x[w.element(sh.C, c)]));
  return t.moments();
}

// Rows: thread row `ty` of `by` over rows [begin, end), channel c (threads of a warp read neighbouring channels).
template <typename scalar_t, typename acc_t>
IC_HOST_DEVICE Moments<acc_t> statsRowsThread(const scalar_t* x, const Shape& sh, int64_t c, int64_t begin, int64_t end, int64_t ty, int64_t by) {
  ShiftedSums<acc_t> t{static_cast<acc_t>(x[c]), acc_t(0), acc_t(0), acc_t(0)};
  for (int64_t r = begin + ty; r < end; r += by) t.add(static_cast<acc_t>(x[r * sh.C + c]));
  return t.moments();
}

// Per channel: combines the P partials (n, mean, m2 triples), then writes the saved statistics, the affine
// coefficients of the forward (y = keep ? (x - mean) * scale + shift : 0) and the running statistics.
// weight/bias/runningMean/runningVar may be null (no affine / no running statistics).
template <typename acc_t>
IC_HOST_DEVICE void finalizeForwardChannel(const acc_t* partials, int64_t P, int64_t c, const acc_t* weight, const acc_t* bias, acc_t eps,
                                           acc_t momentum, acc_t invKeep, acc_t* mean, acc_t* invstd, acc_t* scale, acc_t* shift,
                                           acc_t* runningMean, acc_t* runningVar) {
  Moments<acc_t> m{acc_t(0), acc_t(0), acc_t(0)};
  for (int64_t p = 0; p < P; ++p) {
    const acc_t* q = partials + (c * P + p) * 3;
    m = combine(m, Moments<acc_t>{q[0], q[1], q[2]});
  }
  const acc_t var = m.n > acc_t(0) ? m.m2 / m.n : acc_t(0);
  const acc_t is = acc_t(1) / squareRoot(var + eps);
  const acc_t w = weight ? weight[c] : acc_t(1);
  const acc_t b = bias ? bias[c] : acc_t(0);
  mean[c] = m.mean;
  invstd[c] = is;
  scale[c] = w * is * invKeep;
  shift[c] = b * invKeep;
  if (runningMean) runningMean[c] = (acc_t(1) - momentum) * runningMean[c] + momentum * m.mean;
  if (runningVar) {
    const acc_t unbiased = m.n > acc_t(1) ? m.m2 / (m.n - acc_t(1)) : var;
    runningVar[c] = (acc_t(1) - momentum) * runningVar[c] + momentum * unbiased;
  }
}

// ---------------------------------------------------------------- backward

// Planes, V values per item (V = 4 when S % 4 == 0: an item is one mask group in one plane; else V = 1):
// sums of gy and gy * (x - mean) over items [begin, end) of channel c, thread `tid` of `threads`.
template <int V, typename scalar_t, typename acc_t>
IC_HOST_DEVICE void backwardPlanesThread(const scalar_t* g, const scalar_t* x, const Shape& sh, int64_t c, acc_t mean, int64_t begin, int64_t end,
                                         int64_t tid, int64_t threads, uint64_t seed, uint64_t offset, uint32_t threshold, acc_t invKeep,
                                         acc_t* s1, acc_t* s2) {
  acc_t a = 0, b = 0;
  PlaneWalk w((begin + tid) * V, threads * V, sh.S);
  for (int64_t q = begin + tid; q < end; q += threads, w.advance()) {
    const int64_t e0 = w.element(sh.C, c);
    const Bits4 bits = groupBits(seed, offset, e0 >> 2);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int k = 0; k < V; ++k) {
      const int64_t e = e0 + k;
      const acc_t gy = bits.v[e & 3] < threshold ? static_cast<acc_t>(g[e]) * invKeep : acc_t(0);
      a += gy;
      b += gy * (static_cast<acc_t>(x[e]) - mean);
    }
  }
  *s1 = a;
  *s2 = b;
}

// Rows, V channels per thread (V = 4 when C % 4 == 0: channels 4u..4u+3 of a row are one mask group; else V = 1,
// channel u): sums over rows [begin, end), thread row `ty` of `by`. s1/s2/mean hold V values.
template <int V, typename scalar_t, typename acc_t>
IC_HOST_DEVICE void backwardRowsThread(const scalar_t* g, const scalar_t* x, const Shape& sh, int64_t u, const acc_t* mean, int64_t begin, int64_t end,
                                       int64_t ty, int64_t by, uint64_t seed, uint64_t offset, uint32_t threshold, acc_t invKeep, acc_t* s1,
                                       acc_t* s2) {
  for (int k = 0; k < V; ++k) s1[k] = s2[k] = acc_t(0);
  for (int64_t r = begin + ty; r < end; r += by) {
    const int64_t e0 = r * sh.C + u * V;
    const Bits4 bits = groupBits(seed, offset, e0 >> 2);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int k = 0; k < V; ++k) {
      const int64_t e = e0 + k;
      const acc_t gy = bits.v[e & 3] < threshold ? static_cast<acc_t>(g[e]) * invKeep : acc_t(0);
      s1[k] += gy;
      s2[k] += gy * (static_cast<acc_t>(x[e]) - mean[k]);
    }
  }
}

// Per channel: sums the P partials (S1, S2 pairs) and writes dweight/dbias and the coefficients of
//   dx = (keep ? g * gscale : 0) + xscale * (x - mean) + shift.
template <typename acc_t>
IC_HOST_DEVICE void finalizeBackwardChannel(const acc_t* partials, int64_t P, int64_t c, acc_t count, const acc_t* invstd, const acc_t* weight,
                                            acc_t invKeep, acc_t* dweight, acc_t* dbias, acc_t* gscale, acc_t* xscale, acc_t* shift) {
  acc_t S1 = 0, S2 = 0;
  for (int64_t p = 0; p < P; ++p) {
    S1 += partials[(c * P + p) * 2];
    S2 += partials[(c * P + p) * 2 + 1];
  }
  const acc_t is = invstd[c];
  const acc_t w = weight ? weight[c] : acc_t(1);
  const acc_t k1 = w * is;
  if (dweight) dweight[c] = S2 * is;
  if (dbias) dbias[c] = S1;
  gscale[c] = k1 * invKeep;
  xscale[c] = -k1 * is * is * S2 / count;
  shift[c] = -k1 * S1 / count;
}

// ---------------------------------------------------------------- elementwise passes (one mask group each)

// Calls f(e, c, keep) for each element e of mask group `grp` (up to 4; bits: the group's Philox output), with its
// channel c and whether the mask keeps it.
template <typename F>
IC_HOST_DEVICE void forEachInGroup(const Shape& sh, const Bits4& bits, int64_t grp, uint32_t threshold, F&& f) {
  const int64_t numel = sh.numel();
  const int64_t e0 = grp * 4;
  int64_t c = channelAt(sh, e0);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int k = 0; k < 4; ++k) {
    const int64_t e = e0 + k;
    if (e >= numel) break;
    if (k > 0) c = nextChannel(sh, c, e);
    f(e, c, bits.v[k] < threshold);
  }
}

// y = keep ? (x - mean) * scale + shift : 0 for the elements of mask group `grp`.
template <typename scalar_t, typename acc_t>
IC_HOST_DEVICE void forwardApplyGroup(const scalar_t* x, scalar_t* y, const Shape& sh, const acc_t* mean, const acc_t* scale, const acc_t* shift,
                                      const Bits4& bits, int64_t grp, uint32_t threshold) {
  forEachInGroup(sh, bits, grp, threshold, [&](int64_t e, int64_t c, bool keep) {
    const acc_t v = (static_cast<acc_t>(x[e]) - mean[c]) * scale[c] + shift[c];
    y[e] = static_cast<scalar_t>(keep ? v : acc_t(0));
  });
}

// dx = (keep ? g * gscale : 0) + xscale * (x - mean) + shift for the elements of mask group `grp`.
template <typename scalar_t, typename acc_t>
IC_HOST_DEVICE void backwardApplyGroup(const scalar_t* g, const scalar_t* x, scalar_t* dx, const Shape& sh, const acc_t* mean, const acc_t* gscale,
                                       const acc_t* xscale, const acc_t* shift, const Bits4& bits, int64_t grp, uint32_t threshold) {
  forEachInGroup(sh, bits, grp, threshold, [&](int64_t e, int64_t c, bool keep) {
    const acc_t gy = keep ? static_cast<acc_t>(g[e]) * gscale[c] : acc_t(0);
    dx[e] = static_cast<scalar_t>(gy + xscale[c] * (static_cast<acc_t>(x[e]) - mean[c]) + shift[c]);
  });
}

}  // namespace ictorch::ic::fused
