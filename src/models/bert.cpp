#include "bdl/core/random.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/attention.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/reduce.h"

namespace bdl::models {

std::unique_ptr<nn::Sequential> bert_classifier(const BertOptions& o) {
  BDL_CHECK(o.length > 0 && o.vocabulary > 1 && o.classes > 0 && o.layers > 0,
            "bert_classifier: length, vocabulary, classes and layers must be positive");
  auto model = std::make_unique<nn::Sequential>();
  auto tokens = std::make_unique<nn::Embedding>(
      nn::EmbeddingOptions{.num_embeddings = o.vocabulary, .embedding_dim = o.d_model});
  // BERT's start: normal(0, 0.02) embeddings.
  global_rng().fill_normal(tokens->weight().span_f32(), 0.f, 0.02f);
  model->add(std::move(tokens), "tokens");
  auto positions =
      std::make_unique<nn::Binary>(nn::BinaryOp::add, Shape{o.length, o.d_model}, false, true);
  global_rng().fill_normal(positions->constant().span_f32(), 0.f, 0.02f);
  model->add(std::move(positions), "positions");
  model->add(std::make_unique<nn::LayerNorm>(
                 nn::LayerNormOptions{.normalized_shape = {o.d_model}, .eps = 1e-12f}),
             "embedding_norm");
  model->add(std::make_unique<nn::Dropout>(o.dropout), "embedding_dropout");
  for (int64_t i = 0; i < o.layers; ++i) {
    model->add(nn::transformer_encoder_layer({.d_model = o.d_model,
                                              .nhead = o.heads,
                                              .dim_feedforward = o.dim_feedforward,
                                              .dropout = o.dropout,
                                              .gelu = true,
                                              .layer_norm_eps = 1e-12f}),
               "layer" + std::to_string(i));
  }
  model->add(std::make_unique<nn::Reduce>(nn::ReduceOp::mean, std::vector<int64_t>{1}, false),
             "pool");
  model->add(std::make_unique<nn::Linear>(o.d_model, o.classes), "classifier");
  return model;
}

}  // namespace bdl::models
