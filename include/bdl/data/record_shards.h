#pragma once

// Datasets as TFRecord shards of tf.train.Example records, the format Spark's
// TFRecord connector and TensorFlow write (issue 13):
//   DIR/{train,test}/part-NNNNN-of-MMMMM.tfrecord
// Each record is one sample:
//   "features"  its elements: one bytes value for u8 features (images stay a byte
//               a pixel), a float_list for f32 features;
//   "shape"     an int64_list, the sample's shape;
//   "label"     an int64_list of one class index, or a float_list of values;
//   "weight"    a float_list of one, when the dataset is weighted.
// Shards hold consecutive samples, in near-equal counts.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bdl/data/dataset.h"
#include "bdl/data/example.h"

namespace bdl::data {

// Writes `dataset` as `shards` shards of DIR/train or DIR/test. The split is
// written beside the old one and renamed into place: an older split there is
// replaced whole, and a failure leaves it as it was.
void write_record_shards(const Dataset& dataset, const std::string& directory, Split split,
                         int64_t shards);

// What a split's shards hold. Shards written by bdl carry a MANIFEST (DIR/split/
// MANIFEST: the description and each shard's samples and bytes), which is
// checked against the files there; a machine may hold only some of the shards
// (its workers' own), the others are marked absent. Shards without a MANIFEST,
// or all with read_all, are read through once (memory does not grow with the
// data), and errors name the shard and the record's byte offset.
struct ShardsInfo {
  int64_t shards = 0, samples = 0, bytes = 0;
  Shape sample_shape;
  std::string features;  // "u8" (one byte an element) or "f32"
  std::string targets;   // "classes" or "values"
  int64_t classes = 0;   // the largest class index plus one, or the values' size
  bool weighted = false;
  std::vector<std::string> files;  // the shards' paths, in order
  std::vector<int64_t> shard_samples, shard_bytes;
  std::vector<bool> present;  // on this machine
  bool from_manifest = false;
};
ShardsInfo describe_record_shards(const std::string& directory, Split split, bool read_all = false);
// The same, for samples made one at a time (memory does not grow with them):
// `make(i, example)` fills sample i of `samples` (in order); `description` holds
// what they all are (sample_shape, features, targets, classes, weighted).
void write_record_shards(int64_t samples, const ShardsInfo& description,
                         const std::function<void(int64_t, Example&)>& make,
                         const std::string& directory, Split split, int64_t shards);

// Record files named one by one (any names), read through once.
ShardsInfo describe_record_files(const std::vector<std::string>& files);
// A --data that is a glob pattern (holds *, ? or [), and the record files it
// matches, sorted; none is an error naming the pattern.
bool is_record_glob(const std::string& source);
std::vector<std::string> glob_record_files(const std::string& pattern);

// DIR/train holds part-*.tfrecord files.
bool is_record_shard_dir(const std::string& directory);
std::string shard_name(int64_t shard, int64_t shards);

}  // namespace bdl::data
