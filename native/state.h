// state.h: per-environment addon state (Napi instance data). Nothing here is process-global,
// so the addon loads in several worker_threads at once.
#pragma once
#include <napi.h>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ictorch {

// Live tensor handles and the bytes they own, per device ("cpu", "cuda:0", ...).
struct LiveCounters {
  struct Entry { int64_t tensors = 0; int64_t bytes = 0; };
  std::mutex mu;
  std::map<std::string, Entry> byDevice;
  void add(const std::string& device, int64_t tensors, int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu);
    auto& e = byDevice[device];
    e.tensors += tensors;
    e.bytes += bytes;
  }
};

// JS objects (Buffers) kept alive by zero-copy tensors. LibTorch may free such a tensor on any thread,
// so its deleter only queues the reference here; the JS thread releases the queue on its next call.
struct PendingReleases {
  std::mutex mu;
  std::vector<napi_ref> refs;
  void push(napi_ref r) { std::lock_guard<std::mutex> lock(mu); refs.push_back(r); }
  void drain(napi_env env) {
    std::vector<napi_ref> todo;
    { std::lock_guard<std::mutex> lock(mu); todo.swap(refs); }
    for (napi_ref r : todo) napi_delete_reference(env, r);
  }
};

struct AddonState {
  Napi::FunctionReference tensorCtor;
  Napi::FunctionReference moduleCtor;
  std::shared_ptr<LiveCounters> live = std::make_shared<LiveCounters>();
  std::shared_ptr<PendingReleases> pending = std::make_shared<PendingReleases>();
};

inline AddonState& state(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

}  // namespace ictorch
