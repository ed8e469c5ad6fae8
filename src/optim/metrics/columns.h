#pragma once

// How the metrics that score classes (precision, recall, F1, AUC, average
// precision) see a batch: per sample, one probability and one 0/1 label per
// column. Binary problems have one column (class 1 of two, or a single
// output); multi-class problems one column per class, one against the rest;
// multi-label problems one per label.
#include <cstdint>
#include <string>
#include <vector>

#include "bdl/optim/metrics.h"

namespace bdl::optim::metrics {

class Columns {
 public:
  // Checks the outputs and targets suit `metric`, naming what does not.
  void start(const MetricInput& input, const std::string& metric);
  int64_t count() const { return columns_; }
  // Multi-class with class indices: the prediction is the top class, not a
  // threshold per column.
  bool multiclass() const { return multiclass_; }
  // One batch: scores and labels (batch * count(), row-major); predicted (the
  // top class per sample) when multiclass().
  void fill(const Tensor& output, const Tensor& target, std::vector<double>& scores,
            std::vector<uint8_t>& labels, std::vector<int64_t>& predicted) const;

 private:
  MetricInput input_;
  int64_t columns_ = 1;
  bool multiclass_ = false;
  bool two_classes_ = false;
};

// Probabilities of one sample's outputs x[0..n) as the loss reads them: softmax
// of logits over classes, a sigmoid per entry of logits for values, exp of
// log-probabilities, the values themselves otherwise.
void probabilities(const float* x, int64_t n, nn::OutputKind kind, bool classes, double* out);

}  // namespace bdl::optim::metrics
