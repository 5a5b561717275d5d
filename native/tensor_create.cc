// tensor_create.cc: tensors from JS data (copied or zero-copy over a Buffer) and the factory functions.
#include <cstring>
#include "tensor.h"

namespace ictorch {
namespace {

at::TensorOptions factoryOptions(const Napi::CallbackInfo& info, size_t dtypeArg, size_t deviceArg, at::ScalarType dflt) {
  auto dtype = argOptDType(info, dtypeArg, "dtype").value_or(dflt);
  auto device = argOptDevice(info, deviceArg, "device").value_or(at::Device(at::kCPU));
  return at::TensorOptions().dtype(dtype).device(device);
}

// Guard against sizes whose element count overflows before LibTorch sees them.
std::vector<int64_t> argSizes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  auto sizes = argIntList(info, i, name);
  long double n = 1;
  for (size_t k = 0; k < sizes.size(); ++k) {
    if (sizes[k] < 0) throw ArgRangeError(std::string("argument '") + name + "' has a negative size " + std::to_string(sizes[k]) + " at dimension " + std::to_string(k) + "; sizes must be >= 0");
    n *= static_cast<long double>(sizes[k]);
  }
  if (n > 9007199254740991.0L) throw ArgRangeError(std::string("argument '") + name + "' describes too many elements for one tensor");
  return sizes;
}

at::Tensor finish(at::Tensor t, const Napi::CallbackInfo& info, size_t requiresGradArg) {
  if (argBool(info, requiresGradArg, "requiresGrad", false)) t.set_requires_grad(true);
  return t;
}

at::ScalarType typedArrayScalarType(const Napi::TypedArray& ta) {
  switch (ta.TypedArrayType()) {
    case napi_float32_array: return at::kFloat;
    case napi_float64_array: return at::kDouble;
    case napi_int32_array: return at::kInt;
    case napi_bigint64_array: return at::kLong;
    case napi_uint8_array:
    case napi_uint8_clamped_array: return at::kByte;
    case napi_int8_array: return at::kChar;
    case napi_int16_array: return at::kShort;
    default:
      throw ArgTypeError("unsupported TypedArray kind; expected Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array, Int8Array or Int16Array");
  }
}

// fromTypedArray(data, shape, dtype, device, requiresGrad): copies the elements.
Napi::Value FromTypedArray(const Napi::CallbackInfo& info) {
  return guard(info, "tensor", [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw ArgTypeError("argument 'data' must be a TypedArray");
    // The shape and the options first (an element's getter could detach the data's buffer), then the data's
    // length and bytes, with no JS run in between.
    auto sizes = argSizes(info, 1, "shape");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    auto src = typedArrayScalarType(ta);  // the kind of a TypedArray never changes
    auto opts = factoryOptions(info, 2, 3, src);
    int64_t n = 1;
    for (auto s : sizes) n *= s;
    if (n != static_cast<int64_t>(ta.ElementLength()) || (n > 0 && ta.ArrayBuffer().Data() == nullptr))
      throw ArgRangeError("shape holds " + std::to_string(n) + " elements but the data has " + std::to_string(ta.ElementLength()));
    at::Tensor host = at::empty(sizes, at::TensorOptions().dtype(src));
    if (n > 0) std::memcpy(host.data_ptr(), static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.ByteLength());
    at::Tensor t = host.to(opts.device(), opts.dtype().toScalarType());
    return TensorHandle::Wrap(info.Env(), finish(std::move(t), info, 4));
  });
}

// Whether the ArrayBuffer is resizable, asked of ArrayBuffer.prototype's own `resizable` getter: reading
// ab.resizable would find an own property that JS can define on the buffer to say false.
bool isResizable(Napi::Env env, const Napi::ArrayBuffer& ab) {
  Napi::Object global = env.Global();
  Napi::Value proto = global.Get("ArrayBuffer").As<Napi::Object>().Get("prototype");
  Napi::Value desc = global.Get("Object").As<Napi::Object>().Get("getOwnPropertyDescriptor").As<Napi::Function>().Call({proto, Napi::String::New(env, "resizable")});
  if (!desc.IsObject()) return false;  // no resizable buffers in this V8
  Napi::Value get = desc.As<Napi::Object>().Get("get");
  if (!get.IsFunction()) return false;
  Napi::Value r = get.As<Napi::Function>().Call(ab, {});
  return r.IsBoolean() && r.As<Napi::Boolean>().Value();
}

// fromBuffer(bufferOrTypedArray, shape, dtype): a CPU tensor over the same memory (no copy).
// The Buffer stays alive for as long as any tensor shares its memory (views included): the deleter
// queues the reference, and the JS thread releases it on its next call into the addon.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  return guard(info, "fromBuffer", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) throw ArgTypeError("argument 'buffer' must be a Buffer or TypedArray");
    // The other arguments first: converting them can run JS (an array element's getter), which could detach or
    // shrink the buffer; its length and address are read after that, once.
    auto sizes = argSizes(info, 1, "shape");
    auto dtype = argDType(info, 2, "dtype");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    // A resizable ArrayBuffer can shrink (or be detached) while the tensor still points into it: V8 then
    // decommits the memory and a read faults. Only fixed-length buffers can be shared.
    if (isResizable(env, ta.ArrayBuffer()))
      throw ArgTypeError("argument 'buffer' is a view of a resizable ArrayBuffer, which could shrink under the tensor; copy it with tensor() instead");
    int64_t n = 1;
    for (auto s : sizes) n *= s;
    size_t itemsize = c10::elementSize(dtype);
    if (static_cast<size_t>(n) * itemsize != ta.ByteLength())
      throw ArgRangeError("shape [" + c10::Join(", ", sizes) + "] of " + dtypeName(dtype) + " needs " + std::to_string(n * itemsize) +
                          " bytes but the buffer has " + std::to_string(ta.ByteLength()));
    uint8_t* data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    if (reinterpret_cast<uintptr_t>(data) % itemsize != 0)
      throw ArgRangeError("buffer memory is not aligned to " + std::to_string(itemsize) + " bytes, as " + dtypeName(dtype) + " needs; copy it with tensor() instead");
    napi_ref ref;
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, info[0], 1, &ref), Napi::Value());
    // The context marks the storage as the buffer's (ExternalBuffer): uses check that it is still attached.
    at::Tensor t = at::for_blob(data, sizes)
                       .context(new ExternalBuffer{ref, state(env).pending}, &releaseExternalBuffer)
                       .options(at::TensorOptions().dtype(dtype))
                       .make_tensor();
    return TensorHandle::Wrap(env, std::move(t));
  });
}

// full(shape, value, dtype, device, requiresGrad)
Napi::Value Full(const Napi::CallbackInfo& info) {
  return guard(info, "full", [&]() -> Napi::Value {
    auto sizes = argSizes(info, 0, "shape");
    auto value = argScalar(info, 1, "value");
    auto t = at::full(sizes, value, factoryOptions(info, 2, 3, at::kFloat));
    return TensorHandle::Wrap(info.Env(), finish(std::move(t), info, 4));
  });
}

// empty(shape, dtype, device, requiresGrad, memoryFormat)
Napi::Value Empty(const Napi::CallbackInfo& info) {
  return guard(info, "empty", [&]() -> Napi::Value {
    auto sizes = argSizes(info, 0, "shape");
    auto fmt = isNullish(info[4]) ? at::MemoryFormat::Contiguous : parseMemoryFormat(argString(info, 4, "memoryFormat"));
    auto t = at::empty(sizes, factoryOptions(info, 1, 2, at::kFloat), fmt);
    return TensorHandle::Wrap(info.Env(), finish(std::move(t), info, 3));
  });
}

// arange(start, end, step, dtype, device, requiresGrad)
Napi::Value Arange(const Napi::CallbackInfo& info) {
  return guard(info, "arange", [&]() -> Napi::Value {
    auto t = at::arange(argScalar(info, 0, "start"), argScalar(info, 1, "end"), argScalar(info, 2, "step"), factoryOptions(info, 3, 4, at::kFloat));
    return TensorHandle::Wrap(info.Env(), finish(std::move(t), info, 5));
  });
}

// linspace(start, end, steps, dtype, device, requiresGrad)
Napi::Value Linspace(const Napi::CallbackInfo& info) {
  return guard(info, "linspace", [&]() -> Napi::Value {
    int64_t steps = argInt(info, 2, "steps");
    if (steps < 0) throw ArgRangeError("argument 'steps' must be >= 0, got " + std::to_string(steps));
    auto t = at::linspace(argScalar(info, 0, "start"), argScalar(info, 1, "end"), steps, factoryOptions(info, 3, 4, at::kFloat));
    return TensorHandle::Wrap(info.Env(), finish(std::move(t), info, 5));
  });
}

// eye(n, m, dtype, device, requiresGrad)
Napi::Value Eye(const Napi::CallbackInfo& info) {
  return guard(info, "eye", [&]() -> Napi::Value {
    int64_t n = argInt(info, 0, "n");
    int64_t m = argOptInt(info, 1, "m").value_or(n);
    if (n < 0 || m < 0) throw ArgRangeError("sizes must be >= 0, got n=" + std::to_string(n) + ", m=" + std::to_string(m));
    auto t = at::eye(n, m, factoryOptions(info, 2, 3, at::kFloat));
    return TensorHandle::Wrap(info.Env(), finish(std::move(t), info, 4));
  });
}

// rand / randn (shape, dtype, device, requiresGrad)
Napi::Value Rand(const Napi::CallbackInfo& info) {
  return guard(info, "rand", [&]() -> Napi::Value {
    auto t = at::rand(argSizes(info, 0, "shape"), factoryOptions(info, 1, 2, at::kFloat));
    return TensorHandle::Wrap(info.Env(), finish(std::move(t), info, 3));
  });
}
Napi::Value Randn(const Napi::CallbackInfo& info) {
  return guard(info, "randn", [&]() -> Napi::Value {
    auto t = at::randn(argSizes(info, 0, "shape"), factoryOptions(info, 1, 2, at::kFloat));
    return TensorHandle::Wrap(info.Env(), finish(std::move(t), info, 3));
  });
}

// randint(low, high, shape, dtype, device)
Napi::Value Randint(const Napi::CallbackInfo& info) {
  return guard(info, "randint", [&]() -> Napi::Value {
    int64_t low = argInt(info, 0, "low"), high = argInt(info, 1, "high");
    if (high <= low) throw ArgRangeError("'high' (" + std::to_string(high) + ") must be greater than 'low' (" + std::to_string(low) + ")");
    auto t = at::randint(low, high, argSizes(info, 2, "shape"), factoryOptions(info, 3, 4, at::kLong));
    return TensorHandle::Wrap(info.Env(), std::move(t));
  });
}

}  // namespace

void InitTensorCreate(Napi::Env env, Napi::Object exports) {
  exports.Set("fromTypedArray", Napi::Function::New<FromTypedArray>(env, "fromTypedArray"));
  exports.Set("fromBuffer", Napi::Function::New<FromBuffer>(env, "fromBuffer"));
  exports.Set("full", Napi::Function::New<Full>(env, "full"));
  exports.Set("empty", Napi::Function::New<Empty>(env, "empty"));
  exports.Set("arange", Napi::Function::New<Arange>(env, "arange"));
  exports.Set("linspace", Napi::Function::New<Linspace>(env, "linspace"));
  exports.Set("eye", Napi::Function::New<Eye>(env, "eye"));
  exports.Set("rand", Napi::Function::New<Rand>(env, "rand"));
  exports.Set("randn", Napi::Function::New<Randn>(env, "randn"));
  exports.Set("randint", Napi::Function::New<Randint>(env, "randint"));
}

}  // namespace ictorch
