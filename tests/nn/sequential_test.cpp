#include "bdl/nn/sequential.h"

#include <gtest/gtest.h>

#include "bdl/core/random.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/flat_parameters.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/losses/cross_entropy.h"
#include "support/fixtures.h"
#include "support/tensor_matchers.h"

namespace bdl::testing {
namespace {

// LeNet-5 end to end with PyTorch's weights: forward output, loss, and every
// parameter gradient after backward through the whole stack.
TEST(Sequential, LeNet5MatchesPyTorchEndToEnd) {
  const auto fixture = load_fixture("lenet5.json");
  auto model = models::lenet5(10);
  for (auto& p : model->parameters()) {
    ASSERT_TRUE(fixture["params"].contains(p.name)) << p.name;
    p.value->copy_from(tensor_of(fixture["params"][p.name]));
  }
  const Tensor x = tensor_of(fixture["input"]);
  const Tensor y = index_tensor_of(fixture["target"]);
  nn::CrossEntropy ce;
  model->zero_grad();
  const Tensor& out = model->forward(x);
  EXPECT_TRUE(all_close(out, tensor_of(fixture["output"]), 1e-4, 1e-5));
  EXPECT_NEAR(ce.forward(out, y), fixture["loss"].get<double>(), 1e-5);
  model->backward(x, ce.backward(out, y));
  for (auto& p : model->parameters()) {
    EXPECT_TRUE(all_close(*p.grad, tensor_of(fixture["grads"][p.name]), 1e-3, 1e-6)) << p.name;
  }
}

// bdl's BERT-style classifier against the same network built in PyTorch
// (tools/fixtures/gen_bert.py): logits, loss and every parameter's gradient.
TEST(Sequential, BertClassifierMatchesPyTorchEndToEnd) {
  const auto fixture = load_fixture("bert.json");
  const auto& c = fixture["config"];
  auto model = models::bert_classifier({.classes = c["classes"],
                                        .vocabulary = c["vocabulary"],
                                        .length = c["length"],
                                        .d_model = c["d_model"],
                                        .heads = c["heads"],
                                        .dim_feedforward = c["dim_feedforward"],
                                        .layers = c["layers"],
                                        .dropout = 0.f});
  EXPECT_EQ(model->parameters().size(), fixture["params"].size());
  for (auto& p : model->parameters()) {
    ASSERT_TRUE(fixture["params"].contains(p.name)) << p.name;
    p.value->copy_from(tensor_of(fixture["params"][p.name]));
  }
  std::vector<float> ids;
  for (const auto& v : fixture["ids"]["data"]) ids.push_back(v.get<float>());
  const Tensor x =
      Tensor::from_vector(std::span<const float>(ids), fixture["ids"]["shape"].get<Shape>());
  const Tensor y = index_tensor_of(fixture["labels"]);
  nn::CrossEntropy ce;
  model->zero_grad();
  const Tensor& out = model->forward(x);
  EXPECT_TRUE(all_close(out, tensor_of(fixture["logits"]), 1e-4, 1e-5));
  EXPECT_NEAR(ce.forward(out, y), fixture["loss"].get<double>(), 1e-5);
  model->backward(x, ce.backward(out, y));
  for (auto& p : model->parameters()) {
    EXPECT_TRUE(all_close(*p.grad, tensor_of(fixture["grads"][p.name]), 1e-3, 1e-6)) << p.name;
  }
}

TEST(FlatParameters, CompactKeepsValuesAndMakesViews) {
  auto model = models::lenet5(10);
  std::vector<Tensor> before;
  for (auto& p : model->parameters()) before.push_back(p.value->clone());
  nn::FlatParameters flat = nn::compact(*model);
  EXPECT_EQ(flat.numel(), 61706);
  ASSERT_EQ(flat.slots.size(), before.size());
  auto params = model->parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(flat.slots[i].name, params[i].name);
    EXPECT_TRUE(all_close(*params[i].value, before[i], 0, 0));
    EXPECT_EQ(params[i].value->f32(), flat.weights.f32() + flat.slots[i].offset);
    EXPECT_EQ(params[i].grad->f32(), flat.grads.f32() + flat.slots[i].offset);
  }
  // Writing the flat buffer is seen by the layers.
  flat.weights.fill(0.5f);
  EXPECT_EQ(params[0].value->at({0, 0, 0, 0}), 0.5f);
}

TEST(Sequential, FirstLayerSkipsInputGradientWhenAsked) {
  auto model = models::mlp(10);
  model->set_needs_input_grad(false);
  const Tensor x({2, 1, 28, 28});
  model->zero_grad();
  const Tensor& out = model->forward(x);
  const Tensor& gx = model->backward(x, Tensor(out.shape()));
  EXPECT_FALSE(gx.defined());
}

}  // namespace
}  // namespace bdl::testing

namespace bdl::testing {
namespace {

// A Sequential inside a Sequential, followed by a layer: the outer backward feeds
// the layer after it the inner Sequential's output as that layer's input.
TEST(Sequential, NestedSequentialPassesItsOutputToBackward) {
  manual_seed(3);
  nn::Sequential outer;
  auto inner = std::make_unique<nn::Sequential>();
  inner->emplace<nn::Linear>(4, 3);
  inner->emplace<nn::ReLU>();
  outer.add(std::move(inner));
  auto& last = outer.emplace<nn::Linear>(3, 2);
  Tensor x({5, 4});
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  outer.zero_grad();
  const Tensor y = outer.forward(x).clone();
  EXPECT_EQ(y.shape(), (Shape{5, 2}));
  const Tensor h = outer[0].output().clone();
  outer.backward(x, Tensor::full({5, 2}, 1.f));
  // Backward released the inner output (no one reads it again), not the outer's.
  EXPECT_FALSE(outer[0].output().defined());
  EXPECT_TRUE(outer.output().defined());
  EXPECT_THROW(outer.backward(x, Tensor::full({5, 2}, 1.f)), Error);
  // d(sum y)/d(last.weight)[j][k] = sum over the batch of the inner output k.
  for (int64_t k = 0; k < 3; ++k) {
    double s = 0;
    for (int64_t b = 0; b < 5; ++b) s += h.at({b, k});
    EXPECT_NEAR(last.parameters()[0].grad->at({0, k}), s, 1e-5);
  }
}

}  // namespace
}  // namespace bdl::testing
