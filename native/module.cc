// module.cc: ModuleHandle and what every native layer does: forward (sync and async), train/eval, parameters
// and buffers, kind, resetParameters, clone; and moving a module's tensors in place (to(), channelsLast()).
#include "module.h"
#include "worker.h"

namespace ictorch {

void ModuleHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "ModuleHandle", baseMethods());
  state(env).moduleCtor = Napi::Persistent(ctor);
  exports.Set("ModuleHandle", ctor);
}

ModuleHandle::ModuleHandle(const Napi::CallbackInfo& info) : Handle<ModuleHandle>(info) {}

Napi::Object ModuleHandle::Wrap(Napi::Env env, nn::LayerPtr m) {
  Napi::Object obj = state(env).moduleCtor.New({});
  ModuleHandle* h = Napi::ObjectWrap<ModuleHandle>::Unwrap(obj);
  h->layer_ = std::move(m);
  h->disposed_ = false;
  return obj;
}

const nn::LayerPtr& ModuleHandle::layer(const char* argName) const {
  checkIdle(std::string("module '") + argName + "'", false);
  return layer_;
}

const nn::LayerPtr& ModuleHandle::peek(const char* argName) const {
  checkLive(std::string("module '") + argName + "'");
  return layer_;
}

const nn::LayerPtr& ModuleHandle::mutableLayer(const char* argName) const {
  checkLive(std::string("module '") + argName + "'");
  for (const auto& m : layer_->modules(/*include_self=*/true)) checkNotInFlight(env_, m.get(), "module", true);
  return layer_;
}

bool isModule(Napi::Env env, const Napi::Value& v) {
  return ModuleHandle::isHandle(v);
}

ModuleHandle* argModuleHandle(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!isModule(info.Env(), info[i])) throw ArgTypeError(std::string("argument '") + name + "' must be a Module");
  return Napi::ObjectWrap<ModuleHandle>::Unwrap(info[i].As<Napi::Object>());
}

const nn::LayerPtr& argModule(const Napi::CallbackInfo& info, size_t i, const char* name) { return argModuleHandle(info, i, name)->layer(name); }

void markModule(InUse& marks, const nn::Layer& m, bool write) {
  for (const auto& sub : m.modules(/*include_self=*/true)) marks.add(sub.get(), "module", write);
  for (const auto& p : m.parameters(true)) markTensor(marks, p, "a parameter of the module", write);
  for (const auto& b : m.buffers(true)) markTensor(marks, b, "a buffer of the module", write);
}

namespace {

Napi::Value Forward(const Napi::CallbackInfo& info) {
  return guard(info, "forward", [&]() -> Napi::Value {
    const auto& m = argModule(info, 0, "module");
    return TensorHandle::Wrap(info.Env(), m->forward(argTensor(info, 1, "input")));
  });
}

// forwardAsync(module, input, gradEnabled): the forward runs on one of the forward threads (worker.h); the module and the input are
// in flight until it settles (readers: other forwards may overlap; mutations and training steps are refused).
Napi::Value ForwardAsync(const Napi::CallbackInfo& info) {
  return guard(info, "forwardAsync", [&]() -> Napi::Value {
    nn::LayerPtr m = argModule(info, 0, "module");
    at::Tensor x = argTensor(info, 1, "input");
    InUse marks(info.Env(), "forwardAsync");
    markModule(marks, *m, false);
    markTensor(marks, x, "tensor 'input'", false);
    // torch.autocast on the JS thread when the call is made applies to the forward on the worker thread too
    // (autocast is thread-local in LibTorch): the state is read here and set there.
    return queuePromise(info.Env(), "forwardAsync", argBool(info, 2, "gradEnabled", true), std::move(marks),
                        [m, x, cast = compat::AutocastCapture::current()] {
                          compat::AutocastCaptureScope autocast(cast);
                          return m->forward(x);
                        },
                        [](Napi::Env env, at::Tensor& y) -> Napi::Value { return TensorHandle::Wrap(env, y); }, &forwardThreads());
  });
}

Napi::Value Train(const Napi::CallbackInfo& info) {
  return guard(info, "train", [&]() -> Napi::Value {
    argModuleHandle(info, 0, "module")->mutableLayer("module")->train(argBool(info, 1, "mode", true));
    return info.Env().Undefined();
  });
}

Napi::Value IsTraining(const Napi::CallbackInfo& info) {
  return guard(info, "isTraining", [&]() -> Napi::Value {
    return Napi::Boolean::New(info.Env(), argModuleHandle(info, 0, "module")->peek("module")->is_training());
  });
}

// moduleClone(module): a deep copy of the layer (nn::Layer::clone); refused while a training step in flight
// writes it, allowed beside forwards in flight.
Napi::Value Clone(const Napi::CallbackInfo& info) {
  return guard(info, "deepCopy", [&]() -> Napi::Value {
    return ModuleHandle::Wrap(info.Env(), argModule(info, 0, "module")->clone());
  });
}

Napi::Value ResetParameters(const Napi::CallbackInfo& info) {
  return guard(info, "resetParameters", [&]() -> Napi::Value {
    argModuleHandle(info, 0, "module")->mutableLayer("module")->resetParameters();
    return info.Env().Undefined();
  });
}

Napi::Array namedList(Napi::Env env, const torch::OrderedDict<std::string, at::Tensor>& d) {
  Napi::Array arr = Napi::Array::New(env, d.size());
  uint32_t k = 0;
  for (const auto& item : d) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, item.key());
    pair.Set(1u, TensorHandle::Wrap(env, item.value()));
    arr.Set(k++, pair);
  }
  return arr;
}

Napi::Value NamedParameters(const Napi::CallbackInfo& info) {
  return guard(info, "namedParameters", [&]() -> Napi::Value { return namedList(info.Env(), argModuleHandle(info, 0, "module")->peek("module")->named_parameters(true)); });
}

Napi::Value NamedBuffers(const Napi::CallbackInfo& info) {
  return guard(info, "namedBuffers", [&]() -> Napi::Value { return namedList(info.Env(), argModuleHandle(info, 0, "module")->peek("module")->named_buffers(true)); });
}

Napi::Value Kind(const Napi::CallbackInfo& info) {
  return guard(info, "kind", [&]() -> Napi::Value { return Napi::String::New(info.Env(), argModuleHandle(info, 0, "module")->peek("module")->kind()); });
}

// The tensors of argument i (an array of Tensors), each checked as something the call changes in place; all
// are checked before any changes, so a refused call changes nothing.
std::vector<TensorHandle*> mutableHandles(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) throw ArgTypeError(std::string("argument '") + name + "' must be an array of Tensors");
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<TensorHandle*> out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    std::string el = std::string(name) + "[" + std::to_string(k) + "]";
    if (!isTensor(info.Env(), v)) throw ArgTypeError("argument '" + el + "' must be a Tensor");
    TensorHandle* h = Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>());
    h->mutableTensor(el.c_str());
    out.push_back(h);
  }
  return out;
}

// tensorsTo_(tensors, device|null, dtype|null): a module's parameters and buffers move in place (set_data), so
// every handle, the optimiser's references and autograd's leaves stay valid. Floating-point tensors change
// dtype; integer ones (num_batches_tracked) keep theirs.
Napi::Value TensorsTo(const Napi::CallbackInfo& info) {
  return guard(info, "module.to", [&]() -> Napi::Value {
    auto handles = mutableHandles(info, 0, "tensors");
    auto device = argOptDevice(info, 1, "device");
    auto dtype = argOptDType(info, 2, "dtype");
    if (dtype && !at::isFloatingType(*dtype)) throw ArgTypeError(std::string("module dtype must be floating point, got ") + dtypeName(*dtype));
    at::NoGradGuard noGrad;
    for (TensorHandle* h : handles) {
      at::Tensor t = h->tensor("tensor");
      auto target = at::isFloatingType(t.scalar_type()) && dtype ? *dtype : t.scalar_type();
      t.set_data(t.to(device.value_or(t.device()), target));
    }
    for (TensorHandle* h : handles) h->recount();
    return info.Env().Undefined();
  });
}

// tensorsChannelsLast_(tensors): 4-d tensors are stored channels-last (NHWC), in place.
Napi::Value TensorsChannelsLast(const Napi::CallbackInfo& info) {
  return guard(info, "channelsLast", [&]() -> Napi::Value {
    auto handles = mutableHandles(info, 0, "tensors");
    at::NoGradGuard noGrad;
    for (TensorHandle* h : handles) {
      at::Tensor t = h->tensor("tensor");
      if (t.dim() == 4) t.set_data(t.contiguous(at::MemoryFormat::ChannelsLast));
    }
    for (TensorHandle* h : handles) h->recount();
    return info.Env().Undefined();
  });
}

}  // namespace

void InitModule(Napi::Env env, Napi::Object exports) {
  ModuleHandle::Init(env, exports);
  exports.Set("moduleForward", Napi::Function::New<Forward>(env, "moduleForward"));
  exports.Set("moduleForwardAsync", Napi::Function::New<ForwardAsync>(env, "moduleForwardAsync"));
  exports.Set("moduleTrain", Napi::Function::New<Train>(env, "moduleTrain"));
  exports.Set("moduleIsTraining", Napi::Function::New<IsTraining>(env, "moduleIsTraining"));
  exports.Set("moduleClone", Napi::Function::New<Clone>(env, "moduleClone"));
  exports.Set("moduleResetParameters", Napi::Function::New<ResetParameters>(env, "moduleResetParameters"));
  exports.Set("moduleNamedParameters", Napi::Function::New<NamedParameters>(env, "moduleNamedParameters"));
  exports.Set("moduleNamedBuffers", Napi::Function::New<NamedBuffers>(env, "moduleNamedBuffers"));
  exports.Set("moduleKind", Napi::Function::New<Kind>(env, "moduleKind"));
  exports.Set("tensorsTo_", Napi::Function::New<TensorsTo>(env, "tensorsTo_"));
  exports.Set("tensorsChannelsLast_", Napi::Function::New<TensorsChannelsLast>(env, "tensorsChannelsLast_"));
}

}  // namespace ictorch
