#pragma once

// The transformer's layers: LayerNorm, MultiHeadAttention (self-attention with
// causal and key-padding masks), and TransformerEncoderLayer, a Graph of them
// with the names and arithmetic of PyTorch's nn.TransformerEncoderLayer.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bdl/nn/graph.h"
#include "bdl/nn/layer.h"
#include "bdl/nn/multi_input.h"

namespace bdl::kernels {
class SoftmaxKernel;
}

namespace bdl::nn {

struct LayerNormOptions {
  // The trailing dimensions normalised over (torch's normalized_shape).
  std::vector<int64_t> normalized_shape = {};
  float eps = 1e-5f;
  bool elementwise_affine = true;
  static void fields(auto& o, auto& field) {
    field("normalized_shape", o.normalized_shape);
    field("eps", o.eps);
    field("elementwise_affine", o.elementwise_affine);
  }
};

// (x - mean) / sqrt(var + eps) * weight + bias over the trailing dimensions,
// with the biased variance, as torch.nn.LayerNorm. Weight starts at 1, bias at 0.
class LayerNorm : public Layer<LayerNorm> {
 public:
  static constexpr std::string_view kType = "LayerNorm";
  explicit LayerNorm(LayerNormOptions options);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  const LayerNormOptions& options() const { return options_; }
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }

 private:
  int64_t features() const;
  LayerNormOptions options_;
  Tensor weight_, bias_, grad_weight_, grad_bias_;
  Tensor mean_, rstd_;  // per row, from forward
  Tensor dense_, dense_grad_;
};

struct MultiHeadAttentionOptions {
  int64_t embed_dim = 0;
  int64_t num_heads = 1;
  bool bias = true;
  // Position i attends to positions up to i only.
  bool causal = false;
  static void fields(auto& o, auto& field) {
    field("embed_dim", o.embed_dim);
    field("num_heads", o.num_heads);
    field("bias", o.bias);
    field("causal", o.causal);
  }
};

// Self-attention over (batch, length, embed_dim), as torch.nn.MultiheadAttention
// with batch_first and query = key = value: one packed input projection
// (in_proj_weight (3E, E), in_proj_bias), scaled dot products per head, softmax,
// and an output projection (out_proj_weight, out_proj_bias). An optional second
// input (batch, length) masks keys: nonzero entries are not attended to (torch's
// key_padding_mask). No dropout on the attention weights.
class MultiHeadAttention : public Layer<MultiHeadAttention, MultiInputModule> {
 public:
  static constexpr std::string_view kType = "MultiHeadAttention";
  explicit MultiHeadAttention(MultiHeadAttentionOptions options);
  ~MultiHeadAttention() override;
  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  double flops(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  const MultiHeadAttentionOptions& options() const { return options_; }

 private:
  void check(std::span<const Shape> inputs) const;
  void scores(int64_t n, int64_t h, const float* key_mask);
  MultiHeadAttentionOptions options_;
  Tensor in_weight_, in_bias_, out_weight_, out_bias_;
  Tensor grad_in_weight_, grad_in_bias_, grad_out_weight_, grad_out_bias_;
  // From forward: the packed projections (N, L, 3E), the attention weights
  // (N, H, L, L) and the heads' outputs joined (N, L, E).
  Tensor qkv_, probs_, context_;
  std::vector<int64_t> empty_rows_;
  std::unique_ptr<kernels::SoftmaxKernel> softmax_;
  Tensor grad_qkv_, grad_context_, grad_probs_, grad_scores_;
  Tensor dense_x_, dense_grad_;
  Tensor ones_;  // (rows): the bias gradients' column sums as products
};

struct ScaledDotProductAttentionOptions {
  // The scores' factor; 0: 1 / sqrt(head size).
  float scale = 0;
  // The key comes transposed, (..., head size, keys): what exporters often
  // compute ahead of the product.
  bool key_transposed = false;
  // Position i attends to keys up to i only.
  bool causal = false;
  // An additive mask held by the layer (a buffer, not trained), broadcast to
  // the scores (..., queries, keys): a model's constant mask.
  std::optional<Shape> mask_shape = {};
  static void fields(auto& o, auto& field) {
    field("scale", o.scale);
    field("key_transposed", o.key_transposed);
    field("causal", o.causal);
    field("mask_shape", o.mask_shape);
  }
};

// softmax(scale * Q K^T + mask) V over the last two dimensions, with any leading
// dimensions (batch, heads) shared by Q (..., Lq, d), K (..., Lk, d) and V
// (..., Lk, dv): attention without its projections, as PyTorch's
// scaled_dot_product_attention. An optional fourth input is an additive mask
// that broadcasts to the scores (..., Lq, Lk); it has a gradient. Rows that mask
// every key give NaN, as the unfused arithmetic would. The ONNX importer maps
// the exporters' attention arithmetic onto it.
class ScaledDotProductAttention : public Layer<ScaledDotProductAttention, MultiInputModule> {
 public:
  static constexpr std::string_view kType = "ScaledDotProductAttention";
  explicit ScaledDotProductAttention(ScaledDotProductAttentionOptions options);
  ~ScaledDotProductAttention() override;
  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  double flops(const Shape& input) const override;
  void own_buffers(std::vector<Buffer>& out) override;
  const ScaledDotProductAttentionOptions& options() const { return options_; }
  // The constant mask (mask_shape), to fill after construction.
  Tensor& mask() { return mask_; }

 private:
  struct Dims {
    int64_t groups, lq, lk, d, dv;
  };
  Dims check(std::span<const Shape> inputs) const;
  void add_mask(const Tensor& mask, const Shape& scores);
  ScaledDotProductAttentionOptions options_;
  Tensor mask_;
  Tensor probs_;  // (groups, Lq, Lk), from forward
  std::unique_ptr<kernels::SoftmaxKernel> softmax_;
  Tensor grad_probs_, grad_scores_;
  std::vector<Tensor> dense_;
  Tensor dense_grad_;
};

struct TransformerEncoderLayerOptions {
  int64_t d_model = 0;
  int64_t nhead = 1;
  int64_t dim_feedforward = 2048;
  float dropout = 0.1f;
  bool gelu = false;  // ReLU otherwise
  float layer_norm_eps = 1e-5f;
  bool norm_first = false;
  bool causal = false;
};

// torch.nn.TransformerEncoderLayer(batch_first=True) as a Graph with its names
// (self_attn, linear1, linear2, norm1, norm2, dropout, dropout1, dropout2): post-
// norm x = norm1(x + sa(x)); x = norm2(x + ff(x)), or pre-norm with norm_first.
std::unique_ptr<Graph> transformer_encoder_layer(const TransformerEncoderLayerOptions& o);

}  // namespace bdl::nn
