// Concat, JoinTable, Add and Graph: the containers that join branches; and
// Sequential's fusion of a Conv2d with the ReLU after it.
#include <algorithm>

#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/concat.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/sequential.h"
#include "support/layer_case.h"

namespace bdl::testing {
namespace {

using nn::Conv2dOptions;

std::unique_ptr<nn::Conv2d> conv(Conv2dOptions o) { return std::make_unique<nn::Conv2d>(o); }

std::unique_ptr<nn::Module> inception_like() {
  auto c = std::make_unique<nn::Concat>(1);
  c->add(conv({.in_channels = 3, .out_channels = 2, .kernel = 1}));
  auto b1 = std::make_unique<nn::Sequential>();
  b1->add(conv({.in_channels = 3, .out_channels = 2, .kernel = 1}));
  b1->emplace<nn::ReLU>();
  b1->add(conv({.in_channels = 2, .out_channels = 4, .kernel = 3, .padding = 1}));
  c->add(std::move(b1));
  auto b2 = std::make_unique<nn::Sequential>();
  b2->add(
      std::make_unique<nn::MaxPool2d>(nn::Pool2dOptions{.kernel = 3, .stride = 1, .padding = 1}));
  b2->add(conv({.in_channels = 3, .out_channels = 1, .kernel = 1}));
  c->add(std::move(b2));
  return c;
}

std::unique_ptr<nn::Module> residual_block(int64_t c) {
  auto g = std::make_unique<nn::Graph>();
  const auto x = g->add_input();
  auto n =
      g->add(conv({.in_channels = c, .out_channels = c, .kernel = 3, .padding = 1, .bias = false}),
             {x}, "conv1");
  n = g->add(std::make_unique<nn::BatchNorm>(c), {n}, "bn1");
  n = g->add(std::make_unique<nn::ReLU>(), {n});
  n = g->add(conv({.in_channels = c, .out_channels = c, .kernel = 3, .padding = 1, .bias = false}),
             {n}, "conv2");
  n = g->add(std::make_unique<nn::BatchNorm>(c), {n}, "bn2");
  n = g->add(std::make_unique<nn::Add>(), {n, x});
  g->add(std::make_unique<nn::ReLU>(), {n});
  return g;
}

// A ReLU after a BatchNorm in a Sequential rectifies the BatchNorm's output in place.
std::unique_ptr<nn::Module> conv_bn_relu() {
  auto s = std::make_unique<nn::Sequential>();
  s->add(conv({.in_channels = 3, .out_channels = 4, .kernel = 3, .padding = 1}));
  s->add(std::make_unique<nn::BatchNorm>(4));
  s->emplace<nn::ReLU>();
  s->add(conv({.in_channels = 4, .out_channels = 2, .kernel = 1}));
  return s;
}

// LeNet's pattern: Sequential runs each Conv2d + ReLU as one rectifying convolution.
std::unique_ptr<nn::Module> conv_relu_pool() {
  auto s = std::make_unique<nn::Sequential>();
  s->add(conv({.in_channels = 3, .out_channels = 6, .kernel = 3, .padding = 1}));
  s->emplace<nn::ReLU>();
  s->add(std::make_unique<nn::MaxPool2d>(2));
  s->add(conv({.in_channels = 6, .out_channels = 4, .kernel = 2}));
  s->emplace<nn::ReLU>();
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Containers, LayerTest,
    // ReLUs inside: a smaller step keeps finite differences off their kinks.
    ::testing::Values(LayerCase{"concat_branches", inception_like, 1e-4, 1e-5, {.step = 1e-3f}},
                      // Weights move every convolution output at once: a step of 1e-3
                      // already flips pooling maxima; 3e-4 stays clear of them.
                      LayerCase{"conv_relu_fused", conv_relu_pool, 1e-4, 1e-5, {.step = 3e-4f}},
                      LayerCase{
                          "bn_relu_in_place", conv_bn_relu, 1e-4, 1e-5, {.step = 3e-4f}, false},
                      LayerCase{"residual_graph",
                                [] { return residual_block(3); },
                                1e-4,
                                1e-5,
                                {.step = 1e-3f},
                                false}),
    case_name);

Tensor random(Shape shape) {
  Tensor t(std::move(shape));
  global_rng().fill_uniform(t.span_f32(), -1, 1);
  return t;
}

// ResNet's `relu(bn(x))` and `relu(bn(x) + shortcut)` keep one activation, not
// three, as PyTorch's inplace=True does: a ReLU or an Add overwrites an output
// that only it reads. An output something else reads too is left alone.
TEST(Graph, ReLUAndAddOverwriteOutputsThatOnlyTheyRead) {
  auto block = residual_block(4);
  auto& g = dynamic_cast<nn::Graph&>(*block);
  g.forward(random({2, 4, 8, 8}));
  // Nodes: 0 input, 1 conv1, 2 bn1, 3 relu, 4 conv2, 5 bn2, 6 add, 7 relu.
  const auto storage = [&](int node) { return g.module(node)->output().storage(); };
  EXPECT_EQ(storage(3), storage(2));
  EXPECT_EQ(storage(6), storage(5));
  EXPECT_EQ(storage(7), storage(5));
  EXPECT_NE(storage(4), storage(2));

  nn::Graph shared;
  const auto x = shared.add_input();
  const auto bn = shared.add(std::make_unique<nn::BatchNorm>(4), {x});
  const auto relu = shared.add(std::make_unique<nn::ReLU>(), {bn});
  shared.add(std::make_unique<nn::Add>(), {relu, bn});  // bn read twice
  const Tensor in = random({2, 4, 8, 8});
  const Tensor& out = shared.forward(in);
  EXPECT_NE(shared.module(relu)->output().storage(), shared.module(bn)->output().storage());
  const Tensor& normalized = shared.module(bn)->output();
  for (int64_t i = 0; i < 8; ++i) {
    const float v = normalized.at({1, 2, 3, i});
    EXPECT_FLOAT_EQ(out.at({1, 2, 3, i}), v + std::max(v, 0.f));
  }
}

TEST(Graph, SumsTheGradientsOfANodeUsedTwice) {
  nn::Graph g;
  const auto x = g.add_input();
  g.add(std::make_unique<nn::Add>(), {x, x});
  const Tensor in = random({2, 3});
  const auto y = g.forward(in).to_vector();
  const auto xs = in.to_vector();
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_FLOAT_EQ(y[i], 2 * xs[i]);
  const auto gx = g.backward(in, Tensor::full({2, 3}, 1.5f)).to_vector();
  for (float v : gx) EXPECT_FLOAT_EQ(v, 3.f);
}

TEST(Graph, TakesSeveralInputs) {
  nn::Graph g;
  const auto a = g.add_input("a");
  const auto b = g.add_input("b");
  auto la = g.add(
      std::make_unique<nn::Linear>(nn::LinearOptions{.in_features = 3, .out_features = 2}), {a});
  g.add(std::make_unique<nn::JoinTable>(1), {la, b});
  EXPECT_EQ(g.arity(), 2U);
  const Tensor ta = random({4, 3}), tb = random({4, 5});
  const Tensor* inputs[] = {&ta, &tb};
  EXPECT_EQ(g.forward_many(inputs).shape(), (Shape{4, 7}));
  const auto& grads = g.backward_many(inputs, Tensor::full({4, 7}, 1.f));
  ASSERT_EQ(grads.size(), 2U);
  EXPECT_EQ(grads[0].shape(), (Shape{4, 3}));
  for (float v : grads[1].to_vector()) EXPECT_FLOAT_EQ(v, 1.f);
  EXPECT_THROW(g.forward(ta), Error);  // one input given, two needed
}

TEST(Graph, GivesZeroGradientToAnInputThatDoesNotReachTheOutput) {
  nn::Graph g;
  const auto a = g.add_input();
  const auto b = g.add_input();
  g.add(std::make_unique<nn::Tanh>(), {b});
  g.add(std::make_unique<nn::Sigmoid>(), {a});  // becomes the output
  const Tensor ta = random({2, 2}), tb = random({2, 2});
  const Tensor* inputs[] = {&ta, &tb};
  g.forward_many(inputs);
  const auto& grads = g.backward_many(inputs, Tensor::full({2, 2}, 1.f));
  for (float v : grads[1].to_vector()) EXPECT_EQ(v, 0.f);
}

TEST(Graph, RejectsBadWiring) {
  nn::Graph g;
  const auto x = g.add_input();
  EXPECT_THROW(g.add(std::make_unique<nn::ReLU>(), {x, x}), Error);  // one input only
  EXPECT_THROW(g.add(std::make_unique<nn::ReLU>(), {5}), Error);     // no such node
  EXPECT_THROW(g.add(std::make_unique<nn::Add>(), {}), Error);
  EXPECT_THROW(g.set_output(9), Error);
  g.add(std::make_unique<nn::Add>(), {x, x});
  EXPECT_EQ(g.forward(Tensor({2, 2})).shape(), (Shape{2, 2}));
}

TEST(Add, NamesMismatchedShapes) {
  nn::Add add;
  const Tensor a({2, 3}), b({3, 2});
  const Tensor* inputs[] = {&a, &b};
  try {
    add.forward_many(inputs);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Add: input 1 has shape [3, 2], input 0 has [2, 3]");
  }
}

TEST(JoinTable, NamesMismatchedShapes) {
  nn::JoinTable join(1);
  const Tensor a({2, 3, 4}), b({2, 3, 5});
  const Tensor* inputs[] = {&a, &b};
  EXPECT_THROW(join.forward_many(inputs), Error);
}

TEST(Concat, JoinsBlockedConvolutionOutputsAndSplitsTheirGradients) {
  // Branches of 16 and 32 channels come out of oneDNN channel-blocked; the
  // concatenation and the split of its gradient must match plain arithmetic.
  nn::Concat c(1);
  auto& a = c.add(conv({.in_channels = 8, .out_channels = 16, .kernel = 1}));
  auto& b = c.add(conv({.in_channels = 8, .out_channels = 32, .kernel = 3, .padding = 1}));
  const Tensor x = random({2, 8, 5, 5});
  const Tensor y = c.forward(x).contiguous();
  const Tensor ya = a.forward(x).contiguous();
  const Tensor yb = b.forward(x).contiguous();
  for (int64_t ch : {0, 15}) EXPECT_FLOAT_EQ(y.at({1, ch, 2, 3}), ya.at({1, ch, 2, 3}));
  for (int64_t ch : {0, 31}) EXPECT_FLOAT_EQ(y.at({1, 16 + ch, 4, 0}), yb.at({1, ch, 4, 0}));
}

// The fused pass gives exactly what the modules give one at a time (unfused):
// the same outputs, input gradient and parameter gradients.
TEST(Sequential, FusedConvAndReLUMatchTheModulesRunOneByOne) {
  auto model = conv_relu_pool();
  auto& s = dynamic_cast<nn::Sequential&>(*model);
  const Tensor x = random({4, 3, 10, 10});
  const Tensor y = s.forward(x).contiguous();
  const Tensor gy = random(y.shape());
  s.zero_grad();
  const Tensor gx = s.backward(x, gy).contiguous();
  std::vector<Tensor> grads;
  for (const auto& p : s.parameters()) grads.push_back(p.grad->clone());

  std::vector<const Tensor*> inputs{&x};
  for (size_t i = 0; i < s.size(); ++i) inputs.push_back(&s[i].forward(*inputs.back()));
  EXPECT_TRUE(all_close(inputs.back()->contiguous(), y, 0, 0));
  s.zero_grad();
  const Tensor* g = &gy;
  for (size_t i = s.size(); i-- > 0;) g = &s[i].backward(*inputs[i], *g);
  EXPECT_TRUE(all_close(g->contiguous(), gx, 0, 0));
  const auto params = s.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(all_close(*params[i].grad, grads[i], 0, 0)) << params[i].name;
  }
}

// After a fused pass the ReLU's output is the convolution's tensor; a ReLU run on
// its own afterwards must write its own buffer, not the convolution's output.
TEST(Sequential, ReLURunAloneAfterAFusedPassLeavesTheConvolutionOutput) {
  auto model = conv_relu_pool();
  auto& s = dynamic_cast<nn::Sequential&>(*model);
  const Tensor x = random({2, 3, 10, 10});
  s.forward(x);
  const Tensor conv_out = s[0].output().contiguous();
  const Tensor other = random(s[0].output().shape());
  const Tensor relu_other = s[1].forward(other).contiguous();
  EXPECT_TRUE(all_close(s[0].output().contiguous(), conv_out, 0, 0));
  for (int64_t i = 0; i < other.numel(); ++i) {
    ASSERT_EQ(relu_other.f32()[i], std::max(other.f32()[i], 0.f));
  }
}

}  // namespace
}  // namespace bdl::testing
