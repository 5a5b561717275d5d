// tensor_index.cc: the operations driven by an index or a mask tensor (gather, scatter, index_select/add/fill/copy,
// masked_fill/select/scatter, nonzero) and the ones that count or place values (unique, bincount, histc,
// searchsorted, bucketize).
//
// Every index tensor is checked against the dimension it indexes before the ATen call, on every device: a CUDA
// kernel meeting a bad index stops at a device-side assert, which poisons the CUDA context for the rest of the
// process, and the CPU kernels' messages differ from op to op. The check is one min/max read of the index.
#include <ATen/ATen.h>
#include "compat.h"
#include "tensor.h"

namespace ictorch {
namespace {

Napi::Value wrap(const Napi::CallbackInfo& info, const at::Tensor& t) { return TensorHandle::Wrap(info.Env(), t); }

// The dimension `dim` of `self` (negative counts from the end), checked.
int64_t dimOf(const at::Tensor& self, int64_t dim) {
  const int64_t n = std::max<int64_t>(self.dim(), 1);
  if (dim < -n || dim >= n) throw ArgRangeError("dim " + std::to_string(dim) + " is out of range for a tensor of " + std::to_string(self.dim()) + " dimensions");
  return dim < 0 ? dim + n : dim;
}

// `index` must be an int64 tensor (int32 too where ATen takes it) whose values lie in [lo, size), `size` being
// self's size along `dim`.
void checkIndex(const at::Tensor& self, int64_t dim, const at::Tensor& index, bool allowNegative, bool int32Ok = false) {
  const auto t = index.scalar_type();
  if (t != at::kLong && !(int32Ok && t == at::kInt))
    throw ArgTypeError(std::string("index must be an int64") + (int32Ok ? " or int32" : "") + " tensor, got " + dtypeName(t));
  if (index.numel() == 0) return;
  const int64_t size = self.dim() == 0 ? 1 : self.size(dim);
  const int64_t lo = allowNegative ? -size : 0;
  const auto [mn, mx] = intBounds(index);
  if (mn < lo || mx >= size) {
    throw ArgRangeError("index holds " + std::to_string(mn < lo ? mn : mx) + ", outside [" + std::to_string(lo) + ", " + std::to_string(size) +
                        ") for dimension " + std::to_string(dim) + " of size " + std::to_string(size));
  }
}

Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  return guard(info, "indexSelect", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "self");
    const int64_t dim = dimOf(x, argInt(info, 1, "dim"));
    const at::Tensor& index = argTensor(info, 2, "index");
    checkIndex(x, dim, index, false, true);
    return wrap(info, x.index_select(dim, index));
  });
}

Napi::Value MaskedSelect(const Napi::CallbackInfo& info) {
  return guard(info, "maskedSelect", [&]() -> Napi::Value {
    return wrap(info, argTensor(info, 0, "self").masked_select(argTensor(info, 1, "mask")));
  });
}

// gather(self, dim, index): also take_along_dim's work once TS has broadcast the shapes.
Napi::Value Gather(const Napi::CallbackInfo& info) {
  return guard(info, "gather", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "self");
    const int64_t dim = dimOf(x, argInt(info, 1, "dim"));
    const at::Tensor& index = argTensor(info, 2, "index");
    checkIndex(x, dim, index, false);
    return wrap(info, x.gather(dim, index));
  });
}

// indexOp(name, self, dim, index, source|value, alpha): scatter, scatterAdd, indexAdd, indexFill, indexCopy and
// their in-place forms (name ending in '_'). `source` is a Tensor, or a number for scatter and indexFill.
Napi::Value IndexOp(const Napi::CallbackInfo& info) {
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "indexOp";
  return guard(info, name.c_str(), [&]() -> Napi::Value {
    const bool inPlace = !name.empty() && name.back() == '_';
    const std::string base = inPlace ? name.substr(0, name.size() - 1) : name;
    const at::Tensor& x = inPlace ? argMutableTensor(info, 1, "self") : argTensor(info, 1, "self");
    const int64_t dim = dimOf(x, argInt(info, 2, "dim"));
    const at::Tensor& index = argTensor(info, 3, "index");
    checkIndex(x, dim, index, base == "indexFill", base == "indexAdd");
    const bool srcIsTensor = isTensor(info.Env(), info[4]);
    auto src = [&]() -> const at::Tensor& { return argTensor(info, 4, base == "indexFill" ? "value" : "src"); };
    at::Tensor r;
    if (base == "scatter") {
      if (srcIsTensor) r = inPlace ? x.scatter_(dim, index, src()) : x.scatter(dim, index, src());
      else r = inPlace ? x.scatter_(dim, index, argScalar(info, 4, "value")) : x.scatter(dim, index, argScalar(info, 4, "value"));
    } else if (base == "scatterAdd") {
      r = inPlace ? x.scatter_add_(dim, index, src()) : x.scatter_add(dim, index, src());
    } else if (base == "indexAdd") {
      const at::Scalar alpha = isNullish(info[5]) ? at::Scalar(1) : argScalar(info, 5, "alpha");
      r = inPlace ? x.index_add_(dim, index, src(), alpha) : x.index_add(dim, index, src(), alpha);
    } else if (base == "indexFill") {
      if (srcIsTensor) r = inPlace ? x.index_fill_(dim, index, src()) : x.index_fill(dim, index, src());
      else r = inPlace ? x.index_fill_(dim, index, argScalar(info, 4, "value")) : x.index_fill(dim, index, argScalar(info, 4, "value"));
    } else if (base == "indexCopy") {
      r = inPlace ? x.index_copy_(dim, index, src()) : x.index_copy(dim, index, src());
    } else {
      throw ArgTypeError("unknown index operation \"" + name + "\"");
    }
    if (inPlace) return info.Env().Undefined();
    return wrap(info, r);
  });
}

// maskedOp(name, self, mask, value|source): maskedFill (a number or a 0-d Tensor), maskedScatter, and the
// in-place forms.
Napi::Value MaskedOp(const Napi::CallbackInfo& info) {
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "maskedOp";
  return guard(info, name.c_str(), [&]() -> Napi::Value {
    const bool inPlace = !name.empty() && name.back() == '_';
    const std::string base = inPlace ? name.substr(0, name.size() - 1) : name;
    const at::Tensor& x = inPlace ? argMutableTensor(info, 1, "self") : argTensor(info, 1, "self");
    const at::Tensor& mask = argTensor(info, 2, "mask");
    if (mask.scalar_type() != at::kBool) throw ArgTypeError(std::string("mask must be a bool tensor, got ") + dtypeName(mask.scalar_type()));
    at::Tensor r;
    if (base == "maskedFill") {
      if (isTensor(info.Env(), info[3])) {
        const at::Tensor& v = argTensor(info, 3, "value");
        if (v.dim() != 0) throw ArgRangeError("value must be a number or a 0-d tensor, got a tensor of shape " + c10::str(v.sizes()));
        r = inPlace ? x.masked_fill_(mask, v) : x.masked_fill(mask, v);
      } else {
        r = inPlace ? x.masked_fill_(mask, argScalar(info, 3, "value")) : x.masked_fill(mask, argScalar(info, 3, "value"));
      }
    } else if (base == "maskedScatter") {
      const at::Tensor& source = argTensor(info, 3, "source");
      // ATen reads as many source elements as the mask has true values; fewer would be read past the end on
      // some builds, so count first (without recording the count: the op itself is recorded).
      const int64_t need = [&] {
        at::NoGradGuard ng;
        return mask.expand_as(x).sum().item<int64_t>();
      }();
      if (source.numel() < need) throw ArgRangeError("source has " + std::to_string(source.numel()) + " elements, the mask selects " + std::to_string(need));
      r = inPlace ? x.masked_scatter_(mask, source) : x.masked_scatter(mask, source);
    } else {
      throw ArgTypeError("unknown masked operation \"" + name + "\"");
    }
    if (inPlace) return info.Env().Undefined();
    return wrap(info, r);
  });
}

// nonzero(self, asTuple): the indices of the nonzero elements, [n, ndim] int64, or one 1-d tensor per dimension.
Napi::Value Nonzero(const Napi::CallbackInfo& info) {
  return guard(info, "nonzero", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "self");
    if (argBool(info, 1, "asTuple", false)) {
      // PyTorch treats a 0-d tensor as 1-d here
      return wrapList(info.Env(), (x.dim() == 0 ? x.unsqueeze(0) : x).nonzero_numpy());
    }
    return wrap(info, x.nonzero());
  });
}

// unique(self, sorted, returnInverse, returnCounts, dim|null) -> [values, inverse, counts]
Napi::Value Unique(const Napi::CallbackInfo& info) {
  return guard(info, "unique", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "self");
    const bool sorted = argBool(info, 1, "sorted", true), inverse = argBool(info, 2, "returnInverse", false), counts = argBool(info, 3, "returnCounts", false);
    auto dim = argOptInt(info, 4, "dim");
    if (dim) {
      auto [v, i, c] = at::unique_dim(x, dimOf(x, *dim), sorted, inverse, counts);
      return wrapList(info.Env(), {v, i, c});
    }
    auto [v, i, c] = at::_unique2(x, sorted, inverse, counts);
    return wrapList(info.Env(), {v, i, c});
  });
}

// bincount(self, weights|null, minlength)
Napi::Value Bincount(const Napi::CallbackInfo& info) {
  return guard(info, "bincount", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "self");
    if (x.dim() != 1 || !at::isIntegralType(x.scalar_type(), false)) throw ArgTypeError("self must be a 1-d integer tensor, got " + std::string(dtypeName(x.scalar_type())) + " of shape " + c10::str(x.sizes()));
    const int64_t minlength = argInt(info, 2, "minlength");
    if (minlength < 0) throw ArgRangeError("minlength must be >= 0, got " + std::to_string(minlength));
    compat::optional<at::Tensor> weights;
    if (!isNullish(info[1])) {
      const at::Tensor& w = argTensor(info, 1, "weights");
      if (w.sizes() != x.sizes()) throw ArgRangeError("weights must have self's shape " + c10::str(x.sizes()) + ", got " + c10::str(w.sizes()));
      weights = w;
    }
    if (x.numel() > 0) {
      const int64_t mn = intBounds(x).first;
      if (mn < 0) throw ArgRangeError("self must hold non-negative values, found " + std::to_string(mn));
    }
    return wrap(info, at::bincount(x, weights, minlength));
  });
}

// histc(self, bins, min, max)
Napi::Value Histc(const Napi::CallbackInfo& info) {
  return guard(info, "histc", [&]() -> Napi::Value {
    const int64_t bins = argInt(info, 1, "bins");
    if (bins < 1) throw ArgRangeError("bins must be >= 1, got " + std::to_string(bins));
    const double lo = argDouble(info, 2, "min"), hi = argDouble(info, 3, "max");
    if (!(lo <= hi)) throw ArgRangeError("max (" + std::to_string(hi) + ") must be >= min (" + std::to_string(lo) + ")");
    return wrap(info, at::histc(argTensor(info, 0, "self"), bins, lo, hi));
  });
}

// searchsorted(sortedSequence, values, right, outInt32): values a Tensor or a number. bucketize is the same with
// a 1-d sequence (TS swaps the arguments).
Napi::Value Searchsorted(const Napi::CallbackInfo& info) {
  return guard(info, "searchsorted", [&]() -> Napi::Value {
    const at::Tensor& seq = argTensor(info, 0, "sortedSequence");
    const bool right = argBool(info, 2, "right", false), int32 = argBool(info, 3, "outInt32", false);
    if (isTensor(info.Env(), info[1])) {
      const at::Tensor& v = argTensor(info, 1, "values");
      if (seq.dim() > 1 && (v.dim() != seq.dim() || v.sizes().slice(0, v.dim() - 1) != seq.sizes().slice(0, seq.dim() - 1)))
        throw ArgRangeError("values of shape " + c10::str(v.sizes()) + " must match sortedSequence's " + c10::str(seq.sizes()) + " in all but the last dimension");
      return wrap(info, at::searchsorted(seq, v, int32, right));
    }
    if (seq.dim() != 1) throw ArgRangeError("a number can only be searched for in a 1-d sortedSequence");
    return wrap(info, at::searchsorted(seq, argScalar(info, 1, "values"), int32, right));
  });
}

}  // namespace

void InitTensorIndex(Napi::Env env, Napi::Object exports) {
  exports.Set("indexSelect", Napi::Function::New<IndexSelect>(env, "indexSelect"));
  exports.Set("maskedSelect", Napi::Function::New<MaskedSelect>(env, "maskedSelect"));
  exports.Set("gather", Napi::Function::New<Gather>(env, "gather"));
  exports.Set("indexOp", Napi::Function::New<IndexOp>(env, "indexOp"));
  exports.Set("maskedOp", Napi::Function::New<MaskedOp>(env, "maskedOp"));
  exports.Set("nonzero", Napi::Function::New<Nonzero>(env, "nonzero"));
  exports.Set("unique", Napi::Function::New<Unique>(env, "unique"));
  exports.Set("bincount", Napi::Function::New<Bincount>(env, "bincount"));
  exports.Set("histc", Napi::Function::New<Histc>(env, "histc"));
  exports.Set("searchsorted", Napi::Function::New<Searchsorted>(env, "searchsorted"));
}

}  // namespace ictorch
