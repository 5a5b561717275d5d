// runtime.cc: process-level facts and settings: versions, CUDA/cuDNN, threads, seeding, memory statistics.
#include <ATen/Parallel.h>
#include <c10/util/Logging.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_set>
#include "compat.h"
#include "dtype.h"
#include "tensor.h"
#include <ATen/CPUGeneratorImpl.h>
#ifdef ICTORCH_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace ictorch {
namespace {

int cudaDeviceCount() {
#ifdef ICTORCH_WITH_CUDA
  return at::hasCUDA() ? static_cast<int>(at::cuda::device_count()) : 0;
#else
  return 0;
#endif
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  return guard(info, "info", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("torchVersion", TORCH_VERSION);
#ifdef ICTORCH_WITH_CUDA
    o.Set("builtWithCuda", true);
#else
    o.Set("builtWithCuda", false);
#endif
    int n = cudaDeviceCount();
    o.Set("cudaAvailable", n > 0);
    o.Set("cudnnAvailable", n > 0 && at::globalContext().hasCuDNN());
    o.Set("cudnnVersion", n > 0 && at::globalContext().hasCuDNN() ? Napi::Value(Napi::Number::New(env, at::detail::getCUDAHooks().versionCuDNN())) : env.Null());
    Napi::Array devs = Napi::Array::New(env);
#ifdef ICTORCH_WITH_CUDA
    for (int i = 0; i < n; ++i) {
      auto* p = at::cuda::getDeviceProperties(i);
      Napi::Object d = Napi::Object::New(env);
      d.Set("index", i);
      d.Set("name", std::string(p->name));
      d.Set("totalMemory", static_cast<double>(p->totalGlobalMem));
      d.Set("capability", std::to_string(p->major) + "." + std::to_string(p->minor));
      d.Set("multiProcessors", p->multiProcessorCount);
      devs.Set(static_cast<uint32_t>(i), d);
    }
#endif
    o.Set("cudaDevices", devs);
    o.Set("numThreads", at::get_num_threads());
    o.Set("parallelInfo", at::get_parallel_info());
    o.Set("buildConfig", at::show_config());
    Napi::Array dts = Napi::Array::New(env, kNumDTypes);
    for (size_t k = 0; k < kNumDTypes; ++k) dts.Set(static_cast<uint32_t>(k), kDTypes[k].name);
    o.Set("dtypes", dts);
    return o;
  });
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  return guard(info, "manualSeed", [&]() -> Napi::Value {
    int64_t seed = argInt(info, 0, "seed");
    if (seed < 0) throw ArgRangeError("argument 'seed' must be >= 0, got " + std::to_string(seed));
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(static_cast<uint64_t>(seed));
    }
#ifdef ICTORCH_WITH_CUDA
    for (int i = 0; i < cudaDeviceCount(); ++i) {
      auto gen = at::cuda::detail::getDefaultCUDAGenerator(static_cast<c10::DeviceIndex>(i));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(static_cast<uint64_t>(seed));
    }
#endif
    return info.Env().Undefined();
  });
}

// rngState() -> {cpu: uint8 Tensor, cuda: uint8 Tensor[]}: the generators' full states, for checkpoints.
Napi::Value RngState(const Napi::CallbackInfo& info) {
  return guard(info, "rngState", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      o.Set("cpu", TensorHandle::Wrap(env, gen.get_state()));
    }
    Napi::Array cuda = Napi::Array::New(env);
#ifdef ICTORCH_WITH_CUDA
    for (int i = 0; i < cudaDeviceCount(); ++i) {
      auto gen = at::cuda::detail::getDefaultCUDAGenerator(static_cast<c10::DeviceIndex>(i));
      std::lock_guard<std::mutex> lock(gen.mutex());
      cuda.Set(static_cast<uint32_t>(i), TensorHandle::Wrap(env, gen.get_state()));
    }
#endif
    o.Set("cuda", cuda);
    return o;
  });
}

// setRngState(cpu, cuda[]|null): restores what rngState() returned.
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  return guard(info, "setRngState", [&]() -> Napi::Value {
    at::Tensor cpu = argTensor(info, 0, "cpu");
    if (cpu.scalar_type() != at::kByte || cpu.device().type() != at::kCPU) throw ArgTypeError("the CPU state must be a uint8 CPU tensor from rngState()");
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(cpu.contiguous());
    }
#ifdef ICTORCH_WITH_CUDA
    if (!isNullish(info[1])) {
      auto states = argTensorList(info, 1, "cuda");
      for (size_t i = 0; i < states.size() && static_cast<int>(i) < cudaDeviceCount(); ++i) {
        auto gen = at::cuda::detail::getDefaultCUDAGenerator(static_cast<c10::DeviceIndex>(i));
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(states[i].contiguous());
      }
    }
#endif
    return info.Env().Undefined();
  });
}

std::atomic<int> intraOpThreads{0};  // what setNumThreads (or the load-time default) last set

}  // namespace

// Measured (bench/RESULTS.md): calling at::set_num_threads on every task cost a ResNet-20 forward (batch 128)
// about 25 ms, as it rebuilds a thread pool; once per thread and change costs nothing measurable.
void applyIntraOpThreads() {
  thread_local int applied = 0;
  const int want = intraOpThreads.load(std::memory_order_relaxed);
  if (want > 0 && want != applied) {
    at::set_num_threads(want);
    applied = want;
  }
}

void nameThisThread(const char* name) {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), name);
#elif defined(__APPLE__)
  pthread_setname_np(name);
#endif
}

namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guard(info, "setNumThreads", [&]() -> Napi::Value {
    int64_t n = argInt(info, 0, "threads");
    if (n < 1 || n > 4096) throw ArgRangeError("argument 'threads' must be between 1 and 4096, got " + std::to_string(n));
    at::set_num_threads(static_cast<int>(n));
    intraOpThreads.store(static_cast<int>(n));
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

// memoryStats() -> { devices: { [device]: {tensors, bytes} }, cuda: [{device, allocated, reserved, peakAllocated}] }
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  return guard(info, "memory", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    auto& st = state(env);
    st.pending->drain(env);
    Napi::Object out = Napi::Object::New(env);
    Napi::Object devs = Napi::Object::New(env);
    {
      std::lock_guard<std::mutex> lock(st.live->mu);
      for (const auto& [name, e] : st.live->byDevice) {
        Napi::Object d = Napi::Object::New(env);
        d.Set("tensors", static_cast<double>(e.tensors));
        d.Set("bytes", static_cast<double>(e.bytes));
        devs.Set(name, d);
      }
    }
    out.Set("devices", devs);
    {
      std::lock_guard<std::mutex> lock(st.live->mu);
      out.Set("collected", static_cast<double>(st.live->collected));
    }
    Napi::Array cuda = Napi::Array::New(env);
#ifdef ICTORCH_WITH_CUDA
    for (int i = 0; i < cudaDeviceCount(); ++i) {
      double allocated = 0, reserved = 0, peak = 0;
      try {
        auto s = c10::cuda::CUDACachingAllocator::getDeviceStats(i);
        allocated = static_cast<double>(s.allocated_bytes[0].current);
        reserved = static_cast<double>(s.reserved_bytes[0].current);
        peak = static_cast<double>(s.allocated_bytes[0].peak);
      } catch (const c10::Error&) {
        // The caching allocator starts with the first CUDA allocation; before that nothing is allocated.
      }
      Napi::Object d = Napi::Object::New(env);
      d.Set("device", "cuda:" + std::to_string(i));
      d.Set("allocated", allocated);
      d.Set("reserved", reserved);
      d.Set("peakAllocated", peak);
      cuda.Set(static_cast<uint32_t>(i), d);
    }
#endif
    out.Set("cuda", cuda);
    return out;
  });
}

Napi::Value ResetPeakMemory(const Napi::CallbackInfo& info) {
  return guard(info, "resetPeakMemory", [&]() -> Napi::Value {
#ifdef ICTORCH_WITH_CUDA
    for (int i = 0; i < cudaDeviceCount(); ++i) {
      try {
        c10::cuda::CUDACachingAllocator::resetPeakStats(i);
      } catch (const c10::Error&) {
        // not initialised yet: no peak to reset
      }
    }
#endif
    return info.Env().Undefined();
  });
}

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  return guard(info, "cuda.synchronize", [&]() -> Napi::Value {
#ifdef ICTORCH_WITH_CUDA
    if (cudaDeviceCount() > 0) at::cuda::device_synchronize();
#endif
    return info.Env().Undefined();
  });
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), cudaDeviceCount()); }

// Threads for intra-op parallelism: ICTORCH_NUM_THREADS, else the cores this process may run on.
// (LibTorch built with OpenMP otherwise starts with what OMP_NUM_THREADS says, often 1.)
int defaultThreads() {
  if (const char* s = std::getenv("ICTORCH_NUM_THREADS")) {
    int n = std::atoi(s);
    if (n > 0) return n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

}  // namespace

namespace {

// Two glibc malloc settings, both measured on a ResNet-20 CPU training step (batch 128, bench/cpu-memory.sh):
// - One arena. The native training step runs on libuv's worker threads, a different one from step to step, and
//   glibc gives each thread its own arena: each arena then kept its own copy of a step's freed activations
//   (peak RSS 1.3 GiB against 0.55 GiB with one arena, PyTorch's process 0.6 GiB), and the per-thread arenas'
//   heaps were unmapped and faulted back in every step (25,000-49,000 minor faults and 0.4-0.6 s of system
//   time per step, against about 400 faults and 0.04 s with one arena). Small allocations still go through
//   each thread's cache without the arena lock.
// - Keep freed memory mapped: up to 32 MiB per block and the whole heap top. Otherwise glibc returns the freed
//   activations of a step to the OS and faults them back in on the next (about 44,000 page faults per step
//   were measured before), as PyTorch users avoid with jemalloc.
// ICTORCH_NO_MALLOC_TUNING=1 leaves glibc's defaults alone (MALLOC_ARENA_MAX and GLIBC_TUNABLES still apply).
void tuneAllocator() {
#ifdef __GLIBC__
  if (std::getenv("ICTORCH_NO_MALLOC_TUNING")) return;
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
#endif
}

// LibTorch 2.x (seen with 2.13 on this project's AMD EPYC machines) retries NNPACK's initialisation on every
// convolution that could use NNPACK (float64, or float32 that oneDNN declines) and, where the hardware is
// unsupported, logs "Could not initialize NNPACK! Reason: Unsupported hardware." on each such call: one line per
// convolution of every forward, in a training log or a service's. Where NNPACK cannot start, it is switched off
// here once; the convolution then takes the path it took anyway. LibTorch's logging is raised to errors around
// the one check, which would print the same line.
void quietUnavailableNnpack() {
#ifdef C10_USE_GLOG
  int& level = FLAGS_minloglevel;
  const int quiet = google::GLOG_ERROR;
#else
  int& level = FLAGS_caffe2_log_level;
  const int quiet = c10::GLOG_ERROR;
#endif
  const int saved = level;
  level = std::max(saved, quiet);
  bool available = true;
  try {
    available = at::_nnpack_available();
  } catch (...) {
  }
  level = saved;
  if (!available) compat::disableNnpack(at::globalContext(), 0);
}

}  // namespace

namespace {

// LibTorch's warnings (TORCH_WARN) reach c10's default handler, which logs every occurrence through glog
// ("WARNING: Logging before InitGoogleLogging() ..." and a timestamped line); some fire on every call (a
// TorchScript model's warnings.warn; cuDNN's RNN given weights outside one flat buffer). This handler prints
// each distinct warning (its text and source location) once to stderr, as Python's default warnings filter
// shows it once per place.
class OnceWarningHandler : public c10::WarningHandler {
 public:
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
  void process(const c10::Warning& w) override { show(w.source_location(), w.msg()); }
#else
  void process(const c10::SourceLocation& loc, const std::string& msg, const bool /*verbatim*/) override { show(loc, msg); }
#endif

 private:
  void show(const c10::SourceLocation& loc, const std::string& msg) {
    const char* file = loc.file ? loc.file : "";
    const char* slash = std::strrchr(file, '/');
    const std::string where = std::string(slash ? slash + 1 : file) + ":" + std::to_string(loc.line);
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Past 4096 distinct warnings nothing more is remembered (memory stays bounded); they print every time.
      if (seen_.size() < 4096 && !seen_.insert(where + "\n" + msg).second) return;
    }
    std::fprintf(stderr, "[ictorch] LibTorch warning: %s (%s; shown once)\n", msg.c_str(), where.c_str());
  }
  std::mutex mu_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

// c10 keeps the warning handler per thread: every thread that runs ATen work for ictorch installs this one.
void installWarningHandler() {
  static OnceWarningHandler* handler = new OnceWarningHandler();  // never destroyed: threads may outlive statics
  thread_local bool installed = false;
  if (installed) return;
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
  c10::WarningUtils::set_warning_handler(handler);
#else
  c10::Warning::set_warning_handler(handler);
#endif
  installed = true;
}

void InitRuntime(Napi::Env env, Napi::Object exports) {
  installWarningHandler();
  static std::once_flag threadsOnce;
  std::call_once(threadsOnce, [] {
    intraOpThreads.store(defaultThreads());
    at::set_num_threads(intraOpThreads.load());
    tuneAllocator();
    quietUnavailableNnpack();
  });
  exports.Set("info", Napi::Function::New<Info>(env, "info"));
  exports.Set("manualSeed", Napi::Function::New<ManualSeed>(env, "manualSeed"));
  exports.Set("rngState", Napi::Function::New<RngState>(env, "rngState"));
  exports.Set("setRngState", Napi::Function::New<SetRngState>(env, "setRngState"));
  exports.Set("setNumThreads", Napi::Function::New<SetNumThreads>(env, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New<GetNumThreads>(env, "getNumThreads"));
  exports.Set("memoryStats", Napi::Function::New<MemoryStats>(env, "memoryStats"));
  exports.Set("resetPeakMemory", Napi::Function::New<ResetPeakMemory>(env, "resetPeakMemory"));
  exports.Set("cudaSynchronize", Napi::Function::New<CudaSynchronize>(env, "cudaSynchronize"));
  exports.Set("cudaDeviceCount", Napi::Function::New<CudaDeviceCount>(env, "cudaDeviceCount"));
}

}  // namespace ictorch
