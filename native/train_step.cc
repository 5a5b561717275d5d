// train_step.cc: one whole training step (forward, cross-entropy, backward, SGD update) as one native call
// off the event loop, and the matching evaluation step.
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
#include "module.h"
#include "optim.h"
#include "tensor.h"
#ifdef ICTORCH_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace ictorch {
namespace {

struct StepOptions {
  at::Device device = at::kCPU;
  c10::optional<at::ScalarType> amp;  // kBFloat16 or kHalf
  double labelSmoothing = 0;
  bool cudaGraph = true;
  bool channelsLast = false;   // 4-d inputs in channels-last memory order (the model's weights are converted by the caller)
  bool cudnnBenchmark = true;  // let cuDNN time its algorithms for each new shape (CUDA)
};

struct StepResult {
  at::Tensor loss, correct;
  std::string mode, note;
};

class TrainStep {
 public:
  TrainStep(std::shared_ptr<torch::nn::Module> m, std::shared_ptr<Optimizer> sgd, StepOptions o) : module_(std::move(m)), sgd_(std::move(sgd)), opt_(o) {}

  StepResult run(const at::Tensor& xIn, const at::Tensor& yIn) {
    std::lock_guard<std::mutex> lock(mu_);
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
    sgd_->zeroGrad(true);
    at::Tensor logits;
    {
      compat::AutocastScope autocast(opt_.device.type(), opt_.amp);
      logits = forwardAny(*module_, opt_.channelsLast && x.dim() == 4 ? x.contiguous(at::MemoryFormat::ChannelsLast) : x);
    }
    if (logits.dim() != 2) throw ArgRangeError("the model must return logits of shape [N, classes], got [" + c10::Join(", ", logits.sizes()) + "]");
    at::Tensor loss = at::cross_entropy_loss(logits.to(at::kFloat), y, {}, at::Reduction::Mean, -100, opt_.labelSmoothing);
    at::Tensor correct;
    {
      at::NoGradGuard ng;
      correct = logits.argmax(1).eq(y).sum();
    }
    if (opt_.amp && *opt_.amp == at::kHalf) {
      // Dynamic loss scaling (fp16): scale, backward, unscale and check for inf/NaN, skip the step if found.
      if (!scale_.defined()) {
        scale_ = at::full({}, 65536.0, at::TensorOptions().dtype(at::kFloat).device(opt_.device));
        growth_ = at::zeros({}, at::TensorOptions().dtype(at::kInt).device(opt_.device));
      }
      loss.mul(scale_).backward();
      std::vector<at::Tensor> grads;
      for (auto& g : sgd_->groups)
        for (auto& p : g.params)
          if (p.grad().defined()) grads.push_back(p.grad());
      at::Tensor foundInf = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(opt_.device));
      at::_amp_foreach_non_finite_check_and_unscale_(grads, foundInf, scale_.reciprocal());
      if (foundInf.item<float>() == 0.0f) sgd_->step(lrScale);
      at::_amp_update_scale_(scale_, growth_, foundInf, 2.0, 0.5, 2000);
    } else {
      loss.backward();
      sgd_->step(lrScale);
    }
    return {loss.detach(), correct, "", ""};
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
    if (opt_.amp && *opt_.amp == at::kHalf) return "fp16 loss scaling skips steps on the host, so the step runs eager (bf16 is captured)";
    if (sgd_->groups.empty() || sgd_->lr(0) <= 0) return "a learning rate of 0 cannot be rescaled inside a graph; running eager";
    if (staticX_.defined() && (!staticX_.sizes().equals(x.sizes()) || !staticY_.sizes().equals(y.sizes())))
      return "a batch of shape [" + c10::Join(", ", x.sizes()) + "] differs from the captured [" + c10::Join(", ", staticX_.sizes()) + "]; it runs eager";
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
    return r;
  }

  void capture(const at::Tensor& x, const at::Tensor& y) {
    // Channels-last static input: each replay's copy into it converts the batch's layout, with no extra pass.
    staticX_ = x.clone(opt_.channelsLast && x.dim() == 4 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Preserve);
    staticY_ = y.clone();
    lrAtCapture_ = sgd_->lr(0);
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
    if (graph_ && side_) {
      cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
      cudaStreamIsCapturing(side_->stream(), &status);
      if (status != cudaStreamCaptureStatusNone) {
        try {
          graph_->capture_end();  // ends the capture and returns the allocator's pool; throws for an invalidated capture
        } catch (const std::exception&) {
        }
      }
    }
    graph_.reset();
    cudaGetLastError();
  }

  std::unique_ptr<at::cuda::CUDAGraph> graph_;
  c10::optional<c10::cuda::CUDAStream> side_;
  at::Tensor staticX_, staticY_, staticLoss_, staticCorrect_, lrScale_;
  double lrAtCapture_ = 1;
  int warmup_ = 0;
  std::string failed_;
#endif

  std::shared_ptr<torch::nn::Module> module_;
  std::shared_ptr<Optimizer> sgd_;
  StepOptions opt_;
  at::Tensor scale_, growth_;
  std::set<std::string> noted_;
  std::mutex mu_;
};

class TrainStepHandle : public Napi::ObjectWrap<TrainStepHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "TrainStepHandle", {});
    state(env).trainStepCtor = Napi::Persistent(ctor);
    exports.Set("TrainStepHandle", ctor);
  }
  explicit TrainStepHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TrainStepHandle>(info) {}
  std::shared_ptr<TrainStep> step;
};

// trainStepCreate(module, optimizer, {device, amp: 'bf16'|'fp16'|null, labelSmoothing, cudaGraph})
Napi::Value Create(const Napi::CallbackInfo& info) {
  return guard(info, "TrainStep", [&]() -> Napi::Value {
    auto m = argModule(info, 0, "module");
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
    }
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
    Napi::ObjectWrap<TrainStepHandle>::Unwrap(obj)->step = std::make_shared<TrainStep>(m, sgd, o);
    return obj;
  });
}

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<TrainStep> s, at::Tensor x, at::Tensor y)
      : Napi::AsyncWorker(env, "ictorch.trainStep"), s_(std::move(s)), x_(std::move(x)), y_(std::move(y)), d_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return d_.Promise(); }
  void Execute() override {
    err_ = captureError("trainStep", [&] { r_ = s_->run(x_, y_); });
    x_ = at::Tensor();
    y_ = at::Tensor();
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!err_.empty()) return d_.Reject(Napi::Error::New(env, err_).Value());
    Napi::Object o = Napi::Object::New(env);
    o.Set("loss", TensorHandle::Wrap(env, r_.loss));
    o.Set("correct", TensorHandle::Wrap(env, r_.correct));
    o.Set("mode", r_.mode);
    o.Set("note", r_.note.empty() ? env.Null() : Napi::Value(Napi::String::New(env, r_.note)));
    d_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { d_.Reject(e.Value()); }

 private:
  std::shared_ptr<TrainStep> s_;
  at::Tensor x_, y_;
  StepResult r_;
  std::string err_;
  Napi::Promise::Deferred d_;
};

std::shared_ptr<TrainStep> argStep(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(state(info.Env()).trainStepCtor.Value())) throw ArgTypeError("argument 'step' must be a TrainStep");
  auto s = Napi::ObjectWrap<TrainStepHandle>::Unwrap(v.As<Napi::Object>())->step;
  if (!s) throw ArgTypeError("the training step has been disposed");
  return s;
}

// trainStepRun(step, x, y) -> Promise<{loss, correct, mode, note}>
Napi::Value Run(const Napi::CallbackInfo& info) {
  return guard(info, "trainStep", [&]() -> Napi::Value {
    auto s = argStep(info);
    const at::Tensor& x = argTensor(info, 1, "input");
    const at::Tensor& y = argTensor(info, 2, "target");
    if (x.dim() < 2 || y.dim() != 1 || x.size(0) != y.size(0))
      throw ArgRangeError("input [" + c10::Join(", ", x.sizes()) + "] and target [" + c10::Join(", ", y.sizes()) + "] must be [N, ...] and [N]");
    if (at::isFloatingType(y.scalar_type())) throw ArgTypeError("target must hold integer class labels, got " + std::string(dtypeName(y.scalar_type())));
    auto* w = new RunWorker(info.Env(), s, x, y);
    auto p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value DisposeStep(const Napi::CallbackInfo& info) {
  return guard(info, "TrainStep.dispose", [&]() -> Napi::Value {
    Napi::Value v = info[0];
    if (v.IsObject() && v.As<Napi::Object>().InstanceOf(state(info.Env()).trainStepCtor.Value()))
      Napi::ObjectWrap<TrainStepHandle>::Unwrap(v.As<Napi::Object>())->step.reset();
    return info.Env().Undefined();
  });
}

// evalStep(module, x, y, k, device) -> Promise<{lossSum, correct1, correctK}> (tensors), eval mode, no grad.
class EvalWorker : public Napi::AsyncWorker {
 public:
  EvalWorker(Napi::Env env, std::shared_ptr<torch::nn::Module> m, at::Tensor x, at::Tensor y, int64_t k, at::Device dev, c10::optional<at::ScalarType> amp)
      : Napi::AsyncWorker(env, "ictorch.evalStep"), m_(std::move(m)), x_(std::move(x)), y_(std::move(y)), k_(k), dev_(dev), amp_(amp), d_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return d_.Promise(); }
  void Execute() override {
    err_ = captureError("evalStep", [&] {
      at::NoGradGuard ng;
      at::Tensor x = x_.to(dev_, true), y = y_.to(dev_, true).to(at::kLong);
      at::Tensor logits;
      {
        compat::AutocastScope autocast(dev_.type(), amp_);
        logits = forwardAny(*m_, x).to(at::kFloat);
      }
      lossSum_ = at::cross_entropy_loss(logits, y, {}, at::Reduction::Sum, -100, 0.0);
      int64_t k = std::min<int64_t>(k_, logits.size(1));
      at::Tensor top = std::get<1>(logits.topk(k, 1));
      at::Tensor hit = top.eq(y.unsqueeze(1));
      c1_ = hit.select(1, 0).sum();
      ck_ = hit.any(1).sum();
    });
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!err_.empty()) return d_.Reject(Napi::Error::New(env, err_).Value());
    Napi::Object o = Napi::Object::New(env);
    o.Set("lossSum", TensorHandle::Wrap(env, lossSum_));
    o.Set("correct1", TensorHandle::Wrap(env, c1_));
    o.Set("correctK", TensorHandle::Wrap(env, ck_));
    d_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { d_.Reject(e.Value()); }

 private:
  std::shared_ptr<torch::nn::Module> m_;
  at::Tensor x_, y_, lossSum_, c1_, ck_;
  int64_t k_;
  at::Device dev_;
  c10::optional<at::ScalarType> amp_;
  std::string err_;
  Napi::Promise::Deferred d_;
};

Napi::Value Eval(const Napi::CallbackInfo& info) {
  return guard(info, "evalStep", [&]() -> Napi::Value {
    auto m = argModule(info, 0, "module");
    const at::Tensor& x = argTensor(info, 1, "input");
    const at::Tensor& y = argTensor(info, 2, "target");
    int64_t k = argOptInt(info, 3, "k").value_or(5);
    if (k < 1) throw ArgRangeError("k must be >= 1");
    at::Device dev = argOptDevice(info, 4, "device").value_or(x.device());
    c10::optional<at::ScalarType> amp;
    if (info[5].IsString()) amp = info[5].As<Napi::String>().Utf8Value() == "fp16" ? at::kHalf : at::kBFloat16;
    auto* w = new EvalWorker(info.Env(), m, x, y, k, dev, amp);
    auto p = w->promise();
    w->Queue();
    return p;
  });
}

}  // namespace

void InitTrainStep(Napi::Env env, Napi::Object exports) {
  TrainStepHandle::Init(env, exports);
  exports.Set("trainStepCreate", Napi::Function::New<Create>(env, "trainStepCreate"));
  exports.Set("trainStepRun", Napi::Function::New<Run>(env, "trainStepRun"));
  exports.Set("trainStepDispose", Napi::Function::New<DisposeStep>(env, "trainStepDispose"));
  exports.Set("evalStep", Napi::Function::New<Eval>(env, "evalStep"));
}

}  // namespace ictorch
