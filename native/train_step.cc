// train_step.cc: one whole training step (forward, cross-entropy, backward, optimiser update) as one native call
// off the event loop, and the matching evaluation step. For a model whose forward is written in JavaScript
// the forward runs on the JS thread (it cannot run on a worker) and the rest of the step (cross-entropy,
// backward, optimiser update) is one native call off the event loop: trainStepBackward.
//
// The cleverness lives here: on CUDA the step is captured as a CUDA graph by default. Eager execution is
// CPU-bound on fast GPUs (a ResNet-110 step at batch 128 launches thousands of small kernels, about 4.5x
// more time than the GPU work itself), while a graph replays all of them with one launch. Recipe (as
// PyTorch's "whole network capture"): the first steps run eager on a side stream (warm-up: momentum
// buffers exist, cuDNN has chosen algorithms), gradients are set to None, the next step is captured with
// static input buffers, then every step copies its batch into those buffers and replays. The learning rate
// is read from a device scalar so a schedule can change it between replays. A batch of another shape (the
// last partial batch), fp16 loss scaling (needs a host-side skip) or a failed capture run eagerly, and the
// step reports why once.
#include <torch/torch.h>
#include "compat.h"
#include "distributed.h"
#include "module.h"
#include "optim.h"
#include "tensor.h"
#include "worker.h"
#ifdef ICTORCH_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace ictorch {
namespace {

struct StepOptions {
  at::Device device = at::kCPU;
  compat::optional<at::ScalarType> amp;  // kBFloat16 or kHalf
  double labelSmoothing = 0;
  bool cudaGraph = true;
  bool channelsLast = false;   // 4-d inputs in channels-last memory order (the model's weights are converted by the caller)
  bool cudnnBenchmark = true;  // let cuDNN time its algorithms for each new shape (CUDA)
  std::shared_ptr<Group> group;  // data parallel: gradients are averaged over this process group
  std::shared_ptr<HookRegistry> hooks;  // the environment's tensor hooks (a hooked parameter keeps the step eager)
};

struct StepResult {
  at::Tensor loss, correct;
  std::string mode, note;
  bool stop = false;  // data parallel: some process of the group asked to stop (the same answer on every one)
};

class TrainStep {
 public:
  // `m` is null for a model whose forward runs in JS: then only backward() is used.
  TrainStep(nn::LayerPtr m, std::shared_ptr<Optimizer> sgd, StepOptions o) : module_(std::move(m)), sgd_(std::move(sgd)), opt_(o) {}
  const nn::LayerPtr& module() const { return module_; }
  const std::shared_ptr<Optimizer>& optimizer() const { return sgd_; }
  const StepOptions& options() const { return opt_; }

  // The step after a forward that ran elsewhere (in JS): loss, backward and update from `logits`.
  StepResult backward(const at::Tensor& logits, const at::Tensor& yIn, bool stop) {
    std::lock_guard<std::mutex> lock(mu_);
    stopVote_ = stop;
    at::AutoGradMode grad(true);
    at::Tensor y = yIn.to(logits.device(), /*non_blocking=*/true);
    if (y.scalar_type() != at::kLong) y = y.to(at::kLong);
    sgd_->zeroGrad(true);
    StepResult r = finish(logits, y, at::Tensor());
    r.mode = "eager";
    return r;
  }

  // The step after a forward and a loss that ran in JS (a Trainer with a criterion): backward and update.
  StepResult backwardLoss(const at::Tensor& loss, bool stop) {
    std::lock_guard<std::mutex> lock(mu_);
    stopVote_ = stop;
    at::AutoGradMode grad(true);
    sgd_->zeroGrad(true);
    StepResult r = update(loss, at::Tensor(), at::Tensor());
    r.loss = r.loss.to(at::kFloat);
    r.mode = "eager";
    return r;
  }

  StepResult run(const at::Tensor& xIn, const at::Tensor& yIn, bool stop) {
    std::lock_guard<std::mutex> lock(mu_);
    stopVote_ = stop;
    at::AutoGradMode grad(true);
    at::Tensor x = xIn.to(opt_.device, /*non_blocking=*/true), y = yIn.to(opt_.device, true);
    if (y.scalar_type() != at::kLong) y = y.to(at::kLong);
    StepResult r;
#ifdef ICTORCH_WITH_CUDA
    if (opt_.device.is_cuda()) {
      c10::cuda::CUDAGuard deviceGuard(opt_.device);
      std::string why = opt_.cudaGraph ? graphBlocker(x, y) : "";
      if (opt_.cudaGraph && why.empty()) return runGraph(x, y);
      r = eager(x, y, at::Tensor());
      r.mode = "eager";
      r.note = takeNote(why);
      return r;
    }
#endif
    r = eager(x, y, at::Tensor());
    r.mode = "eager";
    return r;
  }

 private:
  // forward + loss + backward + update; lrScale as in SGD::step.
  StepResult eager(const at::Tensor& x, const at::Tensor& y, const at::Tensor& lrScale) {
    if (!module_) throw ArgTypeError("this training step was made for a model whose forward runs in JS; use trainStepBackward");
    sgd_->zeroGrad(true);
    at::Tensor logits;
    {
      compat::AutocastScope autocast(opt_.device.type(), opt_.amp);
      logits = module_->forward(opt_.channelsLast && x.dim() == 4 ? x.contiguous(at::MemoryFormat::ChannelsLast) : x);
    }
    return finish(logits, y, lrScale);
  }

  // loss + backward + update from the logits of a forward with autograd.
  StepResult finish(const at::Tensor& logits, const at::Tensor& y, const at::Tensor& lrScale) {
    if (logits.dim() != 2) throw ArgRangeError("the model must return logits of shape [N, classes], got [" + c10::Join(", ", logits.sizes()) + "]");
    at::Tensor loss = at::cross_entropy_loss(logits.to(at::kFloat), y, {}, at::Reduction::Mean, -100, opt_.labelSmoothing);
    at::Tensor correct;
    {
      at::NoGradGuard ng;
      correct = logits.argmax(1).eq(y).sum();
    }
    return update(loss, correct, lrScale);
  }

  // backward from a scalar loss (with fp16 loss scaling when the step autocasts to fp16), the gradient exchange
  // and the update; `correct` is passed through to the result.
  StepResult update(const at::Tensor& loss, const at::Tensor& correct, const at::Tensor& lrScale) {
    if (opt_.amp && *opt_.amp == at::kHalf) {
      // Dynamic loss scaling (fp16): scale, backward, unscale and check for inf/NaN, skip the step if found.
      if (!scale_.defined()) {
        scale_ = at::full({}, 65536.0, at::TensorOptions().dtype(at::kFloat).device(opt_.device));
        growth_ = at::zeros({}, at::TensorOptions().dtype(at::kInt).device(opt_.device));
      }
      loss.mul(scale_).backward();
      bool stop = exchangeGradients();  // the scaled gradients, so every process finds the same inf/NaN
      std::vector<at::Tensor> grads;
      for (auto& g : sgd_->groups)
        for (auto& p : g.params)
          if (p.grad().defined()) grads.push_back(p.grad());
      at::Tensor foundInf = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(opt_.device));
      at::_amp_foreach_non_finite_check_and_unscale_(grads, foundInf, scale_.reciprocal());
      if (foundInf.item<float>() == 0.0f) sgd_->step(lrScale);
      at::_amp_update_scale_(scale_, growth_, foundInf, 2.0, 0.5, 2000);
      return {loss.detach(), correct, "", "", stop};
    }
    loss.backward();
    bool stop = exchangeGradients();
    sgd_->step(lrScale);
    return {loss.detach(), correct, "", "", stop};
  }

  // Data parallel: every gradient becomes the mean over the group (and the processes agree on stopping).
  // Alone: the stop vote is this process's own.
  bool exchangeGradients() {
    if (!opt_.group) return stopVote_;
    return averageGradients(*opt_.group, sgd_->parameters(), stopVote_);
  }

  std::string takeNote(const std::string& why) {
    if (why.empty() || noted_.count(why)) return "";
    noted_.insert(why);
    return why;
  }

#ifdef ICTORCH_WITH_CUDA
  // Why this step cannot use the graph ("" when it can).
  std::string graphBlocker(const at::Tensor& x, const at::Tensor& y) {
    if (failed_.size()) return failed_;
    if (opt_.group) return "gradients are averaged across processes by Gloo, on the host, which a CUDA graph cannot hold: the step runs eager";
    if (opt_.amp && *opt_.amp == at::kHalf) return "fp16 loss scaling skips steps on the host, so the step runs eager (bf16 is captured)";
    if (sgd_->groups.empty() || sgd_->lr(0) <= 0) return "a learning rate of 0 cannot be rescaled inside a graph; running eager";
    if (opt_.hooks && opt_.hooks->anyLive())
      for (const auto& p : sgd_->parameters())
        if (opt_.hooks->isHooked(p.unsafeGetTensorImpl()))
          return "a parameter has a tensor hook (registerHook), which runs in JS and cannot be captured in a CUDA graph; the step runs eager";
    if (graph_) {
      std::string changed = hyperParametersChanged();
      if (!changed.empty()) return changed;
    }
    if (staticX_.defined() && (!staticX_.sizes().equals(x.sizes()) || !staticY_.sizes().equals(y.sizes())))
      return "a batch of shape [" + c10::Join(", ", x.sizes()) + "] differs from the captured [" + c10::Join(", ", staticX_.sizes()) + "]; it runs eager";
    return "";
  }

  // A replay can only rescale every learning rate by one device value (lrScale_). Any other change since the
  // capture (one group's lr moving apart from the others, momentum, weight decay, betas...) would be ignored by
  // the graph, so it sends the step back to eager instead ("" when the graph still computes the right update).
  std::string hyperParametersChanged() const {
    const auto& gs = sgd_->groups;
    if (gs.size() != captured_.size()) return "the optimiser's parameter groups changed after the CUDA graph was captured; running eager";
    const double ratio = gs[0].o.lr / captured_[0].lr;
    for (size_t i = 0; i < gs.size(); ++i) {
      const GroupOptions &a = gs[i].o, &b = captured_[i];
      if (!a.sameExceptLr(b))
        return "a hyper-parameter other than the learning rate changed in group " + std::to_string(i) + " after the CUDA graph was captured; running eager";
      if (std::abs(a.lr - b.lr * ratio) > 1e-9 * std::abs(a.lr))
        return "the learning rates of the parameter groups no longer share one ratio to their values at capture (group " + std::to_string(i) +
               "), which one scale inside the CUDA graph cannot express; running eager";
    }
    return "";
  }

  StepResult runGraph(const at::Tensor& x, const at::Tensor& y) {
    StepResult r;
    if (!graph_) {
      if (warmup_ < 3) {
        // Warm-up on the side stream the capture will use, as the recipe asks.
        if (!side_) side_ = at::cuda::getStreamFromPool();
        at::cuda::device_synchronize();
        {
          c10::cuda::CUDAStreamGuard sg(*side_);
          r = eager(x, y, at::Tensor());
        }
        at::cuda::device_synchronize();
        ++warmup_;
        r.mode = "warmup";
        return r;
      }
      try {
        capture(x, y);
      } catch (const std::exception& e) {
        abortCapture();
        failed_ = std::string("CUDA graph capture failed (") + e.what() + "); running eager from now on";
        at::cuda::device_synchronize();
        r = eager(x, y, at::Tensor());
        r.mode = "eager";
        r.note = takeNote(failed_);
        return r;
      }
    }
    staticX_.copy_(x, /*non_blocking=*/true);
    staticY_.copy_(y, true);
    lrScale_.fill_(sgd_->lr(0) / lrAtCapture_);
    graph_->replay();
    r.loss = staticLoss_.clone();
    r.correct = staticCorrect_.clone();
    r.mode = "graph";
    r.stop = stopVote_;
    return r;
  }

  void capture(const at::Tensor& x, const at::Tensor& y) {
    // Channels-last static input: each replay's copy into it converts the batch's layout, with no extra pass.
    staticX_ = x.clone(opt_.channelsLast && x.dim() == 4 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Preserve);
    staticY_ = y.clone();
    lrAtCapture_ = sgd_->lr(0);
    captured_.clear();
    for (const auto& g : sgd_->groups) captured_.push_back(g.o);
    lrScale_ = at::ones({}, at::TensorOptions().dtype(at::kFloat).device(opt_.device));
    if (!side_) side_ = at::cuda::getStreamFromPool();
    at::cuda::device_synchronize();
    sgd_->zeroGrad(true);  // gradients are allocated inside the graph's memory pool
    graph_ = std::make_unique<at::cuda::CUDAGraph>();
    {
      c10::cuda::CUDAStreamGuard sg(*side_);
      bool cache = at::autocast::is_autocast_cache_enabled();
      at::autocast::set_autocast_cache_enabled(false);
      try {
        compat::beginCapture(*graph_);
        // Fault injection for the GPU test of the fall-back below (a capture that fails half-way).
        if (const char* f = std::getenv("ICTORCH_TEST_CAPTURE_FAULT"); f && *f == '1') throw std::runtime_error("fault injected by ICTORCH_TEST_CAPTURE_FAULT");
        StepResult s = eager(staticX_, staticY_, lrScale_);
        graph_->capture_end();
        staticLoss_ = s.loss;
        staticCorrect_ = s.correct;
      } catch (...) {
        at::autocast::set_autocast_cache_enabled(cache);
        throw;
      }
      at::autocast::set_autocast_cache_enabled(cache);
    }
    at::cuda::device_synchronize();
  }

  // After a failure inside capture: end the capture (the stream would otherwise stay in capture mode and
  // every later launch on it fail), drop the partial graph and clear CUDA's sticky launch error.
  void abortCapture() {
    auto capturing = [this] {
      cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
      return cudaStreamIsCapturing(side_->stream(), &status) == cudaSuccess && status != cudaStreamCaptureStatusNone;
    };
    if (graph_ && side_ && capturing()) {
      // capture_end checks that it runs on the stream the capture began on; capture()'s guard is gone by now.
      c10::cuda::CUDAStreamGuard sg(*side_);
      try {
        graph_->capture_end();  // ends the capture and returns the allocator's pool
      } catch (const std::exception&) {
        // an invalidated capture: LibTorch threw before ending it, so end it here and drop what was recorded
        cudaGraph_t partial = nullptr;
        if (capturing() && cudaStreamEndCapture(side_->stream(), &partial) == cudaSuccess && partial) cudaGraphDestroy(partial);
      }
    }
    graph_.reset();
    cudaGetLastError();
  }

  std::unique_ptr<at::cuda::CUDAGraph> graph_;
  compat::optional<c10::cuda::CUDAStream> side_;
  at::Tensor staticX_, staticY_, staticLoss_, staticCorrect_, lrScale_;
  double lrAtCapture_ = 1;
  std::vector<GroupOptions> captured_;  // every group's hyper-parameters at capture
  int warmup_ = 0;
  std::string failed_;
#endif

  nn::LayerPtr module_;
  std::shared_ptr<Optimizer> sgd_;
  StepOptions opt_;
  at::Tensor scale_, growth_;
  bool stopVote_ = false;
  std::set<std::string> noted_;
  std::mutex mu_;
};

class TrainStepHandle : public Handle<TrainStepHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "TrainStepHandle", baseMethods());
    state(env).trainStepCtor = Napi::Persistent(ctor);
    exports.Set("TrainStepHandle", ctor);
  }
  explicit TrainStepHandle(const Napi::CallbackInfo& info) : Handle<TrainStepHandle>(info) {}
  ~TrainStepHandle() override { disposeNow(); }
  void own(std::shared_ptr<TrainStep> s) {
    step = std::move(s);
    disposed_ = false;
  }
  std::shared_ptr<TrainStep> step;

 protected:
  const char* noun() const override { return "training step"; }
  const void* inFlightKey() const override { return step.get(); }
  void release() override { step.reset(); }
};

// trainStepCreate(module|null, optimizer, {device, amp: 'bf16'|'fp16'|null, labelSmoothing, cudaGraph})
Napi::Value Create(const Napi::CallbackInfo& info) {
  return guard(info, "TrainStep", [&]() -> Napi::Value {
    nn::LayerPtr m = isNullish(info[0]) ? nullptr : argModule(info, 0, "module");
    auto sgd = argOptimizer(info, 1, "optimizer");
    StepOptions o;
    if (info[2].IsObject()) {
      Napi::Object opts = info[2].As<Napi::Object>();
      Napi::Value d = opts.Get("device");
      if (d.IsString()) o.device = at::Device(d.As<Napi::String>().Utf8Value());
      Napi::Value a = opts.Get("amp");
      if (a.IsString()) {
        std::string s = a.As<Napi::String>().Utf8Value();
        if (s == "bf16") o.amp = at::kBFloat16;
        else if (s == "fp16") o.amp = at::kHalf;
        else throw ArgTypeError("amp must be \"bf16\" or \"fp16\", got \"" + s + "\"");
      }
      Napi::Value ls = opts.Get("labelSmoothing");
      if (ls.IsNumber()) o.labelSmoothing = ls.As<Napi::Number>().DoubleValue();
      if (!(o.labelSmoothing >= 0 && o.labelSmoothing < 1)) throw ArgRangeError("labelSmoothing must be in [0, 1)");
      Napi::Value g = opts.Get("cudaGraph");
      if (g.IsBoolean()) o.cudaGraph = g.As<Napi::Boolean>().Value();
      Napi::Value cl = opts.Get("channelsLast");
      if (cl.IsBoolean()) o.channelsLast = cl.As<Napi::Boolean>().Value();
      Napi::Value cb = opts.Get("cudnnBenchmark");
      if (cb.IsBoolean()) o.cudnnBenchmark = cb.As<Napi::Boolean>().Value();
      Napi::Value pg = opts.Get("processGroup");
      if (!isNullish(pg)) o.group = groupOf(info.Env(), pg, "processGroup");
    }
    o.hooks = state(info.Env()).hooks;
    if (o.device.is_cuda() && !at::hasCUDA()) throw ArgTypeError("device " + o.device.str() + " requested but LibTorch sees no CUDA device");
    if (o.device.is_cuda() && o.cudnnBenchmark) at::globalContext().setBenchmarkCuDNN(true);
    if (o.amp) {
      // Fail here rather than at the first step (after data loading) when this LibTorch cannot autocast to
      // that dtype on that device: CPU autocast takes only bf16 before LibTorch 2.4.
      try {
        compat::AutocastScope probe(o.device.type(), o.amp);
      } catch (const c10::Error& e) {
        compat::setAutocast(o.device.type(), false, at::kFloat);
        throw ArgRangeError(std::string("amp ") + (*o.amp == at::kHalf ? "fp16" : "bf16") + " is not available on " + o.device.str() +
                            " with LibTorch " TORCH_VERSION " (" + compat::errorMessage(e) + ")" + (o.device.is_cpu() ? "; use amp bf16 on the CPU" : ""));
      }
    }
    Napi::Object obj = state(info.Env()).trainStepCtor.New({});
    Napi::ObjectWrap<TrainStepHandle>::Unwrap(obj)->own(std::make_shared<TrainStep>(m, sgd, o));
    return obj;
  });
}

std::shared_ptr<TrainStep> argStep(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  if (!TrainStepHandle::isHandle(v)) throw ArgTypeError("argument 'step' must be a TrainStep");
  TrainStepHandle* h = Napi::ObjectWrap<TrainStepHandle>::Unwrap(v.As<Napi::Object>());
  h->checkIdle("the training step", true);
  return h->step;
}

Napi::Value stepResult(Napi::Env env, StepResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("loss", TensorHandle::Wrap(env, r.loss));
  o.Set("correct", r.correct.defined() ? Napi::Value(TensorHandle::Wrap(env, r.correct)) : env.Null());
  o.Set("mode", r.mode);
  o.Set("note", r.note.empty() ? env.Null() : Napi::Value(Napi::String::New(env, r.note)));
  o.Set("stop", r.stop);
  return o;
}

// What a training step writes: the step, its optimiser and the optimiser's parameters.
void markStep(InUse& marks, const TrainStep& s) {
  marks.add(&s, "the training step", true);
  marks.add(s.optimizer().get(), "the optimizer", true);
  if (s.options().group) marks.add(s.options().group.get(), "the process group", true);
  for (const auto& g : s.optimizer()->groups)
    for (const auto& p : g.params) markTensor(marks, p, "a parameter being trained", true);
}

void checkBatch(const at::Tensor& x, const at::Tensor& y, const char* what) {
  if (x.dim() < 2 || y.dim() != 1 || x.size(0) != y.size(0))
    throw ArgRangeError(std::string(what) + " [" + c10::Join(", ", x.sizes()) + "] and target [" + c10::Join(", ", y.sizes()) + "] must be [N, ...] and [N]");
  if (at::isFloatingType(y.scalar_type())) throw ArgTypeError("target must hold integer class labels, got " + std::string(dtypeName(y.scalar_type())));
}

// trainStepRun(step, x, y, stop) -> Promise<{loss, correct, mode, note, stop}>: the whole step on a worker
// thread. The model, the optimiser and the parameters are written by it: mutations, forwards and other steps on
// them are refused until it settles. `stop` is this process's vote to end the run; the result's `stop` is
// whether any process of the step's group voted so (alone: the vote itself).
Napi::Value Run(const Napi::CallbackInfo& info) {
  return guard(info, "trainStep", [&]() -> Napi::Value {
    auto s = argStep(info);
    at::Tensor x = argTensor(info, 1, "input");
    at::Tensor y = argTensor(info, 2, "target");
    bool stop = argBool(info, 3, "stop", false);
    checkBatch(x, y, "input");
    if (!s->module()) throw ArgTypeError("this training step was made for a model whose forward runs in JS; use trainStepBackward");
    InUse marks(info.Env(), "trainStep");
    markStep(marks, *s);
    markModule(marks, *s->module(), true);
    markTensor(marks, x, "tensor 'input'", false);
    markTensor(marks, y, "tensor 'target'", false);
    return queuePromise(info.Env(), "trainStep", true, std::move(marks), [s, x, y, stop] { return s->run(x, y, stop); }, stepResult, &trainingThread());
  });
}

// trainStepBackward(step, logits, y, stop) -> Promise<{loss, correct, mode, note, stop}>: cross-entropy, backward and the
// update on a worker thread, from logits whose forward (with autograd) ran in JS.
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guard(info, "trainStep", [&]() -> Napi::Value {
    auto s = argStep(info);
    at::Tensor logits = argTensor(info, 1, "logits");
    at::Tensor y = argTensor(info, 2, "target");
    bool stop = argBool(info, 3, "stop", false);
    checkBatch(logits, y, "logits");
    if (!logits.requires_grad()) throw ArgTypeError("the logits do not require grad: run the forward with gradients enabled");
    InUse marks(info.Env(), "trainStep");
    markStep(marks, *s);
    markTensor(marks, logits, "tensor 'logits'", false);
    markTensor(marks, y, "tensor 'target'", false);
    return queuePromise(info.Env(), "trainStep", true, std::move(marks), [s, logits, y, stop] { return s->backward(logits, y, stop); }, stepResult, &trainingThread());
  });
}

// trainStepBackwardLoss(step, loss, stop): backward from a loss computed in JS (0-d, floating, with a graph), then
// the update, off the event loop.
Napi::Value BackwardLoss(const Napi::CallbackInfo& info) {
  return guard(info, "trainStep", [&]() -> Napi::Value {
    auto s = argStep(info);
    at::Tensor loss = argTensor(info, 1, "loss");
    bool stop = argBool(info, 2, "stop", false);
    if (loss.dim() != 0 || !at::isFloatingType(loss.scalar_type()))
      throw ArgRangeError(std::string("the criterion must return a 0-d floating-point loss, got a ") + dtypeName(loss.scalar_type()) + " tensor of shape [" +
                          c10::Join(", ", loss.sizes()) + "]");
    if (!loss.requires_grad()) throw ArgTypeError("the loss does not require grad: compute it from the model's output with gradients enabled");
    InUse marks(info.Env(), "trainStep");
    markStep(marks, *s);
    markTensor(marks, loss, "tensor 'loss'", false);
    return queuePromise(info.Env(), "trainStep", true, std::move(marks), [s, loss, stop] { return s->backwardLoss(loss, stop); }, stepResult, &trainingThread());
  });
}

// trainStepDispose(step): the handle's dispose() as a function (checked; idempotent).
Napi::Value DisposeStep(const Napi::CallbackInfo& info) {
  return guard(info, "TrainStep.dispose", [&]() -> Napi::Value {
    Napi::Value v = info[0];
    if (!TrainStepHandle::isHandle(v)) throw ArgTypeError("argument 'step' must be a TrainStep");
    Napi::Object handle = v.As<Napi::Object>();
    return handle.Get("dispose").As<Napi::Function>().Call(handle, {});
  });
}

struct EvalTotals {
  at::Tensor lossSum, correct1, correctK;
};

// Summed cross-entropy and top-1 / top-k hits of float logits [N, classes] against labels [N].
EvalTotals evalTotals(const at::Tensor& logitsIn, const at::Tensor& yIn, int64_t k) {
  at::Tensor logits = logitsIn.to(at::kFloat);
  at::Tensor y = yIn.to(logits.device(), true).to(at::kLong);
  if (logits.dim() != 2) throw ArgRangeError("the model must return logits of shape [N, classes], got [" + c10::Join(", ", logits.sizes()) + "]");
  EvalTotals t;
  t.lossSum = at::cross_entropy_loss(logits, y, {}, at::Reduction::Sum, -100, 0.0);
  at::Tensor top = std::get<1>(logits.topk(std::min<int64_t>(k, logits.size(1)), 1));
  at::Tensor hit = top.eq(y.unsqueeze(1));
  t.correct1 = hit.select(1, 0).sum();
  t.correctK = hit.any(1).sum();
  return t;
}

Napi::Value evalResult(Napi::Env env, EvalTotals& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("lossSum", TensorHandle::Wrap(env, t.lossSum));
  o.Set("correct1", TensorHandle::Wrap(env, t.correct1));
  o.Set("correctK", TensorHandle::Wrap(env, t.correctK));
  return o;
}

int64_t argK(const Napi::CallbackInfo& info, size_t i) {
  int64_t k = argOptInt(info, i, "k").value_or(5);
  if (k < 1) throw ArgRangeError("k must be >= 1");
  return k;
}

// evalStep(module, x, y, k, device, amp) -> Promise<{lossSum, correct1, correctK}> (tensors): evaluation mode as
// the module is set, no grad, on a worker thread.
Napi::Value Eval(const Napi::CallbackInfo& info) {
  return guard(info, "evalStep", [&]() -> Napi::Value {
    nn::LayerPtr m = argModule(info, 0, "module");
    at::Tensor x = argTensor(info, 1, "input");
    at::Tensor y = argTensor(info, 2, "target");
    int64_t k = argK(info, 3);
    at::Device dev = argOptDevice(info, 4, "device").value_or(x.device());
    compat::optional<at::ScalarType> amp;
    if (info[5].IsString()) {
      const std::string s = info[5].As<Napi::String>().Utf8Value();
      if (s != "bf16" && s != "fp16") throw ArgTypeError("amp must be \"bf16\", \"fp16\" or null, got \"" + s + "\"");
      amp = s == "fp16" ? at::kHalf : at::kBFloat16;
    } else if (!isNullish(info[5])) {
      throw ArgTypeError("amp must be \"bf16\", \"fp16\" or null");
    }
    InUse marks(info.Env(), "evalStep");
    markModule(marks, *m, false);
    markTensor(marks, x, "tensor 'input'", false);
    markTensor(marks, y, "tensor 'target'", false);
    return queuePromise(info.Env(), "evalStep", false, std::move(marks),
                        [m, x, y, k, dev, amp] {
                          at::Tensor logits;
                          {
                            compat::AutocastScope autocast(dev.type(), amp);
                            logits = m->forward(x.to(dev, true));
                          }
                          return evalTotals(logits, y, k);
                        },
                        evalResult, &trainingThread());
  });
}

// evalLogits(logits, y, k) -> Promise<{lossSum, correct1, correctK}>: the same totals from logits computed in JS.
Napi::Value EvalLogits(const Napi::CallbackInfo& info) {
  return guard(info, "evalStep", [&]() -> Napi::Value {
    at::Tensor logits = argTensor(info, 0, "logits");
    at::Tensor y = argTensor(info, 1, "target");
    int64_t k = argK(info, 2);
    InUse marks(info.Env(), "evalStep");
    markTensor(marks, logits, "tensor 'logits'", false);
    markTensor(marks, y, "tensor 'target'", false);
    return queuePromise(info.Env(), "evalStep", false, std::move(marks), [logits, y, k] { return evalTotals(logits.detach(), y, k); }, evalResult, &trainingThread());
  });
}

}  // namespace

void InitTrainStep(Napi::Env env, Napi::Object exports) {
  TrainStepHandle::Init(env, exports);
  exports.Set("trainStepCreate", Napi::Function::New<Create>(env, "trainStepCreate"));
  exports.Set("trainStepRun", Napi::Function::New<Run>(env, "trainStepRun"));
  exports.Set("trainStepBackward", Napi::Function::New<Backward>(env, "trainStepBackward"));
  exports.Set("trainStepBackwardLoss", Napi::Function::New<BackwardLoss>(env, "trainStepBackwardLoss"));
  exports.Set("trainStepDispose", Napi::Function::New<DisposeStep>(env, "trainStepDispose"));
  exports.Set("evalStep", Napi::Function::New<Eval>(env, "evalStep"));
  exports.Set("evalLogits", Napi::Function::New<EvalLogits>(env, "evalLogits"));
}

}  // namespace ictorch
