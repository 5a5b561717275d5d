// worker.h: the one promise-returning AsyncWorker behind every async entry point (data(), forwardAsync,
// trainStep, evalStep). The work runs on a libuv worker thread with the caller's grad mode and the process's
// intra-op thread count set there (both are thread-local in LibTorch, as autocast is; work that autocasts
// sets it inside, see AutocastScope);
// its error keeps its JS type (TypeError, RangeError, Error) across the thread; the objects it uses are
// marked in flight (InUse) until the promise settles, so nothing changes them meanwhile.
//
//   return queuePromise(env, "forwardAsync", grad, std::move(marks),
//                       [m, x] { return m->forward(x); },                       // worker thread: no N-API
//                       [](Napi::Env env, at::Tensor& y) { return TensorHandle::Wrap(env, y); });  // JS thread
#pragma once
#include <ATen/ATen.h>
#include <functional>
#include <type_traits>
#include <utility>
#include "errors.h"
#include "handle.h"

namespace ictorch {

// OpenMP's thread count is per calling thread: setNumThreads (and ICTORCH_NUM_THREADS at load) set it on the
// JS thread, and a libuv thread would otherwise run OpenMP regions (oneDNN's convolutions call OpenMP
// directly) with every core. This applies the process's setting to the calling thread, once per change
// (runtime.cc: at::set_num_threads also rebuilds a thread pool, so it is not called on every task).
void applyIntraOpThreads();

template <class Result>
class PromiseWorker final : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Resolve = std::function<Napi::Value(Napi::Env, Result&)>;

  PromiseWorker(Napi::Env env, std::string op, bool grad, InUse marks, Work work, Resolve resolve)
      : Napi::AsyncWorker(env, ("ictorch." + op).c_str()),
        op_(std::move(op)),
        grad_(grad),
        marks_(std::move(marks)),
        work_(std::move(work)),
        resolve_(std::move(resolve)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    error_ = capture([&] {
      applyIntraOpThreads();
      at::AutoGradMode mode(grad_);
      result_ = work_();
    });
    work_ = nullptr;  // the inputs it captured are freed here, off the JS thread
  }

  void OnOK() override {
    Napi::Env env = Env();
    marks_.release();
    if (error_.failed) return deferred_.Reject(makeError(env, op_, error_).Value());
    try {
      deferred_.Resolve(resolve_(env, result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(makeError(env, op_, classifyCurrentException()).Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    marks_.release();
    deferred_.Reject(e.Value());
  }

 private:
  std::string op_;
  bool grad_;
  InUse marks_;
  Work work_;
  Resolve resolve_;
  Result result_{};
  CapturedError error_;
  Napi::Promise::Deferred deferred_;
};

// Marks what the call uses (marks.take() throws, synchronously, if something is busy), queues `work` on a
// worker thread and returns the promise that `resolve` (run on the JS thread) settles.
template <class WorkFn, class ResolveFn>
Napi::Promise queuePromise(Napi::Env env, std::string op, bool grad, InUse marks, WorkFn&& work, ResolveFn&& resolve) {
  using Result = std::decay_t<std::invoke_result_t<WorkFn>>;
  marks.take();
  auto* w = new PromiseWorker<Result>(env, std::move(op), grad, std::move(marks), std::forward<WorkFn>(work), std::forward<ResolveFn>(resolve));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace ictorch
