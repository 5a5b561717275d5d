// linalg.cc: torch.linalg, one entry point from a function's name to its ATen call (lib/linalg.ts gives every
// name its typed function and checks the options first). Autograd, batching and devices are ATen's.
// Complex-valued functions (eig, eigvals) are absent: ictorch has no complex dtype.
#include <cmath>
#include <string>
#include "compat.h"
#include "tensor.h"

namespace ictorch {
namespace {

std::optional<double> argOptDouble(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (isNullish(info[i])) return std::nullopt;
  return argDouble(info, i, name);
}

// An order given as a number (Infinity allowed) or as a name ('fro', 'nuc'); NaN is refused.
struct Order {
  bool given = false;
  bool isName = false;
  double value = 0;
  std::string name;
};
Order argOrder(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Order o;
  if (isNullish(info[i])) return o;
  o.given = true;
  if (info[i].IsString()) {
    o.isName = true;
    o.name = info[i].As<Napi::String>().Utf8Value();
    return o;
  }
  o.value = argDouble(info, i, name);
  if (std::isnan(o.value)) throw ArgTypeError(std::string("argument '") + name + "' must be a number or a name, got NaN");
  return o;
}

Napi::Value wrap(Napi::Env env, const at::Tensor& t) { return TensorHandle::Wrap(env, t); }
template <typename... T>
Napi::Value wrap(Napi::Env env, const std::tuple<T...>& t) {
  return std::apply([&](const auto&... ts) { return wrapList(env, {ts...}); }, t);
}

// LU pivots reach LAPACK's row swaps unchecked (an index past the matrix reads and writes outside it), so they
// are range-checked here first: 1-based rows of LU, int32, one per row of the shorter side.
void checkPivots(const at::Tensor& LU, const at::Tensor& pivots) {
  if (pivots.scalar_type() != at::kInt) throw ArgTypeError(std::string("pivots must be an int32 tensor (as luFactor returns), got ") + dtypeName(pivots.scalar_type()));
  if (LU.dim() < 2) throw ArgRangeError("LU must have at least 2 dimensions, got " + std::to_string(LU.dim()));
  const int64_t m = LU.size(-2);
  auto expected = LU.sizes().vec();
  expected.pop_back();
  expected.back() = std::min(m, LU.size(-1));
  if (pivots.sizes().vec() != expected) throw ArgRangeError("pivots must have shape " + c10::str(at::IntArrayRef(expected)) + " (LU's batch and min(rows, columns)), got " + c10::str(pivots.sizes()));
  if (pivots.numel() == 0) return;
  const auto [lo, hi] = intBounds(pivots);
  if (lo < 1 || hi > m) throw ArgRangeError("pivots must hold row numbers in [1, " + std::to_string(m) + "], found " + std::to_string(lo < 1 ? lo : hi));
}

Napi::Value Dispatch(const Napi::CallbackInfo& info, const std::string& name) {
  Napi::Env env = info.Env();
  if (name == "multiDot") return wrap(env, at::linalg_multi_dot(argTensorList(info, 1, "tensors")));
  const at::Tensor& A = argTensor(info, 1, "A");
  auto B = [&]() -> const at::Tensor& { return argTensor(info, 2, "B"); };
  if (name == "det") return wrap(env, at::linalg_det(A));
  if (name == "slogdet") return wrap(env, at::linalg_slogdet(A));
  if (name == "inv") return wrap(env, at::linalg_inv(A));
  if (name == "invEx") return wrap(env, at::linalg_inv_ex(A, argBool(info, 2, "checkErrors", false)));
  if (name == "matrixExp") return wrap(env, at::linalg_matrix_exp(A));
  if (name == "svdvals") return wrap(env, at::linalg_svdvals(A));
  if (name == "svd") return wrap(env, at::linalg_svd(A, argBool(info, 2, "fullMatrices", true)));
  if (name == "cholesky") return wrap(env, at::linalg_cholesky(A, argBool(info, 2, "upper", false)));
  if (name == "choleskyEx") return wrap(env, at::linalg_cholesky_ex(A, argBool(info, 2, "upper", false), argBool(info, 3, "checkErrors", false)));
  if (name == "qr") return wrap(env, at::linalg_qr(A, argString(info, 2, "mode")));
  if (name == "eigh") return wrap(env, at::linalg_eigh(A, argString(info, 2, "UPLO")));
  if (name == "eigvalsh") return wrap(env, at::linalg_eigvalsh(A, argString(info, 2, "UPLO")));
  if (name == "matrixPower") return wrap(env, at::linalg_matrix_power(A, argInt(info, 2, "n")));
  if (name == "lu") return wrap(env, at::linalg_lu(A, argBool(info, 2, "pivot", true)));
  if (name == "luFactor") return wrap(env, at::linalg_lu_factor(A, argBool(info, 2, "pivot", true)));
  if (name == "vander") return wrap(env, at::linalg_vander(A, compat::opt(argOptInt(info, 2, "N"))));
  if (name == "diagonal") return wrap(env, at::linalg_diagonal(A, argInt(info, 2, "offset"), argInt(info, 3, "dim1"), argInt(info, 4, "dim2")));
  if (name == "solve") return wrap(env, at::linalg_solve(A, B(), argBool(info, 3, "left", true)));
  if (name == "solveEx") return wrap(env, at::linalg_solve_ex(A, B(), argBool(info, 3, "left", true), argBool(info, 4, "checkErrors", false)));
  if (name == "solveTriangular")
    return wrap(env, at::linalg_solve_triangular(A, B(), argBool(info, 3, "upper", false), argBool(info, 4, "left", true), argBool(info, 5, "unitriangular", false)));
  if (name == "cross") return wrap(env, at::linalg_cross(A, B(), argInt(info, 3, "dim")));
  if (name == "vecdot") return wrap(env, at::linalg_vecdot(A, B(), argInt(info, 3, "dim")));
  if (name == "matmul") return wrap(env, at::linalg_matmul(A, B()));
  if (name == "luSolve") {  // (LU, pivots, B, left, adjoint)
    const at::Tensor& pivots = argTensor(info, 2, "pivots");
    checkPivots(A, pivots);
    return wrap(env, at::linalg_lu_solve(A, pivots, argTensor(info, 3, "B"), argBool(info, 4, "left", true), argBool(info, 5, "adjoint", false)));
  }
  if (name == "lstsq") {  // (A, B, rcond | null, driver | null)
    std::optional<std::string> driver;
    if (!isNullish(info[4])) driver = argString(info, 4, "driver");
    compat::optional<c10::string_view> d;
    if (driver) d = c10::string_view(*driver);
    return wrap(env, at::linalg_lstsq(A, B(), compat::opt(argOptDouble(info, 3, "rcond")), d));
  }
  if (name == "pinv" || name == "matrixRank") {  // (A, atol | null, rtol | null, hermitian)
    const auto atol = compat::opt(argOptDouble(info, 2, "atol"));
    const auto rtol = compat::opt(argOptDouble(info, 3, "rtol"));
    const bool hermitian = argBool(info, 4, "hermitian", false);
    return wrap(env, name == "pinv" ? at::linalg_pinv(A, atol, rtol, hermitian) : at::linalg_matrix_rank(A, atol, rtol, hermitian));
  }
  if (name == "cond") {  // (A, p | null)
    const Order p = argOrder(info, 2, "p");
    if (p.isName) return wrap(env, at::linalg_cond(A, p.name));
    return wrap(env, at::linalg_cond(A, p.given ? compat::optional<at::Scalar>(p.value) : compat::optional<at::Scalar>()));
  }
  if (name == "norm" || name == "vectorNorm" || name == "matrixNorm") {  // (A, ord | null, dim | null, keepdim, dtype | null)
    const Order ord = argOrder(info, 2, "ord");
    const auto dims = argOptIntList(info, 3, "dim");
    const bool keepdim = argBool(info, 4, "keepdim", false);
    const auto dtype = compat::opt(argOptDType(info, 5, "dtype"));
    const at::OptionalIntArrayRef dim = dims ? at::OptionalIntArrayRef(*dims) : at::OptionalIntArrayRef();
    if (name == "vectorNorm") {
      if (ord.isName) throw ArgTypeError("vectorNorm's ord must be a number, got '" + ord.name + "'");
      return wrap(env, at::linalg_vector_norm(A, ord.given ? ord.value : 2.0, dim, keepdim, dtype));
    }
    if (name == "matrixNorm") {
      const std::vector<int64_t> d = dims ? *dims : std::vector<int64_t>{-2, -1};
      if (ord.isName || !ord.given) return wrap(env, at::linalg_matrix_norm(A, ord.given ? ord.name : std::string("fro"), d, keepdim, dtype));
      return wrap(env, at::linalg_matrix_norm(A, ord.value, d, keepdim, dtype));
    }
    if (ord.isName) return wrap(env, at::linalg_norm(A, ord.name, dim, keepdim, dtype));
    return wrap(env, at::linalg_norm(A, ord.given ? compat::optional<at::Scalar>(ord.value) : compat::optional<at::Scalar>(), dim, keepdim, dtype));
  }
  throw ArgTypeError("unknown linalg function \"" + name + "\"");
}

// "matrixExp" -> "matrix_exp": the name ATen's messages use.
std::string snakeCase(const std::string& name) {
  std::string s;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') s += '_', s += static_cast<char>(c - 'A' + 'a');
    else s += c;
  }
  return s;
}

// linalg(name, ...arguments). ATen's messages begin with the function's own name ("linalg.inv: ..."): that
// prefix is dropped so the JS message names it once, as ictorch spells it.
Napi::Value Linalg(const Napi::CallbackInfo& info) {
  const std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "?";
  const std::string op = "linalg." + name;
  try {
    return Dispatch(info, name);
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    CapturedError e = classifyCurrentException();
    const std::string own = "linalg." + snakeCase(name) + ": ";
    if (e.message.rfind(own, 0) == 0) e.message.erase(0, own.size());
    throw makeError(info.Env(), op, e);
  }
}

}  // namespace

void InitLinalg(Napi::Env env, Napi::Object exports) { exports.Set("linalg", Napi::Function::New<Linalg>(env, "linalg")); }

}  // namespace ictorch
