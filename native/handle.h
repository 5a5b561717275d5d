// handle.h: the one base of every JS object that owns a native resource (tensor, module, optimiser, training
// step, generator): dispose() and isDisposed(), the disposed check, and the in-flight check that keeps an
// object used by a native call in flight (forwardAsync, trainStep, evalStep, data()) from changing under it.
#pragma once
#include <napi.h>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>
#include "errors.h"
#include "state.h"

namespace ictorch {

// Throws an InUseError when a native call in flight uses `key`: any use when `mutate` (the caller is about to
// change the object), a writing call otherwise (the caller reads it while a training step changes it).
inline void checkNotInFlight(Napi::Env env, const void* key, const std::string& what, bool mutate) {
  const InFlight::Use* u = state(env).inFlight->find(key);
  if (!u || (!mutate && u->writers == 0)) return;
  throw InUseError(what + " is in use by " + u->op + " in flight; await it first");
}

// The marks one native call in flight holds. Objects are added, then take() checks all of them (a write
// conflicts with any use, a read with a write) before marking any, so a refused call marks nothing.
// release() runs on the JS thread when the call's promise settles (the destructor is a safety net).
class InUse {
 public:
  InUse(Napi::Env env, std::string op) : inFlight_(state(env).inFlight), op_(std::move(op)) {}
  ~InUse() { release(); }
  InUse(InUse&& o) noexcept : inFlight_(std::move(o.inFlight_)), op_(std::move(o.op_)), items_(std::move(o.items_)), taken_(o.taken_) { o.taken_ = false; }
  InUse(const InUse&) = delete;
  InUse& operator=(const InUse&) = delete;

  // `keep`, when given, holds what `key` points at until the marks are released. Why: the work's own references
  // are dropped on the worker thread before the promise settles; a storage freed then leaves its address marked,
  // and a new tensor allocated at that address would be refused as "in flight" (see markTensor in tensor.h).
  void add(const void* key, std::string what, bool write, std::shared_ptr<const void> keep = nullptr) {
    if (key) items_.push_back({key, std::move(what), write, std::move(keep)});
  }
  void take() {
    for (const auto& it : items_) {
      const InFlight::Use* u = inFlight_->find(it.key);
      if (u && (it.write || u->writers > 0)) throw InUseError(it.what + " is in use by " + u->op + " in flight; await it first");
    }
    for (const auto& it : items_) inFlight_->acquire(it.key, op_, it.write);
    taken_ = true;
  }
  void release() {
    if (!taken_) return;
    taken_ = false;
    for (const auto& it : items_) inFlight_->release(it.key, it.write);
    items_.clear();  // and what they kept alive
  }

 private:
  struct Item {
    const void* key;
    std::string what;
    bool write;
    std::shared_ptr<const void> keep;
  };
  std::shared_ptr<InFlight> inFlight_;
  std::string op_;
  std::vector<Item> items_;
  bool taken_ = false;
};

// Base of the handle classes: Derived supplies noun() ("tensor", "module", ...), inFlightKey() (the object
// calls in flight mark, or nullptr) and release() (frees the resource; called once).
template <class Derived>
class Handle : public Napi::ObjectWrap<Derived> {
 public:
  explicit Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info), env_(info.Env()) {
    info.This().As<Napi::Object>().TypeTag(&typeTag());
  }
  bool disposed() const { return disposed_; }

  // Whether v is an object this class made. Argument checks use this, not instanceof: JS can make any object
  // pass instanceof (Object.setPrototypeOf, Symbol.hasInstance, a Proxy), and Unwrap would then read another
  // class's memory as this one. A type tag is set once, by the constructor, and no JS runs to check it.
  static bool isHandle(const Napi::Value& v) { return v.IsObject() && v.As<Napi::Object>().CheckTypeTag(&typeTag()); }

  // Throws a TypeError naming `what` when the handle has been disposed.
  void checkLive(const std::string& what) const {
    if (disposed_) throw ArgTypeError(what + " has been disposed; a disposed " + noun() + " cannot be used again");
  }
  // checkLive, then refuses when a call in flight uses the object (any use for a mutation, a writer otherwise).
  void checkIdle(const std::string& what, bool mutate) const {
    checkLive(what);
    checkNotInFlight(env_, inFlightKey(), what, mutate);
  }

 protected:
  using Props = std::vector<typename Napi::ObjectWrap<Derived>::PropertyDescriptor>;
  // dispose() and isDisposed(), for DefineClass.
  static Props baseMethods() {
    return {Napi::ObjectWrap<Derived>::InstanceMethod("dispose", &Handle::DisposeMethod),
            Napi::ObjectWrap<Derived>::InstanceMethod("isDisposed", &Handle::IsDisposedMethod)};
  }
  virtual const char* noun() const = 0;
  virtual const void* inFlightKey() const = 0;
  virtual void release() = 0;
  // Tensors may be disposed while a call uses them (the call holds its own reference); other handles may not.
  virtual bool disposableInFlight() const { return false; }
  // Frees the resource once (also the finaliser's path); idempotent.
  void disposeNow() {
    if (disposed_) return;
    release();
    disposed_ = true;
  }

  Napi::Env env_;
  bool disposed_ = true;  // handles made with `new` from JS are empty; the Wrap functions fill them

 private:
  // Unique per class within the process: the address of its type_info.
  static const napi_type_tag& typeTag() {
    static const napi_type_tag tag{reinterpret_cast<uint64_t>(&typeid(Derived)), 0x6963746f72636800ull};
    return tag;
  }
  Napi::Value DisposeMethod(const Napi::CallbackInfo& info) {
    return guard(info, (std::string(noun()) + ".dispose").c_str(), [&]() -> Napi::Value {
      if (!disposed_ && !disposableInFlight()) checkNotInFlight(info.Env(), inFlightKey(), noun(), true);
      disposeNow();
      return info.Env().Undefined();
    });
  }
  Napi::Value IsDisposedMethod(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }
};

}  // namespace ictorch
