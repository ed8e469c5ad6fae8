#include "bdl/optim/metrics.h"

#include "bdl/data/batcher.h"

namespace bdl::optim {

int64_t count_top1(const Tensor& output, const Tensor& target) {
  BDL_CHECK(output.dim() == 2 && target.dim() == 1 && output.size(0) == target.size(0),
            "top1: output ", output.shape_str(), " does not match target ", target.shape_str());
  const Tensor out = output.contiguous();
  const Tensor t = target.contiguous();
  const int64_t n = out.size(0), c = out.size(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = out.f32() + i * c;
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j) {
      if (row[j] > row[best]) best = j;
    }
    correct += best == t.data<int64_t>()[i];
  }
  return correct;
}

int64_t count_top_k(const Tensor& output, const Tensor& target, int64_t k) {
  BDL_CHECK(output.dim() == 2 && target.dim() == 1 && output.size(0) == target.size(0),
            "top-k: output ", output.shape_str(), " does not match target ", target.shape_str());
  const Tensor out = output.contiguous();
  const Tensor t = target.contiguous();
  const int64_t n = out.size(0), c = out.size(1);
  int64_t hits = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = out.f32() + i * c;
    const int64_t label = t.data<int64_t>()[i];
    if (label < 0 || label >= c) continue;
    int64_t above = 0;
    for (int64_t j = 0; j < c; ++j) above += row[j] > row[label];
    hits += above < k;
  }
  return hits;
}

Evaluation evaluate(nn::Module& model, nn::Criterion& criterion, const data::Dataset& dataset,
                    int64_t batch_size, std::span<const int64_t> partitions) {
  const bool was_training = model.is_training();
  model.eval();
  data::Batcher batcher(dataset, batch_size, /*drop_last=*/false);
  std::vector<int64_t> all(dataset.partitions().size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  if (partitions.empty()) partitions = all;
  batcher.set_order(data::epoch_order(dataset, partitions, 0, 0, /*shuffle=*/false));
  Evaluation result;
  for (int64_t b = 0; b < batcher.num_batches(); ++b) {
    const data::MiniBatch& batch = batcher.batch(b);
    const Tensor& out = model.forward(batch.input);
    result.samples += batch.size();
    result.correct += count_top1(out, batch.target);
    result.correct_top5 += count_top_k(out, batch.target, 5);
    result.loss_sum += static_cast<double>(criterion.forward(out, batch.target)) * batch.size();
  }
  model.train(was_training);
  return result;
}

}  // namespace bdl::optim
