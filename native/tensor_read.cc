// tensor_read.cc: reading tensors back into JS: metadata, toArray (sync), data() (async, off the event loop), item().
#include "tensor.h"

namespace ictorch {
namespace {

// The CPU, contiguous, JS-representable copy of t (float16/bfloat16 widen to float32, bool to uint8).
// Never aliases t's own memory, so the returned array can be modified freely.
at::Tensor hostCopy(const at::Tensor& t) {
  at::Tensor src = t.detach();
  auto st = src.scalar_type();
  at::ScalarType target = st;
  if (st == at::kHalf || st == at::kBFloat16) target = at::kFloat;
  if (st == at::kBool) target = at::kByte;
  at::Tensor out = src.to(at::kCPU, target).contiguous();
  if (out.numel() > 0 && out.data_ptr() == src.data_ptr()) out = out.clone();
  return out;
}

// An ArrayBuffer over the host tensor's memory; the tensor lives until the ArrayBuffer is collected.
Napi::Value toTypedArray(Napi::Env env, at::Tensor host) {
  size_t bytes = host.nbytes();
  size_t n = static_cast<size_t>(host.numel());
  Napi::ArrayBuffer ab;
  if (bytes == 0) {
    ab = Napi::ArrayBuffer::New(env, 0);
  } else {
    auto* keep = new at::Tensor(host);
    ab = Napi::ArrayBuffer::New(env, keep->data_ptr(), bytes, [](Napi::Env, void*, at::Tensor* k) { delete k; }, keep);
  }
  switch (host.scalar_type()) {
    case at::kFloat: return Napi::Float32Array::New(env, n, ab, 0);
    case at::kDouble: return Napi::Float64Array::New(env, n, ab, 0);
    case at::kInt: return Napi::Int32Array::New(env, n, ab, 0);
    case at::kLong: return Napi::BigInt64Array::New(env, n, ab, 0);
    case at::kByte: return Napi::Uint8Array::New(env, n, ab, 0);
    case at::kChar: return Napi::Int8Array::New(env, n, ab, 0);
    case at::kShort: return Napi::Int16Array::New(env, n, ab, 0);
    default: throw ArgTypeError(std::string("dtype ") + c10::toString(host.scalar_type()) + " cannot be read back");
  }
}

Napi::Value ToArray(const Napi::CallbackInfo& info) {
  return guard(info, "toArray", [&]() -> Napi::Value {
    return toTypedArray(info.Env(), hostCopy(argTensor(info, 0, "self")));
  });
}

// data(): the device-to-host copy runs on a libuv worker thread; the promise resolves with the TypedArray.
class DataWorker : public Napi::AsyncWorker {
 public:
  DataWorker(Napi::Env env, at::Tensor t) : Napi::AsyncWorker(env, "ictorch.data"), t_(std::move(t)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    err_ = captureError("data", [&] { host_ = hostCopy(t_); });
    t_ = at::Tensor();
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!err_.empty()) {
      deferred_.Reject(Napi::Error::New(env, err_).Value());
      return;
    }
    try {
      deferred_.Resolve(toTypedArray(env, std::move(host_)));
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(env, std::string("data: ") + e.what()).Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  at::Tensor t_, host_;
  std::string err_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value Data(const Napi::CallbackInfo& info) {
  return guard(info, "data", [&]() -> Napi::Value {
    auto* w = new DataWorker(info.Env(), argTensor(info, 0, "self"));
    auto p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  return guard(info, "item", [&]() -> Napi::Value {
    const at::Tensor& t = argTensor(info, 0, "self");
    if (t.numel() != 1)
      throw ArgRangeError("item() needs a tensor with exactly one element, got shape [" + c10::Join(", ", t.sizes()) + "] (" + std::to_string(t.numel()) + " elements)");
    at::Scalar s = t.item();
    if (s.isBoolean()) return Napi::Boolean::New(info.Env(), s.toBool());
    if (s.isIntegral(false)) return Napi::Number::New(info.Env(), static_cast<double>(s.toLong()));
    return Napi::Number::New(info.Env(), s.toDouble());
  });
}

// Metadata: shape, strides, dtype, device, contiguity and memory format.
Napi::Value Shape(const Napi::CallbackInfo& info) {
  return guard(info, "shape", [&]() -> Napi::Value {
    const at::Tensor& t = argTensor(info, 0, "self");
    Napi::Array a = Napi::Array::New(info.Env(), t.dim());
    for (int64_t k = 0; k < t.dim(); ++k) a.Set(static_cast<uint32_t>(k), Napi::Number::New(info.Env(), static_cast<double>(t.size(k))));
    return a;
  });
}
Napi::Value Strides(const Napi::CallbackInfo& info) {
  return guard(info, "strides", [&]() -> Napi::Value {
    const at::Tensor& t = argTensor(info, 0, "self");
    Napi::Array a = Napi::Array::New(info.Env(), t.dim());
    for (int64_t k = 0; k < t.dim(); ++k) a.Set(static_cast<uint32_t>(k), Napi::Number::New(info.Env(), static_cast<double>(t.stride(k))));
    return a;
  });
}
Napi::Value DType(const Napi::CallbackInfo& info) {
  return guard(info, "dtype", [&]() -> Napi::Value { return Napi::String::New(info.Env(), dtypeName(argTensor(info, 0, "self").scalar_type())); });
}
Napi::Value Device(const Napi::CallbackInfo& info) {
  return guard(info, "device", [&]() -> Napi::Value { return Napi::String::New(info.Env(), deviceName(argTensor(info, 0, "self").device())); });
}
Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  return guard(info, "isContiguous", [&]() -> Napi::Value {
    const at::Tensor& t = argTensor(info, 0, "self");
    auto fmt = isNullish(info[1]) ? at::MemoryFormat::Contiguous : parseMemoryFormat(argString(info, 1, "memoryFormat"));
    return Napi::Boolean::New(info.Env(), t.is_contiguous(fmt));
  });
}
Napi::Value MemoryFormatOf(const Napi::CallbackInfo& info) {
  return guard(info, "memoryFormat", [&]() -> Napi::Value {
    const at::Tensor& t = argTensor(info, 0, "self");
    bool cl = t.dim() == 4 && t.is_contiguous(at::MemoryFormat::ChannelsLast) && !t.is_contiguous();
    return Napi::String::New(info.Env(), cl ? "channelsLast" : "contiguous");
  });
}

}  // namespace

void InitTensorRead(Napi::Env env, Napi::Object exports) {
  exports.Set("toArray", Napi::Function::New<ToArray>(env, "toArray"));
  exports.Set("data", Napi::Function::New<Data>(env, "data"));
  exports.Set("item", Napi::Function::New<Item>(env, "item"));
  exports.Set("shape", Napi::Function::New<Shape>(env, "shape"));
  exports.Set("strides", Napi::Function::New<Strides>(env, "strides"));
  exports.Set("dtype", Napi::Function::New<DType>(env, "dtype"));
  exports.Set("device", Napi::Function::New<Device>(env, "device"));
  exports.Set("isContiguous", Napi::Function::New<IsContiguous>(env, "isContiguous"));
  exports.Set("memoryFormat", Napi::Function::New<MemoryFormatOf>(env, "memoryFormat"));
}

}  // namespace ictorch
