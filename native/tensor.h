// tensor.h: TensorHandle, the JS object that owns one at::Tensor, and argument conversion helpers.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>
#include <optional>
#include <string>
#include <vector>
#include "errors.h"
#include "state.h"

namespace ictorch {

class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, at::Tensor t);  // new handle owning t
  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;

  const at::Tensor& tensor(const char* argName) const;  // throws if disposed
  void release();

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  at::Tensor tensor_;
  bool disposed_ = false;
  std::shared_ptr<LiveCounters> live_;
  std::string deviceKey_;
  const void* storageKey_ = nullptr;  // the StorageImpl this handle was counted against
  napi_env env_ = nullptr;
};

// ---- argument conversion (throw ArgTypeError / ArgRangeError naming the argument) ----
const at::Tensor& argTensor(const Napi::CallbackInfo& info, size_t i, const char* name);
std::vector<at::Tensor> argTensorList(const Napi::CallbackInfo& info, size_t i, const char* name);
bool isTensor(Napi::Env env, const Napi::Value& v);
int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<int64_t> argOptInt(const Napi::CallbackInfo& info, size_t i, const char* name);
double argDouble(const Napi::CallbackInfo& info, size_t i, const char* name);
bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name, bool dflt);
std::string argString(const Napi::CallbackInfo& info, size_t i, const char* name);
std::vector<int64_t> argIntList(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<std::vector<int64_t>> argOptIntList(const Napi::CallbackInfo& info, size_t i, const char* name);
at::Scalar argScalar(const Napi::CallbackInfo& info, size_t i, const char* name);
at::ScalarType argDType(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<at::ScalarType> argOptDType(const Napi::CallbackInfo& info, size_t i, const char* name);
at::Device argDevice(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<at::Device> argOptDevice(const Napi::CallbackInfo& info, size_t i, const char* name);
at::MemoryFormat parseMemoryFormat(const std::string& s);

at::ScalarType dtypeFromName(const std::string& name);
const char* dtypeName(at::ScalarType t);
std::string deviceName(const at::Device& d);
Napi::Array wrapList(Napi::Env env, const std::vector<at::Tensor>& ts);

// True when the value is null or undefined (an optional argument left out).
inline bool isNullish(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }

}  // namespace ictorch
