// The job API: whole training jobs from a spec, on generated data with targets
// of every kind, callbacks, the report, and the errors of bad specs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bdl/core/random.h"
#include "bdl/job/inference.h"
#include "bdl/job/train.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/sequential.h"
#include "support/errors.h"

namespace bdl::job {
namespace {

namespace fs = std::filesystem;

using testing::error_of;

std::shared_ptr<nn::Sequential> mlp(int64_t in, int64_t hidden, int64_t out) {
  auto m = std::make_shared<nn::Sequential>();
  m->add(std::make_unique<nn::Linear>(in, hidden));
  m->add(std::make_unique<nn::Tanh>());
  m->add(std::make_unique<nn::Linear>(hidden, out));
  return m;
}

// y = sin(x0) + x1 x2 / 2, x uniform in [-2, 2]^3: a smooth target whose
// standard deviation is about 1.1.
data::Dataset regression_data(int64_t n, uint64_t seed) {
  Tensor x({n, 3}), y({n, 1});
  Rng rng(seed);
  rng.fill_uniform(x.span_f32(), -2.f, 2.f);
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x.f32() + 3 * i;
    y.f32()[i] = std::sin(xi[0]) + xi[1] * xi[2] / 2;
  }
  return data::Dataset(x, y, "regression");
}

// Four labels, each on when its own direction w_k . x is positive.
data::Dataset multilabel_data(int64_t n, uint64_t seed) {
  Tensor x({n, 8}), y({n, 4});
  Rng rng(seed), directions(99);
  rng.fill_normal(x.span_f32(), 0.f, 1.f);
  std::vector<float> w(32);
  directions.fill_normal(w, 0.f, 1.f);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < 4; ++k) {
      float dot = 0;
      for (int64_t j = 0; j < 8; ++j) dot += w[k * 8 + j] * x.f32()[i * 8 + j];
      y.f32()[i * 4 + k] = dot > 0 ? 1.f : 0.f;
    }
  }
  return data::Dataset(x, y, "multilabel");
}

TrainSpec spec_for(std::shared_ptr<nn::Module> model, Shape sample) {
  TrainSpec spec;
  spec.model.module = std::move(model);
  spec.model.sample_shape = std::move(sample);
  spec.progress = "quiet";
  spec.threads = 2;
  return spec;
}

// An MLP fits the function to an RMSE far below the targets' spread (1.1): 0.085
// here after 10 epochs; 0.15 leaves room for other machines' rounding.
TEST(TrainJob, RegressionWithMseReachesAStatedError) {
  manual_seed(3);
  TrainSpec spec = spec_for(mlp(3, 64, 1), {3});
  spec.data.train = regression_data(4096, 1);
  spec.data.validation = regression_data(1024, 2);
  spec.loss = "mse";
  spec.metrics = {"mae", "rmse"};
  spec.optimizer = {.name = "adam", .lr = 0.003};
  spec.epochs = 10;
  spec.batch_size = 64;
  const TrainReport r = train(spec);
  ASSERT_TRUE(r.result.last_validation.has_value());
  const optim::Evaluation& v = *r.result.last_validation;
  EXPECT_LT(v["rmse"], 0.15);
  EXPECT_LT(v["mae"], v["rmse"]);
  EXPECT_NEAR(v["rmse"] * v["rmse"], v.loss, 1e-4);  // the MSE loss is the squared RMSE
  EXPECT_EQ(r.loss, "mse");
}

// Independent labels through BCE with logits: macro AUC above 0.97 and F1
// above 0.85 after 10 epochs (0.9997 and 0.991 here).
TEST(TrainJob, MultiLabelWithBceWithLogitsLearnsEveryLabel) {
  manual_seed(4);
  TrainSpec spec = spec_for(mlp(8, 32, 4), {8});
  spec.data.train = multilabel_data(4096, 1);
  spec.data.validation = multilabel_data(1024, 2);
  spec.loss = "bce_with_logits";
  spec.metrics = {"auc", "average_precision", "f1", "precision", "recall"};
  spec.optimizer = {.name = "adam", .lr = 0.01};
  spec.epochs = 10;
  spec.batch_size = 128;
  const TrainReport r = train(spec);
  const optim::Evaluation& v = *r.result.last_validation;
  EXPECT_GT(v["auc"], 0.97);
  EXPECT_GT(v["average_precision"], 0.95);
  EXPECT_GT(v["f1"], 0.85);
}

// Half the samples say class 0, the other half class 1 for the very same
// inputs; weighing the second half zero teaches class 0.
TEST(TrainJob, SampleWeightsDecideWhatIsLearnt) {
  manual_seed(5);
  const int64_t n = 512;
  Tensor x({n, 2}), y({n}, DType::i64), w({n});
  Rng rng(6);
  rng.fill_normal(x.span_f32(), 0.f, 1.f);
  for (int64_t i = 0; i < n; ++i) {
    if (i >= n / 2) std::copy_n(x.f32() + (i - n / 2) * 2, 2, x.f32() + i * 2);
    y.data<int64_t>()[i] = i < n / 2 ? 0 : 1;
    w.f32()[i] = i < n / 2 ? 1.f : 0.f;
  }
  TrainSpec spec = spec_for(mlp(2, 8, 2), {2});
  spec.data.train = data::Dataset(x, y, "contradictory").with_weights(w);
  spec.epochs = 5;
  spec.batch_size = 32;
  const TrainReport r = train(spec);
  Model model{r.trained, "mlp", "", {2}, 2};
  const Tensor out = predict(model, x.narrow(0, n / 2, n / 2).contiguous());
  int64_t zeros = 0;
  for (int64_t i = 0; i < n / 2; ++i) zeros += out.at({i, 0}) > out.at({i, 1});
  EXPECT_EQ(zeros, n / 2);
}

TEST(TrainJob, EpochCallbackStopsTrainingEarly) {
  TrainSpec spec = spec_for(mlp(3, 8, 1), {3});
  spec.data.train = regression_data(256, 1);
  spec.loss = "mse";
  spec.epochs = 10;
  spec.batch_size = 32;
  int epochs_seen = 0;
  spec.on_epoch.push_back([&](const optim::EpochRecord& e) {
    ++epochs_seen;
    return e.epoch == 3 ? optim::Decision::stop : optim::Decision::proceed;
  });
  const TrainReport r = train(spec);
  EXPECT_EQ(epochs_seen, 3);
  EXPECT_EQ(r.result.epochs, 3);
  EXPECT_TRUE(r.result.stopped_by_callback);
}

// An iteration callback's stop takes effect at the next group boundary.
// Alone, a stop asked by an iteration callback ends training after that
// iteration (Ctrl-C in Python); workers agree on it at the next group boundary
// (tests/job/job_mpi_test.cpp).
TEST(TrainJob, IterationCallbackStopsAfterItsIterationAlone) {
  TrainSpec spec = spec_for(mlp(3, 8, 1), {3});
  spec.data.train = regression_data(1024, 1);
  spec.loss = "mse";
  spec.batch_size = 16;
  spec.sync.every = 10;
  int64_t boundaries = 0;
  spec.on_iteration.push_back([&](const optim::IterationRecord& r) {
    boundaries += r.mean_loss.has_value();
    return r.iteration == 13 ? optim::Decision::stop : optim::Decision::proceed;
  });
  const TrainReport r = train(spec);
  EXPECT_EQ(r.result.iterations, 13);
  EXPECT_EQ(boundaries, 1);  // at iteration 10; the one that stops comes after the callback
  EXPECT_TRUE(r.result.stopped_by_callback);
}

TEST(TrainJob, AnyTriggerEndsTheJob) {
  TrainSpec spec = spec_for(mlp(3, 8, 1), {3});
  spec.data.train = regression_data(256, 1);
  spec.data.validation = regression_data(64, 2);
  spec.loss = "mse";
  spec.batch_size = 32;  // 8 iterations per epoch
  spec.end_when = optim::any_of(optim::max_epoch(3), optim::max_iteration(10));
  const TrainReport r = train(spec);
  EXPECT_EQ(r.result.iterations, 10);
  EXPECT_EQ(r.result.epochs, 1);
  ASSERT_EQ(r.result.history.size(), 2u);  // the first epoch and the part of the second
  EXPECT_TRUE(r.result.history[1].validation.has_value());  // validated where training ended
}

TEST(TrainJob, ReportHoldsEveryMetricPerEpoch) {
  TrainSpec spec = spec_for(mlp(8, 16, 4), {8});
  spec.data.train = multilabel_data(512, 1);
  spec.data.validation = multilabel_data(128, 2);
  spec.loss = "bce_with_logits";
  spec.metrics = {"auc", "f1@0.3"};
  spec.epochs = 2;
  const auto j = nlohmann::json::parse(report_json(train(spec)));
  for (const char* key : {"test_auc", "test_f1@0.3", "test_loss", "test_samples", "loss",
                          "train_samples_per_sec", "history"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  ASSERT_EQ(j["history"].size(), 2u);
  EXPECT_TRUE(j["history"][1].contains("test_auc"));
  EXPECT_EQ(j["test_samples"], 128);
}

TEST(TrainJob, ClassIndicesMeetALossOnValuesAsOneHotRows) {
  Tensor x({64, 2}), y({64}, DType::i64);
  for (int64_t i = 0; i < 64; ++i) y.data<int64_t>()[i] = i % 3;
  TrainSpec spec = spec_for(mlp(2, 4, 3), {2});
  spec.data.train = data::Dataset(x, y, "classes");
  spec.data.validation = data::Dataset(x, y, "classes");
  spec.loss = "mse";
  spec.metrics = {"top1", "mae"};
  spec.epochs = 1;
  spec.batch_size = 16;
  const TrainReport r = train(spec);
  EXPECT_EQ(r.result.last_validation->samples, 64);
}

TEST(TrainJob, BadSpecsNameTheField) {
  TrainSpec spec;
  spec.loss = "hinge";
  EXPECT_EQ(error_of([&] { validate(spec); }),
            "loss: unknown loss 'hinge' (known: cross_entropy, nll, mse, l1, smooth_l1, bce, "
            "bce_with_logits, kl_div)");
  spec = {};
  spec.metrics = {"top1", "accuracy"};
  EXPECT_NE(error_of([&] { validate(spec); }).find("metrics: unknown metric 'accuracy'"),
            std::string::npos);
  spec = {};
  spec.sync.compress = "fp16";
  spec.sync.strategy = "driver";
  EXPECT_EQ(error_of([&] { validate(spec); }), "compress: fp16 needs sync sharded");
  spec = {};
  spec.checkpoint.every = 10;
  EXPECT_EQ(error_of([&] { validate(spec); }), "checkpoint_every: needs checkpoint DIR");
  spec = {};
  spec.epochs = 0;
  spec.field_names = [](const std::string& f) { return "keyword " + f; };
  EXPECT_EQ(error_of([&] { validate(spec); }), "keyword epochs: must be a positive integer, got 0");
}

TEST(TrainJob, DataAndModelThatDisagreeAreNamed) {
  TrainSpec spec = spec_for(mlp(3, 4, 2), {3});
  spec.data.train = regression_data(64, 1);  // one value per sample, the model gives two
  spec.loss = "cross_entropy";
  EXPECT_EQ(error_of([&] { train(spec); }),
            "CrossEntropy takes class indices, the training data regression has values (one-hot "
            "encode class indices for a loss on values)");
  Tensor x({8, 5}), y({8}, DType::i64);
  spec.data.train = data::Dataset(x, y, "five features");
  EXPECT_EQ(error_of([&] { train(spec); }),
            "Sequential: the model takes samples of shape [3], the training data (five features) "
            "has [5]");
  y.data<int64_t>()[6] = 7;
  spec.data.train = data::Dataset(Tensor({8, 3}), y, "labels");
  EXPECT_EQ(error_of([&] { train(spec); }), "labels: sample 6 has class 7, outside [0, 2)");
}

// Class weights as a weight per sample: scikit-learn's "balanced" rule,
// named weights (others 1), and what is refused.
TEST(ClassWeights, BalancedAndNamedWeightsAndErrors) {
  Tensor x({6, 1});
  const Tensor y = Tensor::from_vector(std::vector<int64_t>{0, 0, 0, 0, 1, 2}, {6});
  const data::Source d = data::Dataset(x, y, "d");
  auto weights = [](const data::Source& s) {
    const Tensor& w = s.dataset().weights();
    return std::vector<float>(w.f32(), w.f32() + w.numel());
  };
  // 6 samples, 3 classes present: 6 / (3 x 4), 6 / (3 x 1), 6 / (3 x 1).
  EXPECT_EQ(weights(weigh_classes(d, "balanced", 4, "--class-weight")),
            (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f, 2.f, 2.f}));
  EXPECT_EQ(weights(weigh_classes(d, "1:10,2:0.5", 3, "--class-weight")),
            (std::vector<float>{1, 1, 1, 1, 10, 0.5f}));
  EXPECT_FALSE(weigh_classes(d, "", 3, "x").dataset().weights().defined());
  for (const char* bad : {"3:1", "1=2", "1:-1", "a:1", "1:"}) {
    try {
      weigh_classes(d, bad, 3, "--class-weight");
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--class-weight: '"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace bdl::job
