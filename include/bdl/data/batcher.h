#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bdl/data/dataset.h"

namespace bdl::data {

struct MiniBatch {
  Tensor input;   // f32 (batch, sample shape...)
  Tensor target;  // i64 (batch) class indices, or f32 (batch, target shape...) values
  Tensor weight;  // f32 (batch) sample weights; undefined when the dataset has none
  int64_t size() const { return target.defined() ? target.size(0) : 0; }
};

// The sample indices of the given partitions in one epoch's order: shuffled with a
// stream derived from (seed, epoch), or in storage order when shuffle is false.
std::vector<int64_t> epoch_order(const Dataset& dataset, std::span<const int64_t> partitions,
                                 uint64_t seed, int64_t epoch, bool shuffle);
// The same over all of the dataset's partitions.
std::vector<int64_t> epoch_order(const Dataset& dataset, uint64_t seed, int64_t epoch,
                                 bool shuffle);

// Assembles mini-batches from a dataset in a given order, converting and
// normalising features into buffers that are reused from batch to batch.
class Batcher {
 public:
  Batcher(const Dataset& dataset, int64_t batch_size, bool drop_last);

  void set_order(std::vector<int64_t> order);
  int64_t num_batches() const;
  // Fills and returns batch b of the current order; valid until the next call.
  const MiniBatch& batch(int64_t b);

 private:
  const Dataset* dataset_;
  int64_t batch_size_;
  bool drop_last_;
  std::vector<int64_t> order_;
  MiniBatch batch_;
};

}  // namespace bdl::data
