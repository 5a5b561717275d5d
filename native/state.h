// state.h: per-environment addon state (Napi instance data). Nothing here is process-global,
// so the addon loads in several worker_threads at once.
#pragma once
#include <napi.h>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include "hooks.h"

namespace ictorch {

// Live tensor handles per device ("cpu", "cuda:0", ...) and the bytes of the distinct storages they reference:
// a storage counts once however many handles (views, aliases) share it, and until the last one goes.
struct LiveCounters {
  struct Entry { int64_t tensors = 0; int64_t bytes = 0; };
  struct StorageUse { int64_t handles = 0; int64_t bytes = 0; };
  std::mutex mu;
  std::map<std::string, Entry> byDevice;
  std::unordered_map<const void*, StorageUse> storages;
  int64_t collected = 0;  // handles freed by the garbage collector instead of dispose(): leaks a scope missed

  // Returns the bytes newly accounted (the storage's size when this handle is its first user, else 0).
  int64_t acquire(const std::string& device, const void* storage, int64_t nbytes) {
    std::lock_guard<std::mutex> lock(mu);
    auto& e = byDevice[device];
    e.tensors += 1;
    if (!storage) return 0;
    auto& u = storages[storage];
    if (u.handles++ > 0) return 0;
    u.bytes = nbytes;
    e.bytes += nbytes;
    return nbytes;
  }
  // Returns the bytes released (the storage's size when this was its last handle, else 0).
  int64_t release(const std::string& device, const void* storage) {
    std::lock_guard<std::mutex> lock(mu);
    auto& e = byDevice[device];
    e.tensors -= 1;
    if (!storage) return 0;
    auto it = storages.find(storage);
    if (it == storages.end() || --it->second.handles > 0) return 0;
    int64_t bytes = it->second.bytes;
    e.bytes -= bytes;
    storages.erase(it);
    return bytes;
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

// What native calls in flight (forwardAsync, trainStep, evalStep, data()) are using: modules, tensor storages,
// optimisers and training steps, each with how many calls read it, how many write it and the first op that
// took it. A call that reads (a forward) excludes writers; a call that writes (a training step) excludes
// everyone; a synchronous mutation (train(), to(), loadStateDict's copies, in-place ops, dispose()) is refused
// while anything uses the object, with an InUseError naming the call. Marks are taken and released on the JS
// thread only (when the call starts and when its promise settles), so no lock is needed.
struct InFlight {
  struct Use {
    int readers = 0, writers = 0;
    std::string op;
  };
  std::unordered_map<const void*, Use> uses;

  const Use* find(const void* key) const {
    if (uses.empty() || !key) return nullptr;
    auto it = uses.find(key);
    return it == uses.end() ? nullptr : &it->second;
  }
  void acquire(const void* key, const std::string& op, bool write) {
    auto& u = uses[key];
    if (u.readers == 0 && u.writers == 0) u.op = op;
    (write ? u.writers : u.readers) += 1;
  }
  void release(const void* key, bool write) {
    auto it = uses.find(key);
    if (it == uses.end()) return;
    (write ? it->second.writers : it->second.readers) -= 1;
    if (it->second.readers <= 0 && it->second.writers <= 0) uses.erase(it);
  }
};

struct AddonState {
  Napi::FunctionReference tensorCtor;
  Napi::FunctionReference moduleCtor;
  Napi::FunctionReference optimizerCtor;
  Napi::FunctionReference trainStepCtor;
  Napi::FunctionReference generatorCtor;
  Napi::FunctionReference processGroupCtor;
  Napi::FunctionReference scriptModuleCtor;
  std::shared_ptr<LiveCounters> live = std::make_shared<LiveCounters>();
  std::shared_ptr<PendingReleases> pending = std::make_shared<PendingReleases>();
  std::shared_ptr<InFlight> inFlight = std::make_shared<InFlight>();
  std::shared_ptr<HookRegistry> hooks = std::make_shared<HookRegistry>();  // tensor hooks registered from JS
};

inline AddonState& state(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

}  // namespace ictorch
