// Times the GEMM and attention kernels of every supported kernel set on the
// shapes of a ViT at batch 1 (M = tokens), one thread, so a kernel's
// GMAC/s can be set against the CPU's peak (peak.cpp) without the rest of
// the forward pass around it. Weights are random; results are not checked
// here (tests/runtime/test_kernel_sets.cpp does that). Times are the
// thread's CPU time.
//   vitrt-kernel-bench [--dim 768 --mlp 3072 --heads 12 --tokens 197] [--reps N]
//                      [--sets amx,avx512vnni] [--json]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace k = vitrt::kernels;

namespace {

// This thread's CPU time: other processes on a shared machine then cost
// less (time slices they take are not counted; cache and core sharing are).
double now_s() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Median seconds of `reps` calls, each repeated until it lasts >= 20 ms.
template <typename F>
double median_seconds(F&& f, int reps) {
  f();  // warm up caches and the tile state
  int inner = 1;
  for (double t0 = now_s(); now_s() - t0 < 0.02; ++inner) f();
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_s();
    for (int i = 0; i < inner; ++i) f();
    times.push_back((now_s() - t0) / inner);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

struct Shape {
  const char* name;
  int m, k, n;
};

template <typename T>
std::vector<T> random_values(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(u(rng));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int dim = 768, mlp = 3072, heads = 12, tokens = 197, reps = 9;
  std::string sets_arg;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "vitrt-kernel-bench: %s needs a value\n", a.c_str());
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--dim") dim = atoi(next());
    else if (a == "--mlp") mlp = atoi(next());
    else if (a == "--heads") heads = atoi(next());
    else if (a == "--tokens") tokens = atoi(next());
    else if (a == "--reps") reps = atoi(next());
    else if (a == "--sets") sets_arg = next();
    else if (a == "--json") json = true;
    else {
      fprintf(stderr,
              "usage: vitrt-kernel-bench [--dim D --mlp H --heads N --tokens T] [--reps R]\n"
              "                          [--sets a,b] [--json]\n");
      return 2;
    }
  }
  if (dim <= 0 || mlp <= 0 || heads <= 0 || tokens <= 0 || reps <= 0 || dim % heads) {
    fprintf(stderr, "vitrt-kernel-bench: bad sizes\n");
    return 2;
  }
  const Shape shapes[] = {{"qkv", tokens, dim, 3 * dim},
                          {"proj", tokens, dim, dim},
                          {"fc1", tokens, dim, mlp},
                          {"fc2", tokens, mlp, dim}};
  const int kmax = std::max(dim, mlp), nmax = std::max(3 * dim, mlp);
  const auto x = random_values<float>(size_t(tokens) * kmax, -1.f, 1.f, 1);
  const auto xq = random_values<int8_t>(size_t(tokens) * kmax, -127.f, 127.f, 2);
  const auto xs = random_values<float>(size_t(tokens), 0.01f, 0.02f, 3);
  const auto wf = random_values<float>(size_t(kmax + 4) * (nmax + 16), -0.1f, 0.1f, 4);
  const auto wq = random_values<int8_t>(size_t(kmax + 4) * (nmax + 16), -127.f, 127.f, 5);
  const auto ws = random_values<float>(size_t(nmax), 0.001f, 0.002f, 6);
  const std::vector<int32_t> sums(size_t(nmax), 0);
  const auto bias = random_values<float>(size_t(nmax), -0.1f, 0.1f, 7);
  const auto qkv = random_values<float>(size_t(tokens) * 3 * dim, -1.f, 1.f, 8);
  std::vector<float> y(size_t(tokens) * nmax), out(size_t(tokens) * dim);
  std::vector<float> scratch(std::max(k::gemm_scratch_floats(kmax),
                                      k::attention_scratch_floats(tokens, dim / heads)));

  const char* const* names;
  const int count = k::kernel_set_names(&names);
  if (json) printf("[");
  bool first = true;
  for (int s = 0; s < count; ++s) {
    const char* why = nullptr;
    const k::Ops* ops = k::find_ops(names[s], &why);
    if (!sets_arg.empty() && ("," + sets_arg + ",").find("," + std::string(names[s]) + ",") ==
                                 std::string::npos)
      continue;
    if (!ops) {
      if (!json) printf("%-11s skipped: %s\n", names[s], why);
      continue;
    }
    auto report = [&](const char* op, const char* what, double macs, double sec) {
      if (json) {
        printf("%s{\"set\":\"%s\",\"op\":\"%s\",\"shape\":\"%s\",\"ms\":%.4f,\"gmacs\":%.1f}",
               first ? "" : ",", names[s], op, what, sec * 1e3, macs / sec * 1e-9);
        first = false;
      } else {
        printf("%-11s %-10s %-22s %8.3f ms %8.1f GMAC/s\n", names[s], op, what, sec * 1e3,
               macs / sec * 1e-9);
      }
      fflush(stdout);
    };
    for (const Shape& sh : shapes) {
      char what[64];
      snprintf(what, sizeof(what), "%s %dx%dx%d", sh.name, sh.m, sh.k, sh.n);
      const double macs = double(sh.m) * sh.k * sh.n;
      const k::Epilogue e{bias.data(), k::Act::None, false};
      const k::Qs8Weights w8{wq.data(), ws.data(), sums.data()};
      report("qs8_gemm", what,  macs, median_seconds([&] {
               ops->gemm_qs8(xq.data(), xs.data(), sh.m, sh.k, w8, sh.n, e, y.data(), sh.n);
             }, reps));
      const k::FloatWeights w32{wf.data(), k::WeightFormat::F32Panel16};
      report("f32_gemm", what, macs, median_seconds([&] {
               ops->gemm(x.data(), sh.m, sh.k, w32, sh.n, e, y.data(), sh.n, scratch.data());
             }, reps));
    }
    std::vector<int8_t> q(size_t(tokens) * kmax);
    std::vector<float> qs(static_cast<size_t>(tokens));
    for (int kq : {dim, mlp}) {
      char what[64];
      snprintf(what, sizeof(what), "%d rows x %d", tokens, kq);
      // Elements per second reported as "GMAC/s": one element = one unit.
      report("quantize", what, double(tokens) * kq, median_seconds([&] {
               ops->quantize_qs8(x.data(), tokens, kq, 0.f, q.data(), qs.data());
             }, reps));
    }
    const int hd = dim / heads;
    char what[64];
    snprintf(what, sizeof(what), "%d tok x %d heads x %d", tokens, heads, hd);
    report("attention", what, 2.0 * tokens * tokens * dim, median_seconds([&] {
             ops->attention(qkv.data(), out.data(), scratch.data(), tokens, heads, hd,
                            1.f / 8.f, 0, tokens);
           }, reps));
    if (ops->attention_bf16)
      report("attn_bf16", what, 2.0 * tokens * tokens * dim, median_seconds([&] {
               ops->attention_bf16(qkv.data(), out.data(), scratch.data(), tokens, heads, hd,
                                   1.f / 8.f, 0, tokens);
             }, reps));
  }
  if (json) printf("]\n");
  return 0;
}
