// module.cc: ModuleHandle and what every module does: forward (sync and async), train/eval, to(device|dtype),
// channels-last, parameters, buffers and children.
#include "module.h"
#include "layers.h"

namespace ictorch {

namespace {
Napi::FunctionReference& moduleCtor(Napi::Env env) { return state(env).moduleCtor; }
}  // namespace

void ModuleHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "ModuleHandle", {
      InstanceMethod<&ModuleHandle::Dispose>("dispose"),
      InstanceMethod<&ModuleHandle::IsDisposed>("isDisposed"),
  });
  moduleCtor(env) = Napi::Persistent(ctor);
  exports.Set("ModuleHandle", ctor);
}

ModuleHandle::ModuleHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModuleHandle>(info) {}

Napi::Object ModuleHandle::Wrap(Napi::Env env, std::shared_ptr<torch::nn::Module> m) {
  Napi::Object obj = moduleCtor(env).New({});
  Napi::ObjectWrap<ModuleHandle>::Unwrap(obj)->module_ = std::move(m);
  return obj;
}

const std::shared_ptr<torch::nn::Module>& ModuleHandle::module(const char* argName) const {
  if (!module_) throw ArgTypeError(std::string("module '") + argName + "' has been disposed; a disposed module cannot be used again");
  return module_;
}

Napi::Value ModuleHandle::Dispose(const Napi::CallbackInfo& info) {
  module_.reset();
  return info.Env().Undefined();
}

Napi::Value ModuleHandle::IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !module_); }


bool isModule(Napi::Env env, const Napi::Value& v) {
  return v.IsObject() && v.As<Napi::Object>().InstanceOf(moduleCtor(env).Value());
}

std::shared_ptr<torch::nn::Module> argModule(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!isModule(info.Env(), info[i])) throw ArgTypeError(std::string("argument '") + name + "' must be a Module");
  return Napi::ObjectWrap<ModuleHandle>::Unwrap(info[i].As<Napi::Object>())->module(name);
}

// ---------------------------------------------------------------- dispatch over layer types

#define ICT_LAYERS(X)                                                                                           \
  X(torch::nn::Conv2dImpl, "conv2d") X(torch::nn::LinearImpl, "linear") X(torch::nn::BatchNorm1dImpl, "batchNorm1d") \
  X(torch::nn::BatchNorm2dImpl, "batchNorm2d") X(torch::nn::DropoutImpl, "dropout") X(torch::nn::ReLUImpl, "relu") \
  X(torch::nn::MaxPool2dImpl, "maxPool2d") X(torch::nn::AvgPool2dImpl, "avgPool2d")                             \
  X(torch::nn::AdaptiveAvgPool2dImpl, "adaptiveAvgPool2d") X(torch::nn::FlattenImpl, "flatten")                 \
  X(torch::nn::IdentityImpl, "identity") X(ICLayer, "ic") X(SequentialLayer, "sequential") X(ResidualLayer, "residual") \
  X(PadShortcutLayer, "padShortcut")

at::Tensor forwardAny(torch::nn::Module& m, const at::Tensor& x) {
#define ICT_FORWARD(Type, name) \
  if (auto* p = dynamic_cast<Type*>(&m)) return p->forward(x);
  ICT_LAYERS(ICT_FORWARD)
#undef ICT_FORWARD
  throw ArgTypeError("module of type " + m.name() + " has no forward ictorch can call");
}

std::string kindOf(const torch::nn::Module& m) {
#define ICT_KIND(Type, name) \
  if (dynamic_cast<const Type*>(&m)) return name;
  ICT_LAYERS(ICT_KIND)
#undef ICT_KIND
  return m.name();
}

namespace {

Napi::Value Forward(const Napi::CallbackInfo& info) {
  return guard(info, "forward", [&]() -> Napi::Value {
    auto m = argModule(info, 0, "module");
    return TensorHandle::Wrap(info.Env(), forwardAny(*m, argTensor(info, 1, "input")));
  });
}

// forwardAsync(module, input, gradEnabled): the forward runs on a libuv worker thread. Grad mode is
// thread-local in LibTorch, so it is set there from the caller's value.
class ForwardWorker : public Napi::AsyncWorker {
 public:
  ForwardWorker(Napi::Env env, std::shared_ptr<torch::nn::Module> m, at::Tensor x, bool grad)
      : Napi::AsyncWorker(env, "ictorch.forward"), m_(std::move(m)), x_(std::move(x)), grad_(grad), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    err_ = captureError("forwardAsync", [&] {
      at::AutoGradMode mode(grad_);
      y_ = forwardAny(*m_, x_);
    });
  }
  void OnOK() override {
    if (!err_.empty()) deferred_.Reject(Napi::Error::New(Env(), err_).Value());
    else deferred_.Resolve(TensorHandle::Wrap(Env(), y_));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::shared_ptr<torch::nn::Module> m_;
  at::Tensor x_, y_;
  bool grad_;
  std::string err_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value ForwardAsync(const Napi::CallbackInfo& info) {
  return guard(info, "forwardAsync", [&]() -> Napi::Value {
    auto* w = new ForwardWorker(info.Env(), argModule(info, 0, "module"), argTensor(info, 1, "input"), argBool(info, 2, "gradEnabled", true));
    auto p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value Train(const Napi::CallbackInfo& info) {
  return guard(info, "train", [&]() -> Napi::Value {
    argModule(info, 0, "module")->train(argBool(info, 1, "mode", true));
    return info.Env().Undefined();
  });
}

Napi::Value IsTraining(const Napi::CallbackInfo& info) {
  return guard(info, "isTraining", [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), argModule(info, 0, "module")->is_training()); });
}

// to(module, device|null, dtype|null): floating-point parameters and buffers change dtype; integer buffers
// (num_batches_tracked) keep theirs. Tensors are replaced in place (set_data), so handles stay valid.
Napi::Value To(const Napi::CallbackInfo& info) {
  return guard(info, "module.to", [&]() -> Napi::Value {
    auto m = argModule(info, 0, "module");
    auto device = argOptDevice(info, 1, "device");
    auto dtype = argOptDType(info, 2, "dtype");
    if (dtype && !at::isFloatingType(*dtype)) throw ArgTypeError(std::string("module dtype must be floating point, got ") + dtypeName(*dtype));
    at::NoGradGuard noGrad;
    auto move = [&](at::Tensor t) {
      auto target = at::isFloatingType(t.scalar_type()) && dtype ? *dtype : t.scalar_type();
      t.set_data(t.to(device.value_or(t.device()), target));
    };
    for (auto& p : m->parameters()) move(p);
    for (auto& b : m->buffers()) move(b);
    return info.Env().Undefined();
  });
}

Napi::Value ChannelsLast(const Napi::CallbackInfo& info) {
  return guard(info, "channelsLast", [&]() -> Napi::Value {
    auto m = argModule(info, 0, "module");
    at::NoGradGuard noGrad;
    for (auto& p : m->parameters())
      if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
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
  return guard(info, "namedParameters", [&]() -> Napi::Value { return namedList(info.Env(), argModule(info, 0, "module")->named_parameters(true)); });
}

Napi::Value NamedBuffers(const Napi::CallbackInfo& info) {
  return guard(info, "namedBuffers", [&]() -> Napi::Value { return namedList(info.Env(), argModule(info, 0, "module")->named_buffers(true)); });
}

// children(module) -> [name, handle, kind][]
Napi::Value Children(const Napi::CallbackInfo& info) {
  return guard(info, "children", [&]() -> Napi::Value {
    auto m = argModule(info, 0, "module");
    auto kids = m->named_children();
    Napi::Array arr = Napi::Array::New(info.Env(), kids.size());
    uint32_t k = 0;
    for (const auto& item : kids) {
      Napi::Array t = Napi::Array::New(info.Env(), 3);
      t.Set(0u, item.key());
      t.Set(1u, ModuleHandle::Wrap(info.Env(), item.value()));
      t.Set(2u, kindOf(*item.value()));
      arr.Set(k++, t);
    }
    return arr;
  });
}

Napi::Value Kind(const Napi::CallbackInfo& info) {
  return guard(info, "kind", [&]() -> Napi::Value { return Napi::String::New(info.Env(), kindOf(*argModule(info, 0, "module"))); });
}

}  // namespace

void InitModule(Napi::Env env, Napi::Object exports) {
  ModuleHandle::Init(env, exports);
  exports.Set("moduleForward", Napi::Function::New<Forward>(env, "moduleForward"));
  exports.Set("moduleForwardAsync", Napi::Function::New<ForwardAsync>(env, "moduleForwardAsync"));
  exports.Set("moduleTrain", Napi::Function::New<Train>(env, "moduleTrain"));
  exports.Set("moduleIsTraining", Napi::Function::New<IsTraining>(env, "moduleIsTraining"));
  exports.Set("moduleTo", Napi::Function::New<To>(env, "moduleTo"));
  exports.Set("moduleChannelsLast", Napi::Function::New<ChannelsLast>(env, "moduleChannelsLast"));
  exports.Set("moduleNamedParameters", Napi::Function::New<NamedParameters>(env, "moduleNamedParameters"));
  exports.Set("moduleNamedBuffers", Napi::Function::New<NamedBuffers>(env, "moduleNamedBuffers"));
  exports.Set("moduleChildren", Napi::Function::New<Children>(env, "moduleChildren"));
  exports.Set("moduleKind", Napi::Function::New<Kind>(env, "moduleKind"));
}

}  // namespace ictorch
