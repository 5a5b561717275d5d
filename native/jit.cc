// jit.cc: TorchScript modules (torch.jit.load, ScriptModule). Loading an archive from bytes the JS side has
// already checked (lib/jit.ts), calling its methods with arguments converted by each method's schema (sync, or
// on a libuv thread), its parameters and buffers, train/eval, moving it to a device or dtype, and saving it.
// The only translation unit that includes torch/script.h.
#ifndef ICTORCH_NO_JIT  // built without TorchScript (ICTORCH_JIT=0): InitJit at the end exports nothing
#include <torch/script.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <cmath>
#include <cstring>
#include <sstream>
#include "compat.h"
#include "tensor.h"
#include "worker.h"

namespace ictorch {
namespace {

// The archive's bytes, owned (copied from the JS Buffer before the load leaves the JS thread). LibTorch's own
// MemoryReadAdapter copies whatever range the zip reader asks for; a crafted archive's offsets could point
// past the end, so every read here is checked against the size first.
class BytesReadAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BytesReadAdapter(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  size_t size() const override { return bytes_->size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* what) const override {
    if (pos > bytes_->size() || n > bytes_->size() - pos) {
      throw ArgRangeError(std::string("the archive is corrupt: ") + (what && *what ? what : "a read") + " reaches past its end");
    }
    std::memcpy(buf, bytes_->data() + pos, n);
    return n;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
};

class ScriptModuleHandle : public Handle<ScriptModuleHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "ScriptModuleHandle", baseMethods());
    state(env).scriptModuleCtor = Napi::Persistent(ctor);
    exports.Set("ScriptModuleHandle", ctor);
  }
  static Napi::Object Wrap(Napi::Env env, torch::jit::Module m) {
    Napi::Object obj = state(env).scriptModuleCtor.New({});
    ScriptModuleHandle* h = Napi::ObjectWrap<ScriptModuleHandle>::Unwrap(obj);
    h->module_ = std::make_shared<torch::jit::Module>(std::move(m));
    h->disposed_ = false;
    return obj;
  }
  explicit ScriptModuleHandle(const Napi::CallbackInfo& info) : Handle<ScriptModuleHandle>(info) {}
  ~ScriptModuleHandle() override { disposeNow(); }

  // To run a method (refused while a call in flight changes it).
  const std::shared_ptr<torch::jit::Module>& module() const {
    checkIdle("script module", false);
    return module_;
  }
  // To read what it holds (names, parameters, mode).
  const torch::jit::Module& peek() const {
    checkLive("script module");
    return *module_;
  }
  // To change it (train/eval, to()): refused while any call in flight uses it.
  torch::jit::Module& mutableModule() const {
    checkIdle("script module", true);
    return *module_;
  }

 protected:
  const char* noun() const override { return "script module"; }
  const void* inFlightKey() const override { return module_ ? module_->_ivalue().get() : nullptr; }
  void release() override { module_.reset(); }

 private:
  std::shared_ptr<torch::jit::Module> module_;
};

ScriptModuleHandle* argScriptModule(const Napi::CallbackInfo& info, size_t i) {
  const Napi::Value& v = info[i];
  if (!ScriptModuleHandle::isHandle(v)) {
    throw ArgTypeError("argument 'module' must be a ScriptModule");
  }
  return Napi::ObjectWrap<ScriptModuleHandle>::Unwrap(v.As<Napi::Object>());
}

// Nesting deeper than this in arguments or results is refused (a guard against runaway recursion).
constexpr int kMaxDepth = 64;

std::string jsKind(const Napi::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsUndefined()) return "undefined";
  if (v.IsArray()) return "an array";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsNumber()) return "a number";
  if (v.IsBigInt()) return "a bigint";
  if (v.IsString()) return "a string";
  if (v.IsFunction()) return "a function";
  return "an object";
}

// `what` is the argument's path (x, names[1], d.key); messages name it as "argument 'names[1]'".
std::string label(const std::string& what) { return "argument '" + what + "'"; }

[[noreturn]] void badArg(const std::string& what, const c10::TypePtr& type, const Napi::Value& v, const std::string& expected) {
  throw ArgTypeError(label(what) + " has TorchScript type " + type->annotation_str() + ": expected " + expected + ", got " + jsKind(v));
}

int64_t toInt64(const Napi::Value& v, const std::string& what, const c10::TypePtr& type) {
  if (v.IsBigInt()) {
    bool lossless = true;
    int64_t x = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) throw ArgRangeError(label(what) + ": the bigint does not fit in int64");
    return x;
  }
  if (!v.IsNumber()) badArg(what, type, v, "an integer (number or bigint)");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d) throw ArgTypeError(label(what) + " has TorchScript type int: expected an integer, got " + Napi::Number::New(v.Env(), d).ToString().Utf8Value());
  if (std::fabs(d) > 9007199254740991.0) throw ArgRangeError(label(what) + ": " + std::to_string(d) + " is beyond the integers a number holds exactly; pass a bigint");
  return static_cast<int64_t>(d);
}

// A JS value as an IValue of TorchScript type `type` (the method's schema says which); `what` names it.
c10::IValue toIValue(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type, const std::string& what, int depth) {
  if (depth > kMaxDepth) throw ArgRangeError(label(what) + " is nested more than " + std::to_string(kMaxDepth) + " levels deep");
  if (auto opt = type->cast<c10::OptionalType>()) {
    if (isNullish(v)) return c10::IValue();
    return toIValue(env, v, opt->getElementType(), what, depth + 1);
  }
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      if (!isTensor(env, v)) badArg(what, type, v, "a Tensor");
      return Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>())->tensor(label(what).c_str());
    case c10::TypeKind::IntType:
      return toInt64(v, what, type);
    case c10::TypeKind::FloatType:
      if (!v.IsNumber()) badArg(what, type, v, "a number");
      return v.As<Napi::Number>().DoubleValue();
    case c10::TypeKind::NumberType: {
      if (v.IsBigInt()) return toInt64(v, what, type);
      if (!v.IsNumber()) badArg(what, type, v, "a number");
      double d = v.As<Napi::Number>().DoubleValue();
      if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= 9007199254740991.0) return static_cast<int64_t>(d);
      return d;
    }
    case c10::TypeKind::BoolType:
      if (!v.IsBoolean()) badArg(what, type, v, "a boolean");
      return v.As<Napi::Boolean>().Value();
    case c10::TypeKind::StringType:
      if (!v.IsString()) badArg(what, type, v, "a string");
      return v.As<Napi::String>().Utf8Value();
    case c10::TypeKind::NoneType:
      if (!isNullish(v)) badArg(what, type, v, "null");
      return c10::IValue();
    case c10::TypeKind::DeviceObjType:
      if (!v.IsString()) badArg(what, type, v, "a device name such as 'cpu' or 'cuda:0'");
      try {
        return c10::Device(v.As<Napi::String>().Utf8Value());
      } catch (const c10::Error&) {
        throw ArgRangeError(label(what) + ": \"" + v.As<Napi::String>().Utf8Value() + "\" is not a device name (expected 'cpu', 'cuda' or 'cuda:N')");
      }
    case c10::TypeKind::ListType: {
      if (!v.IsArray()) badArg(what, type, v, "an array");
      const c10::TypePtr& elem = type->expectRef<c10::ListType>().getElementType();
      Napi::Array arr = v.As<Napi::Array>();
      c10::impl::GenericList list(elem);
      list.reserve(arr.Length());
      for (uint32_t k = 0; k < arr.Length(); ++k) list.push_back(toIValue(env, arr.Get(k), elem, what + "[" + std::to_string(k) + "]", depth + 1));
      return list;
    }
    case c10::TypeKind::TupleType: {
      const auto& elems = type->expectRef<c10::TupleType>().elements();
      if (!v.IsArray() || v.As<Napi::Array>().Length() != elems.size()) badArg(what, type, v, "an array of " + std::to_string(elems.size()) + " items");
      Napi::Array arr = v.As<Napi::Array>();
      std::vector<c10::IValue> items;
      items.reserve(elems.size());
      for (uint32_t k = 0; k < elems.size(); ++k) items.push_back(toIValue(env, arr.Get(k), elems[k], what + "[" + std::to_string(k) + "]", depth + 1));
      return c10::ivalue::Tuple::create(std::move(items));
    }
    case c10::TypeKind::DictType: {
      const auto& dict = type->expectRef<c10::DictType>();
      c10::impl::GenericDict out(dict.getKeyType(), dict.getValueType());
      const bool stringKeys = dict.getKeyType()->kind() == c10::TypeKind::StringType;
      if (stringKeys && v.IsObject() && !v.IsArray() && !isTensor(env, v)) {
        Napi::Object o = v.As<Napi::Object>();
        Napi::Array keys = o.GetPropertyNames();
        for (uint32_t k = 0; k < keys.Length(); ++k) {
          std::string key = keys.Get(k).ToString().Utf8Value();
          out.insert_or_assign(key, toIValue(env, o.Get(key), dict.getValueType(), what + "." + key, depth + 1));
        }
        return out;
      }
      if (!stringKeys) throw ArgTypeError(label(what) + " has TorchScript type " + type->annotation_str() + ", which ictorch cannot pass from JS (it passes Dict[str, ...] only)");
      badArg(what, type, v, "a plain object");
    }
    default:
      throw ArgTypeError(label(what) + " has TorchScript type " + type->annotation_str() +
                         ", which ictorch cannot pass from JS (it passes Tensor, int, float, bool, str, None, Device, and Optional, List, Tuple and Dict[str, ...] of those)");
  }
}

// An IValue as a JS value: Tensor, number (bigint beyond 2^53), boolean, string, null, array (list, tuple),
// object (dict with string keys) or Map (other keys), device name.
Napi::Value fromIValue(Napi::Env env, const c10::IValue& v, const std::string& what, int depth) {
  if (depth > kMaxDepth) throw ArgRangeError(what + " is nested more than " + std::to_string(kMaxDepth) + " levels deep");
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    return t.defined() ? Napi::Value(TensorHandle::Wrap(env, t)) : env.Null();
  }
  if (v.isNone()) return env.Null();
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) {
    int64_t x = v.toInt();
    if (x > 9007199254740991LL || x < -9007199254740991LL) return Napi::BigInt::New(env, x);
    return Napi::Number::New(env, static_cast<double>(x));
  }
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isDevice()) return Napi::String::New(env, deviceName(v.toDevice()));
  if (v.isList() || v.isTuple()) {
    std::vector<c10::IValue> items = v.isList() ? v.toListRef().vec() : v.toTupleRef().elements().vec();
    Napi::Array arr = Napi::Array::New(env, items.size());
    for (uint32_t k = 0; k < items.size(); ++k) arr.Set(k, fromIValue(env, items[k], what + "[" + std::to_string(k) + "]", depth + 1));
    return arr;
  }
  if (v.isGenericDict()) {
    auto dict = v.toGenericDict();
    if (dict.keyType()->kind() == c10::TypeKind::StringType) {
      Napi::Object o = Napi::Object::New(env);
      for (const auto& item : dict) o.Set(item.key().toStringRef(), fromIValue(env, item.value(), what + "." + item.key().toStringRef(), depth + 1));
      return o;
    }
    Napi::Function mapCtor = env.Global().Get("Map").As<Napi::Function>();
    Napi::Object map = mapCtor.New({});
    Napi::Function set = map.Get("set").As<Napi::Function>();
    for (const auto& item : dict) set.Call(map, {fromIValue(env, item.key(), what + " (a key)", depth + 1), fromIValue(env, item.value(), what + "[...]", depth + 1)});
    return map;
  }
  if (v.isObject()) {
    throw ArgTypeError(what + " is an object of TorchScript class " + v.type()->annotation_str() +
                       ", which ictorch cannot return to JS; return tensors, numbers, strings, lists, tuples or dicts");
  }
  throw ArgTypeError(what + " is a TorchScript " + v.tagKind() + ", which ictorch cannot return to JS");
}

// The method `name` of the module, or a RangeError listing those it has.
torch::jit::Method findMethod(const torch::jit::Module& m, const std::string& name) {
  if (auto method = m.find_method(name)) return *method;
  std::string names;
  for (const auto& meth : m.get_methods()) names += (names.empty() ? "" : ", ") + meth.name();
  throw ArgRangeError("the module has no method '" + name + "'" + (names.empty() ? " (it has none)" : "; it has: " + names));
}

// The positional arguments (a JS array) converted by the method's schema; left-out trailing ones take their
// defaults (Method's call fills them in), and an `undefined` one takes its default when it has one.
std::vector<c10::IValue> methodArgs(Napi::Env env, const Napi::Value& argsV, const torch::jit::Method& method) {
  if (!argsV.IsArray()) throw ArgTypeError("argument 'args' must be an array");
  Napi::Array args = argsV.As<Napi::Array>();
  const auto& formals = method.function().getSchema().arguments();  // formals[0] is self
  const size_t most = formals.empty() ? 0 : formals.size() - 1;
  if (args.Length() > most) {
    std::string names;
    for (size_t k = 1; k < formals.size(); ++k) names += (k > 1 ? ", " : "") + formals[k].name();
    throw ArgRangeError(method.name() + "() takes " + std::to_string(most) + " argument(s) (" + names + "), got " + std::to_string(args.Length()));
  }
  std::vector<c10::IValue> stack;
  stack.reserve(args.Length());
  for (uint32_t k = 0; k < args.Length(); ++k) {
    const auto& formal = formals[k + 1];
    Napi::Value v = args.Get(k);
    if (v.IsUndefined() && formal.default_value()) {
      stack.push_back(*formal.default_value());
      continue;
    }
    stack.push_back(toIValue(env, v, formal.type(), formal.name(), 0));
  }
  return stack;
}

// What a call in flight uses: the module (its parameters and buffers) and the tensors among the arguments.
void markCall(InUse& marks, const torch::jit::Module& m, const std::vector<c10::IValue>& stack) {
  marks.add(m._ivalue().get(), "script module", false);
  for (const auto& p : m.parameters(true)) markTensor(marks, p, "a parameter of the script module", false);
  for (const auto& b : m.buffers(true)) markTensor(marks, b, "a buffer of the script module", false);
  std::function<void(const c10::IValue&)> visit = [&](const c10::IValue& v) {
    if (v.isTensor()) markTensor(marks, v.toTensor(), "an argument tensor", false);
    else if (v.isList()) for (const auto& x : v.toListRef()) visit(x);
    else if (v.isTuple()) for (const auto& x : v.toTupleRef().elements()) visit(x);
    else if (v.isGenericDict()) for (const auto& x : v.toGenericDict()) visit(x.value());
  };
  for (const auto& v : stack) visit(v);
}

// Runs the method. An error inside the TorchScript interpreter comes as "The following operation failed in the
// TorchScript interpreter." and a traceback, the cause on its last line ("RuntimeError: mat1 and mat2 ...");
// the message puts that cause first and keeps the traceback after it.
c10::IValue runMethod(const torch::jit::Method& method, std::vector<c10::IValue> stack) {
  try {
    return method(std::move(stack));
  } catch (const std::exception& e) {
    const auto* c10e = dynamic_cast<const c10::Error*>(&e);
    std::string msg = c10e ? compat::errorMessage(*c10e) : e.what();
    const std::string head = "The following operation failed in the TorchScript interpreter.";
    if (msg.compare(0, head.size(), head) != 0) throw;
    size_t end = msg.find_last_not_of("\n ");
    size_t start = msg.rfind('\n', end);
    std::string last = msg.substr(start == std::string::npos ? 0 : start + 1, end == std::string::npos ? 0 : end - (start == std::string::npos ? 0 : start + 1) + 1);
    size_t colon = last.find(": ");
    std::string cause = colon != std::string::npos && last.compare(0, colon, "Error") != 0 && last.substr(0, colon).find("Error") != std::string::npos ? last.substr(colon + 2) : last;
    throw std::runtime_error(cause + " (raised in the TorchScript interpreter; its traceback:)\n" + msg);
  }
}

// "ScriptModule.<method>" for errors, read before anything can throw.
std::string callOp(const Napi::CallbackInfo& info) {
  return "ScriptModule." + (info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::string("call"));
}

// Every tensor a loaded module holds must lie inside its storage. LibTorch 1.13 builds the archive's tensors
// from its pickle without comparing their sizes, strides and offsets with the storage record it read, so a
// crafted archive gave a [255, 255] weight over a 48-byte storage (reads and writes past the block). The
// TypeScript check (checkTorchScriptArchive) refuses such archives before they get here; this is the same
// rule where the bytes reach LibTorch, for callers of the binding itself.
void checkInStorage(const at::Tensor& t, const std::string& where) {
  if (!t.defined() || !t.has_storage() || t.numel() == 0) return;
  int64_t last = t.storage_offset();
  bool ok = last >= 0;
  for (int64_t d = 0; ok && d < t.dim(); ++d) {
    int64_t span = 0;
    ok = t.stride(d) >= 0 && !__builtin_mul_overflow(t.size(d) - 1, t.stride(d), &span) && !__builtin_add_overflow(last, span, &last);
  }
  int64_t bytes = 0;
  ok = ok && !__builtin_mul_overflow(last + 1, static_cast<int64_t>(t.element_size()), &bytes) && bytes <= static_cast<int64_t>(t.storage().nbytes());
  if (!ok)
    throw std::runtime_error("the archive's tensor " + where + " (shape [" + c10::Join(", ", t.sizes()) + "], strides [" + c10::Join(", ", t.strides()) +
                             "], offset " + std::to_string(t.storage_offset()) + ") reaches past its storage of " + std::to_string(t.storage().nbytes()) + " bytes");
}

void checkInStorage(const c10::IValue& v, const std::string& where, int depth = 0) {
  if (depth > 64) return;
  if (v.isTensor()) return checkInStorage(v.toTensor(), where);
  if (v.isTensorList()) {
    for (const at::Tensor& t : v.toTensorVector()) checkInStorage(t, where);
  } else if (v.isList()) {
    for (const c10::IValue& e : v.toListRef()) checkInStorage(e, where, depth + 1);
  } else if (v.isTuple()) {
    for (const c10::IValue& e : v.toTupleRef().elements()) checkInStorage(e, where, depth + 1);
  } else if (v.isGenericDict()) {
    for (const auto& kv : v.toGenericDict()) checkInStorage(kv.value(), where, depth + 1);
  }
}

void checkBlock(torch::jit::Block* b, const std::string& where) {
  for (torch::jit::Node* n : b->nodes()) {
    if (n->kind() == c10::prim::Constant && n->outputs().size() == 1) {
      if (auto v = torch::jit::toIValue(n->output())) checkInStorage(*v, "constant in " + where);
    }
    for (torch::jit::Block* inner : n->blocks()) checkBlock(inner, where);
  }
}

void checkLoadedTensors(const torch::jit::Module& root) {
  for (const auto& a : root.named_attributes(/*recurse=*/true)) checkInStorage(a.value, "'" + a.name + "'");
  for (const auto& m : root.modules())
    for (const auto& method : m.get_methods()) checkBlock(method.graph()->block(), method.name() + "()");
}

// jitLoad(bytes: Buffer, mapLocation: string | null): Promise<ScriptModuleHandle>, off the event loop.
Napi::Value Load(const Napi::CallbackInfo& info) {
  return guard(info, "jit.load", [&]() -> Napi::Value {
    if (!info[0].IsTypedArray() && !info[0].IsBuffer()) throw ArgTypeError("argument 'bytes' must be a Buffer");
    Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
    auto bytes = std::make_shared<const std::string>(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
    std::optional<at::Device> device = argOptDevice(info, 1, "mapLocation");
    return queuePromise(
        info.Env(), "jit.load", false, InUse(info.Env(), "jit.load"),
        [bytes, device] {
          auto m = torch::jit::load(std::make_shared<BytesReadAdapter>(bytes), compat::opt(device));
          checkLoadedTensors(m);
          return std::make_shared<torch::jit::Module>(std::move(m));
        },
        [](Napi::Env env, std::shared_ptr<torch::jit::Module>& m) -> Napi::Value { return ScriptModuleHandle::Wrap(env, std::move(*m)); });
  });
}

// scriptCall(module, method, args, gradEnabled): runs the method on the JS thread.
Napi::Value Call(const Napi::CallbackInfo& info) {
  const std::string op = callOp(info);
  return guard(info, op.c_str(), [&]() -> Napi::Value {
    const auto& m = argScriptModule(info, 0)->module();
    torch::jit::Method method = findMethod(*m, argString(info, 1, "method"));
    std::vector<c10::IValue> stack = methodArgs(info.Env(), info[2], method);
    at::AutoGradMode mode(argBool(info, 3, "gradEnabled", true));
    c10::IValue out = runMethod(method, std::move(stack));
    return fromIValue(info.Env(), out, method.name() + "()'s result", 0);
  });
}

// scriptCallAsync(module, method, args, gradEnabled): the same on one of the forward threads (worker.h); the module, its parameters
// and buffers and the argument tensors are in flight (read) until it settles.
Napi::Value CallAsync(const Napi::CallbackInfo& info) {
  const std::string op = callOp(info);
  return guard(info, op.c_str(), [&]() -> Napi::Value {
    std::shared_ptr<torch::jit::Module> m = argScriptModule(info, 0)->module();
    torch::jit::Method method = findMethod(*m, argString(info, 1, "method"));
    std::vector<c10::IValue> stack = methodArgs(info.Env(), info[2], method);
    InUse marks(info.Env(), op);
    markCall(marks, *m, stack);
    std::string name = method.name();
    return queuePromise(
        info.Env(), op, argBool(info, 3, "gradEnabled", true), std::move(marks),
        [m, method, stack, cast = compat::AutocastCapture::current()]() mutable {
          compat::AutocastCaptureScope autocast(cast);  // torch.autocast around the call applies on the worker too
          return runMethod(method, std::move(stack));
        },
        [name](Napi::Env env, c10::IValue& out) -> Napi::Value { return fromIValue(env, out, name + "()'s result", 0); },
        &forwardThreads());
  });
}

Napi::Value Methods(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.methods", [&]() -> Napi::Value {
    const auto& m = argScriptModule(info, 0)->peek();
    std::vector<std::string> names;
    for (const auto& meth : m.get_methods()) names.push_back(meth.name());
    Napi::Array arr = Napi::Array::New(info.Env(), names.size());
    for (uint32_t k = 0; k < names.size(); ++k) arr.Set(k, names[k]);
    return arr;
  });
}

// The arguments of a method: [[name, type, hasDefault], ...] (self left out).
Napi::Value Signature(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.signature", [&]() -> Napi::Value {
    torch::jit::Method method = findMethod(argScriptModule(info, 0)->peek(), argString(info, 1, "method"));
    const auto& schema = method.function().getSchema();
    Napi::Env env = info.Env();
    Napi::Array args = Napi::Array::New(env);
    for (size_t k = 1; k < schema.arguments().size(); ++k) {
      const auto& a = schema.arguments()[k];
      Napi::Array item = Napi::Array::New(env, 3);
      item.Set(0u, a.name());
      item.Set(1u, a.type()->annotation_str());
      item.Set(2u, Napi::Boolean::New(env, a.default_value().has_value()));
      args.Set(static_cast<uint32_t>(k - 1), item);
    }
    Napi::Array returns = Napi::Array::New(env);
    for (size_t k = 0; k < schema.returns().size(); ++k) returns.Set(static_cast<uint32_t>(k), schema.returns()[k].type()->annotation_str());
    Napi::Object out = Napi::Object::New(env);
    out.Set("args", args);
    out.Set("returns", returns);
    return out;
  });
}

template <class List>
Napi::Array namedTensors(Napi::Env env, const List& list) {
  Napi::Array arr = Napi::Array::New(env);
  uint32_t k = 0;
  for (const auto& item : list) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, item.name);
    pair.Set(1u, TensorHandle::Wrap(env, item.value));
    arr.Set(k++, pair);
  }
  return arr;
}

// Parameters and buffers in the order of Python's state_dict(): each module's own parameters, then its own
// buffers, then its children's, depth first.
void stateEntries(const torch::jit::Module& m, const std::string& prefix, std::vector<std::pair<std::string, at::Tensor>>& out) {
  for (const auto& p : m.named_parameters(false)) out.emplace_back(prefix + p.name, p.value);
  for (const auto& b : m.named_buffers(false)) out.emplace_back(prefix + b.name, b.value);
  for (const auto& c : m.named_children()) stateEntries(c.value, prefix + c.name + ".", out);
}

Napi::Value NamedState(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.stateDict", [&]() -> Napi::Value {
    std::vector<std::pair<std::string, at::Tensor>> entries;
    stateEntries(argScriptModule(info, 0)->peek(), "", entries);
    Napi::Env env = info.Env();
    Napi::Array arr = Napi::Array::New(env, entries.size());
    for (uint32_t k = 0; k < entries.size(); ++k) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, entries[k].first);
      pair.Set(1u, TensorHandle::Wrap(env, entries[k].second));
      arr.Set(k, pair);
    }
    return arr;
  });
}

Napi::Value NamedParameters(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.namedParameters", [&]() -> Napi::Value { return namedTensors(info.Env(), argScriptModule(info, 0)->peek().named_parameters(true)); });
}

Napi::Value NamedBuffers(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.namedBuffers", [&]() -> Napi::Value { return namedTensors(info.Env(), argScriptModule(info, 0)->peek().named_buffers(true)); });
}

Napi::Value Train(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.train", [&]() -> Napi::Value {
    argScriptModule(info, 0)->mutableModule().train(argBool(info, 1, "mode", true));
    return info.Env().Undefined();
  });
}

Napi::Value IsTraining(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.training", [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), argScriptModule(info, 0)->peek().is_training()); });
}

// scriptTo(module, device, dtype | null): moves (and casts floating-point) parameters and buffers in place.
Napi::Value To(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.to", [&]() -> Napi::Value {
    torch::jit::Module& m = argScriptModule(info, 0)->mutableModule();
    at::Device device = argDevice(info, 1, "device");
    std::optional<at::ScalarType> dtype = argOptDType(info, 2, "dtype");
    if (dtype && !at::isFloatingType(*dtype)) throw ArgTypeError(std::string("argument 'dtype' must be a floating-point dtype (integer parameters and buffers keep theirs), got ") + dtypeName(*dtype));
    if (dtype) m.to(device, *dtype);
    else m.to(device);
    return info.Env().Undefined();
  });
}

// The class name of the module (e.g. __torch__.torchvision.models.resnet.ResNet).
Napi::Value TypeName(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.typeName", [&]() -> Napi::Value {
    return Napi::String::New(info.Env(), argScriptModule(info, 0)->peek().type()->name()->qualifiedName());
  });
}

// scriptSave(module): Promise<Buffer>, the archive torch.jit.save writes (the JS side writes the file).
Napi::Value Save(const Napi::CallbackInfo& info) {
  return guard(info, "ScriptModule.save", [&]() -> Napi::Value {
    std::shared_ptr<torch::jit::Module> m = argScriptModule(info, 0)->module();
    InUse marks(info.Env(), "ScriptModule.save");
    markCall(marks, *m, {});
    return queuePromise(
        info.Env(), "ScriptModule.save", false, std::move(marks),
        [m] {
          std::ostringstream out;
          m->save(out);
          return std::make_shared<std::string>(out.str());
        },
        [](Napi::Env env, std::shared_ptr<std::string>& bytes) -> Napi::Value {
          return Napi::Buffer<char>::Copy(env, bytes->data(), bytes->size());
        });
  });
}

}  // namespace

void InitJit(Napi::Env env, Napi::Object exports) {
  ScriptModuleHandle::Init(env, exports);
  exports.Set("jitLoad", Napi::Function::New<Load>(env, "jitLoad"));
  exports.Set("scriptCall", Napi::Function::New<Call>(env, "scriptCall"));
  exports.Set("scriptCallAsync", Napi::Function::New<CallAsync>(env, "scriptCallAsync"));
  exports.Set("scriptMethods", Napi::Function::New<Methods>(env, "scriptMethods"));
  exports.Set("scriptSignature", Napi::Function::New<Signature>(env, "scriptSignature"));
  exports.Set("scriptNamedParameters", Napi::Function::New<NamedParameters>(env, "scriptNamedParameters"));
  exports.Set("scriptNamedBuffers", Napi::Function::New<NamedBuffers>(env, "scriptNamedBuffers"));
  exports.Set("scriptNamedState", Napi::Function::New<NamedState>(env, "scriptNamedState"));
  exports.Set("scriptTrain", Napi::Function::New<Train>(env, "scriptTrain"));
  exports.Set("scriptIsTraining", Napi::Function::New<IsTraining>(env, "scriptIsTraining"));
  exports.Set("scriptTo", Napi::Function::New<To>(env, "scriptTo"));
  exports.Set("scriptTypeName", Napi::Function::New<TypeName>(env, "scriptTypeName"));
  exports.Set("scriptSave", Napi::Function::New<Save>(env, "scriptSave"));
}

}  // namespace ictorch
#else
#include <napi.h>
namespace ictorch {
void InitJit(Napi::Env, Napi::Object) {}
}  // namespace ictorch
#endif
