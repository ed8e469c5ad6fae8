#pragma once

// tf.train.Example records (a map from feature names to lists of bytes, floats
// or 64-bit integers), encoded and decoded without exposing protobuf.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace bdl::data {

struct Feature {
  enum class Kind { bytes, floats, ints };
  Kind kind = Kind::floats;
  std::vector<std::string> bytes;
  std::vector<float> floats;
  std::vector<int64_t> ints;

  static Feature of_bytes(std::string value);
  static Feature of_floats(std::vector<float> values);
  static Feature of_ints(std::vector<int64_t> values);
  // Elements in the list of its kind.
  size_t size() const;
};

const char* kind_name(Feature::Kind kind);

using Example = std::map<std::string, Feature>;

std::string encode_example(const Example& example);
// Throws bdl::Error naming `where` (a file and record offset) when the bytes are
// not an Example, or a feature holds no list.
Example decode_example(std::span<const uint8_t> bytes, const std::string& where);

}  // namespace bdl::data
