// tensor_ops.cc: the tensor operations, as small tables from a name to the ATen call.
// Each table entry is one line; TypeScript (lib/tensor.ts) gives every name its typed method.
#include <cmath>
#include <unordered_map>
#include "compat.h"
#include "tensor.h"

namespace ictorch {
namespace {

using Unary = at::Tensor (*)(const at::Tensor&);
using Binary = at::Tensor (*)(const at::Tensor&, const at::Tensor&);
using BinaryScalar = at::Tensor (*)(const at::Tensor&, const at::Scalar&);

// In-place forms end in '_': their self is refused while a native call in flight uses it.
bool isInPlace(const std::string& name) { return !name.empty() && name.back() == '_'; }

template <typename F>
const F& lookup(const std::unordered_map<std::string, F>& table, const std::string& name, const char* kind) {
  auto it = table.find(name);
  if (it == table.end()) throw ArgTypeError(std::string("unknown ") + kind + " operation \"" + name + "\"");
  return it->second;
}

const std::unordered_map<std::string, Unary>& unaryOps() {
  static const std::unordered_map<std::string, Unary> t = {
      {"abs", [](const at::Tensor& x) { return x.abs(); }},       {"neg", [](const at::Tensor& x) { return x.neg(); }},
      {"exp", [](const at::Tensor& x) { return x.exp(); }},       {"log", [](const at::Tensor& x) { return x.log(); }},
      {"sqrt", [](const at::Tensor& x) { return x.sqrt(); }},     {"rsqrt", [](const at::Tensor& x) { return x.rsqrt(); }},
      {"sigmoid", [](const at::Tensor& x) { return x.sigmoid(); }}, {"tanh", [](const at::Tensor& x) { return x.tanh(); }},
      {"relu", [](const at::Tensor& x) { return x.relu(); }},     {"sin", [](const at::Tensor& x) { return x.sin(); }},
      {"cos", [](const at::Tensor& x) { return x.cos(); }},       {"floor", [](const at::Tensor& x) { return x.floor(); }},
      {"ceil", [](const at::Tensor& x) { return x.ceil(); }},     {"round", [](const at::Tensor& x) { return x.round(); }},
      {"sign", [](const at::Tensor& x) { return x.sign(); }},     {"reciprocal", [](const at::Tensor& x) { return x.reciprocal(); }},
      {"log1p", [](const at::Tensor& x) { return x.log1p(); }},   {"square", [](const at::Tensor& x) { return x.mul(x); }},
      {"logicalNot", [](const at::Tensor& x) { return x.logical_not(); }},
      {"isnan", [](const at::Tensor& x) { return x.isnan(); }},   {"isfinite", [](const at::Tensor& x) { return x.isfinite(); }},
      {"clone", [](const at::Tensor& x) { return x.clone(); }},   {"detach", [](const at::Tensor& x) { return x.detach(); }},
      {"t", [](const at::Tensor& x) { return x.t(); }},           {"trace", [](const at::Tensor& x) { return x.trace(); }},
      {"erf", [](const at::Tensor& x) { return x.erf(); }},       {"erfinv", [](const at::Tensor& x) { return x.erfinv(); }},
      {"expm1", [](const at::Tensor& x) { return x.expm1(); }},   {"log2", [](const at::Tensor& x) { return x.log2(); }},
      {"log10", [](const at::Tensor& x) { return x.log10(); }},   {"tan", [](const at::Tensor& x) { return x.tan(); }},
      {"asin", [](const at::Tensor& x) { return x.asin(); }},     {"acos", [](const at::Tensor& x) { return x.acos(); }},
      {"atan", [](const at::Tensor& x) { return x.atan(); }},     {"sinh", [](const at::Tensor& x) { return x.sinh(); }},
      {"cosh", [](const at::Tensor& x) { return x.cosh(); }},     {"asinh", [](const at::Tensor& x) { return x.asinh(); }},
      {"acosh", [](const at::Tensor& x) { return x.acosh(); }},   {"atanh", [](const at::Tensor& x) { return x.atanh(); }},     {"trunc", [](const at::Tensor& x) { return x.trunc(); }},
      {"frac", [](const at::Tensor& x) { return x.frac(); }},     {"isinf", [](const at::Tensor& x) { return x.isinf(); }},
      {"lgamma", [](const at::Tensor& x) { return x.lgamma(); }}, {"digamma", [](const at::Tensor& x) { return x.digamma(); }},
      {"bitwiseNot", [](const at::Tensor& x) { return x.bitwise_not(); }},
      // (softmax, logSoftmax and cumsum take a dimension: they live in ReduceOp.)
      // in-place forms return the same storage; the wrapper returns `this`
      {"abs_", [](const at::Tensor& x) { return x.abs_(); }},     {"neg_", [](const at::Tensor& x) { return x.neg_(); }},
      {"exp_", [](const at::Tensor& x) { return x.exp_(); }},     {"log_", [](const at::Tensor& x) { return x.log_(); }},
      {"sqrt_", [](const at::Tensor& x) { return x.sqrt_(); }},   {"sigmoid_", [](const at::Tensor& x) { return x.sigmoid_(); }},
      {"tanh_", [](const at::Tensor& x) { return x.tanh_(); }},   {"relu_", [](const at::Tensor& x) { return x.relu_(); }},
      {"zero_", [](const at::Tensor& x) { return x.zero_(); }},   {"detach_", [](const at::Tensor& x) { return x.detach_(); }},
  };
  return t;
}

struct BinaryEntry { Binary tensor; BinaryScalar scalar; };
const std::unordered_map<std::string, BinaryEntry>& binaryOps() {
#define ICT_BIN(name, method) \
  {name, {[](const at::Tensor& a, const at::Tensor& b) { return a.method(b); }, [](const at::Tensor& a, const at::Scalar& b) { return a.method(b); }}}
  static const std::unordered_map<std::string, BinaryEntry> t = {
      ICT_BIN("add", add),   ICT_BIN("sub", sub),     ICT_BIN("mul", mul),       ICT_BIN("div", div),
      ICT_BIN("pow", pow),   ICT_BIN("remainder", remainder), ICT_BIN("fmod", fmod),
      ICT_BIN("eq", eq),     ICT_BIN("ne", ne),       ICT_BIN("lt", lt),         ICT_BIN("le", le),
      ICT_BIN("gt", gt),     ICT_BIN("ge", ge),       ICT_BIN("xlogy", xlogy),
      ICT_BIN("add_", add_), ICT_BIN("sub_", sub_),   ICT_BIN("mul_", mul_),     ICT_BIN("div_", div_),
      ICT_BIN("pow_", pow_), ICT_BIN("fill_", fill_),
      {"maximum", {[](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }, [](const at::Tensor& a, const at::Scalar& b) { return at::clamp_min(a, b); }}},
      {"minimum", {[](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); }, [](const at::Tensor& a, const at::Scalar& b) { return at::clamp_max(a, b); }}},
      {"logicalAnd", {[](const at::Tensor& a, const at::Tensor& b) { return a.logical_and(b); }, nullptr}},
      {"logicalOr", {[](const at::Tensor& a, const at::Tensor& b) { return a.logical_or(b); }, nullptr}},
      {"matmul", {[](const at::Tensor& a, const at::Tensor& b) { return a.matmul(b); }, nullptr}},
      {"copy_", {[](const at::Tensor& a, const at::Tensor& b) { return a.copy_(b); }, nullptr}},
      ICT_BIN("bitwiseAnd", bitwise_and), ICT_BIN("bitwiseOr", bitwise_or), ICT_BIN("bitwiseXor", bitwise_xor),
      {"divFloor", {[](const at::Tensor& a, const at::Tensor& b) { return a.div(b, "floor"); }, [](const at::Tensor& a, const at::Scalar& b) { return a.div(b, "floor"); }}},
      {"divTrunc", {[](const at::Tensor& a, const at::Tensor& b) { return a.div(b, "trunc"); }, [](const at::Tensor& a, const at::Scalar& b) { return a.div(b, "trunc"); }}},
      {"logicalXor", {[](const at::Tensor& a, const at::Tensor& b) { return a.logical_xor(b); }, nullptr}},
      {"atan2", {[](const at::Tensor& a, const at::Tensor& b) { return a.atan2(b); }, nullptr}},
      {"hypot", {[](const at::Tensor& a, const at::Tensor& b) { return a.hypot(b); }, nullptr}},
      {"igamma", {[](const at::Tensor& a, const at::Tensor& b) { return a.igamma(b); }, nullptr}},
      {"mm", {[](const at::Tensor& a, const at::Tensor& b) { return a.mm(b); }, nullptr}},
      {"bmm", {[](const at::Tensor& a, const at::Tensor& b) { return a.bmm(b); }, nullptr}},
      {"dot", {[](const at::Tensor& a, const at::Tensor& b) { return a.dot(b); }, nullptr}},
      {"outer", {[](const at::Tensor& a, const at::Tensor& b) { return a.outer(b); }, nullptr}},
      {"kron", {[](const at::Tensor& a, const at::Tensor& b) { return a.kron(b); }, nullptr}},
  };
#undef ICT_BIN
  return t;
}

// binary(name, self, other) where other is a Tensor or a number/boolean.
Napi::Value BinaryOp(const Napi::CallbackInfo& info) {
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "binary";
  const char* op = name == "divFloor" || name == "divTrunc" ? "div" : name.c_str();  // div with a rounding mode
  return guard(info, op, [&]() -> Napi::Value {
    const auto& e = lookup(binaryOps(), name, "binary");
    const at::Tensor& a = isInPlace(name) ? argMutableTensor(info, 1, "self") : argTensor(info, 1, "self");
    if (isTensor(info.Env(), info[2])) return TensorHandle::Wrap(info.Env(), e.tensor(a, argTensor(info, 2, "other")));
    if (!e.scalar) throw ArgTypeError("argument 'other' must be a Tensor");
    return TensorHandle::Wrap(info.Env(), e.scalar(a, argScalar(info, 2, "other")));
  });
}

Napi::Value UnaryOp(const Napi::CallbackInfo& info) {
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "unary";
  return guard(info, name.c_str(), [&]() -> Napi::Value {
    const auto& op = lookup(unaryOps(), name, "unary");
    return TensorHandle::Wrap(info.Env(), op(isInPlace(name) ? argMutableTensor(info, 1, "self") : argTensor(info, 1, "self")));
  });
}

Napi::Value wrapListTuple(Napi::Env env, const std::tuple<at::Tensor, at::Tensor>& t) { return wrapList(env, {std::get<0>(t), std::get<1>(t)}); }

// sortOp('topk', self, dim, k, largest, sorted) | sortOp('sort' | 'argsort', self, dim, descending, stable) |
// sortOp('median' | 'nanmedian' | 'mode' | 'cummax' | 'cummin' | 'kthvalue', self, dim, keepdim, k) -> [values, indices]
Napi::Value SortOp(const Napi::CallbackInfo& info) {
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "sort";
  return guard(info, name.c_str(), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 1, "self");
    const int64_t dim = argInt(info, 2, "dim");
    if (name == "topk") {
      const int64_t k = argInt(info, 3, "k");
      const int64_t n = x.dim() == 0 ? 1 : x.size(at::maybe_wrap_dim(dim, x.dim()));
      if (k < 0 || k > n) throw ArgRangeError("k must be between 0 and " + std::to_string(n) + " (the size of dimension " + std::to_string(dim) + "), got " + std::to_string(k));
      auto [values, indices] = at::topk(x, k, dim, argBool(info, 4, "largest", true), argBool(info, 5, "sorted", true));
      return wrapList(info.Env(), {values, indices});
    }
    if (name == "sort" || name == "argsort") {
      auto [values, indices] = at::sort(x, argBool(info, 4, "stable", false), dim, argBool(info, 3, "descending", false));
      return wrapList(info.Env(), {values, indices});
    }
    // median / mode / kthvalue / cummax / cummin (self, dim, keepdim, k)
    const bool keepdim = argBool(info, 3, "keepdim", false);
    if (name == "median") return wrapListTuple(info.Env(), at::median(x, dim, keepdim));
    if (name == "nanmedian") return wrapListTuple(info.Env(), at::nanmedian(x, dim, keepdim));
    if (name == "mode") return wrapListTuple(info.Env(), at::mode(x, dim, keepdim));
    if (name == "cummax") return wrapListTuple(info.Env(), at::cummax(x, dim));
    if (name == "cummin") return wrapListTuple(info.Env(), at::cummin(x, dim));
    if (name == "kthvalue") {
      const int64_t k = argInt(info, 4, "k");
      const int64_t n = x.dim() == 0 ? 1 : x.size(at::maybe_wrap_dim(dim, x.dim()));
      if (k < 1 || k > n) throw ArgRangeError("k must be between 1 and " + std::to_string(n) + " (the size of dimension " + std::to_string(dim) + "), got " + std::to_string(k));
      return wrapListTuple(info.Env(), at::kthvalue(x, k, dim, keepdim));
    }
    throw ArgTypeError("unknown sorting op \"" + name + "\"");
  });
}

// reduce(name, self, dims|null, keepdim, unbiased)
Napi::Value ReduceOp(const Napi::CallbackInfo& info) {
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "reduce";
  return guard(info, name.c_str(), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 1, "self");
    auto dims = argOptIntList(info, 2, "dim");
    bool keepdim = argBool(info, 3, "keepdim", false);
    bool unbiased = argBool(info, 4, "unbiased", true);
    at::Tensor r;
    auto single = [&](const char* what) -> int64_t {
      if (!dims) throw ArgTypeError(std::string(what) + " needs a dimension");
      if (dims->size() != 1) throw ArgTypeError(std::string(what) + " takes a single dimension, got " + std::to_string(dims->size()));
      return (*dims)[0];
    };
    if (name == "sum") r = dims ? x.sum(*dims, keepdim) : x.sum();
    else if (name == "mean") r = dims ? x.mean(*dims, keepdim) : x.mean();
    else if (name == "prod") r = dims ? x.prod(single("prod"), keepdim) : x.prod();
    else if (name == "max" || name == "amax") r = dims ? x.amax(*dims, keepdim) : x.max();
    else if (name == "min" || name == "amin") r = dims ? x.amin(*dims, keepdim) : x.min();
    else if (name == "argmax") r = dims ? x.argmax(single("argmax"), keepdim) : x.argmax();
    else if (name == "argmin") r = dims ? x.argmin(single("argmin"), keepdim) : x.argmin();
    else if (name == "std") r = compat::stdDim(x, dims ? at::OptionalIntArrayRef(*dims) : compat::nullopt, unbiased, keepdim);
    else if (name == "var") r = compat::varDim(x, dims ? at::OptionalIntArrayRef(*dims) : compat::nullopt, unbiased, keepdim);
    else if (name == "all") r = dims ? x.all(single("all"), keepdim) : x.all();
    else if (name == "any") r = dims ? x.any(single("any"), keepdim) : x.any();
    else if (name == "norm") {
      // the order of the norm (6th argument, default 2; Infinity allowed)
      double p = info.Length() > 5 && info[5].IsNumber() ? info[5].As<Napi::Number>().DoubleValue() : 2.0;
      if (std::isnan(p)) throw ArgTypeError("p must be a number, got NaN");
      r = dims ? at::norm(x, p, *dims, keepdim) : at::norm(x, p);
    }
    else if (name == "softmax") r = x.softmax(single("softmax"));
    else if (name == "logSoftmax") r = x.log_softmax(single("logSoftmax"));
    else if (name == "cumsum") r = x.cumsum(single("cumsum"));
    else if (name == "cumprod") r = x.cumprod(single("cumprod"));
    else if (name == "logcumsumexp") r = x.logcumsumexp(single("logcumsumexp"));
    else if (name == "logsumexp") {
      if (!dims) throw ArgTypeError("logsumexp needs a dimension");
      r = x.logsumexp(*dims, keepdim);
    }
    else if (name == "nansum") r = dims ? x.nansum(*dims, keepdim) : x.nansum();
    else if (name == "nanmean") r = dims ? x.nanmean(*dims, keepdim) : x.nanmean();
    else if (name == "countNonzero") r = dims ? at::count_nonzero(x, *dims) : at::count_nonzero(x);
    else if (name == "median") r = x.median();
    else if (name == "nanmedian") r = x.nanmedian();
    else throw ArgTypeError("unknown reduction \"" + name + "\"");
    return TensorHandle::Wrap(info.Env(), r);
  });
}

// shapeOp(name, self, ints...): reshape, view, permute, expand take a list; the others integers.
Napi::Value ShapeOp(const Napi::CallbackInfo& info) {
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "shape";
  return guard(info, name.c_str(), [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 1, "self");
    at::Tensor r;
    if (name == "reshape") r = x.reshape(argIntList(info, 2, "shape"));
    else if (name == "view") r = x.view(argIntList(info, 2, "shape"));
    else if (name == "permute") r = x.permute(argIntList(info, 2, "dims"));
    else if (name == "expand") r = x.expand(argIntList(info, 2, "shape"));
    else if (name == "repeat") r = x.repeat(argIntList(info, 2, "repeats"));
    else if (name == "transpose") r = x.transpose(argInt(info, 2, "dim0"), argInt(info, 3, "dim1"));
    else if (name == "flatten") r = x.flatten(argOptInt(info, 2, "startDim").value_or(0), argOptInt(info, 3, "endDim").value_or(-1));
    else if (name == "squeeze") r = isNullish(info[2]) ? x.squeeze() : x.squeeze(argInt(info, 2, "dim"));
    else if (name == "unsqueeze") r = x.unsqueeze(argInt(info, 2, "dim"));
    else if (name == "select") r = x.select(argInt(info, 2, "dim"), argInt(info, 3, "index"));
    else if (name == "narrow") r = x.narrow(argInt(info, 2, "dim"), argInt(info, 3, "start"), argInt(info, 4, "length"));
    else if (name == "slice") r = x.slice(argInt(info, 2, "dim"), compat::opt(argOptInt(info, 3, "start")), compat::opt(argOptInt(info, 4, "end")), argOptInt(info, 5, "step").value_or(1));
    else if (name == "pad") r = at::constant_pad_nd(x, argIntList(info, 2, "pad"), isNullish(info[3]) ? at::Scalar(0) : argScalar(info, 3, "value"));
    else if (name == "flip") r = x.flip(argIntList(info, 2, "dims"));
    else if (name == "roll") r = x.roll(argIntList(info, 2, "shifts"), argIntList(info, 3, "dims"));
    else if (name == "asStrided") {
      // ATen checks the elements a view reaches against its storage, but a view of no elements reaches none:
      // its offset is checked here, so that no tensor points past its storage.
      auto offset = argOptInt(info, 4, "storageOffset");
      const int64_t storageElems = static_cast<int64_t>(x.storage().nbytes() / x.itemsize());
      if (offset && (*offset < 0 || *offset > storageElems))
        throw ArgRangeError("storageOffset must be in [0, " + std::to_string(storageElems) + "] (the storage's elements), got " + std::to_string(*offset));
      r = x.as_strided(argIntList(info, 2, "size"), argIntList(info, 3, "stride"), compat::opt(offset));
    }
    else if (name == "tril") r = x.tril(argOptInt(info, 2, "diagonal").value_or(0));
    else if (name == "triu") r = x.triu(argOptInt(info, 2, "diagonal").value_or(0));
    else if (name == "diag") r = x.diag(argOptInt(info, 2, "diagonal").value_or(0));
    else if (name == "diagonal") r = x.diagonal(argOptInt(info, 2, "offset").value_or(0), argOptInt(info, 3, "dim1").value_or(0), argOptInt(info, 4, "dim2").value_or(1));
    else if (name == "movedim") r = x.movedim(argIntList(info, 2, "source"), argIntList(info, 3, "destination"));
    else if (name == "rot90") r = x.rot90(argInt(info, 2, "k"), argIntList(info, 3, "dims"));
    else if (name == "tile") r = x.tile(argIntList(info, 2, "dims"));
    else if (name == "contiguous") r = x.contiguous(isNullish(info[2]) ? at::MemoryFormat::Contiguous : parseMemoryFormat(argString(info, 2, "memoryFormat")));
    else throw ArgTypeError("unknown shape operation \"" + name + "\"");
    return TensorHandle::Wrap(info.Env(), r);
  });
}

// Index spec from JS: number, null (new axis), "..." (ellipsis), boolean, {start, stop, step} slice, Tensor.
std::vector<at::indexing::TensorIndex> argIndices(const Napi::CallbackInfo& info, size_t i) {
  using namespace at::indexing;
  if (!info[i].IsArray()) throw ArgTypeError("argument 'indices' must be an array");
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<TensorIndex> out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    std::string name = "indices[" + std::to_string(k) + "]";
    if (v.IsNull() || v.IsUndefined()) out.emplace_back(None);
    else if (v.IsString()) {
      if (v.As<Napi::String>().Utf8Value() != "...") throw ArgTypeError("argument '" + name + "': the only string index is \"...\"");
      out.emplace_back(Ellipsis);
    } else if (v.IsBoolean()) out.emplace_back(v.As<Napi::Boolean>().Value());
    else if (v.IsNumber()) {
      double d = v.As<Napi::Number>().DoubleValue();
      if (!std::isfinite(d) || std::floor(d) != d) throw ArgTypeError("argument '" + name + "' must be an integer, got " + std::to_string(d));
      if (std::fabs(d) > 9007199254740991.0) throw ArgRangeError("argument '" + name + "' is out of range: " + std::to_string(d));
      out.emplace_back(static_cast<int64_t>(d));
    } else if (isTensor(info.Env(), v)) {
      out.emplace_back(Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>())->tensor(name.c_str()));
    } else if (v.IsObject()) {
      Napi::Object o = v.As<Napi::Object>();
      auto field = [&](const char* f) -> compat::optional<int64_t> {  // 2.x converts to optional<SymInt>
        Napi::Value fv = o.Get(f);
        if (fv.IsUndefined() || fv.IsNull()) return compat::nullopt;
        const double d = fv.IsNumber() ? fv.As<Napi::Number>().DoubleValue() : NAN;
        if (!std::isfinite(d) || std::floor(d) != d) throw ArgTypeError("argument '" + name + "." + f + "' must be an integer");
        if (std::fabs(d) > 9007199254740991.0) throw ArgRangeError("argument '" + name + "." + f + "' is out of range: " + std::to_string(d));
        return static_cast<int64_t>(fv.As<Napi::Number>().DoubleValue());
      };
      out.emplace_back(Slice(field("start"), field("stop"), field("step")));
    } else {
      throw ArgTypeError("argument '" + name + "' must be an integer, null, \"...\", a boolean, a {start, stop, step} slice or a Tensor");
    }
  }
  return out;
}

// The integer index tensors among `idx` must lie in [-size, size) of the dimension each indexes: checked before
// ATen runs, because on CUDA an index out of range stops at a device-side assert, which poisons the context for
// the rest of the process (one min/max read per index tensor).
void checkIndexTensors(const at::Tensor& x, const std::vector<at::indexing::TensorIndex>& idx) {
  auto isMask = [](const at::Tensor& t) { return t.scalar_type() == at::kBool || t.scalar_type() == at::kByte; };
  auto consumed = [&](const at::indexing::TensorIndex& t) -> int64_t {
    if (t.is_none() || t.is_ellipsis() || t.is_boolean()) return 0;
    if (t.is_tensor()) return isMask(t.tensor()) ? t.tensor().dim() : 1;
    return 1;  // an integer or a slice
  };
  size_t ellipsis = idx.size();
  for (size_t k = 0; k < idx.size(); ++k)
    if (idx[k].is_ellipsis()) { ellipsis = k; break; }
  int64_t after = 0;
  for (size_t k = ellipsis + 1; k < idx.size(); ++k) after += consumed(idx[k]);
  int64_t dim = 0;
  for (size_t k = 0; k < idx.size(); ++k) {
    if (k == ellipsis) { dim = std::max<int64_t>(dim, x.dim() - after); continue; }
    const auto& t = idx[k];
    if (t.is_tensor() && !isMask(t.tensor()) && t.tensor().numel() > 0 && dim < x.dim()) {
      const at::Tensor& i = t.tensor();
      if (i.scalar_type() != at::kLong) throw ArgTypeError(std::string("indices[") + std::to_string(k) + "] must be an int64 or bool tensor, got " + dtypeName(i.scalar_type()));
      const int64_t size = x.size(dim);
      const auto [mn, mx] = intBounds(i);
      if (mn < -size || mx >= size)
        throw ArgRangeError("indices[" + std::to_string(k) + "] holds " + std::to_string(mn < -size ? mn : mx) + ", outside [" + std::to_string(-size) + ", " +
                            std::to_string(size) + ") for dimension " + std::to_string(dim) + " of size " + std::to_string(size));
    }
    dim += consumed(t);
  }
}

Napi::Value Index(const Napi::CallbackInfo& info) {
  return guard(info, "index", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "self");
    auto idx = argIndices(info, 1);
    checkIndexTensors(x, idx);
    return TensorHandle::Wrap(info.Env(), x.index(idx));
  });
}

// indexPut_(self, indices, value): value is a Tensor or a number.
Napi::Value IndexPut(const Napi::CallbackInfo& info) {
  return guard(info, "indexPut_", [&]() -> Napi::Value {
    at::Tensor x = argMutableTensor(info, 0, "self");
    auto idx = argIndices(info, 1);
    checkIndexTensors(x, idx);
    if (isTensor(info.Env(), info[2])) x.index_put_(idx, argTensor(info, 2, "value"));
    else x.index_put_(idx, argScalar(info, 2, "value"));
    return info.Env().Undefined();
  });
}

Napi::Value Cat(const Napi::CallbackInfo& info) {
  return guard(info, "cat", [&]() -> Napi::Value {
    auto ts = argTensorList(info, 0, "tensors");
    if (ts.empty()) throw ArgRangeError("expected a non-empty array of tensors");
    return TensorHandle::Wrap(info.Env(), at::cat(ts, argOptInt(info, 1, "dim").value_or(0)));
  });
}

// einsum(equation, tensors)
Napi::Value Einsum(const Napi::CallbackInfo& info) {
  return guard(info, "einsum", [&]() -> Napi::Value {
    std::string equation = argString(info, 0, "equation");
    auto ts = argTensorList(info, 1, "operands");
    if (ts.empty()) throw ArgRangeError("expected at least one operand");
    return TensorHandle::Wrap(info.Env(), at::einsum(equation, ts));
  });
}

Napi::Value Stack(const Napi::CallbackInfo& info) {
  return guard(info, "stack", [&]() -> Napi::Value {
    auto ts = argTensorList(info, 0, "tensors");
    if (ts.empty()) throw ArgRangeError("expected a non-empty array of tensors");
    return TensorHandle::Wrap(info.Env(), at::stack(ts, argOptInt(info, 1, "dim").value_or(0)));
  });
}

// split(self, sizeOrSizes, dim)
Napi::Value Split(const Napi::CallbackInfo& info) {
  return guard(info, "split", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "self");
    int64_t dim = argOptInt(info, 2, "dim").value_or(0);
    if (info[1].IsArray()) return wrapList(info.Env(), x.split_with_sizes(argIntList(info, 1, "sizes"), dim));
    int64_t size = argInt(info, 1, "splitSize");
    if (size <= 0) throw ArgRangeError("argument 'splitSize' must be > 0, got " + std::to_string(size));
    return wrapList(info.Env(), x.split(size, dim));
  });
}

Napi::Value Unbind(const Napi::CallbackInfo& info) {
  return guard(info, "unbind", [&]() -> Napi::Value { return wrapList(info.Env(), argTensor(info, 0, "self").unbind(argOptInt(info, 1, "dim").value_or(0))); });
}

// isclose(self, other, rtol, atol, equalNan)
Napi::Value Isclose(const Napi::CallbackInfo& info) {
  return guard(info, "isclose", [&]() -> Napi::Value {
    const double rtol = argDouble(info, 2, "rtol"), atol = argDouble(info, 3, "atol");
    if (!(rtol >= 0) || !(atol >= 0)) throw ArgRangeError("rtol and atol must be >= 0, got " + std::to_string(rtol) + " and " + std::to_string(atol));
    return TensorHandle::Wrap(info.Env(), argTensor(info, 0, "self").isclose(argTensor(info, 1, "other"), rtol, atol, argBool(info, 4, "equalNan", false)));
  });
}

// lerp(self, end, weight): weight a Tensor or a number
Napi::Value Lerp(const Napi::CallbackInfo& info) {
  return guard(info, "lerp", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "self");
    const at::Tensor& end = argTensor(info, 1, "end");
    if (isTensor(info.Env(), info[2])) return TensorHandle::Wrap(info.Env(), x.lerp(end, argTensor(info, 2, "weight")));
    return TensorHandle::Wrap(info.Env(), x.lerp(end, argScalar(info, 2, "weight")));
  });
}

Napi::Value Chunk(const Napi::CallbackInfo& info) {
  return guard(info, "chunk", [&]() -> Napi::Value {
    int64_t chunks = argInt(info, 1, "chunks");
    if (chunks <= 0) throw ArgRangeError("argument 'chunks' must be > 0, got " + std::to_string(chunks));
    return wrapList(info.Env(), argTensor(info, 0, "self").chunk(chunks, argOptInt(info, 2, "dim").value_or(0)));
  });
}

// where(cond, a, b): a and b are Tensors or numbers.
Napi::Value Where(const Napi::CallbackInfo& info) {
  return guard(info, "where", [&]() -> Napi::Value {
    const at::Tensor& c = argTensor(info, 0, "condition");
    bool ta = isTensor(info.Env(), info[1]), tb = isTensor(info.Env(), info[2]);
    at::Tensor r;
    if (ta && tb) r = at::where(c, argTensor(info, 1, "input"), argTensor(info, 2, "other"));
    else if (ta) r = at::where(c, argTensor(info, 1, "input"), argScalar(info, 2, "other"));
    else if (tb) r = at::where(c, argScalar(info, 1, "input"), argTensor(info, 2, "other"));
    else r = at::where(c, argScalar(info, 1, "input"), argScalar(info, 2, "other"));
    return TensorHandle::Wrap(info.Env(), r);
  });
}

// clamp(self, min|null, max|null, inplace)
Napi::Value Clamp(const Napi::CallbackInfo& info) {
  return guard(info, "clamp", [&]() -> Napi::Value {
    at::Tensor x = argTensor(info, 0, "self");
    compat::optional<at::Scalar> lo, hi;
    if (!isNullish(info[1])) lo = argScalar(info, 1, "min");
    if (!isNullish(info[2])) hi = argScalar(info, 2, "max");
    if (!lo && !hi) throw ArgTypeError("at least one of 'min' and 'max' must be given");
    if (argBool(info, 3, "inplace", false)) {
      argMutableTensor(info, 0, "self").clamp_(lo, hi);
      return info.Env().Undefined();
    }
    return TensorHandle::Wrap(info.Env(), x.clamp(lo, hi));
  });
}

// to(self, dtype|null, device|null, nonBlocking, copy, memoryFormat|null)
Napi::Value To(const Napi::CallbackInfo& info) {
  return guard(info, "to", [&]() -> Napi::Value {
    const at::Tensor& x = argTensor(info, 0, "self");
    auto dtype = argOptDType(info, 1, "dtype").value_or(x.scalar_type());
    auto device = argOptDevice(info, 2, "device").value_or(x.device());
    bool nonBlocking = argBool(info, 3, "nonBlocking", false);
    bool copy = argBool(info, 4, "copy", false);
    compat::optional<at::MemoryFormat> fmt;
    if (!isNullish(info[5])) fmt = parseMemoryFormat(argString(info, 5, "memoryFormat"));
    return TensorHandle::Wrap(info.Env(), x.to(device, dtype, nonBlocking, copy, fmt));
  });
}

// A new handle to the same tensor (shares storage and autograd identity), for keeping a value past a tidy scope.
Napi::Value Alias(const Napi::CallbackInfo& info) {
  return guard(info, "alias", [&]() -> Napi::Value { return TensorHandle::Wrap(info.Env(), argTensorMeta(info, 0, "self")); });
}

}  // namespace

void InitTensorOps(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New<UnaryOp>(env, "unary"));
  exports.Set("binary", Napi::Function::New<BinaryOp>(env, "binary"));
  exports.Set("reduce", Napi::Function::New<ReduceOp>(env, "reduce"));
  exports.Set("sortOp", Napi::Function::New<SortOp>(env, "sortOp"));
  exports.Set("shapeOp", Napi::Function::New<ShapeOp>(env, "shapeOp"));
  exports.Set("index", Napi::Function::New<Index>(env, "index"));
  exports.Set("indexPut_", Napi::Function::New<IndexPut>(env, "indexPut_"));
  exports.Set("cat", Napi::Function::New<Cat>(env, "cat"));
  exports.Set("einsum", Napi::Function::New<Einsum>(env, "einsum"));
  exports.Set("stack", Napi::Function::New<Stack>(env, "stack"));
  exports.Set("split", Napi::Function::New<Split>(env, "split"));
  exports.Set("unbind", Napi::Function::New<Unbind>(env, "unbind"));
  exports.Set("isclose", Napi::Function::New<Isclose>(env, "isclose"));
  exports.Set("lerp", Napi::Function::New<Lerp>(env, "lerp"));
  exports.Set("chunk", Napi::Function::New<Chunk>(env, "chunk"));
  exports.Set("where", Napi::Function::New<Where>(env, "where"));
  exports.Set("clamp", Napi::Function::New<Clamp>(env, "clamp"));
  exports.Set("to", Napi::Function::New<To>(env, "to"));
  exports.Set("alias", Napi::Function::New<Alias>(env, "alias"));
}

}  // namespace ictorch
