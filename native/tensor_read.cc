// tensor_read.cc: reading tensors back into JS: metadata, toArray (sync), data() (async, off the event loop), item().
// Read-backs copy into memory V8 owns, so nothing they return waits for a finaliser.
#include "tensor.h"
#include "worker.h"

namespace ictorch {
namespace {

// The element type JS reads t as: float16/bfloat16 widen to float32, bool reads as uint8 (0/1).
at::ScalarType hostType(const at::Tensor& t) {
  auto st = t.scalar_type();
  if (st == at::kHalf || st == at::kBFloat16) return at::kFloat;
  if (st == at::kBool) return at::kByte;
  return st;
}

// A TypedArray of `n` elements of `type` over `ab`.
Napi::Value typedArrayOver(Napi::Env env, Napi::ArrayBuffer ab, size_t n, at::ScalarType type) {
  switch (type) {
    case at::kFloat: return Napi::Float32Array::New(env, n, ab, 0);
    case at::kDouble: return Napi::Float64Array::New(env, n, ab, 0);
    case at::kInt: return Napi::Int32Array::New(env, n, ab, 0);
    case at::kLong: return Napi::BigInt64Array::New(env, n, ab, 0);
    case at::kByte: return Napi::Uint8Array::New(env, n, ab, 0);
    case at::kChar: return Napi::Int8Array::New(env, n, ab, 0);
    case at::kShort: return Napi::Int16Array::New(env, n, ab, 0);
    default: throw ArgTypeError(std::string("dtype ") + c10::toString(type) + " cannot be read back");
  }
}

// A new ArrayBuffer that V8 allocates and owns (no finaliser: the garbage collector frees it at once and
// counts its bytes), sized for t read as hostType(t). An ArrayBuffer over LibTorch memory instead needs a
// Node-API finaliser, and Node 20 runs those only when the event loop turns: a synchronous loop of reads
// then holds every copy it made (6,000 toArray() of a 64x64 float tensor: +100 MiB).
Napi::ArrayBuffer hostBuffer(Napi::Env env, const at::Tensor& t) {
  const size_t bytes = static_cast<size_t>(t.numel()) * c10::elementSize(hostType(t));
  // V8 aborts the process when it cannot allocate an ArrayBuffer, so a read that cannot fit one (an expanded
  // view of 2^40 elements, say) is an error here: Node's limit for one buffer (buffer.constants.MAX_LENGTH).
  constexpr size_t kMaxBytes = size_t(1) << 32;
  if (bytes > kMaxBytes)
    throw ArgRangeError("the tensor holds " + std::to_string(bytes) + " bytes (shape [" + c10::Join(", ", t.sizes()) +
                        "]), more than one JavaScript ArrayBuffer can (4 GiB): read it in slices");
  return Napi::ArrayBuffer::New(env, bytes);
}

// Copies t (any device, layout or dtype) into `dst` as contiguous elements of hostType(t): one copy.
void copyToHost(const at::Tensor& t, void* dst) {
  if (t.numel() == 0) return;
  at::Tensor view = at::from_blob(dst, t.sizes(), at::TensorOptions().dtype(hostType(t)).device(at::kCPU));
  at::NoGradGuard noGrad;
  view.copy_(t.detach());
}

Napi::Value ToArray(const Napi::CallbackInfo& info) {
  return guard(info, "toArray", [&]() -> Napi::Value {
    const at::Tensor& t = argTensor(info, 0, "self");  // refused while a training step in flight writes it
    Napi::ArrayBuffer ab = hostBuffer(info.Env(), t);
    copyToHost(t, ab.Data());
    return typedArrayOver(info.Env(), ab, static_cast<size_t>(t.numel()), hostType(t));
  });
}

// data(): the ArrayBuffer is made here, the device-to-host copy into it runs on a worker thread, and the
// promise resolves with the TypedArray. The tensor is in flight meanwhile (in-place changes are refused).
Napi::Value Data(const Napi::CallbackInfo& info) {
  return guard(info, "data", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    at::Tensor t = argTensor(info, 0, "self");
    at::ScalarType type = hostType(t);
    if (type != at::kFloat && type != at::kDouble && type != at::kInt && type != at::kLong && type != at::kByte && type != at::kChar && type != at::kShort)
      throw ArgTypeError(std::string("dtype ") + c10::toString(t.scalar_type()) + " cannot be read back");
    Napi::ArrayBuffer ab = hostBuffer(env, t);
    auto keep = std::make_shared<Napi::ObjectReference>(Napi::Persistent(ab.As<Napi::Object>()));
    void* dst = ab.Data();
    size_t n = static_cast<size_t>(t.numel());
    InUse marks(env, "data()");
    markTensor(marks, t, "tensor 'self'", false);
    return queuePromise(env, "data", false, std::move(marks),
                        [t, dst] {
                          copyToHost(t, dst);
                          return true;
                        },
                        [keep, n, type](Napi::Env env, bool&) { return typedArrayOver(env, keep->Value().As<Napi::ArrayBuffer>(), n, type); });
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
    const at::Tensor& t = argTensorMeta(info, 0, "self");
    Napi::Array a = Napi::Array::New(info.Env(), t.dim());
    for (int64_t k = 0; k < t.dim(); ++k) a.Set(static_cast<uint32_t>(k), Napi::Number::New(info.Env(), static_cast<double>(t.size(k))));
    return a;
  });
}
Napi::Value Strides(const Napi::CallbackInfo& info) {
  return guard(info, "strides", [&]() -> Napi::Value {
    const at::Tensor& t = argTensorMeta(info, 0, "self");
    Napi::Array a = Napi::Array::New(info.Env(), t.dim());
    for (int64_t k = 0; k < t.dim(); ++k) a.Set(static_cast<uint32_t>(k), Napi::Number::New(info.Env(), static_cast<double>(t.stride(k))));
    return a;
  });
}
Napi::Value DType(const Napi::CallbackInfo& info) {
  return guard(info, "dtype", [&]() -> Napi::Value { return Napi::String::New(info.Env(), dtypeName(argTensorMeta(info, 0, "self").scalar_type())); });
}
Napi::Value Device(const Napi::CallbackInfo& info) {
  return guard(info, "device", [&]() -> Napi::Value { return Napi::String::New(info.Env(), deviceName(argTensorMeta(info, 0, "self").device())); });
}
Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  return guard(info, "isContiguous", [&]() -> Napi::Value {
    const at::Tensor& t = argTensorMeta(info, 0, "self");
    auto fmt = isNullish(info[1]) ? at::MemoryFormat::Contiguous : parseMemoryFormat(argString(info, 1, "memoryFormat"));
    return Napi::Boolean::New(info.Env(), t.is_contiguous(fmt));
  });
}
// storageInfo(t): [offset into its storage, the storage's size in elements of t's dtype, an identity of the storage
// (a number, equal for tensors that share it while they live)]. Metadata only.
Napi::Value StorageInfo(const Napi::CallbackInfo& info) {
  return guard(info, "storageInfo", [&]() -> Napi::Value {
    const at::Tensor& t = argTensorMeta(info, 0, "self");
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env, 3);
    a.Set(0u, Napi::Number::New(env, static_cast<double>(t.has_storage() ? t.storage_offset() : 0)));
    a.Set(1u, Napi::Number::New(env, static_cast<double>(t.has_storage() ? t.storage().nbytes() / t.element_size() : 0)));
    a.Set(2u, Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(storageKey(t)))));
    return a;
  });
}
Napi::Value MemoryFormatOf(const Napi::CallbackInfo& info) {
  return guard(info, "memoryFormat", [&]() -> Napi::Value {
    const at::Tensor& t = argTensorMeta(info, 0, "self");
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
  exports.Set("storageInfo", Napi::Function::New<StorageInfo>(env, "storageInfo"));
}

}  // namespace ictorch
