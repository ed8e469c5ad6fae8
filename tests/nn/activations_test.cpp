#include "bdl/nn/activations.h"

#include "bdl/nn/log_softmax.h"
#include "bdl/nn/reshape.h"
#include "support/layer_case.h"

namespace bdl::testing {
namespace {

// ReLU's fixture input keeps every value at least 0.05 from the kink at 0.
INSTANTIATE_TEST_SUITE_P(
    Activations, LayerTest,
    ::testing::Values(LayerCase{"relu", [] { return std::make_unique<nn::ReLU>(); }},
                      LayerCase{"log_softmax", [] { return std::make_unique<nn::LogSoftMax>(); }},
                      LayerCase{"flatten", [] { return std::make_unique<nn::Flatten>(); }}),
    case_name);

TEST(Reshape, ViewsWithoutCopying) {
  nn::Reshape r({2, -1});
  Tensor x({3, 4, 2});
  const Tensor& y = r.forward(x);
  EXPECT_EQ(y.shape(), (Shape{3, 2, 4}));
  EXPECT_EQ(y.f32(), x.f32());
  EXPECT_THROW(r.forward(Tensor({3, 5})), Error);
}

TEST(LogSoftMax, IsStableForLargeLogits) {
  nn::LogSoftMax m;
  const Tensor x = Tensor::from_vector(std::vector<float>{1000.f, 0.f, -1000.f}, {1, 3});
  const Tensor& y = m.forward(x);
  // Exact results are 0, -1000, -2000; float32 spacing at 1000 is 6e-5.
  EXPECT_NEAR(y.at({0, 0}), 0.f, 1e-4);
  EXPECT_NEAR(y.at({0, 1}), -1000.f, 1e-3);
  EXPECT_NEAR(y.at({0, 2}), -2000.f, 1e-3);
}

}  // namespace
}  // namespace bdl::testing
