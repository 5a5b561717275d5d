// layers.cc: building native layers from JS. One table maps a kind name ("conv2d", "ic2d", ...) to the
// layer built from a JS options object; the layers themselves live in native/nn/ (one header each, in the
// C++ frontend's idiom). Also the containers made from existing layers (sequential, residual) and the
// functional IC layer.
#include <cmath>
#include <functional>
#include <map>
#include "generator.h"
#include "module.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/flatten.h"
#include "nn/ic_layer.h"
#include "nn/identity.h"
#include "nn/linear.h"
#include "nn/pad_shortcut.h"
#include "nn/pooling.h"

namespace ictorch {
namespace {

// ---------------------------------------------------------------- options from a JS object

struct JsOptions {
  Napi::Object o;
  Napi::Value get(const char* k) const { return o.Has(k) ? o.Get(k) : o.Env().Undefined(); }
  int64_t i(const char* k, std::optional<int64_t> dflt = std::nullopt, int64_t min = 0) const {
    Napi::Value v = get(k);
    if (isNullish(v)) {
      if (!dflt) throw ArgTypeError(std::string("option '") + k + "' is required");
      return *dflt;
    }
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || std::floor(d) != d) throw ArgTypeError(std::string("option '") + k + "' must be an integer");
    if (d < static_cast<double>(min) || d > 1e12) throw ArgRangeError(std::string("option '") + k + "' must be >= " + std::to_string(min) + ", got " + std::to_string(static_cast<int64_t>(d)));
    return static_cast<int64_t>(d);
  }
  double f(const char* k, double dflt) const {
    Napi::Value v = get(k);
    if (isNullish(v)) return dflt;
    if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) throw ArgTypeError(std::string("option '") + k + "' must be a finite number");
    return v.As<Napi::Number>().DoubleValue();
  }
  bool b(const char* k, bool dflt) const {
    Napi::Value v = get(k);
    if (isNullish(v)) return dflt;
    if (!v.IsBoolean()) throw ArgTypeError(std::string("option '") + k + "' must be a boolean");
    return v.As<Napi::Boolean>().Value();
  }
  compat::optional<at::Generator> generator() const { return optGenerator(o.Env(), get("generator"), "option 'generator'"); }
};

nn::BatchNormOptions batchNormOptions(const JsOptions& o) {
  return nn::BatchNormOptions(o.i("numFeatures", {}, 1)).momentum(o.f("momentum", 0.1)).eps(o.f("eps", 1e-5)).affine(o.b("affine", true))
      .trackRunningStats(o.b("trackRunningStats", true));
}

nn::LayerPtr makeIC(const JsOptions& o, int dims) {
  return nn::IC(nn::ICOptions(o.i("channels", {}, 1)).dropRate(o.f("dropRate", 0.0)).momentum(o.f("momentum", 0.1)).eps(o.f("eps", 1e-5))
                    .affine(o.b("affine", true)).dims(dims).generator(o.generator())).ptr();
}

nn::Pool2dOptions poolOptions(const JsOptions& o) {
  int64_t k = o.i("kernelSize", {}, 1);
  return nn::Pool2dOptions(k).stride(o.i("stride", k, 1)).padding(o.i("padding", 0)).ceilMode(o.b("ceilMode", false));
}

// The layer kinds JS can create: one entry per layer.
using Factory = std::function<nn::LayerPtr(const JsOptions&)>;
const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"conv2d", [](const JsOptions& o) -> nn::LayerPtr {
         return nn::Conv2d(nn::Conv2dOptions(o.i("inChannels", {}, 1), o.i("outChannels", {}, 1), o.i("kernelSize", {}, 1)).stride(o.i("stride", 1, 1))
                               .padding(o.i("padding", 0)).dilation(o.i("dilation", 1, 1)).groups(o.i("groups", 1, 1)).bias(o.b("bias", true))).ptr();
       }},
      {"linear", [](const JsOptions& o) -> nn::LayerPtr { return nn::Linear(nn::LinearOptions(o.i("inFeatures", {}, 1), o.i("outFeatures", {}, 1)).bias(o.b("bias", true))).ptr(); }},
      {"batchNorm1d", [](const JsOptions& o) -> nn::LayerPtr { return nn::BatchNorm1d(batchNormOptions(o)).ptr(); }},
      {"batchNorm2d", [](const JsOptions& o) -> nn::LayerPtr { return nn::BatchNorm2d(batchNormOptions(o)).ptr(); }},
      {"batchNorm3d", [](const JsOptions& o) -> nn::LayerPtr { return nn::BatchNorm3d(batchNormOptions(o)).ptr(); }},
      {"ic1d", [](const JsOptions& o) { return makeIC(o, 1); }},
      {"ic2d", [](const JsOptions& o) { return makeIC(o, 2); }},
      {"dropout", [](const JsOptions& o) -> nn::LayerPtr { return nn::Dropout(nn::DropoutOptions(o.f("p", 0.5)).generator(o.generator())).ptr(); }},
      {"relu", [](const JsOptions& o) -> nn::LayerPtr { return nn::ReLU(nn::ReLUOptions().inplace(o.b("inplace", false))).ptr(); }},
      {"maxPool2d", [](const JsOptions& o) -> nn::LayerPtr { return nn::MaxPool2d(poolOptions(o)).ptr(); }},
      {"avgPool2d", [](const JsOptions& o) -> nn::LayerPtr { return nn::AvgPool2d(poolOptions(o)).ptr(); }},
      {"adaptiveAvgPool2d", [](const JsOptions& o) -> nn::LayerPtr {
         // 0: the input's size (None in PyTorch)
         int64_t h = o.i("outputHeight", 1, 0);
         return nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(h, o.i("outputWidth", h, 0))).ptr();
       }},
      {"flatten", [](const JsOptions& o) -> nn::LayerPtr { return nn::Flatten(nn::FlattenOptions().startDim(o.i("startDim", 1, -64)).endDim(o.i("endDim", -1, -64))).ptr(); }},
      {"identity", [](const JsOptions&) -> nn::LayerPtr { return nn::Identity().ptr(); }},
      {"padShortcut", [](const JsOptions& o) -> nn::LayerPtr { return nn::PadShortcut(nn::PadShortcutOptions(o.i("stride", 1, 1), o.i("outChannels", {}, 1))).ptr(); }},
  };
  return table;
}

// moduleCreate(kind, options)
Napi::Value Create(const Napi::CallbackInfo& info) {
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "module";
  return guard(info, kind.c_str(), [&]() -> Napi::Value {
    auto it = factories().find(kind);
    if (it == factories().end()) throw ArgTypeError("unknown module kind \"" + kind + "\"");
    Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    return ModuleHandle::Wrap(info.Env(), it->second(JsOptions{opts}));
  });
}

nn::NamedLayers namedLayers(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) throw ArgTypeError(std::string("argument '") + name + "' must be an array of [name, Module] pairs");
  Napi::Array arr = info[i].As<Napi::Array>();
  nn::NamedLayers out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value e = arr.Get(k);
    // Each element read once: a getter could return something else the second time.
    Napi::Value first = e.IsArray() && e.As<Napi::Array>().Length() == 2 ? e.As<Napi::Array>().Get(0u) : Napi::Value();
    Napi::Value second = first.IsEmpty() ? Napi::Value() : e.As<Napi::Array>().Get(1u);
    if (first.IsEmpty() || !first.IsString() || !isModule(info.Env(), second))
      throw ArgTypeError(std::string("argument '") + name + "[" + std::to_string(k) + "]' must be a [name, Module] pair");
    std::string childName = first.As<Napi::String>().Utf8Value();
    if (childName.empty() || childName.find('.') != std::string::npos) throw ArgTypeError("child name \"" + childName + "\" must be non-empty and contain no '.'");
    for (const auto& [n, _] : out)
      if (n == childName) throw ArgTypeError("child name \"" + childName + "\" is used twice");
    out.emplace_back(childName, Napi::ObjectWrap<ModuleHandle>::Unwrap(second.As<Napi::Object>())->peek(childName.c_str()));
  }
  return out;
}

// sequential([[name, module], ...])
Napi::Value Sequential(const Napi::CallbackInfo& info) {
  return guard(info, "sequential", [&]() -> Napi::Value { return ModuleHandle::Wrap(info.Env(), nn::Sequential(namedLayers(info, 0, "children")).ptr()); });
}

// residual([[name, module], ...], shortcut|null, [[name, module], ...])
Napi::Value Residual(const Napi::CallbackInfo& info) {
  return guard(info, "residual", [&]() -> Napi::Value {
    nn::NamedLayers body = namedLayers(info, 0, "body");
    nn::LayerPtr shortcut = isNullish(info[1]) ? nullptr : argModuleHandle(info, 1, "shortcut")->peek("shortcut");
    nn::NamedLayers post = isNullish(info[2]) ? nn::NamedLayers() : namedLayers(info, 2, "post");
    return ModuleHandle::Wrap(info.Env(), nn::Residual(body, shortcut, post).ptr());
  });
}

// icLayer(x, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum, eps, dropRate, impl)
Napi::Value ICFunctional(const Napi::CallbackInfo& info) {
  return guard(info, "icLayer", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    auto opt = [&](size_t i, const char* n) { return isNullish(info[i]) ? at::Tensor() : argTensor(info, i, n); };
    ic::Options o;
    o.training = argBool(info, 5, "training", true);
    o.momentum = isNullish(info[6]) ? 0.1 : argDouble(info, 6, "momentum");
    o.eps = isNullish(info[7]) ? 1e-5 : argDouble(info, 7, "eps");
    o.dropRate = isNullish(info[8]) ? 0.0 : argDouble(info, 8, "dropRate");
    o.impl = isNullish(info[9]) ? ic::Impl::Auto : ic::parseImpl(argString(info, 9, "impl"));
    // The running statistics change in place in training: refused while a call in flight uses them.
    at::Tensor rm = o.training && !isNullish(info[3]) ? argMutableTensor(info, 3, "runningMean") : opt(3, "runningMean");
    at::Tensor rv = o.training && !isNullish(info[4]) ? argMutableTensor(info, 4, "runningVar") : opt(4, "runningVar");
    return TensorHandle::Wrap(info.Env(), ic::icLayer(x, opt(1, "weight"), opt(2, "bias"), rm, rv, o));
  });
}

}  // namespace

void InitLayers(Napi::Env env, Napi::Object exports) {
  exports.Set("moduleCreate", Napi::Function::New<Create>(env, "moduleCreate"));
  exports.Set("sequential", Napi::Function::New<Sequential>(env, "sequential"));
  exports.Set("residual", Napi::Function::New<Residual>(env, "residual"));
  exports.Set("icLayer", Napi::Function::New<ICFunctional>(env, "icLayer"));
}

}  // namespace ictorch
