// ic_fused_emulation.cc: runs the fused CUDA IC kernels' maths (native/ic/ic_fused.h) on the CPU, block by block
// and thread by thread as ic_cuda.cu launches it, and compares the results with a float64 reference computed
// from logical (n, c, h, w) indices: batch statistics, running statistics, the forward output with its dropout
// mask, and the backward's dx, dweight and dbias, for NCHW, channels-last and (N, C) inputs whose sizes take
// every code path (mask groups inside a plane or across channels, or not; one or many splits per channel).
// Also checks the Philox4x32-10 implementation against Random123's known-answer vectors. The block reductions
// (warp shuffles, shared memory) are device-only: here a block's threads are combined in order.
// Built and run by scripts/check-cuda.sh and test/ic-fused-emulation.test.ts (g++ -std=c++17 -Inative).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>
#include "ic/ic_fused.h"

using namespace ictorch::ic;
using namespace ictorch::ic::fused;

static int failures = 0;

static void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::printf("FAIL %s\n", what.c_str());
  }
}

static void checkPhilox() {
  struct Kat {
    uint32_t ctr[4], key[2], out[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}, {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    Bits4 r = philox4x32_10(Bits4{{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}}, k.key[0], k.key[1]);
    for (int i = 0; i < 4; ++i) check(r.v[i] == k.out[i], "philox4x32_10 known-answer vector");
  }
}

struct Case {
  int64_t N, C, H, W;
  bool channelsLast, twoD;
  int64_t sms;  // multiprocessors assumed by the launch configuration
  double p;
  bool idx32 = true;  // 32-bit channel arithmetic (false: the 64-bit path of tensors of 2^32 elements or more)
};

template <typename T>
static double maxAbs(const std::vector<T>& v) {
  double m = 0;
  for (T x : v) m = std::max(m, std::fabs(static_cast<double>(x)));
  return m;
}

template <typename T>
static void run(const Case& k, double tol) {
  const int64_t N = k.N, C = k.C, S = k.twoD ? 1 : k.H * k.W;
  const bool rows = k.twoD || k.channelsLast;
  const Shape sh{N, C, S, rows, k.idx32};
  const int64_t numel = N * C * S, M = N * S;
  char name[160];
  std::snprintf(name, sizeof(name), "%s [%lld, %lld%s] %s sms=%lld p=%.2f", sizeof(T) == 8 ? "float64" : "float32", (long long)N, (long long)C,
                k.twoD ? "" : (", " + std::to_string(k.H) + ", " + std::to_string(k.W)).c_str(), k.twoD ? "2-d" : k.channelsLast ? "channels-last" : "NCHW",
                (long long)k.sms, k.p);
  // Memory position of logical element (n, c, s), written independently of Shape::element.
  auto pos = [&](int64_t n, int64_t c, int64_t s) { return rows ? (n * S + s) * C + c : (n * C + c) * S + s; };

  std::mt19937_64 gen(static_cast<uint64_t>(numel * 31 + C));
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<T> x(numel), g(numel), w(C), b(C), rm(C, T(0.25)), rv(C, T(2));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < S; ++s) {
        x[pos(n, c, s)] = static_cast<T>(3.0 * c - 2 + (1 + 0.5 * c) * normal(gen));  // per-channel offset and spread
        g[pos(n, c, s)] = static_cast<T>(normal(gen));
      }
  for (int64_t c = 0; c < C; ++c) {
    w[c] = static_cast<T>(1 + 0.5 * normal(gen));
    b[c] = static_cast<T>(0.5 * normal(gen));
  }
  const uint64_t seed = 0x9e3779b97f4a7c15ull ^ static_cast<uint64_t>(numel), offset = 12;
  const uint32_t thr = keepThreshold(k.p);
  const T invKeep = static_cast<T>(1.0 / (1.0 - k.p)), eps = static_cast<T>(1e-5), momentum = static_cast<T>(0.1);

  // ---- forward, as cudaForward launches it
  int64_t P;
  std::vector<T> part;
  if (rows) {
    const int bx = rowsBlockX(C), by = kThreads / bx;
    const int64_t tiles = (C + bx - 1) / bx;
    P = splitsFor(tiles, M, by, k.sms);
    part.assign(C * P * 3, T(-1));
    for (int64_t tile = 0; tile < tiles; ++tile)
      for (int64_t p = 0; p < P; ++p) {
        int64_t begin, end;
        chunkOf(M, P, p, &begin, &end);
        for (int tx = 0; tx < bx; ++tx) {
          const int64_t c = tile * bx + tx;
          if (c >= C) continue;
          Moments<T> m{0, 0, 0};
          for (int ty = 0; ty < by; ++ty) m = combine(m, statsRowsThread<T, T>(x.data(), sh, c, begin, end, ty, by));
          T* q = &part[(c * P + p) * 3];
          q[0] = m.n, q[1] = m.mean, q[2] = m.m2;
        }
      }
  } else {
    P = splitsFor(C, M, kThreads, k.sms);
    part.assign(C * P * 3, T(-1));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < P; ++p) {
        int64_t begin, end;
        chunkOf(M, P, p, &begin, &end);
        Moments<T> m{0, 0, 0};
        for (int tid = 0; tid < kThreads; ++tid) m = combine(m, statsPlanesThread<T, T>(x.data(), sh, c, begin, end, tid, kThreads));
        T* q = &part[(c * P + p) * 3];
        q[0] = m.n, q[1] = m.mean, q[2] = m.m2;
      }
  }
  for (int64_t c = 0; c < C; ++c) {
    T n = 0;
    for (int64_t p = 0; p < P; ++p) n += part[(c * P + p) * 3];
    check(n == static_cast<T>(M), std::string(name) + ": every value of a channel counted once");
  }
  std::vector<T> mean(C), invstd(C), scale(C), shift(C), rmK = rm, rvK = rv;
  for (int64_t c = 0; c < C; ++c)
    finalizeForwardChannel<T>(part.data(), P, c, w.data(), b.data(), eps, momentum, invKeep, mean.data(), invstd.data(), scale.data(), shift.data(),
                              rmK.data(), rvK.data());
  std::vector<T> y(numel, T(12345));
  for (int64_t grp = 0; grp < (numel + 3) / 4; ++grp)
    forwardApplyGroup<T, T>(x.data(), y.data(), sh, mean.data(), scale.data(), shift.data(), groupBits(seed, offset, grp), grp, thr);

  // ---- float64 reference of the forward
  std::vector<double> rMean(C, 0), rVar(C, 0), yRef(numel);
  std::vector<char> keep(numel);
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) rMean[c] += x[pos(n, c, s)];
    rMean[c] /= M;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) rVar[c] += std::pow(x[pos(n, c, s)] - rMean[c], 2);
    rVar[c] /= M;
  }
  int64_t kept = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t e = pos(n, c, s);
        keep[e] = keepAt(seed, offset, e, thr);
        kept += keep[e];
        yRef[e] = keep[e] ? ((x[e] - rMean[c]) / std::sqrt(rVar[c] + 1e-5) * w[c] + b[c]) / (1 - k.p) : 0.0;
      }
  const double keptFrac = static_cast<double>(kept) / numel;
  check(std::fabs(keptFrac - (1 - k.p)) < 5 * std::sqrt(k.p * (1 - k.p) / numel) + 1e-12, std::string(name) + ": kept fraction " + std::to_string(keptFrac));
  auto close = [&](double a, double r, double scaleRef, const char* what, int64_t i) {
    if (!(std::fabs(a - r) <= tol * (std::fabs(r) + scaleRef))) {
      check(false, std::string(name) + ": " + what + "[" + std::to_string(i) + "] = " + std::to_string(a) + ", expected " + std::to_string(r));
      return false;
    }
    return true;
  };
  for (int64_t c = 0; c < C; ++c) {
    close(mean[c], rMean[c], 1, "mean", c);
    close(1 / (double(invstd[c]) * invstd[c]) - 1e-5, rVar[c], 1, "var", c);
    close(rmK[c], 0.9 * 0.25 + 0.1 * rMean[c], 1, "runningMean", c);
    close(rvK[c], 0.9 * 2 + 0.1 * rVar[c] * M / (M - 1), 1, "runningVar", c);
  }
  const double yScale = maxAbs(yRef);
  for (int64_t e = 0; e < numel; ++e)
    if (!close(y[e], yRef[e], yScale, "y", e)) break;

  // ---- backward, as cudaBackward launches it
  std::vector<T> bpart;
  if (rows) {
    const bool quads = C % 4 == 0;
    const int64_t units = quads ? C / 4 : C;
    const int bx = rowsBlockX(units), by = kThreads / bx;
    const int64_t tiles = (units + bx - 1) / bx;
    P = splitsFor(tiles, M, by, k.sms);
    bpart.assign(C * P * 2, T(0));
    for (int64_t tile = 0; tile < tiles; ++tile)
      for (int64_t p = 0; p < P; ++p) {
        int64_t begin, end;
        chunkOf(M, P, p, &begin, &end);
        for (int tx = 0; tx < bx; ++tx) {
          const int64_t u = tile * bx + tx;
          if (u >= units) continue;
          for (int ty = 0; ty < by; ++ty) {
            T s1[4], s2[4];
            if (quads) {
              backwardRowsThread<4, T, T>(g.data(), x.data(), sh, u, &mean[u * 4], begin, end, ty, by, seed, offset, thr, invKeep, s1, s2);
              for (int q = 0; q < 4; ++q) bpart[((u * 4 + q) * P + p) * 2] += s1[q], bpart[((u * 4 + q) * P + p) * 2 + 1] += s2[q];
            } else {
              backwardRowsThread<1, T, T>(g.data(), x.data(), sh, u, &mean[u], begin, end, ty, by, seed, offset, thr, invKeep, s1, s2);
              bpart[(u * P + p) * 2] += s1[0], bpart[(u * P + p) * 2 + 1] += s2[0];
            }
          }
        }
      }
  } else {
    const bool groups = S % 4 == 0;
    const int64_t items = M / (groups ? 4 : 1);
    P = splitsFor(C, items, kThreads, k.sms);
    bpart.assign(C * P * 2, T(0));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < P; ++p) {
        int64_t begin, end;
        chunkOf(items, P, p, &begin, &end);
        for (int tid = 0; tid < kThreads; ++tid) {
          T s1, s2;
          if (groups)
            backwardPlanesThread<4, T, T>(g.data(), x.data(), sh, c, mean[c], begin, end, tid, kThreads, seed, offset, thr, invKeep, &s1, &s2);
          else
            backwardPlanesThread<1, T, T>(g.data(), x.data(), sh, c, mean[c], begin, end, tid, kThreads, seed, offset, thr, invKeep, &s1, &s2);
          bpart[(c * P + p) * 2] += s1, bpart[(c * P + p) * 2 + 1] += s2;
        }
      }
  }
  std::vector<T> dw(C), db(C), gs(C), xs(C), sf(C), dx(numel, T(12345));
  for (int64_t c = 0; c < C; ++c)
    finalizeBackwardChannel<T>(bpart.data(), P, c, static_cast<T>(M), invstd.data(), w.data(), invKeep, dw.data(), db.data(), gs.data(), xs.data(), sf.data());
  for (int64_t grp = 0; grp < (numel + 3) / 4; ++grp)
    backwardApplyGroup<T, T>(g.data(), x.data(), dx.data(), sh, mean.data(), gs.data(), xs.data(), sf.data(), groupBits(seed, offset, grp), grp, thr);

  // ---- float64 reference of the backward (the mask from the forward reference)
  std::vector<double> S1(C, 0), S2(C, 0), dxRef(numel);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t e = pos(n, c, s);
        const double gy = keep[e] ? g[e] / (1 - k.p) : 0.0;
        S1[c] += gy;
        S2[c] += gy * (x[e] - rMean[c]);
      }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t e = pos(n, c, s);
        const double is = 1 / std::sqrt(rVar[c] + 1e-5);
        const double gy = keep[e] ? g[e] / (1 - k.p) : 0.0;
        dxRef[e] = w[c] * is * (gy - S1[c] / M - (x[e] - rMean[c]) * is * is * S2[c] / M);
      }
  std::vector<double> dwRef(C), dbRef(C);
  for (int64_t c = 0; c < C; ++c) {
    dwRef[c] = S2[c] / std::sqrt(rVar[c] + 1e-5);
    dbRef[c] = S1[c];
  }
  const double dwScale = maxAbs(dwRef), dbScale = maxAbs(dbRef), dxScale = maxAbs(dxRef);
  for (int64_t c = 0; c < C; ++c) {
    close(dw[c], dwRef[c], dwScale, "dweight", c);
    close(db[c], dbRef[c], dbScale, "dbias", c);
  }
  for (int64_t e = 0; e < numel; ++e)
    if (!close(dx[e], dxRef[e], dxScale, "dx", e)) break;
  std::printf("%s %s: P=%lld kept %.4f\n", failures ? "..." : "ok ", name, (long long)P, keptFrac);
}

int main() {
  checkPhilox();
  const Case cases[] = {
      {8, 8, 6, 6, false, false, 132, 0.3},    // planes, S % 4 == 0: mask groups inside a plane
      {8, 8, 6, 6, false, false, 1, 0.3},      // one split per channel
      {4, 6, 5, 5, false, false, 132, 0.3},    // planes, S % 4 != 0: groups across planes and channels
      {32, 16, 32, 32, false, false, 132, 0.05},  // ResNet-110 stage 1 at batch 32, many splits
      {8, 8, 6, 6, true, false, 132, 0.3},     // rows, C % 4 == 0: a group is 4 channels of a row
      {4, 6, 5, 5, true, false, 132, 0.3},     // rows, C % 4 != 0
      {16, 64, 8, 8, true, false, 132, 0.1},   // rows, wide tiles
      {8, 40, 7, 7, true, false, 8, 0.2},      // rows, a partial tile of channels
      {64, 12, 1, 1, false, true, 132, 0.3},   // (N, C)
      {30, 5, 1, 1, false, true, 132, 0.5},    // (N, C), C % 4 != 0
      {16, 8, 1, 1, false, false, 132, 0.3},   // (N, C, 1, 1): S = 1
      {4, 6, 5, 5, false, false, 132, 0.3, false},  // the 64-bit channel arithmetic
      {8, 40, 7, 7, true, false, 8, 0.2, false},
  };
  for (const Case& k : cases) {
    run<float>(k, 2e-4);
    run<double>(k, 1e-9);
  }
  if (failures) {
    std::printf("%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("all fused-kernel emulation checks passed\n");
  return 0;
}
