// serialize.cc: state dicts in PyTorch's own file format (torch::pickle_save / pickle_load: the zip format that
// `torch.load` reads in Python and `torch.save` writes). Bytes cross to JS, which writes files atomically.
#include <torch/serialize.h>
#include "tensor.h"

namespace ictorch {
namespace {

// pickleSave(names, tensors) -> Buffer holding a Python-loadable dict {name: tensor} (tensors saved from the CPU).
Napi::Value PickleSave(const Napi::CallbackInfo& info) {
  return guard(info, "pickleSave", [&]() -> Napi::Value {
    if (!info[0].IsArray()) throw ArgTypeError("argument 'names' must be an array of strings");
    Napi::Array names = info[0].As<Napi::Array>();
    auto tensors = argTensorList(info, 1, "tensors");
    if (names.Length() != tensors.size()) throw ArgRangeError("'names' and 'tensors' must have the same length");
    c10::Dict<std::string, at::Tensor> dict;
    for (uint32_t k = 0; k < names.Length(); ++k) {
      Napi::Value n = names.Get(k);
      if (!n.IsString()) throw ArgTypeError("argument 'names[" + std::to_string(k) + "]' must be a string");
      dict.insert(n.As<Napi::String>().Utf8Value(), tensors[k].detach().to(at::kCPU).contiguous());
    }
    std::vector<char> bytes = torch::pickle_save(dict);
    return Napi::Buffer<char>::Copy(info.Env(), bytes.data(), bytes.size());
  });
}

// pickleLoad(buffer) -> [names, tensors] from a file written by torch.save({name: tensor}) or pickleSave.
Napi::Value PickleLoad(const Napi::CallbackInfo& info) {
  return guard(info, "pickleLoad", [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw ArgTypeError("argument 'data' must be a Buffer");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    const char* p = static_cast<const char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    std::vector<char> bytes(p, p + ta.ByteLength());
    torch::IValue v = torch::pickle_load(bytes);
    if (!v.isGenericDict()) throw ArgTypeError(std::string("the file holds a ") + v.tagKind() + ", not a dict of tensors (a state dict)");
    auto dict = v.toGenericDict();
    Napi::Env env = info.Env();
    Napi::Array names = Napi::Array::New(env), tensors = Napi::Array::New(env);
    uint32_t k = 0;
    for (const auto& item : dict) {
      if (!item.key().isString() || !item.value().isTensor())
        throw ArgTypeError("entry " + std::to_string(k) + " is not a string → tensor pair; expected a state dict");
      names.Set(k, item.key().toStringRef());
      tensors.Set(k, TensorHandle::Wrap(env, item.value().toTensor()));
      ++k;
    }
    Napi::Array out = Napi::Array::New(env, 2);
    out.Set(0u, names);
    out.Set(1u, tensors);
    return out;
  });
}

}  // namespace

void InitSerialize(Napi::Env env, Napi::Object exports) {
  exports.Set("pickleSave", Napi::Function::New<PickleSave>(env, "pickleSave"));
  exports.Set("pickleLoad", Napi::Function::New<PickleLoad>(env, "pickleLoad"));
}

}  // namespace ictorch
