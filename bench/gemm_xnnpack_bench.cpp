// Times the fp32 GEMM of ViT Linears at batch 1 (M = 197 tokens), one
// thread: ours (AVX-512F, and AVX2 for scale) over Panel16 weights against
// XNNPACK, (b) as the xnnpack kernel set runs it (per call: create, i.e. pack,
// + setup + run + delete, per 16-column panel) and (c) with one operator
// created beforehand over the whole [N][K] weights (packing excluded: the
// best XNNPACK can do). Variants are interleaved within each repeat; the
// report is the median over repeats. Built only with VITRT_WITH_XNNPACK.
//   vitrt-gemm-xnnpack-bench [--reps 7] [--min-ms 40]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/x86/x86_kernels.h"
#include "kernels/xnnpack/xnnpack_kernels.h"

namespace k = vitrt::kernels;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Seconds per call of f, calls repeated until they last min_s.
template <typename F>
double per_call(F&& f, double min_s) {
  f();  // warm: weights into cache as far as they fit, code paged in
  int calls = 0;
  const double t0 = now_s();
  double t = 0;
  do {
    f();
    ++calls;
    t = now_s() - t0;
  } while (t < min_s);
  return t / calls;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// [N][K] row-major to Panel16 ([ceil(N/16)][K][16], zero padded).
std::vector<float> panel16(const std::vector<float>& w, int n, int k) {
  std::vector<float> p(size_t((n + 15) / 16) * 16 * k, 0.f);
  for (int j = 0; j < n; ++j)
    for (int q = 0; q < k; ++q) p[(size_t(j / 16) * k + q) * 16 + j % 16] = w[size_t(j) * k + q];
  return p;
}

template <typename T>
struct Aligned {  // 64-byte aligned, as the arena's buffers
  explicit Aligned(size_t n)
      : p(static_cast<T*>(aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64))) {}
  ~Aligned() { free(p); }
  T* p;
};

struct Shape {
  const char* model;
  const char* linear;
  int k, n;
};

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  double min_ms = 40;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc) min_ms = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--reps 7] [--min-ms 40]\n", argv[0]);
      return 2;
    }
  }
  const char* why = "";
  const k::Ops* xnn = k::find_ops("xnnpack", &why);  // also initializes XNNPACK
  const k::CpuX86& cpu = k::cpu_x86();
  if (!xnn || !(cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512dq)) {
    printf("needs the xnnpack set (%s) and AVX-512F/BW/VL/DQ\n", xnn ? "ok" : why);
    return 77;
  }
  const int m = 197;
  const Shape shapes[] = {{"ViT-B", "qkv", 768, 2304},  {"ViT-B", "proj", 768, 768},
                          {"ViT-B", "fc1", 768, 3072},  {"ViT-B", "fc2", 3072, 768},
                          {"DeiT-Ti", "qkv", 192, 576}, {"DeiT-Ti", "fc1", 192, 768},
                          {"DeiT-Ti", "fc2", 768, 192}};
  printf("fp32 GEMM, M = %d, 1 thread, median of %d repeats (each >= %.0f ms of calls), "
         "bias epilogue\n", m, reps, min_ms);
  printf("%-8s %-5s %5s %5s | %-16s | %-16s | %-16s | %-16s | b==c  max|b-a|/|a|\n", "model",
         "op", "K", "N", "(a) ours avx512", "(d) ours avx2", "(b) xnn per call",
         "(c) xnn prepacked");
  printf("%-8s %-5s %5s %5s | %-16s | %-16s | %-16s | %-16s |\n", "", "", "", "", "  ms    GMAC/s",
         "  ms    GMAC/s", "  ms    GMAC/s", "  ms    GMAC/s");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (const Shape& s : shapes) {
    const int K = s.k, N = s.n;
    std::vector<float> w(size_t(N) * K), bias(N);
    Aligned<float> x(size_t(m) * K), ya(size_t(m) * N), yb(size_t(m) * N), yc(size_t(m) * N),
        scratch(k::gemm_scratch_floats(K));
    for (size_t i = 0; i < size_t(m) * K; ++i) x.p[i] = u(rng);
    for (float& v : w) v = u(rng);
    for (float& v : bias) v = u(rng);
    const std::vector<float> wp = panel16(w, N, K);
    const k::FloatWeights fw{wp.data(), k::WeightFormat::F32Panel16};
    const k::Epilogue e{bias.data(), k::Act::None, false};

    // (c): one operator, packed once; its memory from a region of our own.
    const size_t region_bytes = size_t(N) * (K + 1) * 4 + (1 << 20);
    Aligned<char> region(region_bytes);
    k::xnnpack_region(region.p, region_bytes);
    xnn_operator_t op = nullptr;
    const xnn_status created = xnn_create_fully_connected_nc_f32(
        K, N, K, N, w.data(), bias.data(), -INFINITY, INFINITY, 0, &op);
    k::xnnpack_region(nullptr, 0);
    if (created != xnn_status_success) {
      printf("xnn_create_fully_connected_nc_f32 failed (%d)\n", int(created));
      return 1;
    }

    auto run_a = [&] { k::gemm_f32_avx512f(x.p, m, K, fw, N, e, ya.p, N, scratch.p); };
    auto run_d = [&] { k::gemm_f32_avx2(x.p, m, K, fw, N, e, ya.p, N, scratch.p); };
    auto run_b = [&] { xnn->gemm(x.p, m, K, fw, N, e, yb.p, N, scratch.p); };
    auto run_c = [&] {
      xnn_setup_fully_connected_nc_f32(op, m, x.p, yc.p, nullptr);
      xnn_run_operator(op, nullptr);
    };
    std::vector<double> ta, td, tb, tc;
    for (int r = 0; r < reps; ++r) {  // interleaved: drift of the shared host hits all alike
      ta.push_back(per_call(run_a, min_ms * 1e-3));
      td.push_back(per_call(run_d, min_ms * 1e-3));
      tb.push_back(per_call(run_b, min_ms * 1e-3));
      tc.push_back(per_call(run_c, min_ms * 1e-3));
    }
    run_a();  // ya from the AVX-512 kernel for the check (run_d wrote it last)
    bool same = true;
    double err = 0, scale = 0;
    for (size_t i = 0; i < size_t(m) * N; ++i) {
      same = same && memcmp(&yb.p[i], &yc.p[i], 4) == 0;
      err = std::max(err, double(fabsf(yb.p[i] - ya.p[i])));
      scale = std::max(scale, double(fabsf(ya.p[i])));
    }
    xnn_delete_operator(op);
    const double gmac = double(m) * N * K * 1e-9;
    auto cell = [&](const std::vector<double>& t) {
      static char buf[4][32];
      static int at = 0;
      char* b = buf[at++ % 4];
      snprintf(b, 32, "%6.3f %7.1f", median(t) * 1e3, gmac / median(t));
      return b;
    };
    printf("%-8s %-5s %5d %5d | %-16s | %-16s | %-16s | %-16s | %-4s  %.1e\n", s.model, s.linear, K,
           N, cell(ta), cell(td), cell(tb), cell(tc), same ? "yes" : "NO", err / scale);
    fflush(stdout);
  }
  return 0;
}
