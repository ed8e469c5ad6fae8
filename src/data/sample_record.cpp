#include "data/sample_record.h"

#include <algorithm>
#include <cstring>

#include "bdl/core/error.h"
#include "bdl/core/tensor.h"

namespace bdl::data::detail {
namespace {

// The protobuf wire format: a key (field number, wire type) then a varint, a
// fixed 64 or 32 bits, or a length and that many bytes.
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLength = 2, kFixed32 = 5 };

struct Malformed {};

class Wire {
 public:
  Wire(const uint8_t* begin, const uint8_t* end) : p_(begin), end_(end) {}
  bool done() const { return p_ >= end_; }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) throw Malformed{};
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw Malformed{};
  }
  // A key: the field number, and the wire type in `type`.
  uint64_t key(uint32_t& type) {
    const uint64_t k = varint();
    type = static_cast<uint32_t>(k & 7);
    return k >> 3;
  }
  std::span<const uint8_t> bytes() {
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) throw Malformed{};
    std::span<const uint8_t> s(p_, static_cast<size_t>(n));
    p_ += n;
    return s;
  }
  uint32_t fixed32() {
    if (end_ - p_ < 4) throw Malformed{};
    uint32_t v;
    std::memcpy(&v, p_, 4);
    p_ += 4;
    return v;
  }
  void skip(uint32_t type) {
    switch (type) {
      case kVarint:
        varint();
        return;
      case kFixed64:
        if (end_ - p_ < 8) throw Malformed{};
        p_ += 8;
        return;
      case kLength:
        bytes();
        return;
      case kFixed32:
        fixed32();
        return;
      default:
        throw Malformed{};  // groups (3, 4) and unused types
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

Wire wire_of(std::span<const uint8_t> s) { return {s.data(), s.data() + s.size()}; }

float as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// A FloatList's values, packed or not, appended to `out`.
void read_floats(std::span<const uint8_t> list, std::vector<float>& out) {
  Wire w = wire_of(list);
  while (!w.done()) {
    uint32_t type;
    const uint64_t field = w.key(type);
    if (field == 1 && type == kLength) {
      const std::span<const uint8_t> packed = w.bytes();
      if (packed.size() % 4 != 0) throw Malformed{};
      if (packed.empty()) continue;  // (memcpy's pointers must not be null, even for 0 bytes)
      const size_t at = out.size();
      out.resize(at + packed.size() / 4);
      std::memcpy(out.data() + at, packed.data(), packed.size());
    } else if (field == 1 && type == kFixed32) {
      out.push_back(as_float(w.fixed32()));
    } else {
      w.skip(type);
    }
  }
}

void read_ints(std::span<const uint8_t> list, std::vector<int64_t>& out) {
  Wire w = wire_of(list);
  while (!w.done()) {
    uint32_t type;
    const uint64_t field = w.key(type);
    if (field == 1 && type == kLength) {
      Wire packed = wire_of(w.bytes());
      while (!packed.done()) out.push_back(static_cast<int64_t>(packed.varint()));
    } else if (field == 1 && type == kVarint) {
      out.push_back(static_cast<int64_t>(w.varint()));
    } else {
      w.skip(type);
    }
  }
}

// A BytesList's values: the count, and the last one seen.
void read_bytes(std::span<const uint8_t> list, SampleRecord& out) {
  Wire w = wire_of(list);
  while (!w.done()) {
    uint32_t type;
    const uint64_t field = w.key(type);
    if (field == 1 && type == kLength) {
      const std::span<const uint8_t> v = w.bytes();
      out.feature_bytes = {reinterpret_cast<const char*>(v.data()), v.size()};
      ++out.feature_byte_values;
    } else {
      w.skip(type);
    }
  }
}

// A Feature: the kind of its list (the last one set, as protobuf's oneof
// does) and the list's bytes. False when it holds no list.
bool read_feature(std::span<const uint8_t> feature, Feature::Kind& kind,
                  std::span<const uint8_t>& list) {
  Wire w = wire_of(feature);
  bool any = false;
  while (!w.done()) {
    uint32_t type;
    const uint64_t field = w.key(type);
    if (field >= 1 && field <= 3 && type == kLength) {
      list = w.bytes();
      kind = field == 1   ? Feature::Kind::bytes
             : field == 2 ? Feature::Kind::floats
                          : Feature::Kind::ints;
      any = true;
    } else {
      w.skip(type);
    }
  }
  return any;
}

void read_entry(std::span<const uint8_t> entry, SampleRecord& out, const std::string& where) {
  Wire w = wire_of(entry);
  std::string_view key;
  std::span<const uint8_t> value;
  while (!w.done()) {
    uint32_t type;
    const uint64_t field = w.key(type);
    if (field == 1 && type == kLength) {
      const auto k = w.bytes();
      key = {reinterpret_cast<const char*>(k.data()), k.size()};
    } else if (field == 2 && type == kLength) {
      value = w.bytes();
    } else {
      w.skip(type);
    }
  }
  const bool features = key == "features", shape = key == "shape", label = key == "label",
             weight = key == "weight";
  if (!features && !shape && !label && !weight) return;  // other fields are the writer's own
  Feature::Kind kind{};
  std::span<const uint8_t> list;
  if (!read_feature(value, kind, list)) {
    fail(where, ": feature \"", key, "\" holds no list");
  }
  // A key seen again replaces the earlier value, as in protobuf's maps.
  if (features) {
    out.has_features = true;
    out.features_kind = kind;
    out.feature_floats.clear();
    out.feature_byte_values = 0;
    out.feature_bytes = {};
    if (kind == Feature::Kind::bytes) {
      read_bytes(list, out);
    } else if (kind == Feature::Kind::floats) {
      read_floats(list, out.feature_floats);
    } else {
      fail(where, ": \"features\" is an int64_list; bdl reads bytes (u8) or floats");
    }
  } else if (shape) {
    BDL_CHECK(kind == Feature::Kind::ints, where, ": \"shape\" is a ", kind_name(kind),
              ", not an int64_list");
    out.has_shape = true;
    out.shape.clear();
    read_ints(list, out.shape);
  } else if (label) {
    BDL_CHECK(kind != Feature::Kind::bytes, where,
              ": \"label\" is a bytes_list; bdl reads an int64_list (a class) or floats");
    out.has_label = true;
    out.label_kind = kind;
    out.label_ints.clear();
    out.label_floats.clear();
    if (kind == Feature::Kind::ints) {
      read_ints(list, out.label_ints);
    } else {
      read_floats(list, out.label_floats);
    }
  } else {
    BDL_CHECK(kind == Feature::Kind::floats, where, ": \"weight\" is a ", kind_name(kind),
              ", not a float_list");
    out.has_weight = true;
    out.weight.clear();
    read_floats(list, out.weight);
  }
}

}  // namespace

int64_t SampleRecord::feature_elements() const {
  return features_kind == Feature::Kind::bytes ? static_cast<int64_t>(feature_bytes.size())
                                               : static_cast<int64_t>(feature_floats.size());
}

void read_sample_record(std::span<const uint8_t> bytes, SampleRecord& out,
                        const std::string& where) {
  out.has_features = out.has_shape = out.has_label = out.has_weight = false;
  try {
    Wire example = wire_of(bytes);
    while (!example.done()) {
      uint32_t type;
      const uint64_t field = example.key(type);
      if (field != 1 || type != kLength) {
        example.skip(type);
        continue;
      }
      Wire features = wire_of(example.bytes());
      while (!features.done()) {
        const uint64_t f = features.key(type);
        if (f == 1 && type == kLength) {
          read_entry(features.bytes(), out, where);
        } else {
          features.skip(type);
        }
      }
    }
  } catch (const Malformed&) {
    fail(where, ": not a tf.train.Example (", bytes.size(), " bytes)");
  }
  BDL_CHECK(out.has_features, where, ": the record has no \"features\" feature");
  BDL_CHECK(out.has_shape, where, ": the record has no \"shape\" feature");
  BDL_CHECK(out.has_label, where, ": the record has no \"label\" feature");
  BDL_CHECK(out.features_kind != Feature::Kind::bytes || out.feature_byte_values == 1, where,
            ": \"features\" as bytes must be one value (the sample's bytes), got ",
            out.feature_byte_values);
  int64_t needs = 1;  // the shape's elements, kept from overflowing
  for (int64_t d : out.shape) {
    BDL_CHECK(d >= 0 && d <= (int64_t{1} << 31), where, ": \"shape\" ", shape_str(out.shape),
              " has a dimension out of range");
    needs = std::min<int64_t>(needs * d, int64_t{1} << 40);
  }
  BDL_CHECK(needs == out.feature_elements(), where, ": \"features\" holds ", out.feature_elements(),
            " elements where \"shape\" ", shape_str(out.shape), " needs ", needs);
  BDL_CHECK(out.label_kind != Feature::Kind::ints || out.label_ints.size() == 1, where,
            ": \"label\" must be one class index, got ", out.label_ints.size(), " values");
  BDL_CHECK(!out.has_weight || out.weight.size() == 1, where,
            ": \"weight\" must be one value, got ", out.weight.size());
}

}  // namespace bdl::data::detail
