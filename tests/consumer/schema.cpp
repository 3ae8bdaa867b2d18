// C++ users may read the model file format itself: vitrt::schema brings
// vitrt/vitrt_generated.h and the FlatBuffers headers it was generated with,
// so this builds with neither flatc nor FlatBuffers installed.
//   vitrt-consumer-schema MODEL.vitrt
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include <vitrt/vitrt_generated.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: vitrt-consumer-schema MODEL.vitrt\n");
    return 1;
  }
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  // The runtime's own limits (runtime/src/model.cpp): a model has many tables.
  flatbuffers::Verifier verifier(data, bytes.size(), /*max_depth=*/16, /*max_tables=*/1 << 20);
  if (bytes.empty() || !vitrt::schema::VerifyModelBuffer(verifier)) {
    std::fprintf(stderr, "vitrt-consumer-schema: %s: not a valid vitrt model\n", argv[1]);
    return 1;
  }
  const vitrt::schema::Config* c = vitrt::schema::GetModel(data)->config();
  std::printf("schema: %dx%dx%d input, depth %d, dim %d, %d classes\n", c->channels(), c->image_h(),
              c->image_w(), c->depth(), c->dim(), c->num_classes());
  return 0;
}
