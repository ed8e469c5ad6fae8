#include "bdl/nn/embedding.h"

#include <cmath>
#include <cstring>

#include "bdl/core/random.h"
#include "nn/init.h"

namespace bdl::nn {

Embedding::Embedding(EmbeddingOptions options) : options_(options) {
  BDL_CHECK(options.num_embeddings > 0 && options.embedding_dim > 0,
            "Embedding: num_embeddings and embedding_dim must be positive");
  BDL_CHECK(!options.padding_idx ||
                (*options.padding_idx >= 0 && *options.padding_idx < options.num_embeddings),
            "Embedding: padding_idx ", options.padding_idx.value_or(0), " is not in [0, ",
            options.num_embeddings, ")");
  weight_ = new_weight({options.num_embeddings, options.embedding_dim});
  grad_weight_ = Tensor(weight_.shape());
  if (!SkipInitialisation::active()) global_rng().fill_normal(weight_.span_f32(), 0.f, 1.f);
  if (options.padding_idx) {
    std::memset(weight_.f32() + *options.padding_idx * options.embedding_dim, 0,
                sizeof(float) * static_cast<size_t>(options.embedding_dim));
  }
}

std::string Embedding::describe() const {
  return detail::concat("Embedding(", options_.num_embeddings, " x ", options_.embedding_dim, ")");
}

Shape Embedding::output_shape(const Shape& input) const {
  Shape out = input;
  out.push_back(options_.embedding_dim);
  return out;
}

void Embedding::own_parameters(std::vector<Parameter>& out) {
  out.push_back({"weight", &weight_, &grad_weight_});
}

const std::vector<int64_t>& Embedding::indices_of(const Tensor& input) {
  const Tensor x = input.contiguous();
  indices_.resize(static_cast<size_t>(x.numel()));
  const int64_t n = options_.num_embeddings;
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t k = 0;
    if (x.dtype() == DType::i64) {
      k = x.data<int64_t>()[i];
    } else {
      const float v = x.f32()[i];
      BDL_CHECK(v == std::floor(v), label(), ": input[", i, "] = ", v, " is not an index");
      k = static_cast<int64_t>(v);
    }
    BDL_CHECK(k >= 0 && k < n, label(), ": input[", i, "] = ", k, " is not an index in [0, ", n,
              ")");
    indices_[static_cast<size_t>(i)] = k;
  }
  return indices_;
}

const Tensor& Embedding::forward(const Tensor& input) {
  BDL_CHECK(input.dtype() == DType::i64 || input.dtype() == DType::f32, label(),
            ": indices must be i64 or f32, got ", dtype_name(input.dtype()));
  const auto& idx = indices_of(input);
  output_.resize(output_shape(input.shape()));
  const int64_t d = options_.embedding_dim;
  float* y = output_.f32();
  for (size_t i = 0; i < idx.size(); ++i) {
    std::memcpy(y + static_cast<int64_t>(i) * d, weight_.f32() + idx[i] * d,
                sizeof(float) * static_cast<size_t>(d));
  }
  return output_;
}

const Tensor& Embedding::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_shape(input.shape()));
  // The indices forward read and checked (backward gets forward's input).
  BDL_CHECK(static_cast<int64_t>(indices_.size()) == input.numel(), label(),
            ": backward without a forward of this input");
  const auto& idx = indices_;
  const Tensor dy = grad_output.contiguous();
  const int64_t d = options_.embedding_dim;
  float* g = grad_weight_.f32();
  for (size_t i = 0; i < idx.size(); ++i) {
    if (options_.padding_idx && idx[i] == *options_.padding_idx) continue;
    const float* src = dy.f32() + static_cast<int64_t>(i) * d;
    float* row = g + idx[i] * d;
    for (int64_t j = 0; j < d; ++j) row[j] += src[j];
  }
  grads_are_zero_ = false;
  // Indices have no gradient: zero, for callers that feed them as floats.
  if (needs_input_grad_) {
    grad_input_.resize(input.shape());
    grad_input_.zero();
  }
  return grad_input_;
}

const RegisterLayers<Embedding> kRegistered;

}  // namespace bdl::nn
