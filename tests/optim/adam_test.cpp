#include "bdl/optim/adam.h"

#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "support/tensor_matchers.h"

namespace bdl::testing {
namespace {

class AdamTest : public ::testing::TestWithParam<std::string> {};

// Every step against torch.optim.Adam fed the same gradients. The tolerance
// allows float32 against PyTorch's float32 with a different operation order in
// the denominator (sqrt(v) / sqrt(c2) versus sqrt(v / c2)).
TEST_P(AdamTest, StepsMatchTorchOptim) {
  static const auto fixtures = load_fixture("optimizers.json");
  const auto& c = find_case(fixtures, GetParam());
  const auto& o = c["options"];
  std::vector<double> betas = o.value("betas", std::vector<double>{0.9, 0.999});
  optim::Adam adam({.lr = o.value("lr", 1e-3),
                    .beta1 = betas[0],
                    .beta2 = betas[1],
                    .eps = o.value("eps", 1e-8),
                    .weight_decay = o.value("weight_decay", 0.0)});
  Tensor w = tensor_of(c["initial"]);
  for (size_t s = 0; s < c["grads"].size(); ++s) {
    const Tensor g = tensor_of(c["grads"][s]);
    adam.step(w.span_f32(), g.span_f32());
    EXPECT_TRUE(all_close(w, tensor_of(c["weights"][s]), 1e-5, 1e-6)) << "step " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Adam, AdamTest, ::testing::Values("adam", "adam_wd_betas"));

TEST(Adam, StateIsSizedToItsSlice) {
  optim::Adam adam({.lr = 0.1});
  std::vector<float> w(10, 1.f), g(10, 1.f);
  adam.step(std::span(w).subspan(2, 5), std::span<const float>(g).subspan(2, 5));
  EXPECT_EQ(adam.first_moment().size(), 5u);
  EXPECT_NEAR(w[2], 0.9f, 1e-6);  // the first Adam step moves by lr * sign(g)
  EXPECT_EQ(w[0], 1.f);
  EXPECT_THROW(optim::Adam({.beta1 = 1.0}), Error);
}

}  // namespace
}  // namespace bdl::testing
