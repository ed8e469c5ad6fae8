#include "bdl/data/example.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "bdl/core/error.h"
#include "src/data/example.pb.h"

namespace bdl::data {

Feature Feature::of_bytes(std::string value) {
  Feature f;
  f.kind = Kind::bytes;
  f.bytes.push_back(std::move(value));
  return f;
}

Feature Feature::of_floats(std::vector<float> values) {
  Feature f;
  f.kind = Kind::floats;
  f.floats = std::move(values);
  return f;
}

Feature Feature::of_ints(std::vector<int64_t> values) {
  Feature f;
  f.kind = Kind::ints;
  f.ints = std::move(values);
  return f;
}

size_t Feature::size() const {
  switch (kind) {
    case Kind::bytes:
      return bytes.size();
    case Kind::floats:
      return floats.size();
    case Kind::ints:
      return ints.size();
  }
  return 0;
}

const char* kind_name(Feature::Kind kind) {
  switch (kind) {
    case Feature::Kind::bytes:
      return "bytes_list";
    case Feature::Kind::floats:
      return "float_list";
    case Feature::Kind::ints:
      return "int64_list";
  }
  return "?";
}

std::string encode_example(const Example& example) {
  tensorflow::Example message;
  auto& features = *message.mutable_features()->mutable_feature();
  for (const auto& [name, f] : example) {
    tensorflow::Feature& out = features[name];
    switch (f.kind) {
      case Feature::Kind::bytes:
        for (const auto& b : f.bytes) out.mutable_bytes_list()->add_value(b);
        out.mutable_bytes_list();
        break;
      case Feature::Kind::floats:
        out.mutable_float_list()->mutable_value()->Add(f.floats.begin(), f.floats.end());
        break;
      case Feature::Kind::ints:
        out.mutable_int64_list()->mutable_value()->Add(f.ints.begin(), f.ints.end());
        break;
    }
  }
  // Map order is unspecified on the wire: deterministic output keeps shards
  // written twice byte-identical.
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  BDL_CHECK(message.SerializeToCodedStream(&coded), "cannot encode an Example");
  coded.Trim();
  return bytes;
}

Example decode_example(std::span<const uint8_t> bytes, const std::string& where) {
  tensorflow::Example message;
  BDL_CHECK(message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())), where,
            ": not a tf.train.Example (", bytes.size(), " bytes)");
  Example out;
  for (const auto& [name, f] : message.features().feature()) {
    Feature g;
    switch (f.kind_case()) {
      case tensorflow::Feature::kBytesList:
        g.kind = Feature::Kind::bytes;
        g.bytes.assign(f.bytes_list().value().begin(), f.bytes_list().value().end());
        break;
      case tensorflow::Feature::kFloatList:
        g.kind = Feature::Kind::floats;
        g.floats.assign(f.float_list().value().begin(), f.float_list().value().end());
        break;
      case tensorflow::Feature::kInt64List:
        g.kind = Feature::Kind::ints;
        g.ints.assign(f.int64_list().value().begin(), f.int64_list().value().end());
        break;
      case tensorflow::Feature::KIND_NOT_SET:
        throw Error(detail::concat(where, ": feature \"", name, "\" holds no list"));
    }
    out.emplace(name, std::move(g));
  }
  return out;
}

}  // namespace bdl::data
