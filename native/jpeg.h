// jpeg.h: decoding one image file straight into a transformed uint8 CHW sample (libjpeg-turbo), and the
// transforms themselves: torchvision's RandomResizedCrop sampling, Resize + CenterCrop geometry and PIL's
// antialiased bilinear resampling. Plain C++ (no LibTorch, no N-API): decoder.cc runs it on its threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ictorch {
namespace jpeg {

// Images larger than this many pixels are refused before anything is allocated for them.
constexpr int64_t kMaxPixels = int64_t(1) << 28;
// Files larger than this are refused before they are read.
constexpr int64_t kMaxFileBytes = int64_t(1) << 30;

// True when the addon was built with libjpeg (else only the RGB-buffer paths exist).
bool available();
// libjpeg's version as "libjpeg-turbo <JPEG_LIB_VERSION>", or "" without it.
std::string libraryVersion();

// mulberry32 (the same generator as lib/util/prng.ts): uniform() is next() / 2^32.
struct Rng {
  uint32_t state;
  explicit Rng(uint32_t seed) : state(seed) {}
  uint32_t next() {
    uint32_t a = state += 0x6d2b79f5u;
    uint32_t t = a;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return t ^ (t >> 14);
  }
  double uniform() { return next() / 4294967296.0; }
};

// A crop box in source pixels and whether the sample is mirrored.
struct CropSample {
  int top = 0, left = 0, height = 0, width = 0;
  bool flip = false;
  bool fallback = false;  // no attempt was accepted: centre crop with the ratio clamped into range
};

// torchvision's RandomResizedCrop.get_params for a width x height image (10 attempts, then the centre-crop
// fallback), drawn from mulberry32(seed) in the order scale, log-ratio[, top, left] per attempt; then, when
// `flip` is on, one more draw: mirrored when it is < 0.5.
CropSample sampleRandomResizedCrop(int width, int height, double scaleLo, double scaleHi, double ratioLo, double ratioHi, uint32_t seed, bool flip);

enum class Mode {
  Train,  // RandomResizedCrop(outH x outW, scale, ratio) + RandomHorizontalFlip
  Val,    // Resize(resizeSize) (shorter side) + CenterCrop(outH x outW)
  Resize, // the whole image stretched to outH x outW
};

struct Transform {
  Mode mode = Mode::Val;
  int outH = 224, outW = 224;
  double scaleLo = 0.08, scaleHi = 1.0, ratioLo = 3.0 / 4.0, ratioHi = 4.0 / 3.0;
  bool flip = true;       // Train only
  int resizeSize = 256;   // Val only
  bool dctScaling = true; // decode at N/8 scale when the result stays at least the resampling input size
};

// The geometry of one sample: the source rectangle that is resampled (clamped at its own edges, as PIL does
// after a crop) onto a gridW x gridH grid, of which the outW x outH window at (winLeft, winTop) is kept.
struct Plan {
  int srcLeft = 0, srcTop = 0, srcWidth = 0, srcHeight = 0;
  int gridW = 0, gridH = 0, winLeft = 0, winTop = 0;
  bool flip = false;
};
// Throws std::invalid_argument for sizes the transform cannot take (e.g. an empty image).
Plan makePlan(int width, int height, const Transform& t, uint32_t seed);

// PIL's precompute_coeffs + normalize_coeffs_8bpc (bilinear filter) for outputs [first, first + count) of
// an outSize-long axis over the input box [in0, in1) of an inSize-long axis.
struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // per output: first input index, number of taps
  std::vector<int32_t> k;   // per output: ksize fixed-point weights (22 fractional bits)
};
void precomputeCoeffs(int inSize, float in0, float in1, int outSize, int first, int count, Coeffs& c);

// A byte buffer that grows without zero-filling (what it holds is always written before it is read).
class Bytes {
 public:
  uint8_t* data() { return p_.get(); }
  const uint8_t* data() const { return p_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  uint8_t& operator[](size_t i) { return p_[i]; }
  // Sets the size; growing past the capacity drops the contents.
  void resize(size_t n) {
    if (n > cap_) {
      p_.reset(new uint8_t[n]);
      cap_ = n;
    }
    size_ = n;
  }
  void release() {
    p_.reset();
    size_ = cap_ = 0;
  }

 private:
  std::unique_ptr<uint8_t[]> p_;
  size_t size_ = 0, cap_ = 0;
};

// Per-thread buffers, reused from image to image (no allocation once they have grown).
struct Scratch {
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Bytes file, region, rgb, temp, row;
  std::vector<int32_t> acc, hk, hkp;
  std::vector<int> hstart;
  Coeffs ch, cv;
  void* codec = nullptr;  // libjpeg decompressor, created on first use
  void trim();            // frees buffers that grew past a few tens of MiB on one odd image
};

// How one image went.
enum class Status { Ok, NotJpeg, Corrupt, Error };
struct Result {
  Status status = Status::Ok;
  std::string message;  // why, for Corrupt and Error
  int width = 0, height = 0;
};

// Resamples an RGB HWC image (its srcLeft.. rectangle, see Plan) into out: uint8 CHW [3, outH, outW].
void resampleRgb(const uint8_t* rgb, int width, int height, size_t rowStride, const Plan& p, int outH, int outW, uint8_t* out, Scratch& s);

// Reads `path` (a regular file, opened without blocking) into s.file; "" on success, else the reason.
std::string readFile(const char* path, Scratch& s);

// Decodes the JPEG in [data, data + size) with transform t (sample seed `seed`) into out (uint8 CHW
// [3, t.outH, t.outW]). NotJpeg when the bytes are not a JPEG (the caller decodes them another way);
// Corrupt for a truncated file, a premature end of data, or data libjpeg cannot decode.
Result decodeTransform(const uint8_t* data, size_t size, const Transform& t, uint32_t seed, uint8_t* out, Scratch& s);

// Decodes the whole JPEG to RGB HWC in s.rgb (width x height x 3), for callers that keep the image's size.
Result decodeFull(const uint8_t* data, size_t size, Scratch& s);

// True when the bytes start like a JPEG (FF D8 FF).
inline bool isJpeg(const uint8_t* data, size_t size) { return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF; }

}  // namespace jpeg
}  // namespace ictorch
