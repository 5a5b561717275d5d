// functional.cc: the functional forms of torch.nn.functional that ictorch exposes (convolution, linear,
// normalisation, pooling, activations, embedding, dropout) and the losses, each one ATen call with autograd.
// TypeScript (lib/nn/functional.ts, lib/nn/losses.ts) checks shapes and dtypes first and names the
// mismatch; here arguments are converted, and what TS cannot see (class indices out of range) is checked.
#include <ATen/ATen.h>
#include <ATen/core/Reduction.h>
#include <limits>
#include "compat.h"
#include "tensor.h"

namespace ictorch {
namespace {

at::Tensor optTensor(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return isNullish(info[i]) ? at::Tensor() : argTensor(info, i, name);
}

compat::optional<at::Tensor> opt(const at::Tensor& t) { return t.defined() ? compat::optional<at::Tensor>(t) : compat::nullopt; }

Napi::Value wrap(const Napi::CallbackInfo& info, const at::Tensor& t) { return TensorHandle::Wrap(info.Env(), t); }

int64_t reduction(const Napi::CallbackInfo& info, size_t i) {
  std::string r = argString(info, i, "reduction");
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw ArgTypeError("reduction must be \"mean\", \"sum\" or \"none\", got \"" + r + "\"");
}

// The groups argument of a convolution. LibTorch keeps groups in an int: 2^32 would wrap to 0 (a division by
// zero) and 2^32 + 1 to 1.
int64_t argGroups(const Napi::CallbackInfo& info, size_t i) {
  int64_t groups = argInt(info, i, "groups");
  if (groups < 1 || groups > std::numeric_limits<int32_t>::max()) throw ArgRangeError("groups must be between 1 and 2^31 - 1, got " + std::to_string(groups));
  return groups;
}

// conv2d(x, weight, bias|null, stride[2], padding[2] | 'same' | 'valid', dilation[2], groups)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  return guard(info, "conv2d", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const at::Tensor& w = argTensor(info, 1, "weight");
    at::Tensor b = optTensor(info, 2, "bias");
    auto stride = argIntList(info, 3, "stride");
    auto dilation = argIntList(info, 5, "dilation");
    int64_t groups = argGroups(info, 6);
    if (info[4].IsString()) return wrap(info, at::conv2d(x, w, opt(b), stride, argString(info, 4, "padding"), dilation, groups));
    return wrap(info, at::conv2d(x, w, opt(b), stride, argIntList(info, 4, "padding"), dilation, groups));
  });
}

// convTranspose2d(x, weight, bias|null, stride[2], padding[2], outputPadding[2], groups, dilation[2])
Napi::Value ConvTranspose2d(const Napi::CallbackInfo& info) {
  return guard(info, "convTranspose2d", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const at::Tensor& w = argTensor(info, 1, "weight");
    at::Tensor b = optTensor(info, 2, "bias");
    auto stride = argIntList(info, 3, "stride");
    auto padding = argIntList(info, 4, "padding");
    auto outputPadding = argIntList(info, 5, "outputPadding");
    int64_t groups = argGroups(info, 6);
    auto dilation = argIntList(info, 7, "dilation");
    return wrap(info, at::conv_transpose2d(x, w, opt(b), stride, padding, outputPadding, groups, dilation));
  });
}

// linear(x, weight, bias|null)
Napi::Value Linear(const Napi::CallbackInfo& info) {
  return guard(info, "linear", [&]() -> Napi::Value {
    return wrap(info, at::linear(argTensor(info, 0, "input"), argTensor(info, 1, "weight"), opt(optTensor(info, 2, "bias"))));
  });
}

// batchNorm(x, runningMean|null, runningVar|null, weight|null, bias|null, training, momentum, eps)
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  return guard(info, "batchNorm", [&]() -> Napi::Value {
    return wrap(info, at::batch_norm(argTensor(info, 0, "input"), opt(optTensor(info, 3, "weight")), opt(optTensor(info, 4, "bias")),
                                     opt(optTensor(info, 1, "runningMean")), opt(optTensor(info, 2, "runningVar")), argBool(info, 5, "training", false),
                                     argDouble(info, 6, "momentum"), argDouble(info, 7, "eps"), at::globalContext().userEnabledCuDNN()));
  });
}

// layerNorm(x, normalizedShape, weight|null, bias|null, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  return guard(info, "layerNorm", [&]() -> Napi::Value {
    return wrap(info, at::layer_norm(argTensor(info, 0, "input"), argIntList(info, 1, "normalizedShape"), opt(optTensor(info, 2, "weight")),
                                     opt(optTensor(info, 3, "bias")), argDouble(info, 4, "eps"), at::globalContext().userEnabledCuDNN()));
  });
}

// groupNorm(x, numGroups, weight|null, bias|null, eps)
Napi::Value GroupNorm(const Napi::CallbackInfo& info) {
  return guard(info, "groupNorm", [&]() -> Napi::Value {
    return wrap(info, at::group_norm(argTensor(info, 0, "input"), argInt(info, 1, "numGroups"), opt(optTensor(info, 2, "weight")),
                                     opt(optTensor(info, 3, "bias")), argDouble(info, 4, "eps"), at::globalContext().userEnabledCuDNN()));
  });
}

// embedding(indices, weight, paddingIdx (-1: none), maxNorm|null, normType, scaleGradByFreq)
Napi::Value Embedding(const Napi::CallbackInfo& info) {
  return guard(info, "embedding", [&]() -> Napi::Value {
    at::Tensor idx = argTensor(info, 0, "input").contiguous();
    // maxNorm renormalises rows of the weight in place: refused, as any in-place change, while a call in flight uses it
    const at::Tensor& w = isNullish(info[3]) ? argTensor(info, 1, "weight") : argMutableTensor(info, 1, "weight");
    if (idx.numel() > 0) {
      const int64_t n = w.size(0);
      const auto [mn, mx] = intBounds(idx);
      if (mn < 0 || mx >= n)
        throw ArgRangeError("index " + std::to_string(mn < 0 ? mn : mx) + " is out of range for a weight of " + std::to_string(n) +
                            " embeddings (expected indices in [0, " + std::to_string(n) + "))");
    }
    if (!isNullish(info[3])) {
      at::NoGradGuard ng;
      at::embedding_renorm_(const_cast<at::Tensor&>(w), idx, argDouble(info, 3, "maxNorm"), argDouble(info, 4, "normType"));
    }
    return wrap(info, at::embedding(w, idx, argInt(info, 2, "paddingIdx"), argBool(info, 5, "scaleGradByFreq", false), false));
  });
}

// dropout(x, p, training)
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  return guard(info, "dropout", [&]() -> Napi::Value {
    return wrap(info, at::dropout(argTensor(info, 0, "input"), argDouble(info, 1, "p"), argBool(info, 2, "training", true)));
  });
}

// dropout2d(x, p, training): whole channels zeroed (at::feature_dropout), as F.dropout2d
Napi::Value Dropout2d(const Napi::CallbackInfo& info) {
  return guard(info, "dropout2d", [&]() -> Napi::Value {
    return wrap(info, at::feature_dropout(argTensor(info, 0, "input"), argDouble(info, 1, "p"), argBool(info, 2, "training", true)));
  });
}

// pad(x, pad[], mode, value|null): at::pad, F.pad's modes (constant, reflect, replicate, circular)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  return guard(info, "pad", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    auto pad = argIntList(info, 1, "pad");
    std::string mode = argString(info, 2, "mode");
    if (mode != "constant" && mode != "reflect" && mode != "replicate" && mode != "circular")
      throw ArgTypeError("mode must be \"constant\", \"reflect\", \"replicate\" or \"circular\", got \"" + mode + "\"");
    compat::optional<double> value;
    if (!isNullish(info[3])) value = argDouble(info, 3, "value");
    return wrap(info, at::pad(x, pad, mode, value));
  });
}

// activation(op, x, a, b): gelu (a: approximate), silu, mish, hardswish, hardsigmoid, leakyRelu (a: negativeSlope),
// elu (a: alpha), hardtanh (a: minVal, b: maxVal), softplus (a: beta, b: threshold)
Napi::Value Activation(const Napi::CallbackInfo& info) {
  std::string op = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "activation";
  return guard(info, op.c_str(), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 1, "input");
    if (op == "gelu") return wrap(info, at::gelu(x, isNullish(info[2]) ? std::string("none") : argString(info, 2, "approximate")));
    if (op == "silu") return wrap(info, at::silu(x));
    if (op == "mish") return wrap(info, at::mish(x));
    if (op == "hardswish") return wrap(info, at::hardswish(x));
    if (op == "hardsigmoid") return wrap(info, at::hardsigmoid(x));
    // the rest take one or two numbers (info[2], info[3])
    if (op == "leakyRelu") return wrap(info, at::leaky_relu(x, argDouble(info, 2, "negativeSlope")));
    if (op == "elu") return wrap(info, at::elu(x, argDouble(info, 2, "alpha")));
    if (op == "hardtanh") return wrap(info, at::hardtanh(x, argDouble(info, 2, "minVal"), argDouble(info, 3, "maxVal")));
    if (op == "softplus") return wrap(info, at::softplus(x, argDouble(info, 2, "beta"), argDouble(info, 3, "threshold")));
    throw ArgTypeError("unknown activation \"" + op + "\"");
  });
}

// distance(kind, x1, x2, a, b, keepdim): cosineSimilarity (dim, eps), pairwiseDistance (p, eps, keepdim), cdist (p)
Napi::Value Distance(const Napi::CallbackInfo& info) {
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "distance";
  return guard(info, kind.c_str(), [&]() -> Napi::Value {
    const at::Tensor& a = argTensor(info, 1, "x1");
    const at::Tensor& b = argTensor(info, 2, "x2");
    if (kind == "cosineSimilarity") return wrap(info, at::cosine_similarity(a, b, argInt(info, 3, "dim"), argDouble(info, 4, "eps")));
    const double p = argDouble(info, 3, "p");  // Infinity allowed: the largest difference
    if (!(p >= 0)) throw ArgRangeError("p must be >= 0, got " + std::to_string(p));
    if (kind == "pairwiseDistance") return wrap(info, at::pairwise_distance(a, b, p, argDouble(info, 4, "eps"), argBool(info, 5, "keepdim", false)));
    if (kind == "cdist") return wrap(info, at::cdist(a, b, p));
    throw ArgTypeError("unknown distance \"" + kind + "\"");
  });
}

// oneHot(indices, numClasses): int64 [..., numClasses]; numClasses -1 means max + 1. Checked here because CUDA's
// path meets a class out of range with a device-side assert.
Napi::Value OneHot(const Napi::CallbackInfo& info) {
  return guard(info, "oneHot", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "tensor");
    if (x.scalar_type() != at::kLong) throw ArgTypeError(std::string("tensor must be an int64 tensor of class indices, got ") + dtypeName(x.scalar_type()));
    int64_t n = argInt(info, 1, "numClasses");
    if (n < -1) throw ArgRangeError("numClasses must be -1 or >= 0, got " + std::to_string(n));
    if (x.numel() > 0) {
      const auto [mn, mx] = intBounds(x);
      if (mn < 0) throw ArgRangeError("class values must be >= 0, found " + std::to_string(mn));
      if (n >= 0 && mx >= n) throw ArgRangeError("class values must be smaller than numClasses (" + std::to_string(n) + "), found " + std::to_string(mx));
    } else if (n < 0) {
      throw ArgRangeError("numClasses must be given for an empty tensor");
    }
    return wrap(info, at::one_hot(x, n));
  });
}

// softmax(x, dim, dtype|null, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const bool log = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  return guard(info, log ? "logSoftmax" : "softmax", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    int64_t dim = argInt(info, 1, "dim");
    compat::optional<at::ScalarType> dtype = compat::opt(argOptDType(info, 2, "dtype"));
    return wrap(info, log ? at::log_softmax(x, dim, dtype) : at::softmax(x, dim, dtype));
  });
}

// maxPool2d(x, kernel[2], stride[2], padding[2], dilation[2], ceilMode, returnIndices) -> out | [out, indices]
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  return guard(info, "maxPool2d", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    auto k = argIntList(info, 1, "kernelSize"), s = argIntList(info, 2, "stride"), p = argIntList(info, 3, "padding"), d = argIntList(info, 4, "dilation");
    bool ceil = argBool(info, 5, "ceilMode", false);
    if (argBool(info, 6, "returnIndices", false)) {
      auto [out, idx] = at::max_pool2d_with_indices(x, k, s, p, d, ceil);
      return wrapList(info.Env(), {out, idx});
    }
    return wrap(info, at::max_pool2d(x, k, s, p, d, ceil));
  });
}

// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad, divisorOverride|null)
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  return guard(info, "avgPool2d", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    compat::optional<int64_t> div = compat::opt(argOptInt(info, 6, "divisorOverride"));
    if (div && (*div < 1 || *div > std::numeric_limits<int32_t>::max())) throw ArgRangeError("divisorOverride must be between 1 and 2^31 - 1, got " + std::to_string(*div));
    return wrap(info, at::avg_pool2d(x, argIntList(info, 1, "kernelSize"), argIntList(info, 2, "stride"), argIntList(info, 3, "padding"),
                                     argBool(info, 4, "ceilMode", false), argBool(info, 5, "countIncludePad", true), div));
  });
}

// adaptiveAvgPool2d(x, outputSize[2])
Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  return guard(info, "adaptiveAvgPool2d", [&]() -> Napi::Value {
    return wrap(info, at::adaptive_avg_pool2d(argTensor(info, 0, "input"), argIntList(info, 1, "outputSize")));
  });
}

// interpolate(x, mode, size[2], scaleH|null, scaleW|null, alignCorners): 2-d resampling of (N, C, H, W) to `size`;
// the scales, when given, are what the kernels use to map output to input positions (PyTorch's scale_factor
// without recompute_scale_factor), otherwise in/out.
Napi::Value Interpolate(const Napi::CallbackInfo& info) {
  return guard(info, "interpolate", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    std::string mode = argString(info, 1, "mode");
    auto size = argIntList(info, 2, "size");
    compat::optional<double> sh, sw;
    if (!isNullish(info[3])) sh = argDouble(info, 3, "scaleH");
    if (!isNullish(info[4])) sw = argDouble(info, 4, "scaleW");
    bool alignCorners = argBool(info, 5, "alignCorners", false);
    if (mode == "nearest") return wrap(info, at::upsample_nearest2d(x, size, sh, sw));
    if (mode == "nearest-exact") return wrap(info, at::_upsample_nearest_exact2d(x, size, sh, sw));
    if (mode == "bilinear") return wrap(info, at::upsample_bilinear2d(x, size, alignCorners, sh, sw));
    if (mode == "bicubic") return wrap(info, at::upsample_bicubic2d(x, size, alignCorners, sh, sw));
    if (mode == "area") return wrap(info, at::adaptive_avg_pool2d(x, size));
    throw ArgTypeError("mode must be \"nearest\", \"nearest-exact\", \"bilinear\", \"bicubic\" or \"area\", got \"" + mode + "\"");
  });
}

// ---------------------------------------------------------------- losses

// Class indices must lie in [0, C) or equal ignoreIndex (see intBounds for why this is checked here).
void checkClasses(const at::Tensor& input, const at::Tensor& target, int64_t ignoreIndex) {
  if (at::isFloatingType(target.scalar_type()) || target.numel() == 0) return;
  const int64_t c = input.dim() == 1 ? input.size(0) : input.size(1);
  at::Tensor counted;
  {
    at::NoGradGuard ng;
    counted = target.masked_fill(target.eq(ignoreIndex), 0);  // ignored entries count as class 0
  }
  const auto [mn, mx] = intBounds(counted);
  if (mn < 0 || mx >= c)
    throw ArgRangeError("target holds class " + std::to_string(mn < 0 ? mn : mx) + ", outside [0, " + std::to_string(c) +
                        ") for an input with " + std::to_string(c) + " classes");
}

at::Tensor classTarget(const at::Tensor& t) { return at::isFloatingType(t.scalar_type()) || t.scalar_type() == at::kLong ? t : t.to(at::kLong); }

// crossEntropy(input, target, weight|null, reduction, ignoreIndex, labelSmoothing)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  return guard(info, "crossEntropy", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    at::Tensor t = classTarget(argTensor(info, 1, "target"));
    int64_t ignore = argInt(info, 4, "ignoreIndex");
    checkClasses(x, t, ignore);
    return wrap(info, at::cross_entropy_loss(x, t, opt(optTensor(info, 2, "weight")), reduction(info, 3), ignore, argDouble(info, 5, "labelSmoothing")));
  });
}

// nllLoss(input, target, weight|null, reduction, ignoreIndex)
Napi::Value NllLoss(const Napi::CallbackInfo& info) {
  return guard(info, "nllLoss", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    at::Tensor t = classTarget(argTensor(info, 1, "target"));
    int64_t ignore = argInt(info, 4, "ignoreIndex");
    checkClasses(x, t, ignore);
    return wrap(info, at::nll_loss_nd(x, t, opt(optTensor(info, 2, "weight")), reduction(info, 3), ignore));
  });
}

// pointwiseLoss(kind: 'mse'|'l1'|'smoothL1'|'huber'|'bce', input, target, reduction, a, weight|null): a is smoothL1's
// beta or huber's delta; weight is bce's.
Napi::Value PointwiseLoss(const Napi::CallbackInfo& info) {
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  const std::string op = kind == "bce" ? "binaryCrossEntropy" : kind + "Loss";
  return guard(info, op.c_str(), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 1, "input");
    const at::Tensor& t = argTensor(info, 2, "target");
    if (kind == "mse") return wrap(info, at::mse_loss(x, t, reduction(info, 3)));
    if (kind == "l1") return wrap(info, at::l1_loss(x, t, reduction(info, 3)));
    if (kind == "smoothL1") return wrap(info, at::smooth_l1_loss(x, t, reduction(info, 3), argDouble(info, 4, "beta")));
    if (kind == "huber") return wrap(info, at::huber_loss(x, t, reduction(info, 3), argDouble(info, 4, "delta")));
    if (kind == "bce") {
      // checked on every device (see checkUnitInterval); LibTorch 2.x refuses such targets on the CPU too, 1.13 took them
      checkUnitInterval(x, "input");
      checkUnitInterval(t, "target", "values");
      return wrap(info, at::binary_cross_entropy(x, t, opt(optTensor(info, 5, "weight")), reduction(info, 3)));
    }
    throw ArgTypeError("unknown loss \"" + kind + "\"");
  });
}

// bceWithLogits(input, target, weight|null, posWeight|null, reduction)
Napi::Value BceWithLogits(const Napi::CallbackInfo& info) {
  return guard(info, "binaryCrossEntropyWithLogits", [&]() -> Napi::Value {
    return wrap(info, at::binary_cross_entropy_with_logits(argTensor(info, 0, "input"), argTensor(info, 1, "target"), opt(optTensor(info, 2, "weight")),
                                                           opt(optTensor(info, 3, "posWeight")), reduction(info, 4)));
  });
}

// klDiv(input, target, reduction: 'mean'|'sum'|'none'|'batchmean', logTarget)
Napi::Value KlDiv(const Napi::CallbackInfo& info) {
  return guard(info, "klDiv", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const at::Tensor& t = argTensor(info, 1, "target");
    bool logTarget = argBool(info, 3, "logTarget", false);
    if (argString(info, 2, "reduction") == "batchmean") {
      at::Tensor sum = at::kl_div(x, t, at::Reduction::Sum, logTarget);
      return wrap(info, x.dim() != 0 ? sum / x.size(0) : sum);
    }
    return wrap(info, at::kl_div(x, t, reduction(info, 2), logTarget));
  });
}

}  // namespace

void InitFunctional(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New<Conv2d>(env, "conv2d"));
  exports.Set("convTranspose2d", Napi::Function::New<ConvTranspose2d>(env, "convTranspose2d"));
  exports.Set("linear", Napi::Function::New<Linear>(env, "linear"));
  exports.Set("groupNorm", Napi::Function::New<GroupNorm>(env, "groupNorm"));
  exports.Set("interpolate", Napi::Function::New<Interpolate>(env, "interpolate"));
  exports.Set("dropout2d", Napi::Function::New<Dropout2d>(env, "dropout2d"));
  exports.Set("pad", Napi::Function::New<Pad>(env, "pad"));
  exports.Set("batchNorm", Napi::Function::New<BatchNorm>(env, "batchNorm"));
  exports.Set("layerNorm", Napi::Function::New<LayerNorm>(env, "layerNorm"));
  exports.Set("embedding", Napi::Function::New<Embedding>(env, "embedding"));
  exports.Set("dropout", Napi::Function::New<Dropout>(env, "dropout"));
  exports.Set("activation", Napi::Function::New<Activation>(env, "activation"));
  exports.Set("distance", Napi::Function::New<Distance>(env, "distance"));
  exports.Set("oneHot", Napi::Function::New<OneHot>(env, "oneHot"));
  exports.Set("softmax", Napi::Function::New<Softmax>(env, "softmax"));
  exports.Set("maxPool2d", Napi::Function::New<MaxPool2d>(env, "maxPool2d"));
  exports.Set("avgPool2d", Napi::Function::New<AvgPool2d>(env, "avgPool2d"));
  exports.Set("adaptiveAvgPool2d", Napi::Function::New<AdaptiveAvgPool2d>(env, "adaptiveAvgPool2d"));
  exports.Set("crossEntropy", Napi::Function::New<CrossEntropy>(env, "crossEntropy"));
  exports.Set("nllLoss", Napi::Function::New<NllLoss>(env, "nllLoss"));
  exports.Set("pointwiseLoss", Napi::Function::New<PointwiseLoss>(env, "pointwiseLoss"));
  exports.Set("bceWithLogits", Napi::Function::New<BceWithLogits>(env, "bceWithLogits"));
  exports.Set("klDiv", Napi::Function::New<KlDiv>(env, "klDiv"));
}

}  // namespace ictorch
