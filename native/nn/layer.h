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

class Layer : public torch::nn::Module {
 public:
  using torch::nn::Module::Module;
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  // The kind JS sees: "conv2d", "ic", "sequential", ...
  virtual const char* kind() const = 0;
  // Registers parameters and buffers from the options, then resetParameters() (as torch's Cloneable::reset).
  virtual void reset() = 0;
  // Gives parameters and buffers their initial values (PyTorch's reset_parameters(); a no-op without any).
  virtual void resetParameters() {}
};

using LayerPtr = std::shared_ptr<Layer>;

// "[2, 3, 32, 32]", for messages.
inline std::string shapeOf(const at::Tensor& x) { return "[" + c10::Join(", ", x.sizes()) + "]"; }

}  // namespace ictorch::nn
