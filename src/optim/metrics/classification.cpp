// Metrics of predicted classes: top-k accuracy, and precision, recall and F1 at
// a threshold.
#include <algorithm>
#include <cstdio>

#include "optim/metrics/columns.h"
#include "optim/metrics/kinds.h"

namespace bdl::optim::metrics {
namespace {

// The share of samples whose target class is among the k highest outputs (fewer
// than k outputs strictly above it). Targets that are values (one-hot rows,
// soft labels) name the class of their largest entry.
class TopK : public Metric {
 public:
  explicit TopK(int64_t k) : k_(k) {}
  std::string name() const override { return "top" + std::to_string(k_); }
  void start(const MetricInput& input) override {
    BDL_CHECK(input.output_shape.size() == 1, name(),
              ": needs outputs (batch, classes), the model gives ", shape_str(input.output_shape),
              " per sample");
    BDL_CHECK(input.class_targets || input.target_shape == input.output_shape, name(),
              ": targets of shape ", shape_str(input.target_shape), " per sample are neither class",
              " indices nor rows of ", input.output_shape[0], " class scores");
    class_targets_ = input.class_targets;
    counts_.assign(2, 0.0);
  }
  void add(const Tensor& output, const Tensor& target) override {
    const Tensor out = output.contiguous();
    const Tensor t = target.contiguous();
    const int64_t n = out.size(0), c = out.size(1);
    for (int64_t i = 0; i < n; ++i) {
      const float* row = out.f32() + i * c;
      int64_t label;
      if (class_targets_) {
        label = t.data<int64_t>()[i];
      } else {
        const float* y = t.f32() + i * c;
        label = std::max_element(y, y + c) - y;
      }
      if (label >= 0 && label < c) {
        int64_t above = 0;
        for (int64_t j = 0; j < c; ++j) above += row[j] > row[label];
        counts_[0] += above < k_;
      }
    }
    counts_[1] += static_cast<double>(n);
  }
  std::vector<double>* counts() override { return &counts_; }
  double value() const override { return counts_[1] > 0 ? counts_[0] / counts_[1] : 0.0; }

 private:
  int64_t k_;
  bool class_targets_ = true;
  std::vector<double> counts_;  // hits, samples
};

enum class Rate { precision, recall, f1 };

// Per column: true positives, false positives and false negatives; the value is
// the binary rate of the one column, or the unweighted mean over columns
// (sklearn's average="macro"). A positive prediction is a probability above the
// threshold; with three or more classes it is the top class. A rate whose
// denominator is 0 counts as 0 (sklearn's zero_division=0).
class ThresholdRate : public Metric {
 public:
  ThresholdRate(Rate rate, double threshold) : rate_(rate), threshold_(threshold) {}
  std::string name() const override {
    std::string base = rate_ == Rate::precision ? "precision"
                       : rate_ == Rate::recall  ? "recall"
                                                : "f1";
    if (threshold_ == 0.5) return base;
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, "@%g", threshold_);
    return base + suffix;
  }
  void start(const MetricInput& input) override {
    columns_.start(input, name());
    counts_.assign(static_cast<size_t>(3 * columns_.count()), 0.0);
  }
  void add(const Tensor& output, const Tensor& target) override {
    columns_.fill(output, target, scores_, labels_, predicted_);
    const int64_t k = columns_.count();
    const auto n = static_cast<int64_t>(labels_.size()) / k;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t c = 0; c < k; ++c) {
        const size_t at = static_cast<size_t>(i * k + c);
        const bool positive = columns_.multiclass() ? predicted_[static_cast<size_t>(i)] == c
                                                    : scores_[at] > threshold_;
        const bool actual = labels_[at] != 0;
        double* tp_fp_fn = counts_.data() + 3 * c;
        tp_fp_fn[0] += positive && actual;
        tp_fp_fn[1] += positive && !actual;
        tp_fp_fn[2] += !positive && actual;
      }
    }
  }
  std::vector<double>* counts() override { return &counts_; }
  double value() const override {
    double sum = 0;
    const int64_t k = columns_.count();
    for (int64_t c = 0; c < k; ++c) {
      const double tp = counts_[3 * c], fp = counts_[3 * c + 1], fn = counts_[3 * c + 2];
      const double precision = tp + fp > 0 ? tp / (tp + fp) : 0.0;
      const double recall = tp + fn > 0 ? tp / (tp + fn) : 0.0;
      switch (rate_) {
        case Rate::precision:
          sum += precision;
          break;
        case Rate::recall:
          sum += recall;
          break;
        case Rate::f1:
          sum += 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;
          break;
      }
    }
    return sum / static_cast<double>(k);
  }

 private:
  Rate rate_;
  double threshold_;
  Columns columns_;
  std::vector<double> counts_;
  std::vector<double> scores_;
  std::vector<uint8_t> labels_;
  std::vector<int64_t> predicted_;
};

}  // namespace

std::unique_ptr<Metric> top_k(int64_t k) { return std::make_unique<TopK>(k); }
std::unique_ptr<Metric> precision(double threshold) {
  return std::make_unique<ThresholdRate>(Rate::precision, threshold);
}
std::unique_ptr<Metric> recall(double threshold) {
  return std::make_unique<ThresholdRate>(Rate::recall, threshold);
}
std::unique_ptr<Metric> f1(double threshold) {
  return std::make_unique<ThresholdRate>(Rate::f1, threshold);
}

}  // namespace bdl::optim::metrics
