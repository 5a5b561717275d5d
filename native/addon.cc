// addon.cc: registration only. Each Init* lives beside the concept it wraps.
#include <napi.h>
#include "state.h"

namespace ictorch {
void InitTensorCreate(Napi::Env env, Napi::Object exports);
void InitTensorRead(Napi::Env env, Napi::Object exports);
void InitTensorOps(Napi::Env env, Napi::Object exports);
void InitTensorIndex(Napi::Env env, Napi::Object exports);
void InitLinalg(Napi::Env env, Napi::Object exports);
void InitAutograd(Napi::Env env, Napi::Object exports);
void InitRuntime(Napi::Env env, Napi::Object exports);
void InitModule(Napi::Env env, Napi::Object exports);
void InitLayers(Napi::Env env, Napi::Object exports);
void InitOptim(Napi::Env env, Napi::Object exports);
void InitFunctional(Napi::Env env, Napi::Object exports);
void InitTrainStep(Napi::Env env, Napi::Object exports);
void InitDecoder(Napi::Env env, Napi::Object exports);
void InitGenerator(Napi::Env env, Napi::Object exports);
void InitDistributed(Napi::Env env, Napi::Object exports);
void InitJit(Napi::Env env, Napi::Object exports);
}  // namespace ictorch

#include "tensor.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new ictorch::AddonState());
  ictorch::TensorHandle::Init(env, exports);
  ictorch::InitTensorCreate(env, exports);
  ictorch::InitTensorRead(env, exports);
  ictorch::InitTensorOps(env, exports);
  ictorch::InitTensorIndex(env, exports);
  ictorch::InitLinalg(env, exports);
  ictorch::InitAutograd(env, exports);
  ictorch::InitRuntime(env, exports);
  ictorch::InitModule(env, exports);
  ictorch::InitLayers(env, exports);
  ictorch::InitOptim(env, exports);
  ictorch::InitFunctional(env, exports);
  ictorch::InitTrainStep(env, exports);
  ictorch::InitDecoder(env, exports);
  ictorch::InitGenerator(env, exports);
  ictorch::InitDistributed(env, exports);
  ictorch::InitJit(env, exports);
  return exports;
}

NODE_API_MODULE(ictorch, Init)
