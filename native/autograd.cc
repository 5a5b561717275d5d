// autograd.cc: requiresGrad, backward, .grad, grad mode and autocast (thread-local in LibTorch: these set the JS
// thread's), autograd.grad(outputs, inputs), and tensor hooks registered from JS (hooks.h says how they reach
// the JS thread).
#include <ATen/ThreadLocalState.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>
#include <optional>
#include <sstream>
#include <type_traits>
#include <unordered_set>
#include "compat.h"
#include "hooks.h"
#include "tensor.h"
#include "worker.h"

namespace ictorch {

// One call of a JS function from autograd, waiting for the JS thread: a tensor hook (`in`: the gradient; `out`:
// the replacement, or undefined for unchanged) or a custom function's backward (`in`: the gradients of its
// outputs, `saved`: what its forward saved; `out`: the gradients of its tensor inputs, undefined for none);
// or the error.
struct HookCall {
  uint64_t id = 0;
  bool function = false;
  std::vector<at::Tensor> in, saved, out;
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

// The tensors as an array of handles (null where undefined).
Napi::Array handlesOf(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); ++k) a.Set(static_cast<uint32_t>(k), ts[k].defined() ? Napi::Value(TensorHandle::Wrap(env, ts[k])) : env.Null());
  return a;
}

// A tensor hook's result: a Tensor of the gradient's shape, dtype and device, or nothing (undefined).
at::Tensor hookResult(const Napi::Value& v, const at::Tensor& grad) {
  if (isNullish(v)) return at::Tensor();
  if (!TensorHandle::isHandle(v)) throw ArgTypeError("a tensor hook must return a Tensor or nothing");
  const at::Tensor& r = Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>())->tensor("the hook's result");
  if (!r.sizes().equals(grad.sizes()))
    throw ArgRangeError("a tensor hook returned a gradient of shape " + shapeOf(r) + " for a gradient of shape " + shapeOf(grad) +
                        "; it must keep the gradient's shape");
  if (r.scalar_type() != grad.scalar_type() || r.device() != grad.device())
    throw ArgTypeError(std::string("a tensor hook returned a ") + dtypeName(r.scalar_type()) + " gradient on " + deviceName(r.device()) + " for a " +
                       dtypeName(grad.scalar_type()) + " gradient on " + deviceName(grad.device()) + "; it must keep the gradient's dtype and device");
  return r;
}

// A custom function's backward result: an array of one Tensor or null per tensor input (shapes are checked by
// LibTorch's engine against the inputs).
std::vector<at::Tensor> backwardResult(const Napi::Value& v, size_t inputs) {
  if (!v.IsArray() || v.As<Napi::Array>().Length() != inputs)
    throw ArgTypeError("a custom function's backward must give one gradient (a Tensor or null) per tensor input, " + std::to_string(inputs) + " here");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<at::Tensor> out(inputs);
  for (uint32_t k = 0; k < inputs; ++k) {
    Napi::Value g = a.Get(k);
    if (isNullish(g)) continue;
    if (!TensorHandle::isHandle(g)) throw ArgTypeError("a custom function's backward gave a gradient that is not a Tensor (input " + std::to_string(k) + ")");
    out[k] = Napi::ObjectWrap<TensorHandle>::Unwrap(g.As<Napi::Object>())->tensor("the gradient");
  }
  return out;
}

// JS thread: calls the JS function c.id (a hook, or a custom function's backward) and checks what it returns. A
// JS exception is kept in *jsError (the first one), for the backward that served the call to rethrow as it was
// thrown.
void invokeHook(Napi::Env env, HookRegistry& reg, HookCall& c, std::optional<Napi::Error>* jsError) {
  Napi::HandleScope scope(env);
  auto fn = reg.fns.find(c.id);
  {
    std::lock_guard<std::mutex> lock(reg.mu);
    if (fn == reg.fns.end() || !reg.live.count(c.id)) {  // a hook removed meanwhile: the gradient passes unchanged
      if (c.function) {
        c.failed = true;
        c.error = "a custom function's backward was released before it ran";
      }
      return;
    }
  }
  const char* what = c.function ? "a custom function's backward (autograd.Function)" : "a tensor hook (registerHook)";
  try {
    std::optional<at::ThreadLocalStateGuard> asFired;
    if (c.tls) asFired.emplace(*c.tls);
    if (c.function) {
      c.out = backwardResult(fn->second.Call({handlesOf(env, c.in), handlesOf(env, c.saved)}), c.out.size());
    } else {
      c.out = {hookResult(fn->second.Call({TensorHandle::Wrap(env, c.in[0])}), c.in[0])};
    }
  } catch (const Napi::Error& e) {
    c.failed = true;
    c.error = std::string(what) + " threw: " + e.Message();
    if (jsError && !*jsError) jsError->emplace(e);
  } catch (...) {
    const CapturedError ce = classifyCurrentException();
    const char* op = c.function ? "autograd.Function" : "registerHook";
    c.failed = true;
    c.error = std::string(op) + ": " + ce.message;
    if (jsError && !*jsError) jsError->emplace(makeError(env, op, ce));
  }
}

// How many calls from a training step in flight the JS thread is serving now (thread_local: each environment
// has its own JS thread). inStepCallback() tells the TypeScript module checks.
thread_local int stepCallbackDepth = 0;

// A call from a training step in flight (this thread-safe function only serves those) runs while that step
// waits for it on the training thread; the step's CUDA device threads may still run other nodes of its backward,
// which read saved tensors only. For the call's duration JS may use what the step holds, as a Python hook may:
// a checkpointed segment runs its forward again over the parameters, a hook reads a parameter. So the writer
// marks (only training steps take them, one at a time) are lifted, and put back when the call returns.
class StepCallbackScope {
 public:
  explicit StepCallbackScope(InFlight& f) : f_(f) {
    for (auto it = f_.uses.begin(); it != f_.uses.end();) {
      if (it->second.writers > 0) {
        lifted_.emplace_back(it->first, it->second);
        it->second.writers = 0;
        if (it->second.readers == 0) {
          it = f_.uses.erase(it);
          continue;
        }
      }
      ++it;
    }
    ++stepCallbackDepth;
  }
  ~StepCallbackScope() {
    --stepCallbackDepth;
    for (const auto& [key, use] : lifted_) {
      InFlight::Use& u = f_.uses[key];
      if (u.readers == 0 && u.writers == 0) u.op = use.op;
      u.writers += use.writers;
    }
  }
  StepCallbackScope(const StepCallbackScope&) = delete;
  StepCallbackScope& operator=(const StepCallbackScope&) = delete;

 private:
  InFlight& f_;
  std::vector<std::pair<const void*, InFlight::Use>> lifted_;
};

// Thread-safe function target: a hook fired on another thread while the JS thread was free. A null env means
// the environment is shutting down and drains its queue.
void callHookOnJsThread(napi_env env, napi_value, void* context, void* data) {
  auto* c = static_cast<HookCall*>(data);
  if (!env) {
    c->failed = true;
    c->error = "a tensor hook could not run: its JS environment is shutting down";
  } else {
    StepCallbackScope asPartOfStep(*state(Napi::Env(env)).inFlight);
    invokeHook(Napi::Env(env), *static_cast<HookRegistry*>(context), *c, nullptr);
  }
  c->finish();
}

// inStepCallback() -> whether JS is running a hook or custom backward for a training step in flight.
Napi::Value InStepCallback(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), stepCallbackDepth > 0); }

void hookFunctionFinalized(napi_env, void* data, void*) {
  auto* reg = static_cast<std::shared_ptr<HookRegistry>*>(data);
  {
    std::lock_guard<std::mutex> lock((*reg)->mu);
    (*reg)->closing = true;
    (*reg)->tsfn = nullptr;
  }
  delete reg;
}

// Runs a JS function for autograd (a tensor hook or a custom function's backward: `c`) from whichever thread
// computes the gradient: hands the call to the JS thread and waits. False when the hook was removed meanwhile.
bool runOnJsThread(const std::weak_ptr<HookRegistry>& weak, HookCall& c) {
  std::shared_ptr<HookRegistry> reg = weak.lock();
  if (!reg) throw std::runtime_error("a JS function called by autograd outlived its JS environment");
  const uint64_t id = c.id;
  if (std::this_thread::get_id() == reg->jsThread) {
    invokeHook(Napi::Env(reg->env), *reg, c, reg->inlineError);
  } else {
    c.tls.emplace();
    {
      std::lock_guard<std::mutex> lock(reg->mu);
      if (!reg->live.count(id)) return false;
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
  return true;
}

// The hook LibTorch runs for a tensor hook registered from JS.
at::Tensor runJsHook(const std::weak_ptr<HookRegistry>& weak, uint64_t id, const at::Tensor& grad) {
  HookCall c;
  c.id = id;
  c.in = {grad};
  return runOnJsThread(weak, c) && !c.out.empty() ? c.out[0] : at::Tensor();
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

// A saved tensor's version counter and its version when saved: a backward that finds it moved refuses to run, as
// PyTorch's SavedVariable does (the gradient would be computed from values the forward did not see).
struct SavedVersion {
  c10::VariableVersion counter;
  uint32_t version;
};

// The autograd node of a custom function written in JS (autograd.Function): its backward is a JS function,
// called as tensor hooks are (runOnJsThread). It holds what the forward saved until the backward pass that
// does not keep the graph frees it (release_variables), as PyTorch's saved variables; the forward's outputs are
// fresh tensors sharing the raw outputs' memory (variable_data), so a saved output does not hold the node.
class JsFunctionNode : public torch::autograd::Node {
 public:
  JsFunctionNode(std::string name, std::shared_ptr<HookToken> token, std::vector<at::Tensor> saved, std::vector<std::optional<SavedVersion>> versions,
                 std::vector<int64_t> slots, size_t inputs)
      : name_(std::move(name)), token_(std::move(token)), saved_(std::move(saved)), versions_(std::move(versions)), slots_(std::move(slots)), inputs_(inputs) {}

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (released_)
      throw std::runtime_error(name_ + ": trying to backward through the graph a second time, after its saved tensors were freed; pass retainGraph: true to the first backward");
    for (size_t k = 0; k < versions_.size(); ++k) {
      if (!versions_[k]) continue;
      const uint32_t now = versions_[k]->counter.current_version();
      if (now != versions_[k]->version) {
        std::ostringstream msg;
        msg << name_ << ": saved tensor " << k << " (" << c10::toString(saved_[k].scalar_type()) << " " << saved_[k].sizes()
            << ") was modified by an in-place operation after the forward saved it: it is at version " << now << ", expected version "
            << versions_[k]->version << " (PyTorch refuses the same; change a clone in place instead)";
        throw std::runtime_error(msg.str());
      }
    }
    HookCall c;
    c.id = token_->id;
    c.function = true;
    c.saved = saved_;
    c.out.resize(inputs_);
    // One gradient per output of the forward: zeros for an output that got none (PyTorch materialises them),
    // null for one that is not differentiable.
    c.in.resize(slots_.size());
    for (size_t k = 0; k < slots_.size(); ++k) {
      const int64_t slot = slots_[k];
      if (slot < 0) continue;
      c.in[k] = grads[slot].defined() ? grads[slot] : input_metadata(slot).zeros_like();
    }
    if (!runOnJsThread(token_->reg, c)) throw std::runtime_error(name_ + ": its backward was released before it ran");
    return torch::autograd::variable_list(c.out.begin(), c.out.end());
  }
  std::string name() const override { return name_; }
  void release_variables() override {
    released_ = !saved_.empty();
    saved_.clear();
    versions_.clear();
  }

 private:
  std::string name_;
  std::shared_ptr<HookToken> token_;
  std::vector<at::Tensor> saved_;
  std::vector<std::optional<SavedVersion>> versions_;  // per saved tensor; none for an inference tensor (no counter)
  std::vector<int64_t> slots_;  // per forward output: its input number on this node, or -1 (not differentiable)
  size_t inputs_;
  bool released_ = false;
};

// A new autograd node, held as LibTorch holds them: std::shared_ptr before 2.x's move to c10::intrusive_ptr
// (decided from torch::autograd::Edge, whatever the release that moved).
using NodePtr = decltype(std::declval<torch::autograd::Edge>().function);
template <class T, class... Args>
auto makeNode(Args&&... args) {
  if constexpr (std::is_same_v<NodePtr, std::shared_ptr<torch::autograd::Node>>)
    return std::make_shared<T>(std::forward<Args>(args)...);
  else
    return c10::make_intrusive<T>(std::forward<Args>(args)...);
}

// The threads that run backwards served by a pump, one per nesting depth (a backward called from a hook runs
// on the next one). Reused, so a backward does not start a thread with its own OpenMP team and allocator
// caches; never destroyed, as trainingThread().
SerialExecutor& backwardThread(int depth) {
  static std::mutex mu;
  static std::vector<SerialExecutor*>* threads = new std::vector<SerialExecutor*>();
  std::lock_guard<std::mutex> lock(mu);
  while (static_cast<int>(threads->size()) <= depth) threads->push_back(new SerialExecutor("ictorch-backwd"));
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

// Creates the environment's thread-safe function, which brings hook calls from threads that run while the JS
// thread is free (a training step's), once.
void ensureThreadSafeFunction(Napi::Env env, const std::shared_ptr<HookRegistry>& reg) {
  if (reg->tsfn || reg->closing) return;
  napi_threadsafe_function f = nullptr;
  auto* keep = new std::shared_ptr<HookRegistry>(reg);
  napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, Napi::String::New(env, "ictorch.tensorHook"), 0, 1, keep, hookFunctionFinalized,
                                                   reg.get(), callHookOnJsThread, &f);
  if (st != napi_ok) {
    delete keep;
    throw std::runtime_error("could not create the thread-safe function that runs hooks");
  }
  napi_unref_threadsafe_function(env, f);  // it never keeps the process alive
  std::lock_guard<std::mutex> lock(reg->mu);
  reg->tsfn = f;
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
    ensureThreadSafeFunction(env, reg);
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

// customFunctionApply(inputs, outputs, saved, backward, name) -> output handles: attaches a JS backward to
// outputs computed (without autograd) from `inputs`. backward(gradHandles, savedHandles) returns one handle or
// null per input.
Napi::Value CustomFunctionApply(const Napi::CallbackInfo& info) {
  return guard(info, "autograd.Function", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    std::vector<at::Tensor> inputs = argTensorList(info, 0, "inputs");
    std::vector<at::Tensor> outputs = argTensorList(info, 1, "outputs");
    std::vector<at::Tensor> saved = argTensorList(info, 2, "saved");
    if (!info[3].IsFunction()) throw ArgTypeError("argument 'backward' must be a function");
    const std::string name = argString(info, 4, "name");
    if (outputs.empty()) throw ArgRangeError("the forward returned no tensor");
    const std::shared_ptr<HookRegistry>& reg = state(env).hooks;
    reg->drain();
    ensureThreadSafeFunction(env, reg);
    const uint64_t id = reg->nextId++;
    auto token = std::make_shared<HookToken>(reg, id);
    std::vector<int64_t> slots;
    std::vector<at::Tensor> results;
    int64_t differentiable = 0;
    for (const auto& o : outputs) {
      slots.push_back(at::isFloatingType(o.scalar_type()) || at::isComplexType(o.scalar_type()) ? differentiable++ : -1);
      results.push_back(o.variable_data());
    }
    // Each saved tensor's version counter; a saved output is watched through the result the caller gets (the raw
    // output's counter is not the result's: variable_data gives the result a counter of its own).
    std::vector<std::optional<SavedVersion>> versions;
    for (const auto& t : saved) {
      const at::Tensor* watched = &t;
      for (size_t k = 0; k < outputs.size(); ++k)
        if (outputs[k].unsafeGetTensorImpl() == t.unsafeGetTensorImpl()) watched = &results[k];
      if (watched->is_inference()) {
        versions.emplace_back(std::nullopt);
      } else {
        const c10::VariableVersion& vc = torch::autograd::impl::version_counter(*watched);
        versions.emplace_back(SavedVersion{vc, vc.current_version()});
      }
    }
    auto node = makeNode<JsFunctionNode>(name, token, std::move(saved), std::move(versions), slots, inputs.size());
    reg->fns.emplace(id, Napi::Persistent(info[3].As<Napi::Function>()));
    {
      std::lock_guard<std::mutex> lock(reg->mu);
      reg->live.emplace(id, node.get());
      reg->hooked.insert(node.get());
    }
    node->set_next_edges(torch::autograd::collect_next_edges(inputs));
    for (size_t k = 0; k < results.size(); ++k)
      if (slots[k] >= 0) torch::autograd::create_gradient_edge(results[k], node);
    return wrapList(env, results);
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

// setGrad(self, grad|null): PyTorch's `t.grad = g`, with its checks; the gradient is `g` itself (shared).
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  return guard(info, "grad", [&]() -> Napi::Value {
    at::Tensor t = argMutableTensor(info, 0, "self");
    if (isNullish(info[1])) {
      t.mutable_grad() = at::Tensor();
      return info.Env().Undefined();
    }
    at::Tensor g = argTensor(info, 1, "grad");
    if (g.scalar_type() != t.scalar_type() || g.layout() != t.layout()) {
      throw ArgTypeError(std::string("assigned grad has data of a different type: ") + c10::toString(g.scalar_type()) + " for a " + c10::toString(t.scalar_type()) + " tensor");
    }
    if (g.device() != t.device()) throw ArgTypeError("assigned grad has data located on a different device: " + g.device().str() + " for a tensor on " + t.device().str());
    if (!g.sizes().equals(t.sizes())) throw ArgRangeError("assigned grad has data of a different size: " + shapeOf(g) + " for a tensor of shape " + shapeOf(t));
    t.mutable_grad() = g;
    return info.Env().Undefined();
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
  exports.Set("setGrad", Napi::Function::New<SetGrad>(env, "setGrad"));
  exports.Set("zeroGrad", Napi::Function::New<ZeroGrad>(env, "zeroGrad"));
  exports.Set("backward", Napi::Function::New<Backward>(env, "backward"));
  exports.Set("autogradGrad", Napi::Function::New<AutogradGrad>(env, "autogradGrad"));
  exports.Set("registerHook", Napi::Function::New<RegisterHook>(env, "registerHook"));
  exports.Set("removeHook", Napi::Function::New<RemoveHook>(env, "removeHook"));
  exports.Set("customFunctionApply", Napi::Function::New<CustomFunctionApply>(env, "customFunctionApply"));
  exports.Set("hooksThreadedForTests", Napi::Function::New<HooksThreadedForTests>(env, "hooksThreadedForTests"));
  exports.Set("inStepCallback", Napi::Function::New<InStepCallback>(env, "inStepCallback"));
  exports.Set("setGradEnabled", Napi::Function::New<SetGradEnabled>(env, "setGradEnabled"));
  exports.Set("isGradEnabled", Napi::Function::New<IsGradEnabled>(env, "isGradEnabled"));
  exports.Set("setAutocast", Napi::Function::New<SetAutocast>(env, "setAutocast"));
  exports.Set("autocastGet", Napi::Function::New<AutocastGet>(env, "autocastGet"));
  exports.Set("autocastSet", Napi::Function::New<AutocastSet>(env, "autocastSet"));
  exports.Set("autocastNesting", Napi::Function::New<AutocastNesting>(env, "autocastNesting"));
}

}  // namespace ictorch
