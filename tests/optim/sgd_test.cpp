#include "bdl/optim/sgd.h"

#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "support/tensor_matchers.h"

namespace bdl::testing {
namespace {

optim::SGDOptions options_of(const nlohmann::json& j) {
  return {.lr = j.value("lr", 0.01),
          .momentum = j.value("momentum", 0.0),
          .dampening = j.value("dampening", 0.0),
          .weight_decay = j.value("weight_decay", 0.0),
          .nesterov = j.value("nesterov", false)};
}

class SGDTest : public ::testing::TestWithParam<std::string> {};

// Every step against torch.optim.SGD fed the same gradients.
TEST_P(SGDTest, StepsMatchTorchOptim) {
  static const auto fixtures = load_fixture("optimizers.json");
  const auto& c = find_case(fixtures, GetParam());
  optim::SGD sgd(options_of(c["options"]));
  Tensor w = tensor_of(c["initial"]);
  for (size_t s = 0; s < c["grads"].size(); ++s) {
    const Tensor g = tensor_of(c["grads"][s]);
    sgd.step(w.span_f32(), g.span_f32());
    EXPECT_TRUE(all_close(w, tensor_of(c["weights"][s]), 1e-6, 1e-7)) << "step " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Sgd, SGDTest,
                         ::testing::Values("sgd_plain", "sgd_momentum", "sgd_nesterov_wd",
                                           "sgd_dampening"));

TEST(SGD, StateIsSizedToItsSlice) {
  optim::SGD sgd({.lr = 0.1, .momentum = 0.9});
  std::vector<float> w(10, 1.f), g(10, 1.f);
  sgd.step(std::span(w).subspan(3, 4), std::span<const float>(g).subspan(3, 4));
  EXPECT_EQ(sgd.momentum_buffer().size(), 4u);
  EXPECT_FLOAT_EQ(w[3], 0.9f);
  EXPECT_FLOAT_EQ(w[0], 1.f);
}

TEST(SGD, RejectsBadOptions) {
  EXPECT_THROW(optim::SGD({.lr = -1}), Error);
  EXPECT_THROW(optim::SGD({.lr = 0.1, .nesterov = true}), Error);
}

}  // namespace
}  // namespace bdl::testing
