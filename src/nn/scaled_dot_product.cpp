// ScaledDotProductAttention: attention's core without projections, for the
// attention arithmetic of imported models (bdl/nn/attention.h).
#include <cmath>
#include <limits>

#include "bdl/kernels/eltwise.h"
#include "bdl/kernels/gemm.h"
#include "bdl/nn/attention.h"
#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {

ScaledDotProductAttention::ScaledDotProductAttention(ScaledDotProductAttentionOptions options)
    : options_(std::move(options)) {
  BDL_CHECK(std::isfinite(options_.scale) && options_.scale >= 0,
            "ScaledDotProductAttention: scale ", options_.scale,
            " (0 for 1 / sqrt(head size), else positive)");
  if (options_.mask_shape) {
    for (int64_t d : *options_.mask_shape) {
      BDL_CHECK(d > 0, "ScaledDotProductAttention: mask_shape ", shape_str(*options_.mask_shape),
                " has size ", d);
    }
    mask_ = Tensor(*options_.mask_shape);
  }
  softmax_ = std::make_unique<kernels::SoftmaxKernel>(false);
  dense_.resize(4);
}

ScaledDotProductAttention::~ScaledDotProductAttention() = default;

void ScaledDotProductAttention::own_buffers(std::vector<Buffer>& out) {
  if (mask_.defined()) out.push_back({"mask", &mask_});
}

ScaledDotProductAttention::Dims ScaledDotProductAttention::check(
    std::span<const Shape> inputs) const {
  BDL_CHECK(inputs.size() == 3 || inputs.size() == 4, label(),
            ": takes query, key, value and optionally an additive mask, given ", inputs.size(),
            " inputs");
  const Shape &q = inputs[0], &k = inputs[1], &v = inputs[2];
  const size_t rank = q.size();
  BDL_CHECK(rank >= 2 && k.size() == rank && v.size() == rank, label(), ": query ", shape_str(q),
            ", key ", shape_str(k), " and value ", shape_str(v),
            " must have one rank of at least 2");
  BDL_CHECK(std::equal(q.begin(), q.end() - 2, k.begin()) &&
                std::equal(q.begin(), q.end() - 2, v.begin()),
            label(), ": query ", shape_str(q), ", key ", shape_str(k), " and value ", shape_str(v),
            " differ in their leading dimensions");
  Dims d{};
  d.groups = shape_numel(std::span(q).first(rank - 2));
  d.lq = q[rank - 2];
  d.d = q[rank - 1];
  const int64_t kd = options_.key_transposed ? k[rank - 2] : k[rank - 1];
  d.lk = options_.key_transposed ? k[rank - 1] : k[rank - 2];
  d.dv = v[rank - 1];
  BDL_CHECK(kd == d.d && v[rank - 2] == d.lk, label(), ": key ", shape_str(k),
            options_.key_transposed ? " (transposed)" : "", " and value ", shape_str(v),
            " do not fit query ", shape_str(q));
  Shape scores(q.begin(), q.end() - 2);
  scores.push_back(d.lq);
  scores.push_back(d.lk);
  const Shape* mask =
      inputs.size() == 4 ? &inputs[3] : (mask_.defined() ? &mask_.shape() : nullptr);
  if (mask != nullptr) {
    BDL_CHECK(mask->size() <= rank && broadcast_shapes(*mask, scores, label()) == scores, label(),
              ": mask ", shape_str(*mask), " does not broadcast to the scores ", shape_str(scores));
  }
  return d;
}

Shape ScaledDotProductAttention::output_shape_many(std::span<const Shape> inputs) const {
  const Dims d = check(inputs);
  Shape out = inputs[0];
  out.back() = d.dv;
  return out;
}

double ScaledDotProductAttention::flops(const Shape& input) const {
  if (input.size() < 2) return 0;
  // Two products per group of (Lq, d) by (d, Lk), taking Lk = Lq.
  const double lq = static_cast<double>(input[input.size() - 2]);
  return 4 * static_cast<double>(shape_numel(input)) * lq;
}

void ScaledDotProductAttention::add_mask(const Tensor& mask, const Shape& scores) {
  const Shape ms = broadcast_strides(mask.shape(), scores);
  const Shape ps = contiguous_strides(scores);
  const float* pm = mask.f32();
  float* pp = probs_.f32();
  parallel_for_each_row<2>(
      scores, {&ms, &ps}, {0, 0},
      [&](const std::array<int64_t, 2>& o, int64_t n, const std::array<int64_t, 2>& s) {
        for (int64_t i = 0; i < n; ++i) pp[o[1] + i] += pm[o[0] + i * s[0]];
      });
}

const Tensor& ScaledDotProductAttention::forward_many(Inputs inputs) {
  std::vector<Shape> shapes;
  for (const Tensor* t : inputs) shapes.push_back(t->shape());
  const Dims n = check(shapes);
  const Tensor& q = dense(*inputs[0], dense_[0]);
  const Tensor& k = dense(*inputs[1], dense_[1]);
  const Tensor& v = dense(*inputs[2], dense_[2]);
  Shape scores(shapes[0].begin(), shapes[0].end() - 2);
  scores.push_back(n.lq);
  scores.push_back(n.lk);
  probs_.resize(scores);
  output_.resize(output_shape_many(shapes));
  const float scale =
      options_.scale > 0 ? options_.scale : 1.f / std::sqrt(static_cast<float>(n.d));
  const float *pq = q.f32(), *pk = k.f32(), *pv = v.f32();
  float* pp = probs_.f32();
  float* po = output_.f32();
  // One group (sample and head) per thread: the products are small, and
  // oneDNN's own threading would cost more than they take.
#pragma omp parallel for schedule(static)
  for (int64_t g = 0; g < n.groups; ++g) {
    const float* kg = pk + g * n.lk * n.d;
    kernels::gemm(false, !options_.key_transposed, n.lq, n.lk, n.d, scale, pq + g * n.lq * n.d, n.d,
                  kg, options_.key_transposed ? n.lk : n.d, 0.f, pp + g * n.lq * n.lk, n.lk);
    if (!options_.causal) continue;
    constexpr float kMasked = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n.lq; ++i) {
      for (int64_t j = i + 1; j < n.lk; ++j) pp[(g * n.lq + i) * n.lk + j] = kMasked;
    }
  }
  if (inputs.size() == 4) {
    add_mask(dense(*inputs[3], dense_[3]), scores);
  } else if (mask_.defined()) {
    add_mask(mask_, scores);
  }
  softmax_->forward(n.groups * n.lq, n.lk, 1, pp, pp, pass());
#pragma omp parallel for schedule(static)
  for (int64_t g = 0; g < n.groups; ++g) {
    kernels::gemm(false, false, n.lq, n.dv, n.lk, 1.f, pp + g * n.lq * n.lk, n.lk,
                  pv + g * n.lk * n.dv, n.dv, 0.f, po + g * n.lq * n.dv, n.dv);
  }
  return output_;
}

const std::vector<Tensor>& ScaledDotProductAttention::backward_many(Inputs inputs,
                                                                    const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  std::vector<Shape> shapes;
  for (const Tensor* t : inputs) shapes.push_back(t->shape());
  const Dims n = check(shapes);
  const Tensor& q = dense(*inputs[0], dense_[0]);
  const Tensor& k = dense(*inputs[1], dense_[1]);
  const Tensor& v = dense(*inputs[2], dense_[2]);
  const Tensor& go = dense(grad_output, dense_grad_);
  const float scale =
      options_.scale > 0 ? options_.scale : 1.f / std::sqrt(static_cast<float>(n.d));
  grad_inputs_.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) grad_inputs_[i].resize(shapes[i]);
  grad_probs_.resize(probs_.shape());
  grad_scores_.resize(probs_.shape());
  const float *pq = q.f32(), *pk = k.f32(), *pv = v.f32(), *pg = go.f32(), *pp = probs_.f32();
  float *dq = grad_inputs_[0].f32(), *dk = grad_inputs_[1].f32(), *dv = grad_inputs_[2].f32();
  float *dp = grad_probs_.f32(), *ds = grad_scores_.f32();
  // dV = P^T dO and dP = dO V^T per group; the softmax's backward over every
  // row (dS); then dQ = scale dS K and dK = scale dS^T Q.
#pragma omp parallel for schedule(static)
  for (int64_t g = 0; g < n.groups; ++g) {
    const float* dout = pg + g * n.lq * n.dv;
    kernels::gemm(true, false, n.lk, n.dv, n.lq, 1.f, pp + g * n.lq * n.lk, n.lk, dout, n.dv, 0.f,
                  dv + g * n.lk * n.dv, n.dv);
    kernels::gemm(false, true, n.lq, n.lk, n.dv, 1.f, dout, n.dv, pv + g * n.lk * n.dv, n.dv, 0.f,
                  dp + g * n.lq * n.lk, n.lk);
  }
  softmax_->backward(n.groups * n.lq, n.lk, 1, pp, dp, ds);
#pragma omp parallel for schedule(static)
  for (int64_t g = 0; g < n.groups; ++g) {
    const float* s = ds + g * n.lq * n.lk;
    const float* qg = pq + g * n.lq * n.d;
    const float* kg = pk + g * n.lk * n.d;
    float* dkg = dk + g * n.lk * n.d;
    if (options_.key_transposed) {
      kernels::gemm(false, true, n.lq, n.d, n.lk, scale, s, n.lk, kg, n.lk, 0.f,
                    dq + g * n.lq * n.d, n.d);
      kernels::gemm(true, false, n.d, n.lk, n.lq, scale, qg, n.d, s, n.lk, 0.f, dkg, n.lk);
    } else {
      kernels::gemm(false, false, n.lq, n.d, n.lk, scale, s, n.lk, kg, n.d, 0.f,
                    dq + g * n.lq * n.d, n.d);
      kernels::gemm(true, false, n.lk, n.d, n.lq, scale, s, n.lk, qg, n.d, 0.f, dkg, n.d);
    }
  }
  if (inputs.size() == 4) {
    // The mask's gradient: dS summed over the dimensions it broadcasts along.
    Tensor& dm = grad_inputs_[3];
    dm.zero();
    strided_copy(grad_scores_.shape(), ds, contiguous_strides(grad_scores_.shape()), dm.f32(),
                 broadcast_strides(dm.shape(), grad_scores_.shape()), /*accumulate=*/true);
  }
  return grad_inputs_;
}

const RegisterLayers<ScaledDotProductAttention> kRegistered;

}  // namespace bdl::nn
