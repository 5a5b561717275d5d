// optim.h: the optimisers (SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam, Adadelta) behind one base class,
// `Optimizer`, so the native training step (train_step.cc) calls any of them. Each steps all parameters of a group with
// LibTorch's multi-tensor (_foreach) kernels, or one parameter at a time when asked; the maths follows PyTorch's
// torch/optim/{sgd,adam,adamw,rmsprop,adagrad,adamax,nadam,radam,adadelta}.py operation by operation, so steps equal PyTorch's.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>
#include <memory>
#include <string>
#include <vector>
#include "handle.h"

namespace ictorch {

// Hyper-parameters of one parameter group; each optimiser reads the fields it knows.
struct GroupOptions {
  double lr = 1e-3, momentum = 0, dampening = 0, weightDecay = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double alpha = 0.99, lrDecay = 0, initialAccumulatorValue = 0;  // RMSprop; Adagrad
  double rho = 0.9, momentumDecay = 4e-3;                           // Adadelta; NAdam
  bool nesterov = false, amsgrad = false, maximize = false, centered = false;
  bool decoupledWeightDecay = false;  // NAdam, RAdam (PyTorch 2.x): p *= 1 - lr·wd instead of the L2 penalty

  // Whether every hyper-parameter but the learning rate is the same (a captured CUDA graph holds them all).
  bool sameExceptLr(const GroupOptions& b) const {
    return momentum == b.momentum && dampening == b.dampening && weightDecay == b.weightDecay && beta1 == b.beta1 && beta2 == b.beta2 &&
           eps == b.eps && alpha == b.alpha && lrDecay == b.lrDecay && initialAccumulatorValue == b.initialAccumulatorValue && rho == b.rho &&
           momentumDecay == b.momentumDecay && nesterov == b.nesterov && amsgrad == b.amsgrad && maximize == b.maximize && centered == b.centered &&
           decoupledWeightDecay == b.decoupledWeightDecay;
  }
};

// A parameter group: its parameters, hyper-parameters and per-parameter state. The state is a list of
// named slots (the optimiser's `slotNames()`, PyTorch's state keys); slots[s][k] is slot s of parameter k,
// undefined until that parameter's first step with a gradient.
struct ParamGroup {
  std::vector<at::Tensor> params;
  GroupOptions o;
  std::vector<std::vector<at::Tensor>> slots;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update from the parameters' current gradients (parameters without one are skipped). With `lrScale`
  // (a 0-d float tensor on the parameters' device) every learning rate is multiplied by that device value,
  // and nothing is read back to the host: a captured CUDA graph can replay the step under a changing
  // schedule (the effective lr of a group is group.lr * lrScale).
  virtual void step(const at::Tensor& lrScale = at::Tensor()) = 0;
  // PyTorch's names of the per-parameter state slots ("momentum_buffer"; "step", "exp_avg", ...).
  virtual std::vector<std::string> slotNames(const GroupOptions& o) const = 0;
  // Throws ArgRangeError for hyper-parameters this optimiser rejects (as PyTorch's constructor does).
  virtual void check(const GroupOptions& o) const = 0;
  virtual const char* name() const = 0;
  // Creates a new group's state where the optimiser does so eagerly (Adagrad, as PyTorch's constructor).
  virtual void initState(ParamGroup&) const {}

  void zeroGrad(bool setToNone);
  void addGroup(ParamGroup g);
  size_t numGroups() const { return groups.size(); }
  double lr(size_t group) const { return groups.at(group).o.lr; }
  void setLr(size_t group, double lr) { groups.at(group).o.lr = lr; }
  // Every parameter of every group, in order (PyTorch's state-dict numbering).
  std::vector<at::Tensor> parameters() const;

  std::vector<ParamGroup> groups;
  bool foreach = true;
};

// PyTorch's SGD: d = g + wd·p; buf = μ·buf + (1 - dampening)·d (buf = d at first); d = d + μ·buf (Nesterov)
// or buf; p -= lr·d.
class SGD : public Optimizer {
 public:
  void step(const at::Tensor& lrScale = at::Tensor()) override;
  std::vector<std::string> slotNames(const GroupOptions& o) const override;
  void check(const GroupOptions& o) const override;
  const char* name() const override { return "SGD"; }
};

// PyTorch's Adam (decoupled = false: L2 penalty added to the gradient) and AdamW (decoupled = true:
// p *= 1 - lr·wd before the update), with amsgrad and maximize.
class Adam : public Optimizer {
 public:
  explicit Adam(bool decoupled) : decoupled_(decoupled) {}
  void step(const at::Tensor& lrScale = at::Tensor()) override;
  std::vector<std::string> slotNames(const GroupOptions& o) const override;
  void check(const GroupOptions& o) const override;
  const char* name() const override { return decoupled_ ? "AdamW" : "Adam"; }

 private:
  bool decoupled_;
};

// PyTorch's RMSprop: v = α·v + (1 - α)·g²; with centered, m = α·m + (1 - α)·g and the denominator is
// sqrt(v - m²) + eps, else sqrt(v) + eps; with momentum, buf = μ·buf + g / denom and p -= lr·buf, else
// p -= lr·g / denom. No value is read back to the host, so the step is capturable as it is.
class RMSprop : public Optimizer {
 public:
  void step(const at::Tensor& lrScale = at::Tensor()) override;
  std::vector<std::string> slotNames(const GroupOptions& o) const override;
  void check(const GroupOptions& o) const override;
  const char* name() const override { return "RMSprop"; }
};

// PyTorch's Adagrad: sum += g²; p -= clr·g / (sqrt(sum) + eps), clr = lr / (1 + (step - 1)·lrDecay). Its state
// exists from construction (step 0 and sum = initialAccumulatorValue for every parameter), as PyTorch's.
class Adagrad : public Optimizer {
 public:
  void step(const at::Tensor& lrScale = at::Tensor()) override;
  std::vector<std::string> slotNames(const GroupOptions& o) const override;
  void check(const GroupOptions& o) const override;
  const char* name() const override { return "Adagrad"; }
  void initState(ParamGroup& g) const override;
};

// PyTorch's Adamax: m = β1·m + (1 - β1)·g; u = max(β2·u, |g| + eps); p -= lr / (1 - β1^t) · m / u.
class Adamax : public Optimizer {
 public:
  void step(const at::Tensor& lrScale = at::Tensor()) override;
  std::vector<std::string> slotNames(const GroupOptions& o) const override;
  void check(const GroupOptions& o) const override;
  const char* name() const override { return "Adamax"; }
};

// PyTorch's NAdam (Adam with Nesterov momentum, Dozat): momentum coefficients μ_t = β1·(1 - ½·0.96^(t·ψ)), their
// running product kept as state `mu_product`; p -= lr·(1 - μ_t)/(1 - Πμ)·g/d + lr·μ_{t+1}/(1 - Πμ·μ_{t+1})·m/d,
// d = sqrt(v / (1 - β2^t)) + eps. With decoupledWeightDecay (PyTorch 2.x), p *= 1 - lr·wd instead of the L2 penalty.
class NAdam : public Optimizer {
 public:
  void step(const at::Tensor& lrScale = at::Tensor()) override;
  std::vector<std::string> slotNames(const GroupOptions& o) const override;
  void check(const GroupOptions& o) const override;
  const char* name() const override { return "NAdam"; }
};

// PyTorch's RAdam (rectified Adam, Liu et al.): while the variance of the adaptive rate is intractable (ρ_t <= 5) the
// step is SGD with bias-corrected momentum, after that Adam's step times the rectification term r_t.
class RAdam : public Optimizer {
 public:
  void step(const at::Tensor& lrScale = at::Tensor()) override;
  std::vector<std::string> slotNames(const GroupOptions& o) const override;
  void check(const GroupOptions& o) const override;
  const char* name() const override { return "RAdam"; }
};

// PyTorch's Adadelta: v = ρ·v + (1 - ρ)·g²; δ = sqrt(u + eps) / sqrt(v + eps)·g; u = ρ·u + (1 - ρ)·δ²; p -= lr·δ. No
// value is read back to the host, so the step is capturable as it is.
class Adadelta : public Optimizer {
 public:
  void step(const at::Tensor& lrScale = at::Tensor()) override;
  std::vector<std::string> slotNames(const GroupOptions& o) const override;
  void check(const GroupOptions& o) const override;
  const char* name() const override { return "Adadelta"; }
};

// The JS object owning an optimiser (dispose(), isDisposed(); refused while a training step in flight uses it).
class OptimizerHandle : public Handle<OptimizerHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit OptimizerHandle(const Napi::CallbackInfo& info);
  ~OptimizerHandle() override { disposeNow(); }
  void own(std::shared_ptr<Optimizer> o) {
    optimizer = std::move(o);
    disposed_ = false;
  }
  std::shared_ptr<Optimizer> optimizer;

 protected:
  const char* noun() const override { return "optimizer"; }
  const void* inFlightKey() const override { return optimizer.get(); }
  void release() override { optimizer.reset(); }
};

// The optimiser passed as argument i: a TypeError if it is not one or was disposed, an InUseError while a
// training step in flight uses it.
std::shared_ptr<Optimizer> argOptimizer(const Napi::CallbackInfo& info, size_t i, const char* name);
OptimizerHandle* argOptimizerHandle(const Napi::CallbackInfo& info, size_t i, const char* name);

}  // namespace ictorch
