#include "bdl/job/data_source.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "bdl/data/csv.h"
#include "bdl/data/image_folder.h"
#include "bdl/data/npy.h"
#include "bdl/data/record_shards.h"

namespace bdl::job {
namespace {

namespace fs = std::filesystem;

// Token ids come as integers from NumPy; the layers take them as f32 values.
Tensor as_f32(Tensor t) {
  if (t.dtype() == DType::f32) return t;
  Tensor f(t.shape());
  const int64_t* src = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) f.f32()[i] = static_cast<float>(src[i]);
  return f;
}

Data synthetic_data(const DataSpec& spec, const DataNeeds& needs) {
  Data d;
  const int64_t n = spec.synthetic_samples.value_or(std::max<int64_t>(256, 8 * needs.batch_size));
  d.train = needs.vocabulary > 0
                ? data::synthetic_sequences(needs.sample_shape.at(0), n, needs.vocabulary,
                                            needs.classes, needs.seed)
                : data::synthetic(needs.sample_shape, n, needs.classes, needs.seed);
  d.description = "synthetic " + shape_str(needs.sample_shape) + " data";
  d.synthetic = true;
  return d;
}

// IDX files: one directory read whole by every worker, or a partitioned one of
// which this worker reads its own parts.
Data idx_data(const DataSpec& spec, const DataNeeds& needs, int rank, int workers) {
  BDL_CHECK(needs.vocabulary == 0,
            "data: the model takes token sequences, not images; train it "
            "with synthetic data or a NumPy directory");
  Data d;
  d.normalize = needs.normalize.value_or(data::kFashionMnistNormalize);
  const std::string dir = data::resolve_data_dir(spec.source);
  const bool partitioned = data::is_partitioned_dir(dir);
  auto load = [&](data::Split split) {
    return (partitioned ? data::partitioned_idx(dir, split, rank, workers)
                        : data::mnist_like(spec.source, split))
        .map(*d.normalize);
  };
  d.train = load(data::Split::train);
  d.validation = load(data::Split::test);
  d.description = dir;
  return d;
}

bool has_extension(const std::string& path, const char* ext) {
  return fs::path(path).extension() == ext;
}

// A table file, or a directory with train.csv / train.tsv.
std::string table_file(const std::string& source, const char* stem) {
  for (const char* ext : {".csv", ".tsv"}) {
    const fs::path p = fs::path(source) / (std::string(stem) + ext);
    if (fs::is_regular_file(p)) return p.string();
  }
  return {};
}

bool is_table(const std::string& source) {
  if (has_extension(source, ".csv") || has_extension(source, ".tsv")) return true;
  return fs::is_directory(source) && !table_file(source, "train").empty();
}

Data table_data(const DataSpec& spec) {
  data::CsvOptions options;
  options.label_column = spec.label_column;
  options.feature_columns = spec.feature_columns;
  options.standardize = spec.standardize;
  options.one_hot = spec.one_hot;
  options.missing = spec.missing == "zero"   ? data::Missing::zero
                    : spec.missing == "mean" ? data::Missing::mean
                                             : data::Missing::error;
  Data d;
  const bool dir = fs::is_directory(spec.source);
  const std::string train = dir ? table_file(spec.source, "train") : spec.source;
  data::CsvSchema schema;
  d.train = data::read_csv(train, options, &schema);
  const std::string test = dir ? table_file(spec.source, "test") : std::string();
  if (!test.empty()) d.validation = data::read_csv(test, options, nullptr, &schema);
  d.description = spec.source;
  return d;
}

// Record shards, streamed: image bytes are normalised as IDX images are.
Data record_data(const DataSpec& spec, const DataNeeds& needs) {
  Data d;
  data::RecordShardOptions options;
  options.skip_bad_records = spec.skip_bad_records;
  const bool glob = data::is_record_glob(spec.source);
  d.train = glob ? data::record_files(spec.source, options)
                 : data::record_shards(spec.source, data::Split::train, options);
  const bool u8 = d.train.feature_dtype() == DType::u8;
  if (u8) {
    d.normalize = needs.normalize.value_or(data::kFashionMnistNormalize);
    d.train = d.train.map(*d.normalize);
  }
  if (!glob && fs::is_directory(fs::path(spec.source) / "test")) {
    d.validation = data::record_shards(spec.source, data::Split::test, options);
    if (u8) d.validation = d.validation->map(*d.normalize);
  }
  d.description = "record shards " + spec.source;
  return d;
}

// An image folder, decoded to the model's input shape (C x H x W, C 1 or 3).
Data image_data(const DataSpec& spec, const DataNeeds& needs) {
  const Shape& shape = needs.sample_shape;
  BDL_CHECK(shape.size() == 3 && (shape[0] == 1 || shape[0] == 3), spec.source,
            ": an image folder gives images of 1 or 3 channels x height x width; the model "
            "takes samples of ",
            shape_str(shape));
  BDL_CHECK(spec.decode_threads >= 1, "decode_threads: ", spec.decode_threads,
            "; at least one thread decodes images");
  data::ImageFolderOptions train;
  train.transform =
      data::image_transform(spec.augment, shape[1], shape[2], static_cast<int>(shape[0]));
  train.skip_bad_records = spec.skip_bad_records;
  train.decode_threads = spec.decode_threads;
  data::ImageFolderInfo info = data::describe_image_folder(spec.source, data::Split::train);
  const std::vector<std::string> classes = info.classes;
  Data d;
  d.train = data::image_folder(std::move(info), train);
  if (data::image_split_directory(spec.source, data::Split::test)) {
    data::ImageFolderOptions eval = train;
    eval.transform = data::image_transform("none", shape[1], shape[2], static_cast<int>(shape[0]));
    d.validation = data::image_folder(spec.source, data::Split::test, eval, &classes);
  }
  d.description = "image folder " + spec.source;
  return d;
}

}  // namespace

data::Source weigh_classes(const data::Source& train, const std::string& class_weight,
                           int64_t classes, const std::string& where) {
  if (class_weight.empty()) return train;
  BDL_CHECK(train.in_memory(), where, ": class weights need data in memory; ", train.name(),
            " streams (give each record a \"weight\" instead)");
  const data::Dataset& d = train.dataset();
  BDL_CHECK(d.target_kind() == data::TargetKind::classes, where,
            ": class weights need class indices; ", d.name(), " has values");
  std::vector<float> table(static_cast<size_t>(classes), 1.f);
  const int64_t* y = d.targets().data<int64_t>();
  if (class_weight == "balanced") {
    std::vector<int64_t> count(static_cast<size_t>(classes), 0);
    for (const data::Partition& p : d.partitions()) {
      for (int64_t i = p.begin; i < p.end; ++i) ++count[static_cast<size_t>(y[i])];
    }
    int64_t n = 0, present = 0;
    for (int64_t c : count) {
      n += c;
      present += c > 0 ? 1 : 0;
    }
    for (size_t c = 0; c < table.size(); ++c) {
      if (count[c] > 0) {
        table[c] = static_cast<float>(static_cast<double>(n) / (static_cast<double>(present) *
                                                                static_cast<double>(count[c])));
      }
    }
  } else {
    size_t at = 0;
    while (at < class_weight.size()) {
      const size_t comma = class_weight.find(',', at);
      const std::string item = class_weight.substr(at, comma - at);
      at = comma == std::string::npos ? class_weight.size() : comma + 1;
      const size_t colon = item.find(':');
      long long c = -1;
      double w = -1;
      char* end = nullptr;
      bool ok = colon != std::string::npos;
      if (ok) {
        c = std::strtoll(item.c_str(), &end, 10);
        ok = end == item.c_str() + colon;
        w = std::strtod(item.c_str() + colon + 1, &end);
        ok = ok && end == item.c_str() + item.size() && colon + 1 < item.size();
      }
      BDL_CHECK(ok && c >= 0 && c < classes && std::isfinite(w) && w >= 0, where, ": '", item,
                "' is not CLASS:WEIGHT with a class in [0, ", classes,
                ") and a non-negative weight (or give \"balanced\")");
      table[static_cast<size_t>(c)] = static_cast<float>(w);
    }
  }
  Tensor weights({d.size()});
  const bool weighted = d.weights().defined();
  for (int64_t i = 0; i < d.size(); ++i) {
    weights.f32()[i] = table[static_cast<size_t>(y[i])] * (weighted ? d.weights().f32()[i] : 1.f);
  }
  return d.with_weights(weights);
}

bool is_numpy_dir(const std::string& dir) {
  return fs::is_regular_file(fs::path(dir) / "train-features.npy");
}

data::Dataset numpy_dataset(const std::string& dir, const std::string& prefix) {
  const fs::path base(dir);
  const std::string features = (base / (prefix + "-features.npy")).string();
  const std::string targets = (base / (prefix + "-targets.npy")).string();
  const std::string weights = (base / (prefix + "-weights.npy")).string();
  data::Dataset d(as_f32(data::read_npy(features)), data::read_npy(targets), features);
  if (fs::exists(weights)) d = d.with_weights(data::read_npy(weights));
  return d;
}

Data load_data(const DataSpec& spec, const DataNeeds& needs, int rank, int workers) {
  Data d;
  if (spec.train) {
    d.train = *spec.train;
    d.validation = spec.validation;
    d.description = spec.train->name();
  } else if (spec.source == "synthetic") {
    d = synthetic_data(spec, needs);
  } else if (is_table(spec.source)) {
    d = table_data(spec);
  } else if (data::is_record_shard_dir(spec.source) || data::is_record_glob(spec.source)) {
    d = record_data(spec, needs);
  } else if (data::is_image_folder(spec.source)) {
    d = image_data(spec, needs);
  } else if (is_numpy_dir(spec.source)) {
    d.train = numpy_dataset(spec.source, "train");
    if (fs::exists(fs::path(spec.source) / "test-features.npy")) {
      d.validation = numpy_dataset(spec.source, "test");
    }
    d.description = spec.source;
  } else {
    d = idx_data(spec, needs, rank, workers);
  }
  if (spec.worker_share && !spec.train) {
    d.train = d.train.as_worker_shard();
    if (d.validation) d.validation = d.validation->as_worker_shard();
  }
  if (spec.train_samples) d.train = d.train.take(*spec.train_samples);
  if (spec.validation_samples && d.validation) {
    d.validation = d.validation->take(*spec.validation_samples);
  }
  d.description += " (" + std::to_string(d.train.size()) + " train, " +
                   std::to_string(d.validation ? d.validation->size() : 0) + " test samples)";
  return d;
}

}  // namespace bdl::job
