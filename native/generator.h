// generator.h: GeneratorHandle, the JS object that owns a random generator of its own (torch.Generator):
// random ops and dropout/IC layers given one draw from it instead of the process-wide default generator, so
// worker threads, requests or models can each have a reproducible stream that nothing else disturbs.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>
#include "compat.h"
#include "handle.h"

namespace ictorch {

class GeneratorHandle : public Handle<GeneratorHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit GeneratorHandle(const Napi::CallbackInfo& info);
  ~GeneratorHandle() override { disposeNow(); }
  const at::Generator& generator(const char* argName) const;

 protected:
  const char* noun() const override { return "generator"; }
  const void* inFlightKey() const override { return nullptr; }  // a generator locks itself while it draws
  void release() override { gen_ = at::Generator(); }

 private:
  friend Napi::Value createGenerator(const Napi::CallbackInfo& info);
  Napi::Value ManualSeed(const Napi::CallbackInfo& info);
  Napi::Value InitialSeed(const Napi::CallbackInfo& info);
  Napi::Value GetState(const Napi::CallbackInfo& info);
  Napi::Value SetState(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  at::Generator gen_;
};

// The generator passed as `v` (a GeneratorHandle), or nullopt for null/undefined.
compat::optional<at::Generator> optGenerator(Napi::Env env, const Napi::Value& v, const std::string& name);

}  // namespace ictorch
