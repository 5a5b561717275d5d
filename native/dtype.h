// dtype.h: the one table of dtype names shared with TypeScript (lib/dtype.ts mirrors it; a test compares them).
#pragma once
#include <ATen/ATen.h>
#include <cstddef>

namespace ictorch {

struct DTypeEntry {
  const char* name;
  at::ScalarType type;
  const char* typedArray;  // the TypedArray kind toArray() returns
};

inline constexpr DTypeEntry kDTypes[] = {
    {"float32", at::kFloat, "Float32Array"}, {"float64", at::kDouble, "Float64Array"},
    {"float16", at::kHalf, "Float32Array"},  {"bfloat16", at::kBFloat16, "Float32Array"},
    {"int32", at::kInt, "Int32Array"},       {"int64", at::kLong, "BigInt64Array"},
    {"uint8", at::kByte, "Uint8Array"},      {"bool", at::kBool, "Uint8Array"},
    {"int8", at::kChar, "Int8Array"},        {"int16", at::kShort, "Int16Array"},
};
inline constexpr std::size_t kNumDTypes = sizeof(kDTypes) / sizeof(kDTypes[0]);
static_assert(kNumDTypes == 10, "keep lib/dtype.ts in step with this table");

}  // namespace ictorch
