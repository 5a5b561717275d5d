// ic.cc: the IC layer op. A composite path (batch_norm + dropout) that runs anywhere and serves as the
// reference, and fused paths with their own autograd function: one pass for normalise + affine + dropout,
// and a backward that regenerates the dropout mask from the saved random key instead of storing it.
#include "ic/ic.h"
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <cmath>
#include <cstring>
#include "compat.h"
#include "errors.h"
#include "ic/ic_math.h"

namespace ictorch::ic {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

Impl parseImpl(const std::string& name) {
  if (name == "auto") return Impl::Auto;
  if (name == "composite") return Impl::Composite;
  if (name == "fused") return Impl::Fused;
  throw ArgTypeError("unknown IC implementation \"" + name + "\"; expected \"auto\", \"fused\" or \"composite\"");
}

at::Tensor icComposite(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& runningMean,
                       const at::Tensor& runningVar, const Options& o) {
  at::Tensor y = at::batch_norm(x, weight, bias, runningMean, runningVar, o.training, o.momentum, o.eps, /*cudnn_enabled=*/true);
  if (!o.training || o.dropRate == 0.0) return y;
  return at::dropout(y, o.dropRate, /*train=*/true);
}

namespace {

// ---------------------------------------------------------------- CPU fused kernels (contiguous N,C[,H,W])

struct CpuKey { uint32_t lo, hi; };

CpuKey drawCpuKey() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  uint64_t k = at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
  return {static_cast<uint32_t>(k), static_cast<uint32_t>(k >> 32)};
}

// ---- per-plane loops, written so the compiler vectorises them (a 32-bit element counter, a branch-free
// select) and compiled for AVX-512, AVX2 and baseline x86-64, chosen at load time (GCC target_clones). The
// mask hash is the bulk of the IC layer's CPU cost: vectorised it costs about as much as one memory pass.
// Each loop exists per storage type T with its math type M: float and double in themselves, bfloat16 in float
// (read and written by its bits, so that the conversions vectorise too). Sums take M lanes within a plane (a
// plane is short) and double across planes.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define IC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define IC_CLONES
#endif

// bfloat16 is handled as its bits (uint16_t): a struct element keeps GCC from vectorising the loops.
inline float loadM(uint16_t v) {
  uint32_t b = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
inline uint16_t storeM(float f, uint16_t*) {  // round to nearest even, NaN stays NaN (as c10::BFloat16 rounds)
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  // selected in 32 bits, then narrowed: a 16-bit select needs AVX512BW, which the avx512f clone may not use
  const uint32_t r = (b & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FC0u : (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>(r);
}
inline float loadM(float v) { return v; }
inline float storeM(float v, float*) { return v; }
inline double loadM(double v) { return v; }
inline double storeM(double v, double*) { return v; }

// v where keep, else +0: an AND with an all-ones or all-zeros word rather than a select, which GCC does not
// vectorise for AVX2, nor for 16-bit lanes without AVX512BW.
inline float keepOrZero(bool keep, float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  b &= 0u - static_cast<uint32_t>(keep);
  std::memcpy(&v, &b, sizeof v);
  return v;
}
inline double keepOrZero(bool keep, double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  b &= uint64_t{0} - static_cast<uint64_t>(keep);
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// Keep-bits of elements (lo0 + k) for k < n, whose high index word is fixed: hiKey = (index >> 32) ^ keyHi.
#define IC_KEEP(k) (hash32(hash32((lo0 + static_cast<uint32_t>(k)) ^ keyLo) ^ hiKey) < thr)
#define IC_DEFINE_PLANE_KERNELS(T, M)                                                                                   \
  /* forward: y = keep ? x*a + b : 0 (a and b fold the normalisation, the affine and 1/(1-p)) */                       \
  IC_CLONES void applyPlane(const T* x, T* y, int64_t n, M a, M b, uint32_t lo0, uint32_t keyLo, uint32_t hiKey,   \
                            uint32_t thr) {                                                                         \
    _Pragma("omp simd") for (int64_t k = 0; k < n; ++k) {                                                            \
      M v = loadM(x[k]) * a + b;                                                                                    \
      y[k] = storeM(keepOrZero(IC_KEEP(k), v), y);                                                                    \
    }                                                                                                               \
  }                                                                                                                 \
  /* statistics: sum and sum of squares of (x - shift) */                                                          \
  IC_CLONES void planeSums(const T* p, int64_t n, M shift, double* s, double* s2) {                                 \
    M a = 0, b = 0;                                                                                                 \
    _Pragma("omp simd reduction(+ : a, b)") for (int64_t k = 0; k < n; ++k) {                                      \
      M d = loadM(p[k]) - shift;                                                                                    \
      a += d;                                                                                                       \
      b += d * d;                                                                                                   \
    }                                                                                                               \
    *s += a;                                                                                                        \
    *s2 += b;                                                                                                       \
  }                                                                                                                 \
  /* backward of the dropout alone: gy = keep ? g/(1-p) : 0 (float32/float64, before ATen's batch-norm backward) */ \
  [[maybe_unused]] IC_CLONES void maskGradPlane(const T* g, T* gy, int64_t n, M invKeep, uint32_t lo0, uint32_t keyLo, \
                                                uint32_t hiKey, uint32_t thr) {                                     \
    _Pragma("omp simd") for (int64_t k = 0; k < n; ++k) gy[k] = storeM(keepOrZero(IC_KEEP(k), loadM(g[k]) * invKeep), gy); \
  }                                                                                                                 \
  /* backward pass 1: gy = keep ? g/(1-p) : 0, written out, and the sums of gy and gy*(x - mean) */                 \
  [[maybe_unused]] IC_CLONES void gradSumsPlane(const T* g, const T* x, M* gy, int64_t n, M invKeep, M mean, uint32_t lo0,            \
                               uint32_t keyLo, uint32_t hiKey, uint32_t thr, double* s1, double* s2) {              \
    M a = 0, b = 0;                                                                                                 \
    _Pragma("omp simd reduction(+ : a, b)") for (int64_t k = 0; k < n; ++k) {                                      \
      M v = keepOrZero(IC_KEEP(k), loadM(g[k]) * invKeep);                                                          \
      gy[k] = v;                                                                                                    \
      a += v;                                                                                                       \
      b += v * (loadM(x[k]) - mean);                                                                                \
    }                                                                                                               \
    *s1 += a;                                                                                                       \
    *s2 += b;                                                                                                       \
  }                                                                                                                 \
  /* backward pass 2: dx = gy*ga + (x - mean)*xa + c */                                                            \
  [[maybe_unused]] IC_CLONES void gradInputPlane(const M* gy, const T* x, T* dx, int64_t n, M ga, M mean, M xa, M c) {              \
    _Pragma("omp simd") for (int64_t k = 0; k < n; ++k) dx[k] = storeM(gy[k] * ga + (loadM(x[k]) - mean) * xa + c, dx); \
  }
IC_DEFINE_PLANE_KERNELS(float, float)
IC_DEFINE_PLANE_KERNELS(double, double)
IC_DEFINE_PLANE_KERNELS(uint16_t, float)
#undef IC_DEFINE_PLANE_KERNELS
#undef IC_KEEP
// The pointers the plane loops take: bfloat16 as its bits.
inline const float* bits(const float* p) { return p; }
inline float* bits(float* p) { return p; }
inline const double* bits(const double* p) { return p; }
inline double* bits(double* p) { return p; }
inline const uint16_t* bits(const c10::BFloat16* p) { return reinterpret_cast<const uint16_t*>(p); }
inline uint16_t* bits(c10::BFloat16* p) { return reinterpret_cast<uint16_t*>(p); }

// Calls f(offset, length, lo0, hiKey) for the pieces of [base, base + n) that keep one high index word
// (a split happens only in tensors of more than 2^32 elements).
template <typename F>
void bySegments(uint64_t base, int64_t n, uint32_t keyHi, F&& f) {
  int64_t done = 0;
  while (done < n) {
    const uint64_t idx = base + static_cast<uint64_t>(done);
    const uint64_t room = (uint64_t{1} << 32) - (idx & 0xFFFFFFFFu);
    const int64_t len = static_cast<int64_t>(std::min<uint64_t>(room, static_cast<uint64_t>(n - done)));
    f(done, len, static_cast<uint32_t>(idx), static_cast<uint32_t>(idx >> 32) ^ keyHi);
    done += len;
  }
}

// Per-channel mean and biased variance of x viewed as (N, C, S), accumulated in double.
template <typename scalar_t>
void cpuStats(const scalar_t* x, int64_t N, int64_t C, int64_t S, double* mean, double* var) {
  using M = at::opmath_type<scalar_t>;
  at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      // Shifted sums: subtracting the channel's first value keeps sum-of-squares cancellation small.
      const M shiftv = loadM(bits(x)[c * S]);
      double s = 0, s2 = 0;
      for (int64_t n = 0; n < N; ++n) planeSums(bits(x + (n * C + c) * S), S, shiftv, &s, &s2);
      const double m = static_cast<double>(N * S);
      const double dm = s / m;
      mean[c] = static_cast<double>(shiftv) + dm;
      var[c] = std::max(0.0, s2 / m - dm * dm);
    }
  });
}

// y = keep ? x*scale[c] + shift[c] : 0, one pass over (N, C, S); the key makes the mask reproducible. (The fused op
// runs only with dropRate > 0: icLayer sends dropRate 0 to the composite, which is exactly BatchNorm.)
template <typename scalar_t, typename M = at::opmath_type<scalar_t>>
void cpuApply(const scalar_t* x, scalar_t* y, int64_t N, int64_t C, int64_t S, const M* scale, const M* shift, CpuKey key,
              uint32_t threshold) {
  at::parallel_for(0, N * C, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const int64_t c = plane % C;
      const M a = scale[c], b = shift[c];
      const scalar_t* xp = x + plane * S;
      scalar_t* yp = y + plane * S;
      bySegments(static_cast<uint64_t>(plane * S), S, key.hi, [&](int64_t off, int64_t len, uint32_t lo0, uint32_t hiKey) {
        applyPlane(bits(xp + off), bits(yp + off), len, a, b, lo0, key.lo, hiKey, threshold);
      });
    }
  });
}

// grad * mask / (1 - p), regenerating the mask from the key, in long runs.
template <typename scalar_t>
void cpuMaskGrad(const scalar_t* g, scalar_t* gy, int64_t numel, CpuKey key, uint32_t threshold, double invKeep) {
  using M = at::opmath_type<scalar_t>;
  at::parallel_for(0, numel, 16384, [&](int64_t i0, int64_t i1) {
    bySegments(static_cast<uint64_t>(i0), i1 - i0, key.hi, [&](int64_t off, int64_t len, uint32_t lo0, uint32_t hiKey) {
      maskGradPlane(bits(g + i0 + off), bits(gy + i0 + off), len, static_cast<M>(invKeep), lo0, key.lo, hiKey, threshold);
    });
  });
}

// Backward pass 1, per channel: gy = g * mask / (1 - p) (the mask regenerated from the key, never stored) into
// `gy` (in the math type), and s1 = sum(gy), s2 = sum(gy * (x - mean)).
template <typename scalar_t, typename M = at::opmath_type<scalar_t>>
void cpuGradSums(const scalar_t* g, const scalar_t* x, M* gy, int64_t N, int64_t C, int64_t S, const double* mean, double invKeep, CpuKey key,
                 uint32_t threshold, double* s1, double* s2) {
  at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double a = 0, b = 0;
      for (int64_t n = 0; n < N; ++n) {
        const int64_t at0 = (n * C + c) * S;
        bySegments(static_cast<uint64_t>(at0), S, key.hi, [&](int64_t off, int64_t len, uint32_t lo0, uint32_t hiKey) {
          gradSumsPlane(bits(g + at0 + off), bits(x + at0 + off), gy + at0 + off, len, static_cast<M>(invKeep), static_cast<M>(mean[c]), lo0,
                        key.lo, hiKey, threshold, &a, &b);
        });
      }
      s1[c] = a;
      s2[c] = b;
    }
  });
}

// Backward pass 2: dx = gy*ga[c] + (x - mean[c])*xa[c] + cst[c].
template <typename scalar_t, typename M = at::opmath_type<scalar_t>>
void cpuGradInput(const M* gy, const scalar_t* x, scalar_t* dx, int64_t N, int64_t C, int64_t S, const M* ga, const M* mean, const M* xa,
                  const M* cst) {
  at::parallel_for(0, N * C, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const int64_t c = plane % C;
      const int64_t at0 = plane * S;
      gradInputPlane(gy + at0, bits(x + at0), bits(dx + at0), S, ga[c], mean[c], xa[c], cst[c]);
    }
  });
}

void updateRunningStats(const at::Tensor& runningMean, const at::Tensor& runningVar, const at::Tensor& mean, const at::Tensor& biasedVar,
                        int64_t count, double momentum) {
  at::NoGradGuard noGrad;
  if (runningMean.defined()) runningMean.mul_(1 - momentum).add_(mean.to(runningMean.scalar_type()), momentum);
  if (runningVar.defined()) {
    double unbias = count > 1 ? static_cast<double>(count) / static_cast<double>(count - 1) : 1.0;
    runningVar.mul_(1 - momentum).add_(biasedVar.to(runningVar.scalar_type()), momentum * unbias);
  }
}

bool cpuFusable(const at::Tensor& x) {
  const auto st = x.scalar_type();
  return x.device().is_cpu() && (st == at::kFloat || st == at::kDouble || st == at::kBFloat16) && x.is_contiguous();
}

bool cudaFusable(const at::Tensor& x) {
#ifdef ICTORCH_WITH_CUDA
  auto st = x.scalar_type();
  return x.is_cuda() && (st == at::kFloat || st == at::kHalf || st == at::kBFloat16 || st == at::kDouble);
#else
  return false;
#endif
}

// ---------------------------------------------------------------- autograd function for the fused paths

struct ICFunction : public torch::autograd::Function<ICFunction> {
  // Optional tensors are passed as optionals: Function::apply cannot record an undefined tensor.
  static at::Tensor forward(AutogradContext* ctx, at::Tensor x, compat::optional<at::Tensor> weightOpt, compat::optional<at::Tensor> biasOpt,
                            compat::optional<at::Tensor> runningMeanOpt, compat::optional<at::Tensor> runningVarOpt, double momentum, double eps,
                            double dropRate) {
    const at::Tensor weight = weightOpt.value_or(at::Tensor()), bias = biasOpt.value_or(at::Tensor());
    const at::Tensor runningMean = runningMeanOpt.value_or(at::Tensor()), runningVar = runningVarOpt.value_or(at::Tensor());
    const int64_t C = x.size(1);
    const int64_t count = x.numel() / C;
    const double invKeep = 1.0 / (1.0 - dropRate);
    at::Tensor mean, invstd, y;
    if (x.is_cuda()) {
#ifdef ICTORCH_WITH_CUDA
      x = x.contiguous(x.suggest_memory_format());
      CudaForward f = cudaForward(x, weight, bias, runningMean, runningVar, momentum, eps, dropRate);
      y = f.y;
      mean = f.mean;
      invstd = f.invstd;
      ctx->saved_data["philox"] = f.philox;
#endif
    } else {
      x = x.contiguous();
      const int64_t N = x.size(0);
      const int64_t S = x.numel() / (N * C);
      at::Tensor meanD = at::empty({C}, at::kDouble), varD = at::empty({C}, at::kDouble);
      CpuKey key = drawCpuKey();
      y = at::empty_like(x);
      AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "ic_forward_cpu", [&] {
        using M = at::opmath_type<scalar_t>;
        const auto mType = c10::CppTypeToScalarType<M>::value;
        cpuStats<scalar_t>(x.data_ptr<scalar_t>(), N, C, S, meanD.data_ptr<double>(), varD.data_ptr<double>());
        at::Tensor invstdD = (varD + eps).rsqrt();
        at::Tensor w = weight.defined() ? weight.to(at::kDouble) : at::ones({C}, at::kDouble);
        at::Tensor b = bias.defined() ? bias.to(at::kDouble) : at::zeros({C}, at::kDouble);
        at::Tensor scale = (w * invstdD * invKeep).to(mType);
        at::Tensor shift = ((b - meanD * w * invstdD) * invKeep).to(mType);
        cpuApply<scalar_t>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), N, C, S, scale.data_ptr<M>(), shift.data_ptr<M>(), key,
                           keepThreshold(dropRate));
        mean = meanD;  // per channel, in double: only this op's backward reads them
        invstd = invstdD;
      });
      updateRunningStats(runningMean, runningVar, meanD, varD, count, momentum);
      ctx->saved_data["keyLo"] = static_cast<int64_t>(key.lo);
      ctx->saved_data["keyHi"] = static_cast<int64_t>(key.hi);
    }
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["dropRate"] = dropRate;
    ctx->saved_data["affine"] = weight.defined();
    ctx->save_for_backward({x, weight, mean, invstd});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    at::Tensor x = saved[0], weight = saved[1], mean = saved[2], invstd = saved[3];
    const double dropRate = ctx->saved_data["dropRate"].toDouble();  // > 0: icLayer sends 0 to the composite
    const bool affine = ctx->saved_data["affine"].toBool();
    if (x.is_cuda()) {
#ifdef ICTORCH_WITH_CUDA
      // The gradient in the input's memory order (the kernels index both by memory position).
      const bool rows = x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast);
      at::Tensor g = grads[0].contiguous(rows ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
      auto [dx, dw, db] = cudaBackward(g, x, affine ? weight : at::Tensor(), mean, invstd, ctx->saved_data["philox"].toTensor(), dropRate, affine,
                                       ctx->needs_input_grad(0));
      return {dx, dw, db, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
#endif
    }
    // CPU. float32/float64: the dropout's gradient gy = g * mask / (1 - p) (the mask regenerated from the key, never
    // stored), then ATen's batch-norm backward. bfloat16 (under autocast): two passes of our own in float, since
    // ATen's would need float copies of x and gy. The first writes gy and sums, per channel over m values,
    // s1 = sum(gy) and s2 = sum(gy (x - mean)); the second writes
    //   dx = w invstd gy - w invstd^3 s2/m (x - mean) - w invstd s1/m;  dbias = s1, dweight = s2 invstd.
    // (The two passes for float32 too made a ResNet-20 step 8-10% slower than ATen's backward: measured, not explained.)
    at::Tensor g = grads[0].to(x.scalar_type()).contiguous();
    const int64_t N = x.size(0), C = x.size(1), S = x.numel() / (N * C);
    const double invKeep = 1.0 / (1.0 - dropRate);
    const uint32_t threshold = keepThreshold(dropRate);
    CpuKey key{static_cast<uint32_t>(ctx->saved_data["keyLo"].toInt()), static_cast<uint32_t>(ctx->saved_data["keyHi"].toInt())};
    if (x.scalar_type() != at::kBFloat16) {
      at::Tensor gy = at::empty_like(g);
      AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "ic_mask_grad_cpu", [&] {
        cpuMaskGrad<scalar_t>(g.data_ptr<scalar_t>(), gy.data_ptr<scalar_t>(), g.numel(), key, threshold, invKeep);
      });
      const double eps = ctx->saved_data["eps"].toDouble();
      auto r = at::native_batch_norm_backward(gy, x, affine ? compat::optional<at::Tensor>(weight) : compat::nullopt, compat::nullopt,
                                              compat::nullopt, mean.to(x.scalar_type()), invstd.to(x.scalar_type()), /*train=*/true, eps,
                                              {ctx->needs_input_grad(0), affine, affine});
      return {std::get<0>(r), affine ? std::get<1>(r) : at::Tensor(), affine ? std::get<2>(r) : at::Tensor(), at::Tensor(), at::Tensor(),
              at::Tensor(), at::Tensor(), at::Tensor()};
    }
    const double m = static_cast<double>(N * S);
    at::Tensor s1 = at::empty({C}, at::kDouble), s2 = at::empty({C}, at::kDouble);
    at::Tensor dx;
    using M = float;
    const auto* gp = g.data_ptr<c10::BFloat16>();
    const auto* xp = x.data_ptr<c10::BFloat16>();
    at::Tensor gy = at::empty(x.sizes(), x.options().dtype(at::kFloat));
    cpuGradSums<c10::BFloat16>(gp, xp, gy.data_ptr<M>(), N, C, S, mean.data_ptr<double>(), invKeep, key, threshold, s1.data_ptr<double>(),
                               s2.data_ptr<double>());
    if (ctx->needs_input_grad(0)) {
      at::Tensor wi = (affine ? weight.to(at::kDouble) : at::ones({C}, at::kDouble)) * invstd;  // w invstd
      at::Tensor ga = wi.to(at::kFloat);
      at::Tensor xa = (-wi * invstd * invstd * s2 / m).to(at::kFloat);
      at::Tensor cst = (-wi * s1 / m).to(at::kFloat);
      at::Tensor meanM = mean.to(at::kFloat);
      dx = at::empty_like(x);
      cpuGradInput<c10::BFloat16>(gy.data_ptr<M>(), xp, dx.data_ptr<c10::BFloat16>(), N, C, S, ga.data_ptr<M>(), meanM.data_ptr<M>(),
                                  xa.data_ptr<M>(), cst.data_ptr<M>());
    }
    at::Tensor dw, db;
    if (affine) {
      dw = (s2 * invstd).to(weight.scalar_type());
      db = s1.to(weight.scalar_type());
    }
    return {dx, dw, db, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

void checkInputs(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& rm, const at::Tensor& rv,
                 const Options& o) {
  if (x.dim() != 2 && x.dim() != 4)
    throw ArgRangeError("input must be (N, C) or (N, C, H, W), got shape [" + c10::Join(", ", x.sizes()) + "]");
  if (!at::isFloatingType(x.scalar_type())) throw ArgTypeError(std::string("input must be floating point, got ") + c10::toString(x.scalar_type()));
  const int64_t C = x.size(1);
  if (C < 1) throw ArgRangeError("input has no channels (shape [" + c10::Join(", ", x.sizes()) + "]): expected at least one");
  auto checkVec = [&](const at::Tensor& t, const char* name) {
    if (!t.defined()) return;
    if (t.dim() != 1 || t.size(0) != C)
      throw ArgRangeError(std::string(name) + " must have shape [" + std::to_string(C) + "] to match the input's channels, got [" + c10::Join(", ", t.sizes()) + "]");
    if (t.device() != x.device())
      throw ArgTypeError(std::string(name) + " is on " + t.device().str() + " but the input is on " + x.device().str());
  };
  checkVec(weight, "weight");
  checkVec(bias, "bias");
  checkVec(rm, "runningMean");
  checkVec(rv, "runningVar");
  if (weight.defined() != bias.defined()) throw ArgTypeError("weight and bias must both be given or both be omitted");
  if (!(o.dropRate >= 0.0 && o.dropRate < 1.0)) throw ArgRangeError("dropRate must be in [0, 1), got " + std::to_string(o.dropRate));
  if (!(o.eps > 0.0)) throw ArgRangeError("eps must be > 0, got " + std::to_string(o.eps));
  if (!(o.momentum >= 0.0 && o.momentum <= 1.0)) throw ArgRangeError("momentum must be in [0, 1], got " + std::to_string(o.momentum));
  if (o.training && x.numel() / C <= 1)
    throw ArgRangeError("training needs more than one value per channel, got input shape [" + c10::Join(", ", x.sizes()) + "]");
  if (!o.training && (!rm.defined() || !rv.defined())) throw ArgTypeError("evaluation needs running statistics (track running stats)");
}

}  // namespace

at::Tensor icLayer(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& runningMean,
                   const at::Tensor& runningVar, const Options& o) {
  checkInputs(x, weight, bias, runningMean, runningVar, o);
  // Evaluation and dropRate 0 are exactly BatchNorm: let ATen's batch_norm do them.
  if (!o.training || o.dropRate == 0.0 || o.impl == Impl::Composite) return icComposite(x, weight, bias, runningMean, runningVar, o);
  bool fusable = cpuFusable(x) || cudaFusable(x);
  if (!fusable) {
    if (o.impl == Impl::Fused)
      throw ArgTypeError("no fused IC kernel for " + std::string(c10::toString(x.scalar_type())) + " on " + x.device().str() +
                         (x.device().is_cpu() ? " (the CPU kernel takes contiguous float32, float64 and bfloat16)" : ""));
    return icComposite(x, weight, bias, runningMean, runningVar, o);
  }
  auto opt = [](const at::Tensor& t) { return t.defined() ? compat::optional<at::Tensor>(t) : compat::optional<at::Tensor>(); };
  return ICFunction::apply(x, opt(weight), opt(bias), opt(runningMean), opt(runningVar), o.momentum, o.eps, o.dropRate);
}

}  // namespace ictorch::ic
