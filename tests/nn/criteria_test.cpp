#include <gtest/gtest.h>

#include "bdl/nn/class_nll.h"
#include "bdl/nn/cross_entropy.h"
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
  const bool weighted = c.contains("class_weights");
  if (name.rfind("cross_entropy", 0) == 0) {
    return weighted ? std::make_unique<nn::CrossEntropy>(tensor_of(c["class_weights"]))
                    : std::make_unique<nn::CrossEntropy>();
  }
  return weighted ? std::make_unique<nn::ClassNLL>(tensor_of(c["class_weights"]))
                  : std::make_unique<nn::ClassNLL>();
}

class CriterionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CriterionTest, MatchesPyTorch) {
  const auto& c = find_case(losses(), GetParam());
  auto criterion = make(c);
  const Tensor x = tensor_of(c["input"]);
  const Tensor y = index_tensor_of(c["target"]);
  EXPECT_NEAR(criterion->forward(x, y), c["loss"].get<double>(), 1e-5);
  EXPECT_TRUE(all_close(criterion->backward(x, y), tensor_of(c["grad_input"]), 1e-4, 1e-6));
}

TEST_P(CriterionTest, BackwardMatchesFiniteDifferences) {
  const auto& c = find_case(losses(), GetParam());
  auto criterion = make(c);
  EXPECT_TRUE(check_criterion_gradient(*criterion, tensor_of(c["input"]),
                                       index_tensor_of(c["target"]),
                                       {.step = 1e-2f, .rtol = 1e-2, .atol = 1e-4}));
}

INSTANTIATE_TEST_SUITE_P(Criteria, CriterionTest,
                         ::testing::Values("cross_entropy", "cross_entropy_weighted", "class_nll",
                                           "class_nll_weighted"));

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
