// Metrics that rank every sample of the validation set by score: the area under
// the ROC curve and average precision. Each worker keeps its (score, label)
// pairs; rank 0 gathers all of them and computes the exact value over the whole
// set, as scikit-learn does on one machine.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "optim/metrics/columns.h"
#include "optim/metrics/kinds.h"

namespace bdl::optim::metrics {
namespace {

struct Scored {
  double score;
  uint8_t label;
};

// Visits the ROC/precision-recall curve's points: after each group of equal
// scores (in decreasing order), the true and false positives so far.
template <typename Visit>
void walk_thresholds(std::vector<Scored>& points, Visit&& visit) {
  std::sort(points.begin(), points.end(), [](const Scored& a, const Scored& b) {
    return a.score > b.score || (a.score == b.score && a.label > b.label);
  });
  double tp = 0, fp = 0;
  for (size_t i = 0; i < points.size();) {
    size_t j = i;
    for (; j < points.size() && points[j].score == points[i].score; ++j) {
      tp += points[j].label;
      fp += 1 - points[j].label;
    }
    visit(tp, fp);
    i = j;
  }
}

// Trapezoids under (false positive rate, true positive rate): ties between a
// positive and a negative count one half, as sklearn's roc_auc_score.
double roc_auc(std::vector<Scored>& points, double positives, double negatives) {
  double area = 0, last_tp = 0, last_fp = 0;
  walk_thresholds(points, [&](double tp, double fp) {
    area += (fp - last_fp) * (tp + last_tp) / 2;
    last_tp = tp;
    last_fp = fp;
  });
  return area / (positives * negatives);
}

// sum over thresholds of (recall step) * precision, without interpolation, as
// sklearn's average_precision_score.
double average_precision(std::vector<Scored>& points, double positives) {
  double sum = 0, last_recall = 0;
  walk_thresholds(points, [&](double tp, double fp) {
    const double recall = tp / positives;
    sum += (recall - last_recall) * (tp / (tp + fp));
    last_recall = recall;
  });
  return sum;
}

class Ranking : public Metric {
 public:
  explicit Ranking(bool roc) : roc_(roc) {}
  std::string name() const override { return roc_ ? "auc" : "average_precision"; }
  void start(const MetricInput& input) override {
    columns_.start(input, name());
    scores_.clear();
    labels_.clear();
  }
  void add(const Tensor& output, const Tensor& target) override {
    columns_.fill(output, target, batch_scores_, batch_labels_, predicted_);
    scores_.insert(scores_.end(), batch_scores_.begin(), batch_scores_.end());
    labels_.insert(labels_.end(), batch_labels_.begin(), batch_labels_.end());
  }
  // Scores then labels, as raw bytes.
  std::string scores() const override {
    std::string bytes(scores_.size() * (sizeof(double) + 1), '\0');
    std::memcpy(bytes.data(), scores_.data(), scores_.size() * sizeof(double));
    std::memcpy(bytes.data() + scores_.size() * sizeof(double), labels_.data(), labels_.size());
    return bytes;
  }
  void merge_scores(const std::vector<std::string>& all) override {
    scores_.clear();
    labels_.clear();
    for (const std::string& bytes : all) {
      const size_t n = bytes.size() / (sizeof(double) + 1);
      const size_t at = scores_.size();
      scores_.resize(at + n);
      labels_.resize(at + n);
      std::memcpy(scores_.data() + at, bytes.data(), n * sizeof(double));
      std::memcpy(labels_.data() + at, bytes.data() + n * sizeof(double), n);
    }
  }
  // The binary value of the one column, or the mean over the columns in which
  // both labels occur (a column without positives or negatives has no curve);
  // NaN when none has both.
  double value() const override {
    const int64_t k = columns_.count();
    const size_t n = scores_.size() / static_cast<size_t>(k);
    double sum = 0;
    int64_t used = 0;
    std::vector<Scored> points(n);
    for (int64_t c = 0; c < k; ++c) {
      double positives = 0;
      for (size_t i = 0; i < n; ++i) {
        const size_t at = i * static_cast<size_t>(k) + static_cast<size_t>(c);
        points[i] = {scores_[at], labels_[at]};
        positives += labels_[at];
      }
      const double negatives = static_cast<double>(n) - positives;
      if (positives == 0 || negatives == 0) continue;
      sum += roc_ ? roc_auc(points, positives, negatives) : average_precision(points, positives);
      ++used;
    }
    return used > 0 ? sum / static_cast<double>(used) : std::nan("");
  }

 private:
  bool roc_;
  Columns columns_;
  std::vector<double> scores_, batch_scores_;
  std::vector<uint8_t> labels_, batch_labels_;
  std::vector<int64_t> predicted_;
};

}  // namespace

std::unique_ptr<Metric> auc() { return std::make_unique<Ranking>(true); }
std::unique_ptr<Metric> average_precision() { return std::make_unique<Ranking>(false); }

}  // namespace bdl::optim::metrics
