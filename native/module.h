// module.h: ModuleHandle, the JS object that owns a torch::nn::Module (a layer or a container).
#pragma once
#include <torch/torch.h>
#include <napi.h>
#include "tensor.h"

namespace ictorch {

class ModuleHandle : public Napi::ObjectWrap<ModuleHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<torch::nn::Module> m);
  explicit ModuleHandle(const Napi::CallbackInfo& info);
  const std::shared_ptr<torch::nn::Module>& module(const char* argName) const;

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  std::shared_ptr<torch::nn::Module> module_;
};

std::shared_ptr<torch::nn::Module> argModule(const Napi::CallbackInfo& info, size_t i, const char* name);
bool isModule(Napi::Env env, const Napi::Value& v);

// Runs any module ictorch builds (a dynamic_cast over the supported layer types).
at::Tensor forwardAny(torch::nn::Module& m, const at::Tensor& x);
// A short kind name for a module ("conv2d", "sequential", "ic", ...).
std::string kindOf(const torch::nn::Module& m);

}  // namespace ictorch
