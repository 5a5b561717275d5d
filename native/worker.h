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
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
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

// Routes LibTorch's warnings on the calling thread to ictorch's handler (runtime.cc: each distinct warning
// printed once); c10 keeps the handler per thread. Cheap after the first call on a thread.
void installWarningHandler();

// One thread that runs jobs in order; runAndWait blocks the caller until its job is done and rethrows its
// exception. Why: the training and evaluation steps of a run follow one another, and on libuv's pool each
// landed on whichever of its threads was free. Every such thread keeps its own OpenMP team and its own warm
// per-thread allocations, so hopping between four of them cost a CPU ResNet-20 training step (batch 128)
// 1.75x its time with UV_THREADPOOL_SIZE=1 and 12,000-15,000 page faults per step (bench/RESULTS.md). Steps
// queued here always run on the same thread; the libuv thread that queued one waits for it (one per step in
// flight). forwardAsync and data() stay on libuv's pool, so a service's concurrent requests run in parallel.
class SerialExecutor {
 public:
  void runAndWait(const std::function<void()>& job) {
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    std::exception_ptr error;
    post([&] {
      try {
        job();
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard<std::mutex> l(m);
      finished = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return finished; });
    if (error) std::rethrow_exception(error);
  }

  // Queues a job without waiting for it. The job must not throw.
  void post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !jobs_.empty(); });
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::thread thread_;
};

// The process's training thread (trainStep, evalStep). Never destroyed: the process may exit while it waits.
inline SerialExecutor& trainingThread() {
  static SerialExecutor* executor = new SerialExecutor();
  return *executor;
}

template <class Result>
class PromiseWorker final : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Resolve = std::function<Napi::Value(Napi::Env, Result&)>;

  PromiseWorker(Napi::Env env, std::string op, bool grad, InUse marks, Work work, Resolve resolve, SerialExecutor* on)
      : Napi::AsyncWorker(env, ("ictorch." + op).c_str()),
        op_(std::move(op)),
        grad_(grad),
        on_(on),
        marks_(std::move(marks)),
        work_(std::move(work)),
        resolve_(std::move(resolve)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    // Grad mode, the intra-op thread count and the warning handler are thread-local: set on the thread that
    // runs the work.
    auto body = [&] {
      applyIntraOpThreads();
      installWarningHandler();
      at::AutoGradMode mode(grad_);
      result_ = work_();
    };
    error_ = capture([&] { on_ ? on_->runAndWait(body) : body(); });
    work_ = nullptr;  // the inputs it captured are released here, off the JS thread (marked storages: at OnOK)
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
  SerialExecutor* on_;
  InUse marks_;
  Work work_;
  Resolve resolve_;
  Result result_{};
  CapturedError error_;
  Napi::Promise::Deferred deferred_;
};

// Marks what the call uses (marks.take() throws, synchronously, if something is busy), queues `work` on a
// worker thread (on the executor `on` when given) and returns the promise that `resolve` (run on the JS
// thread) settles.
template <class WorkFn, class ResolveFn>
Napi::Promise queuePromise(Napi::Env env, std::string op, bool grad, InUse marks, WorkFn&& work, ResolveFn&& resolve, SerialExecutor* on = nullptr) {
  using Result = std::decay_t<std::invoke_result_t<WorkFn>>;
  marks.take();
  auto* w = new PromiseWorker<Result>(env, std::move(op), grad, std::move(marks), std::forward<WorkFn>(work), std::forward<ResolveFn>(resolve), on);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace ictorch
