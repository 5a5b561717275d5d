// module.h: ModuleHandle, the JS object that owns a native layer (nn::Layer: a layer or a container of them),
// and the helpers other entry points use to take one as an argument and mark it in flight.
#pragma once
#include <napi.h>
#include "handle.h"
#include "nn/layer.h"
#include "tensor.h"

namespace ictorch {

class ModuleHandle : public Handle<ModuleHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, nn::LayerPtr m);
  explicit ModuleHandle(const Napi::CallbackInfo& info);
  ~ModuleHandle() override { disposeNow(); }

  // The layer, to run it (a training step in flight refuses); throws if disposed.
  const nn::LayerPtr& layer(const char* argName) const;
  // The layer, to read what it holds (parameters, kind, mode) even during a training step; throws if disposed.
  const nn::LayerPtr& peek(const char* argName) const;
  // The layer, to change it (train/eval, reset): refused while a call in flight uses it or any module inside it.
  const nn::LayerPtr& mutableLayer(const char* argName) const;

 protected:
  const char* noun() const override { return "module"; }
  const void* inFlightKey() const override { return layer_.get(); }
  void release() override { layer_.reset(); }

 private:
  nn::LayerPtr layer_;
};

bool isModule(Napi::Env env, const Napi::Value& v);
ModuleHandle* argModuleHandle(const Napi::CallbackInfo& info, size_t i, const char* name);
const nn::LayerPtr& argModule(const Napi::CallbackInfo& info, size_t i, const char* name);

// Marks every module inside `m` (itself included) and the storages of their parameters and buffers.
void markModule(InUse& marks, const nn::Layer& m, bool write);

}  // namespace ictorch
