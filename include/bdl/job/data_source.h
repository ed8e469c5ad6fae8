#pragma once

// Where a job's data comes from: a named source on disk, or datasets in memory.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bdl/data/source.h"

namespace bdl::job {

struct DataSpec {
  // The training and validation data:
  //   fashion-mnist   Debian's dataset-fashion-mnist;
  //   DIR             a directory of MNIST's four IDX files (train and t10k);
  //   DIR             a partitioned directory written by `bdl split`: each worker
  //                   loads only its own parts;
  //   DIR             a NumPy directory: train-features.npy and
  //                   train-targets.npy (i64 class indices or f32 values),
  //                   optionally train-weights.npy, and the same for test-;
  //   DIR             record shards (bdl convert, or any writer of
  //                   tf.train.Example records): DIR/train/part-*.tfrecord and
  //                   optionally DIR/test/, streamed from disk, each worker
  //                   reading its own shards;
  //   PATTERN         record files matched by a glob ("/data/part-*.tfrecord"),
  //                   each a shard, read through once to count them;
  //   DIR             an image folder: one sub-folder of JPEG and PNG files per
  //                   class (DIR/train and DIR/test or DIR/val, or DIR alone
  //                   to train on), decoded at the model's input size as they
  //                   stream, with the `augment` preset on training images;
  //   FILE.csv        a table (FILE.tsv: tab-separated) with a header row: the
  //                   label_column and feature_columns below; DIR holding
  //                   train.csv (and test.csv) reads both, the test file with the
  //                   training file's columns and categories;
  //   synthetic       random data of the model's input shape (benchmarks).
  // Ignored when `train` is set.
  std::string source = "fashion-mnist";
  // Datasets in memory (arrays from C++ or Python) instead of a source.
  std::optional<data::Dataset> train, validation = {};
  // The source is this worker's own share (bdl.spark spills a partition to
  // local record shards): each worker reads all of its own, and the job counts
  // the samples of every worker's share.
  bool worker_share = false;
  std::optional<int64_t> train_samples = {};       // only the first N
  std::optional<int64_t> validation_samples = {};  // only the first N
  std::optional<int64_t> synthetic_samples = {};   // default: 8 batches, at least 256
  // Record shards: damaged records are skipped and counted instead of stopping
  // the run.
  bool skip_bad_records = false;
  // Image folders: the training images' transform (data::image_transform's
  // presets: none, flip, standard, strong; validation always uses none) and
  // the threads that decode them.
  std::string augment = "none";
  int decode_threads = 1;
  // Tables: the label's column, the features' (empty: every other column), and
  // what a missing feature value is: "error", "zero" or "mean".
  std::string label_column = {};
  std::vector<std::string> feature_columns = {};
  std::string missing = "error";
  bool standardize = false;  // tables: numeric features to mean 0, deviation 1
  bool one_hot = false;      // tables: text columns as one-hot columns, not indices
  // Class weights for the training samples, as a weight each: "balanced"
  // (samples / (classes x samples of the class), scikit-learn's rule) or
  // "CLASS:WEIGHT,..." (classes not named weigh 1). Data in memory only.
  std::string class_weight = {};
};

// What loading needs to know about the model.
struct DataNeeds {
  Shape sample_shape = {};  // synthetic data's
  int64_t vocabulary = 0;   // synthetic token sequences when positive
  int64_t classes = 10;     // synthetic labels
  // The normalisation of image bytes: the model's recorded one, else
  // Fashion-MNIST's.
  std::optional<data::Normalize> normalize = {};
  uint64_t seed = 1;
  int64_t batch_size = 128;
};

struct Data {
  data::Source train = {};
  std::optional<data::Source> validation = {};
  std::string description;  // "fashion-mnist (60000 train, 10000 test samples)"
  bool synthetic = false;
  std::optional<data::Normalize> normalize =
      {};  // applied to image bytes, to record with the model
};

// The training data weighted by class (DataSpec::class_weight) for a model of
// `classes` outputs; `where` names the setting in errors.
data::Source weigh_classes(const data::Source& train, const std::string& class_weight,
                           int64_t classes, const std::string& where);

// Loads `spec` for worker `rank` of `workers`. Errors name the source.
Data load_data(const DataSpec& spec, const DataNeeds& needs, int rank, int workers);

// A NumPy directory's split: PREFIX-features.npy, PREFIX-targets.npy and
// optionally PREFIX-weights.npy in `dir`.
data::Dataset numpy_dataset(const std::string& dir, const std::string& prefix);
bool is_numpy_dir(const std::string& dir);

}  // namespace bdl::job
