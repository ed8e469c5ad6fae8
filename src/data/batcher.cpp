#include "bdl/data/batcher.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "bdl/core/random.h"

namespace bdl::data {

std::vector<int64_t> epoch_order(const Dataset& dataset, std::span<const int64_t> partitions,
                                 uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order;
  for (int64_t p : partitions) {
    BDL_CHECK(p >= 0 && p < static_cast<int64_t>(dataset.partitions().size()), dataset.name(),
              ": no partition ", p);
    const Partition& range = dataset.partitions()[p];
    for (int64_t i = range.begin; i < range.end; ++i) order.push_back(i);
  }
  if (shuffle) {
    Rng rng(Rng::derive(seed, static_cast<uint64_t>(epoch)));
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  }
  return order;
}

std::vector<int64_t> epoch_order(const Dataset& dataset, uint64_t seed, int64_t epoch,
                                 bool shuffle) {
  std::vector<int64_t> all(dataset.partitions().size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  return epoch_order(dataset, all, seed, epoch, shuffle);
}

Batcher::Batcher(const Dataset& dataset, int64_t batch_size, bool drop_last)
    : dataset_(&dataset), batch_size_(batch_size), drop_last_(drop_last) {
  BDL_CHECK(batch_size > 0, "batch size must be positive, got ", batch_size);
}

void Batcher::set_order(std::vector<int64_t> order) { order_ = std::move(order); }

int64_t Batcher::num_batches() const {
  const auto n = static_cast<int64_t>(order_.size());
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

const MiniBatch& Batcher::batch(int64_t b) {
  BDL_CHECK(b >= 0 && b < num_batches(), "batch ", b, " out of range (", num_batches(), ")");
  const int64_t first = b * batch_size_;
  const int64_t count = std::min<int64_t>(batch_size_, static_cast<int64_t>(order_.size()) - first);
  const Tensor& features = dataset_->features();
  const int64_t per_sample = features.numel() / std::max<int64_t>(features.size(0), 1);
  Shape shape = dataset_->sample_shape();
  shape.insert(shape.begin(), count);
  batch_.input.resize(shape);
  const Tensor& targets = dataset_->targets();
  Shape target_shape = dataset_->target_shape();
  target_shape.insert(target_shape.begin(), count);
  batch_.target.resize(target_shape, targets.dtype());
  const int64_t per_target = shape_numel(target_shape) / std::max<int64_t>(count, 1);
  const size_t target_bytes = static_cast<size_t>(per_target) * dtype_size(targets.dtype());
  const bool weighted = dataset_->weights().defined();
  if (weighted) batch_.weight.resize({count});

  const auto& transform = dataset_->transform();
  const float mean = transform ? transform->mean : 0.f;
  const float inv_std = transform ? 1.f / transform->std : 1.f;
  float* out = batch_.input.f32();
  auto* target = static_cast<char*>(batch_.target.raw_data());
  const auto* all_targets = static_cast<const char*>(targets.raw_data());
  for (int64_t i = 0; i < count; ++i) {
    const int64_t s = order_[first + i];
    std::memcpy(target + static_cast<size_t>(i) * target_bytes,
                all_targets + static_cast<size_t>(s) * target_bytes, target_bytes);
    if (weighted) batch_.weight.f32()[i] = dataset_->weights().f32()[s];
    float* dst = out + i * per_sample;
    if (features.dtype() == DType::u8) {
      const uint8_t* src = features.data<uint8_t>() + s * per_sample;
      const float scale = inv_std / 255.f;
      const float shift = -mean * inv_std;
#pragma omp simd
      for (int64_t j = 0; j < per_sample; ++j) dst[j] = static_cast<float>(src[j]) * scale + shift;
    } else {
      const float* src = features.f32() + s * per_sample;
#pragma omp simd
      for (int64_t j = 0; j < per_sample; ++j) dst[j] = (src[j] - mean) * inv_std;
    }
  }
  return batch_;
}

}  // namespace bdl::data
