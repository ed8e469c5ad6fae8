#include "bdl/nn/batch_norm.h"
#include "bdl/nn/lrn.h"
#include "support/layer_case.h"

namespace bdl::testing {
namespace {

std::unique_ptr<nn::Module> bn(nn::BatchNormOptions o) {
  return std::make_unique<nn::BatchNorm>(o);
}

// BatchNorm's finite differences see the batch statistics move with the input,
// as the analytic gradient does in training mode.
INSTANTIATE_TEST_SUITE_P(
    BatchNorm, LayerTest,
    ::testing::Values(
        LayerCase{"batch_norm2d", [] { return bn({.num_features = 3}); }, 1e-4, 1e-5, {}, false},
        LayerCase{"batch_norm2d_batch_1", [] { return bn({.num_features = 2, .momentum = 0.3f}); }},
        LayerCase{"batch_norm1d", [] { return bn({.num_features = 5}); }, 1e-4, 1e-5, {}, false},
        LayerCase{"batch_norm1d_seq",
                  [] { return bn({.num_features = 3, .affine = false}); },
                  1e-4,
                  1e-5,
                  {},
                  false},
        LayerCase{"batch_norm2d_eval", [] { return bn({.num_features = 3}); }}),
    case_name);

INSTANTIATE_TEST_SUITE_P(LRN, LayerTest,
                         ::testing::Values(LayerCase{
                             "lrn",
                             [] {
                               return std::make_unique<nn::LRN>(nn::LrnOptions{
                                   .size = 5, .alpha = 0.1f, .beta = 0.75f, .k = 2.f});
                             }}),
                         case_name);

TEST(BatchNorm, NeedsMoreThanOneValuePerChannelToTrain) {
  nn::BatchNorm norm(4);
  norm.set_name("bn1");
  try {
    norm.forward(Tensor({1, 4}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "bn1: expected more than 1 value per channel when training, got input of shape "
                 "[1, 4]");
  }
  norm.eval();
  EXPECT_EQ(norm.forward(Tensor({1, 4})).shape(), (Shape{1, 4}));
}

TEST(BatchNorm, RejectsWrongChannelCount) {
  nn::BatchNorm norm(3);
  EXPECT_THROW(norm.forward(Tensor({2, 4, 5, 5})), Error);
  EXPECT_THROW(norm.forward(Tensor({2})), Error);
  EXPECT_THROW(nn::BatchNorm(0), Error);
}

TEST(BatchNorm, EvaluationUsesRunningStatistics) {
  nn::BatchNorm norm(2);
  norm.running_mean().copy_from(Tensor::from_vector(std::vector<float>{1.f, -2.f}, {2}));
  norm.running_var().copy_from(Tensor::from_vector(std::vector<float>{4.f, 0.25f}, {2}));
  norm.eval();
  const Tensor x = Tensor::from_vector(std::vector<float>{3.f, -1.f}, {1, 2});
  const Tensor& y = norm.forward(x);
  EXPECT_NEAR(y.at({0, 0}), (3.f - 1.f) / std::sqrt(4.f + 1e-5f), 1e-5);
  EXPECT_NEAR(y.at({0, 1}), (-1.f + 2.f) / std::sqrt(0.25f + 1e-5f), 1e-5);
}

TEST(BatchNorm, ListsItsRunningStatisticsAsBuffers) {
  nn::BatchNorm norm(3);
  const auto buffers = norm.buffers();
  ASSERT_EQ(buffers.size(), 2U);
  EXPECT_EQ(buffers[0].name, "running_mean");
  EXPECT_EQ(buffers[1].name, "running_var");
  EXPECT_TRUE(nn::BatchNorm({.num_features = 3, .track_running_stats = false}).buffers().empty());
}

TEST(LRN, RejectsEvenWindows) { EXPECT_THROW(nn::LRN({.size = 4}), Error); }

}  // namespace
}  // namespace bdl::testing
