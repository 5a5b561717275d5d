// functional.cc: the functional forms of torch.nn.functional that ictorch exposes (convolution and pooling in
// 1, 2 and 3 dimensions, linear, normalisation, resampling, recurrent layers, activations, embedding, dropout)
// and the losses, each one ATen call with autograd (lpPool and localResponseNorm: PyTorch's few ATen calls).
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

// The N-d forms (N = 1, 2, 3) share one body each; the op name a caller sees is conv1d, maxPool3d, ...
template <int N>
constexpr const char* byDims(const char* one, const char* two, const char* three) {
  return N == 1 ? one : N == 2 ? two : three;
}

// conv{N}d(x, weight, bias|null, stride[N], padding[N] | 'same' | 'valid', dilation[N], groups)
template <int N>
Napi::Value ConvNd(const Napi::CallbackInfo& info) {
  return guard(info, byDims<N>("conv1d", "conv2d", "conv3d"), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const at::Tensor& w = argTensor(info, 1, "weight");
    at::Tensor b = optTensor(info, 2, "bias");
    auto stride = argIntList(info, 3, "stride");
    auto dilation = argIntList(info, 5, "dilation");
    int64_t groups = argGroups(info, 6);
    auto conv = [&](auto padding) {
      if constexpr (N == 1) return at::conv1d(x, w, opt(b), stride, padding, dilation, groups);
      else if constexpr (N == 2) return at::conv2d(x, w, opt(b), stride, padding, dilation, groups);
      else return at::conv3d(x, w, opt(b), stride, padding, dilation, groups);
    };
    if (info[4].IsString()) {
      const std::string padding = argString(info, 4, "padding");
      return wrap(info, conv(c10::string_view(padding)));
    }
    return wrap(info, conv(at::IntArrayRef(argIntList(info, 4, "padding"))));
  });
}

// convTranspose{N}d(x, weight, bias|null, stride[N], padding[N], outputPadding[N], groups, dilation[N])
template <int N>
Napi::Value ConvTransposeNd(const Napi::CallbackInfo& info) {
  return guard(info, byDims<N>("convTranspose1d", "convTranspose2d", "convTranspose3d"), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const at::Tensor& w = argTensor(info, 1, "weight");
    at::Tensor b = optTensor(info, 2, "bias");
    auto stride = argIntList(info, 3, "stride");
    auto padding = argIntList(info, 4, "padding");
    auto outputPadding = argIntList(info, 5, "outputPadding");
    int64_t groups = argGroups(info, 6);
    auto dilation = argIntList(info, 7, "dilation");
    if constexpr (N == 1) return wrap(info, at::conv_transpose1d(x, w, opt(b), stride, padding, outputPadding, groups, dilation));
    else if constexpr (N == 2) return wrap(info, at::conv_transpose2d(x, w, opt(b), stride, padding, outputPadding, groups, dilation));
    else return wrap(info, at::conv_transpose3d(x, w, opt(b), stride, padding, outputPadding, groups, dilation));
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
    if (op == "selu") return wrap(info, at::selu(x));
    if (op == "logSigmoid") return wrap(info, at::log_sigmoid(x));
    if (op == "celu") return wrap(info, at::celu(x, argDouble(info, 2, "alpha")));
    if (op == "softshrink") return wrap(info, at::softshrink(x, argDouble(info, 2, "lambd")));
    if (op == "hardshrink") return wrap(info, at::hardshrink(x, argDouble(info, 2, "lambd")));
    if (op == "glu") {
      const int64_t n = std::max<int64_t>(x.dim(), 1), dim = argInt(info, 2, "dim");
      if (dim < -n || dim >= n) throw ArgRangeError("dim " + std::to_string(dim) + " is out of range for a tensor of " + std::to_string(x.dim()) + " dimensions");
      if (x.dim() == 0 || x.size(dim < 0 ? dim + n : dim) % 2 != 0)
        throw ArgRangeError("glu halves dimension " + std::to_string(dim) + ", which must have an even size, got shape " + c10::str(x.sizes()));
      return wrap(info, at::glu(x, dim));
    }
    if (op == "rrelu") {
      // rrelu(x, lower, upper, training): in training each element's slope is drawn from U(lower, upper) with the
      // default generator; in eval the slope is (lower + upper) / 2
      const double lower = argDouble(info, 2, "lower"), upper = argDouble(info, 3, "upper");
      if (!(lower <= upper)) throw ArgRangeError("lower (" + std::to_string(lower) + ") must be <= upper (" + std::to_string(upper) + ")");
      return wrap(info, at::rrelu(x, lower, upper, argBool(info, 4, "training", false)));
    }
    if (op == "prelu") return wrap(info, at::prelu(x, argTensor(info, 2, "weight")));
    if (op == "threshold") return wrap(info, at::threshold(x, argDouble(info, 2, "threshold"), argDouble(info, 3, "value")));
    throw ArgTypeError("unknown activation \"" + op + "\"");
  });
}

// instanceNorm(x, weight|null, bias|null, runningMean|null, runningVar|null, useInputStats, momentum, eps): per-sample,
// per-channel normalisation of (N, C, *) as F.instance_norm
Napi::Value InstanceNorm(const Napi::CallbackInfo& info) {
  return guard(info, "instanceNorm", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    // the running statistics are updated in place: refused while a call in flight uses them
    at::Tensor rm = isNullish(info[3]) ? at::Tensor() : argMutableTensor(info, 3, "runningMean");
    at::Tensor rv = isNullish(info[4]) ? at::Tensor() : argMutableTensor(info, 4, "runningVar");
    return wrap(info, at::instance_norm(x, opt(optTensor(info, 1, "weight")), opt(optTensor(info, 2, "bias")), opt(rm), opt(rv), argBool(info, 5, "useInputStats", true),
                                        argDouble(info, 6, "momentum"), argDouble(info, 7, "eps"), at::globalContext().userEnabledCuDNN()));
  });
}

// rearrange(op: 'pixelShuffle'|'pixelUnshuffle'|'channelShuffle', x, factor)
Napi::Value Rearrange(const Napi::CallbackInfo& info) {
  std::string op = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "rearrange";
  return guard(info, op.c_str(), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 1, "input");
    const int64_t f = argInt(info, 2, op == "channelShuffle" ? "groups" : op == "pixelShuffle" ? "upscaleFactor" : "downscaleFactor");
    if (f < 1) throw ArgRangeError("the factor must be >= 1, got " + std::to_string(f));
    if (op == "pixelShuffle") return wrap(info, at::pixel_shuffle(x, f));
    if (op == "pixelUnshuffle") return wrap(info, at::pixel_unshuffle(x, f));
    if (op == "channelShuffle") return wrap(info, at::channel_shuffle(x, f));
    throw ArgTypeError("unknown op \"" + op + "\"");
  });
}

// unfold(x, kernel[2], dilation[2], padding[2], stride[2]) and fold(x, outputSize[2], kernel[2], dilation[2],
// padding[2], stride[2]): sliding blocks to columns and back, as F.unfold / F.fold (im2col / col2im)
Napi::Value Unfold(const Napi::CallbackInfo& info) {
  return guard(info, "unfold", [&]() -> Napi::Value {
    return wrap(info, at::im2col(argTensor(info, 0, "input"), argIntList(info, 1, "kernelSize"), argIntList(info, 2, "dilation"), argIntList(info, 3, "padding"),
                                 argIntList(info, 4, "stride")));
  });
}

Napi::Value Fold(const Napi::CallbackInfo& info) {
  return guard(info, "fold", [&]() -> Napi::Value {
    return wrap(info, at::col2im(argTensor(info, 0, "input"), argIntList(info, 1, "outputSize"), argIntList(info, 2, "kernelSize"), argIntList(info, 3, "dilation"),
                                 argIntList(info, 4, "padding"), argIntList(info, 5, "stride")));
  });
}

// bilinear(x1, x2, weight, bias|null): y = x1ᵀ·W·x2 + b, as F.bilinear
Napi::Value Bilinear(const Napi::CallbackInfo& info) {
  return guard(info, "bilinear", [&]() -> Napi::Value {
    return wrap(info, at::bilinear(argTensor(info, 0, "input1"), argTensor(info, 1, "input2"), argTensor(info, 2, "weight"), opt(optTensor(info, 3, "bias"))));
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

// maxPool{N}d(x, kernel[N], stride[N], padding[N], dilation[N], ceilMode, returnIndices) -> out | [out, indices]
template <int N>
Napi::Value MaxPoolNd(const Napi::CallbackInfo& info) {
  return guard(info, byDims<N>("maxPool1d", "maxPool2d", "maxPool3d"), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    auto k = argIntList(info, 1, "kernelSize"), s = argIntList(info, 2, "stride"), p = argIntList(info, 3, "padding"), d = argIntList(info, 4, "dilation");
    bool ceil = argBool(info, 5, "ceilMode", false);
    if (argBool(info, 6, "returnIndices", false)) {
      std::tuple<at::Tensor, at::Tensor> r;
      if constexpr (N == 1) r = at::max_pool1d_with_indices(x, k, s, p, d, ceil);
      else if constexpr (N == 2) r = at::max_pool2d_with_indices(x, k, s, p, d, ceil);
      else r = at::max_pool3d_with_indices(x, k, s, p, d, ceil);
      return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
    }
    if constexpr (N == 1) return wrap(info, at::max_pool1d(x, k, s, p, d, ceil));
    else if constexpr (N == 2) return wrap(info, at::max_pool2d(x, k, s, p, d, ceil));
    else return wrap(info, at::max_pool3d(x, k, s, p, d, ceil));
  });
}

// avgPool{N}d(x, kernel[N], stride[N], padding[N], ceilMode, countIncludePad, divisorOverride|null); 1-d has no
// divisorOverride (as PyTorch's avg_pool1d)
template <int N>
Napi::Value AvgPoolNd(const Napi::CallbackInfo& info) {
  return guard(info, byDims<N>("avgPool1d", "avgPool2d", "avgPool3d"), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    compat::optional<int64_t> div = compat::opt(argOptInt(info, 6, "divisorOverride"));
    if (div && (*div < 1 || *div > std::numeric_limits<int32_t>::max())) throw ArgRangeError("divisorOverride must be between 1 and 2^31 - 1, got " + std::to_string(*div));
    auto k = argIntList(info, 1, "kernelSize"), s = argIntList(info, 2, "stride"), p = argIntList(info, 3, "padding");
    const bool ceil = argBool(info, 4, "ceilMode", false), countPad = argBool(info, 5, "countIncludePad", true);
    if constexpr (N == 1) {
      if (div) throw ArgTypeError("avgPool1d takes no divisorOverride");
      return wrap(info, at::avg_pool1d(x, k, s, p, ceil, countPad));
    } else if constexpr (N == 2) {
      return wrap(info, at::avg_pool2d(x, k, s, p, ceil, countPad, div));
    } else {
      return wrap(info, at::avg_pool3d(x, k, s, p, ceil, countPad, div));
    }
  });
}

// adaptiveAvgPool{N}d(x, outputSize[N])
template <int N>
Napi::Value AdaptiveAvgPoolNd(const Napi::CallbackInfo& info) {
  return guard(info, byDims<N>("adaptiveAvgPool1d", "adaptiveAvgPool2d", "adaptiveAvgPool3d"), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    auto size = argIntList(info, 1, "outputSize");
    if constexpr (N == 1) return wrap(info, at::adaptive_avg_pool1d(x, size));
    else if constexpr (N == 2) return wrap(info, at::adaptive_avg_pool2d(x, size));
    else return wrap(info, at::adaptive_avg_pool3d(x, size));
  });
}

// adaptiveMaxPool{N}d(x, outputSize[N], returnIndices) -> out | [out, indices]
template <int N>
Napi::Value AdaptiveMaxPoolNd(const Napi::CallbackInfo& info) {
  return guard(info, byDims<N>("adaptiveMaxPool1d", "adaptiveMaxPool2d", "adaptiveMaxPool3d"), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    auto size = argIntList(info, 1, "outputSize");
    std::tuple<at::Tensor, at::Tensor> r;
    if constexpr (N == 1) r = at::adaptive_max_pool1d(x, size);
    else if constexpr (N == 2) r = at::adaptive_max_pool2d(x, size);
    else r = at::adaptive_max_pool3d(x, size);
    if (argBool(info, 2, "returnIndices", false)) return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
    return wrap(info, std::get<0>(r));
  });
}

// interpolate(x, mode, size[n], scales[n]|null, alignCorners): resampling of (N, C, *spatial) to `size`, n = 1, 2
// or 3 spatial dimensions; the scales, when given, are what the kernels use to map output to input positions
// (PyTorch's scale_factor without recompute_scale_factor), otherwise in/out. Modes as PyTorch's: linear (1-d),
// bilinear and bicubic (2-d), trilinear (3-d); nearest, nearest-exact and area for any n.
Napi::Value Interpolate(const Napi::CallbackInfo& info) {
  return guard(info, "interpolate", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const std::string mode = argString(info, 1, "mode");
    const auto size = argIntList(info, 2, "size");
    const size_t n = size.size();
    if (n < 1 || n > 3 || x.dim() != static_cast<int64_t>(n) + 2)
      throw ArgRangeError("size must give one value per spatial dimension of input (1 to 3), got " + std::to_string(n) + " for input of shape " + c10::str(x.sizes()));
    std::vector<compat::optional<double>> sc(n);
    if (!isNullish(info[3])) {
      const auto& arr = info[3];
      if (!arr.IsArray() || arr.As<Napi::Array>().Length() != n) throw ArgTypeError("scales must be null or an array of " + std::to_string(n) + " numbers");
      Napi::Array a = arr.As<Napi::Array>();
      for (uint32_t k = 0; k < n; ++k) {
        Napi::Value v = a.Get(k);
        if (!v.IsNumber()) throw ArgTypeError("scales[" + std::to_string(k) + "] must be a number");
        sc[k] = v.As<Napi::Number>().DoubleValue();
      }
    }
    const bool alignCorners = argBool(info, 4, "alignCorners", false);
    auto wrong = [&]() -> Napi::Value {
      throw ArgRangeError("mode \"" + mode + "\" does not resample " + std::to_string(n) + " spatial dimension" + (n == 1 ? "" : "s") +
                          " (linear: 1, bilinear and bicubic: 2, trilinear: 3)");
    };
    if (mode == "area") {
      if (n == 1) return wrap(info, at::adaptive_avg_pool1d(x, size));
      if (n == 2) return wrap(info, at::adaptive_avg_pool2d(x, size));
      return wrap(info, at::adaptive_avg_pool3d(x, size));
    }
    if (mode == "nearest") {
      if (n == 1) return wrap(info, at::upsample_nearest1d(x, size, sc[0]));
      if (n == 2) return wrap(info, at::upsample_nearest2d(x, size, sc[0], sc[1]));
      return wrap(info, at::upsample_nearest3d(x, size, sc[0], sc[1], sc[2]));
    }
    if (mode == "nearest-exact") {
      if (n == 1) return wrap(info, at::_upsample_nearest_exact1d(x, size, sc[0]));
      if (n == 2) return wrap(info, at::_upsample_nearest_exact2d(x, size, sc[0], sc[1]));
      return wrap(info, at::_upsample_nearest_exact3d(x, size, sc[0], sc[1], sc[2]));
    }
    if (mode == "linear") return n == 1 ? wrap(info, at::upsample_linear1d(x, size, alignCorners, sc[0])) : wrong();
    if (mode == "bilinear") return n == 2 ? wrap(info, at::upsample_bilinear2d(x, size, alignCorners, sc[0], sc[1])) : wrong();
    if (mode == "bicubic") return n == 2 ? wrap(info, at::upsample_bicubic2d(x, size, alignCorners, sc[0], sc[1])) : wrong();
    if (mode == "trilinear") return n == 3 ? wrap(info, at::upsample_trilinear3d(x, size, alignCorners, sc[0], sc[1], sc[2])) : wrong();
    throw ArgTypeError("mode must be \"nearest\", \"nearest-exact\", \"linear\", \"bilinear\", \"bicubic\", \"trilinear\" or \"area\", got \"" + mode + "\"");
  });
}

// ---------------------------------------------------------------- recurrent layers

// rnn(kind: 'lstm'|'gru'|'rnnTanh'|'rnnRelu', input, hx[] (lstm: [h0, c0]), params[], hasBiases, numLayers,
// dropout, train, bidirectional, batchFirst, batchSizes|null) -> [output, hN] or, for lstm, [output, hN, cN].
// With batchSizes (an int64 CPU tensor), input is a packed sequence's data (sum of lengths, features) and so is
// output (batchFirst is then ignored). params are the
// layers' weights in PyTorch's order (per layer and direction: wIh, wHh[, bIh, bHh][, wHr]): one ATen call,
// which runs cuDNN's fused kernels on CUDA. TypeScript (lib/nn/rnn.ts) checks the shapes first.
Napi::Value Rnn(const Napi::CallbackInfo& info) {
  const std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  return guard(info, kind.empty() ? "rnn" : kind.c_str(), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 1, "input");
    const auto hx = argTensorList(info, 2, "hx");
    const auto params = argTensorList(info, 3, "params");
    const bool hasBiases = argBool(info, 4, "hasBiases", true);
    const int64_t numLayers = argInt(info, 5, "numLayers");
    const double dropout = argDouble(info, 6, "dropout");
    const bool train = argBool(info, 7, "train", false), bidirectional = argBool(info, 8, "bidirectional", false), batchFirst = argBool(info, 9, "batchFirst", false);
    if (numLayers < 1) throw ArgRangeError("numLayers must be >= 1, got " + std::to_string(numLayers));
    if (!(dropout >= 0 && dropout <= 1)) throw ArgRangeError("dropout must be in [0, 1], got " + std::to_string(dropout));
    const size_t perLayer = hasBiases ? 4 : 2, dirs = bidirectional ? 2 : 1, layers = static_cast<size_t>(numLayers) * dirs;
    const bool proj = kind == "lstm" && params.size() == layers * (perLayer + 1);
    if (params.size() != layers * perLayer && !proj)
      throw ArgRangeError("params must hold " + std::to_string(layers * perLayer) + " tensors (" + std::to_string(perLayer) + " per layer and direction), got " + std::to_string(params.size()));
    at::Tensor batchSizes;
    if (!isNullish(info[10])) {
      batchSizes = argTensor(info, 10, "batchSizes");
      if (batchSizes.scalar_type() != at::kLong || batchSizes.dim() != 1 || !batchSizes.device().is_cpu())
        throw ArgTypeError("batchSizes must be a 1-d int64 CPU tensor (a packed sequence's), got " + std::string(dtypeName(batchSizes.scalar_type())) + " of shape " + c10::str(batchSizes.sizes()));
    }
    const bool packed = batchSizes.defined();
    if (kind == "lstm") {
      if (hx.size() != 2) throw ArgRangeError("hx must be [h0, c0] for an LSTM, got " + std::to_string(hx.size()) + " tensors");
      auto [out, h, c] = packed ? at::lstm(x, batchSizes, hx, params, hasBiases, numLayers, dropout, train, bidirectional)
                                : at::lstm(x, hx, params, hasBiases, numLayers, dropout, train, bidirectional, batchFirst);
      return wrapList(info.Env(), {out, h, c});
    }
    if (hx.size() != 1) throw ArgRangeError("hx must be [h0], got " + std::to_string(hx.size()) + " tensors");
    std::tuple<at::Tensor, at::Tensor> r;
    if (kind == "gru") r = packed ? at::gru(x, batchSizes, hx[0], params, hasBiases, numLayers, dropout, train, bidirectional)
                                  : at::gru(x, hx[0], params, hasBiases, numLayers, dropout, train, bidirectional, batchFirst);
    else if (kind == "rnnTanh") r = packed ? at::rnn_tanh(x, batchSizes, hx[0], params, hasBiases, numLayers, dropout, train, bidirectional)
                                           : at::rnn_tanh(x, hx[0], params, hasBiases, numLayers, dropout, train, bidirectional, batchFirst);
    else if (kind == "rnnRelu") r = packed ? at::rnn_relu(x, batchSizes, hx[0], params, hasBiases, numLayers, dropout, train, bidirectional)
                                           : at::rnn_relu(x, hx[0], params, hasBiases, numLayers, dropout, train, bidirectional, batchFirst);
    else throw ArgTypeError("kind must be \"lstm\", \"gru\", \"rnnTanh\" or \"rnnRelu\", got \"" + kind + "\"");
    return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
  });
}

// packPaddedSequence(input (T, B, *) or batchFirst (B, T, *), lengths (int64 CPU, sorted decreasing, each in
// [1, T]), batchFirst) -> [data, batchSizes], as torch.nn.utils.rnn.pack_padded_sequence's core
Napi::Value PackPaddedSequence(const Napi::CallbackInfo& info) {
  return guard(info, "packPaddedSequence", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const at::Tensor& lengths = argTensor(info, 1, "lengths");
    const bool batchFirst = argBool(info, 2, "batchFirst", false);
    if (lengths.scalar_type() != at::kLong || lengths.dim() != 1 || !lengths.device().is_cpu())
      throw ArgTypeError("lengths must be a 1-d int64 CPU tensor, got " + std::string(dtypeName(lengths.scalar_type())) + " of shape " + c10::str(lengths.sizes()));
    if (x.dim() < 2) throw ArgRangeError("input must have a time and a batch dimension, got shape " + c10::str(x.sizes()));
    const int64_t t = x.size(batchFirst ? 1 : 0), b = x.size(batchFirst ? 0 : 1);
    if (lengths.size(0) != b) throw ArgRangeError("lengths must hold one length per sequence (" + std::to_string(b) + "), got " + std::to_string(lengths.size(0)));
    const int64_t* l = lengths.contiguous().data_ptr<int64_t>();
    for (int64_t i = 0; i < b; ++i) {
      if (l[i] < 1 || l[i] > t) throw ArgRangeError("lengths[" + std::to_string(i) + "] is " + std::to_string(l[i]) + ", outside [1, " + std::to_string(t) + "]");
      if (i > 0 && l[i] > l[i - 1]) throw ArgRangeError("lengths must be sorted in decreasing order (lengths[" + std::to_string(i) + "] > lengths[" + std::to_string(i - 1) + "])");
    }
    auto [data, batchSizes] = at::_pack_padded_sequence(x, lengths.contiguous(), batchFirst);
    return wrapList(info.Env(), {data, batchSizes});
  });
}

// padPackedSequence(data, batchSizes, batchFirst, paddingValue, totalLength (-1: the longest)) -> [padded, lengths]
Napi::Value PadPackedSequence(const Napi::CallbackInfo& info) {
  return guard(info, "padPackedSequence", [&]() -> Napi::Value {
    const at::Tensor& data = argTensor(info, 0, "data");
    const at::Tensor& batchSizes = argTensor(info, 1, "batchSizes");
    if (batchSizes.scalar_type() != at::kLong || batchSizes.dim() != 1 || !batchSizes.device().is_cpu() || batchSizes.numel() == 0)
      throw ArgTypeError("batchSizes must be a non-empty 1-d int64 CPU tensor, got " + std::string(dtypeName(batchSizes.scalar_type())) + " of shape " + c10::str(batchSizes.sizes()));
    const at::Tensor bs = batchSizes.contiguous();
    const int64_t* b = bs.data_ptr<int64_t>();
    int64_t total = 0;
    for (int64_t i = 0; i < bs.numel(); ++i) {
      if (b[i] < 1 || (i > 0 && b[i] > b[i - 1])) throw ArgRangeError("batchSizes must be positive and non-increasing (a packed sequence's)");
      total += b[i];
    }
    if (data.dim() < 1 || data.size(0) != total) throw ArgRangeError("data must have " + std::to_string(total) + " rows (the sum of batchSizes), got shape " + c10::str(data.sizes()));
    const int64_t totalLength = argInt(info, 4, "totalLength");
    if (totalLength != -1 && totalLength < bs.numel())
      throw ArgRangeError("totalLength (" + std::to_string(totalLength) + ") must be at least the longest sequence (" + std::to_string(bs.numel()) + ")");
    auto [padded, lengths] = at::_pad_packed_sequence(data, bs, argBool(info, 2, "batchFirst", false), argDouble(info, 3, "paddingValue"), totalLength == -1 ? bs.numel() : totalLength);
    return wrapList(info.Env(), {padded, lengths});
  });
}

// rnnCell(kind, input, hx[] (lstm: [h, c]), wIh, wHh, bIh|null, bHh|null) -> h' or, for lstm, [h', c']
Napi::Value RnnCell(const Napi::CallbackInfo& info) {
  const std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() + "Cell" : "rnnCell";
  return guard(info, kind.c_str(), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 1, "input");
    const auto hx = argTensorList(info, 2, "hx");
    const at::Tensor& wIh = argTensor(info, 3, "weightIh");
    const at::Tensor& wHh = argTensor(info, 4, "weightHh");
    const at::Tensor bIh = optTensor(info, 5, "biasIh"), bHh = optTensor(info, 6, "biasHh");
    if (kind == "lstmCell") {
      if (hx.size() != 2) throw ArgRangeError("hx must be [h, c] for an LSTM cell, got " + std::to_string(hx.size()) + " tensors");
      auto [h, c] = at::lstm_cell(x, hx, wIh, wHh, opt(bIh), opt(bHh));
      return wrapList(info.Env(), {h, c});
    }
    if (hx.size() != 1) throw ArgRangeError("hx must be [h], got " + std::to_string(hx.size()) + " tensors");
    if (kind == "gruCell") return wrap(info, at::gru_cell(x, hx[0], wIh, wHh, opt(bIh), opt(bHh)));
    if (kind == "rnnTanhCell") return wrap(info, at::rnn_tanh_cell(x, hx[0], wIh, wHh, opt(bIh), opt(bHh)));
    if (kind == "rnnReluCell") return wrap(info, at::rnn_relu_cell(x, hx[0], wIh, wHh, opt(bIh), opt(bHh)));
    throw ArgTypeError("kind must be \"lstm\", \"gru\", \"rnnTanh\" or \"rnnRelu\"");
  });
}

// ---------------------------------------------------------------- losses

// Class indices must lie in [0, C) or equal ignoreIndex (see intBounds for why this is checked here).
void checkClasses(const at::Tensor& input, const at::Tensor& target, std::optional<int64_t> ignoreIndex) {
  if (at::isFloatingType(target.scalar_type()) || target.numel() == 0) return;
  const int64_t c = input.dim() == 1 ? input.size(0) : input.size(1);
  at::Tensor counted = target;
  if (ignoreIndex) {
    at::NoGradGuard ng;
    counted = target.masked_fill(target.eq(*ignoreIndex), 0);  // ignored entries count as class 0
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

// marginLoss(kind, a, b, target, margin, reduction): marginRanking (input1, input2, target),
// cosineEmbedding (input1, input2, target); hingeEmbedding (input, target; b null); softMargin (input, target;
// b null, margin unused); multilabelMargin (input, target of class indices padded with -1; b null)
Napi::Value MarginLoss(const Napi::CallbackInfo& info) {
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  const std::string op = kind + "Loss";
  return guard(info, op.c_str(), [&]() -> Napi::Value {
    const at::Tensor& a = argTensor(info, 1, "input");
    const int64_t r = reduction(info, 5);
    if (kind == "marginRanking") return wrap(info, at::margin_ranking_loss(a, argTensor(info, 2, "input2"), argTensor(info, 3, "target"), argDouble(info, 4, "margin"), r));
    if (kind == "cosineEmbedding") return wrap(info, at::cosine_embedding_loss(a, argTensor(info, 2, "input2"), argTensor(info, 3, "target"), argDouble(info, 4, "margin"), r));
    const at::Tensor& t = argTensor(info, 3, "target");
    if (kind == "hingeEmbedding") return wrap(info, at::hinge_embedding_loss(a, t, argDouble(info, 4, "margin"), r));
    if (kind == "softMargin") return wrap(info, at::soft_margin_loss(a, t, r));
    if (kind == "multilabelMargin") {
      if (t.scalar_type() != at::kLong) throw ArgTypeError(std::string("target must be an int64 tensor of class indices, got ") + dtypeName(t.scalar_type()));
      if (t.numel() > 0) {
        const int64_t c = a.dim() == 0 ? 1 : a.size(-1);
        const auto [mn, mx] = intBounds(t);
        if (mn < -1 || mx >= c) throw ArgRangeError("target holds " + std::to_string(mn < -1 ? mn : mx) + ", outside [-1, " + std::to_string(c) + ") (class indices, -1 ends a row)");
      }
      return wrap(info, at::multilabel_margin_loss(a, t, r));
    }
    throw ArgTypeError("unknown loss \"" + kind + "\"");
  });
}

// tripletMarginLoss(anchor, positive, negative, margin, p, eps, swap, reduction)
Napi::Value TripletMarginLoss(const Napi::CallbackInfo& info) {
  return guard(info, "tripletMarginLoss", [&]() -> Napi::Value {
    const double p = argDouble(info, 4, "p");
    if (!(p > 0)) throw ArgRangeError("p must be > 0, got " + std::to_string(p));
    return wrap(info, at::triplet_margin_loss(argTensor(info, 0, "anchor"), argTensor(info, 1, "positive"), argTensor(info, 2, "negative"), argDouble(info, 3, "margin"), p,
                                              argDouble(info, 5, "eps"), argBool(info, 6, "swap", false), reduction(info, 7)));
  });
}

// multiMarginLoss(input, target, p (1|2), margin, weight|null, reduction)
Napi::Value MultiMarginLoss(const Napi::CallbackInfo& info) {
  return guard(info, "multiMarginLoss", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    at::Tensor t = classTarget(argTensor(info, 1, "target"));
    if (at::isFloatingType(t.scalar_type())) throw ArgTypeError("target must be an integer tensor of class indices, got " + std::string(dtypeName(t.scalar_type())));
    checkClasses(x, t, std::nullopt);
    const int64_t p = argInt(info, 2, "p");
    if (p != 1 && p != 2) throw ArgRangeError("p must be 1 or 2, got " + std::to_string(p));
    return wrap(info, at::multi_margin_loss(x, t, p, argDouble(info, 3, "margin"), opt(optTensor(info, 4, "weight")), reduction(info, 5)));
  });
}

// poissonNllLoss(input, target, logInput, full, eps, reduction)
Napi::Value PoissonNllLoss(const Napi::CallbackInfo& info) {
  return guard(info, "poissonNllLoss", [&]() -> Napi::Value {
    return wrap(info, at::poisson_nll_loss(argTensor(info, 0, "input"), argTensor(info, 1, "target"), argBool(info, 2, "logInput", true), argBool(info, 3, "full", false),
                                           argDouble(info, 4, "eps"), reduction(info, 5)));
  });
}

// ctcLoss(logProbs (T, N, C) or (T, C), targets, inputLengths[], targetLengths[], blank, reduction, zeroInfinity).
// Targets are checked against [0, C) here (CUDA's kernel reads out of range ones without a check).
Napi::Value CtcLoss(const Napi::CallbackInfo& info) {
  return guard(info, "ctcLoss", [&]() -> Napi::Value {
    const at::Tensor& lp = argTensor(info, 0, "logProbs");
    const at::Tensor& targets = argTensor(info, 1, "targets");
    const auto inLen = argIntList(info, 2, "inputLengths"), tgtLen = argIntList(info, 3, "targetLengths");
    const int64_t blank = argInt(info, 4, "blank");
    if (lp.dim() != 2 && lp.dim() != 3) throw ArgRangeError("logProbs must be (T, N, C) or (T, C), got shape " + c10::str(lp.sizes()));
    const int64_t c = lp.size(-1);
    if (blank < 0 || blank >= c) throw ArgRangeError("blank must be a class in [0, " + std::to_string(c) + "), got " + std::to_string(blank));
    if (targets.scalar_type() != at::kLong && targets.scalar_type() != at::kInt)
      throw ArgTypeError(std::string("targets must be an int64 or int32 tensor of class indices, got ") + dtypeName(targets.scalar_type()));
    if (targets.numel() > 0) {
      const auto [mn, mx] = intBounds(targets);
      if (mn < 0 || mx >= c) throw ArgRangeError("targets hold class " + std::to_string(mn < 0 ? mn : mx) + ", outside [0, " + std::to_string(c) + ")");
    }
    // 'mean' divides each sequence's loss by its target length (clamped to 1), then averages, as PyTorch's
    return wrap(info, at::ctc_loss(lp, targets, inLen, tgtLen, blank, reduction(info, 5), argBool(info, 6, "zeroInfinity", false)));
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

// ---------------------------------------------------------------- more of nn.functional (lib/nn/functional-more.ts)

// gridSample(input, grid, mode, paddingMode, alignCorners): at::grid_sampler, as F.grid_sample. The grid holds
// sampling positions (floats), never indices: out-of-range positions are padded, not read.
Napi::Value GridSample(const Napi::CallbackInfo& info) {
  return guard(info, "gridSample", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const at::Tensor& grid = argTensor(info, 1, "grid");
    const std::string mode = argString(info, 2, "mode"), padding = argString(info, 3, "paddingMode");
    const int64_t m = mode == "bilinear" ? 0 : mode == "nearest" ? 1 : mode == "bicubic" ? 2 : -1;
    if (m < 0) throw ArgTypeError("mode must be \"bilinear\", \"nearest\" or \"bicubic\", got \"" + mode + "\"");
    const int64_t pm = padding == "zeros" ? 0 : padding == "border" ? 1 : padding == "reflection" ? 2 : -1;
    if (pm < 0) throw ArgTypeError("paddingMode must be \"zeros\", \"border\" or \"reflection\", got \"" + padding + "\"");
    return wrap(info, at::grid_sampler(x, grid, m, pm, argBool(info, 4, "alignCorners", false)));
  });
}

// affineGrid(theta, size[4|5], alignCorners): at::affine_grid_generator, as F.affine_grid
Napi::Value AffineGrid(const Napi::CallbackInfo& info) {
  return guard(info, "affineGrid", [&]() -> Napi::Value {
    return wrap(info, at::affine_grid_generator(argTensor(info, 0, "theta"), argIntList(info, 1, "size"), argBool(info, 2, "alignCorners", false)));
  });
}

// embeddingBag(input (1-d), weight, offsets (1-d), mode ('sum'|'mean'|'max'), perSampleWeights|null,
// includeLastOffset, paddingIdx (-1: none), maxNorm|null, normType, scaleGradByFreq): at::embedding_bag's first
// result, as F.embedding_bag (TS flattens a 2-d input and builds its offsets). The indices and the offsets are
// checked here, before the kernel: an index outside [0, numEmbeddings), or offsets that do not start at 0, go
// down, or pass the end (or, with includeLastOffset, stop short of it), would read or write out of bounds.
Napi::Value EmbeddingBag(const Napi::CallbackInfo& info) {
  return guard(info, "embeddingBag", [&]() -> Napi::Value {
    at::Tensor idx = argTensor(info, 0, "input");
    // maxNorm renormalises rows of the weight in place: refused, as any in-place change, while a call in flight uses it
    const at::Tensor& w = isNullish(info[7]) ? argTensor(info, 1, "weight") : argMutableTensor(info, 1, "weight");
    at::Tensor offsets = argTensor(info, 2, "offsets");
    const std::string mode = argString(info, 3, "mode");
    const int64_t m = mode == "sum" ? 0 : mode == "mean" ? 1 : mode == "max" ? 2 : -1;
    if (m < 0) throw ArgTypeError("mode must be \"sum\", \"mean\" or \"max\", got \"" + mode + "\"");
    at::Tensor psw = optTensor(info, 4, "perSampleWeights");
    const bool includeLast = argBool(info, 5, "includeLastOffset", false);
    const int64_t paddingIdx = argInt(info, 6, "paddingIdx");
    if (w.dim() != 2) throw ArgRangeError("weight must be 2-d (numEmbeddings, embeddingDim), got shape " + c10::str(w.sizes()));
    if (idx.dim() != 1 || offsets.dim() != 1) throw ArgRangeError("input and offsets must be 1-d, got shapes " + c10::str(idx.sizes()) + " and " + c10::str(offsets.sizes()));
    for (const at::Tensor* t : {&idx, &offsets})
      if (t->scalar_type() != at::kLong && t->scalar_type() != at::kInt) throw ArgTypeError(std::string("input and offsets must be int64 or int32, got ") + dtypeName(t->scalar_type()));
    if (idx.scalar_type() != offsets.scalar_type()) {
      idx = idx.to(at::kLong);
      offsets = offsets.to(at::kLong);
    }
    const int64_t n = w.size(0), len = idx.numel();
    if (paddingIdx < -1 || paddingIdx >= n) throw ArgRangeError("paddingIdx must be -1 (none) or in [0, " + std::to_string(n) + "), got " + std::to_string(paddingIdx));
    if (len > 0) {
      const auto [mn, mx] = intBounds(idx);
      if (mn < 0 || mx >= n)
        throw ArgRangeError("index " + std::to_string(mn < 0 ? mn : mx) + " is out of range for a weight of " + std::to_string(n) +
                            " embeddings (expected indices in [0, " + std::to_string(n) + "))");
    }
    if (includeLast && offsets.numel() < 1) throw ArgRangeError("offsets must hold at least one offset with includeLastOffset");
    if (offsets.numel() > 0) {
      // one host read: the offsets start at 0, never go down and stay within the input
      const at::Tensor o = offsets.to(at::kCPU, at::kLong).contiguous();
      const int64_t* d = o.data_ptr<int64_t>();
      if (d[0] != 0) throw ArgRangeError("offsets[0] must be 0 (the first bag starts at the first index), got " + std::to_string(d[0]));
      for (int64_t k = 1; k < o.numel(); ++k)
        if (d[k] < d[k - 1]) throw ArgRangeError("offsets must not decrease, got offsets[" + std::to_string(k - 1) + "] = " + std::to_string(d[k - 1]) + " > offsets[" + std::to_string(k) + "] = " + std::to_string(d[k]));
      if (d[o.numel() - 1] > len) throw ArgRangeError("offsets must not pass the end of input (" + std::to_string(len) + " indices), got " + std::to_string(d[o.numel() - 1]));
      // LibTorch 1.13's CPU backward writes out of bounds when the last offset falls short of the end
      if (includeLast && d[o.numel() - 1] != len)
        throw ArgRangeError("the last offset must be the end of input (" + std::to_string(len) + ") with includeLastOffset, got " + std::to_string(d[o.numel() - 1]));
    }
    if (psw.defined() && (psw.dim() != 1 || psw.numel() != len)) throw ArgRangeError("perSampleWeights must have input's shape [" + std::to_string(len) + "], got " + c10::str(psw.sizes()));
    if (!isNullish(info[7])) {
      at::NoGradGuard ng;
      at::embedding_renorm_(const_cast<at::Tensor&>(w), idx, argDouble(info, 7, "maxNorm"), argDouble(info, 8, "normType"));
    }
    compat::optional<int64_t> pad;
    if (paddingIdx >= 0) pad = paddingIdx;
    auto r = at::embedding_bag(w, idx, offsets, argBool(info, 9, "scaleGradByFreq", false), m, false, opt(psw), includeLast, pad);
    return wrap(info, std::get<0>(r));
  });
}

// maxUnpool{N}d(input, indices (int64, input's shape), outputSize[N], stride[N], padding[N]): the inverse of a max
// pooling, as F.max_unpool{N}d (1-d through max_unpool2d with a trailing dimension of 1, as PyTorch). An index
// outside the output plane would write out of bounds (CUDA's kernel does not check): refused here first.
template <int N>
Napi::Value MaxUnpoolNd(const Napi::CallbackInfo& info) {
  return guard(info, byDims<N>("maxUnpool1d", "maxUnpool2d", "maxUnpool3d"), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const at::Tensor& idx = argTensor(info, 1, "indices");
    auto size = argIntList(info, 2, "outputSize"), stride = argIntList(info, 3, "stride"), padding = argIntList(info, 4, "padding");
    if (size.size() != N) throw ArgRangeError("outputSize must give " + std::to_string(N) + " sizes");
    if (idx.scalar_type() != at::kLong) throw ArgTypeError(std::string("indices must be an int64 tensor, got ") + dtypeName(idx.scalar_type()));
    if (!idx.sizes().equals(x.sizes())) throw ArgRangeError("indices must have input's shape " + c10::str(x.sizes()) + ", got " + c10::str(idx.sizes()));
    int64_t plane = 1;
    for (int64_t s : size) {
      if (s < 1) throw ArgRangeError("outputSize must be positive, got " + c10::str(at::IntArrayRef(size)));
      plane *= s;
    }
    if (idx.numel() > 0) {
      const auto [mn, mx] = intBounds(idx);
      if (mn < 0 || mx >= plane)
        throw ArgRangeError("indices hold " + std::to_string(mn < 0 ? mn : mx) + ", outside [0, " + std::to_string(plane) + ") for an output of size " +
                            c10::str(at::IntArrayRef(size)));
    }
    if constexpr (N == 1) return wrap(info, at::max_unpool2d(x.unsqueeze(-1), idx.unsqueeze(-1), {size[0], 1}).squeeze(-1));
    else if constexpr (N == 2) return wrap(info, at::max_unpool2d(x, idx, size));
    else return wrap(info, at::max_unpool3d(x, idx, size, stride, padding));
  });
}

// lpPool{N}d(input, normType, kernel[N], stride[N], ceilMode): (sum over the window of x^p)^(1/p), as
// F.lp_pool{N}d: avg_pool of x^p, sign(out)·relu(|out|), times the window size, to the power 1/p
template <int N>
Napi::Value LpPoolNd(const Napi::CallbackInfo& info) {
  return guard(info, byDims<N>("lpPool1d", "lpPool2d", "lpPool3d"), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const double p = argDouble(info, 1, "normType");
    if (!(p != 0)) throw ArgRangeError("normType must be nonzero, got " + std::to_string(p));
    auto k = argIntList(info, 2, "kernelSize"), s = argIntList(info, 3, "stride");
    const bool ceil = argBool(info, 4, "ceilMode", false);
    std::vector<int64_t> zero(N, 0);
    at::Tensor out;
    int64_t window = 1;
    for (int64_t v : k) window *= v;
    if constexpr (N == 1) out = at::avg_pool1d(x.pow(p), k, s, zero, ceil, true);
    else out = at::avg_pool2d(x.pow(p), k, s, zero, ceil, true, compat::nullopt);
    return wrap(info, (at::sign(out) * at::relu(at::abs(out))).mul(window).pow(1.0 / p));
  });
}

// localResponseNorm(input (N, C, ...), size, alpha, beta, k): x / (k + alpha/size · Σ x² over `size` neighbouring
// channels)^beta, as F.local_response_norm (the same padding and average pooling)
Napi::Value LocalResponseNorm(const Napi::CallbackInfo& info) {
  return guard(info, "localResponseNorm", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "input");
    const int64_t size = argInt(info, 1, "size");
    const double alpha = argDouble(info, 2, "alpha"), beta = argDouble(info, 3, "beta"), k = argDouble(info, 4, "k");
    if (size < 1) throw ArgRangeError("size must be >= 1, got " + std::to_string(size));
    if (x.dim() < 3) throw ArgRangeError("input must have at least 3 dimensions (N, C, ...), got shape " + c10::str(x.sizes()));
    if (x.numel() == 0) return wrap(info, x.alias());
    at::Tensor div = x.mul(x).unsqueeze(1);
    if (x.dim() == 3) {
      div = at::constant_pad_nd(div, {0, 0, size / 2, (size - 1) / 2});
      div = at::avg_pool2d(div, {size, 1}, {1, 1}).squeeze(1);
    } else {
      const auto sizes = x.sizes();
      div = div.view({sizes[0], 1, sizes[1], sizes[2], -1});
      div = at::constant_pad_nd(div, {0, 0, 0, 0, size / 2, (size - 1) / 2});
      div = at::avg_pool3d(div, {size, 1, 1}, {1, 1, 1}).squeeze(1);
      div = div.view(sizes);
    }
    div = div.mul(alpha).add(k).pow(beta);
    return wrap(info, x / div);
  });
}

// pdist(input (N, M), p): the p-norm distance of every pair of rows i < j, as F.pdist
Napi::Value Pdist(const Napi::CallbackInfo& info) {
  return guard(info, "pdist", [&]() -> Napi::Value {
    const double p = argDouble(info, 1, "p");
    if (!(p >= 0)) throw ArgRangeError("p must be >= 0, got " + std::to_string(p));
    return wrap(info, at::pdist(argTensor(info, 0, "input"), p));
  });
}

// gumbelSoftmax(logits, tau, hard, dim): softmax((logits + g) / tau) along dim, g ~ Gumbel(0, 1) drawn as
// -log(Exponential(1)) from the default generator, as F.gumbel_softmax; hard: the one-hot of its argmax with the
// soft sample's gradient (straight through)
Napi::Value GumbelSoftmax(const Napi::CallbackInfo& info) {
  return guard(info, "gumbelSoftmax", [&]() -> Napi::Value {
    const at::Tensor& logits = argTensor(info, 0, "logits");
    const double tau = argDouble(info, 1, "tau");
    const bool hard = argBool(info, 2, "hard", false);
    const int64_t dim = argInt(info, 3, "dim");
    at::Tensor gumbels;
    {
      at::NoGradGuard ng;
      gumbels = -at::empty_like(logits, at::MemoryFormat::Contiguous).exponential_().log();
    }
    at::Tensor ySoft = ((logits + gumbels) / tau).softmax(dim);
    if (!hard) return wrap(info, ySoft);
    at::Tensor index = std::get<1>(ySoft.max(dim, true));
    at::Tensor yHard = at::zeros_like(logits, at::MemoryFormat::Contiguous).scatter_(dim, index, 1.0);
    return wrap(info, yHard - ySoft.detach() + ySoft);
  });
}

// channelDropout(kind: 'feature'|'alpha'|'featureAlpha', x, p, training): at::feature_dropout (whole channels),
// at::alpha_dropout (SELU's, keeping mean and variance) and at::feature_alpha_dropout
Napi::Value DropoutKind(const Napi::CallbackInfo& info) {
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  const std::string op = kind == "feature" ? "featureDropout" : kind == "alpha" ? "alphaDropout" : kind == "featureAlpha" ? "featureAlphaDropout" : "dropout";
  return guard(info, op.c_str(), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 1, "input");
    const double p = argDouble(info, 2, "p");
    if (!(p >= 0 && p <= 1)) throw ArgRangeError("p must be a probability in [0, 1], got " + std::to_string(p));
    const bool training = argBool(info, 3, "training", true);
    if (kind == "feature") return wrap(info, at::feature_dropout(x, p, training));
    if (kind == "alpha") return wrap(info, at::alpha_dropout(x, p, training));
    if (kind == "featureAlpha") return wrap(info, at::feature_alpha_dropout(x, p, training));
    throw ArgTypeError("kind must be \"feature\", \"alpha\" or \"featureAlpha\", got \"" + kind + "\"");
  });
}

}  // namespace

void InitFunctional(Napi::Env env, Napi::Object exports) {
  exports.Set("conv1d", Napi::Function::New<ConvNd<1>>(env, "conv1d"));
  exports.Set("conv2d", Napi::Function::New<ConvNd<2>>(env, "conv2d"));
  exports.Set("conv3d", Napi::Function::New<ConvNd<3>>(env, "conv3d"));
  exports.Set("convTranspose1d", Napi::Function::New<ConvTransposeNd<1>>(env, "convTranspose1d"));
  exports.Set("convTranspose2d", Napi::Function::New<ConvTransposeNd<2>>(env, "convTranspose2d"));
  exports.Set("convTranspose3d", Napi::Function::New<ConvTransposeNd<3>>(env, "convTranspose3d"));
  exports.Set("rnn", Napi::Function::New<Rnn>(env, "rnn"));
  exports.Set("rnnCell", Napi::Function::New<RnnCell>(env, "rnnCell"));
  exports.Set("packPaddedSequence", Napi::Function::New<PackPaddedSequence>(env, "packPaddedSequence"));
  exports.Set("padPackedSequence", Napi::Function::New<PadPackedSequence>(env, "padPackedSequence"));
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
  exports.Set("maxPool1d", Napi::Function::New<MaxPoolNd<1>>(env, "maxPool1d"));
  exports.Set("maxPool2d", Napi::Function::New<MaxPoolNd<2>>(env, "maxPool2d"));
  exports.Set("maxPool3d", Napi::Function::New<MaxPoolNd<3>>(env, "maxPool3d"));
  exports.Set("avgPool1d", Napi::Function::New<AvgPoolNd<1>>(env, "avgPool1d"));
  exports.Set("avgPool2d", Napi::Function::New<AvgPoolNd<2>>(env, "avgPool2d"));
  exports.Set("avgPool3d", Napi::Function::New<AvgPoolNd<3>>(env, "avgPool3d"));
  exports.Set("adaptiveAvgPool1d", Napi::Function::New<AdaptiveAvgPoolNd<1>>(env, "adaptiveAvgPool1d"));
  exports.Set("adaptiveAvgPool2d", Napi::Function::New<AdaptiveAvgPoolNd<2>>(env, "adaptiveAvgPool2d"));
  exports.Set("adaptiveAvgPool3d", Napi::Function::New<AdaptiveAvgPoolNd<3>>(env, "adaptiveAvgPool3d"));
  exports.Set("adaptiveMaxPool1d", Napi::Function::New<AdaptiveMaxPoolNd<1>>(env, "adaptiveMaxPool1d"));
  exports.Set("adaptiveMaxPool2d", Napi::Function::New<AdaptiveMaxPoolNd<2>>(env, "adaptiveMaxPool2d"));
  exports.Set("adaptiveMaxPool3d", Napi::Function::New<AdaptiveMaxPoolNd<3>>(env, "adaptiveMaxPool3d"));
  exports.Set("crossEntropy", Napi::Function::New<CrossEntropy>(env, "crossEntropy"));
  exports.Set("nllLoss", Napi::Function::New<NllLoss>(env, "nllLoss"));
  exports.Set("pointwiseLoss", Napi::Function::New<PointwiseLoss>(env, "pointwiseLoss"));
  exports.Set("bceWithLogits", Napi::Function::New<BceWithLogits>(env, "bceWithLogits"));
  exports.Set("klDiv", Napi::Function::New<KlDiv>(env, "klDiv"));
  exports.Set("marginLoss", Napi::Function::New<MarginLoss>(env, "marginLoss"));
  exports.Set("tripletMarginLoss", Napi::Function::New<TripletMarginLoss>(env, "tripletMarginLoss"));
  exports.Set("multiMarginLoss", Napi::Function::New<MultiMarginLoss>(env, "multiMarginLoss"));
  exports.Set("poissonNllLoss", Napi::Function::New<PoissonNllLoss>(env, "poissonNllLoss"));
  exports.Set("ctcLoss", Napi::Function::New<CtcLoss>(env, "ctcLoss"));
  exports.Set("instanceNorm", Napi::Function::New<InstanceNorm>(env, "instanceNorm"));
  exports.Set("rearrange", Napi::Function::New<Rearrange>(env, "rearrange"));
  exports.Set("unfold", Napi::Function::New<Unfold>(env, "unfold"));
  exports.Set("fold", Napi::Function::New<Fold>(env, "fold"));
  exports.Set("bilinear", Napi::Function::New<Bilinear>(env, "bilinear"));
  exports.Set("gridSample", Napi::Function::New<GridSample>(env, "gridSample"));
  exports.Set("affineGrid", Napi::Function::New<AffineGrid>(env, "affineGrid"));
  exports.Set("embeddingBag", Napi::Function::New<EmbeddingBag>(env, "embeddingBag"));
  exports.Set("maxUnpool1d", Napi::Function::New<MaxUnpoolNd<1>>(env, "maxUnpool1d"));
  exports.Set("maxUnpool2d", Napi::Function::New<MaxUnpoolNd<2>>(env, "maxUnpool2d"));
  exports.Set("maxUnpool3d", Napi::Function::New<MaxUnpoolNd<3>>(env, "maxUnpool3d"));
  exports.Set("lpPool1d", Napi::Function::New<LpPoolNd<1>>(env, "lpPool1d"));
  exports.Set("lpPool2d", Napi::Function::New<LpPoolNd<2>>(env, "lpPool2d"));
  exports.Set("localResponseNorm", Napi::Function::New<LocalResponseNorm>(env, "localResponseNorm"));
  exports.Set("pdist", Napi::Function::New<Pdist>(env, "pdist"));
  exports.Set("gumbelSoftmax", Napi::Function::New<GumbelSoftmax>(env, "gumbelSoftmax"));
  exports.Set("dropoutKind", Napi::Function::New<DropoutKind>(env, "dropoutKind"));
}

}  // namespace ictorch
