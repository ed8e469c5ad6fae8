#include "bdl/nn/conv2d.h"

#include <algorithm>
#include <cmath>

#include "bdl/nn/conv_transpose2d.h"
#include "support/layer_case.h"

namespace bdl::testing {
namespace {

std::unique_ptr<nn::Module> conv(nn::Conv2dOptions o) { return std::make_unique<nn::Conv2d>(o); }

INSTANTIATE_TEST_SUITE_P(
    Conv2d, LayerTest,
    ::testing::Values(
        LayerCase{
            "conv2d_pad1",
            [] { return conv({.in_channels = 2, .out_channels = 3, .kernel = 3, .padding = 1}); }},
        LayerCase{
            "conv2d_stride2_rect",
            [] {
              return conv({.in_channels = 3, .out_channels = 4, .kernel = {3, 2}, .stride = 2});
            }},
        LayerCase{"conv2d_groups_dilation",
                  [] {
                    return conv({.in_channels = 4,
                                 .out_channels = 6,
                                 .kernel = 3,
                                 .padding = 2,
                                 .dilation = 2,
                                 .groups = 2,
                                 .bias = false});
                  }},
        LayerCase{
            "conv2d_lenet1",
            [] { return conv({.in_channels = 1, .out_channels = 6, .kernel = 5, .padding = 2}); }}),
    case_name);

TEST(Conv2d, RejectsWrongChannelCount) {
  nn::Conv2d c({.in_channels = 1, .out_channels = 6, .kernel = 5});
  c.set_name("conv1");
  try {
    c.forward(Tensor({2, 3, 28, 28}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "conv1: input has 3 channels, weight expects 1");
  }
}

TEST(Conv2d, RejectsInputSmallerThanKernel) {
  nn::Conv2d c({.in_channels = 1, .out_channels = 2, .kernel = 5});
  EXPECT_THROW(c.forward(Tensor({1, 1, 3, 3})), Error);
  EXPECT_THROW(c.forward(Tensor({1, 28, 28})), Error);
}

TEST(Conv2d, RejectsGroupsThatDoNotDivideChannels) {
  EXPECT_THROW(nn::Conv2d({.in_channels = 3, .out_channels = 4, .kernel = 1, .groups = 2}), Error);
}

TEST(Conv2d, HandlesSeveralBatchSizes) {
  nn::Conv2d c({.in_channels = 2, .out_channels = 3, .kernel = 3, .padding = 1});
  Tensor big({4, 2, 6, 6});
  global_rng().fill_uniform(big.span_f32(), -1, 1);
  const Tensor all = c.forward(big).clone();
  const Tensor one = c.forward(big.narrow(0, 2, 1)).clone();
  EXPECT_TRUE(all_close(one, all.contiguous().narrow(0, 2, 1).contiguous(), 1e-6, 1e-6));
}

}  // namespace
}  // namespace bdl::testing

namespace bdl::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(ConvTranspose2d, LayerTest,
                         ::testing::Values(LayerCase{"conv_transpose2d",
                                                     [] {
                                                       return std::make_unique<nn::ConvTranspose2d>(
                                                           nn::ConvTranspose2dOptions{
                                                               .in_channels = 3,
                                                               .out_channels = 4,
                                                               .kernel = 3,
                                                               .stride = 2,
                                                               .padding = 1,
                                                               .output_padding = 1});
                                                     }},
                                           LayerCase{"conv_transpose2d_groups_dilation",
                                                     [] {
                                                       return std::make_unique<nn::ConvTranspose2d>(
                                                           nn::ConvTranspose2dOptions{
                                                               .in_channels = 4,
                                                               .out_channels = 6,
                                                               .kernel = {2, 3},
                                                               .stride = {1, 2},
                                                               .padding = {0, 1},
                                                               .dilation = {2, 1},
                                                               .groups = 2,
                                                               .bias = false});
                                                     }}),
                         case_name);

INSTANTIATE_TEST_SUITE_P(Conv2dMore, LayerTest,
                         ::testing::Values(LayerCase{"conv2d_asymmetric_pad",
                                                     [] {
                                                       return conv(
                                                           {.in_channels = 2,
                                                            .out_channels = 3,
                                                            .kernel = 3,
                                                            .stride = 2,
                                                            .padding = {1, 0},
                                                            .padding_end = nn::Size2{2, 1}});
                                                     }},
                                           LayerCase{"conv2d_batch_1",
                                                     [] {
                                                       return conv({.in_channels = 3,
                                                                    .out_channels = 4,
                                                                    .kernel = 3,
                                                                    .padding = 1});
                                                     }}),
                         case_name);

}  // namespace
}  // namespace bdl::testing

#include "bdl/kernels/backend.h"

namespace bdl::testing {
namespace {

// oneDNN's automatic choice takes Winograd for 3x3 stride-1 layers of this size
// on AVX-512; its results match direct convolution to float rounding, forward
// and backward.
TEST(Conv2d, AutomaticAlgorithmMatchesDirectConvolution) {
  Tensor x({16, 64, 28, 28});
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  Tensor gy({16, 64, 28, 28});
  global_rng().fill_uniform(gy.span_f32(), -1, 1);
  auto run = [&](kernels::ConvAlgorithm algorithm, std::string* implementation) {
    kernels::set_conv_algorithm(algorithm);
    manual_seed(5);
    nn::Conv2d c({.in_channels = 64, .out_channels = 64, .kernel = 3, .padding = 1});
    c.zero_grad();
    std::vector<Tensor> out{c.forward(x).contiguous().clone()};
    out.push_back(c.backward(x, gy).contiguous().clone());
    out.push_back(c.parameters()[0].grad->clone());
    if (implementation) *implementation = c.implementation(x.shape());
    return out;
  };
  std::string automatic_impl;
  const auto direct = run(kernels::ConvAlgorithm::direct, nullptr);
  const auto automatic = run(kernels::ConvAlgorithm::automatic, &automatic_impl);
  kernels::set_conv_algorithm(kernels::ConvAlgorithm::automatic);
  // The weight gradient sums 12544 products per element (magnitude ~40): an
  // element near 0 can only be compared to the tensor's scale, so the absolute
  // tolerance is 1e-5 of the largest element (Winograd's rounding differs by CPU:
  // AVX-512 with AMX gives 2e-4 on an element of 0.31 out of ~40).
  for (size_t i = 0; i < direct.size(); ++i) {
    float scale = 0.f;
    for (float v : direct[i].span_f32()) scale = std::max(scale, std::fabs(v));
    EXPECT_TRUE(all_close(automatic[i], direct[i], 1e-4, std::max(1e-4, 1e-5 * scale)))
        << "output " << i << " with " << automatic_impl;
  }
  if (kernels::backend_isa().find("avx512") != std::string::npos) {
    EXPECT_NE(automatic_impl.find("wino"), std::string::npos) << automatic_impl;
  }
}

}  // namespace
}  // namespace bdl::testing

namespace bdl::testing {
namespace {

double max_relative_difference(const Tensor& a, const Tensor& b) {
  const auto x = a.contiguous().to_vector(), y = b.contiguous().to_vector();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::abs(double{x[i]} - y[i]));
    scale = std::max(scale, std::abs(double{y[i]}));
  }
  return diff / scale;
}

// Mixed precision: bf16 operands (8 significant bits) with fp32 accumulation
// stay within 1% of fp32 forward and backward; weights and their gradients stay
// fp32 buffers.
TEST(Conv2d, Bf16ComputeIsCloseToFp32) {
  if (kernels::backend_isa().find("bf16") == std::string::npos) {
    GTEST_SKIP() << "no AVX512-BF16 on this CPU (" << kernels::backend_isa() << ")";
  }
  Tensor x({8, 32, 14, 14}), gy({8, 32, 14, 14});
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  global_rng().fill_uniform(gy.span_f32(), -1, 1);
  auto run = [&](kernels::Precision precision, std::string* implementation) {
    kernels::set_compute_precision(precision);
    manual_seed(5);
    nn::Conv2d c({.in_channels = 32, .out_channels = 32, .kernel = 3, .padding = 1});
    c.zero_grad();
    std::vector<Tensor> out{c.forward(x).contiguous().clone()};
    out.push_back(c.backward(x, gy).contiguous().clone());
    out.push_back(c.parameters()[0].grad->clone());
    out.push_back(c.parameters()[1].grad->clone());
    if (implementation) *implementation = c.implementation(x.shape());
    return out;
  };
  const auto fp32 = run(kernels::Precision::fp32, nullptr);
  std::string impl;
  const auto bf16 = run(kernels::Precision::bf16, &impl);
  kernels::set_compute_precision(kernels::Precision::fp32);
  EXPECT_NE(impl.find("bf16"), std::string::npos) << impl;
  const char* what[] = {"output", "input gradient", "weight gradient", "bias gradient"};
  for (size_t i = 0; i < fp32.size(); ++i) {
    const double d = max_relative_difference(bf16[i], fp32[i]);
    EXPECT_LT(d, 1e-2) << what[i];
    EXPECT_GT(d, 0.0) << what[i] << ": bf16 gave fp32's exact result, so it did not run";
  }
}

}  // namespace
}  // namespace bdl::testing
