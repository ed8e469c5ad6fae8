#pragma once

// One sample's tf.train.Example record read in place, for streaming: the wire
// format walked directly (no message objects), the lists copied into buffers
// that keep their capacity from record to record, so reading allocates nothing
// once the buffers have grown. The layout is record_shards.h's: "features",
// "shape", "label", "weight".
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bdl/data/example.h"

namespace bdl::data::detail {

struct SampleRecord {
  Feature::Kind features_kind = Feature::Kind::floats;
  std::string_view feature_bytes;  // the one bytes value, into the record
  int64_t feature_byte_values = 0;
  std::vector<float> feature_floats;
  std::vector<int64_t> shape;
  Feature::Kind label_kind = Feature::Kind::ints;
  std::vector<int64_t> label_ints;
  std::vector<float> label_floats;
  std::vector<float> weight;
  bool has_features = false, has_shape = false, has_label = false, has_weight = false;
  // Elements of the features, of either kind.
  int64_t feature_elements() const;
};

// Reads `bytes` (which must outlive `out`'s views) into `out`. Throws
// bdl::Error naming `where` when the bytes are not an Example, or a field of
// the layout holds the wrong kind of list or disagrees with "shape".
void read_sample_record(std::span<const uint8_t> bytes, SampleRecord& out,
                        const std::string& where);

}  // namespace bdl::data::detail
