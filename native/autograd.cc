// autograd.cc: requiresGrad, backward, .grad, grad mode and autocast (thread-local in LibTorch: these set the JS
// thread's), autograd.grad(outputs, inputs), and tensor hooks registered from JS (hooks.h says how they reach
// the JS thread).
#include <ATen/ThreadLocalState.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>
#include <optional>
#include <unordered_set>
#include "compat.h"
#include "hooks.h"
#include "tensor.h"
#include "worker.h"

namespace ictorch {

// One hook invocation waiting for the JS thread: the gradient in, the hook's result (undefined: unchanged) or
// its error out.
struct HookCall {
  uint64_t id = 0;
  at::Tensor grad, result;
  // The thread-local state (grad mode: the backward's create_graph; autocast, ...) of the thread that fired the
  // hook, for the JS thread to run it under, as LibTorch runs hooks on its threads.
  std::optional<at::ThreadLocalState> tls;
  bool failed = false;
  std::string error;

  void finish() {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_one();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return done; });
  }
  void fail(std::string why) {
    failed = true;
    error = std::move(why);
    done = true;
  }

 private:
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
};

namespace {

std::string shapeOf(const at::Tensor& t) { return "[" + c10::Join(", ", t.sizes()) + "]"; }

// JS thread: calls the JS function of hook c.id on c.grad and checks what it returns (a Tensor of the
// gradient's shape, dtype and device, or nothing). A JS exception is kept in *jsError (the first one), for the
// backward that served the call to rethrow as it was thrown.
void invokeHook(Napi::Env env, HookRegistry& reg, HookCall& c, std::optional<Napi::Error>* jsError) {
  Napi::HandleScope scope(env);
  auto fn = reg.fns.find(c.id);
  {
    std::lock_guard<std::mutex> lock(reg.mu);
    if (fn == reg.fns.end() || !reg.live.count(c.id)) return;  // removed meanwhile: the gradient passes unchanged
  }
  try {
    std::optional<at::ThreadLocalStateGuard> asFired;
    if (c.tls) asFired.emplace(*c.tls);
    Napi::Value v = fn->second.Call({TensorHandle::Wrap(env, c.grad)});
    if (isNullish(v)) return;
    if (!TensorHandle::isHandle(v)) throw ArgTypeError("a tensor hook must return a Tensor or nothing");
    const at::Tensor& r = Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>())->tensor("the hook's result");
    if (!r.sizes().equals(c.grad.sizes()))
      throw ArgRangeError("a tensor hook returned a gradient of shape " + shapeOf(r) + " for a gradient of shape " + shapeOf(c.grad) +
                          "; it must keep the gradient's shape");
    if (r.scalar_type() != c.grad.scalar_type() || r.device() != c.grad.device())
      throw ArgTypeError(std::string("a tensor hook returned a ") + dtypeName(r.scalar_type()) + " gradient on " + deviceName(r.device()) +
                         " for a " + dtypeName(c.grad.scalar_type()) + " gradient on " + deviceName(c.grad.device()) +
                         "; it must keep the gradient's dtype and device");
    c.result = r;
  } catch (const Napi::Error& e) {
    c.failed = true;
    c.error = "a tensor hook (registerHook) threw: " + e.Message();
    if (jsError && !*jsError) jsError->emplace(e);
  } catch (...) {
    const CapturedError ce = classifyCurrentException();
    c.failed = true;
    c.error = "registerHook: " + ce.message;
    if (jsError && !*jsError) jsError->emplace(makeError(env, "registerHook", ce));
  }
}

// Thread-safe function target: a hook fired on another thread while the JS thread was free. A null env means
// the environment is shutting down and drains its queue.
void callHookOnJsThread(napi_env env, napi_value, void* context, void* data) {
  auto* c = static_cast<HookCall*>(data);
  if (!env) {
    c->failed = true;
    c->error = "a tensor hook could not run: its JS environment is shutting down";
  } else {
    invokeHook(Napi::Env(env), *static_cast<HookRegistry*>(context), *c, nullptr);
  }
  c->finish();
}

void hookFunctionFinalized(napi_env, void* data, void*) {
  auto* reg = static_cast<std::shared_ptr<HookRegistry>*>(data);
  {
    std::lock_guard<std::mutex> lock((*reg)->mu);
    (*reg)->closing = true;
    (*reg)->tsfn = nullptr;
  }
  delete reg;
}

// The hook LibTorch runs, on whichever thread computes the gradient: hands the call to the JS thread and waits.
at::Tensor runJsHook(const std::weak_ptr<HookRegistry>& weak, uint64_t id, const at::Tensor& grad) {
  std::shared_ptr<HookRegistry> reg = weak.lock();
  if (!reg) throw std::runtime_error("a tensor hook registered from JS fired after its JS environment shut down");
  HookCall c;
  c.id = id;
  c.grad = grad;
  if (std::this_thread::get_id() == reg->jsThread) {
    invokeHook(Napi::Env(reg->env), *reg, c, reg->inlineError);
  } else {
    c.tls.emplace();
    {
      std::lock_guard<std::mutex> lock(reg->mu);
      if (!reg->live.count(id)) return at::Tensor();
      if (reg->pump) {
        std::lock_guard<std::mutex> l(reg->pump->mu);
        reg->pump->calls.push_back(&c);
        reg->pump->cv.notify_one();
      } else if (!reg->tsfn || reg->closing) {
        c.fail("a tensor hook could not run: its JS environment is shutting down");
      } else if (napi_call_threadsafe_function(reg->tsfn, &c, napi_tsfn_nonblocking) != napi_ok) {
        c.fail("a tensor hook could not reach the JS thread (napi_call_threadsafe_function failed)");
      }
    }
    c.wait();
  }
  if (c.failed) throw std::runtime_error(c.error);
  return c.result;
}

// Owned by the hook LibTorch keeps: when LibTorch drops the hook (remove_hook, or the tensor's end) the JS
// function is released.
struct HookToken {
  HookToken(std::weak_ptr<HookRegistry> r, uint64_t i) : reg(std::move(r)), id(i) {}
  HookToken(const HookToken&) = delete;
  HookToken& operator=(const HookToken&) = delete;
  std::weak_ptr<HookRegistry> reg;
  uint64_t id;
  ~HookToken() {
    if (auto r = reg.lock()) r->forget(id);
  }
};

// The threads that run backwards served by a pump, one per nesting depth (a backward called from a hook runs
// on the next one). Reused, so a backward does not start a thread with its own OpenMP team and allocator
// caches; never destroyed, as trainingThread().
SerialExecutor& backwardThread(int depth) {
  static std::mutex mu;
  static std::vector<SerialExecutor*>* threads = new std::vector<SerialExecutor*>();
  std::lock_guard<std::mutex> lock(mu);
  while (static_cast<int>(threads->size()) <= depth) threads->push_back(new SerialExecutor());
  return *(*threads)[depth];
}

// Whether the graph below `roots` has a node on a CUDA device (whose hooks LibTorch would call on its device
// threads).
bool graphTouchesCuda(const std::vector<at::Tensor>& roots) {
  std::vector<torch::autograd::Node*> todo;
  std::unordered_set<torch::autograd::Node*> seen;
  for (const auto& t : roots) {
    if (!t.defined()) continue;
    if (t.is_cuda()) return true;
    if (torch::autograd::Node* fn = t.grad_fn().get()) todo.push_back(fn);
  }
  while (!todo.empty()) {
    torch::autograd::Node* n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second) continue;
    for (uint32_t i = 0; i < n->num_inputs(); ++i)
      if (n->input_metadata(i).device().is_cuda()) return true;
    for (const auto& e : n->next_edges())
      if (e.function) todo.push_back(e.function.get());
  }
  return false;
}

// Runs a backward started from JS over the graph below `roots`. With no hook registered, or a graph of CPU nodes
// only (LibTorch then runs every node, and calls every hook, on this thread), it runs here; a hook's JS error
// ends it with that error. A graph that reaches a CUDA node runs on a backward thread (with this thread's grad
// mode, autocast and dispatch state), while this thread serves the hooks until it ends.
template <class F>
void runServingHooks(Napi::Env env, const std::vector<at::Tensor>& roots, F&& body) {
  HookRegistry& reg = *state(env).hooks;
  reg.drain();
  if (!reg.anyLive()) return body();
  if (!reg.alwaysThreaded && !graphTouchesCuda(roots)) {
    std::optional<Napi::Error> jsError;
    std::optional<Napi::Error>* outer = reg.inlineError;
    reg.inlineError = &jsError;
    try {
      body();
    } catch (...) {
      reg.inlineError = outer;
      if (jsError) throw *jsError;  // the hook's own JS error, as it was thrown
      throw;
    }
    reg.inlineError = outer;
    return;
  }
  HookPump pump;
  {
    std::lock_guard<std::mutex> lock(reg.mu);
    pump.outer = reg.pump;
    reg.pump = &pump;
  }
  std::exception_ptr error;
  std::optional<Napi::Error> jsError;
  const at::ThreadLocalState tls;
  backwardThread(reg.depth++).post([&] {
    {
      at::ThreadLocalStateGuard g(tls);
      applyIntraOpThreads();
      installWarningHandler();
      try {
        body();
      } catch (...) {
        error = std::current_exception();
      }
    }
    std::lock_guard<std::mutex> l(pump.mu);
    pump.finished = true;
    pump.cv.notify_all();
  });
  for (;;) {
    HookCall* c;
    {
      std::unique_lock<std::mutex> l(pump.mu);
      pump.cv.wait(l, [&] { return pump.finished || !pump.calls.empty(); });
      if (pump.calls.empty()) break;
      c = pump.calls.front();
      pump.calls.pop_front();
    }
    invokeHook(env, reg, *c, &jsError);
    c->finish();
  }
  reg.depth--;
  {
    std::lock_guard<std::mutex> lock(reg.mu);
    reg.pump = pump.outer;
  }
  // Calls another thread's backward queued between this backward's end and the line above.
  std::deque<HookCall*> late;
  {
    std::lock_guard<std::mutex> l(pump.mu);
    late.swap(pump.calls);
  }
  for (HookCall* c : late) {
    invokeHook(env, reg, *c, nullptr);
    c->finish();
  }
  reg.drain();
  if (!error) return;
  if (jsError) throw *jsError;  // the hook's own JS error, as it was thrown
  std::rethrow_exception(error);
}

// hooksThreadedForTests(on): every backward from JS with hooks takes the backward-thread path (the one CUDA graphs
// take), so that the CPU tests cover it. Internal.
Napi::Value HooksThreadedForTests(const Napi::CallbackInfo& info) {
  return guard(info, "hooksThreadedForTests", [&]() -> Napi::Value {
    state(info.Env()).hooks->alwaysThreaded = argBool(info, 0, "on", false);
    return info.Env().Undefined();
  });
}

// registerHook(self, fn) -> [id, position]: fn(gradHandle) returns a tensor handle or nothing.
Napi::Value RegisterHook(const Napi::CallbackInfo& info) {
  return guard(info, "registerHook", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const at::Tensor& t = argMutableTensor(info, 0, "self");
    if (!info[1].IsFunction()) throw ArgTypeError("argument 'hook' must be a function");
    if (!t.requires_grad()) throw ArgTypeError("cannot register a hook on a tensor that does not require grad");
    const std::shared_ptr<HookRegistry>& reg = state(env).hooks;
    reg->drain();
    if (!reg->env) reg->env = env;
    if (!reg->tsfn && !reg->closing) {
      napi_threadsafe_function f = nullptr;
      auto* keep = new std::shared_ptr<HookRegistry>(reg);
      napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, Napi::String::New(env, "ictorch.tensorHook"), 0, 1, keep,
                                                       hookFunctionFinalized, reg.get(), callHookOnJsThread, &f);
      if (st != napi_ok) {
        delete keep;
        throw std::runtime_error("could not create the thread-safe function that runs hooks");
      }
      napi_unref_threadsafe_function(env, f);  // it never keeps the process alive
      std::lock_guard<std::mutex> lock(reg->mu);
      reg->tsfn = f;
    }
    const uint64_t id = reg->nextId++;
    const void* key = t.unsafeGetTensorImpl();
    reg->fns.emplace(id, Napi::Persistent(info[1].As<Napi::Function>()));
    {
      std::lock_guard<std::mutex> lock(reg->mu);
      reg->live.emplace(id, key);
      reg->hooked.insert(key);
    }
    auto token = std::make_shared<HookToken>(reg, id);
    unsigned pos;
    try {
      pos = t.register_hook([token](const at::Tensor& g) { return runJsHook(token->reg, token->id, g); });
    } catch (...) {
      token.reset();  // forgets the hook
      reg->drain();
      throw;
    }
    Napi::Array out = Napi::Array::New(env, 2);
    out.Set(0u, Napi::Number::New(env, static_cast<double>(id)));
    out.Set(1u, Napi::Number::New(env, pos));
    return out;
  });
}

// removeHook(id, self|null, position): the hook stops running at once; LibTorch drops it from the tensor when
// the tensor is still reachable and no call in flight uses it (else with the tensor).
Napi::Value RemoveHook(const Napi::CallbackInfo& info) {
  return guard(info, "removeHook", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    HookRegistry& reg = *state(env).hooks;
    const uint64_t id = static_cast<uint64_t>(argInt(info, 0, "id"));
    const int64_t pos = argInt(info, 2, "position");
    const void* key = nullptr;
    {
      std::lock_guard<std::mutex> lock(reg.mu);
      auto it = reg.live.find(id);
      if (it != reg.live.end()) key = it->second;
    }
    reg.forget(id);
    if (key && !isNullish(info[1])) {
      TensorHandle* h = argTensorHandle(info, 1, "self");
      if (!h->disposed()) {
        const at::Tensor& t = h->meta("self");
        if (t.unsafeGetTensorImpl() == key && !state(env).inFlight->find(storageKey(t))) t.remove_hook(static_cast<unsigned>(pos));
      }
    }
    reg.drain();
    return env.Undefined();
  });
}

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
    runServingHooks(info.Env(), {t}, [&] {
      torch::autograd::backward({t}, g.defined() ? torch::autograd::variable_list{g} : torch::autograd::variable_list{}, retain, create);
    });
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
    std::vector<at::Tensor> grads;
    runServingHooks(info.Env(), outputs, [&] { grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused); });
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
  state(env).hooks->env = env;
  state(env).hooks->jsThread = std::this_thread::get_id();
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
  exports.Set("registerHook", Napi::Function::New<RegisterHook>(env, "registerHook"));
  exports.Set("removeHook", Napi::Function::New<RemoveHook>(env, "removeHook"));
  exports.Set("hooksThreadedForTests", Napi::Function::New<HooksThreadedForTests>(env, "hooksThreadedForTests"));
  exports.Set("setGradEnabled", Napi::Function::New<SetGradEnabled>(env, "setGradEnabled"));
  exports.Set("isGradEnabled", Napi::Function::New<IsGradEnabled>(env, "isGradEnabled"));
  exports.Set("setAutocast", Napi::Function::New<SetAutocast>(env, "setAutocast"));
  exports.Set("autocastGet", Napi::Function::New<AutocastGet>(env, "autocastGet"));
  exports.Set("autocastSet", Napi::Function::New<AutocastSet>(env, "autocastSet"));
  exports.Set("autocastNesting", Napi::Function::New<AutocastNesting>(env, "autocastNesting"));
}

}  // namespace ictorch
