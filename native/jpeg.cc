// jpeg.cc: one image file -> one transformed uint8 CHW sample. See jpeg.h.
//
// Per JPEG: read the header, plan the sample (crop box or resize + centre crop), pick the smallest DCT
// scale N/8 that keeps the resampling input at least as large as its output, decode only the rows and
// columns the resampling reads (jpeg_crop_scanline, jpeg_skip_scanlines, stop after the last row), then
// resample with PIL's fixed-point bilinear filter (so without DCT scaling the result is PIL's, bit for bit)
// and write CHW, mirrored when asked. libjpeg errors and the warnings that mean lost data longjmp out of
// the decoder; the functions that call setjmp hold no C++ objects with destructors.
#include "jpeg.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#ifdef ICTORCH_WITH_JPEG
#include <jerror.h>
#include <jpeglib.h>
#endif

namespace ictorch {
namespace jpeg {

// ---------------------------------------------------------------------------------------------------------
// Sampling and geometry (torchvision's semantics)

CropSample sampleRandomResizedCrop(int width, int height, double scaleLo, double scaleHi, double ratioLo, double ratioHi, uint32_t seed, bool flip) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("the image is empty (" + std::to_string(width) + "x" + std::to_string(height) + ")");
  Rng rng(seed);
  CropSample c;
  const double area = double(width) * double(height);
  const double logLo = std::log(ratioLo), logHi = std::log(ratioHi);
  bool found = false;
  for (int attempt = 0; attempt < 10 && !found; ++attempt) {
    double targetArea = area * (scaleLo + (scaleHi - scaleLo) * rng.uniform());
    double aspect = std::exp(logLo + (logHi - logLo) * rng.uniform());
    // Python's round(): halves to even, which nearbyint does in the default rounding mode.
    double w = std::nearbyint(std::sqrt(targetArea * aspect));
    double h = std::nearbyint(std::sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      c.width = int(w);
      c.height = int(h);
      c.top = int(rng.uniform() * (height - c.height + 1));
      c.left = int(rng.uniform() * (width - c.width + 1));
      found = true;
    }
  }
  if (!found) {
    c.fallback = true;
    double inRatio = double(width) / double(height);
    if (inRatio < ratioLo) {
      c.width = width;
      c.height = int(std::nearbyint(width / ratioLo));
    } else if (inRatio > ratioHi) {
      c.height = height;
      c.width = int(std::nearbyint(height * ratioHi));
    } else {
      c.width = width;
      c.height = height;
    }
    c.top = (height - c.height) / 2;
    c.left = (width - c.width) / 2;
  }
  if (flip) c.flip = rng.uniform() < 0.5;
  return c;
}

Plan makePlan(int width, int height, const Transform& t, uint32_t seed) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("the image is empty (" + std::to_string(width) + "x" + std::to_string(height) + ")");
  Plan p;
  switch (t.mode) {
    case Mode::Train: {
      CropSample c = sampleRandomResizedCrop(width, height, t.scaleLo, t.scaleHi, t.ratioLo, t.ratioHi, seed, t.flip);
      p.srcLeft = c.left, p.srcTop = c.top, p.srcWidth = c.width, p.srcHeight = c.height;
      p.gridW = t.outW, p.gridH = t.outH;
      p.flip = c.flip;
      break;
    }
    case Mode::Val: {
      // torchvision Resize(size): the shorter side becomes size, the longer int(size * long / short).
      int64_t shortSide = std::min(width, height), longSide = std::max(width, height);
      int64_t newLong = int64_t(double(int64_t(t.resizeSize) * longSide) / double(shortSide));
      p.gridW = int(width <= height ? t.resizeSize : newLong);
      p.gridH = int(width <= height ? newLong : t.resizeSize);
      if (p.gridW < t.outW || p.gridH < t.outH)
        throw std::invalid_argument("the resized image (" + std::to_string(p.gridW) + "x" + std::to_string(p.gridH) + ") is smaller than the crop (" +
                                    std::to_string(t.outW) + "x" + std::to_string(t.outH) + ")");
      p.srcWidth = width, p.srcHeight = height;
      // CenterCrop: int(round((H - crop) / 2.)), halves to even.
      p.winTop = int(std::nearbyint((p.gridH - t.outH) / 2.0));
      p.winLeft = int(std::nearbyint((p.gridW - t.outW) / 2.0));
      break;
    }
    case Mode::Resize:
      p.srcWidth = width, p.srcHeight = height;
      p.gridW = t.outW, p.gridH = t.outH;
      break;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// PIL's resampling (libImaging/Resample.c), bilinear filter, 8 bits per channel

// The resampling loops vectorise far better with AVX2 (8 x 32-bit multiplies); an ifunc picks the clone
// the CPU runs at load time, so the binary still runs on any x86-64.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define ICTORCH_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ICTORCH_SIMD_CLONES
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ICTORCH_X86_AVX2 1
#endif

namespace {
constexpr int kPrecisionBits = 32 - 8 - 2;

inline double bilinear(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

// PIL's clip8 (255 from 2^30 up, 0 at or below 0, else v >> 22), without branches so loops vectorise.
inline uint8_t clip8(int32_t v) {
  v >>= kPrecisionBits;
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}
}  // namespace

void precomputeCoeffs(int inSize, float in0, float in1, int outSize, int first, int count, Coeffs& c) {
  double scale = double(in1 - in0) / outSize;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = 1.0 * filterscale;
  int ksize = int(std::ceil(support)) * 2 + 1;
  c.ksize = ksize;
  c.bounds.resize(size_t(count) * 2);
  c.k.assign(size_t(count) * ksize, 0);
  thread_local std::vector<double> w;
  w.resize(ksize);
  for (int i = 0; i < count; ++i) {
    int xx = first + i;
    double center = in0 + (xx + 0.5) * scale;
    double ww = 0.0, ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    if (xmax > ksize) xmax = ksize;  // cannot happen (PIL's bound), kept so a bad box never writes past k
    if (xmax < 0) xmax = 0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = bilinear((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    int32_t* k = &c.k[size_t(i) * ksize];
    for (int x = 0; x < xmax; ++x) {
      double v = ww != 0.0 ? w[x] / ww : w[x];
      k[x] = v < 0 ? int32_t(-0.5 + v * (1 << kPrecisionBits)) : int32_t(0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[size_t(i) * 2] = xmin;
    c.bounds[size_t(i) * 2 + 1] = xmax;
  }
}

namespace {

// What one sample reads and writes: the resampling input image I = [ix, ix + iw) x [iy, iy + ih) of the
// decoded (possibly DCT-scaled) image, the box [bx0, bx1) x [by0, by1) inside I mapped onto the grid, the
// window of the grid written, and the input rows/columns (in decoded-image coordinates) that reads.
struct Geometry {
  int ix = 0, iy = 0, iw = 0, ih = 0;
  float bx0 = 0, bx1 = 0, by0 = 0, by1 = 0;
  int gridW = 0, gridH = 0, winLeft = 0, winTop = 0, outW = 0, outH = 0;
  bool flip = false;
  int cx0 = 0, cx1 = 0, cy0 = 0, cy1 = 0;  // needed input columns and rows (decoded-image coordinates)
};

// Geometry of plan p on an image decoded at scale num/8 (decoded size dw x dh); fills s.ch, s.cv.
Geometry geometry(const Plan& p, int num, int dw, int dh, int outW, int outH, Scratch& s) {
  Geometry g;
  g.gridW = p.gridW, g.gridH = p.gridH, g.winLeft = p.winLeft, g.winTop = p.winTop, g.outW = outW, g.outH = outH, g.flip = p.flip;
  if (num == 8) {
    g.ix = p.srcLeft, g.iy = p.srcTop, g.iw = p.srcWidth, g.ih = p.srcHeight;
    g.bx0 = 0, g.by0 = 0, g.bx1 = float(p.srcWidth), g.by1 = float(p.srcHeight);
  } else {
    double f = num / 8.0;
    double fx0 = p.srcLeft * f, fx1 = (p.srcLeft + p.srcWidth) * f;
    double fy0 = p.srcTop * f, fy1 = (p.srcTop + p.srcHeight) * f;
    g.ix = int(std::floor(fx0)), g.iy = int(std::floor(fy0));
    g.iw = std::min(dw, int(std::ceil(fx1))) - g.ix;
    g.ih = std::min(dh, int(std::ceil(fy1))) - g.iy;
    g.bx0 = float(fx0 - g.ix), g.bx1 = float(std::min(fx1 - g.ix, double(g.iw)));
    g.by0 = float(fy0 - g.iy), g.by1 = float(std::min(fy1 - g.iy, double(g.ih)));
  }
  precomputeCoeffs(g.iw, g.bx0, g.bx1, g.gridW, g.winLeft, outW, s.ch);
  precomputeCoeffs(g.ih, g.by0, g.by1, g.gridH, g.winTop, outH, s.cv);
  int lo = g.iw, hi = 0;
  for (int i = 0; i < outW; ++i) {
    int a = s.ch.bounds[2 * i], n = s.ch.bounds[2 * i + 1];
    if (n > 0) lo = std::min(lo, a), hi = std::max(hi, a + n);
  }
  if (hi <= lo) lo = 0, hi = 1;
  g.cx0 = g.ix + lo, g.cx1 = g.ix + hi;
  lo = g.ih, hi = 0;
  for (int i = 0; i < outH; ++i) {
    int a = s.cv.bounds[2 * i], n = s.cv.bounds[2 * i + 1];
    if (n > 0) lo = std::min(lo, a), hi = std::max(hi, a + n);
  }
  if (hi <= lo) lo = 0, hi = 1;
  g.cy0 = g.iy + lo, g.cy1 = g.iy + hi;
  return g;
}

// The horizontal weights re-laid with one tap count K for every output (K = the most taps any output
// has): output xx reads input columns [start[xx], start[xx] + K), all inside the needed range [lo, hi),
// with zero weights where PIL's window does not reach. Equal sums, and a fixed-length inner loop.
int fixedTaps(const Coeffs& c, int outW, int lo, int hi, std::vector<int>& start, std::vector<int32_t>& k) {
  int K = 1;
  for (int i = 0; i < outW; ++i) K = std::max(K, c.bounds[2 * i + 1]);
  K = std::min(K, hi - lo);
  start.resize(outW);
  k.assign(size_t(outW) * K, 0);
  for (int i = 0; i < outW; ++i) {
    const int xmin = c.bounds[2 * i], n = c.bounds[2 * i + 1];
    const int st = std::max(lo, std::min(xmin, hi - K));
    start[i] = st;
    for (int x = 0; x < n; ++x) k[size_t(i) * K + (xmin + x - st)] = c.k[size_t(i) * c.ksize + x];
  }
  return K;
}

// One row of the horizontal pass: each output is K taps from `start`, in 3 channels. KC > 0 fixes K at compile
// time (the common small kernels, unrolled); KC = 0 takes it from `taps`.
template <int KC>
void horizontalRow(int taps, const uint8_t* in, const int* start, const int32_t* k, int outW, uint8_t* t) {
  const int K = KC > 0 ? KC : taps;
  for (int xx = 0; xx < outW; ++xx, k += K, t += 3) {
    const uint8_t* p = in + 3 * start[xx];
    int32_t s0 = kHalf, s1 = kHalf, s2 = kHalf;
    for (int x = 0; x < K; ++x) {
      s0 += p[3 * x] * k[x];
      s1 += p[3 * x + 1] * k[x];
      s2 += p[3 * x + 2] * k[x];
    }
    t[0] = clip8(s0), t[1] = clip8(s1), t[2] = clip8(s2);
  }
}

#ifdef ICTORCH_X86_AVX2
bool hasAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

// The horizontal weights per pair of outputs for horizontalAvx2: for pair j and tap x, 8 lanes
// [k(2j, x) x 4, k(2j + 1, x) x 4] (R, G, B and a spare lane per output).
void pairWeights(const std::vector<int32_t>& k, int K, int outW, std::vector<int32_t>& kp) {
  const int pairs = outW / 2;
  kp.resize(size_t(pairs) * K * 8);
  for (int j = 0; j < pairs; ++j)
    for (int x = 0; x < K; ++x)
      for (int l = 0; l < 8; ++l) kp[(size_t(j) * K + x) * 8 + l] = k[size_t(2 * j + (l >> 2)) * K + x];
}

// horizontalRow for two outputs at a time in one 8 x int32 register: the same integer sums, so the same
// bytes. Reads one byte past each pixel it uses and writes one byte past each output pair: the buffers
// keep a few bytes of slack.
__attribute__((target("avx2"))) void horizontalAvx2(const uint8_t* in, const int* start, const int32_t* kp, int K, int pairs, uint8_t* t) {
  for (int j = 0; j < pairs; ++j, t += 6) {
    const uint8_t* p0 = in + 3 * start[2 * j];
    const uint8_t* p1 = in + 3 * start[2 * j + 1];
    const int32_t* w = kp + size_t(j) * K * 8;
    __m256i acc = _mm256_set1_epi32(kHalf);
    for (int x = 0; x < K; ++x) {
      uint32_t a, b;
      std::memcpy(&a, p0 + 3 * x, 4);
      std::memcpy(&b, p1 + 3 * x, 4);
      __m128i v = _mm_cvtsi64_si128(int64_t(uint64_t(a) | (uint64_t(b) << 32)));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(v), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 8 * x))));
    }
    // clip8: v >> 22, saturated to [0, 255] by the two packs.
    acc = _mm256_srai_epi32(acc, kPrecisionBits);
    __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    uint64_t bytes = uint64_t(_mm_cvtsi128_si64(_mm_packus_epi16(p16, p16)));
    uint32_t first = uint32_t(bytes), second = uint32_t(bytes >> 32);
    std::memcpy(t, &first, 4);
    std::memcpy(t + 3, &second, 4);
  }
}
#endif

// Bytes of slack kept after the buffers the AVX2 pass reads and writes.
constexpr size_t kSlack = 16;

// The resampling proper. `region` holds decoded-image rows [g.cy0, g.cy1) starting at column regionX0
// (RGB, `stride` bytes per row; `padded`: readable slack after the last row). Horizontal pass into
// s.temp, then vertical pass into CHW.
ICTORCH_SIMD_CLONES
void resample(const uint8_t* region, size_t stride, int regionX0, bool padded, const Geometry& g, uint8_t* out, Scratch& s) {
  const int outW = g.outW, outH = g.outH;
  const int rows = g.cy1 - g.cy0;
  const size_t tstride = size_t(outW) * 3;
  s.temp.resize(size_t(rows) * tstride + kSlack);
  const int K = fixedTaps(s.ch, outW, g.cx0 - g.ix, g.cx1 - g.ix, s.hstart, s.hk);
  // Starts relative to the region's first column (regionX0 <= the first column used, so all >= 0).
  for (int& st : s.hstart) st += g.ix - regionX0;
  const int* start = s.hstart.data();
  const int32_t* kh = s.hk.data();
#ifdef ICTORCH_X86_AVX2
  const bool simd = padded && K <= 8 && outW >= 2 && hasAvx2();
  if (simd) pairWeights(s.hk, K, outW, s.hkp);
#else
  const bool simd = false;
#endif
  for (int r = 0; r < rows; ++r) {
    const uint8_t* in = region + size_t(r) * stride;
    uint8_t* t = s.temp.data() + size_t(r) * tstride;
#ifdef ICTORCH_X86_AVX2
    if (simd) {
      horizontalAvx2(in, start, s.hkp.data(), K, outW / 2, t);
      if (outW & 1) horizontalRow<0>(K, in, start + outW - 1, kh + size_t(outW - 1) * K, 1, t + 3 * size_t(outW - 1));
      continue;
    }
#endif
    switch (K) {
      case 1: horizontalRow<1>(K, in, start, kh, outW, t); break;
      case 2: horizontalRow<2>(K, in, start, kh, outW, t); break;
      case 3: horizontalRow<3>(K, in, start, kh, outW, t); break;
      case 4: horizontalRow<4>(K, in, start, kh, outW, t); break;
      case 5: horizontalRow<5>(K, in, start, kh, outW, t); break;
      case 6: horizontalRow<6>(K, in, start, kh, outW, t); break;
      default: horizontalRow<0>(K, in, start, kh, outW, t); break;
    }
  }
  const int ksV = s.cv.ksize;
  const int* bv = s.cv.bounds.data();
  const int32_t* kv = s.cv.k.data();
  const int rowShift = g.iy - g.cy0;  // I's row 0 in temp
  s.acc.resize(tstride);
  s.row.resize(tstride);
  int32_t* acc = s.acc.data();
  uint8_t* row = s.row.data();
  const size_t plane = size_t(outH) * outW;
  for (int yy = 0; yy < outH; ++yy) {
    const int ymin = bv[2 * yy], n = bv[2 * yy + 1];
    const int32_t* k = kv + size_t(yy) * ksV;
    for (size_t i = 0; i < tstride; ++i) acc[i] = kHalf;
    for (int y = 0; y < n; ++y) {
      const uint8_t* t = s.temp.data() + size_t(ymin + rowShift + y) * tstride;
      const int32_t w = k[y];
      for (size_t i = 0; i < tstride; ++i) acc[i] += t[i] * w;
    }
    for (size_t i = 0; i < tstride; ++i) row[i] = clip8(acc[i]);
    uint8_t* r = out + size_t(yy) * outW;
    uint8_t* gch = r + plane;
    uint8_t* b = r + 2 * plane;
    if (g.flip) {
      for (int xx = 0, xo = outW - 1; xx < outW; ++xx, --xo) r[xo] = row[3 * xx], gch[xo] = row[3 * xx + 1], b[xo] = row[3 * xx + 2];
    } else {
      for (int xx = 0; xx < outW; ++xx) r[xx] = row[3 * xx], gch[xx] = row[3 * xx + 1], b[xx] = row[3 * xx + 2];
    }
  }
}

}  // namespace

void resampleRgb(const uint8_t* rgb, int width, int height, size_t rowStride, const Plan& p, int outH, int outW, uint8_t* out, Scratch& s) {
  Geometry g = geometry(p, 8, width, height, outW, outH, s);
  resample(rgb + size_t(g.cy0) * rowStride, rowStride, 0, false, g, out, s);
}

// ---------------------------------------------------------------------------------------------------------
// Files

std::string readFile(const char* path, Scratch& s) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return "cannot open it: " + std::error_code(errno, std::generic_category()).message();
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return "cannot stat it: " + std::error_code(e, std::generic_category()).message();
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return "it is not a regular file";
  }
  if (st.st_size > kMaxFileBytes) {
    ::close(fd);
    return "it is larger than " + std::to_string(kMaxFileBytes) + " bytes";
  }
  size_t want = size_t(st.st_size), got = 0;
  s.file.resize(want);
  while (got < want) {
    ssize_t n = ::read(fd, s.file.data() + got, want - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return "cannot read it: " + std::error_code(e, std::generic_category()).message();
    }
    if (n == 0) break;  // shrank while we read: decode what is there (a truncated JPEG is reported as such)
    got += size_t(n);
  }
  s.file.resize(got);
  ::close(fd);
  return "";
}

void Scratch::trim() {
  constexpr size_t kKeep = size_t(48) << 20;
  auto shrink = [&](Bytes& v) {
    if (v.capacity() > kKeep) v.release();
  };
  shrink(file), shrink(region), shrink(rgb), shrink(temp);
}

// ---------------------------------------------------------------------------------------------------------
// libjpeg

#ifdef ICTORCH_WITH_JPEG

namespace {

struct ErrorMgr {
  jpeg_error_mgr pub;
  jmp_buf jump;
  bool corrupt;
  char message[JMSG_LENGTH_MAX];
};

void onError(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorMgr*>(c->err);
  c->err->format_message(c, e->message);
  longjmp(e->jump, 1);
}

// Warnings that mean image data is missing or was decoded from garbage stop the decode (the file counts
// as corrupt); the rest (e.g. extraneous bytes before a marker) are harmless and ignored, as PIL does.
void onMessage(j_common_ptr c, int level) {
  if (level >= 0) return;
  int code = c->err->msg_code;
  if (code == JWRN_HIT_MARKER || code == JWRN_JPEG_EOF || code == JWRN_MUST_RESYNC || code == JWRN_HUFF_BAD_CODE) {
    auto* e = reinterpret_cast<ErrorMgr*>(c->err);
    c->err->format_message(c, e->message);
    e->corrupt = true;
    longjmp(e->jump, 1);
  }
  c->err->num_warnings++;
}

struct Codec {
  jpeg_decompress_struct cinfo;
  ErrorMgr err;
  bool created = false;
};

struct Header {
  int width, height, components;
  bool cmyk;
  size_t scanOffset;  // where the first scan's entropy-coded data starts
};

// Phase 1: the header. False on error (message in c.err).
bool readHeader(Codec& c, const uint8_t* data, size_t size, Header& h) {
  c.err.corrupt = false;
  c.err.message[0] = 0;
  if (setjmp(c.err.jump)) {
    jpeg_abort_decompress(&c.cinfo);
    return false;
  }
  jpeg_mem_src(&c.cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&c.cinfo, TRUE);
  h.width = int(c.cinfo.image_width);
  h.height = int(c.cinfo.image_height);
  h.components = c.cinfo.num_components;
  h.cmyk = c.cinfo.jpeg_color_space == JCS_CMYK || c.cinfo.jpeg_color_space == JCS_YCCK;
  h.scanOffset = size_t(c.cinfo.src->next_input_byte - data);
  return true;
}

// Phase 2: decode rows [y0, y1) and at least columns [x0, x1) of the image at scale num/8 into `out`
// (rows of `stride` bytes, RGB or CMYK); *xoff is the first column decoded. False on error.
bool decodeRows(Codec& c, int num, bool cmyk, int dw, int dh, int x0, int x1, int y0, int y1, uint8_t* out, size_t stride, int* xoff) {
  if (setjmp(c.err.jump)) {
    jpeg_abort_decompress(&c.cinfo);
    return false;
  }
  j_decompress_ptr ci = &c.cinfo;
  ci->scale_num = num;
  ci->scale_denom = 8;
  ci->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(ci);
  if (int(ci->output_width) != dw || int(ci->output_height) != dh) {
    std::snprintf(c.err.message, sizeof c.err.message, "libjpeg decodes %ux%u at scale %d/8, expected %dx%d", ci->output_width, ci->output_height, num, dw, dh);
    jpeg_abort_decompress(ci);
    return false;
  }
  JDIMENSION cx = JDIMENSION(x0), cw = JDIMENSION(x1 - x0);
#ifdef LIBJPEG_TURBO_VERSION
  if (cw < ci->output_width) jpeg_crop_scanline(ci, &cx, &cw);
  if (y0 > 0 && jpeg_skip_scanlines(ci, JDIMENSION(y0)) != JDIMENSION(y0)) {
    std::snprintf(c.err.message, sizeof c.err.message, "could not skip %d rows", y0);
    jpeg_abort_decompress(ci);
    return false;
  }
#else
  cx = 0;
  cw = ci->output_width;
#endif
  // Without turbo's crop the rows are full width and may not fit `stride`: then each row goes through a
  // one-row buffer and only columns [x0, x1) are kept.
  const size_t comps = cmyk ? 4 : 3;
  const bool direct = size_t(ci->output_width) * comps <= stride;
  *xoff = direct ? int(cx) : x0;
  JSAMPARRAY spare = (*ci->mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(ci), JPOOL_IMAGE, ci->output_width * JDIMENSION(comps), 1);
  while (int(ci->output_scanline) < y1) {
    int row = int(ci->output_scanline);
    if (row < y0) {  // only without turbo's skip
      jpeg_read_scanlines(ci, spare, 1);
    } else if (direct) {
      JSAMPROW rows[16];
      int n = std::min(16, y1 - row);
      for (int i = 0; i < n; ++i) rows[i] = out + size_t(row - y0 + i) * stride;
      jpeg_read_scanlines(ci, rows, JDIMENSION(n));
    } else {
      jpeg_read_scanlines(ci, spare, 1);
      std::memcpy(out + size_t(row - y0) * stride, spare[0] + size_t(x0) * comps, size_t(x1 - x0) * comps);
    }
  }
  jpeg_abort_decompress(ci);
  return true;
}

Codec& codecOf(Scratch& s) {
  if (!s.codec) s.codec = new Codec();
  return *static_cast<Codec*>(s.codec);
}

// Creates the decompressor on first use; false (with a message) if libjpeg fails to.
bool ensureCreated(Codec& c) {
  if (c.created) return true;
  c.cinfo.err = jpeg_std_error(&c.err.pub);
  c.err.pub.error_exit = onError;
  c.err.pub.emit_message = onMessage;
  if (setjmp(c.err.jump)) return false;
  jpeg_create_decompress(&c.cinfo);
  // A bound on libjpeg's own allocations (a progressive file's coefficients are 2 bytes per sample): a
  // hostile header cannot make it allocate more than this; real photographs need far less.
  c.cinfo.mem->max_memory_to_use = 512L << 20;
  c.created = true;
  return true;
}

// True when an end-of-image marker (FF D9) follows the start of the entropy-coded data: a truncated file
// has none (FF is always stuffed or a restart marker inside entropy-coded data).
bool hasEndMarker(const uint8_t* data, size_t size, size_t from) {
  for (size_t i = size; i >= from + 2; --i) {
    if (data[i - 1] == 0xD9 && data[i - 2] == 0xFF) return true;
  }
  return false;
}

// PIL's "CMYK;I" unpacking (Adobe's inverted CMYK) followed by its cmyk2rgb: with c, m, y, k as libjpeg
// decodes them, C = 255 - c, ..., nk = 255 - K = k, R = nk - nk * C / 255 (PIL's MULDIV255 rounding).
void cmykToRgb(const uint8_t* in, uint8_t* out, size_t pixels) {
  for (size_t i = 0; i < pixels; ++i, in += 4, out += 3) {
    int nk = in[3];
    for (int ch = 0; ch < 3; ++ch) {
      int v = 255 - in[ch];
      int t = v * nk + 128;
      out[ch] = uint8_t(nk - (((t >> 8) + t) >> 8));
    }
  }
}

Result fail(Status st, std::string msg) {
  Result r;
  r.status = st;
  r.message = std::move(msg);
  return r;
}

Result libjpegFailure(Codec& c, const char* what) {
  std::string m = c.err.message[0] ? c.err.message : "unknown libjpeg error";
  // libjpeg's messages for undecodable data: corrupt. Anything else (e.g. unsupported colour space,
  // out of memory) is reported as an error too; both name the file upstream.
  return fail(Status::Corrupt, std::string(what) + ": " + m);
}

// The smallest N in {1, 2, 4, 8} such that decoding at N/8 keeps the box at least gridW x gridH pixels.
// Only those scales: libjpeg-turbo has SIMD IDCTs for them, while its 3/8, 5/8, 6/8 and 7/8 IDCTs are
// plain C and cost about what they save (measured on 500x375 quality-90 files: 5% slower overall).
int chooseScale(const Plan& p, const Transform& t) {
  if (!t.dctScaling) return 8;
  for (int n = 1; n < 8; n *= 2) {
    if (int64_t(p.srcWidth) * n >= 8 * int64_t(p.gridW) && int64_t(p.srcHeight) * n >= 8 * int64_t(p.gridH)) return n;
  }
  return 8;
}

}  // namespace

bool available() { return true; }

std::string libraryVersion() {
#ifdef LIBJPEG_TURBO_VERSION
#define ICTORCH_STR2(x) #x
#define ICTORCH_STR(x) ICTORCH_STR2(x)
  return "libjpeg-turbo " ICTORCH_STR(LIBJPEG_TURBO_VERSION) " (API " + std::to_string(JPEG_LIB_VERSION) + ")";
#else
  return "libjpeg (API " + std::to_string(JPEG_LIB_VERSION) + ")";
#endif
}

Scratch::Scratch() = default;
Scratch::~Scratch() {
  if (codec) {
    auto* c = static_cast<Codec*>(codec);
    if (c->created) jpeg_destroy_decompress(&c->cinfo);
    delete c;
  }
}

namespace {

// Shared by decodeTransform and decodeFull: header, checks, plan, decode of the needed region, resample.
// With full = true the whole image is decoded to RGB HWC into s.rgb instead.
Result decodeImpl(const uint8_t* data, size_t size, const Transform* t, uint32_t seed, uint8_t* out, Scratch& s) {
  if (!isJpeg(data, size)) return fail(Status::NotJpeg, "not a JPEG file");
  Codec& c = codecOf(s);
  if (!ensureCreated(c)) return fail(Status::Error, std::string("libjpeg could not start: ") + c.err.message);
  Header h;
  if (!readHeader(c, data, size, h)) return libjpegFailure(c, "bad JPEG header");
  // Whatever happens next, the decompressor goes back to its idle state for the next image (decodeRows
  // aborts on its own; this covers the early returns; aborting twice is harmless).
  struct Reset {
    j_decompress_ptr ci;
    ~Reset() { jpeg_abort_decompress(ci); }
  } reset{&c.cinfo};
  Result r;
  r.width = h.width, r.height = h.height;
  if (h.width <= 0 || h.height <= 0) return fail(Status::Corrupt, "the JPEG header declares an empty image");
  if (int64_t(h.width) * h.height > kMaxPixels)
    return fail(Status::Error, "the image is " + std::to_string(h.width) + "x" + std::to_string(h.height) + " pixels, more than the " + std::to_string(kMaxPixels) + " allowed");
  if (!hasEndMarker(data, size, h.scanOffset)) return fail(Status::Corrupt, "the file is truncated (no end-of-image marker after the image data)");
  const size_t comps = h.cmyk ? 4 : 3;
  if (!t) {  // whole image, RGB HWC
    size_t stride = size_t(h.width) * comps;
    Bytes& dst = h.cmyk ? s.region : s.rgb;
    dst.resize(stride * h.height);
    int xoff = 0;
    if (!decodeRows(c, 8, h.cmyk, h.width, h.height, 0, h.width, 0, h.height, dst.data(), stride, &xoff)) return libjpegFailure(c, "cannot decode the JPEG data");
    if (h.cmyk) {
      s.rgb.resize(size_t(h.width) * 3 * h.height);
      cmykToRgb(s.region.data(), s.rgb.data(), size_t(h.width) * h.height);
    }
    return r;
  }
  Plan p;
  try {
    p = makePlan(h.width, h.height, *t, seed);
  } catch (const std::exception& e) {
    return fail(Status::Error, e.what());
  }
  const int num = chooseScale(p, *t);
  const int dw = int((int64_t(h.width) * num + 7) / 8), dh = int((int64_t(h.height) * num + 7) / 8);
  Geometry g = geometry(p, num, dw, dh, t->outW, t->outH, s);
  // Columns: a margin on both sides of what the resampling reads, so that chroma upsampling at the
  // decoded range's edges (which libjpeg treats as image edges) never touches the columns used; turbo's
  // crop also moves the start left to an iMCU boundary (at most 32 columns). Rows need no margin.
  constexpr int kMargin = 32;
  const int x0 = std::max(0, g.cx0 - kMargin), x1 = std::min(dw, g.cx1 + kMargin);
  const int rows = g.cy1 - g.cy0;
  const int maxWidth = std::min(dw, (x1 - x0) + kMargin);
  const size_t stride = size_t(maxWidth) * comps;
  s.region.resize(stride * rows + kSlack);
  int xoff = 0;
  if (!decodeRows(c, num, h.cmyk, dw, dh, x0, x1, g.cy0, g.cy1, s.region.data(), stride, &xoff)) return libjpegFailure(c, "cannot decode the JPEG data");
  if (xoff > g.cx0 || g.cx1 - xoff > maxWidth) return fail(Status::Error, "libjpeg cropped the columns unexpectedly");
  if (h.cmyk) {
    size_t rgbStride = size_t(maxWidth) * 3;
    s.rgb.resize(rgbStride * rows + kSlack);
    for (int y = 0; y < rows; ++y) cmykToRgb(s.region.data() + y * stride, s.rgb.data() + y * rgbStride, size_t(maxWidth));
    resample(s.rgb.data(), rgbStride, xoff, true, g, out, s);
  } else {
    resample(s.region.data(), stride, xoff, true, g, out, s);
  }
  return r;
}

}  // namespace

Result decodeTransform(const uint8_t* data, size_t size, const Transform& t, uint32_t seed, uint8_t* out, Scratch& s) {
  return decodeImpl(data, size, &t, seed, out, s);
}

Result decodeFull(const uint8_t* data, size_t size, Scratch& s) { return decodeImpl(data, size, nullptr, 0, nullptr, s); }

#else  // no libjpeg: every JPEG is handed back to the caller (which decodes it with sharp)

bool available() { return false; }
std::string libraryVersion() { return ""; }
Scratch::Scratch() = default;
Scratch::~Scratch() = default;

Result decodeTransform(const uint8_t* data, size_t size, const Transform&, uint32_t, uint8_t*, Scratch&) {
  Result r;
  r.status = Status::NotJpeg;
  r.message = isJpeg(data, size) ? "this build has no libjpeg" : "not a JPEG file";
  return r;
}
Result decodeFull(const uint8_t* data, size_t size, Scratch& s) { return decodeTransform(data, size, Transform(), 0, nullptr, s); }

#endif

}  // namespace jpeg
}  // namespace ictorch
