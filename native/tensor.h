// tensor.h: TensorHandle, the JS object that owns one at::Tensor, and argument conversion helpers.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>
#include <cmath>
#include <utility>
#include <optional>
#include <string>
#include <vector>
#include "errors.h"
#include "handle.h"
#include "state.h"

namespace ictorch {

// The key under which calls in flight mark a tensor: its storage (shared by views and aliases), or nullptr.
inline const void* storageKey(const at::Tensor& t) {
  return t.defined() && t.has_storage() ? static_cast<const void*>(t.storage().unsafeGetStorageImpl()) : nullptr;
}

// Marks t's storage as used by a call in flight, and keeps that storage alive until the marks are released.
inline void markTensor(InUse& marks, const at::Tensor& t, std::string what, bool write) {
  if (const void* key = storageKey(t)) marks.add(key, std::move(what), write, std::make_shared<c10::Storage>(t.storage()));
}

// The memory of a fromBuffer tensor belongs to a JS Buffer or TypedArray: its storage's DataPtr carries one of
// these as context, with releaseExternalBuffer as deleter, so every tensor on that storage (views included)
// leads back to the buffer.
struct ExternalBuffer {
  napi_ref ref;                             // the Buffer / TypedArray, kept alive while the storage lives
  std::weak_ptr<PendingReleases> pending;  // where the deleter (any thread) queues the reference's release
};
void releaseExternalBuffer(void* ctx);

class TensorHandle : public Handle<TensorHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, at::Tensor t);  // new handle owning t
  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;

  // The tensor, for reading its values; throws if disposed, and an InUseError while a native call in flight
  // writes its storage (a training step updating a parameter: the values would be a mix of old and new, and
  // the step may be replacing the parameter's .grad under the reader).
  const at::Tensor& tensor(const char* argName) const;
  // The tensor, for its metadata only (shape, dtype, device, requiresGrad, ...), which no call in flight
  // changes; throws if disposed.
  const at::Tensor& meta(const char* argName) const;
  // The tensor, for changing in place; also throws an InUseError while a native call in flight uses its storage.
  const at::Tensor& mutableTensor(const char* argName) const;
  // Re-counts the handle after its tensor's storage was replaced in place (set_data: to(), channelsLast()).
  void recount();

 protected:
  const char* noun() const override { return "tensor"; }
  const void* inFlightKey() const override { return storageKey(tensor_); }
  void release() override;
  bool disposableInFlight() const override { return true; }

 private:
  void count();
  at::Tensor tensor_;
  std::shared_ptr<LiveCounters> live_;
  std::string deviceKey_;
  const void* storageKey_ = nullptr;  // the StorageImpl this handle was counted against
};

// ---- argument conversion (throw ArgTypeError / ArgRangeError naming the argument) ----
// The tensor argument i, to read its values (refused while a call in flight writes it: TensorHandle::tensor).
const at::Tensor& argTensor(const Napi::CallbackInfo& info, size_t i, const char* name);
// The tensor argument i, for its metadata only (TensorHandle::meta).
const at::Tensor& argTensorMeta(const Napi::CallbackInfo& info, size_t i, const char* name);
// argTensor for an argument the call changes in place: refused while a native call in flight uses it.
const at::Tensor& argMutableTensor(const Napi::CallbackInfo& info, size_t i, const char* name);
TensorHandle* argTensorHandle(const Napi::CallbackInfo& info, size_t i, const char* name);
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

// ---- value checks made before ATen sees a tensor ----
// On CUDA an index or a probability out of range meets a device-side assert, which poisons the context for the
// rest of the process, and on the CPU ATen's message names an internal op: so such values are checked here, on
// every device, with one host read per check (both reductions run first, one copy brings both values back).

// The smallest and largest value of a non-empty integer tensor.
inline std::pair<int64_t, int64_t> intBounds(const at::Tensor& t) {
  at::NoGradGuard ng;
  const at::Tensor b = at::stack({t.min(), t.max()}).to(at::kCPU, at::kLong);
  return {b.data_ptr<int64_t>()[0], b.data_ptr<int64_t>()[1]};
}

// The smallest and largest value of a non-empty tensor, as doubles; NaN when t holds a NaN.
inline std::pair<double, double> floatBounds(const at::Tensor& t) {
  at::NoGradGuard ng;
  const at::Tensor b = at::stack({t.min().to(at::kDouble), t.max().to(at::kDouble)}).to(at::kCPU);
  return {b.data_ptr<double>()[0], b.data_ptr<double>()[1]};
}

// Throws ArgRangeError("<what> must hold <values> in [0, 1]") when t holds a value outside [0, 1] or a NaN.
inline void checkUnitInterval(const at::Tensor& t, const std::string& what, const char* values = "probabilities") {
  if (t.numel() == 0) return;
  const auto [lo, hi] = floatBounds(t);
  if (!(lo >= 0 && hi <= 1))
    throw ArgRangeError(what + " must hold " + values + " in [0, 1], found " + c10::str(std::isnan(lo) || std::isnan(hi) ? NAN : lo < 0 ? lo : hi));
}

}  // namespace ictorch
