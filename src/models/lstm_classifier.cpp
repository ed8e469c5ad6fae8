#include "bdl/models/zoo.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/recurrent.h"
#include "bdl/nn/time_distributed.h"

namespace bdl::models {

std::unique_ptr<nn::Sequential> lstm_classifier(int64_t classes, int64_t vocabulary) {
  auto model = std::make_unique<nn::Sequential>();
  model->add(std::make_unique<nn::Embedding>(
                 nn::EmbeddingOptions{.num_embeddings = vocabulary, .embedding_dim = 64}),
             "embedding");
  model->add(std::make_unique<nn::LSTM>(nn::RecurrentOptions{.input_size = 64, .hidden_size = 128}),
             "lstm");
  model->add(std::make_unique<nn::Linear>(128, classes), "fc");
  return model;
}

}  // namespace bdl::models
