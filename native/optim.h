// optim.h: SGD (momentum, Nesterov, weight decay, dampening) over parameter groups, stepping all parameters
// of a group with LibTorch's multi-tensor (_foreach) kernels, or one parameter at a time when asked.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>
#include <memory>
#include <vector>
#include "handle.h"

namespace ictorch {

struct SGDGroup {
  std::vector<at::Tensor> params;
  std::vector<at::Tensor> momentumBuffers;  // undefined until the first step that has a gradient
  double lr = 0.1, momentum = 0, dampening = 0, weightDecay = 0;
  bool nesterov = false;
};

class SGD {
 public:
  std::vector<SGDGroup> groups;
  bool foreach = true;
  // One update from the parameters' current gradients. With `lrScale` (a 0-d tensor on the parameters'
  // device) the step reads the learning rate factor from device memory, so a captured CUDA graph can replay
  // it under a changing schedule: the effective lr of a group is group.lr * lrScale.
  void step(const at::Tensor& lrScale = at::Tensor());
  void zeroGrad(bool setToNone);
  bool buffersReady() const;
};

// The JS object owning an SGD optimiser (dispose(), isDisposed(); refused while a training step in flight uses it).
class OptimizerHandle : public Handle<OptimizerHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit OptimizerHandle(const Napi::CallbackInfo& info);
  ~OptimizerHandle() override { disposeNow(); }
  void own(std::shared_ptr<SGD> s) {
    sgd = std::move(s);
    disposed_ = false;
  }
  std::shared_ptr<SGD> sgd;

 protected:
  const char* noun() const override { return "optimizer"; }
  const void* inFlightKey() const override { return sgd.get(); }
  void release() override { sgd.reset(); }
};

// The optimiser passed as argument i: a TypeError if it is not one or was disposed, an InUseError while a
// training step in flight uses it.
std::shared_ptr<SGD> argOptimizer(const Napi::CallbackInfo& info, size_t i, const char* name);
OptimizerHandle* argOptimizerHandle(const Napi::CallbackInfo& info, size_t i, const char* name);

}  // namespace ictorch
