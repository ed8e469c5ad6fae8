// LayerNorm and MultiHeadAttention as opset 13 composes them (LayerNormalization
// is opset 17): reductions and arithmetic; projections, per-head products and
// a softmax.
#include "bdl/nn/attention.h"

#include <cmath>
#include <limits>

#include "onnx/export/emitter.h"

namespace bdl::onnx::exporting {
namespace {

std::string reduce_mean(Emitter& e, const std::string& x, const std::vector<int64_t>& axes,
                        const std::string& path) {
  std::string out;
  auto& n = e.node("ReduceMean", {x}, path, &out);
  Emitter::attr(n, "axes", axes);
  Emitter::attr(n, "keepdims", int64_t{1});
  return out;
}

std::string layer_norm(Emitter& e, nn::LayerNorm& m, const Inputs& in) {
  const auto& o = m.options();
  const std::string& p = in.path;
  std::vector<int64_t> axes;
  for (size_t i = 0; i < o.normalized_shape.size(); ++i)
    axes.push_back(-1 - static_cast<int64_t>(i));
  const std::string centred = e.op("Sub", {in.x(), reduce_mean(e, in.x(), axes, p)}, p);
  const std::string var = reduce_mean(e, e.op("Mul", {centred, centred}, p), axes, p);
  const std::string sd = e.op("Sqrt", {e.op("Add", {var, e.scalar(o.eps, p + ".eps")}, p)}, p);
  std::string y = e.op("Div", {centred, sd}, p);
  if (!o.elementwise_affine) return y;
  y = e.op("Mul", {y, e.initializer(tensor_of(m, "weight"), p + ".weight")}, p);
  return e.op("Add", {y, e.initializer(tensor_of(m, "bias"), p + ".bias")}, p);
}

std::string transposed(Emitter& e, const std::string& x, const std::vector<int64_t>& perm,
                       const std::string& path) {
  std::string out;
  Emitter::attr(e.node("Transpose", {x}, path, &out), "perm", perm);
  return out;
}

// x (N, L, E) -> x W^T + b, as MatMul with the transposed weight and Add.
std::string projection(Emitter& e, nn::Module& m, const std::string& x, const char* weight,
                       const char* bias, bool has_bias, const std::string& path) {
  const Tensor w = tensor_of(m, weight);
  Tensor wt({w.shape()[1], w.shape()[0]});
  for (int64_t i = 0; i < w.shape()[0]; ++i) {
    for (int64_t j = 0; j < w.shape()[1]; ++j)
      wt.f32()[j * w.shape()[0] + i] = w.f32()[i * w.shape()[1] + j];
  }
  std::string y = e.op("MatMul", {x, e.initializer(wt, path + "." + weight)}, path);
  if (has_bias) y = e.op("Add", {y, e.initializer(tensor_of(m, bias), path + "." + bias)}, path);
  return y;
}

std::string attention(Emitter& e, nn::MultiHeadAttention& m, const Inputs& in) {
  const auto& o = m.options();
  const std::string& p = in.path;
  const int64_t heads = o.num_heads, d = o.embed_dim / heads;
  const int64_t len = in.shape().at(1);
  const std::string qkv = projection(e, m, in.x(), "in_proj_weight", "in_proj_bias", o.bias, p);
  // (N, L, 3, H, D) -> (3, N, H, L, D), then q, k, v.
  const std::string split = transposed(
      e, e.op("Reshape", {qkv, e.ints({0, 0, 3, heads, d}, p + ".split")}, p), {2, 0, 3, 1, 4}, p);
  std::string part[3];
  for (int64_t k = 0; k < 3; ++k) {
    std::string out;
    Emitter::attr(
        e.node("Gather",
               {split, e.initializer(Tensor::from_vector(
                                         std::span<const int64_t>(std::vector<int64_t>{k}), {}),
                                     p + ".index")},
               p, &out),
        "axis", int64_t{0});
    part[k] = out;
  }
  std::string scores = e.op("MatMul", {part[0], transposed(e, part[1], {0, 1, 3, 2}, p)}, p);
  scores = e.op("Mul", {scores, e.scalar(1.f / std::sqrt(static_cast<float>(d)), p + ".scale")}, p);
  constexpr float kMasked = -std::numeric_limits<float>::infinity();
  if (o.causal) {
    Tensor mask({len, len});
    for (int64_t i = 0; i < len; ++i) {
      for (int64_t j = 0; j < len; ++j) mask.f32()[i * len + j] = j > i ? kMasked : 0.f;
    }
    scores = e.op("Add", {scores, e.initializer(mask, p + ".causal")}, p);
  }
  if (in.names.size() == 2) {
    // Masked keys: -inf where the (N, L) mask is nonzero, as (N, 1, 1, L).
    std::string cond;
    Emitter::attr(e.node("Cast", {in.names[1]}, p, &cond), "to",
                  static_cast<int64_t>(::onnx::TensorProto::BOOL));
    cond = e.op("Unsqueeze", {cond, e.ints({1, 2}, p + ".axes")}, p);
    scores = e.op("Where", {cond, e.scalar(kMasked, p + ".masked"), scores}, p);
  }
  std::string probs;
  Emitter::attr(e.node("Softmax", {scores}, p, &probs), "axis", int64_t{-1});
  const std::string context =
      e.op("Reshape",
           {transposed(e, e.op("MatMul", {probs, part[2]}, p), {0, 2, 1, 3}, p),
            e.ints({0, 0, o.embed_dim}, p + ".join")},
           p);
  return projection(e, m, context, "out_proj_weight", "out_proj_bias", o.bias, p);
}

// softmax(scale Q K^T + mask) V as the exporters write it: MatMul, Mul, Add,
// Softmax, MatMul (what the importer maps back onto the layer).
std::string scaled_dot_product(Emitter& e, nn::ScaledDotProductAttention& m, const Inputs& in) {
  const auto& o = m.options();
  const std::string& p = in.path;
  const Shape& q = in.shape();
  const size_t rank = q.size();
  std::string key = in.names.at(1);
  if (!o.key_transposed) {
    std::vector<int64_t> perm;
    for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(i));
    std::swap(perm[rank - 1], perm[rank - 2]);
    key = transposed(e, key, perm, p);
  }
  const float scale = o.scale > 0 ? o.scale : 1.f / std::sqrt(static_cast<float>(q.back()));
  std::string scores = e.op("MatMul", {in.x(), key}, p);
  scores = e.op("Mul", {scores, e.scalar(scale, p + ".scale")}, p);
  if (o.causal) {
    const int64_t lq = q[rank - 2];
    const Shape& k = in.shapes.at(1);
    const int64_t lk = o.key_transposed ? k.back() : k[rank - 2];
    Tensor mask({lq, lk});
    for (int64_t i = 0; i < lq; ++i) {
      for (int64_t j = 0; j < lk; ++j) {
        mask.f32()[i * lk + j] = j > i ? -std::numeric_limits<float>::infinity() : 0.f;
      }
    }
    scores = e.op("Add", {scores, e.initializer(mask, p + ".causal")}, p);
  }
  if (o.mask_shape) {
    scores = e.op("Add", {scores, e.initializer(m.mask(), p + ".mask")}, p);
  } else if (in.names.size() == 4) {
    scores = e.op("Add", {scores, in.names[3]}, p);
  }
  std::string probs;
  Emitter::attr(e.node("Softmax", {scores}, p, &probs), "axis", int64_t{-1});
  return e.op("MatMul", {probs, in.names.at(2)}, p);
}

}  // namespace

void add_attention_exporters(ExporterTable& table) {
  add<nn::LayerNorm>(table, layer_norm);
  add<nn::MultiHeadAttention>(table, attention);
  add<nn::ScaledDotProductAttention>(table, scaled_dot_product);
}

}  // namespace bdl::onnx::exporting
