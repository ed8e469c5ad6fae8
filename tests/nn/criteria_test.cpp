#include <gtest/gtest.h>

#include "bdl/nn/losses/bce_with_logits.h"
#include "bdl/nn/losses/class_nll.h"
#include "bdl/nn/losses/cross_entropy.h"
#include "bdl/nn/losses/elementwise.h"
#include "bdl/nn/losses/kl_div.h"
#include "support/fixtures.h"
#include "support/gradient_check.h"
#include "support/tensor_matchers.h"

namespace bdl::testing {
namespace {

const nlohmann::json& losses() {
  static const nlohmann::json all = load_fixture("losses.json");
  return all;
}

std::unique_ptr<nn::Criterion> make(const nlohmann::json& c) {
  const std::string name = c["name"];
  const Tensor weights = c.contains("class_weights") ? tensor_of(c["class_weights"]) : Tensor();
  using nn::Reduction;
  if (name == "cross_entropy_smoothing") return std::make_unique<nn::CrossEntropy>(weights, 0.1f);
  if (name == "cross_entropy_weighted_smoothing") {
    return std::make_unique<nn::CrossEntropy>(weights, 0.2f);
  }
  if (name.rfind("cross_entropy", 0) == 0) return std::make_unique<nn::CrossEntropy>(weights);
  if (name.rfind("class_nll", 0) == 0) {
    return weights.defined() ? std::make_unique<nn::ClassNLL>(weights)
                             : std::make_unique<nn::ClassNLL>();
  }
  if (name == "mse") return std::make_unique<nn::MSE>();
  if (name == "mse_sum") return std::make_unique<nn::MSE>(Reduction::sum);
  if (name == "l1") return std::make_unique<nn::L1>();
  if (name == "smooth_l1") return std::make_unique<nn::SmoothL1>(0.5f);
  if (name == "bce") return std::make_unique<nn::BCE>();
  if (name == "bce_with_logits") return std::make_unique<nn::BCEWithLogits>();
  if (name == "bce_with_logits_pos_weight") {
    return std::make_unique<nn::BCEWithLogits>(tensor_of(c["pos_weight"]));
  }
  if (name == "kl_div") return std::make_unique<nn::KLDiv>();
  if (name == "kl_div_sum") return std::make_unique<nn::KLDiv>(nn::KLDiv::Mode::sum);
  throw std::runtime_error("no criterion for fixture " + name);
}

// Class-index targets are i64, the others float tensors of the input's shape.
Tensor target_of(const nlohmann::json& c) {
  const std::string name = c["name"];
  const bool indices = name.rfind("cross_entropy", 0) == 0 || name.rfind("class_nll", 0) == 0;
  return indices ? index_tensor_of(c["target"]) : tensor_of(c["target"]);
}

class CriterionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CriterionTest, MatchesPyTorch) {
  const auto& c = find_case(losses(), GetParam());
  auto criterion = make(c);
  const Tensor x = tensor_of(c["input"]);
  const Tensor y = target_of(c);
  EXPECT_NEAR(criterion->forward(x, y), c["loss"].get<double>(), 1e-5);
  EXPECT_TRUE(all_close(criterion->backward(x, y), tensor_of(c["grad_input"]), 1e-4, 1e-6));
}

TEST_P(CriterionTest, BackwardMatchesFiniteDifferences) {
  const auto& c = find_case(losses(), GetParam());
  auto criterion = make(c);
  EXPECT_TRUE(check_criterion_gradient(*criterion, tensor_of(c["input"]), target_of(c),
                                       {.step = 1e-2f, .rtol = 1e-2, .atol = 1e-4}));
}

INSTANTIATE_TEST_SUITE_P(Criteria, CriterionTest,
                         ::testing::Values("cross_entropy", "cross_entropy_weighted", "class_nll",
                                           "class_nll_weighted", "mse", "mse_sum", "l1",
                                           "smooth_l1", "bce", "bce_with_logits",
                                           "bce_with_logits_pos_weight", "cross_entropy_smoothing",
                                           "cross_entropy_weighted_smoothing", "kl_div",
                                           "kl_div_sum"));

TEST(Losses, NameMismatchedTargets) {
  nn::MSE mse;
  try {
    mse.forward(Tensor({2, 3}), Tensor({3, 2}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "MSE: target of shape [3, 2] does not match input of shape [2, 3]");
  }
  nn::BCEWithLogits weighted(Tensor::full({2}, 2.f));
  EXPECT_THROW(weighted.forward(Tensor({4, 3}), Tensor({4, 3})), Error);
  nn::BCE bce;
  EXPECT_THROW(bce.forward(Tensor::full({2}, 1.5f), Tensor({2})), Error);
  EXPECT_THROW(nn::CrossEntropy(Tensor(), 1.5f), Error);
}

TEST(CrossEntropy, NamesTheBadTarget) {
  nn::CrossEntropy ce;
  const Tensor x({2, 3});
  const Tensor y = Tensor::from_vector(std::vector<int64_t>{1, 7}, {2});
  try {
    ce.forward(x, y);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "CrossEntropy: target[1] = 7 is not a class index in [0, 3)");
  }
}

TEST(CrossEntropy, RejectsMismatchedBatchAndDtype) {
  nn::CrossEntropy ce;
  EXPECT_THROW(ce.forward(Tensor({2, 3}), Tensor({3}, DType::i64)), Error);
  EXPECT_THROW(ce.forward(Tensor({2, 3}), Tensor({2})), Error);
}

}  // namespace
}  // namespace bdl::testing
