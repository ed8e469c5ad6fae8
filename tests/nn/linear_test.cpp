#include "bdl/nn/linear.h"

#include "support/layer_case.h"

namespace bdl::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Linear, LayerTest,
    ::testing::Values(
        LayerCase{"linear", [] { return std::make_unique<nn::Linear>(5, 3); }},
        LayerCase{"linear_no_bias", [] { return std::make_unique<nn::Linear>(6, 4, false); }},
        LayerCase{"linear_batch_1", [] { return std::make_unique<nn::Linear>(7, 2); }}),
    case_name);

TEST(Linear, RejectsInputOfWrongWidth) {
  nn::Linear fc(5, 3);
  fc.set_name("fc1");
  try {
    fc.forward(Tensor({2, 4}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc1: input of shape [2, 4]"), std::string::npos)
        << e.what();
  }
}

TEST(Linear, TreatsLeadingDimensionsAsBatch) {
  nn::Linear fc(4, 2);
  Tensor x({3, 5, 4});
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  const Tensor y = fc.forward(x).clone();
  ASSERT_EQ(y.shape(), (Shape{3, 5, 2}));
  const Tensor flat = fc.forward(x.view({15, 4}));
  EXPECT_TRUE(all_close(y.view({15, 2}), flat, 0, 0));
}

}  // namespace
}  // namespace bdl::testing
