#include <catch2/catch.hpp>

#include <chrono>

#include "readers/unwrap.h"

using namespace vitrt::conv;
using K = PyValue::Kind;

namespace {

PyRef value(K kind, const std::string& text = "") {
  auto v = std::make_shared<PyValue>();
  v->kind = kind;
  v->text = text;
  return v;
}

PyRef tensor(int64_t n) {
  PyRef t = value(K::Tensor);
  t->tensor.shape = {n};
  return t;
}

PyRef dict(std::vector<std::pair<std::string, PyRef>> items) {
  PyRef d = value(K::Dict);
  for (auto& [k, v] : items) d->entries.emplace_back(value(K::String, k), v);
  return d;
}

std::vector<std::string> names(const StateDict& sd) {
  std::vector<std::string> n;
  for (const auto& [name, t] : sd.tensors) n.push_back(name);
  return n;
}

}  // namespace

TEST_CASE("unwrap: a plain state dict keeps its tensors and drops other leaves", "[unit]") {
  StateDict sd = unwrap_state_dict(dict({{"a.weight", tensor(2)}, {"n", value(K::Int)}, {"b", tensor(3)}}), "m.pth");
  CHECK(names(sd) == std::vector<std::string>{"a.weight", "b"});
  CHECK(sd.tensors.at("b").shape == std::vector<int64_t>{3});
  CHECK(sd.origin == "checkpoint");
}

TEST_CASE("unwrap: training checkpoints give the state dict under a known key", "[unit]") {
  PyRef optimizer = dict({{"state", dict({{"m", tensor(9)}})}});
  StateDict sd = unwrap_state_dict(
      dict({{"epoch", value(K::Int)}, {"optimizer", optimizer}, {"state_dict", dict({{"w", tensor(1)}})}}), "m.pth");
  CHECK(names(sd) == std::vector<std::string>{"w"});
  CHECK(sd.origin == "checkpoint['state_dict']");

  // state_dict is preferred over model, wherever they appear.
  sd = unwrap_state_dict(dict({{"model", dict({{"m", tensor(1)}})}, {"state_dict", dict({{"s", tensor(1)}})}}), "m.pth");
  CHECK(names(sd) == std::vector<std::string>{"s"});

  // Nested wrappers; an empty preferred entry falls through to the next.
  sd = unwrap_state_dict(
      dict({{"state_dict", dict({})}, {"model", dict({{"module", dict({{"x", tensor(1)}})}})}}), "m.pth");
  CHECK(names(sd) == std::vector<std::string>{"x"});
  CHECK(sd.origin == "checkpoint['model']['module']");
}

TEST_CASE("unwrap: a module. prefix on every name is removed; MoCo names are kept", "[unit]") {
  StateDict sd = unwrap_state_dict(
      dict({{"state_dict", dict({{"module.base_encoder.w", tensor(1)}, {"module.momentum_encoder.w", tensor(1)}})}}),
      "m.pth");
  CHECK(names(sd) == std::vector<std::string>{"base_encoder.w", "momentum_encoder.w"});
  CHECK(sd.origin == "checkpoint['state_dict'], 'module.' prefix removed");

  sd = unwrap_state_dict(dict({{"module.a", tensor(1)}, {"b", tensor(1)}}), "m.pth");
  CHECK(names(sd) == std::vector<std::string>{"b", "module.a"});
}

TEST_CASE("unwrap: the module. prefix is removed from any format's tensor map", "[unit]") {
  TensorMap all{{"module.a", {}}, {"module.b.c", {}}};
  CHECK(strip_data_parallel_prefix(all));
  CHECK(all.count("a") == 1);
  CHECK(all.count("b.c") == 1);
  TensorMap some{{"module.a", {}}, {"b", {}}};
  CHECK_FALSE(strip_data_parallel_prefix(some));
  CHECK(some.count("module.a") == 1);
  TensorMap none;
  CHECK_FALSE(strip_data_parallel_prefix(none));
}

TEST_CASE("unwrap: --key picks one of several state dicts; a missing key lists those present", "[unit]") {
  const PyRef ckpt = dict({{"model", dict({{"m", tensor(1)}})},
                           {"model_ema", dict({{"module.e", tensor(2)}})},
                           {"teacher", dict({{"state_dict", dict({{"t", tensor(3)}})}})},
                           {"epoch", value(K::Int)}});
  CHECK(unwrap_state_dict(ckpt, "m.pth").tensors.count("m"));  // the default search
  StateDict sd = unwrap_state_dict(ckpt, "m.pth", "model_ema");
  CHECK(sd.tensors.count("e"));
  CHECK(sd.origin == "checkpoint['model_ema'], 'module.' prefix removed");
  sd = unwrap_state_dict(ckpt, "m.pth", "teacher");  // searched inside as without --key
  CHECK(sd.tensors.count("t"));
  CHECK(sd.origin == "checkpoint['teacher']['state_dict']");
  CHECK_THROWS_WITH(unwrap_state_dict(ckpt, "m.pth", "student"),
                    "m.pth: --key student: no such key; the checkpoint is a dict with keys model (dict), "
                    "model_ema (dict), teacher (dict), epoch (int)");
  CHECK_THROWS_WITH(unwrap_state_dict(ckpt, "m.pth", "epoch"),
                    "m.pth: --key epoch: checkpoint['epoch'] holds no tensors; it is an int");
  CHECK_THROWS_WITH(unwrap_state_dict(value(K::List), "m.pth", "model"),
                    Catch::Contains("no such key; the checkpoint is a list"));
}

TEST_CASE("unwrap: checkpoint['arch'] is kept when it is a string", "[unit]") {
  StateDict sd = unwrap_state_dict(
      dict({{"arch", value(K::String, "vit_small")}, {"state_dict", dict({{"w", tensor(1)}})}}), "m.pth");
  CHECK(sd.arch == "vit_small");
  CHECK(unwrap_state_dict(dict({{"arch", value(K::Int)}, {"w", tensor(1)}}), "m.pth").arch.empty());
  CHECK(unwrap_state_dict(dict({{"w", tensor(1)}}), "m.pth").arch.empty());
}

TEST_CASE("unwrap: no tensors is an error naming the keys; cycles end", "[unit]") {
  try {
    unwrap_state_dict(dict({{"teacher", dict({{"w", tensor(1)}})}, {"epoch", value(K::Int)}}), "m.pth");
    FAIL("no error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) ==
          "m.pth: no tensors found: expected a state dict, or one under state_dict, model_state_dict, model_state, "
          "model, module, net, network; the checkpoint is a dict with keys teacher (dict), epoch (int) "
          "(--key NAME picks one)");
  }
  CHECK_THROWS_WITH(unwrap_state_dict(value(K::List), "m.pth"), Catch::Contains("the checkpoint is a list"));

  PyRef loop = dict({});
  loop->entries.emplace_back(value(K::String, "model"), loop);
  CHECK_THROWS_AS(unwrap_state_dict(loop, "m.pth"), std::runtime_error);
  loop->entries.clear();  // break the cycle so the test does not leak
}

TEST_CASE("unwrap: each dict is searched once, however often it is referenced", "[unit]") {
  const char* keys[] = {"state_dict", "model_state_dict", "model_state", "model", "module", "net", "network"};
  // Every key of a dict leads back to itself: 7^9 searches before.
  PyRef self = dict({});
  for (const char* k : keys) self->entries.emplace_back(value(K::String, k), self);
  // A chain of dicts whose every key leads to the next one.
  std::vector<PyRef> chain{dict({{"n", value(K::Int)}})};
  for (int i = 0; i < 12; ++i) {
    PyRef d = dict({});
    for (const char* k : keys) d->entries.emplace_back(value(K::String, k), chain.back());
    chain.push_back(d);
  }
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(unwrap_state_dict(self, "m.pth"), Catch::Contains("no tensors found"));
  CHECK_THROWS_WITH(unwrap_state_dict(chain.back(), "m.pth"), Catch::Contains("no tensors found"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));  // was 40+ s
  self->entries.clear();  // break the cycle so the test does not leak
}
