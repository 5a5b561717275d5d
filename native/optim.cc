// optim.cc: the SGD update with multi-tensor kernels, and its JS handle (create, step, zeroGrad, lr, state).
#include "optim.h"
#include "compat.h"
#include "tensor.h"

namespace ictorch {

bool SGD::buffersReady() const {
  for (const auto& g : groups)
    if (g.momentum != 0)
      for (const auto& b : g.momentumBuffers)
        if (!b.defined()) return false;
  return true;
}

void SGD::zeroGrad(bool setToNone) {
  for (auto& g : groups)
    for (auto& p : g.params) {
      if (!p.grad().defined()) continue;
      if (setToNone) {
        p.mutable_grad() = at::Tensor();
      } else {
        p.mutable_grad().detach_();
        p.mutable_grad().zero_();
      }
    }
}

// PyTorch's SGD: d = g + wd·p; buf = μ·buf + (1 - dampening)·d (buf = d at first); d = d + μ·buf (Nesterov)
// or buf; p -= lr·d.
void SGD::step(const at::Tensor& lrScale) {
  at::NoGradGuard noGrad;
  for (auto& g : groups) {
    std::vector<at::Tensor> params, grads;
    std::vector<size_t> index;
    for (size_t k = 0; k < g.params.size(); ++k) {
      if (!g.params[k].grad().defined()) continue;
      params.push_back(g.params[k]);
      grads.push_back(g.params[k].grad());
      index.push_back(k);
    }
    if (params.empty()) continue;
    std::vector<at::Tensor> d;
    if (foreach) {
      d = g.weightDecay != 0 ? at::_foreach_add(grads, params, g.weightDecay) : grads;
      if (g.momentum != 0) {
        // Buffers that exist get buf = μ·buf + (1 - dampening)·d; a parameter's first step sets buf = d.
        std::vector<at::Tensor> bufs, oldBufs, oldD;
        for (size_t j = 0; j < index.size(); ++j) {
          auto& b = g.momentumBuffers[index[j]];
          if (!b.defined()) {
            b = d[j].detach().clone();
          } else {
            oldBufs.push_back(b);
            oldD.push_back(d[j]);
          }
          bufs.push_back(b);
        }
        if (!oldBufs.empty()) {
          at::_foreach_mul_(oldBufs, g.momentum);
          at::_foreach_add_(oldBufs, oldD, 1.0 - g.dampening);
        }
        d = g.nesterov ? at::_foreach_add(d, bufs, g.momentum) : bufs;
      }
      if (lrScale.defined()) {
        std::vector<at::Tensor> scaled = at::_foreach_mul(d, g.lr);
        compat::foreachMulTensor_(scaled, lrScale);
        at::_foreach_sub_(params, scaled);
      } else {
        at::_foreach_add_(params, d, -g.lr);
      }
    } else {
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor dj = g.weightDecay != 0 ? grads[j].add(params[j], g.weightDecay) : grads[j];
        if (g.momentum != 0) {
          auto& b = g.momentumBuffers[index[j]];
          if (!b.defined()) b = dj.detach().clone();
          else b.mul_(g.momentum).add_(dj, 1.0 - g.dampening);
          dj = g.nesterov ? dj.add(b, g.momentum) : b;
        }
        if (lrScale.defined()) params[j].sub_(dj.mul(g.lr).mul_(lrScale));
        else params[j].add_(dj, -g.lr);
      }
    }
  }
}

// ---------------------------------------------------------------- JS handle

namespace {
Napi::FunctionReference& ctorRef(Napi::Env env) { return state(env).optimizerCtor; }
}  // namespace

void OptimizerHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "OptimizerHandle", baseMethods());
  ctorRef(env) = Napi::Persistent(ctor);
  exports.Set("OptimizerHandle", ctor);
}

OptimizerHandle::OptimizerHandle(const Napi::CallbackInfo& info) : Handle<OptimizerHandle>(info) {}

OptimizerHandle* argOptimizerHandle(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(ctorRef(info.Env()).Value()))
    throw ArgTypeError(std::string("argument '") + name + "' must be an optimizer");
  return Napi::ObjectWrap<OptimizerHandle>::Unwrap(v.As<Napi::Object>());
}

std::shared_ptr<SGD> argOptimizer(const Napi::CallbackInfo& info, size_t i, const char* name) {
  OptimizerHandle* h = argOptimizerHandle(info, i, name);
  h->checkIdle("the optimizer", true);
  return h->sgd;
}

namespace {

double field(const Napi::Object& o, const char* k, double dflt) {
  Napi::Value v = o.Get(k);
  if (isNullish(v)) return dflt;
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) throw ArgTypeError(std::string("option '") + k + "' must be a finite number");
  return v.As<Napi::Number>().DoubleValue();
}

// sgdCreate(groups: {params, lr, momentum, dampening, weightDecay, nesterov}[], foreach)
Napi::Value Create(const Napi::CallbackInfo& info) {
  return guard(info, "SGD", [&]() -> Napi::Value {
    if (!info[0].IsArray()) throw ArgTypeError("argument 'groups' must be an array of parameter groups");
    auto sgd = std::make_shared<SGD>();
    sgd->foreach = argBool(info, 1, "foreach", true);
    Napi::Array arr = info[0].As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length(); ++k) {
      if (!arr.Get(k).IsObject()) throw ArgTypeError("group " + std::to_string(k) + " must be an object");
      Napi::Object o = arr.Get(k).As<Napi::Object>();
      SGDGroup g;
      Napi::Value ps = o.Get("params");
      if (!ps.IsArray()) throw ArgTypeError("group " + std::to_string(k) + ": 'params' must be an array of Tensors");
      Napi::Array pa = ps.As<Napi::Array>();
      for (uint32_t j = 0; j < pa.Length(); ++j) {
        if (!isTensor(info.Env(), pa.Get(j))) throw ArgTypeError("group " + std::to_string(k) + ": params[" + std::to_string(j) + "] must be a Tensor");
        const at::Tensor& p = Napi::ObjectWrap<TensorHandle>::Unwrap(pa.Get(j).As<Napi::Object>())->tensor("params");
        if (!p.requires_grad()) throw ArgTypeError("group " + std::to_string(k) + ": params[" + std::to_string(j) + "] does not require grad");
        g.params.push_back(p);
      }
      g.momentumBuffers.resize(g.params.size());
      g.lr = field(o, "lr", 0.1);
      g.momentum = field(o, "momentum", 0);
      g.dampening = field(o, "dampening", 0);
      g.weightDecay = field(o, "weightDecay", 0);
      Napi::Value nv = o.Get("nesterov");
      g.nesterov = nv.IsBoolean() && nv.As<Napi::Boolean>().Value();
      if (g.lr < 0 || g.momentum < 0 || g.weightDecay < 0) throw ArgRangeError("lr, momentum and weightDecay must be >= 0");
      if (g.nesterov && (g.momentum <= 0 || g.dampening != 0)) throw ArgRangeError("Nesterov momentum needs momentum > 0 and dampening 0");
      sgd->groups.push_back(std::move(g));
    }
    Napi::Object obj = ctorRef(info.Env()).New({});
    Napi::ObjectWrap<OptimizerHandle>::Unwrap(obj)->own(sgd);
    return obj;
  });
}

Napi::Value Step(const Napi::CallbackInfo& info) {
  return guard(info, "SGD.step", [&]() -> Napi::Value {
    argOptimizer(info, 0, "optimizer")->step();
    return info.Env().Undefined();
  });
}

Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
  return guard(info, "SGD.zeroGrad", [&]() -> Napi::Value {
    argOptimizer(info, 0, "optimizer")->zeroGrad(argBool(info, 1, "setToNone", true));
    return info.Env().Undefined();
  });
}

// sgdSetLr(optimizer, group, lr)
Napi::Value SetLr(const Napi::CallbackInfo& info) {
  return guard(info, "SGD.setLr", [&]() -> Napi::Value {
    auto s = argOptimizer(info, 0, "optimizer");
    int64_t g = argInt(info, 1, "group");
    if (g < 0 || g >= static_cast<int64_t>(s->groups.size())) throw ArgRangeError("group " + std::to_string(g) + " does not exist");
    double lr = argDouble(info, 2, "lr");
    if (!(lr >= 0) || !std::isfinite(lr)) throw ArgRangeError("lr must be a finite number >= 0");
    s->groups[g].lr = lr;
    return info.Env().Undefined();
  });
}

// sgdBuffers(optimizer) -> (Tensor|null)[][]: momentum buffers per group, per parameter
Napi::Value Buffers(const Napi::CallbackInfo& info) {
  return guard(info, "SGD.stateDict", [&]() -> Napi::Value {
    auto s = argOptimizer(info, 0, "optimizer");
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, s->groups.size());
    for (size_t g = 0; g < s->groups.size(); ++g) {
      const auto& bufs = s->groups[g].momentumBuffers;
      Napi::Array a = Napi::Array::New(env, bufs.size());
      for (size_t k = 0; k < bufs.size(); ++k) a.Set(static_cast<uint32_t>(k), bufs[k].defined() ? Napi::Value(TensorHandle::Wrap(env, bufs[k])) : env.Null());
      out.Set(static_cast<uint32_t>(g), a);
    }
    return out;
  });
}

// sgdLoadBuffers(optimizer, (Tensor|null)[][]): copies values into the buffers (allocating them as needed)
Napi::Value LoadBuffers(const Napi::CallbackInfo& info) {
  return guard(info, "SGD.loadStateDict", [&]() -> Napi::Value {
    auto s = argOptimizer(info, 0, "optimizer");
    if (!info[1].IsArray() || info[1].As<Napi::Array>().Length() != s->groups.size())
      throw ArgRangeError("expected momentum buffers for " + std::to_string(s->groups.size()) + " groups");
    Napi::Array groups = info[1].As<Napi::Array>();
    at::NoGradGuard noGrad;
    for (size_t g = 0; g < s->groups.size(); ++g) {
      auto& grp = s->groups[g];
      Napi::Value gv = groups.Get(static_cast<uint32_t>(g));
      if (!gv.IsArray() || gv.As<Napi::Array>().Length() != grp.params.size())
        throw ArgRangeError("group " + std::to_string(g) + " has " + std::to_string(grp.params.size()) + " parameters; the state has a different count");
      Napi::Array a = gv.As<Napi::Array>();
      for (size_t k = 0; k < grp.params.size(); ++k) {
        Napi::Value v = a.Get(static_cast<uint32_t>(k));
        if (isNullish(v)) { grp.momentumBuffers[k] = at::Tensor(); continue; }
        if (!isTensor(info.Env(), v)) throw ArgTypeError("buffer " + std::to_string(k) + " of group " + std::to_string(g) + " must be a Tensor or null");
        const at::Tensor& src = Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>())->tensor("buffer");
        if (!src.sizes().equals(grp.params[k].sizes()))
          throw ArgRangeError("buffer " + std::to_string(k) + " of group " + std::to_string(g) + " has shape [" + c10::Join(", ", src.sizes()) +
                              "] but its parameter has [" + c10::Join(", ", grp.params[k].sizes()) + "]");
        if (!grp.momentumBuffers[k].defined()) grp.momentumBuffers[k] = at::empty_like(grp.params[k]);
        grp.momentumBuffers[k].copy_(src);
      }
    }
    return info.Env().Undefined();
  });
}

// sgdDispose(optimizer): the handle's dispose() as a function (a wrong argument is a TypeError; refused
// while a training step in flight uses the optimiser; idempotent).
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  return guard(info, "SGD.dispose", [&]() -> Napi::Value {
    argOptimizerHandle(info, 0, "optimizer");
    Napi::Object handle = info[0].As<Napi::Object>();
    return handle.Get("dispose").As<Napi::Function>().Call(handle, {});
  });
}

}  // namespace

void InitOptim(Napi::Env env, Napi::Object exports) {
  OptimizerHandle::Init(env, exports);
  exports.Set("sgdCreate", Napi::Function::New<Create>(env, "sgdCreate"));
  exports.Set("sgdStep", Napi::Function::New<Step>(env, "sgdStep"));
  exports.Set("sgdZeroGrad", Napi::Function::New<ZeroGrad>(env, "sgdZeroGrad"));
  exports.Set("sgdSetLr", Napi::Function::New<SetLr>(env, "sgdSetLr"));
  exports.Set("sgdBuffers", Napi::Function::New<Buffers>(env, "sgdBuffers"));
  exports.Set("sgdLoadBuffers", Napi::Function::New<LoadBuffers>(env, "sgdLoadBuffers"));
  exports.Set("sgdDispose", Napi::Function::New<Dispose>(env, "sgdDispose"));
}

}  // namespace ictorch
