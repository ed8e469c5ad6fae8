// Validation metrics against scikit-learn (tests/fixtures/metrics.json, made by
// tools/fixtures/gen_metrics.py) on one worker; tests/dist/metrics_mpi_test.cpp
// does the same on three.
#include "bdl/optim/metrics.h"

#include <gtest/gtest.h>

#include "bdl/nn/activations.h"
#include "bdl/nn/losses/by_name.h"
#include "support/errors.h"
#include "support/metric_cases.h"

namespace bdl::optim {
namespace {

using testing::error_of;

std::vector<std::string> names_of(const testing::MetricCase& c) {
  std::vector<std::string> names;
  for (const auto& [name, value] : c.expected) names.push_back(name);
  return names;
}

// Sums of a few dozen doubles in another order: 1e-12 is far above rounding and
// far below any real difference.
constexpr double kTolerance = 1e-12;

TEST(Metrics, MatchScikitLearnOnOneWorker) {
  for (const auto& c : testing::metric_cases()) {
    SCOPED_TRACE(c.name);
    nn::Identity model;
    auto loss = nn::make_criterion(c.loss);
    // A batch that does not divide the samples: the last batch is short.
    const Evaluation e = evaluate(model, *loss, c.dataset, 7, names_of(c));
    EXPECT_EQ(e.samples, c.dataset.size());
    ASSERT_EQ(e.metrics.size(), c.expected.size());
    for (const auto& [name, want] : c.expected) EXPECT_NEAR(e[name], want, kTolerance) << name;
  }
}

TEST(Metrics, DoNotDependOnTheBatchSize) {
  for (const auto& c : testing::metric_cases()) {
    nn::Identity model;
    auto loss = nn::make_criterion(c.loss);
    const Evaluation a = evaluate(model, *loss, c.dataset, 1, names_of(c));
    const Evaluation b = evaluate(model, *loss, c.dataset, 1000, names_of(c));
    for (const auto& [name, want] : c.expected) EXPECT_NEAR(a[name], b[name], kTolerance) << name;
    EXPECT_NEAR(a.loss, b.loss, 1e-6) << c.name;
  }
}

TEST(Metrics, NamesAreCanonical) {
  EXPECT_EQ(make_metric("top5")->name(), "top5");
  EXPECT_EQ(make_metric("precision")->name(), "precision");
  EXPECT_EQ(make_metric("recall@0.25")->name(), "recall@0.25");
  EXPECT_EQ(make_metric("average_precision")->name(), "average_precision");
}

TEST(Metrics, BadNamesAreErrorsThatListTheKnownOnes) {
  EXPECT_EQ(error_of([] { make_metric("accuracy"); }),
            "unknown metric 'accuracy' (known: " + metric_names() + ")");
  EXPECT_EQ(error_of([] { make_metric("f1@2"); }),
            "metric 'f1@2': the threshold after @ must be a number in [0, 1]");
  EXPECT_EQ(error_of([] { make_metric("top0"); }),
            "metric 'top0': top-k accuracy is top1, top5, ... (k from 1 to 1000)");
}

TEST(Metrics, ThatDoNotFitTheTargetsSaySo) {
  const auto cases = testing::metric_cases();
  nn::Identity model;
  auto ce = nn::make_criterion("cross_entropy");
  EXPECT_EQ(error_of([&] { evaluate(model, *ce, cases[0].dataset, 8, {"mae"}); }),
            "mae: needs targets that are values; the targets are class indices (train with a loss "
            "on values, or one-hot targets)");
}

// A column without both labels has no ROC curve: it is left out of the mean,
// and a binary problem without it has no value (NaN), as sklearn refuses it.
TEST(Metrics, AucLeavesOutColumnsWithOneLabel) {
  Tensor outputs = Tensor::from_vector(std::vector<float>{0.1f, 2.f, 0.5f, 1.f, 0.2f, 3.f}, {3, 2});
  Tensor targets = Tensor::from_vector(std::vector<float>{1, 0, 1, 1, 1, 0}, {3, 2});
  const data::Dataset d(outputs, targets, "one label in column 0");
  nn::Identity model;
  auto loss = nn::make_criterion("bce_with_logits");
  // Column 1: scores 2, 1, 3 for labels 0, 1, 0 -> the positive is below both.
  EXPECT_DOUBLE_EQ(evaluate(model, *loss, d, 2, {"auc"})["auc"], 0.0);
  const data::Dataset only_ones(outputs.narrow(1, 0, 1).contiguous(),
                                targets.narrow(1, 0, 1).contiguous(), "all positive");
  EXPECT_TRUE(std::isnan(evaluate(model, *loss, only_ones, 2, {"auc"})["auc"]));
}

// A metric of the user's own: the largest absolute error, combined over workers
// by gathering its per-worker maxima as scores.
class MaxError : public Metric {
 public:
  std::string name() const override { return "max_error"; }
  void start(const MetricInput&) override { worst_ = 0; }
  void add(const Tensor& output, const Tensor& target) override {
    for (int64_t i = 0; i < output.numel(); ++i) {
      worst_ = std::max(worst_, std::abs(double{output.f32()[i]} - target.f32()[i]));
    }
  }
  std::string scores() const override { return std::to_string(worst_); }
  void merge_scores(const std::vector<std::string>& all) override {
    for (const auto& s : all) worst_ = std::max(worst_, std::stod(s));
  }
  double value() const override { return worst_; }

 private:
  double worst_ = 0;
};

TEST(Metrics, UsersPlugInTheirOwn) {
  register_metric("max_error", [] { return std::make_unique<MaxError>(); });
  EXPECT_NE(metric_names().find("max_error"), std::string::npos);
  EXPECT_EQ(error_of([] { register_metric("auc", [] { return std::make_unique<MaxError>(); }); }),
            "register_metric: 'auc' is taken");
  Tensor outputs = Tensor::from_vector(std::vector<float>{1, 2, 3}, {3, 1});
  Tensor targets = Tensor::from_vector(std::vector<float>{1, 4, 2.5f}, {3, 1});
  nn::Identity model;
  auto mse = nn::make_criterion("mse");
  const Evaluation e =
      evaluate(model, *mse, data::Dataset(outputs, targets, "d"), 2, {"max_error", "mae"});
  EXPECT_DOUBLE_EQ(e["max_error"], 2.0);
  EXPECT_NEAR(e["mae"], 2.5 / 3, 1e-12);
}

TEST(Metrics, SampleWeightsWeighTheLoss) {
  Tensor outputs = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {4, 1});
  Tensor targets = Tensor::zeros({4, 1});
  const data::Dataset d =
      data::Dataset(outputs, targets, "weighted")
          .with_weights(Tensor::from_vector(std::vector<float>{1, 0, 0, 2}, {4}));
  nn::Identity model;
  auto mse = nn::make_criterion("mse");
  // Keras's sample_weight: the mean over samples of weight * loss = (1 + 2 * 16) / 4.
  EXPECT_NEAR(evaluate(model, *mse, d, 3, {})["loss"], 33.0 / 4, 1e-6);
}

}  // namespace
}  // namespace bdl::optim
