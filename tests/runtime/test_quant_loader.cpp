// vitrt_open on fp16 / int8 files: every encoding field is checked against
// the dtype, and a mismatch is refused with a message naming the tensor.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>

#include "quant/quantize.h"
#include "tiny_model.h"
#include "vitrt/vitrt_generated.h"

using namespace vitrt::test;
using vitrt::conv::DType;
namespace s = vitrt::schema;

namespace {

// Writes the tiny model with int8 Linears, lets `edit` patch the bytes in
// place (the FlatBuffers stay verifiable) and opens the result.
vitrt_status open_edited(const std::function<void(uint8_t* base, s::Model* m)>& edit,
                         std::string* error, DType dtype = DType::I8) {
  auto model = make_tiny({}, 30);
  vitrt::conv::set_weight_dtype(model, dtype, {});
  model.blocks[1].fc1.input_scale = dtype == DType::I8 ? 0.5f : 0.f;
  const auto file = vitrt::conv::write_model(model);
  Aligned bytes(file);
  edit(bytes.data(), const_cast<s::Model*>(s::GetModel(bytes.data())));
  vitrt_model m;
  const vitrt_status st = vitrt_open(&m, bytes.data(), bytes.size());
  *error = vitrt_last_error(&m);
  return st;
}

// A present scalar field of table `t`, written through the vtable.
template <typename T>
void set_field(const void* t, uint16_t vt_offset, T value) {
  const auto* table = reinterpret_cast<const flatbuffers::Table*>(t);
  auto* p = const_cast<uint8_t*>(table->GetAddressOf(vt_offset));
  REQUIRE(p != nullptr);
  std::memcpy(p, &value, sizeof(T));
}

// Shrinks a vector's length prefix: still in bounds, now the wrong size.
void shrink(const void* vector) {
  auto* len = reinterpret_cast<uint32_t*>(const_cast<void*>(vector));
  *len -= 1;
}

const s::Tensor* fc1_weight(s::Model* m) { return m->blocks()->Get(0)->fc1()->weight(); }

}  // namespace

TEST_CASE("int8 and fp16 files open; their encodings are checked exactly", "[unit][quant]") {
  std::string error;
  REQUIRE(open_edited([](uint8_t*, s::Model*) {}, &error) == VITRT_OK);
  REQUIRE(open_edited([](uint8_t*, s::Model*) {}, &error, DType::F16) == VITRT_OK);

  REQUIRE(open_edited([](uint8_t*, s::Model* m) { shrink(fc1_weight(m)->scales()); }, &error) ==
          VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "blocks[0].fc1.weight: 36 scales and 37 channel_sums, expected 37 each");

  REQUIRE(open_edited([](uint8_t*, s::Model* m) { shrink(fc1_weight(m)->channel_sums()); }, &error) ==
          VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "blocks[0].fc1.weight: 37 scales and 36 channel_sums, expected 37 each");

  // 37 x 27 pads to 48 x 28 in Blocked16x4.
  REQUIRE(open_edited([](uint8_t*, s::Model* m) { shrink(fc1_weight(m)->data()); }, &error) ==
          VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "blocks[0].fc1.weight: data has 1343 bytes, expected 1344");
  REQUIRE(open_edited([](uint8_t*, s::Model* m) { shrink(fc1_weight(m)->data()); }, &error,
                      DType::F16) == VITRT_ERR_INVALID_MODEL);
  // F16 37 x 27 pads to 48 x 27 in Panel16.
  REQUIRE(error == "blocks[0].fc1.weight: data has 2591 bytes, expected 2592");

  REQUIRE(open_edited([](uint8_t*, s::Model* m) {
            const_cast<float*>(fc1_weight(m)->scales()->data())[3] = 0.f;
          }, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "blocks[0].fc1.weight.scales[3]: not positive and finite");
}

TEST_CASE("dtype, layout and input_scale mismatches are refused by name", "[unit][quant]") {
  std::string error;
  // Row-major int8 is a valid schema layout this runtime does not read.
  REQUIRE(open_edited([](uint8_t*, s::Model* m) {
            set_field(fc1_weight(m), s::Tensor::VT_LAYOUT, s::WeightLayout::RowMajor);
          }, &error) == VITRT_ERR_UNSUPPORTED);
  REQUIRE(error.find("blocks[0].fc1.weight: layout 0") == 0);
  REQUIRE(open_edited([](uint8_t*, s::Model* m) {
            set_field(fc1_weight(m), s::Tensor::VT_LAYOUT, int8_t{9});
          }, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(open_edited([](uint8_t*, s::Model* m) {
            set_field(fc1_weight(m), s::Tensor::VT_DTYPE, s::DType::I32);
          }, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "blocks[0].fc1.weight: dtype 3 is not F32, F16 or I8");
  // An I8 weight relabelled F16: Blocked16x4 is no layout for F16.
  REQUIRE(open_edited([](uint8_t*, s::Model* m) {
            set_field(fc1_weight(m), s::Tensor::VT_DTYPE, s::DType::F16);
          }, &error) == VITRT_ERR_UNSUPPORTED);

  // A Panel16 F32 weight relabelled RowMajor: its padded panels no longer
  // fit the shape (37 x 27 floats, padded to 48 rows).
  REQUIRE(open_edited([](uint8_t*, s::Model* m) {
            set_field(fc1_weight(m), s::Tensor::VT_LAYOUT, s::WeightLayout::RowMajor);
          }, &error, DType::F32) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "blocks[0].fc1.weight: data has 5184 bytes, expected 3996");
  // Panel16 is for Linear weights only.
  REQUIRE(open_edited([](uint8_t*, s::Model* m) {
            set_field(m->blocks()->Get(0)->fc1()->weight(), s::Tensor::VT_LAYOUT, s::WeightLayout::Blocked16x4);
          }, &error, DType::F32) == VITRT_ERR_UNSUPPORTED);
  REQUIRE(error.find("blocks[0].fc1.weight: layout 1, this runtime reads F32/F16 RowMajor (0), and Panel16 (2)") == 0);

  for (float bad : {-1.f, NAN, INFINITY}) {
    REQUIRE(open_edited([bad](uint8_t*, s::Model* m) {
              set_field(m->blocks()->Get(1)->fc1(), s::Linear::VT_INPUT_SCALE, bad);
            }, &error) == VITRT_ERR_INVALID_MODEL);
    REQUIRE(error == "blocks[1].fc1.input_scale: must be 0, or positive and finite with I8 weights");
  }
}

TEST_CASE("F16 and I8 are allowed for Linear weights only", "[unit][quant]") {
  auto open = [](vitrt::conv::Model model, std::string* error) {
    Aligned bytes(vitrt::conv::write_model(model));
    vitrt_model m;
    const vitrt_status st = vitrt_open(&m, bytes.data(), bytes.size());
    *error = vitrt_last_error(&m);
    return st;
  };
  std::string error;
  auto model = make_tiny({}, 31);
  model.blocks[0].norm1.weight.dtype = DType::F16;
  REQUIRE(open(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "blocks[0].norm1.weight: F16 and I8 are only allowed for Linear weights");

  model = make_tiny({}, 31);
  model.pos_embed.dtype = DType::I8;
  REQUIRE(open(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "pos_embed: F16 and I8 are only allowed for Linear weights");

  model = make_tiny({}, 31);
  model.head.bias.dtype = DType::F16;
  REQUIRE(open(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "head.bias: F16 and I8 are only allowed for Linear weights");

  model = make_tiny({}, 31);
  model.blocks[0].qkv.input_scale = 0.1f;  // a static scale on an fp32 Linear
  REQUIRE(open(model, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "blocks[0].qkv.input_scale: must be 0, or positive and finite with I8 weights");
}
