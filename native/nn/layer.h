// layer.h: the one base of every native layer ictorch runs: a torch::nn::Module with a virtual forward.
// A whole network (containers of layers) runs in C++ through this one virtual call per layer, on any thread,
// so forwardAsync, the training step and the evaluation step never call back into JS.
//
// Layers follow the C++ frontend's idiom (torch/csrc/api/include/torch/nn/modules/linear.h): an options
// struct with defaults and fluent setters (TORCH_ARG), an `...Impl` class whose constructor calls reset(),
// reset() registering the parameters and buffers and calling resetParameters() (their initial values), a
// forward delegating to the functional form, and the holder type from TORCH_MODULE. Adding a layer is one
// header in native/nn/ plus one entry in the kind table of native/layers.cc.
#pragma once
#include <torch/torch.h>
#include <memory>
#include <string>

namespace ictorch::nn {

class Layer;
using LayerPtr = std::shared_ptr<Layer>;

class Layer : public torch::nn::Module {
 public:
  using torch::nn::Module::Module;
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  // The kind JS sees: "conv2d", "ic", "sequential", ...
  virtual const char* kind() const = 0;
  // Registers parameters and buffers from the options, then initParameters() (as torch's Cloneable::reset).
  virtual void reset() = 0;
  // Gives parameters and buffers their initial values (PyTorch's reset_parameters(); a no-op without any).
  virtual void resetParameters() {}
  // A deep copy, as copy.deepcopy in Python (torch::nn::Cloneable::clone in C++): the same options and
  // training mode, parameters and buffers of its own holding copies of these (same dtype, device, memory
  // format, requires_grad, and a copy of any gradient), children copied likewise (a child registered twice
  // is copied twice). A generator given as an option stays shared. Draws no random numbers.
  virtual LayerPtr clone() const = 0;

 protected:
  // What reset() calls: resetParameters(), except while a clone is being built (its values are copied in).
  void initParameters() {
    if (!building()) resetParameters();
  }
  // Builds a copy of `self` from its options and copies the state in (the clone() of every leaf layer).
  template <class Self>
  static LayerPtr cloneLeaf(const Self& self) {
    std::shared_ptr<Self> copy;
    {
      Building scope;
      copy = std::make_shared<Self>(self.options);
    }
    self.copyStateInto(*copy);
    copy->train(self.is_training());
    return copy;
  }
  // Copies this layer's own parameters and buffers (values, requires_grad, gradients) into `copy`'s.
  void copyStateInto(Layer& copy) const;
  // Gives each module under `copy` (built like this one) the training mode of its counterpart here.
  void copyModesInto(Layer& copy) const;

 private:
  struct Building {
    Building() { building() = true; }
    ~Building() { building() = false; }
  };
  static bool& building() {
    thread_local bool flag = false;
    return flag;
  }
};

inline void Layer::copyStateInto(Layer& copy) const {
  at::NoGradGuard noGrad;
  auto copyAll = [](const torch::OrderedDict<std::string, at::Tensor>& from, torch::OrderedDict<std::string, at::Tensor> to) {
    TORCH_INTERNAL_ASSERT(from.size() == to.size(), "clone: the copy has ", to.size(), " tensors where the layer has ", from.size());
    for (const auto& item : from) {
      const at::Tensor& src = item.value();
      at::Tensor dst = to[item.key()];
      dst.set_data(src.detach().clone(at::MemoryFormat::Preserve));
      if (dst.requires_grad() != src.requires_grad()) dst.set_requires_grad(src.requires_grad());
      if (src.grad().defined()) dst.mutable_grad() = src.grad().detach().clone(at::MemoryFormat::Preserve);
    }
  };
  copyAll(named_parameters(false), copy.named_parameters(false));
  copyAll(named_buffers(false), copy.named_buffers(false));
}

inline void Layer::copyModesInto(Layer& copy) const {
  // train() sets a module's whole subtree, so parents go first and each child then sets its own (pre-order).
  auto from = modules(/*include_self=*/true);
  auto to = copy.modules(/*include_self=*/true);
  TORCH_INTERNAL_ASSERT(from.size() == to.size(), "clone: the copy has ", to.size(), " modules where the layer has ", from.size());
  for (size_t i = 0; i < from.size(); i++) to[i]->train(from[i]->is_training());
}

// "[2, 3, 32, 32]", for messages.
inline std::string shapeOf(const at::Tensor& x) { return "[" + c10::Join(", ", x.sizes()) + "]"; }

}  // namespace ictorch::nn
