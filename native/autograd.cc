// autograd.cc: requiresGrad, backward, .grad, grad mode and autocast (thread-local in LibTorch: these set the JS
// thread's), and autograd.grad(outputs, inputs).
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>
#include <unordered_set>
#include "compat.h"
#include "tensor.h"

namespace ictorch {
namespace {

// Refuses a backward or autograd.grad whose graph reaches a leaf that a call in flight writes (a parameter a
// training step is updating): the engine would accumulate into its .grad and read its values while the step's
// thread replaces both. The graph is walked only while something is in flight.
void checkGraphIdle(Napi::Env env, const std::vector<at::Tensor>& roots) {
  if (state(env).inFlight->uses.empty()) return;
  auto check = [&](const at::Tensor& v) { checkNotInFlight(env, storageKey(v), "a leaf tensor of the graph", false); };
  std::vector<torch::autograd::Node*> todo;
  std::unordered_set<torch::autograd::Node*> seen;
  for (const auto& t : roots) {
    if (!t.defined()) continue;
    if (torch::autograd::Node* fn = t.grad_fn().get()) todo.push_back(fn);
    else check(t);
  }
  while (!todo.empty()) {
    torch::autograd::Node* n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second) continue;
    if (auto* acc = dynamic_cast<torch::autograd::AccumulateGrad*>(n)) check(acc->variable);
    for (const auto& e : n->next_edges())
      if (e.function) todo.push_back(e.function.get());
  }
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  return guard(info, "requiresGrad_", [&]() -> Napi::Value {
    at::Tensor t = argMutableTensor(info, 0, "self");
    bool flag = argBool(info, 1, "requiresGrad", true);
    if (flag && !(at::isFloatingType(t.scalar_type()) || at::isComplexType(t.scalar_type())))
      throw ArgTypeError(std::string("only floating-point tensors can require gradients, this one is ") + dtypeName(t.scalar_type()));
    t.set_requires_grad(flag);
    return info.Env().Undefined();
  });
}

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return guard(info, "requiresGrad", [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), argTensorMeta(info, 0, "self").requires_grad()); });
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return guard(info, "isLeaf", [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), argTensorMeta(info, 0, "self").is_leaf()); });
}

// retainGrad(self): a non-leaf keeps its .grad after backward, as Tensor.retain_grad().
Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  return guard(info, "retainGrad", [&]() -> Napi::Value {
    at::Tensor t = argMutableTensor(info, 0, "self");
    if (!t.requires_grad()) throw ArgTypeError("the tensor does not require grad, so it has no gradient to retain");
    t.retain_grad();
    return info.Env().Undefined();
  });
}

Napi::Value RetainsGrad(const Napi::CallbackInfo& info) {
  return guard(info, "retainsGrad", [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), argTensorMeta(info, 0, "self").retains_grad()); });
}

Napi::Value GradFn(const Napi::CallbackInfo& info) {
  return guard(info, "gradFn", [&]() -> Napi::Value {
    const auto& fn = argTensorMeta(info, 0, "self").grad_fn();
    if (!fn) return info.Env().Null();
    return Napi::String::New(info.Env(), fn->name());
  });
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  return guard(info, "grad", [&]() -> Napi::Value {
    const at::Tensor& g = argTensor(info, 0, "self").grad();
    if (!g.defined()) return info.Env().Null();
    return TensorHandle::Wrap(info.Env(), g);
  });
}

// zeroGrad(self, setToNone)
Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
  return guard(info, "zeroGrad", [&]() -> Napi::Value {
    at::Tensor t = argMutableTensor(info, 0, "self");
    if (argBool(info, 1, "setToNone", true)) {
      t.mutable_grad() = at::Tensor();
    } else if (t.grad().defined()) {
      t.mutable_grad().detach_();
      t.mutable_grad().zero_();
    }
    return info.Env().Undefined();
  });
}

// backward(self, gradient|null, retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guard(info, "backward", [&]() -> Napi::Value {
    const at::Tensor& t = argTensor(info, 0, "self");
    if (!t.requires_grad()) throw ArgTypeError("the tensor does not require grad and has no grad_fn; nothing to differentiate");
    at::Tensor g;
    if (!isNullish(info[1])) g = argTensor(info, 1, "gradient");
    else if (t.numel() != 1)
      throw ArgRangeError("backward() without a gradient needs a tensor with one element, got shape [" + c10::Join(", ", t.sizes()) + "]");
    bool create = argBool(info, 3, "createGraph", false);
    compat::optional<bool> retain;
    if (!isNullish(info[2])) retain = argBool(info, 2, "retainGraph", false);
    checkGraphIdle(info.Env(), {t});
    torch::autograd::backward({t}, g.defined() ? torch::autograd::variable_list{g} : torch::autograd::variable_list{}, retain, create);
    return info.Env().Undefined();
  });
}

// autogradGrad(outputs, inputs, gradOutputs|null, retainGraph|null, createGraph, allowUnused) -> (Tensor|null)[]
Napi::Value AutogradGrad(const Napi::CallbackInfo& info) {
  return guard(info, "autograd.grad", [&]() -> Napi::Value {
    auto outputs = argTensorList(info, 0, "outputs");
    auto inputs = argTensorList(info, 1, "inputs");
    std::vector<at::Tensor> gradOutputs;
    if (!isNullish(info[2])) gradOutputs = argTensorList(info, 2, "gradOutputs");
    if (!gradOutputs.empty() && gradOutputs.size() != outputs.size())
      throw ArgRangeError("'gradOutputs' has " + std::to_string(gradOutputs.size()) + " tensors but 'outputs' has " + std::to_string(outputs.size()));
    compat::optional<bool> retain;
    if (!isNullish(info[3])) retain = argBool(info, 3, "retainGraph", false);
    bool create = argBool(info, 4, "createGraph", false);
    bool allowUnused = argBool(info, 5, "allowUnused", false);
    checkGraphIdle(info.Env(), outputs);
    auto grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused);
    Napi::Array arr = Napi::Array::New(info.Env(), grads.size());
    for (size_t k = 0; k < grads.size(); ++k)
      arr.Set(static_cast<uint32_t>(k), grads[k].defined() ? Napi::Value(TensorHandle::Wrap(info.Env(), grads[k])) : info.Env().Null());
    return arr;
  });
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  return guard(info, "setGradEnabled", [&]() -> Napi::Value {
    at::GradMode::set_enabled(argBool(info, 0, "enabled", true));
    return info.Env().Undefined();
  });
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }

// setAutocast(deviceType 'cpu'|'cuda', dtype 'bf16'|'fp16'|null): autocast on (dtype) or off (null) on the JS
// thread, for a forward that runs in JS under a Trainer's amp setting. Turning it off clears the cast cache
// (as leaving Python's `with autocast()` does).
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  return guard(info, "setAutocast", [&]() -> Napi::Value {
    std::string dev = argString(info, 0, "deviceType");
    if (dev != "cpu" && dev != "cuda") throw ArgTypeError("deviceType must be \"cpu\" or \"cuda\", got \"" + dev + "\"");
    at::DeviceType type = dev == "cpu" ? at::kCPU : at::kCUDA;
    if (isNullish(info[1])) {
      compat::setAutocast(type, false, at::kFloat);
      at::autocast::clear_cache();
    } else {
      std::string d = argString(info, 1, "dtype");
      if (d != "bf16" && d != "fp16") throw ArgTypeError("dtype must be \"bf16\" or \"fp16\", got \"" + d + "\"");
      compat::setAutocast(type, true, d == "fp16" ? at::kHalf : at::kBFloat16);
    }
    return info.Env().Undefined();
  });
}

at::DeviceType autocastDevice(const Napi::CallbackInfo& info, size_t i) {
  std::string dev = argString(info, i, "deviceType");
  if (dev != "cpu" && dev != "cuda") throw ArgTypeError("deviceType must be \"cpu\" or \"cuda\", got \"" + dev + "\"");
  return dev == "cpu" ? at::kCPU : at::kCUDA;
}

// autocastGet(deviceType) -> [enabled, dtype]: the JS thread's autocast state (torch.is_autocast_enabled and
// get_autocast_*_dtype).
Napi::Value AutocastGet(const Napi::CallbackInfo& info) {
  return guard(info, "autocast", [&]() -> Napi::Value {
    const at::DeviceType type = autocastDevice(info, 0);
    Napi::Array out = Napi::Array::New(info.Env(), 2);
    out.Set(0u, Napi::Boolean::New(info.Env(), compat::autocastEnabled(type)));
    out.Set(1u, Napi::String::New(info.Env(), dtypeName(compat::autocastDtype(type))));
    return out;
  });
}

// autocastSet(deviceType, enabled, dtype): sets the JS thread's state; autocastNesting(+1 | -1) counts the
// regions torch.autocast has open and clears the cast cache when the outermost one closes (as Python's does).
Napi::Value AutocastSet(const Napi::CallbackInfo& info) {
  return guard(info, "autocast", [&]() -> Napi::Value {
    const at::DeviceType type = autocastDevice(info, 0);
    const at::ScalarType dtype = argDType(info, 2, "dtype");
    if (dtype != at::kBFloat16 && dtype != at::kHalf) throw ArgTypeError(std::string("dtype must be bfloat16 or float16, got ") + dtypeName(dtype));
    const bool enabled = argBool(info, 1, "enabled", true);
    const bool wasEnabled = compat::autocastEnabled(type);
    const at::ScalarType wasDtype = compat::autocastDtype(type);
    try {
      compat::setAutocast(type, true, dtype);  // the dtype is kept while off too (torch.autocast restores both)
      if (!enabled) compat::setAutocast(type, false, dtype);
    } catch (...) {
      // LibTorch 1.13's CPU autocast refuses float16 after turning itself on: leave the state as it was
      compat::setAutocast(type, true, wasDtype);
      compat::setAutocast(type, wasEnabled, wasDtype);
      throw;
    }
    return info.Env().Undefined();
  });
}

Napi::Value AutocastNesting(const Napi::CallbackInfo& info) {
  return guard(info, "autocast", [&]() -> Napi::Value {
    if (argInt(info, 0, "delta") > 0) {
      at::autocast::increment_nesting();
    } else if (at::autocast::decrement_nesting() == 0) {
      at::autocast::clear_cache();
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void InitAutograd(Napi::Env env, Napi::Object exports) {
  exports.Set("setRequiresGrad", Napi::Function::New<SetRequiresGrad>(env, "setRequiresGrad"));
  exports.Set("requiresGrad", Napi::Function::New<RequiresGrad>(env, "requiresGrad"));
  exports.Set("isLeaf", Napi::Function::New<IsLeaf>(env, "isLeaf"));
  exports.Set("retainGrad", Napi::Function::New<RetainGrad>(env, "retainGrad"));
  exports.Set("retainsGrad", Napi::Function::New<RetainsGrad>(env, "retainsGrad"));
  exports.Set("gradFn", Napi::Function::New<GradFn>(env, "gradFn"));
  exports.Set("grad", Napi::Function::New<Grad>(env, "grad"));
  exports.Set("zeroGrad", Napi::Function::New<ZeroGrad>(env, "zeroGrad"));
  exports.Set("backward", Napi::Function::New<Backward>(env, "backward"));
  exports.Set("autogradGrad", Napi::Function::New<AutogradGrad>(env, "autogradGrad"));
  exports.Set("setGradEnabled", Napi::Function::New<SetGradEnabled>(env, "setGradEnabled"));
  exports.Set("isGradEnabled", Napi::Function::New<IsGradEnabled>(env, "isGradEnabled"));
  exports.Set("setAutocast", Napi::Function::New<SetAutocast>(env, "setAutocast"));
  exports.Set("autocastGet", Napi::Function::New<AutocastGet>(env, "autocastGet"));
  exports.Set("autocastSet", Napi::Function::New<AutocastSet>(env, "autocastSet"));
  exports.Set("autocastNesting", Napi::Function::New<AutocastNesting>(env, "autocastNesting"));
}

}  // namespace ictorch
