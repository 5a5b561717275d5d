// optim.cc: the optimisers' updates (SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam, Adadelta) with multi-tensor
// kernels, gradient clipping, and the JS handle (create, step, zeroGrad, group options, state).
#include "optim.h"
#include <cmath>
#include "compat.h"
#include "tensor.h"

namespace ictorch {

// ---------------------------------------------------------------- Optimizer (shared)

void Optimizer::zeroGrad(bool setToNone) {
  for (auto& g : groups)
    for (auto& p : g.params) {
      if (!p.grad().defined()) continue;
      if (setToNone) {
        p.mutable_grad() = at::Tensor();
      } else {
        p.mutable_grad().detach_();
        p.mutable_grad().zero_();
      }
    }
}

void Optimizer::addGroup(ParamGroup g) {
  check(g.o);
  for (const auto& p : g.params)
    for (const auto& other : groups)
      for (const auto& q : other.params)
        if (p.unsafeGetTensorImpl() == q.unsafeGetTensorImpl()) throw ArgRangeError("some parameters appear in more than one parameter group");
  g.slots.assign(slotNames(g.o).size(), std::vector<at::Tensor>(g.params.size()));
  initState(g);
  groups.push_back(std::move(g));
}

std::vector<at::Tensor> Optimizer::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& g : groups) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

namespace {

// The parameters of a group that have a gradient, with their positions in the group.
struct WithGrad {
  std::vector<at::Tensor> params, grads;
  std::vector<size_t> index;
};

WithGrad withGrad(const ParamGroup& g) {
  WithGrad w;
  for (size_t k = 0; k < g.params.size(); ++k) {
    if (!g.params[k].grad().defined()) continue;
    w.params.push_back(g.params[k]);
    w.grads.push_back(g.params[k].grad());
    w.index.push_back(k);
  }
  return w;
}

// Makes sure the group has as many slot lists as the optimiser names (a group whose options changed, e.g.
// amsgrad turned on, gains the new slots).
void ensureSlots(ParamGroup& g, size_t n) {
  if (g.slots.size() < n) g.slots.resize(n, std::vector<at::Tensor>(g.params.size()));
}

}  // namespace

// ---------------------------------------------------------------- SGD

std::vector<std::string> SGD::slotNames(const GroupOptions&) const { return {"momentum_buffer"}; }

void SGD::check(const GroupOptions& o) const {
  if (!(o.lr >= 0)) throw ArgRangeError("lr must be >= 0, got " + std::to_string(o.lr));
  if (!(o.momentum >= 0)) throw ArgRangeError("momentum must be >= 0, got " + std::to_string(o.momentum));
  if (!(o.weightDecay >= 0)) throw ArgRangeError("weightDecay must be >= 0, got " + std::to_string(o.weightDecay));
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0)) throw ArgRangeError("Nesterov momentum needs momentum > 0 and dampening 0");
}

// As torch/optim/sgd.py (_multi_tensor_sgd / _single_tensor_sgd).
void SGD::step(const at::Tensor& lrScale) {
  at::NoGradGuard noGrad;
  for (auto& g : groups) {
    ensureSlots(g, 1);
    auto& momentumBuffers = g.slots[0];
    WithGrad w = withGrad(g);
    if (w.params.empty()) continue;
    auto& params = w.params;
    auto& grads = w.grads;
    auto& index = w.index;
    std::vector<at::Tensor> d;
    const GroupOptions& o = g.o;
    if (foreach) {
      if (o.maximize) grads = at::_foreach_neg(grads);
      d = o.weightDecay != 0 ? at::_foreach_add(grads, params, o.weightDecay) : grads;
      if (o.momentum != 0) {
        // Buffers that exist get buf = μ·buf + (1 - dampening)·d; a parameter's first step sets buf = d.
        std::vector<at::Tensor> bufs, oldBufs, oldD;
        for (size_t j = 0; j < index.size(); ++j) {
          auto& b = momentumBuffers[index[j]];
          if (!b.defined()) {
            b = d[j].detach().clone();
          } else {
            oldBufs.push_back(b);
            oldD.push_back(d[j]);
          }
          bufs.push_back(b);
        }
        if (!oldBufs.empty()) {
          at::_foreach_mul_(oldBufs, o.momentum);
          at::_foreach_add_(oldBufs, oldD, 1.0 - o.dampening);
        }
        d = o.nesterov ? at::_foreach_add(d, bufs, o.momentum) : bufs;
      }
      if (lrScale.defined()) {
        std::vector<at::Tensor> scaled = at::_foreach_mul(d, o.lr);
        compat::foreachMulTensor_(scaled, lrScale);
        at::_foreach_sub_(params, scaled);
      } else {
        at::_foreach_add_(params, d, -o.lr);
      }
    } else {
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor gj = o.maximize ? grads[j].neg() : grads[j];
        at::Tensor dj = o.weightDecay != 0 ? gj.add(params[j], o.weightDecay) : gj;
        if (o.momentum != 0) {
          auto& b = momentumBuffers[index[j]];
          if (!b.defined()) b = dj.detach().clone();
          else b.mul_(o.momentum).add_(dj, 1.0 - o.dampening);
          dj = o.nesterov ? dj.add(b, o.momentum) : b;
        }
        if (lrScale.defined()) params[j].sub_(dj.mul(o.lr).mul_(lrScale));
        else params[j].add_(dj, -o.lr);
      }
    }
  }
}

// ---------------------------------------------------------------- Adam / AdamW

std::vector<std::string> Adam::slotNames(const GroupOptions& o) const {
  if (o.amsgrad) return {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"step", "exp_avg", "exp_avg_sq"};
}

void Adam::check(const GroupOptions& o) const {
  if (!(o.lr >= 0)) throw ArgRangeError("lr must be >= 0, got " + std::to_string(o.lr));
  if (!(o.eps >= 0)) throw ArgRangeError("eps must be >= 0, got " + std::to_string(o.eps));
  if (!(o.beta1 >= 0 && o.beta1 < 1)) throw ArgRangeError("betas[0] must be in [0, 1), got " + std::to_string(o.beta1));
  if (!(o.beta2 >= 0 && o.beta2 < 1)) throw ArgRangeError("betas[1] must be in [0, 1), got " + std::to_string(o.beta2));
  if (!(o.weightDecay >= 0)) throw ArgRangeError("weightDecay must be >= 0, got " + std::to_string(o.weightDecay));
}

// As torch/optim/adam.py and adamw.py (PyTorch 1.13): `_multi_tensor_adam(w)` with foreach, else
// `_single_tensor_adam(w)`, both in their non-capturable form (bias corrections computed on the host from
// a CPU step counter), on the CPU. On CUDA, or when a device learning-rate scale is given, the step is
// PyTorch's capturable form: step counters live on the device and the bias corrections are device tensors,
// so no value is read back to the host and a CUDA graph can replay the step.
void Adam::step(const at::Tensor& lrScale) {
  at::NoGradGuard noGrad;
  for (auto& g : groups) {
    const GroupOptions& o = g.o;
    ensureSlots(g, slotNames(o).size());
    WithGrad w = withGrad(g);
    if (w.params.empty()) continue;
    const bool capturable = lrScale.defined() || w.params[0].is_cuda();
    // Lazy state: step 0 (float32, on the CPU, or on the device when capturable), moments zero.
    std::vector<at::Tensor> steps, expAvgs, expAvgSqs, maxExpAvgSqs;
    for (size_t j = 0; j < w.index.size(); ++j) {
      const size_t k = w.index[j];
      const at::Tensor& p = w.params[j];
      auto& step = g.slots[0][k];
      if (!step.defined()) step = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(capturable ? p.device() : at::Device(at::kCPU)));
      else if (capturable && step.device() != p.device()) step = step.to(p.device());
      else if (!capturable && !step.device().is_cpu()) step = step.cpu();
      for (size_t s = 1; s < g.slots.size(); ++s)
        if (!g.slots[s][k].defined()) g.slots[s][k] = at::zeros_like(p, at::MemoryFormat::Preserve);
      steps.push_back(step);
      expAvgs.push_back(g.slots[1][k]);
      expAvgSqs.push_back(g.slots[2][k]);
      if (o.amsgrad) maxExpAvgSqs.push_back(g.slots[3][k]);
    }
    auto& params = w.params;
    const double b1 = o.beta1, b2 = o.beta2;

    if (capturable) {
      // lr as a device value: lr · lrScale, or the plain number.
      auto lrT = [&](const at::Tensor& like) { return lrScale.defined() ? lrScale.to(like.options().dtype(at::kFloat)).mul(o.lr) : at::Tensor(); };
      std::vector<at::Tensor> grads = o.maximize ? at::_foreach_neg(w.grads) : w.grads;
      at::_foreach_add_(steps, 1);
      if (!decoupled_ && o.weightDecay != 0) grads = at::_foreach_add(grads, params, o.weightDecay);
      if (decoupled_ && o.weightDecay != 0) {
        if (lrScale.defined()) compat::foreachMulTensor_(params, lrScale.mul(-o.lr * o.weightDecay).add_(1));
        else at::_foreach_mul_(params, 1 - o.lr * o.weightDecay);
      }
      at::_foreach_mul_(expAvgs, b1);
      at::_foreach_add_(expAvgs, grads, 1 - b1);
      at::_foreach_mul_(expAvgSqs, b2);
      at::_foreach_addcmul_(expAvgSqs, grads, grads, 1 - b2);
      if (o.amsgrad) at::_foreach_maximum_(maxExpAvgSqs, expAvgSqs);
      const auto& second = o.amsgrad ? maxExpAvgSqs : expAvgSqs;
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor bc1 = at::pow(b1, steps[j]).neg_().add_(1);
        at::Tensor bc2 = at::pow(b2, steps[j]).neg_().add_(1);
        at::Tensor lr = lrT(steps[j]);
        // step_size = -lr / bc1; denom = sqrt(v) / (sqrt(bc2) · step_size) + eps / step_size; p += m / denom.
        at::Tensor stepSize = (lr.defined() ? bc1.div(lr.to(bc1.device())) : bc1.div(o.lr)).reciprocal_().neg_();
        at::Tensor denom = second[j].sqrt().div_(bc2.sqrt().mul_(stepSize)).add_(stepSize.reciprocal().mul_(o.eps));
        params[j].addcdiv_(expAvgs[j], denom);
      }
      continue;
    }

    if (foreach) {
      std::vector<at::Tensor> grads = o.maximize ? at::_foreach_neg(w.grads) : w.grads;
      at::_foreach_add_(steps, 1);
      if (!decoupled_ && o.weightDecay != 0) grads = at::_foreach_add(grads, params, o.weightDecay);
      if (decoupled_) at::_foreach_mul_(params, 1 - o.lr * o.weightDecay);
      at::_foreach_mul_(expAvgs, b1);
      at::_foreach_add_(expAvgs, grads, 1 - b1);
      at::_foreach_mul_(expAvgSqs, b2);
      at::_foreach_addcmul_(expAvgSqs, grads, grads, 1 - b2);
      std::vector<at::Scalar> stepSize, bc2Sqrt;
      for (const auto& s : steps) {
        const double n = s.item<double>();
        stepSize.emplace_back((o.lr / (1 - std::pow(b1, n))) * -1);
        bc2Sqrt.emplace_back(std::sqrt(1 - std::pow(b2, n)));
      }
      std::vector<at::Tensor> denom;
      if (o.amsgrad) {
        at::_foreach_maximum_(maxExpAvgSqs, expAvgSqs);
        denom = at::_foreach_sqrt(maxExpAvgSqs);
      } else {
        denom = at::_foreach_sqrt(expAvgSqs);
      }
      at::_foreach_div_(denom, bc2Sqrt);
      at::_foreach_add_(denom, o.eps);
      at::_foreach_addcdiv_(params, expAvgs, denom, stepSize);
    } else {
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor grad = o.maximize ? w.grads[j].neg() : w.grads[j];
        steps[j].add_(1);
        if (!decoupled_ && o.weightDecay != 0) grad = grad.add(params[j], o.weightDecay);
        if (decoupled_) params[j].mul_(1 - o.lr * o.weightDecay);
        expAvgs[j].mul_(b1).add_(grad, 1 - b1);
        expAvgSqs[j].mul_(b2).addcmul_(grad, grad, 1 - b2);
        const double n = steps[j].item<double>();
        const double stepSize = o.lr / (1 - std::pow(b1, n));
        const double bc2Sqrt = std::sqrt(1 - std::pow(b2, n));
        at::Tensor denom;
        if (o.amsgrad) {
          at::maximum_out(maxExpAvgSqs[j], maxExpAvgSqs[j], expAvgSqs[j]);
          denom = (maxExpAvgSqs[j].sqrt() / bc2Sqrt).add_(o.eps);
        } else {
          denom = (expAvgSqs[j].sqrt() / bc2Sqrt).add_(o.eps);
        }
        params[j].addcdiv_(expAvgs[j], denom, -stepSize);
      }
    }
  }
}

// ---------------------------------------------------------------- RMSprop

std::vector<std::string> RMSprop::slotNames(const GroupOptions&) const { return {"step", "square_avg", "momentum_buffer", "grad_avg"}; }

void RMSprop::check(const GroupOptions& o) const {
  if (!(o.lr >= 0)) throw ArgRangeError("lr must be >= 0, got " + std::to_string(o.lr));
  if (!(o.eps >= 0)) throw ArgRangeError("eps must be >= 0, got " + std::to_string(o.eps));
  if (!(o.momentum >= 0)) throw ArgRangeError("momentum must be >= 0, got " + std::to_string(o.momentum));
  if (!(o.weightDecay >= 0)) throw ArgRangeError("weightDecay must be >= 0, got " + std::to_string(o.weightDecay));
  if (!(o.alpha >= 0)) throw ArgRangeError("alpha must be >= 0, got " + std::to_string(o.alpha));
}

// As torch/optim/rmsprop.py (_multi_tensor_rmsprop / _single_tensor_rmsprop) of the PyTorch version built against
// (2.x updates the centered average with lerp). Weight decay makes a new gradient
// list (PyTorch 1.13's foreach form added it to p.grad in place, which later versions fixed; the update is the same).
// The step counter is a float32 0-d tensor on the parameter's device (1.13 keeps a Python int; both load).
void RMSprop::step(const at::Tensor& lrScale) {
  at::NoGradGuard noGrad;
  for (auto& g : groups) {
    const GroupOptions& o = g.o;
    ensureSlots(g, 4);
    WithGrad w = withGrad(g);
    if (w.params.empty()) continue;
    std::vector<at::Tensor> steps, squareAvgs, buffers, gradAvgs;
    for (size_t j = 0; j < w.index.size(); ++j) {
      const size_t k = w.index[j];
      const at::Tensor& p = w.params[j];
      auto& step = g.slots[0][k];
      if (!step.defined()) step = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(p.device()));
      else if (step.device() != p.device()) step = step.to(p.device());
      steps.push_back(step);
      auto slot = [&](size_t s) -> at::Tensor& {
        if (!g.slots[s][k].defined()) g.slots[s][k] = at::zeros_like(p, at::MemoryFormat::Preserve);
        return g.slots[s][k];
      };
      squareAvgs.push_back(slot(1));
      if (o.momentum > 0) buffers.push_back(slot(2));
      if (o.centered) gradAvgs.push_back(slot(3));
    }
    auto& params = w.params;
    at::_foreach_add_(steps, 1);
    // lr as a device value when a scale is given (a captured step), else the number
    auto applyLr = [&](std::vector<at::Tensor>& update) {  // params -= lr · update
      if (lrScale.defined()) {
        std::vector<at::Tensor> scaled = at::_foreach_mul(update, o.lr);
        compat::foreachMulTensor_(scaled, lrScale);
        at::_foreach_sub_(params, scaled);
      } else {
        at::_foreach_add_(params, update, -o.lr);
      }
    };
    if (foreach) {
      std::vector<at::Tensor> grads = o.maximize ? at::_foreach_neg(w.grads) : w.grads;
      if (o.weightDecay != 0) grads = at::_foreach_add(grads, params, o.weightDecay);
      at::_foreach_mul_(squareAvgs, o.alpha);
      at::_foreach_addcmul_(squareAvgs, grads, grads, 1 - o.alpha);
      std::vector<at::Tensor> avg;
      if (o.centered) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
        at::_foreach_lerp_(gradAvgs, grads, 1 - o.alpha);  // PyTorch 2.x's form (1.13: mul, then add)
#else
        at::_foreach_mul_(gradAvgs, o.alpha);
        at::_foreach_add_(gradAvgs, grads, 1 - o.alpha);
#endif
        avg = at::_foreach_addcmul(squareAvgs, gradAvgs, gradAvgs, -1);
        at::_foreach_sqrt_(avg);
        at::_foreach_add_(avg, o.eps);
      } else {
        avg = at::_foreach_sqrt(squareAvgs);
        at::_foreach_add_(avg, o.eps);
      }
      if (o.momentum > 0) {
        at::_foreach_mul_(buffers, o.momentum);
        at::_foreach_addcdiv_(buffers, grads, avg);
        applyLr(buffers);
      } else if (lrScale.defined()) {
        std::vector<at::Tensor> update = at::_foreach_div(grads, avg);
        applyLr(update);
      } else {
        at::_foreach_addcdiv_(params, grads, avg, -o.lr);
      }
    } else {
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor grad = o.maximize ? w.grads[j].neg() : w.grads[j];
        if (o.weightDecay != 0) grad = grad.add(params[j], o.weightDecay);
        squareAvgs[j].mul_(o.alpha).addcmul_(grad, grad, 1 - o.alpha);
        at::Tensor avg;
        if (o.centered) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
          gradAvgs[j].lerp_(grad, 1 - o.alpha);
#else
          gradAvgs[j].mul_(o.alpha).add_(grad, 1 - o.alpha);
#endif
          avg = squareAvgs[j].addcmul(gradAvgs[j], gradAvgs[j], -1).sqrt_();
        } else {
          avg = squareAvgs[j].sqrt();
        }
        avg.add_(o.eps);
        at::Tensor update;
        if (o.momentum > 0) {
          buffers[j].mul_(o.momentum).addcdiv_(grad, avg);
          update = buffers[j];
        } else if (lrScale.defined()) {
          update = grad.div(avg);
        } else {
          params[j].addcdiv_(grad, avg, -o.lr);
          continue;
        }
        if (lrScale.defined()) params[j].sub_(update.mul(o.lr).mul_(lrScale));
        else params[j].add_(update, -o.lr);
      }
    }
  }
}

// ---------------------------------------------------------------- Adagrad

std::vector<std::string> Adagrad::slotNames(const GroupOptions&) const { return {"step", "sum"}; }

void Adagrad::check(const GroupOptions& o) const {
  if (!(o.lr >= 0)) throw ArgRangeError("lr must be >= 0, got " + std::to_string(o.lr));
  if (!(o.lrDecay >= 0)) throw ArgRangeError("lrDecay must be >= 0, got " + std::to_string(o.lrDecay));
  if (!(o.weightDecay >= 0)) throw ArgRangeError("weightDecay must be >= 0, got " + std::to_string(o.weightDecay));
  if (!(o.initialAccumulatorValue >= 0)) throw ArgRangeError("initialAccumulatorValue must be >= 0, got " + std::to_string(o.initialAccumulatorValue));
  if (!(o.eps >= 0)) throw ArgRangeError("eps must be >= 0, got " + std::to_string(o.eps));
}

namespace {
// One parameter's Adagrad state as PyTorch's constructor makes it: step tensor(0.) on the CPU, sum = full_like(p, v).
void adagradState(ParamGroup& g, size_t k) {
  at::NoGradGuard noGrad;
  if (!g.slots[0][k].defined()) g.slots[0][k] = at::zeros({}, at::TensorOptions().dtype(at::kFloat));
  if (!g.slots[1][k].defined()) g.slots[1][k] = at::full_like(g.params[k], g.o.initialAccumulatorValue, at::MemoryFormat::Preserve);
}
}  // namespace

void Adagrad::initState(ParamGroup& g) const {
  for (size_t k = 0; k < g.params.size(); ++k) adagradState(g, k);
}

// As torch/optim/adagrad.py (_multi_tensor_adagrad / _single_tensor_adagrad), dense gradients, in the form of the
// PyTorch version built against: 1.13's foreach form computes -clr from the float32 step tensor with tensor ops
// (its list comprehension does), 2.x's in double from the step's value. With a learning-rate scale (a captured step) or on CUDA, steps live on the device and clr is a device
// value: nothing is read back to the host.
void Adagrad::step(const at::Tensor& lrScale) {
  at::NoGradGuard noGrad;
  for (auto& g : groups) {
    const GroupOptions& o = g.o;
    ensureSlots(g, 2);
    WithGrad w = withGrad(g);
    if (w.params.empty()) continue;
    const bool onDevice = lrScale.defined() || w.params[0].is_cuda();
    std::vector<at::Tensor> steps, sums;
    for (size_t j = 0; j < w.index.size(); ++j) {
      const size_t k = w.index[j];
      adagradState(g, k);
      auto& step = g.slots[0][k];
      const at::Device want = onDevice ? w.params[j].device() : at::Device(at::kCPU);
      if (step.device() != want) step = step.to(want);
      steps.push_back(step);
      sums.push_back(g.slots[1][k]);
    }
    auto& params = w.params;
    std::vector<at::Tensor> grads = o.maximize ? at::_foreach_neg(w.grads) : w.grads;
    at::_foreach_add_(steps, 1);
    if (o.weightDecay != 0) grads = at::_foreach_add(grads, params, o.weightDecay);
    // -clr = -lr / (1 + (step - 1)·lrDecay), from the float32 step tensor (PyTorch's foreach form)
    auto minusClr = [&](const at::Tensor& step) { return step.sub(1).mul(o.lrDecay).add(1).reciprocal().mul(-o.lr); };
    if (onDevice) {
      at::_foreach_addcmul_(sums, grads, grads, 1);
      std::vector<at::Tensor> denom = at::_foreach_sqrt(sums);
      at::_foreach_add_(denom, o.eps);
      std::vector<at::Tensor> update = at::_foreach_div(grads, denom);
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor m = minusClr(steps[j]);
        if (lrScale.defined()) m = m.mul(lrScale.to(m.device()));
        params[j].add_(update[j].mul_(m.to(update[j].scalar_type())));
      }
    } else if (foreach) {
      std::vector<at::Scalar> m;
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
      // PyTorch 2.x: -clr in double from the step's value, then params += (g · -clr) / denom in one addcdiv
      for (const auto& s : steps) m.emplace_back(-o.lr / (1 + (s.item<double>() - 1) * o.lrDecay));
      at::_foreach_addcmul_(sums, grads, grads, 1);
      std::vector<at::Tensor> denom = at::_foreach_sqrt(sums);
      at::_foreach_add_(denom, o.eps);
      at::_foreach_addcdiv_(params, at::_foreach_mul(grads, m), denom);
#else
      for (const auto& s : steps) m.emplace_back(minusClr(s).item<double>());
      at::_foreach_addcmul_(sums, grads, grads, 1);
      std::vector<at::Tensor> denom = at::_foreach_add(at::_foreach_sqrt(sums), o.eps);
      std::vector<at::Tensor> toAdd = at::_foreach_div(at::_foreach_mul(grads, m), denom);
      at::_foreach_add_(params, toAdd);
#endif
    } else {
      for (size_t j = 0; j < params.size(); ++j) {
        const double step = steps[j].item<double>();
        const double clr = o.lr / (1 + (step - 1) * o.lrDecay);
        sums[j].addcmul_(grads[j], grads[j], 1);
        at::Tensor denom = sums[j].sqrt().add_(o.eps);
        params[j].addcdiv_(grads[j], denom, -clr);
      }
    }
  }
}

// ---------------------------------------------------------------- shared by Adamax, NAdam, RAdam, Adadelta

namespace {

// The checks of PyTorch's Adam-family constructors (Adamax, NAdam, RAdam).
void checkAdamLike(const GroupOptions& o) {
  if (!(o.lr >= 0)) throw ArgRangeError("lr must be >= 0, got " + std::to_string(o.lr));
  if (!(o.eps >= 0)) throw ArgRangeError("eps must be >= 0, got " + std::to_string(o.eps));
  if (!(o.beta1 >= 0 && o.beta1 < 1)) throw ArgRangeError("betas[0] must be in [0, 1), got " + std::to_string(o.beta1));
  if (!(o.beta2 >= 0 && o.beta2 < 1)) throw ArgRangeError("betas[1] must be in [0, 1), got " + std::to_string(o.beta2));
  if (!(o.weightDecay >= 0)) throw ArgRangeError("weightDecay must be >= 0, got " + std::to_string(o.weightDecay));
}

// A 0-d float32 state slot (a step count; NAdam's mu_product), `init` where missing, kept on the parameter's device
// when `onDevice` (a capturable step), else on the CPU (PyTorch's host-side form reads it there).
at::Tensor& scalarState(ParamGroup& g, size_t s, size_t k, double init, bool onDevice) {
  at::Tensor& t = g.slots[s][k];
  const at::Device want = onDevice ? g.params[k].device() : at::Device(at::kCPU);
  if (!t.defined()) t = at::scalar_tensor(init, at::TensorOptions().dtype(at::kFloat).device(want));
  else if (t.device() != want) t = t.to(want);
  return t;
}

// A state slot shaped like its parameter, zeros where missing.
at::Tensor& tensorState(ParamGroup& g, size_t s, size_t k) {
  at::Tensor& t = g.slots[s][k];
  if (!t.defined()) t = at::zeros_like(g.params[k], at::MemoryFormat::Preserve);
  return t;
}

// m = β·m + (1 - β)·g: PyTorch 2.x's lerp; 1.13's mul, then add.
void emaForeach(std::vector<at::Tensor>& m, const std::vector<at::Tensor>& g, double beta) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
  at::_foreach_lerp_(m, g, 1 - beta);
#else
  at::_foreach_mul_(m, beta);
  at::_foreach_add_(m, g, 1 - beta);
#endif
}
void emaOne(at::Tensor& m, const at::Tensor& g, double beta) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
  m.lerp_(g, 1 - beta);
#else
  m.mul_(beta).add_(g, 1 - beta);
#endif
}

// sqrt(x) as the PyTorch version built against writes it in Python: 1.13 math.sqrt(x), 2.x x ** 0.5 (libm's pow).
double pySqrt(double x) {
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
  return std::pow(x, 0.5);
#else
  return std::sqrt(x);
#endif
}

// lr · lrScale as a float32 value on `device` (a capturable step's learning rate).
at::Tensor scaledLr(double lr, const at::Tensor& lrScale, const at::Device& device) {
  return lrScale.to(at::TensorOptions().dtype(at::kFloat).device(device)).mul(lr);
}

// x *= lr in place (a device value of a capturable step): the number, or with a scale lr · lrScale.
at::Tensor mulLr(at::Tensor x, double lr, const at::Tensor& lrScale) {
  if (lrScale.defined()) return x.mul_(scaledLr(lr, lrScale, x.device()));
  return x.mul_(lr);
}

// params -= lr · update, lr the number or, with a scale, the device value lr · lrScale (no host read).
void subLr(std::vector<at::Tensor>& params, std::vector<at::Tensor>& update, double lr, const at::Tensor& lrScale) {
  if (lrScale.defined()) {
    std::vector<at::Tensor> scaled = at::_foreach_mul(update, lr);
    compat::foreachMulTensor_(scaled, lrScale);
    at::_foreach_sub_(params, scaled);
  } else {
    at::_foreach_add_(params, update, -lr);
  }
}

// Decoupled weight decay (PyTorch 2.x's NAdam/RAdam decoupled_weight_decay): p *= 1 - lr·wd, lr scaled on the device
// when a scale is given.
void decayForeach(std::vector<at::Tensor>& params, const GroupOptions& o, const at::Tensor& lrScale) {
  if (lrScale.defined()) compat::foreachMulTensor_(params, lrScale.mul(-o.lr * o.weightDecay).add_(1));
  else at::_foreach_mul_(params, 1 - o.lr * o.weightDecay);
}

}  // namespace

// ---------------------------------------------------------------- Adamax

std::vector<std::string> Adamax::slotNames(const GroupOptions&) const { return {"step", "exp_avg", "exp_inf"}; }

void Adamax::check(const GroupOptions& o) const { checkAdamLike(o); }

// As torch/optim/adamax.py (_multi_tensor_adamax / _single_tensor_adamax) of the PyTorch version built against (2.x
// updates the first moment with lerp; the infinity norm max(β2·u, |g| + eps) is the same whichever op takes it), the
// bias correction 1 - β1^t in double from the step's value. With a learning-rate scale (a captured step) or on CUDA,
// 2.x's capturable form: steps on the device, the bias correction a device value, nothing read back to the host.
void Adamax::step(const at::Tensor& lrScale) {
  at::NoGradGuard noGrad;
  for (auto& g : groups) {
    const GroupOptions& o = g.o;
    ensureSlots(g, 3);
    WithGrad w = withGrad(g);
    if (w.params.empty()) continue;
    const bool capturable = lrScale.defined() || w.params[0].is_cuda();
    std::vector<at::Tensor> steps, expAvgs, expInfs;
    for (size_t k : w.index) {
      steps.push_back(scalarState(g, 0, k, 0, capturable));
      expAvgs.push_back(tensorState(g, 1, k));
      expInfs.push_back(tensorState(g, 2, k));
    }
    auto& params = w.params;
    const double b1 = o.beta1;
    if (foreach || capturable) {
      std::vector<at::Tensor> grads = o.maximize ? at::_foreach_neg(w.grads) : w.grads;
      at::_foreach_add_(steps, 1);
      if (o.weightDecay != 0) grads = at::_foreach_add(grads, params, o.weightDecay);
      emaForeach(expAvgs, grads, b1);
      at::_foreach_mul_(expInfs, o.beta2);
      std::vector<at::Tensor> bound = at::_foreach_abs(grads);
      at::_foreach_add_(bound, o.eps);
      at::_foreach_maximum_(expInfs, bound);
      if (capturable) {
        // p += m / (u · (β1^t - 1) / lr)
        for (size_t j = 0; j < params.size(); ++j) {
          at::Tensor negBc = at::pow(b1, steps[j]).sub_(1);
          if (lrScale.defined()) negBc.div_(scaledLr(o.lr, lrScale, negBc.device()));
          else negBc.div_(o.lr);
          params[j].addcdiv_(expAvgs[j], expInfs[j].mul(negBc));
        }
      } else {
        std::vector<at::Scalar> clr;
        for (const auto& s : steps) clr.emplace_back((o.lr / (1 - std::pow(b1, s.item<double>()))) * -1);
        at::_foreach_addcdiv_(params, expAvgs, expInfs, clr);
      }
    } else {
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor grad = o.maximize ? w.grads[j].neg() : w.grads[j];
        steps[j].add_(1);
        const double step = steps[j].item<double>();
        if (o.weightDecay != 0) grad = grad.add(params[j], o.weightDecay);
        emaOne(expAvgs[j], grad, b1);
        at::maximum_out(expInfs[j], expInfs[j].mul_(o.beta2), grad.abs().add_(o.eps));
        const double clr = o.lr / (1 - std::pow(b1, step));
        params[j].addcdiv_(expAvgs[j], expInfs[j], -clr);
      }
    }
  }
}

// ---------------------------------------------------------------- NAdam

std::vector<std::string> NAdam::slotNames(const GroupOptions&) const { return {"step", "mu_product", "exp_avg", "exp_avg_sq"}; }

void NAdam::check(const GroupOptions& o) const {
  checkAdamLike(o);
  if (!(o.momentumDecay >= 0)) throw ArgRangeError("momentumDecay must be >= 0, got " + std::to_string(o.momentumDecay));
}

// As torch/optim/nadam.py (_multi_tensor_nadam / _single_tensor_nadam) of the PyTorch version built against: μ_t, μ_{t+1},
// the bias correction and the two step sizes in double from the step's and mu_product's values, as Python computes them
// (2.x: lerp for the first moment, sqrt as ** 0.5). 1.13's per-parameter form is kept as it is, including its
// Πμ·μ_t·μ_{t+1} for the next product (μ_t counted twice, in float32; its foreach form and 2.x take Πμ·μ_{t+1}), so
// that `foreach: false` steps equal 1.13's (on every device: its capturable form below keeps that product too). With a
// learning-rate scale or on CUDA, 2.x's capturable form: steps and mu_product on the device, every coefficient a device
// value, nothing read back to the host.
void NAdam::step(const at::Tensor& lrScale) {
  at::NoGradGuard noGrad;
  for (auto& g : groups) {
    const GroupOptions& o = g.o;
    ensureSlots(g, 4);
    WithGrad w = withGrad(g);
    if (w.params.empty()) continue;
    const bool capturable = lrScale.defined() || w.params[0].is_cuda();
    std::vector<at::Tensor> steps, muProducts, expAvgs, expAvgSqs;
    for (size_t k : w.index) {
      steps.push_back(scalarState(g, 0, k, 0, capturable));
      muProducts.push_back(scalarState(g, 1, k, 1, capturable));
      expAvgs.push_back(tensorState(g, 2, k));
      expAvgSqs.push_back(tensorState(g, 3, k));
    }
    auto& params = w.params;
    const double b1 = o.beta1, b2 = o.beta2, psi = o.momentumDecay;
    auto mu = [&](double t) { return b1 * (1. - 0.5 * std::pow(0.96, t * psi)); };
    if (foreach || capturable) {
      std::vector<at::Tensor> grads = w.grads;
      at::_foreach_add_(steps, 1);
      if (o.weightDecay != 0) {
        if (o.decoupledWeightDecay) decayForeach(params, o, lrScale);
        else grads = at::_foreach_add(grads, params, o.weightDecay);
      }
      emaForeach(expAvgs, grads, b1);
      at::_foreach_mul_(expAvgSqs, b2);
      at::_foreach_addcmul_(expAvgSqs, grads, grads, 1 - b2);
      std::vector<at::Tensor> denom = at::_foreach_sqrt(expAvgSqs);
      if (capturable) {
        for (size_t j = 0; j < params.size(); ++j) {
          // the coefficients in float64 on the device (PyTorch's capturable form keeps them in float32, where
          // 1 - β2^t loses 5 digits at t = 1)
          const at::Tensor t = steps[j].to(at::kDouble);
          at::Tensor exponent = t.mul(psi);
          at::Tensor m = at::pow(0.96, exponent).mul_(-0.5).add_(1).mul_(b1);
          exponent.add_(psi);
          at::Tensor mNext = at::pow(0.96, exponent).mul_(-0.5).add_(1).mul_(b1);
          at::Tensor bcSqrt = at::pow(b2, t).sub_(1).neg_().sqrt_();
          muProducts[j].mul_(m);
          denom[j].div_(bcSqrt).add_(o.eps);
          // -lr·(1 - μ)/(1 - Πμ) and -lr·μ'/(1 - Πμ·μ')
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
          at::Tensor nextDenom = muProducts[j].mul(mNext).sub_(1);
#else
          // foreach: false is 1.13's per-parameter form on every device: Πμ·μ_t·μ_{t+1} (see above)
          at::Tensor nextDenom = (foreach ? muProducts[j] : muProducts[j].mul(m)).mul(mNext).sub_(1);
#endif
          at::Tensor sizeGrad = mulLr(m.sub_(1), o.lr, lrScale).div_(muProducts[j].sub(1).neg_());
          at::Tensor sizeAvg = mulLr(mNext, o.lr, lrScale).div_(nextDenom);
          at::Tensor num = grads[j].mul(sizeGrad);
          num.addcmul_(expAvgs[j], sizeAvg);
          params[j].addcdiv_(num, denom[j]);
        }
        continue;
      }
      std::vector<at::Scalar> mus, bcSqrt;
      std::vector<double> muNexts;
      for (const auto& s : steps) {
        const double t = s.item<double>();
        mus.emplace_back(mu(t));
        muNexts.push_back(mu(t + 1));
        bcSqrt.emplace_back(pySqrt(1 - std::pow(b2, t)));
      }
      at::_foreach_mul_(muProducts, mus);
      at::_foreach_div_(denom, bcSqrt);
      at::_foreach_add_(denom, o.eps);
      std::vector<at::Scalar> sizeGrads, sizeAvgs;
      for (size_t j = 0; j < params.size(); ++j) {
        const double mp = muProducts[j].item<double>();
        sizeGrads.emplace_back((o.lr * (1. - mus[j].toDouble()) / (1. - mp)) * -1);
        sizeAvgs.emplace_back((o.lr * muNexts[j] / (1. - mp * muNexts[j])) * -1);
      }
      at::_foreach_addcdiv_(params, grads, denom, sizeGrads);
      at::_foreach_addcdiv_(params, expAvgs, denom, sizeAvgs);
    } else {
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor grad = w.grads[j];
        steps[j].add_(1);
        const double t = steps[j].item<double>();
        const double bc2 = 1 - std::pow(b2, t);
        if (o.weightDecay != 0) {
          if (o.decoupledWeightDecay) params[j].mul_(1 - o.lr * o.weightDecay);
          else grad = grad.add(params[j], o.weightDecay);
        }
        const double m = mu(t), mNext = mu(t + 1);
        muProducts[j].mul_(m);
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
        expAvgs[j].lerp_(grad, 1 - b1);
        expAvgSqs[j].mul_(b2).addcmul_(grad, grad, 1 - b2);
        at::Tensor denom = expAvgSqs[j].div(bc2).sqrt();
        const double mp = muProducts[j].item<double>();
        const double mpNext = mp * mNext;
        denom.add_(o.eps);
        params[j].addcdiv_(grad, denom, -o.lr * (1. - m) / (1. - mp));
        params[j].addcdiv_(expAvgs[j], denom, (-o.lr * mNext) / (1. - mpNext));
#else
        at::Tensor mpNext = muProducts[j].mul(m).mul(mNext);  // 1.13's (see above)
        expAvgs[j].mul_(b1).add_(grad, 1 - b1);
        expAvgSqs[j].mul_(b2).addcmul_(grad, grad, 1 - b2);
        at::Tensor denom = expAvgSqs[j].div(bc2).sqrt().add_(o.eps);
        params[j].addcdiv_(grad, denom, -o.lr * (1. - m) / (1. - muProducts[j].item<double>()));
        params[j].addcdiv_(expAvgs[j], denom, -o.lr * mNext / (1. - mpNext.item<double>()));
#endif
      }
    }
  }
}

// ---------------------------------------------------------------- RAdam

std::vector<std::string> RAdam::slotNames(const GroupOptions&) const { return {"step", "exp_avg", "exp_avg_sq"}; }

void RAdam::check(const GroupOptions& o) const { checkAdamLike(o); }

// As torch/optim/radam.py (_multi_tensor_radam / _single_tensor_radam) of the PyTorch version built against: ρ_t, the
// rectification and the bias corrections in double from the step's value. The forms differ by version and are kept:
// 1.13's foreach form divides by sqrt(v / (1 - β2^t)) without eps (its per-parameter form and 2.x add eps) and applies
// the rectified and the unrectified step as two updates; 2.x's folds both into one buffer
// (sqrt(1 - β2^t)·rect·step / (sqrt(v) + eps) + unrectified step) and uses lerp. With a learning-rate scale or on
// CUDA, 2.x's capturable form: ρ_t and the rectification as device values, nothing read back to the host.
void RAdam::step(const at::Tensor& lrScale) {
  at::NoGradGuard noGrad;
  for (auto& g : groups) {
    const GroupOptions& o = g.o;
    ensureSlots(g, 3);
    WithGrad w = withGrad(g);
    if (w.params.empty()) continue;
    const bool capturable = lrScale.defined() || w.params[0].is_cuda();
    std::vector<at::Tensor> steps, expAvgs, expAvgSqs;
    for (size_t k : w.index) {
      steps.push_back(scalarState(g, 0, k, 0, capturable));
      expAvgs.push_back(tensorState(g, 1, k));
      expAvgSqs.push_back(tensorState(g, 2, k));
    }
    auto& params = w.params;
    const double b1 = o.beta1, b2 = o.beta2;
    const double rhoInf = 2 / (1 - b2) - 1;  // the maximum length of the approximated SMA
    auto rhoOf = [&](double t) { return rhoInf - 2 * t * std::pow(b2, t) / (1 - std::pow(b2, t)); };
    auto rectOf = [&](double rt) { return (rt - 4) * (rt - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rt); };  // before the root
    if (foreach || capturable) {
      std::vector<at::Tensor> grads = w.grads;
      at::_foreach_add_(steps, 1);
      if (o.weightDecay != 0) {
        if (o.decoupledWeightDecay) decayForeach(params, o, lrScale);
        else grads = at::_foreach_add(grads, params, o.weightDecay);
      }
      emaForeach(expAvgs, grads, b1);
      at::_foreach_mul_(expAvgSqs, b2);
      at::_foreach_addcmul_(expAvgSqs, grads, grads, 1 - b2);
      if (capturable) {
        for (size_t j = 0; j < params.size(); ++j) {
          // ρ_t and the rectification in float64 on the device: PyTorch's capturable form computes them in float32, where
          // ρ_t = ρ∞ - 2t·β2^t/(1 - β2^t) cancels (1999 - 1993 at t = 6 with β2 0.999) and the first rectified
          // steps came out 1e-3 off (relative) against its host form
          const at::Tensor t = steps[j].to(at::kDouble);
          at::Tensor b2t = at::pow(b2, t);
          at::Tensor rho = b2t.mul(t).mul_(2).div_(b2t.neg().add_(1)).neg_().add_(rhoInf);
          at::Tensor root = rho.sub(4).mul_(rho.sub(2)).mul_(rhoInf).div_(rho.mul((rhoInf - 4) * (rhoInf - 2))).sqrt_();
          at::Tensor rect = at::where(rho.gt(5), root, at::zeros_like(root));
          at::Tensor bc1 = at::pow(b1, t).neg_().add_(1);
          at::Tensor unrect = mulLr(rect.gt(0).logical_not().to(at::kDouble), o.lr, lrScale).div_(bc1).neg_();  // -lr/(1 - β1^t) while unrectified
          at::Tensor scale = mulLr(b2t.neg().add_(1).sqrt_(), o.lr, lrScale).mul_(rect).neg_().div_(bc1);  // -sqrt(1 - β2^t)·lr·rect/(1 - β1^t)
          at::Tensor buffer = expAvgSqs[j].sqrt().add_(o.eps).div_(scale).reciprocal_().add_(unrect);
          params[j].addcmul_(expAvgs[j], buffer);
        }
        continue;
      }
      std::vector<double> rects, bc1s, ts;
      for (const auto& s : steps) {
        const double t = s.item<double>();
        const double rt = rhoOf(t);
        ts.push_back(t);
        rects.push_back(rt > 5 ? pySqrt(rectOf(rt)) : 0);
        bc1s.push_back(1 - std::pow(b1, t));
      }
#if ICTORCH_TORCH_VERSION_AT_LEAST(2, 0)
      std::vector<at::Scalar> unrectSizes, scales;
      for (size_t j = 0; j < params.size(); ++j) {
        const double unrect = rects[j] > 0 ? 0 : 1.0;
        unrectSizes.emplace_back((o.lr * unrect / bc1s[j]) * -1);
        scales.emplace_back(std::pow(1 - std::pow(b2, ts[j]), 0.5) * (o.lr * rects[j] / bc1s[j]) * -1);
      }
      std::vector<at::Tensor> buffer = at::_foreach_sqrt(expAvgSqs);
      at::_foreach_add_(buffer, o.eps);
      at::_foreach_div_(buffer, scales);
      at::_foreach_reciprocal_(buffer);
      at::_foreach_add_(buffer, unrectSizes);
      at::_foreach_addcmul_(params, expAvgs, buffer);
#else
      std::vector<at::Scalar> bcSqrt, rectSizes, unrectSizes;
      std::vector<at::Tensor> ones;
      for (size_t j = 0; j < params.size(); ++j) {
        const double unrect = rects[j] > 0 ? 0 : 1.;
        bcSqrt.emplace_back(std::sqrt(1 - std::pow(b2, ts[j])));
        rectSizes.emplace_back((o.lr * rects[j] / bc1s[j]) * -1);
        unrectSizes.emplace_back((o.lr * unrect / bc1s[j]) * -1);
        ones.push_back(at::ones_like(expAvgs[j], at::MemoryFormat::Preserve));
      }
      std::vector<at::Tensor> denom = at::_foreach_div(at::_foreach_sqrt(expAvgSqs), bcSqrt);
      at::_foreach_addcdiv_(params, expAvgs, denom, rectSizes);
      at::_foreach_addcdiv_(params, expAvgs, ones, unrectSizes);
#endif
    } else {
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor grad = w.grads[j];
        steps[j].add_(1);
        const double t = steps[j].item<double>();
        if (o.weightDecay != 0) {
          if (o.decoupledWeightDecay) params[j].mul_(1 - o.lr * o.weightDecay);
          else grad = grad.add(params[j], o.weightDecay);
        }
        emaOne(expAvgs[j], grad, b1);
        expAvgSqs[j].mul_(b2).addcmul_(grad, grad, 1 - b2);
        const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
        at::Tensor corrected = expAvgs[j].div(bc1);
        const double rt = rhoInf - 2 * t * std::pow(b2, t) / bc2;
        if (rt > 5.) {
          // Python's sqrt(bc2) / (sqrt(v) + eps) is Tensor.__rtruediv__: reciprocal, then times the number
          at::Tensor adaptive = expAvgSqs[j].sqrt().add_(o.eps).reciprocal().mul(pySqrt(bc2));
          params[j].add_(corrected.mul(o.lr).mul(adaptive).mul(pySqrt(rectOf(rt))), -1.0);
        } else {
          params[j].add_(corrected.mul(o.lr), -1.0);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- Adadelta

std::vector<std::string> Adadelta::slotNames(const GroupOptions&) const { return {"step", "square_avg", "acc_delta"}; }

void Adadelta::check(const GroupOptions& o) const {
  if (!(o.lr >= 0)) throw ArgRangeError("lr must be >= 0, got " + std::to_string(o.lr));
  if (!(o.rho >= 0 && o.rho <= 1)) throw ArgRangeError("rho must be in [0, 1], got " + std::to_string(o.rho));
  if (!(o.eps >= 0)) throw ArgRangeError("eps must be >= 0, got " + std::to_string(o.eps));
  if (!(o.weightDecay >= 0)) throw ArgRangeError("weightDecay must be >= 0, got " + std::to_string(o.weightDecay));
}

// As torch/optim/adadelta.py (_multi_tensor_adadelta / _single_tensor_adadelta); 1.13 and 2.x compute alike. The
// step counter is a float32 0-d tensor on the parameter's device (1.13 keeps a Python int; both load), as RMSprop's.
void Adadelta::step(const at::Tensor& lrScale) {
  at::NoGradGuard noGrad;
  for (auto& g : groups) {
    const GroupOptions& o = g.o;
    ensureSlots(g, 3);
    WithGrad w = withGrad(g);
    if (w.params.empty()) continue;
    std::vector<at::Tensor> steps, squareAvgs, accDeltas;
    for (size_t k : w.index) {
      steps.push_back(scalarState(g, 0, k, 0, true));
      squareAvgs.push_back(tensorState(g, 1, k));
      accDeltas.push_back(tensorState(g, 2, k));
    }
    auto& params = w.params;
    at::_foreach_add_(steps, 1);
    const double rho = o.rho;
    if (foreach) {
      std::vector<at::Tensor> grads = o.maximize ? at::_foreach_neg(w.grads) : w.grads;
      if (o.weightDecay != 0) grads = at::_foreach_add(grads, params, o.weightDecay);
      at::_foreach_mul_(squareAvgs, rho);
      at::_foreach_addcmul_(squareAvgs, grads, grads, 1 - rho);
      std::vector<at::Tensor> stdev = at::_foreach_add(squareAvgs, o.eps);
      at::_foreach_sqrt_(stdev);
      std::vector<at::Tensor> deltas = at::_foreach_add(accDeltas, o.eps);
      at::_foreach_sqrt_(deltas);
      at::_foreach_div_(deltas, stdev);
      at::_foreach_mul_(deltas, grads);
      at::_foreach_mul_(accDeltas, rho);
      at::_foreach_addcmul_(accDeltas, deltas, deltas, 1 - rho);
      subLr(params, deltas, o.lr, lrScale);
    } else {
      for (size_t j = 0; j < params.size(); ++j) {
        at::Tensor grad = o.maximize ? w.grads[j].neg() : w.grads[j];
        if (o.weightDecay != 0) grad = grad.add(params[j], o.weightDecay);
        squareAvgs[j].mul_(rho).addcmul_(grad, grad, 1 - rho);
        at::Tensor stdev = squareAvgs[j].add(o.eps).sqrt_();
        at::Tensor delta = accDeltas[j].add(o.eps).sqrt_().div_(stdev).mul_(grad);
        accDeltas[j].mul_(rho).addcmul_(delta, delta, 1 - rho);
        if (lrScale.defined()) params[j].sub_(delta.mul(o.lr).mul_(lrScale));
        else params[j].add_(delta, -o.lr);
      }
    }
  }
}

// ---------------------------------------------------------------- JS handle

namespace {
Napi::FunctionReference& ctorRef(Napi::Env env) { return state(env).optimizerCtor; }
}  // namespace

void OptimizerHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "OptimizerHandle", baseMethods());
  ctorRef(env) = Napi::Persistent(ctor);
  exports.Set("OptimizerHandle", ctor);
}

OptimizerHandle::OptimizerHandle(const Napi::CallbackInfo& info) : Handle<OptimizerHandle>(info) {}

OptimizerHandle* argOptimizerHandle(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!OptimizerHandle::isHandle(v))
    throw ArgTypeError(std::string("argument '") + name + "' must be an optimizer");
  return Napi::ObjectWrap<OptimizerHandle>::Unwrap(v.As<Napi::Object>());
}

std::shared_ptr<Optimizer> argOptimizer(const Napi::CallbackInfo& info, size_t i, const char* name) {
  OptimizerHandle* h = argOptimizerHandle(info, i, name);
  h->checkIdle("the optimizer", true);
  return h->optimizer;
}

namespace {

double field(const Napi::Object& o, const char* k, double dflt) {
  Napi::Value v = o.Get(k);
  if (isNullish(v)) return dflt;
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) throw ArgTypeError(std::string("option '") + k + "' must be a finite number");
  return v.As<Napi::Number>().DoubleValue();
}

bool flag(const Napi::Object& o, const char* k, bool dflt) {
  Napi::Value v = o.Get(k);
  if (isNullish(v)) return dflt;
  if (!v.IsBoolean()) throw ArgTypeError(std::string("option '") + k + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

// Reads the hyper-parameters present in `obj` over `o` (absent ones keep their value).
GroupOptions readOptions(const Napi::Object& obj, GroupOptions o) {
  o.lr = field(obj, "lr", o.lr);
  o.momentum = field(obj, "momentum", o.momentum);
  o.dampening = field(obj, "dampening", o.dampening);
  o.weightDecay = field(obj, "weightDecay", o.weightDecay);
  o.eps = field(obj, "eps", o.eps);
  Napi::Value betas = obj.Get("betas");
  if (!isNullish(betas)) {
    if (!betas.IsArray() || betas.As<Napi::Array>().Length() != 2) throw ArgTypeError("option 'betas' must be an array of two numbers");
    Napi::Array b = betas.As<Napi::Array>();
    Napi::Value b0 = b.Get(0u), b1 = b.Get(1u);
    if (!b0.IsNumber() || !b1.IsNumber()) throw ArgTypeError("option 'betas' must be an array of two numbers");
    o.beta1 = b0.As<Napi::Number>().DoubleValue();
    o.beta2 = b1.As<Napi::Number>().DoubleValue();
  }
  o.alpha = field(obj, "alpha", o.alpha);
  o.lrDecay = field(obj, "lrDecay", o.lrDecay);
  o.initialAccumulatorValue = field(obj, "initialAccumulatorValue", o.initialAccumulatorValue);
  o.rho = field(obj, "rho", o.rho);
  o.momentumDecay = field(obj, "momentumDecay", o.momentumDecay);
  o.decoupledWeightDecay = flag(obj, "decoupledWeightDecay", o.decoupledWeightDecay);
  o.centered = flag(obj, "centered", o.centered);
  o.nesterov = flag(obj, "nesterov", o.nesterov);
  o.amsgrad = flag(obj, "amsgrad", o.amsgrad);
  o.maximize = flag(obj, "maximize", o.maximize);
  return o;
}

ParamGroup readGroup(Napi::Env env, const Napi::Value& v, const std::string& where) {
  if (!v.IsObject()) throw ArgTypeError(where + " must be an object");
  Napi::Object o = v.As<Napi::Object>();
  ParamGroup g;
  Napi::Value ps = o.Get("params");
  if (!ps.IsArray()) throw ArgTypeError(where + ": 'params' must be an array of Tensors");
  Napi::Array pa = ps.As<Napi::Array>();
  for (uint32_t j = 0; j < pa.Length(); ++j) {
    Napi::Value pj = pa.Get(j);
    if (!isTensor(env, pj)) throw ArgTypeError(where + ": params[" + std::to_string(j) + "] must be a Tensor");
    // Frozen parameters (requiresGrad false) are accepted, as PyTorch does: they get no gradient and every
    // step skips them, so model.parameters() with some layers frozen can be handed over whole.
    const at::Tensor& p = Napi::ObjectWrap<TensorHandle>::Unwrap(pj.As<Napi::Object>())->tensor("params");
    if (!p.is_leaf()) throw ArgTypeError(where + ": params[" + std::to_string(j) + "] is not a leaf tensor (optimisers update leaves)");
    if (!at::isFloatingType(p.scalar_type())) throw ArgTypeError(where + ": params[" + std::to_string(j) + "] is " + dtypeName(p.scalar_type()) + ", not floating point");
    for (const auto& q : g.params)
      if (q.unsafeGetTensorImpl() == p.unsafeGetTensorImpl()) throw ArgRangeError(where + ": params[" + std::to_string(j) + "] appears twice");
    g.params.push_back(p);
  }
  g.o = readOptions(o, GroupOptions());
  return g;
}

// optimCreate(kind: 'sgd'|'adam'|'adamw'|'rmsprop'|'adagrad'|'adamax'|'nadam'|'radam'|'adadelta', groups, foreach)
Napi::Value Create(const Napi::CallbackInfo& info) {
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  static const std::vector<std::pair<std::string, const char*>> kinds = {{"sgd", "SGD"},       {"adam", "Adam"},   {"adamw", "AdamW"},
                                                                          {"rmsprop", "RMSprop"}, {"adagrad", "Adagrad"}, {"adamax", "Adamax"},
                                                                          {"nadam", "NAdam"},     {"radam", "RAdam"},   {"adadelta", "Adadelta"}};
  const char* op = "optimizer";
  for (const auto& [k, name] : kinds)
    if (k == kind) op = name;
  return guard(info, op, [&]() -> Napi::Value {
    std::shared_ptr<Optimizer> opt;
    if (kind == "sgd") opt = std::make_shared<SGD>();
    else if (kind == "adam") opt = std::make_shared<Adam>(false);
    else if (kind == "adamw") opt = std::make_shared<Adam>(true);
    else if (kind == "rmsprop") opt = std::make_shared<RMSprop>();
    else if (kind == "adagrad") opt = std::make_shared<Adagrad>();
    else if (kind == "adamax") opt = std::make_shared<Adamax>();
    else if (kind == "nadam") opt = std::make_shared<NAdam>();
    else if (kind == "radam") opt = std::make_shared<RAdam>();
    else if (kind == "adadelta") opt = std::make_shared<Adadelta>();
    else throw ArgTypeError("unknown optimizer kind \"" + kind + "\" (expected sgd, adam, adamw, rmsprop, adagrad, adamax, nadam, radam or adadelta)");
    if (!info[1].IsArray()) throw ArgTypeError("argument 'groups' must be an array of parameter groups");
    opt->foreach = argBool(info, 2, "foreach", true);
    Napi::Array arr = info[1].As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length(); ++k) opt->addGroup(readGroup(info.Env(), arr.Get(k), "group " + std::to_string(k)));
    Napi::Object obj = ctorRef(info.Env()).New({});
    Napi::ObjectWrap<OptimizerHandle>::Unwrap(obj)->own(opt);
    return obj;
  });
}

// optimAddGroup(optimizer, group)
Napi::Value AddGroup(const Napi::CallbackInfo& info) {
  return guard(info, "addParamGroup", [&]() -> Napi::Value {
    auto o = argOptimizer(info, 0, "optimizer");
    o->addGroup(readGroup(info.Env(), info[1], "group"));
    return info.Env().Undefined();
  });
}

// A synchronous update writes every parameter and gradient of the optimiser: refused while a call in flight
// uses one of them (a training step of another optimiser over the same parameters, a forwardAsync reading
// them). The optimiser's own in-flight check covers only steps of this optimiser: two optimisers over shared
// parameters, one stepping on the training thread and one here, corrupted the heap.
// (Nothing in flight, the usual case, costs one test; the message is built only for a conflict.)
void checkParamsIdle(Napi::Env env, const Optimizer& o) {
  const InFlight& inFlight = *state(env).inFlight;
  if (inFlight.uses.empty()) return;
  for (size_t g = 0; g < o.groups.size(); ++g) {
    const auto& ps = o.groups[g].params;
    for (size_t k = 0; k < ps.size(); ++k) {
      const at::Tensor grad = ps[k].grad();
      for (int j = 0; j < 2; ++j) {
        if (const InFlight::Use* u = inFlight.find(storageKey(j == 0 ? ps[k] : grad))) {
          const std::string what = std::string(j == 0 ? "" : "the gradient of ") + "parameter " + std::to_string(k) + " of group " + std::to_string(g);
          throw InUseError(what + " is in use by " + u->op + " in flight; await it first");
        }
      }
    }
  }
}

// optimStep(optimizer, lrScale: Tensor | null)
Napi::Value Step(const Napi::CallbackInfo& info) {
  return guard(info, "optimizer.step", [&]() -> Napi::Value {
    auto o = argOptimizer(info, 0, "optimizer");
    at::Tensor scale;
    if (!isNullish(info[1])) {
      scale = argTensor(info, 1, "lrScale");
      if (scale.dim() != 0) throw ArgRangeError("lrScale must be a 0-d tensor");
    }
    checkParamsIdle(info.Env(), *o);
    o->step(scale);
    return info.Env().Undefined();
  });
}

Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
  return guard(info, "zeroGrad", [&]() -> Napi::Value {
    auto o = argOptimizer(info, 0, "optimizer");
    checkParamsIdle(info.Env(), *o);
    o->zeroGrad(argBool(info, 1, "setToNone", true));
    return info.Env().Undefined();
  });
}

// optimSetGroup(optimizer, group, {lr?, momentum?, ...}): changes the hyper-parameters given.
Napi::Value SetGroup(const Napi::CallbackInfo& info) {
  return guard(info, "paramGroups", [&]() -> Napi::Value {
    auto s = argOptimizer(info, 0, "optimizer");
    int64_t g = argInt(info, 1, "group");
    if (g < 0 || g >= static_cast<int64_t>(s->groups.size())) throw ArgRangeError("group " + std::to_string(g) + " does not exist");
    if (!info[2].IsObject()) throw ArgTypeError("argument 'options' must be an object");
    GroupOptions o = readOptions(info[2].As<Napi::Object>(), s->groups[g].o);
    s->check(o);
    s->groups[g].o = o;
    return info.Env().Undefined();
  });
}

// optimState(optimizer) -> ({[slot]: Tensor} | null)[][]: the state per group, per parameter.
Napi::Value GetState(const Napi::CallbackInfo& info) {
  return guard(info, "stateDict", [&]() -> Napi::Value {
    auto s = argOptimizer(info, 0, "optimizer");
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, s->groups.size());
    for (size_t g = 0; g < s->groups.size(); ++g) {
      const auto& grp = s->groups[g];
      std::vector<std::string> names = s->slotNames(grp.o);
      Napi::Array a = Napi::Array::New(env, grp.params.size());
      for (size_t k = 0; k < grp.params.size(); ++k) {
        Napi::Object entry = Napi::Object::New(env);
        bool any = false;
        for (size_t n = 0; n < names.size() && n < grp.slots.size(); ++n) {
          if (!grp.slots[n][k].defined()) continue;
          entry.Set(names[n], TensorHandle::Wrap(env, grp.slots[n][k]));
          any = true;
        }
        a.Set(static_cast<uint32_t>(k), any ? Napi::Value(entry) : env.Null());
      }
      out.Set(static_cast<uint32_t>(g), a);
    }
    return out;
  });
}

// State slots that hold one number (not a tensor shaped like the parameter): step counts, NAdam's mu_product.
bool isScalarSlot(const std::string& name) { return name == "step" || name == "mu_product"; }

// optimLoadState(optimizer, ({[slot]: Tensor} | null)[][]): copies values into the state (allocating it
// as needed); a null entry clears a parameter's state. Every shape is checked before anything is written.
Napi::Value LoadState(const Napi::CallbackInfo& info) {
  return guard(info, "loadStateDict", [&]() -> Napi::Value {
    auto s = argOptimizer(info, 0, "optimizer");
    if (!info[1].IsArray() || info[1].As<Napi::Array>().Length() != s->groups.size())
      throw ArgRangeError("expected state for " + std::to_string(s->groups.size()) + " parameter groups");
    Napi::Array groups = info[1].As<Napi::Array>();
    Napi::Env env = info.Env();
    // First pass: check; second pass: write.
    struct Item { size_t g, k, slot; at::Tensor src; };
    std::vector<Item> items;
    std::vector<std::pair<size_t, size_t>> cleared;
    for (size_t g = 0; g < s->groups.size(); ++g) {
      auto& grp = s->groups[g];
      std::vector<std::string> names = s->slotNames(grp.o);
      Napi::Value gv = groups.Get(static_cast<uint32_t>(g));
      if (!gv.IsArray() || gv.As<Napi::Array>().Length() != grp.params.size())
        throw ArgRangeError("group " + std::to_string(g) + " has " + std::to_string(grp.params.size()) + " parameters; the state has a different count");
      Napi::Array a = gv.As<Napi::Array>();
      for (size_t k = 0; k < grp.params.size(); ++k) {
        Napi::Value v = a.Get(static_cast<uint32_t>(k));
        const std::string where = "parameter " + std::to_string(k) + " of group " + std::to_string(g);
        if (isNullish(v)) { cleared.emplace_back(g, k); continue; }
        if (!v.IsObject()) throw ArgTypeError("the state of " + where + " must be an object of Tensors or null");
        Napi::Object e = v.As<Napi::Object>();
        Napi::Array keys = e.GetPropertyNames();
        for (uint32_t q = 0; q < keys.Length(); ++q) {
          std::string key = keys.Get(q).As<Napi::String>().Utf8Value();
          size_t slot = std::find(names.begin(), names.end(), key) - names.begin();
          if (slot == names.size()) throw ArgRangeError("the state of " + where + " has an unknown entry \"" + key + "\" (" + s->name() + " keeps " + c10::Join(", ", names) + ")");
          Napi::Value t = e.Get(key);
          if (!isTensor(env, t)) throw ArgTypeError("state \"" + key + "\" of " + where + " must be a Tensor");
          const at::Tensor& src = Napi::ObjectWrap<TensorHandle>::Unwrap(t.As<Napi::Object>())->tensor("state");
          const at::Tensor& p = grp.params[k];
          if (isScalarSlot(key)) {
            if (src.numel() != 1) throw ArgRangeError("state \"" + key + "\" of " + where + " must hold one number, got shape [" + c10::Join(", ", src.sizes()) + "]");
          } else if (!src.sizes().equals(p.sizes())) {
            throw ArgRangeError("state \"" + key + "\" of " + where + " has shape [" + c10::Join(", ", src.sizes()) + "] but its parameter has [" +
                                c10::Join(", ", p.sizes()) + "]");
          }
          items.push_back({g, k, slot, src});
        }
      }
    }
    at::NoGradGuard noGrad;
    for (auto [g, k] : cleared)
      for (auto& slot : s->groups[g].slots) slot[k] = at::Tensor();
    for (auto& it : items) {
      auto& grp = s->groups[it.g];
      ensureSlots(grp, s->slotNames(grp.o).size());
      const at::Tensor& p = grp.params[it.k];
      if (isScalarSlot(s->slotNames(grp.o)[it.slot])) {
        // A float32 0-d value (a counter, NAdam's mu_product): on the CPU for the host-side maths, on the device when
        // the step is capturable (each step moves it where its form wants it).
        grp.slots[it.slot][it.k] = it.src.detach().reshape({}).to(at::TensorOptions().dtype(at::kFloat).device(p.is_cuda() ? p.device() : at::Device(at::kCPU)), false, true);
      } else {
        at::Tensor& dst = grp.slots[it.slot][it.k];
        if (!dst.defined()) dst = at::empty_like(p, at::MemoryFormat::Preserve);
        dst.copy_(it.src);
      }
    }
    return info.Env().Undefined();
  });
}

// optimDispose(optimizer): the handle's dispose() as a function (a wrong argument is a TypeError; refused
// while a training step in flight uses the optimiser; idempotent).
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  return guard(info, "optimizer.dispose", [&]() -> Napi::Value {
    argOptimizerHandle(info, 0, "optimizer");
    Napi::Object handle = info[0].As<Napi::Object>();
    return handle.Get("dispose").As<Napi::Function>().Call(handle, {});
  });
}

// ---------------------------------------------------------------- gradient clipping (torch.nn.utils)

std::vector<at::Tensor> gradsOf(const Napi::CallbackInfo& info, size_t i) {
  std::vector<at::Tensor> grads;
  for (const auto& p : argTensorList(info, i, "parameters"))
    if (p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

// clipGradNorm(parameters, maxNorm, normType (Infinity for the max norm), errorIfNonfinite, foreach) -> total
// norm (0-d tensor). As torch.nn.utils.clip_grad_norm_: the norm of the per-gradient norms, then every
// gradient times min(1, maxNorm / (total + 1e-6)), computed on the device without a host read (except
// for errorIfNonfinite, which has to look).
Napi::Value ClipGradNorm(const Napi::CallbackInfo& info) {
  return guard(info, "clipGradNorm_", [&]() -> Napi::Value {
    std::vector<at::Tensor> grads = gradsOf(info, 0);
    const double maxNorm = argDouble(info, 1, "maxNorm");
    const double normType = argDouble(info, 2, "normType");
    const bool errorIfNonfinite = argBool(info, 3, "errorIfNonfinite", false);
    const bool foreach = argBool(info, 4, "foreach", true);
    if (grads.empty()) return TensorHandle::Wrap(info.Env(), at::zeros({}));
    at::NoGradGuard noGrad;
    const at::Device device = grads[0].device();
    for (const auto& g : grads)
      if (g.device() != device) throw ArgRangeError("all gradients must be on one device (found " + deviceName(device) + " and " + deviceName(g.device()) + ")");
    at::Tensor total;
    if (std::isinf(normType)) {
      std::vector<at::Tensor> norms;
      for (const auto& g : grads) norms.push_back(g.detach().abs().max());
      total = norms.size() == 1 ? norms[0] : at::stack(norms).max();
    } else {
      std::vector<at::Tensor> norms;
      if (foreach && normType == 2) norms = at::_foreach_norm(grads, normType);
      else
        for (const auto& g : grads) norms.push_back(at::linalg_vector_norm(g.detach(), normType));
      total = at::linalg_vector_norm(at::stack(norms), normType);
    }
    if (errorIfNonfinite && (total.isnan().item<bool>() || total.isinf().item<bool>()))
      throw ArgRangeError("the total norm of order " + std::to_string(normType) +
                          " of the gradients is non-finite, so it cannot be clipped (errorIfNonfinite: false skips this check)");
    at::Tensor coef = at::clamp_max(at::div(at::scalar_tensor(maxNorm, total.options()), total.add(1e-6)), 1.0);
    if (foreach) compat::foreachMulTensor_(grads, coef);
    else
      for (auto& g : grads) g.detach().mul_(coef.to(g.device()));
    return TensorHandle::Wrap(info.Env(), total);
  });
}

// clipGradValue(parameters, clipValue): every gradient clamped to [-clipValue, clipValue] in place.
Napi::Value ClipGradValue(const Napi::CallbackInfo& info) {
  return guard(info, "clipGradValue_", [&]() -> Napi::Value {
    std::vector<at::Tensor> grads = gradsOf(info, 0);
    const double v = argDouble(info, 1, "clipValue");
    at::NoGradGuard noGrad;
    for (auto& g : grads) g.clamp_(-v, v);
    return info.Env().Undefined();
  });
}

}  // namespace

void InitOptim(Napi::Env env, Napi::Object exports) {
  OptimizerHandle::Init(env, exports);
  exports.Set("optimCreate", Napi::Function::New<Create>(env, "optimCreate"));
  exports.Set("optimAddGroup", Napi::Function::New<AddGroup>(env, "optimAddGroup"));
  exports.Set("optimStep", Napi::Function::New<Step>(env, "optimStep"));
  exports.Set("optimZeroGrad", Napi::Function::New<ZeroGrad>(env, "optimZeroGrad"));
  exports.Set("optimSetGroup", Napi::Function::New<SetGroup>(env, "optimSetGroup"));
  exports.Set("optimState", Napi::Function::New<GetState>(env, "optimState"));
  exports.Set("optimLoadState", Napi::Function::New<LoadState>(env, "optimLoadState"));
  exports.Set("optimDispose", Napi::Function::New<Dispose>(env, "optimDispose"));
  exports.Set("clipGradNorm", Napi::Function::New<ClipGradNorm>(env, "clipGradNorm"));
  exports.Set("clipGradValue", Napi::Function::New<ClipGradValue>(env, "clipGradValue"));
}

}  // namespace ictorch
