// libFuzzer target: a record's bytes read as a sample two ways (see
// fuzz/README.md): bdl's own wire reader for streaming
// (data::detail::read_sample_record) and protobuf's generated parser behind
// data::decode_example. Neither may crash; where both accept the bytes, they
// must agree on the sample.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "bdl/core/error.h"
#include "bdl/data/example.h"
#include "data/sample_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bdl::data;
  const std::span<const uint8_t> bytes(data, size);
  detail::SampleRecord record;
  bool streamed = false;
  try {
    detail::read_sample_record(bytes, record, "input");
    streamed = true;
  } catch (const bdl::Error&) {
  }
  Example example;
  try {
    example = decode_example(bytes, "input");
  } catch (const bdl::Error&) {
    return 0;
  }
  if (!streamed) return 0;
  const Feature& shape = example.at("shape");
  if (shape.ints != record.shape) std::abort();
  const Feature& features = example.at("features");
  if (features.kind != record.features_kind) std::abort();
  if (features.kind == Feature::Kind::bytes && features.bytes.back() != record.feature_bytes) {
    std::abort();
  }
  if (features.kind == Feature::Kind::floats &&
      (features.floats.size() != record.feature_floats.size() ||
       std::memcmp(features.floats.data(), record.feature_floats.data(),
                   features.floats.size() * sizeof(float)) != 0)) {
    std::abort();
  }
  const Feature& label = example.at("label");
  if (label.kind == Feature::Kind::ints && label.ints != record.label_ints) std::abort();
  return 0;
}
