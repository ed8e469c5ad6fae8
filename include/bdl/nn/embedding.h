#pragma once

#include <optional>

#include "bdl/nn/layer.h"

namespace bdl::nn {

struct EmbeddingOptions {
  int64_t num_embeddings = 0;
  int64_t embedding_dim = 0;
  // This index maps to a vector that is never trained (zero at start).
  std::optional<int64_t> padding_idx = {};
  static void fields(auto& o, auto& field) {
    field("num_embeddings", o.num_embeddings);
    field("embedding_dim", o.embedding_dim);
    field("padding_idx", o.padding_idx);
  }
};

// A lookup table, as torch.nn.Embedding: indices of any shape (i64, or f32
// holding whole numbers as the data pipeline delivers them) -> their rows of a
// (num_embeddings, embedding_dim) weight, shape (..., embedding_dim). Rows start
// normal(0, 1). The input has no gradient.
class Embedding : public Layer<Embedding> {
 public:
  static constexpr std::string_view kType = "Embedding";
  explicit Embedding(EmbeddingOptions options);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  Tensor& weight() { return weight_; }
  const EmbeddingOptions& options() const { return options_; }

 private:
  // The indices as integers, checked against the table size.
  const std::vector<int64_t>& indices_of(const Tensor& input);
  EmbeddingOptions options_;
  Tensor weight_, grad_weight_;
  std::vector<int64_t> indices_;
};

}  // namespace bdl::nn
