#include "bdl/nn/activations.h"

#include <cmath>

#include "bdl/nn/conv2d.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/softmax.h"
#include "support/layer_case.h"

namespace bdl::testing {
namespace {

// ReLU's fixture input keeps every value at least 0.05 from the kink at 0.
INSTANTIATE_TEST_SUITE_P(
    Activations, LayerTest,
    ::testing::Values(
        LayerCase{"relu", [] { return std::make_unique<nn::ReLU>(); }},
        LayerCase{"log_softmax", [] { return std::make_unique<nn::LogSoftMax>(); }},
        LayerCase{"flatten", [] { return std::make_unique<nn::Flatten>(); }},
        LayerCase{"tanh", [] { return std::make_unique<nn::Tanh>(); }},
        LayerCase{"sigmoid", [] { return std::make_unique<nn::Sigmoid>(); }},
        LayerCase{"leaky_relu", [] { return std::make_unique<nn::LeakyReLU>(0.1f); }},
        LayerCase{"elu", [] { return std::make_unique<nn::ELU>(1.3f); }},
        LayerCase{"gelu", [] { return std::make_unique<nn::GELU>(); }},
        LayerCase{"gelu_tanh", [] { return std::make_unique<nn::GELU>(true); }},
        LayerCase{"softplus", [] { return std::make_unique<nn::SoftPlus>(2.f, 3.f); }},
        LayerCase{"hardtanh", [] { return std::make_unique<nn::HardTanh>(-0.5f, 0.8f); }},
        LayerCase{"prelu", [] { return std::make_unique<nn::PReLU>(); }},
        LayerCase{"prelu_channels", [] { return std::make_unique<nn::PReLU>(3, 0.1f); }},
        LayerCase{"softmax_dim1", [] { return std::make_unique<nn::SoftMax>(1); }},
        LayerCase{"log_softmax_dim1", [] { return std::make_unique<nn::LogSoftMax>(1); }},
        LayerCase{"identity", [] { return std::make_unique<nn::Identity>(); }}),
    case_name);

TEST(Activations, WorkInTheLayoutOfABlockedConvolutionOutput) {
  // A convolution's output may be in oneDNN's channel-blocked layout; an eltwise
  // activation runs on it as it is and gives the same values as on plain data.
  nn::Conv2d conv({.in_channels = 3, .out_channels = 16, .kernel = 3, .padding = 1});
  Tensor x({2, 3, 6, 6});
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  const Tensor& y = conv.forward(x);
  nn::Tanh tanh;
  const Tensor z = tanh.forward(y).contiguous();
  const auto plain = y.contiguous().to_vector();
  const auto got = z.to_vector();
  ASSERT_EQ(got.size(), plain.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], std::tanh(plain[i]), 1e-6) << i;
}

TEST(Activations, RejectBadOptions) {
  EXPECT_THROW(nn::HardTanh(1.f, -1.f), Error);
  EXPECT_THROW(nn::SoftPlus(0.f), Error);
  EXPECT_THROW(nn::PReLU(0), Error);
  nn::PReLU per_channel(3);
  EXPECT_THROW(per_channel.forward(Tensor({2, 4, 5})), Error);
  nn::SoftMax bad_dim(3);
  EXPECT_THROW(bad_dim.forward(Tensor({2, 3})), Error);
}

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
