#include "bdl/nn/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "bdl/kernels/eltwise.h"
#include "bdl/kernels/gemm.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/linear.h"
#include "nn/dense.h"
#include "nn/init.h"

namespace bdl::nn {

// ---- LayerNorm ----

LayerNorm::LayerNorm(LayerNormOptions options) : options_(std::move(options)) {
  BDL_CHECK(!options_.normalized_shape.empty(), "LayerNorm: normalized_shape is empty");
  for (int64_t d : options_.normalized_shape) {
    BDL_CHECK(d > 0, "LayerNorm: normalized_shape ", shape_str(options_.normalized_shape),
              " has size ", d);
  }
  BDL_CHECK(options_.eps > 0.f, "LayerNorm: eps is ", options_.eps, ", must be positive");
  if (options_.elementwise_affine) {
    weight_ = Tensor::full(options_.normalized_shape, 1.f);
    bias_ = Tensor(options_.normalized_shape);
    grad_weight_ = Tensor(options_.normalized_shape);
    grad_bias_ = Tensor(options_.normalized_shape);
  }
}

int64_t LayerNorm::features() const { return shape_numel(options_.normalized_shape); }

void LayerNorm::own_parameters(std::vector<Parameter>& out) {
  if (!options_.elementwise_affine) return;
  out.push_back({"weight", &weight_, &grad_weight_});
  out.push_back({"bias", &bias_, &grad_bias_});
}

Shape LayerNorm::output_shape(const Shape& input) const {
  const auto& ns = options_.normalized_shape;
  const bool ends_with =
      input.size() >= ns.size() &&
      std::equal(ns.begin(), ns.end(), input.end() - static_cast<int64_t>(ns.size()));
  BDL_CHECK(ends_with, label(), ": input ", shape_str(input), " does not end in normalized_shape ",
            shape_str(ns));
  return input;
}

const Tensor& LayerNorm::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  output_.resize(output_shape(x.shape()));
  const int64_t d = features();
  const int64_t rows = x.numel() / d;
  mean_.resize({rows});
  rstd_.resize({rows});
  const float* px = x.f32();
  float* py = output_.f32();
  const float* w = options_.elementwise_affine ? weight_.f32() : nullptr;
  const float* b = options_.elementwise_affine ? bias_.f32() : nullptr;
  float* pm = mean_.f32();
  float* pr = rstd_.f32();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = px + r * d;
    // Two passes in float, vectorised: the mean, then the centred squares.
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < d; ++i) sum += row[i];
    const float mean = sum / static_cast<float>(d);
    float sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t i = 0; i < d; ++i) sq += (row[i] - mean) * (row[i] - mean);
    const float rstd = 1.f / std::sqrt(sq / static_cast<float>(d) + options_.eps);
    pm[r] = mean;
    pr[r] = rstd;
    float* out = py + r * d;
    for (int64_t i = 0; i < d; ++i) {
      const float n = (row[i] - mean) * rstd;
      out[i] = w != nullptr ? n * w[i] + b[i] : n;
    }
  }
  return output_;
}

const Tensor& LayerNorm::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  const Tensor& x = dense(input, dense_);
  const Tensor& g = dense(grad_output, dense_grad_);
  const int64_t d = features();
  const int64_t rows = x.numel() / d;
  const float* px = x.f32();
  const float* pg = g.f32();
  const float* w = options_.elementwise_affine ? weight_.f32() : nullptr;
  if (needs_input_grad_) grad_input_.resize(x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float mean = mean_.f32()[r];
    const float rstd = rstd_.f32()[r];
    const float* row = px + r * d;
    const float* grow = pg + r * d;
    if (w != nullptr) {
      float* gw = grad_weight_.f32();
      float* gb = grad_bias_.f32();
      for (int64_t i = 0; i < d; ++i) {
        gw[i] += grow[i] * (row[i] - mean) * rstd;
        gb[i] += grow[i];
      }
    }
    if (!needs_input_grad_) continue;
    // dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)), gw = g * weight.
    float sum_g = 0, sum_gx = 0;
#pragma omp simd reduction(+ : sum_g, sum_gx)
    for (int64_t i = 0; i < d; ++i) {
      const float gi = w != nullptr ? grow[i] * w[i] : grow[i];
      sum_g += gi;
      sum_gx += gi * (row[i] - mean) * rstd;
    }
    const float mg = sum_g / static_cast<float>(d);
    const float mgx = sum_gx / static_cast<float>(d);
    float* dx = grad_input_.f32() + r * d;
    for (int64_t i = 0; i < d; ++i) {
      const float gi = w != nullptr ? grow[i] * w[i] : grow[i];
      dx[i] = rstd * (gi - mg - (row[i] - mean) * rstd * mgx);
    }
  }
  return grad_input_;
}

// ---- MultiHeadAttention ----

MultiHeadAttention::MultiHeadAttention(MultiHeadAttentionOptions options) : options_(options) {
  const int64_t e = options_.embed_dim;
  BDL_CHECK(e > 0, "MultiHeadAttention: embed_dim is ", e);
  BDL_CHECK(options_.num_heads > 0 && e % options_.num_heads == 0,
            "MultiHeadAttention: ", options_.num_heads, " heads do not divide embed_dim ", e);
  in_weight_ = new_weight({3 * e, e});
  out_weight_ = new_weight({e, e});
  grad_in_weight_ = Tensor({3 * e, e});
  grad_out_weight_ = Tensor({e, e});
  // PyTorch's start: Xavier-uniform input projection, Linear's output projection,
  // zero biases.
  init_uniform(in_weight_, std::sqrt(6.f / static_cast<float>(e + 3 * e)));
  init_uniform(out_weight_, 1.f / std::sqrt(static_cast<float>(e)));
  if (options_.bias) {
    in_bias_ = Tensor({3 * e});
    out_bias_ = Tensor({e});
    grad_in_bias_ = Tensor({3 * e});
    grad_out_bias_ = Tensor({e});
  }
  grad_inputs_.resize(2);
  softmax_ = std::make_unique<kernels::SoftmaxKernel>(false);
}

MultiHeadAttention::~MultiHeadAttention() = default;

void MultiHeadAttention::own_parameters(std::vector<Parameter>& out) {
  out.push_back({"in_proj_weight", &in_weight_, &grad_in_weight_});
  if (options_.bias) out.push_back({"in_proj_bias", &in_bias_, &grad_in_bias_});
  out.push_back({"out_proj_weight", &out_weight_, &grad_out_weight_});
  if (options_.bias) out.push_back({"out_proj_bias", &out_bias_, &grad_out_bias_});
}

void MultiHeadAttention::check(std::span<const Shape> inputs) const {
  BDL_CHECK(inputs.size() == 1 || inputs.size() == 2, label(),
            ": takes the sequence and optionally a key mask, given ", inputs.size(), " inputs");
  const Shape& x = inputs[0];
  BDL_CHECK(x.size() == 3 && x[2] == options_.embed_dim, label(), ": input ", shape_str(x),
            " is not (batch, length, ", options_.embed_dim, ")");
  if (inputs.size() == 2) {
    BDL_CHECK(inputs[1] == Shape({x[0], x[1]}), label(), ": key mask ", shape_str(inputs[1]),
              " is not (batch, length) = ", shape_str(Shape{x[0], x[1]}));
  }
}

Shape MultiHeadAttention::output_shape_many(std::span<const Shape> inputs) const {
  check(inputs);
  return inputs[0];
}

double MultiHeadAttention::flops(const Shape& input) const {
  if (input.size() != 3) return 0;
  const double n = static_cast<double>(input[0]), l = static_cast<double>(input[1]);
  const auto e = static_cast<double>(options_.embed_dim);
  // Projections (4 E x E per position) and the two products per head (2 L x E).
  return 2 * n * l * (4 * e * e + 2 * l * e);
}

// Scaled scores of head h of sample n into its block of probs_, masked with
// -inf; rows with every key masked are listed in empty_rows_ (they attend to
// nothing: zero after the softmax, where PyTorch gives NaN).
void MultiHeadAttention::scores(int64_t n, int64_t h, const float* key_mask) {
  const int64_t len = qkv_.shape()[1];
  const int64_t e = options_.embed_dim;
  const int64_t d = e / options_.num_heads;
  const float* q = qkv_.f32() + n * len * 3 * e + h * d;
  const float* k = q + e;
  float* p = probs_.f32() + (n * options_.num_heads + h) * len * len;
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  kernels::gemm(false, true, len, len, d, scale, q, 3 * e, k, 3 * e, 0.f, p, len);
  if (!options_.causal && key_mask == nullptr) return;
  constexpr float kMasked = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < len; ++i) {
    float* row = p + i * len;
    int64_t kept = 0;
    for (int64_t j = 0; j < len; ++j) {
      if ((options_.causal && j > i) || (key_mask != nullptr && key_mask[j] != 0.f)) {
        row[j] = kMasked;
      } else {
        ++kept;
      }
    }
    if (kept == 0) {
#pragma omp critical(bdl_attention_empty_rows)
      empty_rows_.push_back((n * options_.num_heads + h) * len + i);
    }
  }
}

const Tensor& MultiHeadAttention::forward_many(Inputs inputs) {
  std::vector<Shape> shapes;
  for (const Tensor* t : inputs) shapes.push_back(t->shape());
  check(shapes);
  const Tensor& x = dense(*inputs[0], dense_x_);
  const int64_t batch = x.shape()[0], len = x.shape()[1], e = options_.embed_dim;
  const int64_t heads = options_.num_heads, d = e / heads, rows = batch * len;
  qkv_.resize({batch, len, 3 * e});
  probs_.resize({batch, heads, len, len});
  context_.resize({batch, len, e});
  output_.resize(x.shape());
  kernels::gemm(false, true, rows, 3 * e, e, 1.f, x.f32(), e, in_weight_.f32(), e, 0.f, qkv_.f32(),
                3 * e);
  if (options_.bias) {
    const float* bias = in_bias_.f32();
    float* qkv = qkv_.f32();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      float* row = qkv + r * 3 * e;
      for (int64_t i = 0; i < 3 * e; ++i) row[i] += bias[i];
    }
  }
  const Tensor mask = inputs.size() == 2 ? inputs[1]->contiguous() : Tensor();
  // The heads of the samples in parallel, each on one thread (the products are
  // small: oneDNN's own threading would cost more than they take); the softmax
  // over every row at once, on oneDNN.
  empty_rows_.clear();
  const float* pm = mask.defined() ? mask.f32() : nullptr;
#pragma omp parallel for schedule(static)
  for (int64_t w = 0; w < batch * heads; ++w) {
    scores(w / heads, w % heads, pm != nullptr ? pm + (w / heads) * len : nullptr);
  }
  float* probs = probs_.f32();
  softmax_->forward(batch * heads * len, len, 1, probs, probs, pass());
  for (const int64_t row : empty_rows_) std::fill_n(probs + row * len, len, 0.f);
  const float* qkv = qkv_.f32();
  float* context = context_.f32();
#pragma omp parallel for schedule(static)
  for (int64_t w = 0; w < batch * heads; ++w) {
    const int64_t n = w / heads, h = w % heads;
    kernels::gemm(false, false, len, d, len, 1.f, probs + w * len * len, len,
                  qkv + n * len * 3 * e + 2 * e + h * d, 3 * e, 0.f, context + n * len * e + h * d,
                  e);
  }
  kernels::gemm(false, true, rows, e, e, 1.f, context_.f32(), e, out_weight_.f32(), e, 0.f,
                output_.f32(), e);
  if (options_.bias) {
    const float* bias = out_bias_.f32();
    float* out = output_.f32();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      float* row = out + r * e;
      for (int64_t i = 0; i < e; ++i) row[i] += bias[i];
    }
  }
  return output_;
}

const std::vector<Tensor>& MultiHeadAttention::backward_many(Inputs inputs,
                                                             const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  const Tensor& x = dense(*inputs[0], dense_x_);
  const Tensor& g = dense(grad_output, dense_grad_);
  const int64_t batch = x.shape()[0], len = x.shape()[1], e = options_.embed_dim;
  const int64_t heads = options_.num_heads, d = e / heads, rows = batch * len;
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  // Output projection.
  grad_context_.resize({batch, len, e});
  kernels::gemm(false, false, rows, e, e, 1.f, g.f32(), e, out_weight_.f32(), e, 0.f,
                grad_context_.f32(), e);
  kernels::gemm(true, false, e, e, rows, 1.f, g.f32(), e, context_.f32(), e, 1.f,
                grad_out_weight_.f32(), e);
  if (options_.bias) {
    // Column sums as a product with ones, on oneDNN's threads.
    if (ones_.numel() != rows) ones_ = Tensor::full({rows}, 1.f);
    kernels::gemm(false, false, 1, e, rows, 1.f, ones_.f32(), rows, g.f32(), e, 1.f,
                  grad_out_bias_.f32(), e);
  }
  // Per head: dV = P^T dO and dP = dO V^T; the softmax's backward over every
  // row (dS); then dQ = dS K and dK = dS^T Q, both times the scale.
  grad_qkv_.resize({batch, len, 3 * e});
  grad_probs_.resize(probs_.shape());
  grad_scores_.resize(probs_.shape());
  const float* qkv = qkv_.f32();
  const float* probs = probs_.f32();
  const float* dcontext = grad_context_.f32();
  float* dqkv = grad_qkv_.f32();
  float* dprobs = grad_probs_.f32();
  float* dscores = grad_scores_.f32();
#pragma omp parallel for schedule(static)
  for (int64_t w = 0; w < batch * heads; ++w) {
    const int64_t n = w / heads, h = w % heads;
    const float* dout = dcontext + n * len * e + h * d;
    kernels::gemm(true, false, len, d, len, 1.f, probs + w * len * len, len, dout, e, 0.f,
                  dqkv + n * len * 3 * e + 2 * e + h * d, 3 * e);
    kernels::gemm(false, true, len, len, d, 1.f, dout, e, qkv + n * len * 3 * e + 2 * e + h * d,
                  3 * e, 0.f, dprobs + w * len * len, len);
  }
  softmax_->backward(batch * heads * len, len, 1, probs, dprobs, dscores);
  for (const int64_t row : empty_rows_) std::fill_n(dscores + row * len, len, 0.f);
#pragma omp parallel for schedule(static)
  for (int64_t w = 0; w < batch * heads; ++w) {
    const int64_t n = w / heads, h = w % heads;
    const float* q = qkv + n * len * 3 * e + h * d;
    float* dq = dqkv + n * len * 3 * e + h * d;
    const float* ds = dscores + w * len * len;
    kernels::gemm(false, false, len, d, len, scale, ds, len, q + e, 3 * e, 0.f, dq, 3 * e);
    kernels::gemm(true, false, len, d, len, scale, ds, len, q, 3 * e, 0.f, dq + e, 3 * e);
  }
  // Input projection.
  kernels::gemm(true, false, 3 * e, e, rows, 1.f, grad_qkv_.f32(), 3 * e, x.f32(), e, 1.f,
                grad_in_weight_.f32(), e);
  if (options_.bias) {
    kernels::gemm(false, false, 1, 3 * e, rows, 1.f, ones_.f32(), rows, grad_qkv_.f32(), 3 * e, 1.f,
                  grad_in_bias_.f32(), 3 * e);
  }
  grad_inputs_.resize(inputs.size());
  if (needs_input_grad_) {
    grad_inputs_[0].resize(x.shape());
    kernels::gemm(false, false, rows, e, 3 * e, 1.f, grad_qkv_.f32(), 3 * e, in_weight_.f32(), e,
                  0.f, grad_inputs_[0].f32(), e);
  }
  if (inputs.size() == 2) {
    grad_inputs_[1].resize(inputs[1]->shape());
    grad_inputs_[1].zero();  // a mask has no gradient
  }
  return grad_inputs_;
}

// ---- TransformerEncoderLayer ----

std::unique_ptr<Graph> transformer_encoder_layer(const TransformerEncoderLayerOptions& o) {
  BDL_CHECK(o.d_model > 0 && o.dim_feedforward > 0, "TransformerEncoderLayer: d_model ", o.d_model,
            " and dim_feedforward ", o.dim_feedforward, " must be positive");
  auto g = std::make_unique<Graph>();
  auto norm = [&] {
    return std::make_unique<LayerNorm>(
        LayerNormOptions{.normalized_shape = {o.d_model}, .eps = o.layer_norm_eps});
  };
  const Graph::Node x = g->add_input("x");
  // Self-attention block: dropout1(self_attn(x)), added to x.
  auto attention_block = [&](Graph::Node in) {
    const auto a = g->add(std::make_unique<MultiHeadAttention>(MultiHeadAttentionOptions{
                              .embed_dim = o.d_model, .num_heads = o.nhead, .causal = o.causal}),
                          {in}, "self_attn");
    return g->add(std::make_unique<Dropout>(o.dropout), {a}, "dropout1");
  };
  // Feed-forward block: dropout2(linear2(dropout(activation(linear1(x))))).
  auto feed_forward = [&](Graph::Node in) {
    auto l1 = g->add(std::make_unique<Linear>(o.d_model, o.dim_feedforward), {in}, "linear1");
    std::unique_ptr<Module> act;
    if (o.gelu) {
      act = std::make_unique<GELU>();
    } else {
      act = std::make_unique<ReLU>();
    }
    auto a = g->add(std::move(act), {l1}, "activation");
    auto dr = g->add(std::make_unique<Dropout>(o.dropout), {a}, "dropout");
    auto l2 = g->add(std::make_unique<Linear>(o.dim_feedforward, o.d_model), {dr}, "linear2");
    return g->add(std::make_unique<Dropout>(o.dropout), {l2}, "dropout2");
  };
  Graph::Node out;
  if (o.norm_first) {
    const auto n1 = g->add(norm(), {x}, "norm1");
    const auto r1 = g->add(std::make_unique<Add>(), {x, attention_block(n1)}, "add1");
    const auto n2 = g->add(norm(), {r1}, "norm2");
    out = g->add(std::make_unique<Add>(), {r1, feed_forward(n2)}, "add2");
  } else {
    const auto r1 = g->add(std::make_unique<Add>(), {x, attention_block(x)}, "add1");
    const auto n1 = g->add(norm(), {r1}, "norm1");
    const auto r2 = g->add(std::make_unique<Add>(), {n1, feed_forward(n1)}, "add2");
    out = g->add(norm(), {r2}, "norm2");
  }
  g->set_output(out);
  return g;
}

const RegisterLayers<LayerNorm, MultiHeadAttention> kRegistered;

}  // namespace bdl::nn
