#include "bdl/optim/optimizer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/flat_parameters.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/losses/cross_entropy.h"
#include "bdl/optim/schedule.h"
#include "bdl/optim/sgd.h"

namespace bdl::optim {
namespace {

bool have_fashion_mnist() { return std::filesystem::exists("/usr/share/datasets/fashion-mnist"); }

TEST(Triggers, FireWhenTheirConditionHolds) {
  Position s;
  s.iteration = 10;
  EXPECT_TRUE(max_iteration(10).fires(s));
  EXPECT_FALSE(max_iteration(11).fires(s));
  EXPECT_TRUE(several_iteration(5).fires(s));
  EXPECT_FALSE(several_iteration(3).fires(s));
  EXPECT_FALSE(every_epoch().fires(s));
  s.epoch_end = true;
  s.epochs_completed = 2;
  EXPECT_TRUE(every_epoch().fires(s));
  EXPECT_TRUE(max_epoch(2).fires(s));
  EXPECT_FALSE(max_epoch(3).fires(s));
  EXPECT_TRUE(any_of(max_epoch(3), max_iteration(5)).fires(s));
  EXPECT_THROW(max_epoch(0), Error);
}

TEST(Triggers, AreDataThatDescribeThemselves) {
  const Trigger t = any_of(max_epoch(3), max_iteration(500));
  EXPECT_EQ(t.kind, Trigger::Kind::any_of);
  EXPECT_EQ(t.describe(), "max_epoch(3) or max_iteration(500)");
  EXPECT_EQ(t.epochs(), 3);
  EXPECT_FALSE(max_iteration(5).epochs().has_value());
  EXPECT_EQ(any_of(max_epoch(7), any_of(max_epoch(4), every_epoch())).epochs(), 4);
}

// Trains LeNet-5 briefly on a subset of Fashion-MNIST. A random model scores
// about 0.10; a single epoch over 12,000 samples reaches about 0.78 here, so 0.70
// leaves room for seed and summation-order variation while catching any real
// breakage of forward, backward or update.
TEST(Optimizer, LeNet5LearnsFashionMnistSubset) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  set_num_threads(2);
  manual_seed(1);
  const auto train = data::mnist_like("fashion-mnist", data::Split::train)
                         .map(data::kFashionMnistNormalize)
                         .take(12000);
  const auto test = data::mnist_like("fashion-mnist", data::Split::test)
                        .map(data::kFashionMnistNormalize)
                        .take(2000);
  auto model = models::lenet5(10);
  nn::CrossEntropy ce;
  Optimizer opt(*model, train, ce);
  opt.method(SGD({.lr = 0.05, .momentum = 0.9}))
      .batch_size(64)
      .end_when(max_epoch(1))
      .validate(every_epoch(), test)
      .progress(ProgressStyle::quiet);
  const TrainResult r = opt.optimize();
  EXPECT_EQ(r.epochs, 1);
  EXPECT_EQ(r.iterations, 12000 / 64);
  ASSERT_TRUE(r.last_validation.has_value());
  EXPECT_EQ(r.last_validation->samples, 2000);
  EXPECT_GT((*r.last_validation)["top1"], 0.70);
  EXPECT_LT(r.last_loss, 1.0);
}

// Same seed, same data order, same thread count: bit-identical weights.
TEST(Optimizer, SameSeedGivesIdenticalWeights) {
  auto run = [](uint64_t seed) {
    manual_seed(seed);
    Tensor x({256, 1, 28, 28}, DType::u8);
    Tensor y({256}, DType::i64);
    Rng rng(3);
    for (int64_t i = 0; i < x.numel(); ++i)
      x.data<uint8_t>()[i] = static_cast<uint8_t>(rng.below(256));
    for (int64_t i = 0; i < 256; ++i) y.data<int64_t>()[i] = static_cast<int64_t>(rng.below(10));
    const data::Dataset d(x, y, "random");
    auto model = models::lenet5(10);
    nn::CrossEntropy ce;
    Optimizer opt(*model, d, ce);
    opt.method(SGD({.lr = 0.01, .momentum = 0.9}))
        .batch_size(32)
        .end_when(max_iteration(12))
        .seed(seed)
        .progress(ProgressStyle::quiet);
    opt.optimize();
    return nn::compact(*model).weights.to_vector();
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

// Buffers are planned at the first iteration for a batch shape and reused: later
// iterations allocate no tensor storage (first-touching fresh pages is what makes
// frameworks slow on machines like this one). Gradients pass through the pool of
// idle blocks (Tensor::recycle), whose best fits settle in the second iteration:
// LeNet-5's second backward maps 2 small blocks, and none after.
TEST(Optimizer, IterationsAfterTheSecondAllocateNoTensorStorage) {
  for (const char* name : {"lenet5", "mlp"}) {
    manual_seed(1);
    auto model = models::make(name);
    nn::FlatParameters flat = nn::compact(*model);
    model->set_needs_input_grad(false);
    Tensor x({32, 1, 28, 28});
    global_rng().fill_uniform(x.span_f32(), -1, 1);
    Tensor y({32}, DType::i64);
    nn::CrossEntropy ce;
    SGD sgd({.lr = 0.01, .momentum = 0.9});
    auto step = [&] {
      model->zero_grad();
      const Tensor& out = model->forward(x);
      ce.forward(out, y);
      model->backward(x, ce.backward(out, y));
      sgd.step(flat.weights.span_f32(), flat.grads.span_f32());
    };
    step();  // plans every buffer for this batch shape
    step();  // the pool's blocks settle
    const int64_t before = Storage::allocations();
    for (int i = 0; i < 5; ++i) step();
    EXPECT_EQ(Storage::allocations(), before) << name;
  }
}

TEST(Optimizer, MaxIterationStopsMidEpoch) {
  Tensor x({100, 4});
  Tensor y({100}, DType::i64);
  const data::Dataset d(x, y, "zeros");
  nn::Sequential model;
  model.emplace<nn::Linear>(4, 2);
  nn::CrossEntropy ce;
  Optimizer opt(model, d, ce);
  opt.method(SGD({.lr = 0.1}))
      .batch_size(10)
      .end_when(max_iteration(7))
      .progress(ProgressStyle::quiet);
  const TrainResult r = opt.optimize();
  EXPECT_EQ(r.iterations, 7);
  EXPECT_EQ(r.epochs, 0);
}

// Schedules count epochs from 0, as PyTorch's: the first epoch runs at the base
// rate, each later one at gamma times the one before (StepLR(1, gamma)).
TEST(Optimizer, FirstEpochRunsAtTheScheduleStart) {
  Tensor x({40, 4});
  Tensor y({40}, DType::i64);
  const data::Dataset d(x, y, "zeros");
  nn::Sequential model;
  model.emplace<nn::Linear>(4, 2);
  nn::CrossEntropy ce;
  Optimizer opt(model, d, ce);
  std::vector<double> rates;
  opt.method(SGD({.lr = 0.1}))
      .schedule(step_lr(1, 0.5))
      .batch_size(10)
      .end_when(max_epoch(3))
      .progress(ProgressStyle::quiet)
      .on_iteration([&](const IterationRecord& r) {
        rates.push_back(r.learning_rate);
        return Decision::proceed;
      });
  opt.optimize();
  ASSERT_EQ(rates.size(), 12u);
  EXPECT_DOUBLE_EQ(rates[0], 0.1);
  EXPECT_DOUBLE_EQ(rates[3], 0.1);
  EXPECT_DOUBLE_EQ(rates[4], 0.05);
  EXPECT_DOUBLE_EQ(rates[11], 0.025);
}

TEST(Optimizer, RejectsBatchLargerThanDataset) {
  Tensor x({10, 4});
  Tensor y({10}, DType::i64);
  const data::Dataset d(x, y, "small");
  nn::Sequential model;
  model.emplace<nn::Linear>(4, 2);
  nn::CrossEntropy ce;
  Optimizer opt(model, d, ce);
  opt.method(SGD({.lr = 0.1})).batch_size(11).end_when(max_epoch(1));
  EXPECT_THROW(opt.optimize(), Error);
}

}  // namespace
}  // namespace bdl::optim
