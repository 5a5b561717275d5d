// tensor.cc: TensorHandle lifetime (dispose, finalizer, live counters, external memory) and argument conversion.
#include "tensor.h"
#include <cmath>
#include "dtype.h"

namespace ictorch {

void TensorHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "TensorHandle", baseMethods());
  state(env).tensorCtor = Napi::Persistent(ctor);
  exports.Set("TensorHandle", ctor);
}

// Only Wrap() creates usable handles; `new TensorHandle()` from JS gives an empty, disposed one.
TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Handle<TensorHandle>(info) {}

Napi::Object TensorHandle::Wrap(Napi::Env env, at::Tensor t) {
  auto& st = state(env);
  st.pending->drain(env);
  Napi::Object obj = st.tensorCtor.New({});
  TensorHandle* h = Napi::ObjectWrap<TensorHandle>::Unwrap(obj);
  h->tensor_ = std::move(t);
  h->disposed_ = false;
  h->live_ = st.live;
  h->count();
  return obj;
}

// Counts this handle against its tensor's device and storage; CPU bytes a storage adds are reported to V8.
void TensorHandle::count() {
  deviceKey_ = tensor_.defined() ? deviceName(tensor_.device()) : "cpu";
  storageKey_ = storageKey(tensor_);
  int64_t nbytes = storageKey_ ? static_cast<int64_t>(tensor_.storage().nbytes()) : 0;
  int64_t added = live_->acquire(deviceKey_, storageKey_, nbytes);
  if (added > 0 && deviceKey_ == "cpu") Napi::MemoryManagement::AdjustExternalMemory(env_, added);
}

void TensorHandle::recount() {
  if (disposed_ || storageKey_ == storageKey(tensor_)) return;
  int64_t released = live_->release(deviceKey_, storageKey_);
  if (released > 0 && deviceKey_ == "cpu") Napi::MemoryManagement::AdjustExternalMemory(env_, -released);
  count();
}

void TensorHandle::release() {
  int64_t released = live_ ? live_->release(deviceKey_, storageKey_) : 0;
  if (released > 0 && deviceKey_ == "cpu") {
    int64_t dummy;
    napi_adjust_external_memory(env_, -released, &dummy);
  }
  tensor_ = at::Tensor();
}

TensorHandle::~TensorHandle() {
  if (!disposed_ && live_) {
    std::lock_guard<std::mutex> lock(live_->mu);
    ++live_->collected;
  }
  disposeNow();
}

void releaseExternalBuffer(void* ctx) {
  auto* e = static_cast<ExternalBuffer*>(ctx);
  if (auto p = e->pending.lock()) p->push(e->ref);
  delete e;
}

namespace {

// A fromBuffer tensor keeps its Buffer alive, but JS can still detach the buffer's ArrayBuffer (transfer it to a
// worker, structuredClone with transfer): the memory then belongs to another ArrayBuffer and is freed with it.
// Every use that reads or writes values checks first (a pointer comparison for every other tensor).
void checkExternalMemory(napi_env env, const at::Tensor& t, const char* argName) {
  if (!t.defined() || !t.has_storage()) return;
  const c10::DataPtr& dp = t.storage().data_ptr();
  if (dp.get_deleter() != &releaseExternalBuffer) return;
  const auto* e = static_cast<const ExternalBuffer*>(dp.get_context());
  napi_value view = nullptr, buffer = nullptr;
  bool detached = false;
  if (napi_get_reference_value(env, e->ref, &view) != napi_ok || view == nullptr) return;
  if (napi_get_typedarray_info(env, view, nullptr, nullptr, nullptr, &buffer, nullptr) != napi_ok) return;
  if (napi_is_detached_arraybuffer(env, buffer, &detached) == napi_ok && detached)
    throw ArgTypeError(std::string("tensor '") + argName + "' shares the memory of a Buffer whose ArrayBuffer has since been detached (transferred): that memory is gone, and the tensor cannot be used");
}

}  // namespace

const at::Tensor& TensorHandle::tensor(const char* argName) const {
  checkIdle(std::string("tensor '") + argName + "'", false);
  checkExternalMemory(env_, tensor_, argName);
  return tensor_;
}

const at::Tensor& TensorHandle::meta(const char* argName) const {
  checkLive(std::string("tensor '") + argName + "'");
  return tensor_;
}

const at::Tensor& TensorHandle::mutableTensor(const char* argName) const {
  checkIdle(std::string("tensor '") + argName + "'", true);
  checkExternalMemory(env_, tensor_, argName);
  return tensor_;
}

// ---------------------------------------------------------------- conversions

bool isTensor(Napi::Env env, const Napi::Value& v) {
  return TensorHandle::isHandle(v);
}

static std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    std::ostringstream os;
    os << d << " (number)";
    return os.str();
  }
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\" (string)";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

TensorHandle* argTensorHandle(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!isTensor(info.Env(), v)) throw ArgTypeError(std::string("argument '") + name + "' must be a Tensor, got " + describe(v));
  return Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>());
}

const at::Tensor& argTensor(const Napi::CallbackInfo& info, size_t i, const char* name) { return argTensorHandle(info, i, name)->tensor(name); }

const at::Tensor& argTensorMeta(const Napi::CallbackInfo& info, size_t i, const char* name) { return argTensorHandle(info, i, name)->meta(name); }

const at::Tensor& argMutableTensor(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return argTensorHandle(info, i, name)->mutableTensor(name);
}

std::vector<at::Tensor> argTensorList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsArray()) throw ArgTypeError(std::string("argument '") + name + "' must be an array of Tensors, got " + describe(v));
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value e = arr.Get(k);
    std::string elName = std::string(name) + "[" + std::to_string(k) + "]";
    if (!isTensor(info.Env(), e)) throw ArgTypeError("argument '" + elName + "' must be a Tensor, got " + describe(e));
    out.push_back(Napi::ObjectWrap<TensorHandle>::Unwrap(e.As<Napi::Object>())->tensor(elName.c_str()));
  }
  return out;
}

static int64_t toInt(const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) throw ArgTypeError("argument '" + name + "' must be an integer, got " + describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) throw ArgTypeError("argument '" + name + "' must be an integer, got " + describe(v));
  if (std::fabs(d) > 9007199254740991.0) throw ArgRangeError("argument '" + name + "' is too large: " + describe(v));
  return static_cast<int64_t>(d);
}

int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name) { return toInt(info[i], name); }

std::optional<int64_t> argOptInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (isNullish(info[i])) return std::nullopt;
  return toInt(info[i], name);
}

double argDouble(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw ArgTypeError(std::string("argument '") + name + "' must be a number, got " + describe(info[i]));
  return info[i].As<Napi::Number>().DoubleValue();
}

bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name, bool dflt) {
  if (isNullish(info[i])) return dflt;
  if (!info[i].IsBoolean()) throw ArgTypeError(std::string("argument '") + name + "' must be a boolean, got " + describe(info[i]));
  return info[i].As<Napi::Boolean>().Value();
}

std::string argString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw ArgTypeError(std::string("argument '") + name + "' must be a string, got " + describe(info[i]));
  return info[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> argIntList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsArray()) throw ArgTypeError(std::string("argument '") + name + "' must be an array of integers, got " + describe(v));
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) out[k] = toInt(arr.Get(k), std::string(name) + "[" + std::to_string(k) + "]");
  return out;
}

std::optional<std::vector<int64_t>> argOptIntList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (isNullish(info[i])) return std::nullopt;
  if (info[i].IsNumber()) return std::vector<int64_t>{toInt(info[i], name)};
  return argIntList(info, i, name);
}

at::Scalar argScalar(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsBigInt()) {
    bool lossless = false;
    int64_t value = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) throw ArgRangeError(std::string("argument '") + name + "' is a bigint outside the int64 range");
    return at::Scalar(value);
  }
  if (!v.IsNumber()) throw ArgTypeError(std::string("argument '") + name + "' must be a number or a Tensor, got " + describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  // A JS number with no fractional part acts like a Python int literal (keeps integer tensors integral).
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9007199254740991.0) return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

at::ScalarType dtypeFromName(const std::string& name) {
  for (const auto& e : kDTypes)
    if (name == e.name) return e.type;
  std::string valid;
  for (const auto& e : kDTypes) valid += std::string(valid.empty() ? "" : ", ") + e.name;
  throw ArgTypeError("unknown dtype \"" + name + "\"; expected one of " + valid);
}

const char* dtypeName(at::ScalarType t) {
  for (const auto& e : kDTypes)
    if (e.type == t) return e.name;
  return c10::toString(t);
}

at::ScalarType argDType(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw ArgTypeError(std::string("argument '") + name + "' must be a dtype name, got " + describe(info[i]));
  return dtypeFromName(info[i].As<Napi::String>().Utf8Value());
}

std::optional<at::ScalarType> argOptDType(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (isNullish(info[i])) return std::nullopt;
  return argDType(info, i, name);
}

at::Device argDevice(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw ArgTypeError(std::string("argument '") + name + "' must be a device name, got " + describe(info[i]));
  std::string s = info[i].As<Napi::String>().Utf8Value();
  bool ok = s == "cpu" || s == "cuda";
  if (!ok && s.rfind("cuda:", 0) == 0 && s.size() > 5 && s.size() < 9) {
    ok = true;
    for (size_t k = 5; k < s.size(); ++k) ok = ok && std::isdigit(static_cast<unsigned char>(s[k]));
  }
  if (!ok) throw ArgTypeError("unknown device \"" + s + "\"; expected \"cpu\", \"cuda\" or \"cuda:N\"");
  return at::Device(s);
}

std::optional<at::Device> argOptDevice(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (isNullish(info[i])) return std::nullopt;
  return argDevice(info, i, name);
}

at::MemoryFormat parseMemoryFormat(const std::string& s) {
  if (s == "contiguous") return at::MemoryFormat::Contiguous;
  if (s == "channelsLast") return at::MemoryFormat::ChannelsLast;
  if (s == "preserve") return at::MemoryFormat::Preserve;
  throw ArgTypeError("unknown memory format \"" + s + "\"; expected \"contiguous\", \"channelsLast\" or \"preserve\"");
}

std::string deviceName(const at::Device& d) {
  if (d.is_cpu()) return "cpu";
  if (d.is_cuda()) return "cuda:" + std::to_string(d.has_index() ? d.index() : 0);
  return d.str();
}

Napi::Array wrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array arr = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); ++k) arr.Set(static_cast<uint32_t>(k), TensorHandle::Wrap(env, ts[k]));
  return arr;
}

}  // namespace ictorch
