#include "bdl/data/record_shards.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "bdl/core/error.h"
#include "bdl/data/example.h"
#include "bdl/data/record_file.h"
#include "data/split_directory.h"

namespace bdl::data {
namespace {

namespace fs = std::filesystem;

Example example_of(const Dataset& d, int64_t i) {
  Example e;
  const Tensor& x = d.features();
  const int64_t per_sample = shape_numel(d.sample_shape());
  if (x.dtype() == DType::u8) {
    const auto* p = x.data<uint8_t>() + i * per_sample;
    e["features"] = Feature::of_bytes(
        std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(per_sample)));
  } else {
    const float* p = x.f32() + i * per_sample;
    e["features"] = Feature::of_floats(std::vector<float>(p, p + per_sample));
  }
  const Shape& shape = d.sample_shape();
  e["shape"] = Feature::of_ints(std::vector<int64_t>(shape.begin(), shape.end()));
  if (d.target_kind() == TargetKind::classes) {
    e["label"] = Feature::of_ints({d.targets().data<int64_t>()[i]});
  } else {
    const int64_t n = shape_numel(d.target_shape());
    const float* t = d.targets().f32() + i * n;
    e["label"] = Feature::of_floats(std::vector<float>(t, t + n));
  }
  if (d.weights().defined()) e["weight"] = Feature::of_floats({d.weights().f32()[i]});
  return e;
}

const Feature& field(const Example& e, const char* name, const std::string& where) {
  const auto it = e.find(name);
  BDL_CHECK(it != e.end(), where, ": the record has no \"", name, "\" feature");
  return it->second;
}

// One record's sample shape, checked against its features' element count.
Shape shape_of(const Example& e, const std::string& where) {
  const Feature& shape = field(e, "shape", where);
  const Feature& features = field(e, "features", where);
  BDL_CHECK(shape.kind == Feature::Kind::ints, where, ": \"shape\" is a ", kind_name(shape.kind),
            ", not an int64_list");
  Shape s(shape.ints.begin(), shape.ints.end());
  BDL_CHECK(features.kind != Feature::Kind::bytes || features.bytes.size() == 1, where,
            ": \"features\" as bytes must be one value (the sample's bytes), got ",
            features.bytes.size());
  const auto elements = static_cast<int64_t>(
      features.kind == Feature::Kind::bytes ? features.bytes[0].size() : features.size());
  BDL_CHECK(shape_numel(s) == elements, where, ": \"features\" holds ", elements,
            " elements where \"shape\" ", shape_str(s), " needs ", shape_numel(s));
  return s;
}

// Folds one record into the description (the first record sets what the
// others must agree with).
void describe_record(const Example& e, const std::string& where, ShardsInfo& info) {
  const Shape s = shape_of(e, where);
  const Feature& label = field(e, "label", where);
  const std::string features =
      field(e, "features", where).kind == Feature::Kind::bytes ? "u8 bytes" : "f32";
  const std::string targets = label.kind == Feature::Kind::ints ? "classes" : "values";
  if (info.samples == 0) {
    info.sample_shape = s;
    info.features = features;
    info.targets = targets;
    info.weighted = e.count("weight") > 0;
  }
  BDL_CHECK(s == info.sample_shape && features == info.features && targets == info.targets, where,
            ": a sample of shape ", shape_str(s), " (", features, ", ", targets,
            ") among samples of shape ", shape_str(info.sample_shape), " (", info.features, ", ",
            info.targets, ")");
  if (targets == "classes") {
    BDL_CHECK(label.ints.size() == 1 && label.ints[0] >= 0, where,
              ": \"label\" must be one class index, not negative");
    info.classes = std::max(info.classes, label.ints[0] + 1);
  } else {
    info.classes = static_cast<int64_t>(label.floats.size());
  }
  ++info.samples;
}

std::vector<fs::path> shard_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("part-", 0) == 0 && entry.path().extension() == ".tfrecord") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::string shard_name(int64_t shard, int64_t shards) {
  char name[64];
  std::snprintf(name, sizeof name, "part-%05lld-of-%05lld.tfrecord", static_cast<long long>(shard),
                static_cast<long long>(shards));
  return name;
}

void write_record_shards(const Dataset& dataset, const std::string& directory, Split split,
                         int64_t shards) {
  BDL_CHECK(shards > 0 && shards <= 99999, "shards: between 1 and 99999, got ", shards);
  BDL_CHECK(dataset.size() >= shards, dataset.name(), ": ", dataset.size(), " samples cannot fill ",
            shards, " shards");
  detail::replace_split_directory(directory, split, [&](const fs::path& dir) {
    const int64_t n = dataset.size();
    for (int64_t s = 0; s < shards; ++s) {
      RecordWriter out((dir / shard_name(s, shards)).string());
      for (int64_t i = s * n / shards; i < (s + 1) * n / shards; ++i) {
        out.write(encode_example(example_of(dataset, i)));
      }
      out.close();
    }
  });
}

bool is_record_shard_dir(const std::string& directory) {
  const fs::path dir = fs::path(directory) / "train";
  return fs::is_directory(dir) && !shard_files(dir).empty();
}

ShardsInfo describe_record_shards(const std::string& directory, Split split) {
  const fs::path dir = fs::path(directory) / detail::split_dir(split);
  BDL_CHECK(fs::is_directory(dir), dir.string(), ": not a directory");
  ShardsInfo info;
  std::string data;
  for (const fs::path& file : shard_files(dir)) {
    RecordReader reader(file.string());
    for (int64_t at = 0; reader.next(data); at = reader.offset()) {
      const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
      const std::string where = bdl::detail::concat(file.string(), ": record at byte ", at);
      describe_record(decode_example({bytes, data.size()}, where), where, info);
    }
    info.bytes += reader.file_size();
    ++info.shards;
  }
  BDL_CHECK(info.shards > 0, dir.string(), ": no part-*.tfrecord shards");
  return info;
}

}  // namespace bdl::data
