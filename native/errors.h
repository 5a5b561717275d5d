// errors.h: turn every C++ failure into a JS Error that names the operation.
// Habit: each native entry point is `return guard(info, "op", [&] { ... });`.
#pragma once
#include <napi.h>
#include <c10/util/Exception.h>
#include <string>
#include "compat.h"

namespace ictorch {

// Thrown by argument checks: becomes a JS TypeError / RangeError with the op name in front.
struct ArgTypeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct ArgRangeError : std::runtime_error { using std::runtime_error::runtime_error; };

inline Napi::Error makeError(Napi::Env env, const std::string& op, const std::string& what, int kind) {
  std::string msg = op + ": " + what;
  if (kind == 1) return Napi::TypeError::New(env, msg);
  if (kind == 2) return Napi::RangeError::New(env, msg);
  return Napi::Error::New(env, msg);
}

template <typename F>
Napi::Value guard(const Napi::CallbackInfo& info, const char* op, F&& body) {
  Napi::Env env = info.Env();
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;  // already a JS error (it carries its own message)
  } catch (const c10::IndexError& e) {
    throw makeError(env, op, compat::errorMessage(e), 2);
  } catch (const c10::TypeError& e) {
    throw makeError(env, op, compat::errorMessage(e), 1);
  } catch (const c10::Error& e) {
    throw makeError(env, op, compat::errorMessage(e), 0);
  } catch (const ArgTypeError& e) {
    throw makeError(env, op, e.what(), 1);
  } catch (const ArgRangeError& e) {
    throw makeError(env, op, e.what(), 2);
  } catch (const std::bad_alloc&) {
    throw makeError(env, op, "out of memory", 2);
  } catch (const std::exception& e) {
    throw makeError(env, op, e.what(), 0);
  }
}

// For AsyncWorker::Execute: run body, return the error text ("" on success); never throws.
template <typename F>
std::string captureError(const char* op, F&& body) {
  try {
    body();
    return "";
  } catch (const c10::Error& e) {
    return std::string(op) + ": " + compat::errorMessage(e);
  } catch (const std::exception& e) {
    return std::string(op) + ": " + e.what();
  }
}

}  // namespace ictorch
