#include "bdl/nn/pooling.h"

#include "support/layer_case.h"

namespace bdl::testing {
namespace {

// Max pooling is piecewise linear: the fixture inputs are distinct values 0.1
// apart, so a 1e-2 finite-difference step never changes a window's argmax.
INSTANTIATE_TEST_SUITE_P(
    MaxPool2d, LayerTest,
    ::testing::Values(
        LayerCase{"max_pool2d_2", [] { return std::make_unique<nn::MaxPool2d>(2); }},
        LayerCase{"max_pool2d_3s2p1_ceil",
                  [] {
                    return std::make_unique<nn::MaxPool2d>(nn::MaxPool2dOptions{
                        .kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true});
                  }},
        LayerCase{"max_pool2d_odd_floor", [] { return std::make_unique<nn::MaxPool2d>(2); }},
        LayerCase{"global_max_pool2d", [] { return std::make_unique<nn::GlobalMaxPool2d>(); }}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    AvgPool2d, LayerTest,
    ::testing::Values(LayerCase{"avg_pool2d_3s2p1",
                                [] {
                                  return std::make_unique<nn::AvgPool2d>(
                                      nn::AvgPool2dOptions{.kernel = 3, .stride = 2, .padding = 1});
                                }},
                      // Ceil mode: the last window runs past the padding and divides by its
                      // clipped size, as PyTorch does.
                      LayerCase{"avg_pool2d_ceil_clipped",
                                [] {
                                  return std::make_unique<nn::AvgPool2d>(nn::AvgPool2dOptions{
                                      .kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true});
                                }},
                      LayerCase{"avg_pool2d_exclude_pad",
                                [] {
                                  return std::make_unique<nn::AvgPool2d>(
                                      nn::AvgPool2dOptions{.kernel = 3,
                                                           .stride = 2,
                                                           .padding = 1,
                                                           .ceil_mode = true,
                                                           .count_include_pad = false});
                                }},
                      LayerCase{"global_avg_pool2d",
                                [] { return std::make_unique<nn::GlobalAvgPool2d>(); }}),
    case_name);

TEST(MaxPool2d, CeilModeOutputShapeMatchesPyTorchRule) {
  nn::MaxPool2d pool({.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true});
  // PyTorch: ceil((8 + 2 - 3) / 2) + 1 = 5, and the last window starts inside.
  EXPECT_EQ(pool.output_shape({1, 1, 8, 8}), (Shape{1, 1, 5, 5}));
  nn::MaxPool2d floor_pool({.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = false});
  EXPECT_EQ(floor_pool.output_shape({1, 1, 8, 8}), (Shape{1, 1, 4, 4}));
}

TEST(MaxPool2d, RejectsBadOptionsAndInputs) {
  EXPECT_THROW(nn::MaxPool2d({.kernel = 2, .stride = {}, .padding = 2}), Error);
  nn::MaxPool2d pool(2);
  EXPECT_THROW(pool.forward(Tensor({4, 4})), Error);
  EXPECT_THROW(pool.forward(Tensor({1, 1, 1, 1})), Error);
}

}  // namespace
}  // namespace bdl::testing
