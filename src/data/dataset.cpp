#include "bdl/data/dataset.h"

#include <algorithm>
#include <filesystem>

#include "bdl/data/idx.h"

namespace bdl::data {

Dataset::Dataset(Tensor features, Tensor labels, std::string name)
    : features_(std::move(features)), labels_(std::move(labels)), name_(std::move(name)) {
  BDL_CHECK(features_.defined() && features_.dim() >= 1, name_,
            ": features must have a sample dimension");
  BDL_CHECK(labels_.dtype() == DType::i64 && labels_.dim() == 1, name_,
            ": labels must be a 1-d i64 tensor, got ", dtype_name(labels_.dtype()), " ",
            labels_.shape_str());
  BDL_CHECK(features_.size(0) == labels_.size(0), name_, ": ", features_.size(0), " samples but ",
            labels_.size(0), " labels");
  BDL_CHECK(features_.dtype() == DType::u8 || features_.dtype() == DType::f32, name_,
            ": features must be u8 or f32");
  features_ = features_.contiguous();
  partitions_ = {{0, size()}};
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
  d.labels_ = labels_.narrow(0, 0, n);
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

Shape Dataset::sample_shape() const {
  return Shape(features_.shape().begin() + 1, features_.shape().end());
}

int64_t Dataset::num_classes() const {
  const int64_t* y = labels_.data<int64_t>();
  int64_t top = -1;
  for (int64_t i = 0; i < size(); ++i) top = std::max(top, y[i]);
  return top + 1;
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

}  // namespace bdl::data
