// compat.h: every difference between the LibTorch versions ictorch builds against (1.13 .. 2.x) lives here.
#pragma once
#include <ATen/ATen.h>
#include <torch/version.h>
#include <optional>
#include <ATen/autocast_mode.h>
#ifdef ICTORCH_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#endif

#define ICTORCH_TORCH_VERSION_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace ictorch::compat {

// Message of a c10::Error without the C++ backtrace that some builds append.
inline std::string errorMessage(const c10::Error& e) {
  std::string msg = e.what_without_backtrace();
  auto cut = msg.find("\nException raised from");
  if (cut != std::string::npos) msg.erase(cut);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

// The optional that LibTorch's functions take: c10::optional, a class of its own up to 2.x's first releases,
// then an alias of std::optional that is deprecated and slated for removal; so std::optional itself from 2.4.
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 4)
template <typename T>
using optional = std::optional<T>;
inline constexpr std::nullopt_t nullopt = std::nullopt;
#else
template <typename T>
using optional = c10::optional<T>;
inline constexpr c10::nullopt_t nullopt = c10::nullopt;
#endif

// std::optional (our argument helpers) to compat::optional.
template <typename T>
optional<T> opt(const std::optional<T>& o) {
  return o ? optional<T>(*o) : optional<T>();
}

// Standard deviation / variance with an explicit Bessel correction (the 1.13 overloads take `unbiased`).
inline at::Tensor stdDim(const at::Tensor& t, at::OptionalIntArrayRef dim, bool unbiased, bool keepdim) {
  return at::std(t, dim, unbiased, keepdim);
}
inline at::Tensor varDim(const at::Tensor& t, at::OptionalIntArrayRef dim, bool unbiased, bool keepdim) {
  return at::var(t, dim, unbiased, keepdim);
}

// Autocast (mixed precision) switches for one device type on the calling thread.
inline void setAutocast(at::DeviceType device, bool enabled, at::ScalarType dtype) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
  if (enabled) at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == at::kCUDA) {
    at::autocast::set_enabled(enabled);
    if (enabled) at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    if (enabled) at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

// Whether autocast is on for one device type on the calling thread, and its dtype.
inline bool autocastEnabled(at::DeviceType device) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}
inline at::ScalarType autocastDtype(at::DeviceType device) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

// Autocast for one region on this thread. Leaving it clears the cast cache: cached low-precision copies of
// weights are valid only within one region, and a cache kept across steps (C++ has no autocast exit hook
// that clears it, as Python's `with autocast()` does) feeds later forwards stale weights.
class AutocastScope {
 public:
  AutocastScope(at::DeviceType device, optional<at::ScalarType> dtype) : device_(device), on_(dtype.has_value()) {
    if (on_) setAutocast(device_, true, *dtype);
  }
  ~AutocastScope() {
    if (!on_) return;
    setAutocast(device_, false, at::kFloat);
    at::autocast::clear_cache();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  at::DeviceType device_;
  bool on_;
};

// The calling thread's autocast state (torch.autocast on the JS thread), to carry to the worker thread that runs
// a forwardAsync or a TorchScript call, so that the work is autocast as it would be in Python. `apply()` on the
// worker: a scope per device type that was on.
struct AutocastCapture {
  optional<at::ScalarType> cpu, cuda;
  static AutocastCapture current() {
    AutocastCapture c;
    if (autocastEnabled(at::kCPU)) c.cpu = autocastDtype(at::kCPU);
    if (autocastEnabled(at::kCUDA)) c.cuda = autocastDtype(at::kCUDA);
    return c;
  }
};
class AutocastCaptureScope {
 public:
  explicit AutocastCaptureScope(const AutocastCapture& c) : cpu_(at::kCPU, c.cpu), cuda_(at::kCUDA, c.cuda) {}

 private:
  AutocastScope cpu_, cuda_;
};

// list[i] *= scalar tensor (0-d, same device), one multi-tensor launch where LibTorch has the overload.
inline void foreachMulTensor_(at::TensorList list, const at::Tensor& scalar) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 1)
  at::_foreach_mul_(list, scalar);
#else
  for (const auto& t : list) const_cast<at::Tensor&>(t).mul_(scalar);
#endif
}

// Switches NNPACK off in LibTorch's global context where the context has that switch (2.x; 1.13 has none):
// detected by overload resolution rather than by a version number, since the release that added it is not
// one we build against. Returns whether it could.
template <class Context>
auto disableNnpack(Context& context, int) -> decltype(context.setUserEnabledNNPACK(false), bool()) {
  context.setUserEnabledNNPACK(false);
  return true;
}
template <class Context>
bool disableNnpack(Context&, long) {
  return false;
}

#ifdef ICTORCH_WITH_CUDA
// Begins a CUDA-graph capture on the current stream. Relaxed mode where LibTorch lets us choose it: library
// calls that CUDA deems "potentially unsafe" (cudaMalloc for a new pool segment, attribute queries in cuDNN)
// stay legal while the step is being recorded.
inline void beginCapture(at::cuda::CUDAGraph& graph) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 1)  // the capture-mode argument arrived in 2.1
  graph.capture_begin({0, 0}, cudaStreamCaptureModeRelaxed);
#else
  graph.capture_begin();
#endif
}
#endif

}  // namespace ictorch::compat
