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
    for (const auto& [name, child] : body) this->body.push_back(register_module(name, child));
    if (shortcut) this->shortcut = register_module("downsample", std::move(shortcut));
    for (const auto& [name, child] : post) this->post.push_back(register_module(name, child));
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
    // The children in registration order: the body, the shortcut ("downsample") if any, then post.
    NamedLayers copies[2];
    LayerPtr shortcutCopy;
    for (const auto& item : named_children()) {
      LayerPtr c = std::static_pointer_cast<Layer>(item.value())->clone();
      if (shortcut && item.key() == "downsample") shortcutCopy = std::move(c);
      else copies[copies[0].size() < body.size() ? 0 : 1].emplace_back(item.key(), std::move(c));
    }
    auto copy = std::make_shared<ResidualImpl>(copies[0], shortcutCopy, copies[1]);
    copyModesInto(*copy);
    return copy;
  }

  std::vector<LayerPtr> body, post;
  LayerPtr shortcut;
};
TORCH_MODULE(Residual);

}  // namespace ictorch::nn
