// generator.cc: generators of one's own (create, manualSeed, initialSeed, getState/setState) and the random
// creation and sampling ops that draw from one.
#include "generator.h"
#include <ATen/CPUGeneratorImpl.h>
#include "tensor.h"
#ifdef ICTORCH_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#endif

namespace ictorch {

void GeneratorHandle::Init(Napi::Env env, Napi::Object exports) {
  Props props = baseMethods();
  props.push_back(InstanceMethod<&GeneratorHandle::ManualSeed>("manualSeed"));
  props.push_back(InstanceMethod<&GeneratorHandle::InitialSeed>("initialSeed"));
  props.push_back(InstanceMethod<&GeneratorHandle::GetState>("getState"));
  props.push_back(InstanceMethod<&GeneratorHandle::SetState>("setState"));
  props.push_back(InstanceMethod<&GeneratorHandle::Device>("device"));
  Napi::Function ctor = DefineClass(env, "GeneratorHandle", props);
  state(env).generatorCtor = Napi::Persistent(ctor);
  exports.Set("GeneratorHandle", ctor);
}

GeneratorHandle::GeneratorHandle(const Napi::CallbackInfo& info) : Handle<GeneratorHandle>(info) {}

const at::Generator& GeneratorHandle::generator(const char* argName) const {
  checkLive(std::string("generator '") + argName + "'");
  return gen_;
}

Napi::Value GeneratorHandle::ManualSeed(const Napi::CallbackInfo& info) {
  return guard(info, "Generator.manualSeed", [&]() -> Napi::Value {
    at::Generator g = generator("self");
    int64_t seed = argInt(info, 0, "seed");
    if (seed < 0) throw ArgRangeError("argument 'seed' must be >= 0, got " + std::to_string(seed));
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_current_seed(static_cast<uint64_t>(seed));
    return info.Env().Undefined();
  });
}

Napi::Value GeneratorHandle::InitialSeed(const Napi::CallbackInfo& info) {
  return guard(info, "Generator.initialSeed", [&]() -> Napi::Value {
    at::Generator g = generator("self");
    std::lock_guard<std::mutex> lock(g.mutex());
    return Napi::Number::New(info.Env(), static_cast<double>(g.current_seed()));
  });
}

// getState() -> uint8 CPU tensor (PyTorch's get_state layout, so it round-trips through torch.save)
Napi::Value GeneratorHandle::GetState(const Napi::CallbackInfo& info) {
  return guard(info, "Generator.getState", [&]() -> Napi::Value {
    at::Generator g = generator("self");
    std::lock_guard<std::mutex> lock(g.mutex());
    return TensorHandle::Wrap(info.Env(), g.get_state());
  });
}

Napi::Value GeneratorHandle::SetState(const Napi::CallbackInfo& info) {
  return guard(info, "Generator.setState", [&]() -> Napi::Value {
    at::Generator g = generator("self");
    at::Tensor s = argTensor(info, 0, "state");
    if (s.scalar_type() != at::kByte || !s.device().is_cpu()) throw ArgTypeError("the state must be a uint8 CPU tensor from getState()");
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_state(s.contiguous());
    return info.Env().Undefined();
  });
}

Napi::Value GeneratorHandle::Device(const Napi::CallbackInfo& info) {
  return guard(info, "Generator.device", [&]() -> Napi::Value { return Napi::String::New(info.Env(), deviceName(generator("self").device())); });
}

compat::optional<at::Generator> optGenerator(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (isNullish(v)) return compat::nullopt;
  if (!GeneratorHandle::isHandle(v))
    throw ArgTypeError("'" + name + "' must be a Generator");
  return Napi::ObjectWrap<GeneratorHandle>::Unwrap(v.As<Napi::Object>())->generator(name.c_str());
}

// generatorCreate(device): a new generator with PyTorch's default seed (torch.Generator()).
Napi::Value createGenerator(const Napi::CallbackInfo& info) {
  return guard(info, "Generator", [&]() -> Napi::Value {
    at::Device device = argOptDevice(info, 0, "device").value_or(at::Device(at::kCPU));
    at::Generator g;
    if (device.is_cpu()) {
      g = at::make_generator<at::CPUGeneratorImpl>();
    } else {
#ifdef ICTORCH_WITH_CUDA
      if (!at::hasCUDA()) throw ArgTypeError("device " + device.str() + " requested but LibTorch sees no CUDA device");
      g = at::cuda::detail::createCUDAGenerator(device.has_index() ? device.index() : 0);
#else
      throw ArgTypeError("device " + device.str() + " requested but this build of ictorch has no CUDA");
#endif
    }
    Napi::Object obj = state(info.Env()).generatorCtor.New({});
    GeneratorHandle* h = Napi::ObjectWrap<GeneratorHandle>::Unwrap(obj);
    h->gen_ = std::move(g);
    h->disposed_ = false;
    return obj;
  });
}

namespace {

// randomWith(kind, generator, shape, dtype|null, device|null, requiresGrad, low, high): rand, randn or randint
// drawing from `generator`.
Napi::Value RandomWith(const Napi::CallbackInfo& info) {
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "random";
  return guard(info, kind.c_str(), [&]() -> Napi::Value {
    auto gen = optGenerator(info.Env(), info[1], "generator");
    if (!gen) throw ArgTypeError("'generator' must be a Generator");
    auto sizes = argIntList(info, 2, "shape");
    for (auto s : sizes)
      if (s < 0) throw ArgRangeError("argument 'shape' has a negative size " + std::to_string(s));
    auto device = argOptDevice(info, 4, "device").value_or(at::Device(at::kCPU));
    at::Tensor t;
    if (kind == "randint") {
      auto opts = at::TensorOptions().dtype(argOptDType(info, 3, "dtype").value_or(at::kLong)).device(device);
      t = at::randint(argInt(info, 6, "low"), argInt(info, 7, "high"), sizes, gen, opts);
    } else {
      auto opts = at::TensorOptions().dtype(argOptDType(info, 3, "dtype").value_or(at::kFloat)).device(device);
      if (kind == "rand") t = at::rand(sizes, gen, opts);
      else if (kind == "randn") t = at::randn(sizes, gen, opts);
      else throw ArgTypeError("unknown random op \"" + kind + "\"");
      if (argBool(info, 5, "requiresGrad", false)) t.set_requires_grad(true);
    }
    return TensorHandle::Wrap(info.Env(), t);
  });
}

// A floating-point tensor of parameters (rates, concentrations), checked here before ATen sees it: finite and > 0
// (or >= 0 with `zeroOk`), so a bad value is the same clear error on every device and names the parameter.
const at::Tensor& positiveParams(const Napi::CallbackInfo& info, size_t i, const char* name, const char* what, bool zeroOk) {
  const at::Tensor& t = argTensor(info, i, name);
  if (!at::isFloatingType(t.scalar_type())) throw ArgTypeError(std::string(name) + " must be a floating-point tensor of " + what + ", got " + dtypeName(t.scalar_type()));
  if (t.numel() == 0) return t;
  const auto [lo, hi] = floatBounds(t);
  if (!(zeroOk ? lo >= 0 : lo > 0) || !std::isfinite(hi))
    throw ArgRangeError(std::string(name) + " must hold finite " + what + (zeroOk ? " >= 0" : " > 0") + ", found " + c10::str(std::isnan(lo) || std::isnan(hi) ? NAN : !std::isfinite(hi) ? hi : lo));
  return t;
}

// sample(kind, generator|null, ...): the sampling ops, from `generator` or the default one.
//   multinomial: (self, numSamples, replacement)   bernoulli: (self)   bernoulliP: (self, p)
//   randperm: (n, dtype|null, device|null)
//   poisson: (rates)   binomial: (count, prob)   standardGamma: (concentration)   sampleDirichlet: (concentration, last dim the categories)
//   exponential_: (self, lambd), uniform_: (self, from, to), normal_: (self, mean, std), cauchy_: (self, median,
//   sigma): in place on a floating-point tensor, returning a new handle to self
Napi::Value Sample(const Napi::CallbackInfo& info) {
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "sample";
  const char* op = kind == "bernoulliP" ? "bernoulli" : kind.c_str();
  return guard(info, op, [&]() -> Napi::Value {
    auto gen = optGenerator(info.Env(), info[1], "generator");
    at::Tensor t;
    if (kind == "randperm") {
      const int64_t n = argInt(info, 2, "n");
      if (n < 0) throw ArgRangeError("n must be >= 0, got " + std::to_string(n));
      auto opts = at::TensorOptions().dtype(argOptDType(info, 3, "dtype").value_or(at::kLong)).device(argOptDevice(info, 4, "device").value_or(at::Device(at::kCPU)));
      t = at::randperm(n, gen, opts);
    } else if (kind == "multinomial") {
      const at::Tensor& p = argTensor(info, 2, "self");
      const int64_t k = argInt(info, 3, "numSamples");
      const bool replacement = argBool(info, 4, "replacement", false);
      if (p.dim() < 1 || p.dim() > 2) throw ArgRangeError("self must be a 1-d or 2-d tensor of weights, got shape " + c10::str(p.sizes()));
      const int64_t categories = p.size(-1);
      if (k < 1) throw ArgRangeError("numSamples must be >= 1, got " + std::to_string(k));
      if (!replacement && k > categories)
        throw ArgRangeError("numSamples (" + std::to_string(k) + ") cannot exceed the " + std::to_string(categories) + " categories without replacement");
      // Checked here on every device: CUDA's kernel meets a NaN or a negative weight with a device-side assert.
      if (!at::isFloatingType(p.scalar_type())) throw ArgTypeError(std::string("self must be a floating-point tensor of weights, got ") + dtypeName(p.scalar_type()));
      if (p.numel() > 0) {
        // one host read: the weights' bounds (NaN propagates), the smallest row sum, the fewest nonzero weights in a row
        at::NoGradGuard ng;
        const at::Tensor s = at::stack({p.min().to(at::kDouble), p.max().to(at::kDouble), p.sum(-1).min().to(at::kDouble),
                                        p.gt(0).sum(-1).min().to(at::kDouble)}).to(at::kCPU);
        const double* v = s.data_ptr<double>();
        if (!(v[0] >= 0 && std::isfinite(v[1]))) throw ArgRangeError("the weights must be finite and >= 0");
        if (!(v[2] > 0)) throw ArgRangeError("every row of weights must have a positive sum");
        if (!replacement && v[3] < static_cast<double>(k))
          throw ArgRangeError("numSamples (" + std::to_string(k) + ") exceeds a row's nonzero weights, which sampling without replacement needs");
      }
      t = at::multinomial(p, k, replacement, gen);
    } else if (kind == "bernoulli") {
      const at::Tensor& p = argTensor(info, 2, "self");
      if (!at::isFloatingType(p.scalar_type())) throw ArgTypeError(std::string("self must be a floating-point tensor of probabilities, got ") + dtypeName(p.scalar_type()));
      checkUnitInterval(p, "self");
      t = at::bernoulli(p, gen);
    } else if (kind == "bernoulliP") {
      const double p = argDouble(info, 3, "p");
      if (!(p >= 0 && p <= 1)) throw ArgRangeError("p must be in [0, 1], got " + std::to_string(p));
      t = at::bernoulli(argTensor(info, 2, "self"), p, gen);
    } else if (kind == "poisson") {
      t = at::poisson(positiveParams(info, 2, "self", "rates", true), gen);
    } else if (kind == "binomial") {
      // counts finite whole numbers >= 0 and probabilities in [0, 1], of one floating dtype and shape: checked here, as
      // CUDA's kernel meets a bad one with a device-side assert
      const at::Tensor& count = positiveParams(info, 2, "count", "counts", true);
      const at::Tensor& prob = argTensor(info, 3, "prob");
      if (prob.scalar_type() != count.scalar_type() || !prob.sizes().equals(count.sizes()) || prob.device() != count.device())
        throw ArgTypeError("count and prob must have one dtype, shape and device, got " + std::string(dtypeName(count.scalar_type())) + " " + c10::str(count.sizes()) +
                           " and " + dtypeName(prob.scalar_type()) + " " + c10::str(prob.sizes()));
      if (count.numel() > 0 && !at::equal(count, count.floor())) throw ArgRangeError("count must hold whole numbers");
      checkUnitInterval(prob, "prob");
      t = at::binomial(count, prob, gen);
    } else if (kind == "standardGamma") {
      t = at::_standard_gamma(positiveParams(info, 2, "self", "concentrations", false), gen);
    } else if (kind == "sampleDirichlet") {
      const at::Tensor& a = positiveParams(info, 2, "self", "concentrations", false);
      if (a.dim() < 1) throw ArgRangeError("self must have a dimension of categories (its last), got a 0-d tensor");
      t = at::_sample_dirichlet(a, gen);
    } else if (kind == "exponential_" || kind == "uniform_" || kind == "normal_" || kind == "cauchy_") {
      const char* names[] = {kind == "uniform_" ? "from" : kind == "normal_" ? "mean" : kind == "cauchy_" ? "median" : "lambd",
                             kind == "uniform_" ? "to" : kind == "normal_" ? "std" : "sigma"};
      const double a = argDouble(info, 3, names[0]);
      const double b = kind == "exponential_" ? 0 : argDouble(info, 4, names[1]);
      const auto finite = [](double v, const char* name) {
        if (!std::isfinite(v)) throw ArgRangeError(std::string(name) + " must be a finite number, got " + std::to_string(v));
      };
      finite(a, names[0]);
      if (kind == "exponential_" && !(a > 0)) throw ArgRangeError("lambd must be a finite number > 0, got " + std::to_string(a));
      if (kind != "exponential_") finite(b, names[1]);
      if (kind == "uniform_" && !(a <= b)) throw ArgRangeError("from must be <= to, got from " + std::to_string(a) + " and to " + std::to_string(b));
      if (kind == "normal_" && !(b >= 0)) throw ArgRangeError("std must be >= 0, got " + std::to_string(b));
      if (kind == "cauchy_" && !(b > 0)) throw ArgRangeError("sigma must be > 0, got " + std::to_string(b));
      t = argMutableTensor(info, 2, "self");
      if (!at::isFloatingType(t.scalar_type())) throw ArgTypeError(std::string("self must be a floating-point tensor, got ") + dtypeName(t.scalar_type()));
      if (kind == "exponential_") t.exponential_(a, gen);
      else if (kind == "uniform_") t.uniform_(a, b, gen);
      else if (kind == "normal_") t.normal_(a, b, gen);
      else t.cauchy_(a, b, gen);
    } else {
      throw ArgTypeError("unknown sampling op \"" + kind + "\"");
    }
    return TensorHandle::Wrap(info.Env(), t);
  });
}

// dirichletGrad(x, concentration, total): d x / d concentration of Dirichlet samples x (PyTorch's _dirichlet_grad),
// the backward of a reparameterised sampleDirichlet, as torch.distributions' _Dirichlet function uses it.
Napi::Value DirichletGrad(const Napi::CallbackInfo& info) {
  return guard(info, "dirichletGrad", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "x");
    const at::Tensor& alpha = argTensor(info, 1, "concentration");
    const at::Tensor& total = argTensor(info, 2, "total");
    if (!x.sizes().equals(alpha.sizes()) || !x.sizes().equals(total.sizes()))
      throw ArgRangeError("x, concentration and total must have one shape, got " + c10::str(x.sizes()) + ", " + c10::str(alpha.sizes()) + " and " + c10::str(total.sizes()));
    return TensorHandle::Wrap(info.Env(), at::_dirichlet_grad(x, alpha, total));
  });
}

}  // namespace

void InitGenerator(Napi::Env env, Napi::Object exports) {
  GeneratorHandle::Init(env, exports);
  exports.Set("generatorCreate", Napi::Function::New<createGenerator>(env, "generatorCreate"));
  exports.Set("randomWith", Napi::Function::New<RandomWith>(env, "randomWith"));
  exports.Set("sample", Napi::Function::New<Sample>(env, "sample"));
  exports.Set("dirichletGrad", Napi::Function::New<DirichletGrad>(env, "dirichletGrad"));
}

}  // namespace ictorch
