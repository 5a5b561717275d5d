// containers.h: Sequential (children in order) and Residual (post(body(x) + shortcut(x))), holding their
// children as Layers, so a whole network's forward is one C++ call. Children keep the names they are given
// ("0", "conv1", "layer1", "downsample"): the state-dict keys follow from them as in PyTorch.
#pragma once
#include <utility>
#include <vector>
#include "layer.h"

namespace ictorch::nn {

using NamedLayers = std::vector<std::pair<std::string, LayerPtr>>;

class SequentialImpl : public Layer {
 public:
  explicit SequentialImpl(const NamedLayers& children) {
    for (const auto& [name, child] : children) items.push_back(register_module(name, child));
  }
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor y = x;
    for (auto& m : items) y = m->forward(y);
    return y;
  }
  const char* kind() const override { return "sequential"; }
  LayerPtr clone() const override {
    NamedLayers children;
    for (const auto& item : named_children()) children.emplace_back(item.key(), std::static_pointer_cast<Layer>(item.value())->clone());
    auto copy = std::make_shared<SequentialImpl>(children);
    copyModesInto(*copy);
    return copy;
  }

  std::vector<LayerPtr> items;
};
TORCH_MODULE(Sequential);

// The body's and post's layers are registered directly under the unit (conv1, bn1, ..., relu) and the shortcut
// as "downsample", as torchvision names them; no shortcut means the identity.
class ResidualImpl : public Layer {
 public:
  ResidualImpl(const NamedLayers& body, LayerPtr shortcut, const NamedLayers& post) {
    for (const auto& [name, child] : body) {
      this->body.push_back(register_module(name, child));
      bodyNames.push_back(name);
    }
    if (shortcut) this->shortcut = register_module("downsample", std::move(shortcut));
    for (const auto& [name, child] : post) {
      this->post.push_back(register_module(name, child));
      postNames.push_back(name);
    }
  }
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor y = x;
    for (auto& m : body) y = m->forward(y);
    at::Tensor s = shortcut ? shortcut->forward(x) : x;
    TORCH_CHECK_VALUE(y.sizes().equals(s.sizes()), "residual body gives shape ", shapeOf(y), " but the shortcut gives ", shapeOf(s),
                      "; use a projection shortcut where the stride or width changes");
    y = y + s;
    for (auto& m : post) y = m->forward(y);
    return y;
  }
  const char* kind() const override { return "residual"; }
  LayerPtr clone() const override {
    auto copies = [](const std::vector<LayerPtr>& layers, const std::vector<std::string>& names) {
      NamedLayers out;
      for (size_t i = 0; i < layers.size(); i++) out.emplace_back(names[i], layers[i]->clone());
      return out;
    };
    auto copy = std::make_shared<ResidualImpl>(copies(body, bodyNames), shortcut ? shortcut->clone() : nullptr, copies(post, postNames));
    copyModesInto(*copy);
    return copy;
  }

  std::vector<LayerPtr> body, post;
  std::vector<std::string> bodyNames, postNames;
  LayerPtr shortcut;
};
TORCH_MODULE(Residual);

}  // namespace ictorch::nn
