// distributed.h: a c10d process group as the rest of the addon sees it (the collectives' entry points and the
// training step's gradient averaging), without c10d's or Gloo's headers, which only distributed.cc includes.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>
#include <memory>
#include <string>
#include <vector>

namespace ictorch {

enum class ReduceKind { Sum, Product, Min, Max };

// One process group: every call blocks until the collective is done on this process, and every process of
// the group must make the same calls in the same order (c10d's rule).
class Group {
 public:
  virtual ~Group() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* backend() const = 0;
  // In place on one dense contiguous tensor.
  virtual void allReduce(at::Tensor& t, ReduceKind op) = 0;
  virtual void broadcast(at::Tensor& t, int root) = 0;
  // out[r] = rank r's `in` (out: size() tensors shaped like `in`).
  virtual void allGather(std::vector<at::Tensor>& out, const at::Tensor& in) = 0;
  virtual void barrier() = 0;
};

// The process group a JS value holds (a ProcessGroupHandle), refused when it has been destroyed.
std::shared_ptr<Group> groupOf(Napi::Env env, const Napi::Value& v, const char* name);

// The data-parallel step's gradient exchange, after backward and before the update: every parameter's
// gradient becomes the mean over the group's processes. A parameter that got no gradient on some processes
// counts as zero there; one that got none anywhere keeps none (the optimiser skips it, as it would alone).
// `stop` is this process's vote to stop the run; the result is true when any process voted so, the same on all.
bool averageGradients(Group& g, const std::vector<at::Tensor>& params, bool stop);

}  // namespace ictorch
