// decoder.cc: the image decoder's JS face. A decoder handle owns a pool of threads; decodeBatch hands it
// one batch (files, output slots, per-sample seeds, one transform) and returns a promise that settles
// when every image is written into the batch's uint8 [B, 3, H, W] tensor. Files are read and decoded on
// the pool threads (jpeg.cc), straight into the tensor; the JS thread only sees the batch start and end.
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "jpeg.h"
#include "tensor.h"

namespace ictorch {
namespace {

namespace J = jpeg;

// One batch in flight. Items are decoded independently; the last one to finish settles the promise.
struct BatchJob {
  uint32_t id = 0;
  std::vector<std::string> files;
  std::vector<int64_t> slots;
  std::vector<uint32_t> seeds;
  J::Transform transform;
  at::Tensor out;
  // The memory `base` points into, kept alive whatever JS does meanwhile: holding `out` alone is not enough, since
  // an in-place layout change (channelsLast_, set_data) gives its TensorImpl another storage and frees this one.
  c10::Storage storage;
  uint8_t* base = nullptr;
  size_t sampleBytes = 0;
  std::vector<J::Result> results;
  std::atomic<int> remaining{0};
  std::atomic<bool> cancelled{false};
  Napi::ThreadSafeFunction done;
  Napi::Promise::Deferred deferred;
  explicit BatchJob(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

const char* statusName(J::Status s) {
  switch (s) {
    case J::Status::Ok: return "ok";
    case J::Status::NotJpeg: return "notJpeg";
    case J::Status::Corrupt: return "corrupt";
    case J::Status::Error: return "error";
  }
  return "error";
}

class Decoder {
 public:
  explicit Decoder(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~Decoder() { stop(); }

  int workers() const { return int(threads_.size()); }

  void submit(const std::shared_ptr<BatchJob>& job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < job->files.size(); ++i) queue_.emplace_back(job, int(i));
      for (auto it = live_.begin(); it != live_.end();) it = it->second.expired() ? live_.erase(it) : std::next(it);
      live_[job->id] = job;
    }
    cv_.notify_all();
  }

  void cancel(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(id);
    if (it == live_.end()) return;
    if (auto job = it->second.lock()) job->cancelled = true;
  }

  // Finishes (as cancelled) what is queued, then joins the threads. Idempotent.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      for (auto& q : queue_) q.first->cancelled = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  bool stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }

  uint32_t nextId() { return ++lastId_; }

 private:
  void loop() {
    J::Scratch scratch;
    for (;;) {
      std::pair<std::shared_ptr<BatchJob>, int> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopped_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopped and drained
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      run(*task.first, task.second, scratch);
      if (--task.first->remaining == 0) finish(task.first);
    }
  }

  static void run(BatchJob& job, int i, J::Scratch& scratch) {
    J::Result& r = job.results[i];
    if (job.cancelled) {
      r.status = J::Status::Error;
      r.message = "cancelled";
      return;
    }
    try {
      std::string err = J::readFile(job.files[i].c_str(), scratch);
      if (!err.empty()) {
        r.status = J::Status::Error;
        r.message = err;
      } else {
        r = J::decodeTransform(scratch.file.data(), scratch.file.size(), job.transform, job.seeds[i], job.base + size_t(job.slots[i]) * job.sampleBytes, scratch);
      }
    } catch (const std::bad_alloc&) {
      r.status = J::Status::Error;
      r.message = "out of memory";
    } catch (const std::exception& e) {
      r.status = J::Status::Error;
      r.message = e.what();
    }
    scratch.trim();
  }

  // On the last item's thread: hand the settling to the JS thread.
  static void finish(const std::shared_ptr<BatchJob>& job) {
    std::shared_ptr<BatchJob> keep = job;
    job->done.BlockingCall([keep](Napi::Env env, Napi::Function) {
      if (env == nullptr) return;
      Napi::HandleScope scope(env);
      keep->out = at::Tensor();
      // [{index, status, message}] for the items that did not decode (empty when all did).
      Napi::Array failures = Napi::Array::New(env);
      uint32_t n = 0;
      for (size_t i = 0; i < keep->results.size(); ++i) {
        const J::Result& r = keep->results[i];
        if (r.status == J::Status::Ok) continue;
        Napi::Object o = Napi::Object::New(env);
        o.Set("index", Napi::Number::New(env, double(i)));
        o.Set("status", keep->cancelled && r.message == "cancelled" ? "cancelled" : statusName(r.status));
        o.Set("message", r.message);
        failures.Set(n++, o);
      }
      keep->deferred.Resolve(failures);
    });
    job->done.Release();
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::shared_ptr<BatchJob>, int>> queue_;
  std::unordered_map<uint32_t, std::weak_ptr<BatchJob>> live_;
  bool stopped_ = false;
  uint32_t lastId_ = 0;  // JS thread only
};

using DecoderRef = std::shared_ptr<Decoder>;

Decoder& argDecoder(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsExternal()) throw ArgTypeError("argument 'decoder' must be a decoder handle");
  auto* d = info[i].As<Napi::External<DecoderRef>>().Data();
  if (!d || !*d) throw ArgTypeError("argument 'decoder' must be a decoder handle");
  if ((*d)->stopped()) throw ArgTypeError("the decoder has been disposed");
  return **d;
}

double numberField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw ArgTypeError(std::string("transform.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

int intField(const Napi::Object& o, const char* key, int lo, int hi) {
  double d = numberField(o, key);
  if (!(d >= lo && d <= hi) || d != std::floor(d))
    throw ArgRangeError(std::string("transform.") + key + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(d));
  return int(d);
}

// [lo, hi] with 0 < lo <= hi, both finite.
void argPair(const Napi::Value& v, const std::string& key, double& lo, double& hi) {
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 2) throw ArgTypeError(key + " must be [lo, hi]");
  Napi::Array a = v.As<Napi::Array>();
  Napi::Value a0 = a.Get(0u), a1 = a.Get(1u);
  if (!a0.IsNumber() || !a1.IsNumber()) throw ArgTypeError(key + " must hold two numbers");
  lo = a0.As<Napi::Number>().DoubleValue(), hi = a1.As<Napi::Number>().DoubleValue();
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo > 0 && lo <= hi)) throw ArgRangeError(key + " must be finite with 0 < lo <= hi");
}

uint32_t argSeed(const Napi::CallbackInfo& info, size_t i) {
  int64_t s = argInt(info, i, "seed");
  if (s < 0 || s > 0xffffffffLL) throw ArgRangeError("seed must be a uint32, got " + std::to_string(s));
  return uint32_t(s);
}

// {mode: 'train'|'val'|'resize', height, width, scale: [lo, hi], ratio: [lo, hi], flip, resizeSize, dctScaling}
J::Transform argTransform(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsObject()) throw ArgTypeError("argument 'transform' must be an object");
  Napi::Object o = info[i].As<Napi::Object>();
  J::Transform t;
  Napi::Value m = o.Get("mode");
  std::string mode = m.IsString() ? m.As<Napi::String>().Utf8Value() : "";
  if (mode == "train") t.mode = J::Mode::Train;
  else if (mode == "val") t.mode = J::Mode::Val;
  else if (mode == "resize") t.mode = J::Mode::Resize;
  else throw ArgTypeError("transform.mode must be \"train\", \"val\" or \"resize\"");
  t.outH = intField(o, "height", 1, 1 << 14);
  t.outW = intField(o, "width", 1, 1 << 14);
  if (!isNullish(o.Get("scale"))) argPair(o.Get("scale"), "transform.scale", t.scaleLo, t.scaleHi);
  if (!isNullish(o.Get("ratio"))) argPair(o.Get("ratio"), "transform.ratio", t.ratioLo, t.ratioHi);
  Napi::Value f = o.Get("flip");
  t.flip = f.IsBoolean() ? f.As<Napi::Boolean>().Value() : t.mode == J::Mode::Train;
  if (!isNullish(o.Get("resizeSize"))) t.resizeSize = intField(o, "resizeSize", 1, 1 << 16);
  if (t.mode == J::Mode::Val && t.resizeSize < std::max(t.outH, t.outW)) throw ArgRangeError("transform.resizeSize must be at least the crop size");
  Napi::Value d = o.Get("dctScaling");
  t.dctScaling = d.IsBoolean() ? d.As<Napi::Boolean>().Value() : true;
  return t;
}

// Checks that `out` is a contiguous uint8 CPU tensor [B, 3, H, W] matching the transform; returns B.
int64_t checkOutput(const at::Tensor& out, const J::Transform& t) {
  if (out.scalar_type() != at::kByte) throw ArgTypeError(std::string("the output tensor must be uint8, got ") + dtypeName(out.scalar_type()));
  if (!out.device().is_cpu()) throw ArgTypeError("the output tensor must be on the CPU (pinned or not), got " + deviceName(out.device()));
  if (out.dim() != 4 || out.size(1) != 3 || out.size(2) != t.outH || out.size(3) != t.outW)
    throw ArgRangeError("the output tensor must be [B, 3, " + std::to_string(t.outH) + ", " + std::to_string(t.outW) + "], got [" + c10::Join(", ", out.sizes()) + "]");
  if (!out.is_contiguous()) throw ArgRangeError("the output tensor must be contiguous");
  return out.size(0);
}

// jpegDecoderCreate(workers) -> decoder handle
Napi::Value Create(const Napi::CallbackInfo& info) {
  return guard(info, "jpegDecoder", [&]() -> Napi::Value {
    int64_t workers = argInt(info, 0, "workers");
    if (workers < 1 || workers > 1024) throw ArgRangeError("workers must be in [1, 1024], got " + std::to_string(workers));
    auto* ref = new DecoderRef(std::make_shared<Decoder>(int(workers)));
    return Napi::External<DecoderRef>::New(info.Env(), ref, [](Napi::Env, DecoderRef* r) { delete r; });
  });
}

// jpegDecoderDispose(decoder): stops the threads once the images they hold are done; queued ones are cancelled.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  return guard(info, "jpegDecoder.dispose", [&]() -> Napi::Value {
    if (!info[0].IsExternal()) throw ArgTypeError("argument 'decoder' must be a decoder handle");
    auto* d = info[0].As<Napi::External<DecoderRef>>().Data();
    if (d && *d) (*d)->stop();
    return info.Env().Undefined();
  });
}

// jpegDecodeBatch(decoder, files: string[], slots: Int32Array, seeds: Uint32Array, transform, out: Tensor)
//   -> {id, promise: Promise<{index, status, message}[]>}
Napi::Value DecodeBatch(const Napi::CallbackInfo& info) {
  return guard(info, "jpegDecodeBatch", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Decoder& dec = argDecoder(info, 0);
    if (!info[1].IsArray()) throw ArgTypeError("argument 'files' must be an array of paths");
    Napi::Array files = info[1].As<Napi::Array>();
    const uint32_t n = files.Length();
    if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) throw ArgTypeError("argument 'slots' must be an Int32Array");
    if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) throw ArgTypeError("argument 'seeds' must be a Uint32Array");
    // Copied before anything else is read: a getter (a files[i] element, a transform field) could shrink or
    // detach their buffers, and node-addon-api keeps the address it first read.
    Napi::Int32Array slotsArr = info[2].As<Napi::Int32Array>();
    Napi::Uint32Array seedsArr = info[3].As<Napi::Uint32Array>();
    if (slotsArr.ElementLength() != n || seedsArr.ElementLength() != n) throw ArgRangeError("files, slots and seeds must have the same length");
    const std::vector<int32_t> slots(slotsArr.Data(), slotsArr.Data() + n);
    const std::vector<uint32_t> seeds(seedsArr.Data(), seedsArr.Data() + n);
    auto job = std::make_shared<BatchJob>(env);
    job->transform = argTransform(info, 4);
    job->out = argTensor(info, 5, "out");
    const int64_t batch = checkOutput(job->out, job->transform);
    job->storage = job->out.storage();
    job->base = static_cast<uint8_t*>(job->out.data_ptr());
    job->sampleBytes = size_t(3) * job->transform.outH * job->transform.outW;
    job->files.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      Napi::Value f = files.Get(i);
      if (!f.IsString()) throw ArgTypeError("files[" + std::to_string(i) + "] must be a string");
      std::string path = f.As<Napi::String>().Utf8Value();
      if (path.find('\0') != std::string::npos) throw ArgTypeError("files[" + std::to_string(i) + "] contains a NUL character");
      job->files.push_back(std::move(path));
      int64_t slot = slots[i];
      if (slot < 0 || slot >= batch) throw ArgRangeError("slots[" + std::to_string(i) + "] = " + std::to_string(slot) + " is outside the batch of " + std::to_string(batch));
      job->slots.push_back(slot);
      job->seeds.push_back(seeds[i]);
    }
    job->results.resize(n);
    job->id = dec.nextId();
    Napi::Object r = Napi::Object::New(env);
    r.Set("id", Napi::Number::New(env, job->id));
    r.Set("promise", job->deferred.Promise());
    if (n == 0) {
      job->deferred.Resolve(Napi::Array::New(env));
      return r;
    }
    job->remaining = int(n);
    job->done = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "ictorch.jpegDecodeBatch", 0, 1);
    dec.submit(job);
    return r;
  });
}

// jpegCancel(decoder, id): images of that batch not yet started are skipped (reported as "cancelled").
Napi::Value Cancel(const Napi::CallbackInfo& info) {
  return guard(info, "jpegCancel", [&]() -> Napi::Value {
    if (!info[0].IsExternal()) throw ArgTypeError("argument 'decoder' must be a decoder handle");
    auto* d = info[0].As<Napi::External<DecoderRef>>().Data();
    if (d && *d) (*d)->cancel(uint32_t(argInt(info, 1, "id")));
    return info.Env().Undefined();
  });
}

// jpegSampleCrop(width, height, scale: [lo, hi], ratio: [lo, hi], seed, flip) -> {top, left, height, width, flip, fallback}
Napi::Value SampleCrop(const Napi::CallbackInfo& info) {
  return guard(info, "jpegSampleCrop", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    int64_t w = argInt(info, 0, "width"), h = argInt(info, 1, "height");
    // each bounded first, so that the product cannot overflow (2^52 + 1 times 4096 wraps to 4096)
    if (w < 1 || h < 1 || w > J::kMaxPixels || h > J::kMaxPixels || w * h > J::kMaxPixels) throw ArgRangeError("width and height must be positive with width * height <= 2^28");
    double scaleLo, scaleHi, ratioLo, ratioHi;
    argPair(info[2], "scale", scaleLo, scaleHi);
    argPair(info[3], "ratio", ratioLo, ratioHi);
    J::CropSample c = J::sampleRandomResizedCrop(int(w), int(h), scaleLo, scaleHi, ratioLo, ratioHi, argSeed(info, 4), argBool(info, 5, "flip", true));
    Napi::Object o = Napi::Object::New(env);
    o.Set("top", c.top);
    o.Set("left", c.left);
    o.Set("height", c.height);
    o.Set("width", c.width);
    o.Set("flip", c.flip);
    o.Set("fallback", c.fallback);
    return o;
  });
}

// jpegTransformRgb(rgb: Uint8Array (HWC), width, height, transform, seed, out: Tensor | Uint8Array, slot)
// The same transform on an already decoded RGB image (a PNG, or any non-JPEG decoded with sharp), synchronously.
Napi::Value TransformRgb(const Napi::CallbackInfo& info) {
  return guard(info, "jpegTransformRgb", [&]() -> Napi::Value {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) throw ArgTypeError("argument 'rgb' must be a Uint8Array");
    int64_t w = argInt(info, 1, "width"), h = argInt(info, 2, "height");
    // each bounded first, so that the product cannot overflow (2^52 + 1 times 4096 wraps to 4096)
    if (w < 1 || h < 1 || w > J::kMaxPixels || h > J::kMaxPixels || w * h > J::kMaxPixels) throw ArgRangeError("width and height must be positive with width * height <= 2^28");
    // The transform first: reading its fields can run JS (a getter), which could detach or shrink the buffers;
    // the buffers' lengths and addresses are read after it.
    J::Transform t = argTransform(info, 3);
    Napi::Uint8Array rgb = info[0].As<Napi::Uint8Array>();
    if (rgb.ByteLength() != size_t(w * h * 3) || rgb.ArrayBuffer().Data() == nullptr)
      throw ArgRangeError("rgb holds " + std::to_string(rgb.ByteLength()) + " bytes, not width * height * 3 = " + std::to_string(w * h * 3));
    uint32_t seed = argSeed(info, 4);
    uint8_t* dst;
    const size_t sampleBytes = size_t(3) * t.outH * t.outW;
    if (info[5].IsTypedArray()) {
      Napi::TypedArray ta = info[5].As<Napi::TypedArray>();
      if (ta.TypedArrayType() != napi_uint8_array || ta.ByteLength() != sampleBytes || ta.ArrayBuffer().Data() == nullptr) throw ArgRangeError("out must be a Uint8Array of 3 * height * width bytes");
      dst = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    } else {
      const at::Tensor& out = argTensor(info, 5, "out");
      int64_t batch = checkOutput(out, t);
      int64_t slot = argInt(info, 6, "slot");
      if (slot < 0 || slot >= batch) throw ArgRangeError("slot " + std::to_string(slot) + " is outside the batch of " + std::to_string(batch));
      dst = static_cast<uint8_t*>(out.data_ptr()) + size_t(slot) * sampleBytes;
    }
    thread_local J::Scratch scratch;
    J::Plan p;
    try {
      p = J::makePlan(int(w), int(h), t, seed);
    } catch (const std::invalid_argument& e) {
      throw ArgRangeError(e.what());
    }
    J::resampleRgb(static_cast<const uint8_t*>(rgb.ArrayBuffer().Data()) + rgb.ByteOffset(), int(w), int(h), size_t(w) * 3, p, t.outH, t.outW, dst, scratch);
    scratch.trim();
    return info.Env().Undefined();
  });
}

// jpegDecodeImage(path, height | null, width | null) -> Promise<{status, message, data: Buffer (RGB HWC), width, height}>
// One whole image (optionally resized, PIL bilinear) off the JS thread; status "notJpeg" leaves it to the caller.
class DecodeImageWorker : public Napi::AsyncWorker {
 public:
  DecodeImageWorker(Napi::Env env, std::string path, int outH, int outW)
      : Napi::AsyncWorker(env, "ictorch.jpegDecodeImage"), path_(std::move(path)), outH_(outH), outW_(outW), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    thread_local J::Scratch s;
    try {
      std::string err = J::readFile(path_.c_str(), s);
      if (!err.empty()) {
        r_.status = J::Status::Error;
        r_.message = err;
      } else if (outH_ > 0) {
        J::Transform t;
        t.mode = J::Mode::Resize;
        t.outH = outH_, t.outW = outW_;
        t.dctScaling = false;
        chw_.resize(size_t(3) * outH_ * outW_);
        r_ = J::decodeTransform(s.file.data(), s.file.size(), t, 0, chw_.data(), s);
        if (r_.status == J::Status::Ok) {
          const size_t plane = size_t(outH_) * outW_;
          data_.resize(plane * 3);
          for (size_t p = 0; p < plane; ++p)
            data_[3 * p] = chw_[p], data_[3 * p + 1] = chw_[plane + p], data_[3 * p + 2] = chw_[2 * plane + p];
          r_.width = outW_, r_.height = outH_;
        }
      } else {
        r_ = J::decodeFull(s.file.data(), s.file.size(), s);
        if (r_.status == J::Status::Ok) data_.assign(s.rgb.data(), s.rgb.data() + size_t(r_.width) * r_.height * 3);
      }
    } catch (const std::bad_alloc&) {
      r_.status = J::Status::Error;
      r_.message = "out of memory";
    }
    s.trim();
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("status", statusName(r_.status));
    o.Set("message", r_.message);
    o.Set("width", r_.width);
    o.Set("height", r_.height);
    if (r_.status == J::Status::Ok) {
      auto* v = new std::vector<uint8_t>(std::move(data_));
      o.Set("data", Napi::Buffer<uint8_t>::New(env, v->data(), v->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* p) { delete p; }, v));
    } else {
      o.Set("data", env.Null());
    }
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::string path_;
  int outH_, outW_;
  J::Result r_;
  std::vector<uint8_t> chw_, data_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value DecodeImage(const Napi::CallbackInfo& info) {
  return guard(info, "jpegDecodeImage", [&]() -> Napi::Value {
    std::string path = argString(info, 0, "path");
    if (path.find('\0') != std::string::npos) throw ArgTypeError("path contains a NUL character");
    int outH = 0, outW = 0;
    if (!isNullish(info[1]) || !isNullish(info[2])) {
      int64_t h = argInt(info, 1, "height"), w = argInt(info, 2, "width");
      if (h < 1 || w < 1 || h > (1 << 16) || w > (1 << 16) || h * w > J::kMaxPixels)
        throw ArgRangeError("height and width must be in [1, 65536] with height * width <= 2^28");
      outH = int(h), outW = int(w);
    }
    auto* worker = new DecodeImageWorker(info.Env(), std::move(path), outH, outW);
    auto p = worker->promise();
    worker->Queue();
    return p;
  });
}

// jpegInfo() -> {available, library}
Napi::Value Info(const Napi::CallbackInfo& info) {
  return guard(info, "jpegInfo", [&]() -> Napi::Value {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("available", J::available());
    o.Set("library", J::libraryVersion());
    return o;
  });
}

// pinnedEmpty(shape): an uninitialised uint8 CPU tensor in page-locked memory (for non-blocking copies to CUDA).
Napi::Value PinnedEmpty(const Napi::CallbackInfo& info) {
  return guard(info, "pinnedEmpty", [&]() -> Napi::Value {
    auto sizes = argIntList(info, 0, "shape");
    for (auto s : sizes)
      if (s < 0) throw ArgRangeError("shape must hold non-negative sizes");
    if (!at::hasCUDA()) throw ArgTypeError("pinned memory needs CUDA, which this LibTorch does not see");
    return TensorHandle::Wrap(info.Env(), at::empty(sizes, at::TensorOptions().dtype(at::kByte).pinned_memory(true)));
  });
}

}  // namespace

void InitDecoder(Napi::Env env, Napi::Object exports) {
  exports.Set("jpegInfo", Napi::Function::New<Info>(env, "jpegInfo"));
  exports.Set("jpegDecoderCreate", Napi::Function::New<Create>(env, "jpegDecoderCreate"));
  exports.Set("jpegDecoderDispose", Napi::Function::New<Dispose>(env, "jpegDecoderDispose"));
  exports.Set("jpegDecodeBatch", Napi::Function::New<DecodeBatch>(env, "jpegDecodeBatch"));
  exports.Set("jpegCancel", Napi::Function::New<Cancel>(env, "jpegCancel"));
  exports.Set("jpegSampleCrop", Napi::Function::New<SampleCrop>(env, "jpegSampleCrop"));
  exports.Set("jpegTransformRgb", Napi::Function::New<TransformRgb>(env, "jpegTransformRgb"));
  exports.Set("jpegDecodeImage", Napi::Function::New<DecodeImage>(env, "jpegDecodeImage"));
  exports.Set("pinnedEmpty", Napi::Function::New<PinnedEmpty>(env, "pinnedEmpty"));
}

}  // namespace ictorch
