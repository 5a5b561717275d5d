// ic_cuda.cu: the fused IC layer on CUDA. Why it exists: BatchNorm2d + Dropout in PyTorch is three passes over
// the activation (normalise, draw a mask, multiply) and stores the mask for backward. Here:
//   forward   statistics kernel (per-channel partial moments over a 2-d grid of channel x split)
//             finalize kernel (one thread per channel: mean, invstd, scale/shift, running statistics)
//             apply kernel (y = keep ? (x - mean) * scale + shift : 0, one pass, the mask from Philox)
//   backward  reduction kernel (per-channel partial sums of gy and gy * (x - mean), the mask regenerated)
//             finalize kernel (dweight, dbias and the coefficients of dx)
//             apply kernel (dx from g and x, the mask regenerated again)
// Six launches per layer and step, no host synchronisation, no mask tensor; the random state (seed, offset)
// comes from the CUDA generator as PyTorch's dropout takes it, so the kernels are safe to capture in a CUDA
// graph. Works on NCHW-contiguous ("planes") and channels-last or (N, C) ("rows") memory, float32, float16,
// bfloat16 (float accumulation) and float64. The per-thread maths is in ic_fused.h (emulated on the CPU by
// scripts/check-cuda.sh); the composite reference (at::batch_norm + at::dropout) is icComposite in ic.cc.
#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDAException.h>
#include <algorithm>
#include <cstring>
#include <tuple>
#if __has_include(<ATen/cuda/PhiloxUtils.cuh>)
#include <ATen/cuda/PhiloxUtils.cuh>
#else
#include <ATen/cuda/detail/UnpackRaw.cuh>
#endif
#include "compat.h"
#include "ic/ic.h"
#include "ic/ic_fused.h"
#include "ic/ic_math.h"

namespace ictorch::ic {
namespace {

using fused::Bits4;
using fused::Moments;
using fused::Shape;

using fused::kThreads;
constexpr unsigned kFullMask = 0xffffffffu;

// ---------------------------------------------------------------- block reductions (device only)

template <typename acc_t>
__device__ __forceinline__ Moments<acc_t> shuffleDown(const Moments<acc_t>& m, int offset) {
  return Moments<acc_t>{__shfl_down_sync(kFullMask, m.n, offset), __shfl_down_sync(kFullMask, m.mean, offset),
                        __shfl_down_sync(kFullMask, m.m2, offset)};
}

// Combines the moments of a 1-d block of kThreads threads; the result is valid in thread 0.
template <typename acc_t>
__device__ Moments<acc_t> blockMoments(Moments<acc_t> m) {
  __shared__ acc_t sn[kThreads / 32], smean[kThreads / 32], sm2[kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) m = fused::combine(m, shuffleDown(m, o));
  if (lane == 0) {
    sn[warp] = m.n;
    smean[warp] = m.mean;
    sm2[warp] = m.m2;
  }
  __syncthreads();
  if (warp == 0) {
    m = lane < kThreads / 32 ? Moments<acc_t>{sn[lane], smean[lane], sm2[lane]} : Moments<acc_t>{acc_t(0), acc_t(0), acc_t(0)};
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) m = fused::combine(m, shuffleDown(m, o));
  }
  return m;
}

// Sums two values over a 1-d block of kThreads threads; the result is valid in thread 0.
template <typename acc_t>
__device__ void blockSum2(acc_t& a, acc_t& b) {
  __shared__ acc_t sa[kThreads / 32], sb[kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    a += __shfl_down_sync(kFullMask, a, o);
    b += __shfl_down_sync(kFullMask, b, o);
  }
  if (lane == 0) {
    sa[warp] = a;
    sb[warp] = b;
  }
  __syncthreads();
  if (warp == 0) {
    a = lane < kThreads / 32 ? sa[lane] : acc_t(0);
    b = lane < kThreads / 32 ? sb[lane] : acc_t(0);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      a += __shfl_down_sync(kFullMask, a, o);
      b += __shfl_down_sync(kFullMask, b, o);
    }
  }
}

__device__ __forceinline__ void unpackPhilox(const at::PhiloxCudaState& philox, uint64_t* seed, uint64_t* offset) {
  auto s = at::cuda::philox::unpack(philox);
  *seed = std::get<0>(s);
  *offset = std::get<1>(s);
}

// ---------------------------------------------------------------- forward

// Planes: block (c, p) reduces split p of channel c; partials[(c * P + p) * 3 + {0, 1, 2}] = n, mean, m2.
template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) statsPlanesKernel(const scalar_t* __restrict__ x, Shape sh, int64_t P, acc_t* __restrict__ partials) {
  const int64_t c = blockIdx.x, p = blockIdx.y;
  int64_t begin, end;
  fused::chunkOf(sh.perChannel(), P, p, &begin, &end);
  Moments<acc_t> m = fused::statsPlanesThread<scalar_t, acc_t>(x, sh, c, begin, end, threadIdx.x, blockDim.x);
  m = blockMoments(m);
  if (threadIdx.x == 0) {
    acc_t* q = partials + (c * P + p) * 3;
    q[0] = m.n;
    q[1] = m.mean;
    q[2] = m.m2;
  }
}

// Rows: block (tile, p) of (bx channels) x (by rows); thread (tx, ty) takes channel tile*bx + tx, rows ty, ty+by, ...
// of split p; the by partial moments of a channel are combined in shared memory (by is a power of two).
template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) statsRowsKernel(const scalar_t* __restrict__ x, Shape sh, int64_t P, acc_t* __restrict__ partials) {
  __shared__ acc_t sn[kThreads], smean[kThreads], sm2[kThreads];
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * bx + tx, p = blockIdx.y;
  int64_t begin, end;
  fused::chunkOf(sh.perChannel(), P, p, &begin, &end);
  Moments<acc_t> m{acc_t(0), acc_t(0), acc_t(0)};
  if (c < sh.C) m = fused::statsRowsThread<scalar_t, acc_t>(x, sh, c, begin, end, ty, by);
  const int i = ty * bx + tx;
  sn[i] = m.n;
  smean[i] = m.mean;
  sm2[i] = m.m2;
  __syncthreads();
  for (int s = by / 2; s > 0; s >>= 1) {
    if (ty < s) {
      const int j = (ty + s) * bx + tx;
      const Moments<acc_t> r = fused::combine(Moments<acc_t>{sn[i], smean[i], sm2[i]}, Moments<acc_t>{sn[j], smean[j], sm2[j]});
      sn[i] = r.n;
      smean[i] = r.mean;
      sm2[i] = r.m2;
    }
    __syncthreads();
  }
  if (ty == 0 && c < sh.C) {
    acc_t* q = partials + (c * P + p) * 3;
    q[0] = sn[tx];
    q[1] = smean[tx];
    q[2] = sm2[tx];
  }
}

template <typename acc_t>
__global__ void finalizeForwardKernel(const acc_t* __restrict__ partials, int64_t P, int64_t C, const acc_t* weight, const acc_t* bias, acc_t eps,
                                      acc_t momentum, acc_t invKeep, acc_t* mean, acc_t* invstd, acc_t* scale, acc_t* shift, acc_t* runningMean,
                                      acc_t* runningVar) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c < C) fused::finalizeForwardChannel(partials, P, c, weight, bias, eps, momentum, invKeep, mean, invstd, scale, shift, runningMean, runningVar);
}

// y = keep ? (x - mean) * scale + shift : 0, one mask group (4 elements, one Philox call) per thread and step.
template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) forwardApplyKernel(const scalar_t* __restrict__ x, scalar_t* __restrict__ y, Shape sh, const acc_t* __restrict__ mean,
                                                               const acc_t* __restrict__ scale, const acc_t* __restrict__ shift, at::PhiloxCudaState philox,
                                                               uint32_t threshold) {
  uint64_t seed, offset;
  unpackPhilox(philox, &seed, &offset);
  const int64_t numel = sh.numel();
  const int64_t groups = (numel + 3) / 4;
  for (int64_t grp = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; grp < groups; grp += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    fused::forwardApplyGroup(x, y, sh, mean, scale, shift, fused::groupBits(seed, offset, grp), grp, threshold);
  }
}

// ---------------------------------------------------------------- backward

template <int V, typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) backwardPlanesKernel(const scalar_t* __restrict__ g, const scalar_t* __restrict__ x, Shape sh, int64_t P,
                                                                 const acc_t* __restrict__ mean, at::PhiloxCudaState philox, uint32_t threshold,
                                                                 acc_t invKeep, acc_t* __restrict__ partials) {
  uint64_t seed, offset;
  unpackPhilox(philox, &seed, &offset);
  const int64_t c = blockIdx.x, p = blockIdx.y;
  int64_t begin, end;
  fused::chunkOf(sh.perChannel() / V, P, p, &begin, &end);
  acc_t s1, s2;
  fused::backwardPlanesThread<V, scalar_t, acc_t>(g, x, sh, c, mean[c], begin, end, threadIdx.x, blockDim.x, seed, offset, threshold, invKeep, &s1, &s2);
  blockSum2(s1, s2);
  if (threadIdx.x == 0) {
    partials[(c * P + p) * 2] = s1;
    partials[(c * P + p) * 2 + 1] = s2;
  }
}

template <int V, typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) backwardRowsKernel(const scalar_t* __restrict__ g, const scalar_t* __restrict__ x, Shape sh, int64_t P,
                                                               const acc_t* __restrict__ mean, at::PhiloxCudaState philox, uint32_t threshold,
                                                               acc_t invKeep, acc_t* __restrict__ partials) {
  __shared__ acc_t sa[kThreads * V], sb[kThreads * V];
  uint64_t seed, offset;
  unpackPhilox(philox, &seed, &offset);
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  const int64_t u = static_cast<int64_t>(blockIdx.x) * bx + tx, p = blockIdx.y;  // channels u*V .. u*V+V-1
  const int64_t units = sh.C / V;
  int64_t begin, end;
  fused::chunkOf(sh.perChannel(), P, p, &begin, &end);
  acc_t s1[V], s2[V], m[V];
#pragma unroll
  for (int k = 0; k < V; ++k) s1[k] = s2[k] = acc_t(0);
  if (u < units) {
#pragma unroll
    for (int k = 0; k < V; ++k) m[k] = mean[u * V + k];
    fused::backwardRowsThread<V, scalar_t, acc_t>(g, x, sh, u, m, begin, end, ty, by, seed, offset, threshold, invKeep, s1, s2);
  }
  const int i = ty * bx + tx;
#pragma unroll
  for (int k = 0; k < V; ++k) {
    sa[i * V + k] = s1[k];
    sb[i * V + k] = s2[k];
  }
  __syncthreads();
  for (int s = by / 2; s > 0; s >>= 1) {
    if (ty < s) {
      const int j = (ty + s) * bx + tx;
#pragma unroll
      for (int k = 0; k < V; ++k) {
        sa[i * V + k] += sa[j * V + k];
        sb[i * V + k] += sb[j * V + k];
      }
    }
    __syncthreads();
  }
  if (ty == 0 && u < units) {
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const int64_t c = u * V + k;
      partials[(c * P + p) * 2] = sa[tx * V + k];
      partials[(c * P + p) * 2 + 1] = sb[tx * V + k];
    }
  }
}

template <typename acc_t>
__global__ void finalizeBackwardKernel(const acc_t* __restrict__ partials, int64_t P, int64_t C, acc_t count, const acc_t* invstd, const acc_t* weight,
                                       acc_t invKeep, acc_t* dweight, acc_t* dbias, acc_t* gscale, acc_t* xscale, acc_t* shift) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c < C) fused::finalizeBackwardChannel(partials, P, c, count, invstd, weight, invKeep, dweight, dbias, gscale, xscale, shift);
}

// dx = (keep ? g * gscale : 0) + xscale * (x - mean) + shift, per mask group as the forward apply.
template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) backwardApplyKernel(const scalar_t* __restrict__ g, const scalar_t* __restrict__ x, scalar_t* __restrict__ dx,
                                                                Shape sh, const acc_t* __restrict__ mean, const acc_t* __restrict__ gscale,
                                                                const acc_t* __restrict__ xscale, const acc_t* __restrict__ shift,
                                                                at::PhiloxCudaState philox, uint32_t threshold) {
  uint64_t seed, offset;
  unpackPhilox(philox, &seed, &offset);
  const int64_t numel = sh.numel();
  const int64_t groups = (numel + 3) / 4;
  for (int64_t grp = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; grp < groups; grp += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    fused::backwardApplyGroup(g, x, dx, sh, mean, gscale, xscale, shift, fused::groupBits(seed, offset, grp), grp, threshold);
  }
}

// ---------------------------------------------------------------- host side

int multiProcessors() { return at::cuda::getCurrentDeviceProperties()->multiProcessorCount; }

// Blocks of the elementwise kernels: one mask group per thread, at most 8 blocks per multiprocessor (grid-stride).
int applyBlocks(int64_t numel) {
  const int64_t groups = (numel + 3) / 4;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((groups + kThreads - 1) / kThreads, static_cast<int64_t>(multiProcessors()) * 8)));
}

int64_t splitsFor(int64_t columns, int64_t items, int64_t threadsPerColumn) {
  return fused::splitsFor(columns, items, threadsPerColumn, multiProcessors());
}

dim3 rowsBlock(int64_t units) {
  const int bx = fused::rowsBlockX(units);
  return dim3(bx, kThreads / bx);
}

Shape shapeOf(const at::Tensor& x) {
  const bool rows = x.dim() == 2 || (!x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast));
  TORCH_CHECK(x.is_contiguous() || rows, "IC: the input must be contiguous or channels-last");
  const int64_t N = x.size(0), C = x.size(1);
  return Shape{N, C, x.dim() == 4 ? x.size(2) * x.size(3) : 1, rows, x.numel() < (int64_t{1} << 32)};
}

// The accumulation type of the kernels (at::acc_type<scalar_t, true>): double for double, else float.
at::ScalarType accType(const at::Tensor& x) { return x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat; }

// t in the accumulation type, contiguous: t itself when it already is (no copy, no launch), else a converted copy.
at::Tensor asAcc(const at::Tensor& t, at::ScalarType acc) {
  if (!t.defined()) return t;
  return t.scalar_type() == acc && t.is_contiguous() ? t : t.to(acc).contiguous();
}

template <typename T>
T* ptrOrNull(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

at::PhiloxCudaState stateFromBytes(const at::Tensor& bytes) {
  at::PhiloxCudaState s;
  TORCH_CHECK(bytes.numel() == static_cast<int64_t>(sizeof(s)), "IC: saved random state has the wrong size");
  std::memcpy(&s, bytes.data_ptr(), sizeof(s));
  return s;
}

}  // namespace

CudaForward cudaForward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& runningMean,
                        const at::Tensor& runningVar, double momentum, double eps, double dropRate) {
  const Shape sh = shapeOf(x);
  const at::ScalarType acc = accType(x);
  const auto accOpts = x.options().dtype(acc).memory_format(at::MemoryFormat::Contiguous);
  const int64_t C = sh.C;
  CudaForward r;
  r.mean = at::empty({C}, accOpts);
  r.invstd = at::empty({C}, accOpts);
  at::Tensor scale = at::empty({C}, accOpts), shift = at::empty({C}, accOpts);
  at::Tensor w = asAcc(weight, acc), b = asAcc(bias, acc), rm = asAcc(runningMean, acc), rv = asAcc(runningVar, acc);
  at::PhiloxCudaState rng;
  {
    auto gen = at::get_generator_or_default<at::CUDAGeneratorImpl>(compat::nullopt, at::cuda::detail::getDefaultCUDAGenerator());
    std::lock_guard<std::mutex> lock(gen->mutex_);
    rng = gen->philox_cuda_state(4);  // offsets of successive calls stay 4 apart, as PyTorch counts them
  }
  r.philox = at::empty({static_cast<int64_t>(sizeof(rng))}, at::kByte);
  std::memcpy(r.philox.data_ptr(), &rng, sizeof(rng));
  r.y = at::empty_like(x);
  auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "ic_forward_cuda", [&] {
    using acc_t = at::acc_type<scalar_t, true>;
    const scalar_t* xp = x.data_ptr<scalar_t>();
    int64_t P;
    at::Tensor partials;
    if (sh.rows) {
      const dim3 block = rowsBlock(C);
      const int64_t tiles = (C + block.x - 1) / block.x;
      P = splitsFor(tiles, sh.perChannel(), block.y);
      partials = at::empty({C * P * 3}, accOpts);
      statsRowsKernel<scalar_t, acc_t><<<dim3(static_cast<unsigned>(tiles), static_cast<unsigned>(P)), block, 0, stream>>>(xp, sh, P, partials.data_ptr<acc_t>());
    } else {
      P = splitsFor(C, sh.perChannel(), kThreads);
      partials = at::empty({C * P * 3}, accOpts);
      statsPlanesKernel<scalar_t, acc_t><<<dim3(static_cast<unsigned>(C), static_cast<unsigned>(P)), kThreads, 0, stream>>>(xp, sh, P, partials.data_ptr<acc_t>());
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    finalizeForwardKernel<acc_t><<<static_cast<unsigned>((C + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
        partials.data_ptr<acc_t>(), P, C, ptrOrNull<acc_t>(w), ptrOrNull<acc_t>(b), static_cast<acc_t>(eps), static_cast<acc_t>(momentum),
        static_cast<acc_t>(1.0 / (1.0 - dropRate)), r.mean.data_ptr<acc_t>(), r.invstd.data_ptr<acc_t>(), scale.data_ptr<acc_t>(),
        shift.data_ptr<acc_t>(), ptrOrNull<acc_t>(rm), ptrOrNull<acc_t>(rv));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    forwardApplyKernel<scalar_t, acc_t><<<applyBlocks(sh.numel()), kThreads, 0, stream>>>(xp, r.y.data_ptr<scalar_t>(), sh, r.mean.data_ptr<acc_t>(),
                                                                                        scale.data_ptr<acc_t>(), shift.data_ptr<acc_t>(), rng,
                                                                                        keepThreshold(dropRate));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  // Running statistics of another dtype (or strided) were updated in a float copy: write them back (a kernel, no sync).
  if (runningMean.defined() && !rm.is_same(runningMean)) runningMean.copy_(rm);
  if (runningVar.defined() && !rv.is_same(runningVar)) runningVar.copy_(rv);
  return r;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> cudaBackward(const at::Tensor& g, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& mean,
                                                            const at::Tensor& invstd, const at::Tensor& philoxState, double dropRate, bool affine,
                                                            bool inputGrad) {
  const Shape sh = shapeOf(x);
  const bool sameOrder = sh.rows && x.dim() == 4 ? g.is_contiguous(at::MemoryFormat::ChannelsLast) : g.is_contiguous();
  TORCH_CHECK(g.sizes().equals(x.sizes()) && sameOrder, "IC backward: the gradient must have the input's shape and memory layout");
  const at::ScalarType acc = accType(x);
  TORCH_CHECK(mean.scalar_type() == acc && invstd.scalar_type() == acc, "IC backward: saved statistics have the wrong dtype");
  const auto accOpts = x.options().dtype(acc).memory_format(at::MemoryFormat::Contiguous);
  const int64_t C = sh.C;
  const at::PhiloxCudaState rng = stateFromBytes(philoxState);
  at::Tensor w = asAcc(weight, acc);
  at::Tensor dweight = affine ? at::empty({C}, accOpts) : at::Tensor();
  at::Tensor dbias = affine ? at::empty({C}, accOpts) : at::Tensor();
  at::Tensor gscale = at::empty({C}, accOpts), xscale = at::empty({C}, accOpts), shift = at::empty({C}, accOpts);
  at::Tensor dx = inputGrad ? at::empty_like(x) : at::Tensor();
  const uint32_t threshold = keepThreshold(dropRate);
  auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "ic_backward_cuda", [&] {
    using acc_t = at::acc_type<scalar_t, true>;
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const acc_t invKeep = static_cast<acc_t>(1.0 / (1.0 - dropRate));
    const acc_t* mp = mean.data_ptr<acc_t>();
    int64_t P;
    at::Tensor partials;
    if (sh.rows) {
      const bool quads = sh.C % 4 == 0;  // channels 4u..4u+3 of a row form one mask group
      const int64_t units = quads ? C / 4 : C;
      const dim3 block = rowsBlock(units);
      const int64_t tiles = (units + block.x - 1) / block.x;
      P = splitsFor(tiles, sh.perChannel(), block.y);
      partials = at::empty({C * P * 2}, accOpts);
      const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(P));
      if (quads)
        backwardRowsKernel<4, scalar_t, acc_t><<<grid, block, 0, stream>>>(gp, xp, sh, P, mp, rng, threshold, invKeep, partials.data_ptr<acc_t>());
      else
        backwardRowsKernel<1, scalar_t, acc_t><<<grid, block, 0, stream>>>(gp, xp, sh, P, mp, rng, threshold, invKeep, partials.data_ptr<acc_t>());
    } else {
      const bool groups = sh.S % 4 == 0;  // 4 neighbours in a plane form one mask group
      P = splitsFor(C, sh.perChannel() / (groups ? 4 : 1), kThreads);
      partials = at::empty({C * P * 2}, accOpts);
      const dim3 grid(static_cast<unsigned>(C), static_cast<unsigned>(P));
      if (groups)
        backwardPlanesKernel<4, scalar_t, acc_t><<<grid, kThreads, 0, stream>>>(gp, xp, sh, P, mp, rng, threshold, invKeep, partials.data_ptr<acc_t>());
      else
        backwardPlanesKernel<1, scalar_t, acc_t><<<grid, kThreads, 0, stream>>>(gp, xp, sh, P, mp, rng, threshold, invKeep, partials.data_ptr<acc_t>());
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    finalizeBackwardKernel<acc_t><<<static_cast<unsigned>((C + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
        partials.data_ptr<acc_t>(), P, C, static_cast<acc_t>(sh.perChannel()), invstd.data_ptr<acc_t>(), ptrOrNull<acc_t>(w), invKeep,
        ptrOrNull<acc_t>(dweight), ptrOrNull<acc_t>(dbias), gscale.data_ptr<acc_t>(), xscale.data_ptr<acc_t>(), shift.data_ptr<acc_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    if (!inputGrad) return;
    backwardApplyKernel<scalar_t, acc_t><<<applyBlocks(sh.numel()), kThreads, 0, stream>>>(gp, xp, dx.data_ptr<scalar_t>(), sh, mp, gscale.data_ptr<acc_t>(),
                                                                                         xscale.data_ptr<acc_t>(), shift.data_ptr<acc_t>(), rng, threshold);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  if (affine && weight.scalar_type() != acc) {
    dweight = dweight.to(weight.scalar_type());
    dbias = dbias.to(weight.scalar_type());
  }
  return {dx, dweight, dbias};
}

}  // namespace ictorch::ic
