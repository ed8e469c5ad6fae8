#include "bdl/nn/recurrent.h"

#include "bdl/nn/embedding.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/time_distributed.h"
#include "support/layer_case.h"

namespace bdl::testing {
namespace {

std::unique_ptr<nn::Module> lstm(int64_t in, int64_t hidden, bool sequences) {
  return std::make_unique<nn::LSTM>(
      nn::RecurrentOptions{.input_size = in, .hidden_size = hidden, .return_sequences = sequences});
}

std::unique_ptr<nn::Module> gru(int64_t in, int64_t hidden, bool sequences, bool bias = true) {
  return std::make_unique<nn::GRU>(nn::RecurrentOptions{
      .input_size = in, .hidden_size = hidden, .return_sequences = sequences, .bias = bias});
}

// Backward through time: every parameter's gradient against PyTorch and
// finite differences, sequences and last state, batch of one included.
INSTANTIATE_TEST_SUITE_P(
    Recurrent, LayerTest,
    ::testing::Values(LayerCase{"lstm_last", [] { return lstm(4, 5, false); }},
                      LayerCase{"lstm_sequences", [] { return lstm(3, 4, true); }},
                      LayerCase{"lstm_batch_1", [] { return lstm(3, 2, false); }},
                      LayerCase{"gru_last", [] { return gru(4, 5, false); }},
                      LayerCase{"gru_sequences", [] { return gru(3, 4, true, false); }},
                      LayerCase{"time_distributed_linear",
                                [] {
                                  return std::make_unique<nn::TimeDistributed>(
                                      std::make_unique<nn::Linear>(4, 3));
                                }}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    Embedding, LayerTest,
    ::testing::Values(
        LayerCase{"embedding",
                  [] {
                    return std::make_unique<nn::Embedding>(nn::EmbeddingOptions{7, 3});
                  },
                  1e-4,
                  1e-5,
                  {.check_input = false}},
        LayerCase{"embedding_padding",
                  [] {
                    return std::make_unique<nn::Embedding>(nn::EmbeddingOptions{7, 3, 2});
                  },
                  1e-4,
                  1e-5,
                  {.check_input = false,
                   .frozen = [](const std::string&, int64_t i) { return i / 3 == 2; }}}),
    case_name);

TEST(Embedding, TakesI64IndicesAndNamesBadOnes) {
  nn::Embedding e({.num_embeddings = 4, .embedding_dim = 2});
  e.set_name("embed");
  const Tensor idx = Tensor::from_vector(std::vector<int64_t>{3, 0, 1}, {3});
  EXPECT_EQ(e.forward(idx).shape(), (Shape{3, 2}));
  EXPECT_EQ(e.forward(idx).at({1, 1}), e.weight().at({0, 1}));
  try {
    e.forward(Tensor::from_vector(std::vector<int64_t>{1, 4}, {2}));
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_STREQ(err.what(), "embed: input[1] = 4 is not an index in [0, 4)");
  }
  EXPECT_THROW(e.forward(Tensor::full({2}, 0.5f)), Error);
}

TEST(Recurrent, RejectsWrongInput) {
  nn::LSTM l({.input_size = 3, .hidden_size = 2});
  EXPECT_THROW(l.forward(Tensor({2, 3})), Error);
  EXPECT_THROW(l.forward(Tensor({2, 4, 5})), Error);
  EXPECT_THROW(nn::GRU({.input_size = 0, .hidden_size = 2}), Error);
}

TEST(Recurrent, NamesParametersLikePyTorch) {
  nn::GRU g({.input_size = 3, .hidden_size = 2});
  std::vector<std::string> names;
  for (const auto& p : g.parameters()) names.push_back(p.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}));
}

}  // namespace
}  // namespace bdl::testing

namespace bdl::testing {
namespace {

// The GRU that resets before the recurrent product (ONNX's linear_before_reset=0;
// its forward is checked against ONNX's reference by the conformance driver):
// backward by finite differences, for the sequence and the last state, with and
// without biases; and through a model file.
TEST(GRU, ResetBeforeBackwardMatchesFiniteDifferences) {
  for (bool sequences : {true, false}) {
    for (bool bias : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "sequences " << sequences << ", bias " << bias);
      manual_seed(9);
      nn::GRU gru(nn::RecurrentOptions{3, 4, sequences, bias}, /*reset_after=*/false);
      Tensor x({2, 5, 3});
      global_rng().fill_uniform(x.span_f32(), -1, 1);
      EXPECT_TRUE(check_module_gradients(gru, x));
    }
  }
  nn::GRU gru(nn::RecurrentOptions{3, 4, true, true}, false);
  nn::Attributes a("GRU");
  gru.attributes(a);
  auto rebuilt = nn::create_module("GRU", a, {});
  EXPECT_EQ(rebuilt->describe(), gru.describe());
  EXPECT_NE(gru.describe().find("reset before"), std::string::npos);
}

// Resetting before and after the product differ once r is not 1.
TEST(GRU, ResetBeforeDiffersFromResetAfter) {
  manual_seed(4);
  nn::GRU after(nn::RecurrentOptions{3, 4, false, true});
  manual_seed(4);
  nn::GRU before(nn::RecurrentOptions{3, 4, false, true}, false);
  Tensor x({2, 5, 3});
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  EXPECT_FALSE(all_close(after.forward(x), before.forward(x), 1e-4, 1e-5));
}

}  // namespace
}  // namespace bdl::testing
