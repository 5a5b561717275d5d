// hooks.h: the tensor hooks registered from JS (Tensor.registerHook), per environment.
//
// LibTorch calls a tensor hook on whichever thread computes that gradient: the calling thread for CPU nodes,
// its device threads for CUDA nodes, the training thread in a training step. JS runs on one thread only
// (autograd.cc, runJsHook):
// - a backward() or autograd.grad() called from JS on a graph of CPU nodes runs on the JS thread, and its hooks
//   call JS directly, as PyTorch's call Python;
// - one whose graph reaches a CUDA node runs on a backward thread while the JS thread serves the hook calls
//   until it ends (HookPump; the call stays synchronous for JS);
// - a backward on another thread while the JS thread is free (a training step in flight) reaches it through a
//   thread-safe function.
// The registry holds no ATen types, so state.h can include it.
#pragma once
#include <napi.h>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ictorch {

struct HookCall;  // one hook invocation waiting for the JS thread (autograd.cc)

// The JS thread's side of a synchronous backward that has hooks to serve.
struct HookPump {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<HookCall*> calls;
  bool finished = false;       // the backward has returned (or thrown)
  HookPump* outer = nullptr;   // the pump this one nests in (a backward called from inside a hook)
};

struct HookRegistry {
  std::thread::id jsThread = std::this_thread::get_id();
  napi_env env = nullptr;

  // Under mu: the live hooks (id -> the TensorImpl they are on), the TensorImpls that have one, the ids whose
  // hook LibTorch destroyed (their JS functions are released on the JS thread), the pump in service, and whether
  // the thread-safe function can still be called.
  std::mutex mu;
  std::unordered_map<uint64_t, const void*> live;
  std::unordered_multiset<const void*> hooked;
  std::vector<uint64_t> dead;
  HookPump* pump = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  bool closing = false;

  // JS thread only: the hooks' functions, the next id, how deep served backwards are nested, where a hook called
  // on the JS thread keeps its JS error for the backward in progress, and the switch that sends every backward
  // through the backward thread (hooksThreadedForTests, so CPU-only tests cover that path).
  std::unordered_map<uint64_t, Napi::FunctionReference> fns;
  uint64_t nextId = 1;
  int depth = 0;
  std::optional<Napi::Error>* inlineError = nullptr;
  bool alwaysThreaded = false;

  bool anyLive() {
    std::lock_guard<std::mutex> lock(mu);
    return !live.empty();
  }
  // Whether the tensor whose TensorImpl is `impl` has a live hook registered from JS.
  bool isHooked(const void* impl) {
    std::lock_guard<std::mutex> lock(mu);
    return hooked.count(impl) > 0;
  }
  // The hook `id` is gone (removed, or destroyed with its tensor): it is no longer live; its function is
  // released by the JS thread's next drain(). Any thread.
  void forget(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = live.find(id);
    if (it == live.end()) return;
    hooked.erase(hooked.find(it->second));
    live.erase(it);
    dead.push_back(id);
  }
  // JS thread: releases the functions of the hooks that are gone.
  void drain() {
    std::vector<uint64_t> ids;
    {
      std::lock_guard<std::mutex> lock(mu);
      ids.swap(dead);
    }
    for (uint64_t id : ids) fns.erase(id);
  }
  ~HookRegistry() {
    // A worker thread may hold the last reference (a hook firing while the environment shuts down): JS
    // references can only be released on the JS thread, so off it they are left to the dying environment.
    if (std::this_thread::get_id() != jsThread)
      for (auto& f : fns) f.second.SuppressDestruct();
  }
};

}  // namespace ictorch
