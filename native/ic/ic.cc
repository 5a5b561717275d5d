// ic.cc: the IC layer op. A composite path (batch_norm + dropout) that runs anywhere and serves as the
// reference, and fused paths with their own autograd function: one pass for normalise + affine + dropout,
// and a backward that regenerates the dropout mask from the saved random key instead of storing it.
#include "ic/ic.h"
#include <ATen/CPUGeneratorImpl.h>
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
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define IC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define IC_CLONES
#endif

// Keep-bits of elements (lo0 + k) for k < n, whose high index word is fixed: hiKey = (index >> 32) ^ keyHi.
#define IC_DEFINE_PLANE_KERNELS(T)                                                                                      \
  IC_CLONES void applyPlane(const T* x, T* y, int64_t n, T a, T b, uint32_t lo0, uint32_t keyLo, uint32_t hiKey,   \
                            uint32_t thr) {                                                                         \
    _Pragma("omp simd") for (int64_t k = 0; k < n; ++k) {                                                            \
      uint32_t h = hash32(hash32((lo0 + static_cast<uint32_t>(k)) ^ keyLo) ^ hiKey);                                 \
      T v = x[k] * a + b;                                                                                           \
      y[k] = h < thr ? v : T(0);                                                                                    \
    }                                                                                                               \
  }                                                                                                                 \
  IC_CLONES void affinePlane(const T* x, T* y, int64_t n, T a, T b) {                                               \
    _Pragma("omp simd") for (int64_t k = 0; k < n; ++k) y[k] = x[k] * a + b;                                        \
  }                                                                                                                 \
  IC_CLONES void maskGradPlane(const T* g, T* out, int64_t n, T invKeep, uint32_t lo0, uint32_t keyLo, uint32_t hiKey, \
                               uint32_t thr) {                                                                      \
    _Pragma("omp simd") for (int64_t k = 0; k < n; ++k) {                                                            \
      uint32_t h = hash32(hash32((lo0 + static_cast<uint32_t>(k)) ^ keyLo) ^ hiKey);                                 \
      T v = g[k] * invKeep;                                                                                         \
      out[k] = h < thr ? v : T(0);                                                                                  \
    }                                                                                                               \
  }
IC_DEFINE_PLANE_KERNELS(float)
IC_DEFINE_PLANE_KERNELS(double)
#undef IC_DEFINE_PLANE_KERNELS

// Sum and sum of squares of (p[k] - shift) over one plane: float lanes within a plane (short), double across.
IC_CLONES void planeSums(const float* p, int64_t n, float shift, double* s, double* s2) {
  float a = 0, b = 0;
  _Pragma("omp simd reduction(+ : a, b)") for (int64_t k = 0; k < n; ++k) {
    float d = p[k] - shift;
    a += d;
    b += d * d;
  }
  *s += a;
  *s2 += b;
}
IC_CLONES void planeSums(const double* p, int64_t n, double shift, double* s, double* s2) {
  double a = 0, b = 0;
  _Pragma("omp simd reduction(+ : a, b)") for (int64_t k = 0; k < n; ++k) {
    double d = p[k] - shift;
    a += d;
    b += d * d;
  }
  *s += a;
  *s2 += b;
}

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
  at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      // Shifted sums: subtracting the channel's first value keeps sum-of-squares cancellation small.
      const scalar_t shiftv = x[c * S];
      double s = 0, s2 = 0;
      for (int64_t n = 0; n < N; ++n) planeSums(x + (n * C + c) * S, S, shiftv, &s, &s2);
      const double m = static_cast<double>(N * S);
      const double dm = s / m;
      mean[c] = static_cast<double>(shiftv) + dm;
      var[c] = std::max(0.0, s2 / m - dm * dm);
    }
  });
}

// y = keep ? x*scale[c] + shift[c] : 0, one pass over (N, C, S); the key makes the mask reproducible.
template <typename scalar_t>
void cpuApply(const scalar_t* x, scalar_t* y, int64_t N, int64_t C, int64_t S, const scalar_t* scale, const scalar_t* shift,
              CpuKey key, uint32_t threshold, bool dropout) {
  at::parallel_for(0, N * C, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const int64_t c = plane % C;
      const scalar_t a = scale[c], b = shift[c];
      const scalar_t* xp = x + plane * S;
      scalar_t* yp = y + plane * S;
      if (!dropout) {
        affinePlane(xp, yp, S, a, b);
        continue;
      }
      bySegments(static_cast<uint64_t>(plane * S), S, key.hi, [&](int64_t off, int64_t len, uint32_t lo0, uint32_t hiKey) {
        applyPlane(xp + off, yp + off, len, a, b, lo0, key.lo, hiKey, threshold);
      });
    }
  });
}

// grad * mask / (1 - p), regenerating the mask from the key.
template <typename scalar_t>
void cpuMaskGrad(const scalar_t* g, scalar_t* out, int64_t numel, CpuKey key, uint32_t threshold, scalar_t invKeep) {
  at::parallel_for(0, numel, 16384, [&](int64_t i0, int64_t i1) {
    bySegments(static_cast<uint64_t>(i0), i1 - i0, key.hi, [&](int64_t off, int64_t len, uint32_t lo0, uint32_t hiKey) {
      maskGradPlane(g + i0 + off, out + i0 + off, len, invKeep, lo0, key.lo, hiKey, threshold);
    });
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
  return x.device().is_cpu() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) && x.is_contiguous();
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
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "ic_forward_cpu", [&] {
        cpuStats<scalar_t>(x.data_ptr<scalar_t>(), N, C, S, meanD.data_ptr<double>(), varD.data_ptr<double>());
        at::Tensor invstdD = (varD + eps).rsqrt();
        at::Tensor w = weight.defined() ? weight.to(at::kDouble) : at::ones({C}, at::kDouble);
        at::Tensor b = bias.defined() ? bias.to(at::kDouble) : at::zeros({C}, at::kDouble);
        at::Tensor scale = (w * invstdD * invKeep).to(x.scalar_type());
        at::Tensor shift = ((b - meanD * w * invstdD) * invKeep).to(x.scalar_type());
        cpuApply<scalar_t>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), N, C, S, scale.data_ptr<scalar_t>(), shift.data_ptr<scalar_t>(), key,
                           keepThreshold(dropRate), dropRate > 0);
        mean = meanD.to(x.scalar_type());
        invstd = invstdD.to(x.scalar_type());
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
    const double eps = ctx->saved_data["eps"].toDouble();
    const double dropRate = ctx->saved_data["dropRate"].toDouble();
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
    at::Tensor g = grads[0].contiguous(x.suggest_memory_format());
    at::Tensor gy;  // gradient with respect to the batch-norm output: grad * mask / (1 - p)
    if (dropRate == 0.0) {
      gy = g;
    } else {
      CpuKey key{static_cast<uint32_t>(ctx->saved_data["keyLo"].toInt()), static_cast<uint32_t>(ctx->saved_data["keyHi"].toInt())};
      gy = at::empty_like(g);
      AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "ic_mask_grad_cpu", [&] {
        cpuMaskGrad<scalar_t>(g.data_ptr<scalar_t>(), gy.data_ptr<scalar_t>(), g.numel(), key, keepThreshold(dropRate),
                              static_cast<scalar_t>(1.0 / (1.0 - dropRate)));
      });
    }
    auto r = at::native_batch_norm_backward(gy, x, affine ? compat::optional<at::Tensor>(weight) : compat::nullopt, compat::nullopt, compat::nullopt, mean,
                                            invstd, /*train=*/true, eps, {true, affine, affine});
    return {std::get<0>(r), affine ? std::get<1>(r) : at::Tensor(), affine ? std::get<2>(r) : at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

void checkInputs(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& rm, const at::Tensor& rv,
                 const Options& o) {
  if (x.dim() != 2 && x.dim() != 4)
    throw ArgRangeError("input must be (N, C) or (N, C, H, W), got shape [" + c10::Join(", ", x.sizes()) + "]");
  if (!at::isFloatingType(x.scalar_type())) throw ArgTypeError(std::string("input must be floating point, got ") + c10::toString(x.scalar_type()));
  const int64_t C = x.size(1);
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
                         (x.device().is_cpu() ? " (the CPU kernel takes contiguous float32/float64)" : ""));
    return icComposite(x, weight, bias, runningMean, runningVar, o);
  }
  auto opt = [](const at::Tensor& t) { return t.defined() ? compat::optional<at::Tensor>(t) : compat::optional<at::Tensor>(); };
  return ICFunction::apply(x, opt(weight), opt(bias), opt(runningMean), opt(runningVar), o.momentum, o.eps, o.dropRate);
}

}  // namespace ictorch::ic
