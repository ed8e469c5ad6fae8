#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bdl/core/tensor.h"

namespace bdl::data {

// (x / 255 - mean) / std for u8 features (ToTensor then Normalize in PyTorch
// terms); x - mean) / std for f32 features.
struct Normalize {
  float mean = 0.f;
  float std = 1.f;
};

inline Normalize normalize(float mean, float std) { return {mean, std}; }

// A contiguous range of sample indices: the unit of data a worker owns.
struct Partition {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

// What a dataset's targets are: class indices (i64, one per sample), or values
// (f32, a vector per sample: regression targets, multi-label indicators, soft
// labels).
enum class TargetKind { classes, values };

// An in-memory dataset: features (N, ...) in u8 or f32, targets (N) i64 class
// indices or (N, ...) f32 values, optionally a weight (N) f32 per sample, split
// into partitions. Features stay in their stored dtype; batches are converted
// and normalised as they are assembled, so the dataset costs one byte per pixel
// for images.
class Dataset {
 public:
  Dataset() = default;
  Dataset(Tensor features, Tensor targets, std::string name = "dataset");

  // A copy (sharing the data) that normalises features when batching.
  Dataset map(Normalize transform) const;
  // A copy (sharing the data) of the first n samples.
  Dataset take(int64_t n) const;
  // A copy (sharing the data) cut into k partitions of near-equal size.
  Dataset partitioned(int64_t k) const;
  // A copy whose samples weigh in the loss by `weights` (N) f32, each finite and
  // non-negative (Keras's sample_weight; class weights are weights by target).
  Dataset with_weights(const Tensor& weights) const;
  // Class indices as one-hot rows (N, classes) f32, for losses on values (MSE,
  // BCE on indicators).
  Dataset one_hot(int64_t classes) const;
  // The part of this dataset worker `rank` of `workers` reads: the partitions p
  // with p % workers == rank (the dataset is first cut into `workers`
  // partitions if it has fewer). A dataset that holds one worker's partitions
  // already (loaded from a partitioned directory) is all that worker's.
  Dataset shard(int rank, int workers) const;
  bool is_worker_shard() const { return worker_shard_; }
  // A copy (sharing the data) that is this worker's own share already (a Spark
  // partition, a file per rank): shard() keeps it whole, and the job counts the
  // samples of every worker's share.
  Dataset as_worker_shard() const;

  int64_t size() const { return targets_.defined() ? targets_.size(0) : 0; }
  Shape sample_shape() const;
  // One sample's target shape: {} for class indices.
  Shape target_shape() const;
  TargetKind target_kind() const;
  const Tensor& features() const { return features_; }
  const Tensor& targets() const { return targets_; }
  const Tensor& weights() const { return weights_; }  // undefined when unweighted
  const std::optional<Normalize>& transform() const { return transform_; }
  const std::vector<Partition>& partitions() const { return partitions_; }
  const std::string& name() const { return name_; }
  // Class indices: the largest plus one. Values: the size of the last dimension.
  int64_t num_classes() const;
  // Checks that every class index is in [0, classes), naming the dataset and the
  // first sample outside.
  void check_classes(int64_t classes) const;

 private:
  Tensor features_;
  Tensor targets_;
  Tensor weights_;
  std::optional<Normalize> transform_;
  std::vector<Partition> partitions_;
  std::string name_;
  bool worker_shard_ = false;

  friend Dataset concat_partitions(std::vector<Dataset> parts, std::string name);
};

// One dataset whose partitions are the given datasets (same sample shape and
// feature dtype), marked as one worker's shard.
Dataset concat_partitions(std::vector<Dataset> parts, std::string name);

// Images and labels from a pair of IDX files; checks that they agree in count.
Dataset idx(const std::string& images_path, const std::string& labels_path);

// Fails when an f32 tensor (N, ...) holds NaN or an infinity, naming `what`,
// the sample and the element: such an input would give numbers that look
// plausible (max pooling and ReLU pass over NaN) or a loss of NaN.
void check_finite(const Tensor& values, const std::string& what);

enum class Split { train, test };

// Fashion-MNIST (or MNIST) from a directory holding the four standard files,
// gzipped or not: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. "fashion-mnist"
// means Debian's dataset-fashion-mnist directory.
Dataset mnist_like(const std::string& directory, Split split);

// A partitioned dataset directory, the way to give each machine its own data:
// DIR/{train,test}/part-NNNNN-{images-idx3,labels-idx1}-ubyte[.gz] and a
// manifest, DIR/{train,test}/MANIFEST, listing every part and its samples.
// Worker `rank` of `workers` loads the parts whose number is rank modulo
// workers; the part count must be a multiple of the worker count (so that each
// worker holds an equal share), and files not in the manifest are an error.
bool is_partitioned_dir(const std::string& directory);
Dataset partitioned_idx(const std::string& directory, Split split, int rank, int workers);
// The samples of every part together, from the manifest.
int64_t partitioned_size(const std::string& directory, Split split);
// Writes a dataset as such a directory split, in `parts` parts of near-equal
// size. The split is written beside the old one and renamed into place: an
// older split there (of any part count) is replaced whole, and a failure leaves
// it as it was.
void write_partitioned(const Dataset& dataset, const std::string& directory, Split split,
                       int64_t parts);
std::string resolve_data_dir(const std::string& data);

// Mean and standard deviation of Fashion-MNIST's training pixels in [0, 1].
inline constexpr Normalize kFashionMnistNormalize{0.2860f, 0.3530f};

// Random u8 images of the given sample shape with random labels in [0, classes),
// normalised to about [-1.7, 1.7]: for benchmarking and smoke tests.
Dataset synthetic(const Shape& sample, int64_t samples, int64_t classes, uint64_t seed);

// Random token sequences (ids in [0, vocabulary) stored as f32, no transform)
// whose label is learnable: the share of tokens in the lower half of the
// vocabulary, cut into `classes` equal bands.
Dataset synthetic_sequences(int64_t length, int64_t samples, int64_t vocabulary, int64_t classes,
                            uint64_t seed);

}  // namespace bdl::data
