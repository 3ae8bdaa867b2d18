#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "cli.h"
#include "convert.h"
#include "families/mapper_util.h"
#include "options.h"
#include "families/timm_arch.h"

using namespace vitrt::conv;

namespace {

// A file under /tmp, removed when the test ends.
struct TempFile {
  explicit TempFile(const std::string& text)
      : path("/tmp/vitrt_conv_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++)) {
    std::ofstream(path) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
  static inline int counter = 0;
};

Options options(std::vector<std::string> args) { return parse_options(args); }

}  // namespace

TEST_CASE("arch: names, tags and unknown names", "[unit]") {
  HParams b = arch_hparams("vit_base_patch16_224.augreg_in21k_ft_in1k", "--arch x");
  CHECK(*b.dim == 768);
  CHECK(*b.depth == 12);
  CHECK(*b.heads == 12);
  CHECK(*b.mlp_dim == 3072);
  CHECK(*b.patch_h == 16);
  CHECK(*b.image_w == 224);
  CHECK(*b.mean == std::vector<float>{0.5f, 0.5f, 0.5f});
  CHECK(*b.crop_pct == 0.9f);
  CHECK(b.heads.source == "--arch x");

  HParams l = arch_hparams("vit_large_patch32_384", "s");
  CHECK(*l.dim == 1024);
  CHECK(*l.depth == 24);
  CHECK(*l.heads == 16);
  CHECK(*l.patch_w == 32);
  CHECK(*l.image_h == 384);
  CHECK(*l.crop_pct == 1.0f);

  HParams d = arch_hparams("deit_small_distilled_patch16_224", "s");
  CHECK(*d.dim == 384);
  CHECK(*d.heads == 6);
  CHECK(*d.dist_token);
  CHECK(*d.crop_pct == 0.875f);
  CHECK(*d.std == std::vector<float>{0.229f, 0.224f, 0.225f});
  CHECK_FALSE(*arch_hparams("deit_tiny_patch16_224", "s").dist_token);
  CHECK(*arch_hparams("deit_base_distilled_patch16_384", "s").image_h == 384);

  CHECK(known_archs().size() == 28);  // 16 ViT, 8 DeiT, 4 MoCo v3
  CHECK_FALSE(find_arch("deit_small_patch16_384", "s"));
  CHECK_THROWS_WITH(arch_hparams("vit_huge_patch14_224", "s"),
                    Catch::Contains("unknown architecture 'vit_huge_patch14_224'") &&
                        Catch::Contains("vit_tiny_patch16_224") && Catch::Contains("deit_base_distilled_patch16_384"));
}

TEST_CASE("options: flags and their errors", "[unit]") {
  Options o = options({"ck.safetensors", "-o", "out.vitrt", "--heads", "3", "--image-size", "224x160",
                       "--patch-size=8", "--pool", "mean", "--eps", "1e-5", "--mean", "0.5", "--std", "0.1,0.2,0.3"});
  CHECK(o.checkpoint == "ck.safetensors");
  CHECK(o.output == "out.vitrt");
  CHECK(*o.flags.heads == 3);
  CHECK(*o.flags.image_h == 224);
  CHECK(*o.flags.image_w == 160);
  CHECK(*o.flags.patch_h == 8);
  CHECK(*o.flags.patch_w == 8);
  CHECK(*o.flags.pool == Pool::Mean);
  CHECK(*o.flags.ln_eps == 1e-5f);
  CHECK(*o.flags.mean == std::vector<float>{0.5f});
  CHECK(o.flags.std->size() == 3);
  // Misuse is a UsageError (exit 2); --help is the shared main's, not an option here.
  CHECK_THROWS_AS(options({"ck", "-o", "x", "--heads", "0"}), vitrt::tools::UsageError);
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--frobnicate"}), "unknown option '--frobnicate'");

  Options pre = options({"ck", "-o", "x", "--crop-pct", "1", "--resize", "stretch", "--interpolation", "bilinear"});
  CHECK(*pre.flags.crop_pct == 1.0f);
  CHECK(*pre.flags.resize == 1);         // ResizeMode::Stretch
  CHECK(*pre.flags.interpolation == 0);  // Interpolation::Bilinear
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--crop-pct", "1.5"}), Catch::Contains("(0, 1]"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--resize", "pad"}), Catch::Contains("crop or stretch"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--interpolation", "nearest"}), Catch::Contains("bicubic or bilinear"));

  CHECK_THROWS_WITH(options({"ck"}), Catch::Contains("-o OUT"));
  CHECK_THROWS_WITH(options({"-o", "x"}), Catch::Contains("no checkpoint"));
  CHECK_THROWS_WITH(options({"a", "b", "-o", "x"}), Catch::Contains("one checkpoint"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--heads", "0"}), Catch::Contains("--heads"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--heads", "3x"}), Catch::Contains("--heads"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--image-size", "224x"}), Catch::Contains("--image-size"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--pool", "max"}), Catch::Contains("cls or mean"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--std", "0.2,0"}), Catch::Contains("positive"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--mean", "0.5,,1"}), Catch::Contains("--mean"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--dtype", "fp64"}), Catch::Contains("fp32"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--arch", "a", "--config", "c"}), Catch::Contains("not both"));
  CHECK_THROWS_WITH(options({"ck", "-o", "x", "--frobnicate", "1"}), Catch::Contains("unknown option '--frobnicate'"));
  CHECK_THROWS_WITH(options({"ck", "-o"}), Catch::Contains("needs a value"));
}

TEST_CASE("hparams: flags override config, config overrides its architecture", "[unit]") {
  TempFile config(R"({"architecture": "vit_small_patch16_224.augreg_in21k", "num_classes": 10,
    "global_pool": "avg", "model_args": {"img_size": 192},
    "pretrained_cfg": {"mean": [0.1, 0.2, 0.3], "crop_pct": 0.95, "interpolation": "bilinear", "crop_mode": "squash"},
    "label_names": ["a", "b"]})");
  HParams hp = gather_hparams(options({"ck", "-o", "x", "--config", config.path, "--image-size", "160", "--mean", "0.4"}));
  CHECK(*hp.heads == 6);  // from the architecture the config names
  CHECK(hp.heads.source == config.path + " architecture vit_small_patch16_224.augreg_in21k");
  CHECK(*hp.image_h == 160);  // flag > config (192) > architecture (224)
  CHECK(hp.image_h.source == "--image-size");
  CHECK(*hp.mean == std::vector<float>{0.4f});
  CHECK(*hp.std == std::vector<float>{0.5f, 0.5f, 0.5f});  // architecture
  CHECK(*hp.crop_pct == 0.95f);
  CHECK(*hp.interpolation == 0);
  CHECK(*hp.resize == 1);  // squash: straight to the model size
  CHECK(*hp.num_classes == 10);
  CHECK(*hp.pool == Pool::Mean);
  CHECK(*hp.labels == std::vector<std::string>{"a", "b"});

  TempFile labels("x\r\ny\nz\n");
  HParams l = gather_hparams(options({"ck", "-o", "x", "--arch", "deit_tiny_patch16_224", "--labels", labels.path}));
  CHECK(*l.labels == std::vector<std::string>{"x", "y", "z"});
  CHECK(*l.heads == 3);

  HParams none = gather_hparams(options({"ck", "-o", "x"}));
  CHECK_FALSE(none.heads);
  CHECK_FALSE(none.mean);
}

TEST_CASE("hparams: config forms and their errors", "[unit]") {
  auto from = [](const std::string& text) { return hparams_from_config(parse_json(text), "cfg.json"); };
  HParams hf = from(R"({"hidden_size": 192, "num_attention_heads": 3, "num_hidden_layers": 12,
    "intermediate_size": 768, "image_size": 224, "patch_size": 16, "num_channels": 3,
    "layer_norm_eps": 1e-12, "qkv_bias": true, "id2label": {"1": "dog", "0": "cat"}})");
  CHECK(*hf.dim == 192);
  CHECK(*hf.heads == 3);
  CHECK(*hf.mlp_dim == 768);
  CHECK(*hf.patch_w == 16);
  CHECK(*hf.ln_eps == 1e-12f);
  CHECK(*hf.labels == std::vector<std::string>{"cat", "dog"});

  HParams timm = from(R"({"architecture": "my_vit", "model_args": {"num_heads": 4, "embed_dim": 256,
    "mlp_ratio": 2.5, "patch_size": [14, 14], "class_token": false, "fc_norm": null},
    "pretrained_cfg": {"input_size": [1, 112, 96]}})");
  CHECK(*timm.arch == "my_vit");
  CHECK(*timm.heads == 4);
  CHECK(*timm.mlp_dim == 640);
  CHECK_FALSE(*timm.class_token);
  CHECK_FALSE(timm.fc_norm);  // null = timm's default
  CHECK(*timm.channels == 1);
  CHECK(*timm.image_h == 112);
  CHECK(*timm.image_w == 96);

  CHECK_THROWS_WITH(from(R"({"model_args": {"num_heads": "6"}})"),
                    Catch::Contains("cfg.json") && Catch::Contains("model_args.num_heads"));
  CHECK_THROWS_WITH(from(R"({"global_pool": "map"})"), Catch::Contains("not supported"));
  CHECK_THROWS_WITH(from(R"({"pretrained_cfg": {"interpolation": "nearest"}})"), Catch::Contains("nearest"));
  CHECK_THROWS_WITH(from(R"({"pretrained_cfg": {"crop_mode": "border"}})"), Catch::Contains("crop_mode \"border\" is not supported"));
  CHECK_THROWS_WITH(from(R"({"pretrained_cfg": {"input_size": [3, 224]}})"), Catch::Contains("input_size"));
  CHECK_THROWS_WITH(from(R"({"hidden_size": 8, "id2label": {"0": "a", "2": "b"}})"), Catch::Contains("id2label"));
  CHECK_THROWS_WITH(from(R"({"hidden_size": 8, "id2label": {" 0": "a"}})"), Catch::Contains("id2label"));
  CHECK_THROWS_WITH(from(R"({"hidden_size": 8, "hidden_act": "relu"})"), Catch::Contains("hidden_act"));
  CHECK_THROWS_WITH(from(R"({"model_args": {"mlp_ratio": 4}})"), Catch::Contains("embed_dim"));
  CHECK_THROWS_WITH(from("[]"), Catch::Contains("not a JSON object"));

  TempFile broken("{\"architecture\": ");
  CHECK_THROWS_WITH(gather_hparams(options({"ck", "-o", "x", "--config", broken.path})),
                    Catch::Contains("invalid JSON") && Catch::Contains("at byte"));
  CHECK_THROWS_WITH(gather_hparams(options({"ck", "-o", "x", "--config", "/nonexistent/c.json"})),
                    Catch::Contains("/nonexistent/c.json: no such file"));
  // Named as what they are, not read as an endless stream or as broken JSON.
  TempFile empty("");
  CHECK_THROWS_WITH(gather_hparams(options({"ck", "-o", "x", "--config", empty.path})), Catch::Contains("is empty"));
  CHECK_THROWS_WITH(gather_hparams(options({"ck", "-o", "x", "--config", "/tmp"})), Catch::Contains("/tmp: is a directory"));
}

TEST_CASE("hparams: heads cannot be inferred", "[unit]") {
  CHECK_THROWS_WITH(require_heads(HParams{}, 192),
                    "cannot infer the number of attention heads from the checkpoint; pass --heads N, --arch NAME or "
                    "--config FILE");
  HParams h;
  h.heads.set(5, "--heads");
  CHECK_THROWS_WITH(require_heads(h, 192), Catch::Contains("does not divide"));
  h.heads.set(4, "--heads");
  CHECK(require_heads(h, 192) == 4);
}

TEST_CASE("hparams: image geometry from pos_embed or flags", "[unit]") {
  HParams none;
  ImageGeometry g = resolve_geometry(none, 197, 1, 16, 16);
  CHECK(g.image_h == 224);
  CHECK_FALSE(g.pos_embed_patches_only);
  g = resolve_geometry(none, 196, 1, 16, 16);  // timm no_embed_class
  CHECK(g.image_w == 224);
  CHECK(g.pos_embed_patches_only);
  CHECK(resolve_geometry(none, 198, 2, 16, 16).image_h == 224);
  CHECK_THROWS_WITH(resolve_geometry(none, 141, 1, 16, 16), Catch::Contains("--image-size"));
  CHECK_THROWS_WITH(resolve_geometry(none, 0, 1, 16, 16), Catch::Contains("--image-size"));

  HParams wide;
  wide.image_h.set(224, "--image-size");
  wide.image_w.set(320, "--image-size");
  g = resolve_geometry(wide, 14 * 20 + 1, 1, 16, 16);
  CHECK(g.image_w == 320);
  CHECK(g.pos_grid == 0);
  // Another size than the checkpoint's 14x14 grid: resampled.
  g = resolve_geometry(wide, 197, 1, 16, 16);
  CHECK(g.pos_grid == 14);
  CHECK_FALSE(g.pos_embed_patches_only);
  g = resolve_geometry(wide, 196, 1, 16, 16);
  CHECK(g.pos_grid == 14);
  CHECK(g.pos_embed_patches_only);
  CHECK_THROWS_WITH(resolve_geometry(wide, 141, 1, 16, 16), Catch::Contains("280 patches") && Catch::Contains("no square grid"));
  wide.image_w.set(300, "--image-size");
  CHECK_THROWS_WITH(resolve_geometry(wide, 0, 1, 16, 16), Catch::Contains("not divisible"));
}

TEST_CASE("labels: trailing blank lines ignored; --arch 1000-class heads get ImageNet's", "[unit]") {
  TempFile trailing("a\nb\r\n\n \r\n\n");
  CHECK(*gather_hparams(options({"ck", "-o", "x", "--labels", trailing.path})).labels ==
        std::vector<std::string>{"a", "b"});
  TempFile blank("\n\n");
  CHECK_THROWS_WITH(gather_hparams(options({"ck", "-o", "x", "--labels", blank.path})), Catch::Contains("no labels"));

  const std::vector<std::string>& in1k = imagenet_labels();
  REQUIRE(in1k.size() == 1000);
  CHECK(in1k[0] == "tench");
  CHECK(in1k[1] == "goldfish");
  CHECK(in1k[207] == "golden retriever");
  CHECK(in1k[281] == "tabby");
  CHECK(in1k[999] == "toilet tissue");

  Model m;
  m.config.num_classes = 1000;
  std::vector<std::string> notes;
  finish_model(m, arch_hparams("deit_tiny_patch16_224", "--arch deit_tiny_patch16_224"), notes);
  CHECK(m.labels == in1k);
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("ImageNet-1k class names") && Catch::Contains("--arch deit_tiny_patch16_224"));
  // Another class count, or no known architecture: no names are made up.
  Model ten;
  ten.config.num_classes = 10;
  finish_model(ten, arch_hparams("deit_tiny_patch16_224", "--arch deit_tiny_patch16_224"), notes);
  CHECK(ten.labels.empty());
  Model plain;
  plain.config.num_classes = 1000;
  HParams stats;
  stats.mean.set({0.5f}, "--mean");
  stats.std.set({0.5f}, "--std");
  finish_model(plain, stats, notes);
  CHECK(plain.labels.empty());
}
