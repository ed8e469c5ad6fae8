#include "bdl/models/zoo.h"

#include <gtest/gtest.h>

#include "bdl/nn/flat_parameters.h"

namespace bdl::models {
namespace {

int64_t parameter_count(nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.value->numel();
  return n;
}

// Counts as torchvision-style definitions give them: LeNet-5 156 + 2,416 + 48,120 +
// 10,164 + 850; the MLP 401,920 + 131,328 + 2,570.
TEST(Zoo, ParameterCountsAndOutputShapes) {
  auto lenet = lenet5(10);
  EXPECT_EQ(parameter_count(*lenet), 61706);
  EXPECT_EQ(lenet->output_shape({7, 1, 28, 28}), (Shape{7, 10}));
  auto m = mlp(10);
  EXPECT_EQ(parameter_count(*m), 535818);
  EXPECT_EQ(m->output_shape({7, 1, 28, 28}), (Shape{7, 10}));
  EXPECT_EQ(mlp(3)->output_shape({2, 784}), (Shape{2, 3}));
}

TEST(Zoo, ForwardRunsOnBatchOfOne) {
  for (const auto& name : names()) {
    auto model = make(name);
    model->eval();
    const Tensor& out = model->forward(Tensor({1, 1, 28, 28}));
    EXPECT_EQ(out.shape(), (Shape{1, 10})) << name;
  }
}

TEST(Zoo, LeNet5RejectsWrongImageSize) {
  auto model = lenet5(10);
  try {
    model->forward(Tensor({2, 1, 32, 32}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "fc1: input of shape [2, 576] does not end in in_features 400");
  }
}

TEST(Zoo, NamesParametersLikePyTorch) {
  auto model = lenet5(10);
  std::vector<std::string> names;
  for (const auto& p : model->parameters()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight",
                                             "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight",
                                             "fc2.bias", "fc3.weight", "fc3.bias"}));
}

TEST(Zoo, UnknownNameListsKnownModels) {
  try {
    make("resnet9000");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown model 'resnet9000' (known: lenet5, mlp)");
  }
}

}  // namespace
}  // namespace bdl::models
