#include "bdl/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "bdl/core/random.h"
#include "bdl/data/idx.h"

namespace bdl::data {

Dataset::Dataset(Tensor features, Tensor targets, std::string name)
    : features_(std::move(features)), targets_(std::move(targets)), name_(std::move(name)) {
  BDL_CHECK(features_.defined() && features_.dim() >= 1, name_,
            ": features must have a sample dimension");
  BDL_CHECK(targets_.defined() && targets_.dim() >= 1, name_,
            ": targets must have a sample dimension");
  BDL_CHECK(
      (targets_.dtype() == DType::i64 && targets_.dim() == 1) || targets_.dtype() == DType::f32,
      name_, ": targets must be class indices (N) i64 or values (N, ...) f32, got ",
      dtype_name(targets_.dtype()), " ", targets_.shape_str());
  BDL_CHECK(features_.size(0) == targets_.size(0), name_, ": ", features_.size(0), " samples but ",
            targets_.size(0), " targets");
  BDL_CHECK(features_.dtype() == DType::u8 || features_.dtype() == DType::f32, name_,
            ": features must be u8 or f32");
  features_ = features_.contiguous();
  targets_ = targets_.contiguous();
  check_finite(features_, name_ + ": features");
  check_finite(targets_, name_ + ": targets");
  partitions_ = {{0, size()}};
}

void check_finite(const Tensor& values, const std::string& what) {
  if (values.dtype() != DType::f32 || values.numel() == 0) return;
  const Tensor c = values.contiguous();
  const float* v = c.f32();
  const int64_t n = c.numel();
  // A sum of 0*x is NaN exactly when some x is not finite: one vectorisable pass.
  float probe = 0.f;
  for (int64_t i = 0; i < n; ++i) probe += v[i] * 0.f;
  if (std::isfinite(probe)) return;
  const int64_t per_sample = c.dim() > 0 && c.size(0) > 0 ? n / c.size(0) : 1;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      char value[16];
      std::snprintf(value, sizeof value, "%g", static_cast<double>(v[i]));
      fail(what, ": sample ", i / per_sample, " holds ", value, " (at element ", i % per_sample,
           "); bdl takes finite numbers only");
    }
  }
}

Dataset Dataset::map(Normalize transform) const {
  BDL_CHECK(transform.std > 0, name_, ": normalize std must be positive");
  Dataset d = *this;
  d.transform_ = transform;
  return d;
}

Dataset Dataset::take(int64_t n) const {
  BDL_CHECK(n >= 0, name_, ": take(", n, ")");
  n = std::min(n, size());
  Dataset d = *this;
  d.features_ = features_.narrow(0, 0, n);
  d.targets_ = targets_.narrow(0, 0, n);
  if (weights_.defined()) d.weights_ = weights_.narrow(0, 0, n);
  d.partitions_ = {{0, n}};
  return d;
}

Dataset Dataset::partitioned(int64_t k) const {
  BDL_CHECK(k >= 1 && k <= std::max<int64_t>(size(), 1), name_, ": cannot cut ", size(),
            " samples into ", k, " partitions");
  Dataset d = *this;
  d.partitions_.clear();
  for (int64_t i = 0; i < k; ++i) d.partitions_.push_back({size() * i / k, size() * (i + 1) / k});
  return d;
}

Dataset Dataset::with_weights(const Tensor& weights) const {
  BDL_CHECK(weights.defined() && weights.dtype() == DType::f32 && weights.dim() == 1 &&
                weights.size(0) == size(),
            name_, ": sample weights must be (", size(), ") f32, got ",
            weights.defined() ? std::string(dtype_name(weights.dtype())) + " " + weights.shape_str()
                              : std::string("none"));
  Dataset d = *this;
  d.weights_ = weights.contiguous();
  const float* w = d.weights_.f32();
  for (int64_t i = 0; i < size(); ++i) {
    BDL_CHECK(std::isfinite(w[i]) && w[i] >= 0, name_, ": sample ", i, " has weight ", w[i],
              "; weights must be finite and non-negative");
  }
  return d;
}

Dataset Dataset::one_hot(int64_t classes) const {
  BDL_CHECK(target_kind() == TargetKind::classes, name_,
            ": one_hot needs class indices, the targets are values of shape ",
            shape_str(target_shape()));
  check_classes(classes);
  Tensor rows({size(), classes});
  const int64_t* y = targets_.data<int64_t>();
  for (int64_t i = 0; i < size(); ++i) rows.f32()[i * classes + y[i]] = 1.f;
  Dataset d = *this;
  d.targets_ = rows;
  return d;
}

Dataset Dataset::shard(int rank, int workers) const {
  BDL_CHECK(workers >= 1 && rank >= 0 && rank < workers, name_, ": worker ", rank, " of ", workers);
  if (worker_shard_) return *this;
  Dataset d = static_cast<int64_t>(partitions_.size()) < workers ? partitioned(workers) : *this;
  std::vector<Partition> mine;
  for (size_t p = static_cast<size_t>(rank); p < d.partitions_.size();
       p += static_cast<size_t>(workers)) {
    mine.push_back(d.partitions_[p]);
  }
  d.partitions_ = std::move(mine);
  d.worker_shard_ = true;
  return d;
}

Dataset Dataset::as_worker_shard() const {
  Dataset d = *this;
  d.worker_shard_ = true;
  return d;
}

Shape Dataset::sample_shape() const {
  return Shape(features_.shape().begin() + 1, features_.shape().end());
}

Shape Dataset::target_shape() const {
  return Shape(targets_.shape().begin() + 1, targets_.shape().end());
}

TargetKind Dataset::target_kind() const {
  return targets_.dtype() == DType::i64 ? TargetKind::classes : TargetKind::values;
}

int64_t Dataset::num_classes() const {
  if (target_kind() == TargetKind::values) return targets_.dim() > 1 ? targets_.shape().back() : 1;
  const int64_t* y = targets_.data<int64_t>();
  int64_t top = -1;
  for (int64_t i = 0; i < size(); ++i) top = std::max(top, y[i]);
  return top + 1;
}

void Dataset::check_classes(int64_t classes) const {
  if (target_kind() != TargetKind::classes) return;
  const int64_t* y = targets_.data<int64_t>();
  for (int64_t i = 0; i < size(); ++i) {
    BDL_CHECK(y[i] >= 0 && y[i] < classes, name_, ": sample ", i, " has class ", y[i],
              ", outside [0, ", classes, ")");
  }
}

Dataset idx(const std::string& images_path, const std::string& labels_path) {
  Tensor images = read_idx(images_path);
  Tensor raw_labels = read_idx(labels_path);
  BDL_CHECK(raw_labels.dim() == 1, labels_path, ": labels must be 1-d, got shape ",
            raw_labels.shape_str());
  BDL_CHECK(images.dim() >= 2, images_path, ": images must have a sample dimension, got shape ",
            images.shape_str());
  BDL_CHECK(images.size(0) == raw_labels.size(0), images_path, " has ", images.size(0),
            " images but ", labels_path, " has ", raw_labels.size(0), " labels");
  Tensor labels = Tensor::empty({raw_labels.size(0)}, DType::i64);
  const uint8_t* src = raw_labels.data<uint8_t>();
  std::copy(src, src + raw_labels.numel(), labels.data<int64_t>());
  // Images of rank 3 (N, H, W) become (N, 1, H, W): one channel.
  if (images.dim() == 3) images = images.view({images.size(0), 1, images.size(1), images.size(2)});
  return Dataset(std::move(images), std::move(labels),
                 std::filesystem::path(images_path).filename().string());
}

Dataset concat_partitions(std::vector<Dataset> parts, std::string name) {
  BDL_CHECK(!parts.empty(), name, ": no partitions");
  int64_t total = 0;
  for (const auto& p : parts) {
    BDL_CHECK(p.sample_shape() == parts[0].sample_shape() &&
                  p.features().dtype() == parts[0].features().dtype(),
              name, ": partition ", p.name(), " has samples of shape ", shape_str(p.sample_shape()),
              ", expected ", shape_str(parts[0].sample_shape()));
    total += p.size();
  }
  Shape shape = parts[0].features().shape();
  shape[0] = total;
  Tensor features = Tensor::empty(shape, parts[0].features().dtype());
  Tensor labels = Tensor::empty({total}, DType::i64);
  std::vector<Partition> ranges;
  int64_t next = 0;
  for (const auto& p : parts) {
    features.narrow(0, next, p.size()).copy_from(p.features());
    labels.narrow(0, next, p.size()).copy_from(p.targets());
    ranges.push_back({next, next + p.size()});
    next += p.size();
  }
  Dataset d(std::move(features), std::move(labels), std::move(name));
  d.partitions_ = std::move(ranges);
  d.worker_shard_ = true;
  return d;
}

std::string resolve_data_dir(const std::string& data) {
  if (data == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  return data;
}

Dataset mnist_like(const std::string& directory, Split split) {
  const std::string dir = resolve_data_dir(directory);
  BDL_CHECK(std::filesystem::is_directory(dir), dir, ": not a directory",
            directory == "fashion-mnist" ? " (install Debian's dataset-fashion-mnist)" : "");
  const std::string prefix = split == Split::train ? "train" : "t10k";
  auto find = [&](const std::string& stem) {
    for (const std::string& name : {stem + ".gz", stem}) {
      const auto path = std::filesystem::path(dir) / name;
      if (std::filesystem::exists(path)) return path.string();
    }
    fail(dir, ": missing ", stem, "[.gz]");
  };
  return idx(find(prefix + "-images-idx3-ubyte"), find(prefix + "-labels-idx1-ubyte"));
}

Dataset synthetic(const Shape& sample, int64_t samples, int64_t classes, uint64_t seed) {
  BDL_CHECK(samples > 0 && classes > 0, "synthetic data: samples and classes must be positive");
  Shape shape = sample;
  shape.insert(shape.begin(), samples);
  Tensor features(shape, DType::u8);
  Tensor labels({samples}, DType::i64);
  Rng rng(seed);
  auto* bytes = features.data<uint8_t>();
  for (int64_t i = 0; i < features.numel(); i += 8) {
    const uint64_t r = rng.next_u64();
    for (int64_t k = 0; k < 8 && i + k < features.numel(); ++k) {
      bytes[i + k] = static_cast<uint8_t>(r >> (8 * k));
    }
  }
  for (int64_t i = 0; i < samples; ++i) {
    labels.data<int64_t>()[i] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(classes)));
  }
  return Dataset(features, labels, "synthetic").map(Normalize{0.5f, 0.29f});
}

Dataset synthetic_sequences(int64_t length, int64_t samples, int64_t vocabulary, int64_t classes,
                            uint64_t seed) {
  BDL_CHECK(length > 0 && samples > 0 && vocabulary > 1 && classes > 0,
            "synthetic sequences: length, samples, vocabulary and classes must be positive");
  Tensor features({samples, length});
  Tensor labels({samples}, DType::i64);
  Rng rng(seed);
  float* x = features.f32();
  for (int64_t i = 0; i < samples; ++i) {
    // A per-sample bias towards low or high ids makes every band occur.
    const double p_low = rng.uniform();
    int64_t low = 0;
    for (int64_t t = 0; t < length; ++t) {
      const bool is_low = rng.uniform() < p_low;
      const auto half = static_cast<uint64_t>(vocabulary / 2);
      const auto id =
          is_low ? rng.below(half) : half + rng.below(static_cast<uint64_t>(vocabulary) - half);
      x[i * length + t] = static_cast<float>(id);
      low += is_low ? 1 : 0;
    }
    labels.data<int64_t>()[i] = std::min(classes - 1, low * classes / (length + 1));
  }
  return Dataset(features, labels, "synthetic sequences");
}

}  // namespace bdl::data
