// ic_cuda.cu: the fused IC kernel. Why it exists: BatchNorm2d + Dropout in PyTorch is three passes over the
// activation (normalise, draw a mask, multiply) and stores the mask for backward. Here one pass reads x and
// writes y = keep ? x*scale[c] + shift[c] : 0 (scale/shift fold the affine transform, the batch statistics
// and 1/(1-p)); the keep decision comes from Philox4x32-10(seed; element group, offset), so backward recomputes it
// instead of keeping a mask tensor alive. Works for NCHW and channels-last (the index is the memory position).
#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDAException.h>
#include <curand_kernel.h>
#include <cmath>
#include <cstring>
#if __has_include(<ATen/cuda/PhiloxUtils.cuh>)
#include <ATen/cuda/PhiloxUtils.cuh>
#else
#include <ATen/cuda/detail/UnpackRaw.cuh>
#endif
#include "ic/ic.h"
#include "ic/ic_math.h"

namespace ictorch::ic {
namespace {

constexpr int kThreads = 256;

// 128 random bits for element group `group` (elements 4*group .. 4*group+3): Philox4x32-10 keyed by the seed,
// counting (group, offset). Stateless, so backward and forward agree whatever the launch configuration, and
// cheaper than curand_init per group.
__device__ __forceinline__ uint4 groupBits(uint64_t seed, uint64_t offset, int64_t group) {
  const uint64_t g = static_cast<uint64_t>(group);
  uint4 ctr = make_uint4(static_cast<uint32_t>(g), static_cast<uint32_t>(g >> 32), static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32));
  uint2 key = make_uint2(static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  return curand_Philox4x32_10(ctr, key);
}

__device__ __forceinline__ uint32_t pick(const uint4& r, int k) { return k == 0 ? r.x : k == 1 ? r.y : k == 2 ? r.z : r.w; }

// The channel of memory position e: NCHW (e / S) % C, channels-last e % C. A group of 4 stays in one
// channel for NCHW when S % 4 == 0 (every CIFAR/ImageNet feature map), so the division runs once per group.
template <typename scalar_t, typename acc_t>
__global__ void forwardKernel(const scalar_t* __restrict__ x, scalar_t* __restrict__ y, const acc_t* __restrict__ scale,
                              const acc_t* __restrict__ shift, int64_t numel, int64_t C, int64_t S, bool channelsLast,
                              at::PhiloxCudaState philox, uint32_t threshold) {
  auto seeds = at::cuda::philox::unpack(philox);
  const uint64_t seed = std::get<0>(seeds), offset = std::get<1>(seeds);
  const int64_t groups = (numel + 3) / 4;
  const bool planeGroups = !channelsLast && (S % 4 == 0);
  for (int64_t g = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; g < groups; g += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const uint4 r = groupBits(seed, offset, g);
    const int64_t e0 = g * 4;
    int64_t c = channelsLast ? e0 % C : (e0 / S) % C;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int64_t e = e0 + k;
      if (e >= numel) break;
      if (k > 0) {
        if (channelsLast) c = (c + 1 == C) ? 0 : c + 1;
        else if (!planeGroups) c = (e / S) % C;
      }
      y[e] = static_cast<scalar_t>(apply<acc_t>(static_cast<acc_t>(x[e]), scale[c], shift[c], pick(r, k) < threshold));
    }
  }
}

template <typename scalar_t>
__global__ void maskGradKernel(const scalar_t* __restrict__ g, scalar_t* __restrict__ out, int64_t numel, at::PhiloxCudaState philox,
                               uint32_t threshold, float invKeep) {
  auto seeds = at::cuda::philox::unpack(philox);
  const uint64_t seed = std::get<0>(seeds), offset = std::get<1>(seeds);
  const int64_t groups = (numel + 3) / 4;
  for (int64_t grp = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; grp < groups; grp += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const uint4 r = groupBits(seed, offset, grp);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int64_t e = grp * 4 + k;
      if (e >= numel) break;
      out[e] = pick(r, k) < threshold ? static_cast<scalar_t>(static_cast<float>(g[e]) * invKeep) : static_cast<scalar_t>(0);
    }
  }
}

int blocksFor(int64_t numel) {
  const int64_t groups = (numel + 3) / 4;
  const int sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((groups + kThreads - 1) / kThreads, static_cast<int64_t>(sms) * 8)));
}

at::PhiloxCudaState stateFromBytes(const at::Tensor& bytes) {
  at::PhiloxCudaState s;
  TORCH_CHECK(bytes.numel() == static_cast<int64_t>(sizeof(s)), "IC: saved random state has the wrong size");
  std::memcpy(&s, bytes.data_ptr(), sizeof(s));
  return s;
}

}  // namespace

at::Tensor cudaForward(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& shift, double dropRate, at::Tensor& philoxState) {
  const bool channelsLast = x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast);
  TORCH_CHECK(x.is_contiguous() || channelsLast, "IC: input must be contiguous or channels-last");
  at::Tensor y = at::empty_like(x);
  const int64_t numel = x.numel();
  if (numel == 0) return y;
  const int64_t C = x.size(1);
  const int64_t S = x.dim() == 4 ? x.size(2) * x.size(3) : 1;
  at::PhiloxCudaState rng;
  {
    auto gen = at::get_generator_or_default<at::CUDAGeneratorImpl>(c10::nullopt, at::cuda::detail::getDefaultCUDAGenerator());
    std::lock_guard<std::mutex> lock(gen->mutex_);
    rng = gen->philox_cuda_state(4);  // offsets of successive calls stay 4 apart, as PyTorch counts them
  }
  philoxState = at::empty({static_cast<int64_t>(sizeof(rng))}, at::kByte);
  std::memcpy(philoxState.data_ptr(), &rng, sizeof(rng));
  auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "ic_forward_cuda", [&] {
    using acc_t = at::acc_type<scalar_t, true>;
    at::Tensor sc = scale.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    at::Tensor sh = shift.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    forwardKernel<scalar_t, acc_t><<<blocksFor(numel), kThreads, 0, stream>>>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), sc.data_ptr<acc_t>(),
                                                                             sh.data_ptr<acc_t>(), numel, C, S, channelsLast, rng,
                                                                             keepThreshold(dropRate));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return y;
}

at::Tensor cudaMaskGrad(const at::Tensor& grad, const at::Tensor& philoxState, double dropRate) {
  at::Tensor out = at::empty_like(grad);
  const int64_t numel = grad.numel();
  if (numel == 0) return out;
  at::PhiloxCudaState rng = stateFromBytes(philoxState);
  auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "ic_mask_grad_cuda", [&] {
    maskGradKernel<scalar_t><<<blocksFor(numel), kThreads, 0, stream>>>(grad.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), numel, rng,
                                                                        keepThreshold(dropRate), static_cast<float>(1.0 / (1.0 - dropRate)));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

}  // namespace ictorch::ic
