// The tests every layer case runs; the cases live in <layer>_test.cpp.
#include "support/layer_case.h"

namespace bdl::testing {

TEST_P(LayerTest, MatchesPyTorch) {
  const auto& c = GetParam();
  auto m = make_loaded();
  const Tensor x = tensor_of(fixture()["input"]);
  m->zero_grad();
  EXPECT_TRUE(all_close(m->forward(x), tensor_of(fixture()["output"]), c.rtol, c.atol))
      << "forward";
  EXPECT_EQ(m->output_shape(x.shape()), tensor_of(fixture()["output"]).shape());
  if (fixture().contains("buffers_after")) {
    for (auto& b : m->buffers()) {
      EXPECT_TRUE(
          all_close(*b.value, tensor_of(fixture()["buffers_after"][b.name]), c.rtol, c.atol))
          << "buffer " << b.name << " after forward";
    }
  }
  const Tensor& gx = m->backward(x, tensor_of(fixture()["grad_output"]));
  EXPECT_TRUE(all_close(gx, tensor_of(fixture()["grad_input"]), c.rtol, c.atol)) << "grad input";
  for (auto& p : m->parameters()) {
    EXPECT_TRUE(all_close(*p.grad, tensor_of(fixture()["grads"][p.name]), c.rtol, c.atol))
        << "grad " << p.name;
  }
}

TEST_P(LayerTest, BackwardMatchesFiniteDifferences) {
  auto m = make_loaded();
  EXPECT_TRUE(check_module_gradients(*m, tensor_of(fixture()["input"]), GetParam().gradient_check));
}

TEST_P(LayerTest, BackwardAccumulatesParameterGradients) {
  auto m = make_loaded();
  const Tensor x = tensor_of(fixture()["input"]);
  const Tensor gy = tensor_of(fixture()["grad_output"]);
  // Two steps of gradient accumulation, then two backward passes of one forward
  // with the activations retained (containers otherwise release them).
  for (bool retain : {false, true}) {
    m->retain_activations(retain);
    m->zero_grad();
    m->forward(x);
    m->backward(x, gy);
    if (!retain) m->forward(x);
    m->backward(x, gy);
    for (auto& p : m->parameters()) {
      Tensor twice = tensor_of(fixture()["grads"][p.name]);
      for (float& v : twice.span_f32()) v *= 2;
      EXPECT_TRUE(all_close(*p.grad, twice, 1e-4, 1e-5)) << p.name << " retain " << retain;
    }
  }
}

TEST_P(LayerTest, SkipsInputGradientWhenNotNeeded) {
  auto m = make_loaded();
  const Tensor x = tensor_of(fixture()["input"]);
  m->set_needs_input_grad(false);
  m->zero_grad();
  m->forward(x);
  m->backward(x, tensor_of(fixture()["grad_output"]));
  for (auto& p : m->parameters()) {
    EXPECT_TRUE(
        all_close(*p.grad, tensor_of(fixture()["grads"][p.name]), GetParam().rtol, GetParam().atol))
        << p.name;
  }
}

// Every layer works on a batch of one: the fixture's first sample alone gives
// PyTorch's first output row.
TEST_P(LayerTest, WorksOnABatchOfOne) {
  if (!GetParam().batch_independent) GTEST_SKIP() << "normalises over the batch";
  auto m = make_loaded();
  const Tensor x = tensor_of(fixture()["input"]);
  const Tensor one = x.narrow(0, 0, 1).contiguous();
  const Tensor expected = tensor_of(fixture()["output"]).narrow(0, 0, 1).contiguous();
  const Tensor& y = m->forward(one);
  EXPECT_EQ(y.shape(), expected.shape());
  EXPECT_TRUE(all_close(y, expected, GetParam().rtol, GetParam().atol));
  const Tensor gy = tensor_of(fixture()["grad_output"]).narrow(0, 0, 1).contiguous();
  m->zero_grad();
  m->backward(one, gy);  // runs without error on the single sample
}

}  // namespace bdl::testing
