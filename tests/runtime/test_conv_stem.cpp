// ConvStem (MoCo v3): the conv kernel against a plain double loop, tiny
// ConvStem models against reference_vit.cpp, and open()'s stem checks.
#include <catch2/catch.hpp>

#include <random>
#include <thread>

#include "kernels/kernels.h"
#include "test_values.h"
#include "reference_vit.h"
#include "tiny_model.h"

using namespace vitrt::test;

namespace {

// 12x8 image -> (3x3 s2 p1, relu) 6x4 -> (2x2 s2 p0, no bias, no relu) 3x2
// grid, so the config's "patch" is 4x4.
TinyOptions conv_stem_options() {
  TinyOptions o;
  o.image_h = 12;
  o.image_w = 8;
  o.patch_h = o.patch_w = 4;
  o.stem_convs = {{5, 3, 2, 1, true, true}, {6, 2, 2, 0, false, false}};
  return o;
}

void thread_pool(void*, vitrt_task_fn fn, void* ctx, int ntasks) {
  std::vector<std::thread> threads;
  for (int t = 0; t < ntasks; ++t) threads.emplace_back(fn, ctx, t);
  for (auto& t : threads) t.join();
}

vitrt_status open_status(const vitrt::conv::Model& model, std::string* error) {
  std::vector<float> logits;
  return open_and_run(vitrt::conv::write_model(model), random_image(model, 1), &logits, error);
}

}  // namespace

TEST_CASE("conv2d matches a double loop on odd shapes", "[unit][kernels]") {
  struct Shape { int cin, h, w, cout, k, stride, pad; };
  const Shape shapes[] = {{3, 7, 5, 5, 3, 1, 1}, {3, 7, 5, 5, 3, 2, 1}, {3, 9, 6, 5, 3, 2, 0},
                          {5, 4, 7, 3, 1, 1, 0}, {2, 5, 5, 4, 2, 2, 1}, {1, 1, 1, 2, 3, 1, 1}};
  for (const Shape& s : shapes) {
    INFO("cin " << s.cin << " " << s.h << "x" << s.w << " cout " << s.cout << " k " << s.k << " stride "
                << s.stride << " pad " << s.pad);
    const int oh = (s.h + 2 * s.pad - s.k) / s.stride + 1, ow = (s.w + 2 * s.pad - s.k) / s.stride + 1;
    const auto x = random_floats(size_t(s.cin) * s.h * s.w, 1);
    const auto w = random_floats(size_t(s.cout) * s.cin * s.k * s.k, 2);
    const auto b = random_floats(size_t(s.cout), 3);
    for (bool relu : {false, true}) {
      for (bool with_bias : {false, true}) {
        // Two calls over split channel ranges, as two threads would make.
        std::vector<float> y(size_t(s.cout) * oh * ow, 123.f);
        const int split = s.cout / 2;
        for (auto [o0, o1] : {std::pair<int, int>{0, split}, {split, s.cout}})
          vitrt::kernels::conv2d_f32_ref(x.data(), s.cin, s.h, s.w, w.data(), with_bias ? b.data() : nullptr,
                                         s.k, s.k, s.stride, s.pad, y.data(), oh, ow, o0, o1, relu);
        for (int o = 0; o < s.cout; ++o)
          for (int i = 0; i < oh; ++i)
            for (int j = 0; j < ow; ++j) {
              double sum = with_bias ? b[o] : 0.0;
              for (int c = 0; c < s.cin; ++c)
                for (int p = 0; p < s.k; ++p)
                  for (int q = 0; q < s.k; ++q) {
                    const int yy = i * s.stride + p - s.pad, xx = j * s.stride + q - s.pad;
                    if (yy < 0 || yy >= s.h || xx < 0 || xx >= s.w) continue;
                    sum += double(w[((o * s.cin + c) * s.k + p) * s.k + q]) * x[(c * s.h + yy) * s.w + xx];
                  }
              if (relu && sum < 0) sum = 0;
              REQUIRE(y[(o * oh + i) * ow + j] == Approx(sum).margin(1e-5));
            }
      }
    }
  }
}

TEST_CASE("ConvStem ViT matches the reference, with any thread count", "[unit][forward]") {
  TinyOptions o = conv_stem_options();
  o.pre_logits = 13;  // MoCo's projector: two hidden Linears + ReLU, then the head
  o.pre_logits2 = 10;
  o.pre_logits_act = 3;
  const auto model = make_tiny(o, 21);
  const auto image = random_image(model, 22);
  const auto file = vitrt::conv::write_model(model);
  const std::vector<double> want = reference_logits(model, image);
  std::vector<float> one, many;
  std::string error;
  REQUIRE(open_and_run(file, image, &one, &error) == VITRT_OK);
  REQUIRE(one.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("logit " << i);
    REQUIRE(one[i] == Approx(want[i]).margin(1e-4).epsilon(1e-4));
  }
  for (int threads : {2, 3, 7}) {  // 7 > 6 channels: some tasks get none
    REQUIRE(open_and_run(file, image, &many, &error, threads, thread_pool) == VITRT_OK);
    REQUIRE(many == one);
  }
}

TEST_CASE("ConvStem shapes are checked at open", "[unit][loader]") {
  std::string error;
  auto model = make_tiny(conv_stem_options(), 23);
  model.config.stem = 0;  // Patchify, but stem_convs present
  REQUIRE(open_status(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "stem_convs: present, but config.stem is Patchify");

  model = make_tiny(conv_stem_options(), 23);
  model.stem_convs.clear();
  REQUIRE(open_status(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error.find("stem_convs: 0 convolutions") == 0);

  model = make_tiny(conv_stem_options(), 23);
  model.stem_convs[1].weight.shape = {6, 4, 2, 2};  // in channels 4, but conv 0 makes 5
  model.stem_convs[1].weight.data.resize(6 * 4 * 2 * 2);
  REQUIRE(open_status(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "stem_convs[1].weight: shape [6,4,2,2], expected [6,5,2,2]");

  model = make_tiny(conv_stem_options(), 23);
  model.stem_convs[1].stride = 1;  // 5x3 output, but 12x8 / 4x4 is a 3x2 grid
  REQUIRE(open_status(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "stem_convs: output grid 5x3, but image / patch gives 3x2");

  model = make_tiny(conv_stem_options(), 23);
  model.stem_convs[0].padding = -1;
  REQUIRE(open_status(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error.find("out of range") != std::string::npos);

  model = make_tiny(conv_stem_options(), 23);
  model.stem_convs[0].stride = 16;  // 12x8 -> 1x1 -> kernel 2 exceeds it
  REQUIRE(open_status(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error.find("stem_convs[1].weight: kernel 2x2 exceeds its padded 1x1 input") == 0);

  model = make_tiny(conv_stem_options(), 23);
  model.patch_embed.weight.shape = {27, 5};  // reads conv 1's 6 channels
  model.patch_embed.weight.data.resize(27 * 5);
  REQUIRE(open_status(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "patch_embed.weight: shape [27,5], expected [27,6]");
}
