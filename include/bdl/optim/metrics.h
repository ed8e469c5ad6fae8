#pragma once

#include <cstdint>
#include <span>

#include "bdl/data/dataset.h"
#include "bdl/nn/criterion.h"
#include "bdl/nn/module.h"

namespace bdl::optim {

// Validation results as counts and sums, so results from several workers or
// batches combine exactly (no averages of averages).
struct Evaluation {
  int64_t samples = 0;
  int64_t correct = 0;  // top-1
  double loss_sum = 0;  // criterion loss times batch size, summed
  int64_t correct_top5 = 0;

  double top1() const { return samples ? static_cast<double>(correct) / samples : 0.0; }
  double top5() const { return samples ? static_cast<double>(correct_top5) / samples : 0.0; }
  double loss() const { return samples ? loss_sum / samples : 0.0; }
  Evaluation& operator+=(const Evaluation& o) {
    samples += o.samples;
    correct += o.correct;
    loss_sum += o.loss_sum;
    correct_top5 += o.correct_top5;
    return *this;
  }
};

// Number of rows of a (batch, classes) output whose arg-max equals the target.
int64_t count_top1(const Tensor& output, const Tensor& target);
// Number of rows whose target is among the k highest outputs (fewer than k
// outputs strictly above it).
int64_t count_top_k(const Tensor& output, const Tensor& target, int64_t k);

// Runs the model in evaluation mode over the given partitions of the dataset (all
// when empty), restoring the mode it found, and counts top-1 and top-5 hits and
// summed loss.
Evaluation evaluate(nn::Module& model, nn::Criterion& criterion, const data::Dataset& dataset,
                    int64_t batch_size, std::span<const int64_t> partitions = {});

}  // namespace bdl::optim
