// distributed.cc: c10d process groups for data-parallel training across processes and machines, PyTorch's
// torch.distributed: a TCPStore rendezvous (rank 0 serves it at host:port), a Gloo process group over it,
// the collectives (all-reduce, broadcast, all-gather, barrier) and the training step's gradient averaging.
// Only this file includes c10d's and Gloo's headers; it is built with Gloo when LibTorch was built with it
// and Gloo's headers are found (CMakeLists.txt: ICTORCH_WITH_GLOO), and otherwise every entry point but
// processGroupBackends says that this build has no process-group backend.
//
// Every collective runs on the training thread (worker.h), after the steps queued before it: the processes
// of a group must issue collectives in one order, and the training step's own all-reduce is among them.
#include "distributed.h"
#include <chrono>
#include <cstdlib>
#include <sstream>
#include "tensor.h"
#include "worker.h"
#ifdef ICTORCH_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace ictorch {
namespace {

#ifdef ICTORCH_WITH_GLOO
c10d::ReduceOp reduceOp(ReduceKind k) {
  switch (k) {
    case ReduceKind::Sum: return c10d::ReduceOp::SUM;
    case ReduceKind::Product: return c10d::ReduceOp::PRODUCT;
    case ReduceKind::Min: return c10d::ReduceOp::MIN;
    case ReduceKind::Max: return c10d::ReduceOp::MAX;
  }
  return c10d::ReduceOp::SUM;
}

class GlooGroup final : public Group {
 public:
  GlooGroup(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::ProcessGroupGloo> pg, int rank, int size)
      : store_(std::move(store)), pg_(std::move(pg)), rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "gloo"; }
  void allReduce(at::Tensor& t, ReduceKind op) override {
    std::vector<at::Tensor> v{t};
    c10d::AllreduceOptions o;
    o.reduceOp = reduceOp(op);
    pg_->allreduce(v, o)->wait();
  }
  void broadcast(at::Tensor& t, int root) override {
    std::vector<at::Tensor> v{t};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    pg_->broadcast(v, o)->wait();
  }
  void allGather(std::vector<at::Tensor>& out, const at::Tensor& in) override {
    std::vector<std::vector<at::Tensor>> outs{out};
    std::vector<at::Tensor> ins{in};
    pg_->allgather(outs, ins)->wait();
    out = outs[0];
  }
  void barrier() override { pg_->barrier()->wait(); }

 private:
  c10::intrusive_ptr<c10d::Store> store_;  // the rendezvous store stays up for the group's life (rank 0 serves it)
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  int rank_, size_;
};
#endif

struct GroupOptions {
  std::string backend = "gloo", host = "127.0.0.1";
  int rank = 0, size = 1, port = 29500;
  int64_t timeoutMs = 30 * 60 * 1000;  // PyTorch's default process-group timeout
};

// Rendezvous and the group's connections: blocks until every rank has joined (or the timeout passes).
std::shared_ptr<Group> createGroup(const GroupOptions& o) {
#ifdef ICTORCH_WITH_GLOO
  auto timeout = std::chrono::milliseconds(o.timeoutMs);
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(o.port);
  so.isServer = o.rank == 0;
  so.numWorkers = static_cast<std::size_t>(o.size);
  so.waitWorkers = true;
  so.timeout = timeout;
  auto store = c10::make_intrusive<c10d::TCPStore>(o.host, so);
  auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
  // As torch.distributed: GLOO_SOCKET_IFNAME names the network interfaces to use (comma-separated), else
  // the address this host's name resolves to.
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname && *ifname) {
    std::stringstream names(ifname);
    for (std::string n; std::getline(names, n, ',');)
      if (!n.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(n));
  } else {
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank, o.size, opts);
  return std::make_shared<GlooGroup>(store, pg, o.rank, o.size);
#else
  throw ArgTypeError("this build of ictorch has no process-group backend: it was built without Gloo's headers "
                     "(install libgloo-dev, or use a LibTorch that ships them, and reinstall ictorch)");
#endif
}

class ProcessGroupHandle : public Handle<ProcessGroupHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Props props = baseMethods();
    props.push_back(InstanceMethod<&ProcessGroupHandle::Rank>("rank"));
    props.push_back(InstanceMethod<&ProcessGroupHandle::Size>("size"));
    props.push_back(InstanceMethod<&ProcessGroupHandle::Backend>("backend"));
    Napi::Function ctor = DefineClass(env, "ProcessGroupHandle", props);
    state(env).processGroupCtor = Napi::Persistent(ctor);
    exports.Set("ProcessGroupHandle", ctor);
  }
  explicit ProcessGroupHandle(const Napi::CallbackInfo& info) : Handle<ProcessGroupHandle>(info) {}
  ~ProcessGroupHandle() override { disposeNow(); }
  void own(std::shared_ptr<Group> g) {
    group = std::move(g);
    disposed_ = false;
  }
  std::shared_ptr<Group> group;

 protected:
  const char* noun() const override { return "process group"; }
  const void* inFlightKey() const override { return group.get(); }
  void release() override { group.reset(); }

 private:
  Napi::Value Rank(const Napi::CallbackInfo& info) {
    return guard(info, "ProcessGroup.rank", [&]() -> Napi::Value {
      checkLive("the process group");
      return Napi::Number::New(info.Env(), group->rank());
    });
  }
  Napi::Value Size(const Napi::CallbackInfo& info) {
    return guard(info, "ProcessGroup.size", [&]() -> Napi::Value {
      checkLive("the process group");
      return Napi::Number::New(info.Env(), group->size());
    });
  }
  Napi::Value Backend(const Napi::CallbackInfo& info) {
    return guard(info, "ProcessGroup.backend", [&]() -> Napi::Value {
      checkLive("the process group");
      return Napi::String::New(info.Env(), group->backend());
    });
  }
};

// The tensors of a collective, in place, as few contiguous buffers: tensors of one dtype and device that
// follow one another share a flat buffer of at most kBucketBytes (one collective per buffer instead of one
// per tensor, as DDP's buckets); a lone contiguous tensor is used as it is. `fn` runs the collective on each
// buffer; with `copyBack` the results are copied into the tensors.
constexpr int64_t kBucketBytes = 25 << 20;  // DDP's default bucket_cap_mb

template <class F>
void forEachBucket(const std::vector<at::Tensor>& ts, bool copyBack, F&& fn) {
  at::NoGradGuard noGrad;
  size_t i = 0;
  while (i < ts.size()) {
    size_t j = i + 1;
    int64_t bytes = static_cast<int64_t>(ts[i].nbytes());
    while (j < ts.size() && ts[j].scalar_type() == ts[i].scalar_type() && ts[j].device() == ts[i].device() &&
           bytes + static_cast<int64_t>(ts[j].nbytes()) <= kBucketBytes) {
      bytes += static_cast<int64_t>(ts[j].nbytes());
      ++j;
    }
    if (bytes == 0) {
      // nothing to exchange (empty tensors)
    } else if (j == i + 1 && ts[i].is_contiguous()) {
      at::Tensor t = ts[i];
      fn(t);
    } else {
      std::vector<at::Tensor> flats;
      for (size_t k = i; k < j; ++k) flats.push_back(ts[k].reshape({-1}));
      at::Tensor flat = at::cat(flats);
      fn(flat);
      if (copyBack) {
        int64_t off = 0;
        for (size_t k = i; k < j; ++k) {
          int64_t n = ts[k].numel();
          ts[k].copy_(flat.narrow(0, off, n).view(ts[k].sizes()));
          off += n;
        }
      }
    }
    i = j;
  }
}

// What every process must agree on before a collective moves data: which collective, with which options,
// on how many tensors of which dtypes, shapes and device types. Gloo aborts the whole process (an exception
// on its I/O thread, std::terminate) when processes send buffers of different sizes, so a mismatch is found
// first by all-reducing this 32-byte signature (the max of [n, h, -n, -h] is [n, h, -n, -h] on every process
// only when they all hold the same n and h) and thrown on every process alike.
void checkSameCall(Group& g, int64_t opCode, int64_t arg, const std::vector<at::Tensor>& ts) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the call's description
  auto mix = [&h](int64_t v) {
    h ^= static_cast<uint64_t>(v);
    h *= 1099511628211ull;
  };
  mix(opCode);
  mix(arg);
  for (const auto& t : ts) {
    mix(static_cast<int64_t>(t.scalar_type()));
    mix(static_cast<int64_t>(t.device().type()));
    mix(t.dim());
    for (int64_t d : t.sizes()) mix(d);
  }
  const int64_t n = static_cast<int64_t>(ts.size()), hv = static_cast<int64_t>(h >> 2);  // 62 bits: -hv fits
  at::Tensor sig = at::empty({4}, at::kLong);
  int64_t* v = sig.data_ptr<int64_t>();
  v[0] = n, v[1] = hv, v[2] = -n, v[3] = -hv;
  g.allReduce(sig, ReduceKind::Max);
  if (v[0] != -v[2] || v[1] != -v[3])
    throw ArgRangeError("the processes of the group made different calls (another collective, other options, or tensors of other "
                               "counts, dtypes, shapes or devices); every process must make the same calls in the same order");
}

// Signature op codes (with an argument: the reduce op, the source rank).
enum : int64_t { kOpAllReduce = 1, kOpBroadcast, kOpAllGather, kOpBarrier, kOpGradients };

ReduceKind parseReduce(const std::string& s, bool& average) {
  average = s == "avg";
  if (s == "sum" || s == "avg") return ReduceKind::Sum;
  if (s == "product") return ReduceKind::Product;
  if (s == "min") return ReduceKind::Min;
  if (s == "max") return ReduceKind::Max;
  throw ArgRangeError("op must be \"sum\", \"avg\", \"product\", \"min\" or \"max\", got \"" + s + "\"");
}

// The tensor-list argument of a collective: dense tensors, each written in place (markCollective's write marks
// refuse the call while anything else uses one).
std::vector<at::Tensor> argCollectiveTensors(const Napi::CallbackInfo& info, size_t i) {
  std::vector<at::Tensor> out = argTensorList(info, i, "tensors");
  for (size_t k = 0; k < out.size(); ++k)
    if (out[k].layout() != at::kStrided) throw ArgTypeError("collectives take dense tensors (item " + std::to_string(k) + " is not)");
  return out;
}

void markCollective(InUse& marks, const std::shared_ptr<Group>& g, const std::vector<at::Tensor>& ts) {
  marks.add(g.get(), "the process group", true);
  for (const auto& t : ts) markTensor(marks, t, "a tensor of the collective", true);
}

Napi::Value resolveUndefined(Napi::Env env, bool&) { return env.Undefined(); }

// processGroupCreate({backend, rank, worldSize, host, port, timeoutMs}) -> Promise<ProcessGroupHandle>
Napi::Value Create(const Napi::CallbackInfo& info) {
  return guard(info, "initProcessGroup", [&]() -> Napi::Value {
    if (!info[0].IsObject()) throw ArgTypeError("argument 'options' must be an object");
    Napi::Object o = info[0].As<Napi::Object>();
    GroupOptions g;
    auto intOf = [&](const char* k, int lo, int hi) {
      Napi::Value v = o.Get(k);
      double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!v.IsNumber() || d != static_cast<double>(static_cast<int64_t>(d)) || d < lo || d > hi)
        throw ArgRangeError(std::string(k) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      return static_cast<int64_t>(d);
    };
    g.backend = o.Get("backend").IsString() ? o.Get("backend").As<Napi::String>().Utf8Value() : "gloo";
    if (g.backend != "gloo") throw ArgRangeError("backend must be \"gloo\", got \"" + g.backend + "\"");
    g.size = static_cast<int>(intOf("worldSize", 1, 1 << 20));
    g.rank = static_cast<int>(intOf("rank", 0, g.size - 1));
    g.port = static_cast<int>(intOf("port", 1, 65535));
    g.timeoutMs = intOf("timeoutMs", 1, 1 << 30);
    if (!o.Get("host").IsString()) throw ArgTypeError("host must be a string");
    g.host = o.Get("host").As<Napi::String>().Utf8Value();
    InUse marks(info.Env(), "initProcessGroup");
    return queuePromise(info.Env(), "initProcessGroup", false, std::move(marks), [g] { return createGroup(g); },
                        [](Napi::Env env, std::shared_ptr<Group>& grp) -> Napi::Value {
                          Napi::Object obj = state(env).processGroupCtor.New({});
                          Napi::ObjectWrap<ProcessGroupHandle>::Unwrap(obj)->own(grp);
                          return obj;
                        });
  });
}

// processGroupBackends() -> the backends this build has (["gloo"] or []).
Napi::Value Backends(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env());
#ifdef ICTORCH_WITH_GLOO
  a.Set(0u, "gloo");
#endif
  return a;
}

// allReduce(group, tensors, op) -> Promise<void>: each tensor reduced over the group, in place.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  return guard(info, "allReduce", [&]() -> Napi::Value {
    auto g = groupOf(info.Env(), info[0], "group");
    auto ts = argCollectiveTensors(info, 1);
    bool average = false;
    ReduceKind op = parseReduce(argString(info, 2, "op"), average);
    for (const auto& t : ts)
      if (average && !at::isFloatingType(t.scalar_type()))
        throw ArgTypeError(std::string("op \"avg\" needs floating-point tensors, got ") + dtypeName(t.scalar_type()));
    InUse marks(info.Env(), "allReduce");
    markCollective(marks, g, ts);
    return queuePromise(info.Env(), "allReduce", false, std::move(marks),
                        [g, ts, op, average] {
                          checkSameCall(*g, kOpAllReduce, static_cast<int64_t>(op) * 2 + average, ts);
                          forEachBucket(ts, true, [&](at::Tensor& flat) {
                            g->allReduce(flat, op);
                            if (average) flat.div_(g->size());
                          });
                          return true;
                        },
                        resolveUndefined, &trainingThread());
  });
}

// broadcast(group, tensors, src) -> Promise<void>: every process's tensors become rank src's, in place.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  return guard(info, "broadcast", [&]() -> Napi::Value {
    auto g = groupOf(info.Env(), info[0], "group");
    auto ts = argCollectiveTensors(info, 1);
    int64_t src = argInt(info, 2, "src");
    if (src < 0 || src >= g->size()) throw ArgRangeError("src must be a rank in [0, " + std::to_string(g->size()) + "), got " + std::to_string(src));
    InUse marks(info.Env(), "broadcast");
    markCollective(marks, g, ts);
    return queuePromise(info.Env(), "broadcast", false, std::move(marks),
                        [g, ts, src] {
                          checkSameCall(*g, kOpBroadcast, src, ts);
                          forEachBucket(ts, true, [&](at::Tensor& flat) { g->broadcast(flat, static_cast<int>(src)); });
                          return true;
                        },
                        resolveUndefined, &trainingThread());
  });
}

// allGather(group, tensor) -> Promise<Tensor[]>: every rank's tensor, in rank order (each the same shape).
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  return guard(info, "allGather", [&]() -> Napi::Value {
    auto g = groupOf(info.Env(), info[0], "group");
    at::Tensor t = argTensor(info, 1, "tensor");
    if (t.layout() != at::kStrided) throw ArgTypeError("collectives take dense tensors");
    InUse marks(info.Env(), "allGather");
    marks.add(g.get(), "the process group", true);
    markTensor(marks, t, "tensor 'tensor'", false);
    return queuePromise(info.Env(), "allGather", false, std::move(marks),
                        [g, t] {
                          checkSameCall(*g, kOpAllGather, 0, {t});
                          at::Tensor in = t.contiguous();
                          std::vector<at::Tensor> out;
                          for (int r = 0; r < g->size(); ++r) out.push_back(at::empty_like(in, at::MemoryFormat::Contiguous));
                          g->allGather(out, in);
                          return out;
                        },
                        [](Napi::Env env, std::vector<at::Tensor>& out) -> Napi::Value { return wrapList(env, out); }, &trainingThread());
  });
}

// barrier(group) -> Promise<void>: resolves when every process of the group has reached it.
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  return guard(info, "barrier", [&]() -> Napi::Value {
    auto g = groupOf(info.Env(), info[0], "group");
    InUse marks(info.Env(), "barrier");
    marks.add(g.get(), "the process group", true);
    return queuePromise(info.Env(), "barrier", false, std::move(marks),
                        [g] {
                          checkSameCall(*g, kOpBarrier, 0, {});
                          g->barrier();
                          return true;
                        },
                        resolveUndefined, &trainingThread());
  });
}

}  // namespace

std::shared_ptr<Group> groupOf(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!ProcessGroupHandle::isHandle(v))
    throw ArgTypeError(std::string("argument '") + name + "' must be a ProcessGroup");
  ProcessGroupHandle* h = Napi::ObjectWrap<ProcessGroupHandle>::Unwrap(v.As<Napi::Object>());
  h->checkIdle(std::string("the process group"), false);
  return h->group;
}

bool averageGradients(Group& g, const std::vector<at::Tensor>& params, bool stop) {
  // The processes train the same parameters (a different model or optimiser on one of them is an error here,
  // not a Gloo abort); then one small all-reduce: which parameters have a gradient somewhere, and the stop votes.
  checkSameCall(g, kOpGradients, 0, params);
  const int64_t n = static_cast<int64_t>(params.size());
  at::Tensor votes = at::empty({n + 1}, at::kFloat);
  float* v = votes.data_ptr<float>();
  for (int64_t k = 0; k < n; ++k) v[k] = params[k].grad().defined() ? 1.0f : 0.0f;
  v[n] = stop ? 1.0f : 0.0f;
  g.allReduce(votes, ReduceKind::Sum);
  std::vector<at::Tensor> grads;
  for (int64_t k = 0; k < n; ++k) {
    if (v[k] == 0.0f) continue;
    at::Tensor p = params[k];
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  const double size = g.size();
  forEachBucket(grads, true, [&](at::Tensor& flat) {
    g.allReduce(flat, ReduceKind::Sum);
    flat.div_(size);
  });
  return v[n] > 0.0f;
}

void InitDistributed(Napi::Env env, Napi::Object exports) {
  ProcessGroupHandle::Init(env, exports);
  exports.Set("processGroupCreate", Napi::Function::New<Create>(env, "processGroupCreate"));
  exports.Set("processGroupBackends", Napi::Function::New<Backends>(env, "processGroupBackends"));
  exports.Set("allReduce", Napi::Function::New<AllReduce>(env, "allReduce"));
  exports.Set("broadcast", Napi::Function::New<Broadcast>(env, "broadcast"));
  exports.Set("allGather", Napi::Function::New<AllGather>(env, "allGather"));
  exports.Set("barrier", Napi::Function::New<Barrier>(env, "barrier"));
}

}  // namespace ictorch
