// layers.cc: building modules from JS: the torch::nn layers ictorch exposes, IC, Sequential and Residual,
// with the paper's initialisation (He normal for convolutions, BatchNorm weight 1 and bias 0).
#include "layers.h"
#include <cmath>
#include "module.h"

namespace ictorch {

// ---------------------------------------------------------------- ICLayer, SequentialLayer, ResidualLayer

ICLayer::ICLayer(int64_t channels_, double dropRate, double momentum, double eps, bool affine, int dims_) : channels(channels_), dims(dims_) {
  options.dropRate = dropRate;
  options.momentum = momentum;
  options.eps = eps;
  if (affine) {
    weight = register_parameter("weight", at::ones({channels}));
    bias = register_parameter("bias", at::zeros({channels}));
  }
  runningMean = register_buffer("running_mean", at::zeros({channels}));
  runningVar = register_buffer("running_var", at::ones({channels}));
  numBatchesTracked = register_buffer("num_batches_tracked", at::zeros({}, at::kLong));
}

at::Tensor ICLayer::forward(const at::Tensor& x) {
  const int64_t want = dims == 1 ? 2 : 4;
  if (x.dim() != want)
    throw ArgRangeError("IC" + std::string(dims == 1 ? "1d" : "2d") + " expects a " + std::to_string(want) + "-d input " +
                        (dims == 1 ? "(N, C)" : "(N, C, H, W)") + ", got shape [" + c10::Join(", ", x.sizes()) + "]");
  if (x.size(1) != channels)
    throw ArgRangeError("IC layer has " + std::to_string(channels) + " channels but the input has " + std::to_string(x.size(1)) + " (shape [" +
                        c10::Join(", ", x.sizes()) + "])");
  ic::Options o = options;
  o.training = is_training();
  if (o.training) {
    at::NoGradGuard g;
    numBatchesTracked.add_(1);
  }
  return ic::icLayer(x, weight, bias, runningMean, runningVar, o);
}

void SequentialLayer::append(const std::string& name, std::shared_ptr<torch::nn::Module> m) {
  items.push_back(register_module(name, std::move(m)));
}

at::Tensor SequentialLayer::forward(const at::Tensor& x) {
  at::Tensor y = x;
  for (auto& m : items) y = forwardAny(*m, y);
  return y;
}

at::Tensor ResidualLayer::forward(const at::Tensor& x) {
  at::Tensor y = x;
  for (auto& m : body) y = forwardAny(*m, y);
  at::Tensor s = shortcut ? forwardAny(*shortcut, x) : x;
  if (!y.sizes().equals(s.sizes()))
    throw ArgRangeError("residual body gives shape [" + c10::Join(", ", y.sizes()) + "] but the shortcut gives [" + c10::Join(", ", s.sizes()) +
                        "]; use a projection shortcut where the stride or width changes");
  y = y + s;
  for (auto& m : post) y = forwardAny(*m, y);
  return y;
}

at::Tensor PadShortcutLayer::forward(const at::Tensor& x) {
  if (x.dim() != 4) throw ArgRangeError("the padding shortcut expects (N, C, H, W), got shape [" + c10::Join(", ", x.sizes()) + "]");
  at::Tensor y = stride > 1 ? x.slice(2, 0, c10::nullopt, stride).slice(3, 0, c10::nullopt, stride) : x;
  const int64_t extra = outChannels - x.size(1);
  if (extra < 0) throw ArgRangeError("the padding shortcut cannot shrink " + std::to_string(x.size(1)) + " channels to " + std::to_string(outChannels));
  return extra == 0 ? y : at::constant_pad_nd(y, {0, 0, 0, 0, 0, extra}, 0);
}

namespace {

// ---------------------------------------------------------------- options from a JS object

struct Opts {
  Napi::Object o;
  std::string op;
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
};

void heNormal(at::Tensor& w) {
  // He et al. (2015) normal initialisation with fan_out, as the ResNet references use.
  at::NoGradGuard g;
  int64_t fanOut = w.size(0);
  for (int64_t d = 2; d < w.dim(); ++d) fanOut *= w.size(d);
  w.normal_(0.0, std::sqrt(2.0 / static_cast<double>(fanOut)));
}

std::shared_ptr<torch::nn::Module> create(const std::string& kind, const Opts& o) {
  using namespace torch::nn;
  if (kind == "conv2d") {
    auto opts = Conv2dOptions(o.i("inChannels", {}, 1), o.i("outChannels", {}, 1), o.i("kernelSize", {}, 1))
                    .stride(o.i("stride", 1, 1)).padding(o.i("padding", 0)).groups(o.i("groups", 1, 1)).bias(o.b("bias", true))
                    .dilation(o.i("dilation", 1, 1));
    auto m = std::make_shared<Conv2dImpl>(opts);
    heNormal(m->weight);
    if (m->bias.defined()) { at::NoGradGuard g; m->bias.zero_(); }
    return m;
  }
  if (kind == "linear") return std::make_shared<LinearImpl>(LinearOptions(o.i("inFeatures", {}, 1), o.i("outFeatures", {}, 1)).bias(o.b("bias", true)));
  if (kind == "batchNorm1d" || kind == "batchNorm2d") {
    auto opts = BatchNormOptions(o.i("numFeatures", {}, 1)).momentum(o.f("momentum", 0.1)).eps(o.f("eps", 1e-5))
                    .affine(o.b("affine", true)).track_running_stats(o.b("trackRunningStats", true));
    if (kind == "batchNorm1d") return std::make_shared<BatchNorm1dImpl>(opts);
    return std::make_shared<BatchNorm2dImpl>(opts);
  }
  if (kind == "ic1d" || kind == "ic2d") {
    double p = o.f("dropRate", 0.0);
    if (!(p >= 0 && p < 1)) throw ArgRangeError("option 'dropRate' must be in [0, 1), got " + std::to_string(p));
    auto m = std::make_shared<ICLayer>(o.i("channels", {}, 1), p, o.f("momentum", 0.1), o.f("eps", 1e-5), o.b("affine", true), kind == "ic1d" ? 1 : 2);
    m->options.impl = ic::Impl::Auto;
    return m;
  }
  if (kind == "dropout") {
    double p = o.f("p", 0.5);
    if (!(p >= 0 && p <= 1)) throw ArgRangeError("option 'p' must be in [0, 1], got " + std::to_string(p));
    return std::make_shared<DropoutImpl>(DropoutOptions(p));
  }
  if (kind == "relu") return std::make_shared<ReLUImpl>(ReLUOptions(o.b("inplace", false)));
  if (kind == "maxPool2d") {
    int64_t k = o.i("kernelSize", {}, 1);
    return std::make_shared<MaxPool2dImpl>(MaxPool2dOptions(k).stride(o.i("stride", k, 1)).padding(o.i("padding", 0)));
  }
  if (kind == "avgPool2d") {
    int64_t k = o.i("kernelSize", {}, 1);
    return std::make_shared<AvgPool2dImpl>(AvgPool2dOptions(k).stride(o.i("stride", k, 1)).padding(o.i("padding", 0)));
  }
  if (kind == "adaptiveAvgPool2d") {
    int64_t h = o.i("outputHeight", 1, 1), w = o.i("outputWidth", h, 1);
    return std::make_shared<AdaptiveAvgPool2dImpl>(AdaptiveAvgPool2dOptions({h, w}));
  }
  if (kind == "flatten") return std::make_shared<FlattenImpl>(FlattenOptions().start_dim(o.i("startDim", 1, -64)).end_dim(o.i("endDim", -1, -64)));
  if (kind == "identity") return std::make_shared<IdentityImpl>();
  if (kind == "padShortcut") return std::make_shared<PadShortcutLayer>(o.i("stride", 1, 1), o.i("outChannels", {}, 1));
  throw ArgTypeError("unknown module kind \"" + kind + "\"");
}

// moduleCreate(kind, options)
Napi::Value Create(const Napi::CallbackInfo& info) {
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "module";
  return guard(info, kind.c_str(), [&]() -> Napi::Value {
    Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    return ModuleHandle::Wrap(info.Env(), create(kind, Opts{opts, kind}));
  });
}

std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> namedModules(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) throw ArgTypeError(std::string("argument '") + name + "' must be an array of [name, Module] pairs");
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value e = arr.Get(k);
    if (!e.IsArray() || e.As<Napi::Array>().Length() != 2 || !e.As<Napi::Array>().Get(0u).IsString() || !isModule(info.Env(), e.As<Napi::Array>().Get(1u)))
      throw ArgTypeError(std::string("argument '") + name + "[" + std::to_string(k) + "]' must be a [name, Module] pair");
    Napi::Array pair = e.As<Napi::Array>();
    std::string childName = pair.Get(0u).As<Napi::String>().Utf8Value();
    if (childName.empty() || childName.find('.') != std::string::npos)
      throw ArgTypeError("child name \"" + childName + "\" must be non-empty and contain no '.'");
    for (const auto& [n, _] : out)
      if (n == childName) throw ArgTypeError("child name \"" + childName + "\" is used twice");
    out.emplace_back(childName, Napi::ObjectWrap<ModuleHandle>::Unwrap(pair.Get(1u).As<Napi::Object>())->module(childName.c_str()));
  }
  return out;
}

// sequential([[name, module], ...])
Napi::Value Sequential(const Napi::CallbackInfo& info) {
  return guard(info, "sequential", [&]() -> Napi::Value {
    auto m = std::make_shared<SequentialLayer>();
    for (auto& [name, child] : namedModules(info, 0, "children")) m->append(name, child);
    return ModuleHandle::Wrap(info.Env(), m);
  });
}

// residual([[name, module], ...], shortcut|null, [[name, module], ...])
Napi::Value Residual(const Napi::CallbackInfo& info) {
  return guard(info, "residual", [&]() -> Napi::Value {
    auto m = std::make_shared<ResidualLayer>();
    for (auto& [name, child] : namedModules(info, 0, "body")) m->body.push_back(m->register_module(name, child));
    if (!isNullish(info[1])) m->shortcut = m->register_module("downsample", argModule(info, 1, "shortcut"));
    if (!isNullish(info[2]))
      for (auto& [name, child] : namedModules(info, 2, "post")) m->post.push_back(m->register_module(name, child));
    return ModuleHandle::Wrap(info.Env(), m);
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
    return TensorHandle::Wrap(info.Env(), ic::icLayer(x, opt(1, "weight"), opt(2, "bias"), opt(3, "runningMean"), opt(4, "runningVar"), o));
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
