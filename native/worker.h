// worker.h: the one promise-returning AsyncWorker behind every async entry point (data(), forwardAsync,
// trainStep, evalStep). The work runs on a libuv worker thread, or on an executor that thread hands it to (the
// training thread, the forward threads), with the caller's grad mode and the process's intra-op thread count
// set there (both are thread-local in LibTorch, as autocast is; work that autocasts
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
#include <vector>
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

// Where a PromiseWorker's work runs instead of the libuv thread that picked it up: that thread hands the job
// over and waits for it (runAndWait), so jobs in flight never outnumber libuv's threads.
class Executor {
 public:
  virtual ~Executor() = default;
  // Queues `job` and then `done` without waiting for them; neither may throw. `done` runs on the same thread
  // right after `job`, once the executor is ready for another job.
  virtual void post(std::function<void()> job, std::function<void()> done = nullptr) = 0;

  // Runs `job` on one of the executor's threads, blocks the caller until it is done and rethrows its exception.
  void runAndWait(const std::function<void()>& job) {
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    std::exception_ptr error;
    post(
        [&] {
          try {
            job();
          } catch (...) {
            error = std::current_exception();
          }
        },
        [&] {
          std::lock_guard<std::mutex> l(m);
          finished = true;
          cv.notify_one();
        });
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return finished; });
    if (error) std::rethrow_exception(error);
  }
};

// Names the calling thread (Linux: what top -H, perf and /proc/<pid>/task/*/comm show; at most 15 characters).
void nameThisThread(const char* name);

// One thread that runs jobs in order. Why: the training and evaluation steps of a run follow one another, and
// on libuv's pool each landed on whichever of its threads was free. Every such thread keeps its own OpenMP
// team and its own warm per-thread allocations, so hopping between four of them cost a CPU ResNet-20 training
// step (batch 128) 1.75x its time with UV_THREADPOOL_SIZE=1 and 12,000-15,000 page faults per step
// (bench/RESULTS.md). Steps queued here always run on the same thread.
class SerialExecutor final : public Executor {
 public:
  explicit SerialExecutor(const char* name = nullptr) : name_(name) {}

  void post(std::function<void()> job, std::function<void()> done = nullptr) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
      jobs_.emplace_back(std::move(job), std::move(done));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    if (name_) nameThisThread(name_);
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !jobs_.empty(); });
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job.first();
      if (job.second) job.second();
    }
  }
  using Job = std::pair<std::function<void()>, std::function<void()>>;
  const char* name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::thread thread_;
};

// Threads that run forwards (forwardAsync, ScriptModule.forwardAsync), handed to the one that went idle last.
// Why: one request at a time on libuv's pool landed on whichever of its four threads woke first, and each
// thread that ran one kept an OpenMP team of its own. With more OpenMP threads than cores libgomp shortens its
// workers' spin-wait, so they sleep between parallel regions: a process serving ResNet-18 at batch 1 with
// forwardAsync took 31-34 ms per call against 24-26 ms here, level with forward on the JS thread (2 cores,
// bench/RESULTS.md). Requests in turn now keep one team. Concurrent requests still run in parallel: a new thread starts when none is idle, and since each job holds the libuv thread that
// queued it, there are never more of these threads than libuv's.
class WarmPool final : public Executor {
 public:
  explicit WarmPool(const char* name) : name_(name) {}

  void post(std::function<void()> job, std::function<void()> done = nullptr) override {
    std::lock_guard<std::mutex> lock(mu_);
    Slot* s;
    if (!idle_.empty()) {
      s = idle_.back();
      idle_.pop_back();
    } else {
      // Never destroyed, as the executors themselves: the process may exit while one waits.
      s = new Slot();
      std::thread([this, s] { loop(s); }).detach();
    }
    s->job = std::move(job);
    s->done = std::move(done);
    s->cv.notify_one();
  }

 private:
  struct Slot {
    std::condition_variable cv;
    std::function<void()> job, done;
  };

  void loop(Slot* s) {
    nameThisThread(name_);
    for (;;) {
      std::function<void()> job, done;
      {
        std::unique_lock<std::mutex> lock(mu_);
        s->cv.wait(lock, [s] { return static_cast<bool>(s->job); });
        job = std::move(s->job);
        done = std::move(s->done);
        s->job = nullptr;
        s->done = nullptr;
      }
      job();
      job = nullptr;
      {
        // Idle again before `done` tells the caller: a request that follows at once finds this thread.
        std::lock_guard<std::mutex> lock(mu_);
        idle_.push_back(s);
      }
      if (done) done();
    }
  }

  const char* name_;
  std::mutex mu_;
  std::vector<Slot*> idle_;  // the last one pushed went idle last
};

// The process's training thread (trainStep, evalStep, the collectives). Never destroyed: the process may exit
// while it waits.
inline SerialExecutor& trainingThread() {
  static SerialExecutor* executor = new SerialExecutor("ictorch-train");
  return *executor;
}

// The process's forward threads (see WarmPool).
inline WarmPool& forwardThreads() {
  static WarmPool* pool = new WarmPool("ictorch-forward");
  return *pool;
}

template <class Result>
class PromiseWorker final : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Resolve = std::function<Napi::Value(Napi::Env, Result&)>;

  PromiseWorker(Napi::Env env, std::string op, bool grad, InUse marks, Work work, Resolve resolve, Executor* on)
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
  Executor* on_;
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
Napi::Promise queuePromise(Napi::Env env, std::string op, bool grad, InUse marks, WorkFn&& work, ResolveFn&& resolve, Executor* on = nullptr) {
  using Result = std::decay_t<std::invoke_result_t<WorkFn>>;
  marks.take();
  auto* w = new PromiseWorker<Result>(env, std::move(op), grad, std::move(marks), std::forward<WorkFn>(work), std::forward<ResolveFn>(resolve), on);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace ictorch
