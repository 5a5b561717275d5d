// errors.h: turn every C++ failure into a JS Error that names the operation, with the same JS type
// (TypeError, RangeError or Error) whether it was thrown on the JS thread or on a worker thread.
// Habit: each native entry point is `return guard(info, "op", [&] { ... });`; async work captures its
// error with `capture(...)` on the worker and rejects with `makeError(...)` on the JS thread (worker.h).
#pragma once
#include <napi.h>
#include <c10/util/Exception.h>
#include <new>
#include <string>
#include "compat.h"

namespace ictorch {

// Thrown by argument checks: becomes a JS TypeError / RangeError with the op name in front.
struct ArgTypeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct ArgRangeError : std::runtime_error { using std::runtime_error::runtime_error; };
// Thrown when an object is in use by a native call in flight (see InFlight in state.h): a plain Error.
struct InUseError : std::runtime_error { using std::runtime_error::runtime_error; };

// The JS type an error becomes.
enum class ErrorKind { Error, Type, Range };

// A C++ failure as data: what crosses from a worker thread to the JS thread.
struct CapturedError {
  bool failed = false;
  ErrorKind kind = ErrorKind::Error;
  std::string message;
};

// Classifies the exception being handled. Call only inside a catch block.
inline CapturedError classifyCurrentException() {
  try {
    throw;
  } catch (const c10::IndexError& e) {
    return {true, ErrorKind::Range, compat::errorMessage(e)};
  } catch (const c10::ValueError& e) {  // TORCH_CHECK_VALUE: shapes and values out of range (native/nn layers)
    return {true, ErrorKind::Range, compat::errorMessage(e)};
  } catch (const c10::TypeError& e) {
    return {true, ErrorKind::Type, compat::errorMessage(e)};
  } catch (const c10::Error& e) {
    return {true, ErrorKind::Error, compat::errorMessage(e)};
  } catch (const ArgTypeError& e) {
    return {true, ErrorKind::Type, e.what()};
  } catch (const ArgRangeError& e) {
    return {true, ErrorKind::Range, e.what()};
  } catch (const std::bad_alloc&) {
    return {true, ErrorKind::Range, "out of memory"};
  } catch (const std::exception& e) {
    return {true, ErrorKind::Error, e.what()};
  } catch (...) {
    return {true, ErrorKind::Error, "unknown C++ exception"};
  }
}

inline Napi::Error makeError(Napi::Env env, const std::string& op, const CapturedError& e) {
  std::string msg = op + ": " + e.message;
  if (e.kind == ErrorKind::Type) return Napi::TypeError::New(env, msg);
  if (e.kind == ErrorKind::Range) return Napi::RangeError::New(env, msg);
  return Napi::Error::New(env, msg);
}

template <typename F>
Napi::Value guard(const Napi::CallbackInfo& info, const char* op, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;  // already a JS error (it carries its own message)
  } catch (...) {
    throw makeError(info.Env(), op, classifyCurrentException());
  }
}

// For work on a worker thread: runs body and returns what it threw (failed == false on success); never throws.
template <typename F>
CapturedError capture(F&& body) noexcept {
  try {
    body();
    return {};
  } catch (...) {
    return classifyCurrentException();
  }
}

}  // namespace ictorch
